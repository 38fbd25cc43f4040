// PollQueue's readiness descriptor (ready_fd, behind qix_session_poll_fd): readable exactly while poll() has
// something to take, cleared by every poll(), set again by what is queued after it — also between a poll()
// that found nothing and the host's next wait, level- and edge-triggered.
#include "session/context.hpp"
#include "session/deferred_signals.hpp"

#include <gtest/gtest.h>

#ifdef __linux__
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace qix::core;
using namespace std::chrono_literals;

namespace {

// Readable now? (poll(2) with timeout 0: level-triggered.)
bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  EXPECT_GE(n, 0);
  return n == 1 && (p.revents & POLLIN) != 0;
}

// An epoll set watching fd edge-triggered.
struct EdgeWatch {
  explicit EdgeWatch(int fd) : ep(::epoll_create1(EPOLL_CLOEXEC)) {
    EXPECT_GE(ep, 0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = fd;
    EXPECT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  }
  ~EdgeWatch() { ::close(ep); }
  EdgeWatch(const EdgeWatch&) = delete;
  EdgeWatch& operator=(const EdgeWatch&) = delete;
  // Edges reported within timeout_ms (0: those already there; -1: wait for one).
  int wait(int timeout_ms) const {
    epoll_event ev{};
    int n = ::epoll_wait(ep, &ev, 1, timeout_ms);
    EXPECT_GE(n, 0);
    return n;
  }
  int ep;
};

}  // namespace

TEST(PollQueueFd, NonBlockingCloseOnExecAndStable) {
  PollQueue q;
  int fd = q.ready_fd();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(q.ready_fd(), fd);
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_FALSE(readable(fd));
}

TEST(PollQueueFd, ReadableWhileSomethingIsQueued) {
  PollQueue q;
  int fd = q.ready_fd();
  ASSERT_GE(fd, 0);
  int ran = 0;
  q.post([&] { ++ran; });
  EXPECT_TRUE(readable(fd));
  q.post([&] { ++ran; });
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(q.poll(0ms), 2u);
  EXPECT_EQ(ran, 2);
  EXPECT_FALSE(readable(fd)) << "a drain clears it";
  EXPECT_EQ(q.poll(0ms), 0u);
  EXPECT_FALSE(readable(fd));
  q.post([&] { ++ran; });
  EXPECT_TRUE(readable(fd)) << "the next task sets it again";
  EXPECT_EQ(q.poll(0ms), 1u);
  EXPECT_FALSE(readable(fd));
  // A wake() is something to take too: the poll that consumes it clears it.
  q.wake();
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(q.poll(0ms), 0u);
  EXPECT_FALSE(readable(fd));
  // A poll that waits (timeout > 0) clears it as well.
  q.post([&] { ++ran; });
  EXPECT_EQ(q.poll(1h), 1u);
  EXPECT_FALSE(readable(fd));
  EXPECT_EQ(ran, 4);
}

TEST(PollQueueFd, CreatedLateReflectsWhatIsQueued) {
  PollQueue q;
  q.post([] {});
  int fd = q.ready_fd();
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(q.poll(0ms), 1u);
  EXPECT_FALSE(readable(fd));
  PollQueue woken;
  woken.wake();
  int fd2 = woken.ready_fd();
  ASSERT_GE(fd2, 0);
  EXPECT_TRUE(readable(fd2));
}

// The race of a host loop "wait; poll(0)": a task queued after a poll(0) that found nothing, before the host
// waits, must leave the descriptor readable (level) and report an edge (edge-triggered, registered before).
TEST(PollQueueFd, TaskBetweenEmptyPollAndWaitIsNotLost) {
  PollQueue q;
  int fd = q.ready_fd();
  ASSERT_GE(fd, 0);
  EdgeWatch edge(fd);
  q.post([] {});
  EXPECT_EQ(edge.wait(0), 1);
  EXPECT_EQ(q.poll(0ms), 1u);
  EXPECT_EQ(q.poll(0ms), 0u);  // the host found nothing ...
  EXPECT_EQ(edge.wait(0), 0);
  q.post([] {});               // ... an event comes in before it waits ...
  EXPECT_TRUE(readable(fd));   // ... level: readable when the wait starts
  EXPECT_EQ(edge.wait(0), 1);  // edge: reported
  EXPECT_EQ(q.poll(0ms), 1u);
  EXPECT_FALSE(readable(fd));
  q.wake();
  EXPECT_EQ(edge.wait(0), 1);
  EXPECT_EQ(q.poll(0ms), 0u);
  EXPECT_FALSE(readable(fd));
}

