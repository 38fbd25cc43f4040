#include "rpc/methods.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace qix::core {

namespace {

#include "rpc/methods_table.inc"

constexpr bool method_less(const MethodInfo& a, const MethodInfo& b) {
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

}  // namespace

std::string_view engine_spec_version() noexcept {
  return kEngineSpecVersion;
}

std::span<const MethodInfo> all_methods() noexcept {
  return kMethods;
}

const MethodInfo* find_method(std::string_view cls, std::string_view method) noexcept {
  const MethodInfo key{cls, method, {}, {}, {}};
  const auto* it = std::lower_bound(std::begin(kMethods), std::end(kMethods), key, method_less);
  return (it != std::end(kMethods) && it->cls == cls && it->name == method) ? it : nullptr;
}

bool is_known_class(std::string_view cls) noexcept {
  const MethodInfo key{cls, {}, {}, {}, {}};
  const auto* it = std::lower_bound(std::begin(kMethods), std::end(kMethods), key, method_less);
  return it != std::end(kMethods) && it->cls == cls;
}

const MethodInfo* find_method_any_class(std::string_view method) noexcept {
  const auto* it = std::lower_bound(std::begin(kByName), std::end(kByName), method,
                                    [](std::uint16_t i, std::string_view n) { return kMethods[i].name < n; });
  return (it != std::end(kByName) && kMethods[*it].name == method) ? &kMethods[*it] : nullptr;
}

bool delta_eligible(const MethodInfo& method) noexcept {
  std::size_t count = 0;
  std::string_view only;
  for (const std::string_view out : method.out) {
    if (out == "qReturn") continue;
    ++count;
    only = out;
  }
  return count == 1 && only != "qSuccess";
}

}  // namespace qix::core
