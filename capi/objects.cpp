// The C ABI of libqix (include/qix/qix.h): results, objects (listeners, watch, handles) and bulk
// extraction (an adapter over core/session/extract.hpp).
#include "internal.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>

namespace qix::capi {

qix_object* new_object_handle(std::shared_ptr<core::Object> obj) {
  auto h = std::make_shared<qix_object>();
  h->obj = std::move(obj);
  h->self = h;
  return h.get();
}

namespace {

// enigma.js's out-parameter handling: qReturn first, else the single out value, else the whole result.
const json::value& unwrap(const json::value& result) {
  if (const auto* o = result.if_object()) {
    if (const auto* r = o->if_contains("qReturn")) return *r;
    if (o->size() == 1) return o->begin()->value();
  }
  return result;
}

core::CallOptions call_options(int flags, int timeout_ms) {
  core::CallOptions o;
  if (flags & QIX_CALL_DELTA) o.delta = true;
  if (flags & QIX_CALL_NO_DELTA) o.delta = false;
  if (timeout_ms >= 0) o.timeout = ms(timeout_ms);
  return o;
}

// A call on a zombie object needs no special case here: the core answers it with ErrorKind::closed.
core::CallCallback wrap_call_cb(qix_call_cb cb, void* payload) {
  return [cb, payload](core::CallResult& r) {
    if (!cb) return;
    auto res = make_result(r);
    cb(res.get(), payload);
  };
}

}  // namespace

std::unique_ptr<qix_result> make_result(const core::CallResult& r) {
  auto res = std::make_unique<qix_result>();
  res->id = r.id;
  if (r.error) {
    res->error = make_error(r.error);
    res->status = res->error.status;
    return res;
  }
  res->raw = core::to_json(r.result);
  res->json = core::to_json(unwrap(r.result));
  res->object = r.object;
  return res;
}

int do_call(int64_t* out_id, const std::shared_ptr<core::Session>& s, const std::shared_ptr<core::Object>& obj,
            int handle, const char* method, const char* params_json, int flags, int timeout_ms, qix_call_cb cb,
            void* payload) {
  if (out_id) *out_id = 0;
  if (!method || !*method) return fail(QIX_EINVAL, "method is NULL or empty");
  std::string_view params = params_json ? params_json : "";
  if (auto e = core::Session::validate_params(params)) return fail(e);
  auto opts = call_options(flags, timeout_ms);
  bool closed = obj ? obj->closed() : (!s || s->closing());
  std::int64_t id = obj ? obj->call(method, params, opts, wrap_call_cb(cb, payload))
                        : s->call(handle, method, params, opts, wrap_call_cb(cb, payload));
  if (out_id) *out_id = id;
  if (closed) return fail(QIX_ECLOSED, obj ? "the object is closed" : "the session is closed");
  return QIX_OK;
}

int do_call_sync(qix_result** out, const std::shared_ptr<core::Session>& s, const std::shared_ptr<core::Object>& obj,
                 int handle, const char* method, const char* params_json, int flags, int timeout_ms) {
  if (!out) return fail(QIX_EINVAL, "out is NULL");
  *out = nullptr;
  if (!method || !*method) return fail(QIX_EINVAL, "method is NULL or empty");
  std::string_view params = params_json ? params_json : "";
  if (auto e = core::Session::validate_params(params)) return fail(e);
  auto opts = call_options(flags, timeout_ms);
  core::CallResult r = obj ? obj->call_sync(method, params, opts) : s->call_sync(handle, method, params, opts);
  if (r.error) return fail(r.error);
  *out = make_result(r).release();
  return QIX_OK;
}

}  // namespace qix::capi

