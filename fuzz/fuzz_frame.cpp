// fuzz_frame: the JSON-RPC frame decoder, and correlation in a session: the input, split at newlines,
// arrives as frames from the engine while calls (plain, delta, on an object) are pending.
#include "rpc/frame.hpp"
#include "session/session.hpp"
#include "transport/memory_transport.hpp"

#include <cstdint>
#include <string>
#include <string_view>

using namespace qix::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Frame frame;
  std::string error;
  (void)decode_frame(text, frame, &error);

  static std::shared_ptr<Context> context = Context::create();
  SessionOptions options;
  options.poll_events = true;  // events run here, in poll(): deterministic, no callback threads
  auto transport = std::make_shared<MemoryTransport>(context);
  auto session = Session::create(context, transport, options);
  session->open([](const Error&) {});
  transport->accept();
  auto ignore = [](CallResult&) {};
  // A doc (handle 1) and an object (handle 2), then calls of every kind pending: ids 3 to 6.
  session->call(-1, "OpenDoc", R"(["demo"])", {}, ignore);
  transport->deliver(R"({"jsonrpc":"2.0","id":1,"result":{"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"demo"}}})");
  session->call(1, "CreateSessionObject", R"([{"qInfo":{"qType":"x"}}])", {}, ignore);
  transport->deliver(R"({"jsonrpc":"2.0","id":2,"result":{"qReturn":{"qType":"GenericObject","qHandle":2,"qGenericId":"o"}}})");
  auto obj = session->object(2);
  if (obj) obj->watch([](const CallResult&) {});
  CallOptions delta;
  delta.delta = true;
  session->call(2, "GetLayout", "[]", delta, ignore);
  session->call(1, "GetAppLayout", "[]", delta, ignore);
  session->call(-1, "EngineVersion", "[]", {}, ignore);
  session->call(1, "Evaluate", R"(["1"])", {}, ignore);
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    transport->deliver(std::string(text.substr(start, end - start)));
    start = end + 1;
  }
  session->poll(std::chrono::milliseconds(0));
  session->close();
  session->poll(std::chrono::milliseconds(0));
  return 0;
}
