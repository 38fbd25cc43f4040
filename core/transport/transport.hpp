// Transport: the layer that knows bytes and frames. A session talks to the engine through one Transport;
// tests use an in-memory one (memory_transport.hpp), production the WebSocket one
// (websocket_transport.hpp), and a host application may plug in its own.
#pragma once

#include "rpc/error.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace qix::core {

/// WebSocket close codes the QIX protocol gives meaning to.
namespace close_code {
inline constexpr int normal = 1000;
inline constexpr int going_away = 1001;
inline constexpr int protocol_error = 1002;  ///< Sent by the client to a peer that does not speak QIX.
inline constexpr int abnormal = 1006;        ///< No close frame (network failure); never sent on the wire.
inline constexpr int message_too_big = 1009;
inline constexpr int client_suspend = 4000;
inline constexpr int idle_timeout = 4001;
inline constexpr int license_renewal = 4002;
inline constexpr int engine_terminating = 4003;
inline constexpr int app_deleted = 4004;
inline constexpr int session_limit = 4005;
inline constexpr int authentication_failed = 4006;
inline constexpr int app_mode_changed = 4007;
}  // namespace close_code

/// Returns a short English description of a close code ("engine terminating", ...), or "" when unknown.
const char* describe_close_code(int code) noexcept;

/// Why a connection ended (or never opened).
struct CloseInfo {
  int code = close_code::abnormal;  ///< WebSocket close code; 1006 when there was no close frame.
  std::string reason;               ///< Close reason text from the peer (or a fatal proxy notification).
  Error error;             ///< Set when a failure (network, TLS, HTTP status, timeout, size) ended it.
  bool by_client = false;  ///< True when the client asked to close.
  /// One line: "closed by the engine with code 4003 (engine terminating): <reason>" or the error.
  std::string describe() const;
};

/// Receives a transport's events. Called on the transport's I/O thread, one at a time, in order:
/// either on_open, then on_frames*, then on_close; or on_close alone when opening failed. Never from inside
/// Transport::send/close. Implementations must not block.
class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  virtual void on_open() = 0;
  /// A run of complete text messages (at least one), in the order received: what one read of the network
  /// brought (a transport may split a long run). The handler may take the strings; they are the
  /// transport's again when this returns. Handing a burst on as one lets the handler apply it under one
  /// hold of its locks and pass on what it caused (events to deliver) as one.
  /// `utf8`: every text of the run was checked to be UTF-8 (the WebSocket transport checks each text
  /// message, as RFC 6455 asks), so that the handler's JSON parser need not check it again; false when the
  /// transport does not know (then the parser checks).
  virtual void on_frames(std::span<std::string> texts, bool utf8) = 0;
  /// Exactly once per open(), last.
  virtual void on_close(const CloseInfo& info) = 0;
};

/// A message-oriented duplex channel. Thread-safe: send() and close() may be called from any thread.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Starts connecting; events go to `handler` (held weakly: a destroyed handler gets no events).
  /// Call once.
  virtual void open(std::weak_ptr<TransportHandler> handler) = 0;
  /// Queues one text message; messages go out in the order queued. Before on_open they are held and sent
  /// after it; after close they are dropped. Never blocks (a transport may write to its socket on the calling
  /// thread, without waiting: the WebSocket transport does on an open ws:// connection with no write in
  /// flight).
  virtual void send(std::string text) = 0;
  /// Starts a graceful close with `code`; on_close follows. Idempotent.
  virtual void close(int code = close_code::normal, std::string reason = {}) = 0;
  /// Sends now what send() holds for the end of another thread's event task (OutputBatch): that task is held
  /// up (SerialQueue::hand_over from another thread) and may be waiting for an answer to it. Thread-safe.
  virtual void flush_held() {}
  /// Names the peer in messages: "ws://host:port/path" (no query string, which may carry a ticket, and no
  /// credentials). Empty when the transport has no address (in-memory transports). Thread-safe.
  virtual std::string peer() const { return {}; }
};

}  // namespace qix::core
