// qix-engine-sim: apps, sessions, connections, handles and change tracking.
#include "state.hpp"

#include "apps.hpp"
#include "rpc.hpp"

#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace qix::sim {

namespace {

bool has_calc_content(const json::value& v) {
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      auto k = kv.key();
      if (k == "qHyperCubeDef" || k == "qListObjectDef" || k == "qSelectionObjectDef" ||
          k == "qStringExpression" || k == "qValueExpression")
        return true;
      if (has_calc_content(kv.value())) return true;
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a)
      if (has_calc_content(e)) return true;
  }
  return false;
}

void collect_states(const json::value& v, std::set<std::string>& out) {
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      if (kv.key() == "qStateName" && kv.value().is_string() && !kv.value().get_string().empty())
        out.insert(std::string(kv.value().get_string()));
      else
        collect_states(kv.value(), out);
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a) collect_states(e, out);
  }
}

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
    if (parts[k] == "app")
      app = parts[k + 1];
    else if (parts[k] == "identity")
      identity = parts[k + 1];
    else if (parts[k] == "ttl")
      ttl = std::atoi(parts[k + 1].c_str());
  }
}

}  // namespace

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

void ObjectDef::set_props(json::value p) {
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

AppState& doc(Connection& c) {
  if (!c.session->app) fail(locerr::kAppInvalid, "No active document");
  return *c.session->app;
}

// ---------------------------------------------------------------------------------------------------
// Apps and sessions

EngineState::EngineState(EngineConfig config) : cfg(std::move(config)) {
  if (!cfg.data_dir.empty()) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(cfg.data_dir)) throw std::runtime_error("--data: not a directory: " + cfg.data_dir);
    for (const auto& e : fs::directory_iterator(cfg.data_dir)) {
      if (!e.is_directory()) continue;
      auto app = std::make_shared<AppState>();
      app->id = e.path().filename().string();
      app->data = load_csv_app(e.path().string(), app->id);
      apps[app->id] = app;
    }
  } else {
    auto demo = std::make_shared<AppState>();
    demo->id = "demo";
    demo->data = make_demo_app(cfg.demo_rows);
    // One persistent chart, so `qix objects`, `qix layout` and `qix watch` have an object out of the box.
    auto chart = make_object(json::parse(R"json({"qInfo":{"qId":"sales-by-region","qType":"barchart"},
      "title":"Sales by region",
      "qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":["Region"]}}],
        "qMeasures":[{"qDef":{"qDef":"Sum(Sales)","qLabel":"Sales"}}],
        "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":2,"qHeight":20}]}})json")
                                 .as_object(),
                             true);
    demo->objects[chart->id] = chart;
    apps["demo"] = demo;
    auto large = std::make_shared<AppState>();
    large->id = "demo-large";  // generated on first open
    apps["demo-large"] = large;
  }
}

std::shared_ptr<AppState> EngineState::find_app(const std::string& name) {
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

std::shared_ptr<Connection> EngineState::connect(std::string_view target,
                                                 std::function<void(std::string)> push,
                                                 std::string& greeting) {
  auto c = std::make_shared<Connection>();
  c->push = std::move(push);
  std::string app, identity;
  int ttl = cfg.session_ttl;
  parse_target(target, app, identity, ttl);
  std::string key = app.empty() ? "" : app + "|" + identity;
  const char* state = "SESSION_CREATED";
  auto now = std::chrono::steady_clock::now();
  for (auto it = parked.begin(); it != parked.end();)
    it = it->second->expires < now ? parked.erase(it) : std::next(it);
  if (!key.empty()) {
    auto it = parked.find(key);
    if (it != parked.end()) {
      c->session = it->second;
      parked.erase(it);
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
  conns.insert(c.get());
  greeting =
      R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":")" + std::string(state) + "\"}}";
  return c;
}

void EngineState::disconnect(Connection& c) {
  conns.erase(&c);
  auto s = c.session;
  if (!s) return;
  s->connected = false;
  if (!s->key.empty() && s->ttl > 0) {
    s->expires = std::chrono::steady_clock::now() + std::chrono::seconds(s->ttl);
    parked[s->key] = s;
  }
  c.handles.clear();
}

// ---------------------------------------------------------------------------------------------------
// Handles and change tracking

int EngineState::new_handle(Connection& c, HandleEntry e) {
  int h = c.next_handle++;
  e.valid = false;
  c.handles.emplace(h, std::move(e));
  c.change.push_back(h);  // a new handle is listed at once
  return h;
}

void EngineState::invalidate(Connection& c, int h) {
  auto it = c.handles.find(h);
  if (it == c.handles.end() || !it->second.valid) return;
  it->second.valid = false;
  c.change.push_back(h);
}

void EngineState::release(Connection& c, int h) {
  if (c.handles.erase(h)) {
    c.closed.push_back(h);
    std::string prefix = std::to_string(h) + "|";
    for (auto it = c.delta_cache.begin(); it != c.delta_cache.end();)
      it = it->first.compare(0, prefix.size(), prefix) == 0 ? c.delta_cache.erase(it) : std::next(it);
  }
}

void EngineState::flush_others(Connection& self) {
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

bool EngineState::apply(Connection& c, const SelectionChange& change) {
  for (const std::string& state : change.changed) {
    for (auto& [h, e] : c.handles) {
      if (e.kind == HKind::Object && e.obj && e.obj->calc && e.obj->states.count(state)) invalidate(c, h);
      if (e.kind == HKind::Variable && e.var && !e.var->definition().empty() && e.var->definition()[0] == '=')
        invalidate(c, h);
    }
  }
  return change.applied;
}

void EngineState::object_changed(const std::shared_ptr<ObjectDef>& obj) {
  for (Connection* o : conns)
    for (auto& [h, e] : o->handles)
      if (e.kind == HKind::Object && e.obj == obj) invalidate(*o, h);
}

void EngineState::object_destroyed(const std::shared_ptr<ObjectDef>& obj) {
  for (Connection* o : conns) {
    std::vector<int> hs;
    for (auto& [h, e] : o->handles)
      if (e.kind == HKind::Object && e.obj == obj) hs.push_back(h);
    for (int h : hs) release(*o, h);
  }
}

int EngineState::handle_for_object(Connection& c, const std::shared_ptr<ObjectDef>& obj) {
  for (auto& [h, e] : c.handles)
    if (e.kind == HKind::Object && e.obj == obj) return h;
  HandleEntry e;
  e.kind = HKind::Object;
  e.obj = obj;
  return new_handle(c, std::move(e));
}

int EngineState::handle_for_variable(Connection& c, const std::shared_ptr<VariableDef>& var) {
  for (auto& [h, e] : c.handles)
    if (e.kind == HKind::Variable && e.var == var) return h;
  HandleEntry e;
  e.kind = HKind::Variable;
  e.var = var;
  return new_handle(c, std::move(e));
}

int EngineState::doc_handle(Connection& c) {
  for (auto& [h, e] : c.handles)
    if (e.kind == HKind::Doc) return h;
  HandleEntry e;
  e.kind = HKind::Doc;
  return new_handle(c, std::move(e));
}

std::shared_ptr<ObjectDef> EngineState::find_object(Connection& c, const std::string& id) {
  auto it = c.session->objects.find(id);
  if (it != c.session->objects.end()) return it->second;
  if (c.session->app) {
    auto jt = c.session->app->objects.find(id);
    if (jt != c.session->app->objects.end()) return jt->second;
  }
  return nullptr;
}

std::shared_ptr<ObjectDef> EngineState::make_object(const json::object& prop, bool persistent) {
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

}  // namespace qix::sim
