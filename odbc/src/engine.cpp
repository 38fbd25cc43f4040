// The engine side of the ODBC driver: connecting (connection strings, DSNs, every libqix option), the
// catalog (GetTablesAndKeys, GetAllInfos), and queries translated into hypercubes whose rows are streamed
// with qix_object_extract into a bounded queue.
#include <odbcinst.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>

#include "driver.hpp"
#include "sql.hpp"

namespace qix::odbc {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool iequals(const std::string& a, const std::string& b) {
  return lower(a) == lower(b);
}

std::string quote_json(const std::string& s) {
  return json::dump(json::value(s));
}

// Qlik field reference: [name] with ']' doubled.
std::string field_ref(const std::string& f) {
  std::string out = "[";
  for (char c : f) {
    out += c;
    if (c == ']') out += ']';
  }
  return out + "]";
}

OdbcError from_qix(int status, int code, const std::string& name, const std::string& message,
                   const std::string& what) {
  std::string detail = name.empty() ? message : name + " (" + std::to_string(code) + "): " + message;
  switch (status) {
    case QIX_EENGINE:
      return OdbcError("HY000", what + ": the engine answered " + detail, code);
    case QIX_ETIMEOUT:
      return OdbcError("HYT00", what + ": timeout expired (" + message + ")");
    case QIX_ECANCELLED:
      return OdbcError("HY008", what + ": operation canceled");
    case QIX_ECLOSED:
    case QIX_ECONNECTION:
      return OdbcError("08S01", what + ": communication link failure: " + message);
    case QIX_EHTTP:
      if (code == 401 || code == 403)
        return OdbcError(
            "28000", what + ": invalid authorization (HTTP " + std::to_string(code) + "): " + message, code);
      return OdbcError("08001", what + ": " + message, code);
    case QIX_ENETWORK:
    case QIX_ETLS:
      return OdbcError("08001", what + ": client unable to establish connection: " + message);
    default:
      return OdbcError("HY000", what + ": " + std::string(qix_strerror(status)) + ": " + message);
  }
}

OdbcError last_error(int status, const std::string& what) {
  const qix_error* e = qix_error_last();
  return from_qix(status, qix_error_engine_code(e), e ? qix_error_name(e) : "", e ? qix_error_message(e) : "",
                  what);
}

// --- engine calls -----------------------------------------------------------------------------------

struct CallWait {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int status = QIX_OK;
  int code = 0;
  std::string name, message, json;
  qix_object* obj = nullptr;
};

void on_call_done(const qix_result* r, void* p) {
  auto* holder = static_cast<std::shared_ptr<CallWait>*>(p);
  std::shared_ptr<CallWait> w = *holder;
  delete holder;
  std::lock_guard<std::mutex> lk(w->mu);
  w->status = qix_result_status(r);
  if (w->status == QIX_OK) {
    w->json = qix_result_json(r);
    qix_object* o = nullptr;
    if (qix_result_object(&o, r) == QIX_OK) w->obj = o;
  } else {
    const qix_error* e = qix_result_error(r);
    w->code = qix_error_engine_code(e);
    w->name = qix_error_name(e);
    w->message = qix_error_message(e);
  }
  w->done = true;
  w->cv.notify_all();
}

// Closes the cursors of the connection's statements: their producers may hold the session's event thread,
// which every call needs for its completion (one open cursor per connection: SQL_MAX_CONCURRENT_ACTIVITIES).
void quiesce(Dbc& dbc, Stmt* except) {
  for (Stmt* s : dbc.stmts)
    if (s != except && s->rs && s->rs->stream) close_cursor(*s);
}

// A call on @p obj, waited for; SQLCancel on @p stmt cancels it, its query timeout bounds it.
json::value call(Dbc& dbc, Stmt* stmt, qix_object* obj, const char* method, const std::string& params,
                 qix_object** out_obj = nullptr) {
  (void)dbc;
  auto w = std::make_shared<CallWait>();
  int timeout = stmt && stmt->query_timeout > 0 ? static_cast<int>(stmt->query_timeout * 1000) : -1;
  int64_t id = 0;
  auto* holder = new std::shared_ptr<CallWait>(w);
  int rc = qix_object_call(&id, obj, method, params.c_str(), QIX_CALL_DEFAULT, timeout, on_call_done, holder);
  if (rc < 0 && rc != QIX_ECLOSED) {
    delete holder;
    throw last_error(rc, method);
  }
  if (stmt) {
    stmt->call_in_flight = id;
    if (stmt->cancelled) qix_session_cancel(dbc.session, id);
  }
  std::unique_lock<std::mutex> lk(w->mu);
  w->cv.wait(lk, [&] { return w->done; });
  if (stmt) stmt->call_in_flight = 0;
  if (w->status != QIX_OK) {
    if (w->obj) qix_object_free(w->obj);
    throw from_qix(w->status, w->code, w->name, w->message, method);
  }
  if (out_obj) {
    *out_obj = w->obj;
  } else if (w->obj) {
    qix_object_free(w->obj);
  }
  try {
    return json::parse(w->json);
  } catch (const std::exception& e) {
    throw OdbcError("HY000", std::string(method) + ": unreadable answer: " + e.what());
  }
}

// --- connection -------------------------------------------------------------------------------------

std::string random_hex() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lk(mu);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

bool truthy(const std::string& v) {
  std::string l = lower(v);
  return l == "1" || l == "true" || l == "yes" || l == "on";
}

std::string app_from_url(const std::string& url) {
  auto p = url.find("/app/");
  if (p == std::string::npos) return "";
  auto start = p + 5;
  auto end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The attributes of a DSN from odbc.ini (user, then system), as key/value pairs.
std::vector<std::pair<std::string, std::string>> dsn_attributes(const std::string& dsn) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<char> keys(8192);
  int n = SQLGetPrivateProfileString(dsn.c_str(), nullptr, "", keys.data(), static_cast<int>(keys.size()),
                                     "odbc.ini");
  if (n <= 0) return out;
  for (const char* k = keys.data(); *k && k < keys.data() + n; k += std::strlen(k) + 1) {
    std::vector<char> val(4096);
    SQLGetPrivateProfileString(dsn.c_str(), k, "", val.data(), static_cast<int>(val.size()), "odbc.ini");
    out.emplace_back(k, val.data());
  }
  return out;
}

void set_option(qix_options* opts, const std::string& name, const std::string& value) {
  const qix_option_info* info = nullptr;
  for (int i = 0; i < qix_options_count(); ++i) {
    const qix_option_info* x = qix_options_info(i);
    if (x && name == x->name) info = x;
  }
  if (!info) throw OdbcError("HY000", "Option." + name + ": libqix has no option '" + name + "'");
  if ((name == "events.poll" || name == "events.inline") && truthy(value)) {
    // The driver waits for its callbacks (an extraction's bounded queue): they run on the dispatcher.
    throw OdbcError("HY000", "Option." + name + ": not supported by the ODBC driver");
  }
  int rc = QIX_OK;
  switch (info->value_type) {
    case QIX_OPTION_INT: {
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end)
        throw OdbcError("HY000", "Option." + name + ": '" + value + "' is not a number");
      rc = qix_options_set_int(opts, name.c_str(), v);
      break;
    }
    case QIX_OPTION_BOOL:
      rc = qix_options_set_bool(opts, name.c_str(), truthy(value) ? 1 : 0);
      break;
    default:
      rc = qix_options_set_str(opts, name.c_str(), value.c_str());
  }
  if (rc != QIX_OK)
    throw OdbcError("HY000", "Option." + name + ": the value '" + value + "' is not accepted");
}

