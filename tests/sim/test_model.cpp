// The associative model over real sockets: selections, states, propagation, aggregations, CSV apps.
#include "sim_peer.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace qix::sim::test {
namespace {

using Model = SimTest;

double eval_num(Peer& p, int doc, const std::string& expr) {
  auto r = p.call("EvaluateEx", doc, json::array{json::value(expr)});
  return r["qValue"].at("qNumber").to_number<double>();
}

std::map<std::string, std::string> states_of(Peer& p, int h) {
  auto l = p.call("GetLayout", h)["qLayout"];
  std::map<std::string, std::string> out;
  for (auto& row : l.at("qListObject").at("qDataPages").at(0).at("qMatrix").as_array())
    out[std::string(row.at(0).at("qText").as_string())] = std::string(row.at(0).at("qState").as_string());
  return out;
}

TEST_F(Model, SelectionPropagatesThroughLinkedTables) {
  auto p = connect();
  int doc = p->open();
  int regions =
      p->handle_of(p->call("CreateSessionObject", doc, json::array{listobject_props("r", "Region")}));
  int customers =
      p->handle_of(p->call("CreateSessionObject", doc, json::array{listobject_props("c", "Customer")}));
  int managers = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{listobject_props("m", "RegionManager", false)}));
  auto before = states_of(*p, regions);
  for (auto& [k, v] : before) EXPECT_EQ(v, "O") << k;
  int fh = p->handle_of(p->call("GetField", doc, json::array{"Region"}));
  EXPECT_EQ(p->call("Select", fh, json::array{"Nordic"})["qReturn"], true);
  auto r = states_of(*p, regions);
  EXPECT_EQ(r["Nordic"], "S");
  EXPECT_EQ(r["DACH"], "A");
  auto m = states_of(*p, managers);
  EXPECT_EQ(m["Astrid"], "O");
  EXPECT_EQ(m["Bruno"], "X");
  // Customers: those in Nordic are possible, others excluded.
  auto c = states_of(*p, customers);
  int possible = 0, excluded = 0;
  for (auto& [k, v] : c) (v == "O" ? possible : excluded) += 1;
  EXPECT_GT(possible, 0);
  EXPECT_GT(excluded, 0);
  auto counts =
      p->call("GetLayout", regions)["qLayout"].at("qListObject").at("qDimensionInfo").at("qStateCounts");
  EXPECT_EQ(counts.at("qSelected"), 1);
  EXPECT_EQ(counts.at("qAlternative"), 5);
  // Possible customers equal the distinct customers of Nordic.
  EXPECT_EQ(eval_num(*p, doc, "Count(DISTINCT Customer)"), possible);
}

TEST_F(Model, SelectionsThroughTheFactTable) {
  auto p = connect();
  int doc = p->open();
  double total = eval_num(*p, doc, "=Sum(Sales)");
  EXPECT_DOUBLE_EQ(total, eval_num(*p, doc, "Sum(Quantity * UnitPrice)"));
  int cat = p->handle_of(p->call("GetField", doc, json::array{"Category"}));
  p->call("Select", cat, json::array{"Bikes"});
  double bikes = eval_num(*p, doc, "Sum(Sales)");
  EXPECT_LT(bikes, total);
  EXPECT_GT(bikes, 0);
  // Regions reachable only through orders of bikes: every region with such orders stays possible.
  int year = p->handle_of(p->call("GetField", doc, json::array{"Year"}));
  p->call("SelectValues", year,
          json::array{json::array{json::object{{"qText", "2023"}, {"qIsNumeric", true}, {"qNumber", 2023}}}});
  double bikes23 = eval_num(*p, doc, "Sum(Sales)");
  EXPECT_LT(bikes23, bikes);
  p->call("ClearAll", doc, json::array{});
  EXPECT_DOUBLE_EQ(eval_num(*p, doc, "Sum(Sales)"), total);
}

