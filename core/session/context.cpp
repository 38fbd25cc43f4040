#include "session/context.hpp"

#include "session/deferred_signals.hpp"

#include "session/spin_gate.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>

#ifdef __linux__
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace qix::core {

namespace asio = boost::asio;

namespace {
// Names libqix's threads for tools that show them (top -H, perf, gdb, a debugger's thread list): "qix-io"
// for the I/O threads, "qix-ev" for the dispatcher threads that run user callbacks. Linux only; 15
// characters at most.
void name_this_thread(const char* name) noexcept {
#ifdef __linux__
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

thread_local const Context* tl_io_context = nullptr;
thread_local int tl_serial_depth = 0;
thread_local int tl_output_depth = 0;
thread_local std::vector<Task>* tl_output_flushes = nullptr;
thread_local int tl_open_batches = 0;          // OutputBatch::begin() without its end() yet
thread_local bool tl_output_released = false;  // OutputBatch::release(): nothing held until the depth is 0
thread_local bool tl_queue_released = false;   // this thread's task handed its queue over (hand_over)
thread_local const SerialQueue* tl_draining = nullptr;    // the queue whose task this thread runs (drain)
thread_local std::deque<Task>* tl_run_end = nullptr;      // that drain's SerialQueue::at_run_end functions
thread_local int tl_signal_defers = 0;                    // detail::DeferredSignals alive on this thread
thread_local std::vector<PollQueue*> tl_deferred_queues;  // posted to meanwhile, to signal at its end

class IoRunner;

/// What a thread running a context's io_context asks of that context (Context::Impl): the I/O role.
class IoRoles {
 public:
  /// `r`'s thread leaves the I/O role for the rest of the callbacks it runs now: another thread runs the
  /// io_context meanwhile, and the queues `r` claimed and has not run yet go to the pool. From `r`'s own
  /// thread (a hand-over, a step-aside before a wait) or from the watch (a thread held up in callbacks).
  /// Idempotent: true when it stepped aside now, false when it was aside already or the context stops.
  virtual bool step_aside(IoRunner& r) = 0;
  /// `r`'s thread is back from its callbacks and takes the I/O role again (its own thread).
  virtual void come_back(IoRunner& r) = 0;

 protected:
  ~IoRoles() = default;
};

/// A thread that runs a context's io_context (an I/O thread, or a dispatcher thread lent to it while an I/O
/// thread is held up): what the watch reads of it, and the claimed queues it runs once its Asio handler
/// has returned (outside every strand, so that another thread can take the I/O role while they run).
class IoRunner {
 public:
  explicit IoRunner(IoRoles& r) noexcept : roles(r) {}
  IoRoles& roles;
  std::atomic<bool> in_callbacks{false};   ///< running claimed queues (user callbacks)
  std::atomic<std::uint64_t> sections{0};  ///< runs of claimed queues finished
  bool aside = false;                      ///< another thread has its I/O role (the context's role mutex)
  std::uint64_t seen_sections = 0;         ///< the watch's last look (the context's role mutex)
  bool seen_in = false;                    ///< (the context's role mutex)
  std::mutex deferred_mutex;               ///< guards deferred
  std::vector<std::shared_ptr<SerialQueue>> deferred;  ///< claimed, to run after the handler
  /// The output its callbacks hold (OutputBatch::at_end's flushes, also on the thread's own list), which the
  /// watch sends when it relieves the thread: a held-up callback may be waiting for an answer to it. A flush
  /// run twice finds nothing the second time (Transport::flush_held).
  std::vector<Task> held_flushes;
  std::atomic<bool> output_released{false};  ///< relieved by the watch: its callbacks hold nothing more
  bool has_deferred = false;                 ///< the runner's own thread only
  bool has_after = false;                    ///< `after` was filled (the runner's own thread only)
  /// Left by the handler until its callbacks are over (Context::after_callbacks; guarded by deferred_mutex:
  /// a hand-over takes them, and hands them to their strands at once, since a held-up callback may be
  /// waiting for what they start).
  std::vector<std::shared_ptr<Context::AfterCallbacks>> after;
  std::vector<std::shared_ptr<Context::AfterCallbacks>> after_now;  ///< run_after's (own thread only)
};

thread_local IoRunner* tl_runner = nullptr;

/// The runner whose callbacks the calling thread runs now, with the I/O thread's rules; null elsewhere.
IoRunner* runner_in_callbacks() {
  IoRunner* me = tl_runner;
  if (!me || tl_io_context == nullptr || !me->in_callbacks.load(std::memory_order_relaxed)) return nullptr;
  return me;
}

/// From a callback a runner runs, about to wait: another thread takes the I/O role now, as the watch would
/// once it found the callback held up; the thread keeps its session's queue and its rules (no blocking call).
bool step_aside_keeping_queue() {
  IoRunner* me = runner_in_callbacks();
  return me && me->roles.step_aside(*me);
}

/// From a callback a runner runs: the thread leaves the I/O role (SerialQueue::hand_over from the task).
void step_aside_here() {
  IoRunner* me = runner_in_callbacks();
  if (!me) return;
  tl_io_context = nullptr;  // blocking calls are allowed from here on: another thread reads the answers
  me->roles.step_aside(*me);
}

// Runs (and forgets) the flushes the calling thread's batches registered.
void run_output_flushes() noexcept {
  if (!tl_output_flushes) return;
  if (IoRunner* r = tl_runner) {
    std::lock_guard lock(r->deferred_mutex);
    r->held_flushes.clear();
  }
  // Flushes may send (and so register) again only outside a batch: take the list first.
  std::unique_ptr<std::vector<Task>> flushes(tl_output_flushes);
  tl_output_flushes = nullptr;
  for (auto& f : *flushes) f();
}

void end_output_batch() noexcept {
  if (--tl_output_depth > 0) return;
  tl_output_released = false;
  run_output_flushes();
}
}  // namespace

// ---------------------------------------------------------------------------------------------------------
OutputBatch::OutputBatch() noexcept : open_mark_(tl_open_batches) {
  ++tl_output_depth;
}

OutputBatch::~OutputBatch() {
  // begin()s opened inside this scope and never ended: closed here, their output leaves with the scope's.
  while (tl_open_batches > open_mark_) {
    --tl_open_batches;
    --tl_output_depth;
  }
  end_output_batch();
}

void OutputBatch::begin() noexcept {
  ++tl_open_batches;
  ++tl_output_depth;
}

void OutputBatch::end() noexcept {
  if (tl_open_batches == 0) return;
  --tl_open_batches;
  end_output_batch();
}

bool OutputBatch::active() noexcept {
  return tl_output_depth > 0 && !tl_output_released &&
         (tl_runner == nullptr || !tl_runner->output_released.load(std::memory_order_relaxed));
}

void OutputBatch::release() noexcept {
  if (tl_output_depth == 0) return;
  tl_output_released = true;
  run_output_flushes();
}

void OutputBatch::at_end(Task flush) {
  if (!tl_output_flushes) tl_output_flushes = new std::vector<Task>();
  if (IoRunner* r = tl_runner; r != nullptr && r->in_callbacks.load(std::memory_order_relaxed)) {
    std::lock_guard lock(r->deferred_mutex);
    r->held_flushes.push_back(flush);
  }
  tl_output_flushes->push_back(std::move(flush));
}

// ---------------------------------------------------------------------------------------------------------
// Worker: one of the context's threads: a std::thread, or a thread the host started (Options::start_thread),
// joined alike: join() returns once the body has returned and what it held is gone.
class Worker {
 public:
  Worker(const std::function<void(Task)>& start, Task body) {
    if (!start) {
      thread_ = std::thread(std::move(body));
      return;
    }
    hosted_ = std::make_shared<Hosted>();
    start([h = hosted_, fn = std::move(body)]() mutable {
      h->id.store(std::this_thread::get_id());
      fn();
      fn = nullptr;  // what the body holds is released before join() returns
      {
        std::lock_guard lock(h->mutex);
        h->done = true;
      }
      h->cv.notify_all();
    });
  }
  Worker(Worker&&) noexcept = default;
  Worker& operator=(Worker&&) noexcept = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() = default;

  /// True on the thread that runs this worker's body.
  bool is_current() const {
    const auto me = std::this_thread::get_id();
    return hosted_ ? hosted_->id.load() == me : thread_.get_id() == me;
  }
  /// Waits for the body to return (not from its own thread: see is_current); once only, and never after
  /// detach().
  void join() {
    if (hosted_) {
      std::unique_lock lock(hosted_->mutex);
      hosted_->cv.wait(lock, [&] { return hosted_->done; });
      lock.unlock();
      hosted_.reset();
    } else if (thread_.joinable()) {
      thread_.join();
    }
  }
  /// Lets the body end by itself (called from its own thread).
  void detach() {
    if (hosted_) {
      hosted_.reset();
    } else if (thread_.joinable()) {
      thread_.detach();
    }
  }

 private:
  struct Hosted {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    std::atomic<std::thread::id> id{};
  };
  std::thread thread_;
  std::shared_ptr<Hosted> hosted_;
};

// ---------------------------------------------------------------------------------------------------------
// Dispatcher: a small FIFO thread pool. SerialQueues submit themselves, once at a time each, to be drained
// (the queue itself, not a task wrapping it: no allocation per hand-off).
class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  static std::shared_ptr<Dispatcher> create(int threads, std::function<void(Task)> start) {
    auto d = std::shared_ptr<Dispatcher>(new Dispatcher());
    d->start_ = std::move(start);
    try {
      std::lock_guard lock(d->mutex_);
      for (int i = 0; i < threads; ++i) d->start_thread_locked();
    } catch (...) {
      d->stop();  // the threads started end and are joined
      throw;
    }
    return d;
  }

  /// Threads a hand-over may start beyond the pool's own (they stay until the pool stops).
  static constexpr int kMaxExtraThreads = 64;

  /// Queues `queue` to be drained. While a thread is held up by a task whose queue it handed over
  /// (held()), starts one more thread when more queues wait than threads are idle to take them: that
  /// thread may stay blocked, and the queues must not wait for it.
  void submit(std::shared_ptr<SerialQueue> queue) {
    {
      std::lock_guard lock(mutex_);
      queues_.push_back(std::move(queue));
      outstanding_.fetch_add(1, std::memory_order_relaxed);
      if (held_ > 0 && !stopping_ && queues_.size() > idle_ && extra_ < kMaxExtraThreads) {
        ++extra_;
        start_thread_locked();
      }
    }
    cv_.notify_one();
  }

  /// True while queues submitted are waiting or being drained (a hint, read without the lock: an I/O thread
  /// does not poll while the pool has work, whose calls it would wait for, and whose cores it would take).
  bool busy() const noexcept { return outstanding_.load(std::memory_order_relaxed) > 0; }

  /// A thread's drain was handed over while its task runs (+1), or has left (-1).
  void held(int delta) {
    std::lock_guard lock(mutex_);
    held_ += delta;
  }

  /// Runs `loan` on a pool thread (before any queue waiting), starting one more thread when none is idle:
  /// an I/O role lent to the pool while an I/O thread is held up (Context). The thread counts as held
  /// while it runs the loan. Dropped once the pool stops.
  void lend(Task loan) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      loans_.push_back(std::move(loan));
      if (idle_ < loans_.size() + queues_.size() && extra_ < kMaxExtraThreads) {
        ++extra_;
        start_thread_locked();
      }
    }
    cv_.notify_one();
  }

  /// The watch: while it is awake, an idle pool thread calls `watch` every kWatchPeriod; it falls asleep
  /// when `watch` returns false (nothing to watch) and looks once more after that, and wake_watch() wakes
  /// it. Set once, before any thread can watch.
  void set_watch(std::function<bool()> watch) {
    std::lock_guard lock(mutex_);
    watch_ = std::move(watch);
  }
  /// How often the watch looks: an I/O thread held up in callbacks is relieved 1 to 2 periods after it
  /// began to hold up.
  static constexpr std::chrono::milliseconds kWatchPeriod{10};
  /// Called after something the watch must see started (a runner's callbacks): one lock and a wake-up
  /// only when the watch is asleep. The caller's store of what it started is sequentially consistent, and
  /// so is the watch's store of its sleep before its last look: one of the two sees the other.
  void wake_watch() {
    if (!watch_asleep_.load(std::memory_order_seq_cst)) return;
    {
      std::lock_guard lock(mutex_);
      if (!watch_asleep_.load(std::memory_order_relaxed)) return;
      watch_asleep_.store(false, std::memory_order_relaxed);
    }
    cv_.notify_one();
  }

  /// Runs what is queued, then joins the threads.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.is_current()) {
        t.detach();  // stopping from our own task: let the thread end by itself
      } else {
        t.join();
      }
    }
  }

 private:
  // Under mutex_. Each thread holds the pool: a task that drops the last outside reference cannot free it
  // under us.
  void start_thread_locked() {
    threads_.emplace_back(start_, [d = shared_from_this(), hosted = static_cast<bool>(start_)] {
      if (!hosted) name_this_thread("qix-ev");  // a host's thread keeps the name its host gave it
      d->run();
    });
  }

  void run() {
    for (;;) {
      std::shared_ptr<SerialQueue> queue;
      Task loan;
      {
        std::unique_lock lock(mutex_);
        ++idle_;
        auto has_work = [this] { return stopping_ || !queues_.empty() || !loans_.empty(); };
        while (!has_work()) {
          if (!watch_ || watching_ || watch_asleep_.load(std::memory_order_relaxed)) {
            cv_.wait(lock);
            continue;
          }
          // This thread watches until work comes or the watch falls asleep.
          watching_ = true;
          const bool woken = cv_.wait_for(lock, kWatchPeriod, has_work);
          if (!woken) {
            lock.unlock();
            bool active = watch_();
            lock.lock();
            if (!active) {
              watch_asleep_.store(true, std::memory_order_seq_cst);
              lock.unlock();
              active = watch_();  // one more look: a runner may have started without waking the watch
              lock.lock();
              if (active) watch_asleep_.store(false, std::memory_order_relaxed);
            }
          }
          watching_ = false;
        }
        --idle_;
        if (!loans_.empty()) {
          loan = std::move(loans_.front());
          loans_.pop_front();
          ++held_;
        } else if (!queues_.empty()) {
          queue = std::move(queues_.front());
          queues_.pop_front();
        } else {
          return;
        }
      }
      if (loan) {
        loan();
        loan = nullptr;
        held(-1);
        continue;
      }
      queue->drain();
      outstanding_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<SerialQueue>> queues_;
  std::deque<Task> loans_;
  std::vector<Worker> threads_;      // extra threads are added under mutex_, never once stopping_
  std::function<void(Task)> start_;  // Options::start_thread (set once, before any thread starts)
  std::atomic<int> outstanding_{0};  // queues submitted and not yet drained (busy())
  std::size_t idle_ = 0;             // threads waiting for a queue
  int extra_ = 0;                    // threads started by hand-overs and loans
  int held_ = 0;                     // threads held up in a task whose queue they handed over, or lent
  bool stopping_ = false;
  std::function<bool()> watch_;  // Context's: looks at its I/O runners; true while any is active
  bool watching_ = false;        // a thread waits as the watch (mutex_)
  std::atomic<bool> watch_asleep_{true};

  Dispatcher() = default;
};

// ---------------------------------------------------------------------------------------------------------
void EventExecutor::post_parts(std::shared_ptr<Parts> parts) {
  post([parts = std::move(parts)] {
    for (std::size_t i = 0, n = parts->size(); i < n; ++i) parts->run(i);
  });
}

// ---------------------------------------------------------------------------------------------------------
SerialQueue::SerialQueue(std::shared_ptr<Dispatcher> pool) : pool_(std::move(pool)) {}

void SerialQueue::post(Task task) {
  bool schedule = false;
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(Entry{std::move(task), nullptr, 0});
    if (!scheduled_) {
      scheduled_ = true;
      schedule = true;
    }
  }
  if (schedule) pool_->submit(shared_from_this());
}

