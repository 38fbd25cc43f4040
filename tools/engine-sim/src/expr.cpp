// qix-engine-sim: expression parser and grouped evaluation.
#include "expr.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace qix::sim {

namespace {
constexpr int kInvalidDef = 7000;  // LOCERR_CALC_INVALID_DEF
}

Value Value::number(double v) {
  Value r;
  if (std::isnan(v) || std::isinf(v)) return r;
  r.num = v;
  r.text = format_number(v);
  r.null = false;
  return r;
}

Value Value::string(std::string s) {
  Value r;
  r.text = std::move(s);
  r.null = false;
  return r;
}

enum class Kind { Num, Str, Field, Neg, Add, Sub, Mul, Div, Concat, Agg };
enum class AggFn { Sum, Count, Avg, Min, Max, Only };

struct Node {
  Kind kind = Kind::Num;
  double num = 0;
  std::string text;
  int field = -1;
  AggFn fn = AggFn::Sum;
  bool distinct = false;
  int agg_index = -1;
  std::unique_ptr<Node> a, b;
};

Expression::~Expression() = default;

namespace {

class Parser {
 public:
  Parser(std::string_view s, const AppData& app) : s_(s), app_(app) {}

  std::unique_ptr<Node> parse_all(int& aggs) {
    skip();
    if (peek() == '=') {
      ++pos_;
    }
    auto n = parse_concat();
    skip();
    if (pos_ != s_.size()) fail("Garbage after expression: '" + std::string(s_.substr(pos_, 20)) + "'");
    n = lift_fields(std::move(n));
    aggs = aggs_;
    return n;
  }

 private:
  std::string_view s_;
  const AppData& app_;
  std::size_t pos_ = 0;
  int aggs_ = 0;
  int agg_depth_ = 0;

  [[noreturn]] void fail(const std::string& m) { throw ExprError(kInvalidDef, "Error in expression: " + m); }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char peek() {
    skip();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  static std::unique_ptr<Node> bin(Kind k, std::unique_ptr<Node> a, std::unique_ptr<Node> b) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }
  std::unique_ptr<Node> parse_concat() {
    auto l = parse_add();
    while (peek() == '&') {
      ++pos_;
      l = bin(Kind::Concat, std::move(l), parse_add());
    }
    return l;
  }
  std::unique_ptr<Node> parse_add() {
    auto l = parse_mul();
    for (;;) {
      char c = peek();
      if (c != '+' && c != '-') return l;
      ++pos_;
      l = bin(c == '+' ? Kind::Add : Kind::Sub, std::move(l), parse_mul());
    }
  }
  std::unique_ptr<Node> parse_mul() {
    auto l = parse_unary();
    for (;;) {
      char c = peek();
      if (c != '*' && c != '/') return l;
      ++pos_;
      l = bin(c == '*' ? Kind::Mul : Kind::Div, std::move(l), parse_unary());
    }
  }
  std::unique_ptr<Node> parse_unary() {
    char c = peek();
    if (c == '-') {
      ++pos_;
      auto n = std::make_unique<Node>();
      n->kind = Kind::Neg;
      n->a = parse_unary();
      return n;
    }
    if (c == '+') {
      ++pos_;
      return parse_unary();
    }
    return parse_primary();
  }
  std::string ident() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' ||
                                s_[pos_] == '.' || s_[pos_] == '%' || s_[pos_] == '#' || s_[pos_] == '$'))
      ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  std::unique_ptr<Node> field_node(const std::string& name) {
    int f = app_.field_id(name);
    if (f < 0) throw ExprError(kInvalidDef, "Bad field name: " + name);
    auto n = std::make_unique<Node>();
    n->kind = Kind::Field;
    n->field = f;
    n->text = name;
    return n;
  }
  std::unique_ptr<Node> parse_primary() {
    char c = peek();
    if (c == '\0') fail("Unexpected end of expression");
    if (c == '(') {
      ++pos_;
      auto n = parse_concat();
      if (peek() != ')') fail("')' expected");
      ++pos_;
      return n;
    }
    if (c == '\'') {
      ++pos_;
      std::string t;
      for (;;) {
        if (pos_ >= s_.size()) fail("Unterminated string");
        char d = s_[pos_++];
        if (d == '\'') {
          if (pos_ < s_.size() && s_[pos_] == '\'') {
            t += '\'';
            ++pos_;
            continue;
          }
          break;
        }
        t += d;
      }
      auto n = std::make_unique<Node>();
      n->kind = Kind::Str;
      n->text = std::move(t);
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      std::size_t start = pos_;
      while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        std::size_t save = pos_++;
        if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
        if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
          while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        } else {
          pos_ = save;
        }
      }
      double v = 0;
      if (!parse_number(s_.substr(start, pos_ - start), v)) fail("Bad number");
      auto n = std::make_unique<Node>();
      n->kind = Kind::Num;
      n->num = v;
      return n;
    }
    if (c == '[' || c == '"') {
      char close = c == '[' ? ']' : '"';
      std::size_t end = s_.find(close, pos_ + 1);
      if (end == std::string_view::npos) fail(std::string("'") + close + "' expected");
      std::string name(s_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return field_node(name);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::string name = ident();
      if (peek() == '(') {
        ++pos_;
        return parse_call(name);
      }
      return field_node(name);
    }
    fail(std::string("Unexpected '") + c + "'");
  }
  static std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }
  std::unique_ptr<Node> parse_call(const std::string& name) {
    std::string fn = lower(name);
    auto n = std::make_unique<Node>();
    n->kind = Kind::Agg;
    if (fn == "sum") n->fn = AggFn::Sum;
    else if (fn == "count") n->fn = AggFn::Count;
    else if (fn == "avg") n->fn = AggFn::Avg;
    else if (fn == "min") n->fn = AggFn::Min;
    else if (fn == "max") n->fn = AggFn::Max;
    else if (fn == "only") n->fn = AggFn::Only;
    else fail("Unknown function: " + name);
    if (agg_depth_ > 0) fail("Nested aggregation not allowed");
    skip();
    std::size_t save = pos_;
    std::string word = lower(ident());
    if (word == "distinct" && pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) {
      n->distinct = true;
    } else {
      pos_ = save;
    }
    if (peek() == '*' && n->fn == AggFn::Count) {
      ++pos_;
      n->a = std::make_unique<Node>();  // Count(*): counts rows
      n->a->kind = Kind::Num;
      n->a->num = 1;
    } else {
      ++agg_depth_;
      n->a = parse_concat();
      --agg_depth_;
    }
    if (peek() != ')') fail("')' expected");
    ++pos_;
    n->agg_index = aggs_++;
    return n;
  }
  // Outside an aggregation, a bare field reference means Only(field).
  std::unique_ptr<Node> lift_fields(std::unique_ptr<Node> n) {
    if (!n) return n;
    if (n->kind == Kind::Agg) return n;
    if (n->kind == Kind::Field) {
      auto agg = std::make_unique<Node>();
      agg->kind = Kind::Agg;
      agg->fn = AggFn::Only;
      agg->agg_index = aggs_++;
      agg->a = std::move(n);
      return agg;
    }
    n->a = lift_fields(std::move(n->a));
    n->b = lift_fields(std::move(n->b));
    return n;
  }
};

