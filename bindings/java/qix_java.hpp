// The Java binding's event bridge: a small C++ layer, wrapped by SWIG next to the facade (qix/qix.hpp), that
// routes every libqix callback of the Java binding to ONE Java object.
//
// Why not one SWIG director per listener (the facade's CallListener / ObjectListener / SessionListener)?
// A director is a C++ object whose life is tied to a Java object, and nothing in libqix says when the last
// callback through a removed listener has finished: qix_object_free()/qix_session_free() stop new callbacks
// but let one already running on another thread finish (docs/c-api.md, "Threads"). Freeing a director then
// would be a use-after-free; never freeing it leaks a C++ object and a JNI global reference per listener,
// per call. Here the payload of every C callback is an integer token chosen by Java, and every callback goes
// to one process-wide director (Events) that is created once and never freed. Java looks the token up in a
// table; a token that is no longer registered (a late callback after removal) is ignored. So no native
// memory is tied to a listener, a call or a GC cycle, and a listener stays reachable exactly as long as its
// token is registered.
//
// Threads: the Events methods run on the session's event thread (a dispatcher thread of its context), never
// on an I/O thread; SWIG's director attaches that thread to the JVM once, as a daemon, and detaches it when
// the thread ends, i.e. when its context is freed (SWIG_JAVA_ATTACH_CURRENT_THREAD_AS_DAEMON with
// SWIG_JAVA_DETACH_ON_THREAD_END). No JNIEnv* is kept here: the director gets the calling thread's own.
//
// Errors: functions that fail throw qix::Error, which the binding's %exception turns into
// org.libqix.QixException. Nothing here lets a C++ exception reach libqix's callbacks.
#ifndef QIX_JAVA_HPP
#define QIX_JAVA_HPP

#include "qix/qix.hpp"

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

namespace qixjava {

/**
 * Receives every event of the Java binding. Implemented in Java (a SWIG director); one instance per
 * process, installed with set_events() and never freed. Each method gets the token its registration was
 * made with. Called on a session's event thread; the methods must not throw (the Java side catches
 * everything it calls).
 */
class Events {
 public:
  virtual ~Events() {}
  /** A call completed (@p result is borrowed for the duration of the call). */
  virtual void on_result(int64_t token, const qix::Result& result) {
    (void)token;
    (void)result;
  }
  /**
   * A call made with object_call(..., raw = true) succeeded and its result refers to no object: the engine's
   * whole result object as JSON text (the typed API decodes it). Every other outcome of such a call comes
   * to on_result.
   */
  virtual void on_raw_result(int64_t token, const std::string& raw) {
    (void)token;
    (void)raw;
  }
  /**
   * As on_raw_result, for a result text that is plain ASCII (most are): it crosses JNI as a Java string the
   * JVM makes directly (NewStringUTF: ASCII text is the same in UTF-8 and JNI's modified UTF-8), with no
   * byte[] in between and no decoding in Java. Text with any other character comes to on_raw_result as UTF-8
   * bytes.
   */
  virtual void on_raw_ascii(int64_t token, const char* raw) {
    (void)token;
    (void)raw;
  }
  /**
   * The plain ASCII results (as on_raw_ascii) that one run of callbacks delivered on this thread, handed
   * over together once the run is over (qix_after_callbacks): one upcall per burst of answers instead of one
   * per answer. @p records holds, for each result in the order delivered, its token and its text's length
   * in decimal, each followed by a space, then the text ("12 25 {...}7 25 {...}").
   */
  virtual void on_raw_ascii_run(const char* records) { (void)records; }
  /** A watched object's fresh layout, or the error of its fetch (@p result borrowed for the call). */
  virtual void on_layout(int64_t token, const qix::Result& result) {
    (void)token;
    (void)result;
  }
  /** An object's layout became invalid. */
  virtual void on_changed(int64_t token) { (void)token; }
  /** An object's engine handle was released. */
  virtual void on_closed(int64_t token) { (void)token; }
  /** A session's state changed (qix_state); @p close_code and @p reason are set for QIX_STATE_CLOSED. */
  virtual void on_state(int64_t token, int state, int close_code, const std::string& reason) {
    (void)token;
    (void)state;
    (void)close_code;
    (void)reason;
  }
  /** A notification with its params as JSON text. */
  virtual void on_notification(int64_t token, const std::string& method, const std::string& params_json) {
    (void)token;
    (void)method;
    (void)params_json;
  }
  /** A JSON-RPC frame as sent (@p sent) or received. */
  virtual void on_traffic(int64_t token, bool sent, const std::string& frame) {
    (void)token;
    (void)sent;
    (void)frame;
  }
  /**
   * One row of an extraction (object_extract): the JSON array of its cells and its index. Returns true to
   * go on, false to stop (the extraction then ends with QIX_ECANCELLED). May block: that is the binding's
   * back-pressure (it stalls this session's event delivery only; the extraction's window bounds what is in
   * flight meanwhile).
   */
  virtual bool on_row(int64_t token, const std::string& row_json, int64_t index) {
    (void)token;
    (void)row_json;
    (void)index;
    return false;
  }
  /**
   * The end of an extraction, always once after a start: @p status QIX_OK with the number of @p rows, or the
   * error that ended it (@p error; a generic one with status QIX_OK on success, borrowed for the call).
   */
  virtual void on_extract_done(int64_t token, int status, int64_t rows, const qix::Error& error) {
    (void)token;
    (void)status;
    (void)rows;
    (void)error;
  }
};

#ifndef SWIG
namespace detail {

inline std::atomic<Events*>& events_slot() {
  static std::atomic<Events*> slot{nullptr};
  return slot;
}

inline void* to_payload(int64_t token) {
  return reinterpret_cast<void*>(static_cast<intptr_t>(token));
}
inline int64_t to_token(void* payload) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(payload));
}

