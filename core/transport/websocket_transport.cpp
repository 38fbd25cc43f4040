// Boost.Beast WebSocket transport. This and session/context.cpp are the only core translation units that
// include Asio/Beast (compile time on small machines matters).
#include "transport/websocket_transport.hpp"

#include "session/context.hpp"
#include "transport/url.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

namespace qix::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

Error network_error(const char* what, const beast::error_code& ec) {
  return Error::make(ErrorKind::network, std::string(what) + ": " + ec.message());
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// A deferred step, type-erased and move-only (a teardown waiting for the bytes ahead of it to be written).
struct Deferred {
  virtual ~Deferred() = default;
  virtual void run() = 0;
};
template <class F>
struct DeferredFn final : Deferred {
  explicit DeferredFn(F fn) : f(std::move(fn)) {}
  void run() override { f(); }
  F f;
};
template <class F>
std::unique_ptr<Deferred> make_deferred(F f) {
  return std::make_unique<DeferredFn<F>>(std::move(f));
}

// Where a CoalescingStream's bytes go: the transport, which owns them and the real socket writes. Called on
// the transport's strand only.
class WriteSink {
 public:
  /// Takes bytes to write. False once the connection's writes have failed.
  virtual bool append(const char* data, std::size_t n) = 0;
  /// Has what was appended written soon (after the tasks queued on the strand now).
  virtual void request_flush() = 0;
  /// Runs `then` once every byte appended so far is written (or the writes failed).
  virtual void after_flush(std::unique_ptr<Deferred> then) = 0;
  /// Bytes arrived from the peer (any bytes: the keep-alive's sign of life).
  virtual void note_read(std::size_t n) = 0;
  /// The next append() starts a close frame: no data frame may follow it.
  virtual void note_close_frame() = 0;

 protected:
  ~WriteSink() = default;
};

// The layer between Beast's WebSocket stream and the socket (or the TLS stream) that turns many small
// writes into few: every write Beast makes (the frames of messages, pings, pongs, close frames) is appended
// to the sink and completes at once, and the sink sends what has accumulated in one socket write, another
// when that one completes. Beast keeps its writes one at a time and in order, so the bytes on the wire are
// exactly Beast's, in Beast's order. Reads pass through.
template <class Next>
class CoalescingStream {
 public:
  using executor_type = typename Next::executor_type;
  using next_layer_type = Next;

  template <class... Args>
  explicit CoalescingStream(WriteSink& sink, Args&&... args)
      : sink_(&sink), next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }
  WriteSink& sink() noexcept { return *sink_; }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return asio::async_initiate<ReadToken, void(beast::error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          // The handler is the transport's read chain, which holds the transport (and so the sink) alive.
          next_.async_read_some(
              b, [sink = sink_, h = std::move(handler)](beast::error_code ec, std::size_t n) mutable {
                if (n) sink->note_read(n);
                std::move(h)(ec, n);
              });
        },
        token, buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return asio::async_initiate<WriteToken, void(beast::error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          std::size_t n = 0;
          bool ok = true;
          // Beast hands each frame it writes (ping, pong, close) to one call, header first.
          for (auto buf : beast::buffers_range_ref(b)) {
            if (buf.size() == 0) continue;
            if (*static_cast<const unsigned char*>(buf.data()) == 0x88) sink_->note_close_frame();
            break;
          }
          for (auto buf : beast::buffers_range_ref(b)) {
            ok = ok && sink_->append(static_cast<const char*>(buf.data()), buf.size());
            n += buf.size();
          }
          beast::error_code ec;
          if (!ok) {
            ec = asio::error::broken_pipe;
            n = 0;
          }
          asio::post(next_.get_executor(), beast::bind_front_handler(std::move(handler), ec, n));
          sink_->request_flush();
        },
        token, buffers);
  }

 private:
  WriteSink* sink_;
  Next next_;
};

// Beast's WebSocket close ends with a teardown of the layer below it: here, once the bytes ahead of it (the
// close frame) are written.
template <class Next, class TeardownHandler>
void async_teardown(beast::role_type role, CoalescingStream<Next>& s, TeardownHandler&& handler) {
  s.sink().after_flush(
      make_deferred([role, next = &s.next_layer(), h = std::forward<TeardownHandler>(handler)]() mutable {
        using websocket::async_teardown;
        async_teardown(role, *next, std::move(h));
      }));
}

