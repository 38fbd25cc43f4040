// qix-engine-sim: what a request carries and how a call fails. A handler reads its parameters through
// Args, resolved by position or by name against the method's entry in the shared Engine API table
// (qix_spec: core/rpc/methods.hpp, generated from the engine spec) with its defaults, and fails with
// fail(code, parameter): the dispatcher answers {"code","parameter","message"} (errors.hpp).
// Thread safety: plain values; the tables are immutable static data.
#pragma once

#include "errors.hpp"
#include "json_util.hpp"
#include "rpc/methods.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qix::sim {

/// A call's failure: a LOCERR code (errors.hpp) and the "parameter" text of the error.
struct RpcError {
  int code;
  std::string parameter;
};

[[noreturn]] inline void fail(int code, std::string parameter) {
  throw RpcError{code, std::move(parameter)};
}

/// A parameter the spec marks required that the simulator lets a client leave out, and the value (JSON)
/// it takes then.
struct Fallback {
  std::string_view param;
  std::string_view value_json;
};

/// A call's parameters, resolved by position or by name against the method's in parameters: a missing one
/// takes the spec's default (else its fallback); a missing required one fails with -32602 "Missing
/// parameter <name>". The typed getters fail with -32602 naming the parameter when the value has another
/// type.
class Args {
 public:
  Args(const core::MethodInfo& method, std::span<const Fallback> fallbacks, const json::value* params);
  const json::value& at(std::size_t i) const { return values_.at(i); }
  std::string str(std::size_t i) const;
  bool boolean(std::size_t i) const;
  double number(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  const json::object& object(std::size_t i) const;
  const json::array& array(std::size_t i) const;

 private:
  std::vector<json::value> values_;
  std::vector<std::string_view> names_;
};

}  // namespace qix::sim
