// Tests of the header-only C++ facade (qix.hpp) over libqix.so, against the simulator.
#include "qix/qix.hpp"

#include "capi_support.hpp"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;

// What qix.hpp says of its classes: a Context and a Session stay where they were made (sessions keep the
// context's C handle; a session holds the lock of its listeners), an Object is a shared handle.
static_assert(!std::is_copy_constructible_v<qix::Context> && !std::is_move_constructible_v<qix::Context>);
static_assert(!std::is_copy_constructible_v<qix::Session> && !std::is_move_constructible_v<qix::Session>);
static_assert(std::is_copy_constructible_v<qix::Object> && std::is_move_constructible_v<qix::Object>);

const char* kCube =
    R"([{"qInfo":{"qId":"fc","qType":"table"},"qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":["Region"]}}],)"
    R"x("qMeasures":[{"qDef":{"qDef":"Sum(Sales)"}}],"qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":2,"qHeight":20}]}}])x";

using qix::test::Waiter;

class Facade : public ::testing::Test {
 protected:
  void SetUp() override { sim_.start(); }
  void TearDown() override {
    qix::set_listener_error_handler(nullptr);
    sim_.stop();
  }
  std::unique_ptr<qix::Session> open(bool poll = false) {
    qix::Options o;
    o.set("url", sim_.url() + "/app/demo").set_bool("events.poll", poll);
    return std::make_unique<qix::Session>(o, 10000);
  }
  qix::sim::Server sim_{qix::sim::Options{}};
};

TEST_F(Facade, CallsResultsAndErrors) {
  EXPECT_EQ(qix::version(), QIX_VERSION_STRING);
  auto s = open();
  EXPECT_EQ(s->state(), QIX_STATE_CONNECTED);
  try {
    s->call("OpenDoc", R"(["nope"])");
    FAIL() << "no exception";
  } catch (const qix::Error& e) {
    EXPECT_EQ(e.status(), QIX_EENGINE);
    EXPECT_NE(e.engine_code(), 0);
    EXPECT_EQ(e.name().rfind("LOCERR_", 0), 0u);
    EXPECT_FALSE(e.message().empty());
  }
  qix::Object doc = s->open_doc("demo");
  EXPECT_EQ(doc.type(), "Doc");
  EXPECT_EQ(doc.call("Evaluate", R"(["1+2"])").json(), "\"3\"");
  qix::Object global = s->global();
  EXPECT_EQ(global.handle(), -1);

  EXPECT_THROW(qix::Options().set("no.such", "x"), qix::Error);
  EXPECT_THROW(doc.call("Evaluate", "[1,"), qix::Error);

  // Futures.
  auto f = doc.call_future("Evaluate", R"(["2*5"])");
  EXPECT_EQ(f.get().json(), "\"10\"");
  auto bad = s->call_future("OpenDoc", R"(["nope"])");
  EXPECT_THROW(bad.get(), qix::Error);

  // Objects from results.
  qix::Result created = doc.call("CreateSessionObject", kCube);
  ASSERT_TRUE(created.has_object());
  qix::Object cube = created.object();
  EXPECT_EQ(cube.generic_id(), "fc");
  EXPECT_EQ(cube.generic_type(), "table");
  EXPECT_THROW(cube.layout(), qix::Error);
  cube.call("GetLayout");
  EXPECT_TRUE(cube.valid());
  EXPECT_NE(cube.layout().find("qHyperCube"), std::string::npos);
  EXPECT_THROW(qix::Result().object(), qix::Error);

  // Zombies after close.
  s->close();
  ASSERT_EQ(qix_session_wait_closed(s->c_handle(), 20000), QIX_OK);
  EXPECT_EQ(s->state(), QIX_STATE_CLOSED);
  try {
    cube.call("GetLayout");
    FAIL() << "no exception";
  } catch (const qix::Error& e) {
    EXPECT_EQ(e.status(), QIX_ECLOSED);
  }
}

// The listeners record under their Waiter's lock and notify it; tests wait on it for what they expect.
class CountingCall : public qix::CallListener {
 public:
  void on_result(const qix::Result& r) override {
    std::string text = r.json();
    w.notify([&] {
      json = text;
      ++count;
    });
  }
  Waiter w;
  std::string json;
  int count = 0;
};

class ThrowingObjectListener : public qix::ObjectListener {
 public:
  void on_changed() override {
    w.notify();
    throw std::runtime_error("boom from a listener");
  }
  Waiter w;  // count: "changed" events
};

class RecordingSession : public qix::SessionListener {
 public:
  void on_notification(const std::string& method, const std::string&) override {
    w.notify([&] { methods.push_back(method); });
  }
  void on_state(int state, int code, const std::string&) override {
    w.notify([&] {
      states.push_back(state);
      last_code = code;
    });
  }
  Waiter w;
  std::vector<std::string> methods;
  std::vector<int> states;
  int last_code = 0;
};

