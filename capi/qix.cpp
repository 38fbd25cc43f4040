// The C ABI of libqix over the core (see include/qix/qix.h for the contract).
//
// Every exported function runs inside a catch-all barrier (QIX_TRY / QIX_CATCH): no C++ exception
// crosses the ABI. Handles that user callbacks receive (qix_session, qix_object) are owned by a
// shared_ptr kept inside the handle (`self`) for the user's reference; lambdas registered with the core
// hold weak_ptrs, so the core never keeps a handle alive (no cycles), and a callback that races with the
// handle's free either runs on a still-live handle or is skipped.
#include "qix/qix.h"

#include "json/json.hpp"
#include "rpc/error.hpp"
#include "session/context.hpp"
#include "session/session.hpp"
#include "transport/url.hpp"
#include "transport/websocket_transport.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <cstdint>
#include <string>
#include <vector>

namespace core = qix::core;
namespace json = qix::core::json;

// ---------------------------------------------------------------------------------------------------------
// Errors

struct qix_error {
  int status = QIX_OK;
  int engine_code = 0;
  std::string name;
  std::string parameter;
  std::string message;
  bool retriable = false;
};

namespace {

thread_local std::optional<qix_error> tl_last_error;

int status_of(core::ErrorKind kind) noexcept {
  switch (kind) {
    case core::ErrorKind::none: return QIX_OK;
    case core::ErrorKind::engine: return QIX_EENGINE;
    case core::ErrorKind::connection_lost: return QIX_ECONNECTION;
    case core::ErrorKind::timeout: return QIX_ETIMEOUT;
    case core::ErrorKind::cancelled: return QIX_ECANCELLED;
    case core::ErrorKind::closed: return QIX_ECLOSED;
    case core::ErrorKind::invalid_argument: return QIX_EINVAL;
    case core::ErrorKind::protocol: return QIX_EPROTOCOL;
    case core::ErrorKind::message_too_large: return QIX_ETOOLARGE;
    case core::ErrorKind::not_found: return QIX_ENOTFOUND;
    case core::ErrorKind::http_status: return QIX_EHTTP;
    case core::ErrorKind::tls: return QIX_ETLS;
    case core::ErrorKind::network: return QIX_ENETWORK;
    case core::ErrorKind::busy: return QIX_EBUSY;
    case core::ErrorKind::internal: return QIX_EINTERNAL;
  }
  return QIX_EINTERNAL;
}

qix_error make_error(const core::Error& e) {
  qix_error out;
  out.status = status_of(e.kind);
  out.engine_code = e.code;
  out.name = e.name;
  out.parameter = e.parameter;
  out.message = e.message.empty() ? e.describe() : e.message;
  out.retriable = e.retriable();
  return out;
}

qix_error make_error(int status, std::string message) {
  qix_error out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

int fail(qix_error err) {
  int status = err.status;
  tl_last_error = std::move(err);
  return status;
}
int fail(int status, std::string message) { return fail(make_error(status, std::move(message))); }
int fail(const core::Error& e) { return fail(make_error(e)); }

// The barrier: every exported function body is wrapped in it.
int fail_nomem() noexcept {
  try {
    return fail(QIX_ENOMEM, "out of memory");
  } catch (...) {
    return QIX_ENOMEM;
  }
}
int fail_internal(const char* what) noexcept {
  try {
    return fail(QIX_EINTERNAL, std::string("internal error: ") + what);
  } catch (...) {
    return QIX_EINTERNAL;
  }
}

#define QIX_TRY try {
#define QIX_CATCH                                        \
  }                                                      \
  catch (const std::bad_alloc&) {                        \
    return fail_nomem();                                 \
  }                                                      \
  catch (const std::exception& e) {                      \
    return fail_internal(e.what());                      \
  }                                                      \
  catch (...) {                                          \
    return fail_internal("unknown exception");           \
  }
// For functions that return void or a plain value: swallow everything.
#define QIX_CATCH_VOID \
  }                    \
  catch (...) {        \
  }

char* dup_string(const std::string& s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

std::chrono::milliseconds ms(std::int64_t v) { return std::chrono::milliseconds(v); }

}  // namespace

extern "C" {

const qix_error* qix_error_last(void) { return tl_last_error ? &*tl_last_error : nullptr; }

void qix_error_clear(void) { tl_last_error.reset(); }

int qix_error_code(const qix_error* err) { return err ? err->status : QIX_EINVAL; }
int qix_error_engine_code(const qix_error* err) { return err ? err->engine_code : 0; }
const char* qix_error_name(const qix_error* err) { return err ? err->name.c_str() : ""; }
const char* qix_error_parameter(const qix_error* err) { return err ? err->parameter.c_str() : ""; }
const char* qix_error_message(const qix_error* err) { return err ? err->message.c_str() : ""; }
int qix_error_is_retriable(const qix_error* err) { return err && err->retriable ? 1 : 0; }

int qix_error_dup(qix_error** out, const qix_error* err) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_error_dup: out is NULL");
  *out = nullptr;
  if (!err) return fail(QIX_EINVAL, "qix_error_dup: err is NULL");
  *out = new qix_error(*err);
  return QIX_OK;
  QIX_CATCH
}

void qix_error_free(qix_error* err) { delete err; }

