package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.libqix.api.Doc;
import org.libqix.api.GenericObject;
import org.libqix.api.GenericObjectProperties;
import org.libqix.api.HyperCubeDef;
import org.libqix.api.NxCell;
import org.libqix.api.NxDataPage;
import org.libqix.api.NxDimension;
import org.libqix.api.NxInfo;
import org.libqix.api.NxInlineDimensionDef;
import org.libqix.api.NxInlineMeasureDef;
import org.libqix.api.NxMeasure;
import org.libqix.api.NxPage;

/**
 * Bulk extraction (qix_object_extract) in Java: typed rows as a Stream and as an Extraction (Iterator), every
 * row once and in order with the values a GetHyperCubeData page loop gives, over many small pages with a few in
 * flight; back-pressure (the buffer bounds the rows not yet read); stopping early (close, a short-circuiting
 * stream in try-with-resources); errors (a bad path, a closed object, a session closed under a blocked
 * extraction).
 */
class ExtractTest {
  /** OrderId x Sum(Sales) over the simulator's demo app: 2,000 rows (one per order). */
  private static final int ROWS = 2000;

  private static Simulator sim;

  @BeforeAll
  static void start() throws Exception {
    sim = new Simulator();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  private static GenericObject orders(Doc doc) {
    return doc.createSessionObject(new GenericObjectProperties()
        .info(new NxInfo().type("table"))
        .hyperCubeDef(new HyperCubeDef()
            .dimensions(List.of(new NxDimension().def(new NxInlineDimensionDef().fieldDefs(List.of("OrderId")))))
            .measures(List.of(new NxMeasure().def(new NxInlineMeasureDef().def("Sum(Sales)"))))));
  }

  /** Every row through a plain GetHyperCubeData page loop (pages of 500 rows). */
  private static List<List<NxCell>> pageLoop(GenericObject cube) {
    List<List<NxCell>> rows = new ArrayList<>();
    for (int top = 0; top < ROWS; top += 500) {
      List<NxDataPage> pages =
          cube.getHyperCubeData("/qHyperCubeDef", List.of(new NxPage().top(top).left(0).width(2).height(500)));
      rows.addAll(pages.get(0).matrix);
    }
    return rows;
  }

  private static void assertSameRows(List<List<NxCell>> expected, List<List<NxCell>> actual) {
    assertEquals(expected.size(), actual.size(), "row count");
    for (int i = 0; i < expected.size(); i++) {
      List<NxCell> e = expected.get(i);
      List<NxCell> a = actual.get(i);
      assertEquals(2, a.size(), "cells of row " + i);
      for (int c = 0; c < 2; c++) {
        assertEquals(e.get(c).text, a.get(c).text, "qText of row " + i + " cell " + c);
        assertEquals(e.get(c).num, a.get(c).num, "qNum of row " + i + " cell " + c);
        assertEquals(e.get(c).elemNumber, a.get(c).elemNumber, "qElemNumber of row " + i + " cell " + c);
        assertEquals(e.get(c).state, a.get(c).state, "qState of row " + i + " cell " + c);
      }
    }
  }

  @Test
  void streamGivesEveryRowOnceInOrder() {
    try (Session session = Session.open(sim.demo())) {
      GenericObject cube = orders(session.openDoc("demo"));
      List<List<NxCell>> expected = pageLoop(cube);
      assertEquals(ROWS, expected.size());
      for (int window : new int[] {2, 3, 4}) {
        List<List<NxCell>> rows;
        try (Stream<List<NxCell>> s = cube.extract("/qHyperCubeDef", 7, window)) {
          rows = s.collect(Collectors.toList());
        }
        assertSameRows(expected, rows);
      }
      // OrderId is 1..2000 in order: each row once, none missing.
      List<List<NxCell>> rows;
      try (Stream<List<NxCell>> s = cube.extract("/qHyperCubeDef", 0, 0)) { // the defaults
        rows = s.collect(Collectors.toList());
      }
      for (int i = 0; i < ROWS; i++) {
        assertEquals(Double.valueOf(i + 1), rows.get(i).get(0).num, "row " + i);
      }
      assertEquals(0, session.pendingCalls());
    }
  }

  @Test
  void iteratorWithBackPressure() {
    try (Session session = Session.open(sim.demo())) {
      GenericObject cube = orders(session.openDoc("demo"));
      List<List<NxCell>> expected = pageLoop(cube);
      int buffer = 3;
      List<List<NxCell>> rows = new ArrayList<>();
      try (Extraction<List<NxCell>> e = cube.extractRows("/qHyperCubeDef", 7, 4, buffer)) {
        while (e.hasNext()) {
          // What the event thread delivered and the reader has not taken never exceeds the buffer.
          long ahead = e.received() - rows.size();
          assertTrue(ahead <= buffer, "rows ahead of the reader: " + ahead);
          rows.add(e.next());
        }
        assertFalse(e.hasNext());
        assertThrows(NoSuchElementException.class, e::next);
        assertEquals(ROWS, e.rowCount());
      }
      assertSameRows(expected, rows);
    }
  }

  @Test
  void untypedRowsAsJsonText() {
    try (Session session = Session.open(sim.demo())) {
      QixObject cube = orders(session.openDoc("demo")).object();
      List<String> rows = new ArrayList<>();
      try (Extraction<String> e = cube.extract("/qHyperCubeDef", 100, 2, 10, Function.identity())) {
        e.forEachRemaining(rows::add);
      }
      assertEquals(ROWS, rows.size());
      assertTrue(rows.get(0).startsWith("[{"), rows.get(0));
      assertTrue(rows.get(0).contains("\"qText\":\"1\""), rows.get(0));
    }
  }

  @Test
  void stoppingEarly() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      GenericObject cube = orders(session.openDoc("demo"));
      int before = Dispatch.registrations();
      // close() after 10 rows: the extraction ends (close waits for it), the rows not read are dropped.
      Extraction<List<NxCell>> e = cube.extractRows("/qHyperCubeDef", 7, 3, 2);
      for (int i = 0; i < 10; i++) {
        assertEquals(Double.valueOf(i + 1), e.next().get(0).num);
      }
      e.close();
      assertFalse(e.hasNext());
      assertEquals(-1, e.rowCount());
      e.close(); // idempotent
      assertTrue(e.received() < ROWS, "received " + e.received());
      // A short-circuiting operation inside try-with-resources: the close stops it.
      List<List<NxCell>> first;
      try (Stream<List<NxCell>> s = cube.extract("/qHyperCubeDef", 7, 4)) {
        first = s.limit(5).collect(Collectors.toList());
      }
      assertEquals(5, first.size());
      assertEquals(Double.valueOf(5), first.get(4).get(0).num);
      // The session's events flow again: an asynchronous call completes, and no page call is left over.
      CompletableFuture<String> layout = cube.object().getLayoutAsync();
      assertTrue(layout.get(Fixtures.PATIENCE.toMillis(), TimeUnit.MILLISECONDS).contains("qHyperCube"));
      assertEquals(0, session.pendingCalls());
      assertEquals(before, Dispatch.registrations(), "no extraction token left");
    }
  }

  @Test
  void badPathIsAnError() {
    try (Session session = Session.open(sim.demo())) {
      GenericObject cube = orders(session.openDoc("demo"));
      try (Stream<List<NxCell>> s = cube.extract("/qNoSuchDef", 7, 2)) {
        QixException e = assertThrows(QixException.class, () -> s.count());
        assertEquals(QixException.Code.INVALID_ARGUMENT, e.code(), e.toString());
      }
      try (Extraction<List<NxCell>> x = cube.extractRows("/qNoSuchDef", 0, 0, 1)) {
        assertThrows(QixException.class, x::hasNext);
        assertEquals(-1, x.rowCount());
      }
      // Arguments checked before anything starts.
      assertEquals(QixException.Code.INVALID_ARGUMENT,
          assertThrows(QixException.class, () -> cube.extract("/qHyperCubeDef", -1, 0)).code());
      assertEquals(QixException.Code.INVALID_ARGUMENT,
          assertThrows(QixException.class, () -> cube.extractRows("/qHyperCubeDef", 0, 0, 0)).code());
      // A closed object cannot start one.
      cube.close();
      assertEquals(QixException.Code.CLOSED,
          assertThrows(QixException.class, () -> cube.extract("/qHyperCubeDef", 7, 2)).code());
    }
  }

  @Test
  void readingOnAnEventThreadIsBusy() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      GenericObject cube = orders(session.openDoc("demo"));
      // A buffer for every row: the event thread never waits for this reader (with a full buffer it would, and
      // the completion below would queue behind it: back-pressure stalls the session's events).
      try (Extraction<List<NxCell>> e = cube.extractRows("/qHyperCubeDef", 7, 2, ROWS)) {
        CompletableFuture<QixException.Code> seen = new CompletableFuture<>();
        cube.object().getLayoutAsync().whenComplete((layout, error) -> {
          try {
            e.hasNext();
            seen.complete(null);
          } catch (QixException x) {
            seen.complete(x.code());
          }
        });
        // Either the reader was faster (a row waited) or the read would have waited: never a hang.
        QixException.Code code = seen.get(Fixtures.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(code == null || code == QixException.Code.BUSY, String.valueOf(code));
      }
    }
  }

  @Test
  void sessionClosedUnderABlockedExtraction() throws Exception {
    Session session = Session.open(sim.demo());
    GenericObject cube = orders(session.openDoc("demo"));
    Extraction<List<NxCell>> e = cube.extractRows("/qHyperCubeDef", 7, 2, 1);
    Iterator<List<NxCell>> it = e;
    assertEquals(Double.valueOf(1), it.next().get(0).num);
    // The buffer (1 row) fills and the event thread waits for this reader; closing the session wakes it.
    session.close();
    QixException x = assertThrows(QixException.class, () -> {
      while (it.hasNext()) {
        it.next();
      }
    });
    assertEquals(QixException.Code.CLOSED, x.code(), x.toString());
    e.close(); // returns: the extraction has ended
    assertEquals(-1, e.rowCount());
  }
}
