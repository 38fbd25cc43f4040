// The C ABI of libqix (include/qix/qix.h): results, objects (listeners, watch, handles) and bulk
// extraction (an adapter over core/session/extract.hpp).
#include "internal.hpp"

#include "rpc/frame.hpp"
#include "session/extract.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <utility>

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
  o.text_result = true;  // C callers read text (qix_result_json / _raw): no DOM is built for them
  if (flags & QIX_CALL_DELTA) o.delta = true;
  if (flags & QIX_CALL_NO_DELTA) o.delta = false;
  if (timeout_ms >= 0) o.timeout = ms(timeout_ms);
  return o;
}

// A call on a zombie object needs no special case here: the core answers it with ErrorKind::closed.
core::CallCallback wrap_call_cb(qix_call_cb cb, void* payload) {
  return [cb, payload](core::CallResult& r) {
    if (!cb) return;
    qix_result res;  // borrowed by the callback for its duration (qix_call_cb): no allocation per answer
    fill_result(res, r);
    cb(&res, payload);
  };
}

}  // namespace

void fill_result(qix_result& res, core::CallResult& r) {
  res.id = r.id;
  if (r.error) {
    res.error = make_error(r.error);
    res.status = res.error.status;
    return;
  }
  core::move_into(res.value, std::move(r.result));
  res.text = std::move(r.text);
  res.text_value_at = r.text_value_at;
  res.text_value_size = r.text_value_size;
  res.object = r.object;
}

std::unique_ptr<qix_result> make_result(core::CallResult& r) {
  auto res = std::make_unique<qix_result>();
  fill_result(*res, r);
  return res;
}

int do_call(int64_t* out_id, const std::shared_ptr<core::Session>& s,
            const std::shared_ptr<core::Object>& obj, int handle, const char* method, const char* params_json,
            int flags, int timeout_ms, qix_call_cb cb, void* payload) {
  if (out_id) *out_id = 0;
  if (!method || !*method) return fail(QIX_EINVAL, "method is NULL or empty");
  std::string_view params = params_json ? params_json : "";
  if (auto e = core::Session::validate_params(params)) return fail(e);
  auto opts = call_options(flags, timeout_ms);
  // Refused because the session or the object is closed: QIX_ECLOSED, decided with the call itself (a look
  // at the state before it raced with a close arriving meanwhile: QIX_OK, and the callback said closed).
  core::Error refused;
  std::int64_t id = obj ? obj->call(method, params, opts, wrap_call_cb(cb, payload), &refused)
                        : s->call(handle, method, params, opts, wrap_call_cb(cb, payload), &refused);
  if (out_id) *out_id = id;
  // A server that does not speak QIX closed the session with its verdict (ErrorKind::protocol): closed too.
  if (refused.kind == core::ErrorKind::closed || refused.kind == core::ErrorKind::protocol) {
    return fail(QIX_ECLOSED, obj ? "the object is closed" : "the session is closed");
  }
  return QIX_OK;
}

int do_call_sync(qix_result** out, const std::shared_ptr<core::Session>& s,
                 const std::shared_ptr<core::Object>& obj, int handle, const char* method,
                 const char* params_json, int flags, int timeout_ms) {
  if (!out) return fail(QIX_EINVAL, "out is NULL");
  *out = nullptr;
  if (!method || !*method) return fail(QIX_EINVAL, "method is NULL or empty");
  std::string_view params = params_json ? params_json : "";
  if (auto e = core::Session::validate_params(params)) return fail(e);
  auto opts = call_options(flags, timeout_ms);
  core::CallResult r =
      obj ? obj->call_sync(method, params, opts) : s->call_sync(handle, method, params, opts);
  if (r.error) return fail(r.error);
  *out = make_result(r).release();
  return QIX_OK;
}

}  // namespace qix::capi

namespace {

using namespace qix::capi;

// The watch of an engine object and the handle that set it. The core keeps one watcher per engine object
// (a new watch replaces the previous one, whichever handle set it); qix_object_free stops the watch only
// when the handle being freed set the current one, so freeing one of several handles on an object (a
// qix_object_dup copy, or a handle from another result) never stops a watch set through another.
class WatchOwners {
 public:
  static WatchOwners& get() {
    static auto* owners = new WatchOwners;  // never destroyed: handles may be freed during exit
    return *owners;
  }

  /// Makes `token` the owner of `obj`'s watch and installs the watcher, as one step.
  void set(const std::shared_ptr<core::Object>& obj, std::uint64_t token,
           std::function<void(const core::CallResult&)> fn) {
    std::lock_guard lock(mutex_);
    for (auto it = owners_.begin(); it != owners_.end();)
      it = it->first.expired() ? owners_.erase(it) : std::next(it);
    owners_[obj] = token;
    obj->watch(std::move(fn));
  }
  /// Stops `obj`'s watch, whoever set it.
  void stop(const std::shared_ptr<core::Object>& obj) {
    std::lock_guard lock(mutex_);
    owners_.erase(obj);
    obj->unwatch();
  }
  /// Stops `obj`'s watch if `token` set the current one.
  void release(const std::shared_ptr<core::Object>& obj, std::uint64_t token) {
    std::lock_guard lock(mutex_);
    auto it = owners_.find(obj);
    if (it == owners_.end() || it->second != token) return;
    owners_.erase(it);
    obj->unwatch();
  }
  std::uint64_t next_token() { return next_token_.fetch_add(1) + 1; }

