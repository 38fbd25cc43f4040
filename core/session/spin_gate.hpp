// SpinGate: whether an I/O thread polls its sockets for a while before it sleeps, and for how long.
//
// A thread that sleeps in epoll_wait and is woken by an answer pays the wake-up (the scheduler's, a few
// microseconds) on every round trip; one that polls finds the answer as it lands. Polling is worth it only
// while answers come soon after the thread runs out of work (a call at a time to a nearby engine); otherwise
// it burns a core for nothing. So the gate keeps a running average of how long the thread's recent waits
// lasted, each counted at most four limits long, and lets the thread poll, for up to the limit, only while
// that average is below the limit. A long wait (an idle connection, a distant server) closes the gate within
// three waits; short waits open it again within a dozen.
//
// Not thread-safe: one per I/O thread, used by that thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace qix::core {

class SpinGate {
 public:
  using Nanos = std::chrono::nanoseconds;

  /// How long to poll before sleeping, given the limit now (zero: sleep at once).
  Nanos budget(Nanos limit) const noexcept {
    return limit.count() > 0 && average_ < limit.count() ? limit : Nanos::zero();
  }

  /// A wait (polled, slept or both) ended after `waited`.
  void waited(Nanos waited, Nanos limit) noexcept {
    const std::int64_t w =
        std::clamp<std::int64_t>(waited.count(), 0, 4 * std::max<std::int64_t>(limit.count(), 0));
    average_ += (w - average_) / 8;
  }

  /// The running average of the recent waits (for tests).
  Nanos average() const noexcept { return Nanos(average_); }

 private:
  std::int64_t average_ = 0;
};

}  // namespace qix::core
