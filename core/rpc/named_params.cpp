#include "rpc/named_params.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace qix::core {

namespace {

std::string full_name(const MethodInfo& m) {
  std::string s;
  s.reserve(m.cls.size() + 1 + m.name.size());
  s += m.cls;
  s += '.';
  s += m.name;
  return s;
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

std::string param_list(const MethodInfo& m) {
  if (m.in.empty()) return "it takes no parameters";
  std::string s = "expected: ";
  for (std::size_t i = 0; i < m.in.size(); ++i) {
    if (i != 0) s += ", ";
    s += m.in[i].name;
  }
  return s;
}

}  // namespace

bool named_to_positional(const MethodInfo& method, const boost::json::object& named, boost::json::array& out,
                         std::string* error) {
  for (const auto& member : named) {
    const bool known = std::any_of(method.in.begin(), method.in.end(),
                                   [&](const ParamInfo& p) { return p.name == member.key(); });
    if (!known) {
      return fail(error, "unknown parameter '" + std::string(member.key()) + "' for " + full_name(method) +
                             " (" + param_list(method) + ")");
    }
  }

  std::size_t count = 0;
  for (std::size_t i = 0; i < method.in.size(); ++i) {
    const ParamInfo& p = method.in[i];
    if (named.contains(p.name)) {
      count = i + 1;
    } else if (p.required) {
      return fail(error, "missing required parameter '" + std::string(p.name) + "' of " + full_name(method));
    }
  }

  boost::json::array result(out.storage());
  result.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const ParamInfo& p = method.in[i];
    if (const boost::json::value* given = named.if_contains(p.name)) {
      result.push_back(*given);
      continue;
    }
    if (p.default_json.empty()) {
      return fail(error, "parameter '" + std::string(p.name) + "' of " + full_name(method) +
                             " has no default value; pass it explicitly when a later parameter is given");
    }
    boost::system::error_code ec;
    boost::json::value def = boost::json::parse(p.default_json, ec, out.storage());
    if (ec) {
      return fail(error, "internal error: bad default " + std::string(p.default_json) + " for parameter '" +
                             std::string(p.name) + "' of " + full_name(method));
    }
    result.push_back(std::move(def));
  }
  out = std::move(result);
  return true;
}

}  // namespace qix::core