void SerialQueue::post_parts(std::shared_ptr<Parts> parts) {
  if (!parts || parts->size() == 0) return;
  bool schedule = false;
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(Entry{Task{}, std::move(parts), 0});
    if (!scheduled_) {
      scheduled_ = true;
      schedule = true;
    }
  }
  if (schedule) pool_->submit(shared_from_this());
}

void SerialQueue::drain() {
  // Runs a bounded batch, then yields the pool thread so one busy queue cannot starve the others.
  constexpr int kBatch = 256;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    generation = ++generation_;
    draining_ = true;
    drainer_ = std::this_thread::get_id();
  }
  ++tl_serial_depth;
  const SerialQueue* outer = tl_draining;
  tl_draining = this;
  // at_run_end's functions, run before each end of `output` (end_output), one at a time from the front (a
  // hand-over from this thread takes the ones not run yet, see hand_over).
  std::deque<Task> run_end;
  std::deque<Task>* outer_run_end = tl_run_end;
  tl_run_end = &run_end;
  // The calls of tasks run back to back leave together: when the queue runs dry (then it is looked at again:
  // the queue is given up only with nothing held back, so what its tasks sent always leaves in order), or
  // once the tasks have run for OutputBatch::held_at_most since the first of them.
  std::optional<OutputBatch> output;
  std::chrono::steady_clock::time_point opened;
  auto end_output = [&] {
    while (!run_end.empty()) {
      Task fn = std::move(run_end.front());
      run_end.pop_front();
      try {
        fn();
      } catch (...) {
        // at_run_end's functions must not throw; never let one kill a pool thread.
      }
    }
    output.reset();
  };
  // Handed over (hand_over): another drain owns the queue now; leave it as it is.
  auto leave = [&] {
    end_output();
    --tl_serial_depth;
    tl_draining = outer;
    tl_run_end = outer_run_end;
    tl_queue_released = false;
    pool_->held(-1);
  };
  // The parts task this drain runs (running_ points here while it does, so that a hand-over can take the
  // parts not started yet); the last one's parts are let go outside the lock.
  Running current;
  std::shared_ptr<Parts> done;
  auto forget_current = [&] {  // under mutex_
    if (running_ == &current) running_ = nullptr;
    done = std::move(current.parts);
  };
  for (int i = 0; i < kBatch;) {
    Task task;
    bool handed_over = false;
    {
      std::lock_guard lock(mutex_);
      forget_current();
      if (generation_ != generation) {
        handed_over = true;
      } else if (!tasks_.empty()) {
        Entry& entry = tasks_.front();
        if (entry.parts) {
          current.parts = std::move(entry.parts);
          current.next.store(entry.from, std::memory_order_relaxed);
          running_ = &current;
        } else {
          task = std::move(entry.task);
        }
        tasks_.pop_front();
      } else if (!output) {
        scheduled_ = false;
        draining_ = false;
        --tl_serial_depth;
        tl_draining = outer;
        tl_run_end = outer_run_end;
        return;
      }
    }
    done.reset();
    if (handed_over) {
      leave();  // outside the lock: the held output's flushes may post to this queue
      return;
    }
    if (!task && !current.parts) {
      end_output();
      continue;
    }
    if (!output) {
      output.emplace();
      opened = std::chrono::steady_clock::now();
    }
    if (current.parts) {
      // Each part claimed before it runs: a hand-over (under mutex_) takes the ones not claimed yet.
      const std::size_t n = current.parts->size();
      for (;;) {
        std::size_t k = current.next.load(std::memory_order_acquire);
        do {
          if (k >= n) break;
        } while (!current.next.compare_exchange_weak(k, k + 1, std::memory_order_acq_rel));
        if (k >= n) break;
        current.parts->run(k);
      }
    } else {
      try {
        task();
      } catch (...) {
        // Tasks are wrappers that already report user exceptions; never let one kill a pool thread.
      }
    }
    ++i;
    if (std::chrono::steady_clock::now() - opened >= OutputBatch::held_at_most) end_output();
  }
  end_output();
  bool handed_over = false;
  {
    std::lock_guard lock(mutex_);
    forget_current();
    handed_over = generation_ != generation;
    if (!handed_over) draining_ = false;  // still scheduled_: submitted again below
  }
  done.reset();
  if (handed_over) {
    leave();
    return;
  }
  --tl_serial_depth;
  tl_draining = outer;
  tl_run_end = outer_run_end;
  pool_->submit(shared_from_this());
}

