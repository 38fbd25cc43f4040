package org.libqix;

/** The little JSON the binding writes itself: string literals for method parameters. */
final class Json {
  private Json() {}

  /** {@code s} as a JSON string literal, quotes included. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
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
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    return b.append('"').toString();
  }

  /** A JSON array of one string: {@code ["s"]}. */
  static String arrayOf(String s) {
    return "[" + quote(s) + "]";
  }
}
