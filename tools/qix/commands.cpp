// qix: the commands (except extract, in extract.cpp).
#include "cli.hpp"

#include "rpc/methods.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace qixcli {

namespace {

using Rows = std::vector<std::vector<std::string>>;

void print_json(const json::value& v) {
  std::printf("%s\n", pretty(v).c_str());
}

std::string params_of(std::initializer_list<json::value> values) {
  json::array a;
  for (const auto& v : values) a.push_back(v);
  return json::serialize(a);
}

// The current selections of the session, through a selection object (created and destroyed here).
json::array current_selections(Connection& c) {
  json::object props{{"qInfo", json::object{{"qType", "qix-cli-selections"}}},
                     {"qSelectionObjectDef", json::object{}}};
  auto obj = c.create_session_object(props);
  auto layout = parse(c.call(obj, "GetLayout").json());
  c.call_doc("DestroySessionObject", params_of({json::value(obj.generic_id())}));
  if (const auto* so = member(layout, "qSelectionObject")) {
    if (const auto* sel = member(*so, "qSelections"); sel && sel->is_array()) return sel->as_array();
  }
  return {};
}

void print_selections(const json::array& sels) {
  if (sels.empty()) {
    std::printf("No selections.\n");
    return;
  }
  Rows rows{{"Field", "Selected", "Count"}};
  for (const auto& s : sels) {
    const auto* count = member(s, "qSelectedCount");
    const auto* total = member(s, "qTotal");
    std::string n = count ? json::serialize(*count) : "";
    if (total) n += " of " + json::serialize(*total);
    rows.push_back({text_of(member(s, "qField")), text_of(member(s, "qSelected")), n});
  }
  print_table(stdout, rows);
}

// Hypercube matrix of a layout (qHyperCube.qDataPages[0].qMatrix) as text rows under a header.
Rows cube_rows(const json::value& layout) {
  Rows rows;
  const auto* cube = member(layout, "qHyperCube");
  if (!cube) return rows;
  std::vector<std::string> header;
  for (const char* key : {"qDimensionInfo", "qMeasureInfo"}) {
    if (const auto* infos = member(*cube, key); infos && infos->is_array()) {
      for (const auto& i : infos->as_array()) header.push_back(text_of(member(i, "qFallbackTitle")));
    }
  }
  rows.push_back(header);
  if (const auto* pages = member(*cube, "qDataPages");
      pages && pages->is_array() && !pages->as_array().empty()) {
    if (const auto* m = member(pages->as_array()[0], "qMatrix"); m && m->is_array()) {
      for (const auto& row : m->as_array()) {
        std::vector<std::string> r;
        if (row.is_array()) {
          for (const auto& cell : row.as_array()) r.push_back(cell_text(cell));
        }
        rows.push_back(std::move(r));
      }
    }
  }
  return rows;
}

// List object values with their states: "Bikes [S]".
std::string list_line(const json::value& layout) {
  std::string out;
  const auto* lo = member(layout, "qListObject");
  const auto* pages = lo ? member(*lo, "qDataPages") : nullptr;
  if (!pages || !pages->is_array() || pages->as_array().empty()) return out;
  const auto* m = member(pages->as_array()[0], "qMatrix");
  if (!m || !m->is_array()) return out;
  for (const auto& row : m->as_array()) {
    if (!row.is_array() || row.as_array().empty()) continue;
    const auto& cell = row.as_array()[0];
    const auto* st = member(cell, "qState");
    if (!out.empty()) out += "  ";
    out += cell_text(cell) + " [" + (st && st->is_string() ? std::string(st->as_string()) : "?") + "]";
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ call
namespace {
// The classes of the Engine API's specification that have @p method ("Global", "Doc", "GenericObject" ...).
std::vector<std::string> classes_of(const std::string& method) {
  std::vector<std::string> out;
  for (const auto& m : qix::core::all_methods()) {
    if (m.name == method) out.emplace_back(m.cls);
  }
  return out;
}
bool has(const std::vector<std::string>& v, const char* s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

int cmd_call(const Config& cfg, const CallArgs& a) {
  if (!a.object.empty() && a.has_handle) throw usage_error("give either --object or --handle, not both");
  boost::system::error_code ec;
  json::value params = json::parse(a.params, ec);
  if (ec || !(params.is_array() || params.is_object())) {
    throw usage_error("PARAMS must be a JSON array (positional) or object (named), got: " + a.params);
  }
  Connection::Setup setup;
  setup.open_app = true;
  setup.app_required = !a.object.empty();
  // Without --object/--handle: the app (Doc) when it has the method and an app is known, else Global when
  // it has it, else the app (the bundled simulator opens its default app). A method the specification
  // does not know goes to the app when one is known, else to Global, and the engine answers.
  bool on_doc = false;
  if (a.object.empty() && !a.has_handle) {
    const auto classes = classes_of(a.method);
    const bool app_known = !Connection::app_of(cfg).empty();
    const bool global = has(classes, "Global"), doc = has(classes, "Doc");
    if (doc && (app_known || !global)) {
      on_doc = true;
      if (!app_known && Connection::engine_given(cfg)) {
        throw usage_error(a.method +
                          " is a method of the app (class Doc): give --app ID (or a --url with /app/ID)");
      }
      setup.app_required = true;
    } else if (!global && !classes.empty()) {
      std::string list;
      for (const auto& cl : classes) list += (list.empty() ? "" : ", ") + cl;
      throw usage_error(
          a.method + " is a method of " + list +
          ", not of Global or the app (Doc): give --object ID (an object of the app) or --handle H");
    } else if (!global) {
      on_doc = app_known;  // not in the specification: the engine decides
    }
  }
  Connection c(cfg, setup);
  qix::Result r;
  if (!a.object.empty()) {
    auto obj = c.get_object(a.object);
    r = c.call(obj, a.method, a.params);
  } else if (a.has_handle) {
    qix_result* res = nullptr;
    int rc = qix_session_call_handle_sync(&res, c.session().c_handle(), a.handle, a.method.c_str(),
                                          a.params.c_str(), QIX_CALL_DEFAULT, c.call_timeout_ms());
    if (rc == QIX_EINVAL) {
      throw usage_error(std::string(qix_error_message(qix_error_last())) +
                        " (a fresh session has -1 for Global and the app's handle after --app)");
    }
    if (rc < 0) throw c.failure(qix::Error(rc, qix_error_last()));
    r = qix::Result(res);
    qix_result_free(res);
  } else if (on_doc) {
    r = c.call_doc(a.method, a.params);
  } else {
    r = c.call_global(a.method, a.params);
  }
  print_json(parse(a.raw ? r.raw() : r.json()));
  return kExitOk;
}

// ------------------------------------------------------------------------------------------------ apps
int cmd_apps(const Config& cfg) {
  Connection c(cfg, {});
  auto list = parse(c.call_global("GetDocList").json());
  if (cfg.json) {
    print_json(list);
    return kExitOk;
  }
  Rows rows{{"Id", "Name", "Last reload"}};
  if (list.is_array()) {
    for (const auto& d : list.as_array()) {
      auto text = [&](const char* k) {
        const auto* v = member(d, k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      rows.push_back({text("qDocId"), text("qDocName"), text("qLastReloadTime")});
    }
  }
  print_table(stdout, rows);
  return kExitOk;
}

// ------------------------------------------------------------------------------------------------ eval
int cmd_eval(const Config& cfg, const std::string& expr) {
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);
  auto v = parse(c.call_doc("EvaluateEx", params_of({json::value(expr)})).json());
  if (cfg.json) {
    print_json(v);
  } else {
    std::printf("%s\n", text_of(member(v, "qText")).c_str());
  }
  return kExitOk;
}

// --------------------------------------------------------------------------------------------- objects
int cmd_objects(const Config& cfg) {
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);
  auto infos = parse(c.call_doc("GetAllInfos").json());
  if (cfg.json) {
    print_json(infos);
    return kExitOk;
  }
  Rows rows{{"Id", "Type"}};
  if (infos.is_array()) {
    for (const auto& i : infos.as_array()) {
      const auto* id = member(i, "qId");
      const auto* type = member(i, "qType");
      rows.push_back({text_of(id), text_of(type)});
    }
  }
  if (rows.size() == 1) {
    std::printf("No objects in app %s.\n", c.app_id().c_str());
  } else {
    print_table(stdout, rows);
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------- layout
int cmd_layout(const Config& cfg, const std::string& id) {
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);
  auto obj = c.get_object(id);
  print_json(parse(c.call(obj, "GetLayout").json()));
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------- fields
namespace {
json::value tables_and_keys(Connection& c) {
  json::object params{{"qWindowSize", json::object{{"qcx", 0}, {"qcy", 0}}},
                      {"qNullSize", json::object{{"qcx", 0}, {"qcy", 0}}},
                      {"qCellHeight", 0},
                      {"qSyntheticMode", false},
                      {"qIncludeSysVars", false}};
  return parse(c.call_doc("GetTablesAndKeys", json::serialize(params)).raw());
}
}  // namespace

std::vector<std::string> field_names(Connection& c) {
  std::vector<std::string> out;
  auto res = tables_and_keys(c);
  if (const auto* qtr = member(res, "qtr"); qtr && qtr->is_array()) {
    for (const auto& t : qtr->as_array()) {
      if (const auto* fs = member(t, "qFields"); fs && fs->is_array()) {
        for (const auto& f : fs->as_array()) {
          if (const auto* name = member(f, "qName"); name && name->is_string())
            out.emplace_back(name->as_string());
        }
      }
    }
  }
  return out;
}

int cmd_fields(const Config& cfg) {
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);
  auto res = tables_and_keys(c);
  struct Field {
    std::vector<std::string> tables;
    std::int64_t distinct = 0;
    bool key = false;
  };
  std::map<std::string, Field> fields;
  if (const auto* qtr = member(res, "qtr"); qtr && qtr->is_array()) {
    for (const auto& t : qtr->as_array()) {
      std::string table = text_of(member(t, "qName"));
      if (const auto* fs = member(t, "qFields"); fs && fs->is_array()) {
        for (const auto& f : fs->as_array()) {
          const auto* name = member(f, "qName");
          if (!name || !name->is_string()) continue;
          auto& e = fields[std::string(name->as_string())];
          e.tables.push_back(table);
          if (const auto* n = member(f, "qnTotalDistinctValues"); n && n->is_number())
            e.distinct = n->to_number<std::int64_t>();
          if (const auto* k = member(f, "qKeyType"); k && k->is_string() && k->as_string() != "NOT_KEY")
            e.key = true;
        }
      }
    }
  }
  if (cfg.json) {
    json::array out;
    for (const auto& [name, f] : fields) {
      json::array tables;
      for (const auto& t : f.tables) tables.push_back(json::value(t));
      out.push_back(
          json::object{{"name", name}, {"tables", tables}, {"distinctValues", f.distinct}, {"key", f.key}});
    }
    print_json(out);
    return kExitOk;
  }
  Rows rows{{"Field", "Values", "Key", "Tables"}};
  for (const auto& [name, f] : fields) {
    std::string tables;
    for (const auto& t : f.tables) tables += (tables.empty() ? "" : ", ") + t;
    rows.push_back({name, std::to_string(f.distinct), f.key ? "key" : "", tables});
  }
  print_table(stdout, rows);
  return kExitOk;
}

// ------------------------------------------------------------------------------------- select / clear
namespace {
qix::Object field_of(Connection& c, const std::string& name) {
  return c.lookup("GetField", name, "no field named '" + name + "' in app " + c.app_id());
}

int report_selections(Connection& c, const Config& cfg) {
  auto sels = current_selections(c);
  if (cfg.json) {
    print_json(sels);
  } else {
    print_selections(sels);
  }
  return kExitOk;
}
}  // namespace

int cmd_select(const Config& cfg, const std::string& field, const std::vector<std::string>& values) {
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);
  auto f = field_of(c, field);
  json::array vals;
  for (const auto& v : values) vals.push_back(json::object{{"qText", v}});
  c.call(f, "SelectValues", json::serialize(json::array{vals, false, false}));
  auto sels = current_selections(c);
  bool selected = false;
  for (const auto& s : sels) {
    const auto* name = member(s, "qField");
    if (name && name->is_string() && name->as_string() == field) selected = true;
  }
  if (cfg.json) {
    print_json(sels);
  } else {
    print_selections(sels);
  }
  if (!selected) throw Failure(kExitEngine, "qix: no value of field '" + field + "' matched");
  return kExitOk;
}

int cmd_clear(const Config& cfg, const std::string& field) {
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);
  if (field.empty()) {
    c.call_doc("ClearAll", "[false]");
  } else {
    auto f = field_of(c, field);
    c.call(f, "Clear");
  }
  return report_selections(c, cfg);
}

// ----------------------------------------------------------------------------------------------- watch
namespace {
/// Hand-off from libqix's dispatcher thread to the main thread.
class Inbox : public qix::CallListener, public qix::ObjectListener, public qix::SessionListener {
 public:
  struct Item {
    enum Kind { kLayout, kError, kClosed, kObjectClosed, kSuspended, kResumed } kind;
    std::string text;
    int status = 0;
  };
  void on_result(const qix::Result& r) override {
    if (r.ok()) {
      push({Item::kLayout, r.json(), 0});
    } else {
      push({Item::kError, r.error().message(), r.status()});
    }
  }
  void on_closed() override { push({Item::kObjectClosed, "", 0}); }
  void on_state(int state, int code, const std::string& reason) override {
    std::string why = "close code " + std::to_string(code) + (reason.empty() ? "" : ": " + reason);
    if (state == QIX_STATE_CLOSED) push({Item::kClosed, why, 0});
    if (state == QIX_STATE_SUSPENDED) push({Item::kSuspended, why, 0});
    if (state == QIX_STATE_RESUMED) push({Item::kResumed, why, 0});
  }
  bool next(Item& out, std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, wait, [&] { return !items_.empty(); })) return false;
    out = std::move(items_.front());
    items_.pop_front();
    return true;
  }

 private:
  void push(Item i) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(i));
    }
    cv_.notify_one();
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Item> items_;
};
}  // namespace

