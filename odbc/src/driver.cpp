// The ODBC entry points of libqixodbc.so (ANSI; unixODBC's driver manager maps the W functions of
// Unicode applications such as pyodbc onto them, converting UTF-16 <-> UTF-8).
//
// Ownership: every handle is allocated by SQLAllocHandle and released by SQLFreeHandle; the driver never
// keeps an application's pointer beyond what ODBC allows (bound columns and the statement attributes that
// are pointers, until unbound or reset). Threading: see driver.hpp (one thread per handle at a time,
// SQLCancel from any thread). Errors: SQL_ERROR / SQL_SUCCESS_WITH_INFO with diagnostic records that
// SQLGetDiagRec / SQLGetDiagField read (SQLSTATE, native = the engine's error code, message).
#include <algorithm>
#include <cstring>
#include <new>

#include "driver.hpp"

using namespace qix::odbc;

namespace {

template <class H, class F>
SQLRETURN guarded(SQLHANDLE handle, SQLSMALLINT type, F&& f) {
  if (!handle) return SQL_INVALID_HANDLE;
  auto* h = static_cast<H*>(handle);
  if (h->type != type) return SQL_INVALID_HANDLE;
  h->clear();
  SQLRETURN rc;
  try {
    rc = f(*h);
  } catch (const OdbcError& e) {
    h->add(e.state, e.what(), e.native);
    rc = SQL_ERROR;
  } catch (const std::bad_alloc&) {
    h->add("HY001", "memory allocation error");
    rc = SQL_ERROR;
  } catch (const std::exception& e) {
    h->add("HY000", std::string("general error: ") + e.what());
    rc = SQL_ERROR;
  }
  if (rc == SQL_SUCCESS && !h->diags.empty()) rc = SQL_SUCCESS_WITH_INFO;
  h->last_rc = rc;
  return rc;
}

std::optional<std::string> arg(const SQLCHAR* p, SQLINTEGER len) {
  if (!p) return std::nullopt;
  const char* s = reinterpret_cast<const char*>(p);
  if (len == SQL_NTS) return std::string(s);
  if (len < 0) throw OdbcError("HY090", "invalid string or buffer length");
  return std::string(s, static_cast<std::size_t>(len));
}

// Copies @p s into an output string buffer: truncation gives 01004 (SQL_SUCCESS_WITH_INFO).
template <class Len>
void put(Handle& h, const std::string& s, SQLPOINTER out, SQLLEN buflen, Len* outlen) {
  if (outlen) *outlen = static_cast<Len>(s.size());
  if (!out) return;
  if (buflen <= 0) {
    if (!s.empty()) h.add("01004", "string data, right truncated");
    return;
  }
  const auto n = std::min(s.size(), static_cast<std::size_t>(buflen - 1));
  std::memcpy(out, s.data(), n);
  static_cast<char*>(out)[n] = '\0';
  if (n < s.size()) h.add("01004", "string data, right truncated");
}

SQLULEN display_size(const ColumnInfo& c) {
  switch (c.sql_type) {
    case SQL_BIGINT:
      return 20;
    case SQL_INTEGER:
      return 11;
    case SQL_SMALLINT:
      return 6;
    case SQL_DOUBLE:
      return 24;
    default:
      return c.size;
  }
}

std::size_t ctype_size(SQLSMALLINT ctype) {
  switch (ctype) {
    case SQL_C_DOUBLE:
      return sizeof(double);
    case SQL_C_FLOAT:
      return sizeof(float);
    case SQL_C_SBIGINT:
    case SQL_C_UBIGINT:
      return 8;
    case SQL_C_LONG:
    case SQL_C_SLONG:
    case SQL_C_ULONG:
      return 4;
    case SQL_C_SHORT:
    case SQL_C_SSHORT:
    case SQL_C_USHORT:
      return 2;
    case SQL_C_TINYINT:
    case SQL_C_STINYINT:
    case SQL_C_UTINYINT:
    case SQL_C_BIT:
      return 1;
    case SQL_C_TYPE_DATE:
    case SQL_C_DATE:
      return sizeof(SQL_DATE_STRUCT);
    case SQL_C_TYPE_TIMESTAMP:
    case SQL_C_TIMESTAMP:
      return sizeof(SQL_TIMESTAMP_STRUCT);
    default:
      return 0;
  }
}

const ColumnInfo& column(Stmt& st, SQLUSMALLINT n) {
  if (!st.rs) throw OdbcError("07005", "prepared statement not a cursor-specification");
  if (n == 0) throw OdbcError("07009", "invalid descriptor index: bookmarks are not supported");
  if (n > st.rs->columns.size()) throw OdbcError("07009", "invalid descriptor index " + std::to_string(n));
  return st.rs->columns[n - 1];
}

// SQLPrepare only keeps the text; describing the result (SQLNumResultCols, SQLDescribeCol) before SQLExecute
// runs it, and SQLExecute then keeps that result (attrs[-1] marks it).
void ensure_result(Stmt& st) {
  if (!st.rs && st.has_prepared) {
    execute(st, st.prepared);
    st.attrs[-1] = 1;  // executed ahead of SQLExecute
  }
}

SQLRETURN fetch_rowset(Stmt& st) {
  if (!st.rs) throw OdbcError("24000", "invalid cursor state: no result set");
  st.rowset.clear();
  st.getdata_col = -1;
  st.on_row = false;
  const SQLULEN n = std::max<SQLULEN>(1, st.row_array_size);
  for (SQLULEN i = 0; i < n; ++i) {
    Row r;
    if (!next_row(st, r)) break;
    st.rowset.push_back(std::move(r));
  }
  if (st.rows_fetched_ptr) *st.rows_fetched_ptr = st.rowset.size();
  SQLRETURN rc = SQL_SUCCESS;
  if (st.row_status_ptr)
    for (SQLULEN i = 0; i < n; ++i)
      st.row_status_ptr[i] = i < st.rowset.size() ? SQL_ROW_SUCCESS : SQL_ROW_NOROW;
  if (st.rowset.empty()) return SQL_NO_DATA;
  st.on_row = true;
  st.rs->total_fetched += static_cast<std::int64_t>(st.rowset.size());
  const SQLLEN off = st.bind_offset_ptr ? *st.bind_offset_ptr : 0;
  for (std::size_t c = 0; c < st.bindings.size() && c < st.rs->columns.size(); ++c) {
    const ColumnBinding& b = st.bindings[c];
    if (!b.ptr && !b.ind) continue;
    std::size_t elem = ctype_size(b.ctype);
    if (elem == 0) elem = static_cast<std::size_t>(b.buflen);
    for (std::size_t r = 0; r < st.rowset.size(); ++r) {
      char* data = nullptr;
      SQLLEN* ind = nullptr;
      if (st.bind_type == SQL_BIND_BY_COLUMN) {
        if (b.ptr) data = static_cast<char*>(b.ptr) + off + r * elem;
        if (b.ind) ind = reinterpret_cast<SQLLEN*>(reinterpret_cast<char*>(b.ind) + off) + r;
      } else {
        if (b.ptr) data = static_cast<char*>(b.ptr) + off + r * st.bind_type;
        if (b.ind) ind = reinterpret_cast<SQLLEN*>(reinterpret_cast<char*>(b.ind) + off + r * st.bind_type);
      }
      SQLRETURN x =
          convert(st, st.rowset[r][c], st.rs->columns[c].sql_type, b.ctype, data, b.buflen, ind, nullptr);
      if (x == SQL_SUCCESS_WITH_INFO) {
        rc = SQL_SUCCESS_WITH_INFO;
        if (st.row_status_ptr) st.row_status_ptr[r] = SQL_ROW_SUCCESS_WITH_INFO;
      }
    }
  }
  return rc;
}

}  // namespace

