// The Go binding's bridge: a small C++ layer, wrapped by SWIG next to the facade (qix/qix.hpp), that
// lets Go receive libqix's events with C calling Go at two places only: "your inbox has events" and "your
// asynchronous call is answered".
//
// Why: cgo forbids C from keeping Go pointers, and a C thread calling into Go (SWIG directors) makes every
// callback a place where Go's rules can be broken. So the callbacks of a Conn's session (call completions,
// object "changed"/"closed", state, notifications, the traffic log) are trampolines below that only copy
// what they got into the Conn's inbox; the session's poll goroutine takes the events out (Conn::take,
// Conn::next) and fans them out to Go channels. Callback payloads are integer tokens chosen by Go (or, for
// objects, by the bridge), never Go pointers.
//
// Where they run: the session keeps libqix's default, `events.inline`: its callbacks run on the I/O thread
// that read the frames (or on a dispatcher thread after a hand-over), one at a time and in order, and every
// session of the binding lives on one context whose threads Go started (go_context: qix_context_new_hosted,
// each thread a goroutine locked to its OS thread, running libqix's thread body in a cgo call): calling Go
// from such a thread costs about as much as a cgo call (well under a microsecond), where calling it from a
// thread Go did not start costs a new Go thread's set-up each time (about 10 µs). The calls into Go:
//   - qixgoInboxReady(key): the inbox went from empty to not empty (the poll goroutine parks on a channel
//     between bursts; a non-blocking channel send, so it never blocks libqix);
//   - qixgoCallsDone(key, records, len, count, handed_over, next, rest_deferred): asynchronous calls
//     (Go's XxxAsync methods, Conn::call_batch records with the async flag) that succeeded with plain
//     results in one run of callbacks, kept by their completions (gather) and handed over together at
//     the run's end (qix_after_callbacks: one crossing per burst of answers): Go decodes each and runs
//     the caller's function right there, on libqix's thread, and issues the calls those functions make
//     together when they are done (they leave in one write with the burst's: libqix's output batch is
//     still open). Go writes the offset of the record after the one whose function runs into `next`;
//     when that function is about to block, qixgo_hand_over_here makes the records from there a run of
//     their own that goes along with the hand-over (defer_rest) and sets `rest_deferred`: Go stops there;
//   - qixgoCallDone(key, token, body, len): the same for one result, at once, where the completion cannot
//     keep it (no run that qix_after_callbacks serves, another session's run).
//   Other outcomes of an asynchronous call (errors, results that carry an object) take the inbox like a
//   waited-for call's.
// key names the Go session (package qix's table of sessions: never a Go pointer); Go ignores a key whose
// session is gone.
//
// Blocking inside the asynchronous function would hold the session's later events (and, on the I/O thread,
// every socket of the context) behind it: the Go side calls qixgo_hand_over_here()
// (qix_session_hand_over_events for the session whose functions run on this thread) before it blocks, as
// the Java and C# bindings do.
//
// One exception to "copy into the inbox": a bulk extraction (Conn::extract) gives its rows to a bounded
// buffer of its own (an Extraction) that the reading goroutine pulls from, and its row callback waits
// while that buffer is full (back-pressure; see docs/go.md, "Bulk extraction"), having stepped aside from
// the I/O role first (qix_io_step_aside: another thread reads the context's sockets meanwhile).
//
// Errors never cross SWIG as C++ exceptions: functions that can fail synchronously return a new
// qix::Error (NULL on success) or push the failure into the inbox as the event the caller waits for.
//
// Threads: every member function may be called from any thread, except that next()/take() must be called
// by one thread (goroutine) at a time, and the destructor only once nothing else uses the Conn.
#ifndef QIX_GO_BRIDGE_HPP
#define QIX_GO_BRIDGE_HPP

#include "qix/qix.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace qixgo {

/** Kinds of Event. */
enum EventKind {
  EVENT_NONE = 0,          /**< No event (Conn::next found the inbox empty). */
  EVENT_OPENED = 1,        /**< Conn::open finished: status() is QIX_OK or the failure (error()). */
  EVENT_RESULT = 2,        /**< A call completed: token() is the call's token. */
  EVENT_CHANGED = 3,       /**< An object's layout became invalid: token() is the object's token. */
  EVENT_OBJECT_CLOSED = 4, /**< An object's engine handle was released: token() is the object's token. */
  EVENT_STATE = 5,         /**< The session's state changed: state(), close_code(), text() (the reason). */
  EVENT_NOTIFICATION = 6,  /**< A notification: token() is the subscription's, text() the method, params(). */
  EVENT_TRAFFIC = 7,       /**< A frame as sent (sent()) or received: text() is the wire text. */
  EVENT_LAYOUT = 8         /**< A watched object's fresh layout (json() is the qLayout) or its fetch's failure
                                (status(), error()): token() is the watch's. */
};

#ifndef SWIG
// Exported by package qixswig (hosted.go), defined in cgo's generated code.
extern "C" int qixgoStartThread(uintptr_t body, uintptr_t arg);
extern "C" void qixgoInboxReady(uintptr_t key);
extern "C" void qixgoCallDone(uintptr_t key, uint64_t token, const char* body, size_t len);
extern "C" void qixgoCallsDone(uintptr_t key, const char* records, size_t len, int64_t count,
                               int* handed_over, int64_t* next, int* rest_deferred);

/** Runs a libqix thread's body: called by the goroutine that qixgoStartThread started (hosted.go). */
extern "C" void qixgo_run_thread_body(uintptr_t body, uintptr_t arg) {
  reinterpret_cast<qix_thread_body>(body)(reinterpret_cast<void*>(arg));
}

namespace detail {
/** A copy of the calling thread's last libqix error (read in the same C++ call that failed). */
inline qix::Error last_error(int status) {
  return qix::Error(status, qix_error_last());
}
}  // namespace detail
#endif

/** One event taken out of a Conn's inbox. Owned by Go (a reusable holder passed to Conn::next). */
class Event {
 public:
  Event() = default;

