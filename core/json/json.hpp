// Shared JSON vocabulary of the core: Boost.JSON types under short names, plus small helpers.
// Thread safety: the helpers are pure functions; JSON values follow Boost.JSON's rules (distinct
// objects may be used from distinct threads, one object never concurrently with a writer).
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace qix::core {

namespace json = boost::json;

/// Parses `text` as one JSON value. Returns nullopt and fills `*error` (when not null) on failure.
std::optional<json::value> parse_json(std::string_view text, std::string* error = nullptr);

/// Moves `from` into `into` together with the memory `from` lives in. Received frames are parsed into an
/// arena of their own (decode_frame), and Boost.JSON copies on a move *assignment* between values of
/// different memory resources; constructing in place moves. Use this, not `into = std::move(from)`, to hand
/// a frame's value on without a copy. `from` must not be part of `into` (it is destroyed first).
inline void move_into(json::value& into, json::value&& from) noexcept {
  std::destroy_at(&into);
  std::construct_at(&into, std::move(from));
}

/// A copy of `v` in the default memory resource: for values kept after the frame they came from is gone
/// (a copy made by json::value's copy constructor would live in, and keep alive, the frame's arena).
inline json::value detached_copy(const json::value& v) {
  return json::value(v, json::storage_ptr());
}

/// Appends `s` to `out` as a JSON string literal (quotes and escapes included). Pure; throws only
/// std::bad_alloc.
void append_json_string(std::string& out, std::string_view s);

/// Serializes `v` compactly (no whitespace), as it travels on the wire.
std::string to_json(const json::value& v);

/// Returns the member `key` of `v` when `v` is an object that has it, else nullptr.
const json::value* find_member(const json::value& v, std::string_view key) noexcept;
json::value* find_member(json::value& v, std::string_view key) noexcept;

/// Returns the string of `v` when it is a string, else `fallback`.
std::string_view string_or(const json::value* v, std::string_view fallback = {}) noexcept;

/// Returns `v` as a 64-bit integer when it holds an integral number (int64, uint64 in range, or a
/// double with no fraction), else nullopt.
std::optional<std::int64_t> integer_of(const json::value* v) noexcept;

}  // namespace qix::core
