// Options through the C API: the setters (names, types, ranges, refusals and their texts), and the
// description hosts list (qix_options_count, qix_options_info) checked against what the setters do, and
// the C++ facade's copy of it (qix::option_info). No connection needed.
#include "qix/qix.h"
#include "qix/qix.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

struct OptionsDeleter {
  void operator()(qix_options* o) const { qix_options_free(o); }
};
using OptionsPtr = std::unique_ptr<qix_options, OptionsDeleter>;

OptionsPtr fresh() {
  qix_options* o = nullptr;
  EXPECT_EQ(qix_options_new(&o), QIX_OK);
  return OptionsPtr(o);
}

std::string take(char* s) {
  std::string out = s ? s : "";
  qix_free(s);
  return out;
}

std::string last_message() {
  return qix_error_last() ? qix_error_message(qix_error_last()) : "";
}

// Every option name of libqix 1.0: names are ABI (CHANGELOG.md, "Option names"), never removed. A function's
// static: built on first use, where a failure is the test's, not an exception before main().
const std::set<std::string>& known_names() {
  static const std::set<std::string> names = {"url",
                                              "url.secure",
                                              "url.host",
                                              "url.port",
                                              "url.prefix",
                                              "url.subpath",
                                              "url.route",
                                              "url.app_id",
                                              "url.identity",
                                              "url.ttl",
                                              "origin",
                                              "user_agent",
                                              "tls.verify",
                                              "tls.ca_file",
                                              "tls.ca_dir",
                                              "tls.cert_file",
                                              "tls.key_file",
                                              "tls.server_name",
                                              "timeout.connect_ms",
                                              "timeout.handshake_ms",
                                              "timeout.protocol_ms",
                                              "timeout.call_ms",
                                              "keepalive_ms",
                                              "max_message_size",
                                              "delta",
                                              "reconnect",
                                              "reconnect.max_attempts",
                                              "reconnect.initial_delay_ms",
                                              "reconnect.max_delay_ms",
                                              "reconnect.greeting_wait_ms",
                                              "reconnect.queue_calls",
                                              "reconnect.resend",
                                              "retry.aborted",
                                              "notification_history",
                                              "events.poll",
                                              "events.inline",
                                              "watch.min_interval_ms"};
  return names;
}

std::vector<const qix_option_info*> all_infos() {
  std::vector<const qix_option_info*> out;
  out.reserve(static_cast<std::size_t>(qix_options_count()));
  for (int i = 0; i < qix_options_count(); ++i) out.push_back(qix_options_info(i));
  return out;
}

}  // namespace

TEST(CapiBasics, Options) {  // the setters: every known name, the URL they build
  auto opts = fresh();
  qix_options* o = opts.get();
  // URL builder parts.
  EXPECT_EQ(qix_options_set_str(o, "url.host", "qlik.example.com"), QIX_OK);
  EXPECT_EQ(qix_options_set_int(o, "url.port", 4848), QIX_OK);
  EXPECT_EQ(qix_options_set_bool(o, "url.secure", 1), QIX_OK);
  EXPECT_EQ(qix_options_set_str(o, "url.prefix", "/proxy/"), QIX_OK);
  EXPECT_EQ(qix_options_set_str(o, "url.app_id", "my app"), QIX_OK);
  EXPECT_EQ(qix_options_set_int(o, "url.ttl", 30), QIX_OK);
  EXPECT_EQ(qix_options_add_url_param(o, "reloadUri", "http://x"), QIX_OK);
  char* url = nullptr;
  ASSERT_EQ(qix_options_get_url(&url, o), QIX_OK);
  EXPECT_EQ(take(url), "wss://qlik.example.com:4848/proxy/app/my%20app/ttl/30?reloadUri=http%3A%2F%2Fx");
  EXPECT_EQ(qix_options_set_str(o, "url", "ws://127.0.0.1:9076/app/x"), QIX_OK);
  ASSERT_EQ(qix_options_get_url(&url, o), QIX_OK);
  EXPECT_EQ(take(url), "ws://127.0.0.1:9076/app/x");
  EXPECT_EQ(qix_options_set_str(o, "url", ""), QIX_OK);  // empty: the parts again
  ASSERT_EQ(qix_options_get_url(&url, o), QIX_OK);
  EXPECT_EQ(take(url).rfind("wss://qlik.example.com:4848/", 0), 0u);

  for (const char* name : {"url.subpath", "url.route", "url.identity", "origin", "user_agent", "tls.ca_file",
                           "tls.ca_dir", "tls.cert_file", "tls.key_file", "tls.server_name"}) {
    EXPECT_EQ(qix_options_set_str(o, name, "x"), QIX_OK) << name;
  }
  for (const char* name :
       {"timeout.connect_ms", "timeout.handshake_ms", "timeout.protocol_ms", "timeout.call_ms",
        "keepalive_ms", "max_message_size", "notification_history", "watch.min_interval_ms"}) {
    EXPECT_EQ(qix_options_set_int(o, name, 4096), QIX_OK) << name;
  }
  for (const char* name :
       {"tls.verify", "delta", "events.poll", "events.inline", "reconnect.queue_calls", "reconnect.resend"}) {
    EXPECT_EQ(qix_options_set_bool(o, name, 0), QIX_OK) << name;
    EXPECT_EQ(qix_options_set_bool(o, name, 7), QIX_OK) << name << ": any non-zero is true";
  }
  for (const char* policy : {"none", "attach", "resume"}) {
    EXPECT_EQ(qix_options_set_str(o, "reconnect", policy), QIX_OK) << policy;
  }
  for (const char* name : {"reconnect.max_attempts", "reconnect.initial_delay_ms", "reconnect.max_delay_ms",
                           "reconnect.greeting_wait_ms", "retry.aborted"}) {
    EXPECT_EQ(qix_options_set_int(o, name, 3), QIX_OK) << name;
    EXPECT_EQ(qix_options_set_int(o, name, -1), QIX_EINVAL) << name;
  }
  EXPECT_EQ(qix_options_add_header(o, "Authorization", "Bearer t"), QIX_OK);
  EXPECT_EQ(qix_options_add_cookie(o, "X-Qlik-Session", "abc"), QIX_OK);
  EXPECT_EQ(qix_options_set_traffic_cb(o, nullptr, nullptr), QIX_OK);
}