/** The ASCII results a run of callbacks delivered on this thread (Events::on_raw_ascii_run's records), kept
 *  (copied: a result lives for its callback only) until the run is over (qix_after_callbacks). */
struct AsciiRun {
  std::string records;
};
/** This thread's run waiting for its end (ascii_run_done). */
inline thread_local AsciiRun* tl_ascii_run = nullptr;
/** A run kept for the thread's next one (its records' capacity), unless it grew large. */
inline thread_local std::unique_ptr<AsciiRun> tl_spare_ascii_run;

/** Runs @p fn with the installed Events; never throws (a failure is printed, as a last resort). The results
 *  this thread's run of callbacks gathered so far go first (on_raw_ascii_run), so that Java gets every event
 *  in the order libqix delivered it. */
template <class Fn>
void deliver(const char* what, Fn&& fn) noexcept {
  Events* events = events_slot().load(std::memory_order_acquire);
  if (!events) return;
  try {
    if (AsciiRun* run = tl_ascii_run; run && !run->records.empty()) {
      std::string records;
      records.swap(run->records);
      events->on_raw_ascii_run(records.c_str());
    }
    fn(*events);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "libqix (Java): delivering %s failed: %s\n", what, e.what());
  } catch (...) {
    std::fprintf(stderr, "libqix (Java): delivering %s failed\n", what);
  }
}

inline void changed_cb(qix_object*, void* payload) {
  deliver("a changed event", [&](Events& e) { e.on_changed(to_token(payload)); });
}
inline void closed_cb(qix_object*, void* payload) {
  deliver("a closed event", [&](Events& e) { e.on_closed(to_token(payload)); });
}
inline void state_cb(qix_session*, int state, int code, const char* reason, void* payload) {
  deliver("a state change",
          [&](Events& e) { e.on_state(to_token(payload), state, code, reason ? reason : ""); });
}
inline void notification_cb(qix_session*, const char* method, const char* params, void* payload) {
  deliver("a notification", [&](Events& e) {
    e.on_notification(to_token(payload), method ? method : "", params ? params : "null");
  });
}
inline void traffic_cb(int sent, const char* frame, size_t len, void* payload) {
  deliver("a traffic frame", [&](Events& e) {
    e.on_traffic(to_token(payload), sent != 0, frame ? std::string(frame, len) : std::string());
  });
}

/** Whether the @p n bytes of @p text are plain ASCII (no byte with the high bit set), 8 bytes at a time. */
inline bool is_ascii(const char* text, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, text + i, sizeof word);
    if ((word & UINT64_C(0x8080808080808080)) != 0) return false;
  }
  for (; i < n; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0x80U) != 0) return false;
  }
  return true;
}

inline void result_cb(const qix_result* res, void* payload) {
  try {
    const qix::Result r(res);
    deliver("a call result", [&](Events& e) { e.on_result(to_token(payload), r); });
  } catch (...) {
    std::fprintf(stderr, "libqix (Java): delivering a call result failed\n");
  }
}
/** qix_after_callbacks' function: hands the run's results to Java in one upcall. */
inline void ascii_run_done(void* payload) {
  std::unique_ptr<AsciiRun> run(static_cast<AsciiRun*>(payload));
  if (tl_ascii_run == run.get()) tl_ascii_run = nullptr;
  if (!run->records.empty()) {
    deliver("call results", [&](Events& e) { e.on_raw_ascii_run(run->records.c_str()); });
  }
  if (run->records.capacity() <= (size_t(1) << 20)) {
    run->records.clear();
    tl_spare_ascii_run = std::move(run);
  }
}

