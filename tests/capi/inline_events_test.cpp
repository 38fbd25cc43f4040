// The option events.inline against the simulator: a session's callbacks run on the I/O thread that read their
// answers when none of its callbacks is queued or running, and stay one at a time and in order when some go
// through the dispatcher instead; a blocking call or wait in such a callback fails with QIX_EBUSY (the thread
// that would read its answer is the one waiting) until the callback hands the session's events over, which
// makes another thread take the I/O role; a callback held up on the I/O thread is relieved by the watch, so
// other sessions go on; a callback there may close or free its session; events.inline with events.poll is
// refused. (SerialQueue::claim and run_here themselves: tests/unit/context_test.cpp.)
#include "capi_support.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace qix::test;

namespace {

// A chain of calls, each issued from the callback of the one before, WINDOW of them in flight.
struct Chain {
  qix_session* s = nullptr;
  int total = 0;
  std::atomic<int> issued{0};
  Waiter done;
  std::vector<std::string> threads;  // each callback's thread, in the order they ran (under done's lock)
  std::vector<int64_t> ids;          // each callback's request id, likewise (negative: failed)
};

void chain_cb(const qix_result* res, void* payload);

void chain_issue(Chain* c) {
  if (c->issued.fetch_add(1) >= c->total) return;
  if (qix_session_call(nullptr, c->s, "EngineVersion", "[]", 0, -1, &chain_cb, c) != QIX_OK) {
    c->done.notify([&] { c->ids.push_back(0); });
  }
}

void chain_cb(const qix_result* res, void* payload) {
  auto* c = static_cast<Chain*>(payload);
  const int64_t id = qix_result_id(res);
  const bool ok = qix_result_status(res) == QIX_OK;
  std::string name = this_thread_name();
  c->done.notify([&] {
    c->threads.push_back(name);
    c->ids.push_back(ok ? id : -id);
  });
  chain_issue(c);
}

OptionsPtr with_inline(OptionsPtr o) {
  EXPECT_EQ(qix_options_set_bool(o.get(), "events.inline", 1), QIX_OK);
  return o;
}

// Inside a callback that ran on the I/O thread: what blocking calls and waits return there.
struct Probe {
  qix_session* s = nullptr;
  std::atomic<int> tries{0};
  std::string thread;
  int call_sync = 0;
  std::string call_sync_message;
  int wait_closed = 0;
  int hand_over = 0;
  int call_sync_after = 0;
  std::string call_sync_after_message;
  std::string version_after;  // the blocking call's answer
  bool on_io_after = true;    // Context's view after the hand-over: still an I/O thread?
  int wait_closed_after = 0;
  int async_after = 0;
  Waiter finished;
  Waiter async_answered;
};

void probe_answer_cb(const qix_result* res, void* payload) {
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  static_cast<Probe*>(payload)->async_answered.notify();
}

// The first answer may come while the session's queue is busy (its open's events): then it runs on the
// dispatcher. Issues the call again, with the same callback, until one runs on the I/O thread (1,000 times at
// most); true when it did (the callback returns then). `state` has the session `s`, `tries` and `finished`.
template <class State>
bool again_until_inline(State* state, qix_call_cb cb) {
  if (this_thread_name() == "qix-io" || state->tries.fetch_add(1) >= 1000) return false;
  if (qix_session_call(nullptr, state->s, "EngineVersion", "[]", 0, -1, cb, state) != QIX_OK) {
    state->finished.notify();
  }
  return true;
}

void probe_cb(const qix_result*, void* payload) {
  auto* p = static_cast<Probe*>(payload);
  if (again_until_inline(p, &probe_cb)) return;
  p->thread = this_thread_name();
  qix_result* r = nullptr;
  p->call_sync = qix_session_call_sync(&r, p->s, "EngineVersion", "[]", 0, -1);
  p->call_sync_message = last_error_message();
  qix_result_free(r);
  r = nullptr;
  p->wait_closed = qix_session_wait_closed(p->s, 10);
  p->hand_over = qix_session_hand_over_events(p->s);
  p->call_sync_after = qix_session_call_sync(&r, p->s, "EngineVersion", "[]", 0, -1);
  p->call_sync_after_message = last_error_message();
  if (r != nullptr) p->version_after = qix_result_json(r);
  qix_result_free(r);
  p->wait_closed_after = qix_session_wait_closed(p->s, 1);
  p->async_after = qix_session_call(nullptr, p->s, "EngineVersion", "[]", 0, -1, &probe_answer_cb, p);
  p->finished.notify();
}

struct Closer {
  qix_session* s = nullptr;
  bool free_it = false;  // qix_session_free instead of qix_session_close
  std::atomic<int> tries{0};
  std::string thread;
  Waiter finished;
};

void closer_cb(const qix_result*, void* payload) {
  auto* c = static_cast<Closer*>(payload);
  if (again_until_inline(c, &closer_cb)) return;
  c->thread = this_thread_name();
  if (c->free_it) {
    qix_session_free(c->s);
  } else {
    qix_session_close(c->s);
  }
  c->finished.notify();
}

// A callback on the I/O thread that waits there for another session's callback (AHeldUpInlineCallback...).
struct Holder {
  qix_session* s = nullptr;
  qix_session* other = nullptr;
  std::atomic<int> tries{0};
  std::string thread;
  int other_call = 0;
  bool other_answered = false;
  std::string other_thread;
  Waiter other_done;  // the other session's callback ran (other_thread set)
  Waiter finished;
};

void holder_other_cb(const qix_result* res, void* payload) {
  auto* h = static_cast<Holder*>(payload);
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  std::string name = this_thread_name();
  h->other_done.notify([&] { h->other_thread = name; });
}

void holder_cb(const qix_result*, void* payload) {
  auto* h = static_cast<Holder*>(payload);
  if (again_until_inline(h, &holder_cb)) return;
  h->thread = this_thread_name();
  h->other_call = qix_session_call(nullptr, h->other, "EngineVersion", "[]", 0, -1, &holder_other_cb, h);
  // The request is held until this callback returns (a callback's calls leave together), or until the watch
  // relieves the thread, which sends what it holds.
  h->other_answered = h->other_call == QIX_OK && h->other_done.wait_for(1, 120s);
  h->finished.notify();
}

// The order events of one session ran in, from its traffic log and its call callbacks.
struct Mixed {
  std::atomic<int> inside{0};  // callbacks running now
  std::atomic<bool> overlap{false};
  std::atomic<int> on_io{0}, elsewhere{0};
  std::atomic<std::size_t> work{0};  // keeps the log's work from being optimised away
  std::mutex log_mutex;
  std::vector<std::pair<std::string, int64_t>> log;  // ("tx"|"rx"|"cb", request id)
  Waiter answered;
  void enter() {
    if (inside.fetch_add(1) != 0) overlap = true;
    (this_thread_name() == "qix-io" ? on_io : elsewhere).fetch_add(1);
  }
  void note(const char* what, int64_t id) {
    std::lock_guard lock(log_mutex);
    log.emplace_back(what, id);
  }
};

int64_t frame_id(const char* frame, size_t len) {
  std::string text(frame, len);
  auto at = text.find("\"id\":");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + 5));
}