TEST_F(Model, HypercubeGroupsAndSumsToTotal) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(
      p->call("CreateSessionObject", doc,
              json::array{hypercube_props("hc", {"Region"},
                                          {"Sum(Sales)", "Count(DISTINCT CustomerId)", "Avg(Quantity)"})}));
  auto l = p->call("GetLayout", h)["qLayout"].at("qHyperCube");
  EXPECT_EQ(l.at("qSize").at("qcx"), 4);
  EXPECT_EQ(l.at("qSize").at("qcy"), 6);
  double sum = 0;
  std::string prev;
  for (auto& row : l.at("qDataPages").at(0).at("qMatrix").as_array()) {
    std::string region(row.at(0).at("qText").as_string());
    EXPECT_LT(prev, region) << "sorted by text";
    prev = region;
    EXPECT_EQ(row.at(0).at("qState"), "O");
    sum += row.at(1).at("qNum").to_number<double>();
    double avg = row.at(3).at("qNum").to_number<double>();
    EXPECT_GE(avg, 1);
    EXPECT_LE(avg, 20);
  }
  EXPECT_DOUBLE_EQ(sum, eval_num(*p, doc, "Sum(Sales)"));
  EXPECT_EQ(l.at("qDimensionInfo").at(0).at("qFallbackTitle"), "Region");
  EXPECT_EQ(l.at("qMeasureInfo").at(0).at("qFallbackTitle"), "Sum(Sales)");
}

TEST_F(Model, SelectHyperCubeValuesAndClearSelections) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(p->call("CreateSessionObject", doc,
                               json::array{hypercube_props("hc", {"Category", "Year"}, {"Sum(Sales)"})}));
  auto l = p->call("GetLayout", h)["qLayout"].at("qHyperCube");
  EXPECT_EQ(l.at("qSize").at("qcy"), 16);
  auto elem = l.at("qDataPages").at(0).at("qMatrix").at(0).at(0).at("qElemNumber");
  auto text = l.at("qDataPages").at(0).at("qMatrix").at(0).at(0).at("qText");
  EXPECT_EQ(p->call("SelectHyperCubeValues", h,
                    json::array{"/qHyperCubeDef", 0, json::array{elem}, false})["qSuccess"],
            true);
  auto l2 = p->call("GetLayout", h)["qLayout"].at("qHyperCube");
  EXPECT_EQ(l2.at("qSize").at("qcy"), 4);
  EXPECT_EQ(l2.at("qDataPages").at(0).at("qMatrix").at(0).at(0).at("qState"), "S");
  EXPECT_EQ(p->call("Evaluate", doc, json::array{"Only(Category)"})["qReturn"], text);
  p->call("ClearSelections", h, json::array{"/qHyperCubeDef"});
  EXPECT_EQ(p->call("GetLayout", h)["qLayout"].at("qHyperCube").at("qSize").at("qcy"), 16);
}

TEST_F(Model, ListObjectSelectToggleAndFieldMethods) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(p->call("CreateSessionObject", doc, json::array{listobject_props("lb", "Year")}));
  p->call("SelectListObjectValues", h, json::array{"/qListObjectDef", json::array{0, 1}, false});
  EXPECT_EQ(p->call("GetLayout", h)["qLayout"]
                .at("qListObject")
                .at("qDimensionInfo")
                .at("qStateCounts")
                .at("qSelected"),
            2);
  p->call("SelectListObjectValues", h, json::array{"/qListObjectDef", json::array{1}, true});
  auto s = states_of(*p, h);
  EXPECT_EQ(s["2022"], "S");
  EXPECT_EQ(s["2023"], "A");
  int fh = p->handle_of(p->call("GetField", doc, json::array{"Year"}));
  p->call("ToggleSelect", fh, json::array{"2025"});
  s = states_of(*p, h);
  EXPECT_EQ(s["2025"], "S");
  p->call("Lock", fh);
  EXPECT_EQ(p->call("Select", fh, json::array{"2024"})["qReturn"], false) << "locked";
  EXPECT_EQ(states_of(*p, h)["2022"], "L");
  p->call("Unlock", fh);
  p->call("Select", fh, json::array{"202*"});
  EXPECT_EQ(p->call("GetLayout", h)["qLayout"]
                .at("qListObject")
                .at("qDimensionInfo")
                .at("qStateCounts")
                .at("qSelected"),
            4);
  p->call("Clear", fh);
  int cat = p->handle_of(p->call("GetField", doc, json::array{"Category"}));
  p->call("Select", cat, json::array{"Bikes"});
  int region = p->handle_of(p->call("GetField", doc, json::array{"Product"}));
  p->call("SelectPossible", region);
  EXPECT_EQ(eval_num(*p, doc, "Count(DISTINCT Product)"), 10);
  p->call("SelectExcluded", region);
  EXPECT_EQ(eval_num(*p, doc, "Count(DISTINCT Product)"), 0) << "the excluded products are not bikes";
  p->call("SelectAll", region);
  EXPECT_EQ(p->call("GetCardinal", region)["qReturn"], 40);
}

