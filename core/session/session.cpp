#include "session/session.hpp"

#include "json/json_patch.hpp"
#include "rpc/frame.hpp"
#include "rpc/methods.hpp"

#include <algorithm>
#include <future>

namespace qix::core {

namespace {

// Methods whose answer carries the object's current data: a successful one makes the object valid.
bool is_fetch_method(std::string_view m) {
  if (m == "GetLayout" || m == "GetAppLayout" || m == "GetProperties" || m == "GetAppProperties" ||
      m == "GetFullPropertyTree" || m == "GetEffectiveProperties")
    return true;
  return m.size() > 7 && m.substr(0, 3) == "Get" && m.substr(m.size() - 4) == "Data";
}

bool opens_doc(std::string_view m) {
  return m == "OpenDoc" || m == "CreateSessionApp" || m == "CreateSessionAppFromApp" || m == "CreateDocEx";
}

const MethodInfo* lookup_method(std::string_view cls, std::string_view method) {
  if (const MethodInfo* m = find_method(cls, method)) return m;
  return find_method_any_class(method);
}

template <class V>
void erase_listener(V& v, ListenerId id) {
  v.erase(std::remove_if(v.begin(), v.end(), [id](const auto& e) { return e.id == id; }), v.end());
}

}  // namespace

const char* to_string(SessionState s) noexcept {
  switch (s) {
    case SessionState::connecting: return "connecting";
    case SessionState::connected: return "connected";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

// ------------------------------------------------------------------------------------------------- Object
bool Object::valid() const {
  auto s = session_.lock();
  if (!s) return false;
  std::lock_guard lock(s->mutex_);
  return valid_ && !closed_;
}

bool Object::suspended() const {
  auto s = session_.lock();
  if (!s) return false;
  std::lock_guard lock(s->mutex_);
  return suspended_ && !closed_;
}

bool Object::closed() const {
  auto s = session_.lock();
  if (!s) return true;
  std::lock_guard lock(s->mutex_);
  return closed_;
}

std::optional<json::value> Object::layout() const {
  auto s = session_.lock();
  if (!s) return std::nullopt;
  std::shared_ptr<const json::value> l;
  {
    std::lock_guard lock(s->mutex_);
    l = layout_;
  }
  if (!l) return std::nullopt;
  return *l;
}

ListenerId Object::on_changed(std::function<void()> fn) {
  auto s = session_.lock();
  if (!s) return 0;
  std::lock_guard lock(s->mutex_);
  ListenerId id = s->next_listener_++;
  changed_.push_back({id, std::make_shared<std::function<void()>>(std::move(fn))});
  return id;
}

ListenerId Object::on_closed(std::function<void()> fn) {
  auto s = session_.lock();
  if (!s) return 0;
  std::lock_guard lock(s->mutex_);
  ListenerId id = s->next_listener_++;
  closed_listeners_.push_back({id, std::make_shared<std::function<void()>>(std::move(fn))});
  return id;
}

void Object::remove_listener(ListenerId id) {
  auto s = session_.lock();
  if (!s) return;
  std::lock_guard lock(s->mutex_);
  erase_listener(changed_, id);
  erase_listener(closed_listeners_, id);
}

void Object::watch(std::function<void(const CallResult&)> fn) {
  auto s = session_.lock();
  if (!s) return;
  bool fetch_now = false;
  {
    std::lock_guard lock(s->mutex_);
    if (closed_) return;
    watcher_ = std::make_shared<std::function<void(const CallResult&)>>(std::move(fn));
    if (!valid_ && fetching_ == 0 && !watch_inflight_) fetch_now = true;
    if (valid_ && layout_) {
      // Deliver the current layout at once so a watcher always starts with data.
      auto w = watcher_;
      auto l = layout_;
      s->events_->post(s->guarded([w, l] {
        CallResult r;
        r.result = json::object{{"qLayout", *l}};
        (*w)(r);
      }));
    }
  }
  if (fetch_now) s->start_watch_fetch(shared_from_this());
}

void Object::unwatch() {
  auto s = session_.lock();
  if (!s) return;
  std::lock_guard lock(s->mutex_);
  watcher_.reset();
}

std::int64_t Object::call(std::string_view method, std::string_view params_json, CallOptions opts, CallCallback cb) {
  auto s = session_.lock();
  if (s && closed()) {
    // A zombie proxy: its handle was released (the engine may even reuse the number).
    CallResult r;
    r.error = Error::make(ErrorKind::closed, "the object with handle " + std::to_string(handle_) + " is closed");
    if (cb) s->events_->post(s->guarded([cb = std::move(cb), r = std::move(r)]() mutable { cb(r); }));
    return 0;
  }
  if (!s) {
    CallResult r;
    r.error = Error::make(ErrorKind::closed, "the session of this object is gone");
    if (cb) cb(r);
    return 0;
  }
  return s->call(handle_, method, params_json, opts, std::move(cb));
}

CallResult Object::call_sync(std::string_view method, std::string_view params_json, CallOptions opts) {
  auto s = session_.lock();
  if (s && closed()) {
    CallResult r;
    r.error = Error::make(ErrorKind::closed, "the object with handle " + std::to_string(handle_) + " is closed");
    return r;
  }
  if (!s) {
    CallResult r;
    r.error = Error::make(ErrorKind::closed, "the session of this object is gone");
    return r;
  }
  return s->call_sync(handle_, method, params_json, opts);
}

// ------------------------------------------------------------------------------------------------ Session
std::shared_ptr<Session> Session::create(std::shared_ptr<Context> context, std::shared_ptr<Transport> transport,
                                         SessionOptions options) {
  auto s = std::shared_ptr<Session>(new Session(std::move(context), std::move(transport), std::move(options)));
  auto global = std::shared_ptr<Object>(new Object(s, kGlobalHandle, "Global", "", ""));
  s->objects_.emplace(kGlobalHandle, std::move(global));
  return s;
}

Session::Session(std::shared_ptr<Context> context, std::shared_ptr<Transport> transport, SessionOptions options)
    : context_(std::move(context)), transport_(std::move(transport)), options_(std::move(options)) {
  if (options_.poll_events) {
    poll_ = std::make_shared<PollQueue>();
    events_ = poll_.get();
  } else {
    serial_ = context_->make_serial_queue();
    events_ = serial_.get();
  }
}

Session::~Session() {
  bool need_close = false;
  {
    std::lock_guard lock(mutex_);
    need_close = state_ != SessionState::closed && open_called_;
    for (auto& [id, p] : pending_) {
      if (p.timer) context_->cancel_timer(p.timer);
    }
  }
  if (need_close) transport_->close(close_code::normal, {});
}

Task Session::guarded(std::function<void()> fn) {
  std::weak_ptr<Session> weak = weak_from_this();
  return [fn = std::move(fn), weak] {
    try {
      fn();
    } catch (const std::exception& e) {
      if (auto s = weak.lock()) s->report_listener_exception(std::string("a callback threw: ") + e.what());
    } catch (...) {
      if (auto s = weak.lock()) s->report_listener_exception("a callback threw a non-standard exception");
    }
  };
}

void Session::report_listener_exception(std::string message) {
  Batch b;
  {
    std::lock_guard lock(mutex_);
    diagnose(Diagnostic::Kind::listener_exception, std::move(message), 0, b);
  }
  for (auto& t : b) events_->post(std::move(t));
}

void Session::diagnose(Diagnostic::Kind kind, std::string message, std::int64_t id, Batch& batch) {
  // Called with the lock held.
  std::vector<std::shared_ptr<std::function<void(const Diagnostic&)>>> fns;
  for (auto& e : diagnostic_listeners_) fns.push_back(e.fn);
  if (fns.empty()) return;
  Diagnostic d{kind, std::move(message), id};
  batch.push_back([fns = std::move(fns), d] {
    for (auto& f : fns) {
      try {
        (*f)(d);
      } catch (...) {
        // A throwing diagnostic listener has nowhere left to report to.
      }
    }
  });
}

void Session::post_traffic(bool sent, std::string_view frame) {
  if (!options_.traffic) return;
  events_->post(guarded([this, self = shared_from_this(), sent, text = std::string(frame)] {
    options_.traffic(sent, text);
  }));
}

void Session::flush(Batch& batch, Batch& inline_batch) {
  for (auto& t : inline_batch) t();
  for (auto& t : batch) events_->post(std::move(t));
}

// ------------------------------------------------------------------------------------------- open / close
void Session::open(std::function<void(const Error&)> done) {
  {
    std::lock_guard lock(mutex_);
    if (open_called_) {
      Error e = Error::make(ErrorKind::invalid_argument, "the session was already opened");
      if (done) events_->post(guarded([done, e] { done(e); }));
      return;
    }
    open_called_ = true;
    if (done) open_waiters_.push_back({std::move(done), false});
  }
  transport_->open(weak_from_this());
}

Error Session::open_sync(std::chrono::milliseconds timeout) {
  if (SerialQueue::in_dispatcher_thread()) {
    return Error::make(ErrorKind::busy, "a blocking open from inside a callback would deadlock; use open()");
  }
  auto promise = std::make_shared<std::promise<Error>>();
  auto future = promise->get_future();
  {
    std::lock_guard lock(mutex_);
    if (open_called_) return Error::make(ErrorKind::invalid_argument, "the session was already opened");
    open_called_ = true;
    // Internal waiter: runs on the I/O thread, no user code.
    open_waiters_.push_back({[promise](const Error& e) { promise->set_value(e); }, true});
  }
  transport_->open(weak_from_this());
  if (timeout.count() > 0 && future.wait_for(timeout) != std::future_status::ready) {
    close();
    return Error::make(ErrorKind::timeout, "connecting timed out after " + std::to_string(timeout.count()) + " ms");
  }
  return future.get();
}

void Session::on_open() {
  std::vector<OpenWaiter> waiters;
  Batch batch;
  {
    std::lock_guard lock(mutex_);
    if (state_ != SessionState::connecting) return;
    state_ = SessionState::connected;
    waiters.swap(open_waiters_);
    for (auto& e : state_listeners_) {
      batch.push_back(guarded([fn = e.fn] { (*fn)(SessionState::connected, nullptr); }));
    }
  }
  for (auto& [fn, is_inline] : waiters) {
    if (is_inline) {
      fn(Error{});  // open_sync's promise: no user code
    } else {
      events_->post(guarded([fn = std::move(fn)] { fn(Error{}); }));
    }
  }
  for (auto& t : batch) events_->post(std::move(t));
}

void Session::close() {
  {
    std::lock_guard lock(mutex_);
    if (state_ == SessionState::closed) return;
    if (!open_called_) {
      // Never opened: close locally.
      state_ = SessionState::closed;
      CloseInfo info;
      info.by_client = true;
      info.code = close_code::normal;
      close_info_ = info;
      return;
    }
  }
  // Pending calls complete now, with `closed`: the caller may free the session right after this, before
  // the transport reports the end of the connection (which would otherwise fail them).
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    if (!pending_.empty()) {
      fail_all_locked(Error::make(ErrorKind::closed, "the session was closed before the answer arrived"), batch,
                      inline_batch);
    }
  }
  flush(batch, inline_batch);
  transport_->close(close_code::normal, {});
}

void Session::fail_all_locked(const Error& error, Batch& batch, Batch& inline_batch) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    if (p.timer) context_->cancel_timer(p.timer);
    if (p.abandoned) continue;
    CallResult r;
    r.id = id;
    r.error = error;
    deliver(p, std::move(r), batch, inline_batch);
  }
}

