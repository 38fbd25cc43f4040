// Context: the timer queue and the output batch of event tasks.
#include "session/context.hpp"
#include "session/spin_gate.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
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

// SerialQueue::hand_over from the task now running: the task may then block on a later task of its own
// queue, which a thread started for it runs (the pool has one thread, the one blocked); the thread is no
// longer "in the dispatcher" and holds no output; the later tasks run each once, in order.
TEST(SessionContextHandOver, ATaskThatHandsItsQueueOverMayWaitForALaterOne) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  constexpr int kLater = 100;
  std::mutex m;
  std::vector<int> order;  // of the later tasks
  std::promise<void> last_ran;
  std::promise<std::string> first;
  queue->post([&] {
    std::string seen;
    seen += SerialQueue::in_dispatcher_thread() ? "in;" : "out;";
    seen += OutputBatch::active() ? "held;" : "not held;";
    bool flushed = false;
    OutputBatch::at_end([&] { flushed = true; });  // held until the task ends, or the hand-over
    seen += queue->hand_over() ? "handed over;" : "not handed over;";
    seen += flushed ? "flushed;" : "not flushed;";
    seen += SerialQueue::in_dispatcher_thread() ? "in;" : "out;";
    seen += OutputBatch::active() ? "held;" : "not held;";
    for (int i = 0; i < kLater; ++i) {
      queue->post([&, i] {
        std::lock_guard lock(m);
        order.push_back(i);
        if (i == kLater - 1) last_ran.set_value();
      });
    }
    auto later = last_ran.get_future();
    seen += later.wait_for(60s) == std::future_status::ready ? "later ran" : "later never ran";
    first.set_value(seen);
  });
  auto f = first.get_future();
  ASSERT_EQ(f.wait_for(120s), std::future_status::ready);
  EXPECT_EQ(f.get(), "in;held;handed over;flushed;out;not held;later ran");
  std::lock_guard lock(m);
  ASSERT_EQ(order.size(), static_cast<size_t>(kLater));
  for (int i = 0; i < kLater; ++i) EXPECT_EQ(order[i], i);
}

// From another thread: a task that waits for a later task of its queue is freed by a hand-over (which
// starts a thread: the pool's one is the one waiting); its own rules do not change (still in the
// dispatcher). A queue with no task running has nothing to hand over.
TEST(SessionContextHandOver, AHandOverFromAnotherThreadFreesAWaitingTask) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  EXPECT_FALSE(queue->hand_over());
  std::promise<void> waiting, later_ran;
  std::promise<std::string> first;
  queue->post([&] {
    queue->post([&] { later_ran.set_value(); });
    waiting.set_value();
    auto later = later_ran.get_future();
    bool ran = later.wait_for(60s) == std::future_status::ready;
    first.set_value(std::string(ran ? "later ran" : "later never ran") +
                    (SerialQueue::in_dispatcher_thread() ? ", in" : ", out"));
  });
  waiting.get_future().wait();
  EXPECT_TRUE(queue->hand_over());
  auto f = first.get_future();
  ASSERT_EQ(f.wait_for(120s), std::future_status::ready);
  EXPECT_EQ(f.get(), "later ran, in");
  // The queue goes on; once idle, nothing to hand over.
  std::promise<void> again;
  queue->post([&] { again.set_value(); });
  EXPECT_EQ(again.get_future().wait_for(60s), std::future_status::ready);
}

// A task whose queue another thread handed over may then release itself (hand_over from the task: true, and
// in_dispatcher_thread() false), without taking the queue back from the drain that owns it now.
TEST(SessionContextHandOver, ATaskHandedOverFromOutsideMayReleaseItself) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  std::promise<void> running, handed, later_ran;
  std::promise<std::string> first;
  std::atomic<int> later_runs{0};
  queue->post([&] {
    running.set_value();
    handed.get_future().wait();
    std::string seen = SerialQueue::in_dispatcher_thread() ? "in;" : "out;";
    seen += queue->hand_over() ? "released;" : "not released;";
    seen += SerialQueue::in_dispatcher_thread() ? "in;" : "out;";
    auto later = later_ran.get_future();
    seen += later.wait_for(60s) == std::future_status::ready ? "later ran" : "later never ran";
    first.set_value(seen);
  });
  running.get_future().wait();
  EXPECT_TRUE(queue->hand_over());
  queue->post([&] {
    if (++later_runs == 1) later_ran.set_value();
  });
  handed.set_value();
  auto f = first.get_future();
  ASSERT_EQ(f.wait_for(120s), std::future_status::ready);
  EXPECT_EQ(f.get(), "in;released;out;later ran");
  std::promise<void> again;
  queue->post([&] { again.set_value(); });
  EXPECT_EQ(again.get_future().wait_for(60s), std::future_status::ready);
  EXPECT_EQ(later_runs.load(), 1);
}

