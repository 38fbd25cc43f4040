// Automatic reconnect through the C API (2/2): what a resume restores (objects re-acquired by id on an
// attached session, re-created from their last properties after an engine restart, "changed" fired once),
// which close codes resume and which do not, the back-off's attempt limit, and the retry of calls the engine
// aborted with error 15. Against the in-process simulator over real sockets; states say what happened
// (SUSPENDED, then RESUMED or CLOSED with why).
#include "reconnect_support.hpp"
#include "support/capi_calls.hpp"

#include <string>

using namespace qix::test;

// ---------------------------------------------------------------------------------------------------------
// What a resume restores

TEST_F(Reconnect, EngineRestartRecreatesSessionObjects) {
  start();
  StateLog states;
  Waiter changed, closed;
  auto o = options("resume", 40);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  auto obj = create_cube(doc.get(), cube_props("rc-cube", "Region", "Sum(Sales)"));
  ASSERT_TRUE(obj);
  // New properties: another dimension and a custom property, which the re-created object must have.
  std::string props = "[" + cube_props("rc-cube", "Segment", "Sum(Sales)", R"("marker":"v2",)") + "]";
  ASSERT_EQ(sync(obj.get(), "SetProperties", props.c_str()), QIX_OK) << last_error_message();
  ASSERT_EQ(sync(obj.get(), "SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[0],false])"), QIX_OK)
      << last_error_message();
  std::string layout;
  ASSERT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK);  // valid: "changed" can fire
  ASSERT_EQ(qix_object_on_changed(nullptr, obj.get(), &count_event, &changed), QIX_OK);
  ASSERT_EQ(qix_object_on_closed(nullptr, obj.get(), &count_event, &closed), QIX_OK);
  ASSERT_EQ(received("CreateSessionObject"), 1u);

  restart();  // the socket drops without a close frame; the new engine knows nothing of the session

  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 1006) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_CLOSED), 0) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  auto st = sim_->stats();
  EXPECT_EQ(st["OpenDoc"].received, 1u) << "the doc was opened again with the original arguments";
  EXPECT_EQ(st["CreateSessionObject"].received, 1u) << "the session object was re-created";

  // "changed" fires (once: checked at the end) so that users re-fetch.
  ASSERT_TRUE(changed.wait_for(1));
  EXPECT_EQ(closed.count(), 0);
  EXPECT_EQ(qix_object_is_closed(obj.get()), 0);

  // The old handles keep working, the object has its last properties.
  EXPECT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK) << last_error_message();
  EXPECT_NE(layout.find("\"qInfo\":{\"qId\":\"rc-cube\""), std::string::npos) << layout.substr(0, 200);
  EXPECT_NE(layout.find("Segment"), std::string::npos) << layout.substr(0, 400);
  std::string got;
  EXPECT_EQ(sync(obj.get(), "GetProperties", "[]", &got), QIX_OK) << last_error_message();
  EXPECT_NE(got.find("\"marker\":\"v2\""), std::string::npos) << got;
  EXPECT_NE(got.find("Segment"), std::string::npos) << got;
  EXPECT_EQ(got.find("Region"), std::string::npos) << got;
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["6*7"])", &v), QIX_OK) << last_error_message();
  EXPECT_EQ(v, "\"42\"");
  qix_object* again = nullptr;
  ASSERT_EQ(qix_session_doc(&again, s.get()), QIX_OK);
  EXPECT_EQ(qix_object_handle(again), qix_object_handle(doc.get()));
  qix_object_free(again);
  EXPECT_EQ(closed.count(), 0);
  ASSERT_TRUE(close_and_drain(s.get()));  // a second "changed" from the resume would have run by now
  EXPECT_EQ(changed.count(), 1);
}

TEST_F(Reconnect, TtlAttachReacquires) {
  start();
  StateLog states;
  Waiter changed;
  auto o = options("attach", 10, 100, "/app/demo/ttl/30");
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  auto obj = create_cube(doc.get(), cube_props("ttl-cube", "Region", "Sum(Sales)"));
  ASSERT_TRUE(obj);
  std::string layout;
  ASSERT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK);
  ASSERT_EQ(qix_object_on_changed(nullptr, obj.get(), &count_event, &changed), QIX_OK);
  sim_->reset_stats();

  sim_->close_all(4003);

  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4003) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_CLOSED), 0) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  char* history = nullptr;
  ASSERT_EQ(qix_session_notifications(&history, s.get()), QIX_OK);
  std::string h = history ? history : "";
  qix_free(history);
  EXPECT_NE(h.find("SESSION_ATTACHED"), std::string::npos) << h;
  auto st = sim_->stats();
  EXPECT_GE(st["GetActiveDoc"].received, 1u);
  EXPECT_GE(st["GetObject"].received, 1u);
  EXPECT_EQ(st["OpenDoc"].received, 0u) << "the attached session still has its doc";
  EXPECT_EQ(st["CreateSessionObject"].received, 0u) << "the attached session still has its objects";

  EXPECT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK) << last_error_message();
  EXPECT_NE(layout.find("ttl-cube"), std::string::npos) << layout.substr(0, 200);
  EXPECT_NE(layout.find("\"qcy\":6"), std::string::npos) << layout.substr(0, 600);
  EXPECT_EQ(qix_object_is_closed(obj.get()), 0);
  ASSERT_TRUE(changed.wait_for(1));
  ASSERT_TRUE(close_and_drain(s.get()));  // a second "changed" from the resume would have run by now
  EXPECT_EQ(changed.count(), 1);
}

