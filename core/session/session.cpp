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
    case SessionState::suspended: return "suspended";
  }
  return "unknown";
}

const char* to_string(ReconnectOptions::Policy p) noexcept {
  switch (p) {
    case ReconnectOptions::Policy::none: return "none";
    case ReconnectOptions::Policy::attach: return "attach";
    case ReconnectOptions::Policy::resume: return "resume";
  }
  return "unknown";
}

// -------------------------------------------------------------------------------------------------- Link
class Session::Link final : public TransportHandler {
 public:
  Link(std::weak_ptr<Session> s, std::uint64_t gen) : session_(std::move(s)), gen_(gen) {}
  void on_open() override {
    if (auto s = session_.lock()) s->link_open(gen_);
  }
  void on_frame(std::string& text) override {
    if (auto s = session_.lock()) s->link_frame(gen_, text);
  }
  void on_close(const CloseInfo& info) override {
    if (auto s = session_.lock()) s->link_close(gen_, info);
  }

 private:
  std::weak_ptr<Session> session_;
  std::uint64_t gen_;
};

// ------------------------------------------------------------------------------------------------- Object
bool Object::valid() const {
  auto s = session_.lock();
  if (!s) return false;
  std::lock_guard lock(s->mutex_);
  return valid_ && !closed_ && !s->closing_;
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
  return closed_ || s->closing_;  // after Session::close(), at once (the closed events follow)
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
  auto shared = std::make_shared<std::function<void()>>(std::move(fn));
  changed_.push_back({id, shared});
  // The engine lists a handle in `change` only on a valid-to-invalid transition, and an object whose layout
  // was never computed (or was invalidated and not fetched since) is already invalid: no later selection
  // would be reported. So a listener added in that state, with no fetch in flight, is told at once that
  // the data is not current: its fetch makes the object valid, and from then on every edge is reported.
  if (!closed_ && !s->closing_ && !valid_ && fetching_ == 0 && !layout_method().empty()) {
    s->events_->post(s->guarded([shared] { (*shared)(); }));
  }
  return id;
}

