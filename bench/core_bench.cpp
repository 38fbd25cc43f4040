// Core hot paths without sockets: frame encode, frame decode + correlation (a whole call through the
// session with an in-memory transport), change-array application.
#include "rpc/frame.hpp"
#include "session/session.hpp"
#include "transport/memory_transport.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

using namespace qix::core;

static void BM_FrameEncode(benchmark::State& state) {
  const std::string params = R"(["/qHyperCubeDef",[{"qTop":0,"qLeft":0,"qWidth":10,"qHeight":1000}]])";
  std::int64_t id = 1;
  for (auto _ : state) {
    auto f = encode_request(id++, "GetHyperCubeData", 7, params, true);
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameEncode);

// What the C API checks of every call's params before sending them (Session::validate_params): a small
// GetHyperCubeData request and a larger object (a SetProperties-like params value of some 2 KB).
static void BM_ValidateParams(benchmark::State& state) {
  std::string params = R"(["/qHyperCubeDef",[{"qTop":0,"qLeft":0,"qWidth":10,"qHeight":1000}]])";
  if (state.range(0) == 1) {
    params = R"([{"qInfo":{"qId":"obj","qType":"table"},"qHyperCubeDef":{"qDimensions":[)";
    for (int i = 0; i < 20; ++i) {
      params += (i ? "," : "") + std::string(R"({"qDef":{"qFieldDefs":["Field)") + std::to_string(i) +
                R"("],"qSortCriterias":[{"qSortByAscii":1}]},"qNullSuppression":false})";
    }
    params += R"(],"qInitialDataFetch":[{"qTop":0,"qLeft":0,"qWidth":20,"qHeight":500}]}}])";
  }
  for (auto _ : state) {
    auto e = Session::validate_params(params);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(params.size()));
}
BENCHMARK(BM_ValidateParams)->Arg(0)->Arg(1);

