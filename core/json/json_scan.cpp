#include "json/json_scan.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <array>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qix::core::json_scan {
namespace {
// The scanner below runs over every byte of every result the C API hands out as text (a 10,000-cell page is
// some 700 KB), so it looks each byte up once in a table instead of comparing it with each special byte.
enum : unsigned char { kPlain = 0, kQuote = 1, kOpen = 2, kClose = 3, kBackslash = 4 };
constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> c{};
  c['"'] = kQuote;
  c['{'] = kOpen;
  c['['] = kOpen;
  c['}'] = kClose;
  c[']'] = kClose;
  c['\\'] = kBackslash;
  return c;
}
constexpr std::array<unsigned char, 256> kClasses = make_classes();
inline unsigned char class_of(char c) {
  return kClasses[static_cast<unsigned char>(c)];
}

}  // namespace

std::size_t skip_string(std::string_view t, std::size_t i) noexcept {
  // Every key and string value of every frame's envelope comes here, most of them a few bytes long. A loop
  // whose next index depends on the byte just read (one more after a backslash) costs a load's latency per
  // byte; instead the first quote or backslash of 16 bytes at a time is found with two compares (SSE2), and
  // the bytes the last block does not cover go through a loop whose common case does not wait for the load.
  const char* p = t.data();
  const std::size_t n = t.size();
  ++i;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const auto found = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (found == 0) {
      i += 16;
      continue;
    }
    const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(found));
    if (p[at] == '"') return at + 1;
    i = at + 2;  // a backslash: the byte after it is escaped, whatever it is
  }
#endif
  while (i < n) {
    const char c = p[i];
    if (__builtin_expect(c == '"', 0)) return i + 1;
    if (__builtin_expect(c == '\\', 0)) {
      i += 2;
      continue;
    }
    ++i;
  }
  return n;
}

namespace {
// Skipping a container: the scanner's one long loop (a page's whole qDataPages array). The state: the
// bracket depth, whether the byte is inside a string, whether the previous byte was a backslash escaping it.
struct SkipState {
  std::size_t depth = 0;
  bool in_string = false;
  bool escape = false;
};

// Scans [from, to) byte by byte; returns the index after the bracket that closes the container, or `to`.
std::size_t skip_bytes(const char* p, std::size_t from, std::size_t to, SkipState& st, bool& done) {
  for (std::size_t k = from; k < to; ++k) {
    if (st.escape) {  // the byte after a backslash in a string, whatever it is
      st.escape = false;
      continue;
    }
    unsigned char cls = class_of(p[k]);
    if (cls == kPlain) continue;
    if (st.in_string) {
      if (cls == kBackslash) {
        st.escape = true;
      } else if (cls == kQuote) {
        st.in_string = false;
      }
    } else if (cls == kQuote) {
      st.in_string = true;
    } else if (cls == kOpen) {
      ++st.depth;
    } else if (cls == kClose && --st.depth == 0) {
      done = true;
      return k + 1;
    }
  }
  return to;
}

#if defined(__SSE2__)
// 64 bytes at a time (SSE2, which every x86-64 has): bit masks of the quotes, backslashes, opening and
// closing brackets; the bytes inside strings are the prefix XOR of the quote mask, so the brackets that count
// are found without looking at each byte. A block with a backslash (or right after one) goes byte by byte.
// What is left after the last 64-byte block (a whole tiny result is shorter than one) goes 16 bytes at a time
// the same way, then byte by byte.
inline std::uint64_t mask16(__m128i v, char c) {
  return static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}

// A block of `width` bytes (64 or 16) at `base` without a backslash, given its masks of quotes and brackets:
// updates the state; returns the index after the bracket that closes the container when it is in the block,
// else 0.
inline std::size_t skip_block(std::uint64_t quote, std::uint64_t open, std::uint64_t close, unsigned width,
                              std::size_t base, SkipState& st) {
  const std::uint64_t all = width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  std::uint64_t inside = quote;  // prefix XOR: bit k = parity of the quotes at or before k
  inside ^= inside << 1;
  inside ^= inside << 2;
  inside ^= inside << 4;
  inside ^= inside << 8;
  inside ^= inside << 16;
  inside ^= inside << 32;
  if (st.in_string) inside = ~inside;
  inside &= all;
  st.in_string = ((inside >> (width - 1)) & 1) != 0;
  open &= ~inside;
  close &= ~inside;
  // Each bracket in turn (a few per block in a page): counting them instead (popcount) is a call into libgcc
  // on the x86-64 baseline, which cost more than this loop.
  for (std::uint64_t events = open | close; events != 0; events &= events - 1) {
    int bit = __builtin_ctzll(events);
    if ((open >> bit) & 1) {
      ++st.depth;
    } else if (--st.depth == 0) {
      return base + static_cast<std::size_t>(bit) + 1;
    }
  }
  return 0;
}
#endif

}  // namespace

