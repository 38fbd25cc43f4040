"""The Java emitter: the typed Engine API of package org.libqix.api (bindings/java/src/main/java/org/libqix/api),
on top of org.libqix.QixObject. One file per public class, as Java wants:

- the 9 classes (Global, Doc, GenericObject ...), each `final class X extends ApiObject` (hand-written: the
  wrapped QixObject, its events and lifetime), with every method of its class;
- every schema type: a struct is a final class with public fields and package-private codec methods
  (static read(JsonReader), static write(JsonWriter, T); public fromJson/toJson); an enum a final class
  wrapping the symbol, with constants; an alias is not a class (NxCellRows is List<NxCell>, Blob is String);
  a json type is RawJson;
- the `<Method>Result` types;
- ApiManifest: every method as "Class.Method", for the count test.

Java rules on top of model.py's (docs/java.md, "Typed API", tells users):
- Struct members are boxed (Boolean, Integer, Long, Double) or references: null is absent, not sent.
  Open structs keep unknown members in `extra` (an ordered map of RawJson) and write them back after the
  known ones; members named by additionalProperties (GenericObjectProperties.qHyperCubeDef ...) are fields.
- Methods: `name(...)` blocks and returns the value, `nameAsync(...)` returns a CompletableFuture (its
  cancellation cancels the call). Optional parameters: overloads; the shorter ones leave the others out
  (not sent: the engine applies its own defaults, which the Javadoc names); null means left out too.
- Results: void; object -> the typed class or null; value -> the value (a primitive when blocking, zero when
  the engine leaves it out); struct -> `<Method>Result`.
No reflection anywhere: the codecs are generated code over a hand-written streaming reader and writer.
"""

import json
import re

from .model import header_comment, camel, pascal, CLASSES

PKG = "org.libqix.api"
DIR = "bindings/java/src/main/java/org/libqix/api"
DOC_URL = "https://qlik.dev/apis/json-rpc/qix/"
KEYWORDS = set("""abstract assert boolean break byte case catch char class const continue default do double else
enum extends final finally float for goto if implements import instanceof int interface long native new package
private protected public return short static strictfp super switch synchronized this throw throws transient try
void volatile while true false null var record yield sealed permits""".split())
# Names a generated type must not take: java.lang classes the generated code uses, the imports, hand-written ones.
TAKEN_TYPES = {"String", "Boolean", "Integer", "Long", "Double", "Object", "Override", "SuppressWarnings",
               "Deprecated", "Void", "List", "Map", "LinkedHashMap", "Objects", "CompletableFuture", "QixObject",
               "ResultDecoder", "CallOptions", "LayoutListener", "QixException", "LayoutWatcher", "ApiObject", "JsonReader", "JsonWriter", "RawJson", "ApiManifest"}
# Members of ApiObject (and Object) a generated method must not hide.
TAKEN_METHODS = {"object", "options", "withOptions", "watchLayout", "session", "handle", "type", "genericId", "genericType", "isValid", "isClosed", "call",
                 "callAsync", "addChangeListener", "removeChangeListener", "addCloseListener",
                 "removeCloseListener", "watch", "unwatch", "close", "toString", "equals", "hashCode", "of",
                 "getClass", "notify", "notifyAll", "wait"}
SCALARS = {"bool": ("Boolean", "boolean", "readBoolean", "false"), "int32": ("Integer", "int", "readInt", "0"),
           "int64": ("Long", "long", "readLong", "0L"), "float64": ("Double", "double", "readDouble", "0.0"),
           "string": ("String", "String", "readString", None)}


def ident(name):
    """A Java identifier: a keyword gets "Value" appended (qReturn -> returnValue, qClass -> classValue)."""
    return name + "Value" if name in KEYWORDS else name


def doc_text(s):
    """Text for a Javadoc comment: no comment end, no HTML specials."""
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*/", "*&#47;")
            .replace("@", "&#64;"))


