"""The Go emitter: the typed Engine API of package qix (bindings/go/qix), on top of its *Object.

- api_types_generated.go: every schema type (struct, enum, alias, json), the `<Method>Result` types and the
  `<Class><Method>Options` types of the methods with optional parameters.
- api_methods_generated.go: the 9 classes (`type Doc struct{ *Object }` ...) and their methods.
- api_read_generated.go: a readJSON method per struct and result type, which the methods decode results
  with (jsonread.go: the same Go values encoding/json makes, without its reflection; encoding/json still
  decodes what the reader does not know); api_read_generated_test.go lists those types for jsonread_test.go.

Go rules on top of model.py's (docs/go.md, "Typed API", tells users):
- Struct members: a nested struct is a pointer; every member has `omitempty`, except that a bool or number
  member whose spec default is not its zero value is a pointer (nil: not sent, the engine's default), so that
  false/0 can be sent. Open structs keep unknown members in `Extra` (custom MarshalJSON/UnmarshalJSON);
  members named by additionalProperties (GenericObjectProperties.qHyperCubeDef ...) are typed fields.
- Optional parameters: one `*<Class><Method>Options` last argument (nil: all defaults); a member left at its
  zero value is not sent, so the engine applies its default (the model's default, named in the comments).
- Results: void -> error; object -> (*Class, error), nil without error when not found; value -> (T, error);
  struct -> (*<Method>Result, error).
The output is gofmt-clean as written (struct fields and constants aligned as gofmt aligns them).
"""

from .model import header_comment, pascal, camel, CLASSES

PKG_DIR = "bindings/go/qix"
DOC_URL = "https://qlik.dev/apis/json-rpc/qix/"
RECEIVERS = {"Global": "g", "Doc": "d", "GenericObject": "o", "Field": "f", "GenericDimension": "gd",
             "GenericBookmark": "gb", "GenericMeasure": "gm", "GenericVariable": "gv", "Variable": "v"}
GO_KEYWORDS = {"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for",
               "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return",
               "select", "struct", "switch", "type", "var"}
# Names the generated bodies use, and predeclared identifiers a parameter must not shadow.
TAKEN = {"ctx", "opts", "params", "err", "r", "obj", "json", "context", "any", "string", "error", "bool", "len",
         "new", "make", "nil", "true", "false", "append", "copy", "int", "int32", "int64", "byte", "rune",
         "float64", "cap", "close", "delete", "panic", "print", "println", "recover", "real", "imag", "complex",
         "iota", "min", "max", "clear"} | set(RECEIVERS.values())
HAND_WRITTEN = {"Object", "Session", "Error", "Status", "Option", "Notification", "Subscription", "Float64", "Ptr",
                "Dial"}


def _zero(v):
    return v in (None, False, 0, "", [], {})


