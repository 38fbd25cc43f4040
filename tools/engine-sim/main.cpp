// qix-engine-sim: command-line front end of the QIX Engine simulator.
// Prints exactly one line "listening on ws://HOST:PORT" (or wss://), then serves until SIGINT/SIGTERM.
#include "qix/sim/server.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <pthread.h>

int main(int argc, char** argv) {
  qix::sim::Options o;
  CLI::App cli{"qix-engine-sim: a QIX Engine simulator (JSON-RPC 2.0 over WebSocket) for offline development and tests"};
  cli.add_option("--host", o.host, "Address to listen on")->capture_default_str();
  cli.add_option("--port", o.port, "Port to listen on; 0 picks a free port")->capture_default_str();
  cli.add_option("--data", o.data_dir,
                 "Directory of apps: every sub-folder is an app (id = folder name), every *.csv in it a table. "
                 "Without it the built-in apps `demo` and `demo-large` (1,000,000 orders) are served");
  cli.add_option("--demo-rows", o.demo_rows, "Order rows of the built-in `demo` app")->capture_default_str();
  cli.add_option("--tls-cert", o.tls_cert, "PEM certificate chain: serve wss://");
  cli.add_option("--tls-key", o.tls_key, "PEM private key for --tls-cert");
  cli.add_option("--client-ca", o.client_ca, "PEM CA file: require a client certificate signed by it");
  cli.add_option("--require-header", o.require_header, "'Name: value' the WebSocket upgrade must carry (else HTTP 401)");
  cli.add_option("--bearer", o.bearer, "Token the upgrade must carry as 'Authorization: Bearer TOKEN' (else HTTP 401)");
  cli.add_flag("--proxy-mode", o.proxy_mode, "Behave as behind the Qlik proxy: OnAuthenticationInformation after the first frame");
  cli.add_option("--session-ttl", o.session_ttl,
                 "Seconds a disconnected session is kept; a reconnect to the same /app/ID[/identity/X] URL attaches "
                 "(SESSION_ATTACHED). /ttl/N in the URL overrides it")->capture_default_str();
  cli.add_option("--latency-ms", o.latency_ms, "Delay every response by N ms");
  cli.add_option("--jitter-ms", o.jitter_ms, "Add a random 0..N ms to every response delay");
  cli.add_flag("--reorder", o.reorder, "Let responses to pipelined requests leave out of order");
  cli.add_option("--drop-after", o.drop_after, "Close the socket (no close frame) after N received frames");
  cli.add_option("--malformed-every", o.malformed_every, "Send every Nth response as broken JSON");
  cli.add_option("--close-code", o.close_code, "With --close-after-ms: close each connection with this WebSocket code");
  cli.add_option("--close-after-ms", o.close_after_ms, "Milliseconds after connecting before --close-code applies");
  cli.add_option("--calc-delay-ms", o.calc_delay_ms,
                 "Layouts, data pages and expressions take at least N ms; a selection arriving meanwhile aborts "
                 "them with error 15 (Request aborted)");
  CLI11_PARSE(cli, argc, argv);

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
