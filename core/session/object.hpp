// Object: the proxy of one engine handle (Global included), and the vocabulary of calls (CallOptions,
// CallResult) it shares with Session. Included by session/session.hpp; include that one.
//
// Threads: every public member function is thread-safe and never blocks, except call_sync() (see Session).
// An Object's state is guarded by its session's mutex.
#pragma once

#include "json/json.hpp"
#include "rpc/error.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qix::core {

class Session;
class Object;

inline constexpr int kGlobalHandle = -1;

struct CallOptions {
  /// Request the delta protocol for this call; nullopt uses the session's default. Only methods with
  /// exactly one out parameter besides qReturn (GetLayout, GetProperties, Get*Data ...) ever use delta.
  std::optional<bool> delta;
  /// Per-call timeout; nullopt uses the session's default; zero means none.
  std::optional<std::chrono::milliseconds> timeout;
  /// The caller reads the result as text (CallResult::text): when the answer is what the engine wrote (or a
  /// delta patch rebuilt it as text), CallResult::result is left null and no DOM is built; the result's text
  /// is still checked to be valid JSON. Results the core must amend still come as a DOM (text empty).
  bool text_result = false;
};

/// The outcome of one call. Exactly one is delivered per call that was issued.
struct CallResult {
  std::int64_t id = 0;
  Error error;  ///< kind == none on success
  /// The engine's `result` object (delta already applied); null on error, and null when the call asked for
  /// CallOptions::text_result and `text` holds the result.
  json::value result;
  /// The result's text: as the engine wrote it, or as a delta patch rebuilt it (CallOptions::text_result);
  /// empty when the result was amended (CreateSessionApp's qReturn) or rebuilt without text_result. When both
  /// are set they say the same. Saves writing the text again for callers that want text (the C API).
  std::string text;
  /// Where, in `text`, the value the C API hands out as the call's JSON is written (result's qReturn, else
  /// its only member): `text_value_at` and `text_value_size`; npos when `text` is empty or result has
  /// neither. Found in the same pass over the text as `text` itself.
  std::size_t text_value_at = std::string::npos;
  std::size_t text_value_size = 0;
  std::shared_ptr<Object>
      object;  ///< Set when result.qReturn referred to an object (same handle ⇒ same proxy).
  bool ok() const noexcept { return !error; }
};
using CallCallback = std::function<void(CallResult&)>;

using ListenerId = std::uint64_t;

/// A listener's function as the events queued for it hold it. Removing the listener turns it off, so an
/// event already queued for it is dropped instead of calling a function its owner may have freed (a call
/// already running on another thread finishes). Thread-safe.
template <class... A>
class ListenerFn {
 public:
  explicit ListenerFn(std::function<void(A...)> fn) : fn_(std::move(fn)) {}
  void operator()(A... args) const {
    if (live_.load(std::memory_order_acquire)) fn_(args...);
  }
  void turn_off() noexcept { live_.store(false, std::memory_order_release); }

 private:
  std::function<void(A...)> fn_;
  std::atomic<bool> live_{true};
};

namespace detail {
/// The value a delta patch applies to, kept as the caller last took it: a DOM, or (for callers taking
/// text, CallOptions::text_result) its text, patched as text; converted when the next caller differs.
/// `text` set: kept as text (shared with the object's kept layout, never written in place); otherwise `dom`
/// (null before the engine's first answer).
struct DeltaBase {
  json::value dom;
  std::shared_ptr<const std::string> text;
};
}  // namespace detail

/// A proxy for one engine handle. Obtained from CallResult::object or Session::object(); the same handle
/// gives the same proxy. Thread-safe. After its handle is closed (or the session ends) the proxy is a
/// zombie: calls fail with ErrorKind::closed.
class Object : public std::enable_shared_from_this<Object> {
 public:
  /// The engine's handle. It changes when a reconnect restores the object on a new connection.
  int handle() const noexcept { return handle_.load(std::memory_order_acquire); }
  const std::string& type() const noexcept { return type_; }
  /// The engine's id of the object (qGenericId). Never changes: a session object re-created after a
  /// reconnect is created with this id.
  const std::string& generic_id() const noexcept { return generic_id_; }
  const std::string& generic_type() const noexcept { return generic_type_; }
  std::shared_ptr<Session> session() const { return session_.lock(); }

