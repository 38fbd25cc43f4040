// qix extract: every row of a hypercube, pipelined (qix_object_extract), streamed to CSV or JSON lines.
#include "cli.hpp"

#include "rpc/locerr.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

namespace qixcli {

namespace {

using Clock = std::chrono::steady_clock;

// strerror() is not thread-safe (libqix's threads run meanwhile): strerror_r, in either of its two forms.
// GNU's returns the message (in buf or a static string); POSIX's fills buf and returns 0 on success.
[[maybe_unused]] const char* strerror_r_result(const char* message, const char* /*buf*/) {
  return message;
}
[[maybe_unused]] const char* strerror_r_result(int rc, const char* buf) {
  return rc == 0 ? buf : "unknown error";
}
std::string errno_text(int err) {
  char buf[256] = "";
  return strerror_r_result(strerror_r(err, buf, sizeof buf), buf);
}

std::string duration_text(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

// Everything the row callback touches. Rows arrive one at a time (libqix runs one session's callbacks
// one after the other), so only the completion needs a lock.
struct Sink {
  std::FILE* out = nullptr;
  bool csv = true;
  std::vector<std::string> names;  // column names (JSON-lines keys)
  std::size_t dims = 0;
  std::int64_t total = 0;
  bool progress = false;
  bool drawn = false;  // a bar is on stderr's current line
  // Rows of the first round of pages in flight (window x page height): until they are in, a rate measures
  // the latency of one round trip rather than the throughput, so neither rate nor ETA is shown.
  std::int64_t settle_rows = 0;
  std::int64_t page_height = 1;  // the output is flushed after each page: a reader sees rows as they come
  Clock::time_point start = Clock::now();
  Clock::time_point last_draw{};
  std::string line;
  std::int64_t written = 0;  // rows written to the output
  bool write_failed = false;
  int write_errno = 0;
  bool bad_row = false;

  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  int status = QIX_OK;
  std::optional<qix::Error> error;  // the extraction's failure, with the engine's details
  std::int64_t rows = 0;

  void draw(std::int64_t rows_done, bool final) {
    auto now = Clock::now();
    if (!final && now - last_draw < std::chrono::milliseconds(100)) return;
    last_draw = now;
    double secs = std::chrono::duration<double>(now - start).count();
    double rate = secs > 0 ? static_cast<double>(rows_done) / secs : 0;
    const bool settled = final || rows_done >= settle_rows;
    double pct = total > 0 ? 100.0 * static_cast<double>(rows_done) / static_cast<double>(total) : 100.0;
    const int width = 30;
    int filled = static_cast<int>(pct / 100.0 * width + 0.5);
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, width)), '#');
    bar.resize(width, '.');
    std::string eta =
        settled && rate > 0 ? duration_text(static_cast<double>(total - rows_done) / rate) : "--:--";
    std::string rate_text = settled ? thousands(static_cast<std::int64_t>(rate)) : "--";
    std::fprintf(stderr, "\r[%s] %5.1f%%  %s/%s rows  %s rows/s  ETA %s   ", bar.c_str(), pct,
                 thousands(rows_done).c_str(), thousands(total).c_str(), rate_text.c_str(), eta.c_str());
    drawn = !final;
    if (final) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

  // Returns 0 to go on, 1 to stop (a write failed, or Ctrl-C: no row is written after it).
  int row(const char* text, std::size_t len, std::int64_t index) {
    if (interrupted()) return 1;
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(text, len), ec);
    if (ec || !v.is_array()) {
      bad_row = true;
      return 1;
    }
    const auto& cells = v.as_array();
    line.clear();
    if (!csv) line += '{';
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const auto& cell = cells[i];
      const auto* is_null = member(cell, "qIsNull");
      bool null = is_null && is_null->is_bool() && is_null->get_bool();
      const auto* num = member(cell, "qNum");
      bool numeric = num && num->is_number();
      const auto* qtext = member(cell, "qText");
      if (csv) {
        if (i) line += ',';
        if (null) continue;
        if (i >= dims && numeric) {
          line += number_text(num->to_number<double>());
        } else if (qtext && qtext->is_string()) {
          line += csv_field(std::string(qtext->as_string()));
        } else if (numeric) {
          line += number_text(num->to_number<double>());
        }
      } else {
        if (i) line += ',';
        line += quote(i < names.size() ? names[i] : "col" + std::to_string(i));
        line += ':';
        if (null) {
          line += "null";
        } else if (numeric) {
          line += number_text(num->to_number<double>());
        } else if (qtext && qtext->is_string()) {
          line += json::serialize(qtext->as_string());
        } else {
          line += "null";
        }
      }
    }
    if (!csv) line += '}';
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      write_failed = true;
      write_errno = errno;
      return 1;
    }
    ++written;
    if ((index + 1) % page_height == 0 || index + 1 == total) {
      if (std::fflush(out) != 0) {
        write_failed = true;
        write_errno = errno;
        return 1;
      }
    }
    if (progress) draw(index + 1, false);
    return 0;
  }

  static int row_cb(const char* row_json, size_t len, int64_t row_index, void* payload) {
    return static_cast<Sink*>(payload)->row(row_json, len, row_index);
  }
  static void done_cb(int st, const qix_error* err, int64_t rows_done, void* payload) {
    auto* s = static_cast<Sink*>(payload);
    {
      std::lock_guard lock(s->mutex);
      s->done = true;
      s->status = st;
      s->rows = rows_done;
      if (st != QIX_OK) s->error.emplace(st, err);
    }
    s->cv.notify_all();
  }
};

