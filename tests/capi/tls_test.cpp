// TLS and credentials through the C API, against the simulator serving wss:// with certificates made by
// the test PKI (tests/support/test_pki.*): verification on by default, host names checked, a custom CA,
// client certificates, and secrets that never reach traffic logs or error messages.
#include "qix/qix.h"

#include <qix/sim/server.hpp>

#include "support/test_pki.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using qix::test::TestPki;

struct OptionsDeleter {
  void operator()(qix_options* o) const { qix_options_free(o); }
};
using OptionsPtr = std::unique_ptr<qix_options, OptionsDeleter>;

class CapiTls : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      pki_ = &TestPki::get();
    } catch (const std::exception& e) {
      GTEST_SKIP() << "openssl could not make test certificates: " << e.what();
    }
  }
  void TearDown() override {
    if (sim_) sim_->stop();
  }
  void start(const std::string& cert, const std::string& key, const std::string& client_ca = "",
             const std::string& bearer = "") {
    qix::sim::Options o;
    o.tls_cert = cert;
    o.tls_key = key;
    o.client_ca = client_ca;
    o.bearer = bearer;
    sim_ = std::make_unique<qix::sim::Server>(o);
    sim_->start();
  }
  OptionsPtr options(const std::string& host = "127.0.0.1") {
    qix_options* o = nullptr;
    qix_options_new(&o);
    std::string url = sim_->url();
    url.replace(url.find("127.0.0.1"), 9, host);
    qix_options_set_str(o, "url", (url + "/app/demo").c_str());
    qix_options_set_int(o, "timeout.connect_ms", 5000);
    return OptionsPtr(o);
  }
  /// Opens, runs one call, closes. Returns the status; @p message gets the error text on failure.
  int connect(qix_options* o, std::string* message = nullptr) {
    qix_session* s = nullptr;
    int rc = qix_session_open_sync(&s, nullptr, o, 10000);
    if (rc != QIX_OK) {
      if (message && qix_error_last()) *message = qix_error_message(qix_error_last());
      return rc;
    }
    qix_result* r = nullptr;
    rc = qix_session_call_sync(&r, s, "EngineVersion", nullptr, 0, -1);
    qix_result_free(r);
    qix_session_free(s);
    return rc;
  }
  const TestPki* pki_ = nullptr;
  std::unique_ptr<qix::sim::Server> sim_;
};

TEST_F(CapiTls, AServerOfAnUntrustedCaIsRejectedByDefault) {
  start(pki_->server_cert, pki_->server_key);
  std::string message;
  EXPECT_EQ(connect(options().get(), &message), QIX_ETLS);
  EXPECT_NE(message.find("certificate"), std::string::npos) << message;
}

TEST_F(CapiTls, ACustomCaIsAccepted) {
  start(pki_->server_cert, pki_->server_key);
  auto o = options();
  qix_options_set_str(o.get(), "tls.ca_file", pki_->ca_cert.c_str());
  EXPECT_EQ(connect(o.get()), QIX_OK);
  // ... also under the host name the certificate names.
  auto named = options("localhost");
  qix_options_set_str(named.get(), "tls.ca_file", pki_->ca_cert.c_str());
  EXPECT_EQ(connect(named.get()), QIX_OK);
}

TEST_F(CapiTls, AHostNameMismatchIsRejected) {
  start(pki_->wrong_host_cert, pki_->wrong_host_key);  // names other.example only
  auto o = options();
  qix_options_set_str(o.get(), "tls.ca_file", pki_->ca_cert.c_str());
  std::string message;
  EXPECT_EQ(connect(o.get(), &message), QIX_ETLS);
  EXPECT_FALSE(message.empty());
  // Switching verification off is explicit, and then it connects.
  qix_options_set_bool(o.get(), "tls.verify", 0);
  EXPECT_EQ(connect(o.get()), QIX_OK);
}

TEST_F(CapiTls, AServerThatRequiresAClientCertificateAcceptsOnlyTheRightOne) {
  start(pki_->server_cert, pki_->server_key, pki_->ca_cert);
  auto right = options();
  qix_options_set_str(right.get(), "tls.ca_file", pki_->ca_cert.c_str());
  qix_options_set_str(right.get(), "tls.cert_file", pki_->client_cert.c_str());
  qix_options_set_str(right.get(), "tls.key_file", pki_->client_key.c_str());
  EXPECT_EQ(connect(right.get()), QIX_OK);

  auto none = options();
  qix_options_set_str(none.get(), "tls.ca_file", pki_->ca_cert.c_str());
  EXPECT_NE(connect(none.get()), QIX_OK);

  auto wrong = options();
  qix_options_set_str(wrong.get(), "tls.ca_file", pki_->ca_cert.c_str());
  qix_options_set_str(wrong.get(), "tls.cert_file", pki_->rogue_client_cert.c_str());
  qix_options_set_str(wrong.get(), "tls.key_file", pki_->rogue_client_key.c_str());
  EXPECT_NE(connect(wrong.get()), QIX_OK);
  EXPECT_EQ(sim_->stats()["EngineVersion"].received, 1u) << "only the right certificate got through";
}

