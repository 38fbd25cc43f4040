// qix_session_set_poll_ready(): a call instead of a descriptor to say that a session opened with events.poll
// has something for qix_session_poll() to take. Called when the session becomes ready, not again until a poll
// re-arms it, at once when it is ready already, never after it was removed or the session freed; a host loop
// woken only by it sees every callback. (On a hosted context, it runs on the host's threads:
// hosted_threads_test.cpp.)
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "capi/capi_support.hpp"

namespace qix::test {
namespace {

/// What the ready callback saw: how often it ran, and on which thread last.
struct Ready {
  std::mutex mutex;
  std::condition_variable cv;
  int calls = 0;
  bool pending = false;  // set by the callback, cleared by the host loop before it polls
  std::thread::id last;

  static void cb(void* user) {
    auto* r = static_cast<Ready*>(user);
    std::lock_guard lock(r->mutex);  // notified under the lock: the test may destroy it once it sees this
    ++r->calls;
    r->pending = true;
    r->last = std::this_thread::get_id();
    r->cv.notify_all();
  }
  int count() {
    std::lock_guard lock(mutex);
    return calls;
  }
  std::thread::id last_thread() {
    std::lock_guard lock(mutex);
    return last;
  }
  /// The host loop's wait: until the callback said "ready" since the last take().
  void take() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return pending; });
    pending = false;
  }
};

void count_call(const qix_result* res, void* payload) {
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  static_cast<std::atomic<int>*>(payload)->fetch_add(1);
}

/// Makes `s` quiet with `ready` set as its callback: a first call, polled for each time `ready` is called,
/// until its answer ran. The answer comes after everything the simulator sent before (the open's events,
/// OnConnected), and `ready` was called for the answer's own readiness (which libqix's I/O thread signals
/// after it queued the burst: a poll may take the burst before that signal, which then comes with nothing to
/// take), so afterwards nothing is there to take and nothing is on its way. Then clears `ready`'s counts.
void settle(qix_session* s, Ready& ready) {
  ASSERT_EQ(qix_session_set_poll_ready(s, &Ready::cb, &ready), QIX_OK);
  std::atomic<int> done{0};
  ASSERT_EQ(qix_session_call(nullptr, s, "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
  while (done.load() == 0) {
    ready.take();
    ASSERT_GE(qix_session_poll(s, 0), 0);
  }
  ASSERT_EQ(qix_session_poll(s, 0), 0);
  std::lock_guard lock(ready.mutex);
  ready.calls = 0;
  ready.pending = false;
}

/// Sessions opened with events.poll.
class PollReadyTest : public CapiTest {
 protected:
  SessionPtr open_polled() {
    auto o = options();
    EXPECT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
    return open(o.get());
  }
};

TEST_F(PollReadyTest, Errors) {
  Ready ready;
  EXPECT_EQ(qix_session_set_poll_ready(nullptr, &Ready::cb, &ready), QIX_EINVAL);
  auto plain = open();
  ASSERT_TRUE(plain);
  EXPECT_EQ(qix_session_set_poll_ready(plain.get(), &Ready::cb, &ready), QIX_EINVAL);
  EXPECT_NE(last_error_message().find("events.poll"), std::string::npos) << last_error_message();
  EXPECT_EQ(ready.count(), 0);
}

TEST_F(PollReadyTest, IsCalledOncePerReadiness) {
  auto s = open_polled();
  ASSERT_TRUE(s);
  Ready ready;
  settle(s.get(), ready);
  // Set again while nothing is there to take: not called.
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), &Ready::cb, &ready), QIX_OK);
  EXPECT_EQ(ready.count(), 0);
  std::atomic<int> done{1};

  // A wake makes the session ready: called at once, on the waking thread; a second wake before a poll adds
  // nothing to take, so no second call; the poll that takes the wake re-arms it.
  ASSERT_EQ(qix_session_wake(s.get()), QIX_OK);
  EXPECT_EQ(ready.count(), 1);
  EXPECT_EQ(ready.last_thread(), std::this_thread::get_id());
  ASSERT_EQ(qix_session_wake(s.get()), QIX_OK);
  EXPECT_EQ(ready.count(), 1) << "ready already: not called again until a poll";
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);
  ASSERT_EQ(qix_session_wake(s.get()), QIX_OK);
  EXPECT_EQ(ready.count(), 2) << "re-armed by the poll";
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);

  // An answer makes it ready, from libqix's I/O thread; its callback runs only in the poll.
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
  while (done.load() == 1) {
    ready.take();
    ASSERT_GE(qix_session_poll(s.get(), 0), 0);
  }
  EXPECT_EQ(ready.count(), 3);
  EXPECT_NE(ready.last_thread(), std::this_thread::get_id()) << "the answer's readiness: libqix's thread";

  // Removed: not called any more (the wake is still taken by a poll).
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), nullptr, nullptr), QIX_OK);
  const int calls = ready.count();
  ASSERT_EQ(qix_session_wake(s.get()), QIX_OK);
  EXPECT_EQ(ready.count(), calls);
  EXPECT_GE(qix_session_poll(s.get(), 0), 0);
}

