// JSON-RPC 2.0 frame codec: requests are written by hand (no DOM built per call); each received frame is
// read once: its envelope decoded, its result located in the text, and the result's DOM built only for a
// caller that needs one (others get the text, checked).
// Thread safety: pure functions; a Frame is a value owned by one thread at a time.
#pragma once

#include "json/json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qix::core {

/// Encodes one request frame. `params_json` must already be valid JSON (an array or an object);
/// empty means `[]`. `delta` adds `"delta":true`.
std::string encode_request(std::int64_t id, std::string_view method, int handle, std::string_view params_json,
                           bool delta);

/// One received frame, decoded in two steps: its envelope (decode_envelope: id, error, method, params, delta,
/// change/close/suspend, and where the result's text is), then its result, either parsed into a DOM
/// (parse_result) or only checked (check_result) for a caller that takes the result as text. A 10,000-cell
/// page is some 640 KB of result: checking it costs about a third of building its DOM.
struct Frame {
 private:
  friend bool decode_envelope(std::string_view text, Frame& out, std::string* error);
  // The envelope's few small members go to a buffer inside the frame (no allocation for a usual frame).
  // Declared before the values built in it, so destroyed after them. A Frame is neither copied nor moved.
  alignas(16) unsigned char envelope_buffer_[512];
  json::monotonic_resource envelope_arena_{envelope_buffer_, sizeof envelope_buffer_};

 public:
  Frame() = default;
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ~Frame() = default;

  /// The envelope's members but `result`, `id` and `jsonrpc` in their usual forms (every member when the
  /// frame took the general path; see decode_envelope), owner of error and params below. Its values may live
  /// in the frame's own buffer: a value kept after the frame is a detached_copy, never a move.
  json::value root;
  std::optional<std::int64_t> id;  ///< Present for responses. (Not in root when decode_envelope read it.)
  /// The envelope's `"jsonrpc":"2.0"`, when decode_envelope read it in that form (it is then not in root;
  /// otherwise root has the member as sent, if any).
  bool jsonrpc_2_0 = false;
  json::value* error = nullptr;   ///< Points into root; null when absent.
  std::string_view method;        ///< Notifications: the method name (empty otherwise).
  json::value* params = nullptr;  ///< Notifications: their params.
  bool delta = false;
  bool has_result = false;  ///< The frame has a `result` member.
  /// The text of `result` as received: a view into the decoded text (valid as long as it is). Empty when
  /// there is no result.
  std::string_view result_text;
  /// Within result_text: the text of result's qReturn member, else of its only member (a call's one out
  /// value, which the C API hands out as the call's JSON); empty when result has neither.
  std::string_view result_value_text;
  bool result_has_qreturn = false;  ///< result_value_text is qReturn's (not an only member's).
  /// result is an object whose member keys are written without escapes and are distinct, so that
  /// result_value_text says exactly what the DOM would: qReturn if present, else the only member if there is
  /// one. When false, a reader of the text must take the DOM instead (parse_result).
  bool result_plain = false;
  /// The result's DOM once parse_result succeeded (or the general path parsed the whole frame); else null.
  json::value* result = nullptr;
  bool result_checked = false;  ///< The result's text is known to be valid JSON.
  /// Set by the frame's reader before decoding: the text is known to be UTF-8 (its transport checked it, as
  /// the WebSocket one does every text message), so parsing and checking it skip that check (a sixth of
  /// checking an ASCII page, a quarter of one with accented text). False: they check it.
  bool utf8 = false;
  std::vector<int> change;   ///< Handles whose data is now invalid.
  std::vector<int> close;    ///< Handles released by the engine.
  std::vector<int> suspend;  ///< Handles suspended by the engine.

  bool is_response() const noexcept { return id.has_value(); }
  bool is_notification() const noexcept { return !id && !method.empty(); }
  /// True when the result is a JSON object (whatever step decoded it).
  bool result_is_object() const noexcept;
  /// Parses the result into a DOM of its own (an arena sized for it); `result` then points to it. Does
  /// nothing when it already has one. Returns false with the parser's message in `*why` (when not null) when
  /// the result's text is not valid JSON.
  bool parse_result(std::string* why);
  /// Checks that the result's text is valid JSON without building a DOM. Returns false with a message in
  /// `*why` (when not null) otherwise. Does nothing when it is already known to be valid.
  bool check_result(std::string* why);

 private:
  json::value result_root_;  // the result's DOM built by parse_result
};

/// Decodes a frame's envelope from `text` into `out`: everything but the result's value, whose text is only
/// located (result_text, result_value_text, result_plain); a frame in an unusual form (a top-level key
/// written with escapes or with bytes outside printable ASCII, a structure the scan cannot follow) takes the
/// general path instead: the whole frame parsed into `root` and `result` set. Returns false with a message in
/// `*error` when the frame is not a JSON object, when a member other than the result is not valid JSON, or
/// when id/change/close/suspend have the wrong types. The result's own validity is checked by parse_result or
/// check_result (a frame is valid JSON when both steps succeed). A frame that is neither a response nor a
/// notification but carries change/close arrays is valid (a pushed change list).
/// Threading: pure; `out` is written by this thread only. Errors: as said; throws only std::bad_alloc.
/// `text` must outlive `out` (the views point into it).
bool decode_envelope(std::string_view text, Frame& out, std::string* error);

/// decode_envelope, then parse_result when the frame has a result: the frame decoded in full.
bool decode_frame(std::string_view text, Frame& out, std::string* error);

/// The text of member `key` of the JSON object `object_text` (as written: no unescaping, no reformatting),
/// or nullopt when the object has no such member (the last one when the key repeats, as the parser keeps).
/// `object_text` must be valid JSON (one that json::parse accepted): the scan only skips values. A key
/// written with escapes in the text never matches.
std::optional<std::string_view> json_member_text(std::string_view object_text, std::string_view key);

}  // namespace qix::core