void check(int rc, const std::string& what) {
  if (rc != QIX_OK) throw OdbcError("HY000", what + ": the value is not accepted");
}

// --- catalog ----------------------------------------------------------------------------------------

const json::value& tables_and_keys(Dbc& dbc, Stmt* stmt) {
  if (!dbc.tables_and_keys) {
    dbc.tables_and_keys = call(dbc, stmt, dbc.doc, "GetTablesAndKeys",
                               R"({"qWindowSize":{"qcx":0,"qcy":0},"qNullSize":{"qcx":0,"qcy":0},)"
                               R"("qCellHeight":0,"qSyntheticMode":false,"qIncludeSysVars":false})");
  }
  return *dbc.tables_and_keys;
}

const json::array& table_list(Dbc& dbc, Stmt* stmt) {
  static const json::array empty;
  const json::value& tk = tables_and_keys(dbc, stmt);
  const json::value* qtr = tk.is_object() ? tk.find("qtr") : nullptr;
  return qtr && qtr->is_array() ? qtr->as_array() : empty;
}

std::string str_member(const json::value& v, const char* key) {
  const json::value* m = v.is_object() ? v.find(key) : nullptr;
  return m && m->is_string() ? m->as_string() : std::string();
}
double num_member(const json::value& v, const char* key, double fallback = 0) {
  const json::value* m = v.is_object() ? v.find(key) : nullptr;
  if (!m) return fallback;
  try {
    return m->as_double();
  } catch (const std::exception&) {
    return fallback;
  }
}
bool bool_member(const json::value& v, const char* key, bool fallback = false) {
  const json::value* m = v.is_object() ? v.find(key) : nullptr;
  return m && m->is_bool() ? m->as_bool() : fallback;
}

// The ODBC type of a field, from the engine's tags.
SQLSMALLINT field_type(const json::value& field) {
  std::set<std::string> tags;
  if (const json::value* t = field.find("qTags"); t && t->is_array())
    for (const auto& x : t->as_array())
      if (x.is_string()) tags.insert(x.as_string());
  if (tags.count("$timestamp")) return SQL_TYPE_TIMESTAMP;
  if (tags.count("$date")) return SQL_TYPE_DATE;
  if (tags.count("$integer")) return SQL_BIGINT;
  if (tags.count("$numeric")) return SQL_DOUBLE;
  return SQL_VARCHAR;
}

const json::value* find_table(Dbc& dbc, Stmt* stmt, const std::string& name) {
  const json::array& tl = table_list(dbc, stmt);
  for (const auto& t : tl)
    if (str_member(t, "qName") == name) return &t;
  for (const auto& t : tl)
    if (iequals(str_member(t, "qName"), name)) return &t;
  return nullptr;
}

const json::value* find_field(const json::value& table, const std::string& name) {
  const json::value* fields = table.find("qFields");
  if (!fields || !fields->is_array()) return nullptr;
  for (const auto& f : fields->as_array())
    if (str_member(f, "qName") == name) return &f;
  for (const auto& f : fields->as_array())
    if (iequals(str_member(f, "qName"), name)) return &f;
  return nullptr;
}

// ODBC search pattern: % any run, _ any character, \ escapes. Case-insensitive.
bool like(const std::string& pat, const std::string& s, std::size_t pi = 0, std::size_t si = 0) {
  while (pi < pat.size()) {
    char p = pat[pi];
    if (p == '%') {
      for (std::size_t k = si; k <= s.size(); ++k)
        if (like(pat, s, pi + 1, k)) return true;
      return false;
    }
    if (si >= s.size()) return false;
    if (p == '\\' && pi + 1 < pat.size()) {
      p = pat[++pi];
      if (std::tolower(static_cast<unsigned char>(p)) != std::tolower(static_cast<unsigned char>(s[si])))
        return false;
    } else if (p != '_' && std::tolower(static_cast<unsigned char>(p)) !=
                               std::tolower(static_cast<unsigned char>(s[si]))) {
      return false;
    }
    ++pi;
    ++si;
  }
  return si == s.size();
}
bool matches(const std::optional<std::string>& pat, const std::string& s) {
  return !pat || pat->empty() || like(*pat, s);
}

Cell text_cell(const std::string& s) {
  Cell c;
  c.null = false;
  c.text = s;
  return c;
}
Cell num_cell(double v) {
  Cell c;
  c.null = false;
  c.num = v;
  return c;
}
Cell null_cell() {
  return Cell{};
}

ColumnInfo col(const char* name, SQLSMALLINT type, SQLSMALLINT nullable = SQL_NULLABLE) {
  ColumnInfo c;
  c.name = name;
  c.sql_type = type;
  c.size = type == SQL_VARCHAR ? 128 : type_size(type);
  c.nullable = nullable;
  return c;
}

// Objects listed in the `objects` schema: every persistent object but the app's structure.
bool is_data_object(const std::string& type) {
  static const char* const skip[] = {
      "sheet",     "story",      "slide",    "slideitem",  "appprops", "LoadModel",
      "dimension", "measure",    "bookmark", "variable",   "snapshot", "embeddedsnapshot",
      "qix-odbc",  "filterpane", "listbox",  "text-image", "odbc"};
  return std::none_of(std::begin(skip), std::end(skip), [&](const char* s) { return type == s; });
}

std::vector<std::pair<std::string, std::string>> object_list(Dbc& dbc, Stmt* stmt) {
  std::vector<std::pair<std::string, std::string>> out;
  json::value infos = call(dbc, stmt, dbc.doc, "GetAllInfos", "[]");
  if (infos.is_array())
    for (const auto& i : infos.as_array()) {
      std::string type = str_member(i, "qType");
      if (is_data_object(type)) out.emplace_back(str_member(i, "qId"), type);
    }
  return out;
}

