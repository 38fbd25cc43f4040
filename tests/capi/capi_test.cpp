// Tests of the C API (qix.h) through libqix.so, as users link it, against the engine simulator over real
// loopback sockets. Only qix.h (and the simulator's own header, to start it) are used here.
#include "qix/qix.h"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Waits for a condition set from callbacks.
class Waiter {
 public:
  void notify(std::function<void()> fn = {}) {
    // Notified under the lock: the waiting test may destroy this Waiter as soon as it sees the count.
    std::lock_guard lock(mutex_);
    if (fn) fn();
    ++count_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

std::string hypercube_props(const std::string& id, const std::vector<std::string>& dims,
                            const std::vector<std::string>& measures, int fetch = 20) {
  std::string d, m;
  for (auto& f : dims) d += (d.empty() ? "" : ",") + std::string(R"({"qDef":{"qFieldDefs":[")") + f + "\"]}}";
  for (auto& e : measures) m += (m.empty() ? "" : ",") + std::string(R"({"qDef":{"qDef":")") + e + "\"}}";
  int width = static_cast<int>(dims.size() + measures.size());
  return R"([{"qInfo":{"qId":")" + id + R"(","qType":"table"},"qHyperCubeDef":{"qDimensions":[)" + d +
         R"(],"qMeasures":[)" + m + R"(],"qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":)" +
         std::to_string(width) + R"(,"qHeight":)" + std::to_string(fetch) + "}]}}]";
}

struct SessionDeleter {
  void operator()(qix_session* s) const { qix_session_free(s); }
};
struct ObjectDeleter {
  void operator()(qix_object* o) const { qix_object_free(o); }
};
struct ResultDeleter {
  void operator()(qix_result* r) const { qix_result_free(r); }
};
struct OptionsDeleter {
  void operator()(qix_options* o) const { qix_options_free(o); }
};
using SessionPtr = std::unique_ptr<qix_session, SessionDeleter>;
using ObjectPtr = std::unique_ptr<qix_object, ObjectDeleter>;
using ResultPtr = std::unique_ptr<qix_result, ResultDeleter>;
using OptionsPtr = std::unique_ptr<qix_options, OptionsDeleter>;

std::string take(char* s) {
  std::string out = s ? s : "";
  qix_free(s);
  return out;
}

class CapiTest : public ::testing::Test {
 protected:
  void start_sim(qix::sim::Options o = {}) {
    sim_ = std::make_unique<qix::sim::Server>(o);
    sim_->start();
  }
  void SetUp() override { start_sim(); }
  void TearDown() override {
    if (sim_) sim_->stop();
  }

  OptionsPtr options(const std::string& path = "/app/demo") {
    qix_options* o = nullptr;
    EXPECT_EQ(qix_options_new(&o), QIX_OK);
    EXPECT_EQ(qix_options_set_str(o, "url", (sim_->url() + path).c_str()), QIX_OK);
    return OptionsPtr(o);
  }

  SessionPtr open(qix_options* o = nullptr) {
    OptionsPtr own;
    if (!o) {
      own = options();
      o = own.get();
    }
    qix_session* s = nullptr;
    int rc = qix_session_open_sync(&s, nullptr, o, 10000);
    EXPECT_EQ(rc, QIX_OK) << (qix_error_last() ? qix_error_message(qix_error_last()) : "");
    return SessionPtr(s);
  }

  ObjectPtr open_doc(qix_session* s, const char* app = "demo") {
    qix_result* r = nullptr;
    std::string params = std::string("[\"") + app + "\"]";
    EXPECT_EQ(qix_session_call_sync(&r, s, "OpenDoc", params.c_str(), 0, -1), QIX_OK);
    ResultPtr res(r);
    qix_object* doc = nullptr;
    EXPECT_EQ(qix_result_object(&doc, r), QIX_OK);
    return ObjectPtr(doc);
  }

  ObjectPtr create_cube(qix_object* doc, const std::string& props) {
    qix_result* r = nullptr;
    EXPECT_EQ(qix_object_call_sync(&r, doc, "CreateSessionObject", props.c_str(), 0, -1), QIX_OK)
        << (qix_error_last() ? qix_error_message(qix_error_last()) : "");
    ResultPtr res(r);
    qix_object* obj = nullptr;
    EXPECT_EQ(qix_result_object(&obj, r), QIX_OK);
    return ObjectPtr(obj);
  }

  std::unique_ptr<qix::sim::Server> sim_;
};

// ---------------------------------------------------------------------------------------------------------
// Library, errors, options, contexts (no connection needed)

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

TEST(CapiBasics, Options) {
  qix_options* o = nullptr;
  ASSERT_EQ(qix_options_new(&o), QIX_OK);
  OptionsPtr guard(o);
  // URL builder parts.
  EXPECT_EQ(qix_options_set_str(o, "url.host", "qlik.example.com"), QIX_OK);
  EXPECT_EQ(qix_options_set_int(o, "url.port", 4848), QIX_OK);
  EXPECT_EQ(qix_options_set_bool(o, "url.secure", 1), QIX_OK);
  EXPECT_EQ(qix_options_set_str(o, "url.prefix", "/proxy/"), QIX_OK);
  EXPECT_EQ(qix_options_set_str(o, "url.app_id", "my app"), QIX_OK);
  EXPECT_EQ(qix_options_set_int(o, "url.ttl", 30), QIX_OK);
  EXPECT_EQ(qix_options_add_url_param(o, "reloadUri", "http://x"), QIX_OK);
  char* url = nullptr;
  ASSERT_EQ(qix_options_get_url(&url, o), QIX_OK);
  EXPECT_EQ(take(url), "wss://qlik.example.com:4848/proxy/app/my%20app/ttl/30?reloadUri=http%3A%2F%2Fx");
  EXPECT_EQ(qix_options_set_str(o, "url", "ws://127.0.0.1:9076/app/x"), QIX_OK);
  ASSERT_EQ(qix_options_get_url(&url, o), QIX_OK);
  EXPECT_EQ(take(url), "ws://127.0.0.1:9076/app/x");

  for (const char* name : {"url.subpath", "url.route", "url.identity", "origin", "user_agent", "tls.ca_file",
                           "tls.ca_dir", "tls.cert_file", "tls.key_file", "tls.server_name"}) {
    EXPECT_EQ(qix_options_set_str(o, name, "x"), QIX_OK) << name;
  }
  for (const char* name : {"timeout.connect_ms", "timeout.handshake_ms", "timeout.call_ms", "keepalive_ms",
                           "max_message_size", "notification_history", "watch.min_interval_ms"}) {
    EXPECT_EQ(qix_options_set_int(o, name, 4096), QIX_OK) << name;
  }
  for (const char* name : {"tls.verify", "delta", "events.poll"}) {
    EXPECT_EQ(qix_options_set_bool(o, name, 0), QIX_OK) << name;
  }
  for (const char* policy : {"none", "attach", "resume"}) {
    EXPECT_EQ(qix_options_set_str(o, "reconnect", policy), QIX_OK) << policy;
  }
  EXPECT_EQ(qix_options_set_str(o, "reconnect", "always"), QIX_EINVAL);
  for (const char* name : {"reconnect.max_attempts", "reconnect.initial_delay_ms", "reconnect.max_delay_ms",
                           "reconnect.greeting_wait_ms", "retry.aborted"}) {
    EXPECT_EQ(qix_options_set_int(o, name, 3), QIX_OK) << name;
    EXPECT_EQ(qix_options_set_int(o, name, -1), QIX_EINVAL) << name;
  }
  EXPECT_EQ(qix_options_set_int(o, "reconnect.max_attempts", 0), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_int(o, "retry.aborted", 101), QIX_EINVAL);
  for (const char* name : {"reconnect.queue_calls", "reconnect.resend"}) {
    EXPECT_EQ(qix_options_set_bool(o, name, 1), QIX_OK) << name;
  }
  EXPECT_EQ(qix_options_add_header(o, "Authorization", "Bearer t"), QIX_OK);
  EXPECT_EQ(qix_options_add_cookie(o, "X-Qlik-Session", "abc"), QIX_OK);
  EXPECT_EQ(qix_options_set_traffic_cb(o, nullptr, nullptr), QIX_OK);

  // Errors: unknown names, wrong types, bad values, NULLs.
  EXPECT_EQ(qix_options_set_str(o, "no.such", "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_int(o, "url.host", 1), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_bool(o, "url.port", 1), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_int(o, "url.port", 70000), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_int(o, "timeout.call_ms", -1), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_int(o, "max_message_size", 10), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_str(o, nullptr, "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_str(o, "url", nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_str(nullptr, "url", "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_int(nullptr, "url.port", 1), QIX_EINVAL);
  EXPECT_EQ(qix_options_set_bool(nullptr, "delta", 1), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_header(o, "", "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_header(nullptr, "a", "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_cookie(o, nullptr, "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_url_param(o, "a", nullptr), QIX_EINVAL);
  EXPECT_EQ(qix_options_get_url(&url, nullptr), QIX_EINVAL);
  EXPECT_EQ(url, nullptr);
  EXPECT_EQ(qix_options_set_traffic_cb(nullptr, nullptr, nullptr), QIX_EINVAL);
}

TEST(CapiBasics, Contexts) {
  qix_context* c = nullptr;
  ASSERT_EQ(qix_context_new(&c, 2, 1), QIX_OK);
  ASSERT_NE(c, nullptr);
  qix_context_free(c);
  EXPECT_EQ(qix_context_new(&c, -1, 0), QIX_EINVAL);
  EXPECT_EQ(c, nullptr);
  qix_context* d = qix_context_default();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d, qix_context_default());
  qix_context_free(d);  // ignored for the default context
  EXPECT_EQ(d, qix_context_default());
}

// ---------------------------------------------------------------------------------------------------------
// Sessions

TEST_F(CapiTest, OpenSyncCallAndUnwrap) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, -1), QIX_OK);
  ResultPtr res(r);
  EXPECT_EQ(qix_result_status(r), QIX_OK);
  EXPECT_EQ(qix_result_error(r), nullptr);
  EXPECT_GT(qix_result_id(r), 0);
  // EngineVersion's single out parameter qVersion is unwrapped; the raw result keeps it.
  EXPECT_EQ(std::string(qix_result_json(r)).find("qVersion"), std::string::npos);
  EXPECT_NE(std::string(qix_result_json(r)).find("qComponentVersion"), std::string::npos);
  EXPECT_NE(std::string(qix_result_raw(r)).find("\"qVersion\""), std::string::npos);
  qix_object* none = nullptr;
  EXPECT_EQ(qix_result_object(&none, r), QIX_ENOTFOUND);

  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  EXPECT_STREQ(qix_object_type(doc.get()), "Doc");
  EXPECT_GT(qix_object_handle(doc.get()), 0);
  EXPECT_EQ(qix_object_is_closed(doc.get()), 0);
  // qReturn first: Evaluate gives a JSON string.
  ASSERT_EQ(qix_object_call_sync(&r, doc.get(), "Evaluate", R"(["1+1"])", 0, -1), QIX_OK);
  EXPECT_STREQ(qix_result_json(r), "\"2\"");
  qix_result_free(r);
  // Named params work too.
  ASSERT_EQ(qix_object_call_sync(&r, doc.get(), "Evaluate", R"({"qExpression":"2*3"})", 0, -1), QIX_OK);
  EXPECT_STREQ(qix_result_json(r), "\"6\"");
  qix_result_free(r);

  qix_object* d2 = nullptr;
  ASSERT_EQ(qix_session_doc(&d2, s.get()), QIX_OK);
  EXPECT_EQ(qix_object_handle(d2), qix_object_handle(doc.get()));
  qix_object_free(d2);
  qix_object* g = nullptr;
  ASSERT_EQ(qix_session_global(&g, s.get()), QIX_OK);
  EXPECT_EQ(qix_object_handle(g), -1);
  EXPECT_STREQ(qix_object_type(g), "Global");
  qix_object_free(g);
}

TEST_F(CapiTest, CallByHandleNumber) {
  auto s = open();
  auto doc = open_doc(s.get());
  int h = qix_object_handle(doc.get());
  // Sync: the doc's handle by number reaches the doc; -1 reaches Global.
  qix_result* r = nullptr;
  ASSERT_EQ(qix_session_call_handle_sync(&r, s.get(), h, "Evaluate", R"(["2+2"])", 0, -1), QIX_OK);
  EXPECT_STREQ(qix_result_json(r), "\"4\"");
  qix_result_free(r);
  ASSERT_EQ(qix_session_call_handle_sync(&r, s.get(), -1, "GetActiveDoc", nullptr, 0, -1), QIX_OK);
  qix_object* d2 = nullptr;
  ASSERT_EQ(qix_result_object(&d2, r), QIX_OK);
  EXPECT_EQ(qix_object_handle(d2), h);
  qix_object_free(d2);
  qix_result_free(r);
  // A handle this session does not have open: refused locally, nothing is sent.
  EXPECT_EQ(qix_session_call_handle_sync(&r, s.get(), 4242, "GetLayout", nullptr, 0, -1), QIX_EINVAL);
  EXPECT_EQ(r, nullptr);
  ASSERT_NE(qix_error_last(), nullptr);
  EXPECT_NE(std::string(qix_error_message(qix_error_last())).find("handle 4242 is not open"), std::string::npos);
  // Async: completes once through the callback.
  struct Ctx {
    Waiter* w;
    int status = 1;
    std::string json;
  } ctx{};
  Waiter w;
  ctx.w = &w;
  int64_t id = 0;
  ASSERT_EQ(qix_session_call_handle(
                &id, s.get(), h, "Evaluate", R"(["3*3"])", 0, -1,
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  c->w->notify([&] {
                    c->status = qix_result_status(res);
                    c->json = qix_result_json(res);
                  });
                },
                &ctx),
            QIX_OK);
  EXPECT_GT(id, 0);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(ctx.status, QIX_OK);
  EXPECT_EQ(ctx.json, "\"9\"");
  EXPECT_EQ(w.count(), 1);
  // Bad arguments.
  EXPECT_EQ(qix_session_call_handle_sync(&r, nullptr, h, "Evaluate", nullptr, 0, -1), QIX_EINVAL);
  EXPECT_EQ(qix_session_call_handle_sync(&r, s.get(), h, nullptr, nullptr, 0, -1), QIX_EINVAL);
  EXPECT_EQ(qix_session_call_handle(nullptr, s.get(), h, "Evaluate", "[oops", 0, -1, nullptr, nullptr), QIX_EINVAL);
  qix_session_close(s.get());
  EXPECT_EQ(qix_session_call_handle_sync(&r, s.get(), h, "Evaluate", R"(["1"])", 0, -1), QIX_ECLOSED);
}

TEST_F(CapiTest, NoDocGivesNotFound) {
  auto s = open();
  qix_object* d = nullptr;
  EXPECT_EQ(qix_session_doc(&d, s.get()), QIX_ENOTFOUND);
  EXPECT_EQ(d, nullptr);
}

TEST_F(CapiTest, OpenAsync) {
  auto o = options();
  Waiter w;
  int status = 1;
  qix_session* got = nullptr;
  struct Ctx {
    Waiter* w;
    int* status;
    qix_session** got;
  } ctx{&w, &status, &got};
  qix_session* s = nullptr;
  ASSERT_EQ(qix_session_open(
                &s, nullptr, o.get(),
                [](qix_session* session, int st, const qix_error* err, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  EXPECT_EQ(err, nullptr);
                  c->w->notify([&] {
                    *c->status = st;
                    *c->got = session;
                  });
                },
                &ctx),
            QIX_OK);
  SessionPtr guard(s);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(status, QIX_OK);
  EXPECT_EQ(got, s);
  EXPECT_EQ(qix_session_state(s), QIX_STATE_CONNECTED);
}

TEST_F(CapiTest, OpenAsyncFailureReportsError) {
  qix_options* o = nullptr;
  ASSERT_EQ(qix_options_new(&o), QIX_OK);
  OptionsPtr guard(o);
  unsigned short port = sim_->port();
  sim_->stop();
  qix_options_set_str(o, "url", ("ws://127.0.0.1:" + std::to_string(port) + "/app/demo").c_str());
  Waiter w;
  int status = 0;
  std::string message;
  struct Ctx {
    Waiter* w;
    int* status;
    std::string* message;
  } ctx{&w, &status, &message};
  qix_session* s = nullptr;
  ASSERT_EQ(qix_session_open(
                &s, nullptr, o,
                [](qix_session*, int st, const qix_error* err, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  c->w->notify([&] {
                    *c->status = st;
                    *c->message = qix_error_message(err);
                  });
                },
                &ctx),
            QIX_OK);
  SessionPtr sg(s);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(status, QIX_ENETWORK) << message;
  EXPECT_FALSE(message.empty());
}

TEST_F(CapiTest, OpenSyncFailures) {
  unsigned short port = sim_->port();
  sim_->stop();
  auto o = options();
  qix_options_set_str(o.get(), "url", ("ws://127.0.0.1:" + std::to_string(port) + "/app/demo").c_str());
  qix_session* s = nullptr;
  EXPECT_EQ(qix_session_open_sync(&s, nullptr, o.get(), 5000), QIX_ENETWORK);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(qix_error_code(qix_error_last()), QIX_ENETWORK);
  EXPECT_EQ(qix_session_open_sync(&s, nullptr, o.get(), -5), QIX_EINVAL);

  // A malformed URL.
  qix_options_set_str(o.get(), "url", "nonsense://");
  EXPECT_LT(qix_session_open_sync(&s, nullptr, o.get(), 5000), 0);
  EXPECT_EQ(s, nullptr);
}

TEST_F(CapiTest, HttpErrorAndHeaders) {
  sim_->stop();
  qix::sim::Options so;
  so.require_header = "X-Secret: s3cr3t-value";
  start_sim(so);
  auto o = options();
  qix_session* s = nullptr;
  EXPECT_EQ(qix_session_open_sync(&s, nullptr, o.get(), 5000), QIX_EHTTP);
  EXPECT_EQ(qix_error_engine_code(qix_error_last()), 401);
  EXPECT_EQ(std::string(qix_error_message(qix_error_last())).find("s3cr3t"), std::string::npos);

  // With the header, the traffic log never shows it.
  ASSERT_EQ(qix_options_add_header(o.get(), "X-Secret", "s3cr3t-value"), QIX_OK);
  struct Log {
    std::mutex m;
    std::vector<std::pair<int, std::string>> frames;
  } log;
  ASSERT_EQ(qix_options_set_traffic_cb(
                o.get(),
                [](int sent, const char* frame, size_t len, void* p) {
                  auto* l = static_cast<Log*>(p);
                  EXPECT_EQ(std::strlen(frame), len);
                  std::lock_guard lock(l->m);
                  l->frames.emplace_back(sent, std::string(frame, len));
                },
                &log),
            QIX_OK);
  auto session = open(o.get());
  ASSERT_TRUE(session);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_session_call_sync(&r, session.get(), "EngineVersion", "[]", 0, -1), QIX_OK);
  qix_result_free(r);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(log.m);
      bool answered = false;
      for (auto& [sent, f] : log.frames) answered |= !sent && f.find("qComponentVersion") != std::string::npos;
      if (answered) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::lock_guard lock(log.m);
  bool sent_seen = false, received_seen = false;
  for (auto& [sent, f] : log.frames) {
    EXPECT_EQ(f.find("s3cr3t"), std::string::npos);
    if (sent && f.find("EngineVersion") != std::string::npos) sent_seen = true;
    if (!sent && f.find("qComponentVersion") != std::string::npos) received_seen = true;
  }
  EXPECT_TRUE(sent_seen);
  EXPECT_TRUE(received_seen);
}

TEST_F(CapiTest, OwnContextSharedBySessions) {
  qix_context* ctx = nullptr;
  ASSERT_EQ(qix_context_new(&ctx, 1, 1), QIX_OK);
  auto o = options();
  qix_session* a = nullptr;
  qix_session* b = nullptr;
  ASSERT_EQ(qix_session_open_sync(&a, ctx, o.get(), 5000), QIX_OK);
  ASSERT_EQ(qix_session_open_sync(&b, ctx, o.get(), 5000), QIX_OK);
  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, b, "EngineVersion", "[]", 0, -1), QIX_OK);
  qix_result_free(r);
  qix_session_free(a);
  qix_session_free(b);
  qix_context_free(ctx);
}

TEST_F(CapiTest, EngineErrorDetails) {
  auto s = open();
  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, s.get(), "OpenDoc", R"(["no-such-app"])", 0, -1), QIX_EENGINE);
  EXPECT_EQ(r, nullptr);
  const qix_error* e = qix_error_last();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(qix_error_code(e), QIX_EENGINE);
  EXPECT_NE(qix_error_engine_code(e), 0);
  EXPECT_EQ(std::string(qix_error_name(e)).rfind("LOCERR_", 0), 0u) << qix_error_name(e);
  EXPECT_STRNE(qix_error_message(e), "");

  // Asynchronously: the error is inside the result.
  Waiter w;
  struct Ctx {
    Waiter* w = nullptr;
    int status = 0;
    int code = 0;
    std::string json;
  } ctx;
  ctx.w = &w;
  ASSERT_EQ(qix_session_call(
                nullptr, s.get(), "OpenDoc", R"(["no-such-app"])", 0, -1,
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  c->w->notify([&] {
                    c->status = qix_result_status(res);
                    c->code = qix_error_engine_code(qix_result_error(res));
                    c->json = qix_result_json(res);
                  });
                },
                &ctx),
            QIX_OK);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(ctx.status, QIX_EENGINE);
  EXPECT_EQ(ctx.code, qix_error_engine_code(e));
  EXPECT_EQ(ctx.json, "null");
}