void Session::on_close(const CloseInfo& in) {
  Batch batch, inline_batch;
  std::vector<OpenWaiter> waiters;
  CloseInfo info = in;
  {
    std::lock_guard lock(mutex_);
    if (state_ == SessionState::closed) return;
    bool was_open = state_ == SessionState::connected;
    state_ = SessionState::closed;
    if (!fatal_reason_.empty() && !info.by_client) {
      info.reason = info.reason.empty() ? fatal_reason_ : fatal_reason_ + "; " + info.reason;
    }
    close_info_ = info;
    Error e;
    if (info.by_client) {
      e = Error::make(ErrorKind::closed, "the session was closed by the client");
    } else if (info.error && !was_open) {
      e = info.error;
    } else if (info.error.kind == ErrorKind::message_too_large) {
      e = info.error;
    } else {
      e = Error::make(ErrorKind::connection_lost, "connection lost: " + info.describe());
      e.code = info.code;
    }
    fail_all_locked(e, batch, inline_batch);
    for (auto& [h, obj] : objects_) {
      if (h != kGlobalHandle) close_object(obj, batch);
    }
    objects_[kGlobalHandle]->closed_ = true;
    objects_.clear();
    waiters.swap(open_waiters_);
    for (auto& l : state_listeners_) {
      batch.push_back(guarded([fn = l.fn, info] { (*fn)(SessionState::closed, &info); }));
    }
    Error oe = info.error ? info.error : Error::make(ErrorKind::connection_lost, info.describe());
    for (auto& waiter : waiters) {
      auto fn = waiter.first;  // a copy: lambdas cannot capture structured bindings in clang 14
      if (waiter.second) {
        inline_batch.push_back([fn, oe] { fn(oe); });
      } else {
        batch.insert(batch.begin(), guarded([fn, oe] { fn(oe); }));
      }
    }
  }
  flush(batch, inline_batch);
}

