// qix: connecting (to an engine or the in-process simulator), the traffic log, and error mapping.
#include "cli.hpp"

#include "qix/sim/server.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <mutex>

namespace qixcli {

namespace {

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
  g_signal.store(sig);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

// The app id in a URL's path: ".../app/<id>[/...]", percent-decoded; "" when none.
std::string app_from_url(const std::string& url) {
  auto scheme = url.find("://");
  auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return "";
  std::string p = url.substr(path);
  p = p.substr(0, p.find_first_of("?#"));
  auto at = p.find("/app/");
  if (at == std::string::npos) return "";
  std::string enc = p.substr(at + 5);
  enc = enc.substr(0, enc.find('/'));
  std::string out;
  for (std::size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%' && i + 2 < enc.size() && std::isxdigit(static_cast<unsigned char>(enc[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(enc[i + 2]))) {
      out += static_cast<char>(std::stoi(enc.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += enc[i];
    }
  }
  return out == "engineData" ? "" : out;
}

}  // namespace

bool interrupted() {
  return g_signal.load() != 0;
}
int interrupt_signal() {
  return g_signal.load();
}

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

// ------------------------------------------------------------------------------------------ traffic log

/// Writes every frame as one JSON line {"ts","dir","frame"}. Credentials never reach it: frames carry no
/// HTTP headers, and the values of --bearer and of Authorization/Cookie headers are masked anyway in
/// case an engine echoes one back.
class TrafficLog {
 public:
  TrafficLog(const std::string& path, std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) throw Failure(kExitEngine, "qix: cannot write the traffic log " + path);
  }
  ~TrafficLog() {
    if (file_) std::fclose(file_);
  }
  static void callback(int sent, const char* frame, size_t len, void* payload) {
    static_cast<TrafficLog*>(payload)->write(sent != 0, std::string(frame, len));
  }

