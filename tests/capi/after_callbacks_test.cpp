// qix_after_callbacks against the simulator: a function registered from a callback runs once, on the same
// thread, after the callbacks queued behind that one (the rest of the run) and before their calls leave; the
// calls it makes are answered; one it registers runs next; it may hand the session's events over and then
// block, as a callback may, and the functions not run yet then go along to the thread taking the events over;
// outside a callback, and in a callback run by qix_session_poll, nothing is registered (QIX_ENOTFOUND), and a
// NULL function is QIX_EINVAL.
#include "capi_support.hpp"
#include "qix/qix.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace qix::test;

namespace {

// A run of callbacks: the first one waits at `gate` (its session's events run on the dispatcher,
// events.inline off) until the test has seen every other answer arrive, so that they are queued behind it and
// run in the same drain; the second one registers the function.
struct RunOfCallbacks {
  qix_session* s = nullptr;
  Waiter entered;  // the first callback is at the gate
  Waiter gate;     // the test lets it go on
  std::mutex mutex;
  std::vector<std::string> order;  // what ran, in order: "cb", "after", "after2", "answer"
  std::vector<std::thread::id> threads;
  int registered = 0;  // qix_after_callbacks from the second callback
  int calls_made = 0;  // qix_session_call from the function
  Waiter after_done;   // the function registered by the second callback ran (and the one it registered)
  Waiter answered;     // the call the function made was answered
  int callbacks = 0;   // callbacks run so far
};

void note(RunOfCallbacks* r, const char* what) {
  std::lock_guard lock(r->mutex);
  r->order.emplace_back(what);
  r->threads.push_back(std::this_thread::get_id());
}

void answer_cb(const qix_result* res, void* payload) {
  auto* r = static_cast<RunOfCallbacks*>(payload);
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  note(r, "answer");
  r->answered.notify();
}

void after2(void* payload) {
  auto* r = static_cast<RunOfCallbacks*>(payload);
  note(r, "after2");
  r->after_done.notify();
}

void after(void* payload) {
  auto* r = static_cast<RunOfCallbacks*>(payload);
  note(r, "after");
  {
    std::lock_guard lock(r->mutex);
    r->calls_made = qix_session_call(nullptr, r->s, "EngineVersion", "[]", 0, -1, &answer_cb, r);
  }
  EXPECT_EQ(qix_after_callbacks(&after2, r), QIX_OK);  // runs next, in the same place
}

void run_cb(const qix_result* res, void* payload) {
  auto* r = static_cast<RunOfCallbacks*>(payload);
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  int n = 0;
  {
    std::lock_guard lock(r->mutex);
    n = r->callbacks++;
  }
  if (n == 0) {
    r->entered.notify();
    EXPECT_TRUE(r->gate.wait_for(1, 60s));
  } else if (n == 1) {
    int rc = qix_after_callbacks(&after, r);
    std::lock_guard lock(r->mutex);
    r->registered = rc;
  }
  note(r, "cb");
}

// A function that hands the session's events over and then blocks, as a callback may.
struct Blocker {
  qix_session* s = nullptr;
  std::atomic<int> tries{0};
  int registered = 0;
  int hand_over = 0;
  int call_sync = 0;
  std::string answer;
  std::string thread;
  Waiter finished;
};

void blocker_after(void* payload) {
  auto* b = static_cast<Blocker*>(payload);
  b->thread = this_thread_name();
  b->hand_over = qix_session_hand_over_events(b->s);
  qix_result* r = nullptr;
  b->call_sync = qix_session_call_sync(&r, b->s, "EngineVersion", "[]", 0, -1);
  if (r && qix_result_json(r)) b->answer = qix_result_json(r);
  qix_result_free(r);
  b->finished.notify();
}

void blocker_cb(const qix_result* res, void* payload) {
  auto* b = static_cast<Blocker*>(payload);
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  // The first answer may run on the dispatcher (the session's queue still busy with its open's events):
  // asked again until one runs on the I/O thread.
  if (this_thread_name() != "qix-io" && b->tries.fetch_add(1) < 1000) {
    if (qix_session_call(nullptr, b->s, "EngineVersion", "[]", 0, -1, &blocker_cb, b) != QIX_OK) {
      b->finished.notify();
    }
    return;
  }
  b->registered = qix_after_callbacks(&blocker_after, b);
  if (b->registered != QIX_OK) b->finished.notify();
}

// A function that keeps back "the rest of its run" (a second function), hands the session's events over
// and waits until that rest has run: the thread taking the events over runs it first, before the answer to
// the call made before the hand-over.
struct Rest {
  qix_session* s = nullptr;
  int registered = 0;
  int rest_registered = 0;
  int call = 0;
  int hand_over = 0;
  bool rest_seen = false;  // the wait for the rest ended with the rest run
  std::mutex mutex;
  std::vector<std::string> order;
  std::thread::id waiter, rest_thread;
  Waiter rest_ran;
  Waiter finished;
};

void rest_answer_cb(const qix_result*, void* payload) {
  auto* r = static_cast<Rest*>(payload);
  std::lock_guard lock(r->mutex);
  r->order.emplace_back("answer");
}

void rest_fn(void* payload) {
  auto* r = static_cast<Rest*>(payload);
  {
    std::lock_guard lock(r->mutex);
    r->order.emplace_back("rest");
    r->rest_thread = std::this_thread::get_id();
  }
  r->rest_ran.notify();
}

void rest_waiter(void* payload) {
  auto* r = static_cast<Rest*>(payload);
  r->waiter = std::this_thread::get_id();
  r->call = qix_session_call(nullptr, r->s, "EngineVersion", "[]", 0, -1, &rest_answer_cb, r);
  r->rest_registered = qix_after_callbacks(&rest_fn, r);
  r->hand_over = qix_session_hand_over_events(r->s);
  r->rest_seen = r->rest_ran.wait_for(1, 60s);
  r->finished.notify();
}

void rest_cb(const qix_result*, void* payload) {
  auto* r = static_cast<Rest*>(payload);
  r->registered = qix_after_callbacks(&rest_waiter, r);
  if (r->registered != QIX_OK) r->finished.notify();
}

struct Polled {
  int rc = 0;
  bool ran = false;
};

void never(void*) {
  ADD_FAILURE() << "a function refused by qix_after_callbacks ran";
}

void polled_cb(const qix_result*, void* payload) {
  auto* p = static_cast<Polled*>(payload);
  p->rc = qix_after_callbacks(&never, nullptr);
  p->ran = true;
}

}  // namespace

