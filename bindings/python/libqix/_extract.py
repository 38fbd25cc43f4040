"""Hypercubes into pandas: libqix.extract and obj.to_pandas, over libqix's pipelined bulk extraction
(qix_object_extract). The rows are parsed into column buffers by the C++ extension libqix._fast when it is
there (the wheel and the build have it), else by a pure-Python path (a ctypes row callback and json.loads per
row, about 4x slower; see docs/python.md for both figures)."""

from __future__ import annotations

import ctypes
import json
import sys
import threading
from typing import Any, Callable, Mapping, Sequence

from . import _native as N
from ._errors import EngineError, ProtocolError, from_error, last

L = N.lib
try:
    from . import _fast
except ImportError:  # a source checkout without the build: the Python path
    _fast = None

ALL_NUMERIC, TEXT_IS_NUMBER, INTEGRAL, ANY_NULL = 1, 2, 4, 8
_KEEP: dict = {}  # id -> ctypes callbacks of extractions in progress (see _python_rows)
_SPECIAL = {"Infinity": float("inf"), "-Infinity": float("-inf")}  # numbers the engine sends as strings


def _sync(ptr: int, method: str, params: Any, want_object: bool = False):
    out = ctypes.c_void_p()
    st = L.qix_object_call_sync(ctypes.byref(out), ptr, method.encode(), json.dumps(params).encode(), 0, -1)
    if st < 0:
        raise last(st)
    try:
        value = json.loads(N.text(L.qix_result_json(out.value)))
        obj = ctypes.c_void_p()
        if want_object and L.qix_result_object(ctypes.byref(obj), out.value) == 0:
            return value, obj.value
        return value, None
    finally:
        L.qix_result_free(out.value)


class _Bar:
    """A text progress bar on stderr (tqdm's look, no dependency)."""

    def __init__(self):
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        pct = int(100 * done / total) if total > 0 else 0
        if pct == self.last:
            return
        self.last = pct
        width = 30
        fill = width * pct // 100
        sys.stderr.write(f"\r{pct:3d}%|{'#' * fill}{' ' * (width - fill)}| {done}/{total} rows")
        sys.stderr.flush()

    def close(self) -> None:
        if self.last >= 0:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _python_rows(ptr: int, path: str, page_height: int, window: int, ncols: int, want_text: Sequence[bool],
                 progress: Callable | None, total: int):
    """The pure-Python path: same output as libqix._fast.extract."""
    nums: list[list[float]] = [[] for _ in range(ncols)]
    texts: list[list[str | None] | None] = [[] if want_text[i] else None for i in range(ncols)]
    nan = float("nan")
    state: dict[str, Any] = {"rows": 0, "bad": None, "stop": False}
    done = threading.Event()

    def on_row(row, length, index, payload):
        if state["stop"]:
            return 1
        try:
            cells = json.loads(ctypes.string_at(row, length))
            for i in range(ncols):
                c = cells[i]
                n = c.get("qNum", nan)
                if isinstance(n, str):
                    n = _SPECIAL.get(n, nan)
                t = c.get("qText")
                null = c.get("qIsNull") or (t is None and (not isinstance(n, (int, float)) or n != n))
                nums[i].append(nan if null or not isinstance(n, (int, float)) else float(n))
                if texts[i] is not None:
                    texts[i].append(None if null else t)
        except Exception:  # noqa: BLE001 (a malformed row stops the extraction)
            state["bad"] = ctypes.string_at(row, min(length, 200)).decode("utf-8", "replace")
            return 1
        state["rows"] += 1
        return 0

    def on_done(status, err, rows, payload):
        state["status"] = status
        dup = ctypes.c_void_p()
        if err and L.qix_error_dup(ctypes.byref(dup), err) == 0:
            state["err"] = dup.value
        done.set()

    # The callbacks stay alive until done_cb has run: in _KEEP, left there only when Ctrl-C interrupts before
    # it is known whether the extraction started.
    cbs = (N.ROW_CB(on_row), N.DONE_CB(on_done))
    _KEEP[id(cbs)] = cbs
    st = None
    try:
        st = L.qix_object_extract(ptr, path.encode(), page_height, window, cbs[0], cbs[1], None)
        if st < 0:
            _KEEP.pop(id(cbs), None)
            return st, 0, 0, None, None
        while not done.wait(0.1):
            if progress is not None:
                progress(state["rows"], total)
        _KEEP.pop(id(cbs), None)
    except BaseException:
        state["stop"] = True
        if st is not None and st >= 0:
            done.wait()
            _KEEP.pop(id(cbs), None)
            if state.get("err"):
                L.qix_error_free(state["err"])
        raise
    import numpy as np
    cols = []
    for i in range(ncols):
        a = np.array(nums[i], dtype=np.float64)
        flags = 0
        valid = ~np.isnan(a)
        tx = texts[i]
        nulls = np.array([t is None for t in tx], dtype=bool) if tx is not None else ~valid
        if nulls.any():
            flags |= ANY_NULL
        if bool((valid | nulls).all()):
            flags |= ALL_NUMERIC
            v = a[valid]
            if bool((np.trunc(v) == v).all()) and bool((np.abs(v) <= 2.0 ** 53).all()):
                flags |= INTEGRAL
            if tx is not None:
                ok = True
                for t, x in zip(tx, a):
                    if t is not None:
                        try:
                            d = t[1:] if t.startswith("-") else t
                            ok = float(t) == x and not (len(d) > 1 and d[0] == "0" and d[1] != ".")
                        except ValueError:
                            ok = False
                        if not ok:
                            break
                if ok:
                    flags |= TEXT_IS_NUMBER
        cols.append((a.tobytes(), tx, flags))
    return state["status"], state.get("err") or 0, state["rows"], cols, state["bad"]


