// The C ABI of libqix (include/qix/qix.h): sessions, their calls, listeners and event delivery.
#include "internal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

namespace {

using namespace qix::capi;

std::shared_ptr<core::Session> create_session(qix_context* ctx, const qix_options* opts) {
  if (!ctx) ctx = qix_context_default();
  if (!ctx) throw std::runtime_error("no default context");
  qix_options defaults;
  const qix_options& o = opts ? *opts : defaults;
  core::ConnectOptions conn = o.conn;
  conn.url = build_url_of(o);
  core::SessionOptions so = o.session;
  if (so.poll_events && !o.inline_given) so.inline_events = false;  // the default gives way to events.poll
  conn.take_waiting_reads = so.inline_events && !so.poll_events;
  if (o.traffic) {
    auto cb = o.traffic;
    auto payload = o.traffic_payload;
    so.traffic = [cb, payload](bool sent, std::string_view frame) {
      std::string copy(frame);  // NUL-terminated for C
      cb(sent ? 1 : 0, copy.c_str(), copy.size(), payload);
    };
  }
  if (so.reconnect.policy != core::ReconnectOptions::Policy::none) {
    // Each reconnect attempt: the same URL, headers and TLS settings. The lambda holds the context
    // weakly (the context owns the session's timers, so it outlives every attempt that can run).
    std::weak_ptr<core::Context> weak_ctx = ctx->ctx;
    so.reconnect.transport = [weak_ctx, conn]() -> std::shared_ptr<core::Transport> {
      auto c = weak_ctx.lock();
      if (!c) return nullptr;
      return core::make_websocket_transport(c, conn);
    };
  }
  auto transport = core::make_websocket_transport(ctx->ctx, std::move(conn));
  return core::Session::create(ctx->ctx, std::move(transport), std::move(so));
}

// Marks the end of the session's events for qix_session_wait_closed. The core queues a CLOSED event as one
// batch: the completions of the calls still pending, the objects' closed events, then the state listeners in
// the order they were added, each a task of the session's event queue, posted in that order. This listener
// is kept the last state listener (moved after each user's), so when it runs, every task of that
// batch has run. It is registered before the session opens, so it sees every state event. Called with
// h.mutex held.
void place_drain_listener_last_locked(qix_session& h) {
  if (h.drain_listener != 0) {
    // Moved, not registered again: a CLOSED event already queued for it must still reach it (removing a
    // listener drops its queued events), or qix_session_wait_closed() would wait for ever.
    h.s->move_state_listener_last(h.drain_listener);
    return;
  }
  std::weak_ptr<qix_session> weak = h.self;
  auto id = h.s->on_state([weak](core::SessionState st, const core::CloseInfo*) {
    if (st != core::SessionState::closed) return;
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->drained_mutex);
    self->drained = true;
    self->drained_cv.notify_all();
  });
  h.drain_listener = id;
}

qix_session* new_session_handle(std::shared_ptr<core::Session> s) {
  auto h = std::make_shared<qix_session>();
  h->s = std::move(s);
  h->self = h;
  std::lock_guard lock(h->mutex);
  place_drain_listener_last_locked(*h);
  return h.get();
}

// The body of qix_session_free: closes the session, removes the user's listeners, drops the user's reference.
void release_session_handle(qix_session* session) {
  session->alive = false;
  std::vector<core::ListenerId> ids;
  {
    std::lock_guard lock(session->mutex);
    ids.swap(session->listeners);
  }
  for (auto id : ids) session->s->remove_listener(id);
  session->s->close();
  session->s->set_poll_ready({});  // not called after qix_session_free() (the close may have called it)
  // Drop the user's reference last; callbacks running now hold their own.
  auto keep = std::move(session->self);
  keep.reset();
}

// Options that exclude each other, refused before anything starts: nullptr when the combination is valid.
const char* conflicting_options(const qix_options* opts) {
  if (opts && opts->session.poll_events && opts->session.inline_events && opts->inline_given) {
    return "the options events.inline and events.poll exclude each other (callbacks run on the I/O thread, "
           "or where the host polls)";
  }
  return nullptr;
}

}  // namespace

