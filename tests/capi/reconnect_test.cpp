// Automatic reconnect and resume through the C API, against the in-process simulator over real sockets:
// the `reconnect` policies (none, attach, resume), the back-off and attempt limit, which close codes
// resume and which do not, calls pending at the drop (failed once or resent), calls made while suspended
// (queued or failed at once), objects kept working across a resume (re-acquired by id on an attached
// session, re-created from their last properties after an engine restart, "changed" fired once), and
// the retry of calls the engine aborted with error 15. The rule checked throughout: every call completes
// exactly once, and the session's states say what happened (SUSPENDED, then RESUMED or CLOSED with why).
#include "qix/qix.h"
#include "support/capi_calls.hpp"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

using qix::test::Calls;

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
    for (auto& e : events_) out += "[" + std::to_string(e.state) + " " + std::to_string(e.code) + " " + e.reason + "] ";
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

struct SessionDeleter {
  void operator()(qix_session* s) const { qix_session_free(s); }
};
struct ObjectDeleter {
  void operator()(qix_object* o) const { qix_object_free(o); }
};
struct OptionsDeleter {
  void operator()(qix_options* o) const { qix_options_free(o); }
};
using SessionPtr = std::unique_ptr<qix_session, SessionDeleter>;
using ObjectPtr = std::unique_ptr<qix_object, ObjectDeleter>;
using OptionsPtr = std::unique_ptr<qix_options, OptionsDeleter>;

std::string last_error() { return qix_error_last() ? qix_error_message(qix_error_last()) : ""; }

