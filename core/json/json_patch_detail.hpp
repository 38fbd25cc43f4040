// Internals of JSON Patch shared by the DOM patcher (json_patch.cpp) and the text patcher
// (json_text_patch.cpp), so that both report failures with the same words. Not part of any public interface.
//
// Threading: pure functions over their arguments. Errors: reported through return values and `why`; they
// throw only std::bad_alloc.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace qix::core::json_patch::detail {

/// The JSON type name of a kind, for messages ("an object", "a number", ...).
std::string_view kind_name(boost::json::kind k) noexcept;

/// True for the pointers that name the whole document: "" (RFC 6901) and "/" (the engine's spelling).
bool is_whole_document(std::string_view ptr) noexcept;

/// Appends `token` escaped for a JSON Pointer ("~" as "~0", "/" as "~1").
void append_escaped(std::string& out, std::string_view token);

/// Appends `text` between double quotes, as is (for messages).
void append_quoted(std::string& out, std::string_view text);

/// Unescapes `raw` into `scratch` when it holds a "~"; sets `*token` to the token (a view of `raw` or of
/// `scratch`). Returns false with `why` set on a bad escape.
bool decode_token(std::string_view raw, std::string& scratch, std::string_view* token, std::string& why);

/// Parses an array index token: decimal, no sign, no leading zero ("-" is not accepted). Returns false with
/// `why` set otherwise.
bool parse_index(std::string_view token, std::size_t* index, std::string& why);

/// Sets `why` to "array index I is out of range (size N)".
void describe_out_of_range(std::string& why, std::size_t index, std::size_t size);

/// Reads the string member `key` of an operation object. Returns false with `why` set when it is missing or
/// not a string.
bool string_member(const boost::json::object& op, std::string_view key, std::string_view* out,
                   std::string& why);

/// The start of a failure message: `operation I ("op" at "path")`, or `from ... to ...` for move/copy.
std::string describe(std::size_t index, std::string_view op, std::string_view from, bool has_from,
                     std::string_view path, bool has_path);

}  // namespace qix::core::json_patch::detail