extern "C" {

// The entry points name their parameters shortly, not as unixODBC's headers do.
// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name)

// ---- handles ---------------------------------------------------------------------------------------

SQLRETURN SQL_API SQLAllocHandle(SQLSMALLINT type, SQLHANDLE input, SQLHANDLE* output) {
  if (!output) return SQL_ERROR;
  try {
    switch (type) {
      case SQL_HANDLE_ENV:
        *output = new Env();
        return SQL_SUCCESS;
      case SQL_HANDLE_DBC: {
        auto* env = static_cast<Env*>(input);
        if (!env || env->type != SQL_HANDLE_ENV) return SQL_INVALID_HANDLE;
        *output = new Dbc(env);
        return SQL_SUCCESS;
      }
      case SQL_HANDLE_STMT: {
        auto* dbc = static_cast<Dbc*>(input);
        if (!dbc || dbc->type != SQL_HANDLE_DBC) return SQL_INVALID_HANDLE;
        if (!dbc->connected()) {
          dbc->clear();
          dbc->add("08003", "connection not open");
          return SQL_ERROR;
        }
        auto* st = new Stmt(dbc);
        dbc->stmts.push_back(st);
        *output = st;
        return SQL_SUCCESS;
      }
      default:
        if (auto* h = static_cast<Handle*>(input)) {
          h->clear();
          h->add("HYC00", "optional feature not implemented: explicit descriptors");
        }
        *output = SQL_NULL_HANDLE;
        return SQL_ERROR;
    }
  } catch (const std::bad_alloc&) {
    *output = SQL_NULL_HANDLE;
    return SQL_ERROR;
  }
}

SQLRETURN SQL_API SQLFreeHandle(SQLSMALLINT type, SQLHANDLE handle) {
  if (!handle) return SQL_INVALID_HANDLE;
  switch (type) {
    case SQL_HANDLE_ENV:
      delete static_cast<Env*>(handle);
      return SQL_SUCCESS;
    case SQL_HANDLE_DBC: {
      auto* dbc = static_cast<Dbc*>(handle);
      if (dbc->connected()) disconnect(*dbc);
      for (Stmt* s : dbc->stmts) delete s;
      delete dbc;
      return SQL_SUCCESS;
    }
    case SQL_HANDLE_STMT: {
      auto* st = static_cast<Stmt*>(handle);
      try {
        close_cursor(*st);
      } catch (...) {
      }
      auto& v = st->dbc->stmts;
      v.erase(std::remove(v.begin(), v.end(), st), v.end());
      delete st;
      return SQL_SUCCESS;
    }
    default:
      return SQL_ERROR;
  }
}

SQLRETURN SQL_API SQLFreeStmt(SQLHSTMT hstmt, SQLUSMALLINT option) {
  if (option == SQL_DROP) return SQLFreeHandle(SQL_HANDLE_STMT, hstmt);
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    switch (option) {
      case SQL_CLOSE:
        close_cursor(st);
        return SQL_SUCCESS;
      case SQL_UNBIND:
        st.bindings.clear();
        return SQL_SUCCESS;
      case SQL_RESET_PARAMS:
        return SQL_SUCCESS;
      default:
        throw OdbcError("HY092", "invalid attribute/option identifier");
    }
  });
}

// ---- environment -----------------------------------------------------------------------------------

