// The WebSocket transport, over Asio and Beast. This and session/context.cpp are the only core translation
// units that include Asio/Beast (compile time on small machines matters).
#include "transport/websocket_transport.hpp"

#include "session/context.hpp"
#include "transport/url.hpp"
#include "transport/ws_frame.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>

namespace qix::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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

// Shared by the plain and TLS variants; `derived().stream()` is a tcp_stream or an ssl_stream over one.
// All socket work runs on one strand.
//
// The WebSocket protocol (RFC 6455) is done here, on the stream, not by Beast's websocket::stream: the
// opening handshake (Beast's HTTP parser reads the answer's header), then framing both ways. Reading
// frames ourselves lets one socket read deliver every message it brought in one pass (a websocket::stream
// reads one message per operation, each completing through the scheduler: a reactor poll per message);
// writing them ourselves lets many messages, from many threads, leave in one write (send()).
template <class Derived>
class WsBase : public Transport, public ws::FrameSink, public Context::AfterCallbacks {
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

  void flush_held() override {
    std::unique_lock lock(out_mutex_);
    if (outbox_posted_) {
      // Held or already posted: a second take of the outbox finds it empty, or takes what came since.
      lock.unlock();
      return post_outbox();
    }
    // As the held task's end_batch would (which still runs then, and finds nothing or what came since).
    if (pending_.empty() || flushing_ || flush_posted_ || writer_active_) return;
    if (direct_) return write_direct(lock);
    request_flush_locked();
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
    auto& lowest = beast::get_lowest_layer(derived().stream());
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
    beast::get_lowest_layer(derived().stream()).socket().set_option(tcp::no_delay(true), ignore);
    derived().after_connect();
  }

