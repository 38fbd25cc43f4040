// qix-engine-sim: small JSON helpers shared by the dispatcher, the renderer and the handlers.
// Thread safety: pure functions.
#pragma once

#include "json/json.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace qix::sim {

namespace json = boost::json;

/// A number as the engine sends it: integers as integers, NaN and infinities as strings.
inline json::value num_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (std::trunc(v) == v && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
  return v;
}

/// The string `v` holds, else `fallback`.
inline std::string str_of(const json::value* v, std::string_view fallback = {}) {
  return std::string(core::string_or(v, fallback));
}

/// The integer `v` holds, else `fallback`.
inline std::int64_t int_of(const json::value* v, std::int64_t fallback) {
  auto n = core::integer_of(v);
  return n ? *n : fallback;
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// The value at JSON pointer `path` in `root` ("" and "/" are the root), or nullptr.
inline const json::value* at_pointer(const json::value& root, std::string_view path) {
  if (path.empty() || path == "/") return &root;
  boost::system::error_code ec;
  const json::value* v = root.find_pointer(path, ec);
  return ec ? nullptr : v;
}

}  // namespace qix::sim
