// qix_load_bench: many concurrent sessions in one process, through the C API, against qix-engine-sim
// running as a separate process (so the figures are the client's own).
//
//   qix_load_bench [--sessions 1000] [--calls 100] [--io-threads 1] [--dispatchers 2] [--sim PATH]
//                  [--restart 1]
//
// Opens every session (asynchronously), waits until all are connected and measures the client's RSS per
// idle session; then every session issues its calls pipelined (all at once) and the run counts every
// completion: none may be lost or duplicated. Prints threads used, memory per idle session and calls/s.
// With --restart 1 the sessions use reconnect "resume", each opens the `demo` app and creates a session
// object; then the simulator is killed (no close frames) and started again on the same port, and the run
// measures how long until every session is resumed, and checks a call on every restored object.
#include "qix/qix.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
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
#include <thread>
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

struct States {
  std::atomic<long> suspended{0}, resumed{0}, closed{0};
};
States g_states;
Counters* g_counters = nullptr;

void on_state(qix_session*, int state, int, const char*, void*) {
  if (state == QIX_STATE_SUSPENDED) g_states.suspended++;
  if (state == QIX_STATE_RESUMED) g_states.resumed++;
  if (state == QIX_STATE_CLOSED) g_states.closed++;
  if (g_counters) g_counters->bump();
}