TEST_F(Model, SelectionObjectListsCurrentSelections) {
  auto p = connect();
  int doc = p->open();
  json::object prop{{"qInfo", json::object{{"qId", "cs"}, {"qType", "CurrentSelections"}}},
                    {"qSelectionObjectDef", json::object{}}};
  int h = p->handle_of(p->call("CreateSessionObject", doc, json::array{prop}));
  EXPECT_TRUE(p->call("GetLayout", h)["qLayout"].at("qSelectionObject").at("qSelections").as_array().empty());
  int fh = p->handle_of(p->call("GetField", doc, json::array{"Region"}));
  auto sel = p->request("Select", fh, json::array{"Nordic"});
  EXPECT_TRUE(lists(sel, "change", h));
  auto sels = p->call("GetLayout", h)["qLayout"].at("qSelectionObject").at("qSelections").as_array();
  ASSERT_EQ(sels.size(), 1u);
  EXPECT_EQ(sels[0].at("qField"), "Region");
  EXPECT_EQ(sels[0].at("qSelected"), "Nordic");
  EXPECT_EQ(sels[0].at("qSelectedCount"), 1);
}

TEST_F(Model, AlternateStatesAreIndependent) {
  auto p = connect();
  int doc = p->open();
  json::value alt = listobject_props("alt", "Region");
  alt.as_object()["qListObjectDef"].as_object()["qStateName"] = "B";
  int ha = p->handle_of(p->call("CreateSessionObject", doc, json::array{alt}));
  int hd = p->handle_of(p->call("CreateSessionObject", doc, json::array{listobject_props("def", "Region")}));
  p->call("GetLayout", ha);
  p->call("GetLayout", hd);
  int fb = p->handle_of(p->call("GetField", doc, json::array{"Region", "B"}));
  auto sel = p->request("Select", fb, json::array{"UK"});
  EXPECT_TRUE(lists(sel, "change", ha));
  EXPECT_FALSE(lists(sel, "change", hd)) << "a selection in state B leaves $ objects valid";
  EXPECT_EQ(states_of(*p, ha)["UK"], "S");
  EXPECT_EQ(states_of(*p, hd)["UK"], "O") << "the default state has no selection";
  EXPECT_EQ(p->call("Evaluate", doc, json::array{"Count(DISTINCT Region)"})["qReturn"], "6");
  p->call("ClearAll", doc, json::array{false, "B"});
  EXPECT_EQ(states_of(*p, ha)["UK"], "O");
}

TEST_F(Model, AggregationFunctions) {
  auto p = connect();
  int doc = p->open();
  EXPECT_EQ(eval_num(*p, doc, "Count(OrderId)"), 2000);
  EXPECT_EQ(eval_num(*p, doc, "Count(DISTINCT Year)"), 4);
  EXPECT_EQ(eval_num(*p, doc, "Min(Year)"), 2022);
  EXPECT_EQ(eval_num(*p, doc, "Max(Quantity)"), 20);
  EXPECT_EQ(eval_num(*p, doc, "Count(Customer)"), 50);
  EXPECT_EQ(eval_num(*p, doc, "(Max(Year) - Min(Year)) / 3 + -1"), 0);
  EXPECT_DOUBLE_EQ(eval_num(*p, doc, "Avg(Quantity)"), eval_num(*p, doc, "Sum(Quantity)/Count(Quantity)"));
  EXPECT_EQ(p->call("Evaluate", doc, json::array{"Only(Year)"})["qReturn"], "-");
  EXPECT_EQ(p->call("Evaluate", doc, json::array{"='a' & 'b'"})["qReturn"], "ab");
  auto ex = p->call("EvaluateEx", doc, json::array{"'text'"})["qValue"];
  EXPECT_EQ(ex.at("qIsNumeric"), false);
  EXPECT_EQ(ex.at("qNumber"), "NaN");
}