/** Keeps an ASCII result for the end of the run of callbacks (ascii_run_done); false when it cannot be kept
 *  (no run that qix_after_callbacks serves, out of memory): then it goes to on_raw_ascii at once. */
inline bool gather_ascii(int64_t token, const char* raw, size_t len) noexcept {
  try {
    AsciiRun* run = tl_ascii_run;
    if (!run) {
      std::unique_ptr<AsciiRun> fresh = std::move(tl_spare_ascii_run);
      if (!fresh) fresh = std::make_unique<AsciiRun>();
      if (qix_after_callbacks(&ascii_run_done, fresh.get()) != QIX_OK) {
        qix_error_clear();
        tl_spare_ascii_run = std::move(fresh);
        return false;
      }
      run = fresh.release();  // ascii_run_done owns it now
      tl_ascii_run = run;
    }
    char head[48];  // "<token> <length> ": two decimals (to_chars, not snprintf: no format to interpret)
    char* end = std::to_chars(head, head + 20, token).ptr;
    *end++ = ' ';
    end = std::to_chars(end, end + 20, len).ptr;
    *end++ = ' ';
    run->records.append(head, static_cast<size_t>(end - head));
    run->records.append(raw, len);
    return true;
  } catch (...) {
    return false;
  }
}

/** The typed API's completions: a success without an object goes as the raw text alone (no facade copy of
 *  the result, no calls back into native code from Java), plain ASCII gathered for one upcall per run of
 *  callbacks; the rest as the facade's result. */
inline void raw_result_cb(const qix_result* res, void* payload) {
  if (qix_result_status(res) == QIX_OK && !qix_result_has_object(res)) {
    const char* raw = qix_result_raw(res);
    const size_t len = std::strlen(raw);
    if (is_ascii(raw, len)) {
      if (gather_ascii(to_token(payload), raw, len)) return;
      deliver("a call result", [&](Events& e) { e.on_raw_ascii(to_token(payload), raw); });
    } else {
      deliver("a call result", [&](Events& e) { e.on_raw_result(to_token(payload), raw); });
    }
    return;
  }
  result_cb(res, payload);
}

inline int row_cb(const char* row, size_t len, int64_t index, void* payload) {
  bool go_on = false;  // a failure to deliver stops the extraction
  deliver("an extracted row", [&](Events& e) {
    go_on = e.on_row(to_token(payload), row ? std::string(row, len) : std::string("[]"), index);
  });
  return go_on ? 0 : 1;
}
inline void extract_done_cb(int status, const qix_error* err, int64_t rows, void* payload) {
  deliver("the end of an extraction", [&](Events& e) {
    qix::Error error = status == QIX_OK ? qix::Error(QIX_OK, std::string()) : qix::Error(status, err);
    e.on_extract_done(to_token(payload), status, rows, error);
  });
}

}  // namespace detail
#endif  // SWIG

/** Installs the one Events object (not owned; it must live until the process ends). */
inline void set_events(Events* events) {
  detail::events_slot().store(events, std::memory_order_release);
}

/**
 * Asynchronous call on @p object; the result goes to Events::on_result(@p token), or, with @p raw, a success
 * that refers to no object to Events::on_raw_result(@p token). The event comes exactly once when this returns
 * (also for QIX_ECLOSED); when it throws qix::Error, never.
 */
inline int64_t object_call(qix::Object& object, const std::string& method_utf8,
                           const std::string& params_utf8, int flags, int timeout_ms, int64_t token,
                           bool raw) {
  int64_t id = 0;
  const int rc =
      qix_object_call(&id, object.c_handle(), method_utf8.c_str(), params_utf8.c_str(), flags, timeout_ms,
                      raw ? &detail::raw_result_cb : &detail::result_cb, detail::to_payload(token));
  if (rc < 0 && rc != QIX_ECLOSED) qix::detail::check(rc);
  return id;
}

/** Subscribes @p token to the object's "changed" events. Returns the listener id. */
inline int64_t object_on_changed(qix::Object& object, int64_t token) {
  uint64_t id = 0;
  qix::detail::check(
      qix_object_on_changed(&id, object.c_handle(), &detail::changed_cb, detail::to_payload(token)));
  return static_cast<int64_t>(id);
}

/** Subscribes @p token to the object's "closed" event. Returns the listener id. */
inline int64_t object_on_closed(qix::Object& object, int64_t token) {
  uint64_t id = 0;
  qix::detail::check(
      qix_object_on_closed(&id, object.c_handle(), &detail::closed_cb, detail::to_payload(token)));
  return static_cast<int64_t>(id);
}

