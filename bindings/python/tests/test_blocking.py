"""The blocking API: connect with headers, open a doc, typed calls, selections and change events, close."""

import threading

import pytest

import libqix


def test_connect_with_headers_and_evaluate(start_sim):
    sim = start_sim("--require-header", "X-Test: yes")
    with libqix.connect(sim.url(), headers={"X-Test": "yes"}) as s:
        assert s.state == "connected"
        doc = s.open_doc("demo")
        assert isinstance(doc, libqix.Doc)
        assert doc.evaluate("Sum(Sales)") == doc.evaluate("Sum(Sales)")
        assert float(doc.evaluate("1+2")) == 3
    assert s.state == "closed"


def test_missing_header_is_http_401(start_sim):
    sim = start_sim("--require-header", "X-Test: yes")
    with pytest.raises(libqix.HttpError) as e:
        libqix.connect(sim.url())
    assert e.value.code == 401
    assert isinstance(e.value, libqix.EngineError) and isinstance(e.value, ConnectionError)


def test_session_delegates_global_methods(sim):
    with libqix.connect(sim.url()) as s:
        assert isinstance(s.global_, libqix.Global)
        assert s.engine_version()["qComponentVersion"]
        assert s.doc is None
        doc = s.open_doc("demo")
        assert s.doc.id == doc.id == "demo"


def test_generic_object_layout_and_hypercube(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        obj = doc.create_session_object({
            "qInfo": {"qType": "t"},
            "qHyperCubeDef": {"qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
                              "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}],
                              "qInitialDataFetch": [{"qTop": 0, "qLeft": 0, "qWidth": 2, "qHeight": 100}]}})
        assert isinstance(obj, libqix.GenericObject)
        layout = obj.get_layout()
        assert layout["qHyperCube"]["qSize"]["qcy"] == 6
        assert obj.last_layout["qHyperCube"]["qSize"]["qcy"] == 6
        pages = obj.get_hyper_cube_data("/qHyperCubeDef", [{"qTop": 0, "qLeft": 0, "qWidth": 2, "qHeight": 3}])
        assert len(pages[0]["qMatrix"]) == 3
        total = sum(row[1]["qNum"] for row in layout["qHyperCube"]["qDataPages"][0]["qMatrix"])
        assert total == pytest.approx(float(doc.evaluate("Sum(Sales)")))


def test_selection_fires_changed_and_blocking_calls_work_in_callbacks(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        obj = doc.create_session_object({
            "qInfo": {"qType": "t"},
            "qHyperCubeDef": {"qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
                              "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}]}})
        obj.get_layout()
        seen = []
        changed = threading.Event()

        def on_changed(o):
            seen.append(o.get_layout()["qHyperCube"]["qSize"]["qcy"])  # a blocking call inside the callback
            changed.set()

        sub = obj.on_changed(on_changed)
        field = doc.get_field("Region")
        assert isinstance(field, libqix.Field)
        assert field.select("Benelux") is True
        assert changed.wait(30)
        assert seen[-1] == 1
        sub.remove()
        sub.remove()  # idempotent


def test_closed_session_and_released_object_raise(sim):
    s = libqix.connect(sim.url())
    doc = s.open_doc("demo")
    closed = threading.Event()
    doc.on_closed(lambda o: closed.set())
    s.close()
    assert closed.is_set()  # close() waits until the last callback has run
    assert doc.closed
    with pytest.raises(libqix.ClosedError):
        doc.evaluate("1")
    s.close()  # idempotent
    with libqix.connect(sim.url()) as s2:
        d2 = s2.open_doc("demo")
        d2.release()
        with pytest.raises(libqix.ClosedError):
            d2.evaluate("1")


def test_get_object_missing_is_none(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        assert doc.get_object("no-such-object") is None
        chart = doc.get_object("sales-by-region")
        assert chart.generic_type == "barchart"


def test_generic_call(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        assert doc.call("Evaluate", {"qExpression": "1+1"}) == "2"
        assert doc.call("Evaluate", ["2+2"]) == "4"


def test_calls_from_8_threads(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        errors = []

        def work(t):
            try:
                for i in range(1250):
                    assert doc.evaluate(f"{t}*10000+{i}") == str(t * 10000 + i)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_gc_between_registering_a_callback_and_its_call(sim):
    import gc
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        obj = doc.create_session_object({"qInfo": {"qType": "t"},
                                         "qHyperCubeDef": {"qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}]}})
        obj.get_layout()
        fired = threading.Event()
        obj.on_changed(lambda o, ev=fired: ev.set())  # the only reference to the lambda is libqix's registration
        del obj
        gc.collect()
        doc.get_field("Region").select("Benelux")
        assert fired.wait(30)


def test_delta_on_and_off(sim):
    for delta in (True, False):
        with libqix.connect(sim.url(), delta=delta) as s:
            doc = s.open_doc("demo")
            chart = doc.get_object("sales-by-region")
            first = chart.get_layout()
            doc.get_field("Region").select("Benelux")
            second = chart.get_layout()
            assert first["qHyperCube"]["qSize"]["qcy"] == 6 and second["qHyperCube"]["qSize"]["qcy"] == 1
            assert first["qInfo"] == second["qInfo"]


def test_exit_with_sessions_open_and_events_in_flight(sim):
    import subprocess
    import sys
    code = f"""
import asyncio, libqix
s = libqix.connect({sim.url()!r})
doc = s.open_doc("demo")
chart = doc.get_object("sales-by-region")
chart.get_layout()
chart.on_changed(lambda o: o.get_layout())
doc.get_field("Region").select("Benelux")

async def main():
    a = await libqix.connect_async({sim.url()!r})
    d = await a.open_doc("demo")
    for i in range(200):
        asyncio.ensure_future(d.evaluate(str(i)))
asyncio.run(main())
print("leaving")
"""
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "leaving"


def test_ctrl_c_interrupts_a_blocking_call_and_cancels_it(start_sim):
    import subprocess
    import sys
    sim = start_sim("--calc-delay-ms", "60000")
    code = f"""
import json, os, signal, threading, libqix
frames = []
cancel_sent = threading.Event()

def traffic(sent, frame):  # libqix's event thread
    frames.append((sent, frame))
    if sent and '"Evaluate"' in frame:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the call waits for the engine
    if sent and "CancelRequest" in frame:
        cancel_sent.set()

with libqix.connect({sim.url()!r}, traffic=traffic) as s:
    doc = s.open_doc("demo")
    try:
        doc.evaluate("Sum(Sales)")
    except KeyboardInterrupt:
        print("interrupted")
    cancel_sent.wait()
    sent = [json.loads(f) for ok, f in frames if ok]
    ev = next(m for m in sent if m.get("method") == "Evaluate")
    cancel = next(m for m in sent if m.get("method") == "CancelRequest")
    print("cancelled", cancel["params"] in ([ev["id"]], {{"qRequestId": ev["id"]}}))
    print(s.engine_version()["qComponentVersion"] != "")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["interrupted", "cancelled", "True", "True"]
