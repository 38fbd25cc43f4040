// Unit tests of core/json/json_text_patch: JSON Patch applied to JSON text must give what json_patch::apply
// gives on the parsed text (same value, same member order, same failures with the same messages). Targeted
// cases for the splices (commas, empty containers, whitespace, strings holding brackets, escaped keys), the
// unsupported cases, and a seeded property test over random documents written compactly, pretty and with
// random whitespace, and random valid and invalid patches.
#include "json/json_text_patch.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/json_patch.hpp"

namespace {

namespace jp = qix::core::json_patch;
namespace bj = boost::json;
using jp::TextPatch;

bj::array Patch(std::string_view text) {
  return bj::parse(text).as_array();
}

// Applies `patch_text` to `base` as text; expects `applied` and returns the text.
std::string PatchText(std::string_view base, std::string_view patch_text,
                      const jp::TextPatchOptions& options = {}) {
  std::string out = "junk";
  std::string error;
  const TextPatch result = jp::apply_text(base, Patch(patch_text), out, &error, options);
  EXPECT_EQ(result, TextPatch::applied) << base << " " << patch_text << ": " << error;
  return out;
}

// Expects the text patch and the DOM patch to agree; returns the text result.
TextPatch ExpectSameAsDom(std::string_view base, std::string_view patch_text) {
  const bj::array patch = Patch(patch_text);
  bj::value dom = bj::parse(base);
  std::string dom_error;
  const bool dom_ok = jp::apply(dom, patch, &dom_error);
  std::string out;
  std::string error;
  const TextPatch result = jp::apply_text(base, patch, out, &error);
  if (result == TextPatch::applied) {
    EXPECT_TRUE(dom_ok) << base << " " << patch_text << ": DOM failed with " << dom_error;
    if (dom_ok) {
      EXPECT_EQ(bj::serialize(bj::parse(out)), bj::serialize(dom)) << base << " " << patch_text;
    }
  } else if (result == TextPatch::failed) {
    EXPECT_FALSE(dom_ok) << base << " " << patch_text << ": text failed with " << error;
    EXPECT_EQ(error, dom_error);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Splices

TEST(JsonTextPatch, ReplaceKeepsTheRestOfTheTextAsIs) {
  EXPECT_EQ(
      PatchText("{ \"a\" : [1, 2.50, 3] ,\n \"b\": \"x\" }", R"([{"op":"replace","path":"/a/1","value":7}])"),
      "{ \"a\" : [1, 7, 3] ,\n \"b\": \"x\" }");
}

TEST(JsonTextPatch, RemoveTakesOneCommaAlong) {
  EXPECT_EQ(PatchText("[1, 2, 3]", R"([{"op":"remove","path":"/0"}])"), "[2, 3]");
  EXPECT_EQ(PatchText("[1, 2, 3]", R"([{"op":"remove","path":"/1"}])"), "[1, 3]");
  EXPECT_EQ(PatchText("[1, 2, 3]", R"([{"op":"remove","path":"/2"}])"), "[1, 2]");
  EXPECT_EQ(PatchText("[ 1 ]", R"([{"op":"remove","path":"/0"}])"), "[  ]");
  EXPECT_EQ(PatchText(R"({"a":1,"b":2,"c":3})", R"([{"op":"remove","path":"/a"}])"), R"({"b":2,"c":3})");
  EXPECT_EQ(PatchText(R"({"a":1,"b":2,"c":3})", R"([{"op":"remove","path":"/b"}])"), R"({"a":1,"c":3})");
  EXPECT_EQ(PatchText(R"({"a":1,"b":2,"c":3})", R"([{"op":"remove","path":"/c"}])"), R"({"a":1,"b":2})");
  EXPECT_EQ(PatchText(R"({"a":{"x":[]}})", R"([{"op":"remove","path":"/a"}])"), R"({})");
  EXPECT_EQ(PatchText("{\n  \"a\": 1,\n  \"b\": 2\n}", R"([{"op":"remove","path":"/b"}])"),
            "{\n  \"a\": 1\n}");
}

TEST(JsonTextPatch, AddToObjects) {
  EXPECT_EQ(PatchText("{}", R"([{"op":"add","path":"/k","value":1}])"), R"({"k":1})");
  EXPECT_EQ(PatchText("{ }", R"([{"op":"add","path":"/k","value":1}])"), R"({ "k":1})");
  EXPECT_EQ(PatchText(R"({"a":1})", R"([{"op":"add","path":"/k","value":[true]}])"), R"({"a":1,"k":[true]})");
  // An existing key keeps its place.
  EXPECT_EQ(PatchText(R"({"a":1,"b":2})", R"([{"op":"add","path":"/a","value":5}])"), R"({"a":5,"b":2})");
  // New keys are escaped; pointer tokens are unescaped first.
  EXPECT_EQ(PatchText("{}", R"([{"op":"add","path":"/a\"b~1c~0d","value":0}])"), R"({"a\"b/c~d":0})");
}

TEST(JsonTextPatch, AddToArrays) {
  EXPECT_EQ(PatchText("[]", R"([{"op":"add","path":"/-","value":1}])"), "[1]");
  EXPECT_EQ(PatchText("[ ]", R"([{"op":"add","path":"/0","value":1}])"), "[ 1]");
  EXPECT_EQ(PatchText("[1,2]", R"([{"op":"add","path":"/0","value":0}])"), "[0,1,2]");
  EXPECT_EQ(PatchText("[1,2]", R"([{"op":"add","path":"/1","value":0}])"), "[1,0,2]");
  EXPECT_EQ(PatchText("[1,2]", R"([{"op":"add","path":"/2","value":0}])"), "[1,2,0]");
  EXPECT_EQ(PatchText("[1,2]", R"([{"op":"add","path":"/-","value":{"a":null}}])"), R"([1,2,{"a":null}])");
  EXPECT_EQ(ExpectSameAsDom("[1,2]", R"([{"op":"add","path":"/3","value":0}])"), TextPatch::failed);
  EXPECT_EQ(ExpectSameAsDom("[1,2]", R"([{"op":"add","path":"/01","value":0}])"), TextPatch::failed);
}

TEST(JsonTextPatch, WholeDocument) {
  EXPECT_EQ(PatchText(" [1] ", R"([{"op":"add","path":"/","value":{"a":1}}])"), R"({"a":1})");
  EXPECT_EQ(PatchText("null", R"([{"op":"add","path":"","value":[1]}])"), "[1]");
  EXPECT_EQ(PatchText("{\"a\":1}", R"([{"op":"replace","path":"/","value":2}])"), "2");
  EXPECT_EQ(PatchText("{\"a\":1}", R"([{"op":"remove","path":"/"}])"), "null");
  EXPECT_EQ(PatchText("{\"a\":1}", R"([{"op":"remove","path":"/"},{"op":"add","path":"","value":[]},)"
                                   R"({"op":"add","path":"/-","value":3}])"),
            "[3]");
}

TEST(JsonTextPatch, EmptyPatchCopiesTheBase) {
  EXPECT_EQ(PatchText(" {\"a\" : 1} ", "[]"), " {\"a\" : 1} ");
}

TEST(JsonTextPatch, StringsHoldingBracketsAndEscapes) {
  const std::string base = R"({"s":"]}\"{[,","t":["\\",",]"],"u":{"v":"}"}})";
  EXPECT_EQ(PatchText(base, R"([{"op":"add","path":"/t/-","value":"x"}])"),
            R"({"s":"]}\"{[,","t":["\\",",]","x"],"u":{"v":"}"}})");
  EXPECT_EQ(PatchText(base, R"([{"op":"remove","path":"/t/0"}])"),
            R"({"s":"]}\"{[,","t":[",]"],"u":{"v":"}"}})");
  EXPECT_EQ(PatchText(base, R"([{"op":"add","path":"/u/w","value":1}])"),
            R"({"s":"]}\"{[,","t":["\\",",]"],"u":{"v":"}","w":1}})");
}

