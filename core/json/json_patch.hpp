// JSON Patch (RFC 6902) and JSON Pointer (RFC 6901) for the QIX delta protocol.
//
// The QIX Engine sends layouts and properties as deltas when a session asks for them (`"delta": true`):
// each response carries a JSON Patch against the value the client holds from the previous response. This
// module applies those patches to a held `boost::json::value` in place, and computes patches (`diff`) for
// the engine simulator and the tests.
//
// QIX ENGINE QUIRK: the path "/" means the WHOLE document.
//   RFC 6901 spells the whole document "" and reads "/" as "the member with the empty key of the root".
//   The engine (and enigma.js) use "/" for the whole document instead: the first delta for a value is
//   `[{"op":"add","path":"/","value":{...}}]`, applied to a client that holds nothing yet (null). So here:
//     * `add` or `replace` at "/" (or at "") replaces the whole target, whatever it held (null included);
//     * `remove` at "/" (or at "") sets the target to null;
//     * `test` at "/" compares the whole target; `move`/`copy` with `from` "/" read the whole target;
//     * the root member with the empty key cannot be addressed (deeper ones can: "/a/" is key "" of "a").
//   `diff` writes whole-document replacements with path "/" too.
//
// Threading: every function is reentrant and touches only its arguments. A value must not be read or
// written by another thread while a function here writes it (Boost.JSON's rules).
//
// Errors: `apply` reports failures through its return value and `*error`; it throws nothing but
// `std::bad_alloc` (or whatever the target's memory resource throws when exhausted). `diff` and
// `escape_token` throw only on allocation failure; `values_equal` never throws.
//
// Recursion: `diff` and `values_equal` recurse once per nesting level of the documents; Boost.JSON's
// parser caps nesting at 32 levels by default, far below any stack limit.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace qix::core::json_patch {

/// Applies the RFC 6902 patch `patch` (an array of operation objects) to `target` in place, in order.
/// Operations: add, remove, replace, move, copy, test; members other than op/path/from/value are ignored.
/// Array tokens are decimal indices without leading zeros; "-" (one past the end) is valid only as the
/// last token of an `add` (append) or of a `move`/`copy` destination. `test` compares JSON values: object
/// member order is irrelevant and numbers compare by value (int64 1 == uint64 1 == double 1.0). A `move`
/// into a child of its own source fails. See the file comment for the engine's "/" (whole document).
///
/// Ownership: `target` is borrowed and modified. Values taken from `patch` are copied into `target` (with
/// `target`'s memory resource); values moved within `target` are moved, not copied.
/// Threading: no other thread may use `target` meanwhile, nor write `patch`; `patch` must not lie inside
/// `target`.
/// Errors: returns true on success. On failure returns false and, when `error` is not null, sets `*error`
/// to a message naming the failing operation's index, op and path(s), e.g.
///   `operation 2 ("remove" at "/a/7"): array index 7 is out of range (size 3)`;
/// `target` is then partly patched and unspecified: drop it (or fetch the value again without delta).
bool apply(boost::json::value& target, const boost::json::array& patch, std::string* error = nullptr);

/// Same as above, but takes the values of add/replace operations out of `patch` instead of copying them.
/// Use it when the patch is a parsed response the caller no longer needs: the engine's first "add at /" of
/// a large layout then costs no copy (when both values use the same memory resource).
/// Ownership: `patch` is consumed: left valid but unspecified. Threading and errors: as above.
bool apply(boost::json::value& target, boost::json::array&& patch, std::string* error = nullptr);

/// Applies a patch given as a JSON value. It must be an array: otherwise this returns false with an error
/// naming the kind found, and `target` is untouched. Otherwise identical to the array overloads above
/// (the rvalue overload consumes `patch`).
bool apply(boost::json::value& target, const boost::json::value& patch, std::string* error = nullptr);
bool apply(boost::json::value& target, boost::json::value&& patch, std::string* error = nullptr);

/// Computes a small patch that turns `from` into `to`: applying it to a copy of `from` succeeds and leaves
/// a value equal (`==`) to `to`.
///   * Objects: `remove` for keys only in `from`, recursion into keys in both, then `add` for keys only in
///     `to` (in `to`'s order).
///   * Arrays: recursion element-wise over the common prefix, then `add` with explicit indices for the
///     extra elements of `to`, or `remove` from the end (highest index first) for the extra ones of `from`.
///   * Anything else that differs is `replace`d. Scalars compare with Boost.JSON's `==`: int64 1 equals
///     uint64 1, but 1 != 1.0, so a change of number kind is reported.
///   * When the roots differ in kind, or are unequal scalars, the result is the single operation
///     `[{"op":"replace","path":"/","value":to}]` (the engine's whole-document path, see the file
///     comment); likewise when a root member with the empty key changed, which "/" cannot address.
///   * Equal inputs give [].
/// A one-cell change in a 10,000-cell hypercube page gives two small operations (well under 1 KB).
/// Ownership: reads both arguments; the result owns copies of the values it carries (default resource).
/// Threading: no other thread may write `from` or `to` meanwhile.
/// Errors: throws only `std::bad_alloc`.
boost::json::array diff(const boost::json::value& from, const boost::json::value& to);

/// Escapes one reference token for a JSON Pointer (RFC 6901): "~" becomes "~0" and "/" becomes "~1".
/// Pure function; thread-safe. Throws only `std::bad_alloc`.
std::string escape_token(std::string_view token);

/// Reverses `escape_token`: "~0" becomes "~" and "~1" becomes "/". Returns false (leaving `*out`
/// unspecified) when `token` holds a "~" not followed by "0" or "1". `out` must not be null; it is
/// overwritten. Pure function; thread-safe. Throws only `std::bad_alloc`.
bool unescape_token(std::string_view token, std::string* out);

/// JSON value equality as the `test` operation uses it: kinds must match, except that numbers compare by
/// mathematical value across int64, uint64 and double (exactly: a large integer is not rounded to a
/// double); objects compare as unordered sets of members. Pure function; thread-safe; never throws.
bool values_equal(const boost::json::value& a, const boost::json::value& b) noexcept;

}  // namespace qix::core::json_patch
