// A burst: the frames one read brings, handed to the session as one (TransportHandler::on_frames). The
// session decodes them all, then applies them taking its lock once per part (Session::kBurstPart events), and
// hands each part's events on as one task. What must not change with that: every frame is applied, in order,
// and its events (its entry in the traffic log first) come in the frames' order, across parts; a frame that
// ends the session stops the frames after it from being applied (they are still logged).
#include "support/fake_engine.hpp"

#include <mutex>
#include <string>
#include <vector>

using namespace qix;
using namespace qix::test;

namespace {

/// Everything the session reports, in the order its events run.
struct Log {
  std::mutex m;
  std::vector<std::string> lines;
  void add(std::string line) {
    std::lock_guard l(m);
    lines.push_back(std::move(line));
  }
  std::vector<std::string> received_only() {
    std::lock_guard l(m);
    std::vector<std::string> out;
    for (auto& s : lines) {
      if (s.rfind("in ", 0) == 0) out.push_back(s);
    }
    return out;
  }
};

core::SessionOptions logging(Log& log) {
  core::SessionOptions o;
  o.traffic = [&log](bool sent, std::string_view frame) {
    if (!sent) log.add("in " + std::string(frame));
  };
  return o;
}

std::string answer(std::int64_t id) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"qReturn":)" + std::to_string(id) +
         "}}";
}

}  // namespace

TEST(SessionBurst, ALongBurstsFramesAndTheirEventsKeepTheirOrderAcrossItsParts) {
  Log log;
  FakeEngine e(logging(log));
  e.open();
  e.session->on_notification(
      "OnX", [&log](const core::Notification& n) { log.add("note " + json::serialize(n.params)); });
  e.session->on_diagnostic([&log](const core::Diagnostic& d) {
    log.add(d.kind == core::Diagnostic::Kind::malformed_frame ? "diag malformed"
            : d.kind == core::Diagnostic::Kind::unknown_id    ? "diag unknown id"
                                                              : "diag other");
  });
  core::CallOptions text;
  text.text_result = true;
  constexpr int kCalls = 100;  // several parts (16 events each) and several of a socket's runs (64 frames)
  std::vector<std::future<core::CallResult>> done;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kCalls; ++i) {
    auto p = std::make_shared<std::promise<core::CallResult>>();
    done.push_back(p->get_future());
    e.session->call(-1, "EngineVersion", "[]", text, [p, &log](core::CallResult& r) {
      log.add("done " + std::to_string(r.id) + " " + r.text);
      p->set_value(std::move(r));
    });
    ids.push_back(e.next().id);
  }
  // Answers in reverse order, a notification after every seventh, a malformed frame and an answer nobody
  // asked for among them; and what each should log, in order.
  std::vector<std::string> frames, expected;
  for (int i = 0; i < kCalls; ++i) {
    std::int64_t id = ids[static_cast<std::size_t>(kCalls - 1 - i)];
    frames.push_back(answer(id));
    expected.push_back("in " + frames.back());
    expected.push_back("done " + std::to_string(id) + R"( {"qReturn":)" + std::to_string(id) + "}");
    if (i % 7 == 6) {
      frames.push_back(R"({"jsonrpc":"2.0","method":"OnX","params":{"k":)" + std::to_string(i) + "}}");
      expected.push_back("in " + frames.back());
      expected.push_back(R"(note {"k":)" + std::to_string(i) + "}");
    }
    if (i == 40) {
      frames.push_back(R"({"jsonrpc":"2.0","id":)");
      expected.push_back("in " + frames.back());
      expected.push_back("diag malformed");
    }
    if (i == 70) {
      frames.push_back(answer(999999));
      expected.push_back("in " + frames.back());
      expected.push_back("diag unknown id");
    }
  }
  e.transport->deliver_burst(frames);
  for (std::size_t i = 0; i < done.size(); ++i) {
    auto r = done[i].get();
    EXPECT_TRUE(r.ok()) << r.error.describe();
    EXPECT_EQ(r.text, R"({"qReturn":)" + std::to_string(ids[i]) + "}");
  }
  drain_events(*e.session);
  std::lock_guard l(log.m);
  EXPECT_EQ(log.lines, expected);
}

TEST(SessionBurst, AFrameThatEndsTheSessionStopsTheRestOfItsBurstWhichIsStillLogged) {
  Log log;
  FakeEngine e(logging(log));
  e.open();
  auto f = e.call(-1, "EngineVersion");
  auto id = e.next().id;
  // The peer's first frame is no QIX (the session ends); its answer, in the same read, is not applied.
  const std::vector<std::string> frames = {"Welcome to the chat server!", answer(id), answer(id + 1)};
  e.transport->deliver_burst(frames);
  auto r = f.get();
  EXPECT_EQ(r.error.kind, core::ErrorKind::protocol) << r.error.describe();
  EXPECT_NE(r.error.message.find("does not speak the QIX protocol"), std::string::npos) << r.error.message;
  EXPECT_EQ(e.session->state(), core::SessionState::closed);
  drain_events(*e.session);
  EXPECT_EQ(log.received_only(),
            (std::vector<std::string>{"in " + frames[0], "in " + frames[1], "in " + frames[2]}));
}