std::string_view Object::layout_method() const noexcept {
  if (handle_.load(std::memory_order_relaxed) == kGlobalHandle) return {};
  if (!is_known_class(type_)) return "GetLayout";  // a class the spec does not describe: a generic object
  if (find_method(type_, "GetLayout")) return "GetLayout";
  if (find_method(type_, "GetAppLayout")) return "GetAppLayout";
  return {};  // Field, Variable: no layout to fetch
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

Error Object::refusal(const Session* s) const {
  if (!s) return Error::make(ErrorKind::closed, "the session of this object is gone");
  // A zombie proxy: its handle was released (the engine may even reuse the number).
  if (closed()) return Session::closed_object_error(handle());
  return {};
}

std::int64_t Object::call(std::string_view method, std::string_view params_json, CallOptions opts, CallCallback cb) {
  auto s = session_.lock();
  if (Error e = refusal(s.get())) {
    CallResult r;
    r.error = std::move(e);
    if (!s) {
      if (cb) cb(r);  // no session left to deliver on
    } else if (cb) {
      s->events_->post(s->guarded([cb = std::move(cb), r = std::move(r)]() mutable { cb(r); }));
    }
    return 0;
  }
  return s->start_call(shared_from_this(), handle(), method, params_json, opts, std::move(cb), false);
}

CallResult Object::call_sync(std::string_view method, std::string_view params_json, CallOptions opts) {
  auto s = session_.lock();
  if (Error e = refusal(s.get())) {
    CallResult r;
    r.error = std::move(e);
    return r;
  }
  return Session::wait_for([&](CallCallback done) {
    s->start_call(shared_from_this(), handle(), method, params_json, opts, std::move(done), true);
  });
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
    : context_(std::move(context)), options_(std::move(options)), transport_(std::move(transport)) {
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
    if (reconnect_timer_) context_->cancel_timer(reconnect_timer_);
    if (resume_timer_) context_->cancel_timer(resume_timer_);
    if (protocol_timer_) context_->cancel_timer(protocol_timer_);
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
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Link> link;
  {
    std::lock_guard lock(mutex_);
    if (open_called_) {
      Error e = Error::make(ErrorKind::invalid_argument, "the session was already opened");
      if (done) events_->post(guarded([done, e] { done(e); }));
      return;
    }
    open_called_ = true;
    if (done) open_waiters_.push_back({std::move(done), false});
    link_ = std::make_shared<Link>(weak_from_this(), link_gen_);
    link = link_;
    transport = transport_;
  }
  transport->open(link);
}

Error Session::open_sync(std::chrono::milliseconds timeout) {
  if (SerialQueue::in_dispatcher_thread()) {
    return Error::make(ErrorKind::busy, "a blocking open from inside a callback would deadlock; use open()");
  }
  auto promise = std::make_shared<std::promise<Error>>();
  auto future = promise->get_future();
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Link> link;
  {
    std::lock_guard lock(mutex_);
    if (open_called_) return Error::make(ErrorKind::invalid_argument, "the session was already opened");
    open_called_ = true;
    // Internal waiter: runs on the I/O thread, no user code.
    open_waiters_.push_back({[promise](const Error& e) { promise->set_value(e); }, true});
    link_ = std::make_shared<Link>(weak_from_this(), link_gen_);
    link = link_;
    transport = transport_;
  }
  transport->open(link);
  if (timeout.count() > 0 && future.wait_for(timeout) != std::future_status::ready) {
    close();
    return Error::make(ErrorKind::timeout, "connecting timed out after " + std::to_string(timeout.count()) + " ms");
  }
  return future.get();
}

void Session::link_open(std::uint64_t gen) {
  std::vector<OpenWaiter> waiters;
  Batch batch;
  {
    std::lock_guard lock(mutex_);
    if (gen != link_gen_) return;
    // A new connection: its peer has yet to show that it speaks QIX.
    peer_verified_ = false;
    if (protocol_timer_) context_->cancel_timer(protocol_timer_);
    protocol_timer_ = 0;
    if (state_ == SessionState::suspended) {
      // A reconnect attempt got through: wait (bounded) for OnConnected, then restore.
      resuming_ = true;
      resume_started_ = false;
      engine_state_.clear();
      std::weak_ptr<Session> weak = weak_from_this();
      resume_timer_ = context_->schedule(options_.reconnect.greeting_wait, [weak, gen] {
        if (auto s = weak.lock()) s->resume_start(gen);
      });
      return;
    }
    if (state_ != SessionState::connecting) return;
    state_ = SessionState::connected;
    if (!pending_.empty()) arm_protocol_timer_locked();  // calls made while connecting went out just now
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
  std::shared_ptr<Transport> transport;
  Batch batch, inline_batch;
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
    transport = transport_;
    closing_ = true;
    if (state_ == SessionState::suspended) {
      // Stop reconnecting; the attempt in progress (if any) is closed below and its events ignored.
      CloseInfo info;
      info.by_client = true;
      info.code = close_code::normal;
      finalize_locked(info, batch, inline_batch);
    } else if (!pending_.empty()) {
      // Pending calls complete now, with `closed`: the caller may free the session right after this,
      // before the transport reports the end of the connection (which would otherwise fail them).
      fail_all_locked(Error::make(ErrorKind::closed, "the session was closed before the answer arrived"), batch,
                      inline_batch);
    }
  }
  flush(batch, inline_batch);
  transport->close(close_code::normal, {});
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

namespace {

// A short, printable excerpt of a frame for an error message.
std::string excerpt(std::string_view text, std::size_t max = 80) {
  std::string out;
  for (char c : text.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '.' : c;
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace

bool Session::first_frame_is_qix_locked(bool decoded, const Frame& f, const std::string& err, const std::string& text,
                                        std::string& why) const {
  if (f.root.is_object()) {
    const json::value* version = find_member(f.root, "jsonrpc");
    if (!version || !version->is_string() || version->get_string() != "2.0") {
      why = "its first frame is not JSON-RPC 2.0 (no \"jsonrpc\":\"2.0\"): " + excerpt(text);
      return false;
    }
    if (f.id && !f.method.empty()) {
      // A QIX engine never sends requests. The usual case: an echo server returning the client's own frame.
      auto it = pending_.find(*f.id);
      if (it != pending_.end() && it->second.method == f.method) {
        why = "it sent the request " + std::string(f.method) + " (id " + std::to_string(*f.id) +
              ") back instead of answering it (an echo server?)";
      } else {
        why = "it sent a request of its own (" + std::string(f.method) + ", id " + std::to_string(*f.id) +
              "), which a QIX engine never does";
      }
      return false;
    }
  }
  if (!decoded) {
    why = "its first frame is not JSON-RPC (" + err + "): " + excerpt(text);
    return false;
  }
  return true;
}

void Session::arm_protocol_timer_locked() {
  if (peer_verified_ || protocol_timer_ || options_.protocol_timeout.count() <= 0) return;
  if (state_ != SessionState::connected && !(state_ == SessionState::suspended && resuming_)) return;
  std::uint64_t gen = link_gen_;
  protocol_timer_ = context_->schedule(options_.protocol_timeout, [weak = weak_from_this(), gen] {
    if (auto s = weak.lock()) s->on_protocol_timeout(gen);
  });
}

void Session::on_protocol_timeout(std::uint64_t gen) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    protocol_timer_ = 0;
    if (gen != link_gen_ || peer_verified_ || state_ == SessionState::closed) return;
    auto ms = options_.protocol_timeout.count();
    std::string bound = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    not_qix_locked("no OnConnected greeting and no answer within " + bound +
                       " of the first request (option timeout.protocol_ms)",
                   batch, inline_batch);
  }
  flush(batch, inline_batch);
}

void Session::not_qix_locked(const std::string& why, Batch& batch, Batch& inline_batch) {
  std::string peer = transport_ ? transport_->peer() : std::string();
  Error e = Error::make(ErrorKind::protocol,
                        (peer.empty() ? std::string("the server") : "the server at " + peer) +
                            " does not speak the QIX protocol: " + why);
  CloseInfo info = state_ == SessionState::suspended ? drop_info_ : CloseInfo{};
  info.code = close_code::protocol_error;
  info.by_client = true;
  info.error = e;
  finalize_locked(info, batch, inline_batch);
  // Not resumed: another connection to the same address would meet the same server.
  if (transport_) transport_->close(close_code::protocol_error, "the client expects the QIX protocol");
}

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
    case close_code::client_suspend: return Resumable::never;
    case close_code::idle_timeout:
    case close_code::license_renewal:
    case close_code::session_limit:
    case close_code::authentication_failed:
      why = "code " + std::to_string(info.code) + " (" + describe_close_code(info.code) + ") ends the session";
      return Resumable::refused;
    case close_code::app_deleted: return Resumable::once;
    case close_code::going_away:
    case close_code::abnormal:
    case 1011:  // internal error
    case 1012:  // service restart
    case 1013:  // try again later
    case 1014:  // bad gateway
    case close_code::engine_terminating:
    case close_code::app_mode_changed: return Resumable::retry;
    default: why = "code " + std::to_string(info.code) + " is not one to resume after"; return Resumable::refused;
  }
}

}  // namespace

void Session::link_close(std::uint64_t gen, const CloseInfo& in) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    if (gen != link_gen_ || state_ == SessionState::closed) return;
    if (resume_timer_) {
      context_->cancel_timer(resume_timer_);
      resume_timer_ = 0;
    }
    if (state_ == SessionState::suspended) {
      // A reconnect attempt failed (could not connect, or dropped while restoring). Internal calls made on
      // it are gone; queued user calls stay queued.
      resuming_ = false;
      for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.queued) {
          ++it;
          continue;
        }
        if (it->second.timer) context_->cancel_timer(it->second.timer);
        it = pending_.erase(it);
      }
      last_attempt_error_ = in.error ? in.error.describe() : in.describe();
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
                           last_attempt_error_ + ")",
                       batch, inline_batch);
      } else if (attempts_ >= max_attempts_) {
        give_up_locked("gave up after " + std::to_string(attempts_) + " attempt" + (attempts_ == 1 ? "" : "s") +
                           " (last: " + last_attempt_error_ + ")",
                       batch, inline_batch);
      } else {
        schedule_attempt_locked();
      }
    } else {
      CloseInfo info = in;
      if (!fatal_reason_.empty() && !info.by_client) {
        info.reason = info.reason.empty() ? fatal_reason_ : fatal_reason_ + "; " + info.reason;
      }
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
        max_attempts_ = r == Resumable::once ? 1 : std::max(1, options_.reconnect.max_attempts);
        suspend_locked(info, batch, inline_batch);
      } else {
        finalize_locked(info, batch, inline_batch);
      }
    }
  }
  flush(batch, inline_batch);
}

