// qix_context_new_hosted: a context whose threads the host starts. Its sessions work as on libqix's own
// threads, every callback runs on a thread the host started, qix_context_free waits for every body to return,
// and a host that cannot start a thread gets QIX_ENOMEM with nothing left running.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "capi/capi_support.hpp"

namespace qix::test {
namespace {

/// The host: starts each thread libqix asks for (std::thread, detached: the host owns it), records which
/// threads it started, counts the bodies that returned; refuses once `refuse_after` threads were started.
struct Host {
  std::mutex mutex;
  std::condition_variable cv;
  std::set<std::thread::id> threads;  // started through start()
  int started = 0;
  int returned = 0;
  int refuse_after = -1;  // -1: never refuses

  static int start(qix_thread_body body, void* arg, void* user) {
    auto* host = static_cast<Host*>(user);
    {
      std::lock_guard lock(host->mutex);
      if (host->refuse_after >= 0 && host->started >= host->refuse_after) return 1;
      ++host->started;
    }
    std::thread([host, body, arg] {
      {
        std::lock_guard lock(host->mutex);
        host->threads.insert(std::this_thread::get_id());
      }
      body(arg);
      // Notified under the lock: the test may destroy the Host as soon as it sees the count.
      std::lock_guard lock(host->mutex);
      ++host->returned;
      host->cv.notify_all();
    }).detach();
    return 0;
  }

  bool started_here(std::thread::id id) {
    std::lock_guard lock(mutex);
    return threads.count(id) > 0;
  }
  /// Waits until every started thread has left the lambda above (the host's own tail after the body).
  void wait_all_returned() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return returned == started; });
  }
};

struct Seen {
  Host* host = nullptr;
  std::atomic<int> calls{0};
  std::atomic<int> foreign{0};  // callbacks on a thread the host did not start
  Waiter done;
};

void on_answer(const qix_result* res, void* user) {
  auto* seen = static_cast<Seen*>(user);
  if (!seen->host->started_here(std::this_thread::get_id())) seen->foreign.fetch_add(1);
  if (qix_result_status(res) == QIX_OK) seen->calls.fetch_add(1);
  seen->done.notify();
}

TEST_F(CapiTest, AHostedContextRunsItsSessionsOnTheHostsThreads) {
  Host host;
  for (bool inline_events : {true, false}) {
    SCOPED_TRACE(inline_events);
    qix_context* ctx = nullptr;
    ASSERT_EQ(qix_context_new_hosted(&ctx, 1, 2, &Host::start, &host), QIX_OK) << last_error_message();
    {
      std::lock_guard lock(host.mutex);
      EXPECT_GE(host.started, 3) << "the I/O thread and both dispatcher threads, through the host";
    }
    {
      auto o = options();
      ASSERT_EQ(qix_options_set_bool(o.get(), "events.inline", inline_events ? 1 : 0), QIX_OK);
      qix_session* raw = nullptr;
      ASSERT_EQ(qix_session_open_sync(&raw, ctx, o.get(), 10000), QIX_OK) << last_error_message();
      SessionPtr s(raw);
      Seen seen;
      seen.host = &host;
      constexpr int kCalls = 200;
      {
        DrainOnExit drain(s.get());
        for (int i = 0; i < kCalls; ++i) {
          ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, &on_answer, &seen),
                    QIX_OK);
        }
        ASSERT_TRUE(seen.done.wait_for(kCalls, 60s));
      }
      EXPECT_EQ(seen.calls.load(), kCalls);
      EXPECT_EQ(seen.foreign.load(), 0) << "every callback on a thread the host started";
    }
    qix_context_free(ctx);
    {
      // qix_context_free returned once every body had returned: all that is left of a thread is the host's
      // own tail, which ends by itself.
      host.wait_all_returned();
      std::lock_guard lock(host.mutex);
      EXPECT_EQ(host.returned, host.started);
    }
  }
}