// Where the rows go. A regular file (new, or replaced) is written to a temporary file in the same folder,
// ".NAME.qix-PID.tmp", renamed over NAME once every row is in: an extract that fails or is interrupted
// leaves NAME as it was. stdout, a device or a pipe is written in place, whole rows at a time.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    if (path.empty() || path == "-") {
      file_ = stdout;
      return;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path target(path);
    auto st = fs::status(target, ec);  // follows a symbolic link
    if (fs::exists(st)) {
      existed_ = true;
      if (!fs::is_regular_file(st)) {
        file_ = std::fopen(path.c_str(), "w");
        if (!file_) throw cannot_write(errno);
        return;
      }
      auto real = fs::canonical(target, ec);  // a link keeps pointing at the (new) file
      if (!ec) target = real;
    }
    target_ = target.string();
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    int fd = -1;
    for (int i = 0; fd < 0 && i < 100; ++i) {
      std::string name = "." + target.filename().string() + ".qix-" + std::to_string(getpid()) +
                         (i ? "-" + std::to_string(i) : "") + ".tmp";
      temp_ = (dir / name).string();
      fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // 0666 & ~umask, as fopen
      if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
      int err = errno;
      temp_.clear();
      throw cannot_write(err);
    }
    struct stat old {};
    if (existed_ && ::stat(target_.c_str(), &old) == 0) ::fchmod(fd, old.st_mode & 07777);  // keep its mode
    file_ = ::fdopen(fd, "w");
    if (!file_) {
      int err = errno;
      ::close(fd);
      discard();
      throw cannot_write(err);
    }
  }
  ~Output() {
    if (file_ && file_ != stdout) std::fclose(file_);
    discard();
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  std::FILE* file() const { return file_; }
  bool to_stdout() const { return file_ == stdout; }
  /// "out.csv", or "the output" for stdout.
  std::string name() const { return to_stdout() ? "the output" : path_; }
  /// Flushes, closes and (for a file) renames the temporary file over it. Returns 0 or an errno.
  int commit() {
    int err = std::fflush(file_) == 0 ? 0 : errno;
    if (!to_stdout()) {
      if (std::fclose(file_) != 0 && err == 0) err = errno;
      file_ = nullptr;
      if (err == 0 && !temp_.empty()) {
        if (std::rename(temp_.c_str(), target_.c_str()) != 0) err = errno;
        if (err == 0) temp_.clear();
      }
    }
    return err;
  }
  /// Ends without the file: flushes the whole rows written to stdout, a device or a pipe; drops a
  /// temporary file. Returns what happened to the output, for the message.
  std::string abandon() {
    std::fflush(file_);
    if (!to_stdout()) {
      std::fclose(file_);
      file_ = nullptr;
    }
    if (!temp_.empty()) {
      discard();
      return path_ + (existed_ ? " was left as it was" : " was not created");
    }
    return name() + " ends with a whole row";
  }

 private:
  Failure cannot_write(int err) const {
    return Failure(kExitEngine, "qix: cannot write " + path_ + ": " + errno_text(err));
  }
  void discard() {
    if (!temp_.empty()) ::unlink(temp_.c_str());
    temp_.clear();
  }

  std::string path_;    // as given
  std::string target_;  // the file the temporary file replaces
  std::string temp_;    // "" = written in place
  bool existed_ = false;
  std::FILE* file_ = nullptr;
};

std::string error_text(const json::value& err) {
  const auto* code = member(err, "qErrorCode");
  if (!code || !code->is_number()) return json::serialize(err);
  int n = code->to_number<int>();
  const auto* info = qix::core::find_locerr(n);
  return "error " + std::to_string(n) + (info ? " " + std::string(info->name) : "");
}

