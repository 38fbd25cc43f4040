// The one call path and the answers: Session::call/call_sync and Object::call/call_sync go through
// start_call, which registers the request (id, timeout, fetch and delta bookkeeping) and sends it; cancel()
// and call timeouts abandon it; handle_response correlates the answer (delta patches, retries of aborted
// calls, adoption of the handles it returns) and delivers it.
#include "session/detail.hpp"
#include "session/session.hpp"

#include "json/json_patch.hpp"
#include "json/json_scan.hpp"
#include "json/json_text_patch.hpp"
#include "rpc/frame.hpp"
#include "rpc/methods.hpp"

#include <algorithm>
#include <future>

namespace qix::core {

// std::string == "literal" is compare(): a strlen and a memcmp per test, on every answer; == "literal"sv
// compares the lengths first.
using namespace std::string_view_literals;

namespace {

bool opens_doc(std::string_view m) {
  return m == "OpenDoc" || m == "CreateSessionApp" || m == "CreateSessionAppFromApp" || m == "CreateDocEx";
}

const MethodInfo* lookup_method(std::string_view cls, std::string_view method) {
  if (const MethodInfo* m = find_method(cls, method)) return m;
  return find_method_any_class(method);
}

}  // namespace

// ------------------------------------------------------------------------------------------------- calls out
Error Session::validate_params(std::string_view params_json) {
  if (params_json.empty()) return {};
  // Checked by the parser without building a DOM (the text is sent as it is, and a DOM of a large params
  // value was a copy of it, allocated per call and thrown away).
  std::string err;
  if (!json_scan::validate(params_json, &err)) {
    return Error::make(ErrorKind::invalid_argument, "params are not valid JSON: " + err);
  }
  const std::size_t first = json_scan::skip_ws(params_json, 0);  // a valid value: not all whitespace
  if (params_json[first] != '[' && params_json[first] != '{') {
    return Error::make(ErrorKind::invalid_argument,
                       "params must be a JSON array (by position) or object (by name)");
  }
  return {};
}

std::int64_t Session::call(int handle, std::string_view method, std::string_view params_json,
                           CallOptions opts, CallCallback cb, Error* refused) {
  return start_call(CallVia::handle, nullptr, handle, method, params_json, opts, std::move(cb), false,
                    refused);
}

CallResult Session::call_sync(int handle, std::string_view method, std::string_view params_json,
                              CallOptions opts) {
  return wait_for([&](CallCallback done) {
    start_call(CallVia::handle, nullptr, handle, method, params_json, opts, std::move(done), true);
  });
}

Error Session::closed_object_error(int handle) {
  return Error::make(ErrorKind::closed, "the object with handle " + std::to_string(handle) + " is closed");
}

CallResult Session::wait_for(const std::function<void(CallCallback)>& start) {
  // Refused, not waited for: inside a dispatcher callback (the wait would stall event delivery) and inside
  // an open batch (the request would leave only when the batch ends, after the wait).
  const char* busy = Context::on_an_io_thread()
                         ? "a blocking call from a callback run on the I/O thread (events.inline) would "
                           "wait for an answer only that thread can read; use the asynchronous call"
                     : SerialQueue::in_dispatcher_thread()
                         ? "a blocking call from inside a callback would stall event delivery; "
                           "use the asynchronous call"
                     : OutputBatch::active()
                         ? "a blocking call inside qix_batch_begin/qix_batch_end would wait for a request "
                           "that leaves only at qix_batch_end; use the asynchronous call"
                         : nullptr;
  if (busy != nullptr) {
    CallResult r;
    r.error = Error::make(ErrorKind::busy, busy);
    return r;
  }
  auto promise = std::make_shared<std::promise<CallResult>>();
  auto future = promise->get_future();
  // An inline completion: no user code runs on the I/O thread.
  start([promise](CallResult& r) { promise->set_value(std::move(r)); });
  return future.get();
}

std::int64_t Session::start_call(CallVia via, std::shared_ptr<Object> target, int handle,
                                 std::string_view method, std::string_view params_json, CallOptions opts,
                                 CallCallback cb, bool inline_cb, Error* refused) {
  std::string frame;
  std::int64_t id = 0;
  Error immediate;
  CallCallback immediate_cb;  // the callback when the call fails before it is sent
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mutex_);
    const bool protocol_closed =
        state_ == SessionState::closed && close_info_ && close_info_->error.kind == ErrorKind::protocol;
    if (via == CallVia::object && (target->closed_ || closing_)) {
      // A zombie proxy (its handle was released; the engine may even reuse the number), or a session closing:
      // refused before the call has an id. A server that does not speak QIX: its verdict says more.
      immediate = protocol_closed ? close_info_->error : closed_object_error(target->handle());
    }
    if (via == CallVia::handle) {
      auto found = objects_.find(handle);
      if (found != objects_.end()) target = found->second;
    }
    if (!immediate) id = next_id_++;
    // The handle is read under the lock: a reconnect may have swapped it.
    if (target) handle = target->handle();
    auto registered = objects_.find(handle);
    bool suspended = state_ == SessionState::suspended;
    if (immediate) {
      // refused above
    } else if (protocol_closed) {
      immediate = close_info_->error;  // the server does not speak QIX: say so, not just "closed"
    } else if (state_ == SessionState::closed || closing_) {
      immediate = Error::make(ErrorKind::closed, "the session is closed");
    } else if (suspended && !options_.reconnect.queue_calls) {
      immediate = Error::make(ErrorKind::connection_lost,
                              "the session is suspended, reconnecting after: " + reconnect_.drop.describe());
      immediate.code = reconnect_.drop.code;
    } else if (method.empty()) {
      immediate = Error::make(ErrorKind::invalid_argument, "the method name is empty");
    } else if (!target) {
      immediate = Error::make(ErrorKind::invalid_argument,
                              "handle " + std::to_string(handle) + " is not open in this session");
    } else if (target->closed_ || registered == objects_.end() || registered->second != target) {
      immediate = closed_object_error(handle);  // released since it was looked up
    } else if (handle == kGlobalHandle && opens_doc(method) && (doc_handle_ != 0 || doc_opening_)) {
      immediate =
          Error::make(ErrorKind::invalid_argument,
                      "this session already has a doc open (one app per session, the proxy routes by the "
                      "app in the URL): open another session for another app");
    }
    if (immediate) {
      immediate_cb = std::move(cb);  // answered below, outside the lock
    } else {
      Object& obj = *target;
      Pending p;
      p.handle = handle;
      p.method = std::string(method);
      p.cb = std::move(cb);
      p.inline_cb = inline_cb;
      p.target = target;
      p.text_result = opts.text_result;
      bool want_delta = opts.delta.value_or(options_.delta);
      if (want_delta) {
        if (obj.delta_checked_method_ != method) {
          const MethodInfo* info = lookup_method(obj.type_, method);
          // Methods that hand out object references (CreateSessionApp, CreateObject ...) never use delta:
          // their qReturn is a fresh handle, not data to keep a base for.
          obj.delta_checked_ok_ = info && delta_eligible(*info) && info->returns_class.empty();
          obj.delta_checked_method_ = method;
        }
        p.delta = obj.delta_checked_ok_;
      }
      if (handle != kGlobalHandle && detail::is_fetch_method(method) && !suspended) {
        p.fetch = true;
        p.gen = obj.gen_;
        ++obj.fetching_;
        obj.armed_ = true;
      }
      if (handle == kGlobalHandle && opens_doc(method)) {
        p.opens_doc = true;
        doc_opening_ = true;
      }
      // Kept when the call may have to be sent again: after a reconnect, or after an error-15 abort.
      p.retries_left = std::max(0, options_.retry_aborted);
      if (options_.reconnect.policy != ReconnectOptions::Policy::none || p.retries_left > 0) {
        p.params = params_json.empty() ? std::string("[]") : std::string(params_json);
      }
      auto timeout = opts.timeout.value_or(options_.call_timeout);
      p.timeout = timeout;
      if (timeout.count() > 0) {
        p.timer = context_->schedule(timeout, [weak = weak_from_this(), id] {
          if (auto s = weak.lock()) s->on_timeout(id);
        });
      }
      if (suspended) {
        p.queued = true;  // sent with the object's new handle once the session is resumed
      } else {
        frame = encode_request(id, method, handle, params_json, p.delta);
        transport = transport_;
        arm_protocol_timer_locked();
      }
      add_pending_locked(id, std::move(p));
    }
  }
  if (immediate) {
    if (refused) *refused = immediate;
    CallResult r;
    r.id = id;
    r.error = std::move(immediate);
    if (inline_cb) {
      immediate_cb(r);
    } else if (immediate_cb) {
      events_->post(guarded([cb = std::move(immediate_cb), r = std::move(r)]() mutable { cb(r); }));
    }
    return id;
  }
  send(transport, std::move(frame));
  return id;
}