void mixed_traffic_cb(int sent, const char* frame, size_t len, void* payload) {
  auto* m = static_cast<Mixed*>(payload);
  m->enter();
  m->note(sent ? "tx" : "rx", frame_id(frame, len));
  if (sent) {
    // Some work while "inside", as a real log's formatting would do: a wider window for two callbacks to
    // meet, were the I/O thread to take a queue the dispatcher is running.
    std::size_t h = 0;
    for (int i = 0; i < 64; ++i) h ^= std::hash<std::string_view>{}(std::string_view(frame, len)) + i;
    m->work.fetch_add(h & 1);
  }
  m->inside.fetch_sub(1);
}

void mixed_call_cb(const qix_result* res, void* payload) {
  auto* m = static_cast<Mixed*>(payload);
  m->enter();
  m->note("cb", qix_result_status(res) == QIX_OK ? qix_result_id(res) : -1);
  m->inside.fetch_sub(1);
  m->answered.notify();
}

}  // namespace

// One call at a time, each issued from the callback before: once a callback has run on the I/O thread, every
// later one does (the answer to the call it made can only be read once it has returned), and the first
// comes early, by default as with the option set; with it off none does.
TEST_F(CapiTest, InlineCallbacksRunOnTheIoThread) {
  for (int mode : {0, 1, 2}) {  // default, set, off
    const bool on = mode != 2;
    SCOPED_TRACE(mode == 0 ? "default" : mode == 1 ? "events.inline" : "events.inline off");
    OptionsPtr o = options();
    if (mode != 0) {
      EXPECT_EQ(qix_options_set_bool(o.get(), "events.inline", mode == 1), QIX_OK);
    }
    auto s = open(o.get());
    ASSERT_TRUE(s);
    Chain c;
    c.s = s.get();
    c.total = 200;
    DrainOnExit drain(s.get());
    chain_issue(&c);
    ASSERT_TRUE(c.done.wait_for(c.total, 120s));
    std::lock_guard lock(c.done.mutex());
    for (int64_t id : c.ids) ASSERT_GT(id, 0) << "every call answered";
    int on_io = 0;
    for (auto& t : c.threads) on_io += t == "qix-io";
    if (!on) {
      EXPECT_EQ(on_io, 0);
      continue;
    }
    auto first = std::find(c.threads.begin(), c.threads.end(), "qix-io");
    ASSERT_NE(first, c.threads.end()) << "no callback ran on the I/O thread";
    EXPECT_LT(first - c.threads.begin(), 100);
    EXPECT_EQ(std::count(first, c.threads.end(), "qix-io"), c.threads.end() - first)
        << "a callback after the first inline one ran on the dispatcher";
  }
}

