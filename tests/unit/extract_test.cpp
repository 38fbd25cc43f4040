// Bulk extraction (core/session/extract.hpp) over the in-memory transport: rows in order whatever the order
// of the page answers, the window bounding what is issued and not yet delivered, the 10,000-cell page
// limit, stop from the row callback and from another thread, an engine error and a closed session mid-way.
// The test plays the engine: it reads each request and answers when and in the order it chooses.
#include "support/fake_engine.hpp"

#include "session/extract.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

using namespace qix;
using namespace qix::test;
using core::ErrorKind;

namespace {

/// What an extraction delivered: the row indexes and their first cell's qNum (the row number the engine
/// put there), and its end.
class Recorder {
 public:
  bool on_row(const core::json::value& row, std::int64_t index) {
    std::lock_guard l(m_);
    indexes_.push_back(index);
    numbers_.push_back(row.as_array().at(0).as_object().at("qNum").to_number<std::int64_t>());
    return stop_at_ < 0 || index != stop_at_;
  }
  void on_done(const core::Error& e, std::int64_t rows) {
    std::lock_guard l(m_);
    ++done_count_;
    error_ = e;
    rows_ = rows;
    cv_.notify_all();
  }
  bool wait_done(std::chrono::milliseconds t = 5s) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, t, [&] { return done_count_ > 0; });
  }
  std::shared_ptr<core::Extraction> start(std::shared_ptr<core::Object> obj, core::ExtractOptions o) {
    return core::extract(
        std::move(obj), std::move(o),
        [this](const core::json::value& row, std::int64_t i) { return on_row(row, i); },
        [this](const core::Error& e, std::int64_t rows) { on_done(e, rows); });
  }
  void stop_at(std::int64_t index) { stop_at_ = index; }

  std::vector<std::int64_t> indexes() {
    std::lock_guard l(m_);
    return indexes_;
  }
  std::vector<std::int64_t> numbers() {
    std::lock_guard l(m_);
    return numbers_;
  }
  std::size_t delivered() {
    std::lock_guard l(m_);
    return indexes_.size();
  }
  core::Error error() {
    std::lock_guard l(m_);
    return error_;
  }
  std::int64_t rows() {
    std::lock_guard l(m_);
    return rows_;
  }
  int done_count() {
    std::lock_guard l(m_);
    return done_count_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::int64_t> indexes_, numbers_;
  std::int64_t stop_at_ = -1;
  int done_count_ = 0;
  core::Error error_;
  std::int64_t rows_ = -1;
};

std::string layout_of(std::int64_t cols, std::int64_t rows) {
  return R"({"qLayout":{"qInfo":{"qId":"o1"},"qHyperCube":{"qSize":{"qcx":)" + std::to_string(cols) +
         R"(,"qcy":)" + std::to_string(rows) + "}}}}";
}

struct PageRequest {
  std::int64_t id = 0;
  std::int64_t top = 0, left = 0, width = 0, height = 0;
  std::string path;
};

PageRequest page_of(const Request& r) {
  EXPECT_EQ(r.method, "GetHyperCubeData");
  PageRequest p;
  p.id = r.id;
  const auto& params = r.params.as_array();
  p.path = std::string(params.at(0).as_string());
  const auto& page = params.at(1).as_array().at(0).as_object();
  p.top = page.at("qTop").to_number<std::int64_t>();
  p.left = page.at("qLeft").to_number<std::int64_t>();
  p.width = page.at("qWidth").to_number<std::int64_t>();
  p.height = page.at("qHeight").to_number<std::int64_t>();
  return p;
}

