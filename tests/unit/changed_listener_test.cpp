// "changed" for a listener added while the object's data is not current. The engine reports an object in
// `change` only after its layout was computed, so a listener added to a never-fetched (or changed and not
// fetched since) object is told once at once, so that it fetches; from then on each valid-to-invalid edge
// is reported once. The session itself fetches nothing.
#include "support/fake_engine.hpp"

using namespace qix;
using namespace qix::test;

namespace {

std::size_t sent_count(FakeEngine& e) {
  return e.transport->sent().size();
}

}  // namespace

TEST(ChangedListener, ListenerOnNeverFetchedObjectIsToldOnceAtOnceThenEdgesOnly) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object(2);
  std::size_t before = sent_count(e);
  Counter changed;
  obj->on_changed([&] { changed.add(); });
  ASSERT_TRUE(changed.wait_for(1));
  EXPECT_EQ(sent_count(e), before) << "the session fetches nothing itself";
  e.push_change("[2]");  // not fetched since: the engine would not even send this; nothing new to report
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 1);
  ASSERT_TRUE(e.answered(2, "GetLayout", R"({"qLayout":{"v":1}})").ok());
  EXPECT_TRUE(obj->valid());
  e.push_change("[2]");  // a selection after the fetch: the edge, reported once
  e.push_change("[2]");
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 2);
}

TEST(ChangedListener, ListenerOnObjectChangedSinceItsFetchIsToldAtOnce) {
  // Fetched, then changed while nobody listened: a listener added now learns that its data is stale.
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object(2);
  ASSERT_TRUE(e.answered(2, "GetLayout", R"({"qLayout":{}})").ok());
  e.push_change("[2]");
  drain_events(*e.session);
  Counter changed;
  obj->on_changed([&] { changed.add(); });
  ASSERT_TRUE(changed.wait_for(1));
}

TEST(ChangedListener, ListenerAddedAfterAReportedChangeIsToldAtOnceOthersAreNot) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object(2);
  ASSERT_TRUE(e.answered(2, "GetLayout", R"({"qLayout":{}})").ok());
  Counter first, second;
  obj->on_changed([&] { first.add(); });
  e.push_change("[2]");
  ASSERT_TRUE(first.wait_for(1));
  obj->on_changed([&] { second.add(); });  // the data is stale and nobody fetched it
  ASSERT_TRUE(second.wait_for(1));
  drain_events(*e.session);
  EXPECT_EQ(first.get(), 1) << "the earlier listener already heard of this change";
  EXPECT_EQ(second.get(), 1);
}

TEST(ChangedListener, ListenerOnValidObjectOrDuringAFetchIsNotToldAtOnce) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object(2);
  auto user = e.call(2, "GetLayout");
  auto req = e.next();
  Counter changed;
  obj->on_changed([&] { changed.add(); });  // a fetch in flight: its answer makes the data current
  e.reply(req.id, R"({"qLayout":{}})");
  ASSERT_TRUE(user.get().ok());
  obj->on_changed([&] { changed.add(); });  // valid
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 0);
  e.push_change("[2]");
  ASSERT_TRUE(changed.wait_for(2));  // both listeners, once each
  drain_events(*e.session);
  EXPECT_EQ(changed.get(), 2);
}

TEST(ChangedListener, ObjectsWithoutLayoutAreNeverToldAtOnce) {
  FakeEngine e;
  e.open();
  auto doc = e.open_doc();
  auto field_answer = e.call(1, "GetField", R"(["Region"])");
  e.reply(e.next().id, R"({"qReturn":{"qType":"Field","qHandle":3}})");
  auto field = field_answer.get().object;
  ASSERT_TRUE(field);
  auto var_answer = e.call(1, "GetVariable", R"(["v"])");
  e.reply(e.next().id, R"({"qReturn":{"qType":"Variable","qHandle":4}})");
  auto variable = var_answer.get().object;
  ASSERT_TRUE(variable);
  // A class the spec does not describe is taken for a generic object (it has a layout), and so is a Doc.
  auto other_answer = e.call(1, "GetObject", R"(["d"])");
  e.reply(e.next().id, R"({"qReturn":{"qType":"GenericDerivedFields","qHandle":5,"qGenericId":"d"}})");
  auto other = other_answer.get().object;
  ASSERT_TRUE(other);
  Counter without_layout, with_layout;
  e.session->global()->on_changed([&] { without_layout.add(); });
  field->on_changed([&] { without_layout.add(); });
  variable->on_changed([&] { without_layout.add(); });
  doc->on_changed([&] { with_layout.add(); });
  other->on_changed([&] { with_layout.add(); });
  ASSERT_TRUE(with_layout.wait_for(2));
  drain_events(*e.session);
  EXPECT_EQ(without_layout.get(), 0);
  EXPECT_EQ(with_layout.get(), 2);
}
