// qix-engine-sim: the protocol engine. Method parameter names, positional order and defaults follow the
// Engine API 12.2528.0 spec and the enigma.js 12.2027.0 schema; error codes and messages follow the
// LOCERR table of the same spec (Qlik's published engine spec, MIT, (c) QlikTech International AB).
#include "engine.hpp"

#include "expr.hpp"
#include "json/json.hpp"
#include "json/json_patch.hpp"
#include "model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace qix::sim {

namespace json = boost::json;

namespace {

constexpr const char* kEngineVersion = "12.2528.0";

// ---------------------------------------------------------------------------------------------------
// Errors

struct RpcError {
  int code;
  std::string parameter;
};

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

[[noreturn]] void fail(int code, std::string parameter) { throw RpcError{code, std::move(parameter)}; }

// ---------------------------------------------------------------------------------------------------
// Method table: class, method, parameters (name, default as JSON or nullptr when required).

struct ParamSpec {
  const char* name;
  const char* def;
};

struct MethodSpec {
  std::vector<ParamSpec> params;
};

const char* const kGenericProp = R"({"qInfo":{"qId":"","qType":""},"qExtendsId":"","qMetaDef":{},"qStateName":""})";

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

// Parameters resolved by position or by name against the spec.
class Args {
 public:
  Args(const MethodSpec& spec, const json::value* params) {
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
  const json::value& at(std::size_t i) const { return values_.at(i); }
  std::string str(std::size_t i) const {
    const auto& v = at(i);
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return {};
    fail(-32602, names_[i]);
  }
  bool boolean(std::size_t i) const {
    const auto& v = at(i);
    if (v.is_bool()) return v.get_bool();
    if (v.is_number()) return v.to_number<double>() != 0;
    if (v.is_null()) return false;
    fail(-32602, names_[i]);
  }
  double number(std::size_t i) const {
    const auto& v = at(i);
    if (v.is_number()) return v.to_number<double>();
    if (v.is_string()) {
      double d = 0;
      if (parse_number(v.get_string(), d)) return d;
    }
    fail(-32602, names_[i]);
  }
  std::int64_t integer(std::size_t i) const {
    auto n = core::integer_of(&at(i));
    if (!n) fail(-32602, names_[i]);
    return *n;
  }
  const json::object& object(std::size_t i) const {
    if (!at(i).is_object()) fail(-32602, names_[i]);
    return at(i).get_object();
  }
  const json::array& array(std::size_t i) const {
    if (!at(i).is_array()) fail(-32602, names_[i]);
    return at(i).get_array();
  }

 private:
  std::vector<json::value> values_;
  std::vector<const char*> names_;
};

json::value num_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (std::trunc(v) == v && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
  return v;
}

std::string str_of(const json::value* v, std::string_view fallback = {}) {
  return std::string(core::string_or(v, fallback));
}

std::int64_t int_of(const json::value* v, std::int64_t fallback) {
  auto n = core::integer_of(v);
  return n ? *n : fallback;
}

std::string random_id() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s += digits[rng() % 36];
  return s;
}

std::string random_uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    s += hex[rng() % 16];
  }
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool wildcard_match(std::string_view pat, std::string_view text) {
  // '*' any run, '?' one character; case-insensitive.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); };
  while (t < text.size()) {
    if (p < pat.size() && (pat[p] == '?' || eq(pat[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

// JSON pointer helpers over properties ("/qHyperCubeDef", "/qListObjectDef", nested paths).
const json::value* at_pointer(const json::value& root, std::string_view path) {
  if (path.empty() || path == "/") return &root;
  boost::system::error_code ec;
  const json::value* v = root.find_pointer(path, ec);
  return ec ? nullptr : v;
}

bool has_calc_content(const json::value& v) {
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      auto k = kv.key();
      if (k == "qHyperCubeDef" || k == "qListObjectDef" || k == "qSelectionObjectDef" || k == "qStringExpression" ||
          k == "qValueExpression")
        return true;
      if (has_calc_content(kv.value())) return true;
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a)
      if (has_calc_content(e)) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// State

struct ObjectDef {
  std::string id, type;
  json::value props;
  std::uint64_t version = 0;
  bool persistent = false;
  bool calc = false;
  std::string state = "$";
  std::set<std::string> states;  // every state its calculations use (top level and inside the defs)
  static void collect_states(const json::value& v, std::set<std::string>& out) {
    if (const auto* o = v.if_object()) {
      for (const auto& kv : *o) {
        if (kv.key() == "qStateName" && kv.value().is_string() && !kv.value().get_string().empty())
          out.insert(std::string(kv.value().get_string()));
        else collect_states(kv.value(), out);
      }
    } else if (const auto* a = v.if_array()) {
      for (const auto& e : *a) collect_states(e, out);
    }
  }
  void set_props(json::value p) {
    props = std::move(p);
    if (!props.is_object()) props = json::object();
    auto& o = props.as_object();
    json::object info;
    info["qId"] = id;
    info["qType"] = type;
    o["qInfo"] = std::move(info);
    calc = has_calc_content(props);
    state = str_of(core::find_member(props, "qStateName"));
    if (state.empty()) state = "$";
    states.clear();
    collect_states(props, states);
    states.insert(state);
    ++version;
  }
};

struct VariableDef {
  std::string id, name;
  json::value props;
  std::string definition() const { return str_of(core::find_member(props, "qDefinition")); }
};

struct AppState {
  std::string id;
  std::shared_ptr<AppData> data;
  bool session_app = false;
  std::map<std::string, std::shared_ptr<ObjectDef>> objects;  // persistent, shared by sessions
};

struct Session {
  std::string key;  // app|identity; empty = cannot be attached
  std::string url_app;
  std::shared_ptr<AppState> app;
  std::map<std::string, SelectionState> states;
  std::uint64_t epoch = 1;
  std::map<std::string, std::shared_ptr<ObjectDef>> objects;  // session objects
  std::map<std::string, std::shared_ptr<VariableDef>> variables;
  int ttl = 0;
  std::chrono::steady_clock::time_point expires;
  bool connected = false;
  std::map<std::pair<std::string, int>, std::pair<std::uint64_t, std::shared_ptr<const Possible>>> possible_cache;
};

enum class HKind { Doc, Object, Field, Variable };

struct CubeCache {
  std::uint64_t epoch = 0, version = 0;
  json::object layout;  // qHyperCube / qListObject without qDataPages
  int error = 0;
  bool list = false;
  std::vector<int> dim_fields;
  CubeResult result;
  std::vector<std::uint32_t> order;  // display order: result rows sorted
  std::string state;
  std::size_t cols = 0;
};

struct HandleEntry {
  HKind kind = HKind::Doc;
  std::shared_ptr<ObjectDef> obj;
  std::shared_ptr<VariableDef> var;
  int field = -1;
  std::string state = "$";
  bool valid = false;
  std::map<std::string, std::shared_ptr<CubeCache>> cubes;
};

class Connection {
 public:
  std::shared_ptr<Session> session;
  std::map<int, HandleEntry> handles;
  int next_handle = 1;
  std::vector<int> change, closed;
  std::unordered_map<std::string, json::value> delta_cache;
  std::function<void(std::string)> push;
};

struct Engine::Impl {
  EngineConfig cfg;
  std::map<std::string, std::shared_ptr<AppState>> apps;
  std::map<std::string, std::shared_ptr<Session>> parked;  // disconnected sessions kept for their TTL
  std::set<Connection*> conns;

  // ----- apps -----
  std::shared_ptr<AppState> find_app(const std::string& name) {
    std::string id = name;
    auto slash = id.find_last_of("/\\");
    if (slash != std::string::npos) id = id.substr(slash + 1);
    if (id.size() > 4 && id.substr(id.size() - 4) == ".qvf") id = id.substr(0, id.size() - 4);
    auto it = apps.find(id);
    if (it == apps.end()) it = apps.find(name);
    if (it == apps.end()) return nullptr;
    if (!it->second->data) {  // lazily generated (demo-large)
      it->second->data = make_demo_app(1000000);
      it->second->data->id = it->first;
    }
    return it->second;
  }

  // ----- handles and change tracking -----
  int new_handle(Connection& c, HandleEntry e) {
    int h = c.next_handle++;
    e.valid = false;
    c.handles.emplace(h, std::move(e));
    c.change.push_back(h);  // a new handle is listed at once
    return h;
  }
  void invalidate(Connection& c, int h) {
    auto it = c.handles.find(h);
    if (it == c.handles.end() || !it->second.valid) return;
    it->second.valid = false;
    c.change.push_back(h);
  }
  void release(Connection& c, int h) {
    if (c.handles.erase(h)) {
      c.closed.push_back(h);
      std::string prefix = std::to_string(h) + "|";
      for (auto it = c.delta_cache.begin(); it != c.delta_cache.end();)
        it = it->first.compare(0, prefix.size(), prefix) == 0 ? c.delta_cache.erase(it) : std::next(it);
    }
  }
  void flush_others(Connection& self) {
    for (Connection* o : conns) {
      if (o == &self || (o->change.empty() && o->closed.empty())) continue;
      json::object f;
      f["jsonrpc"] = "2.0";
      if (!o->change.empty()) f["change"] = json::value_from(o->change);
      if (!o->closed.empty()) f["close"] = json::value_from(o->closed);
      o->change.clear();
      o->closed.clear();
      if (o->push) o->push(json::serialize(f));
    }
  }
  // After a selection change in `state`: invalidate this session's calculated objects in that state.
  void selection_changed(Connection& c, const std::string& state) {
    ++c.session->epoch;
    for (auto& [h, e] : c.handles) {
      if (e.kind == HKind::Object && e.obj && e.obj->calc && e.obj->states.count(state)) invalidate(c, h);
      if (e.kind == HKind::Variable && e.var && !e.var->definition().empty() && e.var->definition()[0] == '=')
        invalidate(c, h);
    }
  }

  AppState& doc(Connection& c) {
    if (!c.session->app) fail(1007, "No active document");
    return *c.session->app;
  }
  const AppData& data(Connection& c) { return *doc(c).data; }

  SelectionState& selection(Connection& c, const std::string& state) { return c.session->states[state]; }

  std::shared_ptr<const Possible> possible(Connection& c, const std::string& state, int skip = -1) {
    auto& s = *c.session;
    auto key = std::make_pair(state, skip);
    auto it = s.possible_cache.find(key);
    if (it != s.possible_cache.end() && it->second.first == s.epoch) return it->second.second;
    auto p = std::make_shared<const Possible>(propagate(data(c), selection(c, state), skip));
    s.possible_cache[key] = {s.epoch, p};
    return p;
  }

  // ----- field states -----
  CellState cell_state(Connection& c, const std::string& state, int field, std::int32_t sym) {
    const auto& sel = selection(c, state);
    bool locked = sel.locked.count(field) > 0;
    auto it = sel.selected.find(field);
    auto p = possible(c, state);
    bool poss = p->syms[static_cast<std::size_t>(field)][static_cast<std::size_t>(sym)] != 0;
    if (it != sel.selected.end() && it->second[static_cast<std::size_t>(sym)]) {
      if (locked) return poss ? CellState::Locked : CellState::LockedExcluded;
      return poss ? CellState::Selected : CellState::SelectedExcluded;
    }
    if (it != sel.selected.end()) {
      auto alt = possible(c, state, field);
      return alt->syms[static_cast<std::size_t>(field)][static_cast<std::size_t>(sym)] ? CellState::Alternative
                                                                                         : CellState::Excluded;
    }
    return poss ? CellState::Optional : CellState::Excluded;
  }

  json::object state_counts(Connection& c, const std::string& state, int field) {
    std::size_t n[7] = {0, 0, 0, 0, 0, 0, 0};
    const auto& fd = data(c).fields[static_cast<std::size_t>(field)];
    for (std::size_t s = 0; s < fd.symbols.size(); ++s)
      ++n[static_cast<int>(cell_state(c, state, field, static_cast<std::int32_t>(s)))];
    json::object o;
    o["qLocked"] = n[static_cast<int>(CellState::Locked)];
    o["qSelected"] = n[static_cast<int>(CellState::Selected)];
    o["qOption"] = n[static_cast<int>(CellState::Optional)];
    o["qDeselected"] = 0;
    o["qAlternative"] = n[static_cast<int>(CellState::Alternative)];
    o["qExcluded"] = n[static_cast<int>(CellState::Excluded)];
    o["qSelectedExcluded"] = n[static_cast<int>(CellState::SelectedExcluded)];
    o["qLockedExcluded"] = n[static_cast<int>(CellState::LockedExcluded)];
    return o;
  }

  // Replaces the selection of `field`; returns false when the field is locked.
  bool set_selection(Connection& c, const std::string& state, int field, std::vector<char> flags) {
    auto& sel = selection(c, state);
    if (sel.locked.count(field)) return false;
    SelectionState before = sel;
    if (std::find(flags.begin(), flags.end(), 1) == flags.end()) sel.selected.erase(field);
    else sel.selected[field] = std::move(flags);
    if (!(before == sel)) selection_changed(c, state);
    return true;
  }
  std::vector<char> current_flags(Connection& c, const std::string& state, int field) {
    auto& sel = selection(c, state);
    auto it = sel.selected.find(field);
    if (it != sel.selected.end()) return it->second;
    return std::vector<char>(data(c).fields[static_cast<std::size_t>(field)].symbols.size(), 0);
  }
  // Selects element numbers (replace or toggle).
  bool select_elems(Connection& c, const std::string& state, int field, const std::vector<std::int64_t>& elems,
                    bool toggle) {
    std::size_t n = data(c).fields[static_cast<std::size_t>(field)].symbols.size();
    std::vector<char> flags = toggle ? current_flags(c, state, field) : std::vector<char>(n, 0);
    for (auto e : elems) {
      if (e < 0 || static_cast<std::size_t>(e) >= n) continue;
      auto& f = flags[static_cast<std::size_t>(e)];
      f = toggle ? static_cast<char>(!f) : 1;
    }
    return set_selection(c, state, field, std::move(flags));
  }

  // ----- layouts -----
  json::object cell_json(const Symbol& s, std::int32_t elem, const char* st) {
    json::object cell;
    cell["qText"] = s.text;
    cell["qNum"] = s.is_num ? num_json(s.num) : json::value("NaN");
    cell["qElemNumber"] = elem;
    cell["qState"] = st;
    return cell;
  }
  json::object value_cell(const Value& v) {
    json::object cell;
    if (v.null) {
      cell["qText"] = "-";
      cell["qNum"] = "NaN";
      cell["qElemNumber"] = -2;
      cell["qState"] = "L";
      cell["qIsNull"] = true;
      return cell;
    }
    cell["qText"] = v.text;
    cell["qNum"] = num_json(v.num);
    cell["qElemNumber"] = 0;
    cell["qState"] = "L";
    return cell;
  }

  static int sort_value(const json::value* crit, const char* key, int fallback) {
    if (!crit) return fallback;
    return static_cast<int>(int_of(core::find_member(*crit, key), fallback));
  }

  int compare_syms(const FieldData& fd, std::int32_t a, std::int32_t b, const json::value* crit, bool list) {
    if (a == b) return 0;
    const Symbol x = fd.symbols[static_cast<std::size_t>(a)];
    const Symbol y = fd.symbols[static_cast<std::size_t>(b)];
    int by_num = sort_value(crit, "qSortByNumeric", list ? 0 : 1);
    int by_ascii = sort_value(crit, "qSortByAscii", list ? 0 : 1);
    int by_load = sort_value(crit, "qSortByLoadOrder", 1);
    if (by_num != 0) {
      if (x.is_num && y.is_num && x.num != y.num) return (x.num < y.num ? -1 : 1) * by_num;
      if (x.is_num != y.is_num) return x.is_num ? -1 : 1;
    }
    if (by_ascii != 0) {
      std::string lx = lower(std::string(x.text)), ly = lower(std::string(y.text));
      if (lx != ly) return (lx < ly ? -1 : 1) * by_ascii;
    }
    if (by_load != 0) return (a < b ? -1 : 1) * (by_load < 0 ? -1 : 1);
    return a < b ? -1 : 1;
  }

  json::object dim_info(Connection& c, const std::string& state, int field, const std::string& title) {
    const auto& fd = data(c).fields[static_cast<std::size_t>(field)];
    json::object d;
    d["qFallbackTitle"] = title;
    std::size_t glyphs = 0;
    double mn = std::numeric_limits<double>::quiet_NaN(), mx = mn;
    for (std::size_t i = 0; i < fd.symbols.size(); ++i) {
      const Symbol s = fd.symbols[i];
      glyphs = std::max(glyphs, s.text.size());
      if (s.is_num) {
        mn = std::isnan(mn) ? s.num : std::min(mn, s.num);
        mx = std::isnan(mx) ? s.num : std::max(mx, s.num);
      }
    }
    d["qApprMaxGlyphCount"] = glyphs;
    d["qCardinal"] = fd.symbols.size();
    d["qSortIndicator"] = "A";
    d["qGroupFallbackTitles"] = json::array{json::value(title)};
    d["qGroupPos"] = 0;
    d["qStateCounts"] = state_counts(c, state, field);
    d["qTags"] = json::array{};
    d["qDimensionType"] = fd.all_numeric && !fd.symbols.empty() ? "N" : "D";
    d["qGrouping"] = "N";
    d["qNumFormat"] = json::object{{"qType", "U"}, {"qnDec", 0}, {"qUseThou", 0}};
    d["qIsAutoFormat"] = true;
    d["qGroupFieldDefs"] = json::array{json::value(fd.name)};
    d["qMin"] = num_json(mn);
    d["qMax"] = num_json(mx);
    d["qAttrExprInfo"] = json::array{};
    d["qAttrDimInfo"] = json::array{};
    d["qCardinalities"] = json::object{{"qCardinal", fd.symbols.size()}, {"qHypercubeCardinal", 0}, {"qAllValuesCardinal", -1}};
    d["qLocked"] = selection(c, state).locked.count(field) > 0;
    return d;
  }

  std::string obj_state(const HandleEntry& e, const json::value& def) {
    std::string s = str_of(core::find_member(def, "qStateName"));
    if (s.empty()) s = e.obj ? e.obj->state : "$";
    return s;
  }

  std::shared_ptr<CubeCache> hypercube(Connection& c, HandleEntry& e, const std::string& path, const json::value& def) {
    auto& cache = e.cubes[path];
    if (cache && cache->epoch == c.session->epoch && cache->version == e.obj->version) return cache;
    auto cc = std::make_shared<CubeCache>();
    cc->epoch = c.session->epoch;
    cc->version = e.obj->version;
    cc->state = obj_state(e, def);
    const AppData& app = data(c);
    json::object hc;
    hc["qStateName"] = cc->state;
    json::array dinfos, minfos;
    std::vector<std::shared_ptr<const Expression>> exprs;
    std::vector<const json::value*> dim_crit;
    std::vector<int> meas_sort;
    try {
      if (const auto* dims = core::find_member(def, "qDimensions"); dims && dims->is_array()) {
        for (const auto& d : dims->get_array()) {
          const json::value* qdef = core::find_member(d, "qDef");
          const json::value* fdefs = qdef ? core::find_member(*qdef, "qFieldDefs") : nullptr;
          std::string fname;
          if (fdefs && fdefs->is_array() && !fdefs->get_array().empty()) fname = str_of(&fdefs->get_array()[0]);
          if (!fname.empty() && fname[0] == '=') fname = fname.substr(1);
          if (fname.size() > 2 && fname.front() == '[' && fname.back() == ']') fname = fname.substr(1, fname.size() - 2);
          int f = app.field_id(fname);
          if (f < 0) throw ExprError(7000, "Bad field name: " + fname);
          std::string title = fname;
          const json::value* labels = qdef ? core::find_member(*qdef, "qFieldLabels") : nullptr;
          if (labels && labels->is_array() && !labels->get_array().empty() && !str_of(&labels->get_array()[0]).empty())
            title = str_of(&labels->get_array()[0]);
          cc->dim_fields.push_back(f);
          const json::value* crits = qdef ? core::find_member(*qdef, "qSortCriterias") : nullptr;
          dim_crit.push_back(crits && crits->is_array() && !crits->get_array().empty() ? &crits->get_array()[0] : nullptr);
          dinfos.push_back(dim_info(c, cc->state, f, title));
        }
      }
      if (const auto* ms = core::find_member(def, "qMeasures"); ms && ms->is_array()) {
        for (const auto& m : ms->get_array()) {
          const json::value* qdef = core::find_member(m, "qDef");
          std::string src = qdef ? str_of(core::find_member(*qdef, "qDef")) : "";
          std::string label = qdef ? str_of(core::find_member(*qdef, "qLabel")) : "";
          exprs.push_back(Expression::parse(src, app));
          const json::value* sb = core::find_member(m, "qSortBy");
          meas_sort.push_back(sb ? static_cast<int>(int_of(core::find_member(*sb, "qSortByNumeric"), 0)) : 0);
          json::object mi;
          mi["qFallbackTitle"] = label.empty() ? src : label;
          mi["qApprMaxGlyphCount"] = 0;
          mi["qCardinal"] = 0;
          mi["qSortIndicator"] = "N";
          mi["qNumFormat"] = json::object{{"qType", "U"}, {"qnDec", 0}, {"qUseThou", 0}};
          mi["qMin"] = "NaN";
          mi["qMax"] = "NaN";
          mi["qIsAutoFormat"] = true;
          mi["qAttrExprInfo"] = json::array{};
          mi["qAttrDimInfo"] = json::array{};
          mi["qTrendLines"] = json::array{};
          minfos.push_back(std::move(mi));
        }
      }
      std::vector<const Expression*> raw;
      for (const auto& x : exprs) raw.push_back(x.get());
      auto p = possible(c, cc->state);
      cc->result = calculate(app, *p, cc->dim_fields, raw);
    } catch (const ExprError& err) {
      cc->error = err.code;
    }
    const std::size_t nd = cc->dim_fields.size(), nm = exprs.size();
    cc->cols = nd + nm;
    std::size_t rows = cc->error ? 0 : cc->result.rows;
    // Sort by qInterColumnSortOrder.
    std::vector<std::size_t> sort_cols;
    if (const auto* so = core::find_member(def, "qInterColumnSortOrder"); so && so->is_array() && !so->get_array().empty()) {
      for (const auto& v : so->get_array()) {
        auto n = core::integer_of(&v);
        if (n && *n >= 0 && static_cast<std::size_t>(*n) < nd + nm) sort_cols.push_back(static_cast<std::size_t>(*n));
      }
    } else {
      for (std::size_t i = 0; i < nd + nm; ++i) sort_cols.push_back(i);
    }
    cc->order.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) cc->order[i] = static_cast<std::uint32_t>(i);
    if (!cc->error) {
      for (std::size_t m = 0; m < nm && m < minfos.size(); ++m) {
        double mn = std::numeric_limits<double>::quiet_NaN(), mx = mn;
        const ValueColumn& col = cc->result.measures[m];
        for (std::size_t r = 0; r < rows; ++r)
          if (col.is_numeric(r)) {
            mn = std::isnan(mn) ? col.num(r) : std::min(mn, col.num(r));
            mx = std::isnan(mx) ? col.num(r) : std::max(mx, col.num(r));
          }
        minfos[m].as_object()["qMin"] = num_json(mn);
        minfos[m].as_object()["qMax"] = num_json(mx);
      }
      std::stable_sort(cc->order.begin(), cc->order.end(), [&](std::size_t a, std::size_t b) {
        for (std::size_t col : sort_cols) {
          int r = 0;
          if (col < nd) {
            r = compare_syms(app.fields[static_cast<std::size_t>(cc->dim_fields[col])], cc->result.dim(a, col),
                             cc->result.dim(b, col), dim_crit[col], false);
          } else {
            int dir = meas_sort[col - nd];
            if (dir == 0) continue;
            const ValueColumn& m = cc->result.measures[col - nd];
            bool xn = m.is_numeric(a), yn = m.is_numeric(b);
            if (xn && yn && m.num(a) != m.num(b)) r = (m.num(a) < m.num(b) ? -1 : 1) * dir;
            else if (xn != yn) r = xn ? -1 : 1;
          }
          if (r != 0) return r < 0;
        }
        return false;
      });
    }
    hc["qSize"] = json::object{{"qcx", cc->cols}, {"qcy", rows}};
    if (cc->error) hc["qError"] = json::object{{"qErrorCode", cc->error}};
    hc["qDimensionInfo"] = std::move(dinfos);
    hc["qMeasureInfo"] = std::move(minfos);
    json::array eff;
    for (auto col : sort_cols) eff.push_back(col);
    hc["qEffectiveInterColumnSortOrder"] = std::move(eff);
    hc["qGrandTotalRow"] = json::array{};
    hc["qPivotDataPages"] = json::array{};
    hc["qStackedDataPages"] = json::array{};
    hc["qMode"] = "S";
    hc["qNoOfLeftDims"] = -1;
    hc["qTreeNodesOnDim"] = json::array{};
    hc["qColumnOrder"] = json::array{};
    cc->layout = std::move(hc);
    cache = cc;
    return cc;
  }

  std::shared_ptr<CubeCache> listobject(Connection& c, HandleEntry& e, const std::string& path, const json::value& def) {
    auto& cache = e.cubes[path];
    if (cache && cache->epoch == c.session->epoch && cache->version == e.obj->version) return cache;
    auto cc = std::make_shared<CubeCache>();
    cc->list = true;
    cc->epoch = c.session->epoch;
    cc->version = e.obj->version;
    cc->state = obj_state(e, def);
    cc->cols = 1;
    const AppData& app = data(c);
    const json::value* qdef = core::find_member(def, "qDef");
    const json::value* fdefs = qdef ? core::find_member(*qdef, "qFieldDefs") : nullptr;
    std::string fname;
    if (fdefs && fdefs->is_array() && !fdefs->get_array().empty()) fname = str_of(&fdefs->get_array()[0]);
    int f = app.field_id(fname);
    json::object lo;
    lo["qStateName"] = cc->state;
    if (f < 0) {
      cc->error = 7000;
      lo["qSize"] = json::object{{"qcx", 0}, {"qcy", 0}};
      lo["qError"] = json::object{{"qErrorCode", 7000}};
      lo["qDimensionInfo"] = json::object{};
    } else {
      cc->dim_fields.push_back(f);
      const auto& fd = app.fields[static_cast<std::size_t>(f)];
      std::string title = fname;
      const json::value* labels = qdef ? core::find_member(*qdef, "qFieldLabels") : nullptr;
      if (labels && labels->is_array() && !labels->get_array().empty() && !str_of(&labels->get_array()[0]).empty())
        title = str_of(&labels->get_array()[0]);
      const json::value* crits = qdef ? core::find_member(*qdef, "qSortCriterias") : nullptr;
      const json::value* crit = crits && crits->is_array() && !crits->get_array().empty() ? &crits->get_array()[0] : nullptr;
      std::size_t n = fd.symbols.size();
      cc->result.rows = n;
      cc->result.ndims = 1;
      cc->result.dims.resize(n);
      std::vector<int> rank(n);
      for (std::size_t s = 0; s < n; ++s) {
        cc->result.dims[s] = static_cast<std::int32_t>(s);
        CellState st = cell_state(c, cc->state, f, static_cast<std::int32_t>(s));
        rank[s] = (st == CellState::Selected || st == CellState::Locked) ? 0
                  : st == CellState::Optional                            ? 1
                  : st == CellState::Alternative                         ? 2
                                                                         : 3;
      }
      cc->order.resize(n);
      for (std::size_t i = 0; i < n; ++i) cc->order[i] = static_cast<std::uint32_t>(i);
      int by_state = sort_value(crit, "qSortByState", 0);
      std::stable_sort(cc->order.begin(), cc->order.end(), [&](std::size_t a, std::size_t b) {
        if (by_state != 0 && rank[a] != rank[b]) return (rank[a] < rank[b]) == (by_state > 0);
        return compare_syms(fd, static_cast<std::int32_t>(a), static_cast<std::int32_t>(b), crit, true) < 0;
      });
      lo["qSize"] = json::object{{"qcx", 1}, {"qcy", n}};
      lo["qDimensionInfo"] = dim_info(c, cc->state, f, title);
    }
    lo["qExpressions"] = json::array{};
    cc->layout = std::move(lo);
    cache = cc;
    return cc;
  }

  json::array pages(Connection& c, const CubeCache& cc, const json::array& req, bool show_alt, bool strict) {
    json::array out;
    for (const auto& pg : req) {
      std::int64_t top = int_of(core::find_member(pg, "qTop"), 0), left = int_of(core::find_member(pg, "qLeft"), 0);
      std::int64_t width = int_of(core::find_member(pg, "qWidth"), 0), height = int_of(core::find_member(pg, "qHeight"), 0);
      if (width < 0 || height < 0 || top < 0 || left < 0) fail(-32602, "qPages");
      if (width * height > 10000) {
        if (strict) fail(7009, "Calculation pages too large");
        continue;
      }
      std::int64_t rows = static_cast<std::int64_t>(cc.order.size()), cols = static_cast<std::int64_t>(cc.cols);
      std::int64_t h = std::max<std::int64_t>(0, std::min(height, rows - top));
      std::int64_t w = std::max<std::int64_t>(0, std::min(width, cols - left));
      json::array matrix;
      const AppData& app = data(c);
      const std::size_t nd = cc.dim_fields.size();
      for (std::int64_t r = top; r < top + h; ++r) {
        std::size_t row = cc.order[static_cast<std::size_t>(r)];
        json::array line;
        for (std::int64_t col = left; col < left + w; ++col) {
          auto ci = static_cast<std::size_t>(col);
          if (ci < nd) {
            int f = cc.dim_fields[ci];
            std::int32_t sym = cc.result.dim(row, ci);
            CellState st = cell_state(c, cc.state, f, sym);
            if (!show_alt && st == CellState::Alternative) st = CellState::Excluded;
            line.push_back(cell_json(app.fields[static_cast<std::size_t>(f)].symbols[static_cast<std::size_t>(sym)], sym,
                                     state_code(st)));
          } else {
            line.push_back(value_cell(cc.result.measures[ci - nd].get(row)));
          }
        }
        matrix.push_back(std::move(line));
      }
      json::object page;
      page["qMatrix"] = std::move(matrix);
      page["qTails"] = json::array{};
      page["qArea"] = json::object{{"qLeft", left}, {"qTop", top}, {"qWidth", w}, {"qHeight", h}};
      page["qIsReduced"] = false;
      out.push_back(std::move(page));
    }
    return out;
  }

  json::object selection_object(Connection& c, const std::string& state) {
    json::object so;
    so["qBackCount"] = 0;
    so["qForwardCount"] = 0;
    json::array sels;
    const auto& sel = selection(c, state);
    const AppData& app = data(c);
    for (const auto& [f, flags] : sel.selected) {
      const auto& fd = app.fields[static_cast<std::size_t>(f)];
      json::object s;
      s["qField"] = fd.name;
      std::vector<std::string> texts;
      for (std::size_t i = 0; i < flags.size(); ++i)
        if (flags[i]) texts.emplace_back(fd.symbols.text(i));
      std::sort(texts.begin(), texts.end());
      std::string summary;
      if (texts.size() <= 6) {
        for (std::size_t i = 0; i < texts.size(); ++i) summary += (i ? ", " : "") + texts[i];
      } else {
        summary = std::to_string(texts.size()) + " of " + std::to_string(fd.symbols.size());
      }
      s["qSelected"] = summary;
      s["qSelectedCount"] = texts.size();
      s["qTotal"] = fd.symbols.size();
      s["qLocked"] = sel.locked.count(f) > 0;
      s["qIsNum"] = false;
      s["qOneAndOnlyOne"] = false;
      s["qTextSearch"] = "";
      s["qSelectionThreshold"] = 6;
      json::array infos;
      if (texts.size() <= 6)
        for (const auto& t : texts) infos.push_back(json::object{{"qName", t}, {"qFieldSelectionMode", "NORMAL"}});
      s["qSelectedFieldSelectionInfo"] = std::move(infos);
      s["qNotSelectedFieldSelectionInfo"] = json::array{};
      s["qRangeInfo"] = json::array{};
      s["qSortIndex"] = 0;
      s["qStateCounts"] = state_counts(c, state, f);
      sels.push_back(std::move(s));
    }
    so["qSelections"] = std::move(sels);
    return so;
  }

  Value eval_text(Connection& c, const std::string& src) {
    auto e = Expression::parse(src, data(c));
    auto p = possible(c, "$");
    return evaluate(data(c), *p, *e);
  }

  json::value layout_of(Connection& c, HandleEntry& e, const json::value& v, const std::string& path) {
    if (const auto* o = v.if_object()) {
      if (const auto* se = o->if_contains("qStringExpression")) {
        try {
          Value r = eval_text(c, str_of(core::find_member(*se, "qExpr")));
          return json::value(r.null ? "-" : r.text);
        } catch (const ExprError& err) {
          return json::value(std::string("Error: ") + err.what());
        }
      }
      if (const auto* ve = o->if_contains("qValueExpression")) {
        try {
          Value r = eval_text(c, str_of(core::find_member(*ve, "qExpr")));
          return num_json(r.num);
        } catch (const ExprError&) {
          return json::value("NaN");
        }
      }
      json::object out;
      for (const auto& kv : *o) {
        std::string k(kv.key());
        std::string sub = path + "/" + k;
        if (k == "qHyperCubeDef") {
          auto cc = hypercube(c, e, sub, kv.value());
          json::object hc = cc->layout;
          const auto* init = core::find_member(kv.value(), "qInitialDataFetch");
          hc["qDataPages"] = init && init->is_array() ? pages(c, *cc, init->get_array(), true, false) : json::array{};
          out["qHyperCube"] = std::move(hc);
        } else if (k == "qListObjectDef") {
          auto cc = listobject(c, e, sub, kv.value());
          json::object lo = cc->layout;
          const auto* init = core::find_member(kv.value(), "qInitialDataFetch");
          bool alt = core::find_member(kv.value(), "qShowAlternatives") &&
                     core::find_member(kv.value(), "qShowAlternatives")->is_bool() &&
                     core::find_member(kv.value(), "qShowAlternatives")->get_bool();
          lo["qDataPages"] = init && init->is_array() && !cc->error ? pages(c, *cc, init->get_array(), alt, false) : json::array{};
          out["qListObject"] = std::move(lo);
        } else if (k == "qSelectionObjectDef") {
          std::string st = str_of(core::find_member(kv.value(), "qStateName"));
          out["qSelectionObject"] = selection_object(c, st.empty() ? e.obj->state : st);
        } else if (k == "qMetaDef") {
          out["qMeta"] = kv.value();
        } else {
          out[k] = layout_of(c, e, kv.value(), sub);
        }
      }
      return out;
    }
    if (const auto* a = v.if_array()) {
      json::array out;
      for (std::size_t i = 0; i < a->size(); ++i) out.push_back(layout_of(c, e, (*a)[i], path + "/" + std::to_string(i)));
      return out;
    }
    return v;
  }

  // ----- object references -----
  json::object obj_ref(const char* type, int handle, const std::string& id, const std::string& gtype) {
    json::object r;
    r["qType"] = type;
    r["qHandle"] = handle;
    r["qGenericType"] = gtype;
    r["qGenericId"] = id;
    return r;
  }
  static json::object null_ref() { return json::object{{"qType", nullptr}, {"qHandle", nullptr}}; }

  int handle_for_object(Connection& c, const std::shared_ptr<ObjectDef>& obj) {
    for (auto& [h, e] : c.handles)
      if (e.kind == HKind::Object && e.obj == obj) return h;
    HandleEntry e;
    e.kind = HKind::Object;
    e.obj = obj;
    return new_handle(c, std::move(e));
  }
  int handle_for_variable(Connection& c, const std::shared_ptr<VariableDef>& var) {
    for (auto& [h, e] : c.handles)
      if (e.kind == HKind::Variable && e.var == var) return h;
    HandleEntry e;
    e.kind = HKind::Variable;
    e.var = var;
    return new_handle(c, std::move(e));
  }
  int doc_handle(Connection& c) {
    for (auto& [h, e] : c.handles)
      if (e.kind == HKind::Doc) return h;
    HandleEntry e;
    e.kind = HKind::Doc;
    return new_handle(c, std::move(e));
  }

  std::shared_ptr<ObjectDef> find_object(Connection& c, const std::string& id) {
    auto it = c.session->objects.find(id);
    if (it != c.session->objects.end()) return it->second;
    if (c.session->app) {
      auto jt = c.session->app->objects.find(id);
      if (jt != c.session->app->objects.end()) return jt->second;
    }
    return nullptr;
  }

  std::shared_ptr<ObjectDef> make_object(const json::object& prop, bool persistent) {
    auto obj = std::make_shared<ObjectDef>();
    const json::value pv(prop);
    const json::value* info = core::find_member(pv, "qInfo");
    obj->id = info ? str_of(core::find_member(*info, "qId")) : "";
    obj->type = info ? str_of(core::find_member(*info, "qType")) : "";
    if (obj->id.empty()) obj->id = random_id();
    obj->persistent = persistent;
    obj->set_props(pv);
    return obj;
  }

  // An object's properties changed: invalidate it in every connection that has it open.
  void object_changed(const std::shared_ptr<ObjectDef>& obj) {
    for (Connection* o : conns)
      for (auto& [h, e] : o->handles)
        if (e.kind == HKind::Object && e.obj == obj) invalidate(*o, h);
  }

  // ----- dispatch -----
  json::object call(Connection& c, int handle, const std::string& method, const json::value* params);
  json::object call_global(Connection& c, const std::string& m, const Args& a);
  json::object call_doc(Connection& c, const std::string& m, const Args& a);
  json::object call_object(Connection& c, int handle, HandleEntry& e, const std::string& m, const Args& a);
  json::object call_field(Connection& c, HandleEntry& e, const std::string& m, const Args& a);
  json::object call_variable(Connection& c, int handle, HandleEntry& e, const std::string& m, const Args& a);
};

json::object Engine::Impl::call(Connection& c, int handle, const std::string& method, const json::value* params) {
  std::string cls;
  HandleEntry* entry = nullptr;
  if (handle == -1) {
    cls = "Global";
  } else {
    auto it = c.handles.find(handle);
    if (it == c.handles.end()) fail(-32602, "Invalid handle");
    entry = &it->second;
    switch (entry->kind) {
      case HKind::Doc: cls = "Doc"; break;
      case HKind::Object: cls = "GenericObject"; break;
      case HKind::Field: cls = "Field"; break;
      case HKind::Variable: cls = "GenericVariable"; break;
    }
  }
  const auto& table = method_table();
  auto it = table.find(cls + "." + method);
  if (it == table.end()) fail(-32601, method);
  Args args(it->second, params);
  if (cls == "Global") return call_global(c, method, args);
  if (cls == "Doc") return call_doc(c, method, args);
  if (cls == "GenericObject") return call_object(c, handle, *entry, method, args);
  if (cls == "Field") return call_field(c, *entry, method, args);
  return call_variable(c, handle, *entry, method, args);
}

json::object Engine::Impl::call_global(Connection& c, const std::string& m, const Args& a) {
  json::object r;
  if (m == "EngineVersion") {
    r["qVersion"] = json::object{{"qComponentVersion", kEngineVersion}};
  } else if (m == "ProductVersion") {
    r["qReturn"] = kEngineVersion;
  } else if (m == "GetDocList") {
    json::array list;
    for (const auto& [id, app] : apps) {
      if (app->session_app) continue;
      json::object d;
      d["qDocName"] = id;
      d["qConnectedUsers"] = 0;
      d["qFileTime"] = 0;
      d["qFileSize"] = 0;
      d["qDocId"] = id;
      d["qMeta"] = json::object{};
      d["qLastReloadTime"] = "2026-01-01T00:00:00.000Z";
      d["qReadOnly"] = false;
      d["qTitle"] = id;
      d["qThumbnail"] = json::object{{"qUrl", ""}};
      list.push_back(std::move(d));
    }
    r["qDocList"] = std::move(list);
  } else if (m == "OpenDoc") {
    std::string name = a.str(0);
    if (c.session->app) fail(1002, name);  // one app per session, as the engine
    auto app = find_app(name);
    if (!app) fail(1003, name);
    c.session->app = app;
    c.session->possible_cache.clear();
    r["qReturn"] = obj_ref("Doc", doc_handle(c), name, "");
    r["qReturn"].as_object().erase("qGenericType");
  } else if (m == "GetActiveDoc") {
    if (!c.session->app) fail(1007, "No active document");
    r["qReturn"] = obj_ref("Doc", doc_handle(c), c.session->app->id, "");
    r["qReturn"].as_object().erase("qGenericType");
  } else if (m == "CreateSessionApp") {
    if (c.session->app) fail(1002, "SessionApp");
    auto app = std::make_shared<AppState>();
    app->id = "SessionApp_" + random_uuid();
    app->session_app = true;
    app->data = std::make_shared<AppData>();
    app->data->id = app->id;
    app->data->title = app->id;
    c.session->app = app;
    c.session->possible_cache.clear();
    r["qReturn"] = json::object{{"qType", "Doc"}, {"qHandle", doc_handle(c)}};
    r["qSessionAppId"] = app->id;
  } else if (m == "CancelRequest") {
    (void)a.integer(0);
  } else if (m == "GetUniqueID") {
    r["qUniqueID"] = random_uuid();
  } else if (m == "IsDesktopMode") {
    r["qReturn"] = false;
  } else if (m == "QTProduct") {
    r["qReturn"] = "Qlik Sense";
  } else if (m == "OSName") {
    r["qReturn"] = "linux";
  }
  return r;
}

json::object Engine::Impl::call_doc(Connection& c, const std::string& m, const Args& a) {
  json::object r;
  AppState& app = doc(c);
  if (m == "GetAppLayout") {
    json::object l;
    l["qTitle"] = app.data->title;
    l["qFileName"] = app.id;
    l["qLastReloadTime"] = "2026-01-01T00:00:00.000Z";
    l["qModified"] = false;
    l["qHasScript"] = false;
    l["qStateNames"] = json::array{};
    l["qMeta"] = json::object{};
    l["qLocaleInfo"] = json::object{{"qDecimalSep", "."}, {"qThousandSep", ","}, {"qListSep", ","}, {"qMoneyDecimalSep", "."},
                                    {"qMoneyThousandSep", ","}, {"qCurrentYear", 2026}, {"qMoneyFmt", "$#,##0.00;-$#,##0.00"},
                                    {"qTimeFmt", "h:mm:ss TT"}, {"qDateFmt", "M/D/YYYY"}, {"qTimestampFmt", "M/D/YYYY h:mm:ss[.fff] TT"},
                                    {"qCalendarStrings", json::object{}}, {"qFirstWeekDay", 6}, {"qBrokenWeeks", true},
                                    {"qReferenceDay", 0}, {"qFirstMonthOfYear", 1}, {"qCollation", "en-US"},
                                    {"qNumericalAbbreviation", "3:k;6:M;9:G;12:T;15:P;18:E;21:Z;24:Y;-3:m;-6:μ;-9:n;-12:p;-15:f;-18:a;-21:z;-24:y"}};
    l["qHasData"] = !app.data->tables.empty();
    l["qReadOnly"] = false;
    l["qIsOpenedWithoutData"] = false;
    l["qIsSessionApp"] = app.session_app;
    l["qThumbnail"] = json::object{{"qUrl", ""}};
    l["qIsBDILiveMode"] = false;
    r["qLayout"] = std::move(l);
    for (auto& [h, e] : c.handles)
      if (e.kind == HKind::Doc) e.valid = true;
  } else if (m == "GetAppProperties") {
    r["qProp"] = json::object{{"qTitle", app.data->title}, {"qLastReloadTime", "2026-01-01T00:00:00.000Z"},
                              {"qMigrationHash", ""}, {"qSavedInProductVersion", kEngineVersion},
                              {"qThumbnail", json::object{{"qUrl", ""}}}, {"qHasSectionAccess", false}};
  } else if (m == "CreateSessionObject" || m == "CreateObject") {
    bool persistent = m == "CreateObject";
    auto obj = make_object(a.object(0), persistent);
    if (persistent) {
      if (app.objects.count(obj->id)) fail(2, "Object already exists: " + obj->id);
      app.objects[obj->id] = obj;
    } else {
      c.session->objects[obj->id] = obj;
    }
    int h = handle_for_object(c, obj);
    if (persistent) r["qInfo"] = json::object{{"qId", obj->id}, {"qType", obj->type}};
    r["qReturn"] = obj_ref("GenericObject", h, obj->id, obj->type);
  } else if (m == "GetObject") {
    auto obj = find_object(c, a.str(0));
    if (!obj) {
      r["qReturn"] = null_ref();
    } else {
      r["qReturn"] = obj_ref("GenericObject", handle_for_object(c, obj), obj->id, obj->type);
    }
  } else if (m == "DestroySessionObject" || m == "DestroyObject") {
    std::string id = a.str(0);
    std::shared_ptr<ObjectDef> obj;
    if (m == "DestroySessionObject") {
      auto it = c.session->objects.find(id);
      if (it != c.session->objects.end()) {
        obj = it->second;
        c.session->objects.erase(it);
      }
    } else {
      auto it = app.objects.find(id);
      if (it != app.objects.end()) {
        obj = it->second;
        app.objects.erase(it);
      }
    }
    if (obj) {
      for (Connection* o : conns) {
        std::vector<int> hs;
        for (auto& [h, e] : o->handles)
          if (e.kind == HKind::Object && e.obj == obj) hs.push_back(h);
        for (int h : hs) release(*o, h);
      }
    }
    r["qSuccess"] = obj != nullptr;
  } else if (m == "GetAllInfos") {
    json::array infos;
    for (const auto& [id, o] : app.objects) infos.push_back(json::object{{"qId", id}, {"qType", o->type}});
    for (const auto& [id, o] : c.session->objects) infos.push_back(json::object{{"qId", id}, {"qType", o->type}});
    r["qInfos"] = std::move(infos);
  } else if (m == "GetField") {
    int f = app.data->field_id(a.str(0));
    if (f < 0) {
      r["qReturn"] = null_ref();
    } else {
      std::string st = a.str(1);
      if (st.empty()) st = "$";
      int found = -1;
      for (auto& [h, e] : c.handles)
        if (e.kind == HKind::Field && e.field == f && e.state == st) found = h;
      if (found < 0) {
        HandleEntry e;
        e.kind = HKind::Field;
        e.field = f;
        e.state = st;
        found = new_handle(c, std::move(e));
      }
      r["qReturn"] = json::object{{"qType", "Field"}, {"qHandle", found}};
    }
  } else if (m == "Evaluate" || m == "EvaluateEx") {
    Value v;
    try {
      v = eval_text(c, a.str(0));
    } catch (const ExprError& err) {
      fail(err.code, err.what());
    }
    if (m == "Evaluate") {
      r["qReturn"] = v.null ? "-" : v.text;
    } else {
      json::object qv;
      qv["qText"] = v.null ? "-" : v.text;
      qv["qIsNumeric"] = v.is_numeric();
      qv["qNumber"] = num_json(v.num);
      r["qValue"] = std::move(qv);
    }
  } else if (m == "ClearAll") {
    bool locked_also = a.boolean(0);
    std::string st = a.str(1);
    std::vector<std::string> states;
    if (st.empty()) {
      for (auto& [name, s] : c.session->states) states.push_back(name);
    } else {
      states.push_back(st);
    }
    for (const auto& name : states) {
      auto& sel = selection(c, name);
      SelectionState before = sel;
      if (locked_also) sel.locked.clear();
      for (auto it = sel.selected.begin(); it != sel.selected.end();)
        it = sel.locked.count(it->first) ? std::next(it) : sel.selected.erase(it);
      if (!(before == sel)) selection_changed(c, name);
    }
  } else if (m == "CreateSessionVariable") {
    const json::value pv(a.object(0));
    auto var = std::make_shared<VariableDef>();
    const json::value* info = core::find_member(pv, "qInfo");
    var->id = info ? str_of(core::find_member(*info, "qId")) : "";
    if (var->id.empty()) var->id = random_id();
    var->name = str_of(core::find_member(pv, "qName"));
    var->props = pv;
    var->props.as_object()["qInfo"] = json::object{{"qId", var->id}, {"qType", "variable"}};
    c.session->variables[var->id] = var;
    r["qReturn"] = obj_ref("GenericVariable", handle_for_variable(c, var), var->id, "variable");
  } else if (m == "GetVariableByName" || m == "GetVariableById") {
    std::string key = a.str(0);
    std::shared_ptr<VariableDef> var;
    for (const auto& [id, v] : c.session->variables)
      if ((m == "GetVariableById" && id == key) || (m == "GetVariableByName" && v->name == key)) var = v;
    r["qReturn"] = var ? json::value(obj_ref("GenericVariable", handle_for_variable(c, var), var->id, "variable"))
                       : json::value(null_ref());
  } else if (m == "GetTablesAndKeys") {
    const AppData& d = *app.data;
    json::array qtr, qk;
    for (std::size_t t = 0; t < d.tables.size(); ++t) {
      const auto& tb = d.tables[t];
      json::object to;
      to["qName"] = tb.name;
      to["qLoose"] = false;
      to["qNoOfRows"] = tb.rows;
      json::array fields;
      for (int f : tb.fields) {
        const auto& fd = d.fields[static_cast<std::size_t>(f)];
        json::object fo;
        fo["qName"] = fd.name;
        fo["qOriginalFields"] = json::array{};
        fo["qPresent"] = true;
        fo["qHasNull"] = false;
        fo["qHasWild"] = false;
        fo["qHasDuplicates"] = d.has_duplicates(static_cast<int>(t), f);
        fo["qIsSynthetic"] = false;
        fo["qInformationDensity"] = 1;
        fo["qnNonNulls"] = tb.rows;
        fo["qnRows"] = tb.rows;
        fo["qSubsetRatio"] = 1;
        fo["qnTotalDistinctValues"] = fd.symbols.size();
        fo["qnPresentDistinctValues"] = fd.symbols.size();
        fo["qKeyType"] = d.is_key(f) ? "ANY_KEY" : "NOT_KEY";
        fo["qComment"] = "";
        fo["qTags"] = json::array{};
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
      for (int t : d.fields[f].tables) tables.push_back(json::value(d.tables[static_cast<std::size_t>(t)].name));
      qk.push_back(json::object{{"qTables", std::move(tables)}, {"qKeyFields", json::array{json::value(d.fields[f].name)}}});
    }
    r["qtr"] = std::move(qtr);
    r["qk"] = std::move(qk);
  }
  return r;
}

json::object Engine::Impl::call_object(Connection& c, int handle, HandleEntry& e, const std::string& m, const Args& a) {
  json::object r;
  auto& obj = *e.obj;
  if (m == "GetLayout") {
    json::value l = layout_of(c, e, obj.props, "");
    auto& lo = l.as_object();
    lo.erase("qExtendsId");
    lo["qSelectionInfo"] = json::object{};
    if (!lo.contains("qMeta") && obj.persistent) lo["qMeta"] = json::object{};
    r["qLayout"] = std::move(l);
    e.valid = true;
  } else if (m == "GetProperties") {
    r["qProp"] = obj.props;
  } else if (m == "GetInfo") {
    r["qInfo"] = json::object{{"qId", obj.id}, {"qType", obj.type}};
  } else if (m == "SetProperties") {
    json::value pv(a.object(0));
    obj.set_props(std::move(pv));
    if (obj.persistent) object_changed(e.obj);
    else invalidate(c, handle);
  } else if (m == "ApplyPatches") {
    json::value props = obj.props;
    for (const auto& pv : a.array(0)) {
      std::string op = lower(str_of(core::find_member(pv, "qOp")));
      if (auto n = core::integer_of(core::find_member(pv, "qOp"))) op = *n == 0 ? "add" : *n == 1 ? "remove" : "replace";
      std::string path = str_of(core::find_member(pv, "qPath"));
      std::string vtext = str_of(core::find_member(pv, "qValue"));
      json::value val;
      if (op != "remove") {
        auto parsed = core::parse_json(vtext);
        if (!parsed) fail(-32602, "qValue");
        val = std::move(*parsed);
      }
      if (path.empty() || path[0] != '/') fail(-32602, "qPath");
      auto cut = path.find_last_of('/');
      std::string parent = path.substr(0, cut), key = path.substr(cut + 1);
      json::value* target = parent.empty() ? &props : nullptr;
      if (!target) {
        boost::system::error_code ec;
        target = props.find_pointer(parent, ec);
        if (ec || !target) fail(-32602, "qPath");
      }
      if (auto* to = target->if_object()) {
        if (op == "remove") to->erase(key);
        else (*to)[key] = std::move(val);
      } else if (auto* ta = target->if_array()) {
        std::size_t idx = key == "-" ? ta->size() : static_cast<std::size_t>(std::strtoul(key.c_str(), nullptr, 10));
        if (op == "add") ta->insert(ta->begin() + static_cast<std::ptrdiff_t>(std::min(idx, ta->size())), std::move(val));
        else if (idx < ta->size()) {
          if (op == "remove") ta->erase(ta->begin() + static_cast<std::ptrdiff_t>(idx));
          else (*ta)[idx] = std::move(val);
        }
      } else {
        fail(-32602, "qPath");
      }
    }
    obj.set_props(std::move(props));
    if (obj.persistent) object_changed(e.obj);
    else invalidate(c, handle);
  } else if (m == "GetHyperCubeData" || m == "GetListObjectData") {
    std::string path = a.str(0);
    const json::value* def = at_pointer(obj.props, path);
    bool list = m == "GetListObjectData";
    if (path.empty()) path = list ? "/qListObjectDef" : "/qHyperCubeDef", def = at_pointer(obj.props, path);
    if (!def || !def->is_object()) fail(-32602, "qPath");
    auto cc = list ? listobject(c, e, path, *def) : hypercube(c, e, path, *def);
    if (cc->error) fail(cc->error, "qPath");
    bool alt = !list || (core::find_member(*def, "qShowAlternatives") && core::find_member(*def, "qShowAlternatives")->is_bool() &&
                         core::find_member(*def, "qShowAlternatives")->get_bool());
    r["qDataPages"] = pages(c, *cc, a.array(1), alt, true);
    e.valid = true;
  } else if (m == "SelectHyperCubeValues" || m == "SelectListObjectValues") {
    bool list = m == "SelectListObjectValues";
    std::string path = a.str(0);
    if (path.empty()) path = list ? "/qListObjectDef" : "/qHyperCubeDef";
    const json::value* def = at_pointer(obj.props, path);
    if (!def || !def->is_object()) fail(-32602, "qPath");
    auto cc = list ? listobject(c, e, path, *def) : hypercube(c, e, path, *def);
    std::size_t dim = list ? 0 : static_cast<std::size_t>(std::max<std::int64_t>(0, a.integer(1)));
    if (cc->error || dim >= cc->dim_fields.size()) fail(-32602, "qDimNo");
    std::vector<std::int64_t> elems;
    for (const auto& v : a.array(list ? 1 : 2)) elems.push_back(int_of(&v, -1));
    bool toggle = a.boolean(list ? 2 : 3);
    r["qSuccess"] = select_elems(c, cc->state, cc->dim_fields[dim], elems, toggle);
  } else if (m == "ClearSelections") {
    std::string path = a.str(0);
    const json::value* def = at_pointer(obj.props, path);
    if (!def || !def->is_object()) fail(-32602, "qPath");
    bool list = path.find("qListObjectDef") != std::string::npos;
    auto cc = list ? listobject(c, e, path, *def) : hypercube(c, e, path, *def);
    std::vector<int> fields = cc->dim_fields;
    if (!list && !a.array(1).empty()) {
      fields.clear();
      for (const auto& v : a.array(1)) {
        auto i = int_of(&v, -1);
        if (i >= 0 && static_cast<std::size_t>(i) < cc->dim_fields.size()) fields.push_back(cc->dim_fields[static_cast<std::size_t>(i)]);
      }
    }
    for (int f : fields) set_selection(c, cc->state, f, {});
  }
  return r;
}

json::object Engine::Impl::call_field(Connection& c, HandleEntry& e, const std::string& m, const Args& a) {
  json::object r;
  const AppData& d = data(c);
  const auto& fd = d.fields[static_cast<std::size_t>(e.field)];
  const std::size_t n = fd.symbols.size();
  if (m == "Select" || m == "ToggleSelect") {
    std::string match = a.str(0);
    std::vector<char> flags = m == "ToggleSelect" ? current_flags(c, e.state, e.field) : std::vector<char>(n, 0);
    double num = 0;
    bool is_num = parse_number(match, num);
    for (std::size_t s = 0; s < n; ++s) {
      const auto& sym = fd.symbols[s];
      bool hit = wildcard_match(match, sym.text) || (is_num && sym.is_num && sym.num == num);
      if (hit) flags[s] = m == "ToggleSelect" ? static_cast<char>(!flags[s]) : 1;
    }
    r["qReturn"] = set_selection(c, e.state, e.field, std::move(flags));
  } else if (m == "SelectValues") {
    bool toggle = a.boolean(1);
    std::vector<char> flags = toggle ? current_flags(c, e.state, e.field) : std::vector<char>(n, 0);
    for (const auto& fv : a.array(0)) {
      bool isnum = false;
      if (const auto* b = core::find_member(fv, "qIsNumeric"); b && b->is_bool()) isnum = b->get_bool();
      std::string text = str_of(core::find_member(fv, "qText"));
      double num = 0;
      if (const auto* nv = core::find_member(fv, "qNumber"); nv && nv->is_number()) num = nv->to_number<double>();
      for (std::size_t s = 0; s < n; ++s) {
        const auto& sym = fd.symbols[s];
        bool hit = isnum ? (sym.is_num && sym.num == num) : sym.text == text;
        if (hit) flags[s] = toggle ? static_cast<char>(!flags[s]) : 1;
      }
    }
    r["qReturn"] = set_selection(c, e.state, e.field, std::move(flags));
  } else if (m == "SelectAll" || m == "SelectPossible" || m == "SelectExcluded") {
    std::vector<char> flags(n, 0);
    auto p = possible(c, e.state, -1);
    for (std::size_t s = 0; s < n; ++s) {
      CellState st = cell_state(c, e.state, e.field, static_cast<std::int32_t>(s));
      bool poss = st == CellState::Selected || st == CellState::Optional || st == CellState::Locked ||
                  st == CellState::Alternative;
      if (m == "SelectAll") flags[s] = 1;
      else if (m == "SelectPossible") flags[s] = static_cast<char>(poss);
      else flags[s] = static_cast<char>(!poss && st != CellState::SelectedExcluded);
    }
    r["qReturn"] = set_selection(c, e.state, e.field, std::move(flags));
  } else if (m == "Clear") {
    r["qReturn"] = set_selection(c, e.state, e.field, {});
  } else if (m == "GetCardinal") {
    r["qReturn"] = n;
  } else if (m == "Lock" || m == "Unlock") {
    auto& sel = selection(c, e.state);
    bool before = sel.locked.count(e.field) > 0;
    if (m == "Lock") {
      if (sel.selected.count(e.field)) sel.locked.insert(e.field);
    } else {
      sel.locked.erase(e.field);
    }
    if (before != (sel.locked.count(e.field) > 0)) selection_changed(c, e.state);
    r["qReturn"] = true;
  }
  return r;
}

json::object Engine::Impl::call_variable(Connection& c, int handle, HandleEntry& e, const std::string& m, const Args& a) {
  json::object r;
  auto& var = *e.var;
  if (m == "GetLayout") {
    json::object l;
    l["qInfo"] = json::object{{"qId", var.id}, {"qType", "variable"}};
    l["qMeta"] = json::object{};
    std::string def = var.definition();
    Value v;
    if (!def.empty() && def[0] == '=') {
      try {
        v = eval_text(c, def);
      } catch (const ExprError& err) {
        v = Value::string(std::string("Error: ") + err.what());
      }
    } else {
      double d = 0;
      if (parse_number(def, d)) v = Value::number(d), v.text = def;
      else v = Value::string(def);
    }
    l["qText"] = v.null ? "-" : v.text;
    l["qNum"] = num_json(v.num);
    l["qIsScriptCreated"] = false;
    r["qLayout"] = std::move(l);
    e.valid = true;
  } else if (m == "GetProperties") {
    r["qProp"] = var.props;
  } else if (m == "SetStringValue" || m == "SetNumValue") {
    std::string def = m == "SetStringValue" ? a.str(0) : format_number(a.number(0));
    var.props.as_object()["qDefinition"] = def;
    invalidate(c, handle);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  if (!impl_->cfg.data_dir.empty()) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(impl_->cfg.data_dir)) throw std::runtime_error("--data: not a directory: " + impl_->cfg.data_dir);
    for (const auto& e : fs::directory_iterator(impl_->cfg.data_dir)) {
      if (!e.is_directory()) continue;
      auto app = std::make_shared<AppState>();
      app->id = e.path().filename().string();
      app->data = load_csv_app(e.path().string(), app->id);
      impl_->apps[app->id] = app;
    }
  } else {
    auto demo = std::make_shared<AppState>();
    demo->id = "demo";
    demo->data = make_demo_app(impl_->cfg.demo_rows);
    // One persistent chart, so `qix objects`, `qix layout` and `qix watch` have an object out of the box.
    auto chart = impl_->make_object(json::parse(R"json({"qInfo":{"qId":"sales-by-region","qType":"barchart"},
      "title":"Sales by region",
      "qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":["Region"]}}],
        "qMeasures":[{"qDef":{"qDef":"Sum(Sales)","qLabel":"Sales"}}],
        "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":2,"qHeight":20}]}})json").as_object(),
                                    true);
    demo->objects[chart->id] = chart;
    impl_->apps["demo"] = demo;
    auto large = std::make_shared<AppState>();
    large->id = "demo-large";  // generated on first open
    impl_->apps["demo-large"] = large;
  }
}