TEST_F(Model, ExpressionErrorsHaveTheEngineShape) {
  auto p = connect();
  int doc = p->open();
  auto syntax = p->request("Evaluate", doc, json::array{"Sum(Sales"});
  ASSERT_TRUE(syntax.contains("error"));
  EXPECT_EQ(syntax["error"].at("code"), 7000);
  EXPECT_TRUE(syntax["error"].at("parameter").is_string());
  EXPECT_TRUE(syntax["error"].at("message").is_string());
  auto field = p->request("EvaluateEx", doc, json::array{"Sum(NoSuchField)"});
  EXPECT_EQ(field["error"].at("code"), 7000);
  EXPECT_NE(std::string(field["error"].at("parameter").as_string()).find("NoSuchField"), std::string::npos);
  int h = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{hypercube_props("bad", {"Nope"}, {"Sum(Sales)"})}));
  auto l = p->call("GetLayout", h)["qLayout"].at("qHyperCube");
  EXPECT_TRUE(l.as_object().contains("qError"));
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("qix-sim-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path path() const { return path_; }
  void write(const std::string& rel, const std::string& text) {
    auto p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }

 private:
  std::filesystem::path path_;
};

TEST_F(Model, CsvAppsLinkTablesByFieldName) {
  TempDir dir;
  dir.write("shop/items.csv",
            "Item,Colour,Price\r\nhat,red,10\r\nscarf,\"blue, dark\",25.5\r\nsock,red,3\r\n");
  dir.write("shop/sales.csv", "Item,Qty\nhat,2\nhat,1\nsock,10\n");
  dir.write("other/t.csv", "A\n1\n");
  Options o;
  o.data_dir = dir.path().string();
  start(o);
  auto p = connect("/app/shop");
  auto docs = p->call("GetDocList", -1)["qDocList"].as_array();
  EXPECT_EQ(docs.size(), 2u);
  int doc = p->open("shop");
  EXPECT_EQ(eval_num(*p, doc, "Sum(Qty * Price)"), 2 * 10 + 10 + 10 * 3);
  int colour = p->handle_of(p->call("GetField", doc, json::array{"Colour"}));
  p->call("Select", colour, json::array{"blue, dark"});
  EXPECT_EQ(eval_num(*p, doc, "Sum(Qty)"), 0);
  EXPECT_EQ(p->call("Evaluate", doc, json::array{"Only(Item)"})["qReturn"], "scarf");
  p->call("Select", colour, json::array{"red"});
  EXPECT_EQ(eval_num(*p, doc, "Sum(Qty)"), 13);
  EXPECT_EQ(eval_num(*p, doc, "Max(Price)"), 10);
}