// Many tasks from another thread, a host waiting edge-triggered then draining with poll(0): every task is
// run. A lost wake-up leaves the host waiting forever (the test then hangs and fails on CTest's timeout).
TEST(PollQueueFd, EdgeTriggeredHostLoopSeesEveryTask) {
  PollQueue q;
  int fd = q.ready_fd();
  ASSERT_GE(fd, 0);
  EdgeWatch edge(fd);
  constexpr int kTasks = 20000;
  std::atomic<int> ran{0};
  std::thread producer([&] {
    for (int i = 0; i < kTasks; ++i) q.post([&] { ran.fetch_add(1, std::memory_order_relaxed); });
  });
  std::size_t taken = 0;
  while (taken < kTasks) {
    taken += q.poll(0ms);
    if (taken < kTasks) edge.wait(-1);
  }
  producer.join();
  EXPECT_EQ(ran.load(), kTasks);
  EXPECT_EQ(q.poll(0ms), 0u);
  EXPECT_FALSE(readable(fd));
}

TEST(PollQueueFd, LevelTriggeredHostLoopSeesEveryTask) {
  PollQueue q;
  int fd = q.ready_fd();
  ASSERT_GE(fd, 0);
  constexpr int kTasks = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kTasks; ++i) q.post([] {});
  });
  std::size_t taken = 0;
  std::size_t empty_polls = 0;
  while (taken < kTasks) {
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, -1), 1);
    std::size_t n = q.poll(0ms);
    if (n == 0) ++empty_polls;
    taken += n;
  }
  producer.join();
  // Level-triggered, readable means something to take: never a poll that finds nothing.
  EXPECT_EQ(empty_polls, 0u);
  EXPECT_FALSE(readable(fd));
}

// DeferredSignals (the I/O thread's scope around a burst applied under the session's lock): what is posted
// meanwhile is queued at once, but the descriptor is set, and a waiting poll() woken, only when the scope
// ends (a nested one signals the queues first posted to in it, as a nested session's burst does); other
// threads are not affected.
TEST(PollQueueFd, DeferredSignalsSetTheDescriptorWhenTheOutermostScopeEnds) {
  PollQueue q;
  PollQueue other;
  int fd = q.ready_fd();
  int other_fd = other.ready_fd();
  ASSERT_GE(fd, 0);
  ASSERT_GE(other_fd, 0);
  EdgeWatch edge(fd);
  int ran = 0;
  {
    qix::core::detail::DeferredSignals outer;
    q.post([&] { ++ran; });
    {
      qix::core::detail::DeferredSignals inner;
      q.post([&] { ++ran; });
      other.post([&] { ++ran; });
      EXPECT_FALSE(readable(other_fd));
    }
    EXPECT_FALSE(readable(fd)) << "first posted to in the outer scope: signalled at its end";
    EXPECT_TRUE(readable(other_fd)) << "first posted to in the inner scope: signalled at its end";
    EXPECT_EQ(edge.wait(0), 0);
    EXPECT_EQ(q.size(), 2u) << "queued at once";
    // Another thread's posts are not deferred.
    PollQueue third;
    int third_fd = third.ready_fd();
    std::thread([&] { third.post([] {}); }).join();
    EXPECT_TRUE(readable(third_fd));
  }
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(edge.wait(0), 1);
  EXPECT_EQ(q.poll(0ms), 2u);
  EXPECT_EQ(other.poll(0ms), 1u);
  EXPECT_EQ(ran, 3);
  EXPECT_FALSE(readable(fd));
  // Without a scope, at once as before.
  q.post([] {});
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(q.poll(0ms), 1u);
}

#endif  // __linux__