template <class Next>
void teardown(beast::role_type role, CoalescingStream<Next>& s, beast::error_code& ec) {
  using websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

// Shared by the plain and TLS variants. `Stream` is websocket::stream<tcp_stream> or
// websocket::stream<ssl_stream<tcp_stream>>. All socket work runs on one strand.
template <class Derived>
class WsBase : public Transport, public WriteSink {
 public:
  WsBase(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url)
      : ctx_(ctx),
        opts_(std::move(opts)),
        url_(std::move(url)),
        strand_(asio::make_strand(ctx->io())),
        resolver_(strand_) {}

  void open(std::weak_ptr<TransportHandler> handler) override {
    handler_ = std::move(handler);
    asio::dispatch(strand_, [self = derived().shared_from_this()] { self->start_resolve(); });
  }

  // Sending. A message is framed (header, mask) into pending_, the bytes waiting for the socket, and pending_
  // leaves in one write. Two ways out:
  //  - direct: on an open plain connection, the sending thread writes pending_ itself, with a non-blocking
  //    send(2), when no write is in flight or scheduled. No wake of the I/O thread per message, which is most
  //    of a call's cost on a small machine. The system call is made outside out_mutex_: messages other
  //    threads send meanwhile are appended to pending_, and the writer sends them too before it leaves (one
  //    write for many threads' messages). What the socket does not take at once (its buffer is full) or a
  //    failed write is left to the strand's write (flush), which waits for room or reports the error as
  //    every write does.
  //  - through the strand: before the connection opens, on TLS (the TLS state belongs to the strand), or
  //    while a flush is scheduled, messages gather in the outbox and one task on the strand frames all of
  //    them (one post per burst, not per message).
  // Inside an event task (OutputBatch) the write (or the post) waits for the task's end: the calls it makes
  // go together.
  // The socket is only closed on the strand after direct_ is cleared and the writer, if any, has left
  // (stop_direct_and_wait), so a direct write never meets a closed (or reused) descriptor.
  void send(std::string text) override {
    std::unique_lock lock(out_mutex_);
    if (direct_ && !outbox_posted_) {
      append_frame(text);
      if (flushing_ || flush_posted_ || writer_active_) return;  // the write under way takes these bytes too
      if (OutputBatch::active()) {
        if (batch_registered_) return;
        batch_registered_ = true;
        lock.unlock();
        OutputBatch::at_end([self = derived().shared_from_this()] { self->end_batch(); });
        return;
      }
      return write_direct(lock);
    }
    outbox_.push_back(std::move(text));
    if (outbox_posted_) return;
    outbox_posted_ = true;
    lock.unlock();
    if (OutputBatch::active()) {
      OutputBatch::at_end([self = derived().shared_from_this()] { self->post_outbox(); });
    } else {
      post_outbox();
    }
  }

  void post_outbox() {
    asio::post(strand_, [self = derived().shared_from_this()] { self->take_outbox(); });
  }

  // The end of an event task that framed messages for a direct write.
  void end_batch() {
    std::unique_lock lock(out_mutex_);
    batch_registered_ = false;
    if (pending_.empty() || flushing_ || flush_posted_ || writer_active_) return;
    if (direct_) return write_direct(lock);
    request_flush_locked();  // direct writes stopped meanwhile (a close): the strand writes what was framed
  }

  // Writes pending_ on the calling thread: direct_, nothing in flight or scheduled, no other writer;
  // out_mutex_ held on entry and on return, released around each send(2). Loops while others' messages
  // arrived during the last write, a few times at most: a thread that sends for others is not held there by
  // a steady stream of them (the strand takes over).
  void write_direct(std::unique_lock<std::mutex>& lock) {
    constexpr int kMaxRounds = 8;
    writer_active_ = true;
    const int fd = direct_fd_;  // stays open while writer_active_ (stop_direct_and_wait)
    for (int round = 0; round < kMaxRounds && direct_ && !pending_.empty(); ++round) {
      writing_.swap(pending_);
      lock.unlock();
      std::size_t done = send_now(fd, writing_);
      lock.lock();
      if (done < writing_.size()) {
        // The socket is full, or the write failed: the rest goes first, then what came meanwhile, through
        // the strand's write, which waits for room or meets the error and reports it.
        writing_.erase(0, done);
        writing_.append(pending_);
        pending_.swap(writing_);
        writing_.clear();
        break;
      }
      writing_.clear();
    }
    if (writing_.capacity() > kKeptBuffer) std::string().swap(writing_);
    if (pending_.empty() && pending_.capacity() > kKeptBuffer) std::string().swap(pending_);
    writer_active_ = false;
    writer_idle_.notify_all();
    // What the socket did not take, what came after direct writes stopped or after the last round, a
    // teardown waiting for the bytes before it: the strand's.
    request_flush_locked();
  }

  // A non-blocking send(2) of `bytes` until done, the socket is full or it fails; returns what was sent.
  static std::size_t send_now(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t r = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r > 0) {
        done += static_cast<std::size_t>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    return done;
  }

  // Ends direct writes (out_mutex_ held). Called before the socket is closed or torn down, and when a close
  // frame is queued.
  void stop_direct_locked() {
    direct_ = false;
    direct_fd_ = -1;
  }
  // Before the socket is closed: ends direct writes and waits for the writer under way, if any, to leave (a
  // non-blocking system call: never long).
  void stop_direct_and_wait(std::unique_lock<std::mutex>& lock) {
    stop_direct_locked();
    writer_idle_.wait(lock, [this] { return !writer_active_; });
  }
  void stop_direct_and_wait() {
    std::unique_lock lock(out_mutex_);
    stop_direct_and_wait(lock);
  }

  void close(int code, std::string reason) override {
    asio::post(strand_, [self = derived().shared_from_this(), code, r = std::move(reason)]() mutable {
      self->do_close(code, std::move(r));
    });
  }

  std::string peer() const override {
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    std::string path = url_.target.substr(0, url_.target.find('?'));
    return (url_.secure ? "wss://" : "ws://") + host + ":" + url_.port + path;
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void start_resolve() {
    // An address needs no lookup (and Asio's resolver runs its lookups on a thread of its own, one more
    // thread per context that a host given as an address never needs).
    beast::error_code not_address;
    auto address = asio::ip::make_address(url_.host, not_address);
    if (!not_address) {
      auto port = static_cast<unsigned short>(std::stoi(url_.port));
      return on_resolve(
          {}, tcp::resolver::results_type::create(tcp::endpoint(address, port), url_.host, url_.port));
    }
    resolver_.async_resolve(
        url_.host, url_.port,
        [self = derived().shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
          self->on_resolve(ec, std::move(r));
        });
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (close_requested_) return finish_client_close();
    if (ec) return fail(network_error(("cannot resolve " + url_.host).c_str(), ec));
    auto& lowest = beast::get_lowest_layer(derived().ws());
    lowest.expires_after(opts_.connect_timeout);
    lowest.async_connect(results, [self = derived().shared_from_this()](
                                      beast::error_code e, const tcp::endpoint&) { self->on_connect(e); });
  }

  void on_connect(beast::error_code ec) {
    if (close_requested_) return finish_client_close();
    if (ec == beast::error::timeout) {
      return fail(
          Error::make(ErrorKind::timeout, "connect to " + url_.host + ":" + url_.port + " timed out"));
    }
    if (ec) return fail(network_error(("cannot connect to " + url_.host + ":" + url_.port).c_str(), ec));
    beast::error_code ignore;
    beast::get_lowest_layer(derived().ws()).socket().set_option(tcp::no_delay(true), ignore);
    derived().after_connect();
  }

  void start_ws_handshake() {
    auto& ws = derived().ws();
    beast::get_lowest_layer(ws).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = opts_.handshake_timeout;
    // Keep-alive is ours (keepalive_tick): Beast's idle timeout re-arms a timer for every message read,
    // a system call per message; ours looks once per period at whether any byte arrived.
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws.set_option(t);
    ws.read_message_max(opts_.max_message_size);
    ws.auto_fragment(false);
    ws.text(true);
    ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(http::field::user_agent, opts_.user_agent);
      if (!opts_.origin.empty()) req.set(http::field::origin, opts_.origin);
      for (auto& [name, value] : opts_.headers) req.insert(name, value);
      if (!opts_.cookies.empty()) {
        std::string cookie;
        for (auto& [name, value] : opts_.cookies) {
          if (!cookie.empty()) cookie += "; ";
          cookie += name;
          cookie += '=';
          cookie += value;
        }
        req.set(http::field::cookie, cookie);
      }
    }));
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    bool default_port = (url_.port == (url_.secure ? "443" : "80"));
    if (!default_port) host += ":" + url_.port;
    ws.async_handshake(
        response_, host, url_.target,
        [self = derived().shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(beast::error_code ec) {
    if (close_requested_) return finish_client_close();
    if (ec == websocket::error::upgrade_declined || (ec && response_.result_int() >= 300)) {
      Error e;
      e.kind = ErrorKind::http_status;
      e.code = static_cast<int>(response_.result_int());
      e.message = "WebSocket upgrade refused with HTTP " + std::to_string(e.code) + " " +
                  std::string(response_.reason());
      return fail(std::move(e));
    }
    if (ec == beast::error::timeout)
      return fail(Error::make(ErrorKind::timeout, "WebSocket handshake timed out"));
    if (ec) return fail(network_error("WebSocket handshake failed", ec));
    opened_ = true;
    {
      // What was sent before the open goes first; then sending threads may write themselves (send()), from
      // the sends on_open makes on.
      std::lock_guard lock(out_mutex_);
      write_queued_locked();
      if constexpr (Derived::kDirectWrites) {
        if (!close_requested_ && !closed_ && !write_failed_ && !close_framed_) {
          direct_fd_ = beast::get_lowest_layer(derived().ws()).socket().native_handle();
          direct_ = true;
        }
      }
    }
    if (auto h = handler_.lock()) h->on_open();
    start_read();
    seen_read_ = bytes_read_;
    schedule_keepalive();
  }

  void schedule_keepalive() {
    if (opts_.keepalive.count() <= 0 || closed_) return;
    auto ctx = ctx_.lock();
    if (!ctx) return;
    keepalive_timer_ =
        ctx->schedule(opts_.keepalive, [w = std::weak_ptr<WsBase>(derived().shared_from_this())] {
          if (auto self = w.lock()) asio::post(self->strand_, [self] { self->keepalive_tick(); });
        });
  }

  // Once per keep-alive period: bytes arrived since the last tick → fine; none → ping; none again after
  // the ping → the connection is lost.
  void keepalive_tick() {
    if (closed_ || close_requested_) return;
    if (bytes_read_ != seen_read_) {
      seen_read_ = bytes_read_;
      pinged_ = false;
    } else if (!pinged_) {
      pinged_ = true;
      derived().ws().async_ping({}, [self = derived().shared_from_this()](beast::error_code) {});
    } else {
      keepalive_lost_ = true;
      stop_direct_and_wait();
      beast::error_code ignore;
      beast::get_lowest_layer(derived().ws()).socket().close(ignore);  // the read reports it
      return;
    }
    schedule_keepalive();
  }

  void start_read() {
    read_buffer_.clear();
    read_dyn_.emplace(read_buffer_, opts_.max_message_size + 1);
    derived().ws().async_read(*read_dyn_, [self = derived().shared_from_this()](
                                              beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (auto h = handler_.lock()) h->on_frame(read_buffer_);
    if (closed_) return;
    start_read();
    // End of a burst: a task posted after the read just started. When that read found a whole message in
    // Beast's buffer its completion was posted first, so the task sees that a frame came in between and
    // goes to the back again; it reports on_frames_done once it runs with no frame in between.
    frame_since_mark_ = true;
    if (!mark_posted_) post_mark();
  }

  void post_mark() {
    mark_posted_ = true;
    asio::post(strand_, [self = derived().shared_from_this()] {
      self->mark_posted_ = false;
      if (self->closed_) return;
      if (self->frame_since_mark_) {
        self->frame_since_mark_ = false;
        return self->post_mark();
      }
      if (auto h = self->handler_.lock()) h->on_frames_done();
    });
  }

  void on_read_error(beast::error_code ec) {
    CloseInfo info;
    info.by_client = close_requested_;
    if (keepalive_lost_) {
      info.code = close_code::abnormal;
      info.error = Error::make(
          ErrorKind::connection_lost,
          "the server did not answer keep-alive pings (nothing received for " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(opts_.keepalive * 2).count()) +
              " s)");
    } else if (ec == websocket::error::closed) {
      auto r = derived().ws().reason();
      info.code = r.code == websocket::close_code::none ? close_code::normal : static_cast<int>(r.code);
      info.reason = std::string(r.reason.data(), r.reason.size());
    } else if (ec == websocket::error::message_too_big) {
      info.code = close_code::message_too_big;
      info.error =
          Error::make(ErrorKind::message_too_large,
                      "message too large: a frame exceeded the maximum message size of " +
                          std::to_string(opts_.max_message_size) + " bytes; the connection was closed");
    } else if (close_requested_ && (ec == asio::error::operation_aborted || ec == asio::error::eof)) {
      info.code = requested_code_;
    } else {
      info.code = close_code::abnormal;
      info.error = network_error("the connection broke", ec);
      info.error.kind = ErrorKind::connection_lost;
    }
    finish(info);
  }

  // Under one hold of out_mutex_, so that no direct write can overtake what the outbox held.
  void take_outbox() {
    std::lock_guard lock(out_mutex_);
    auto batch = std::move(outbox_);
    outbox_.clear();
    outbox_posted_ = false;
    if (closed_ || close_requested_) return;
    for (auto& t : batch) queue_.push_back(std::move(t));
    if (opened_) write_queued_locked();
  }

  // Frames every queued message into the write buffer, for one socket write. Data frames are framed here,
  // not by Beast (whose writes go one message at a time): Beast still writes the control frames (ping, pong,
  // close), and each of its writes is appended whole (CoalescingStream), so the two never interleave.
  // No data frame follows a close frame (close_framed_). out_mutex_ held.
  void write_queued_locked() {
    if (queue_.empty() || closed_ || write_failed_ || close_framed_) {
      if (close_framed_) queue_.clear();
      return;
    }
    for (auto& t : queue_) append_frame(t);
    queue_.clear();
    request_flush_locked();
  }

  // One final, masked text frame (RFC 6455 5.2; a client masks every frame with a fresh key).
  void append_frame(const std::string& text) {
    std::size_t n = text.size();
    unsigned char head[14];
    std::size_t h = 0;
    head[h++] = 0x81;  // FIN, text
    if (n < 126) {
      head[h++] = static_cast<unsigned char>(0x80 | n);
    } else if (n < 65536) {
      head[h++] = 0x80 | 126;
      head[h++] = static_cast<unsigned char>(n >> 8);
      head[h++] = static_cast<unsigned char>(n);
    } else {
      head[h++] = 0x80 | 127;
      for (int i = 7; i >= 0; --i)
        head[h++] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (8 * i));
    }
    std::uint32_t key = next_mask();
    std::memcpy(head + h, &key, 4);
    h += 4;
    std::size_t at = pending_.size();
    pending_.append(reinterpret_cast<const char*>(head), h);
    pending_.append(text);
    mask_bytes(pending_.data() + at + h, n, key);
  }

  // Masking keys: xorshift64* seeded from std::random_device, per connection.
  std::uint32_t next_mask() {
    mask_state_ ^= mask_state_ >> 12;
    mask_state_ ^= mask_state_ << 25;
    mask_state_ ^= mask_state_ >> 27;
    return static_cast<std::uint32_t>((mask_state_ * 0x2545F4914F6CDD1DULL) >> 32);
  }

  static void mask_bytes(char* p, std::size_t n, std::uint32_t key) {
    // The key's bytes in wire order repeat every 4 bytes; 8 at a time, then the tail.
    std::uint64_t k8 = (static_cast<std::uint64_t>(key) << 32) | key;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t v;
      std::memcpy(&v, p + i, 8);
      v ^= k8;
      std::memcpy(p + i, &v, 8);
    }
    const auto* kb = reinterpret_cast<const unsigned char*>(&key);
    for (; i < n; ++i) p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ kb[i & 3]);
  }

  // WriteSink (on the strand).
  bool append(const char* data, std::size_t n) override {
    std::lock_guard lock(out_mutex_);
    if (write_failed_) return false;
    pending_.append(data, n);
    return true;
  }

  void note_close_frame() override {
    std::lock_guard lock(out_mutex_);
    close_framed_ = true;
    stop_direct_locked();
  }

  void request_flush() override {
    std::lock_guard lock(out_mutex_);
    request_flush_locked();
  }

  // A direct writer under way (writer_active_) takes pending_ itself, and asks for a flush when it leaves.
  void request_flush_locked() {
    if (flushing_ || flush_posted_ || writer_active_) return;
    if (pending_.empty() && after_flush_.empty()) return;
    // After the tasks already queued, so that what they write joins this write.
    flush_posted_ = true;
    asio::post(strand_, [self = derived().shared_from_this()] { self->flush(); });
  }

  // The teardown waits here: from now on nothing is written but by the strand.
  void after_flush(std::unique_ptr<Deferred> then) override {
    {
      std::lock_guard lock(out_mutex_);
      stop_direct_locked();
      if (flushing_ || writer_active_ || (!pending_.empty() && !write_failed_)) {
        after_flush_.push_back(std::move(then));
        request_flush_locked();
        return;
      }
    }
    then->run();
  }

  void note_read(std::size_t n) override { bytes_read_ += n; }

  void flush() {
    std::unique_lock lock(out_mutex_);
    flush_posted_ = false;
    if (flushing_ || writer_active_) return;  // the writer asks again when it leaves
    if (pending_.empty() || write_failed_) {
      auto steps = std::move(after_flush_);
      after_flush_.clear();
      lock.unlock();
      for (auto& step : steps) step->run();
      return;
    }
    inflight_.swap(pending_);
    flushing_ = true;
    lock.unlock();
    asio::async_write(
        derived().ws().next_layer().next_layer(), asio::buffer(inflight_),
        [self = derived().shared_from_this()](beast::error_code ec, std::size_t) { self->on_flushed(ec); });
  }

  void on_flushed(beast::error_code ec) {
    {
      std::lock_guard lock(out_mutex_);
      flushing_ = false;
      inflight_.clear();
      if (inflight_.capacity() > kKeptBuffer) std::string().swap(inflight_);
      if (ec) {
        write_failed_ = true;
        pending_.clear();
        stop_direct_locked();
      }
    }
    if (ec) {
      // The read side reports the loss; make sure it notices.
      beast::error_code ignore;
      beast::get_lowest_layer(derived().ws()).socket().close(ignore);
    }
    flush();
  }

  void do_close(int code, std::string reason) {
    if (closed_ || close_requested_) return;
    close_requested_ = true;
    requested_code_ = code;
    requested_reason_ = std::move(reason);
    {
      // The close frame goes last: what was framed before it goes first, messages not yet framed are
      // dropped (documented).
      std::unique_lock lock(out_mutex_);
      stop_direct_and_wait(lock);
      queue_.clear();
    }
    if (!opened_) {
      // Still connecting: abort whatever step is running; its handler reports the close.
      resolver_.cancel();
      beast::error_code ignore;
      beast::get_lowest_layer(derived().ws()).socket().close(ignore);
      return;
    }
    start_close_frame();
  }

  void start_close_frame() {
    if (close_sent_) return;
    close_sent_ = true;
    websocket::close_reason cr(static_cast<std::uint16_t>(requested_code_));
    cr.reason = requested_reason_;
    // Bound the wait for the peer's close answer.
    derived().ws().async_close(cr, [self = derived().shared_from_this()](beast::error_code) {
      // The pending read completes with error::closed (or an error) and reports.
    });
    auto ctx = ctx_.lock();
    if (!ctx) return;
    close_timer_ = ctx->schedule(std::chrono::milliseconds(3000),
                                 [w = std::weak_ptr<WsBase>(derived().shared_from_this())] {
                                   if (auto self = w.lock()) {
                                     asio::post(self->strand_, [self] {
                                       self->stop_direct_and_wait();
                                       beast::error_code ignore;
                                       beast::get_lowest_layer(self->derived().ws()).socket().close(ignore);
                                     });
                                   }
                                 });
  }

  void finish_client_close() {
    CloseInfo info;
    info.by_client = true;
    info.code = requested_code_;
    info.reason = requested_reason_;
    info.error = Error::make(ErrorKind::closed, "closed by the client before the connection opened");
    finish(info);
  }

  void fail(Error e) {
    CloseInfo info;
    info.code = close_code::abnormal;
    info.error = std::move(e);
    finish(info);
  }

  void finish(const CloseInfo& info) {
    if (closed_) return;
    closed_ = true;
    if (auto ctx = ctx_.lock()) {
      if (close_timer_) ctx->cancel_timer(close_timer_);
      if (keepalive_timer_) ctx->cancel_timer(keepalive_timer_);
    }
    {
      std::unique_lock lock(out_mutex_);
      stop_direct_and_wait(lock);
      queue_.clear();
    }
    beast::error_code ignore;
    beast::get_lowest_layer(derived().ws()).socket().close(ignore);
    if (auto h = handler_.lock()) {
      if (frame_since_mark_ || mark_posted_) h->on_frames_done();
      h->on_close(info);
    }
  }

  // Weak: the context owns the io_context whose handlers own this transport; a strong reference would let
  // the last handler destroy the context on its own I/O thread.
  std::weak_ptr<Context> ctx_;
  ConnectOptions opts_;
  ParsedUrl url_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  std::weak_ptr<TransportHandler> handler_;
  websocket::response_type response_;
  std::string read_buffer_;
  std::optional<asio::dynamic_string_buffer<char, std::char_traits<char>, std::allocator<char>>> read_dyn_;
  // The write side, guarded by out_mutex_ (see send()).
  std::mutex out_mutex_;
  std::deque<std::string> queue_;  // sent before the connection opened
  std::uint64_t mask_state_ =
      std::random_device{}() | (static_cast<std::uint64_t>(std::random_device{}()) << 32) | 1;
  std::vector<std::string> outbox_;  // sent through the strand, waiting for take_outbox
  bool outbox_posted_ = false;       // a take_outbox is scheduled (or waits for its event task's end)
  // Framed bytes waiting for the socket (pending_), and on the wire in the strand's write (inflight_).
  static constexpr std::size_t kKeptBuffer = 256 * 1024;  // larger buffers are released after their write
  std::string pending_;
  std::string inflight_;  // the strand's only, while flushing_
  std::vector<std::unique_ptr<Deferred>> after_flush_;
  bool flushing_ = false;
  bool flush_posted_ = false;
  bool write_failed_ = false;
  bool close_framed_ = false;   // a close frame is queued: no data frame may follow
  bool direct_ = false;         // sending threads may write pending_ themselves (see send())
  int direct_fd_ = -1;          // the socket, while direct_
  bool writer_active_ = false;  // a thread is in write_direct (its send(2) outside the lock)
  std::string writing_;         // what that thread is writing
  std::condition_variable writer_idle_;
  bool batch_registered_ = false;  // an end_batch waits for its event task's end
  // Keep-alive.
  std::uint64_t bytes_read_ = 0;
  std::uint64_t seen_read_ = 0;
  Context::TimerId keepalive_timer_ = 0;
  bool pinged_ = false;
  bool keepalive_lost_ = false;
  // End-of-burst detection (on_read, post_mark).
  bool frame_since_mark_ = false;
  bool mark_posted_ = false;
  Context::TimerId close_timer_ = 0;
  int requested_code_ = close_code::normal;
  std::string requested_reason_;
  bool opened_ = false;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool closed_ = false;
};

