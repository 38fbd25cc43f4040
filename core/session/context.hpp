// Context: the threads a group of sessions shares. It owns an Asio io_context run by N I/O threads
// (default 1), a timer queue on those threads, and a dispatcher pool that runs user callbacks.
//
// Threads started: `io_threads` I/O threads (socket reads/writes, frame decoding, timers) and
// `dispatcher_threads` dispatcher threads (user callbacks through SerialQueue). A session with
// SessionOptions::inline_events has its I/O thread run its queue itself when it is idle (SerialQueue::claim,
// Context::run_after_handler): after the Asio handler that read the frames has returned, outside every
// strand. An I/O thread whose callbacks hand their queue over (a callback about to block) or stay in the
// same run of callbacks for a watch period (10 ms) steps aside: a dispatcher thread runs the io_context
// until it is back, so a held-up callback never stalls the context's sockets and timers. All public member
// functions are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace boost::asio {
class io_context;
}

namespace qix::core {

namespace detail {
class DeferredSignals;  // session/deferred_signals.hpp
}  // namespace detail

using Task = std::function<void()>;

/// A task made of parts run one after another (a burst of a session's events: one hand-off to the event
/// thread for many answers), which a hand-over can split: the parts not started when the queue is handed
/// over go to the queue's next drain, in order, before the tasks posted after it (SerialQueue::hand_over).
class Parts {
 public:
  virtual ~Parts() = default;
  /// How many parts there are. Fixed once posted.
  virtual std::size_t size() const noexcept = 0;
  /// Runs part `i` (< size()), once. Distinct parts may run on two threads at a time after a hand-over;
  /// must not throw.
  virtual void run(std::size_t i) noexcept = 0;
};

/// Where a session's events and completions run. Implementations run tasks in the order posted, one at a
/// time.
class EventExecutor {
 public:
  virtual ~EventExecutor() = default;
  /// Queues `task`. Thread-safe, never blocks, never runs `task` inline.
  virtual void post(Task task) = 0;
  /// Queues `parts` as one task that runs them in order (see Parts). Thread-safe, never blocks, never runs
  /// a part inline. This default posts a task that runs them all.
  virtual void post_parts(std::shared_ptr<Parts> parts);
  /// Lets the tasks queued after the one now running go on without it (see SerialQueue::hand_over).
  /// False when there is nothing to hand over: no task running, or an executor that cannot (PollQueue).
  virtual bool hand_over() { return false; }
};

class Dispatcher;

/// Output held back while event tasks run. A SerialQueue runs its tasks inside a batch: a transport asked to
/// send from inside it (a callback issuing its next call) queues the message and registers its flush with
/// at_end() instead of waking its I/O thread at once. The tasks a queue finds waiting one after another share
/// the batch, whose flushes run when the queue has no task left at hand, or once the tasks have run for
/// held_at_most since the batch opened (checked between tasks), so that the calls of many tasks leave in one
/// write.
/// Nothing in a task can wait for its own output (an answer to it would be delivered on the same queue, after
/// the task), so holding the output adds no wait for an answer; a call made by one task waits at most for
/// the tasks after it in the same batch.
class OutputBatch {
 public:
  OutputBatch() noexcept;
  ~OutputBatch();
  OutputBatch(const OutputBatch&) = delete;
  OutputBatch& operator=(const OutputBatch&) = delete;
  /// True while an OutputBatch lives on the calling thread (and its holding was not released: release()).
  static bool active() noexcept;
  /// Sends what the calling thread's batches hold now and holds nothing more on this thread until its
  /// outermost batch ends (a task that handed its queue over and may now block: SerialQueue::hand_over).
  static void release() noexcept;
  /// Runs `flush` when the calling thread's outermost OutputBatch ends. Only while active(); `flush` must
  /// not throw.
  static void at_end(Task flush);
  /// A batch that is not a scope (the C API's qix_batch_begin / qix_batch_end): begin() opens one on the
  /// calling thread; end() closes the last one begin() opened there, and is a no-op when none is open (so a
  /// stray end() never closes a scoped batch). A begin() left open inside a scoped batch (a callback that
  /// forgot its end()) is closed with that scope, so that a dispatcher thread never keeps holding output.
  static void begin() noexcept;
  static void end() noexcept;
  /// How long the tasks a queue runs back to back may hold their output: the batch's flushes run after the
  /// first task that ends this long after the batch opened. 400 µs: long enough for a runtime whose
  /// callbacks take a few microseconds each (Java) to fill its writes (at 100 µs the Java client made half
  /// again as many writes and spent a tenth more CPU per call at window 1024); short next to a round trip to
  /// an engine on another machine. docs/c-api.md promises it.
  static constexpr std::chrono::microseconds held_at_most{400};

