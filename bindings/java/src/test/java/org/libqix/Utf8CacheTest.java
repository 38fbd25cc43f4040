package org.libqix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Utf8.Cache (the method names and parameters of calls): the same string object reuses its bytes, any other
 *  string is encoded afresh, also when equal, and the bytes are always the string's UTF-8. */
class Utf8CacheTest {
  @Test
  void reusesBytesOnlyForTheSameStringObject() {
    Utf8.Cache cache = new Utf8.Cache();
    String method = "EngineVersion";
    byte[] first = cache.encode(method);
    assertArrayEquals(method.getBytes(StandardCharsets.UTF_8), first);
    assertSame(first, cache.encode(method), "the same string: the same bytes");
    String wide = "a\uD83D\uDE00\u00FC\u20AC";
    assertArrayEquals(wide.getBytes(StandardCharsets.UTF_8), cache.encode(wide));
    String equalCopy = new String(method.toCharArray());
    byte[] again = cache.encode(equalCopy);
    assertArrayEquals(method.getBytes(StandardCharsets.UTF_8), again);
    assertArrayEquals(new byte[0], cache.encode(""));
    assertThrows(NullPointerException.class, () -> cache.encode(null));
  }
}