TEST_F(Reconnect, AttachPolicyWithoutTtlCloses) {
  start();
  StateLog states;
  auto o = options("attach");
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  sim_->close_all(4003);
  ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
  auto ev = states.first(QIX_STATE_CLOSED);
  EXPECT_NE(ev.reason.find("SESSION_CREATED"), std::string::npos) << ev.reason;
  auto [code, reason] = close_info(s.get());
  EXPECT_NE(reason.find("SESSION_CREATED"), std::string::npos) << reason;
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
  EXPECT_EQ(received("OpenDoc"), 1u) << "the attach policy never re-opens the doc";
}

// ---------------------------------------------------------------------------------------------------------
// Close codes

TEST_F(Reconnect, NonResumableCodes) {
  start();
  for (int code : {1000, 4000, 4001, 4002, 4005, 4006}) {
    SCOPED_TRACE("close code " + std::to_string(code));
    StateLog states;
    auto o = options("resume");
    auto s = open(o.get(), &states);
    ASSERT_TRUE(s);
    auto doc = open_doc(s.get());  // answered: the simulator serves this connection
    ASSERT_TRUE(doc);
    sim_->reset_stats();
    sim_->close_all(static_cast<std::uint16_t>(code));
    ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
    auto ev = states.first(QIX_STATE_CLOSED);
    EXPECT_EQ(ev.code, code);
    if (code != 1000 && code != 4000) {
      EXPECT_NE(ev.reason.find("not resumed"), std::string::npos) << ev.reason;
    }
    EXPECT_EQ(close_info(s.get()).first, code);
    EXPECT_EQ(states.count(QIX_STATE_SUSPENDED), 0) << states.dump();
    EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
    // CLOSED is final and was the last event: a new connection would have suspended the session first.
    ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK);
    EXPECT_EQ(states.count(QIX_STATE_SUSPENDED), 0) << states.dump();
    EXPECT_EQ(received("OpenDoc"), 0u);
    EXPECT_EQ(received("GetActiveDoc"), 0u);
    EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
    EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
  }
}

TEST_F(Reconnect, ResumableCodes) {
  start();
  for (int code : {4003, 4007}) {
    SCOPED_TRACE("close code " + std::to_string(code));
    StateLog states;
    auto o = options("resume");
    auto s = open(o.get(), &states);
    ASSERT_TRUE(s);
    auto doc = open_doc(s.get());
    ASSERT_TRUE(doc);
    sim_->close_all(static_cast<std::uint16_t>(code));
    ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
    EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, code) << states.dump();
    EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
    std::string v;
    EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["2*3"])", &v), QIX_OK) << last_error_message();
    EXPECT_EQ(v, "\"6\"");
    ASSERT_TRUE(close_and_drain(s.get()));  // closed by the client: never resumed
    EXPECT_EQ(states.count(QIX_STATE_RESUMED), 1) << states.dump();
  }
}

TEST_F(Reconnect, AppDeletedResumesWhenTheAppIsStillThere) {
  start();
  StateLog states;
  auto o = options("resume");
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  sim_->reset_stats();
  sim_->close_all(4004);
  // The simulator still has the app, so the single attempt succeeds.
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4004) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  EXPECT_EQ(received("OpenDoc"), 1u);
  EXPECT_EQ(sim_->connection_count(), 1u);
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["5*5"])", &v), QIX_OK) << last_error_message();
  EXPECT_EQ(v, "\"25\"");
}

TEST_F(Reconnect, AppDeletedTriesOnlyOnce) {
  start();
  StateLog states;
  // The first attempt waits the initial delay: long enough to replace the engine by one that is down.
  auto o = options("resume", 5, 1000);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  sim_->close_all(4004);
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4004) << states.dump();
  unsigned short port = sim_->port();
  sim_->stop();
  CountingListener down(port);
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
  // Each attempt is counted before the listener closes it, so before the session learns that it failed.
  EXPECT_EQ(down.accepted(), 1) << "4004: one attempt, whatever reconnect.max_attempts says";
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
}

