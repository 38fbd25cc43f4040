// Sessions through the C API against the simulator over loopback sockets: opening (sync, async, failures,
// HTTP errors, headers kept out of the traffic log), calls (unwrapping, handles by number, engine errors,
// invalid arguments, timeouts, callback threads, QIX_EBUSY from callbacks), state and notification
// listeners, the poll API, size limits and TLS against a plain server.
#include "capi_support.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <future>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace qix::test;

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

// A result's unwrapped text is written on first request; threads asking at the same moment all get the one
// text (the same pointer), whoever writes it.
TEST_F(CapiTest, ResultTextWrittenOnceWhenManyThreadsReadItAtOnce) {
  auto s = open();
  for (int round = 0; round < 20; ++round) {
    qix_result* r = nullptr;
    ASSERT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, -1), QIX_OK);
    ResultPtr res(r);
    constexpr int kThreads = 4;
    std::latch start(kThreads);
    std::vector<const char*> seen(kThreads);
    std::vector<std::thread> readers;
    readers.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      readers.emplace_back([&, t] {
        start.arrive_and_wait();
        seen[t] = qix_result_json(r);
      });
    }
    for (auto& t : readers) t.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]) << "round " << round << ", thread " << t;
    EXPECT_NE(std::string(seen[0]).find("qComponentVersion"), std::string::npos);
    EXPECT_EQ(qix_result_json(r), seen[0]);
  }
}

// A state listener added while the session's CLOSED event is queued (a host registering its listeners just
// as the session fails) gets nothing, and qix_session_wait_closed() still returns once that event has run.
TEST_F(CapiTest, WaitClosedReturnsWhenAListenerIsAddedWhileTheCloseIsQueued) {
  auto s = open();
  struct Hold {
    std::promise<void> holding, release;
    std::shared_future<void> released;
  } hold;
  hold.released = hold.release.get_future().share();
  ASSERT_EQ(qix_session_on_state(
                nullptr, s.get(),
                [](qix_session*, int state, int, const char*, void* p) {
                  if (state != QIX_STATE_CLOSED) return;
                  auto* h = static_cast<Hold*>(p);
                  h->holding.set_value();
                  h->released.wait();
                },
                &hold),
            QIX_OK);
  qix_session_close(s.get());
  hold.holding.get_future().wait();  // the CLOSED event is queued and running: the session's events are held
  std::atomic<int> late{0};
  ASSERT_EQ(
      qix_session_on_state(
          nullptr, s.get(),
          [](qix_session*, int, int, const char*, void* p) { ++*static_cast<std::atomic<int>*>(p); }, &late),
      QIX_OK);
  hold.release.set_value();
  EXPECT_EQ(qix_session_wait_closed(s.get(), -1), QIX_OK);
  EXPECT_EQ(late.load(), 0);
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
  EXPECT_NE(std::string(qix_error_message(qix_error_last())).find("handle 4242 is not open"),
            std::string::npos);
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
  EXPECT_EQ(qix_session_call_handle(nullptr, s.get(), h, "Evaluate", "[oops", 0, -1, nullptr, nullptr),
            QIX_EINVAL);
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
  // The log is complete once the session is closed and drained: its CLOSED event runs after every frame's.
  ASSERT_TRUE(close_and_drain(session.get()));
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
  // A callback queued by any of them would have run before the session's last event.
  ASSERT_TRUE(close_and_drain(s.get()));
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
  ASSERT_EQ(qix_session_wait_closed(s.get(), 20000), QIX_OK) << "the connection ends";
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
