// qix-engine-sim: the dispatcher: parses request frames, routes each to the handler its handle's class
// lists for the method (handlers.hpp), resolves its parameters, answers with the result (or a JSON-Patch
// of it in delta mode) or an error, and attaches the change/close lists.
#include "engine.hpp"

#include "expr.hpp"
#include "handlers.hpp"
#include "json/json_patch.hpp"
#include "rpc.hpp"
#include "state.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace qix::sim {

namespace {

struct Route {
  const core::MethodInfo* method;  // in the shared table
  const MethodImpl* impl;
};

const char* class_name(HKind kind) {
  switch (kind) {
    case HKind::Doc:
      return "Doc";
    case HKind::Object:
      return "GenericObject";
    case HKind::Field:
      return "Field";
    case HKind::Variable:
      return "GenericVariable";
  }
  return "";
}

json::object error_frame(const json::value& id, int code, const std::string& parameter) {
  json::object f;
  f["jsonrpc"] = "2.0";
  f["id"] = id;
  f["error"] = json::object{{"code", code}, {"parameter", parameter}, {"message", locerr::message(code)}};
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

  // Routes the methods `cls` implements, each to its entry in the shared table; a method the table lacks,
  // or a fallback for a parameter the method does not require, is a programming error.
  void add(const std::string& cls, std::span<const MethodImpl> methods) {
    for (const MethodImpl& m : methods) {
      std::string key = cls + "." + std::string(m.name);
      const core::MethodInfo* info = core::find_method(cls, m.name);
      if (info == nullptr)
        throw std::logic_error("qix-engine-sim: " + key + " is not in the Engine API table");
      for (const Fallback& f : m.fallbacks) {
        bool required = std::any_of(info->in.begin(), info->in.end(), [&](const core::ParamInfo& p) {
          return p.name == f.param && p.required;
        });
        if (!required)
          throw std::logic_error("qix-engine-sim: " + key + " does not require " + std::string(f.param));
      }
      routes[key] = Route{info, &m};
    }
  }

  json::object call(Connection& c, int handle, const std::string& method, const json::value* params,
                    std::string* text_result = nullptr) {
    std::string cls = "Global";
    HandleEntry* entry = nullptr;
    if (handle != -1) {
      auto it = c.handles.find(handle);
      if (it == c.handles.end()) fail(locerr::kInvalidParameters, "Invalid handle");
      entry = &it->second;
      cls = class_name(entry->kind);
    }
    auto it = routes.find(cls + "." + method);
    if (it == routes.end()) fail(locerr::kMethodNotFound, method);
    Args args(*it->second.method, it->second.impl->fallbacks, params);
    Call call{state, c, handle, entry, args, text_result};
    return it->second.impl->run(call);
  }
};

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Engine::~Engine() = default;

std::shared_ptr<Connection> Engine::open(std::string_view target, std::function<void(std::string)> push,
                                         std::string& greeting) {
  return impl_->state.connect(target, std::move(push), greeting);
}

void Engine::close(Connection& c) {
  impl_->state.disconnect(c);
}

std::uint64_t Engine::epoch(const Connection& c) const {
  return c.session ? c.session->selections.epoch() : 0;
}

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
    static const std::set<std::string> calc = {"GetLayout", "GetHyperCubeData", "GetListObjectData",
                                               "Evaluate", "EvaluateEx"};
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
  return json::serialize(error_frame(id ? *id : json::value(nullptr), locerr::kAborted,
                                     std::string(locerr::message(locerr::kAborted))));
}

std::string Engine::handle(Connection& c, Request& r) {
  auto& v = *std::static_pointer_cast<json::value>(r.body);
  if (v.is_null())
    return json::serialize(
        error_frame(nullptr, locerr::kParseError, std::string(locerr::message(locerr::kParseError))));
  const json::value* idp = core::find_member(v, "id");
  json::value id = idp ? *idp : json::value(nullptr);
  json::object frame;
  frame["jsonrpc"] = "2.0";
  frame["id"] = id;
  std::string text_result;  // the result as its handler wrote it, when it did
  bool text_ok = false;
  const json::value* hp = core::find_member(v, "handle");
  auto handle = core::integer_of(hp);
  bool delta = false;
  if (const auto* d = core::find_member(v, "delta"); d && d->is_bool()) delta = d->get_bool();
  try {
    if (r.method.empty()) fail(locerr::kInvalidRequest, "method");
    if (!handle) fail(locerr::kInvalidParameters, "handle");
    // An answer sent as it is may come as text from its handler (data pages), spliced in below.
    json::object result = impl_->call(c, static_cast<int>(*handle), r.method, core::find_member(v, "params"),
                                      delta ? nullptr : &text_result);
    if (!text_result.empty()) {
      text_ok = true;
    } else if (delta) {
      json::object patched;
      for (auto& kv : result) {
        std::string key = std::to_string(*handle) + "|" + r.method + "|" + std::string(kv.key());
        auto it = c.delta_cache.find(key);
        // The result is not used after this: it moves into the patch or the cache, copied only where both
        // need it (a page of 10,000 cells was copied twice per answer).
        if (it == c.delta_cache.end()) {
          c.delta_cache.emplace(key, kv.value());
          json::object add;
          add["op"] = "add";
          add["path"] = "/";
          add["value"] = std::move(kv.value());
          json::array ops;
          ops.push_back(std::move(add));
          patched[kv.key()] = std::move(ops);
        } else {
          patched[kv.key()] = core::json_patch::diff(it->second, kv.value());
          it->second = std::move(kv.value());
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
    frame = error_frame(id, locerr::kInternalError, e.what());
  }
  impl_->state.flush_others(c);
  if (!r.has_id) return {};
  if (text_ok) {
    // The frame json::serialize would write, with the result's text in its place.
    std::string out = R"({"jsonrpc":"2.0","id":)";
    out += json::serialize(id);
    out += R"(,"result":)";
    out += text_result;
    if (!c.change.empty()) out += R"(,"change":)" + json::serialize(json::value_from(c.change));
    if (!c.closed.empty()) out += R"(,"close":)" + json::serialize(json::value_from(c.closed));
    out += '}';
    c.change.clear();
    c.closed.clear();
    return out;
  }
  if (!c.change.empty()) frame["change"] = json::value_from(c.change);
  if (!c.closed.empty()) frame["close"] = json::value_from(c.closed);
  c.change.clear();
  c.closed.clear();
  return json::serialize(frame);
}

}  // namespace qix::sim
