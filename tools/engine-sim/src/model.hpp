// qix-engine-sim: the in-memory associative data model (symbol tables, tables, selections).
// Thread safety: an AppData is immutable after finalize(), except for the resolve() cache which is
// guarded by its own mutex, so one AppData may be read from several threads. SelectionState and
// Possible are plain values owned by one session.
#pragma once

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

/// One distinct value of a field: its text and, for numbers, its numeric value (a dual).
struct Symbol {
  std::string text;
  double num = 0.0;
  bool is_num = false;
};

struct FieldData {
  std::string name;
  std::vector<Symbol> symbols;  // in load order: the index is qElemNumber
  std::unordered_map<std::string, std::int32_t> by_text;
  std::vector<int> tables;  // tables that hold this field
  bool all_numeric = true;
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
const char* state_code(CellState s);

/// The built-in deterministic sales app `demo` (orders, customers, products, regions).
std::shared_ptr<AppData> make_demo_app(std::size_t order_rows);
/// Loads every *.csv in `dir` as a table. Throws std::runtime_error on unreadable files.
std::shared_ptr<AppData> load_csv_app(const std::string& dir, const std::string& id);
/// Splits one CSV document (RFC 4180) into records.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);
/// Parses a number the way the loader does (plain decimal, optional sign and exponent).
bool parse_number(std::string_view text, double& out);
/// Formats a number as the engine shows it (integers without decimals, else up to 14 significant digits).
std::string format_number(double v);

}  // namespace qix::sim
