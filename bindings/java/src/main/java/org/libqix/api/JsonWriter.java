package org.libqix.api;

import java.util.List;
import java.util.function.BiConsumer;

/**
 * Writes JSON text, for the generated codecs: members in the order written, doubles that are not finite as
 * the strings "NaN", "Infinity", "-Infinity" (as the engine writes them). No reflection, no dependency.
 */
final class JsonWriter {
  private final StringBuilder b = new StringBuilder();
  private boolean comma; // a value or member was written at this level: the next one needs a ','

  private void sep() {
    if (comma) {
      b.append(',');
    }
    comma = true;
  }

  JsonWriter beginObject() {
    sep();
    b.append('{');
    comma = false;
    return this;
  }

  JsonWriter endObject() {
    b.append('}');
    comma = true;
    return this;
  }

  JsonWriter beginArray() {
    sep();
    b.append('[');
    comma = false;
    return this;
  }

  JsonWriter endArray() {
    b.append(']');
    comma = true;
    return this;
  }

  /** The name of the next member: the value follows. */
  JsonWriter name(String name) {
    sep();
    quote(b, name);
    b.append(':');
    comma = false;
    return this;
  }

  JsonWriter nullValue() {
    sep();
    b.append("null");
    return this;
  }

  JsonWriter value(String v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    quote(b, v);
    return this;
  }

  JsonWriter value(Boolean v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    b.append(v.booleanValue() ? "true" : "false");
    return this;
  }

  JsonWriter value(Integer v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    b.append(v.intValue());
    return this;
  }

  JsonWriter value(Long v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    b.append(v.longValue());
    return this;
  }

  JsonWriter value(Double v) {
    if (v == null) {
      return nullValue();
    }
    sep();
    double d = v;
    if (Double.isNaN(d)) {
      b.append("\"NaN\"");
    } else if (Double.isInfinite(d)) {
      b.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      b.append((long) d); // 3 rather than 3.0; -0.0 becomes 0
    } else {
      b.append(d);
    }
    return this;
  }

  /** A value given as JSON text, written as is. */
  JsonWriter raw(RawJson v) {
    return v == null ? nullValue() : rawText(v.text());
  }

  JsonWriter rawText(String json) {
    sep();
    b.append(json);
    return this;
  }

  /** An array of {@code items}, each written by {@code item}; null gives null. */
  <T> JsonWriter list(List<T> items, BiConsumer<JsonWriter, T> item) {
    if (items == null) {
      return nullValue();
    }
    beginArray();
    for (T v : items) {
      item.accept(this, v);
    }
    return endArray();
  }

  @Override
  public String toString() {
    return b.toString();
  }

  static String quote(String s) {
    StringBuilder q = new StringBuilder(s.length() + 2);
    quote(q, s);
    return q.toString();
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        case '\b': b.append("\\b"); break;
        case '\f': b.append("\\f"); break;
        default:
          if (c < 0x20) {
            b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
          } else {
            b.append(c);
          }
      }
    }
    b.append('"');
  }
}