TEST_F(PollReadyTest, SetWhileReadyIsCalledAtOnce) {
  auto s = open_polled();
  ASSERT_TRUE(s);
  Ready first;
  settle(s.get(), first);
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), nullptr, nullptr), QIX_OK);
  ASSERT_EQ(qix_session_wake(s.get()), QIX_OK);  // ready before the callback is set
  EXPECT_EQ(first.count(), 0) << "removed";
  Ready ready;
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), &Ready::cb, &ready), QIX_OK);
  EXPECT_EQ(ready.count(), 1) << "called before qix_session_set_poll_ready returned";
  EXPECT_EQ(ready.last_thread(), std::this_thread::get_id());
  // Replaced: the new one is called (at once: still ready), the old one not any more.
  Ready other;
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), &Ready::cb, &other), QIX_OK);
  EXPECT_EQ(other.count(), 1);
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);
  ASSERT_EQ(qix_session_wake(s.get()), QIX_OK);
  EXPECT_EQ(other.count(), 2);
  EXPECT_EQ(ready.count(), 1);
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), nullptr, nullptr), QIX_OK);
}

// A host loop woken only by the callback (as the Go binding's poll goroutine is) while another thread
// issues calls: every callback runs. A lost wake-up hangs the loop (CTest's timeout fails it).
TEST_F(PollReadyTest, HostLoopSeesEveryCallback) {
  auto s = open_polled();
  ASSERT_TRUE(s);
  Ready ready;
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), &Ready::cb, &ready), QIX_OK);
  constexpr int kCalls = 2000;
  std::atomic<int> done{0};
  std::thread caller([&] {
    for (int i = 0; i < kCalls; ++i) {
      EXPECT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
    }
  });
  while (done.load() < kCalls) {
    ready.take();
    ASSERT_GE(qix_session_poll(s.get(), 0), 0);
  }
  caller.join();
  EXPECT_EQ(done.load(), kCalls);
  EXPECT_GT(ready.count(), 0);
  ASSERT_EQ(qix_session_set_poll_ready(s.get(), nullptr, nullptr), QIX_OK);
}

// qix_session_free() removes the callback: the callback's data may be freed as soon as it returns, while
// answers are still arriving (ASan and TSan report a call after it).
TEST_F(PollReadyTest, IsNotCalledAfterTheSessionIsFreed) {
  for (int round = 0; round < 20; ++round) {
    auto s = open_polled();
    ASSERT_TRUE(s);
    auto ready = std::make_unique<Ready>();
    ASSERT_EQ(qix_session_set_poll_ready(s.get(), &Ready::cb, ready.get()), QIX_OK);
    std::atomic<int> done{0};
    for (int i = 0; i < 50; ++i) {
      ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
    }
    s.reset();      // qix_session_free: the answers in flight are dropped, the callback removed
    ready.reset();  // a call of the callback from now on would use freed memory
  }
}

}  // namespace
}  // namespace qix::test