const char* qix_strerror(int status) {
  switch (status) {
    case QIX_OK: return "success";
    case QIX_EINVAL: return "invalid argument";
    case QIX_ECLOSED: return "session or object closed";
    case QIX_EENGINE: return "engine error";
    case QIX_ETIMEOUT: return "timed out";
    case QIX_ECANCELLED: return "cancelled";
    case QIX_ECONNECTION: return "connection lost";
    case QIX_ENOTFOUND: return "not found";
    case QIX_EPROTOCOL: return "protocol error";
    case QIX_ETOOLARGE: return "message too large";
    case QIX_EHTTP: return "HTTP error status";
    case QIX_ETLS: return "TLS error";
    case QIX_ENETWORK: return "network error";
    case QIX_EBUSY: return "busy: not possible from a callback";
    case QIX_ENOMEM: return "out of memory";
    case QIX_EINTERNAL: return "internal error";
    default: return "unknown status";
  }
}

const char* qix_version(void) { return QIX_VERSION_STRING; }

void qix_free(void* ptr) { std::free(ptr); }

}  // extern "C"

// ---------------------------------------------------------------------------------------------------------
// Contexts and options

struct qix_context {
  std::shared_ptr<core::Context> ctx;
  bool is_default = false;
};

struct qix_options {
  core::ConnectOptions conn;
  core::UrlConfig url;
  bool url_given = false;
  core::SessionOptions session;
  qix_traffic_cb traffic = nullptr;
  void* traffic_payload = nullptr;
};

namespace {

std::string build_url_of(const qix_options& o) { return o.url_given ? o.conn.url : core::build_url(o.url); }

}  // namespace

extern "C" {

int qix_context_new(qix_context** out, int io_threads, int dispatcher_threads) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_context_new: out is NULL");
  *out = nullptr;
  if (io_threads < 0 || dispatcher_threads < 0) return fail(QIX_EINVAL, "qix_context_new: negative thread count");
  core::Context::Options o;
  if (io_threads > 0) o.io_threads = io_threads;
  if (dispatcher_threads > 0) o.dispatcher_threads = dispatcher_threads;
  auto c = std::make_unique<qix_context>();
  c->ctx = core::Context::create(o);
  *out = c.release();
  return QIX_OK;
  QIX_CATCH
}

qix_context* qix_context_default(void) {
  try {
    // Never destroyed: the core's default context outlives every user of this handle.
    static qix_context* def = [] {
      auto* c = new qix_context;
      c->ctx = core::Context::default_context();
      c->is_default = true;
      return c;
    }();
    return def;
  } catch (...) {
    return nullptr;
  }
}

void qix_context_free(qix_context* ctx) {
  try {
    if (!ctx || ctx->is_default) return;
    delete ctx;
  } catch (...) {
  }
}

int qix_options_new(qix_options** out) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_options_new: out is NULL");
  *out = new qix_options;
  return QIX_OK;
  QIX_CATCH
}

void qix_options_free(qix_options* opts) { delete opts; }