class PlainWs final : public WsBase<PlainWs>, public std::enable_shared_from_this<PlainWs> {
 public:
  static constexpr bool kDirectWrites = true;
  PlainWs(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url)
      : WsBase(ctx, std::move(opts), std::move(url)), ws_(static_cast<WriteSink&>(*this), strand_) {}
  websocket::stream<CoalescingStream<beast::tcp_stream>>& ws() { return ws_; }
  void after_connect() { start_ws_handshake(); }
  using std::enable_shared_from_this<PlainWs>::shared_from_this;

 private:
  websocket::stream<CoalescingStream<beast::tcp_stream>> ws_;
};

class TlsWs final : public WsBase<TlsWs>, public std::enable_shared_from_this<TlsWs> {
 public:
  static constexpr bool kDirectWrites = false;  // the TLS state is the strand's
  TlsWs(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url,
        std::shared_ptr<ssl::context> tls)
      : WsBase(ctx, std::move(opts), std::move(url)),
        tls_(std::move(tls)),
        ws_(static_cast<WriteSink&>(*this), strand_, *tls_) {}
  websocket::stream<CoalescingStream<beast::ssl_stream<beast::tcp_stream>>>& ws() { return ws_; }
  beast::ssl_stream<beast::tcp_stream>& tls_stream() { return ws_.next_layer().next_layer(); }
  using std::enable_shared_from_this<TlsWs>::shared_from_this;