Engine::~Engine() = default;

namespace {
// Splits "/app/<id>/identity/<x>/ttl/<n>" (and any query string) into its parts.
void parse_target(std::string_view target, std::string& app, std::string& identity, int& ttl) {
  auto q = target.find('?');
  if (q != std::string_view::npos) target = target.substr(0, q);
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= target.size()) {
    auto j = target.find('/', i);
    if (j == std::string_view::npos) j = target.size();
    if (j > i) parts.emplace_back(target.substr(i, j - i));
    i = j + 1;
  }
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    if (parts[k] == "app") app = parts[k + 1];
    else if (parts[k] == "identity") identity = parts[k + 1];
    else if (parts[k] == "ttl") ttl = std::atoi(parts[k + 1].c_str());
  }
}
}  // namespace

std::shared_ptr<Connection> Engine::open(std::string_view target, std::function<void(std::string)> push,
                                         std::string& greeting) {
  auto c = std::make_shared<Connection>();
  c->push = std::move(push);
  std::string app, identity;
  int ttl = impl_->cfg.session_ttl;
  parse_target(target, app, identity, ttl);
  std::string key = app.empty() ? "" : app + "|" + identity;
  const char* state = "SESSION_CREATED";
  auto now = std::chrono::steady_clock::now();
  for (auto it = impl_->parked.begin(); it != impl_->parked.end();)
    it = it->second->expires < now ? impl_->parked.erase(it) : std::next(it);
  if (!key.empty()) {
    auto it = impl_->parked.find(key);
    if (it != impl_->parked.end()) {
      c->session = it->second;
      impl_->parked.erase(it);
      state = "SESSION_ATTACHED";
    }
  }
  if (!c->session) {
    c->session = std::make_shared<Session>();
    c->session->key = key;
    c->session->url_app = app;
  }
  c->session->ttl = ttl;
  c->session->connected = true;
  impl_->conns.insert(c.get());
  greeting = R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":")" + std::string(state) + "\"}}";
  return c;
}

