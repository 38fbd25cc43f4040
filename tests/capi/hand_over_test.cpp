// qix_session_hand_over_events against the simulator: a callback that hands its session's events over may
// block (a blocking call works there instead of failing with QIX_EBUSY) while the session's later events,
// in order, run on another dispatcher thread; another thread can end a hold-up by a callback that waits for
// the answer to a call it made itself (its held request is sent, and a thread is started when the pool's
// one thread is the one held up); nothing to hand over is QIX_ENOTFOUND, a poll-mode session QIX_EINVAL.
// (The queue's hand-over itself, its generations and the pool's growth: tests/unit/context_test.cpp.)
#include "capi_support.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace qix::test;

namespace {

struct Later {
  Waiter done;
  std::vector<int64_t> ids;  // in the order their callbacks ran (under done's lock)
};

void later_cb(const qix_result* res, void* payload) {
  auto* later = static_cast<Later*>(payload);
  int64_t id = qix_result_id(res);
  bool ok = qix_result_status(res) == QIX_OK;
  later->done.notify([&] { later->ids.push_back(ok ? id : -id); });
}

struct Inside {
  qix_session* s = nullptr;
  Later later;
  int busy_before = 0;      // a blocking call before the hand-over
  int hand_over = 0;        // qix_session_hand_over_events from the callback
  int blocking_after = 0;   // the same blocking call after it
  std::string answer;       // its answer
  bool later_seen = false;  // the later calls' answers, delivered while this callback waits
  Waiter finished;
};

constexpr int kLater = 20;

void blocking_cb(const qix_result*, void* payload) {
  auto* in = static_cast<Inside*>(payload);
  qix_result* r = nullptr;
  in->busy_before = qix_session_call_sync(&r, in->s, "EngineVersion", "[]", 0, -1);
  qix_result_free(r);
  r = nullptr;
  in->hand_over = qix_session_hand_over_events(in->s);
  in->blocking_after = qix_session_call_sync(&r, in->s, "EngineVersion", "[]", 0, -1);
  if (r && qix_result_json(r)) in->answer = qix_result_json(r);
  qix_result_free(r);
  // Calls made here leave at once now, and their answers come on another thread while this one waits.
  for (int i = 0; i < kLater; ++i) {
    if (qix_session_call(nullptr, in->s, "EngineVersion", "[]", 0, -1, &later_cb, &in->later) != QIX_OK)
      return;
  }
  in->later_seen = in->later.done.wait_for(kLater, 60s);
  in->finished.notify();
}

struct HeldUp {
  qix_session* s = nullptr;
  Waiter blocked;   // the callback is about to wait
  Waiter answered;  // the answer to its own call
  bool saw_answer = false;
  Waiter finished;
};

void answered_cb(const qix_result* res, void* payload) {
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  static_cast<HeldUp*>(payload)->answered.notify();
}

void held_up_cb(const qix_result*, void* payload) {
  auto* h = static_cast<HeldUp*>(payload);
  // A request made inside a callback is held until the callback returns; this one waits for its answer,
  // which only a hand-over from another thread can bring (the pool has this one thread).
  EXPECT_EQ(qix_session_call(nullptr, h->s, "EngineVersion", "[]", 0, -1, &answered_cb, h), QIX_OK);
  h->blocked.notify();
  h->saw_answer = h->answered.wait_for(1, 60s);
  h->finished.notify();
}

}  // namespace

TEST_F(CapiTest, AHandedOverCallbackMayBlockWhileLaterEventsRunInOrder) {
  auto s = open();
  ASSERT_TRUE(s);
  Inside in;
  in.s = s.get();
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &blocking_cb, &in), QIX_OK);
  ASSERT_TRUE(in.finished.wait_for(1, 120s));
  EXPECT_EQ(in.busy_before, QIX_EBUSY);
  EXPECT_EQ(in.hand_over, QIX_OK);
  EXPECT_EQ(in.blocking_after, QIX_OK) << last_error_message();
  EXPECT_NE(in.answer.find("qComponentVersion"), std::string::npos) << in.answer;
  ASSERT_TRUE(in.later_seen);
  std::lock_guard lock(in.later.done.mutex());
  ASSERT_EQ(in.later.ids.size(), static_cast<size_t>(kLater));
  for (size_t i = 1; i < in.later.ids.size(); ++i) {
    EXPECT_GT(in.later.ids[i], in.later.ids[i - 1]) << "later events run one at a time, in order";
  }
}

