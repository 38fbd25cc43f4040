// qix_extract_bench: rows/s of bulk extraction through the C API (qix_object_extract), pipelined
// (several GetHyperCubeData pages in flight) against one page at a time, on the simulator's demo-large
// app (1,000,000 orders), measured in the same run. The simulator runs in this process on its own thread;
// --latency-ms adds a per-response delay that stands for the network between client and engine.
//
//   qix_extract_bench [--latency-ms N ...] [--windows 1,4,8] [--repeat R]
//
// Prints one line per (latency, window) with rows/s and the ratio to window 1 at that latency.
#include "qix/qix.h"
#include "qix/sim/server.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Done {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  int status = 0;
  std::int64_t rows = 0;
  std::size_t bytes = 0;
};

int on_row(const char*, size_t len, int64_t, void* p) {
  static_cast<Done*>(p)->bytes += len;  // rows of one extraction arrive one at a time
  return 0;
}

void on_done(int status, const qix_error*, int64_t rows, void* p) {
  auto* d = static_cast<Done*>(p);
  {
    std::lock_guard l(d->m);
    d->done = true;
    d->status = status;
    d->rows = rows;
  }
  d->cv.notify_all();
}

bool check(int rc, const char* what) {
  if (rc == QIX_OK) return true;
  const qix_error* e = qix_error_last();
  std::fprintf(stderr, "%s failed: %s\n", what, e ? qix_error_message(e) : qix_strerror(rc));
  return false;
}

// One extraction of OrderId x Sum(Sales) (1,000,000 rows); returns rows/s, or -1 on failure.
double extract_once(const std::string& url, int window) {
  qix_options* o = nullptr;
  qix_options_new(&o);
  qix_options_set_str(o, "url", url.c_str());
  qix_session* s = nullptr;
  int rc = qix_session_open_sync(&s, nullptr, o, 30000);
  qix_options_free(o);
  if (!check(rc, "open")) return -1;
  qix_result* r = nullptr;
  double rate = -1;
  qix_object* doc = nullptr;
  qix_object* obj = nullptr;
  if (check(qix_session_call_sync(&r, s, "OpenDoc", R"(["demo-large"])", 0, -1), "OpenDoc") &&
      qix_result_object(&doc, r) == QIX_OK) {
    qix_result_free(r);
    r = nullptr;
    const char* props = R"json([{"qInfo":{"qType":"bench"},"qHyperCubeDef":{
        "qDimensions":[{"qDef":{"qFieldDefs":["OrderId"]}}],"qMeasures":[{"qDef":{"qDef":"Sum(Sales)"}}],
        "qInitialDataFetch":[]}}])json";
    if (check(qix_object_call_sync(&r, doc, "CreateSessionObject", props, 0, -1), "CreateSessionObject") &&
        qix_result_object(&obj, r) == QIX_OK) {
      qix_result_free(r);
      r = nullptr;
      // Warm the engine's cube cache so every run measures the transfer only.
      if (check(qix_object_call_sync(&r, obj, "GetLayout", nullptr, 0, -1), "GetLayout")) {
        Done d;
        auto start = std::chrono::steady_clock::now();
        if (check(qix_object_extract(obj, "/qHyperCubeDef", 0, window, on_row, on_done, &d), "extract")) {
          std::unique_lock l(d.m);
          d.cv.wait(l, [&] { return d.done; });
          double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          if (d.status == QIX_OK && d.rows == 1000000)
            rate = static_cast<double>(d.rows) / secs;
          else
            std::fprintf(stderr, "extraction ended with %s after %lld rows\n", qix_strerror(d.status),
                         static_cast<long long>(d.rows));
        }
      }
    }
  }
  qix_result_free(r);
  qix_object_free(obj);
  qix_object_free(doc);
  qix_session_free(s);
  return rate;
}

std::vector<int> int_list(const char* text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> latencies{0, 2};
  std::vector<int> windows{1, 4, 8};
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--latency-ms") && i + 1 < argc) {
      latencies = int_list(argv[++i]);
    } else if (!std::strcmp(argv[i], "--windows") && i + 1 < argc) {
      windows = int_list(argv[++i]);
    } else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--latency-ms 0,2] [--windows 1,4,8] [--repeat R]\n", argv[0]);
      return 2;
    }
  }
  std::printf("bulk extraction of 1,000,000 rows x 2 columns (demo-large, OrderId x Sum(Sales)), libqix %s\n",
              qix_version());
  std::printf("%-12s %-8s %14s %10s\n", "latency", "window", "rows/s", "vs 1");
  for (int latency : latencies) {
    qix::sim::Options so;
    so.latency_ms = latency;
    qix::sim::Server sim(so);
    sim.start();
    std::string url = sim.url() + "/app/demo-large";
    double base = 0;
    for (int w : windows) {
      double best = 0;
      for (int k = 0; k < repeat; ++k) {
        double r = extract_once(url, w);
        if (r < 0) return 1;
        best = std::max(best, r);
      }
      if (w == windows.front()) base = best;
      std::printf("%-12s %-8d %14.0f %9.2fx\n", (std::to_string(latency) + " ms").c_str(), w, best,
                  base > 0 ? best / base : 0.0);
      std::fflush(stdout);
    }
  }
  return 0;
}