  int kind() const { return kind_; }
  /** The token the event belongs to (a call's, an object's or a subscription's). */
  uint64_t token() const { return token_; }
  /** EVENT_OPENED, EVENT_RESULT: QIX_OK or a negative QIX_E* status. */
  int status() const { return plain_ ? QIX_OK : error_ ? error_->status() : result_.status(); }
  /** EVENT_RESULT: the request id. */
  int64_t id() const { return result_.id(); }
  /** EVENT_RESULT: the unwrapped result (qReturn, the single out value, or the whole result) as JSON text.
   *  (For a call issued with raw, the whole result object: the one text the call asked for.) */
  std::string json() const { return plain_ ? body_ : result_.json(); }
  /** EVENT_RESULT: the engine's whole result object as JSON text. (For a call issued without raw, the
   *  unwrapped result: the one text the call asked for.) */
  std::string raw() const { return plain_ ? body_ : result_.raw(); }
  /** The failure of an EVENT_OPENED or EVENT_RESULT; NULL on success. Borrowed: lives as long as the
   *  event. */
  const qix::Error* error() const {
    if (plain_) return nullptr;
    if (error_) return error_.get();
    return result_.status() != QIX_OK ? &result_.error() : nullptr;
  }
  /** EVENT_RESULT: true when the result refers to an object, which the bridge already listens to. */
  bool has_object() const { return static_cast<bool>(object_); }
  /** EVENT_RESULT: the object's token (its "changed"/"closed" events carry it). */
  uint64_t object_token() const { return object_token_; }
  /**
   * EVENT_RESULT: hands the object to the caller (a new reference to delete; NULL when none or already
   * taken). Its listeners stay registered until it is deleted.
   */
  qix::Object* take_object() { return object_.release(); }
  /** EVENT_STATE: a qix_state. */
  int state() const { return state_; }
  /** EVENT_STATE (closed): the WebSocket close code. */
  int close_code() const { return close_code_; }
  /** EVENT_STATE: the close reason; EVENT_NOTIFICATION: the method; EVENT_TRAFFIC: the frame. */
  std::string text() const { return text_; }
  /** EVENT_NOTIFICATION: the params as JSON text. */
  std::string params() const { return params_; }
  /** EVENT_TRAFFIC: true for a frame sent by the client. */
  bool sent() const { return sent_; }

#ifndef SWIG
  Event(int kind, uint64_t token) : kind_(kind), token_(token) {}
  /** Whether Conn::take() passes it as a record: a successful EVENT_RESULT without object (its one text in
   *  body_, not in result_), EVENT_CHANGED, EVENT_OBJECT_CLOSED. */
  bool is_plain() const {
    return plain_ || kind_ == EVENT_CHANGED || kind_ == EVENT_OBJECT_CLOSED;
  }
  int kind_ = EVENT_NONE;
  uint64_t token_ = 0;
  bool plain_ = false;  // a successful EVENT_RESULT without object: its text is body_
  std::string body_;
  qix::Result result_;
  std::shared_ptr<qix::Error> error_;
  std::unique_ptr<qix::Object> object_;
  uint64_t object_token_ = 0;
  int state_ = 0;
  int close_code_ = 0;
  std::string text_;
  std::string params_;
  bool sent_ = false;
#endif
};

#ifndef SWIG
namespace detail {

/** Object tokens chosen by the bridge have the top bit set; Go's own tokens never do. */
constexpr uint64_t kObjectTokenBit = uint64_t(1) << 63;

/** What the trampolines write to: shared by the Conn and every payload that may outlive it. */
class Inbox : public std::enable_shared_from_this<Inbox> {
 public:
  /** Guards the extractions' buffers and flags below; flow_cv is signalled whenever one changes. */
  std::mutex flow_mutex;
  std::condition_variable flow_cv;
  /** Calls issued by Conn::call_batch whose outcome Go has not taken yet (an EVENT_RESULT still in the
   * inbox, or an asynchronous call's success not yet handed to Go). While there is one, a full
   * extraction buffer does not block the row callback (see Extraction). Changed without flow_mutex (two
   * changes per call); read under it by a row callback about to wait, which counts itself in row_waiters
   * first, so that a change that lets it go on finds it and wakes it (both sequentially consistent: one of
   * the two sees the other). */
  std::atomic<int64_t> calls_waiting{0};
  std::atomic<int> row_waiters{0};  ///< row callbacks looking at calls_waiting or waiting on flow_cv
  /** Set by Conn::close: every extraction stops. Guarded by flow_mutex. */
  bool closing = false;
  /** Set once the C session is freed: no extraction callback runs any more. Guarded by flow_mutex. */
  bool freed = false;
  /** Changes calls_waiting by @p delta and wakes a row callback that may have been waiting for it. */
  void calls_waiting_add(int64_t delta) {
    calls_waiting.fetch_add(delta);
    if (row_waiters.load() > 0) {
      { std::lock_guard<std::mutex> lock(flow_mutex); }  // the waiter is in its wait, or sees the new count
      flow_cv.notify_all();
    }
  }

