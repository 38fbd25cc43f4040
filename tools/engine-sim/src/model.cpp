// qix-engine-sim: associative data model, the built-in demo app and the CSV loader.
#include "model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace qix::sim {

bool parse_number(std::string_view text, double& out) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!ok) return false;
  }
  std::string_view t = text;
  if (t.front() == '+') t.remove_prefix(1);
  if (t.empty()) return false;
  double v = 0;
  auto res = std::from_chars(t.data(), t.data() + t.size(), v);
  if (res.ec != std::errc() || res.ptr != t.data() + t.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (std::fabs(v) < 1e15 && std::trunc(v) == v) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.14g", v);
  }
  return buf;
}

namespace {

std::size_t hash_text(std::string_view text) { return std::hash<std::string_view>{}(text); }

}  // namespace

std::int32_t SymbolTable::find(std::string_view text) {
  if (slots_.empty()) {
    if (empty()) return -1;
    rehash(size());
  }
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash_text(text) & mask;; i = (i + 1) & mask) {
    std::int32_t s = slots_[i];
    if (s < 0) return -1;
    if (this->text(static_cast<std::size_t>(s)) == text) return s;
  }
}

std::int32_t SymbolTable::add(std::string_view text, double num) {
  if (chars_.size() + text.size() > std::numeric_limits<std::uint32_t>::max() ||
      size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::length_error("too many distinct values in one field");
  if ((size() + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(size() + 1, 2 * size()));
  auto idx = static_cast<std::int32_t>(size());
  chars_.append(text);
  ends_.push_back(static_cast<std::uint32_t>(chars_.size()));
  nums_.push_back(num);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash_text(text) & mask;
  while (slots_[i] >= 0) i = (i + 1) & mask;
  slots_[i] = idx;
  return idx;
}

void SymbolTable::reserve(std::size_t n, std::size_t chars) {
  chars_.reserve(chars);
  ends_.reserve(n);
  nums_.reserve(n);
  if (n * 2 > slots_.size()) rehash(n);
}

void SymbolTable::drop_index() {
  std::vector<std::int32_t>().swap(slots_);
  chars_.shrink_to_fit();
  ends_.shrink_to_fit();
  nums_.shrink_to_fit();
}

// Room for `min_values` values at a load of at most one half.
void SymbolTable::rehash(std::size_t min_values) {
  std::size_t slots = 16;
  while (slots < min_values * 2) slots *= 2;
  slots_.assign(slots, -1);
  const std::size_t mask = slots - 1;
  for (std::size_t s = 0; s < size(); ++s) {
    std::size_t i = hash_text(text(s)) & mask;
    while (slots_[i] >= 0) i = (i + 1) & mask;
    slots_[i] = static_cast<std::int32_t>(s);
  }
}

std::int32_t FieldData::intern(std::string_view text) {
  std::int32_t found = symbols.find(text);
  if (found >= 0) return found;
  double num = 0;
  if (!parse_number(text, num)) {
    num = std::numeric_limits<double>::quiet_NaN();
    all_numeric = false;
  }
  return symbols.add(text, num);
}

int AppData::field_id(std::string_view name) const {
  auto it = field_by_name_.find(std::string(name));
  return it == field_by_name_.end() ? -1 : it->second;
}

int AppData::add_table(const std::string& name, const std::vector<std::string>& columns) {
  TableData t;
  t.name = name;
  int tid = static_cast<int>(tables.size());
  for (const auto& c : columns) {
    int f = field_id(c);
    if (f < 0) {
      f = static_cast<int>(fields.size());
      FieldData fd;
      fd.name = c;
      fields.push_back(std::move(fd));
      field_by_name_.emplace(c, f);
    }
    auto& ft = fields[static_cast<std::size_t>(f)].tables;
    if (std::find(ft.begin(), ft.end(), tid) == ft.end()) ft.push_back(tid);
    t.fields.push_back(f);
  }
  t.cols.resize(columns.size());
  tables.push_back(std::move(t));
  return tid;
}

void AppData::finalize() {
  for (auto& f : fields) f.symbols.drop_index();
  for (auto& t : tables)
    for (auto& c : t.cols) c.shrink_to_fit();
}

void AppData::add_row(int table, const std::vector<std::string_view>& values) {
  auto& t = tables[static_cast<std::size_t>(table)];
  for (std::size_t c = 0; c < t.fields.size(); ++c) {
    std::string_view v = c < values.size() ? values[c] : std::string_view{};
    std::int32_t sym = v.empty() ? -1 : fields[static_cast<std::size_t>(t.fields[c])].intern(v);
    t.cols[c].push_back(sym);
  }
  ++t.rows;
}

void AppData::add_row_symbols(int table, const std::vector<std::int32_t>& symbols) {
  auto& t = tables[static_cast<std::size_t>(table)];
  for (std::size_t c = 0; c < t.fields.size(); ++c) t.cols[c].push_back(symbols[c]);
  ++t.rows;
}

std::size_t AppData::total_rows() const {
  std::size_t n = 0;
  for (const auto& t : tables) n += t.rows;
  return n;
}

const std::vector<std::int32_t>* AppData::unique_index(int table, int field) const {
  auto key = std::make_pair(table, field);
  auto it = unique_cache_.find(key);
  if (it != unique_cache_.end()) return it->second.get();
  const auto& t = tables[static_cast<std::size_t>(table)];
  std::unique_ptr<std::vector<std::int32_t>> idx;
  auto pos = std::find(t.fields.begin(), t.fields.end(), field);
  if (pos != t.fields.end()) {
    const auto& col = t.cols[static_cast<std::size_t>(pos - t.fields.begin())];
    idx = std::make_unique<std::vector<std::int32_t>>(fields[static_cast<std::size_t>(field)].symbols.size(), -1);
    for (std::size_t r = 0; r < col.size(); ++r) {
      if (col[r] < 0) continue;
      auto& slot = (*idx)[static_cast<std::size_t>(col[r])];
      if (slot >= 0) {
        idx.reset();
        break;
      }
      slot = static_cast<std::int32_t>(r);
    }
  }
  auto* raw = idx.get();
  unique_cache_.emplace(key, std::move(idx));
  return raw;
}

bool AppData::has_duplicates(int table, int field) const {
  std::lock_guard lock(cache_mu_);
  return unique_index(table, field) == nullptr;
}

const std::vector<std::int32_t>* AppData::resolve(int table, int field) const {
  std::lock_guard lock(cache_mu_);
  std::set<int> visiting;
  return resolve_locked(table, field, visiting);
}

const std::vector<std::int32_t>* AppData::resolve_locked(int table, int field, std::set<int>& visiting) const {
  if (table < 0 || field < 0) return nullptr;
  const auto& t = tables[static_cast<std::size_t>(table)];
  auto pos = std::find(t.fields.begin(), t.fields.end(), field);
  if (pos != t.fields.end()) return &t.cols[static_cast<std::size_t>(pos - t.fields.begin())];
  auto key = std::make_pair(table, field);
  auto it = resolve_cache_.find(key);
  if (it != resolve_cache_.end()) return it->second.get();
  visiting.insert(table);
  const std::vector<std::int32_t>* found = nullptr;
  std::unique_ptr<std::vector<std::int32_t>> out;
  for (std::size_t c = 0; c < t.fields.size() && !found; ++c) {
    int k = t.fields[c];
    if (!is_key(k)) continue;
    for (int u : fields[static_cast<std::size_t>(k)].tables) {
      if (u == table || visiting.count(u)) continue;
      const auto* uniq = unique_index(u, k);
      if (!uniq) continue;
      const auto* far = resolve_locked(u, field, visiting);
      if (!far) continue;
      out = std::make_unique<std::vector<std::int32_t>>(t.rows, -1);
      const auto& col = t.cols[c];
      for (std::size_t r = 0; r < t.rows; ++r) {
        if (col[r] < 0) continue;
        std::int32_t ur = (*uniq)[static_cast<std::size_t>(col[r])];
        if (ur >= 0) (*out)[r] = (*far)[static_cast<std::size_t>(ur)];
      }
      found = out.get();
      break;
    }
  }
  visiting.erase(table);
  // Failures are only cached at the top level (a cycle guard may hide a path on an inner call).
  if (found || visiting.empty()) resolve_cache_.emplace(key, std::move(out));
  return found;
}

const char* state_code(CellState s) {
  switch (s) {
    case CellState::Selected: return "S";
    case CellState::Optional: return "O";
    case CellState::Excluded: return "X";
    case CellState::Alternative: return "A";
    case CellState::Locked: return "L";
    case CellState::SelectedExcluded: return "XS";
    case CellState::LockedExcluded: return "XL";
  }
  return "O";
}

namespace {

// Qlik-style inference on the bipartite graph of tables and key fields. A table sends a key field the
// values its rows allow, given the selections on its other fields and what its other keys receive; a key
// field sends a table the intersection of what its other tables allow. "Unconstrained" (nullopt) when no
// selection lies on that side, so values without a partner row in an unselected table stay possible.
class Inference {
 public:
  using Msg = std::optional<std::vector<char>>;
  Inference(const AppData& app, const SelectionState& sel, int skip) : app_(app), sel_(sel), skip_(skip) {}

  std::vector<char> rows(int t) {
    std::vector<char> mask = local(t, -1);
    const auto& tb = app_.tables[static_cast<std::size_t>(t)];
    visiting_.insert(t);
    for (std::size_t c = 0; c < tb.fields.size(); ++c) {
      int k = tb.fields[c];
      if (!app_.is_key(k)) continue;
      Msg m = field_to_table(k, t);
      if (m) restrict(mask, tb.cols[c], *m);
    }
    visiting_.erase(t);
    return mask;
  }

 private:
  const AppData& app_;
  const SelectionState& sel_;
  int skip_;
  std::set<int> visiting_;
  std::map<std::pair<int, int>, Msg> t2f_, f2t_;

  const std::vector<char>* selected(int f) const {
    if (f == skip_) return nullptr;
    auto it = sel_.selected.find(f);
    return it == sel_.selected.end() ? nullptr : &it->second;
  }
  static void restrict(std::vector<char>& mask, const std::vector<std::int32_t>& col, const std::vector<char>& ok) {
    for (std::size_t r = 0; r < mask.size(); ++r)
      if (mask[r] && (col[r] < 0 || !ok[static_cast<std::size_t>(col[r])])) mask[r] = 0;
  }
  bool has_local(int t, int except) const {
    for (int f : app_.tables[static_cast<std::size_t>(t)].fields)
      if (f != except && selected(f)) return true;
    return false;
  }
  // Rows of t that satisfy its own selections, except the one on `except`.
  std::vector<char> local(int t, int except) const {
    const auto& tb = app_.tables[static_cast<std::size_t>(t)];
    std::vector<char> mask(tb.rows, 1);
    for (std::size_t c = 0; c < tb.fields.size(); ++c) {
      if (tb.fields[c] == except) continue;
      if (const auto* ok = selected(tb.fields[c])) restrict(mask, tb.cols[c], *ok);
    }
    return mask;
  }
  Msg table_to_field(int t, int k) {
    auto key = std::make_pair(t, k);
    if (auto it = t2f_.find(key); it != t2f_.end()) return it->second;
    const auto& tb = app_.tables[static_cast<std::size_t>(t)];
    bool constrained = has_local(t, k);
    std::vector<char> mask = local(t, k);
    visiting_.insert(t);
    std::size_t kc = 0;
    for (std::size_t c = 0; c < tb.fields.size(); ++c) {
      int k2 = tb.fields[c];
      if (k2 == k) {
        kc = c;
        continue;
      }
      if (!app_.is_key(k2)) continue;
      Msg m = field_to_table(k2, t);
      if (m) {
        constrained = true;
        restrict(mask, tb.cols[c], *m);
      }
    }
    visiting_.erase(t);
    Msg out;
    if (constrained) {
      std::vector<char> vals(app_.fields[static_cast<std::size_t>(k)].symbols.size(), 0);
      const auto& col = tb.cols[kc];
      for (std::size_t r = 0; r < mask.size(); ++r)
        if (mask[r] && col[r] >= 0) vals[static_cast<std::size_t>(col[r])] = 1;
      out = std::move(vals);
    }
    t2f_[key] = out;
    return out;
  }
  Msg field_to_table(int k, int t) {
    auto key = std::make_pair(k, t);
    if (auto it = f2t_.find(key); it != f2t_.end()) return it->second;
    Msg out;
    for (int u : app_.fields[static_cast<std::size_t>(k)].tables) {
      if (u == t || visiting_.count(u)) continue;
      Msg m = table_to_field(u, k);
      if (!m) continue;
      if (!out) {
        out = std::move(m);
      } else {
        for (std::size_t s = 0; s < out->size(); ++s) (*out)[s] = static_cast<char>((*out)[s] && (*m)[s]);
      }
    }
    f2t_[key] = out;
    return out;
  }
};

}  // namespace

Possible propagate(const AppData& app, const SelectionState& sel, int skip_field) {
  Possible p;
  p.rows.resize(app.tables.size());
  p.syms.resize(app.fields.size());
  p.row_counts.assign(app.tables.size(), 0);
  bool any = false;
  for (const auto& kv : sel.selected) any |= kv.first != skip_field;
  Inference inf(app, sel, skip_field);
  for (std::size_t t = 0; t < app.tables.size(); ++t)
    p.rows[t] = any ? inf.rows(static_cast<int>(t)) : std::vector<char>(app.tables[t].rows, 1);
  for (std::size_t f = 0; f < app.fields.size(); ++f) {
    std::vector<char> acc(app.fields[f].symbols.size(), any ? 0 : 1);
    if (any) {
      for (int t : app.fields[f].tables) {
        const auto& tb = app.tables[static_cast<std::size_t>(t)];
        auto c = static_cast<std::size_t>(std::find(tb.fields.begin(), tb.fields.end(), static_cast<int>(f)) -
                                          tb.fields.begin());
        const auto& rows = p.rows[static_cast<std::size_t>(t)];
        const auto& col = tb.cols[c];
        for (std::size_t r = 0; r < tb.rows; ++r)
          if (rows[r] && col[r] >= 0) acc[static_cast<std::size_t>(col[r])] = 1;
      }
    }
    p.syms[f] = std::move(acc);
  }
  for (std::size_t t = 0; t < app.tables.size(); ++t)
    p.row_counts[t] = static_cast<std::size_t>(std::count(p.rows[t].begin(), p.rows[t].end(), 1));
  return p;
}

namespace {

// A small deterministic generator (64-bit LCG) so the demo app is identical on every run.
struct Lcg {
  std::uint64_t s;
  std::uint32_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(s >> 33);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
};

}  // namespace

std::shared_ptr<AppData> make_demo_app(std::size_t order_rows) {
  auto app = std::make_shared<AppData>();
  app->id = "demo";
  app->title = "Demo sales";
  static const char* regions[] = {"Nordic", "DACH", "Benelux", "UK", "Iberia", "Americas"};
  static const char* managers[] = {"Astrid", "Bruno", "Chloe", "Dev", "Elena", "Frank"};
  static const char* segments[] = {"Consumer", "Corporate", "Public"};
  static const char* categories[] = {"Bikes", "Clothing", "Components", "Accessories"};
  static const char* adjectives[] = {"Swift", "Solid", "Light", "Urban", "Trail", "Classic", "Pro", "Eco"};
  static const char* nouns[] = {"Frame", "Wheel", "Helmet", "Jacket", "Glove", "Pump", "Saddle"};
  static const char* first[] = {"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka",
                                "Tyrell", "Cyberdyne", "Hooli"};
  static const char* second[] = {"Trading", "Systems", "Group", "Labs", "Partners"};
  Lcg rng{42};

  int tr = app->add_table("Regions", {"Region", "RegionManager"});
  for (std::size_t i = 0; i < 6; ++i) app->add_row(tr, {regions[i], managers[i]});

  int tc = app->add_table("Customers", {"CustomerId", "Customer", "Region", "Segment"});
  const std::size_t n_customers = 50;
  for (std::size_t i = 0; i < n_customers; ++i) {
    std::string id = std::to_string(1000 + i);
    std::string name = std::string(first[i % 10]) + " " + second[(i / 10) % 5];
    app->add_row(tc, {id, name, regions[rng.below(6)], segments[rng.below(3)]});
  }

  int tp = app->add_table("Products", {"ProductId", "Product", "Category", "UnitPrice"});
  const std::size_t n_products = 40;
  std::vector<double> prices;
  for (std::size_t i = 0; i < n_products; ++i) {
    std::string id = "P" + std::to_string(100 + i);
    std::string name = std::string(adjectives[i % 8]) + " " + nouns[(i / 8 + i) % 7] + " " + std::to_string(i);
    double price = 5.0 + static_cast<double>(rng.below(200)) * 2.5;
    prices.push_back(price);
    app->add_row(tp, {id, name, categories[i % 4], format_number(price)});
  }

  int to = app->add_table("Orders", {"OrderId", "Year", "Month", "CustomerId", "ProductId", "Quantity", "Sales"});
  auto& t = app->tables[static_cast<std::size_t>(to)];
  auto fld = [&](std::size_t c) -> FieldData& { return app->fields[static_cast<std::size_t>(t.fields[c])]; };
  std::vector<std::int32_t> years, months, cust, prod, qty;
  for (int y = 2022; y <= 2025; ++y) years.push_back(fld(1).intern(std::to_string(y)));
  for (int m = 1; m <= 12; ++m) months.push_back(fld(2).intern(std::to_string(m)));
  for (std::size_t i = 0; i < n_customers; ++i) cust.push_back(fld(3).intern(std::to_string(1000 + i)));
  for (std::size_t i = 0; i < n_products; ++i) prod.push_back(fld(4).intern("P" + std::to_string(100 + i)));
  for (int q = 1; q <= 20; ++q) qty.push_back(fld(5).intern(std::to_string(q)));
  for (auto& col : t.cols) col.reserve(order_rows);
  // OrderId is 1..order_rows, each value new: room for all of them and their digits at once, and no look-up.
  std::size_t id_chars = 0;
  for (std::size_t from = 1, digits = 1; from <= order_rows; from *= 10, ++digits)
    id_chars += (std::min(order_rows, from * 10 - 1) - from + 1) * digits;
  fld(0).symbols.reserve(order_rows, id_chars);
  // Sales depends on the product and the quantity only: each pair's value is interned when first met
  // (the same load order as interning it on every row).
  std::vector<std::int32_t> sales(n_products * 20, -1);
  std::vector<std::int32_t> row(7);
  for (std::size_t i = 0; i < order_rows; ++i) {
    std::uint32_t p = rng.below(static_cast<std::uint32_t>(n_products));
    std::uint32_t q = rng.below(20);
    row[0] = fld(0).symbols.add(std::to_string(1 + i), static_cast<double>(1 + i));
    row[1] = years[rng.below(4)];
    row[2] = months[rng.below(12)];
    row[3] = cust[rng.below(static_cast<std::uint32_t>(n_customers))];
    row[4] = prod[p];
    row[5] = qty[q];
    auto& sale = sales[p * 20 + q];
    if (sale < 0) sale = fld(6).intern(format_number(prices[p] * (q + 1)));
    row[6] = sale;
    app->add_row_symbols(to, row);
  }
  app->finalize();
  return app;
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string> rec;
  std::string cell;
  bool in_quotes = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      any = true;
    } else if (c == ',') {
      rec.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        rec.push_back(std::move(cell));
        out.push_back(std::move(rec));
      }
      rec.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (any || !cell.empty()) {
    rec.push_back(std::move(cell));
    out.push_back(std::move(rec));
  }
  return out;
}

std::shared_ptr<AppData> load_csv_app(const std::string& dir, const std::string& id) {
  namespace fs = std::filesystem;
  auto app = std::make_shared<AppData>();
  app->id = id;
  app->title = id;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + f.string());
    std::stringstream ss;
    ss << in.rdbuf();
    auto records = parse_csv(ss.str());
    if (records.empty()) continue;
    int t = app->add_table(f.stem().string(), records[0]);
    std::vector<std::string_view> vals;
    for (std::size_t r = 1; r < records.size(); ++r) {
      vals.assign(records[r].begin(), records[r].end());
      app->add_row(t, vals);
    }
  }
  app->finalize();
  return app;
}

}  // namespace qix::sim
