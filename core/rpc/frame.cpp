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
}  // namespace

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
  if (auto it = o->find("result"); it != o->end()) out.result = &it->value();
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
