// Session rules over the in-memory transport: correlation, errors, handles, change tracking, delta,
// cancellation, timeouts, disconnects, notifications, watch, poll delivery.
#include "support/fake_engine.hpp"

#include "rpc/frame.hpp"

#include <atomic>
#include <set>
#include <thread>

using namespace qix;
using namespace qix::test;
using core::ErrorKind;

TEST(Session, RequestIdsAreKnownAtOnceAndIncrease) {
  FakeEngine e;
  e.open();
  auto a = e.session->call(-1, "EngineVersion", "[]", {}, nullptr);
  auto b = e.session->call(-1, "EngineVersion", "[]", {}, nullptr);
  EXPECT_GT(a, 0);
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(e.next().id, a);
  EXPECT_EQ(e.next().id, b);
}

TEST(Session, FrameHasJsonRpcShape) {
  FakeEngine e;
  e.open();
  e.session->call(-1, "OpenDoc", R"({"qDocName":"x"})", {}, nullptr);
  auto r = e.next();
  auto& o = r.raw.as_object();
  EXPECT_EQ(o.at("jsonrpc").as_string(), "2.0");
  EXPECT_EQ(r.method, "OpenDoc");
  EXPECT_EQ(r.handle, -1);
  EXPECT_TRUE(r.params.is_object());
  EXPECT_FALSE(r.delta) << "OpenDoc has only qReturn: never delta";
}

TEST(Session, OutOfOrderResponsesMatchById) {
  FakeEngine e;
  e.open();
  auto f1 = e.call(-1, "A");
  auto f2 = e.call(-1, "B");
  auto f3 = e.call(-1, "C");
  auto r1 = e.next(), r2 = e.next(), r3 = e.next();
  e.reply(r3.id, R"({"qReturn":"c"})");
  e.reply(r1.id, R"({"qReturn":"a"})");
  e.reply(r2.id, R"({"qReturn":"b"})");
  EXPECT_EQ(f1.get().result.at("qReturn").as_string(), "a");
  EXPECT_EQ(f2.get().result.at("qReturn").as_string(), "b");
  EXPECT_EQ(f3.get().result.at("qReturn").as_string(), "c");
}

TEST(Session, EngineErrorKeepsCodeParameterMessageAndLocerrName) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "GetActiveDoc");
  e.reply_error(e.next().id, 1007, "No active document", "App invalid");
  auto r = f.get();
  ASSERT_EQ(r.error.kind, ErrorKind::engine);
  EXPECT_EQ(r.error.code, 1007);
  EXPECT_EQ(r.error.name, "LOCERR_APP_INVALID");
  EXPECT_EQ(r.error.parameter, "No active document");
  EXPECT_EQ(r.error.message, "App invalid");
  EXPECT_FALSE(r.error.retriable());
}

TEST(Session, Code15IsRetriable) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "X");
  e.reply_error(e.next().id, 15, "", "Request aborted");
  auto r = f.get();
  EXPECT_EQ(r.error.name, "LOCERR_GENERIC_ABORTED");
  EXPECT_TRUE(r.error.retriable());
}

TEST(Session, ObjectReferenceBecomesProxyAndSameHandleSameProxy) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc(1);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->handle(), 1);
  EXPECT_EQ(doc->type(), "Doc");
  EXPECT_EQ(doc->generic_id(), "demo");
  EXPECT_EQ(e.session->doc(), doc);
  auto f = e.call(-1, "GetActiveDoc");
  e.reply(e.next().id, R"({"qReturn":{"qType":"Doc","qHandle":1,"qGenericId":"demo"}})");
  EXPECT_EQ(f.get().object, doc);
  auto f2 = e.call(1, "GetObject", R"(["x"])");
  e.reply(e.next().id,
          R"({"qReturn":{"qType":"GenericObject","qHandle":2,"qGenericId":"x","qGenericType":"barchart"}})");
  auto obj = f2.get().object;
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->handle(), 2);
  EXPECT_EQ(obj->generic_type(), "barchart");
  EXPECT_EQ(e.session->object(2), obj);
}

TEST(Session, NullHandleMeansNotFound) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto f = e.call(1, "GetObject", R"(["missing"])");
  e.reply(e.next().id, R"({"qReturn":{"qType":null,"qHandle":null}})");
  auto r = f.get();
  EXPECT_EQ(r.error.kind, ErrorKind::not_found);
  EXPECT_FALSE(r.object);
}

TEST(Session, CreateSessionAppFillsGenericIdFromSessionAppId) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "CreateSessionApp");
  e.reply(e.next().id, R"({"qReturn":{"qType":"Doc","qHandle":1},"qSessionAppId":"SessionApp_9ff8"})",
          R"(,"change":[1])");
  auto r = f.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.object->generic_id(), "SessionApp_9ff8");
  EXPECT_EQ(r.result.at("qReturn").at("qGenericId").as_string(), "SessionApp_9ff8");
}

TEST(Session, OneDocPerSession) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto r = e.call(-1, "OpenDoc", R"(["other"])").get();
  EXPECT_EQ(r.error.kind, ErrorKind::invalid_argument);
  EXPECT_NE(r.error.message.find("one app per session"), std::string::npos);
  auto r2 = e.call(-1, "CreateSessionApp").get();
  EXPECT_EQ(r2.error.kind, ErrorKind::invalid_argument);
}