  /** Queues @p ev; when the inbox was empty, tells Go (qixgoInboxReady, after the lock). */
  void push(Event&& ev) {
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      first = events_.empty();
      events_.push_back(std::move(ev));
    }
    if (first) wake();
  }
  /** Tells Go's poll goroutine to drain the inbox. */
  void wake() const {
    if (go_key) qixgoInboxReady(go_key);
  }
  /** The Go session's key (set by Conn::open, before any callback can run). */
  uintptr_t go_key = 0;
  /** The C session, once qix_session_open returned it (for hand_over_here). */
  std::atomic<qix_session*> session{nullptr};
  bool pop(Event& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (events_.empty()) return false;
    out = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  /** Registers a "closed" listener on @p obj under a new object token, which it returns (an object that
   *  is closed already gets EVENT_OBJECT_CLOSED at once). "changed" is registered on demand
   *  (listen_changed): a changed listener on a never-fetched object makes libqix fetch its layout. */
  uint64_t attach(qix::Object& obj);
  /** Registers a "changed" listener on @p obj that reports EVENT_CHANGED with @p token. */
  bool listen_changed(qix::Object& obj, uint64_t token);
  /** A payload for a long-lived listener: kept until the Conn is destroyed. */
  void* keep(uint64_t token) {
    auto tap = std::make_unique<Tap>(Tap{shared_from_this(), token});
    void* p = tap.get();
    std::lock_guard<std::mutex> lock(mutex_);
    taps_.push_back(std::move(tap));
    return p;
  }
  struct Tap {
    std::shared_ptr<Inbox> inbox;
    uint64_t token;
    bool raw = false;    // a call's: which text its result's body is (qix_result_raw, else qix_result_json)
    bool async = false;  // a call's: a plain success goes to Go on this thread (gather), not to the inbox
  };
  /**
   * Moves the plain events (Event::is_plain) at the head of the queue into @p buf as records (see
   * Conn::take), oldest first, until one is not plain or does not fit. Returns the bytes written; sets
   * @p results to the EVENT_RESULTs among them and @p empty to whether the queue is empty afterwards.
   */
  size_t take(char* buf, size_t cap, int64_t& results, bool& empty);
  /** Breaks the cycle Inbox -> Tap -> Inbox once no callback can run any more. */
  void drop_taps() {
    std::vector<std::unique_ptr<Tap>> taps;
    std::deque<Event> events;
    std::lock_guard<std::mutex> lock(mutex_);
    taps.swap(taps_);
    events.swap(events_);
    // Destroyed after the lock is released: declared before it.
  }

 private:
  std::mutex mutex_;
  std::deque<Event> events_;
  std::vector<std::unique_ptr<Tap>> taps_;
  std::atomic<uint64_t> next_object_token_{1};
};

inline Inbox::Tap* tap_of(void* payload) {
  return static_cast<Inbox::Tap*>(payload);
}

/** qix_thread_start_fn of go_context: each thread is a goroutine locked to its OS thread (hosted.go). */
inline int start_go_thread(qix_thread_body body, void* arg, void*) {
  return qixgoStartThread(reinterpret_cast<uintptr_t>(body), reinterpret_cast<uintptr_t>(arg));
}

/** The context of every session of the binding, created on first use and kept for the process's life (as
 *  libqix's default context): 1 I/O thread and 2 dispatcher threads, all started by Go. NULL when it could
 *  not be created; then @p error tells why. */
inline qix_context* go_context(std::string& error) {
  struct Made {
    qix_context* ctx = nullptr;
    std::string error;
  };
  static const Made made = [] {
    Made m;
    if (qix_context_new_hosted(&m.ctx, 1, 2, &start_go_thread, nullptr) != QIX_OK) {
      m.error = qix_error_last() ? qix_error_message(qix_error_last()) : "qix_context_new_hosted failed";
      qix_error_clear();
      m.ctx = nullptr;
    }
    return m;
  }();
  error = made.error;
  return made.ctx;
}

/** What runs asynchronous calls' Go functions on this thread now (call_done, gathered_done), until they
 *  return or hand the session's events over (qixgo_hand_over_here). */
struct Gathered;
struct GoRun {
  qix_session* session = nullptr;
  uintptr_t go_key = 0;
  int handed_over = 0;    // qixgo_hand_over_here handed the session's events over (read by Go: gathered runs)
  bool gathered = false;  // a gathered_done run (Go gathers the calls its functions make)
  const Gathered* from = nullptr;  // a gathered run: its records
  int64_t next = 0;       // where in them the next record starts (written by Go before each function)
  int rest_deferred = 0;  // the records from `next` on went along with a hand-over (Go stops there)
};
inline thread_local GoRun* tl_go_run = nullptr;

/** Conn::call_batch for Go without SWIG's wrapper (hosted.go's CallBatch): @p conn is the Conn. The records
 *  are Go's memory, borrowed for the call; a char pointer that cgo passes as is, where SWIG's slice
 *  argument makes cgo look the Go buffer up on every call (its pointer checks). */
extern "C" void qixgo_call_batch(uintptr_t conn, char* buf, size_t len);

/** From Go, before it blocks: when asynchronous calls' functions run on this thread (call_done,
 *  gathered_done), the session's later events go to another thread (qix_session_hand_over_events: they no
 *  longer wait for those functions, and when this is libqix's I/O thread another thread reads the sockets
 *  meanwhile), once. Returns 1 when it handed over, 0 when there was nothing to do; @p gathered_key gets
 *  the session's key when the functions were a gathered run's (Go then stops gathering the calls they
 *  make: see gathered_done), else 0. */
inline void defer_rest(GoRun& run) noexcept;

extern "C" int qixgo_hand_over_here(uintptr_t* gathered_key) {
  *gathered_key = 0;
  GoRun* run = tl_go_run;
  if (!run || run->handed_over || !run->session) return 0;
  run->handed_over = 1;
  if (run->gathered) *gathered_key = run->go_key;
  if (run->from) defer_rest(*run);  // first: the hand-over takes it along
  if (qix_session_hand_over_events(run->session) != QIX_OK) {
    qix_error_clear();
    return 0;
  }
  return 1;
}

/** A plain success alone (call_done): Go decodes it and runs the caller's function on this thread. */
inline void call_done(Inbox& in, uint64_t token, const char* body) {
  in.calls_waiting_add(-1);
  GoRun run;
  run.session = in.session.load(std::memory_order_acquire);
  run.go_key = in.go_key;
  GoRun* outer = tl_go_run;
  tl_go_run = &run;
  qixgoCallDone(in.go_key, token, body, std::strlen(body));
  tl_go_run = outer;
}

/**
 * The plain successes of asynchronous calls that a run of callbacks delivered on this thread, kept (copied:
 * a result lives for its callback only) for one call into Go once the run is over (qix_after_callbacks):
 * one crossing per burst of answers instead of one per answer, and the calls the functions make leave in
 * one cgo call (Go gathers them meanwhile). Records: the token (8 bytes), the body's length (4), 4 zero
 * bytes, the body; little-endian.
 */
struct Gathered {
  std::shared_ptr<Inbox> inbox;  // the one session whose answers these are
  std::string records;
  int64_t count = 0;
  bool counted = false;  // the rest of a run (defer_rest): its calls left the inbox's count already
};
/** This thread's Gathered waiting for its run's end (at most one: a run delivers one session's events). */
inline thread_local Gathered* tl_gathered = nullptr;
/** A Gathered kept for the thread's next run (its records' capacity), unless it grew large. */
inline thread_local std::unique_ptr<Gathered> tl_spare_gathered;
constexpr size_t kGatheredKept = size_t(1) << 20;

inline void put_le(char* p, uint64_t v, int bytes);

/** qix_after_callbacks' function: hands the run's answers to Go, which runs their functions here. */
inline void gathered_done(void* payload) {
  std::unique_ptr<Gathered> g(static_cast<Gathered*>(payload));
  if (tl_gathered == g.get()) tl_gathered = nullptr;
  Inbox& in = *g->inbox;
  if (!g->counted) in.calls_waiting_add(-g->count);
  GoRun run;
  run.session = in.session.load(std::memory_order_acquire);
  run.go_key = in.go_key;
  run.gathered = true;
  run.from = g.get();
  GoRun* outer = tl_go_run;
  tl_go_run = &run;
  qixgoCallsDone(in.go_key, g->records.data(), g->records.size(), g->count, &run.handed_over, &run.next,
                 &run.rest_deferred);
  tl_go_run = outer;
  if (g->records.capacity() <= kGatheredKept) {
    g->inbox.reset();
    g->records.clear();
    g->count = 0;
    g->counted = false;
    tl_spare_gathered = std::move(g);
  }
}

inline uint64_t get_le(const char* p, int bytes);

/** Before a gathered run's function hands the session's events over (qixgo_hand_over_here): the records
 *  Go has not reached yet become a run of their own, registered with qix_after_callbacks, which the
 *  hand-over takes along (the thread taking the session's events over runs it first): one of those answers
 *  may be what the function is about to wait for, and the others must not wait for it nor come after the
 *  session's later events. Go then stops at the function running now (rest_deferred). Nothing when the
 *  rest cannot be kept (out of memory): Go goes on with it after the function, as before. */
inline void defer_rest(GoRun& run) noexcept {
  try {
    const Gathered& g = *run.from;
    const size_t at = static_cast<size_t>(run.next);
    if (at >= g.records.size()) return;
    auto rest = std::make_unique<Gathered>();
    rest->inbox = g.inbox;
    rest->records.assign(g.records, at, std::string::npos);
    for (size_t p = 0; p + 16 <= rest->records.size(); ++rest->count) {
      p += 16 + static_cast<size_t>(get_le(rest->records.data() + p + 8, 4));
    }
    rest->counted = true;
    if (qix_after_callbacks(&gathered_done, rest.get()) != QIX_OK) {
      qix_error_clear();
      return;
    }
    static_cast<void>(rest.release());  // gathered_done owns it now
    run.rest_deferred = 1;
  } catch (...) {
  }
}

/** Keeps an asynchronous call's plain success for the end of the run of callbacks (gathered_done); false when
 *  it cannot be kept (not in a run that qix_after_callbacks serves, another session's run, out of memory):
 *  then call_done hands it to Go at once. */
inline bool gather(const std::shared_ptr<Inbox>& inbox, uint64_t token, const char* body) {
  try {
    Gathered* g = tl_gathered;
    if (g && g->inbox != inbox) return false;
    if (!g) {
      std::unique_ptr<Gathered> fresh = std::move(tl_spare_gathered);
      if (!fresh) fresh = std::make_unique<Gathered>();
      if (qix_after_callbacks(&gathered_done, fresh.get()) != QIX_OK) {
        qix_error_clear();
        tl_spare_gathered = std::move(fresh);
        return false;
      }
      g = fresh.release();  // gathered_done owns it now
      g->inbox = inbox;
      tl_gathered = g;
    }
    const size_t len = std::strlen(body);
    if (len > UINT32_MAX) return false;
    const size_t at = g->records.size();
    g->records.resize(at + 16 + len);
    char* p = g->records.data() + at;
    put_le(p, token, 8);
    put_le(p + 8, len, 4);
    put_le(p + 12, 0, 4);
    std::memcpy(p + 16, body, len);
    ++g->count;
    return true;
  } catch (...) {
    return false;
  }
}

inline void on_call(const qix_result* res, void* payload) {
  std::unique_ptr<Inbox::Tap> tap(tap_of(payload));  // a call completes exactly once
  if (tap->async && res && qix_result_status(res) == QIX_OK && !qix_result_has_object(res)) {
    const char* body = tap->raw ? qix_result_raw(res) : qix_result_json(res);
    if (!gather(tap->inbox, tap->token, body)) call_done(*tap->inbox, tap->token, body);
    return;
  }
  try {
    Event ev(EVENT_RESULT, tap->token);
    if (res && qix_result_status(res) == QIX_OK && !qix_result_has_object(res)) {
      // Plain (no object, the common case): only the text the call asked for is copied (Go takes it with
      // take(), as a record).
      ev.plain_ = true;
      ev.body_ = tap->raw ? qix_result_raw(res) : qix_result_json(res);
      tap->inbox->push(std::move(ev));
      return;
    }
    ev.result_ = qix::Result(res);
    if (ev.result_.has_object()) {
      ev.object_ = std::make_unique<qix::Object>(ev.result_.object());
      ev.object_token_ = tap->inbox->attach(*ev.object_);
    }
    tap->inbox->push(std::move(ev));
  } catch (...) {
    // Out of memory: the Go side fails the call when the session ends (it never waits forever).
  }
}

inline void on_layout(const qix_result* res, void* payload) {
  try {
    Event ev(EVENT_LAYOUT, tap_of(payload)->token);  // the tap is kept: a watch delivers many times
    ev.result_ = qix::Result(res);
    tap_of(payload)->inbox->push(std::move(ev));
  } catch (...) {
  }
}

inline void on_changed(qix_object*, void* payload) {
  try {
    tap_of(payload)->inbox->push(Event(EVENT_CHANGED, tap_of(payload)->token));
  } catch (...) {
  }
}

inline void on_closed(qix_object*, void* payload) {
  try {
    tap_of(payload)->inbox->push(Event(EVENT_OBJECT_CLOSED, tap_of(payload)->token));
  } catch (...) {
  }
}

inline void on_open(qix_session*, int status, const qix_error* err, void* payload) {
  try {
    Event ev(EVENT_OPENED, tap_of(payload)->token);
    if (status != QIX_OK) ev.error_ = std::make_shared<qix::Error>(status, err);
    tap_of(payload)->inbox->push(std::move(ev));
  } catch (...) {
  }
}

inline void on_state(qix_session*, int state, int close_code, const char* reason, void* payload) {
  try {
    Event ev(EVENT_STATE, tap_of(payload)->token);
    ev.state_ = state;
    ev.close_code_ = close_code;
    ev.text_ = reason ? reason : "";
    tap_of(payload)->inbox->push(std::move(ev));
  } catch (...) {
  }
}

inline void on_notification(qix_session*, const char* method, const char* params, void* payload) {
  try {
    Event ev(EVENT_NOTIFICATION, tap_of(payload)->token);
    ev.text_ = method ? method : "";
    ev.params_ = params ? params : "null";
    tap_of(payload)->inbox->push(std::move(ev));
  } catch (...) {
  }
}

inline void on_traffic(int sent, const char* frame, size_t len, void* payload) {
  try {
    Event ev(EVENT_TRAFFIC, tap_of(payload)->token);
    ev.sent_ = sent != 0;
    ev.text_.assign(frame, len);
    tap_of(payload)->inbox->push(std::move(ev));
  } catch (...) {
  }
}

/** One extraction's shared state: the bounded row buffer between the row callback (the poll goroutine,
 *  inside qix_session_poll) and the reader (Extraction::next, on the reading goroutine). Guarded by the
 *  inbox's flow_mutex. */
struct ExtractState {
  std::shared_ptr<Inbox> inbox;
  size_t capacity = 1;
  std::deque<std::pair<int64_t, std::string>> rows;  // (row index, the row's JSON array of NxCell)
  bool stopped = false;                              // the reader stopped it (Extraction::stop)
  bool done = false;                                 // done_cb ran: status/error/total are set
  int status = QIX_OK;
  std::shared_ptr<qix::Error> error;
  int64_t total = 0;
};

/** The row callback: copies the row into the buffer, waiting while it is full (back-pressure) unless a
 *  call of the session waits for its result (so a reader that makes calls between rows never deadlocks)
 *  or the extraction or the session is being stopped; then returns nonzero (libqix cancels the rest). */
inline int on_extract_row(const char* row, size_t len, int64_t index, void* payload) {
  auto& st = **static_cast<std::shared_ptr<ExtractState>*>(payload);
  Inbox& in = *st.inbox;
  try {
    std::string text(row, len);
    std::unique_lock<std::mutex> lock(in.flow_mutex);
    auto can_go = [&] {
      return st.stopped || in.closing || st.rows.size() < st.capacity || in.calls_waiting.load() > 0;
    };
    in.row_waiters.fetch_add(1);  // before the first look at calls_waiting (see Inbox::calls_waiting)
    if (!can_go()) {
      // About to wait for the reader: another thread reads the context's sockets meanwhile (this session's
      // later events still wait behind this row, in order).
      lock.unlock();
      if (qix_io_step_aside() != QIX_OK) qix_error_clear();  // not on an I/O thread: nothing to do
      lock.lock();
      in.flow_cv.wait(lock, can_go);
    }
    in.row_waiters.fetch_sub(1);
    if (st.stopped || in.closing) return 1;
    st.rows.emplace_back(index, std::move(text));
  } catch (...) {
    return 1;  // out of memory: the extraction ends with QIX_ECANCELLED
  }
  in.flow_cv.notify_all();
  return 0;
}

inline void on_extract_done(int status, const qix_error* err, int64_t rows, void* payload) {
  std::unique_ptr<std::shared_ptr<ExtractState>> keep(static_cast<std::shared_ptr<ExtractState>*>(payload));
  ExtractState& st = **keep;
  Inbox& in = *st.inbox;
  std::shared_ptr<qix::Error> error;
  try {
    if (status != QIX_OK) {
      // Stopped because the session is closing (Conn::close): that is the session's end, not a cancel.
      bool closing = false;
      {
        std::lock_guard<std::mutex> lock(in.flow_mutex);
        closing = in.closing;
      }
      if (status == QIX_ECANCELLED && closing) {
        status = QIX_ECLOSED;
        error = std::make_shared<qix::Error>(QIX_ECLOSED, "the session was closed");
      } else {
        error = std::make_shared<qix::Error>(status, err);
      }
    }
  } catch (...) {
    status = QIX_ENOMEM;
  }
  {
    std::lock_guard<std::mutex> lock(in.flow_mutex);
    st.done = true;
    st.status = status;
    st.error = std::move(error);
    st.total = rows;
  }
  in.flow_cv.notify_all();
}

inline uint64_t Inbox::attach(qix::Object& obj) {
  uint64_t token = kObjectTokenBit | next_object_token_.fetch_add(1);
  void* payload = keep(token);
  if (qix_object_on_closed(nullptr, obj.c_handle(), &on_closed, payload) != QIX_OK) {
    qix_error_clear();
    // Already closed (the session ended meanwhile): the object is a zombie from the start.
    push(Event(EVENT_OBJECT_CLOSED, token));
  }
  return token;
}

inline bool Inbox::listen_changed(qix::Object& obj, uint64_t token) {
  if (qix_object_on_changed(nullptr, obj.c_handle(), &on_changed, keep(token)) != QIX_OK) {
    qix_error_clear();
    return false;  // closed: its EVENT_OBJECT_CLOSED is on its way
  }
  return true;
}

/** A record's header: kind (1 byte), 3 bytes 0, the body's length (4 bytes), the token (8 bytes); all
 *  little-endian. The body (the result's text) follows. */
constexpr size_t kRecordHeader = 16;

inline void put_le(char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

inline uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

/** The size of a call record's header (Conn::call_batch). */
constexpr size_t kCallHeader = 32;

inline size_t Inbox::take(char* buf, size_t cap, int64_t& results, bool& empty) {
  size_t used = 0;
  results = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  while (!events_.empty()) {
    const Event& ev = events_.front();
    if (!ev.is_plain()) break;
    size_t body = ev.body_.size();
    if (body > UINT32_MAX || cap - used < kRecordHeader || cap - used - kRecordHeader < body) break;
    char* p = buf + used;
    put_le(p, static_cast<uint64_t>(ev.kind_), 4);
    put_le(p + 4, body, 4);
    put_le(p + 8, ev.token_, 8);
    if (body) std::memcpy(p + kRecordHeader, ev.body_.data(), body);
    used += kRecordHeader + body;
    if (ev.kind_ == EVENT_RESULT) ++results;
    events_.pop_front();
  }
  empty = events_.empty();
  return used;
}

}  // namespace detail
#endif  // SWIG

/**
 * One running bulk extraction (Conn::extract): the reader's end of the bounded row buffer. Owned by Go
 * (deleted after stop(); it may outlive the Conn). next() and row()/index() are for one goroutine; stop()
 * may be called from any.
 */
class Extraction {
 public:
  /**
   * Waits for the next row (true: row() and index() hold it) or the end (false: status() and error() tell
   * why; QIX_OK when every row was read). After stop(), returns false at once with QIX_ECANCELLED.
   */
  bool next() {
    auto& st = *state_;
    bool got = false;
    {
      std::unique_lock<std::mutex> lock(st.inbox->flow_mutex);
      st.inbox->flow_cv.wait(lock,
                             [&] { return st.stopped || !st.rows.empty() || st.done || st.inbox->freed; });
      if (!st.stopped && !st.rows.empty()) {
        index_ = st.rows.front().first;
        row_ = std::move(st.rows.front().second);
        st.rows.pop_front();
        got = true;
      } else if (st.stopped) {
        status_ = QIX_ECANCELLED;
      } else if (!st.done) {  // the session was freed first
        status_ = QIX_ECLOSED;
        error_ = std::make_shared<qix::Error>(QIX_ECLOSED, "the session was closed");
      } else {
        status_ = st.status;
        error_ = st.error;
      }
    }
    if (got) st.inbox->flow_cv.notify_all();  // room for the row callback
    return got;
  }
  /** The current row: a JSON array of NxCell. */
  std::string row() const { return row_; }
  /** The current row's position in the cube (0-based). */
  int64_t index() const { return index_; }
  /** After next() returned false: QIX_OK, or the status that ended the extraction. */
  int status() const { return status_; }
  /** After next() returned false: the failure (NULL when none or stopped by stop()). Borrowed. */
  const qix::Error* error() const { return error_.get(); }
  /** Rows delivered by libqix in all (known once next() returned false with QIX_OK). */
  int64_t total() const {
    std::lock_guard<std::mutex> lock(state_->inbox->flow_mutex);
    return state_->total;
  }
  /** Stops the extraction: a waiting next() returns false, the row callback returns nonzero at its next
   *  row (libqix then cancels the pages in flight), buffered rows are dropped. Idempotent. */
  void stop() {
    {
      std::lock_guard<std::mutex> lock(state_->inbox->flow_mutex);
      state_->stopped = true;
      state_->rows.clear();
    }
    state_->inbox->flow_cv.notify_all();
  }

