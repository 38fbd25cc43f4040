// Reconnect (ReconnectOptions, docs/reconnect.md): what a drop means, the suspended state and its connection
// attempts with back-off, and the resume on a new connection (the doc, then every open object, re-created or
// fetched again by id), after which the queued calls are sent. Its state is Session::ReconnectState; every
// function runs with the session's mutex held unless marked unlocked.
#include "session/detail.hpp"
#include "session/session.hpp"

#include "rpc/frame.hpp"

#include <algorithm>

namespace qix::core {

namespace {

enum class Resumable { never, refused, retry, once };

// What a close code means for a reconnect policy (see ReconnectOptions).
// Fatal proxy notifications about the proxy's own link to the engine: a new connection may well find an
// engine again, so they do not forbid a resume (the close code still decides). Every other fatal
// notification (session timed out, license denied, logged out ...) ends the session for good.
bool fatal_allows_resume(std::string_view method) {
  return method == "OnEngineWebsocketFailed" || method == "OnNoEngineAvailable";
}

Resumable resumable(const CloseInfo& info, bool fatal_notification, std::string& why) {
  if (info.error.kind == ErrorKind::message_too_large || info.code == close_code::message_too_big) {
    why = "a message over the size limit would be sent again";
    return Resumable::refused;
  }
  if (fatal_notification) {
    why = "the proxy ended the session";
    return Resumable::refused;
  }
  switch (info.code) {
    case close_code::normal:
    case close_code::client_suspend:
      return Resumable::never;
    case close_code::idle_timeout:
    case close_code::license_renewal:
    case close_code::session_limit:
    case close_code::authentication_failed:
      why =
          "code " + std::to_string(info.code) + " (" + describe_close_code(info.code) + ") ends the session";
      return Resumable::refused;
    case close_code::app_deleted:
      return Resumable::once;
    case close_code::going_away:
    case close_code::abnormal:
    case 1011:  // internal error
    case 1012:  // service restart
    case 1013:  // try again later
    case 1014:  // bad gateway
    case close_code::engine_terminating:
    case close_code::app_mode_changed:
      return Resumable::retry;
    default:
      why = "code " + std::to_string(info.code) + " is not one to resume after";
      return Resumable::refused;
  }
}

std::optional<int> returned_handle(const CallResult& r) {
  if (!r.ok()) return std::nullopt;
  const json::value* qr = find_member(r.result, "qReturn");
  auto h = integer_of(qr ? find_member(*qr, "qHandle") : nullptr);
  if (!h) return std::nullopt;
  return static_cast<int>(*h);
}

// The qProp argument of CreateSessionObject/SetProperties (first by position, or by name), if an object.
std::shared_ptr<const json::value> properties_param(const std::string& params) {
  auto v = parse_json(params);
  if (!v) return nullptr;
  const json::value* prop =
      v->is_array() && !v->as_array().empty() ? &v->as_array()[0] : find_member(*v, "qProp");
  if (!prop || !prop->is_object()) return nullptr;
  return std::make_shared<const json::value>(*prop);
}

// The by-id getter of an object type, on the Doc.
const char* getter_of(std::string_view type) {
  if (type == "GenericObject") return "GetObject";
  if (type == "GenericDimension") return "GetDimension";
  if (type == "GenericMeasure") return "GetMeasure";
  if (type == "GenericBookmark") return "GetBookmark";
  if (type == "GenericVariable") return "GetVariableById";
  return nullptr;
}

}  // namespace

// ----------------------------------------------------------------------------------------------------- drops
bool Session::suspend_if_resumable_locked(CloseInfo& info, Batch& batch, Batch& inline_batch) {
  std::string why;
  Resumable r = Resumable::never;
  if (state_ == SessionState::connected && !info.by_client &&
      options_.reconnect.policy != ReconnectOptions::Policy::none) {
    r = resumable(info, !fatal_reason_.empty() && !fatal_allows_resume(fatal_method_), why);
    if (r == Resumable::refused) {
      info.reason += (info.reason.empty() ? "" : "; ") + std::string("not resumed: ") + why;
    }
  }
  if ((r == Resumable::retry || r == Resumable::once) && options_.reconnect.transport) {
    reconnect_.max_attempts = r == Resumable::once ? 1 : std::max(1, options_.reconnect.max_attempts);
    suspend_locked(info, batch, inline_batch);
    return true;
  }
  return false;
}

void Session::attempt_closed_locked(const CloseInfo& in, Batch& batch, Batch& inline_batch) {
  if (reconnect_.resume_timer) {
    context_->cancel_timer(reconnect_.resume_timer);
    reconnect_.resume_timer = 0;
  }
  // A reconnect attempt failed (could not connect, or dropped while restoring). Internal calls made on
  // it are gone; queued user calls stay queued.
  reconnect_.resuming = false;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.queued) {
      ++it;
      continue;
    }
    if (it->second.timer) context_->cancel_timer(it->second.timer);
    it = pending_.erase(it);
  }
  reconnect_.last_error = in.error ? in.error.describe() : in.describe();
  // Failures that another attempt would only repeat end the session now: credentials refused, a
  // certificate that does not verify, a bad URL, or an engine that ends the new session on purpose.
  std::string why;
  bool final_failure = false;
  if (!in.by_client) {
    const Error& e = in.error;
    if (e.kind == ErrorKind::http_status && (e.code == 401 || e.code == 403)) {
      final_failure = true;
    } else if (e.kind == ErrorKind::tls || e.kind == ErrorKind::invalid_argument) {
      final_failure = true;
    } else if (!e) {
      Resumable r = resumable(in, !fatal_reason_.empty() && !fatal_allows_resume(fatal_method_), why);
      final_failure = r == Resumable::never || r == Resumable::refused;
    }
  }
  if (final_failure) {
    give_up_locked("the new connection failed and another attempt would fail the same way (" +
                       reconnect_.last_error + ")",
                   batch, inline_batch);
  } else if (reconnect_.attempts >= reconnect_.max_attempts) {
    int n = reconnect_.attempts;
    give_up_locked("gave up after " + std::to_string(n) + " attempt" + (n == 1 ? "" : "s") +
                       " (last: " + reconnect_.last_error + ")",
                   batch, inline_batch);
  } else {
    schedule_attempt_locked();
  }
}