namespace {
// What ran, in order, noted from any thread.
class Log {
 public:
  void note(std::string s) {
    std::lock_guard lock(m_);
    entries_.push_back(std::move(s));
  }
  std::vector<std::string> entries() const {
    std::lock_guard lock(m_);
    return entries_;
  }

 private:
  mutable std::mutex m_;
  std::vector<std::string> entries_;
};

// n parts, each running `each` with its index.
class RecordingParts final : public Parts {
 public:
  RecordingParts(std::size_t n, std::function<void(std::size_t)> each) : n_(n), each_(std::move(each)) {}
  std::size_t size() const noexcept override { return n_; }
  void run(std::size_t i) noexcept override { each_(i); }

 private:
  std::size_t n_;
  std::function<void(std::size_t)> each_;
};
}  // namespace

// Parts run in order, as one task among the queue's others (between the tasks posted before and after
// them), on a SerialQueue and on a PollQueue (the default post_parts).
TEST(SessionContextParts, RunInOrderAsOneTask) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  PollQueue polled;
  for (EventExecutor* ex : {static_cast<EventExecutor*>(queue.get()), static_cast<EventExecutor*>(&polled)}) {
    Log log;
    auto note = [&](std::string s) { log.note(std::move(s)); };
    std::promise<void> last;
    ex->post([&] { note("before"); });
    ex->post_parts(std::make_shared<RecordingParts>(4, [&](std::size_t i) { note(std::to_string(i)); }));
    ex->post_parts(std::make_shared<RecordingParts>(0, [&](std::size_t) { note("empty"); }));
    ex->post([&] {
      note("after");
      last.set_value();
    });
    if (ex == &polled) {
      while (polled.poll(0ms) > 0) {
      }
    }
    ASSERT_EQ(last.get_future().wait_for(60s), std::future_status::ready);
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"before", "0", "1", "2", "3", "after"}));
  }
}

// A hand-over, from another thread or from the part itself, takes the parts not started yet: they run on the
// next drain, in order and before the tasks posted later, while the part that was running goes on (here,
// waiting for a later part of its own task, which without this would never come).
TEST(SessionContextParts, AHandOverTakesThePartsNotStartedYet) {
  for (bool from_outside : {true, false}) {
    SCOPED_TRACE(from_outside ? "from another thread" : "from the part itself");
    auto ctx = Context::create(Context::Options{1, 1});
    auto queue = ctx->make_serial_queue();
    Log log;
    auto note = [&](std::string s) { log.note(std::move(s)); };
    std::promise<void> waiting, third_ran, all_ran;
    std::promise<std::string> first;
    std::thread::id first_thread;
    std::atomic<bool> later_on_another{true};
    queue->post_parts(std::make_shared<RecordingParts>(5, [&](std::size_t i) {
      if (i == 0) {
        first_thread = std::this_thread::get_id();
        if (!from_outside) queue->hand_over();
        waiting.set_value();
        auto later = third_ran.get_future();
        const bool ran = later.wait_for(60s) == std::future_status::ready;
        note("0 done");
        first.set_value(ran ? "part 3 ran" : "part 3 never ran");
        return;
      }
      if (std::this_thread::get_id() == first_thread) later_on_another = false;
      note(std::to_string(i));
      if (i == 3) third_ran.set_value();
    }));
    waiting.get_future().wait();
    if (from_outside) {
      EXPECT_TRUE(queue->hand_over());
    }
    queue->post([&] {
      note("later");
      all_ran.set_value();
    });
    auto f = first.get_future();
    ASSERT_EQ(f.wait_for(120s), std::future_status::ready);
    EXPECT_EQ(f.get(), "part 3 ran");
    ASSERT_EQ(all_ran.get_future().wait_for(60s), std::future_status::ready);
    EXPECT_TRUE(later_on_another.load());
    std::vector<std::string> order = log.entries();
    // "0 done" comes after part 3 (it waited for it) and anywhere after that.
    auto done = std::find(order.begin(), order.end(), "0 done");
    ASSERT_NE(done, order.end());
    EXPECT_GT(done - std::find(order.begin(), order.end(), "3"), 0);
    order.erase(done);
    EXPECT_EQ(order, (std::vector<std::string>{"1", "2", "3", "4", "later"}));
  }
}