TEST_F(CapiTest, InvalidCallsGiveEinval) {
  auto s = open();
  int64_t id = 7;
  int called = 0;
  auto cb = [](const qix_result*, void* p) { ++*static_cast<int*>(p); };
  EXPECT_EQ(qix_session_call(&id, s.get(), nullptr, "[]", 0, -1, cb, &called), QIX_EINVAL);
  EXPECT_EQ(id, 0);
  EXPECT_EQ(qix_session_call(&id, s.get(), "", "[]", 0, -1, cb, &called), QIX_EINVAL);
  EXPECT_EQ(qix_session_call(&id, s.get(), "Evaluate", "[1,", 0, -1, cb, &called), QIX_EINVAL);
  EXPECT_EQ(qix_session_call(&id, s.get(), "Evaluate", "42", 0, -1, cb, &called), QIX_EINVAL);
  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, s.get(), "Evaluate", "{", 0, -1), QIX_EINVAL);
  EXPECT_EQ(qix_session_cancel(s.get(), 123456), QIX_ENOTFOUND);
  EXPECT_EQ(qix_session_remove_listener(s.get(), 99999), QIX_ENOTFOUND);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(called, 0);
}

TEST_F(CapiTest, AsyncCallIdAndCallbackThread) {
  auto s = open();
  auto doc = open_doc(s.get());
  Waiter w;
  struct Ctx {
    Waiter* w = nullptr;
    int64_t id = 0;
    std::string json;
    std::thread::id thread;
  } ctx;
  ctx.w = &w;
  int64_t id = 0;
  ASSERT_EQ(qix_object_call(
                &id, doc.get(), "Evaluate", R"x(["Count(distinct Region)"])x", 0, -1,
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  c->w->notify([&] {
                    c->id = qix_result_id(res);
                    c->json = qix_result_json(res);
                    c->thread = std::this_thread::get_id();
                  });
                },
                &ctx),
            QIX_OK);
  EXPECT_GT(id, 0);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(ctx.id, id);
  EXPECT_EQ(ctx.json, "\"6\"");
  EXPECT_NE(ctx.thread, std::this_thread::get_id());
}

