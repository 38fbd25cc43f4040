// The client's own WebSocket framing over a real socket, against a server that writes exactly the bytes a
// test gives it: frames that arrive with the upgrade's answer, fragments with pings between them, answers
// cut in pieces, and frames that break the protocol (the client answers with the close code RFC 6455 asks
// for and ends the session with a clear error).
#include "session/session.hpp"
#include "support/ws_server_frame.hpp"
#include "transport/websocket_transport.hpp"
#include "transport/ws_frame.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace qix;
using namespace std::chrono_literals;
using core::ErrorKind;
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

using test::server_frame;
std::string frame(int op, const std::string& payload, bool fin = true) {
  return server_frame(op, payload, fin);
}

constexpr const char* kOnConnected =
    R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})";

std::string answer(std::int64_t id, const std::string& value) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"qReturn":")" + value + "\"}}";
}

// One connection of the raw server, on its thread.
class RawConn {
 public:
  explicit RawConn(tcp::socket& s) : sock_(s) {}

  /// Reads the upgrade request; returns the 101 answer to write (the test decides what follows it in the
  /// same write).
  std::string read_upgrade() {
    std::string head;
    asio::read_until(sock_, asio::dynamic_buffer(head), "\r\n\r\n");
    std::string key;
    std::size_t at = head.find("Sec-WebSocket-Key: ");
    if (at != std::string::npos) {
      at += 19;
      key = head.substr(at, head.find("\r\n", at) - at);
    }
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           core::ws::accept_key(key) + "\r\n\r\n";
  }

  void write(const std::string& bytes) { asio::write(sock_, asio::buffer(bytes)); }
  /// Writes `bytes` in pieces of `n` bytes, one write each.
  void write_in_pieces(const std::string& bytes, std::size_t n) {
    for (std::size_t at = 0; at < bytes.size(); at += n) write(bytes.substr(at, n));
  }

  struct ClientFrame {
    int op = 0;
    std::string payload;
  };
  /// The next frame from the client, unmasked; nullopt when the connection ends. Checks the client masks.
  std::optional<ClientFrame> read_frame() {
    boost::system::error_code ec;
    unsigned char h[2];
    asio::read(sock_, asio::buffer(h, 2), ec);
    if (ec) return std::nullopt;
    EXPECT_TRUE(h[1] & 0x80) << "a client frame without a mask";
    std::uint64_t n = h[1] & 0x7F;
    if (n >= 126) {
      unsigned char ext[8];
      std::size_t k = n == 126 ? 2 : 8;
      asio::read(sock_, asio::buffer(ext, k), ec);
      if (ec) return std::nullopt;
      n = 0;
      for (std::size_t i = 0; i < k; ++i) n = (n << 8) | ext[i];
    }
    unsigned char key[4];
    asio::read(sock_, asio::buffer(key, 4), ec);
    std::string payload(n, '\0');
    if (n) asio::read(sock_, asio::buffer(payload), ec);
    if (ec) return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
    return ClientFrame{h[0] & 0x0F, std::move(payload)};
  }

  /// The next text message's request id (skipping pongs), or -1 when the connection ends first.
  std::int64_t read_call_id() {
    for (;;) {
      auto f = read_frame();
      if (!f) return -1;
      if (f->op == core::ws::opcode::text) return json::parse(f->payload).at("id").to_number<std::int64_t>();
    }
  }

 private:
  tcp::socket& sock_;
};

// Accepts one connection and runs the script on it, on its own thread.
class RawServer {
 public:
  explicit RawServer(std::function<void(RawConn&)> script) {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    thread_ = std::thread([this, script = std::move(script)] {
      tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec) return;
      sock.set_option(tcp::no_delay(true), ec);
      RawConn c(sock);
      try {
        script(c);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "the raw server's script threw: " << e.what();
      }
      // Until the client closes: the script's last frames are read by then.
      char sink[256];
      while (!ec) sock.read_some(asio::buffer(sink), ec);
    });
  }
  ~RawServer() { thread_.join(); }
  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/app/x";
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

struct Client {
  explicit Client(const std::string& url) {
    core::ConnectOptions o;
    o.url = url;
    o.connect_timeout = 10s;
    o.handshake_timeout = 10s;
    session = core::Session::create(ctx, core::make_websocket_transport(ctx, std::move(o)));
  }
  ~Client() {
    session->close();
    session.reset();
    ctx->shutdown();
  }
  std::shared_ptr<core::Context> ctx = core::Context::create();
  std::shared_ptr<core::Session> session;
};

}  // namespace

