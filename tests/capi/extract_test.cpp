// Bulk extraction through the C API (qix_object_extract, an adapter over core/session/extract.hpp)
// against the simulator: every row in order with the window bound checked with the simulator's statistics,
// the defaults, a stop from the row callback, a bad path and bad arguments.
#include "capi_support.hpp"

#include <atomic>
#include <string>

using namespace qix::test;

namespace {

struct Extract {
  Waiter done;
  std::atomic<int64_t> rows{0};
  int64_t expected_next = 0;
  bool in_order = true;
  int status = 1;
  int64_t total = -1;
  std::string first_row;
  int64_t stop_at = -1;
  std::string error;
};

int extract_row(const char* row, size_t len, int64_t index, void* p) {
  auto* e = static_cast<Extract*>(p);
  if (index != e->expected_next) e->in_order = false;
  if (index == 0) e->first_row.assign(row, len);
  e->expected_next = index + 1;
  ++e->rows;
  return e->stop_at >= 0 && index + 1 >= e->stop_at ? 1 : 0;
}

void extract_done(int status, const qix_error* err, int64_t rows, void* p) {
  auto* e = static_cast<Extract*>(p);
  e->done.notify([&] {
    e->status = status;
    e->total = rows;
    if (err) e->error = qix_error_message(err);
  });
}

}  // namespace

TEST_F(CapiTest, ExtractStreamsEveryRowInOrder) {
  sim_->stop();
  qix::sim::Options so;
  so.demo_rows = 25000;
  start_sim(so);
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("big", {"OrderId"}, {"Sum(Sales)"}, 10));
  sim_->reset_stats();
  Extract e;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 1000, 3, extract_row, extract_done, &e), QIX_OK);
  ASSERT_TRUE(e.done.wait_for(1, 60s));
  EXPECT_EQ(e.status, QIX_OK) << e.error;
  EXPECT_EQ(e.total, 25000);
  EXPECT_EQ(e.rows.load(), 25000);
  EXPECT_TRUE(e.in_order);
  EXPECT_EQ(e.first_row.front(), '[');
  EXPECT_NE(e.first_row.find("qText"), std::string::npos);
  auto stats = sim_->stats();
  EXPECT_EQ(stats["GetHyperCubeData"].received, 25u);
  EXPECT_LE(stats["GetHyperCubeData"].max_in_flight, 3u);
  EXPECT_GE(stats["GetHyperCubeData"].max_in_flight, 1u);
}

TEST_F(CapiTest, ExtractDefaultsAndStop) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("cube", {"OrderId"}, {"Sum(Sales)"}, 1));
  Extract all;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 0, 0, extract_row, extract_done, &all), QIX_OK);
  ASSERT_TRUE(all.done.wait_for(1, 60s));
  EXPECT_EQ(all.status, QIX_OK) << all.error;
  EXPECT_EQ(all.total, 2000);

  Extract stop;
  stop.stop_at = 150;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 100, 2, extract_row, extract_done, &stop),
            QIX_OK);
  ASSERT_TRUE(stop.done.wait_for(1, 60s));
  EXPECT_EQ(stop.status, QIX_ECANCELLED);
  EXPECT_EQ(stop.rows.load(), 150);

  Extract bad;
  ASSERT_EQ(qix_object_extract(obj.get(), "/qNoSuchDef", 0, 0, extract_row, extract_done, &bad), QIX_OK);
  ASSERT_TRUE(bad.done.wait_for(1, 60s));
  EXPECT_EQ(bad.status, QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", -1, 0, extract_row, extract_done, &bad),
            QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(obj.get(), "", 0, 0, extract_row, extract_done, &bad), QIX_EINVAL);
  EXPECT_EQ(qix_object_extract(obj.get(), "/qHyperCubeDef", 0, 0, nullptr, extract_done, &bad), QIX_EINVAL);
}