int cmd_watch(const Config& cfg, const WatchArgs& a) {
  if (a.count < 0) throw usage_error("--count must be >= 0");
  if (a.interval_ms < 0) throw usage_error("--interval must be >= 0");
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  setup.watch_interval_ms = a.interval_ms;
  // The inbox outlives the connection: releasing the object and removing the listeners does not wait for
  // a callback already running on libqix's thread (it may still be in Inbox::push); the connection's end
  // closes the session and waits for it to drain.
  Inbox inbox;
  Connection c(cfg, setup);
  auto obj = c.get_object(a.id);
  c.session().add_listener(&inbox);
  obj.add_listener(&inbox);
  install_signal_handlers();
  obj.watch(&inbox);
  int versions = 0;
  std::optional<Failure> failure;  // thrown once the listeners are removed
  while (!interrupted()) {
    Inbox::Item item;
    if (!inbox.next(item, std::chrono::milliseconds(100))) continue;
    if (item.kind == Inbox::Item::kLayout) {
      ++versions;
      auto layout = parse(item.text);
      if (cfg.json) {
        std::printf("%s\n", json::serialize(layout).c_str());
      } else {
        auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        std::tm tm{};
        localtime_r(&now, &tm);
        std::printf("# %s version %d at %02d:%02d:%02d\n%s\n", a.id.c_str(), versions, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, pretty(layout).c_str());
      }
      std::fflush(stdout);
      if (a.count > 0 && versions >= a.count) break;
    } else if (item.kind == Inbox::Item::kError) {
      if (item.status == QIX_EENGINE) {
        notice(cfg, "fetch-failed", "fetching the layout failed: " + item.text);
        continue;  // an engine error on one fetch (e.g. an aborted calculation): the next change retries
      }
      // The closed event follows with the reason; while reconnecting, the resume fetches again.
      if (c.session().state() == QIX_STATE_CLOSED || c.session().state() == QIX_STATE_SUSPENDED) continue;
      if (item.status == QIX_ECONNECTION && cfg.reconnect != "none") continue;  // dropped; resuming
      failure.emplace(kExitEngine, "qix: fetching the layout failed: " + item.text);
      break;
    } else if (item.kind == Inbox::Item::kObjectClosed) {
      if (c.session().state() == QIX_STATE_CLOSED) continue;
      failure.emplace(kExitEngine, "qix: object '" + a.id + "' was closed by the engine");
      break;
    } else if (item.kind == Inbox::Item::kSuspended) {
      notice(cfg, "reconnecting", "the connection was lost (" + item.text + "); reconnecting");
    } else if (item.kind == Inbox::Item::kResumed) {
      notice(cfg, "resumed", "resumed");  // the watch fetches the layout again by itself
    } else {
      failure.emplace(kExitConnection, "qix: the connection was lost (" + item.text + ")");
      break;
    }
  }
  obj.remove_listener(&inbox);
  c.session().remove_listener(&inbox);
  obj.unwatch();
  if (failure) throw Failure(std::move(*failure));
  return kExitOk;
}