// An object's hypercube: its properties' qHyperCubeDef and its layout's column titles and types.
struct ObjectCube {
  json::value def;
  std::vector<ColumnInfo> columns;
};
std::optional<ObjectCube> object_cube(Dbc& dbc, Stmt* stmt, const std::string& id) {
  qix_object* obj = nullptr;
  call(dbc, stmt, dbc.doc, "GetObject", "[" + quote_json(id) + "]", &obj);
  if (!obj) return std::nullopt;
  std::unique_ptr<qix_object, void (*)(qix_object*)> guard(obj, qix_object_free);
  json::value props = call(dbc, stmt, obj, "GetProperties", "[]");
  const json::value* def = props.is_object() ? props.find("qHyperCubeDef") : nullptr;
  ObjectCube oc;
  if (!def) return oc;
  oc.def = *def;
  json::value layout = call(dbc, stmt, obj, "GetLayout", "[]");
  const json::value* hc = layout.is_object() ? layout.find("qHyperCube") : nullptr;
  if (!hc) return oc;
  if (const json::value* d = hc->find("qDimensionInfo"); d && d->is_array())
    for (const auto& x : d->as_array()) {
      ColumnInfo c;
      c.name = str_member(x, "qFallbackTitle");
      c.sql_type = str_member(x, "qDimensionType") == "N" ? SQL_DOUBLE : SQL_VARCHAR;
      c.size = c.sql_type == SQL_VARCHAR
                   ? std::max<SQLULEN>(1, static_cast<SQLULEN>(num_member(x, "qApprMaxGlyphCount", 255)))
                   : type_size(c.sql_type);
      c.table = id;
      c.schema = "objects";
      oc.columns.push_back(c);
    }
  if (const json::value* m = hc->find("qMeasureInfo"); m && m->is_array())
    for (const auto& x : m->as_array()) {
      ColumnInfo c;
      c.name = str_member(x, "qFallbackTitle");
      c.sql_type = SQL_DOUBLE;
      c.size = type_size(SQL_DOUBLE);
      c.table = id;
      c.schema = "objects";
      oc.columns.push_back(c);
    }
  return oc;
}

// --- streaming --------------------------------------------------------------------------------------

int on_row(const char* row_json, size_t len, int64_t /*row_index*/, void* p) {
  Stream& s = **static_cast<std::shared_ptr<Stream>*>(p);
  json::value v;
  try {
    v = json::parse(std::string_view(row_json, len));
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lk(s.mu);
    s.error_message = std::string("unreadable row: ") + e.what();
    return 1;
  }
  const json::array& cells = v.as_array();
  Row out(s.source.size());
  for (std::size_t i = 0; i < s.source.size(); ++i) {
    const auto src = static_cast<std::size_t>(s.source[i]);
    if (src >= cells.size()) continue;
    const json::value& c = cells[src];
    if (bool_member(c, "qIsNull")) continue;
    if (s.types[i] == SQL_VARCHAR) {
      const json::value* t = c.find("qText");
      if (!t || !t->is_string()) continue;
      out[i].null = false;
      out[i].text = t->as_string();
    } else {
      double d = num_member(c, "qNum", std::nan(""));
      if (std::isnan(d)) continue;
      out[i].null = false;
      out[i].num = d;
    }
  }
  std::int64_t reps = 1;
  if (s.count_col >= 0 && static_cast<std::size_t>(s.count_col) < cells.size())
    reps = std::llround(num_member(cells[static_cast<std::size_t>(s.count_col)], "qNum", 1));
  std::unique_lock<std::mutex> lk(s.mu);
  for (std::int64_t r = 0; r < reps; ++r) {
    if (s.limit >= 0 && s.produced >= s.limit) {
      s.limit_reached = true;
      return 1;
    }
    s.cv.wait(lk, [&] { return s.rows.size() < s.capacity || s.cancel; });
    if (s.cancel) return 1;
    Row item;
    if (r + 1 < reps)
      item = out;
    else
      item.swap(out);
    s.rows.push_back(std::move(item));
    ++s.produced;
    s.cv.notify_all();
  }
  if (s.limit >= 0 && s.produced >= s.limit) {
    s.limit_reached = true;
    return 1;
  }
  return 0;
}

void on_extract_done(int status, const qix_error* err, int64_t /*rows*/, void* p) {
  auto* holder = static_cast<std::shared_ptr<Stream>*>(p);
  std::shared_ptr<Stream> s = *holder;
  delete holder;
  std::lock_guard<std::mutex> lk(s->mu);
  s->status = status;
  if (err) {
    s->error_code = qix_error_engine_code(err);
    s->error_name = qix_error_name(err);
    s->error_message = qix_error_message(err);
  }
  s->done = true;
  s->cv.notify_all();
}

// --- queries ----------------------------------------------------------------------------------------

struct FieldRef {
  std::string name;
  SQLSMALLINT type;
};

// Selections for WHERE: cleared, then one SelectValues per condition. Returns false when a condition
// matches no value (the result is then empty: Qlik would ignore such a selection and return every row).
bool apply_where(Dbc& dbc, Stmt& stmt, const std::vector<Condition>& where,
                 const std::vector<std::string>& fields) {
  call(dbc, &stmt, dbc.doc, "ClearAll", "[false]");
  for (std::size_t i = 0; i < where.size(); ++i) {
    const std::string& f = fields[i];
    qix_object* field = nullptr;
    call(dbc, &stmt, dbc.doc, "GetField", "[" + quote_json(f) + "]", &field);
    if (!field) throw OdbcError("42S22", "column '" + where[i].column + "' not found");
    std::unique_ptr<qix_object, void (*)(qix_object*)> guard(field, qix_object_free);
    json::array values;
    for (const auto& l : where[i].values) {
      json::object fv;
      fv.set("qText", json::value(l.is_number ? std::string() : l.text));
      fv.set("qIsNumeric", json::value(l.is_number));
      fv.set("qNumber", json::value(l.is_number ? l.number : 0.0));
      values.push_back(json::value(std::move(fv)));
    }
    call(dbc, &stmt, field, "SelectValues",
         "[" + json::dump(json::value(std::move(values))) + ",false,false]");
    // Did it select anything? A list object on the field says how many values are selected.
    std::string def = R"({"qInfo":{"qType":"qix-odbc"},"qListObjectDef":{"qDef":{"qFieldDefs":[)" +
                      quote_json(f) + R"(]},"qInitialDataFetch":[]}})";
    qix_object* lo = nullptr;
    call(dbc, &stmt, dbc.doc, "CreateSessionObject", "[" + def + "]", &lo);
    if (!lo) throw OdbcError("HY000", "CreateSessionObject gave no object");
    std::unique_ptr<qix_object, void (*)(qix_object*)> lo_guard(lo, qix_object_free);
    json::value layout = call(dbc, &stmt, lo, "GetLayout", "[]");
    std::string lo_id = qix_object_generic_id(lo);
    call(dbc, &stmt, dbc.doc, "DestroySessionObject", "[" + quote_json(lo_id) + "]");
    const json::value* lobj = layout.find("qListObject");
    const json::value* di = lobj ? lobj->find("qDimensionInfo") : nullptr;
    const json::value* sc = di ? di->find("qStateCounts") : nullptr;
    if (!sc || num_member(*sc, "qSelected") <= 0) return false;
  }
  return true;
}