/// The answer to a page: each row's cells carry the row number in qNum.
void answer_page(FakeEngine& e, const PageRequest& p) {
  std::string matrix;
  for (std::int64_t r = p.top; r < p.top + p.height; ++r) {
    std::string row;
    for (std::int64_t c = 0; c < p.width; ++c) {
      row += (c ? "," : "") + std::string(R"({"qText":"r)") + std::to_string(r) + "c" + std::to_string(c) +
             R"(","qNum":)" + std::to_string(r) + "}";
    }
    matrix += (r > p.top ? "," : "") + ("[" + row + "]");
  }
  e.reply(p.id, R"({"qDataPages":[{"qArea":{},"qMatrix":[)" + matrix + "]}]}");
}

/// The session's GetHyperCubeData requests so far, and the ids it asked the engine to cancel.
std::vector<PageRequest> pages_sent(FakeEngine& e) {
  std::vector<PageRequest> out;
  for (auto& text : e.transport->sent()) {
    auto r = parse_request(text);
    if (r.method == "GetHyperCubeData") out.push_back(page_of(r));
  }
  return out;
}
std::set<std::int64_t> cancelled_ids(FakeEngine& e) {
  std::set<std::int64_t> out;
  for (auto& text : e.transport->sent()) {
    auto r = parse_request(text);
    if (r.method == "CancelRequest") out.insert(r.params.as_array().at(0).to_number<std::int64_t>());
  }
  return out;
}

/// An open session with a session object (handle 2) whose layout the next request asks for.
struct Fixture {
  FakeEngine e;
  std::shared_ptr<core::Object> obj;
  Fixture() {
    e.open();
    e.open_doc();
    obj = e.create_object();
  }
  /// Answers the extraction's GetLayout with a cube of `cols` x `rows`.
  void answer_layout(std::int64_t cols, std::int64_t rows) {
    auto r = e.next();
    ASSERT_EQ(r.method, "GetLayout");
    EXPECT_FALSE(r.delta) << "a fresh layout, not a delta";
    e.reply(r.id, layout_of(cols, rows));
  }
  PageRequest next_page() { return page_of(e.next()); }
};

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

}  // namespace

TEST(SessionExtract, RowsInOrderWhateverTheOrderOfThePageAnswers) {
  Fixture f;
  Recorder rec;
  core::ExtractOptions o;
  o.page_height = 2;
  o.window = 3;
  auto ex = rec.start(f.obj, o);
  f.answer_layout(3, 10);  // 5 pages of 2 rows
  auto p0 = f.next_page(), p1 = f.next_page(), p2 = f.next_page();
  EXPECT_EQ(p0.top, 0);
  EXPECT_EQ(p1.top, 2);
  EXPECT_EQ(p2.top, 4);
  EXPECT_EQ(p0.path, "/qHyperCubeDef");
  EXPECT_EQ(p0.width, 3);
  EXPECT_EQ(p0.height, 2);
  answer_page(f.e, p2);
  answer_page(f.e, p1);
  drain_events(*f.e.session);
  EXPECT_EQ(rec.delivered(), 0u) << "pages 1 and 2 wait for page 0";
  answer_page(f.e, p0);  // 0, 1, 2 go out in order
  auto p3 = f.next_page(), p4 = f.next_page();
  EXPECT_EQ(p3.top, 6);
  EXPECT_EQ(p4.top, 8);
  answer_page(f.e, p4);
  answer_page(f.e, p3);
  ASSERT_TRUE(rec.wait_done());
  EXPECT_FALSE(rec.error()) << rec.error().describe();
  EXPECT_EQ(rec.rows(), 10);
  EXPECT_EQ(rec.indexes(), iota(10));
  EXPECT_EQ(rec.numbers(), iota(10)) << "each row is the engine's row of that index";
  EXPECT_TRUE(ex->finished());
  EXPECT_EQ(pages_sent(f.e).size(), 5u);
}

