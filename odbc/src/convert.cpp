// Conversions of result cells to the C types an application asks for (SQLGetData, SQLBindCol).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "driver.hpp"

namespace qix::odbc {
namespace {

// Days since 1970-01-01 -> civil date (the well-known proleptic Gregorian algorithm).
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

// A Qlik date serial (days since 1899-12-30, fraction = time of day) -> its parts.
struct DateTime {
  int year;
  unsigned month, day, hour, minute, second;
};
DateTime from_serial(double serial) {
  const double days = std::floor(serial);
  auto secs = static_cast<std::int64_t>(std::llround((serial - days) * 86400.0));
  std::int64_t day = static_cast<std::int64_t>(days) - 25569;  // 1899-12-30 -> 1970-01-01
  if (secs >= 86400) {
    secs -= 86400;
    ++day;
  }
  DateTime dt{};
  civil_from_days(day, dt.year, dt.month, dt.day);
  dt.hour = static_cast<unsigned>(secs / 3600);
  dt.minute = static_cast<unsigned>(secs / 60 % 60);
  dt.second = static_cast<unsigned>(secs % 60);
  return dt;
}

std::string number_text(double v, SQLSMALLINT sql_type) {
  char buf[64];
  if ((sql_type == SQL_BIGINT || sql_type == SQL_INTEGER || sql_type == SQL_SMALLINT || std::floor(v) == v) &&
      std::fabs(v) < 9.2e18) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// UTF-8 -> UTF-16 (SQLWCHAR is 2 bytes with unixODBC); invalid bytes become U+FFFD.
std::u16string to_utf16(const std::string& s) {
  std::u16string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 6 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      len = 2;
    } else if ((c >> 4) == 14 && i + 2 < s.size()) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      len = 3;
    } else if ((c >> 3) == 30 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      len = 4;
    }
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

// Copies bytes [offset, end) of @p data into a buffer of @p buflen bytes with a terminator of @p term bytes.
SQLRETURN copy_piece(Handle& h, const char* data, std::size_t size, std::size_t term, SQLPOINTER ptr,
                     SQLLEN buflen, SQLLEN* ind, std::size_t* offset) {
  std::size_t off = offset ? *offset : 0;
  if (offset && off > 0 && off >= size) return SQL_NO_DATA;
  const std::size_t remaining = size - off;
  if (ind) *ind = static_cast<SQLLEN>(remaining);
  if (!ptr || buflen <= 0) {
    if (remaining == 0 && term == 0) return SQL_SUCCESS;
    if (remaining > 0 || term > 0) {
      h.add("01004", "string data, right truncated");
      return SQL_SUCCESS_WITH_INFO;
    }
  }
  const auto cap = static_cast<std::size_t>(buflen);
  if (cap < term) {
    h.add("01004", "string data, right truncated");
    return SQL_SUCCESS_WITH_INFO;
  }
  std::size_t room = cap - term;
  if (term == 2) room &= ~std::size_t{1};
  const std::size_t n = std::min(room, remaining);
  std::memcpy(ptr, data + off, n);
  std::memset(static_cast<char*>(ptr) + n, 0, term);
  if (n < remaining) {
    if (offset) *offset = off + n;
    h.add("01004", "string data, right truncated");
    return SQL_SUCCESS_WITH_INFO;
  }
  if (offset) *offset = size == 0 ? 1 : size;  // all returned: the next call gives SQL_NO_DATA
  return SQL_SUCCESS;
}

double cell_number(const Cell& cell, SQLSMALLINT sql_type) {
  if (sql_type != SQL_VARCHAR && sql_type != SQL_WVARCHAR) return cell.num;
  const char* b = cell.text.c_str();
  const char* e = b + cell.text.size();
  while (b < e && *b == ' ') ++b;
  double v = 0;
  auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e)
    throw OdbcError("22018", "invalid character value for cast: '" + cell.text + "'");
  return v;
}

template <class T>
SQLRETURN put_int(const Cell& cell, SQLSMALLINT sql_type, SQLPOINTER ptr, SQLLEN* ind) {
  double v = cell_number(cell, sql_type);
  double t = std::trunc(v);
  if (t < static_cast<double>(std::numeric_limits<T>::min()) ||
      t > static_cast<double>(std::numeric_limits<T>::max()))
    throw OdbcError("22003", "numeric value out of range");
  if (ptr) *static_cast<T*>(ptr) = static_cast<T>(t);
  if (ind) *ind = sizeof(T);
  return SQL_SUCCESS;
}

}  // namespace