void start_stream(Dbc& dbc, Stmt& stmt, const std::string& cube_def, std::shared_ptr<Stream> s,
                  std::vector<ColumnInfo> cols, bool empty) {
  auto rs = std::make_unique<ResultSet>();
  rs->columns = std::move(cols);
  if (stmt.max_rows > 0 && (s->limit < 0 || s->limit > static_cast<std::int64_t>(stmt.max_rows)))
    s->limit = static_cast<std::int64_t>(stmt.max_rows);
  if (empty || s->limit == 0) {
    stmt.rs = std::move(rs);
    return;
  }
  qix_object* cube = nullptr;
  call(dbc, &stmt, dbc.doc, "CreateSessionObject", "[" + cube_def + "]", &cube);
  if (!cube) throw OdbcError("HY000", "CreateSessionObject gave no object");
  stmt.cube = cube;
  stmt.session_object_id = qix_object_generic_id(cube);
  json::value layout = call(dbc, &stmt, cube, "GetLayout", "[]");
  const json::value* hc = layout.find("qHyperCube");
  if (hc) {
    if (const json::value* e = hc->find("qError"); e && e->is_object())
      throw OdbcError("HY000",
                      "the engine cannot calculate the query: error " +
                          std::to_string(static_cast<int>(num_member(*e, "qErrorCode"))),
                      static_cast<int>(num_member(*e, "qErrorCode")));
    // Text columns: the engine's longest value as the column size.
    if (const json::value* di = hc->find("qDimensionInfo"); di && di->is_array())
      for (std::size_t c = 0; c < rs->columns.size(); ++c) {
        auto src = static_cast<std::size_t>(s->source[c]);
        if (rs->columns[c].sql_type == SQL_VARCHAR && src < di->as_array().size())
          rs->columns[c].size = std::max<SQLULEN>(
              1, static_cast<SQLULEN>(num_member(di->as_array()[src], "qApprMaxGlyphCount", 255)));
      }
    if (num_member(hc->find("qSize") ? *hc->find("qSize") : json::value(), "qcy", 1) == 0) {
      stmt.rs = std::move(rs);
      return;
    }
  }
  auto* holder = new std::shared_ptr<Stream>(s);
  int rc = qix_object_extract(cube, "/qHyperCubeDef", 0, 0, on_row, on_extract_done, holder);
  if (rc != QIX_OK) {
    delete holder;
    throw last_error(rc, "extraction");
  }
  {
    std::lock_guard<std::mutex> lk(stmt.cancel_mu);
    stmt.active_stream = s;
  }
  rs->stream = std::move(s);
  stmt.rs = std::move(rs);
}

void execute_objects(Dbc& dbc, Stmt& stmt, const Query& q) {
  if (!q.group_by.empty() || !q.order_by.empty() || q.distinct ||
      std::any_of(q.items.begin(), q.items.end(), [](const SelectItem& i) { return i.agg != Agg::None; }))
    throw OdbcError("42000",
                    "syntax error or access violation: on the objects schema only SELECT columns "
                    "FROM objects.<id> [WHERE ...] [LIMIT n] is supported (no aggregates, GROUP BY, "
                    "ORDER BY or DISTINCT)");
  auto oc = object_cube(dbc, &stmt, q.table);
  if (!oc) throw OdbcError("42S02", "base table or view not found: no object '" + q.table + "'");
  if (!oc->def.is_object()) throw OdbcError("42000", "the object '" + q.table + "' has no hypercube");
  auto s = std::make_shared<Stream>();
  std::vector<ColumnInfo> cols;
  if (q.star) {
    for (std::size_t i = 0; i < oc->columns.size(); ++i) {
      cols.push_back(oc->columns[i]);
      s->source.push_back(static_cast<int>(i));
    }
  } else {
    for (const auto& it : q.items) {
      std::size_t i = 0;
      while (i < oc->columns.size() && !iequals(oc->columns[i].name, it.column)) ++i;
      if (i == oc->columns.size())
        throw OdbcError("42S22", "column '" + it.column + "' not found in object '" + q.table + "'");
      ColumnInfo c = oc->columns[i];
      if (!it.alias.empty()) c.name = it.alias;
      cols.push_back(c);
      s->source.push_back(static_cast<int>(i));
    }
  }
  for (const auto& c : cols) s->types.push_back(c.sql_type);
  if (q.limit) s->limit = *q.limit;
  std::vector<std::string> wf;
  for (const auto& w : q.where) wf.push_back(w.column);
  bool any = apply_where(dbc, stmt, q.where, wf);
  json::object def = oc->def.as_object();
  def.set("qInitialDataFetch", json::value(json::array{}));
  json::object props;
  props.set("qInfo", json::value(json::object{{"qType", json::value("qix-odbc")}}));
  props.set("qHyperCubeDef", json::value(std::move(def)));
  start_stream(dbc, stmt, json::dump(json::value(std::move(props))), std::move(s), std::move(cols), !any);
}

std::string agg_expr(const SelectItem& it, const std::string& field, const std::string& counter) {
  switch (it.agg) {
    case Agg::Sum:
      return "Sum(" + field_ref(field) + ")";
    case Agg::Count:
      return "Count(" + field_ref(field) + ")";
    case Agg::CountDistinct:
      return "Count(DISTINCT " + field_ref(field) + ")";
    case Agg::CountStar:
      return "Count(" + field_ref(counter) + ")";
    case Agg::Avg:
      return "Avg(" + field_ref(field) + ")";
    case Agg::Min:
      return "Min(" + field_ref(field) + ")";
    case Agg::Max:
      return "Max(" + field_ref(field) + ")";
    case Agg::Expr:
      return it.column;
    case Agg::None:
      break;
  }
  return field;
}

