// Object: the proxy of one engine handle (Global included): its state queries, listeners and calls (which
// go through Session::start_call), how changes and closes reach it, and watch(). The state lives in Object
// but is guarded by its session's mutex (see object.hpp).
#include "session/detail.hpp"
#include "session/session.hpp"

#include "rpc/methods.hpp"

namespace qix::core {

bool Object::valid() const {
  auto s = session_.lock();
  if (!s) return false;
  std::lock_guard lock(s->mutex_);
  return valid_ && !closed_ && !s->closing_;
}

bool Object::suspended() const {
  auto s = session_.lock();
  if (!s) return false;
  std::lock_guard lock(s->mutex_);
  return suspended_ && !closed_;
}

bool Object::closed() const {
  auto s = session_.lock();
  if (!s) return true;
  std::lock_guard lock(s->mutex_);
  return closed_ || s->closing_;  // after Session::close(), at once (the closed events follow)
}

std::optional<json::value> Object::layout() const {
  auto s = session_.lock();
  if (!s) return std::nullopt;
  std::shared_ptr<const json::value> l;
  std::shared_ptr<const std::string> text;
  {
    std::lock_guard lock(s->mutex_);
    l = layout_;
    text = layout_text_;
  }
  if (l) return *l;
  if (text) return parse_json(*text);  // checked when it arrived
  return std::nullopt;
}

ListenerId Object::on_changed(std::function<void()> fn) {
  auto s = session_.lock();
  if (!s) return 0;
  std::lock_guard lock(s->mutex_);
  ListenerId id = s->next_listener_++;
  auto shared = std::make_shared<ListenerFn<>>(std::move(fn));
  changed_.push_back({id, shared});
  // The engine lists a handle in `change` only on a valid-to-invalid transition, and an object whose layout
  // was never computed (or was invalidated and not fetched since) is already invalid: no later selection
  // would be reported. So a listener added in that state, with no fetch in flight, is told at once that
  // the data is not current: its fetch makes the object valid, and from then on every edge is reported.
  if (!closed_ && !s->closing_ && !valid_ && fetching_ == 0 && !layout_method().empty()) {
    s->events_->post(s->guarded([shared] { (*shared)(); }));
  }
  return id;
}

std::string_view Object::layout_method() const noexcept {
  if (handle_.load(std::memory_order_relaxed) == kGlobalHandle) return {};
  if (!is_known_class(type_)) return "GetLayout";  // a class the spec does not describe: a generic object
  if (find_method(type_, "GetLayout")) return "GetLayout";
  if (find_method(type_, "GetAppLayout")) return "GetAppLayout";
  return {};  // Field, Variable: no layout to fetch
}

ListenerId Object::on_closed(std::function<void()> fn) {
  auto s = session_.lock();
  if (!s) return 0;
  std::lock_guard lock(s->mutex_);
  ListenerId id = s->next_listener_++;
  closed_listeners_.push_back({id, std::make_shared<ListenerFn<>>(std::move(fn))});
  return id;
}

void Object::remove_listener(ListenerId id) {
  auto s = session_.lock();
  if (!s) return;
  std::lock_guard lock(s->mutex_);
  detail::erase_listener(changed_, id);
  detail::erase_listener(closed_listeners_, id);
}

void Object::watch(std::function<void(const CallResult&)> fn) {
  auto s = session_.lock();
  if (!s) return;
  bool fetch_now = false;
  {
    std::lock_guard lock(s->mutex_);
    if (closed_) return;
    if (watcher_) watcher_->turn_off();
    watcher_ = std::make_shared<ListenerFn<const CallResult&>>(std::move(fn));
    if (!valid_ && fetching_ == 0 && !watch_inflight_) fetch_now = true;
    if (valid_ && (layout_ || layout_text_)) {
      // Deliver the current layout at once so a watcher always starts with data.
      auto w = watcher_;
      auto l = layout_;
      auto text = layout_text_;
      s->events_->post(s->guarded([w, l, text] {
        CallResult r;
        json::value layout = l ? *l : parse_json(*text).value_or(json::value());
        r.result = json::object{{"qLayout", std::move(layout)}};
        (*w)(r);
      }));
    }
  }
  if (fetch_now) s->start_watch_fetch(shared_from_this());
}

void Object::unwatch() {
  auto s = session_.lock();
  if (!s) return;
  std::lock_guard lock(s->mutex_);
  if (watcher_) watcher_->turn_off();
  watcher_.reset();
}

std::int64_t Object::call(std::string_view method, std::string_view params_json, CallOptions opts,
                          CallCallback cb, Error* refused) {
  auto s = session_.lock();
  if (!s) {
    Error e = gone_error();
    if (refused) *refused = e;
    CallResult r;
    r.error = std::move(e);
    if (cb) cb(r);  // no session left to deliver on
    return 0;
  }
  // Refused (a closed object, a closing session) under the session's lock, with the call itself.
  return s->start_call(Session::CallVia::object, shared_from_this(), handle(), method, params_json, opts,
                       std::move(cb), false, refused);
}

CallResult Object::call_sync(std::string_view method, std::string_view params_json, CallOptions opts) {
  auto s = session_.lock();
  CallResult r;
  if (!s) {
    r.error = gone_error();
    return r;
  }
  // A zombie (or a closing session) is refused before a blocking call is (from a callback, ErrorKind::busy):
  // a look under the lock of its own, as this path is not the one that takes it once per call.
  if (closed()) {
    auto info = s->close_info();
    r.error = info && info->error.kind == ErrorKind::protocol ? info->error
                                                              : Session::closed_object_error(handle());
    return r;
  }
  return Session::wait_for([&](CallCallback done) {
    s->start_call(Session::CallVia::object, shared_from_this(), handle(), method, params_json, opts,
                  std::move(done), true);
  });
}

Error Object::gone_error() {
  return Error::make(ErrorKind::closed, "the session of this object is gone");
}

// ---------------------------------------------------------------------------------------- changes and closes
void Session::apply_change(int handle, Batch& batch, std::vector<std::shared_ptr<Object>>& refetch) {
  auto it = objects_.find(handle);
  if (it == objects_.end()) return;
  Object& obj = *it->second;
  ++obj.gen_;
  if (!obj.armed_) return;  // not fetched since the last reported change: nothing new to report
  obj.armed_ = false;
  obj.valid_ = false;
  for (auto& l : obj.changed_) batch.push_back(guarded([fn = l.fn] { (*fn)(); }));
  if (obj.watcher_) {
    if (obj.watch_inflight_) {
      obj.watch_dirty_ = true;
    } else {
      refetch.push_back(it->second);
    }
  }
}

void Session::close_object(const std::shared_ptr<Object>& obj, Batch& batch) {
  if (obj->closed_) return;
  obj->closed_ = true;
  obj->valid_ = false;
  obj->delta_bases_.clear();
  obj->watcher_.reset();
  if (obj->handle_ == doc_handle_) doc_handle_ = 0;
  for (auto& l : obj->closed_listeners_) batch.push_back(guarded([fn = l.fn] { (*fn)(); }));
}

// ----------------------------------------------------------------------------------------------------- watch
void Session::start_watch_fetch(const std::shared_ptr<Object>& obj) {
  {
    std::lock_guard lock(mutex_);
    if (obj->closed_ || !obj->watcher_ || obj->watch_inflight_ || obj->watch_timer_) return;
    auto interval = options_.watch_min_interval;
    if (interval.count() > 0) {
      auto now = std::chrono::steady_clock::now();
      if (now < obj->watch_next_) {
        // Throttled: one fetch when the interval ends covers every change until then.
        obj->watch_timer_ = true;
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(obj->watch_next_ - now);
        std::weak_ptr<Object> weak = obj;
        context_->schedule(wait, [weak, self = weak_from_this()] {
          auto o = weak.lock();
          auto s = self.lock();
          if (!o || !s) return;
          {
            std::lock_guard guard(s->mutex_);
            o->watch_timer_ = false;
          }
          s->start_watch_fetch(o);
        });
        return;
      }
      obj->watch_next_ = now + interval;
    }
    obj->watch_inflight_ = true;
    obj->watch_dirty_ = false;
  }
  std::string_view method = obj->type_ == "Doc" ? "GetAppLayout" : "GetLayout";
  std::weak_ptr<Object> weak = obj;
  start_call(
      CallVia::internal, obj, obj->handle(), method, "[]", {},
      [weak, self = weak_from_this()](CallResult& r) {
        auto o = weak.lock();
        auto s = self.lock();
        if (!o || !s) return;
        bool again = false;
        std::shared_ptr<ListenerFn<const CallResult&>> w;
        {
          std::lock_guard lock(s->mutex_);
          o->watch_inflight_ = false;
          w = o->watcher_;
          // A change during the fetch makes this layout stale: fetch again rather than deliver it.
          bool stale = r.ok() && !o->valid_;
          again = w && !o->closed_ && (o->watch_dirty_ || stale);
          o->watch_dirty_ = false;
          if (w && (!stale || !r.ok())) {
            auto shared = std::make_shared<CallResult>(std::move(r));
            s->events_->post(s->guarded([w, shared] { (*w)(*shared); }));
          }
        }
        if (again) s->start_watch_fetch(o);
      },
      true);
}

}  // namespace qix::core