/// Properties of a session object with a one-dimension, one-measure hypercube (a JSON object).
std::string cube_props(const std::string& id, const std::string& dim, const std::string& measure,
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

/// Counts an object's "changed" (or "closed") events.
void count_event(qix_object*, void* p) { ++*static_cast<std::atomic<int>*>(p); }

class Reconnect : public ::testing::Test {
 protected:
  void start(qix::sim::Options o = {}) {
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
    EXPECT_EQ(qix_options_set_str(o, name, v.c_str()), QIX_OK) << name << "=" << v << ": " << last_error();
  }
  static void set_int(qix_options* o, const char* name, int64_t v) {
    EXPECT_EQ(qix_options_set_int(o, name, v), QIX_OK) << name << "=" << v << ": " << last_error();
  }
  static void set_bool(qix_options* o, const char* name, bool v) {
    EXPECT_EQ(qix_options_set_bool(o, name, v ? 1 : 0), QIX_OK) << name << "=" << v << ": " << last_error();
  }

  SessionPtr open(qix_options* o, StateLog* states = nullptr) {
    qix_session* s = nullptr;
    int rc = qix_session_open_sync(&s, nullptr, o, 10000);
    EXPECT_EQ(rc, QIX_OK) << last_error();
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
    EXPECT_EQ(rc, QIX_OK) << method << ": " << last_error();
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
  static bool wait_state(qix_session* s, int state, std::chrono::milliseconds t = 20s) {
    auto end = std::chrono::steady_clock::now() + t;
    while (qix_session_state(s) != state) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }
  std::uint64_t received(const std::string& method) {
    auto st = sim_->stats();
    auto it = st.find(method);
    return it == st.end() ? 0 : it->second.received;
  }
  /// Waits until the simulator received `n` requests named `method`.
  bool wait_received(const std::string& method, std::uint64_t n, std::chrono::milliseconds t = 20s) {
    auto end = std::chrono::steady_clock::now() + t;
    while (received(method) < n) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  qix::sim::Options sim_opts_;
  std::unique_ptr<qix::sim::Server> sim_;
};

// ---------------------------------------------------------------------------------------------------------
// reconnect = none

TEST_F(Reconnect, DefaultNoneClosesOnDrop) {
  qix::sim::Options so;
  so.latency_ms = 2000;  // the calls below are still pending when the connection drops
  start(so);
  for (const char* policy : {"", "none"}) {  // the default, then the explicit value
    SCOPED_TRACE(std::string("reconnect=") + policy);
    StateLog states;
    Calls calls;
    auto o = options(policy);
    auto s = open(o.get(), &states);
    ASSERT_TRUE(s);
    for (int k = 0; k < 20; ++k) {
      ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls), QIX_OK);
    }
    // The simulator may register the new connection a moment after the client sees it open: retry.
    bool closed = false;
    for (int attempt = 0; attempt < 40 && !closed; ++attempt) {
      sim_->close_all(4003);
      closed = wait_state(s.get(), QIX_STATE_CLOSED, 500ms);
    }
    ASSERT_TRUE(closed);
    ASSERT_TRUE(calls.wait(20));
    for (auto& [id, e] : calls.snapshot()) {
      EXPECT_EQ(e.count, 1) << id;
      EXPECT_EQ(e.status, QIX_ECONNECTION) << id;
    }
    EXPECT_EQ(close_info(s.get()).first, 4003);
    ASSERT_TRUE(states.wait(QIX_STATE_CLOSED));
    EXPECT_EQ(states.first(QIX_STATE_CLOSED).code, 4003);
    EXPECT_EQ(states.count(QIX_STATE_SUSPENDED), 0) << states.dump();
    EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(sim_->connection_count(), 0u) << "no reconnection";
    qix_result* r = nullptr;
    EXPECT_EQ(qix_session_call_sync(&r, s.get(), "EngineVersion", nullptr, 0, -1), QIX_ECLOSED);
    EXPECT_EQ(calls.total(), 20) << "no call completed twice";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Calls in flight at the drop

TEST_F(Reconnect, DropWith1000PendingFailsEachOnce) {
  qix::sim::Options so;
  so.latency_ms = 300;
  start(so);
  StateLog states;
  Calls calls;
  auto o = options("resume");
  set_bool(o.get(), "reconnect.resend", false);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());  // answered: the simulator serves this connection
  ASSERT_TRUE(doc);
  std::map<int64_t, int> expected;
  for (int k = 0; k < 1000; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "*2\"]";
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls), QIX_OK);
    expected[id] = k * 2;
  }
  sim_->close_all(4003);
  ASSERT_TRUE(calls.wait(1000, 30s)) << calls.total();
  int lost = 0;
  auto got = calls.snapshot();
  ASSERT_EQ(got.size(), 1000u);
  for (auto& [id, k2] : expected) {
    const auto& e = got[id];
    EXPECT_EQ(e.count, 1) << id;
    if (e.status == QIX_ECONNECTION) {
      ++lost;
    } else {
      EXPECT_EQ(e.status, QIX_OK) << id;
      EXPECT_EQ(e.json, "\"" + std::to_string(k2) + "\"") << id;
    }
  }
  EXPECT_GE(lost, 1) << "the drop came before most answers";
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4003) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_CLOSED), 0) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["21*2"])", &v), QIX_OK) << last_error();
  EXPECT_EQ(v, "\"42\"");
  std::this_thread::sleep_for(500ms);  // longer than the latency: a resent call would have come back
  EXPECT_EQ(calls.total(), 1000) << "no call completed twice";
}

TEST_F(Reconnect, DropWith1000PendingResend) {
  qix::sim::Options so;
  so.latency_ms = 1000;  // no answer leaves before the drop
  start(so);
  StateLog states;
  Calls calls;
  auto o = options("resume");
  set_bool(o.get(), "reconnect.resend", true);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  std::map<int64_t, int> expected;
  for (int k = 0; k < 1000; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "*2\"]";
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls), QIX_OK);
    expected[id] = k * 2;
  }
  ASSERT_TRUE(wait_received("Evaluate", 1000));  // all in flight: received by the engine, not answered
  sim_->close_all(4003);
  ASSERT_TRUE(calls.wait(1000, 30s)) << calls.total() << " " << states.dump();
  auto got = calls.snapshot();
  ASSERT_EQ(got.size(), 1000u);
  int ok = 0;
  for (auto& [id, k2] : expected) {
    const auto& e = got[id];
    EXPECT_EQ(e.count, 1) << id;
    ok += e.status == QIX_OK;
    EXPECT_EQ(e.status, QIX_OK) << id;
    if (e.status == QIX_OK) {
      EXPECT_EQ(e.json, "\"" + std::to_string(k2) + "\"") << "call " << id << " got another answer";
    }
  }
  EXPECT_EQ(ok, 1000);
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4003) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  EXPECT_EQ(received("Evaluate"), 2000u) << "the calls in flight were sent again";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(calls.total(), 1000) << "no call completed twice";
}

// ---------------------------------------------------------------------------------------------------------
// What a resume restores

