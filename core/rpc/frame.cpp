#include "rpc/frame.hpp"

#include "json/json_scan.hpp"

#include <charconv>
#include <cstdint>

namespace qix::core {

using json_scan::plain_key_is;
using json_scan::scan_members;
using json_scan::skip_value;
using json_scan::skip_ws;

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
