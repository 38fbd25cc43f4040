// A WebSocket frame as a server writes it (RFC 6455 5.2), for tests that feed the client exact bytes.
#pragma once

#include <cstdint>
#include <string>

namespace qix::test {

/// A frame with opcode `op`: FIN unless told, unmasked unless told (then with a zero key, so the payload
/// reads the same), the shortest length form unless `force_len_bytes` says 1, 2 or 8.
inline std::string server_frame(int op, const std::string& payload, bool fin = true, int rsv = 0,
                                bool masked = false, int force_len_bytes = 0) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | op);
  const std::size_t n = payload.size();
  const int mask_bit = masked ? 0x80 : 0;
  if ((n < 126 && force_len_bytes == 0) || force_len_bytes == 1) {
    f += static_cast<char>(mask_bit | static_cast<int>(n));
  } else if ((n < 65536 && force_len_bytes == 0) || force_len_bytes == 2) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>((n >> 8) & 0xFF);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
  }
  if (masked) f += std::string(4, '\0');
  return f + payload;
}

}  // namespace qix::test