TEST(WebSocketFrames, FramesThatComeWithTheUpgradeAnswerAreRead) {
  // The answer's header, OnConnected and a notification leave in one write (one TCP segment): what follows
  // the header in the client's first read is frames, not to be lost with the HTTP parser's buffer.
  RawServer server([](RawConn& c) {
    c.write(c.read_upgrade() + frame(1, kOnConnected) +
            frame(1, R"({"jsonrpc":"2.0","method":"OnMaxParallelSessionsExceeded","params":{}})"));
    auto id = c.read_call_id();
    c.write(frame(1, answer(id, "first")));
  });
  Client c(server.url());
  ASSERT_FALSE(c.session->open_sync(10s));
  auto r = c.session->call_sync(-1, "EngineVersion", "{}");
  ASSERT_TRUE(r.ok()) << r.error.describe();
  EXPECT_EQ(r.result.at("qReturn").as_string(), "first");
  EXPECT_EQ(c.session->engine_session_state(), "SESSION_CREATED");
  auto history = c.session->notification_history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].method, "OnMaxParallelSessionsExceeded");
}

TEST(WebSocketFrames, FragmentsWithPingsBetweenArriveWholeAndPingsArePonged) {
  std::promise<std::string> pong;
  RawServer server([&](RawConn& c) {
    c.write(c.read_upgrade() + frame(1, kOnConnected));
    auto id = c.read_call_id();
    std::string text = answer(id, std::string(3000, 'f') + "\xc3\xa9");  // é, cut between two fragments
    std::size_t cut = text.find("\xc3\xa9") + 1;
    std::string bytes = frame(1, text.substr(0, 10), false) + frame(9, "are you there?") +
                        frame(0, text.substr(10, cut - 10), false) + frame(0, text.substr(cut), true);
    c.write_in_pieces(bytes, 1);  // a byte per write: the frames arrive cut everywhere
    for (;;) {
      auto f = c.read_frame();
      if (!f) return pong.set_value("(no pong)");
      if (f->op == 0xA) return pong.set_value(f->payload);
    }
  });
  Client c(server.url());
  ASSERT_FALSE(c.session->open_sync(10s));
  auto r = c.session->call_sync(-1, "EngineVersion", "{}");
  ASSERT_TRUE(r.ok()) << r.error.describe();
  EXPECT_EQ(std::string(r.result.at("qReturn").as_string()), std::string(3000, 'f') + "\xc3\xa9");
  EXPECT_EQ(pong.get_future().get(), "are you there?");
}

TEST(WebSocketFrames, AnswersOfEveryLengthFormArriveInAnyPieces) {
  const std::vector<std::size_t> sizes = {10, 125, 126, 4000, 65535, 65536, 300000};
  RawServer server([&](RawConn& c) {
    c.write(c.read_upgrade() + frame(1, kOnConnected));
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      auto id = c.read_call_id();
      c.write_in_pieces(frame(1, answer(id, std::string(sizes[i], 'a' + static_cast<char>(i)))), 997);
    }
  });
  Client c(server.url());
  ASSERT_FALSE(c.session->open_sync(10s));
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto r = c.session->call_sync(-1, "EngineVersion", "{}");
    ASSERT_TRUE(r.ok()) << r.error.describe();
    EXPECT_EQ(std::string(r.result.at("qReturn").as_string()),
              std::string(sizes[i], 'a' + static_cast<char>(i)));
  }
}

TEST(WebSocketFrames, ProtocolErrorsAreAnsweredWithTheirCloseCodeAndEndTheSession) {
  struct Case {
    const char* name;
    std::string bytes;
    int code;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"masked frame", server_frame(1, "{}", true, 0, true), 1002, "masked"},
      {"reserved bit", server_frame(1, "{}", true, 4), 1002, "reserved bits"},
      {"unknown opcode", frame(3, "{}"), 1002, "unknown opcode"},
      {"text not UTF-8", frame(1, "{\"x\":\"\xc3\x28\"}"), 1007, "not UTF-8"},
  };
  for (const auto& k : cases) {
    std::promise<std::string> close_payload;
    RawServer server([&](RawConn& c) {
      c.write(c.read_upgrade() + frame(1, kOnConnected));
      c.read_call_id();
      c.write(k.bytes);
      for (;;) {
        auto f = c.read_frame();
        if (!f) return close_payload.set_value("(none)");
        if (f->op == 8) return close_payload.set_value(f->payload);
      }
    });
    Client c(server.url());
    ASSERT_FALSE(c.session->open_sync(10s)) << k.name;
    auto r = c.session->call_sync(-1, "EngineVersion", "{}");
    EXPECT_EQ(r.error.kind, ErrorKind::connection_lost) << k.name << ": " << r.error.describe();
    auto info = c.session->close_info();
    ASSERT_TRUE(info) << k.name;
    EXPECT_EQ(info->code, k.code) << k.name;
    EXPECT_NE(info->error.message.find(k.says), std::string::npos) << k.name << ": " << info->error.message;
    std::string sent = close_payload.get_future().get();
    ASSERT_GE(sent.size(), 2u) << k.name;
    EXPECT_EQ((static_cast<unsigned char>(sent[0]) << 8) | static_cast<unsigned char>(sent[1]), k.code)
        << k.name;
  }
}

