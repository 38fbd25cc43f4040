// The core over real loopback sockets against the scripted server: ws and wss, headers, refused upgrades,
// close codes, oversized frames, TLS verification and client certificates.
#include "session/session.hpp"
#include "support/scripted_server.hpp"
#include "transport/url.hpp"
#include "transport/websocket_transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

using namespace qix;
using namespace qix::test;
using namespace std::chrono_literals;
using core::ErrorKind;
namespace json = boost::json;

namespace {

// Answers every request with {"qReturn": <method name>}, after sending OnConnected.
void echo_engine(ScriptedServer& server) {
  server.on_open = [](ScriptedConnection& c) {
    c.send(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})");
  };
  server.on_message = [](ScriptedConnection& c, const std::string& text) {
    auto req = json::parse(text).as_object();
    c.send(R"({"jsonrpc":"2.0","id":)" + json::serialize(req.at("id")) + R"(,"result":{"qReturn":)" +
           json::serialize(req.at("method")) + "}}");
  };
}

struct Client {
  explicit Client(core::ConnectOptions o, core::SessionOptions so = {}) {
    o.connect_timeout = 5s;
    o.handshake_timeout = 5s;
    session = core::Session::create(ctx, core::make_websocket_transport(ctx, std::move(o)), std::move(so));
    session->on_state([closed = closed](core::SessionState s, const core::CloseInfo*) {
      if (s == core::SessionState::closed) closed->set_value();  // reported once, last
    });
  }
  ~Client() {
    session->close();
    // An opened session reports `closed` once its connection has ended (close handshake done, or the
    // transport gave up on it); one never opened closes locally without an event.
    if (opened && closed_future.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "the session never reported closed";
    }
    session.reset();
    // Joins the context's threads here, after the callbacks already queued have run, so that they are not
    // left to a detached helper that could outlive the test (LeakSanitizer would report the OpenSSL state
    // of a thread still running at exit).
    ctx->shutdown();
  }
  core::Error open() {
    opened = true;
    return session->open_sync(10s);
  }
  std::shared_ptr<core::Context> ctx = core::Context::create();
  std::shared_ptr<core::Session> session;
  std::shared_ptr<std::promise<void>> closed = std::make_shared<std::promise<void>>();
  std::future<void> closed_future = closed->get_future();
  bool opened = false;
};

core::ConnectOptions opts(const std::string& url) {
  core::ConnectOptions o;
  o.url = url;
  return o;
}

}  // namespace

TEST(WebSocket, ConnectsCallsAndReceivesOnConnectedFirst) {
  ScriptedServer server;
  echo_engine(server);
  Client c(opts(server.url("/app/demo")));
  ASSERT_FALSE(c.open());
  auto r = c.session->call_sync(-1, "EngineVersion", "[]");
  ASSERT_TRUE(r.ok()) << r.error.describe();
  EXPECT_EQ(r.result.at("qReturn").as_string(), "EngineVersion");
  auto hist = c.session->notification_history();
  ASSERT_FALSE(hist.empty());
  EXPECT_EQ(hist.front().method, "OnConnected");
}

