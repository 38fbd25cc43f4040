// A small scripted WebSocket server for integration tests over real loopback sockets (ws and wss, with
// optional client-certificate requirement, refused upgrades, close codes, raw frames). Each connection is
// served by its own thread; the script's callbacks run on that thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/test_pki.hpp"

namespace qix::test {

class ScriptedConnection {
 public:
  virtual ~ScriptedConnection() = default;
  virtual void send(const std::string& text) = 0;
  /// Sends a close frame with `code` and stops serving this connection.
  virtual void close(int code, const std::string& reason = "") = 0;
  /// Drops the TCP connection without a close frame (the client sees 1006).
  virtual void drop() = 0;
  /// Headers of the upgrade request (lower-case names).
  virtual const std::map<std::string, std::string>& headers() const = 0;
  virtual const std::string& target() const = 0;
};

struct ScriptedServerOptions {
  bool tls = false;
  std::string cert_file, key_file;  ///< Server certificate (PEM) for tls.
  std::string client_ca_file;       ///< When set, a client certificate signed by this CA is required.
  int refuse_status = 0;            ///< When non-zero, answer the upgrade with this HTTP status.
  int receive_buffer = 0;           ///< When non-zero, the sockets' SO_RCVBUF (a peer that fills up soon).
};

class ScriptedServer {
 public:
  explicit ScriptedServer(ScriptedServerOptions options = {});
  ~ScriptedServer();
  unsigned short port() const;
  std::string url(const std::string& path = "/app/engineData") const;

  /// Called once the WebSocket is accepted (e.g. to send OnConnected).
  std::function<void(ScriptedConnection&)> on_open;
  /// Called for each text message received.
  std::function<void(ScriptedConnection&, const std::string&)> on_message;

  /// Upgrade-request headers of the most recent connection (lower-case names), and connection count.
  std::map<std::string, std::string> last_headers() const;
  int connections() const;
  /// Handshake failures seen (e.g. TLS rejections), for assertions.
  std::vector<std::string> failures() const;
  /// Waits until `n` TLS connections have ended (their WebSocket closed and the server's TLS teardown
  /// done) and says, for each in the order they ended, whether the client sent its TLS close_notify.
  std::vector<bool> wait_tls_endings(std::size_t n) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short last_port_ = 0;
};

}  // namespace qix::test
