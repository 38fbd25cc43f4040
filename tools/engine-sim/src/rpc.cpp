// qix-engine-sim: request parameters and error texts, both from the shared Engine API tables (qix_spec).
#include "rpc.hpp"

#include "model.hpp"
#include "rpc/locerr.hpp"

#include <algorithm>

namespace qix::sim {

std::string_view locerr::message(int code) {
  const core::LocerrInfo* info = core::find_locerr(code);
  if (info == nullptr) info = core::find_locerr(kInternalError);
  return info != nullptr ? info->message : std::string_view();
}

namespace {

const Fallback* fallback_of(std::span<const Fallback> fallbacks, std::string_view param) {
  auto it =
      std::find_if(fallbacks.begin(), fallbacks.end(), [&](const Fallback& f) { return f.param == param; });
  return it != fallbacks.end() ? &*it : nullptr;
}

}  // namespace

Args::Args(const core::MethodInfo& method, std::span<const Fallback> fallbacks, const json::value* params) {
  const json::array* arr = params ? params->if_array() : nullptr;
  const json::object* obj = params ? params->if_object() : nullptr;
  if (params && !arr && !obj && !params->is_null()) fail(locerr::kInvalidParameters, "params");
  for (std::size_t i = 0; i < method.in.size(); ++i) {
    const core::ParamInfo& p = method.in[i];
    const json::value* v = nullptr;
    if (arr && i < arr->size()) v = &(*arr)[i];
    if (obj) {
      auto it = obj->find(p.name);
      if (it != obj->end()) v = &it->value();
    }
    if (v) {
      values_.push_back(*v);
    } else if (!p.required) {
      values_.push_back(json::parse(p.default_json));
    } else if (const Fallback* f = fallback_of(fallbacks, p.name)) {
      values_.push_back(json::parse(f->value_json));
    } else {
      fail(locerr::kInvalidParameters, "Missing parameter " + std::string(p.name));
    }
    names_.push_back(p.name);
  }
}

std::string Args::str(std::size_t i) const {
  const auto& v = at(i);
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return {};
  fail(locerr::kInvalidParameters, std::string(names_[i]));
}

bool Args::boolean(std::size_t i) const {
  const auto& v = at(i);
  if (v.is_bool()) return v.get_bool();
  if (v.is_number()) return v.to_number<double>() != 0;
  if (v.is_null()) return false;
  fail(locerr::kInvalidParameters, std::string(names_[i]));
}

double Args::number(std::size_t i) const {
  const auto& v = at(i);
  if (v.is_number()) return v.to_number<double>();
  if (v.is_string()) {
    double d = 0;
    if (parse_number(v.get_string(), d)) return d;
  }
  fail(locerr::kInvalidParameters, std::string(names_[i]));
}

std::int64_t Args::integer(std::size_t i) const {
  auto n = core::integer_of(&at(i));
  if (!n) fail(locerr::kInvalidParameters, std::string(names_[i]));
  return *n;
}

const json::object& Args::object(std::size_t i) const {
  if (!at(i).is_object()) fail(locerr::kInvalidParameters, std::string(names_[i]));
  return at(i).get_object();
}

const json::array& Args::array(std::size_t i) const {
  if (!at(i).is_array()) fail(locerr::kInvalidParameters, std::string(names_[i]));
  return at(i).get_array();
}

}  // namespace qix::sim
