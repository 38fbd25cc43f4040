#include "rpc/frame.hpp"

#include "json/json_scan.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace qix::core {

using json_scan::plain_key_is;
using json_scan::scan_members;
using json_scan::skip_value;
using json_scan::skip_ws;

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
  // The envelope's fixed text (55 bytes), the longest id (20) and handle (11), "[]" and the delta member
  // (13): one allocation whatever the values.
  constexpr std::size_t kEnvelope = 55 + 20 + 11 + 2 + 13;
  std::string out;
  out.reserve(kEnvelope + method.size() + params_json.size());  // (a method name with escapes may grow it)
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

namespace {
// The parser's options for a frame's text: UTF-8 not checked again when the transport checked it.
json::parse_options frame_options(bool utf8) {
  json::parse_options o;
  o.allow_invalid_utf8 = utf8;
  return o;
}

// A member of the envelope, read on its own, sits one level inside the frame: it may nest one level less
// than a whole frame may (json::parse's default), so that a frame is accepted exactly when the parser would
// accept it whole.
json::parse_options member_options(bool utf8) {
  json::parse_options o = frame_options(utf8);
  o.max_depth = json::parse_options{}.max_depth - 1;
  return o;
}

// A top-level key the envelope scan takes as written: printable ASCII without escapes (a JSON string as it
// stands, equal to its decoded self). Anything else goes the general way.
bool plain_ascii_key(std::string_view k) {
  for (char c : k) {
    if (c < 0x20 || c > 0x7e || c == '\\' || c == '"') return false;
  }
  return true;
}

// `at` at the result's value: locates its text, and within an object its qReturn or only member. Returns the
// index after the value (t.size() when the scan ran out: the caller sees no closing brace after it).
std::size_t locate_result(std::string_view text, std::size_t at, Frame& out) {
  out.has_result = true;
  out.result_value_text = std::string_view();
  out.result_has_qreturn = false;
  out.result_plain = false;
  if (text[at] != '{') {
    std::size_t end = skip_value(text, at);
    out.result_text = text.substr(at, end - at);
    return end;
  }
  std::size_t members = 0;
  std::array<std::string_view, 16> keys;
  bool plain = true;
  std::string_view first, qreturn;
  std::size_t end = scan_members(text, at, [&](std::string_view k, std::size_t at2) {
    std::size_t end2 = skip_value(text, at2);
    if (members < keys.size() && k.find('\\') == std::string_view::npos) {
      for (std::size_t j = 0; j < members; ++j) plain = plain && keys[j] != k;
      keys[members] = k;
    } else {
      plain = false;
    }
    if (members++ == 0) first = text.substr(at2, end2 - at2);
    if (plain_key_is(k, "qReturn")) qreturn = text.substr(at2, end2 - at2);
    return end2;
  });
  out.result_text = text.substr(at, end - at);
  if (!qreturn.empty()) {
    out.result_value_text = qreturn;
    out.result_has_qreturn = true;
  } else if (members == 1) {
    out.result_value_text = first;
  }
  out.result_plain = plain;
  return end;
}

// The members of the envelope, from `root` (whichever way it was built).
bool read_envelope(Frame& out, std::string* error) {
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
  if (auto it = o->find("error"); it != o->end()) out.error = &it->value();
  if (auto it = o->find("method"); it != o->end() && it->value().is_string())
    out.method = it->value().get_string();
  if (auto it = o->find("params"); it != o->end()) out.params = &it->value();
  if (auto it = o->find("delta"); it != o->end() && it->value().is_bool()) out.delta = it->value().get_bool();
  if (out.id && !out.has_result && !out.error) {
    if (error) *error = "response has neither 'result' nor 'error'";
    return false;
  }
  return read_handles(out.root, "change", out.change, error) &&
         read_handles(out.root, "close", out.close, error) &&
         read_handles(out.root, "suspend", out.suspend, error);
}

// An integer of up to 18 digits in JSON's form (no leading zeros, no fraction or exponent) into `out`; false
// for anything else.
bool plain_integer(std::string_view v, std::optional<std::int64_t>& out) {
  std::size_t i = !v.empty() && v.front() == '-' ? 1 : 0;
  std::size_t digits = v.size() - i;
  if (digits == 0 || digits > 18) return false;
  if (v[i] == '0' && (digits > 1 || i)) return false;  // no leading zeros in JSON; -0 left to the parser
  std::int64_t n = 0;
  for (std::size_t k = i; k < v.size(); ++k) {
    if (v[k] < '0' || v[k] > '9') return false;
    n = n * 10 + (v[k] - '0');
  }
  out = i ? -n : n;
  return true;
}

// The envelope's usual members ("jsonrpc":"2.0", "id":42, "delta":true) read without a parser: a string of
// printable ASCII without escapes, an integer of up to 18 digits in JSON's form, a literal. False for
// anything else (the parser reads it and says what is wrong with it).
bool simple_scalar(std::string_view v, const json::storage_ptr& sp, json::value& out) {
  if (v.empty()) return false;
  if (v.front() == '"') {
    if (v.size() < 2 || v.back() != '"') return false;
    std::string_view body = v.substr(1, v.size() - 2);
    for (char c : body) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x80 || c == '\\' || c == '"') return false;
    }
    out = json::value(json::string(body, sp), sp);
    return true;
  }
  if (v == "true" || v == "false") {
    out = json::value(v == "true", sp);
    return true;
  }
  if (v == "null") {
    out = json::value(nullptr, sp);
    return true;
  }
  std::optional<std::int64_t> n;
  if (!plain_integer(v, n)) return false;
  out = json::value(*n, sp);
  return true;
}

