// A scripted engine for unit tests: it sits on the far side of a MemoryTransport, reads what the session
// sends and answers frame by frame. Answers are delivered on the test's thread (standing in for I/O).
#pragma once

#include "json/json.hpp"
#include "session/session.hpp"
#include "transport/memory_transport.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

namespace qix::test {

using namespace std::chrono_literals;
namespace json = boost::json;

struct Request {
  std::int64_t id = 0;
  std::string method;
  int handle = 0;
  json::value params;
  bool delta = false;
  json::value raw;
};

inline Request parse_request(const std::string& text) {
  Request r;
  r.raw = json::parse(text);
  auto& o = r.raw.as_object();
  r.id = o.at("id").to_number<std::int64_t>();
  r.method = std::string(o.at("method").as_string());
  r.handle = o.at("handle").to_number<int>();
  r.params = o.at("params");
  if (auto* d = o.if_contains("delta")) r.delta = d->as_bool();
  return r;
}

class FakeEngine {
 public:
  explicit FakeEngine(core::SessionOptions opts = {}, std::shared_ptr<core::Context> ctx = nullptr)
      : context(ctx ? std::move(ctx) : core::Context::create()),
        transport(std::make_shared<core::MemoryTransport>(context)),
        session(core::Session::create(context, transport, std::move(opts))) {}

  ~FakeEngine() {
    session->close();
    session.reset();
  }

  /// Opens the session and completes the handshake.
  void open() {
    std::promise<core::Error> p;
    session->open([&](const core::Error& e) { p.set_value(e); });
    transport->accept();
    auto e = p.get_future().get();
    ASSERT_FALSE(e) << e.describe();
  }

  /// The n-th frame the session sent (0-based), waiting for it.
  Request request(std::size_t n) {
    EXPECT_TRUE(transport->wait_sent(n + 1, 5s)) << "the session did not send request #" << n;
    auto sent = transport->sent();
    if (sent.size() <= n) return {};
    return parse_request(sent[n]);
  }
  /// The next frame not yet read with next().
  Request next() { return request(cursor_++); }

  void send(const std::string& frame) { transport->deliver(frame); }
  void reply(std::int64_t id, const std::string& result_json, const std::string& extra = "") {
    send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":)" + result_json + extra + "}");
  }
  void reply_delta(std::int64_t id, const std::string& result_json) {
    send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"delta":true,"result":)" + result_json + "}");
  }
  void reply_error(std::int64_t id, int code, const std::string& parameter, const std::string& message) {
    send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"error":{"code":)" + std::to_string(code) +
         R"(,"parameter":")" + parameter + R"(","message":")" + message + R"("}})");
  }
  void push_change(const std::string& handles) { send(R"({"jsonrpc":"2.0","change":)" + handles + "}"); }

  /// Opens a doc through OpenDoc and returns its proxy (handle `h`).
  std::shared_ptr<core::Object> open_doc(int h = 1) {
    std::promise<core::CallResult> p;
    session->call(-1, "OpenDoc", R"(["demo"])", {}, [&](core::CallResult& r) { p.set_value(std::move(r)); });
    auto req = next();
    reply(req.id, R"({"qReturn":{"qType":"Doc","qHandle":)" + std::to_string(h) + R"(,"qGenericId":"demo"}})",
          R"(,"change":[)" + std::to_string(h) + "]");
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << r.error.describe();
    return r.object;
  }

  /// Calls `method` on `handle`, answers it with `result_json`, and returns the result.
  core::CallResult answered(int handle, const std::string& method, const std::string& result_json) {
    auto f = call(handle, method);
    reply(next().id, result_json);
    return f.get();
  }

  /// Creates a session object on the doc (handle 1) answered with handle `h` and id `id`.
  std::shared_ptr<core::Object> create_object(int h = 2, const std::string& id = "o1") {
    auto f = call(1, "CreateSessionObject", R"([{"qInfo":{"qType":"x"}}])");
    reply(next().id, R"({"qReturn":{"qType":"GenericObject","qHandle":)" + std::to_string(h) +
                         R"(,"qGenericId":")" + id + R"("}})");
    return f.get().object;
  }

  /// Issues a call and returns a future of its result.
  std::future<core::CallResult> call(int handle, const std::string& method, const std::string& params = "[]",
                                     core::CallOptions opts = {}) {
    auto p = std::make_shared<std::promise<core::CallResult>>();
    auto f = p->get_future();
    session->call(handle, method, params, opts, [p](core::CallResult& r) { p->set_value(std::move(r)); });
    return f;
  }

  std::shared_ptr<core::Context> context;
  std::shared_ptr<core::MemoryTransport> transport;
  std::shared_ptr<core::Session> session;

 private:
  std::size_t cursor_ = 0;
};

/// Counts events and lets a test wait for a count.
class Counter {
 public:
  void add(int n = 1) {
    // Notify under the lock: a waiter that returns may destroy the Counter right after.
    std::lock_guard l(m_);
    v_ += n;
    cv_.notify_all();
  }
  int get() const {
    std::lock_guard l(m_);
    return v_;
  }
  bool wait_for(int n, std::chrono::milliseconds t = 5s) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, t, [&] { return v_ >= n; });
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  int v_ = 0;
};

/// Waits until every event queued on the session's dispatcher so far has run.
inline void drain_events(core::Session& s) {
  if (s.options().poll_events) return;
  std::promise<void> p;
  // A call on a closed/unknown handle completes through the event queue, after everything queued before.
  s.call(987654, "Drain", "[]", {}, [&](core::CallResult&) { p.set_value(); });
  p.get_future().wait();
}

/// Proves that nothing more is on its way to the engine: every event queued so far runs (drain_events), then
/// a marker call goes out. Returns the method of the next frame the engine reads: "QuietMarker" when nothing
/// else was sent before it (the marker is then answered); anything else names what was. Frames are sent in
/// the order they are issued, so a fetch that an earlier event started comes before the marker.
inline std::string next_method_after_quiet(FakeEngine& e) {
  drain_events(*e.session);
  auto marker = e.call(-1, "QuietMarker");
  auto req = e.next();
  if (req.method == "QuietMarker") {
    e.reply(req.id, "{}");
    marker.get();
  }
  return req.method;
}

}  // namespace qix::test
