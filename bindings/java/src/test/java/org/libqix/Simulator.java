package org.libqix;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The engine simulator (qix-engine-sim, path in the system property qix.sim) as a child process on a free
 * port, for one test class or one test. close() stops it; kill() ends it abruptly (no close frames).
 */
final class Simulator implements AutoCloseable {
  private final Process process;
  private final String url;

  Simulator(String... flags) throws IOException {
    String exe = System.getProperty("qix.sim");
    if (exe == null) {
      throw new IllegalStateException("set -Dqix.sim=/path/to/qix-engine-sim");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(exe);
    cmd.add("--port");
    cmd.add("0");
    cmd.addAll(Arrays.asList(flags));
    process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("listening on ")) {
      process.destroyForcibly();
      throw new IOException("the simulator did not start: " + line);
    }
    url = line.substring("listening on ".length()).trim();
  }

  /** ws://127.0.0.1:PORT */
  String url() {
    return url;
  }

  /** Options for the app "demo". */
  SessionOptions demo() {
    return SessionOptions.forUrl(url + "/app/demo");
  }

  /** Ends the process at once (SIGKILL): connections drop without close frames. */
  void kill() {
    process.destroyForcibly();
    waitForExit();
  }

  @Override
  public void close() {
    process.destroy();
    if (!waitForExit()) {
      process.destroyForcibly();
      waitForExit();
    }
  }

  private boolean waitForExit() {
    try {
      return process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
