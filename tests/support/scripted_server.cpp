#include "support/scripted_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <set>

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qix::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

template <class Stream>
class Conn final : public ScriptedConnection {
 public:
  Conn(Stream& ws, std::map<std::string, std::string> headers, std::string target)
      : ws_(ws), headers_(std::move(headers)), target_(std::move(target)) {}
  void send(const std::string& text) override {
    if (done) return;
    beast::error_code ec;
    ws_.text(true);
    ws_.write(asio::buffer(text), ec);
    if (ec) done = true;
  }
  void close(int code, const std::string& reason) override {
    if (done) return;
    beast::error_code ec;
    websocket::close_reason cr(static_cast<std::uint16_t>(code));
    cr.reason = reason;
    ws_.close(cr, ec);
    done = true;
  }
  void drop() override {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ec);  // closed by serve()
    done = true;
  }
  const std::map<std::string, std::string>& headers() const override { return headers_; }
  const std::string& target() const override { return target_; }
  bool done = false;

 private:
  Stream& ws_;
  std::map<std::string, std::string> headers_;
  std::string target_;
};

}  // namespace

struct ScriptedServer::Impl {
  ScriptedServerOptions opts;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<ssl::context> tls;
  std::thread accept_thread;
  std::vector<std::thread> workers;
  std::set<int> open_fds;  // descriptors of connections still being served
  int listen_fd = -1;
  mutable std::mutex mutex;
  std::map<std::string, std::string> last_headers;
  std::vector<std::string> failures;
  std::vector<bool> tls_endings;  // per TLS connection ended: the client's close_notify arrived
  mutable std::condition_variable ended;
  int connections = 0;
  std::atomic<bool> stopping{false};
  ScriptedServer* owner = nullptr;

  void record_failure(const std::string& f) {
    std::lock_guard l(mutex);
    failures.push_back(f);
  }

  template <class Stream>
  void serve_ws(Stream& ws, beast::flat_buffer& buffer) {
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(ws.next_layer(), buffer, req, ec);
    if (ec) return record_failure("read upgrade: " + ec.message());
    std::map<std::string, std::string> headers;
    for (auto& f : req) headers[lower(std::string(f.name_string()))] = std::string(f.value());
    {
      std::lock_guard l(mutex);
      last_headers = headers;
      ++connections;
    }
    if (opts.refuse_status) {
      http::response<http::string_body> res{static_cast<http::status>(opts.refuse_status), req.version()};
      res.set(http::field::content_type, "text/plain");
      res.body() = "refused by the scripted server";
      res.prepare_payload();
      http::write(ws.next_layer(), res, ec);
      return;
    }
    ws.accept(req, ec);
    if (ec) return record_failure("accept: " + ec.message());
    Conn<Stream> conn(ws, headers, std::string(req.target()));
    if (owner->on_open) owner->on_open(conn);
    while (!conn.done && !stopping) {
      beast::flat_buffer msg;
      ws.read(msg, ec);
      if (ec) break;
      if (owner->on_message) owner->on_message(conn, beast::buffers_to_string(msg.data()));
    }
  }

  void serve(const std::shared_ptr<tcp::socket>& sock) {
    const int fd = sock->native_handle();
    beast::flat_buffer buffer;
    if (!tls) {
      websocket::stream<tcp::socket&> ws(*sock);
      serve_ws(ws, buffer);
    } else {
      // The websocket layer reads the HTTP request through next_layer(): keep the TLS stream there.
      websocket::stream<ssl::stream<tcp::socket&>> ws(*sock, *tls);
      beast::error_code ec;
      ws.next_layer().handshake(ssl::stream_base::server, ec);
      if (ec) return record_failure("tls: " + ec.message());
      serve_ws(ws, buffer);
      // Beast's teardown after the close handshake ran the TLS shutdown: it sent the server's close_notify
      // and read until the client's, or until the client closed TCP.
      const bool notified = (SSL_get_shutdown(ws.next_layer().native_handle()) & SSL_RECEIVED_SHUTDOWN) != 0;
      {
        std::lock_guard l(mutex);
        tls_endings.push_back(notified);
      }
      ended.notify_all();
    }
    {
      // Leave the set before closing: the descriptor number may be reused as soon as it is closed.
      std::lock_guard l(mutex);
      open_fds.erase(fd);
    }
    beast::error_code ignore;
    sock->close(ignore);
  }
};

ScriptedServer::ScriptedServer(ScriptedServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(options);
  impl_->owner = this;
  if (impl_->opts.tls) {
    // Before the first SSL_CTX of the process, as libqix's contexts do: OpenSSL without its exit handler,
    // which would free its state while libqix's threads may still tear a connection down (see
    // core/session/context.cpp, Context::create).
    OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(impl_->opts.cert_file);
    impl_->tls->use_private_key_file(impl_->opts.key_file, ssl::context::pem);
    if (!impl_->opts.client_ca_file.empty()) {
      impl_->tls->load_verify_file(impl_->opts.client_ca_file);
      impl_->tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  // Before listen(), so that accepted sockets inherit it (and the window they announce).
  if (impl_->opts.receive_buffer > 0)
    impl_->acceptor.set_option(asio::socket_base::receive_buffer_size(impl_->opts.receive_buffer));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  last_port_ = impl_->acceptor.local_endpoint().port();
  impl_->listen_fd = impl_->acceptor.native_handle();
  impl_->accept_thread = std::thread([this] {
    for (;;) {
      auto sock = std::make_shared<tcp::socket>(impl_->io);
      beast::error_code ec;
      impl_->acceptor.accept(*sock, ec);
      if (ec || impl_->stopping) return;
      // As the engine and the simulator: answers go out at once (no Nagle delay waiting for an ACK).
      sock->set_option(tcp::no_delay(true), ec);
      std::lock_guard l(impl_->mutex);
      impl_->open_fds.insert(sock->native_handle());
      impl_->workers.emplace_back([this, sock] { impl_->serve(sock); });
    }
  });
}

// Other threads never touch a socket object that a worker owns (that would be a data race): they only
// shut down its descriptor, which wakes the worker's blocking read, and the worker closes it itself.
ScriptedServer::~ScriptedServer() {
  impl_->stopping = true;
  ::shutdown(impl_->listen_fd, SHUT_RDWR);  // wakes the blocking accept()
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  {
    std::lock_guard l(impl_->mutex);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& w : impl_->workers) w.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

unsigned short ScriptedServer::port() const {
  return last_port_;
}

std::string ScriptedServer::url(const std::string& path) const {
  return std::string(impl_->opts.tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port()) + path;
}

std::map<std::string, std::string> ScriptedServer::last_headers() const {
  std::lock_guard l(impl_->mutex);
  return impl_->last_headers;
}

int ScriptedServer::connections() const {
  std::lock_guard l(impl_->mutex);
  return impl_->connections;
}

std::vector<bool> ScriptedServer::wait_tls_endings(std::size_t n) const {
  std::unique_lock l(impl_->mutex);
  impl_->ended.wait(l, [&] { return impl_->tls_endings.size() >= n; });
  return impl_->tls_endings;
}

std::vector<std::string> ScriptedServer::failures() const {
  std::lock_guard l(impl_->mutex);
  return impl_->failures;
}

}  // namespace qix::test
