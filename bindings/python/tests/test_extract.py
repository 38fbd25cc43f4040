"""Extraction into pandas: exact sums from the simulator's CSV data, column order and types, selections,
progress, stopping, the pure-Python path, errors, and 1,000,000 rows of demo-large."""

import csv
import math
import time
from collections import defaultdict

import pandas as pd
import pytest

import libqix

ROWS = [  # OrderId, Region, Product, Year, Sales, Quantity, Zip (a code with leading zeros), Rate
    (i, ["North", "South", "East", "West", "Zürich \"Q\""][i % 5], f"P{i % 7}", 2020 + i % 4,
     round(10 + (i * 37 % 1000) / 4, 2), i % 9 + 1, f"{i % 11:03d}", (i % 4) / 4 - 0.25)
    for i in range(1, 3001)
]


@pytest.fixture(scope="module")
def data_sim(tmp_path_factory):
    from conftest import Sim
    d = tmp_path_factory.mktemp("data")
    (d / "shop").mkdir()
    with open(d / "shop" / "Orders.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["OrderId", "Region", "Product", "Year", "Sales", "Quantity", "Zip", "Rate"])
        w.writerows(ROWS)
    s = Sim("--data", str(d), "--latency-ms", "20")
    yield s
    s.stop()


def sums(key, value, keep=lambda r: True):
    out = defaultdict(float)
    for r in ROWS:
        if keep(r):
            out[key(r)] += value(r)
    return out


def test_exact_sums_order_and_types(data_sim):
    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        df = libqix.extract(doc, dimensions=["Region", "Year"], measures=["Sum(Sales)", "Sum(Quantity)"],
                            progress=False)
    assert list(df.columns) == ["Region", "Year", "Sum(Sales)", "Sum(Quantity)"]
    assert isinstance(df.index, pd.RangeIndex) and len(df) == 5 * 4
    assert str(df["Region"].dtype) == "string" and str(df["Year"].dtype) == "Int64"
    assert df["Sum(Sales)"].dtype == "float64" and df["Sum(Quantity)"].dtype == "float64"
    want = sums(lambda r: (r[1], r[3]), lambda r: r[4])
    got = {(r.Region, r.Year): v for r, v in zip(df[["Region", "Year"]].itertuples(), df["Sum(Sales)"])}
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-12)
    assert df["Sum(Quantity)"].sum() == sum(r[5] for r in ROWS)
    assert 'Zürich "Q"' in set(df["Region"])


def test_selections_and_one_row_per_order(data_sim):
    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        df = libqix.extract(doc, dimensions=["OrderId", "Product"], measures=["Sum(Sales)"],
                            selections={"Region": ["North", "East"], "Year": 2021}, page_height=100, window=3,
                            progress=False)
        keep = [r for r in ROWS if r[1] in ("North", "East") and r[3] == 2021]
        assert len(df) == len(keep)
        assert str(df["OrderId"].dtype) == "Int64"
        assert sorted(df["OrderId"].tolist()) == sorted(r[0] for r in keep)
        assert df["Sum(Sales)"].sum() == pytest.approx(sum(r[4] for r in keep), rel=1e-12)
        # the selections were cleared again
        assert float(doc.evaluate("Count(OrderId)")) == len(ROWS)


@pytest.mark.parametrize("engine", ["fast", "python"])
def test_number_like_dimensions_and_duals(data_sim, engine):
    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        df = libqix.extract(doc, dimensions=["Zip", "Rate"], measures=["Count(OrderId)"], progress=False,
                            engine=engine)
        dual = libqix.extract(doc, dimensions=["Zip"], measures=[], progress=False, dual=True, engine=engine)
    assert str(df["Zip"].dtype) == "string" and "007" in set(df["Zip"])  # codes keep their text
    assert df["Rate"].dtype == "float64" and set(df["Rate"]) == {-0.25, 0.0, 0.25, 0.5}
    assert list(dual.columns) == ["Zip", "Zip.num"] and dual["Zip.num"].dtype == "float64"
    assert all(float(z) == n for z, n in zip(dual["Zip"], dual["Zip.num"]))


def test_progress_callback_and_python_path_agree(data_sim):
    calls = []
    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        fast = libqix.extract(doc, dimensions=["OrderId", "Region"], measures=["Sum(Sales)"], page_height=50,
                              window=2, progress=lambda done, total: calls.append((done, total)))
        slow = libqix.extract(doc, dimensions=["OrderId", "Region"], measures=["Sum(Sales)"], page_height=50,
                              window=2, progress=False, engine="python")
    pd.testing.assert_frame_equal(fast, slow)
    assert calls and all(total == len(ROWS) and 0 <= done <= total for done, total in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_progress_exception_stops_extraction(data_sim):
    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop()

    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        with pytest.raises(Stop):
            libqix.extract(doc, dimensions=["OrderId"], measures=["Sum(Sales)"], page_height=20, window=1,
                           progress=progress)
        assert doc.evaluate("1+1") == "2"  # the session goes on


def test_to_pandas_of_an_object_and_bad_input(data_sim):
    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        obj = doc.create_session_object({"qInfo": {"qType": "t"}, "qHyperCubeDef": {
            "qDimensions": [{"qDef": {"qFieldDefs": ["Product"], "qFieldLabels": ["Prod"]}}],
            "qMeasures": [{"qDef": {"qDef": "Count(OrderId)", "qLabel": "Orders"}}]}})
        df = obj.to_pandas(progress=False)
        assert list(df.columns) == ["Prod", "Orders"] and len(df) == 7
        assert df["Orders"].sum() == len(ROWS)
        with pytest.raises(libqix.EngineError):
            obj.to_pandas("/qNoSuchCubeDef")
        with pytest.raises(TypeError):
            libqix.extract(doc, dimensions=[1])
        with pytest.raises(ValueError):
            libqix.extract(doc)
        with pytest.raises(libqix.EngineError):
            libqix.extract(doc, dimensions=["Region"], selections={"NoSuchField": "x"})
        with pytest.raises(TypeError):
            libqix.extract(doc, dimensions=["Region"], selections={"Region": [object()]})
    with pytest.raises(libqix.ClosedError):
        obj.to_pandas()


def test_million_rows_of_demo_large(sim):
    with libqix.connect(sim.url("demo-large")) as s:
        doc = s.open_doc("demo-large")
        t = time.perf_counter()
        df = libqix.extract(doc, dimensions=["OrderId", "Customer"], measures=["Sum(Sales)", "Sum(Quantity)"],
                            progress=False)
        print(f"demo-large: {len(df)} rows into a DataFrame in {time.perf_counter() - t:.2f} s")
        assert len(df) == 1_000_000
        assert df["OrderId"].is_unique
        assert math.isclose(df["Sum(Sales)"].sum(), float(doc.evaluate("Sum(Sales)")), rel_tol=1e-12)
        assert df["Sum(Quantity)"].sum() == float(doc.evaluate("Sum(Quantity)"))
        assert str(df["Customer"].dtype) == "string" and df["Customer"].notna().all()


def test_progress_bar_only_on_a_terminal(data_sim, capsys, monkeypatch):
    with libqix.connect(data_sim.url("shop")) as s:
        doc = s.open_doc("shop")
        libqix.extract(doc, dimensions=["OrderId"], measures=["Sum(Sales)"], page_height=200, window=1)
        assert capsys.readouterr().err == ""  # stderr is not a terminal: no bar
        monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
        libqix.extract(doc, dimensions=["OrderId"], measures=["Sum(Sales)"], page_height=200, window=1)
    err = capsys.readouterr().err
    assert "rows" in err and err.endswith("\n") and "%|" in err