  /** False when Conn::extract could not start it: status() and error() tell why. */
  bool started() const { return started_; }

#ifndef SWIG
  explicit Extraction(std::shared_ptr<detail::ExtractState> st) : state_(std::move(st)) {}
  void fail(qix::Error e) {
    started_ = false;
    status_ = e.status();
    error_ = std::make_shared<qix::Error>(std::move(e));
    std::lock_guard<std::mutex> lock(state_->inbox->flow_mutex);
    state_->done = true;
    state_->status = status_;
    state_->error = error_;
  }
#endif

 private:
  std::shared_ptr<detail::ExtractState> state_;
  std::string row_;
  int64_t index_ = -1;
  int status_ = QIX_OK;
  std::shared_ptr<qix::Error> error_;
  bool started_ = true;
};

/**
 * One session for Go: options, the C session opened in poll mode, and the inbox its callbacks fill.
 * Lifecycle: set options, open(), then poll()/next() on one goroutine until close() and the closed
 * state; drain with poll(0)/next(); delete (frees the C session).
 */
class Conn {
 public:
  Conn() : inbox_(std::make_shared<detail::Inbox>()) {}
  ~Conn() {
    qix_session_free(session_);  // no listener callback starts after this returns
    {
      // An extraction whose done callback did not run (it always does before the closed state is drained;
      // this is a guard) must not leave its reader waiting.
      std::lock_guard<std::mutex> lock(inbox_->flow_mutex);
      inbox_->freed = true;
    }
    inbox_->flow_cv.notify_all();
    inbox_->drop_taps();
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  /** Sets a string option (see qix.h). Returns NULL, or a new qix::Error to delete. */
  qix::Error* set_str(const std::string& name, const std::string& value) {
    return guard([&] { options_.set(name, value); });
  }
  /** Sets an integer option. */
  qix::Error* set_int(const std::string& name, int64_t value) {
    return guard([&] { options_.set_int(name, value); });
  }
  /** Sets a boolean option. */
  qix::Error* set_bool(const std::string& name, bool value) {
    return guard([&] { options_.set_bool(name, value); });
  }
  /** Adds an upgrade-request header (a secret: never logged). */
  qix::Error* add_header(const std::string& name, const std::string& value) {
    return guard([&] { options_.add_header(name, value); });
  }
  /** Adds a cookie. */
  qix::Error* add_cookie(const std::string& name, const std::string& value) {
    return guard([&] { options_.add_cookie(name, value); });
  }
  /** Sends every frame to the inbox as EVENT_TRAFFIC with @p token. Call before open(). */
  qix::Error* log_traffic(uint64_t token) {
    // The facade's Options exposes only a const handle; the object itself is ours and not const.
    auto* opts = const_cast<qix_options*>(options_.handle());
    return check(qix_options_set_traffic_cb(opts, &detail::on_traffic, inbox_->keep(token)));
  }

  /**
   * Starts connecting on the binding's context (go_context), the session's callbacks run where libqix runs
   * them (`events.inline`: its I/O thread). EVENT_OPENED (token @p token) follows; state changes arrive as
   * EVENT_STATE with @p state_token. @p go_key (the Go session's key) is what qixgoInboxReady
   * and qixgoCallDone are called with, from libqix's threads or from a thread inside a call of this Conn
   * (close(), a call that fails at once), until the Conn is deleted. Returns NULL when started,
   * else a new qix::Error.
   */
  qix::Error* open(uint64_t token, uint64_t state_token, uint64_t go_key) {
    if (session_) return new qix::Error(QIX_EINVAL, "the session was already opened");
    std::string why;
    qix_context* ctx = detail::go_context(why);
    if (!ctx) return new qix::Error(QIX_ENOMEM, "could not start libqix's threads: " + why);
    if (qix::Error* e = set_bool("events.poll", false)) return e;
    inbox_->go_key = static_cast<uintptr_t>(go_key);
    if (qix::Error* e = check(
            qix_session_open(&session_, ctx, options_.handle(), &detail::on_open, inbox_->keep(token)))) {
      return e;
    }
    inbox_->session.store(session_, std::memory_order_release);
    return check(qix_session_on_state(nullptr, session_, &detail::on_state, inbox_->keep(state_token)));
  }

  /** Moves the next event into @p out; false (and @p out's kind is EVENT_NONE) when the inbox is empty. */
  bool next(Event& out) {
    if (inbox_->pop(out)) {
      if (out.kind_ == EVENT_RESULT) inbox_->calls_waiting_add(-1);
      return true;
    }
    out = Event();
    return false;
  }

  /**
   * Moves the events at the head of the inbox into @p buf as records while they are plain and fit, so that
   * Go takes many events per cgo call: a successful EVENT_RESULT without object (the record's body is the
   * one text the call asked for: raw or unwrapped), EVENT_CHANGED, EVENT_OBJECT_CLOSED (no body). A record
   * is a 16-byte header — kind (1 byte), 3 zero bytes, the body's length (4 bytes), the token (8 bytes),
   * little-endian — then the body. Returns the bytes written (> 0); 0 when the inbox's head is an event to
   * take with next() (not plain, or larger than @p buf); -1 when the inbox is empty. Same thread rule as
   * next(); the two may be mixed (the order of events is kept).
   */
  int64_t take(char* buf, size_t cap) {
    int64_t results = 0;
    bool empty = false;
    size_t used = inbox_->take(buf, cap, results, empty);
    if (results) inbox_->calls_waiting_add(-results);
    if (used) return static_cast<int64_t>(used);
    return empty ? -1 : 0;
  }

  /** Closes the connection (idempotent): pending calls fail with QIX_ECLOSED, then EVENT_STATE (closed)
   *  follows. */
  void close() {
    {
      std::lock_guard<std::mutex> lock(inbox_->flow_mutex);
      inbox_->closing = true;  // extractions stop: a blocked row callback would stall the close
    }
    inbox_->flow_cv.notify_all();
    qix_session_close(session_);
  }
  /** Waits until the session is closed and drained (qix_session_wait_closed(); another goroutine keeps
   *  polling meanwhile). Returns the status: QIX_OK, QIX_ETIMEOUT. */
  int wait_closed(int timeout_ms) { return qix_session_wait_closed(session_, timeout_ms); }
  /** The qix_state. */
  int state() const { return qix_session_state(session_); }
  /** Calls waiting for an answer. */
  int64_t pending_calls() const { return qix_session_pending_calls(session_); }

#ifndef SWIG  // for Go through qixgo_call_batch (hosted.go's CallBatch), not SWIG's wrapper
  /**
   * Issues the calls written in @p buf in one batch (qix_batch_begin() / qix_batch_end(): their requests
   * leave together, in one write), in order, each as call_c() with flags 0. A call's record: a 32-byte
   * header — the qix::Object* to call (8 bytes; 0 = Global), the token (8), flags (4: bit 0 raw, bit 1
   * async: a plain success goes to Go on libqix's thread instead of the inbox), the method's
   * length (4), the params' length (4), 4 zero bytes; little-endian — then the method, a NUL, the params, a
   * NUL. Each call's request id (0 when it failed at once) is written over its record's first 8 bytes.
   * Stops at a record that does not fit in @p buf.
   */
  void call_batch(char* buf, size_t cap) {
    struct Batch {
      Batch() { qix_batch_begin(); }
      ~Batch() { qix_batch_end(); }
      Batch(const Batch&) = delete;
      Batch& operator=(const Batch&) = delete;
    } batch;
    size_t at = 0;
    while (cap - at >= detail::kCallHeader) {
      char* p = buf + at;
      auto* obj = reinterpret_cast<qix::Object*>(static_cast<uintptr_t>(detail::get_le(p, 8)));
      uint64_t token = detail::get_le(p + 8, 8);
      const uint64_t call_flags = detail::get_le(p + 16, 4);
      const bool raw = (call_flags & 1) != 0;
      const bool async = (call_flags & 2) != 0;
      size_t method_len = detail::get_le(p + 20, 4);
      size_t params_len = detail::get_le(p + 24, 4);
      size_t size = detail::kCallHeader + method_len + 1 + params_len + 1;
      if (cap - at < size) break;
      const char* method = p + detail::kCallHeader;
      int64_t id = call_c(obj, method, method + method_len + 1, 0, token, raw, async);
      detail::put_le(p, static_cast<uint64_t>(id), 8);
      at += size;
    }
  }

  /**
   * Calls @p method on Global (@p obj NULL) or on @p obj. The outcome always arrives as EVENT_RESULT with
   * @p token, also when the call fails at once (then the returned request id is 0). @p raw: the caller
   * reads the whole result object (raw()), else the unwrapped result (json()); a successful result without
   * object keeps only that text. @p async: a successful result without object goes to Go (gather)
   * instead (on the thread that runs the completion), not to the inbox.
   */
  int64_t call_c(qix::Object* obj, const char* method, const char* params, int flags, uint64_t token,
                 bool raw, bool async = false) {
    inbox_->calls_waiting_add(1);  // exactly one outcome follows (or none when out of memory)
    auto* tap = new (std::nothrow) detail::Inbox::Tap{inbox_, token, raw, async};
    if (!tap) {
      fail_call(token, QIX_ENOMEM);
      return 0;
    }
    int64_t id = 0;
    int rc = obj ? qix_object_call(&id, obj->c_handle(), method, params, flags, -1, &detail::on_call, tap)
                 : qix_session_call(&id, session_, method, params, flags, -1, &detail::on_call, tap);
    // QIX_ECLOSED calls back (with the error); other early failures do not.
    if (rc < 0 && rc != QIX_ECLOSED) {
      delete tap;
      fail_call(token, rc);
      return 0;
    }
    return id;
  }
#endif  // SWIG

  /** Cancels a pending call (CancelRequest); false when it is not pending any more. */
  bool cancel(int64_t id) {
    int rc = qix_session_cancel(session_, id);
    if (rc != QIX_OK) qix_error_clear();
    return rc == QIX_OK;
  }

  /** The Global object (a new reference to delete), or NULL when the session is closed. */
  qix::Object* global() {
    qix_object* o = nullptr;
    if (qix_session_global(&o, session_) != QIX_OK) {
      qix_error_clear();
      return nullptr;
    }
    return new qix::Object(o);
  }
  /**
   * Listens to @p obj's "closed" (EVENT_OBJECT_CLOSED) under a new object token, which it returns.
   * Objects that results refer to are attached by the bridge already.
   */
  uint64_t attach(qix::Object& obj) {
    return inbox_->attach(obj);
  }
  /** Listens to @p obj's "changed" (EVENT_CHANGED with @p token, the object's token). */
  bool listen_changed(qix::Object& obj, uint64_t token) {
    return inbox_->listen_changed(obj, token);
  }

  /**
   * Keeps @p obj's layout fresh (qix_object_watch(): replaces the engine object's previous watch): each fresh
   * layout, or the failure of its fetch, arrives as EVENT_LAYOUT with @p token. Returns NULL, or a new
   * qix::Error.
   */
  qix::Error* watch(qix::Object& obj, uint64_t token) {
    return check(qix_object_watch(obj.c_handle(), &detail::on_layout, inbox_->keep(token)));
  }
  /** Stops the engine object's watch, whichever handle set it (qix_object_unwatch()). */
  void unwatch(qix::Object& obj) {
    if (qix_object_unwatch(obj.c_handle()) != QIX_OK) qix_error_clear();
  }

  /**
   * Starts a bulk extraction (qix_object_extract) of the hypercube at @p path of @p obj: pages of
   * @p page_height rows (0 = libqix's choice), up to @p window pages in flight (0 = 4), and a buffer of at
   * most @p buffer rows (at least 1) between libqix and the reader. Returns a new Extraction to delete
   * (after stop()), or NULL when out of memory; when it could not start, its started() is false and
   * error() tells why.
   */
  Extraction* extract(qix::Object& obj, const std::string& path, int page_height, int window, int buffer) {
    try {
      auto st = std::make_shared<detail::ExtractState>();
      st->inbox = inbox_;
      st->capacity = buffer > 0 ? static_cast<size_t>(buffer) : 1;
      auto payload = std::make_unique<std::shared_ptr<detail::ExtractState>>(st);
      auto ext = std::make_unique<Extraction>(st);
      int rc = qix_object_extract(obj.c_handle(), path.c_str(), page_height, window, &detail::on_extract_row,
                                  &detail::on_extract_done, payload.get());
      if (rc < 0) {  // no callback runs
        ext->fail(detail::last_error(rc));
      } else {
        payload.release();  // on_extract_done deletes it
      }
      return ext.release();
    } catch (const std::bad_alloc&) {
      qix_error_clear();
      return nullptr;
    }
  }

  /**
   * Subscribes to notifications named @p method ("" = all), history first, as EVENT_NOTIFICATION with
   * @p token. Returns the listener id for remove_listener(), 0 on failure.
   */
  uint64_t on_notification(const std::string& method, uint64_t token) {
    uint64_t id = 0;
    if (qix_session_on_notification(&id, session_, method.c_str(), 1, &detail::on_notification,
                                    inbox_->keep(token)) != QIX_OK) {
      qix_error_clear();
      return 0;
    }
    return id;
  }
  /** Removes a session listener. */
  void remove_listener(uint64_t id) {
    if (qix_session_remove_listener(session_, id) != QIX_OK) qix_error_clear();
  }

 private:
  template <class F>
  static qix::Error* guard(F&& f) {
    try {
      f();
      return nullptr;
    } catch (const qix::Error& e) {
      return new qix::Error(e);
    } catch (const std::bad_alloc&) {
      return new qix::Error(QIX_ENOMEM, "out of memory");
    }
  }
  static qix::Error* check(int rc) {
    return rc < 0 ? new qix::Error(detail::last_error(rc)) : nullptr;
  }
  /** A call that failed before reaching libqix's queue: its outcome goes to the inbox directly. */
  void fail_call(uint64_t token, int rc) {
    Event ev(EVENT_RESULT, token);
    ev.error_ = std::make_shared<qix::Error>(detail::last_error(rc));
    inbox_->push(std::move(ev));
  }

  std::shared_ptr<detail::Inbox> inbox_;
  qix::Options options_;
  qix_session* session_ = nullptr;
};

/**
 * Sets how long the I/O thread of the binding's context (go_context: every session's) may poll its sockets
 * before it sleeps, in microseconds (qix_context_set_io_spin(): 0 to 1000000, 0 never). Creates the context
 * when no session did yet. Returns NULL, or a new qix::Error (QIX_EINVAL out of range).
 */
inline qix::Error* set_io_spin(int microseconds) {
  std::string why;
  qix_context* ctx = detail::go_context(why);
  if (!ctx) return new qix::Error(QIX_ENOMEM, "could not start libqix's threads: " + why);
  int rc = qix_context_set_io_spin(ctx, microseconds);
  return rc < 0 ? new qix::Error(detail::last_error(rc)) : nullptr;
}

}  // namespace qixgo

#ifndef SWIG
extern "C" void qixgo_call_batch(uintptr_t conn, char* buf, size_t len) {
  reinterpret_cast<qixgo::Conn*>(conn)->call_batch(buf, len);
}
#endif  // SWIG

#endif  // QIX_GO_BRIDGE_HPP