void Session::stop_reconnect_locked() {
  reconnect_.resuming = false;
  if (reconnect_.attempt_timer) context_->cancel_timer(reconnect_.attempt_timer);
  if (reconnect_.resume_timer) context_->cancel_timer(reconnect_.resume_timer);
  reconnect_.attempt_timer = reconnect_.resume_timer = 0;
}

void Session::suspend_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch) {
  state_ = SessionState::suspended;
  reconnect_.drop = info;
  reconnect_.attempts = 0;
  reconnect_.resuming = false;
  fatal_reason_.clear();
  fatal_method_.clear();
  // Calls in flight on the dropped connection: their answers are lost. Sent again after the resume when
  // configured, else they fail now, once.
  Error lost = Error::make(
      ErrorKind::connection_lost,
      "connection lost before the answer (the engine may or may not have run the call): " + info.describe());
  lost.code = info.code;
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (p.fetch && p.target->fetching_ > 0) --p.target->fetching_;
    if (p.opens_doc) doc_opening_ = false;
    if (p.abandoned || p.raw) {
      if (p.timer) context_->cancel_timer(p.timer);
      it = pending_.erase(it);
    } else if (options_.reconnect.resend_in_flight && !p.target->closed_) {
      p.queued = true;
      p.fetch = false;
      ++it;
    } else {
      if (p.timer) context_->cancel_timer(p.timer);
      CallResult r;
      r.id = it->first;
      r.error = lost;
      deliver(p, std::move(r), batch, inline_batch);
      it = pending_.erase(it);
    }
  }
  for (auto& l : state_listeners_) {
    batch.push_back(guarded([fn = l.fn, info] { (*fn)(SessionState::suspended, &info); }));
  }
  schedule_attempt_locked();
}