TEST_F(Reconnect, EngineRestartRecreatesSessionObjects) {
  start();
  StateLog states;
  std::atomic<int> changed{0}, closed{0};
  auto o = options("resume", 40);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  auto obj = create_cube(doc.get(), cube_props("rc-cube", "Region", "Sum(Sales)"));
  ASSERT_TRUE(obj);
  // New properties: another dimension and a custom property, which the re-created object must have.
  std::string props = "[" + cube_props("rc-cube", "Segment", "Sum(Sales)", R"("marker":"v2",)") + "]";
  ASSERT_EQ(sync(obj.get(), "SetProperties", props.c_str()), QIX_OK) << last_error();
  ASSERT_EQ(sync(obj.get(), "SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[0],false])"), QIX_OK) << last_error();
  std::string layout;
  ASSERT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK);  // valid: "changed" can fire
  ASSERT_EQ(qix_object_on_changed(nullptr, obj.get(), &count_event, &changed), QIX_OK);
  ASSERT_EQ(qix_object_on_closed(nullptr, obj.get(), &count_event, &closed), QIX_OK);
  ASSERT_EQ(received("CreateSessionObject"), 1u);

  restart();  // the socket drops without a close frame; the new engine knows nothing of the session

  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 1006) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_CLOSED), 0) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  auto st = sim_->stats();
  EXPECT_EQ(st["OpenDoc"].received, 1u) << "the doc was opened again with the original arguments";
  EXPECT_EQ(st["CreateSessionObject"].received, 1u) << "the session object was re-created";

  // "changed" fires once so that users re-fetch.
  for (int i = 0; i < 2000 && changed.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(changed.load(), 1);
  EXPECT_EQ(closed.load(), 0);
  EXPECT_EQ(qix_object_is_closed(obj.get()), 0);

  // The old handles keep working, the object has its last properties.
  EXPECT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK) << last_error();
  EXPECT_NE(layout.find("\"qInfo\":{\"qId\":\"rc-cube\""), std::string::npos) << layout.substr(0, 200);
  EXPECT_NE(layout.find("Segment"), std::string::npos) << layout.substr(0, 400);
  std::string got;
  EXPECT_EQ(sync(obj.get(), "GetProperties", "[]", &got), QIX_OK) << last_error();
  EXPECT_NE(got.find("\"marker\":\"v2\""), std::string::npos) << got;
  EXPECT_NE(got.find("Segment"), std::string::npos) << got;
  EXPECT_EQ(got.find("Region"), std::string::npos) << got;
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["6*7"])", &v), QIX_OK) << last_error();
  EXPECT_EQ(v, "\"42\"");
  qix_object* again = nullptr;
  ASSERT_EQ(qix_session_doc(&again, s.get()), QIX_OK);
  EXPECT_EQ(qix_object_handle(again), qix_object_handle(doc.get()));
  qix_object_free(again);
}

TEST_F(Reconnect, TtlAttachReacquires) {
  start();
  StateLog states;
  std::atomic<int> changed{0};
  auto o = options("attach", 10, 100, "/app/demo/ttl/30");
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  auto obj = create_cube(doc.get(), cube_props("ttl-cube", "Region", "Sum(Sales)"));
  ASSERT_TRUE(obj);
  std::string layout;
  ASSERT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK);
  ASSERT_EQ(qix_object_on_changed(nullptr, obj.get(), &count_event, &changed), QIX_OK);
  sim_->reset_stats();

  sim_->close_all(4003);

  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4003) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_CLOSED), 0) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  char* history = nullptr;
  ASSERT_EQ(qix_session_notifications(&history, s.get()), QIX_OK);
  std::string h = history ? history : "";
  qix_free(history);
  EXPECT_NE(h.find("SESSION_ATTACHED"), std::string::npos) << h;
  auto st = sim_->stats();
  EXPECT_GE(st["GetActiveDoc"].received, 1u);
  EXPECT_GE(st["GetObject"].received, 1u);
  EXPECT_EQ(st["OpenDoc"].received, 0u) << "the attached session still has its doc";
  EXPECT_EQ(st["CreateSessionObject"].received, 0u) << "the attached session still has its objects";

  EXPECT_EQ(sync(obj.get(), "GetLayout", "[]", &layout), QIX_OK) << last_error();
  EXPECT_NE(layout.find("ttl-cube"), std::string::npos) << layout.substr(0, 200);
  EXPECT_NE(layout.find("\"qcy\":6"), std::string::npos) << layout.substr(0, 600);
  EXPECT_EQ(qix_object_is_closed(obj.get()), 0);
  for (int i = 0; i < 2000 && changed.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(changed.load(), 1);
}

