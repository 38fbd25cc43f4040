// Bulk extraction: every row of a hypercube, streamed in row order, with a window of GetHyperCubeData
// calls kept in flight on one Object.
//
// How it runs: a fresh GetLayout (no delta) gives the cube's size (qSize at the layout counterpart of the
// properties path: "/qHyperCubeDef" is read as qHyperCube); then pages of `page_height` rows (qTop
// advancing, all columns) are requested, at most `window` of them issued and not yet delivered at any time,
// so both the calls in flight and the pages held back (answered before an earlier page) are bounded by the
// window. Rows are delivered strictly in order, each page once every page before it was delivered.
//
// Threads: the row and done callbacks run on the session's event executor (the dispatcher, or the thread
// that polls), one at a time, in row order; they must not block for long. stop() may be called from any
// thread, including from inside the row callback.
#pragma once

#include "json/json.hpp"
#include "rpc/error.hpp"
#include "session/session.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace qix::core {

/// The engine's limit on the cells (rows x columns) of one GetHyperCubeData page.
inline constexpr std::int64_t kMaxPageCells = 10000;

struct ExtractOptions {
  /// The hypercube's path in the object's properties, e.g. "/qHyperCubeDef". Must not be empty.
  std::string path = "/qHyperCubeDef";
  /// Rows per page; 0 = as many as fit in kMaxPageCells. Always capped so that a page stays within
  /// kMaxPageCells (a cube wider than that gets one row per page). Must be >= 0.
  std::int64_t page_height = 0;
  /// Pages issued and not yet delivered, at most: the calls in flight plus the pages answered out of order
  /// and held until the pages before them arrive. Must be >= 1.
  int window = 4;
};

/// One row: the JSON array of its cells (borrowed for the call) and its index (0-based). Return true to
/// continue, false to stop (the extraction then ends with ErrorKind::cancelled).
using ExtractRowCallback = std::function<bool(const json::value& row, std::int64_t index)>;

/// The end, exactly once: `error` is empty when every row was delivered; otherwise why it ended (the
/// GetLayout's or a page's error, ErrorKind::invalid_argument when the path names no hypercube,
/// ErrorKind::protocol for a page without a qMatrix, ErrorKind::cancelled after a stop, ErrorKind::closed
/// or connection_lost when the session ended). `rows`: the rows the row callback accepted.
using ExtractDoneCallback = std::function<void(const Error& error, std::int64_t rows)>;

/// A running extraction. Owned jointly by the caller and the calls in flight: dropping the caller's
/// reference does not stop it (use stop()).
class Extraction {
 public:
  virtual ~Extraction() = default;

  /// Asks the extraction to end: the calls in flight are cancelled (CancelRequest), no further row is
  /// delivered once the current row callback returns, and the done callback runs with
  /// ErrorKind::cancelled (unless it ended otherwise first). Thread-safe, never blocks, idempotent.
  virtual void stop() = 0;
  /// True once the done callback was called (or is being called).
  virtual bool finished() const = 0;
};

/// Starts extracting the hypercube at `options.path` of `object`. Returns at once; the callbacks run
/// later on the session's event executor (never inside this call). On a closed object the done callback
/// runs with ErrorKind::closed. Throws std::invalid_argument for an empty path, a negative page height,
/// a window < 1, or missing callbacks (nothing is sent then).
std::shared_ptr<Extraction> extract(std::shared_ptr<Object> object, ExtractOptions options,
                                    ExtractRowCallback on_row, ExtractDoneCallback on_done);

}  // namespace qix::core
