// qix_session_poll_fd(): the readiness descriptor of a session opened with events.poll, against the
// simulator. Readable when a callback is queued, not after a drain, readable again on the next callback,
// also when it comes between a drain and the host's wait; errors for NULL and for a session without
// events.poll. (The contract's races in isolation: tests/unit/poll_queue_fd_test.cpp.)
#include "capi_support.hpp"

#ifdef __linux__
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

using namespace qix::test;

namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  EXPECT_GE(n, 0);
  return n == 1 && (p.revents & POLLIN) != 0;
}

void wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, -1), 1);
  ASSERT_NE(p.revents & POLLIN, 0);
}

void count_call(const qix_result* res, void* payload) {
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  ++*static_cast<int*>(payload);  // runs in qix_session_poll, on the test's thread
}

}  // namespace

TEST_F(CapiTest, PollFdErrors) {
  int fd = 7;
  EXPECT_EQ(qix_session_poll_fd(nullptr, &fd), QIX_EINVAL);
  EXPECT_EQ(fd, -1);
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto polled = open(o.get());
  ASSERT_TRUE(polled);
  EXPECT_EQ(qix_session_poll_fd(polled.get(), nullptr), QIX_EINVAL);
  auto plain = open();
  ASSERT_TRUE(plain);
  fd = 7;
  EXPECT_EQ(qix_session_poll_fd(plain.get(), &fd), QIX_EINVAL);
  EXPECT_EQ(fd, -1);
  EXPECT_NE(last_error_message().find("events.poll"), std::string::npos) << last_error_message();
}

TEST_F(CapiTest, PollFdFollowsTheQueue) {
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  int fd = -1;
  ASSERT_EQ(qix_session_poll_fd(s.get(), &fd), QIX_OK);
  ASSERT_GE(fd, 0);
  int again = -1;
  EXPECT_EQ(qix_session_poll_fd(s.get(), &again), QIX_OK);
  EXPECT_EQ(again, fd) << "one descriptor per session";
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);

  // A first call, waited for on the descriptor alone: its answer comes after everything the simulator sent
  // before (the open's events, OnConnected), so once it ran nothing else is on its way.
  int done = 0;
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
  while (done == 0) {
    wait_readable(fd);
    ASSERT_GE(qix_session_poll(s.get(), 0), 0);
  }
  EXPECT_FALSE(readable(fd)) << "drained: not readable";
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);

  // The next callback makes it readable; the callback runs only in the poll, which clears it.
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
  wait_readable(fd);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(qix_session_poll(s.get(), 0), 1);
  EXPECT_EQ(done, 2);
  EXPECT_FALSE(readable(fd));

  // qix_session_wake makes it readable; the poll that consumes the wake clears it.
  EXPECT_EQ(qix_session_wake(s.get()), QIX_OK);
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);
  EXPECT_FALSE(readable(fd));

  // The race: drained (a poll found nothing), then a callback is queued before the host waits. Edge-
  // triggered, registered before: the edge is reported; level: readable.
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  epoll_event got{};
  EXPECT_EQ(qix_session_poll(s.get(), 0), 0);
  EXPECT_EQ(::epoll_wait(ep, &got, 1, 0), 0);
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &count_call, &done), QIX_OK);
  EXPECT_EQ(::epoll_wait(ep, &got, 1, -1), 1);  // the answer's edge (no lost wake-up: this would hang)
  EXPECT_TRUE(readable(fd));
  EXPECT_EQ(qix_session_poll(s.get(), 0), 1);
  EXPECT_EQ(done, 3);
  EXPECT_FALSE(readable(fd));
  ::close(ep);
}

// A host loop on the descriptor (edge-triggered, as Go's netpoller waits) while another thread issues
// calls: every callback runs. A lost wake-up hangs the loop (CTest's timeout fails it).
TEST_F(CapiTest, PollFdEdgeTriggeredLoopSeesEveryCallback) {
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  int fd = -1;
  ASSERT_EQ(qix_session_poll_fd(s.get(), &fd), QIX_OK);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
  constexpr int kCalls = 2000;
  std::atomic<int> done{0};
  auto on_result = [](const qix_result* res, void* p) {
    EXPECT_EQ(qix_result_status(res), QIX_OK);
    static_cast<std::atomic<int>*>(p)->fetch_add(1);
  };
  std::thread caller([&] {
    for (int i = 0; i < kCalls; ++i) {
      EXPECT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, on_result, &done), QIX_OK);
    }
  });
  while (done.load() < kCalls) {
    epoll_event got{};
    ASSERT_EQ(::epoll_wait(ep, &got, 1, -1), 1);
    ASSERT_GE(qix_session_poll(s.get(), 0), 0);
  }
  caller.join();
  EXPECT_EQ(done.load(), kCalls);
  ::close(ep);
}

#endif  // __linux__