TEST_F(Facade, BulkExtraction) {
  auto s = open();
  qix::Object doc = s->open_doc("demo");
  qix::Object cube = doc.call("CreateSessionObject", R"([{"qInfo":{"qType":"x"},"qHyperCubeDef":{)"
                                                     R"("qDimensions":[{"qDef":{"qFieldDefs":["OrderId"]}}],)"
                                                     R"x("qMeasures":[{"qDef":{"qDef":"Sum(Sales)"}}]}}])x")
                         .object();
  int64_t next = 0;
  bool in_order = true;
  std::string first;
  auto all = cube.extract(
      "/qHyperCubeDef",
      [&](const std::string& row, int64_t index) {
        in_order = in_order && index == next++;
        if (index == 0) first = row;
        return true;
      },
      300, 2);
  EXPECT_EQ(all.get(), 2000);
  EXPECT_EQ(next, 2000);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(first.rfind("[{", 0), 0u);
  // Stopping, and an extraction that cannot start.
  auto stopped = cube.extract("/qHyperCubeDef", [](const std::string&, int64_t index) { return index < 9; });
  try {
    stopped.get();
    FAIL() << "no exception";
  } catch (const qix::Error& e) {
    EXPECT_EQ(e.status(), QIX_ECANCELLED);
  }
  auto bad = cube.extract("/qNoSuchDef", [](const std::string&, int64_t) { return true; });
  EXPECT_THROW(bad.get(), qix::Error);
  EXPECT_THROW(cube.extract("/qHyperCubeDef", nullptr), qix::Error);
  EXPECT_THROW(cube.extract(
                   "/qHyperCubeDef", [](const std::string&, int64_t) { return true; }, -1),
               qix::Error);
}

TEST_F(Facade, ListenersAndThrowingListenersAreContained) {
  Waiter reported;
  std::vector<std::string> reports;
  auto reported_text = [&](const std::string& needle) {  // under reported's lock
    for (auto& r : reports) {
      if (r.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  qix::set_listener_error_handler(
      [&](const std::string& text) { reported.notify([&] { reports.push_back(text); }); });
  auto s = open();
  RecordingSession session_listener;
  s->add_listener(&session_listener);
  EXPECT_TRUE(session_listener.w.wait_until([&] { return !session_listener.methods.empty(); }));

  qix::Object doc = s->open_doc("demo");
  CountingCall call;
  int64_t id = doc.call_async("Evaluate", R"x(["Count(distinct Region)"])x", &call);
  EXPECT_GT(id, 0);
  ASSERT_TRUE(call.w.wait_for(1));
  {
    std::lock_guard lock(call.w.mutex());
    EXPECT_EQ(call.json, "\"6\"");
  }

  qix::Object cube = doc.call("CreateSessionObject", kCube).object();
  ThrowingObjectListener thrower;
  cube.add_listener(&thrower);
  Waiter layouts;
  cube.watch([&](const qix::Result& r) {
    EXPECT_TRUE(r.ok());
    layouts.notify();
    throw std::logic_error("boom from a watch");
  });
  EXPECT_TRUE(layouts.wait_for(1));
  cube.call("SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[0],false])");
  EXPECT_TRUE(thrower.w.wait_for(1));
  EXPECT_TRUE(layouts.wait_for(2));
  EXPECT_TRUE(reported.wait_until([&] { return reported_text("boom from a listener"); }));
  EXPECT_TRUE(reported.wait_until([&] { return reported_text("boom from a watch"); }));
  cube.unwatch();
  cube.remove_listener(&thrower);

  // A throwing call listener (std::function) is contained too.
  Waiter ran;
  s->call_async("EngineVersion", "[]", [&](const qix::Result&) {
    ran.notify();
    throw 42;
  });
  EXPECT_TRUE(ran.wait_for(1));
  EXPECT_TRUE(reported.wait_until([&] { return reported_text("unknown exception"); }));

  sim_.close_all(4001);
  EXPECT_TRUE(session_listener.w.wait_until([&] {
    return !session_listener.states.empty() && session_listener.states.back() == QIX_STATE_CLOSED;
  }));
  {
    std::lock_guard lock(session_listener.w.mutex());
    EXPECT_EQ(session_listener.last_code, 4001);
  }
  s->remove_listener(&session_listener);
}

// An Object freed on one thread while its watch callback runs on libqix's: the watch's function, and what
// it captures, stays alive until that callback returns (the C API does not wait for a running callback, so
// the facade's payload must not go with the Object). Before, it was freed under the running callback.
TEST_F(Facade, AWatchRunningWhenItsObjectIsFreedKeepsItsFunctionUntilItReturns) {
  auto s = open();
  qix::Object doc = s->open_doc("demo");
  std::optional<qix::Object> cube(doc.call("CreateSessionObject", kCube).object());
  struct Captured {
    std::promise<void> gone;
    ~Captured() { gone.set_value(); }
  };
  auto captured = std::make_shared<Captured>();
  std::future<void> gone = captured->gone.get_future();
  std::weak_ptr<Captured> weak = captured;
  std::promise<void> running;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  cube->watch([captured = std::move(captured), &running, released, &calls](const qix::Result&) {
    if (calls++ == 0) {
      running.set_value();
      released.wait();
    }
  });
  running.get_future().wait();
  cube.reset();  // the last copy: frees the handle and stops the watch while its callback runs
  EXPECT_FALSE(weak.expired()) << "the running callback's function was freed under it";
  release.set_value();
  gone.wait();  // freed once the callback returned
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(Facade, PollAndCancel) {
  auto s = open(true);
  CountingCall call;
  s->call_async("EngineVersion", "[]", &call);
  for (int i = 0; i < 100 && call.w.count() == 0; ++i) s->poll(100);  // returns as soon as a callback ran
  ASSERT_EQ(call.w.count(), 1);
  EXPECT_NE(call.json.find("qComponentVersion"), std::string::npos);
  EXPECT_FALSE(s->cancel(987654));
  s->wake();
  EXPECT_GE(s->poll(0), 0);
}

// Session::set_poll_ready: a host loop woken only by the function sees every answer; poll_fd is the same
// readiness as a descriptor; removing the function stops the calls.
TEST_F(Facade, PollReadyWakesAHostLoop) {
  auto s = open(true);
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false;
  int calls = 0;
  s->set_poll_ready([&] {
    std::lock_guard<std::mutex> lock(mutex);
    ready = true;
    ++calls;
    cv.notify_all();
  });
  EXPECT_GE(s->poll_fd(), 0);
  constexpr int kCalls = 50;
  std::atomic<int> done{0};
  for (int i = 0; i < kCalls; ++i) {
    s->call_async("EngineVersion", "[]", [&](const qix::Result& r) {
      EXPECT_TRUE(r.ok());
      done.fetch_add(1);
    });
  }
  while (done.load() < kCalls) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return ready; });
      ready = false;
    }
    s->poll(0);
  }
  s->set_poll_ready(nullptr);
  int before = 0;
  {
    std::lock_guard<std::mutex> lock(mutex);
    before = calls;
  }
  EXPECT_GT(before, 0);
  s->wake();
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(calls, before) << "removed";
  }
  auto plain = open();
  EXPECT_THROW(plain->set_poll_ready([] {}), qix::Error);
  EXPECT_THROW(plain->poll_fd(), qix::Error);
}