namespace {

using namespace qix::capi;

int add_object_listener(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload, bool changed) {
  if (out_id) *out_id = 0;
  if (!object_usable(obj) || !cb) return fail(QIX_EINVAL, "object listener: NULL argument");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  std::weak_ptr<qix_object> weak = obj->self;
  auto fn = [weak, cb, payload] {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    cb(self.get(), payload);
  };
  auto id = changed ? obj->obj->on_changed(fn) : obj->obj->on_closed(fn);
  {
    std::lock_guard lock(obj->mutex);
    obj->listeners.push_back(id);
  }
  if (out_id) *out_id = id;
  return QIX_OK;
}

class Extractor : public std::enable_shared_from_this<Extractor> {
 public:
  Extractor(std::shared_ptr<core::Object> obj, std::string path, int page_height, int window, qix_row_cb row_cb,
            qix_extract_done_cb done_cb, void* payload)
      : obj_(std::move(obj)), path_(std::move(path)), requested_height_(page_height), window_(window),
        row_cb_(row_cb), done_cb_(done_cb), payload_(payload) {}

  void start() {
    auto self = shared_from_this();
    core::CallOptions o;
    o.delta = false;
    obj_->call("GetLayout", "[]", o, [self](core::CallResult& r) { self->on_layout(r); });
  }

 private:
  // Finds the layout counterpart of a properties path: "/qHyperCubeDef" -> qHyperCube,
  // "/qListObjectDef" style trailing "Def" removed at each step.
  const json::value* find_cube(const json::value& layout) const {
    const json::value* cur = &layout;
    std::size_t pos = 0;
    while (pos < path_.size()) {
      if (path_[pos] == '/') {
        ++pos;
        continue;
      }
      auto end = path_.find('/', pos);
      std::string seg = path_.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? path_.size() : end;
      const json::value* next = nullptr;
      if (const auto* arr = cur->if_array()) {
        char* stop = nullptr;
        unsigned long i = std::strtoul(seg.c_str(), &stop, 10);
        if (stop && *stop == '\0' && i < arr->size()) next = &(*arr)[i];
      } else {
        next = core::find_member(*cur, seg);
        if (!next && seg.size() > 3 && seg.compare(seg.size() - 3, 3, "Def") == 0) {
          next = core::find_member(*cur, seg.substr(0, seg.size() - 3));
        }
      }
      if (!next) return nullptr;
      cur = next;
    }
    return cur;
  }

  void on_layout(core::CallResult& r) {
    if (r.error) return finish(make_error(r.error));
    const json::value* layout = core::find_member(r.result, "qLayout");
    const json::value* cube = layout ? find_cube(*layout) : nullptr;
    const json::value* size = cube ? core::find_member(*cube, "qSize") : nullptr;
    auto cx = size ? core::integer_of(core::find_member(*size, "qcx")) : std::nullopt;
    auto cy = size ? core::integer_of(core::find_member(*size, "qcy")) : std::nullopt;
    if (!cx || !cy || *cx < 0 || *cy < 0) {
      return finish(make_error(QIX_EINVAL, "no hypercube with a qSize at " + path_ + " in the layout"));
    }
    cols_ = *cx;
    total_ = *cy;
    std::int64_t max_height = cols_ > 0 ? std::max<std::int64_t>(1, 10000 / cols_) : 10000;
    height_ = requested_height_ > 0 ? std::min<std::int64_t>(requested_height_, max_height) : max_height;
    pages_ = cols_ == 0 ? 0 : (total_ + height_ - 1) / height_;
    if (pages_ == 0) return finish(qix_error{});
    issue();
  }

  void issue() {
    while (!done_ && in_flight_ < window_ && next_page_ < pages_) {
      std::int64_t page = next_page_++;
      ++in_flight_;
      json::array pages;
      pages.push_back(json::object{{"qTop", page * height_},
                                   {"qLeft", 0},
                                   {"qWidth", cols_},
                                   {"qHeight", std::min(height_, total_ - page * height_)}});
      std::string params = core::to_json(json::array{json::value(path_), json::value(std::move(pages))});
      core::CallOptions o;
      o.delta = false;
      auto self = shared_from_this();
      std::int64_t id = obj_->call("GetHyperCubeData", params, o,
                                   [self, page](core::CallResult& r) { self->on_page(page, r); });
      ids_[page] = id;
    }
  }