bool SerialQueue::hand_over() {
  // From a task of this queue whose drain was handed over already (by another thread, or earlier in it):
  // the queue is another drain's now; only this thread is released.
  const bool in_task = tl_draining == this;
  bool self = false;
  bool submit = false;
  bool release_only = false;
  {
    std::lock_guard lock(mutex_);
    self = draining_ && drainer_ == std::this_thread::get_id();
    release_only = in_task && !self;
    if (!release_only && !draining_) return false;
    if (!release_only) {
      ++generation_;  // the drain now running leaves at its next look at the queue
      draining_ = false;
      if (running_) {
        // The parts it has not started come first for the next drain; the one running stays behind.
        const std::size_t k = running_->next.exchange(Running::kTaken, std::memory_order_acq_rel);
        if (k < running_->parts->size()) tasks_.push_front(Entry{Task{}, running_->parts, k});
        running_ = nullptr;
      }
      if (self && in_task && tl_run_end) {
        // From the drain's own thread: the at_run_end functions it has not run yet (answers a binding took
        // from the tasks already run, one of which this thread may be about to wait for) come before those
        // parts: the next drain runs them first, in order. tl_run_end is this drain's (tl_draining == this).
        while (!tl_run_end->empty()) {
          tasks_.push_front(Entry{std::move(tl_run_end->back()), nullptr, 0});
          tl_run_end->pop_back();
        }
      }
      if (tasks_.empty()) {
        scheduled_ = false;  // the next post schedules a drain
      } else {
        submit = true;  // scheduled_ stays set: a new drain takes the queue over
      }
    }
  }
  // Outside the lock: the released output's flushes may post to this queue.
  if (self || (release_only && !tl_queue_released)) {
    tl_queue_released = true;
    OutputBatch::release();
    step_aside_here();  // a callback run by an I/O thread: another thread takes the I/O role
  }
  if (release_only) return true;
  pool_->held(+1);  // until the drain that was handed over leaves (drain, leave)
  if (submit) pool_->submit(shared_from_this());
  return true;
}

