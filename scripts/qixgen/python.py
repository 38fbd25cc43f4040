"""The Python emitter: the typed Engine API of package libqix (bindings/python/libqix/_api.py), on top of the
hand-written object classes of libqix/_base.py.

Python rules on top of model.py's (docs/python.md, "Typed API", tells users):
- Types are `TypedDict`s (total=False) whose keys are the specification's member names (`qText`, `qNum`):
  results are the engine's JSON as parsed by `json.loads`, with no conversion, so reading properties, changing
  one member and writing them back loses nothing (every struct is "open" for free), and editors still complete
  the members. Enumerations are `Literal` aliases of the symbols the engine sends (an unknown symbol is kept:
  it is a plain str). Aliases are `TypeAlias`es.
- Methods: snake_case (`get_tables_and_keys`); parameters snake_case without the `q` prefix, a trailing `_`
  for a Python keyword (`def_`). Required parameters are positional; optional ones default to None, which
  means "not sent" (the engine applies its default, named in the docstring).
- Each class exists twice: `Doc` (blocking methods) and `AsyncDoc` (`async def` methods, for
  `libqix.connect_async`).
- Results: void -> None; object -> the typed object or None when the engine finds none; value -> that value
  (parsed JSON); several -> the `<Method>Result` TypedDict of the engine's whole result (where one of them is
  the object, its `qReturn` member is the typed object; `Async<Method>Result` for the async classes).
"""

import json
import keyword

from .model import header_comment, snake, CLASSES

PKG_DIR = "bindings/python/libqix"
DOC_URL = "https://qlik.dev/apis/json-rpc/qix/"


class Emitter:
    def __init__(self, model):
        self.m = model

    def pytype(self, ref, prefix=""):
        k = ref.kind
        if k == "bool":
            return "bool"
        if k in ("int32", "int64"):
            return "int"
        if k == "float64":
            return "float"
        if k == "string":
            return "str"
        if k == "json":
            return "Any"
        if k == "array":
            return f"list[{self.pytype(ref.item, prefix)}]"
        if ref.name in CLASSES:
            return prefix + ref.name
        return ref.name

    # -- types
    def emit_type(self, t):
        if t.kind == "struct":
            out = [f"class {t.name}(TypedDict, total=False):"]
            doc = f"The Engine API's {t.name}"
            doc += " (open: members the engine or users add are kept)." if t.open else "."
            defaults = [f for f in t.fields if f.has_default]
            if defaults:
                doc += " Spec defaults: " + ", ".join(f"{f.wire} {_json(f.default)}" for f in defaults) + "."
            if t.deprecated:
                doc += " Deprecated by the Engine API spec."
            out += _docstring(doc, "    ")
            for f in t.fields + t.named_extras:
                if not f.wire.isidentifier() or keyword.iskeyword(f.wire):
                    raise SystemExit(f"qixgen python: {t.name}.{f.wire} is not an identifier")
                out.append(f"    {f.wire}: {self.pytype(f.type)}")
            return out
        if t.kind == "enum":
            syms = ", ".join(_json(s) for s, _, _ in t.symbols)
            longs = ", ".join(f"{s}={long}" for s, _, long in t.symbols if long and long != s)
            out = [f"{t.name}: TypeAlias = Literal[{syms}]"]
            out.append(f'"""The Engine API\'s enum {t.name}: the symbols the engine sends and accepts'
                       + (f" ({longs})" if longs else "") + '."""')
            return out
        if t.kind == "json":
            return [f"{t.name}: TypeAlias = dict[str, Any]",
                    f'"""The Engine API\'s {t.name}: arbitrary JSON."""']
        return [f'{t.name}: TypeAlias = "{self.pytype(t.target)}"',
                f'"""The Engine API\'s {t.name} ({t.target!r})."""']

    def emit_result(self, m, prefix):
        users = [x.full for x in self.m.methods() if x.result_type == m.result_type]
        out = [f"class {prefix}{m.result_type}(TypedDict, total=False):"]
        out += _docstring(f"The result of {', '.join(users)}: the engine's whole result, by member name"
                          + (f"; qReturn is the typed {prefix}{m.returns}." if m.returns else "."), "    ")
        for f in m.result_fields:
            out.append(f"    {f.wire}: {self.pytype(f.type, prefix)}")
        return out

    # -- methods
    @staticmethod
    def param_name(p, used):
        n = snake(p.name)
        if keyword.iskeyword(n) or n == "self":
            n += "_"
        while n in used:
            n += "_"
        used.add(n)
        return n

    def result_hint(self, m, prefix):
        if m.result == "void":
            return "None"
        if m.result == "object":
            return f"{prefix}{m.returns} | None"
        if m.result == "value":
            return self.pytype(m.value.type, prefix)
        return prefix + m.result_type

    def result_arg(self, m, prefix):
        if m.result == "void":
            return "None"
        if m.result == "object":
            return prefix + m.returns
        if m.result == "value":
            return "_VALUE"
        if m.returns:
            return f"(_RAW, {prefix}{m.returns})"
        return "_RAW"

    def emit_method(self, m, prefix):
        used = set()
        req = [(p, self.param_name(p, used)) for p in m.params if p.required]
        opt = [(p, self.param_name(p, used)) for p in m.params if not p.required]
        args = ["self"] + [f"{n}: {self.pytype(p.type)}" for p, n in req]
        args += [f"{n}: {self.pytype(p.type)} | None = None" for p, n in opt]
        asy = "async " if prefix else ""
        sig = f"    {asy}def {snake(m.name)}({', '.join(args)}) -> {self.result_hint(m, prefix)}:"
        if len(sig) > 120:
            sig = f"    {asy}def {snake(m.name)}(\n        " + ",\n        ".join(args) + \
                  f",\n    ) -> {self.result_hint(m, prefix)}:"
        doc = [f"Calls {m.full} ({m.stability or 'stable'})" + (", deprecated by the spec." if m.deprecated else ".")]
        if req or opt:
            doc.append("")
            doc.append("Args:")
            doc += [f"    {n}: {p.wire} ({p.type!r})." for p, n in req]
            doc += [f"    {n}: {p.wire} ({p.type!r}); None is not sent (engine default {_json(p.default)})."
                    for p, n in opt]
        doc.append("")
        if m.result == "void":
            doc.append("Returns: None.")
        elif m.result == "object":
            doc.append(f"Returns: the {prefix}{m.returns}, or None when the engine finds none.")
        elif m.result == "value":
            doc.append(f"Returns: {m.value.wire} ({m.value.type!r}) of the engine's result.")
        else:
            doc.append(f"Returns: {prefix}{m.result_type} ("
                       + ", ".join(f.wire for f in m.result_fields) + ").")
        doc.append("Raises: EngineCallError (the engine's error), another EngineError (the session's).")
        doc.append(f"Reference: {DOC_URL}{m.cls.lower()}")
        out = [sig] + _docstring("\n".join(doc), "        ")
        reqd = "{" + ", ".join(f'"{p.wire}": {n}' for p, n in req) + "}"
        call = f'"{m.name}", {reqd}, {self.result_arg(m, prefix)}'
        if opt:
            call += ", {" + ", ".join(f'"{p.wire}": {n}' for p, n in opt) + "}"
        aw = "await " if prefix else ""
        line = f"        return {aw}self._call({call})"
        if len(line) > 120:
            line = f"        return {aw}self._call(\n            {call}\n        )"
        out.append(line)
        return out

    def emit_class(self, cls, prefix):
        base = "_AsyncObject" if prefix else "_Object"
        n = len(self.m.classes[cls])
        how = "awaitable" if prefix else "blocking"
        out = [f"class {prefix}{cls}({base}):"]
        out += _docstring(f"The Engine API class {cls}: a handle on an engine object with the class's {n} "
                          f"methods, typed and {how}.\n\nReference: {DOC_URL}{cls.lower()}", "    ")
        out.append("")
        out.append("    __slots__ = ()")
        out.append(f'    _qtype = "{cls}"')
        for m in self.m.classes[cls]:
            out.append("")
            out += self.emit_method(m, prefix)
        return out


