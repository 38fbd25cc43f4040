// Closing through the C API, against the simulator over loopback sockets: many pending calls cancelled,
// closed or disconnected (each completes exactly once), zombies after close, a close from a callback, and
// qix_session_wait_closed: the CLOSED event is the session's last, and waiting for it is the one signal
// that every callback has run.
#include "capi_support.hpp"
#include "support/capi_calls.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace qix::test;

TEST_F(CapiTest, ThousandPendingCallsCancelled) {
  qix::sim::Options so;
  so.latency_ms = 1000;
  restart_sim(so);
  Calls calls;
  auto s = open();
  DrainOnExit drain(s.get());
  std::vector<int64_t> ids(1000);
  for (auto& id : ids) {
    ASSERT_EQ(qix_session_call(&id, s.get(), "EngineVersion", "[]", 0, -1, &Calls::cb, &calls), QIX_OK);
  }
  EXPECT_GE(qix_session_pending_calls(s.get()), 900);
  for (auto id : ids) EXPECT_EQ(qix_session_cancel(s.get(), id), QIX_OK);
  ASSERT_TRUE(calls.wait(1000)) << calls.total();
  auto got = calls.snapshot();
  EXPECT_EQ(got.size(), 1000u);
  for (auto& [id, e] : got) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_ECANCELLED) << id;
  }
  for (auto id : ids) EXPECT_EQ(qix_session_cancel(s.get(), id), QIX_ENOTFOUND);
  // Closed while the simulator still has the calls and their CancelRequests on its hands: nothing breaks,
  // and the late answers complete nothing twice.
  ASSERT_TRUE(close_and_drain(s.get()));
  EXPECT_EQ(calls.total(), 1000);
}

TEST_F(CapiTest, CloseThenFreeAtOnceCompletesEveryPendingCall) {
  qix::sim::Options so;
  so.latency_ms = 500;
  restart_sim(so);
  // On the heap, freed only once every call completed: the session is freed below, so nothing can wait for
  // its last event, and a failing test must not leave callbacks that write to a dead stack frame.
  auto* calls = new Calls;
  qix_session* s = open().release();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(qix_session_call(nullptr, s, "EngineVersion", "[]", 0, -1, &Calls::cb, calls), QIX_OK);
  }
  // Free right after close: the WebSocket close handshake has not even started.
  qix_session_close(s);
  qix_session_free(s);
  ASSERT_TRUE(calls->wait(100)) << "every pending call completes";
  auto got = calls->snapshot();
  EXPECT_EQ(got.size(), 100u);
  for (auto& [id, e] : got) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_ECLOSED) << id;
  }
  if (calls->total() == 100) delete calls;
}

TEST_F(CapiTest, ThousandPendingCallsDisconnected) {
  qix::sim::Options so;
  so.latency_ms = 3000;
  restart_sim(so);
  Calls calls;
  auto s = open();
  DrainOnExit drain(s.get());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &Calls::cb, &calls), QIX_OK);
  }
  // Once: the simulator closes a connection whose upgrade it is still finishing as soon as it is open.
  sim_->close_all(4003);
  ASSERT_TRUE(calls.wait(1000)) << calls.total();
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_TRUE(e.status == QIX_ECONNECTION || e.status == QIX_ECLOSED) << id << ": " << e.status;
  }
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  int code = 0;
  char* reason = nullptr;
  ASSERT_EQ(qix_session_close_info(&code, &reason, s.get()), QIX_OK);
  qix_free(reason);
  EXPECT_EQ(code, 4003);
  EXPECT_EQ(calls.total(), 1000);
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
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK);
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
  EXPECT_EQ(qix_object_on_changed(
                &lid, obj.get(), [](qix_object*, void*) {}, nullptr),
            QIX_ECLOSED);
  EXPECT_EQ(qix_object_watch(obj.get(), cb, &ctx), QIX_ECLOSED);
  EXPECT_EQ(qix_object_extract(
                obj.get(), "/qHyperCubeDef", 0, 0, [](const char*, size_t, int64_t, void*) { return 0; },
                [](int, const qix_error*, int64_t, void*) {}, nullptr),
            QIX_ECLOSED);
  ASSERT_EQ(qix_session_close_info(&code, nullptr, s.get()), QIX_OK);
  EXPECT_EQ(code, 1000);

  // Freeing the session first leaves the objects as zombies.
  s.reset();
  EXPECT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1), QIX_ECLOSED);
  EXPECT_EQ(qix_object_handle(obj.get()), qix_object_handle(obj.get()));
}

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
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
}

// ---------------------------------------------------------------------------------------------------------
// qix_session_wait_closed

namespace {

/// What had happened when the session's CLOSED event ran.
struct AtClosed {
  std::mutex m;
  Calls* calls = nullptr;
  std::atomic<int> object_closed{0};
  std::atomic<int> frames{0};
  int calls_at_closed = -1;
  int object_closed_at_closed = -1;
  int frames_at_closed = -1;
  int closed_events = 0;
  static void on_state(qix_session*, int state, int, const char*, void* p) {
    auto* a = static_cast<AtClosed*>(p);
    if (state != QIX_STATE_CLOSED) return;
    std::lock_guard l(a->m);
    ++a->closed_events;
    a->calls_at_closed = a->calls->total();
    a->object_closed_at_closed = a->object_closed.load();
    a->frames_at_closed = a->frames.load();
  }
};

}  // namespace