class Emitter:
    def __init__(self, model):
        self.m = model
        self.idents = {}  # top-level identifier -> what defines it (collision check)

    def claim(self, name, what):
        if name in HAND_WRITTEN or (name in self.idents and self.idents[name] != what):
            raise SystemExit(f"qixgen go: identifier {name} of {what} is taken ({self.idents.get(name, 'by hand')})")
        self.idents[name] = what

    # -- types
    def kind(self, ref):
        return self.m.types[ref.name].kind if ref.kind == "ref" else ref.kind

    def gotype(self, ref, where="member"):
        """Go type of a TypeRef. where: member (struct member or result field), param, elem (array item)."""
        k = ref.kind
        if k == "bool":
            return "bool"
        if k in ("int32", "int64", "string"):
            return k
        if k == "float64":
            return "Float64"
        if k == "json":
            return "any" if where == "param" else "json.RawMessage"
        if k == "array":
            return "[]" + self.gotype(ref.item, "elem")
        t = self.m.types[ref.name]
        if t.kind == "struct" and where != "elem":
            return "*" + ref.name
        return ref.name

    def pointer_scalar(self, f):
        """A bool/number member whose default is not its zero value: a pointer, nil meaning the default."""
        return f.has_default and not _zero(f.default) and f.type.kind in ("bool", "int32", "int64", "float64")

    @staticmethod
    def spec_type(ref):
        return repr(ref)

    def struct_lines(self, name, fields, tag_of, doc_of=None):
        """A gofmt-aligned struct body: [(field name, Go type, tag)]."""
        rows = [(fname, gtype, tag_of(i)) for i, (fname, gtype) in enumerate(fields)]
        if not rows:
            return [f"type {name} struct{{}}"]
        wn = max(len(r[0]) for r in rows)
        wt = max(len(r[1]) for r in rows)
        out = [f"type {name} struct {{"]
        for fname, gtype, tag in rows:
            out.append(f"\t{fname.ljust(wn)} {gtype.ljust(wt)} {tag}")
        out.append("}")
        return out

    def emit_struct(self, t):
        out = []
        kind = "open struct" if t.open else "struct"
        out.append(f"// {t.name} is the Engine API's {t.name} ({kind}).")
        if t.open:
            out.append("// Members no field knows are kept in Extra when read, and written back.")
        ptrs = [f for f in t.fields if self.pointer_scalar(f)]
        defaults = [f for f in t.fields if f.has_default and not _zero(f.default)]
        if defaults:
            out.append("//")
            out += _wrap("Spec defaults: " + ", ".join(f"{pascal(f.name)} {self.default_text(f)}" for f in defaults)
                         + (" (pointer members: nil sends nothing, so the engine applies the default)." if ptrs
                            else " (an empty member is not sent)."))
        if t.deprecated:
            out.append("//")
            out.append(f"// Deprecated: the Engine API spec marks {t.name} deprecated.")
        fields, tags, seen = [], [], set()
        for f in t.fields + t.named_extras:
            fname = pascal(f.name)
            if fname in seen or fname == "Extra":
                raise SystemExit(f"qixgen go: {t.name}.{fname} twice")
            seen.add(fname)
            gtype = self.gotype(f.type)
            if f in t.fields and self.pointer_scalar(f):
                gtype = "*" + gtype
            fields.append((fname, gtype))
            tags.append(f'`json:"{f.wire},omitempty"`')
        if t.open:
            fields.append(("Extra", "map[string]json.RawMessage"))
            tags.append('`json:"-"`')
        out += self.struct_lines(t.name, fields, lambda i: tags[i])
        if t.open:
            out += [
                "",
                "// MarshalJSON writes the fields and the Extra members.",
                f"func (v {t.name}) MarshalJSON() ([]byte, error) {{",
                f"\ttype plain {t.name}",
                "\treturn marshalOpen(plain(v), v.Extra)",
                "}",
                "",
                "// UnmarshalJSON reads the fields and keeps the other members in Extra.",
                f"func (v *{t.name}) UnmarshalJSON(b []byte) error {{",
                f"\ttype plain {t.name}",
                "\textra, err := unmarshalOpen(b, (*plain)(v))",
                "\tv.Extra = extra",
                "\treturn err",
                "}",
            ]
        return out

    def default_text(self, f):
        """A member's spec default as JSON; an enum's default (the spec names the long name) as its symbol."""
        if f.type.kind == "ref" and self.m.types[f.type.name].kind == "enum":
            for sym, _, long in self.m.types[f.type.name].symbols:
                if f.default in (sym, long):
                    return _json(sym) + (f" ({long})" if long and long != sym else "")
        return _json(f.default)

    def enum_const(self, t, sym, long):
        base = long or sym
        if "_" in base or base.isupper():
            part = "".join(w[:1].upper() + w[1:].lower() for w in base.split("_") if w)
        else:
            part = base[:1].upper() + base[1:]
        return t.name + part

    def emit_enum(self, t):
        syms = ", ".join(f'"{s}"' + (f" ({long})" if long else "") for s, _, long in t.symbols)
        out = _wrap(f"{t.name} is the Engine API's enum {t.name}: the symbols the engine sends and accepts, "
                    f"{syms}. Symbols unknown to this spec decode as sent.")
        if t.deprecated:
            out += ["//", f"// Deprecated: the Engine API spec marks {t.name} deprecated."]
        out.append(f"type {t.name} string")
        out.append("")
        names = []
        for sym, _, long in t.symbols:
            n = self.enum_const(t, sym, long)
            while n in names:
                n += "_"
            self.claim(n, f"enum {t.name}")
            names.append(n)
        w = max(len(n) for n in names)
        out.append(f"// The symbols of {t.name}.")
        out.append("const (")
        for n, (sym, _, _) in zip(names, t.symbols):
            out.append(f'\t{n.ljust(w)} {t.name} = "{sym}"')
        out.append(")")
        out += ["",
                "// UnmarshalJSON reads any symbol (also unknown ones); an ordinal number is kept as its text.",
                f"func (e *{t.name}) UnmarshalJSON(b []byte) error {{",
                "\treturn unmarshalEnum(b, (*string)(e))",
                "}"]
        return out

    def emit_type(self, t):
        self.claim(t.name, f"type {t.name}")
        if t.kind == "struct":
            return self.emit_struct(t)
        if t.kind == "enum":
            return self.emit_enum(t)
        if t.kind == "json":
            return [f"// {t.name} is the Engine API's {t.name}: arbitrary JSON, kept as such.",
                    f"type {t.name} = json.RawMessage"]
        target = self.gotype(t.target, "elem") if t.target.kind != "array" else self.gotype(t.target)
        return [f"// {t.name} is the Engine API's {t.name} ({self.spec_type(t.target)}).",
                f"type {t.name} {target}"]

    # -- readers (jsonread.go)
    def elem_reader(self, ref):
        """A Go func value of type func(*jreader, T) T for an array element of ref (gotype(ref, "elem"))."""
        k = ref.kind
        scalars = {"bool": "readBool", "int32": "readInt32", "int64": "readInt64", "string": "readString",
                   "float64": "readFloat64", "json": "readRaw[json.RawMessage]"}
        if k in scalars:
            return scalars[k]
        if k == "array":
            return self.slice_reader(self.gotype(ref, "elem"), ref.item)
        t = self.m.types[ref.name]
        if t.kind == "struct":
            return f"readStructValue[{t.name}]"
        if t.kind == "enum":
            return f"readEnum[{t.name}]"
        if t.kind == "json":
            return f"readRaw[{t.name}]"
        if t.target.kind == "array":
            return self.slice_reader(t.name, t.target.item)
        if t.target.kind == "string":
            return f"readStringAs[{t.name}]"
        raise SystemExit(f"qixgen go: no element reader for alias {t.name} of {t.target!r}")

    def slice_reader(self, gotype, item):
        """The func value reading an array of Go type gotype whose items are item."""
        it = item.name if item.kind == "ref" else None
        if it and self.m.types[it].kind == "struct":
            return f"readStructs[{gotype}, {it}]"
        scalars = {"bool": "readBools", "int32": "readInt32s", "int64": "readInt64s", "string": "readStrings",
                   "float64": "readFloat64s"}
        if item.kind in scalars:
            return f"{scalars[item.kind]}[{gotype}]"
        if it and self.m.types[it].kind == "enum":
            return f"readEnums[{gotype}]"
        if it and self.m.types[it].kind == "alias" and self.m.types[it].target.kind == "string":
            return f"readStringsAs[{gotype}]"
        raise SystemExit(f"qixgen go: no reader for an array of {item!r}")

    def value_reader(self, ref):
        """A Go func value of type func(*jreader, T) T for a method's value result (gotype(ref))."""
        if ref.kind == "ref" and self.m.types[ref.name].kind == "struct":
            return f"readStruct[{ref.name}]"
        if ref.kind == "array":
            return self.slice_reader(self.gotype(ref), ref.item)
        return self.elem_reader(ref)

    def read_expr(self, ref, cur, where="member"):
        """A Go expression reading a value of ref's Go type (gotype(ref, where)), cur being its value so far."""
        k = ref.kind
        methods = {"bool": "boolean", "int32": "int32", "int64": "int64", "string": "str", "float64": "float",
                   "json": "raw"}
        if k in methods:
            return f"r.{methods[k]}({cur})"
        if k == "array":
            return f"readSlice(r, {cur}, {self.elem_reader(ref.item)})"
        t = self.m.types[ref.name]
        if t.kind == "struct":
            return f"readStruct[{t.name}](r, {cur})" if where != "elem" else \
                f"readStructValue[{t.name}](r, {cur})"
        if t.kind == "enum":
            return f"readEnum(r, {cur})"
        if t.kind == "json":
            return f"r.raw({cur})"
        if t.target.kind == "array":  # alias of an array type
            return f"readSlice(r, {cur}, {self.elem_reader(t.target.item)})"
        if t.target.kind in methods:  # alias of a scalar type (Blob string ...)
            return f"{t.name}({self.read_expr(t.target, self.gotype(t.target) + '(' + cur + ')')})"
        raise SystemExit(f"qixgen go: no reader for alias {t.name} of {t.target!r}")

    def emit_reader(self, name, members, open_struct):
        """readJSON of a struct: members [(Go field name, wire name, TypeRef, pointer scalar)]."""
        known = ", ".join(f'"{w}"' for _, w, _, _ in members)
        other = (f"v.Extra = r.extra(v.Extra, k{', ' + known if known else ''})" if open_struct
                 else f"r.other(k{', ' + known if known else ''})")
        out = [f"func (v *{name}) readJSON(r *jreader) {{",
               "\tif !r.object() {",
               "\t\treturn",
               "\t}",
               "\tfor k, ok := r.member(true); ok; k, ok = r.member(false) {"]
        if not members:
            out.append(f"\t\t{other}")
        else:
            out.append("\t\tswitch string(k) {")
            for fname, wire, ref, ptr in members:
                out.append(f'\t\tcase "{wire}":')
                if ptr:
                    out.append(f"\t\t\tv.{fname} = readPtr(r, v.{fname}, {self.elem_reader(ref)})")
                else:
                    out.append(f"\t\t\tv.{fname} = {self.read_expr(ref, 'v.' + fname)}")
            out += ["\t\tdefault:", f"\t\t\t{other}", "\t\t}"]
        out += ["\t}", "}"]
        return out

    def struct_reader(self, t):
        members = []
        for f in t.fields + t.named_extras:
            members.append((pascal(f.name), f.wire, f.type, f in t.fields and self.pointer_scalar(f)))
        return self.emit_reader(t.name, members, t.open)

    def result_reader(self, m):
        members = []
        for f in m.result_fields:
            if f.wire == "qReturn" and m.returns and f.type.kind == "ref" and f.type.name == m.returns:
                continue  # the Object field (json:"-"): the member is not read
            members.append((pascal(f.name), f.wire, f.type, False))
        return self.emit_reader(m.result_type, members, False)

    def emit_result(self, m):
        self.claim(m.result_type, f"result {m.result_type}")
        users = [x.full for x in self.m.methods() if x.result_type == m.result_type]
        out = [f"// {m.result_type} is the result of {', '.join(users)}: the out values of the whole result."]
        fields, tags = [], []
        for f in m.result_fields:
            if f.wire == "qReturn" and m.returns and f.type.kind == "ref" and f.type.name == m.returns:
                fields.append(("Object", "*" + m.returns))
                tags.append('`json:"-"`')
                out.append(f"// Object is the {m.returns} (nil when the engine refers to none).")
            else:
                fields.append((pascal(f.name), self.gotype(f.type)))
                tags.append(f'`json:"{f.wire}"`')
        return out + self.struct_lines(m.result_type, fields, lambda i: tags[i])

    def options_name(self, m):
        return f"{m.cls}{m.name}Options"

    def optional(self, m):
        return [p for p in m.params if not p.required]

    def emit_options(self, m):
        name = self.options_name(m)
        self.claim(name, f"options of {m.full}")
        out = [f"// {name} holds the optional parameters of {m.cls}.{m.name} (see the method); a member left at",
               "// its zero value is not sent, and the engine applies its default:"]
        for p in self.optional(m):
            out.append(f"// {pascal(p.name)} ({p.wire}) defaults to {_json(p.default)}.")
        fields = [(pascal(p.name), self.gotype(p.type, "param")) for p in self.optional(m)]
        return out + self.struct_lines(name, fields, lambda i: f'`json:"{self.optional(m)[i].wire},omitempty"`')

    # -- methods
    def param_name(self, p, used):
        n = camel(p.name)
        if n in GO_KEYWORDS or n in TAKEN:
            n = {"type": "typ", "func": "fn", "range": "rng", "map": "mp", "default": "def"}.get(n, n + "Arg")
        while n in used:
            n += "_"
        used.add(n)
        return n

    def result_types(self, m):
        """What a method gives besides its error (none, the object, the one value or the result struct)."""
        if m.result == "void":
            return []
        if m.result == "object":
            return [f"*{m.returns}"]
        if m.result == "value":
            return [self.gotype(m.value.type)]
        return [f"*{m.result_type}"]

    def result_sig(self, m):
        types = self.result_types(m)
        return f"({types[0]}, error)" if types else "error"

    def parameters(self, m, used):
        """The method's required parameters with their Go names, its optional ones, and the Go parameter
        list they make (the options struct last); `used` holds names the caller keeps for itself."""
        req = [(p, self.param_name(p, used)) for p in m.params if p.required]
        opt = self.optional(m)
        args = [f"{n} {self.gotype(p.type, 'param')}" for p, n in req]
        if opt:
            args.append(f"opts *{self.options_name(m)}")
        return req, opt, args

    def emit_method(self, m):
        rcv = RECEIVERS[m.cls]
        req, opt, args = self.parameters(m, set())
        args = ["ctx context.Context"] + args
        doc = [f"// {m.name} calls the Engine API method {m.full} ({m.stability or 'stable'})."]
        if req or opt:
            doc += ["//", "// Parameters:", "//"]
            doc += [f"//   - {n}: {p.wire} ({self.spec_type(p.type)})" for p, n in req]
            if opt:
                doc.append("//   - opts: the optional parameters, nil for all defaults:")
                doc += [f"//     {pascal(p.name)}: {p.wire} ({self.spec_type(p.type)}), default {_json(p.default)}"
                        for p in opt]
        doc.append("//")
        if m.result == "void":
            doc.append("// Result: none.")
        elif m.result == "object":
            doc.append(f"// Result: the {m.returns}, or nil (and no error) when the engine answers none "
                       "(qReturn.qHandle null).")
        elif m.result == "value":
            doc.append(f"// Result: {m.value.wire} ({self.spec_type(m.value.type)}) of the engine's result.")
        else:
            doc.append(f"// Result: {m.result_type} ("
                       + ", ".join(("Object" if f.name == "Object" else f.wire) for f in m.result_fields) + ").")
        doc.append("// Engine errors are *Error with Status ErrEngine.")
        if m.deprecated:
            doc += ["//", f"// Deprecated: the Engine API spec marks {m.full} deprecated."]
        doc += ["//", f"// Reference: {DOC_URL}{m.cls.lower()}"]
        out = doc + [f"func ({rcv} *{m.cls}) {m.name}({', '.join(args)}) {self.result_sig(m)} {{"]
        params = self.params_lines(m, req, opt, out)
        call = f'{rcv}.Object, "{m.name}", {params}'
        if m.result == "void":
            out.append(f"\treturn callVoid(ctx, {call})")
        elif m.result == "object":
            out += [f"\tobj, err := callObject(ctx, {call})",
                    "\tif obj == nil {",
                    "\t\treturn nil, err",
                    "\t}",
                    f"\treturn &{m.returns}{{obj}}, nil"]
        elif m.result == "value":
            out.append(f'\treturn callValue[{self.gotype(m.value.type)}](ctx, {call}, "{m.value.wire}",')
            out.append(f'\t\t{self.value_reader(m.value.type)})')
        else:
            has_obj = any(f.name == "Object" for f in m.result_fields) and m.returns
            if has_obj:
                out += [f"\tr, obj, err := callStruct[{m.result_type}](ctx, {call})",
                        "\tif obj != nil {",
                        f"\t\tr.Object = &{m.returns}{{obj}}",
                        "\t}",
                        "\treturn r, err"]
            else:
                out += [f"\tr, _, err := callStruct[{m.result_type}](ctx, {call})",
                        "\treturn r, err"]
        out.append("}")
        return out

    def params_lines(self, m, req, opt, out):
        """Appends the lines that build a call's params map to out; returns the expression to pass."""
        if not (req or opt):
            return "nil"
        items = []
        for p, n in req:
            v = f"nonNil({n})" if self.m.resolve(p.type).kind == "array" else n
            items.append(f'"{p.wire}": {v}')
        out.append(f"\tparams := map[string]any{{{', '.join(items)}}}")
        if opt:
            out.append("\tif opts != nil {")
            for p in opt:
                out.append(f'\t\tsetOptional(params, "{p.wire}", opts.{pascal(p.name)})')
            out.append("\t}")
        return "params"

    def done_type(self, m):
        """The type of an XxxAsync method's function: it gets what the method returns."""
        return f"func({', '.join(self.result_types(m) + ['error'])})"

    def emit_async(self, m):
        """The method's XxxAsync form: the same call, its outcome given to a function (async.go)."""
        rcv = RECEIVERS[m.cls]
        req, opt, args = self.parameters(m, {"done"})
        args.append(f"done {self.done_type(m)}")
        name = f"{m.name}Async"
        self.claim(f"{m.cls}.{name}", f"the Async form of {m.full}")
        doc = [f"// {name} is {m.name} without waiting: done gets its outcome exactly once, on libqix's thread",
               "// or a goroutine of its own, and must not block (see \"Asynchronous calls\" in the package",
               "// documentation). A non-nil error means the call was not made and done will not be called."]
        if m.deprecated:
            doc += ["//", f"// Deprecated: the Engine API spec marks {m.full} deprecated."]
        out = doc + [f"func ({rcv} *{m.cls}) {name}({', '.join(args)}) error {{"]
        params = self.params_lines(m, req, opt, out)
        call = f'{rcv}.Object, "{m.name}", {params}'
        if m.result == "void":
            out.append(f"\treturn callVoidAsync({call}, done)")
        elif m.result == "object":
            out += [f"\treturn callObjectAsync({call}, func(obj *Object, err error) {{",
                    "\t\tif obj == nil {",
                    "\t\t\tdone(nil, err)",
                    "\t\t\treturn",
                    "\t\t}",
                    f"\t\tdone(&{m.returns}{{obj}}, nil)",
                    "\t})"]
        elif m.result == "value":
            out.append(f'\treturn callValueAsync[{self.gotype(m.value.type)}]({call}, "{m.value.wire}",')
            out.append(f'\t\t{self.value_reader(m.value.type)}, done)')
        else:
            has_obj = any(f.name == "Object" for f in m.result_fields) and m.returns
            if has_obj:
                out += [f"\treturn callStructAsync[{m.result_type}]({call}, func(r *{m.result_type}, obj *Object, err error) {{",
                        "\t\tif obj != nil {",
                        f"\t\t\tr.Object = &{m.returns}{{obj}}",
                        "\t\t}",
                        "\t\tdone(r, err)",
                        "\t})"]
            else:
                out += [f"\treturn callStructAsync[{m.result_type}]({call}, func(r *{m.result_type}, _ *Object, err error) {{",
                        "\t\tdone(r, err)",
                        "\t})"]
        out.append("}")
        return out

    def emit_class(self, cls):
        self.claim(cls, f"class {cls}")
        n = len(self.m.classes[cls])
        return [f"// {cls} is the Engine API class {cls}: an *Object with the class's {n} methods, typed.",
                "// Wrap an untyped handle with &qix." + cls + "{Object: obj}.",
                "//",
                f"// Reference: {DOC_URL}{cls.lower()}",
                f"type {cls} struct{{ *Object }}"]