TEST(WebSocketFrames, ACloseWithoutACodeIsNormalAndAnsweredWithoutOne) {
  std::promise<std::string> answered;
  RawServer server([&](RawConn& c) {
    c.write(c.read_upgrade() + frame(1, kOnConnected));
    c.read_call_id();
    c.write(frame(8, ""));
    for (;;) {
      auto f = c.read_frame();
      if (!f) return answered.set_value("(no close)");
      if (f->op == 8) return answered.set_value("close of " + std::to_string(f->payload.size()) + " bytes");
    }
  });
  Client c(server.url());
  ASSERT_FALSE(c.session->open_sync(10s));
  auto r = c.session->call_sync(-1, "EngineVersion", "{}");
  EXPECT_EQ(r.error.kind, ErrorKind::connection_lost) << r.error.describe();
  EXPECT_EQ(c.session->close_info()->code, 1000);
  EXPECT_FALSE(c.session->close_info()->by_client);
  EXPECT_EQ(answered.get_future().get(), "close of 0 bytes");
}

TEST(WebSocketFrames, UpgradeAnswerHeadersAreReadWithoutRegardToCase) {
  RawServer server([](RawConn& c) {
    std::string answer = c.read_upgrade();
    std::string accept = answer.substr(answer.find("Accept: ") + 8);
    c.write(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n"
        "sec-websocket-accept: " +
        accept + frame(1, kOnConnected));
    c.write(frame(1, ::answer(c.read_call_id(), "ok")));
  });
  Client c(server.url());
  ASSERT_FALSE(c.session->open_sync(10s));
  auto r = c.session->call_sync(-1, "EngineVersion", "{}");
  ASSERT_TRUE(r.ok()) << r.error.describe();
}

TEST(WebSocketFrames, AnUpgradeAnswerWithAWrongAcceptKeyFailsTheOpen) {
  RawServer server([](RawConn& c) {
    c.read_upgrade();
    c.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" +
        frame(1, kOnConnected));
  });
  Client c(server.url());
  auto e = c.session->open_sync(10s);
  EXPECT_EQ(e.kind, ErrorKind::network) << e.describe();
  EXPECT_NE(e.message.find("Sec-WebSocket-Accept"), std::string::npos) << e.message;
}