  void on_page(std::int64_t page, core::CallResult& r) {
    --in_flight_;
    ids_.erase(page);
    if (done_) return;
    if (r.error) return finish(make_error(r.error));
    const json::value* pages = core::find_member(r.result, "qDataPages");
    const json::value* matrix = nullptr;
    if (pages && pages->is_array() && !pages->as_array().empty()) matrix = core::find_member(pages->as_array()[0], "qMatrix");
    if (!matrix || !matrix->is_array()) return finish(make_error(QIX_EPROTOCOL, "GetHyperCubeData: no qMatrix"));
    ready_.emplace(page, matrix->as_array());
    // Deliver every page that is next in row order.
    for (auto it = ready_.find(next_deliver_); it != ready_.end(); it = ready_.find(next_deliver_)) {
      for (const auto& row : it->second) {
        std::string text = core::to_json(row);
        if (row_cb_(text.c_str(), text.size(), rows_, payload_) != 0) {
          return finish(make_error(QIX_ECANCELLED, "the row callback stopped the extraction"));
        }
        ++rows_;
      }
      ready_.erase(it);
      ++next_deliver_;
    }
    if (next_deliver_ == pages_) return finish(qix_error{});
    issue();
  }

  void finish(qix_error err) {
    if (done_) return;
    done_ = true;
    ready_.clear();
    auto pending = ids_;  // cancel() may complete a call; never iterate the live map
    if (auto s = obj_->session()) {
      for (auto& entry : pending) s->cancel(entry.second);
    }
    if (done_cb_) done_cb_(err.status, err.status == QIX_OK ? nullptr : &err, rows_, payload_);
  }

  std::shared_ptr<core::Object> obj_;
  std::string path_;
  int requested_height_;
  int window_;
  qix_row_cb row_cb_;
  qix_extract_done_cb done_cb_;
  void* payload_;

  // Touched only from this session's callbacks, which run one at a time.
  bool done_ = false;
  std::int64_t cols_ = 0, total_ = 0, height_ = 0, pages_ = 0;
  std::int64_t next_page_ = 0, next_deliver_ = 0, rows_ = 0;
  int in_flight_ = 0;
  std::map<std::int64_t, json::array> ready_;
  std::map<std::int64_t, std::int64_t> ids_;
};

}  // namespace

using namespace qix::capi;

extern "C" {

int qix_result_status(const qix_result* res) { return res ? res->status : QIX_EINVAL; }
const qix_error* qix_result_error(const qix_result* res) {
  return res && res->status != QIX_OK ? &res->error : nullptr;
}
int64_t qix_result_id(const qix_result* res) { return res ? res->id : 0; }
const char* qix_result_json(const qix_result* res) { return res ? res->json.c_str() : "null"; }
const char* qix_result_raw(const qix_result* res) { return res ? res->raw.c_str() : "null"; }

int qix_result_object(qix_object** out, const qix_result* res) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_result_object: out is NULL");
  *out = nullptr;
  if (!res) return fail(QIX_EINVAL, "qix_result_object: res is NULL");
  if (!res->object) return fail(QIX_ENOTFOUND, "the result refers to no object");
  *out = new_object_handle(res->object);
  return QIX_OK;
  QIX_CATCH
}

void qix_result_free(qix_result* res) { delete res; }

int qix_object_handle(const qix_object* obj) { return object_usable(obj) ? obj->obj->handle() : 0; }
const char* qix_object_type(const qix_object* obj) { return object_usable(obj) ? obj->obj->type().c_str() : ""; }
const char* qix_object_generic_id(const qix_object* obj) {
  return object_usable(obj) ? obj->obj->generic_id().c_str() : "";
}
const char* qix_object_generic_type(const qix_object* obj) {
  return object_usable(obj) ? obj->obj->generic_type().c_str() : "";
}

