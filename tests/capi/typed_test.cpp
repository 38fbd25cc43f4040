// Tests of the typed C++ Engine API (qix/api.hpp) over libqix.so: the method manifest against the
// specification (QIX_SPEC_RPC, passed in by CMake), and typed calls of all 9 classes against the simulator:
// selections, hypercube paging, variables, futures, "not found", engine errors and a properties round trip
// that keeps an unknown member.
#include "qix/api.hpp"

#include "capi_support.hpp"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace api = qix::api;
namespace json = qix::json;
using qix::test::Waiter;

TEST(TypedManifest, EveryMethodOfTheSpecification) {
  std::ifstream in(QIX_SPEC_RPC);
  ASSERT_TRUE(in) << QIX_SPEC_RPC;
  std::stringstream text;
  text << in.rdbuf();
  json::value spec = json::parse(text.str());
  std::set<std::string> wanted;
  for (const json::value& m : spec["methods"].as_array()) wanted.insert(m["name"].as_string());
  std::set<std::string> have;
  for (const api::MethodInfo& m : api::methods) have.insert(std::string(m.cls) + "." + m.name);
  EXPECT_EQ(std::size(api::methods), have.size()) << "a method is listed twice";
  EXPECT_EQ(have, wanted);
  EXPECT_EQ(wanted.size(), 336u);
}

class Typed : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_.start();
    qix::Options o;
    o.set("url", sim_.url() + "/app/demo");
    session_ = std::make_unique<api::Session>(o, 10000);
  }
  void TearDown() override {
    session_.reset();
    sim_.stop();
  }
  // A hypercube Region x Sum(Sales), built as typed structs, with a member of our own.
  static api::GenericObjectProperties cube_props(const std::string& id) {
    api::NxInlineDimensionDef dim;
    dim.field_defs = std::vector<std::string>{"Region"};
    api::NxInlineMeasureDef measure;
    measure.def = "Sum(Sales)";
    api::HyperCubeDef def;
    def.dimensions.emplace(1);
    def.dimensions->at(0).def = dim;
    def.measures.emplace(1);
    def.measures->at(0).def = measure;
    api::NxPage page;
    page.top = 0;
    page.left = 0;
    page.width = 2;
    page.height = 3;
    def.initial_data_fetch = std::vector<api::NxPage>{page};
    api::GenericObjectProperties p;
    p.info = api::NxInfo{id, std::string("table")};
    p.hyper_cube_def = def;
    p.extra.set("myMember", json::parse(R"({"kept":[1,"two",null]})"));
    return p;
  }
  qix::sim::Server sim_{qix::sim::Options{}};
  std::unique_ptr<api::Session> session_;
};

std::string text_of(const api::NxCell& c) {
  return c.text.value_or("-");
}