// SerialQueue::claim and run_here (a session's events.inline): an idle queue is taken by the calling thread;
// tasks posted after that, from any thread, wait for run_here (no pool thread runs them) and then run there,
// in the order posted, as a drain's tasks do (in the dispatcher, in one output batch, parts included); the
// queue is given back (the next post goes to the pool). A queue that is busy (a task running on the pool,
// or tasks queued) is not taken.
TEST(SessionContextClaim, AnIdleQueueIsTakenAndRunHereInOrder) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  Log log;
  auto note = [&](std::string s) { log.note(std::move(s)); };
  ASSERT_TRUE(queue->claim());
  EXPECT_FALSE(queue->claim()) << "taken already";
  const auto here = std::this_thread::get_id();
  auto where = [here] { return std::this_thread::get_id() == here ? "here" : "elsewhere"; };
  queue->post([&] {
    note(std::string("1 ") + where() + (SerialQueue::in_dispatcher_thread() ? " in" : " out") +
         (OutputBatch::active() ? " held" : " not held"));
  });
  std::thread other([&] { queue->post([&] { note(std::string("2 ") + where()); }); });
  other.join();
  queue->post_parts(std::make_shared<RecordingParts>(
      2, [&](std::size_t i) { note(std::to_string(3 + i) + " " + where()); }));
  EXPECT_EQ(log.entries(), std::vector<std::string>{}) << "nothing runs before run_here";
  queue->run_here();
  EXPECT_EQ(log.entries(), (std::vector<std::string>{"1 here in held", "2 here", "3 here", "4 here"}));
  EXPECT_FALSE(SerialQueue::in_dispatcher_thread());
  // Taken again and nothing posted: run_here runs nothing and gives the queue back.
  ASSERT_TRUE(queue->claim());
  queue->run_here();
  // Given back: the pool runs the next task.
  std::promise<std::string> next;
  queue->post([&] { next.set_value(where()); });
  auto f = next.get_future();
  ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(f.get(), "elsewhere");
}

TEST(SessionContextClaim, ABusyQueueIsNotTaken) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  std::promise<void> running, release, done;
  queue->post([&] {
    running.set_value();
    release.get_future().wait();
  });
  running.get_future().wait();
  EXPECT_FALSE(queue->claim()) << "a task runs on the pool";
  queue->post([&] { done.set_value(); });
  release.set_value();
  ASSERT_EQ(done.get_future().wait_for(60s), std::future_status::ready);
}

namespace {
// A Context::AfterCallbacks that notes how it was resumed, and where.
class NotedWork final : public Context::AfterCallbacks {
 public:
  explicit NotedWork(Log& log) : log_(log) {}
  void resume_here() override {
    log_.note(Context::on_an_io_thread() ? "here, on the I/O thread" : "here");
    resumed_.set_value();
  }
  void resume_posted() override {
    log_.note("posted");
    resumed_.set_value();
  }
  bool wait_resumed() { return resumed_.get_future().wait_for(60s) == std::future_status::ready; }

 private:
  Log& log_;
  std::promise<void> resumed_;
};

// Runs `handler` as an Asio handler on ctx's I/O thread, then waits until the thread has gone back to
// waiting (a second handler posted behind it ran).
void on_io_thread(Context& ctx, const std::function<void()>& handler) {
  std::promise<void> after;
  ctx.post_io(handler);
  ctx.post_io([&] { after.set_value(); });
  ASSERT_EQ(after.get_future().wait_for(60s), std::future_status::ready);
}
}  // namespace

