// Fault injection, request statistics, proxy mode, upgrade checks and the command-line contract.
#include "sim_peer.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

namespace qix::sim::test {
namespace {

using Faults = SimTest;
using Stats = SimTest;

TEST_F(Faults, DropAfterClosesTheSocket) {
  Options o;
  o.drop_after = 3;
  start(o);
  auto p = connect();
  p->call("EngineVersion", -1);
  p->call("EngineVersion", -1);
  p->send("EngineVersion", -1);
  EXPECT_TRUE(p->ws().wait_closed(5000));
  EXPECT_EQ(p->ws().close_code(), 0) << "no close frame";
}

TEST_F(Faults, MalformedEveryNthResponse) {
  Options o;
  o.malformed_every = 2;
  start(o);
  Peer p(server());
  p.greeting();
  p.send("EngineVersion", -1);
  p.send("EngineVersion", -1);
  std::string a, b;
  ASSERT_TRUE(p.ws().next(a));
  ASSERT_TRUE(p.ws().next(b));
  boost::system::error_code ec;
  (void)json::parse(a, ec);
  EXPECT_FALSE(ec);
  (void)json::parse(b, ec);
  EXPECT_TRUE(ec) << b;
}

TEST_F(Faults, CloseCodeAfterDelay) {
  Options o;
  o.close_code = 4003;
  o.close_after_ms = 100;
  start(o);
  auto p = connect();
  EXPECT_TRUE(p->ws().wait_closed(5000));
  EXPECT_EQ(p->ws().close_code(), 4003);
}

TEST_F(Faults, ServerHookClosesWithCode) {
  auto p = connect();
  server().close_all(4001);
  EXPECT_TRUE(p->ws().wait_closed(5000));
  EXPECT_EQ(p->ws().close_code(), 4001);
}

TEST_F(Faults, LatencyDelaysResponses) {
  Options o;
  o.latency_ms = 80;
  start(o);
  auto p = connect();
  auto t0 = std::chrono::steady_clock::now();
  p->call("EngineVersion", -1);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(75));
}

TEST_F(Faults, ReorderAnswersEverythingEventually) {
  Options o;
  o.reorder = true;
  o.jitter_ms = 30;
  start(o);
  auto p = connect();
  std::set<std::int64_t> ids;
  for (int i = 0; i < 20; ++i) ids.insert(p->send("EngineVersion", -1));
  std::vector<std::int64_t> order;
  order.reserve(20);
  for (int i = 0; i < 20; ++i) order.push_back(p->next().at("id").as_int64());
  EXPECT_EQ(std::set<std::int64_t>(order.begin(), order.end()), ids);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()))
      << "20 responses with 0..30 ms jitter left in order";
}

TEST_F(Faults, SlowCalculationAbortedBySelection) {
  Options o;
  o.calc_delay_ms = 300;
  start(o);
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{hypercube_props("hc", {"Region"}, {"Sum(Sales)"})}));
  int fh = p->handle_of(p->call("GetField", doc, json::array{"Region"}));
  int layout = p->send("GetLayout", h);
  auto sel = p->request("Select", fh, json::array{"Nordic"});
  EXPECT_EQ(sel["result"].at("qReturn"), true);
  auto aborted = p->wait_for(layout);
  ASSERT_TRUE(aborted.contains("error"));
  EXPECT_EQ(aborted["error"].at("code"), 15);
  EXPECT_EQ(aborted["error"].at("message"), "Request aborted");
  auto t0 = std::chrono::steady_clock::now();
  auto ok = p->request("GetLayout", h);
  EXPECT_TRUE(ok.contains("result"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(290));
}

TEST_F(Faults, CancelRequestAbortsADelayedCalculation) {
  Options o;
  o.calc_delay_ms = 2000;
  start(o);
  auto p = connect();
  int doc = p->open();
  int id = p->send("Evaluate", doc, json::array{"Sum(Sales)"});
  p->call("CancelRequest", -1, json::array{id});
  auto r = p->wait_for(id);
  EXPECT_EQ(r["error"].at("code"), 15);
}

