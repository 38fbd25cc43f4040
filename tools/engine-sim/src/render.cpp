// qix-engine-sim: layouts, data pages and cells.
#include "render.hpp"

#include "rpc.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace qix::sim {

namespace {

SelectionState& selection(Connection& c, const std::string& state) {
  return c.session->selections.of(state);
}

std::shared_ptr<const Possible> possible(Connection& c, const std::string& state) {
  return c.session->selections.possible(data(c), state);
}

CellState cell_state(Connection& c, const std::string& state, int field, std::int32_t sym) {
  return c.session->selections.cell_state(data(c), state, field, sym);
}

json::object state_counts(Connection& c, const std::string& state, int field) {
  const auto n = c.session->selections.count_states(data(c), state, field);
  json::object o;
  o["qLocked"] = n[static_cast<std::size_t>(CellState::Locked)];
  o["qSelected"] = n[static_cast<std::size_t>(CellState::Selected)];
  o["qOption"] = n[static_cast<std::size_t>(CellState::Optional)];
  o["qDeselected"] = 0;
  o["qAlternative"] = n[static_cast<std::size_t>(CellState::Alternative)];
  o["qExcluded"] = n[static_cast<std::size_t>(CellState::Excluded)];
  o["qSelectedExcluded"] = n[static_cast<std::size_t>(CellState::SelectedExcluded)];
  o["qLockedExcluded"] = n[static_cast<std::size_t>(CellState::LockedExcluded)];
  return o;
}

// ---- data pages, written as JSON text (pages_text; pages() parses it) ------------------------------------

/// Appends a number as num_json gives it (an integer, a double, or the strings "NaN"/"Infinity"), exactly as
/// json::serialize writes it (one serializer per thread, reused).
void append_number_text(std::string& out, double v) {
  thread_local json::serializer sr;
  const json::value num = num_json(v);
  sr.reset(&num);
  char buf[64];
  while (!sr.done()) {
    json::string_view part = sr.read(buf, sizeof buf);
    out.append(part.data(), part.size());
  }
}

void append_null_cell_text(std::string& out) {
  out += R"({"qText":"-","qNum":"NaN","qElemNumber":-2,"qState":"L","qIsNull":true})";
}

/// A dimension's cell: its symbol's text and number, its element number and its state.
void append_cell_text(std::string& out, const Symbol& s, std::int32_t elem, const char* st) {
  out += R"({"qText":)";
  core::append_json_string(out, s.text);
  out += R"(,"qNum":)";
  if (s.is_num) {
    append_number_text(out, s.num);
  } else {
    out += R"("NaN")";
  }
  out += R"(,"qElemNumber":)";
  out += std::to_string(elem);
  out += R"(,"qState":)";
  core::append_json_string(out, st);
  out += '}';
}

/// A measure's cell.
void append_value_cell_text(std::string& out, const Value& v) {
  if (v.null) {
    append_null_cell_text(out);
    return;
  }
  out += R"({"qText":)";
  core::append_json_string(out, v.text);
  out += R"(,"qNum":)";
  append_number_text(out, v.num);
  out += R"(,"qElemNumber":0,"qState":"L"})";
}

int sort_value(const json::value* crit, const char* key, int fallback) {
  if (!crit) return fallback;
  return static_cast<int>(int_of(core::find_member(*crit, key), fallback));
}

int compare_syms(const FieldData& fd, std::int32_t a, std::int32_t b, const json::value* crit, bool list) {
  if (a == b) return 0;
  if (a < 0 || b < 0) return a < 0 ? 1 : -1;  // NULL (a row without a value) last
  const Symbol x = fd.symbols[static_cast<std::size_t>(a)];
  const Symbol y = fd.symbols[static_cast<std::size_t>(b)];
  int by_num = sort_value(crit, "qSortByNumeric", list ? 0 : 1);
  int by_ascii = sort_value(crit, "qSortByAscii", list ? 0 : 1);
  int by_load = sort_value(crit, "qSortByLoadOrder", 1);
  if (by_num != 0) {
    if (x.is_num && y.is_num && x.num != y.num) return (x.num < y.num ? -1 : 1) * by_num;
    if (x.is_num != y.is_num) return x.is_num ? -1 : 1;
  }
  if (by_ascii != 0) {
    std::string lx = lower(std::string(x.text)), ly = lower(std::string(y.text));
    if (lx != ly) return (lx < ly ? -1 : 1) * by_ascii;
  }
  if (by_load != 0) return (a < b ? -1 : 1) * (by_load < 0 ? -1 : 1);
  return a < b ? -1 : 1;
}

json::object dim_info(Connection& c, const std::string& state, int field, const std::string& title) {
  const auto& fd = data(c).fields[static_cast<std::size_t>(field)];
  json::object d;
  d["qFallbackTitle"] = title;
  std::size_t glyphs = 0;
  double mn = std::numeric_limits<double>::quiet_NaN(), mx = mn;
  for (std::size_t i = 0; i < fd.symbols.size(); ++i) {
    const Symbol s = fd.symbols[i];
    glyphs = std::max(glyphs, s.text.size());
    if (s.is_num) {
      mn = std::isnan(mn) ? s.num : std::min(mn, s.num);
      mx = std::isnan(mx) ? s.num : std::max(mx, s.num);
    }
  }
  d["qApprMaxGlyphCount"] = glyphs;
  d["qCardinal"] = fd.symbols.size();
  d["qSortIndicator"] = "A";
  d["qGroupFallbackTitles"] = json::array{json::value(title)};
  d["qGroupPos"] = 0;
  d["qStateCounts"] = state_counts(c, state, field);
  json::array tags;
  for (const auto& tag : fd.tags) tags.push_back(json::value(tag));
  d["qTags"] = std::move(tags);
  d["qDimensionType"] = fd.all_numeric && !fd.symbols.empty() ? "N" : "D";
  d["qGrouping"] = "N";
  d["qNumFormat"] = json::object{{"qType", "U"}, {"qnDec", 0}, {"qUseThou", 0}};
  d["qIsAutoFormat"] = true;
  d["qGroupFieldDefs"] = json::array{json::value(fd.name)};
  d["qMin"] = num_json(mn);
  d["qMax"] = num_json(mx);
  d["qAttrExprInfo"] = json::array{};
  d["qAttrDimInfo"] = json::array{};
  d["qCardinalities"] =
      json::object{{"qCardinal", fd.symbols.size()}, {"qHypercubeCardinal", 0}, {"qAllValuesCardinal", -1}};
  d["qLocked"] = selection(c, state).locked.count(field) > 0;
  return d;
}

std::string obj_state(const HandleEntry& e, const json::value& def) {
  std::string s = str_of(core::find_member(def, "qStateName"));
  if (s.empty()) s = e.obj ? e.obj->state : "$";
  return s;
}

json::object selection_object(Connection& c, const std::string& state) {
  json::object so;
  so["qBackCount"] = 0;
  so["qForwardCount"] = 0;
  json::array sels;
  const auto& sel = selection(c, state);
  const AppData& app = data(c);
  for (const auto& [f, flags] : sel.selected) {
    const auto& fd = app.fields[static_cast<std::size_t>(f)];
    json::object s;
    s["qField"] = fd.name;
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < flags.size(); ++i)
      if (flags[i]) texts.emplace_back(fd.symbols.text(i));
    std::sort(texts.begin(), texts.end());
    std::string summary;
    if (texts.size() <= 6) {
      for (std::size_t i = 0; i < texts.size(); ++i) summary += (i ? ", " : "") + texts[i];
    } else {
      summary = std::to_string(texts.size()) + " of " + std::to_string(fd.symbols.size());
    }
    s["qSelected"] = summary;
    s["qSelectedCount"] = texts.size();
    s["qTotal"] = fd.symbols.size();
    s["qLocked"] = sel.locked.count(f) > 0;
    s["qIsNum"] = false;
    s["qOneAndOnlyOne"] = false;
    s["qTextSearch"] = "";
    s["qSelectionThreshold"] = 6;
    json::array infos;
    if (texts.size() <= 6)
      for (const auto& t : texts)
        infos.push_back(json::object{{"qName", t}, {"qFieldSelectionMode", "NORMAL"}});
    s["qSelectedFieldSelectionInfo"] = std::move(infos);
    s["qNotSelectedFieldSelectionInfo"] = json::array{};
    s["qRangeInfo"] = json::array{};
    s["qSortIndex"] = 0;
    s["qStateCounts"] = state_counts(c, state, f);
    sels.push_back(std::move(s));
  }
  so["qSelections"] = std::move(sels);
  return so;
}

}  // namespace

