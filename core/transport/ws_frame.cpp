#include "transport/ws_frame.hpp"

#include <cstring>

namespace qix::core::ws {

bool valid_utf8(const char* p, std::size_t n) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::size_t i = 0;
  while (i < n) {
    // ASCII, 8 bytes at a time: JSON from the engine is mostly that.
    while (i + 8 <= n) {
      std::uint64_t v;
      std::memcpy(&v, u + i, 8);
      if (v & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = u[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;  // a continuation byte first, an overlong 2-byte lead (C0, C1), or F5..FF
    }
    if (n - i < len) return false;
    if (u[i + 1] < lo || u[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if ((u[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

std::string base64(const unsigned char* p, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n - i == 1) {
    std::uint32_t v = std::uint32_t{p[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (n - i == 2) {
    std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::array<unsigned char, 20> sha1(std::string_view text) {
  // FIPS 180-4, 6.1. Written here rather than taken from OpenSSL: OpenSSL keeps per-thread state (its error
  // queue) on any thread that uses it, and a plain ws:// connection's I/O thread has no other need of it.
  std::uint32_t h[5] = {0x67452301U, 0xEFCDAB89U, 0x98BADCFEU, 0x10325476U, 0xC3D2E1F0U};
  const auto rotl = [](std::uint32_t v, int n) { return (v << n) | (v >> (32 - n)); };
  const auto block = [&](const unsigned char* b) {
    std::uint32_t w[80];
    for (int t = 0; t < 16; ++t) {
      w[t] = (std::uint32_t{b[4 * t]} << 24) | (std::uint32_t{b[4 * t + 1]} << 16) |
             (std::uint32_t{b[4 * t + 2]} << 8) | std::uint32_t{b[4 * t + 3]};
    }
    for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    std::uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      std::uint32_t f = 0;
      std::uint32_t k = 0;
      if (t < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5A827999U;
      } else if (t < 40) {
        f = bb ^ c ^ d;
        k = 0x6ED9EBA1U;
      } else if (t < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8F1BBCDCU;
      } else {
        f = bb ^ c ^ d;
        k = 0xCA62C1D6U;
      }
      const std::uint32_t temp = rotl(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = rotl(bb, 30);
      bb = a;
      a = temp;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  };
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t at = 0;
  for (; at + 64 <= n; at += 64) block(data + at);
  // The last block(s): the rest, a 1 bit, zeros, and the message's length in bits (big-endian, 64 bits).
  unsigned char tail[128] = {};
  const std::size_t rest = n - at;
  std::memcpy(tail, data + at, rest);
  tail[rest] = 0x80;
  const std::size_t tail_size = rest + 9 <= 64 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  block(tail);
  if (tail_size == 128) block(tail + 64);
  std::array<unsigned char, 20> out{};
  for (int i = 0; i < 5; ++i) {
    out[4 * i] = static_cast<unsigned char>(h[i] >> 24);
    out[4 * i + 1] = static_cast<unsigned char>(h[i] >> 16);
    out[4 * i + 2] = static_cast<unsigned char>(h[i] >> 8);
    out[4 * i + 3] = static_cast<unsigned char>(h[i]);
  }
  return out;
}

std::string accept_key(std::string_view key) {
  std::string text(key);
  text += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 1.3
  const auto digest = sha1(text);
  return base64(digest.data(), digest.size());
}

namespace {

// Close codes a peer may send (RFC 6455 7.4; 1012-1014 registered since): not 1004-1006, 1015, and
// nothing below 1000 or from 5000.
bool sendable_close_code(int code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

std::size_t FrameReader::feed(const char* p, std::size_t n, FrameSink& sink) {
  const char* data = p;
  const auto* bytes = reinterpret_cast<const unsigned char*>(p);
  std::size_t used = 0;
  while (!done_) {
    const unsigned char* f = bytes + used;
    const std::size_t avail = n - used;
    wanted_ = 2;
    if (avail < 2) break;
    const bool fin = (f[0] & 0x80) != 0;
    const int op = f[0] & 0x0F;
    std::size_t header = 2;
    std::uint64_t length = f[1] & 0x7F;
    if (length == 126) {
      header = 4;
    } else if (length == 127) {
      header = 10;
    }
    if (avail < header) {
      wanted_ = header;
      break;
    }
    auto fail = [&](int code, std::string what) {
      done_ = true;
      sink.on_error(code, std::move(what));
      return used;
    };
    if (f[0] & 0x70) return fail(1002, "a frame with reserved bits set (no extension was agreed)");
    if (f[1] & 0x80) return fail(1002, "a masked frame (a server must not mask its frames)");
    if (length == 126) {
      length = (std::uint64_t{f[2]} << 8) | f[3];
      if (length < 126) return fail(1002, "a frame length not in its shortest form");
    } else if (length == 127) {
      length = 0;
      for (int i = 2; i < 10; ++i) length = (length << 8) | f[i];
      if (length >> 63) return fail(1002, "a frame length with its highest bit set");
      if (length < 65536) return fail(1002, "a frame length not in its shortest form");
    }
    const bool control = (op & 0x8) != 0;
    if (control) {
      if (op != opcode::close && op != opcode::ping && op != opcode::pong)
        return fail(1002, "a frame with an unknown opcode " + std::to_string(op));
      if (!fin) return fail(1002, "a fragmented control frame");
      if (length > 125) return fail(1002, "a control frame longer than 125 bytes");
    } else {
      if (op != opcode::continuation && op != opcode::text && op != opcode::binary)
        return fail(1002, "a frame with an unknown opcode " + std::to_string(op));
      if (op == opcode::continuation && !in_message_)
        return fail(1002, "a continuation frame outside a fragmented message");
      if (op != opcode::continuation && in_message_)
        return fail(1002, "a new message inside a fragmented one");
      const std::uint64_t so_far = in_message_ ? message_.size() : 0;
      if (length > max_message_ || so_far + length > max_message_) {
        return fail(1009, "a message larger than the maximum message size of " +
                              std::to_string(max_message_) + " bytes");
      }
    }
    if (avail - header < length) {
      wanted_ = header + static_cast<std::size_t>(length);
      break;
    }
    const char* payload = data + used + header;
    const auto size = static_cast<std::size_t>(length);
    used += header + size;
    if (control) {
      if (op == opcode::ping) {
        sink.on_ping(std::string_view(payload, size));
      } else if (op == opcode::close) {
        done_ = true;
        if (size == 0) {
          sink.on_close(1005, {});
        } else if (size == 1) {
          sink.on_error(1002, "a close frame with a one-byte payload");
        } else {
          int code = (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
          if (!sendable_close_code(code)) {
            sink.on_error(1002, "a close frame with the invalid code " + std::to_string(code));
          } else if (!valid_utf8(payload + 2, size - 2)) {
            sink.on_error(1007, "a close frame whose reason is not UTF-8");
          } else {
            sink.on_close(code, std::string_view(payload + 2, size - 2));
          }
        }
      }
      continue;  // a pong: nothing to do (any byte read is a sign of life)
    }
    if (op != opcode::continuation) {
      message_opcode_ = op;
      message_.assign(payload, size);
    } else {
      message_.append(payload, size);
    }
    in_message_ = !fin;
    if (!fin) continue;
    if (message_opcode_ == opcode::text && !valid_utf8(message_.data(), message_.size())) {
      done_ = true;
      sink.on_error(1007, "a text message that is not UTF-8");
      break;
    }
    sink.on_message(message_, message_opcode_ == opcode::text);
  }
  return used;
}

}  // namespace qix::core::ws
