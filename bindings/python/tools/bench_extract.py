#!/usr/bin/env python3
"""The extraction figure of docs/python.md: 1,000,000 rows of demo-large into a DataFrame.

    bench_extract.py ws://127.0.0.1:PORT [fast|python]

against `qix-engine-sim --port PORT`; compare with
`qix --url ws://127.0.0.1:PORT/app/demo-large extract --dim OrderId --dim Customer --measure 'Sum(Sales)'
--measure 'Sum(Quantity)' -o out.csv --progress never`. Prints the wall time from connect to DataFrame.
"""

import sys
import time

import libqix

base, engine = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "fast")
t0 = time.perf_counter()
with libqix.connect(f"{base}/app/demo-large") as s:
    doc = s.open_doc("demo-large")
    df = libqix.extract(doc, dimensions=["OrderId", "Customer"], measures=["Sum(Sales)", "Sum(Quantity)"],
                        engine=engine, progress=False)
print(f"{engine}: {len(df)} rows in {time.perf_counter() - t0:.2f} s; Sum(Sales) {df['Sum(Sales)'].sum()}")
