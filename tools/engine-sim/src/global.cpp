// qix-engine-sim: the Global class: versions, the doc list, opening an app, session apps.
#include "handlers.hpp"

namespace qix::sim {

namespace {

json::object engine_version(Call&) {
  json::object r;
  r["qVersion"] = json::object{{"qComponentVersion", core::engine_spec_version()}};
  return r;
}

json::object product_version(Call&) {
  json::object r;
  r["qReturn"] = core::engine_spec_version();
  return r;
}

json::object get_doc_list(Call& call) {
  json::object r;
  json::array list;
  for (const auto& [id, app] : call.engine.apps) {
    if (app->session_app) continue;
    json::object d;
    d["qDocName"] = id;
    d["qConnectedUsers"] = 0;
    d["qFileTime"] = 0;
    d["qFileSize"] = 0;
    d["qDocId"] = id;
    d["qMeta"] = json::object{};
    d["qLastReloadTime"] = "2026-01-01T00:00:00.000Z";
    d["qReadOnly"] = false;
    d["qTitle"] = id;
    d["qThumbnail"] = json::object{{"qUrl", ""}};
    list.push_back(std::move(d));
  }
  r["qDocList"] = std::move(list);
  return r;
}

json::object open_doc(Call& call) {
  json::object r;
  Connection& c = call.conn;
  std::string name = call.args.str(0);
  if (c.session->app) fail(locerr::kAppAlreadyOpen, name);  // one app per session, as the engine
  auto app = call.engine.find_app(name);
  if (!app) fail(locerr::kAppNotFound, name);
  c.session->app = app;
  c.session->selections.forget_possible();
  r["qReturn"] = obj_ref("Doc", call.engine.doc_handle(c), name, "");
  r["qReturn"].as_object().erase("qGenericType");
  return r;
}

json::object get_active_doc(Call& call) {
  json::object r;
  Connection& c = call.conn;
  if (!c.session->app) fail(locerr::kAppInvalid, "No active document");
  r["qReturn"] = obj_ref("Doc", call.engine.doc_handle(c), c.session->app->id, "");
  r["qReturn"].as_object().erase("qGenericType");
  return r;
}

json::object create_session_app(Call& call) {
  json::object r;
  Connection& c = call.conn;
  if (c.session->app) fail(locerr::kAppAlreadyOpen, "SessionApp");
  auto app = std::make_shared<AppState>();
  app->id = "SessionApp_" + random_uuid();
  app->session_app = true;
  app->data = std::make_shared<AppData>();
  app->data->id = app->id;
  app->data->title = app->id;
  c.session->app = app;
  c.session->selections.forget_possible();
  r["qReturn"] = json::object{{"qType", "Doc"}, {"qHandle", call.engine.doc_handle(c)}};
  r["qSessionAppId"] = app->id;
  return r;
}

// The server aborts the request it names; the call itself only checks its parameter.
json::object cancel_request(Call& call) {
  (void)call.args.integer(0);
  return {};
}

json::object get_unique_id(Call&) {
  json::object r;
  r["qUniqueID"] = random_uuid();
  return r;
}

json::object is_desktop_mode(Call&) {
  json::object r;
  r["qReturn"] = false;
  return r;
}

json::object qt_product(Call&) {
  json::object r;
  r["qReturn"] = "Qlik Sense";
  return r;
}

json::object os_name(Call&) {
  json::object r;
  r["qReturn"] = "linux";
  return r;
}

constexpr MethodImpl kMethods[] = {
    {"EngineVersion", engine_version},
    {"ProductVersion", product_version},
    {"GetDocList", get_doc_list},
    {"OpenDoc", open_doc},
    {"GetActiveDoc", get_active_doc},
    {"CreateSessionApp", create_session_app},
    {"CancelRequest", cancel_request},
    {"GetUniqueID", get_unique_id},
    {"IsDesktopMode", is_desktop_mode},
    {"QTProduct", qt_product},
    {"OSName", os_name},
};

}  // namespace

std::span<const MethodImpl> global_methods() {
  return kMethods;
}

}  // namespace qix::sim
