// Reconnect and resume, step by step over in-memory transports: the test plays the engine on each new
// connection and checks every frame the session sends while it restores itself (OnConnected, GetActiveDoc,
// OpenDoc with "App already open", re-acquisition by id, re-creation of session objects from their last
// properties), the handle swap under the same proxies, the calls that waited, and the error-15 retry.
#include "support/fake_engine.hpp"

#include <deque>

using namespace qix;
using namespace qix::test;
using core::ErrorKind;
using core::SessionState;

namespace {

/// The connections a session opens after the first one: each reconnect attempt asks for a transport.
class Connections {
 public:
  explicit Connections(std::shared_ptr<core::Context> ctx) : ctx_(std::move(ctx)) {}

  std::function<std::shared_ptr<core::Transport>()> factory() {
    return [this] {
      auto t = std::make_shared<core::MemoryTransport>(ctx_);
      std::lock_guard l(m_);
      made_.push_back(t);
      cv_.notify_all();
      return t;
    };
  }
  /// The n-th transport made (0-based), waiting for it.
  std::shared_ptr<core::MemoryTransport> wait(std::size_t n, std::chrono::milliseconds t = 5s) {
    std::unique_lock l(m_);
    if (!cv_.wait_for(l, t, [&] { return made_.size() > n; })) return nullptr;
    auto made = made_[n];
    l.unlock();
    // The session opens it right after making it: accept()/fail_open() must come after that.
    if (!made->wait_open_called(t)) return nullptr;
    return made;
  }
  std::size_t count() {
    std::lock_guard l(m_);
    return made_.size();
  }

 private:
  std::shared_ptr<core::Context> ctx_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<core::MemoryTransport>> made_;
};

/// Reads one transport's frames in order.
struct Peer {
  std::shared_ptr<core::MemoryTransport> t;
  std::size_t cursor = 0;
  Request next() {
    EXPECT_TRUE(t->wait_sent(cursor + 1, 5s)) << "nothing sent (frame #" << cursor << ")";
    auto sent = t->sent();
    if (sent.size() <= cursor) return {};
    return parse_request(sent[cursor++]);
  }
  void reply(std::int64_t id, const std::string& result) {
    t->deliver(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":)" + result + "}");
  }
  void error(std::int64_t id, int code, const std::string& message) {
    t->deliver(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"error":{"code":)" +
               std::to_string(code) + R"(,"parameter":"","message":")" + message + R"("}})");
  }
  void greet(const char* state) {
    t->deliver(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":")" + std::string(state) +
               R"("}})");
  }
};

std::string ref(const char* type, int handle, const std::string& id) {
  return R"({"qReturn":{"qType":")" + std::string(type) + R"(","qHandle":)" + std::to_string(handle) +
         R"(,"qGenericId":")" + id + R"("}})";
}

core::SessionOptions resume_options(Connections& c, core::ReconnectOptions::Policy policy) {
  core::SessionOptions o;
  o.reconnect.policy = policy;
  o.reconnect.initial_delay = 1ms;
  o.reconnect.max_delay = 5ms;
  o.reconnect.transport = c.factory();
  return o;
}

core::CloseInfo network_drop() {
  core::CloseInfo info;
  info.code = core::close_code::abnormal;
  info.error = core::Error::make(ErrorKind::network, "connection reset by peer");
  return info;
}

/// Records state events. The record is shared with the listener: the last event (the session's close at
/// the end of a test) may run after the test's locals are gone.
class States {
 public:
  void attach(core::Session& s) {
    s.on_state([d = d_](SessionState st, const core::CloseInfo* info) {
      std::lock_guard l(d->m);
      d->seen.emplace_back(st, info != nullptr);
      d->cv.notify_all();
    });
  }
  bool wait(SessionState st, bool with_info, std::chrono::milliseconds t = 5s) {
    std::unique_lock l(d_->m);
    return d_->cv.wait_for(l, t, [&] {
      return std::find(d_->seen.begin(), d_->seen.end(), std::make_pair(st, with_info)) != d_->seen.end();
    });
  }

 private:
  struct Data {
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::pair<SessionState, bool>> seen;  // state, with CloseInfo
  };
  std::shared_ptr<Data> d_ = std::make_shared<Data>();
};

}  // namespace

