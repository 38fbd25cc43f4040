// libqix._fast: the hot path of extraction into pandas, as a CPython extension.
//
// extract() runs qix_object_extract (libqix's pipelined bulk extraction) and parses each row's cells in C++
// on libqix's event thread, without the GIL, into one buffer per column: the number (qNum, NaN when none)
// and, where asked, the text (qText). Only when every row has arrived does it build Python objects: a bytes
// of float64 per column and a list of str per text column, which libqix/_extract.py turns into pandas
// columns.
//
// The module does not link libqix: the caller passes the addresses of qix_object_extract and qix_error_dup
// (from the ctypes-loaded library), so the extension works with whichever libqix.so.1 the package loaded.
//
// Ownership: the qix_object* passed in is borrowed for the call (the caller keeps its handle alive). An error
// is returned as the address of a qix_error copy (qix_error_dup) that the caller releases with
// qix_error_free. Threads: the calling thread waits (GIL released) while libqix's event thread runs the row
// callbacks; the progress callback, if any, runs on the calling thread with the GIL about every 100 ms, and
// Ctrl-C (a pending signal) stops the extraction.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "qix/qix.h"

namespace {

using extract_fn = int (*)(qix_object*, const char*, int, int, qix_row_cb, qix_extract_done_cb, void*);
using error_dup_fn = int (*)(qix_error**, const qix_error*);
using error_free_fn = void (*)(qix_error*);

// A pointer the package passed as an integer (the ctypes address of a C function of libqix, or of an object).
template <class T>
T from_address(unsigned long long address) {
  // NOLINTNEXTLINE(performance-no-int-to-ptr): addresses cross from Python as integers by design
  return reinterpret_cast<T>(static_cast<uintptr_t>(address));
}

// Flags of a column, as returned to Python.
constexpr int kAllNumeric = 1;    // every non-null cell has a number
constexpr int kTextIsNumber = 2;  // every non-null cell's text reads back as its number
constexpr int kIntegral = 4;      // every number is an integer within +-2^53
constexpr int kAnyNull = 8;       // some cell is null

struct Column {
  bool want_text = false;
  std::vector<double> num;
  std::string text;                // the texts, one after another
  std::vector<uint64_t> text_end;  // where each row's text ends in `text`
  std::vector<uint8_t> null;       // 1 for a null cell
  int flags = kAllNumeric | kTextIsNumber | kIntegral;
};

struct State {
  std::vector<Column> cols;
  error_dup_fn error_dup = nullptr;
  std::atomic<int64_t> rows{0};
  std::atomic<bool> stop{false};
  bool bad_row = false;  // a row that is not an array of cells: the extraction stops
  std::string bad_detail;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int status = 0;
  qix_error* err = nullptr;
  std::string cell_text;  // scratch
};

// True when `text` is `num` written plainly: it reads back as `num`, and has no leading zero ("007" is a
// code, not the number 7), so a column of such texts loses nothing as numbers.
bool text_is_number(const std::string& text, double num) {
  double back = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  const auto r = std::from_chars(b, e, back);
  if (r.ec != std::errc() || r.ptr != e || back != num) return false;
  const char* d = (b < e && *b == '-') ? b + 1 : b;
  return !(e - d > 1 && d[0] == '0' && d[1] != '.');
}

// A minimal reader of the JSON the engine sends for a row: an array of NxCell objects. Skips what it does
// not need; returns false on malformed input.
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}

  bool row(State& st) {
    ws();
    if (!eat('[')) return false;
    size_t c = 0;
    ws();
    if (peek() == ']') {
      ++p_;
      return c == st.cols.size();
    }
    for (;;) {
      if (c >= st.cols.size()) return false;
      if (!cell(st, st.cols[c])) return false;
      ++c;
      ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (!eat(']')) return false;
      return c == st.cols.size();
    }
  }

 private:
  char peek() const { return p_ < end_ ? *p_ : '\0'; }
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char ch) {
    ws();
    if (peek() != ch) return false;
    ++p_;
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool hex4(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char ch = *p_++;
      v <<= 4;
      if (ch >= '0' && ch <= '9') {
        v |= static_cast<uint32_t>(ch - '0');
      } else if (ch >= 'a' && ch <= 'f') {
        v |= static_cast<uint32_t>(ch - 'a' + 10);
      } else if (ch >= 'A' && ch <= 'F') {
        v |= static_cast<uint32_t>(ch - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // A string (at its opening quote) into out (when not null).
  bool string(std::string* out) {
    if (!eat('"')) return false;
    for (;;) {
      const char* q = p_;
      while (q < end_ && *q != '"' && *q != '\\') ++q;
      if (out) out->append(p_, q);
      p_ = q;
      if (p_ >= end_) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      ++p_;  // backslash
      if (p_ >= end_) return false;
      const char e = *p_++;
      char lit = 0;
      switch (e) {
        case '"':
          lit = '"';
          break;
        case '\\':
          lit = '\\';
          break;
        case '/':
          lit = '/';
          break;
        case 'b':
          lit = '\b';
          break;
        case 'f':
          lit = '\f';
          break;
        case 'n':
          lit = '\n';
          break;
        case 'r':
          lit = '\r';
          break;
        case 't':
          lit = '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            p_ += 2;
            uint32_t lo = 0;
            if (!hex4(lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
          }
          if (out) put_utf8(*out, cp);
          continue;
        }
        default:
          return false;
      }
      if (out) out->push_back(lit);
    }
  }

  // A number, or the strings the engine uses for special numbers ("NaN", "Infinity", "-Infinity").
  bool number(double& v) {
    ws();
    if (peek() == '"') {
      std::string s;
      if (!string(&s)) return false;
      if (s == "Infinity") {
        v = HUGE_VAL;
      } else if (s == "-Infinity") {
        v = -HUGE_VAL;
      } else {
        v = NAN;
      }
      return true;
    }
    const auto r = std::from_chars(p_, end_, v);
    if (r.ec != std::errc()) return false;
    p_ = r.ptr;
    return true;
  }

  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool skip_value(int depth = 0) {
    ws();
    const char ch = peek();
    if (ch == '"') return string(nullptr);
    if (ch == '{' || ch == '[') {
      if (depth > 64) return false;
      const char close = ch == '{' ? '}' : ']';
      ++p_;
      ws();
      if (peek() == close) {
        ++p_;
        return true;
      }
      for (;;) {
        if (ch == '{') {
          if (!string(nullptr) || !eat(':')) return false;
        }
        if (!skip_value(depth + 1)) return false;
        ws();
        if (peek() == ',') {
          ++p_;
          continue;
        }
        return eat(close);
      }
    }
    if (ch == 't') return literal("true");
    if (ch == 'f') return literal("false");
    if (ch == 'n') return literal("null");
    double d = 0;
    return number(d);
  }

  bool cell(State& st, Column& col) {
    if (!eat('{')) return false;
    std::string& text = st.cell_text;
    text.clear();
    bool has_text = false;
    bool is_null = false;
    double num = NAN;
    ws();
    if (peek() == '}') {
      ++p_;
    } else {
      for (;;) {
        ws();
        const char* k = p_;
        if (!string(nullptr)) return false;
        const std::string_view key(k + 1, static_cast<size_t>(p_ - k - 2));
        if (!eat(':')) return false;
        ws();
        if (key == "qText") {
          if (peek() == '"') {
            if (!string(&text)) return false;
            has_text = true;
          } else if (!skip_value()) {
            return false;
          }
        } else if (key == "qNum") {
          if (peek() == 'n') {
            if (!literal("null")) return false;
          } else if (!number(num)) {
            return false;
          }
        } else if (key == "qIsNull") {
          if (peek() == 't') {
            if (!literal("true")) return false;
            is_null = true;
          } else if (!skip_value()) {
            return false;
          }
        } else if (!skip_value()) {
          return false;
        }
        ws();
        if (peek() == ',') {
          ++p_;
          continue;
        }
        if (!eat('}')) return false;
        break;
      }
    }
    if (!has_text && std::isnan(num)) is_null = true;
    col.num.push_back(is_null ? NAN : num);
    col.null.push_back(is_null ? 1 : 0);
    if (is_null) {
      col.flags |= kAnyNull;
    } else if (std::isnan(num)) {
      col.flags &= ~(kAllNumeric | kTextIsNumber | kIntegral);
    } else {
      if ((col.flags & kIntegral) && (num != std::trunc(num) || std::fabs(num) > 9007199254740992.0)) {
        col.flags &= ~kIntegral;
      }
      if (col.want_text && (col.flags & kTextIsNumber) && !text_is_number(text, num)) {
        col.flags &= ~kTextIsNumber;
      }
    }
    if (col.want_text) {
      if (!is_null) col.text += text;
      col.text_end.push_back(col.text.size());
    }
    return true;
  }

  const char* p_;
  const char* end_;
};

int on_row(const char* row_json, size_t len, int64_t /*row_index*/, void* payload) {
  auto* st = static_cast<State*>(payload);
  if (st->stop.load(std::memory_order_relaxed)) return 1;
  Reader r(row_json, row_json + len);
  if (!r.row(*st)) {
    st->bad_row = true;
    st->bad_detail.assign(row_json, std::min<size_t>(len, 200));
    return 1;
  }
  st->rows.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void on_done(int status, const qix_error* err, int64_t /*rows*/, void* payload) {
  auto* st = static_cast<State*>(payload);
  qix_error* copy = nullptr;
  if (err && st->error_dup) st->error_dup(&copy, err);
  const std::lock_guard<std::mutex> lock(st->mu);
  st->status = status;
  st->err = copy;
  st->done = true;
  st->cv.notify_all();
}

// Drops a column's rows past `rows` (a row cut short by a parse failure).
void trim(Column& c, size_t rows) {
  if (c.num.size() > rows) c.num.resize(rows);
  if (c.null.size() > rows) c.null.resize(rows);
  if (c.want_text && c.text_end.size() > rows) c.text_end.resize(rows);
}

PyObject* texts_list(const Column& c, size_t rows) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(rows));
  if (!list) return nullptr;
  uint64_t start = 0;
  for (size_t i = 0; i < rows; ++i) {
    const uint64_t end = c.text_end[i];
    PyObject* s = nullptr;
    if (c.null[i]) {
      Py_INCREF(Py_None);
      s = Py_None;
    } else {
      s = PyUnicode_DecodeUTF8(c.text.data() + start, static_cast<Py_ssize_t>(end - start), "replace");
      if (!s) {
        Py_DECREF(list);
        return nullptr;
      }
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), s);
    start = end;
  }
  return list;
}

// extract(extract_fn, error_dup_fn, error_free_fn, obj, path, page_height, window, want_text, progress,
// total)
//   -> (status, error address or 0, rows, [(float64 bytes, texts list or None, flags), ...], bad row or None)
PyObject* py_extract(PyObject* /*self*/, PyObject* args) {
  unsigned long long fn_extract = 0;
  unsigned long long fn_dup = 0;
  unsigned long long fn_free = 0;
  unsigned long long obj = 0;
  const char* path = nullptr;
  int page_height = 0;
  int window = 0;
  PyObject* want_text = nullptr;
  PyObject* progress = nullptr;
  long long total = 0;
  if (!PyArg_ParseTuple(args, "KKKKsiiOOL", &fn_extract, &fn_dup, &fn_free, &obj, &path, &page_height,
                        &window, &want_text, &progress, &total)) {
    return nullptr;
  }
  if (!fn_extract || !obj) {
    PyErr_SetString(PyExc_ValueError, "extract: NULL function or object");
    return nullptr;
  }
  PyObject* seq = PySequence_Fast(want_text, "extract: want_text must be a sequence of bool");
  if (!seq) return nullptr;
  State st;
  st.error_dup = from_address<error_dup_fn>(fn_dup);
  const Py_ssize_t ncols = PySequence_Fast_GET_SIZE(seq);
  st.cols.resize(static_cast<size_t>(ncols));
  const size_t reserve = total > 0 ? static_cast<size_t>(total) : 0;
  for (Py_ssize_t i = 0; i < ncols; ++i) {
    Column& c = st.cols[static_cast<size_t>(i)];
    c.want_text = PyObject_IsTrue(PySequence_Fast_GET_ITEM(seq, i)) == 1;
    c.num.reserve(reserve);
    c.null.reserve(reserve);
    if (c.want_text) c.text_end.reserve(reserve);
  }
  Py_DECREF(seq);
  const bool has_progress = progress != Py_None;
  auto run = from_address<extract_fn>(fn_extract);
  int started = 0;
  PyObject* exc_type = nullptr;
  PyObject* exc_value = nullptr;
  PyObject* exc_tb = nullptr;
  Py_BEGIN_ALLOW_THREADS;
  started = run(from_address<qix_object*>(obj), path, page_height, window, on_row, on_done, &st);
  if (started == QIX_OK) {
    std::unique_lock<std::mutex> lock(st.mu);
    while (!st.done) {
      st.cv.wait_for(lock, std::chrono::milliseconds(100));
      if (st.done) break;
      lock.unlock();
      {
        PyGILState_STATE g = PyGILState_Ensure();
        if (!exc_type && PyErr_CheckSignals() != 0) {
          st.stop = true;
          PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        } else if (!exc_type && has_progress) {
          PyObject* r = PyObject_CallFunction(progress, "LL", static_cast<long long>(st.rows.load()), total);
          if (!r) {
            st.stop = true;
            PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
          }
          Py_XDECREF(r);
        }
        PyGILState_Release(g);
      }
      lock.lock();
    }
  }
  Py_END_ALLOW_THREADS;
  if (started != QIX_OK) {
    return Py_BuildValue("(iKLOO)", started, 0ULL, 0LL, Py_None, Py_None);
  }
  if (exc_type) {
    // The exception (Ctrl-C, the progress callback's) wins over the extraction's own ending.
    if (st.err && fn_free) from_address<error_free_fn>(fn_free)(st.err);
    PyErr_Restore(exc_type, exc_value, exc_tb);
    return nullptr;
  }
  const size_t rows = static_cast<size_t>(st.rows.load());
  PyObject* cols = PyList_New(ncols);
  if (!cols) return nullptr;
  for (Py_ssize_t i = 0; i < ncols; ++i) {
    Column& c = st.cols[static_cast<size_t>(i)];
    trim(c, rows);
    PyObject* nums = PyBytes_FromStringAndSize(reinterpret_cast<const char*>(c.num.data()),
                                               static_cast<Py_ssize_t>(rows * sizeof(double)));
    std::vector<double>().swap(c.num);
    PyObject* texts = nullptr;
    if (c.want_text) {
      texts = texts_list(c, rows);
    } else {
      Py_INCREF(Py_None);
      texts = Py_None;
    }
    if (!nums || !texts) {
      Py_XDECREF(nums);
      Py_XDECREF(texts);
      Py_DECREF(cols);
      return nullptr;
    }
    PyList_SET_ITEM(cols, i, Py_BuildValue("(NNi)", nums, texts, c.flags));
  }
  PyObject* bad = Py_None;
  if (st.bad_row) {
    bad =
        PyUnicode_DecodeUTF8(st.bad_detail.data(), static_cast<Py_ssize_t>(st.bad_detail.size()), "replace");
  } else {
    Py_INCREF(bad);
  }
  return Py_BuildValue("(iKLNN)", st.status,
                       static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(st.err)),
                       static_cast<long long>(rows), cols, bad);
}

PyMethodDef kMethods[] = {{"extract", py_extract, METH_VARARGS,
                           "extract(extract_fn, error_dup_fn, error_free_fn, obj, path, page_height, window, "
                           "want_text, progress, total): rows of a "
                           "hypercube into column buffers (see libqix/_extract.py)."},
                          {nullptr, nullptr, 0, nullptr}};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT,
                       "_fast",
                       "libqix's extraction into column buffers.",
                       -1,
                       kMethods,
                       nullptr,
                       nullptr,
                       nullptr,
                       nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__fast(void) {
  return PyModule_Create(&kModule);
}
