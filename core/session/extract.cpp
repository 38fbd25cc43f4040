// Bulk extraction (see extract.hpp): a window of GetHyperCubeData calls in flight, pages delivered in row
// order.
//
// Invariant that makes stop() safe from any thread: until the extraction is finished, at least one of its
// calls is in flight, or an answer callback is running and will issue the next call or finish. issue()
// checks the stop flag and registers each new call's id under the same lock that stop() takes to set the
// flag and collect the ids to cancel: either issue() sees the flag (and finishes), or stop() sees the id
// (and its cancellation completes the call, whose callback then finishes).
#include "session/extract.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace qix::core {

namespace {

// The layout counterpart of a properties path: each step's member, or, when the layout has no such member,
// the same name without a trailing "Def" ("/qHyperCubeDef" is read as qHyperCube); a numeric step indexes
// an array.
const json::value* find_cube(const json::value& layout, const std::string& path) {
  const json::value* cur = &layout;
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    std::string seg = path.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? path.size() : end;
    const json::value* next = nullptr;
    if (const auto* arr = cur->if_array()) {
      char* stop = nullptr;
      unsigned long i = std::strtoul(seg.c_str(), &stop, 10);
      if (stop && *stop == '\0' && i < arr->size()) next = &(*arr)[i];
    } else {
      next = find_member(*cur, seg);
      if (!next && seg.size() > 3 && seg.compare(seg.size() - 3, 3, "Def") == 0) {
        next = find_member(*cur, seg.substr(0, seg.size() - 3));
      }
    }
    if (!next) return nullptr;
    cur = next;
  }
  return cur;
}

class Extractor final : public Extraction, public std::enable_shared_from_this<Extractor> {
 public:
  Extractor(std::shared_ptr<Object> obj, ExtractOptions opts, ExtractRowCallback on_row,
            ExtractDoneCallback on_done)
      : obj_(std::move(obj)),
        opts_(std::move(opts)),
        on_row_(std::move(on_row)),
        on_done_(std::move(on_done)) {}

  void start() {
    std::lock_guard lock(mutex_);
    auto self = shared_from_this();
    layout_id_ = obj_->call("GetLayout", "[]", no_delta(), [self](CallResult& r) { self->on_layout(r); });
  }

  void stop() override {
    std::vector<std::int64_t> ids;
    {
      std::lock_guard lock(mutex_);
      if (done_ || stopping_) return;
      stopping_.store(true, std::memory_order_release);
      ids = in_flight_ids_locked();
    }
    cancel(ids);
  }

  bool finished() const override {
    std::lock_guard lock(mutex_);
    return done_;
  }

 private:
  static CallOptions no_delta() {
    CallOptions o;
    o.delta = false;
    return o;
  }

  static Error stopped_error() { return Error::make(ErrorKind::cancelled, "the extraction was stopped"); }

  std::vector<std::int64_t> in_flight_ids_locked() const {
    std::vector<std::int64_t> ids;
    if (layout_id_) ids.push_back(layout_id_);
    for (const auto& [page, id] : ids_) ids.push_back(id);
    return ids;
  }

  void cancel(const std::vector<std::int64_t>& ids) {
    if (auto s = obj_->session()) {
      for (auto id : ids) s->cancel(id);  // an id that completed meanwhile is simply not pending
    }
  }

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // The answer callbacks below run on the session's event executor, one at a time; the delivery state
  // (cols_ ... ready_) is touched only there.

  void on_layout(CallResult& r) {
    {
      std::lock_guard lock(mutex_);
      layout_id_ = 0;
      if (done_) return;
    }
    if (stopping()) return finish(stopped_error());
    if (r.error) return finish(r.error);
    const json::value* layout = find_member(r.result, "qLayout");
    const json::value* cube = layout ? find_cube(*layout, opts_.path) : nullptr;
    const json::value* size = cube ? find_member(*cube, "qSize") : nullptr;
    auto cx = size ? integer_of(find_member(*size, "qcx")) : std::nullopt;
    auto cy = size ? integer_of(find_member(*size, "qcy")) : std::nullopt;
    if (!cx || !cy || *cx < 0 || *cy < 0) {
      return finish(Error::make(ErrorKind::invalid_argument,
                                "no hypercube with a qSize at " + opts_.path + " in the layout"));
    }
    cols_ = *cx;
    total_ = *cy;
    std::int64_t max_height = cols_ > 0 ? std::max<std::int64_t>(1, kMaxPageCells / cols_) : kMaxPageCells;
    height_ = opts_.page_height > 0 ? std::min<std::int64_t>(opts_.page_height, max_height) : max_height;
    pages_ = cols_ == 0 ? 0 : (total_ + height_ - 1) / height_;
    if (pages_ == 0) return finish(Error{});
    issue();
  }

