// Allocations on the call path, counted. A program of its own because it replaces the global operator new:
// every allocation of the process goes through the counter below, which counts only on a thread that asked
// it to (Counting), so that the test sees what one call costs on the calling thread and nothing else.
#include "rpc/frame.hpp"
#include "support/fake_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

namespace {
thread_local bool tl_counting = false;
thread_local std::size_t tl_allocations = 0;

void* allocate(std::size_t n) {
  if (tl_counting) ++tl_allocations;
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

// A steady stream of calls: the pending call's map node is the one an earlier answer left, the request is one
// string. What the calling thread allocates per call is then the request and the in-memory transport's copy
// of it (a socket's transport appends to its write buffer instead); the callback is made before counting.
TEST(Allocations, ACallInASteadyStreamAllocatesOnlyItsRequest) {
  test::FakeEngine e;
  e.open();
  std::vector<std::size_t> per_call;
  for (int i = 0; i < 60; ++i) {
    std::promise<core::CallResult> answered;
    core::CallCallback cb = [&answered](core::CallResult& r) { answered.set_value(std::move(r)); };
    std::size_t allocations = 0;
    {
      Counting counting;
      e.session->call(-1, "EngineVersion", "[]", {}, std::move(cb));
      allocations = counting.count();
    }
    auto request = e.next();
    e.reply(request.id, R"({"qVersion":{"qComponentVersion":"12.2528.0"}})");
    ASSERT_TRUE(answered.get_future().get().ok());
    if (i >= 10) per_call.push_back(allocations);  // after the first calls have grown what they grow
  }
  std::sort(per_call.begin(), per_call.end());
  const std::size_t median = per_call[per_call.size() / 2];
  EXPECT_LE(median, 2u) << "allocations per call on the calling thread (median of 50); most: "
                        << per_call.back();
}

// The answers of that stream: what the thread that reads them (here the test's, standing in for the I/O
// thread) allocates to apply one and hand its completion on: the result's text copied out of the frame, the
// completion's closure, the burst's list of tasks and the task that posts it (four). The frame's own event
// lists are the reading thread's, kept from answer to answer, and the event queue hands itself to the pool
// (not a task wrapping it): six before.
TEST(Allocations, AnAnswerInASteadyStreamAllocatesOnlyWhatItHandsOn) {
  test::FakeEngine e;
  e.open();
  std::vector<std::size_t> per_answer;
  for (int i = 0; i < 60; ++i) {
    std::promise<core::CallResult> answered;
    core::CallOptions text;  // as the C API and every binding call: the result as text, no DOM
    text.text_result = true;
    e.session->call(-1, "EngineVersion", "[]", text,
                    [&answered](core::CallResult& r) { answered.set_value(std::move(r)); });
    auto request = e.next();
    std::string frame = R"({"jsonrpc":"2.0","id":)" + std::to_string(request.id) +
                        R"(,"result":{"qVersion":{"qComponentVersion":"12.2528.0"}}})";
    std::size_t allocations = 0;
    {
      Counting counting;
      e.transport->deliver(std::move(frame));
      allocations = counting.count();
    }
    ASSERT_TRUE(answered.get_future().get().ok());
    if (i >= 10) per_answer.push_back(allocations);
  }
  std::sort(per_answer.begin(), per_answer.end());
  const std::size_t median = per_answer[per_answer.size() / 2];
  EXPECT_LE(median, 4u) << "allocations per answer on the reading thread (median of 50); most: "
                        << per_answer.back();
}
