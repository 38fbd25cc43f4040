// Objects through the C API, against the simulator over loopback sockets: properties, layouts, "changed"
// and "closed" listeners, the watch, and handles: listeners belong to a handle, the watch to the engine
// object (freeing one handle never stops a watch set through another).
#include "capi_support.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace qix::test;

TEST_F(CapiTest, ObjectPropertiesLayoutChangedAndWatch) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("my-cube", {"Region"}, {"Sum(Sales)"}));
  ASSERT_TRUE(obj);
  EXPECT_STREQ(qix_object_type(obj.get()), "GenericObject");
  EXPECT_STREQ(qix_object_generic_id(obj.get()), "my-cube");
  EXPECT_STREQ(qix_object_generic_type(obj.get()), "table");
  char* text = nullptr;
  EXPECT_EQ(qix_object_layout(&text, obj.get()), QIX_ENOTFOUND);
  EXPECT_EQ(qix_object_is_valid(obj.get()), 0);

  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", QIX_CALL_DELTA, -1), QIX_OK);
  std::string layout = qix_result_json(r);
  EXPECT_EQ(layout.rfind("{\"qInfo\"", 0), 0u) << layout.substr(0, 80);  // unwrapped qLayout
  EXPECT_NE(std::string(qix_result_raw(r)).find("\"qLayout\""), std::string::npos);
  qix_result_free(r);
  EXPECT_EQ(qix_object_is_valid(obj.get()), 1);
  ASSERT_EQ(qix_object_layout(&text, obj.get()), QIX_OK);
  EXPECT_NE(take(text).find("\"qcy\":6"), std::string::npos);

  struct Ctx {
    Waiter changed;
    Waiter layouts;
    std::vector<std::string> seen;
  } ctx;
  uint64_t cid = 0;
  ASSERT_EQ(qix_object_on_changed(
                &cid, obj.get(), [](qix_object*, void* p) { static_cast<Ctx*>(p)->changed.notify(); }, &ctx),
            QIX_OK);
  ASSERT_EQ(qix_object_watch(
                obj.get(),
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  EXPECT_EQ(qix_result_status(res), QIX_OK);
                  std::string json = qix_result_json(res);
                  c->layouts.notify([&] { c->seen.push_back(json); });
                },
                &ctx),
            QIX_OK);
  // A selection on Region invalidates the cube: "changed" fires, then the watch delivers the new layout.
  ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[0],false])",
                                 0, -1),
            QIX_OK);
  qix_result_free(r);
  ASSERT_TRUE(ctx.changed.wait_for(1));
  // The watch delivers layouts until the one with the selection applied (one row).
  EXPECT_TRUE(ctx.layouts.wait_until(
      [&] { return !ctx.seen.empty() && ctx.seen.back().find("\"qcy\":1") != std::string::npos; }));
  EXPECT_EQ(qix_object_unwatch(obj.get()), QIX_OK);
  EXPECT_EQ(qix_object_remove_listener(obj.get(), cid), QIX_OK);
  EXPECT_EQ(qix_object_remove_listener(obj.get(), cid), QIX_ENOTFOUND);

  // A second handle on the same engine object.
  qix_object* dup = nullptr;
  ASSERT_EQ(qix_object_dup(&dup, obj.get()), QIX_OK);
  EXPECT_EQ(qix_object_handle(dup), qix_object_handle(obj.get()));
  qix_object_free(dup);
}

TEST_F(CapiTest, ClosedListenerOnDestroy) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("gone", {"Region"}, {"Sum(Sales)"}));
  Waiter closed;
  ASSERT_EQ(qix_object_on_closed(
                nullptr, obj.get(), [](qix_object*, void* p) { static_cast<Waiter*>(p)->notify(); }, &closed),
            QIX_OK);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, doc.get(), "DestroySessionObject", R"(["gone"])", 0, -1), QIX_OK);
  qix_result_free(r);
  ASSERT_TRUE(closed.wait_for(1));
  EXPECT_EQ(qix_object_is_closed(obj.get()), 1);
  EXPECT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1), QIX_ECLOSED);
  struct Ctx {
    Waiter w;
    int status = 0;
  } ctx;
  EXPECT_EQ(qix_object_call(
                nullptr, obj.get(), "GetLayout", "[]", 0, -1,
                [](const qix_result* res, void* p) {
                  auto* c = static_cast<Ctx*>(p);
                  c->w.notify([&] { c->status = qix_result_status(res); });
                },
                &ctx),
            QIX_ECLOSED);
  ASSERT_TRUE(ctx.w.wait_for(1));
  EXPECT_EQ(ctx.status, QIX_ECLOSED);
}

