// Tests of the LOCERR table (generated from the Engine API specification; MIT, (c) QlikTech International AB)
// and of the Error type's helpers that use it.
#include "rpc/locerr.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "rpc/error.hpp"

namespace qix::core {
namespace {

TEST(Locerr, KnownCodes) {
  const LocerrInfo* e = find_locerr(1007);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, 1007);
  EXPECT_EQ(e->name, "LOCERR_APP_INVALID");
  EXPECT_EQ(e->message, "App invalid");

  e = find_locerr(15);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "LOCERR_GENERIC_ABORTED");

  e = find_locerr(-32601);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "LOCERR_JSON_RPC_METHOD_NOT_FOUND");
  EXPECT_EQ(e->message, "Method does not exist");
}

TEST(Locerr, FirstAndLastEntriesAreFound) {
  const auto table = locerr_table();
  ASSERT_FALSE(table.empty());
  EXPECT_EQ(find_locerr(table.front().code), &table.front());
  EXPECT_EQ(find_locerr(table.back().code), &table.back());
  EXPECT_EQ(table.front().code, -32700);
}

TEST(Locerr, UnknownCodes) {
  EXPECT_EQ(find_locerr(123456), nullptr);
  EXPECT_EQ(find_locerr(-32701), nullptr);
  EXPECT_EQ(find_locerr(-2), nullptr);
  EXPECT_EQ(find_locerr(2147483647), nullptr);
  EXPECT_EQ(find_locerr(-2147483647 - 1), nullptr);
}

TEST(Locerr, TableSortedUniqueAndWellFormed) {
  const auto table = locerr_table();
  EXPECT_EQ(table.size(), 332u);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(table[i - 1].code, table[i].code) << i;
    }
    EXPECT_EQ(table[i].name.rfind("LOCERR_", 0), 0u) << table[i].name;
    EXPECT_FALSE(table[i].message.empty()) << table[i].name;
    EXPECT_TRUE(names.insert(table[i].name).second) << "duplicate " << table[i].name;
  }
}

TEST(Locerr, ErrorEngineFillsName) {
  Error e = Error::engine(1007, "No active document", "App invalid");
  EXPECT_EQ(e.kind, ErrorKind::engine);
  EXPECT_TRUE(static_cast<bool>(e));
  EXPECT_EQ(e.code, 1007);
  EXPECT_EQ(e.name, "LOCERR_APP_INVALID");
  EXPECT_EQ(e.parameter, "No active document");
  EXPECT_EQ(e.message, "App invalid");
  EXPECT_EQ(e.describe(), "engine error 1007 LOCERR_APP_INVALID: App invalid (No active document)");
  EXPECT_FALSE(e.retriable());

  Error unknown = Error::engine(424242, "", "Something");
  EXPECT_EQ(unknown.name, "");
  EXPECT_EQ(unknown.describe(), "engine error 424242: Something");
}

TEST(Locerr, DescribeFallsBackToTableMessage) {
  EXPECT_EQ(Error::engine(2, "", "").describe(),
            "engine error 2 LOCERR_GENERIC_NOT_FOUND: Resource not found");
  EXPECT_EQ(Error::engine(999999, "ctx", "").describe(), "engine error 999999: (ctx)");
}

TEST(Locerr, DescribeLibraryErrors) {
  EXPECT_EQ(Error{}.describe(), "no error");
  EXPECT_EQ(Error::make(ErrorKind::timeout, "no answer in 30 s").describe(), "timeout: no answer in 30 s");
  EXPECT_EQ(Error::make(ErrorKind::closed, "").describe(), "closed");
  Error http = Error::make(ErrorKind::http_status, "Unauthorized");
  http.code = 401;
  EXPECT_EQ(http.describe(), "HTTP 401: Unauthorized");
  http.message.clear();
  EXPECT_EQ(http.describe(), "HTTP 401");
}

TEST(Locerr, Retriable) {
  EXPECT_TRUE(Error::engine(15, "", "Request aborted").retriable());
  EXPECT_TRUE(Error::make(ErrorKind::timeout, "").retriable());
  EXPECT_TRUE(Error::make(ErrorKind::connection_lost, "").retriable());
  EXPECT_FALSE(Error::make(ErrorKind::cancelled, "").retriable());
  EXPECT_FALSE(Error::make(ErrorKind::network, "").retriable());
  EXPECT_FALSE(Error{}.retriable());
  Error not_engine = Error::make(ErrorKind::http_status, "");
  not_engine.code = 15;
  EXPECT_FALSE(not_engine.retriable());
}

TEST(Locerr, KindNames) {
  EXPECT_STREQ(to_string(ErrorKind::none), "none");
  EXPECT_STREQ(to_string(ErrorKind::engine), "engine");
  EXPECT_STREQ(to_string(ErrorKind::connection_lost), "connection_lost");
  EXPECT_STREQ(to_string(ErrorKind::message_too_large), "message_too_large");
  EXPECT_STREQ(to_string(ErrorKind::http_status), "http_status");
  EXPECT_STREQ(to_string(ErrorKind::internal), "internal");
  std::set<std::string> names;
  for (int k = 0; k <= static_cast<int>(ErrorKind::internal); ++k) {
    EXPECT_TRUE(names.insert(to_string(static_cast<ErrorKind>(k))).second) << k;
  }
}

}  // namespace
}  // namespace qix::core
