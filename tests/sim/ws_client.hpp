// A minimal WebSocket test client for the simulator tests (Beast lives only in ws_client.cpp).
// Thread safety: one test thread uses a WsClient; a private I/O thread reads frames into a queue.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qix::sim::test {

/// TLS for a wss:// connection. The server certificate is not verified (tests use self-made ones).
struct TlsConfig {
  std::string client_cert;  // PEM files of a client certificate, when the server requires one
  std::string client_key;
};

class WsClient {
 public:
  /// Connects to ws://host:port/target with extra upgrade headers. On an HTTP refusal returns nullptr
  /// and sets *http_status (when given) to the status code.
  static std::unique_ptr<WsClient> connect(
      const std::string& host, unsigned short port, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers = {}, int* http_status = nullptr,
      const TlsConfig* tls = nullptr);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void send(const std::string& text);
  /// Waits up to timeout_ms for the next frame; false on timeout or when the connection is closed.
  bool next(std::string& out, int timeout_ms = 5000);
  /// True once the connection has ended (close frame or socket error).
  bool closed() const;
  /// The close code received (0 when the socket ended without a close frame).
  int close_code() const;
  /// Waits until closed; false on timeout.
  bool wait_closed(int timeout_ms = 5000);

  struct Impl;

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qix::sim::test
