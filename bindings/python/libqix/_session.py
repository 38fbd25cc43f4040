"""Sessions: libqix.connect (blocking) and libqix.connect_async (asyncio)."""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import inspect
import queue
import threading
import weakref
from typing import Any, Callable, Mapping

from . import _native as N
from ._api import ASYNC_CLASSES, CLASSES, AsyncDoc, AsyncGlobal, Doc, Global
from ._base import _STATE_EVENT, _TRAFFIC, STATES, Subscription, _drop, _register
from ._errors import InvalidArgumentError, check, last

L = N.lib


class _OptionInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value_type", ctypes.c_int), ("min", ctypes.c_int64),
                ("max", ctypes.c_int64), ("values", ctypes.c_char_p), ("default_text", ctypes.c_char_p),
                ("doc", ctypes.c_char_p)]


L.qix_options_info.restype = ctypes.POINTER(_OptionInfo)
L.qix_options_info.argtypes = [ctypes.c_int]


def option_names() -> dict[str, int]:
    """Every session option libqix knows (docs/defaults.md), with its type: 0 str, 1 int, 2 bool."""
    out = {}
    for i in range(L.qix_options_count()):
        info = L.qix_options_info(i)
        if info:
            out[N.text(info.contents.name)] = info.contents.value_type
    return out


def set_io_spin(microseconds: int) -> None:
    """Sets how long libqix's I/O thread may poll its sockets before it sleeps, in microseconds (0 to 1,000,000;
    0: never), for every session of this process (they share libqix's default context).

    It polls only while answers have been coming back that fast (a call at a time to a nearby engine), which
    saves a thread wake-up per answer at the cost of CPU; after longer waits it sleeps at once. The default is
    50, or the environment variable QIX_IO_SPIN_US when the context was made. Any thread; takes effect at the
    I/O thread's next wait (qix_context_set_io_spin, docs/c-api.md, Threads).

    Raises InvalidArgumentError out of range, TypeError for a non-integer.
    """
    if isinstance(microseconds, bool) or not isinstance(microseconds, int):
        raise TypeError(f"libqix.set_io_spin: microseconds must be an int, not {type(microseconds).__name__}")
    if not -2**31 <= microseconds < 2**31:  # ctypes would wrap it into a C int; libqix checks the rest
        raise InvalidArgumentError(message=f"libqix: io spin {microseconds} us is out of range (0 to 1000000)",
                                   status=-1)
    check(L.qix_context_set_io_spin(None, microseconds))


_OPTIONS = option_names()


def _option_name(key: str) -> str:
    """A keyword argument's option name: as is when known ("url"), else with one "_" read as "."
    (tls_ca_file -> tls.ca_file, timeout_call_ms -> timeout.call_ms)."""
    if key in _OPTIONS:
        return key
    for i, ch in enumerate(key):
        if ch == "_" and (key[:i] + "." + key[i + 1:]) in _OPTIONS:
            return key[:i] + "." + key[i + 1:]
    raise InvalidArgumentError(message=f"libqix: unknown option {key!r} (see docs/defaults.md)", status=-1)