def _wrap(text, width=110):
    """A comment paragraph, wrapped at spaces."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [f"// {x}" for x in lines + [line]]


def _json(v):
    import json
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def _file(model, body, imports):
    lines = header_comment(model, "scripts/gen-api") + ["", "package qix", ""]
    if len(imports) == 1:
        lines += [f'import "{imports[0]}"', ""]
    elif imports:
        lines += ["import ("] + [f'\t"{i}"' for i in imports] + [")", ""]
    text = "\n".join(lines + body).rstrip("\n") + "\n"
    return text


def outputs(model):
    e = Emitter(model)
    types = []
    for name in sorted(model.types):
        types += e.emit_type(model.types[name]) + [""]
    for m in model.result_types():
        types += e.emit_result(m) + [""]
    for m in model.methods():
        if e.optional(m):
            types += e.emit_options(m) + [""]
    readers = []
    for name in sorted(model.types):
        if model.types[name].kind == "struct":
            readers += e.struct_reader(model.types[name]) + [""]
    for m in model.result_types():
        readers += e.result_reader(m) + [""]
    every = [f"\tnew({name})," for name in sorted(model.types) if model.types[name].kind == "struct"]
    every += [f"\tnew({m.result_type})," for m in model.result_types()]
    readable = ["// readableTypes holds a value of every type with a generated reader, for jsonread_test.go.",
                "var readableTypes = []interface{ readJSON(*jreader) }{"] + every + ["}"]
    methods = []
    for cls in CLASSES:
        methods += e.emit_class(cls) + [""]
        for m in model.classes[cls]:
            methods += e.emit_method(m) + [""]
            methods += e.emit_async(m) + [""]
    return {
        f"{PKG_DIR}/api_types_generated.go": _file(model, types, ["encoding/json"]),
        f"{PKG_DIR}/api_methods_generated.go": _file(model, methods, ["context"]),
        f"{PKG_DIR}/api_read_generated.go": _file(model, readers, []),
        f"{PKG_DIR}/api_read_generated_test.go": _file(model, readable, []),
    }