void Session::deliver(Pending& p, CallResult result, Batch& batch, Batch& inline_batch) {
  if (!p.cb) return;
  if (p.inline_cb) {
    inline_batch.emplace_back(detail::Completion{std::move(p.cb), std::move(result), {}, false});
  } else {
    // What guarded() does, without a closure: the completion is held in the list as it is.
    batch.emplace_back(detail::Completion{std::move(p.cb), std::move(result), weak_from_this(), true});
  }
}

void detail::Event::operator()() {
  if (auto* task = std::get_if<Task>(&v_)) {
    (*task)();
    return;
  }
  auto& c = std::get<Completion>(v_);
  if (!c.guarded) {
    c.cb(c.result);
    return;
  }
  auto call = [&c] { c.cb(c.result); };
  Session::run_guarded(c.session, call);
}

std::string Session::cancel_request_locked(std::int64_t id) {
  // An internal call whose answer nobody waits for (consumed when it arrives).
  std::int64_t cid = next_id_++;
  Pending c;
  c.method = "CancelRequest";
  c.abandoned = true;
  c.internal = true;
  c.target = objects_[kGlobalHandle];
  add_pending_locked(cid, std::move(c));
  return encode_request(cid, "CancelRequest", kGlobalHandle, "[" + std::to_string(id) + "]", false);
}

