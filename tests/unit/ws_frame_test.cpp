// The WebSocket framing the transport does itself (core/transport/ws_frame.*): the server's frames read out
// of bytes that arrive in pieces of any size, every protocol error RFC 6455 names for a client, UTF-8, and
// the opening handshake's key and answer.
#include "transport/ws_frame.hpp"
#include "support/ws_server_frame.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <random>
#include <string>
#include <vector>

using namespace qix::core;

namespace {

std::string frame(int op, const std::string& payload, bool fin = true, int rsv = 0, bool masked = false,
                  int force_len_bytes = 0) {
  return qix::test::server_frame(op, payload, fin, rsv, masked, force_len_bytes);
}

std::string close_payload(int code, const std::string& reason = "") {
  std::string p;
  p += static_cast<char>((code >> 8) & 0xFF);
  p += static_cast<char>(code & 0xFF);
  return p + reason;
}

// Records what the reader reports, in order, as one line per event.
struct Recorder : ws::FrameSink {
  virtual ~Recorder() = default;
  std::vector<std::string> events;
  // A binary message (not checked to be UTF-8) is "binary:", a text one (checked) "message:".
  void on_message(std::string& m, bool utf8) override {
    events.push_back((utf8 ? "message:" : "binary:") + m);
  }
  void on_ping(std::string_view p) override { events.push_back("ping:" + std::string(p)); }
  void on_close(int code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
  void on_error(int code, std::string what) override {
    events.push_back("error:" + std::to_string(code));
    last_error = std::move(what);
  }
  std::string last_error;
};

// Feeds `bytes` in pieces of the given sizes (cycled), keeping what the reader leaves unread as a transport
// keeps it, and returns the events.
std::vector<std::string> read_in_pieces(const std::string& bytes, std::vector<std::size_t> pieces,
                                        std::size_t max = 1 << 20, std::string* error = nullptr) {
  ws::FrameReader reader(max);
  Recorder r;
  std::string buffered;
  std::size_t at = 0, k = 0;
  while (at < bytes.size() && !reader.done()) {
    std::size_t n = std::min(pieces[k++ % pieces.size()], bytes.size() - at);
    buffered.append(bytes, at, n);
    at += n;
    std::size_t used = reader.feed(buffered.data(), buffered.size(), r);
    EXPECT_LE(used, buffered.size());
    buffered.erase(0, used);
    if (!reader.done()) {
      EXPECT_GT(reader.wanted(), buffered.size()) << "the reader left a whole frame unread";
    }
  }
  if (error) *error = r.last_error;
  return r.events;
}

std::vector<std::string> read_whole(const std::string& bytes, std::size_t max = 1 << 20,
                                    std::string* error = nullptr) {
  return read_in_pieces(bytes, {bytes.size() + 1}, max, error);
}

using Events = std::vector<std::string>;

}  // namespace

TEST(WsFrame, HandshakeKeyAnswerIsTheRfcExample) {
  // RFC 6455 1.3.
  EXPECT_EQ(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsFrame, Sha1MatchesFips180VectorsAndOpenSsl) {
  auto hex = [](const std::array<unsigned char, 20>& d) {
    std::string out;
    for (unsigned char c : d) {
      out += "0123456789abcdef"[c >> 4];
      out += "0123456789abcdef"[c & 15];
    }
    return out;
  };
  EXPECT_EQ(hex(ws::sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(ws::sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(ws::sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(ws::sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  // Every length up to three blocks (the padding's one- and two-block cases), random bytes, against OpenSSL.
  std::mt19937 rng(20261204);
  for (std::size_t n = 0; n <= 200; ++n) {
    std::string text(n, '\0');
    for (auto& c : text) c = static_cast<char>(rng());
    std::array<unsigned char, 20> want{};
    unsigned int size = 0;
    ASSERT_EQ(EVP_Digest(text.data(), text.size(), want.data(), &size, EVP_sha1(), nullptr), 1);
    ASSERT_EQ(size, 20U);
    EXPECT_EQ(hex(ws::sha1(text)), hex(want)) << "length " << n;
  }
}

TEST(WsFrame, Base64IsRfc4648) {
  auto b = [](const std::string& s) {
    return ws::base64(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  EXPECT_EQ(b(""), "");
  EXPECT_EQ(b("f"), "Zg==");
  EXPECT_EQ(b("fo"), "Zm8=");
  EXPECT_EQ(b("foo"), "Zm9v");
  EXPECT_EQ(b("foob"), "Zm9vYg==");
  EXPECT_EQ(b("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b("foobar"), "Zm9vYmFy");
  EXPECT_EQ(b(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(WsFrame, Utf8ValidityFollowsTheStandard) {
  auto ok = [](const std::string& s) { return ws::valid_utf8(s.data(), s.size()); };
  EXPECT_TRUE(ok(""));
  EXPECT_TRUE(ok("plain ASCII, long enough for the eight-byte path"));
  EXPECT_TRUE(ok("\xc3\xa9t\xc3\xa9"));                // é
  EXPECT_TRUE(ok("\xe2\x82\xac"));                     // €
  EXPECT_TRUE(ok("\xf0\x9f\x98\x80 and more ASCII"));  // U+1F600
  EXPECT_TRUE(ok("\xf4\x8f\xbf\xbf"));                 // U+10FFFF
  EXPECT_TRUE(ok("\xed\x9f\xbf"));                     // U+D7FF, just below the surrogates
  EXPECT_FALSE(ok("\x80"));                            // a continuation byte first
  EXPECT_FALSE(ok("\xc0\xaf"));                        // overlong '/'
  EXPECT_FALSE(ok("\xc1\xbf"));                        // overlong
  EXPECT_FALSE(ok("\xe0\x80\xaf"));                    // overlong, 3 bytes
  EXPECT_FALSE(ok("\xf0\x80\x80\xaf"));                // overlong, 4 bytes
  EXPECT_FALSE(ok("\xed\xa0\x80"));                    // U+D800, a surrogate
  EXPECT_FALSE(ok("\xf4\x90\x80\x80"));                // above U+10FFFF
  EXPECT_FALSE(ok("\xf5\x80\x80\x80"));                // F5 is never a lead byte
  EXPECT_FALSE(ok("\xff"));
  EXPECT_FALSE(ok("abcdefgh\xc3"));        // cut short at the end
  EXPECT_FALSE(ok("\xe2\x82"));            // cut short
  EXPECT_FALSE(ok("\xe2\x28\xa1"));        // a bad continuation byte
  EXPECT_FALSE(ok("0123456789\xc3\x28"));  // after the fast path
}

TEST(WsFrame, ReadsEveryLengthFormAndControlFrames) {
  std::string big16(300, 'b'), big64(70000, 'c');
  std::string bytes = frame(ws::opcode::text, "hi") + frame(ws::opcode::ping, "p1") +
                      frame(ws::opcode::text, big16) + frame(ws::opcode::pong, "ignored") +
                      frame(ws::opcode::binary, big64) + frame(ws::opcode::text, "") +
                      frame(ws::opcode::close, close_payload(4003, "bye")) + frame(ws::opcode::text, "after");
  Events want = {"message:hi",      "ping:p1",  "message:" + big16,
                 "binary:" + big64, "message:", "close:4003:bye"};
  EXPECT_EQ(read_whole(bytes), want);
}

TEST(WsFrame, FragmentsJoinWithControlFramesBetween) {
  // "é" split between two fragments: only the whole message is UTF-8.
  std::string bytes = frame(ws::opcode::text, "ab\xc3", false) + frame(ws::opcode::ping, "x") +
                      frame(ws::opcode::continuation, "\xa9", false) +
                      frame(ws::opcode::continuation, "", false) +
                      frame(ws::opcode::continuation, "cd", true) + frame(ws::opcode::text, "next");
  Events want = {"ping:x",
                 "message:ab\xc3\xa9"
                 "cd",
                 "message:next"};
  EXPECT_EQ(read_whole(bytes), want);
}

TEST(WsFrame, PiecesOfAnySizeReadTheSameAsTheWhole) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string bytes;
    Events want;
    int frames = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < frames; ++i) {
      std::size_t len = rng() % 4 == 0 ? rng() % 70000 : rng() % 200;
      std::string payload(len, ' ');
      for (auto& c : payload) c = static_cast<char>('a' + rng() % 26);
      switch (rng() % 5) {
        case 0: {  // fragmented, with a ping between
          std::size_t cut = len / 2;
          bytes += frame(ws::opcode::text, payload.substr(0, cut), false);
          bytes += frame(ws::opcode::ping, "pp");
          bytes += frame(ws::opcode::continuation, payload.substr(cut), true);
          want.push_back("ping:pp");
          want.push_back("message:" + payload);
          break;
        }
        case 1:  // a pong: read, not reported
          bytes += frame(ws::opcode::pong, payload.substr(0, std::min<std::size_t>(len, 125)));
          break;
        default:
          bytes += frame(ws::opcode::text, payload);
          want.push_back("message:" + payload);
      }
    }
    ASSERT_EQ(read_whole(bytes), want);
    std::vector<std::size_t> pieces(5);
    for (auto& piece : pieces) piece = 1 + rng() % (rng() % 2 ? 9 : 5000);
    ASSERT_EQ(read_in_pieces(bytes, pieces), want) << "round " << round;
  }
  // Byte by byte, once, through every length form.
  std::string bytes = frame(ws::opcode::text, std::string(5, 'x')) +
                      frame(ws::opcode::text, std::string(200, 'y')) +
                      frame(ws::opcode::text, std::string(66000, 'z'));
  Events want = {"message:" + std::string(5, 'x'), "message:" + std::string(200, 'y'),
                 "message:" + std::string(66000, 'z')};
  EXPECT_EQ(read_in_pieces(bytes, {1}), want);
}

TEST(WsFrame, ProtocolErrorsStopTheReaderWith1002) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  std::vector<Case> cases = {
      {"reserved bit", frame(ws::opcode::text, "x", true, 4), "reserved bits"},
      {"masked", frame(ws::opcode::text, "x", true, 0, true), "masked"},
      {"unknown data opcode", frame(3, "x"), "unknown opcode 3"},
      {"unknown control opcode", frame(0xB, "x"), "unknown opcode 11"},
      {"fragmented control", frame(ws::opcode::ping, "x", false), "fragmented control"},
      {"long control", frame(ws::opcode::ping, std::string(126, 'x')), "longer than 125"},
      {"lone continuation", frame(ws::opcode::continuation, "x"), "continuation frame outside"},
      {"message inside a message", frame(ws::opcode::text, "a", false) + frame(ws::opcode::text, "b"),
       "new message inside"},
      {"16-bit length not shortest", frame(ws::opcode::text, "short", true, 0, false, 2), "shortest form"},
      {"64-bit length not shortest", frame(ws::opcode::text, std::string(300, 'x'), true, 0, false, 8),
       "shortest form"},
      {"64-bit length high bit", std::string("\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10), "highest bit"},
      {"close with one byte", frame(ws::opcode::close, "x"), "one-byte"},
      {"close code 1005", frame(ws::opcode::close, close_payload(1005)), "invalid code 1005"},
      {"close code 999", frame(ws::opcode::close, close_payload(999)), "invalid code 999"},
      {"close code 5000", frame(ws::opcode::close, close_payload(5000)), "invalid code 5000"},
  };
  for (auto& c : cases) {
    std::string error;
    // A good message first, the bad frame, then one that must not be read.
    auto events = read_whole(frame(ws::opcode::text, "ok") + c.bytes + frame(ws::opcode::text, "after"),
                             1 << 20, &error);
    Events want = {"message:ok", "error:1002"};
    EXPECT_EQ(events, want) << c.name;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.name << ": " << error;
  }
}

TEST(WsFrame, TextThatIsNotUtf8Is1007AndBinaryIsNotChecked) {
  std::string error;
  EXPECT_EQ(read_whole(frame(ws::opcode::text, "bad \xc3\x28"), 1 << 20, &error), Events{"error:1007"});
  EXPECT_NE(error.find("not UTF-8"), std::string::npos);
  EXPECT_EQ(read_whole(frame(ws::opcode::close, close_payload(1000, "\xff"))), Events{"error:1007"});
  EXPECT_EQ(read_whole(frame(ws::opcode::binary, "\xff")), Events{"binary:\xff"});
  // A fragmented binary message stays unchecked; a text one is checked whole, fragments joined.
  EXPECT_EQ(read_whole(frame(ws::opcode::binary, "{", false) + frame(ws::opcode::continuation, "}") +
                       frame(ws::opcode::text, "\xc3", false) + frame(ws::opcode::continuation, "\xa9")),
            (Events{"binary:{}", "message:\xc3\xa9"}));
}

TEST(WsFrame, CloseCodesAndReasons) {
  EXPECT_EQ(read_whole(frame(ws::opcode::close, "")), Events{"close:1005:"});
  EXPECT_EQ(read_whole(frame(ws::opcode::close, close_payload(1000))), Events{"close:1000:"});
  EXPECT_EQ(read_whole(frame(ws::opcode::close, close_payload(1001, "going"))), Events{"close:1001:going"});
  EXPECT_EQ(read_whole(frame(ws::opcode::close, close_payload(1014))), Events{"close:1014:"});
  EXPECT_EQ(read_whole(frame(ws::opcode::close, close_payload(3000, "\xc3\xa9"))),
            Events{"close:3000:\xc3\xa9"});
  EXPECT_EQ(read_whole(frame(ws::opcode::close, close_payload(4999))), Events{"close:4999:"});
}

TEST(WsFrame, TooLargeIsKnownFromTheHeaderAlone) {
  // Only the header of a message over the limit has arrived: the reader says so at once, without waiting
  // for (or buffering) its payload.
  ws::FrameReader reader(1000);
  Recorder r;
  std::string head = frame(ws::opcode::text, std::string(1001, 'x')).substr(0, 4);
  reader.feed(head.data(), head.size(), r);
  EXPECT_EQ(r.events, Events{"error:1009"});
  EXPECT_TRUE(reader.done());
  // Fragments add up: each is under the limit, the message is not.
  std::string bytes = frame(ws::opcode::text, std::string(600, 'a'), false) +
                      frame(ws::opcode::continuation, std::string(600, 'b'));
  EXPECT_EQ(read_whole(bytes, 1000), Events{"error:1009"});
  // Exactly the limit is fine.
  EXPECT_EQ(read_whole(frame(ws::opcode::text, std::string(1000, 'a')), 1000),
            Events{"message:" + std::string(1000, 'a')});
}

TEST(WsFrame, WantedSaysWhatTheNextFrameNeeds) {
  ws::FrameReader reader(1 << 20);
  Recorder r;
  std::string f = frame(ws::opcode::text, std::string(70000, 'q'));
  EXPECT_EQ(reader.feed(f.data(), 1, r), 0u);
  EXPECT_EQ(reader.wanted(), 2u);
  EXPECT_EQ(reader.feed(f.data(), 2, r), 0u);
  EXPECT_EQ(reader.wanted(), 10u);  // a 64-bit length follows
  EXPECT_EQ(reader.feed(f.data(), 10, r), 0u);
  EXPECT_EQ(reader.wanted(), f.size());
  EXPECT_EQ(reader.feed(f.data(), f.size(), r), f.size());
  EXPECT_EQ(r.events.size(), 1u);
}
