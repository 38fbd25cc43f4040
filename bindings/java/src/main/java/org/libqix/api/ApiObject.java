package org.libqix.api;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.libqix.CallOptions;
import org.libqix.ChangeListener;
import org.libqix.CloseListener;
import org.libqix.Extraction;
import org.libqix.LayoutListener;
import org.libqix.QixObject;
import org.libqix.Session;

/**
 * What the typed classes ({@link Global}, {@link Doc}, {@link GenericObject}, {@link Field} ...) share: the engine
 * handle they wrap ({@link #object()}, a {@link QixObject}), its events and its lifetime. A typed method builds
 * its params (by name), calls through {@link QixObject#call(String, String, CallOptions,
 * org.libqix.ResultDecoder)} and decodes the whole result; {@link #call(String, String)} stays for methods newer
 * than the typed API. Thread-safe, as {@link QixObject}.
 */
public abstract class ApiObject implements AutoCloseable {
  private final QixObject object;
  private final CallOptions options;

  ApiObject(QixObject object, CallOptions options) {
    this.object = Objects.requireNonNull(object, "object");
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * The options of this view's typed calls (delta, timeout): {@link CallOptions#DEFAULT} unless made by {@code
   * withOptions} (each class has one: {@code doc.withOptions(CallOptions.DEFAULT.withDelta(true))} is the
   * same handle, its calls with delta). Objects the calls return start with the default.
   */
  public final CallOptions options() {
    return options;
  }

  /** The untyped handle: generic calls with JSON text, {@link QixObject#layout()} ... */
  public final QixObject object() {
    return object;
  }

  /** The session the object belongs to. */
  public final Session session() {
    return object.session();
  }

  /** The engine handle (-1 for Global). */
  public final int handle() {
    return object.handle();
  }

  /** The qType ("Doc", "GenericObject", "Field" ...). */
  public final String type() {
    return object.type();
  }

  /** The qGenericId (e.g. a generic object's qInfo.qId). */
  public final String genericId() {
    return object.genericId();
  }

  /** The qGenericType (e.g. a generic object's qInfo.qType). */
  public final String genericType() {
    return object.genericType();
  }

  /** True when the last fetched layout is current. */
  public final boolean isValid() {
    return object.isValid();
  }

  /** True when the handle is closed. */
  public final boolean isClosed() {
    return object.isClosed();
  }

  /** Blocking call by name, JSON text in and out (unwrapped as {@link QixObject#call(String, String)}). */
  public final String call(String method, String paramsJson) {
    return object.call(method, paramsJson);
  }

  /** Asynchronous call by name, JSON text in and out. */
  public final CompletableFuture<String> callAsync(String method, String paramsJson) {
    return object.callAsync(method, paramsJson);
  }

  /** See {@link QixObject#addChangeListener(ChangeListener)}. */
  public final void addChangeListener(ChangeListener listener) {
    object.addChangeListener(listener);
  }

  /** See {@link QixObject#removeChangeListener(ChangeListener)}. */
  public final boolean removeChangeListener(ChangeListener listener) {
    return object.removeChangeListener(listener);
  }

  /** See {@link QixObject#addCloseListener(CloseListener)}. */
  public final void addCloseListener(CloseListener listener) {
    object.addCloseListener(listener);
  }

  /** See {@link QixObject#removeCloseListener(CloseListener)}. */
  public final boolean removeCloseListener(CloseListener listener) {
    return object.removeCloseListener(listener);
  }

  /** See {@link QixObject#watch(LayoutListener)} (layouts as JSON text; decode with {@code Layout.fromJson}). */
  public final void watch(LayoutListener listener) {
    object.watch(listener);
  }

  /** See {@link QixObject#unwatch()}. */
  public final void unwatch() {
    object.unwatch();
  }

  /**
   * Bulk extraction of the hypercube at {@code path} (e.g. {@code "/qHyperCubeDef"} of a {@link GenericObject}):
   * every row, in order, typed, as a {@link Stream} read as its terminal operation pulls the rows. libqix pages
   * through the cube with GetHyperCubeData ({@code pageHeight} rows a page, up to {@code window} pages in
   * flight); up to {@link Extraction#DEFAULT_BUFFER_ROWS} rows wait for the reader, and a full buffer holds the
   * extraction up (back-pressure). Close the stream (try-with-resources): that stops the extraction.
   *
   * <pre>{@code
   * try (Stream<List<NxCell>> rows = cube.extract("/qHyperCubeDef", 1000, 4)) {
   *   rows.forEach(row -> System.out.println(row.get(0).text + ": " + row.get(1).num));
   * }
   * }</pre>
   *
   * @param pageHeight rows per page; 0 = as many as fit in 10,000 cells
   * @param window pages in flight at most; 0 = 4
   * @throws org.libqix.QixException CLOSED, INVALID_ARGUMENT when it cannot start; the error that ended the
   *     extraction (INVALID_ARGUMENT for a path that names no hypercube, an engine error, CLOSED ...) from the
   *     stream's terminal operation
   * @see Extraction
   */
  public final Stream<List<NxCell>> extract(String path, int pageHeight, int window) {
    return extractRows(path, pageHeight, window, Extraction.DEFAULT_BUFFER_ROWS).stream();
  }

  /**
   * {@link #extract(String, int, int)} as an {@link Extraction}: an {@link java.util.Iterator} of typed rows
   * that is {@link AutoCloseable}, with a buffer of {@code bufferRows} rows (at least 1).
   */
  public final Extraction<List<NxCell>> extractRows(String path, int pageHeight, int window, int bufferRows) {
    return object.extract(path, pageHeight, window, bufferRows, ApiObject::decodeRow);
  }

  /** One extracted row: the JSON array of its cells. */
  static List<NxCell> decodeRow(String json) {
    List<NxCell> row = new JsonReader(json).readList(NxCell::read);
    return row != null ? row : List.of();
  }

  /** Releases the handle (see {@link QixObject#close()}). */
  @Override
  public final void close() {
    object.close();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + object + "]";
  }
}