void Session::send(const std::shared_ptr<Transport>& transport, std::string frame) {
  if (!transport || frame.empty()) return;
  post_traffic(true, frame);
  transport->send(std::move(frame));
}

bool Session::cancel(std::int64_t id) {
  return abandon(id, false);
}

void Session::on_timeout(std::int64_t id) {
  abandon(id, true);
}

bool Session::abandon(std::int64_t id, bool timed_out) {
  Batch batch, inline_batch;
  std::string frame;
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.abandoned || state_ == SessionState::closed) return false;
    Pending& p = it->second;
    p.abandoned = true;
    CallResult r;
    r.id = id;
    // The engine would go on computing an answer nobody waits for: ask it to stop.
    bool tell_engine = true;
    if (timed_out) {
      p.timer = 0;  // the one that fired
      r.error =
          Error::make(ErrorKind::timeout, "no answer to " + p.method + " (request " + std::to_string(id) +
                                              ") within the call timeout (CancelRequest sent)");
      tell_engine = state_ == SessionState::connected;
    } else {
      if (p.timer) context_->cancel_timer(p.timer);
      p.timer = 0;
      const char* what = p.queued ? "the call was cancelled before it was sent"
                                  : "the call was cancelled (CancelRequest sent to the engine)";
      r.error = Error::make(ErrorKind::cancelled, what);
    }
    deliver(p, std::move(r), batch, inline_batch);
    if (p.queued) {
      pending_.erase(it);  // never sent (waiting for a resume): nothing to tell the engine
    } else if (tell_engine) {
      frame = cancel_request_locked(id);
      transport = transport_;
    }
  }
  flush(batch, inline_batch);
  send(transport, std::move(frame));
  return true;
}

