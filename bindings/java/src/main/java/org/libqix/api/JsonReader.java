package org.libqix.api;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.libqix.QixObject;
import org.libqix.ResultDecoder;

/**
 * Reads JSON text, for the generated codecs: a cursor over the text, no tree. Every {@code read*} returns null
 * for a JSON null, and also for a value of another shape than expected (a string where an object was
 * expected ...), which it skips: a surprising member never fails the decoding of the rest. Numbers that the
 * engine writes as the strings "NaN", "Infinity", "-Infinity" (or any number in a string) are read as numbers.
 * Malformed JSON (which libqix never passes on: it parsed the text first) throws {@link
 * IllegalArgumentException}.
 */
final class JsonReader {
  private final String s;
  private final int from;
  /** Where the text read ends: {@code s.length()}, or the end of a result within a longer text. */
  private final int end;
  private int pos;

  JsonReader(String json) {
    this(json, 0, json.length());
  }

  /** Reads {@code text[from, to)} in place (one result among others in the text libqix delivered). */
  JsonReader(String text, int from, int to) {
    if (from < 0 || to < from || to > text.length()) {
      throw new IndexOutOfBoundsException("libqix: range [" + from + ", " + to + ") of a text of " + text.length());
    }
    this.s = text;
    this.from = from;
    this.end = to;
    this.pos = from;
  }

