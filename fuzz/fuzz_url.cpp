// fuzz_url: the ws:// URL parser and the enigma.js-style URL builder. Fields of the builder's config come
// from the input split at newlines; the URL it builds must parse again.
#include "transport/url.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace qix::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (auto parsed = parse_ws_url(text, &error)) (void)host_header(*parsed);
  (void)uri_encode_component(text);

  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size() && parts.size() < 10) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  parts.resize(10);
  UrlConfig c;
  c.secure = !parts[0].empty() && (parts[0][0] & 1);
  c.host = parts[1].empty() ? "localhost" : parts[1];
  c.port = parts[2].empty() ? 0 : static_cast<unsigned char>(parts[2][0]) * 257;
  c.prefix = parts[3];
  c.subpath = parts[4];
  c.route = parts[5];
  c.app_id = parts[6];
  c.identity = parts[7];
  c.ttl = parts[8].empty() ? -1 : static_cast<unsigned char>(parts[8][0]);
  if (!parts[9].empty()) c.url_params.emplace_back(parts[9], parts[9]);
  std::string url = build_url(c);
  (void)parse_ws_url(url, &error);
  return 0;
}