const char* type_name(SQLSMALLINT sql_type) {
  switch (sql_type) {
    case SQL_BIGINT:
      return "BIGINT";
    case SQL_INTEGER:
      return "INTEGER";
    case SQL_SMALLINT:
      return "SMALLINT";
    case SQL_DOUBLE:
      return "DOUBLE";
    case SQL_TYPE_DATE:
      return "DATE";
    case SQL_TYPE_TIMESTAMP:
      return "TIMESTAMP";
    case SQL_WVARCHAR:
      return "WVARCHAR";
    default:
      return "VARCHAR";
  }
}

SQLULEN type_size(SQLSMALLINT sql_type) {
  switch (sql_type) {
    case SQL_BIGINT:
      return 19;
    case SQL_INTEGER:
      return 10;
    case SQL_SMALLINT:
      return 5;
    case SQL_DOUBLE:
      return 15;
    case SQL_TYPE_DATE:
      return 10;
    case SQL_TYPE_TIMESTAMP:
      return 19;
    default:
      return 255;
  }
}

std::string cell_text(const Cell& cell, SQLSMALLINT sql_type) {
  switch (sql_type) {
    case SQL_VARCHAR:
    case SQL_WVARCHAR:
      return cell.text;
    case SQL_TYPE_DATE:
    case SQL_TYPE_TIMESTAMP: {
      DateTime dt = from_serial(cell.num);
      char buf[48];
      if (sql_type == SQL_TYPE_DATE)
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", dt.year, dt.month, dt.day);
      else
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02u:%02u:%02u", dt.year, dt.month, dt.day, dt.hour,
                      dt.minute, dt.second);
      return buf;
    }
    default:
      return number_text(cell.num, sql_type);
  }
}

