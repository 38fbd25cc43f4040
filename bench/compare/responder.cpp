// qix_bench_responder: the peer every client of bench/compare talks to. One thread, plain ws://, as cheap
// as a QIX peer can be, so that the figures measured are the clients' own:
//
// - the WebSocket server side is hand-rolled on Asio (the upgrade, then frames parsed straight from one
//   read buffer: every complete frame a read brings is answered before the next read);
// - answers are written coalesced: while one write is on the wire, new answers are appended to the next
//   buffer, which goes out in one write when the first completes;
// - a request is not parsed as JSON: its "id" and "method" are found by a scan of the text, and the answer
//   is one of a few pre-serialised templates with the id spliced in.
//
//   qix_bench_responder [--port N] [--page-rows R] [--layout-kb K] [--spin]
//
// --spin: the thread polls its sockets in a loop (Asio's poll) instead of sleeping in epoll_wait, so that a
// request costs the peer no wake-up: a core spent to take the peer's own wake-up out of every client's round
// trip at window 1 (compare.py --peer-spin; docs/performance-history.md, What was tried). Not the default: on
// two cores it takes one of them from any client with more than one busy thread.
//
// Prints `listening on ws://127.0.0.1:PORT` once ready. On SIGTERM/SIGINT it prints one line of counters on
// stderr (`responder: connections=... requests=... bytes_in=... bytes_out=... cpu_s=...`) and exits 0.
//
// Answers, by method:
//   OpenDoc            -> {"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"bench"}}
//   GetHyperCubeData   -> one page of R rows x 4 cells (default 2,500 rows = 10,000 cells), the same bytes
//                         every time, built at start
//   GetLayout          -> a layout of about K KiB (default 1024); when the request asks for delta, the
//                         first answer of a connection is the full layout as a delta "add" and later ones a
//                         one-cell "replace" patch (as the engine sends after a one-cell change)
//   anything else      -> {"qVersion":{"qComponentVersion":"12.2528.0"}} (EngineVersion's answer)
// Each connection first gets the engine's greeting, OnConnected with SESSION_CREATED.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Stats {
  long connections = 0;
  long requests = 0;
  long long bytes_in = 0;
  long long bytes_out = 0;
} g_stats;

std::string g_page;    // the "result" of GetHyperCubeData
std::string g_layout;  // the "result" of a full GetLayout
std::string g_layout_delta_first;
std::string g_layout_delta_patch;

std::string accept_key(std::string_view key) {
  std::string in(key);
  in += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return {reinterpret_cast<char*>(out), static_cast<std::size_t>(n)};
}

// The request's "id" (an integer), or -1.
long long find_id(std::string_view msg) {
  auto p = msg.find("\"id\":");
  if (p == std::string_view::npos) return -1;
  p += 5;
  while (p < msg.size() && msg[p] == ' ') ++p;
  long long v = 0;
  bool any = false;
  while (p < msg.size() && msg[p] >= '0' && msg[p] <= '9') {
    v = v * 10 + (msg[p++] - '0');
    any = true;
  }
  return any ? v : -1;
}

std::string_view find_method(std::string_view msg) {
  auto p = msg.find("\"method\":");
  if (p == std::string_view::npos) return {};
  p = msg.find('"', p + 9);
  if (p == std::string_view::npos) return {};
  auto e = msg.find('"', p + 1);
  if (e == std::string_view::npos) return {};
  return msg.substr(p + 1, e - p - 1);
}

void append_frame_header(std::string& out, std::size_t len, unsigned char opcode) {
  out.push_back(static_cast<char>(0x80 | opcode));
  if (len < 126) {
    out.push_back(static_cast<char>(len));
  } else if (len < 65536) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((len >> 8) & 0xff));
    out.push_back(static_cast<char>(len & 0xff));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(len) >> (8 * i)) & 0xff));
  }
}