// ----------------------------------------------------------------------------------------------- calls
Error Session::validate_params(std::string_view params_json) {
  if (params_json.empty()) return {};
  std::string err;
  auto v = parse_json(params_json, &err);
  if (!v) return Error::make(ErrorKind::invalid_argument, "params are not valid JSON: " + err);
  if (!v->is_array() && !v->is_object()) {
    return Error::make(ErrorKind::invalid_argument, "params must be a JSON array (by position) or object (by name)");
  }
  return {};
}

std::int64_t Session::call(int handle, std::string_view method, std::string_view params_json, CallOptions opts,
                           CallCallback cb) {
  return call_impl(handle, method, params_json, opts, std::move(cb), false);
}

CallResult Session::call_sync(int handle, std::string_view method, std::string_view params_json, CallOptions opts) {
  if (SerialQueue::in_dispatcher_thread()) {
    CallResult r;
    r.error = Error::make(ErrorKind::busy, "a blocking call from inside a callback would stall event delivery; "
                                           "use the asynchronous call");
    return r;
  }
  auto promise = std::make_shared<std::promise<CallResult>>();
  auto future = promise->get_future();
  call_impl(handle, method, params_json, opts, [promise](CallResult& r) { promise->set_value(std::move(r)); }, true);
  return future.get();
}