SQLRETURN SQL_API SQLSetEnvAttr(SQLHENV henv, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER /*len*/) {
  return guarded<Env>(henv, SQL_HANDLE_ENV, [&](Env& env) -> SQLRETURN {
    if (attr == SQL_ATTR_ODBC_VERSION)
      env.odbc_version = static_cast<SQLINTEGER>(reinterpret_cast<intptr_t>(value));
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLGetEnvAttr(SQLHENV henv, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER /*buflen*/,
                                SQLINTEGER* outlen) {
  return guarded<Env>(henv, SQL_HANDLE_ENV, [&](Env& env) -> SQLRETURN {
    SQLINTEGER v = 0;
    switch (attr) {
      case SQL_ATTR_ODBC_VERSION:
        v = env.odbc_version;
        break;
      case SQL_ATTR_OUTPUT_NTS:
        v = SQL_TRUE;
        break;
      default:
        v = 0;
    }
    if (value) *static_cast<SQLINTEGER*>(value) = v;
    if (outlen) *outlen = sizeof v;
    return SQL_SUCCESS;
  });
}

// ---- connections -----------------------------------------------------------------------------------

SQLRETURN SQL_API SQLDriverConnect(SQLHDBC hdbc, SQLHWND /*hwnd*/, SQLCHAR* in, SQLSMALLINT inlen,
                                   SQLCHAR* out, SQLSMALLINT outmax, SQLSMALLINT* outlen,
                                   SQLUSMALLINT /*completion*/) {
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc& dbc) -> SQLRETURN {
    if (dbc.connected()) throw OdbcError("08002", "connection name in use: already connected");
    std::string conn = arg(in, inlen).value_or("");
    bool info = false;
    connect(dbc, conn, info);
    put(dbc, conn, out, outmax, outlen);
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLConnect(SQLHDBC hdbc, SQLCHAR* dsn, SQLSMALLINT dsnlen, SQLCHAR* uid, SQLSMALLINT uidlen,
                             SQLCHAR* pwd, SQLSMALLINT pwdlen) {
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc& dbc) -> SQLRETURN {
    if (dbc.connected()) throw OdbcError("08002", "connection name in use: already connected");
    std::string conn = "DSN={" + arg(dsn, dsnlen).value_or("") + "}";
    if (auto u = arg(uid, uidlen); u && !u->empty()) conn += ";UID={" + *u + "}";
    if (auto p = arg(pwd, pwdlen); p && !p->empty()) conn += ";PWD={" + *p + "}";
    bool info = false;
    connect(dbc, conn, info);
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLDisconnect(SQLHDBC hdbc) {
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc& dbc) -> SQLRETURN {
    if (!dbc.connected()) throw OdbcError("08003", "connection not open");
    disconnect(dbc);
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLSetConnectAttr(SQLHDBC hdbc, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER /*len*/) {
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc& dbc) -> SQLRETURN {
    auto v = static_cast<SQLUINTEGER>(reinterpret_cast<uintptr_t>(value));
    switch (attr) {
      case SQL_ATTR_LOGIN_TIMEOUT:
        dbc.login_timeout = v;
        break;
      case SQL_ATTR_AUTOCOMMIT:
        dbc.autocommit = v;
        break;
      case SQL_ATTR_ACCESS_MODE:
        if (v != SQL_MODE_READ_ONLY) dbc.add("01S02", "option value changed: the connection is read-only");
        break;
      case SQL_ATTR_CURRENT_CATALOG:
      case SQL_ATTR_TRACEFILE:
      case SQL_ATTR_TRANSLATE_LIB:
        break;  // strings: nothing to keep
      default:
        dbc.attrs[attr] = v;
    }
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLGetConnectAttr(SQLHDBC hdbc, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER buflen,
                                    SQLINTEGER* outlen) {
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc& dbc) -> SQLRETURN {
    SQLUINTEGER v = 0;
    switch (attr) {
      case SQL_ATTR_CURRENT_CATALOG:
        put(dbc, "", value, buflen, outlen);
        return SQL_SUCCESS;
      case SQL_ATTR_LOGIN_TIMEOUT:
        v = dbc.login_timeout;
        break;
      case SQL_ATTR_AUTOCOMMIT:
        v = dbc.autocommit;
        break;
      case SQL_ATTR_ACCESS_MODE:
        v = SQL_MODE_READ_ONLY;
        break;
      case SQL_ATTR_TXN_ISOLATION:
        v = 0;
        break;
      case SQL_ATTR_CONNECTION_DEAD:
        v = dbc.session && qix_session_state(dbc.session) == QIX_STATE_CONNECTED ? SQL_CD_FALSE : SQL_CD_TRUE;
        break;
      default: {
        auto it = dbc.attrs.find(attr);
        v = it == dbc.attrs.end() ? 0 : static_cast<SQLUINTEGER>(it->second);
      }
    }
    if (value) *static_cast<SQLUINTEGER*>(value) = v;
    if (outlen) *outlen = sizeof v;
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLEndTran(SQLSMALLINT /*type*/, SQLHANDLE handle, SQLSMALLINT /*completion*/) {
  return handle ? SQL_SUCCESS : SQL_INVALID_HANDLE;  // read-only: nothing to commit or roll back
}

SQLRETURN SQL_API SQLGetInfo(SQLHDBC hdbc, SQLUSMALLINT info, SQLPOINTER value, SQLSMALLINT buflen,
                             SQLSMALLINT* outlen) {
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc& dbc) -> SQLRETURN {
    auto str = [&](const std::string& s) {
      put(dbc, s, value, buflen, outlen);
      return SQL_SUCCESS;
    };
    auto u16 = [&](SQLUSMALLINT v) {
      if (value) *static_cast<SQLUSMALLINT*>(value) = v;
      if (outlen) *outlen = sizeof v;
      return SQL_SUCCESS;
    };
    auto u32 = [&](SQLUINTEGER v) {
      if (value) *static_cast<SQLUINTEGER*>(value) = v;
      if (outlen) *outlen = sizeof v;
      return SQL_SUCCESS;
    };
    switch (info) {
      case SQL_DRIVER_NAME:
        return str("libqixodbc.so");
      case SQL_DRIVER_VER:
        return str("01.00.0000");
      case SQL_DRIVER_ODBC_VER:
        return str("03.80");
      case SQL_DBMS_NAME:
        return str("Qlik QIX Engine");
      case SQL_DBMS_VER:
        return str("12.00.0000");
      case SQL_DATA_SOURCE_NAME:
      case SQL_USER_NAME:
      case SQL_CATALOG_TERM:
      case SQL_PROCEDURE_TERM:
      case SQL_SPECIAL_CHARACTERS:
      case SQL_COLLATION_SEQ:
        return str("");
      case SQL_SERVER_NAME:
      case SQL_DATABASE_NAME:
        return str(dbc.app_id);
      case SQL_IDENTIFIER_QUOTE_CHAR:
        return str("\"");
      case SQL_SEARCH_PATTERN_ESCAPE:
        return str("\\");
      case SQL_CATALOG_NAME_SEPARATOR:
        return str(".");
      case SQL_SCHEMA_TERM:
        return str("schema");
      case SQL_TABLE_TERM:
        return str("table");
      case SQL_KEYWORDS:
        return str("LIMIT");
      case SQL_XOPEN_CLI_YEAR:
        return str("1995");
      case SQL_DATA_SOURCE_READ_ONLY:
      case SQL_ACCESSIBLE_TABLES:
      case SQL_COLUMN_ALIAS:
      case SQL_ORDER_BY_COLUMNS_IN_SELECT:
        return str("Y");
      case SQL_ACCESSIBLE_PROCEDURES:
      case SQL_CATALOG_NAME:
      case SQL_EXPRESSIONS_IN_ORDERBY:
      case SQL_MULT_RESULT_SETS:
      case SQL_MULTIPLE_ACTIVE_TXN:
      case SQL_NEED_LONG_DATA_LEN:
      case SQL_OUTER_JOINS:
      case SQL_PROCEDURES:
      case SQL_ROW_UPDATES:
      case SQL_LIKE_ESCAPE_CLAUSE:
      case SQL_MAX_ROW_SIZE_INCLUDES_LONG:
      case SQL_INTEGRITY:
      case SQL_DESCRIBE_PARAMETER:
        return str("N");
      case SQL_MAX_CONCURRENT_ACTIVITIES:
      case SQL_MAX_TABLES_IN_SELECT:
        return u16(1);
      case SQL_MAX_DRIVER_CONNECTIONS:
      case SQL_MAX_COLUMN_NAME_LEN:
      case SQL_MAX_TABLE_NAME_LEN:
      case SQL_MAX_SCHEMA_NAME_LEN:
      case SQL_MAX_CATALOG_NAME_LEN:
      case SQL_MAX_CURSOR_NAME_LEN:
      case SQL_MAX_COLUMNS_IN_SELECT:
      case SQL_MAX_COLUMNS_IN_GROUP_BY:
      case SQL_MAX_COLUMNS_IN_ORDER_BY:
      case SQL_MAX_COLUMNS_IN_INDEX:
      case SQL_MAX_COLUMNS_IN_TABLE:
      case SQL_MAX_PROCEDURE_NAME_LEN:
      case SQL_MAX_USER_NAME_LEN:
      case SQL_ACTIVE_ENVIRONMENTS:
      case SQL_CATALOG_LOCATION:
        return u16(0);
      case SQL_MAX_IDENTIFIER_LEN:
        return u16(128);
      case SQL_TXN_CAPABLE:
        return u16(SQL_TC_NONE);
      case SQL_CURSOR_COMMIT_BEHAVIOR:
      case SQL_CURSOR_ROLLBACK_BEHAVIOR:
        return u16(SQL_CB_PRESERVE);
      case SQL_IDENTIFIER_CASE:
        return u16(SQL_IC_MIXED);
      case SQL_QUOTED_IDENTIFIER_CASE:
        return u16(SQL_IC_SENSITIVE);
      case SQL_NULL_COLLATION:
        return u16(SQL_NC_END);
      case SQL_GROUP_BY:
        return u16(SQL_GB_GROUP_BY_CONTAINS_SELECT);
      case SQL_CORRELATION_NAME:
        return u16(SQL_CN_ANY);
      case SQL_NON_NULLABLE_COLUMNS:
        return u16(SQL_NNC_NULL);
      case SQL_CONCAT_NULL_BEHAVIOR:
        return u16(SQL_CB_NULL);
      case SQL_FILE_USAGE:
        return u16(SQL_FILE_NOT_SUPPORTED);
      case SQL_ODBC_API_CONFORMANCE:
        return u16(SQL_OAC_LEVEL1);
      case SQL_ODBC_SQL_CONFORMANCE:
        return u16(SQL_OSC_MINIMUM);
      case SQL_GETDATA_EXTENSIONS:
        return u32(SQL_GD_ANY_COLUMN | SQL_GD_ANY_ORDER);
      case SQL_SCROLL_OPTIONS:
        return u32(SQL_SO_FORWARD_ONLY);
      case SQL_SCROLL_CONCURRENCY:
        return u32(SQL_SCCO_READ_ONLY);
      case SQL_FORWARD_ONLY_CURSOR_ATTRIBUTES1:
        return u32(SQL_CA1_NEXT);
      case SQL_FORWARD_ONLY_CURSOR_ATTRIBUTES2:
        return u32(SQL_CA2_READ_ONLY_CONCURRENCY | SQL_CA2_MAX_ROWS_SELECT);
      case SQL_SQL_CONFORMANCE:
        return u32(SQL_SC_SQL92_ENTRY);
      case SQL_ODBC_INTERFACE_CONFORMANCE:
        return u32(SQL_OIC_CORE);
      case SQL_SCHEMA_USAGE:
        return u32(SQL_SU_DML_STATEMENTS);
      case SQL_AGGREGATE_FUNCTIONS:
        return u32(SQL_AF_AVG | SQL_AF_COUNT | SQL_AF_DISTINCT | SQL_AF_MAX | SQL_AF_MIN | SQL_AF_SUM);
      case SQL_SQL92_PREDICATES:
        return u32(SQL_SP_IN | SQL_SP_COMPARISON);
      case SQL_PARAM_ARRAY_ROW_COUNTS:
        return u32(SQL_PARC_NO_BATCH);
      case SQL_PARAM_ARRAY_SELECTS:
        return u32(SQL_PAS_NO_SELECT);
      case SQL_ASYNC_MODE:
        return u32(SQL_AM_NONE);
      case SQL_CURSOR_SENSITIVITY:
        return u32(SQL_UNSPECIFIED);
      case SQL_INDEX_KEYWORDS:
        return u32(SQL_IK_NONE);
      case SQL_TXN_ISOLATION_OPTION:
      case SQL_DEFAULT_TXN_ISOLATION:
      case SQL_CATALOG_USAGE:
      case SQL_STRING_FUNCTIONS:
      case SQL_NUMERIC_FUNCTIONS:
      case SQL_TIMEDATE_FUNCTIONS:
      case SQL_SYSTEM_FUNCTIONS:
      case SQL_CONVERT_FUNCTIONS:
      case SQL_OJ_CAPABILITIES:
      case SQL_BOOKMARK_PERSISTENCE:
      case SQL_STATIC_CURSOR_ATTRIBUTES1:
      case SQL_STATIC_CURSOR_ATTRIBUTES2:
      case SQL_KEYSET_CURSOR_ATTRIBUTES1:
      case SQL_KEYSET_CURSOR_ATTRIBUTES2:
      case SQL_DYNAMIC_CURSOR_ATTRIBUTES1:
      case SQL_DYNAMIC_CURSOR_ATTRIBUTES2:
      case SQL_POS_OPERATIONS:
      case SQL_POSITIONED_STATEMENTS:
      case SQL_LOCK_TYPES:
      case SQL_STATIC_SENSITIVITY:
      case SQL_BATCH_SUPPORT:
      case SQL_BATCH_ROW_COUNT:
      case SQL_MAX_ASYNC_CONCURRENT_STATEMENTS:
      case SQL_SQL92_RELATIONAL_JOIN_OPERATORS:
      case SQL_SQL92_VALUE_EXPRESSIONS:
      case SQL_SQL92_STRING_FUNCTIONS:
      case SQL_SQL92_NUMERIC_VALUE_FUNCTIONS:
      case SQL_SQL92_DATETIME_FUNCTIONS:
      case SQL_SQL92_FOREIGN_KEY_DELETE_RULE:
      case SQL_SQL92_FOREIGN_KEY_UPDATE_RULE:
      case SQL_SQL92_GRANT:
      case SQL_SQL92_REVOKE:
      case SQL_SQL92_ROW_VALUE_CONSTRUCTOR:
      case SQL_DATETIME_LITERALS:
      case SQL_INFO_SCHEMA_VIEWS:
      case SQL_CREATE_ASSERTION:
      case SQL_CREATE_CHARACTER_SET:
      case SQL_CREATE_COLLATION:
      case SQL_CREATE_DOMAIN:
      case SQL_CREATE_SCHEMA:
      case SQL_CREATE_TABLE:
      case SQL_CREATE_TRANSLATION:
      case SQL_CREATE_VIEW:
      case SQL_DROP_ASSERTION:
      case SQL_DROP_CHARACTER_SET:
      case SQL_DROP_COLLATION:
      case SQL_DROP_DOMAIN:
      case SQL_DROP_SCHEMA:
      case SQL_DROP_TABLE:
      case SQL_DROP_TRANSLATION:
      case SQL_DROP_VIEW:
      case SQL_ALTER_TABLE:
      case SQL_ALTER_DOMAIN:
      case SQL_DDL_INDEX:
      case SQL_INSERT_STATEMENT:
      case SQL_MAX_BINARY_LITERAL_LEN:
      case SQL_MAX_CHAR_LITERAL_LEN:
      case SQL_MAX_ROW_SIZE:
      case SQL_MAX_STATEMENT_LEN:
      case SQL_MAX_INDEX_SIZE:
      case SQL_SUBQUERIES:
      case SQL_UNION:
      case SQL_TIMEDATE_ADD_INTERVALS:
      case SQL_TIMEDATE_DIFF_INTERVALS:
      case SQL_CONVERT_BIGINT:
      case SQL_CONVERT_BINARY:
      case SQL_CONVERT_BIT:
      case SQL_CONVERT_CHAR:
      case SQL_CONVERT_DATE:
      case SQL_CONVERT_DECIMAL:
      case SQL_CONVERT_DOUBLE:
      case SQL_CONVERT_FLOAT:
      case SQL_CONVERT_INTEGER:
      case SQL_CONVERT_LONGVARCHAR:
      case SQL_CONVERT_NUMERIC:
      case SQL_CONVERT_REAL:
      case SQL_CONVERT_SMALLINT:
      case SQL_CONVERT_TIME:
      case SQL_CONVERT_TIMESTAMP:
      case SQL_CONVERT_TINYINT:
      case SQL_CONVERT_VARBINARY:
      case SQL_CONVERT_VARCHAR:
      case SQL_CONVERT_LONGVARBINARY:
      case SQL_CONVERT_WCHAR:
      case SQL_CONVERT_WVARCHAR:
      case SQL_CONVERT_WLONGVARCHAR:
      case SQL_CONVERT_GUID:
      case SQL_ASYNC_DBC_FUNCTIONS:
        return u32(0);
      default:
        throw OdbcError("HY096", "information type out of range: " + std::to_string(info));
    }
  });
}

SQLRETURN SQL_API SQLGetFunctions(SQLHDBC hdbc, SQLUSMALLINT id, SQLUSMALLINT* supported) {
  static const SQLUSMALLINT fns[] = {
      SQL_API_SQLALLOCHANDLE,   SQL_API_SQLFREEHANDLE,     SQL_API_SQLSETENVATTR,     SQL_API_SQLGETENVATTR,
      SQL_API_SQLDRIVERCONNECT, SQL_API_SQLCONNECT,        SQL_API_SQLDISCONNECT,     SQL_API_SQLGETINFO,
      SQL_API_SQLGETFUNCTIONS,  SQL_API_SQLSETCONNECTATTR, SQL_API_SQLGETCONNECTATTR, SQL_API_SQLSETSTMTATTR,
      SQL_API_SQLGETSTMTATTR,   SQL_API_SQLEXECDIRECT,     SQL_API_SQLPREPARE,        SQL_API_SQLEXECUTE,
      SQL_API_SQLNUMRESULTCOLS, SQL_API_SQLDESCRIBECOL,    SQL_API_SQLCOLATTRIBUTE,   SQL_API_SQLBINDCOL,
      SQL_API_SQLFETCH,         SQL_API_SQLFETCHSCROLL,    SQL_API_SQLGETDATA,        SQL_API_SQLROWCOUNT,
      SQL_API_SQLMORERESULTS,   SQL_API_SQLCLOSECURSOR,    SQL_API_SQLFREESTMT,       SQL_API_SQLCANCEL,
      SQL_API_SQLTABLES,        SQL_API_SQLCOLUMNS,        SQL_API_SQLGETTYPEINFO,    SQL_API_SQLGETDIAGREC,
      SQL_API_SQLGETDIAGFIELD,  SQL_API_SQLENDTRAN,        SQL_API_SQLPRIMARYKEYS,    SQL_API_SQLFOREIGNKEYS,
      SQL_API_SQLSTATISTICS,    SQL_API_SQLSPECIALCOLUMNS, SQL_API_SQLPROCEDURES};
  return guarded<Dbc>(hdbc, SQL_HANDLE_DBC, [&](Dbc&) -> SQLRETURN {
    if (!supported) return SQL_SUCCESS;
    if (id == SQL_API_ODBC3_ALL_FUNCTIONS) {
      std::memset(supported, 0, sizeof(SQLUSMALLINT) * SQL_API_ODBC3_ALL_FUNCTIONS_SIZE);
      for (SQLUSMALLINT f : fns) supported[f >> 4] |= static_cast<SQLUSMALLINT>(1 << (f & 0xF));
    } else if (id == SQL_API_ALL_FUNCTIONS) {
      std::memset(supported, 0, sizeof(SQLUSMALLINT) * 100);
      for (SQLUSMALLINT f : fns)
        if (f < 100) supported[f] = SQL_TRUE;
    } else {
      *supported = std::find(std::begin(fns), std::end(fns), id) != std::end(fns) ? SQL_TRUE : SQL_FALSE;
    }
    return SQL_SUCCESS;
  });
}

// ---- statements ------------------------------------------------------------------------------------

SQLRETURN SQL_API SQLSetStmtAttr(SQLHSTMT hstmt, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER /*len*/) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    auto v = reinterpret_cast<SQLULEN>(value);
    switch (attr) {
      case SQL_ATTR_ROW_ARRAY_SIZE:
      case SQL_ROWSET_SIZE:
        if (v == 0) throw OdbcError("HY024", "invalid attribute value: the row array size must be 1 or more");
        st.row_array_size = v;
        break;
      case SQL_ATTR_ROWS_FETCHED_PTR:
        st.rows_fetched_ptr = static_cast<SQLULEN*>(value);
        break;
      case SQL_ATTR_ROW_STATUS_PTR:
        st.row_status_ptr = static_cast<SQLUSMALLINT*>(value);
        break;
      case SQL_ATTR_ROW_BIND_TYPE:
        st.bind_type = v;
        break;
      case SQL_ATTR_ROW_BIND_OFFSET_PTR:
        st.bind_offset_ptr = static_cast<SQLLEN*>(value);
        break;
      case SQL_ATTR_QUERY_TIMEOUT:
        st.query_timeout = v;
        break;
      case SQL_ATTR_MAX_ROWS:
        st.max_rows = v;
        break;
      case SQL_ATTR_CURSOR_TYPE:
        if (v != SQL_CURSOR_FORWARD_ONLY) st.add("01S02", "option value changed: only forward-only cursors");
        break;
      case SQL_ATTR_CONCURRENCY:
        if (v != SQL_CONCUR_READ_ONLY) st.add("01S02", "option value changed: read-only");
        break;
      case SQL_ATTR_CURSOR_SCROLLABLE:
        if (v != SQL_NONSCROLLABLE) st.add("01S02", "option value changed: only forward-only cursors");
        break;
      case SQL_ATTR_ASYNC_ENABLE:
        if (v != SQL_ASYNC_ENABLE_OFF) st.add("01S02", "option value changed: no asynchronous execution");
        break;
      default:
        st.attrs[attr] = v;
    }
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLGetStmtAttr(SQLHSTMT hstmt, SQLINTEGER attr, SQLPOINTER value, SQLINTEGER /*buflen*/,
                                 SQLINTEGER* outlen) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    auto ptr = [&](void* p) {
      if (value) *static_cast<SQLPOINTER*>(value) = p;
      if (outlen) *outlen = sizeof(SQLPOINTER);
      return SQL_SUCCESS;
    };
    SQLULEN v = 0;
    switch (attr) {
      case SQL_ATTR_APP_ROW_DESC:
        return ptr(st.desc_dummy[0]);
      case SQL_ATTR_APP_PARAM_DESC:
        return ptr(st.desc_dummy[1]);
      case SQL_ATTR_IMP_ROW_DESC:
        return ptr(st.desc_dummy[2]);
      case SQL_ATTR_IMP_PARAM_DESC:
        return ptr(st.desc_dummy[3]);
      case SQL_ATTR_ROWS_FETCHED_PTR:
        return ptr(st.rows_fetched_ptr);
      case SQL_ATTR_ROW_STATUS_PTR:
        return ptr(st.row_status_ptr);
      case SQL_ATTR_ROW_BIND_OFFSET_PTR:
        return ptr(st.bind_offset_ptr);
      case SQL_ATTR_ROW_ARRAY_SIZE:
      case SQL_ROWSET_SIZE:
        v = st.row_array_size;
        break;
      case SQL_ATTR_ROW_BIND_TYPE:
        v = st.bind_type;
        break;
      case SQL_ATTR_QUERY_TIMEOUT:
        v = st.query_timeout;
        break;
      case SQL_ATTR_MAX_ROWS:
        v = st.max_rows;
        break;
      case SQL_ATTR_CURSOR_TYPE:
        v = SQL_CURSOR_FORWARD_ONLY;
        break;
      case SQL_ATTR_CONCURRENCY:
        v = SQL_CONCUR_READ_ONLY;
        break;
      case SQL_ATTR_CURSOR_SCROLLABLE:
        v = SQL_NONSCROLLABLE;
        break;
      case SQL_ATTR_ROW_NUMBER:
        v = st.rs && st.on_row ? static_cast<SQLULEN>(st.rs->total_fetched) : 0;
        break;
      default: {
        auto it = st.attrs.find(attr);
        v = it == st.attrs.end() ? 0 : it->second;
      }
    }
    if (value) *static_cast<SQLULEN*>(value) = v;
    if (outlen) *outlen = sizeof v;
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLExecDirect(SQLHSTMT hstmt, SQLCHAR* sql, SQLINTEGER len) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    st.has_prepared = false;
    execute(st, arg(sql, len).value_or(""));
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLPrepare(SQLHSTMT hstmt, SQLCHAR* sql, SQLINTEGER len) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    close_cursor(st);
    st.prepared = arg(sql, len).value_or("");
    st.has_prepared = true;
    st.attrs.erase(-1);
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLExecute(SQLHSTMT hstmt) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    if (!st.has_prepared) throw OdbcError("HY010", "function sequence error: no prepared statement");
    if (st.attrs.erase(-1) && st.rs) return SQL_SUCCESS;  // already run to describe its result
    execute(st, st.prepared);
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLNumResultCols(SQLHSTMT hstmt, SQLSMALLINT* count) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    ensure_result(st);
    if (count) *count = st.rs ? static_cast<SQLSMALLINT>(st.rs->columns.size()) : 0;
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLDescribeCol(SQLHSTMT hstmt, SQLUSMALLINT n, SQLCHAR* name, SQLSMALLINT buflen,
                                 SQLSMALLINT* namelen, SQLSMALLINT* type, SQLULEN* size, SQLSMALLINT* digits,
                                 SQLSMALLINT* nullable) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    ensure_result(st);
    const ColumnInfo& c = column(st, n);
    put(st, c.name, name, buflen, namelen);
    if (type) *type = c.sql_type;
    if (size) *size = c.size;
    if (digits) *digits = 0;
    if (nullable) *nullable = c.nullable;
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLColAttribute(SQLHSTMT hstmt, SQLUSMALLINT n, SQLUSMALLINT field, SQLPOINTER chars,
                                  SQLSMALLINT buflen, SQLSMALLINT* outlen, SQLLEN* num) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    ensure_result(st);
    if (field == SQL_DESC_COUNT || field == SQL_COLUMN_COUNT) {
      if (num) *num = st.rs ? static_cast<SQLLEN>(st.rs->columns.size()) : 0;
      return SQL_SUCCESS;
    }
    const ColumnInfo& c = column(st, n);
    auto str = [&](const std::string& s) {
      put(st, s, chars, buflen, outlen);
      return SQL_SUCCESS;
    };
    auto number = [&](SQLLEN v) {
      if (num) *num = v;
      return SQL_SUCCESS;
    };
    const bool is_char = c.sql_type == SQL_VARCHAR;
    switch (field) {
      case SQL_DESC_NAME:
      case SQL_COLUMN_NAME:
      case SQL_DESC_LABEL:
      case SQL_DESC_BASE_COLUMN_NAME:
        return str(c.name);
      case SQL_DESC_TYPE_NAME:
      case SQL_DESC_LOCAL_TYPE_NAME:
        return str(type_name(c.sql_type));
      case SQL_DESC_TABLE_NAME:
      case SQL_DESC_BASE_TABLE_NAME:
        return str(c.table);
      case SQL_DESC_SCHEMA_NAME:
        return str(c.schema);
      case SQL_DESC_CATALOG_NAME:
        return str("");
      case SQL_DESC_LITERAL_PREFIX:
      case SQL_DESC_LITERAL_SUFFIX:
        return str(is_char ? "'" : "");
      case SQL_DESC_TYPE:
        return number(c.sql_type == SQL_TYPE_DATE || c.sql_type == SQL_TYPE_TIMESTAMP ? SQL_DATETIME
                                                                                      : c.sql_type);
      case SQL_DESC_CONCISE_TYPE:
        return number(c.sql_type);
      case SQL_DESC_LENGTH:
      case SQL_COLUMN_LENGTH:
      case SQL_DESC_PRECISION:
      case SQL_COLUMN_PRECISION:
        return number(static_cast<SQLLEN>(c.size));
      case SQL_DESC_OCTET_LENGTH:
        return number(is_char ? static_cast<SQLLEN>(c.size * 4) : 8);
      case SQL_DESC_DISPLAY_SIZE:
        return number(static_cast<SQLLEN>(display_size(c)));
      case SQL_DESC_SCALE:
      case SQL_COLUMN_SCALE:
        return number(0);
      case SQL_DESC_NULLABLE:
      case SQL_COLUMN_NULLABLE:
        return number(c.nullable);
      case SQL_DESC_UNSIGNED:
        return number(is_char ? SQL_TRUE : SQL_FALSE);
      case SQL_DESC_AUTO_UNIQUE_VALUE:
      case SQL_DESC_FIXED_PREC_SCALE:
        return number(SQL_FALSE);
      case SQL_DESC_CASE_SENSITIVE:
        return number(is_char ? SQL_TRUE : SQL_FALSE);
      case SQL_DESC_SEARCHABLE:
        return number(SQL_PRED_BASIC);
      case SQL_DESC_UPDATABLE:
        return number(SQL_ATTR_READONLY);
      case SQL_DESC_NUM_PREC_RADIX:
        return number(c.sql_type == SQL_BIGINT ? 10 : c.sql_type == SQL_DOUBLE ? 2 : 0);
      case SQL_DESC_UNNAMED:
        return number(SQL_NAMED);
      default:
        throw OdbcError("HY091", "invalid descriptor field identifier " + std::to_string(field));
    }
  });
}

SQLRETURN SQL_API SQLBindCol(SQLHSTMT hstmt, SQLUSMALLINT n, SQLSMALLINT ctype, SQLPOINTER ptr, SQLLEN buflen,
                             SQLLEN* ind) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    if (n == 0) throw OdbcError("07009", "invalid descriptor index: bookmarks are not supported");
    if (st.bindings.size() < n) st.bindings.resize(n);
    st.bindings[n - 1] = ColumnBinding{ctype, ptr, buflen, ind};
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLFetch(SQLHSTMT hstmt) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN { return fetch_rowset(st); });
}

SQLRETURN SQL_API SQLFetchScroll(SQLHSTMT hstmt, SQLSMALLINT orientation, SQLLEN /*offset*/) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    if (orientation != SQL_FETCH_NEXT)
      throw OdbcError("HY106", "fetch type out of range: the cursor is forward-only (SQL_FETCH_NEXT)");
    return fetch_rowset(st);
  });
}