TEST_F(Faults, RequiredHeaderAndBearer) {
  Options o;
  o.require_header = "X-Qlik-User: UserDirectory=sim; UserId=tester";
  o.bearer = "s3cret";
  start(o);
  int status = 0;
  EXPECT_EQ(WsClient::connect("127.0.0.1", server().port(), "/app/demo", {}, &status), nullptr);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(WsClient::connect("127.0.0.1", server().port(), "/app/demo",
                              {{"X-Qlik-User", "UserDirectory=sim; UserId=tester"}}, &status),
            nullptr);
  Peer ok(server(), "/app/demo",
          {{"X-Qlik-User", "UserDirectory=sim; UserId=tester"}, {"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(ok.greeting()["method"], "OnConnected");
}

TEST_F(Faults, ProxyModeAuthenticationAndFatalNotification) {
  Options o;
  o.proxy_mode = true;
  start(o);
  auto p = connect();
  int id = p->send("EngineVersion", -1);
  auto auth = p->next();
  EXPECT_EQ(auth["method"], "OnAuthenticationInformation");
  EXPECT_TRUE(p->wait_for(id).contains("result"));
  server().proxy_fatal_all("OnSessionTimedOut");
  auto fatal = p->next();
  EXPECT_EQ(fatal["method"], "OnSessionTimedOut");
  EXPECT_EQ(fatal["params"].at("severity"), "fatal");
  EXPECT_TRUE(p->ws().wait_closed(5000));
}

class Tls : public SimTest {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new std::string(std::filesystem::temp_directory_path() / ("qix-sim-tls-" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    const std::string o = QIX_SIM_OPENSSL, d = *dir_;
    auto run = [](const std::string& cmd) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): suite setup, before any simulator thread runs
      return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
    };
    ok_ = run(o + " req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sim-ca -keyout " + d +
              "/ca.key -out " + d + "/ca.pem") &&
          run(o + " req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d + "/server.key -out " + d +
              "/server.csr") &&
          run(o + " x509 -req -days 2 -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
              "/ca.key -CAcreateserial -out " + d + "/server.pem") &&
          run(o + " req -newkey rsa:2048 -nodes -subj /CN=client -keyout " + d + "/client.key -out " + d +
              "/client.csr") &&
          run(o + " x509 -req -days 2 -in " + d + "/client.csr -CA " + d + "/ca.pem -CAkey " + d +
              "/ca.key -CAcreateserial -out " + d + "/client.pem");
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (!ok_) GTEST_SKIP() << "openssl could not make test certificates";
  }
  static std::string file(const char* name) { return *dir_ + "/" + name; }
  static inline std::string* dir_ = nullptr;
  static inline bool ok_ = false;
};

TEST_F(Tls, ServesWss) {
  Options o;
  o.tls_cert = file("server.pem");
  o.tls_key = file("server.key");
  start(o);
  EXPECT_TRUE(server().url().starts_with("wss://127.0.0.1:"));
  TlsConfig tls;
  Peer p(server(), "/app/demo", {}, &tls);
  EXPECT_EQ(p.greeting()["params"].at("qSessionState"), "SESSION_CREATED");
  EXPECT_EQ(p.open(), 1);
  int status = 0;
  EXPECT_EQ(WsClient::connect("127.0.0.1", server().port(), "/app/demo", {}, &status), nullptr)
      << "plain ws refused";
}

TEST_F(Tls, RequiresAClientCertificateWhenGivenACa) {
  Options o;
  o.tls_cert = file("server.pem");
  o.tls_key = file("server.key");
  o.client_ca = file("ca.pem");
  start(o);
  TlsConfig none;
  int status = 0;
  EXPECT_EQ(WsClient::connect("127.0.0.1", server().port(), "/app/demo", {}, &status, &none), nullptr);
  TlsConfig with{file("client.pem"), file("client.key")};
  Peer p(server(), "/app/demo", {}, &with);
  EXPECT_EQ(p.greeting()["method"], "OnConnected");
}

TEST_F(Stats, CountsPerMethodAndInFlight) {
  Options o;
  o.latency_ms = 400;  // all ten are sent well within it, even on a loaded machine
  start(o);
  auto p = connect();
  std::vector<int> ids;
  ids.reserve(10);
  for (int i = 0; i < 10; ++i) ids.push_back(p->send("EngineVersion", -1));
  p->send("OSName", -1);
  for (int id : ids) p->wait_for(id);
  auto s = server().stats();
  EXPECT_EQ(s["EngineVersion"].received, 10u);
  EXPECT_EQ(s["EngineVersion"].max_in_flight, 10u);
  EXPECT_EQ(s["OSName"].received, 1u);
  server().reset_stats();
  p->call("EngineVersion", -1);
  p->call("EngineVersion", -1);
  s = server().stats();
  EXPECT_EQ(s["EngineVersion"].received, 2u);
  EXPECT_EQ(s["EngineVersion"].max_in_flight, 1u);
}

TEST_F(Stats, PushAllReachesEveryConnection) {
  auto a = connect();
  auto b = connect();
  server().push_all(R"({"jsonrpc":"2.0","method":"OnMaxParallelSessionsExceeded","params":{}})");
  EXPECT_EQ(a->next()["method"], "OnMaxParallelSessionsExceeded");
  EXPECT_EQ(b->next()["method"], "OnMaxParallelSessionsExceeded");
  EXPECT_EQ(server().connection_count(), 2u);
}

TEST(Startup, BindFailureAndBadDataDirThrow) {
  Server first(Options{});
  first.start();
  Options same;
  same.port = first.port();
  Server second(same);
  EXPECT_THROW(second.start(), std::runtime_error);
  Options bad;
  bad.data_dir = "/nonexistent/qix-sim-data";
  Server third(bad);
  EXPECT_THROW(third.start(), std::runtime_error);
  second.stop();  // idempotent, also when never started
  first.stop();
  first.stop();
}

TEST(Cli, PrintsOneListeningLineAndExitsZeroOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execl(QIX_SIM_EXE, QIX_SIM_EXE, "--port", "0", "--demo-rows", "100", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char ch = 0;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  EXPECT_TRUE(std::regex_match(line, std::regex(R"(listening on ws://127\.0\.0\.1:[0-9]+)"))) << line;
  auto port = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
  {
    auto c = WsClient::connect("127.0.0.1", port, "/app/demo");
    ASSERT_NE(c, nullptr);
    std::string greeting;
    EXPECT_TRUE(c->next(greeting));
    EXPECT_NE(greeting.find("SESSION_CREATED"), std::string::npos);
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::string rest;
  while (read(out[0], &ch, 1) == 1) rest += ch;
  EXPECT_EQ(rest, "") << "exactly one line";
  close(out[0]);
}

TEST(Cli, UnknownOptionIsAUsageError) {
  std::string cmd = std::string(QIX_SIM_EXE) + " --no-such-flag 2>/dev/null";
  int status = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe): no other thread in this test
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

TEST(Cli, HelpDocumentsTheFlags) {
  std::string cmd = std::string(QIX_SIM_EXE) + " --help";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string text;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  EXPECT_EQ(pclose(f), 0);
  for (const char* flag :
       {"--host", "--port", "--data", "--tls-cert", "--tls-key", "--client-ca", "--require-header",
        "--bearer", "--proxy-mode", "--session-ttl", "--latency-ms", "--jitter-ms", "--reorder",
        "--drop-after", "--malformed-every", "--close-code", "--close-after-ms", "--calc-delay-ms"})
    EXPECT_NE(text.find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace qix::sim::test
