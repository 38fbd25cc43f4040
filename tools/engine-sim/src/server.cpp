// qix-engine-sim: the WebSocket server (Beast/Asio), fault injection and statistics. The only
// translation unit of the simulator that includes Beast or Asio.
#include "qix/sim/server.hpp"

#include "engine.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace qix::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

struct StatEntry {
  std::uint64_t received = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t max_in_flight = 0;
};

class ConnBase {
 public:
  virtual ~ConnBase() = default;
  virtual void close_with(std::uint16_t code) = 0;
  virtual void send_raw(std::string frame) = 0;
  virtual void drop() = 0;
};

}  // namespace

struct Server::Impl {
  Options opt;
  std::unique_ptr<Engine> engine;  // destroyed after the io_context (declared first)
  net::io_context ioc{1};
  std::optional<ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  unsigned short bound_port = 0;
  bool started = false;
  std::set<std::shared_ptr<ConnBase>> conns;  // I/O thread only
  std::atomic<std::size_t> conn_count{0};     // changed through connections_changed(), read anywhere
  std::mutex count_mu;                        // with count_cv: wait_connection_count()
  std::condition_variable count_cv;

  // Every change of conn_count goes through here, so that wait_connection_count() wakes up.
  void connections_changed(std::size_t count) {
    {
      std::lock_guard lock(count_mu);
      conn_count = count;
    }
    count_cv.notify_all();
  }
  mutable std::mutex stats_mu;
  std::map<std::string, StatEntry> stats;
  std::mt19937 rng{12345};

  void on_received(const std::string& method) {
    std::lock_guard lock(stats_mu);
    auto& s = stats[method];
    ++s.received;
    ++s.in_flight;
    s.max_in_flight = std::max(s.max_in_flight, s.in_flight);
  }
  void on_answered(const std::string& method) {
    std::lock_guard lock(stats_mu);
    auto& s = stats[method];
    if (s.in_flight) --s.in_flight;
  }
  int response_delay_ms() {
    int d = opt.latency_ms;
    if (opt.jitter_ms > 0) d += static_cast<int>(rng() % static_cast<unsigned>(opt.jitter_ms + 1));
    if (opt.reorder) d += static_cast<int>(rng() % static_cast<unsigned>(std::max(opt.jitter_ms, 10) + 1));
    return d;
  }
  void accept();
};

namespace {

template <class Stream>
class WsConn : public ConnBase, public std::enable_shared_from_this<WsConn<Stream>> {
 public:
  template <class... Args>
  WsConn(Server::Impl& srv, Args&&... args) : srv_(srv), ws_(std::forward<Args>(args)...) {}

  ~WsConn() override {
    if (conn_) srv_.engine->close(*conn_);
  }

  void start() {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      ws_.next_layer().async_handshake(ssl::stream_base::server,
                                       [self = this->shared_from_this()](beast::error_code ec) {
                                         if (ec) return self->finish();
                                         self->read_http();
                                       });
    } else {
      read_http();
    }
  }

  void close_with(std::uint16_t code) override {
    if (finished_ || closing_) return;
    if (!open_) {  // the upgrade is still under way (the client may already see it done): close once open
      close_on_open_ = code;
      return;
    }
    closing_ = true;
    if (!queue_.empty()) {  // let the queued frames go first
      pending_close_ = code;
      return;
    }
    do_close(code);
  }

  void do_close(std::uint16_t code) {  // one async_close instantiation (compile time)
    ws_.async_close(websocket::close_reason(code), [self = this->shared_from_this()](beast::error_code) {});
  }