TEST(SessionExtract, NeverMoreThanTheWindowIssuedAndNotDelivered) {
  Fixture f;
  Recorder rec;
  core::ExtractOptions o;
  o.page_height = 1;
  o.window = 2;
  auto ex = rec.start(f.obj, o);
  f.answer_layout(1, 9);  // 9 pages of 1 row
  // Each round: the later page of the window answers first (held back), then the earlier one.
  std::size_t answered = 0;
  while (!ex->finished()) {
    drain_events(*f.e.session);  // every answer so far was handled: whatever it issued is sent
    auto sent = pages_sent(f.e);
    std::size_t delivered = rec.delivered();
    ASSERT_LE(sent.size() - answered, 2u) << "calls in flight";
    ASSERT_LE(sent.size() - delivered, 2u) << "pages issued and not yet delivered (in flight or held back)";
    if (sent.size() == answered) break;
    if (sent.size() - answered == 2) {
      answer_page(f.e, sent[answered + 1]);
      drain_events(*f.e.session);
      EXPECT_EQ(pages_sent(f.e).size(), sent.size()) << "a held-back page does not open the window";
      answer_page(f.e, sent[answered]);
      answered += 2;
    } else {
      answer_page(f.e, sent[answered]);
      answered += 1;
    }
  }
  ASSERT_TRUE(rec.wait_done());
  EXPECT_FALSE(rec.error()) << rec.error().describe();
  EXPECT_EQ(rec.numbers(), iota(9));
  EXPECT_EQ(answered, 9u);
}

TEST(SessionExtract, PagesStayWithinTenThousandCells) {
  struct Case {
    std::int64_t cols, rows, page_height, expected_height;
  };
  for (auto c : {Case{7, 5000, 0, 1428}, Case{7, 5000, 4000, 1428}, Case{3, 250, 100, 100},
                 Case{1, 25000, 0, 10000}, Case{20000, 2, 0, 1}}) {
    SCOPED_TRACE(std::to_string(c.cols) + " columns, page height " + std::to_string(c.page_height));
    Fixture f;
    Recorder rec;
    core::ExtractOptions o;
    o.page_height = c.page_height;
    o.window = 1;
    rec.start(f.obj, o);
    f.answer_layout(c.cols, c.rows);
    std::int64_t covered = 0;
    while (covered < c.rows) {
      auto p = f.next_page();
      ASSERT_EQ(p.top, covered);
      EXPECT_EQ(p.left, 0);
      EXPECT_EQ(p.width, c.cols);
      EXPECT_EQ(p.height, std::min(c.expected_height, c.rows - covered));
      if (c.cols <= core::kMaxPageCells) {
        EXPECT_LE(p.width * p.height, core::kMaxPageCells);
      }
      covered += p.height;
      answer_page(f.e, p);
    }
    ASSERT_TRUE(rec.wait_done());
    EXPECT_FALSE(rec.error()) << rec.error().describe();
    EXPECT_EQ(rec.rows(), c.rows);
  }
}

TEST(SessionExtract, RowCallbackStops) {
  Fixture f;
  Recorder rec;
  rec.stop_at(3);  // the callback returns false for row 3
  core::ExtractOptions o;
  o.page_height = 2;
  o.window = 3;
  rec.start(f.obj, o);
  f.answer_layout(1, 20);
  auto p0 = f.next_page(), p1 = f.next_page(), p2 = f.next_page();
  answer_page(f.e, p0);
  auto p3 = f.next_page();
  answer_page(f.e, p1);  // row 3 stops it
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.error().kind, ErrorKind::cancelled);
  EXPECT_EQ(rec.error().message, "the row callback stopped the extraction");
  EXPECT_EQ(rec.rows(), 3) << "rows 0-2 accepted";
  EXPECT_EQ(rec.indexes(), iota(4));
  // The pages still in flight were cancelled on the engine, and their late answers deliver nothing.
  auto cancelled = cancelled_ids(f.e);
  EXPECT_TRUE(cancelled.count(p2.id) && cancelled.count(p3.id)) << "CancelRequest for pages 2 and 3";
  answer_page(f.e, p2);
  answer_page(f.e, p3);
  drain_events(*f.e.session);
  EXPECT_EQ(rec.delivered(), 4u);
  EXPECT_EQ(rec.done_count(), 1);
  EXPECT_EQ(pages_sent(f.e).size(), 4u);
}