TEST_F(Reconnect, AttachPolicyWithoutTtlCloses) {
  start();
  StateLog states;
  auto o = options("attach");
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  sim_->close_all(4003);
  ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
  auto ev = states.first(QIX_STATE_CLOSED);
  EXPECT_NE(ev.reason.find("SESSION_CREATED"), std::string::npos) << ev.reason;
  auto [code, reason] = close_info(s.get());
  EXPECT_NE(reason.find("SESSION_CREATED"), std::string::npos) << reason;
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
  EXPECT_EQ(received("OpenDoc"), 1u) << "the attach policy never re-opens the doc";
}

// ---------------------------------------------------------------------------------------------------------
// Calls made while suspended

TEST_F(Reconnect, CallsWhileSuspendedWaitThenRun) {
  start();
  StateLog states;
  Calls calls;
  auto o = options("resume", 200, 50);  // keeps trying (up to 200 ms apart) while the engine is down
  set_bool(o.get(), "reconnect.queue_calls", true);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  auto obj = create_cube(doc.get(), cube_props("q-cube", "Region", "Sum(Sales)"));
  ASSERT_TRUE(obj);

  sim_->stop();  // unreachable: the session stays suspended
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED);
  std::map<int64_t, std::string> expected;  // Evaluate calls: id -> answer
  for (int k = 0; k < 5; ++k) {
    int64_t id = 0;
    std::string params = "[\"" + std::to_string(k) + "+100\"]";
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &Calls::cb, &calls), QIX_OK);
    expected[id] = "\"" + std::to_string(k + 100) + "\"";
    ASSERT_EQ(qix_object_call(nullptr, obj.get(), "GetLayout", "[]", 0, -1, &Calls::cb, &calls), QIX_OK);
  }
  ASSERT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls), QIX_OK);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.total(), 0) << "the calls wait for the resume";
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED);

  restart();
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  ASSERT_TRUE(calls.wait(11)) << calls.total();
  auto got = calls.snapshot();
  EXPECT_EQ(got.size(), 11u);
  for (auto& [id, e] : got) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_OK) << id << " " << e.json;
    auto it = expected.find(id);
    if (it != expected.end()) {
      EXPECT_EQ(e.json, it->second) << id;
    }
  }
  EXPECT_EQ(received("Evaluate"), 5u);
  EXPECT_EQ(received("EngineVersion"), 1u);
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
}

TEST_F(Reconnect, CallsWhileSuspendedFailFast) {
  start();
  StateLog states;
  Calls calls;
  auto o = options("resume", 200, 50);
  set_bool(o.get(), "reconnect.queue_calls", false);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);

  sim_->stop();
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  ASSERT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED);
  // A blocking call returns the failure at once (a queued call would end by its 10 s timeout instead).
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1+1"])", nullptr, 10000), QIX_ECONNECTION) << last_error();
  int issued = 0;
  for (int k = 0; k < 3; ++k) {
    int rc = qix_object_call(nullptr, doc.get(), "Evaluate", R"(["2+2"])", 0, -1, &Calls::cb, &calls);
    EXPECT_TRUE(rc == QIX_OK || rc == QIX_ECONNECTION) << rc;  // either way the callback reports it
    ++issued;
    rc = qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls);
    EXPECT_TRUE(rc == QIX_OK || rc == QIX_ECONNECTION) << rc;
    ++issued;
  }
  ASSERT_TRUE(calls.wait(issued, 10s)) << calls.total();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_SUSPENDED) << "they failed while still suspended";
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_ECONNECTION) << id;
  }

  restart();
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["3+3"])", &v), QIX_OK) << last_error();
  EXPECT_EQ(v, "\"6\"");
  EXPECT_EQ(received("Evaluate"), 1u) << "the failed calls were never sent";
  EXPECT_EQ(calls.total(), issued);
}

// ---------------------------------------------------------------------------------------------------------
// Close codes

