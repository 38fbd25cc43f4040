// JSON Patch (RFC 6902) apply and diff, with the QIX Engine's "/" = whole document convention.
// Design: pointers are walked token by token over the target in place (no subtree copies); values taken out
// of the target (move, remove) are moved; values taken from a const patch are copied once, straight into the
// target's memory resource, then moved into place.
#include "json/json_patch.hpp"

#include "json/json_patch_detail.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace qix::core::json_patch {

namespace {

namespace bj = boost::json;

// ---------------------------------------------------------------------------------------------------------
// JSON Pointer walking

}  // namespace

namespace detail {

// The JSON type name of a kind, for messages.
std::string_view kind_name(bj::kind k) noexcept {
  switch (k) {
    case bj::kind::null:
      return "null";
    case bj::kind::bool_:
      return "a boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_:
      return "a number";
    case bj::kind::string:
      return "a string";
    case bj::kind::array:
      return "an array";
    case bj::kind::object:
      return "an object";
  }
  return "an unknown kind";
}

// True for the pointers that name the whole document: "" (RFC 6901) and "/" (the engine's spelling).
bool is_whole_document(std::string_view ptr) noexcept {
  return ptr.empty() || ptr == "/";
}

void append_escaped(std::string& out, std::string_view token) {
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  out.append(text.data(), text.size());
  out += '"';
}

// Unescapes `raw` into `scratch` when it holds a "~"; returns the token (a view of `raw` or of `scratch`).
// Returns false with `why` set on a bad escape.
bool decode_token(std::string_view raw, std::string& scratch, std::string_view* token, std::string& why) {
  if (raw.find('~') == std::string_view::npos) {
    *token = raw;
    return true;
  }
  if (!unescape_token(raw, &scratch)) {
    why = "bad escape in reference token ";
    append_quoted(why, raw);
    why += " (only ~0 and ~1 are allowed)";
    return false;
  }
  *token = scratch;
  return true;
}

// Parses an array index token: decimal, no sign, no leading zero. "-" is not accepted here.
bool parse_index(std::string_view token, std::size_t* index, std::string& why) {
  const bool digits_only =
      !token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) {
    why = "reference token ";
    append_quoted(why, token);
    why += " is not an array index";
    return false;
  }
  if (token.size() > 1 && token.front() == '0') {
    why = "array index ";
    append_quoted(why, token);
    why += " has a leading zero";
    return false;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size() ||
      value > static_cast<std::uint64_t>(std::numeric_limits<std::size_t>::max())) {
    why = "array index ";
    why.append(token.data(), token.size());
    why += " is out of range";
    return false;
  }
  *index = static_cast<std::size_t>(value);
  return true;
}

void describe_out_of_range(std::string& why, std::size_t index, std::size_t size) {
  why = "array index " + std::to_string(index) + " is out of range (size " + std::to_string(size) + ")";
}

}  // namespace detail