TEST_F(CapiTest, WaitClosedReturnsAfterTheLastEvent) {
  qix::sim::Options so;
  so.latency_ms = 2000;  // the calls below are pending when the session closes
  restart_sim(so);
  Calls calls;
  AtClosed at;
  at.calls = &calls;
  auto o = options();
  ASSERT_EQ(qix_options_set_traffic_cb(
                o.get(), [](int, const char*, size_t, void* p) { ++static_cast<AtClosed*>(p)->frames; }, &at),
            QIX_OK);
  auto s = open(o.get());
  auto doc = open_doc(s.get());
  ASSERT_EQ(
      qix_object_on_closed(
          nullptr, doc.get(), [](qix_object*, void* p) { ++static_cast<AtClosed*>(p)->object_closed; }, &at),
      QIX_OK);
  ASSERT_EQ(qix_session_on_state(nullptr, s.get(), &AtClosed::on_state, &at), QIX_OK);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &Calls::cb, &calls), QIX_OK);
  }
  EXPECT_EQ(qix_session_wait_closed(s.get(), 0), QIX_ETIMEOUT) << "open: not closed";
  qix_session_close(s.get());
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK) << last_error_message();
  // Everything ran, and ran before the CLOSED event: it is the session's last.
  std::lock_guard l(at.m);
  EXPECT_EQ(at.closed_events, 1);
  EXPECT_EQ(calls.total(), 200);
  EXPECT_EQ(at.calls_at_closed, 200) << "every pending call completed before CLOSED";
  for (auto& [id, e] : calls.snapshot()) EXPECT_EQ(e.status, QIX_ECLOSED) << id;
  EXPECT_EQ(at.object_closed.load(), 1);
  EXPECT_EQ(at.object_closed_at_closed, 1) << "the doc's closed event ran before CLOSED";
  EXPECT_EQ(at.frames_at_closed, at.frames.load()) << "no traffic callback after CLOSED";
  EXPECT_GE(at.frames.load(), 2 + 200);  // OpenDoc, its answer, the calls sent
  // Drained stays drained: at once, from any thread, any number of times.
  EXPECT_EQ(qix_session_wait_closed(s.get(), 0), QIX_OK);
  std::thread([&] { EXPECT_EQ(qix_session_wait_closed(s.get(), -1), QIX_OK); }).join();
}

TEST_F(CapiTest, WaitClosedWhenTheEngineClosesAndForSeveralWaiters) {
  auto s = open();
  std::atomic<int> ok{0};
  std::vector<std::thread> waiters;
  waiters.reserve(3);
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] { ok += qix_session_wait_closed(s.get(), -1) == QIX_OK; });
  }
  sim_->close_all(4000);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
}

TEST_F(CapiTest, WaitClosedTimesOutWhileOpenAndChecksArguments) {
  auto s = open();
  EXPECT_EQ(qix_session_wait_closed(s.get(), 0), QIX_ETIMEOUT);
  EXPECT_EQ(last_error_message(), "the session is not closed");
  EXPECT_EQ(qix_session_wait_closed(s.get(), 1), QIX_ETIMEOUT);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED) << "waiting does not close";
  EXPECT_EQ(qix_session_wait_closed(nullptr, 0), QIX_EINVAL);
  EXPECT_EQ(qix_session_wait_closed(s.get(), -2), QIX_EINVAL);
}

TEST_F(CapiTest, WaitClosedFromACallbackIsBusy) {
  auto s = open();
  struct Ctx {
    Waiter w;
    qix_session* s = nullptr;
    int waited = 1, checked = 1;
  } ctx;
  ctx.s = s.get();
  ASSERT_EQ(qix_session_call(
                nullptr, s.get(), "EngineVersion", "[]", 0, -1,
                [](const qix_result*, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  int waited = qix_session_wait_closed(c->s, 1000);
                  int checked = qix_session_wait_closed(c->s, 0);
                  c->w.notify([&] {
                    c->waited = waited;
                    c->checked = checked;
                  });
                },
                &ctx),
            QIX_OK);
  ASSERT_TRUE(ctx.w.wait_for(1));
  EXPECT_EQ(ctx.waited, QIX_EBUSY);
  EXPECT_EQ(ctx.checked, QIX_ETIMEOUT) << "checking without waiting is fine";
}

TEST_F(CapiTest, WaitClosedWithPolledEvents) {
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto s = open(o.get());
  Waiter closed;
  ASSERT_EQ(qix_session_on_state(
                nullptr, s.get(),
                [](qix_session*, int state, int, const char*, void* p) {
                  if (state == QIX_STATE_CLOSED) static_cast<Waiter*>(p)->notify();
                },
                &closed),
            QIX_OK);
  qix_session_close(s.get());
  // The events run in qix_session_poll: a single-threaded host polls until the session is drained.
  int rounds = 0;
  while (qix_session_wait_closed(s.get(), 0) != QIX_OK && rounds < 1000) {
    EXPECT_GE(qix_session_poll(s.get(), 1000), 0);
    ++rounds;
  }
  EXPECT_EQ(qix_session_wait_closed(s.get(), 0), QIX_OK);
  EXPECT_EQ(closed.count(), 1);
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0) << "nothing left to run";
}

TEST_F(CapiTest, WaitClosedAfterAFailedOpen) {
  unsigned short port = sim_->port();
  sim_->stop();
  auto o = options();
  ASSERT_EQ(
      qix_options_set_str(o.get(), "url", ("ws://127.0.0.1:" + std::to_string(port) + "/app/demo").c_str()),
      QIX_OK);
  Waiter opened;
  qix_session* raw = nullptr;
  ASSERT_EQ(
      qix_session_open(
          &raw, nullptr, o.get(),
          [](qix_session*, int, const qix_error*, void* p) { static_cast<Waiter*>(p)->notify(); }, &opened),
      QIX_OK);
  SessionPtr s(raw);
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK);
  EXPECT_EQ(opened.count(), 1) << "the open callback ran before the end";
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
}
