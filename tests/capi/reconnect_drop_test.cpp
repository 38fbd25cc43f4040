// Automatic reconnect through the C API (1/2): what happens to calls when the connection drops. The policy
// `none` (the default) closes the session; with a policy, calls in flight at the drop fail once or are
// resent, and calls made while suspended wait for the resume or fail at once. The rule checked throughout:
// every call completes exactly once, and the session's states say what happened.
#include "reconnect_support.hpp"
#include "support/capi_calls.hpp"

#include <map>
#include <string>

using namespace qix::test;

// ---------------------------------------------------------------------------------------------------------
// reconnect = none

TEST_F(Reconnect, DefaultNoneClosesOnDrop) {
  qix::sim::Options so;
  so.latency_ms = 2000;  // the calls below are still pending when the connection drops
  start(so);
  for (const char* policy : {"", "none"}) {  // the default, then the explicit value
    SCOPED_TRACE(std::string("reconnect=") + policy);
    StateLog states;
    Calls calls;
    auto o = options(policy);
    auto s = open(o.get(), &states);
    ASSERT_TRUE(s);
    for (int k = 0; k < 20; ++k) {
      ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls),
                QIX_OK);
    }
    sim_->close_all(4003);
    ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK) << states.dump();
    ASSERT_TRUE(calls.wait(20));
    for (auto& [id, e] : calls.snapshot()) {
      EXPECT_EQ(e.count, 1) << id;
      EXPECT_EQ(e.status, QIX_ECONNECTION) << id;
    }
    EXPECT_EQ(close_info(s.get()).first, 4003);
    ASSERT_TRUE(states.wait(QIX_STATE_CLOSED));
    EXPECT_EQ(states.first(QIX_STATE_CLOSED).code, 4003);
    EXPECT_EQ(states.count(QIX_STATE_SUSPENDED), 0) << states.dump();
    // CLOSED is final and was the last event: a reconnection would have suspended the session first.
    EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
    qix_result* r = nullptr;
    EXPECT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, -1), QIX_ECLOSED);
    EXPECT_EQ(calls.total(), 20) << "no call completed twice";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Calls in flight at the drop

TEST_F(Reconnect, DropWith1000PendingFailsEachOnce) {
  qix::sim::Options so;
  so.latency_ms = 300;
  start(so);
  StateLog states;
  Calls calls;
  auto o = options("resume");
  set_bool(o.get(), "reconnect.resend", false);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());  // answered: the simulator serves this connection
  ASSERT_TRUE(doc);
  std::map<int64_t, int> expected;
  for (int k = 0; k < 1000; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "*2\"]";
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls), QIX_OK);
    expected[id] = k * 2;
  }
  sim_->close_all(4003);
  ASSERT_TRUE(calls.wait(1000, 30s)) << calls.total();
  int lost = 0;
  auto got = calls.snapshot();
  ASSERT_EQ(got.size(), 1000u);
  for (auto& [id, k2] : expected) {
    const auto& e = got[id];
    EXPECT_EQ(e.count, 1) << id;
    if (e.status == QIX_ECONNECTION) {
      ++lost;
    } else {
      EXPECT_EQ(e.status, QIX_OK) << id;
      EXPECT_EQ(e.json, "\"" + std::to_string(k2) + "\"") << id;
    }
  }
  EXPECT_GE(lost, 1) << "the drop came before most answers";
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4003) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_CLOSED), 0) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["21*2"])", &v), QIX_OK) << last_error_message();
  EXPECT_EQ(v, "\"42\"");
  // Once the session is closed and drained, every completion of these calls has run.
  ASSERT_TRUE(close_and_drain(s.get()));
  EXPECT_EQ(calls.total(), 1000) << "no call completed twice";
}