bool SerialQueue::in_dispatcher_thread() noexcept {
  return tl_serial_depth > 0 && !tl_queue_released;
}

bool SerialQueue::at_run_end(Task fn) {
  if (!tl_run_end) return false;
  tl_run_end->push_back(std::move(fn));
  return true;
}

bool SerialQueue::claim() {
  std::lock_guard lock(mutex_);
  if (scheduled_) return false;
  scheduled_ = true;  // as for a drain submitted to the pool: posts queue behind it and submit nothing
  return true;
}

void SerialQueue::run_here() {
  drain();  // gives the queue up when it runs dry, or submits it to the pool after a bounded batch
}

void SerialQueue::give_to_pool() {
  pool_->submit(shared_from_this());  // claimed: scheduled_ is set, as for a drain submitted to the pool
}

// ---------------------------------------------------------------------------------------------------------
PollQueue::~PollQueue() {
#ifdef __linux__
  if (fd_ >= 0) ::close(fd_);
#endif
}

bool PollQueue::signal_locked() {
  if (signalled_) return false;
  signalled_ = true;
#ifdef __linux__
  if (fd_ >= 0) {
    const std::uint64_t one = 1;
    // Cannot fail: the counter is 0 (signalled_ was clear), so it never overflows and never blocks.
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
  }
#endif
  return true;
}