struct RowVal {
  double num = std::numeric_limits<double>::quiet_NaN();
  const std::string* text = nullptr;
  bool null = true;
};

struct RowCtx {
  const AppData* app = nullptr;
  std::vector<const std::vector<std::int32_t>*> cols;  // by field id
  std::size_t row = 0;
};

RowVal eval_row(const Node& n, const RowCtx& ctx) {
  RowVal r;
  switch (n.kind) {
    case Kind::Num:
      r.num = n.num;
      r.null = false;
      return r;
    case Kind::Str:
      r.text = &n.text;
      r.null = false;
      return r;
    case Kind::Field: {
      std::int32_t s = (*ctx.cols[static_cast<std::size_t>(n.field)])[ctx.row];
      if (s < 0) return r;
      const auto& sym = ctx.app->fields[static_cast<std::size_t>(n.field)].symbols[static_cast<std::size_t>(s)];
      r.text = &sym.text;
      if (sym.is_num) r.num = sym.num;
      r.null = false;
      return r;
    }
    case Kind::Neg: {
      RowVal a = eval_row(*n.a, ctx);
      if (a.null || std::isnan(a.num)) return r;
      r.num = -a.num;
      r.null = false;
      return r;
    }
    case Kind::Add:
    case Kind::Sub:
    case Kind::Mul:
    case Kind::Div: {
      RowVal a = eval_row(*n.a, ctx), b = eval_row(*n.b, ctx);
      if (a.null || b.null || std::isnan(a.num) || std::isnan(b.num)) return r;
      double v = n.kind == Kind::Add ? a.num + b.num
                 : n.kind == Kind::Sub ? a.num - b.num
                 : n.kind == Kind::Mul ? a.num * b.num
                 : (b.num == 0 ? std::numeric_limits<double>::quiet_NaN() : a.num / b.num);
      if (std::isnan(v)) return r;
      r.num = v;
      r.null = false;
      return r;
    }
    case Kind::Concat:
    case Kind::Agg:
      return r;
  }
  return r;
}