void Engine::close(Connection& c) {
  impl_->conns.erase(&c);
  auto s = c.session;
  if (!s) return;
  s->connected = false;
  if (!s->key.empty() && s->ttl > 0) {
    s->expires = std::chrono::steady_clock::now() + std::chrono::seconds(s->ttl);
    impl_->parked[s->key] = s;
  }
  c.handles.clear();
}

std::uint64_t Engine::epoch(const Connection& c) const { return c.session ? c.session->epoch : 0; }

std::unique_ptr<Request> Engine::parse(std::string_view frame) const {
  auto r = std::make_unique<Request>();
  auto v = std::make_shared<json::value>();
  boost::system::error_code ec;
  *v = json::parse(frame, ec);
  if (ec || !v->is_object()) {
    *v = nullptr;
    r->has_id = true;
    r->method = "(parse error)";
  } else {
    r->method = str_of(core::find_member(*v, "method"));
    const json::value* id = core::find_member(*v, "id");
    r->has_id = id && !id->is_null();
    if (id) r->id_num = int_of(id, -1);
    static const std::set<std::string> calc = {"GetLayout", "GetHyperCubeData", "GetListObjectData", "Evaluate",
                                               "EvaluateEx"};
    r->calc = calc.count(r->method) > 0;
    if (r->method == "CancelRequest") {
      const json::value* p = core::find_member(*v, "params");
      if (p && p->is_array() && !p->get_array().empty()) r->cancel_target = int_of(&p->get_array()[0], -1);
      if (p && p->is_object()) r->cancel_target = int_of(core::find_member(*p, "qRequestId"), -1);
    }
  }
  r->body = v;
  return r;
}

