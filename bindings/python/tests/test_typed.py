"""The typed API: methods of all 9 classes, typed results, optional parameters left out, properties round-trip,
and the generated surface (snake_case names, hints, docstrings)."""

import inspect
import typing

import pytest

import libqix

CLASSES = ["Global", "Doc", "GenericObject", "Field", "GenericDimension", "GenericBookmark", "GenericMeasure",
           "GenericVariable", "Variable"]


def test_generated_surface():
    n = 0
    for name in CLASSES:
        for cls in (getattr(libqix, name), getattr(libqix, "Async" + name)):
            methods = [m for m in vars(cls) if not m.startswith("_")]
            assert methods, cls
            for m in methods:
                f = getattr(cls, m)
                assert m == m.lower(), m
                assert f.__doc__ and "Calls " + name + "." in f.__doc__
                assert "return" in f.__annotations__
                assert inspect.iscoroutinefunction(f) == cls.__name__.startswith("Async")
                n += 1
    assert n == 2 * 336
    sig = inspect.signature(libqix.Doc.get_tables_and_keys)
    assert list(sig.parameters)[:3] == ["self", "window_size", "null_size"]
    assert inspect.signature(libqix.Doc.get_object).parameters["id"].default is inspect.Parameter.empty
    assert inspect.signature(libqix.Doc.clear_all).parameters["locked_also"].default is None
    assert typing.get_type_hints(libqix.NxCell)["qNum"] is float


def test_typed_calls_on_all_classes(sim):
    with libqix.connect(sim.url()) as s:
        g = s.global_
        assert isinstance(g, libqix.Global) and g.handle == -1
        assert isinstance(g.engine_version(), dict)
        doc = s.open_doc("demo")
        assert doc.get_app_layout()["qTitle"] == "Demo sales"
        assert doc.evaluate_ex("Sum(Sales)")["qIsNumeric"] is True
        tk = doc.get_tables_and_keys({"qcx": 1000, "qcy": 1000}, {"qcx": 0, "qcy": 0}, 30, True, False)
        assert {"qtr", "qk"} <= set(tk) and any(t["qName"] == "Orders" for t in tk["qtr"])

        cube = doc.create_session_object({"qInfo": {"qType": "sales"}, "qHyperCubeDef": {
            "qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
            "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}]}})
        assert isinstance(cube, libqix.GenericObject) and cube.type == "GenericObject"
        assert cube.get_info()["qType"] == "sales"

        field = doc.get_field("Region")
        assert isinstance(field, libqix.Field)
        assert field.get_cardinal() == 6
        assert field.select("Benelux") is True
        assert field.clear() is True
        field.select_all()  # the optional soft_lock left out: not sent
        doc.clear_all(locked_also=True)

        var = doc.create_session_variable({"qInfo": {"qType": "variable"}, "qName": "vTyped",
                                           "qDefinition": "=1+2"})
        assert isinstance(var, libqix.GenericVariable)
        var.set_num_value(42)
        by_name = doc.get_variable_by_name("vTyped")
        assert by_name.get_layout()["qNum"] == 42
        assert var.get_properties()["qName"] == "vTyped"
        assert doc.get_variable_by_id(var.id) is not None

        # The classes the simulator has no objects of, on handles it has.
        dim = cube.as_class(libqix.GenericDimension)
        assert isinstance(dim, libqix.GenericDimension) and dim.get_info()["qId"] == cube.id
        meas = cube.as_class(libqix.GenericMeasure)
        assert meas.get_layout()["qInfo"]["qId"] == cube.id
        bm = cube.as_class(libqix.GenericBookmark)
        assert bm.get_properties()["qInfo"]["qType"] == "sales"
        old = var.as_class(libqix.Variable)
        with pytest.raises(libqix.EngineCallError):
            old.get_nx_properties()  # the simulator lacks it: an engine error
        with pytest.raises(libqix.EngineCallError):
            doc.create_dimension({"qInfo": {"qType": "dimension"}})
        with pytest.raises(TypeError):
            cube.as_class(libqix.AsyncGenericDimension)

        assert doc.destroy_session_object(cube.id) is True


def test_properties_round_trip_unknown_members(sim):
    with libqix.connect(sim.url()) as s:
        doc = s.open_doc("demo")
        obj = doc.create_session_object({"qInfo": {"qType": "round-trip"}, "myTitle": {"text": "kept", "n": [1, 2]},
                                         "qHyperCubeDef": {"qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}]}})
        props = obj.get_properties()
        assert props["myTitle"] == {"text": "kept", "n": [1, 2]}
        props["other"] = "added"
        obj.set_properties(props)
        again = obj.get_properties()
        assert again["myTitle"] == {"text": "kept", "n": [1, 2]} and again["other"] == "added"


def test_struct_results_with_objects(sim):
    with libqix.connect(sim.url()) as s:
        r = s.create_session_app()
        assert isinstance(r["qReturn"], libqix.Doc) and r["qSessionAppId"]
        assert r["qReturn"].evaluate("1+2") == "3"
