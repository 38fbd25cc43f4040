// qix: the libqix command-line tool. Shared declarations of its translation units.
//
// The tool is a client of the public C API (through the header-only facade qix/qix.hpp) like any other
// program; it links libqix.so.1. It also links the engine simulator, which it starts in-process when no
// engine is given, and reads the Engine API's method table (data generated from the engine's
// specification, core/rpc/methods.hpp) to send `call` to the class that has the method.
#pragma once

#include "qix/qix.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace qix::sim {
class Server;
}

namespace qixcli {

namespace json = boost::json;

/// Exit codes (docs/cli.md).
enum Exit : int {
  kExitOk = 0,
  kExitEngine = 1,         ///< the engine answered with an error, or the command failed otherwise
  kExitUsage = 2,          ///< bad command line
  kExitConnection = 3,     ///< could not connect, TLS/HTTP failure, timeout, or the connection was lost
  kExitInterrupted = 130,  ///< extract stopped by Ctrl-C (SIGINT; SIGTERM gives 143)
};

/// A failure that ends the command: `message` is printed on stderr as is, the process exits with `code`.
/// With --json it is printed as one JSON object instead (print_failure): `json_message` (default: the
/// message without its "qix: " prefix) and the members of `details` (e.g. the engine's code and name).
struct Failure : std::runtime_error {
  Failure(int exit_code, const std::string& message) : std::runtime_error(message), code(exit_code) {}
  int code;
  std::string json_message;
  json::object details;
};

/// Prints @p f on stderr: its text, or with @p json one line {"error":{"kind","exitCode","message",...}}
/// (docs/cli.md, "Errors").
void print_failure(bool json, const Failure& f);

/// A command-line mistake found after parsing (exit 2).
inline Failure usage_error(const std::string& message) {
  return Failure(kExitUsage, "qix: " + message);
}

/// Options shared by every command.
struct Config {
  std::string url;
  std::string host;
  int port = 0;
  bool secure = false;
  std::string prefix;
  std::string app;
  std::string identity;
  int ttl = -1;
  std::vector<std::string> headers;  // "Name: value"
  std::string bearer;
  std::string certs;  // folder with client.pem, client_key.pem, root.pem
  bool insecure = false;
  std::string traffic;  // JSON-lines traffic log
  bool no_delta = false;
  std::string reconnect = "none";  // none | attach | resume (docs/reconnect.md)
  bool json = false;
  double timeout_s = 30;
};

/// A message on stderr that does not end the command (watch: a failed fetch, reconnecting, resumed):
/// "qix: <message>", or with --json one line {"notice":{"kind":<kind>,"message":<message>}}.
void notice(const Config& cfg, const char* kind, const std::string& message);

class TrafficLog;

/// One session to the engine (or to an in-process simulator when no engine is given), opened at
/// construction. Not thread-safe: used from the main thread; callbacks run on libqix's threads.
class Connection {
 public:
  struct Setup {
    bool open_app = false;         ///< open the app (OpenDoc) after connecting
    bool app_required = false;     ///< fail with a usage error when no app id is known
    std::string sim_app = "demo";  ///< the app of the in-process simulator when --app is not given
    int watch_interval_ms = 0;     ///< session option watch.min_interval_ms
  };

  Connection(const Config& cfg, const Setup& setup);
  /// The app id @p cfg names (--app, else the /app/ID of --url), "" when none; the bundled simulator's
  /// default app is not included.
  static std::string app_of(const Config& cfg);
  /// True when --url or --host names an engine (else the bundled simulator runs in-process).
  static bool engine_given(const Config& cfg) { return !cfg.url.empty() || !cfg.host.empty(); }
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  qix::Session& session() { return *session_; }
  /// The opened app; throws a usage error when none was opened.
  qix::Object& doc();
  const std::string& app_id() const { return app_id_; }
  /// The engine's URL as used (without credentials).
  const std::string& url() const { return url_; }
  bool simulated() const { return sim_ != nullptr; }
  /// Per-call timeout in ms for blocking calls (-1 = the session default set from --timeout).
  int call_timeout_ms() const { return -1; }

  /// Turns a library error into the Failure that ends the command (engine errors: exit 1 with
  /// "error <code> <LOCERR>: <message> (<parameter>)"; lost connections: exit 3 with the close reason).
  Failure failure(const qix::Error& e) const;
  /// "code 4003, reason ..." when the session is closed, else "".
  std::string close_reason() const;