void PollQueue::notify_ready() {
  if (!has_ready_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(ready_mutex_);
  if (ready_) ready_();
}

void PollQueue::signal() {
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    fire = signal_locked();
  }
  cv_.notify_all();
  if (fire) notify_ready();
}

void PollQueue::post(Task task) {
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    if (tl_signal_defers > 0) {
      // Signalled at the end of the DeferredSignals it was first posted to in (which the queue outlives).
      try {
        if (tl_deferred_queues.empty() || tl_deferred_queues.back() != this)
          tl_deferred_queues.push_back(this);
        return;
      } catch (...) {
        // Out of memory for the list: signalled now, as without the deferral.
      }
    }
    fire = signal_locked();
  }
  cv_.notify_all();
  if (fire) notify_ready();
}

void PollQueue::set_ready_callback(std::function<void()> fn) {
  const bool set = static_cast<bool>(fn);
  {
    std::lock_guard lock(ready_mutex_);
    ready_ = std::move(fn);
    has_ready_.store(set, std::memory_order_release);
  }
  if (!set) return;
  bool ready = false;
  {
    std::lock_guard lock(mutex_);
    ready = signalled_;
  }
  if (ready) notify_ready();  // what was queued before it was set
}

namespace detail {

DeferredSignals::DeferredSignals() noexcept : first_(tl_deferred_queues.size()) {
  ++tl_signal_defers;
}

DeferredSignals::~DeferredSignals() {
  flush();
  --tl_signal_defers;
}

void DeferredSignals::flush() noexcept {
  if (tl_deferred_queues.size() <= first_) return;
  // signal() posts nothing: the list does not change under the loop.
  for (std::size_t i = first_; i < tl_deferred_queues.size(); ++i) tl_deferred_queues[i]->signal();
  tl_deferred_queues.resize(first_);  // (the capacity kept for the next burst)
}

}  // namespace detail

std::size_t PollQueue::poll(std::chrono::milliseconds timeout) {
  std::deque<Task> batch;
  {
    std::unique_lock lock(mutex_);
    if (tasks_.empty() && !woken_ && timeout.count() > 0) {
      cv_.wait_for(lock, timeout, [this] { return !tasks_.empty() || woken_; });
    }
    woken_ = false;
    batch.swap(tasks_);
    if (signalled_) {
      // Clear the mark (and the counter) with the queue it stands for: ready again only for what comes after
      // this.
#ifdef __linux__
      if (fd_ >= 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);
      }
#endif
      signalled_ = false;
    }
  }
  std::lock_guard run(run_mutex_);
  for (auto& task : batch) {
    try {
      task();
    } catch (...) {
    }
  }
  return batch.size();
}

void PollQueue::wake() {
  bool fire = false;
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
    fire = signal_locked();
  }
  cv_.notify_all();
  if (fire) notify_ready();
}

int PollQueue::ready_fd() {
#ifdef __linux__
  std::lock_guard lock(mutex_);
  if (fd_ < 0) {
    fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) return -1;
    if (signalled_) {  // what is queued already makes it readable
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    }
  }
  return fd_;
#else
  errno = ENOSYS;
  return -1;
#endif
}

std::size_t PollQueue::size() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

// ---------------------------------------------------------------------------------------------------------
struct Context::Impl final : IoRoles {
  Impl(const Context* c, const Options& o)
      : owner(c),
        io_thread_count(o.io_threads),
        io(o.io_threads),
        work(asio::make_work_guard(io)),
        timer(io),
        dispatcher(Dispatcher::create(o.dispatcher_threads, o.start_thread)) {
    dispatcher->set_watch([this] { return watch(); });
    spin_limit_ns.store(std::chrono::nanoseconds(o.io_spin).count(), std::memory_order_relaxed);
  }

  const Context* owner;
  // A copy, not owner->options(): the Impl may outlive its Context (the last reference dropped on one of its
  // own threads: ~Context hands the Impl to a helper thread, and the I/O thread runs on until it is stopped).
  const int io_thread_count;

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::vector<Worker> io_threads;

  // One Asio timer serves every scheduled task: a map ordered by deadline, re-armed to the earliest.
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<Clock::time_point, TimerId>;
  std::mutex timer_mutex;
  asio::steady_timer timer;
  std::map<Key, Task> timers;
  std::unordered_map<TimerId, Clock::time_point> deadlines;
  TimerId next_timer = 1;
  Clock::time_point armed_for = Clock::time_point::max();
  std::atomic<std::uint64_t> wakeups{0};

  std::shared_ptr<Dispatcher> dispatcher;
  std::once_flag stopped;