int qix_options_set_str(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value) return fail(QIX_EINVAL, "qix_options_set_str: NULL argument");
  std::string n(name);
  std::string v(value);
  if (n == "url") {
    opts->conn.url = v;
    opts->url_given = !v.empty();
  } else if (n == "url.host") {
    opts->url.host = v;
  } else if (n == "url.prefix") {
    opts->url.prefix = v;
  } else if (n == "url.subpath") {
    opts->url.subpath = v;
  } else if (n == "url.route") {
    opts->url.route = v;
  } else if (n == "url.app_id") {
    opts->url.app_id = v;
  } else if (n == "url.identity") {
    opts->url.identity = v;
  } else if (n == "origin") {
    opts->conn.origin = v;
  } else if (n == "user_agent") {
    opts->conn.user_agent = v;
  } else if (n == "tls.ca_file") {
    opts->conn.tls.ca_file = v;
  } else if (n == "tls.ca_dir") {
    opts->conn.tls.ca_dir = v;
  } else if (n == "tls.cert_file") {
    opts->conn.tls.cert_file = v;
  } else if (n == "tls.key_file") {
    opts->conn.tls.key_file = v;
  } else if (n == "tls.server_name") {
    opts->conn.tls.server_name = v;
  } else if (n == "reconnect") {
    using P = core::ReconnectOptions::Policy;
    if (v == "none") {
      opts->session.reconnect.policy = P::none;
    } else if (v == "attach") {
      opts->session.reconnect.policy = P::attach;
    } else if (v == "resume") {
      opts->session.reconnect.policy = P::resume;
    } else {
      return fail(QIX_EINVAL, "reconnect: expected \"none\", \"attach\" or \"resume\"");
    }
  } else {
    return fail(QIX_EINVAL, "unknown string option: " + n);
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_options_set_int(qix_options* opts, const char* name, int64_t value) {
  QIX_TRY
  if (!opts || !name) return fail(QIX_EINVAL, "qix_options_set_int: NULL argument");
  std::string n(name);
  auto in_int = [&](std::int64_t lo) { return value >= lo && value <= INT32_MAX; };
  if (n == "url.port") {
    if (value < 0 || value > 65535) return fail(QIX_EINVAL, "url.port: out of range");
    opts->url.port = static_cast<int>(value);
  } else if (n == "url.ttl") {
    if (!in_int(-1)) return fail(QIX_EINVAL, "url.ttl: out of range");
    opts->url.ttl = static_cast<int>(value);
  } else if (n == "timeout.connect_ms" || n == "timeout.handshake_ms" || n == "timeout.call_ms" ||
             n == "timeout.protocol_ms" || n == "keepalive_ms") {
    if (value < 0) return fail(QIX_EINVAL, n + ": must be >= 0");
    if (n == "timeout.connect_ms") opts->conn.connect_timeout = ms(value);
    if (n == "timeout.protocol_ms") opts->session.protocol_timeout = ms(value);
    if (n == "timeout.handshake_ms") opts->conn.handshake_timeout = ms(value);
    if (n == "timeout.call_ms") opts->session.call_timeout = ms(value);
    if (n == "keepalive_ms") opts->conn.keepalive = ms(value);
  } else if (n == "max_message_size") {
    if (value < 1024) return fail(QIX_EINVAL, "max_message_size: must be >= 1024");
    opts->conn.max_message_size = static_cast<std::size_t>(value);
  } else if (n == "notification_history") {
    if (value < 0) return fail(QIX_EINVAL, "notification_history: must be >= 0");
    opts->session.notification_history = static_cast<std::size_t>(value);
  } else if (n == "watch.min_interval_ms") {
    if (value < 0) return fail(QIX_EINVAL, "watch.min_interval_ms: must be >= 0");
    opts->session.watch_min_interval = ms(value);
  } else if (n == "reconnect.max_attempts") {
    if (!in_int(1)) return fail(QIX_EINVAL, "reconnect.max_attempts: must be >= 1");
    opts->session.reconnect.max_attempts = static_cast<int>(value);
  } else if (n == "reconnect.initial_delay_ms" || n == "reconnect.max_delay_ms" ||
             n == "reconnect.greeting_wait_ms") {
    if (!in_int(0)) return fail(QIX_EINVAL, n + ": must be >= 0");
    if (n == "reconnect.initial_delay_ms") opts->session.reconnect.initial_delay = ms(value);
    if (n == "reconnect.max_delay_ms") opts->session.reconnect.max_delay = ms(value);
    if (n == "reconnect.greeting_wait_ms") opts->session.reconnect.greeting_wait = ms(value);
  } else if (n == "retry.aborted") {
    if (!in_int(0) || value > 100) return fail(QIX_EINVAL, "retry.aborted: must be 0..100");
    opts->session.retry_aborted = static_cast<int>(value);
  } else {
    return fail(QIX_EINVAL, "unknown integer option: " + n);
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_options_set_bool(qix_options* opts, const char* name, int value) {
  QIX_TRY
  if (!opts || !name) return fail(QIX_EINVAL, "qix_options_set_bool: NULL argument");
  std::string n(name);
  bool b = value != 0;
  if (n == "url.secure") {
    opts->url.secure = b;
  } else if (n == "tls.verify") {
    opts->conn.tls.verify_peer = b;
  } else if (n == "delta") {
    opts->session.delta = b;
  } else if (n == "events.poll") {
    opts->session.poll_events = b;
  } else if (n == "reconnect.queue_calls") {
    opts->session.reconnect.queue_calls = b;
  } else if (n == "reconnect.resend") {
    opts->session.reconnect.resend_in_flight = b;
  } else {
    return fail(QIX_EINVAL, "unknown boolean option: " + n);
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_options_add_header(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value || !*name) return fail(QIX_EINVAL, "qix_options_add_header: NULL or empty argument");
  opts->conn.headers.emplace_back(name, value);
  return QIX_OK;
  QIX_CATCH
}

int qix_options_add_cookie(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value || !*name) return fail(QIX_EINVAL, "qix_options_add_cookie: NULL or empty argument");
  opts->conn.cookies.emplace_back(name, value);
  return QIX_OK;
  QIX_CATCH
}

int qix_options_add_url_param(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value || !*name) return fail(QIX_EINVAL, "qix_options_add_url_param: NULL or empty argument");
  opts->url.url_params.emplace_back(name, value);
  return QIX_OK;
  QIX_CATCH
}

int qix_options_get_url(char** out, const qix_options* opts) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_options_get_url: out is NULL");
  *out = nullptr;
  if (!opts) return fail(QIX_EINVAL, "qix_options_get_url: opts is NULL");
  *out = dup_string(build_url_of(*opts));
  return QIX_OK;
  QIX_CATCH
}

int qix_options_set_traffic_cb(qix_options* opts, qix_traffic_cb cb, void* payload) {
  QIX_TRY
  if (!opts) return fail(QIX_EINVAL, "qix_options_set_traffic_cb: opts is NULL");
  opts->traffic = cb;
  opts->traffic_payload = cb ? payload : nullptr;
  return QIX_OK;
  QIX_CATCH
}

}  // extern "C"

// ---------------------------------------------------------------------------------------------------------
// Results and objects

struct qix_object {
  std::shared_ptr<core::Object> obj;
  std::shared_ptr<qix_object> self;  // the user's reference; reset by qix_object_free
  std::atomic<bool> alive{true};
  std::mutex mutex;
  std::vector<core::ListenerId> listeners;
  bool watching = false;
};

struct qix_result {
  int status = QIX_OK;
  qix_error error;
  std::int64_t id = 0;
  std::string json = "null";
  std::string raw = "null";
  std::shared_ptr<core::Object> object;
};

