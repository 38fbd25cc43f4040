package org.libqix;

import java.nio.charset.StandardCharsets;

/**
 * Strings cross JNI as UTF-8 bytes (see qix_java.i): JNI's own string functions use "modified UTF-8", which
 * mangles characters outside the Basic Multilingual Plane and would corrupt JSON text.
 */
final class Utf8 {
  private Utf8() {}

  static byte[] encode(String s) {
    if (s == null) {
      throw new NullPointerException("a string argument is null");
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String decode(byte[] bytes) {
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }
}
