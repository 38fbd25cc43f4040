// Allocations on the call path, counted. A program of its own because it replaces the global operator new:
// every allocation of the process goes through the counter below, which counts only on a thread that asked
// it to (Counting), so that the test sees what one call costs on the calling thread and nothing else.
#include "rpc/frame.hpp"
#include "support/fake_engine.hpp"
#include "support/scripted_server.hpp"
#include "transport/websocket_transport.hpp"

#include <gtest/gtest.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

namespace {
thread_local bool tl_counting = false;
thread_local std::size_t tl_allocations = 0;

// Large allocations (at least kLarge bytes) made by libqix's I/O threads ("qix-io"), counted while
// g_counting_large is set: what reading a stream of large messages costs the reader.
constexpr std::size_t kLarge = 256 * 1024;
std::atomic<bool> g_counting_large{false};
std::atomic<std::size_t> g_large_io_allocations{0};

bool on_io_thread() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return std::strcmp(name, "qix-io") == 0;
}

void* allocate(std::size_t n) {
  if (tl_counting) ++tl_allocations;
  if (n >= kLarge && g_counting_large.load(std::memory_order_relaxed) && on_io_thread()) {
    g_large_io_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

/// Counts the allocations the calling thread makes while it lives.
class Counting {
 public:
  Counting() : before_(tl_allocations) { tl_counting = true; }
  ~Counting() { tl_counting = false; }
  Counting(const Counting&) = delete;
  Counting& operator=(const Counting&) = delete;
  std::size_t count() const { return tl_allocations - before_; }

 private:
  std::size_t before_;
};
}  // namespace

// The replaceable global allocation functions ([new.delete]); the aligned and nothrow forms are left to the
// library, which builds them on these or on malloc.
void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

using namespace qix;

namespace {
/// Counts of a steady stream (the first rounds left out): their median must not exceed `most`.
void expect_median_at_most(std::vector<std::size_t> counts, std::size_t most, const char* what) {
  ASSERT_FALSE(counts.empty());
  std::sort(counts.begin(), counts.end());
  EXPECT_LE(counts[counts.size() / 2], most)
      << what << " (median of " << counts.size() << "); most: " << counts.back();
}
}  // namespace

TEST(Allocations, ARequestIsEncodedInOneAllocationWhateverItsValues) {
  struct Case {
    std::int64_t id;
    int handle;
    bool delta;
  };
  for (const Case c : {Case{1, -1, false}, Case{std::numeric_limits<std::int64_t>::min(), INT_MIN, true},
                       Case{std::numeric_limits<std::int64_t>::max(), INT_MAX, true}}) {
    for (std::string_view params :
         {std::string_view(), std::string_view("[]"), std::string_view(R"({"a":1})")}) {
      std::string frame;
      std::size_t allocations = 0;
      {
        Counting counting;
        frame = core::encode_request(c.id, "GetHyperCubeData", c.handle, params, c.delta);
        allocations = counting.count();
      }
      EXPECT_EQ(allocations, 1u) << frame;
    }
  }
}

// A steady stream of calls, as the C API and every binding make them (the result as text, no DOM), each
// answered before the next: what the calling thread allocates to issue each call, and what the thread that
// reads the answers (here the test's, standing in for the I/O thread) allocates to apply each one and hand
// its completion on. The callback and the answer's text are made before counting.
struct SteadyStream {
  std::vector<std::size_t> per_call, per_answer;
};

SteadyStream count_a_steady_stream() {
  test::FakeEngine e;
  e.open();
  SteadyStream counts;
  core::CallOptions text;
  text.text_result = true;
  for (int i = 0; i < 60; ++i) {
    std::promise<core::CallResult> answered;
    core::CallCallback cb = [&answered](core::CallResult& r) { answered.set_value(std::move(r)); };
    std::size_t call_allocations = 0;
    {
      Counting counting;
      e.session->call(-1, "EngineVersion", "[]", text, std::move(cb));
      call_allocations = counting.count();
    }
    auto request = e.next();
    std::string frame = R"({"jsonrpc":"2.0","id":)" + std::to_string(request.id) +
                        R"(,"result":{"qVersion":{"qComponentVersion":"12.2528.0"}}})";
    std::size_t answer_allocations = 0;
    {
      Counting counting;
      e.transport->deliver(std::move(frame));
      answer_allocations = counting.count();
    }
    EXPECT_TRUE(answered.get_future().get().ok());
    if (i >= 10) {  // after the first calls have grown what they grow
      counts.per_call.push_back(call_allocations);
      counts.per_answer.push_back(answer_allocations);
    }
  }
  return counts;
}

// The pending call's map node is the one an earlier answer left, the request is one string: what is left is
// the request and the in-memory transport's copy of it (a socket's transport appends to its write buffer).
TEST(Allocations, ACallInASteadyStreamAllocatesOnlyItsRequest) {
  expect_median_at_most(count_a_steady_stream().per_call, 2, "allocations per call on the calling thread");
}

// The result's text copied out of the frame, the burst's list of events and the task that posts it (three).
// The frame's own event lists are the reading thread's, kept from answer to answer, the event queue hands
// itself to the pool (not a task wrapping it), and the completion is held in the list as it is (no closure
// around the callback and its result): six before, then four.
TEST(Allocations, AnAnswerInASteadyStreamAllocatesOnlyWhatItHandsOn) {
  expect_median_at_most(count_a_steady_stream().per_answer, 3,
                        "allocations per answer on the reading thread");
}

// Ten calls in flight, answered in one read (a burst, as at window 64): what applying the ten answers and
// handing them on allocates on the reading thread, per burst, once the stream is steady.
std::vector<std::size_t> count_bursts_of_ten() {
  test::FakeEngine e;
  e.open();
  core::CallOptions text;
  text.text_result = true;
  std::vector<std::size_t> per_burst;
  for (int round = 0; round < 30; ++round) {
    std::vector<std::promise<core::CallResult>> answered(10);
    std::vector<std::string> frames;
    for (auto& a : answered) {
      e.session->call(-1, "EngineVersion", "[]", text,
                      [&a](core::CallResult& r) { a.set_value(std::move(r)); });
      auto request = e.next();
      frames.push_back(R"({"jsonrpc":"2.0","id":)" + std::to_string(request.id) +
                       R"(,"result":{"qVersion":{"qComponentVersion":"12.2528.0"}}})");
    }
    std::size_t allocations = 0;
    {
      Counting counting;
      e.transport->deliver_burst(std::move(frames));
      allocations = counting.count();
    }
    for (auto& a : answered) EXPECT_TRUE(a.get_future().get().ok());
    if (round >= 5) per_burst.push_back(allocations);
  }
  return per_burst;
}

// Each answer's text, then one list for the burst's events (made as large as the last burst's, not grown one
// event at a time: five allocations for ten) and the task that posts it.
TEST(Allocations, ABurstOfAnswersAllocatesOneListForItsEvents) {
  expect_median_at_most(count_bursts_of_ten(), 10 + 2, "allocations per burst of ten answers");
}

// A stream of large answers over a socket: the reader assembles each message in the buffer of one before
// (the session takes the strings of a read's messages by swap, and the transport hands the largest back to
// the reader), so what reading one costs the I/O thread in large allocations is the read buffer growing to
// hold the frame (released after a message over 64 KiB, as an idle connection should not keep it) and the
// result's text handed to the caller: two, where a new buffer for every message would make three.
TEST(Allocations, LargeAnswersAreReadIntoTheBufferOfTheOneBefore) {
  const std::string value(300 * 1024, 'v');
  test::ScriptedServer server;
  server.on_open = [](test::ScriptedConnection& c) {
    c.send(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})");
  };
  server.on_message = [&](test::ScriptedConnection& c, const std::string& text) {
    auto id = test::parse_request(text).id;
    c.send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"qReturn":")" + value + "\"}}");
  };
  auto ctx = core::Context::create();
  core::ConnectOptions o;
  o.url = server.url();
  auto session = core::Session::create(ctx, core::make_websocket_transport(ctx, std::move(o)));
  ASSERT_FALSE(session->open_sync(std::chrono::seconds(30)));
  core::CallOptions text;
  text.text_result = true;
  std::vector<std::size_t> per_answer;
  for (int i = 0; i < 25; ++i) {
    std::promise<core::CallResult> answered;
    const std::size_t before = g_large_io_allocations.load();
    g_counting_large = true;
    session->call(-1, "EngineVersion", "[]", text,
                  [&answered](core::CallResult& r) { answered.set_value(std::move(r)); });
    auto r = answered.get_future().get();
    g_counting_large = false;
    ASSERT_TRUE(r.ok()) << r.error.describe();
    ASSERT_EQ(r.text, R"({"qReturn":")" + value + "\"}");
    if (i >= 5) per_answer.push_back(g_large_io_allocations.load() - before);
  }
  expect_median_at_most(per_answer, 2, "large allocations on the I/O thread per 300 KB answer");
  session->close();
  session.reset();
  ctx->shutdown();
}