void collect_fields(const Node* n, std::set<int>& out) {
  if (!n) return;
  if (n->kind == Kind::Field) out.insert(n->field);
  collect_fields(n->a.get(), out);
  collect_fields(n->b.get(), out);
}

void collect_aggs(const Node* n, std::vector<const Node*>& out) {
  if (!n) return;
  if (n->kind == Kind::Agg) {
    out.push_back(n);
    return;
  }
  collect_aggs(n->a.get(), out);
  collect_aggs(n->b.get(), out);
}

Value eval_scalar(const Node& n, const std::vector<Value>& aggs) {
  switch (n.kind) {
    case Kind::Num: return Value::number(n.num);
    case Kind::Str: return Value::string(n.text);
    case Kind::Agg: return aggs[static_cast<std::size_t>(n.agg_index)];
    case Kind::Field: return Value{};
    case Kind::Neg: {
      Value a = eval_scalar(*n.a, aggs);
      return a.is_numeric() ? Value::number(-a.num) : Value{};
    }
    case Kind::Concat: {
      Value a = eval_scalar(*n.a, aggs), b = eval_scalar(*n.b, aggs);
      return Value::string(a.text + b.text);
    }
    case Kind::Add:
    case Kind::Sub:
    case Kind::Mul:
    case Kind::Div: {
      Value a = eval_scalar(*n.a, aggs), b = eval_scalar(*n.b, aggs);
      if (!a.is_numeric() || !b.is_numeric()) return Value{};
      if (n.kind == Kind::Add) return Value::number(a.num + b.num);
      if (n.kind == Kind::Sub) return Value::number(a.num - b.num);
      if (n.kind == Kind::Mul) return Value::number(a.num * b.num);
      if (b.num == 0) return Value{};
      return Value::number(a.num / b.num);
    }
  }
  return Value{};
}

struct Acc {
  double sum = 0, mn = std::numeric_limits<double>::infinity(), mx = -std::numeric_limits<double>::infinity();
  std::size_t count = 0, ncount = 0;
  std::unordered_set<std::int64_t> dsym;
  std::unordered_set<std::string> dtext;
  bool only_set = false, only_conflict = false;
  double only_num = std::numeric_limits<double>::quiet_NaN();
  std::string only_text;
};

int pick_driver(const AppData& app, const std::set<int>& fields) {
  int best = -1;
  for (std::size_t t = 0; t < app.tables.size(); ++t) {
    bool ok = true;
    for (int f : fields)
      if (!app.reachable(static_cast<int>(t), f)) {
        ok = false;
        break;
      }
    if (ok && (best < 0 || app.tables[t].rows < app.tables[static_cast<std::size_t>(best)].rows))
      best = static_cast<int>(t);
  }
  return best;
}

int largest_table(const AppData& app) {
  int best = -1;
  for (std::size_t t = 0; t < app.tables.size(); ++t)
    if (best < 0 || app.tables[t].rows > app.tables[static_cast<std::size_t>(best)].rows) best = static_cast<int>(t);
  return best;
}

struct GroupKeyer {
  std::vector<const std::vector<std::int32_t>*> cols;
  std::vector<std::uint64_t> mult;
  bool key(std::size_t row, std::uint64_t& out) const {
    out = 0;
    for (std::size_t d = 0; d < cols.size(); ++d) {
      std::int32_t s = (*cols[d])[row];
      if (s < 0) return false;
      out += static_cast<std::uint64_t>(s) * mult[d];
    }
    return true;
  }
};

GroupKeyer make_keyer(const AppData& app, int table, const std::vector<int>& dims) {
  GroupKeyer k;
  std::uint64_t m = 1;
  for (int d : dims) {
    k.cols.push_back(app.resolve(table, d));
    k.mult.push_back(m);
    std::uint64_t card = app.fields[static_cast<std::size_t>(d)].symbols.size() + 1;
    if (m > (std::uint64_t{1} << 62) / card) throw ExprError(7003, "Too many cells");  // LOCERR_CALC_TOO_LARGE
    m *= card;
  }
  return k;
}

Value finish(const Node& agg, const Acc& a) {
  switch (agg.fn) {
    case AggFn::Sum: return Value::number(a.sum);
    case AggFn::Count:
      return Value::number(static_cast<double>(agg.distinct ? a.dsym.size() + a.dtext.size() : a.count));
    case AggFn::Avg: return a.ncount ? Value::number(a.sum / static_cast<double>(a.ncount)) : Value{};
    case AggFn::Min: return a.ncount ? Value::number(a.mn) : Value{};
    case AggFn::Max: return a.ncount ? Value::number(a.mx) : Value{};
    case AggFn::Only: {
      if (!a.only_set || a.only_conflict) return Value{};
      Value v;
      v.null = false;
      v.text = a.only_text.empty() && !std::isnan(a.only_num) ? format_number(a.only_num) : a.only_text;
      v.num = a.only_num;
      return v;
    }
  }
  return Value{};
}

}  // namespace