TEST(WebSocket, PipelinesManyCallsOnOneSocket) {
  ScriptedServer server;
  echo_engine(server);
  Client c(opts(server.url()));
  ASSERT_FALSE(c.open());
  std::atomic<int> ok{0};
  std::promise<void> all;
  constexpr int kCalls = 2000;
  for (int i = 0; i < kCalls; ++i) {
    c.session->call(-1, "M" + std::to_string(i), "[]", {}, [&, i](core::CallResult& r) {
      if (r.ok() && r.result.at("qReturn").as_string() == "M" + std::to_string(i)) ok++;
      if (r.id == kCalls) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kCalls);
}

// The client frames its messages itself and writes many in one socket write (see websocket_transport.cpp):
// every length encoding (7-bit, 16-bit, 64-bit, and the edges between them), each message whole and masked
// right, in the order sent, whether sent from a host thread or from inside a callback (where the sends of one
// callback leave together when it returns).
TEST(WebSocket, CoalescedFramesArriveWholeAndInOrderAtEveryLength) {
  ScriptedServer server;
  server.on_open = [](ScriptedConnection& c) {
    c.send(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})");
  };
  server.on_message = [](ScriptedConnection& c, const std::string& text) {
    auto req = json::parse(text).as_object();
    c.send(R"({"jsonrpc":"2.0","id":)" + json::serialize(req.at("id")) + R"(,"result":{"qReturn":)" +
           json::serialize(req.at("params").as_array().at(0)) + "}}");
  };
  Client c(opts(server.url()));
  ASSERT_FALSE(c.open());
  // Payload sizes that sweep the request's length across 125/126 and 65535/65536 bytes (a request is its
  // payload plus some 60 bytes of JSON around it), and a few others.
  std::vector<std::size_t> sizes = {0, 1, 300000};
  for (std::size_t edge : {126u, 65536u}) {
    for (std::size_t n = edge - 100; n < edge - 20; ++n) sizes.push_back(n);
  }
  auto payload = [](std::size_t n, int seed) {
    std::string p(n, ' ');
    for (std::size_t i = 0; i < n; ++i)
      p[i] = static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(seed)) % 26);
    return p;
  };
  constexpr int kRounds = 2;
  const int total = kRounds * static_cast<int>(sizes.size());
  std::atomic<int> ok{0}, done{0};
  std::promise<void> all;
  std::mutex order_mutex;
  std::vector<std::int64_t> order;
  std::function<void(int)> send_one = [&](int k) {
    std::string p = payload(sizes[static_cast<std::size_t>(k) % sizes.size()], k);
    c.session->call(-1, "Echo", "[\"" + p + "\"]", {}, [&, k, p](core::CallResult& r) {
      if (r.ok() && r.result.at("qReturn").as_string() == p) ok++;
      {
        std::lock_guard lock(order_mutex);
        order.push_back(r.id);
      }
      // Every other answer sends the next two calls from inside the callback.
      if (k % 2 == 0) {
        if (k + 1 < total) send_one(k + 1);
        if (k + 2 < total) send_one(k + 2);
      }
      if (++done == total) all.set_value();
    });
  };
  send_one(0);  // from this thread; the rest from callbacks
  all.get_future().wait();
  EXPECT_EQ(ok.load(), total);
  std::lock_guard lock(order_mutex);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()))
      << "answers arrive in the order the calls were sent";
}

namespace {
// A transport's handler for tests that drive a transport directly: counts what happens.
struct CountingHandler : core::TransportHandler {
  void on_open() override { opened.set_value(); }
  void on_frames(std::span<std::string> /*texts*/, bool /*utf8*/) override {}
  void on_close(const core::CloseInfo& info) override {
    std::lock_guard lock(mutex);
    close_info = info;
    closed.set_value();
  }
  std::promise<void> opened, closed;
  std::mutex mutex;
  core::CloseInfo close_info;
};

// A plain connection's sending thread writes to the socket itself when no write is in flight, and hands
// the rest to the I/O thread when the socket is full (websocket_transport.cpp, send()). Several threads send
// until long after the peer stopped reading (it holds its first message until every send has returned, so the
// socket's buffers fill and later writes are left to the I/O thread): every message arrives once, whole, and
// each thread's in the order it sent them. Run twice: every thread starting once the connection is open
// (direct writes until the socket is full), and half of them before it opens (held, then written by the I/O
// thread while the others send).
void send_from_many_threads(bool half_before_open) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  constexpr std::size_t kPadding = 32 * 1024;  // 25 MB in all: far more than the sockets' buffers hold
  std::promise<void> all_sent, all_received;
  std::shared_future<void> sent = all_sent.get_future().share();
  std::mutex seen_mutex;
  std::vector<std::vector<int>> seen(kThreads);
  int received = 0;
  bool malformed = false;
  ScriptedServerOptions so;
  so.receive_buffer = 64 * 1024;
  ScriptedServer server(so);
  server.on_message = [&](ScriptedConnection&, const std::string& text) {
    bool first = false;
    {
      std::lock_guard lock(seen_mutex);
      first = received == 0;
    }
    if (first) sent.wait();  // stop reading until every send has returned
    std::lock_guard lock(seen_mutex);
    auto v = json::parse(text).as_array();
    auto t = static_cast<std::size_t>(v.at(0).as_int64());
    if (t >= seen.size() || v.at(2).as_string().size() != kPadding) {
      malformed = true;
    } else {
      seen[t].push_back(static_cast<int>(v.at(1).as_int64()));
    }
    if (++received == kThreads * kPerThread) all_received.set_value();
  };
  auto ctx = core::Context::create();
  core::ConnectOptions o = opts(server.url());
  o.connect_timeout = 5s;
  o.handshake_timeout = 5s;
  auto transport = core::make_websocket_transport(ctx, o);
  auto handler = std::make_shared<CountingHandler>();
  std::shared_future<void> opened = handler->opened.get_future().share();
  transport->open(handler);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, opened, t] {
      const std::string padding(kPadding, 'x');
      if (!half_before_open || t % 2 == 1) opened.wait();
      for (int i = 0; i < kPerThread; ++i)
        transport->send("[" + std::to_string(t) + "," + std::to_string(i) + ",\"" + padding + "\"]");
    });
  }
  for (auto& th : threads) th.join();
  all_sent.set_value();
  all_received.get_future().wait();
  {
    std::lock_guard lock(seen_mutex);
    EXPECT_FALSE(malformed);
    for (int t = 0; t < kThreads; ++t) {
      std::vector<int> expected(kPerThread);
      for (int i = 0; i < kPerThread; ++i) expected[static_cast<std::size_t>(i)] = i;
      EXPECT_EQ(seen[static_cast<std::size_t>(t)], expected) << "thread " << t;
    }
  }
  transport->close();
  handler->closed.get_future().wait();
  std::lock_guard lock(handler->mutex);
  EXPECT_TRUE(handler->close_info.by_client);
  EXPECT_EQ(handler->close_info.code, core::close_code::normal) << handler->close_info.describe();
  ctx->shutdown();
}
}  // namespace

