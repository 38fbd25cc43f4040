// The C API's library functions, errors and contexts through libqix.so, as users link it; no connection
// needed (options: options_test.cpp).
#include "capi_support.hpp"

#include <string>
#include <thread>

using namespace qix::test;

TEST(CapiBasics, VersionMatchesMacros) {
  EXPECT_STREQ(qix_version(), QIX_VERSION_STRING);
  std::string expected = std::to_string(QIX_VERSION_MAJOR) + "." + std::to_string(QIX_VERSION_MINOR) + "." +
                         std::to_string(QIX_VERSION_PATCH);
  EXPECT_EQ(expected, qix_version());
  EXPECT_EQ(QIX_VERSION_MAJOR, 1);
}

TEST(CapiBasics, StatusCodesAreStable) {
  EXPECT_EQ(QIX_OK, 0);
  EXPECT_EQ(QIX_EINVAL, -1);
  EXPECT_EQ(QIX_ECLOSED, -2);
  EXPECT_EQ(QIX_EENGINE, -3);
  EXPECT_EQ(QIX_ETIMEOUT, -4);
  EXPECT_EQ(QIX_ECANCELLED, -5);
  EXPECT_EQ(QIX_ECONNECTION, -6);
  EXPECT_EQ(QIX_ENOTFOUND, -7);
  EXPECT_EQ(QIX_EPROTOCOL, -8);
  EXPECT_EQ(QIX_ETOOLARGE, -9);
  EXPECT_EQ(QIX_EHTTP, -10);
  EXPECT_EQ(QIX_ETLS, -11);
  EXPECT_EQ(QIX_ENETWORK, -12);
  EXPECT_EQ(QIX_EBUSY, -13);
  EXPECT_EQ(QIX_ENOMEM, -14);
  EXPECT_EQ(QIX_EINTERNAL, -15);
  for (int s = 0; s >= -15; --s) EXPECT_STRNE(qix_strerror(s), "unknown status") << s;
  EXPECT_STREQ(qix_strerror(-1000), "unknown status");
}

TEST(CapiBasics, ErrorLastIsThreadLocal) {
  qix_error_clear();
  EXPECT_EQ(qix_error_last(), nullptr);
  EXPECT_EQ(qix_options_new(nullptr), QIX_EINVAL);
  const qix_error* e = qix_error_last();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(qix_error_code(e), QIX_EINVAL);
  EXPECT_STRNE(qix_error_message(e), "");
  EXPECT_EQ(qix_error_engine_code(e), 0);
  EXPECT_STREQ(qix_error_name(e), "");
  EXPECT_STREQ(qix_error_parameter(e), "");
  EXPECT_EQ(qix_error_is_retriable(e), 0);
  std::thread([] { EXPECT_EQ(qix_error_last(), nullptr); }).join();

  qix_error* copy = nullptr;
  ASSERT_EQ(qix_error_dup(&copy, e), QIX_OK);
  qix_error_clear();
  EXPECT_EQ(qix_error_code(copy), QIX_EINVAL);
  qix_error_free(copy);
  qix_error_free(nullptr);
  EXPECT_EQ(qix_error_dup(nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_error_dup(&copy, nullptr), QIX_EINVAL);
  EXPECT_EQ(copy, nullptr);
}

TEST(CapiBasics, NullGettersAreSafe) {
  EXPECT_EQ(qix_error_code(nullptr), QIX_EINVAL);
  EXPECT_STREQ(qix_error_message(nullptr), "");
  EXPECT_EQ(qix_result_status(nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_result_error(nullptr), nullptr);
  EXPECT_EQ(qix_result_id(nullptr), 0);
  EXPECT_STREQ(qix_result_json(nullptr), "null");
  EXPECT_STREQ(qix_result_raw(nullptr), "null");
  EXPECT_EQ(qix_object_handle(nullptr), 0);
  EXPECT_STREQ(qix_object_type(nullptr), "");
  EXPECT_STREQ(qix_object_generic_id(nullptr), "");
  EXPECT_STREQ(qix_object_generic_type(nullptr), "");
  EXPECT_EQ(qix_object_is_valid(nullptr), 0);
  EXPECT_EQ(qix_object_is_closed(nullptr), 1);
  EXPECT_EQ(qix_session_state(nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_pending_calls(nullptr), QIX_EINVAL);
  // Every free/close accepts NULL.
  qix_free(nullptr);
  qix_result_free(nullptr);
  qix_object_free(nullptr);
  qix_session_close(nullptr);
  qix_session_free(nullptr);
  qix_options_free(nullptr);
  qix_context_free(nullptr);
}

TEST(CapiBasics, NullArgumentsGiveEinval) {
  char* text = nullptr;
  qix_object* obj = nullptr;
  qix_result* res = nullptr;
  int64_t id = 0;
  uint64_t lid = 0;
  EXPECT_EQ(qix_session_call(&id, nullptr, "Evaluate", "[]", 0, -1, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_call_sync(&res, nullptr, "Evaluate", "[]", 0, -1), QIX_EINVAL);
  EXPECT_EQ(qix_session_call_sync(nullptr, nullptr, "Evaluate", "[]", 0, -1), QIX_EINVAL);
  EXPECT_EQ(qix_session_cancel(nullptr, 1), QIX_EINVAL);
  EXPECT_EQ(qix_session_global(&obj, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_global(nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_doc(&obj, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_on_state(&lid, nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_on_notification(&lid, nullptr, nullptr, 0, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_remove_listener(nullptr, 1), QIX_EINVAL);
  EXPECT_EQ(qix_session_notifications(&text, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_notifications(nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_poll(nullptr, 0), QIX_EINVAL);
  EXPECT_EQ(qix_session_wake(nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_close_info(nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_wait_closed(nullptr, -1), QIX_EINVAL);
  EXPECT_EQ(qix_session_open(nullptr, nullptr, nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_session_open_sync(nullptr, nullptr, nullptr, 0), QIX_EINVAL);
  EXPECT_EQ(qix_object_layout(&text, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_layout(nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_call(&id, nullptr, "GetLayout", "[]", 0, -1, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_call_sync(&res, nullptr, "GetLayout", "[]", 0, -1), QIX_EINVAL);
  EXPECT_EQ(qix_object_on_changed(&lid, nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_on_closed(&lid, nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_remove_listener(nullptr, 1), QIX_EINVAL);
  EXPECT_EQ(qix_object_watch(nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_unwatch(nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_dup(&obj, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(nullptr, "/qHyperCubeDef", 0, 0, nullptr, nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_result_object(&obj, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_result_object(nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_context_new(nullptr, 0, 0), QIX_EINVAL);
}

TEST(CapiBasics, Contexts) {
  qix_context* c = nullptr;
  ASSERT_EQ(qix_context_new(&c, 2, 1), QIX_OK);
  ASSERT_NE(c, nullptr);
  qix_context_free(c);
  EXPECT_EQ(qix_context_new(&c, -1, 0), QIX_EINVAL);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(qix_context_set_io_spin(nullptr, 50), QIX_OK);  // the default context
  EXPECT_EQ(qix_context_set_io_spin(nullptr, -1), QIX_EINVAL);
  qix_context* d = qix_context_default();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d, qix_context_default());
  qix_context_free(d);  // ignored for the default context
  EXPECT_EQ(d, qix_context_default());
}