/** Removes an object listener; false when it was not registered (any more). */
inline bool object_remove_listener(qix::Object& object, int64_t id) {
  int rc = qix_object_remove_listener(object.c_handle(), static_cast<uint64_t>(id));
  if (rc == QIX_ENOTFOUND) return false;
  qix::detail::check(rc);
  return true;
}

/** Keeps the object's layout fresh; each layout (or fetch error) goes to Events::on_layout(@p token). */
inline void object_watch(qix::Object& object, int64_t token) {
  object.watch([token](const qix::Result& r) {
    detail::deliver("a watched layout", [&](Events& e) { e.on_layout(token, r); });
  });
}

/**
 * Bulk extraction (qix_object_extract) of the hypercube at @p path: each row goes to Events::on_row(@p
 * token), in order, then the outcome to Events::on_extract_done(@p token), which always runs once after a
 * start. Throws qix::Error when it cannot start (then no callback runs).
 */
inline void object_extract(qix::Object& object, const std::string& path, int page_height, int window,
                           int64_t token) {
  qix::detail::check(qix_object_extract(object.c_handle(), path.c_str(), page_height, window, &detail::row_cb,
                                        &detail::extract_done_cb, detail::to_payload(token)));
}

/** Subscribes @p token to the session's state changes. Returns the listener id. */
inline int64_t session_on_state(qix::Session& session, int64_t token) {
  uint64_t id = 0;
  qix::detail::check(
      qix_session_on_state(&id, session.c_handle(), &detail::state_cb, detail::to_payload(token)));
  return static_cast<int64_t>(id);
}

/**
 * Subscribes @p token to the session's notifications named @p method ("" = all); with @p replay, the ones
 * already received come first. Returns the listener id.
 */
inline int64_t session_on_notification(qix::Session& session, const std::string& method, bool replay,
                                       int64_t token) {
  uint64_t id = 0;
  qix::detail::check(qix_session_on_notification(&id, session.c_handle(), method.c_str(), replay ? 1 : 0,
                                                 &detail::notification_cb, detail::to_payload(token)));
  return static_cast<int64_t>(id);
}

/** Removes a session listener; false when it was not registered (any more). */
inline bool session_remove_listener(qix::Session& session, int64_t id) {
  int rc = qix_session_remove_listener(session.c_handle(), static_cast<uint64_t>(id));
  if (rc == QIX_ENOTFOUND) return false;
  qix::detail::check(rc);
  return true;
}

/** Sends every frame of sessions opened with @p options to Events::on_traffic(@p token). */
inline void options_set_traffic(qix::Options& options, int64_t token) {
  // The facade hands out its handle as const; these options are ours to change.
  qix::detail::check(qix_options_set_traffic_cb(const_cast<qix_options*>(options.handle()),
                                                &detail::traffic_cb, detail::to_payload(token)));
}

/** Why the session closed: the WebSocket close code, or 0 while it is not closed. */
inline int session_close_code(qix::Session& session) {
  int code = 0;
  if (qix_session_close_info(&code, nullptr, session.c_handle()) != QIX_OK) {
    qix_error_clear();
    return 0;
  }
  return code;
}

/** Why the session closed: the reason text, or "" while it is not closed. */
inline std::string session_close_reason(qix::Session& session) {
  char* reason = nullptr;
  if (qix_session_close_info(nullptr, &reason, session.c_handle()) != QIX_OK) {
    qix_error_clear();
    return std::string();
  }
  std::string text = reason ? reason : "";
  qix_free(reason);
  return text;
}

/**
 * From Events::on_raw_ascii_run, on the libqix thread delivering it: keeps @p records (the rest of that run,
 * in its format) for another on_raw_ascii_run once the callbacks run there are over; or, when this thread
 * hands the session's events over first (Dispatch.prepareToBlock: a stage about to wait), for the thread
 * taking them over, which delivers them before the session's later events (qix_after_callbacks' functions
 * go along with a hand-over). So a stage that waits for an answer later in its own run gets it. False when
 * they cannot be kept (no run of callbacks on this thread, out of memory): the caller delivers them itself.
 * Threading: a libqix thread, in a callback.
 */
inline bool defer_ascii_run(const std::string& records) {
  try {
    auto run = std::make_unique<detail::AsciiRun>();
    run->records = records;
    if (qix_after_callbacks(&detail::ascii_run_done, run.get()) != QIX_OK) {
      qix_error_clear();
      return false;
    }
    static_cast<void>(run.release());  // ascii_run_done owns it now
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace qixjava

#endif  // QIX_JAVA_HPP