SQLRETURN SQL_API SQLGetData(SQLHSTMT hstmt, SQLUSMALLINT n, SQLSMALLINT ctype, SQLPOINTER ptr, SQLLEN buflen,
                             SQLLEN* ind) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    if (!st.rs || !st.on_row) throw OdbcError("24000", "invalid cursor state: no current row");
    const ColumnInfo& c = column(st, n);
    if (st.getdata_col != n) {
      st.getdata_col = n;
      st.getdata_offset = 0;
    }
    return convert(st, st.rowset[0][n - 1], c.sql_type, ctype, ptr, buflen, ind, &st.getdata_offset);
  });
}

SQLRETURN SQL_API SQLRowCount(SQLHSTMT hstmt, SQLLEN* count) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt&) -> SQLRETURN {
    if (count) *count = -1;
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLMoreResults(SQLHSTMT hstmt) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    close_cursor(st);
    return SQL_NO_DATA;
  });
}

SQLRETURN SQL_API SQLCloseCursor(SQLHSTMT hstmt) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    if (!st.rs) throw OdbcError("24000", "invalid cursor state: no cursor open");
    close_cursor(st);
    return SQL_SUCCESS;
  });
}

// Not guarded: runs while another thread is inside a function on the same statement, whose diagnostics it
// must not clear.
SQLRETURN SQL_API SQLCancel(SQLHSTMT hstmt) {
  auto* st = static_cast<Stmt*>(hstmt);
  if (!st || st->type != SQL_HANDLE_STMT) return SQL_INVALID_HANDLE;
  cancel(*st);
  return SQL_SUCCESS;
}