namespace {

qix_object* new_object_handle(std::shared_ptr<core::Object> obj) {
  auto h = std::make_shared<qix_object>();
  h->obj = std::move(obj);
  h->self = h;
  return h.get();
}

// enigma.js's out-parameter handling: qReturn first, else the single out value, else the whole result.
const json::value& unwrap(const json::value& result) {
  if (const auto* o = result.if_object()) {
    if (const auto* r = o->if_contains("qReturn")) return *r;
    if (o->size() == 1) return o->begin()->value();
  }
  return result;
}

std::unique_ptr<qix_result> make_result(const core::CallResult& r) {
  auto res = std::make_unique<qix_result>();
  res->id = r.id;
  if (r.error) {
    res->error = make_error(r.error);
    res->status = res->error.status;
    return res;
  }
  res->raw = core::to_json(r.result);
  res->json = core::to_json(unwrap(r.result));
  res->object = r.object;
  return res;
}

core::CallOptions call_options(int flags, int timeout_ms) {
  core::CallOptions o;
  if (flags & QIX_CALL_DELTA) o.delta = true;
  if (flags & QIX_CALL_NO_DELTA) o.delta = false;
  if (timeout_ms >= 0) o.timeout = ms(timeout_ms);
  return o;
}

// A call on a zombie object needs no special case here: the core answers it with ErrorKind::closed.
core::CallCallback wrap_call_cb(qix_call_cb cb, void* payload) {
  return [cb, payload](core::CallResult& r) {
    if (!cb) return;
    auto res = make_result(r);
    cb(res.get(), payload);
  };
}

}  // namespace

extern "C" {

int qix_result_status(const qix_result* res) { return res ? res->status : QIX_EINVAL; }
const qix_error* qix_result_error(const qix_result* res) {
  return res && res->status != QIX_OK ? &res->error : nullptr;
}
int64_t qix_result_id(const qix_result* res) { return res ? res->id : 0; }
const char* qix_result_json(const qix_result* res) { return res ? res->json.c_str() : "null"; }
const char* qix_result_raw(const qix_result* res) { return res ? res->raw.c_str() : "null"; }

int qix_result_object(qix_object** out, const qix_result* res) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_result_object: out is NULL");
  *out = nullptr;
  if (!res) return fail(QIX_EINVAL, "qix_result_object: res is NULL");
  if (!res->object) return fail(QIX_ENOTFOUND, "the result refers to no object");
  *out = new_object_handle(res->object);
  return QIX_OK;
  QIX_CATCH
}

void qix_result_free(qix_result* res) { delete res; }

}  // extern "C"

// ---------------------------------------------------------------------------------------------------------
// Sessions

struct qix_session {
  std::shared_ptr<core::Session> s;
  std::shared_ptr<qix_session> self;  // the user's reference; reset by qix_session_free
  std::atomic<bool> alive{true};
  std::mutex mutex;
  std::vector<core::ListenerId> listeners;
};

namespace {

std::shared_ptr<core::Session> create_session(qix_context* ctx, const qix_options* opts) {
  if (!ctx) ctx = qix_context_default();
  if (!ctx) throw std::runtime_error("no default context");
  qix_options defaults;
  const qix_options& o = opts ? *opts : defaults;
  core::ConnectOptions conn = o.conn;
  conn.url = build_url_of(o);
  core::SessionOptions so = o.session;
  if (o.traffic) {
    auto cb = o.traffic;
    auto payload = o.traffic_payload;
    so.traffic = [cb, payload](bool sent, std::string_view frame) {
      std::string copy(frame);  // NUL-terminated for C
      cb(sent ? 1 : 0, copy.c_str(), copy.size(), payload);
    };
  }
  if (so.reconnect.policy != core::ReconnectOptions::Policy::none) {
    // Each reconnect attempt: the same URL, headers and TLS settings. The lambda holds the context
    // weakly (the context owns the session's timers, so it outlives every attempt that can run).
    std::weak_ptr<core::Context> weak_ctx = ctx->ctx;
    so.reconnect.transport = [weak_ctx, conn]() -> std::shared_ptr<core::Transport> {
      auto c = weak_ctx.lock();
      if (!c) return nullptr;
      return core::make_websocket_transport(std::move(c), conn);
    };
  }
  auto transport = core::make_websocket_transport(ctx->ctx, std::move(conn));
  return core::Session::create(ctx->ctx, std::move(transport), std::move(so));
}

qix_session* new_session_handle(std::shared_ptr<core::Session> s) {
  auto h = std::make_shared<qix_session>();
  h->s = std::move(s);
  h->self = h;
  return h.get();
}

bool object_usable(const qix_object* obj) { return obj && obj->obj; }

}  // namespace

extern "C" {

int qix_session_open(qix_session** out, qix_context* ctx, const qix_options* opts, qix_open_cb cb, void* payload) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_open: out is NULL");
  *out = nullptr;
  auto s = create_session(ctx, opts);
  qix_session* h = new_session_handle(s);
  std::weak_ptr<qix_session> weak = h->self;
  s->open([weak, cb, payload](const core::Error& e) {
    if (!cb) return;
    auto self = weak.lock();
    if (!self || !self->alive) return;
    if (e) {
      qix_error err = make_error(e);
      cb(self.get(), err.status, &err, payload);
    } else {
      cb(self.get(), QIX_OK, nullptr, payload);
    }
  });
  *out = h;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_open_sync(qix_session** out, qix_context* ctx, const qix_options* opts, int timeout_ms) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_open_sync: out is NULL");
  *out = nullptr;
  if (timeout_ms < 0) return fail(QIX_EINVAL, "qix_session_open_sync: negative timeout");
  auto s = create_session(ctx, opts);
  core::Error e = s->open_sync(ms(timeout_ms));
  if (e) {
    s->close();
    return fail(e);
  }
  *out = new_session_handle(std::move(s));
  return QIX_OK;
  QIX_CATCH
}

