// The production transport: a WebSocket client (RFC 6455, framed here: ws_frame.hpp) over Asio, with
// Beast for the HTTP upgrade; ws:// and wss:// (OpenSSL 3).
#pragma once

#include "transport/transport.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qix::core {

class Context;

struct TlsOptions {
  /// Verify the server's certificate chain and host name. On by default; turn off only for testing.
  bool verify_peer = true;
  std::string ca_file;    ///< PEM bundle of trusted CAs; when empty (and ca_dir empty) the system store.
  std::string ca_dir;     ///< Directory of hashed CA certificates.
  std::string cert_file;  ///< Client certificate chain, PEM (Qlik Sense client.pem).
  std::string key_file;   ///< Client private key, PEM (Qlik Sense client_key.pem).
  /// Name to verify and to send as SNI; empty means the URL's host.
  std::string server_name;
};

struct ConnectOptions {
  std::string url;  ///< ws://host[:port]/path or wss://...; see url.hpp to build one.
  /// Extra headers on the upgrade request (Authorization: Bearer ..., X-Qlik-User, X-Qlik-Session ...).
  /// Their values are secrets: never logged and never put in error messages.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> cookies;  ///< Sent as one Cookie header.
  std::string origin;                                        ///< Origin header; none when empty.
  std::string user_agent = "libqix";
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{30000};    ///< Resolve + TCP connect + TLS handshake.
  std::chrono::milliseconds handshake_timeout{30000};  ///< WebSocket upgrade.
  /// After this long without any frame the client pings; without an answer for as long again, the
  /// connection is declared lost. 0 disables keep-alive pings.
  std::chrono::milliseconds keepalive{30000};
  /// A received message larger than this closes the connection with a "message too large" error (the
  /// stream cannot resync). Default 256 MiB.
  std::size_t max_message_size = 256u * 1024u * 1024u;
  /// For a session whose callbacks run on the I/O thread once a read is handled (SessionOptions::
  /// inline_events): a read of several messages takes the reads already waiting on the socket too (a few,
  /// without waiting; ws:// only), so that their callbacks run together and the calls they make leave in
  /// one write.
  bool take_waiting_reads = false;
};

/// Creates a WebSocket transport running on `context`'s I/O threads. The URL is checked when open() runs
/// (a bad URL ends in on_close with an invalid_argument error). Thread-safe like every Transport.
std::shared_ptr<Transport> make_websocket_transport(const std::shared_ptr<Context>& context,
                                                    ConnectOptions options);

}  // namespace qix::core
