// The main job's demo: starts the bundled engine simulator in-process, connects to it over a real
// WebSocket with the libqix core, opens the `demo` app, builds a hypercube and a list object, prints them,
// selects values and shows every "changed" event with the refreshed data.
//
// Usage: qix-core-demo [ws://host:port/app/demo]   (no argument: the bundled simulator)
#include "qix/sim/server.hpp"
#include "session/session.hpp"
#include "transport/websocket_transport.hpp"

#include <cstdio>
#include <future>
#include <iostream>
#include <string>

using namespace qix::core;
namespace json = boost::json;

namespace {

json::value expect_ok(CallResult r, const char* what) {
  if (!r.ok()) {
    std::cerr << what << " failed: " << r.error.describe() << "\n";
    std::exit(1);
  }
  return std::move(r.result);
}

std::string text_of(const json::value& cell) {
  if (auto* t = cell.as_object().if_contains("qText"); t && t->is_string()) return std::string(t->as_string());
  return "-";
}

void print_cube(const json::value& layout) {
  const auto& cube = layout.at("qHyperCube");
  std::printf("  %-12s %14s\n", "Region", "Sum(Sales)");
  for (const auto& page : cube.at("qDataPages").as_array()) {
    for (const auto& row : page.at("qMatrix").as_array()) {
      const auto& cells = row.as_array();
      std::printf("  %-12s %14s\n", text_of(cells[0]).c_str(), text_of(cells[1]).c_str());
    }
  }
}

void print_list(const json::value& layout) {
  const auto& list = layout.at("qListObject");
  std::printf("  ");
  for (const auto& page : list.at("qDataPages").as_array()) {
    for (const auto& row : page.at("qMatrix").as_array()) {
      const auto& cell = row.as_array()[0];
      std::printf("%s[%s]  ", text_of(cell).c_str(), std::string(cell.at("qState").as_string()).c_str());
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<qix::sim::Server> sim;
  std::string url;
  if (argc > 1) {
    url = argv[1];
  } else {
    sim = std::make_unique<qix::sim::Server>(qix::sim::Options{});
    sim->start();
    url = sim->url() + "/app/demo";
    std::printf("Started the bundled engine simulator at %s\n", sim->url().c_str());
  }

  auto ctx = Context::create();
  ConnectOptions co;
  co.url = url;
  auto session = Session::create(ctx, make_websocket_transport(ctx, co));
  session->on_notification("OnConnected", [](const Notification& n) {
    std::printf("Engine says: OnConnected %s\n", json::serialize(n.params).c_str());
  });
  if (Error e = session->open_sync(std::chrono::seconds(10))) {
    std::cerr << "cannot connect to " << url << ": " << e.describe() << "\n";
    return 1;
  }
  std::printf("Connected to %s\n", url.c_str());

  auto version = expect_ok(session->call_sync(-1, "EngineVersion", "[]"), "EngineVersion");
  std::printf("Engine version: %s\n", json::serialize(version.at("qVersion")).c_str());

  auto opened = session->call_sync(-1, "OpenDoc", R"(["demo"])");
  auto doc = opened.object;
  expect_ok(std::move(opened), "OpenDoc");
  std::printf("Opened app 'demo' (handle %d)\n\n", doc->handle());

  // A hypercube: sales per region.
  auto created = doc->call_sync("CreateSessionObject", R"json([{
      "qInfo": {"qType": "demo-cube"},
      "qHyperCubeDef": {
        "qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
        "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}],
        "qInitialDataFetch": [{"qTop": 0, "qLeft": 0, "qWidth": 2, "qHeight": 50}]}}])json");
  auto cube = created.object;
  expect_ok(std::move(created), "CreateSessionObject (hypercube)");
  // A list object over Category.
  auto created_list = doc->call_sync("CreateSessionObject", R"([{
      "qInfo": {"qType": "demo-list"},
      "qListObjectDef": {"qDef": {"qFieldDefs": ["Category"]},
        "qInitialDataFetch": [{"qTop": 0, "qLeft": 0, "qWidth": 1, "qHeight": 20}]}}])");
  auto list = created_list.object;
  expect_ok(std::move(created_list), "CreateSessionObject (list)");

  // Watch the cube: every change brings a fresh layout, fetched by the library.
  std::promise<void> first_layout;
  auto refreshed = std::make_shared<std::promise<json::value>>();
  std::mutex m;
  int versions = 0;
  cube->on_changed([] { std::printf("\n>> event: the hypercube changed (its data is invalid now)\n"); });
  list->on_changed([] { std::printf(">> event: the list object changed\n"); });
  cube->watch([&](const CallResult& r) {
    std::lock_guard lock(m);
    if (!r.ok()) return;
    if (++versions == 1) {
      first_layout.set_value();
    } else if (refreshed) {
      refreshed->set_value(r.result.at("qLayout"));
      refreshed.reset();
    }
  });
  first_layout.get_future().wait();

  std::printf("Sales per region:\n");
  print_cube(expect_ok(cube->call_sync("GetLayout", "[]"), "GetLayout").at("qLayout"));
  std::printf("\nCategories (S selected, O possible, X excluded):\n");
  print_list(expect_ok(list->call_sync("GetLayout", "[]"), "GetLayout").at("qLayout"));

  auto fut = refreshed->get_future();
  std::printf("\nSelecting Category = Bikes ...\n");
  auto field = doc->call_sync("GetField", R"(["Category"])");
  auto category = field.object;
  expect_ok(std::move(field), "GetField");
  expect_ok(category->call_sync("SelectValues", R"([[{"qText":"Bikes"}]])"), "SelectValues");

  auto fresh = fut.get();
  std::printf(">> refreshed layout delivered by watch:\n");
  print_cube(fresh);
  std::printf("\nCategories now:\n");
  print_list(expect_ok(list->call_sync("GetLayout", "[]"), "GetLayout").at("qLayout"));

  auto total = expect_ok(doc->call_sync("Evaluate", R"json(["Sum(Sales)"])json"), "Evaluate");
  std::printf("\nEvaluate Sum(Sales) in the selection: %s\n", json::serialize(total.at("qReturn")).c_str());

  std::future<json::value> cleared;
  {
    std::lock_guard lock(m);
    refreshed = std::make_shared<std::promise<json::value>>();
    cleared = refreshed->get_future();
  }
  std::printf("\nClearing all selections ...\n");
  expect_ok(doc->call_sync("ClearAll", "[]"), "ClearAll");
  auto after_clear = cleared.get();
  std::printf(">> refreshed layout delivered by watch:\n");
  print_cube(after_clear);
  cube->unwatch();
  session->close();
  std::printf("Done.\n");
  return 0;
}