void qix_session_close(qix_session* session) {
  QIX_TRY
  if (session && session->s) session->s->close();
  QIX_CATCH_VOID
}

void qix_session_free(qix_session* session) {
  QIX_TRY
  if (!session) return;
  session->alive = false;
  std::vector<core::ListenerId> ids;
  {
    std::lock_guard lock(session->mutex);
    ids.swap(session->listeners);
  }
  for (auto id : ids) session->s->remove_listener(id);
  session->s->close();
  // Drop the user's reference last; callbacks running now hold their own.
  auto keep = std::move(session->self);
  keep.reset();
  QIX_CATCH_VOID
}

int qix_session_state(const qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_state: session is NULL");
  switch (session->s->state()) {
    case core::SessionState::connecting: return QIX_STATE_CONNECTING;
    case core::SessionState::connected: return QIX_STATE_CONNECTED;
    case core::SessionState::closed: return QIX_STATE_CLOSED;
    case core::SessionState::suspended: return QIX_STATE_SUSPENDED;
  }
  return QIX_STATE_CLOSED;
  QIX_CATCH
}

int qix_session_close_info(int* out_code, char** out_reason, const qix_session* session) {
  QIX_TRY
  if (out_reason) *out_reason = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_close_info: session is NULL");
  auto info = session->s->close_info();
  if (!info) return fail(QIX_ENOTFOUND, "the session is not closed");
  if (out_code) *out_code = info->code;
  if (out_reason) *out_reason = dup_string(info->describe());
  return QIX_OK;
  QIX_CATCH
}

int64_t qix_session_pending_calls(const qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_pending_calls: session is NULL");
  return static_cast<int64_t>(session->s->pending_calls());
  QIX_CATCH
}

}  // extern "C"

namespace {

int do_call(int64_t* out_id, const std::shared_ptr<core::Session>& s, const std::shared_ptr<core::Object>& obj,
            int handle, const char* method, const char* params_json, int flags, int timeout_ms, qix_call_cb cb,
            void* payload) {
  if (out_id) *out_id = 0;
  if (!method || !*method) return fail(QIX_EINVAL, "method is NULL or empty");
  std::string_view params = params_json ? params_json : "";
  if (auto e = core::Session::validate_params(params)) return fail(e);
  auto opts = call_options(flags, timeout_ms);
  bool closed = obj ? obj->closed() : (!s || s->closing());
  std::int64_t id = obj ? obj->call(method, params, opts, wrap_call_cb(cb, payload))
                        : s->call(handle, method, params, opts, wrap_call_cb(cb, payload));
  if (out_id) *out_id = id;
  if (closed) return fail(QIX_ECLOSED, obj ? "the object is closed" : "the session is closed");
  return QIX_OK;
}

int do_call_sync(qix_result** out, const std::shared_ptr<core::Session>& s, const std::shared_ptr<core::Object>& obj,
                 int handle, const char* method, const char* params_json, int flags, int timeout_ms) {
  if (!out) return fail(QIX_EINVAL, "out is NULL");
  *out = nullptr;
  if (!method || !*method) return fail(QIX_EINVAL, "method is NULL or empty");
  std::string_view params = params_json ? params_json : "";
  if (auto e = core::Session::validate_params(params)) return fail(e);
  auto opts = call_options(flags, timeout_ms);
  core::CallResult r = obj ? obj->call_sync(method, params, opts) : s->call_sync(handle, method, params, opts);
  if (r.error) return fail(r.error);
  *out = make_result(r).release();
  return QIX_OK;
}

}  // namespace

extern "C" {

int qix_session_call(int64_t* out_id, qix_session* session, const char* method, const char* params_json, int flags,
                     int timeout_ms, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session) return fail(QIX_EINVAL, "qix_session_call: session is NULL");
  return do_call(out_id, session->s, nullptr, core::kGlobalHandle, method, params_json, flags, timeout_ms, cb,
                 payload);
  QIX_CATCH
}

int qix_session_call_sync(qix_result** out, qix_session* session, const char* method, const char* params_json,
                          int flags, int timeout_ms) {
  QIX_TRY
  if (out) *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_call_sync: session is NULL");
  return do_call_sync(out, session->s, nullptr, core::kGlobalHandle, method, params_json, flags, timeout_ms);
  QIX_CATCH
}

int qix_session_call_handle(int64_t* out_id, qix_session* session, int handle, const char* method,
                            const char* params_json, int flags, int timeout_ms, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session) return fail(QIX_EINVAL, "qix_session_call_handle: session is NULL");
  return do_call(out_id, session->s, nullptr, handle, method, params_json, flags, timeout_ms, cb, payload);
  QIX_CATCH
}

int qix_session_call_handle_sync(qix_result** out, qix_session* session, int handle, const char* method,
                                 const char* params_json, int flags, int timeout_ms) {
  QIX_TRY
  if (out) *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_call_handle_sync: session is NULL");
  return do_call_sync(out, session->s, nullptr, handle, method, params_json, flags, timeout_ms);
  QIX_CATCH
}

