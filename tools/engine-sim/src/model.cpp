// qix-engine-sim: the associative data model (symbol tables, tables, key links, inference) and the
// selections of a session.
#include "model.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
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

std::size_t hash_text(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

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
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto& f = fields[i];
    f.symbols.drop_index();
    bool numeric = !f.symbols.empty(), integer = true, ascii = true;
    for (std::size_t s = 0; s < f.symbols.size(); ++s) {
      const Symbol sym = f.symbols[s];
      if (!sym.is_num) numeric = false;
      if (sym.is_num && std::floor(sym.num) != sym.num) integer = false;
      for (char c : sym.text)
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    }
    f.tags.clear();
    if (is_key(static_cast<int>(i))) f.tags.emplace_back("$key");
    if (numeric) {
      f.tags.emplace_back("$numeric");
      if (integer) f.tags.emplace_back("$integer");
    } else {
      if (ascii) f.tags.emplace_back("$ascii");
      f.tags.emplace_back("$text");
    }
  }
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
    idx = std::make_unique<std::vector<std::int32_t>>(fields[static_cast<std::size_t>(field)].symbols.size(),
                                                      -1);
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

const std::vector<std::int32_t>* AppData::resolve_locked(int table, int field,
                                                         std::set<int>& visiting) const {
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
    case CellState::Selected:
      return "S";
    case CellState::Optional:
      return "O";
    case CellState::Excluded:
      return "X";
    case CellState::Alternative:
      return "A";
    case CellState::Locked:
      return "L";
    case CellState::SelectedExcluded:
      return "XS";
    case CellState::LockedExcluded:
      return "XL";
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
  static void restrict(std::vector<char>& mask, const std::vector<std::int32_t>& col,
                       const std::vector<char>& ok) {
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

// ---------------------------------------------------------------------------------------------------
// Selections of a session

namespace {

// '*' any run, '?' one character; case-insensitive.
bool wildcard_match(std::string_view pat, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pat.size() && (pat[p] == '?' || eq(pat[p], text[t]))) {
      ++p;
      ++t;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

std::shared_ptr<const Possible> Selections::possible(const AppData& app, const std::string& state,
                                                     int skip_field) {
  auto key = std::make_pair(state, skip_field);
  auto it = possible_.find(key);
  if (it != possible_.end() && it->second.first == epoch_) return it->second.second;
  auto p = std::make_shared<const Possible>(propagate(app, of(state), skip_field));
  possible_[key] = {epoch_, p};
  return p;
}

CellState Selections::cell_state(const AppData& app, const std::string& state, int field, std::int32_t sym) {
  const auto& sel = of(state);
  bool locked = sel.locked.count(field) > 0;
  auto it = sel.selected.find(field);
  auto p = possible(app, state);
  bool poss = p->syms[static_cast<std::size_t>(field)][static_cast<std::size_t>(sym)] != 0;
  if (it != sel.selected.end() && it->second[static_cast<std::size_t>(sym)]) {
    if (locked) return poss ? CellState::Locked : CellState::LockedExcluded;
    return poss ? CellState::Selected : CellState::SelectedExcluded;
  }
  if (it != sel.selected.end()) {
    auto alt = possible(app, state, field);
    return alt->syms[static_cast<std::size_t>(field)][static_cast<std::size_t>(sym)] ? CellState::Alternative
                                                                                     : CellState::Excluded;
  }
  return poss ? CellState::Optional : CellState::Excluded;
}

std::array<std::size_t, kCellStateCount> Selections::count_states(const AppData& app,
                                                                  const std::string& state, int field) {
  std::array<std::size_t, kCellStateCount> n{};
  const auto& fd = app.fields[static_cast<std::size_t>(field)];
  for (std::size_t s = 0; s < fd.symbols.size(); ++s)
    ++n[static_cast<std::size_t>(cell_state(app, state, field, static_cast<std::int32_t>(s)))];
  return n;
}

void Selections::note(const SelectionState& before, const std::string& state, SelectionChange& change) {
  if (before == of(state)) return;
  ++epoch_;
  change.changed.push_back(state);
}

SelectionChange Selections::set(const std::string& state, int field, std::vector<char> flags) {
  SelectionChange change;
  auto& sel = of(state);
  if (sel.locked.count(field)) {
    change.applied = false;
    return change;
  }
  SelectionState before = sel;
  if (std::find(flags.begin(), flags.end(), 1) == flags.end())
    sel.selected.erase(field);
  else
    sel.selected[field] = std::move(flags);
  note(before, state, change);
  return change;
}

std::vector<char> Selections::current_flags(const AppData& app, const std::string& state, int field) {
  auto& sel = of(state);
  auto it = sel.selected.find(field);
  if (it != sel.selected.end()) return it->second;
  return std::vector<char>(app.fields[static_cast<std::size_t>(field)].symbols.size(), 0);
}

SelectionChange Selections::select_match(const AppData& app, const std::string& state, int field,
                                         std::string_view match, bool toggle) {
  const auto& fd = app.fields[static_cast<std::size_t>(field)];
  const std::size_t n = fd.symbols.size();
  std::vector<char> flags = toggle ? current_flags(app, state, field) : std::vector<char>(n, 0);
  double num = 0;
  bool is_num = parse_number(match, num);
  for (std::size_t s = 0; s < n; ++s) {
    const auto& sym = fd.symbols[s];
    bool hit = wildcard_match(match, sym.text) || (is_num && sym.is_num && sym.num == num);
    if (hit) flags[s] = toggle ? static_cast<char>(!flags[s]) : 1;
  }
  return set(state, field, std::move(flags));
}

SelectionChange Selections::select_values(const AppData& app, const std::string& state, int field,
                                          const std::vector<FieldValue>& values, bool toggle) {
  const auto& fd = app.fields[static_cast<std::size_t>(field)];
  const std::size_t n = fd.symbols.size();
  std::vector<char> flags = toggle ? current_flags(app, state, field) : std::vector<char>(n, 0);
  for (const auto& fv : values) {
    for (std::size_t s = 0; s < n; ++s) {
      const auto& sym = fd.symbols[s];
      bool hit = fv.is_num ? (sym.is_num && sym.num == fv.num) : sym.text == fv.text;
      if (hit) flags[s] = toggle ? static_cast<char>(!flags[s]) : 1;
    }
  }
  return set(state, field, std::move(flags));
}

SelectionChange Selections::select_elements(const AppData& app, const std::string& state, int field,
                                            const std::vector<std::int64_t>& elems, bool toggle) {
  std::size_t n = app.fields[static_cast<std::size_t>(field)].symbols.size();
  std::vector<char> flags = toggle ? current_flags(app, state, field) : std::vector<char>(n, 0);
  for (auto e : elems) {
    if (e < 0 || static_cast<std::size_t>(e) >= n) continue;
    auto& f = flags[static_cast<std::size_t>(e)];
    f = toggle ? static_cast<char>(!f) : 1;
  }
  return set(state, field, std::move(flags));
}

SelectionChange Selections::select_where(const AppData& app, const std::string& state, int field,
                                         Which which) {
  const std::size_t n = app.fields[static_cast<std::size_t>(field)].symbols.size();
  std::vector<char> flags(n, 0);
  for (std::size_t s = 0; s < n; ++s) {
    CellState st = cell_state(app, state, field, static_cast<std::int32_t>(s));
    bool poss = st == CellState::Selected || st == CellState::Optional || st == CellState::Locked ||
                st == CellState::Alternative;
    if (which == Which::All)
      flags[s] = 1;
    else if (which == Which::Possible)
      flags[s] = static_cast<char>(poss);
    else
      flags[s] = static_cast<char>(!poss && st != CellState::SelectedExcluded);
  }
  return set(state, field, std::move(flags));
}

SelectionChange Selections::lock(const std::string& state, int field) {
  SelectionChange change;
  auto& sel = of(state);
  SelectionState before = sel;
  if (sel.selected.count(field)) sel.locked.insert(field);
  note(before, state, change);
  return change;
}

SelectionChange Selections::unlock(const std::string& state, int field) {
  SelectionChange change;
  auto& sel = of(state);
  SelectionState before = sel;
  sel.locked.erase(field);
  note(before, state, change);
  return change;
}

SelectionChange Selections::clear_all(bool locked_also, const std::string& state) {
  SelectionChange change;
  std::vector<std::string> names;
  if (state.empty()) {
    for (auto& [name, s] : states_) names.push_back(name);
  } else {
    names.push_back(state);
  }
  for (const auto& name : names) {
    auto& sel = of(name);
    SelectionState before = sel;
    if (locked_also) sel.locked.clear();
    for (auto it = sel.selected.begin(); it != sel.selected.end();)
      it = sel.locked.count(it->first) ? std::next(it) : sel.selected.erase(it);
    note(before, name, change);
  }
  return change;
}

}  // namespace qix::sim
