// Shared by the reconnect tests (reconnect_*_test.cpp): a log of a session's state events, a listener that
// stands in for an engine that is down, and the Reconnect fixture (a simulator that can be restarted on the
// same port, options with a reconnect policy and a short back-off, helpers that expect success).
#pragma once

#include "capi_support.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qix::test {

/// Collects the session's state events (qix_session_on_state).
class StateLog {
 public:
  struct Event {
    int state = -1;
    int code = 0;
    std::string reason;
  };
  static void cb(qix_session*, int state, int code, const char* reason, void* p) {
    auto* self = static_cast<StateLog*>(p);
    std::lock_guard l(self->m_);
    self->events_.push_back({state, code, reason ? reason : ""});
    self->cv_.notify_all();
  }
  void attach(qix_session* s) { EXPECT_EQ(qix_session_on_state(nullptr, s, &StateLog::cb, this), QIX_OK); }
  /// Waits until `n` events of `state` were seen.
  bool wait(int state, std::chrono::milliseconds t = 20s, int n = 1) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, t, [&] { return count_locked(state) >= n; });
  }
  int count(int state) {
    std::lock_guard l(m_);
    return count_locked(state);
  }
  /// The first event of `state` (state -1 when none).
  Event first(int state) {
    std::lock_guard l(m_);
    for (auto& e : events_)
      if (e.state == state) return e;
    return {};
  }
  std::string dump() {
    std::lock_guard l(m_);
    std::string out;
    for (auto& e : events_)
      out += "[" + std::to_string(e.state) + " " + std::to_string(e.code) + " " + e.reason + "] ";
    return out;
  }

 private:
  int count_locked(int state) const {
    int n = 0;
    for (auto& e : events_) n += e.state == state;
    return n;
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

/// Properties of a session object with a one-dimension, one-measure hypercube (a JSON object).
inline std::string cube_props(const std::string& id, const std::string& dim, const std::string& measure,
                              const std::string& extra = "") {
  return R"({"qInfo":{"qId":")" + id + R"(","qType":"table"},)" + extra +
         R"("qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":[")" + dim +
         R"("]}}],"qMeasures":[{"qDef":{"qDef":")" + measure +
         R"("}}],"qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":2,"qHeight":20}]}})";
}

/// Stands in for an engine that is down but reachable: accepts TCP connections on 127.0.0.1:port and closes
/// them at once, counting them (each is one reconnection attempt).
class CountingListener {
 public:
  explicit CountingListener(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0;
    if (ok_) thread_ = std::thread([this] { run(); });
  }
  ~CountingListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  CountingListener(const CountingListener&) = delete;
  CountingListener& operator=(const CountingListener&) = delete;
  bool ok() const { return ok_; }
  int accepted() const { return count_.load(); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++count_;
      ::close(c);
    }
  }
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};
  std::thread thread_;
};

/// Counts an object's "changed" (or "closed") events: pass a Waiter as the payload.
inline void count_event(qix_object*, void* p) {
  static_cast<Waiter*>(p)->notify();
}

class Reconnect : public ::testing::Test {
 protected:
  void start(const qix::sim::Options& o = {}) {
    sim_opts_ = o;
    sim_ = std::make_unique<qix::sim::Server>(o);
    sim_->start();
  }
  /// An engine restart: a new simulator (nothing of the old one kept) on the same port.
  void restart() {
    unsigned short port = sim_->port();
    sim_->stop();
    qix::sim::Options o = sim_opts_;
    o.port = port;
    sim_ = std::make_unique<qix::sim::Server>(o);
    sim_->start();
  }
  void TearDown() override {
    if (sim_) sim_->stop();
  }