// Context::after_callbacks (how the websocket transport restarts its read once the callbacks of the read
// before are over, events.inline): kept only from an Asio handler on an I/O thread that claimed a queue to
// run after it; resumed once that queue's callbacks are over and before the thread runs another handler, in
// place when the thread is the only one running the context's handlers. Nothing kept anywhere else.
TEST(SessionContextAfterCallbacks, ResumeInPlaceOnceTheCallbacksAreOver) {
  auto ctx = Context::create(Context::Options{1, 1});
  auto queue = ctx->make_serial_queue();
  Log log;
  auto work = std::make_shared<NotedWork>(log);
  EXPECT_FALSE(Context::after_callbacks(work)) << "not on an I/O thread";
  EXPECT_EQ(work.use_count(), 1) << "nothing kept";
  on_io_thread(*ctx, [&] {
    log.note(Context::after_callbacks(work) ? "kept" : "not kept, no callbacks to follow");
    if (!queue->claim()) return log.note("queue busy");
    queue->post([&] { log.note("callback"); });
    ctx->run_after_handler(queue);
    log.note(Context::after_callbacks(work) ? "kept" : "not kept");
    log.note("handler returns");
  });
  EXPECT_EQ(log.entries(),
            (std::vector<std::string>{"not kept, no callbacks to follow", "kept", "handler returns",
                                      "callback", "here, on the I/O thread"}));
  EXPECT_EQ(work.use_count(), 1) << "let go once resumed";
  EXPECT_EQ(ctx->resumed_after_callbacks(true), 1u);
  EXPECT_EQ(ctx->resumed_after_callbacks(false), 0u);
}

// Where another thread may be running the context's handlers, the work may not run in place (a handler of
// its strand could run there meanwhile): it is handed to its strand. A callback that steps aside (another
// thread takes the I/O role while it runs on) gives the work up with its queue at once, before it goes on:
// held up, it may be waiting for what the work starts (the transport's next read, bringing the answer it
// waits for). A context with two I/O threads never resumes in place.
TEST(SessionContextAfterCallbacks, AreHandedToTheirStrandWhenAnotherThreadMayRunHandlers) {
  {
    auto ctx = Context::create(Context::Options{1, 1});
    auto queue = ctx->make_serial_queue();
    Log log;
    auto work = std::make_shared<NotedWork>(log);
    std::promise<void> callback_over;  // (the thread lent to the I/O role may run the next handler first)
    on_io_thread(*ctx, [&] {
      if (!queue->claim()) return log.note("queue busy");
      queue->post([&] {
        log.note(Context::step_aside_before_waiting() ? "callback stepped aside" : "no step");
        callback_over.set_value();
      });
      ctx->run_after_handler(queue);
      log.note(Context::after_callbacks(work) ? "kept" : "not kept");
    });
    ASSERT_EQ(callback_over.get_future().wait_for(60s), std::future_status::ready);
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"kept", "posted", "callback stepped aside"}));
    EXPECT_EQ(work.use_count(), 1) << "let go once resumed";
    EXPECT_EQ(ctx->resumed_after_callbacks(true), 0u);
    EXPECT_EQ(ctx->resumed_after_callbacks(false), 1u);
  }
  {
    auto ctx = Context::create(Context::Options{2, 1});
    auto queue = ctx->make_serial_queue();
    Log log;
    auto work = std::make_shared<NotedWork>(log);
    on_io_thread(*ctx, [&] {
      if (!queue->claim()) return log.note("queue busy");
      queue->post([&] { log.note("callback"); });
      ctx->run_after_handler(queue);
      log.note(Context::after_callbacks(work) ? "kept" : "not kept");
    });
    ASSERT_TRUE(work->wait_resumed()) << "the other I/O thread may have run the second handler first";
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"kept", "callback", "posted"}));
    EXPECT_EQ(ctx->resumed_after_callbacks(false), 1u);
  }
}