// qix_context_set_io_spin: a chain of calls at window 1 (the case the poll is for) is answered in full and in
// order whether the I/O thread polls for the longest time allowed (an answer is then found while it polls) or
// never; the setting changes between chains of one open session. (That the poll finds the answers, and that
// an I/O thread set to 0 never polls: tests/unit/context_test.cpp, SessionContextSpin.)
TEST_F(CapiTest, CallsGoOnWhetherTheIoThreadPollsOrNot) {
  qix_context* ctx = nullptr;
  ASSERT_EQ(qix_context_new(&ctx, 1, 1), QIX_OK);
  EXPECT_EQ(qix_context_set_io_spin(ctx, -1), QIX_EINVAL);
  EXPECT_EQ(qix_context_set_io_spin(ctx, 1000001), QIX_EINVAL);
  EXPECT_NE(last_error_message().find("out of range"), std::string::npos);
  {
    // The chains outlive the session's last callback (the drain, first to go): the last callback of a chain
    // still looks at it after it counted its answer.
    std::list<Chain> chains;
    auto o = options();
    qix_session* raw = nullptr;
    ASSERT_EQ(qix_session_open_sync(&raw, ctx, o.get(), 10000), QIX_OK) << last_error_message();
    SessionPtr s(raw);
    DrainOnExit drain(s.get());
    for (int spin : {1000000, 0, 50}) {
      SCOPED_TRACE(spin);
      ASSERT_EQ(qix_context_set_io_spin(ctx, spin), QIX_OK);
      Chain& c = chains.emplace_back();
      c.s = s.get();
      c.total = 300;
      chain_issue(&c);
      ASSERT_TRUE(c.done.wait_for(c.total, 120s));
      std::lock_guard lock(c.done.mutex());
      for (size_t i = 0; i < c.ids.size(); ++i) {
        ASSERT_GT(c.ids[i], 0) << "every call answered";
        if (i > 0) {
          EXPECT_GT(c.ids[i], c.ids[i - 1]) << "in order";
        }
      }
    }
  }
  qix_context_free(ctx);
}

