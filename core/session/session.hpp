// Session: one WebSocket to one engine (one app), the JSON-RPC correlation, the handle registry with its
// object proxies (session/object.hpp), change/close tracking, delta caches, notifications and event delivery.
// Its implementation: session.cpp (lifecycle, frames in, events, queries), call.cpp (the one call path and
// the answers), object.cpp (proxies, changes, watch), peer_check.cpp, reconnect.cpp.
//
// Threads: every public member function is thread-safe and never blocks, except call_sync()/open_sync().
// Frames are decoded and applied on the context's I/O thread; user callbacks (completions, listeners)
// run on the session's event executor: a SerialQueue on the context's dispatcher pool (default), or a
// PollQueue that the host drains with poll() (SessionOptions::poll_events). Callbacks of one session run
// one at a time, in the order the frames that caused them arrived. A callback must not block for long
// (it delays this session's later events) and must not call call_sync() (it gets ErrorKind::busy).
#pragma once

#include "json/json.hpp"
#include "rpc/error.hpp"
#include "session/adaptive_mutex.hpp"
#include "session/context.hpp"
#include "session/object.hpp"
#include "transport/transport.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace qix::core {

struct Frame;

struct Notification {
  std::string method;
  json::value params;
  std::chrono::system_clock::time_point received;
};

/// connecting → connected → (suspended → connected)* → closed. `suspended` exists only with a reconnect
/// policy: the connection dropped and the session is being restored (see ReconnectOptions).
enum class SessionState { connecting, connected, closed, suspended };
const char* to_string(SessionState s) noexcept;

/// Things that went wrong without belonging to a call: reported, never fatal.
struct Diagnostic {
  enum class Kind {
    malformed_frame,     ///< A received frame was not valid JSON-RPC.
    unknown_id,          ///< A response whose id matches no call.
    late_answer,         ///< The answer to a call that was cancelled or timed out (kept for delta bases).
    listener_exception,  ///< A user callback threw; the exception was caught.
  };
  Kind kind;
  std::string message;
  std::int64_t id = 0;
};

/// Automatic reconnection after the connection drops, and what is restored on the new connection.
///
/// Which drops are resumed is decided by the close code: 1000 and 4000 never (the session was ended on
/// purpose); 4001 (idle timeout), 4002 (license), 4005 (session limit), 4006 (authentication failed),
/// 1009 (message too big) and fatal proxy notifications (except OnEngineWebsocketFailed and
/// OnNoEngineAvailable, about the proxy's link to an engine) do not resume, and the close reason says why;
/// 4003 (engine terminating), 4007 (app mode changed), 1001, 1006 (no close frame), 1011-1014 resume with
/// exponential back-off up to `max_attempts`; 4004 (app deleted) tries once. Every other code closes.
///
/// A resume opens a new connection, waits for the engine's OnConnected (qSessionState SESSION_ATTACHED or
/// SESSION_CREATED; at most `greeting_wait`), then: the doc with GetActiveDoc, falling back to the call
/// that opened it (OpenDoc with its original arguments; "App already open" (1002) tries GetActiveDoc once
/// more); each open object by its id (GetObject, GetDimension, GetMeasure, GetBookmark, GetVariableById;
/// GetField and other Get* acquisitions are repeated as first made); session objects (CreateSessionObject,
/// CreateSessionVariable) are re-created from their last known properties (those created or set by this
/// client, or last read with GetProperties) unless the engine attached the old session. All those calls are
/// pipelined. The Object proxies stay the same: their handle is swapped underneath, their data is marked
/// stale and their "changed" listeners run (watchers refetch). Objects that cannot be restored (a session
/// app or a session object's child after SESSION_CREATED, objects created by methods that are not safe to
/// repeat) are closed. If the doc cannot be restored, the session closes with the reason.
struct ReconnectOptions {
  enum class Policy {
    none,    ///< A drop closes the session (the default).
    attach,  ///< Resume only when the engine attached the old session (SESSION_ATTACHED); else close.
    resume,  ///< Resume in any case, re-opening the doc and re-creating session objects if needed.
  };
  Policy policy = Policy::none;
  int max_attempts = 5;                          ///< Connection attempts per drop (4004: always 1).
  std::chrono::milliseconds initial_delay{200};  ///< Before the first attempt; doubled after each failure,
  std::chrono::milliseconds max_delay{5000};     ///< up to this (±20 % jitter).
  /// How long a new connection waits for the OnConnected notification before resuming without it
  /// (treated as SESSION_CREATED).
  std::chrono::milliseconds greeting_wait{1000};
  /// Calls made while suspended wait for the resume and are then sent on the new connection (bounded by
  /// their call timeout and by the attempt limit); false: they fail at once with ErrorKind::connection_lost.
  bool queue_calls = true;
  /// Calls in flight when the connection dropped are sent again after the resume (they may then run twice
  /// on the engine; use for read-only work). False: they complete with ErrorKind::connection_lost.
  bool resend_in_flight = false;
  /// Makes the transport of each new connection (same URL, headers and TLS as the first). Required for any
  /// policy but none.
  std::function<std::shared_ptr<Transport>()> transport;
};
const char* to_string(ReconnectOptions::Policy p) noexcept;