def jlit(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def java_str(s):
    return json.dumps(s, ensure_ascii=True)  # a JSON string literal is a valid Java string literal here


def upper_snake(name):
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        return name
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"[^A-Za-z0-9_]", "_", s).upper()
    return s if re.match(r"[A-Z]", s) else "V_" + s


class Emitter:
    def __init__(self, model):
        self.m = model
        self.files = {}
        self.type_names = set()
        for name in list(model.types) + [r.result_type for r in model.result_types()] + CLASSES:
            if name in TAKEN_TYPES or name in self.type_names:
                raise SystemExit(f"qixgen java: type name {name} is taken")
            self.type_names.add(name)

    # ---- types ------------------------------------------------------------------------------------------
    def kind(self, ref):
        ref = self.m.resolve(ref)
        if ref.kind == "ref":
            if ref.name in CLASSES:
                return "class"
            return self.m.types[ref.name].kind  # struct | enum | json
        return ref.kind

    def jtype(self, ref, prim=False):
        """The Java type of a TypeRef: boxed (members, lists, futures), or primitive for signatures."""
        ref = self.m.resolve(ref)
        k = self.kind(ref)
        if k in SCALARS:
            return SCALARS[k][1] if prim else SCALARS[k][0]
        if k == "array":
            return f"List<{self.jtype(ref.item)}>"
        if k == "json":
            return "RawJson"
        return ref.name

    def spec_type(self, ref):
        """The spec's type, for documentation: {@link X} for named types."""
        k = self.kind(ref)
        if ref.kind == "ref" and k in ("struct", "enum", "class"):
            return "{@link " + ref.name + "}"
        if ref.kind == "ref":
            return "{@code " + ref.name + "}"
        if ref.kind == "array":
            return "array of " + self.spec_type(ref.item)
        return {"bool": "boolean", "int32": "int32", "int64": "int64", "float64": "float64 (NaN, Infinity as strings)",
                "string": "string", "json": "any JSON"}[ref.kind]

    def read_fn(self, ref, depth=1):
        """A Function<JsonReader, T> expression."""
        ref = self.m.resolve(ref)
        k = self.kind(ref)
        if k in SCALARS:
            return "JsonReader::" + SCALARS[k][2]
        if k == "json":
            return "JsonReader::readRaw"
        if k == "array":
            v = f"r{depth}"
            return f"{v} -> {v}.readList({self.read_fn(ref.item, depth + 1)})"
        return f"{ref.name}::read"

    def read_expr(self, ref, r="r"):
        ref = self.m.resolve(ref)
        k = self.kind(ref)
        if k in SCALARS:
            return f"{r}.{SCALARS[k][2]}()"
        if k == "json":
            return f"{r}.readRaw()"
        if k == "array":
            return f"{r}.readList({self.read_fn(ref.item)})"
        return f"{ref.name}.read({r})"

    def write_fn(self, ref, depth=1):
        """A BiConsumer<JsonWriter, T> expression."""
        ref = self.m.resolve(ref)
        k = self.kind(ref)
        w, x = f"w{depth}", f"x{depth}"
        if k in SCALARS:
            return f"({w}, {x}) -> {w}.value({x})"
        if k == "json":
            return f"({w}, {x}) -> {w}.raw({x})"
        if k == "array":
            return f"({w}, {x}) -> {w}.list({x}, {self.write_fn(ref.item, depth + 1)})"
        return f"{ref.name}::write"

    def write_stmt(self, ref, v, w="w"):
        """A statement writing value expression v (after the member name)."""
        ref = self.m.resolve(ref)
        k = self.kind(ref)
        if k in SCALARS:
            return f"{w}.value({v});"
        if k == "json":
            return f"{w}.raw({v});"
        if k == "array":
            return f"{w}.list({v}, {self.write_fn(ref.item)});"
        return f"{ref.name}.write({w}, {v});"

    def imports(self, body, extra=()):
        text = "\n".join(body)
        imps = set(extra)
        if re.search(r"\bList<", text):
            imps.add("java.util.List")
        if re.search(r"\bMap[<.]", text):
            imps.add("java.util.Map")
        if "LinkedHashMap" in text:
            imps.add("java.util.LinkedHashMap")
        if "Objects." in text:
            imps.add("java.util.Objects")
        if "CompletableFuture" in text:
            imps.add("java.util.concurrent.CompletableFuture")
        if re.search(r"\bQixObject\b", text):
            imps.add("org.libqix.QixObject")
        if re.search(r"\bCallOptions\b", text):
            imps.add("org.libqix.CallOptions")
        if "LayoutListener" in text:
            imps.add("org.libqix.LayoutListener")
        if re.search(r"\bQixException\b", text):
            imps.add("org.libqix.QixException")
        if "ResultDecoder" in text:
            imps.add("org.libqix.ResultDecoder")
        return [f"import {i};" for i in sorted(imps)]

    def file(self, name, body, extra_imports=()):
        head = header_comment(self.m, "scripts/gen-api") + ["", f"package {PKG};", ""]
        imps = self.imports(body, extra_imports)
        if imps:
            head += imps + [""]
        self.files[f"{DIR}/{name}.java"] = "\n".join(head + body) + "\n"

    def fields_of(self, fields, where):
        names = {}
        for f in fields:
            n = ident(camel(f.wire)) if f.name != "Object" else "object"
            if n in names or n in ("extra",):
                raise SystemExit(f"qixgen java: member name {n} twice in {where}")
            names[n] = f
        return list(names.items())

    def struct(self, t):
        fields = self.fields_of(t.fields + t.named_extras, t.name)
        b = ["/**", f" * The Engine API type {{@code {t.name}}}: a struct with public fields, each null when absent",
             " * (a null member is not sent), and a fluent setter per field ({@code new NxInfo().id(\"a\").type(\"b\")})."]
        if t.open:
            b.append(" * <p><b>Open:</b> members this version does not know are kept in {@link #extra}, in order, and")
            b.append(" * written back after the known ones.")
        if t.named_extras:
            b.append(" * The members the specification names as additional properties ({@code "
                     + t.named_extras[0].wire + "} ...) are typed fields.")
        b += [" *", f" * @see <a href=\"{DOC_URL}\">Qlik's Engine API reference</a>"]
        if t.deprecated:
            b.append(" * @deprecated deprecated in the specification")
        b.append(" */")
        if t.deprecated:
            b.append("@Deprecated")
        b += ["@SuppressWarnings(\"deprecation\")", f"public final class {t.name} {{"]
        for n, f in fields:
            d = f"{{@code {f.wire}}}: {self.spec_type(f.type)}"
            if f.has_default:
                d += f"; the specification's default: {{@code {doc_text(jlit(f.default))}}}"
            b += [f"  /** {d}. */", f"  public {self.jtype(f.type)} {n};", ""]
        for n, f in fields:
            if n in ("toJson", "fromJson", "read", "write", "extra", "wait", "notify", "notifyAll", "getClass"):
                raise SystemExit(f"qixgen java: {t.name}.{n} cannot have a setter")
            b.append(f"  /** Sets {{@link #{n}}}; returns this. */")
            b.append(f"  public {t.name} {n}({self.jtype(f.type, prim=True)} v) {{ this.{n} = v; return this; }}")
            b.append("")
        if t.open:
            b += ["  /** The members this version does not know, in the order read, as JSON text; written back. */",
                  "  public final Map<String, RawJson> extra = new LinkedHashMap<>();", ""]
        b += self.codec_methods(t.name)
        b += [f"  static {t.name} read(JsonReader r) {{",
              "    if (!r.objectOrSkip()) {", "      return null;", "    }",
              f"    {t.name} o = new {t.name}();", "    r.beginObject();", "    while (r.hasNext()) {",
              "      String n = r.nextName();", "      switch (n) {"]
        for n, f in fields:
            b.append(f"        case {java_str(f.wire)}: o.{n} = {self.read_expr(f.type)}; break;")
        b.append("        default: " + ("o.extra.put(n, r.readRaw());" if t.open else "r.skipValue();"))
        b += ["      }", "    }", "    r.endObject();", "    return o;", "  }", "",
              f"  static void write(JsonWriter w, {t.name} o) {{",
              "    if (o == null) {", "      w.nullValue();", "      return;", "    }", "    w.beginObject();"]
        for n, f in fields:
            b.append(f"    if (o.{n} != null) {{ {self.write_stmt(f.type, 'o.' + n, f'w.name({java_str(f.wire)})')} }}")
        if t.open:
            b += ["    for (Map.Entry<String, RawJson> e : o.extra.entrySet()) {",
                  "      w.name(e.getKey()).raw(e.getValue());", "    }"]
        b += ["    w.endObject();", "  }", "}"]
        self.file(t.name, b)

    @staticmethod
    def codec_methods(name):
        return [f"  /** Decodes one JSON object (null for null). */",
                f"  public static {name} fromJson(String json) {{",
                f"    return read(new JsonReader(Objects.requireNonNull(json, \"json\")));", "  }", "",
                "  /** This value as JSON text, with the specification's member names. */",
                "  public String toJson() {", "    JsonWriter w = new JsonWriter();", "    write(w, this);",
                "    return w.toString();", "  }", "", "  @Override", "  public String toString() {",
                "    return toJson();", "  }", ""]

    def enum(self, t):
        consts, seen = [], set()
        for sym, ordinal, long_name in t.symbols:
            c = upper_snake(long_name or sym)
            if c in seen or c in ("KNOWN",):
                raise SystemExit(f"qixgen java: enum constant {t.name}.{c} twice")
            seen.add(c)
            consts.append((c, sym, ordinal, long_name))
        b = ["/**", f" * The Engine API enumeration {{@code {t.name}}}: the symbols the engine sends and accepts",
             " * (constants below). A symbol this version does not know is kept ({@link #of}, {@link #isKnown}).",
             " *", f" * @see <a href=\"{DOC_URL}\">Qlik's Engine API reference</a>"]
        if t.deprecated:
            b.append(" * @deprecated deprecated in the specification")
        b.append(" */")
        if t.deprecated:
            b.append("@Deprecated")
        b += [f"public final class {t.name} {{"]
        for c, sym, ordinal, long_name in consts:
            extra = f" ({doc_text(long_name)}, {ordinal})" if long_name else f" ({ordinal})"
            b += [f"  /** {{@code {doc_text(sym)}}}{extra}. */",
                  f"  public static final {t.name} {c} = new {t.name}({java_str(sym)});", ""]
        b += [f"  private static final {t.name}[] KNOWN = {{{', '.join(c for c, *_ in consts)}}};", "",
              "  private final String symbol;", "", f"  private {t.name}(String symbol) {{",
              "    this.symbol = symbol;", "  }", "",
              "  /** The constant of {@code symbol}, or a new value for a symbol this version does not know. */",
              f"  public static {t.name} of(String symbol) {{", "    Objects.requireNonNull(symbol, \"symbol\");",
              f"    for ({t.name} k : KNOWN) {{", "      if (k.symbol.equals(symbol)) {", "        return k;",
              "      }", "    }", f"    return new {t.name}(symbol);", "  }", "",
              "  /** The symbol, as the engine sends it. */", "  public String symbol() {", "    return symbol;",
              "  }", "", "  /** True for a symbol of the specification. */", "  public boolean isKnown() {",
              f"    for ({t.name} k : KNOWN) {{", "      if (k.symbol.equals(symbol)) {", "        return true;",
              "      }", "    }", "    return false;", "  }", "", "  @Override",
              "  public boolean equals(Object o) {",
              f"    return o instanceof {t.name} && (({t.name}) o).symbol.equals(symbol);", "  }", "",
              "  @Override", "  public int hashCode() {", "    return symbol.hashCode();", "  }", "",
              "  @Override", "  public String toString() {", "    return symbol;", "  }", "",
              f"  static {t.name} read(JsonReader r) {{", "    String s = r.readString();",
              "    return s == null ? null : of(s);", "  }", "",
              f"  static void write(JsonWriter w, {t.name} v) {{", "    w.value(v == null ? null : v.symbol);",
              "  }", "}"]
        self.file(t.name, b)

    def result_type(self, m):
        name = m.result_type
        fields = self.fields_of(m.result_fields, name)
        users = [x.full for x in self.m.methods() if x.result_type == name]
        b = ["/**", f" * The result of {', '.join('{@code ' + u + '}' for u in users)}: one field per out value.",
             " *", f" * @see <a href=\"{DOC_URL}\">Qlik's Engine API reference</a>", " */",
             "@SuppressWarnings(\"deprecation\")", f"public final class {name} {{"]
        for n, f in fields:
            if f.name == "Object":
                b += [f"  /** The object ({{@code qReturn}}), null when the engine found none. */",
                      f"  public {f.type.name} object;", ""]
            else:
                b += [f"  /** {{@code {f.wire}}}: {self.spec_type(f.type)}. */", f"  public {self.jtype(f.type)} {n};",
                      ""]
        b += [f"  static {name} decode(String text, int from, int to, QixObject object) {{", f"    {name} o = new {name}();"]
        obj = [f for n, f in fields if f.name == "Object"]
        if obj:
            b.append(f"    o.object = object == null ? null : new {obj[0].type.name}(object);")
        b += ["    JsonReader r = new JsonReader(text, from, to);", "    if (!r.objectOrSkip()) {", "      return o;", "    }",
              "    r.beginObject();", "    while (r.hasNext()) {", "      switch (r.nextName()) {"]
        for n, f in fields:
            if f.name != "Object":
                b.append(f"        case {java_str(f.wire)}: o.{n} = {self.read_expr(f.type)}; break;")
        b += ["        default: r.skipValue();", "      }", "    }", "    r.endObject();", "    return o;", "  }", "}"]
        self.file(name, b)

    # ---- classes ----------------------------------------------------------------------------------------
    def result_java(self, m, prim):
        if m.result == "void":
            return "void" if prim else "Void"
        if m.result == "object":
            return m.returns
        if m.result == "struct":
            return m.result_type
        return self.jtype(m.value.type, prim)

    def decoder(self, m):
        """What JsonReader.decoder makes the method's ResultDecoder of: it reads the result where it lies in the
        text delivered (JsonReader.InPlace)."""
        if m.result == "void":
            return "(text, from, to, object) -> null"
        if m.result == "object":
            return f"(text, from, to, object) -> object == null ? null : new {m.returns}(object)"
        if m.result == "struct":
            return f"{m.result_type}::decode"
        k = self.kind(m.value.type)
        if k in SCALARS and SCALARS[k][3] is not None:
            return (f"(text, from, to, object) -> JsonReader.memberOr(text, from, to, {java_str(m.value.wire)}, "
                    f"{self.read_fn(m.value.type)}, {SCALARS[k][3]})")
        return (f"(text, from, to, object) -> JsonReader.member(text, from, to, {java_str(m.value.wire)}, "
                f"{self.read_fn(m.value.type)})")

    def result_doc(self, m):
        if m.result == "object":
            return f"the {{@link {m.returns}}}, or null when the engine found none"
        if m.result == "struct":
            return "{@code " + "}, {@code ".join(f.wire for f in m.result_fields) + f"}} ({{@link {m.result_type}}})"
        if m.result == "value":
            k = self.kind(m.value.type)
            zero = " (its zero value when the engine leaves it out)" if k in SCALARS and k != "string" else ""
            return f"{{@code {m.value.wire}}}: {self.spec_type(m.value.type)}{zero}"
        return None

    def method(self, cls, m):
        jname = camel(m.name)
        if jname in TAKEN_METHODS or jname in KEYWORDS:
            raise SystemExit(f"qixgen java: method name {jname} ({m.full}) is taken")
        const = "D_" + upper_snake(m.name)
        names = []
        for p in m.params:
            n = ident(camel(p.wire))
            if n in names or n in ("w",):
                raise SystemExit(f"qixgen java: parameter {n} of {m.full} twice or taken")
            names.append(n)
        params = list(zip(names, m.params))
        required = [(n, p) for n, p in params if p.required]
        optional = [(n, p) for n, p in params if not p.required]
        b = [f"  private static final ResultDecoder<{self.result_java(m, False)}> {const} = JsonReader.decoder(",
             f"      {self.decoder(m)});", ""]
        builder = None
        if params:
            builder = jname + "Params"
            sig = ", ".join(f"{self.jtype(p.type, prim=p.required)} {n}" for n, p in params)
            b += [f"  private static String {builder}({sig}) {{", "    JsonWriter w = new JsonWriter().beginObject();"]
            for n, p in params:
                wn = f"w.name({java_str(p.wire)})"
                if p.required:
                    b.append(f"    {self.write_stmt(p.type, n, wn)}")
                else:  # left out when not given: the engine applies its own default
                    b.append(f"    if ({n} != null) {{ {self.write_stmt(p.type, n, wn)} }}")
            b += ["    return w.endObject().toString();", "  }", ""]
        for k in range(len(optional) + 1):
            given = required + optional[:k]
            left = optional[k:]
            sig = ", ".join(f"{self.jtype(p.type, prim=True)} {n}" for n, p in given)
            if builder:
                args = [n for n, _ in given] + ["null"] * len(left)
                pexpr = f"{builder}({', '.join(args)})"
            else:
                pexpr = '"{}"'
            call = f"object().call({java_str(m.name)}, {pexpr}, options(), {const})"
            acall = f"object().callAsync({java_str(m.name)}, {pexpr}, options(), {const})"
            b += self.sync_doc(m, jname, given, left)
            rt = self.result_java(m, True)
            b += [f"  public {rt} {jname}({sig}) {{", f"    {'' if rt == 'void' else 'return '}{call};", "  }", ""]
            link = f"#{jname}({', '.join(re.sub(r'<.*>', '', self.jtype(p.type, prim=True)) for _, p in given)})"
            b += [f"  /**", f"   * {{@code {m.full}}}, asynchronous: {{@link {link}}} as a future, which completes",
                  "   * exceptionally with a {@link org.libqix.QixException}; cancelling it cancels the call."]
            if m.deprecated:
                b += ["   *", "   * @deprecated deprecated in the specification"]
            b.append("   */")
            if m.deprecated:
                b.append("  @Deprecated")
            b += [f"  public CompletableFuture<{self.result_java(m, False)}> {jname}Async({sig}) {{",
                  f"    return {acall};", "  }", ""]
        return b

    def sync_doc(self, m, jname, given, left):
        doc = ["  /**", f"   * {{@code {m.full}}}, blocking ({{@code {jname}Async}}: the same, asynchronous)."]
        if left:
            doc.append("   * The parameters left out are not sent, so the engine applies its defaults: " + ", ".join(
                f"{{@code {p.wire}}}" + (" = {@code " + doc_text(jlit(p.default)) + "}" if p.default is not None
                                         else "") for _, p in left) + ".")
        if m.stability not in ("", "locked"):
            doc.append(f"   * Stability in the specification: {doc_text(m.stability)}.")
        doc.append("   *")
        for n, p in given:
            extra = ""
            if not p.required:
                extra = ("; optional, not sent when null (the engine's default: {@code "
                         + doc_text(jlit(p.default)) + "})" if p.default is not None else "; optional, not sent when null")
            doc.append(f"   * @param {n} {{@code {p.wire}}}: {self.spec_type(p.type)}{extra}")
        rd = self.result_doc(m)
        if rd:
            doc.append(f"   * @return {rd}")
        doc += ["   * @throws org.libqix.QixException an engine error (code ENGINE, with its LOCERR name), CLOSED, "
                "TIMEOUT ...", f"   * @see <a href=\"{DOC_URL}\">Qlik's Engine API reference</a>"]
        if m.deprecated:
            doc.append("   * @deprecated deprecated in the specification")
        doc.append("   */")
        if m.deprecated:
            doc.append("  @Deprecated")
        return doc

    def watch_layout(self, name, methods):
        """watchLayout(LayoutWatcher) for the classes whose layout libqix watches (GetLayout; GetAppLayout on Doc)."""
        getter = [m for m in methods if m.name in ("GetLayout", "GetAppLayout") and m.result == "value"]
        if not getter:
            return []
        lt = self.jtype(getter[0].value.type)
        return [f"  /**", f"   * Keeps the layout fresh ({{@code {getter[0].name}}} now, unless current, and after each change) and",
                f"   * delivers each one decoded; see {{@link org.libqix.QixObject#watch}} (one watch per handle).", "   */",
                f"  public void watchLayout(LayoutWatcher<{name}, {lt}> watcher) {{",
                "    Objects.requireNonNull(watcher, \"watcher\");",
                "    object().watch(new LayoutListener() {", "      @Override",
                "      public void onLayout(QixObject o, String layoutJson) {",
                f"        watcher.onLayout({name}.this, {lt}.fromJson(layoutJson));", "      }", "", "      @Override",
                "      public void onError(QixObject o, QixException error) {",
                f"        watcher.onError({name}.this, error);", "      }", "    });", "  }", ""]

    def cls(self, name):
        methods = self.m.classes[name]
        b = ["/**", f" * The Engine API class {{@code {name}}}, typed: its {len(methods)} methods of the specification, each",
             " * blocking ({@code name(...)}) and asynchronous ({@code nameAsync(...)}), optional parameters as",
             " * overloads. Events, lifetime and generic calls: {@link ApiObject}.",
             " *", f" * @see <a href=\"{DOC_URL}\">Qlik's Engine API reference</a>", " */",
             "@SuppressWarnings(\"deprecation\")", f"public final class {name} extends ApiObject {{",
             f"  {name}(QixObject object) {{", "    super(object, CallOptions.DEFAULT);", "  }", "",
             f"  private {name}(QixObject object, CallOptions options) {{", "    super(object, options);", "  }", "",
             f"  /** The same handle, its typed calls made with {{@code options}} (delta, timeout). */",
             f"  public {name} withOptions(CallOptions options) {{", f"    return new {name}(object(), options);",
             "  }", "",
             f"  /** {{@code object}} as a {name} (not checked: the engine answers a method of another class with an",
             "   * error). */", f"  public static {name} of(QixObject object) {{", f"    return new {name}(object);",
             "  }", ""]
        b += self.watch_layout(name, methods)
        for m in methods:
            b += self.method(name, m)
        if b[-1] == "":
            b.pop()
        b.append("}")
        self.file(name, b)

    def manifest(self):
        ms = list(self.m.methods())
        b = ["/** Every method of the typed API, as {@code Class.Method} in specification order (for tests). */",
             "public final class ApiManifest {", "  private ApiManifest() {}", "",
             f"  /** The specification's version ({self.m.version}). */",
             f"  public static final String SPEC_VERSION = {java_str(self.m.version)};", "",
             f"  /** The {len(ms)} methods. */", "  public static final List<String> METHODS = List.of("]
        for i, m in enumerate(ms):
            b.append(f"      {java_str(m.full)}{',' if i < len(ms) - 1 else ');'}")
        b.append("}")
        self.file("ApiManifest", b)

    def run(self):
        for t in self.m.types.values():
            if t.kind == "struct":
                self.struct(t)
            elif t.kind == "enum":
                self.enum(t)
        for m in self.m.result_types():
            self.result_type(m)
        for c in CLASSES:
            self.cls(c)
        self.manifest()
        return self.files


def outputs(model):
    return Emitter(model).run()