const json::value* error_of(const json::value* v) {
  const auto* e = v ? member(*v, "qError") : nullptr;
  return e && !e->is_null() ? e : nullptr;
}

// When the engine cannot calculate the hypercube: a failure that names the --dim or --measure at fault
// (a dimension whose field the app does not have, a column the engine flags, a measure it cannot
// evaluate), else the hypercube's error.
void check_cube(Connection& c, const ExtractArgs& a, const json::value* cube) {
  const json::value* cube_error = error_of(cube);
  std::vector<const json::value*> dim_infos(a.dims.size()), measure_infos(a.measures.size());
  bool failed = cube_error != nullptr;
  auto infos = [&](const char* key, std::vector<const json::value*>& out) {
    const auto* arr = cube ? member(*cube, key) : nullptr;
    if (!arr || !arr->is_array()) return;
    for (std::size_t i = 0; i < out.size() && i < arr->as_array().size(); ++i) {
      out[i] = &arr->as_array()[i];
      if (error_of(out[i])) failed = true;
    }
  };
  infos("qDimensionInfo", dim_infos);
  infos("qMeasureInfo", measure_infos);
  if (!failed) return;

  const auto fields = field_names(c);
  json::array missing;
  std::string quoted;
  for (const auto& d : a.dims) {
    std::string f = d;
    if (!f.empty() && f[0] == '=') continue;  // a calculated dimension
    if (f.size() > 2 && f.front() == '[' && f.back() == ']') f = f.substr(1, f.size() - 2);
    if (std::find(fields.begin(), fields.end(), f) != fields.end()) continue;
    missing.push_back(json::value(d));
    quoted += (quoted.empty() ? "'" : ", '") + d + "'";
  }
  if (!missing.empty()) {
    std::string msg = missing.size() == 1
                          ? "no field named " + quoted + " in app " + c.app_id() + " (--dim " +
                                std::string(missing[0].as_string()) + ")"
                          : "no fields named " + quoted + " in app " + c.app_id() + " (--dim)";
    Failure f(kExitEngine, "qix: " + msg + "; `qix fields` lists the fields");
    f.details["fields"] = std::move(missing);
    throw Failure(std::move(f));
  }
  for (std::size_t i = 0; i < a.dims.size(); ++i) {
    if (const auto* e = error_of(dim_infos[i])) {
      throw Failure(kExitEngine,
                    "qix: the engine cannot calculate --dim '" + a.dims[i] + "': " + error_text(*e));
    }
  }
  for (std::size_t i = 0; i < a.measures.size(); ++i) {
    if (const auto* e = error_of(measure_infos[i])) {
      throw Failure(kExitEngine,
                    "qix: the engine cannot calculate --measure '" + a.measures[i] + "': " + error_text(*e));
    }
  }
  for (const auto& m : a.measures) {
    try {
      c.call_doc("EvaluateEx", json::serialize(json::array{json::value(m)}));
    } catch (Failure& f) {
      if (f.code != kExitEngine) throw;
      Failure named(kExitEngine, "qix: --measure '" + m + "': " + f.what());
      named.json_message = "--measure '" + m + "': " + (f.json_message.empty() ? f.what() : f.json_message);
      named.details = f.details;
      throw Failure(std::move(named));
    }
  }
  throw Failure(kExitEngine,
                "qix: the engine cannot calculate this hypercube: " +
                    (cube_error ? error_text(*cube_error) : std::string("an error in a column")));
}

}  // namespace