TEST_F(Typed, GlobalAndDoc) {
  api::Global global = session_->global();
  EXPECT_FALSE(global.engine_version().component_version.value_or("").empty());  // 1
  EXPECT_FALSE(global.product_version().empty());                                // 2
  EXPECT_FALSE(global.qt_product().empty());                                     // 3
  EXPECT_FALSE(global.os_name().empty());                                        // 4
  EXPECT_FALSE(global.is_desktop_mode());                                        // 5
  EXPECT_FALSE(global.get_unique_id().empty());                                  // 6
  bool demo = false;
  for (const api::DocListEntry& e : global.get_doc_list()) demo |= e.doc_id == "demo";  // 7
  EXPECT_TRUE(demo);

  // An engine error surfaces as qix::Error.
  try {
    global.open_doc("no-such-app");  // 8
    FAIL() << "no exception";
  } catch (const qix::Error& e) {
    EXPECT_EQ(e.status(), QIX_EENGINE);
    EXPECT_EQ(e.engine_code(), 1003);
  }
  api::Doc doc = global.open_doc("demo");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc.type(), "Doc");
  api::Doc active = global.get_active_doc();  // 9
  EXPECT_EQ(active.handle(), doc.handle());

  EXPECT_EQ(doc.evaluate("1+2"), "3");          // 10
  api::FieldValue v = doc.evaluate_ex("2*21");  // 11
  EXPECT_EQ(v.number.value_or(0), 42);
  EXPECT_TRUE(v.is_numeric.value_or(false));
  api::NxAppLayout app = doc.get_app_layout();  // 12
  EXPECT_TRUE(app.title.has_value());
  EXPECT_TRUE(doc.get_app_properties().extra.size() + 1 > 0);  // 13 (open struct: decodes whatever comes)
  bool chart = false;
  for (const api::NxInfo& i : doc.get_all_infos()) chart |= i.id == "sales-by-region";  // 14
  EXPECT_TRUE(chart);
  api::GetTablesAndKeysResult tk = doc.get_tables_and_keys(api::Size{}, api::Size{}, 0, false, false);  // 15
  ASSERT_TRUE(tk.tr.has_value());
  EXPECT_EQ(tk.tr->size(), 4u);

  // "Not found" is an empty object, never an exception.
  api::GenericObject missing = doc.get_object("no-such-object");  // 16
  EXPECT_FALSE(missing);
  EXPECT_TRUE(missing.empty());
  api::GenericObject persistent = doc.get_object("sales-by-region");
  ASSERT_TRUE(persistent);
  EXPECT_EQ(persistent.get_info().type, "barchart");  // 17

  // Futures.
  auto f = doc.evaluate_async("Sum(Sales)");
  EXPECT_EQ(f.get(), "5617035");
  auto bad = global.open_doc_async("no-such-app");
  EXPECT_THROW(bad.get(), qix::Error);
  auto none = doc.get_object_async("no-such-object");
  EXPECT_FALSE(none.get());
}

TEST_F(Typed, HypercubeSelectionsAndPaging) {
  api::Doc doc = session_->open_doc("demo");
  api::GenericObject cube = doc.create_session_object(cube_props("typed-cube"));  // 18
  ASSERT_TRUE(cube);
  EXPECT_EQ(cube.generic_id(), "typed-cube");

  api::GenericObjectLayout layout = cube.get_layout();  // 19
  ASSERT_TRUE(layout.hyper_cube && layout.hyper_cube->size && layout.hyper_cube->data_pages);
  EXPECT_EQ(layout.hyper_cube->size->cy.value_or(0), 6);
  const auto& first = layout.hyper_cube->data_pages->at(0).matrix.value();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(layout.extra.at("myMember"), json::parse(R"({"kept":[1,"two",null]})"));

  // Paging: rows 3..5.
  api::NxPage page;
  page.top = 3;
  page.left = 0;
  page.width = 2;
  page.height = 3;
  std::vector<api::NxDataPage> pages = cube.get_hyper_cube_data("/qHyperCubeDef", {page});  // 20
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(pages[0].matrix->size(), 3u);
  EXPECT_EQ(pages[0].area->top.value_or(-1), 3);
  std::string region = text_of(first.at(0).at(0));

  // A selection through a Field invalidates the cube: wait for its "changed" event.
  Waiter changed;
  struct Listener : qix::ObjectListener {
    explicit Listener(Waiter& w) : w_(w) {}
    void on_changed() override { w_.notify(); }
    Waiter& w_;
  } listener(changed);
  cube.add_listener(&listener);
  api::Field field = doc.get_field("Region");  // 21
  ASSERT_TRUE(field);
  EXPECT_EQ(field.get_cardinal(), 6);  // 22
  EXPECT_TRUE(field.select(region));   // 23
  ASSERT_TRUE(changed.wait_for(1));
  api::GenericObjectLayout selected = cube.get_layout();
  ASSERT_EQ(selected.hyper_cube->size->cy.value_or(0), 1);
  EXPECT_EQ(text_of(selected.hyper_cube->data_pages->at(0).matrix->at(0).at(0)), region);
  EXPECT_EQ(selected.hyper_cube->data_pages->at(0).matrix->at(0).at(0).state->value,
            api::StateEnumType::selected);

  EXPECT_TRUE(field.toggle_select(region));  // 24
  ASSERT_TRUE(changed.wait_for(2));
  EXPECT_EQ(cube.get_layout().hyper_cube->size->cy.value_or(0), 6);  // fetching the layout re-arms "changed"
  api::FieldValue fv;
  fv.text = region;
  EXPECT_TRUE(field.select_values({fv}));  // 25
  ASSERT_TRUE(changed.wait_for(3));
  EXPECT_EQ(cube.get_layout().hyper_cube->size->cy.value_or(0), 1);
  EXPECT_TRUE(field.clear());  // 26
  ASSERT_TRUE(changed.wait_for(4));
  EXPECT_TRUE(field.select_all());       // 27
  EXPECT_TRUE(field.lock());             // 28
  EXPECT_TRUE(field.unlock());           // 29
  EXPECT_TRUE(field.select_possible());  // 30
  EXPECT_TRUE(field.select_excluded());  // 31 (nothing excluded: still true)
  doc.clear_all();                       // 32
  int before = changed.count();
  // Select in the cube itself (column 0, the first row's element number).
  std::int32_t elem = cube.get_layout().hyper_cube->data_pages->at(0).matrix->at(0).at(0).elem_number.value();
  EXPECT_TRUE(cube.select_hyper_cube_values("/qHyperCubeDef", 0, {elem}, false));  // 33
  ASSERT_TRUE(changed.wait_for(before + 1));
  cube.clear_selections("/qHyperCubeDef");  // 34
  cube.remove_listener(&listener);
  EXPECT_TRUE(doc.destroy_session_object("typed-cube"));  // 35
}