  // The I/O role. A runner (an I/O thread, or a pool thread lent while one is held up) runs Asio handlers
  // one at a time and, after each, the session queues its reads claimed (events.inline: user callbacks),
  // outside every handler and strand. A runner whose callbacks hand their queue over (a callback about to
  // block) or that the watch finds in the same run of callbacks for a whole period steps aside: a pool thread
  // runs the io_context beside it until it is back, so that one held-up callback never stalls the sockets and
  // timers of the context.
  std::mutex role_mutex;
  std::vector<IoRunner*> runners;   // every runner now running (role_mutex)
  int aside = 0;                    // runners stepped aside (role_mutex)
  int lent = 0;                     // lent runners running or asked for (role_mutex)
  std::atomic<int> aside_count{0};  // `aside`, read without the lock by runners ending their callbacks
  bool role_stopping = false;       // (role_mutex)

  void run_io(IoRunner& me, bool is_lent) {
    {
      std::lock_guard lock(role_mutex);
      runners.push_back(&me);
    }
    tl_io_context = owner;
    tl_runner = &me;
    for (;;) {
      if (is_lent) {
        bool leave = false;
        {
          std::lock_guard lock(role_mutex);
          // Needed while more runners are aside than other lent ones run: the last one lent leaves first.
          leave = lent > aside || role_stopping;
          if (leave) --lent;
        }
        if (leave) {
          // The handlers queued behind the one this thread took last may wait for a runner asleep in the
          // io_context (made for one thread: nobody was woken for them). Wake one.
          asio::post(io, [] {});
          break;
        }
      }
      // A lent runner never polls: it leaves as soon as the runner it stands in for is back.
      if ((is_lent || io_thread_count != 1 ? io.run_one() : wait_for_handler()) == 0) {
        if (is_lent) {
          std::lock_guard lock(role_mutex);
          --lent;
        }
        break;  // stopped
      }
      if (me.has_deferred) run_deferred(me);
      if (me.has_after) run_after(me);
    }
    tl_runner = nullptr;
    tl_io_context = nullptr;
    std::lock_guard lock(role_mutex);
    std::erase(runners, &me);
  }

  // The I/O thread's wait for its next handler: polled for a while first when the gate says recent waits
  // were short (Options::io_spin). Returns what run_one would: 0 once the io_context is stopped.
  std::atomic<std::int64_t> spin_limit_ns{0};
  std::atomic<std::uint64_t> spin_catches{0};
  SpinGate spin_gate;  // the I/O thread's (one: a context with several I/O threads never polls)

  std::size_t wait_for_handler() {
    const SpinGate::Nanos limit(spin_limit_ns.load(std::memory_order_relaxed));
    const auto start = Clock::now();
    if (const auto budget = spin_gate.budget(limit); budget.count() > 0 && !dispatcher->busy()) {
      const auto until = start + budget;
      do {
        if (io.poll_one() > 0) {
          spin_gate.waited(Clock::now() - start, limit);
          spin_catches.fetch_add(1, std::memory_order_relaxed);
          return 1;
        }
        if (io.stopped()) return 0;
        // Callbacks on the pool (events.inline off): what comes next waits for them; they need the core.
        if (dispatcher->busy()) break;
      } while (Clock::now() < until);
    }
    const std::size_t ran = io.run_one();
    spin_gate.waited(Clock::now() - start, limit);
    return ran;
  }

  /// What the handler left until its callbacks were over (Context::after_callbacks), now that they are: in
  /// place when this thread is the only one running the context's handlers (none lent, none aside), else
  /// handed to the strands. (A lent runner is never alone: it counts in `lent`.)
  void run_after(IoRunner& me) {
    me.has_after = false;
    {
      std::lock_guard lock(me.deferred_mutex);
      me.after_now.swap(me.after);  // (empty when a hand-over took them)
    }
    if (me.after_now.empty()) return;
    bool alone = false;
    if (io_thread_count == 1) {
      std::lock_guard lock(role_mutex);
      alone = lent == 0 && aside == 0;
    }
    // Counted before they resume: a test that sees a work resumed then sees it counted.
    (alone ? resumed_here : resumed_posted).fetch_add(me.after_now.size(), std::memory_order_relaxed);
    for (auto& left : me.after_now) {
      if (alone) {
        left->resume_here();
      } else {
        left->resume_posted();
      }
    }
    me.after_now.clear();  // (the capacity of both kept for the handlers to come)
  }
  std::atomic<std::uint64_t> resumed_here{0};  // counts of run_after's works, for tests
  std::atomic<std::uint64_t> resumed_posted{0};

  /// The queues the handler just run claimed, on this thread.
  void run_deferred(IoRunner& me) {
    me.in_callbacks.store(true, std::memory_order_seq_cst);
    dispatcher->wake_watch();
    for (;;) {
      std::shared_ptr<SerialQueue> q;
      {
        std::lock_guard lock(me.deferred_mutex);
        if (me.deferred.empty()) break;
        q = std::move(me.deferred.front());
        me.deferred.erase(me.deferred.begin());
      }
      q->run_here();
    }
    me.has_deferred = false;
    me.in_callbacks.store(false, std::memory_order_release);
    me.sections.fetch_add(1, std::memory_order_release);
    if (aside_count.load(std::memory_order_acquire) > 0) come_back(me);
    tl_io_context = owner;  // also after a hand-over refused (the context stopping): the thread runs on
  }

  /// What a runner stepping aside leaves to others: the queues it claimed and has not run, the output its
  /// callbacks hold, and what its handler left until its callbacks were over (a read to restart: a held-up
  /// callback may be waiting for an answer that read brings).
  struct Left {
    std::vector<std::shared_ptr<SerialQueue>> queues;
    std::vector<Task> flushes;
    std::vector<std::shared_ptr<Context::AfterCallbacks>> after;
  };