struct SessionOptions {
  bool delta = true;                          ///< Default of CallOptions::delta (enigma.js's default too).
  std::chrono::milliseconds call_timeout{0};  ///< Default per-call timeout; 0 = none.
  std::size_t notification_history = 64;      ///< Notifications kept for late subscribers.
  bool poll_events = false;                   ///< Deliver events through poll() instead of the dispatcher.
  /// Deliver a read's events on the I/O thread that read it, once the read's handler has returned (outside
  /// the session's lock and the connection's strand), when the session's queue has nothing else to do;
  /// through the dispatcher otherwise. Saves the hand-off to a dispatcher thread per read. A callback that
  /// must block hands its queue over first (hand_over_events: the thread leaves the I/O role and another
  /// takes it); one held up without that is relieved by the context's watch (Context) within about 20 ms.
  /// On by default; false: every event through the dispatcher (the bindings, whose callbacks run their
  /// users' code). Ignored with poll_events.
  bool inline_events = true;
  /// Watch throttle: a watched object's layout is fetched at most once per this interval (the first
  /// change after a quiet period is fetched at once; later ones wait for the interval to end, so a
  /// burst of changes costs at most two fetches). 0 = fetch after every change.
  std::chrono::milliseconds watch_min_interval{0};
  /// Traffic log: every frame as sent (`sent` true) or received, on the event executor. Frames never
  /// contain HTTP headers, so no credentials; the text is the exact wire text.
  std::function<void(bool sent, std::string_view frame)> traffic;
  ReconnectOptions reconnect;
  /// How long a server has, from the first request sent on a connection, to send a QIX JSON-RPC frame
  /// (its OnConnected greeting or any answer) before the session ends with ErrorKind::protocol ("the
  /// server at ... does not speak the QIX protocol"). A first frame that is not QIX JSON-RPC (not JSON-RPC
  /// 2.0, or a request such as an echo of the client's own) ends it at once. 0 = no bound (an engine
  /// older than 12.20, which sends no greeting, with a first call slower than the bound).
  std::chrono::milliseconds protocol_timeout{5000};
  /// Retry policy for engine error 15 (LOCERR_GENERIC_ABORTED: a calculation aborted, typically by a
  /// selection made meanwhile): the call is sent again, with the same request id, up to this many times.
  /// Calls the client cancelled are never retried. 0 = report the error (the default).
  int retry_aborted = 0;
};

class Session;

