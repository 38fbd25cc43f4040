"""The C++ emitter: include/qix/api_types.hpp (the 333 schema types with their JSON codecs) and
include/qix/api.hpp (the 9 typed classes over qix::Object, the result types, qix::api::Session and the
manifest of methods). Header-only C++17 on top of the hand-written qix/api_base.hpp and qix/json.hpp.

Mapping: struct -> struct with std::optional members (absent stays absent) and, when open, a json::object
`extra` of unknown members; enum -> a struct deriving from qix::api::Enum (the symbol, any symbol) with
constants for the known symbols; alias -> `using`; json -> json::value. Methods: snake_case, a blocking form
and an `_async` form returning std::future; optional parameters are std::optional default arguments
(std::nullopt: not sent, the engine applies its default, which the doc comment names); methods returning an
object return the typed class, empty (false) when not found.
"""

import json

from .model import CLASSES, header_comment, snake

TYPES_PATH = "include/qix/api_types.hpp"
API_PATH = "include/qix/api.hpp"
DOCS = "https://qlik.dev/apis/json-rpc/qix"

KEYWORDS = set("""alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield
decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if
inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public
register reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch
template this thread_local throw true try typedef typeid typename union unsigned using virtual void volatile
wchar_t while xor xor_eq""".split())
# Names qix::Object already uses (a typed method must not hide them).
OBJECT_MEMBERS = {"empty", "handle", "type", "generic_id", "generic_type", "valid", "closed", "layout", "call",
                  "call_async", "call_future", "add_listener", "remove_listener", "watch", "unwatch", "c_handle"}
SCALARS = {"bool": "bool", "int32": "std::int32_t", "int64": "std::int64_t", "float64": "double",
           "string": "std::string", "json": "json::value"}


def ident(name):
    n = snake(name)
    if n in KEYWORDS:
        n += "_"
    if n[0].isdigit():
        n = "n" + n
    return n


def cpp_str(s):
    """A C++ string literal (UTF-8 bytes outside ASCII escaped in octal)."""
    out = ['"']
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    out.append('"')
    return "".join(out)


def ctype(ref):
    if ref.kind == "array":
        return f"std::vector<{ctype(ref.item)}>"
    if ref.kind == "ref":
        return ref.name
    return SCALARS[ref.kind]


def jtext(v):
    return json.dumps(v, separators=(",", ":"))


