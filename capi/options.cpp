// The C ABI of libqix (include/qix/qix.h): contexts and options.
//
// Options live in ONE table (kOptions below): name, type, accepted range or values, the text of the
// refusal, a one-line doc, and how to set and read the field of qix_options. From it come the setters'
// dispatch and validation (qix_options_set_str/int/bool), the descriptions hosts list
// (qix_options_count/qix_options_info, with the default read from a fresh qix_options), and the options
// table of docs/defaults.md (printed by capi/options_doc.c, checked by the test capi.options_doc).
#include "internal.hpp"

#include <array>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <system_error>

namespace qix::capi {

std::string build_url_of(const qix_options& o) {
  return o.url_given ? o.conn.url : core::build_url(o.url);
}

}  // namespace qix::capi

namespace {

using namespace qix::capi;
using Policy = core::ReconnectOptions::Policy;

/// A value as the setters take it: strings in `text`, integers and booleans (0/1) in `number`.
struct Value {
  std::string_view text;
  std::int64_t number = 0;
};

struct OptionSpec {
  const char* name;
  int type;               // qix_option_type
  std::int64_t min, max;  // integers: accepted range; booleans 0..1; strings 0..0
  const char* values;     // strings with a fixed set of values: '|'-separated; else ""
  const char* refusal;    // the error after "<name>: " for a value out of range or not among `values`
  const char* doc;        // one line
  void (*set)(qix_options&, const Value&);
  std::string (*get)(const qix_options&);  // the current value as text (default_text of a fresh qix_options)
};

constexpr std::int64_t kInt32Max = INT32_MAX;
constexpr std::int64_t kInt64Max = INT64_MAX;

std::string text_of(bool b) {
  return b ? "true" : "false";
}
std::string text_of(std::chrono::milliseconds d) {
  return std::to_string(d.count());
}
std::string text_of(std::int64_t n) {
  return std::to_string(n);
}
std::string text_of(const std::string& s) {
  return s;
}

const char* policy_text(Policy p) {
  switch (p) {
    case Policy::none:
      return "none";
    case Policy::attach:
      return "attach";
    case Policy::resume:
      return "resume";
  }
  return "none";
}

// How a table row reaches its field. `field` is a member path of qix_options (e.g. conn.tls.ca_file).
#define QIX_OPT_STR(field)                                               \
  [](qix_options& o, const Value& v) { o.field = std::string(v.text); }, \
      [](const qix_options& o) { return text_of(o.field); }
#define QIX_OPT_MS(field)                                         \
  [](qix_options& o, const Value& v) { o.field = ms(v.number); }, \
      [](const qix_options& o) { return text_of(o.field); }
#define QIX_OPT_NUM(field, T)                                                 \
  [](qix_options& o, const Value& v) { o.field = static_cast<T>(v.number); }, \
      [](const qix_options& o) { return text_of(static_cast<std::int64_t>(o.field)); }
#define QIX_OPT_BOOL(field)                                        \
  [](qix_options& o, const Value& v) { o.field = v.number != 0; }, \
      [](const qix_options& o) { return text_of(o.field); }

constexpr int S = QIX_OPTION_STRING, I = QIX_OPTION_INT, B = QIX_OPTION_BOOL;

// In the order of docs/defaults.md. Every name is ABI: never remove or rename one.
constexpr OptionSpec kOptions[] = {
    // The URL
    {"url", S, 0, 0, "", nullptr,
     "A complete ws:// or wss:// URL of the engine; when not empty it wins over the url.* parts.",
     [](qix_options& o, const Value& v) {
       o.conn.url = std::string(v.text);
       o.url_given = !v.text.empty();
     },
     [](const qix_options& o) { return o.url_given ? o.conn.url : std::string(); }},
    {"url.secure", B, 0, 1, "", nullptr,
     "Scheme of the built URL: wss:// when true, ws:// when false (as enigma.js).", QIX_OPT_BOOL(url.secure)},
    {"url.host", S, 0, 0, "", nullptr, "Host name or address of the built URL; empty means localhost.",
     QIX_OPT_STR(url.host)},
    {"url.port", I, 0, 65535, "", "out of range",
     "TCP port of the built URL; 0 leaves it out (80 or 443 by scheme).", QIX_OPT_NUM(url.port, int)},
    {"url.prefix", S, 0, 0, "", nullptr, "Virtual proxy prefix of the built URL (slashes trimmed).",
     QIX_OPT_STR(url.prefix)},
    {"url.subpath", S, 0, 0, "", nullptr, "Extra path after the prefix (slashes trimmed).",
     QIX_OPT_STR(url.subpath)},
    {"url.route", S, 0, 0, "", nullptr,
     "Path used instead of app/APP_ID when not empty (slashes trimmed, not encoded).",
     QIX_OPT_STR(url.route)},
    {"url.app_id", S, 0, 0, "", nullptr,
     "App id or file name, percent-encoded into the URL; no app id and no route give app/engineData.",
     QIX_OPT_STR(url.app_id)},
    {"url.identity", S, 0, 0, "", nullptr,
     "Session identity: adds /identity/IDENTITY to the built URL when not empty.", QIX_OPT_STR(url.identity)},
    {"url.ttl", I, -1, kInt32Max, "", "out of range",
     "Seconds the engine keeps the session after the socket closes (/ttl/N in the built URL); 0 ends it at "
     "once; -1 leaves it out.",
     QIX_OPT_NUM(url.ttl, int)},
    // Timeouts and limits
    {"timeout.connect_ms", I, 0, kInt64Max, "", "must be >= 0",
     "Milliseconds for name resolution, TCP connect and TLS handshake together.",
     QIX_OPT_MS(conn.connect_timeout)},
    {"timeout.handshake_ms", I, 0, kInt64Max, "", "must be >= 0", "Milliseconds for the WebSocket upgrade.",
     QIX_OPT_MS(conn.handshake_timeout)},
    {"timeout.protocol_ms", I, 0, kInt64Max, "", "must be >= 0",
     "Milliseconds a server has, from the first request, to send a QIX frame before the session ends with "
     "QIX_EPROTOCOL (\"does not speak the QIX protocol\"); a first frame that is not QIX JSON-RPC ends it at "
     "once. 0 = no bound (engines before 12.20 send no greeting).",
     QIX_OPT_MS(session.protocol_timeout)},
    {"timeout.call_ms", I, 0, kInt64Max, "", "must be >= 0",
     "Default per-call timeout in milliseconds (a call's timeout_ms -1 uses it); 0 = none. A call that times "
     "out is cancelled on the engine (CancelRequest).",
     QIX_OPT_MS(session.call_timeout)},
    {"keepalive_ms", I, 0, kInt64Max, "", "must be >= 0",
     "Ping after this many idle milliseconds; the connection is lost after as long again without an answer. "
     "0 = off.",
     QIX_OPT_MS(conn.keepalive)},
    {"max_message_size", I, 1024, kInt64Max, "", "must be >= 1024",
     "Largest received message in bytes; a larger one closes the connection (QIX_ETOOLARGE).",
     QIX_OPT_NUM(conn.max_message_size, std::size_t)},
    {"delta", B, 0, 1, "", nullptr,
     "Use the delta protocol by default (as enigma.js); per call QIX_CALL_DELTA / QIX_CALL_NO_DELTA. Only "
     "methods with one out parameter besides qReturn use it.",
     QIX_OPT_BOOL(session.delta)},
    // Reconnect and retry
    {"reconnect", S, 0, 0, "none|attach|resume", "expected \"none\", \"attach\" or \"resume\"",
     "What a dropped connection does: none closes the session; attach resumes only when the engine kept the "
     "session (SESSION_ATTACHED); resume resumes in any case. See docs/reconnect.md.",
     [](qix_options& o, const Value& v) {
       o.session.reconnect.policy = v.text == "attach"   ? Policy::attach
                                    : v.text == "resume" ? Policy::resume
                                                         : Policy::none;
     },
     [](const qix_options& o) { return std::string(policy_text(o.session.reconnect.policy)); }},
    {"reconnect.max_attempts", I, 1, kInt32Max, "", "must be >= 1",
     "Connection attempts per drop (4004, app deleted: always 1).",
     QIX_OPT_NUM(session.reconnect.max_attempts, int)},
    {"reconnect.initial_delay_ms", I, 0, kInt32Max, "", "must be >= 0",
     "Milliseconds before the first attempt; doubled after each failed one up to reconnect.max_delay_ms, "
     "with 20 % jitter.",
     QIX_OPT_MS(session.reconnect.initial_delay)},
    {"reconnect.max_delay_ms", I, 0, kInt32Max, "", "must be >= 0",
     "Longest delay between two attempts, in milliseconds.", QIX_OPT_MS(session.reconnect.max_delay)},
    {"reconnect.greeting_wait_ms", I, 0, kInt32Max, "", "must be >= 0",
     "Milliseconds a new connection waits for OnConnected before resuming as SESSION_CREATED.",
     QIX_OPT_MS(session.reconnect.greeting_wait)},
    {"reconnect.queue_calls", B, 0, 1, "", nullptr,
     "Calls made while suspended wait for the resume; false: they fail at once with QIX_ECONNECTION.",
     QIX_OPT_BOOL(session.reconnect.queue_calls)},
    {"reconnect.resend", B, 0, 1, "", nullptr,
     "Calls in flight at a drop are sent again after the resume (they may run twice); false: they fail once "
     "with QIX_ECONNECTION.",
     QIX_OPT_BOOL(session.reconnect.resend_in_flight)},
    {"retry.aborted", I, 0, 100, "", "must be 0..100",
     "Times a call the engine aborted with error 15 (LOCERR_GENERIC_ABORTED) is sent again; cancelled calls "
     "never are.",
     QIX_OPT_NUM(session.retry_aborted, int)},
    // TLS and HTTP
    {"tls.verify", B, 0, 1, "", nullptr, "Verify the server's certificate chain and host name.",
     QIX_OPT_BOOL(conn.tls.verify_peer)},
    {"tls.ca_file", S, 0, 0, "", nullptr,
     "PEM bundle of trusted CA certificates; with tls.ca_dir empty too, the system store.",
     QIX_OPT_STR(conn.tls.ca_file)},
    {"tls.ca_dir", S, 0, 0, "", nullptr, "Directory of hashed trusted CA certificates.",
     QIX_OPT_STR(conn.tls.ca_dir)},
    {"tls.cert_file", S, 0, 0, "", nullptr,
     "Client certificate chain, PEM (with tls.key_file); empty = none.", QIX_OPT_STR(conn.tls.cert_file)},
    {"tls.key_file", S, 0, 0, "", nullptr, "Client private key, PEM.", QIX_OPT_STR(conn.tls.key_file)},
    {"tls.server_name", S, 0, 0, "", nullptr, "Name to verify and to send as SNI; empty = the URL's host.",
     QIX_OPT_STR(conn.tls.server_name)},
    {"user_agent", S, 0, 0, "", nullptr, "User-Agent header of the WebSocket upgrade.",
     QIX_OPT_STR(conn.user_agent)},
    {"origin", S, 0, 0, "", nullptr, "Origin header of the WebSocket upgrade; empty = none.",
     QIX_OPT_STR(conn.origin)},
    // Events
    {"notification_history", I, 0, kInt64Max, "", "must be >= 0",
     "Notifications kept for listeners registered with replay (OnConnected arrives before anyone listens).",
     QIX_OPT_NUM(session.notification_history, std::size_t)},
    {"watch.min_interval_ms", I, 0, kInt64Max, "", "must be >= 0",
     "A watched object's layout is fetched at most once per this many milliseconds (a burst of changes costs "
     "at "
     "most two fetches); 0 = after every change.",
     QIX_OPT_MS(session.watch_min_interval)},
    {"events.poll", B, 0, 1, "", nullptr,
     "Run the session's callbacks in qix_session_poll() instead of on the dispatcher threads.",
     QIX_OPT_BOOL(session.poll_events)},
    {"events.inline", B, 0, 1, "", nullptr,
     "Run the session's callbacks on the I/O thread that read their answers, when none of its callbacks is "
     "queued or running (else on the dispatcher threads): no hand-off per read. A callback that must block "
     "calls qix_session_hand_over_events() first (blocking calls fail with QIX_EBUSY before); one held up "
     "without it is relieved within about 20 ms (another thread takes over the sockets). Off by default with "
     "events.poll; setting both is refused.",
     [](qix_options& o, const Value& v) {
       o.session.inline_events = v.number != 0;
       o.inline_given = true;
     },
     [](const qix_options& o) { return text_of(o.session.inline_events); }},
};

#undef QIX_OPT_STR
#undef QIX_OPT_MS
#undef QIX_OPT_NUM
#undef QIX_OPT_BOOL

constexpr int kOptionCount = static_cast<int>(std::size(kOptions));

const OptionSpec* find_option(std::string_view name) {
  for (const auto& o : kOptions) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

bool among(std::string_view value, std::string_view values) {
  while (!values.empty()) {
    auto bar = values.find('|');
    if (values.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) break;
    values.remove_prefix(bar + 1);
  }
  return false;
}

const char* type_word(int type) {
  return type == S ? "string" : type == I ? "integer" : "boolean";
}

/// The setters' common body: the name must be an option of `type`, the value within its range or values.
int set_option(qix_options& opts, const char* name, int type, const Value& v) {
  const OptionSpec* spec = find_option(name);
  if (!spec || spec->type != type)
    return fail(QIX_EINVAL, std::string("unknown ") + type_word(type) + " option: " + name);
  bool ok = type == I                    ? v.number >= spec->min && v.number <= spec->max
            : type == S && *spec->values ? among(v.text, spec->values)
                                         : true;
  if (!ok) return fail(QIX_EINVAL, std::string(name) + ": " + spec->refusal);
  spec->set(opts, v);
  return QIX_OK;
}

/// The public descriptions, built on first use and never destroyed (hosts may read them until exit).
const qix_option_info* option_infos() {
  static const qix_option_info* table = [] {
    qix_options fresh;
    auto* defaults = new std::array<std::string, kOptionCount>;
    auto* infos = new std::array<qix_option_info, kOptionCount>;
    for (int i = 0; i < kOptionCount; ++i) {
      const OptionSpec& o = kOptions[i];
      (*defaults)[i] = o.get(fresh);
      (*infos)[i] = qix_option_info{o.name, o.type, o.min, o.max, o.values, (*defaults)[i].c_str(), o.doc};
    }
    return infos->data();
  }();
  return table;
}

}  // namespace

using namespace qix::capi;

namespace {

// The body a hosted thread runs (qix_context_new_hosted): the core's, owned by the argument.
void run_hosted_body(void* arg) {
  std::unique_ptr<core::Task> body(static_cast<core::Task*>(arg));
  (*body)();
}

// qix_context_new and qix_context_new_hosted (`start` null: libqix starts its own threads). Throws what the
// core throws, except a host's failure to start a thread, which is QIX_ENOMEM.
int make_context(const std::string& fn, qix_context** out, int io_threads, int dispatcher_threads,
                 qix_thread_start_fn start, void* user) {
  if (!out) return fail(QIX_EINVAL, fn + ": out is NULL");
  *out = nullptr;
  if (io_threads < 0 || dispatcher_threads < 0) return fail(QIX_EINVAL, fn + ": negative thread count");
  core::Context::Options o;
  if (io_threads > 0) o.io_threads = io_threads;
  if (dispatcher_threads > 0) o.dispatcher_threads = dispatcher_threads;
  auto c = std::make_unique<qix_context>();
  if (!start) {
    c->ctx = core::Context::create(std::move(o));
    *out = c.release();
    return QIX_OK;
  }
  o.start_thread = [start, user](core::Task body) {
    auto arg = std::make_unique<core::Task>(std::move(body));
    if (start(&run_hosted_body, arg.get(), user) != 0) {
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                              "the host could not start a thread");
    }
    (void)arg.release();  // the thread's now
  };
  try {
    c->ctx = core::Context::create(std::move(o));
  } catch (const std::system_error& e) {
    return fail(QIX_ENOMEM, fn + ": " + e.what());
  }
  *out = c.release();
  return QIX_OK;
}

}  // namespace

