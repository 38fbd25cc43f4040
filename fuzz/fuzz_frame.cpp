// fuzz_frame: the JSON-RPC frame decoder, and correlation in a session: the input, split at newlines,
// arrives as frames from the engine while calls (plain, delta, on an object) are pending.
// An input that starts with "R\n" is a resume instead: the first connection drops with those calls
// pending (reconnect "resume", in-flight calls resent) and the frames arrive on the new connection while
// the session restores itself (OnConnected, GetActiveDoc/OpenDoc answers, re-acquisitions ...).
// With QIX_FUZZ_DUMP set, the frames the session sent on the last connection are printed (for seeds).
#include "rpc/frame.hpp"
#include "session/session.hpp"
#include "transport/memory_transport.hpp"
#include "transport/ws_frame.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

using namespace qix::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Frame frame;
  std::string error;
  const bool decoded = decode_frame(text, frame, &error);
  // Text its transport checked to be UTF-8 (Frame::utf8, not checked again) decodes exactly as when the
  // parser checks it, the result parsed or only checked.
  if (ws::valid_utf8(text.data(), text.size())) {
    Frame trusted;
    trusted.utf8 = true;
    if (decode_frame(text, trusted, &error) != decoded) __builtin_trap();
    Frame checked;
    checked.utf8 = true;
    bool ok = decode_envelope(text, checked, &error);
    if (ok && checked.has_result) ok = checked.check_result(&error);
    if (ok != decoded) __builtin_trap();
  }

  static std::shared_ptr<Context> context = Context::create();
  bool resume = text.substr(0, 2) == "R\n";
  if (resume) text.remove_prefix(2);
  SessionOptions options;
  options.poll_events = true;  // events run here, in poll(): deterministic, no callback threads
  auto second = std::make_shared<MemoryTransport>(context);
  if (resume) {
    options.reconnect.policy = ReconnectOptions::Policy::resume;
    options.reconnect.initial_delay = std::chrono::milliseconds(1);
    options.reconnect.max_attempts = 1;
    options.reconnect.resend_in_flight = true;
    options.reconnect.greeting_wait = std::chrono::milliseconds(10000);  // only the input decides
    options.reconnect.transport = [second] { return second; };
  }
  auto transport = std::make_shared<MemoryTransport>(context);
  auto session = Session::create(context, transport, options);
  session->open([](const Error&) {});
  transport->accept();
  auto ignore = [](CallResult&) {};
  // A doc (handle 1) and an object (handle 2), then calls of every kind pending: ids 3 to 6.
  session->call(-1, "OpenDoc", R"(["demo"])", {}, ignore);
  transport->deliver(
      R"({"jsonrpc":"2.0","id":1,"result":{"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"demo"}}})");
  session->call(1, "CreateSessionObject", R"([{"qInfo":{"qType":"x"}}])", {}, ignore);
  transport->deliver(
      R"({"jsonrpc":"2.0","id":2,"result":{"qReturn":{"qType":"GenericObject","qHandle":2,"qGenericId":"o"}}})");
  auto obj = session->object(2);
  if (obj) obj->watch([](const CallResult&) {});
  CallOptions delta;
  delta.delta = true;
  session->call(2, "GetLayout", "[]", delta, ignore);
  session->call(1, "GetAppLayout", "[]", delta, ignore);
  session->call(-1, "EngineVersion", "[]", {}, ignore);
  session->call(1, "Evaluate", R"(["1"])", {}, ignore);
  auto target = transport;
  if (resume) {
    CloseInfo drop;
    drop.error = Error::make(ErrorKind::network, "connection reset");
    transport->remote_close(drop);
    if (!second->wait_open_called(std::chrono::seconds(10))) __builtin_trap();  // the reconnect never came
    second->accept();
    target = second;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    target->deliver(std::string(text.substr(start, end - start)));
    start = end + 1;
  }
  if (std::getenv("QIX_FUZZ_DUMP")) {
    for (const auto& f : target->sent()) std::fprintf(stderr, "sent: %s\n", f.c_str());
  }
  session->poll(std::chrono::milliseconds(0));
  session->close();
  // Finish every piece of this input's work before returning (the close completes on the I/O thread):
  // libFuzzer runs a full leak check after any input whose mallocs and frees do not balance, which costs
  // several times the input itself.
  while (session->state() != SessionState::closed) std::this_thread::yield();
  while (session->poll(std::chrono::milliseconds(0)) > 0) {
  }
  return 0;
}
