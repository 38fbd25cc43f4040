// The C ABI of libqix (include/qix/qix.h): errors, the last-error slot, status texts, the library's
// version and qix_free. The exception barrier and fail() that every other room uses live here.
#include "internal.hpp"

#include <cstdlib>
#include <cstring>
#include <optional>

namespace qix::capi {

namespace {
thread_local std::optional<qix_error> tl_last_error;
}  // namespace

int status_of(core::ErrorKind kind) noexcept {
  switch (kind) {
    case core::ErrorKind::none:
      return QIX_OK;
    case core::ErrorKind::engine:
      return QIX_EENGINE;
    case core::ErrorKind::connection_lost:
      return QIX_ECONNECTION;
    case core::ErrorKind::timeout:
      return QIX_ETIMEOUT;
    case core::ErrorKind::cancelled:
      return QIX_ECANCELLED;
    case core::ErrorKind::closed:
      return QIX_ECLOSED;
    case core::ErrorKind::invalid_argument:
      return QIX_EINVAL;
    case core::ErrorKind::protocol:
      return QIX_EPROTOCOL;
    case core::ErrorKind::message_too_large:
      return QIX_ETOOLARGE;
    case core::ErrorKind::not_found:
      return QIX_ENOTFOUND;
    case core::ErrorKind::http_status:
      return QIX_EHTTP;
    case core::ErrorKind::tls:
      return QIX_ETLS;
    case core::ErrorKind::network:
      return QIX_ENETWORK;
    case core::ErrorKind::busy:
      return QIX_EBUSY;
    case core::ErrorKind::internal:
      return QIX_EINTERNAL;
  }
  return QIX_EINTERNAL;
}

qix_error make_error(const core::Error& e) {
  qix_error out;
  out.status = status_of(e.kind);
  out.engine_code = e.code;
  out.name = e.name;
  out.parameter = e.parameter;
  out.message = e.message.empty() ? e.describe() : e.message;
  out.retriable = e.retriable();
  return out;
}

qix_error make_error(int status, std::string message) {
  qix_error out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

int fail(qix_error err) {
  int status = err.status;
  tl_last_error = std::move(err);
  return status;
}
int fail(int status, std::string message) {
  return fail(make_error(status, std::move(message)));
}
int fail(const core::Error& e) {
  return fail(make_error(e));
}

int fail_nomem() noexcept {
  try {
    return fail(QIX_ENOMEM, "out of memory");
  } catch (...) {
    return QIX_ENOMEM;
  }
}

int fail_internal(const char* what) noexcept {
  try {
    return fail(QIX_EINTERNAL, std::string("internal error: ") + what);
  } catch (...) {
    return QIX_EINTERNAL;
  }
}

char* dup_string(const std::string& s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

}  // namespace qix::capi

using namespace qix::capi;

extern "C" {

const qix_error* qix_error_last(void) {
  return tl_last_error ? &*tl_last_error : nullptr;
}

void qix_error_clear(void) {
  tl_last_error.reset();
}

int qix_error_code(const qix_error* err) {
  return err ? err->status : QIX_EINVAL;
}
int qix_error_engine_code(const qix_error* err) {
  return err ? err->engine_code : 0;
}
const char* qix_error_name(const qix_error* err) {
  return err ? err->name.c_str() : "";
}
const char* qix_error_parameter(const qix_error* err) {
  return err ? err->parameter.c_str() : "";
}
const char* qix_error_message(const qix_error* err) {
  return err ? err->message.c_str() : "";
}
int qix_error_is_retriable(const qix_error* err) {
  return err && err->retriable ? 1 : 0;
}

int qix_error_dup(qix_error** out, const qix_error* err) {
  QIX_TRY
  if (!out) return fail(QIX_EINVAL, "qix_error_dup: out is NULL");
  *out = nullptr;
  if (!err) return fail(QIX_EINVAL, "qix_error_dup: err is NULL");
  *out = new qix_error(*err);
  return QIX_OK;
  QIX_CATCH
}

void qix_error_free(qix_error* err) {
  delete err;
}

const char* qix_strerror(int status) {
  switch (status) {
    case QIX_OK:
      return "success";
    case QIX_EINVAL:
      return "invalid argument";
    case QIX_ECLOSED:
      return "session or object closed";
    case QIX_EENGINE:
      return "engine error";
    case QIX_ETIMEOUT:
      return "timed out";
    case QIX_ECANCELLED:
      return "cancelled";
    case QIX_ECONNECTION:
      return "connection lost";
    case QIX_ENOTFOUND:
      return "not found";
    case QIX_EPROTOCOL:
      return "protocol error";
    case QIX_ETOOLARGE:
      return "message too large";
    case QIX_EHTTP:
      return "HTTP error status";
    case QIX_ETLS:
      return "TLS error";
    case QIX_ENETWORK:
      return "network error";
    case QIX_EBUSY:
      return "busy: not possible from a callback";
    case QIX_ENOMEM:
      return "out of memory";
    case QIX_EINTERNAL:
      return "internal error";
    default:
      return "unknown status";
  }
}

const char* qix_version(void) {
  return QIX_VERSION_STRING;
}

void qix_free(void* ptr) {
  std::free(ptr);
}

}  // extern "C"
