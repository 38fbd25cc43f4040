// Tests of the URL builder (enigma.js buildUrl semantics) and the WebSocket URL parser.
// The two golden URLs come from enigma.js's buildUrl tests (enigma.js, MIT, (c) QlikTech International AB).
#include "transport/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace qix::core {
namespace {

TEST(Url, GoldenTtlAndUrlParams) {
  UrlConfig c;
  c.secure = true;
  c.port = 4848;
  c.url_params = {{"reloadUri", "http://qlik.com"}, {"qlikTicket", "abcdefg123456"}};
  c.ttl = 1000;
  c.app_id = "myApp11";
  EXPECT_EQ(
      build_url(c),
      "wss://localhost:4848/app/myApp11/ttl/1000?reloadUri=http%3A%2F%2Fqlik.com&qlikTicket=abcdefg123456");
}

TEST(Url, GoldenPrefixAndIdentity) {
  UrlConfig c;
  c.secure = true;
  c.port = 4848;
  c.prefix = "/myproxy/";
  c.url_params = {{"reloadUri", "http://qlik.com"}};
  c.identity = "migration-service";
  c.app_id = "myApp7";
  EXPECT_EQ(
      build_url(c),
      "wss://localhost:4848/myproxy/app/myApp7/identity/migration-service?reloadUri=http%3A%2F%2Fqlik.com");
}

TEST(Url, DefaultsGiveEngineData) {
  EXPECT_EQ(build_url(UrlConfig{}), "wss://localhost/app/engineData");
  UrlConfig c;
  c.secure = false;
  c.host = "engine.example.com";
  c.port = 9076;
  EXPECT_EQ(build_url(c), "ws://engine.example.com:9076/app/engineData");
}

TEST(Url, RouteReplacesApp) {
  UrlConfig c;
  c.host = "sense";
  c.route = "/api/hub/";
  c.app_id = "ignored";
  EXPECT_EQ(build_url(c), "wss://sense/api/hub");
  c.route = "///";  // only slashes: not a route
  EXPECT_EQ(build_url(c), "wss://sense/app/ignored");
}

TEST(Url, Subpath) {
  UrlConfig c;
  c.prefix = "proxy";
  c.subpath = "/sub/path/";
  c.app_id = "a";
  EXPECT_EQ(build_url(c), "wss://localhost/proxy/sub/path/app/a");
}

TEST(Url, PrefixNormalisation) {
  UrlConfig c;
  c.prefix = "///a//";
  c.app_id = "x";
  EXPECT_EQ(build_url(c), "wss://localhost/a/app/x");
  c.prefix = "a//b";  // inner slashes are kept
  EXPECT_EQ(build_url(c), "wss://localhost/a//b/app/x");
  c.prefix = "/";  // only slashes: no prefix
  EXPECT_EQ(build_url(c), "wss://localhost/app/x");
}

TEST(Url, AppIdIsEncoded) {
  UrlConfig c;
  c.app_id = "C:\\Apps\\Sales.qvf";
  EXPECT_EQ(build_url(c), "wss://localhost/app/C%3A%5CApps%5CSales.qvf");
  c.app_id = "my app/v2";
  EXPECT_EQ(build_url(c), "wss://localhost/app/my%20app%2Fv2");
  c.app_id = "Försäljning €";  // UTF-8
  EXPECT_EQ(build_url(c), "wss://localhost/app/F%C3%B6rs%C3%A4ljning%20%E2%82%AC");
}

TEST(Url, IdentityIsEncoded) {
  UrlConfig c;
  c.app_id = "a";
  c.identity = "user 1/x";
  EXPECT_EQ(build_url(c), "wss://localhost/app/a/identity/user%201%2Fx");
}

TEST(Url, Ttl) {
  UrlConfig c;
  c.app_id = "a";
  c.ttl = 0;  // kept, unlike enigma.js
  EXPECT_EQ(build_url(c), "wss://localhost/app/a/ttl/0");
  c.ttl = -1;
  EXPECT_EQ(build_url(c), "wss://localhost/app/a");
}

TEST(Url, QueryKeysAndValuesEncoded) {
  UrlConfig c;
  c.secure = false;
  c.url_params = {{"a b", "x&y=z"}, {"empty", ""}};
  EXPECT_EQ(build_url(c), "ws://localhost/app/engineData?a%20b=x%26y%3Dz&empty=");
}

TEST(Url, Ipv6HostIsBracketed) {
  UrlConfig c;
  c.host = "::1";
  c.port = 9076;
  EXPECT_EQ(build_url(c), "wss://[::1]:9076/app/engineData");
  c.host = "[::1]";
  EXPECT_EQ(build_url(c), "wss://[::1]:9076/app/engineData");
}

TEST(Url, EncodeUriComponentMatchesJavaScript) {
  // encodeURIComponent leaves exactly these unescaped.
  const std::string safe = "ABCXYZabcxyz0189-_.!~*'()";
  EXPECT_EQ(uri_encode_component(safe), safe);
  EXPECT_EQ(uri_encode_component(" \"#$%&+,/:;<=>?@[\\]^`{|}"),
            "%20%22%23%24%25%26%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D");
  EXPECT_EQ(uri_encode_component("\xF0\x9F\x98\x80"), "%F0%9F%98%80");  // U+1F600
  EXPECT_EQ(uri_encode_component(std::string("a\0b", 3)), "a%00b");
  EXPECT_EQ(uri_encode_component(""), "");
}

TEST(Url, ParseBasic) {
  std::string err;
  auto p = parse_ws_url("ws://localhost:9076/app/engineData", &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(*p, (ParsedUrl{false, "localhost", "9076", "/app/engineData"}));

  p = parse_ws_url("wss://qlik.example.com/app/x?qlikTicket=1", &err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(*p, (ParsedUrl{true, "qlik.example.com", "443", "/app/x?qlikTicket=1"}));
}

TEST(Url, ParseDefaultsAndHttpSchemes) {
  auto p = parse_ws_url("http://host");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (ParsedUrl{false, "host", "80", "/"}));
  p = parse_ws_url("HTTPS://host?x=1");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (ParsedUrl{true, "host", "443", "/?x=1"}));
  p = parse_ws_url("WSS://host:/a");  // empty port: default
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (ParsedUrl{true, "host", "443", "/a"}));
  p = parse_ws_url("ws://host:00080/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port, "80");
}

TEST(Url, ParseIpv6) {
  auto p = parse_ws_url("ws://[::1]:9076/app/x");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (ParsedUrl{false, "::1", "9076", "/app/x"}));
  EXPECT_EQ(host_header(*p), "[::1]:9076");
  p = parse_ws_url("wss://[2001:db8::7]");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (ParsedUrl{true, "2001:db8::7", "443", "/"}));
  EXPECT_EQ(host_header(*p), "[2001:db8::7]");
}

