// Benchmarks of core/json/json_patch on a ~1 MB hypercube layout (the shape the QIX Engine sends for a
// table): a delta of 100 small replaces, the first "add at /" of the whole layout (copied from a const patch,
// and moved from an owned one), and the diff of two layouts differing in a few cells.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <utility>

#include "json/json_patch.hpp"

namespace {

namespace jp = qix::core::json_patch;
namespace bj = boost::json;

constexpr int kCols = 10;
constexpr int kRows = 1400;  // 14,000 cells: about 1 MB of JSON text

// A layout with one hypercube data page of kRows x kCols cells.
bj::value MakeLayout() {
  bj::array matrix;
  matrix.reserve(kRows);
  for (int r = 0; r < kRows; ++r) {
    bj::array row;
    row.reserve(kCols);
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
  return bj::object{{"qInfo", bj::object{{"qId", "bench"}, {"qType", "table"}}},
                    {"visualization", "table"},
                    {"qHyperCube", std::move(cube)}};
}

const bj::value& Layout() {
  static const bj::value layout = MakeLayout();
  return layout;
}

std::size_t LayoutBytes() {
  static const std::size_t bytes = bj::serialize(Layout()).size();
  return bytes;
}

std::string CellPath(int row, int col, const char* field) {
  return "/qHyperCube/qDataPages/0/qMatrix/" + std::to_string(row) + "/" + std::to_string(col) + "/" + field;
}

void BM_JsonPatchApply100Replaces(benchmark::State& state) {
  bj::value layout = Layout();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> row(0, kRows - 1);
  std::uniform_int_distribution<int> col(0, kCols - 1);
  bj::array patch;
  for (int i = 0; i < 50; ++i) {
    const int r = row(rng);
    const int c = col(rng);
    patch.push_back(bj::object{{"op", "replace"}, {"path", CellPath(r, c, "qText")}, {"value", "Changed"}});
    patch.push_back(bj::object{{"op", "replace"}, {"path", CellPath(r, c, "qNum")}, {"value", i * 1.5}});
  }
  const std::size_t patch_bytes = bj::serialize(patch).size();
  for (auto _ : state) {
    const bool ok = jp::apply(layout, patch);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(patch.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * patch_bytes));
  state.SetLabel("100 ops (" + std::to_string(patch_bytes) + " B) on " + std::to_string(LayoutBytes()) +
                 " B layout");
}
BENCHMARK(BM_JsonPatchApply100Replaces);

bj::array WholeDocumentAdd() {
  return bj::array{bj::object{{"op", "add"}, {"path", "/"}, {"value", Layout()}}};
}

void BM_JsonPatchApplyFirstAddCopied(benchmark::State& state) {
  const bj::array patch = WholeDocumentAdd();
  for (auto _ : state) {
    bj::value target;
    const bool ok = jp::apply(target, patch);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(target);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * LayoutBytes()));
  state.SetLabel("const patch: the value is copied (and freed)");
}
BENCHMARK(BM_JsonPatchApplyFirstAddCopied)->Unit(benchmark::kMicrosecond);

void BM_JsonPatchApplyFirstAddMoved(benchmark::State& state) {
  const bj::array source = WholeDocumentAdd();
  bj::value target;
  for (auto _ : state) {
    state.PauseTiming();
    bj::array patch = source;
    target = nullptr;
    state.ResumeTiming();
    const bool ok = jp::apply(target, std::move(patch));
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(target);
    state.PauseTiming();
    patch = bj::array();  // free the emptied patch outside the timing
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * LayoutBytes()));
  state.SetLabel("owned patch: the value is moved");
}
// Fixed iterations: the timed part is tiny next to the untimed 1 MB copy that prepares each iteration.
BENCHMARK(BM_JsonPatchApplyFirstAddMoved)->Unit(benchmark::kMicrosecond)->Iterations(50);

void BM_JsonPatchDiffLayouts(benchmark::State& state) {
  const bj::value& from = Layout();
  bj::value to = from;
  bj::array& matrix = to.at("qHyperCube").at("qDataPages").at(0).at("qMatrix").as_array();
  for (int i = 0; i < 5; ++i) {
    bj::object& cell =
        matrix.at(static_cast<std::size_t>(i) * 331).at(static_cast<std::size_t>(i)).as_object();
    cell["qText"] = "Changed";
    cell["qNum"] = -1.0;
  }
  std::size_t ops = 0;
  for (auto _ : state) {
    bj::array patch = jp::diff(from, to);
    ops = patch.size();
    benchmark::DoNotOptimize(patch);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * LayoutBytes()));
  state.SetLabel("2 x " + std::to_string(LayoutBytes()) + " B -> " + std::to_string(ops) + " ops");
}
BENCHMARK(BM_JsonPatchDiffLayouts)->Unit(benchmark::kMicrosecond);

}  // namespace