def _cube_at(layout: Any, path: str) -> dict:
    node = layout
    parts = [p for p in path.split("/") if p]
    for i, p in enumerate(parts):
        key = p[:-3] if i == len(parts) - 1 and p.endswith("Def") else p
        if not isinstance(node, dict) or key not in node:
            raise EngineError(message=f"libqix: the layout has no hypercube at {path!r}", status=-1)
        node = node[key]
    return node


def extract_object(obj, path: str = "/qHyperCubeDef", *, names: Sequence[str] | None = None,
                   page_height: int = 0, window: int = 0, progress: Callable[[int, int], Any] | bool | None = None,
                   dual: bool = False, engine: str = "auto"):
    """Every row of the hypercube at ``path`` of ``obj`` (a GenericObject, blocking or async) as a DataFrame.

    Columns: the dimensions then the measures (in the order of qColumnOrder when the cube sets one), named by
    ``names`` or the cube's titles, with a RangeIndex. Types: measures float64 (NaN for null or text);
    a dimension whose every value is a number written as such is Int64 (integers) or float64, else string
    (pandas' "string" dtype, <NA> for null). With ``dual=True`` a text dimension whose values also carry numbers
    (e.g. months) gets a second column "<name>.num" (float64).

    Rows come through qix_object_extract: ``window`` pages (0 = 4) of ``page_height`` rows (0 = as many as fit
    in 10,000 cells) in flight; memory is the window plus the columns. ``progress``: None draws a text bar on
    stderr when stderr is a terminal; False none; a callable gets (rows so far, total rows) about every 0.1 s.
    ``engine``: "auto" (the C++ extension when built), "fast" or "python".

    Blocks the calling thread (do not call it on a libqix callback thread). Raises ImportError without pandas,
    an EngineError subclass when a call or the extraction fails (ProtocolError for a row it cannot read),
    KeyboardInterrupt after stopping the extraction on Ctrl-C.
    """
    import numpy as np
    import pandas as pd

    ptr = obj._p()
    layout, _ = _sync(ptr, "GetLayout", [])
    cube = _cube_at(layout, path)
    dims = cube.get("qDimensionInfo", [])
    meas = cube.get("qMeasureInfo", [])
    order = cube.get("qColumnOrder") or list(range(len(dims) + len(meas)))
    total = int(cube.get("qSize", {}).get("qcy", 0))
    is_dim = [i < len(dims) for i in order]
    titles = [(dims[i] if i < len(dims) else meas[i - len(dims)]).get("qFallbackTitle", "") for i in order]
    if names is not None:
        if len(names) != len(order):
            raise ValueError(f"libqix: {len(names)} names for {len(order)} columns")
        titles = list(names)
    bar = None
    if progress is None:
        if sys.stderr.isatty():
            progress = bar = _Bar()
        else:
            progress = None
    elif progress is False:
        progress = None
    use_fast = _fast is not None and engine in ("auto", "fast")
    if engine == "fast" and _fast is None:
        raise ImportError("libqix: the extension libqix._fast is not built")
    try:
        if use_fast:
            status, err, rows, cols, bad = _fast.extract(
                N.address("qix_object_extract"), N.address("qix_error_dup"), N.address("qix_error_free"), ptr,
                path, page_height, window, is_dim, progress, total)
        else:
            status, err, rows, cols, bad = _python_rows(ptr, path, page_height, window, len(order), is_dim,
                                                        progress, total)
    finally:
        if bar is not None:
            bar.close()
    if cols is None:  # not started
        raise last(status)
    if bad is not None:
        if err:
            L.qix_error_free(err)
        raise ProtocolError(message=f"libqix: a row that is not an array of {len(order)} cells: {bad}", status=-8)
    if status != 0:
        try:
            raise from_error(status, err or None)
        finally:
            if err:
                L.qix_error_free(err)
    data: dict[str, Any] = {}
    for title, dim, (nums_b, texts, flags) in zip(titles, is_dim, cols):
        nums = np.frombuffer(nums_b, dtype=np.float64).copy()
        if not dim:
            data[title] = nums
        elif flags & ALL_NUMERIC and flags & TEXT_IS_NUMBER:
            if flags & INTEGRAL:
                mask = np.isnan(nums)
                data[title] = pd.arrays.IntegerArray(np.where(mask, 0, nums).astype(np.int64), mask)
            else:
                data[title] = nums
        else:
            data[title] = pd.array(texts, dtype="string")
            if dual and flags & ALL_NUMERIC:
                data[title + ".num"] = nums
    return pd.DataFrame(data, index=pd.RangeIndex(rows), copy=False)