TEST_F(Reconnect, DropWith1000PendingResend) {
  qix::sim::Options so;
  so.latency_ms = 1000;  // no answer leaves before the drop
  start(so);
  StateLog states;
  Calls calls;
  auto o = options("resume");
  set_bool(o.get(), "reconnect.resend", true);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  std::map<int64_t, int> expected;
  for (int k = 0; k < 1000; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "*2\"]";
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls), QIX_OK);
    expected[id] = k * 2;
  }
  ASSERT_TRUE(wait_received("Evaluate", 1000));  // all in flight: received by the engine, not answered
  sim_->close_all(4003);
  ASSERT_TRUE(calls.wait(1000, 30s)) << calls.total() << " " << states.dump();
  auto got = calls.snapshot();
  ASSERT_EQ(got.size(), 1000u);
  int ok = 0;
  for (auto& [id, k2] : expected) {
    const auto& e = got[id];
    EXPECT_EQ(e.count, 1) << id;
    ok += e.status == QIX_OK;
    EXPECT_EQ(e.status, QIX_OK) << id;
    if (e.status == QIX_OK) {
      EXPECT_EQ(e.json, "\"" + std::to_string(k2) + "\"") << "call " << id << " got another answer";
    }
  }
  EXPECT_EQ(ok, 1000);
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4003) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  EXPECT_EQ(received("Evaluate"), 2000u) << "the calls in flight were sent again";
  ASSERT_TRUE(close_and_drain(s.get()));
  EXPECT_EQ(calls.total(), 1000) << "no call completed twice";
}

// ---------------------------------------------------------------------------------------------------------
// Calls made while suspended

TEST_F(Reconnect, CallsWhileSuspendedWaitThenRun) {
  start();
  StateLog states;
  Calls calls;
  auto o = options("resume", 200, 50);  // keeps trying (up to 200 ms apart) while the engine is down
  set_bool(o.get(), "reconnect.queue_calls", true);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  auto obj = create_cube(doc.get(), cube_props("q-cube", "Region", "Sum(Sales)"));
  ASSERT_TRUE(obj);

  sim_->stop();  // unreachable: the session stays suspended
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED);
  std::map<int64_t, std::string> expected;  // Evaluate calls: id -> answer
  for (int k = 0; k < 5; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "+100\"]";
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls), QIX_OK);
    expected[id] = "\"" + std::to_string(k + 100) + "\"";
    ASSERT_EQ(qix_object_call(nullptr, obj.get(), "GetLayout", "[]", 0, -1, &Calls::cb, &calls), QIX_OK);
  }
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls), QIX_OK);
  // Queued, not failed: a call that failed at once would not be pending.
  EXPECT_EQ(qix_session_pending_calls(s.get()), 11) << "the calls wait for the resume";
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED);

  restart();
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  ASSERT_TRUE(calls.wait(11)) << calls.total();
  auto got = calls.snapshot();
  EXPECT_EQ(got.size(), 11u);
  for (auto& [id, e] : got) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_OK) << id << " " << e.json;
    auto it = expected.find(id);
    if (it != expected.end()) {
      EXPECT_EQ(e.json, it->second) << id;
    }
  }
  EXPECT_EQ(received("Evaluate"), 5u);
  EXPECT_EQ(received("EngineVersion"), 1u);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
}

TEST_F(Reconnect, CallsWhileSuspendedFailFast) {
  start();
  StateLog states;
  Calls calls;
  auto o = options("resume", 200, 50);
  set_bool(o.get(), "reconnect.queue_calls", false);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);

  sim_->stop();
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  ASSERT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED);
  // A blocking call returns the failure at once (a queued call would end by its 10 s timeout instead).
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1+1"])", nullptr, 10000), QIX_ECONNECTION)
      << last_error_message();
  int issued = 0;
  for (int k = 0; k < 3; ++k) {
    int rc = qix_object_call(nullptr, doc.get(), "Evaluate", R"(["2+2"])", 0, -1, &Calls::cb, &calls);
    EXPECT_TRUE(rc == QIX_OK || rc == QIX_ECONNECTION) << rc;  // either way the callback reports it
    ++issued;
    rc = qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls);
    EXPECT_TRUE(rc == QIX_OK || rc == QIX_ECONNECTION) << rc;
    ++issued;
  }
  ASSERT_TRUE(calls.wait(issued, 10s)) << calls.total();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED) << "they failed while still suspended";
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_ECONNECTION) << id;
  }

  restart();
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["3+3"])", &v), QIX_OK) << last_error_message();
  EXPECT_EQ(v, "\"6\"");
  EXPECT_EQ(received("Evaluate"), 1u) << "the failed calls were never sent";
  EXPECT_EQ(calls.total(), issued);
}