std::shared_ptr<CubeCache> hypercube(Connection& c, HandleEntry& e, const std::string& path,
                                     const json::value& def) {
  auto& cache = e.cubes[path];
  if (cache && cache->epoch == c.session->selections.epoch() && cache->version == e.obj->version)
    return cache;
  auto cc = std::make_shared<CubeCache>();
  cc->epoch = c.session->selections.epoch();
  cc->version = e.obj->version;
  cc->state = obj_state(e, def);
  const AppData& app = data(c);
  json::object hc;
  hc["qStateName"] = cc->state;
  json::array dinfos, minfos;
  std::vector<std::shared_ptr<const Expression>> exprs;
  std::vector<const json::value*> dim_crit;
  std::vector<int> meas_sort;
  try {
    if (const auto* dims = core::find_member(def, "qDimensions"); dims && dims->is_array()) {
      for (const auto& d : dims->get_array()) {
        const json::value* qdef = core::find_member(d, "qDef");
        const json::value* fdefs = qdef ? core::find_member(*qdef, "qFieldDefs") : nullptr;
        std::string fname;
        if (fdefs && fdefs->is_array() && !fdefs->get_array().empty()) fname = str_of(&fdefs->get_array()[0]);
        if (!fname.empty() && fname[0] == '=') fname = fname.substr(1);
        if (fname.size() > 2 && fname.front() == '[' && fname.back() == ']')
          fname = fname.substr(1, fname.size() - 2);
        int f = app.field_id(fname);
        if (f < 0) throw ExprError(locerr::kCalcInvalidDef, "Bad field name: " + fname);
        std::string title = fname;
        const json::value* labels = qdef ? core::find_member(*qdef, "qFieldLabels") : nullptr;
        if (labels && labels->is_array() && !labels->get_array().empty() &&
            !str_of(&labels->get_array()[0]).empty())
          title = str_of(&labels->get_array()[0]);
        cc->dim_fields.push_back(f);
        const json::value* crits = qdef ? core::find_member(*qdef, "qSortCriterias") : nullptr;
        dim_crit.push_back(crits && crits->is_array() && !crits->get_array().empty() ? &crits->get_array()[0]
                                                                                     : nullptr);
        dinfos.push_back(dim_info(c, cc->state, f, title));
      }
    }
    if (const auto* ms = core::find_member(def, "qMeasures"); ms && ms->is_array()) {
      for (const auto& m : ms->get_array()) {
        const json::value* qdef = core::find_member(m, "qDef");
        std::string src = qdef ? str_of(core::find_member(*qdef, "qDef")) : "";
        std::string label = qdef ? str_of(core::find_member(*qdef, "qLabel")) : "";
        exprs.push_back(Expression::parse(src, app));
        const json::value* sb = core::find_member(m, "qSortBy");
        meas_sort.push_back(sb ? static_cast<int>(int_of(core::find_member(*sb, "qSortByNumeric"), 0)) : 0);
        json::object mi;
        mi["qFallbackTitle"] = label.empty() ? src : label;
        mi["qApprMaxGlyphCount"] = 0;
        mi["qCardinal"] = 0;
        mi["qSortIndicator"] = "N";
        mi["qNumFormat"] = json::object{{"qType", "U"}, {"qnDec", 0}, {"qUseThou", 0}};
        mi["qMin"] = "NaN";
        mi["qMax"] = "NaN";
        mi["qIsAutoFormat"] = true;
        mi["qAttrExprInfo"] = json::array{};
        mi["qAttrDimInfo"] = json::array{};
        mi["qTrendLines"] = json::array{};
        minfos.push_back(std::move(mi));
      }
    }
    std::vector<const Expression*> raw;
    raw.reserve(exprs.size());
    for (const auto& x : exprs) raw.push_back(x.get());
    auto p = possible(c, cc->state);
    cc->result = calculate(app, *p, cc->dim_fields, raw);
  } catch (const ExprError& err) {
    cc->error = err.code;
  }
  const std::size_t nd = cc->dim_fields.size(), nm = exprs.size();
  cc->cols = nd + nm;
  std::size_t rows = cc->error ? 0 : cc->result.rows;
  // Sort by qInterColumnSortOrder.
  std::vector<std::size_t> sort_cols;
  if (const auto* so = core::find_member(def, "qInterColumnSortOrder");
      so && so->is_array() && !so->get_array().empty()) {
    for (const auto& v : so->get_array()) {
      auto n = core::integer_of(&v);
      if (n && *n >= 0 && static_cast<std::size_t>(*n) < nd + nm)
        sort_cols.push_back(static_cast<std::size_t>(*n));
    }
  } else {
    for (std::size_t i = 0; i < nd + nm; ++i) sort_cols.push_back(i);
  }
  cc->order.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) cc->order[i] = static_cast<std::uint32_t>(i);
  if (!cc->error) {
    for (std::size_t m = 0; m < nm && m < minfos.size(); ++m) {
      double mn = std::numeric_limits<double>::quiet_NaN(), mx = mn;
      const ValueColumn& col = cc->result.measures[m];
      for (std::size_t r = 0; r < rows; ++r)
        if (col.is_numeric(r)) {
          mn = std::isnan(mn) ? col.num(r) : std::min(mn, col.num(r));
          mx = std::isnan(mx) ? col.num(r) : std::max(mx, col.num(r));
        }
      minfos[m].as_object()["qMin"] = num_json(mn);
      minfos[m].as_object()["qMax"] = num_json(mx);
    }
    std::stable_sort(cc->order.begin(), cc->order.end(), [&](std::size_t a, std::size_t b) {
      for (std::size_t col : sort_cols) {
        int r = 0;
        if (col < nd) {
          r = compare_syms(app.fields[static_cast<std::size_t>(cc->dim_fields[col])], cc->result.dim(a, col),
                           cc->result.dim(b, col), dim_crit[col], false);
        } else {
          int dir = meas_sort[col - nd];
          if (dir == 0) continue;
          const ValueColumn& m = cc->result.measures[col - nd];
          bool xn = m.is_numeric(a), yn = m.is_numeric(b);
          if (xn && yn && m.num(a) != m.num(b))
            r = (m.num(a) < m.num(b) ? -1 : 1) * dir;
          else if (xn != yn)
            r = xn ? -1 : 1;
        }
        if (r != 0) return r < 0;
      }
      return false;
    });
  }
  hc["qSize"] = json::object{{"qcx", cc->cols}, {"qcy", rows}};
  if (cc->error) hc["qError"] = json::object{{"qErrorCode", cc->error}};
  hc["qDimensionInfo"] = std::move(dinfos);
  hc["qMeasureInfo"] = std::move(minfos);
  json::array eff;
  for (auto col : sort_cols) eff.push_back(col);
  hc["qEffectiveInterColumnSortOrder"] = std::move(eff);
  hc["qGrandTotalRow"] = json::array{};
  hc["qPivotDataPages"] = json::array{};
  hc["qStackedDataPages"] = json::array{};
  hc["qMode"] = "S";
  hc["qNoOfLeftDims"] = -1;
  hc["qTreeNodesOnDim"] = json::array{};
  hc["qColumnOrder"] = json::array{};
  cc->layout = std::move(hc);
  cache = cc;
  return cc;
}