TEST(JsonTextPatch, KeysWrittenWithEscapesAreDecoded) {
  EXPECT_EQ(PatchText(R"({"q\u0054ext":1,"b":2})", R"([{"op":"replace","path":"/qText","value":2}])"),
            R"({"q\u0054ext":2,"b":2})");
  EXPECT_EQ(PatchText(R"({"a\/b":1})", R"([{"op":"remove","path":"/a~1b"}])"), R"({})");
  EXPECT_EQ(ExpectSameAsDom(R"({"a\"":1})", R"([{"op":"add","path":"/a\"","value":3}])"), TextPatch::applied);
}

TEST(JsonTextPatch, OperationsApplyInOrderOnTheirOwnResults) {
  EXPECT_EQ(PatchText(R"({"a":[1]})",
                      R"([{"op":"add","path":"/a/-","value":2},{"op":"remove","path":"/a/0"},)"
                      R"({"op":"add","path":"/b","value":{}},{"op":"add","path":"/b/c","value":3}])"),
            R"({"a":[2],"b":{"c":3}})");
}

// ---------------------------------------------------------------------------------------------------------
// Failures, as json_patch::apply reports them

TEST(JsonTextPatch, FailuresMatchTheDomPatcher) {
  const char* base = R"({"a":[1,2,3],"o":{"k":"v"},"s":"str"})";
  for (const char* patch : {
           R"([{"op":"remove","path":"/x"}])",
           R"([{"op":"replace","path":"/o/x","value":1}])",
           R"([{"op":"replace","path":"/a/3","value":1}])",
           R"([{"op":"remove","path":"/a/-"}])",
           R"([{"op":"add","path":"/a/4","value":1}])",
           R"([{"op":"add","path":"/a/x","value":1}])",
           R"([{"op":"add","path":"/s/x","value":1}])",
           R"([{"op":"add","path":"/s/x/y","value":1}])",
           R"([{"op":"add","path":"/x/y","value":1}])",
           R"([{"op":"add","path":"/a/7/y","value":1}])",
           R"([{"op":"add","path":"a","value":1}])",
           R"([{"op":"add","path":"/~2","value":1}])",
           R"([{"op":"add","path":"/b"}])",
           R"([{"op":"nope","path":"/b"}])",
           R"([{"op":"","path":"/b"}])",
           R"([{"path":"/b"}])",
           R"([{"op":"add"}])",
           R"([{"op":1,"path":"/b"}])",
           R"([7])",
           R"([{"op":"add","path":"/b","value":1},{"op":"remove","path":"/b/c"}])",
       }) {
    EXPECT_EQ(ExpectSameAsDom(base, patch), TextPatch::failed) << patch;
  }
}