namespace {

using detail::append_escaped;
using detail::append_quoted;
using detail::decode_token;
using detail::describe;
using detail::describe_out_of_range;
using detail::is_whole_document;
using detail::kind_name;
using detail::parse_index;
using detail::string_member;

// Returns the existing child of container `parent` named by `token`, or null with `why` set.
// `where` is the pointer prefix naming `parent` (for messages).
template <class V>
V* child_of(V& parent, std::string_view token, std::string_view where, std::string& why) {
  if (auto* obj = parent.if_object()) {
    auto it = obj->find(token);
    if (it == obj->end()) {
      why = "member ";
      append_quoted(why, token);
      why += " not found";
      if (!where.empty()) {
        why += " in ";
        append_quoted(why, where);
      }
      return nullptr;
    }
    return &it->value();
  }
  if (auto* arr = parent.if_array()) {
    if (token == "-") {
      why = "array index \"-\" (past the end) names no element";
      return nullptr;
    }
    std::size_t index = 0;
    if (!parse_index(token, &index, why)) return nullptr;
    if (index >= arr->size()) {
      describe_out_of_range(why, index, arr->size());
      return nullptr;
    }
    return &(*arr)[index];
  }
  why = "cannot look up ";
  append_quoted(why, token);
  why += " in ";
  why += kind_name(parent.kind());
  if (!where.empty()) {
    why += " at ";
    append_quoted(why, where);
  }
  return nullptr;
}

// Walks every token of `ptr` but the last from `root`. On success returns the container (object or array)
// that the last token indexes and sets `*last` to the unescaped last token (a view of `ptr` or of `scratch`,
// valid until `scratch` changes). `ptr` must not name the whole document. On failure returns null with `why`
// set.
template <class V>
V* walk_to_parent(V& root, std::string_view ptr, std::string& scratch, std::string_view* last,
                  std::string& why) {
  if (ptr.front() != '/') {
    why = "a JSON pointer must be empty or start with '/'";
    return nullptr;
  }
  V* current = &root;
  std::size_t pos = 0;  // ptr[pos] == '/', the start of the next token
  for (;;) {
    const std::size_t begin = pos + 1;
    const std::size_t slash = ptr.find('/', begin);
    const std::string_view raw =
        ptr.substr(begin, slash == std::string_view::npos ? std::string_view::npos : slash - begin);
    std::string_view token;
    if (!decode_token(raw, scratch, &token, why)) return nullptr;
    if (slash == std::string_view::npos) {
      if (!current->is_object() && !current->is_array()) {
        why = "cannot address ";
        append_quoted(why, token);
        why += " in ";
        why += kind_name(current->kind());
        if (pos != 0) {
          why += " at ";
          append_quoted(why, ptr.substr(0, pos));
        }
        return nullptr;
      }
      *last = token;
      return current;
    }
    current = child_of(*current, token, ptr.substr(0, pos), why);
    if (!current) return nullptr;
    pos = slash;
  }
}

// Returns the existing value `ptr` names in `root` (the whole document for "" and "/"), or null with `why`
// set.
template <class V>
V* resolve(V& root, std::string_view ptr, std::string& why) {
  if (is_whole_document(ptr)) return &root;
  std::string scratch;
  std::string_view last;
  V* parent = walk_to_parent(root, ptr, scratch, &last, why);
  if (!parent) return nullptr;
  const std::size_t cut = ptr.rfind('/');
  return child_of(*parent, last, ptr.substr(0, cut), why);
}

// ---------------------------------------------------------------------------------------------------------
// Operations. Each returns false with `why` set on failure.

bool do_add(bj::value& root, std::string_view path, bj::value&& value, std::string& why) {
  if (is_whole_document(path)) {
    root = std::move(value);
    return true;
  }
  std::string scratch;
  std::string_view last;
  bj::value* parent = walk_to_parent(root, path, scratch, &last, why);
  if (!parent) return false;
  if (auto* obj = parent->if_object()) {
    obj->insert_or_assign(last, std::move(value));
    return true;
  }
  bj::array& arr = parent->get_array();
  if (last == "-") {
    arr.push_back(std::move(value));
    return true;
  }
  std::size_t index = 0;
  if (!parse_index(last, &index, why)) return false;
  if (index > arr.size()) {
    describe_out_of_range(why, index, arr.size());
    return false;
  }
  arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
  return true;
}

// Removes the value at `path`; when `taken` is not null the removed value is moved into it.
bool do_remove(bj::value& root, std::string_view path, bj::value* taken, std::string& why) {
  if (is_whole_document(path)) {
    if (taken) *taken = std::move(root);
    root = nullptr;
    return true;
  }
  std::string scratch;
  std::string_view last;
  bj::value* parent = walk_to_parent(root, path, scratch, &last, why);
  if (!parent) return false;
  if (auto* obj = parent->if_object()) {
    auto it = obj->find(last);
    if (it == obj->end()) {
      why = "member ";
      append_quoted(why, last);
      why += " not found";
      return false;
    }
    if (taken) *taken = std::move(it->value());
    obj->stable_erase(it);  // keeps the member order the engine sent
    return true;
  }
  bj::array& arr = parent->get_array();
  if (last == "-") {
    why = "array index \"-\" (past the end) names no element";
    return false;
  }
  std::size_t index = 0;
  if (!parse_index(last, &index, why)) return false;
  if (index >= arr.size()) {
    describe_out_of_range(why, index, arr.size());
    return false;
  }
  if (taken) *taken = std::move(arr[index]);
  arr.erase(arr.begin() + static_cast<std::ptrdiff_t>(index));
  return true;
}

bool do_replace(bj::value& root, std::string_view path, bj::value&& value, std::string& why) {
  bj::value* slot = resolve(root, path, why);
  if (!slot) return false;
  *slot = std::move(value);
  return true;
}

bool do_move(bj::value& root, std::string_view from, std::string_view path, std::string& why) {
  if (is_whole_document(from)) {
    if (is_whole_document(path)) return true;
    why = "cannot move the whole document into one of its children";
    return false;
  }
  if (from == path) {
    // A no-op, but the source must exist.
    return resolve(root, from, why) != nullptr;
  }
  if (path.size() > from.size() && path.substr(0, from.size()) == from && path[from.size()] == '/') {
    why = "cannot move a value into one of its own children";
    return false;
  }
  bj::value taken(root.storage());
  if (!do_remove(root, from, &taken, why)) return false;
  return do_add(root, path, std::move(taken), why);
}

bool do_copy(bj::value& root, std::string_view from, std::string_view path, std::string& why) {
  const bj::value* source = resolve(std::as_const(root), from, why);
  if (!source) return false;
  bj::value copy(*source, root.storage());
  return do_add(root, path, std::move(copy), why);
}

// Appends the start of `v`'s JSON text (at most about 120 characters) without serializing all of it.
void append_preview(std::string& out, const bj::value& v) {
  bj::serializer serializer;
  serializer.reset(&v);
  char buffer[120];
  const auto text = serializer.read(buffer, sizeof buffer);
  out.append(text.data(), text.size());
  if (!serializer.done()) out += "...";
}

bool do_test(const bj::value& root, std::string_view path, const bj::value& expected, std::string& why) {
  const bj::value* actual = resolve(root, path, why);
  if (!actual) return false;
  if (!values_equal(*actual, expected)) {
    why = "test failed: the value is ";
    append_preview(why, *actual);
    why += ", expected ";
    append_preview(why, expected);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// The patch loop, shared by the const (copying) and rvalue (moving) entry points.

}  // namespace

namespace detail {

// Reads the string member `key` of an operation. Returns false with `why` set when it is missing or not a
// string.
bool string_member(const bj::object& op, std::string_view key, std::string_view* out, std::string& why) {
  auto it = op.find(key);
  if (it == op.end()) {
    why = "missing ";
    append_quoted(why, key);
    return false;
  }
  if (!it->value().is_string()) {
    why.clear();
    append_quoted(why, key);
    why += " is not a string but ";
    why += kind_name(it->value().kind());
    return false;
  }
  *out = it->value().get_string();
  return true;
}

std::string describe(std::size_t index, std::string_view op, std::string_view from, bool has_from,
                     std::string_view path, bool has_path) {
  std::string out = "operation " + std::to_string(index);
  if (op.empty()) return out;
  out += " (";
  append_quoted(out, op);
  if (has_from) {
    out += " from ";
    append_quoted(out, from);
    out += " to ";
  } else {
    out += " at ";
  }
  if (has_path) {
    append_quoted(out, path);
  } else {
    out += "?";
  }
  out += ')';
  return out;
}

}  // namespace detail

namespace {

template <class Array>
bool apply_patch(bj::value& target, Array& patch, std::string* error) {
  constexpr bool kMovable = !std::is_const_v<Array>;
  std::string why;
  for (std::size_t i = 0; i < patch.size(); ++i) {
    auto fail = [&](std::string_view op, std::string_view from, bool has_from, std::string_view path,
                    bool has_path, std::string_view reason) {
      if (error) {
        *error = describe(i, op, from, has_from, path, has_path);
        *error += ": ";
        error->append(reason.data(), reason.size());
      }
      return false;
    };
    auto& entry = patch[i];
    auto* op_object = entry.if_object();
    if (!op_object) {
      return fail({}, {}, false, {}, false, "not an object but " + std::string(kind_name(entry.kind())));
    }
    std::string_view op;
    if (!string_member(*op_object, "op", &op, why)) return fail({}, {}, false, {}, false, why);
    if (op.empty()) return fail({}, {}, false, {}, false, "\"op\" is empty");
    std::string_view path;
    if (!string_member(*op_object, "path", &path, why)) return fail(op, {}, false, {}, false, why);

    const bool needs_value = op == "add" || op == "replace" || op == "test";
    const bool needs_from = op == "move" || op == "copy";
    if (!needs_value && !needs_from && op != "remove") return fail(op, {}, false, path, true, "unknown op");
    auto value_it = op_object->end();
    if (needs_value) {
      value_it = op_object->find("value");
      if (value_it == op_object->end()) return fail(op, {}, false, path, true, "missing \"value\"");
    }
    std::string_view from;
    if (needs_from && !string_member(*op_object, "from", &from, why)) {
      return fail(op, {}, false, path, true, why);
    }

    bool ok = false;
    if (op == "test") {
      ok = do_test(target, path, value_it->value(), why);
    } else if (op == "remove") {
      ok = do_remove(target, path, nullptr, why);
    } else if (op == "move") {
      ok = do_move(target, from, path, why);
    } else if (op == "copy") {
      ok = do_copy(target, from, path, why);
    } else {
      // add / replace: take the value out of a movable patch, else copy it once into the target's resource.
      bj::value value = [&] {
        if constexpr (kMovable) {
          return bj::value(std::move(value_it->value()));
        } else {
          return bj::value(value_it->value(), target.storage());
        }
      }();
      ok = op == "add" ? do_add(target, path, std::move(value), why)
                       : do_replace(target, path, std::move(value), why);
    }
    if (!ok) return fail(op, from, needs_from, path, true, why);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Number equality by value across int64, uint64 and double, exact (no rounding of large integers).

bool int_equals_double(std::int64_t i, double d) noexcept {
  // [-2^63, 2^63) holds every double that converts to int64 without overflow.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
  if (std::trunc(d) != d) return false;
  return static_cast<std::int64_t>(d) == i;
}

bool uint_equals_double(std::uint64_t u, double d) noexcept {
  if (!(d >= 0.0 && d < 18446744073709551616.0)) return false;
  if (std::trunc(d) != d) return false;
  return static_cast<std::uint64_t>(d) == u;
}

bool numbers_equal(const bj::value& a, const bj::value& b) noexcept {
  switch (a.kind()) {
    case bj::kind::int64:
      if (b.is_int64()) return a.get_int64() == b.get_int64();
      if (b.is_uint64())
        return a.get_int64() >= 0 && static_cast<std::uint64_t>(a.get_int64()) == b.get_uint64();
      return int_equals_double(a.get_int64(), b.get_double());
    case bj::kind::uint64:
      if (b.is_uint64()) return a.get_uint64() == b.get_uint64();
      if (b.is_int64())
        return b.get_int64() >= 0 && static_cast<std::uint64_t>(b.get_int64()) == a.get_uint64();
      return uint_equals_double(a.get_uint64(), b.get_double());
    default:
      if (b.is_double()) return a.get_double() == b.get_double();
      return numbers_equal(b, a);
  }
}

// ---------------------------------------------------------------------------------------------------------
// diff

// Walks both documents in step. The current location is kept as a stack of segments (views of the keys of
// `from`/`to`, or indices) and spelled out as a JSON Pointer only when an operation is emitted: unchanged
// subtrees, the bulk of a layout, cost no string work.
class Differ {
 public:
  explicit Differ(bj::array& out) : out_(out) {}

  void diff_value(const bj::value& a, const bj::value& b) {
    if (a.is_object() && b.is_object()) {
      diff_object(a.get_object(), b.get_object());
    } else if (a.is_array() && b.is_array()) {
      diff_array(a.get_array(), b.get_array());
    } else if (a.is_structured() || b.is_structured() || a != b) {
      emit("replace", &b);
    }
  }

 private:
  struct Segment {
    std::string_view key;  // when !is_index
    std::size_t index;     // when is_index
    bool is_index;
  };

  void diff_object(const bj::object& a, const bj::object& b) {
    std::size_t matched = 0;  // members of `a` found in `b`
    std::size_t position = 0;
    for (const auto& member : a) {
      // Layouts keep their member order from one response to the next: try the same position first.
      const bj::value* other = nullptr;
      if (position < b.size() && b.begin()[position].key() == member.key()) {
        other = &b.begin()[position].value();
      } else if (auto it = b.find(member.key()); it != b.end()) {
        other = &it->value();
      }
      ++position;
      stack_.push_back({member.key(), 0, false});
      if (other) {
        ++matched;
        diff_value(member.value(), *other);
      } else {
        emit("remove", nullptr);
      }
      stack_.pop_back();
    }
    if (matched == b.size()) return;  // every member of `b` is in `a` (keys are unique): nothing to add
    for (const auto& member : b) {
      if (a.contains(member.key())) continue;
      stack_.push_back({member.key(), 0, false});
      emit("add", &member.value());
      stack_.pop_back();
    }
  }

  void diff_array(const bj::array& a, const bj::array& b) {
    const std::size_t common = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < common; ++i) {
      stack_.push_back({{}, i, true});
      diff_value(a[i], b[i]);
      stack_.pop_back();
    }
    for (std::size_t i = common; i < b.size(); ++i) {
      stack_.push_back({{}, i, true});
      emit("add", &b[i]);
      stack_.pop_back();
    }
    for (std::size_t i = a.size(); i > common; --i) {
      stack_.push_back({{}, i - 1, true});
      emit("remove", nullptr);
      stack_.pop_back();
    }
  }

  void emit(std::string_view op, const bj::value* new_value) {
    path_.clear();
    for (const Segment& segment : stack_) {
      path_ += '/';
      if (segment.is_index) {
        char digits[24];
        const auto result = std::to_chars(digits, digits + sizeof digits, segment.index);
        path_.append(digits, result.ptr);
      } else {
        append_escaped(path_, segment.key);
      }
    }
    bj::object entry(out_.storage());
    entry.reserve(new_value ? 3 : 2);
    entry.emplace("op", op);
    entry.emplace("path", path_.empty() ? std::string_view("/") : std::string_view(path_));
    if (new_value) entry.emplace("value", *new_value);
    out_.emplace_back(std::move(entry));
  }

  bj::array& out_;
  std::vector<Segment> stack_;
  std::string path_;
};

}  // namespace

bool apply(bj::value& target, const bj::array& patch, std::string* error) {
  return apply_patch(target, patch, error);
}

bool apply(bj::value& target, bj::array&& patch, std::string* error) {
  return apply_patch(target, patch, error);
}

bool apply(bj::value& target, const bj::value& patch, std::string* error) {
  if (const auto* arr = patch.if_array()) return apply_patch(target, *arr, error);
  if (error) *error = "the patch is not an array but " + std::string(kind_name(patch.kind()));
  return false;
}

bool apply(bj::value& target, bj::value&& patch, std::string* error) {
  if (auto* arr = patch.if_array()) return apply_patch(target, *arr, error);
  if (error) *error = "the patch is not an array but " + std::string(kind_name(patch.kind()));
  return false;
}

bj::array diff(const bj::value& from, const bj::value& to) {
  bj::array out;
  const bool both_objects = from.is_object() && to.is_object();
  if (both_objects) {
    // A root member with the empty key would be addressed as "/", which means the whole document here.
    const auto* a = from.get_object().if_contains("");
    const auto* b = to.get_object().if_contains("");
    const bool empty_key_changed = (a == nullptr) != (b == nullptr) || (a && *a != *b);
    if (empty_key_changed) {
      bj::object entry;
      entry.emplace("op", "replace");
      entry.emplace("path", "/");
      entry.emplace("value", to);
      out.emplace_back(std::move(entry));
      return out;
    }
  }
  Differ(out).diff_value(from, to);
  return out;
}

std::string escape_token(std::string_view token) {
  std::string out;
  out.reserve(token.size() + 4);
  append_escaped(out, token);
  return out;
}

bool unescape_token(std::string_view token, std::string* out) {
  out->clear();
  out->reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char c = token[i];
    if (c != '~') {
      *out += c;
      continue;
    }
    if (i + 1 >= token.size()) return false;
    const char next = token[++i];
    if (next == '0') {
      *out += '~';
    } else if (next == '1') {
      *out += '/';
    } else {
      return false;
    }
  }
  return true;
}

bool values_equal(const bj::value& a, const bj::value& b) noexcept {
  switch (a.kind()) {
    case bj::kind::null:
      return b.is_null();
    case bj::kind::bool_:
      return b.is_bool() && a.get_bool() == b.get_bool();
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_:
      return b.is_number() && numbers_equal(a, b);
    case bj::kind::string:
      return b.is_string() && a.get_string() == b.get_string();
    case bj::kind::array: {
      const bj::array* other = b.if_array();
      if (!other || other->size() != a.get_array().size()) return false;
      const bj::array& mine = a.get_array();
      for (std::size_t i = 0; i < mine.size(); ++i) {
        if (!values_equal(mine[i], (*other)[i])) return false;
      }
      return true;
    }
    case bj::kind::object: {
      const bj::object* other = b.if_object();
      if (!other || other->size() != a.get_object().size()) return false;
      for (const auto& member : a.get_object()) {
        auto it = other->find(member.key());
        if (it == other->end() || !values_equal(member.value(), it->value())) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace qix::core::json_patch
