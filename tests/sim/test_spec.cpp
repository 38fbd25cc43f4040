// The simulator speaks from the Engine API tables libqix generates from the engine spec (qix_spec:
// core/rpc/locerr.hpp, core/rpc/methods.hpp), the ones the client reads: every error it sends carries the
// table's text, every method it implements is the table's, with the table's parameters and defaults.
#include "sim_peer.hpp"

#include "errors.hpp"
#include "handlers.hpp"
#include "rpc/locerr.hpp"
#include "rpc/methods.hpp"

#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qix::sim::test {
namespace {

using SpecWire = SimTest;

// The classes the simulator implements, with their method lists (handlers.hpp).
std::vector<std::pair<std::string_view, std::span<const MethodImpl>>> implemented() {
  return {{"Global", global_methods()},
          {"Doc", doc_methods()},
          {"GenericObject", generic_object_methods()},
          {"Field", field_methods()},
          {"GenericVariable", generic_variable_methods()}};
}

TEST(Spec, EveryCodeTheSimulatorSendsIsInTheSharedTableWithItsText) {
  // The LOCERR name each constant of errors.hpp stands for.
  const std::map<int, std::string_view> names = {{-32700, "LOCERR_JSON_RPC_PARSE_ERROR"},
                                                 {-32600, "LOCERR_JSON_RPC_INVALID_REQUEST"},
                                                 {-32601, "LOCERR_JSON_RPC_METHOD_NOT_FOUND"},
                                                 {-32602, "LOCERR_JSON_RPC_INVALID_PARAMETERS"},
                                                 {-32603, "LOCERR_JSON_RPC_INTERNAL_ERROR"},
                                                 {2, "LOCERR_GENERIC_NOT_FOUND"},
                                                 {15, "LOCERR_GENERIC_ABORTED"},
                                                 {1002, "LOCERR_APP_ALREADY_OPEN"},
                                                 {1003, "LOCERR_APP_NOT_FOUND"},
                                                 {1007, "LOCERR_APP_INVALID"},
                                                 {7000, "LOCERR_CALC_INVALID_DEF"},
                                                 {7003, "LOCERR_CALC_TOO_LARGE"},
                                                 {7009, "LOCERR_CALC_PAGES_TOO_LARGE"}};
  EXPECT_EQ(std::size(locerr::kSent), names.size());
  for (int code : locerr::kSent) {
    const core::LocerrInfo* info = core::find_locerr(code);
    ASSERT_NE(info, nullptr) << code;
    EXPECT_EQ(info->name, names.at(code)) << code;
    EXPECT_EQ(locerr::message(code), info->message) << code;
  }
  // The drift this replaced: the simulator's own text for -32600 was "Invalid request".
  EXPECT_EQ(locerr::message(locerr::kInvalidRequest), "Invalid JSON request");
}

TEST(Spec, ImplementedMethodsAreTheTablesAndTheirFallbacksNameRequiredParameters) {
  std::size_t count = 0;
  for (const auto& [cls, methods] : implemented()) {
    std::set<std::string_view> seen;
    for (const MethodImpl& m : methods) {
      ++count;
      EXPECT_TRUE(seen.insert(m.name).second) << cls << "." << m.name << " listed twice";
      const core::MethodInfo* info = core::find_method(cls, m.name);
      ASSERT_NE(info, nullptr) << cls << "." << m.name;
      for (const Fallback& f : m.fallbacks) {
        bool required = false;
        for (const core::ParamInfo& p : info->in) required |= p.name == f.param && p.required;
        EXPECT_TRUE(required) << cls << "." << m.name << " " << f.param;
        EXPECT_TRUE(core::parse_json(f.value_json).has_value()) << f.value_json;
      }
    }
  }
  EXPECT_EQ(count, 51u);  // the README's method list
}

// Every implemented method that requires a parameter (without a fallback) names the table's first such
// parameter when it is left out: the simulator reads its parameter lists from the table.
TEST_F(SpecWire, MissingParametersAreTheTables) {
  auto p = connect();
  int doc = p->open();
  std::map<std::string_view, int> handle_of = {
      {"Global", -1},
      {"Doc", doc},
      {"GenericObject",
       p->handle_of(p->call("CreateSessionObject", doc,
                            json::array{hypercube_props("hc", {"Region"}, {"Sum(Sales)"})}))},
      {"Field", p->handle_of(p->call("GetField", doc, json::array{"Region"}))},
      {"GenericVariable",
       p->handle_of(p->call("CreateSessionVariable", doc,
                            json::array{json::object{{"qName", "v"}, {"qDefinition", "1"}}}))}};
  std::size_t checked = 0;
  for (const auto& [cls, methods] : implemented()) {
    for (const MethodImpl& m : methods) {
      const core::MethodInfo* info = core::find_method(cls, m.name);
      ASSERT_NE(info, nullptr);
      const core::ParamInfo* first = nullptr;
      for (const core::ParamInfo& param : info->in) {
        bool has_fallback = false;
        for (const Fallback& f : m.fallbacks) has_fallback |= f.param == param.name;
        if (param.required && !has_fallback) {
          first = &param;
          break;
        }
      }
      if (first == nullptr) continue;
      auto f = p->request(std::string(m.name), handle_of.at(cls), json::array{});
      ASSERT_TRUE(f.contains("error")) << cls << "." << m.name << ": " << json::serialize(f);
      EXPECT_EQ(f["error"].at("code"), locerr::kInvalidParameters);
      EXPECT_EQ(f["error"].at("parameter"), json::value("Missing parameter " + std::string(first->name)))
          << cls << "." << m.name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 20u);
}

TEST_F(SpecWire, EngineVersionIsTheTables) {
  auto p = connect();
  EXPECT_EQ(p->call("EngineVersion", -1)["qVersion"].at("qComponentVersion"),
            json::value(core::engine_spec_version()));
  EXPECT_EQ(p->call("ProductVersion", -1)["qReturn"], json::value(core::engine_spec_version()));
}

// Errors of every kind the wire shows carry the code's text from the shared table.
TEST_F(SpecWire, ErrorsOnTheWireCarryTheTablesTexts) {
  auto p = connect();
  std::vector<json::object> errors;
  auto expect_error = [&](json::object f, int code) {
    ASSERT_TRUE(f.contains("error")) << json::serialize(f);
    EXPECT_EQ(f["error"].at("code"), code) << json::serialize(f);
    errors.push_back(std::move(f));
  };
  p->ws().send("{not json");
  expect_error(p->next(), locerr::kParseError);
  p->ws().send(R"({"jsonrpc":"2.0","id":900,"handle":-1,"params":[]})");
  expect_error(p->wait_for(900), locerr::kInvalidRequest);
  expect_error(p->request("NoSuchMethod", -1), locerr::kMethodNotFound);
  expect_error(p->request("GetActiveDoc", -1), locerr::kAppInvalid);
  expect_error(p->request("OpenDoc", -1, json::array{"nope"}), locerr::kAppNotFound);
  int doc = p->open();
  expect_error(p->request("OpenDoc", -1, json::array{"demo"}), locerr::kAppAlreadyOpen);
  expect_error(p->request("GetScript", doc), locerr::kMethodNotFound);  // in the table, not implemented
  expect_error(p->request("GetField", doc, json::array{}), locerr::kInvalidParameters);
  auto chart = json::object{{"qInfo", json::object{{"qId", "dup"}, {"qType", "x"}}}};
  p->call("CreateObject", doc, json::array{chart});
  expect_error(p->request("CreateObject", doc, json::array{chart}), locerr::kNotFound);
  int h = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{hypercube_props("hc", {"Region"}, {"Sum(Sales)"})}));
  json::object big_page{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 2}, {"qHeight", 6000}};
  expect_error(p->request("GetHyperCubeData", h, json::array{"/qHyperCubeDef", json::array{big_page}}),
               locerr::kCalcPagesTooLarge);
  expect_error(p->request("Evaluate", doc, json::array{"=Sum("}), locerr::kCalcInvalidDef);

  std::set<int> codes;
  for (auto& f : errors) {
    int code = static_cast<int>(f["error"].at("code").as_int64());
    codes.insert(code);
    const core::LocerrInfo* info = core::find_locerr(code);
    ASSERT_NE(info, nullptr) << code;
    EXPECT_EQ(f["error"].at("message"), json::value(info->message)) << json::serialize(f);
  }
  EXPECT_EQ(codes.size(), 10u);
}

TEST_F(SpecWire, AbortedCalculationCarriesTheTablesText) {
  Options o;
  o.calc_delay_ms = 600000;  // the calculation waits until CancelRequest aborts it
  start(o);
  auto p = connect();
  int doc = p->open();
  int id = p->send("Evaluate", doc, json::array{"Sum(Sales)"});
  p->call("CancelRequest", -1, json::array{id});
  auto f = p->wait_for(id);
  ASSERT_TRUE(f.contains("error")) << json::serialize(f);
  EXPECT_EQ(f["error"].at("code"), locerr::kAborted);
  EXPECT_EQ(f["error"].at("message"), json::value(core::find_locerr(locerr::kAborted)->message));
}

}  // namespace
}  // namespace qix::sim::test
