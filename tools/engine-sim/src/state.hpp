// qix-engine-sim: what the engine keeps between requests: the apps, the sessions (with their selections,
// session objects and variables), the connections with their handles, and change tracking (which handles
// a response lists in "change" and "close").
// Threading: not thread-safe; the server calls the engine from its one I/O thread only.
#pragma once

#include "engine.hpp"
#include "json_util.hpp"
#include "model.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qix::sim {

struct CubeCache;  // render.hpp

/// A generic object: its properties and what its calculations depend on. Persistent objects (CreateObject)
/// belong to the app and are shared by every session; session objects to one session.
struct ObjectDef {
  std::string id, type;
  json::value props;
  std::uint64_t version = 0;
  bool persistent = false;
  bool calc = false;
  std::string state = "$";
  std::set<std::string> states;  // every state its calculations use (top level and inside the defs)
  /// Replaces the properties (qInfo is kept as id and type) and bumps the version.
  void set_props(json::value p);
};

struct VariableDef {
  std::string id, name;
  json::value props;
  std::string definition() const { return str_of(core::find_member(props, "qDefinition")); }
};

struct AppState {
  std::string id;
  std::shared_ptr<AppData> data;
  bool session_app = false;
  std::map<std::string, std::shared_ptr<ObjectDef>> objects;  // persistent, shared by sessions
};

struct Session {
  std::string key;  // app|identity; empty = cannot be attached
  std::string url_app;
  std::shared_ptr<AppState> app;
  Selections selections;
  std::map<std::string, std::shared_ptr<ObjectDef>> objects;  // session objects
  std::map<std::string, std::shared_ptr<VariableDef>> variables;
  int ttl = 0;
  std::chrono::steady_clock::time_point expires;
  bool connected = false;
};

enum class HKind { Doc, Object, Field, Variable };

struct HandleEntry {
  HKind kind = HKind::Doc;
  std::shared_ptr<ObjectDef> obj;
  std::shared_ptr<VariableDef> var;
  int field = -1;
  std::string state = "$";
  bool valid = false;
  std::map<std::string, std::shared_ptr<CubeCache>> cubes;  // calculated hypercubes/list objects by path
};

class Connection {
 public:
  std::shared_ptr<Session> session;
  std::map<int, HandleEntry> handles;
  int next_handle = 1;
  std::vector<int> change, closed;
  std::unordered_map<std::string, json::value> delta_cache;
  std::function<void(std::string)> push;
};

/// The engine's state. Handles: a new handle is listed in "change" at once; a handle is listed again only
/// on its valid->invalid edge (GetLayout and the other data calls mark it valid).
struct EngineState {
  EngineConfig cfg;
  std::map<std::string, std::shared_ptr<AppState>> apps;
  std::map<std::string, std::shared_ptr<Session>> parked;  // disconnected sessions kept for their TTL
  std::set<Connection*> conns;

  /// Loads the apps (--data, else the built-in ones); throws std::runtime_error.
  explicit EngineState(EngineConfig config);

  /// A connection on `target` ("/app/<id>[/identity/<x>][/ttl/<n>]"): attaches a parked session of the
  /// same app and identity, else creates one. Fills `greeting` with the OnConnected notification.
  std::shared_ptr<Connection> connect(std::string_view target, std::function<void(std::string)> push,
                                      std::string& greeting);
  /// Parks the connection's session for its TTL (when it has one) and drops its handles.
  void disconnect(Connection& c);

  /// The app `name` (an id, or a path whose last part, without ".qvf", is the id); nullptr when unknown.
  std::shared_ptr<AppState> find_app(const std::string& name);

  int new_handle(Connection& c, HandleEntry e);
  void invalidate(Connection& c, int h);
  void release(Connection& c, int h);
  /// Pushes the pending change/close lists of every other connection as a frame without id.
  void flush_others(Connection& self);
  /// Invalidates what the states `change` names feed (calculated objects using them, and variables
  /// defined with '='). Returns change.applied.
  bool apply(Connection& c, const SelectionChange& change);
  /// An object's properties changed: invalidates it in every connection that has it open.
  void object_changed(const std::shared_ptr<ObjectDef>& obj);
  /// Releases every handle, in every connection, of a destroyed object.
  void object_destroyed(const std::shared_ptr<ObjectDef>& obj);

  int handle_for_object(Connection& c, const std::shared_ptr<ObjectDef>& obj);
  int handle_for_variable(Connection& c, const std::shared_ptr<VariableDef>& var);
  int doc_handle(Connection& c);
  /// A session object, else a persistent object of the session's app, by id; nullptr when neither.
  std::shared_ptr<ObjectDef> find_object(Connection& c, const std::string& id);
  /// A new object from properties (a random id when qInfo has none).
  static std::shared_ptr<ObjectDef> make_object(const json::object& prop, bool persistent);
};

/// The session's open app; fails with 1007 when there is none.
AppState& doc(Connection& c);
inline const AppData& data(Connection& c) {
  return *doc(c).data;
}

/// Six random characters (object and variable ids) and a random UUID (GetUniqueID, session apps).
std::string random_id();
std::string random_uuid();

}  // namespace qix::sim
