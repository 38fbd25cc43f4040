"""Errors: engine errors with code, LOCERR name, parameter and message; bad input never crashes."""

import pytest

import libqix


def test_engine_error_fields(sim):
    with libqix.connect(sim.url("nope")) as s:
        with pytest.raises(libqix.EngineCallError) as e:
            s.open_doc("nope")
    err = e.value
    assert (err.status, err.code, err.name, err.parameter) == (-3, 1003, "LOCERR_APP_NOT_FOUND", "nope")
    assert err.message and str(err) == err.message
    assert isinstance(err, libqix.EngineError)
    assert "LOCERR_APP_NOT_FOUND" in repr(err)


def test_malformed_and_wrongly_typed_params(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        with pytest.raises(libqix.EngineCallError) as e:
            doc.evaluate(123)  # a number where the spec says string
        assert e.value.name == "LOCERR_JSON_RPC_INVALID_PARAMETERS" and e.value.parameter == "qExpression"
        with pytest.raises(TypeError, match="cannot be sent as JSON"):
            doc.evaluate(object())
        with pytest.raises(TypeError, match="cannot be sent as JSON"):
            doc.evaluate(float("nan"))
        with pytest.raises(libqix.EngineCallError) as e:
            doc.call("NoSuchMethod")
        assert e.value.code == -32601
        with pytest.raises(TypeError):
            doc.evaluate()  # a missing required parameter is Python's own error
        assert doc.evaluate("1+1") == "2"  # the session still works


def test_network_and_option_errors():
    with pytest.raises(libqix.NetworkError):
        libqix.connect("ws://127.0.0.1:1/app/demo", timeout=10)
    with pytest.raises(libqix.InvalidArgumentError, match="unknown option"):
        libqix.connect("ws://127.0.0.1:1/app/demo", bogus=1)
    with pytest.raises(libqix.InvalidArgumentError, match="takes a int"):
        libqix.connect("ws://127.0.0.1:1/app/demo", timeout_call_ms="x")
    with pytest.raises(libqix.InvalidArgumentError):
        libqix.connect("ws://127.0.0.1:1/app/demo", reconnect="sometimes")
    with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError too
        libqix.connect("ws://127.0.0.1:1/app/demo", options={"no.such": 1})
    for name in ("events.poll", "events.inline"):  # callbacks run on libqix's event threads
        with pytest.raises(libqix.InvalidArgumentError, match="not supported by the Python binding"):
            libqix.connect("ws://127.0.0.1:1/app/demo", options={name: True})


def test_every_status_has_its_class():
    classes = {libqix.InvalidArgumentError: -1, libqix.ClosedError: -2, libqix.EngineCallError: -3,
               libqix.CallTimeoutError: -4, libqix.CancelledCallError: -5, libqix.ConnectionLostError: -6,
               libqix.NotFoundError: -7, libqix.ProtocolError: -8, libqix.TooLargeError: -9,
               libqix.HttpError: -10, libqix.TlsError: -11, libqix.NetworkError: -12, libqix.BusyError: -13,
               libqix.OutOfMemoryError: -14, libqix.InternalError: -15}
    for cls, status in classes.items():
        assert cls.status == status and issubclass(cls, libqix.EngineError)
        assert str(cls())  # qix_strerror's text when there is no message
    assert issubclass(libqix.CallTimeoutError, TimeoutError)


def test_malformed_frames_do_not_crash(start_sim):
    sim = start_sim("--malformed-every", "3")
    failures = 0
    try:
        # A call whose answer is malformed never completes: the 1 s call timeout ends it.
        with libqix.connect(sim.url(), timeout=1) as s:
            doc = s.open_doc("demo")
            for _ in range(6):
                try:
                    doc.evaluate("1")
                except libqix.EngineError:
                    failures += 1
    except libqix.EngineError:
        failures += 1
    assert failures > 0


def test_pandas_is_optional_at_import(sim):
    import subprocess
    import sys
    code = f"""
import sys
sys.modules["pandas"] = None  # as if pandas were not installed
import libqix
with libqix.connect({sim.url()!r}) as s:
    doc = s.open_doc("demo")
    assert doc.evaluate("1+1") == "2"
    try:
        libqix.extract(doc, dimensions=["Region"])
    except ImportError:
        print("ImportError")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ImportError"