// The answers to 150 pipelined calls in one write: the client reads them in a few reads and hands each
// read's messages to the session as runs (at most 64 messages each), which applies them in parts. Every
// answer reaches its call (reverse order, one of them 100 KB among small ones), each once, without waiting
// for more bytes (the last call's callback sends the call the server waits for before it writes on). Then
// that call's answer and a close frame in one write: the answer is applied before the end is reported.
TEST(WebSocketFrames, ManyAnswersInOneWriteAreAllAppliedInOrderAndAnAnswerBeforeACloseComesFirst) {
  constexpr int kCalls = 150;
  constexpr int kLarge = 75;
  const std::string large(100 * 1024, 'L');
  RawServer server([&](RawConn& c) {
    c.write(c.read_upgrade() + frame(1, kOnConnected));
    std::vector<std::int64_t> ids(kCalls);
    for (auto& id : ids) id = c.read_call_id();
    std::string bytes;
    for (int i = kCalls - 1; i >= 0; --i) {
      bytes += frame(1, answer(ids[static_cast<std::size_t>(i)], i == kLarge ? large : std::to_string(i)));
    }
    c.write(bytes);
    const std::int64_t last = c.read_call_id();  // sent once every answer above was applied
    c.write(frame(1, answer(last, "last")) + frame(8, std::string("\x0f\xa3", 2) + "engine terminating"));
  });
  Client c(server.url());
  std::mutex m;
  std::vector<std::string> events;
  std::promise<void> closed;
  c.session->on_state([&](core::SessionState s, const core::CloseInfo*) {
    if (s != core::SessionState::closed) return;
    std::lock_guard l(m);
    events.push_back("closed");
    closed.set_value();
  });
  ASSERT_FALSE(c.session->open_sync(10s));
  core::CallOptions text;
  text.text_result = true;
  int answered = 0;
  for (int i = 0; i < kCalls; ++i) {
    c.session->call(-1, "EngineVersion", "{}", text, [&, i](core::CallResult& r) {
      std::lock_guard l(m);
      std::string want = R"({"qReturn":")" + (i == kLarge ? large : std::to_string(i)) + "\"}";
      events.push_back(!r.ok()          ? "call " + std::to_string(i) + " failed: " + r.error.describe()
                       : r.text == want ? "call " + std::to_string(i)
                                        : "call " + std::to_string(i) + " got another answer");
      if (++answered < kCalls) return;
      c.session->call(-1, "EngineVersion", "{}", text, [&](core::CallResult& last) {
        std::lock_guard l2(m);
        events.push_back(last.ok() && last.text == R"({"qReturn":"last"})" ? "last" : "last went wrong");
      });
    });
  }
  closed.get_future().wait();
  std::vector<std::string> expected;
  for (int i = kCalls - 1; i >= 0; --i) expected.push_back("call " + std::to_string(i));
  expected.push_back("last");
  expected.push_back("closed");
  std::lock_guard l(m);
  EXPECT_EQ(events, expected);
  EXPECT_EQ(c.session->close_info()->code, 4003);
}

// A binary message is read as a frame too, but its bytes were not checked to be UTF-8 (only a text message's
// are, RFC 6455 8.1): its JSON is checked for it, in a run of its own, while the text messages around it
// in the same read are not checked twice. An answer in a binary message that is not UTF-8 is a malformed
// frame (a diagnostic; its call stays unanswered), not a result, and the connection goes on.
TEST(WebSocketFrames, BinaryMessagesAreCheckedForUtf8AndTextMessagesAroundThemAreRead) {
  RawServer server([&](RawConn& c) {
    c.write(c.read_upgrade() + frame(1, kOnConnected));
    std::vector<std::int64_t> ids(4);
    for (auto& id : ids) id = c.read_call_id();
    c.write(frame(1, answer(ids[0], "caf\xc3\xa9")) + frame(2, answer(ids[1], "na\xc3\xafve")) +
            frame(2, answer(ids[2], "bad \xc3\x28")) + frame(1, answer(ids[3], "text again")));
    c.write(frame(2, answer(c.read_call_id(), "binary again")));
  });
  Client c(server.url());
  std::mutex m;
  std::vector<std::string> events;
  std::promise<void> done;
  c.session->on_diagnostic([&](const core::Diagnostic& d) {
    std::lock_guard l(m);
    events.push_back(d.kind == core::Diagnostic::Kind::malformed_frame ? "malformed frame: " + d.message
                                                                       : d.message);
  });
  ASSERT_FALSE(c.session->open_sync(10s));
  core::CallOptions text;
  text.text_result = true;
  auto record = [&](core::CallResult& r) {
    std::lock_guard l(m);
    events.push_back(r.ok() ? r.text : "failed: " + r.error.describe());
  };
  std::promise<std::string>
      unanswered;  // the call whose answer was malformed: failed when the session closes
  for (int i = 0; i < 4; ++i) {
    c.session->call(-1, "EngineVersion", "{}", text, [&, i](core::CallResult& r) {
      if (i == 2) return unanswered.set_value(r.ok() ? r.text : r.error.describe());
      record(r);
      if (i != 3) return;
      c.session->call(-1, "EngineVersion", "{}", text, [&](core::CallResult& last) {
        record(last);
        done.set_value();
      });
    });
  }
  done.get_future().wait();
  c.session->close();
  EXPECT_NE(unanswered.get_future().get().find("closed"), std::string::npos);
  std::lock_guard l(m);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0], "{\"qReturn\":\"caf\xc3\xa9\"}");
  EXPECT_EQ(events[1], "{\"qReturn\":\"na\xc3\xafve\"}");
  EXPECT_EQ(events[2].rfind("malformed frame: malformed frame ignored (malformed JSON in 'result'", 0), 0u)
      << events[2];
  EXPECT_EQ(events[3], R"({"qReturn":"text again"})");
  EXPECT_EQ(events[4], R"({"qReturn":"binary again"})");
}
