// Tests of the `qix` command-line tool (tools/qix, docs/cli.md). Every test runs the real executable
// against an engine simulator started in this process (real loopback sockets) and checks what it printed,
// its exit code and, where it matters, what the simulator saw (request counts, requests in flight).
#include "cli_support.hpp"
#include "qix/qix.hpp"
#include "qix/sim/server.hpp"
#include "support/test_pki.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using namespace qix_cli_test;

// ------------------------------------------------------------------------------------------------ demo

TEST(CliDemo, RunsAgainstTheBundledSimulator) {
  auto r = run_qix({"demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "(the bundled simulator, in-process)")) << r.out;
  EXPECT_TRUE(contains(r.out, "Engine version 12.2528.0; app 'demo' opened (handle 1)"));
  EXPECT_TRUE(contains(r.out, "Sales per region:"));
  // The table with the demo's deterministic figures, before and after the selection.
  EXPECT_TRUE(contains(r.out, "Americas   1035447.5"));
  EXPECT_TRUE(contains(r.out, "Americas    251312.5"));
  EXPECT_TRUE(contains(r.out, "Category: Bikes [O]  Clothing [O]  Components [O]  Accessories [O]"));
  EXPECT_TRUE(contains(r.out, "Category: Bikes [S]  Clothing [X]  Components [X]  Accessories [X]"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '>'), 8) << "4 changed events (2 objects x 2 changes)";
  EXPECT_TRUE(contains(r.out, ">> event: the hypercube changed"));
  EXPECT_TRUE(contains(r.out, ">> event: the list object changed"));
  EXPECT_TRUE(contains(r.out, "Evaluate Sum(Sales) in the selection: 1388047.5"));
  EXPECT_TRUE(contains(r.out, "Done."));
  EXPECT_EQ(r.err, "");
}

TEST(CliDemo, JsonReport) {
  auto r = run_qix({"demo", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto v = parse(r.out);
  EXPECT_EQ(v.at("simulated"), true);
  EXPECT_EQ(v.at("app"), "demo");
  EXPECT_EQ(v.at("evaluateSumSalesInSelection"), "1388047.5");
  const auto& steps = v.at("steps").as_array();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].at("table").as_array()[1].as_array()[1], "1035447.5") << "Americas before the selection";
  EXPECT_EQ(steps[1].at("table").as_array()[1].as_array()[1], "251312.5") << "Americas with Bikes selected";
  EXPECT_EQ(steps[1].at("changedEvents").at("hypercube"), 1);
  EXPECT_EQ(steps[2].at("changedEvents").at("listObject"), 2);
  EXPECT_EQ(steps[1].at("categories"), "Bikes [S]  Clothing [X]  Components [X]  Accessories [X]");
}

TEST_F(Cli, DemoAgainstAGivenEngine) {
  auto r = run_qix(with_app({"demo"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Engine: " + sim_->url() + "/app/demo\n")) << r.out;
  EXPECT_EQ(sim_->stats()["OpenDoc"].received, 1u);
}

// ------------------------------------------------------------------------------------------------ usage

TEST(CliUsage, HelpVersionAndUsageErrors) {
  auto h = run_qix({"--help"});
  EXPECT_EQ(h.code, 0);
  for (const char* cmd : {"demo", "call", "apps", "eval", "objects", "layout", "fields", "select", "clear",
                          "watch", "extract"}) {
    EXPECT_TRUE(contains(h.out, cmd)) << cmd;
  }
  auto ch = run_qix({"call", "--help"});
  EXPECT_EQ(ch.code, 0);
  EXPECT_TRUE(contains(ch.out, "--raw"));
  EXPECT_TRUE(contains(ch.out, "--handle"));
  auto xh = run_qix({"extract", "--help"});
  EXPECT_EQ(xh.code, 0);
  EXPECT_TRUE(contains(xh.out, "--window"));
  auto v = run_qix({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_TRUE(contains(v.out, qix::version()));

  EXPECT_EQ(run_qix({}).code, 2);
  EXPECT_EQ(run_qix({"no-such-command"}).code, 2);
  EXPECT_EQ(run_qix({"call"}).code, 2);  // METHOD missing
  EXPECT_EQ(run_qix({"eval"}).code, 2);
  auto bad_params = run_qix({"call", "Evaluate", "[1,"});
  EXPECT_EQ(bad_params.code, 2);
  EXPECT_TRUE(contains(bad_params.err, "PARAMS must be a JSON array")) << bad_params.err;
  auto bad_url = run_qix({"--url", "http://localhost/app/x", "apps"});
  EXPECT_EQ(bad_url.code, 2);
  EXPECT_TRUE(contains(bad_url.err, "ws:// or wss://"));
  auto bad_header = run_qix({"--header", "NoColon", "apps"});
  EXPECT_EQ(bad_header.code, 2);
  auto both = run_qix({"call", "GetLayout", "--object", "a", "--handle", "1"});
  EXPECT_EQ(both.code, 2);
  auto fmt = run_qix({"extract", "--dim", "Region", "--format", "xml"});
  EXPECT_EQ(fmt.code, 2);
  auto certs = run_qix({"--url", "wss://127.0.0.1:1/app/x", "--certs", "/nonexistent", "apps"});
  EXPECT_EQ(certs.code, 2);
  EXPECT_TRUE(contains(certs.err, "client.pem is missing")) << certs.err;
}

// ------------------------------------------------------------------------------------------------ call

TEST_F(Cli, CallGoesToGlobalWithoutAnApp) {
  auto r = run_qix(global({"call", "EngineVersion"}));
  ASSERT_EQ(r.code, 0) << r.err;
  auto v = parse(r.out);
  EXPECT_EQ(v.at("qComponentVersion"), "12.2528.0") << "out parameter unwrapped";
  auto raw = run_qix(global({"call", "EngineVersion", "--raw"}));
  ASSERT_EQ(raw.code, 0);
  EXPECT_EQ(parse(raw.out).at("qVersion").at("qComponentVersion"), "12.2528.0");
  // Options may stand before or after the command.
  auto after = run_qix({"call", "EngineVersion", "--url", sim_->url() + "/app/engineData"});
  EXPECT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(sim_->stats()["OpenDoc"].received, 0u);
}

TEST_F(Cli, CallOnTheAppAnObjectAndAHandle) {
  auto r = run_qix(with_app({"call", "Evaluate", R"j(["Sum(Sales)"])j"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(parse(r.out), "5617035");
  auto named = run_qix(with_app({"call", "Evaluate", R"({"qExpression":"1+2"})"}));
  EXPECT_EQ(parse(named.out), "3");
  // An object made by another session of the same app.
  qix::Options o;
  o.set("url", sim_->url() + "/app/demo");
  qix::Session s(o, 10000);
  auto doc = s.open_doc("demo");
  doc.call("CreateObject", R"j([{"qInfo":{"qId":"kpi1","qType":"kpi"},"title":"Total",
      "qHyperCubeDef":{"qMeasures":[{"qDef":{"qDef":"Sum(Quantity)"}}],
      "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":1,"qHeight":1}]}}])j");
  auto obj = run_qix(with_app({"call", "GetLayout", "--object", "kpi1"}));
  ASSERT_EQ(obj.code, 0) << obj.err;
  auto layout = parse(obj.out);
  EXPECT_EQ(layout.at("qInfo").at("qId"), "kpi1");
  EXPECT_EQ(layout.at("title"), "Total");
  // --handle -1 is Global even with an app; the app is handle 1.
  auto h = run_qix(with_app({"call", "GetActiveDoc", "--handle", "-1"}));
  ASSERT_EQ(h.code, 0) << h.err;
  EXPECT_EQ(parse(h.out).at("qGenericId"), "demo");
  auto h1 = run_qix(with_app({"call", "Evaluate", R"(["2*21"])", "--handle", "1"}));
  EXPECT_EQ(parse(h1.out), "42");
  auto unknown = run_qix(with_app({"call", "GetLayout", "--handle", "77"}));
  EXPECT_EQ(unknown.code, 2);
  EXPECT_TRUE(contains(unknown.err, "handle 77 is not open")) << unknown.err;
  auto missing = run_qix(with_app({"call", "GetLayout", "--object", "nope"}));
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "qix: no object with id 'nope' in app demo\n");
}

TEST_F(Cli, CallCreateSessionAppFillsTheGenericId) {
  auto r = run_qix(global({"call", "CreateSessionApp"}));
  ASSERT_EQ(r.code, 0) << r.err;
  auto v = parse(r.out);
  EXPECT_EQ(v.at("qType"), "Doc");
  std::string id(v.at("qGenericId").as_string());
  EXPECT_EQ(id.rfind("SessionApp_", 0), 0u) << id;
  auto raw = run_qix(global({"call", "CreateSessionApp", "--raw"}));
  auto rv = parse(raw.out);
  EXPECT_EQ(rv.at("qReturn").at("qGenericId"), rv.at("qSessionAppId"));
}

TEST_F(Cli, EngineErrorsPrintCodeNameMessageAndParameter) {
  auto r = run_qix(with_app({"eval", "1"}, "no-such-app"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error 1003 LOCERR_APP_NOT_FOUND: App not found (no-such-app)\n");
  EXPECT_EQ(r.out, "");
  auto m = run_qix(global({"call", "NoSuchMethod"}));
  EXPECT_EQ(m.code, 1);
  EXPECT_TRUE(contains(m.err, "error -32601 LOCERR_JSON_RPC_METHOD_NOT_FOUND: ")) << m.err;
}

// -------------------------------------------------------------------------------- apps, eval, fields ...

TEST_F(Cli, Apps) {
  auto r = run_qix(global({"apps"}));
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // header, rule, demo, demo-large
  EXPECT_TRUE(contains(lines[0], "Id") && contains(lines[0], "Name") && contains(lines[0], "Last reload"));
  EXPECT_EQ(lines[2].rfind("demo ", 0), 0u);
  EXPECT_EQ(lines[3].rfind("demo-large ", 0), 0u);
  auto j = run_qix(global({"apps", "--json"}));
  auto v = parse(j.out);
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.as_array().size(), 2u);
  EXPECT_EQ(v.as_array()[0].at("qDocId"), "demo");
}

TEST_F(Cli, EvalTextAndJson) {
  auto r = run_qix(with_app({"eval", "Sum(Sales)"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "5617035\n");
  auto j = run_qix(with_app({"--json", "eval", "Count(DISTINCT Region)"}));
  auto v = parse(j.out);
  EXPECT_EQ(v.at("qText"), "6");
  EXPECT_EQ(v.at("qNumber").to_number<double>(), 6.0);
  // No app known: a usage error against a real engine URL without /app/.
  auto none = run_qix({"--url", sim_->url(), "eval", "1"});
  EXPECT_EQ(none.code, 2);
}

TEST_F(Cli, ObjectsAndLayout) {
  auto sample = run_qix(with_app({"objects"}));
  ASSERT_EQ(sample.code, 0) << sample.err;
  EXPECT_TRUE(contains(sample.out, "sales-by-region  barchart")) << "the demo app's sample chart\n"
                                                                 << sample.out;
  qix::Options o;
  o.set("url", sim_->url() + "/app/demo");
  qix::Session s(o, 10000);
  auto doc = s.open_doc("demo");
  doc.call("DestroyObject", R"(["sales-by-region"])");
  auto empty = run_qix(with_app({"objects"}));
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(empty.out, "No objects in app demo.\n");
  doc.call("CreateObject", R"([{"qInfo":{"qId":"sheet-a","qType":"sheet"}}])");
  doc.call("CreateObject", R"j([{"qInfo":{"qId":"chart-b","qType":"barchart"},"qHyperCubeDef":{
      "qDimensions":[{"qDef":{"qFieldDefs":["Year"]}}],"qMeasures":[{"qDef":{"qDef":"Sum(Sales)"}}],
      "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":2,"qHeight":10}]}}])j");
  auto r = run_qix(with_app({"objects"}));
  ASSERT_EQ(r.code, 0);
  EXPECT_TRUE(contains(r.out, "sheet-a") && contains(r.out, "sheet"));
  EXPECT_TRUE(contains(r.out, "chart-b") && contains(r.out, "barchart"));
  auto j = parse(run_qix(with_app({"objects", "--json"})).out);
  EXPECT_EQ(j.as_array().size(), 2u);
  auto l = run_qix(with_app({"layout", "chart-b"}));
  ASSERT_EQ(l.code, 0) << l.err;
  auto layout = parse(l.out);
  EXPECT_EQ(layout.at("qInfo").at("qType"), "barchart");
  EXPECT_EQ(layout.at("qHyperCube").at("qSize").at("qcy").to_number<int>(), 4) << "four years";
  EXPECT_EQ(run_qix(with_app({"layout", "nope"})).code, 1);
}

TEST_F(Cli, Fields) {
  auto r = run_qix(with_app({"fields"}));
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = split_lines(r.out);
  EXPECT_EQ(lines.size(), 2u + 14u) << r.out;
  bool found = false;
  for (const auto& l : lines) {
    if (l.rfind("CustomerId ", 0) == 0) {
      found = true;
      EXPECT_TRUE(contains(l, " 50 ") && contains(l, "key") && contains(l, "Customers, Orders")) << l;
    }
  }
  EXPECT_TRUE(found);
  auto v = parse(run_qix(with_app({"fields", "--json"})).out);
  bool order = false;
  for (const auto& f : v.as_array()) {
    if (f.at("name") == "OrderId") {
      order = true;
      EXPECT_EQ(f.at("distinctValues").to_number<int>(), 2000);
      EXPECT_EQ(f.at("key"), false);
    }
  }
  EXPECT_TRUE(order);
}

TEST_F(Cli, SelectAndClear) {
  auto r = run_qix(with_app({"select", "Category", "Bikes", "Clothing"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Category  Bikes, Clothing  2 of 4")) << r.out;
  auto j = run_qix(with_app({"select", "Year", "2024", "--json"}));
  ASSERT_EQ(j.code, 0) << j.err;
  auto v = parse(j.out);
  ASSERT_EQ(v.as_array().size(), 1u);
  EXPECT_EQ(v.as_array()[0].at("qField"), "Year");
  EXPECT_EQ(v.as_array()[0].at("qSelectedCount").to_number<int>(), 1);
  auto none = run_qix(with_app({"select", "Category", "Boats"}));
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "qix: no value of field 'Category' matched\n");
  auto nofield = run_qix(with_app({"select", "Colour", "Red"}));
  EXPECT_EQ(nofield.code, 1);
  EXPECT_EQ(nofield.err, "qix: no field named 'Colour' in app demo\n");
  auto c = run_qix(with_app({"clear"}));
  ASSERT_EQ(c.code, 0);
  EXPECT_EQ(c.out, "No selections.\n");
  auto cf = run_qix(with_app({"clear", "Category", "--json"}));
  ASSERT_EQ(cf.code, 0);
  EXPECT_EQ(parse(cf.out), json::array{});
  EXPECT_GE(sim_->stats()["SelectValues"].received, 3u);
  EXPECT_EQ(sim_->stats()["ClearAll"].received, 1u);
  EXPECT_EQ(sim_->stats()["Clear"].received, 1u);
}

// ---------------------------------------------------------------------------------- connection options

TEST_F(Cli, ConnectionFailuresExitThree) {
  auto refused = run_qix({"--url", "ws://127.0.0.1:1/app/demo", "--timeout", "5", "eval", "1"});
  EXPECT_EQ(refused.code, 3);
  EXPECT_TRUE(contains(refused.err, "qix: cannot connect to ws://127.0.0.1:1/app/demo: ")) << refused.err;
  // Built from parts.
  auto parts = run_qix({"--host", "127.0.0.1", "--port", std::to_string(sim_->port()), "--app", "demo",
                        "eval", "Count(OrderId)"});
  ASSERT_EQ(parts.code, 0) << parts.err;
  EXPECT_EQ(parts.out, "2000\n");
}

TEST_F(Cli, LostConnectionGivesTheCloseReason) {
  sim_->stop();
  qix::sim::Options o;
  o.calc_delay_ms = 5000;
  o.close_code = 4003;
  o.close_after_ms = 600;
  start(o);
  auto r = run_qix(with_app({"eval", "Sum(Sales)"}));
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_TRUE(contains(r.err, "4003")) << r.err;
}

TEST_F(Cli, BearerHeadersAndATrafficLogWithoutSecrets) {
  sim_->stop();
  qix::sim::Options o;
  o.bearer = "s3cret-token-123";
  start(o);
  auto denied = run_qix(with_app({"eval", "1"}));
  EXPECT_EQ(denied.code, 3);
  EXPECT_TRUE(contains(denied.err, "401")) << denied.err;
  auto log =
      (fs::temp_directory_path() / ("qix-cli-traffic-" + std::to_string(getpid()) + ".jsonl")).string();
  auto r = run_qix(with_app({"--bearer", "s3cret-token-123", "--traffic", log, "eval", "Sum(Sales)"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "5617035\n");
  // From the environment too, and never in the log.
  auto env = run_qix(with_app({"--traffic", log, "--header", "X-Extra: yes", "eval", "1+1"}),
                     {"QIX_BEARER=s3cret-token-123"});
  ASSERT_EQ(env.code, 0) << env.err;
  std::ifstream in(log);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  EXPECT_FALSE(contains(text, "s3cret")) << "the token must never be logged";
  auto lines = split_lines(text);
  ASSERT_GE(lines.size(), 4u);
  int sent = 0, received = 0;
  for (const auto& l : lines) {
    auto v = parse(l);
    ASSERT_TRUE(v.as_object().contains("ts"));
    if (v.at("dir") == "sent") ++sent;
    if (v.at("dir") == "received") ++received;
    ASSERT_TRUE(v.at("frame").is_object()) << l;
  }
  EXPECT_GE(sent, 2);      // OpenDoc, EvaluateEx
  EXPECT_GE(received, 3);  // OnConnected + two answers
  EXPECT_TRUE(contains(text, R"("method":"EvaluateEx")"));
  fs::remove(log);
}

TEST_F(Cli, DeltaIsOnByDefaultAndNoDeltaTurnsItOff) {
  auto log = (fs::temp_directory_path() / ("qix-cli-delta-" + std::to_string(getpid()) + ".jsonl")).string();
  ASSERT_EQ(run_qix(with_app({"--traffic", log, "layout", "x"})).code,
            1);  // no object x: the log still counts
  auto r = run_qix(with_app({"--traffic", log, "select", "Category", "Bikes"}));
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(log);
  std::stringstream all;
  all << in.rdbuf();
  EXPECT_TRUE(contains(all.str(), R"("delta":true)"));
  auto r2 = run_qix(with_app({"--no-delta", "--traffic", log, "select", "Category", "Bikes"}));
  ASSERT_EQ(r2.code, 0) << r2.err;
  std::ifstream in2(log);
  std::stringstream all2;
  all2 << in2.rdbuf();
  EXPECT_FALSE(contains(all2.str(), R"("delta":true)"));
  EXPECT_TRUE(contains(all2.str(), R"("method":"GetLayout")"));
  fs::remove(log);
}

TEST_F(Cli, TlsVerificationCertsAndInsecure) {
  const qix::test::TestPki* pki = nullptr;
  try {
    pki = &qix::test::TestPki::get();
  } catch (const std::exception& e) {
    GTEST_SKIP() << "openssl could not make test certificates: " << e.what();
  }
  sim_->stop();
  qix::sim::Options o;
  o.tls_cert = pki->server_cert;
  o.tls_key = pki->server_key;
  o.client_ca = pki->ca_cert;
  start(o);
  ASSERT_EQ(sim_->url().rfind("wss://", 0), 0u);
  // The certs folder as Qlik Sense exports it.
  auto dir = fs::temp_directory_path() / ("qix-cli-certs-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::copy_file(pki->client_cert, dir / "client.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(pki->client_key, dir / "client_key.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(pki->ca_cert, dir / "root.pem", fs::copy_options::overwrite_existing);
  auto ok = run_qix(with_app({"--certs", dir.string(), "eval", "Count(OrderId)"}));
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "2000\n");
  // Without the client certificate: refused; with no trusted CA: verification fails; --insecure skips
  // verification of the server but the client certificate is still required by this server.
  auto no_client = run_qix(with_app({"eval", "1"}));
  EXPECT_EQ(no_client.code, 3);
  EXPECT_TRUE(contains(no_client.err, "cannot connect")) << no_client.err;
  fs::remove_all(dir);
  // A server that needs no client certificate: the self-made CA is not trusted by default.
  sim_->stop();
  o.client_ca.clear();
  start(o);
  auto untrusted = run_qix(with_app({"eval", "1"}));
  EXPECT_EQ(untrusted.code, 3);
  EXPECT_TRUE(contains(untrusted.err, "certificate")) << untrusted.err;
  auto insecure = run_qix(with_app({"--insecure", "eval", "1+1"}));
  EXPECT_EQ(insecure.code, 0) << insecure.err;
  EXPECT_EQ(insecure.out, "2\n");
}

// ----------------------------------------------------------------------------------------------- watch

TEST_F(Cli, WatchPrintsEachVersionAndCoalescesABurst) {
  qix::Options o;
  o.set("url", sim_->url() + "/app/demo");
  qix::Session s(o, 10000);
  auto doc = s.open_doc("demo");
  auto props = [](int v) {
    return R"([{"qInfo":{"qId":"w1","qType":"watched"},"title":"v)" + std::to_string(v) +
           R"j(","qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":["Region"]}}],
           "qMeasures":[{"qDef":{"qDef":"Sum(Sales)"}}],
           "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":2,"qHeight":10}]}}])j";
  };
  auto obj = doc.call("CreateObject", props(0)).object();
  Child watch(with_app({"watch", "w1", "--json"}));
  ASSERT_TRUE(watch.wait_lines(1, 10s)) << watch.err;
  EXPECT_EQ(parse(split_lines(watch.out)[0]).at("title"), "v0");
  sim_->reset_stats();
  // A burst of 100 invalidations of the watched object from another session.
  std::vector<std::future<qix::Result>> burst;
  for (int i = 1; i <= 100; ++i) burst.push_back(obj.call_future("SetProperties", props(i)));
  for (auto& f : burst) ASSERT_TRUE(f.get().ok());
  watch.drain_for(1500ms);  // > the 250 ms interval plus a fetch
  auto stats = sim_->stats();
  EXPECT_GE(stats["GetLayout"].received, 1u);
  EXPECT_LE(stats["GetLayout"].received, 2u) << "a burst of 100 changes costs at most 2 fetches";
  auto lines = split_lines(watch.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_LE(lines.size(), 3u);
  EXPECT_EQ(parse(lines.back()).at("title"), "v100") << "the last version printed is the latest";
  // Ctrl-C ends it cleanly.
  watch.signal(SIGINT);
  EXPECT_EQ(watch.finish(10s), 0) << watch.err;
}

