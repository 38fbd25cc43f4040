// Session: one connection's lifecycle (open, close, drops: see reconnect.cpp for the resume), the frames that
// arrive (invalidations, answers: see call.cpp, notifications), event delivery, listeners and queries.
#include "session/session.hpp"
#include "session/deferred_signals.hpp"
#include "session/detail.hpp"

#include "rpc/frame.hpp"

#include <algorithm>
#include <cerrno>
#include <future>
#include <iterator>
#include <utility>

namespace qix::core {

const char* to_string(SessionState s) noexcept {
  switch (s) {
    case SessionState::connecting:
      return "connecting";
    case SessionState::connected:
      return "connected";
    case SessionState::closed:
      return "closed";
    case SessionState::suspended:
      return "suspended";
  }
  return "unknown";
}

const char* to_string(ReconnectOptions::Policy p) noexcept {
  switch (p) {
    case ReconnectOptions::Policy::none:
      return "none";
    case ReconnectOptions::Policy::attach:
      return "attach";
    case ReconnectOptions::Policy::resume:
      return "resume";
  }
  return "unknown";
}

// ------------------------------------------------------------------------------------------------------ Link
class Session::Link final : public TransportHandler {
 public:
  Link(std::weak_ptr<Session> s, std::uint64_t gen) : session_(std::move(s)), gen_(gen) {}
  void on_open() override {
    if (auto s = session_.lock()) s->link_open(gen_);
  }
  void on_frames(std::span<std::string> texts, bool utf8) override {
    if (auto s = session_.lock()) s->link_frames(gen_, texts, utf8);
  }
  void on_close(const CloseInfo& info) override {
    if (auto s = session_.lock()) s->link_close(gen_, info);
  }

 private:
  std::weak_ptr<Session> session_;
  std::uint64_t gen_;
};

// ------------------------------------------------------------------------------------------------ Session
std::shared_ptr<Session> Session::create(std::shared_ptr<Context> context,
                                         std::shared_ptr<Transport> transport, SessionOptions options) {
  auto s =
      std::shared_ptr<Session>(new Session(std::move(context), std::move(transport), std::move(options)));
  auto global = std::shared_ptr<Object>(new Object(s, kGlobalHandle, "Global", "", ""));
  s->objects_.emplace(kGlobalHandle, std::move(global));
  return s;
}

Session::Session(std::shared_ptr<Context> context, std::shared_ptr<Transport> transport,
                 SessionOptions options)
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
    stop_reconnect_locked();
    if (protocol_timer_) context_->cancel_timer(protocol_timer_);
  }
  if (need_close) transport_->close(close_code::normal, {});
}

void Session::report_thrown(const std::weak_ptr<Session>& weak, std::exception_ptr thrown) {
  auto s = weak.lock();
  if (!s) return;
  try {
    std::rethrow_exception(std::move(thrown));
  } catch (const std::exception& e) {
    s->report_listener_exception(std::string("a callback threw: ") + e.what());
  } catch (...) {
    s->report_listener_exception("a callback threw a non-standard exception");
  }
}