  // ---------------------------------------------------------------------------------------------- structure

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("libqix: malformed JSON at offset " + (pos - from) + ": " + what);
  }

  private char peek() {
    while (pos < end) {
      char c = s.charAt(pos);
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return c;
      }
      pos++;
    }
    throw error("unexpected end");
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  /** True when the next value is an object (then {@link #beginObject()} may follow). */
  boolean isObject() {
    return peek() == '{';
  }

  void beginObject() {
    expect('{');
  }

  void endObject() {
    expect('}');
  }

  void beginArray() {
    expect('[');
  }

  void endArray() {
    expect(']');
  }

  /** True when the current object or array has another member or element. */
  boolean hasNext() {
    char c = peek();
    if (c == ',') {
      pos++;
      c = peek();
    }
    return c != '}' && c != ']';
  }

  /**
   * The next member's name (its value follows). A name without escapes comes from {@link #NAMES} when the
   * same name was read before (the engine's member names repeat from result to result), so reading it
   * allocates nothing; its hash code, which the generated codecs' {@code switch} on the name asks for, is
   * then already computed too.
   */
  String nextName() {
    if (peek() != '"') {
      throw error("expected a member name");
    }
    int start = pos + 1;
    int stop = start;
    int hash = 0;
    while (stop < end) {
      char c = s.charAt(stop);
      if (c == '"' || c == '\\') {
        break;
      }
      hash = 31 * hash + c;
      stop++;
    }
    String name;
    if (stop < end && s.charAt(stop) == '"') {
      int len = stop - start;
      int slot = (hash ^ (hash >>> 16)) & (NAMES.length - 1);
      String cached = NAMES[slot];
      if (cached != null && cached.length() == len && s.regionMatches(start, cached, 0, len)) {
        name = cached;
      } else {
        name = s.substring(start, stop);
        if (len <= MAX_CACHED_NAME) {
          NAMES[slot] = name;
        }
      }
      pos = stop + 1;
    } else {
      name = string(); // escapes (or no end): the general path, not cached
    }
    expect(':');
    return name;
  }

  /**
   * Member names read before, by hash: a fixed table shared by every reader, each slot holding the last name
   * that hashed to it (so it never grows, and a name that collides is just read again). Threads share it
   * without locks: a String is immutable and safely published through its final fields, and a slot read while
   * another thread replaces it yields either name, both checked against the text before use.
   */
  private static final String[] NAMES = new String[512];

  /** Longer names are not cached (the engine's are short; a long one is likely data, e.g. a map's key). */
  private static final int MAX_CACHED_NAME = 48;

  /** Consumes a null and returns true, or returns false when the next value is not null. */
  private boolean isNull() {
    if (peek() == 'n') {
      token();
      return true;
    }
    return false;
  }

  /** Skips the next value; the object to read when it is one, else false (the value was skipped). */
  boolean objectOrSkip() {
    if (peek() == '{') {
      return true;
    }
    skipValue();
    return false;
  }

  void skipValue() {
    char c = peek();
    if (c == '{') {
      pos++;
      while (hasNext()) {
        nextName();
        skipValue();
      }
      endObject();
    } else if (c == '[') {
      pos++;
      while (hasNext()) {
        skipValue();
      }
      endArray();
    } else if (c == '"') {
      string();
    } else {
      token();
    }
  }

  // ---------------------------------------------------------------------------------------------- values

  String readString() {
    char c = peek();
    if (c == '"') {
      return string();
    }
    if (c == '{' || c == '[' || isNull()) {
      if (c == '{' || c == '[') {
        skipValue();
      }
      return null;
    }
    return token(); // a number or a boolean, as text
  }

  Boolean readBoolean() {
    char c = peek();
    if (c == 't' || c == 'f') {
      return "true".equals(token());
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return Double.parseDouble(token()) != 0;
    }
    skipValue();
    return null;
  }

  Double readDouble() {
    char c = peek();
    String t;
    if (c == '"') {
      t = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      t = token();
    } else {
      skipValue();
      return null;
    }
    switch (t) {
      case "NaN": return Double.NaN;
      case "Infinity": return Double.POSITIVE_INFINITY;
      case "-Infinity": return Double.NEGATIVE_INFINITY;
      default:
        try {
          return Double.parseDouble(t);
        } catch (NumberFormatException e) {
          return null;
        }
    }
  }

  Long readLong() {
    char c = peek();
    String t;
    if (c == '"') {
      t = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      t = token();
    } else {
      skipValue();
      return null;
    }
    try {
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      try {
        double d = Double.parseDouble(t); // 1.0, 1e3, "NaN" (0)
        return (long) d;
      } catch (NumberFormatException e2) {
        return null;
      }
    }
  }

  Integer readInt() {
    Long l = readLong();
    return l == null ? null : (int) (long) l;
  }

  /** The next value as JSON text, exactly as written. */
  RawJson readRaw() {
    peek();
    int start = pos;
    skipValue();
    return RawJson.of(s.substring(start, pos));
  }

  /** An array, each element read by {@code item}; null for null or a non-array. */
  <T> List<T> readList(Function<JsonReader, T> item) {
    if (peek() != '[') {
      skipValue();
      return null;
    }
    pos++;
    List<T> list = new ArrayList<>();
    while (hasNext()) {
      list.add(item.apply(this));
    }
    endArray();
    return list;
  }

  // ---------------------------------------------------------------------------------------------- results

  /**
   * A decoder of one result given as {@code text[from, to)}: the typed API's decoders, written this way so that
   * a result delivered with others in one text (Dispatch.onRawAsciiRun) is read where it lies, not copied out.
   */
  @FunctionalInterface
  interface InPlace<T> {
    T decode(String text, int from, int to, QixObject object);
  }

  /** {@code f} as a {@link ResultDecoder} that reads a result within a longer text in place. */
  static <T> ResultDecoder<T> decoder(InPlace<T> f) {
    return new ResultDecoder<T>() {
      @Override
      public T decode(String result, QixObject object) {
        return f.decode(result, 0, result.length(), object);
      }

      @Override
      public T decode(String text, int from, int to, QixObject object) {
        return f.decode(text, from, to, object);
      }
    };
  }

  /** Member {@code name} of the JSON object {@code text[from, to)}, read by {@code f}; null when absent. */
  static <T> T member(String text, int from, int to, String name, Function<JsonReader, T> f) {
    JsonReader r = new JsonReader(text, from, to);
    if (!r.objectOrSkip()) {
      return null;
    }
    r.beginObject();
    while (r.hasNext()) {
      if (r.nextName().equals(name)) {
        return f.apply(r);
      }
      r.skipValue();
    }
    return null;
  }

  /** {@link #member}, or {@code zero} when absent or null. */
  static <T> T memberOr(String text, int from, int to, String name, Function<JsonReader, T> f, T zero) {
    T v = member(text, from, to, name, f);
    return v == null ? zero : v;
  }

  // ---------------------------------------------------------------------------------------------- lexing

  /** A literal or number token (true, false, null, -1.5e3). */
  private String token() {
    int start = pos;
    while (pos < end) {
      char c = s.charAt(pos);
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '+'
          || c == '.') {
        pos++;
      } else {
        break;
      }
    }
    if (start == pos) {
      throw error(pos < end ? "unexpected '" + s.charAt(pos) + "'" : "unexpected end");
    }
    return s.substring(start, pos);
  }

  /** A string literal at pos (the opening quote), unescaped. */
  private String string() {
    pos++; // "
    int start = pos;
    while (pos < end) {
      char c = s.charAt(pos);
      if (c == '"') {
        return s.substring(start, pos++);
      }
      if (c == '\\') {
        break;
      }
      pos++;
    }
    StringBuilder b = new StringBuilder().append(s, start, pos);
    while (pos < end) {
      char c = s.charAt(pos++);
      if (c == '"') {
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      if (pos >= end) {
        break;
      }
      char e = s.charAt(pos++);
      switch (e) {
        case 'n': b.append('\n'); break;
        case 'r': b.append('\r'); break;
        case 't': b.append('\t'); break;
        case 'b': b.append('\b'); break;
        case 'f': b.append('\f'); break;
        case 'u':
          if (pos + 4 > end) {
            throw error("short \\u escape");
          }
          b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
          pos += 4;
          break;
        default: b.append(e); // " \ /
      }
    }
    throw error("unterminated string");
  }
}