std::shared_ptr<CubeCache> listobject(Connection& c, HandleEntry& e, const std::string& path,
                                      const json::value& def) {
  auto& cache = e.cubes[path];
  if (cache && cache->epoch == c.session->selections.epoch() && cache->version == e.obj->version)
    return cache;
  auto cc = std::make_shared<CubeCache>();
  cc->list = true;
  cc->epoch = c.session->selections.epoch();
  cc->version = e.obj->version;
  cc->state = obj_state(e, def);
  cc->cols = 1;
  const AppData& app = data(c);
  const json::value* qdef = core::find_member(def, "qDef");
  const json::value* fdefs = qdef ? core::find_member(*qdef, "qFieldDefs") : nullptr;
  std::string fname;
  if (fdefs && fdefs->is_array() && !fdefs->get_array().empty()) fname = str_of(&fdefs->get_array()[0]);
  int f = app.field_id(fname);
  json::object lo;
  lo["qStateName"] = cc->state;
  if (f < 0) {
    cc->error = locerr::kCalcInvalidDef;
    lo["qSize"] = json::object{{"qcx", 0}, {"qcy", 0}};
    lo["qError"] = json::object{{"qErrorCode", locerr::kCalcInvalidDef}};
    lo["qDimensionInfo"] = json::object{};
  } else {
    cc->dim_fields.push_back(f);
    const auto& fd = app.fields[static_cast<std::size_t>(f)];
    std::string title = fname;
    const json::value* labels = qdef ? core::find_member(*qdef, "qFieldLabels") : nullptr;
    if (labels && labels->is_array() && !labels->get_array().empty() &&
        !str_of(&labels->get_array()[0]).empty())
      title = str_of(&labels->get_array()[0]);
    const json::value* crits = qdef ? core::find_member(*qdef, "qSortCriterias") : nullptr;
    const json::value* crit =
        crits && crits->is_array() && !crits->get_array().empty() ? &crits->get_array()[0] : nullptr;
    std::size_t n = fd.symbols.size();
    cc->result.rows = n;
    cc->result.ndims = 1;
    cc->result.dims.resize(n);
    std::vector<int> rank(n);
    for (std::size_t s = 0; s < n; ++s) {
      cc->result.dims[s] = static_cast<std::int32_t>(s);
      CellState st = cell_state(c, cc->state, f, static_cast<std::int32_t>(s));
      rank[s] = (st == CellState::Selected || st == CellState::Locked) ? 0
                : st == CellState::Optional                            ? 1
                : st == CellState::Alternative                         ? 2
                                                                       : 3;
    }
    cc->order.resize(n);
    for (std::size_t i = 0; i < n; ++i) cc->order[i] = static_cast<std::uint32_t>(i);
    int by_state = sort_value(crit, "qSortByState", 0);
    std::stable_sort(cc->order.begin(), cc->order.end(), [&](std::size_t a, std::size_t b) {
      if (by_state != 0 && rank[a] != rank[b]) return (rank[a] < rank[b]) == (by_state > 0);
      return compare_syms(fd, static_cast<std::int32_t>(a), static_cast<std::int32_t>(b), crit, true) < 0;
    });
    lo["qSize"] = json::object{{"qcx", 1}, {"qcy", n}};
    lo["qDimensionInfo"] = dim_info(c, cc->state, f, title);
  }
  lo["qExpressions"] = json::array{};
  cc->layout = std::move(lo);
  cache = cc;
  return cc;
}

