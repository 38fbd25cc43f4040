// An in-memory Transport for tests (and for hosts that move frames themselves): whatever the session sends
// is recorded; the test plays the engine by calling deliver()/remote_close(), with failure injection.
// Thread-safe. Events reach the handler on the thread that calls accept()/deliver()/remote_close(), which
// stands in for the I/O thread; the on_close that follows a client close() is posted to the context's I/O
// thread (never run inside close(), as the Transport contract says).
#pragma once

#include "transport/transport.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

namespace qix::core {

class Context;

class MemoryTransport final : public Transport {
 public:
  explicit MemoryTransport(std::shared_ptr<Context> context) : context_(std::move(context)) {}

  /// When set, called (outside the lock) for every frame sent, on the sending thread; a test engine can
  /// answer from here by calling deliver() later from its own thread, never from inside the hook.
  std::function<void(const std::string&)> on_send;

  void open(std::weak_ptr<TransportHandler> handler) override;
  void send(std::string text) override;
  void close(int code, std::string reason) override;

  /// Completes the open: the handler's on_open runs now (or, with fail_open, on_close with that error).
  void accept();
  void fail_open(Error error);
  /// Hands one frame to the session as if received.
  void deliver(std::string text);
  /// Hands several frames to the session as one read would: each, then the end of the burst.
  void deliver_burst(std::vector<std::string> texts);
  /// Ends the connection as the peer would (code 1006 with an error = network loss).
  void remote_close(const CloseInfo& info);

  /// Failure injection: after `n` more successful sends, further sends are swallowed (never delivered).
  void drop_sends_after(std::size_t n);

  std::vector<std::string> sent() const;
  std::size_t sent_count() const;
  /// Waits until at least `n` frames were sent; false on timeout.
  bool wait_sent(std::size_t n, std::chrono::milliseconds timeout) const;
  bool closed() const;
  /// Waits until the session called open() (so accept()/fail_open() reach it); false on timeout.
  bool wait_open_called(std::chrono::milliseconds timeout) const;
  std::optional<int> client_close_code() const;

 private:
  /// deliver()/deliver_burst(): `count` frames as one read, unless closed.
  void deliver_each(std::string* texts, std::size_t count);
  std::shared_ptr<TransportHandler> handler();
  std::shared_ptr<Context> context_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::weak_ptr<TransportHandler> handler_;
  std::vector<std::string> sent_;
  std::optional<std::size_t> drop_after_;
  std::optional<int> client_close_;
  bool opened_ = false;
  bool open_called_ = false;
  bool closed_ = false;
};

}  // namespace qix::core