std::int64_t Session::call_impl(int handle, std::string_view method, std::string_view params_json, CallOptions opts,
                                CallCallback cb, bool inline_cb) {
  std::string frame;
  std::int64_t id = 0;
  Error immediate;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    auto it = objects_.find(handle);
    if (state_ == SessionState::closed) {
      immediate = Error::make(ErrorKind::closed, "the session is closed");
    } else if (method.empty()) {
      immediate = Error::make(ErrorKind::invalid_argument, "the method name is empty");
    } else if (it == objects_.end()) {
      immediate = Error::make(ErrorKind::invalid_argument, "handle " + std::to_string(handle) + " is not open in this session");
    } else if (it->second->closed_) {
      immediate = Error::make(ErrorKind::closed, "the object with handle " + std::to_string(handle) + " is closed");
    } else if (handle == kGlobalHandle && opens_doc(method) && (doc_handle_ != 0 || doc_opening_)) {
      immediate = Error::make(ErrorKind::invalid_argument,
                              "this session already has a doc open (one app per session, the proxy routes by the "
                              "app in the URL): open another session for another app");
    }
    if (!immediate) {
      Object& obj = *it->second;
      Pending p;
      p.handle = handle;
      p.method = std::string(method);
      p.cb = std::move(cb);
      p.inline_cb = inline_cb;
      p.target = it->second;
      bool want_delta = opts.delta.value_or(options_.delta);
      if (want_delta) {
        const MethodInfo* info = lookup_method(obj.type_, method);
        // Methods that hand out object references (CreateSessionApp, CreateObject ...) never use delta:
        // their qReturn is a fresh handle, not data to keep a base for.
        p.delta = info && delta_eligible(*info) && info->returns_class.empty();
      }
      if (handle != kGlobalHandle && is_fetch_method(method)) {
        p.fetch = true;
        p.gen = obj.gen_;
        ++obj.fetching_;
        obj.armed_ = true;
      }
      if (handle == kGlobalHandle && opens_doc(method)) {
        p.opens_doc = true;
        doc_opening_ = true;
      }
      auto timeout = opts.timeout.value_or(options_.call_timeout);
      if (timeout.count() > 0) {
        p.timer = context_->schedule(timeout, [weak = weak_from_this(), id] {
          if (auto s = weak.lock()) s->on_timeout(id);
        });
      }
      frame = encode_request(id, method, handle, params_json, p.delta);
      pending_.emplace(id, std::move(p));
    }
  }
  if (immediate) {
    CallResult r;
    r.id = id;
    r.error = std::move(immediate);
    if (inline_cb) {
      cb(r);
    } else if (cb) {
      events_->post(guarded([cb = std::move(cb), r = std::move(r)]() mutable { cb(r); }));
    }
    return id;
  }
  post_traffic(true, frame);
  transport_->send(std::move(frame));
  return id;
}