int qix_session_cancel(qix_session* session, int64_t id) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_cancel: session is NULL");
  if (!session->s->cancel(id)) return fail(QIX_ENOTFOUND, "no pending call with id " + std::to_string(id));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_global(qix_object** out, qix_session* session) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_global: out is NULL");
  *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_global: session is NULL");
  auto g = session->s->global();
  if (!g) {
    // A server that does not speak QIX ended the session: say that rather than "closed".
    auto info = session->s->close_info();
    if (info && info->error.kind == core::ErrorKind::protocol) return fail(info->error);
    return fail(QIX_ECLOSED, "the session is closed");
  }
  *out = new_object_handle(std::move(g));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_doc(qix_object** out, qix_session* session) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_doc: out is NULL");
  *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_doc: session is NULL");
  auto d = session->s->doc();
  if (!d) return fail(QIX_ENOTFOUND, "no doc is open in this session");
  *out = new_object_handle(std::move(d));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_on_state(uint64_t* out_id, qix_session* session, qix_state_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session || !cb) return fail(QIX_EINVAL, "qix_session_on_state: NULL argument");
  std::weak_ptr<qix_session> weak = session->self;
  auto id = session->s->on_state([weak, cb, payload](core::SessionState st, const core::CloseInfo* info) {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    int state = st == core::SessionState::connected   ? (info ? QIX_STATE_RESUMED : QIX_STATE_CONNECTED)
                : st == core::SessionState::closed    ? QIX_STATE_CLOSED
                : st == core::SessionState::suspended ? QIX_STATE_SUSPENDED
                                                      : QIX_STATE_CONNECTING;
    std::string reason;
    int code = 0;
    if (info) {
      code = info->code;
      reason = info->describe();
    }
    cb(self.get(), state, code, reason.c_str(), payload);
  });
  {
    std::lock_guard lock(session->mutex);
    session->listeners.push_back(id);
  }
  if (out_id) *out_id = id;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_on_notification(uint64_t* out_id, qix_session* session, const char* method, int replay,
                                qix_notification_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session || !cb) return fail(QIX_EINVAL, "qix_session_on_notification: NULL argument");
  std::weak_ptr<qix_session> weak = session->self;
  auto id = session->s->on_notification(
      method ? method : "",
      [weak, cb, payload](const core::Notification& n) {
        auto self = weak.lock();
        if (!self || !self->alive) return;
        std::string params = core::to_json(n.params);
        cb(self.get(), n.method.c_str(), params.c_str(), payload);
      },
      replay != 0);
  {
    std::lock_guard lock(session->mutex);
    session->listeners.push_back(id);
  }
  if (out_id) *out_id = id;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_remove_listener(qix_session* session, uint64_t id) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_remove_listener: session is NULL");
  {
    std::lock_guard lock(session->mutex);
    auto it = std::find(session->listeners.begin(), session->listeners.end(), id);
    if (it == session->listeners.end()) return fail(QIX_ENOTFOUND, "no such listener");
    session->listeners.erase(it);
  }
  session->s->remove_listener(id);
  return QIX_OK;
  QIX_CATCH
}

int qix_session_notifications(char** out, const qix_session* session) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_notifications: out is NULL");
  *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_notifications: session is NULL");
  json::array arr;
  for (auto& n : session->s->notification_history()) {
    arr.push_back(json::object{{"method", n.method}, {"params", n.params}});
  }
  *out = dup_string(core::to_json(arr));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_poll(qix_session* session, int timeout_ms) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_poll: session is NULL");
  auto timeout = timeout_ms < 0 ? std::chrono::milliseconds(std::chrono::hours(24 * 365)) : ms(timeout_ms);
  auto n = session->s->poll(timeout);
  return static_cast<int>(std::min<std::size_t>(n, INT32_MAX));
  QIX_CATCH
}

int qix_session_wake(qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_wake: session is NULL");
  session->s->wake();
  return QIX_OK;
  QIX_CATCH
}

// --- objects ---

int qix_object_handle(const qix_object* obj) { return object_usable(obj) ? obj->obj->handle() : 0; }
const char* qix_object_type(const qix_object* obj) { return object_usable(obj) ? obj->obj->type().c_str() : ""; }
const char* qix_object_generic_id(const qix_object* obj) {
  return object_usable(obj) ? obj->obj->generic_id().c_str() : "";
}
const char* qix_object_generic_type(const qix_object* obj) {
  return object_usable(obj) ? obj->obj->generic_type().c_str() : "";
}

