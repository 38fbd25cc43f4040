package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Where the natives come from; the expectation is given by the CTest test (-Dqix.expect.natives): "jar"
 * (extracted from the jar), "java.library.path" (the override wins), "bundled" (from the jar, with the
 * jar's OpenSSL, as on a machine without OpenSSL 3).
 */
class LoaderTest {
  @Test
  void nativesComeFromWhereExpected() throws Exception {
    String expect = System.getProperty("qix.expect.natives", "jar");
    String source = Qix.nativesSource();
    List<String> maps = Files.readAllLines(Paths.get("/proc/self/maps"));
    List<String> qix = maps.stream().filter(l -> l.contains("libqix")).collect(Collectors.toList());
    List<String> ssl = maps.stream().filter(l -> l.contains("libssl.so")).collect(Collectors.toList());
    switch (expect) {
      case "java.library.path":
        assertEquals("java.library.path", source);
        assertTrue(qix.stream().anyMatch(l -> l.contains("bindings/java/lib/libqix_java.so")), qix.toString());
        break;
      case "bundled":
        assertEquals("jar:natives/" + NativeLoader.platform() + " (with the bundled OpenSSL)", source);
        assertFalse(ssl.isEmpty());
        assertTrue(ssl.stream().allMatch(l -> l.contains("/libqix-")), "OpenSSL mapped from the jar: " + ssl);
        break;
      default:
        assertEquals("jar:natives/" + NativeLoader.platform(), source);
        // Extracted into a private temporary folder, deleted again once loaded.
        assertTrue(qix.stream().anyMatch(l -> l.contains("/libqix-") && l.contains("libqix_java.so (deleted)")),
            qix.toString());
        assertTrue(ssl.stream().noneMatch(l -> l.contains("/libqix-")), "the system's OpenSSL: " + ssl);
    }
    assertEquals(System.getProperty("qix.expect.version", Qix.version()), Qix.version());
    // The natives work: a session against the simulator.
    try (Simulator sim = new Simulator();
        Session session = Session.open(sim.demo())) {
      assertEquals("\"3\"", session.openDoc("demo").call("Evaluate", "[\"1+2\"]"));
    }
  }
}