TEST(SessionReconnect, ResumeReopensTheDocRecreatesSessionObjectsAndSwapsHandles) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  States states;
  Counter changed, closed;
  FakeEngine e(resume_options(conns, core::ReconnectOptions::Policy::resume), ctx);
  states.attach(*e.session);
  e.open();
  auto doc = e.open_doc(1);
  ASSERT_TRUE(doc);
  auto obj = e.create_object(2, "o1");
  ASSERT_TRUE(obj);
  // The session object's properties change: the re-creation must use the last ones.
  ASSERT_TRUE(e.answered(2, "SetProperties", "{}").ok());
  auto set = e.call(2, "SetProperties", R"([{"qInfo":{"qId":"o1","qType":"x"},"title":"v2"}])");
  e.reply(e.next().id, "{}");
  ASSERT_TRUE(set.get().ok());
  auto field = e.call(1, "GetField", R"({"qFieldName":"Region"})");
  e.reply(e.next().id, ref("Field", 3, ""));
  auto field_obj = field.get().object;
  ASSERT_TRUE(field_obj);
  auto made = e.call(1, "MakeSomething", "[]");  // a method that is not safe to repeat
  e.reply(e.next().id, ref("Something", 4, "s1"));
  auto something = made.get().object;
  ASSERT_TRUE(something);
  obj->on_changed([&] { changed.add(); });
  something->on_closed([&] { closed.add(); });

  e.transport->remote_close(network_drop());
  ASSERT_TRUE(states.wait(SessionState::suspended, true));
  EXPECT_EQ(e.session->state(), SessionState::suspended);
  // A call made while suspended waits, and goes out later with the object's new handle.
  std::promise<core::CallResult> waited;
  obj->call("GetLayout", "[]", {}, [&](core::CallResult& r) { waited.set_value(std::move(r)); });
  auto waited_f = waited.get_future();

  Peer p{conns.wait(0)};
  ASSERT_TRUE(p.t);
  p.t->accept();
  p.greet("SESSION_CREATED");
  auto r = p.next();
  EXPECT_EQ(r.method, "GetActiveDoc");
  p.error(r.id, 1007, "App invalid");
  r = p.next();
  EXPECT_EQ(r.method, "OpenDoc");
  EXPECT_EQ(json::serialize(r.params), R"(["demo"])") << "OpenDoc again with the original arguments";
  p.error(r.id, 1002, "App already open");
  r = p.next();
  EXPECT_EQ(r.method, "GetActiveDoc") << "after 'App already open' the engine's doc is taken";
  p.reply(r.id, ref("Doc", 11, "demo"));
  // The objects, pipelined, in creation order.
  auto a = p.next();
  auto b = p.next();
  EXPECT_EQ(a.method, "CreateSessionObject");
  EXPECT_EQ(a.handle, 11);
  EXPECT_EQ(json::serialize(a.params), R"({"qProp":{"qInfo":{"qId":"o1","qType":"x"},"title":"v2"}})");
  EXPECT_EQ(b.method, "GetField");
  EXPECT_EQ(b.handle, 11);
  EXPECT_EQ(json::serialize(b.params), R"({"qFieldName":"Region"})");
  p.reply(b.id, ref("Field", 13, ""));
  p.reply(a.id, ref("GenericObject", 12, "o1"));

  auto q = p.next();
  EXPECT_EQ(q.method, "GetLayout");
  EXPECT_EQ(q.handle, 12) << "the waiting call uses the new handle";
  ASSERT_TRUE(states.wait(SessionState::connected, true)) << "resumed";
  EXPECT_EQ(doc->handle(), 11);
  EXPECT_EQ(obj->handle(), 12);
  EXPECT_EQ(field_obj->handle(), 13);
  EXPECT_EQ(e.session->object(12), obj) << "the same proxy, found under its new handle";
  EXPECT_EQ(e.session->object(2), nullptr);
  EXPECT_EQ(e.session->doc(), doc);
  EXPECT_TRUE(changed.wait_for(1)) << "restored objects report a change so users re-fetch";
  EXPECT_TRUE(closed.wait_for(1)) << "an object that cannot be restored is closed";
  EXPECT_TRUE(something->closed());
  EXPECT_EQ(e.session->resume_count(), 1);
  EXPECT_EQ(e.session->engine_session_state(), "SESSION_CREATED");
  p.reply(q.id, R"({"qLayout":{"title":"v2"}})");
  auto wr = waited_f.get();
  EXPECT_TRUE(wr.ok()) << wr.error.describe();
  // And the proxy keeps working on the new connection.
  std::promise<core::CallResult> after;
  obj->call("GetProperties", "[]", {}, [&](core::CallResult& res) { after.set_value(std::move(res)); });
  auto g = p.next();
  EXPECT_EQ(g.handle, 12);
  p.reply(g.id, R"({"qProp":{"qInfo":{"qId":"o1"}}})");
  EXPECT_TRUE(after.get_future().get().ok());
}