 private:
  int open_mark_;  // begin()s open on this thread when the scope started
};

/// Runs posted tasks in order, one at a time, on the context's dispatcher pool (like an Asio strand).
/// A slow task delays only this queue's later tasks, not other queues nor any socket.
class SerialQueue final : public EventExecutor, public std::enable_shared_from_this<SerialQueue> {
 public:
  explicit SerialQueue(std::shared_ptr<Dispatcher> pool);
  void post(Task task) override;
  void post_parts(std::shared_ptr<Parts> parts) override;
  /// A hand-over: the queue's later tasks go to another pool thread (one is started when every one is busy,
  /// up to Dispatcher::kMaxExtraThreads beyond the pool's own) while the task now running goes on; they
  /// stay in order among themselves but may run beside the rest of that task. When that task is made of
  /// parts (post_parts), the later tasks begin with its parts not started yet: only the part now running
  /// stays behind (a burst's later answers, one of which it may be waiting for). Called from that task's own
  /// thread, the at_run_end functions that drain has not run yet come first of all (a binding's answers
  /// taken from tasks already run, for the same reason), and it also releases the thread:
  /// in_dispatcher_thread() is false there until the task returns (so it may block, e.g. in a blocking call)
  /// and its held output leaves at once (OutputBatch::release). From a task of this queue that another thread
  /// handed over already, it only releases the calling thread. From another thread, it ends a hold-up by a
  /// task that blocks. False when no task of this queue runs. Thread-safe.
  bool hand_over() override;
  /// True when the calling thread is currently running a task of any SerialQueue and has not handed that
  /// queue over (hand_over from the task itself).
  static bool in_dispatcher_thread() noexcept;
  /// From a task that the calling thread runs for a queue (a callback): runs `fn` on this thread once the
  /// tasks its drain runs back to back are over, right before the output they hold leaves (see OutputBatch:
  /// when the queue runs dry, after OutputBatch::held_at_most, or when the drain stops or was handed over),
  /// so that a binding can take a burst's completions into its runtime in one go and what `fn` sends leaves
  /// with their output. `fn` runs as those tasks do: it may hand the queue over (hand_over) and what it
  /// sends is held with theirs. Functions registered meanwhile (by `fn` too) run next, in order. A hand-over
  /// from this thread (from a task or from such a function) takes the functions not run yet along: the
  /// thread that takes the queue over runs them first, before the queue's later tasks (so a binding that
  /// hands over before it waits for an answer it holds registers the rest of its run first); registered
  /// after that hand-over, a function runs here once the task is over. False, and nothing registered, when
  /// the calling thread runs no queue's task. `fn` must not throw.
  static bool at_run_end(Task fn);
  /// Takes the queue for the calling thread when it is idle (nothing queued, no drain scheduled or running):
  /// tasks posted from now on, by any thread, are queued for run_here() instead of a pool thread, in the
  /// order posted. The caller must call run_here() next, on the same thread. False when the queue is busy
  /// (its tasks go to the pool as usual). Thread-safe. The session's `events.inline` (SessionOptions::
  /// inline_events): the I/O thread delivers a burst itself when its session's queue has nothing else to do.
  bool claim();
  /// After claim() returned true, instead of run_here(): the pool drains the queue (an I/O thread that
  /// stepped aside gives up the queues it claimed and has not run).
  void give_to_pool();
  /// After claim() returned true: runs the queue's tasks on the calling thread as a pool thread's drain does
  /// (in one output batch; a burst's parts claimed one by one; hand_over() works, and from another thread it
  /// hands the later tasks to the pool), then gives the queue up, to a pool thread when tasks remain after a
  /// bounded batch of them. Runs nothing when nothing was posted.
  void run_here();

 private:
  friend class Dispatcher;  // runs drain()
  /// A queued task: `task`, or the parts of `parts` from `from` on.
  struct Entry {
    Task task;
    std::shared_ptr<Parts> parts;
    std::size_t from = 0;
  };
  /// The parts a drain is running: the next one to start is `next` (kTaken once a hand-over took the rest).
  /// On the drain's stack; reached by hand_over through running_, under mutex_.
  struct Running {
    static constexpr std::size_t kTaken = static_cast<std::size_t>(-1);
    std::shared_ptr<Parts> parts;
    std::atomic<std::size_t> next{0};
  };
  void drain();
  std::shared_ptr<Dispatcher> pool_;
  std::mutex mutex_;
  std::deque<Entry> tasks_;
  Running* running_ = nullptr;    ///< the parts the owning drain runs now, if any; guarded by mutex_
  bool scheduled_ = false;        ///< submitted to the pool, or being drained
  bool draining_ = false;         ///< a drain owns the queue (its thread: drainer_)
  std::uint64_t generation_ = 0;  ///< bumped by each drain's start and each hand-over: a drain whose
                                  ///< generation is gone leaves at its next look at the queue
  std::thread::id drainer_;
};

/// Holds tasks until a host thread runs them with poll() (librdkafka-style event polling).
class PollQueue final : public EventExecutor {
 public:
  PollQueue() = default;
  ~PollQueue() override;
  PollQueue(const PollQueue&) = delete;
  PollQueue& operator=(const PollQueue&) = delete;

