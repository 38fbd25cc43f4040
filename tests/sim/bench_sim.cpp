// qix_sim_bench: throughput of qix-engine-sim for small pipelined calls, and the time to GetLayout a
// hypercube over the 1,000,000-row `demo-large` app. Not a test; run by hand:
//   qix_sim_bench [requests=200000] [window=512] [rps|all] [external-port]
#include "ws_client.hpp"

#include "qix/sim/server.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace json = boost::json;
using qix::sim::test::WsClient;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

static json::object call(WsClient& c, int& id, const std::string& method, int handle, json::array params) {
  int my = ++id;
  c.send(json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", my}, {"method", method}, {"handle", handle}, {"params", params}}));
  std::string text;
  for (;;) {
    if (!c.next(text, 120000)) throw std::runtime_error("no response to " + method);
    auto f = json::parse(text).as_object();
    if (f.contains("id") && f["id"] == my) return f;
  }
}

static int run(int argc, char** argv) {
  const int total = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int window = argc > 2 ? std::atoi(argv[2]) : 512;
  // A fourth argument is the port of an external qix-engine-sim (to measure its CPU time separately).
  qix::sim::Server server(qix::sim::Options{});
  unsigned short port = 0;
  if (argc > 4) {
    port = static_cast<unsigned short>(std::atoi(argv[4]));
  } else {
    server.start();
    port = server.port();
  }

  // 1. Small pipelined calls on one connection.
  {
    auto c = WsClient::connect("127.0.0.1", port, "/app/demo");
    std::string text;
    c->next(text);  // OnConnected
    const std::string req = R"({"jsonrpc":"2.0","id":1,"method":"EngineVersion","handle":-1,"params":[]})";
    auto t0 = Clock::now();
    int sent = 0, received = 0;
    while (received < total) {
      while (sent < total && sent - received < window) {
        c->send(req);
        ++sent;
      }
      if (!c->next(text, 10000)) return 1;
      ++received;
    }
    double ms = ms_since(t0);
    std::printf("pipelined EngineVersion: %d requests, window %d: %.0f ms, %.0f requests/s\n", total, window,
                ms, total / (ms / 1000.0));
  }

  // 2. GetLayout of a hypercube over 1,000,000 fact rows (skipped with a third argument "rps").
  if (argc <= 3 || std::string(argv[3]) != "rps") {
    auto c = WsClient::connect("127.0.0.1", port, "/app/demo-large");
    std::string text;
    c->next(text);
    int id = 0;
    auto t0 = Clock::now();
    auto open = call(*c, id, "OpenDoc", -1, json::array{"demo-large"});
    std::printf("OpenDoc demo-large (generates 1,000,000 orders): %.0f ms\n", ms_since(t0));
    json::object hc{
        {"qDimensions",
         json::array{json::object{{"qDef", json::object{{"qFieldDefs", json::array{"Region"}}}}},
                     json::object{{"qDef", json::object{{"qFieldDefs", json::array{"Category"}}}}}}},
        {"qMeasures",
         json::array{json::object{{"qDef", json::object{{"qDef", "Sum(Sales)"}}}},
                     json::object{{"qDef", json::object{{"qDef", "Count(DISTINCT CustomerId)"}}}}}},
        {"qInitialDataFetch",
         json::array{json::object{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 4}, {"qHeight", 100}}}}};
    auto obj = call(*c, id, "CreateSessionObject", 1,
                    json::array{json::object{{"qInfo", json::object{{"qId", "big"}, {"qType", "table"}}},
                                             {"qHyperCubeDef", hc}}});
    int h = static_cast<int>(obj["result"].at("qReturn").at("qHandle").as_int64());
    for (int round = 0; round < 3; ++round) {
      t0 = Clock::now();
      auto l = call(*c, id, "GetLayout", h, {});
      std::printf(
          "GetLayout Region x Category, Sum(Sales), Count(DISTINCT CustomerId) over 1M rows (%s): %.0f ms, "
          "%s rows\n",
          round == 0 ? "first, builds key caches" : "after a selection change", ms_since(t0),
          json::serialize(l["result"].at("qLayout").at("qHyperCube").at("qSize").at("qcy")).c_str());
      auto f = call(*c, id, "GetField", 1, json::array{"Year"});
      int fh = static_cast<int>(f["result"].at("qReturn").at("qHandle").as_int64());
      t0 = Clock::now();
      call(*c, id, "Select", fh, json::array{std::to_string(2022 + round)});
      std::printf("Select Year=%d: %.0f ms\n", 2022 + round, ms_since(t0));
    }
  }
  server.stop();
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a call without an answer; the server stops on the way out
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
