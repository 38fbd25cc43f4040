// The frame codec's text scanner: json_member_text finds a member's text as written, which the C API hands
// out instead of writing the parsed value out again.
#include "rpc/frame.hpp"
#include "transport/ws_frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>

using namespace qix::core;

namespace {

// The member's text, parsed, equals what the parser made of the whole object.
void expect_consistent(const std::string& text, const std::string& key) {
  auto whole = json::parse(text).as_object();
  auto found = json_member_text(text, key);
  if (!whole.contains(key)) {
    EXPECT_FALSE(found) << text;
    return;
  }
  ASSERT_TRUE(found) << key << " in " << text;
  EXPECT_EQ(json::parse(*found), whole.at(key)) << "'" << *found << "' for " << key << " in " << text;
}

}  // namespace

TEST(FrameText, MemberTextIsTheValueAsWritten) {
  std::string t = R"({"a":1,"b" : { "x" : [1, 2, {"y":"}]"}] } ,"c":"q\"}{","d":-1.5e3,"e":null,"f":true})";
  EXPECT_EQ(*json_member_text(t, "a"), "1");
  EXPECT_EQ(*json_member_text(t, "b"), R"({ "x" : [1, 2, {"y":"}]"}] })");
  EXPECT_EQ(*json_member_text(t, "c"), R"("q\"}{")");
  EXPECT_EQ(*json_member_text(t, "d"), "-1.5e3");
  EXPECT_EQ(*json_member_text(t, "e"), "null");
  EXPECT_EQ(*json_member_text(t, "f"), "true");
  EXPECT_FALSE(json_member_text(t, "x"));  // nested keys are not members
  for (const char* k : {"a", "b", "c", "d", "e", "f", "x", "y"}) expect_consistent(t, k);
}

TEST(FrameText, EdgeCases) {
  EXPECT_FALSE(json_member_text("{}", "a"));
  EXPECT_FALSE(json_member_text("[1,2]", "a"));
  EXPECT_EQ(*json_member_text(" \n{ \"a\" :\t[ ] \r}", "a"), "[ ]");
  EXPECT_EQ(*json_member_text(R"({"a":"\\","b":2})", "b"), "2");  // an escaped backslash ends no string
  EXPECT_EQ(*json_member_text(R"({"a":1,"a":2})", "a"), "2");     // the last, as the parser keeps
  EXPECT_FALSE(json_member_text(R"({"\u0061":1})", "a"));         // escaped keys never match
  expect_consistent(R"({"a":1,"a":2})", "a");
  expect_consistent(R"({"qReturn":{"qType":"Doc","qHandle":1},"qInfo":[[],{},"]"]})", "qReturn");
  expect_consistent(R"({"qReturn":{"qType":"Doc","qHandle":1},"qInfo":[[],{},"]"]})", "qInfo");
}

TEST(FrameText, DecodedFramesKeepTheirResultText) {
  std::string text = R"({"jsonrpc":"2.0","id":7,"result": {"qLayout" : {"v":[1, 2]}},"change":[3]})";
  Frame f;
  std::string err;
  ASSERT_TRUE(decode_frame(text, f, &err)) << err;
  EXPECT_EQ(f.result_text, R"({"qLayout" : {"v":[1, 2]}})");
  EXPECT_EQ(json::parse(f.result_text), *f.result);
  Frame n;
  ASSERT_TRUE(decode_frame(R"({"jsonrpc":"2.0","method":"OnConnected","params":{}})", n, &err)) << err;
  EXPECT_TRUE(n.result_text.empty());
}