TEST_F(Reconnect, NonResumableCodes) {
  start();
  for (int code : {1000, 4000, 4001, 4002, 4005, 4006}) {
    SCOPED_TRACE("close code " + std::to_string(code));
    StateLog states;
    auto o = options("resume");
    auto s = open(o.get(), &states);
    ASSERT_TRUE(s);
    auto doc = open_doc(s.get());  // answered: the simulator serves this connection
    ASSERT_TRUE(doc);
    sim_->reset_stats();
    sim_->close_all(static_cast<std::uint16_t>(code));
    ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
    auto ev = states.first(QIX_STATE_CLOSED);
    EXPECT_EQ(ev.code, code);
    if (code != 1000 && code != 4000) {
      EXPECT_NE(ev.reason.find("not resumed"), std::string::npos) << ev.reason;
    }
    EXPECT_EQ(close_info(s.get()).first, code);
    EXPECT_EQ(states.count(QIX_STATE_SUSPENDED), 0) << states.dump();
    EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
    std::this_thread::sleep_for(300ms);  // several initial delays: an attempt would have connected by now
    EXPECT_EQ(sim_->connection_count(), 0u) << "no second connection";
    EXPECT_EQ(received("OpenDoc"), 0u);
    EXPECT_EQ(received("GetActiveDoc"), 0u);
    EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
    EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
  }
}

TEST_F(Reconnect, ResumableCodes) {
  start();
  for (int code : {4003, 4007}) {
    SCOPED_TRACE("close code " + std::to_string(code));
    StateLog states;
    auto o = options("resume");
    auto s = open(o.get(), &states);
    ASSERT_TRUE(s);
    auto doc = open_doc(s.get());
    ASSERT_TRUE(doc);
    sim_->close_all(static_cast<std::uint16_t>(code));
    ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
    EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, code) << states.dump();
    EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
    std::string v;
    EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["2*3"])", &v), QIX_OK) << last_error();
    EXPECT_EQ(v, "\"6\"");
    s.reset();  // closes it: the next iteration's close_all only meets its own session
    doc.reset();
    for (int i = 0; i < 400 && sim_->connection_count() > 0; ++i) std::this_thread::sleep_for(5ms);
  }
}

TEST_F(Reconnect, AppDeletedResumesWhenTheAppIsStillThere) {
  start();
  StateLog states;
  auto o = options("resume");
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  sim_->reset_stats();
  sim_->close_all(4004);
  // The simulator still has the app, so the single attempt succeeds.
  ASSERT_TRUE(states.wait(QIX_STATE_RESUMED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4004) << states.dump();
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CONNECTED);
  EXPECT_EQ(received("OpenDoc"), 1u);
  EXPECT_EQ(sim_->connection_count(), 1u);
  std::string v;
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["5*5"])", &v), QIX_OK) << last_error();
  EXPECT_EQ(v, "\"25\"");
}

TEST_F(Reconnect, AppDeletedTriesOnlyOnce) {
  start();
  StateLog states;
  // The first attempt waits the initial delay: long enough to replace the engine by one that is down.
  auto o = options("resume", 5, 1000);
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  sim_->close_all(4004);
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 4004) << states.dump();
  unsigned short port = sim_->port();
  sim_->stop();
  CountingListener down(port);
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(down.accepted(), 1) << "4004: one attempt, whatever reconnect.max_attempts says";
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
}

