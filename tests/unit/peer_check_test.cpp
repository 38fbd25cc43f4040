// A server that does not speak QIX (an echo server, another WebSocket service, a silent peer) ends the
// session with a protocol error that says so, instead of leaving calls to their timeouts. A real engine's
// bad frames after its first good one stay diagnostics (session_test's MalformedAndUnknownFramesAre...).
#include "support/fake_engine.hpp"

#include "rpc/frame.hpp"

using namespace qix;
using namespace qix::test;
using core::ErrorKind;

namespace {

core::SessionOptions with_protocol_timeout(std::chrono::milliseconds t) {
  core::SessionOptions o;
  o.protocol_timeout = t;
  return o;
}

void expect_not_qix(FakeEngine& e, const core::CallResult& r, const std::string& why) {
  EXPECT_EQ(r.error.kind, ErrorKind::protocol) << r.error.describe();
  EXPECT_NE(r.error.message.find("does not speak the QIX protocol"), std::string::npos) << r.error.message;
  EXPECT_NE(r.error.message.find(why), std::string::npos) << r.error.message;
  EXPECT_EQ(e.session->state(), core::SessionState::closed);
  auto info = e.session->close_info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->code, core::close_code::protocol_error);
  EXPECT_EQ(info->describe(), r.error.message) << "the close reason is the same verdict";
}

}  // namespace

TEST(PeerCheck, FirstFrameThatIsNotJsonEndsTheSession) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "EngineVersion");
  e.next();
  e.send("Welcome to the chat server!");
  expect_not_qix(e, f.get(), "its first frame is not JSON-RPC");
  // Later calls fail at once, with the verdict rather than a bare "closed".
  auto later = e.call(-1, "EngineVersion").get();
  EXPECT_EQ(later.error.kind, ErrorKind::protocol);
  EXPECT_NE(later.error.message.find("does not speak the QIX protocol"), std::string::npos);
  EXPECT_EQ(e.transport->sent().size(), 1u) << "nothing more is sent";
}

TEST(PeerCheck, FirstFrameWithoutJsonRpcVersionEndsTheSession) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "EngineVersion");
  e.next();
  e.send(R"({"type":"hello","id":1})");
  expect_not_qix(e, f.get(), "not JSON-RPC 2.0");
}

TEST(PeerCheck, EchoedRequestIsNamedAsSuch) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "OpenDoc", R"(["demo"])");
  auto sent = e.transport->sent();
  ASSERT_EQ(sent.size(), 1u);
  e.send(sent[0]);  // what an echo server does
  expect_not_qix(e, f.get(), "sent the request OpenDoc (id 1) back instead of answering it");
}

TEST(PeerCheck, EveryPendingCallFailsExactlyOnceWithTheVerdict) {
  FakeEngine e;
  e.open();
  std::vector<std::future<core::CallResult>> calls;
  calls.reserve(100);
  for (int i = 0; i < 100; ++i) calls.push_back(e.call(-1, "EngineVersion"));
  e.send("\x01\x02 binary junk");
  for (auto& c : calls) {
    auto r = c.get();
    EXPECT_EQ(r.error.kind, ErrorKind::protocol);
  }
  EXPECT_EQ(e.session->pending_calls(), 0u);
}

TEST(PeerCheck, SilentPeerIsGivenUpAfterTheProtocolTimeout) {
  FakeEngine e(with_protocol_timeout(20ms));
  e.open();
  auto f = e.call(-1, "EngineVersion");
  expect_not_qix(e, f.get(), "no OnConnected greeting and no answer within 20 ms of the first request");
}

TEST(PeerCheck, AGreetingVerifiesThePeerSoASlowFirstAnswerIsFine) {
  FakeEngine e(with_protocol_timeout(1ms));
  e.open();
  e.send(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})");
  auto f = e.call(-1, "EngineVersion");
  auto req = e.next();
  // Let a timer far longer than the protocol timeout run out before answering: had the check been armed
  // after the greeting, it would have ended the session first.
  std::promise<void> later;
  e.context->schedule(50ms, [&] { later.set_value(); });
  later.get_future().wait();
  e.reply(req.id, R"({"qVersion":{"qComponentVersion":"12.2528.0"}})");
  auto r = f.get();
  EXPECT_TRUE(r.ok()) << r.error.describe();
  EXPECT_EQ(e.session->state(), core::SessionState::connected);
}

TEST(PeerCheck, AnAnswerVerifiesThePeerAndLaterBadFramesAreDiagnostics) {
  FakeEngine e(with_protocol_timeout(500ms));
  e.open();
  auto f = e.call(-1, "EngineVersion");
  e.reply(e.next().id, R"({"qVersion":{"qComponentVersion":"12.2528.0"}})");
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.error.describe();
  // The answer cancelled the check: a timer twice as long runs out and the session is still open.
  std::promise<void> later;
  e.context->schedule(1000ms, [&] { later.set_value(); });
  later.get_future().wait();
  EXPECT_EQ(e.session->state(), core::SessionState::connected);
  Counter diagnostics;
  e.session->on_diagnostic([&](const core::Diagnostic&) { diagnostics.add(); });
  e.send("not json");
  ASSERT_TRUE(diagnostics.wait_for(1));
  EXPECT_EQ(e.session->state(), core::SessionState::connected);
}

TEST(PeerCheck, NoRequestNoVerdict) {
  // Nobody waits for an answer, so a silent peer is not judged (a proxy may stay silent until the first
  // request): the check starts with the first request.
  FakeEngine e(with_protocol_timeout(1ms));
  e.open();
  std::promise<void> later;
  e.context->schedule(50ms, [&] { later.set_value(); });
  later.get_future().wait();
  EXPECT_EQ(e.session->state(), core::SessionState::connected);
  auto f = e.call(-1, "EngineVersion");
  expect_not_qix(e, f.get(), "no OnConnected greeting and no answer within 1 ms");
}
