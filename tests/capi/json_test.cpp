// Unit tests of qix/json.hpp (the typed C++ API's JSON value) and of the generated codecs of
// qix/api_types.hpp: parse and dump edge cases, errors, NaN/Infinity, open structs, enums.
#include "qix/json.hpp"
#include "qix/api_types.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace {

namespace json = qix::json;

std::string round_trip(const std::string& text) {
  return json::dump(json::parse(text));
}

std::string parse_error(const std::string& text) {
  try {
    json::parse(text);
  } catch (const json::error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Json, ScalarsAndContainers) {
  EXPECT_TRUE(json::parse("null").is_null());
  EXPECT_TRUE(json::parse(" true ").as_bool());
  EXPECT_FALSE(json::parse("false").as_bool());
  EXPECT_EQ(json::parse("-12").as_int(), -12);
  EXPECT_TRUE(json::parse("-12").is_integer());
  EXPECT_EQ(json::parse("9223372036854775807").as_int(), INT64_MAX);
  EXPECT_EQ(json::parse("-9223372036854775808").as_int(), INT64_MIN);
  // Beyond int64: a double.
  EXPECT_EQ(json::parse("9223372036854775808").type(), json::kind::number);
  EXPECT_DOUBLE_EQ(json::parse("1.5e3").as_double(), 1500.0);
  EXPECT_EQ(json::parse("1.5e3").as_int(), 1500);  // an integral double reads as an integer
  EXPECT_THROW(json::parse("1.5").as_int(), json::error);
  EXPECT_TRUE(std::isinf(json::parse("1e999").as_double()));
  EXPECT_EQ(json::parse("1e-999").as_double(), 0.0);
  EXPECT_EQ(json::parse("0.0").as_double(), 0.0);
  EXPECT_EQ(round_trip(R"( [ 1 , "a" , { "k" : [ ] , "e" : { } } , null ] )"),
            R"([1,"a",{"k":[],"e":{}},null])");
  EXPECT_EQ(json::parse("[1,2]")[1].as_int(), 2);
  EXPECT_THROW(json::parse("[1,2]")[2], json::error);
  EXPECT_EQ(json::parse(R"({"a":{"b":3}})")["a"]["b"].as_int(), 3);
  EXPECT_THROW(json::parse(R"({"a":1})")["b"], json::error);
  EXPECT_EQ(json::parse(R"({"a":1})").find("b"), nullptr);
  EXPECT_EQ(json::parse("1").find("a"), nullptr);
  EXPECT_THROW(json::parse("\"x\"").as_int(), json::error);
  EXPECT_THROW(json::parse("1").as_string(), json::error);
}

TEST(Json, MemberOrderIsKept) {
  std::string text = R"({"z":1,"a":2,"m":{"y":true,"b":false}})";
  EXPECT_EQ(round_trip(text), text);
  json::object o;
  o["z"] = 1;
  o["a"] = 2;
  o.set("z", 3);  // replaces in place
  o.append("b", "x");
  EXPECT_EQ(json::dump(json::value(o)), R"({"z":3,"a":2,"b":"x"})");
  EXPECT_TRUE(o.erase("a"));
  EXPECT_FALSE(o.erase("a"));
  EXPECT_EQ(json::dump(json::value(o)), R"({"z":3,"b":"x"})");
  // Duplicate keys in the input: the last one wins, at the first one's place.
  EXPECT_EQ(round_trip(R"({"a":1,"b":2,"a":3})"), R"({"a":3,"b":2})");
}

TEST(Json, Doubles) {
  EXPECT_EQ(json::dump(json::value(0.1)), "0.1");
  EXPECT_EQ(json::dump(json::value(1e300)), "1e+300");
  EXPECT_EQ(json::dump(json::value(-2.5)), "-2.5");
  EXPECT_EQ(json::parse(json::dump(json::value(1.0 / 3))).as_double(), 1.0 / 3);
  EXPECT_EQ(json::dump(json::value(std::numeric_limits<double>::quiet_NaN())), "\"NaN\"");
  EXPECT_EQ(json::dump(json::value(std::numeric_limits<double>::infinity())), "\"Infinity\"");
  EXPECT_EQ(json::dump(json::value(-std::numeric_limits<double>::infinity())), "\"-Infinity\"");
  EXPECT_TRUE(std::isnan(json::parse("\"NaN\"").as_double()));
  EXPECT_EQ(json::parse("\"Infinity\"").as_double(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(json::parse("\"-Infinity\"").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_THROW(json::parse("\"nan\"").as_double(), json::error);
  EXPECT_EQ(json::value(1), json::value(1.0));  // numbers compare by value
  EXPECT_NE(json::value(1), json::value("1"));
}

TEST(Json, StringsAndUtf8) {
  // UTF-8 passes through unchanged; escapes decode to UTF-8.
  EXPECT_EQ(json::parse("\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"").as_string(),
            "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(json::parse(R"("\u00e9\u20AC\ud83d\ude00")").as_string(), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(json::parse(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(json::dump(json::value("a\"b\\c\nd\x01\x1f\xC3\xA9/")), R"("a\"b\\c\nd\u0001\u001f)"
                                                                    "\xC3\xA9"
                                                                    R"(/")");
  std::string nul("a\0b", 3);
  EXPECT_EQ(json::dump(json::value(nul)), R"("a\u0000b")");
  EXPECT_EQ(json::parse(json::dump(json::value(nul))).as_string(), nul);
}

TEST(Json, ClearErrors) {
  EXPECT_EQ(parse_error(""), "json: unexpected end of input at line 1 column 1");
  EXPECT_EQ(parse_error("{\"a\" 1}"), "json: expected ':' at line 1 column 6");
  EXPECT_EQ(parse_error("[1,\n 2,\n x]"), "json: unexpected character 'x' at line 3 column 2");
  EXPECT_EQ(parse_error("[1 2]"), "json: expected ',' or ']' at line 1 column 4");
  EXPECT_EQ(parse_error("{\"a\":1,}"), "json: expected a member name at line 1 column 8");
  EXPECT_EQ(parse_error("1 2"), "json: unexpected text after the value at line 1 column 3");
  EXPECT_EQ(parse_error("tru"), "json: invalid literal at line 1 column 1");
  EXPECT_EQ(parse_error("01"), "json: unexpected text after the value at line 1 column 2");
  EXPECT_EQ(parse_error("1."), "json: invalid number (a digit must follow '.') at line 1 column 3");
  EXPECT_EQ(parse_error("-"), "json: invalid number at line 1 column 2");
  EXPECT_EQ(parse_error("\"abc"), "json: unterminated string at line 1 column 5");
  EXPECT_EQ(parse_error("\"a\nb\""), "json: control character in a string at line 1 column 3");
  EXPECT_EQ(parse_error(R"("\x")"), "json: invalid escape '\\x' at line 1 column 3");
  EXPECT_EQ(parse_error(R"("\u12G4")"), "json: invalid \\u escape at line 1 column 7");
  EXPECT_EQ(parse_error(R"("\ud800")"), "json: high surrogate without its low surrogate at line 1 column 8");
  EXPECT_EQ(parse_error(R"("\udc00")"), "json: lone low surrogate in a \\u escape at line 1 column 8");
  EXPECT_EQ(parse_error(std::string(600, '[')), "json: nesting deeper than 512 at line 1 column 513");
  EXPECT_EQ(parse_error("NaN"), "json: unexpected character 'N' at line 1 column 1");
}

// ---- the generated codecs -------------------------------------------------------------------------------

TEST(ApiTypes, AbsentStaysAbsent) {
  auto r = qix::api::from_json<qix::api::NxRange>(json::parse(R"({"qFrom":3})"));
  ASSERT_TRUE(r.from.has_value());
  EXPECT_EQ(*r.from, 3);
  EXPECT_FALSE(r.count.has_value());
  EXPECT_EQ(json::dump(qix::api::to_json(r)), R"({"qFrom":3})");
  EXPECT_EQ(json::dump(qix::api::to_json(qix::api::NxRange{})), "{}");
}

TEST(ApiTypes, OpenStructsKeepUnknownMembers) {
  std::string text =
      R"({"qInfo":{"qId":"x","qType":"t"},"mine":{"a":[1,"b"]},"qHyperCubeDef":{"qDimensions":[],"extra":1},)"
      R"("showTitles":true})";
  auto p = qix::api::from_json<qix::api::GenericObjectProperties>(json::parse(text));
  ASSERT_TRUE(p.info && p.hyper_cube_def);
  EXPECT_EQ(*p.info->id, "x");
  EXPECT_EQ(p.extra.size(), 2u);
  EXPECT_EQ(json::dump(p.extra.at("mine")), R"({"a":[1,"b"]})");
  // Known members come first, in the specification's order; unknown ones follow in their order. The
  // closed HyperCubeDef drops its unknown member.
  EXPECT_EQ(json::dump(qix::api::to_json(p)),
            R"({"qInfo":{"qId":"x","qType":"t"},"qHyperCubeDef":{"qDimensions":[]},"mine":{"a":[1,"b"]},)"
            R"("showTitles":true})");
}

TEST(ApiTypes, FloatsEnumsAndErrors) {
  auto cell =
      qix::api::from_json<qix::api::NxCell>(json::parse(R"({"qText":"A","qNum":"NaN","qState":"O"})"));
  ASSERT_TRUE(cell.num && cell.state);
  EXPECT_TRUE(std::isnan(*cell.num));
  EXPECT_EQ(*cell.state, qix::api::StateEnumType::option);
  EXPECT_EQ(cell.state->value, "O");
  EXPECT_EQ(json::dump(qix::api::to_json(cell)), R"({"qText":"A","qNum":"NaN","qState":"O"})");
  cell.num = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(json::dump(qix::api::to_json(cell)), R"({"qText":"A","qNum":"-Infinity","qState":"O"})");
  // An unknown symbol decodes and is written back as it came; an ordinal stays a number.
  auto odd = qix::api::from_json<qix::api::NxCell>(json::parse(R"({"qState":"ZZ"})"));
  EXPECT_EQ(odd.state->value, "ZZ");
  EXPECT_EQ(json::dump(qix::api::to_json(odd)), R"({"qState":"ZZ"})");
  auto ord = qix::api::from_json<qix::api::NxCell>(json::parse(R"({"qState":2})"));
  EXPECT_EQ(json::dump(qix::api::to_json(ord)), R"({"qState":2})");
  // Errors name the member.
  try {
    qix::api::from_json<qix::api::NxPage>(json::parse(R"({"qTop":"x"})"));
    FAIL() << "no error";
  } catch (const json::error& e) {
    EXPECT_EQ(std::string(e.what()), "NxPage.qTop: json: expected integer, got string");
  }
  EXPECT_THROW(qix::api::from_json<qix::api::NxPage>(json::parse(R"({"qTop":5000000000})")), json::error);
  EXPECT_THROW(qix::api::from_json<qix::api::NxPage>(json::parse("[]")), json::error);
}

}  // namespace
