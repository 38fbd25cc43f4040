// Test helpers: a JSON-RPC peer over WsClient and a fixture that runs the simulator in-process.
#pragma once

#include "ws_client.hpp"

#include "qix/sim/server.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>

namespace qix::sim::test {

namespace json = boost::json;

class Peer {
 public:
  Peer(const Server& server, const std::string& target = "/app/demo",
       const std::vector<std::pair<std::string, std::string>>& headers = {}, const TlsConfig* tls = nullptr) {
    client_ = WsClient::connect("127.0.0.1", server.port(), target, headers, nullptr, tls);
    if (!client_) throw std::runtime_error("connect failed");
  }
  WsClient& ws() { return *client_; }

  /// Next frame as JSON (throws on timeout).
  json::object next(int timeout_ms = 5000) {
    if (!backlog_.empty()) {
      auto f = std::move(backlog_.front());
      backlog_.pop_front();
      return f;
    }
    std::string text;
    if (!client_->next(text, timeout_ms)) throw std::runtime_error("no frame");
    return json::parse(text).as_object();
  }
  bool try_next(json::object& out, int timeout_ms) {
    if (!backlog_.empty()) {
      out = std::move(backlog_.front());
      backlog_.pop_front();
      return true;
    }
    std::string text;
    if (!client_->next(text, timeout_ms)) return false;
    out = json::parse(text).as_object();
    return true;
  }
  /// The OnConnected greeting.
  json::object greeting() { return next(); }

  int send(const std::string& method, int handle, json::value params = json::array{}, bool delta = false) {
    int id = next_id_++;
    json::object req{{"jsonrpc", "2.0"},
                     {"id", id},
                     {"method", method},
                     {"handle", handle},
                     {"params", std::move(params)}};
    if (delta) req["delta"] = true;
    client_->send(json::serialize(req));
    return id;
  }
  /// Sends a request and returns its full response frame; other frames go to the backlog.
  json::object request(const std::string& method, int handle, json::value params = json::array{},
                       bool delta = false) {
    int id = send(method, handle, std::move(params), delta);
    return wait_for(id);
  }
  json::object wait_for(int id) {
    std::deque<json::object> others;
    for (;;) {
      std::string text;
      if (!client_->next(text, 10000)) throw std::runtime_error("no response to id " + std::to_string(id));
      auto f = json::parse(text).as_object();
      if (f.contains("id") && f["id"].is_int64() && f["id"].get_int64() == id) {
        for (auto& o : others) backlog_.push_back(std::move(o));
        return f;
      }
      others.push_back(std::move(f));
    }
  }
  /// The result of a request that must succeed.
  json::object call(const std::string& method, int handle, json::value params = json::array{}) {
    auto f = request(method, handle, std::move(params));
    if (!f.contains("result")) throw std::runtime_error(method + " failed: " + json::serialize(f));
    return f["result"].as_object();
  }
  /// OpenDoc demo (or `app`) and return the doc handle.
  int open(const std::string& app = "demo") {
    auto r = call("OpenDoc", -1, json::array{json::value(app)});
    return static_cast<int>(r["qReturn"].at("qHandle").as_int64());
  }
  int handle_of(const json::object& result) {
    return static_cast<int>(result.at("qReturn").at("qHandle").as_int64());
  }
  std::deque<json::object>& backlog() { return backlog_; }

 private:
  std::unique_ptr<WsClient> client_;
  int next_id_ = 1;
  std::deque<json::object> backlog_;
};

inline bool lists(const json::object& frame, const char* key, int handle) {
  auto it = frame.find(key);
  if (it == frame.end()) return false;
  for (const auto& v : it->value().as_array())
    if (v.as_int64() == handle) return true;
  return false;
}

inline json::value hypercube_props(const std::string& id, const std::vector<std::string>& dims,
                                   const std::vector<std::string>& measures, int fetch_rows = 100) {
  json::array d, m;
  for (auto& f : dims)
    d.push_back(json::object{{"qDef", json::object{{"qFieldDefs", json::array{json::value(f)}}}}});
  for (auto& e : measures) m.push_back(json::object{{"qDef", json::object{{"qDef", e}}}});
  json::object hc{
      {"qDimensions", d},
      {"qMeasures", m},
      {"qInitialDataFetch",
       json::array{json::object{
           {"qTop", 0}, {"qLeft", 0}, {"qWidth", dims.size() + measures.size()}, {"qHeight", fetch_rows}}}}};
  return json::object{{"qInfo", json::object{{"qId", id}, {"qType", "table"}}}, {"qHyperCubeDef", hc}};
}

inline json::value listobject_props(const std::string& id, const std::string& field,
                                    bool alternatives = true) {
  json::object lo{{"qDef", json::object{{"qFieldDefs", json::array{json::value(field)}}}},
                  {"qShowAlternatives", alternatives},
                  {"qInitialDataFetch",
                   json::array{json::object{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 1}, {"qHeight", 1000}}}}};
  return json::object{{"qInfo", json::object{{"qId", id}, {"qType", "listbox"}}}, {"qListObjectDef", lo}};
}

class SimTest : public ::testing::Test {
 protected:
  void start(Options o = {}) {
    server_ = std::make_unique<Server>(std::move(o));
    server_->start();
  }
  void SetUp() override {}
  Server& server() {
    if (!server_) start();
    return *server_;
  }
  std::unique_ptr<Peer> connect(const std::string& target = "/app/demo") {
    auto p = std::make_unique<Peer>(server(), target);
    auto g = p->greeting();
    EXPECT_EQ(g["method"], "OnConnected");
    return p;
  }
  std::unique_ptr<Server> server_;
};

}  // namespace qix::sim::test
