// Helpers shared by the session's translation units (session.cpp, call.cpp, object.cpp, reconnect.cpp).
// Internal to core/session: nothing outside it includes this header.
#pragma once

#include "session/object.hpp"

#include <algorithm>
#include <string_view>

namespace qix::core::detail {

/// Methods whose answer carries the object's current data: a successful one makes the object valid.
inline bool is_fetch_method(std::string_view m) {
  if (m == "GetLayout" || m == "GetAppLayout" || m == "GetProperties" || m == "GetAppProperties" ||
      m == "GetFullPropertyTree" || m == "GetEffectiveProperties")
    return true;
  return m.size() > 7 && m.substr(0, 3) == "Get" && m.substr(m.size() - 4) == "Data";
}

/// Removes listener `id` from a vector of entries that have `id` and `fn` (a ListenerFn) members, turning
/// its function off so that events already queued for it are dropped. Called with the session's lock held.
template <class V>
void erase_listener(V& v, ListenerId id) {
  v.erase(std::remove_if(v.begin(), v.end(),
                         [id](const auto& e) {
                           if (e.id != id) return false;
                           e.fn->turn_off();
                           return true;
                         }),
          v.end());
}

}  // namespace qix::core::detail