// Calls issued from the test thread, 64 at a time, about 10,000 in all, with a traffic log: each request sent
// posts its log event from the test thread, so the session's queue keeps being busy on the dispatcher while
// answers arrive. Whether a read's events run on the I/O thread or, queued behind the dispatcher's, there,
// the session's callbacks never overlap, and the call callbacks come in the order of the answers the log saw,
// each after its own answer's log event.
TEST_F(CapiTest, InlineCallbacksStayInOrderAndOneAtATime) {
  auto o = with_inline(options());
  Mixed m;
  ASSERT_EQ(qix_options_set_traffic_cb(o.get(), &mixed_traffic_cb, &m), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  DrainOnExit drain(s.get());
  constexpr int kRounds = 156, kWindow = 64;
  for (int r = 0; r < kRounds; ++r) {
    for (int i = 0; i < kWindow; ++i) {
      ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &mixed_call_cb, &m), QIX_OK);
    }
    ASSERT_TRUE(m.answered.wait_for((r + 1) * kWindow, 120s));
  }
  ASSERT_TRUE(close_and_drain(s.get()));
  EXPECT_FALSE(m.overlap.load()) << "two callbacks of the session ran at once";
  std::lock_guard lock(m.log_mutex);
  std::vector<int64_t> received, called;
  for (auto& [what, id] : m.log) {
    if (what == "rx") received.push_back(id);
    if (what == "cb") {
      ASSERT_FALSE(received.empty() || received.back() < id) << "call " << id << " before its answer";
      called.push_back(id);
    }
  }
  ASSERT_EQ(called.size(), static_cast<size_t>(kRounds * kWindow));
  // The answers the log saw after the open's: each call's, in the order the callbacks ran.
  std::vector<int64_t> answers(received.end() - static_cast<std::ptrdiff_t>(called.size()), received.end());
  EXPECT_EQ(called, answers);
  EXPECT_GT(m.on_io.load(), 0) << "no callback ran on the I/O thread";
  EXPECT_GT(m.elsewhere.load(), 0) << "no callback ran on the dispatcher: the test did not mix the two";
}

// A blocking call or wait inside a callback on the I/O thread would wait for an answer only that thread can
// read: refused with QIX_EBUSY, saying why. Once the callback has handed the session's events over, its
// thread has left the I/O role (another thread reads the answers): the blocking call is answered there, a
// wait times out as anywhere else; an asynchronous call works before and after.
TEST_F(CapiTest, ABlockingCallInAnInlineCallbackIsRefusedUntilItHandsOver) {
  auto s = open(with_inline(options()).get());
  ASSERT_TRUE(s);
  Probe p;
  p.s = s.get();
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &probe_cb, &p), QIX_OK);
  ASSERT_TRUE(p.finished.wait_for(1, 120s));
  ASSERT_EQ(p.thread, "qix-io");
  EXPECT_EQ(p.call_sync, QIX_EBUSY);
  EXPECT_NE(p.call_sync_message.find("events.inline"), std::string::npos) << p.call_sync_message;
  EXPECT_EQ(p.wait_closed, QIX_EBUSY);
  EXPECT_EQ(p.hand_over, QIX_OK);
  EXPECT_EQ(p.call_sync_after, QIX_OK) << p.call_sync_after_message;
  EXPECT_NE(p.version_after.find("qComponentVersion"), std::string::npos) << p.version_after;
  EXPECT_EQ(p.wait_closed_after, QIX_ETIMEOUT);
  EXPECT_EQ(p.async_after, QIX_OK);
  EXPECT_TRUE(p.async_answered.wait_for(1, 60s));
}