  /// True when the last fetched data is current (fetched and not invalidated since).
  bool valid() const;
  bool closed() const;
  /// True when the engine listed the handle in a `suspend` array and it was not fetched since.
  bool suspended() const;
  /// A copy of the last layout fetched with GetLayout/GetAppLayout, if any.
  std::optional<json::value> layout() const;

  /// "changed": called on the valid→invalid edge. The engine reports an object in `change` only after its
  /// layout was computed, so a listener added while the object's data is not current and no fetch is in
  /// flight (never fetched, or changed and not fetched since) is also called once at once, on the event
  /// executor: fetch the layout; from that fetch on, each valid-to-invalid edge is reported once. Objects
  /// without a layout (Global, Field, Variable) are never called at once. "closed": once, when the handle
  /// is released.
  ListenerId on_changed(std::function<void()> fn);
  ListenerId on_closed(std::function<void()> fn);
  void remove_listener(ListenerId id);
  /// Keeps the layout fresh: fetches it now if not valid, and again after each change (one fetch in flight,
  /// bursts coalesced); `fn` gets each fresh layout (or the fetch's error). One watcher per object;
  /// a new watch() replaces it.
  void watch(std::function<void(const CallResult&)> fn);
  void unwatch();

  /// Session::call/call_sync on this object's handle (the current one: a reconnect may swap it), through the
  /// same path. On a zombie, or when the session is gone, no request id is used: call() returns 0 and `cb`
  /// gets ErrorKind::closed. `refused` as for Session::call.
  std::int64_t call(std::string_view method, std::string_view params_json, CallOptions opts, CallCallback cb,
                    Error* refused = nullptr);
  CallResult call_sync(std::string_view method, std::string_view params_json, CallOptions opts = {});

 private:
  friend class Session;
  /// The refusal of a call on a proxy whose session is gone (ErrorKind::closed).
  static Error gone_error();
  std::string_view layout_method() const noexcept;  // GetLayout, GetAppLayout, or "" (no layout)
  Object(std::weak_ptr<Session> s, int handle, std::string type, std::string id, std::string gtype)
      : session_(std::move(s)),
        handle_(handle),
        type_(std::move(type)),
        generic_id_(std::move(id)),
        generic_type_(std::move(gtype)) {}

  struct Listener {
    ListenerId id;
    std::shared_ptr<ListenerFn<>> fn;
  };

  /// How this handle was obtained, to obtain it again after a reconnect.
  struct Origin {
    std::weak_ptr<Object> parent;              // the object the call was made on
    std::string method;                        // the call that returned this handle
    std::string params;                        // its params as sent
    bool session_object = false;               // created by CreateSession{Object,Variable}
    std::shared_ptr<const json::value> props;  // session objects: last known properties
  };

  std::weak_ptr<Session> session_;
  std::atomic<int> handle_;
  const std::string type_;
  const std::string generic_id_;
  const std::string generic_type_;

  // Guarded by the session's mutex.
  bool closed_ = false;
  bool suspended_ = false;
  bool valid_ = false;
  bool armed_ = false;     // a change now is a valid→invalid edge to report
  std::uint64_t gen_ = 0;  // bumped by every change
  int fetching_ = 0;       // data fetches in flight
  std::vector<Listener> changed_;
  std::vector<Listener> closed_listeners_;
  /// Turned off when replaced or unwatched (results already queued for it are dropped); only dropped, still
  /// on, when the object closes (what was queued before the close is delivered).
  std::shared_ptr<ListenerFn<const CallResult&>> watcher_;
  bool watch_inflight_ = false;
  bool watch_dirty_ = false;
  bool watch_timer_ = false;                          // a throttled fetch is scheduled
  std::chrono::steady_clock::time_point watch_next_;  // earliest start of the next watch fetch
  std::shared_ptr<const json::value> layout_;
  /// Or the last layout as text, when the answer came as text only (CallOptions::text_result): parsed when
  /// asked for. At most one of layout_ and layout_text_ is set.
  std::shared_ptr<const std::string> layout_text_;
  std::unordered_map<std::string, detail::DeltaBase> delta_bases_;  // key: method + '\n' + out key
  Origin origin_;
  std::uint64_t seq_ = 0;  // creation order: a reconnect restores parents before children
  /// The method of the last delta-enabled call made on this object and whether delta applies to it (the
  /// method table's look-up is a binary search by class and name, string compares at every step; calls on
  /// one object mostly repeat one method).
  std::string delta_checked_method_;
  bool delta_checked_ok_ = false;
};

}  // namespace qix::core
