#include "transport/transport.hpp"

namespace qix::core {

const char* describe_close_code(int code) noexcept {
  switch (code) {
    case close_code::normal:
      return "normal closure";
    case close_code::going_away:
      return "going away";
    case close_code::abnormal:
      return "abnormal closure, no close frame";
    case close_code::message_too_big:
      return "message too big";
    case close_code::client_suspend:
      return "client suspend";
    case close_code::idle_timeout:
      return "session idle timeout";
    case close_code::license_renewal:
      return "license renewal";
    case close_code::engine_terminating:
      return "engine terminating";
    case close_code::app_deleted:
      return "app deleted";
    case close_code::session_limit:
      return "session limit exceeded";
    case close_code::authentication_failed:
      return "authentication failed";
    case close_code::app_mode_changed:
      return "app mode changed";
    default:
      return "";
  }
}

std::string CloseInfo::describe() const {
  // A lost connection's message says what happened without the kind's name ("connection_lost: ..."), and a
  // client-side protocol close (a server that does not speak QIX) is described by that verdict alone.
  std::string err = error.kind == ErrorKind::connection_lost ? error.message : error.describe();
  if (error && code == close_code::abnormal) return reason.empty() ? err : err + "; " + reason;
  if (error.kind == ErrorKind::protocol && by_client && code == close_code::protocol_error)
    return error.message;
  std::string s = by_client ? "closed by the client with code " : "closed by the engine with code ";
  s += std::to_string(code);
  if (const char* d = describe_close_code(code); *d) {
    s += " (";
    s += d;
    s += ")";
  }
  if (!reason.empty()) {
    s += ": ";
    s += reason;
  }
  if (error) {
    s += "; ";
    s += err;
  }
  return s;
}

}  // namespace qix::core