TEST_F(CapiTest, TimeoutPerCall) {
  sim_->stop();
  qix::sim::Options so;
  so.latency_ms = 400;
  start_sim(so);
  auto s = open();
  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", "[]", 0, 50), QIX_ETIMEOUT);
  EXPECT_EQ(qix_error_is_retriable(qix_error_last()), 1);
  EXPECT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", "[]", 0, 0), QIX_OK);
  qix_result_free(r);
}

TEST_F(CapiTest, ThousandPendingCallsCancelled) {
  sim_->stop();
  qix::sim::Options so;
  so.latency_ms = 1000;
  start_sim(so);
  auto s = open();
  struct Ctx {
    std::atomic<int> done{0};
    std::atomic<int> cancelled{0};
  };
  // Heap-allocated and only freed once every callback ran: a failing test must not leave callbacks that
  // write to a dead stack frame.
  auto* heap = new Ctx;
  Ctx& ctx = *heap;
  auto cb = [](const qix_result* res, void* p) {
    auto* c = static_cast<Ctx*>(p);
    if (qix_result_status(res) == QIX_ECANCELLED) ++c->cancelled;
    ++c->done;
  };
  std::vector<int64_t> ids(1000);
  for (auto& id : ids) ASSERT_EQ(qix_session_call(&id, s.get(), "EngineVersion", "[]", 0, -1, cb, &ctx), QIX_OK);
  EXPECT_GE(qix_session_pending_calls(s.get()), 900);
  for (auto id : ids) EXPECT_EQ(qix_session_cancel(s.get(), id), QIX_OK);
  for (int i = 0; i < 500 && ctx.done < 1000; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ctx.done.load(), 1000);
  EXPECT_EQ(ctx.cancelled.load(), 1000);
  for (auto id : ids) EXPECT_EQ(qix_session_cancel(s.get(), id), QIX_ENOTFOUND);
  if (ctx.done == 1000) delete heap;
  // Let the simulator read every request and CancelRequest and answer them before the socket goes:
  // closing while it still processes this connection's frames can crash it (a simulator bug, reported).
  for (int i = 0; i < 1000; ++i) {
    auto stats = sim_->stats();
    if (stats["EngineVersion"].received >= 1000 && stats["CancelRequest"].received >= 1000) break;
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(so.latency_ms * 1ms + 300ms);
}

TEST_F(CapiTest, CloseThenFreeAtOnceCompletesEveryPendingCall) {
  sim_->stop();
  qix::sim::Options so;
  so.latency_ms = 500;
  start_sim(so);
  qix_session* s = open().release();
  struct Ctx {
    std::atomic<int> done{0};
    std::atomic<int> closed{0};
  };
  auto* heap = new Ctx;
  Ctx& ctx = *heap;
  auto cb = [](const qix_result* res, void* p) {
    auto* c = static_cast<Ctx*>(p);
    if (qix_result_status(res) == QIX_ECLOSED) ++c->closed;
    ++c->done;
  };
  for (int i = 0; i < 100; ++i) ASSERT_EQ(qix_session_call(nullptr, s, "EngineVersion", "[]", 0, -1, cb, &ctx), QIX_OK);
  // Free right after close: the WebSocket close handshake has not even started.
  qix_session_close(s);
  qix_session_free(s);
  for (int i = 0; i < 500 && ctx.done < 100; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ctx.done.load(), 100) << "every pending call completes exactly once";
  EXPECT_EQ(ctx.closed.load(), 100);
  if (ctx.done == 100) delete heap;
  std::this_thread::sleep_for(so.latency_ms * 1ms + 300ms);  // let the simulator finish with the socket
}

TEST_F(CapiTest, ThousandPendingCallsDisconnected) {
  sim_->stop();
  qix::sim::Options so;
  so.latency_ms = 3000;
  start_sim(so);
  auto s = open();
  struct Ctx {
    std::atomic<int> done{0};
    std::atomic<int> failed{0};
  };
  auto* heap = new Ctx;  // see ThousandPendingCallsCancelled
  Ctx& ctx = *heap;
  auto cb = [](const qix_result* res, void* p) {
    auto* c = static_cast<Ctx*>(p);
    int st = qix_result_status(res);
    if (st == QIX_ECONNECTION || st == QIX_ECLOSED) ++c->failed;
    ++c->done;
  };
  for (int i = 0; i < 200 && sim_->connection_count() == 0; ++i) std::this_thread::sleep_for(10ms);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, cb, &ctx), QIX_OK);
  // The simulator ignores a close request for a connection it has not fully set up yet: repeat it.
  for (int i = 0; i < 1000 && ctx.done < 1000; ++i) {
    if (i % 50 == 0) sim_->close_all(4003);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(ctx.done.load(), 1000);
  EXPECT_EQ(ctx.failed.load(), 1000);
  for (int i = 0; i < 200 && qix_session_state(s.get()) != QIX_STATE_CLOSED; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  int code = 0;
  char* reason = nullptr;
  ASSERT_EQ(qix_session_close_info(&code, &reason, s.get()), QIX_OK);
  qix_free(reason);
  EXPECT_EQ(code, 4003);
  if (ctx.done == 1000) delete heap;
}

TEST_F(CapiTest, UseAfterCloseIsClosedNotCrash) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("hc", {"Region"}, {"Sum(Sales)"}));
  int code = 0;
  EXPECT_EQ(qix_session_close_info(&code, nullptr, s.get()), QIX_ENOTFOUND);
  qix_session_close(s.get());
  qix_session_close(s.get());  // double close
  // At once, before the closed events: objects say closed and calls fail without being sent.
  EXPECT_EQ(qix_object_is_closed(obj.get()), 1);
  EXPECT_EQ(qix_object_is_valid(obj.get()), 0);
  {
    qix_result* early = nullptr;
    EXPECT_EQ(qix_object_call_sync(&early, obj.get(), "GetLayout", "[]", 0, -1), QIX_ECLOSED);
    EXPECT_EQ(qix_session_call_sync(&early, s.get(), "EngineVersion", "[]", 0, -1), QIX_ECLOSED);
  }
  for (int i = 0; i < 200 && qix_session_state(s.get()) != QIX_STATE_CLOSED; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);

  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", "[]", 0, -1), QIX_ECLOSED);
  EXPECT_EQ(qix_object_call_sync(&r, doc.get(), "Evaluate", R"(["1"])", 0, -1), QIX_ECLOSED);
  EXPECT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1), QIX_ECLOSED);
  Waiter w;
  int status = 0;
  struct Ctx {
    Waiter* w;
    int* status;
  } ctx{&w, &status};
  auto cb = [](const qix_result* res, void* p) {
    auto* c = static_cast<Ctx*>(p);
    c->w->notify([&] { *c->status = qix_result_status(res); });
  };
  EXPECT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, cb, &ctx), QIX_ECLOSED);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(status, QIX_ECLOSED);
  EXPECT_EQ(qix_object_call(nullptr, obj.get(), "GetLayout", "[]", 0, -1, cb, &ctx), QIX_ECLOSED);
  ASSERT_TRUE(w.wait_for(2));
  EXPECT_EQ(qix_object_is_closed(obj.get()), 1);
  uint64_t lid = 0;
  EXPECT_EQ(qix_object_on_changed(&lid, obj.get(), [](qix_object*, void*) {}, nullptr), QIX_ECLOSED);
  EXPECT_EQ(qix_object_watch(obj.get(), cb, &ctx), QIX_ECLOSED);
  EXPECT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 0, 0, [](const char*, size_t, int64_t, void*) { return 0; },
                               [](int, const qix_error*, int64_t, void*) {}, nullptr),
            QIX_ECLOSED);
  ASSERT_EQ(qix_session_close_info(&code, nullptr, s.get()), QIX_OK);
  EXPECT_EQ(code, 1000);

  // Freeing the session first leaves the objects as zombies.
  s.reset();
  EXPECT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1), QIX_ECLOSED);
  EXPECT_EQ(qix_object_handle(obj.get()), qix_object_handle(obj.get()));
}