std::shared_ptr<const Expression> Expression::parse(std::string_view source, const AppData& app) {
  std::shared_ptr<Expression> e(new Expression());
  Parser p(source, app);
  e->root_ = p.parse_all(e->aggs_);
  return e;
}

CubeResult calculate(const AppData& app, const Possible& possible, const std::vector<int>& dims,
                     const std::vector<const Expression*>& measures) {
  CubeResult out;
  std::unordered_map<std::uint64_t, std::size_t> groups;
  std::set<int> dimset(dims.begin(), dims.end());
  if (dims.empty()) {
    groups.emplace(0, 0);
    out.dims.emplace_back();
  } else {
    int driver = pick_driver(app, dimset);
    if (driver < 0) throw ExprError(kInvalidDef, "The dimensions are not associated");
    GroupKeyer keyer = make_keyer(app, driver, dims);
    const auto& rows = possible.rows[static_cast<std::size_t>(driver)];
    std::uint64_t key = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (!rows[r] || !keyer.key(r, key)) continue;
      if (groups.emplace(key, out.dims.size()).second) {
        std::vector<std::int32_t> syms(dims.size());
        for (std::size_t d = 0; d < dims.size(); ++d) syms[d] = (*keyer.cols[d])[r];
        out.dims.push_back(std::move(syms));
      }
    }
  }
  const std::size_t ngroups = out.dims.size();
  out.measures.assign(ngroups, std::vector<Value>(measures.size()));
  for (std::size_t m = 0; m < measures.size(); ++m) {
    const Expression& e = *measures[m];
    std::vector<const Node*> aggs;
    collect_aggs(&e.root(), aggs);
    std::vector<std::vector<Value>> agg_vals(ngroups, std::vector<Value>(static_cast<std::size_t>(e.aggregation_count())));
    for (const Node* agg : aggs) {
      std::set<int> fields;
      collect_fields(agg->a.get(), fields);
      std::set<int> need = dimset;
      need.insert(fields.begin(), fields.end());
      int driver = need.empty() ? largest_table(app) : pick_driver(app, need);
      if (driver < 0) throw ExprError(kInvalidDef, "The fields of the expression are not associated");
      RowCtx ctx;
      ctx.app = &app;
      ctx.cols.assign(app.fields.size(), nullptr);
      for (int f : fields) ctx.cols[static_cast<std::size_t>(f)] = app.resolve(driver, f);
      GroupKeyer keyer = make_keyer(app, driver, dims);
      std::vector<Acc> accs(ngroups);
      const auto& rows = possible.rows[static_cast<std::size_t>(driver)];
      const bool pure_field = agg->a->kind == Kind::Field;
      std::uint64_t key = 0;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (!rows[r] || !keyer.key(r, key)) continue;
        std::size_t g = 0;
        if (!dims.empty()) {
          auto it = groups.find(key);
          if (it == groups.end()) continue;
          g = it->second;
        }
        ctx.row = r;
        RowVal v = eval_row(*agg->a, ctx);
        if (v.null) continue;
        Acc& a = accs[g];
        ++a.count;
        if (!std::isnan(v.num)) {
          ++a.ncount;
          a.sum += v.num;
          a.mn = std::min(a.mn, v.num);
          a.mx = std::max(a.mx, v.num);
        }
        if (agg->distinct) {
          if (pure_field) {
            a.dsym.insert((*ctx.cols[static_cast<std::size_t>(agg->a->field)])[r]);
          } else {
            a.dtext.insert(v.text ? *v.text : format_number(v.num));
          }
        }
        if (agg->fn == AggFn::Only && !a.only_conflict) {
          std::string_view t = v.text ? std::string_view(*v.text) : std::string_view{};
          if (!a.only_set) {
            a.only_set = true;
            a.only_num = v.num;
            a.only_text = v.text ? *v.text : format_number(v.num);
          } else if ((v.text && t != a.only_text) || (!v.text && v.num != a.only_num)) {
            a.only_conflict = true;
          }
        }
      }
      for (std::size_t g = 0; g < ngroups; ++g)
        agg_vals[g][static_cast<std::size_t>(agg->agg_index)] = finish(*agg, accs[g]);
    }
    for (std::size_t g = 0; g < ngroups; ++g) out.measures[g][m] = eval_scalar(e.root(), agg_vals[g]);
  }
  return out;
}

Value evaluate(const AppData& app, const Possible& possible, const Expression& e) {
  CubeResult r = calculate(app, possible, {}, {&e});
  return r.measures.at(0).at(0);
}

}  // namespace qix::sim
