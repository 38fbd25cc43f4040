// Unit tests of the ODBC driver's SQL subset parser and connection-string splitter (odbc/src/sql.*).
#include <gtest/gtest.h>

#include "sql.hpp"

using namespace qix::odbc;

namespace {

std::string error_of(const std::string& sql) {
  try {
    parse(sql);
  } catch (const SqlError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Sql, SelectColumnsFromTable) {
  Query q = parse("select Region, \"Region Manager\" AS m, [Odd]]Name] from data.Regions;");
  ASSERT_EQ(q.items.size(), 3u);
  EXPECT_EQ(q.items[0].column, "Region");
  EXPECT_EQ(q.items[1].column, "Region Manager");
  EXPECT_EQ(q.items[1].alias, "m");
  EXPECT_EQ(q.items[2].column, "Odd]Name");
  EXPECT_EQ(q.schema, "data");
  EXPECT_EQ(q.table, "Regions");
  EXPECT_FALSE(q.star);
  EXPECT_FALSE(q.limit.has_value());
}

TEST(Sql, StarDistinctQualifiedAndAlias) {
  Query q = parse("SELECT DISTINCT * FROM Orders o");
  EXPECT_TRUE(q.star);
  EXPECT_TRUE(q.distinct);
  EXPECT_EQ(q.table, "Orders");
  q = parse("SELECT o.Region FROM Orders AS o");
  EXPECT_EQ(q.items[0].column, "Region");
}

TEST(Sql, Aggregates) {
  Query q = parse(
      "SELECT Region, SUM(Sales) total, COUNT(*), count(distinct CustomerId), AVG(Sales), MIN(Sales), "
      "MAX(Sales), COUNT(Sales) FROM Orders GROUP BY Region");
  ASSERT_EQ(q.items.size(), 8u);
  EXPECT_EQ(q.items[1].agg, Agg::Sum);
  EXPECT_EQ(q.items[1].alias, "total");
  EXPECT_EQ(q.items[2].agg, Agg::CountStar);
  EXPECT_EQ(q.items[3].agg, Agg::CountDistinct);
  EXPECT_EQ(q.items[3].column, "CustomerId");
  EXPECT_EQ(q.items[4].agg, Agg::Avg);
  EXPECT_EQ(q.items[5].agg, Agg::Min);
  EXPECT_EQ(q.items[6].agg, Agg::Max);
  EXPECT_EQ(q.items[7].agg, Agg::Count);
  EXPECT_EQ(q.group_by, std::vector<std::string>{"Region"});
  EXPECT_EQ(output_name(q.items[2]), "COUNT(*)");
  EXPECT_EQ(output_name(q.items[3]), "COUNT(DISTINCT CustomerId)");
  EXPECT_EQ(output_name(q.items[1]), "total");
}

TEST(Sql, PassThroughExpression) {
  Query q = parse("SELECT Region, \"=Sum(Sales)/Count(OrderId)\" AS avg_order FROM Orders GROUP BY Region");
  EXPECT_EQ(q.items[1].agg, Agg::Expr);
  EXPECT_EQ(q.items[1].column, "=Sum(Sales)/Count(OrderId)");
  EXPECT_EQ(output_name(q.items[1]), "avg_order");
}

TEST(Sql, WhereOrderLimit) {
  Query q = parse(
      "SELECT Region, Sales FROM Orders WHERE Region = 'It''s' AND Year IN (2020, -1.5e1) "
      "ORDER BY Sales DESC, 1 ASC LIMIT 10");
  ASSERT_EQ(q.where.size(), 2u);
  EXPECT_EQ(q.where[0].column, "Region");
  ASSERT_EQ(q.where[0].values.size(), 1u);
  EXPECT_FALSE(q.where[0].values[0].is_number);
  EXPECT_EQ(q.where[0].values[0].text, "It's");
  ASSERT_EQ(q.where[1].values.size(), 2u);
  EXPECT_TRUE(q.where[1].values[0].is_number);
  EXPECT_EQ(q.where[1].values[0].number, 2020);
  EXPECT_EQ(q.where[1].values[1].number, -15);
  ASSERT_EQ(q.order_by.size(), 2u);
  EXPECT_EQ(q.order_by[0].name, "Sales");
  EXPECT_TRUE(q.order_by[0].descending);
  EXPECT_EQ(q.order_by[1].ordinal, 1);
  EXPECT_FALSE(q.order_by[1].descending);
  EXPECT_EQ(q.limit, 10);
}

TEST(Sql, CommentsAndCase) {
  Query q = parse("-- a comment\n select /* inline */ x from t limit 3 -- end");
  EXPECT_EQ(q.items[0].column, "x");
  EXPECT_EQ(q.limit, 3);
}

// Every construct outside the subset is named in the error.
TEST(Sql, UnsupportedConstructsAreNamed) {
  EXPECT_NE(error_of("SELECT a FROM t JOIN u ON t.a = u.a").find("JOIN"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t, u").find("join"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a = 1 OR a = 2").find("OR"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a > 1").find("'>'"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a LIKE 'x%'").find("LIKE"), std::string::npos);
  EXPECT_NE(error_of("SELECT a, SUM(b) FROM t GROUP BY a HAVING SUM(b) = 1").find("HAVING"),
            std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t UNION SELECT a FROM u").find("UNION"), std::string::npos);
  EXPECT_NE(error_of("SELECT upper(a) FROM t").find("upper()"), std::string::npos);
  EXPECT_NE(error_of("SELECT a + 1 FROM t").find("arithmetic"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM (SELECT a FROM t)").find("subquery"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a IN (SELECT a FROM u)").find("subquery"), std::string::npos);
  EXPECT_NE(error_of("INSERT INTO t VALUES (1)").find("INSERT"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t LIMIT 5 OFFSET 2").find("OFFSET"), std::string::npos);
  EXPECT_NE(error_of("SELECT TOP 5 a FROM t").find("TOP"), std::string::npos);
  EXPECT_NE(error_of("SELECT SUM(DISTINCT a) FROM t").find("SUM(DISTINCT"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a = ?").find("parameter"), std::string::npos);
  EXPECT_NE(error_of("{fn NOW()}").find("escape"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a IS NULL").find("IS"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("SELECT 'x' FROM t").find("literal"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t WHERE a = 'x").find("unterminated"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM t garbage more").find("unexpected"), std::string::npos);
  EXPECT_NE(error_of("SELECT a FROM").find("end of the statement"), std::string::npos);
}

TEST(Sql, ConnectionString) {
  auto kv = parse_connection_string(
      "Driver={libqix};Url=ws://h:1/app/x; Bearer = {a;b}}c} ;Header.X-Qlik-User=UserDirectory=D; "
      "UserId=u;;");
  ASSERT_EQ(kv.size(), 5u);
  EXPECT_EQ(kv[0].first, "Driver");
  EXPECT_EQ(kv[0].second, "libqix");
  EXPECT_EQ(kv[1].second, "ws://h:1/app/x");
  EXPECT_EQ(kv[2].first, "Bearer");
  EXPECT_EQ(kv[2].second, "a;b}c");
  EXPECT_EQ(kv[3].first, "Header.X-Qlik-User");
  EXPECT_EQ(kv[3].second, "UserDirectory=D");
  EXPECT_EQ(kv[4].first, "UserId");
  EXPECT_EQ(kv[4].second, "u");
  EXPECT_THROW(parse_connection_string("Url={ws://x"), SqlError);
  EXPECT_THROW(parse_connection_string("Url=ws://x;junk"), SqlError);
  EXPECT_TRUE(parse_connection_string("").empty());
}