TEST(SessionExtract, StopFromTheRowCallback) {
  Fixture f;
  std::shared_ptr<core::Extraction> ex;
  std::mutex m;
  std::vector<std::int64_t> seen;
  Counter done;
  core::Error error;
  std::int64_t rows = -1;
  core::ExtractOptions o;
  o.page_height = 4;
  o.window = 2;
  ex = core::extract(
      f.obj, o,
      [&](const core::json::value&, std::int64_t i) {
        std::lock_guard l(m);
        seen.push_back(i);
        if (i == 1) ex->stop();  // from inside: this row counts, no further one is delivered
        return true;
      },
      [&](const core::Error& e, std::int64_t n) {
        {
          std::lock_guard l(m);
          error = e;
          rows = n;
        }
        done.add();
      });
  f.answer_layout(2, 40);
  auto p0 = f.next_page(), p1 = f.next_page();
  answer_page(f.e, p0);
  ASSERT_TRUE(done.wait_for(1));
  std::lock_guard l(m);
  EXPECT_EQ(error.kind, ErrorKind::cancelled);
  EXPECT_EQ(error.message, "the extraction was stopped");
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(seen, iota(2));
  EXPECT_TRUE(cancelled_ids(f.e).count(p1.id)) << "the page in flight was cancelled";
  EXPECT_TRUE(ex->finished());
  ex->stop();  // idempotent
}

TEST(SessionExtract, StopFromAnotherThread) {
  Fixture f;
  Recorder rec;
  core::ExtractOptions o;
  o.page_height = 5;
  o.window = 3;
  auto ex = rec.start(f.obj, o);
  f.answer_layout(1, 100);
  auto p0 = f.next_page(), p1 = f.next_page(), p2 = f.next_page();
  answer_page(f.e, p1);  // held back: nothing delivered
  drain_events(*f.e.session);
  ex->stop();
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.error().kind, ErrorKind::cancelled);
  EXPECT_EQ(rec.rows(), 0);
  auto cancelled = cancelled_ids(f.e);
  EXPECT_TRUE(cancelled.count(p0.id) && cancelled.count(p2.id)) << "both calls in flight were cancelled";
  EXPECT_EQ(pages_sent(f.e).size(), 3u) << "nothing issued after the stop";
}

TEST(SessionExtract, StopWhileTheLayoutIsFetched) {
  Fixture f;
  Recorder rec;
  auto ex = rec.start(f.obj, {});
  auto layout = f.e.next();
  ASSERT_EQ(layout.method, "GetLayout");
  ex->stop();
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.error().kind, ErrorKind::cancelled);
  EXPECT_TRUE(cancelled_ids(f.e).count(layout.id));
  f.e.reply(layout.id, layout_of(1, 10));  // the late answer starts nothing
  drain_events(*f.e.session);
  EXPECT_TRUE(pages_sent(f.e).empty());
  EXPECT_EQ(rec.done_count(), 1);
}

TEST(SessionExtract, EngineErrorMidway) {
  Fixture f;
  Recorder rec;
  core::ExtractOptions o;
  o.page_height = 3;
  o.window = 2;
  rec.start(f.obj, o);
  f.answer_layout(2, 30);
  auto p0 = f.next_page(), p1 = f.next_page();
  answer_page(f.e, p0);
  auto p2 = f.next_page();
  f.e.reply_error(p1.id, 7005, "", "Aborted by the test");
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.error().kind, ErrorKind::engine);
  EXPECT_EQ(rec.error().code, 7005);
  EXPECT_EQ(rec.rows(), 3) << "page 0's rows";
  EXPECT_TRUE(cancelled_ids(f.e).count(p2.id)) << "the page still in flight was cancelled";
  answer_page(f.e, p2);
  drain_events(*f.e.session);
  EXPECT_EQ(rec.delivered(), 3u);
  EXPECT_EQ(rec.done_count(), 1);
}

