// qix-engine-sim: the Field class: selecting values of one field in one state (the selection rules are
// the model's, Selections in model.hpp), locking, cardinality.
#include "handlers.hpp"

namespace qix::sim {

namespace {

Selections& selections(Call& call) {
  return call.conn.session->selections;
}

json::object result(Call& call, const SelectionChange& change) {
  json::object r;
  r["qReturn"] = call.engine.apply(call.conn, change);
  return r;
}

json::object select_match(Call& call, bool toggle) {
  const HandleEntry& e = *call.entry;
  const AppData& d = data(call.conn);
  std::string match = call.args.str(0);
  return result(call, selections(call).select_match(d, e.state, e.field, match, toggle));
}

json::object select(Call& call) {
  return select_match(call, false);
}
json::object toggle_select(Call& call) {
  return select_match(call, true);
}

json::object select_values(Call& call) {
  const HandleEntry& e = *call.entry;
  const AppData& d = data(call.conn);
  bool toggle = call.args.boolean(1);
  std::vector<FieldValue> values;
  for (const auto& fv : call.args.array(0)) {
    FieldValue v;
    if (const auto* b = core::find_member(fv, "qIsNumeric"); b && b->is_bool()) v.is_num = b->get_bool();
    v.text = str_of(core::find_member(fv, "qText"));
    if (const auto* nv = core::find_member(fv, "qNumber"); nv && nv->is_number())
      v.num = nv->to_number<double>();
    values.push_back(std::move(v));
  }
  return result(call, selections(call).select_values(d, e.state, e.field, values, toggle));
}

json::object select_where(Call& call, Selections::Which which) {
  const HandleEntry& e = *call.entry;
  return result(call, selections(call).select_where(data(call.conn), e.state, e.field, which));
}

json::object select_all(Call& call) {
  return select_where(call, Selections::Which::All);
}
json::object select_possible(Call& call) {
  return select_where(call, Selections::Which::Possible);
}
json::object select_excluded(Call& call) {
  return select_where(call, Selections::Which::Excluded);
}

json::object clear(Call& call) {
  const HandleEntry& e = *call.entry;
  return result(call, selections(call).set(e.state, e.field, {}));
}

json::object get_cardinal(Call& call) {
  json::object r;
  r["qReturn"] = data(call.conn).fields[static_cast<std::size_t>(call.entry->field)].symbols.size();
  return r;
}

json::object lock(Call& call) {
  const HandleEntry& e = *call.entry;
  call.engine.apply(call.conn, selections(call).lock(e.state, e.field));
  json::object r;
  r["qReturn"] = true;
  return r;
}

json::object unlock(Call& call) {
  const HandleEntry& e = *call.entry;
  call.engine.apply(call.conn, selections(call).unlock(e.state, e.field));
  json::object r;
  r["qReturn"] = true;
  return r;
}

constexpr MethodImpl kMethods[] = {
    {"Select", select},        {"SelectValues", select_values},     {"ToggleSelect", toggle_select},
    {"SelectAll", select_all}, {"SelectPossible", select_possible}, {"SelectExcluded", select_excluded},
    {"Clear", clear},          {"GetCardinal", get_cardinal},       {"Lock", lock},
    {"Unlock", unlock},
};

}  // namespace

std::span<const MethodImpl> field_methods() {
  return kMethods;
}

}  // namespace qix::sim