  void send_raw(std::string frame) override {
    if (!open_ || closing_) return;
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) write_next();
  }

  void drop() override {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close(ec);
    finish();
  }

 private:
  Server::Impl& srv_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::shared_ptr<Connection> conn_;
  std::deque<std::string> queue_;
  bool open_ = false, closing_ = false, finished_ = false, drop_pending_ = false, first_frame_ = true;
  std::uint64_t frames_in_ = 0, frames_out_ = 0;
  std::uint16_t pending_close_ = 0;
  std::uint16_t close_on_open_ = 0;  // a close requested before on_open ran
  std::unordered_map<std::int64_t, std::shared_ptr<net::steady_timer>> delayed_;  // calc-delay by request id
  std::shared_ptr<net::steady_timer> close_timer_;

  void read_http() {
    http::async_read(ws_.next_layer(), buffer_, req_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->finish();
                       self->on_http();
                     });
  }

  bool authorized() const {
    const Options& o = srv_.opt;
    if (!o.require_header.empty()) {
      auto colon = o.require_header.find(':');
      std::string name = o.require_header.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : o.require_header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      auto it = req_.find(name);
      if (it == req_.end() || std::string(it->value()) != value) return false;
    }
    if (!o.bearer.empty()) {
      auto it = req_.find(http::field::authorization);
      if (it == req_.end() || std::string(it->value()) != "Bearer " + o.bearer) return false;
    }
    return true;
  }

  void on_http() {
    if (!websocket::is_upgrade(req_) || !authorized()) {
      auto res = std::make_shared<http::response<http::string_body>>(
          websocket::is_upgrade(req_) ? http::status::unauthorized : http::status::bad_request,
          req_.version());
      res->set(http::field::content_type, "text/plain");
      res->body() = websocket::is_upgrade(req_) ? "Unauthorized\n" : "WebSocket upgrade expected\n";
      res->keep_alive(false);
      res->prepare_payload();
      http::async_write(
          ws_.next_layer(), *res,
          [self = this->shared_from_this(), res](beast::error_code, std::size_t) { self->drop(); });
      return;
    }
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "qix-engine-sim"); }));
    ws_.read_message_max(64 * 1024 * 1024);
    ws_.async_accept(req_, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->finish();
      self->on_open();
    });
  }

  void on_open() {
    open_ = true;
    ws_.text(true);
    if (!srv_.opt.not_qix.empty()) {
      // Not an engine: no session, no greeting (see Options::not_qix).
      if (srv_.opt.not_qix == "banner")
        send_raw("Welcome to the echo-chat service. Type /help for commands.");
      if (close_on_open_) close_with(std::exchange(close_on_open_, std::uint16_t{0}));
      read_next();
      return;
    }
    std::string greeting;
    std::weak_ptr<WsConn> weak = this->shared_from_this();
    conn_ = srv_.engine->open(
        std::string(req_.target()),
        [weak](std::string frame) {
          if (auto self = weak.lock()) self->send_raw(std::move(frame));
        },
        greeting);
    send_raw(std::move(greeting));
    if (srv_.opt.close_code > 0 && srv_.opt.close_after_ms > 0) {
      close_timer_ = std::make_shared<net::steady_timer>(ws_.get_executor());
      close_timer_->expires_after(std::chrono::milliseconds(srv_.opt.close_after_ms));
      close_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->close_with(static_cast<std::uint16_t>(self->srv_.opt.close_code));
      });
    }
    if (close_on_open_) close_with(std::exchange(close_on_open_, std::uint16_t{0}));  // after the greeting
    read_next();
  }

  void read_next() {
    buffer_.clear();
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->finish();
      self->on_frame(beast::buffers_to_string(self->buffer_.data()));
      if (!self->finished_ && !self->drop_pending_) self->read_next();
    });
  }

  void on_frame(const std::string& text) {
    if (!srv_.opt.not_qix.empty()) {
      if (finished_) return;
      if (srv_.opt.not_qix == "echo") send_raw(text);
      if (srv_.opt.not_qix == "banner") send_raw("Unknown command. Type /help for commands.");
      return;
    }
    // A frame read just before the connection finished (write error, drop, close) has nobody to answer.
    if (finished_ || !conn_) return;
    ++frames_in_;
    if (first_frame_ && srv_.opt.proxy_mode) {
      send_raw(
          R"({"jsonrpc":"2.0","method":"OnAuthenticationInformation","params":{"userId":"sim","userDirectory":"SIM","logoutUri":"","mustAuthenticate":false}})");
    }
    first_frame_ = false;
    std::shared_ptr<Request> req(srv_.engine->parse(text).release());
    srv_.on_received(req->method);
    if (srv_.opt.drop_after > 0 && frames_in_ >= static_cast<std::uint64_t>(srv_.opt.drop_after))
      drop_pending_ = true;
    if (req->method == "CancelRequest" && req->cancel_target >= 0) {
      auto it = delayed_.find(req->cancel_target);
      if (it != delayed_.end()) it->second->cancel();  // answered with 15 by its handler
    }
    if (req->calc && srv_.opt.calc_delay_ms > 0) {
      auto timer = std::make_shared<net::steady_timer>(ws_.get_executor());
      timer->expires_after(std::chrono::milliseconds(srv_.opt.calc_delay_ms));
      std::uint64_t epoch = srv_.engine->epoch(*conn_);
      if (req->id_num >= 0) delayed_[req->id_num] = timer;
      timer->async_wait([self = this->shared_from_this(), req, epoch, timer](beast::error_code ec) {
        if (self->finished_ || !self->conn_) return;
        if (req->id_num >= 0) self->delayed_.erase(req->id_num);
        if (ec || self->srv_.engine->epoch(*self->conn_) != epoch) {
          self->respond(self->srv_.engine->aborted(*req), req->method);
        } else {
          self->respond(self->srv_.engine->handle(*self->conn_, *req), req->method);
        }
      });
      return;
    }
    std::string reply = srv_.engine->handle(*conn_, *req);
    if (!req->has_id) {
      srv_.on_answered(req->method);
      return;
    }
    respond(std::move(reply), req->method);
  }

  void respond(std::string frame, const std::string& method) {
    if (srv_.opt.malformed_every > 0 &&
        ++frames_out_ % static_cast<std::uint64_t>(srv_.opt.malformed_every) == 0)
      frame = frame.substr(0, frame.size() / 2) + "\x01}";
    int delay = drop_pending_ ? 0 : srv_.response_delay_ms();
    if (delay <= 0) {
      srv_.on_answered(method);
      send_raw(std::move(frame));
      return;
    }
    auto timer = std::make_shared<net::steady_timer>(ws_.get_executor());
    timer->expires_after(std::chrono::milliseconds(delay));
    timer->async_wait([self = this->shared_from_this(), timer, frame = std::move(frame),
                       method](beast::error_code) mutable {
      self->srv_.on_answered(method);
      self->send_raw(std::move(frame));
    });
  }

  void write_next() {
    ws_.async_write(net::buffer(queue_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->finish();
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) return self->write_next();
                      if (self->drop_pending_) return self->drop();
                      if (self->pending_close_) {
                        self->do_close(std::exchange(self->pending_close_, std::uint16_t{0}));
                      }
                    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    for (auto& [id, t] : delayed_) t->cancel();
    if (close_timer_) close_timer_->cancel();
    if (conn_) {
      srv_.engine->close(*conn_);
      conn_.reset();
    }
    auto self = this->shared_from_this();
    if (srv_.conns.erase(self)) srv_.connections_changed(srv_.conns.size());
  }
};