TEST_F(CapiTest, ObjectFreeStopsListeners) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("hc", {"Region"}, {"Sum(Sales)"}));
  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", 0, -1),
            QIX_OK);  // valid: no "changed" at once
  qix_result_free(r);
  std::atomic<int> calls{0};
  ASSERT_EQ(
      qix_object_on_changed(
          nullptr, obj.get(), [](qix_object*, void* p) { ++*static_cast<std::atomic<int>*>(p); }, &calls),
      QIX_OK);
  qix_object* again = nullptr;
  ASSERT_EQ(qix_object_dup(&again, obj.get()), QIX_OK);
  // A listener on the copy, registered after the first one: the session runs an object's listeners in
  // registration order, so once this one has run, the freed handle's listener would have run before it.
  std::promise<void> copy_told;
  ASSERT_EQ(qix_object_on_changed(
                nullptr, again,
                [](qix_object*, void* p) { static_cast<std::promise<void>*>(p)->set_value(); }, &copy_told),
            QIX_OK);
  obj.reset();
  ASSERT_EQ(
      qix_object_call_sync(&r, again, "SelectHyperCubeValues", R"(["/qHyperCubeDef",0,[1],false])", 0, -1),
      QIX_OK);
  qix_result_free(r);
  copy_told.get_future().wait();
  EXPECT_EQ(calls.load(), 0);
  qix_object_free(again);
}

// A listener removed while an event for it is already queued is not called for it: the close queues, in
// order, the cube's "closed" listeners and then the session's state listeners; the first one holds the
// session's events while two queued after it are removed.
TEST_F(CapiTest, RemovedListenerIsNotCalledForAnEventAlreadyQueued) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("hc", {"Region"}, {"Sum(Sales)"}));
  struct Ctx {
    std::promise<void> holding;
    std::promise<void> release;
    std::atomic<int> removed_closed{0}, removed_state{0}, kept_state{0};
  } ctx;
  auto release = ctx.release.get_future().share();
  struct Hold {
    Ctx* c;
    std::shared_future<void> release;
  } hold{&ctx, release};
  ASSERT_EQ(qix_object_on_closed(
                nullptr, obj.get(),
                [](qix_object*, void* p) {
                  auto* h = static_cast<Hold*>(p);
                  h->c->holding.set_value();
                  h->release.wait();
                },
                &hold),
            QIX_OK);
  uint64_t closed_id = 0, state_id = 0;
  ASSERT_EQ(
      qix_object_on_closed(
          &closed_id, obj.get(), [](qix_object*, void* p) { ++static_cast<Ctx*>(p)->removed_closed; }, &ctx),
      QIX_OK);
  ASSERT_EQ(qix_session_on_state(
                &state_id, s.get(),
                [](qix_session*, int state, int, const char*, void* p) {
                  if (state == QIX_STATE_CLOSED) ++static_cast<Ctx*>(p)->removed_state;
                },
                &ctx),
            QIX_OK);
  ASSERT_EQ(qix_session_on_state(
                nullptr, s.get(),
                [](qix_session*, int state, int, const char*, void* p) {
                  if (state == QIX_STATE_CLOSED) ++static_cast<Ctx*>(p)->kept_state;
                },
                &ctx),
            QIX_OK);
  qix_session_close(s.get());
  ctx.holding.get_future().wait();  // the close's events are queued; the first one is running
  EXPECT_EQ(qix_object_remove_listener(obj.get(), closed_id), QIX_OK);
  EXPECT_EQ(qix_session_remove_listener(s.get(), state_id), QIX_OK);
  ctx.release.set_value();
  ASSERT_EQ(qix_session_wait_closed(s.get(), -1), QIX_OK);
  EXPECT_EQ(ctx.removed_closed.load(), 0);
  EXPECT_EQ(ctx.removed_state.load(), 0);
  EXPECT_EQ(ctx.kept_state.load(), 1);  // the listener left in place still runs
}