TEST_F(CapiTest, BlockingCallFromCallbackIsBusy) {
  auto s = open();
  Waiter w;
  struct Ctx {
    Waiter* w;
    qix_session* s;
    int status = 0;
    int open_status = 0;
  } ctx{&w, s.get()};
  ASSERT_EQ(qix_session_call(
                nullptr, s.get(), "EngineVersion", "[]", 0, -1,
                [](const qix_result*, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  qix_result* r = nullptr;
                  int st = qix_session_call_sync(&r, c->s, "EngineVersion", "[]", 0, -1);
                  qix_result_free(r);
                  qix_session* other = nullptr;
                  int ost = qix_session_open_sync(&other, nullptr, nullptr, 1000);
                  qix_session_free(other);
                  c->w->notify([&] {
                    c->status = st;
                    c->open_status = ost;
                  });
                },
                &ctx),
            QIX_OK);
  ASSERT_TRUE(w.wait_for(1));
  EXPECT_EQ(ctx.status, QIX_EBUSY);
  EXPECT_EQ(ctx.open_status, QIX_EBUSY);
}

TEST_F(CapiTest, StateAndNotificationListeners) {
  auto s = open();
  struct Ctx {
    Waiter w;
    std::vector<std::string> methods;
    std::vector<int> states;
    int code = 0;
  } ctx;
  uint64_t nid = 0, sid = 0;
  ASSERT_EQ(qix_session_on_notification(
                &nid, s.get(), "OnConnected", 1,
                [](qix_session*, const char* method, const char* params, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  EXPECT_NE(params, nullptr);
                  c->w.notify([&] { c->methods.push_back(method); });
                },
                &ctx),
            QIX_OK);
  ASSERT_TRUE(ctx.w.wait_for(1));
  EXPECT_EQ(ctx.methods.at(0), "OnConnected");
  char* history = nullptr;
  ASSERT_EQ(qix_session_notifications(&history, s.get()), QIX_OK);
  EXPECT_NE(take(history).find("OnConnected"), std::string::npos);

  ASSERT_EQ(qix_session_on_state(
                &sid, s.get(),
                [](qix_session*, int state, int code, const char* reason, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  EXPECT_NE(reason, nullptr);
                  c->w.notify([&] {
                    c->states.push_back(state);
                    c->code = code;
                  });
                },
                &ctx),
            QIX_OK);
  EXPECT_EQ(qix_session_remove_listener(s.get(), nid), QIX_OK);
  EXPECT_EQ(qix_session_remove_listener(s.get(), nid), QIX_ENOTFOUND);
  sim_->close_all(4000);
  ASSERT_TRUE(ctx.w.wait_for(2));
  std::lock_guard lock(ctx.w.mutex());
  EXPECT_EQ(ctx.states.back(), QIX_STATE_CLOSED);
  EXPECT_EQ(ctx.code, 4000);
}

