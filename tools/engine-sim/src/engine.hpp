// qix-engine-sim: the protocol engine, as the server sees it: it knows nothing about sockets; the server
// feeds it text frames and sends what it returns. Inside: dispatch.cpp (parsing, routing, errors, delta),
// state.* (apps, sessions, handles, change tracking), render.* (layouts, pages, cells), one file of
// handlers per class (handlers.hpp), and the model (model.*: data and selections; expr.*: expressions).
// Threading: not thread-safe; the server calls it from its one I/O thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace qix::sim {

struct EngineConfig {
  std::string data_dir;
  std::size_t demo_rows = 2000;
  int session_ttl = 0;
};

class Connection;

/// One parsed incoming frame. The summary fields serve the server's scheduling and statistics.
struct Request {
  std::string method;
  bool has_id = false;
  std::int64_t id_num = -1;         // -1 when the id is not an integer
  bool calc = false;                // a calculation that --calc-delay-ms slows down
  std::int64_t cancel_target = -1;  // for Global.CancelRequest: the qRequestId it cancels
  std::shared_ptr<void> body;       // engine-private parsed JSON
};

class Engine {
 public:
  explicit Engine(EngineConfig config);  // loads the apps; throws std::runtime_error
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// A WebSocket connection opened on `target` (the request path). `push` sends an unsolicited frame
  /// to it. Returns the connection and fills `greeting` with the OnConnected notification.
  std::shared_ptr<Connection> open(std::string_view target, std::function<void(std::string)> push,
                                   std::string& greeting);
  void close(Connection& c);

  /// Parses one incoming frame (never throws; a broken frame yields a request that answers -32700).
  std::unique_ptr<Request> parse(std::string_view frame) const;
  /// Handles it; returns the response frame, or "" for a notification without id.
  std::string handle(Connection& c, Request& r);
  /// The response that aborts `r` with LOCERR_GENERIC_ABORTED (15).
  std::string aborted(const Request& r) const;
  /// Bumped whenever a selection changes in the connection's session.
  std::uint64_t epoch(const Connection& c) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qix::sim