  void after_connect() {
    SSL* native = tls_stream().native_handle();
    const std::string& name = opts_.tls.server_name.empty() ? url_.host : opts_.tls.server_name;
    if (!is_ip_literal(name)) {
      // SSL_set_tlsext_host_name, without the macro's C-style cast.
      SSL_ctrl(native, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
    }
    if (opts_.tls.verify_peer) {
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                   : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      if (ok != 1) return fail(Error::make(ErrorKind::tls, "cannot set the host name to verify: " + name));
      SSL_set_verify(native, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_set_verify(native, SSL_VERIFY_NONE, nullptr);
    }
    beast::get_lowest_layer(ws_).expires_after(opts_.connect_timeout);
    tls_stream().async_handshake(ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
      self->on_tls_handshake(ec);
    });
  }

  void on_tls_handshake(beast::error_code ec) {
    if (close_requested_) return finish_client_close();
    if (ec == beast::error::timeout) return fail(Error::make(ErrorKind::timeout, "TLS handshake timed out"));
    if (ec) {
      std::string msg = "TLS handshake with " + url_.host + " failed: " + ec.message();
      long verify = SSL_get_verify_result(tls_stream().native_handle());
      if (verify != X509_V_OK) {
        msg += " (certificate verification: ";
        msg += X509_verify_cert_error_string(verify);
        msg += ")";
      }
      return fail(Error::make(ErrorKind::tls, std::move(msg)));
    }
    start_ws_handshake();
  }

 private:
  std::shared_ptr<ssl::context> tls_;
  websocket::stream<CoalescingStream<beast::ssl_stream<beast::tcp_stream>>> ws_;
};

// Builds the TLS context from the options. Returns nullptr and fills `err` on a bad file.
std::shared_ptr<ssl::context> make_tls_context(const TlsOptions& o, Error& err) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  if (o.ca_file.empty() && o.ca_dir.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    if (!o.ca_file.empty()) ctx->load_verify_file(o.ca_file, ec);
    if (!ec && !o.ca_dir.empty()) ctx->add_verify_path(o.ca_dir, ec);
  }
  if (ec) {
    err = Error::make(ErrorKind::tls, "cannot load the trusted CA certificates (" +
                                          (o.ca_file.empty() ? o.ca_dir : o.ca_file) + "): " + ec.message());
    return nullptr;
  }
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty()) {
      err = Error::make(ErrorKind::invalid_argument,
                        "a client certificate needs both a certificate and a key file");
      return nullptr;
    }
    ctx->use_certificate_chain_file(o.cert_file, ec);
    if (ec) {
      err = Error::make(ErrorKind::tls,
                        "cannot load the client certificate " + o.cert_file + ": " + ec.message());
      return nullptr;
    }
    ctx->use_private_key_file(o.key_file, ssl::context::pem, ec);
    if (ec) {
      err = Error::make(ErrorKind::tls, "cannot load the client key " + o.key_file + ": " + ec.message());
      return nullptr;
    }
  }
  return ctx;
}

