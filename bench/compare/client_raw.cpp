// qix_bench_raw: the floor bench/compare measures libqix against, a minimal QIX client written straight on
// Boost.Beast: one thread, request frames serialised before the clock starts, one WebSocket write per frame,
// every answer parsed with Boost.JSON and matched to its request by id. No timeouts, no change tracking,
// no delta, no reconnect, no callbacks across threads: what is left is the wire and the JSON.
//
//   qix_bench_raw URL tiny|tiny-spin|page|parse|parse-layout CALLS WINDOW
//
// `tiny-spin` is `tiny` with the thread never sleeping: it polls the socket in a loop (Asio's poll_one)
// instead of waiting in epoll, so an answer is read without a wake-up. It spends a whole core; no client
// should, but at window 1 it measures the ceiling: how many round trips per second the peer and the loopback
// allow a client that costs nothing to wake.
//
// `parse` is the bare-parse baseline of the page scenario: one page is fetched, then its text is parsed
// CALLS times with Boost.JSON (json::parse into the default resource), no socket in the timed part.
// `parse-layout` is the same for the delta scenario: the full layout (a GetLayout without delta), parsed
// CALLS times (P3 compares a delta re-fetch with a full parse of the layout).
//
// Prints `ok=N failed=F wall_s=S cpu_s=C bytes=B` (C: this process's CPU in the timed part); exit 0 when
// every call was answered once.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/json/src.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

struct Client {
  explicit Client(asio::io_context& io) : ws(io) {}
  websocket::stream<beast::tcp_stream> ws;
  std::vector<std::string> frames;  // pre-serialised, frames[i] has id i + 1
  std::vector<char> answered;
  std::deque<std::size_t> to_write;
  beast::flat_buffer buffer;
  std::size_t next = 0;
  long ok = 0, failed = 0;
  long long bytes = 0;
  bool writing = false;
  bool done = false;

  void send_next() {
    if (next < frames.size()) to_write.push_back(next++);
    write();
  }

  void write() {
    if (writing || to_write.empty()) return;
    writing = true;
    ws.async_write(asio::buffer(frames[to_write.front()]), [this](beast::error_code ec, std::size_t) {
      writing = false;
      to_write.pop_front();
      if (ec) {
        std::fprintf(stderr, "write: %s\n", ec.message().c_str());
        return;
      }
      write();
    });
  }

  void read() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t n) {
      if (ec) {
        std::fprintf(stderr, "read: %s\n", ec.message().c_str());
        return;
      }
      auto text = beast::buffers_to_string(buffer.data());
      buffer.consume(n);
      json::value v = json::parse(text);
      const json::object& o = v.as_object();
      if (const json::value* id = o.if_contains("id")) {  // frames without an id are notifications
        std::int64_t i = id->to_number<std::int64_t>();
        if (i >= 1 && static_cast<std::size_t>(i) <= frames.size() && !answered[i - 1] &&
            o.contains("result")) {
          answered[i - 1] = 1;
          ++ok;
          bytes += static_cast<long long>(n);
        } else {
          ++failed;
        }
        if (ok + failed == static_cast<long>(frames.size())) {
          done = true;
          return;
        }
        send_next();
      }
      read();
    });
  }
};

}  // namespace

namespace {
int run(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: qix_bench_raw URL tiny|tiny-spin|page|parse|parse-layout CALLS WINDOW\n");
    return 2;
  }
  std::string url = argv[1];  // ws://127.0.0.1:PORT[/path]
  std::string scenario = argv[2];
  long calls = std::atol(argv[3]);
  long window = std::atol(argv[4]);
  auto hostport = url.substr(5);
  auto slash = hostport.find('/');
  std::string path = slash == std::string::npos ? "/" : hostport.substr(slash);
  hostport = hostport.substr(0, slash);
  auto colon = hostport.find(':');
  std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);

  asio::io_context io(1);
  Client c(io);
  tcp::resolver resolver(io);
  beast::get_lowest_layer(c.ws).connect(resolver.resolve(host, port));
  beast::get_lowest_layer(c.ws).socket().set_option(tcp::no_delay(true));
  c.ws.handshake(hostport, path);
  c.ws.text(true);

  int handle = -1;
  std::string method = "EngineVersion";
  bool parse_only = scenario == "parse" || scenario == "parse-layout";
  if (scenario == "page" || parse_only) {
    c.ws.write(asio::buffer(
        std::string(R"({"jsonrpc":"2.0","id":0,"method":"OpenDoc","handle":-1,"params":["bench"]})")));
    for (;;) {  // the greeting, then OpenDoc's answer
      beast::flat_buffer b;
      c.ws.read(b);
      json::value v = json::parse(beast::buffers_to_string(b.data()));
      if (v.as_object().contains("id")) {
        handle = static_cast<int>(v.at("result").at("qReturn").at("qHandle").to_number<int>());
        break;
      }
    }
    method = "GetHyperCubeData";
    window = 1;
  }
  auto cpu = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  if (parse_only) {
    std::string what = scenario == "parse" ? "GetHyperCubeData" : "GetLayout";
    c.ws.write(asio::buffer(R"({"jsonrpc":"2.0","id":1,"method":")" + what + R"(","handle":)" +
                            std::to_string(handle) + R"(,"params":[]})"));
    beast::flat_buffer b;
    c.ws.read(b);
    const std::string page = beast::buffers_to_string(b.data());
    long ok = 0;
    double c0 = cpu();
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; ++i) {
      json::value v = json::parse(page);
      if (v.as_object().contains("result")) ++ok;
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("ok=%ld failed=%ld wall_s=%.6f cpu_s=%.6f bytes=%lld\n", ok, calls - ok, wall, cpu() - c0,
                static_cast<long long>(page.size()) * calls);
    beast::error_code ignore;
    c.ws.close(websocket::close_code::normal, ignore);
    return ok == calls ? 0 : 1;
  }
  c.frames.reserve(static_cast<std::size_t>(calls));
  for (long i = 1; i <= calls; ++i) {
    c.frames.push_back(R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":")" + method +
                       R"(","handle":)" + std::to_string(handle) + R"(,"params":[]})");
  }
  c.answered.assign(static_cast<std::size_t>(calls), 0);

  double c0 = cpu();
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < window && i < calls; ++i) c.send_next();
  c.read();
  if (scenario == "tiny-spin") {
    while (!c.done && !io.stopped()) io.poll_one();
  } else {
    while (!c.done && io.run_one() > 0) {
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("ok=%ld failed=%ld wall_s=%.6f cpu_s=%.6f bytes=%lld\n", c.ok, c.failed, wall, cpu() - c0,
              c.bytes);
  std::fflush(stdout);
  beast::error_code ignore;
  c.ws.close(websocket::close_code::normal, ignore);
  return c.failed == 0 && c.ok == calls ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
}