  /// `capacity_hint` is informative only: nothing is ever dropped (every completion must be delivered).
  void post(Task task) override;
  /// Runs every queued task on the calling thread, waiting up to `timeout` for the first one.
  /// Returns the number of tasks run; returns early (possibly 0) when wake() is called. Thread-safe, but
  /// tasks of one queue run one at a time even when several threads poll.
  std::size_t poll(std::chrono::milliseconds timeout);
  /// Makes one blocked (or the next) poll() return at once.
  void wake();
  std::size_t size() const;
  /// A descriptor that is readable exactly while poll() has something to take (a queued task or a wake()),
  /// for hosts that wait in their own event loop: a Linux eventfd (non-blocking, close-on-exec), created on
  /// the first call, closed with the queue. post() and wake() set its counter when it is clear; poll() takes
  /// the tasks and clears the counter under the same lock, so a task queued after a poll() took the others
  /// sets it again (no lost wake-up, level- or edge-triggered). Returns -1 and sets errno when it cannot be
  /// created (ENOSYS where there is no eventfd). Thread-safe.
  int ready_fd();
  /// Calls `fn` each time the queue becomes ready, at the moments ready_fd()'s descriptor becomes readable (a
  /// task posted or a wake() while nothing was there to take since the last poll()), for hosts whose loop is
  /// woken by a call rather than a descriptor; at once, on the calling thread, when the queue is ready
  /// already. `fn` runs on the posting thread, outside the queue's lock but possibly under its caller's; it
  /// must return quickly and must not call into the queue or its session. Calls of it never overlap. An
  /// empty `fn` removes it: once this returns, it is not called any more (a call running on another thread
  /// is waited for, so this must not be called from `fn`). Thread-safe.
  void set_ready_callback(std::function<void()> fn);

 private:
  friend class detail::DeferredSignals;
  /// Marks the queue ready (and sets the descriptor's counter) unless it is; true when it was not, so the
  /// caller calls notify_ready() once it released mutex_. Under mutex_.
  bool signal_locked();
  /// Marks the queue ready unless it is, wakes the waiting pollers and calls the ready callback
  /// (DeferredSignals' end).
  void signal();
  /// Calls the ready callback, if any.
  void notify_ready();
  mutable std::mutex mutex_;
  std::mutex run_mutex_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool woken_ = false;
  int fd_ = -1;             ///< ready_fd()'s descriptor, or -1. Guarded by mutex_.
  bool signalled_ = false;  ///< ready: something to take since the last poll() (fd_'s counter is non-zero).
                            ///< Guarded by mutex_.
  std::mutex ready_mutex_;  ///< held while ready_ runs and while it is replaced
  std::function<void()> ready_;         ///< set_ready_callback's; guarded by ready_mutex_
  std::atomic<bool> has_ready_{false};  ///< ready_ is set (read without the lock on every signal)
};

class Context : public std::enable_shared_from_this<Context> {
 public:
  struct Options {
    int io_threads = 1;
    int dispatcher_threads = 2;
    /// How long the I/O thread may poll its sockets before it sleeps, while its recent waits were shorter
    /// than that (SpinGate): an answer that lands meanwhile costs no wake-up. Negative: the default, the
    /// environment variable QIX_IO_SPIN_US when it holds a number from 0 to kMaxIoSpin, else kDefaultIoSpin.
    /// Zero: never polls. Only a context with one I/O thread polls.
    std::chrono::microseconds io_spin{-1};
    /// Starts each of the context's threads (I/O and dispatcher threads) when set: called with the thread's
    /// body, it runs it on a new thread of the host's and returns; it throws (std::system_error) when it
    /// cannot. Called with the context's locks held: it must not call into the context. Unset: std::thread.
    /// For hosts whose own threads are cheaper to call back on (a Go program's: Go code runs at a fraction
    /// of the cost on a thread Go started).
    std::function<void(Task body)> start_thread{};
  };
  static constexpr std::chrono::microseconds kDefaultIoSpin{50};
  static constexpr std::chrono::microseconds kMaxIoSpin{1000000};
  using TimerId = std::uint64_t;