SQLRETURN convert(Handle& h, const Cell& cell, SQLSMALLINT sql_type, SQLSMALLINT ctype, SQLPOINTER ptr,
                  SQLLEN buflen, SQLLEN* ind, std::size_t* offset) {
  if (cell.null) {
    if (offset && *offset > 0) return SQL_NO_DATA;
    if (!ind) throw OdbcError("22002", "indicator variable required but not supplied");
    *ind = SQL_NULL_DATA;
    if (offset) *offset = 1;
    return SQL_SUCCESS;
  }
  if (ctype == SQL_C_DEFAULT) {
    switch (sql_type) {
      case SQL_BIGINT:
        ctype = SQL_C_SBIGINT;
        break;
      case SQL_INTEGER:
        ctype = SQL_C_SLONG;
        break;
      case SQL_SMALLINT:
        ctype = SQL_C_SSHORT;
        break;
      case SQL_DOUBLE:
        ctype = SQL_C_DOUBLE;
        break;
      case SQL_TYPE_DATE:
        ctype = SQL_C_TYPE_DATE;
        break;
      case SQL_TYPE_TIMESTAMP:
        ctype = SQL_C_TYPE_TIMESTAMP;
        break;
      default:
        ctype = SQL_C_CHAR;
    }
  }
  // Fixed-size types are returned whole, once.
  if (ctype != SQL_C_CHAR && ctype != SQL_C_WCHAR && ctype != SQL_C_BINARY && offset) {
    if (*offset > 0) return SQL_NO_DATA;
    *offset = 1;
  }
  switch (ctype) {
    case SQL_C_CHAR: {
      std::string s = cell_text(cell, sql_type);
      return copy_piece(h, s.data(), s.size(), 1, ptr, buflen, ind, offset);
    }
    case SQL_C_BINARY: {
      std::string s = cell_text(cell, sql_type);
      return copy_piece(h, s.data(), s.size(), 0, ptr, buflen, ind, offset);
    }
    case SQL_C_WCHAR: {
      std::u16string w = to_utf16(cell_text(cell, sql_type));
      return copy_piece(h, reinterpret_cast<const char*>(w.data()), w.size() * 2, 2, ptr, buflen, ind,
                        offset);
    }
    case SQL_C_DOUBLE:
      if (ptr) *static_cast<double*>(ptr) = cell_number(cell, sql_type);
      if (ind) *ind = sizeof(double);
      return SQL_SUCCESS;
    case SQL_C_FLOAT:
      if (ptr) *static_cast<float*>(ptr) = static_cast<float>(cell_number(cell, sql_type));
      if (ind) *ind = sizeof(float);
      return SQL_SUCCESS;
    case SQL_C_SBIGINT:
      return put_int<std::int64_t>(cell, sql_type, ptr, ind);
    case SQL_C_UBIGINT:
      return put_int<std::uint64_t>(cell, sql_type, ptr, ind);
    case SQL_C_LONG:
    case SQL_C_SLONG:
      return put_int<std::int32_t>(cell, sql_type, ptr, ind);
    case SQL_C_ULONG:
      return put_int<std::uint32_t>(cell, sql_type, ptr, ind);
    case SQL_C_SHORT:
    case SQL_C_SSHORT:
      return put_int<std::int16_t>(cell, sql_type, ptr, ind);
    case SQL_C_USHORT:
      return put_int<std::uint16_t>(cell, sql_type, ptr, ind);
    case SQL_C_TINYINT:
    case SQL_C_STINYINT:
      return put_int<std::int8_t>(cell, sql_type, ptr, ind);
    case SQL_C_UTINYINT:
      return put_int<std::uint8_t>(cell, sql_type, ptr, ind);
    case SQL_C_BIT: {
      double v = cell_number(cell, sql_type);
      if (ptr) *static_cast<unsigned char*>(ptr) = v != 0 ? 1 : 0;
      if (ind) *ind = 1;
      return SQL_SUCCESS;
    }
    case SQL_C_TYPE_DATE:
    case SQL_C_DATE:
    case SQL_C_TYPE_TIMESTAMP:
    case SQL_C_TIMESTAMP: {
      if (sql_type != SQL_TYPE_DATE && sql_type != SQL_TYPE_TIMESTAMP)
        throw OdbcError("07006", "restricted data type attribute violation: the column is not a date");
      DateTime dt = from_serial(cell.num);
      if (ctype == SQL_C_TYPE_DATE || ctype == SQL_C_DATE) {
        SQL_DATE_STRUCT d{static_cast<SQLSMALLINT>(dt.year), static_cast<SQLUSMALLINT>(dt.month),
                          static_cast<SQLUSMALLINT>(dt.day)};
        if (ptr) std::memcpy(ptr, &d, sizeof d);
        if (ind) *ind = sizeof d;
      } else {
        SQL_TIMESTAMP_STRUCT t{static_cast<SQLSMALLINT>(dt.year),
                               static_cast<SQLUSMALLINT>(dt.month),
                               static_cast<SQLUSMALLINT>(dt.day),
                               static_cast<SQLUSMALLINT>(dt.hour),
                               static_cast<SQLUSMALLINT>(dt.minute),
                               static_cast<SQLUSMALLINT>(dt.second),
                               0};
        if (ptr) std::memcpy(ptr, &t, sizeof t);
        if (ind) *ind = sizeof t;
      }
      return SQL_SUCCESS;
    }
    default:
      throw OdbcError("HYC00", "conversion to C type " + std::to_string(ctype) + " is not implemented");
  }
}

}  // namespace qix::odbc
