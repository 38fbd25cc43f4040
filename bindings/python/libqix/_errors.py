"""The exceptions of libqix: EngineError and one subclass per C status (QIX_E* in include/qix/qix.h)."""

from __future__ import annotations

from . import _native as N


class EngineError(Exception):
    """A libqix failure. Every exception libqix raises is one of its subclasses, chosen by ``status``.

    Attributes:
        status: the C status (a negative ``QIX_E*`` number, e.g. -3 for an engine error).
        code: the engine's error code (e.g. 1007) for an engine error, the HTTP status for an HTTP error,
            else 0.
        name: the LOCERR name for an engine error (e.g. "LOCERR_APP_INVALID"), else "".
        parameter: the engine's ``parameter`` for an engine error, else "".
        message: a human-readable message.
        retriable: True when sending the same request again may succeed.
    """

    status = -15

    def __init__(self, code: int = 0, name: str = "", parameter: str = "", message: str = "",
                 *, status: int | None = None, retriable: bool = False):
        if status is not None:
            self.status = status
        self.code, self.name, self.parameter, self.message = code, name, parameter, message
        self.retriable = retriable
        super().__init__(message or N.text(N.lib.qix_strerror(self.status)))

    def __repr__(self):
        return (f"{type(self).__name__}(code={self.code!r}, name={self.name!r}, parameter={self.parameter!r}, "
                f"message={self.message!r})")


class InvalidArgumentError(EngineError, ValueError):
    """QIX_EINVAL: an invalid argument (a malformed params JSON, an unknown option, a value of a wrong type)."""
    status = -1


class ClosedError(EngineError):
    """QIX_ECLOSED: the session or object is closed; nothing was sent."""
    status = -2


class EngineCallError(EngineError):
    """QIX_EENGINE: the engine answered with an error (code, name, parameter say which)."""
    status = -3


class CallTimeoutError(EngineError, TimeoutError):
    """QIX_ETIMEOUT: a call or connect timeout expired."""
    status = -4


class CancelledCallError(EngineError):
    """QIX_ECANCELLED: the call was cancelled by the caller."""
    status = -5


class ConnectionLostError(EngineError, ConnectionError):
    """QIX_ECONNECTION: the connection was lost before the answer arrived."""
    status = -6


class NotFoundError(EngineError, LookupError):
    """QIX_ENOTFOUND: no such thing (object, layout, call id)."""
    status = -7


class ProtocolError(EngineError):
    """QIX_EPROTOCOL: the peer broke the protocol."""
    status = -8


class TooLargeError(EngineError):
    """QIX_ETOOLARGE: a message exceeded the maximum message size."""
    status = -9


class HttpError(EngineError, ConnectionError):
    """QIX_EHTTP: the WebSocket upgrade got an HTTP error status (``code``)."""
    status = -10


class TlsError(EngineError, ConnectionError):
    """QIX_ETLS: the TLS handshake or certificate verification failed."""
    status = -11


class NetworkError(EngineError, ConnectionError):
    """QIX_ENETWORK: name resolution, TCP connect or I/O failed."""
    status = -12


class BusyError(EngineError):
    """QIX_EBUSY: not possible from here (a blocking call inside a libqix callback)."""
    status = -13


class OutOfMemoryError(EngineError, MemoryError):
    """QIX_ENOMEM: out of memory."""
    status = -14


class InternalError(EngineError):
    """QIX_EINTERNAL: a bug in libqix."""
    status = -15


_BY_STATUS = {c.status: c for c in (InvalidArgumentError, ClosedError, EngineCallError, CallTimeoutError,
                                     CancelledCallError, ConnectionLostError, NotFoundError, ProtocolError,
                                     TooLargeError, HttpError, TlsError, NetworkError, BusyError,
                                     OutOfMemoryError, InternalError)}


def from_error(status: int, err: int | None) -> EngineError:
    """The exception for a C status and a borrowed ``qix_error*`` (or None: then only the status is known)."""
    L = N.lib
    if err:
        status = L.qix_error_code(err) or status
    cls = _BY_STATUS.get(status, InternalError)
    if not err:
        return cls(message=N.text(L.qix_strerror(status)), status=status)
    return cls(L.qix_error_engine_code(err), N.text(L.qix_error_name(err)), N.text(L.qix_error_parameter(err)),
               N.text(L.qix_error_message(err)), status=status, retriable=bool(L.qix_error_is_retriable(err)))


def last(status: int) -> EngineError:
    """The exception for a failed synchronous call on this thread (qix_error_last())."""
    return from_error(status, N.lib.qix_error_last())


def check(status: int) -> None:
    """Raises the exception for a failed status of a synchronous call; returns for QIX_OK (or a count)."""
    if status < 0:
        raise last(status)