// ---- catalog ---------------------------------------------------------------------------------------

SQLRETURN SQL_API SQLTables(SQLHSTMT hstmt, SQLCHAR* cat, SQLSMALLINT catlen, SQLCHAR* schema,
                            SQLSMALLINT schemalen, SQLCHAR* table, SQLSMALLINT tablelen, SQLCHAR* types,
                            SQLSMALLINT typeslen) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    tables(st, arg(cat, catlen), arg(schema, schemalen), arg(table, tablelen), arg(types, typeslen));
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLColumns(SQLHSTMT hstmt, SQLCHAR* /*cat*/, SQLSMALLINT /*catlen*/, SQLCHAR* schema,
                             SQLSMALLINT schemalen, SQLCHAR* table, SQLSMALLINT tablelen, SQLCHAR* col,
                             SQLSMALLINT collen) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    columns(st, arg(schema, schemalen), arg(table, tablelen), arg(col, collen));
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLGetTypeInfo(SQLHSTMT hstmt, SQLSMALLINT type) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    type_info(st, type);
    return SQL_SUCCESS;
  });
}

// The data model has no primary keys, foreign keys, indexes, row identifiers or procedures: these return an
// empty result with the columns ODBC defines, so that tools that ask (LibreOffice, DBeaver, Tableau) go on.

