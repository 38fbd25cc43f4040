// Faults through the C API, injected by the simulator's flags over real sockets: latency, jitter and
// reordering, broken frames, unknown ids, a dropped socket, fatal proxy notifications, every close code,
// and a callback that blocks. The rule checked throughout: every call completes exactly once, with its own
// answer or a clear error, and nothing else breaks.
#include "capi_support.hpp"
#include "support/capi_calls.hpp"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

using qix::test::Calls;
using qix::test::eventually;

struct SessionDeleter {
  void operator()(qix_session* s) const { qix_session_free(s); }
};
using SessionPtr = std::unique_ptr<qix_session, SessionDeleter>;

class Faults : public ::testing::Test {
 protected:
  void start(qix::sim::Options o) {
    sim_ = std::make_unique<qix::sim::Server>(std::move(o));
    sim_->start();
  }
  void TearDown() override {
    if (sim_) sim_->stop();
  }
  SessionPtr open(int call_timeout_ms = 0, const std::string& app = "demo") {
    qix_options* o = nullptr;
    qix_options_new(&o);
    qix_options_set_str(o, "url", (sim_->url() + "/app/" + app).c_str());
    if (call_timeout_ms) qix_options_set_int(o, "timeout.call_ms", call_timeout_ms);
    qix_session* s = nullptr;
    int rc = qix_session_open_sync(&s, nullptr, o, 10000);
    qix_options_free(o);
    EXPECT_EQ(rc, QIX_OK);
    return SessionPtr(s);
  }
  static int64_t open_doc(qix_session* s) {
    qix_result* r = nullptr;
    EXPECT_EQ(qix_session_call_sync(&r, s, "OpenDoc", R"(["demo"])", 0, -1), QIX_OK);
    qix_object* doc = nullptr;
    qix_result_object(&doc, r);
    int h = qix_object_handle(doc);
    qix_object_free(doc);
    qix_result_free(r);
    return h;
  }
  static std::pair<int, std::string> close_info(qix_session* s) {
    int code = 0;
    char* reason = nullptr;
    if (qix_session_close_info(&code, &reason, s) != QIX_OK) return {0, ""};
    std::string r = reason ? reason : "";
    qix_free(reason);
    return {code, r};
  }
  /// Waits until the session is closed and its last event ran.
  static bool wait_closed(qix_session* s) { return qix_session_wait_closed(s, 20000) == QIX_OK; }
  std::unique_ptr<qix::sim::Server> sim_;
};

TEST_F(Faults, LatencyJitterAndReorderingKeepEveryAnswerWithItsCall) {
  qix::sim::Options o;
  o.latency_ms = 5;
  o.jitter_ms = 30;
  o.reorder = true;
  start(o);
  auto s = open();
  int h = static_cast<int>(open_doc(s.get()));
  Calls calls;
  std::map<int64_t, int> expected;
  for (int k = 0; k < 500; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "*2\"]";
    ASSERT_EQ(qix_session_call_handle(&id, s.get(), h, "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls),
              QIX_OK);
    expected[id] = k * 2;
  }
  ASSERT_TRUE(calls.wait(500));
  auto got = calls.snapshot();
  ASSERT_EQ(got.size(), 500u);
  for (auto& [id, k2] : expected) {
    EXPECT_EQ(got[id].count, 1);
    EXPECT_EQ(got[id].json, "\"" + std::to_string(k2) + "\"")
        << "call " << id << " got another call's answer";
  }
  EXPECT_GE(sim_->stats()["Evaluate"].max_in_flight, 10u) << "the calls were pipelined";
}

TEST_F(Faults, BrokenFramesCostOnlyTheirOwnCalls) {
  qix::sim::Options o;
  o.malformed_every = 4;
  start(o);
  auto s = open(1500);  // a call whose answer was broken ends by its timeout
  Calls calls;
  for (int k = 0; k < 40; ++k) {
    ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls),
              QIX_OK);
  }
  ASSERT_TRUE(calls.wait(40, 10s));
  int ok = 0, timeout = 0;
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1);
    ok += e.status == QIX_OK;
    timeout += e.status == QIX_ETIMEOUT;
  }
  EXPECT_EQ(ok + timeout, 40);
  EXPECT_GE(timeout, 5) << "every 4th answer is broken";
  EXPECT_GE(ok, 20);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED) << "broken frames are not fatal";
}

