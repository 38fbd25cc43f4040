// JSON Patch applied to JSON *text*: the QIX delta protocol without a DOM.
//
// A re-fetch with `"delta":true` answers with a JSON Patch (RFC 6902) against the value held from the
// previous response (see json_patch.hpp, the engine's "/" = whole document included). A caller that wants the
// patched value as text (the C API hands out text) can keep the previous value as text and patch it here:
// each operation finds its target with the scanner of validated JSON text (json_scan.hpp) and splices the new
// bytes in, so a one-cell change in a 1 MB layout costs one copy of the text and a scan up to the cell, not a
// parse, a DOM patch and a serialization.
//
// Equivalence with the DOM patcher: when `apply_text` says `applied`, parsing its output gives a value equal
// to what json_patch::apply gives on the parsed base, with the same member order (a new key goes last, a
// replaced one keeps its place), and when it says `failed`, json_patch::apply fails on the same operation
// with the same message. Bytes of the base outside the spliced spans are kept as they are (whitespace,
// escapes, number spellings); values from the patch are written as boost::json::serialize writes them.
//
// Threading: every function is reentrant and touches only its arguments. Errors: through the return value and
// `*error`; the functions throw only std::bad_alloc.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace qix::core::json_patch {

/// What `apply_text` did.
enum class TextPatch {
  applied,      ///< `out` holds the patched text.
  unsupported,  ///< Not done at text level (see apply_text); use json_patch::apply on the parsed base.
  failed,       ///< The patch does not apply to this base; json_patch::apply fails the same way.
};

/// The most operations `apply_text` takes in one patch by default. Each operation costs a scan of the text up
/// to its target (about 3 GB/s), a splice (a memmove of the text after it, about 30 GB/s) and, with the
/// duplicate-key check, a scan of the text after the target: on a 1 MB layout, 0.2 ms per operation on a
/// random cell (0.4 ms with the check). The DOM path costs a parse, the patch and a serialization, about 9 ms
/// per MB however many operations. So the text path wins up to some 25 operations with the check and 45
/// without (bench/json_text_patch_bench.cpp); 16 keeps it clearly ahead in both modes, and the engine's
/// re-fetch deltas are mostly a handful of operations.
inline constexpr std::size_t kMaxTextPatchOps = 16;

/// Options of `apply_text`.
struct TextPatchOptions {
  /// More operations than this: `unsupported` (see kMaxTextPatchOps).
  std::size_t max_ops = kMaxTextPatchOps;
  /// True: every object on an operation's path is scanned to its end to make sure the key looked up is not
  /// there twice (Boost.JSON keeps the last of duplicate keys at the place of the first; the text patcher
  /// does not model that and answers `unsupported`). That costs one scan of the text after the target (the
  /// objects are finished from the innermost out, each resuming where the one inside it closed). False: the
  /// caller vouches that the base has no duplicate keys, e.g. because it was written by
  /// boost::json::serialize, or by apply_text from such a base (apply_text never creates duplicates); the
  /// lookup then stops at the first match and the text after the target is only copied.
  bool check_duplicate_keys = true;
};

/// Applies `patch` (an array of RFC 6902 operation objects) to the JSON text `base`, in order, writing the
/// patched text to `out`.
///
/// Supported: add, remove and replace, with json_patch::apply's semantics: "/" and "" name the whole
/// document (add/replace give the value's text, remove gives `null`); an object add of an existing key
/// replaces its value in place, of a new key appends the member at the end of the object; an array add at
/// index i inserts before element i, at the array's size or at "-" appends; array tokens are decimal without
/// leading zeros; tokens are unescaped per RFC 6901 (~0, ~1); a remove takes one neighbouring comma along.
/// Keys in the base written with escapes (`"q\u0054ext"`) are decoded before they are compared.
///
/// Returns `unsupported`, before touching anything, when the patch has more than `options.max_ops`
/// operations or holds a move, copy or test (those need values read from the document: the DOM path does
/// them), whatever its other operations hold (even one json_patch::apply would fail on first); and, part-way,
/// when the key looked up is in an object on the path twice (only with `options.check_duplicate_keys`) or
/// when the scanner finds that `base` is not valid JSON text after all. Returns `failed` exactly when
/// json_patch::apply fails on the parsed base (a missing member for remove or replace, an index out of range,
/// a bad pointer, a malformed operation), with its message in `*error` (when `error` is not null), e.g.
/// `operation 1 ("replace" at "/a/7"): array index 7 is out of range (size 3)`.
///
/// Ownership: `base` and `patch` are read; `out` is overwritten (its capacity is reused) and must not hold
/// the bytes `base` views. After `unsupported` or `failed`, `out` is unspecified (it may hold a part-patched
/// text): use `base`.
/// Threading: no other thread may write `base`, `patch` or `out` meanwhile.
/// Errors: as above; throws only std::bad_alloc. `base` must be valid JSON text (e.g. a parser accepted
/// it); on other text the result is unspecified but memory-safe (mostly `unsupported`).
TextPatch apply_text(std::string_view base, const boost::json::array& patch, std::string& out,
                     std::string* error = nullptr, const TextPatchOptions& options = {});

/// Appends the JSON text of `v` to `out` as boost::json::serialize writes it, without a temporary string.
/// Threading: `v` must not be written meanwhile. Throws only std::bad_alloc.
void append_json(std::string& out, const boost::json::value& v);

}  // namespace qix::core::json_patch