// ---------------------------------------------------------------------------------------------------------
// Objects

TEST_F(CapiTest, ObjectPropertiesLayoutChangedAndWatch) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("my-cube", {"Region"}, {"Sum(Sales)"}));
  ASSERT_TRUE(obj);
  EXPECT_STREQ(qix_object_type(obj.get()), "GenericObject");
  EXPECT_STREQ(qix_object_generic_id(obj.get()), "my-cube");
  EXPECT_STREQ(qix_object_generic_type(obj.get()), "table");
  char* text = nullptr;
  EXPECT_EQ(qix_object_layout(&text, obj.get()), QIX_ENOTFOUND);
  EXPECT_EQ(qix_object_is_valid(obj.get()), 0);

  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", QIX_CALL_DELTA, -1), QIX_OK);
  std::string layout = qix_result_json(r);
  EXPECT_EQ(layout.rfind("{\"qInfo\"", 0), 0u) << layout.substr(0, 80);  // unwrapped qLayout
  EXPECT_NE(std::string(qix_result_raw(r)).find("\"qLayout\""), std::string::npos);
  qix_result_free(r);
  EXPECT_EQ(qix_object_is_valid(obj.get()), 1);
  ASSERT_EQ(qix_object_layout(&text, obj.get()), QIX_OK);
  EXPECT_NE(take(text).find("\"qcy\":6"), std::string::npos);

  struct Ctx {
    Waiter changed;
    Waiter layouts;
    std::vector<std::string> seen;
  } ctx;
  uint64_t cid = 0;
  ASSERT_EQ(qix_object_on_changed(
                &cid, obj.get(), [](qix_object*, void* p) { static_cast<Ctx*>(p)->changed.notify(); }, &ctx),
            QIX_OK);
  ASSERT_EQ(qix_object_watch(
                obj.get(),
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  EXPECT_EQ(qix_result_status(res), QIX_OK);
                  std::string json = qix_result_json(res);
                  c->layouts.notify([&] { c->seen.push_back(json); });
                },
                &ctx),
            QIX_OK);
  // A selection on Region invalidates the cube: "changed" fires, then the watch delivers the new layout.
  ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[0],false])", 0, -1),
            QIX_OK);
  qix_result_free(r);
  ASSERT_TRUE(ctx.changed.wait_for(1));
  ASSERT_TRUE(ctx.layouts.wait_for(1));
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(ctx.layouts.mutex());
      if (!ctx.seen.empty() && ctx.seen.back().find("\"qcy\":1") != std::string::npos) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  {
    std::lock_guard lock(ctx.layouts.mutex());
    EXPECT_NE(ctx.seen.back().find("\"qcy\":1"), std::string::npos);
  }
  EXPECT_EQ(qix_object_unwatch(obj.get()), QIX_OK);
  EXPECT_EQ(qix_object_remove_listener(obj.get(), cid), QIX_OK);
  EXPECT_EQ(qix_object_remove_listener(obj.get(), cid), QIX_ENOTFOUND);

  // A second handle on the same engine object.
  qix_object* dup = nullptr;
  ASSERT_EQ(qix_object_dup(&dup, obj.get()), QIX_OK);
  EXPECT_EQ(qix_object_handle(dup), qix_object_handle(obj.get()));
  qix_object_free(dup);
}