namespace {

/// Collects a watch's deliveries: the qcy of each layout.
struct Layouts {
  Waiter w;
  std::vector<std::string> seen;
  static void cb(const qix_result* res, void* p) {
    auto* l = static_cast<Layouts*>(p);
    std::string json = qix_result_json(res);
    l->w.notify([&] { l->seen.push_back(json); });
  }
  /// The number of layouts delivered so far.
  std::size_t mark() {
    std::lock_guard l(w.mutex());
    return seen.size();
  }
  /// Waits for a layout with `qcy` rows among those delivered after the first `from`.
  bool wait_rows(int qcy, std::size_t from = 0) {
    std::string needle = "\"qcy\":" + std::to_string(qcy) + "}";
    return w.wait_until([&] {
      for (std::size_t i = from; i < seen.size(); ++i) {
        if (seen[i].find(needle) != std::string::npos) return true;
      }
      return false;
    });
  }
};

int select_region(qix_object* obj, int value) {
  qix_result* r = nullptr;
  std::string params = R"(["/qHyperCubeDef",0,[)" + std::to_string(value) + "],false]";
  int rc = qix_object_call_sync(&r, obj, "SelectHyperCubeValues", params.c_str(), 0, -1);
  qix_result_free(r);
  return rc;
}

int clear_selections(qix_object* doc) {
  qix_result* r = nullptr;
  int rc = qix_object_call_sync(&r, doc, "ClearAll", "[]", 0, -1);
  qix_result_free(r);
  return rc;
}

}  // namespace

// qix_result_has_object says what qix_result_object would find, and leaves the thread's last error alone
// (the check a binding makes on every answer, most of which refer to no object).
TEST_F(CapiTest, ResultHasObjectAnswersWithoutTouchingTheLastError) {
  auto s = open();
  qix_result* version = nullptr;
  ASSERT_EQ(qix_session_call_sync(&version, s.get(), "EngineVersion", "[]", 0, -1), QIX_OK);
  qix_result* doc = nullptr;
  ASSERT_EQ(qix_session_call_sync(&doc, s.get(), "OpenDoc", R"(["demo"])", 0, -1), QIX_OK);

  // A failure of this thread's, still readable after the checks below.
  ASSERT_EQ(qix_object_dup(nullptr, nullptr), QIX_EINVAL);
  ASSERT_NE(qix_error_last(), nullptr);
  const std::string before = qix_error_message(qix_error_last());

  EXPECT_EQ(qix_result_has_object(version), 0);
  EXPECT_EQ(qix_result_has_object(doc), 1);
  EXPECT_EQ(qix_result_has_object(nullptr), 0);
  ASSERT_NE(qix_error_last(), nullptr);
  EXPECT_EQ(qix_error_code(qix_error_last()), QIX_EINVAL);
  EXPECT_EQ(before, qix_error_message(qix_error_last()));

  // And it agrees with qix_result_object.
  qix_object* obj = nullptr;
  EXPECT_EQ(qix_result_object(&obj, version), QIX_ENOTFOUND);
  EXPECT_EQ(obj, nullptr);
  ASSERT_EQ(qix_result_object(&obj, doc), QIX_OK);
  EXPECT_NE(qix_object_handle(obj), 0);
  qix_object_free(obj);
  qix_result_free(version);
  qix_result_free(doc);
  ASSERT_TRUE(close_and_drain(s.get()));
}

TEST_F(CapiTest, FreeingACopyKeepsTheWatch) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("w1", {"Region"}, {"Sum(Sales)"}));
  Layouts layouts;
  ASSERT_EQ(qix_object_watch(obj.get(), &Layouts::cb, &layouts), QIX_OK);
  ASSERT_TRUE(layouts.wait_rows(6)) << "the first fetch";
  // Two more handles on the same engine object: a copy, and one from another result (GetObject by id).
  qix_object* copy = nullptr;
  ASSERT_EQ(qix_object_dup(&copy, obj.get()), QIX_OK);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_object_call_sync(&r, doc.get(), "GetObject", R"(["w1"])", 0, -1), QIX_OK);
  qix_object* other = nullptr;
  ASSERT_EQ(qix_result_object(&other, r), QIX_OK);
  qix_result_free(r);
  EXPECT_EQ(qix_object_handle(other), qix_object_handle(obj.get()));
  qix_object_free(copy);
  qix_object_free(other);
  // The watch set through `obj` keeps delivering.
  auto from = layouts.mark();
  ASSERT_EQ(select_region(obj.get(), 0), QIX_OK);
  EXPECT_TRUE(layouts.wait_rows(1, from)) << "the watch stopped when another handle was freed";
  ASSERT_TRUE(close_and_drain(s.get()));
}

