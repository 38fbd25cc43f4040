package org.libqix;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** What the tests share: the hypercube definition and polling with a deadline. */
final class Fixtures {
  private Fixtures() {}

  /** Category x Sum(Sales), every row in the initial data page. */
  static final String CUBE = "{\"qInfo\":{\"qId\":\"cube\",\"qType\":\"table\"},"
      + "\"qHyperCubeDef\":{\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"Category\"]}}],"
      + "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Sales)\"}}],"
      + "\"qInitialDataFetch\":[{\"qTop\":0,\"qLeft\":0,\"qWidth\":2,\"qHeight\":20}]}}";

  /** True as soon as {@code condition} holds, false when it did not within {@code timeout}. */
  static boolean eventually(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(10);
    }
    return condition.getAsBoolean();
  }

  static boolean eventually(BooleanSupplier condition) throws InterruptedException {
    return eventually(Duration.ofSeconds(10), condition);
  }

  /** Number of occurrences of {@code needle} in {@code text}. */
  static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
      n++;
    }
    return n;
  }
}
