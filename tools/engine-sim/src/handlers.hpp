// qix-engine-sim: the methods it implements, one function per method, grouped by class in global.cpp,
// doc.cpp, generic_object.cpp, field.cpp and generic_variable.cpp. Each class's list names its methods;
// the dispatcher routes a request to the function its handle's class lists under the method's name, with
// the method's parameters from the shared Engine API table (qix_spec). Any other method is -32601.
// Threading: not thread-safe; the engine's one I/O thread only.
#pragma once

#include "rpc.hpp"
#include "state.hpp"

#include <span>
#include <string>
#include <string_view>

namespace qix::sim {

/// One call: the engine's state, the connection, the handle (-1 and no entry for Global) and the params.
struct Call {
  EngineState& engine;
  Connection& conn;
  int handle;
  HandleEntry* entry;
  const Args& args;
  /// Where a handler may write its whole result object as JSON text instead of returning it (then it returns
  /// an empty object): set for an answer sent as it is (no delta), null otherwise. Used for data pages.
  std::string* text_result = nullptr;
};

/// Returns the call's result (its out parameters by name), or writes it to Call::text_result; fails by
/// throwing RpcError or ExprError.
using Handler = json::object (*)(Call&);

/// A method the simulator implements: its name in the class's entry of the shared Engine API table (which
/// gives its parameters), its handler, and the required parameters it lets clients leave out.
struct MethodImpl {
  std::string_view name;
  Handler run;
  std::span<const Fallback> fallbacks = {};
};

std::span<const MethodImpl> global_methods();
std::span<const MethodImpl> doc_methods();
std::span<const MethodImpl> generic_object_methods();
std::span<const MethodImpl> field_methods();
std::span<const MethodImpl> generic_variable_methods();

/// A reference to an object, as qReturn carries it.
inline json::object obj_ref(const char* type, int handle, const std::string& id, const std::string& gtype) {
  json::object r;
  r["qType"] = type;
  r["qHandle"] = handle;
  r["qGenericType"] = gtype;
  r["qGenericId"] = id;
  return r;
}

/// The qReturn of a Get* that found nothing.
inline json::object null_ref() {
  return json::object{{"qType", nullptr}, {"qHandle", nullptr}};
}

}  // namespace qix::sim
