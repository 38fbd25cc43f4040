#include "transport/memory_transport.hpp"

#include "session/context.hpp"

namespace qix::core {

void MemoryTransport::open(std::weak_ptr<TransportHandler> handler) {
  {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
    open_called_ = true;
  }
  cv_.notify_all();
}

bool MemoryTransport::wait_open_called(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return open_called_; });
}

std::shared_ptr<TransportHandler> MemoryTransport::handler() {
  std::lock_guard lock(mutex_);
  return handler_.lock();
}

void MemoryTransport::accept() {
  {
    std::lock_guard lock(mutex_);
    opened_ = true;
  }
  if (auto h = handler()) h->on_open();
}

void MemoryTransport::fail_open(Error error) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  CloseInfo info;
  info.error = std::move(error);
  if (auto h = handler()) h->on_close(info);
}

void MemoryTransport::send(std::string text) {
  std::function<void(const std::string&)> hook;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (drop_after_) {
      if (*drop_after_ == 0) return;
      --*drop_after_;
    }
    sent_.push_back(text);
    hook = on_send;
  }
  cv_.notify_all();
  if (hook) hook(text);
}

void MemoryTransport::close(int code, std::string reason) {
  std::weak_ptr<TransportHandler> w;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    client_close_ = code;
    w = handler_;
  }
  cv_.notify_all();
  CloseInfo info;
  info.code = code;
  info.reason = std::move(reason);
  info.by_client = true;
  context_->post_io([w, info] {
    if (auto h = w.lock()) h->on_close(info);
  });
}

void MemoryTransport::deliver(std::string text) {
  deliver_each(&text, 1);
}

void MemoryTransport::deliver_burst(std::vector<std::string> texts) {
  deliver_each(texts.data(), texts.size());
}

void MemoryTransport::deliver_each(std::string* texts, std::size_t count) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
  }
  if (auto h = handler()) {
    if (count > 0)
      h->on_frames(std::span<std::string>(texts, count), false);  // (the test's bytes: unchecked)
  }
}

void MemoryTransport::remote_close(const CloseInfo& info) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  cv_.notify_all();
  if (auto h = handler()) h->on_close(info);
}

void MemoryTransport::drop_sends_after(std::size_t n) {
  std::lock_guard lock(mutex_);
  drop_after_ = n;
}

std::vector<std::string> MemoryTransport::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::size_t MemoryTransport::sent_count() const {
  std::lock_guard lock(mutex_);
  return sent_.size();
}

bool MemoryTransport::wait_sent(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return sent_.size() >= n; });
}

bool MemoryTransport::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<int> MemoryTransport::client_close_code() const {
  std::lock_guard lock(mutex_);
  return client_close_;
}

}  // namespace qix::core