TEST_F(Typed, PropertiesRoundTripKeepsUnknownMembers) {
  api::Doc doc = session_->open_doc("demo");
  api::GenericObject cube = doc.create_session_object(cube_props("rt"));
  api::GenericObjectProperties props = cube.get_properties();  // 36
  ASSERT_NE(props.extra.find("myMember"), nullptr);
  ASSERT_TRUE(props.hyper_cube_def.has_value());
  props.extra.set("another", json::value(2.5));
  props.hyper_cube_def->initial_data_fetch->at(0).height = 1;
  cube.set_properties(props);  // 37
  // Read back as raw JSON: the unknown members are there, and so is the typed change.
  json::value raw = json::parse(cube.call("GetProperties", "{}").raw());
  const json::value& p = raw["qProp"];
  EXPECT_EQ(p["myMember"], json::parse(R"({"kept":[1,"two",null]})"));
  EXPECT_EQ(p["another"].as_double(), 2.5);
  EXPECT_EQ(p["qHyperCubeDef"]["qInitialDataFetch"][0]["qHeight"].as_int(), 1);
  // Members the typed struct did not set stay absent.
  EXPECT_EQ(p.find("qExtendsId"), nullptr);
  EXPECT_EQ(cube.get_properties().extra.size(), 2u);
}

TEST_F(Typed, VariablesAndClassesTheSimulatorLacks) {
  api::Doc doc = session_->open_doc("demo");
  api::GenericVariableProperties vp;
  vp.name = "vTyped";
  vp.definition = "=1+1";
  api::GenericVariable var = doc.create_session_variable(vp);  // 38
  ASSERT_TRUE(var);
  EXPECT_EQ(var.get_layout().text.value_or(""), "2");  // 39
  var.set_string_value("hello");                       // 40
  EXPECT_EQ(var.get_layout().text.value_or(""), "hello");
  var.set_num_value(2.5);  // 41
  EXPECT_EQ(var.get_layout().num.value_or(0), 2.5);
  EXPECT_EQ(var.get_properties().name.value_or(""), "vTyped");        // 42
  api::GenericVariable by_name = doc.get_variable_by_name("vTyped");  // 43
  ASSERT_TRUE(by_name);
  std::string id = var.generic_id();
  EXPECT_TRUE(doc.get_variable_by_id(id));          // 44
  EXPECT_FALSE(doc.get_variable_by_name("vNone"));  // not found: empty

  // GenericDimension, GenericMeasure, GenericBookmark and Variable: the simulator has none of their
  // methods; a call through the typed class reaches it and its engine error is a qix::Error.
  qix::Object any = doc.get_object("sales-by-region");
  auto engine_error = [](auto&& call) {
    try {
      call();
    } catch (const qix::Error& e) {
      return e.status() == QIX_EENGINE && e.engine_code() == -32601;
    }
    return false;
  };
  EXPECT_TRUE(engine_error([&] { api::GenericDimension(any).get_dimension(); }));  // 45
  EXPECT_TRUE(engine_error([&] { api::GenericMeasure(any).get_measure(); }));      // 46
  EXPECT_TRUE(engine_error([&] { api::GenericBookmark(any).apply(); }));           // 47
  EXPECT_TRUE(engine_error([&] { api::Variable(any).get_content(); }));            // 48
  auto f = api::GenericMeasure(any).get_measure_async();
  EXPECT_THROW(f.get(), qix::Error);
  // The generic call stays available on every typed object.
  EXPECT_EQ(doc.call("Evaluate", R"(["1+1"])").json(), "\"2\"");
}

}  // namespace