// ------------------------------------------------------------------------------------------------ demo
namespace {
/// Counts an object's "changed" events (from libqix's dispatcher thread) and prints them as they happen
/// in text mode.
class EventPrinter : public qix::ObjectListener {
 public:
  EventPrinter(std::string name, bool print) : name_(std::move(name)), print_(print) {}
  void on_changed() override {
    {
      std::lock_guard lock(mutex_);
      ++changes_;
    }
    if (print_) {
      std::printf("  >> event: %s changed (its data is invalid now)\n", name_.c_str());
      std::fflush(stdout);
    }
    cv_.notify_all();
  }
  bool wait_changes(int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return changes_ >= n; });
  }
  int changes() {
    std::lock_guard lock(mutex_);
    return changes_;
  }

 private:
  std::string name_;
  bool print_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int changes_ = 0;
};

json::array rows_json(const Rows& rows) {
  json::array out;
  for (const auto& r : rows) {
    json::array a;
    for (const auto& cell : r) a.push_back(json::value(cell));
    out.push_back(std::move(a));
  }
  return out;
}
}  // namespace

int cmd_demo(const Config& cfg) {
  const bool text = !cfg.json;
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  if (text) std::printf("libqix %s demo\n", qix::version().c_str());
  // Declared before the connection so that they outlive it: the connection's end waits for the session
  // to drain, and a listener callback still running when the objects are released finishes first.
  EventPrinter cube_events("the hypercube", text), list_events("the list object", text);
  Connection c(cfg, setup);
  auto version = parse(c.call_global("EngineVersion").json());
  std::string engine_version = text_of(member(version, "qComponentVersion"));
  if (text) {
    std::printf("Engine: %s%s\n", c.url().c_str(),
                c.simulated() ? " (the bundled simulator, in-process)" : "");
    std::printf("Engine version %s; app '%s' opened (handle %d)\n\n", engine_version.c_str(),
                c.app_id().c_str(), c.doc().handle());
  }
  json::object report{{"libqix", qix::version()},
                      {"engine", c.url()},
                      {"simulated", c.simulated()},
                      {"engineVersion", engine_version},
                      {"app", c.app_id()}};

  json::value cube_props = parse(R"json({"qInfo":{"qType":"qix-demo-table"},
    "qHyperCubeDef":{"qDimensions":[{"qDef":{"qFieldDefs":["Region"]}}],
      "qMeasures":[{"qDef":{"qDef":"Sum(Sales)"}},{"qDef":{"qDef":"Count(DISTINCT CustomerId)"}}],
      "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":3,"qHeight":50}]}})json");
  json::value list_props = parse(R"json({"qInfo":{"qType":"qix-demo-list"},
    "qListObjectDef":{"qDef":{"qFieldDefs":["Category"]},
      "qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":1,"qHeight":50}]}})json");
  auto cube = c.create_session_object(cube_props);
  auto list = c.create_session_object(list_props);
  if (text) {
    std::printf("Created a hypercube (handle %d) and a list object (handle %d).\n\n", cube.handle(),
                list.handle());
  }
  json::array steps;
  auto show = [&](const char* title, const std::string& step) {
    auto cl = parse(c.call(cube, "GetLayout").json());
    auto ll = parse(c.call(list, "GetLayout").json());
    auto rows = cube_rows(cl);
    if (text) {
      std::printf("%s\n", title);
      print_table(stdout, rows, "  ");
      std::printf("\n  Category: %s\n\n", list_line(ll).c_str());
    }
    steps.push_back(json::object{{"step", step},
                                 {"changedEvents", json::object{{"hypercube", cube_events.changes()},
                                                                {"listObject", list_events.changes()}}},
                                 {"table", rows_json(rows)},
                                 {"categories", list_line(ll)}});
  };
  show("Sales per region:", "initial");
  // Listening from here on: each object's data was just fetched, so each change is a valid-to-invalid edge
  // (a listener added before the first fetch would be told at once that there is data to fetch).
  cube.add_listener(&cube_events);
  list.add_listener(&list_events);

  int round = 0;
  auto change = [&](const char* what, const std::string& step, const std::function<void()>& fn) {
    ++round;
    if (text) {
      std::printf("%s\n", what);
      std::fflush(stdout);
    }
    fn();
    bool both = cube_events.wait_changes(round) && list_events.wait_changes(round);
    if (!both) throw Failure(kExitEngine, "qix: the demo expected a \"changed\" event for both objects");
    show("  Refreshed data (fetched after the events):", step);
  };
  auto category = field_of(c, "Category");
  change("Selecting Category = Bikes ...", "select Category=Bikes",
         [&] { c.call(category, "SelectValues", R"json([[{"qText":"Bikes"}],false,false])json"); });
  auto eval = parse(c.call_doc("Evaluate", R"json(["Sum(Sales)"])json").json());
  std::string eval_text = eval.is_string() ? std::string(eval.as_string()) : json::serialize(eval);
  if (text) std::printf("Evaluate Sum(Sales) in the selection: %s\n\n", eval_text.c_str());
  report["evaluateSumSalesInSelection"] = eval_text;
  change("Clearing all selections ...", "clear all", [&] { c.call_doc("ClearAll", "[false]"); });
  cube.remove_listener(&cube_events);
  list.remove_listener(&list_events);
  report["steps"] = std::move(steps);
  if (text) {
    std::printf("Done. Next: qix --help, or `qix extract --dim Region --measure \"Sum(Sales)\"`.\n");
  } else {
    print_json(report);
  }
  return kExitOk;
}

}  // namespace qixcli
