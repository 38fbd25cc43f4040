// Protocol rules of the simulator over real sockets: greeting, handles, params, errors, change/close
// tracking, delta, sessions.
#include <map>

#include "sim_peer.hpp"

#include "json/json_patch.hpp"

namespace qix::sim::test {
namespace {

using Protocol = SimTest;

TEST_F(Protocol, GreetsWithOnConnectedSessionCreated) {
  Peer p(server());
  auto g = p.greeting();
  EXPECT_EQ(g["method"], "OnConnected");
  EXPECT_EQ(g["params"].at("qSessionState"), "SESSION_CREATED");
  EXPECT_FALSE(g.contains("id"));
}

TEST_F(Protocol, NoActiveDocumentIs1007) {
  auto p = connect();
  auto f = p->request("GetActiveDoc", -1);
  ASSERT_TRUE(f.contains("error"));
  EXPECT_EQ(f["error"].at("code"), 1007);
  EXPECT_EQ(f["error"].at("parameter"), "No active document");
  EXPECT_EQ(f["error"].at("message"), "App invalid");
}

TEST_F(Protocol, OpenDocListsTheNewHandleAndRefusesASecondOpen) {
  auto p = connect();
  auto f = p->request("OpenDoc", -1, json::array{"demo"});
  ASSERT_TRUE(f.contains("result")) << json::serialize(f);
  auto ret = f["result"].at("qReturn").as_object();
  EXPECT_EQ(ret["qType"], "Doc");
  EXPECT_EQ(ret["qHandle"], 1);
  EXPECT_EQ(ret["qGenericId"], "demo");
  EXPECT_TRUE(lists(f, "change", 1));
  auto again = p->request("OpenDoc", -1, json::array{"demo"});
  EXPECT_EQ(again["error"].at("code"), 1002);
  auto active = p->call("GetActiveDoc", -1);
  EXPECT_EQ(active["qReturn"].at("qHandle"), 1);
}

TEST_F(Protocol, MissingAppIs1003) {
  auto p = connect("/app/nope");
  auto f = p->request("OpenDoc", -1, json::array{"nope"});
  EXPECT_EQ(f["error"].at("code"), 1003);
  EXPECT_EQ(f["error"].at("message"), "App not found");
}

TEST_F(Protocol, NamedParamsAndDefaults) {
  auto p = connect();
  auto r = p->call("OpenDoc", -1, json::object{{"qDocName", "demo"}});
  EXPECT_EQ(r["qReturn"].at("qHandle"), 1);
  auto f = p->call("GetField", 1, json::object{{"qFieldName", "Region"}});
  EXPECT_EQ(f["qReturn"].at("qType"), "Field");
  auto card = p->call("GetCardinal", p->handle_of(f), json::array{});
  EXPECT_EQ(card["qReturn"], 6);
}

TEST_F(Protocol, UnknownMethodBadParamsBadHandle) {
  auto p = connect();
  auto f = p->request("NoSuchMethod", -1);
  EXPECT_EQ(f["error"].at("code"), -32601);
  auto g = p->request("OpenDoc", -1, json::array{});
  EXPECT_EQ(g["error"].at("code"), -32602);
  auto h = p->request("GetLayout", 42);
  EXPECT_EQ(h["error"].at("code"), -32602);
  auto broken = p->request("GetAppLayout", -1);  // a Doc method on the Global handle
  EXPECT_EQ(broken["error"].at("code"), -32601);
  p->ws().send("{not json");
  auto e = p->next();
  EXPECT_EQ(e["error"].at("code"), -32700);
}

TEST_F(Protocol, GlobalMethods) {
  auto p = connect();
  EXPECT_EQ(p->call("EngineVersion", -1)["qVersion"].at("qComponentVersion"), "12.2528.0");
  EXPECT_TRUE(p->call("ProductVersion", -1)["qReturn"].is_string());
  EXPECT_EQ(p->call("IsDesktopMode", -1)["qReturn"], false);
  EXPECT_TRUE(p->call("QTProduct", -1)["qReturn"].is_string());
  EXPECT_TRUE(p->call("OSName", -1)["qReturn"].is_string());
  EXPECT_TRUE(p->call("GetUniqueID", -1)["qUniqueID"].is_string());
  EXPECT_TRUE(p->call("CancelRequest", -1, json::array{99}).empty());
  auto docs = p->call("GetDocList", -1)["qDocList"].as_array();
  bool has_demo = false;
  for (auto& d : docs) has_demo |= d.at("qDocName") == "demo";
  EXPECT_TRUE(has_demo);
}

TEST_F(Protocol, CreateSessionAppHasNoGenericId) {
  auto p = connect("/");
  auto r = p->call("CreateSessionApp", -1);
  EXPECT_TRUE(r["qSessionAppId"].as_string().starts_with("SessionApp_"));
  EXPECT_FALSE(r["qReturn"].as_object().contains("qGenericId"));
  auto v = p->call("Evaluate", 1, json::array{"=1+2*3"});
  EXPECT_EQ(v["qReturn"], "7");
}

TEST_F(Protocol, GetObjectOfMissingIdReturnsNullHandle) {
  auto p = connect();
  int doc = p->open();
  auto r = p->call("GetObject", doc, json::array{"missing"});
  EXPECT_TRUE(r["qReturn"].at("qHandle").is_null());
  EXPECT_TRUE(r["qReturn"].at("qType").is_null());
  auto v = p->call("GetVariableByName", doc, json::array{"nope"});
  EXPECT_TRUE(v["qReturn"].at("qHandle").is_null());
}

TEST_F(Protocol, ChangeOnlyOnValidToInvalidEdge) {
  auto p = connect();
  int doc = p->open();
  auto created =
      p->request("CreateSessionObject", doc, json::array{hypercube_props("hc", {"Region"}, {"Sum(Sales)"})});
  int h = p->handle_of(created["result"].as_object());
  EXPECT_TRUE(lists(created, "change", h));  // listed at once
  p->call("GetLayout", h);                   // valid again
  auto field = p->call("GetField", doc, json::array{"Region"});
  int fh = p->handle_of(field);
  auto sel = p->request("Select", fh, json::array{"Nordic"});
  EXPECT_TRUE(lists(sel, "change", h));
  auto sel2 = p->request("Select", fh, json::array{"DACH"});
  EXPECT_FALSE(lists(sel2, "change", h)) << "still invalid: no second change";
  p->call("GetLayout", h);
  auto sel3 = p->request("Clear", fh);
  EXPECT_TRUE(lists(sel3, "change", h));
  // A selection that changes nothing invalidates nothing.
  p->call("GetLayout", h);
  auto same = p->request("Clear", fh);
  EXPECT_FALSE(lists(same, "change", h));
}

TEST_F(Protocol, PersistentObjectChangeIsPushedToOtherSessions) {
  auto a = connect();
  auto b = connect();
  int da = a->open(), db = b->open();
  auto created =
      a->call("CreateObject", da, json::array{hypercube_props("shared", {"Region"}, {"Sum(Sales)"})});
  EXPECT_EQ(created["qInfo"].at("qId"), "shared");
  int ha = a->handle_of(created);
  auto got = b->call("GetObject", db, json::array{"shared"});
  int hb = b->handle_of(got);
  a->call("GetLayout", ha);
  b->call("GetLayout", hb);
  auto props = a->call("GetProperties", ha)["qProp"];
  props.as_object()["title"] = "changed";
  auto set = a->request("SetProperties", ha, json::array{props});
  EXPECT_TRUE(lists(set, "change", ha));
  auto pushed = b->next();
  EXPECT_FALSE(pushed.contains("id"));
  EXPECT_TRUE(lists(pushed, "change", hb));
  auto layout = b->call("GetLayout", hb);
  EXPECT_EQ(layout["qLayout"].at("title"), "changed");
  auto infos = b->call("GetAllInfos", db)["qInfos"].as_array();
  ASSERT_EQ(infos.size(), 2u) << "the demo app's sales-by-region and this one";
  EXPECT_EQ(infos[1].at("qId"), "shared");
}

TEST_F(Protocol, DestroyListsClosedHandles) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(p->call("CreateSessionObject", doc, json::array{listobject_props("lb", "Region")}));
  auto d = p->request("DestroySessionObject", doc, json::array{"lb"});
  EXPECT_EQ(d["result"].at("qSuccess"), true);
  EXPECT_TRUE(lists(d, "close", h));
  auto gone = p->request("GetLayout", h);
  EXPECT_TRUE(gone.contains("error"));
  auto again = p->call("DestroySessionObject", doc, json::array{"lb"});
  EXPECT_EQ(again["qSuccess"], false);
}

TEST_F(Protocol, DestroyObjectClosesInOtherSessions) {
  auto a = connect();
  auto b = connect();
  int da = a->open(), db = b->open();
  a->call("CreateObject", da, json::array{listobject_props("p1", "Region")});
  int hb = b->handle_of(b->call("GetObject", db, json::array{"p1"}));
  auto d = a->call("DestroyObject", da, json::array{"p1"});
  EXPECT_EQ(d["qSuccess"], true);
  auto pushed = b->next();
  EXPECT_TRUE(lists(pushed, "close", hb));
}

TEST_F(Protocol, DeltaFirstAddThenEmptyThenSmallPatch) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{hypercube_props("hc", {"Region"}, {"Sum(Sales)"})}));
  auto first = p->request("GetLayout", h, json::array{}, true);
  EXPECT_EQ(first["delta"], true);
  auto patch = first["result"].at("qLayout").as_array();
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0].at("op"), "add");
  EXPECT_EQ(patch[0].at("path"), "/");
  auto second = p->request("GetLayout", h, json::array{}, true);
  EXPECT_TRUE(second["result"].at("qLayout").as_array().empty());
  int fh = p->handle_of(p->call("GetField", doc, json::array{"Region"}));
  p->call("Select", fh, json::array{"Nordic"});
  auto third = p->request("GetLayout", h, json::array{}, true);
  auto ops = third["result"].at("qLayout").as_array();
  EXPECT_FALSE(ops.empty());
  for (auto& op : ops) EXPECT_NE(op.at("path"), "/");
}