  bool step_aside(IoRunner& r) override {
    bool lend_one = false;
    Left left;
    {
      std::lock_guard lock(role_mutex);
      if (r.aside || role_stopping) return false;
      lend_one = step_aside_locked(r, left);
    }
    hand_on(lend_one, left);
    return true;
  }

  // Under role_mutex: marks `r` aside, takes the queues it has yet to run and its held output; true when a
  // runner must be lent.
  bool step_aside_locked(IoRunner& r, Left& left) {
    r.aside = true;
    ++aside;
    aside_count.store(aside, std::memory_order_release);
    {
      std::lock_guard lock(r.deferred_mutex);
      for (auto& q : r.deferred) left.queues.push_back(std::move(q));
      r.deferred.clear();
      for (auto& f : r.held_flushes) left.flushes.push_back(std::move(f));
      r.held_flushes.clear();
      for (auto& a : r.after) left.after.push_back(std::move(a));
      r.after.clear();
      r.output_released.store(true, std::memory_order_relaxed);
    }
    if (aside <= lent) return false;  // a lent runner still running covers it
    ++lent;
    return true;
  }

  void hand_on(bool lend_one, Left& left) {
    for (auto& q : left.queues) q->give_to_pool();
    for (auto& f : left.flushes) f();
    resumed_posted.fetch_add(left.after.size(), std::memory_order_relaxed);  // (before they resume, as above)
    for (auto& a : left.after) a->resume_posted();
    // A runner already lent may be asleep in the io_context while handlers wait: an io_context made for
    // one thread (concurrency hint 1) does not wake a second one for the handlers queued behind the one it
    // hands out, and the thread that took that one is the thread stepping aside. Wake one.
    asio::post(io, [] {});
    if (lend_one) {
      dispatcher->lend([this] {
        IoRunner me(*this);
        name_this_thread("qix-io");
        run_io(me, true);
        name_this_thread("qix-ev");
      });
    }
  }

  void come_back(IoRunner& r) override {
    std::lock_guard lock(role_mutex);
    if (!r.aside) return;
    r.aside = false;
    --aside;
    aside_count.store(aside, std::memory_order_release);
    r.output_released.store(false, std::memory_order_relaxed);
    tl_io_context = owner;
  }

  /// The watch (on an idle pool thread, every Dispatcher::kWatchPeriod while awake): a runner found in the
  /// same run of callbacks as at the last look steps aside. True while any runner ran callbacks since.
  bool watch() {
    bool active = false;
    Left left;
    int to_lend = 0;
    {
      std::lock_guard lock(role_mutex);
      if (role_stopping) return false;
      for (IoRunner* r : runners) {
        const bool in = r->in_callbacks.load(std::memory_order_seq_cst);
        const std::uint64_t done = r->sections.load(std::memory_order_acquire);
        if (in || done != r->seen_sections) active = true;
        if (in && r->seen_in && done == r->seen_sections && !r->aside) {
          if (step_aside_locked(*r, left)) ++to_lend;
        }
        r->seen_in = in;
        r->seen_sections = done;
      }
    }
    hand_on(to_lend > 0, left);
    Left none;
    for (int i = 1; i < to_lend; ++i) hand_on(true, none);
    return active;
  }

  void stop_and_join() {
    std::call_once(stopped, [this] {
      {
        std::lock_guard lock(role_mutex);
        role_stopping = true;
      }
      work.reset();
      {
        std::lock_guard lock(timer_mutex);
        timers.clear();
        deadlines.clear();
        timer.cancel();
      }
      // Sessions close their sockets before the context goes; stop() ends whatever is left.
      io.stop();
      for (auto& t : io_threads) {
        if (t.is_current()) {
          t.detach();
        } else {
          t.join();
        }
      }
      dispatcher->stop();
    });
  }

  // Called with timer_mutex held.
  void arm_locked() {
    if (timers.empty()) return;
    auto earliest = timers.begin()->first.first;
    if (earliest >= armed_for) return;
    armed_for = earliest;
    timer.expires_at(earliest);
    // A wait cancelled by a re-arm (expires_at above, for an earlier deadline) completes with
    // operation_aborted: the new wait has it covered. Running fire() for it would re-arm again, cancelling
    // the new wait, whose handler would do the same: a loop that kept an I/O thread busy for as long as the
    // context had a timer.
    timer.async_wait([this](const boost::system::error_code& ec) {
      wakeups.fetch_add(1, std::memory_order_relaxed);
      if (ec == asio::error::operation_aborted) return;
      fire();
    });
  }

  void fire() {
    std::vector<Task> due;
    {
      std::lock_guard lock(timer_mutex);
      armed_for = Clock::time_point::max();
      auto now = Clock::now();
      while (!timers.empty() && timers.begin()->first.first <= now) {
        auto node = timers.extract(timers.begin());
        deadlines.erase(node.key().second);
        due.push_back(std::move(node.mapped()));
      }
      arm_locked();
    }
    for (auto& t : due) t();
  }
};

Context::Context(Options options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(this, options_)) {
  try {
    for (int i = 0; i < options_.io_threads; ++i) {
      impl_->io_threads.emplace_back(options_.start_thread,
                                     [impl = impl_.get(), hosted = static_cast<bool>(options_.start_thread)] {
                                       if (!hosted) name_this_thread("qix-io");
                                       IoRunner me(*impl);
                                       impl->run_io(me, false);
                                     });
    }
  } catch (...) {
    impl_->stop_and_join();  // the threads started end and are joined
    throw;
  }
}