TEST(WebSocket, SendsFromManyThreadsArriveOnceAndInOrderWhenWrittenDirectlyUntilTheSocketIsFull) {
  send_from_many_threads(false);
}

TEST(WebSocket, SendsFromManyThreadsArriveOnceAndInOrderWhenSomeWereHeldUntilTheOpen) {
  send_from_many_threads(true);
}

TEST(WebSocket, SendsHeadersCookiesAndOrigin) {
  ScriptedServer server;
  echo_engine(server);
  auto o = opts(server.url("/app/demo/identity/x"));
  o.headers = {{"Authorization", "Bearer secret-token"},
               {"X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_api"}};
  o.cookies = {{"X-Qlik-Session", "abc"}, {"other", "1"}};
  o.origin = "https://qlik.example";
  Client c(o);
  ASSERT_FALSE(c.open());
  auto h = server.last_headers();
  EXPECT_EQ(h["authorization"], "Bearer secret-token");
  EXPECT_EQ(h["x-qlik-user"], "UserDirectory=INTERNAL; UserId=sa_api");
  EXPECT_EQ(h["cookie"], "X-Qlik-Session=abc; other=1");
  EXPECT_EQ(h["origin"], "https://qlik.example");
  EXPECT_NE(h["user-agent"].find("libqix"), std::string::npos);
}

TEST(WebSocket, RefusedUpgradeCarriesHttpStatus) {
  for (int status : {401, 403, 404, 503}) {
    ScriptedServerOptions so;
    so.refuse_status = status;
    ScriptedServer server(so);
    Client c(opts(server.url()));
    auto e = c.open();
    EXPECT_EQ(e.kind, ErrorKind::http_status) << e.describe();
    EXPECT_EQ(e.code, status);
    EXPECT_NE(e.describe().find(std::to_string(status)), std::string::npos);
  }
}

TEST(WebSocket, SecretsNeverAppearInErrors) {
  ScriptedServerOptions so;
  so.refuse_status = 401;
  ScriptedServer server(so);
  auto o = opts(server.url());
  o.headers = {{"Authorization", "Bearer very-secret"}};
  o.cookies = {{"X-Qlik-Session", "cookie-secret"}};
  Client c(o);
  auto e = c.open();
  EXPECT_EQ(e.describe().find("very-secret"), std::string::npos);
  EXPECT_EQ(e.describe().find("cookie-secret"), std::string::npos);
}