TEST_F(Cli, WatchTextOutputCountAndMissingObject) {
  qix::Options o;
  o.set("url", sim_->url() + "/app/demo");
  qix::Session s(o, 10000);
  auto doc = s.open_doc("demo");
  doc.call("CreateObject", R"([{"qInfo":{"qId":"w2","qType":"watched"},"title":"hello"}])");
  auto r = run_qix(with_app({"watch", "w2", "--count", "1"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# w2 version 1 at ", 0), 0u) << r.out;
  EXPECT_TRUE(contains(r.out, R"("title": "hello")")) << r.out;
  EXPECT_EQ(run_qix(with_app({"watch", "nope", "--count", "1"})).code, 1);
}

TEST_F(Cli, WatchEndsWithTheCloseReasonWhenTheConnectionIsLost) {
  qix::Options o;
  o.set("url", sim_->url() + "/app/demo");
  qix::Session s(o, 10000);
  auto doc = s.open_doc("demo");
  doc.call("CreateObject", R"([{"qInfo":{"qId":"w3","qType":"watched"}}])");
  Child watch(with_app({"watch", "w3", "--json"}));
  ASSERT_TRUE(watch.wait_lines(1, 10s)) << watch.err;
  sim_->close_all(4003);
  EXPECT_EQ(watch.finish(10s), 3);
  EXPECT_TRUE(contains(watch.err, "4003")) << watch.err;
}

TEST_F(Cli, WatchWithReconnectResumesAfterTheEngineGoesAway) {
  qix::Options o;
  o.set("url", sim_->url() + "/app/demo");
  qix::Session s(o, 10000);
  auto doc = s.open_doc("demo");
  doc.call("CreateObject", R"([{"qInfo":{"qId":"w4","qType":"watched"},"title":"before"}])");
  Child watch(with_app({"--reconnect", "resume", "watch", "w4", "--json", "--interval", "0"}));
  ASSERT_TRUE(watch.wait_lines(1, 10s)) << watch.err;
  sim_->close_all(4003);  // every connection, the helper session's too
  // The watch reconnects, re-acquires the object by its id and prints its layout again.
  ASSERT_TRUE(watch.wait_lines(2, 20s)) << watch.err;
  EXPECT_TRUE(contains(watch.err, "4003")) << watch.err;
  EXPECT_TRUE(contains(watch.err, "reconnecting")) << watch.err;
  EXPECT_TRUE(contains(watch.err, "resumed")) << watch.err;
  EXPECT_GE(sim_->stats()["GetObject"].received, 2u) << "GetObject again on the new connection";
  // It still follows changes made after the resume.
  qix::Session s2(o, 10000);
  auto doc2 = s2.open_doc("demo");
  auto w = doc2.call("GetObject", R"(["w4"])").object();
  w.call("SetProperties", R"([{"qInfo":{"qId":"w4","qType":"watched"},"title":"after"}])");
  ASSERT_TRUE(watch.wait_lines(3, 20s)) << watch.err;
  EXPECT_TRUE(contains(watch.out, "after")) << watch.out;
  watch.signal(SIGINT);
  EXPECT_EQ(watch.finish(10s), 0) << watch.err;
}

// --------------------------------------------------------------------------------------------- extract

class CliExtract : public Cli {
 protected:
  static constexpr int kRows = 23456;
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qix-cli-data-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "big");
    std::ofstream csv(dir_ / "big" / "Facts.csv");
    csv << "Id,Name,Value\n";
    for (int i = 1; i <= kRows; ++i) csv << i << "," << source_name(i) << "," << value(i) << "\n";
    csv.close();
    qix::sim::Options o;
    o.data_dir = dir_.string();
    o.latency_ms = 20;  // a network between client and engine: pipelining shows
    start(o);
  }
  void TearDown() override {
    Cli::TearDown();
    fs::remove_all(dir_);
  }
  static std::string name(int i) { return i % 50 == 0 ? "Comma, \"Inc\"" : "name" + std::to_string(i % 97); }
  static std::string source_name(int i) { return i % 50 == 0 ? "\"Comma, \"\"Inc\"\"\"" : name(i); }
  static std::string value(int i) { return shortest((i * 7 % 1000) / 4.0); }
  fs::path dir_;
};

TEST_F(CliExtract, CsvRowForRowWithSeveralPagesInFlight) {
  auto out = (dir_ / "out.csv").string();
  auto r = run_qix(
      with_app({"extract", "--dim", "Id", "--dim", "Name", "--measure", "Sum(Value)", "-o", out}, "big"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "no progress bar when stderr is not a terminal";
  std::ifstream in(out);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "Id,Name,Sum(Value)");
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string nm = name(n);
    std::string expected = std::to_string(n) + "," +
                           (nm.find(',') != std::string::npos ? "\"Comma, \"\"Inc\"\"\"" : nm) + "," +
                           value(n);
    ASSERT_EQ(line, expected) << "row " << n;
  }
  EXPECT_EQ(n, kRows);
  auto stats = sim_->stats();
  // 3 columns: 3,333 rows per page -> 8 pages, several in flight at once (window 4).
  EXPECT_EQ(stats["GetHyperCubeData"].received, 8u);
  EXPECT_GE(stats["GetHyperCubeData"].max_in_flight, 2u);
  EXPECT_LE(stats["GetHyperCubeData"].max_in_flight, 4u);
}

TEST_F(CliExtract, JsonLinesToStdoutWithWindowOne) {
  auto r = run_qix(with_app({"extract", "--dim", "Id", "--measure", "Sum(Value)", "--format", "jsonl",
                             "--window", "1", "--page-height", "5000"},
                            "big"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kRows));
  for (int i : {1, 2, 50, 4999, 5000, 5001, kRows}) {
    auto v = parse(lines[static_cast<std::size_t>(i - 1)]);
    EXPECT_EQ(v.at("Id").to_number<int>(), i);
    EXPECT_EQ(shortest(v.at("Sum(Value)").to_number<double>()), value(i));
  }
  auto stats = sim_->stats();
  EXPECT_EQ(stats["GetHyperCubeData"].received, 5u);  // 23,456 rows in pages of 5,000
  EXPECT_EQ(stats["GetHyperCubeData"].max_in_flight, 1u) << "--window 1: one page at a time";
}

TEST_F(CliExtract, ProgressBarOnATerminal) {
  // stderr on a pseudo-terminal: the bar appears by itself (--progress auto).
  auto out = (dir_ / "pty.csv").string();
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    std::string url = sim_->url() + "/app/big";
    execl(QIX_CLI_EXE, QIX_CLI_EXE, "--url", url.c_str(), "extract", "--dim", "Id", "--measure", "Sum(Value)",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string tty;
  char buf[4096];
  for (;;) {
    ssize_t got = read(master, buf, sizeof buf);
    if (got <= 0) break;
    tty.append(buf, static_cast<std::size_t>(got));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << tty;
  EXPECT_TRUE(contains(tty, "rows/s")) << tty;
  EXPECT_TRUE(contains(tty, "ETA")) << tty;
  EXPECT_TRUE(contains(tty, "23,456/23,456 rows")) << tty;
  // Forced on when stderr is not a terminal.
  auto forced = run_qix(with_app(
      {"extract", "--dim", "Id", "--measure", "Sum(Value)", "-o", out, "--progress", "always"}, "big"));
  EXPECT_EQ(forced.code, 0);
  EXPECT_TRUE(contains(forced.err, "100.0%")) << forced.err;
}

TEST_F(CliExtract, EngineAndOutputErrors) {
  auto bad = run_qix(with_app({"extract", "--dim", "NoSuchField", "--measure", "Sum(Value)"}, "big"));
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_FALSE(bad.err.empty());
  auto unwritable = run_qix(with_app({"extract", "--dim", "Id", "-o", "/nonexistent/dir/out.csv"}, "big"));
  EXPECT_EQ(unwritable.code, 1);
  EXPECT_TRUE(contains(unwritable.err, "cannot write /nonexistent/dir/out.csv")) << unwritable.err;
}

// The simulator runs in this process (ctest runs each test in a process of its own), so this process's
// peak RSS is the simulator's while it builds demo-large and serves its 1,000,000-row hypercube.
TEST_F(Cli, ExtractAMillionRowsInBoundedMemory) {
  auto r = run_qix(with_app(
      {"extract", "--dim", "OrderId", "--measure", "Sum(Sales)", "-o", "/dev/null", "--json"}, "demo-large"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto v = parse(r.out);
  EXPECT_EQ(v.at("rows").to_number<std::int64_t>(), 1000000);
  struct rusage self {};
  getrusage(RUSAGE_SELF, &self);
  std::printf(
      "[ figures  ] 1,000,000 rows: %s rows/s, peak RSS of qix %ld KiB, of the simulator's process %ld KiB\n",
      json::serialize(v.at("rowsPerSecond")).c_str(), r.maxrss_kb, self.ru_maxrss);
  EXPECT_LT(r.maxrss_kb, 100 * 1024) << "peak RSS while extracting 1,000,000 rows must stay under 100 MB";
  EXPECT_LT(self.ru_maxrss, 150 * 1024) << "the simulator serving 1,000,000 rows must stay under 150 MB";
  EXPECT_GE(sim_->stats()["GetHyperCubeData"].received, 200u);
}

// Without --url the simulator runs inside qix: one process holds demo-large's model, the 1,000,000-row
// hypercube and the pipelined extraction. Peak RSS about 107 MB (it was 624 MB when the simulator kept a
// vector and a std::string per row and per value); the bound leaves room for allocator differences.
TEST(CliExtractInProcess, AMillionRowsFromTheBundledSimulatorInBoundedMemory) {
  auto r = run_qix({"--app", "demo-large", "extract", "--dim", "OrderId", "--measure", "Sum(Sales)", "-o",
                    "/dev/null", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(parse(r.out).at("rows").to_number<std::int64_t>(), 1000000);
  std::printf("[ figures  ] 1,000,000 rows with the simulator in-process: peak RSS of qix %ld KiB\n",
              r.maxrss_kb);
  EXPECT_LT(r.maxrss_kb, 160 * 1024)
      << "qix with its bundled simulator must extract 1,000,000 rows in under 160 MB";
}

}  // namespace
