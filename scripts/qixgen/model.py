"""The Engine API as the typed-API generators see it: classes, methods, parameters, results and types, read from
the facts in spec/ (scripts/import-spec) and normalised once, so that every language's emitter makes the same
decisions. Python 3 standard library only.

The rules every language follows (docs/typed-api.md explains them to users):

- Classes: the 9 object classes of the specification (Global, Doc, GenericObject, ...), in spec order.
- Methods: every method of a class, same name (language casing applied by the emitter).
- Parameters: the in parameters in spec order, named without the `q` prefix (qId -> id). A parameter is
  *optional* when it and every parameter after it are optional; an optional parameter followed by a required
  one is taken as required (6 Doc methods, e.g. GetFileTables' qRelativePath), so positional signatures stay
  unambiguous. An optional parameter the caller leaves out is not sent: the engine applies its own default.
  Its documented default: the spec's, else enigma.js's (cleaned as scripts/gen-spec-tables does), else its
  type's zero value (the emitters name it in doc comments; they never send it in the caller's place).
- Results, in order of precedence:
  1. The method returns an object (schema-companion.json): the typed object, or none ("not found": the
     engine answers qReturn.qHandle null). Extra out values other than qInfo (redundant with the object's
     own id and type) make a result type instead: `<Method>Result` with `Object` plus those values
     (Doc.GetOrCreateObject, Global.CreateDocEx, Global.CreateSessionApp, Global.CreateSessionAppFromApp).
  2. No out value: nothing (void).
  3. One out value: that value, typed.
  4. Several: a result type `<Method>Result` with one member per out value, in spec order.
- Types: every schema of components.schemas: `struct` (object with properties), `enum` (string with
  oneOf: the engine sends and accepts the symbol, e.g. "S"), `alias` (an array type such as NxCellRows, or a
  string type such as Blob) or `json` (an object without properties: arbitrary JSON, kept as such).
  A struct is `open` when the engine or users extend it at will: the two with additionalProperties
  (GenericObjectProperties, GenericObjectLayout), and every *Properties, *Layout and NxMeta* struct. An open
  struct keeps unknown members when read, and writes them back.
- Scalars: boolean; integer int32 (formats int32, int8, byte) or int64 (format int64, or no format); number
  float64 (the engine writes NaN and infinities as the strings "NaN", "Infinity", "-Infinity", and so do the
  generated codecs); string.
"""

import json
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_DIR = os.path.join(REPO, "spec")
CLASSES = ["Global", "Doc", "GenericObject", "Field", "GenericDimension", "GenericBookmark", "GenericMeasure",
           "GenericVariable", "Variable"]
LICENCE = "MIT, (c) QlikTech International AB"
_MISSING = object()


# ---- type references ------------------------------------------------------------------------------------
class TypeRef:
    """kind: bool | int32 | int64 | float64 | string | json | array | ref (a named type of Model.types)."""

    def __init__(self, kind, item=None, name=None):
        self.kind, self.item, self.name = kind, item, name

    def __repr__(self):
        if self.kind == "array":
            return f"[{self.item!r}]"
        return self.name if self.kind == "ref" else self.kind

    def __eq__(self, other):
        return repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))


def _int_kind(fmt):
    return "int32" if fmt in ("int32", "int8", "byte") else "int64"


def type_of(schema):
    if "$ref" in schema:
        return TypeRef("ref", name=schema["$ref"].rsplit("/", 1)[-1])
    t = schema.get("type")
    if t == "boolean":
        return TypeRef("bool")
    if t == "integer":
        return TypeRef(_int_kind(schema.get("format")))
    if t == "number":
        return TypeRef("float64")
    if t == "string":
        return TypeRef("string")
    if t == "array":
        return TypeRef("array", item=type_of(schema.get("items", {})))
    return TypeRef("json")


# ---- names ----------------------------------------------------------------------------------------------
def strip_q(name):
    """qId -> Id, qcx -> cx (the spec's size members qcx/qcy), qtr -> tr; other names unchanged."""
    if re.match(r"q[A-Z]", name):
        return name[1:]
    if re.match(r"q[a-z]", name) and len(name) <= 4:
        return name[1:]
    return name


def words(name):
    """'GetHyperCubeData' -> ['Get','Hyper','Cube','Data']; 'qNxLibraryDimensionDef' -> ['Nx','Library',...];
    runs of capitals stay together ('BNF', 'ID')."""
    name = strip_q(name)
    return re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+|[0-9]+", name)


