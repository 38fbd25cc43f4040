// qix extract: every row of a hypercube, pipelined (qix_object_extract), streamed to CSV or JSON lines.
#include "cli.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <unistd.h>

namespace qixcli {

namespace {

using Clock = std::chrono::steady_clock;

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

std::string thousands(std::int64_t n) {
  std::string d = std::to_string(n);
  std::string out;
  int k = 0;
  for (auto it = d.rbegin(); it != d.rend(); ++it) {
    if (k && k % 3 == 0 && *it != '-') out += ',';
    out += *it;
    ++k;
  }
  return {out.rbegin(), out.rend()};
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
  Clock::time_point start = Clock::now();
  Clock::time_point last_draw{};
  std::string line;
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
    double pct = total > 0 ? 100.0 * static_cast<double>(rows_done) / static_cast<double>(total) : 100.0;
    const int width = 30;
    int filled = static_cast<int>(pct / 100.0 * width + 0.5);
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, width)), '#');
    bar.resize(width, '.');
    std::string eta = rate > 0 ? duration_text(static_cast<double>(total - rows_done) / rate) : "?";
    std::fprintf(stderr, "\r[%s] %5.1f%%  %s/%s rows  %s rows/s  ETA %s   ", bar.c_str(), pct, thousands(rows_done).c_str(),
                 thousands(total).c_str(), thousands(static_cast<std::int64_t>(rate)).c_str(), eta.c_str());
    if (final) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

  // Returns 0 to go on, 1 to stop (a write failed).
  int row(const char* text, std::size_t len, std::int64_t index) {
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

}  // namespace

int cmd_extract(const Config& cfg, const ExtractArgs& a) {
  if (a.dims.empty() && a.measures.empty()) throw usage_error("extract needs at least one --dim or --measure");
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
  for (const auto& d : a.dims) dims.push_back(json::object{{"qDef", json::object{{"qFieldDefs", json::array{json::value(d)}}}}});
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
  if (const auto* err = cube ? member(*cube, "qError") : nullptr; err && !err->is_null()) {
    throw Failure(kExitEngine, "qix: the engine cannot calculate this hypercube: " + json::serialize(*err));
  }
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
  bool to_stdout = a.output.empty() || a.output == "-";
  std::FILE* file = to_stdout ? stdout : std::fopen(a.output.c_str(), "w");
  if (!file) throw Failure(kExitEngine, "qix: cannot write " + a.output + ": " + std::strerror(errno));
  static char buffer[1 << 20];  // static: stdout keeps using it until exit
  std::setvbuf(file, buffer, _IOFBF, sizeof buffer);
  sink.out = file;
  sink.progress = a.progress == "always" || (a.progress == "auto" && isatty(STDERR_FILENO));
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
  {
    std::unique_lock lock(sink.mutex);
    sink.cv.wait(lock, [&] { return sink.done; });
  }
  double secs = std::chrono::duration<double>(Clock::now() - sink.start).count();
  bool flushed = std::fflush(file) == 0;
  int close_errno = errno;
  if (!to_stdout) flushed = (std::fclose(file) == 0) && flushed;
  if (sink.progress && sink.status == QIX_OK) sink.draw(sink.rows, true);
  if (sink.write_failed || !flushed) {
    throw Failure(kExitEngine, "qix: cannot write " + (to_stdout ? std::string("the output") : a.output) + ": " +
                                   std::strerror(sink.write_failed ? sink.write_errno : close_errno));
  }
  if (sink.bad_row) throw Failure(kExitEngine, "qix: the library delivered a row that is not a JSON array");
  if (sink.error) throw c.failure(*sink.error);
  if (cfg.json && !to_stdout) {
    json::object summary{{"rows", sink.rows},
                         {"milliseconds", static_cast<std::int64_t>(secs * 1000)},
                         {"rowsPerSecond", secs > 0 ? static_cast<std::int64_t>(static_cast<double>(sink.rows) / secs) : 0},
                         {"output", a.output},
                         {"format", a.format}};
    std::printf("%s\n", pretty(summary).c_str());
  } else if (sink.progress) {
    std::fprintf(stderr, "%s rows in %.2f s (%s rows/s)\n", thousands(sink.rows).c_str(), secs,
                 thousands(secs > 0 ? static_cast<std::int64_t>(static_cast<double>(sink.rows) / secs) : 0).c_str());
  }
  return kExitOk;
}

}  // namespace qixcli