extern "C" {

int qix_session_open(qix_session** out, qix_context* ctx, const qix_options* opts, qix_open_cb cb,
                     void* payload) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_open: out is NULL");
  *out = nullptr;
  if (const char* why = conflicting_options(opts))
    return fail(QIX_EINVAL, std::string("qix_session_open: ") + why);
  auto s = create_session(ctx, opts);
  qix_session* h = new_session_handle(s);
  std::weak_ptr<qix_session> weak = h->self;
  s->open([weak, cb, payload](const core::Error& e) {
    if (!cb) return;
    auto self = weak.lock();
    if (!self || !self->alive) return;
    if (e) {
      qix_error err = make_error(e);
      cb(self.get(), err.status, &err, payload);
    } else {
      cb(self.get(), QIX_OK, nullptr, payload);
    }
  });
  *out = h;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_open_sync(qix_session** out, qix_context* ctx, const qix_options* opts, int timeout_ms) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_open_sync: out is NULL");
  *out = nullptr;
  if (timeout_ms < 0) return fail(QIX_EINVAL, "qix_session_open_sync: negative timeout");
  if (const char* why = conflicting_options(opts)) {
    return fail(QIX_EINVAL, std::string("qix_session_open_sync: ") + why);
  }
  qix_session* h = new_session_handle(create_session(ctx, opts));  // before the open: sees every state event
  core::Error e = h->s->open_sync(ms(timeout_ms));
  if (e) {
    release_session_handle(h);
    return fail(e);
  }
  *out = h;
  return QIX_OK;
  QIX_CATCH
}

void qix_session_close(qix_session* session) {
  QIX_TRY
  if (session && session->s) session->s->close();
  QIX_CATCH_VOID
}

void qix_session_free(qix_session* session) {
  QIX_TRY
  if (!session) return;
  release_session_handle(session);
  QIX_CATCH_VOID
}

int qix_session_wait_closed(qix_session* session, int timeout_ms) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_wait_closed: session is NULL");
  if (timeout_ms < -1) return fail(QIX_EINVAL, "qix_session_wait_closed: timeout_ms < -1");
  std::unique_lock lock(session->drained_mutex);
  if (session->drained) return QIX_OK;
  if (timeout_ms != 0 && (core::SerialQueue::in_dispatcher_thread() || core::Context::on_an_io_thread())) {
    return fail(QIX_EBUSY,
                core::Context::on_an_io_thread()
                    ? "qix_session_wait_closed: waiting on the I/O thread (a callback with "
                      "events.inline) would stall the reading of the session's frames"
                    : "qix_session_wait_closed: waiting inside a callback would stall event delivery");
  }
  auto drained = [session] { return session->drained; };
  if (timeout_ms < 0) {
    session->drained_cv.wait(lock, drained);
  } else if (!session->drained_cv.wait_for(lock, ms(timeout_ms), drained)) {
    return fail(QIX_ETIMEOUT, session->s->state() == core::SessionState::closed
                                  ? "the session is closed but its last events have not run yet"
                                  : "the session is not closed");
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_session_state(const qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_state: session is NULL");
  switch (session->s->state()) {
    case core::SessionState::connecting:
      return QIX_STATE_CONNECTING;
    case core::SessionState::connected:
      return QIX_STATE_CONNECTED;
    case core::SessionState::closed:
      return QIX_STATE_CLOSED;
    case core::SessionState::suspended:
      return QIX_STATE_SUSPENDED;
  }
  return QIX_STATE_CLOSED;
  QIX_CATCH
}

int qix_session_close_info(int* out_code, char** out_reason, const qix_session* session) {
  QIX_TRY
  if (out_reason) *out_reason = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_close_info: session is NULL");
  auto info = session->s->close_info();
  if (!info) return fail(QIX_ENOTFOUND, "the session is not closed");
  if (out_code) *out_code = info->code;
  if (out_reason) *out_reason = dup_string(info->describe());
  return QIX_OK;
  QIX_CATCH
}

int64_t qix_session_pending_calls(const qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_pending_calls: session is NULL");
  return static_cast<int64_t>(session->s->pending_calls());
  QIX_CATCH
}

int qix_session_call(int64_t* out_id, qix_session* session, const char* method, const char* params_json,
                     int flags, int timeout_ms, qix_call_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session) return fail(QIX_EINVAL, "qix_session_call: session is NULL");
  return do_call(out_id, session->s, nullptr, core::kGlobalHandle, method, params_json, flags, timeout_ms, cb,
                 payload);
  QIX_CATCH
}

