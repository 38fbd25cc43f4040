// Minimal WebSocket test client (ws:// and wss://): synchronous connect, a reader thread, a frame queue.
#include "ws_client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace qix::sim::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct WsClient::Impl {
  virtual ~Impl() = default;
  virtual void write(const std::string& text) = 0;
  virtual void shutdown() = 0;

  std::thread reader;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> frames;
  bool ended = false;
  int code = 0;

  void push(std::string f) {
    std::lock_guard lock(mu);
    frames.push_back(std::move(f));
    cv.notify_all();
  }
  void end(int c) {
    std::lock_guard lock(mu);
    ended = true;
    code = c;
    cv.notify_all();
  }
};

namespace {

template <class Stream>
struct StreamImpl : WsClient::Impl {
  net::io_context ioc;
  std::optional<ssl::context> ctx;
  std::unique_ptr<websocket::stream<Stream>> ws;

  void read_loop() {
    for (;;) {
      beast::flat_buffer buf;
      beast::error_code ec;
      ws->read(buf, ec);
      if (ec) {
        end(ec == websocket::error::closed ? ws->reason().code : 0);
        return;
      }
      push(beast::buffers_to_string(buf.data()));
    }
  }
  void write(const std::string& text) override {
    beast::error_code ec;
    ws->write(net::buffer(text), ec);
  }
  void shutdown() override {
    beast::error_code ec;
    beast::get_lowest_layer(*ws).shutdown(tcp::socket::shutdown_both, ec);
    if (reader.joinable()) reader.join();
    beast::get_lowest_layer(*ws).close(ec);
  }
};

}  // namespace

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

template <class Stream>
static bool handshake(StreamImpl<Stream>& impl, const std::string& host, unsigned short port,
                      const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers, int* http_status) {
  impl.ws->set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  impl.ws->read_message_max(256 * 1024 * 1024);
  websocket::response_type res;
  beast::error_code ec;
  impl.ws->handshake(res, host + ":" + std::to_string(port), target, ec);
  if (ec) {
    if (http_status) *http_status = static_cast<int>(res.result_int());
    return false;
  }
  impl.ws->text(true);
  auto* raw = &impl;
  impl.reader = std::thread([raw] { raw->read_loop(); });
  return true;
}

std::unique_ptr<WsClient> WsClient::connect(const std::string& host, unsigned short port,
                                            const std::string& target,
                                            const std::vector<std::pair<std::string, std::string>>& headers,
                                            int* http_status, const TlsConfig* tls) {
  if (!tls) {
    auto impl = std::make_unique<StreamImpl<tcp::socket>>();
    impl->ws = std::make_unique<websocket::stream<tcp::socket>>(impl->ioc);
    tcp::resolver resolver(impl->ioc);
    net::connect(impl->ws->next_layer(), resolver.resolve(host, std::to_string(port)));
    if (!handshake(*impl, host, port, target, headers, http_status)) return nullptr;
    return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
  }
  using TlsStream = ssl::stream<tcp::socket>;
  auto impl = std::make_unique<StreamImpl<TlsStream>>();
  OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);  // as the simulator does before its first SSL_CTX
  impl->ctx.emplace(ssl::context::tls_client);
  impl->ctx->set_verify_mode(ssl::verify_none);
  if (!tls->client_cert.empty()) {
    impl->ctx->use_certificate_chain_file(tls->client_cert);
    impl->ctx->use_private_key_file(tls->client_key, ssl::context::pem);
  }
  impl->ws = std::make_unique<websocket::stream<TlsStream>>(impl->ioc, *impl->ctx);
  tcp::resolver resolver(impl->ioc);
  net::connect(beast::get_lowest_layer(*impl->ws), resolver.resolve(host, std::to_string(port)));
  beast::error_code ec;
  impl->ws->next_layer().handshake(ssl::stream_base::client, ec);
  if (ec) {
    if (http_status) *http_status = -1;
    return nullptr;
  }
  if (!handshake(*impl, host, port, target, headers, http_status)) return nullptr;
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

WsClient::~WsClient() {
  impl_->shutdown();
}

void WsClient::send(const std::string& text) {
  impl_->write(text);
}

bool WsClient::next(std::string& out, int timeout_ms) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                     [&] { return !impl_->frames.empty() || impl_->ended; });
  if (impl_->frames.empty()) return false;
  out = std::move(impl_->frames.front());
  impl_->frames.pop_front();
  return true;
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ended;
}

int WsClient::close_code() const {
  std::lock_guard lock(impl_->mu);
  return impl_->code;
}

bool WsClient::wait_closed(int timeout_ms) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return impl_->ended; });
}

}  // namespace qix::sim::test