// A session object's properties learned from GetProperties answered with delta patches to a caller taking
// text (the C API's way): the re-creation after a reconnect uses the patched properties, not the patch.
TEST(SessionReconnect, RecreatesSessionObjectsWithPropertiesPatchedAsText) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  States states;
  FakeEngine e(resume_options(conns, core::ReconnectOptions::Policy::resume), ctx);
  states.attach(*e.session);
  e.open();
  auto doc = e.open_doc(1);
  auto obj = e.create_object(2, "o1");
  ASSERT_TRUE(obj);
  core::CallOptions text;
  text.text_result = true;
  auto g1 = e.call(2, "GetProperties", "[]", text);
  auto r1 = e.next();
  ASSERT_TRUE(r1.delta);
  e.reply_delta(
      r1.id,
      R"({"qProp":[{"op":"add","path":"/","value":{"qInfo":{"qId":"o1","qType":"x"},"title":"t1"}}]})");
  ASSERT_TRUE(g1.get().ok());
  auto g2 = e.call(2, "GetProperties", "[]", text);
  e.reply_delta(e.next().id, R"({"qProp":[{"op":"replace","path":"/title","value":"t2"}]})");
  auto p2 = g2.get();
  ASSERT_TRUE(p2.ok()) << p2.error.describe();
  EXPECT_TRUE(p2.result.is_null());
  EXPECT_EQ(p2.text, R"({"qProp":{"qInfo":{"qId":"o1","qType":"x"},"title":"t2"}})");

  e.transport->remote_close(network_drop());
  Peer p{conns.wait(0)};
  ASSERT_TRUE(p.t);
  p.t->accept();
  p.greet("SESSION_CREATED");
  auto r = p.next();
  EXPECT_EQ(r.method, "GetActiveDoc");
  p.reply(r.id, ref("Doc", 11, "demo"));
  auto c = p.next();
  EXPECT_EQ(c.method, "CreateSessionObject");
  EXPECT_EQ(json::serialize(c.params), R"({"qProp":{"qInfo":{"qId":"o1","qType":"x"},"title":"t2"}})");
  p.reply(c.id, ref("GenericObject", 12, "o1"));
  ASSERT_TRUE(states.wait(SessionState::connected, true));
  EXPECT_EQ(obj->handle(), 12);
}

TEST(SessionReconnect, AttachedSessionIsReacquiredByIdNotRecreated) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  States states;
  FakeEngine e(resume_options(conns, core::ReconnectOptions::Policy::attach), ctx);
  states.attach(*e.session);
  e.open();
  auto doc = e.open_doc(1);
  auto obj = e.create_object(2, "o1");
  ASSERT_TRUE(obj);
  core::CloseInfo info;
  info.code = core::close_code::engine_terminating;
  e.transport->remote_close(info);
  Peer p{conns.wait(0)};
  ASSERT_TRUE(p.t);
  p.t->accept();
  p.greet("SESSION_ATTACHED");
  auto r = p.next();
  EXPECT_EQ(r.method, "GetActiveDoc");
  p.reply(r.id, ref("Doc", 7, "demo"));
  r = p.next();
  EXPECT_EQ(r.method, "GetObject");
  EXPECT_EQ(r.handle, 7);
  EXPECT_EQ(json::serialize(r.params), R"({"qId":"o1"})");
  p.reply(r.id, ref("GenericObject", 8, "o1"));
  ASSERT_TRUE(states.wait(SessionState::connected, true)) << "resumed";
  EXPECT_EQ(e.session->state(), SessionState::connected);
  EXPECT_EQ(obj->handle(), 8);
  EXPECT_EQ(doc->handle(), 7);
}

TEST(SessionReconnect, AttachPolicyClosesWhenTheEngineCreatedANewSession) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  States states;
  FakeEngine e(resume_options(conns, core::ReconnectOptions::Policy::attach), ctx);
  states.attach(*e.session);
  e.open();
  auto doc = e.open_doc(1);
  e.transport->remote_close(network_drop());
  Peer p{conns.wait(0)};
  ASSERT_TRUE(p.t);
  p.t->accept();
  p.greet("SESSION_CREATED");
  ASSERT_TRUE(states.wait(SessionState::closed, true));
  auto info = e.session->close_info();
  ASSERT_TRUE(info);
  EXPECT_NE(info->describe().find("SESSION_CREATED"), std::string::npos) << info->describe();
  EXPECT_TRUE(doc->closed());
}

