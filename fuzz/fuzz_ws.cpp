// fuzz_ws: the WebSocket frame reader (transport/ws_frame.*) on bytes from a server. The input's first byte
// sets the size of the pieces the rest arrives in; what the reader reports must be the same as when the
// whole arrives at once (a difference traps), and it never reads past what it was given.
#include "transport/ws_frame.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace qix::core;

namespace {

struct Recorder final : ws::FrameSink {
  virtual ~Recorder() = default;
  std::vector<std::string> events;
  void on_message(std::string& m, bool utf8) override { events.push_back((utf8 ? "m" : "b") + m); }
  void on_ping(std::string_view p) override { events.push_back("p" + std::string(p)); }
  void on_close(int code, std::string_view reason) override {
    events.push_back("c" + std::to_string(code) + std::string(reason));
  }
  void on_error(int code, std::string what) override { events.push_back("e" + std::to_string(code) + what); }
};

std::vector<std::string> run(const std::string& bytes, std::size_t piece) {
  ws::FrameReader reader(1 << 16);  // small enough for the fuzzer to reach the limit
  Recorder r;
  std::string buffered;
  for (std::size_t at = 0; at < bytes.size() && !reader.done(); at += piece) {
    buffered.append(bytes, at, piece);
    std::size_t used = reader.feed(buffered.data(), buffered.size(), r);
    if (used > buffered.size()) std::abort();
    buffered.erase(0, used);
    if (!reader.done() && reader.wanted() <= buffered.size()) std::abort();  // a whole frame left unread
  }
  return r.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t piece = 1 + data[0] % 16;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (run(bytes, bytes.size() + 1) != run(bytes, piece)) std::abort();
  return 0;
}