TEST(WebSocket, ConnectionRefusedIsANetworkError) {
  unsigned short port;
  {
    ScriptedServer s;
    port = s.port();
  }
  Client c(opts("ws://127.0.0.1:" + std::to_string(port) + "/app/x"));
  auto e = c.open();
  EXPECT_EQ(e.kind, ErrorKind::network) << e.describe();
}

TEST(WebSocket, BadUrlIsInvalidArgument) {
  for (const char* url : {"http//nope", "ftp://host/", "ws://:80/", "ws://host:99999/"}) {
    Client c(opts(url));
    auto e = c.open();
    EXPECT_EQ(e.kind, ErrorKind::invalid_argument) << url << ": " << e.describe();
  }
}

TEST(WebSocket, ServerCloseCodeBecomesCloseReasonAndFailsPending) {
  ScriptedServer server;
  server.on_message = [](ScriptedConnection& c, const std::string&) {
    c.close(4003, "engine shutting down");
  };
  Client c(opts(server.url()));
  ASSERT_FALSE(c.open());
  auto r = c.session->call_sync(-1, "X", "[]");
  EXPECT_EQ(r.error.kind, ErrorKind::connection_lost);
  EXPECT_NE(r.error.message.find("4003"), std::string::npos) << r.error.message;
  auto info = c.session->close_info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->code, 4003);
  EXPECT_EQ(info->reason, "engine shutting down");
  EXPECT_FALSE(info->by_client);
}

TEST(WebSocket, DroppedSocketIs1006) {
  ScriptedServer server;
  server.on_message = [](ScriptedConnection& c, const std::string&) { c.drop(); };
  Client c(opts(server.url()));
  ASSERT_FALSE(c.open());
  auto r = c.session->call_sync(-1, "X", "[]");
  EXPECT_EQ(r.error.kind, ErrorKind::connection_lost);
  EXPECT_EQ(c.session->close_info()->code, 1006);
}

TEST(WebSocket, OversizedFrameFailsPendingWithMessageTooLarge) {
  ScriptedServer server;
  server.on_message = [](ScriptedConnection& c, const std::string&) {
    c.send(R"({"jsonrpc":"2.0","method":"Big","params":{"x":")" + std::string(10000, 'a') + "\"}}");
  };
  auto o = opts(server.url());
  o.max_message_size = 4096;
  Client c(o);
  ASSERT_FALSE(c.open());
  auto f1 = std::async(std::launch::async, [&] { return c.session->call_sync(-1, "A", "[]"); });
  auto r = f1.get();
  EXPECT_EQ(r.error.kind, ErrorKind::message_too_large) << r.error.describe();
  EXPECT_NE(r.error.message.find("message too large"), std::string::npos);
  EXPECT_EQ(c.session->state(), core::SessionState::closed);
}

TEST(WebSocket, KeepAliveDetectsASilentPeer) {
  // The server stops reading at the first request (so it answers no ping and never the call) until the
  // client has given up on it: the keep-alive is the only thing that can end the call with connection_lost.
  std::promise<void> resume;
  ScriptedServer server;
  server.on_message = [resumed = resume.get_future().share()](ScriptedConnection&, const std::string&) {
    resumed.wait();
  };
  // Destroyed before the server, whose connection thread must be running again for it to stop.
  struct Resume {
    std::promise<void>& p;
    ~Resume() { p.set_value(); }
  } resume_at_exit{resume};
  auto o = opts(server.url());
  o.keepalive = 200ms;
  Client c(o);
  ASSERT_FALSE(c.open());
  // A call timeout far above the keep-alive is only a hang guard: it ends the call as `timeout`, which fails.
  core::CallOptions patience;
  patience.timeout = 60s;
  auto r = c.session->call_sync(-1, "X", "[]", patience);
  EXPECT_EQ(r.error.kind, ErrorKind::connection_lost) << r.error.describe();
  EXPECT_NE(r.error.message.find("keep-alive"), std::string::npos) << r.error.message;
}