void qix_batch_begin(void) {
  core::OutputBatch::begin();
}

void qix_batch_end(void) {
  core::OutputBatch::end();  // noexcept: the held output's flushes do not throw
}

int qix_session_call_sync(qix_result** out, qix_session* session, const char* method, const char* params_json,
                          int flags, int timeout_ms) {
  QIX_TRY
  if (out) *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_call_sync: session is NULL");
  return do_call_sync(out, session->s, nullptr, core::kGlobalHandle, method, params_json, flags, timeout_ms);
  QIX_CATCH
}

int qix_session_call_handle(int64_t* out_id, qix_session* session, int handle, const char* method,
                            const char* params_json, int flags, int timeout_ms, qix_call_cb cb,
                            void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session) return fail(QIX_EINVAL, "qix_session_call_handle: session is NULL");
  return do_call(out_id, session->s, nullptr, handle, method, params_json, flags, timeout_ms, cb, payload);
  QIX_CATCH
}

int qix_session_call_handle_sync(qix_result** out, qix_session* session, int handle, const char* method,
                                 const char* params_json, int flags, int timeout_ms) {
  QIX_TRY
  if (out) *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_call_handle_sync: session is NULL");
  return do_call_sync(out, session->s, nullptr, handle, method, params_json, flags, timeout_ms);
  QIX_CATCH
}

int qix_session_cancel(qix_session* session, int64_t id) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_cancel: session is NULL");
  if (!session->s->cancel(id)) return fail(QIX_ENOTFOUND, "no pending call with id " + std::to_string(id));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_global(qix_object** out, qix_session* session) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_global: out is NULL");
  *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_global: session is NULL");
  auto g = session->s->global();
  if (!g) {
    // A server that does not speak QIX ended the session: say that rather than "closed".
    auto info = session->s->close_info();
    if (info && info->error.kind == core::ErrorKind::protocol) return fail(info->error);
    return fail(QIX_ECLOSED, "the session is closed");
  }
  *out = new_object_handle(std::move(g));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_doc(qix_object** out, qix_session* session) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_doc: out is NULL");
  *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_doc: session is NULL");
  auto d = session->s->doc();
  if (!d) return fail(QIX_ENOTFOUND, "no doc is open in this session");
  *out = new_object_handle(std::move(d));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_on_state(uint64_t* out_id, qix_session* session, qix_state_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session || !cb) return fail(QIX_EINVAL, "qix_session_on_state: NULL argument");
  std::weak_ptr<qix_session> weak = session->self;
  auto id = session->s->on_state([weak, cb, payload](core::SessionState st, const core::CloseInfo* info) {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    int state = st == core::SessionState::connected   ? (info ? QIX_STATE_RESUMED : QIX_STATE_CONNECTED)
                : st == core::SessionState::closed    ? QIX_STATE_CLOSED
                : st == core::SessionState::suspended ? QIX_STATE_SUSPENDED
                                                      : QIX_STATE_CONNECTING;
    std::string reason;
    int code = 0;
    if (info) {
      code = info->code;
      reason = info->describe();
    }
    cb(self.get(), state, code, reason.c_str(), payload);
  });
  {
    std::lock_guard lock(session->mutex);
    session->listeners.push_back(id);
    place_drain_listener_last_locked(*session);
  }
  if (out_id) *out_id = id;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_on_notification(uint64_t* out_id, qix_session* session, const char* method, int replay,
                                qix_notification_cb cb, void* payload) {
  QIX_TRY
  if (out_id) *out_id = 0;
  if (!session || !cb) return fail(QIX_EINVAL, "qix_session_on_notification: NULL argument");
  std::weak_ptr<qix_session> weak = session->self;
  auto id = session->s->on_notification(
      method ? method : "",
      [weak, cb, payload](const core::Notification& n) {
        auto self = weak.lock();
        if (!self || !self->alive) return;
        std::string params = core::to_json(n.params);
        cb(self.get(), n.method.c_str(), params.c_str(), payload);
      },
      replay != 0);
  {
    std::lock_guard lock(session->mutex);
    session->listeners.push_back(id);
  }
  if (out_id) *out_id = id;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_remove_listener(qix_session* session, uint64_t id) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_remove_listener: session is NULL");
  {
    std::lock_guard lock(session->mutex);
    auto it = std::find(session->listeners.begin(), session->listeners.end(), id);
    if (it == session->listeners.end()) return fail(QIX_ENOTFOUND, "no such listener");
    session->listeners.erase(it);
  }
  session->s->remove_listener(id);
  return QIX_OK;
  QIX_CATCH
}