// The I/O thread's poll before it sleeps (Options::io_spin, SpinGate).
TEST(SessionContextSpin, TheGateOpensAfterShortWaitsAndClosesAfterLongOnes) {
  using N = SpinGate::Nanos;
  const N limit = 50us;
  SpinGate gate;
  EXPECT_EQ(gate.budget(limit), limit);  // nothing known yet: it polls
  EXPECT_EQ(gate.budget(N::zero()), N::zero());
  // An idle connection: three long waits close it, however long they were (each counts four limits at most).
  for (int i = 0; i < 3; ++i) gate.waited(10s, limit);
  EXPECT_EQ(gate.budget(limit), N::zero());
  EXPECT_LE(gate.average(), 4 * limit);
  // Answers soon after again: a dozen short waits open it.
  int waits = 0;
  while (gate.budget(limit) == N::zero() && waits < 100) {
    gate.waited(5us, limit);
    ++waits;
  }
  EXPECT_EQ(gate.budget(limit), limit);
  EXPECT_LE(waits, 12);
  // Waits a little longer than the limit (a distant server) keep it closed.
  for (int i = 0; i < 50; ++i) gate.waited(80us, limit);
  EXPECT_EQ(gate.budget(limit), N::zero());
  // Turned off: never, whatever the waits.
  for (int i = 0; i < 50; ++i) gate.waited(1us, N::zero());
  EXPECT_EQ(gate.budget(N::zero()), N::zero());
  EXPECT_EQ(gate.budget(limit), limit);
}

namespace {

// Tasks posted one at a time, each after the one before has run: the I/O thread waits a short while between
// them. The number of those waits that its poll ended.
std::uint64_t catches_over_posted_tasks(Context& ctx, int tasks) {
  const std::uint64_t before = ctx.io_spin_catches();
  for (int i = 0; i < tasks; ++i) {
    std::promise<void> ran;
    ctx.post_io([&] { ran.set_value(); });
    ran.get_future().wait();
  }
  return ctx.io_spin_catches() - before;
}

}  // namespace

TEST(SessionContextSpin, PollingFindsWorkWhenOnAndNeverRunsWhenOff) {
  Context::Options o;
  o.io_spin = Context::kMaxIoSpin;  // a second: every wait here is far shorter, loaded machine or not
  auto ctx = Context::create(o);
  EXPECT_EQ(ctx->io_spin(), Context::kMaxIoSpin);
  EXPECT_GT(catches_over_posted_tasks(*ctx, 200), 0u);
  ctx->set_io_spin(0us);
  // The wait that began before the change may still poll, and counts its catch after its task ran: the
  // second task runs after that count, in a wait that began after the change.
  catches_over_posted_tasks(*ctx, 2);
  EXPECT_EQ(catches_over_posted_tasks(*ctx, 200), 0u);
  EXPECT_EQ(ctx->io_spin(), 0us);

  Context::Options two;
  two.io_threads = 2;
  two.io_spin = Context::kMaxIoSpin;
  auto ctx2 = Context::create(two);
  EXPECT_EQ(catches_over_posted_tasks(*ctx2, 200), 0u);  // several I/O threads: none polls
}

// The environment is read by Context::create on the calling thread only (this one): nothing else reads or
// writes it meanwhile (concurrency-mt-unsafe below).
TEST(SessionContextSpin, TheDefaultComesFromTheEnvironmentAndBadValuesAreRefused) {
  ::unsetenv("QIX_IO_SPIN_US");  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(Context::create()->io_spin(), Context::kDefaultIoSpin);
  ::setenv("QIX_IO_SPIN_US", "7", 1);  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(Context::create()->io_spin(), 7us);
  EXPECT_EQ(Context::create()->options().io_spin, 7us);
  for (const char* bad : {"-1", "1000001", "5x", ""}) {
    ::setenv("QIX_IO_SPIN_US", bad, 1);  // NOLINT(concurrency-mt-unsafe)
    EXPECT_EQ(Context::create()->io_spin(), Context::kDefaultIoSpin) << bad;
  }
  ::unsetenv("QIX_IO_SPIN_US");  // NOLINT(concurrency-mt-unsafe)
  Context::Options o;
  o.io_spin = 0us;
  auto ctx = Context::create(o);
  EXPECT_EQ(ctx->io_spin(), 0us);
  EXPECT_THROW(ctx->set_io_spin(-1us), std::invalid_argument);
  EXPECT_THROW(ctx->set_io_spin(Context::kMaxIoSpin + 1us), std::invalid_argument);
  o.io_spin = Context::kMaxIoSpin + 1us;
  EXPECT_THROW(Context::create(o), std::invalid_argument);
}
