// qix-engine-sim: what a request carries and how a call fails. A handler reads its parameters through
// Args (resolved by position or by name against the method's parameter list, with its defaults) and fails
// with fail(code, parameter): the dispatcher answers {"code","parameter","message"}.
// Thread safety: plain values and immutable tables.
#pragma once

#include "json_util.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qix::sim {

constexpr const char* kEngineVersion = "12.2528.0";

/// A call's failure: a LOCERR code and the "parameter" text of the error.
struct RpcError {
  int code;
  std::string parameter;
};

[[noreturn]] inline void fail(int code, std::string parameter) { throw RpcError{code, std::move(parameter)}; }

/// The engine's text for a LOCERR code.
const char* locerr_message(int code);

// Method table: class, method, parameters (name, default as JSON or nullptr when required).
struct ParamSpec {
  const char* name;
  const char* def;
};

struct MethodSpec {
  std::vector<ParamSpec> params;
};

const std::map<std::string, MethodSpec>& method_table();

/// A call's parameters, resolved by position or by name against the method's parameter list; a missing
/// parameter takes its default, a missing required one fails with -32602. The typed getters fail with
/// -32602 naming the parameter when the value has another type.
class Args {
 public:
  Args(const MethodSpec& spec, const json::value* params);
  const json::value& at(std::size_t i) const { return values_.at(i); }
  std::string str(std::size_t i) const;
  bool boolean(std::size_t i) const;
  double number(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  const json::object& object(std::size_t i) const;
  const json::array& array(std::size_t i) const;

 private:
  std::vector<json::value> values_;
  std::vector<const char*> names_;
};

}  // namespace qix::sim