int qix_session_notifications(char** out, const qix_session* session) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_session_notifications: out is NULL");
  *out = nullptr;
  if (!session) return fail(QIX_EINVAL, "qix_session_notifications: session is NULL");
  json::array arr;
  for (auto& n : session->s->notification_history()) {
    arr.push_back(json::object{{"method", n.method}, {"params", n.params}});
  }
  *out = dup_string(core::to_json(arr));
  return QIX_OK;
  QIX_CATCH
}

int qix_session_poll(qix_session* session, int timeout_ms) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_poll: session is NULL");
  auto timeout = timeout_ms < 0 ? std::chrono::milliseconds(std::chrono::hours(24 * 365)) : ms(timeout_ms);
  auto n = session->s->poll(timeout);
  return static_cast<int>(std::min<std::size_t>(n, INT32_MAX));
  QIX_CATCH
}

int qix_session_poll_fd(qix_session* session, int* out_fd) {
  QIX_TRY
  if (!out_fd) return fail(QIX_EINVAL, "qix_session_poll_fd: out_fd is NULL");
  *out_fd = -1;
  if (!session) return fail(QIX_EINVAL, "qix_session_poll_fd: session is NULL");
  if (!session->s->options().poll_events) {
    return fail(QIX_EINVAL, "qix_session_poll_fd: the session was not opened with the option events.poll");
  }
  int fd = session->s->poll_fd();
  if (fd < 0) {
    int err = errno;
    if (err == ENOSYS) {
      return fail(QIX_EINVAL,
                  "qix_session_poll_fd: no readiness descriptor on this platform (needs eventfd)");
    }
    return fail(QIX_ENOMEM, "qix_session_poll_fd: eventfd: " + std::generic_category().message(err));
  }
  *out_fd = fd;
  return QIX_OK;
  QIX_CATCH
}

int qix_session_set_poll_ready(qix_session* session, qix_poll_ready_cb cb, void* user) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_set_poll_ready: session is NULL");
  std::function<void()> fn;
  if (cb) fn = [cb, user] { cb(user); };
  if (!session->s->set_poll_ready(std::move(fn))) {
    return fail(QIX_EINVAL,
                "qix_session_set_poll_ready: the session was not opened with the option events.poll");
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_session_hand_over_events(qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_hand_over_events: session is NULL");
  if (session->s->options().poll_events) {
    return fail(QIX_EINVAL, "qix_session_hand_over_events: the session's events run in qix_session_poll()");
  }
  if (!session->s->hand_over_events()) {
    return fail(QIX_ENOTFOUND,
                "qix_session_hand_over_events: none of the session's events is being delivered");
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_io_step_aside(void) {
  QIX_TRY
  if (!core::Context::step_aside_before_waiting()) {
    return fail(QIX_ENOTFOUND, "qix_io_step_aside: not in a callback run on an I/O thread");
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_after_callbacks(qix_after_cb fn, void* payload) {
  QIX_TRY
  if (!fn) return fail(QIX_EINVAL, "qix_after_callbacks: fn is NULL");
  if (!core::SerialQueue::at_run_end([fn, payload] { fn(payload); })) {
    return fail(QIX_ENOTFOUND, "qix_after_callbacks: not in a callback delivered from a session's queue");
  }
  return QIX_OK;
  QIX_CATCH
}

int qix_session_wake(qix_session* session) {
  QIX_TRY
  if (!session) return fail(QIX_EINVAL, "qix_session_wake: session is NULL");
  session->s->wake();
  return QIX_OK;
  QIX_CATCH
}

}  // extern "C"