void Session::deliver(Pending& p, CallResult result, Batch& batch, Batch& inline_batch) {
  if (!p.cb) return;
  if (p.inline_cb) {
    inline_batch.push_back([cb = std::move(p.cb), r = std::move(result)]() mutable { cb(r); });
  } else {
    batch.push_back(guarded([cb = std::move(p.cb), r = std::move(result)]() mutable { cb(r); }));
  }
}

bool Session::cancel(std::int64_t id) {
  Batch batch, inline_batch;
  std::string frame;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.abandoned || state_ == SessionState::closed) return false;
    Pending& p = it->second;
    p.abandoned = true;
    if (p.timer) {
      context_->cancel_timer(p.timer);
      p.timer = 0;
    }
    CallResult r;
    r.id = id;
    r.error = Error::make(ErrorKind::cancelled, "the call was cancelled (CancelRequest sent to the engine)");
    deliver(p, std::move(r), batch, inline_batch);
    // The CancelRequest itself: an internal call whose answer nobody waits for.
    std::int64_t cid = next_id_++;
    Pending c;
    c.method = "CancelRequest";
    c.abandoned = true;
    c.internal = true;
    c.target = objects_[kGlobalHandle];
    pending_.emplace(cid, std::move(c));
    frame = encode_request(cid, "CancelRequest", kGlobalHandle, "[" + std::to_string(id) + "]", false);
  }
  flush(batch, inline_batch);
  post_traffic(true, frame);
  transport_->send(std::move(frame));
  return true;
}

void Session::on_timeout(std::int64_t id) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.abandoned) return;
    Pending& p = it->second;
    p.abandoned = true;
    p.timer = 0;
    CallResult r;
    r.id = id;
    r.error = Error::make(ErrorKind::timeout, "no answer to " + p.method + " (request " + std::to_string(id) +
                                                  ") within the call timeout");
    deliver(p, std::move(r), batch, inline_batch);
  }
  flush(batch, inline_batch);
}