Task Session::guarded(std::function<void()> fn) {
  return [fn = std::move(fn), weak = weak_from_this()]() mutable { run_guarded(weak, fn); };
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
  std::vector<std::shared_ptr<ListenerFn<const Diagnostic&>>> fns;
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

Task Session::traffic_task(bool sent, std::string_view frame) {
  if (!options_.traffic) return {};
  return guarded(
      [this, self = shared_from_this(), sent, text = std::string(frame)] { options_.traffic(sent, text); });
}

void Session::post_traffic(bool sent, std::string_view frame) {
  if (auto task = traffic_task(sent, frame)) events_->post(std::move(task));
}

void Session::flush(Batch& batch, Batch& inline_batch) {
  for (auto& t : inline_batch) t();
  for (auto& t : batch) events_->post(std::move(t));
}

namespace {
/// A burst's events as one task of parts (EventExecutor::post_parts): one hand-off to the event thread, not
/// one per frame, which a hand-over can still split between two threads (a callback that waits for a later
/// answer of the same burst).
class BurstParts final : public Parts {
 public:
  explicit BurstParts(std::vector<detail::Event> events) : events_(std::move(events)) {}
  std::size_t size() const noexcept override { return events_.size(); }
  void run(std::size_t i) noexcept override {
    // Each event is already guarded; the try keeps one that is not from escaping.
    try {
      events_[i]();
    } catch (...) {
    }
  }

 private:
  std::vector<detail::Event> events_;
};
}  // namespace

void Session::post_burst_locked() {
  if (burst_.empty()) return;
  burst_hint_ = std::min(burst_.size(), kBurstPart);
  events_->post_parts(std::make_shared<BurstParts>(std::move(burst_)));
  burst_.clear();
}

std::shared_ptr<TransportHandler> Session::new_link_locked() {
  link_ = std::make_shared<Link>(weak_from_this(), link_gen_);
  return link_;
}

// ------------------------------------------------------------------------------------------- open / close
void Session::open(std::function<void(const Error&)> done) {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<TransportHandler> link;
  {
    std::lock_guard lock(mutex_);
    if (open_called_) {
      Error e = Error::make(ErrorKind::invalid_argument, "the session was already opened");
      if (done) events_->post(guarded([done, e] { done(e); }));
      return;
    }
    open_called_ = true;
    if (done) open_waiters_.push_back({std::move(done), false});
    link = new_link_locked();
    transport = transport_;
  }
  transport->open(link);
}

Error Session::open_sync(std::chrono::milliseconds timeout) {
  if (SerialQueue::in_dispatcher_thread() || Context::on_an_io_thread()) {
    return Error::make(ErrorKind::busy, "a blocking open from inside a callback would deadlock; use open()");
  }
  auto promise = std::make_shared<std::promise<Error>>();
  auto future = promise->get_future();
  std::shared_ptr<Transport> transport;
  std::shared_ptr<TransportHandler> link;
  {
    std::lock_guard lock(mutex_);
    if (open_called_) return Error::make(ErrorKind::invalid_argument, "the session was already opened");
    open_called_ = true;
    // Internal waiter: runs on the I/O thread, no user code.
    open_waiters_.push_back({[promise](const Error& e) { promise->set_value(e); }, true});
    link = new_link_locked();
    transport = transport_;
  }
  transport->open(link);
  if (timeout.count() > 0 && future.wait_for(timeout) != std::future_status::ready) {
    close();
    return Error::make(ErrorKind::timeout,
                       "connecting timed out after " + std::to_string(timeout.count()) + " ms");
  }
  return future.get();
}

void Session::link_open(std::uint64_t gen) {
  std::vector<OpenWaiter> waiters;
  Batch batch;
  {
    std::lock_guard lock(mutex_);
    post_burst_locked();
    if (gen != link_gen_) return;
    // A new connection: its peer has yet to show that it speaks QIX.
    peer_verified_ = false;
    if (protocol_timer_) context_->cancel_timer(protocol_timer_);
    protocol_timer_ = 0;
    if (state_ == SessionState::suspended) {
      attempt_open_locked(gen);  // a reconnect attempt got through
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
      fail_all_locked(Error::make(ErrorKind::closed, "the session was closed before the answer arrived"),
                      batch, inline_batch);
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

void Session::link_close(std::uint64_t gen, const CloseInfo& in) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    post_burst_locked();  // what the last frames caused comes before what the close causes
    if (gen != link_gen_ || state_ == SessionState::closed) return;
    if (state_ == SessionState::suspended) {
      attempt_closed_locked(in, batch, inline_batch);  // a reconnect attempt failed
    } else {
      CloseInfo info = in;
      if (!fatal_reason_.empty() && !info.by_client) {
        info.reason = info.reason.empty() ? fatal_reason_ : fatal_reason_ + "; " + info.reason;
      }
      if (!suspend_if_resumable_locked(info, batch, inline_batch)) finalize_locked(info, batch, inline_batch);
    }
  }
  flush(batch, inline_batch);
}

void Session::finalize_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch) {
  bool was_open = state_ == SessionState::connected || state_ == SessionState::suspended;
  state_ = SessionState::closed;
  stop_reconnect_locked();
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

// ------------------------------------------------------------------------------------------------- frames in
/// One frame of a burst, decoded before the session lock is taken (link_frames). Reused from burst to burst.
struct detail::InFrame {
  std::optional<Frame> frame;  // built in place: a Frame is neither copied nor moved
  bool ok = false;
  std::string err;
  Task traffic;  // the frame's entry in the traffic log, if one is kept
};

namespace {
/// What link_frames fills for a burst: its decoded frames and the list of events to run inline, reused by
/// each I/O thread (the events to post go into the session's burst_).
struct FrameBatches {
  std::vector<std::unique_ptr<detail::InFrame>> frames;  // [0, a burst's size) in use
  std::vector<detail::Event> inline_batch;

  /// The calling thread's lists while they are free, else `fallback` (the caller's own, gone with it); the
  /// thread's lists are cleared when the Use ends (their tasks have been moved out by then), keeping their
  /// capacity unless a burst made them large.
  class Use {
   public:
    explicit Use(FrameBatches& fallback) : mine_(!busy()), lists_(mine_ ? own() : fallback) {
      if (mine_) busy() = true;
    }
    ~Use() {
      if (!mine_) return;
      constexpr std::size_t kKept = 64;
      lists_.inline_batch.clear();
      if (lists_.inline_batch.capacity() > kKept) std::vector<detail::Event>().swap(lists_.inline_batch);
      if (lists_.frames.size() > kKept) lists_.frames.resize(kKept);
      busy() = false;
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    FrameBatches& lists() noexcept { return lists_; }

   private:
    static FrameBatches& own() {
      thread_local FrameBatches lists;
      return lists;
    }
    static bool& busy() {
      thread_local bool in_use = false;
      return in_use;
    }
    bool mine_;
    FrameBatches& lists_;
  };
};

}  // namespace

void Session::link_frames(std::uint64_t gen, std::span<std::string> texts, bool utf8) {
  // The burst's lists: the I/O thread's own, kept from burst to burst (no allocation per answer), unless
  // they are in use further up this thread's stack (frames handed in while others are being applied: an
  // in-memory transport answering from inside a send).
  FrameBatches local;
  FrameBatches::Use use(local);
  FrameBatches& lists = use.lists();
  while (lists.frames.size() < texts.size()) lists.frames.push_back(std::make_unique<detail::InFrame>());
  // Every frame is decoded (its result checked or parsed) before the lock: the lock is held only to apply.
  for (std::size_t i = 0; i < texts.size(); ++i) {
    detail::InFrame& in = *lists.frames[i];
    in.err.clear();
    Frame& f = in.frame.emplace();
    f.utf8 = utf8;  // checked by the transport: the parser does not check it again
    in.ok = decode_envelope(texts[i], f, &in.err);
    if (in.ok && f.has_result && !f.result) {
      // The result's DOM is built only for a call that needs one; a caller taking text gets it checked. The
      // look-up is a hint (decided again under the lock, which parses then if it must).
      bool dom = false;
      if (f.id && (f.delta || dom_pending_.load(std::memory_order_acquire) != 0)) {
        std::lock_guard lock(mutex_);
        auto it = pending_.find(*f.id);
        dom = it != pending_.end() && result_needs_dom_locked(it->second, f);
      } else if (f.id) {
        // No pending call needs a DOM whatever the frame (the C API's calls take text): the frame decides.
        dom = !f.result_plain;
      }
      in.ok = dom ? f.parse_result(&in.err) : f.check_result(&in.err);
    }
    // The traffic log sees the frame in its place among the events the burst causes.
    in.traffic = traffic_task(false, texts[i]);
  }
  Batch& inline_batch = lists.inline_batch;
  // events.inline: the session's queue taken before the lock, so that what the burst posts (and whatever
  // other threads post meanwhile, in order behind it) runs on this thread once the read's Asio handler has
  // returned. Only on the context's own I/O thread (not in a test transport's delivery inside a send).
  if (serial_ && options_.inline_events && context_->in_io_thread() && serial_->claim()) {
    context_->run_after_handler(serial_);
  }
  std::size_t next = 0;
  while (next < texts.size()) {
    std::vector<std::shared_ptr<Object>> refetch;
    bool start_resume = false;
    {
      // The events posted under the lock wake an `events.poll` host once the lock is released (`deferred`
      // ends after `lock`), not while it is held: a host on another core would run into the lock at once.
      detail::DeferredSignals deferred;
      std::lock_guard lock(mutex_);
      while (next < texts.size()) {
        const std::size_t i = next++;
        detail::InFrame& in = *lists.frames[i];
        if (state_ == SessionState::closed || gen != link_gen_) {
          if (in.traffic) events_->post(std::move(in.traffic));  // logged all the same, applied no more
          continue;
        }
        if (!apply_frame_locked(texts[i], in, inline_batch, refetch, start_resume)) break;
        // A long burst is handed on in parts, with the lock let go in between: the event thread starts on
        // the first answers (and pipelined callers send their next calls) while the rest is applied.
        if (burst_.size() >= kBurstPart) {
          post_burst_locked();
          break;
        }
      }
      // The burst's end: what its frames caused is handed on as one task.
      if (next == texts.size()) post_burst_locked();
    }
    for (auto& t : inline_batch) t();  // (the posted events left with the burst's parts)
    inline_batch.clear();
    for (auto& obj : refetch) start_watch_fetch(obj);
    if (start_resume) resume_start(gen);
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    lists.frames[i]->frame.reset();
    lists.frames[i]->traffic = nullptr;
  }
}

bool Session::apply_frame_locked(const std::string& text, detail::InFrame& in, Batch& inline_batch,
                                 std::vector<std::shared_ptr<Object>>& refetch, bool& start_resume) {
  // What the frame causes goes straight into the burst's list (held back until the burst ends; a new list is
  // made as large as the last burst's: one allocation where growing one event at a time would take a few).
  // An event is a few hundred bytes: moving each from a list of the frame's own was 8 % of a tiny call.
  Batch& batch = burst_;
  if (batch.capacity() == 0) batch.reserve(burst_hint_);
  Frame& f = *in.frame;
  const bool ok = in.ok;
  const std::string& err = in.err;
  if (in.traffic) batch.push_back(std::move(in.traffic));
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
    std::string excerpt(text.substr(0, 200));
    diagnose(Diagnostic::Kind::malformed_frame, "malformed frame ignored (" + err + "): " + excerpt, 0,
             batch);
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
    // A suspended handle's data is as stale as a changed one's; it also reports suspended() until its next
    // successful fetch.
    for (int h : f.suspend) {
      if (auto it = objects_.find(h); it != objects_.end()) it->second->suspended_ = true;
      apply_change(h, batch, refetch);
    }
    if (f.is_response()) {
      handle_response(f, batch, inline_batch);
    } else if (f.is_notification()) {
      Notification n{std::string(f.method), f.params ? detached_copy(*f.params) : json::value{},
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
        start_resume = start_resume || (restoring && reconnect_.resuming && !reconnect_.started);
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
  // Held back until the burst ends, unless something that follows here posts events of its own, which must
  // come after these.
  if (!refetch.empty() || start_resume) {
    post_burst_locked();
    return false;
  }
  if (state_ == SessionState::closed) post_burst_locked();  // the frames after this one are only logged
  return true;
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
  return reconnect_.resumes;
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
  state_listeners_.push_back(
      {id, std::make_shared<ListenerFn<SessionState, const CloseInfo*>>(std::move(fn))});
  return id;
}

ListenerId Session::on_notification(std::string method, std::function<void(const Notification&)> fn,
                                    bool replay) {
  std::lock_guard lock(mutex_);
  ListenerId id = next_listener_++;
  auto f = std::make_shared<ListenerFn<const Notification&>>(std::move(fn));
  if (replay) {
    for (auto& n : history_) {
      if (method.empty() || method == n.method) {
        events_->post(guarded([f, n] { (*f)(n); }));
      }
    }
  }
  notification_listeners_.emplace_back(std::move(method), Entry<const Notification&>{id, std::move(f)});
  return id;
}

ListenerId Session::on_diagnostic(std::function<void(const Diagnostic&)> fn) {
  std::lock_guard lock(mutex_);
  ListenerId id = next_listener_++;
  diagnostic_listeners_.push_back({id, std::make_shared<ListenerFn<const Diagnostic&>>(std::move(fn))});
  return id;
}

void Session::remove_listener(ListenerId id) {
  std::lock_guard lock(mutex_);
  detail::erase_listener(state_listeners_, id);
  detail::erase_listener(diagnostic_listeners_, id);
  notification_listeners_.erase(std::remove_if(notification_listeners_.begin(), notification_listeners_.end(),
                                               [id](const auto& p) {
                                                 if (p.second.id != id) return false;
                                                 p.second.fn->turn_off();
                                                 return true;
                                               }),
                                notification_listeners_.end());
}

void Session::move_state_listener_last(ListenerId id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(state_listeners_.begin(), state_listeners_.end(),
                         [id](const auto& e) { return e.id == id; });
  if (it != state_listeners_.end()) std::rotate(it, std::next(it), state_listeners_.end());
}

std::vector<Notification> Session::notification_history() const {
  std::lock_guard lock(mutex_);
  return {history_.begin(), history_.end()};
}

std::size_t Session::poll(std::chrono::milliseconds timeout) {
  return poll_ ? poll_->poll(timeout) : 0;
}

void Session::wake() {
  if (poll_) poll_->wake();
}

bool Session::hand_over_events() {
  if (!events_->hand_over()) return false;
  // Called from another thread, the task that was held up keeps holding the calls it made (its output
  // batch is its thread's): send them, it may be waiting for their answers.
  std::shared_ptr<Transport> transport;
  {
    std::lock_guard lock(mutex_);
    transport = transport_;
  }
  if (transport) transport->flush_held();
  return true;
}

bool Session::set_poll_ready(std::function<void()> fn) {
  if (!poll_) return false;
  poll_->set_ready_callback(std::move(fn));
  return true;
}

int Session::poll_fd() {
  if (!poll_) {
    errno = EINVAL;
    return -1;
  }
  return poll_->ready_fd();
}

}  // namespace qix::core
