/*
 * WatchSelect: a complete Java program on libqix (package org.libqix).
 *
 * Opens the app "demo" through the typed API (org.libqix.api), creates a session hypercube (Category x
 * Sum(Sales)) from typed properties, watches it, selects Category = "Bikes" and prints the rows of the layout
 * the watch delivers after the selection. Along the way: an asynchronous typed call (CompletableFuture), a
 * "changed" listener, and an engine error caught as QixException.
 *
 * Build and run (the jar carries the native libraries; nothing else is needed but a JRE):
 *   javac -cp libqix-1.0.0.jar -d examples examples/java/WatchSelect.java
 *   java -cp libqix-1.0.0.jar:examples WatchSelect [ws://host:port]   (the app path /app/demo is added)
 *
 * Exit status: 0 on success, 1 on any failure (the error is printed).
 */
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.libqix.Qix;
import org.libqix.QixException;
import org.libqix.Session;
import org.libqix.SessionOptions;
import org.libqix.api.Doc;
import org.libqix.api.Field;
import org.libqix.api.GenericObject;
import org.libqix.api.GenericObjectLayout;
import org.libqix.api.GenericObjectProperties;
import org.libqix.api.Global;
import org.libqix.api.HyperCubeDef;
import org.libqix.api.NxCell;
import org.libqix.api.NxDimension;
import org.libqix.api.NxInfo;
import org.libqix.api.NxInlineDimensionDef;
import org.libqix.api.NxInlineMeasureDef;
import org.libqix.api.NxMeasure;
import org.libqix.api.NxPage;

public final class WatchSelect {
  /** Category x Sum(Sales), the first 10 rows fetched with the layout. */
  private static GenericObjectProperties cube() {
    return new GenericObjectProperties()
        .info(new NxInfo().type("example"))
        .hyperCubeDef(new HyperCubeDef()
            .dimensions(List.of(new NxDimension().def(new NxInlineDimensionDef().fieldDefs(List.of("Category")))))
            .measures(List.of(new NxMeasure().def(new NxInlineMeasureDef().def("Sum(Sales)"))))
            .initialDataFetch(List.of(new NxPage().top(0).left(0).width(2).height(10))));
  }

  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "ws://127.0.0.1:9076";
    SessionOptions options = SessionOptions.forUrl(base + "/app/demo").callTimeout(Duration.ofSeconds(30));

    try (Session session = Session.open(options, Duration.ofSeconds(10))) {
      System.out.println("libqix " + Qix.version() + ", connected to " + options);
      Global global = session.global();
      System.out.println("engine " + global.engineVersion().componentVersion);

      // Engine errors keep the engine's code, LOCERR name, parameter and message.
      try {
        global.openDoc("no-such-app");
      } catch (QixException e) {
        System.out.println("expected error: " + e.engineCode() + " " + e.locerrName() + ": " + e.getMessage());
      }

      try (Doc doc = global.openDoc("demo");
          GenericObject cube = doc.createSessionObject(cube())) {
        // An asynchronous call: the future completes on a libqix event thread.
        String total = doc.evaluateAsync("Sum(Sales)").get(10, TimeUnit.SECONDS);
        System.out.println("Sum(Sales) = " + total);

        CountDownLatch changed = new CountDownLatch(1);
        cube.addChangeListener(o -> changed.countDown());

        // The watch delivers the current layout now and a fresh one after every change.
        BlockingQueue<GenericObjectLayout> layouts = new ArrayBlockingQueue<>(16);
        cube.watchLayout((o, layout) -> layouts.offer(layout));
        GenericObjectLayout first = layouts.poll(10, TimeUnit.SECONDS);
        if (first == null) {
          throw new IllegalStateException("no initial layout");
        }
        System.out.println("initial layout: " + rows(first));

        try (Field category = doc.getField("Category")) {
          category.select("Bikes");
        }
        if (!changed.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no change event after the selection");
        }
        GenericObjectLayout updated = layouts.poll(10, TimeUnit.SECONDS);
        if (updated == null) {
          throw new IllegalStateException("no layout after the selection");
        }
        System.out.println("updated layout: " + rows(updated));
        cube.unwatch();
      }
    } catch (QixException e) {
      System.err.println("failed: " + e);
      System.exit(1);
    }
    System.out.println("ok");
  }

  /** The rows of the first data page: "Bikes=1234.5, Clothing=...". */
  private static String rows(GenericObjectLayout layout) {
    StringBuilder b = new StringBuilder();
    for (List<NxCell> row : layout.hyperCube.dataPages.get(0).matrix) {
      b.append(b.length() == 0 ? "" : ", ").append(row.get(0).text).append('=').append(row.get(1).num);
    }
    return b.toString();
  }
}