TEST_F(CapiTls, CredentialsNeverReachTrafficLogsOrErrorMessages) {
  const std::string token = "tok-SECRET-1234567890";
  const std::string cookie = "cookie-SECRET-0987654321";
  start(pki_->server_cert, pki_->server_key, "", token);
  struct Log {
    std::mutex m;
    std::string all;
  } log;
  auto traffic = [](int, const char* frame, size_t len, void* p) {
    auto* l = static_cast<Log*>(p);
    std::lock_guard g(l->m);
    l->all.append(frame, len).append("\n");
  };
  auto o = options();
  qix_options_set_str(o.get(), "tls.ca_file", pki_->ca_cert.c_str());
  qix_options_add_header(o.get(), "Authorization", ("Bearer " + token).c_str());
  qix_options_add_cookie(o.get(), "X-Qlik-Session", cookie.c_str());
  qix_options_set_traffic_cb(o.get(), traffic, &log);
  qix_session* s = nullptr;
  ASSERT_EQ(qix_session_open_sync(&s, nullptr, o.get(), 10000), QIX_OK);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_session_call_sync(&r, s, "OpenDoc", R"(["demo"])", 0, -1), QIX_OK);
  qix_result_free(r);
  // Traffic callbacks run on the session's event thread: the log is complete once the session is drained.
  qix_session_close(s);
  EXPECT_EQ(qix_session_wait_closed(s, 20000), QIX_OK);
  qix_session_free(s);
  {
    std::lock_guard g(log.m);
    EXPECT_NE(log.all.find("OpenDoc"), std::string::npos);
    EXPECT_NE(log.all.find("qReturn"), std::string::npos) << "the answer's frame was logged before the end";
    EXPECT_EQ(log.all.find("SECRET"), std::string::npos) << log.all;
  }
  // A refused upgrade (wrong token): the error names the HTTP status, not the credentials sent.
  auto bad = options();
  qix_options_set_str(bad.get(), "tls.ca_file", pki_->ca_cert.c_str());
  qix_options_add_header(bad.get(), "Authorization", "Bearer wrong-SECRET-token");
  qix_options_add_cookie(bad.get(), "X-Qlik-Session", cookie.c_str());
  std::string message;
  EXPECT_EQ(connect(bad.get(), &message), QIX_EHTTP);
  EXPECT_NE(message.find("401"), std::string::npos) << message;
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
}

}  // namespace

TEST_F(CapiTls, AResumeConnectsAgainWithTheSameCertificatesAndCredentials) {
  const std::string token = "tok-SECRET-resume-42";
  start(pki_->server_cert, pki_->server_key, pki_->ca_cert, token);  // client certificate and bearer required
  struct States {
    std::mutex m;
    std::condition_variable cv;
    std::vector<int> seen;
    std::string log;
  };
  auto st = std::make_shared<States>();  // shared: the last events may run after the test's locals are gone
  auto o = options();
  qix_options_set_str(o.get(), "tls.ca_file", pki_->ca_cert.c_str());
  qix_options_set_str(o.get(), "tls.cert_file", pki_->client_cert.c_str());
  qix_options_set_str(o.get(), "tls.key_file", pki_->client_key.c_str());
  qix_options_add_header(o.get(), "Authorization", ("Bearer " + token).c_str());
  qix_options_set_str(o.get(), "reconnect", "resume");
  qix_options_set_int(o.get(), "reconnect.initial_delay_ms", 20);
  auto* keep = new std::shared_ptr<States>(st);  // the traffic callback's payload, freed at the end
  qix_options_set_traffic_cb(
      o.get(),
      [](int, const char* frame, size_t len, void* p) {
        auto& s = **static_cast<std::shared_ptr<States>*>(p);
        std::lock_guard g(s.m);
        s.log.append(frame, len).append("\n");
      },
      keep);
  qix_session* s = nullptr;
  ASSERT_EQ(qix_session_open_sync(&s, nullptr, o.get(), 10000), QIX_OK);
  auto* state_payload = new std::shared_ptr<States>(st);
  qix_session_on_state(
      nullptr, s,
      [](qix_session*, int state, int, const char*, void* p) {
        auto& x = **static_cast<std::shared_ptr<States>*>(p);
        std::lock_guard g(x.m);
        x.seen.push_back(state);
        x.cv.notify_all();
      },
      state_payload);
  qix_result* r = nullptr;
  ASSERT_EQ(qix_session_call_sync(&r, s, "OpenDoc", R"(["demo"])", 0, -1), QIX_OK);
  qix_object* doc = nullptr;
  ASSERT_EQ(qix_result_object(&doc, r), QIX_OK);
  qix_result_free(r);
  sim_->close_all(4003);
  {
    std::unique_lock l(st->m);
    ASSERT_TRUE(st->cv.wait_for(l, std::chrono::seconds(20), [&] {
      return std::find(st->seen.begin(), st->seen.end(), QIX_STATE_RESUMED) != st->seen.end() ||
             std::find(st->seen.begin(), st->seen.end(), QIX_STATE_CLOSED) != st->seen.end();
    }));
    EXPECT_NE(std::find(st->seen.begin(), st->seen.end(), QIX_STATE_RESUMED), st->seen.end());
  }
  r = nullptr;
  EXPECT_EQ(qix_object_call_sync(&r, doc, "Evaluate", R"(["1+1"])", 0, -1), QIX_OK)
      << qix_error_message(qix_error_last());
  qix_result_free(r);
  EXPECT_EQ(sim_->stats()["OpenDoc"].received, 2u) << "the doc was opened again on the new connection";
  qix_object_free(doc);
  qix_session_close(s);
  {
    std::unique_lock l(st->m);
    st->cv.wait_for(l, std::chrono::seconds(10), [&] {
      return std::find(st->seen.begin(), st->seen.end(), QIX_STATE_CLOSED) != st->seen.end();
    });
    EXPECT_EQ(st->log.find("SECRET"), std::string::npos) << "the bearer token never reaches the traffic log";
  }
  qix_session_free(s);
  // The callbacks' payloads: no event can follow the CLOSED state event that was awaited above.
  delete state_payload;
  delete keep;
}