// A transport that failed before it could start (bad URL or TLS files): reports on open().
class FailedTransport final : public Transport {
 public:
  FailedTransport(const std::shared_ptr<Context>& ctx, Error e) : ctx_(ctx), error_(std::move(e)) {}
  void open(std::weak_ptr<TransportHandler> handler) override {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    ctx->post_io([handler, e = error_] {
      if (auto h = handler.lock()) {
        CloseInfo info;
        info.error = e;
        h->on_close(info);
      }
    });
  }
  void send(std::string) override {}
  void close(int, std::string) override {}

 private:
  std::weak_ptr<Context> ctx_;
  Error error_;
};

}  // namespace

std::shared_ptr<Transport> make_websocket_transport(const std::shared_ptr<Context>& context,
                                                    ConnectOptions options) {
  std::string err;
  auto parsed = parse_ws_url(options.url, &err);
  if (!parsed) {
    return std::make_shared<FailedTransport>(context,
                                             Error::make(ErrorKind::invalid_argument, "bad URL: " + err));
  }
  if (parsed->host.size() > 2 && parsed->host.front() == '[' && parsed->host.back() == ']') {
    parsed->host = parsed->host.substr(1, parsed->host.size() - 2);
  }
  if (!parsed->secure) return std::make_shared<PlainWs>(context, std::move(options), std::move(*parsed));
  Error e;
  auto tls = make_tls_context(options.tls, e);
  if (!tls) return std::make_shared<FailedTransport>(context, std::move(e));
  return std::make_shared<TlsWs>(context, std::move(options), std::move(*parsed), std::move(tls));
}

}  // namespace qix::core