def snake(name):
    return "_".join(w.lower() for w in words(name))


def pascal(name):
    return "".join(w[0].upper() + w[1:] for w in words(name))


def camel(name):
    p = pascal(name)
    m = re.match(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]+$|[A-Z]", p)
    return p[:m.end()].lower() + p[m.end():] if m else p


# ---- the model ------------------------------------------------------------------------------------------
class Field:
    def __init__(self, wire, typ, default=None, has_default=False):
        self.wire = wire          # the JSON member name, e.g. "qLeft"
        self.name = strip_q(wire)  # "Left": emitters apply their casing to this
        self.type = typ
        self.default = default    # a JSON value (struct member defaults of the spec)
        self.has_default = has_default


class Type:
    def __init__(self, name, kind, schema):
        self.name, self.kind = name, kind  # kind: struct | enum | alias | json
        self.fields = []          # struct: [Field]
        self.symbols = []         # enum: [(symbol as sent, ordinal, long name or None)]
        self.target = None        # alias: TypeRef
        self.open = False         # struct: keeps unknown members
        self.named_extras = []    # struct with additionalProperties: [Field] (e.g. qHyperCubeDef)
        self.deprecated = bool(schema.get("x-qlik-deprecated"))


class Param:
    def __init__(self, wire, typ, required, default):
        self.wire, self.name, self.type = wire, strip_q(wire), typ
        self.required = required  # in the typed signature (see the module doc)
        self.default = default    # JSON value, for optional parameters


class Method:
    def __init__(self, cls, name):
        self.cls, self.name = cls, name
        self.params = []          # [Param]
        self.outs = []            # [Field]: every out value of the spec, in order
        self.returns = None       # object class name, or None
        self.result = None        # "void" | "object" | "value" | "struct"
        self.value = None         # result == "value": the one out Field
        self.result_fields = []   # result == "struct": [Field] (object ones: Field(wire "qReturn", ref class))
        self.result_type = None   # result == "struct": the generated result type's name
        self.deprecated = False
        self.stability = ""

    @property
    def full(self):
        return f"{self.cls}.{self.name}"