TEST_F(Faults, UnknownIdsAndStrayFramesAreIgnored) {
  start({});
  auto s = open();
  sim_->push_all(R"({"jsonrpc":"2.0","id":987654,"result":{"qReturn":true}})");
  sim_->push_all(R"({"jsonrpc":"2.0","id":"not-a-number","result":{}})");
  sim_->push_all(R"({"jsonrpc":"2.0","method":"OnSomethingNew","params":{"x":1}})");
  sim_->push_all(R"([1,2,3])");
  qix_result* r = nullptr;
  ASSERT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, 5000), QIX_OK);
  EXPECT_NE(std::string(qix_result_json(r)).find("qComponentVersion"), std::string::npos);
  qix_result_free(r);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
}

TEST_F(Faults, ADroppedSocketFailsPendingCallsWithConnectionLost) {
  qix::sim::Options o;
  o.drop_after = 3;
  o.latency_ms = 200;
  start(o);
  Calls calls;
  auto s = open();
  qix::test::DrainOnExit drain(s.get());
  int refused = 0;
  for (int k = 0; k < 10; ++k) {
    // The drop may reach the client while it is still issuing these (a slow test thread): a call made after
    // the session closed is refused with QIX_ECLOSED, and its callback says so too.
    int rc = qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls);
    EXPECT_TRUE(rc == QIX_OK || rc == QIX_ECLOSED) << rc;
    refused += rc == QIX_ECLOSED;
  }
  ASSERT_TRUE(calls.wait(10));
  int lost = 0, closed = 0;
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1);
    if (e.status == QIX_ECONNECTION) {
      ++lost;
    } else if (e.status == QIX_ECLOSED) {
      ++closed;
    } else {
      EXPECT_EQ(e.status, QIX_OK);
    }
  }
  EXPECT_EQ(closed, refused);
  EXPECT_GE(lost, 2) << "the first two answers wait for the latency: lost with the socket";
  EXPECT_GE(lost + refused, 7) << "every call after the third frame";
  ASSERT_TRUE(wait_closed(s.get()));
  EXPECT_EQ(close_info(s.get()).first, 1006) << "no close frame";
  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, -1), QIX_ECLOSED);
}

TEST_F(Faults, AFrameOverTheSizeLimitFailsItsCallClearlyAndIsNeverResumed) {
  start({});
  qix_options* o = nullptr;
  qix_options_new(&o);
  qix_options_set_str(o, "url", (sim_->url() + "/app/demo").c_str());
  qix_options_set_int(o, "max_message_size", 16384);
  qix_options_set_str(o, "reconnect", "resume");  // a resume would only fetch the same message again
  qix_session* raw = nullptr;
  ASSERT_EQ(qix_session_open_sync(&raw, nullptr, o, 10000), QIX_OK);
  qix_options_free(o);
  SessionPtr s(raw);
  int h = static_cast<int>(open_doc(s.get()));
  Calls small;
  for (int k = 0; k < 5; ++k) {
    ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &small),
              QIX_OK);
  }
  ASSERT_TRUE(small.wait(5));
  // A hypercube of every order id: its layout is far over 16 KiB.
  qix_result* r = nullptr;
  ASSERT_EQ(
      qix_session_call_handle_sync(
          &r, s.get(), h, "CreateSessionObject",
          R"([{"qInfo":{"qType":"big"},"qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":["OrderId"]}}],)"
          R"("qInitialDataFetch":[{"qTop":0,"qLeft":0,"qHeight":2000,"qWidth":1}]}}])",
          0, -1),
      QIX_OK)
      << qix_error_message(qix_error_last());
  qix_object* big = nullptr;
  ASSERT_EQ(qix_result_object(&big, r), QIX_OK);
  qix_result_free(r);
  r = nullptr;
  EXPECT_EQ(qix_object_call_sync(&r, big, "GetLayout", nullptr, 0, -1), QIX_ETOOLARGE);
  EXPECT_NE(std::string(qix_error_message(qix_error_last())).find("too large"), std::string::npos)
      << qix_error_message(qix_error_last());
  qix_object_free(big);
  ASSERT_TRUE(wait_closed(s.get()));
  for (auto& [id, e] : small.snapshot()) EXPECT_EQ(e.count, 1);
  EXPECT_EQ(sim_->stats()["OpenDoc"].received, 1u) << "not resumed";
}

