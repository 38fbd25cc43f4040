package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.libqix.api.ApiManifest;
import org.libqix.api.CreateSessionAppResult;
import org.libqix.api.Doc;
import org.libqix.api.DocListEntry;
import org.libqix.api.Field;
import org.libqix.api.FieldValue;
import org.libqix.api.GenericBookmark;
import org.libqix.api.GenericDimension;
import org.libqix.api.GenericMeasure;
import org.libqix.api.GenericObject;
import org.libqix.api.GenericObjectLayout;
import org.libqix.api.GenericObjectProperties;
import org.libqix.api.GenericVariable;
import org.libqix.api.GenericVariableProperties;
import org.libqix.api.GetTablesAndKeysResult;
import org.libqix.api.Global;
import org.libqix.api.HyperCubeDef;
import org.libqix.api.NxCell;
import org.libqix.api.NxDataPage;
import org.libqix.api.NxDimension;
import org.libqix.api.NxEngineVersion;
import org.libqix.api.NxInfo;
import org.libqix.api.NxInlineDimensionDef;
import org.libqix.api.NxInlineMeasureDef;
import org.libqix.api.NxMeasure;
import org.libqix.api.NxPage;
import org.libqix.api.NxPatch;
import org.libqix.api.NxPatchOperationType;
import org.libqix.api.RawJson;
import org.libqix.api.Size;
import org.libqix.api.StateEnumType;
import org.libqix.api.Variable;

/**
 * The typed API (org.libqix.api): every method of the specification is there (read from spec/, path in the
 * system property qix.spec), the codecs (NaN and infinities, unknown enum symbols, open structs), and typed
 * calls on all 9 classes against the simulator, including an engine error and a properties round trip.
 */
class TypedApiTest {
  private static Simulator sim;

  @BeforeAll
  static void start() throws Exception {
    sim = new Simulator();
  }

  @AfterAll
  static void stop() {
    sim.close();
  }

  // ---------------------------------------------------------------------------------------------- coverage