// ------------------------------------------------------------------------------------------ frames in
void Session::on_frame(std::string& text) {
  Frame f;
  std::string err;
  bool ok = decode_frame(text, f, &err);
  post_traffic(false, text);
  Batch batch, inline_batch;
  std::vector<std::shared_ptr<Object>> refetch;
  {
    std::lock_guard lock(mutex_);
    if (state_ == SessionState::closed) return;
    if (!ok) {
      std::string excerpt = text.substr(0, 200);
      diagnose(Diagnostic::Kind::malformed_frame, "malformed frame ignored (" + err + "): " + excerpt, 0, batch);
    } else {
      // Invalidations first: whoever sees this frame's result also sees what it invalidated.
      for (int h : f.close) {
        auto it = objects_.find(h);
        if (it != objects_.end() && h != kGlobalHandle) {
          auto obj = it->second;
          objects_.erase(it);
          close_object(obj, batch);
        }
      }
      for (int h : f.change) apply_change(h, batch, refetch);
      // A suspended handle's data is as stale as a changed one's; it also reports suspended() until its
      // next successful fetch.
      for (int h : f.suspend) {
        if (auto it = objects_.find(h); it != objects_.end()) it->second->suspended_ = true;
        apply_change(h, batch, refetch);
      }
      if (f.is_response()) {
        handle_response(f, batch, inline_batch);
      } else if (f.is_notification()) {
        Notification n{std::string(f.method), f.params ? std::move(*f.params) : json::value{},
                       std::chrono::system_clock::now()};
        if (const json::value* sev = find_member(n.params, "severity");
            sev && sev->is_string() && sev->get_string() == "fatal") {
          std::string_view msg = string_or(find_member(n.params, "message"));
          fatal_reason_ = n.method + (msg.empty() ? std::string() : ": " + std::string(msg));
        }
        if (options_.notification_history > 0) {
          if (history_.size() >= options_.notification_history) history_.pop_front();
          history_.push_back(n);
        }
        auto shared = std::make_shared<const Notification>(std::move(n));
        for (auto& [name, e] : notification_listeners_) {
          if (name.empty() || name == shared->method) {
            batch.push_back(guarded([fn = e.fn, shared] { (*fn)(*shared); }));
          }
        }
      }
    }
  }
  flush(batch, inline_batch);
  for (auto& obj : refetch) start_watch_fetch(obj);
}

void Session::apply_change(int handle, Batch& batch, std::vector<std::shared_ptr<Object>>& refetch) {
  auto it = objects_.find(handle);
  if (it == objects_.end()) return;
  Object& obj = *it->second;
  ++obj.gen_;
  if (!obj.armed_) return;  // not fetched since the last reported change: nothing new to report
  obj.armed_ = false;
  obj.valid_ = false;
  for (auto& l : obj.changed_) batch.push_back(guarded([fn = l.fn] { (*fn)(); }));
  if (obj.watcher_) {
    if (obj.watch_inflight_) {
      obj.watch_dirty_ = true;
    } else {
      refetch.push_back(it->second);
    }
  }
}

void Session::close_object(const std::shared_ptr<Object>& obj, Batch& batch) {
  if (obj->closed_) return;
  obj->closed_ = true;
  obj->valid_ = false;
  obj->delta_bases_.clear();
  obj->watcher_.reset();
  if (obj->handle_ == doc_handle_) doc_handle_ = 0;
  for (auto& l : obj->closed_listeners_) batch.push_back(guarded([fn = l.fn] { (*fn)(); }));
}

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
  auto obj = std::shared_ptr<Object>(new Object(weak_from_this(), hv, std::move(type), std::move(gid), std::move(gtype)));
  objects_[hv] = obj;
  return obj;
}

