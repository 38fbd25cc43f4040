// libqix from C++ with the installed facade `qix/qix.hpp` (header-only, over the C API of libqix.so.1):
// connects to an engine, opens the `demo` app, builds a hypercube and a list object, prints them, keeps the
// hypercube fresh with watch(), selects a value, shows every "changed" event with the refreshed data, and
// clears the selection. Results are JSON text; this example reads them with Boost.JSON (any JSON library
// will do).
//
// Usage: qix-cpp-demo [ws://host:port/app/demo]   (no argument: the engine simulator of the libqix tree,
// started in this process; a program of your own names its engine instead)
#include <qix/qix.hpp>
#include <qix/sim/server.hpp>

#include <boost/json.hpp>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

namespace json = boost::json;

namespace {

std::string text_of(const json::value& cell) {
  if (auto* t = cell.as_object().if_contains("qText"); t && t->is_string())
    return std::string(t->as_string());
  return "-";
}

void print_cube(const json::value& layout) {
  std::printf("  %-12s %14s\n", "Region", "Sum(Sales)");
  for (const auto& page : layout.at("qHyperCube").at("qDataPages").as_array()) {
    for (const auto& row : page.at("qMatrix").as_array()) {
      const auto& cells = row.as_array();
      std::printf("  %-12s %14s\n", text_of(cells[0]).c_str(), text_of(cells[1]).c_str());
    }
  }
}

void print_list(const json::value& layout) {
  std::printf("  ");
  for (const auto& page : layout.at("qListObject").at("qDataPages").as_array()) {
    for (const auto& row : page.at("qMatrix").as_array()) {
      const auto& cell = row.as_array()[0];
      std::printf("%s[%s]  ", text_of(cell).c_str(), std::string(cell.at("qState").as_string()).c_str());
    }
  }
  std::printf("\n");
}

// Prints the "changed" events of one object (libqix calls it on its event thread).
class ChangePrinter : public qix::ObjectListener {
 public:
  explicit ChangePrinter(const char* name) : name_(name) {}
  void on_changed() override { std::printf(">> event: %s changed (its data is not current now)\n", name_); }

 private:
  const char* name_;
};

// The layouts watch() delivers, one at a time, to the main thread.
class Layouts {
 public:
  void push(std::string layout) {
    std::lock_guard lock(mutex_);
    latest_ = std::move(layout);
    ++versions_;
    cv_.notify_all();
  }
  // Waits for the version after `seen` and returns it.
  json::value next(int& seen) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return versions_ > seen; });
    seen = versions_;
    return json::parse(latest_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string latest_;
  int versions_ = 0;
};

}  // namespace

int main(int argc, char** argv) try {
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

  qix::Options options;
  options.set("url", url);  // and, for Qlik Cloud: options.add_header("Authorization", "Bearer " + key)
  qix::Session session(options, 10000);
  std::printf("Connected to %s\n", url.c_str());
  auto version = json::parse(session.call("EngineVersion").json());
  std::printf("Engine version: %s\n", json::serialize(version).c_str());

  qix::Object doc = session.open_doc("demo");
  std::printf("Opened app 'demo' (handle %d)\n\n", doc.handle());

  qix::Object cube = doc.call("CreateSessionObject", R"json([{
      "qInfo": {"qType": "demo-cube"},
      "qHyperCubeDef": {
        "qDimensions": [{"qDef": {"qFieldDefs": ["Region"]}}],
        "qMeasures": [{"qDef": {"qDef": "Sum(Sales)"}}],
        "qInitialDataFetch": [{"qTop": 0, "qLeft": 0, "qWidth": 2, "qHeight": 50}]}}])json")
                         .object();
  qix::Object list = doc.call("CreateSessionObject", R"json([{
      "qInfo": {"qType": "demo-list"},
      "qListObjectDef": {"qDef": {"qFieldDefs": ["Category"]},
        "qInitialDataFetch": [{"qTop": 0, "qLeft": 0, "qWidth": 1, "qHeight": 20}]}}])json")
                         .object();

  // watch(): libqix fetches the cube's layout now and again after every change.
  Layouts layouts;
  int seen = 0;
  cube.watch([&](const qix::Result& r) {
    if (r.ok()) layouts.push(r.json());
  });
  std::printf("Sales per region:\n");
  print_cube(layouts.next(seen));
  std::printf("\nCategories (S selected, O possible, X excluded):\n");
  print_list(json::parse(list.call("GetLayout").json()));

  // Listening after the list's first fetch: from here on, each change is reported once.
  ChangePrinter cube_events("the hypercube"), list_events("the list object");
  cube.add_listener(&cube_events);
  list.add_listener(&list_events);

  std::printf("\nSelecting Category = Bikes ...\n");
  qix::Object category = doc.call("GetField", R"(["Category"])").object();
  category.call("SelectValues", R"([[{"qText":"Bikes"}]])");
  std::printf(">> refreshed layout delivered by watch:\n");
  print_cube(layouts.next(seen));
  std::printf("\nCategories now:\n");
  print_list(json::parse(list.call("GetLayout").json()));

  auto total = json::parse(doc.call("Evaluate", R"json(["Sum(Sales)"])json").json());
  std::printf("\nEvaluate Sum(Sales) in the selection: %s\n", json::serialize(total).c_str());

  std::printf("\nClearing all selections ...\n");
  doc.call("ClearAll");
  std::printf(">> refreshed layout delivered by watch:\n");
  print_cube(layouts.next(seen));
  cube.unwatch();
  cube.remove_listener(&cube_events);
  list.remove_listener(&list_events);
  session.close();
  std::printf("Done.\n");
  return 0;
} catch (const qix::Error& e) {
  std::cerr << "libqix: " << e.what() << "\n";
  return 1;
}
