// qix_load_bench: many concurrent sessions in one process, through the C API, against qix-engine-sim
// running as a separate process (so the figures are the client's own).
//
//   qix_load_bench [--sessions 1000] [--calls 100] [--io-threads 1] [--dispatchers 2] [--sim PATH]
//
// Opens every session (asynchronously), waits until all are connected and measures the client's RSS per
// idle session; then every session issues its calls pipelined (all at once) and the run counts every
// completion: none may be lost or duplicated. Prints threads used, memory per idle session and calls/s.
#include "qix/qix.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

long status_value(const char* key) {  // from /proc/self/status, in kB or a count
  std::ifstream in("/proc/self/status");
  std::string line;
  std::size_t n = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, n, key) == 0) return std::atol(line.c_str() + n + 1);
  }
  return -1;
}

struct Counters {
  std::atomic<long> opened{0}, open_failed{0}, ok{0}, failed{0};
  std::mutex m;
  std::condition_variable cv;
  void bump() { cv.notify_all(); }
};

void on_open(qix_session*, int status, const qix_error*, void* p) {
  auto* c = static_cast<Counters*>(p);
  (status == QIX_OK ? c->opened : c->open_failed)++;
  c->bump();
}

void on_result(const qix_result* r, void* p) {
  auto* c = static_cast<Counters*>(p);
  (qix_result_status(r) == QIX_OK ? c->ok : c->failed)++;
  c->bump();
}

template <class Pred>
bool wait_until(Counters& c, Pred pred, int seconds) {
  std::unique_lock l(c.m);
  return c.cv.wait_for(l, std::chrono::seconds(seconds), pred);
}

}  // namespace

int main(int argc, char** argv) {
  int sessions = 1000, calls = 100, io_threads = 1, dispatchers = 2;
  std::string sim = QIX_ENGINE_SIM;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--sessions") sessions = std::atoi(argv[i + 1]);
    else if (a == "--calls") calls = std::atoi(argv[i + 1]);
    else if (a == "--io-threads") io_threads = std::atoi(argv[i + 1]);
    else if (a == "--dispatchers") dispatchers = std::atoi(argv[i + 1]);
    else if (a == "--sim") sim = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  // Two sockets per session on this machine (client and simulator): raise the descriptor limit.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  int out[2];
  if (pipe(out) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(sim.c_str(), sim.c_str(), "--port", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char buf[256] = {};
  ssize_t got = read(out[0], buf, sizeof buf - 1);
  std::string line(buf, got > 0 ? static_cast<std::size_t>(got) : 0);
  auto at = line.find("ws://");
  if (at == std::string::npos) {
    std::fprintf(stderr, "the simulator did not start: %s\n", line.c_str());
    return 1;
  }
  std::string url = line.substr(at, line.find_first_of("\r\n", at) - at) + "/app/engineData";

  long threads_before = status_value("Threads:");
  long rss_before = status_value("VmRSS:");
  qix_context* ctx = nullptr;
  if (qix_context_new(&ctx, io_threads, dispatchers) != QIX_OK) return 1;
  qix_options* o = nullptr;
  qix_options_new(&o);
  qix_options_set_str(o, "url", url.c_str());
  qix_options_set_int(o, "keepalive_ms", 0);
  Counters c;
  std::vector<qix_session*> all(static_cast<std::size_t>(sessions), nullptr);
  auto t0 = std::chrono::steady_clock::now();
  for (auto& s : all) qix_session_open(&s, ctx, o, on_open, &c);
  bool opened = wait_until(c, [&] { return c.opened + c.open_failed >= sessions; }, 120);
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the OnConnected frames settle
  long rss_idle = status_value("VmRSS:");
  long threads = status_value("Threads:");
  std::printf("libqix %s: %d sessions, %d io thread(s), %d dispatcher thread(s)\n", qix_version(), sessions,
              io_threads, dispatchers);
  std::printf("  opened %ld of %d in %.2f s (%ld failed)\n", c.opened.load(), sessions, open_s, c.open_failed.load());
  std::printf("  threads in the process: %ld before the context, %ld with %d sessions open\n", threads_before, threads,
              sessions);
  std::printf("  memory per idle session: %.1f KiB (RSS %ld -> %ld KiB)\n",
              static_cast<double>(rss_idle - rss_before) / sessions, rss_before, rss_idle);

  long expected = static_cast<long>(sessions) * calls;
  auto t1 = std::chrono::steady_clock::now();
  for (auto* s : all) {
    for (int k = 0; k < calls; ++k) qix_session_call(nullptr, s, "EngineVersion", nullptr, 0, -1, on_result, &c);
  }
  bool done = wait_until(c, [&] { return c.ok + c.failed >= expected; }, 300);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a duplicate would show up here
  std::printf("  %ld calls: %ld ok, %ld failed, %ld lost, %ld duplicated, in %.2f s = %.0f calls/s\n", expected,
              c.ok.load(), c.failed.load(), std::max(0L, expected - c.ok - c.failed),
              std::max(0L, c.ok + c.failed - expected), secs, static_cast<double>(c.ok) / secs);
  std::printf("  peak RSS %ld KiB\n", status_value("VmHWM:"));
  for (auto* s : all) qix_session_free(s);
  qix_options_free(o);
  qix_context_free(ctx);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  bool clean = opened && done && c.failed == 0 && c.ok == expected && c.open_failed == 0;
  return clean ? 0 : 1;
}