void Session::handle_response(Frame& f, Batch& batch, Batch& inline_batch) {
  std::int64_t id = *f.id;
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    diagnose(Diagnostic::Kind::unknown_id, "answer with unknown id " + std::to_string(id) + " ignored", id, batch);
    return;
  }
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.timer) context_->cancel_timer(p.timer);
  if (p.opens_doc) doc_opening_ = false;
  Object& target = *p.target;
  if (p.fetch && target.fetching_ > 0) --target.fetching_;

  CallResult r;
  r.id = id;
  if (f.error) {
    const json::value& e = *f.error;
    auto code = integer_of(find_member(e, "code"));
    r.error = Error::engine(code ? static_cast<int>(*code) : -1, std::string(string_or(find_member(e, "parameter"))),
                            std::string(string_or(find_member(e, "message"))));
  } else if (!f.result->is_object()) {
    r.error = Error::make(ErrorKind::protocol, p.method + ": 'result' is not an object");
  } else {
    json::object& result = f.result->as_object();
    if (p.delta && f.delta && !target.closed_) {
      for (auto& kv : result) {
        std::string key = p.method + '\n' + std::string(kv.key());
        json::value& base = target.delta_bases_[key];
        std::string perr;
        if (!json_patch::apply(base, std::move(kv.value()), &perr)) {
          target.delta_bases_.erase(key);
          r.error = Error::make(ErrorKind::protocol, p.method + ": cannot apply the delta patch for " +
                                                         std::string(kv.key()) + ": " + perr);
          break;
        }
        kv.value() = base;  // the one copy: the base stays for the next patch
      }
    } else if (p.delta && f.delta) {
      r.error = Error::make(ErrorKind::closed, "the object was closed before its delta answer arrived");
    }
    if (!r.error) {
      if (p.fetch && target.gen_ == p.gen && !target.closed_) {
        target.valid_ = true;
        target.suspended_ = false;
      }
      if (p.method == "GetLayout" || p.method == "GetAppLayout") {
        if (auto* l = result.if_contains("qLayout")) target.layout_ = std::make_shared<const json::value>(*l);
      }
      if (auto* qr = result.if_contains("qReturn"); qr && qr->is_object() && qr->as_object().contains("qHandle")) {
        if (p.method == "CreateSessionApp") {
          if (auto* sid = result.if_contains("qSessionAppId"); sid && sid->is_string()) {
            auto& qro = qr->as_object();
            if (!qro.contains("qGenericId") || qro["qGenericId"].is_null()) qro["qGenericId"] = *sid;
          }
        }
        Error aerr;
        r.object = adopt_reference(*qr, p, aerr);
        if (aerr) r.error = std::move(aerr);
        if (r.object && r.object->type_ == "Doc") doc_handle_ = r.object->handle_;
      }
      r.result = std::move(*f.result);
    }
  }
  if (p.abandoned) {
    if (p.internal) return;
    diagnose(Diagnostic::Kind::late_answer,
             "answer to " + p.method + " (request " + std::to_string(id) + ") arrived after it was cancelled or timed out" +
                 (r.error ? ": " + r.error.describe() : std::string()),
             id, batch);
    return;
  }
  deliver(p, std::move(r), batch, inline_batch);
}