TEST(Session, NewHandleInChangeIsNotReportedAsChanged) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc();  // its OpenDoc answer listed the new handle in `change`
  EXPECT_FALSE(doc->valid());
  // A fetch in flight: a listener added now is not told at once (the fetch will make the data valid).
  auto fetch = e.call(1, "GetAppLayout");
  auto req = e.next();
  Counter changed;
  doc->on_changed([&] { changed.add(); });
  e.reply(req.id, R"({"qLayout":{}})");
  ASSERT_TRUE(fetch.get().ok());
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 0) << "the creation's change:[1] is no valid-to-invalid edge";
  EXPECT_TRUE(doc->valid());
}

TEST(Session, ChangedFiresOnValidToInvalidEdgeOnly) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc();
  ASSERT_TRUE(e.answered(1, "GetAppLayout", R"({"qLayout":{"qTitle":"demo"}})").ok());
  Counter changed;
  doc->on_changed([&] { changed.add(); });  // after the fetch: only edges are reported
  EXPECT_TRUE(doc->valid());
  ASSERT_TRUE(doc->layout().has_value());
  e.push_change("[1]");
  e.push_change("[1]");
  e.reply(999999, "{}");  // unknown id: ignored, must not disturb
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 1);
  EXPECT_FALSE(doc->valid());
  // Fetch again: valid; the next change is a new edge.
  e.answered(1, "GetAppLayout", R"({"qLayout":{"qTitle":"demo"}})");
  EXPECT_TRUE(doc->valid());
  e.push_change("[1]");
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 2);
}

TEST(Session, ChangeAppliedBeforeTheCallThatCarriedItCompletes) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc();
  e.answered(1, "GetAppLayout", R"({"qLayout":{}})");
  std::atomic<bool> valid_seen{true};
  std::promise<void> done;
  e.session->call(1, "SelectSomething", "[]", {}, [&](core::CallResult&) {
    valid_seen = doc->valid();
    done.set_value();
  });
  e.reply(e.next().id, R"({"qReturn":true})", R"(,"change":[1])");
  done.get_future().wait();
  EXPECT_FALSE(valid_seen.load());
}

TEST(Session, ChangeDuringInflightFetchIsReportedAndKeepsObjectInvalid) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc();
  auto f = e.call(1, "GetAppLayout");
  auto req = e.next();
  Counter changed;
  doc->on_changed([&] { changed.add(); });  // while the fetch is in flight: not told at once
  e.push_change("[1]");                     // arrives while the fetch is in flight
  e.reply(req.id, R"({"qLayout":{"stale":true}})");
  ASSERT_TRUE(f.get().ok());
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 1);
  EXPECT_FALSE(doc->valid()) << "the layout in flight was stale";
}

TEST(Session, SuspendArrayInvalidatesAndMarksSuspended) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc();
  e.answered(1, "GetAppLayout", R"({"qLayout":{}})");
  Counter changed;
  doc->on_changed([&] { changed.add(); });
  e.send(R"({"jsonrpc":"2.0","suspend":[1]})");
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 1);
  EXPECT_TRUE(doc->suspended());
  EXPECT_FALSE(doc->valid());
  e.answered(1, "GetAppLayout", R"({"qLayout":{}})");
  EXPECT_FALSE(doc->suspended());
  EXPECT_TRUE(doc->valid());
}

TEST(Session, CloseArrayClosesProxyAndLaterCallsFail) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto f = e.call(1, "CreateSessionObject", R"([{"qInfo":{"qType":"x"}}])");
  e.reply(e.next().id, R"({"qReturn":{"qType":"GenericObject","qHandle":2,"qGenericId":"o1"}})",
          R"(,"change":[2])");
  auto obj = f.get().object;
  ASSERT_TRUE(obj);
  Counter closed;
  obj->on_closed([&] { closed.add(); });
  // A call in flight on the object when its handle closes still completes with the engine's answer.
  auto inflight = e.call(2, "GetInfo");
  auto inflight_req = e.next();
  auto destroy = e.call(1, "DestroySessionObject", R"(["o1"])");
  e.reply(e.next().id, R"({"qSuccess":true})", R"(,"close":[2])");
  ASSERT_TRUE(destroy.get().ok());
  EXPECT_TRUE(obj->closed());
  e.reply(inflight_req.id, R"({"qInfo":{"qId":"o1"}})");
  EXPECT_TRUE(inflight.get().ok());
  auto later = e.call(2, "GetLayout").get();
  EXPECT_EQ(later.error.kind, ErrorKind::invalid_argument) << "handle 2 is no longer open";
  auto later2 = obj->call_sync("GetLayout", "[]");
  EXPECT_EQ(later2.error.kind, ErrorKind::closed) << "a zombie proxy answers closed";
  drain_events(*e.session);
  EXPECT_EQ(closed.get(), 1);
  EXPECT_EQ(e.session->object(2), nullptr);
}