// A callback on the I/O thread that holds it up (here: waiting for another session's callback, with no
// hand-over) does not stall the context: the watch finds it in the same run of callbacks and another thread
// takes the I/O role, which reads and delivers the other session's answer (on an I/O thread too). Once the
// held-up callback returns, its session goes on. One I/O thread and one dispatcher thread: nothing else could
// read the answer.
TEST_F(CapiTest, AHeldUpInlineCallbackDoesNotStallTheContext) {
  qix_context* raw_ctx = nullptr;
  ASSERT_EQ(qix_context_new(&raw_ctx, 1, 1), QIX_OK);
  std::unique_ptr<qix_context, decltype(&qix_context_free)> ctx(raw_ctx, &qix_context_free);
  auto open_on_ctx = [&] {
    auto o = with_inline(options());
    qix_session* s = nullptr;
    EXPECT_EQ(qix_session_open_sync(&s, ctx.get(), o.get(), 10000), QIX_OK) << last_error_message();
    return SessionPtr(s);
  };
  auto a = open_on_ctx();
  auto b = open_on_ctx();
  ASSERT_TRUE(a && b);
  Holder h;
  h.s = a.get();
  h.other = b.get();
  ASSERT_EQ(qix_session_call(nullptr, a.get(), "EngineVersion", "[]", 0, -1, &holder_cb, &h), QIX_OK);
  ASSERT_TRUE(h.finished.wait_for(1, 240s));  // longer than the callback waits
  EXPECT_EQ(h.thread, "qix-io");
  EXPECT_EQ(h.other_call, QIX_OK);
  EXPECT_TRUE(h.other_answered) << "the other session's answer was not delivered while the callback held on";
  EXPECT_EQ(h.other_thread, "qix-io");
  // The held-up session goes on.
  qix_result* r = nullptr;
  EXPECT_EQ(qix_session_call_sync(&r, a.get(), "EngineVersion", "[]", 0, -1), QIX_OK) << last_error_message();
  qix_result_free(r);
  a.reset();
  b.reset();
}

// qix_io_step_aside from a callback on the I/O thread that is about to wait: another thread reads the sockets
// at once (here the watch cannot: the only dispatcher thread is held by a third session's callback, so
// without the step-aside the other session's answer never comes), the calls the callback made are sent, and
// its own session's later events still wait for it (the answer to its second call runs after it returns).
struct Stepper {
  qix_session* s = nullptr;
  qix_session* other = nullptr;
  std::atomic<int> tries{0};
  std::string thread;
  int step = 0, step_again = 0, own_call = 0, other_call = 0;
  bool other_answered = false;
  std::atomic<bool> returned{false};
  std::atomic<bool> own_ran_before_return{false};
  std::string other_thread;
  Waiter other_done, own_done, finished;
};

void stepper_own_cb(const qix_result* res, void* payload) {
  auto* st = static_cast<Stepper*>(payload);
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  if (!st->returned.load()) st->own_ran_before_return = true;
  st->own_done.notify();
}

void stepper_other_cb(const qix_result* res, void* payload) {
  auto* st = static_cast<Stepper*>(payload);
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  std::string name = this_thread_name();
  st->other_done.notify([&] { st->other_thread = name; });
}

void stepper_cb(const qix_result*, void* payload) {
  auto* st = static_cast<Stepper*>(payload);
  if (again_until_inline(st, &stepper_cb)) return;
  st->thread = this_thread_name();
  st->own_call = qix_session_call(nullptr, st->s, "EngineVersion", "[]", 0, -1, &stepper_own_cb, st);
  st->other_call = qix_session_call(nullptr, st->other, "EngineVersion", "[]", 0, -1, &stepper_other_cb, st);
  st->step = qix_io_step_aside();
  st->step_again = qix_io_step_aside();
  st->other_answered = st->other_call == QIX_OK && st->other_done.wait_for(1, 120s);
  st->returned = true;
  st->finished.notify();
}

void blocker_cb(const qix_result*, void* payload) {
  auto* w = static_cast<std::pair<Waiter, Waiter>*>(payload);
  w->first.notify();                         // holding the dispatcher thread
  EXPECT_TRUE(w->second.wait_for(1, 240s));  // until the test lets go
}

