/**
 * @file qix/qix.hpp
 * @brief Header-only C++17 facade over the C API (qix.h): RAII handles, exceptions, futures and
 *        listener interfaces. It uses nothing but qix.h, so it adds no ABI of its own.
 *
 * Written for humans and for SWIG 4.1 (which generates the C#, Java and Go bindings from it): the public
 * surface uses plain classes, std::string and virtual listener interfaces (SWIG directors); members
 * taking std::function or returning std::future are hidden from SWIG with `#ifndef SWIG`.
 *
 * Errors: every failing operation throws qix::Error, carrying the C API's status and details.
 *
 * Listeners: a listener that throws never takes the process down. The trampolines catch everything and
 * pass a description to the handler set with qix::set_listener_error_handler() (default: print to stderr).
 *
 * Lifetimes: listener objects passed by pointer are not owned; keep them alive until they are removed or
 * their Session/Object is destroyed. Callbacks run on the threads described in qix.h.
 */
#ifndef QIX_QIX_HPP
#define QIX_QIX_HPP

#include "qix/qix.h"

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>
#ifndef SWIG
#include <functional>
#include <future>
#endif

namespace qix {

/** The exception thrown by the facade: the C API's status code and error details. */
class Error : public std::runtime_error {
 public:
  /** An error with a status and a message (no engine details). */
  Error(int status, const std::string& message)
      : std::runtime_error(message), status_(status), engine_code_(0), retriable_(false) {}
  /** Copies the details of a C error (NULL gives a generic error with @p status). */
  Error(int status, const qix_error* err)
      : std::runtime_error(err ? std::string(qix_error_message(err)) : std::string(qix_strerror(status))),
        status_(err ? qix_error_code(err) : status),
        engine_code_(qix_error_engine_code(err)),
        name_(qix_error_name(err)),
        parameter_(qix_error_parameter(err)),
        retriable_(qix_error_is_retriable(err) != 0) {}

  /** The status code (a negative QIX_E* value). */
  int status() const { return status_; }
  /** Engine errors: the engine's code; HTTP errors: the status; else 0. */
  int engine_code() const { return engine_code_; }
  /** Engine errors: the LOCERR name. */
  const std::string& name() const { return name_; }
  /** Engine errors: the engine's parameter. */
  const std::string& parameter() const { return parameter_; }
  /** The message (same as what()). */
  std::string message() const { return what(); }
  /** True when retrying may succeed. */
  bool retriable() const { return retriable_; }

