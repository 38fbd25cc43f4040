// A URL that leads to a WebSocket service that is not a QIX engine, through the C API over real sockets:
// the simulator plays an echo server, a silent one and a chatty one (--not-qix). Each call fails with
// QIX_EPROTOCOL and a message that names the server and the problem, within the protocol check's bound
// (timeout.protocol_ms, default 5 s), whatever the call timeout is.
#include "qix/qix.h"

#include <qix/sim/server.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

struct SessionDeleter {
  void operator()(qix_session* s) const { qix_session_free(s); }
};
using SessionPtr = std::unique_ptr<qix_session, SessionDeleter>;

class NotQix : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    qix::sim::Options o;
    o.not_qix = GetParam();
    sim_ = std::make_unique<qix::sim::Server>(o);
    sim_->start();
  }
  void TearDown() override { sim_->stop(); }
  std::string url() const { return sim_->url() + "/app/demo"; }
  std::unique_ptr<qix::sim::Server> sim_;
};

TEST_P(NotQix, CallsFailWithAProtocolErrorThatNamesTheServer) {
  qix_options* o = nullptr;
  ASSERT_EQ(qix_options_new(&o), QIX_OK);
  ASSERT_EQ(qix_options_set_str(o, "url", url().c_str()), QIX_OK);
  ASSERT_EQ(qix_options_set_int(o, "timeout.call_ms", 600000), QIX_OK);  // not what bounds the wait
  qix_session* raw = nullptr;
  int rc = qix_session_open_sync(&raw, nullptr, o, 10000);
  qix_options_free(o);
  SessionPtr s(raw);
  if (rc != QIX_OK) {
    // A chatty server may be judged before the open completes: the open then fails with the verdict.
    ASSERT_EQ(rc, QIX_EPROTOCOL) << qix_error_message(qix_error_last());
  } else {
    qix_result* r = nullptr;
    rc = qix_session_call_sync(&r, s.get(), "OpenDoc", R"(["demo"])", QIX_CALL_DEFAULT, -1);
    ASSERT_EQ(rc, QIX_EPROTOCOL);
    qix_result_free(r);
  }
  std::string message = qix_error_message(qix_error_last());
  EXPECT_NE(message.find("the server at " + url() + " does not speak the QIX protocol"), std::string::npos)
      << message;
  const std::string mode = GetParam();
  const char* why = mode == "echo"     ? "echo server"
                    : mode == "silent" ? "no OnConnected greeting"
                                       : "Welcome to the";
  EXPECT_NE(message.find(why), std::string::npos) << message;
  if (s) {
    EXPECT_EQ(qix_session_state(s.get()), QIX_STATE_CLOSED);
    int code = 0;
    char* reason = nullptr;
    ASSERT_EQ(qix_session_close_info(&code, &reason, s.get()), QIX_OK);
    EXPECT_EQ(code, 1002);
    EXPECT_EQ(std::string(reason), message) << "the close reason is the same verdict";
    qix_free(reason);
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, NotQix, ::testing::Values("echo", "silent", "banner"));

}  // namespace
