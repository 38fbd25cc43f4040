// Replays real recorded engine traffic (tests/data, see its README) through a session: the session must
// send what the recorded client sent and make sense of what the engine answered.
#include "support/fake_engine.hpp"

#include <fstream>

using namespace qix;
using namespace qix::test;

namespace {

struct Line {
  bool sent;
  std::string frame;
};

// Reads "<-- {...}" / "--> {...}" (corectl) or "Received: {...}" / "Sent: {...}" (enigma-go) lines.
std::vector<Line> read_traffic(const std::string& file) {
  std::ifstream in(std::string(QIX_TEST_DATA_DIR) + "/" + file);
  EXPECT_TRUE(in.good()) << file;
  std::vector<Line> out;
  std::string line;
  while (std::getline(in, line)) {
    for (auto [prefix, sent] : {std::pair<const char*, bool>{"--> ", true},
                                {"<-- ", false},
                                {"Sent: ", true},
                                {"Received: ", false}}) {
      std::string p(prefix);
      if (line.rfind(p, 0) == 0) out.push_back({sent, line.substr(p.size())});
    }
  }
  return out;
}

// Plays `lines`: a sent line makes the session issue the same call (checked against the recorded frame),
// a received line is delivered. Returns the results by request id.
std::map<std::int64_t, core::CallResult> replay(FakeEngine& e, const std::vector<Line>& lines) {
  std::map<std::int64_t, std::shared_future<core::CallResult>> futures;
  std::size_t sent_seen = 0;
  for (const auto& l : lines) {
    if (!l.sent) {
      e.send(l.frame);
      continue;
    }
    auto rec = parse_request(l.frame);
    auto f = e.call(rec.handle, rec.method, json::serialize(rec.params)).share();
    auto got = e.request(sent_seen++);
    EXPECT_EQ(got.id, rec.id);
    EXPECT_EQ(got.method, rec.method);
    EXPECT_EQ(got.handle, rec.handle);
    EXPECT_EQ(json::serialize(got.params), json::serialize(rec.params));
    EXPECT_EQ(got.delta, rec.delta) << rec.method;
    futures.emplace(rec.id, f);
  }
  std::map<std::int64_t, core::CallResult> results;
  for (auto& [id, f] : futures) {
    if (f.wait_for(std::chrono::seconds(2)) == std::future_status::ready) results.emplace(id, f.get());
  }
  return results;
}

}  // namespace

// Both recorded clients ran with delta off.
core::SessionOptions no_delta() {
  core::SessionOptions o;
  o.delta = false;
  return o;
}

TEST(Replay, QlikCoreCorectlTraffic) {
  FakeEngine e(no_delta());
  e.open();
  auto lines = read_traffic("traffic-qlik-core-corectl.golden");
  ASSERT_EQ(lines.size(), 7u);
  ASSERT_FALSE(lines[0].sent);
  // Frames arrive on the session as soon as the socket opens: OnConnected first.
  std::vector<std::string> notifications;
  Counter changed;
  auto results = replay(e, lines);
  auto hist = e.session->notification_history();
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(hist[0].method, "OnConnected");
  EXPECT_EQ(hist[0].params.at("qSessionState").as_string(), "SESSION_CREATED");

  ASSERT_EQ(results.count(1), 1u);
  const auto& r1 = results[1];
  EXPECT_EQ(r1.error.kind, core::ErrorKind::engine);
  EXPECT_EQ(r1.error.code, 1007);
  EXPECT_EQ(r1.error.name, "LOCERR_APP_INVALID");
  EXPECT_EQ(r1.error.parameter, "No active document");

  const auto& r2 = results[2];
  ASSERT_TRUE(r2.ok());
  ASSERT_TRUE(r2.object);
  EXPECT_EQ(r2.object->handle(), 1);
  EXPECT_EQ(r2.object->type(), "Doc");
  EXPECT_EQ(r2.object->generic_id(), "/apps/TestTrafficFlag.qvf");
  EXPECT_FALSE(r2.object->valid()) << "never fetched";

  const auto& r3 = results[3];
  ASSERT_TRUE(r3.ok());
  EXPECT_NE(std::string(r3.result.at("qScript").as_string()).find("SET ThousandSep"), std::string::npos);

  // change:[1] came with the OpenDoc answer for a handle never fetched: it is no valid-to-invalid edge. A
  // listener added now is told once, at once, that the never-fetched doc has data to fetch; nothing more.
  r2.object->on_changed([&] { changed.add(); });
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 1);
}

TEST(Replay, QlikCloudEnigmaGoTraffic) {
  FakeEngine e(no_delta());
  e.open();
  auto lines = read_traffic("traffic-qlik-cloud-enigma-go.log");
  ASSERT_EQ(lines.size(), 6u);
  // The last line (DoReload) has no recorded answer.
  lines.pop_back();
  auto results = replay(e, lines);
  const auto& r1 = results[1];
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1.object->type(), "Doc");
  EXPECT_EQ(r1.object->generic_id(), "SessionApp_9ff821c1-28ca-4b23-9ad5-1f2e6606f475");
  const auto& r2 = results[2];
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2.result.as_object().empty()) << "SetScript answers result:{}";
}
