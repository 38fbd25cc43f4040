// fuzz_capi_args: JSON and string arguments through the C API: call params (validated before anything
// is sent), option names and values, and the URL built from them. The session never connects (its URL
// points at a closed port), so every call ends as QIX_EINVAL (bad params) or QIX_ECLOSED.
#include "qix/qix.h"

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);  // NUL-terminated copy
  static qix_session* session = [] {
    qix_options* o = nullptr;
    qix_options_new(&o);
    qix_options_set_str(o, "url", "ws://127.0.0.1:1/app/x");
    qix_options_set_int(o, "timeout.connect_ms", 1);
    qix_session* s = nullptr;
    qix_session_open(&s, nullptr, o, nullptr, nullptr);
    qix_options_free(o);
    return s;
  }();
  int64_t id = 0;
  qix_session_call(&id, session, "Evaluate", text.c_str(), QIX_CALL_DEFAULT, -1, nullptr, nullptr);
  qix_result* r = nullptr;
  if (qix_session_call_sync(&r, session, "Evaluate", text.c_str(), QIX_CALL_DELTA, 1) == QIX_OK)
    qix_result_free(r);
  qix_session_call_handle(&id, session, 1, text.c_str(), text.c_str(), QIX_CALL_NO_DELTA, -1, nullptr,
                          nullptr);

  qix_options* o = nullptr;
  qix_options_new(&o);
  auto nl = text.find('\n');
  std::string name = text.substr(0, nl);
  std::string value = nl == std::string::npos ? "" : text.substr(nl + 1);
  qix_options_set_str(o, name.c_str(), value.c_str());
  qix_options_set_int(o, name.c_str(), static_cast<int64_t>(std::hash<std::string>{}(value)));
  qix_options_set_bool(o, name.c_str(), static_cast<int>(value.size() & 1));
  qix_options_add_header(o, name.c_str(), value.c_str());
  qix_options_add_url_param(o, name.c_str(), value.c_str());
  for (const char* part :
       {"url.host", "url.prefix", "url.app_id", "url.identity", "url.route", "url.subpath"}) {
    qix_options_set_str(o, part, value.c_str());
  }
  char* url = nullptr;
  if (qix_options_get_url(&url, o) == QIX_OK) qix_free(url);
  qix_options_set_str(o, "url", text.c_str());
  if (qix_options_get_url(&url, o) == QIX_OK) qix_free(url);
  qix_options_free(o);
  qix_error_clear();
  return 0;
}
