// qix-engine-sim: the GenericObject class: layout and properties (set, patched), data pages of hypercubes
// and list objects, selecting in them.
#include "handlers.hpp"
#include "render.hpp"

#include <algorithm>
#include <cstdlib>

namespace qix::sim {

namespace {

bool show_alternatives(const json::value& def) {
  return core::find_member(def, "qShowAlternatives") &&
         core::find_member(def, "qShowAlternatives")->is_bool() &&
         core::find_member(def, "qShowAlternatives")->get_bool();
}

json::object get_layout(Call& call) {
  json::object r;
  HandleEntry& e = *call.entry;
  auto& obj = *e.obj;
  json::value l = layout_of(call.conn, e, obj.props, "");
  auto& lo = l.as_object();
  lo.erase("qExtendsId");
  lo["qSelectionInfo"] = json::object{};
  if (!lo.contains("qMeta") && obj.persistent) lo["qMeta"] = json::object{};
  r["qLayout"] = std::move(l);
  e.valid = true;
  return r;
}

json::object get_properties(Call& call) {
  json::object r;
  r["qProp"] = call.entry->obj->props;
  return r;
}

json::object get_info(Call& call) {
  json::object r;
  const auto& obj = *call.entry->obj;
  r["qInfo"] = json::object{{"qId", obj.id}, {"qType", obj.type}};
  return r;
}

// New properties reach every session that has a persistent object open; a session object's only this one.
void properties_changed(Call& call) {
  if (call.entry->obj->persistent)
    call.engine.object_changed(call.entry->obj);
  else
    call.engine.invalidate(call.conn, call.handle);
}

json::object set_properties(Call& call) {
  json::value pv(call.args.object(0));
  call.entry->obj->set_props(std::move(pv));
  properties_changed(call);
  return {};
}

json::object apply_patches(Call& call) {
  auto& obj = *call.entry->obj;
  json::value props = obj.props;
  for (const auto& pv : call.args.array(0)) {
    std::string op = lower(str_of(core::find_member(pv, "qOp")));
    if (auto n = core::integer_of(core::find_member(pv, "qOp")))
      op = *n == 0 ? "add" : *n == 1 ? "remove" : "replace";
    std::string path = str_of(core::find_member(pv, "qPath"));
    std::string vtext = str_of(core::find_member(pv, "qValue"));
    json::value val;
    if (op != "remove") {
      auto parsed = core::parse_json(vtext);
      if (!parsed) fail(locerr::kInvalidParameters, "qValue");
      val = std::move(*parsed);
    }
    if (path.empty() || path[0] != '/') fail(locerr::kInvalidParameters, "qPath");
    auto cut = path.find_last_of('/');
    std::string parent = path.substr(0, cut), key = path.substr(cut + 1);
    json::value* target = parent.empty() ? &props : nullptr;
    if (!target) {
      boost::system::error_code ec;
      target = props.find_pointer(parent, ec);
      if (ec || !target) fail(locerr::kInvalidParameters, "qPath");
    }
    if (auto* to = target->if_object()) {
      if (op == "remove")
        to->erase(key);
      else
        (*to)[key] = std::move(val);
    } else if (auto* ta = target->if_array()) {
      std::size_t idx =
          key == "-" ? ta->size() : static_cast<std::size_t>(std::strtoul(key.c_str(), nullptr, 10));
      if (op == "add")
        ta->insert(ta->begin() + static_cast<std::ptrdiff_t>(std::min(idx, ta->size())), std::move(val));
      else if (idx < ta->size()) {
        if (op == "remove")
          ta->erase(ta->begin() + static_cast<std::ptrdiff_t>(idx));
        else
          (*ta)[idx] = std::move(val);
      }
    } else {
      fail(locerr::kInvalidParameters, "qPath");
    }
  }
  obj.set_props(std::move(props));
  properties_changed(call);
  return {};
}

json::object get_data(Call& call, bool list) {
  json::object r;
  HandleEntry& e = *call.entry;
  const auto& props = e.obj->props;
  std::string path = call.args.str(0);
  const json::value* def = at_pointer(props, path);
  if (path.empty()) path = list ? "/qListObjectDef" : "/qHyperCubeDef", def = at_pointer(props, path);
  if (!def || !def->is_object()) fail(locerr::kInvalidParameters, "qPath");
  auto cc = list ? listobject(call.conn, e, path, *def) : hypercube(call.conn, e, path, *def);
  if (cc->error) fail(cc->error, "qPath");
  bool alt = !list || show_alternatives(*def);
  if (call.text_result) {
    // Sent as it is: written as text, the page's cells never built as objects.
    std::string text = R"({"qDataPages":)";
    pages_text(call.conn, *cc, call.args.array(1), alt, true, text);
    text += '}';
    *call.text_result = std::move(text);
    e.valid = true;
    return r;
  }
  r["qDataPages"] = pages(call.conn, *cc, call.args.array(1), alt, true);
  e.valid = true;
  return r;
}

json::object get_hypercube_data(Call& call) {
  return get_data(call, false);
}
json::object get_list_object_data(Call& call) {
  return get_data(call, true);
}

json::object select_values(Call& call, bool list) {
  json::object r;
  HandleEntry& e = *call.entry;
  const Args& a = call.args;
  std::string path = a.str(0);
  if (path.empty()) path = list ? "/qListObjectDef" : "/qHyperCubeDef";
  const json::value* def = at_pointer(e.obj->props, path);
  if (!def || !def->is_object()) fail(locerr::kInvalidParameters, "qPath");
  auto cc = list ? listobject(call.conn, e, path, *def) : hypercube(call.conn, e, path, *def);
  std::size_t dim = list ? 0 : static_cast<std::size_t>(std::max<std::int64_t>(0, a.integer(1)));
  if (cc->error || dim >= cc->dim_fields.size()) fail(locerr::kInvalidParameters, "qDimNo");
  std::vector<std::int64_t> elems;
  for (const auto& v : a.array(list ? 1 : 2)) elems.push_back(int_of(&v, -1));
  bool toggle = a.boolean(list ? 2 : 3);
  auto& sel = call.conn.session->selections;
  r["qSuccess"] = call.engine.apply(
      call.conn, sel.select_elements(data(call.conn), cc->state, cc->dim_fields[dim], elems, toggle));
  return r;
}

json::object select_hypercube_values(Call& call) {
  return select_values(call, false);
}
json::object select_list_object_values(Call& call) {
  return select_values(call, true);
}

json::object clear_selections(Call& call) {
  HandleEntry& e = *call.entry;
  std::string path = call.args.str(0);
  const json::value* def = at_pointer(e.obj->props, path);
  if (!def || !def->is_object()) fail(locerr::kInvalidParameters, "qPath");
  bool list = path.find("qListObjectDef") != std::string::npos;
  auto cc = list ? listobject(call.conn, e, path, *def) : hypercube(call.conn, e, path, *def);
  std::vector<int> fields = cc->dim_fields;
  if (!list && !call.args.array(1).empty()) {
    fields.clear();
    for (const auto& v : call.args.array(1)) {
      auto i = int_of(&v, -1);
      if (i >= 0 && static_cast<std::size_t>(i) < cc->dim_fields.size())
        fields.push_back(cc->dim_fields[static_cast<std::size_t>(i)]);
    }
  }
  for (int f : fields) call.engine.apply(call.conn, call.conn.session->selections.set(cc->state, f, {}));
  return {};
}

// The spec requires qToggleMode; the simulator takes a call without it as not toggling.
constexpr Fallback kToggleOff[] = {{"qToggleMode", "false"}};

constexpr MethodImpl kMethods[] = {
    {"GetLayout", get_layout},
    {"GetProperties", get_properties},
    {"SetProperties", set_properties},
    {"ApplyPatches", apply_patches},
    {"GetInfo", get_info},
    {"GetHyperCubeData", get_hypercube_data},
    {"GetListObjectData", get_list_object_data},
    {"SelectHyperCubeValues", select_hypercube_values, kToggleOff},
    {"SelectListObjectValues", select_list_object_values, kToggleOff},
    {"ClearSelections", clear_selections},
};

}  // namespace

std::span<const MethodImpl> generic_object_methods() {
  return kMethods;
}

}  // namespace qix::sim
