// A scanner over JSON text that has already been validated (a parser accepted it): finds where values start
// and end without building anything. The frame decoder uses it to find a result's text and its qReturn in
// one pass; it runs over every byte of every result handed out as text, so containers are skipped 64 bytes
// at a time, their last bytes 16 at a time (SSE2 masks of quotes and brackets; byte by byte in blocks holding
// a backslash), and strings 16 bytes at a time (the first quote or backslash of each block); byte by byte
// everywhere off x86.
//
// Every function takes an index into `t` and returns an index into it; none reads past `t.size()`. On text a
// parser would reject the results are unspecified but stay within [0, t.size()] (no crash, no overrun).
// Threading: pure functions over their arguments. Errors: none reported; never throw.
#pragma once

#include <boost/json/parse_options.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace qix::core::json_scan {

/// Checks that `text` is exactly one JSON value, as json::parse with `options` would accept it (UTF-8,
/// escapes, numbers, nesting depth), without building anything: some three times faster than parsing into a
/// DOM. Returns false with the parser's message in `*error` (when not null) otherwise.
/// Threading: pure. Errors: returns false as said; throws nothing but std::bad_alloc.
bool validate(std::string_view text, std::string* error = nullptr,
              const boost::json::parse_options& options = {});

/// The index of the first byte at or after `i` that is not JSON whitespace (or t.size()).
inline std::size_t skip_ws(std::string_view t, std::size_t i) noexcept {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

/// `i` at a string's opening quote; returns the index after its closing quote.
std::size_t skip_string(std::string_view t, std::size_t i) noexcept;

/// `i` at '{' or '['; returns the index after the bracket that closes it.
std::size_t skip_container(std::string_view t, std::size_t i) noexcept;

/// `i` at a value (no leading whitespace); returns the index after it.
std::size_t skip_value(std::string_view t, std::size_t i) noexcept;

/// True when `k` (a key as written, between its quotes) is `key` and was written without escapes.
inline bool plain_key_is(std::string_view k, std::string_view key) noexcept {
  return k == key && k.find('\\') == std::string_view::npos;
}

/// Calls `visit(key, value_index)` for each member of the object at t[i] == '{', in text order; `key` is the
/// key as written between its quotes (escapes not decoded). `visit` returns the index after the value
/// (skip_value, or a scan of its own). Returns the index after the object's '}' (t.size() when the text ends
/// first).
template <class Visit>
std::size_t scan_members(std::string_view t, std::size_t i, Visit&& visit) {
  const std::size_t n = t.size();
  i = skip_ws(t, i + 1);
  while (i < n && t[i] == '"') {
    std::size_t key_end = skip_string(t, i);
    std::string_view k = t.substr(i + 1, key_end - i - 2);
    i = skip_ws(t, key_end);
    if (i >= n || t[i] != ':') return n;
    i = skip_ws(t, visit(k, skip_ws(t, i + 1)));
    if (i >= n || t[i] != ',') break;
    i = skip_ws(t, i + 1);
  }
  return (i < n && t[i] == '}') ? i + 1 : n;
}

/// Calls `visit(value_index)` for each element of the array at t[i] == '[', in order; `visit` returns the
/// index after the element. Returns the index after the array's ']' (t.size() when the text ends first).
template <class Visit>
std::size_t scan_elements(std::string_view t, std::size_t i, Visit&& visit) {
  const std::size_t n = t.size();
  i = skip_ws(t, i + 1);
  if (i < n && t[i] == ']') return i + 1;
  while (i < n) {
    i = skip_ws(t, visit(i));
    if (i >= n || t[i] != ',') break;
    i = skip_ws(t, i + 1);
  }
  return (i < n && t[i] == ']') ? i + 1 : n;
}

}  // namespace qix::core::json_scan
