// Collects asynchronous call completions of the C API (qix_call_cb) for tests: per request id, how many
// times it completed, with which status, JSON and engine error. Thread-safe.
#pragma once

#include "qix/qix.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace qix::test {

class Calls {
 public:
  /// The qix_call_cb: pass it with a Calls* as payload.
  static void cb(const qix_result* r, void* p) {
    auto* self = static_cast<Calls*>(p);
    // Notified under the lock: the waiting test may destroy this object as soon as it sees the total.
    std::lock_guard l(self->m_);
    auto& e = self->by_id_[qix_result_id(r)];
    ++e.count;
    e.status = qix_result_status(r);
    e.json = qix_result_json(r);
    const qix_error* err = qix_result_error(r);
    e.engine_code = err ? qix_error_engine_code(err) : 0;
    e.retriable = err ? qix_error_is_retriable(err) : 0;
    ++self->total_;
    self->cv_.notify_all();
  }
  /// Waits until `n` completions in all were seen.
  bool wait(int n, std::chrono::milliseconds t = std::chrono::seconds(20)) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, t, [&] { return total_ >= n; });
  }
  struct Entry {
    int count = 0;
    int status = 1;
    std::string json;
    int engine_code = 0;
    int retriable = 0;
  };
  std::map<int64_t, Entry> snapshot() {
    std::lock_guard l(m_);
    return by_id_;
  }
  int total() {
    std::lock_guard l(m_);
    return total_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::map<int64_t, Entry> by_id_;
  int total_ = 0;
};

}  // namespace qix::test