namespace {
// A random JSON value, written with random spacing: nested objects and arrays, strings full of the bytes
// the scanner looks for (quotes and backslashes escaped, brackets, runs of backslashes), numbers, literals.
void random_value(std::mt19937& rng, std::string& out, int depth, bool escapes) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto space = [&] {
    if (pick(4) == 0) out += std::string(static_cast<std::size_t>(pick(3)), ' ');
  };
  auto string = [&] {
    out += '"';
    int len = pick(12) == 0 ? 60 + pick(120) : pick(10);  // some cross a 64-byte block
    for (int k = 0; k < len; ++k) {
      switch (escapes ? pick(10) : 2 + pick(8) / 3) {  // without escapes: brackets and letters
        case 0:
          out += "\\\"";
          break;
        case 1:
          out += std::string(2 * static_cast<std::size_t>(1 + pick(3)), '\\');  // escaped backslashes
          break;
        case 2:
          out += "{}[]"[pick(4)];
          break;
        case 3:
          out += escapes ? "\\u00e9" : "e";
          break;
        default:
          out += static_cast<char>('a' + pick(26));
      }
    }
    out += '"';
  };
  int kind = depth > 4 ? 2 + pick(3) : pick(6);
  if (kind == 0 || kind == 5) {
    out += '{';
    int members = pick(6);
    for (int m = 0; m < members; ++m) {
      if (m) out += ',';
      space();
      string();
      space();
      out += ':';
      space();
      random_value(rng, out, depth + 1, escapes);
      space();
    }
    out += '}';
  } else if (kind == 1) {
    out += '[';
    int items = pick(8);
    for (int m = 0; m < items; ++m) {
      if (m) out += ',';
      space();
      random_value(rng, out, depth + 1, escapes);
    }
    out += ']';
  } else if (kind == 2) {
    string();
  } else if (kind == 3) {
    out += std::to_string(static_cast<int>(rng() % 100000) - 50000);
  } else {
    out += pick(2) ? "true" : "null";
  }
}
}  // namespace

// The scanner skips long containers 64 bytes at a time (and blocks with backslashes byte by byte): on
// random values of every shape, at every alignment, it finds exactly what the parser finds.
TEST(FrameText, SkipsRandomValuesExactlyAsTheParserReadsThem) {
  std::mt19937 rng(20261203);
  for (int round = 0; round < 3000; ++round) {
    std::string value;
    random_value(rng, value, 0, round % 2 == 0);  // half of them without a backslash: 64 bytes at a time
    std::string text =
        "{" + std::string(static_cast<std::size_t>(round % 64), ' ') + "\"a\":" + value + ",\"b\":[1,\"]\"]}";
    boost::system::error_code ec;
    auto parsed = json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    auto a = json_member_text(text, "a");
    ASSERT_TRUE(a) << text;
    ASSERT_EQ(*a, value) << text;
    auto b = json_member_text(text, "b");
    ASSERT_TRUE(b) << text;
    ASSERT_EQ(*b, "[1,\"]\"]") << text;
  }
}

// Frames are parsed into an arena of their own; handing a frame's value on moves it (no copy, the arena
// goes along), and a value kept after the frame is copied out of the arena.
TEST(FrameArena, ValuesMoveOutOfTheFrameWithoutACopyAndDetachedCopiesLeaveTheArena) {
  std::string text =
      R"({"jsonrpc":"2.0","id":1,"result":{"qLayout":{"v":[1,2,3],"s":"a string longer than SBO"}}})";
  Frame f;
  std::string err;
  ASSERT_TRUE(decode_frame(text, f, &err)) << err;
  const json::memory_resource* arena = f.result->storage().get();
  EXPECT_NE(arena, json::storage_ptr().get()) << "the result has an arena of its own";
  const json::value* layout_before = &f.result->as_object().at("qLayout");
  const json::array* items_before = &layout_before->as_object().at("v").as_array();
  const json::value* first_item = items_before->data();

  json::value taken;  // a default-resource value, as CallResult::result starts
  move_into(taken, std::move(*f.result));
  EXPECT_EQ(taken.storage().get(), arena) << "moved with its arena";
  EXPECT_EQ(taken.at("qLayout").at("v").as_array().data(), first_item) << "the elements were not copied";

  json::value assigned;
  assigned = std::move(taken.as_object().at("qLayout"));  // what move_into avoids: a copy across resources
  EXPECT_NE(assigned.at("v").as_array().data(), first_item);

  json::value kept = detached_copy(taken.at("qLayout"));
  EXPECT_EQ(kept.storage().get(), json::storage_ptr().get())
      << "a detached copy lives in the default resource";
  EXPECT_EQ(kept.at("s").as_string(), "a string longer than SBO");
}