TEST(Session, DeltaRequestedOnlyForEligibleMethodsAndApplied) {
  FakeEngine e;
  e.open();
  e.open_doc();
  e.create_object();
  auto l1 = e.call(2, "GetLayout");
  auto req = e.next();
  EXPECT_TRUE(req.delta);
  e.reply_delta(req.id, R"({"qLayout":[{"op":"add","path":"/","value":{"a":1,"b":{"c":[1,2,3]}}}]})");
  auto r1 = l1.get();
  ASSERT_TRUE(r1.ok()) << r1.error.describe();
  EXPECT_EQ(json::serialize(r1.result.at("qLayout")), R"({"a":1,"b":{"c":[1,2,3]}})");
  auto l2 = e.call(2, "GetLayout");
  e.reply_delta(e.next().id, R"({"qLayout":[{"op":"replace","path":"/b/c/1","value":20}]})");
  EXPECT_EQ(json::serialize(l2.get().result.at("qLayout")), R"({"a":1,"b":{"c":[1,20,3]}})");
  auto l3 = e.call(2, "GetLayout");
  e.reply_delta(e.next().id, R"({"qLayout":[]})");
  EXPECT_EQ(json::serialize(l3.get().result.at("qLayout")), R"({"a":1,"b":{"c":[1,20,3]}})");
  // Per-call override off.
  core::CallOptions off;
  off.delta = false;
  auto l4 = e.call(2, "GetLayout", "[]", off);
  auto r4 = e.next();
  EXPECT_FALSE(r4.delta);
  e.reply(r4.id, R"({"qLayout":{"full":true}})");
  EXPECT_TRUE(l4.get().result.at("qLayout").at("full").as_bool());
}

TEST(Session, NoDeltaForMethodsThatReturnObjects) {
  FakeEngine e;
  e.open();
  e.call(-1, "CreateSessionApp");
  EXPECT_FALSE(e.next().delta) << "qSessionAppId is its one out value, but it hands out a handle";
  e.call(-1, "GetDocList");
  EXPECT_TRUE(e.next().delta) << "qDocList: data";
  // Decided per method also when one object's calls alternate (the object keeps its last method's answer).
  e.call(-1, "GetActiveDoc");
  EXPECT_FALSE(e.next().delta) << "GetActiveDoc hands out a handle";
  e.call(-1, "GetDocList");
  EXPECT_TRUE(e.next().delta);
  e.call(-1, "GetDocList");
  EXPECT_TRUE(e.next().delta);
  e.call(-1, "GetActiveDoc");
  EXPECT_FALSE(e.next().delta);
}

TEST(Session, DeltaOffForTheSession) {
  core::SessionOptions o;
  o.delta = false;
  FakeEngine e(o);
  e.open();
  e.open_doc();
  e.call(1, "GetAppLayout");
  EXPECT_FALSE(e.next().delta);
  core::CallOptions on;
  on.delta = true;
  e.call(1, "GetAppLayout", "[]", on);
  EXPECT_TRUE(e.next().delta);
}

TEST(Session, BadDeltaPatchIsAnErrorAndDropsTheBase) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto l1 = e.call(1, "GetAppLayout");
  e.reply_delta(e.next().id, R"({"qLayout":[{"op":"add","path":"/","value":{"a":1}}]})");
  ASSERT_TRUE(l1.get().ok());
  auto l2 = e.call(1, "GetAppLayout");
  e.reply_delta(e.next().id, R"({"qLayout":[{"op":"replace","path":"/nope/deeper","value":2}]})");
  auto r2 = l2.get();
  EXPECT_EQ(r2.error.kind, ErrorKind::protocol);
  EXPECT_NE(r2.error.message.find("delta"), std::string::npos);
  // The base is gone: a fresh full value starts again.
  auto l3 = e.call(1, "GetAppLayout");
  e.reply_delta(e.next().id, R"({"qLayout":[{"op":"add","path":"/","value":{"b":2}}]})");
  EXPECT_EQ(json::serialize(l3.get().result.at("qLayout")), R"({"b":2})");
}