namespace detail {
struct InFrame;  // one frame of a burst, decoded before the session lock is taken (session.cpp)
/// A call's completion as the events of a frame hold it: the callback and its result, side by side.
struct Completion {
  CallCallback cb;
  CallResult result;
  std::weak_ptr<Session> session;  ///< the session a guarded callback reports what it throws to
  bool guarded = false;            ///< a user callback (guarded); else one of the core's, run as it is
};

/// One of the events a frame, a burst of frames or a close collects for the event thread (or to run
/// inline once the session's lock is released): a task, or a call's completion held as it is, so that a
/// completion (most of what a busy session's frames bring) costs no heap allocation of its own, as a
/// std::function around a callback and a result would. Run once; not thread-safe.
class Event {
 public:
  Event() = default;
  /// A task: anything a Task is made of (implicit, as a Task would be).
  template <class F,
            std::enable_if_t<!std::is_same_v<std::decay_t<F>, Event> && std::is_constructible_v<Task, F&&>,
                             int> = 0>
  Event(F&& task) : v_(std::in_place_type<Task>, std::forward<F>(task)) {}
  explicit Event(Completion c) : v_(std::in_place_type<Completion>, std::move(c)) {}
  /// Runs the task, or the completion's callback with its result (guarded when it is a user callback).
  void operator()();