 private:
  std::mutex mutex_;
  std::map<std::weak_ptr<core::Object>, std::uint64_t, std::owner_less<>> owners_;
  std::atomic<std::uint64_t> next_token_{0};
};

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

}  // namespace

using namespace qix::capi;

extern "C" {

int qix_result_status(const qix_result* res) {
  return res ? res->status : QIX_EINVAL;
}
const qix_error* qix_result_error(const qix_result* res) {
  return res && res->status != QIX_OK ? &res->error : nullptr;
}
int64_t qix_result_id(const qix_result* res) {
  return res ? res->id : 0;
}
// Written on first use (qix_lazy_text: a result may be read from several threads at once): a copy of the
// text as received when the core kept it, else the value written out.
const char* qix_result_json(const qix_result* res) {
  if (!res || res->status != QIX_OK) return "null";
  return res->json
      .get([res] {
        const json::value& v = res->value;
        std::optional<std::string_view> text;
        if (!res->text.empty() && v.is_null()) {
          // Text only (the core's text_result): its scan placed qReturn or the only member exactly.
          text = res->text_value_at != std::string::npos
                     ? std::string_view(res->text).substr(res->text_value_at, res->text_value_size)
                     : std::string_view(res->text);
        } else if (!res->text.empty()) {
          const json::object* o = v.if_object();
          if (res->text_value_at != std::string::npos && o && (o->contains("qReturn") || o->size() == 1)) {
            text = std::string_view(res->text).substr(res->text_value_at, res->text_value_size);
          } else if (o && o->contains("qReturn")) {
            text = core::json_member_text(res->text, "qReturn");
          } else if (o && o->size() == 1) {
            text = core::json_member_text(res->text, o->begin()->key());
          } else {
            text = res->text;
          }
        }
        return text ? std::string(*text) : core::to_json(unwrap(v));
      })
      .c_str();
}
const char* qix_result_raw(const qix_result* res) {
  if (!res || res->status != QIX_OK) return "null";
  if (!res->text.empty()) return res->text.c_str();
  return res->raw.get([res] { return core::to_json(res->value); }).c_str();
}

int qix_result_has_object(const qix_result* res) {
  return res && res->object ? 1 : 0;
}

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

void qix_result_free(qix_result* res) {
  delete res;
}

int qix_object_handle(const qix_object* obj) {
  return object_usable(obj) ? obj->obj->handle() : 0;
}
const char* qix_object_type(const qix_object* obj) {
  return object_usable(obj) ? obj->obj->type().c_str() : "";
}
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
  return do_call(out_id, nullptr, obj->obj, obj->obj->handle(), method, params_json, flags, timeout_ms, cb,
                 payload);
  QIX_CATCH
}

int qix_object_call_sync(qix_result** out, qix_object* obj, const char* method, const char* params_json,
                         int flags, int timeout_ms) {
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
  auto& owners = WatchOwners::get();
  std::uint64_t token = owners.next_token();
  {
    std::lock_guard lock(obj->mutex);
    obj->watch_token = token;
  }
  owners.set(obj->obj, token, [weak, cb, payload](const core::CallResult& r) {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    core::CallResult mine = r;  // the core keeps its layout; the callback gets its own
    qix_result res;             // borrowed by the callback for its duration
    fill_result(res, mine);
    cb(&res, payload);
  });
  return QIX_OK;
  QIX_CATCH
}

int qix_object_unwatch(qix_object* obj) {
  QIX_TRY
  if (!object_usable(obj)) return fail(QIX_EINVAL, "qix_object_unwatch: obj is NULL");
  {
    std::lock_guard lock(obj->mutex);
    obj->watch_token = 0;
  }
  WatchOwners::get().stop(obj->obj);
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
  std::uint64_t watch_token;
  {
    std::lock_guard lock(obj->mutex);
    ids.swap(obj->listeners);
    watch_token = std::exchange(obj->watch_token, 0);
  }
  if (obj->obj) {
    for (auto id : ids) obj->obj->remove_listener(id);
    if (watch_token) WatchOwners::get().release(obj->obj, watch_token);
  }
  auto keep = std::move(obj->self);
  keep.reset();
  QIX_CATCH_VOID
}

}  // extern "C"

extern "C" int qix_object_extract(qix_object* obj, const char* path, int page_height, int window,
                                  qix_row_cb row_cb, qix_extract_done_cb done_cb, void* payload) {
  QIX_TRY
  if (!object_usable(obj) || !path || !*path || !row_cb || !done_cb) {
    return fail(QIX_EINVAL, "qix_object_extract: NULL or empty argument");
  }
  if (page_height < 0 || window < 0)
    return fail(QIX_EINVAL, "qix_object_extract: negative page height or window");
  if (obj->obj->closed()) return fail(QIX_ECLOSED, "the object is closed");
  core::ExtractOptions o;
  o.path = path;
  o.page_height = page_height;
  o.window = window == 0 ? 4 : window;
  core::extract(
      obj->obj, std::move(o),
      [row_cb, payload](const json::value& row, std::int64_t index) {
        std::string text = core::to_json(row);
        return row_cb(text.c_str(), text.size(), index, payload) == 0;
      },
      [done_cb, payload](const core::Error& e, std::int64_t rows) {
        if (!e) return done_cb(QIX_OK, nullptr, rows, payload);
        qix_error err = make_error(e);
        done_cb(err.status, &err, rows, payload);
      });
  return QIX_OK;
  QIX_CATCH
}
