// fuzz_json_patch: RFC 6902 apply on arbitrary documents and patches, and the diff/apply round trip.
// Input: a JSON document, a newline, a JSON patch. A failed round trip (apply(diff(a, b)) != b) traps.
#include "json/json_patch.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string_view>

namespace json = boost::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto nl = text.find('\n');
  if (nl == std::string_view::npos) return 0;
  boost::system::error_code ec1, ec2;
  json::value doc = json::parse(text.substr(0, nl), ec1);
  json::value patch = json::parse(text.substr(nl + 1), ec2);
  if (ec1) return 0;
  if (!ec2) {
    json::value target = doc;
    std::string error;
    if (qix::core::json_patch::apply(target, patch, &error)) {
      // Whatever the patch made, diff must describe it exactly.
      json::array d = qix::core::json_patch::diff(doc, target);
      json::value again = doc;
      if (!qix::core::json_patch::apply(again, d, &error) || again != target) __builtin_trap();
    }
    // The consuming overload must behave the same.
    json::value target2 = doc;
    (void)qix::core::json_patch::apply(target2, std::move(patch), &error);
  }
  return 0;
}
