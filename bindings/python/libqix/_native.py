"""libqix.so.1 through ctypes: the library's location, the prototypes of the C ABI (include/qix/qix.h) and the
callback types. Internal.

Where the library comes from, first found wins: the environment variable LIBQIX_LIBRARY (a path), the copy a
wheel bundles (libqix/_lib/libqix.so.1), then the dynamic linker's search (``libqix.so.1``, e.g. the Debian
package's /usr/lib/<triplet>/libqix.so.1).

Every call into the library goes through a ctypes.CDLL function, which releases the GIL for the duration of
the call, so blocking calls (qix_object_call_sync, qix_session_wait_closed) never stall other Python threads
or libqix's dispatcher threads (whose callbacks into Python take the GIL).
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_int, c_int64, c_size_t, c_uint64, c_void_p)

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load() -> ctypes.CDLL:
    tried = []
    for cand in (os.environ.get("LIBQIX_LIBRARY"), os.path.join(_HERE, "_lib", "libqix.so.1"), "libqix.so.1"):
        if not cand or (os.sep in cand and not os.path.exists(cand)):
            continue
        try:
            return ctypes.CDLL(cand)
        except OSError as e:
            tried.append(f"{cand}: {e}")
    raise ImportError("libqix: cannot load libqix.so.1 (set LIBQIX_LIBRARY to its path, or install the Debian "
                      "package libqix1): " + "; ".join(tried or ["not found"]))


lib = _load()

# Callback types of qix.h. ctypes makes each call of one of these take the GIL.
CALL_CB = CFUNCTYPE(None, c_void_p, c_void_p)                         # qix_call_cb(res, payload)
OBJECT_CB = CFUNCTYPE(None, c_void_p, c_void_p)                       # qix_object_cb(obj, payload)
STATE_CB = CFUNCTYPE(None, c_void_p, c_int, c_int, c_char_p, c_void_p)  # qix_state_cb
ROW_CB = CFUNCTYPE(c_int, c_char_p, c_size_t, c_int64, c_void_p)      # qix_row_cb
DONE_CB = CFUNCTYPE(None, c_int, c_void_p, c_int64, c_void_p)         # qix_extract_done_cb
TRAFFIC_CB = CFUNCTYPE(None, c_int, c_void_p, c_size_t, c_void_p)     # qix_traffic_cb(sent, frame, len, p)

_P = c_void_p
_PP = POINTER(c_void_p)
_PROTOS = {
    "qix_error_last": (_P, []),
    "qix_error_clear": (None, []),
    "qix_error_code": (c_int, [_P]),
    "qix_error_engine_code": (c_int, [_P]),
    "qix_error_name": (c_char_p, [_P]),
    "qix_error_parameter": (c_char_p, [_P]),
    "qix_error_message": (c_char_p, [_P]),
    "qix_error_is_retriable": (c_int, [_P]),
    "qix_error_dup": (c_int, [_PP, _P]),
    "qix_error_free": (None, [_P]),
    "qix_strerror": (c_char_p, [c_int]),
    "qix_version": (c_char_p, []),
    "qix_free": (None, [_P]),
    "qix_context_default": (_P, []),
    "qix_context_set_io_spin": (c_int, [_P, c_int]),
    "qix_options_new": (c_int, [_PP]),
    "qix_options_free": (None, [_P]),
    "qix_options_set_str": (c_int, [_P, c_char_p, c_char_p]),
    "qix_options_set_int": (c_int, [_P, c_char_p, c_int64]),
    "qix_options_set_bool": (c_int, [_P, c_char_p, c_int]),
    "qix_options_add_header": (c_int, [_P, c_char_p, c_char_p]),
    "qix_options_add_cookie": (c_int, [_P, c_char_p, c_char_p]),
    "qix_options_add_url_param": (c_int, [_P, c_char_p, c_char_p]),
    "qix_options_count": (c_int, []),
    "qix_options_set_traffic_cb": (c_int, [_P, TRAFFIC_CB, _P]),
    "qix_result_status": (c_int, [_P]),
    "qix_result_error": (_P, [_P]),
    "qix_result_id": (c_int64, [_P]),
    "qix_result_json": (c_char_p, [_P]),
    "qix_result_raw": (c_char_p, [_P]),
    "qix_result_object": (c_int, [_PP, _P]),
    "qix_result_free": (None, [_P]),
    "qix_session_open_sync": (c_int, [_PP, _P, _P, c_int]),
    "qix_session_close": (None, [_P]),
    "qix_session_free": (None, [_P]),
    "qix_session_wait_closed": (c_int, [_P, c_int]),
    "qix_session_state": (c_int, [_P]),
    "qix_session_close_info": (c_int, [POINTER(c_int), _PP, _P]),
    "qix_session_call_sync": (c_int, [_PP, _P, c_char_p, c_char_p, c_int, c_int]),
    "qix_session_cancel": (c_int, [_P, c_int64]),
    "qix_session_global": (c_int, [_PP, _P]),
    "qix_session_doc": (c_int, [_PP, _P]),
    "qix_session_on_state": (c_int, [POINTER(c_uint64), _P, STATE_CB, _P]),
    "qix_session_remove_listener": (c_int, [_P, c_uint64]),
    "qix_session_pending_calls": (c_int64, [_P]),
    "qix_object_handle": (c_int, [_P]),
    "qix_object_type": (c_char_p, [_P]),
    "qix_object_generic_id": (c_char_p, [_P]),
    "qix_object_generic_type": (c_char_p, [_P]),
    "qix_object_is_closed": (c_int, [_P]),
    "qix_object_layout": (c_int, [_PP, _P]),
    "qix_object_call": (c_int, [POINTER(c_int64), _P, c_char_p, c_char_p, c_int, c_int, CALL_CB, _P]),
    "qix_object_call_sync": (c_int, [_PP, _P, c_char_p, c_char_p, c_int, c_int]),
    "qix_object_on_changed": (c_int, [POINTER(c_uint64), _P, OBJECT_CB, _P]),
    "qix_object_on_closed": (c_int, [POINTER(c_uint64), _P, OBJECT_CB, _P]),
    "qix_object_remove_listener": (c_int, [_P, c_uint64]),
    "qix_object_watch": (c_int, [_P, CALL_CB, _P]),
    "qix_object_unwatch": (c_int, [_P]),
    "qix_object_dup": (c_int, [_PP, _P]),
    "qix_object_free": (None, [_P]),
    "qix_object_extract": (c_int, [_P, c_char_p, c_int, c_int, ROW_CB, DONE_CB, _P]),
}
for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(lib, _name)
    _f.restype, _f.argtypes = _res, _args


def text(p: bytes | None) -> str:
    """A borrowed UTF-8 char* of the library as str ("" for NULL)."""
    return p.decode("utf-8", "replace") if p else ""


def address(name: str) -> int:
    """The address of a C ABI function, for the extraction extension (libqix/_fast), which calls it."""
    return ctypes.cast(getattr(lib, name), c_void_p).value or 0