// Plain sockets (no beast::tcp_stream timers): the per-frame cost matters for pipelined benchmarks.
using PlainConn = WsConn<tcp::socket>;
using TlsConn = WsConn<ssl::stream<tcp::socket>>;

}  // namespace

void Server::Impl::accept() {
  acceptor->async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
      return accept();
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::shared_ptr<ConnBase> c;
    if (tls) {
      auto t = std::make_shared<TlsConn>(*this, std::move(socket), *tls);
      c = t;
      conns.insert(c);
      connections_changed(conns.size());
      t->start();
    } else {
      auto p = std::make_shared<PlainConn>(*this, std::move(socket));
      c = p;
      conns.insert(c);
      connections_changed(conns.size());
      p->start();
    }
    accept();
  });
}

Server::Server(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
}

Server::~Server() {
  // A destructor must not throw. stop() throws only when out of memory or threads (posting the close,
  // joining the I/O thread); the Impl is then leaked, not destroyed under a thread that may still run it.
  try {
    stop();
  } catch (...) {
    (void)impl_.release();
  }
}

void Server::start() {
  auto& d = *impl_;
  if (d.started) return;
  EngineConfig cfg;
  cfg.data_dir = d.opt.data_dir;
  cfg.demo_rows = d.opt.demo_rows;
  cfg.session_ttl = d.opt.session_ttl;
  d.engine = std::make_unique<Engine>(cfg);
  if (!d.opt.tls_cert.empty() || !d.opt.tls_key.empty()) {
    if (d.opt.tls_cert.empty() || d.opt.tls_key.empty())
      throw std::runtime_error("TLS needs both a certificate and a key");
    // OpenSSL frees its state in an exit handler unless the call that initialises it says not to, and the
    // simulator's threads (like libqix's, core/session/context.cpp) can still run while exit handlers do:
    // a process that started an embedded simulator with TLS, then libqix, then exited while a TLS
    // connection was being torn down crashed in OpenSSL (a test under TSan). Initialised here without the
    // exit handler, before the first SSL_CTX, unless the host did it first. Cheap after the first call.
    OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);
    d.tls.emplace(ssl::context::tls_server);
    beast::error_code ec;
    d.tls->use_certificate_chain_file(d.opt.tls_cert, ec);
    if (ec) throw std::runtime_error("cannot load certificate " + d.opt.tls_cert + ": " + ec.message());
    d.tls->use_private_key_file(d.opt.tls_key, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("cannot load key " + d.opt.tls_key + ": " + ec.message());
    if (!d.opt.client_ca.empty()) {
      d.tls->load_verify_file(d.opt.client_ca, ec);
      if (ec) throw std::runtime_error("cannot load client CA " + d.opt.client_ca + ": " + ec.message());
      d.tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  beast::error_code ec;
  auto addr = net::ip::make_address(d.opt.host, ec);
  if (ec) throw std::runtime_error("bad --host " + d.opt.host + ": " + ec.message());
  tcp::endpoint ep(addr, d.opt.port);
  d.acceptor.emplace(d.ioc);
  d.acceptor->open(ep.protocol(), ec);
  if (!ec) d.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) d.acceptor->bind(ep, ec);
  if (!ec) d.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + d.opt.host + ":" + std::to_string(d.opt.port) + ": " +
                             ec.message());
  d.bound_port = d.acceptor->local_endpoint().port();
  d.accept();
  d.started = true;
  d.thread = std::thread([&d] { d.ioc.run(); });
}