TEST_F(Faults, FatalProxyNotificationBecomesTheCloseReason) {
  start({});
  auto s = open();
  qix_result* r = nullptr;  // one answered call: the simulator is serving this connection for sure
  ASSERT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, -1), QIX_OK);
  qix_result_free(r);
  sim_->proxy_fatal_all("OnSessionTimedOut");
  ASSERT_TRUE(wait_closed(s.get()));
  auto [code, reason] = close_info(s.get());
  EXPECT_NE(reason.find("OnSessionTimedOut"), std::string::npos) << code << " " << reason;
}

TEST_F(Faults, EveryCloseCodeIsReported) {
  start({});
  Calls calls;  // outlives the loop: a call refused with QIX_ECLOSED still completes through its callback
  int refused = 0;
  for (int code : {1000, 1001, 1011, 4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007}) {
    auto s = open();
    sim_->close_all(static_cast<std::uint16_t>(code));
    ASSERT_TRUE(wait_closed(s.get())) << code;
    auto [got, reason] = close_info(s.get());
    EXPECT_EQ(got, code);
    EXPECT_NE(reason.find("closed by the engine with code " + std::to_string(code)), std::string::npos)
        << reason;
    if (code >= 4001) {
      EXPECT_NE(reason.find('('), std::string::npos) << "Qlik's codes are explained: " << reason;
    }
    EXPECT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls),
              QIX_ECLOSED);
    ++refused;
  }
  EXPECT_TRUE(calls.wait(refused, 5s));
  for (auto& [id, e] : calls.snapshot()) EXPECT_EQ(e.status, QIX_ECLOSED);
}

TEST_F(Faults, ABlockingCallbackStallsNeitherTheSocketNorOtherSessions) {
  start({});
  auto a = open();
  auto b = open();
  // A's callback blocks until the test opens the gate: whatever happens meanwhile happens while it blocks.
  struct Gate {
    std::promise<void> entered;
    std::promise<void> open;
    std::shared_future<void> opened = open.get_future().share();
  } gate;
  auto block = [](const qix_result*, void* p) {
    auto* g = static_cast<Gate*>(p);
    g->entered.set_value();
    g->opened.wait();
  };
  ASSERT_EQ(qix_session_call(nullptr, a.get(), "EngineVersion", nullptr, 0, -1, block, &gate), QIX_OK);
  gate.entered.get_future().wait();
  Calls on_b, on_a;
  for (int k = 0; k < 50; ++k) {
    qix_session_call(nullptr, b.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &on_b);
    qix_session_call(nullptr, a.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &on_a);
  }
  // While A's callback is blocked: every call of B completes (B does not wait for A), and A's answers are
  // read off its socket (nothing left pending) though none is delivered.
  bool b_completed = on_b.wait(50, 20s);
  bool a_read = eventually([&] { return qix_session_pending_calls(a.get()) == 0; });
  int a_delivered = on_a.total();
  gate.open.set_value();
  EXPECT_TRUE(b_completed) << "session B waited for A's callback: " << on_b.total() << " of 50";
  EXPECT_TRUE(a_read) << "A's answers were not read while its callback blocked";
  EXPECT_EQ(a_delivered, 0) << "A's completions wait for its blocking callback (one at a time, in order)";
  ASSERT_TRUE(on_a.wait(50, 20s));
}

}  // namespace