def _options(url, headers, cookies, timeout, options, kwargs, traffic=None) -> tuple[int, int]:
    out = ctypes.c_void_p()
    check(L.qix_options_new(ctypes.byref(out)))
    opts = out.value
    try:
        # Callbacks run users' Python code: never on libqix's I/O thread (the C API's default events.inline).
        check(L.qix_options_set_bool(opts, b"events.inline", 0))
        values: dict[str, Any] = {}
        if url is not None:
            values["url"] = url
        if timeout is not None:
            values["timeout.call_ms"] = int(timeout * 1000)
            values["timeout.connect_ms"] = int(timeout * 1000)
        values.update(options or {})
        values.update({_option_name(k): v for k, v in kwargs.items()})
        for name, value in values.items():
            kind = _OPTIONS.get(name)
            if kind is None:
                raise InvalidArgumentError(message=f"libqix: unknown option {name!r} (see docs/defaults.md)",
                                           status=-1)
            if name in ("events.poll", "events.inline") and value is True:
                raise InvalidArgumentError(
                    message=f"libqix: option {name!r} is not supported by the Python binding: callbacks run "
                            "on libqix's event threads", status=-1)
            n = name.encode()
            if kind == 2 and isinstance(value, bool):
                st = L.qix_options_set_bool(opts, n, int(value))
            elif kind == 1 and isinstance(value, int) and not isinstance(value, bool):
                st = L.qix_options_set_int(opts, n, value)
            elif kind == 0 and isinstance(value, str):
                st = L.qix_options_set_str(opts, n, value.encode())
            else:
                raise InvalidArgumentError(
                    message=f"libqix: option {name!r} takes a {('str', 'int', 'bool')[kind]}, "
                            f"not {type(value).__name__} {value!r}", status=-1)
            check(st)
        for k, v in (headers or {}).items():
            check(L.qix_options_add_header(opts, str(k).encode(), str(v).encode()))
        for k, v in (cookies or {}).items():
            check(L.qix_options_add_cookie(opts, str(k).encode(), str(v).encode()))
        key = 0
        if traffic is not None:
            key = _register(traffic)
            check(L.qix_options_set_traffic_cb(opts, _TRAFFIC, key))
        return opts, key
    except BaseException:
        L.qix_options_free(opts)
        raise


def _open(opts_key: tuple[int, int]) -> tuple[int, int]:
    opts, key = opts_key
    out = ctypes.c_void_p()
    try:
        st = L.qix_session_open_sync(ctypes.byref(out), None, opts, 0)
        if st < 0:
            if key:
                _drop(key)
            raise last(st)
        return out.value, key
    finally:
        L.qix_options_free(opts)


class _SessionBase:
    _classes: Mapping[str, type]

    def __init__(self, ptr_key: tuple[int, int]):
        self._ptr, self._traffic_key = ptr_key
        self._close_lock = threading.Lock()
        self._global = None
        self._keys: set[int] = set()  # the session's listener registrations, dropped when it is freed

    def _object(self, getter) -> Any:
        out = ctypes.c_void_p()
        st = getter(ctypes.byref(out), self._p())
        if st == -7:  # QIX_ENOTFOUND
            return None
        check(st)
        cls = self._classes.get(N.text(L.qix_object_type(out.value)), self._classes["GenericObject"])
        return cls(self, out.value)

    def _p(self) -> int:
        if not self._ptr:
            from ._errors import ClosedError
            raise ClosedError(message="libqix: the session was freed", status=-2)
        return self._ptr

    @property
    def state(self) -> str:
        """"connecting", "connected", "suspended" (reconnecting) or "closed"."""
        return STATES.get(L.qix_session_state(self._ptr), "closed") if self._ptr else "closed"

    @property
    def close_info(self) -> tuple[int, str] | None:
        """(WebSocket close code, why) once closed, else None."""
        if not self._ptr:
            return None
        code, reason = ctypes.c_int(), ctypes.c_void_p()
        if L.qix_session_close_info(ctypes.byref(code), ctypes.byref(reason), self._ptr) != 0:
            return None
        try:
            return code.value, ctypes.string_at(reason.value).decode("utf-8", "replace") if reason.value else ""
        finally:
            L.qix_free(reason.value)

    @property
    def pending_calls(self) -> int:
        """The number of calls waiting for an answer."""
        return max(0, L.qix_session_pending_calls(self._ptr)) if self._ptr else 0

    def on_state(self, callback: Callable[[str, int, str], Any]) -> Subscription:
        """Calls ``callback(state, close_code, reason)`` on each state change ("suspended", "resumed",
        "closed" ...; close_code and reason are set for closed, suspended and resumed). Threads as on_changed."""
        key = _register((self, callback))
        self._keys.add(key)
        lid = ctypes.c_uint64()
        st = L.qix_session_on_state(ctypes.byref(lid), self._p(), _STATE_EVENT, key)
        if st < 0:
            _drop(key)
            raise last(st)
        ptr = self._ptr
        return Subscription(lambda: L.qix_session_remove_listener(ptr, lid.value), key)

    def _take(self) -> int | None:
        """The handle, once: the first closer gets it (later calls see the session closed)."""
        with self._close_lock:
            ptr, self._ptr = self._ptr, None
        return ptr

    def _after_drain(self) -> None:
        pass

    def _release(self, ptr: int) -> None:
        self._after_drain()
        L.qix_session_free(ptr)
        for key in [self._traffic_key, *self._keys]:
            _drop(key)
        self._keys.clear()

    def _shutdown(self) -> None:
        """Closes, waits until the session's last callbacks have run (on a libqix dispatcher thread this
        cannot wait and returns at once), frees."""
        ptr = self._take()
        if ptr:
            L.qix_session_close(ptr)
            L.qix_session_wait_closed(ptr, -1)
            self._release(ptr)

    def __del__(self):
        if getattr(self, "_ptr", None) and L is not None:
            try:
                self._shutdown()
            except Exception:  # noqa: BLE001 (interpreter shutdown)
                pass