TEST_F(Protocol, DeltaPatchesRebuildTheFullResult) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(
      p->call("CreateSessionObject", doc,
              json::array{hypercube_props("hc", {"Category", "Year"}, {"Sum(Sales)", "Count(OrderId)"})}));
  int fh = p->handle_of(p->call("GetField", doc, json::array{"Year"}));
  json::value held;
  for (const char* year : {"", "2022", "2023", "2024", "", "2025"}) {
    if (*year)
      p->call("Select", fh, json::array{year});
    else
      p->call("Clear", fh);
    auto d = p->request("GetLayout", h, json::array{}, true);
    std::string err;
    ASSERT_TRUE(core::json_patch::apply(held, d["result"].at("qLayout").as_array(), &err)) << err;
    auto full = p->call("GetLayout", h)["qLayout"];
    EXPECT_TRUE(core::json_patch::values_equal(held, full)) << year;
  }
}

TEST_F(Protocol, PagesOverTenThousandCellsAre7009) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{hypercube_props("hc", {"OrderId"}, {"Sum(Sales)"})}));
  json::array pages{json::object{{"qTop", 0}, {"qLeft", 0}, {"qWidth", 2}, {"qHeight", 5001}}};
  auto f = p->request("GetHyperCubeData", h, json::array{"/qHyperCubeDef", pages});
  EXPECT_EQ(f["error"].at("code"), 7009);
  json::array ok{json::object{{"qTop", 10}, {"qLeft", 0}, {"qWidth", 2}, {"qHeight", 5000}}};
  auto r = p->call("GetHyperCubeData", h, json::array{"/qHyperCubeDef", ok});
  auto& page = r["qDataPages"].at(0);
  EXPECT_EQ(page.at("qMatrix").as_array().size(), 1990u);
  EXPECT_EQ(page.at("qArea").at("qHeight"), 1990);
}