 private:
  int status_;
  int engine_code_;
  std::string name_;
  std::string parameter_;
  bool retriable_;
};

#ifndef SWIG
namespace detail {
/** Throws qix::Error with the calling thread's last error when @p status is negative. */
inline int check(int status) {
  if (status < 0) throw Error(status, qix_error_last());
  return status;
}
struct StringFree {
  void operator()(char* p) const { qix_free(p); }
};
inline std::string take_string(char* p) {
  std::unique_ptr<char, StringFree> guard(p);
  return p ? std::string(p) : std::string();
}
#ifndef SWIG
inline std::function<void(const std::string&)>& listener_error_handler() {
  static std::function<void(const std::string&)> handler;
  return handler;
}
inline std::mutex& listener_error_mutex() {
  static std::mutex m;
  return m;
}
/** Reports an exception that escaped a listener. Never throws. */
inline void report_listener_exception(const char* where) noexcept {
  try {
    std::string what = "unknown exception";
    try {
      throw;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::string text = std::string("qix: a listener threw in ") + where + ": " + what;
    std::function<void(const std::string&)> handler;
    {
      std::lock_guard<std::mutex> lock(listener_error_mutex());
      handler = listener_error_handler();
    }
    if (handler) {
      handler(text);
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
  } catch (...) {
  }
}
#endif
}  // namespace detail
#endif  // SWIG

#ifndef SWIG
/** Sets the handler that receives descriptions of exceptions thrown by listeners (empty = stderr). */
inline void set_listener_error_handler(std::function<void(const std::string&)> handler) {
  std::lock_guard<std::mutex> lock(detail::listener_error_mutex());
  detail::listener_error_handler() = std::move(handler);
}
#endif

/** The library version at run time ("1.0.0"). */
inline std::string version() {
  return qix_version();
}

/** Settings of a session (see qix.h and docs/defaults.md for the names). Not thread-safe. */
class Options {
 public:
  Options() { detail::check(qix_options_new(&opts_)); }
  ~Options() { qix_options_free(opts_); }
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  /** Sets a string option. Throws qix::Error on an unknown name or bad value. */
  Options& set(const std::string& name, const std::string& value) {
    detail::check(qix_options_set_str(opts_, name.c_str(), value.c_str()));
    return *this;
  }
  /** Sets an integer option. */
  Options& set_int(const std::string& name, int64_t value) {
    detail::check(qix_options_set_int(opts_, name.c_str(), value));
    return *this;
  }
  /** Sets a boolean option. */
  Options& set_bool(const std::string& name, bool value) {
    detail::check(qix_options_set_bool(opts_, name.c_str(), value ? 1 : 0));
    return *this;
  }
  /** Adds an HTTP header to the upgrade request (values are secrets, never logged). */
  Options& add_header(const std::string& name, const std::string& value) {
    detail::check(qix_options_add_header(opts_, name.c_str(), value.c_str()));
    return *this;
  }
  /** Adds a cookie. */
  Options& add_cookie(const std::string& name, const std::string& value) {
    detail::check(qix_options_add_cookie(opts_, name.c_str(), value.c_str()));
    return *this;
  }
  /** Adds a query parameter to the built URL. */
  Options& add_url_param(const std::string& name, const std::string& value) {
    detail::check(qix_options_add_url_param(opts_, name.c_str(), value.c_str()));
    return *this;
  }
  /** The URL these options describe. */
  std::string url() const {
    char* out = nullptr;
    detail::check(qix_options_get_url(&out, opts_));
    return detail::take_string(out);
  }
#ifndef SWIG
  /** Sets (or, with NULL, removes) the traffic log callback; see qix_options_set_traffic_cb(). */
  Options& set_traffic_cb(qix_traffic_cb cb, void* payload) {
    detail::check(qix_options_set_traffic_cb(opts_, cb, payload));
    return *this;
  }
#endif
  /** The C handle (borrowed). */
  const qix_options* handle() const {
    return opts_;
  }

 private:
  qix_options* opts_ = nullptr;
};

/** The description of one session option (see qix_option_info in qix.h): a copy, owned by the caller. */
struct OptionInfo {
  std::string name;          ///< e.g. "timeout.call_ms"
  int value_type = 0;        ///< a qix_option_type: QIX_OPTION_STRING, QIX_OPTION_INT or QIX_OPTION_BOOL
  int64_t min = 0;           ///< integers: the smallest accepted value
  int64_t max = 0;           ///< integers: the largest (INT64_MAX: no upper bound)
  std::string values;        ///< strings with a fixed set of values: "none|attach|resume"; else ""
  std::string default_text;  ///< the default as text ("30000", "true", "none", "")
  std::string doc;           ///< one line of English
};

/** How many options option_info() describes (qix_options_count()). Thread-safe; never throws. */
inline int options_count() {
  return qix_options_count();
}

/**
 * The description of option @p index, 0 <= index < options_count(), in docs/defaults.md's order
 * (qix_options_info()). Thread-safe. Throws qix::Error (QIX_EINVAL) for an index out of range.
 */
inline OptionInfo option_info(int index) {
  const qix_option_info* i = qix_options_info(index);
  if (i == nullptr) throw Error(QIX_EINVAL, qix_error_last());
  return OptionInfo{i->name, i->value_type, i->min, i->max, i->values, i->default_text, i->doc};
}

/**
 * A group of threads shared by sessions. Neither copyable nor movable (sessions keep its C handle, and a
 * hosted context its thread starter): hold it in a std::unique_ptr to pass it around.
 */
class Context {
 public:
  /**
   * Starts one thread for a hosted context: runs @p body once on a new thread of the host's and returns true
   * without waiting for it, or returns false (or throws) when it cannot; then the body never runs. Called
   * from the thread constructing the Context, or from one of its threads when its pool grows, possibly under
   * libqix's locks: it must not call libqix (see ::qix_thread_start_fn).
   */
  using ThreadStarter = std::function<bool(std::function<void()> body)>;

  /** Starts a context with @p io_threads I/O and @p dispatcher_threads callback threads (0 = defaults). */
  explicit Context(int io_threads = 0, int dispatcher_threads = 0) {
    detail::check(qix_context_new(&ctx_, io_threads, dispatcher_threads));
  }
  /**
   * A context whose threads (I/O, dispatcher, and those a hand-over adds) @p start starts
   * (qix_context_new_hosted(): every callback of its sessions runs on a thread the host made). @p start is
   * kept until the Context is destroyed, which waits for every body to return. Throws qix::Error: QIX_EINVAL
   * (an empty @p start, negative counts), QIX_ENOMEM (a thread could not be started: the ones started
   * already have returned from their bodies).
   */
  Context(int io_threads, int dispatcher_threads, ThreadStarter start)
      : start_(std::make_unique<ThreadStarter>(std::move(start))) {
    if (!*start_) throw Error(QIX_EINVAL, "Context: the thread starter is empty");
    detail::check(qix_context_new_hosted(&ctx_, io_threads, dispatcher_threads, &start_thread, start_.get()));
  }
  ~Context() { qix_context_free(ctx_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  /** The C handle (borrowed). */
  qix_context* handle() const { return ctx_; }
  /**
   * How long the I/O thread may poll before it sleeps, in microseconds (qix_context_set_io_spin(): 0 to
   * 1000000, 0 never). Throws qix::Error (QIX_EINVAL) out of range.
   */
  void set_io_spin(int microseconds) { detail::check(qix_context_set_io_spin(ctx_, microseconds)); }

 private:
  static int start_thread(qix_thread_body body, void* arg, void* user) noexcept {
    try {
      return (*static_cast<ThreadStarter*>(user))([body, arg] { body(arg); }) ? 0 : 1;
    } catch (...) {
      return 1;
    }
  }
  std::unique_ptr<ThreadStarter> start_;  // a hosted context's (outlives ctx_: freed after it)
  qix_context* ctx_ = nullptr;
};

/**
 * From a callback about to wait for another thread (a full buffer, a lock): when it runs on an I/O thread,
 * another thread reads the sockets until it returns, while its session's later events keep waiting for it,
 * in order (qix_io_step_aside()). Returns false when there was nothing to do (not in a callback on an I/O
 * thread, or already aside). Never throws.
 */
inline bool io_step_aside() noexcept {
  if (qix_io_step_aside() == QIX_OK) return true;
  qix_error_clear();
  return false;
}

#ifndef SWIG
/**
 * From a callback: runs @p fn on the calling thread once the callbacks run back to back there are over (the
 * rest of the burst of answers), right before the calls they made leave, with a callback's rules
 * (qix_after_callbacks()). Returns false, and @p fn never runs, outside a callback delivered from a session's
 * queue (and with `events.poll`). @p fn must not throw (what it throws is dropped). Never throws but
 * std::bad_alloc.
 */
inline bool after_callbacks(std::function<void()> fn) {
  auto held = std::make_unique<std::function<void()>>(std::move(fn));
  auto run = [](void* payload) {
    std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(payload));
    try {
      (*f)();
    } catch (...) {
    }
  };
  if (qix_after_callbacks(run, held.get()) != QIX_OK) {
    qix_error_clear();
    return false;
  }
  static_cast<void>(held.release());  // `run` owns it now
  return true;
}
#endif

class Object;

/** The outcome of a call, copied out of the C result. */
class Result {
 public:
  Result() = default;
  /** Copies @p res (which stays owned by the caller). */
  explicit Result(const qix_result* res);

  /** QIX_OK or a negative QIX_E*. */
  int status() const { return status_; }
  bool ok() const { return status_ == QIX_OK; }
  int64_t id() const { return id_; }
  /** The unwrapped result as JSON text (qReturn, else the single out value, else the whole result). */
  const std::string& json() const { return json_; }
  /** The engine's whole result object as JSON text. */
  const std::string& raw() const { return raw_; }
  /** The error of a failed call (status() is negative). */
  const Error& error() const { return *error_; }
  /** Throws the error of a failed call; does nothing on success. */
  void throw_if_error() const {
    if (error_) throw Error(*error_);
  }
  /** True when the result refers to an object (OpenDoc, GetObject, CreateSessionObject ...). */
  bool has_object() const { return static_cast<bool>(object_); }
  /** The object the result refers to. Throws qix::Error (QIX_ENOTFOUND) when none. */
  Object object() const;

 private:
  int status_ = QIX_OK;
  int64_t id_ = 0;
  std::string json_ = "null";
  std::string raw_ = "null";
  std::shared_ptr<Error> error_;
  std::shared_ptr<qix_object> object_;
};

/** Receives the result of an asynchronous call (also the layouts of a watch). */
class CallListener {
 public:
  virtual ~CallListener() {}
  virtual void on_result(const Result& result) = 0;
};

/** Receives an object's events. */
class ObjectListener {
 public:
  virtual ~ObjectListener() {}
  /** The object's data is no longer current: fetch the layout. Also once at once when added while the data
   *  is not current (qix_object_on_changed). */
  virtual void on_changed() {}
  /** The object's handle was released. */
  virtual void on_closed() {}
};

/** Receives a session's events. */
class SessionListener {
 public:
  virtual ~SessionListener() {}
  /** A state change (qix_state); @p close_code and @p reason are set for QIX_STATE_CLOSED. */
  virtual void on_state(int state, int close_code, const std::string& reason) {
    (void)state;
    (void)close_code;
    (void)reason;
  }
  /** A notification (e.g. "OnConnected") with its params as JSON text. */
  virtual void on_notification(const std::string& method, const std::string& params_json) {
    (void)method;
    (void)params_json;
  }
};

#ifndef SWIG
namespace detail {
/** Payload of one asynchronous call: deleted by the trampoline after its single run. */
struct CallPayload {
  CallListener* listener = nullptr;
#ifndef SWIG
  std::function<void(const Result&)> fn;
#endif
};
inline void call_trampoline(const qix_result* res, void* payload) {
  std::unique_ptr<CallPayload> p(static_cast<CallPayload*>(payload));
  try {
    Result r(res);
    if (p->listener) p->listener->on_result(r);
#ifndef SWIG
    if (p->fn) p->fn(r);
#endif
  } catch (...) {
    report_listener_exception("a call completion");
  }
}
/**
 * The payloads of the watches set through this facade, by token (the token is what the C API carries).
 * A watch callback holds its own reference to its payload while it runs, so freeing the Object (or
 * replacing its watch) on another thread at that moment never frees a payload still in use: the C API
 * stops callbacks from starting once the watch is stopped, but does not wait for one already running.
 * Never destroyed: a callback may run while the process exits.
 */
class WatchPayloads {
 public:
  static WatchPayloads& get() {
    static auto* payloads = new WatchPayloads;
    return *payloads;
  }
  std::uintptr_t add(std::shared_ptr<CallPayload> p) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::uintptr_t token = next_++;
    if (next_ == 0) next_ = 1;  // 0 means "no watch"
    by_token_.emplace(token, std::move(p));
    return token;
  }
  std::shared_ptr<CallPayload> find(std::uintptr_t token) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_token_.find(token);
    return it == by_token_.end() ? nullptr : it->second;
  }
  void remove(std::uintptr_t token) {
    std::shared_ptr<CallPayload> gone;  // released after the lock: its function's captures may be large
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_token_.find(token);
    if (it == by_token_.end()) return;
    gone = std::move(it->second);
    by_token_.erase(it);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::uintptr_t, std::shared_ptr<CallPayload>> by_token_;
  std::uintptr_t next_ = 1;
};
/** A watch's callback: @p payload is its token in WatchPayloads (gone once the watch was stopped). */
inline void watch_trampoline(const qix_result* res, void* payload) {
  auto p = WatchPayloads::get().find(reinterpret_cast<std::uintptr_t>(payload));
  if (!p) return;  // stopped while this layout was on its way
  try {
    Result r(res);
    if (p->listener) p->listener->on_result(r);
#ifndef SWIG
    if (p->fn) p->fn(r);
#endif
  } catch (...) {
    report_listener_exception("a watch");
  }
}
inline void changed_trampoline(qix_object*, void* payload) {
  try {
    static_cast<ObjectListener*>(payload)->on_changed();
  } catch (...) {
    report_listener_exception("ObjectListener::on_changed");
  }
}
inline void closed_trampoline(qix_object*, void* payload) {
  try {
    static_cast<ObjectListener*>(payload)->on_closed();
  } catch (...) {
    report_listener_exception("ObjectListener::on_closed");
  }
}
inline void state_trampoline(qix_session*, int state, int code, const char* reason, void* payload) {
  try {
    static_cast<SessionListener*>(payload)->on_state(state, code, reason ? reason : "");
  } catch (...) {
    report_listener_exception("SessionListener::on_state");
  }
}
inline void notification_trampoline(qix_session*, const char* method, const char* params, void* payload) {
  try {
    static_cast<SessionListener*>(payload)->on_notification(method ? method : "", params ? params : "null");
  } catch (...) {
    report_listener_exception("SessionListener::on_notification");
  }
}
/** Payload of one extraction: deleted by the done trampoline, which always runs once after a start. */
struct ExtractPayload {
  std::function<bool(const std::string&, int64_t)> on_row;
  std::promise<int64_t> done;
};
inline int extract_row_trampoline(const char* row, size_t len, int64_t index, void* payload) {
  try {
    return static_cast<ExtractPayload*>(payload)->on_row(std::string(row, len), index) ? 0 : 1;
  } catch (...) {
    report_listener_exception("an extraction's row function");
    return 1;  // stops the extraction (QIX_ECANCELLED)
  }
}
inline void extract_done_trampoline(int status, const qix_error* err, int64_t rows, void* payload) {
  std::unique_ptr<ExtractPayload> p(static_cast<ExtractPayload*>(payload));
  if (status == QIX_OK) {
    p->done.set_value(rows);
  } else {
    p->done.set_exception(std::make_exception_ptr(Error(status, err)));
  }
}
/** Issues an asynchronous call through @p fn, freeing the payload when the C API will not call back. */
template <class Issue>
int64_t issue_call(Issue issue, CallPayload* payload) {
  int64_t id = 0;
  int rc = issue(&id, payload);
  // QIX_ECLOSED calls back (with the error); QIX_EINVAL and other early failures do not.
  if (rc < 0 && rc != QIX_ECLOSED) {
    delete payload;
    check(rc);
  }
  return id;
}
/** A call completion that settles @p promise: the result, or its qix::Error as an exception. */
inline std::function<void(const Result&)> fulfil(std::shared_ptr<std::promise<Result>> promise) {
  return [promise = std::move(promise)](const Result& r) {
    if (r.ok()) {
      promise->set_value(r);
    } else {
      promise->set_exception(std::make_exception_ptr(r.error()));
    }
  };
}
}  // namespace detail
#endif  // SWIG

/**
 * A handle to an engine object. Copies share the same C handle (reference counted); the last copy frees
 * it, removing the listeners and watch registered through it. After the engine closes the handle (or the
 * session ends) the object is a zombie: calls throw qix::Error with QIX_ECLOSED.
 * Listeners are not owned, and a removal (or the last copy's release) does not wait for a callback already
 * running on libqix's event thread: keep a listener alive until its session is closed and drained
 * (Session::close(), then Session::wait_closed()). See docs/cpp.md, "Listener lifetime".
 */
class Object {
 public:
  /** An empty object (no handle): every call throws QIX_EINVAL. */
  Object() = default;
#ifndef SWIG
  /** Adopts a C handle (takes ownership). */
  explicit Object(qix_object* obj) : state_(std::make_shared<State>(obj)) {}
#endif

  bool empty() const {
    return !state_;
  }
  int handle() const {
    return qix_object_handle(c());
  }
  std::string type() const {
    return qix_object_type(c());
  }
  std::string generic_id() const {
    return qix_object_generic_id(c());
  }
  std::string generic_type() const {
    return qix_object_generic_type(c());
  }
  bool valid() const {
    return qix_object_is_valid(c()) != 0;
  }
  bool closed() const {
    return qix_object_is_closed(c()) != 0;
  }
  /** The last fetched layout as JSON text. Throws QIX_ENOTFOUND when none was fetched. */
  std::string layout() const {
    char* out = nullptr;
    detail::check(qix_object_layout(&out, c()));
    return detail::take_string(out);
  }

  /** Blocking call; throws qix::Error on failure. @p flags: qix_call_flags; @p timeout_ms -1 = default. */
  Result call(const std::string& method, const std::string& params_json = "[]", int flags = QIX_CALL_DEFAULT,
              int timeout_ms = -1) {
    qix_result* res = nullptr;
    detail::check(qix_object_call_sync(&res, c(), method.c_str(), params_json.c_str(), flags, timeout_ms));
    Result r(res);
    qix_result_free(res);
    return r;
  }
  /** Asynchronous call; @p listener (not owned) gets the result once. Returns the request id. */
  int64_t call_async(const std::string& method, const std::string& params_json, CallListener* listener,
                     int flags = QIX_CALL_DEFAULT, int timeout_ms = -1) {
    auto* p = new detail::CallPayload;
    p->listener = listener;
    return issue(method, params_json, flags, timeout_ms, p);
  }
#ifndef SWIG
  /** Asynchronous call with a function. */
  int64_t call_async(const std::string& method, const std::string& params_json,
                     std::function<void(const Result&)> fn, int flags = QIX_CALL_DEFAULT,
                     int timeout_ms = -1) {
    auto* p = new detail::CallPayload;
    p->fn = std::move(fn);
    return issue(method, params_json, flags, timeout_ms, p);
  }
  /** Asynchronous call as a future: get() returns the result or throws its qix::Error. */
  std::future<Result> call_future(const std::string& method, const std::string& params_json = "[]",
                                  int flags = QIX_CALL_DEFAULT, int timeout_ms = -1) {
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    call_async(method, params_json, detail::fulfil(promise), flags, timeout_ms);
    return future;
  }
#endif

#ifndef SWIG
  /**
   * Bulk extraction (qix_object_extract): streams every row of the hypercube at @p path (e.g.
   * "/qHyperCubeDef") to @p on_row, as the JSON array of its cells with its index, in row order, on the
   * session's event thread; @p on_row returns false to stop. The future gives the number of rows, or throws
   * the qix::Error that ended the extraction (QIX_ECANCELLED after a stop). @p page_height: rows per
   * GetHyperCubeData (0 = as many as fit in 10,000 cells); @p window: pages in flight at most (0 = 4).
   */
  std::future<int64_t> extract(const std::string& path,
                               std::function<bool(const std::string&, int64_t)> on_row, int page_height = 0,
                               int window = 0) {
    if (!on_row) throw Error(QIX_EINVAL, "on_row is empty");
    auto* p = new detail::ExtractPayload;
    p->on_row = std::move(on_row);
    std::future<int64_t> future = p->done.get_future();
    int rc = qix_object_extract(c(), path.c_str(), page_height, window, &detail::extract_row_trampoline,
                                &detail::extract_done_trampoline, p);
    if (rc < 0) {
      delete p;  // not started: no callback runs
      detail::check(rc);
    }
    return future;
  }
#endif

  /** Registers @p listener (not owned) for "changed" and "closed". */
  void add_listener(ObjectListener* listener) {
    if (!listener) throw Error(QIX_EINVAL, "listener is null");
    uint64_t a = 0, b = 0;
    detail::check(qix_object_on_changed(&a, c(), &detail::changed_trampoline, listener));
    int rc = qix_object_on_closed(&b, c(), &detail::closed_trampoline, listener);
    if (rc < 0) qix_object_remove_listener(c(), a);
    detail::check(rc);
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->listeners.push_back({listener, {a, b}});
  }
  /** Removes a listener added with add_listener(): once this returns it is not called again, not even for an
   *  event already queued (a call already running on another thread finishes). */
  void remove_listener(ObjectListener* listener) {
    if (!state_) return;
    std::lock_guard<std::mutex> lock(state_->mutex);
    for (auto it = state_->listeners.begin(); it != state_->listeners.end();) {
      if (it->first == listener) {
        qix_object_remove_listener(state_->obj, it->second.first);
        qix_object_remove_listener(state_->obj, it->second.second);
        it = state_->listeners.erase(it);
      } else {
        ++it;
      }
    }
  }
  /** Keeps the layout fresh; @p listener (not owned) gets each fresh layout (or the fetch's error). */
  void watch(CallListener* listener) {
    auto p = std::make_shared<detail::CallPayload>();
    p->listener = listener;
    set_watch(std::move(p));
  }
#ifndef SWIG
  /** watch() with a function. */
  void watch(std::function<void(const Result&)> fn) {
    auto p = std::make_shared<detail::CallPayload>();
    p->fn = std::move(fn);
    set_watch(std::move(p));
  }
#endif
  /** Stops watching: no layout is delivered once this returns, not even one already queued. A callback
   *  already running on another thread finishes: the watch's CallListener may still be in on_result()
   *  when this returns, so keep it alive until the session is closed and drained (Session::wait_closed());
   *  a watch's function is kept by the facade until that callback returns. */
  void unwatch() {
    detail::check(qix_object_unwatch(c()));
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->watch) detail::WatchPayloads::get().remove(std::exchange(state_->watch, 0));
  }

  /** The C handle (borrowed; valid while this Object or a copy lives). */
  qix_object* c_handle() const {
    return c();
  }

 private:
  struct State {
    explicit State(qix_object* o) : obj(o) {}
    ~State() {
      qix_object_free(obj);  // no listener callback starts after this (one running finishes)
      if (watch) detail::WatchPayloads::get().remove(watch);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    qix_object* obj;
    std::mutex mutex;
    std::vector<std::pair<ObjectListener*, std::pair<uint64_t, uint64_t>>> listeners;
    std::uintptr_t watch = 0;  // token of the watch set through this state (detail::WatchPayloads)
  };
  qix_object* c() const {
    return state_ ? state_->obj : nullptr;
  }
  int64_t issue(const std::string& method, const std::string& params, int flags, int timeout_ms,
                detail::CallPayload* p) {
    qix_object* o = c();
    return detail::issue_call(
        [&](int64_t* id, detail::CallPayload* payload) {
          return qix_object_call(id, o, method.c_str(), params.c_str(), flags, timeout_ms,
                                 &detail::call_trampoline, payload);
        },
        p);
  }
  void set_watch(std::shared_ptr<detail::CallPayload> p) {
    if (!state_) throw Error(QIX_EINVAL, "empty object");
    auto& payloads = detail::WatchPayloads::get();
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::uintptr_t token = payloads.add(std::move(p));
    // The payload is the token, never dereferenced (a freed payload's address could be reused).
    void* as_payload = reinterpret_cast<void*>(token);  // NOLINT(performance-no-int-to-ptr)
    int rc = qix_object_watch(state_->obj, &detail::watch_trampoline, as_payload);
    if (rc != QIX_OK) {
      payloads.remove(token);
      detail::check(rc);
    }
    // The previous payload may be in use by a callback running right now: that callback holds its own
    // reference, and no new one starts (the C API stopped the previous watch).
    if (state_->watch) payloads.remove(state_->watch);
    state_->watch = token;
  }
  std::shared_ptr<State> state_;
};

inline Result::Result(const qix_result* res) {
  if (!res) {
    status_ = QIX_EINVAL;
    error_ = std::make_shared<Error>(QIX_EINVAL, "null result");
    return;
  }
  status_ = qix_result_status(res);
  id_ = qix_result_id(res);
  json_ = qix_result_json(res);
  raw_ = qix_result_raw(res);
  if (status_ != QIX_OK) error_ = std::make_shared<Error>(status_, qix_result_error(res));
  qix_object* obj = nullptr;
  // Checked first: most answers refer to no object, and asking qix_result_object() of them would set (and
  // leave) the thread's last error. Fails only out of memory: the result then has no object.
  if (qix_result_has_object(res) && qix_result_object(&obj, res) == QIX_OK) {
    object_ = std::shared_ptr<qix_object>(obj, [](qix_object* o) { qix_object_free(o); });
  }
}

inline Object Result::object() const {
  if (!object_) throw Error(QIX_ENOTFOUND, "the result refers to no object");
  qix_object* dup = nullptr;
  detail::check(qix_object_dup(&dup, object_.get()));
  return Object(dup);
}

/**
 * A session: one WebSocket to one engine app. Neither copyable nor movable (it holds the lock of its
 * listeners: hold it in a std::unique_ptr to pass it around); the destructor closes and frees it.
 */
class Session {
 public:
  /** Opens a session and waits until connected (throws qix::Error on failure). @p ctx NULL = default context.
   */
  Session(const Options& options, int timeout_ms = 0, Context* ctx = nullptr) {
    detail::check(qix_session_open_sync(&s_, ctx ? ctx->handle() : nullptr, options.handle(), timeout_ms));
    qix_object* g = nullptr;
    int rc = qix_session_global(&g, s_);
    if (rc < 0) {
      qix_session_free(s_);
      detail::check(rc);
    }
    global_ = Object(g);
  }
  ~Session() {
    global_ = Object();  // its handle goes before the session's
    qix_session_free(s_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /** Closes the connection; later calls throw QIX_ECLOSED. Idempotent. */
  void close() { qix_session_close(s_); }
  /**
   * Waits until the session is closed and drained: its CLOSED state event and every callback queued before
   * it have run (qix_session_wait_closed()). @p timeout_ms: 0 = only check, -1 = as long as it takes.
   * Returns false when the time ran out first; throws qix::Error (QIX_EBUSY) from inside a callback.
   */
  bool wait_closed(int timeout_ms) {
    int rc = qix_session_wait_closed(s_, timeout_ms);
    if (rc == QIX_ETIMEOUT) return false;
    detail::check(rc);
    return true;
  }
  int state() const { return qix_session_state(s_); }
  int64_t pending_calls() const { return qix_session_pending_calls(s_); }

  /** Blocking call on the Global object: global().call(...). */
  Result call(const std::string& method, const std::string& params_json = "[]", int flags = QIX_CALL_DEFAULT,
              int timeout_ms = -1) {
    return global_.call(method, params_json, flags, timeout_ms);
  }
  /** Asynchronous call on the Global object; @p listener (not owned) gets the result once. */
  int64_t call_async(const std::string& method, const std::string& params_json, CallListener* listener,
                     int flags = QIX_CALL_DEFAULT, int timeout_ms = -1) {
    return global_.call_async(method, params_json, listener, flags, timeout_ms);
  }
#ifndef SWIG
  int64_t call_async(const std::string& method, const std::string& params_json,
                     std::function<void(const Result&)> fn, int flags = QIX_CALL_DEFAULT,
                     int timeout_ms = -1) {
    return global_.call_async(method, params_json, std::move(fn), flags, timeout_ms);
  }
  std::future<Result> call_future(const std::string& method, const std::string& params_json = "[]",
                                  int flags = QIX_CALL_DEFAULT, int timeout_ms = -1) {
    return global_.call_future(method, params_json, flags, timeout_ms);
  }
#endif
  /** Cancels a pending call. Returns false when it is not pending. */
  bool cancel(int64_t id) {
    int rc = qix_session_cancel(s_, id);
    if (rc == QIX_ENOTFOUND) return false;
    detail::check(rc);
    return true;
  }
  /** The Global object (handle -1), as a handle of its own (its listeners go with it); the session's calls
   *  are calls on the Global object too. */
  Object global() {
    qix_object* o = nullptr;
    detail::check(qix_session_global(&o, s_));
    return Object(o);
  }
  /** Opens an app: OpenDoc with @p app_id, returning the Doc object. */
  Object open_doc(const std::string& app_id) {
    std::string params = "[\"";
    for (char ch : app_id) {
      if (ch == '"' || ch == '\\') params += '\\';
      params += ch;
    }
    params += "\"]";
    return call("OpenDoc", params).object();
  }
  /** Registers @p listener (not owned) for state changes and every notification (history replayed). */
  void add_listener(SessionListener* listener) {
    if (!listener) throw Error(QIX_EINVAL, "listener is null");
    uint64_t a = 0, b = 0;
    detail::check(qix_session_on_state(&a, s_, &detail::state_trampoline, listener));
    int rc = qix_session_on_notification(&b, s_, nullptr, 1, &detail::notification_trampoline, listener);
    if (rc < 0) qix_session_remove_listener(s_, a);
    detail::check(rc);
    std::lock_guard<std::mutex> lock(mutex_);
    listeners_.push_back({listener, {a, b}});
  }
  /** Removes a listener added with add_listener(): once this returns it is not called again, not even for an
   *  event already queued (a call already running on another thread finishes: close() and wait_closed()
   *  wait for that too). */
  void remove_listener(SessionListener* listener) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (it->first == listener) {
        qix_session_remove_listener(s_, it->second.first);
        qix_session_remove_listener(s_, it->second.second);
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
  }
  /** With the option events.poll: runs queued callbacks here (see qix_session_poll()). */
  int poll(int timeout_ms) {
    return detail::check(qix_session_poll(s_, timeout_ms));
  }
  /** Wakes a blocked poll(). */
  void wake() {
    detail::check(qix_session_wake(s_));
  }
  /**
   * With the option events.poll: the descriptor that is readable exactly while poll() has something to take
   * (qix_session_poll_fd(): Linux, owned by the session; wait for readability only). Throws qix::Error
   * (QIX_EINVAL without events.poll or without eventfd, QIX_ENOMEM).
   */
  int poll_fd() {
    int fd = -1;
    detail::check(qix_session_poll_fd(s_, &fd));
    return fd;
  }
  /**
   * With the option events.poll: calls @p fn each time poll() gets something to take
   * (qix_session_set_poll_ready(): at once when something is queued already), from the thread that queued
   * it, mostly libqix's I/O thread. @p fn must only wake the host's loop (no libqix calls, no blocking, no
   * exceptions: one is dropped). An empty @p fn removes it; once this returns, the previous one is not called
   * any more (so this must not be called from @p fn). Throws qix::Error (QIX_EINVAL without events.poll).
   */
  void set_poll_ready(std::function<void()> fn) {
    std::unique_ptr<std::function<void()>> next;
    if (fn) next = std::make_unique<std::function<void()>>(std::move(fn));
    std::lock_guard<std::mutex> lock(mutex_);
    detail::check(next ? qix_session_set_poll_ready(s_, &poll_ready_trampoline, next.get())
                       : qix_session_set_poll_ready(s_, nullptr, nullptr));
    poll_ready_ = std::move(next);  // the previous one is not called any more: freed here
  }
  /**
   * Hands the session's later events to another dispatcher thread while the callback now running goes on
   * (qix_session_hand_over_events()): from that callback, it may then block, e.g. in call(); from another
   * thread, it ends a hold-up by a callback that blocks. Returns false when none of the session's events
   * was being delivered; throws qix::Error for a session opened with events.poll.
   */
  bool hand_over_events() {
    int rc = qix_session_hand_over_events(s_);
    if (rc == QIX_ENOTFOUND) {
      qix_error_clear();
      return false;
    }
    detail::check(rc);
    return true;
  }

  /** The C handle (borrowed; valid while this Session lives). */
  qix_session* c_handle() const {
    return s_;
  }

 private:
  static void poll_ready_trampoline(void* user) {
    try {
      (*static_cast<std::function<void()>*>(user))();
    } catch (...) {
    }
  }
  qix_session* s_ = nullptr;
  Object global_;
  std::mutex mutex_;
  std::vector<std::pair<SessionListener*, std::pair<uint64_t, uint64_t>>> listeners_;
  std::unique_ptr<std::function<void()>> poll_ready_;  // set_poll_ready's (guarded by mutex_); freed after s_
};

}  // namespace qix

#endif /* QIX_QIX_HPP */