// ------------------------------------------------------------------------------------------------ answers in
std::shared_ptr<Object> Session::adopt_reference(json::value& qreturn, const Pending& p, Error& error) {
  json::object& ref = qreturn.as_object();
  json::value& h = ref["qHandle"];
  if (h.is_null()) {
    error = Error::make(ErrorKind::not_found, p.method + ": the object was not found (qHandle null)");
    return nullptr;
  }
  auto handle = integer_of(&h);
  if (!handle) {
    error = Error::make(ErrorKind::protocol, p.method + ": qHandle is not an integer");
    return nullptr;
  }
  int hv = static_cast<int>(*handle);
  std::string type(string_or(find_member(qreturn, "qType")));
  std::string gid(string_or(find_member(qreturn, "qGenericId")));
  std::string gtype(string_or(find_member(qreturn, "qGenericType")));
  auto it = objects_.find(hv);
  if (it != objects_.end() && !it->second->closed_) return it->second;
  auto obj = std::shared_ptr<Object>(
      new Object(weak_from_this(), hv, std::move(type), std::move(gid), std::move(gtype)));
  objects_[hv] = obj;
  return obj;
}

namespace {
// A delta base patched as a DOM (the caller takes DOMs) or as text (the caller takes text); a base kept the
// other way is converted first. On failure the base is unspecified: the caller drops it.
bool patch_dom(detail::DeltaBase& base, json::value& patch, std::string* error) {
  if (base.text) {
    base.dom = parse_json(*base.text).value_or(json::value());  // text this module wrote or checked
    base.text.reset();
  }
  return json_patch::apply(base.dom, std::move(patch), error);
}

bool patch_text(detail::DeltaBase& base, const json::value& patch, std::string* error) {
  if (!base.text) {
    // Before the engine's first whole-document "add" there is no base: null, as for the DOM patcher.
    base.text = std::make_shared<const std::string>(to_json(base.dom));
    base.dom = json::value();
  }
  const json::array* ops = patch.if_array();
  if (!ops) {
    json::value unused;
    return json_patch::apply(unused, patch, error);  // fails, with the DOM patcher's words
  }
  // A new text each time: the previous one may still be held as the object's layout.
  std::string out;
  json_patch::TextPatch done = json_patch::apply_text(*base.text, *ops, out, error);
  if (done == json_patch::TextPatch::failed) return false;
  if (done == json_patch::TextPatch::unsupported) {
    // Operations the text patcher leaves to the DOM (move, copy, test; many operations; repeated keys).
    json::value dom = parse_json(*base.text).value_or(json::value());
    if (!json_patch::apply(dom, *ops, error)) return false;
    out = to_json(dom);
  }
  base.text = std::make_shared<const std::string>(std::move(out));
  return true;
}
}  // namespace

bool Session::result_needs_dom_locked(const Pending& p, const Frame& f) const {
  // The core reads the DOM of: a reconnect step's answers, delta patches (small), CreateSessionApp's answer
  // (amended), a session object's properties (kept for a reconnect), results whose keys the text scan cannot
  // read exactly (escaped or repeated); and the caller, unless it takes text.
  // needs_dom_always(p) was decided when the call was added (add_pending_locked, the only way in): its count.
  return p.dom_count.counted() || (p.delta && f.delta) || !f.result_plain;
}

bool Session::needs_dom_always(const Pending& p) {
  return !p.text_result || p.raw || p.method == "CreateSessionApp"sv ||
         (p.method == "GetProperties"sv && p.target && p.target->origin_.session_object);
}

void Session::add_pending_locked(std::int64_t id, Pending&& p) {
  if (!p.dom_count.counted() && needs_dom_always(p)) p.dom_count = DomCount(&dom_pending_);
  if (spare_nodes_.empty()) {
    pending_.emplace(id, std::move(p));
    return;
  }
  auto node = std::move(spare_nodes_.back());
  spare_nodes_.pop_back();
  node.key() = id;
  node.mapped() = std::move(p);
  pending_.insert(std::move(node));  // ids are unique: the insertion takes the node
}