TEST(JsonTextPatch, NullErrorIsAllowed) {
  std::string out;
  EXPECT_EQ(jp::apply_text("{}", Patch(R"([{"op":"remove","path":"/x"}])"), out, nullptr), TextPatch::failed);
}

// ---------------------------------------------------------------------------------------------------------
// Unsupported

TEST(JsonTextPatch, MoveCopyTestAreUnsupported) {
  std::string out;
  for (const char* patch : {
           R"([{"op":"move","from":"/a","path":"/b"}])",
           R"([{"op":"copy","from":"/a","path":"/b"}])",
           R"([{"op":"test","path":"/a","value":1}])",
           R"([{"op":"add","path":"/c","value":1},{"op":"test","path":"/a","value":1}])",
       }) {
    EXPECT_EQ(jp::apply_text(R"({"a":1})", Patch(patch), out, nullptr), TextPatch::unsupported) << patch;
  }
}

TEST(JsonTextPatch, TooManyOperationsAreUnsupported) {
  bj::array patch;
  for (std::size_t i = 0; i <= jp::kMaxTextPatchOps; ++i) {
    patch.push_back(bj::object{{"op", "add"}, {"path", "/-"}, {"value", 1}});
  }
  std::string out;
  EXPECT_EQ(jp::apply_text("[]", patch, out, nullptr), TextPatch::unsupported);
  patch.pop_back();
  EXPECT_EQ(jp::apply_text("[]", patch, out, nullptr), TextPatch::applied);
  jp::TextPatchOptions options;
  options.max_ops = 2;
  EXPECT_EQ(jp::apply_text("[]", patch, out, nullptr, options), TextPatch::unsupported);
}