int qix_object_is_valid(const qix_object* obj) {
  try {
    return object_usable(obj) && obj->obj->valid() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int qix_object_is_closed(const qix_object* obj) {
  try {
    return !object_usable(obj) || obj->obj->closed() ? 1 : 0;
  } catch (...) {
    return 1;
  }
}

int qix_object_layout(char** out, const qix_object* obj) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_object_layout: out is NULL");
  *out = nullptr;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_layout: obj is NULL");
  auto l = obj->obj->layout();
  if (!l) return fail(QIX_ENOTFOUND, "no layout was fetched for this object");
  *out = dup_string(core::to_json(*l));
  return QIX_OK;
  QIX_CATCH
}

int qix_object_call(int64_t* out_id, qix_object* obj, const char* method, const char* params_json, int flags,
                    int timeout_ms, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_call: obj is NULL");
  return do_call(out_id, nullptr, obj->obj, obj->obj->handle(), method, params_json, flags, timeout_ms, cb, payload);
  QIX_CATCH
}

int qix_object_call_sync(qix_result** out, qix_object* obj, const char* method, const char* params_json, int flags,
                         int timeout_ms) {
  QIX_TRY
  if (out) *out = nullptr;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_call_sync: obj is NULL");
  return do_call_sync(out, nullptr, obj->obj, obj->obj->handle(), method, params_json, flags, timeout_ms);
  QIX_CATCH
}

}  // extern "C"

namespace {

int add_object_listener(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload, bool changed) {
  if (out_id) *out_id = 0;
  if (!object_usable(obj) || !cb) return fail(QIX_EINVAL, "object listener: NULL argument");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  std::weak_ptr<qix_object> weak = obj->self;
  auto fn = [weak, cb, payload] {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    cb(self.get(), payload);
  };
  auto id = changed ? obj->obj->on_changed(fn) : obj->obj->on_closed(fn);
  {
    std::lock_guard lock(obj->mutex);
    obj->listeners.push_back(id);
  }
  if (out_id) *out_id = id;
  return QIX_OK;
}

}  // namespace

extern "C" {

int qix_object_on_changed(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload) {
  QIX_TRY
  return add_object_listener(out_id, obj, cb, payload, true);
  QIX_CATCH
}

int qix_object_on_closed(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload) {
  QIX_TRY
  return add_object_listener(out_id, obj, cb, payload, false);
  QIX_CATCH
}

int qix_object_remove_listener(qix_object* obj, uint64_t id) {
  QIX_TRY
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_remove_listener: obj is NULL");
  {
    std::lock_guard lock(obj->mutex);
    auto it = std::find(obj->listeners.begin(), obj->listeners.end(), id);
    if (it == obj->listeners.end()) return fail(QIX_ENOTFOUND, "no such listener");
    obj->listeners.erase(it);
  }
  obj->obj->remove_listener(id);
  return QIX_OK;
  QIX_CATCH
}

int qix_object_watch(qix_object* obj, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (!object_usable(obj) || !cb) return fail(QIX_EINVAL, "qix_object_watch: NULL argument");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  std::weak_ptr<qix_object> weak = obj->self;
  {
    std::lock_guard lock(obj->mutex);
    obj->watching = true;
  }
  obj->obj->watch([weak, cb, payload](const core::CallResult& r) {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    auto res = make_result(r);
    cb(res.get(), payload);
  });
  return QIX_OK;
  QIX_CATCH
}

int qix_object_unwatch(qix_object* obj) {
  QIX_TRY
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_unwatch: obj is NULL");
  {
    std::lock_guard lock(obj->mutex);
    obj->watching = false;
  }
  obj->obj->unwatch();
  return QIX_OK;
  QIX_CATCH
}

int qix_object_dup(qix_object** out, const qix_object* obj) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_object_dup: out is NULL");
  *out = nullptr;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_dup: obj is NULL");
  *out = new_object_handle(obj->obj);
  return QIX_OK;
  QIX_CATCH
}

void qix_object_free(qix_object* obj) {
  QIX_TRY
  if (!obj) return;
  obj->alive = false;
  std::vector<core::ListenerId> ids;
  bool watching;
  {
    std::lock_guard lock(obj->mutex);
    ids.swap(obj->listeners);
    watching = obj->watching;
    obj->watching = false;
  }
  if (obj->obj) {
    for (auto id : ids) obj->obj->remove_listener(id);
    if (watching) obj->obj->unwatch();
  }
  auto keep = std::move(obj->self);
  keep.reset();
  QIX_CATCH_VOID
}

}  // extern "C"

// ---------------------------------------------------------------------------------------------------------
// Bulk extraction: a window of GetHyperCubeData calls in flight, pages delivered in row order.

namespace {

class Extractor : public std::enable_shared_from_this<Extractor> {
 public:
  Extractor(std::shared_ptr<core::Object> obj, std::string path, int page_height, int window, qix_row_cb row_cb,
            qix_extract_done_cb done_cb, void* payload)
      : obj_(std::move(obj)), path_(std::move(path)), requested_height_(page_height), window_(window),
        row_cb_(row_cb), done_cb_(done_cb), payload_(payload) {}

  void start() {
    auto self = shared_from_this();
    core::CallOptions o;
    o.delta = false;
    obj_->call("GetLayout", "[]", o, [self](core::CallResult& r) { self->on_layout(r); });
  }

 private:
  // Finds the layout counterpart of a properties path: "/qHyperCubeDef" -> qHyperCube,
  // "/qListObjectDef" style trailing "Def" removed at each step.
  const json::value* find_cube(const json::value& layout) const {
    const json::value* cur = &layout;
    std::size_t pos = 0;
    while (pos < path_.size()) {
      if (path_[pos] == '/') {
        ++pos;
        continue;
      }
      auto end = path_.find('/', pos);
      std::string seg = path_.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? path_.size() : end;
      const json::value* next = nullptr;
      if (const auto* arr = cur->if_array()) {
        char* stop = nullptr;
        unsigned long i = std::strtoul(seg.c_str(), &stop, 10);
        if (stop && *stop == '\0' && i < arr->size()) next = &(*arr)[i];
      } else {
        next = core::find_member(*cur, seg);
        if (!next && seg.size() > 3 && seg.compare(seg.size() - 3, 3, "Def") == 0) {
          next = core::find_member(*cur, seg.substr(0, seg.size() - 3));
        }
      }
      if (!next) return nullptr;
      cur = next;
    }
    return cur;
  }

