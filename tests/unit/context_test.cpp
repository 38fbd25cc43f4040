// Context: the timer queue and the output batch of event tasks.
#include "session/context.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace qix::core;
using namespace std::chrono_literals;

// A task scheduled earlier than the one the timer waits for re-arms the one Asio wait; the cancelled wait
// must not re-arm in its turn (it did, and every re-arm cancelled the wait before it: a loop that kept the
// I/O thread busy as long as any task was scheduled).
TEST(SessionContextTimers, ReArmingForAnEarlierTaskDoesNotSpin) {
  auto ctx = Context::create();
  auto far = ctx->schedule(1h, [] {});
  auto earlier = ctx->schedule(30min, [] {});
  std::promise<void> fired;
  ctx->schedule(20ms, [&] { fired.set_value(); });
  fired.get_future().wait();
  // Three re-arms (each cancels one wait) and one firing; a spinning queue counts thousands by now.
  EXPECT_LE(ctx->timer_wakeups(), 6u);
  EXPECT_TRUE(ctx->cancel_timer(far));
  EXPECT_TRUE(ctx->cancel_timer(earlier));
}

// Scheduled in the order of their deadlines, so that a scheduling thread held up between two calls only makes
// the later deadlines later still: the order the test expects cannot depend on how busy the machine is.
TEST(SessionContextTimers, TasksRunInDeadlineOrderAndCancelledOnesNever) {
  auto ctx = Context::create();
  std::mutex m;
  std::vector<int> order;
  std::promise<void> last;
  auto note = [&](int i) {
    std::lock_guard lock(m);
    order.push_back(i);
  };
  ctx->schedule(10ms, [&] { note(1); });
  ctx->schedule(20ms, [&] { note(2); });
  auto cancelled = ctx->schedule(1h, [&] { note(0); });
  ctx->schedule(30ms, [&] {
    note(3);
    last.set_value();
  });
  EXPECT_TRUE(ctx->cancel_timer(cancelled));
  EXPECT_FALSE(ctx->cancel_timer(cancelled));  // once
  last.get_future().wait();
  std::lock_guard lock(m);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

// What a task registers with OutputBatch::at_end runs after the task returns, on its thread, in order: when
// the queue has no task left at hand, or after a later task of the same run (the tasks a queue runs back to
// back share one batch, so that the calls they make leave in one write). Outside a task there is no batch.
TEST(SessionContextOutputBatch, FlushesRunWhenTheEventTaskEnds) {
  auto ctx = Context::create();
  auto queue = ctx->make_serial_queue();
  EXPECT_FALSE(OutputBatch::active());
  std::vector<std::string> log;  // written by the queue's tasks only, one at a time
  std::promise<void> done;
  queue->post([&] {
    log.push_back(OutputBatch::active() ? "task in a batch" : "task without a batch");
    OutputBatch::at_end([&] { log.push_back("flush 1"); });
    OutputBatch::at_end([&] { log.push_back("flush 2"); });
    log.push_back("task ends");
  });
  queue->post([&] {
    log.push_back("next task");
    OutputBatch::at_end([&] { done.set_value(); });  // runs after the flushes registered before it
  });
  done.get_future().wait();
  const std::vector<std::string> one_run = {"task in a batch", "task ends", "next task", "flush 1",
                                            "flush 2"};
  const std::vector<std::string> two_runs = {"task in a batch", "task ends", "flush 1", "flush 2",
                                             "next task"};
  EXPECT_TRUE(log == one_run || log == two_runs) << testing::PrintToString(log);
}

// The tasks a queue runs back to back hold their output for OutputBatch::held_at_most at most: once a task
// ends that long after the batch opened, the flushes registered so far run before the next task, although
// that task was waiting (otherwise a long run of callbacks would hold the first callback's call until the
// run ends). The second task waits for the first task's flush: without the bound it would wait forever (the
// flush would come after it), which the wait's guard turns into a failure.
TEST(SessionContextOutputBatch, ALongRunOfTasksFlushesAfterTheBound) {
  auto ctx = Context::create();
  auto queue = ctx->make_serial_queue();
  std::promise<void> flushed;
  auto flushed_future = flushed.get_future();
  std::promise<bool> second;
  queue->post([&] {
    OutputBatch::at_end([&] { flushed.set_value(); });
    // Runs past the bound (busy, so that the queue's next task is already waiting when this one ends).
    const auto until = std::chrono::steady_clock::now() + 2 * OutputBatch::held_at_most;
    while (std::chrono::steady_clock::now() < until) {
    }
  });
  queue->post([&] {
    // A guard, not a timing: the flush runs before this task or never (it would wait for this task's end).
    second.set_value(flushed_future.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  });
  EXPECT_TRUE(second.get_future().get()) << "the first task's flush waited for the task after it";
}

#ifdef __linux__
// libqix's threads carry names (top -H, perf, gdb show them): the I/O threads "qix-io", the threads that run
// callbacks "qix-ev".
TEST(SessionContextThreads, AreNamed) {
  auto ctx = Context::create();
  auto name_of_this_thread = [] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return std::string(name);
  };
  std::promise<std::string> io, ev;
  ctx->post_io([&] { io.set_value(name_of_this_thread()); });
  ctx->make_serial_queue()->post([&] { ev.set_value(name_of_this_thread()); });
  EXPECT_EQ(io.get_future().get(), "qix-io");
  EXPECT_EQ(ev.get_future().get(), "qix-ev");
}
#endif

// A batch opened with OutputBatch::begin (the C API's qix_batch_begin) holds the flushes registered in it
// until its end(); pairs nest (the outermost end() flushes); an end() without its begin() does nothing, and
// never closes a scoped batch; inside a task's batch, a begin/end pair leaves the flushes to the task's end.
TEST(SessionContextOutputBatch, BeginAndEndOpenAndCloseABatchOnTheCallingThread) {
  std::vector<std::string> log;
  OutputBatch::end();  // stray: nothing is open
  EXPECT_FALSE(OutputBatch::active());
  OutputBatch::begin();
  EXPECT_TRUE(OutputBatch::active());
  OutputBatch::at_end([&] { log.push_back("flush"); });
  OutputBatch::begin();
  OutputBatch::end();
  EXPECT_TRUE(OutputBatch::active());
  EXPECT_TRUE(log.empty());
  OutputBatch::end();
  EXPECT_FALSE(OutputBatch::active());
  EXPECT_EQ(log, (std::vector<std::string>{"flush"}));
  OutputBatch::end();  // stray again
  EXPECT_FALSE(OutputBatch::active());

  log.clear();
  {
    OutputBatch scoped;
    OutputBatch::end();  // stray inside a scoped batch: does not close it
    EXPECT_TRUE(OutputBatch::active());
    OutputBatch::at_end([&] { log.push_back("scoped flush"); });
  }
  EXPECT_FALSE(OutputBatch::active());
  EXPECT_EQ(log, (std::vector<std::string>{"scoped flush"}));

  // In a queue's task: the task's begin()/end() nest inside the batch its queue runs it in, whose output
  // leaves once the task (and any task run after it in the same run of the queue) has ended. The test waits
  // for that with a flush of its own, registered last (flushes run in the order they were registered).
  log.clear();
  auto ctx = Context::create();
  auto queue = ctx->make_serial_queue();
  std::promise<void> done;
  queue->post([&] {
    OutputBatch::begin();
    OutputBatch::at_end([&] { log.push_back("flush"); });
    OutputBatch::end();
    log.push_back("task ends");
  });
  queue->post([&] { OutputBatch::at_end([&] { done.set_value(); }); });
  done.get_future().wait();
  EXPECT_EQ(log, (std::vector<std::string>{"task ends", "flush"}));

  // A task that forgets its end(): the next tasks still run in a batch, and every output leaves, in order,
  // each after the task that made it.
  log.clear();
  std::promise<void> done2;
  queue->post([&] {
    OutputBatch::begin();
    OutputBatch::at_end([&] { log.push_back("forgotten batch's flush"); });
  });
  queue->post([&] {
    OutputBatch::at_end([&] { log.push_back("next task's flush"); });
    log.push_back("next task ends");
  });
  queue->post([&] {
    log.push_back(OutputBatch::active() ? "in the task's batch" : "no batch");
    OutputBatch::at_end([&] { done2.set_value(); });
  });
  done2.get_future().wait();
  auto at = [&](const char* what) { return std::find(log.begin(), log.end(), what) - log.begin(); };
  ASSERT_EQ(log.size(), 4u) << testing::PrintToString(log);
  EXPECT_LT(at("forgotten batch's flush"), at("next task's flush")) << testing::PrintToString(log);
  EXPECT_LT(at("next task ends"), at("next task's flush")) << testing::PrintToString(log);
  EXPECT_LT(at("next task ends"), at("in the task's batch")) << testing::PrintToString(log);
}