# Every session not closed yet. At interpreter exit they are closed and drained, so that no libqix callback
# can run into a finalizing interpreter.
_open_sessions: "weakref.WeakSet[_SessionBase]" = weakref.WeakSet()


@atexit.register
def _close_open_sessions() -> None:
    for s in list(_open_sessions):
        try:
            s._shutdown()
        except Exception:  # noqa: BLE001
            pass


class Session(_SessionBase):
    """A blocking session: one WebSocket to one engine app (see libqix.connect). Thread-safe. Its objects'
    methods block the calling thread. Listeners run one at a time, in order, on the session's own callback
    thread, where blocking calls are allowed. ``close()`` (or leaving the ``with`` block) closes it, waits until
    every callback has run, and frees it."""

    _classes = CLASSES

    def __init__(self, ptr_key: tuple[int, int]):
        super().__init__(ptr_key)
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        _open_sessions.add(self)

    def _after_drain(self) -> None:
        thread = self._thread
        if thread is not None:
            self._events.put((None, ()))
            if threading.current_thread() is not thread:
                thread.join()

    def _dispatch(self, fn, *args) -> None:
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run_events, name="libqix-events", daemon=True)
                self._thread.start()
        self._events.put((fn, args))

    def _run_events(self) -> None:
        while True:
            fn, args = self._events.get()
            if fn is None:
                return
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 (a user callback's exception must not end the thread)
                import traceback
                traceback.print_exc()

    @property
    def global_(self) -> Global:
        """The Global object (handle -1): Engine API methods of Global (open_doc, engine_version ...)."""
        if self._global is None:
            self._global = self._object(L.qix_session_global)
        return self._global

    @property
    def doc(self) -> Doc | None:
        """The doc this session opened (open_doc, create_session_app, get_active_doc), or None."""
        return self._object(L.qix_session_doc)

    def open_doc(self, app_id: str, user_name: str | None = None, password: str | None = None,
                 serial: str | None = None, no_data: bool | None = None) -> Doc:
        """Global.OpenDoc: opens the app ``app_id`` and returns its Doc (raises EngineCallError, e.g.
        LOCERR_APP_NOT_FOUND, when it cannot)."""
        return self.global_.open_doc(app_id, user_name, password, serial, no_data)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.global_, name)

    def close(self) -> None:
        """Closes the session (WebSocket code 1000), waits until its last callbacks have run, and frees it:
        pending calls fail with ClosedError, objects become closed. Idempotent; thread-safe (the first
        close does the work)."""
        self._shutdown()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncSession(_SessionBase):
    """An asyncio session (see libqix.connect_async): its objects' methods are coroutines completing on the
    event loop that opened it; listeners run on that loop too. Use it from that loop only."""

    _classes = ASYNC_CLASSES

    def __init__(self, ptr_key: tuple[int, int], loop: asyncio.AbstractEventLoop):
        super().__init__(ptr_key)
        self._loop = loop
        _open_sessions.add(self)

    def _dispatch(self, fn, *args) -> None:
        def run():
            r = fn(*args)
            if inspect.isawaitable(r):
                asyncio.ensure_future(r)
        try:
            self._loop.call_soon_threadsafe(run)
        except RuntimeError:  # the loop is closed
            pass

    @property
    def global_(self) -> AsyncGlobal:
        """The Global object (handle -1), awaitable methods."""
        if self._global is None:
            self._global = self._object(L.qix_session_global)
        return self._global

    @property
    def doc(self) -> AsyncDoc | None:
        """The doc this session opened, or None."""
        return self._object(L.qix_session_doc)

    async def open_doc(self, app_id: str, user_name: str | None = None, password: str | None = None,
                       serial: str | None = None, no_data: bool | None = None) -> AsyncDoc:
        """Global.OpenDoc, awaitable."""
        return await self.global_.open_doc(app_id, user_name, password, serial, no_data)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.global_, name)

    async def aclose(self) -> None:
        """Closes the session, waits (off the loop) until its last callbacks have been handed over, frees it."""
        ptr = self._take()
        if not ptr:
            return
        L.qix_session_close(ptr)
        await asyncio.get_running_loop().run_in_executor(None, L.qix_session_wait_closed, ptr, -1)
        self._release(ptr)

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