static void BM_FrameDecode(benchmark::State& state) {
  const std::string text =
      R"({"jsonrpc":"2.0","id":42,"result":{"qLayout":{"qInfo":{"qId":"abc","qType":"x"},"qTitle":"t"}},"change":[3,4]})";
  for (auto _ : state) {
    Frame f;
    bool ok = decode_frame(text, f, nullptr);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_FrameDecode);

// What a session does with each answer it hands out as text (the C API's and the bindings' way): the envelope
// read, the result located and checked, no DOM.
static void decode_as_text(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    Frame f;
    bool ok = decode_envelope(text, f, nullptr) && f.check_result(nullptr);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

// The benchmark responder's answer to EngineVersion.
static void BM_TinyAnswerDecode(benchmark::State& state) {
  decode_as_text(state,
                 R"({"jsonrpc":"2.0","id":123456,"result":{"qVersion":{"qComponentVersion":"12.2528.0"}}})");
}
BENCHMARK(BM_TinyAnswerDecode);

// The same for a 10,000-cell GetHyperCubeData page (2,500 rows of 4 cells, as bench/compare's responder
// sends it, some 620 KB): the result's text located in one scan, then checked.
static void BM_PageAnswerDecode(benchmark::State& state) {
  std::string text = R"({"jsonrpc":"2.0","id":7,"result":{"qDataPages":[{"qMatrix":[)";
  char row[512];
  for (int r = 0; r < 2500; ++r) {
    const int sales = 1000 + (r * 37 % 9973) / 7;
    std::snprintf(row, sizeof row,
                  R"(%s[{"qText":"Region %d","qNum":"NaN","qElemNumber":%d,"qState":"O"},)"
                  R"({"qText":"Customer %05d","qNum":"NaN","qElemNumber":%d,"qState":"O"},)"
                  R"({"qText":"%d","qNum":%d,"qElemNumber":0,"qState":"L"},)"
                  R"({"qText":"%d","qNum":%d,"qElemNumber":0,"qState":"L"}])",
                  r ? "," : "", r % 6, r % 6, r, r, sales, sales, r % 97, r % 97);
    text += row;
  }
  text += R"(],"qTails":[],"qArea":{"qLeft":0,"qTop":0,"qWidth":4,"qHeight":2500}}]}})";
  decode_as_text(state, text);
}
BENCHMARK(BM_PageAnswerDecode);

namespace {
struct Harness {
  Harness() {
    SessionOptions o;
    o.poll_events = true;
    o.delta = false;
    ctx = Context::create();
    transport = std::make_shared<MemoryTransport>(ctx);
    session = Session::create(ctx, transport, o);
    session->open(nullptr);
    transport->accept();
    session->poll(std::chrono::milliseconds(0));
  }
  std::shared_ptr<Context> ctx;
  std::shared_ptr<MemoryTransport> transport;
  std::shared_ptr<Session> session;
};
}  // namespace

// One complete small call as the client sees it: encode + send, decode the answer, correlate, complete,
// run the completion (on the calling thread through poll, so no thread hop is measured).
static void BM_CallRoundTrip(benchmark::State& state) {
  Harness h;
  std::int64_t completed = 0;
  std::string answer;
  for (auto _ : state) {
    auto id = h.session->call(-1, "EngineVersion", "[]", {}, [&](CallResult& r) { completed += r.ok(); });
    answer = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
             R"(,"result":{"qVersion":{"qComponentVersion":"12.2528.0"}}})";
    h.transport->deliver(answer);
    h.session->poll(std::chrono::milliseconds(0));
  }
  if (completed != state.iterations()) state.SkipWithError("lost completions");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CallRoundTrip);

// Pipelined: a window of N calls issued, then N answers delivered, then completions run.
static void BM_CallPipelined(benchmark::State& state) {
  Harness h;
  const int window = static_cast<int>(state.range(0));
  std::vector<std::int64_t> ids(static_cast<std::size_t>(window));
  std::int64_t completed = 0;
  for (auto _ : state) {
    for (int i = 0; i < window; ++i) {
      ids[static_cast<std::size_t>(i)] =
          h.session->call(-1, "EngineVersion", "[]", {}, [&](CallResult& r) { completed += r.ok(); });
    }
    for (auto id : ids) {
      h.transport->deliver(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                           R"(,"result":{"qVersion":{"qComponentVersion":"12.2528.0"}}})");
    }
    h.session->poll(std::chrono::milliseconds(0));
  }
  if (completed != state.iterations() * window) state.SkipWithError("lost completions");
  state.SetItemsProcessed(state.iterations() * window);
}
BENCHMARK(BM_CallPipelined)->Arg(100);

// A pushed change list touching N open objects, all valid (each a valid→invalid edge with a listener).
static void BM_ChangeArrayApply(benchmark::State& state) {
  Harness h;
  const int n = static_cast<int>(state.range(0));
  std::vector<std::shared_ptr<Object>> objects;
  // Open a doc and N objects through scripted answers.
  auto doc_id = h.session->call(-1, "OpenDoc", R"(["demo"])", {}, nullptr);
  h.transport->deliver(R"({"jsonrpc":"2.0","id":)" + std::to_string(doc_id) +
                       R"(,"result":{"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"demo"}}})");
  std::string change = "[";
  for (int i = 0; i < n; ++i) {
    int handle = i + 2;
    auto id = h.session->call(1, "GetObject", "[]", {}, nullptr);
    h.transport->deliver(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                         R"(,"result":{"qReturn":{"qType":"GenericObject","qHandle":)" +
                         std::to_string(handle) + "}}}");
    auto obj = h.session->object(handle);
    obj->on_changed([] {});
    objects.push_back(obj);
    change += (i ? "," : "") + std::to_string(handle);
  }
  change += "]";
  const std::string frame = R"({"jsonrpc":"2.0","change":)" + change + "}";
  const std::string layout_answer = R"(,"result":{"qLayout":{}}})";
  for (auto _ : state) {
    state.PauseTiming();
    // Make every object valid again (a fetch each).
    for (auto& o : objects) {
      auto id = o->call("GetLayout", "[]", {}, nullptr);
      h.transport->deliver(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + layout_answer);
    }
    h.session->poll(std::chrono::milliseconds(0));
    state.ResumeTiming();
    h.transport->deliver(frame);
    h.session->poll(std::chrono::milliseconds(0));
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ChangeArrayApply)->Arg(100)->Arg(1000);
