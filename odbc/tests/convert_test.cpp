// Unit tests of the ODBC driver's cell conversions (odbc/src/convert.cpp): SQLGetData/SQLBindCol semantics
// without a driver manager.
#include <gtest/gtest.h>

#include <cstring>

#include "driver.hpp"

using namespace qix::odbc;

namespace {

Cell num(double v) {
  Cell c;
  c.null = false;
  c.num = v;
  return c;
}
Cell text(const std::string& s) {
  Cell c;
  c.null = false;
  c.text = s;
  return c;
}

std::string state_of(const Cell& cell, SQLSMALLINT sql_type, SQLSMALLINT ctype, SQLLEN* ind) {
  Handle h(SQL_HANDLE_STMT);
  char buf[64];
  try {
    convert(h, cell, sql_type, ctype, buf, sizeof buf, ind, nullptr);
  } catch (const OdbcError& e) {
    return e.state;
  }
  return "";
}

}  // namespace

TEST(Convert, NumbersAsText) {
  EXPECT_EQ(cell_text(num(42), SQL_BIGINT), "42");
  EXPECT_EQ(cell_text(num(-7), SQL_DOUBLE), "-7");
  EXPECT_EQ(cell_text(num(2.25), SQL_DOUBLE), "2.25");
  EXPECT_EQ(cell_text(num(0.1), SQL_DOUBLE), "0.1");  // shortest round trip
  EXPECT_EQ(cell_text(text("x"), SQL_VARCHAR), "x");
}

TEST(Convert, DateSerials) {
  EXPECT_EQ(cell_text(num(45000), SQL_TYPE_DATE), "2023-03-15");
  EXPECT_EQ(cell_text(num(45000.75), SQL_TYPE_TIMESTAMP), "2023-03-15 18:00:00");
  EXPECT_EQ(cell_text(num(1), SQL_TYPE_DATE), "1899-12-31");
  Handle h(SQL_HANDLE_STMT);
  SQL_TIMESTAMP_STRUCT ts{};
  SQLLEN ind = 0;
  ASSERT_EQ(convert(h, num(45000.5), SQL_TYPE_TIMESTAMP, SQL_C_TYPE_TIMESTAMP, &ts, sizeof ts, &ind, nullptr),
            SQL_SUCCESS);
  EXPECT_EQ(ts.year, 2023);
  EXPECT_EQ(ts.month, 3);
  EXPECT_EQ(ts.day, 15);
  EXPECT_EQ(ts.hour, 12);
  EXPECT_EQ(ind, static_cast<SQLLEN>(sizeof ts));
}

TEST(Convert, CharactersInPiecesAndUtf16) {
  Handle h(SQL_HANDLE_STMT);
  char buf[4];
  SQLLEN ind = 0;
  std::size_t off = 0;
  std::string got;
  EXPECT_EQ(convert(h, text("Åsa!"), SQL_VARCHAR, SQL_C_CHAR, buf, sizeof buf, &ind, &off),
            SQL_SUCCESS_WITH_INFO);
  EXPECT_EQ(ind, 5);  // bytes left, UTF-8
  got += buf;
  EXPECT_EQ(h.diags.back().state, "01004");
  EXPECT_EQ(convert(h, text("Åsa!"), SQL_VARCHAR, SQL_C_CHAR, buf, sizeof buf, &ind, &off), SQL_SUCCESS);
  got += buf;
  EXPECT_EQ(got, "Åsa!");
  EXPECT_EQ(convert(h, text("Åsa!"), SQL_VARCHAR, SQL_C_CHAR, buf, sizeof buf, &ind, &off), SQL_NO_DATA);

  char16_t w[8] = {};
  off = 0;
  ASSERT_EQ(convert(h, text("Åsa"), SQL_VARCHAR, SQL_C_WCHAR, w, sizeof w, &ind, &off), SQL_SUCCESS);
  EXPECT_EQ(ind, 6);  // bytes
  EXPECT_EQ(std::u16string(w), u"Åsa");
  off = 0;
  ASSERT_EQ(convert(h, text("𝄞"), SQL_VARCHAR, SQL_C_WCHAR, w, sizeof w, &ind, &off), SQL_SUCCESS);
  EXPECT_EQ(std::u16string(w), u"𝄞");  // a surrogate pair
}

TEST(Convert, NumbersAndErrors) {
  Handle h(SQL_HANDLE_STMT);
  std::int64_t i = 0;
  SQLLEN ind = 0;
  EXPECT_EQ(convert(h, num(12), SQL_BIGINT, SQL_C_SBIGINT, &i, 8, &ind, nullptr), SQL_SUCCESS);
  EXPECT_EQ(i, 12);
  double d = 0;
  EXPECT_EQ(convert(h, text(" 2.5"), SQL_VARCHAR, SQL_C_DOUBLE, &d, 8, &ind, nullptr), SQL_SUCCESS);
  EXPECT_EQ(d, 2.5);
  EXPECT_EQ(convert(h, num(3), SQL_DOUBLE, SQL_C_DEFAULT, &d, 8, &ind, nullptr), SQL_SUCCESS);
  EXPECT_EQ(d, 3);
  EXPECT_EQ(state_of(text("abc"), SQL_VARCHAR, SQL_C_SLONG, &ind), "22018");
  EXPECT_EQ(state_of(num(1e12), SQL_DOUBLE, SQL_C_SLONG, &ind), "22003");
  EXPECT_EQ(state_of(num(300), SQL_BIGINT, SQL_C_UTINYINT, &ind), "22003");
  EXPECT_EQ(state_of(Cell{}, SQL_BIGINT, SQL_C_SBIGINT, nullptr), "22002");
  EXPECT_EQ(state_of(text("x"), SQL_VARCHAR, SQL_C_TYPE_DATE, &ind), "07006");
  EXPECT_EQ(state_of(Cell{}, SQL_BIGINT, SQL_C_SBIGINT, &ind), "");
  EXPECT_EQ(ind, SQL_NULL_DATA);
}