def connect(url: str | None = None, headers: Mapping[str, str] | None = None, *,
            cookies: Mapping[str, str] | None = None, timeout: float | None = None,
            options: Mapping[str, Any] | None = None, traffic: Callable[[bool, str], Any] | None = None,
            **kwargs: Any) -> Session:
    """Opens a blocking session and waits until it is connected.

    Args:
        url: the engine URL, e.g. "wss://host/app/<id>" or "ws://127.0.0.1:9076/app/demo".
        headers: extra HTTP headers of the WebSocket upgrade (e.g. {"Authorization": "Bearer ..."}); secrets,
            never logged.
        cookies: cookies, sent as one Cookie header.
        timeout: seconds for connecting and for each call (sets timeout.connect_ms and timeout.call_ms).
        options: any libqix option by its name ({"tls.ca_file": "ca.pem", "reconnect": "resume"}); the list is
            docs/defaults.md. The same may be given as keyword arguments with "_" for the first "."
            (tls_ca_file="ca.pem", reconnect="resume", timeout_call_ms=5000).
        traffic: ``traffic(sent, frame)`` for every JSON-RPC frame sent (True) or received (False), as text
            (no HTTP headers, so no credentials). It runs on libqix's event thread, in order: keep it short,
            make no blocking libqix call in it (BusyError).

    Returns: the Session (a context manager: ``with libqix.connect(...) as s:``).
    Raises: InvalidArgumentError (unknown option, wrong type), NetworkError, HttpError (e.g. 401),
        TlsError, CallTimeoutError.
    """
    return Session(_open(_options(url, headers, cookies, timeout, options, kwargs, traffic)))


class _AsyncConnect:
    """The awaitable and async context manager connect_async returns."""

    def __init__(self, args):
        self._args = args
        self._session: AsyncSession | None = None

    async def _open(self) -> AsyncSession:
        loop = asyncio.get_running_loop()
        opts = _options(*self._args)
        ptr = await loop.run_in_executor(None, _open, opts)
        return AsyncSession(ptr, loop)

    def __await__(self):
        return self._open().__await__()

    async def __aenter__(self) -> AsyncSession:
        self._session = await self._open()
        return self._session

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.aclose()


def connect_async(url: str | None = None, headers: Mapping[str, str] | None = None, *,
                  cookies: Mapping[str, str] | None = None, timeout: float | None = None,
                  options: Mapping[str, Any] | None = None, traffic: Callable[[bool, str], Any] | None = None,
                  **kwargs: Any) -> _AsyncConnect:
    """Opens an asyncio session: ``async with libqix.connect_async(url) as s:`` or ``s = await
    libqix.connect_async(url)``. Same arguments and errors as connect()."""
    return _AsyncConnect((url, headers, cookies, timeout, options, kwargs, traffic))