TEST_F(Reconnect, GivesUpAfterMaxAttempts) {
  start();
  StateLog states;
  Calls calls;
  auto o = options("resume", 3, 100);  // about 100 + 200 + 400 ms of back-off, then it gives up
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);

  unsigned short port = sim_->port();
  sim_->stop();  // for good: connections are accepted and closed at once, and counted
  CountingListener down(port);
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 1006);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(qix_object_call(nullptr, doc.get(), "Evaluate", R"(["1+1"])", 0, -1, &Calls::cb, &calls),
              QIX_OK);
    EXPECT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls),
              QIX_OK);
  }
  ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
  // The reason says that it gave up, and after how many attempts.
  auto ev = states.first(QIX_STATE_CLOSED);
  EXPECT_NE(ev.reason.find("attempt"), std::string::npos) << ev.reason;
  EXPECT_NE(ev.reason.find('3'), std::string::npos) << ev.reason;
  auto [code, reason] = close_info(s.get());
  EXPECT_EQ(reason, ev.reason);
  ASSERT_TRUE(calls.wait(6)) << calls.total();
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_ECONNECTION) << id;
  }
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK);
  EXPECT_EQ(calls.total(), 6) << "no call completed twice";
  // Each attempt is counted before the listener closes it, so before the session learns that it failed.
  EXPECT_EQ(down.accepted(), 3) << "reconnect.max_attempts connection attempts, then no more";
}

// ---------------------------------------------------------------------------------------------------------
// Calculations aborted by the engine (error 15)

TEST_F(Reconnect, AbortedRetriedWhenOptedIn) {
  qix::sim::Options so;
  so.calc_delay_ms = 1000;  // a selection made within this aborts the calculation
  start(so);
  for (int retries : {0, 2}) {
    SCOPED_TRACE("retry.aborted=" + std::to_string(retries));
    sim_->reset_stats();
    Calls calls;
    auto o = options("");
    set_int(o.get(), "retry.aborted", retries);
    auto s = open(o.get());
    ASSERT_TRUE(s);
    auto doc = open_doc(s.get());
    ASSERT_TRUE(doc);
    auto field = get_object(s.get(), doc.get(), "GetField", R"(["Region"])");
    ASSERT_TRUE(field);
    ASSERT_EQ(sync(field.get(), "Clear", "[]"), QIX_OK);
    ASSERT_EQ(qix_object_call(nullptr, doc.get(), "Evaluate", R"(["1+1"])", 0, -1, &Calls::cb, &calls),
              QIX_OK);
    ASSERT_TRUE(wait_received("Evaluate", 1));  // the calculation runs: a selection now aborts it
    ASSERT_EQ(sync(field.get(), "Select", R"(["Nordic"])"), QIX_OK) << last_error_message();
    ASSERT_TRUE(calls.wait(1, 20s));
    auto got = calls.snapshot();
    ASSERT_EQ(got.size(), 1u);
    const auto& e = got.begin()->second;
    EXPECT_EQ(e.count, 1);
    if (retries == 0) {
      EXPECT_EQ(e.status, QIX_EENGINE);
      EXPECT_EQ(e.engine_code, 15);
      EXPECT_EQ(e.retriable, 1);
      EXPECT_EQ(received("Evaluate"), 1u);
    } else {
      EXPECT_EQ(e.status, QIX_OK) << e.engine_code;
      EXPECT_EQ(e.json, "\"2\"");
      EXPECT_EQ(received("Evaluate"), 2u) << "sent again once (no selection during the second run)";
    }
    ASSERT_TRUE(close_and_drain(s.get()));
    EXPECT_EQ(calls.total(), 1) << "completed once";
  }
}

TEST_F(Reconnect, CancelledCallIsNotRetried) {
  qix::sim::Options so;
  so.calc_delay_ms = 1000;
  start(so);
  Calls calls;
  auto o = options("");
  set_int(o.get(), "retry.aborted", 2);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  int64_t id = 0;
  ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", R"(["1+1"])", 0, -1, &Calls::cb, &calls), QIX_OK);
  ASSERT_TRUE(wait_received("Evaluate", 1));
  ASSERT_EQ(qix_session_cancel(s.get(), id), QIX_OK);  // the engine answers the cancelled call with 15
  ASSERT_TRUE(calls.wait(1));
  EXPECT_EQ(calls.snapshot()[id].status, QIX_ECANCELLED);
  ASSERT_TRUE(wait_received("CancelRequest", 1));
  // The engine answers the cancelled call (15) before anything sent after the CancelRequest: after one round
  // trip the client has handled that answer (and sent a retry, if it made one); after a second, the engine
  // has read whatever the first made the client send.
  round_trip(s.get());
  round_trip(s.get());
  EXPECT_EQ(received("Evaluate"), 1u) << "not sent again";
  ASSERT_TRUE(close_and_drain(s.get()));
  EXPECT_EQ(calls.total(), 1);
}