// events.inline (the default): a read's callbacks run on the I/O thread once its handler returns, and the
// next socket read starts after them (Context::after_callbacks), so that the call a callback makes is written
// first. A chain of calls at window 1, each made from the callback of the one before, is answered in full and
// in order, with the read restarted in place after each answer's callback; and again when every callback
// steps aside (another thread takes the I/O role meanwhile), where the restart goes through the transport's
// strand instead.
TEST(WebSocket, TheNextReadStartsAfterTheCallbacksOfTheReadBefore) {
  ScriptedServer server;
  echo_engine(server);
  Client c(opts(server.url()));
  ASSERT_FALSE(c.open());
  for (const bool step_aside : {false, true}) {
    SCOPED_TRACE(step_aside);
    constexpr int kCalls = 200;
    const std::uint64_t here = c.ctx->resumed_after_callbacks(true);
    const std::uint64_t posted = c.ctx->resumed_after_callbacks(false);
    std::mutex m;
    std::vector<std::int64_t> ids;  // answered, in the order answered (negative: failed)
    std::promise<void> all;
    std::function<void()> next;
    next = [&] {
      c.session->call(-1, "EngineVersion", "[]", {}, [&](core::CallResult& r) {
        if (step_aside) core::Context::step_aside_before_waiting();
        std::size_t n = 0;
        {
          std::lock_guard lock(m);
          ids.push_back(r.ok() && r.result.at("qReturn").as_string() == "EngineVersion" ? r.id : -r.id);
          n = ids.size();
        }
        if (n < static_cast<std::size_t>(kCalls)) {
          next();
        } else {
          all.set_value();
        }
      });
    };
    next();
    ASSERT_EQ(all.get_future().wait_for(60s), std::future_status::ready);
    std::lock_guard lock(m);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_GT(ids[i], 0) << "answered, " << i;
      if (i > 0) {
        ASSERT_EQ(ids[i], ids[i - 1] + 1) << "in order";
      }
    }
    if (!step_aside) {
      // Every answer's callback ran inline unless the session's queue was busy on the pool then (it is not
      // here: nothing else is posted to it); half of them is a bound no scheduling can miss.
      EXPECT_GE(c.ctx->resumed_after_callbacks(true) - here, static_cast<std::uint64_t>(kCalls / 2));
    } else {
      EXPECT_GE(c.ctx->resumed_after_callbacks(false) - posted, 1u)
          << "handed to the strand after a step aside";
    }
  }
}

TEST(WebSocket, ClientCloseSendsNormalClosure) {
  ScriptedServer server;
  echo_engine(server);
  Client c(opts(server.url()));
  ASSERT_FALSE(c.open());
  std::promise<core::CloseInfo> closed;
  c.session->on_state([&](core::SessionState s, const core::CloseInfo* i) {
    if (s == core::SessionState::closed) closed.set_value(*i);
  });
  c.session->close();
  auto fut = closed.get_future();
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto info = fut.get();
  EXPECT_TRUE(info.by_client);
  EXPECT_EQ(info.code, 1000);
}

TEST(WebSocket, UrlBuilderOutputConnects) {
  ScriptedServer server;
  echo_engine(server);
  core::UrlConfig u;
  u.secure = false;
  u.host = "127.0.0.1";
  u.port = server.port();
  u.prefix = "/proxy/";
  u.app_id = "My App.qvf";
  u.identity = "id1";
  u.ttl = 30;
  Client c(opts(core::build_url(u)));
  ASSERT_FALSE(c.open());
  ASSERT_TRUE(c.session->call_sync(-1, "X", "[]").ok());
}

// ------------------------------------------------------------------------------------------------ TLS
class Tls : public ::testing::Test {
 protected:
  static ScriptedServerOptions server_opts(bool wrong_host = false, bool require_client = false) {
    const auto& pki = TestPki::get();
    ScriptedServerOptions so;
    so.tls = true;
    so.cert_file = wrong_host ? pki.wrong_host_cert : pki.server_cert;
    so.key_file = wrong_host ? pki.wrong_host_key : pki.server_key;
    if (require_client) so.client_ca_file = pki.ca_cert;
    return so;
  }
};

TEST_F(Tls, SelfSignedServerRejectedByDefault) {
  ScriptedServer server(server_opts());
  echo_engine(server);
  Client c(opts(server.url()));
  auto e = c.open();
  EXPECT_EQ(e.kind, ErrorKind::tls) << e.describe();
  EXPECT_NE(e.message.find("certificate"), std::string::npos) << e.message;
}