void Session::finalize_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch) {
  bool was_open = state_ == SessionState::connected || state_ == SessionState::suspended;
  state_ = SessionState::closed;
  resuming_ = false;
  if (reconnect_timer_) context_->cancel_timer(reconnect_timer_);
  if (resume_timer_) context_->cancel_timer(resume_timer_);
  reconnect_timer_ = resume_timer_ = 0;
  if (protocol_timer_) context_->cancel_timer(protocol_timer_);
  protocol_timer_ = 0;
  close_info_ = info;
  Error e;
  if (info.error.kind == ErrorKind::protocol || info.error.kind == ErrorKind::message_too_large) {
    e = info.error;  // the reason itself: the peer does not speak QIX, or sent a frame over the limit
  } else if (info.by_client) {
    e = Error::make(ErrorKind::closed, "the session was closed by the client");
  } else if (info.error && !was_open) {
    e = info.error;
  } else {
    e = Error::make(ErrorKind::connection_lost, "connection lost: " + info.describe());
    e.code = info.code;
  }
  fail_all_locked(e, batch, inline_batch);
  for (auto& [h, obj] : objects_) {
    if (h != kGlobalHandle) close_object(obj, batch);
  }
  if (auto g = objects_.find(kGlobalHandle); g != objects_.end()) g->second->closed_ = true;
  objects_.clear();
  std::vector<OpenWaiter> waiters;
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

// --------------------------------------------------------------------------------------------- reconnect
void Session::suspend_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch) {
  state_ = SessionState::suspended;
  drop_info_ = info;
  attempts_ = 0;
  resuming_ = false;
  fatal_reason_.clear();
  fatal_method_.clear();
  // Calls in flight on the dropped connection: their answers are lost. Sent again after the resume when
  // configured, else they fail now, once.
  Error lost = Error::make(ErrorKind::connection_lost,
                           "connection lost before the answer (the engine may or may not have run the call): " +
                               info.describe());
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
  for (int i = 0; i < attempts_ && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  // ±20 % jitter, so that many clients dropped together do not come back in lockstep.
  std::uint64_t mix = (next_id_ * 0x9E3779B97F4A7C15ull) ^ (link_gen_ << 17) ^
                      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  long long spread = delay / 5;
  if (spread > 0) delay += static_cast<long long>(mix % static_cast<std::uint64_t>(2 * spread + 1)) - spread;
  std::weak_ptr<Session> weak = weak_from_this();
  reconnect_timer_ = context_->schedule(std::chrono::milliseconds(std::max(1LL, delay)), [weak] {
    if (auto s = weak.lock()) s->attempt();
  });
}

void Session::attempt() {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Link> link;
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    if (state_ != SessionState::suspended) return;
    reconnect_timer_ = 0;
    ++attempts_;
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
      link_ = std::make_shared<Link>(weak_from_this(), link_gen_);
      transport_ = next;
      transport = std::move(next);
      link = link_;
    }
  }
  flush(batch, inline_batch);
  if (transport) transport->open(link);
}