void Session::schedule_attempt_locked() {
  const auto& ro = options_.reconnect;
  long long base = std::max<long long>(1, ro.initial_delay.count());
  long long cap = std::max<long long>(base, ro.max_delay.count());
  long long delay = base;
  for (int i = 0; i < reconnect_.attempts && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  // ±20 % jitter, so that many clients dropped together do not come back in lockstep.
  std::uint64_t mix = (next_id_ * 0x9E3779B97F4A7C15ull) ^ (link_gen_ << 17) ^
                      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  long long spread = delay / 5;
  if (spread > 0) delay += static_cast<long long>(mix % static_cast<std::uint64_t>(2 * spread + 1)) - spread;
  std::weak_ptr<Session> weak = weak_from_this();
  reconnect_.attempt_timer = context_->schedule(std::chrono::milliseconds(std::max(1LL, delay)), [weak] {
    if (auto s = weak.lock()) s->attempt();
  });
}

void Session::attempt() {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<TransportHandler> link;
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    if (state_ != SessionState::suspended) return;
    reconnect_.attempt_timer = 0;
    ++reconnect_.attempts;
    std::shared_ptr<Transport> next;
    std::string err;
    try {
      next = options_.reconnect.transport();
    } catch (const std::exception& e) {
      err = e.what();
    }
    if (!next) {
      give_up_locked("cannot make a new connection" + (err.empty() ? std::string() : ": " + err), batch,
                     inline_batch);
    } else {
      ++link_gen_;
      transport_ = next;
      transport = std::move(next);
      link = new_link_locked();
    }
  }
  flush(batch, inline_batch);
  if (transport) transport->open(link);
}

void Session::give_up_locked(const std::string& why, Batch& batch, Batch& inline_batch) {
  CloseInfo info = reconnect_.drop;
  info.reason += (info.reason.empty() ? "" : "; ") + std::string("not resumed: ") + why;
  finalize_locked(info, batch, inline_batch);
  // End the attempt in progress, if any (its events are ignored now that the session is closed).
  if (transport_) transport_->close(close_code::normal, {});
}

void Session::attempt_open_locked(std::uint64_t gen) {
  // A reconnect attempt got through: wait (bounded) for OnConnected, then restore.
  reconnect_.resuming = true;
  reconnect_.started = false;
  engine_state_.clear();
  std::weak_ptr<Session> weak = weak_from_this();
  reconnect_.resume_timer = context_->schedule(options_.reconnect.greeting_wait, [weak, gen] {
    if (auto s = weak.lock()) s->resume_start(gen);
  });
}

// ---------------------------------------------------------------------------------------------------- resume
void Session::send_internal_locked(int handle, std::string method, std::string_view params,
                                   std::function<void(CallResult&)> cb) {
  std::int64_t id = next_id_++;
  Pending p;
  p.handle = handle;
  p.method = std::move(method);
  p.raw = true;
  p.inline_cb = true;
  p.cb = std::move(cb);
  p.target = objects_[kGlobalHandle];
  std::string frame = encode_request(id, p.method, handle, params, false);
  add_pending_locked(id, std::move(p));
  ++reconnect_.outstanding;
  arm_protocol_timer_locked();
  send(transport_, std::move(frame));  // never calls back into the session (Transport contract)
}