TEST_F(Reconnect, GivesUpAfterMaxAttempts) {
  start();
  StateLog states;
  Calls calls;
  auto o = options("resume", 3, 100);  // about 100 + 200 + 400 ms of back-off, then it gives up
  auto s = open(o.get(), &states);
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);

  unsigned short port = sim_->port();
  sim_->stop();  // for good: connections are accepted and closed at once, and counted
  CountingListener down(port);
  ASSERT_TRUE(down.ok());
  ASSERT_TRUE(states.wait(QIX_STATE_SUSPENDED)) << states.dump();
  EXPECT_EQ(states.first(QIX_STATE_SUSPENDED).code, 1006);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(qix_object_call(nullptr, doc.get(), "Evaluate", R"(["1+1"])", 0, -1, &Calls::cb, &calls), QIX_OK);
    EXPECT_EQ(qix_session_call(nullptr, s.get(), "EngineVersion", nullptr, 0, -1, &Calls::cb, &calls), QIX_OK);
  }
  ASSERT_TRUE(states.wait(QIX_STATE_CLOSED)) << states.dump();
  EXPECT_EQ(states.count(QIX_STATE_RESUMED), 0) << states.dump();
  // The reason says that it gave up, and after how many attempts.
  auto ev = states.first(QIX_STATE_CLOSED);
  EXPECT_NE(ev.reason.find("attempt"), std::string::npos) << ev.reason;
  EXPECT_NE(ev.reason.find('3'), std::string::npos) << ev.reason;
  auto [code, reason] = close_info(s.get());
  EXPECT_EQ(reason, ev.reason);
  ASSERT_TRUE(calls.wait(6)) << calls.total();
  for (auto& [id, e] : calls.snapshot()) {
    EXPECT_EQ(e.count, 1) << id;
    EXPECT_EQ(e.status, QIX_ECONNECTION) << id;
  }
  EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
  EXPECT_EQ(sync(doc.get(), "Evaluate", R"(["1"])"), QIX_ECLOSED);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.total(), 6) << "no call completed twice";
  EXPECT_EQ(down.accepted(), 3) << "reconnect.max_attempts connection attempts, then no more";
}

// ---------------------------------------------------------------------------------------------------------
// Calculations aborted by the engine (error 15)

TEST_F(Reconnect, AbortedRetriedWhenOptedIn) {
  qix::sim::Options so;
  so.calc_delay_ms = 1000;  // a selection made within this aborts the calculation
  start(so);
  for (int retries : {0, 2}) {
    SCOPED_TRACE("retry.aborted=" + std::to_string(retries));
    sim_->reset_stats();
    Calls calls;
    auto o = options("");
    set_int(o.get(), "retry.aborted", retries);
    auto s = open(o.get());
    ASSERT_TRUE(s);
    auto doc = open_doc(s.get());
    ASSERT_TRUE(doc);
    auto field = get_object(s.get(), doc.get(), "GetField", R"(["Region"])");
    ASSERT_TRUE(field);
    ASSERT_EQ(sync(field.get(), "Clear", "[]"), QIX_OK);
    ASSERT_EQ(qix_object_call(nullptr, doc.get(), "Evaluate", R"(["1+1"])", 0, -1, &Calls::cb, &calls), QIX_OK);
    ASSERT_TRUE(wait_received("Evaluate", 1));  // the calculation runs: a selection now aborts it
    ASSERT_EQ(sync(field.get(), "Select", R"(["Nordic"])"), QIX_OK) << last_error();
    ASSERT_TRUE(calls.wait(1, 20s));
    auto got = calls.snapshot();
    ASSERT_EQ(got.size(), 1u);
    const auto& e = got.begin()->second;
    EXPECT_EQ(e.count, 1);
    if (retries == 0) {
      EXPECT_EQ(e.status, QIX_EENGINE);
      EXPECT_EQ(e.engine_code, 15);
      EXPECT_EQ(e.retriable, 1);
      EXPECT_EQ(received("Evaluate"), 1u);
    } else {
      EXPECT_EQ(e.status, QIX_OK) << e.engine_code;
      EXPECT_EQ(e.json, "\"2\"");
      EXPECT_EQ(received("Evaluate"), 2u) << "sent again once (no selection during the second run)";
    }
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(calls.total(), 1);
  }
}

TEST_F(Reconnect, CancelledCallIsNotRetried) {
  qix::sim::Options so;
  so.calc_delay_ms = 1000;
  start(so);
  Calls calls;
  auto o = options("");
  set_int(o.get(), "retry.aborted", 2);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);
  int64_t id = 0;
  ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", R"(["1+1"])", 0, -1, &Calls::cb, &calls), QIX_OK);
  ASSERT_TRUE(wait_received("Evaluate", 1));
  ASSERT_EQ(qix_session_cancel(s.get(), id), QIX_OK);  // the engine answers the cancelled call with 15
  ASSERT_TRUE(calls.wait(1));
  EXPECT_EQ(calls.snapshot()[id].status, QIX_ECANCELLED);
  ASSERT_TRUE(wait_received("CancelRequest", 1));
  std::this_thread::sleep_for(300ms);  // the engine's answer (15) arrives and is not retried
  EXPECT_EQ(received("Evaluate"), 1u);
  EXPECT_EQ(calls.total(), 1);
}

}  // namespace