TEST(SessionExtract, SessionClosedMidway) {
  for (bool by_client : {true, false}) {
    SCOPED_TRACE(by_client ? "closed by the client" : "connection lost");
    Fixture f;
    Recorder rec;
    core::ExtractOptions o;
    o.page_height = 10;
    o.window = 4;
    rec.start(f.obj, o);
    f.answer_layout(1, 100);
    auto p0 = f.next_page();
    for (int k = 0; k < 3; ++k) f.next_page();
    answer_page(f.e, p0);
    auto p4 = f.next_page();  // page 0 delivered: page 4 issued
    (void)p4;
    if (by_client) {
      f.e.session->close();
    } else {
      core::CloseInfo info;
      info.code = 1006;
      info.error = core::Error::make(ErrorKind::network, "connection reset by the test");
      f.e.transport->remote_close(info);
    }
    ASSERT_TRUE(rec.wait_done());
    EXPECT_EQ(rec.error().kind, by_client ? ErrorKind::closed : ErrorKind::connection_lost)
        << rec.error().describe();
    EXPECT_EQ(rec.rows(), 10);
    EXPECT_EQ(rec.done_count(), 1);
  }
}

TEST(SessionExtract, NoHypercubeAtThePathAndEmptyCubes) {
  {
    Fixture f;
    Recorder rec;
    core::ExtractOptions o;
    o.path = "/qListObjectDef";
    rec.start(f.obj, o);
    f.answer_layout(2, 10);
    ASSERT_TRUE(rec.wait_done());
    EXPECT_EQ(rec.error().kind, ErrorKind::invalid_argument);
    EXPECT_EQ(rec.error().message, "no hypercube with a qSize at /qListObjectDef in the layout");
  }
  {
    Fixture f;
    Recorder rec;
    rec.start(f.obj, {});
    f.answer_layout(2, 0);
    ASSERT_TRUE(rec.wait_done());
    EXPECT_FALSE(rec.error());
    EXPECT_EQ(rec.rows(), 0);
    EXPECT_TRUE(pages_sent(f.e).empty());
  }
  {
    Fixture f;  // a page answered without a qMatrix
    Recorder rec;
    rec.start(f.obj, {});
    f.answer_layout(1, 5);
    f.e.reply(f.next_page().id, R"({"qDataPages":[]})");
    ASSERT_TRUE(rec.wait_done());
    EXPECT_EQ(rec.error().kind, ErrorKind::protocol);
  }
}

TEST(SessionExtract, ClosedObjectAndBadArguments) {
  Fixture f;
  auto row = [](const core::json::value&, std::int64_t) { return true; };
  auto done = [](const core::Error&, std::int64_t) {};
  core::ExtractOptions o;
  o.window = 0;
  EXPECT_THROW(core::extract(f.obj, o, row, done), std::invalid_argument);
  o = {};
  o.page_height = -1;
  EXPECT_THROW(core::extract(f.obj, o, row, done), std::invalid_argument);
  o = {};
  o.path.clear();
  EXPECT_THROW(core::extract(f.obj, o, row, done), std::invalid_argument);
  EXPECT_THROW(core::extract(f.obj, {}, nullptr, done), std::invalid_argument);
  EXPECT_THROW(core::extract(nullptr, {}, row, done), std::invalid_argument);
  EXPECT_EQ(f.e.transport->sent_count(), 2u) << "nothing sent but OpenDoc and CreateSessionObject";

  f.e.session->close();
  Recorder rec;
  rec.start(f.obj, {});
  ASSERT_TRUE(rec.wait_done());
  EXPECT_EQ(rec.error().kind, ErrorKind::closed);
}