TEST_F(CapiTest, ClosedListenerOnDestroy) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("gone", {"Region"}, {"Sum(Sales)"}));
  Waiter closed;
  ASSERT_EQ(qix_object_on_closed(nullptr, obj.get(), [](qix_object*, void* p) { static_cast<Waiter*>(p)->notify(); },
                                 &closed),
            QIX_OK);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, doc.get(), "DestroySessionObject", R"(["gone"])", 0, -1), QIX_OK);
  qix_result_free(r);
  ASSERT_TRUE(closed.wait_for(1));
  EXPECT_EQ(qix_object_is_closed(obj.get()), 1);
  EXPECT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1), QIX_ECLOSED);
  struct Ctx {
    Waiter w;
    int status = 0;
  } ctx;
  EXPECT_EQ(qix_object_call(
                nullptr, obj.get(), "GetLayout", "[]", 0, -1,
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  c->w.notify([&] { c->status = qix_result_status(res); });
                },
                &ctx),
            QIX_ECLOSED);
  ASSERT_TRUE(ctx.w.wait_for(1));
  EXPECT_EQ(ctx.status, QIX_ECLOSED);
}

TEST_F(CapiTest, ObjectFreeStopsListeners) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("hc", {"Region"}, {"Sum(Sales)"}));
  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1), QIX_OK);  // valid: no "changed" at once
  qix_result_free(r);
  std::atomic<int> calls{0};
  ASSERT_EQ(qix_object_on_changed(
                nullptr, obj.get(), [](qix_object*, void* p) { ++*static_cast<std::atomic<int>*>(p); }, &calls),
            QIX_OK);
  qix_object* again = nullptr;
  ASSERT_EQ(qix_object_dup(&again, obj.get()), QIX_OK);
  // A listener on the copy, registered after the first one: the session runs an object's listeners in
  // registration order, so once this one has run, the freed handle's listener would have run before it.
  std::promise<void> copy_told;
  ASSERT_EQ(qix_object_on_changed(
                nullptr, again, [](qix_object*, void* p) { static_cast<std::promise<void>*>(p)->set_value(); },
                &copy_told),
            QIX_OK);
  obj.reset();
  ASSERT_EQ(qix_object_call_sync(&r, again, "SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[1],false])", 0, -1), QIX_OK);
  qix_result_free(r);
  copy_told.get_future().wait();
  EXPECT_EQ(calls.load(), 0);
  qix_object_free(again);
}

