// The client side of RFC 6455 framing that the WebSocket transport does itself, without sockets: reading
// the server's frames out of received bytes (FrameReader), and the opening handshake's key and answer.
// Kept apart from the transport (no Asio here) so that it is unit-tested and fuzzed on its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qix::core::ws {

/// Frame opcodes (RFC 6455 5.2).
namespace opcode {
inline constexpr int continuation = 0x0;
inline constexpr int text = 0x1;
inline constexpr int binary = 0x2;
inline constexpr int close = 0x8;
inline constexpr int ping = 0x9;
inline constexpr int pong = 0xA;
}  // namespace opcode

/// True when [p, p + n) is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(const char* p, std::size_t n) noexcept;

/// Standard base64 (RFC 4648, with padding).
std::string base64(const unsigned char* p, std::size_t n);

/// SHA-1 (FIPS 180-4) of `text`: only for the handshake's accept key, which RFC 6455 defines with it.
std::array<unsigned char, 20> sha1(std::string_view text);

/// The Sec-WebSocket-Accept a server must answer to the request's Sec-WebSocket-Key `key`
/// (base64 of the SHA-1 of the key and the RFC's GUID, RFC 6455 4.2.2).
std::string accept_key(std::string_view key);

/// What a FrameReader finds in the bytes; called on the reader's caller's thread, from inside feed().
class FrameSink {
 public:
  /// A whole text or binary message (its fragments joined). `utf8`: the message was checked to be UTF-8 (a
  /// text message always is, before it gets here; a binary one never is). The sink may take the string (move
  /// from it).
  virtual void on_message(std::string& message, bool utf8) = 0;
  /// A ping: RFC 6455 asks for a pong with the same payload.
  virtual void on_ping(std::string_view payload) = 0;
  /// The peer's close frame: its code (1005, "no code", when it carried none) and reason. No frame is read
  /// after it.
  virtual void on_close(int code, std::string_view reason) = 0;
  /// The bytes broke the protocol (close code 1002), held text that is not UTF-8 (1007) or a message
  /// larger than the limit (1009): `code` is the close code to send, `what` one line for the user. No
  /// frame is read after it.
  virtual void on_error(int code, std::string what) = 0;

 protected:
  ~FrameSink() = default;
};

/// Reads the frames a server sends to a client out of the bytes as they arrive, in pieces of any size.
/// One per connection; not thread-safe (the connection's reading strand owns it).
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message) : max_message_(max_message) {}

  /// Reads the complete frames at the start of [p, p + n) and reports each to `sink`; returns how many
  /// bytes they took (the caller keeps the rest, and gives it again, with more, next time). Stops at a close
  /// frame or an error, after which it reads nothing more (done() is true).
  std::size_t feed(const char* p, std::size_t n, FrameSink& sink);

  /// How many bytes, counted from the first byte the last feed() left unread, the next frame needs at
  /// least (its header, or header and payload once the header is known). A hint for the read's size.
  std::size_t wanted() const noexcept { return wanted_; }
  /// A close frame or an error was met.
  bool done() const noexcept { return done_; }

  /// Offers the reader `spare`'s buffer for its next messages: taken (and the reader's own given back in
  /// `spare`) when it is larger and no message is half read. A sink that takes each message's string by
  /// swap hands the largest buffer back this way, so that a stream of large messages is read without a new
  /// allocation each.
  void offer_buffer(std::string& spare) noexcept {
    if (!in_message_ && spare.capacity() > message_.capacity()) message_.swap(spare);
  }

 private:
  std::size_t max_message_;
  std::string message_;  // the fragments of a message so far (or the last message, until taken)
  bool in_message_ = false;
  int message_opcode_ = opcode::text;
  std::size_t wanted_ = 2;
  bool done_ = false;
};

}  // namespace qix::core::ws