TEST(SessionReconnect, WithoutOnConnectedTheResumeStartsAfterTheGreetingWait) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  auto o = resume_options(conns, core::ReconnectOptions::Policy::resume);
  o.reconnect.greeting_wait = 30ms;
  States states;
  FakeEngine e(o, ctx);
  states.attach(*e.session);
  e.open();
  auto doc = e.open_doc(1);
  e.transport->remote_close(network_drop());
  Peer p{conns.wait(0)};
  ASSERT_TRUE(p.t);
  p.t->accept();
  auto r = p.next();  // no greeting at all
  EXPECT_EQ(r.method, "GetActiveDoc");
  p.reply(r.id, ref("Doc", 5, "demo"));
  ASSERT_TRUE(states.wait(SessionState::connected, true)) << "resumed";
  EXPECT_EQ(doc->handle(), 5);
}

TEST(SessionReconnect, InFlightCallsFailOnceOrAreResent) {
  for (bool resend : {false, true}) {
    SCOPED_TRACE(resend ? "resend" : "fail");
    auto ctx = core::Context::create();
    Connections conns(ctx);
    auto o = resume_options(conns, core::ReconnectOptions::Policy::resume);
    o.reconnect.resend_in_flight = resend;
    FakeEngine e(o, ctx);
    e.open();
    std::vector<std::future<core::CallResult>> calls;
    calls.reserve(50);
    for (int i = 0; i < 50; ++i) calls.push_back(e.call(-1, "EngineVersion"));
    e.transport->remote_close(network_drop());
    Peer p{conns.wait(0)};
    ASSERT_TRUE(p.t);
    p.t->accept();
    p.greet("SESSION_CREATED");
    if (resend) {
      for (int i = 0; i < 50; ++i) {
        auto r = p.next();
        EXPECT_EQ(r.method, "EngineVersion");
        p.reply(r.id, R"({"qVersion":{"qComponentVersion":"x"}})");
      }
    }
    for (auto& f : calls) {
      ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
      auto r = f.get();
      if (resend) {
        EXPECT_TRUE(r.ok()) << r.error.describe();
      } else {
        EXPECT_EQ(r.error.kind, ErrorKind::connection_lost);
        EXPECT_EQ(r.error.code, 1006);
      }
    }
  }
}

TEST(SessionReconnect, CloseWhileSuspendedFailsWaitingCallsAndStopsReconnecting) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  auto o = resume_options(conns, core::ReconnectOptions::Policy::resume);
  o.reconnect.initial_delay = 10000ms;  // no attempt during the test
  o.reconnect.max_delay = 10000ms;
  States states;
  FakeEngine e(o, ctx);
  states.attach(*e.session);
  e.open();
  e.transport->remote_close(network_drop());
  ASSERT_TRUE(states.wait(SessionState::suspended, true));
  auto waiting = e.call(-1, "EngineVersion");
  e.session->close();
  EXPECT_EQ(e.session->state(), SessionState::closed);
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(waiting.get().error.kind, ErrorKind::closed);
  EXPECT_EQ(conns.count(), 0u);
}

TEST(SessionReconnect, GivesUpAfterTheAttemptLimitWithTheLastError) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  auto o = resume_options(conns, core::ReconnectOptions::Policy::resume);
  o.reconnect.max_attempts = 2;
  States states;
  FakeEngine e(o, ctx);
  states.attach(*e.session);
  e.open();
  e.transport->remote_close(network_drop());
  auto waiting = e.call(-1, "EngineVersion");
  for (std::size_t i = 0; i < 2; ++i) {
    auto t = conns.wait(i);
    ASSERT_TRUE(t);
    t->fail_open(core::Error::make(ErrorKind::network, "connection refused"));
  }
  ASSERT_TRUE(states.wait(SessionState::closed, true));
  auto info = e.session->close_info();
  ASSERT_TRUE(info);
  EXPECT_NE(info->describe().find("gave up after 2 attempts"), std::string::npos) << info->describe();
  EXPECT_NE(info->describe().find("connection refused"), std::string::npos) << info->describe();
  auto r = waiting.get();
  EXPECT_EQ(r.error.kind, ErrorKind::connection_lost);
  EXPECT_EQ(conns.count(), 2u);
}