// ---------------------------------------------------------------------------------------------------------
// Poll API

TEST_F(CapiTest, PollFromSeparateThread) {
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  std::atomic<bool> stop{false};
  std::atomic<int> polled{0};
  std::thread::id poll_thread;
  std::thread poller([&] {
    poll_thread = std::this_thread::get_id();
    while (!stop) {
      int n = qix_session_poll(s.get(), -1);
      EXPECT_GE(n, 0);
      polled += n;
    }
  });
  struct Ctx {
    Waiter w;
    std::thread::id thread;
  } ctx;
  ASSERT_EQ(qix_session_call(
                nullptr, s.get(), "EngineVersion", "[]", 0, -1,
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  EXPECT_EQ(qix_result_status(res), QIX_OK);
                  c->w.notify([&] { c->thread = std::this_thread::get_id(); });
                },
                &ctx),
            QIX_OK);
  ASSERT_TRUE(ctx.w.wait_for(1));
  stop = true;
  EXPECT_EQ(qix_session_wake(s.get()), QIX_OK);
  poller.join();
  EXPECT_EQ(ctx.thread, poll_thread);
  EXPECT_GE(polled.load(), 1);
  // Without waiting: nothing queued.
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);
}

TEST_F(CapiTest, PollOffReturnsZero) {
  auto s = open();
  EXPECT_EQ(qix_session_poll(s.get(), 10), 0);
  EXPECT_EQ(qix_session_wake(s.get()), QIX_OK);
}

