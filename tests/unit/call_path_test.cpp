// The one call path: a call by handle (Session::call/call_sync) and a call on the proxy of that handle
// (Object::call/call_sync) make the same request, and each entry point keeps its refusals: by handle, an
// id and the session's or the handle's error; on a proxy that is a zombie, no id and "closed".
#include "support/fake_engine.hpp"

using namespace qix;
using namespace qix::test;
using core::ErrorKind;

namespace {

// Calls `method` on `obj` and returns the id call() returned, with a future of the result.
std::pair<std::int64_t, std::future<core::CallResult>> call_on(core::Object& obj, const std::string& method) {
  auto p = std::make_shared<std::promise<core::CallResult>>();
  auto f = p->get_future();
  auto id = obj.call(method, "[]", {}, [p](core::CallResult& r) { p->set_value(std::move(r)); });
  return {id, std::move(f)};
}

}  // namespace

TEST(CallPath, AHandleAndItsProxyMakeTheSameRequest) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object(2, "o1");
  ASSERT_TRUE(obj);
  struct Case {
    int handle;
    std::shared_ptr<core::Object> proxy;
    std::string method;
  };
  for (const Case& c : {Case{2, obj, "GetLayout"}, Case{-1, e.session->global(), "EngineVersion"}}) {
    ASSERT_TRUE(c.proxy);
    auto by_handle = e.call(c.handle, c.method);
    auto a = e.next();
    auto [id, by_proxy] = call_on(*c.proxy, c.method);
    auto b = e.next();
    EXPECT_EQ(b.id, id);
    EXPECT_EQ(b.id, a.id + 1);
    EXPECT_EQ(a.handle, c.handle);
    EXPECT_EQ(b.handle, c.handle);
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.params, b.params);
    EXPECT_EQ(a.delta, b.delta);
    e.reply(a.id, R"({"qLayout":{"n":1},"qReturn":"1"})");
    e.reply(b.id, R"({"qLayout":{"n":2},"qReturn":"2"})");
    EXPECT_TRUE(by_handle.get().ok());
    EXPECT_TRUE(by_proxy.get().ok());
  }
  EXPECT_TRUE(obj->valid()) << "a fetch through either entry point makes the object valid";
}

TEST(CallPath, EachEntryPointKeepsItsRefusals) {
  FakeEngine e;
  e.open();
  e.open_doc();
  // By a handle that is not open: an id, and invalid_argument.
  auto unknown = e.call(77, "GetLayout").get();
  EXPECT_GT(unknown.id, 0);
  EXPECT_EQ(unknown.error.kind, ErrorKind::invalid_argument);
  EXPECT_EQ(unknown.error.message, "handle 77 is not open in this session");
  EXPECT_EQ(e.session->call_sync(77, "GetLayout", "[]").error.message, unknown.error.message);
  // On a zombie proxy: no id, and closed.
  auto obj = e.create_object(2, "o1");
  ASSERT_TRUE(obj);
  auto destroy = e.call(1, "DestroySessionObject", R"(["o1"])");
  e.reply(e.next().id, R"({"qSuccess":true})", R"(,"close":[2])");
  ASSERT_TRUE(destroy.get().ok());
  auto [zombie_id, zombie] = call_on(*obj, "GetLayout");
  EXPECT_EQ(zombie_id, 0);
  auto z = zombie.get();
  EXPECT_EQ(z.error.kind, ErrorKind::closed);
  EXPECT_EQ(z.error.message, "the object with handle 2 is closed");
  EXPECT_EQ(obj->call_sync("GetLayout", "[]").error.message, "the object with handle 2 is closed");
  // After close(): by handle, an id and "the session is closed"; on the Global proxy, no id.
  auto global = e.session->global();
  ASSERT_TRUE(global);
  e.session->close();
  auto after = e.call(-1, "EngineVersion").get();
  EXPECT_GT(after.id, 0);
  EXPECT_EQ(after.error.kind, ErrorKind::closed);
  EXPECT_EQ(after.error.message, "the session is closed");
  EXPECT_EQ(e.session->call_sync(-1, "EngineVersion", "[]").error.message, "the session is closed");
  auto [global_id, on_global] = call_on(*global, "EngineVersion");
  EXPECT_EQ(global_id, 0);
  EXPECT_EQ(on_global.get().error.message, "the object with handle -1 is closed");
  EXPECT_EQ(global->call_sync("EngineVersion", "[]").error.kind, ErrorKind::closed);
}

TEST(CallPath, ABlockingCallOnAProxyFromACallbackIsBusyUnlessTheProxyIsAZombie) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto live = e.create_object(2, "o1");
  auto zombie = e.create_object(3, "o2");
  ASSERT_TRUE(live && zombie);
  auto destroy = e.call(1, "DestroySessionObject", R"(["o2"])");
  e.reply(e.next().id, R"({"qSuccess":true})", R"(,"close":[3])");
  ASSERT_TRUE(destroy.get().ok());
  std::promise<std::pair<core::Error, core::Error>> inner;
  e.session->call(-1, "X", "[]", {}, [&](core::CallResult&) {
    inner.set_value({live->call_sync("GetLayout", "[]").error, zombie->call_sync("GetLayout", "[]").error});
  });
  e.reply(e.next().id, "{}");
  auto [on_live, on_zombie] = inner.get_future().get();
  EXPECT_EQ(on_live.kind, ErrorKind::busy);
  EXPECT_EQ(on_zombie.kind, ErrorKind::closed) << "a zombie says so before the thread is looked at";
}

// The refusal an entry point reports beside the callback (`refused`, what the C API's return code is made
// of): decided with the call under the session's lock, so it is exactly the error the callback gets, also
// when the session closes between a caller's look at its state and the call.
TEST(CallPath, EachEntryPointReportsItsRefusalWithTheCall) {
  FakeEngine e;
  e.open();
  e.open_doc();
  auto obj = e.create_object(2, "o1");
  ASSERT_TRUE(obj);
  core::Error refused = core::Error::make(ErrorKind::internal, "left as is when the call goes out?");
  auto sent = e.session->call(-1, "EngineVersion", "[]", {}, nullptr, &refused);
  EXPECT_GT(sent, 0);
  EXPECT_EQ(refused.kind, ErrorKind::internal) << "a call that goes out leaves it alone";
  e.next();
  core::Error unknown;
  e.session->call(77, "GetLayout", "[]", {}, nullptr, &unknown);
  EXPECT_EQ(unknown.kind, ErrorKind::invalid_argument);
  EXPECT_EQ(unknown.message, "handle 77 is not open in this session");
  e.session->close();
  core::Error closed_session, closed_object;
  auto p = std::make_shared<std::promise<core::CallResult>>();
  e.session->call(
      -1, "EngineVersion", "[]", {}, [p](core::CallResult& r) { p->set_value(std::move(r)); },
      &closed_session);
  EXPECT_EQ(closed_session.kind, ErrorKind::closed);
  EXPECT_EQ(p->get_future().get().error.message, closed_session.message) << "the callback gets the same";
  EXPECT_EQ(obj->call("GetLayout", "[]", {}, nullptr, &closed_object), 0);
  EXPECT_EQ(closed_object.kind, ErrorKind::closed);
}