def _docstring(text, indent):
    lines = text.split("\n")
    if len(lines) == 1 and len(indent) + len(text) + 6 <= 120:
        return [f'{indent}"""{text}"""']
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{x}" if x else "" for x in lines[1:]]
    out.append(f'{indent}"""')
    return out


def _json(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def outputs(model):
    e = Emitter(model)
    lines = header_comment(model, "scripts/gen-api", "#")
    lines += [
        '"""The typed Engine API: every class and method of the specification (blocking and async), and every',
        'type as a TypedDict. Generated; see docs/python.md, "Typed API"."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Literal, TypeAlias, TypedDict",
        "",
        "from ._base import _RAW, _VALUE, _AsyncObject, _Object",
        "",
        "__all__ = [",
    ]
    names = []
    for cls in CLASSES:
        names += [cls, "Async" + cls]
    names += sorted(model.types)
    for m in model.result_types():
        names += [m.result_type] + (["Async" + m.result_type] if m.returns else [])
    lines += [f'    "{n}",' for n in names] + ["]", ""]
    structs = [model.types[n] for n in sorted(model.types) if model.types[n].kind == "struct"]
    others = [model.types[n] for n in sorted(model.types) if model.types[n].kind != "struct"]
    for t in others + structs:
        lines += [""] + e.emit_type(t) + [""]
    for m in model.result_types():
        lines += [""] + e.emit_result(m, "") + [""]
        if m.returns:
            lines += [""] + e.emit_result(m, "Async") + [""]
    for prefix in ("", "Async"):
        for cls in CLASSES:
            lines += ["", ""] + e.emit_class(cls, prefix)
    lines.append("")
    lines += ["", "CLASSES: dict[str, type[_Object]] = {" + ", ".join(f'"{c}": {c}' for c in CLASSES) + "}",
              '"""The blocking class of each qType."""',
              "ASYNC_CLASSES: dict[str, type[_AsyncObject]] = {"
              + ", ".join(f'"{c}": Async{c}' for c in CLASSES) + "}",
              '"""The async class of each qType."""']
    text = "\n".join(lines)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return {f"{PKG_DIR}/_api.py": text.rstrip("\n") + "\n"}
