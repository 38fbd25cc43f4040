// qix-engine-sim: the Doc class: the app's layout and properties, objects, fields, expressions,
// selections across fields, variables and the data model's tables.
#include <algorithm>

#include "expr.hpp"
#include "handlers.hpp"
#include "render.hpp"

namespace qix::sim {

namespace {

json::object get_app_layout(Call& call) {
  json::object r;
  AppState& app = doc(call.conn);
  json::object l;
  l["qTitle"] = app.data->title;
  l["qFileName"] = app.id;
  l["qLastReloadTime"] = "2026-01-01T00:00:00.000Z";
  l["qModified"] = false;
  l["qHasScript"] = false;
  l["qStateNames"] = json::array{};
  l["qMeta"] = json::object{};
  l["qLocaleInfo"] =
      json::object{{"qDecimalSep", "."},
                   {"qThousandSep", ","},
                   {"qListSep", ","},
                   {"qMoneyDecimalSep", "."},
                   {"qMoneyThousandSep", ","},
                   {"qCurrentYear", 2026},
                   {"qMoneyFmt", "$#,##0.00;-$#,##0.00"},
                   {"qTimeFmt", "h:mm:ss TT"},
                   {"qDateFmt", "M/D/YYYY"},
                   {"qTimestampFmt", "M/D/YYYY h:mm:ss[.fff] TT"},
                   {"qCalendarStrings", json::object{}},
                   {"qFirstWeekDay", 6},
                   {"qBrokenWeeks", true},
                   {"qReferenceDay", 0},
                   {"qFirstMonthOfYear", 1},
                   {"qCollation", "en-US"},
                   {"qNumericalAbbreviation",
                    "3:k;6:M;9:G;12:T;15:P;18:E;21:Z;24:Y;-3:m;-6:μ;-9:n;-12:p;-15:f;-18:a;-21:z;-24:y"}};
  l["qHasData"] = !app.data->tables.empty();
  l["qReadOnly"] = false;
  l["qIsOpenedWithoutData"] = false;
  l["qIsSessionApp"] = app.session_app;
  l["qThumbnail"] = json::object{{"qUrl", ""}};
  l["qIsBDILiveMode"] = false;
  r["qLayout"] = std::move(l);
  for (auto& [h, e] : call.conn.handles)
    if (e.kind == HKind::Doc) e.valid = true;
  return r;
}

json::object get_app_properties(Call& call) {
  json::object r;
  AppState& app = doc(call.conn);
  r["qProp"] = json::object{{"qTitle", app.data->title},
                            {"qLastReloadTime", "2026-01-01T00:00:00.000Z"},
                            {"qMigrationHash", ""},
                            {"qSavedInProductVersion", core::engine_spec_version()},
                            {"qThumbnail", json::object{{"qUrl", ""}}},
                            {"qHasSectionAccess", false}};
  return r;
}

json::object create_object(Call& call, bool persistent) {
  json::object r;
  Connection& c = call.conn;
  AppState& app = doc(c);
  auto obj = EngineState::make_object(call.args.object(0), persistent);
  if (persistent) {
    if (app.objects.count(obj->id)) fail(locerr::kNotFound, "Object already exists: " + obj->id);
    app.objects[obj->id] = obj;
  } else {
    c.session->objects[obj->id] = obj;
  }
  int h = call.engine.handle_for_object(c, obj);
  if (persistent) r["qInfo"] = json::object{{"qId", obj->id}, {"qType", obj->type}};
  r["qReturn"] = obj_ref("GenericObject", h, obj->id, obj->type);
  return r;
}

json::object create_session_object(Call& call) {
  return create_object(call, false);
}
json::object create_persistent_object(Call& call) {
  return create_object(call, true);
}

json::object get_object(Call& call) {
  json::object r;
  auto obj = call.engine.find_object(call.conn, call.args.str(0));
  if (!obj) {
    r["qReturn"] = null_ref();
  } else {
    r["qReturn"] =
        obj_ref("GenericObject", call.engine.handle_for_object(call.conn, obj), obj->id, obj->type);
  }
  return r;
}

json::object destroy_object(Call& call, bool session_object) {
  json::object r;
  Connection& c = call.conn;
  AppState& app = doc(c);
  std::string id = call.args.str(0);
  std::shared_ptr<ObjectDef> obj;
  auto& objects = session_object ? c.session->objects : app.objects;
  auto it = objects.find(id);
  if (it != objects.end()) {
    obj = it->second;
    objects.erase(it);
  }
  if (obj) call.engine.object_destroyed(obj);
  r["qSuccess"] = obj != nullptr;
  return r;
}

json::object destroy_session_object(Call& call) {
  return destroy_object(call, true);
}
json::object destroy_persistent_object(Call& call) {
  return destroy_object(call, false);
}

json::object get_all_infos(Call& call) {
  json::object r;
  AppState& app = doc(call.conn);
  json::array infos;
  for (const auto& [id, o] : app.objects) infos.push_back(json::object{{"qId", id}, {"qType", o->type}});
  for (const auto& [id, o] : call.conn.session->objects)
    infos.push_back(json::object{{"qId", id}, {"qType", o->type}});
  r["qInfos"] = std::move(infos);
  return r;
}

json::object get_field(Call& call) {
  json::object r;
  Connection& c = call.conn;
  int f = doc(c).data->field_id(call.args.str(0));
  if (f < 0) {
    r["qReturn"] = null_ref();
  } else {
    std::string given = call.args.str(1);
    const std::string st = given.empty() ? std::string("$") : given;
    int found = -1;
    for (auto& [h, e] : c.handles)
      if (e.kind == HKind::Field && e.field == f && e.state == st) found = h;
    if (found < 0) {
      HandleEntry e;
      e.kind = HKind::Field;
      e.field = f;
      e.state = st;
      found = call.engine.new_handle(c, std::move(e));
    }
    r["qReturn"] = json::object{{"qType", "Field"}, {"qHandle", found}};
  }
  return r;
}

Value evaluate_arg(Call& call) {
  try {
    return eval_text(call.conn, call.args.str(0));
  } catch (const ExprError& err) {
    fail(err.code, err.what());
  }
}

json::object evaluate(Call& call) {
  json::object r;
  Value v = evaluate_arg(call);
  r["qReturn"] = v.null ? "-" : v.text;
  return r;
}

json::object evaluate_ex(Call& call) {
  json::object r;
  Value v = evaluate_arg(call);
  json::object qv;
  qv["qText"] = v.null ? "-" : v.text;
  qv["qIsNumeric"] = v.is_numeric();
  qv["qNumber"] = num_json(v.num);
  r["qValue"] = std::move(qv);
  return r;
}

json::object clear_all(Call& call) {
  bool locked_also = call.args.boolean(0);
  std::string st = call.args.str(1);
  call.engine.apply(call.conn, call.conn.session->selections.clear_all(locked_also, st));
  return {};
}

json::object create_session_variable(Call& call) {
  json::object r;
  Connection& c = call.conn;
  const json::value pv(call.args.object(0));
  auto var = std::make_shared<VariableDef>();
  const json::value* info = core::find_member(pv, "qInfo");
  var->id = info ? str_of(core::find_member(*info, "qId")) : "";
  if (var->id.empty()) var->id = random_id();
  var->name = str_of(core::find_member(pv, "qName"));
  var->props = pv;
  var->props.as_object()["qInfo"] = json::object{{"qId", var->id}, {"qType", "variable"}};
  c.session->variables[var->id] = var;
  r["qReturn"] = obj_ref("GenericVariable", call.engine.handle_for_variable(c, var), var->id, "variable");
  return r;
}

json::object get_variable(Call& call, bool by_id) {
  json::object r;
  Connection& c = call.conn;
  std::string key = call.args.str(0);
  std::shared_ptr<VariableDef> var;
  for (const auto& [id, v] : c.session->variables)
    if ((by_id && id == key) || (!by_id && v->name == key)) var = v;
  r["qReturn"] = var ? json::value(obj_ref("GenericVariable", call.engine.handle_for_variable(c, var),
                                           var->id, "variable"))
                     : json::value(null_ref());
  return r;
}

json::object get_variable_by_name(Call& call) {
  return get_variable(call, false);
}
json::object get_variable_by_id(Call& call) {
  return get_variable(call, true);
}

json::object get_tables_and_keys(Call& call) {
  json::object r;
  const AppData& d = *doc(call.conn).data;
  json::array qtr, qk;
  for (std::size_t t = 0; t < d.tables.size(); ++t) {
    const auto& tb = d.tables[t];
    json::object to;
    to["qName"] = tb.name;
    to["qLoose"] = false;
    to["qNoOfRows"] = tb.rows;
    json::array fields;
    for (std::size_t c = 0; c < tb.fields.size(); ++c) {
      const int f = tb.fields[c];
      const auto& fd = d.fields[static_cast<std::size_t>(f)];
      const auto& column = tb.cols[c];
      const auto nulls = static_cast<std::size_t>(std::count(column.begin(), column.end(), -1));
      json::object fo;
      fo["qName"] = fd.name;
      fo["qOriginalFields"] = json::array{};
      fo["qPresent"] = true;
      fo["qHasNull"] = nulls > 0;
      fo["qHasWild"] = false;
      fo["qHasDuplicates"] = d.has_duplicates(static_cast<int>(t), f);
      fo["qIsSynthetic"] = false;
      fo["qInformationDensity"] = 1;
      fo["qnNonNulls"] = tb.rows - nulls;
      fo["qnRows"] = tb.rows;
      fo["qSubsetRatio"] = 1;
      fo["qnTotalDistinctValues"] = fd.symbols.size();
      fo["qnPresentDistinctValues"] = fd.symbols.size();
      fo["qKeyType"] = d.is_key(f) ? "ANY_KEY" : "NOT_KEY";
      fo["qComment"] = "";
      json::array tags;
      for (const auto& tag : fd.tags) tags.push_back(json::value(tag));
      fo["qTags"] = std::move(tags);
      fo["qDerivedFields"] = json::array{};
      fo["qIsFieldOnTheFly"] = false;
      fo["qReadableName"] = fd.name;
      fields.push_back(std::move(fo));
    }
    to["qFields"] = std::move(fields);
    to["qPos"] = json::object{{"qx", 0}, {"qy", 0}};
    to["qComment"] = "";
    to["qIsDirectDiscovery"] = false;
    to["qIsSynthetic"] = false;
    qtr.push_back(std::move(to));
  }
  for (std::size_t f = 0; f < d.fields.size(); ++f) {
    if (!d.is_key(static_cast<int>(f))) continue;
    json::array tables;
    for (int t : d.fields[f].tables)
      tables.push_back(json::value(d.tables[static_cast<std::size_t>(t)].name));
    qk.push_back(json::object{{"qTables", std::move(tables)},
                              {"qKeyFields", json::array{json::value(d.fields[f].name)}}});
  }
  r["qtr"] = std::move(qtr);
  r["qk"] = std::move(qk);
  return r;
}

// The spec requires all but qIncludeProfiling; the simulator takes a call without them.
constexpr Fallback kTablesAndKeysDefaults[] = {{"qWindowSize", R"({"qcx":0,"qcy":0})"},
                                               {"qNullSize", R"({"qcx":0,"qcy":0})"},
                                               {"qCellHeight", "0"},
                                               {"qSyntheticMode", "false"},
                                               {"qIncludeSysVars", "false"}};

constexpr MethodImpl kMethods[] = {
    {"GetAppLayout", get_app_layout},
    {"GetAppProperties", get_app_properties},
    {"CreateSessionObject", create_session_object},
    {"CreateObject", create_persistent_object},
    {"GetObject", get_object},
    {"DestroySessionObject", destroy_session_object},
    {"DestroyObject", destroy_persistent_object},
    {"GetAllInfos", get_all_infos},
    {"GetField", get_field},
    {"Evaluate", evaluate},
    {"EvaluateEx", evaluate_ex},
    {"ClearAll", clear_all},
    {"CreateSessionVariable", create_session_variable},
    {"GetVariableByName", get_variable_by_name},
    {"GetVariableById", get_variable_by_id},
    {"GetTablesAndKeys", get_tables_and_keys, kTablesAndKeysDefaults},
};

}  // namespace

std::span<const MethodImpl> doc_methods() {
  return kMethods;
}

}  // namespace qix::sim