namespace {
// What a frame must decode to, read from the parser's DOM of the whole text: the reference for the
// envelope scan. Returns false for text that is not an acceptable frame.
struct Expected {
  std::optional<std::int64_t> id;
  std::string method;
  bool delta = false;
  std::optional<json::value> result, error;
  std::vector<int> change;
  bool jsonrpc_2_0 = false;  // "jsonrpc":"2.0"
};
// The frame says "jsonrpc":"2.0", read as the first frame's check reads it (a flag, else root's member).
bool says_jsonrpc_2_0(const Frame& f) {
  if (f.jsonrpc_2_0) return true;
  const json::value* v = f.root.is_object() ? f.root.as_object().if_contains("jsonrpc") : nullptr;
  return v && v->is_string() && v->get_string() == "2.0";
}
bool expected_frame(const std::string& text, Expected& e) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.as_object();
  if (auto* id = o.if_contains("id"); id && !id->is_null()) {
    auto n = integer_of(id);
    if (!n) return false;
    e.id = *n;
  }
  if (auto* ver = o.if_contains("jsonrpc"); ver && ver->is_string())
    e.jsonrpc_2_0 = ver->get_string() == "2.0";
  if (auto* m = o.if_contains("method"); m && m->is_string()) e.method = std::string(m->get_string());
  if (auto* d = o.if_contains("delta"); d && d->is_bool()) e.delta = d->get_bool();
  if (auto* r = o.if_contains("result")) e.result = *r;
  if (auto* r = o.if_contains("error")) e.error = *r;
  if (e.id && !e.result && !e.error) return false;
  for (const char* key : {"change", "close", "suspend"}) {
    const json::value* a = o.if_contains(key);
    if (!a || a->is_null()) continue;
    if (!a->is_array()) return false;
    for (const auto& h : a->as_array()) {
      auto n = integer_of(&h);
      if (!n || *n < -2147483648LL || *n > 2147483647LL) return false;
      if (std::string_view(key) == "change") e.change.push_back(static_cast<int>(*n));
    }
  }
  return true;
}

// A frame as an engine might write it: its members in a random order with random spacing, sometimes with
// members the client does not know, repeated members, escaped keys, a result of any shape.
std::string random_frame(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::vector<std::string> members;
  auto sp = [&] {
    return std::string(static_cast<std::size_t>(pick(3) == 0 ? pick(3) : 0), " \n\t"[pick(3)]);
  };
  // Mostly the usual scalars; sometimes forms the envelope's reader must leave to the parser or reject as
  // the parser does.
  static const char* const kOddIds[] = {"-0",    "007",  "-5",   "1e2", "2.0",  "12345678901234567890",
                                        "\"7\"", "true", "null", "-",   "0x1f", "999999999999999999"};
  static const char* const kOddVersions[] = {R"("2.0")", R"("2.\u0030")", "\"2.0\t\"", "\"\xc3\xa9\"",
                                             "2.0",      "null",          "false"};
  members.push_back(std::string(R"("jsonrpc":)") + (pick(8) ? R"("2.0")" : kOddVersions[pick(7)]));
  int shape = pick(4);
  if (shape != 3)
    members.push_back("\"id\":" + (pick(8) ? std::to_string(pick(1000)) : std::string(kOddIds[pick(12)])));
  if (shape == 0 || shape == 1) {
    std::string r;
    if (pick(3) == 0) {
      r = "{\"qReturn\":";
      random_value(rng, r, 1, pick(2) == 0);
      r += pick(2) ? "}" : ",\"qInfo\":[1,2]}";
    } else {
      random_value(rng, r, 0, pick(2) == 0);
    }
    members.push_back("\"result\":" + sp() + r);
    if (pick(4) == 0) members.push_back(R"("delta":true)");
  } else if (shape == 2) {
    members.push_back(R"("error":{"code":15,"parameter":"x","message":"Request aborted"})");
  } else {
    members.push_back(R"("method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"})");
  }
  if (pick(3) == 0)
    members.push_back("\"change\":[" + std::to_string(pick(9)) + "," + std::to_string(pick(9)) + "]");
  if (pick(6) == 0) members.push_back(R"("close":[])");
  if (pick(6) == 0) members.push_back(R"("x-unknown":{"a":[1,{"b":"}"}]})");
  if (pick(10) == 0) members.push_back(R"("\u0069d":5)");  // an escaped key: the general way
  if (pick(10) == 0 && shape != 3) members.push_back("\"id\":" + std::to_string(pick(1000)));  // repeated
  std::shuffle(members.begin(), members.end(), rng);
  std::string text = sp() + "{";
  for (std::size_t k = 0; k < members.size(); ++k) text += (k ? "," : "") + sp() + members[k] + sp();
  return text + "}" + sp();
}

