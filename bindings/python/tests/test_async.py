"""The asyncio API: awaitable typed calls, concurrency, watch, change events, cancellation (CancelRequest),
timeouts, closed sessions, extraction."""

import asyncio
import json

import pytest

import libqix


def run(coro):
    return asyncio.run(coro)


def test_async_calls_and_concurrency(sim):
    async def main():
        async with libqix.connect_async(sim.url()) as s:
            assert isinstance(s, libqix.AsyncSession)
            doc = await s.open_doc("demo")
            assert isinstance(doc, libqix.AsyncDoc)
            results = await asyncio.gather(*(doc.evaluate(f"{i}+1") for i in range(50)))
            assert results == [str(i + 1) for i in range(50)]
            ex = await doc.evaluate_ex("Sum(Sales)")
            assert ex["qIsNumeric"]
            assert await doc.get_object("no-such-object") is None
            chart = await doc.get_object("sales-by-region")
            assert isinstance(chart, libqix.AsyncGenericObject)
            assert (await chart.get_layout())["qInfo"]["qId"] == "sales-by-region"
            assert await doc.call("Evaluate", ["2+2"]) == "4"
            with pytest.raises(libqix.EngineCallError) as e:
                await doc.evaluate(5)
            assert e.value.name == "LOCERR_JSON_RPC_INVALID_PARAMETERS"
        return s

    s = run(main())
    assert s.state == "closed"


def test_watch_and_on_changed(sim):
    async def main():
        s = await libqix.connect_async(sim.url())
        try:
            doc = await s.open_doc("demo")
            obj = await doc.create_session_object({"qInfo": {"qType": "t"}, "qHyperCubeDef": {
                "qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
                "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}]}})
            changed = asyncio.Event()

            async def on_changed(o):  # a coroutine: scheduled on the loop
                changed.set()

            obj.on_changed(on_changed)
            field = await doc.get_field("Region")
            sizes = []
            async for layout in obj.watch():
                sizes.append(layout["qHyperCube"]["qSize"]["qcy"])
                if len(sizes) == 1:
                    assert await field.select("Benelux")
                else:
                    break
            assert sizes == [6, 1]
            await changed.wait()
        finally:
            await s.aclose()

    run(main())


def test_watch_ends_when_the_session_closes(sim):
    async def main():
        s = await libqix.connect_async(sim.url())
        doc = await s.open_doc("demo")
        chart = await doc.get_object("sales-by-region")
        n = 0
        async for _ in chart.watch():
            n += 1
            await s.aclose()
        return n

    assert run(main()) == 1


def test_task_cancel_sends_cancel_request(start_sim):
    sim = start_sim("--calc-delay-ms", "30000")
    frames = []

    async def main():
        loop = asyncio.get_running_loop()
        evaluate_sent = asyncio.Event()

        def traffic(sent, frame):  # on libqix's event thread
            frames.append((sent, frame))
            if sent and '"Evaluate"' in frame:
                loop.call_soon_threadsafe(evaluate_sent.set)

        async with libqix.connect_async(sim.url(), traffic=traffic) as s:
            doc = await s.open_doc("demo")
            task = asyncio.ensure_future(doc.evaluate("Sum(Sales)"))
            await evaluate_sent.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert s.pending_calls == 0
            # the session is still usable for calls that are not delayed
            assert (await s.engine_version())["qComponentVersion"]
        sent = [json.loads(f) for ok, f in frames if ok]
        evaluate = next(m for m in sent if m.get("method") == "Evaluate")
        cancel = [m for m in sent if m.get("method") == "CancelRequest"]
        assert cancel and cancel[0]["params"] in ([evaluate["id"]], {"qRequestId": evaluate["id"]})

    run(main())


def test_async_timeout_and_closed(start_sim):
    sim = start_sim("--calc-delay-ms", "3000")

    async def main():
        s = await libqix.connect_async(sim.url(), timeout_call_ms=100)
        doc = await s.open_doc("demo")
        with pytest.raises(libqix.CallTimeoutError):
            await doc.evaluate("Sum(Sales)")
        await s.aclose()
        with pytest.raises(libqix.ClosedError):
            await doc.evaluate("1")

    run(main())


def test_async_extract(sim):
    async def main():
        async with libqix.connect_async(sim.url()) as s:
            doc = await s.open_doc("demo")
            df = await libqix.extract(doc, dimensions=["Region"], measures=["Sum(Sales)"], progress=False)
            total = float(await doc.evaluate("Sum(Sales)"))
            chart = await doc.get_object("sales-by-region")
            df2 = await chart.to_pandas(progress=False)
        return df, total, df2

    df, total, df2 = run(main())
    assert len(df) == 6 and df["Sum(Sales)"].sum() == pytest.approx(total, rel=1e-12)
    assert len(df2) == 6
