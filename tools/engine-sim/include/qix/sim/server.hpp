// qix-engine-sim: an in-process QIX Engine simulator (JSON-RPC 2.0 over WebSocket) for tests, the
// `qix-engine-sim` executable and offline development.
//
// Threading: a Server owns one I/O thread that runs every connection and the whole engine model, so the
// model needs no locks. The public member functions may be called from any thread: start()/stop() must
// not race with each other; stats(), reset_stats() and the test hooks are thread-safe (the hooks post
// work to the I/O thread and return at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace qix::sim {

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;       // 0 picks a free port
  std::string data_dir;          // every sub-folder is an app of *.csv tables; empty = built-in `demo`
  std::size_t demo_rows = 2000;  // fact rows of the built-in `demo` app (`demo-large` always has 1,000,000)
  // TLS: both set = wss://. client_ca set = a client certificate signed by it is required.
  std::string tls_cert, tls_key, client_ca;
  std::string require_header;  // "Name: value": the upgrade request must carry it, else HTTP 401
  std::string bearer;          // the upgrade request must carry "Authorization: Bearer <token>"
  bool proxy_mode = false;     // OnAuthenticationInformation after the client's first frame
  int session_ttl = 0;      // seconds a disconnected session is kept for SESSION_ATTACHED (URL /ttl/N wins)
  int latency_ms = 0;       // every response is delayed by this much
  int jitter_ms = 0;        // plus a random 0..jitter
  bool reorder = false;     // responses to pipelined requests may leave out of order
  int drop_after = 0;       // close the socket (no close frame) after N received frames
  int malformed_every = 0;  // every Nth response frame is sent as broken JSON
  int close_code = 0;       // with close_after_ms: close each connection with this code
  int close_after_ms = 0;
  int calc_delay_ms = 0;  // calculations take at least this long; a selection meanwhile aborts them (15)
  // Play a WebSocket service that is not a QIX engine (for clients' diagnosis of a wrong URL): "echo" sends
  // every frame back as received, "silent" never sends anything, "banner" greets with a line of plain text
  // and answers each frame with another. Empty = a QIX engine.
  std::string not_qix;
};

struct MethodStats {
  std::uint64_t received = 0;
  std::uint64_t max_in_flight = 0;  // received but not yet answered, at the worst moment
};

class Server {
 public:
  explicit Server(Options options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Loads the apps, binds and serves on its own thread. Throws std::runtime_error on failure.
  void start();
  /// Closes every connection and joins the I/O thread. Idempotent.
  void stop();
  unsigned short port() const;
  /// "ws://HOST:PORT" (or "wss://").
  std::string url() const;

  /// Per method name ("OpenDoc", "GetLayout", ...), counted on receipt.
  std::map<std::string, MethodStats> stats() const;
  void reset_stats();

  /// Test hooks. Closes every open connection with a WebSocket close code.
  void close_all(std::uint16_t code);
  /// Sends a raw text frame to every open connection.
  void push_all(const std::string& frame);
  /// Proxy-style fatal notification (e.g. "OnSessionTimedOut") to every connection, then closes them.
  void proxy_fatal_all(const std::string& method);
  /// Number of currently open WebSocket connections.
  std::size_t connection_count() const;
  /// Waits until connection_count() is @p n (e.g. 0: the server has seen every client's disconnect).
  /// Returns false when @p timeout passed first. Thread-safe; not from the server's own thread.
  bool wait_connection_count(std::size_t n, std::chrono::milliseconds timeout) const;

  struct Impl;  // internal (public only so that the server's connection classes can name it)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace qix::sim