TEST_F(CapiTest, AStepAsideLetsTheContextGoOnAndKeepsTheSessionsOrder) {
  EXPECT_EQ(qix_io_step_aside(), QIX_ENOTFOUND);  // not in a callback
  qix_context* raw_ctx = nullptr;
  ASSERT_EQ(qix_context_new(&raw_ctx, 1, 1), QIX_OK);
  std::unique_ptr<qix_context, decltype(&qix_context_free)> ctx(raw_ctx, &qix_context_free);
  auto open_on_ctx = [&](bool inline_events) {
    auto o = options();
    EXPECT_EQ(qix_options_set_bool(o.get(), "events.inline", inline_events ? 1 : 0), QIX_OK);
    qix_session* s = nullptr;
    EXPECT_EQ(qix_session_open_sync(&s, ctx.get(), o.get(), 10000), QIX_OK) << last_error_message();
    return SessionPtr(s);
  };
  auto a = open_on_ctx(true);
  auto b = open_on_ctx(true);
  auto c = open_on_ctx(false);
  ASSERT_TRUE(a && b && c);
  std::pair<Waiter, Waiter> hold;
  ASSERT_EQ(qix_session_call(nullptr, c.get(), "EngineVersion", "[]", 0, -1, &blocker_cb, &hold), QIX_OK);
  ASSERT_TRUE(hold.first.wait_for(1, 60s));  // the pool's only thread is held: no watch from here on
  Stepper st;
  st.s = a.get();
  st.other = b.get();
  ASSERT_EQ(qix_session_call(nullptr, a.get(), "EngineVersion", "[]", 0, -1, &stepper_cb, &st), QIX_OK);
  ASSERT_TRUE(st.finished.wait_for(1, 240s));  // longer than the callback waits
  hold.second.notify();
  EXPECT_EQ(st.thread, "qix-io");
  EXPECT_EQ(st.step, QIX_OK);
  EXPECT_EQ(st.step_again, QIX_ENOTFOUND) << "already aside";
  EXPECT_EQ(st.other_call, QIX_OK);
  EXPECT_EQ(st.own_call, QIX_OK);
  EXPECT_TRUE(st.other_answered) << "the other session's answer was not delivered while the callback waited";
  EXPECT_EQ(st.other_thread, "qix-io");  // the lent thread, named for its role
  ASSERT_TRUE(st.own_done.wait_for(1, 120s));
  EXPECT_FALSE(st.own_ran_before_return) << "the session's later event ran beside the callback";
  a.reset();
  b.reset();
  c.reset();
}

// A callback on the I/O thread may close its session (the close completes: the session drains, nothing is
// left waiting) or free it (nothing runs on a freed handle: the sanitizers' runs check).
TEST_F(CapiTest, AnInlineCallbackMayCloseOrFreeItsSession) {
  for (bool free_it : {false, true}) {
    SCOPED_TRACE(free_it ? "free" : "close");
    auto s = open(with_inline(options()).get());
    ASSERT_TRUE(s);
    Closer c;
    c.free_it = free_it;
    c.s = free_it ? s.release() : s.get();  // freed by the callback, or by `s`
    ASSERT_EQ(qix_session_call(nullptr, c.s, "EngineVersion", "[]", 0, -1, &closer_cb, &c), QIX_OK);
    ASSERT_TRUE(c.finished.wait_for(1, 120s));
    EXPECT_EQ(c.thread, "qix-io");
    if (free_it) continue;
    EXPECT_EQ(qix_session_wait_closed(s.get(), 60000), QIX_OK);
    EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  }
  // The context's I/O thread goes on serving sessions.
  auto s = open(with_inline(options()).get());
  ASSERT_TRUE(s);
  ResultPtr r;
  qix_result* raw = nullptr;
  EXPECT_EQ(qix_session_call_sync(&raw, s.get(), "EngineVersion", "[]", 0, -1), QIX_OK);
  r.reset(raw);
}

// The two ways of delivering exclude each other: refused before anything starts, saying why.
TEST_F(CapiTest, InlineAndPollEventsExcludeEachOther) {
  auto o = with_inline(options());
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  qix_session* s = reinterpret_cast<qix_session*>(1);
  EXPECT_EQ(qix_session_open(&s, nullptr, o.get(), nullptr, nullptr), QIX_EINVAL);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(last_error_message().find("events.inline and events.poll"), std::string::npos)
      << last_error_message();
  s = reinterpret_cast<qix_session*>(1);
  EXPECT_EQ(qix_session_open_sync(&s, nullptr, o.get(), 10000), QIX_EINVAL);
  EXPECT_EQ(s, nullptr);
  // events.poll alone: the default events.inline gives way.
  auto poll_only = options();
  ASSERT_EQ(qix_options_set_bool(poll_only.get(), "events.poll", 1), QIX_OK);
  auto polled = open(poll_only.get());
  EXPECT_TRUE(polled);
}
