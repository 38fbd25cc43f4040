// JSON Patch on JSON text. Design: each operation walks its pointer over the current text with the scanner
// (json_scan), token by token as json_patch::apply walks the DOM (so failures come in the same order and with
// the same words, from json_patch_detail), finds the span to replace, insert at or erase, and splices: the
// first operation copies `base` into `out` around the new bytes, later ones splice `out` in place (one
// memmove of the tail). Nothing is parsed but the patch's own values, and keys in the base written with
// escapes.
#include "json/json_text_patch.hpp"

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "json/json.hpp"
#include "json/json_patch.hpp"
#include "json/json_patch_detail.hpp"
#include "json/json_scan.hpp"

namespace qix::core::json_patch {

namespace {

namespace bj = boost::json;
using detail::append_quoted;
using detail::decode_token;
using detail::describe;
using detail::describe_out_of_range;
using detail::is_whole_document;
using detail::kind_name;
using detail::parse_index;
using detail::string_member;
using json_scan::skip_string;
using json_scan::skip_value;
using json_scan::skip_ws;

constexpr std::size_t npos = std::string_view::npos;

// The outcome of one step of an operation.
enum class Step { ok, failed, unsupported };

// The kind of the value starting at t[i] (valid text), for messages.
bj::kind kind_at(std::string_view t, std::size_t i) noexcept {
  if (i >= t.size()) return bj::kind::null;
  switch (t[i]) {
    case '{':
      return bj::kind::object;
    case '[':
      return bj::kind::array;
    case '"':
      return bj::kind::string;
    case 't':
    case 'f':
      return bj::kind::bool_;
    case 'n':
      return bj::kind::null;
    default:
      return bj::kind::double_;
  }
}

// Whether the key written as `raw` (between its quotes, at t) equals `key`. Keys written with escapes are
// decoded (a parse of the small quoted string); returns unsupported when that fails (the text is not valid).
Step key_equals(std::string_view raw, std::string_view key, bool* equal) {
  if (raw.find('\\') == npos) {
    *equal = raw == key;
    return Step::ok;
  }
  boost::system::error_code ec;
  const bj::value decoded = bj::parse(std::string_view(raw.data() - 1, raw.size() + 2), ec);
  if (ec || !decoded.is_string()) return Step::unsupported;
  *equal = decoded.get_string() == key;
  return Step::ok;
}

// Where a member was found in an object, or where the object ends.
struct ObjectHit {
  bool found = false;
  std::size_t key_begin = 0;    // the member's opening quote
  std::size_t value_begin = 0;  // its value
  std::size_t value_end = 0;    // after its value (when asked for)
  std::size_t prev_end = npos;  // after the value of the member before it (npos: it is the first)
  std::size_t next_key = npos;  // the opening quote of the member after it (npos: it is the last)
  std::size_t close = npos;     // the object's '}' (when scanned to the end)
  bool empty = true;            // the object has no members (when not found)
};

// Looks `key` up in the object at t[open] == '{' (the first member with that key; see check_unique for the
// others). `need_end`: find where the match's value ends (and what follows).
Step find_member(std::string_view t, std::size_t open, std::string_view key, bool need_end, ObjectHit& hit) {
  const std::size_t n = t.size();
  std::size_t i = skip_ws(t, open + 1);
  std::size_t prev_end = npos;
  while (i < n && t[i] == '"') {
    const std::size_t key_begin = i;
    const std::size_t key_end = skip_string(t, i);
    if (key_end >= n) return Step::unsupported;
    const std::string_view raw = t.substr(key_begin + 1, key_end - key_begin - 2);
    i = skip_ws(t, key_end);
    if (i >= n || t[i] != ':') return Step::unsupported;
    const std::size_t value_begin = skip_ws(t, i + 1);
    if (hit.found) {  // the member after the match
      hit.next_key = key_begin;
      return Step::ok;
    }
    bool equal = false;
    if (key_equals(raw, key, &equal) == Step::unsupported) return Step::unsupported;
    if (equal) {
      hit.found = true;
      hit.key_begin = key_begin;
      hit.value_begin = value_begin;
      hit.prev_end = prev_end;
      if (!need_end) return Step::ok;
    }
    const std::size_t value_end = skip_value(t, value_begin);
    if (value_end == value_begin) return Step::unsupported;  // no value here: not valid text
    if (equal) hit.value_end = value_end;
    i = skip_ws(t, value_end);
    if (i >= n) return Step::unsupported;
    if (t[i] == '}') {
      hit.close = i;
      hit.empty = false;
      return Step::ok;
    }
    if (t[i] != ',') return Step::unsupported;
    prev_end = value_end;
    i = skip_ws(t, i + 1);
  }
  if (i >= n || t[i] != '}' || prev_end != npos) return Step::unsupported;  // `,}` or not an object
  hit.close = i;
  return Step::ok;
}

// Where an element was found in an array, or where the array ends and how many elements it has.
struct ArrayHit {
  bool found = false;
  std::size_t begin = 0;        // the element
  std::size_t end = 0;          // after it (when asked for)
  std::size_t prev_end = npos;  // after the element before it (npos: it is the first)
  std::size_t next = npos;      // the element after it (npos: it is the last)
  std::size_t close = npos;     // the array's ']' (when not found)
  std::size_t size = 0;         // the number of elements (when not found)
};

// Finds element `index` of the array at t[open] == '['; when there is none, scans to the end and counts.
Step find_element(std::string_view t, std::size_t open, std::size_t index, bool need_end, ArrayHit& hit) {
  const std::size_t n = t.size();
  std::size_t i = skip_ws(t, open + 1);
  if (i < n && t[i] == ']') {
    hit.close = i;
    return Step::ok;
  }
  std::size_t count = 0;
  std::size_t prev_end = npos;
  while (i < n) {
    if (count == index) {
      hit.found = true;
      hit.begin = i;
      hit.prev_end = prev_end;
      if (!need_end) return Step::ok;
    }
    const std::size_t end = skip_value(t, i);
    if (end == i) return Step::unsupported;  // no value here: not valid text
    ++count;
    i = skip_ws(t, end);
    if (i >= n) return Step::unsupported;
    const bool more = t[i] == ',';
    if (!more && t[i] != ']') return Step::unsupported;
    if (more) i = skip_ws(t, i + 1);
    if (hit.found) {
      hit.end = end;
      if (more) hit.next = i;
      return Step::ok;
    }
    if (!more) {
      hit.close = i;
      hit.size = count;
      return Step::ok;
    }
    prev_end = end;
  }
  return Step::unsupported;
}

// A container an operation looked something up in, recorded (when duplicate keys are checked) so that
// check_unique can look at the rest of it afterwards.
struct Level {
  std::size_t open = 0;      // the container's '{' or '['
  std::string key;           // objects: the key looked up (unescaped)
  std::size_t child = npos;  // the value found (npos: none)
  std::size_t close = npos;  // the container's closing bracket, when the lookup saw it
};

void record(std::vector<Level>* levels, std::size_t open, std::string_view key, std::size_t child,
            std::size_t close) {
  if (!levels) return;
  Level& level = levels->emplace_back();
  level.open = open;
  level.key.assign(key.data(), key.size());
  level.child = child;
  level.close = close;
}

// Whether the objects an operation looked keys up in hold each key once, from the innermost container out:
// each one's members after the child found are scanned (comparing keys), up to its closing bracket, which
// is where the next container out resumes. So the text after the target is scanned once in all, not once
// per level. Returns unsupported on a duplicate (or on text that is not valid).
Step check_unique(std::string_view t, const std::vector<Level>& levels) {
  const std::size_t n = t.size();
  std::size_t inner_end = npos;  // after the closing bracket of the container one level in
  for (std::size_t j = levels.size(); j-- > 0;) {
    const Level& level = levels[j];
    const bool is_object = t[level.open] == '{';
    if (level.child == npos) {  // nothing found: the key is not there at all
      inner_end = level.close != npos ? level.close + 1 : json_scan::skip_container(t, level.open);
      continue;
    }
    std::size_t i = inner_end != npos ? inner_end : skip_value(t, level.child);
    for (;;) {
      i = skip_ws(t, i);
      if (i >= n) return Step::unsupported;
      if (t[i] == (is_object ? '}' : ']')) break;
      if (t[i] != ',') return Step::unsupported;
      i = skip_ws(t, i + 1);
      if (is_object) {
        if (i >= n || t[i] != '"') return Step::unsupported;
        const std::size_t key_end = skip_string(t, i);
        if (key_end >= n) return Step::unsupported;
        bool equal = false;
        if (key_equals(t.substr(i + 1, key_end - i - 2), level.key, &equal) == Step::unsupported || equal) {
          return Step::unsupported;
        }
        i = skip_ws(t, key_end);
        if (i >= n || t[i] != ':') return Step::unsupported;
        i = skip_ws(t, i + 1);
      }
      const std::size_t end = skip_value(t, i);
      if (end == i) return Step::unsupported;
      i = end;
    }
    inner_end = i + 1;
  }
  return Step::ok;
}

// Returns the value that `token` names in the container (or not) at t[at], as json_patch's child_of does.
// `where` is the pointer prefix naming it (for messages).
Step child_of(std::string_view t, std::size_t at, std::string_view token, std::string_view where,
              std::vector<Level>* levels, std::size_t* child, std::string& why) {
  const char c = at < t.size() ? t[at] : '\0';
  if (c == '{') {
    ObjectHit hit;
    if (find_member(t, at, token, false, hit) == Step::unsupported) return Step::unsupported;
    record(levels, at, token, hit.found ? hit.value_begin : npos, hit.close);
    if (!hit.found) {
      why = "member ";
      append_quoted(why, token);
      why += " not found";
      if (!where.empty()) {
        why += " in ";
        append_quoted(why, where);
      }
      return Step::failed;
    }
    *child = hit.value_begin;
    return Step::ok;
  }
  if (c == '[') {
    if (token == "-") {
      record(levels, at, {}, npos, npos);
      why = "array index \"-\" (past the end) names no element";
      return Step::failed;
    }
    std::size_t index = 0;
    if (!parse_index(token, &index, why)) {
      record(levels, at, {}, npos, npos);
      return Step::failed;
    }
    ArrayHit hit;
    if (find_element(t, at, index, false, hit) == Step::unsupported) return Step::unsupported;
    record(levels, at, {}, hit.found ? hit.begin : npos, hit.close);
    if (!hit.found) {
      describe_out_of_range(why, index, hit.size);
      return Step::failed;
    }
    *child = hit.begin;
    return Step::ok;
  }
  why = "cannot look up ";
  append_quoted(why, token);
  why += " in ";
  why += kind_name(kind_at(t, at));
  if (!where.empty()) {
    why += " at ";
    append_quoted(why, where);
  }
  return Step::failed;
}

// Walks every token of `ptr` but the last from the value at t[root], as json_patch's walk_to_parent does.
// On success sets `*parent` to the container the last token indexes and `*last` to that token, unescaped (a
// view of `ptr` or of `scratch`). `ptr` must not name the whole document.
Step walk_to_parent(std::string_view t, std::size_t root, std::string_view ptr, std::vector<Level>* levels,
                    std::string& scratch, std::string_view* last, std::size_t* parent, std::string& why) {
  if (ptr.front() != '/') {
    why = "a JSON pointer must be empty or start with '/'";
    return Step::failed;
  }
  std::size_t current = root;
  std::size_t pos = 0;  // ptr[pos] == '/', the start of the next token
  for (;;) {
    const std::size_t begin = pos + 1;
    const std::size_t slash = ptr.find('/', begin);
    const std::string_view raw = ptr.substr(begin, slash == npos ? npos : slash - begin);
    std::string_view token;
    if (!decode_token(raw, scratch, &token, why)) return Step::failed;
    if (slash == npos) {
      const bj::kind k = kind_at(t, current);
      if (k != bj::kind::object && k != bj::kind::array) {
        why = "cannot address ";
        append_quoted(why, token);
        why += " in ";
        why += kind_name(k);
        if (pos != 0) {
          why += " at ";
          append_quoted(why, ptr.substr(0, pos));
        }
        return Step::failed;
      }
      *last = token;
      *parent = current;
      return Step::ok;
    }
    const Step step = child_of(t, current, token, ptr.substr(0, pos), levels, &current, why);
    if (step != Step::ok) return step;
    pos = slash;
  }
}

// The edit one operation makes: replace t[begin, end) with `before` + value text + `after`. `value` null: no
// value text (a removal).
struct Splice {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string_view before;
  std::string key;  // written (quoted, escaped) between `before` and ':' when `with_key`
  bool with_key = false;
  std::string_view after;
  const bj::value* value = nullptr;
};

// Builds the text the splice inserts.
void append_insert(std::string& out, const Splice& s) {
  out.append(s.before);
  if (s.with_key) {
    append_json_string(out, s.key);
    out += ':';
  }
  if (s.value) append_json(out, *s.value);
  out.append(s.after);
}

// The splice for an operation at a non-root path. Returns failed/unsupported as the walk does.
Step plan(std::string_view t, std::size_t root, std::string_view op, std::string_view path,
          const bj::value* value, std::vector<Level>* levels, Splice& s, std::string& why) {
  std::string scratch;
  std::string_view last;
  std::size_t parent = 0;
  if (op == "replace") {
    // json_patch's resolve: the walk, then child_of with the prefix as `where`, and the value's end.
    const Step step = walk_to_parent(t, root, path, levels, scratch, &last, &parent, why);
    if (step != Step::ok) return step;
    std::size_t child = 0;
    const Step found = child_of(t, parent, last, path.substr(0, path.rfind('/')), levels, &child, why);
    if (found != Step::ok) return found;
    s.begin = child;
    s.end = skip_value(t, child);
    if (s.end == child) return Step::unsupported;
    s.value = value;
    return Step::ok;
  }
  const Step step = walk_to_parent(t, root, path, levels, scratch, &last, &parent, why);
  if (step != Step::ok) return step;
  const bool remove = op == "remove";
  if (t[parent] == '{') {
    ObjectHit hit;
    if (find_member(t, parent, last, true, hit) == Step::unsupported) return Step::unsupported;
    record(levels, parent, last, hit.found ? hit.value_begin : npos, hit.close);
    if (hit.found) {
      if (!remove) {  // add of an existing key: replace in place
        s.begin = hit.value_begin;
        s.end = hit.value_end;
        s.value = value;
      } else if (hit.next_key != npos) {  // remove up to the next member, its comma included
        s.begin = hit.key_begin;
        s.end = hit.next_key;
      } else if (hit.prev_end != npos) {  // the last member: remove from the comma before it
        s.begin = hit.prev_end;
        s.end = hit.value_end;
      } else {  // the only member
        s.begin = hit.key_begin;
        s.end = hit.value_end;
      }
      return Step::ok;
    }
    if (remove) {
      why = "member ";
      append_quoted(why, last);
      why += " not found";
      return Step::failed;
    }
    s.begin = s.end = hit.close;
    s.before = hit.empty ? std::string_view() : std::string_view(",");
    s.key.assign(last.data(), last.size());
    s.with_key = true;
    s.value = value;
    return Step::ok;
  }
  // An array (walk_to_parent checked the kind).
  std::size_t index = std::numeric_limits<std::size_t>::max();
  if (last == "-") {
    if (remove) {
      record(levels, parent, {}, npos, npos);
      why = "array index \"-\" (past the end) names no element";
      return Step::failed;
    }
  } else if (!parse_index(last, &index, why)) {
    record(levels, parent, {}, npos, npos);
    return Step::failed;
  }
  ArrayHit hit;
  if (find_element(t, parent, index, remove, hit) == Step::unsupported) return Step::unsupported;
  record(levels, parent, {}, hit.found ? hit.begin : npos, hit.close);
  if (remove) {
    if (!hit.found) {
      describe_out_of_range(why, index, hit.size);
      return Step::failed;
    }
    if (hit.next != npos) {
      s.begin = hit.begin;
      s.end = hit.next;
    } else if (hit.prev_end != npos) {
      s.begin = hit.prev_end;
      s.end = hit.end;
    } else {
      s.begin = hit.begin;
      s.end = hit.end;
    }
    return Step::ok;
  }
  if (hit.found) {  // insert before element `index`
    s.begin = s.end = hit.begin;
    s.after = ",";
  } else if (last == "-" || index == hit.size) {  // append
    s.begin = s.end = hit.close;
    if (hit.size != 0) s.before = ",";
  } else {
    describe_out_of_range(why, index, hit.size);
    return Step::failed;
  }
  s.value = value;
  return Step::ok;
}

}  // namespace

void append_json(std::string& out, const bj::value& v) {
  bj::serializer serializer;
  serializer.reset(&v);
  while (!serializer.done()) {
    // Write straight into `out`'s spare capacity, growing it geometrically for large values.
    const std::size_t used = out.size();
    const std::size_t room = out.capacity() - used;
    out.resize(used + (room >= 64 ? room : out.capacity() + 256));
    const bj::string_view part = serializer.read(out.data() + used, out.size() - used);
    out.resize(used + part.size());
  }
}

TextPatch apply_text(std::string_view base, const bj::array& patch, std::string& out, std::string* error,
                     const TextPatchOptions& options) {
  if (patch.size() > options.max_ops) return TextPatch::unsupported;
  for (const bj::value& entry : patch) {
    const bj::object* op_object = entry.if_object();
    const bj::value* op = op_object ? op_object->if_contains("op") : nullptr;
    if (op && op->is_string()) {
      const bj::string& name = op->get_string();
      if (name == "move" || name == "copy" || name == "test") return TextPatch::unsupported;
    }
  }

  // Until the first splice the text is `base`, and the first splice copies it into `out` around the new
  // bytes; later splices edit `out` in place.
  bool in_out = false;
  std::string why;
  std::string insert;
  std::vector<Level> levels;
  for (std::size_t i = 0; i < patch.size(); ++i) {
    auto fail = [&](std::string_view op, std::string_view path, bool has_path, std::string_view reason) {
      if (error) {
        *error = describe(i, op, {}, false, path, has_path);
        *error += ": ";
        error->append(reason.data(), reason.size());
      }
      return TextPatch::failed;
    };
    // The checks of json_patch::apply, in its order.
    const bj::value& entry = patch[i];
    const bj::object* op_object = entry.if_object();
    if (!op_object) return fail({}, {}, false, "not an object but " + std::string(kind_name(entry.kind())));
    std::string_view op;
    if (!string_member(*op_object, "op", &op, why)) return fail({}, {}, false, why);
    if (op.empty()) return fail({}, {}, false, "\"op\" is empty");
    std::string_view path;
    if (!string_member(*op_object, "path", &path, why)) return fail(op, {}, false, why);
    if (op != "add" && op != "replace" && op != "remove") return fail(op, path, true, "unknown op");
    const bj::value* value = nullptr;
    if (op != "remove") {
      value = op_object->if_contains("value");
      if (!value) return fail(op, path, true, "missing \"value\"");
    }

    if (is_whole_document(path)) {
      insert.clear();
      if (value) {
        append_json(insert, *value);
      } else {
        insert = "null";
      }
      out.swap(insert);
      in_out = true;
      continue;
    }
    const std::string_view t = in_out ? std::string_view(out) : base;
    const std::size_t root = skip_ws(t, 0);
    if (root >= t.size()) return TextPatch::unsupported;  // an empty base is not JSON
    Splice s;
    levels.clear();
    std::vector<Level>* record_levels = options.check_duplicate_keys ? &levels : nullptr;
    const Step step = plan(t, root, op, path, value, record_levels, s, why);
    if (step == Step::unsupported) return TextPatch::unsupported;
    // A key twice on the path: the DOM would have used the last one (at the first one's place).
    if (record_levels && check_unique(t, levels) != Step::ok) return TextPatch::unsupported;
    if (step == Step::failed) return fail(op, path, true, why);
    insert.clear();
    append_insert(insert, s);
    if (in_out) {
      out.replace(s.begin, s.end - s.begin, insert);
    } else {
      out.clear();
      out.reserve(base.size() - (s.end - s.begin) + insert.size());
      out.append(base.substr(0, s.begin));
      out.append(insert);
      out.append(base.substr(s.end));
      in_out = true;
    }
  }
  if (!in_out) out.assign(base.data(), base.size());
  return TextPatch::applied;
}

}  // namespace qix::core::json_patch