namespace {
json::object error_frame(const json::value& id, int code, const std::string& parameter) {
  json::object f;
  f["jsonrpc"] = "2.0";
  f["id"] = id;
  f["error"] = json::object{{"code", code}, {"parameter", parameter}, {"message", locerr_message(code)}};
  return f;
}
}  // namespace

std::string Engine::aborted(const Request& r) const {
  const auto& v = *std::static_pointer_cast<json::value>(r.body);
  const json::value* id = core::find_member(v, "id");
  return json::serialize(error_frame(id ? *id : json::value(nullptr), 15, "Request aborted"));
}

std::string Engine::handle(Connection& c, Request& r) {
  auto& v = *std::static_pointer_cast<json::value>(r.body);
  if (v.is_null()) return json::serialize(error_frame(nullptr, -32700, "JSON parse error"));
  const json::value* idp = core::find_member(v, "id");
  json::value id = idp ? *idp : json::value(nullptr);
  json::object frame;
  frame["jsonrpc"] = "2.0";
  frame["id"] = id;
  const json::value* hp = core::find_member(v, "handle");
  auto handle = core::integer_of(hp);
  bool delta = false;
  if (const auto* d = core::find_member(v, "delta"); d && d->is_bool()) delta = d->get_bool();
  try {
    if (r.method.empty()) fail(-32600, "method");
    if (!handle) fail(-32602, "handle");
    json::object result = impl_->call(c, static_cast<int>(*handle), r.method, core::find_member(v, "params"));
    if (delta) {
      json::object patched;
      for (auto& kv : result) {
        std::string key = std::to_string(*handle) + "|" + r.method + "|" + std::string(kv.key());
        auto it = c.delta_cache.find(key);
        if (it == c.delta_cache.end()) {
          patched[kv.key()] = json::array{json::object{{"op", "add"}, {"path", "/"}, {"value", kv.value()}}};
          c.delta_cache.emplace(key, kv.value());
        } else {
          patched[kv.key()] = core::json_patch::diff(it->second, kv.value());
          it->second = kv.value();
        }
      }
      frame["delta"] = true;
      frame["result"] = std::move(patched);
    } else {
      frame["result"] = std::move(result);
    }
  } catch (const RpcError& e) {
    frame = error_frame(id, e.code, e.parameter);
  } catch (const ExprError& e) {
    frame = error_frame(id, e.code, e.what());
  } catch (const std::exception& e) {
    frame = error_frame(id, -32603, e.what());
  }
  impl_->flush_others(c);
  if (!r.has_id) return {};
  if (!c.change.empty()) frame["change"] = json::value_from(c.change);
  if (!c.closed.empty()) frame["close"] = json::value_from(c.closed);
  c.change.clear();
  c.closed.clear();
  return json::serialize(frame);
}

}  // namespace qix::sim