// ---------------------------------------------------------------------------------------------- watch
void Session::start_watch_fetch(const std::shared_ptr<Object>& obj) {
  {
    std::lock_guard lock(mutex_);
    if (obj->closed_ || !obj->watcher_ || obj->watch_inflight_ || obj->watch_timer_) return;
    auto interval = options_.watch_min_interval;
    if (interval.count() > 0) {
      auto now = std::chrono::steady_clock::now();
      if (now < obj->watch_next_) {
        // Throttled: one fetch when the interval ends covers every change until then.
        obj->watch_timer_ = true;
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(obj->watch_next_ - now);
        std::weak_ptr<Object> weak = obj;
        context_->schedule(wait, [weak, self = weak_from_this()] {
          auto o = weak.lock();
          auto s = self.lock();
          if (!o || !s) return;
          {
            std::lock_guard guard(s->mutex_);
            o->watch_timer_ = false;
          }
          s->start_watch_fetch(o);
        });
        return;
      }
      obj->watch_next_ = now + interval;
    }
    obj->watch_inflight_ = true;
    obj->watch_dirty_ = false;
  }
  std::string_view method = obj->type_ == "Doc" ? "GetAppLayout" : "GetLayout";
  std::weak_ptr<Object> weak = obj;
  call_impl(
      obj->handle_, method, "[]", {},
      [weak, self = weak_from_this()](CallResult& r) {
        auto o = weak.lock();
        auto s = self.lock();
        if (!o || !s) return;
        bool again = false;
        std::shared_ptr<std::function<void(const CallResult&)>> w;
        {
          std::lock_guard lock(s->mutex_);
          o->watch_inflight_ = false;
          w = o->watcher_;
          // A change during the fetch makes this layout stale: fetch again rather than deliver it.
          bool stale = r.ok() && !o->valid_;
          again = w && !o->closed_ && (o->watch_dirty_ || stale);
          o->watch_dirty_ = false;
          if (w && (!stale || !r.ok())) {
            auto shared = std::make_shared<CallResult>(std::move(r));
            s->events_->post(s->guarded([w, shared] { (*w)(*shared); }));
          }
        }
        if (again) s->start_watch_fetch(o);
      },
      true);
}

// ------------------------------------------------------------------------------------------- queries
std::shared_ptr<Object> Session::object(int handle) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(handle);
  return it == objects_.end() ? nullptr : it->second;
}

std::shared_ptr<Object> Session::doc() const {
  std::lock_guard lock(mutex_);
  if (doc_handle_ == 0) return nullptr;
  auto it = objects_.find(doc_handle_);
  return it == objects_.end() ? nullptr : it->second;
}

SessionState Session::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::optional<CloseInfo> Session::close_info() const {
  std::lock_guard lock(mutex_);
  return close_info_;
}

std::size_t Session::pending_calls() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto& [id, p] : pending_) n += p.abandoned ? 0 : 1;
  return n;
}

ListenerId Session::on_state(std::function<void(SessionState, const CloseInfo*)> fn) {
  std::lock_guard lock(mutex_);
  ListenerId id = next_listener_++;
  state_listeners_.push_back({id, std::make_shared<std::function<void(SessionState, const CloseInfo*)>>(std::move(fn))});
  return id;
}

ListenerId Session::on_notification(std::string method, std::function<void(const Notification&)> fn, bool replay) {
  std::lock_guard lock(mutex_);
  ListenerId id = next_listener_++;
  auto f = std::make_shared<std::function<void(const Notification&)>>(std::move(fn));
  if (replay) {
    for (auto& n : history_) {
      if (method.empty() || method == n.method) {
        events_->post(guarded([f, n] { (*f)(n); }));
      }
    }
  }
  notification_listeners_.push_back({std::move(method), {id, std::move(f)}});
  return id;
}

ListenerId Session::on_diagnostic(std::function<void(const Diagnostic&)> fn) {
  std::lock_guard lock(mutex_);
  ListenerId id = next_listener_++;
  diagnostic_listeners_.push_back({id, std::make_shared<std::function<void(const Diagnostic&)>>(std::move(fn))});
  return id;
}

void Session::remove_listener(ListenerId id) {
  std::lock_guard lock(mutex_);
  erase_listener(state_listeners_, id);
  erase_listener(diagnostic_listeners_, id);
  notification_listeners_.erase(std::remove_if(notification_listeners_.begin(), notification_listeners_.end(),
                                               [id](const auto& p) { return p.second.id == id; }),
                                notification_listeners_.end());
}

std::vector<Notification> Session::notification_history() const {
  std::lock_guard lock(mutex_);
  return {history_.begin(), history_.end()};
}

std::size_t Session::poll(std::chrono::milliseconds timeout) { return poll_ ? poll_->poll(timeout) : 0; }

void Session::wake() {
  if (poll_) poll_->wake();
}

}  // namespace qix::core