void Session::resume_start(std::uint64_t gen) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    if (gen != link_gen_ || state_ != SessionState::suspended || !reconnect_.resuming || reconnect_.started) {
      return;
    }
    reconnect_.started = true;
    reconnect_.outstanding = 0;
    reconnect_.restored.clear();
    reconnect_.unrestorable.clear();
    if (reconnect_.resume_timer) context_->cancel_timer(reconnect_.resume_timer);
    // A watchdog: an engine that stops answering mid-resume costs this attempt, not the session.
    std::weak_ptr<Session> weak = weak_from_this();
    reconnect_.resume_timer = context_->schedule(std::chrono::seconds(30), [weak, gen] {
      auto s = weak.lock();
      if (!s) return;
      std::shared_ptr<Transport> t;
      {
        std::lock_guard l(s->mutex_);
        if (gen != s->link_gen_ || s->state_ != SessionState::suspended) return;
        s->reconnect_.resume_timer = 0;
        t = s->transport_;
      }
      t->close(close_code::normal, "resume timed out");
    });
    bool attached = engine_state_ == "SESSION_ATTACHED";
    if (options_.reconnect.policy == ReconnectOptions::Policy::attach && !attached) {
      give_up_locked("the engine did not attach the old session (" +
                         (engine_state_.empty() ? std::string("no OnConnected") : engine_state_) +
                         ") and the reconnect policy is 'attach'",
                     batch, inline_batch);
    } else if (doc_handle_ != 0 && objects_.count(doc_handle_)) {
      send_internal_locked(kGlobalHandle, "GetActiveDoc", "[]", [weak, gen](CallResult& r) {
        if (auto s = weak.lock()) s->resume_doc_answer(gen, 0, r);
      });
    } else {
      resume_objects_locked(gen, batch, inline_batch);
    }
  }
  flush(batch, inline_batch);
}

void Session::resume_doc_answer(std::uint64_t gen, int stage, CallResult& r) {
  Batch batch, inline_batch;
  std::vector<std::shared_ptr<Object>> refetch;
  {
    std::lock_guard lock(mutex_);
    if (gen != link_gen_ || state_ != SessionState::suspended || !reconnect_.resuming) return;
    --reconnect_.outstanding;
    auto doc_it = objects_.find(doc_handle_);
    if (doc_it == objects_.end()) return;
    auto doc = doc_it->second;
    std::weak_ptr<Session> weak = weak_from_this();
    if (auto h = returned_handle(r)) {
      reconnect_.restored.emplace_back(doc, *h);
      resume_objects_locked(gen, batch, inline_batch);
    } else if (stage == 0 && doc->origin_.method == "OpenDoc") {
      // No active doc (the engine did not keep the session): open it again as first opened.
      send_internal_locked(kGlobalHandle, "OpenDoc", doc->origin_.params, [weak, gen](CallResult& res) {
        if (auto s = weak.lock()) s->resume_doc_answer(gen, 1, res);
      });
    } else if (stage == 1 && r.error.kind == ErrorKind::engine && r.error.code == 1002) {
      // "App already open": the engine attached the session after all; take its doc.
      send_internal_locked(kGlobalHandle, "GetActiveDoc", "[]", [weak, gen](CallResult& res) {
        if (auto s = weak.lock()) s->resume_doc_answer(gen, 2, res);
      });
    } else if (stage == 0) {
      give_up_locked("the doc (" + doc->generic_id_ + ", from " + doc->origin_.method +
                         ") was not kept by the engine and cannot be opened again",
                     batch, inline_batch);
    } else {
      give_up_locked(
          "cannot open the doc again: " + (r.ok() ? std::string("no handle returned") : r.error.describe()),
          batch, inline_batch);
    }
  }
  flush(batch, inline_batch);
}