TEST(JsonTextPatch, DuplicateKeysOnThePathAreUnsupported) {
  std::string out;
  const std::string_view base = R"({"a":{"x":1},"b":2,"a":{"x":3}})";
  for (const char* patch : {
           R"([{"op":"replace","path":"/a/x","value":0}])",
           R"([{"op":"remove","path":"/a"}])",
           R"([{"op":"add","path":"/a","value":0}])",
       }) {
    EXPECT_EQ(jp::apply_text(base, Patch(patch), out, nullptr), TextPatch::unsupported) << patch;
  }
  // The DOM uses the last "a" (it has an "x"), the first has none: not a failure but unsupported.
  EXPECT_EQ(jp::apply_text(R"({"a":{},"b":[{"a":1}],"a":{"x":1}})",
                           Patch(R"([{"op":"remove","path":"/a/x"}])"), out, nullptr),
            TextPatch::unsupported);
  EXPECT_EQ(ExpectSameAsDom(R"({"a":{},"b":[{"a":1}]})", R"([{"op":"remove","path":"/b/0/a"}])"),
            TextPatch::applied);
  // Keys other than the one looked up may repeat; the parser collapses them the same way in both results.
  EXPECT_EQ(ExpectSameAsDom(base, R"([{"op":"replace","path":"/b","value":0}])"), TextPatch::applied);
  // Without the check, the first match is used (the caller vouched for unique keys).
  jp::TextPatchOptions trusted;
  trusted.check_duplicate_keys = false;
  EXPECT_EQ(PatchText(R"({"a":1,"b":2})", R"([{"op":"replace","path":"/b","value":0}])", trusted),
            R"({"a":1,"b":0})");
}