void Session::handle_response(Frame& f, Batch& batch, Batch& inline_batch) {
  std::int64_t id = *f.id;
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    diagnose(Diagnostic::Kind::unknown_id, "answer with unknown id " + std::to_string(id) + " ignored", id,
             batch);
    return;
  }
  auto node = pending_.extract(it);
  Pending p = std::move(node.mapped());
  if (spare_nodes_.size() < kSpareNodes) spare_nodes_.push_back(std::move(node));
  if (p.timer) context_->cancel_timer(p.timer);
  if (p.opens_doc) doc_opening_ = false;
  Object& target = *p.target;
  if (p.fetch && target.fetching_ > 0) --target.fetching_;

  CallResult r;
  r.id = id;
  if (f.error) {
    const json::value& e = *f.error;
    auto code = integer_of(find_member(e, "code"));
    r.error = Error::engine(code ? static_cast<int>(*code) : -1,
                            std::string(string_or(find_member(e, "parameter"))),
                            std::string(string_or(find_member(e, "message"))));
    if (r.error.code == 15 && p.retries_left > 0 && !p.abandoned && !p.raw && !target.closed_ &&
        state_ == SessionState::connected) {
      // Aborted (typically by a selection made meanwhile) and the retry policy allows another try: the
      // same request again, same id. The frame goes out under the lock (Transport::send never calls back).
      --p.retries_left;
      if (p.fetch) {
        ++target.fetching_;
        p.gen = target.gen_;
        target.armed_ = true;
      }
      if (p.opens_doc) doc_opening_ = true;
      if (p.timeout.count() > 0) {
        p.timer = context_->schedule(p.timeout, [weak = weak_from_this(), id] {
          if (auto s = weak.lock()) s->on_timeout(id);
        });
      }
      std::string frame = encode_request(id, p.method, target.handle(), p.params, p.delta);
      add_pending_locked(id, std::move(p));
      send(transport_, std::move(frame));
      return;
    }
  } else if (!f.result_is_object()) {
    r.error = Error::make(ErrorKind::protocol, p.method + ": 'result' is not an object");
  } else if (std::string why; result_needs_dom_locked(p, f) && !f.parse_result(&why)) {
    r.error = Error::make(ErrorKind::protocol, p.method + ": " + why);  // (parsed before the lock, normally)
  } else if (p.raw) {
    move_into(r.result, std::move(*f.result));  // a reconnect step: it reads the answer itself
  } else {
    // f.result (the DOM) is set when result_needs_dom_locked said so; otherwise only the text is at hand.
    // Unchanged from the wire unless a delta patch rebuilds it or CreateSessionApp's qReturn is amended.
    if (!(p.delta && f.delta) && p.method != "CreateSessionApp"sv) {
      r.text = std::string(f.result_text);
      if (!f.result_value_text.empty()) {
        r.text_value_at = static_cast<std::size_t>(f.result_value_text.data() - f.result_text.data());
        r.text_value_size = f.result_value_text.size();
      }
    }
    // A delta answer's result holds patches (small, parsed); the patched values are the result. For a caller
    // taking text they are patched as text (a splice and a copy instead of a DOM copy and writing it out).
    bool delta_as_text = false;
    if (p.delta && f.delta && !target.closed_) {
      delta_as_text = p.text_result;
      std::string text = "{";
      for (auto& kv : f.result->as_object()) {
        std::string key = p.method + '\n' + std::string(kv.key());
        detail::DeltaBase& base = target.delta_bases_[key];
        std::string perr;
        bool applied =
            delta_as_text ? patch_text(base, kv.value(), &perr) : patch_dom(base, kv.value(), &perr);
        if (!applied) {
          target.delta_bases_.erase(key);
          r.error = Error::make(ErrorKind::protocol, p.method + ": cannot apply the delta patch for " +
                                                         std::string(kv.key()) + ": " + perr);
          break;
        }
        if (delta_as_text) {
          if (text.size() > 1) text += ',';
          append_json_string(text, kv.key());
          text += ':';
          std::size_t at = text.size();
          text += *base.text;
          if (f.result->as_object().size() == 1 || kv.key() == "qReturn") {
            r.text_value_at = at;
            r.text_value_size = base.text->size();
          }
        } else {
          kv.value() = base.dom;  // the one copy: the base stays for the next patch
        }
      }
      if (delta_as_text && !r.error) {
        text += '}';
        r.text = std::move(text);
      }
    } else if (p.delta && f.delta) {
      r.error = Error::make(ErrorKind::closed, "the object was closed before its delta answer arrived");
    }
    if (!r.error) {
      if (p.fetch && target.gen_ == p.gen && !target.closed_) {
        target.valid_ = true;
        target.suspended_ = false;
      }
      if (p.method == "GetLayout"sv || p.method == "GetAppLayout"sv) {
        if (delta_as_text) {
          if (auto kept = target.delta_bases_.find(p.method + "\nqLayout");
              kept != target.delta_bases_.end() && kept->second.text) {
            target.layout_text_ = kept->second.text;  // shared, not copied
            target.layout_.reset();
          }
        } else if (f.result) {
          if (auto* l = f.result->as_object().if_contains("qLayout")) {
            target.layout_ = std::make_shared<const json::value>(detached_copy(*l));
            target.layout_text_.reset();
          }
        } else if (auto l = json_member_text(f.result_text, "qLayout")) {
          target.layout_text_ = std::make_shared<const std::string>(*l);
          target.layout_.reset();
        }
      }
      if (target.origin_.session_object && delta_as_text && p.method == "GetProperties"sv) {
        // The patched properties are in the text base here (f.result holds the patch).
        json::value patched(json::object_kind);
        if (auto kept = target.delta_bases_.find("GetProperties\nqProp");
            kept != target.delta_bases_.end() && kept->second.text) {
          if (auto props = parse_json(*kept->second.text)) patched.as_object()["qProp"] = std::move(*props);
        }
        note_properties_locked(target, p, &patched);
      } else if (target.origin_.session_object) {
        note_properties_locked(target, p, f.result);
      }
      // The object a call returns: from the DOM, or from qReturn's text alone (small) when there is none.
      json::value qreturn_only;
      json::value* qr = nullptr;
      if (f.result && !delta_as_text) {
        qr = f.result->as_object().if_contains("qReturn");
      } else if (f.result_has_qreturn && f.result_value_text.starts_with('{')) {
        boost::system::error_code ec;
        qreturn_only = json::parse(f.result_value_text, ec);  // checked with the result: cannot fail
        if (!ec) qr = &qreturn_only;
      }
      if (qr && qr->is_object() && qr->as_object().contains("qHandle")) {
        if (p.method == "CreateSessionApp"sv) {  // (always a DOM: result_needs_dom_locked)
          json::object& result = f.result->as_object();
          if (auto* sid = result.if_contains("qSessionAppId"); sid && sid->is_string()) {
            auto& qro = qr->as_object();
            if (!qro.contains("qGenericId") || qro["qGenericId"].is_null()) qro["qGenericId"] = *sid;
          }
        }
        Error aerr;
        r.object = adopt_reference(*qr, p, aerr);
        if (r.object && r.object->seq_ == 0) remember_origin_locked(*r.object, p);  // a new proxy
        if (aerr) r.error = std::move(aerr);
        if (r.object && r.object->type_ == "Doc"sv) doc_handle_ = r.object->handle_;
      }
      if (f.result && !delta_as_text) move_into(r.result, std::move(*f.result));
    }
  }
  if (p.abandoned) {
    if (p.internal) return;
    diagnose(Diagnostic::Kind::late_answer,
             "answer to " + p.method + " (request " + std::to_string(id) +
                 ") arrived after it was cancelled or timed out" +
                 (r.error ? ": " + r.error.describe() : std::string()),
             id, batch);
    return;
  }
  deliver(p, std::move(r), batch, inline_batch);
}

}  // namespace qix::core