namespace {

/// A page request's area within the cube: its top and left, and its height and width cut to the cube. Fails
/// on a negative number; a page over 10,000 cells fails when `strict`, else it is left out (nullopt).
struct PageArea {
  std::int64_t top, left, h, w;
};
std::optional<PageArea> page_area(const json::value& pg, const CubeCache& cc, bool strict) {
  std::int64_t top = int_of(core::find_member(pg, "qTop"), 0),
               left = int_of(core::find_member(pg, "qLeft"), 0);
  std::int64_t width = int_of(core::find_member(pg, "qWidth"), 0),
               height = int_of(core::find_member(pg, "qHeight"), 0);
  if (width < 0 || height < 0 || top < 0 || left < 0) fail(locerr::kInvalidParameters, "qPages");
  if (width * height > 10000) {
    if (strict) fail(locerr::kCalcPagesTooLarge, std::string(locerr::message(locerr::kCalcPagesTooLarge)));
    return std::nullopt;
  }
  std::int64_t rows = static_cast<std::int64_t>(cc.order.size()), cols = static_cast<std::int64_t>(cc.cols);
  return PageArea{top, left, std::max<std::int64_t>(0, std::min(height, rows - top)),
                  std::max<std::int64_t>(0, std::min(width, cols - left))};
}

}  // namespace