void Session::give_up_locked(const std::string& why, Batch& batch, Batch& inline_batch) {
  CloseInfo info = drop_info_;
  info.reason += (info.reason.empty() ? "" : "; ") + std::string("not resumed: ") + why;
  finalize_locked(info, batch, inline_batch);
  // End the attempt in progress, if any (its events are ignored now that the session is closed).
  if (transport_) transport_->close(close_code::normal, {});
}

void Session::send_internal_locked(int handle, std::string method, std::string params,
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
  pending_.emplace(id, std::move(p));
  ++resume_outstanding_;
  arm_protocol_timer_locked();
  post_traffic(true, frame);
  transport_->send(std::move(frame));  // never calls back into the session (Transport contract)
}

namespace {

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
  const json::value* prop = v->is_array() && !v->as_array().empty() ? &v->as_array()[0] : find_member(*v, "qProp");
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

void Session::resume_start(std::uint64_t gen) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    if (gen != link_gen_ || state_ != SessionState::suspended || !resuming_ || resume_started_) return;
    resume_started_ = true;
    resume_outstanding_ = 0;
    restored_.clear();
    unrestorable_.clear();
    if (resume_timer_) context_->cancel_timer(resume_timer_);
    // A watchdog: an engine that stops answering mid-resume costs this attempt, not the session.
    std::weak_ptr<Session> weak = weak_from_this();
    resume_timer_ = context_->schedule(std::chrono::seconds(30), [weak, gen] {
      auto s = weak.lock();
      if (!s) return;
      std::shared_ptr<Transport> t;
      {
        std::lock_guard l(s->mutex_);
        if (gen != s->link_gen_ || s->state_ != SessionState::suspended) return;
        s->resume_timer_ = 0;
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
      send_internal_locked(kGlobalHandle, "GetActiveDoc", "[]",
                           [weak, gen](CallResult& r) {
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
    if (gen != link_gen_ || state_ != SessionState::suspended || !resuming_) return;
    --resume_outstanding_;
    auto doc_it = objects_.find(doc_handle_);
    if (doc_it == objects_.end()) return;
    auto doc = doc_it->second;
    std::weak_ptr<Session> weak = weak_from_this();
    if (auto h = returned_handle(r)) {
      restored_.emplace_back(doc, *h);
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
      give_up_locked("cannot open the doc again: " + (r.ok() ? std::string("no handle returned") : r.error.describe()),
                     batch, inline_batch);
    }
  }
  flush(batch, inline_batch);
}

void Session::resume_objects_locked(std::uint64_t gen, Batch& batch, Batch& inline_batch) {
  bool attached = engine_state_ == "SESSION_ATTACHED";
  int doc_new = 0;
  std::shared_ptr<Object> doc;
  if (!restored_.empty()) {
    doc = restored_.front().first;
    doc_new = restored_.front().second;
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
      unrestorable_.push_back(obj);
      continue;
    }
    send_internal_locked(on, method, params, [weak, gen, obj](CallResult& r) {
      auto s = weak.lock();
      if (!s) return;
      Batch b, ib;
      std::vector<std::shared_ptr<Object>> refetch;
      {
        std::lock_guard l(s->mutex_);
        if (gen != s->link_gen_ || s->state_ != SessionState::suspended || !s->resuming_) return;
        if (auto h = returned_handle(r)) {
          s->restored_.emplace_back(obj, *h);
        } else {
          s->unrestorable_.push_back(obj);
        }
        if (--s->resume_outstanding_ == 0) s->finish_resume_locked(b, ib, refetch);
      }
      s->flush(b, ib);
      for (auto& o : refetch) s->start_watch_fetch(o);
    });
  }
  if (resume_outstanding_ == 0) {
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
  if (resume_timer_) context_->cancel_timer(resume_timer_);
  resume_timer_ = 0;
  // Swap the handles underneath the proxies.
  auto global = objects_[kGlobalHandle];
  std::unordered_map<int, std::shared_ptr<Object>> next;
  next.emplace(kGlobalHandle, global);
  doc_handle_ = 0;
  bool first = true;
  for (auto& [obj, h] : restored_) {
    obj->handle_.store(h, std::memory_order_release);
    next[h] = obj;
    if (first && obj->type_ == "Doc") doc_handle_ = h;
    first = false;
  }
  for (auto& entry : objects_) {  // (no structured binding: clang 14 cannot capture one in the lambda)
    const auto& obj = entry.second;
    if (entry.first == kGlobalHandle || obj->closed_) continue;
    bool kept = std::any_of(restored_.begin(), restored_.end(), [&](const auto& e) { return e.first == obj; });
    if (!kept) unrestorable_.push_back(obj);
  }
  objects_.swap(next);
  for (auto& obj : unrestorable_) close_object(obj, batch);
  for (auto& [obj, h] : restored_) {
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
  restored_.clear();
  unrestorable_.clear();
  state_ = SessionState::connected;
  resuming_ = false;
  attempts_ = 0;
  ++resumes_;
  CloseInfo drop = drop_info_;
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
      r.error = Error::make(ErrorKind::closed, "the object of this call could not be restored after the reconnect");
      deliver(p, std::move(r), batch, inline_batch);
      if (p.timer) context_->cancel_timer(p.timer);
      pending_.erase(it);
      continue;
    }
    p.queued = false;
    p.handle = p.target->handle();
    if (p.handle != kGlobalHandle && is_fetch_method(p.method)) {
      p.fetch = true;
      p.gen = p.target->gen_;
      ++p.target->fetching_;
      p.target->armed_ = true;
    }
    if (p.opens_doc) doc_opening_ = true;
    std::string frame = encode_request(id, p.method, p.handle, p.params, p.delta);
    post_traffic(true, frame);
    transport_->send(std::move(frame));
  }
}

void Session::note_properties_locked(Object& obj, const Pending& p, const json::object& result) {
  // Session objects' last known properties, to re-create them after a reconnect that did not attach.
  if (!obj.origin_.session_object) return;
  if (p.method == "GetProperties") {
    if (auto* prop = result.if_contains("qProp")) obj.origin_.props = std::make_shared<const json::value>(*prop);
  } else if (p.method == "SetProperties") {
    if (auto props = properties_param(p.params)) obj.origin_.props = std::move(props);
  }
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
  return start_call(object(handle), handle, method, params_json, opts, std::move(cb), false);
}

CallResult Session::call_sync(int handle, std::string_view method, std::string_view params_json, CallOptions opts) {
  return wait_for([&](CallCallback done) {
    start_call(object(handle), handle, method, params_json, opts, std::move(done), true);
  });
}

Error Session::closed_object_error(int handle) {
  return Error::make(ErrorKind::closed, "the object with handle " + std::to_string(handle) + " is closed");
}

CallResult Session::wait_for(const std::function<void(CallCallback)>& start) {
  if (SerialQueue::in_dispatcher_thread()) {
    CallResult r;
    r.error = Error::make(ErrorKind::busy, "a blocking call from inside a callback would stall event delivery; "
                                           "use the asynchronous call");
    return r;
  }
  auto promise = std::make_shared<std::promise<CallResult>>();
  auto future = promise->get_future();
  start([promise](CallResult& r) { promise->set_value(std::move(r)); });  // an inline completion: no user code
  return future.get();
}

std::int64_t Session::start_call(const std::shared_ptr<Object>& target, int handle, std::string_view method,
                                 std::string_view params_json, CallOptions opts, CallCallback cb, bool inline_cb) {
  std::string frame;
  std::int64_t id = 0;
  Error immediate;
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    // The handle is read under the lock: a reconnect may have swapped it.
    if (target) handle = target->handle();
    auto registered = objects_.find(handle);
    bool suspended = state_ == SessionState::suspended;
    if (state_ == SessionState::closed && close_info_ && close_info_->error.kind == ErrorKind::protocol) {
      immediate = close_info_->error;  // the server does not speak QIX: say so, not just "closed"
    } else if (state_ == SessionState::closed || closing_) {
      immediate = Error::make(ErrorKind::closed, "the session is closed");
    } else if (suspended && !options_.reconnect.queue_calls) {
      immediate = Error::make(ErrorKind::connection_lost,
                              "the session is suspended, reconnecting after: " + drop_info_.describe());
      immediate.code = drop_info_.code;
    } else if (method.empty()) {
      immediate = Error::make(ErrorKind::invalid_argument, "the method name is empty");
    } else if (!target) {
      immediate = Error::make(ErrorKind::invalid_argument, "handle " + std::to_string(handle) + " is not open in this session");
    } else if (target->closed_ || registered == objects_.end() || registered->second != target) {
      immediate = closed_object_error(handle);  // released since it was looked up
    } else if (handle == kGlobalHandle && opens_doc(method) && (doc_handle_ != 0 || doc_opening_)) {
      immediate = Error::make(ErrorKind::invalid_argument,
                              "this session already has a doc open (one app per session, the proxy routes by the "
                              "app in the URL): open another session for another app");
    }
    if (!immediate) {
      Object& obj = *target;
      Pending p;
      p.handle = handle;
      p.method = std::string(method);
      p.cb = std::move(cb);
      p.inline_cb = inline_cb;
      p.target = target;
      bool want_delta = opts.delta.value_or(options_.delta);
      if (want_delta) {
        const MethodInfo* info = lookup_method(obj.type_, method);
        // Methods that hand out object references (CreateSessionApp, CreateObject ...) never use delta:
        // their qReturn is a fresh handle, not data to keep a base for.
        p.delta = info && delta_eligible(*info) && info->returns_class.empty();
      }
      if (handle != kGlobalHandle && is_fetch_method(method) && !suspended) {
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
  send(transport, std::move(frame));
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

std::string Session::cancel_request_locked(std::int64_t id) {
  // An internal call whose answer nobody waits for (consumed when it arrives).
  std::int64_t cid = next_id_++;
  Pending c;
  c.method = "CancelRequest";
  c.abandoned = true;
  c.internal = true;
  c.target = objects_[kGlobalHandle];
  pending_.emplace(cid, std::move(c));
  return encode_request(cid, "CancelRequest", kGlobalHandle, "[" + std::to_string(id) + "]", false);
}

void Session::send(const std::shared_ptr<Transport>& transport, std::string frame) {
  if (!transport || frame.empty()) return;
  post_traffic(true, frame);
  transport->send(std::move(frame));
}

bool Session::cancel(std::int64_t id) { return abandon(id, false); }

void Session::on_timeout(std::int64_t id) { abandon(id, true); }

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
      r.error = Error::make(ErrorKind::timeout, "no answer to " + p.method + " (request " + std::to_string(id) +
                                                    ") within the call timeout (CancelRequest sent)");
      tell_engine = state_ == SessionState::connected;
    } else {
      if (p.timer) context_->cancel_timer(p.timer);
      p.timer = 0;
      r.error = p.queued
                    ? Error::make(ErrorKind::cancelled, "the call was cancelled before it was sent")
                    : Error::make(ErrorKind::cancelled, "the call was cancelled (CancelRequest sent to the engine)");
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

// ------------------------------------------------------------------------------------------ frames in
void Session::link_frame(std::uint64_t gen, std::string& text) {
  Frame f;
  std::string err;
  bool ok = decode_frame(text, f, &err);
  post_traffic(false, text);
  Batch batch, inline_batch;
  std::vector<std::shared_ptr<Object>> refetch;
  bool start_resume = false;
  {
    std::lock_guard lock(mutex_);
    if (state_ == SessionState::closed || gen != link_gen_) return;
    // While a reconnect restores the session the handles in change/close arrays are the new connection's,
    // not yet mapped to the proxies: skipped (every restored object is reported changed at the end).
    bool restoring = state_ == SessionState::suspended;
    if (!peer_verified_) {
      std::string why;
      if (!first_frame_is_qix_locked(ok, f, err, text, why)) {
        not_qix_locked(why, batch, inline_batch);
      } else {
        peer_verified_ = true;
        if (protocol_timer_) context_->cancel_timer(protocol_timer_);
        protocol_timer_ = 0;
      }
    }
    if (state_ == SessionState::closed) {
      // Just ended by the peer check above: nothing more to apply.
    } else if (!ok) {
      std::string excerpt = text.substr(0, 200);
      diagnose(Diagnostic::Kind::malformed_frame, "malformed frame ignored (" + err + "): " + excerpt, 0, batch);
    } else {
      // Invalidations first: whoever sees this frame's result also sees what it invalidated.
      if (restoring) {
        f.close.clear();
        f.change.clear();
        f.suspend.clear();
      }
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
          fatal_method_ = n.method;
        }
        if (n.method == "OnConnected") {
          std::string_view st = string_or(find_member(n.params, "qSessionState"));
          engine_state_ = st.empty() ? std::string("SESSION_CREATED") : std::string(st);
          start_resume = restoring && resuming_ && !resume_started_;
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
  if (start_resume) resume_start(gen);
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
      pending_.emplace(id, std::move(p));
      post_traffic(true, frame);
      transport_->send(std::move(frame));
      return;
    }
  } else if (!f.result->is_object()) {
    r.error = Error::make(ErrorKind::protocol, p.method + ": 'result' is not an object");
  } else if (p.raw) {
    r.result = std::move(*f.result);  // a reconnect step: it reads the answer itself
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
      if (target.origin_.session_object) note_properties_locked(target, p, result);
      if (auto* qr = result.if_contains("qReturn"); qr && qr->is_object() && qr->as_object().contains("qHandle")) {
        if (p.method == "CreateSessionApp") {
          if (auto* sid = result.if_contains("qSessionAppId"); sid && sid->is_string()) {
            auto& qro = qr->as_object();
            if (!qro.contains("qGenericId") || qro["qGenericId"].is_null()) qro["qGenericId"] = *sid;
          }
        }
        Error aerr;
        r.object = adopt_reference(*qr, p, aerr);
        if (r.object && r.object->seq_ == 0) {
          // A new proxy: remember how it was obtained, to obtain it again after a reconnect.
          Object& o = *r.object;
          o.seq_ = ++next_seq_;
          o.origin_.parent = p.target;
          o.origin_.method = p.method;
          o.origin_.params = p.params;
          o.origin_.session_object = p.method == "CreateSessionObject" || p.method == "CreateSessionVariable";
          if (o.origin_.session_object && options_.reconnect.policy != ReconnectOptions::Policy::none) {
            o.origin_.props = properties_param(p.params);
          }
        }
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
  start_call(
      obj, obj->handle(), method, "[]", {},
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

bool Session::closing() const {
  std::lock_guard lock(mutex_);
  return closing_ || state_ == SessionState::closed;
}

std::string Session::engine_session_state() const {
  std::lock_guard lock(mutex_);
  return engine_state_;
}

int Session::resume_count() const {
  std::lock_guard lock(mutex_);
  return resumes_;
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