SQLRETURN SQL_API SQLPrimaryKeys(SQLHSTMT hstmt, SQLCHAR*, SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*,
                                 SQLSMALLINT) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    empty_catalog(st, {"TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME"});
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLForeignKeys(SQLHSTMT hstmt, SQLCHAR*, SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*,
                                 SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*,
                                 SQLSMALLINT) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    empty_catalog(st, {"PKTABLE_CAT", "PKTABLE_SCHEM", "PKTABLE_NAME", "PKCOLUMN_NAME", "FKTABLE_CAT",
                       "FKTABLE_SCHEM", "FKTABLE_NAME", "FKCOLUMN_NAME", "KEY_SEQ", "UPDATE_RULE",
                       "DELETE_RULE", "FK_NAME", "PK_NAME", "DEFERRABILITY"});
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLStatistics(SQLHSTMT hstmt, SQLCHAR*, SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*,
                                SQLSMALLINT, SQLUSMALLINT, SQLUSMALLINT) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    empty_catalog(
        st, {"TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "NON_UNIQUE", "INDEX_QUALIFIER", "INDEX_NAME", "TYPE",
             "ORDINAL_POSITION", "COLUMN_NAME", "ASC_OR_DESC", "CARDINALITY", "PAGES", "FILTER_CONDITION"});
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLSpecialColumns(SQLHSTMT hstmt, SQLUSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*,
                                    SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLUSMALLINT, SQLUSMALLINT) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    empty_catalog(st, {"SCOPE", "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "BUFFER_LENGTH",
                       "DECIMAL_DIGITS", "PSEUDO_COLUMN"});
    return SQL_SUCCESS;
  });
}

