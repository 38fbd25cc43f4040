// Internals of the ODBC driver libqixodbc.so: the handles a driver manager allocates (environment,
// connection, statement), result sets and the data conversions. The exported ODBC entry points are in
// driver.cpp, the engine side (connect, catalog, queries) in engine.cpp.
//
// Threading: a driver manager may call into one handle from one thread at a time, except SQLCancel, which
// may come from any thread while another runs SQLExecDirect/SQLFetch on the statement; the Stream (the rows
// of a running extraction) is the only state shared between threads and has its own lock.
// Errors: internal functions throw OdbcError, which the entry points turn into a diagnostic record.
#ifndef QIX_ODBC_DRIVER_HPP
#define QIX_ODBC_DRIVER_HPP

// clang-format off
#include <sql.h>
#include <sqlext.h>
// clang-format on

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "qix/json.hpp"
#include "qix/qix.h"

namespace qix::odbc {

/** An ODBC error: SQLSTATE, native code (the engine's error code, or 0) and message. */
struct OdbcError : std::runtime_error {
  OdbcError(std::string st, std::string msg, int nat = 0)
      : std::runtime_error(msg), state(std::move(st)), native(nat) {}
  std::string state;
  int native;
};

struct DiagRecord {
  std::string state;
  int native = 0;
  std::string message;
};

struct Handle {
  explicit Handle(SQLSMALLINT t) : type(t) {}
  SQLSMALLINT type;
  std::vector<DiagRecord> diags;
  SQLRETURN last_rc = SQL_SUCCESS;
  void clear() {
    diags.clear();
    last_rc = SQL_SUCCESS;
  }
  void add(const std::string& state, const std::string& message, int native = 0) {
    diags.push_back({state, native, "[libqix][ODBC] " + message});
  }
};

/** One value of a result: NULL, a number or a text. */
struct Cell {
  bool null = true;
  double num = 0;
  std::string text;
};
using Row = std::vector<Cell>;

/** The description of one result column. */
struct ColumnInfo {
  std::string name;
  SQLSMALLINT sql_type = SQL_VARCHAR;
  SQLULEN size = 255;
  SQLSMALLINT digits = 0;
  SQLSMALLINT nullable = SQL_NULLABLE;
  std::string table;
  std::string schema;
};

/** The ODBC type name ("VARCHAR", ...) of an SQL type. */
const char* type_name(SQLSMALLINT sql_type);
/** Column size and decimal digits the driver reports for a type. */
SQLULEN type_size(SQLSMALLINT sql_type);

/**
 * The rows of a running extraction, filled by libqix's row callback (the producer, on the session's event
 * thread) and read by SQLFetch (the consumer). Bounded: the producer waits while `capacity` rows are queued,
 * which holds back the extraction (at most its window of pages in flight), so memory stays bounded whatever
 * the size of the result.
 */
struct Stream {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Row> rows;
  std::size_t capacity = 4096;
  bool done = false;           // the extraction ended (done callback ran)
  bool cancel = false;         // SQLCancel / close: the producer stops at its next row
  bool limit_reached = false;  // the producer stopped because LIMIT was reached
  int status = QIX_OK;
  std::string error_name, error_message;
  int error_code = 0;
  // How the producer maps a hypercube row to output rows.
  std::vector<int> source;         // output column -> hypercube column
  std::vector<SQLSMALLINT> types;  // output column -> SQL type
  int count_col = -1;              // hypercube column whose value repeats the row (rows of a table), or -1
  std::int64_t limit = -1;         // output rows at most, -1 = all
  std::int64_t produced = 0;
};

/** A result set: its columns and where its rows come from (a fixed list, or a Stream). */
struct ResultSet {
  std::vector<ColumnInfo> columns;
  std::deque<Row> fixed;
  std::shared_ptr<Stream> stream;
  std::int64_t total_fetched = 0;
};

struct Env : Handle {
  Env() : Handle(SQL_HANDLE_ENV) {}
  SQLINTEGER odbc_version = SQL_OV_ODBC3;
};

struct Stmt;

struct Dbc : Handle {
  explicit Dbc(Env* e) : Handle(SQL_HANDLE_DBC), env(e) {}
  Env* env;
  qix_context* ctx = nullptr;
  qix_session* session = nullptr;
  qix_object* doc = nullptr;
  std::string app_id;
  std::string conn_string;                     // as given, for SQLDriverConnect's output
  std::optional<json::value> tables_and_keys;  // GetTablesAndKeys, cached per connection
  std::vector<Stmt*> stmts;
  SQLUINTEGER login_timeout = 0;
  SQLUINTEGER autocommit = SQL_AUTOCOMMIT_ON;
  std::map<SQLINTEGER, SQLULEN> attrs;  // other attributes, kept for SQLGetConnectAttr
  bool connected() const { return session != nullptr; }
};

struct ColumnBinding {
  SQLSMALLINT ctype = 0;
  SQLPOINTER ptr = nullptr;
  SQLLEN buflen = 0;
  SQLLEN* ind = nullptr;
};

struct Stmt : Handle {
  explicit Stmt(Dbc* d) : Handle(SQL_HANDLE_STMT), dbc(d) {}
  Dbc* dbc;
  std::string prepared;
  bool has_prepared = false;
  std::unique_ptr<ResultSet> rs;
  std::string session_object_id;  // the hypercube session object of the open cursor
  qix_object* cube = nullptr;     // its handle
  // Current row(s) of the cursor.
  std::vector<Row> rowset;
  bool on_row = false;
  int getdata_col = -1;
  std::size_t getdata_offset = 0;
  bool getdata_done = false;
  // Bindings and attributes.
  std::vector<ColumnBinding> bindings;
  SQLULEN row_array_size = 1;
  SQLULEN* rows_fetched_ptr = nullptr;
  SQLUSMALLINT* row_status_ptr = nullptr;
  SQLULEN bind_type = SQL_BIND_BY_COLUMN;
  SQLLEN* bind_offset_ptr = nullptr;
  SQLULEN query_timeout = 0;  // seconds
  SQLULEN max_rows = 0;
  std::map<SQLINTEGER, SQLULEN> attrs;
  std::atomic<std::int64_t> call_in_flight{0};  // the request id of a running engine call, for SQLCancel
  std::atomic<bool> cancelled{false};
  // The stream SQLCancel stops: set and reset by the statement's thread, read by SQLCancel's, under
  // cancel_mu.
  std::mutex cancel_mu;
  std::shared_ptr<Stream> active_stream;
  char desc_dummy[4][8] = {};  // what SQLGetStmtAttr gives for the descriptor handles
};

// engine.cpp
/** Opens the session: parses @p conn (after merging a DSN's entries), connects, opens the app. */
void connect(Dbc& dbc, const std::string& conn, bool& with_info);
/** Closes every cursor and the session. */
void disconnect(Dbc& dbc);
/** Runs a statement: its result goes to stmt.rs (a query starts its extraction). */
void execute(Stmt& stmt, const std::string& sql);
/** Closes the cursor: stops the extraction, waits for its end, destroys the session object. */
void close_cursor(Stmt& stmt);
/** SQLCancel: stops a running call or extraction (thread-safe). */
void cancel(Stmt& stmt);
/** Catalog functions: fill stmt.rs. Patterns are ODBC search patterns; nullopt = not given. */
void tables(Stmt& stmt, const std::optional<std::string>& catalog, const std::optional<std::string>& schema,
            const std::optional<std::string>& table, const std::optional<std::string>& types);
void columns(Stmt& stmt, const std::optional<std::string>& schema, const std::optional<std::string>& table,
             const std::optional<std::string>& column);
void type_info(Stmt& stmt, SQLSMALLINT type);
/** A catalog function the data model has nothing for (keys, indexes, procedures): an empty result set with
 *  the columns @p names (all VARCHAR; ODBC applications read them by position). */
void empty_catalog(Stmt& stmt, const std::vector<const char*>& names);
/**
 * The next row into @p out. @return false at the end. @throws OdbcError on a failure of the extraction,
 * HY008 after SQLCancel, HYT00 after the query timeout.
 */
bool next_row(Stmt& stmt, Row& out);

// convert.cpp
/**
 * Converts @p cell of a column of type @p sql_type into the C type @p ctype at @p ptr (@p buflen bytes),
 * writing the length or SQL_NULL_DATA to @p ind. @p offset: for character and binary data read in pieces,
 * the bytes already returned (updated). Adds warnings (01004) to @p h. @return SQL_SUCCESS,
 * SQL_SUCCESS_WITH_INFO or SQL_NO_DATA (every piece returned). @throws OdbcError (22002, 22003, 22018,
 * HY003).
 */
SQLRETURN convert(Handle& h, const Cell& cell, SQLSMALLINT sql_type, SQLSMALLINT ctype, SQLPOINTER ptr,
                  SQLLEN buflen, SQLLEN* ind, std::size_t* offset);
/** The text of a cell as the driver shows it (numbers, dates). */
std::string cell_text(const Cell& cell, SQLSMALLINT sql_type);

}  // namespace qix::odbc

#endif