TEST(JsonTextPatch, InvalidBaseIsNotACrash) {
  std::string out;
  for (const char* base : {"", " ", "{", "[1,", "{\"a\"", "{\"a\":1,}", "[1 2]", "\"abc"}) {
    const TextPatch result =
        jp::apply_text(base, Patch(R"([{"op":"add","path":"/a","value":1}])"), out, nullptr);
    EXPECT_NE(result, TextPatch::applied) << base;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Property test: random documents and patches, text patcher against DOM patcher.

class Gen {
 public:
  explicit Gen(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string key() {
    static const char* const kKeys[] = {"a",        "b",           "c",     "qText", "",     "~",
                                        "/",        "a/b",         "x~y",   "~1",    "q\"t", "br[ace}",
                                        "\xc3\xa9", "back\\slash", "tab\t", "0",     "1"};
    return kKeys[below(std::size(kKeys))];
  }

  bj::value value(int depth) {
    const std::size_t kind = below(depth <= 0 ? 6 : 9);
    switch (kind) {
      case 0:
        return nullptr;
      case 1:
        return chance(0.5);
      case 2:
        return static_cast<std::int64_t>(below(2000)) - 1000;
      case 3:
        return static_cast<double>(below(100000)) / 64.0 - 700.0;
      case 4:
        return bj::value(key());
      case 5: {
        static const char* const kStrings[] = {"]}{[", "\"{\"", "a\\b", "\n\r", ",", "\\\"]", "x"};
        return bj::value(kStrings[below(std::size(kStrings))]);
      }
      case 6:
      case 7: {
        bj::object o;
        for (std::size_t n = below(5); n > 0; --n) o.insert_or_assign(key(), value(depth - 1));
        return o;
      }
      default: {
        bj::array a;
        for (std::size_t n = below(5); n > 0; --n) a.push_back(value(depth - 1));
        return a;
      }
    }
  }

  // Writes `v` as JSON text: style 0 compact, 1 pretty, 2 random whitespace. Strings (keys included) are
  // sometimes written with needless escapes.
  void write(std::string& out, const bj::value& v, int style, int depth = 0) {
    if (const auto* o = v.if_object()) {
      out += '{';
      bool first = true;
      for (const auto& m : *o) {
        if (!first) out += ',';
        first = false;
        newline(out, style, depth + 1);
        write_string(out, m.key());
        ws(out, style);
        out += ':';
        if (style == 1) out += ' ';
        ws(out, style);
        write(out, m.value(), style, depth + 1);
        ws(out, style);
      }
      if (!o->empty() && duplicates_ && chance(0.3)) {  // the same key again, with another value
        out += ',';
        write_string(out, o->begin()[static_cast<std::ptrdiff_t>(below(o->size()))].key());
        out += ':';
        write(out, value(1), style, depth + 1);
      }
      if (!o->empty()) newline(out, style, depth);
      out += '}';
    } else if (const auto* a = v.if_array()) {
      out += '[';
      bool first = true;
      for (const auto& e : *a) {
        if (!first) out += ',';
        first = false;
        newline(out, style, depth + 1);
        write(out, e, style, depth + 1);
        ws(out, style);
      }
      if (!a->empty()) newline(out, style, depth);
      out += ']';
    } else if (const auto* s = v.if_string()) {
      write_string(out, *s);
    } else {
      out += bj::serialize(v);
    }
  }

  // A path into `doc` (escaped tokens): mostly an existing value, else a new place in an existing container,
  // else something that names nothing or is malformed.
  std::string path(const bj::value& doc) {
    std::vector<std::pair<std::string, const bj::value*>> all;
    collect(doc, "", all);
    const std::size_t mode = below(10);
    if (mode < 6) {
      const auto& [p, v] = all[below(all.size())];
      if (p.empty()) return chance(0.5) ? "/" : "";
      return p;
    }
    std::vector<std::pair<std::string, const bj::value*>> containers;
    for (const auto& entry : all) {
      if (entry.second->is_structured()) containers.push_back(entry);
    }
    const auto& [p, v] = containers.empty() ? all[below(all.size())] : containers[below(containers.size())];
    const std::size_t size = v->is_array() ? v->get_array().size() : 0;
    if (mode < 9) {
      if (v->is_array())
        return p + (chance(0.5) ? "/-" : "/" + std::to_string(chance(0.5) ? size : below(size + 1)));
      return p + "/" + jp::escape_token(key());
    }
    switch (below(6)) {
      case 0:
        return p + "/" + std::to_string(size + 1);
      case 1:
        return p + "/01";
      case 2:
        return p + "/~2";
      case 3:
        return p + "/zz/y";
      case 4:
        return "a";
      default:
        return all[below(all.size())].first + "/x";
    }
  }

  void collect(const bj::value& v, const std::string& prefix,
               std::vector<std::pair<std::string, const bj::value*>>& all) {
    all.emplace_back(prefix, &v);
    if (const auto* o = v.if_object()) {
      for (const auto& m : *o) collect(m.value(), prefix + "/" + jp::escape_token(m.key()), all);
    } else if (const auto* a = v.if_array()) {
      for (std::size_t i = 0; i < a->size(); ++i) collect((*a)[i], prefix + "/" + std::to_string(i), all);
    }
  }

  // 1-3 operations, each made for the document as the operations before it left it.
  bj::array patch(const bj::value& doc) {
    bj::value cur = doc;
    bj::array ops;
    for (std::size_t n = 1 + below(3); n > 0; --n) {
      if (chance(0.02)) {
        static const char* const kBad[] = {R"(7)",
                                           R"({"path":"/a"})",
                                           R"({"op":"nope","path":"/a"})",
                                           R"({"op":"add","path":"/a"})",
                                           R"({"op":"remove"})",
                                           R"({"op":"replace","path":3,"value":1})"};
        ops.push_back(bj::parse(kBad[below(std::size(kBad))]));
        continue;
      }
      static const char* const kOps[] = {"add", "remove", "replace"};
      const std::string_view name = kOps[below(3)];
      bj::object op{{"op", name}, {"path", path(cur)}};
      if (name != "remove") op["value"] = value(2);
      if (!jp::apply(cur, bj::array{op})) cur = doc;
      ops.push_back(std::move(op));
    }
    return ops;
  }

 private:
  void ws(std::string& out, int style) {
    if (style != 2) return;
    static const char* const kWs[] = {"", "", " ", "\n", "\t", "\r\n", "  "};
    out += kWs[below(std::size(kWs))];
  }
  void newline(std::string& out, int style, int depth) {
    if (style == 1) {
      out += '\n';
      out.append(2 * static_cast<std::size_t>(depth), ' ');
    } else {
      ws(out, style);
    }
  }
  void write_string(std::string& out, std::string_view s) {
    out += '"';
    const bool fancy = chance(0.2);
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20 || (fancy && u < 0x80 && chance(0.5))) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else if (c == '/' && fancy) {
        out += "\\/";
      } else {
        out += c;
      }
    }
    out += '"';
  }

  std::mt19937 rng_;

 public:
  bool duplicates_ = false;  // write() repeats keys now and then
};

// One case: the DOM result of `patch` on parse(base) against the text result, with and without the duplicate
// check (the documents have none). Returns the text result.
TextPatch CheckCase(std::string_view base, const bj::array& patch, std::string& out, std::size_t case_index) {
  bj::value dom = bj::parse(base);
  std::string dom_error;
  const bool dom_ok = jp::apply(dom, patch, &dom_error);
  std::string error;
  const TextPatch result = jp::apply_text(base, patch, out, &error);
  const std::string where = "case " + std::to_string(case_index) + ": base " + std::string(base) +
                            "\npatch " + bj::serialize(patch) + "\n";
  EXPECT_NE(result, TextPatch::unsupported) << where;
  EXPECT_EQ(result == TextPatch::applied, dom_ok) << where << "text: " << error << "\ndom: " << dom_error;
  if (result == TextPatch::failed && !dom_ok) {
    EXPECT_EQ(error, dom_error) << where;
  }
  if (result == TextPatch::applied && dom_ok) {
    boost::system::error_code ec;
    const bj::value parsed = bj::parse(out, ec);
    EXPECT_FALSE(ec) << where << "out " << out;
    if (!ec) {
      EXPECT_EQ(bj::serialize(parsed), bj::serialize(dom)) << where << "out " << out;
    }
  }
  std::string trusted_out;
  jp::TextPatchOptions trusted;
  trusted.check_duplicate_keys = false;
  EXPECT_EQ(jp::apply_text(base, patch, trusted_out, nullptr, trusted), result) << where;
  if (result == TextPatch::applied) {
    EXPECT_EQ(trusted_out, out) << where;
  }
  return result;
}

TEST(JsonTextPatch, AgreesWithTheDomPatcherOnRandomDocuments) {
  Gen gen(20261203);
  std::size_t applied = 0;
  std::size_t failed = 0;
  constexpr std::size_t kCases = 6000;
  for (std::size_t c = 0; c < kCases; ++c) {
    const bj::value doc = gen.value(4);
    std::string base;
    gen.write(base, doc, static_cast<int>(c % 3));
    std::string out;
    const TextPatch first = CheckCase(base, gen.patch(doc), out, c);
    (first == TextPatch::applied ? applied : failed) += 1;
    if (first == TextPatch::applied) {
      // Patch the patcher's own output again (its splices and commas).
      std::string again;
      const bj::value patched = bj::parse(out);
      CheckCase(out, gen.patch(patched), again, c);
    }
    if (::testing::Test::HasFailure()) break;  // the first failing case is enough to read
  }
  // Both outcomes are well represented (the generator is not degenerate).
  EXPECT_GT(applied, kCases / 4);
  EXPECT_GT(failed, kCases / 10);
}

// Documents with repeated keys: with the check, every answer but `unsupported` still agrees with the DOM.
TEST(JsonTextPatch, RepeatedKeysAreUnsupportedOrAgreeWithTheDomPatcher) {
  Gen gen(99);
  gen.duplicates_ = true;
  std::size_t unsupported = 0;
  std::size_t agreed = 0;
  for (std::size_t c = 0; c < 3000; ++c) {
    const bj::value doc = gen.value(4);
    std::string base;
    gen.write(base, doc, static_cast<int>(c % 3));
    const bj::value parsed = bj::parse(base);
    const bj::array patch = gen.patch(parsed);
    bj::value dom = parsed;
    std::string dom_error;
    const bool dom_ok = jp::apply(dom, patch, &dom_error);
    std::string out;
    std::string error;
    const TextPatch result = jp::apply_text(base, patch, out, &error);
    const std::string where =
        "case " + std::to_string(c) + ": base " + base + "\npatch " + bj::serialize(patch);
    if (result == TextPatch::unsupported) {
      ++unsupported;
      continue;
    }
    ++agreed;
    ASSERT_EQ(result == TextPatch::applied, dom_ok) << where << "\ntext: " << error << "\ndom: " << dom_error;
    if (dom_ok) {
      ASSERT_EQ(bj::serialize(bj::parse(out)), bj::serialize(dom)) << where << "\nout " << out;
    } else {
      ASSERT_EQ(error, dom_error) << where;
    }
  }
  EXPECT_GT(unsupported, 50U);
  EXPECT_GT(agreed, 1000U);
}

TEST(JsonTextPatch, RandomPatchesWithMoveCopyOrTestAreUnsupported) {
  Gen gen(7);
  for (std::size_t c = 0; c < 500; ++c) {
    const bj::value doc = gen.value(3);
    std::string base;
    gen.write(base, doc, static_cast<int>(c % 3));
    bj::array patch = gen.patch(doc);
    static const char* const kOps[] = {"move", "copy", "test"};
    bj::object extra{{"op", kOps[gen.below(3)]},
                     {"path", gen.path(doc)},
                     {"from", gen.path(doc)},
                     {"value", gen.value(1)}};
    patch.insert(patch.begin() + static_cast<std::ptrdiff_t>(gen.below(patch.size() + 1)), std::move(extra));
    std::string out;
    EXPECT_EQ(jp::apply_text(base, patch, out, nullptr), TextPatch::unsupported)
        << base << bj::serialize(patch);
  }
}

}  // namespace