TEST(CapiOptions, RefusalsKeepTheirTexts) {
  auto opts = fresh();
  qix_options* o = opts.get();
  auto check = [](int rc, const std::string& message) {
    EXPECT_EQ(rc, QIX_EINVAL) << message;
    EXPECT_EQ(last_message(), message);
  };
  check(qix_options_set_str(o, "no.such", "x"), "unknown string option: no.such");
  check(qix_options_set_int(o, "url.host", 1), "unknown integer option: url.host");
  check(qix_options_set_bool(o, "url.port", 1), "unknown boolean option: url.port");
  check(qix_options_set_str(o, "reconnect", "always"), R"(reconnect: expected "none", "attach" or "resume")");
  check(qix_options_set_int(o, "url.port", 70000), "url.port: out of range");
  check(qix_options_set_int(o, "url.port", -1), "url.port: out of range");
  check(qix_options_set_int(o, "url.ttl", -2), "url.ttl: out of range");
  check(qix_options_set_int(o, "url.ttl", INT64_C(1) << 31), "url.ttl: out of range");
  check(qix_options_set_int(o, "timeout.call_ms", -1), "timeout.call_ms: must be >= 0");
  check(qix_options_set_int(o, "timeout.protocol_ms", -1), "timeout.protocol_ms: must be >= 0");
  check(qix_options_set_int(o, "keepalive_ms", -5), "keepalive_ms: must be >= 0");
  check(qix_options_set_int(o, "max_message_size", 10), "max_message_size: must be >= 1024");
  check(qix_options_set_int(o, "notification_history", -1), "notification_history: must be >= 0");
  check(qix_options_set_int(o, "watch.min_interval_ms", -1), "watch.min_interval_ms: must be >= 0");
  check(qix_options_set_int(o, "reconnect.max_attempts", 0), "reconnect.max_attempts: must be >= 1");
  check(qix_options_set_int(o, "reconnect.max_attempts", INT64_C(1) << 31),
        "reconnect.max_attempts: must be >= 1");
  check(qix_options_set_int(o, "reconnect.initial_delay_ms", -1), "reconnect.initial_delay_ms: must be >= 0");
  check(qix_options_set_int(o, "reconnect.max_delay_ms", INT64_C(1) << 31),
        "reconnect.max_delay_ms: must be >= 0");
  check(qix_options_set_int(o, "retry.aborted", 101), "retry.aborted: must be 0..100");
  check(qix_options_set_str(o, nullptr, "x"), "qix_options_set_str: NULL argument");
  check(qix_options_set_str(o, "url", nullptr), "qix_options_set_str: NULL argument");
  check(qix_options_set_str(nullptr, "url", "x"), "qix_options_set_str: NULL argument");
  check(qix_options_set_int(nullptr, "url.port", 1), "qix_options_set_int: NULL argument");
  check(qix_options_set_bool(nullptr, "delta", 1), "qix_options_set_bool: NULL argument");
  EXPECT_EQ(qix_options_add_header(o, "", "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_header(nullptr, "a", "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_cookie(o, nullptr, "x"), QIX_EINVAL);
  EXPECT_EQ(qix_options_add_url_param(o, "a", nullptr), QIX_EINVAL);
  char* url = reinterpret_cast<char*>(1);
  EXPECT_EQ(qix_options_get_url(&url, nullptr), QIX_EINVAL);
  EXPECT_EQ(url, nullptr);
  EXPECT_EQ(qix_options_set_traffic_cb(nullptr, nullptr, nullptr), QIX_EINVAL);
}

TEST(CapiOptions, DescriptionListsEveryOptionOnce) {
  auto infos = all_infos();
  ASSERT_EQ(infos.size(), known_names().size());
  std::set<std::string> names;
  for (const auto* info : infos) {
    ASSERT_NE(info, nullptr);
    ASSERT_NE(info->name, nullptr);
    EXPECT_TRUE(names.insert(info->name).second) << "listed twice: " << info->name;
    EXPECT_TRUE(info->value_type == QIX_OPTION_STRING || info->value_type == QIX_OPTION_INT ||
                info->value_type == QIX_OPTION_BOOL)
        << info->name;
    ASSERT_NE(info->values, nullptr);
    ASSERT_NE(info->default_text, nullptr);
    ASSERT_NE(info->doc, nullptr);
    EXPECT_GT(std::strlen(info->doc), 10u) << info->name;
    EXPECT_EQ(std::strchr(info->doc, '\n'), nullptr) << info->name << ": one line";
  }
  EXPECT_EQ(names, known_names());
  // Static data: the same pointers every time.
  EXPECT_EQ(qix_options_info(0), infos[0]);
}

TEST(CapiOptions, DescriptionIsWhatTheSettersDo) {
  for (const auto* info : all_infos()) {
    SCOPED_TRACE(info->name);
    auto opts = fresh();
    qix_options* o = opts.get();
    std::string name = info->name;
    switch (info->value_type) {
      case QIX_OPTION_INT: {
        EXPECT_LE(info->min, info->max);
        EXPECT_EQ(qix_options_set_int(o, info->name, info->min), QIX_OK) << last_message();
        EXPECT_EQ(qix_options_set_int(o, info->name, info->max), QIX_OK) << last_message();
        if (info->min > INT64_MIN) {
          EXPECT_EQ(qix_options_set_int(o, info->name, info->min - 1), QIX_EINVAL);
          EXPECT_EQ(last_message().rfind(name + ": ", 0), 0u) << last_message();
        }
        if (info->max < INT64_MAX) {
          EXPECT_EQ(qix_options_set_int(o, info->name, info->max + 1), QIX_EINVAL);
          EXPECT_EQ(last_message().rfind(name + ": ", 0), 0u) << last_message();
        }
        // The default is a number within the range, and accepted.
        char* end = nullptr;
        long long d = std::strtoll(info->default_text, &end, 10);
        EXPECT_TRUE(*info->default_text && end && *end == '\0') << info->default_text;
        EXPECT_GE(d, info->min);
        EXPECT_LE(d, info->max);
        EXPECT_EQ(qix_options_set_int(o, info->name, d), QIX_OK);
        EXPECT_STREQ(info->values, "");
        EXPECT_EQ(qix_options_set_str(o, info->name, "1"), QIX_EINVAL);
        EXPECT_EQ(qix_options_set_bool(o, info->name, 1), QIX_EINVAL);
        break;
      }
      case QIX_OPTION_BOOL:
        EXPECT_EQ(info->min, 0);
        EXPECT_EQ(info->max, 1);
        EXPECT_TRUE(std::string(info->default_text) == "true" || std::string(info->default_text) == "false")
            << info->default_text;
        EXPECT_EQ(qix_options_set_bool(o, info->name, 0), QIX_OK);
        EXPECT_EQ(qix_options_set_bool(o, info->name, 1), QIX_OK);
        EXPECT_EQ(qix_options_set_int(o, info->name, 1), QIX_EINVAL);
        EXPECT_EQ(last_message(), "unknown integer option: " + name);
        EXPECT_EQ(qix_options_set_str(o, info->name, "true"), QIX_EINVAL);
        break;
      case QIX_OPTION_STRING: {
        EXPECT_EQ(info->min, 0);
        EXPECT_EQ(info->max, 0);
        EXPECT_EQ(qix_options_set_str(o, info->name, info->default_text), QIX_OK) << last_message();
        std::string values = info->values;
        if (values.empty()) {
          EXPECT_EQ(qix_options_set_str(o, info->name, "anything at all"), QIX_OK);
        } else {
          std::size_t start = 0;
          while (start <= values.size()) {
            auto bar = values.find('|', start);
            std::string v = values.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
            EXPECT_EQ(qix_options_set_str(o, info->name, v.c_str()), QIX_OK) << v;
            if (bar == std::string::npos) break;
            start = bar + 1;
          }
          EXPECT_NE(values.find(info->default_text), std::string::npos) << "the default is one of the values";
          EXPECT_EQ(qix_options_set_str(o, info->name, "not-a-value"), QIX_EINVAL);
          EXPECT_EQ(last_message().rfind(name + ": ", 0), 0u) << last_message();
        }
        EXPECT_EQ(qix_options_set_int(o, info->name, 0), QIX_EINVAL);
        break;
      }
      default:
        ADD_FAILURE() << "type " << info->value_type;
    }
  }
}

TEST(CapiOptions, DefaultsAreTheLibrarysDefaults) {
  std::map<std::string, std::string> defaults;
  for (const auto* info : all_infos()) defaults[info->name] = info->default_text;
  EXPECT_EQ(defaults["url"], "");
  EXPECT_EQ(defaults["url.secure"], "true");
  EXPECT_EQ(defaults["url.port"], "0");
  EXPECT_EQ(defaults["url.ttl"], "-1");
  EXPECT_EQ(defaults["timeout.connect_ms"], "30000");
  EXPECT_EQ(defaults["timeout.handshake_ms"], "30000");
  EXPECT_EQ(defaults["timeout.protocol_ms"], "5000");
  EXPECT_EQ(defaults["timeout.call_ms"], "0");
  EXPECT_EQ(defaults["keepalive_ms"], "30000");
  EXPECT_EQ(defaults["max_message_size"], "268435456");
  EXPECT_EQ(defaults["delta"], "true");
  EXPECT_EQ(defaults["reconnect"], "none");
  EXPECT_EQ(defaults["reconnect.max_attempts"], "5");
  EXPECT_EQ(defaults["reconnect.initial_delay_ms"], "200");
  EXPECT_EQ(defaults["reconnect.max_delay_ms"], "5000");
  EXPECT_EQ(defaults["reconnect.greeting_wait_ms"], "1000");
  EXPECT_EQ(defaults["reconnect.queue_calls"], "true");
  EXPECT_EQ(defaults["reconnect.resend"], "false");
  EXPECT_EQ(defaults["retry.aborted"], "0");
  EXPECT_EQ(defaults["tls.verify"], "true");
  EXPECT_EQ(defaults["user_agent"], "libqix");
  EXPECT_EQ(defaults["notification_history"], "64");
  EXPECT_EQ(defaults["watch.min_interval_ms"], "0");
  EXPECT_EQ(defaults["events.poll"], "false");
  EXPECT_EQ(defaults["events.inline"], "true");
  // The URL a fresh qix_options builds agrees with the url.* defaults (wss, localhost, no port).
  auto o = fresh();
  char* url = nullptr;
  ASSERT_EQ(qix_options_get_url(&url, o.get()), QIX_OK);
  EXPECT_EQ(take(url), "wss://localhost/app/engineData");
}

TEST(CapiOptions, DescriptionOutOfRangeAndFromManyThreads) {
  qix_error_clear();
  EXPECT_EQ(qix_options_info(-1), nullptr);
  EXPECT_EQ(qix_error_code(qix_error_last()), QIX_EINVAL);
  EXPECT_EQ(qix_options_info(qix_options_count()), nullptr);
  EXPECT_EQ(qix_error_code(qix_error_last()), QIX_EINVAL);
  EXPECT_NE(last_message().find("not in 0.."), std::string::npos) << last_message();
  // Thread-safe without any set-up: every thread sees the same static descriptions.
  std::vector<std::thread> threads;
  std::vector<const qix_option_info*> seen(8);
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&seen, t] { seen[t] = qix_options_info(qix_options_count() - 1); });
  }
  for (auto& t : threads) t.join();
  for (auto* p : seen) EXPECT_EQ(p, seen[0]);
  ASSERT_NE(seen[0], nullptr);
  EXPECT_STREQ(seen[0]->name, all_infos().back()->name);
}

TEST(CapiOptions, FacadeCopiesTheDescription) {
  ASSERT_EQ(qix::options_count(), qix_options_count());
  for (int i = 0; i < qix::options_count(); ++i) {
    const qix_option_info* c = qix_options_info(i);
    qix::OptionInfo cpp = qix::option_info(i);
    EXPECT_EQ(cpp.name, c->name);
    EXPECT_EQ(cpp.value_type, c->value_type);
    EXPECT_EQ(cpp.min, c->min);
    EXPECT_EQ(cpp.max, c->max);
    EXPECT_EQ(cpp.values, c->values);
    EXPECT_EQ(cpp.default_text, c->default_text);
    EXPECT_EQ(cpp.doc, c->doc);
  }
  try {
    qix::option_info(qix::options_count());
    FAIL() << "no exception for an index out of range";
  } catch (const qix::Error& e) {
    EXPECT_EQ(e.status(), QIX_EINVAL);
  }
}
