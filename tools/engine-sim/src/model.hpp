// qix-engine-sim: the in-memory associative data model (symbol tables, tables, key links, inference) and
// the selections of a session (per state, with their epoch and the possible values they leave).
// Thread safety: an AppData is immutable after finalize(), except for the resolve() cache which is
// guarded by its own mutex, so one AppData may be read from several threads. SelectionState, Possible
// and Selections are plain values owned by one session (not thread-safe).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qix::sim {

/// One distinct value of a field: its text and, for numbers, its numeric value (a dual). A view into the
/// field's SymbolTable, valid until the field gets a new value.
struct Symbol {
  std::string_view text;
  double num = 0.0;
  bool is_num = false;
};

/// The distinct values of a field in load order (the index is qElemNumber), stored compactly: every text
/// in one buffer, per value an end offset and a number (NaN when the value is not a number), and while
/// loading an open-addressing index by text. About 12 bytes per value plus its text, where a std::string
/// per value and a node-based map cost over 100 (demo-large's OrderId has 1,000,000 distinct values).
class SymbolTable {
 public:
  std::size_t size() const { return nums_.size(); }
  bool empty() const { return nums_.empty(); }
  Symbol operator[](std::size_t i) const {
    double v = nums_[i];
    bool num = !std::isnan(v);
    return {text(i), num ? v : 0.0, num};
  }
  std::string_view text(std::size_t i) const {
    std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(chars_).substr(begin, ends_[i] - begin);
  }
  /// The index of `text`, or -1 (rebuilds the index by text after drop_index()).
  std::int32_t find(std::string_view text);
  /// Appends `text` (not yet present) with its number (NaN: not a number); returns its index.
  std::int32_t add(std::string_view text, double num);
  /// Room for `n` values of `chars` text bytes in all, so that loading a large field does not regrow.
  void reserve(std::size_t n, std::size_t chars);
  /// Frees the index by text (only loading looks values up by text) and unused capacity.
  void drop_index();

 private:
  std::string chars_;
  std::vector<std::uint32_t> ends_;  // ends_[i]: end of text i in chars_ (it begins at ends_[i - 1])
  std::vector<double> nums_;
  std::vector<std::int32_t> slots_;  // hash slots: a value index, -1 = empty; size a power of two
  void rehash(std::size_t min_values);
};

struct FieldData {
  std::string name;
  SymbolTable symbols;
  std::vector<int> tables;  // tables that hold this field
  bool all_numeric = true;
  /// The engine's field tags, set by AppData::finalize(): "$key" for a field in several tables, then
  /// "$numeric" (and "$integer" when every value is a whole number) when every value is a number, else
  /// "$ascii" (when every value is 7-bit ASCII) and "$text".
  std::vector<std::string> tags;
  std::int32_t intern(std::string_view text);  // adds the value if new; numbers are detected
};

struct TableData {
  std::string name;
  std::vector<int> fields;                      // field ids, one per column
  std::vector<std::vector<std::int32_t>> cols;  // cols[c][row] = symbol index (-1 = null)
  std::size_t rows = 0;
};

/// A loaded app: fields and tables linked by field name.
class AppData {
 public:
  std::string id;
  std::string title;
  std::vector<FieldData> fields;
  std::vector<TableData> tables;

  int field_id(std::string_view name) const;
  /// Adds a table with the given column names; returns its index.
  int add_table(const std::string& name, const std::vector<std::string>& columns);
  /// Ends loading: frees what only loading needs (the symbol tables' indexes by text). Adding rows later
  /// still works.
  void finalize();
  /// Appends one row (texts, one per column; empty = null).
  void add_row(int table, const std::vector<std::string_view>& values);
  /// Column `c` of table `t` holds the symbol interned by the caller (fast path for generators).
  void add_row_symbols(int table, const std::vector<std::int32_t>& symbols);

  /// The symbols of `field` for every row of `table`, following many-to-one key links; nullptr when
  /// the field cannot be reached from that table. Cached; thread-safe.
  const std::vector<std::int32_t>* resolve(int table, int field) const;
  /// True when every row of `table` reaches `field` (the field is in the table or along a key chain).
  bool reachable(int table, int field) const { return resolve(table, field) != nullptr; }
  /// Whether a field is a key (present in more than one table).
  bool is_key(int field) const { return fields[static_cast<std::size_t>(field)].tables.size() > 1; }
  std::size_t total_rows() const;
  /// True when a value of `field` occurs on more than one row of `table`.
  bool has_duplicates(int table, int field) const;

 private:
  std::unordered_map<std::string, int> field_by_name_;
  mutable std::mutex cache_mu_;
  mutable std::map<std::pair<int, int>, std::unique_ptr<std::vector<std::int32_t>>> resolve_cache_;
  mutable std::map<std::pair<int, int>, std::unique_ptr<std::vector<std::int32_t>>> unique_cache_;
  // symbol -> row of `table` when `field` is unique in that table; nullptr otherwise.
  const std::vector<std::int32_t>* unique_index(int table, int field) const;
  const std::vector<std::int32_t>* resolve_locked(int table, int field, std::set<int>& visiting) const;
};