void pages_text(Connection& c, const CubeCache& cc, const json::array& req, bool show_alt, bool strict,
                std::string& out) {
  out += '[';
  bool first_page = true;
  for (const auto& pg : req) {
    auto area = page_area(pg, cc, strict);
    if (!area) continue;
    const auto [top, left, h, w] = *area;
    const AppData& app = data(c);
    const std::size_t nd = cc.dim_fields.size();
    if (!first_page) out += ',';
    first_page = false;
    out += R"({"qMatrix":[)";
    for (std::int64_t r = top; r < top + h; ++r) {
      std::size_t row = cc.order[static_cast<std::size_t>(r)];
      if (r != top) out += ',';
      out += '[';
      for (std::int64_t col = left; col < left + w; ++col) {
        if (col != left) out += ',';
        auto ci = static_cast<std::size_t>(col);
        if (ci < nd) {
          int f = cc.dim_fields[ci];
          std::int32_t sym = cc.result.dim(row, ci);
          if (sym < 0) {
            append_null_cell_text(out);
            continue;
          }
          CellState st = cell_state(c, cc.state, f, sym);
          if (!show_alt && st == CellState::Alternative) st = CellState::Excluded;
          append_cell_text(out,
                           app.fields[static_cast<std::size_t>(f)].symbols[static_cast<std::size_t>(sym)],
                           sym, state_code(st));
        } else {
          append_value_cell_text(out, cc.result.measures[ci - nd].get(row));
        }
      }
      out += ']';
    }
    out += R"(],"qTails":[],"qArea":{"qLeft":)";
    out += std::to_string(left);
    out += R"(,"qTop":)";
    out += std::to_string(top);
    out += R"(,"qWidth":)";
    out += std::to_string(w);
    out += R"(,"qHeight":)";
    out += std::to_string(h);
    out += R"(},"qIsReduced":false})";
  }
  out += ']';
}