 private:
  void write(bool sent, std::string text) {
    for (const auto& s : secrets_) {
      for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3))
        text.replace(pos, s.size(), "***");
    }
    boost::system::error_code ec;
    json::value frame = json::parse(text, ec);
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[96];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    json::object line;
    line["ts"] = ts;
    line["dir"] = sent ? "sent" : "received";
    if (ec) {
      line["frame_text"] = text;  // not JSON (a broken frame): kept as text
    } else {
      line["frame"] = std::move(frame);
    }
    std::string out = json::serialize(line);
    std::lock_guard lock(mutex_);
    std::fputs(out.c_str(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
  }

  std::FILE* file_ = nullptr;
  std::mutex mutex_;
  std::vector<std::string> secrets_;
};

// ------------------------------------------------------------------------------------------- connection

std::string Connection::app_of(const Config& cfg) {
  if (!cfg.app.empty()) return cfg.app;
  return cfg.url.empty() ? "" : app_from_url(cfg.url);
}

Connection::Connection(const Config& cfg, const Setup& setup) {
  const bool engine_given = Connection::engine_given(cfg);
  if (!cfg.url.empty() && !cfg.host.empty()) throw usage_error("give either --url or --host, not both");
  std::vector<std::string> secrets;
  qix::Options opts;
  if (!engine_given) {
    qix::sim::Options so;
    sim_ = std::make_unique<qix::sim::Server>(so);
    try {
      sim_->start();
    } catch (const std::exception& e) {
      throw Failure(kExitConnection, std::string("qix: cannot start the engine simulator: ") + e.what());
    }
    app_id_ = cfg.app.empty() ? (setup.app_required ? setup.sim_app : "") : cfg.app;
    url_ = sim_->url() + "/app/" + (app_id_.empty() ? "engineData" : app_id_);
    opts.set("url", url_);
  } else if (!cfg.url.empty()) {
    if (cfg.url.rfind("ws://", 0) != 0 && cfg.url.rfind("wss://", 0) != 0) {
      throw usage_error("--url must start with ws:// or wss:// (got '" + cfg.url + "')");
    }
    app_id_ = app_of(cfg);
    url_ = cfg.url;
    opts.set("url", url_);
  } else {
    app_id_ = cfg.app;
    opts.set("url.host", cfg.host);
    if (cfg.port != 0) opts.set_int("url.port", cfg.port);
    opts.set_bool("url.secure", cfg.secure);
    if (!cfg.prefix.empty()) opts.set("url.prefix", cfg.prefix);
    if (!app_id_.empty()) opts.set("url.app_id", app_id_);
    if (!cfg.identity.empty()) opts.set("url.identity", cfg.identity);
    if (cfg.ttl >= 0) opts.set_int("url.ttl", cfg.ttl);
    url_ = opts.url();
  }
  if (setup.app_required && app_id_.empty()) {
    throw usage_error("this command needs an app: give --app ID (or a --url with /app/ID)");
  }
  for (const auto& h : cfg.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      throw usage_error("--header must be 'Name: value' (got '" + h + "')");
    std::string name = trim(h.substr(0, colon));
    std::string value = trim(h.substr(colon + 1));
    opts.add_header(name, value);
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((lower == "authorization" || lower == "cookie" || lower == "x-qlik-session") && value.size() >= 4) {
      secrets.push_back(value);
      auto space = value.find(' ');
      if (space != std::string::npos && value.size() - space > 4) secrets.push_back(value.substr(space + 1));
    }
  }
  if (!cfg.bearer.empty()) {
    opts.add_header("Authorization", "Bearer " + cfg.bearer);
    secrets.push_back(cfg.bearer);
  }
  if (!cfg.certs.empty()) {
    namespace fs = std::filesystem;
    fs::path dir(cfg.certs);
    for (const char* f : {"client.pem", "client_key.pem", "root.pem"}) {
      if (!fs::is_regular_file(dir / f)) {
        throw usage_error("--certs " + cfg.certs + ": " + f +
                          " is missing (expected client.pem, client_key.pem, root.pem)");
      }
    }
    opts.set("tls.cert_file", (dir / "client.pem").string());
    opts.set("tls.key_file", (dir / "client_key.pem").string());
    opts.set("tls.ca_file", (dir / "root.pem").string());
  }
  if (cfg.insecure) opts.set_bool("tls.verify", false);
  if (cfg.no_delta) opts.set_bool("delta", false);
  opts.set("reconnect", cfg.reconnect);
  if (cfg.timeout_s < 0) throw usage_error("--timeout must be >= 0");
  auto timeout_ms = static_cast<std::int64_t>(cfg.timeout_s * 1000);
  opts.set_int("timeout.connect_ms", timeout_ms);
  opts.set_int("timeout.handshake_ms", timeout_ms);
  opts.set_int("timeout.call_ms", timeout_ms);
  if (setup.watch_interval_ms > 0) opts.set_int("watch.min_interval_ms", setup.watch_interval_ms);
  if (!cfg.traffic.empty()) {
    traffic_ = std::make_unique<TrafficLog>(cfg.traffic, std::move(secrets));
    opts.set_traffic_cb(&TrafficLog::callback, traffic_.get());
  }
  try {
    session_ = std::make_unique<qix::Session>(opts, static_cast<int>(timeout_ms));
  } catch (const qix::Error& e) {
    std::string what = e.message();
    // The verdict on a server that does not speak QIX already names it.
    if (e.status() == QIX_EPROTOCOL) throw Failure(kExitConnection, "qix: " + what);
    if (e.status() == QIX_EHTTP && e.engine_code() != 0)
      what += " (HTTP " + std::to_string(e.engine_code()) + ")";
    throw Failure(kExitConnection, "qix: cannot connect to " + url_ + ": " + what);
  }
  if (setup.open_app && !app_id_.empty()) {
    try {
      json::array params{json::value(app_id_)};
      doc_ = call_global("OpenDoc", json::serialize(params)).object();
    } catch (...) {
      // A throwing constructor runs no destructor: the session is ended here, in the same order.
      shut_down();
      throw;
    }
  }
}

Connection::~Connection() {
  shut_down();
}

void Connection::shut_down() noexcept {
  doc_ = qix::Object();
  if (session_) {
    session_->close();
    // Drained: the CLOSED event and every callback queued before it (the traffic log's frames) have run,
    // so nothing calls into traffic_ after this.
    bool drained = false;
    try {
      drained = session_->wait_closed(5000);
    } catch (const qix::Error&) {  // QIX_EBUSY only, and the CLI never ends a session from a callback
    }
    session_.reset();
    // Not drained within 5 s: a traffic callback may still come, so its log is left open (the process ends).
    if (!drained) static_cast<void>(traffic_.release());
  }
  traffic_.reset();
  if (sim_) sim_->stop();
}

qix::Object& Connection::doc() {
  if (doc_.empty()) throw usage_error("this command needs an app: give --app ID (or a --url with /app/ID)");
  return doc_;
}

std::string Connection::close_reason() const {
  if (!session_) return "";
  int code = 0;
  char* reason = nullptr;
  if (qix_session_close_info(&code, &reason, session_->c_handle()) != QIX_OK) return "";
  std::string r = reason ? reason : "";
  qix_free(reason);
  return "close code " + std::to_string(code) + (r.empty() ? "" : ": " + r);
}

Failure Connection::failure(const qix::Error& e) const {
  switch (e.status()) {
    case QIX_EENGINE: {
      std::string msg = "error " + std::to_string(e.engine_code()) + " " +
                        (e.name().empty() ? "LOCERR_UNKNOWN" : e.name()) + ": " + e.message();
      if (!e.parameter().empty()) msg += " (" + e.parameter() + ")";
      Failure f(kExitEngine, msg);
      f.json_message = e.message();
      f.details = {{"code", e.engine_code()}, {"name", e.name().empty() ? "LOCERR_UNKNOWN" : e.name()}};
      if (!e.parameter().empty()) f.details["parameter"] = e.parameter();
      return f;
    }
    case QIX_ECONNECTION:
    case QIX_ECLOSED:
    case QIX_ENETWORK:
    case QIX_EHTTP:
    case QIX_ETLS:
    case QIX_ETIMEOUT:
    case QIX_EPROTOCOL:
    case QIX_ETOOLARGE: {
      std::string msg = "qix: " + e.message();
      std::string why = close_reason();
      // The close reason, unless the message already says it (a lost connection, a non-QIX server).
      std::string reason = why.substr(why.find(": ") == std::string::npos ? why.size() : why.find(": ") + 2);
      if (!why.empty() && (reason.empty() || msg.find(reason) == std::string::npos)) {
        msg += " (connection closed, " + why + ")";
      }
      return Failure(kExitConnection, msg);
    }
    default:
      return Failure(kExitEngine, "qix: " + e.message());
  }
}

qix::Result Connection::call_global(const std::string& method, const std::string& params) {
  try {
    return session_->call(method, params, QIX_CALL_DEFAULT, call_timeout_ms());
  } catch (const qix::Error& e) {
    throw failure(e);
  }
}

qix::Result Connection::call_doc(const std::string& method, const std::string& params) {
  return call(doc(), method, params);
}

qix::Result Connection::call(qix::Object& obj, const std::string& method, const std::string& params) {
  try {
    return obj.call(method, params, QIX_CALL_DEFAULT, call_timeout_ms());
  } catch (const qix::Error& e) {
    throw failure(e);
  }
}

qix::Object Connection::get_object(const std::string& id) {
  return lookup("GetObject", id, "no object with id '" + id + "' in app " + app_id_);
}

qix::Object Connection::lookup(const std::string& method, const std::string& name,
                               const std::string& missing) {
  qix::Result r;
  try {
    r = doc().call(method, json::serialize(json::array{json::value(name)}), QIX_CALL_DEFAULT,
                   call_timeout_ms());
  } catch (const qix::Error& e) {
    // A Get* of a missing object answers qHandle:null, which libqix reports as QIX_ENOTFOUND.
    if (e.status() == QIX_ENOTFOUND) throw Failure(kExitEngine, "qix: " + missing);
    throw failure(e);
  }
  if (!r.has_object()) throw Failure(kExitEngine, "qix: " + missing);
  return r.object();
}

qix::Object Connection::create_session_object(const json::value& props) {
  auto r = call_doc("CreateSessionObject", json::serialize(json::array{props}));
  if (!r.has_object()) throw Failure(kExitEngine, "qix: CreateSessionObject returned no object");
  return r.object();
}

}  // namespace qixcli