// Callers taking text (CallOptions::text_result, as the C API does) get delta answers patched as text: no
// DOM in the result, the same document as a DOM caller gets, whichever kind of caller came before; operations
// the text patcher leaves to the DOM (move, many operations) give the same document; a bad patch is an error
// that drops the base, as for DOM callers.
TEST(Session, TextCallersGetDeltaAnswersPatchedAsText) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object();
  core::CallOptions text;
  text.text_result = true;
  auto layout_of = [](const core::CallResult& r) {
    EXPECT_TRUE(r.ok()) << r.error.describe();
    if (!r.text.empty()) {
      EXPECT_TRUE(r.result.is_null()) << "text only";
      EXPECT_NE(r.text_value_at, std::string::npos);
      auto whole = json::parse(r.text);
      EXPECT_EQ(json::parse(r.text.substr(r.text_value_at, r.text_value_size)), whole.at("qLayout"));
      return json::serialize(whole.at("qLayout"));
    }
    return json::serialize(r.result.at("qLayout"));
  };
  auto fetch = [&](const std::string& patch, const core::CallOptions& opts) {
    auto f = e.call(2, "GetLayout", "[]", opts);
    e.reply_delta(e.next().id, R"({"qLayout":)" + patch + "}");
    return f.get();
  };
  auto r1 = fetch(R"([{"op":"add","path":"/","value":{"a":1,"b":{"c":[1,2,3]},"s":"x"}}])", text);
  EXPECT_FALSE(r1.text.empty());
  EXPECT_EQ(layout_of(r1), R"({"a":1,"b":{"c":[1,2,3]},"s":"x"})");
  auto r2 =
      fetch(R"([{"op":"replace","path":"/b/c/1","value":20},{"op":"add","path":"/d","value":"n"}])", text);
  EXPECT_EQ(layout_of(r2), R"({"a":1,"b":{"c":[1,20,3]},"s":"x","d":"n"})");
  EXPECT_EQ(json::serialize(*obj->layout()), R"({"a":1,"b":{"c":[1,20,3]},"s":"x","d":"n"})")
      << "the object's layout follows the text";
  // A DOM caller next: the base kept as text is taken as a DOM, and back.
  auto r3 = fetch(R"([{"op":"remove","path":"/s"}])", {});
  EXPECT_FALSE(r3.result.is_null());
  EXPECT_EQ(layout_of(r3), R"({"a":1,"b":{"c":[1,20,3]},"d":"n"})");
  auto r4 = fetch(R"([{"op":"move","from":"/d","path":"/e"}])", text);  // left to the DOM patcher
  EXPECT_EQ(layout_of(r4), R"({"a":1,"b":{"c":[1,20,3]},"e":"n"})");
  std::string many = "[";
  for (int k = 0; k < 40; ++k)
    many += (k ? "," : "") + std::string(R"({"op":"add","path":"/b/c/-","value":)") + std::to_string(k) + "}";
  auto r5 = fetch(many + "]", text);  // more operations than the text patcher takes
  auto c5 = json::parse(layout_of(r5)).at("b").at("c").as_array();
  ASSERT_EQ(c5.size(), 43u);
  EXPECT_EQ(c5.back(), 39);
  auto r6 = fetch(R"([{"op":"replace","path":"/nope/deeper","value":2}])", text);
  EXPECT_EQ(r6.error.kind, ErrorKind::protocol);
  EXPECT_NE(r6.error.message.find("delta"), std::string::npos);
  auto r7 = fetch(R"([{"op":"add","path":"/","value":{"fresh":true}}])", text);
  EXPECT_EQ(layout_of(r7), R"({"fresh":true})") << "the base was dropped: a full value starts again";
}

// A caller taking text gets the result as the engine wrote it, with no DOM; its object reference is still
// adopted (from qReturn's text alone).
TEST(Session, TextCallersGetTheTextAndObjectsWithoutADom) {
  FakeEngine e;
  e.open();
  e.open_doc();
  core::CallOptions text;
  text.text_result = true;
  auto f = e.call(1, "CreateSessionObject", R"([{"qInfo":{"qType":"x"}}])", text);
  e.reply(e.next().id, R"({"qReturn":{"qType":"GenericObject","qHandle":5,"qGenericId":"t1"},"qInfo":{}})");
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.error.describe();
  EXPECT_TRUE(r.result.is_null());
  EXPECT_EQ(r.text.substr(r.text_value_at, r.text_value_size),
            R"({"qType":"GenericObject","qHandle":5,"qGenericId":"t1"})");
  ASSERT_TRUE(r.object);
  EXPECT_EQ(r.object->handle(), 5);
  EXPECT_EQ(r.object->generic_id(), "t1");
  // Keys the text scan cannot read exactly: the DOM comes along.
  auto g = e.call(-1, "EngineVersion", "[]", text);
  e.reply(e.next().id, R"({"q\u0056ersion":{"qComponentVersion":"1"}})");
  auto v = g.get();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v.result.is_object());
  EXPECT_TRUE(v.result.as_object().contains("qVersion"));
}

