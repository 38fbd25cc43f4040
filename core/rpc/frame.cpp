#include "rpc/frame.hpp"

#include <array>
#include <charconv>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qix::core {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(hex[u >> 4]);
          out.push_back(hex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

namespace {
void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

bool read_handles(json::value& root, std::string_view key, std::vector<int>& out, std::string* error) {
  json::value* v = find_member(root, key);
  if (!v || v->is_null()) return true;
  json::array* a = v->if_array();
  if (!a) {
    if (error) *error = std::string("'") + std::string(key) + "' is not an array";
    return false;
  }
  out.reserve(a->size());
  for (auto& h : *a) {
    auto n = integer_of(&h);
    if (!n || *n < -2147483648LL || *n > 2147483647LL) {
      if (error) *error = std::string("'") + std::string(key) + "' holds a non-integer handle";
      return false;
    }
    out.push_back(static_cast<int>(*n));
  }
  return true;
}
std::size_t skip_ws(std::string_view t, std::size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

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

// `i` at the opening quote; returns the index after the closing one.
std::size_t skip_string(std::string_view t, std::size_t i) {
  const std::size_t n = t.size();
  ++i;
  while (i < n) {
    unsigned char k = class_of(t[i]);
    if (k == kQuote) return i + 1;
    i += (k == kBackslash) ? 2 : 1;
  }
  return n;
}

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
inline std::uint64_t mask16(__m128i v, char c) {
  return static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}
#endif

// `i` at '{' or '['; returns the index after its closing bracket.
std::size_t skip_container(std::string_view t, std::size_t i) {
  const char* p = t.data();
  const std::size_t n = t.size();
  SkipState st;
  bool done = false;
#if defined(__SSE2__)
  while (i + 64 <= n) {
    std::uint64_t quote = 0, slash = 0, open = 0, close = 0;
    for (int part = 0; part < 4; ++part) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16 * part));
      // '[' | 0x20 == '{' and ']' | 0x20 == '}', and no other byte maps to those two.
      __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
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
    std::uint64_t inside = quote;  // prefix XOR: bit k = parity of the quotes at or before k
    inside ^= inside << 1;
    inside ^= inside << 2;
    inside ^= inside << 4;
    inside ^= inside << 8;
    inside ^= inside << 16;
    inside ^= inside << 32;
    if (st.in_string) inside = ~inside;
    st.in_string = (inside >> 63) != 0;
    open &= ~inside;
    close &= ~inside;
    auto closes = static_cast<std::size_t>(__builtin_popcountll(close));
    if (closes < st.depth) {
      st.depth += static_cast<std::size_t>(__builtin_popcountll(open)) - closes;
    } else {
      for (std::uint64_t events = open | close; events != 0; events &= events - 1) {
        int bit = __builtin_ctzll(events);
        if ((open >> bit) & 1) {
          ++st.depth;
        } else if (--st.depth == 0) {
          return i + static_cast<std::size_t>(bit) + 1;
        }
      }
    }
    i += 64;
  }
#endif
  return skip_bytes(p, i, n, st, done);
}

// `i` at a value; returns the index after it.
std::size_t skip_value(std::string_view t, std::size_t i) {
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

// Calls `visit(key, value_index)` for each member of the object at t[i] == '{'; `visit` returns the index
// after the value (skip_value, or a scan of its own). Returns the index after the object. A key written with
// escapes is passed as written (it matches no plain key).
template <class Visit>
std::size_t scan_members(std::string_view t, std::size_t i, Visit&& visit) {
  const std::size_t n = t.size();
  i = skip_ws(t, i + 1);
  while (i < n && t[i] == '"') {
    std::size_t key_end = skip_string(t, i);
    std::string_view k = t.substr(i + 1, key_end - i - 2);
    i = skip_ws(t, key_end);
    if (i >= n || t[i] != ':') return n;
    i = skip_ws(t, visit(k, skip_ws(t, i + 1)));
    if (i >= n || t[i] != ',') break;
    i = skip_ws(t, i + 1);
  }
  return (i < n && t[i] == '}') ? i + 1 : n;
}

bool plain_key_is(std::string_view k, std::string_view key) {
  return k == key && k.find('\\') == std::string_view::npos;
}
}  // namespace

std::optional<std::string_view> json_member_text(std::string_view t, std::string_view key) {
  std::optional<std::string_view> found;
  std::size_t i = skip_ws(t, 0);
  if (i >= t.size() || t[i] != '{') return found;
  scan_members(t, i, [&](std::string_view k, std::size_t at) {
    std::size_t end = skip_value(t, at);
    if (plain_key_is(k, key)) found = t.substr(at, end - at);
    return end;
  });
  return found;
}

std::string encode_request(std::int64_t id, std::string_view method, int handle, std::string_view params_json,
                           bool delta) {
  std::string out;
  out.reserve(64 + method.size() + params_json.size());
  out += R"({"jsonrpc":"2.0","id":)";
  append_int(out, id);
  out += R"(,"method":)";
  append_json_string(out, method);
  out += R"(,"handle":)";
  append_int(out, handle);
  out += R"(,"params":)";
  if (params_json.empty()) {
    out += "[]";
  } else {
    out += params_json;
  }
  if (delta) out += R"(,"delta":true)";
  out += '}';
  return out;
}

bool decode_frame(std::string_view text, Frame& out, std::string* error) {
  boost::system::error_code ec;
  // Into an arena of the frame's own: a page of 10,000 cells is some 50,000 allocations (every object's
  // table and every key), which here cost a pointer bump each and are released at once with the last value
  // of the frame. Values kept longer are copied out (detached_copy) or live as long as the result holding
  // them.
  move_into(out.root,
            json::parse(text, ec, json::make_shared_resource<json::monotonic_resource>(text.size() + 256)));
  if (ec) {
    if (error) *error = "malformed JSON: " + ec.message();
    return false;
  }
  json::object* o = out.root.if_object();
  if (!o) {
    if (error) *error = "frame is not a JSON object";
    return false;
  }
  if (auto it = o->find("id"); it != o->end() && !it->value().is_null()) {
    auto id = integer_of(&it->value());
    if (!id) {
      if (error) *error = "frame 'id' is not an integer";
      return false;
    }
    out.id = *id;
  }
  if (auto it = o->find("result"); it != o->end()) {
    out.result = &it->value();
    // One pass over the text: the result's, and within it qReturn's or its only member's.
    std::size_t start = skip_ws(text, 0);
    scan_members(text, start, [&](std::string_view k, std::size_t at) {
      if (!plain_key_is(k, "result")) return skip_value(text, at);
      out.result_value_text = std::string_view();
      if (at >= text.size() || text[at] != '{') {
        std::size_t end = skip_value(text, at);
        out.result_text = text.substr(at, end - at);
        return end;
      }
      std::size_t members = 0;
      std::string_view first, qreturn;
      std::size_t end = scan_members(text, at, [&](std::string_view k2, std::size_t at2) {
        std::size_t end2 = skip_value(text, at2);
        if (members++ == 0) first = text.substr(at2, end2 - at2);
        if (plain_key_is(k2, "qReturn")) qreturn = text.substr(at2, end2 - at2);
        return end2;
      });
      out.result_text = text.substr(at, end - at);
      if (!qreturn.empty()) {
        out.result_value_text = qreturn;
      } else if (members == 1) {
        out.result_value_text = first;
      }
      return end;
    });
  }
  if (auto it = o->find("error"); it != o->end()) out.error = &it->value();
  if (auto it = o->find("method"); it != o->end() && it->value().is_string())
    out.method = it->value().get_string();
  if (auto it = o->find("params"); it != o->end()) out.params = &it->value();
  if (auto it = o->find("delta"); it != o->end() && it->value().is_bool()) out.delta = it->value().get_bool();
  if (out.id && !out.result && !out.error) {
    if (error) *error = "response has neither 'result' nor 'error'";
    return false;
  }
  return read_handles(out.root, "change", out.change, error) &&
         read_handles(out.root, "close", out.close, error) &&
         read_handles(out.root, "suspend", out.suspend, error);
}

}  // namespace qix::core