TEST(SessionReconnect, NonResumableCodeClosesAndSaysWhy) {
  auto ctx = core::Context::create();
  Connections conns(ctx);
  States states;
  FakeEngine e(resume_options(conns, core::ReconnectOptions::Policy::resume), ctx);
  states.attach(*e.session);
  e.open();
  core::CloseInfo info;
  info.code = core::close_code::idle_timeout;
  e.transport->remote_close(info);
  ASSERT_TRUE(states.wait(SessionState::closed, true));
  auto ci = e.session->close_info();
  ASSERT_TRUE(ci);
  EXPECT_NE(ci->describe().find("not resumed"), std::string::npos) << ci->describe();
  EXPECT_EQ(conns.count(), 0u);
}

TEST(SessionReconnect, AbortedCallIsSentAgainWithTheSameIdWhenOptedIn) {
  core::SessionOptions o;
  o.retry_aborted = 1;
  FakeEngine e(o);
  e.open();
  auto f = e.call(-1, "Evaluate", R"(["1+1"])");
  auto r1 = e.next();
  e.reply_error(r1.id, 15, "", "Request aborted");
  auto r2 = e.next();
  EXPECT_EQ(r2.id, r1.id);
  EXPECT_EQ(r2.method, "Evaluate");
  EXPECT_EQ(json::serialize(r2.params), R"(["1+1"])");
  e.reply(r2.id, R"({"qReturn":"2"})");
  auto r = f.get();
  EXPECT_TRUE(r.ok()) << r.error.describe();
  // The budget is per call: a second abort of the same call is reported.
  auto g = e.call(-1, "Evaluate", R"(["2"])");
  auto a = e.next();
  e.reply_error(a.id, 15, "", "Request aborted");
  auto b = e.next();
  e.reply_error(b.id, 15, "", "Request aborted");
  auto gr = g.get();
  EXPECT_EQ(gr.error.code, 15);
}

TEST(SessionReconnect, AttemptRefusedWithCredentialsOrTlsErrorsEndsAtOnce) {
  for (auto kind : {ErrorKind::http_status, ErrorKind::tls}) {
    auto ctx = core::Context::create();
    Connections conns(ctx);
    auto o = resume_options(conns, core::ReconnectOptions::Policy::resume);
    o.reconnect.max_attempts = 5;
    States states;
    FakeEngine e(o, ctx);
    states.attach(*e.session);
    e.open();
    e.transport->remote_close(network_drop());
    auto t = conns.wait(0);
    ASSERT_TRUE(t);
    auto err = core::Error::make(kind, kind == ErrorKind::tls ? "certificate verify failed" : "Unauthorized");
    if (kind == ErrorKind::http_status) err.code = 401;
    t->fail_open(err);
    ASSERT_TRUE(states.wait(SessionState::closed, true));
    EXPECT_EQ(conns.count(), 1u) << "no second attempt";
    auto info = e.session->close_info();
    ASSERT_TRUE(info);
    EXPECT_NE(info->describe().find("not resumed"), std::string::npos) << info->describe();
  }
}

TEST(SessionReconnect, FatalProxyNotificationsDecideWhetherToResume) {
  for (std::string method : {"OnSessionTimedOut", "OnEngineWebsocketFailed"}) {
    SCOPED_TRACE(method);
    auto ctx = core::Context::create();
    Connections conns(ctx);
    States states;
    FakeEngine e(resume_options(conns, core::ReconnectOptions::Policy::resume), ctx);
    states.attach(*e.session);
    e.open();
    e.send(R"({"jsonrpc":"2.0","method":")" + method + R"(","params":{"severity":"fatal","message":"bye"}})");
    e.transport->remote_close(network_drop());
    if (method == "OnSessionTimedOut") {
      ASSERT_TRUE(states.wait(SessionState::closed, true));
      auto info = e.session->close_info();
      ASSERT_TRUE(info);
      EXPECT_NE(info->describe().find("OnSessionTimedOut"), std::string::npos) << info->describe();
      EXPECT_NE(info->describe().find("not resumed"), std::string::npos) << info->describe();
      EXPECT_EQ(conns.count(), 0u);
    } else {
      ASSERT_TRUE(states.wait(SessionState::suspended, true)) << "the proxy lost its engine: try again";
      e.session->close();
    }
  }
}