json::array pages(Connection& c, const CubeCache& cc, const json::array& req, bool show_alt, bool strict) {
  std::string text;
  pages_text(c, cc, req, show_alt, strict, text);
  return json::parse(text).as_array();
}

Value eval_text(Connection& c, const std::string& src) {
  auto e = Expression::parse(src, data(c));
  auto p = possible(c, "$");
  return evaluate(data(c), *p, *e);
}

json::value layout_of(Connection& c, HandleEntry& e, const json::value& v, const std::string& path) {
  if (const auto* o = v.if_object()) {
    if (const auto* se = o->if_contains("qStringExpression")) {
      try {
        Value r = eval_text(c, str_of(core::find_member(*se, "qExpr")));
        return json::value(r.null ? "-" : r.text);
      } catch (const ExprError& err) {
        return json::value(std::string("Error: ") + err.what());
      }
    }
    if (const auto* ve = o->if_contains("qValueExpression")) {
      try {
        Value r = eval_text(c, str_of(core::find_member(*ve, "qExpr")));
        return num_json(r.num);
      } catch (const ExprError&) {
        return json::value("NaN");
      }
    }
    json::object out;
    const std::string prefix = path + "/";
    for (const auto& kv : *o) {
      std::string k(kv.key());
      std::string sub = prefix + k;
      if (k == "qHyperCubeDef") {
        auto cc = hypercube(c, e, sub, kv.value());
        json::object hc = cc->layout;
        const auto* init = core::find_member(kv.value(), "qInitialDataFetch");
        hc["qDataPages"] =
            init && init->is_array() ? pages(c, *cc, init->get_array(), true, false) : json::array{};
        out["qHyperCube"] = std::move(hc);
      } else if (k == "qListObjectDef") {
        auto cc = listobject(c, e, sub, kv.value());
        json::object lo = cc->layout;
        const auto* init = core::find_member(kv.value(), "qInitialDataFetch");
        bool alt = core::find_member(kv.value(), "qShowAlternatives") &&
                   core::find_member(kv.value(), "qShowAlternatives")->is_bool() &&
                   core::find_member(kv.value(), "qShowAlternatives")->get_bool();
        lo["qDataPages"] = init && init->is_array() && !cc->error
                               ? pages(c, *cc, init->get_array(), alt, false)
                               : json::array{};
        out["qListObject"] = std::move(lo);
      } else if (k == "qSelectionObjectDef") {
        std::string st = str_of(core::find_member(kv.value(), "qStateName"));
        out["qSelectionObject"] = selection_object(c, st.empty() ? e.obj->state : st);
      } else if (k == "qMetaDef") {
        out["qMeta"] = kv.value();
      } else {
        out[k] = layout_of(c, e, kv.value(), sub);
      }
    }
    return out;
  }
  if (const auto* a = v.if_array()) {
    json::array out;
    for (std::size_t i = 0; i < a->size(); ++i)
      out.push_back(layout_of(c, e, (*a)[i], path + "/" + std::to_string(i)));
    return out;
  }
  return v;
}

}  // namespace qix::sim
