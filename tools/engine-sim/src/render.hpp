// qix-engine-sim: rendering: an object's layout from its properties (hypercubes, list objects, selection
// objects, string/value expressions), data pages and their cells, with each hypercube or list object
// calculated once per selection epoch and properties version (CubeCache).
// Threading: not thread-safe; the engine's one I/O thread only.
#pragma once

#include "expr.hpp"
#include "state.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qix::sim {

/// A calculated hypercube or list object of one handle, valid for one selection epoch and one version of
/// the object's properties.
struct CubeCache {
  std::uint64_t epoch = 0, version = 0;
  json::object layout;  // qHyperCube / qListObject without qDataPages
  int error = 0;
  bool list = false;
  std::vector<int> dim_fields;
  CubeResult result;
  std::vector<std::uint32_t> order;  // display order: result rows sorted
  std::string state;
  std::size_t cols = 0;
};

/// The hypercube defined by `def` at `path` in the handle's object (cached).
std::shared_ptr<CubeCache> hypercube(Connection& c, HandleEntry& e, const std::string& path,
                                     const json::value& def);
/// The list object defined by `def` at `path` in the handle's object (cached).
std::shared_ptr<CubeCache> listobject(Connection& c, HandleEntry& e, const std::string& path,
                                      const json::value& def);
/// The data pages `req` asks for (qTop/qLeft/qWidth/qHeight). A page over 10,000 cells fails with 7009
/// when `strict`, else is left out; a negative size or position fails with -32602. `show_alt`: alternative
/// values show as "A", else as "X".
json::array pages(Connection& c, const CubeCache& cc, const json::array& req, bool show_alt, bool strict);
/// pages() as JSON text appended to `out`, written straight from the cube (no object per cell): the one
/// writer of data pages; pages() parses what it writes, for a caller that needs the value (a delta answer,
/// a layout's initial data fetch). Fails alike.
void pages_text(Connection& c, const CubeCache& cc, const json::array& req, bool show_alt, bool strict,
                std::string& out);
/// The layout of `v` (an object's properties or a part at `path`).
json::value layout_of(Connection& c, HandleEntry& e, const json::value& v, const std::string& path);
/// Evaluates an expression over the session's default state; throws ExprError.
Value eval_text(Connection& c, const std::string& src);

}  // namespace qix::sim