// Context with a ThreadStarter: its threads are the host's, its sessions' callbacks run there, and the
// Context's destructor waits for every body; a starter that refuses makes the constructor throw.
TEST_F(Facade, HostedContextRunsOnTheHostsThreads) {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::thread::id> started;
  int returned = 0;
  auto starter = [&](std::function<void()> body) {
    std::thread([&, body = std::move(body)] {
      {
        std::lock_guard<std::mutex> lock(mutex);
        started.push_back(std::this_thread::get_id());
      }
      body();
      std::lock_guard<std::mutex> lock(mutex);  // notified under the lock: the test may end once it sees it
      ++returned;
      cv.notify_all();
    }).detach();
    return true;
  };
  {
    qix::Context ctx(1, 2, starter);
    qix::Options o;
    o.set("url", sim_.url() + "/app/demo");
    qix::Session s(o, 10000, &ctx);
    std::promise<std::thread::id> where;
    s.call_async("EngineVersion", "[]", [&](const qix::Result& r) {
      EXPECT_TRUE(r.ok());
      where.set_value(std::this_thread::get_id());
    });
    auto f = where.get_future();
    ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
    auto id = f.get();
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_GE(started.size(), 3u) << "the I/O thread and both dispatcher threads";
    EXPECT_NE(std::find(started.begin(), started.end(), id), started.end())
        << "the callback on a host thread";
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return returned == static_cast<int>(started.size()); });
  }
  EXPECT_THROW(qix::Context(1, 1, [](const std::function<void()>&) { return false; }), qix::Error);
  EXPECT_THROW(qix::Context(1, 1, qix::Context::ThreadStarter{}), qix::Error);
}

}  // namespace

// Session::hand_over_events: from a callback, a blocking call then works there (qix::Error with QIX_EBUSY
// before); outside any callback there is nothing to hand over (false); a poll-mode session throws.
TEST_F(Facade, HandOverEventsLetsACallbackBlock) {
  auto s = open();
  std::promise<std::string> inside;
  s->call_async("EngineVersion", "[]", [&](const qix::Result&) {
    std::string seen;
    try {
      s->call("EngineVersion");
      seen += "no error;";
    } catch (const qix::Error& e) {
      seen += e.status() == QIX_EBUSY ? "busy;" : "other error;";
    }
    seen += s->hand_over_events() ? "handed over;" : "not handed over;";
    try {
      seen += s->call("EngineVersion").json().find("qComponentVersion") != std::string::npos ? "answer" : "?";
    } catch (const qix::Error& e) {
      seen += std::string("error: ") + e.what();
    }
    inside.set_value(seen);
  });
  auto f = inside.get_future();
  ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(f.get(), "busy;handed over;answer");
  EXPECT_TRUE(qix::test::eventually([&] { return !s->hand_over_events(); }));
  auto polled = open(true);
  EXPECT_THROW(polled->hand_over_events(), qix::Error);
}
