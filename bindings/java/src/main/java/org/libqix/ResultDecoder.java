package org.libqix;

/**
 * Turns the whole result of a call into a value: what the typed API ({@code org.libqix.api}) passes to {@link
 * QixObject#call(String, String, CallOptions, ResultDecoder)}, and what a program may pass for a method newer than
 * the typed API.
 *
 * <p>Runs on the calling thread for a blocking call, on a libqix event thread for an asynchronous one: do not
 * block in it. An exception it throws fails the call (the future completes exceptionally with it).
 */
@FunctionalInterface
public interface ResultDecoder<T> {
  /**
   * Decodes one result.
   *
   * @param result the engine's whole result object as JSON text (e.g. {@code {"qReturn":true}}), not unwrapped
   * @param object the object the result refers to (OpenDoc, GetObject, CreateSessionObject ...), now owned by
   *     the decoder's value; null when the result refers to none (a method that returns no object, or an
   *     object method that found none: qReturn.qHandle null). If decoding fails, libqix closes it.
   */
  T decode(String result, QixObject object);

  /**
   * Decodes one result given as {@code text.substring(from, to)}: how libqix hands over a result it delivered
   * together with others in one text. The default takes that substring and calls {@link #decode(String,
   * QixObject)}; a decoder that reads the range where it lies (the typed API's do) saves the copy. It must not
   * keep {@code text}, which holds other calls' results.
   *
   * @param text a text holding the result (and maybe others)
   * @param from where the result starts in {@code text}
   * @param to where it ends (exclusive)
   * @param object as for {@link #decode(String, QixObject)}
   */
  default T decode(String text, int from, int to, QixObject object) {
    return decode(text.substring(from, to), object);
  }
}
