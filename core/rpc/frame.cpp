#include "rpc/frame.hpp"

#include <charconv>

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

// `i` at the opening quote; returns the index after the closing one. Sets `escaped` when the string has any.
std::size_t skip_string(std::string_view t, std::size_t i, bool& escaped) {
  ++i;
  while (i < t.size()) {
    char c = t[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      escaped = true;
      i += 2;
    } else {
      ++i;
    }
  }
  return t.size();
}

// `i` at a value; returns the index after it.
std::size_t skip_value(std::string_view t, std::size_t i) {
  if (i >= t.size()) return i;
  bool escaped = false;
  char c = t[i];
  if (c == '"') return skip_string(t, i, escaped);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (i < t.size()) {
      c = t[i];
      if (c == '"') {
        i = skip_string(t, i, escaped);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return i;
  }
  while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' &&
         t[i] != '\n' && t[i] != '\r')
    ++i;
  return i;
}
}  // namespace

std::optional<std::string_view> json_member_text(std::string_view t, std::string_view key) {
  std::optional<std::string_view> found;
  std::size_t i = skip_ws(t, 0);
  if (i >= t.size() || t[i] != '{') return found;
  i = skip_ws(t, i + 1);
  while (i < t.size() && t[i] == '"') {
    bool escaped = false;
    std::size_t key_end = skip_string(t, i, escaped);
    std::string_view k = t.substr(i + 1, key_end - i - 2);
    i = skip_ws(t, key_end);
    if (i >= t.size() || t[i] != ':') return found;
    i = skip_ws(t, i + 1);
    std::size_t value_end = skip_value(t, i);
    if (!escaped && k == key) found = t.substr(i, value_end - i);
    i = skip_ws(t, value_end);
    if (i >= t.size() || t[i] != ',') break;
    i = skip_ws(t, i + 1);
  }
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
  out.root = json::parse(text, ec);
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
    out.result_text = json_member_text(text, "result").value_or(std::string_view());
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
