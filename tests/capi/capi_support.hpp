// Shared by the C API tests (tests/capi/*_test.cpp): RAII for C handles, a waiter for events that callbacks
// signal, and the CapiTest fixture (an in-process simulator over real loopback sockets, with helpers to open
// a session, a doc and a hypercube). Tests wait for events, never for time: what a callback reports is waited
// for with a Waiter or qix::test::Calls; the end of a session's events with qix_session_wait_closed().
#pragma once

#include "qix/qix.h"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace qix::test {

using namespace std::chrono_literals;

/// Counts notifications from callbacks and waits for a count, or for a condition on what they recorded.
class Waiter {
 public:
  /// Runs `fn` (recording what the callback saw) and counts one, under the lock.
  void notify(const std::function<void()>& fn = {}) {
    // Notified under the lock: the waiting test may destroy this Waiter as soon as it sees the count.
    std::lock_guard lock(mutex_);
    if (fn) fn();
    ++count_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  /// Waits until `pred` (evaluated under the lock, after each notify) holds.
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, pred);
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

/// Waits for a condition that no event reports — the simulator's counters and connection count, which it
/// updates on its own thread, or libqix's pending-call count while the session's event thread is blocked —
/// checking it every millisecond until `timeout`. Whatever libqix reports through a callback is waited for
/// through that callback instead.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 20s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

struct SessionDeleter {
  void operator()(qix_session* s) const { qix_session_free(s); }
};
struct ObjectDeleter {
  void operator()(qix_object* o) const { qix_object_free(o); }
};
struct ResultDeleter {
  void operator()(qix_result* r) const { qix_result_free(r); }
};
struct OptionsDeleter {
  void operator()(qix_options* o) const { qix_options_free(o); }
};
using SessionPtr = std::unique_ptr<qix_session, SessionDeleter>;
using ObjectPtr = std::unique_ptr<qix_object, ObjectDeleter>;
using ResultPtr = std::unique_ptr<qix_result, ResultDeleter>;
using OptionsPtr = std::unique_ptr<qix_options, OptionsDeleter>;

/// The text of a `char **out` string, released.
inline std::string take(char* s) {
  std::string out = s ? s : "";
  qix_free(s);
  return out;
}

inline std::string last_error_message() {
  return qix_error_last() ? qix_error_message(qix_error_last()) : "";
}

/// The calling thread's name ("qix-io" for libqix's I/O threads, "qix-ev" for its dispatcher threads).
inline std::string this_thread_name() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

/// Closes `s` and waits until its last event ran (qix_session_wait_closed): afterwards every callback of
/// the calls made and listeners added before has run, so counts taken then are final.
inline bool close_and_drain(qix_session* s) {
  qix_session_close(s);
  return qix_session_wait_closed(s, 20000) == QIX_OK;
}

/// Closes the session and waits for its last event when it goes out of scope. Declared after what the
/// session's callbacks write to (and after the session's own handle), it keeps the callbacks of a test that
/// fails half-way from outliving that state.
class DrainOnExit {
 public:
  explicit DrainOnExit(qix_session* s) : s_(s) {}
  ~DrainOnExit() {
    if (s_) {
      EXPECT_TRUE(close_and_drain(s_)) << "the session's last events did not run";
    }
  }
  DrainOnExit(const DrainOnExit&) = delete;
  DrainOnExit& operator=(const DrainOnExit&) = delete;

 private:
  qix_session* s_;
};

/// Properties (a JSON array of one object) of a session object with a hypercube of `dims` x `measures`.
inline std::string hypercube_props(const std::string& id, const std::vector<std::string>& dims,
                                   const std::vector<std::string>& measures, int fetch = 20) {
  std::string d, m;
  for (auto& f : dims) d += (d.empty() ? "" : ",") + std::string(R"({"qDef":{"qFieldDefs":[")") + f + "\"]}}";
  for (auto& e : measures) m += (m.empty() ? "" : ",") + std::string(R"({"qDef":{"qDef":")") + e + "\"}}";
  int width = static_cast<int>(dims.size() + measures.size());
  return R"([{"qInfo":{"qId":")" + id + R"(","qType":"table"},"qHyperCubeDef":{"qDimensions":[)" + d +
         R"(],"qMeasures":[)" + m + R"(],"qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":)" +
         std::to_string(width) + R"(,"qHeight":)" + std::to_string(fetch) + "}]}}]";
}

/// A simulator per test (restartable with other options), and helpers that expect success.
class CapiTest : public ::testing::Test {
 protected:
  void start_sim(qix::sim::Options o = {}) {
    sim_ = std::make_unique<qix::sim::Server>(std::move(o));
    sim_->start();
  }
  void restart_sim(qix::sim::Options o) {
    sim_->stop();
    start_sim(std::move(o));
  }
  void SetUp() override { start_sim(); }
  void TearDown() override {
    if (sim_) sim_->stop();
  }

  OptionsPtr options(const std::string& path = "/app/demo") {
    qix_options* o = nullptr;
    EXPECT_EQ(qix_options_new(&o), QIX_OK);
    EXPECT_EQ(qix_options_set_str(o, "url", (sim_->url() + path).c_str()), QIX_OK);
    return OptionsPtr(o);
  }

  SessionPtr open(qix_options* o = nullptr) {
    OptionsPtr own;
    if (!o) {
      own = options();
      o = own.get();
    }
    qix_session* s = nullptr;
    int rc = qix_session_open_sync(&s, nullptr, o, 10000);
    EXPECT_EQ(rc, QIX_OK) << last_error_message();
    return SessionPtr(s);
  }

  ObjectPtr open_doc(qix_session* s, const char* app = "demo") {
    qix_result* r = nullptr;
    std::string params = std::string("[\"") + app + "\"]";
    EXPECT_EQ(qix_session_call_sync(&r, s, "OpenDoc", params.c_str(), 0, -1), QIX_OK);
    ResultPtr res(r);
    qix_object* doc = nullptr;
    EXPECT_EQ(qix_result_object(&doc, r), QIX_OK);
    return ObjectPtr(doc);
  }

  ObjectPtr create_cube(qix_object* doc, const std::string& props) {
    qix_result* r = nullptr;
    EXPECT_EQ(qix_object_call_sync(&r, doc, "CreateSessionObject", props.c_str(), 0, -1), QIX_OK)
        << last_error_message();
    ResultPtr res(r);
    qix_object* obj = nullptr;
    EXPECT_EQ(qix_result_object(&obj, r), QIX_OK);
    return ObjectPtr(obj);
  }

  std::unique_ptr<qix::sim::Server> sim_;
};

}  // namespace qix::test