int cmd_extract(const Config& cfg, const ExtractArgs& a) {
  if (a.dims.empty() && a.measures.empty())
    throw usage_error("extract needs at least one --dim or --measure");
  if (a.format != "csv" && a.format != "jsonl") throw usage_error("--format must be csv or jsonl");
  if (a.window < 1) throw usage_error("--window must be >= 1");
  if (a.page_height < 0) throw usage_error("--page-height must be >= 0");
  if (a.progress != "auto" && a.progress != "always" && a.progress != "never") {
    throw usage_error("--progress must be auto, always or never");
  }
  Connection::Setup setup;
  setup.open_app = setup.app_required = true;
  Connection c(cfg, setup);

  json::array dims, measures;
  for (const auto& d : a.dims)
    dims.push_back(json::object{{"qDef", json::object{{"qFieldDefs", json::array{json::value(d)}}}}});
  for (const auto& m : a.measures) measures.push_back(json::object{{"qDef", json::object{{"qDef", m}}}});
  json::object props{{"qInfo", json::object{{"qType", "qix-cli-extract"}}},
                     {"qHyperCubeDef", json::object{{"qDimensions", dims},
                                                    {"qMeasures", measures},
                                                    {"qSuppressZero", false},
                                                    {"qSuppressMissing", false},
                                                    {"qInitialDataFetch", json::array{}}}}};
  auto obj = c.create_session_object(props);
  auto layout = parse(c.call(obj, "GetLayout").json());
  const auto* cube = member(layout, "qHyperCube");
  check_cube(c, a, cube);
  std::int64_t total = 0;
  if (const auto* size = cube ? member(*cube, "qSize") : nullptr) {
    if (const auto* cy = member(*size, "qcy"); cy && cy->is_number()) total = cy->to_number<std::int64_t>();
  }

  Sink sink;
  sink.csv = a.format == "csv";
  sink.dims = a.dims.size();
  sink.total = total;
  for (const auto& d : a.dims) sink.names.push_back(d);
  for (const auto& m : a.measures) sink.names.push_back(m);
  // The page height qix_object_extract uses: as asked, at most as many rows as fit in 10,000 cells.
  const int fit = std::max(1, 10000 / static_cast<int>(sink.names.size()));
  const int page_height = a.page_height > 0 ? std::min(a.page_height, fit) : fit;
  sink.page_height = page_height;
  sink.settle_rows = static_cast<std::int64_t>(page_height) * a.window;
  sink.progress = a.progress == "always" || (a.progress == "auto" && !cfg.json && isatty(STDERR_FILENO));

  // From here Ctrl-C stops the extraction (rather than the process) so the output ends cleanly.
  install_signal_handlers();
  Output out(a.output);
  std::FILE* file = out.file();
  static char buffer[1 << 20];  // static: stdout keeps using it until exit
  std::setvbuf(file, buffer, _IOFBF, sizeof buffer);
  sink.out = file;
  if (sink.csv) {
    std::string header;
    for (std::size_t i = 0; i < sink.names.size(); ++i) header += (i ? "," : "") + csv_field(sink.names[i]);
    header += '\n';
    std::fputs(header.c_str(), file);
  }
  sink.start = Clock::now();
  int rc = qix_object_extract(obj.c_handle(), "/qHyperCubeDef", a.page_height, a.window, &Sink::row_cb,
                              &Sink::done_cb, &sink);
  if (rc < 0) throw c.failure(qix::Error(rc, qix_error_last()));
  bool stopping = false;
  {
    std::unique_lock lock(sink.mutex);
    while (!sink.done) {
      if (!stopping && interrupted()) {
        stopping = true;  // rows stop at once (Sink::row); closing the session ends a page still in flight
        lock.unlock();
        c.session().close();
        lock.lock();
        continue;
      }
      sink.cv.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - sink.start).count();
  if (interrupted() && sink.status != QIX_OK) {  // stopped by the row callback or by the close
    std::string what = out.abandon();
    if (sink.drawn) std::fputc('\n', stderr);
    int code = 128 + interrupt_signal();
    Failure f(code, "qix: interrupted after " + thousands(sink.written) + " of " + thousands(total) +
                        " rows; " + what);
    f.details = {{"rows", sink.written}, {"totalRows", total}, {"output", out.to_stdout() ? "-" : a.output}};
    throw Failure(std::move(f));
  }
  if (sink.write_failed) {
    out.abandon();
    throw Failure(kExitEngine, "qix: cannot write " + out.name() + ": " + errno_text(sink.write_errno));
  }
  if (sink.bad_row) throw Failure(kExitEngine, "qix: the library delivered a row that is not a JSON array");
  if (sink.error) throw c.failure(*sink.error);
  if (int err = out.commit(); err != 0) {
    throw Failure(kExitEngine, "qix: cannot write " + out.name() + ": " + errno_text(err));
  }
  if (sink.progress) sink.draw(sink.rows, true);
  if (cfg.json && !out.to_stdout()) {
    json::object summary{
        {"rows", sink.rows},
        {"milliseconds", static_cast<std::int64_t>(secs * 1000)},
        {"rowsPerSecond", secs > 0 ? static_cast<std::int64_t>(static_cast<double>(sink.rows) / secs) : 0},
        {"output", a.output},
        {"format", a.format}};
    std::printf("%s\n", pretty(summary).c_str());
  } else if (sink.progress && !cfg.json) {
    std::fprintf(
        stderr, "%s rows in %.2f s (%s rows/s)\n", thousands(sink.rows).c_str(), secs,
        thousands(secs > 0 ? static_cast<std::int64_t>(static_cast<double>(sink.rows) / secs) : 0).c_str());
  }
  return kExitOk;
}

}  // namespace qixcli