TEST_F(CapiTest, FreeingTheHandleOfAReplacedWatchKeepsTheNewOne) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("w2", {"Region"}, {"Sum(Sales)"}));
  Layouts first, second;
  ASSERT_EQ(qix_object_watch(obj.get(), &Layouts::cb, &first), QIX_OK);
  ASSERT_TRUE(first.wait_rows(6));
  ObjectPtr copy;
  {
    qix_object* c = nullptr;
    ASSERT_EQ(qix_object_dup(&c, obj.get()), QIX_OK);
    copy.reset(c);
  }
  // One watcher per engine object: the copy's watch replaces the first.
  ASSERT_EQ(qix_object_watch(copy.get(), &Layouts::cb, &second), QIX_OK);
  ASSERT_EQ(select_region(copy.get(), 0), QIX_OK);
  ASSERT_TRUE(second.wait_rows(1));
  // Freeing the handle that set the replaced watch leaves the current one running.
  obj.reset();
  auto from = second.mark();
  ASSERT_EQ(clear_selections(doc.get()), QIX_OK);
  EXPECT_TRUE(second.wait_rows(6, from)) << "the copy's watch stopped when the first handle was freed";
  ASSERT_TRUE(close_and_drain(s.get()));
  std::lock_guard l(first.w.mutex());
  for (auto& layout : first.seen)
    EXPECT_EQ(layout.find("\"qcy\":1}"), std::string::npos) << "replaced: no more";
}

// Delta answers reach C callers as text patched as text: after a selection, each re-fetch through delta is
// the same document as a full answer fetched without delta, and the object's kept layout follows it.
TEST_F(CapiTest, DeltaLayoutsPatchedAsTextEqualFullLayouts) {
  auto s = open();
  auto doc = open_doc(s.get());
  auto obj = create_cube(doc.get(), hypercube_props("text-delta", {"Region", "Customer"}, {"Sum(Sales)"}));
  ASSERT_TRUE(obj);
  auto fetch = [&](int flags) {
    qix_result* r = nullptr;
    EXPECT_EQ(qix_object_call_sync(&r, obj.get(), "GetLayout", "[]", flags, -1), QIX_OK);
    std::string json = r ? qix_result_json(r) : "";
    std::string raw = r ? qix_result_raw(r) : "";
    qix_result_free(r);
    EXPECT_EQ(boost::json::parse(raw).at("qLayout"), boost::json::parse(json)) << "raw wraps json";
    return boost::json::parse(json);
  };
  auto first = fetch(QIX_CALL_DELTA);
  for (int step = 0; step < 6; ++step) {
    if (step % 2 == 0) {  // select one Region, then clear: each changes the layout
      qix_result* r = nullptr;
      std::string sel = R"(["/qHyperCubeDef",0,[)" + std::to_string(step / 2) + "],false]";
      ASSERT_EQ(qix_object_call_sync(&r, obj.get(), "SelectHyperCubeValues", sel.c_str(), 0, -1), QIX_OK)
          << qix_error_message(qix_error_last());
      qix_result_free(r);
    } else {
      ASSERT_EQ(clear_selections(doc.get()), QIX_OK);
    }
    auto patched = fetch(QIX_CALL_DELTA);
    auto full = fetch(QIX_CALL_NO_DELTA);
    EXPECT_EQ(patched, full) << "step " << step;
    EXPECT_EQ(patched != first, step % 2 == 0) << "step " << step;
    char* text = nullptr;
    ASSERT_EQ(qix_object_layout(&text, obj.get()), QIX_OK);
    EXPECT_EQ(boost::json::parse(take(text)), full);
  }
}
