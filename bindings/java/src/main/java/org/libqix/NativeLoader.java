package org.libqix;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Loads the natives (libqix_java.so, the JNI shim, and libqix.so.1) before the first native call; run by
 * the static initializer of the generated JNI class (qix_java.i).
 *
 * <ol>
 *   <li>{@code System.loadLibrary("qix_java")}: a {@code libqix_java.so} on {@code java.library.path} wins
 *       (an installed copy, or a developer's build). Its RPATH ($ORIGIN) finds libqix.so.1 next to it.
 *   <li>Otherwise the copies in the jar, under {@code natives/<os>-<arch>/} (e.g. {@code
 *       natives/linux-x86_64/}), listed in that folder's {@code index}: extracted to a new private temporary
 *       directory (owner-only permissions), loaded with {@code System.load} in the listed order, then deleted
 *       (a loaded library stays mapped). Lines {@code load FILE} are loaded; lines {@code fallback FILE} (the
 *       OpenSSL 3 libraries libqix.so.1 needs) are loaded only when loading fails without them, i.e. when the
 *       system has no OpenSSL 3 — or first, with {@code -Dorg.libqix.openssl=bundled}.
 * </ol>
 */
final class NativeLoader {
  private static String source;

  private NativeLoader() {}

  /** Where the natives came from (after {@link #load()}), for diagnostics. */
  static synchronized String source() {
    return source;
  }

  static synchronized void load() {
    if (source != null) {
      return;
    }
    UnsatisfiedLinkError fromPath;
    try {
      System.loadLibrary("qix_java");
      source = "java.library.path";
      return;
    } catch (UnsatisfiedLinkError e) {
      fromPath = e;
    }
    String folder = "natives/" + platform();
    List<String> load = new ArrayList<>();
    List<String> fallback = new ArrayList<>();
    try (InputStream index = NativeLoader.class.getResourceAsStream("/" + folder + "/index")) {
      if (index == null) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("libqix: no natives for " + platform() + " in the jar ("
            + folder + "/), and none on java.library.path (" + fromPath.getMessage() + ")");
        e.addSuppressed(fromPath);
        throw e;
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8));
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        line = line.trim();
        if (line.startsWith("load ")) {
          load.add(line.substring(5).trim());
        } else if (line.startsWith("fallback ")) {
          fallback.add(line.substring(9).trim());
        }
      }
    } catch (IOException e) {
      throw linkError("libqix: cannot read " + folder + "/index from the jar", e);
    }
    Path dir = null;
    List<Path> files = new ArrayList<>();
    try {
      dir = Files.createTempDirectory("libqix-");
      for (String name : concat(load, fallback)) {
        try (InputStream in = NativeLoader.class.getResourceAsStream("/" + folder + "/" + name)) {
          if (in == null) {
            throw new UnsatisfiedLinkError("libqix: " + folder + "/" + name + " is listed but missing in the jar");
          }
          Path file = dir.resolve(name);
          Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
          files.add(file);
        }
      }
      boolean fallbacksLoaded = false;
      if ("bundled".equals(System.getProperty("org.libqix.openssl"))) {
        loadAll(dir, fallback);
        fallbacksLoaded = true;
      }
      for (String name : load) {
        try {
          System.load(dir.resolve(name).toString());
        } catch (UnsatisfiedLinkError e) {
          if (fallbacksLoaded || fallback.isEmpty()) {
            throw e;
          }
          loadAll(dir, fallback);
          fallbacksLoaded = true;
          System.load(dir.resolve(name).toString());
        }
      }
      source = "jar:" + folder + (fallbacksLoaded ? " (with the bundled OpenSSL)" : "");
    } catch (IOException e) {
      throw linkError("libqix: cannot extract the natives from the jar", e);
    } finally {
      for (Path f : files) {
        try {
          Files.deleteIfExists(f);
        } catch (IOException ignored) {
          // A leftover file in the temporary directory; nothing else to do.
        }
      }
      if (dir != null) {
        try {
          Files.deleteIfExists(dir);
        } catch (IOException ignored) {
          // As above.
        }
      }
    }
  }

  private static void loadAll(Path dir, List<String> names) {
    for (String name : names) {
      System.load(dir.resolve(name).toString());
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(message + ": " + cause);
    e.initCause(cause);
    return e;
  }

  /** The platform folder name: "linux-x86_64", "linux-aarch64" ... */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) {
      os = "linux";
    } else if (os.startsWith("mac") || os.startsWith("darwin")) {
      os = "macos";
    } else if (os.startsWith("windows")) {
      os = "windows";
    } else {
      os = os.replaceAll("[^a-z0-9]", "");
    }
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    switch (arch) {
      case "amd64":
      case "x86_64":
        arch = "x86_64";
        break;
      case "aarch64":
      case "arm64":
        arch = "aarch64";
        break;
      default:
        arch = arch.replaceAll("[^a-z0-9_]", "");
    }
    return os + "-" + arch;
  }
}