  // Issues pages while fewer than `window` are issued and not yet delivered.
  void issue() {
    std::unique_lock lock(mutex_);
    if (done_) return;
    if (stopping()) {
      lock.unlock();
      return finish(stopped_error());
    }
    auto self = shared_from_this();
    while (next_page_ < pages_ && next_page_ - next_deliver_ < opts_.window) {
      std::int64_t page = next_page_++;
      json::array pages;
      pages.push_back(json::object{{"qTop", page * height_},
                                   {"qLeft", 0},
                                   {"qWidth", cols_},
                                   {"qHeight", std::min(height_, total_ - page * height_)}});
      std::string params = to_json(json::array{json::value(opts_.path), json::value(std::move(pages))});
      // Registered under the lock: the answer's callback (another thread) waits for it to erase the id.
      ids_[page] = obj_->call("GetHyperCubeData", params, no_delta(),
                              [self, page](CallResult& r) { self->on_page(page, r); });
    }
  }

  void on_page(std::int64_t page, CallResult& r) {
    {
      std::lock_guard lock(mutex_);
      ids_.erase(page);
      if (done_) return;
    }
    if (stopping()) return finish(stopped_error());
    if (r.error) return finish(r.error);
    json::value* pages = find_member(r.result, "qDataPages");
    json::value* matrix = nullptr;
    if (pages && pages->is_array() && !pages->as_array().empty())
      matrix = find_member(pages->as_array()[0], "qMatrix");
    if (!matrix || !matrix->is_array()) {
      return finish(Error::make(ErrorKind::protocol, "GetHyperCubeData: no qMatrix"));
    }
    ready_.emplace(page, std::move(matrix->as_array()));
    // Deliver every page that is next in row order.
    for (auto it = ready_.find(next_deliver_); it != ready_.end(); it = ready_.find(next_deliver_)) {
      for (const auto& row : it->second) {
        if (!on_row_(row, rows_)) {
          return finish(Error::make(ErrorKind::cancelled, "the row callback stopped the extraction"));
        }
        ++rows_;
        if (stopping()) return finish(stopped_error());
      }
      ready_.erase(it);
      std::lock_guard lock(mutex_);
      ++next_deliver_;
    }
    if (next_deliver_ == pages_) return finish(Error{});
    issue();
  }

  void finish(const Error& error) {
    std::vector<std::int64_t> ids;
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
      done_ = true;
      ids = in_flight_ids_locked();
    }
    ready_.clear();
    cancel(ids);
    on_done_(error, rows_);
  }

  const std::shared_ptr<Object> obj_;
  const ExtractOptions opts_;
  const ExtractRowCallback on_row_;
  const ExtractDoneCallback on_done_;

  mutable std::mutex mutex_;
  bool done_ = false;                         // guarded by mutex_
  std::atomic<bool> stopping_{false};         // set under mutex_; read anywhere
  std::int64_t layout_id_ = 0;                // guarded by mutex_: the GetLayout while in flight
  std::map<std::int64_t, std::int64_t> ids_;  // guarded by mutex_: page -> request id, in flight
  std::int64_t next_page_ = 0;                // guarded by mutex_ (read by issue(), written there only)
  std::int64_t next_deliver_ = 0;             // guarded by mutex_ (written on the executor only)

  // Event executor only.
  std::int64_t cols_ = 0, total_ = 0, height_ = 0, pages_ = 0;
  std::int64_t rows_ = 0;
  std::map<std::int64_t, json::array> ready_;  // answered pages waiting for an earlier one
};

}  // namespace

std::shared_ptr<Extraction> extract(std::shared_ptr<Object> object, ExtractOptions options,
                                    ExtractRowCallback on_row, ExtractDoneCallback on_done) {
  if (!object) throw std::invalid_argument("extract: no object");
  if (options.path.empty()) throw std::invalid_argument("extract: empty hypercube path");
  if (options.page_height < 0) throw std::invalid_argument("extract: negative page height");
  if (options.window < 1) throw std::invalid_argument("extract: window < 1");
  if (!on_row || !on_done) throw std::invalid_argument("extract: missing callback");
  auto ex = std::make_shared<Extractor>(std::move(object), std::move(options), std::move(on_row),
                                        std::move(on_done));
  ex->start();
  return ex;
}

}  // namespace qix::core
