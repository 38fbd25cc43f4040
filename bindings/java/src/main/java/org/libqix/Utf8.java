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

  /**
   * A one-entry cache of the last string encoded through it, by identity: the typed API passes the same
   * literal method names and parameters ("{}") call after call, and they need not be encoded every time.
   * Thread-safe (one immutable entry, replaced as a whole); the bytes it returns must not be changed.
   */
  static final class Cache {
    private static final class Entry {
      final String text;
      final byte[] bytes;

      Entry(String text, byte[] bytes) {
        this.text = text;
        this.bytes = bytes;
      }
    }

    private volatile Entry last = new Entry("", new byte[0]);

    byte[] encode(String s) {
      Entry e = last;
      if (e.text == s) { // identity: a literal the caller passes again
        return e.bytes;
      }
      byte[] bytes = Utf8.encode(s);
      last = new Entry(s, bytes);
      return bytes;
    }
  }

  static String decode(byte[] bytes) {
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }
}
