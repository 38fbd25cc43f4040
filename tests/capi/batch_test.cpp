// qix_batch_begin / qix_batch_end against the simulator: calls issued inside a batch all complete once it
// ends, in order, with their own answers; a blocking call inside a batch fails with QIX_EBUSY (it would
// wait for a request that is held), also inside a nested pair until the outermost end; an end without its
// begin does nothing. (That the held output leaves at the outermost end, and not before:
// tests/unit/context_test.cpp, SessionContextOutputBatch.)
#include "capi_support.hpp"

#include <string>
#include <vector>

using namespace qix::test;

namespace {

struct Answers {
  std::vector<std::string>
      texts;  // written by the callbacks, which run in qix_session_poll on the test's thread
};

void record(const qix_result* res, void* payload) {
  EXPECT_EQ(qix_result_status(res), QIX_OK);
  static_cast<Answers*>(payload)->texts.push_back(qix_result_json(res));
}

int sync_call_status(qix_session* s) {
  qix_result* r = nullptr;
  int rc = qix_session_call_sync(&r, s, "EngineVersion", "[]", 0, -1);
  qix_result_free(r);
  return rc;
}

}  // namespace

TEST_F(CapiTest, BatchIssuesItsCallsTogetherAtItsEnd) {
  Answers answers;  // before the session: its callbacks write here (they run only in qix_session_poll)
  auto o = options();
  ASSERT_EQ(qix_options_set_bool(o.get(), "events.poll", 1), QIX_OK);
  auto s = open(o.get());
  ASSERT_TRUE(s);
  auto doc = open_doc(s.get());
  ASSERT_TRUE(doc);

  qix_batch_end();  // no batch open: nothing happens
  EXPECT_EQ(sync_call_status(s.get()), QIX_OK);

  constexpr int kCalls = 50;
  qix_batch_begin();
  for (int i = 0; i < kCalls; ++i) {
    std::string params = "[\"1000+" + std::to_string(i) + "\"]";
    int64_t id = 0;
    ASSERT_EQ(qix_object_call(&id, doc.get(), "Evaluate", params.c_str(), 0, -1, &record, &answers), QIX_OK);
    EXPECT_GT(id, 0);
  }
  qix_batch_begin();  // nested
  EXPECT_EQ(sync_call_status(s.get()), QIX_EBUSY);
  EXPECT_NE(last_error_message().find("qix_batch_end"), std::string::npos) << last_error_message();
  qix_batch_end();
  EXPECT_EQ(sync_call_status(s.get()), QIX_EBUSY) << "the outer batch is still open";
  qix_batch_end();
  qix_batch_end();  // stray: nothing happens

  while (answers.texts.size() < kCalls) ASSERT_GE(qix_session_poll(s.get(), -1), 0);
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(answers.texts[i], "\"" + std::to_string(1000 + i) + "\"") << i;
  EXPECT_EQ(sync_call_status(s.get()), QIX_OK) << "no batch is open any more";
}
