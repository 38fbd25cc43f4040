// qix_bench_cpp: libqix's C++ facade (qix/qix.hpp, with the typed API's session and Doc of qix/api.hpp) as
// bench/compare drives every client:
//
//   qix_bench_cpp URL SCENARIO CALLS WINDOW
//
// SCENARIO is one of (the same semantics as client_capi.c):
//   tiny   CALLS EngineVersion calls on the global object, WINDOW of them in flight: the next call is issued
//          from each completion (Object::call_async with a lambda), with default options (a session opened
//          with only a URL, default flags, the session's default per-call timeout), as users write it.
//   page   CALLS GetHyperCubeData calls (one 10,000-cell page each) on the Doc, one at a time; each answer's
//          JSON text is read (Result::json()).
//   delta  one GetLayout (full), then CALLS GetLayout re-fetches answered by one-cell delta patches; each
//          layout is read (Result::json()).
//
// The typed API's calls return std::future (no completion callback), so the calls go through the generic
// Object::call_async, which every typed object has; the answers are taken as JSON text, as the C API's client
// takes them, so that the two differ only by the facade.
//
// Prints one line: `ok=N failed=F wall_s=S cpu_s=C` (C: this process's CPU during the timed part). Exit
// status 0 when every call succeeded.
#include "qix/api.hpp"
#include "qix/qix.hpp"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <utility>

namespace {

double cpu_seconds() {  // this process's user+sys CPU so far
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CALLS calls of one method on one object, WINDOW in flight, each next one issued from a completion.
class Run {
 public:
  Run(qix::Object target, std::string method, long calls, bool take_json)
      : target_(std::move(target)), method_(std::move(method)), calls_(calls), take_json_(take_json) {}

  // Issues the first WINDOW calls and waits until every call completed.
  void run(long window) {
    for (long i = 0; i < window && i < calls_; ++i) issue();
    std::unique_lock<std::mutex> lock(mutex_);
    finished_cv_.wait(lock, [this] { return done_ == calls_; });
  }

  long ok() const { return ok_; }
  long failed() const { return failed_; }
  long long bytes() const { return bytes_; }

 private:
  // Issues the next call if any is left (no lock held). A call that fails to start counts as failed and the
  // one after it is tried, so that the run always ends.
  void issue() {
    while (issued_.fetch_add(1, std::memory_order_relaxed) < calls_) {
      try {
        target_.call_async(method_, "[]", [this](const qix::Result& r) { completed(r); });
        return;
      } catch (const qix::Error& e) {
        std::fprintf(stderr, "call failed to start: %s\n", e.what());
        if (finish(false, 0)) return;
      }
    }
  }

  void completed(const qix::Result& r) {
    long long n = 0;
    if (r.ok() && take_json_) n = static_cast<long long>(r.json().size());  // take the data
    if (!finish(r.ok(), n)) issue();
  }

  // Counts one completed call; returns true when it was the last.
  bool finish(bool ok, long long bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    if (ok) {
      ++ok_;
      bytes_ += bytes;
    } else {
      ++failed_;
    }
    if (done_ != calls_) return false;
    finished_cv_.notify_one();
    return true;
  }

  qix::Object target_;
  std::string method_;
  long calls_;
  bool take_json_;
  std::atomic<long> issued_{0};
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  long done_ = 0;
  long ok_ = 0;
  long failed_ = 0;
  long long bytes_ = 0;
};

int run_scenario(const std::string& url, const std::string& scenario, long calls, long window) {
  qix::Options options;
  options.set("url", url);
  qix::api::Session session(options);
  qix::Object target = session.global();
  std::string method = "EngineVersion";
  bool take_json = false;
  if (scenario == "page" || scenario == "delta") {
    qix::api::Doc doc = session.open_doc("bench");
    window = 1;
    take_json = true;
    if (scenario == "page") {
      method = "GetHyperCubeData";
    } else {
      method = "GetLayout";
      doc.call("GetLayout");  // the full layout: the base later patches apply to
    }
    target = doc;
  } else if (scenario != "tiny") {
    std::fprintf(stderr, "unknown scenario %s\n", scenario.c_str());
    return 2;
  }
  Run run(target, method, calls, take_json);
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  run.run(window);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  std::printf("ok=%ld failed=%ld wall_s=%.6f cpu_s=%.6f bytes=%lld\n", run.ok(), run.failed(), wall, cpu,
              run.bytes());
  std::fflush(stdout);
  session.close();
  session.wait_closed(-1);
  return run.failed() == 0 && run.ok() == calls ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: qix_bench_cpp URL tiny|page|delta CALLS WINDOW\n");
    return 2;
  }
  try {
    return run_scenario(argv[1], argv[2], std::atol(argv[3]), std::atol(argv[4]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qix_bench_cpp: %s\n", e.what());
    return 1;
  }
}