/// A poll-mode session's ready callback (qix_session_set_poll_ready) on a hosted context: counts the calls
/// that came from a thread the host did not start, other than the test's own (which wakes the loop).
struct ReadyOnHost {
  Host* host = nullptr;
  std::thread::id test_thread;
  std::mutex mutex;
  std::condition_variable cv;
  bool pending = false;
  int from_host = 0;
  int foreign = 0;
  static void cb(void* user) {
    auto* r = static_cast<ReadyOnHost*>(user);
    auto me = std::this_thread::get_id();
    bool on_host = r->host->started_here(me);
    std::lock_guard lock(r->mutex);
    if (on_host) {
      ++r->from_host;
    } else if (me != r->test_thread) {
      ++r->foreign;
    }
    r->pending = true;
    r->cv.notify_all();
  }
  void take() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return pending; });
    pending = false;
  }
};

// What the Go binding builds on: a poll-mode session on a hosted context is told it is ready by the host's
// own threads (where calling into the host's runtime is cheap), and a loop woken only by that sees every
// answer.
TEST_F(CapiTest, AHostedContextSignalsPollReadinessOnTheHostsThreads) {
  Host host;
  qix_context* ctx = nullptr;
  ASSERT_EQ(qix_context_new_hosted(&ctx, 1, 2, &Host::start, &host), QIX_OK) << last_error_message();
  {
    auto o = options();
    ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
    qix_session* raw = nullptr;
    ASSERT_EQ(qix_session_open_sync(&raw, ctx, o.get(), 10000), QIX_OK) << last_error_message();
    SessionPtr s(raw);
    ReadyOnHost ready;
    ready.host = &host;
    ready.test_thread = std::this_thread::get_id();
    ASSERT_EQ(qix_session_set_poll_ready(s.get(), &ReadyOnHost::cb, &ready), QIX_OK);
    constexpr int kCalls = 200;
    std::atomic<int> done{0};
    auto on_result = [](const qix_result* res, void* p) {
      EXPECT_EQ(qix_result_status(res), QIX_OK);
      static_cast<std::atomic<int>*>(p)->fetch_add(1);
    };
    for (int i = 0; i < kCalls; ++i) {
      ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", "[]", 0, -1, on_result, &done), QIX_OK);
    }
    while (done.load() < kCalls) {
      ready.take();
      ASSERT_GE(qix_session_poll(s.get(), 0), 0);
    }
    ASSERT_EQ(qix_session_set_poll_ready(s.get(), nullptr, nullptr), QIX_OK);  // `ready` goes before `s`
    std::lock_guard lock(ready.mutex);
    EXPECT_GT(ready.from_host, 0);
    EXPECT_EQ(ready.foreign, 0) << "every readiness from the host's threads (or the test's own)";
  }
  qix_context_free(ctx);
  host.wait_all_returned();
}

TEST_F(CapiTest, AHostThatCannotStartAThreadGetsNoContext) {
  // Refused: the first dispatcher thread, the second (the pool starts first), the I/O thread.
  for (int refuse_after : {0, 1, 2}) {
    SCOPED_TRACE(refuse_after);
    Host host;
    host.refuse_after = refuse_after;
    qix_context* ctx = nullptr;
    EXPECT_EQ(qix_context_new_hosted(&ctx, 1, 2, &Host::start, &host), QIX_ENOMEM);
    EXPECT_EQ(ctx, nullptr);
    EXPECT_NE(last_error_message().find("could not start a thread"), std::string::npos)
        << last_error_message();
    host.wait_all_returned();  // the threads it had started ended their bodies
    std::lock_guard lock(host.mutex);
    EXPECT_EQ(host.started, refuse_after);
  }
}

TEST_F(CapiTest, HostedContextRefusesBadArguments) {
  Host host;
  qix_context* ctx = nullptr;
  EXPECT_EQ(qix_context_new_hosted(nullptr, 1, 1, &Host::start, &host), QIX_EINVAL);
  EXPECT_EQ(qix_context_new_hosted(&ctx, 1, 1, nullptr, &host), QIX_EINVAL);
  EXPECT_NE(last_error_message().find("start is NULL"), std::string::npos);
  EXPECT_EQ(qix_context_new_hosted(&ctx, -1, 1, &Host::start, &host), QIX_EINVAL);
  EXPECT_EQ(ctx, nullptr);
  std::lock_guard lock(host.mutex);
  EXPECT_EQ(host.started, 0);
}

}  // namespace
}  // namespace qix::test
