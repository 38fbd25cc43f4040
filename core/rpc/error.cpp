#include "rpc/error.hpp"

#include <utility>

#include "rpc/locerr.hpp"

namespace qix::core {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::none:
      return "none";
    case ErrorKind::engine:
      return "engine";
    case ErrorKind::connection_lost:
      return "connection_lost";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::cancelled:
      return "cancelled";
    case ErrorKind::closed:
      return "closed";
    case ErrorKind::invalid_argument:
      return "invalid_argument";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::message_too_large:
      return "message_too_large";
    case ErrorKind::not_found:
      return "not_found";
    case ErrorKind::http_status:
      return "http_status";
    case ErrorKind::tls:
      return "tls";
    case ErrorKind::network:
      return "network";
    case ErrorKind::busy:
      return "busy";
    case ErrorKind::internal:
      return "internal";
  }
  return "unknown";
}

bool Error::retriable() const noexcept {
  switch (kind) {
    case ErrorKind::engine:
      return code == 15;  // LOCERR_GENERIC_ABORTED: a later request made this one obsolete.
    case ErrorKind::timeout:
    case ErrorKind::connection_lost:
      return true;
    default:
      return false;
  }
}

std::string Error::describe() const {
  std::string s;
  switch (kind) {
    case ErrorKind::none:
      return "no error";
    case ErrorKind::engine: {
      s = "engine error ";
      s += std::to_string(code);
      if (!name.empty()) {
        s += ' ';
        s += name;
      }
      std::string_view text = message;
      if (text.empty()) {
        if (const LocerrInfo* info = find_locerr(code)) text = info->message;
      }
      if (!text.empty()) {
        s += ": ";
        s += text;
      }
      if (!parameter.empty()) {
        s += text.empty() ? ": (" : " (";
        s += parameter;
        s += ')';
      }
      return s;
    }
    case ErrorKind::http_status:
      s = "HTTP ";
      s += std::to_string(code);
      break;
    default:
      s = to_string(kind);
      break;
  }
  if (!message.empty()) {
    s += ": ";
    s += message;
  }
  return s;
}

Error Error::engine(int code, std::string parameter, std::string message) {
  Error e;
  e.kind = ErrorKind::engine;
  e.code = code;
  if (const LocerrInfo* info = find_locerr(code)) e.name = std::string(info->name);
  e.parameter = std::move(parameter);
  e.message = std::move(message);
  return e;
}

}  // namespace qix::core