SQLRETURN SQL_API SQLProcedures(SQLHSTMT hstmt, SQLCHAR*, SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLCHAR*,
                                SQLSMALLINT) {
  return guarded<Stmt>(hstmt, SQL_HANDLE_STMT, [&](Stmt& st) -> SQLRETURN {
    empty_catalog(st, {"PROCEDURE_CAT", "PROCEDURE_SCHEM", "PROCEDURE_NAME", "NUM_INPUT_PARAMS",
                       "NUM_OUTPUT_PARAMS", "NUM_RESULT_SETS", "REMARKS", "PROCEDURE_TYPE"});
    return SQL_SUCCESS;
  });
}

// ---- diagnostics -----------------------------------------------------------------------------------

SQLRETURN SQL_API SQLGetDiagRec(SQLSMALLINT type, SQLHANDLE handle, SQLSMALLINT rec, SQLCHAR* state,
                                SQLINTEGER* native, SQLCHAR* msg, SQLSMALLINT buflen, SQLSMALLINT* msglen) {
  auto* h = static_cast<Handle*>(handle);
  if (!h || h->type != type) return SQL_INVALID_HANDLE;
  if (rec <= 0) return SQL_ERROR;
  if (static_cast<std::size_t>(rec) > h->diags.size()) return SQL_NO_DATA;
  const DiagRecord& d = h->diags[static_cast<std::size_t>(rec - 1)];
  if (state) std::memcpy(state, d.state.c_str(), 6);
  if (native) *native = d.native;
  if (msglen) *msglen = static_cast<SQLSMALLINT>(d.message.size());
  if (msg && buflen > 0) {
    const auto n = std::min(d.message.size(), static_cast<std::size_t>(buflen - 1));
    std::memcpy(msg, d.message.data(), n);
    msg[n] = '\0';
    if (n < d.message.size()) return SQL_SUCCESS_WITH_INFO;
  }
  return SQL_SUCCESS;
}