// A broken copy: a byte changed, removed or added, or the text cut short (as a faulty proxy might).
std::string broken(std::mt19937& rng, std::string text) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  static const char kBytes[] = "{}[]\",:\\ 0a-\x01\xc3\xff";
  std::size_t at = pick(text.size());
  switch (pick(4)) {
    case 0:
      text[at] = kBytes[pick(sizeof kBytes - 1)];
      break;
    case 1:
      text.erase(at, 1);
      break;
    case 2:
      text.insert(at, 1, kBytes[pick(sizeof kBytes - 1)]);
      break;
    default:
      text = text.substr(0, at) + (pick(2) ? "\x01}" : "");
  }
  return text;
}
}  // namespace

// The envelope is read by a scan and each member parsed on its own, the result only checked (or parsed when
// asked): on random frames and on broken copies of them, the two steps accept exactly what the parser
// accepts and decode the same values, and the scan's qReturn / only member agrees with the DOM.
TEST(FrameEnvelope, DecodesRandomAndBrokenFramesExactlyAsTheParserReadsThem) {
  std::mt19937 rng(31337);
  int accepted = 0, rejected = 0, checked_only = 0, utf8_checked = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string text = random_frame(rng);
    if (round % 2 == 1) text = broken(rng, text);
    Expected want;
    bool valid = expected_frame(text, want);
    // Text its transport checked to be UTF-8 (Frame::utf8) is read exactly as text the parser checks.
    const bool text_utf8 = ws::valid_utf8(text.data(), text.size());
    for (int way = 0; way < (text_utf8 ? 4 : 2); ++way) {
      const bool dom = way % 2 == 1;
      Frame f;
      f.utf8 = way >= 2;
      utf8_checked += f.utf8 ? 1 : 0;
      std::string err;
      bool ok = decode_envelope(text, f, &err);
      if (ok && f.has_result) ok = dom ? f.parse_result(&err) : f.check_result(&err);
      ASSERT_EQ(ok, valid) << (dom ? "parsed: " : "checked: ") << text << "\n" << err;
      if (!ok) {
        EXPECT_FALSE(err.empty()) << text;
        continue;
      }
      EXPECT_EQ(f.id, want.id) << text;
      EXPECT_EQ(says_jsonrpc_2_0(f), want.jsonrpc_2_0) << text;
      EXPECT_EQ(f.method, want.method) << text;
      EXPECT_EQ(f.delta, want.delta) << text;
      EXPECT_EQ(f.change, want.change) << text;
      ASSERT_EQ(f.error != nullptr, want.error.has_value()) << text;
      if (f.error) {
        EXPECT_EQ(*f.error, *want.error) << text;
      }
      ASSERT_EQ(f.has_result, want.result.has_value()) << text;
      if (!f.has_result) continue;
      EXPECT_EQ(json::parse(f.result_text), *want.result) << text;
      EXPECT_EQ(f.result_is_object(), want.result->is_object()) << text;
      if (dom) {
        ASSERT_NE(f.result, nullptr);
        EXPECT_EQ(*f.result, *want.result) << text;
      } else {
        ++checked_only;
      }
      if (f.result_plain) {
        const json::object& o = want.result->as_object();
        const json::value* value = o.if_contains("qReturn");
        if (!value && o.size() == 1) value = &o.begin()->value();
        EXPECT_EQ(f.result_has_qreturn, o.contains("qReturn")) << text;
        if (value) {
          ASSERT_FALSE(f.result_value_text.empty()) << text;
          EXPECT_EQ(json::parse(f.result_value_text), *value) << text;
        } else {
          EXPECT_TRUE(f.result_value_text.empty()) << text;
        }
      }
    }
    (valid ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 2000);
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(checked_only, 1000) << "the result's text was checked without a DOM";
  EXPECT_GT(utf8_checked, 4000) << "frames read as UTF-8 checked by their transport";
}

