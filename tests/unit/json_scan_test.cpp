// The JSON text scanner (core/json/json_scan.hpp) against a byte-at-a-time model of what it must find: where
// a string or a container ends, on texts built to put quotes, backslashes and brackets on every side of the
// scanner's 16- and 64-byte blocks. Each text is scanned in a heap block of exactly its size, so that a read
// past its end is caught by AddressSanitizer (the sanitize step runs these tests).
#include "json/json_scan.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>

using namespace qix::core;

namespace {

// The model of skip_string: from the byte after the opening quote, a backslash escapes the byte after it, and
// the first quote not escaped ends the string; the text's size when none does.
std::size_t model_skip_string(std::string_view t, std::size_t i) {
  for (std::size_t k = i + 1; k < t.size(); ++k) {
    if (t[k] == '\\') {
      ++k;
    } else if (t[k] == '"') {
      return k + 1;
    }
  }
  return t.size();
}

// The model of skip_container: brackets count outside strings only; the index after the bracket that brings
// the depth back to zero, or the text's size.
std::size_t model_skip_container(std::string_view t, std::size_t i) {
  std::size_t depth = 0;
  for (std::size_t k = i; k < t.size(); ++k) {
    const char c = t[k];
    if (c == '"') {
      k = model_skip_string(t, k) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return k + 1;
    }
  }
  return t.size();
}

// A copy of `text` in a heap block of exactly its size.
struct Exact {
  explicit Exact(const std::string& text)
      : bytes(new char[text.size() + (text.empty() ? 1 : 0)]), size(text.size()) {
    std::memcpy(bytes.get(), text.data(), text.size());
  }
  std::string_view view() const { return {bytes.get(), size}; }
  std::unique_ptr<char[]> bytes;
  std::size_t size;
};

std::string random_text(std::mt19937& rng, std::size_t length, std::string_view alphabet) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string s(length, ' ');
  for (char& c : s) c = alphabet[pick(rng)];
  return s;
}

}  // namespace

TEST(JsonScan, SkipStringFindsTheFirstQuoteNotEscaped) {
  // npos: no closing quote, the text's size.
  struct Case {
    std::string text;
    std::size_t end;
  };
  const Case cases[] = {
      {R"("")", 2},
      {R"("abc",1)", 5},
      {R"("a\"b")", 6},
      {R"("a\\"b")", 5},   // an escaped backslash, then the closing quote
      {R"("a\\\"b")", 8},  // an escaped backslash, an escaped quote
      {R"("unterminated)", std::string::npos},
      {"\"ends with a backslash\\", std::string::npos},  // the escape runs off the end
      {"\"ends with an escaped quote\\\"", std::string::npos},
  };
  for (const Case& c : cases) {
    Exact t(c.text);
    EXPECT_EQ(json_scan::skip_string(t.view(), 0), c.end == std::string::npos ? c.text.size() : c.end)
        << c.text;
  }
}

TEST(JsonScan, SkipStringAtEveryPlaceOfItsBlocks) {
  // A quote, an escaped quote or an escaped backslash at each offset 0..40 of a string, so that each falls at
  // each place of a 16-byte block, at its edges and just past them; with text after the string and without.
  for (std::size_t at = 0; at <= 40; ++at) {
    for (const char* middle : {"\"", "\\\"", "\\\\", "\\n"}) {
      for (const char* after : {"", ",\"next\":1}", ",\"x\":\"0123456789012345678901234567890123456789\"}"}) {
        const std::string text = "\"" + std::string(at, 'a') + middle + "tail\"" + after;
        Exact t(text);
        EXPECT_EQ(json_scan::skip_string(t.view(), 0), model_skip_string(t.view(), 0))
            << "offset " << at << " in " << text;
      }
    }
  }
}

TEST(JsonScan, SkipStringAgreesWithTheModelOnRandomText) {
  std::mt19937 rng(20261206);
  for (int round = 0; round < 20000; ++round) {
    const std::size_t length = 1 + rng() % 90;
    // Mostly plain bytes, with quotes and backslashes dense enough to make runs of backslashes before quotes.
    const std::string text = "\"" + random_text(rng, length, round % 2 ? "aaaaaaa\"\\" : "ab\"\\\\\\{}");
    Exact t(text);
    for (std::size_t i = 0; i < t.size; ++i) {
      if (text[i] != '"') continue;
      ASSERT_EQ(json_scan::skip_string(t.view(), i), model_skip_string(t.view(), i))
          << "at " << i << " in " << text;
    }
  }
}

TEST(JsonScan, SkipContainerAgreesWithTheModelOnRandomText) {
  // Long enough for several 64-byte blocks; brackets inside strings, escaped quotes, blocks with and without
  // a backslash, and containers that never close.
  std::mt19937 rng(6122026);
  for (int round = 0; round < 5000; ++round) {
    const std::size_t length = rng() % 300;
    const std::string text = "{" + random_text(rng, length, round % 3 ? "aaaa{}[]\"" : "a{}[]\"\\,:");
    Exact t(text);
    for (std::size_t i = 0; i < t.size; ++i) {
      if (text[i] != '{' && text[i] != '[') continue;
      ASSERT_EQ(json_scan::skip_container(t.view(), i), model_skip_container(t.view(), i))
          << "at " << i << " in " << text;
      ASSERT_EQ(json_scan::skip_value(t.view(), i), model_skip_container(t.view(), i))
          << "at " << i << " in " << text;
    }
  }
}

TEST(JsonScan, SkipValueEndsScalarsWhereJsonDoes) {
  Exact t(std::string(R"({"a":12.5e3,"b":true,"c":null,"d":"x\"y","e":[1,{"f":"]"}]})"));
  const std::string_view v = t.view();
  auto value_at = [&](char key) { return v.find(std::string("\"") + key + "\":") + 4; };
  EXPECT_EQ(v.substr(value_at('a'), json_scan::skip_value(v, value_at('a')) - value_at('a')), "12.5e3");
  EXPECT_EQ(v.substr(value_at('b'), json_scan::skip_value(v, value_at('b')) - value_at('b')), "true");
  EXPECT_EQ(v.substr(value_at('c'), json_scan::skip_value(v, value_at('c')) - value_at('c')), "null");
  EXPECT_EQ(v.substr(value_at('d'), json_scan::skip_value(v, value_at('d')) - value_at('d')), R"("x\"y")");
  EXPECT_EQ(v.substr(value_at('e'), json_scan::skip_value(v, value_at('e')) - value_at('e')),
            R"([1,{"f":"]"}])");
  EXPECT_EQ(json_scan::skip_value(v, 0), v.size());
}