TEST_F(Protocol, ReconnectWithinTtlAttaches) {
  auto first = connect("/app/demo/identity/u1/ttl/30");
  int doc = first->open();
  int fh = first->handle_of(first->call("GetField", doc, json::array{"Region"}));
  first->call("Select", fh, json::array{"Nordic"});
  first->call("CreateSessionObject", doc, json::array{listobject_props("keep", "Region")});
  first.reset();
  // Wait until the server saw the disconnect.
  ASSERT_TRUE(server().wait_connection_count(0, std::chrono::seconds(30)));
  Peer again(server(), "/app/demo/identity/u1/ttl/30");
  EXPECT_EQ(again.greeting()["params"].at("qSessionState"), "SESSION_ATTACHED");
  EXPECT_TRUE(again.request("GetAppLayout", doc).contains("error")) << "old handles are gone";
  int doc2 = again.handle_of(again.call("GetActiveDoc", -1));
  auto obj = again.call("GetObject", doc2, json::array{"keep"});
  EXPECT_FALSE(obj["qReturn"].at("qHandle").is_null());
  auto all = again.call("Evaluate", doc2, json::array{"Only(Region)"});
  EXPECT_EQ(all["qReturn"], "Nordic") << "selections survive the attach";
  Peer other(server(), "/app/demo/identity/u2/ttl/30");
  EXPECT_EQ(other.greeting()["params"].at("qSessionState"), "SESSION_CREATED");
}

TEST_F(Protocol, NoAttachWithoutTtl) {
  {
    auto p = connect("/app/demo/identity/u1");
    p->open();
  }
  ASSERT_TRUE(server().wait_connection_count(0, std::chrono::seconds(30)));
  Peer again(server(), "/app/demo/identity/u1");
  EXPECT_EQ(again.greeting()["params"].at("qSessionState"), "SESSION_CREATED");
}

