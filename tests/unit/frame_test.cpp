// The frame codec's text scanner: json_member_text finds a member's text as written, which the C API hands
// out instead of writing the parsed value out again.
#include "rpc/frame.hpp"

#include <gtest/gtest.h>

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
  EXPECT_NE(f.root.storage().get(), json::storage_ptr().get()) << "the frame has an arena of its own";
  const json::value* layout_before = &f.result->as_object().at("qLayout");
  const json::array* items_before = &layout_before->as_object().at("v").as_array();
  const json::value* first_item = items_before->data();

  json::value taken;  // a default-resource value, as CallResult::result starts
  move_into(taken, std::move(*f.result));
  EXPECT_EQ(taken.storage().get(), f.root.storage().get()) << "moved with its arena";
  EXPECT_EQ(taken.at("qLayout").at("v").as_array().data(), first_item) << "the elements were not copied";

  json::value assigned;
  assigned = std::move(taken.as_object().at("qLayout"));  // what move_into avoids: a copy across resources
  EXPECT_NE(assigned.at("v").as_array().data(), first_item);

  json::value kept = detached_copy(taken.at("qLayout"));
  EXPECT_EQ(kept.storage().get(), json::storage_ptr().get())
      << "a detached copy lives in the default resource";
  EXPECT_EQ(kept.at("s").as_string(), "a string longer than SBO");
}