  /// Calls on the Global object / on the app; throw Failure on error.
  qix::Result call_global(const std::string& method, const std::string& params = "[]");
  qix::Result call_doc(const std::string& method, const std::string& params = "[]");
  qix::Result call(qix::Object& obj, const std::string& method, const std::string& params = "[]");
  /// GetObject of an id; throws Failure (exit 1) when there is no such object.
  qix::Object get_object(const std::string& id);
  /// A Get* by name on the app (GetObject, GetField ...); throws Failure (exit 1) with "qix: <missing>"
  /// when the engine has no such object.
  qix::Object lookup(const std::string& method, const std::string& name, const std::string& missing);
  /// CreateSessionObject with @p props (a JSON object).
  qix::Object create_session_object(const json::value& props);

 private:
  /// Closes the session, waits (5 s at most) until its events have run, frees it, then the traffic log
  /// and the simulator. Idempotent; the destructor, and the constructor when it fails after connecting.
  void shut_down() noexcept;

  std::unique_ptr<qix::sim::Server> sim_;
  std::unique_ptr<TrafficLog> traffic_;
  std::unique_ptr<qix::Session> session_;
  qix::Object doc_;
  std::string app_id_;
  std::string url_;
};

// ------------------------------------------------------------------------------------------ formatting

/// Parses JSON text; throws Failure (exit 1) when it is not JSON (a library bug or a broken engine).
json::value parse(const std::string& text);
/// Indented JSON (two spaces), as `jq .` prints it.
std::string pretty(const json::value& v);
/// A JSON string literal of @p s.
std::string quote(const std::string& s);
/// The text of a cell ({qText, qNum ...}): qText, else the number, else "".
std::string cell_text(const json::value& cell);
/// A number as the shortest text that reads back the same ("1035447.5", "12", "1e+21").
std::string number_text(double d);
/// Prints rows as an aligned table (first row = header); numeric-looking cells are right-aligned.
void print_table(std::FILE* out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent = "");
/// CSV field (RFC 4180 quoting when needed).
std::string csv_field(const std::string& s);
/// A string value's text, a number as number_text(), else "" (also for nullptr).
std::string text_of(const json::value* v);
/// Member lookup that tolerates non-objects: nullptr when absent.
const json::value* member(const json::value& v, const char* key);
/// 1234567 -> "1,234,567".
std::string thousands(std::int64_t n);

// ------------------------------------------------------------------------------------------- commands

int cmd_demo(const Config& cfg);
struct CallArgs {
  std::string method;
  std::string params = "[]";
  std::string object;
  bool has_handle = false;
  int handle = 0;
  bool raw = false;
};
int cmd_call(const Config& cfg, const CallArgs& a);
int cmd_apps(const Config& cfg);
int cmd_eval(const Config& cfg, const std::string& expr);
int cmd_objects(const Config& cfg);
int cmd_layout(const Config& cfg, const std::string& id);
int cmd_fields(const Config& cfg);
/// The names of the app's fields (GetTablesAndKeys).
std::vector<std::string> field_names(Connection& c);
int cmd_select(const Config& cfg, const std::string& field, const std::vector<std::string>& values);
int cmd_clear(const Config& cfg, const std::string& field);
struct WatchArgs {
  std::string id;
  int count = 0;          // stop after this many versions (0 = until interrupted)
  int interval_ms = 250;  // at most one fetch per interval
};
int cmd_watch(const Config& cfg, const WatchArgs& a);
struct ExtractArgs {
  std::vector<std::string> dims;
  std::vector<std::string> measures;
  std::string format = "csv";
  std::string output;  // empty or "-" = stdout
  int window = 4;
  int page_height = 0;
  std::string progress = "auto";  // auto | always | never
};
int cmd_extract(const Config& cfg, const ExtractArgs& a);

/// Set by SIGINT/SIGTERM once install_signal_handlers() ran (watch, extract): until then the signals
/// end the process as usual.
bool interrupted();
/// The signal that set interrupted() (SIGINT or SIGTERM), 0 when none.
int interrupt_signal();
void install_signal_handlers();

}  // namespace qixcli
