"""The object handles under the generated classes (libqix/_api.py) and the hand-off of libqix's callbacks to
Python. Internal; the public names are re-exported by libqix/__init__.py.

Callbacks. libqix calls back on its own event (dispatcher) threads. Every callback of this package goes through
one of the module-level ctypes function objects below (_CALL_DONE, _WATCH_CB, _OBJECT_EVENT, _STATE_EVENT),
created once and never released, and its ``payload`` is an integer key into _entries: a late callback whose
entry is gone (listener removed, session freed) finds nothing and does nothing. So no ctypes callback object
can be collected while the C side may still call it. From there:
- blocking sessions hand user callbacks (on_changed, on_closed, on_state) to the session's own Python
  thread, one at a time in order, so a callback may make blocking calls (on a dispatcher thread they would
  fail with BusyError);
- asyncio sessions hand results and events to their event loop with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import json
import sys
import threading
from typing import Any, Callable

from . import _native as N
from ._errors import ClosedError, EngineError, check, from_error, last

L = N.lib
_RAW = "raw"      # result: the engine's whole result object (qix_result_raw)
_VALUE = "value"  # result: the unwrapped value (qix_result_json)

_entries: dict[int, Any] = {}
_keys = itertools.count(1)
_lock = threading.Lock()


def _register(entry: Any) -> int:
    with _lock:
        key = next(_keys)
        _entries[key] = entry
    return key


def _drop(key: int) -> Any:
    with _lock:
        return _entries.pop(key, None)


def _peek(key: int) -> Any:
    with _lock:
        return _entries.get(key)


def _params_json(params: dict, opt: dict | None) -> bytes:
    if opt:
        params = dict(params)
        for k, v in opt.items():
            if v is not None:
                params[k] = v
    try:
        return json.dumps(params, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as e:
        raise TypeError(f"libqix: a parameter cannot be sent as JSON: {e}") from None


def _object_kind(result: Any) -> type | None:
    if isinstance(result, tuple):
        return result[1]
    return result if isinstance(result, type) else None


def _convert(session, result, text: str | None, obj_ptr: int | None):
    """The Python value of a call's result (on the caller's thread or the event loop)."""
    cls = _object_kind(result)
    obj = None
    if obj_ptr:
        obj = cls(session, obj_ptr) if cls is not None else L.qix_object_free(obj_ptr)
    if result is None:
        return None
    if isinstance(result, type):
        return obj
    value = json.loads(text) if text else None
    if isinstance(result, tuple) and isinstance(value, dict):
        value["qReturn"] = obj
    return value


def _read(res: int, result) -> tuple[str | None, int | None]:
    """The parts of a successful qix_result to keep beyond its lifetime: its JSON text and its object."""
    text = None
    if result == _VALUE:
        text = N.text(L.qix_result_json(res))
    elif result == _RAW or isinstance(result, tuple):
        text = N.text(L.qix_result_raw(res))
    obj_ptr = None
    if _object_kind(result) is not None:
        out = ctypes.c_void_p()
        if L.qix_result_object(ctypes.byref(out), res) == 0:
            obj_ptr = out.value
    return text, obj_ptr


# ---- the C callbacks ---------------------------------------------------------------------------------------
def _settle(fut: asyncio.Future, session, result, status, exc, text, obj_ptr):
    if fut.done():
        if obj_ptr:
            L.qix_object_free(obj_ptr)
        return
    if exc is not None:
        fut.set_exception(exc)
        return
    try:
        fut.set_result(_convert(session, result, text, obj_ptr))
    except Exception as e:  # noqa: BLE001 (a malformed answer: the caller sees it)
        fut.set_exception(e)


def _on_call_done(res, payload):
    entry = _drop(payload or 0)
    if entry is None:
        return
    loop, fut, session, result = entry
    status = L.qix_result_status(res)
    if loop is None:  # a blocking call on the main thread (_Object._call_interruptible): fut is its box
        fut.append((status, from_error(status, L.qix_result_error(res)) if status else None,
                    *(_read(res, result) if status == 0 else (None, None))))
        session.release()
        return
    exc, text, obj_ptr = None, None, None
    if status == 0:
        text, obj_ptr = _read(res, result)
    elif status == -7 and isinstance(result, type):  # QIX_ENOTFOUND: the engine finds no such object
        pass
    else:
        exc = from_error(status, L.qix_result_error(res))
    try:
        loop.call_soon_threadsafe(_settle, fut, session, result, status, exc, text, obj_ptr)
    except RuntimeError:  # the loop is closed
        if obj_ptr:
            L.qix_object_free(obj_ptr)


def _on_watch(res, payload):
    entry = _peek(payload or 0)
    if entry is None:
        return
    deliver = entry
    status = L.qix_result_status(res)
    if status == 0:
        deliver(N.text(L.qix_result_json(res)), None)
    else:
        deliver(None, from_error(status, L.qix_result_error(res)))


def _on_object_event(obj, payload):
    entry = _peek(payload or 0)
    if entry is not None:
        session, fn, pyobj = entry
        session._dispatch(fn, pyobj)


def _on_state(session_ptr, state, code, reason, payload):
    entry = _peek(payload or 0)
    if entry is not None:
        session, fn = entry
        session._dispatch(fn, STATES.get(state, str(state)), code, N.text(reason))


def _on_traffic(sent, frame, length, payload):
    fn = _peek(payload or 0)
    if fn is not None:
        try:
            fn(bool(sent), ctypes.string_at(frame, length).decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 (a user callback's exception must not reach libqix)
            import traceback
            traceback.print_exc()


_CALL_DONE = N.CALL_CB(_on_call_done)
_TRAFFIC = N.TRAFFIC_CB(_on_traffic)
_WATCH_CB = N.CALL_CB(_on_watch)
_OBJECT_EVENT = N.OBJECT_CB(_on_object_event)
_STATE_EVENT = N.STATE_CB(_on_state)

STATES = {0: "connecting", 1: "connected", 2: "closed", 3: "suspended", 4: "resumed"}


class Subscription:
    """A registered listener (on_changed, on_closed, on_state). ``remove()`` unregisters it; idempotent.
    Thread-safe. After remove() returns, the callback is not started again (one already handed to the
    session's thread or event loop may still run)."""

    __slots__ = ("_remove", "_key")

    def __init__(self, remove: Callable[[], Any], key: int):
        self._remove, self._key = remove, key

    def remove(self) -> None:
        if _drop(self._key) is not None:
            self._remove()


# ---- objects ---------------------------------------------------------------------------------------------
class _Handle:
    """What the blocking and the async object classes share: the qix_object* and its properties."""

    __slots__ = ("_session", "_ptr", "__weakref__")
    _qtype = ""

    def __init__(self, session, ptr: int):
        self._session, self._ptr = session, ptr

    def __del__(self):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr and L is not None:
            try:
                L.qix_object_free(ptr)
            except Exception:  # noqa: BLE001 (interpreter shutdown)
                pass

    def _p(self) -> int:
        if not self._ptr:
            raise ClosedError(message=f"libqix: this {type(self).__name__} was released", status=-2)
        return self._ptr

    @property
    def session(self):
        """The session the object belongs to."""
        return self._session

    @property
    def handle(self) -> int:
        """The engine handle (-1 for Global; it changes when a session resumes after a reconnect)."""
        return L.qix_object_handle(self._ptr) if self._ptr else 0

    @property
    def type(self) -> str:
        """The qType ("Doc", "GenericObject" ...)."""
        return N.text(L.qix_object_type(self._ptr)) if self._ptr else ""

    @property
    def id(self) -> str:
        """The qGenericId."""
        return N.text(L.qix_object_generic_id(self._ptr)) if self._ptr else ""

    @property
    def generic_type(self) -> str:
        """The qGenericType (e.g. "barchart")."""
        return N.text(L.qix_object_generic_type(self._ptr)) if self._ptr else ""

    @property
    def closed(self) -> bool:
        """True once the engine handle is closed (by the engine, the session's end or release())."""
        return not self._ptr or bool(L.qix_object_is_closed(self._ptr))

    @property
    def last_layout(self) -> Any:
        """The last layout fetched (GetLayout / GetAppLayout) as parsed JSON, or None when none was fetched."""
        out = ctypes.c_void_p()
        if not self._ptr or L.qix_object_layout(ctypes.byref(out), self._ptr) != 0:
            return None
        try:
            return json.loads(ctypes.string_at(out.value).decode())
        finally:
            L.qix_free(out.value)

    def as_class(self, cls: type) -> Any:
        """A new handle on the same engine object as another class of the same kind (blocking or async),
        e.g. ``obj.as_class(libqix.GenericDimension)`` for an object whose qType the engine reports otherwise.
        Listeners are per handle. Raises TypeError for a class of the other kind, ClosedError when released."""
        if not (isinstance(cls, type) and issubclass(cls, _Object if isinstance(self, _Object) else _AsyncObject)):
            raise TypeError(f"libqix: cannot view a {type(self).__name__} as {cls!r}")
        out = ctypes.c_void_p()
        check(L.qix_object_dup(ctypes.byref(out), self._p()))
        return cls(self._session, out.value)

    def release(self) -> None:
        """Releases this handle (not the engine object: use Doc.destroy_session_object for that). Its listeners
        stop; later calls raise ClosedError. Idempotent."""
        self.__del__()

    def __repr__(self):
        return f"<libqix.{type(self).__name__} handle={self.handle} id={self.id!r}>"

    def _listen(self, register, fn: Callable, pyobj) -> Subscription:
        key = _register((self._session, fn, pyobj))
        self._session._keys.add(key)
        lid = ctypes.c_uint64()
        st = register(ctypes.byref(lid), self._p(), _OBJECT_EVENT, key)
        if st < 0:
            _drop(key)
            raise last(st)
        ptr = self._ptr
        return Subscription(lambda: L.qix_object_remove_listener(ptr, lid.value), key)

    def on_changed(self, callback: Callable[[Any], Any]) -> Subscription:
        """Calls ``callback(obj)`` each time the object's data becomes invalid (the engine's change
        notification; fetch the layout again). Also once at once when the data is not current yet (see
        docs/c-api.md, "The changed rule"). Blocking sessions run it on the session's callback thread (blocking
        calls are allowed there); asyncio sessions on the event loop (a coroutine function is scheduled as a
        task). Returns a Subscription; raises ClosedError on a closed object."""
        return self._listen(L.qix_object_on_changed, callback, self)

    def on_closed(self, callback: Callable[[Any], Any]) -> Subscription:
        """Calls ``callback(obj)`` once, when the engine handle is closed. As on_changed for threads."""
        return self._listen(L.qix_object_on_closed, callback, self)

    def _extract_args(self, path):
        return self._p(), path


class _Object(_Handle):
    """Base of the blocking classes (Global, Doc, GenericObject ...): each method blocks the calling thread
    (the GIL is released meanwhile) until the engine answers, and raises an EngineError subclass on failure.
    Thread-safe: any thread may call; not from inside a libqix callback on a dispatcher thread (BusyError)."""

    __slots__ = ()

    def _call(self, method: str, params: dict, result: Any, opt: dict | None = None) -> Any:
        body = _params_json(params, opt)
        if threading.current_thread() is threading.main_thread():
            return self._call_interruptible(method, body, result)
        out = ctypes.c_void_p()
        st = L.qix_object_call_sync(ctypes.byref(out), self._p(), method.encode(), body, 0, -1)
        if st == -7 and isinstance(result, type):  # QIX_ENOTFOUND: the engine finds no such object
            return None
        if st < 0:
            raise last(st)
        try:
            text, obj_ptr = _read(out.value, result)
        finally:
            L.qix_result_free(out.value)
        return _convert(self._session, result, text, obj_ptr)

    def _call_interruptible(self, method: str, body: bytes, result: Any) -> Any:
        """A blocking call that Ctrl-C (KeyboardInterrupt, delivered to the main thread only) interrupts: the
        call is then cancelled (the engine gets a CancelRequest) and the interrupt propagates."""
        done = threading.Lock()  # released by the callback; acquiring it is what Ctrl-C can interrupt
        done.acquire()
        box: list = []
        ptr = self._p()
        key = _register((None, box, done, result))
        rid = ctypes.c_int64()
        try:
            # Ctrl-C may arrive while this runs (the request is sent meanwhile): hence inside the try.
            st = L.qix_object_call(ctypes.byref(rid), ptr, method.encode(), body, 0, -1, _CALL_DONE, key)
            if st < 0 and st != -2:  # QIX_ECLOSED: the callback runs too, with the error
                _drop(key)
                raise last(st)
            done.acquire()
        except BaseException:
            if rid.value and not isinstance(sys.exc_info()[1], EngineError):
                # Issued (the id is set at once): cancel it, and wait for its callback, which then runs at once.
                L.qix_session_cancel(self._session._ptr or 0, rid.value)
                try:
                    done.acquire()
                finally:
                    for item in box:
                        if item[3]:
                            L.qix_object_free(item[3])
            else:
                _drop(key)
            raise
        status, exc, text, obj_ptr = box[0]
        if status == -7 and isinstance(result, type):  # QIX_ENOTFOUND: the engine finds no such object
            return None
        if exc is not None:
            raise exc
        return _convert(self._session, result, text, obj_ptr)

    def call(self, method: str, params: Any = None) -> Any:
        """The generic call: any Engine API method by name (e.g. one newer than the typed API), params a list
        (positional) or dict (by name). Returns the unwrapped result as parsed JSON (qReturn, or the single
        out value, or the whole result)."""
        out = ctypes.c_void_p()
        body = json.dumps(params if params is not None else []).encode()
        st = L.qix_object_call_sync(ctypes.byref(out), self._p(), method.encode(), body, 0, -1)
        if st < 0:
            raise last(st)
        try:
            return json.loads(N.text(L.qix_result_json(out.value)))
        finally:
            L.qix_result_free(out.value)

    def to_pandas(self, path: str = "/qHyperCubeDef", **kwargs):
        """Every row of the object's hypercube at ``path`` as a pandas.DataFrame: see libqix.extract_object."""
        from ._extract import extract_object
        return extract_object(self, path, **kwargs)


class _AsyncObject(_Handle):
    """Base of the asyncio classes (AsyncGlobal, AsyncDoc ...): each method is a coroutine that completes on
    the session's event loop. Cancelling the awaiting task sends the engine a CancelRequest for the call."""

    __slots__ = ()

    async def _call(self, method: str, params: dict, result: Any, opt: dict | None = None) -> Any:
        return await self._send(method, _params_json(params, opt), result)

    async def _send(self, method: str, body: bytes, result: Any) -> Any:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        key = _register((loop, fut, self._session, result))
        rid = ctypes.c_int64()
        st = L.qix_object_call(ctypes.byref(rid), self._p(), method.encode(), body, 0, -1, _CALL_DONE, key)
        if st < 0 and st != -2:  # QIX_ECLOSED: the callback runs too, with the error
            _drop(key)
            raise last(st)
        try:
            return await fut
        except asyncio.CancelledError:
            if rid.value:
                L.qix_session_cancel(self._session._ptr, rid.value)
            raise

    async def call(self, method: str, params: Any = None) -> Any:
        """The generic call (see _Object.call), awaitable."""
        body = json.dumps(params if params is not None else []).encode()
        return await self._send(method, body, _VALUE)

    async def watch(self):
        """An async iterator of the object's layout: the current one at once, then a fresh one after each change
        (bursts coalesced; the session option ``watch.min_interval_ms`` throttles). Ends when the object or
        session closes; a failed fetch raises its EngineError. Leaving the loop stops the watch (one watch per
        engine object: a newer watch on the same object replaces this one)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        end = object()

        def deliver(text, exc):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, exc if exc is not None else text)
            except RuntimeError:
                pass

        key = _register(deliver)
        closed = self.on_closed(lambda _o: queue.put_nowait(end))
        st = L.qix_object_watch(self._p(), _WATCH_CB, key)
        if st < 0:
            _drop(key)
            closed.remove()
            raise last(st)
        try:
            while True:
                item = await queue.get()
                if item is end:
                    return
                if isinstance(item, EngineError):
                    if isinstance(item, ClosedError):
                        return
                    raise item
                yield json.loads(item)
        finally:
            _drop(key)
            closed.remove()
            if self._ptr:
                L.qix_object_unwatch(self._ptr)

    async def to_pandas(self, path: str = "/qHyperCubeDef", **kwargs):
        """As the blocking to_pandas, awaitable: the rows are gathered on a worker thread."""
        from ._extract import extract_object
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: extract_object(self, path, **kwargs))


def check_status(st: int) -> None:
    check(st)