void append_answer(std::string& out, long long id, std::string_view result, bool delta) {
  std::string head = "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id);
  if (delta) head += ",\"delta\":true";
  head += ",\"result\":";
  append_frame_header(out, head.size() + result.size() + 1, 0x1);
  out += head;
  out += result;
  out += '}';
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(tcp::socket s) : socket_(std::move(s)) {}

  void start() {
    ++g_stats.connections;
    asio::async_read_until(socket_, upgrade_, "\r\n\r\n",
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                             if (!ec) self->on_upgrade(n);
                           });
  }

 private:
  void on_upgrade(std::size_t n) {
    std::string req(asio::buffers_begin(upgrade_.data()), asio::buffers_begin(upgrade_.data()) + n);
    upgrade_.consume(n);
    std::string key;
    for (std::string_view name : {"Sec-WebSocket-Key:", "sec-websocket-key:"}) {
      auto p = req.find(name);
      if (p == std::string::npos) continue;
      p += name.size();
      while (p < req.size() && req[p] == ' ') ++p;
      key = req.substr(p, req.find("\r\n", p) - p);
    }
    std::string resp =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        accept_key(key) + "\r\n\r\n";
    // Bytes the client sent after its upgrade request (none, in practice) start the frame buffer.
    in_.assign(asio::buffers_begin(upgrade_.data()), asio::buffers_end(upgrade_.data()));
    out_ = std::move(resp);
    std::string greeting =
        R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})";
    append_frame_header(out_, greeting.size(), 0x1);
    out_ += greeting;
    flush();
    parse();
    read();
  }

  void read() {
    if (in_.capacity() - in_.size() < 65536) in_.reserve(in_.size() + 262144);
    std::size_t old = in_.size();
    in_.resize(in_.capacity());
    socket_.async_read_some(asio::buffer(in_.data() + old, in_.size() - old),
                            [self = shared_from_this(), old](boost::system::error_code ec, std::size_t n) {
                              self->in_.resize(old + n);
                              if (ec) return self->shutdown();
                              g_stats.bytes_in += static_cast<long long>(n);
                              self->parse();
                              if (!self->closing_) self->read();
                            });
  }

  // Answers every complete frame in the buffer; keeps a partial one for the next read.
  void parse() {
    std::size_t pos = 0;
    for (;;) {
      std::size_t avail = in_.size() - pos;
      if (avail < 2) break;
      auto* b = reinterpret_cast<unsigned char*>(in_.data() + pos);
      unsigned char opcode = b[0] & 0x0f;
      bool masked = (b[1] & 0x80) != 0;
      std::uint64_t len = b[1] & 0x7f;
      std::size_t hdr = 2;
      if (len == 126) {
        if (avail < 4) break;
        len = (std::uint64_t{b[2]} << 8) | b[3];
        hdr = 4;
      } else if (len == 127) {
        if (avail < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
        hdr = 10;
      }
      std::size_t mask_at = hdr;
      if (masked) hdr += 4;
      if (avail < hdr + len) break;
      char* payload = in_.data() + pos + hdr;
      if (masked) {
        const unsigned char* m = b + mask_at;
        for (std::uint64_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ m[i & 3]);
      }
      on_message(opcode, std::string_view(payload, len));
      pos += hdr + len;
      if (closing_) break;
    }
    in_.erase(0, pos);
    flush();
  }

  void on_message(unsigned char opcode, std::string_view msg) {
    if (opcode == 0x8) {  // close: answer it and end the connection once written
      append_frame_header(next_, 2, 0x8);
      next_ += msg.size() >= 2 ? std::string(msg.substr(0, 2)) : std::string("\x03\xe8", 2);
      closing_ = true;
      return;
    }
    if (opcode == 0x9) {  // ping
      append_frame_header(next_, msg.size(), 0xA);
      next_ += msg;
      return;
    }
    if (opcode != 0x1 && opcode != 0x2 && opcode != 0x0) return;
    ++g_stats.requests;
    long long id = find_id(msg);
    if (id < 0) return;  // a notification: nothing to answer
    std::string_view method = find_method(msg);
    bool delta = msg.find("\"delta\":true") != std::string_view::npos;
    if (method == "OpenDoc") {
      append_answer(next_, id, R"({"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"bench"}})", false);
    } else if (method == "GetHyperCubeData") {
      append_answer(next_, id, g_page, false);
    } else if (method == "GetLayout") {
      if (!delta) {
        append_answer(next_, id, g_layout, false);
      } else if (!layout_sent_) {
        layout_sent_ = true;
        append_answer(next_, id, g_layout_delta_first, true);
      } else {
        append_answer(next_, id, g_layout_delta_patch, true);
      }
    } else {
      append_answer(next_, id, R"({"qVersion":{"qComponentVersion":"12.2528.0"}})", false);
    }
  }

  void flush() {
    if (writing_) return;
    if (out_.empty()) out_.swap(next_);
    if (out_.empty()) {
      if (closing_) shutdown();
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        self->writing_ = false;
                        g_stats.bytes_out += static_cast<long long>(n);
                        self->out_.clear();
                        if (ec) return self->shutdown();
                        self->flush();
                      });
  }

  void shutdown() {
    boost::system::error_code ignore;
    socket_.shutdown(tcp::socket::shutdown_both, ignore);
    socket_.close(ignore);
  }

  tcp::socket socket_;
  asio::streambuf upgrade_;
  std::string in_;
  std::string out_;   // on the wire
  std::string next_;  // answers waiting for the write in progress
  bool writing_ = false;
  bool closing_ = false;
  bool layout_sent_ = false;
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<Connection>(std::move(s))->start();
    }
    accept(acceptor);
  });
}

