// libqix from C++ with the typed Engine API `qix/api.hpp` (header-only, generated from the Engine API
// specification, over the facade `qix/qix.hpp` and the C API of libqix.so.1): connects to an engine, opens
// the `demo` app, builds a hypercube and a list object from typed properties, prints them, keeps the
// hypercube fresh with watch(), selects a value, shows every "changed" event with the refreshed data, and
// clears the selection. Layouts arrive as typed structs (std::optional members: what the engine left out is
// absent).
//
// Usage: qix-cpp-demo [ws://host:port/app/demo]   (no argument: the engine simulator of the libqix tree,
// started in this process; a program of your own names its engine instead)
#include <qix/api.hpp>
#include <qix/sim/server.hpp>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

namespace api = qix::api;

namespace {

std::string text_of(const api::NxCell& cell) {
  return cell.text.value_or("-");
}

// The rows of a layout's first data page (none when the engine sent none).
std::vector<api::NxCellRows> rows_of(const std::optional<std::vector<api::NxDataPage>>& pages) {
  if (!pages || pages->empty() || !pages->front().matrix) return {};
  return *pages->front().matrix;
}

void print_cube(const api::GenericObjectLayout& layout) {
  std::printf("  %-12s %14s\n", "Region", "Sum(Sales)");
  for (const auto& row : rows_of(layout.hyper_cube->data_pages))
    std::printf("  %-12s %14s\n", text_of(row[0]).c_str(), text_of(row[1]).c_str());
}

void print_list(const api::GenericObjectLayout& layout) {
  std::printf("  ");
  for (const auto& row : rows_of(layout.list_object->data_pages))
    std::printf("%s[%s]  ", text_of(row[0]).c_str(), row[0].state ? row[0].state->value.c_str() : "?");
  std::printf("\n");
}

api::NxPage page(int width, int height) {
  api::NxPage p;
  p.top = 0;
  p.left = 0;
  p.width = width;
  p.height = height;
  return p;
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
  api::GenericObjectLayout next(int& seen) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return versions_ > seen; });
    seen = versions_;
    return api::from_json<api::GenericObjectLayout>(qix::json::parse(latest_));
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
  api::Session session(options, 10000);
  std::printf("Connected to %s\n", url.c_str());
  api::Global global = session.global();
  std::printf("Engine version: %s\n", global.engine_version().component_version.value_or("?").c_str());

  api::Doc doc = global.open_doc("demo");
  std::printf("Opened app 'demo' (handle %d)\n\n", doc.handle());

  // A hypercube Region x Sum(Sales) and a list object of Category, from typed properties.
  api::GenericObjectProperties cube_props;
  cube_props.info = api::NxInfo{std::nullopt, std::string("demo-cube")};
  cube_props.hyper_cube_def.emplace();
  auto& def = *cube_props.hyper_cube_def;
  def.dimensions.emplace(1);
  def.dimensions->at(0).def.emplace().field_defs = std::vector<std::string>{"Region"};
  def.measures.emplace(1);
  def.measures->at(0).def.emplace().def = "Sum(Sales)";
  def.initial_data_fetch = std::vector<api::NxPage>{page(2, 50)};
  api::GenericObject cube = doc.create_session_object(cube_props);

  api::GenericObjectProperties list_props;
  list_props.info = api::NxInfo{std::nullopt, std::string("demo-list")};
  list_props.list_object_def.emplace().def.emplace().field_defs = std::vector<std::string>{"Category"};
  list_props.list_object_def->initial_data_fetch = std::vector<api::NxPage>{page(1, 20)};
  api::GenericObject list = doc.create_session_object(list_props);

  // watch(): libqix fetches the cube's layout now and again after every change.
  Layouts layouts;
  int seen = 0;
  cube.watch([&](const qix::Result& r) {
    if (r.ok()) layouts.push(r.json());
  });
  std::printf("Sales per region:\n");
  print_cube(layouts.next(seen));
  std::printf("\nCategories (S selected, O possible, X excluded):\n");
  print_list(list.get_layout());

  // Listening after the list's first fetch: from here on, each change is reported once.
  ChangePrinter cube_events("the hypercube"), list_events("the list object");
  cube.add_listener(&cube_events);
  list.add_listener(&list_events);

  std::printf("\nSelecting Category = Bikes ...\n");
  api::Field category = doc.get_field("Category");
  api::FieldValue bikes;
  bikes.text = "Bikes";
  category.select_values({bikes});
  std::printf(">> refreshed layout delivered by watch:\n");
  print_cube(layouts.next(seen));
  std::printf("\nCategories now:\n");
  print_list(list.get_layout());

  std::printf("\nEvaluate Sum(Sales) in the selection: %s\n", doc.evaluate("Sum(Sales)").c_str());

  std::printf("\nClearing all selections ...\n");
  doc.clear_all();
  std::printf(">> refreshed layout delivered by watch:\n");
  print_cube(layouts.next(seen));
  cube.unwatch();
  cube.remove_listener(&cube_events);
  list.remove_listener(&list_events);
  // A removal stops later callbacks but does not wait for one already running: close, and wait until every
  // callback has run, before the listeners above go out of scope.
  session.close();
  session.wait_closed(5000);
  std::printf("Done.\n");
  return 0;
} catch (const qix::Error& e) {
  std::cerr << "libqix: " << e.what() << "\n";
  return 1;
}
