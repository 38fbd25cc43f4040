// Internal to libqix.so: the types behind the C ABI's opaque handles and the helpers every room of the
// C API shares (errors.cpp, options.cpp, sessions.cpp, objects.cpp). Never installed, never included by
// users; everything here has hidden visibility (only qix_* functions are exported, see libqix.map).
//
// The exception barrier: every exported function body runs inside QIX_TRY / QIX_CATCH (or
// QIX_CATCH_VOID for functions without a status), so no C++ exception crosses the ABI.
//
// Handles that user callbacks receive (qix_session, qix_object) are owned by a shared_ptr kept inside the
// handle (`self`) for the user's reference; lambdas registered with the core hold weak_ptrs, so the core
// never keeps a handle alive (no cycles), and a callback that races with the handle's free either runs on
// a still-live handle or is skipped.
#pragma once

#include "qix/qix.h"

#include "json/json.hpp"
#include "rpc/error.hpp"
#include "session/context.hpp"
#include "session/session.hpp"
#include "transport/url.hpp"
#include "transport/websocket_transport.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

// ---------------------------------------------------------------------------------------------------------
// The opaque types of qix.h

struct qix_error {
  int status = QIX_OK;
  int engine_code = 0;
  std::string name;
  std::string parameter;
  std::string message;
  bool retriable = false;
};

struct qix_context {
  std::shared_ptr<qix::core::Context> ctx;
  bool is_default = false;
};

struct qix_options {
  qix::core::ConnectOptions conn;
  qix::core::UrlConfig url;
  bool url_given = false;
  qix::core::SessionOptions session;
  bool inline_given = false;  // events.inline set (else: on, unless events.poll is)
  qix_traffic_cb traffic = nullptr;
  void* traffic_payload = nullptr;
};

struct qix_object {
  std::shared_ptr<qix::core::Object> obj;
  std::shared_ptr<qix_object> self;  // the user's reference; reset by qix_object_free
  std::atomic<bool> alive{true};
  std::mutex mutex;
  std::vector<qix::core::ListenerId> listeners;
  std::uint64_t watch_token = 0;  // the watch this handle set (0: none); see qix_object_watch
};

/// A text written on first request and then read from any thread: the flag is read without the lock once set.
/// Not std::call_once: glibc's pthread_once makes a futex wake system call each time it runs a function,
/// which is once per result here (a system call per call completion, for every binding that reads the
/// result's text).
struct qix_lazy_text {
  template <class Make>
  const std::string& get(Make&& make) const {
    if (!ready.load(std::memory_order_acquire)) {
      std::lock_guard lock(mutex);
      if (!ready.load(std::memory_order_relaxed)) {
        text = make();
        ready.store(true, std::memory_order_release);
      }
    }
    return text;
  }

 private:
  mutable std::atomic<bool> ready{false};
  mutable std::mutex mutex;
  mutable std::string text;
};

struct qix_result {
  int status = QIX_OK;
  qix_error error;
  std::int64_t id = 0;
  qix::core::json::value value;  // the engine's result object (moved from the core, never copied); null when
                                 // the core gave text only (CallOptions::text_result)
  std::string text;              // value's text as received, when the core kept it (CallResult::text)
  std::size_t text_value_at = std::string::npos;  // CallResult::text_value_at / _size
  std::size_t text_value_size = 0;
  // Its JSON texts, written on first request (most callers read one of them, some neither).
  qix_lazy_text json, raw;
  std::shared_ptr<qix::core::Object> object;
};

struct qix_session {
  std::shared_ptr<qix::core::Session> s;
  std::shared_ptr<qix_session> self;  // the user's reference; reset by qix_session_free
  std::atomic<bool> alive{true};
  std::mutex mutex;
  std::vector<qix::core::ListenerId> listeners;
  qix::core::ListenerId drain_listener = 0;  // guarded by mutex; see sessions.cpp
  // qix_session_wait_closed: set once the CLOSED state event and every callback queued before it ran.
  std::mutex drained_mutex;
  std::condition_variable drained_cv;
  bool drained = false;
};

namespace qix::capi {

namespace core = qix::core;
namespace json = qix::core::json;

// ---------------------------------------------------------------------------------------------------------
// Errors (errors.cpp)

int status_of(core::ErrorKind kind) noexcept;
qix_error make_error(const core::Error& e);
qix_error make_error(int status, std::string message);

/// Records `err` as the calling thread's last error (qix_error_last) and returns its status.
int fail(qix_error err);
int fail(int status, std::string message);
int fail(const core::Error& e);
int fail_nomem() noexcept;
int fail_internal(const char* what) noexcept;

#define QIX_TRY try {
#define QIX_CATCH                                           \
  }                                                         \
  catch (const std::bad_alloc&) {                           \
    return ::qix::capi::fail_nomem();                       \
  }                                                         \
  catch (const std::exception& e) {                         \
    return ::qix::capi::fail_internal(e.what());            \
  }                                                         \
  catch (...) {                                             \
    return ::qix::capi::fail_internal("unknown exception"); \
  }
// For functions that return void or a plain value: swallow everything.
#define QIX_CATCH_VOID \
  }                    \
  catch (...) {        \
  }

/// A malloc'ed copy of `s`, for `char **out` parameters (released with qix_free). Throws bad_alloc.
char* dup_string(const std::string& s);

inline std::chrono::milliseconds ms(std::int64_t v) {
  return std::chrono::milliseconds(v);
}

// ---------------------------------------------------------------------------------------------------------
// Options (options.cpp)

/// The URL the options connect to: `url` when given, else the one built from the url.* parts.
std::string build_url_of(const qix_options& o);

// ---------------------------------------------------------------------------------------------------------
// Objects and results (objects.cpp)

/// A new handle (the user's reference) on `obj`.
qix_object* new_object_handle(std::shared_ptr<core::Object> obj);
inline bool object_usable(const qix_object* obj) {
  return obj && obj->obj;
}
/// Moves the result out of @p r into @p res (a fresh qix_result).
void fill_result(qix_result& res, core::CallResult& r);
/// Moves the result out of @p r into a new qix_result (a blocking call's, which the caller frees).
std::unique_ptr<qix_result> make_result(core::CallResult& r);

/// The shared bodies of qix_session_call* and qix_object_call*: on `obj` when set, else on `handle` of `s`.
int do_call(int64_t* out_id, const std::shared_ptr<core::Session>& s,
            const std::shared_ptr<core::Object>& obj, int handle, const char* method, const char* params_json,
            int flags, int timeout_ms, qix_call_cb cb, void* payload);
int do_call_sync(qix_result** out, const std::shared_ptr<core::Session>& s,
                 const std::shared_ptr<core::Object>& obj, int handle, const char* method,
                 const char* params_json, int flags, int timeout_ms);

}  // namespace qix::capi