pid_t start_sim(const std::string& sim, const std::string& port, std::string& url) {
  int out[2];
  if (pipe(out) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(sim.c_str(), sim.c_str(), "--port", port.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char buf[256] = {};
  ssize_t got = read(out[0], buf, sizeof buf - 1);
  close(out[0]);
  std::string line(buf, got > 0 ? static_cast<std::size_t>(got) : 0);
  auto at = line.find("ws://");
  if (at == std::string::npos) {
    std::fprintf(stderr, "the simulator did not start: %s\n", line.c_str());
    return -1;
  }
  url = line.substr(at, line.find_first_of("\r\n", at) - at);
  return pid;
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
  int sessions = 1000, calls = 100, io_threads = 1, dispatchers = 2, restart = 0;
  std::string sim = QIX_ENGINE_SIM;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--sessions")
      sessions = std::atoi(argv[i + 1]);
    else if (a == "--calls")
      calls = std::atoi(argv[i + 1]);
    else if (a == "--io-threads")
      io_threads = std::atoi(argv[i + 1]);
    else if (a == "--dispatchers")
      dispatchers = std::atoi(argv[i + 1]);
    else if (a == "--sim")
      sim = argv[i + 1];
    else if (a == "--restart")
      restart = std::atoi(argv[i + 1]);
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

  std::string base;
  pid_t pid = start_sim(sim, "0", base);
  if (pid < 0) return 1;
  std::string url = base + (restart ? "/app/demo" : "/app/engineData");

  long threads_before = status_value("Threads:");
  long rss_before = status_value("VmRSS:");
  qix_context* ctx = nullptr;
  if (qix_context_new(&ctx, io_threads, dispatchers) != QIX_OK) return 1;
  qix_options* o = nullptr;
  qix_options_new(&o);
  qix_options_set_str(o, "url", url.c_str());
  qix_options_set_int(o, "keepalive_ms", 0);
  if (restart) {
    qix_options_set_str(o, "reconnect", "resume");
    qix_options_set_int(o, "reconnect.max_attempts", 20);
    qix_options_set_int(o, "reconnect.initial_delay_ms", 100);
    qix_options_set_int(o, "reconnect.max_delay_ms", 1000);
  }
  Counters c;
  g_counters = &c;
  std::vector<qix_session*> all(static_cast<std::size_t>(sessions), nullptr);
  auto t0 = std::chrono::steady_clock::now();
  for (auto& s : all) {
    qix_session_open(&s, ctx, o, on_open, &c);
    if (restart) qix_session_on_state(nullptr, s, on_state, nullptr);
  }
  bool opened = wait_until(
      c, [&] { return c.opened + c.open_failed >= sessions; }, 120);
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the OnConnected frames settle
  long rss_idle = status_value("VmRSS:");
  long threads = status_value("Threads:");
  std::printf("libqix %s: %d sessions, %d io thread(s), %d dispatcher thread(s)\n", qix_version(), sessions,
              io_threads, dispatchers);
  std::printf("  opened %ld of %d in %.2f s (%ld failed)\n", c.opened.load(), sessions, open_s,
              c.open_failed.load());
  std::printf("  threads in the process: %ld before the context, %ld with %d sessions open\n", threads_before,
              threads, sessions);
  std::printf("  memory per idle session: %.1f KiB (RSS %ld -> %ld KiB)\n",
              static_cast<double>(rss_idle - rss_before) / sessions, rss_before, rss_idle);

  long expected = static_cast<long>(sessions) * calls;
  auto t1 = std::chrono::steady_clock::now();
  for (auto* s : all) {
    for (int k = 0; k < calls; ++k)
      qix_session_call(nullptr, s, "EngineVersion", nullptr, 0, -1, on_result, &c);
  }
  bool done = wait_until(
      c, [&] { return c.ok + c.failed >= expected; }, 300);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a duplicate would show up here
  std::printf("  %ld calls: %ld ok, %ld failed, %ld lost, %ld duplicated, in %.2f s = %.0f calls/s\n",
              expected, c.ok.load(), c.failed.load(), std::max(0L, expected - c.ok - c.failed),
              std::max(0L, c.ok + c.failed - expected), secs, static_cast<double>(c.ok) / secs);
  bool calls_clean = done && c.failed == 0 && c.ok == expected;
  bool resumed_all = true;
  if (restart) {
    // Each session: the app and one session object (a list object) to restore.
    std::vector<qix_object*> objs(all.size(), nullptr);
    for (std::size_t i = 0; i < all.size(); ++i) {
      qix_result* r = nullptr;
      qix_object* doc = nullptr;
      if (qix_session_call_sync(&r, all[i], "OpenDoc", R"(["demo"])", 0, -1) == QIX_OK)
        qix_result_object(&doc, r);
      qix_result_free(r);
      r = nullptr;
      if (doc && qix_object_call_sync(
                     &r, doc, "CreateSessionObject",
                     R"([{"qInfo":{"qType":"list"},"qListObjectDef":{"qDef":{"qFieldDefs":["Region"]},)"
                     R"("qInitialDataFetch":[{"qTop":0,"qLeft":0,"qHeight":10,"qWidth":1}]}}])",
                     0, -1) == QIX_OK)
        qix_result_object(&objs[i], r);
      qix_result_free(r);
      qix_object_free(doc);
    }
    kill(pid, SIGKILL);  // no close frames: every session sees 1006
    waitpid(pid, nullptr, 0);
    auto t2 = std::chrono::steady_clock::now();
    bool all_suspended = wait_until(
        c, [&] { return g_states.suspended >= sessions; }, 60);
    std::string port = base.substr(base.rfind(':') + 1);
    std::string again;
    pid = start_sim(sim, port, again);
    if (pid < 0) return 1;
    resumed_all = all_suspended &&
                  wait_until(
                      c, [&] { return g_states.resumed + g_states.closed >= sessions; }, 120) &&
                  g_states.closed == 0;
    double resume_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
    long before_ok = c.ok, before_failed = c.failed;
    for (auto* obj : objs) {
      if (obj) qix_object_call(nullptr, obj, "GetLayout", nullptr, 0, -1, on_result, &c);
    }
    long n = static_cast<long>(
        std::count_if(objs.begin(), objs.end(), [](qix_object* x) { return x != nullptr; }));
    wait_until(
        c, [&] { return c.ok + c.failed - before_ok - before_failed >= n; }, 120);
    std::printf(
        "  engine killed and restarted: %ld suspended, %ld resumed, %ld closed, %.2f s from the kill to "
        "the last resume (back-off 100 ms doubling to 1 s)\n",
        g_states.suspended.load(), g_states.resumed.load(), g_states.closed.load(), resume_s);
    std::printf("  after the resume: GetLayout on %ld restored session objects: %ld ok, %ld failed\n", n,
                c.ok - before_ok, c.failed - before_failed);
    resumed_all = resumed_all && c.failed == before_failed && c.ok - before_ok == n && n == sessions;
    for (auto* obj : objs) qix_object_free(obj);
  }
  std::printf("  peak RSS %ld KiB\n", status_value("VmHWM:"));
  for (auto* s : all) qix_session_free(s);
  qix_options_free(o);
  qix_context_free(ctx);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  bool clean = opened && calls_clean && c.open_failed == 0 && resumed_all;
  return clean ? 0 : 1;
}
