// qix-engine-sim: command-line front end of the QIX Engine simulator.
// Prints exactly one line "listening on ws://HOST:PORT" (or wss://), then serves until SIGINT/SIGTERM.
// Arguments are parsed by hand (a CLI library would cost more compile time than this whole file).
#include "qix/sim/server.hpp"

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr const char* kHelp =
    R"(qix-engine-sim: a QIX Engine simulator (JSON-RPC 2.0 over WebSocket) for offline development and tests.

Usage: qix-engine-sim [--host 127.0.0.1] [--port N] [options]

Prints one line "listening on ws://HOST:PORT" (wss:// with TLS), then serves until SIGINT/SIGTERM (exit 0).

  --host ADDR              address to listen on (default 127.0.0.1)
  --port N                 port to listen on; 0 (default) picks a free port
  --data DIR               every sub-folder of DIR is an app (id = folder name), every *.csv in it a table
                           (UTF-8, comma separated, first row = field names); fields with the same name link
                           tables. Without it the built-in apps `demo` and `demo-large` (1,000,000 orders)
  --demo-rows N            order rows of the built-in `demo` app (default 2000)
  --tls-cert FILE          PEM certificate chain: serve wss:// (with --tls-key)
  --tls-key FILE           PEM private key for --tls-cert
  --client-ca FILE         PEM CA: require a client certificate signed by it
  --require-header 'N: v'  the WebSocket upgrade must carry this header, else HTTP 401
  --bearer TOKEN           the upgrade must carry 'Authorization: Bearer TOKEN', else HTTP 401
  --proxy-mode             behave as behind the Qlik proxy: OnAuthenticationInformation after the first frame
  --session-ttl SECONDS    keep a disconnected session; a reconnect to the same /app/ID[/identity/X] URL
                           attaches (SESSION_ATTACHED). /ttl/N in the URL overrides it (default 0)
  --latency-ms N           delay every response by N ms
  --jitter-ms N            add a random 0..N ms to every response delay
  --reorder                let responses to pipelined requests leave out of order
  --drop-after N           close the socket (no close frame) after the Nth received frame is answered
  --malformed-every N      send every Nth response as broken JSON
  --close-code CODE        with --close-after-ms: close each connection with this WebSocket close code
  --close-after-ms N       milliseconds after connecting before --close-code applies
  --calc-delay-ms N        layouts, data pages and expressions take at least N ms; a selection arriving
                           meanwhile aborts them with error 15 (Request aborted)
  --not-qix MODE           play a WebSocket service that is not a QIX engine, to try a client's diagnosis:
                           echo (every frame back), silent (never sends), banner (plain-text lines)
  --help                   this text
)";

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "qix-engine-sim: " << msg << "\nTry 'qix-engine-sim --help'.\n";
  std::exit(2);  // NOLINT(concurrency-mt-unsafe): only while parsing arguments, before any thread starts
}

long to_number(std::string_view flag, const std::string& v, long min, long max) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > max)
    usage_error(std::string(flag) + ": expected a number in " + std::to_string(min) + ".." +
                std::to_string(max));
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  qix::sim::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    auto eq = arg.find('=');
    bool has_inline = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (has_inline) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto next = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    auto flag = [&](bool& target) {
      if (has_inline) usage_error(arg + " takes no value");
      target = true;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kHelp;
      return 0;
    }
    if (arg == "--host")
      o.host = next();
    else if (arg == "--port")
      o.port = static_cast<unsigned short>(to_number(arg, next(), 0, 65535));
    else if (arg == "--data")
      o.data_dir = next();
    else if (arg == "--demo-rows")
      o.demo_rows = static_cast<std::size_t>(to_number(arg, next(), 1, 100000000));
    else if (arg == "--tls-cert")
      o.tls_cert = next();
    else if (arg == "--tls-key")
      o.tls_key = next();
    else if (arg == "--client-ca")
      o.client_ca = next();
    else if (arg == "--require-header")
      o.require_header = next();
    else if (arg == "--bearer")
      o.bearer = next();
    else if (arg == "--proxy-mode")
      flag(o.proxy_mode);
    else if (arg == "--session-ttl")
      o.session_ttl = static_cast<int>(to_number(arg, next(), 0, 86400 * 365));
    else if (arg == "--latency-ms")
      o.latency_ms = static_cast<int>(to_number(arg, next(), 0, 3600000));
    else if (arg == "--jitter-ms")
      o.jitter_ms = static_cast<int>(to_number(arg, next(), 0, 3600000));
    else if (arg == "--reorder")
      flag(o.reorder);
    else if (arg == "--drop-after")
      o.drop_after = static_cast<int>(to_number(arg, next(), 0, 1 << 30));
    else if (arg == "--malformed-every")
      o.malformed_every = static_cast<int>(to_number(arg, next(), 0, 1 << 30));
    else if (arg == "--close-code")
      o.close_code = static_cast<int>(to_number(arg, next(), 1000, 4999));
    else if (arg == "--close-after-ms")
      o.close_after_ms = static_cast<int>(to_number(arg, next(), 0, 3600000));
    else if (arg == "--calc-delay-ms")
      o.calc_delay_ms = static_cast<int>(to_number(arg, next(), 0, 3600000));
    else if (arg == "--not-qix") {
      o.not_qix = next();
      if (o.not_qix != "echo" && o.not_qix != "silent" && o.not_qix != "banner")
        usage_error("--not-qix: expected echo, silent or banner");
    } else
      usage_error("unknown option " + arg);
  }

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  qix::sim::Server server(o);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "qix-engine-sim: " << e.what() << "\n";
    return 1;
  }
  std::cout << "listening on " << server.url() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.stop();
  return 0;
}
