// Named params to positional ones, by the Engine API's method table (rpc/methods.hpp): part of the core
// (it needs Boost.JSON), not of the Boost-free qix_spec library that holds the table.
// Thread safety: reentrant; the table it reads is immutable static data.
#pragma once

#include "rpc/methods.hpp"

#include <boost/json.hpp>

#include <string>

namespace qix::core {

/// Converts named params (a JSON object keyed by parameter name) to the positional array the engine would
/// take for `method`. Positions up to the last parameter present in `named` are filled: with the given
/// value, else with the parameter's default. Parameters after the last given one are left out, so the
/// engine applies its own defaults (as it does for named params).
/// Returns false, with a message in `*error` (when not null), when `named` has a key that is not a
/// parameter of the method, when a required parameter is missing, or when a skipped parameter has no
/// default. Ownership: values are copied from `named`; on success `out` is replaced (its memory resource
/// is kept); on failure `out` is left unchanged. Threading: reentrant.
bool named_to_positional(const MethodInfo& method, const boost::json::object& named, boost::json::array& out,
                         std::string* error);

}  // namespace qix::core
