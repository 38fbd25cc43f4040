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

#include <deque>
#include <mutex>
#include <optional>

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

// Shared by the plain and TLS variants. `Stream` is websocket::stream<tcp_stream> or
// websocket::stream<ssl_stream<tcp_stream>>. All socket work runs on one strand.
template <class Derived>
class WsBase : public Transport {
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

  void send(std::string text) override {
    asio::post(strand_, [self = derived().shared_from_this(), t = std::move(text)]() mutable {
      if (self->closed_ || self->close_requested_) return;
      self->queue_.push_back(std::move(t));
      if (self->opened_) self->start_write();
    });
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
    if (opts_.keepalive.count() > 0) {
      t.idle_timeout = opts_.keepalive * 2;
      t.keep_alive_pings = true;
    } else {
      t.idle_timeout = websocket::stream_base::none();
      t.keep_alive_pings = false;
    }
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
    if (auto h = handler_.lock()) h->on_open();
    start_read();
    if (!queue_.empty()) start_write();
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
  }

  void on_read_error(beast::error_code ec) {
    CloseInfo info;
    info.by_client = close_requested_;
    if (ec == websocket::error::closed) {
      auto r = derived().ws().reason();
      info.code = r.code == websocket::close_code::none ? close_code::normal : static_cast<int>(r.code);
      info.reason = std::string(r.reason.data(), r.reason.size());
    } else if (ec == websocket::error::message_too_big) {
      info.code = close_code::message_too_big;
      info.error =
          Error::make(ErrorKind::message_too_large,
                      "message too large: a frame exceeded the maximum message size of " +
                          std::to_string(opts_.max_message_size) + " bytes; the connection was closed");
    } else if (ec == beast::error::timeout) {
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

  void start_write() {
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    derived().ws().async_write(
        asio::buffer(queue_.front()),
        [self = derived().shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (ec) {
      // The read side reports the loss; make sure it notices.
      beast::error_code ignore;
      beast::get_lowest_layer(derived().ws()).socket().close(ignore);
      return;
    }
    if (close_requested_ && queue_.empty()) return start_close_frame();
    start_write();
  }

  void do_close(int code, std::string reason) {
    if (closed_ || close_requested_) return;
    close_requested_ = true;
    requested_code_ = code;
    requested_reason_ = std::move(reason);
    if (!opened_) {
      // Still connecting: abort whatever step is running; its handler reports the close.
      resolver_.cancel();
      beast::error_code ignore;
      beast::get_lowest_layer(derived().ws()).socket().close(ignore);
      return;
    }
    queue_.clear();  // messages not yet written are dropped (documented)
    if (!writing_) start_close_frame();
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
    queue_.clear();
    if (close_timer_) {
      if (auto ctx = ctx_.lock()) ctx->cancel_timer(close_timer_);
    }
    beast::error_code ignore;
    beast::get_lowest_layer(derived().ws()).socket().close(ignore);
    if (auto h = handler_.lock()) h->on_close(info);
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
  std::deque<std::string> queue_;
  Context::TimerId close_timer_ = 0;
  int requested_code_ = close_code::normal;
  std::string requested_reason_;
  bool opened_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool closed_ = false;
};

class PlainWs final : public WsBase<PlainWs>, public std::enable_shared_from_this<PlainWs> {
 public:
  PlainWs(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url)
      : WsBase(ctx, std::move(opts), std::move(url)), ws_(strand_) {}
  websocket::stream<beast::tcp_stream>& ws() { return ws_; }
  void after_connect() { start_ws_handshake(); }
  using std::enable_shared_from_this<PlainWs>::shared_from_this;

 private:
  websocket::stream<beast::tcp_stream> ws_;
};

class TlsWs final : public WsBase<TlsWs>, public std::enable_shared_from_this<TlsWs> {
 public:
  TlsWs(const std::shared_ptr<Context>& ctx, ConnectOptions opts, ParsedUrl url,
        std::shared_ptr<ssl::context> tls)
      : WsBase(ctx, std::move(opts), std::move(url)), tls_(std::move(tls)), ws_(strand_, *tls_) {}
  websocket::stream<beast::ssl_stream<beast::tcp_stream>>& ws() { return ws_; }
  using std::enable_shared_from_this<TlsWs>::shared_from_this;

  void after_connect() {
    SSL* native = ws_.next_layer().native_handle();
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
    ws_.next_layer().async_handshake(
        ssl::stream_base::client,
        [self = shared_from_this()](beast::error_code ec) { self->on_tls_handshake(ec); });
  }

  void on_tls_handshake(beast::error_code ec) {
    if (close_requested_) return finish_client_close();
    if (ec == beast::error::timeout) return fail(Error::make(ErrorKind::timeout, "TLS handshake timed out"));
    if (ec) {
      std::string msg = "TLS handshake with " + url_.host + " failed: " + ec.message();
      long verify = SSL_get_verify_result(ws_.next_layer().native_handle());
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
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
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