  /// Options for the demo app with a reconnect policy ("" = the default) and a short back-off.
  OptionsPtr options(const std::string& policy, int max_attempts = 10, int initial_delay_ms = 50,
                     const std::string& path = "/app/demo") {
    qix_options* o = nullptr;
    EXPECT_EQ(qix_options_new(&o), QIX_OK);
    OptionsPtr p(o);
    EXPECT_EQ(qix_options_set_str(o, "url", (sim_->url() + path).c_str()), QIX_OK);
    if (!policy.empty()) {
      set_str(o, "reconnect", policy);
      if (policy != "none") {
        set_int(o, "reconnect.max_attempts", max_attempts);
        set_int(o, "reconnect.initial_delay_ms", initial_delay_ms);
        set_int(o, "reconnect.max_delay_ms", 200);
      }
    }
    return p;
  }
  static void set_str(qix_options* o, const char* name, const std::string& v) {
    EXPECT_EQ(qix_options_set_str(o, name, v.c_str()), QIX_OK)
        << name << "=" << v << ": " << last_error_message();
  }
  static void set_int(qix_options* o, const char* name, int64_t v) {
    EXPECT_EQ(qix_options_set_int(o, name, v), QIX_OK) << name << "=" << v << ": " << last_error_message();
  }
  static void set_bool(qix_options* o, const char* name, bool v) {
    EXPECT_EQ(qix_options_set_bool(o, name, v ? 1 : 0), QIX_OK)
        << name << "=" << v << ": " << last_error_message();
  }

  SessionPtr open(qix_options* o, StateLog* states = nullptr) {
    qix_session* s = nullptr;
    int rc = qix_session_open_sync(&s, nullptr, o, 10000);
    EXPECT_EQ(rc, QIX_OK) << last_error_message();
    if (s && states) states->attach(s);
    return SessionPtr(s);
  }
  /// Calls `method` on `obj` and waits: the status, and the unwrapped JSON in `json` when given.
  static int sync(qix_object* obj, const char* method, const char* params, std::string* json = nullptr,
                  int timeout_ms = 20000) {
    qix_result* r = nullptr;
    int rc = qix_object_call_sync(&r, obj, method, params, 0, timeout_ms);
    if (json) *json = r ? qix_result_json(r) : "";
    qix_result_free(r);
    return rc;
  }
  /// A call whose result is an object (OpenDoc, CreateSessionObject, GetField ...), on Global when
  /// `on` is NULL.
  static ObjectPtr get_object(qix_session* s, qix_object* on, const char* method, const std::string& params) {
    qix_result* r = nullptr;
    int rc = on ? qix_object_call_sync(&r, on, method, params.c_str(), 0, 20000)
                : qix_session_call_sync(&r, s, method, params.c_str(), 0, 20000);
    EXPECT_EQ(rc, QIX_OK) << method << ": " << last_error_message();
    qix_object* obj = nullptr;
    if (r) {
      EXPECT_EQ(qix_result_object(&obj, r), QIX_OK) << method;
    }
    qix_result_free(r);
    return ObjectPtr(obj);
  }
  static ObjectPtr open_doc(qix_session* s) { return get_object(s, nullptr, "OpenDoc", R"(["demo"])"); }
  static ObjectPtr create_cube(qix_object* doc, const std::string& props) {
    return get_object(nullptr, doc, "CreateSessionObject", "[" + props + "]");
  }
  static std::pair<int, std::string> close_info(qix_session* s) {
    int code = 0;
    char* reason = nullptr;
    if (qix_session_close_info(&code, &reason, s) != QIX_OK) return {0, ""};
    std::string r = reason ? reason : "";
    qix_free(reason);
    return {code, r};
  }
  std::uint64_t received(const std::string& method) {
    auto st = sim_->stats();
    auto it = st.find(method);
    return it == st.end() ? 0 : it->second.received;
  }
  /// Waits until the simulator received `n` requests named `method` (its counters report no event).
  bool wait_received(const std::string& method, std::uint64_t n, std::chrono::milliseconds t = 20s) {
    return eventually([&] { return received(method) >= n; }, t);
  }
  /// A round trip on the session's connection: frames travel in order, so once it is answered, the engine
  /// has read every frame sent before it, and the client has handled every frame the engine sent before its
  /// answer (and sent whatever handling them made it send).
  static void round_trip(qix_session* s) {
    qix_result* r = nullptr;
    EXPECT_EQ(qix_session_call_sync(&r, s, "EngineVersion", nullptr, 0, 20000), QIX_OK)
        << last_error_message();
    qix_result_free(r);
  }

  qix::sim::Options sim_opts_;
  std::unique_ptr<qix::sim::Server> sim_;
};

}  // namespace qix::test