void execute_data(Dbc& dbc, Stmt& stmt, const Query& q) {
  const json::value* table = find_table(dbc, &stmt, q.table);
  if (!table)
    throw OdbcError("42S02", "base table or view not found: no table '" + q.table + "' in the data model");
  const std::string tname = str_member(*table, "qName");
  auto resolve = [&](const std::string& c) -> FieldRef {
    const json::value* f = find_field(*table, c);
    if (!f) throw OdbcError("42S22", "column not found: no column '" + c + "' in table '" + tname + "'");
    return {str_member(*f, "qName"), field_type(*f)};
  };
  std::vector<SelectItem> items = q.items;
  if (q.star)
    for (const auto& f : table->find("qFields")->as_array()) {
      SelectItem it;
      it.column = str_member(f, "qName");
      items.push_back(it);
    }
  const bool aggregated =
      !q.group_by.empty() ||
      std::any_of(items.begin(), items.end(), [](const SelectItem& i) { return i.agg != Agg::None; });
  std::vector<std::string> group;
  for (const auto& g : q.group_by) group.push_back(resolve(g).name);

  // The row counter: a field of the table without NULLs, preferably not a key (a key's count is the
  // table's rows only in the table itself).
  std::string counter, counter_key;
  for (const auto& f : table->find("qFields")->as_array()) {
    // qnNonNulls/qnRows when the engine gives them (not every version does), else qHasNull alone.
    const bool counted = f.find("qnNonNulls") && f.find("qnRows");
    const bool no_nulls =
        !bool_member(f, "qHasNull") && (!counted || num_member(f, "qnNonNulls") == num_member(f, "qnRows"));
    if (!no_nulls) continue;
    std::string& slot = str_member(f, "qKeyType") == "NOT_KEY" ? counter : counter_key;
    if (slot.empty()) slot = str_member(f, "qName");
  }
  if (counter.empty()) counter = counter_key;

  std::vector<std::string> dims;      // hypercube dimensions (fields)
  std::vector<std::string> measures;  // hypercube measures (expressions)
  std::vector<ColumnInfo> cols;
  auto s = std::make_shared<Stream>();
  auto dim_index = [&](const std::string& f) {
    for (std::size_t i = 0; i < dims.size(); ++i)
      if (dims[i] == f) return static_cast<int>(i);
    dims.push_back(f);
    return static_cast<int>(dims.size() - 1);
  };
  std::vector<std::pair<bool, int>> item_src;  // (is measure, index)
  for (const auto& it : items) {
    ColumnInfo c;
    c.name = output_name(it);
    c.table = tname;
    c.schema = "data";
    if (it.agg == Agg::None) {
      FieldRef f = resolve(it.column);
      if (aggregated && std::find(group.begin(), group.end(), f.name) == group.end())
        throw OdbcError("42000", "syntax error or access violation: column '" + it.column +
                                     "' must appear in GROUP BY or in an aggregate");
      c.sql_type = f.type;
      c.size = type_size(f.type);
      if (it.alias.empty()) c.name = f.name;
      item_src.emplace_back(false, dim_index(f.name));
    } else {
      std::string field;
      SQLSMALLINT ftype = SQL_DOUBLE;
      if (it.agg != Agg::Expr && it.agg != Agg::CountStar) {
        FieldRef f = resolve(it.column);
        field = f.name;
        ftype = f.type;
      }
      if (it.agg == Agg::CountStar && counter.empty())
        throw OdbcError("42000", "COUNT(*) is not supported on table '" + tname + "': every field has NULLs");
      switch (it.agg) {
        case Agg::Count:
        case Agg::CountDistinct:
        case Agg::CountStar:
          c.sql_type = SQL_BIGINT;
          break;
        case Agg::Min:
        case Agg::Max:
          c.sql_type = ftype == SQL_BIGINT || ftype == SQL_TYPE_DATE || ftype == SQL_TYPE_TIMESTAMP
                           ? ftype
                           : SQL_DOUBLE;
          break;
        default:
          c.sql_type = SQL_DOUBLE;
      }
      c.size = type_size(c.sql_type);
      measures.push_back(agg_expr(it, field, counter));
      item_src.emplace_back(true, static_cast<int>(measures.size() - 1));
    }
    cols.push_back(c);
  }
  for (const auto& g : group) dim_index(g);  // GROUP BY columns not selected: hidden dimensions
  // SELECT without aggregates: rows of the table. The hypercube gives each distinct combination once, so
  // unless one column is unique in the table (or DISTINCT was asked), a hidden Count() repeats each.
  if (!aggregated && !q.distinct) {
    bool unique = false;
    for (const auto& d : dims) {
      const json::value* f = find_field(*table, d);
      if (f && !bool_member(*f, "qHasDuplicates", true) && !bool_member(*f, "qHasNull")) unique = true;
    }
    if (!unique) {
      if (counter.empty())
        throw OdbcError("42000",
                        "SELECT of table '" + tname +
                            "' without DISTINCT is not supported: every field has NULLs, so its rows "
                            "cannot be counted; use SELECT DISTINCT");
      measures.push_back("Count(" + field_ref(counter) + ")");
      s->count_col = static_cast<int>(dims.size() + measures.size() - 1);
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i)
    s->source.push_back(item_src[i].first ? static_cast<int>(dims.size()) + item_src[i].second
                                          : item_src[i].second);
  for (const auto& c : cols) s->types.push_back(c.sql_type);
  if (q.limit) s->limit = *q.limit;

  // ORDER BY -> sort criteria and the inter-column order.
  const std::size_t ncols = dims.size() + measures.size();
  std::vector<int> sort_dir(ncols, 0);
  std::vector<int> inter;
  for (const auto& k : q.order_by) {
    int out = -1;
    if (k.ordinal > 0) {
      if (static_cast<std::size_t>(k.ordinal) > cols.size())
        throw OdbcError("42000", "ORDER BY " + std::to_string(k.ordinal) + ": the select list has " +
                                     std::to_string(cols.size()) + " columns");
      out = k.ordinal - 1;
    } else {
      for (std::size_t i = 0; i < cols.size() && out < 0; ++i)
        if (iequals(cols[i].name, k.name)) out = static_cast<int>(i);
      for (std::size_t i = 0; i < items.size() && out < 0; ++i)
        if (items[i].agg == Agg::None && iequals(items[i].column, k.name)) out = static_cast<int>(i);
      if (out < 0)
        throw OdbcError("42000", "syntax error or access violation: ORDER BY '" + k.name +
                                     "' is not an output column (ORDER BY takes output columns only)");
    }
    int src = s->source[static_cast<std::size_t>(out)];
    if (std::find(inter.begin(), inter.end(), src) != inter.end()) continue;
    inter.push_back(src);
    sort_dir[static_cast<std::size_t>(src)] = k.descending ? -1 : 1;
  }
  for (std::size_t i = 0; i < ncols; ++i)
    if (std::find(inter.begin(), inter.end(), static_cast<int>(i)) == inter.end())
      inter.push_back(static_cast<int>(i));

  json::array jd, jm, jinter;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    int d = sort_dir[i];
    json::object crit{{"qSortByNumeric", json::value(d)},
                      {"qSortByAscii", json::value(d)},
                      {"qSortByLoadOrder", json::value(d == 0 ? 1 : 0)}};
    json::object qdef{{"qFieldDefs", json::value(json::array{json::value(dims[i])})},
                      {"qSortCriterias", json::value(json::array{json::value(std::move(crit))})}};
    jd.push_back(json::value(
        json::object{{"qDef", json::value(std::move(qdef))}, {"qNullSuppression", json::value(false)}}));
  }
  for (std::size_t i = 0; i < measures.size(); ++i) {
    json::object qdef{{"qDef", json::value(measures[i])}};
    jm.push_back(json::value(json::object{
        {"qDef", json::value(std::move(qdef))},
        {"qSortBy", json::value(json::object{{"qSortByNumeric", json::value(sort_dir[dims.size() + i])}})}}));
  }
  for (int i : inter) jinter.push_back(json::value(i));
  json::object hc{{"qDimensions", json::value(std::move(jd))},
                  {"qMeasures", json::value(std::move(jm))},
                  {"qInterColumnSortOrder", json::value(std::move(jinter))},
                  {"qSuppressZero", json::value(false)},
                  {"qSuppressMissing", json::value(false)},
                  {"qMode", json::value("S")},
                  {"qInitialDataFetch", json::value(json::array{})}};
  json::object props{{"qInfo", json::value(json::object{{"qType", json::value("qix-odbc")}})},
                     {"qHyperCubeDef", json::value(std::move(hc))}};

  std::vector<std::string> wf;
  for (const auto& w : q.where) wf.push_back(resolve(w.column).name);
  bool any = apply_where(dbc, stmt, q.where, wf);
  if (!any && dims.empty()) {
    // Aggregates over no rows: one row, counts 0 and the others NULL (as SQL has it).
    auto rs = std::make_unique<ResultSet>();
    Row r;
    for (const auto& it : items) {
      bool is_count = it.agg == Agg::Count || it.agg == Agg::CountDistinct || it.agg == Agg::CountStar;
      r.push_back(is_count ? num_cell(0) : null_cell());
    }
    rs->columns = std::move(cols);
    if (!q.limit || *q.limit > 0) rs->fixed.push_back(std::move(r));
    stmt.rs = std::move(rs);
    return;
  }
  start_stream(dbc, stmt, json::dump(json::value(std::move(props))), std::move(s), std::move(cols), !any);
}

}  // namespace

