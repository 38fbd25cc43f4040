#!/usr/bin/env python3
"""libqix for Python: open an app, evaluate, select, follow changes, and pull a hypercube into pandas, with the
blocking API and then with asyncio.

    python3 sales.py ws://127.0.0.1:9076/app/demo     (e.g. against `qix-engine-sim --port 9076`)

Needs the package libqix (the wheel, or PYTHONPATH=build/bindings/python/pkg) and pandas.
"""

import asyncio
import sys
import threading

import libqix


def blocking(url: str) -> None:
    with libqix.connect(url, headers={"X-Example": "python"}, timeout=30) as session:
        doc = session.open_doc("demo")
        print("Sum(Sales) =", doc.evaluate("Sum(Sales)"))

        chart = doc.get_object("sales-by-region")
        chart.get_layout()
        changed = threading.Event()
        chart.on_changed(lambda obj: changed.set())
        doc.get_field("Region").select("Benelux")
        changed.wait()
        print("after selecting Benelux:", chart.get_layout()["qHyperCube"]["qSize"]["qcy"], "region(s)")
        doc.clear_all()

        df = libqix.extract(doc, dimensions=["Region", "Year"], measures=["Sum(Sales)"],
                            selections={"Year": [2024, 2025]})
        print(df.groupby("Region")["Sum(Sales)"].sum().sort_values(ascending=False).head(3))
        try:
            doc.get_field("Region").select_values("not a list")
        except libqix.EngineCallError as e:
            print("engine error:", e.name, e.parameter)


async def with_asyncio(url: str) -> None:
    async with libqix.connect_async(url, headers={"X-Example": "python"}) as session:
        doc = await session.open_doc("demo")
        totals = await asyncio.gather(doc.evaluate("Sum(Sales)"), doc.evaluate("Count(OrderId)"))
        print("async:", dict(zip(["sales", "orders"], totals)))
        chart = await doc.get_object("sales-by-region")
        async for layout in chart.watch():
            print("watch: the chart has", layout["qHyperCube"]["qSize"]["qcy"], "rows")
            break


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9076/app/demo"
    blocking(url)
    asyncio.run(with_asyncio(url))
