// The frame codec's text scanner: json_member_text finds a member's text as written, which the C API hands
// out instead of writing the parsed value out again.
#include "rpc/frame.hpp"

#include <gtest/gtest.h>

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