def _field_value(v: Any) -> dict:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise TypeError(f"libqix: a selection value must be a str or a number, not {type(v).__name__}")
    if isinstance(v, str):
        return {"qText": v}
    return {"qIsNumeric": True, "qNumber": v}


def _extract_doc(doc, dimensions, measures, selections, kwargs):
    dimensions, measures = list(dimensions), list(measures)
    for x in dimensions + measures:
        if not isinstance(x, str):
            raise TypeError(f"libqix: dimensions and measures are str, not {type(x).__name__}")
    if not dimensions and not measures:
        raise ValueError("libqix: extract needs at least one dimension or measure")
    ptr = doc._p()
    fields = []
    try:
        for field, values in (selections or {}).items():
            if isinstance(values, (str, int, float)):
                values = [values]
            _, fptr = _sync(ptr, "GetField", {"qFieldName": field}, want_object=True)
            if not fptr:
                raise EngineError(message=f"libqix: no field {field!r}", status=-7)
            fields.append(fptr)
            _sync(fptr, "SelectValues", {"qFieldValues": [_field_value(v) for v in values],
                                         "qToggleMode": False, "qSoftLock": False})
        props = {
            "qInfo": {"qType": "libqix-extract"},
            "qHyperCubeDef": {
                "qDimensions": [{"qDef": {"qFieldDefs": [d]}} for d in dimensions],
                "qMeasures": [{"qDef": {"qDef": m, "qLabel": m}} for m in measures],
                "qInitialDataFetch": [],
                "qSuppressZero": False,
                "qSuppressMissing": False,
            },
        }
        _, optr = _sync(ptr, "CreateSessionObject", {"qProp": props}, want_object=True)
        if not optr:
            raise EngineError(message="libqix: CreateSessionObject returned no object", status=-7)

        class _Obj:
            def _p(self):
                return optr

        try:
            return extract_object(_Obj(), "/qHyperCubeDef", names=dimensions + measures, **kwargs)
        finally:
            oid = N.text(L.qix_object_generic_id(optr))
            L.qix_object_free(optr)
            try:
                _sync(ptr, "DestroySessionObject", {"qId": oid})
            except EngineError:
                pass
    finally:
        for fptr in fields:
            try:
                _sync(fptr, "Clear", {})
            except EngineError:
                pass
            L.qix_object_free(fptr)


def extract(doc, dimensions: Sequence[str] = (), measures: Sequence[str] = (),
            selections: Mapping[str, Any] | None = None, **kwargs):
    """A DataFrame of ``dimensions`` (field names) then ``measures`` (expressions such as "Sum(Sales)"), one
    column each, in the order given and named as given, over the rows the engine computes for them, after
    selecting ``selections`` ({field: value or [values]}; the fields are cleared again afterwards).

    A session object with that hypercube is created, extracted (see extract_object for ``page_height``,
    ``window``, ``progress``, ``dual``, ``engine``, the types and the errors) and destroyed. With a blocking Doc
    this blocks; with an AsyncDoc it returns an awaitable (the work runs on a worker thread).
    """
    from ._base import _AsyncObject
    if isinstance(doc, _AsyncObject):
        import asyncio
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, lambda: _extract_doc(doc, dimensions, measures, selections, kwargs))
    return _extract_doc(doc, dimensions, measures, selections, kwargs)