TEST_F(CapiTest, AfterCallbacksIsRefusedOutsideCallbacks) {
  EXPECT_EQ(qix_after_callbacks(nullptr, nullptr), QIX_EINVAL);
  EXPECT_NE(last_error_message().find("NULL"), std::string::npos) << last_error_message();
  EXPECT_EQ(qix_after_callbacks(&never, nullptr), QIX_ENOTFOUND);
  EXPECT_NE(last_error_message().find("not in a callback"), std::string::npos) << last_error_message();
  // events.poll: the callbacks run in qix_session_poll, on the host's thread, one at a time.
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  Polled p;
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &polled_cb, &p), QIX_OK);
  for (int i = 0; i < 10000 && !p.ran; ++i) qix_session_poll(s.get(), 100);
  ASSERT_TRUE(p.ran);
  EXPECT_EQ(p.rc, QIX_ENOTFOUND);
}

// Eight calls whose answers run in one drain: the function registered by the second runs after it (and
// after the callbacks run back to back with it: all of them unless they took longer than the 400 µs a run
// holds its output), on their thread, before the answer to the call it made; the function it registered
// runs right after it.
TEST_F(CapiTest, AfterCallbacksRunsOnceTheRunIsOver) {
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.inline", 0), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  DrainOnExit drain(s.get());
  RunOfCallbacks r;
  r.s = s.get();
  constexpr int kCalls = 8;
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &run_cb, &r), QIX_OK);
  ASSERT_TRUE(r.entered.wait_for(1, 60s));
  for (int i = 1; i < kCalls; ++i) {
    ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &run_cb, &r), QIX_OK);
  }
  // Their answers are read and queued behind the waiting callback (libqix counts a call pending until then).
  ASSERT_TRUE(eventually([&] { return qix_session_pending_calls(s.get()) == 0; }));
  r.gate.notify();
  ASSERT_TRUE(r.after_done.wait_for(1, 60s));
  ASSERT_TRUE(r.answered.wait_for(1, 60s));
  std::lock_guard lock(r.mutex);
  EXPECT_EQ(r.registered, QIX_OK);
  EXPECT_EQ(r.calls_made, QIX_OK);
  ASSERT_EQ(r.order.size(), kCalls + 3u);
  EXPECT_EQ(std::count(r.order.begin(), r.order.end(), "cb"), kCalls);
  EXPECT_EQ(r.order.back(), "answer");
  auto at = std::find(r.order.begin(), r.order.end(), "after") - r.order.begin();
  EXPECT_GE(at, 2) << "the function ran before the callback that registered it returned";
  ASSERT_LT(at + 1, static_cast<long>(r.order.size()));
  EXPECT_EQ(r.order[at + 1], "after2");
  for (long i = 1; i <= at + 1; ++i) {
    EXPECT_EQ(r.threads[i], r.threads[0]) << r.order[i] << " ran on another thread than the callbacks";
  }
}