namespace {

// Options::io_spin's default: QIX_IO_SPIN_US when it holds a whole number in range, else kDefaultIoSpin.
std::chrono::microseconds default_io_spin() {
  // Read when a context is created; libqix never changes the environment (a host calling setenv meanwhile
  // would race with every getenv of the process, not only this one).
  const char* text = std::getenv("QIX_IO_SPIN_US");  // NOLINT(concurrency-mt-unsafe)
  if (text && *text) {
    char* end = nullptr;
    errno = 0;
    const long long us = std::strtoll(text, &end, 10);
    if (errno == 0 && *end == '\0' && us >= 0 && us <= Context::kMaxIoSpin.count()) {
      return std::chrono::microseconds(us);
    }
  }
  return Context::kDefaultIoSpin;
}

}  // namespace

std::shared_ptr<Context> Context::create(Options options) {
  if (options.io_threads < 1 || options.dispatcher_threads < 1) {
    throw std::invalid_argument("context needs at least one I/O thread and one dispatcher thread");
  }
  if (options.io_spin > kMaxIoSpin) throw std::invalid_argument("io_spin above kMaxIoSpin");
  if (options.io_spin.count() < 0) options.io_spin = default_io_spin();
  // OpenSSL frees its state in an exit handler unless told not to by the call that initialises it. A
  // context's threads can still be running while exit handlers run (the default context is never destroyed:
  // the C API's handle on it is never freed), and an I/O thread freeing a TLS connection then used what
  // OpenSSL had freed: a crash at exit (CapiTest.TlsAgainstPlainServerFails, about 1 run in 10). So libqix
  // initialises OpenSSL before any of its threads exists, without the exit handler (its memory stays
  // reachable until the process ends). A host that initialised OpenSSL before has already chosen. Cheap after
  // the first call.
  OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);
  return std::shared_ptr<Context>(new Context(std::move(options)));
}

std::shared_ptr<Context> Context::default_context() {
  static std::shared_ptr<Context> ctx = create(Options{});
  return ctx;
}

Context::~Context() {
  // A destructor must not throw. What can throw below is std::system_error from starting or joining a thread
  // or locking a mutex, when the system is out of resources. The Impl is then leaked, not destroyed: its
  // threads may still run (and destroying a joinable std::thread would terminate the process).
  try {
    if (in_io_thread() || SerialQueue::in_dispatcher_thread()) {
      // The last reference went away on one of our own threads: that thread cannot join itself nor destroy
      // the io_context it is running in. A helper thread finishes the job once it has returned.
      Impl* impl = impl_.release();  // leaked if the helper thread cannot start
      std::thread([impl] {
        std::unique_ptr<Impl> owned(impl);
        owned->stop_and_join();
      }).detach();
      return;
    }
    shutdown();
  } catch (...) {
    (void)impl_.release();
  }
}

asio::io_context& Context::io() {
  return impl_->io;
}

void Context::post_io(Task task) {
  asio::post(impl_->io, std::move(task));
}

Context::TimerId Context::schedule(std::chrono::milliseconds delay, Task task) {
  std::lock_guard lock(impl_->timer_mutex);
  TimerId id = impl_->next_timer++;
  auto when = Impl::Clock::now() + delay;
  impl_->timers.emplace(Impl::Key{when, id}, std::move(task));
  impl_->deadlines.emplace(id, when);
  impl_->arm_locked();
  return id;
}

bool Context::cancel_timer(TimerId id) {
  std::lock_guard lock(impl_->timer_mutex);
  auto it = impl_->deadlines.find(id);
  if (it == impl_->deadlines.end()) return false;
  impl_->timers.erase(Impl::Key{it->second, id});
  impl_->deadlines.erase(it);
  return true;
}

std::shared_ptr<SerialQueue> Context::make_serial_queue() {
  return std::make_shared<SerialQueue>(impl_->dispatcher);
}

void Context::shutdown() {
  if (impl_) impl_->stop_and_join();
}

std::uint64_t Context::timer_wakeups() const noexcept {
  return impl_->wakeups.load(std::memory_order_relaxed);
}

void Context::set_io_spin(std::chrono::microseconds spin) {
  if (spin.count() < 0 || spin > kMaxIoSpin) throw std::invalid_argument("io_spin out of range");
  impl_->spin_limit_ns.store(std::chrono::nanoseconds(spin).count(), std::memory_order_relaxed);
}

std::chrono::microseconds Context::io_spin() const noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::nanoseconds(impl_->spin_limit_ns.load(std::memory_order_relaxed)));
}

std::uint64_t Context::io_spin_catches() const noexcept {
  return impl_->spin_catches.load(std::memory_order_relaxed);
}

std::uint64_t Context::resumed_after_callbacks(bool in_place) const noexcept {
  return (in_place ? impl_->resumed_here : impl_->resumed_posted).load(std::memory_order_relaxed);
}

bool Context::in_io_thread() const noexcept {
  return tl_io_context == this;
}

bool Context::step_aside_before_waiting() {
  return step_aside_keeping_queue();
}

bool Context::on_an_io_thread() noexcept {
  return tl_io_context != nullptr;
}

bool Context::after_callbacks(std::shared_ptr<AfterCallbacks> work) noexcept {
  IoRunner* me = tl_runner;
  if (me == nullptr || !me->has_deferred) return false;
  try {
    std::lock_guard lock(me->deferred_mutex);
    me->after.push_back(std::move(work));
  } catch (...) {
    return false;
  }
  me->has_after = true;
  return true;
}

void Context::run_after_handler(const std::shared_ptr<SerialQueue>& claimed) {
  IoRunner* me = tl_runner;
  if (me == nullptr || tl_io_context != this) {
    claimed->run_here();
    return;
  }
  try {
    std::lock_guard lock(me->deferred_mutex);
    me->deferred.push_back(claimed);
  } catch (...) {
    claimed->give_to_pool();  // out of memory: never leave a claimed queue behind
    return;
  }
  me->has_deferred = true;
}

}  // namespace qix::core