SQLRETURN SQL_API SQLGetDiagField(SQLSMALLINT type, SQLHANDLE handle, SQLSMALLINT rec, SQLSMALLINT field,
                                  SQLPOINTER info, SQLSMALLINT buflen, SQLSMALLINT* outlen) {
  auto* h = static_cast<Handle*>(handle);
  if (!h || h->type != type) return SQL_INVALID_HANDLE;
  auto str = [&](const std::string& s) {
    if (outlen) *outlen = static_cast<SQLSMALLINT>(s.size());
    if (info && buflen > 0) {
      const auto n = std::min(s.size(), static_cast<std::size_t>(buflen - 1));
      std::memcpy(info, s.data(), n);
      static_cast<char*>(info)[n] = '\0';
    }
    return SQL_SUCCESS;
  };
  if (rec == 0) {  // header fields
    switch (field) {
      case SQL_DIAG_NUMBER:
        if (info) *static_cast<SQLINTEGER*>(info) = static_cast<SQLINTEGER>(h->diags.size());
        return SQL_SUCCESS;
      case SQL_DIAG_RETURNCODE:
        if (info) *static_cast<SQLRETURN*>(info) = h->last_rc;
        return SQL_SUCCESS;
      case SQL_DIAG_ROW_COUNT:
      case SQL_DIAG_CURSOR_ROW_COUNT:
        if (info) *static_cast<SQLLEN*>(info) = -1;
        return SQL_SUCCESS;
      case SQL_DIAG_DYNAMIC_FUNCTION:
        return str("SELECT CURSOR");
      case SQL_DIAG_DYNAMIC_FUNCTION_CODE:
        if (info) *static_cast<SQLINTEGER*>(info) = SQL_DIAG_SELECT_CURSOR;
        return SQL_SUCCESS;
      default:
        return SQL_ERROR;
    }
  }
  if (rec < 0) return SQL_ERROR;
  if (static_cast<std::size_t>(rec) > h->diags.size()) return SQL_NO_DATA;
  const DiagRecord& d = h->diags[static_cast<std::size_t>(rec - 1)];
  switch (field) {
    case SQL_DIAG_SQLSTATE:
      return str(d.state);
    case SQL_DIAG_NATIVE:
      if (info) *static_cast<SQLINTEGER*>(info) = d.native;
      return SQL_SUCCESS;
    case SQL_DIAG_MESSAGE_TEXT:
      return str(d.message);
    case SQL_DIAG_CLASS_ORIGIN:
    case SQL_DIAG_SUBCLASS_ORIGIN:
      return str(d.state.rfind("IM", 0) == 0 ? "ODBC 3.0" : "ISO 9075");
    case SQL_DIAG_CONNECTION_NAME:
    case SQL_DIAG_SERVER_NAME:
      return str("");
    case SQL_DIAG_COLUMN_NUMBER:
      if (info) *static_cast<SQLINTEGER*>(info) = SQL_COLUMN_NUMBER_UNKNOWN;
      return SQL_SUCCESS;
    case SQL_DIAG_ROW_NUMBER:
      if (info) *static_cast<SQLLEN*>(info) = SQL_ROW_NUMBER_UNKNOWN;
      return SQL_SUCCESS;
    default:
      return SQL_ERROR;
  }
}

// NOLINTEND(readability-inconsistent-declaration-parameter-name)

}  // extern "C"
