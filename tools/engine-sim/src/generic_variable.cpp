// qix-engine-sim: the GenericVariable class: session variables, their value (a definition starting with
// '=' is calculated) and setting it.
#include "expr.hpp"
#include "handlers.hpp"
#include "render.hpp"

namespace qix::sim {

namespace {

json::object get_layout(Call& call) {
  json::object r;
  auto& var = *call.entry->var;
  json::object l;
  l["qInfo"] = json::object{{"qId", var.id}, {"qType", "variable"}};
  l["qMeta"] = json::object{};
  std::string def = var.definition();
  Value v;
  if (!def.empty() && def[0] == '=') {
    try {
      v = eval_text(call.conn, def);
    } catch (const ExprError& err) {
      v = Value::string(std::string("Error: ") + err.what());
    }
  } else {
    double d = 0;
    if (parse_number(def, d))
      v = Value::number(d), v.text = def;
    else
      v = Value::string(def);
  }
  l["qText"] = v.null ? "-" : v.text;
  l["qNum"] = num_json(v.num);
  l["qIsScriptCreated"] = false;
  r["qLayout"] = std::move(l);
  call.entry->valid = true;
  return r;
}

json::object get_properties(Call& call) {
  json::object r;
  r["qProp"] = call.entry->var->props;
  return r;
}

void set_definition(Call& call, const std::string& def) {
  call.entry->var->props.as_object()["qDefinition"] = def;
  call.engine.invalidate(call.conn, call.handle);
}

json::object set_string_value(Call& call) {
  set_definition(call, call.args.str(0));
  return {};
}

json::object set_num_value(Call& call) {
  set_definition(call, format_number(call.args.number(0)));
  return {};
}

constexpr MethodImpl kMethods[] = {
    {"GetLayout", get_layout},
    {"GetProperties", get_properties},
    {"SetStringValue", set_string_value},
    {"SetNumValue", set_num_value},
};

}  // namespace

std::span<const MethodImpl> generic_variable_methods() {
  return kMethods;
}

}  // namespace qix::sim