// --- exported to driver.cpp -------------------------------------------------------------------------

void connect(Dbc& dbc, const std::string& conn, bool& with_info) {
  std::vector<std::pair<std::string, std::string>> attrs;
  try {
    attrs = parse_connection_string(conn);
  } catch (const SqlError& e) {
    throw OdbcError("HY000", e.what());
  }
  // A DSN's attributes come after the string's, so that the string's win.
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>(attrs))
    if (iequals(k, "DSN") && !v.empty())
      for (auto& kv : dsn_attributes(v)) attrs.push_back(kv);
  std::unique_ptr<qix_options, void (*)(qix_options*)> opts(nullptr, qix_options_free);
  {
    qix_options* o = nullptr;
    if (qix_options_new(&o) != QIX_OK) throw OdbcError("HY001", "memory allocation error");
    opts.reset(o);
    // The driver's callbacks wait on its queues (back-pressure): never on libqix's I/O thread (the C API's
    // default events.inline).
    if (qix_options_set_bool(o, "events.inline", 0) != QIX_OK) throw OdbcError("HY000", "events.inline");
  }
  std::set<std::string> seen;
  std::string url, app, bearer, pwd;
  std::optional<std::string> identity;
  bool have_host = false;
  std::vector<std::string> unknown;
  for (const auto& [key, value] : attrs) {
    std::string k = lower(key);
    if (!seen.insert(k).second && k.find('.') == std::string::npos) continue;  // first one wins
    qix_options* o = opts.get();
    if (k == "driver" || k == "dsn" || k == "description" || k == "uid" || k == "setup" || k == "fileusage" ||
        k == "trace" || k == "tracefile" || k == "threading" || k == "usagecount") {
      continue;
    } else if (k == "pwd") {
      pwd = value;
    } else if (k == "url") {
      url = value;
      check(qix_options_set_str(o, "url", value.c_str()), "Url");
    } else if (k == "host") {
      have_host = true;
      check(qix_options_set_str(o, "url.host", value.c_str()), "Host");
    } else if (k == "port") {
      check(qix_options_set_int(o, "url.port", std::strtoll(value.c_str(), nullptr, 10)), "Port");
    } else if (k == "secure") {
      check(qix_options_set_bool(o, "url.secure", truthy(value)), "Secure");
    } else if (k == "prefix") {
      check(qix_options_set_str(o, "url.prefix", value.c_str()), "Prefix");
    } else if (k == "identity") {
      identity = value;
    } else if (k == "app") {
      app = value;
      check(qix_options_set_str(o, "url.app_id", value.c_str()), "App");
    } else if (k == "bearer") {
      bearer = value;
    } else if (k == "cafile") {
      check(qix_options_set_str(o, "tls.ca_file", value.c_str()), "CAFile");
    } else if (k == "cadir") {
      check(qix_options_set_str(o, "tls.ca_dir", value.c_str()), "CADir");
    } else if (k == "certfile") {
      check(qix_options_set_str(o, "tls.cert_file", value.c_str()), "CertFile");
    } else if (k == "keyfile") {
      check(qix_options_set_str(o, "tls.key_file", value.c_str()), "KeyFile");
    } else if (k == "servername") {
      check(qix_options_set_str(o, "tls.server_name", value.c_str()), "ServerName");
    } else if (k == "insecure") {
      check(qix_options_set_bool(o, "tls.verify", truthy(value) ? 0 : 1), "Insecure");
    } else if (k.rfind("header.", 0) == 0) {
      check(qix_options_add_header(o, key.substr(7).c_str(), value.c_str()), key);
    } else if (k.rfind("cookie.", 0) == 0) {
      check(qix_options_add_cookie(o, key.substr(7).c_str(), value.c_str()), key);
    } else if (k.rfind("param.", 0) == 0) {
      check(qix_options_add_url_param(o, key.substr(6).c_str(), value.c_str()), key);
    } else if (k.rfind("option.", 0) == 0) {
      set_option(o, key.substr(7), value);
    } else {
      unknown.push_back(key);
    }
  }
  if (bearer.empty() && !pwd.empty()) bearer = pwd;  // SQLConnect(dsn, uid, pwd): the password is the token
  if (!bearer.empty())
    check(qix_options_add_header(opts.get(), "Authorization", ("Bearer " + bearer).c_str()), "Bearer");
  // Every connection is an engine session of its own, so that its selections (WHERE) never touch another
  // session's, not even the same user's in a browser (the proxy would otherwise give both one session): a
  // fresh /identity/ unless the string sets one (Identity= with an empty value keeps the URL as it is).
  if (!identity) identity = "odbc-" + random_hex();
  if (!identity->empty()) {
    if (!url.empty()) {
      if (url.find("/identity/") == std::string::npos) {
        auto q = url.find_first_of("?#");
        std::string with =
            url.substr(0, q) + "/identity/" + *identity + (q == std::string::npos ? "" : url.substr(q));
        check(qix_options_set_str(opts.get(), "url", with.c_str()), "Url");
      }
    } else {
      check(qix_options_set_str(opts.get(), "url.identity", identity->c_str()), "Identity");
    }
  }
  if (url.empty() && !have_host)
    throw OdbcError(
        "HY000", "the connection string gives no engine: set Url=ws://host:port/app/<id> (or Host and App)");
  dbc.app_id = app.empty() ? app_from_url(url) : app;
  if (dbc.app_id.empty())
    throw OdbcError("HY000", "the connection string names no app: Url=.../app/<id> or App=<id>");
  for (const auto& u : unknown) {
    dbc.add("01S00", "invalid connection string attribute '" + u + "' (ignored)");
    with_info = true;
  }

  qix_context* ctx = nullptr;
  if (qix_context_new(&ctx, 1, 1) != QIX_OK) throw last_error(QIX_ENOMEM, "connect");
  qix_session* session = nullptr;
  int rc = qix_session_open_sync(&session, ctx, opts.get(), static_cast<int>(dbc.login_timeout * 1000));
  if (rc != QIX_OK) {
    OdbcError e = last_error(rc, "connect");
    if (e.state == "HY000" || e.state == "HYT00" || e.state == "08S01") e.state = "08001";
    qix_context_free(ctx);
    throw OdbcError(e.state, e.what(), e.native);
  }
  dbc.ctx = ctx;
  dbc.session = session;
  qix_object* global = nullptr;
  qix_session_global(&global, session);
  std::unique_ptr<qix_object, void (*)(qix_object*)> g(global, qix_object_free);
  try {
    qix_object* doc = nullptr;
    call(dbc, nullptr, global, "OpenDoc", "[" + quote_json(dbc.app_id) + "]", &doc);
    if (!doc) throw OdbcError("08004", "OpenDoc gave no app");
    dbc.doc = doc;
  } catch (OdbcError& e) {
    disconnect(dbc);
    if (e.state == "HY000") e.state = "08004";  // the server rejected the connection (the app)
    throw;
  }
  dbc.conn_string = conn;
}