TEST(Url, ParseEncodesNonAsciiTarget) {
  auto p = parse_ws_url("ws://h/app/\xC3\xB6");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->target, "/app/%C3%B6");
}

TEST(Url, HostHeader) {
  EXPECT_EQ(host_header(ParsedUrl{false, "h", "80", "/"}), "h");
  EXPECT_EQ(host_header(ParsedUrl{true, "h", "80", "/"}), "h:80");
  EXPECT_EQ(host_header(ParsedUrl{true, "h", "443", "/"}), "h");
}

// Expects parse_ws_url(url) to fail with an error containing `fragment`.
void expect_parse_error(std::string_view url, std::string_view fragment) {
  std::string err;
  const auto p = parse_ws_url(url, &err);
  EXPECT_FALSE(p) << url;
  EXPECT_NE(err.find(fragment), std::string::npos) << url << " -> " << err;
}

TEST(Url, ParseErrors) {
  expect_parse_error("", "empty URL");
  expect_parse_error("localhost:9076", "no scheme");
  expect_parse_error("ftp://host/", "unsupported URL scheme 'ftp'");
  expect_parse_error("ws:///app", "empty host");
  expect_parse_error("ws://:9076/app", "empty host");
  expect_parse_error("ws://[]:1/", "empty host");
  expect_parse_error("ws://user:pw@host/", "user info");
  expect_parse_error("ws://host/app#frag", "fragment");
  expect_parse_error("ws://host:abc/", "not a number");
  expect_parse_error("ws://host:-1/", "not a number");
  expect_parse_error("ws://host:0/", "port 0");
  expect_parse_error("ws://host:65536/", "out of range");
  expect_parse_error("ws://host:99999999999999999999/", "out of range");
  expect_parse_error("ws://::1:9076/", "brackets");
  expect_parse_error("ws://[::1/", "closing");
  expect_parse_error("ws://[::1]x/", "unexpected characters");
  expect_parse_error("ws://[zz]/", "invalid IPv6");
  expect_parse_error("ws://ho st/", "space or control");
  expect_parse_error("ws://host/a\tb", "space or control");
  expect_parse_error("ws://ho%st/", "invalid character '%'");
  expect_parse_error("ws://h\xC3\xB6st/", "non-ASCII");
}

TEST(Url, ParseAcceptsNullError) {
  EXPECT_FALSE(parse_ws_url("nope", nullptr));
  EXPECT_TRUE(parse_ws_url("ws://h", nullptr));
}

TEST(Url, RoundTripBuiltUrl) {
  UrlConfig c;
  c.host = "engine";
  c.port = 9076;
  c.prefix = "/p/";
  c.app_id = "C:\\Apps\\Sales.qvf";
  c.identity = "id";
  c.ttl = 30;
  c.url_params = {{"k", "v w"}};
  auto p = parse_ws_url(build_url(c));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p,
            (ParsedUrl{true, "engine", "9076", "/p/app/C%3A%5CApps%5CSales.qvf/identity/id/ttl/30?k=v%20w"}));
}

}  // namespace
}  // namespace qix::core