// The count behind link_frames' lock-free DOM decision: calls taking a DOM (the core's default) and the
// session's own steps are counted while pending and given back however they end (answer, cancel and the
// CancelRequest's answer, close); text calls never count. A count left behind would cost every later answer a
// second lock; one missing would parse a DOM under the lock (both still correct).
TEST(Session, CallsThatNeedADomAreCountedUntilTheyEnd) {
  FakeEngine e;
  e.open();
  EXPECT_EQ(e.session->dom_pending_calls(), 0);
  core::CallOptions text;
  text.text_result = true;
  auto t = e.call(-1, "EngineVersion", "[]", text);
  auto treq = e.next();
  EXPECT_EQ(e.session->dom_pending_calls(), 0) << "a text call";
  auto d = e.call(-1, "EngineVersion");
  auto dreq = e.next();
  EXPECT_EQ(e.session->dom_pending_calls(), 1) << "a DOM call";
  // Answers whose results need a DOM from the frame alone (escaped key) or not, while the count is 0 or not.
  e.reply(treq.id, R"({"qVersion":{"qComponent\u0056ersion":"12"}})");
  e.reply(dreq.id, R"({"qVersion":{"qComponentVersion":"12"}})");
  auto tr = t.get();
  auto dr = d.get();
  ASSERT_TRUE(tr.ok());
  ASSERT_TRUE(dr.ok());
  EXPECT_EQ(dr.result.at("qVersion").at("qComponentVersion").as_string(), "12");
  EXPECT_EQ(json::parse(tr.text).at("qVersion").at("qComponentVersion").as_string(), "12");
  EXPECT_EQ(e.session->dom_pending_calls(), 0) << "answered";
  // A text call answered while the count is 0, its result with an escaped key: read right without the lock.
  auto t2 = e.call(-1, "EngineVersion", "[]", text);
  e.reply(e.next().id, R"({"q\u0056ersion":{"a":[1,2]}})");
  auto t2r = t2.get();
  ASSERT_TRUE(t2r.ok());
  EXPECT_EQ(json::serialize(json::parse(t2r.text)), R"({"qVersion":{"a":[1,2]}})");
  // Cancelled: the call and its CancelRequest (the session's own, counted) until the CancelRequest's answer.
  auto c = std::make_shared<std::promise<core::CallResult>>();
  auto cid = e.session->call(-1, "Slow", "[]", {}, [c](core::CallResult& r) { c->set_value(std::move(r)); });
  e.next();
  ASSERT_TRUE(e.session->cancel(cid));
  auto creq = e.next();
  EXPECT_EQ(c->get_future().get().error.kind, ErrorKind::cancelled);
  e.reply_error(cid, 15, "", "Request aborted");
  e.reply(creq.id, "{}");
  EXPECT_EQ(e.session->dom_pending_calls(), 0) << "cancelled";
  // Closed with calls pending.
  auto left = e.call(-1, "Slow");
  e.next();
  EXPECT_EQ(e.session->dom_pending_calls(), 1);
  e.session->close();
  EXPECT_EQ(left.get().error.kind, ErrorKind::closed);
  EXPECT_EQ(e.session->dom_pending_calls(), 0) << "closed";
}

TEST(Session, CancelSendsCancelRequestAndReleasesWaiterAtOnce) {
  FakeEngine e;
  e.open();
  std::vector<std::string> diags;
  std::mutex dm;
  e.session->on_diagnostic([&](const core::Diagnostic& d) {
    std::lock_guard l(dm);
    diags.push_back(d.message);
  });
  auto p = std::make_shared<std::promise<core::CallResult>>();
  auto id = e.session->call(-1, "Slow", "[]", {}, [p](core::CallResult& r) { p->set_value(std::move(r)); });
  e.next();
  EXPECT_TRUE(e.session->cancel(id));
  auto r = p->get_future().get();
  EXPECT_EQ(r.error.kind, ErrorKind::cancelled);
  auto cancel = e.next();
  EXPECT_EQ(cancel.method, "CancelRequest");
  EXPECT_EQ(cancel.handle, -1);
  EXPECT_EQ(json::serialize(cancel.params), "[" + std::to_string(id) + "]");
  EXPECT_FALSE(e.session->cancel(id)) << "not pending any more";
  e.reply_error(id, 15, "", "Request aborted");  // the engine's late answer: consumed, tagged
  e.reply(cancel.id, "{}");
  drain_events(*e.session);
  std::lock_guard l(dm);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].find("cancelled"), std::string::npos);
  EXPECT_EQ(e.session->pending_calls(), 0u);
}

TEST(Session, PerCallTimeout) {
  FakeEngine e;
  e.open();
  core::CallOptions o;
  o.timeout = std::chrono::milliseconds(50);
  auto f = e.call(-1, "Never", "[]", o);
  auto r = f.get();
  EXPECT_EQ(r.error.kind, ErrorKind::timeout);
  EXPECT_TRUE(r.error.retriable());
  // The engine is asked to stop working on it; its late answer is consumed.
  auto call = e.next();
  auto cancel = e.next();
  EXPECT_EQ(cancel.method, "CancelRequest");
  EXPECT_EQ(cancel.handle, -1);
  EXPECT_EQ(json::serialize(cancel.params), "[" + std::to_string(call.id) + "]");
  e.reply_error(call.id, 15, "", "Request aborted");
  e.reply(cancel.id, "{}");
  drain_events(*e.session);
  EXPECT_EQ(e.session->pending_calls(), 0u);
}

TEST(Session, DisconnectFailsThousandPendingCallsExactlyOnce) {
  FakeEngine e;
  e.open();
  std::atomic<int> completions{0};
  std::atomic<int> lost{0};
  Counter done;
  for (int i = 0; i < 1000; ++i) {
    e.session->call(-1, "EngineVersion", "[]", {}, [&](core::CallResult& r) {
      completions++;
      if (r.error.kind == ErrorKind::connection_lost) lost++;
      done.add();
    });
  }
  ASSERT_TRUE(e.transport->wait_sent(1000, 5s));
  core::CloseInfo info;
  info.code = 1006;
  info.error = core::Error::make(ErrorKind::connection_lost, "connection reset by peer");
  e.transport->remote_close(info);
  ASSERT_TRUE(done.wait_for(1000));
  drain_events(*e.session);  // a second completion of any call would have run by now
  EXPECT_EQ(completions.load(), 1000);
  EXPECT_EQ(lost.load(), 1000);
  EXPECT_EQ(e.session->state(), core::SessionState::closed);
  auto after = e.call(-1, "EngineVersion").get();
  EXPECT_EQ(after.error.kind, ErrorKind::closed);
}