TEST_F(Protocol, ApplyPatchesAndGetInfo) {
  auto p = connect();
  int doc = p->open();
  int h = p->handle_of(
      p->call("CreateSessionObject", doc, json::array{hypercube_props("hc", {"Region"}, {"Sum(Sales)"})}));
  p->call("GetLayout", h);
  json::array patches{json::object{{"qOp", "add"}, {"qPath", "/title"}, {"qValue", "\"hello\""}},
                      json::object{{"qOp", "replace"},
                                   {"qPath", "/qHyperCubeDef/qMeasures/0/qDef/qDef"},
                                   {"qValue", "\"Count(OrderId)\""}}};
  auto f = p->request("ApplyPatches", h, json::array{patches, false});
  EXPECT_TRUE(lists(f, "change", h));
  auto l = p->call("GetLayout", h)["qLayout"].as_object();
  EXPECT_EQ(l["title"], "hello");
  auto& rows = l["qHyperCube"].at("qDataPages").at(0).at("qMatrix").as_array();
  double total = 0;
  for (auto& r : rows) total += r.at(1).at("qNum").to_number<double>();
  EXPECT_EQ(total, 2000);
  auto info = p->call("GetInfo", h)["qInfo"];
  EXPECT_EQ(info.at("qId"), "hc");
  EXPECT_EQ(info.at("qType"), "table");
}

TEST_F(Protocol, VariablesAndExpressionsInLayouts) {
  auto p = connect();
  int doc = p->open();
  json::object vprop{{"qInfo", json::object{{"qId", "v1"}, {"qType", "variable"}}},
                     {"qName", "vTarget"},
                     {"qDefinition", "42"}};
  int vh = p->handle_of(p->call("CreateSessionVariable", doc, json::array{vprop}));
  EXPECT_EQ(p->call("GetLayout", vh)["qLayout"].at("qNum"), 42);
  p->call("SetStringValue", vh, json::array{"=Count(DISTINCT Region)"});
  EXPECT_EQ(p->call("GetLayout", vh)["qLayout"].at("qText"), "6");
  p->call("SetNumValue", vh, json::array{3.5});
  EXPECT_EQ(p->call("GetLayout", vh)["qLayout"].at("qText"), "3.5");
  EXPECT_EQ(p->handle_of(p->call("GetVariableByName", doc, json::array{"vTarget"})), vh);
  EXPECT_EQ(p->handle_of(p->call("GetVariableById", doc, json::array{"v1"})), vh);
  json::object gprop{
      {"qInfo", json::object{{"qId", "kpi"}, {"qType", "kpi"}}},
      {"label",
       json::object{{"qStringExpression", json::object{{"qExpr", "='Regions: ' & Count(DISTINCT Region)"}}}}},
      {"value", json::object{{"qValueExpression", json::object{{"qExpr", "=Count(Region)"}}}}}};
  int kh = p->handle_of(p->call("CreateSessionObject", doc, json::array{gprop}));
  auto l = p->call("GetLayout", kh)["qLayout"];
  EXPECT_EQ(l.at("label"), "Regions: 6");
  EXPECT_EQ(l.at("value"), 6);
}

TEST_F(Protocol, TablesAndKeys) {
  auto p = connect();
  int doc = p->open();
  auto r = p->call("GetTablesAndKeys", doc,
                   json::array{json::object{{"qcx", 0}, {"qcy", 0}}, json::object{{"qcx", 0}, {"qcy", 0}}, 0,
                               false, false});
  EXPECT_EQ(r["qtr"].as_array().size(), 4u);
  EXPECT_EQ(r["qk"].as_array().size(), 3u);  // Region, CustomerId, ProductId
  // Field tags as the engine sets them: $key for linking fields, $numeric/$integer when every value is a
  // (whole) number, else $ascii/$text.
  std::map<std::string, json::value> tags;
  for (const auto& t : r["qtr"].as_array())
    for (const auto& f : t.at("qFields").as_array())
      tags[std::string(f.at("qName").as_string())] = f.at("qTags");
  EXPECT_EQ(tags.at("Region"), json::value(json::array{"$key", "$ascii", "$text"}));
  EXPECT_EQ(tags.at("CustomerId"), json::value(json::array{"$key", "$numeric", "$integer"}));
  EXPECT_EQ(tags.at("Quantity"), json::value(json::array{"$numeric", "$integer"}));
  EXPECT_EQ(tags.at("Customer"), json::value(json::array{"$ascii", "$text"}));
  auto app = p->call("GetAppLayout", doc)["qLayout"];
  EXPECT_EQ(app.at("qTitle"), "Demo sales");
  EXPECT_TRUE(p->call("GetAppProperties", doc)["qProp"].is_object());
}

}  // namespace
}  // namespace qix::sim::test