TEST_F(Typed, ExtractRowsGivesTypedCellsInOrderAsThePagesDo) {
  api::Doc doc = session_->open_doc("demo");
  api::NxInlineDimensionDef dim;
  dim.field_defs = std::vector<std::string>{"OrderId"};
  api::NxInlineMeasureDef measure;
  measure.def = "Sum(Sales)";
  api::HyperCubeDef def;
  def.dimensions.emplace(1);
  def.dimensions->at(0).def = dim;
  def.measures.emplace(1);
  def.measures->at(0).def = measure;
  api::GenericObjectProperties props;
  props.info = api::NxInfo{std::string("typed-extract"), std::string("table")};
  props.hyper_cube_def = def;
  api::GenericObject cube = doc.create_session_object(props);
  ASSERT_TRUE(cube);

  // The reference: a page loop of 500 rows.
  std::vector<api::NxCellRows> pages;
  for (int top = 0;; top += 500) {
    api::NxPage page;
    page.top = top;
    page.left = 0;
    page.width = 2;
    page.height = 500;
    auto got = cube.get_hyper_cube_data("/qHyperCubeDef", {page});
    if (got.empty() || !got[0].matrix || got[0].matrix->empty()) break;
    pages.insert(pages.end(), got[0].matrix->begin(), got[0].matrix->end());
  }
  ASSERT_EQ(pages.size(), 2000u);

  std::vector<api::NxCellRows> rows;
  bool in_order = true;
  auto all = cube.extract_rows(
      "/qHyperCubeDef",
      [&](const api::NxCellRows& row, int64_t index) {
        in_order = in_order && index == static_cast<int64_t>(rows.size());
        rows.push_back(row);
        return true;
      },
      7, 3);
  EXPECT_EQ(all.get(), 2000);
  EXPECT_TRUE(in_order);
  ASSERT_EQ(rows.size(), pages.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 2u) << i;
    EXPECT_EQ(rows[i][0].text, pages[i][0].text) << i;
    EXPECT_EQ(rows[i][0].elem_number, pages[i][0].elem_number) << i;
    EXPECT_EQ(rows[i][1].num.value_or(-1), pages[i][1].num.value_or(-2)) << i;
    EXPECT_EQ(rows[i][0].state->value, pages[i][0].state->value) << i;
  }

  // Stopping early, and a path that names no hypercube.
  auto stopped =
      cube.extract_rows("/qHyperCubeDef", [](const api::NxCellRows&, int64_t index) { return index < 9; });
  try {
    stopped.get();
    FAIL() << "no exception";
  } catch (const qix::Error& e) {
    EXPECT_EQ(e.status(), QIX_ECANCELLED);
  }
  auto bad = cube.extract_rows("/qNoSuchDef", [](const api::NxCellRows&, int64_t) { return true; });
  EXPECT_THROW(bad.get(), qix::Error);
  EXPECT_THROW(cube.extract_rows("/qHyperCubeDef", nullptr), qix::Error);
}
