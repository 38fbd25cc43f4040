#include "rpc/methods.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

namespace qix::core {

namespace {

#include "rpc/methods_table.inc"

constexpr bool method_less(const MethodInfo &a, const MethodInfo &b) {
  return a.cls != b.cls ? a.cls < b.cls : a.name < b.name;
}

constexpr bool methods_sorted() {
  for (std::size_t i = 1; i < std::size(kMethods); ++i) {
    if (!method_less(kMethods[i - 1], kMethods[i])) return false;
  }
  return true;
}
static_assert(methods_sorted(), "kMethods must be sorted by (cls, name), without duplicates");

constexpr bool by_name_sorted() {
  if (std::size(kByName) != std::size(kMethods)) return false;
  for (std::size_t i = 1; i < std::size(kByName); ++i) {
    if (kMethods[kByName[i - 1]].name > kMethods[kByName[i]].name) return false;
  }
  return true;
}
static_assert(by_name_sorted(), "kByName must index every method, sorted by name");

std::string full_name(const MethodInfo &m) {
  std::string s;
  s.reserve(m.cls.size() + 1 + m.name.size());
  s += m.cls;
  s += '.';
  s += m.name;
  return s;
}

bool fail(std::string *error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

std::string param_list(const MethodInfo &m) {
  if (m.in.empty()) return "it takes no parameters";
  std::string s = "expected: ";
  for (std::size_t i = 0; i < m.in.size(); ++i) {
    if (i != 0) s += ", ";
    s += m.in[i].name;
  }
  return s;
}

}  // namespace

std::string_view engine_spec_version() noexcept {
  return kEngineSpecVersion;
}

std::span<const MethodInfo> all_methods() noexcept {
  return kMethods;
}

const MethodInfo *find_method(std::string_view cls, std::string_view method) noexcept {
  const MethodInfo key{cls, method, {}, {}, {}};
  const auto *it = std::lower_bound(std::begin(kMethods), std::end(kMethods), key, method_less);
  return (it != std::end(kMethods) && it->cls == cls && it->name == method) ? it : nullptr;
}

bool is_known_class(std::string_view cls) noexcept {
  const MethodInfo key{cls, {}, {}, {}, {}};
  const auto *it = std::lower_bound(std::begin(kMethods), std::end(kMethods), key, method_less);
  return it != std::end(kMethods) && it->cls == cls;
}

const MethodInfo *find_method_any_class(std::string_view method) noexcept {
  const auto *it = std::lower_bound(std::begin(kByName), std::end(kByName), method,
                                    [](std::uint16_t i, std::string_view n) { return kMethods[i].name < n; });
  return (it != std::end(kByName) && kMethods[*it].name == method) ? &kMethods[*it] : nullptr;
}

bool delta_eligible(const MethodInfo &method) noexcept {
  std::size_t count = 0;
  std::string_view only;
  for (const std::string_view out : method.out) {
    if (out == "qReturn") continue;
    ++count;
    only = out;
  }
  return count == 1 && only != "qSuccess";
}

bool named_to_positional(const MethodInfo &method, const boost::json::object &named, boost::json::array &out,
                         std::string *error) {
  for (const auto &member : named) {
    const bool known = std::any_of(method.in.begin(), method.in.end(),
                                   [&](const ParamInfo &p) { return p.name == member.key(); });
    if (!known) {
      return fail(error, "unknown parameter '" + std::string(member.key()) + "' for " + full_name(method) +
                             " (" + param_list(method) + ")");
    }
  }

  std::size_t count = 0;
  for (std::size_t i = 0; i < method.in.size(); ++i) {
    const ParamInfo &p = method.in[i];
    if (named.contains(p.name)) {
      count = i + 1;
    } else if (p.required) {
      return fail(error, "missing required parameter '" + std::string(p.name) + "' of " + full_name(method));
    }
  }

  boost::json::array result(out.storage());
  result.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const ParamInfo &p = method.in[i];
    if (const boost::json::value *given = named.if_contains(p.name)) {
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