void Session::resume_objects_locked(std::uint64_t gen, Batch& batch, Batch& inline_batch) {
  bool attached = engine_state_ == "SESSION_ATTACHED";
  int doc_new = 0;
  std::shared_ptr<Object> doc;
  if (!reconnect_.restored.empty()) {
    doc = reconnect_.restored.front().first;
    doc_new = reconnect_.restored.front().second;
  }
  std::vector<std::shared_ptr<Object>> todo;
  for (auto& [h, obj] : objects_) {
    if (h != kGlobalHandle && obj != doc && !obj->closed_) todo.push_back(obj);
  }
  std::sort(todo.begin(), todo.end(), [](const auto& a, const auto& b) { return a->seq_ < b->seq_; });
  std::weak_ptr<Session> weak = weak_from_this();
  for (auto& obj : todo) {
    std::string method;
    std::string params;
    int on = 0;
    auto parent = obj->origin_.parent.lock();
    const char* getter = getter_of(obj->type_);
    if (!doc) {
      // Without a doc nothing but Global-level objects could come back; none are restorable.
    } else if (obj->origin_.session_object && !attached) {
      if (obj->origin_.props && obj->origin_.parent.lock() == doc) {
        // Created again with its old id (the engine takes qInfo.qId), so the id users know stays right.
        json::value props = *obj->origin_.props;
        if (!obj->generic_id_.empty() && props.is_object()) {
          json::value& qinfo = props.as_object()["qInfo"];
          if (!qinfo.is_object()) qinfo = json::object{};
          qinfo.as_object()["qId"] = obj->generic_id_;
        }
        method = obj->origin_.method;
        params = "{\"qProp\":" + to_json(props) + "}";
        on = doc_new;
      }
    } else if (getter && !obj->generic_id_.empty()) {
      method = getter;
      params = "{\"qId\":" + to_json(json::value(obj->generic_id_)) + "}";
      on = doc_new;
    } else if (parent == doc && obj->origin_.method.rfind("Get", 0) == 0) {
      method = obj->origin_.method;
      params = obj->origin_.params;
      on = doc_new;
    }
    if (method.empty()) {
      reconnect_.unrestorable.push_back(obj);
      continue;
    }
    send_internal_locked(on, method, params, [weak, gen, obj](CallResult& r) {
      auto s = weak.lock();
      if (!s) return;
      Batch b, ib;
      std::vector<std::shared_ptr<Object>> refetch;
      {
        std::lock_guard l(s->mutex_);
        if (gen != s->link_gen_ || s->state_ != SessionState::suspended || !s->reconnect_.resuming) return;
        if (auto h = returned_handle(r)) {
          s->reconnect_.restored.emplace_back(obj, *h);
        } else {
          s->reconnect_.unrestorable.push_back(obj);
        }
        if (--s->reconnect_.outstanding == 0) s->finish_resume_locked(b, ib, refetch);
      }
      s->flush(b, ib);
      for (auto& o : refetch) s->start_watch_fetch(o);
    });
  }
  if (reconnect_.outstanding == 0) {
    // Nothing to wait for. finish_resume_locked's refetches need the lock released: run them from the
    // inline batch (executed after unlocking).
    auto refetch = std::make_shared<std::vector<std::shared_ptr<Object>>>();
    finish_resume_locked(batch, inline_batch, *refetch);
    inline_batch.push_back([weak, refetch] {
      if (auto s = weak.lock())
        for (auto& o : *refetch) s->start_watch_fetch(o);
    });
  }
}