void Server::stop() {
  auto& d = *impl_;
  if (!d.started) return;
  d.started = false;
  net::post(d.ioc, [&d] {
    beast::error_code ec;
    d.acceptor->close(ec);
    auto conns = d.conns;
    for (auto& c : conns) c->drop();
  });
  // Give the drop a moment to run, then stop whatever is left.
  net::post(d.ioc, [&d] { d.ioc.stop(); });
  if (d.thread.joinable()) d.thread.join();
  d.conns.clear();
  d.connections_changed(0);
}

unsigned short Server::port() const {
  return impl_->bound_port;
}

std::string Server::url() const {
  std::string host = impl_->opt.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->tls ? "wss://" : "ws://") + host + ":" + std::to_string(impl_->bound_port);
}

std::map<std::string, MethodStats> Server::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  std::map<std::string, MethodStats> out;
  for (const auto& [m, s] : impl_->stats) out[m] = MethodStats{s.received, s.max_in_flight};
  return out;
}

void Server::reset_stats() {
  std::lock_guard lock(impl_->stats_mu);
  for (auto it = impl_->stats.begin(); it != impl_->stats.end();) {
    if (it->second.in_flight == 0) {
      it = impl_->stats.erase(it);
    } else {
      it->second.received = 0;
      it->second.max_in_flight = it->second.in_flight;
      ++it;
    }
  }
}

void Server::close_all(std::uint16_t code) {
  auto& d = *impl_;
  net::post(d.ioc, [&d, code] {
    auto conns = d.conns;
    for (auto& c : conns) c->close_with(code);
  });
}

void Server::push_all(const std::string& frame) {
  auto& d = *impl_;
  net::post(d.ioc, [&d, frame] {
    for (auto& c : d.conns) c->send_raw(frame);
  });
}

void Server::proxy_fatal_all(const std::string& method) {
  auto& d = *impl_;
  std::string frame = R"({"jsonrpc":"2.0","method":")" + method +
                      R"(","params":{"severity":"fatal","message":"The session was ended by the proxy."}})";
  net::post(d.ioc, [&d, frame] {
    auto conns = d.conns;
    for (auto& c : conns) {
      c->send_raw(frame);
      c->close_with(1000);
    }
  });
}

std::size_t Server::connection_count() const {
  return impl_->conn_count.load();
}

bool Server::wait_connection_count(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->count_mu);
  return impl_->count_cv.wait_for(lock, timeout, [&] { return impl_->conn_count.load() == n; });
}

}  // namespace qix::sim
