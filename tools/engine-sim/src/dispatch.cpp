// qix-engine-sim: the dispatcher: parses request frames, routes each to the handler its handle's class
// lists for the method (handlers.hpp), resolves its parameters, answers with the result (or a JSON-Patch
// of it in delta mode) or an error, and attaches the change/close lists.
#include "engine.hpp"

#include "expr.hpp"
#include "handlers.hpp"
#include "json/json_patch.hpp"
#include "rpc.hpp"
#include "state.hpp"

#include <set>
#include <stdexcept>

namespace qix::sim {

namespace {

struct Route {
  const MethodSpec* spec;
  Handler run;
};

const char* class_name(HKind kind) {
  switch (kind) {
    case HKind::Doc: return "Doc";
    case HKind::Object: return "GenericObject";
    case HKind::Field: return "Field";
    case HKind::Variable: return "GenericVariable";
  }
  return "";
}

json::object error_frame(const json::value& id, int code, const std::string& parameter) {
  json::object f;
  f["jsonrpc"] = "2.0";
  f["id"] = id;
  f["error"] = json::object{{"code", code}, {"parameter", parameter}, {"message", locerr_message(code)}};
  return f;
}

}  // namespace

struct Engine::Impl {
  EngineState state;
  std::map<std::string, Route> routes;  // "Class.Method"

  explicit Impl(EngineConfig cfg) : state(std::move(cfg)) {
    add("Global", global_methods());
    add("Doc", doc_methods());
    add("GenericObject", generic_object_methods());
    add("Field", field_methods());
    add("GenericVariable", generic_variable_methods());
  }

  void add(const std::string& cls, std::span<const MethodImpl> methods) {
    for (const MethodImpl& m : methods) {
      std::string key = cls + "." + std::string(m.name);
      auto it = method_table().find(key);
      if (it == method_table().end()) throw std::logic_error("qix-engine-sim: no parameters for " + key);
      routes[key] = Route{&it->second, m.run};
    }
  }

  json::object call(Connection& c, int handle, const std::string& method, const json::value* params) {
    std::string cls = "Global";
    HandleEntry* entry = nullptr;
    if (handle != -1) {
      auto it = c.handles.find(handle);
      if (it == c.handles.end()) fail(-32602, "Invalid handle");
      entry = &it->second;
      cls = class_name(entry->kind);
    }
    auto it = routes.find(cls + "." + method);
    if (it == routes.end()) fail(-32601, method);
    Args args(*it->second.spec, params);
    Call call{state, c, handle, entry, args};
    return it->second.run(call);
  }
};

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Engine::~Engine() = default;

std::shared_ptr<Connection> Engine::open(std::string_view target, std::function<void(std::string)> push,
                                         std::string& greeting) {
  return impl_->state.connect(target, std::move(push), greeting);
}

void Engine::close(Connection& c) { impl_->state.disconnect(c); }

std::uint64_t Engine::epoch(const Connection& c) const { return c.session ? c.session->selections.epoch() : 0; }

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
  impl_->state.flush_others(c);
  if (!r.has_id) return {};
  if (!c.change.empty()) frame["change"] = json::value_from(c.change);
  if (!c.closed.empty()) frame["close"] = json::value_from(c.closed);
  c.change.clear();
  c.closed.clear();
  return json::serialize(frame);
}

}  // namespace qix::sim
