// The C ABI of libqix (include/qix/qix.h): contexts and options.
#include "internal.hpp"

#include <cstdint>

namespace qix::capi {

std::string build_url_of(const qix_options& o) { return o.url_given ? o.conn.url : core::build_url(o.url); }

}  // namespace qix::capi

using namespace qix::capi;

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