class Model:
    def __init__(self, spec_dir=SPEC_DIR):
        def one(prefix):
            names = sorted(n for n in os.listdir(spec_dir) if n.startswith(prefix))
            if len(names) != 1:
                raise SystemExit(f"qixgen: expected one {prefix}* in {spec_dir}, found {names}")
            with open(os.path.join(spec_dir, names[0]), encoding="utf-8") as f:
                return names[0], json.load(f)

        self.rpc_file, rpc = one("engine-rpc-")
        self.defaults_file, enigma = one("enigma-js-defaults-")
        _, companion = one("schema-companion")
        companion = companion["remote-object-return-types"]
        self.version = rpc["info"]["version"]
        schemas = rpc["components"]["schemas"]

        self.types = {}
        for name, s in schemas.items():
            self.types[name] = self._type(name, s)
        self.classes = {c: [] for c in CLASSES}
        for m in rpc["methods"]:
            cls, name = m["name"].split(".")
            if cls not in self.classes:
                raise SystemExit(f"qixgen: method of an unknown class: {m['name']}")
            self.classes[cls].append(self._method(cls, name, m, enigma.get(cls, {}).get(name, {}),
                                                  companion.get(m["name"]), schemas))
        self._check()

    # -- types
    def _type(self, name, s):
        if s.get("type") == "string" and "oneOf" in s:
            t = Type(name, "enum", s)
            t.symbols = [(o["title"], o["x-qlik-const"], o.get("description")) for o in s["oneOf"]]
            return t
        if s.get("type") == "object" and "properties" in s:
            t = Type(name, "struct", s)
            for wire, p in s["properties"].items():
                t.fields.append(Field(wire, type_of(p), p.get("default"), "default" in p))
            extras = s.get("additionalProperties", {}).get("anyOf", [])
            t.named_extras = [Field(e["name"], type_of(e["schema"])) for e in extras]
            t.open = bool(extras) or name.endswith(("Properties", "Layout")) or name.startswith("NxMeta")
            return t
        if s.get("type") == "object":
            return Type(name, "json", s)
        t = Type(name, "alias", s)
        t.target = type_of(s)
        return t

    # -- methods
    def _method(self, cls, name, m, enigma_defaults, returns, schemas):
        meth = Method(cls, name)
        meth.deprecated = bool(m.get("x-qlik-deprecated"))
        meth.stability = m.get("x-qlik-stability", "")
        raw = m.get("params", [])
        last_required = max((i for i, p in enumerate(raw) if p.get("required")), default=-1)
        for i, p in enumerate(raw):
            required = i <= last_required
            default = None
            if not required:
                default = self._default(p, enigma_defaults.get(p["name"], _MISSING), schemas)
            meth.params.append(Param(p["name"], type_of(p.get("schema", {})), required, default))
        props = m.get("result", {}).get("schema", {}).get("properties", {})
        meth.outs = [Field(w, type_of(s)) for w, s in props.items()]
        meth.returns = returns
        if returns:
            extras = [f for f in meth.outs if f.wire not in ("qReturn", "qInfo")]
            if not extras:
                meth.result = "object"
            else:
                meth.result = "struct"
                obj = Field("qReturn", TypeRef("ref", name=returns))
                obj.name = "Object"
                meth.result_fields = [obj] + extras
        elif not meth.outs:
            meth.result = "void"
        elif len(meth.outs) == 1:
            meth.result, meth.value = "value", meth.outs[0]
        else:
            meth.result, meth.result_fields = "struct", list(meth.outs)
        if meth.result == "struct":
            meth.result_type = f"{name}Result"
        return meth

    @staticmethod
    def _default(p, enigma_value, schemas):
        """The same rule as scripts/gen-spec-tables (the core's method table): the spec's default, else
        enigma.js's (a one-element sample array means [], null for a boolean means false), else zero."""
        schema = p.get("schema", {})
        if "default" in schema:
            return schema["default"]
        t = schema.get("type")
        if "$ref" in schema and t is None:
            t = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}).get("type")
        if enigma_value is not _MISSING:
            if isinstance(enigma_value, list) and len(enigma_value) == 1 and t == "array":
                return []
            if enigma_value is None and t == "boolean":
                return False
            return enigma_value
        return {"string": "", "boolean": False, "integer": 0, "number": 0, "array": [], "object": {}}.get(t)

    def _check(self):
        result_types = {}
        for cls, methods in self.classes.items():
            for m in methods:
                if m.result_type:
                    if m.result_type in self.types:
                        raise SystemExit(f"qixgen: {m.full}'s result type {m.result_type} is a spec type name")
                    prev = result_types.setdefault(m.result_type, m)
                    if prev is not m and [f.wire for f in prev.result_fields] != [f.wire for f in m.result_fields]:
                        raise SystemExit(f"qixgen: {m.result_type} means two things ({prev.full}, {m.full})")
        for t in self.types.values():
            for f in t.fields + t.named_extras:
                self._check_ref(f.type, t.name)
        for methods in self.classes.values():
            for m in methods:
                for p in m.params:
                    self._check_ref(p.type, m.full)
                for f in m.outs:
                    if not (m.returns and f.wire == "qReturn"):
                        self._check_ref(f.type, m.full)

    def _check_ref(self, ref, where):
        while ref.kind == "array":
            ref = ref.item
        if ref.kind == "ref" and ref.name not in self.types:
            raise SystemExit(f"qixgen: {where} refers to an unknown type {ref.name}")

    # -- views
    def methods(self):
        for cls in CLASSES:
            yield from self.classes[cls]

    def result_types(self):
        """The generated result types, each once (several methods may share one name), sorted by name."""
        seen = {}
        for m in self.methods():
            if m.result_type and m.result_type not in seen:
                seen[m.result_type] = m
        return [seen[k] for k in sorted(seen)]

    def resolve(self, ref):
        """A TypeRef through aliases: NxCellRows -> [NxCell]."""
        while ref.kind == "ref" and self.types[ref.name].kind == "alias":
            ref = self.types[ref.name].target
        return ref


def header_comment(model, script, prefix="//"):
    """The generated-file stamp every output starts with (Go's `Code generated ... DO NOT EDIT.` form, which
    also satisfies scripts/lint's generated-file test), then the sources and their licence."""
    return [
        f"{prefix} Code generated by {script} from spec/{model.rpc_file}; DO NOT EDIT.",
        f"{prefix} Qlik Engine API {model.version}, {LICENCE}. Rerun {script} after changing spec/ or the generator.",
    ]
