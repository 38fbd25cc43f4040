// JSON-RPC 2.0 frame codec: requests are written by hand (no DOM built per call); each received frame is
// parsed exactly once into a Frame that owns the DOM and points into it.
// Thread safety: pure functions; a Frame is a value owned by one thread at a time.
#pragma once

#include "json/json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qix::core {

/// Appends `s` to `out` as a JSON string literal (quotes and escapes included).
void append_json_string(std::string& out, std::string_view s);

/// Encodes one request frame. `params_json` must already be valid JSON (an array or an object);
/// empty means `[]`. `delta` adds `"delta":true`.
std::string encode_request(std::int64_t id, std::string_view method, int handle, std::string_view params_json,
                           bool delta);

/// One received frame, decoded.
struct Frame {
  json::value root;                ///< The whole parsed frame (owner of everything below).
  std::optional<std::int64_t> id;  ///< Present for responses.
  json::value* result = nullptr;   ///< Points into root; null when absent.
  json::value* error = nullptr;    ///< Points into root; null when absent.
  std::string_view method;         ///< Notifications: the method name (empty otherwise).
  json::value* params = nullptr;   ///< Notifications: their params.
  bool delta = false;
  /// The text of `result` as received: a view into the decoded text (valid as long as it is). Empty when
  /// there is no result.
  std::string_view result_text;
  /// Within result_text: the text of result's qReturn member, else of its only member (a call's one out
  /// value, which the C API hands out as the call's JSON); empty when result has neither.
  std::string_view result_value_text;
  std::vector<int> change;   ///< Handles whose data is now invalid.
  std::vector<int> close;    ///< Handles released by the engine.
  std::vector<int> suspend;  ///< Handles suspended by the engine.

  bool is_response() const noexcept { return id.has_value(); }
  bool is_notification() const noexcept { return !id && !method.empty(); }
};

/// Parses `text` into `out`. Returns false with a message in `*error` when the frame is not a JSON object,
/// or its id/change/close/suspend members have the wrong types. A frame that is neither a response nor a
/// notification but carries change/close arrays is valid (a pushed change list).
bool decode_frame(std::string_view text, Frame& out, std::string* error);

/// The text of member `key` of the JSON object `object_text` (as written: no unescaping, no reformatting),
/// or nullopt when the object has no such member (the last one when the key repeats, as the parser keeps).
/// `object_text` must be valid JSON (one that json::parse accepted): the scan only skips values. A key
/// written with escapes in the text never matches.
std::optional<std::string_view> json_member_text(std::string_view object_text, std::string_view key);

}  // namespace qix::core