TEST_F(CapiTest, AHandOverFromAnotherThreadEndsAHoldUp) {
  qix_context* ctx = nullptr;
  ASSERT_EQ(qix_context_new(&ctx, 1, 1), QIX_OK);  // one dispatcher thread: the one held up
  auto o = options();
  qix_session* raw = nullptr;
  ASSERT_EQ(qix_session_open_sync(&raw, ctx, o.get(), 10000), QIX_OK) << last_error_message();
  SessionPtr s(raw);
  HeldUp h;
  h.s = s.get();
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &held_up_cb, &h), QIX_OK);
  ASSERT_TRUE(h.blocked.wait_for(1, 60s));
  EXPECT_EQ(qix_session_hand_over_events(s.get()), QIX_OK) << last_error_message();
  ASSERT_TRUE(h.finished.wait_for(1, 120s));
  EXPECT_TRUE(h.saw_answer) << "the held request was sent and its answer delivered on a new thread";
  // The session goes on as before, its callbacks on the pool (now two threads).
  Waiter one;
  auto notify = [](const qix_result* res, void* p) {
    EXPECT_EQ(qix_result_status(res), QIX_OK);
    static_cast<Waiter*>(p)->notify();
  };
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, notify, &one), QIX_OK);
  EXPECT_TRUE(one.wait_for(1, 60s));
  s.reset();
  qix_context_free(ctx);
}

TEST_F(CapiTest, NothingToHandOver) {
  auto s = open();
  ASSERT_TRUE(s);
  // Once the session's events after the open (its state, OnConnected) have been delivered, nothing runs:
  // the end of a delivery is reported by no event, hence eventually (a hand-over meanwhile is harmless).
  EXPECT_TRUE(eventually([&] { return qix_session_hand_over_events(s.get()) == QIX_ENOTFOUND; }));
  EXPECT_NE(last_error_message().find("none of the session's events"), std::string::npos)
      << last_error_message();
  EXPECT_EQ(qix_session_hand_over_events(nullptr), QIX_EINVAL);
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto polled = open(o.get());
  ASSERT_TRUE(polled);
  EXPECT_EQ(qix_session_hand_over_events(polled.get()), QIX_EINVAL);
  EXPECT_NE(last_error_message().find("qix_session_poll"), std::string::npos) << last_error_message();
}

namespace {

// One session's chained calls for the load test: every completion issues the next call until `calls` were
// issued; every fifth (by request id) hands the session over and makes a blocking call before it does.
struct Chains {
  qix_session* s = nullptr;
  int calls = 0;
  std::atomic<int> issued{0};
  std::atomic<int> blocking_ok{0};
  std::atomic<int> failed{0};
  Waiter done;  // one count per completed asynchronous call
};

void chain_cb(const qix_result* res, void* payload) {
  auto* c = static_cast<Chains*>(payload);
  if (qix_result_status(res) != QIX_OK) c->failed++;
  if (qix_result_id(res) % 5 == 0) {
    if (qix_session_hand_over_events(c->s) != QIX_OK) c->failed++;
    qix_result* r = nullptr;
    if (qix_session_call_sync(&r, c->s, "EngineVersion", "[]", 0, -1) == QIX_OK) {
      c->blocking_ok++;
    } else {
      c->failed++;
    }
    qix_result_free(r);
  }
  if (c->issued.fetch_add(1) < c->calls) {
    if (qix_session_call(nullptr, c->s, "EngineVersion", "[]", 0, -1, &chain_cb, c) != QIX_OK) c->failed++;
  }
  c->done.notify();
}

}  // namespace

// Hand-overs under load: four sessions on a context of two dispatcher threads, 16 chains each, every fifth
// callback handing its session over and blocking in a call: every call completes once, nothing fails, and
// the pool grows only by what the held-up callbacks need (64 at most).
TEST_F(CapiTest, HandOversUnderLoadLoseNothing) {
  qix_context* ctx = nullptr;
  ASSERT_EQ(qix_context_new(&ctx, 1, 2), QIX_OK);
  constexpr int kSessions = 4, kWindow = 16, kCalls = 400;
  std::vector<SessionPtr> sessions;
  std::vector<std::unique_ptr<Chains>> chains;
  for (int i = 0; i < kSessions; ++i) {
    auto o = options();
    qix_session* raw = nullptr;
    ASSERT_EQ(qix_session_open_sync(&raw, ctx, o.get(), 10000), QIX_OK) << last_error_message();
    sessions.emplace_back(raw);
    auto c = std::make_unique<Chains>();
    c->s = raw;
    c->calls = kCalls;
    chains.push_back(std::move(c));
  }
  for (auto& c : chains) {
    for (int w = 0; w < kWindow; ++w) {
      c->issued++;
      ASSERT_EQ(qix_session_call(nullptr, c->s, "EngineVersion", "[]", 0, -1, &chain_cb, c.get()), QIX_OK);
    }
  }
  for (auto& c : chains) {
    // kWindow calls issued here, the rest (to kCalls) by their completions: each completes once.
    EXPECT_TRUE(c->done.wait_for(kCalls, 120s)) << c->done.count();
    EXPECT_EQ(c->failed.load(), 0);
    EXPECT_GT(c->blocking_ok.load(), 0);
  }
  sessions.clear();
  qix_context_free(ctx);
}