// ---------------------------------------------------------------------------------------------------------
// Bulk extraction

struct Extract {
  Waiter done;
  std::atomic<int64_t> rows{0};
  int64_t expected_next = 0;
  bool in_order = true;
  int status = 1;
  int64_t total = -1;
  std::string first_row;
  int64_t stop_at = -1;
  std::string error;
};

int extract_row(const char* row, size_t len, int64_t index, void* p) {
  auto* e = static_cast<Extract*>(p);
  if (index != e->expected_next) e->in_order = false;
  if (index == 0) e->first_row.assign(row, len);
  e->expected_next = index + 1;
  ++e->rows;
  return e->stop_at >= 0 && index + 1 >= e->stop_at ? 1 : 0;
}

void extract_done(int status, const qix_error* err, int64_t rows, void* p) {
  auto* e = static_cast<Extract*>(p);
  e->done.notify([&] {
    e->status = status;
    e->total = rows;
    if (err) e->error = qix_error_message(err);
  });
}

TEST_F(CapiTest, ExtractStreamsEveryRowInOrder) {
  sim_->stop();
  qix::sim::Options so;
  so.demo_rows = 25000;
  start_sim(so);
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("big", {"OrderId"}, {"Sum(Sales)"}, 10));
  sim_->reset_stats();
  Extract e;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 1000, 3, extract_row, extract_done, &e), QIX_OK);
  ASSERT_TRUE(e.done.wait_for(1, 60s));
  EXPECT_EQ(e.status, QIX_OK) << e.error;
  EXPECT_EQ(e.total, 25000);
  EXPECT_EQ(e.rows.load(), 25000);
  EXPECT_TRUE(e.in_order);
  EXPECT_EQ(e.first_row.front(), '[');
  EXPECT_NE(e.first_row.find("qText"), std::string::npos);
  auto stats = sim_->stats();
  EXPECT_EQ(stats["GetHyperCubeData"].received, 25u);
  EXPECT_LE(stats["GetHyperCubeData"].max_in_flight, 3u);
  EXPECT_GE(stats["GetHyperCubeData"].max_in_flight, 1u);
}

TEST_F(CapiTest, ExtractDefaultsAndStop) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("cube", {"OrderId"}, {"Sum(Sales)"}, 1));
  Extract all;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 0, 0, extract_row, extract_done, &all), QIX_OK);
  ASSERT_TRUE(all.done.wait_for(1, 60s));
  EXPECT_EQ(all.status, QIX_OK) << all.error;
  EXPECT_EQ(all.total, 2000);

  Extract stop;
  stop.stop_at = 150;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 100, 2, extract_row, extract_done, &stop), QIX_OK);
  ASSERT_TRUE(stop.done.wait_for(1, 60s));
  EXPECT_EQ(stop.status, QIX_ECANCELLED);
  EXPECT_EQ(stop.rows.load(), 150);

  Extract bad;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qNoSuchDef", 0, 0, extract_row, extract_done, &bad), QIX_OK);
  ASSERT_TRUE(bad.done.wait_for(1, 60s));
  EXPECT_EQ(bad.status, QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", -1, 0, extract_row, extract_done, &bad), QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(obj.get(), "", 0, 0, extract_row, extract_done, &bad), QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 0, 0, nullptr, extract_done, &bad), QIX_EINVAL);
}

}  // namespace

namespace {

TEST_F(CapiTest, CloseFromOwnCallback) {
  auto s = open();
  struct Ctx {
    Waiter w;
    qix_session* s = nullptr;
  } ctx;
  ctx.s = s.get();
  ASSERT_EQ(qix_session_call(
                nullptr, s.get(), "EngineVersion", "[]", 0, -1,
                [](const qix_result*, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  qix_session_close(c->s);  // never blocks, never deadlocks
                  c->w.notify();
                },
                &ctx),
            QIX_OK);
  ASSERT_TRUE(ctx.w.wait_for(1));
  for (int i = 0; i < 200 && qix_session_state(s.get()) != QIX_STATE_CLOSED; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
}

TEST_F(CapiTest, MessageTooLarge) {
  auto o = options();
  ASSERT_EQ(qix_options_set_int(o.get(), "max_message_size", 2048), QIX_OK);
  auto s = open(o.get());
  auto doc = open_doc(s.get());
  qix_result* r = nullptr;
  // A layout far larger than 2 KiB ends the connection.
  auto obj = create_cube(doc.get(), hypercube_props("large", {"OrderId"}, {"Sum(Sales)"}, 500));
  int rc = qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1);
  qix_result_free(r);
  EXPECT_NE(rc, QIX_OK);
  EXPECT_EQ(rc, QIX_ETOOLARGE) << qix_error_message(qix_error_last());
  for (int i = 0; i < 200 && qix_session_state(s.get()) != QIX_STATE_CLOSED; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  int code = 0;
  char* reason = nullptr;
  ASSERT_EQ(qix_session_close_info(&code, &reason, s.get()), QIX_OK);
  std::string text = take(reason);
  std::printf("too large: rc=%d code=%d reason=%s\n", rc, code, text.c_str());
  EXPECT_FALSE(text.empty());
}

TEST_F(CapiTest, TlsAgainstPlainServerFails) {
  auto o = options();
  std::string url = sim_->url();
  url.replace(0, 2, "wss");
  ASSERT_EQ(qix_options_set_str(o.get(), "url", (url + "/app/demo").c_str()), QIX_OK);
  ASSERT_EQ(qix_options_set_bool(o.get(), "tls.verify", 0), QIX_OK);
  qix_session* s = nullptr;
  int rc = qix_session_open_sync(&s, nullptr, o.get(), 5000);
  EXPECT_EQ(s, nullptr);
  std::printf("tls: rc=%d %s\n", rc, qix_error_message(qix_error_last()));
  EXPECT_TRUE(rc == QIX_ETLS || rc == QIX_ENETWORK) << rc;
}

}  // namespace