TEST(Session, CloseCodeAndFatalProxyNotificationBecomeTheCloseReason) {
  FakeEngine e;
  e.open();
  std::promise<core::CloseInfo> closed;
  e.session->on_state([&](core::SessionState s, const core::CloseInfo* info) {
    if (s == core::SessionState::closed) closed.set_value(*info);
  });
  auto pending = e.call(-1, "X");
  e.send(R"({"jsonrpc":"2.0","method":"OnSessionTimedOut","params":{"severity":"fatal","message":"idle"}})");
  core::CloseInfo info;
  info.code = 4001;
  info.reason = "";
  e.transport->remote_close(info);
  auto got = closed.get_future().get();
  EXPECT_EQ(got.code, 4001);
  EXPECT_NE(got.reason.find("OnSessionTimedOut"), std::string::npos);
  auto r = pending.get();
  EXPECT_EQ(r.error.kind, ErrorKind::connection_lost);
  EXPECT_NE(r.error.message.find("4001"), std::string::npos);
  EXPECT_NE(r.error.message.find("idle timeout"), std::string::npos);
}

TEST(Session, ClientCloseFailsPendingWithClosed) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "X");
  e.next();
  e.session->close();
  EXPECT_EQ(f.get().error.kind, ErrorKind::closed);
  e.session->close();  // twice is fine
}

TEST(Session, NotificationsByNameWithHistoryForLateSubscribers) {
  FakeEngine e;
  e.open();
  e.send(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})");
  Counter all, connected;
  std::string state;
  e.session->on_notification("OnConnected", [&](const core::Notification& n) {
    state = std::string(n.params.at("qSessionState").as_string());
    connected.add();
  });
  e.session->on_notification(
      "", [&](const core::Notification&) { all.add(); }, false);
  e.send(R"({"jsonrpc":"2.0","method":"OnAuthenticationInformation","params":{"mustAuthenticate":false}})");
  drain_events(*e.session);
  EXPECT_EQ(connected.get(), 1);
  EXPECT_EQ(state, "SESSION_CREATED");
  EXPECT_EQ(all.get(), 1) << "no replay asked: only the later notification";
  EXPECT_EQ(e.session->notification_history().size(), 2u);
}

TEST(Session, MalformedAndUnknownFramesAreReportedNotFatal) {
  FakeEngine e;
  e.open();
  std::vector<core::Diagnostic::Kind> kinds;
  std::mutex m;
  e.session->on_diagnostic([&](const core::Diagnostic& d) {
    std::lock_guard l(m);
    kinds.push_back(d.kind);
  });
  // Once the peer has shown that it speaks QIX (its greeting), a bad frame is a diagnostic, never fatal.
  e.send(R"({"jsonrpc":"2.0","method":"OnConnected","params":{"qSessionState":"SESSION_CREATED"}})");
  e.send("{not json");
  e.send("[1,2]");
  e.send(R"({"jsonrpc":"2.0","id":"x","result":{}})");
  e.reply(424242, "{}");
  auto f = e.call(-1, "EngineVersion");
  e.reply(e.next().id, R"({"qVersion":{"qComponentVersion":"12.2528.0"}})");
  EXPECT_TRUE(f.get().ok());
  drain_events(*e.session);
  std::lock_guard l(m);
  ASSERT_EQ(kinds.size(), 4u);
  EXPECT_EQ(kinds[0], core::Diagnostic::Kind::malformed_frame);
  EXPECT_EQ(kinds[1], core::Diagnostic::Kind::malformed_frame);
  EXPECT_EQ(kinds[2], core::Diagnostic::Kind::malformed_frame);
  EXPECT_EQ(kinds[3], core::Diagnostic::Kind::unknown_id);
}

TEST(Session, NanAndInfinityStringsArriveFaithfully) {
  FakeEngine e;
  e.open();
  auto f = e.call(-1, "X");
  e.reply(e.next().id, R"({"qNum":"NaN","qMax":"Infinity","qMin":"-Infinity"})");
  auto r = f.get();
  EXPECT_EQ(r.result.at("qNum").as_string(), "NaN");
  EXPECT_EQ(r.result.at("qMax").as_string(), "Infinity");
  EXPECT_EQ(r.result.at("qMin").as_string(), "-Infinity");
}