int qix_object_is_valid(const qix_object* obj) {
  try {
    return object_usable(obj) && obj->obj->valid() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int qix_object_is_closed(const qix_object* obj) {
  try {
    return !object_usable(obj) || obj->obj->closed() ? 1 : 0;
  } catch (...) {
    return 1;
  }
}

int qix_object_layout(char** out, const qix_object* obj) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_object_layout: out is NULL");
  *out = nullptr;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_layout: obj is NULL");
  auto l = obj->obj->layout();
  if (!l) return fail(QIX_ENOTFOUND, "no layout was fetched for this object");
  *out = dup_string(core::to_json(*l));
  return QIX_OK;
  QIX_CATCH
}

int qix_object_call(int64_t* out_id, qix_object* obj, const char* method, const char* params_json, int flags,
                    int timeout_ms, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_call: obj is NULL");
  return do_call(out_id, nullptr, obj->obj, obj->obj->handle(), method, params_json, flags, timeout_ms, cb, payload);
  QIX_CATCH
}

int qix_object_call_sync(qix_result** out, qix_object* obj, const char* method, const char* params_json, int flags,
                         int timeout_ms) {
  QIX_TRY
  if (out) *out = nullptr;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_call_sync: obj is NULL");
  return do_call_sync(out, nullptr, obj->obj, obj->obj->handle(), method, params_json, flags, timeout_ms);
  QIX_CATCH
}

int qix_object_on_changed(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload) {
  QIX_TRY
  return add_object_listener(out_id, obj, cb, payload, true);
  QIX_CATCH
}

int qix_object_on_closed(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload) {
  QIX_TRY
  return add_object_listener(out_id, obj, cb, payload, false);
  QIX_CATCH
}

int qix_object_remove_listener(qix_object* obj, uint64_t id) {
  QIX_TRY
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_remove_listener: obj is NULL");
  {
    std::lock_guard lock(obj->mutex);
    auto it = std::find(obj->listeners.begin(), obj->listeners.end(), id);
    if (it == obj->listeners.end()) return fail(QIX_ENOTFOUND, "no such listener");
    obj->listeners.erase(it);
  }
  obj->obj->remove_listener(id);
  return QIX_OK;
  QIX_CATCH
}

int qix_object_watch(qix_object* obj, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (!object_usable(obj) || !cb) return fail(QIX_EINVAL, "qix_object_watch: NULL argument");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  std::weak_ptr<qix_object> weak = obj->self;
  {
    std::lock_guard lock(obj->mutex);
    obj->watching = true;
  }
  obj->obj->watch([weak, cb, payload](const core::CallResult& r) {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    auto res = make_result(r);
    cb(res.get(), payload);
  });
  return QIX_OK;
  QIX_CATCH
}

int qix_object_unwatch(qix_object* obj) {
  QIX_TRY
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_unwatch: obj is NULL");
  {
    std::lock_guard lock(obj->mutex);
    obj->watching = false;
  }
  obj->obj->unwatch();
  return QIX_OK;
  QIX_CATCH
}

int qix_object_dup(qix_object** out, const qix_object* obj) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_object_dup: out is NULL");
  *out = nullptr;
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_dup: obj is NULL");
  *out = new_object_handle(obj->obj);
  return QIX_OK;
  QIX_CATCH
}

void qix_object_free(qix_object* obj) {
  QIX_TRY
  if (!obj) return;
  obj->alive = false;
  std::vector<core::ListenerId> ids;
  bool watching;
  {
    std::lock_guard lock(obj->mutex);
    ids.swap(obj->listeners);
    watching = obj->watching;
    obj->watching = false;
  }
  if (obj->obj) {
    for (auto id : ids) obj->obj->remove_listener(id);
    if (watching) obj->obj->unwatch();
  }
  auto keep = std::move(obj->self);
  keep.reset();
  QIX_CATCH_VOID
}

}  // extern "C"

extern "C" int qix_object_extract(qix_object* obj, const char* path, int page_height, int window, qix_row_cb row_cb,
                                  qix_extract_done_cb done_cb, void* payload) {
  QIX_TRY
  if (!object_usable(obj) || !path || !*path || !row_cb || !done_cb) {
    return fail(QIX_EINVAL, "qix_object_extract: NULL or empty argument");
  }
  if (page_height < 0 || window < 0) return fail(QIX_EINVAL, "qix_object_extract: negative page height or window");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  auto ex = std::make_shared<Extractor>(obj->obj, path, page_height, window == 0 ? 4 : window, row_cb, done_cb,
                                        payload);
  ex->start();
  return QIX_OK;
  QIX_CATCH
}