TEST_F(Tls, CustomCaAccepted) {
  ScriptedServer server(server_opts());
  echo_engine(server);
  auto o = opts(server.url());
  o.tls.ca_file = TestPki::get().ca_cert;
  Client c(o);
  ASSERT_FALSE(c.open()) << c.open().describe();
  EXPECT_TRUE(c.session->call_sync(-1, "X", "[]").ok());
}

// After the WebSocket close handshake the TLS stream ends politely: the client's close_notify reaches the
// server (without it, the server's TLS shutdown sees the stream truncated, as proxies log it).
TEST_F(Tls, CloseSendsCloseNotifyAfterTheCloseHandshake) {
  ScriptedServer server(server_opts());
  echo_engine(server);
  auto o = opts(server.url());
  o.tls.ca_file = TestPki::get().ca_cert;
  {
    Client c(o);
    ASSERT_FALSE(c.open());
    ASSERT_TRUE(c.session->call_sync(-1, "X", "[]").ok());
    c.session->close();
    c.closed_future.wait();
    const auto endings = server.wait_tls_endings(1);
    ASSERT_EQ(endings.size(), 1U);
    EXPECT_TRUE(endings[0]) << "the server's TLS shutdown did not get the client's close_notify";
  }
  // The server closing first (its close frame, answered) ends the same way.
  server.on_message = [](ScriptedConnection& conn, const std::string&) { conn.close(1000, "bye"); };
  Client c(o);
  ASSERT_FALSE(c.open());
  c.session->call(-1, "X", "[]", {}, [](core::CallResult&) {});
  c.closed_future.wait();
  const auto endings = server.wait_tls_endings(2);
  ASSERT_EQ(endings.size(), 2U);
  EXPECT_TRUE(endings[1]) << "the server's TLS shutdown did not get the client's close_notify";
}

TEST_F(Tls, HostnameMismatchRejected) {
  ScriptedServer server(server_opts(true));
  echo_engine(server);
  auto o = opts(server.url());
  o.tls.ca_file = TestPki::get().ca_cert;
  Client c(o);
  auto e = c.open();
  EXPECT_EQ(e.kind, ErrorKind::tls) << e.describe();
  EXPECT_NE(e.message.find("mismatch"), std::string::npos) << e.message;
}

TEST_F(Tls, VerificationCanBeSwitchedOffExplicitly) {
  ScriptedServer server(server_opts(true));
  echo_engine(server);
  auto o = opts(server.url());
  o.tls.verify_peer = false;
  Client c(o);
  EXPECT_FALSE(c.open());
}

TEST_F(Tls, ClientCertificateRequired) {
  const auto& pki = TestPki::get();
  ScriptedServer server(server_opts(false, true));
  echo_engine(server);
  {
    auto o = opts(server.url());
    o.tls.ca_file = pki.ca_cert;
    Client none(o);
    EXPECT_TRUE(none.open()) << "no client certificate must fail";
  }
  {
    auto o = opts(server.url());
    o.tls.ca_file = pki.ca_cert;
    o.tls.cert_file = pki.rogue_client_cert;
    o.tls.key_file = pki.rogue_client_key;
    Client wrong(o);
    EXPECT_TRUE(wrong.open()) << "a certificate from another CA must fail";
  }
  {
    auto o = opts(server.url());
    o.tls.ca_file = pki.ca_cert;
    o.tls.cert_file = pki.client_cert;
    o.tls.key_file = pki.client_key;
    o.headers = {{"X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_engine"}};
    Client right(o);
    ASSERT_FALSE(right.open());
    EXPECT_TRUE(right.session->call_sync(-1, "X", "[]").ok());
    EXPECT_EQ(server.last_headers()["x-qlik-user"], "UserDirectory=INTERNAL; UserId=sa_engine");
  }
}

TEST_F(Tls, MissingCertificateFilesAreClearErrors) {
  auto o = opts("wss://127.0.0.1:1/app/x");
  o.tls.ca_file = "/nonexistent/ca.pem";
  Client c(o);
  auto e = c.open();
  EXPECT_EQ(e.kind, ErrorKind::tls);
  EXPECT_NE(e.message.find("/nonexistent/ca.pem"), std::string::npos);
}