TEST(Session, InvalidUsesAreClearErrors) {
  FakeEngine e;
  e.open();
  EXPECT_EQ(e.call(77, "GetLayout").get().error.kind, ErrorKind::invalid_argument);
  EXPECT_EQ(e.call(-1, "").get().error.kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(core::Session::validate_params("")) << "empty params mean []";
  EXPECT_FALSE(core::Session::validate_params("[1]"));
  EXPECT_FALSE(core::Session::validate_params(R"({"a":1})"));
  EXPECT_EQ(core::Session::validate_params("{").kind, ErrorKind::invalid_argument);
  EXPECT_EQ(core::Session::validate_params("42").kind, ErrorKind::invalid_argument);
}

// validate_params checks params without building them: it must accept and refuse exactly what the parser
// does, with the parser's message, and take only arrays and objects (whitespace around them allowed).
TEST(Session, ParamsAreCheckedExactlyAsTheParserReadsThem) {
  for (std::string_view text : {"[]",
                                " [ ] ",
                                "\n{}\t",
                                R"([{"qPath":"/qHyperCubeDef","qPages":[{"qTop":0,"qHeight":50}]}])",
                                R"(["\u00e9\ud83d\ude00"])",
                                "[1e400]",
                                "[-0.0]",
                                "{\"a\":1,\"a\":2}",
                                "[1] [2]",
                                "[1,]",
                                "{\"a\"}",
                                "[\"\xff\"]",
                                "[\"\\x\"]",
                                "[01]",
                                "[",
                                "]",
                                " ",
                                "null",
                                "\"s\"",
                                "true",
                                "1",
                                "[1]x",
                                "\t"}) {
    std::string parse_error;
    auto parsed = core::parse_json(text, &parse_error);
    core::Error e = core::Session::validate_params(text);
    if (!parsed) {
      EXPECT_EQ(e.kind, ErrorKind::invalid_argument) << text;
      EXPECT_EQ(e.message, "params are not valid JSON: " + parse_error) << text;
    } else if (parsed->is_array() || parsed->is_object()) {
      EXPECT_FALSE(e) << text << ": " << e.message;
    } else {
      EXPECT_EQ(e.kind, ErrorKind::invalid_argument) << text;
      EXPECT_EQ(e.message, "params must be a JSON array (by position) or object (by name)") << text;
    }
  }
  std::string deep(40, '[');
  deep += std::string(40, ']');
  EXPECT_EQ(core::Session::validate_params(deep).kind, ErrorKind::invalid_argument)
      << "nested deeper than the parser allows";
}

TEST(Session, BlockingCallFromCallbackFailsWithBusyInsteadOfDeadlocking) {
  FakeEngine e;
  e.open();
  std::promise<core::Error> inner;
  e.session->call(-1, "X", "[]", {},
                  [&](core::CallResult&) { inner.set_value(e.session->call_sync(-1, "Y", "[]").error); });
  e.reply(e.next().id, "{}");
  EXPECT_EQ(inner.get_future().get().kind, ErrorKind::busy);
}

TEST(Session, ThrowingListenerIsReportedAndDeliveryGoesOn) {
  FakeEngine e;
  e.open();
  Counter diag;
  e.session->on_diagnostic([&](const core::Diagnostic& d) {
    if (d.kind == core::Diagnostic::Kind::listener_exception) diag.add();
  });
  e.session->call(-1, "X", "[]", {}, [](core::CallResult&) { throw std::runtime_error("boom"); });
  e.reply(e.next().id, "{}");
  auto f = e.call(-1, "Y");
  e.reply(e.next().id, "{}");
  EXPECT_TRUE(f.get().ok());
  EXPECT_TRUE(diag.wait_for(1));
}

TEST(Session, WatchCoalescesABurstOfInvalidations) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object();
  Counter layouts;
  std::atomic<int> version{0};
  obj->watch([&](const core::CallResult& r) {
    if (r.ok()) version = static_cast<int>(r.result.at("qLayout").at("v").to_number<int>());
    layouts.add();
  });
  // The first fetch starts at once.
  auto first = e.next();
  EXPECT_EQ(first.method, "GetLayout");
  e.reply(first.id, R"({"qLayout":{"v":1}})");
  ASSERT_TRUE(layouts.wait_for(1));
  // A burst of 100 invalidations while the refetch is in flight.
  e.push_change("[2]");
  auto refetch = e.next();
  EXPECT_EQ(refetch.method, "GetLayout");
  for (int i = 0; i < 99; ++i) e.push_change("[2]");
  e.reply(refetch.id, R"({"qLayout":{"v":2}})");
  auto last = e.next();  // stale answer: fetched once more
  EXPECT_EQ(last.method, "GetLayout");
  e.reply(last.id, R"({"qLayout":{"v":3}})");
  ASSERT_TRUE(layouts.wait_for(2));
  EXPECT_EQ(next_method_after_quiet(e), "QuietMarker") << "no fetch after the stale answer's refetch";
  EXPECT_EQ(e.transport->sent_count(), 6u) << "OpenDoc, CreateSessionObject, three GetLayouts and the marker";
  EXPECT_EQ(version.load(), 3);
  EXPECT_EQ(layouts.get(), 2) << "the stale layout is not delivered";
}

TEST(Session, WatchThrottleMakesABurstCostOneMoreFetch) {
  core::SessionOptions o;
  o.watch_min_interval = 300ms;
  FakeEngine e(o);
  e.open();
  e.open_doc();
  auto obj = e.create_object();
  Counter layouts;
  std::atomic<int> version{0};
  obj->watch([&](const core::CallResult& r) {
    if (r.ok()) version = static_cast<int>(r.result.at("qLayout").at("v").to_number<int>());
    layouts.add();
  });
  auto first = e.next();  // the first fetch is never throttled
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(first.method, "GetLayout");
  e.reply(first.id, R"({"qLayout":{"v":1}})");
  ASSERT_TRUE(layouts.wait_for(1));
  // A burst of 100 invalidations spread over ~100 ms, well within the interval.
  for (int i = 0; i < 100; ++i) {
    e.push_change("[2]");
    if (i % 10 == 0) std::this_thread::sleep_for(10ms);
  }
  auto second = e.next();  // one fetch, when the interval ends
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(second.method, "GetLayout");
  EXPECT_GE(waited, 250ms) << "the refetch must wait for the interval";
  e.reply(second.id, R"({"qLayout":{"v":2}})");
  ASSERT_TRUE(layouts.wait_for(2));
  EXPECT_EQ(next_method_after_quiet(e), "QuietMarker") << "one fetch for the whole burst";
  EXPECT_EQ(e.transport->sent_count(), 5u) << "OpenDoc, CreateSessionObject, two GetLayouts and the marker";
  EXPECT_EQ(version.load(), 2);
  // Closing the session with a throttled fetch scheduled is harmless: the fetch is dropped with the session.
  // This is the one wait in this file that is not an event: the point is that a timer due after the close
  // (300 ms after the change) sends nothing, so the check has to outlast it.
  e.push_change("[2]");
  e.session->close();
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(e.transport->sent_count(), 5u);
}