// On the I/O thread (events.inline): the function hands the session's events over, then a blocking call
// there is answered (it would fail with QIX_EBUSY without the hand-over, as in a callback).
TEST_F(CapiTest, AfterCallbacksMayHandOverAndBlock) {
  auto s = open();
  ASSERT_TRUE(s);
  DrainOnExit drain(s.get());
  Blocker b;
  b.s = s.get();
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &blocker_cb, &b), QIX_OK);
  ASSERT_TRUE(b.finished.wait_for(1, 120s));
  EXPECT_EQ(b.registered, QIX_OK);
  EXPECT_EQ(b.thread, "qix-io");
  EXPECT_EQ(b.hand_over, QIX_OK);
  EXPECT_EQ(b.call_sync, QIX_OK) << last_error_message();
  EXPECT_NE(b.answer.find("qComponentVersion"), std::string::npos) << b.answer;
}

// A hand-over from the thread running the functions takes the ones not run yet along: registered, then
// handed over, a function runs on the thread that takes the events over, first (before the answer to a call
// made before the hand-over), while the one that handed over still waits for it (it would wait for ever if
// the function stayed behind on its thread).
TEST_F(CapiTest, AfterCallbacksNotRunYetGoAlongWithAHandOver) {
  for (const bool inline_events : {false, true}) {
    SCOPED_TRACE(inline_events ? "events.inline" : "dispatcher");
    auto o = options();
    ASSERT_EQ(qix_options_set_bool(o.get(), "events.inline", inline_events ? 1 : 0), QIX_OK);
    auto s = open(o.get());
    ASSERT_TRUE(s);
    DrainOnExit drain(s.get());
    Rest r;
    r.s = s.get();
    ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &rest_cb, &r), QIX_OK);
    ASSERT_TRUE(r.finished.wait_for(1, 120s));
    EXPECT_EQ(r.registered, QIX_OK);
    EXPECT_EQ(r.call, QIX_OK);
    EXPECT_EQ(r.rest_registered, QIX_OK);
    EXPECT_EQ(r.hand_over, QIX_OK);
    EXPECT_TRUE(r.rest_seen) << "the function registered before the hand-over stayed behind";
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(r.mutex);
      return r.order.size() == 2;
    }));
    std::lock_guard lock(r.mutex);
    EXPECT_EQ(r.order[0], "rest");
    EXPECT_EQ(r.order[1], "answer");
    EXPECT_NE(r.rest_thread, r.waiter);
  }
}

// The C++ facade's form: false outside a callback (the function is dropped, never run); from a callback the
// function runs once, on the callback's thread, after it.
TEST_F(CapiTest, AfterCallbacksInTheFacade) {
  bool ran_outside = false;
  EXPECT_FALSE(qix::after_callbacks([&] { ran_outside = true; }));
  auto s = open();
  ASSERT_TRUE(s);
  DrainOnExit drain(s.get());
  struct Facade {
    Waiter ran;
    bool registered = false;
    bool callback_returned = false;
    bool after_saw_return = false;
    std::thread::id callback_thread, after_thread;
  } f;
  auto cb = [](const qix_result*, void* payload) {
    auto* st = static_cast<Facade*>(payload);
    st->callback_thread = std::this_thread::get_id();
    st->registered = qix::after_callbacks([st] {
      st->after_thread = std::this_thread::get_id();
      st->after_saw_return = st->callback_returned;
      st->ran.notify();
    });
    st->callback_returned = true;
    if (!st->registered) st->ran.notify();
  };
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, cb, &f), QIX_OK);
  ASSERT_TRUE(f.ran.wait_for(1, 60s));
  EXPECT_TRUE(f.registered);
  EXPECT_TRUE(f.after_saw_return);
  EXPECT_EQ(f.after_thread, f.callback_thread);
  EXPECT_FALSE(ran_outside);
}