  void on_layout(core::CallResult& r) {
    if (r.error) return finish(make_error(r.error));
    const json::value* layout = core::find_member(r.result, "qLayout");
    const json::value* cube = layout ? find_cube(*layout) : nullptr;
    const json::value* size = cube ? core::find_member(*cube, "qSize") : nullptr;
    auto cx = size ? core::integer_of(core::find_member(*size, "qcx")) : std::nullopt;
    auto cy = size ? core::integer_of(core::find_member(*size, "qcy")) : std::nullopt;
    if (!cx || !cy || *cx < 0 || *cy < 0) {
      return finish(make_error(QIX_EINVAL, "no hypercube with a qSize at " + path_ + " in the layout"));
    }
    cols_ = *cx;
    total_ = *cy;
    std::int64_t max_height = cols_ > 0 ? std::max<std::int64_t>(1, 10000 / cols_) : 10000;
    height_ = requested_height_ > 0 ? std::min<std::int64_t>(requested_height_, max_height) : max_height;
    pages_ = cols_ == 0 ? 0 : (total_ + height_ - 1) / height_;
    if (pages_ == 0) return finish(qix_error{});
    issue();
  }

  void issue() {
    while (!done_ && in_flight_ < window_ && next_page_ < pages_) {
      std::int64_t page = next_page_++;
      ++in_flight_;
      json::array pages;
      pages.push_back(json::object{{"qTop", page * height_},
                                   {"qLeft", 0},
                                   {"qWidth", cols_},
                                   {"qHeight", std::min(height_, total_ - page * height_)}});
      std::string params = core::to_json(json::array{json::value(path_), json::value(std::move(pages))});
      core::CallOptions o;
      o.delta = false;
      auto self = shared_from_this();
      std::int64_t id = obj_->call("GetHyperCubeData", params, o,
                                   [self, page](core::CallResult& r) { self->on_page(page, r); });
      ids_[page] = id;
    }
  }

  void on_page(std::int64_t page, core::CallResult& r) {
    --in_flight_;
    ids_.erase(page);
    if (done_) return;
    if (r.error) return finish(make_error(r.error));
    const json::value* pages = core::find_member(r.result, "qDataPages");
    const json::value* matrix = nullptr;
    if (pages && pages->is_array() && !pages->as_array().empty()) matrix = core::find_member(pages->as_array()[0], "qMatrix");
    if (!matrix || !matrix->is_array()) return finish(make_error(QIX_EPROTOCOL, "GetHyperCubeData: no qMatrix"));
    ready_.emplace(page, matrix->as_array());
    // Deliver every page that is next in row order.
    for (auto it = ready_.find(next_deliver_); it != ready_.end(); it = ready_.find(next_deliver_)) {
      for (const auto& row : it->second) {
        std::string text = core::to_json(row);
        if (row_cb_(text.c_str(), text.size(), rows_, payload_) != 0) {
          return finish(make_error(QIX_ECANCELLED, "the row callback stopped the extraction"));
        }
        ++rows_;
      }
      ready_.erase(it);
      ++next_deliver_;
    }
    if (next_deliver_ == pages_) return finish(qix_error{});
    issue();
  }

  void finish(qix_error err) {
    if (done_) return;
    done_ = true;
    ready_.clear();
    auto pending = ids_;  // cancel() may complete a call; never iterate the live map
    if (auto s = obj_->session()) {
      for (auto& entry : pending) s->cancel(entry.second);
    }
    if (done_cb_) done_cb_(err.status, err.status == QIX_OK ? nullptr : &err, rows_, payload_);
  }

  std::shared_ptr<core::Object> obj_;
  std::string path_;
  int requested_height_;
  int window_;
  qix_row_cb row_cb_;
  qix_extract_done_cb done_cb_;
  void* payload_;

  // Touched only from this session's callbacks, which run one at a time.
  bool done_ = false;
  std::int64_t cols_ = 0, total_ = 0, height_ = 0, pages_ = 0;
  std::int64_t next_page_ = 0, next_deliver_ = 0, rows_ = 0;
  int in_flight_ = 0;
  std::map<std::int64_t, json::array> ready_;
  std::map<std::int64_t, std::int64_t> ids_;
};

}  // namespace

extern "C" int qix_object_extract(qix_object* obj, const char* path, int page_height, int window, qix_row_cb row_cb,
                                  qix_extract_done_cb done_cb, void* payload) {
  QIX_TRY
  if (!object_usable(obj) || !path || !*path || !row_cb || !done_cb) {
    return fail(QIX_EINVAL, "qix_object_extract: NULL or empty argument");
  }
  if (page_height < 0 || window < 0) return fail(QIX_EINVAL, "qix_object_extract: negative page height or window");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  auto ex = std::make_shared<Extractor>(obj->obj, path, page_height, window == 0 ? 4 : window, row_cb, done_cb,
                                        payload);
  ex->start();
  return QIX_OK;
  QIX_CATCH
}
