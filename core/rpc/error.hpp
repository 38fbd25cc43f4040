// The one error type of the core: engine errors keep the engine's code, parameter and message (plus the
// LOCERR name from the spec's table); library errors carry a library kind.
// Thread safety: a value type; copies are independent.
#pragma once

#include <cstdint>
#include <string>

namespace qix::core {

/// What produced an error. Append-only: the C API maps these to its status codes.
enum class ErrorKind : std::uint8_t {
  none = 0,
  engine,             ///< The engine answered with an error object; `code` is the engine's code.
  connection_lost,    ///< The connection closed (or failed) before the answer arrived.
  timeout,            ///< The per-call or connect timeout expired.
  cancelled,          ///< The caller cancelled the call (CancelRequest was sent to the engine).
  closed,             ///< The session or object is closed; nothing was sent.
  invalid_argument,   ///< Bad input from the caller (malformed params JSON, unknown handle, ...).
  protocol,           ///< The peer broke the protocol (malformed frame, bad delta patch, ...).
  message_too_large,  ///< A frame exceeded the configured maximum message size.
  not_found,          ///< A Get* call answered `qHandle: null`: the object does not exist.
  http_status,        ///< The WebSocket upgrade was answered with an HTTP error status (`code`).
  tls,                ///< TLS handshake or certificate verification failed.
  network,            ///< Name resolution, TCP connect or I/O failed.
  busy,               ///< The call cannot be made from here (e.g. a blocking call inside a callback).
  internal,           ///< A bug in libqix; please report it.
};

/// Returns a stable lower-case name of `kind` ("engine", "connection_lost", ...).
const char* to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::none;
  /// Engine errors: the engine's code (e.g. 1007). HTTP status errors: the status. Otherwise 0.
  int code = 0;
  /// Engine errors: the LOCERR name (e.g. "LOCERR_APP_INVALID"); empty when unknown.
  std::string name;
  /// Engine errors: the engine's `parameter` (context, e.g. "No active document").
  std::string parameter;
  /// Human-readable message. Engine errors: the engine's `message`.
  std::string message;

  explicit operator bool() const noexcept { return kind != ErrorKind::none; }

  /// True when retrying the same request may succeed: engine code 15 (aborted by a later request),
  /// timeouts and lost connections.
  bool retriable() const noexcept;

  /// One line for logs and exceptions: "engine error 1007 LOCERR_APP_INVALID: App invalid (No active
  /// document)".
  std::string describe() const;

  static Error make(ErrorKind kind, std::string message) {
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
  }
  /// An engine error; fills `name` from the LOCERR table.
  static Error engine(int code, std::string parameter, std::string message);
};

}  // namespace qix::core