std::size_t skip_container(std::string_view t, std::size_t i) noexcept {
  const char* p = t.data();
  const std::size_t n = t.size();
  SkipState st;
  bool done = false;
#if defined(__SSE2__)
  // '[' | 0x20 == '{' and ']' | 0x20 == '}', and no other byte maps to those two.
  const __m128i fold = _mm_set1_epi8(0x20);
  while (i + 64 <= n) {
    std::uint64_t quote = 0, slash = 0, open = 0, close = 0;
    for (int part = 0; part < 4; ++part) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16 * part));
      __m128i folded = _mm_or_si128(v, fold);
      int shift = 16 * part;
      quote |= mask16(v, '"') << shift;
      slash |= mask16(v, '\\') << shift;
      open |= mask16(folded, '{') << shift;
      close |= mask16(folded, '}') << shift;
    }
    if (slash != 0 || st.escape) {
      i = skip_bytes(p, i, i + 64, st, done);
      if (done) return i;
      continue;
    }
    if (std::size_t end = skip_block(quote, open, close, 64, i, st)) return end;
    i += 64;
  }
  while (i + 16 <= n) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (mask16(v, '\\') != 0 || st.escape) {
      i = skip_bytes(p, i, i + 16, st, done);
      if (done) return i;
      continue;
    }
    __m128i folded = _mm_or_si128(v, fold);
    if (std::size_t end = skip_block(mask16(v, '"'), mask16(folded, '{'), mask16(folded, '}'), 16, i, st)) {
      return end;
    }
    i += 16;
  }
#endif
  return skip_bytes(p, i, n, st, done);
}

std::size_t skip_value(std::string_view t, std::size_t i) noexcept {
  const std::size_t n = t.size();
  if (i >= n) return i;
  unsigned char k = class_of(t[i]);
  if (k == kQuote) return skip_string(t, i);
  if (k == kOpen) return skip_container(t, i);
  while (i < n && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' && t[i] != '\n' &&
         t[i] != '\r')
    ++i;
  return i;
}

namespace {
// A parser handler that keeps nothing: basic_parser does all the checking (structure, strings and their
// UTF-8, escapes, numbers, depth) and reports to it.
struct CheckOnly {
  using ec = boost::system::error_code;
  using sv = boost::json::string_view;
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  // NOLINTBEGIN(readability-convert-member-functions-to-static): the parser calls these on an instance
  bool on_document_begin(ec& /*unused*/) { return true; }
  bool on_document_end(ec& /*unused*/) { return true; }
  bool on_object_begin(ec& /*unused*/) { return true; }
  bool on_object_end(std::size_t /*unused*/, ec& /*unused*/) { return true; }
  bool on_array_begin(ec& /*unused*/) { return true; }
  bool on_array_end(std::size_t /*unused*/, ec& /*unused*/) { return true; }
  bool on_key_part(sv /*unused*/, std::size_t /*unused*/, ec& /*unused*/) { return true; }
  bool on_key(sv /*unused*/, std::size_t /*unused*/, ec& /*unused*/) { return true; }
  bool on_string_part(sv /*unused*/, std::size_t /*unused*/, ec& /*unused*/) { return true; }
  bool on_string(sv /*unused*/, std::size_t /*unused*/, ec& /*unused*/) { return true; }
  bool on_number_part(sv /*unused*/, ec& /*unused*/) { return true; }
  bool on_int64(std::int64_t /*unused*/, sv /*unused*/, ec& /*unused*/) { return true; }
  bool on_uint64(std::uint64_t /*unused*/, sv /*unused*/, ec& /*unused*/) { return true; }
  bool on_double(double /*unused*/, sv /*unused*/, ec& /*unused*/) { return true; }
  bool on_bool(bool /*unused*/, ec& /*unused*/) { return true; }
  bool on_null(ec& /*unused*/) { return true; }
  bool on_comment_part(sv /*unused*/, ec& /*unused*/) { return true; }
  bool on_comment(sv /*unused*/, ec& /*unused*/) { return true; }
  // NOLINTEND(readability-convert-member-functions-to-static)
};
}  // namespace

bool validate(std::string_view text, std::string* error, const boost::json::parse_options& options) {
  boost::json::basic_parser<CheckOnly> p{options};
  boost::system::error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  if (ec) {
    if (error) *error = ec.message();
    return false;
  }
  return true;
}

}  // namespace qix::core::json_scan