void disconnect(Dbc& dbc) {
  for (Stmt* s : dbc.stmts) close_cursor(*s);
  qix_object_free(dbc.doc);
  dbc.doc = nullptr;
  if (dbc.session) {
    qix_session_close(dbc.session);
    qix_session_wait_closed(dbc.session, -1);
    qix_session_free(dbc.session);
  }
  dbc.session = nullptr;
  qix_context_free(dbc.ctx);
  dbc.ctx = nullptr;
  dbc.tables_and_keys.reset();
}

void close_cursor(Stmt& stmt) {
  {
    std::lock_guard<std::mutex> lk(stmt.cancel_mu);
    stmt.active_stream.reset();
  }
  if (stmt.rs && stmt.rs->stream) {
    Stream& s = *stmt.rs->stream;
    std::unique_lock<std::mutex> lk(s.mu);
    s.cancel = true;
    s.cv.notify_all();
    s.cv.wait(lk, [&] { return s.done; });
  }
  stmt.rs.reset();
  stmt.rowset.clear();
  stmt.on_row = false;
  stmt.getdata_col = -1;
  if (stmt.cube) {
    qix_object_free(stmt.cube);
    stmt.cube = nullptr;
  }
  if (!stmt.session_object_id.empty() && stmt.dbc->doc) {
    try {
      bool was = stmt.cancelled;
      stmt.cancelled = false;
      call(*stmt.dbc, nullptr, stmt.dbc->doc, "DestroySessionObject",
           "[" + quote_json(stmt.session_object_id) + "]");
      stmt.cancelled = was;
    } catch (const OdbcError&) {
      // The session may be gone; the object goes with it.
    }
  }
  stmt.session_object_id.clear();
}

void cancel(Stmt& stmt) {
  stmt.cancelled = true;
  if (int64_t id = stmt.call_in_flight; id > 0 && stmt.dbc->session)
    qix_session_cancel(stmt.dbc->session, id);
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lk(stmt.cancel_mu);
    s = stmt.active_stream;
  }
  if (s) {
    std::lock_guard<std::mutex> lk(s->mu);
    s->cancel = true;
    s->cv.notify_all();
  }
}

void execute(Stmt& stmt, const std::string& sql) {
  Dbc& dbc = *stmt.dbc;
  close_cursor(stmt);
  quiesce(dbc, &stmt);
  stmt.cancelled = false;
  Query q;
  try {
    q = parse(sql);
  } catch (const SqlError& e) {
    throw OdbcError("42000", std::string("syntax error or access violation: ") + e.what());
  }
  if (q.schema.empty() || iequals(q.schema, "data"))
    execute_data(dbc, stmt, q);
  else if (iequals(q.schema, "objects"))
    execute_objects(dbc, stmt, q);
  else
    throw OdbcError("42S02",
                    "base table or view not found: no schema '" + q.schema + "' (schemas: data, objects)");
}

bool next_row(Stmt& stmt, Row& out) {
  ResultSet& rs = *stmt.rs;
  if (!rs.stream) {
    if (rs.fixed.empty()) return false;
    out = std::move(rs.fixed.front());
    rs.fixed.pop_front();
    return true;
  }
  Stream& s = *rs.stream;
  std::unique_lock<std::mutex> lk(s.mu);
  auto ready = [&] { return !s.rows.empty() || s.done || s.cancel; };
  if (stmt.query_timeout > 0) {
    if (!s.cv.wait_for(lk, std::chrono::seconds(stmt.query_timeout), ready)) {
      s.cancel = true;
      s.cv.notify_all();
      throw OdbcError("HYT00", "timeout expired: no rows within the query timeout");
    }
  } else {
    s.cv.wait(lk, ready);
  }
  if (s.cancel && !s.limit_reached) throw OdbcError("HY008", "operation canceled");
  if (!s.rows.empty()) {
    out = std::move(s.rows.front());
    s.rows.pop_front();
    s.cv.notify_all();
    return true;
  }
  if (s.status == QIX_OK || (s.status == QIX_ECANCELLED && s.limit_reached)) return false;
  if (s.status == QIX_ECANCELLED && !s.error_message.empty() && s.error_name.empty())
    throw OdbcError("HY000", s.error_message);
  throw from_qix(s.status, s.error_code, s.error_name, s.error_message, "fetch");
}

void tables(Stmt& stmt, const std::optional<std::string>& catalog, const std::optional<std::string>& schema,
            const std::optional<std::string>& table, const std::optional<std::string>& types) {
  Dbc& dbc = *stmt.dbc;
  close_cursor(stmt);
  quiesce(dbc, &stmt);
  auto rs = std::make_unique<ResultSet>();
  rs->columns = {col("TABLE_CAT", SQL_VARCHAR), col("TABLE_SCHEM", SQL_VARCHAR),
                 col("TABLE_NAME", SQL_VARCHAR, SQL_NO_NULLS), col("TABLE_TYPE", SQL_VARCHAR, SQL_NO_NULLS),
                 col("REMARKS", SQL_VARCHAR)};
  auto row = [&](const std::string& s, const std::string& t, const std::string& type,
                 const std::string& rem) {
    rs->fixed.push_back({null_cell(), s.empty() ? null_cell() : text_cell(s),
                         t.empty() ? null_cell() : text_cell(t), type.empty() ? null_cell() : text_cell(type),
                         rem.empty() ? null_cell() : text_cell(rem)});
  };
  // Special forms: the list of schemas, of table types.
  if (schema && *schema == "%" && (!catalog || catalog->empty()) && (!table || table->empty())) {
    row("data", "", "", "");
    row("objects", "", "", "");
    stmt.rs = std::move(rs);
    return;
  }
  if (types && *types == "%" && (!catalog || catalog->empty()) && (!schema || schema->empty()) &&
      (!table || table->empty())) {
    row("", "", "TABLE", "");
    row("", "", "VIEW", "");
    stmt.rs = std::move(rs);
    return;
  }
  bool want_tables = true, want_views = true;
  if (types && !types->empty() && *types != "%") {
    std::string t = lower(*types);
    want_tables = t.find("table") != std::string::npos;
    want_views = t.find("view") != std::string::npos;
  }
  if (catalog && !catalog->empty() && *catalog != "%") {
    stmt.rs = std::move(rs);
    return;
  }
  if (want_tables && matches(schema, "data"))
    for (const auto& t : table_list(dbc, &stmt)) {
      std::string name = str_member(t, "qName");
      if (matches(table, name))
        row("data", name, "TABLE",
            std::to_string(static_cast<long long>(num_member(t, "qNoOfRows"))) + " rows");
    }
  if (want_views && matches(schema, "objects"))
    for (const auto& [id, type] : object_list(dbc, &stmt))
      if (matches(table, id)) row("objects", id, "VIEW", type);
  stmt.rs = std::move(rs);
}