  /// Creates a context and starts its threads. Throws std::invalid_argument for thread counts < 1.
  static std::shared_ptr<Context> create(Options options);
  static std::shared_ptr<Context> create() { return create(Options{}); }
  /// The process-wide default context, created on first use (1 I/O thread, 2 dispatcher threads).
  static std::shared_ptr<Context> default_context();

  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// The Asio io_context (for transports). Valid for the life of the context.
  boost::asio::io_context& io();
  /// Runs `task` on an I/O thread.
  void post_io(Task task);
  /// Runs `task` on an I/O thread after `delay`, unless cancelled first. Returns an id for cancel_timer.
  TimerId schedule(std::chrono::milliseconds delay, Task task);
  /// Cancels a scheduled task. Returns false when it already ran, is running, or never existed.
  bool cancel_timer(TimerId id);
  /// A new serial event queue on this context's dispatcher pool.
  std::shared_ptr<SerialQueue> make_serial_queue();
  /// Stops the threads after the queued work has run (joins them). Idempotent; called by the destructor.
  /// Must not be called from one of the context's own threads.
  void shutdown();
  /// How many times the timer queue's one Asio wait has completed (fired or cancelled by a re-arm). For
  /// tests: each scheduled task costs at most a couple.
  std::uint64_t timer_wakeups() const noexcept;
  /// Sets Options::io_spin (0 to kMaxIoSpin; out of range throws std::invalid_argument). Any thread; takes
  /// effect at the I/O thread's next wait.
  void set_io_spin(std::chrono::microseconds spin);
  /// Options::io_spin now (resolved: never negative).
  std::chrono::microseconds io_spin() const noexcept;
  /// How many of the I/O thread's waits ended while it polled (an answer found without a wake-up). For tests.
  std::uint64_t io_spin_catches() const noexcept;
  /// True when the calling thread is one of this context's I/O threads.
  bool in_io_thread() const noexcept;
  /// True when the calling thread is an I/O thread of any context (where nothing may wait for an answer: the
  /// thread that would read it is the one waiting). False on an I/O thread whose callback handed its queue
  /// over (SerialQueue::hand_over): that thread left the I/O role until its callbacks end.
  static bool on_an_io_thread() noexcept;
  /// From a callback running on an I/O thread (events.inline) that is about to wait for another thread (a
  /// full buffer, a lock): another thread takes the I/O role at once, as the watch would once it found the
  /// callback held up, and the output its callbacks hold is sent. The callback keeps its session's queue
  /// (the later events wait for it, in order) and the I/O thread's rules (on_an_io_thread() stays true).
  /// False (and nothing done) anywhere else.
  static bool step_aside_before_waiting();
  /// Runs a queue the calling thread took with SerialQueue::claim(): on this context's I/O thread, once the
  /// Asio handler now running has returned (outside its strand, so that another thread can take the I/O
  /// role while the queue's callbacks run), together with the other queues claimed in that handler; on any
  /// other thread, at once (run_here).
  void run_after_handler(const std::shared_ptr<SerialQueue>& claimed);
  /// Work an Asio handler leaves until the callbacks it caused are over (after_callbacks).
  class AfterCallbacks {
   public:
    /// On the thread that ran the callbacks, right after them, when no other thread runs the context's
    /// handlers: no handler of the caller's strand can run meanwhile, so the work may touch what only
    /// those handlers touch.
    virtual void resume_here() = 0;
    /// Otherwise (another thread took the I/O role meanwhile, or the context has several I/O threads): the
    /// work is to be posted to the caller's strand.
    virtual void resume_posted() = 0;

   protected:
    ~AfterCallbacks() = default;
  };
  /// From an Asio handler on an I/O thread that claimed a queue with run_after_handler (callbacks run on
  /// this thread once the handler returns): keeps `work` (a reference to it) and returns true; once those
  /// callbacks are over and before the thread waits again, calls work->resume_here() or, when another
  /// thread may be running the context's handlers, work->resume_posted(). False anywhere else, or when out
  /// of memory (nothing kept: the caller does its work at once). The websocket transport restarts its
  /// socket read this way: the calls the callbacks make leave before a read that would find nothing yet,
  /// and an answer to one call at a time waits for no system call between its read and the next call's
  /// write.
  static bool after_callbacks(std::shared_ptr<AfterCallbacks> work) noexcept;
  /// How many works kept by after_callbacks were resumed in place (true) or handed to their strands (false)
  /// so far. For tests.
  std::uint64_t resumed_after_callbacks(bool in_place) const noexcept;

  /// The options the context was created with (io_spin resolved; set_io_spin does not change them).
  const Options& options() const noexcept { return options_; }

 private:
  explicit Context(Options options);
  struct Impl;
  Options options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qix::core