  /** model.py's camel(): words of the name (runs of capitals together), the first one lower case. */
  static String camel(String name) {
    Matcher m = Pattern.compile("[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+|[0-9]+").matcher(name);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String w = m.group();
      b.append(b.length() == 0 ? w.toLowerCase() : w);
    }
    return b.toString();
  }

  @Test
  void everyMethodOfTheSpecificationIsThere() throws Exception {
    Path spec = Path.of(System.getProperty("qix.spec"));
    String text = Files.readString(spec, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("\"name\"\\s*:\\s*\"(Global|Doc|GenericObject|Field|GenericDimension|GenericBookmark"
        + "|GenericMeasure|GenericVariable|Variable)\\.([A-Za-z0-9]+)\"").matcher(text);
    Set<String> inSpec = new TreeSet<>();
    while (m.find()) {
      inSpec.add(m.group(1) + "." + m.group(2));
    }
    assertEquals(336, inSpec.size(), "methods in " + spec);
    assertEquals(inSpec, new TreeSet<>(ApiManifest.METHODS), "the generated manifest");
    List<String> missing = new ArrayList<>();
    int present = 0;
    for (String full : inSpec) {
      String[] parts = full.split("\\.");
      Class<?> cls = Class.forName("org.libqix.api." + parts[0]);
      String name = camel(parts[1]);
      boolean sync = false;
      boolean async = false;
      for (Method x : cls.getDeclaredMethods()) {
        if (!Modifier.isPublic(x.getModifiers())) {
          continue;
        }
        sync |= x.getName().equals(name);
        async |= x.getName().equals(name + "Async") && x.getReturnType() == CompletableFuture.class;
      }
      if (sync && async) {
        present++;
      } else {
        missing.add(full + " (" + name + ")");
      }
    }
    System.out.println("typed methods: " + present + "/" + inSpec.size());
    assertEquals(List.of(), missing);
    assertEquals(336, present);
  }

  // ---------------------------------------------------------------------------------------------- codecs

  @Test
  void numbersEnumsAndOpenStructsRoundTrip() {
    NxCell cell = NxCell.fromJson("{\"qText\":\"-\",\"qNum\":\"NaN\",\"qElemNumber\":-2,\"qState\":\"XQ\"}");
    assertTrue(Double.isNaN(cell.num));
    assertEquals("XQ", cell.state.symbol(), "an unknown symbol is kept");
    assertFalse(cell.state.isKnown());
    assertEquals("{\"qText\":\"-\",\"qNum\":\"NaN\",\"qElemNumber\":-2,\"qState\":\"XQ\"}", cell.toJson());
    assertEquals(StateEnumType.SELECTED, NxCell.fromJson("{\"qState\":\"S\"}").state);
    assertEquals("{\"qNum\":\"-Infinity\"}", new NxCell().num(Double.NEGATIVE_INFINITY).toJson());
    assertEquals(Double.POSITIVE_INFINITY, NxCell.fromJson("{\"qNum\":\"Infinity\"}").num);

    String props = "{\"qInfo\":{\"qId\":\"a\",\"qType\":\"t\"},\"custom\":{\"x\":[1,\"\\u00e9\\n\"]},"
        + "\"qHyperCubeDef\":{\"qDimensions\":[]},\"title\":\"T\"}";
    GenericObjectProperties p = GenericObjectProperties.fromJson(props);
    assertEquals("a", p.info.id);
    assertEquals(List.of("custom", "title"), new ArrayList<>(p.extra.keySet()));
    assertEquals("{\"x\":[1,\"\\u00e9\\n\"]}", p.extra.get("custom").text());
    assertEquals("{\"qInfo\":{\"qId\":\"a\",\"qType\":\"t\"},\"qHyperCubeDef\":{\"qDimensions\":[]},"
        + "\"custom\":{\"x\":[1,\"\\u00e9\\n\"]},\"title\":\"T\"}", p.toJson());
    assertNull(NxInfo.fromJson("null"));

    // Escapes (a surrogate pair), exponents into integers, nested arrays (NxCellRows), nulls and a member of an
    // unexpected shape (read as null, the rest still read).
    NxDataPage page = NxDataPage.fromJson("{\"qMatrix\":[[{\"qText\":\"\\ud83d\\ude00 \\\"q\\\"\",\"qElemNumber\":1e1}],"
        + "[null]],\"qArea\":\"oops\",\"qTails\":null,\"qIsReduced\":true}");
    assertEquals("\ud83d\ude00 \"q\"", page.matrix.get(0).get(0).text);
    assertEquals(10, page.matrix.get(0).get(0).elemNumber);
    assertNull(page.matrix.get(1).get(0));
    assertNull(page.area);
    assertNull(page.tails);
    assertTrue(page.isReduced);
    assertEquals("{\"qMatrix\":[[{\"qText\":\"\ud83d\ude00 \\\"q\\\"\",\"qElemNumber\":10}],[null]],\"qIsReduced\":true}",
        page.toJson());
    assertEquals("\"x\\\"y\"", RawJson.ofString("x\"y").text());
  }

  @Test
  void memberNamesAreReadRightWhenRepeatedCollidingLongOrEscaped() {
    // The reader keeps the member names it read in a small table by hash (JsonReader.NAMES, 512 slots):
    // 2,000 names collide there, and each pass must still give every name exactly, from the table or not.
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      keys.add("k" + i);
    }
    keys.addAll(List.of("x".repeat(100), "qInf", "qInfoo", "", "q\u00e9"));
    StringBuilder json = new StringBuilder("{\"q\\u0049nfo\":{\"qId\":\"a\"}");
    for (int i = 0; i < keys.size(); i++) {
      json.append(",\"").append(keys.get(i)).append("\":").append(i);
    }
    json.append('}');
    for (int pass = 0; pass < 3; pass++) {
      GenericObjectProperties p = GenericObjectProperties.fromJson(json.toString());
      assertEquals("a", p.info.id, "an escaped name is unescaped before it is matched");
      assertEquals(keys, new ArrayList<>(p.extra.keySet()));
      for (int i = 0; i < keys.size(); i++) {
        assertEquals(String.valueOf(i), p.extra.get(keys.get(i)).text());
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- simulator

  static GenericObjectProperties cube(String id) {
    return new GenericObjectProperties()
        .info(new NxInfo().id(id).type("table"))
        .hyperCubeDef(new HyperCubeDef()
            .dimensions(List.of(new NxDimension().def(new NxInlineDimensionDef().fieldDefs(List.of("Category")))))
            .measures(List.of(new NxMeasure().def(new NxInlineMeasureDef().def("Sum(Sales)"))))
            .initialDataFetch(List.of(new NxPage().top(0).left(0).width(2).height(20))));
  }

  @Test
  @SuppressWarnings("deprecation") // Variable, deprecated in the specification, is one of the 9 classes
  void typedCallsOnEveryClass() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      Global global = session.global();
      assertEquals(global, session.global(), "one typed Global per session");
      // Global
      NxEngineVersion version = global.engineVersion();
      assertFalse(version.componentVersion.isEmpty());
      assertFalse(global.isDesktopMode());
      assertFalse(global.qtProduct().isEmpty());
      assertFalse(global.osName().isEmpty());
      assertFalse(global.getUniqueID().isEmpty());
      List<DocListEntry> docs = global.getDocList();
      assertTrue(docs.stream().anyMatch(d -> "demo".equals(d.docId)), docs.toString());
      Doc doc = global.openDoc("demo");
      assertEquals("Doc", doc.type());
      assertEquals("demo", global.getActiveDoc().genericId());

      // Doc
      assertEquals("3", doc.evaluate("1+2"));
      FieldValue fv = doc.evaluateEx("1+2");
      assertEquals(3.0, fv.number);
      assertNotNull(doc.getAppLayout());
      assertNotNull(doc.getAppProperties());
      GetTablesAndKeysResult tk = doc.getTablesAndKeys(new Size().cx(0).cy(0), new Size().cx(0).cy(0), 0, false,
          false);
      assertTrue(tk.tr.stream().anyMatch(t -> "Orders".equals(t.name)), tk.tr.toString());
      assertNull(doc.getObject("no-such-object"), "not found is null");
      assertNull(doc.getObjectAsync("no-such-object").join(), "also asynchronously");

      GenericObject cube = doc.createSessionObject(cube("typed-cube"));
      assertEquals("GenericObject", cube.type());
      assertEquals("typed-cube", doc.getObject("typed-cube").genericId());
      assertTrue(doc.getAllInfos().stream().anyMatch(i -> "typed-cube".equals(i.id)));

      // GenericObject: layout, paging, info
      GenericObjectLayout layout = cube.getLayout();
      assertEquals("typed-cube", layout.info.id);
      int rows = layout.hyperCube.size.cy;
      assertTrue(rows > 1, layout.toJson());
      List<NxDataPage> page = cube.getHyperCubeData("/qHyperCubeDef",
          List.of(new NxPage().top(1).left(0).width(2).height(1)));
      assertEquals(1, page.get(0).matrix.size());
      String second = page.get(0).matrix.get(0).get(0).text;
      assertEquals(layout.hyperCube.dataPages.get(0).matrix.get(1).get(0).text, second);
      assertEquals("table", cube.getInfo().type);
      // Per-call options on a view of the same handle: delta results are patched back into whole results.
      GenericObject delta = cube.withOptions(CallOptions.DEFAULT.withDelta(true));
      assertEquals(layout.toJson(), delta.getLayout().toJson());
      assertEquals(layout.toJson(), delta.getLayoutAsync().join().toJson());

      // Field, with a "changed" event on the cube
      CompletableFuture<Void> changed = new CompletableFuture<>();
      cube.addChangeListener(o -> changed.complete(null));
      BlockingQueue<GenericObjectLayout> watched = new LinkedBlockingQueue<>();
      cube.watchLayout((o, l) -> watched.add(l));
      assertEquals(rows, watched.take().hyperCube.size.cy);
      Field category = doc.getField("Category");
      assertTrue(category.getCardinal() > 1);
      assertTrue(category.select("Bikes"));
      changed.get(); // no clock: CTest's TIMEOUT is the hang guard
      assertEquals(1, watched.take().hyperCube.size.cy);
      cube.unwatch();
      assertEquals(1, cube.getLayout().hyperCube.size.cy);
      assertTrue(category.toggleSelect("Bikes"));
      assertTrue(category.selectValues(List.of(new FieldValue().text("Clothing"))));
      assertTrue(category.selectAll());
      assertTrue(category.clear());
      assertTrue(category.lock());
      assertTrue(category.unlock());
      assertTrue(cube.selectHyperCubeValues("/qHyperCubeDef", 0, List.of(0), false));
      cube.clearSelections("/qHyperCubeDef");
      doc.clearAll();
      assertEquals(rows, cube.getLayout().hyperCube.size.cy);

      // Patches and asynchronous calls
      cube.applyPatches(List.of(new NxPatch().op(NxPatchOperationType.ADD).path("/title")
          .value(RawJson.ofString("patched").text())));
      assertEquals("\"patched\"", cube.getPropertiesAsync().join().extra.get("title").text());

      // GenericVariable
      GenericVariable v = doc.createSessionVariable(new GenericVariableProperties()
          .info(new NxInfo().type("variable")).name("vTyped").definition("1"));
      v.setStringValue("hello");
      assertEquals("hello", v.getLayout().text);
      v.setNumValue(42);
      assertEquals("vTyped", v.getProperties().name);
      assertEquals(v.genericId(), doc.getVariableByName("vTyped").genericId());
      assertEquals("vTyped", doc.getVariableById(v.genericId()).getProperties().name);

      // The classes the simulator has no objects of: their methods over a generic object's handle go
      // through the same path (a method of another class would answer -32601).
      assertEquals("typed-cube", GenericDimension.of(cube.object()).getInfo().id);
      assertEquals("typed-cube", GenericMeasure.of(cube.object()).getLayout().info.id);
      assertEquals("typed-cube", GenericBookmark.of(cube.object()).getProperties().info.id);

      // An engine error: Variable.GetContent is not in the simulator.
      QixException e = assertThrows(QixException.class, () -> Variable.of(v.object()).getContent());
      assertEquals(QixException.Code.ENGINE, e.code());
      assertEquals(-32601, e.engineCode());
      CompletionException ce = assertThrows(CompletionException.class,
          () -> doc.createBookmarkAsync(new org.libqix.api.GenericBookmarkProperties()).join());
      assertEquals(QixException.Code.ENGINE, ((QixException) ce.getCause()).code());

      assertTrue(doc.destroySessionObject("typed-cube"));
      assertNull(doc.getObject("typed-cube"));
    }
  }

  /**
   * Chains of typed asynchronous calls, each made from the completion of the one before: every answer is
   * right, and every one reaches Java in a run (one upcall for the answers of a burst,
   * qix_after_callbacks), none alone.
   */
  @Test
  void typedAnswersOfABurstComeInOneUpcall() throws Exception {
    try (Session session = Session.open(sim.demo())) {
      Global global = session.global();
      assertNotNull(global.engineVersion().componentVersion);
      long[] before = Dispatch.runCounts();
      final int chains = 8;
      final int perChain = 200;
      CountDownLatch done = new CountDownLatch(chains);
      AtomicInteger failures = new AtomicInteger();
      for (int c = 0; c < chains; c++) {
        chain(global, perChain, done, failures);
      }
      assertTrue(done.await(Fixtures.PATIENCE.toMillis(), TimeUnit.MILLISECONDS), "every chain ended");
      assertEquals(0, failures.get(), "answers missing or wrong");
      long[] after = Dispatch.runCounts();
      assertEquals(chains * perChain, after[1] - before[1], "answers delivered in runs");
      assertEquals(0, after[2] - before[2], "answers delivered alone");
      assertTrue(after[0] > before[0]);
    }
  }

  @Test
  void aStageMayJoinAnAnswerOfItsOwnBurst() throws Exception {
    // Both calls are issued from one callback (their requests leave together, their answers come in one
    // socket read and one run of callbacks): the first one's stage, on the libqix thread delivering the run,
    // joins the second one's future, whose answer comes later in the same run.
    try (Session session = Session.open(sim.demo())) {
      Global global = session.global();
      QixObject doc = session.openDoc("demo").object();
      QixObject field = doc.getField("Category");
      QixObject cube = doc.createSessionObject(Fixtures.CUBE);
      cube.getLayout();
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<Object> joined = new AtomicReference<>();
      cube.addChangeListener(o -> {
        CompletableFuture<NxEngineVersion> first = global.engineVersionAsync();
        CompletableFuture<NxEngineVersion> second = global.engineVersionAsync();
        first.thenAccept(v -> {
          joined.set(outcome(() -> second.join().componentVersion));
          done.countDown();
        });
      });
      field.call("Select", "[\"Bikes\"]");
      assertTrue(done.await(Fixtures.PATIENCE.toMillis(), TimeUnit.MILLISECONDS), "the stage ended");
      assertEquals(global.engineVersion().componentVersion, joined.get());
    }
  }

  /** What {@code call} returns, or what it throws. */
  private static Object outcome(java.util.concurrent.Callable<Object> call) {
    try {
      return call.call();
    } catch (Throwable t) {
      return t;
    }
  }

  private static void chain(Global global, int left, CountDownLatch done, AtomicInteger failures) {
    if (left == 0) {
      done.countDown();
      return;
    }
    global.engineVersionAsync().whenComplete((v, e) -> {
      if (e != null || v == null || v.componentVersion == null) {
        failures.incrementAndGet();
      }
      chain(global, left - 1, done, failures);
    });
  }

  /**
   * The results of a run share one text and each is decoded where it lies in it (ResultDecoder's range form):
   * a burst of calls of every shape of result, each answer different, comes back each with its own value; a
   * decoder of the whole text (a program's own, the range form's default) gets its result alone.
   */
  @Test
  void eachResultOfARunIsDecodedFromItsOwnPartOfTheText() throws Exception {
    ResultDecoder<String> whole = (result, object) -> result;
    assertEquals("bc", whole.decode("abcd", 1, 3, null), "the default range form decodes the substring");
    try (Session session = Session.open(sim.demo())) {
      Global global = session.global();
      Doc doc = global.openDoc("demo");
      String version = global.engineVersion().componentVersion;
      long[] before = Dispatch.runCounts();
      final int n = 60;
      List<CompletableFuture<String>> sums = new ArrayList<>();
      List<CompletableFuture<FieldValue>> values = new ArrayList<>();
      List<CompletableFuture<?>> others = new ArrayList<>();
      CompletableFuture<NxEngineVersion> engine = null;
      CompletableFuture<Boolean> desktop = null;
      CompletableFuture<List<DocListEntry>> docs = null;
      CompletableFuture<GetTablesAndKeysResult> tables = null;
      CompletableFuture<String> raw = null;
      for (int i = 0; i < n; i++) {
        sums.add(doc.evaluateAsync(i + "*7"));
        values.add(doc.evaluateExAsync(i + "+0.5"));
        if (i == n / 2) {
          engine = global.engineVersionAsync();
          desktop = global.isDesktopModeAsync();
          docs = global.getDocListAsync();
          tables = doc.getTablesAndKeysAsync(new Size().cx(0).cy(0), new Size().cx(0).cy(0), 0, false, false);
          raw = global.object().callAsync("EngineVersion", "{}", CallOptions.DEFAULT, whole);
        }
      }
      for (int i = 0; i < n; i++) {
        assertEquals(String.valueOf(i * 7), sums.get(i).get(Fixtures.PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(i + 0.5, values.get(i).join().number);
      }
      assertEquals(version, engine.join().componentVersion);
      assertFalse(desktop.join());
      assertTrue(docs.join().stream().anyMatch(d -> "demo".equals(d.docId)));
      assertTrue(tables.join().tr.stream().anyMatch(t -> "Orders".equals(t.name)));
      assertEquals("{\"qVersion\":{\"qComponentVersion\":\"" + version + "\"}}", raw.join().replace(" ", ""));
      long[] after = Dispatch.runCounts();
      assertTrue(after[1] - before[1] >= 2 * n + 5, "the answers came in runs");
      assertTrue(after[1] - before[1] > after[0] - before[0], "some runs held several answers");
    }
  }

  @Test
  void createSessionAppGivesATypedDocAndItsId() {
    try (Session session = Session.open(sim.demo())) {
      CreateSessionAppResult r = session.global().createSessionApp();
      assertNotNull(r.object);
      assertEquals("Doc", r.object.type());
      assertFalse(r.sessionAppId.isEmpty());
      assertEquals("2", r.object.evaluate("1+1"));
    }
  }

  @Test
  void propertiesRoundTripKeepsUnknownMembers() {
    try (Session session = Session.open(sim.demo())) {
      Doc doc = session.global().openDoc("demo");
      GenericObjectProperties created = cube("round-trip");
      created.extra.put("custom", RawJson.of("{\"color\":\"red\",\"n\":[1,2]}"));
      GenericObject cube = doc.createSessionObject(created);

      GenericObjectProperties p = cube.getProperties();
      assertEquals("{\"color\":\"red\",\"n\":[1,2]}", p.extra.get("custom").text());
      p.hyperCubeDef.initialDataFetch.get(0).height = 2; // change one known member
      cube.setProperties(p);

      GenericObjectProperties again = cube.getProperties();
      assertEquals("{\"color\":\"red\",\"n\":[1,2]}", again.extra.get("custom").text(), "kept");
      assertEquals(2, again.hyperCubeDef.initialDataFetch.get(0).height);
      assertEquals(p.extra.keySet(), again.extra.keySet());
      assertEquals(2, cube.getLayout().hyperCube.dataPages.get(0).area.height);
      System.out.println("round trip: " + again.extra.keySet().stream().collect(Collectors.joining(",")));
    }
  }
}