class Emitter:
    def __init__(self, model):
        self.m = model

    # ---- helpers -------------------------------------------------------------------------------------
    def describe(self, ref):
        """A type as the doc comments name it: int32, string, NxRange, array of NxCell."""
        if ref.kind == "array":
            return f"array of {self.describe(ref.item)}"
        return ref.name if ref.kind == "ref" else ref.kind

    def base(self, ref):
        return self.m.resolve(ref)

    def kind_of(self, ref):
        r = self.base(ref)
        if r.kind == "ref":
            return self.m.types[r.name].kind
        return r.kind

    def scalar(self, ref):
        r = self.base(ref)
        return r.kind in ("bool", "int32", "int64", "float64")

    def param_type(self, p):
        """(C++ parameter type, default expression or None, doc text of the default)."""
        t = ctype(p.type)
        if p.required:
            return (t if self.scalar(p.type) else f"const {t}&"), None, None
        # Optional: std::nullopt leaves it out of the request, and the engine applies its own default.
        doc = "null" if p.default is None else jtext(p.default)
        return f"const std::optional<{t}>&", "std::nullopt", f"not sent (the engine's default: {doc})"

    def param_value(self, p):
        """The argument as encoded; an optional one not given is left out."""
        name = ident(p.name)
        if not p.required:
            return f"detail::encode_given({name})"
        return f"detail::encode({name})"

    # ---- api_types.hpp -------------------------------------------------------------------------------
    def struct_order(self):
        """Structs so that each one's direct (non-array) members are complete before it; array members only
        need a forward declaration but are put first too where no cycle forbids it."""
        order, state = [], {}

        def visit(name):
            if state.get(name) == 2 or state.get(name) == 1:
                return
            state[name] = 1
            t = self.m.types[name]
            for f in t.fields + t.named_extras:
                r = self.base(f.type)
                while r.kind == "array":
                    r = self.base(r.item)
                if r.kind == "ref" and self.m.types[r.name].kind == "struct":
                    visit(r.name)
            state[name] = 2
            order.append(name)

        for name, t in self.m.types.items():
            if t.kind == "struct":
                visit(name)
        return order

    def check_direct_cycles(self):
        for name, t in self.m.types.items():
            if t.kind != "struct":
                continue
            seen, todo = set(), [name]
            while todo:
                n = todo.pop()
                for f in self.m.types[n].fields + self.m.types[n].named_extras:
                    r = self.base(f.type)
                    if r.kind == "ref" and self.m.types[r.name].kind == "struct":
                        if r.name == name:
                            raise SystemExit(f"qixgen cpp: {name} contains itself (not through an array)")
                        if r.name not in seen:
                            seen.add(r.name)
                            todo.append(r.name)

    def struct_fields(self, t):
        fields = t.fields + [f for f in t.named_extras if f.wire not in {g.wire for g in t.fields}]
        names = [ident(f.name) for f in fields]
        if len(set(names)) != len(names) or (t.open and "extra" in names):
            raise SystemExit(f"qixgen cpp: member names of {t.name} collide: {names}")
        return list(zip(fields, names))

    def field_doc(self, f):
        extra = f", default {jtext(f.default)}" if f.has_default else ""
        return f"/** {f.wire} ({self.describe(f.type)}{extra}). */"

    def emit_types(self):
        m = self.m
        self.check_direct_cycles()
        out = header_comment(m, "scripts/gen-api") + [
            "//",
            "// The Engine API's schema types for the typed C++ API (qix/api.hpp) with their JSON codecs:",
            "// from_json(const json::value&, T&) and to_json(const T&). Header-only C++17; docs/cpp.md.",
            "#ifndef QIX_API_TYPES_HPP", "#define QIX_API_TYPES_HPP", "",
            '#include "qix/api_base.hpp"', "",
            "#include <cstdint>", "#include <optional>", "#include <string>", "#include <vector>", "",
            "namespace qix {", "namespace api {", "",
            "// ---- declarations", ""]
        structs = [n for n, t in m.types.items() if t.kind == "struct"]
        for n in structs:
            out.append(f"struct {n};")
        out.append("")
        for n, t in m.types.items():
            if t.kind == "alias":
                out.append(f"/** {n}: {self.describe(t.target)}. {DOCS}/schemas */")
                out.append(f"using {n} = {ctype(t.target)};")
            elif t.kind == "json":
                out.append(f"/** {n}: arbitrary JSON. {DOCS}/schemas */")
                out.append(f"using {n} = json::value;")
        out.append("")
        out.append("// ---- enums (any symbol decodes; the constants are the symbols the specification lists)")
        out.append("")
        for n, t in m.types.items():
            if t.kind != "enum":
                continue
            out.append(f"/** {n}: enum of {len(t.symbols)} symbols{' (deprecated)' if t.deprecated else ''}. "
                       f"{DOCS}/schemas */")
            out.append(f"struct {n} : Enum {{")
            out.append("  using Enum::Enum;")
            seen = set()
            for sym, ordinal, long in t.symbols:
                c = ident(long or sym)
                if c in seen or c in ("value", "numeric"):
                    raise SystemExit(f"qixgen cpp: enum constant {c} of {n} collides")
                seen.add(c)
                out.append(f"  /** {cpp_str(sym)} (ordinal {ordinal}). */")
                out.append(f"  static constexpr const char* {c} = {cpp_str(sym)};")
            out.append("};")
        out.append("")
        out.append("// ---- structs")
        out.append("")
        for n in self.struct_order():
            t = m.types[n]
            tags = []
            if t.open:
                tags.append("open: unknown members are kept in `extra` and written back")
            if t.deprecated:
                tags.append("deprecated")
            out.append(f"/** {n}{' (' + '; '.join(tags) + ')' if tags else ''}. {DOCS}/schemas */")
            out.append(f"struct {n} {{")
            for f, name in self.struct_fields(t):
                out.append(f"  {self.field_doc(f)}")
                out.append(f"  std::optional<{ctype(f.type)}> {name};")
            if t.open:
                out.append("  /** Members this version of the API does not know, in their order. */")
                out.append("  json::object extra;")
            out.append("};")
        out.append("")
        out.append("// ---- codecs (qix::api::to_json and qix::api::from_json<T> use them)")
        out.append("")
        out.append("// Partial specialisations (V is always void): their functions are compiled only when used.")
        out.append("namespace detail {")
        for n in structs:
            out += self.codec(m.types[n])
        out += ["",
                "// QIX_API_EXTERN_CODECS (defined for every translation unit of a program): the codecs are compiled",
                "// once, in the one translation unit that also defines QIX_API_INSTANTIATE_CODECS, not in every one",
                "// that uses them (docs/cpp.md).",
                "#if defined(QIX_API_EXTERN_CODECS) && defined(QIX_API_INSTANTIATE_CODECS)"]
        out += [f"template struct codec<{n}, void>;" for n in structs]
        out += ["#elif defined(QIX_API_EXTERN_CODECS)"]
        out += [f"extern template struct codec<{n}, void>;" for n in structs]
        out += ["#endif",
                "}  // namespace detail", "}  // namespace api", "}  // namespace qix", "", "#endif /* QIX_API_TYPES_HPP */", ""]
        return "\n".join(out)

    def codec(self, t):
        """The codec of a struct: declared in its partial specialisation, defined out of it (not inline, so
        that QIX_API_EXTERN_CODECS can leave their compilation to one translation unit)."""
        fields = self.struct_fields(t)
        n = t.name
        out = ["template <class V>", f"struct codec<{n}, V> {{",
               f"  static void read(const json::value& v, {n}& out);",
               f"  static json::value write(const {n}& in);", "};",
               "template <class V>", f"void codec<{n}, V>::read(const json::value& v, {n}& out) {{"]
        if not fields and not t.open:
            out.append(f'  (void)members(v, "{n}");')
            out.append("  (void)out;")
        else:
            out.append(f'  for (const auto& m : members(v, "{n}")) {{')
            kw = "if"
            for f, name in fields:
                out.append(f'    {kw} (m.first.compare("{f.wire}") == 0) {{')
                out.append(f'      member(m.second, out.{name}, "{n}.{f.wire}");')
                kw = "} else if"
            if t.open:
                out.append("    } else {" if fields else "    {")
                out.append("      out.extra.push_back(m);")
                out.append("    }")
            elif fields:
                out.append("    }")
            out.append("  }")
        out.append("}")
        out.append("template <class V>")
        out.append(f"json::value codec<{n}, V>::write(const {n}& in) {{")
        out.append("  json::object o;")
        for f, name in fields:
            out.append(f'  put(o, "{f.wire}", in.{name});')
        if t.open:
            out.append("  write_extra(o, in.extra);")
        if not fields and not t.open:
            out.append("  (void)in;")
        out.append("  return json::value(std::move(o));")
        out.append("}")
        return out

    # ---- api.hpp -------------------------------------------------------------------------------------
    def result_ctype(self, meth):
        if meth.result == "void":
            return "void"
        if meth.result == "object":
            return meth.returns
        if meth.result == "value":
            return ctype(meth.value.type)
        return meth.result_type

    def decoder(self, meth):
        t = self.result_ctype(meth)
        if meth.result == "void":
            return "detail::decode_void"
        if meth.result == "object":
            return f"detail::decode_object<{t}>"
        if meth.result == "value":
            return f"detail::decode_value<{t}>"
        if any(f.wire == "qReturn" and meth.returns for f in meth.result_fields):
            return f"detail::decode_struct_object<{t}>"
        return f"detail::decode_struct<{t}>"

    def method_doc(self, meth, sig):
        lines = ["  /**", f"   * {meth.full} ({DOCS}/{meth.cls.lower()}, method {meth.name}). Blocking; throws qix::Error."]
        for p, (decl, default, ddoc) in sig:
            opt = f", optional: {ddoc}" if default is not None else ""
            lines.append(f"   * @param {ident(p.name)} {p.wire} ({self.describe(p.type)}{opt})")
        if meth.result == "object":
            lines.append(f"   * @return the {meth.returns} (qReturn), empty (false) when the engine found none")
        elif meth.result == "value":
            lines.append(f"   * @return {meth.value.wire} ({self.describe(meth.value.type)})")
        elif meth.result == "struct":
            lines.append(f"   * @return {meth.result_type}: " + ", ".join(f.wire for f in meth.result_fields))
        if meth.deprecated:
            lines.append("   * @deprecated deprecated in the Engine API specification")
        if meth.stability and meth.stability != "stable":
            lines.append(f"   * @note stability: {meth.stability}")
        lines.append("   */")
        return lines

    def emit_api(self):
        m = self.m
        out = header_comment(m, "scripts/gen-api") + [
            "//",
            "// The typed C++ Engine API: Global, Doc, GenericObject, Field, GenericDimension, GenericBookmark,",
            "// GenericMeasure, GenericVariable and Variable over qix::Object, each with every method of its class",
            "// (blocking, and _async returning std::future), the result types, qix::api::Session and the manifest",
            "// qix::api::methods. Header-only C++17; docs/cpp.md. The generic qix::Object::call stays for",
            "// methods newer than the specification.",
            "#ifndef QIX_API_HPP", "#define QIX_API_HPP", "",
            '#include "qix/api_types.hpp"', "",
            "#include <functional>", "#include <future>", "#include <optional>", "#include <string>", "#include <vector>", "",
            "namespace qix {", "namespace api {", ""]
        for c in CLASSES:
            out.append(f"class {c};")
        for meth in m.result_types():
            out.append(f"struct {meth.result_type};")
        out.append("")
        bodies = []
        for c in CLASSES:
            out.append(f"/** The engine class {c} ({DOCS}/{c.lower()}): a qix::Object (events, watch, the generic")
            out.append(" *  call) with the typed methods of its class. Empty (false) when a method found no object. */")
            out.append(f"class {c} : public qix::Object {{")
            out.append(" public:")
            out.append(f"  {c}() = default;")
            out.append(f"  /** Types @p o (which must be a {c}). */")
            out.append(f"  explicit {c}(qix::Object o) : qix::Object(std::move(o)) {{}}")
            out.append("  /** False when empty (a method that returns objects found none). */")
            out.append("  explicit operator bool() const { return !empty(); }")
            out.append("")
            if c == "GenericObject":
                out += [
                    "  /**",
                    "   * Bulk extraction with typed cells: qix::Object::extract (pipelined GetHyperCubeData pages, rows in",
                    "   * order on the session's event thread, memory bounded by @p window), each row decoded as NxCellRows",
                    "   * before @p on_row(row, index) sees it; @p on_row returns false to stop. The future gives the number",
                    "   * of rows, or throws the qix::Error that ended the extraction (QIX_ECANCELLED after a stop; a row",
                    "   * that does not decode stops it too, reported through set_listener_error_handler()). @p path: e.g.",
                    "   * \"/qHyperCubeDef\".",
                    "   */",
                    "  template <class Lazy = void>  // compiled only when used",
                    "  std::future<int64_t> extract_rows(const std::string& path,",
                    "                                    std::function<bool(const NxCellRows&, int64_t)> on_row,",
                    "                                    int page_height = 0, int window = 0);",
                    "",
                ]
                bodies += [
                    "template <class Lazy>",
                    "inline std::future<int64_t> GenericObject::extract_rows(",
                    "    const std::string& path, std::function<bool(const NxCellRows&, int64_t)> on_row, int page_height,",
                    "    int window) {",
                    "  if (!on_row) throw Error(QIX_EINVAL, \"on_row is empty\");",
                    "  return extract(",
                    "      path,",
                    "      [fn = std::move(on_row)](const std::string& text, int64_t index) {",
                    "        NxCellRows row;",
                    "        try {",
                    "          detail::read(json::parse(text), row);",
                    "        } catch (const json::error& e) {",
                    "          throw Error(QIX_EPROTOCOL, std::string(\"GenericObject.extract_rows: a row does not decode: \") + e.what());",
                    "        }",
                    "        return fn(row, index);",
                    "      },",
                    "      page_height, window);",
                    "}",
                ]
            names = set()
            for meth in m.classes[c]:
                name = ident(meth.name)
                if name in OBJECT_MEMBERS or name in names:
                    raise SystemExit(f"qixgen cpp: {meth.full} as {name} collides")
                names.add(name)
                sig = [(p, self.param_type(p)) for p in meth.params]
                rt = self.result_ctype(meth)
                decl_args = ", ".join(f"{d} {ident(p.name)}" + (f" = {dflt}" if dflt is not None else "")
                                      for p, (d, dflt, _) in sig)
                def_args = ", ".join(f"{d} {ident(p.name)}" for p, (d, _, _) in sig)
                out += self.method_doc(meth, sig)
                out.append("  template <class Lazy = void>  // compiled only when used")
                out.append(f"  {rt} {name}({decl_args});")
                out.append(f"  /** {name}() as a std::future: get() returns its result or throws its qix::Error. */")
                out.append("  template <class Lazy = void>  // compiled only when used")
                out.append(f"  std::future<{rt}> {name}_async({decl_args});")
                params = "detail::params({" + "".join(
                    f'\n      {{"{p.wire}", {self.param_value(p)}}},' for p in meth.params) + "})"
                dec = self.decoder(meth)
                bodies.append("template <class Lazy>")
                bodies.append(f"inline {rt} {c}::{name}({def_args}) {{")
                if meth.result == "void":
                    bodies.append(f'  detail::call_void<Lazy>(*this, "{meth.name}", {params});')
                elif meth.result == "value":
                    bodies.append(f'  return detail::decode_value<{rt}, Lazy>(call("{meth.name}", {params}), "{meth.full}", '
                                  f'"{meth.value.wire}");')
                else:
                    bodies.append(f'  return detail::call_object<Lazy, {rt}>(*this, "{meth.name}", {params},')
                    bodies.append(f'      "{meth.full}", {dec});')
                bodies.append("}")
                bodies.append("template <class Lazy>")
                bodies.append(f"inline std::future<{rt}> {c}::{name}_async({def_args}) {{")
                bodies.append(f'  return detail::call_future<Lazy, {rt}>(*this, "{meth.name}", "{meth.full}", {params},')
                wire = f'"{meth.value.wire}"' if meth.result == "value" else "nullptr"
                bodies.append(f"      {dec}, {wire}{', true' if meth.returns else ''});")
                bodies.append("}")
            out.append("};")
            out.append("")
        out.append("// ---- result types of the methods with several out values")
        out.append("")
        for meth in m.result_types():
            out.append(f"/** The result of {meth.name} (" + ", ".join(f.wire for f in meth.result_fields) + "). */")
            out.append(f"struct {meth.result_type} {{")
            fields = []
            for f in meth.result_fields:
                if meth.returns and f.wire == "qReturn":
                    out.append(f"  /** qReturn: the {meth.returns}, empty (false) when the engine found none. */")
                    out.append(f"  {meth.returns} object;")
                else:
                    out.append(f"  /** {f.wire} ({self.describe(f.type)}). */")
                    out.append(f"  std::optional<{ctype(f.type)}> {ident(f.name)};")
                    fields.append(f)
            out.append("};")
            out.append("namespace detail {")
            out.append("template <class V>")
            out.append(f"struct codec<{meth.result_type}, V> {{")
            out.append(f"  static void read(const json::value& v, {meth.result_type}& out) {{")
            out.append(f'    for (const auto& m : members(v, "{meth.result_type}")) {{')
            kw = "if"
            for f in fields:
                out.append(f'      {kw} (m.first.compare("{f.wire}") == 0) {{')
                out.append(f'        member(m.second, out.{ident(f.name)}, "{meth.result_type}.{f.wire}");')
                kw = "} else if"
            out.append("      }")
            out.append("    }")
            out.append("  }")
            out.append("};")
            out.append("}  // namespace detail")
        out.append("")
        out.append("/** A session whose global() is the typed Global. */")
        out.append("class Session : public qix::Session {")
        out.append(" public:")
        out.append("  using qix::Session::Session;")
        out.append("  /** The typed Global object (a handle of its own, see qix::Session::global()). */")
        out.append("  Global global() { return Global(qix::Session::global()); }")
        out.append("  /** OpenDoc with @p app_id: the typed Doc. */")
        out.append("  Doc open_doc(const std::string& app_id) { return Doc(qix::Session::open_doc(app_id)); }")
        out.append("};")
        out.append("")
        out.append("// ---- the methods")
        out.append("")
        out += bodies
        out.append("")
        n = sum(1 for _ in m.methods())
        out.append(f"/** Every typed method ({n}), in specification order: a manifest for tests and tools. */")
        out.append(f"inline constexpr MethodInfo methods[{n}] = {{")
        for meth in m.methods():
            out.append(f'    {{"{meth.cls}", "{meth.name}"}},')
        out.append("};")
        out += ["", "}  // namespace api", "}  // namespace qix", "", "#endif /* QIX_API_HPP */", ""]
        return "\n".join(out)


def outputs(model):
    e = Emitter(model)
    return {TYPES_PATH: e.emit_types(), API_PATH: e.emit_api()}
