// Deferring a poll queue's wake-up until the poster's locks are released.
#ifndef QIX_CORE_SESSION_DEFERRED_SIGNALS_HPP
#define QIX_CORE_SESSION_DEFERRED_SIGNALS_HPP

#include <cstddef>

namespace qix::core::detail {

/// While one lives on a thread, a PollQueue (`events.poll`) that this thread posts to queues the task at once
/// but signals its readiness descriptor (and wakes its waiting pollers) only when this one ends (a queue
/// posted to again in a nested one: when the one it was first posted to in ends); the queues posted to must
/// outlive it. The I/O thread holds one around the part of a burst it applies under the
/// session's lock (Session::link_frames), where it posts the burst's events: a host polling on another core
/// wakes at the signal and makes its next call, which takes that lock, so a signal given under the lock had
/// the host sleep on the lock and be woken again, two more trips through the kernel. The tasks are queued in
/// order as before; only the wake-up comes after the lock. Not movable; one thread only.
class DeferredSignals {
 public:
  DeferredSignals() noexcept;
  ~DeferredSignals();
  DeferredSignals(const DeferredSignals&) = delete;
  DeferredSignals& operator=(const DeferredSignals&) = delete;
  /// Signals the queues first posted to since this one began. Safe to call again; the destructor calls it.
  void flush() noexcept;

 private:
  std::size_t first_;  ///< where this one's queues begin in the thread's list
};

}  // namespace qix::core::detail

#endif  // QIX_CORE_SESSION_DEFERRED_SIGNALS_HPP
