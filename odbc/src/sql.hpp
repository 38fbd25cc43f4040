// The SQL subset the ODBC driver understands (docs/odbc.md, "SQL"): a parser from text to a Query, with no
// knowledge of the app. The driver (driver.cpp) checks the names against the data model and turns the
// Query into a hypercube.
//
//   SELECT [DISTINCT] item, ... | *  FROM [schema.]table
//     [WHERE col = literal | col IN (literal, ...) [AND ...]]
//     [GROUP BY col, ...] [ORDER BY output-column | ordinal [ASC|DESC], ...] [LIMIT n] [;]
//   item: col [[AS] alias] | SUM|COUNT|AVG|MIN|MAX '(' [DISTINCT] col ')' [[AS] alias] | COUNT(*)
//         | "=qlik expression" [[AS] alias]   (the pass-through form: a quoted name starting with '=')
//
// Threading: pure functions on their arguments. Errors: parse() throws SqlError, whose message names the
// construct that is not supported; the driver reports it as SQLSTATE 42000.
#ifndef QIX_ODBC_SQL_HPP
#define QIX_ODBC_SQL_HPP

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace qix::odbc {

/** A statement outside the subset, or malformed; the message names the construct. */
class SqlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Agg { None, Sum, Count, CountDistinct, CountStar, Avg, Min, Max, Expr };

/** One item of the select list. */
struct SelectItem {
  Agg agg = Agg::None;
  std::string column;  ///< the field (empty for COUNT(*)); for Agg::Expr the Qlik expression, with its '='
  std::string alias;   ///< as written after AS, else ""
};

/** A literal of a WHERE condition. */
struct Literal {
  bool is_number = false;
  double number = 0;
  std::string text;  ///< the string, or the number as written
};

/** `column = v` (one value) or `column IN (v, ...)`. */
struct Condition {
  std::string column;
  std::vector<Literal> values;
};

/** One ORDER BY key: an output column named, or given by its 1-based position (ordinal > 0). */
struct OrderKey {
  std::string name;
  int ordinal = 0;
  bool descending = false;
};

struct Query {
  bool distinct = false;
  bool star = false;  ///< SELECT *
  std::vector<SelectItem> items;
  std::string schema;  ///< "" when not given
  std::string table;
  std::vector<Condition> where;
  std::vector<std::string> group_by;
  std::vector<OrderKey> order_by;
  std::optional<std::int64_t> limit;
};

/** Parses one statement. @throws SqlError naming what is not supported or where the syntax is wrong. */
Query parse(const std::string& sql);

/** The name a select item has in the result: its alias, else the column, the expression or e.g. "SUM(x)". */
std::string output_name(const SelectItem& item);

/**
 * Splits an ODBC connection string into its attributes, in order: `key=value` pairs separated by ';', a value
 * may be enclosed in braces (`{...}`, with `}}` for a '}'), whitespace around keys and bare values is
 * dropped. Keys keep their case (lookups are the caller's business). @throws SqlError when a brace is not
 * closed or a pair has no '='.
 */
std::vector<std::pair<std::string, std::string>> parse_connection_string(const std::string& s);

}  // namespace qix::odbc

#endif