void columns(Stmt& stmt, const std::optional<std::string>& schema, const std::optional<std::string>& table,
             const std::optional<std::string>& column) {
  Dbc& dbc = *stmt.dbc;
  close_cursor(stmt);
  quiesce(dbc, &stmt);
  auto rs = std::make_unique<ResultSet>();
  rs->columns = {col("TABLE_CAT", SQL_VARCHAR),
                 col("TABLE_SCHEM", SQL_VARCHAR),
                 col("TABLE_NAME", SQL_VARCHAR, SQL_NO_NULLS),
                 col("COLUMN_NAME", SQL_VARCHAR, SQL_NO_NULLS),
                 col("DATA_TYPE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("TYPE_NAME", SQL_VARCHAR, SQL_NO_NULLS),
                 col("COLUMN_SIZE", SQL_INTEGER),
                 col("BUFFER_LENGTH", SQL_INTEGER),
                 col("DECIMAL_DIGITS", SQL_SMALLINT),
                 col("NUM_PREC_RADIX", SQL_SMALLINT),
                 col("NULLABLE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("REMARKS", SQL_VARCHAR),
                 col("COLUMN_DEF", SQL_VARCHAR),
                 col("SQL_DATA_TYPE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("SQL_DATETIME_SUB", SQL_SMALLINT),
                 col("CHAR_OCTET_LENGTH", SQL_INTEGER),
                 col("ORDINAL_POSITION", SQL_INTEGER, SQL_NO_NULLS),
                 col("IS_NULLABLE", SQL_VARCHAR)};
  auto row = [&](const std::string& sch, const std::string& t, const std::string& name, SQLSMALLINT type,
                 int pos, const std::string& remarks, SQLULEN size) {
    const bool is_char = type == SQL_VARCHAR;
    const bool is_dt = type == SQL_TYPE_DATE || type == SQL_TYPE_TIMESTAMP;
    SQLSMALLINT verbose = is_dt ? SQL_DATETIME : type;
    Row r{null_cell(),
          text_cell(sch),
          text_cell(t),
          text_cell(name),
          num_cell(type),
          text_cell(type_name(type)),
          num_cell(static_cast<double>(size)),
          num_cell(is_char                                    ? static_cast<double>(size)
                   : type == SQL_BIGINT || type == SQL_DOUBLE ? 8
                                                              : 16),
          type == SQL_TYPE_TIMESTAMP || type == SQL_BIGINT ? num_cell(0) : null_cell(),
          type == SQL_BIGINT   ? num_cell(10)
          : type == SQL_DOUBLE ? num_cell(2)
                               : null_cell(),
          num_cell(SQL_NULLABLE),
          remarks.empty() ? null_cell() : text_cell(remarks),
          null_cell(),
          num_cell(verbose),
          is_dt ? num_cell(type == SQL_TYPE_DATE ? SQL_CODE_DATE : SQL_CODE_TIMESTAMP) : null_cell(),
          is_char ? num_cell(static_cast<double>(size * 4)) : null_cell(),
          num_cell(pos),
          text_cell("YES")};
    rs->fixed.push_back(std::move(r));
  };
  if (matches(schema, "data"))
    for (const auto& t : table_list(dbc, &stmt)) {
      std::string tname = str_member(t, "qName");
      if (!matches(table, tname)) continue;
      int pos = 0;
      if (const json::value* fields = t.find("qFields"); fields && fields->is_array())
        for (const auto& f : fields->as_array()) {
          ++pos;
          std::string name = str_member(f, "qName");
          if (!matches(column, name)) continue;
          std::string remarks;
          if (const json::value* tags = f.find("qTags"); tags && tags->is_array())
            for (const auto& x : tags->as_array())
              if (x.is_string()) remarks += (remarks.empty() ? "" : " ") + x.as_string();
          SQLSMALLINT type = field_type(f);
          row("data", tname, name, type, pos, remarks, type_size(type));
        }
    }
  if (matches(schema, "objects") && table && !table->empty())
    for (const auto& [id, type] : object_list(dbc, &stmt)) {
      if (!matches(table, id)) continue;
      auto oc = object_cube(dbc, &stmt, id);
      if (!oc) continue;
      int pos = 0;
      for (const auto& c : oc->columns) {
        ++pos;
        if (matches(column, c.name)) row("objects", id, c.name, c.sql_type, pos, "", c.size);
      }
    }
  stmt.rs = std::move(rs);
}

void empty_catalog(Stmt& stmt, const std::vector<const char*>& names) {
  close_cursor(stmt);
  auto rs = std::make_unique<ResultSet>();
  for (const char* n : names) rs->columns.push_back(col(n, SQL_VARCHAR));
  stmt.rs = std::move(rs);
}

void type_info(Stmt& stmt, SQLSMALLINT type) {
  close_cursor(stmt);
  auto rs = std::make_unique<ResultSet>();
  rs->columns = {col("TYPE_NAME", SQL_VARCHAR, SQL_NO_NULLS),
                 col("DATA_TYPE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("COLUMN_SIZE", SQL_INTEGER),
                 col("LITERAL_PREFIX", SQL_VARCHAR),
                 col("LITERAL_SUFFIX", SQL_VARCHAR),
                 col("CREATE_PARAMS", SQL_VARCHAR),
                 col("NULLABLE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("CASE_SENSITIVE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("SEARCHABLE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("UNSIGNED_ATTRIBUTE", SQL_SMALLINT),
                 col("FIXED_PREC_SCALE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("AUTO_UNIQUE_VALUE", SQL_SMALLINT),
                 col("LOCAL_TYPE_NAME", SQL_VARCHAR),
                 col("MINIMUM_SCALE", SQL_SMALLINT),
                 col("MAXIMUM_SCALE", SQL_SMALLINT),
                 col("SQL_DATA_TYPE", SQL_SMALLINT, SQL_NO_NULLS),
                 col("SQL_DATETIME_SUB", SQL_SMALLINT),
                 col("NUM_PREC_RADIX", SQL_INTEGER),
                 col("INTERVAL_PRECISION", SQL_SMALLINT)};
  const SQLSMALLINT all[] = {SQL_BIGINT, SQL_DOUBLE, SQL_VARCHAR, SQL_TYPE_DATE, SQL_TYPE_TIMESTAMP};
  for (SQLSMALLINT t : all) {
    if (type != SQL_ALL_TYPES && type != t) continue;
    const bool is_char = t == SQL_VARCHAR, is_dt = t == SQL_TYPE_DATE || t == SQL_TYPE_TIMESTAMP;
    rs->fixed.push_back(
        {text_cell(type_name(t)), num_cell(t), num_cell(static_cast<double>(type_size(t))),
         is_char || is_dt ? text_cell("'") : null_cell(), is_char || is_dt ? text_cell("'") : null_cell(),
         null_cell(), num_cell(SQL_NULLABLE), num_cell(is_char ? 1 : 0), num_cell(SQL_PRED_BASIC),
         is_char || is_dt ? null_cell() : num_cell(0), num_cell(0),
         is_char || is_dt ? null_cell() : num_cell(0), text_cell(type_name(t)), null_cell(), null_cell(),
         num_cell(is_dt ? SQL_DATETIME : t),
         is_dt ? num_cell(t == SQL_TYPE_DATE ? SQL_CODE_DATE : SQL_CODE_TIMESTAMP) : null_cell(),
         t == SQL_BIGINT   ? num_cell(10)
         : t == SQL_DOUBLE ? num_cell(2)
                           : null_cell(),
         null_cell()});
  }
  stmt.rs = std::move(rs);
}

}  // namespace qix::odbc