extern "C" {

int qix_context_new(qix_context** out, int io_threads, int dispatcher_threads) {
  QIX_TRY
  return make_context("qix_context_new", out, io_threads, dispatcher_threads, nullptr, nullptr);
  QIX_CATCH
}

int qix_context_new_hosted(qix_context** out, int io_threads, int dispatcher_threads,
                           qix_thread_start_fn start, void* user) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_context_new_hosted: out is NULL");
  *out = nullptr;
  if (!start) return fail(QIX_EINVAL, "qix_context_new_hosted: start is NULL");
  return make_context("qix_context_new_hosted", out, io_threads, dispatcher_threads, start, user);
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

int qix_context_set_io_spin(qix_context* ctx, int microseconds) {
  QIX_TRY
  if (!ctx) ctx = qix_context_default();
  if (!ctx) return fail(QIX_ENOMEM, "qix_context_set_io_spin: no default context");
  if (microseconds < 0 || microseconds > core::Context::kMaxIoSpin.count())
    return fail(QIX_EINVAL, "qix_context_set_io_spin: microseconds out of range (0 to 1000000)");
  ctx->ctx->set_io_spin(std::chrono::microseconds(microseconds));
  return QIX_OK;
  QIX_CATCH
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

void qix_options_free(qix_options* opts) {
  delete opts;
}

int qix_options_set_str(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value) return fail(QIX_EINVAL, "qix_options_set_str: NULL argument");
  return set_option(*opts, name, QIX_OPTION_STRING, Value{value, 0});
  QIX_CATCH
}

int qix_options_set_int(qix_options* opts, const char* name, int64_t value) {
  QIX_TRY
  if (!opts || !name) return fail(QIX_EINVAL, "qix_options_set_int: NULL argument");
  return set_option(*opts, name, QIX_OPTION_INT, Value{{}, value});
  QIX_CATCH
}

int qix_options_set_bool(qix_options* opts, const char* name, int value) {
  QIX_TRY
  if (!opts || !name) return fail(QIX_EINVAL, "qix_options_set_bool: NULL argument");
  return set_option(*opts, name, QIX_OPTION_BOOL, Value{{}, value != 0 ? 1 : 0});
  QIX_CATCH
}

int qix_options_count(void) {
  return kOptionCount;
}

const qix_option_info* qix_options_info(int index) {
  try {
    if (index < 0 || index >= kOptionCount) {
      fail(QIX_EINVAL, "qix_options_info: index " + std::to_string(index) + " is not in 0.." +
                           std::to_string(kOptionCount - 1));
      return nullptr;
    }
    return &option_infos()[index];
  } catch (const std::bad_alloc&) {
    fail_nomem();
  } catch (...) {
    fail_internal("qix_options_info");
  }
  return nullptr;
}

int qix_options_add_header(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value || !*name)
    return fail(QIX_EINVAL, "qix_options_add_header: NULL or empty argument");
  opts->conn.headers.emplace_back(name, value);
  return QIX_OK;
  QIX_CATCH
}

int qix_options_add_cookie(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value || !*name)
    return fail(QIX_EINVAL, "qix_options_add_cookie: NULL or empty argument");
  opts->conn.cookies.emplace_back(name, value);
  return QIX_OK;
  QIX_CATCH
}

int qix_options_add_url_param(qix_options* opts, const char* name, const char* value) {
  QIX_TRY
  if (!opts || !name || !value || !*name)
    return fail(QIX_EINVAL, "qix_options_add_url_param: NULL or empty argument");
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