TEST(Session, PollDeliveryRunsEventsOnTheHostThread) {
  core::SessionOptions o;
  o.poll_events = true;
  FakeEngine e(o);
  std::promise<core::Error> opened;
  e.session->open([&](const core::Error& err) { opened.set_value(err); });
  e.transport->accept();
  EXPECT_EQ(e.session->poll(1000ms), 1u);
  EXPECT_FALSE(opened.get_future().get());
  std::thread::id cb_thread;
  bool done = false;
  e.session->call(-1, "X", "[]", {}, [&](core::CallResult&) {
    cb_thread = std::this_thread::get_id();
    done = true;
  });
  e.reply(e.next().id, "{}");
  EXPECT_EQ(e.session->poll(1000ms), 1u);
  EXPECT_TRUE(done);
  EXPECT_EQ(cb_thread, std::this_thread::get_id());
  // wake() makes poll return with nothing run, whether it comes before the poll (it is kept) or while the
  // poll waits: neither poll below could otherwise return before its hour is up (CTest's timeout would
  // fail the test).
  e.session->wake();
  EXPECT_EQ(e.session->poll(std::chrono::hours(1)), 0u);
  std::thread waker([&] { e.session->wake(); });
  EXPECT_EQ(e.session->poll(std::chrono::hours(1)), 0u);
  waker.join();
}

TEST(Session, TrafficLogSeesSentAndReceivedFrames) {
  core::SessionOptions o;
  std::mutex m;
  std::vector<std::pair<bool, std::string>> log;
  o.traffic = [&](bool sent, std::string_view f) {
    std::lock_guard l(m);
    log.emplace_back(sent, std::string(f));
  };
  FakeEngine e(o);
  e.open();
  auto f = e.call(-1, "EngineVersion");
  e.reply(e.next().id, "{}");
  f.get();
  drain_events(*e.session);
  std::lock_guard l(m);
  ASSERT_GE(log.size(), 2u);
  EXPECT_TRUE(log[0].first);
  EXPECT_NE(log[0].second.find("EngineVersion"), std::string::npos);
  EXPECT_FALSE(log[1].first);
}

TEST(SessionThreaded, EightThreadsTenThousandCallsEachNoLostOrDuplicated) {
  FakeEngine e;
  // The engine answers from its own thread, in batches, in reverse order within a batch.
  std::mutex qm;
  std::condition_variable qcv;
  std::vector<std::int64_t> queue;
  e.transport->on_send = [&](const std::string& frame) {
    auto id = parse_request(frame).id;
    {
      std::lock_guard l(qm);
      queue.push_back(id);
    }
    qcv.notify_one();
  };
  e.open();
  std::atomic<bool> stop{false};
  std::thread engine([&] {
    while (!stop) {
      std::vector<std::int64_t> ids;
      {
        std::unique_lock l(qm);
        qcv.wait_for(l, 20ms, [&] { return !queue.empty(); });
        ids.swap(queue);
      }
      for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        e.reply(*it, R"({"qReturn":)" + std::to_string(*it) + "}");
      }
    }
  });
  constexpr int kThreads = 8, kCalls = 10000;
  std::vector<std::atomic<int>> hits(kThreads * kCalls + 16);
  std::atomic<int> mismatched{0}, errors{0};
  Counter done;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        auto id = std::make_shared<std::int64_t>(0);
        auto ready = std::make_shared<std::promise<void>>();
        auto fut = ready->get_future().share();
        *id = e.session->call(-1, "Echo", "[]", {}, [&, id, fut](core::CallResult& r) {
          fut.wait();
          if (!r.ok()) {
            errors++;
          } else if (r.result.at("qReturn").to_number<std::int64_t>() != *id || r.id != *id) {
            mismatched++;
          }
          if (r.id > 0 && static_cast<std::size_t>(r.id) < hits.size())
            hits[static_cast<std::size_t>(r.id)]++;
          done.add();
        });
        ready->set_value();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(done.wait_for(kThreads * kCalls, 120s)) << done.get();
  stop = true;
  engine.join();
  drain_events(*e.session);  // a duplicate completion of any call would have run by now
  EXPECT_EQ(done.get(), kThreads * kCalls);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatched.load(), 0);
  int dup = 0;
  for (auto& h : hits) dup += h.load() > 1 ? 1 : 0;
  EXPECT_EQ(dup, 0);
}