void build_data(int page_rows, int layout_kb) {
  // A GetHyperCubeData page as the engine sends it: qDataPages[0].qMatrix of rows of 4 NxCells
  // (two dimensions, two measures), with qArea.
  std::string m;
  m.reserve(static_cast<std::size_t>(page_rows) * 260);
  for (int r = 0; r < page_rows; ++r) {
    if (r) m += ',';
    char row[512];
    double sales = 1000.0 + (r * 37 % 9973) / 7.0;
    std::snprintf(row, sizeof row,
                  "[{\"qText\":\"Region %d\",\"qNum\":\"NaN\",\"qElemNumber\":%d,\"qState\":\"O\"},"
                  "{\"qText\":\"Customer %05d\",\"qNum\":\"NaN\",\"qElemNumber\":%d,\"qState\":\"O\"},"
                  "{\"qText\":\"%.2f\",\"qNum\":%.2f,\"qElemNumber\":0,\"qState\":\"L\"},"
                  "{\"qText\":\"%d\",\"qNum\":%d,\"qElemNumber\":0,\"qState\":\"L\"}]",
                  r % 6, r % 6, r, r, sales, sales, r % 97, r % 97);
    m += row;
  }
  g_page =
      "{\"qDataPages\":[{\"qMatrix\":[" + m +
      "],\"qTails\":[{\"qUp\":0,\"qDown\":0}],\"qArea\":{\"qLeft\":0,\"qTop\":0,\"qWidth\":4,\"qHeight\":" +
      std::to_string(page_rows) + "}}]}";

  // A layout of about layout_kb KiB: a generic object whose hypercube carries rows of cells.
  std::string rows;
  int i = 0;
  while (rows.size() < static_cast<std::size_t>(layout_kb) * 1024) {
    if (i) rows += ',';
    rows += "[{\"qText\":\"Item " + std::to_string(i) +
            "\",\"qNum\":\"NaN\",\"qElemNumber\":" + std::to_string(i) + ",\"qState\":\"O\"},{\"qText\":\"" +
            std::to_string(i * 3) + "\",\"qNum\":" + std::to_string(i * 3) +
            ",\"qElemNumber\":0,\"qState\":\"L\"}]";
    ++i;
  }
  std::string layout =
      "{\"qInfo\":{\"qId\":\"bench-object\",\"qType\":\"table\"},\"qHyperCube\":{\"qSize\":{\"qcx\":2,"
      "\"qcy\":" +
      std::to_string(i) + "},\"qDataPages\":[{\"qMatrix\":[" + rows +
      "],\"qTails\":[],\"qArea\":{\"qLeft\":0,\"qTop\":0,\"qWidth\":2,\"qHeight\":" + std::to_string(i) +
      "}}]}}";
  g_layout = "{\"qLayout\":" + layout + "}";
  g_layout_delta_first = "{\"qLayout\":[{\"op\":\"add\",\"path\":\"/\",\"value\":" + layout + "}]}";
  g_layout_delta_patch =
      "{\"qLayout\":[{\"op\":\"replace\",\"path\":\"/qHyperCube/qDataPages/0/qMatrix/0/1/"
      "qNum\",\"value\":42}]}";
}

}  // namespace

namespace {
int run(int argc, char** argv) {
  unsigned short port = 0;
  int page_rows = 2500;
  int layout_kb = 1024;
  bool spin = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else if (a == "--page-rows" && i + 1 < argc) {
      page_rows = std::atoi(argv[++i]);
    } else if (a == "--layout-kb" && i + 1 < argc) {
      layout_kb = std::atoi(argv[++i]);
    } else if (a == "--spin") {
      spin = true;
    } else {
      std::fprintf(stderr,
                   "usage: qix_bench_responder [--port N] [--page-rows R] [--layout-kb K] [--spin]\n");
      return 2;
    }
  }
  build_data(page_rows, layout_kb);
  asio::io_context io(1);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  accept(acceptor);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  std::printf("listening on ws://127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  if (spin) {
    while (!io.stopped()) io.poll();
  } else {
    io.run();
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::fprintf(stderr, "responder: connections=%ld requests=%ld bytes_in=%lld bytes_out=%lld cpu_s=%.3f\n",
               g_stats.connections, g_stats.requests, g_stats.bytes_in, g_stats.bytes_out, cpu);
  return 0;
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