// A frame whose transport checked its text to be UTF-8 (Frame::utf8, a WebSocket text message) is not
// checked again: bytes that are not UTF-8 pass then, and only then (a transport that sets the flag must
// have checked every byte). Elsewhere, such bytes in a string make the frame malformed, in the result or in
// another member.
TEST(FrameEnvelope, TextNotCheckedForUtf8IsCheckedByTheParser) {
  const std::string bad = "bad \xc3\x28";  // a lead byte without its continuation byte
  const std::string in_result = R"({"jsonrpc":"2.0","id":1,"result":{"qReturn":")" + bad + R"("}})";
  const std::string in_member = R"({"jsonrpc":"2.0","id":1,"x-note":[")" + bad + R"("],"result":{}})";
  const std::string in_general = R"({"jsonrpc":"2.0","id":1,"result":{},")" + bad + R"(":1})";
  for (const std::string& text : {in_result, in_member, in_general}) {
    for (bool dom : {false, true}) {
      for (bool utf8 : {false, true}) {
        Frame f;
        f.utf8 = utf8;
        std::string err;
        bool ok = decode_envelope(text, f, &err);
        if (ok) ok = dom ? f.parse_result(&err) : f.check_result(&err);
        EXPECT_EQ(ok, utf8) << text << (dom ? " (DOM) " : " (checked) ") << err;
        EXPECT_EQ(err.empty(), ok);
      }
    }
  }
}

TEST(FrameEnvelope, ResultKeysTheScanCannotReadExactlyAskForTheDom) {
  for (const char* result :
       {R"({"a":1,"a":2})", R"({"q\u0052eturn":{"qHandle":1}})", R"({"qReturn":1,"qReturn":2})"}) {
    std::string text = std::string(R"({"jsonrpc":"2.0","id":1,"result":)") + result + "}";
    Frame f;
    std::string err;
    ASSERT_TRUE(decode_envelope(text, f, &err)) << err;
    EXPECT_FALSE(f.result_plain) << result;
  }
  Frame f;
  std::string err;
  ASSERT_TRUE(
      decode_envelope(R"({"jsonrpc":"2.0","id":1,"result":{"qReturn":{"qHandle":2},"qInfo":{}}})", f, &err));
  EXPECT_TRUE(f.result_plain);
  EXPECT_TRUE(f.result_has_qreturn);
  EXPECT_EQ(f.result_value_text, R"({"qHandle":2})");
  EXPECT_EQ(f.result, nullptr) << "no DOM until asked for";
}

// A member read on its own sits one level inside the frame: at the parser's nesting limit a frame is
// accepted exactly when the parser accepts it whole, whether the deep value is the result or another member.
TEST(FrameEnvelope, NestingLimitIsTheWholeFramesLimit) {
  for (int depth = 29; depth <= 33; ++depth) {
    std::string deep =
        std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
    for (const std::string& text : {R"({"jsonrpc":"2.0","id":1,"result":)" + deep + "}",
                                    R"({"jsonrpc":"2.0","id":1,"x-deep":)" + deep + R"(,"result":{}})"}) {
      boost::system::error_code ec;
      (void)json::parse(text, ec);
      for (bool dom : {false, true}) {
        Frame f;
        std::string err;
        bool ok = decode_envelope(text, f, &err);
        if (ok) ok = dom ? f.parse_result(&err) : f.check_result(&err);
        EXPECT_EQ(ok, !ec) << "depth " << depth << (dom ? " (DOM) " : " (checked) ") << text.substr(0, 50);
      }
    }
  }
}

// A request's method name is written as a JSON string: what the parser reads back is the name, whatever
// bytes it holds (quotes, backslashes, control characters, UTF-8), and a plain name is written as it is.
TEST(FrameRequest, MethodNamesAreWrittenAsJsonStrings) {
  std::mt19937 rng(7);
  static const char* const kPieces[] = {"a",    "Z",  "0",        "_",  "\"", "\\",   "/",
                                        "\n",   "\r", "\t",       "\b", "\f", "\x01", "\x1f",
                                        "\x7f", " ",  "\xc3\xa9", "{",  "}"};
  constexpr auto kCount = sizeof kPieces / sizeof kPieces[0];
  for (int round = 0; round < 2000; ++round) {
    std::string name;
    const auto len = rng() % 24;
    for (unsigned k = 0; k < len; ++k) name += kPieces[rng() % kCount];
    if (round % 3 == 0) name = "GetLayout" + std::to_string(round);  // plain
    const std::string frame = encode_request(round, name, -1, "[]", false);
    boost::system::error_code ec;
    json::value v = json::parse(frame, ec);
    ASSERT_FALSE(ec) << frame;
    EXPECT_EQ(v.at("method").as_string(), name) << frame;
    if (round % 3 == 0) {
      EXPECT_NE(frame.find("\"method\":\"" + name + "\""), std::string::npos) << frame;
    }
  }
}
