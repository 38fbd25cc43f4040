// qix-engine-sim: request parameters and error texts. Method parameter names, positional order and
// defaults follow the Engine API 12.2528.0 spec and the enigma.js 12.2027.0 schema; error codes and
// messages follow the LOCERR table of the same spec (Qlik's published engine spec, MIT, (c) QlikTech
// International AB).
#include "rpc.hpp"

#include "model.hpp"

namespace qix::sim {

const char* locerr_message(int code) {
  switch (code) {
    case -32700: return "JSON parse error";
    case -32600: return "Invalid request";
    case -32601: return "Method does not exist";
    case -32602: return "Invalid method parameter(s)";
    case -32603: return "Internal JSON-RPC error";
    case 2: return "Resource not found";
    case 15: return "Request aborted";
    case 1002: return "App already open";
    case 1003: return "App not found";
    case 1007: return "App invalid";
    case 7000: return "All expressions disabled";
    case 7003: return "Too many cells";
    case 7009: return "Calculation pages too large";
    default: return "Unknown error";
  }
}

const std::map<std::string, MethodSpec>& method_table() {
  static const std::map<std::string, MethodSpec> t = {
      {"Global.EngineVersion", {{}}},
      {"Global.ProductVersion", {{}}},
      {"Global.GetDocList", {{}}},
      {"Global.OpenDoc",
       {{{"qDocName", nullptr}, {"qUserName", "\"\""}, {"qPassword", "\"\""}, {"qSerial", "\"\""}, {"qNoData", "false"}}}},
      {"Global.GetActiveDoc", {{}}},
      {"Global.CreateSessionApp", {{}}},
      {"Global.CancelRequest", {{{"qRequestId", nullptr}}}},
      {"Global.GetUniqueID", {{}}},
      {"Global.IsDesktopMode", {{}}},
      {"Global.QTProduct", {{}}},
      {"Global.OSName", {{}}},
      {"Doc.GetAppLayout", {{}}},
      {"Doc.GetAppProperties", {{}}},
      {"Doc.CreateSessionObject", {{{"qProp", nullptr}}}},
      {"Doc.CreateObject", {{{"qProp", nullptr}}}},
      {"Doc.GetObject", {{{"qId", nullptr}}}},
      {"Doc.DestroySessionObject", {{{"qId", nullptr}}}},
      {"Doc.DestroyObject", {{{"qId", nullptr}}}},
      {"Doc.GetAllInfos", {{}}},
      {"Doc.GetField", {{{"qFieldName", nullptr}, {"qStateName", "\"\""}}}},
      {"Doc.Evaluate", {{{"qExpression", nullptr}}}},
      {"Doc.EvaluateEx", {{{"qExpression", nullptr}}}},
      {"Doc.ClearAll", {{{"qLockedAlso", "false"}, {"qStateName", "\"\""}}}},
      {"Doc.CreateSessionVariable", {{{"qProp", nullptr}}}},
      {"Doc.GetVariableByName", {{{"qName", nullptr}}}},
      {"Doc.GetVariableById", {{{"qId", nullptr}}}},
      {"Doc.GetTablesAndKeys",
       {{{"qWindowSize", R"({"qcx":0,"qcy":0})"}, {"qNullSize", R"({"qcx":0,"qcy":0})"}, {"qCellHeight", "0"},
         {"qSyntheticMode", "false"}, {"qIncludeSysVars", "false"}, {"qIncludeProfiling", "false"}}}},
      {"GenericObject.GetLayout", {{}}},
      {"GenericObject.GetProperties", {{}}},
      {"GenericObject.SetProperties", {{{"qProp", nullptr}}}},
      {"GenericObject.ApplyPatches", {{{"qPatches", nullptr}, {"qSoftPatch", "false"}}}},
      {"GenericObject.GetInfo", {{}}},
      {"GenericObject.GetHyperCubeData", {{{"qPath", nullptr}, {"qPages", nullptr}}}},
      {"GenericObject.GetListObjectData", {{{"qPath", nullptr}, {"qPages", nullptr}}}},
      {"GenericObject.SelectHyperCubeValues",
       {{{"qPath", nullptr}, {"qDimNo", nullptr}, {"qValues", nullptr}, {"qToggleMode", "false"}}}},
      {"GenericObject.SelectListObjectValues",
       {{{"qPath", nullptr}, {"qValues", nullptr}, {"qToggleMode", "false"}, {"qSoftLock", "false"}}}},
      {"GenericObject.ClearSelections", {{{"qPath", nullptr}, {"qColIndices", "[]"}}}},
      {"Field.Select", {{{"qMatch", nullptr}, {"qSoftLock", "false"}, {"qExcludedValuesMode", "0"}}}},
      {"Field.SelectValues", {{{"qFieldValues", nullptr}, {"qToggleMode", "false"}, {"qSoftLock", "false"}}}},
      {"Field.ToggleSelect", {{{"qMatch", nullptr}, {"qSoftLock", "false"}, {"qExcludedValuesMode", "0"}}}},
      {"Field.SelectAll", {{{"qSoftLock", "false"}}}},
      {"Field.SelectPossible", {{{"qSoftLock", "false"}}}},
      {"Field.SelectExcluded", {{{"qSoftLock", "false"}}}},
      {"Field.Clear", {{}}},
      {"Field.GetCardinal", {{}}},
      {"Field.Lock", {{}}},
      {"Field.Unlock", {{}}},
      {"GenericVariable.GetLayout", {{}}},
      {"GenericVariable.GetProperties", {{}}},
      {"GenericVariable.SetStringValue", {{{"qVal", nullptr}}}},
      {"GenericVariable.SetNumValue", {{{"qVal", nullptr}}}},
  };
  return t;
}

Args::Args(const MethodSpec& spec, const json::value* params) {
  const json::array* arr = params ? params->if_array() : nullptr;
  const json::object* obj = params ? params->if_object() : nullptr;
  if (params && !arr && !obj && !params->is_null()) fail(-32602, "params");
  for (std::size_t i = 0; i < spec.params.size(); ++i) {
    const auto& p = spec.params[i];
    const json::value* v = nullptr;
    if (arr && i < arr->size()) v = &(*arr)[i];
    if (obj) {
      auto it = obj->find(p.name);
      if (it != obj->end()) v = &it->value();
    }
    if (v) {
      values_.push_back(*v);
    } else if (p.def) {
      values_.push_back(json::parse(p.def));
    } else {
      fail(-32602, std::string("Missing parameter ") + p.name);
    }
    names_.push_back(p.name);
  }
}

std::string Args::str(std::size_t i) const {
  const auto& v = at(i);
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return {};
  fail(-32602, names_[i]);
}

bool Args::boolean(std::size_t i) const {
  const auto& v = at(i);
  if (v.is_bool()) return v.get_bool();
  if (v.is_number()) return v.to_number<double>() != 0;
  if (v.is_null()) return false;
  fail(-32602, names_[i]);
}

double Args::number(std::size_t i) const {
  const auto& v = at(i);
  if (v.is_number()) return v.to_number<double>();
  if (v.is_string()) {
    double d = 0;
    if (parse_number(v.get_string(), d)) return d;
  }
  fail(-32602, names_[i]);
}

std::int64_t Args::integer(std::size_t i) const {
  auto n = core::integer_of(&at(i));
  if (!n) fail(-32602, names_[i]);
  return *n;
}

const json::object& Args::object(std::size_t i) const {
  if (!at(i).is_object()) fail(-32602, names_[i]);
  return at(i).get_object();
}

const json::array& Args::array(std::size_t i) const {
  if (!at(i).is_array()) fail(-32602, names_[i]);
  return at(i).get_array();
}

}  // namespace qix::sim
