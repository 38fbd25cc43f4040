/*
 * WatchSelect: a complete Java program on libqix (package org.libqix).
 *
 * Opens the app "demo", creates a session hypercube (Category x Sum(Sales)), watches it, selects
 * Category = "Bikes" and prints the layout the watch delivers after the selection. Along the way: an
 * asynchronous call (CompletableFuture), a "changed" listener, and an engine error caught as QixException.
 *
 * Build and run (the jar carries the native libraries; nothing else is needed but a JRE):
 *   javac -cp libqix-1.0.0.jar -d examples examples/java/WatchSelect.java
 *   java -cp libqix-1.0.0.jar:examples WatchSelect [ws://host:port]   (the app path /app/demo is added)
 *
 * Exit status: 0 on success, 1 on any failure (the error is printed).
 */
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.libqix.Qix;
import org.libqix.QixException;
import org.libqix.QixObject;
import org.libqix.Session;
import org.libqix.SessionOptions;

public final class WatchSelect {
  private static final String CUBE = "{\"qInfo\":{\"qType\":\"example\"},"
      + "\"qHyperCubeDef\":{\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"Category\"]}}],"
      + "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Sales)\"}}],"
      + "\"qInitialDataFetch\":[{\"qTop\":0,\"qLeft\":0,\"qWidth\":2,\"qHeight\":10}]}}";

  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "ws://127.0.0.1:9076";
    SessionOptions options = SessionOptions.forUrl(base + "/app/demo").callTimeout(Duration.ofSeconds(30));

    try (Session session = Session.open(options, Duration.ofSeconds(10))) {
      System.out.println("libqix " + Qix.version() + ", connected to " + options);

      // Engine errors keep the engine's code, LOCERR name, parameter and message.
      try {
        session.openDoc("no-such-app");
      } catch (QixException e) {
        System.out.println("expected error: " + e.engineCode() + " " + e.locerrName() + ": " + e.getMessage());
      }

      try (QixObject doc = session.openDoc("demo");
          QixObject cube = doc.createSessionObject(CUBE)) {
        // An asynchronous call: the future completes on a libqix event thread.
        String total = doc.callAsync("Evaluate", "[\"Sum(Sales)\"]").get(10, TimeUnit.SECONDS);
        System.out.println("Sum(Sales) = " + total);

        CountDownLatch changed = new CountDownLatch(1);
        cube.addChangeListener(o -> changed.countDown());

        // The watch delivers the current layout now and a fresh one after every change.
        BlockingQueue<String> layouts = new ArrayBlockingQueue<>(16);
        cube.watch((o, layout) -> layouts.offer(layout));
        String first = layouts.poll(10, TimeUnit.SECONDS);
        if (first == null) {
          throw new IllegalStateException("no initial layout");
        }
        System.out.println("initial layout: " + abbreviate(first));

        try (QixObject category = doc.getField("Category")) {
          category.call("Select", "[\"Bikes\"]");
        }
        if (!changed.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no change event after the selection");
        }
        String updated = layouts.poll(10, TimeUnit.SECONDS);
        if (updated == null) {
          throw new IllegalStateException("no layout after the selection");
        }
        System.out.println("updated layout: " + abbreviate(updated));
        cube.unwatch();
      }
    } catch (QixException e) {
      System.err.println("failed: " + e);
      System.exit(1);
    }
    System.out.println("ok");
  }

  private static String abbreviate(String json) {
    int i = json.indexOf("\"qMatrix\"");
    String from = i < 0 ? json : json.substring(i);
    return from.length() > 160 ? from.substring(0, 160) + "..." : from;
  }
}
