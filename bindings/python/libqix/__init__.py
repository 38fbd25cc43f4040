"""libqix: a Python client for the Qlik QIX Engine (Engine API over WebSocket), over libqix's C ABI.

    import libqix
    with libqix.connect("ws://127.0.0.1:9076/app/demo", headers={"Authorization": "Bearer ..."}) as s:
        doc = s.open_doc("demo")
        print(doc.evaluate("Sum(Sales)"))
        df = libqix.extract(doc, dimensions=["Region"], measures=["Sum(Sales)"])

See docs/python.md. pandas is needed only by extract/to_pandas.
"""

from . import _native
from ._api import *  # noqa: F401,F403 (the typed Engine API)
from ._api import __all__ as _api_all
from ._base import Subscription
from ._errors import (BusyError, CallTimeoutError, CancelledCallError, ClosedError, ConnectionLostError,
                      EngineCallError, EngineError, HttpError, InternalError, InvalidArgumentError, NetworkError,
                      NotFoundError, OutOfMemoryError, ProtocolError, TlsError, TooLargeError)
from ._extract import extract, extract_object
from ._session import AsyncSession, Session, connect, connect_async, option_names, set_io_spin

__version__ = _native.text(_native.lib.qix_version())
"""The version of the loaded libqix.so.1."""

__all__ = ["connect", "connect_async", "Session", "AsyncSession", "Subscription", "extract", "extract_object",
           "option_names", "set_io_spin", "EngineError", "InvalidArgumentError", "ClosedError", "EngineCallError",
           "CallTimeoutError", "CancelledCallError", "ConnectionLostError", "NotFoundError", "ProtocolError",
           "TooLargeError", "HttpError", "TlsError", "NetworkError", "BusyError", "OutOfMemoryError",
           "InternalError"] + list(_api_all)
