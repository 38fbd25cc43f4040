/**
 * @file qix/json.hpp
 * @brief A small header-only JSON value for the typed Engine API (qix/api.hpp): null, boolean, integer,
 *        number, string, array and object (members kept in their order), a strict parser with clear
 *        errors, and a compact serialiser. C++17, the standard library only.
 *
 * Numbers: an integer literal that fits in int64_t is kept exactly as an integer; any other number is a
 * double. The engine writes NaN and the infinities as the strings "NaN", "Infinity" and "-Infinity":
 * as_double() reads those strings, and dump() writes non-finite doubles that way.
 *
 * Strings are UTF-8 and pass through unchanged: the parser decodes escapes (\\uXXXX, surrogate pairs
 * included) into UTF-8 and copies every other byte as it is; dump() escapes '"', '\\' and control
 * characters only.
 */
#ifndef QIX_JSON_HPP
#define QIX_JSON_HPP

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace qix {
namespace json {

/** A parse error (with line and column) or a value of the wrong kind. */
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** What a value holds. */
enum class kind { null, boolean, integer, number, string, array, object };

/** The name of a kind ("null", "boolean", ...), for messages. */
inline const char* kind_name(kind k) {
  static const char* const names[] = {"null", "boolean", "integer", "number", "string", "array", "object"};
  return names[static_cast<int>(k)];
}

class value;
/** A JSON array. */
using array = std::vector<value>;

/** A JSON object: members in their order. Keys are unique when built with set() or operator[]. */
class object {
 public:
  using member = std::pair<std::string, value>;
  using iterator = std::vector<member>::iterator;
  using const_iterator = std::vector<member>::const_iterator;

  object();
  object(std::initializer_list<member> members);
  object(const object&);
  object(object&&) noexcept;
  object& operator=(const object&);
  object& operator=(object&&) noexcept;
  ~object();

  std::size_t size() const;
  bool empty() const;
  iterator begin();
  iterator end();
  const_iterator begin() const;
  const_iterator end() const;

  /** The member named @p key, or nullptr. */
  const value* find(std::string_view key) const;
  value* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /** The member named @p key; throws json::error when there is none. */
  const value& at(std::string_view key) const;
  /** The member named @p key, appended as null when missing. */
  value& operator[](std::string_view key);
  /** Replaces the member named @p key (keeping its place) or appends it. */
  void set(std::string key, value v);
  /** Appends a member without looking for an existing one. */
  void push_back(member m);
  /** Appends a member without looking for an existing one. */
  void append(std::string key, value v);
  /** Removes the member named @p key; false when there was none. */
  bool erase(std::string_view key);

  friend bool operator==(const object& a, const object& b);
  friend bool operator!=(const object& a, const object& b) { return !(a == b); }

 private:
  std::vector<member> members_;
};

/** A JSON value. Default-constructed: null. */
class value {
 public:
  value() = default;
  value(std::nullptr_t) {}
  value(bool b) : v_(b) {}
  /** Any integer type but bool. */
  template <class T, std::enable_if_t<std::is_integral<T>::value && !std::is_same<T, bool>::value, int> = 0>
  value(T i) : v_(static_cast<std::int64_t>(i)) {}
  value(double d) : v_(d) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string s) : v_(std::move(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(array a) : v_(std::move(a)) {}
  value(object o) : v_(std::move(o)) {}

  json::kind type() const { return static_cast<json::kind>(v_.index()); }
  bool is_null() const { return type() == kind::null; }
  bool is_bool() const { return type() == kind::boolean; }
  bool is_integer() const { return type() == kind::integer; }
  /** An integer or a double. */
  bool is_number() const { return type() == kind::integer || type() == kind::number; }
  bool is_string() const { return type() == kind::string; }
  bool is_array() const { return type() == kind::array; }
  bool is_object() const { return type() == kind::object; }

  bool as_bool() const { return get<bool>(kind::boolean); }
  /** An integer, or a double with an integral value in range. */
  std::int64_t as_int() const {
    if (auto* i = std::get_if<std::int64_t>(&v_)) return *i;
    if (auto* d = std::get_if<double>(&v_)) {
      if (*d == std::floor(*d) && *d >= -9223372036854775808.0 && *d < 9223372036854775808.0)
        return static_cast<std::int64_t>(*d);
      throw error("json: expected an integer, got " + std::to_string(*d));
    }
    throw mismatch(kind::integer);
  }
  /** A number, or one of the strings "NaN", "Infinity", "-Infinity". */
  double as_double() const {
    if (auto* d = std::get_if<double>(&v_)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
    if (auto* s = std::get_if<std::string>(&v_)) {
      if (*s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (*s == "Infinity") return std::numeric_limits<double>::infinity();
      if (*s == "-Infinity") return -std::numeric_limits<double>::infinity();
    }
    throw mismatch(kind::number);
  }
  const std::string& as_string() const { return get<std::string>(kind::string); }
  std::string& as_string() { return get<std::string>(kind::string); }
  const array& as_array() const { return get<array>(kind::array); }
  array& as_array() { return get<array>(kind::array); }
  const object& as_object() const { return get<object>(kind::object); }
  object& as_object() { return get<object>(kind::object); }

  /** Objects: the member named @p key or nullptr; other kinds: nullptr. */
  const value* find(std::string_view key) const {
    auto* o = std::get_if<object>(&v_);
    return o ? o->find(key) : nullptr;
  }
  /** Objects: the member named @p key (throws when missing or not an object). */
  const value& operator[](std::string_view key) const { return as_object().at(key); }
  /** Arrays: the element at @p i (throws when out of range or not an array). */
  const value& operator[](std::size_t i) const {
    const array& a = as_array();
    if (i >= a.size()) throw error("json: index " + std::to_string(i) + " out of range");
    return a[i];
  }

  /** Equal kinds and contents; an integer and a double compare by value. */
  friend bool operator==(const value& a, const value& b) {
    if (a.is_number() && b.is_number() && a.type() != b.type()) return a.as_double() == b.as_double();
    return a.v_ == b.v_;
  }
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }

 private:
  error mismatch(kind want) const {
    return error(std::string("json: expected ") + kind_name(want) + ", got " + kind_name(type()));
  }
  template <class T>
  const T& get(kind want) const {
    if (auto* p = std::get_if<T>(&v_)) return *p;
    throw mismatch(want);
  }
  template <class T>
  T& get(kind want) {
    if (auto* p = std::get_if<T>(&v_)) return *p;
    throw mismatch(want);
  }
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, array, object> v_;
};

inline object::object() = default;
inline object::object(std::initializer_list<member> members) {
  for (const auto& m : members) set(m.first, m.second);
}
inline object::object(const object&) = default;
inline object::object(object&&) noexcept = default;
inline object& object::operator=(const object&) = default;
inline object& object::operator=(object&&) noexcept = default;
inline object::~object() = default;
inline const value* object::find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}
inline value* object::find(std::string_view key) {
  for (auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}
inline const value& object::at(std::string_view key) const {
  if (const value* v = find(key)) return *v;
  throw error("json: no member \"" + std::string(key) + "\"");
}
inline value& object::operator[](std::string_view key) {
  if (value* v = find(key)) return *v;
  members_.emplace_back(std::string(key), value());
  return members_.back().second;
}
inline void object::set(std::string key, value v) {
  if (value* old = find(key)) {
    *old = std::move(v);
  } else {
    members_.emplace_back(std::move(key), std::move(v));
  }
}
inline void object::push_back(member m) {
  members_.push_back(std::move(m));
}
inline void object::append(std::string key, value v) {
  members_.emplace_back(std::move(key), std::move(v));
}
inline std::size_t object::size() const {
  return members_.size();
}
inline bool object::empty() const {
  return members_.empty();
}
inline object::iterator object::begin() {
  return members_.begin();
}
inline object::iterator object::end() {
  return members_.end();
}
inline object::const_iterator object::begin() const {
  return members_.begin();
}
inline object::const_iterator object::end() const {
  return members_.end();
}
inline bool object::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}
inline bool operator==(const object& a, const object& b) {
  return a.members_ == b.members_;
}

namespace detail {
class parser {
 public:
  explicit parser(std::string_view text) : s_(text) {}

  value document() {
    value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw error("json: " + what + " at line " + std::to_string(line) + " column " + std::to_string(col));
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) fail("invalid literal");
    pos_ += w.size();
  }

  value parse_value(int depth) {
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end of input");
    char c = s_[pos_];
    switch (c) {
      case '{':
        return parse_object(depth + 1);
      case '[':
        return parse_array(depth + 1);
      case '"':
        return value(parse_string());
      case 't':
        expect_word("true");
        return value(true);
      case 'f':
        expect_word("false");
        return value(false);
      case 'n':
        expect_word("null");
        return value();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(std::string("unexpected character '") + c + "'");
    }
  }
  value parse_object(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 512");
    ++pos_;
    object o;
    if (eat('}')) return value(std::move(o));
    do {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a member name");
      std::string key = parse_string();
      if (!eat(':')) fail("expected ':'");
      o.set(std::move(key), parse_value(depth));
    } while (eat(','));
    if (!eat('}')) fail("expected ',' or '}'");
    return value(std::move(o));
  }
  value parse_array(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than 512");
    ++pos_;
    array a;
    if (eat(']')) return value(std::move(a));
    do {
      a.push_back(parse_value(depth));
    } while (eat(','));
    if (!eat(']')) fail("expected ',' or ']'");
    return value(std::move(a));
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  value parse_number() {
    std::size_t start = pos_;
    bool integral = true;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (pos_ < s_.size() && digit(s_[pos_])) {
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    } else {
      fail("invalid number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= s_.size() || !digit(s_[pos_])) fail("invalid number (a digit must follow '.')");
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !digit(s_[pos_])) fail("invalid number (a digit must follow the exponent)");
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) return value(i);
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {  // too large: an infinity; too small: zero
      std::string_view t(first, static_cast<std::size_t>(last - first));
      std::size_t e = t.find_first_of("eE");
      bool tiny = e != std::string_view::npos ? t[e + 1] == '-'
                                              : (t[0] == '-' ? t.substr(1, 2) : t.substr(0, 2)) == "0.";
      double mag = tiny ? 0.0 : std::numeric_limits<double>::infinity();
      d = t[0] == '-' ? -mag : mag;
    } else if (r.ec != std::errc() || r.ptr != last) {
      fail("invalid number");
    }
    return value(d);
  }
  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      u <<= 4;
      if (c >= '0' && c <= '9') {
        u |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        u |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        u |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("invalid \\u escape");
      }
    }
    return u;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::string parse_string() {
    ++pos_;  // the opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos_;
        fail("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail("high surrogate without its low surrogate");
            pos_ += 2;
            unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("high surrogate without its low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

inline void dump_string(std::string& out, const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
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
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline void dump_to(std::string& out, const value& v) {
  switch (v.type()) {
    case kind::null:
      out += "null";
      break;
    case kind::boolean:
      out += v.as_bool() ? "true" : "false";
      break;
    case kind::integer:
      out += std::to_string(v.as_int());
      break;
    case kind::number: {
      double d = v.as_double();
      if (std::isnan(d)) {
        out += "\"NaN\"";
      } else if (std::isinf(d)) {
        out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      } else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, d);  // the shortest text that reads back as d
        out.append(buf, r.ptr);
      }
      break;
    }
    case kind::string:
      dump_string(out, v.as_string());
      break;
    case kind::array: {
      out += '[';
      bool first = true;
      for (const value& e : v.as_array()) {
        if (!first) out += ',';
        first = false;
        dump_to(out, e);
      }
      out += ']';
      break;
    }
    case kind::object: {
      out += '{';
      bool first = true;
      for (const auto& m : v.as_object()) {
        if (!first) out += ',';
        first = false;
        dump_string(out, m.first);
        out += ':';
        dump_to(out, m.second);
      }
      out += '}';
      break;
    }
  }
}
}  // namespace detail

/** Parses one JSON document; throws json::error ("json: expected ':' at line 1 column 7") when invalid. */
inline value parse(std::string_view text) {
  return detail::parser(text).document();
}

/** Compact JSON text of @p v (non-finite doubles as "NaN", "Infinity", "-Infinity"). */
inline std::string dump(const value& v) {
  std::string out;
  detail::dump_to(out, v);
  return out;
}

}  // namespace json
}  // namespace qix

#endif /* QIX_JSON_HPP */