// The general way: the whole frame parsed (and so checked) at once, the result located in the text after.
bool decode_general(std::string_view text, Frame& out, std::string* error) {
  out.id.reset();  // what the scan read before it gave up is read again from root
  out.jsonrpc_2_0 = false;
  out.has_result = false;
  out.result = nullptr;
  out.result_text = std::string_view();
  out.result_value_text = std::string_view();
  out.root.emplace_null();
  boost::system::error_code ec;
  move_into(out.root,
            json::parse(text, ec, json::make_shared_resource<json::monotonic_resource>(text.size() + 256),
                        frame_options(out.utf8)));
  if (ec) {
    if (error) *error = "malformed JSON: " + ec.message();
    return false;
  }
  if (json::object* o = out.root.if_object()) {
    if (auto it = o->find("result"); it != o->end()) {
      out.result = &it->value();
      out.result_checked = true;
      scan_members(text, skip_ws(text, 0), [&](std::string_view k, std::size_t at) {
        if (plain_key_is(k, "result")) return locate_result(text, at, out);
        return skip_value(text, at);
      });
      out.has_result = true;
    }
  }
  return read_envelope(out, error);
}
}  // namespace

bool decode_envelope(std::string_view text, Frame& out, std::string* error) {
  // The scan below reads the envelope's structure itself and parses each member but the result on its own
  // (they are small); anything it does not expect sends the frame the general way, whose parser then says
  // what is wrong with it.
  const std::size_t n = text.size();
  std::size_t i = skip_ws(text, 0);
  if (i >= n || text[i] != '{') return decode_general(text, out, error);
  move_into(out.root, json::value(json::object_kind, json::storage_ptr(&out.envelope_arena_)));
  json::object& root = out.root.as_object();
  bool seen_id = false;
  bool seen_jsonrpc = false;
  i = skip_ws(text, i + 1);
  if (i < n && text[i] == '}') {
    ++i;
  } else {
    for (;;) {
      if (i >= n || text[i] != '"') return decode_general(text, out, error);
      std::size_t key_end = json_scan::skip_string(text, i);
      if (key_end < i + 2 || text[key_end - 1] != '"') return decode_general(text, out, error);
      std::string_view k = text.substr(i + 1, key_end - i - 2);
      if (!plain_ascii_key(k)) return decode_general(text, out, error);
      i = skip_ws(text, key_end);
      if (i >= n || text[i] != ':') return decode_general(text, out, error);
      i = skip_ws(text, i + 1);
      if (i >= n) return decode_general(text, out, error);
      std::size_t end = 0;
      if (k == "result") {
        end = locate_result(text, i, out);  // a repeated member: the last one counts, as for the parser
      } else if (k == "id" || k == "jsonrpc") {
        // Every response has these two: read into the frame's fields in their usual form (an integer id,
        // "2.0"), without a DOM member each. A repeated one, or another form, takes the general path, which
        // keeps them in root (where read_envelope and the first frame's check look).
        end = skip_value(text, i);
        const std::string_view v = text.substr(i, end - i);
        bool& seen = k == "id" ? seen_id : seen_jsonrpc;
        const bool usual = k == "id" ? plain_integer(v, out.id) : v == "\"2.0\"";
        if (seen || !usual) return decode_general(text, out, error);
        seen = true;
        if (k == "jsonrpc") out.jsonrpc_2_0 = true;
      } else {
        end = skip_value(text, i);
        json::value v;
        if (!simple_scalar(text.substr(i, end - i), root.storage(), v)) {
          boost::system::error_code ec;
          v = json::parse(text.substr(i, end - i), ec, root.storage(), member_options(out.utf8));
          if (ec) return decode_general(text, out, error);
        }
        root.insert_or_assign(k, std::move(v));
      }
      i = skip_ws(text, end);
      if (i < n && text[i] == ',') {
        i = skip_ws(text, i + 1);
        continue;
      }
      if (i < n && text[i] == '}') {
        ++i;
        break;
      }
      return decode_general(text, out, error);
    }
  }
  if (skip_ws(text, i) != n) return decode_general(text, out, error);
  return read_envelope(out, error);
}

bool Frame::result_is_object() const noexcept {
  if (result) return result->is_object();
  return has_result && !result_text.empty() && result_text.front() == '{';
}

bool Frame::parse_result(std::string* why) {
  if (result || !has_result) return true;
  boost::system::error_code ec;
  move_into(result_root_,
            json::parse(result_text, ec,
                        json::make_shared_resource<json::monotonic_resource>(result_text.size() + 256),
                        member_options(utf8)));
  if (ec) {
    if (why) *why = "malformed JSON in 'result': " + ec.message();
    return false;
  }
  result = &result_root_;
  result_checked = true;
  return true;
}

bool Frame::check_result(std::string* why) {
  if (result_checked || !has_result) return true;
  std::string message;
  if (!json_scan::validate(result_text, &message, member_options(utf8))) {
    if (why) *why = "malformed JSON in 'result': " + message;
    return false;
  }
  result_checked = true;
  return true;
}

bool decode_frame(std::string_view text, Frame& out, std::string* error) {
  return decode_envelope(text, out, error) && out.parse_result(error);
}

}  // namespace qix::core