 private:
  std::variant<Task, Completion> v_;
};
}  // namespace detail

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// Creates a session over `transport` (not yet opened). `context` runs its timers and events.
  static std::shared_ptr<Session> create(std::shared_ptr<Context> context,
                                         std::shared_ptr<Transport> transport, SessionOptions options = {});
  ~Session();

  /// Opens the transport. `done` runs on the event executor with an empty Error once connected, or the
  /// failure. Call once.
  void open(std::function<void(const Error&)> done);
  /// Blocking open; `timeout` zero waits forever. Returns the failure, or an empty Error.
  Error open_sync(std::chrono::milliseconds timeout);
  /// Closes the connection (code 1000). Pending calls fail with ErrorKind::closed, objects become zombies.
  /// Idempotent; returns at once (the close completes on the I/O thread). While suspended it also stops
  /// reconnecting: the session is closed when close() returns.
  void close();

  /// Sends `method` to `handle` (-1 = Global) with params given as JSON text (an array or an object; empty
  /// = []). The text is sent as is: validate it first when it comes from outside (see validate_params).
  /// Returns the request id (> 0), known before the answer, for cancel() and GetProgress. `cb` runs once on
  /// the event executor. On an immediate failure (closed session, unknown handle, zombie object) the id is
  /// still returned and `cb` gets the error; so does `*refused` when given (decided under the session's
  /// lock with the call, so it says exactly whether this call was refused: no separate look at the state
  /// before or after can).
  std::int64_t call(int handle, std::string_view method, std::string_view params_json, CallOptions opts,
                    CallCallback cb, Error* refused = nullptr);
  /// Blocking call. From inside a callback of any session it fails with ErrorKind::busy instead of waiting.
  CallResult call_sync(int handle, std::string_view method, std::string_view params_json,
                       CallOptions opts = {});
  /// Cancels a pending call: sends Global.CancelRequest, completes the call at once with
  /// ErrorKind::cancelled; the engine's later answer (usually code 15) is consumed (Diagnostic late_answer).
  /// Returns false when the call is not pending (already completed or unknown).
  bool cancel(std::int64_t id);

  /// Checks that `params_json` is a JSON array or object (or empty). Returns the error to report, if any.
  static Error validate_params(std::string_view params_json);

  /// The proxy for `handle` (the Global object for -1), or nullptr when the handle is not open.
  std::shared_ptr<Object> object(int handle) const;
  std::shared_ptr<Object> global() const { return object(kGlobalHandle); }
  /// The doc opened by this session (OpenDoc, CreateSessionApp, GetActiveDoc ...), if any.
  std::shared_ptr<Object> doc() const;

  SessionState state() const;
  /// True once close() was called (or the session closed): calls fail with ErrorKind::closed from then
  /// on, and objects report closed(), even before the state event says closed.
  bool closing() const;
  /// Why the session closed (valid once state() is closed).
  std::optional<CloseInfo> close_info() const;
  std::size_t pending_calls() const;
  /// Pending calls whose answer will be parsed into a DOM whatever the frame says (a caller taking a DOM, the
  /// session's own steps); while there are none, an answer's reader takes the session lock once instead of
  /// twice. For tests and diagnostics. Thread-safe.
  int dom_pending_calls() const noexcept { return dom_pending_.load(); }

  /// State changes, on the event executor: (connected, nullptr) once open; (suspended, &drop) when a
  /// reconnect policy starts restoring the session; (connected, &drop) when it was restored ("resumed");
  /// (closed, &info) last.
  ListenerId on_state(std::function<void(SessionState, const CloseInfo*)> fn);
  /// The qSessionState of the engine's last OnConnected notification ("SESSION_CREATED",
  /// "SESSION_ATTACHED"), or "" before any.
  std::string engine_session_state() const;
  /// Number of times the session was resumed after a drop.
  int resume_count() const;
  /// Subscribes to notifications named `method` ("" = all). With `replay`, those already in the history are
  /// delivered first (e.g. OnConnected, OnAuthenticationInformation).
  ListenerId on_notification(std::string method, std::function<void(const Notification&)> fn,
                             bool replay = true);
  ListenerId on_diagnostic(std::function<void(const Diagnostic&)> fn);
  /// Removes a listener: events already queued for it are dropped (it is not called once this returns, unless
  /// a call of it is already running on another thread).
  void remove_listener(ListenerId id);
  /// Makes state listener `id` the last one called for later state events; events already queued for it still
  /// reach it. No-op for an unknown id.
  void move_state_listener_last(ListenerId id);
  std::vector<Notification> notification_history() const;

  /// With SessionOptions::poll_events: runs queued events on the calling thread (see PollQueue::poll).
  /// Returns 0 at once when the session delivers through the dispatcher.
  std::size_t poll(std::chrono::milliseconds timeout);
  void wake();
  /// With SessionOptions::poll_events: the descriptor that is readable while poll() has something to take
  /// (PollQueue::ready_fd). -1 with errno set when it cannot be created, EINVAL without poll_events.
  int poll_fd();
  /// With SessionOptions::poll_events: calls `fn` each time poll() gets something to take
  /// (PollQueue::set_ready_callback; an empty `fn` removes it, waiting for a call running elsewhere). False
  /// without poll_events.
  bool set_poll_ready(std::function<void()> fn);
  /// Hands the session's event delivery over (SerialQueue::hand_over): false in poll mode or when none of
  /// its events is being delivered.
  bool hand_over_events();

  const SessionOptions& options() const noexcept { return options_; }
  const std::shared_ptr<Context>& context() const noexcept { return context_; }

 private:
  friend class Object;
  friend class detail::Event;  // runs completions guarded (run_guarded)
  class Link;  // one connection's TransportHandler: forwards its events tagged with its generation
  Session(std::shared_ptr<Context> context, std::shared_ptr<Transport> transport, SessionOptions options);

  /// Held by a Pending counted in dom_pending_: gives its count back when that Pending is destroyed (erased,
  /// cleared, or taken out of the map and done with), and moves with it. Moved-from: counts nothing.
  class DomCount {
   public:
    DomCount() = default;
    explicit DomCount(std::atomic<int>* counter) noexcept : counter_(counter) { counter_->fetch_add(1); }
    DomCount(DomCount&& o) noexcept : counter_(std::exchange(o.counter_, nullptr)) {}
    DomCount& operator=(DomCount&& o) noexcept {
      if (this != &o) {
        release();
        counter_ = std::exchange(o.counter_, nullptr);
      }
      return *this;
    }
    DomCount(const DomCount&) = delete;
    DomCount& operator=(const DomCount&) = delete;
    ~DomCount() { release(); }
    bool counted() const noexcept { return counter_ != nullptr; }

   private:
    void release() noexcept {
      if (counter_) counter_->fetch_sub(1);
      counter_ = nullptr;
    }
    std::atomic<int>* counter_ = nullptr;
  };

  struct Pending {
    int handle = kGlobalHandle;
    std::string method;
    CallCallback cb;
    bool inline_cb = false;  // run on the I/O thread (internal completions, sync waiters)
    bool delta = false;
    bool fetch = false;
    bool abandoned = false;  // cancelled or timed out: the answer is consumed (and reported as late)
    bool internal = false;   // our own fire-and-forget request (CancelRequest): nothing to report
    bool opens_doc = false;
    bool raw = false;          // internal (reconnect) call: result handed over as is, no objects adopted
    bool text_result = false;  // CallOptions::text_result
    bool queued = false;       // not sent yet: waits for the session to resume
    int retries_left = 0;      // error-15 retries (SessionOptions::retry_aborted)
    std::string params;        // kept when it may have to be sent again (reconnect, retry)
    std::chrono::milliseconds timeout{0};
    std::uint64_t gen = 0;
    Context::TimerId timer = 0;
    std::shared_ptr<Object> target;
    DomCount dom_count;  ///< set while counted in dom_pending_ (its answer needs a DOM whatever the frame)
  };
  template <class... A>
  struct Entry {
    ListenerId id;
    std::shared_ptr<ListenerFn<A...>> fn;
  };
  using Batch = std::vector<detail::Event>;
  Batch burst_;  ///< events of the frames of the transport's current burst (link_frames); guarded by mutex_
  static constexpr std::size_t kBurstPart = 16;  ///< a burst's events are posted at least this often
  std::size_t burst_hint_ = 1;  ///< the last posted burst's size, at most kBurstPart (guarded by mutex_)

  // session.cpp: lifecycle, frames in, event delivery.
  void link_open(std::uint64_t gen);
  /// The frames of one read (a burst): each decoded before the lock, then applied with the lock taken once
  /// per kBurstPart events they cause (not once per frame), their events posted at each part's end.
  void link_frames(std::uint64_t gen, std::span<std::string> texts, bool utf8);
  /// Applies one decoded frame (invalidations, answer or notification). False when work must be done
  /// outside the lock before the next frame (refetches, a resume to start). The events it causes go into
  /// burst_ (inline ones into inline_batch). Lock held.
  bool apply_frame_locked(const std::string& text, detail::InFrame& in, Batch& inline_batch,
                          std::vector<std::shared_ptr<Object>>& refetch, bool& start_resume);
  /// Posts the events held back from the frames of the current burst, as one task. Lock held.
  void post_burst_locked();
  void link_close(std::uint64_t gen, const CloseInfo& info);
  std::shared_ptr<TransportHandler> new_link_locked();  // a Link for connection link_gen_, kept in link_
  void finalize_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch);
  void fail_all_locked(const Error& error, Batch& batch, Batch& inline_batch);
  void flush(Batch& batch, Batch& inline_batch);  // unlocked: runs inline_batch, posts batch
  void report_listener_exception(std::string message);
  void diagnose(Diagnostic::Kind kind, std::string message, std::int64_t id, Batch& batch);
  Task guarded(std::function<void()> fn);
  /// Runs `fn` (a user callback); what it throws is reported to the session's listener-exception handler
  /// (when the session still exists) instead of escaping onto the event thread.
  template <class F>
  static void run_guarded(const std::weak_ptr<Session>& weak, F& fn) {
    try {
      fn();
    } catch (...) {
      report_thrown(weak, std::current_exception());
    }
  }
  static void report_thrown(const std::weak_ptr<Session>& weak, std::exception_ptr thrown);
  /// The traffic callback's task for one frame, or an empty Task when there is no callback.
  Task traffic_task(bool sent, std::string_view frame);
  void post_traffic(bool sent, std::string_view frame);

  // call.cpp: the one call path and the answers.
  /// Who asks start_call for a call, which says how its target is found and refused.
  enum class CallVia {
    handle,  ///< Session::call/call_sync: the target is the object open at `handle`, looked up under the lock
    object,  ///< Object::call/call_sync: `target`, refused first when it or its session is closing or closed
    internal,  ///< a watch fetch: `target`, refused like a call by handle
  };
  /// The one call path: Session::call/call_sync, Object::call/call_sync and watch fetches all end here,
  /// taking mutex_ once (the target's lookup and its refusal included: the event thread meets the I/O thread
  /// on this lock once per call). `target` is the object called (its handle is read under the lock: a
  /// reconnect may have swapped it); with CallVia::handle it is found by `handle` (refused when no object is
  /// open there). Every refusal goes to `cb`: an Object's own (closed object, closing or closed session; id
  /// 0, as before the call has one) and the rest (closed or suspended session, empty method, unknown handle,
  /// zombie, a second doc) with a request id. `inline_cb`: `cb` is internal (a sync waiter, a watch fetch)
  /// and runs on the calling thread or the I/O thread. Locks mutex_.
  std::int64_t start_call(CallVia via, std::shared_ptr<Object> target, int handle, std::string_view method,
                          std::string_view params_json, CallOptions opts, CallCallback cb, bool inline_cb,
                          Error* refused = nullptr);
  /// The blocking form of a call: runs `start` with an inline completion and waits for it. From a
  /// dispatcher thread it fails with ErrorKind::busy at once, without calling `start`.
  static CallResult wait_for(const std::function<void(CallCallback)>& start);
  static Error closed_object_error(int handle);        // "the object with handle N is closed"
  std::string cancel_request_locked(std::int64_t id);  // registers a CancelRequest for `id`; its frame
  /// cancel() and call timeouts: completes pending call `id` now (ErrorKind::cancelled or timeout) and
  /// abandons it: a queued call (never sent) is dropped; a sent one stays, marked, until its answer
  /// arrives, and the engine is sent a CancelRequest (a timeout: only while connected). False when `id` is
  /// not pending.
  bool abandon(std::int64_t id, bool timed_out);  // unlocked
  void on_timeout(std::int64_t id);               // unlocked
  /// Sends `frame` on `transport` and to the traffic log; nothing for "" or null. With or without the lock
  /// (Transport::send never calls back into the session).
  void send(const std::shared_ptr<Transport>& transport, std::string frame);
  void deliver(Pending& p, CallResult result, Batch& batch, Batch& inline_batch);
  /// pending_.emplace(id, move(p)), in a spare node when there is one, counted in dom_pending_ when its
  /// answer needs a DOM whatever the frame. Under mutex_.
  void add_pending_locked(std::int64_t id, Pending&& p);
  /// The part of result_needs_dom_locked that does not depend on the frame.
  static bool needs_dom_always(const Pending& p);
  void handle_response(Frame& f, Batch& batch, Batch& inline_batch);
  /// Whether the answer `f` to `p` must be parsed into a DOM (the core reads it, or the caller wants one).
  bool result_needs_dom_locked(const Pending& p, const Frame& f) const;
  std::shared_ptr<Object> adopt_reference(json::value& qreturn, const Pending& p, Error& error);

  // object.cpp: how changes and closes reach the proxies; watch fetches.
  void apply_change(int handle, Batch& batch, std::vector<std::shared_ptr<Object>>& refetch);
  void close_object(const std::shared_ptr<Object>& obj, Batch& batch);
  void start_watch_fetch(const std::shared_ptr<Object>& obj);  // unlocked

  // peer_check.cpp: a server that does not speak QIX. The first frame of each connection is judged, and a
  // connection that answers nothing within protocol_timeout of the first request is given up.
  bool first_frame_is_qix_locked(bool decoded, const Frame& f, const std::string& err,
                                 const std::string& text, std::string& why) const;
  void arm_protocol_timer_locked();
  void on_protocol_timeout(std::uint64_t gen);  // unlocked
  void not_qix_locked(const std::string& why, Batch& batch, Batch& inline_batch);

  // reconnect.cpp (all with the lock held unless noted).
  /// A connected session's connection closed: suspends it when the policy resumes after `info` and returns
  /// true; else returns false (with "not resumed: why" added to info.reason when the policy refused).
  bool suspend_if_resumable_locked(CloseInfo& info, Batch& batch, Batch& inline_batch);
  void suspend_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch);
  void schedule_attempt_locked();
  void attempt();                               // unlocked
  void attempt_open_locked(std::uint64_t gen);  // an attempt's connection opened: wait for the greeting
  /// An attempt's connection failed, or dropped while restoring: another attempt, or give up.
  void attempt_closed_locked(const CloseInfo& info, Batch& batch, Batch& inline_batch);
  void give_up_locked(const std::string& why, Batch& batch, Batch& inline_batch);
  void stop_reconnect_locked();          // cancels the attempt and resume timers (the session closes)
  void resume_start(std::uint64_t gen);  // unlocked
  void resume_doc_answer(std::uint64_t gen, int stage, CallResult& r);  // unlocked
  void resume_objects_locked(std::uint64_t gen, Batch& batch, Batch& inline_batch);
  void finish_resume_locked(Batch& batch, Batch& inline_batch, std::vector<std::shared_ptr<Object>>& refetch);
  void send_internal_locked(int handle, std::string method, std::string_view params,
                            std::function<void(CallResult&)> cb);
  void remember_origin_locked(Object& obj, const Pending& p);  // a new proxy: how it was obtained
  void note_properties_locked(Object& obj, const Pending& p, const json::value* result);

  const std::shared_ptr<Context> context_;
  const SessionOptions options_;
  std::shared_ptr<SerialQueue> serial_;
  std::shared_ptr<PollQueue> poll_;
  EventExecutor* events_ = nullptr;

  mutable AdaptiveMutex mutex_;
  std::shared_ptr<Transport> transport_;  // the current connection's; replaced by each reconnect attempt
  std::shared_ptr<Link> link_;
  std::uint64_t link_gen_ = 0;
  SessionState state_ = SessionState::connecting;
  bool closing_ = false;        // close() was called
  bool peer_verified_ = false;  // this connection's peer has sent a QIX JSON-RPC frame
  Context::TimerId protocol_timer_ = 0;
  std::string engine_state_;  // qSessionState of the last OnConnected
  /// Reconnect state (ReconnectOptions; reconnect.cpp), guarded by mutex_: the drop being recovered from,
  /// the attempts made since, and the resume running on a new connection.
  struct ReconnectState {
    CloseInfo drop;          // why the connection dropped (while suspended)
    int attempts = 0;        // connection attempts since the drop
    int max_attempts = 0;    // for this drop
    int resumes = 0;         // drops recovered from (resume_count())
    bool resuming = false;   // a new connection is open and the resume steps run on it
    bool started = false;    // the resume steps were started on this connection
    int outstanding = 0;     // resume calls not answered yet
    std::string last_error;  // why the last attempt failed
    std::vector<std::pair<std::shared_ptr<Object>, int>> restored;  // object, new handle
    std::vector<std::shared_ptr<Object>> unrestorable;
    Context::TimerId attempt_timer = 0;  // the next connection attempt
    Context::TimerId resume_timer = 0;   // the greeting wait, then the resume watchdog
    std::uint64_t next_seq = 0;  // creation order of proxies (Object::seq_): parents are restored first
  };
  ReconnectState reconnect_;
  bool open_called_ = false;
  std::optional<CloseInfo> close_info_;
  std::string fatal_reason_;
  std::string fatal_method_;
  std::int64_t next_id_ = 1;
  /// How many pending calls need their answer's DOM whatever the frame says (needs_dom_always): while none
  /// does, a frame's reader decides DOM or check from the frame alone, without taking mutex_ (link_frames).
  /// A hint only: the decision is made again under mutex_. Kept by each Pending's DomCount, so
  /// declared before pending_: it outlives the Pendings when the session is destroyed.
  std::atomic<int> dom_pending_{0};
  std::unordered_map<std::int64_t, Pending> pending_;
  /// Nodes of pending_ taken out by answers, kept for the next calls (add_pending_locked), so that a steady
  /// stream of calls allocates no map node per call. At most kSpareNodes; their Pendings are moved-from.
  std::vector<std::unordered_map<std::int64_t, Pending>::node_type> spare_nodes_;
  static constexpr std::size_t kSpareNodes = 64;
  std::unordered_map<int, std::shared_ptr<Object>> objects_;
  int doc_handle_ = 0;  // 0 = none
  bool doc_opening_ = false;
  using OpenWaiter = std::pair<std::function<void(const Error&)>, bool>;  // bool: run inline (internal)
  std::vector<OpenWaiter> open_waiters_;
  std::deque<Notification> history_;
  ListenerId next_listener_ = 1;
  std::vector<Entry<SessionState, const CloseInfo*>> state_listeners_;
  std::vector<std::pair<std::string, Entry<const Notification&>>> notification_listeners_;
  std::vector<Entry<const Diagnostic&>> diagnostic_listeners_;
};

}  // namespace qix::core