  // The opening handshake (RFC 6455 4.1): the upgrade request, then the answer's header, read by Beast's
  // HTTP parser into rbuf_; what follows the header there is the first frames.
  void start_ws_handshake() {
    beast::get_lowest_layer(derived().stream()).expires_after(opts_.handshake_timeout);
    unsigned char nonce[16];
    for (int i = 0; i < 16; i += 4) {
      std::uint32_t r = next_mask();
      std::memcpy(nonce + i, &r, 4);
    }
    ws_key_ = ws::base64(nonce, sizeof nonce);
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    bool default_port = (url_.port == (url_.secure ? "443" : "80"));
    if (!default_port) host += ":" + url_.port;
    request_.emplace(http::verb::get, url_.target, 11);
    auto& req = *request_;
    req.set(http::field::host, host);
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, ws_key_);
    req.set(http::field::sec_websocket_version, "13");
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
    http::async_write(derived().stream(), req,
                      [self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_request_written(ec);
                      });
  }

  void on_request_written(beast::error_code ec) {
    request_.reset();  // it holds the credentials: not kept longer than needed
    if (close_requested_) return finish_client_close();
    if (ec) return handshake_failed(ec);
    response_.emplace();
    http::async_read_header(
        derived().stream(), rbuf_, *response_,
        [self = derived().shared_from_this()](beast::error_code e, std::size_t) { self->on_response(e); });
  }

  void handshake_failed(beast::error_code ec) {
    if (ec == beast::error::timeout)
      return fail(Error::make(ErrorKind::timeout, "WebSocket handshake timed out"));
    fail(network_error("WebSocket handshake failed", ec));
  }

  void on_response(beast::error_code ec) {
    if (close_requested_) return finish_client_close();
    if (ec) return handshake_failed(ec);
    const auto& res = response_->get();
    if (res.result_int() != 101) {
      Error e;
      e.kind = ErrorKind::http_status;
      e.code = static_cast<int>(res.result_int());
      e.message =
          "WebSocket upgrade refused with HTTP " + std::to_string(e.code) + " " + std::string(res.reason());
      return fail(std::move(e));
    }
    const char* bad = nullptr;
    if (!beast::iequals(res[http::field::upgrade], "websocket")) {
      bad = "the answer's Upgrade header is not \"websocket\"";
    } else if (!http::token_list(res[http::field::connection]).exists("upgrade")) {
      bad = "the answer's Connection header has no \"upgrade\"";
    } else if (res[http::field::sec_websocket_accept] != ws::accept_key(ws_key_)) {
      bad = "the answer's Sec-WebSocket-Accept does not match the request's key";
    } else if (res.count(http::field::sec_websocket_extensions) ||
               res.count(http::field::sec_websocket_protocol)) {
      bad = "the answer agrees to an extension or subprotocol the client did not ask for";
    }
    response_.reset();
    if (bad) return fail(Error::make(ErrorKind::network, std::string("WebSocket handshake failed: ") + bad));
    beast::get_lowest_layer(derived().stream()).expires_never();
    opened_ = true;
    {
      // What was sent before the open goes first; then sending threads may write themselves (send()), from
      // the sends on_open makes on.
      std::lock_guard lock(out_mutex_);
      write_queued_locked();
      if constexpr (Derived::kDirectWrites) {
        if (!close_requested_ && !closed_ && !write_failed_ && !close_framed_) {
          direct_fd_ = beast::get_lowest_layer(derived().stream()).socket().native_handle();
          direct_ = true;
        }
      }
    }
    if (auto h = handler_.lock()) h->on_open();
    seen_read_ = bytes_read_;
    schedule_keepalive();
    // Frames that came with the answer's header.
    if (!read_frames()) return;
    start_read();
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
      send_control(ws::opcode::ping, {});
    } else {
      keepalive_lost_ = true;
      stop_direct_and_wait();
      beast::error_code ignore;
      beast::get_lowest_layer(derived().stream()).socket().close(ignore);  // the read reports it
      return;
    }
    schedule_keepalive();
  }

  // Reading: one socket read at a time into rbuf_, then every whole frame in it (read_frames). The read asks
  // for at least what the next frame is known to need, so a large message arrives in few reads.
  void start_read() {
    constexpr std::size_t kReadChunk = 4096;
    std::size_t want =
        std::max(kReadChunk, reader_.wanted() > rbuf_.size() ? reader_.wanted() - rbuf_.size() : 0);
    beast::flat_buffer::mutable_buffers_type space;
    try {
      space = rbuf_.prepare(want);
    } catch (const std::exception&) {
      return on_error(close_code::message_too_big, "a frame too large to buffer");
    }
    derived().stream().async_read_some(
        space,
        [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(beast::error_code ec, std::size_t n) {
    if (ec) return on_read_error(ec);
    rbuf_.commit(n);
    bytes_read_ += n;
    on_bytes();
  }

  // What a read brought is in rbuf_.
  void on_bytes() {
    if (opts_.take_waiting_reads) {
      // The callbacks of this read run on this thread once the handler returns (events.inline): when the
      // read brought several messages (calls in flight back to back), the reads already waiting are taken
      // first, so that their callbacks run together and the calls they make leave in one write. A read of
      // one message (one call in flight) goes on at once: nothing else can be waiting, and the round trip
      // would pay for the look.
      const std::uint64_t before = messages_read_;
      if (!read_frames()) return;
      for (int extra = 0; extra < kExtraReads && messages_read_ - before > 1 && read_waiting(); ++extra) {
        if (!read_frames()) return;
      }
    } else if (!read_frames()) {
      return;
    }
    // With events.inline the callbacks of this read run once the handler returns, and the calls they make
    // are written then: the next read starts after them (Context::after_callbacks), so that it can find
    // their answers, and a call at a time pays no read that finds nothing before its next call leaves.
    // Not after a large message: its read buffer was just let go (read_frames), and the callbacks then let
    // its result go too; with nothing allocated after them, the allocator gives that memory back to the
    // system, and the next large message faults it in again (measured: 4x the CPU per 10,000-cell page).
    // Starting the read first keeps the heap's top in use; the read that finds nothing is nothing beside
    // such a message.
    const bool large = std::exchange(large_in_run_, false);
    if (!large && Context::after_callbacks(derived().shared_from_this())) return;
    start_read();
  }

  // Context::AfterCallbacks: the read restarted after the callbacks of the one before.
  void resume_here() override {
    if (!closed_) start_read();
  }
  void resume_posted() override {
    asio::post(strand_, [self = derived().shared_from_this()] { self->resume_here(); });
  }

  // Takes what is waiting on the socket now, without waiting (ws:// only: a TLS record may be incomplete);
  // false when nothing is (an error or the end is left for the next asynchronous read to report).
  bool read_waiting() {
    if constexpr (!Derived::kDirectWrites) {
      return false;
    } else {
      constexpr std::size_t kReadChunk = 4096;
      const std::size_t want =
          std::max(kReadChunk, reader_.wanted() > rbuf_.size() ? reader_.wanted() - rbuf_.size() : 0);
      beast::flat_buffer::mutable_buffers_type space;
      try {
        space = rbuf_.prepare(want);
      } catch (const std::exception&) {
        return false;  // the next asynchronous read reports it
      }
      const int fd = beast::get_lowest_layer(derived().stream()).socket().native_handle();
      const ssize_t got = ::recv(fd, space.data(), space.size(), MSG_DONTWAIT);
      if (got <= 0) return false;
      rbuf_.commit(static_cast<std::size_t>(got));
      bytes_read_ += static_cast<std::size_t>(got);
      return true;
    }
  }

  // Hands on every whole message in rbuf_ as one run (on_frames; a long run in pieces of kLongestRun). False
  // when the connection is ending (a close frame, an error, on_close).
  bool read_frames() {
    if (closed_) return false;
    handler_now_ = handler_.lock();
    auto data = rbuf_.data();
    std::size_t used = reader_.feed(static_cast<const char*>(data.data()), data.size(), *this);
    rbuf_.consume(used);
    if (!closed_) hand_on_run(handler_now_.get());
    handler_now_.reset();
    // A large message's buffer is not kept for an idle connection.
    constexpr std::size_t kKeptRead = 64 * 1024;
    if (rbuf_.size() == 0 && rbuf_.capacity() > kKeptRead) rbuf_.shrink_to_fit();
    return !closed_ && !reader_.done();
  }

  // ws::FrameSink (on the strand, inside read_frames): the message joins the run handed on at the read's end.
  // Swapped, not copied: the reader assembles its next message in the string this one replaces. A run holds
  // messages checked to be UTF-8 (text) or unchecked ones (binary, which a QIX engine does not send), not
  // both: the run before a message of the other kind is handed on first.
  void on_message(std::string& message, bool utf8) override {
    if (closed_) return;
    ++messages_read_;
    if (utf8 != run_utf8_ && run_size_ > 0) {
      // `message` is the reader's own buffer, which hand_on_run may swap for a larger one (offer_buffer):
      // the message stands aside meanwhile.
      std::string aside;
      aside.swap(message);
      hand_on_run(handler_now_.get());
      message.swap(aside);
    }
    run_utf8_ = utf8;
    if (message.size() > kKeptRun) large_in_run_ = true;
    if (run_size_ == run_.size()) run_.emplace_back();
    run_[run_size_++].swap(message);
    if (run_size_ == kLongestRun) hand_on_run(handler_now_.get());
  }

  // The messages gathered so far, to `h` (none when it is gone), as one on_frames. Their strings are kept for
  // the messages to come: the largest goes back to the reader when it is larger than the reader's own (a
  // large message's buffer is kept, once, as the reader kept it before runs), the others up to kKeptRun
  // bytes in all.
  void hand_on_run(TransportHandler* h) {
    if (run_size_ == 0) return;
    const std::size_t n = std::exchange(run_size_, 0);
    if (h) h->on_frames(std::span<std::string>(run_.data(), n), run_utf8_);
    auto largest = std::max_element(
        run_.begin(), run_.begin() + static_cast<std::ptrdiff_t>(n),
        [](const std::string& a, const std::string& b) { return a.capacity() < b.capacity(); });
    reader_.offer_buffer(*largest);
    std::size_t kept = 0;
    for (auto& text : run_) {
      kept += text.capacity();
      if (kept > kKeptRun) std::string().swap(text);
    }
  }

  void on_ping(std::string_view payload) override { send_control(ws::opcode::pong, payload); }

  // The peer's close: answered with the same code (unless ours went first), reported once our answer is
  // written.
  void on_close(int code, std::string_view reason) override {
    peer_closed_ = true;
    CloseInfo info;
    info.by_client = close_requested_;
    info.code = code == 1005 ? close_code::normal : code;
    info.reason = std::string(reason);
    if (!close_sent_) {
      close_sent_ = true;
      send_close_frame(code == 1005 ? -1 : code, {});
    }
    finish_after_flush(std::move(info));
  }

  // The peer broke the protocol, or sent too much: a close frame with `code`, then the end.
  void on_error(int code, std::string what) override {
    CloseInfo info;
    info.by_client = close_requested_;
    info.code = code;
    if (code == close_code::message_too_big) {
      info.error =
          Error::make(ErrorKind::message_too_large,
                      "message too large: a frame exceeded the maximum message size of " +
                          std::to_string(opts_.max_message_size) + " bytes; the connection was closed");
    } else {
      info.error = Error::make(ErrorKind::connection_lost, "the peer broke the WebSocket protocol (" + what +
                                                               "); the connection was closed");
    }
    if (!close_sent_) {
      close_sent_ = true;
      send_close_frame(code, {});
    }
    finish_after_flush(std::move(info));
  }

  void finish_after_flush(CloseInfo info) {
    arm_close_timer();  // a peer that reads nothing more cannot hold the end back
    after_flush(
        make_deferred([self = derived().shared_from_this(), info = std::move(info)] { self->finish(info); }));
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

  // Frames every queued message into the write buffer, for one socket write. Every frame, data or control,
  // is appended whole under out_mutex_, so frames never interleave. No data frame follows a close frame
  // (close_framed_). out_mutex_ held.
  void write_queued_locked() {
    if (queue_.empty() || closed_ || write_failed_ || close_framed_) {
      if (close_framed_) queue_.clear();
      return;
    }
    for (auto& t : queue_) append_frame(t);
    queue_.clear();
    request_flush_locked();
  }

  // One final, masked frame (RFC 6455 5.2; a client masks every frame with a fresh key): text unless told.
  void append_frame(std::string_view text, int op = ws::opcode::text) {
    std::size_t n = text.size();
    unsigned char head[14];
    std::size_t h = 0;
    head[h++] = static_cast<unsigned char>(0x80 | op);  // FIN, opcode
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

  // A ping or a pong (on the strand): framed after what is already framed, written with it.
  void send_control(int op, std::string_view payload) {
    std::lock_guard lock(out_mutex_);
    if (write_failed_ || close_framed_) return;
    append_frame(payload, op);
    request_flush_locked();
  }

  // The close frame (on the strand): `code`, or no code at all when negative (answering a close that had
  // none), and a reason cut to fit a control frame. Nothing is written after it, and from here on only
  // the strand writes.
  void send_close_frame(int code, const std::string& reason) {
    std::string payload;
    if (code >= 0) {
      payload += static_cast<char>((code >> 8) & 0xFF);
      payload += static_cast<char>(code & 0xFF);
      std::size_t n = std::min<std::size_t>(reason.size(), 123);
      // Not in the middle of a UTF-8 sequence.
      while (n < reason.size() && n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
      payload.append(reason, 0, n);
    }
    std::unique_lock lock(out_mutex_);
    stop_direct_and_wait(lock);
    if (write_failed_ || close_framed_) return;
    queue_.clear();  // not yet framed: dropped (documented)
    append_frame(payload, ws::opcode::close);
    close_framed_ = true;
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

  // Runs `then` once what is framed so far is written (or the writes failed); from now on nothing is
  // written but by the strand.
  void after_flush(std::unique_ptr<Deferred> then) {
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
        derived().stream(), asio::buffer(inflight_),
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
      beast::get_lowest_layer(derived().stream()).socket().close(ignore);
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
      beast::get_lowest_layer(derived().stream()).socket().close(ignore);
      return;
    }
    start_close_frame();
  }

  void start_close_frame() {
    if (close_sent_) return;
    close_sent_ = true;
    // The read goes on until the peer's close answers it (on_close reports); the wait for it is bounded.
    send_close_frame(requested_code_, requested_reason_);
    arm_close_timer();
  }

  // Bounds the wait for the close handshake (or, after the peer's close or an error, for our last bytes
  // to be written): the socket is closed after 3 s, and the read or the write reports.
  void arm_close_timer() {
    auto ctx = ctx_.lock();
    if (!ctx || close_timer_) return;
    close_timer_ = ctx->schedule(
        std::chrono::milliseconds(3000), [w = std::weak_ptr<WsBase>(derived().shared_from_this())] {
          if (auto self = w.lock()) {
            asio::post(self->strand_, [self] {
              self->stop_direct_and_wait();
              beast::error_code ignore;
              beast::get_lowest_layer(self->derived().stream()).socket().close(ignore);
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
    // After a close handshake (the peer's close frame read, our answer or ours written, no read pending),
    // the stream may end politely (TLS: close_notify); otherwise the socket is closed at once.
    derived().end_stream(peer_closed_ && !write_failed_);
    if (auto h = handler_.lock()) {
      hand_on_run(h.get());  // what was read before the end comes before it
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
  // The opening handshake.
  std::string ws_key_;
  std::optional<http::request<http::empty_body>> request_;
  std::optional<http::response_parser<http::empty_body>> response_;
  // The read side (the strand's): bytes read and not yet framed, and the frame reader.
  beast::flat_buffer rbuf_;
  ws::FrameReader reader_{opts_.max_message_size};
  std::shared_ptr<TransportHandler> handler_now_;  // while read_frames runs
  // Messages read and not yet handed on (run_[0, run_size_)), handed on as one run at the read's end, or
  // every kLongestRun messages; the strings stay for the next messages (hand_on_run).
  static constexpr std::size_t kLongestRun = 64;
  std::uint64_t messages_read_ = 0;      // every message handed on (the strand's)
  static constexpr int kExtraReads = 4;  // reads taken without waiting after one (take_waiting_reads)
  static constexpr std::size_t kKeptRun = 64 * 1024;
  bool large_in_run_ = false;  // a message over kKeptRun among those the read handed on (on_bytes)
  std::vector<std::string> run_;
  std::size_t run_size_ = 0;
  bool run_utf8_ = true;  // the run's messages were checked to be UTF-8 (text messages)
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
  Context::TimerId close_timer_ = 0;
  int requested_code_ = close_code::normal;
  std::string requested_reason_;
  bool opened_ = false;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool peer_closed_ = false;  // the peer's close frame was read
  bool closed_ = false;
};

class PlainWs final : public WsBase<PlainWs>, public std::enable_shared_from_this<PlainWs> {
 public:
  static constexpr bool kDirectWrites = true;
  PlainWs(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url)
      : WsBase(ctx, std::move(opts), std::move(url)), stream_(strand_) {}
  beast::tcp_stream& stream() { return stream_; }
  void after_connect() { start_ws_handshake(); }
  // The end of the connection (finish()): RFC 6455 lets the server close TCP first; the client closes.
  void end_stream(bool /*after_close_handshake*/) {
    beast::error_code ignore;
    stream_.socket().close(ignore);
  }
  using std::enable_shared_from_this<PlainWs>::shared_from_this;

 private:
  beast::tcp_stream stream_;
};

class TlsWs final : public WsBase<TlsWs>, public std::enable_shared_from_this<TlsWs> {
 public:
  static constexpr bool kDirectWrites = false;  // the TLS state is the strand's
  TlsWs(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url,
        std::shared_ptr<ssl::context> tls)
      : WsBase(ctx, std::move(opts), std::move(url)), tls_(std::move(tls)), stream_(strand_, *tls_) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::ssl_stream<beast::tcp_stream>& tls_stream() { return stream_; }
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
    beast::get_lowest_layer(stream_).expires_after(opts_.connect_timeout);
    tls_stream().async_handshake(ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
      self->on_tls_handshake(ec);
    });
  }

  // The end of the connection (finish(), on the strand). After a close handshake TLS ends with our
  // close_notify (RFC 8446 6.1; proxies otherwise log a truncated stream) and the peer's answer, or its
  // closing TCP, or 3 s; then the socket is closed. Anything else closes the socket at once. on_close is
  // reported without waiting for this.
  void end_stream(bool after_close_handshake) {
    auto ctx = ctx_.lock();
    if (!after_close_handshake || !ctx) {
      beast::error_code ignore;
      beast::get_lowest_layer(stream_).socket().close(ignore);
      return;
    }
    shutdown_timer_ =
        ctx->schedule(std::chrono::milliseconds(3000), [w = std::weak_ptr<TlsWs>(shared_from_this())] {
          if (auto self = w.lock()) {
            asio::post(self->strand_, [self] {
              beast::error_code ignore;
              beast::get_lowest_layer(self->stream_).socket().close(ignore);
            });
          }
        });
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      if (auto c = self->ctx_.lock()) c->cancel_timer(self->shutdown_timer_);
      beast::error_code ignore;
      beast::get_lowest_layer(self->stream_).socket().close(ignore);
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
  beast::ssl_stream<beast::tcp_stream> stream_;
  Context::TimerId shutdown_timer_ = 0;
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