/// Per-field selections of one state of one session.
struct SelectionState {
  std::map<int, std::vector<char>> selected;  // field id -> flag per symbol; only fields with a selection
  std::set<int> locked;
  bool operator==(const SelectionState&) const = default;
};

/// Result of propagating a selection through the model.
struct Possible {
  std::vector<std::vector<char>> rows;  // per table: row possible
  std::vector<std::vector<char>> syms;  // per field: symbol possible
  std::vector<std::size_t> row_counts;  // per table: number of possible rows
};

/// Computes possible rows and values under `sel`, ignoring the selection in `skip_field` (>= 0), which
/// is how alternative values are found.
Possible propagate(const AppData& app, const SelectionState& sel, int skip_field = -1);

/// Cell state of a value of `field` (as list objects show it).
enum class CellState { Selected, Optional, Excluded, Alternative, Locked, SelectedExcluded, LockedExcluded };
inline constexpr std::size_t kCellStateCount = 7;
const char* state_code(CellState s);

/// A value to select by (Field.SelectValues): its number when `is_num`, else its text.
struct FieldValue {
  std::string text;
  double num = 0;
  bool is_num = false;
};

/// What a selection call did. `applied` is false when a locked field refused it (then nothing changed);
/// `changed` names the states whose selections changed, in the order they changed (each change bumped the
/// epoch). Callers invalidate what depends on those states.
struct SelectionChange {
  bool applied = true;
  std::vector<std::string> changed;
};

/// The selections of one session: a SelectionState per state ("$" and alternate states by name, each created
/// empty on first use), an epoch bumped on every change, and the possible values of each state cached for
/// the current epoch. Every call that takes an AppData expects the session's one app.
class Selections {
 public:
  /// The selections of `state` (created empty when new).
  SelectionState& of(const std::string& state) { return states_[state]; }
  /// Bumped by every change to any state; starts at 1.
  std::uint64_t epoch() const { return epoch_; }
  /// What `state` leaves possible (ignoring the selection in `skip_field` when >= 0); cached per epoch.
  std::shared_ptr<const Possible> possible(const AppData& app, const std::string& state, int skip_field = -1);
  /// Forgets the cached possible values (the session's app changed).
  void forget_possible() { possible_.clear(); }

  /// The state of value `sym` of `field`.
  CellState cell_state(const AppData& app, const std::string& state, int field, std::int32_t sym);
  /// How many values of `field` are in each CellState (indexed by the enumerator's value).
  std::array<std::size_t, kCellStateCount> count_states(const AppData& app, const std::string& state,
                                                        int field);

  /// Replaces the selection of `field` by a flag per value (no flag set: clears the field).
  SelectionChange set(const std::string& state, int field, std::vector<char> flags);
  /// The values whose text matches `match` (`*` any run, `?` one character, case-insensitive) or, when
  /// `match` is a number, whose number equals it (Field.Select; `toggle`: Field.ToggleSelect).
  SelectionChange select_match(const AppData& app, const std::string& state, int field,
                               std::string_view match, bool toggle);
  /// The values equal to one of `values` (Field.SelectValues).
  SelectionChange select_values(const AppData& app, const std::string& state, int field,
                                const std::vector<FieldValue>& values, bool toggle);
  /// Values by element number (qElemNumber); numbers out of range are ignored.
  SelectionChange select_elements(const AppData& app, const std::string& state, int field,
                                  const std::vector<std::int64_t>& elems, bool toggle);
  enum class Which { All, Possible, Excluded };
  /// Field.SelectAll, SelectPossible, SelectExcluded.
  SelectionChange select_where(const AppData& app, const std::string& state, int field, Which which);
  /// Field.Lock (only a field with a selection gets locked) and Field.Unlock; always applied.
  SelectionChange lock(const std::string& state, int field);
  SelectionChange unlock(const std::string& state, int field);
  /// Doc.ClearAll: clears the selections of `state`, or of every state when it is empty; locked fields
  /// keep theirs unless `locked_also` (which unlocks them first).
  SelectionChange clear_all(bool locked_also, const std::string& state);

 private:
  std::map<std::string, SelectionState> states_;
  std::uint64_t epoch_ = 1;
  std::map<std::pair<std::string, int>, std::pair<std::uint64_t, std::shared_ptr<const Possible>>> possible_;

  std::vector<char> current_flags(const AppData& app, const std::string& state, int field);
  /// Records that `state` changed when it differs from `before`.
  void note(const SelectionState& before, const std::string& state, SelectionChange& change);
};

/// Parses a number the way the loader does (plain decimal, optional sign and exponent).
bool parse_number(std::string_view text, double& out);
/// Formats a number as the engine shows it (integers without decimals, else up to 14 significant digits).
std::string format_number(double v);

}  // namespace qix::sim