TEST_F(Model, DataPagesSentAsTheyAreEqualTheDeltaPathsPages) {
  // An answer without delta has its data pages written as text (render.cpp, pages_text), one with delta has
  // them built as JSON (pages) and sent whole as its first "add": the same pages, value for value and kind
  // for kind, for every cell the simulator writes (escapes, non-ASCII, NULLs, integers, fractions, large
  // numbers, states after a selection, several pages, a page past the end) and the same error.
  TempDir dir;
  dir.write("odd/t.csv",
            "Name,Amount\n"
            "\"quote \"\"q\"\" and \\ back\",1.5\n"
            "tab\there / slash,-2\n"
            "\xc3\xa9 \xc3\xbc \xf0\x9f\x98\x80,1e20\n"
            "plain,0.1\n"
            ",3\n"
            "empty amount,\n"
            "42,7\n"
            "ctl \x01 char,0\n");
  Options o;
  o.data_dir = dir.path().string();
  start(o);
  auto p = connect("/app/odd");
  int doc = p->open("odd");
  int name = p->handle_of(p->call("GetField", doc, json::array{"Name"}));
  p->call("Select", name, json::array{"plain"});
  json::array pages{json::object{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 2}, {"qHeight", 100}},
                    json::object{{"qTop", 2}, {"qLeft", 1}, {"qWidth", 1}, {"qHeight", 3}},
                    json::object{{"qTop", 50}, {"qLeft", 0}, {"qWidth", 2}, {"qHeight", 5}}};
  auto same = [&](const std::string& method, const std::string& path, const json::object& props) {
    int plain = p->handle_of(p->call("CreateSessionObject", doc, json::array{props}));
    int patched = p->handle_of(p->call("CreateSessionObject", doc, json::array{props}));
    auto text = p->request(method, plain, json::array{path, pages});
    auto dom = p->request(method, patched, json::array{path, pages}, true);
    ASSERT_TRUE(text.contains("result")) << json::serialize(text);
    ASSERT_EQ(dom["delta"], true) << json::serialize(dom);
    const auto& add = dom["result"].at("qDataPages").at(0);
    ASSERT_EQ(add.at("op"), "add");
    EXPECT_EQ(text["result"].at("qDataPages"), add.at("value")) << method;
    EXPECT_EQ(json::serialize(text["result"].at("qDataPages")), json::serialize(add.at("value"))) << method;
    EXPECT_EQ(text["result"].as_object().size(), 1u);
    json::array too_large{json::object{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 2}, {"qHeight", 5001}}};
    auto e1 = p->request(method, plain, json::array{path, too_large});
    auto e2 = p->request(method, patched, json::array{path, too_large}, true);
    ASSERT_TRUE(e1.contains("error")) << json::serialize(e1);
    EXPECT_EQ(e1["error"], e2["error"]);
  };
  json::object hc = hypercube_props("hc", {"Name"}, {"Sum(Amount)"}).as_object();
  same("GetHyperCubeData", "/qHyperCubeDef", hc);
  json::object lo{{"qInfo", json::object{{"qType", "lb"}}},
                  {"qListObjectDef", json::object{{"qDef", json::object{{"qFieldDefs", json::array{"Name"}}}},
                                                  {"qShowAlternatives", true}}}};
  same("GetListObjectData", "/qListObjectDef", lo);
}

TEST_F(Model, OneCellDeltaInTenThousandCellPageIsSmall) {
  TempDir dir;
  std::string csv = "Id,Grp\n";
  for (int i = 0; i < 10000; ++i) csv += std::to_string(i) + (i == 4321 ? ",b\n" : ",a\n");
  dir.write("big/facts.csv", csv);
  Options o;
  o.data_dir = dir.path().string();
  start(o);
  auto p = connect("/app/big");
  int doc = p->open("big");
  int grp = p->handle_of(p->call("GetField", doc, json::array{"Grp"}));
  p->call("Select", grp, json::array{"*"});
  json::object lo{{"qDef", json::object{{"qFieldDefs", json::array{"Id"}}}}};
  int h =
      p->handle_of(p->call("CreateSessionObject", doc,
                           json::array{json::object{{"qInfo", json::object{{"qId", "ids"}, {"qType", "lb"}}},
                                                    {"qListObjectDef", lo}}}));
  json::array pages{json::object{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 1}, {"qHeight", 10000}}};
  auto first = p->request("GetListObjectData", h, json::array{"/qListObjectDef", pages}, true);
  ASSERT_EQ(first["delta"], true) << json::serialize(first).substr(0, 300);
  EXPECT_GT(json::serialize(first).size(), 100000u);
  p->call("Select", grp, json::array{"a"});
  auto second = p->request("GetListObjectData", h, json::array{"/qListObjectDef", pages}, true);
  std::string text = json::serialize(second);
  EXPECT_LT(text.size(), 1024u) << text;
  auto ops = second["result"].at("qDataPages").as_array();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].at("op"), "replace");
  EXPECT_EQ(ops[0].at("path"), "/0/qMatrix/4321/0/qState");
  EXPECT_EQ(ops[0].at("value"), "X");
}

}  // namespace
}  // namespace qix::sim::test