void Session::finish_resume_locked(Batch& batch, Batch& inline_batch,
                                   std::vector<std::shared_ptr<Object>>& refetch) {
  (void)inline_batch;
  if (reconnect_.resume_timer) context_->cancel_timer(reconnect_.resume_timer);
  reconnect_.resume_timer = 0;
  // Swap the handles underneath the proxies.
  auto global = objects_[kGlobalHandle];
  std::unordered_map<int, std::shared_ptr<Object>> next;
  next.emplace(kGlobalHandle, global);
  doc_handle_ = 0;
  bool first = true;
  for (auto& [obj, h] : reconnect_.restored) {
    obj->handle_.store(h, std::memory_order_release);
    next[h] = obj;
    if (first && obj->type_ == "Doc") doc_handle_ = h;
    first = false;
  }
  for (auto& entry : objects_) {  // (no structured binding: clang 14 cannot capture one in the lambda)
    const auto& obj = entry.second;
    if (entry.first == kGlobalHandle || obj->closed_) continue;
    const auto& restored = reconnect_.restored;
    bool kept = std::any_of(restored.begin(), restored.end(), [&](const auto& e) { return e.first == obj; });
    if (!kept) reconnect_.unrestorable.push_back(obj);
  }
  objects_.swap(next);
  for (auto& obj : reconnect_.unrestorable) close_object(obj, batch);
  for (auto& [obj, h] : reconnect_.restored) {
    obj->delta_bases_.clear();
    obj->valid_ = false;
    obj->armed_ = false;
    obj->suspended_ = false;
    obj->fetching_ = 0;
    ++obj->gen_;
    obj->watch_inflight_ = false;
    obj->watch_dirty_ = false;
    for (auto& l : obj->changed_) batch.push_back(guarded([fn = l.fn] { (*fn)(); }));
    if (obj->watcher_) refetch.push_back(obj);
  }
  global->delta_bases_.clear();
  reconnect_.restored.clear();
  reconnect_.unrestorable.clear();
  state_ = SessionState::connected;
  reconnect_.resuming = false;
  reconnect_.attempts = 0;
  ++reconnect_.resumes;
  CloseInfo drop = reconnect_.drop;
  for (auto& l : state_listeners_) {
    batch.push_back(guarded([fn = l.fn, drop] { (*fn)(SessionState::connected, &drop); }));
  }
  // The calls that waited: in the order they were made, with their object's new handle.
  std::vector<std::int64_t> ids;
  for (auto& [id, p] : pending_) {
    if (p.queued) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  for (std::int64_t id : ids) {
    auto it = pending_.find(id);
    Pending& p = it->second;
    if (p.abandoned) {
      pending_.erase(it);
      continue;
    }
    if (p.target->closed_) {
      CallResult r;
      r.id = id;
      r.error =
          Error::make(ErrorKind::closed, "the object of this call could not be restored after the reconnect");
      deliver(p, std::move(r), batch, inline_batch);
      if (p.timer) context_->cancel_timer(p.timer);
      pending_.erase(it);
      continue;
    }
    p.queued = false;
    p.handle = p.target->handle();
    if (p.handle != kGlobalHandle && detail::is_fetch_method(p.method)) {
      p.fetch = true;
      p.gen = p.target->gen_;
      ++p.target->fetching_;
      p.target->armed_ = true;
    }
    if (p.opens_doc) doc_opening_ = true;
    std::string frame = encode_request(id, p.method, p.handle, p.params, p.delta);
    send(transport_, std::move(frame));
  }
}

// --------------------------------------------------------------------------------------------------- origins
void Session::remember_origin_locked(Object& o, const Pending& p) {
  // How a new proxy was obtained, to obtain it again after a reconnect.
  o.seq_ = ++reconnect_.next_seq;
  o.origin_.parent = p.target;
  o.origin_.method = p.method;
  o.origin_.params = p.params;
  o.origin_.session_object = p.method == "CreateSessionObject" || p.method == "CreateSessionVariable";
  if (o.origin_.session_object && options_.reconnect.policy != ReconnectOptions::Policy::none) {
    o.origin_.props = properties_param(p.params);
  }
}

void Session::note_properties_locked(Object& obj, const Pending& p, const json::value* result) {
  // Session objects' last known properties, to re-create them after a reconnect that did not attach.
  // (`result` is the answer's DOM, which GetProperties always has: result_needs_dom_locked.)
  if (!obj.origin_.session_object) return;
  if (p.method == "GetProperties") {
    if (auto* prop = find_member(*result, "qProp"))
      obj.origin_.props = std::make_shared<const json::value>(detached_copy(*prop));
  } else if (p.method == "SetProperties") {
    if (auto props = properties_param(p.params)) obj.origin_.props = std::move(props);
  }
}

}  // namespace qix::core
