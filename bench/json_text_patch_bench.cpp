// Benchmarks of core/json/json_text_patch against the DOM path on a ~1 MB hypercube layout held as text: a
// delta of N cell replaces applied to the text (apply_text) versus parse + json_patch::apply + serialize,
// with a plain copy of the text as the floor, and one replace near the start (where the copy is the cost).
// N = 1, 3, 8, 32, 64 shows where the DOM path catches up (the reason for kMaxTextPatchOps).
// Run: build/bench/qix_bench --benchmark_filter=TextPatch
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>

#include "json/json_patch.hpp"
#include "json/json_text_patch.hpp"

namespace {

namespace jp = qix::core::json_patch;
namespace bj = boost::json;

constexpr int kCols = 10;
constexpr int kRows = 1400;  // 14,000 cells: about 1 MB of JSON text

// The layout of json_patch_bench.cpp, as text: one hypercube data page of kRows x kCols cells.
const std::string& LayoutText() {
  static const std::string text = [] {
    bj::array matrix;
    for (int r = 0; r < kRows; ++r) {
      bj::array row;
      for (int c = 0; c < kCols; ++c) {
        row.push_back(bj::object{{"qText", "Cell " + std::to_string(r) + ":" + std::to_string(c)},
                                 {"qNum", r * 100.25 + c},
                                 {"qElemNumber", r},
                                 {"qState", "O"}});
      }
      matrix.push_back(std::move(row));
    }
    bj::object page{{"qArea", bj::object{{"qLeft", 0}, {"qTop", 0}, {"qWidth", kCols}, {"qHeight", kRows}}},
                    {"qMatrix", std::move(matrix)},
                    {"qTails", bj::array{}}};
    bj::object cube{{"qSize", bj::object{{"qcx", kCols}, {"qcy", kRows}}},
                    {"qDimensionInfo", bj::array{}},
                    {"qMeasureInfo", bj::array{}},
                    {"qDataPages", bj::array{std::move(page)}}};
    return bj::serialize(bj::object{{"qInfo", bj::object{{"qId", "bench"}, {"qType", "table"}}},
                                    {"visualization", "table"},
                                    {"qHyperCube", std::move(cube)}});
  }();
  return text;
}

// `n` replaces of qText in random cells (row 700, the middle of the text, for n == 1).
bj::array CellReplaces(std::int64_t n) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> row(0, kRows - 1);
  std::uniform_int_distribution<int> col(0, kCols - 1);
  bj::array patch;
  for (std::int64_t i = 0; i < n; ++i) {
    const int r = n == 1 ? kRows / 2 : row(rng);
    const int c = n == 1 ? kCols / 2 : col(rng);
    patch.push_back(bj::object{{"op", "replace"},
                               {"path", "/qHyperCube/qDataPages/0/qMatrix/" + std::to_string(r) + "/" +
                                            std::to_string(c) + "/qText"},
                               {"value", "Changed"}});
  }
  return patch;
}

void Label(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * LayoutText().size()));
  state.SetLabel(std::to_string(state.range(0)) + " ops on " + std::to_string(LayoutText().size()) + " B");
}

void BM_TextPatchCopyFloor(benchmark::State& state) {
  const std::string& base = LayoutText();
  std::string out;
  for (auto _ : state) {
    out.assign(base);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  Label(state);
}
BENCHMARK(BM_TextPatchCopyFloor)->Arg(0)->Unit(benchmark::kMicrosecond);

void RunText(benchmark::State& state, bool check_duplicate_keys) {
  const std::string& base = LayoutText();
  const bj::array patch = CellReplaces(state.range(0));
  jp::TextPatchOptions options;
  options.max_ops = 1000;
  options.check_duplicate_keys = check_duplicate_keys;
  std::string out;
  for (auto _ : state) {
    const jp::TextPatch result = jp::apply_text(base, patch, out, nullptr, options);
    if (result != jp::TextPatch::applied) state.SkipWithError("not applied");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  Label(state);
}

void BM_TextPatchApplyText(benchmark::State& state) {
  RunText(state, true);
}
BENCHMARK(BM_TextPatchApplyText)->Arg(1)->Arg(3)->Arg(8)->Arg(32)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_TextPatchApplyTextTrustedKeys(benchmark::State& state) {
  RunText(state, false);
}
BENCHMARK(BM_TextPatchApplyTextTrustedKeys)
    ->Arg(1)
    ->Arg(3)
    ->Arg(8)
    ->Arg(32)
    ->Arg(64)
    ->Unit(benchmark::kMicrosecond);

// One replace near the start of the text (the layout's qInfo/qId): the scan is short, the copy is the cost.
void BM_TextPatchApplyTextNearStart(benchmark::State& state) {
  const std::string& base = LayoutText();
  const bj::array patch{bj::object{{"op", "replace"}, {"path", "/qInfo/qId"}, {"value", "other"}}};
  jp::TextPatchOptions options;
  options.check_duplicate_keys = state.range(0) != 0;
  std::string out;
  for (auto _ : state) {
    const jp::TextPatch result = jp::apply_text(base, patch, out, nullptr, options);
    if (result != jp::TextPatch::applied) state.SkipWithError("not applied");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * base.size()));
  state.SetLabel(state.range(0) != 0 ? "1 op, duplicate check" : "1 op, trusted keys");
}
BENCHMARK(BM_TextPatchApplyTextNearStart)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_TextPatchDomParseApplySerialize(benchmark::State& state) {
  const std::string& base = LayoutText();
  const bj::array patch = CellReplaces(state.range(0));
  std::string out;
  for (auto _ : state) {
    bj::value doc = bj::parse(base);
    if (!jp::apply(doc, patch)) state.SkipWithError("not applied");
    out = bj::serialize(doc);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  Label(state);
}
BENCHMARK(BM_TextPatchDomParseApplySerialize)
    ->Arg(1)
    ->Arg(3)
    ->Arg(32)
    ->Arg(64)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
