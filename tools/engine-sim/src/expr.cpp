// qix-engine-sim: expression parser and grouped evaluation.
#include "expr.hpp"

#include "errors.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <unordered_set>

namespace qix::sim {

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

void ValueColumn::set(std::size_t row, const Value& v) {
  if (v.null) {
    num_[row] = std::numeric_limits<double>::quiet_NaN();
    if (!text_.empty()) text_[row] = kNoText;
    return;
  }
  num_[row] = v.num;
  if (!std::isnan(v.num) && v.text == format_number(v.num)) {
    if (!text_.empty()) text_[row] = kNoText;
    return;
  }
  if (text_.empty()) text_.assign(num_.size(), kNoText);
  text_[row] = static_cast<std::int32_t>(texts_.size());
  texts_.push_back(v.text);
}

Value ValueColumn::get(std::size_t row) const {
  Value v;
  std::int32_t t = text_.empty() ? kNoText : text_[row];
  if (t == kNoText && std::isnan(num_[row])) return v;
  v.null = false;
  v.num = num_[row];
  v.text = t == kNoText ? format_number(v.num) : texts_[static_cast<std::size_t>(t)];
  return v;
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

  [[noreturn]] void fail(const std::string& m) {
    throw ExprError(locerr::kCalcInvalidDef, "Error in expression: " + m);
  }
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
    if (f < 0) throw ExprError(locerr::kCalcInvalidDef, "Bad field name: " + name);
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
      while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.'))
        ++pos_;
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
    if (fn == "sum")
      n->fn = AggFn::Sum;
    else if (fn == "count")
      n->fn = AggFn::Count;
    else if (fn == "avg")
      n->fn = AggFn::Avg;
    else if (fn == "min")
      n->fn = AggFn::Min;
    else if (fn == "max")
      n->fn = AggFn::Max;
    else if (fn == "only")
      n->fn = AggFn::Only;
    else
      fail("Unknown function: " + name);
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
  std::optional<std::string_view> text;  // absent for a computed number; views the model or the expression
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
      r.text = n.text;
      r.null = false;
      return r;
    case Kind::Field: {
      std::int32_t s = (*ctx.cols[static_cast<std::size_t>(n.field)])[ctx.row];
      if (s < 0) return r;
      const Symbol sym =
          ctx.app->fields[static_cast<std::size_t>(n.field)].symbols[static_cast<std::size_t>(s)];
      r.text = sym.text;
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
      double v = n.kind == Kind::Add   ? a.num + b.num
                 : n.kind == Kind::Sub ? a.num - b.num
                 : n.kind == Kind::Mul
                     ? a.num * b.num
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
    case Kind::Num:
      return Value::number(n.num);
    case Kind::Str:
      return Value::string(n.text);
    case Kind::Agg:
      return aggs[static_cast<std::size_t>(n.agg_index)];
    case Kind::Field:
      return Value{};
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

// The per-group state of one aggregation. Only the arrays its function reads are allocated, so a Sum over
// 1,000,000 groups holds one double per group.
class Accumulators {
 public:
  Accumulators(const Node& agg, std::size_t groups) : agg_(agg) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    switch (agg.fn) {
      case AggFn::Sum:
        sum_.assign(groups, 0);
        break;
      case AggFn::Count:
        count_.assign(groups, 0);
        break;
      case AggFn::Avg:
        sum_.assign(groups, 0);
        ncount_.assign(groups, 0);
        break;
      case AggFn::Min:
      case AggFn::Max:
        extreme_.assign(groups, agg.fn == AggFn::Min ? inf : -inf);
        ncount_.assign(groups, 0);
        break;
      case AggFn::Only:
        only_.resize(groups);
        break;
    }
  }

  // A non-null value of group `g`; `sym` is its symbol when the aggregation counts distinct symbols of a
  // field, else -1.
  void add(std::size_t g, const RowVal& v, std::int32_t sym) {
    const bool number = !std::isnan(v.num);
    switch (agg_.fn) {
      case AggFn::Sum:
        if (number) sum_[g] += v.num;
        break;
      case AggFn::Count:
        if (!agg_.distinct) {
          ++count_[g];
        } else if (sym >= 0) {
          if (seen_syms_.insert((static_cast<std::uint64_t>(g) << 32) | static_cast<std::uint32_t>(sym))
                  .second)
            ++count_[g];
        } else {
          std::string key(reinterpret_cast<const char*>(&g), sizeof g);
          key += v.text ? std::string(*v.text) : format_number(v.num);
          if (seen_texts_.insert(std::move(key)).second) ++count_[g];
        }
        break;
      case AggFn::Avg:
        if (number) {
          sum_[g] += v.num;
          ++ncount_[g];
        }
        break;
      case AggFn::Min:
      case AggFn::Max:
        if (number) {
          extreme_[g] = agg_.fn == AggFn::Min ? std::min(extreme_[g], v.num) : std::max(extreme_[g], v.num);
          ++ncount_[g];
        }
        break;
      case AggFn::Only: {
        Only& o = only_[g];
        if (o.conflict) break;
        if (!o.set) {
          o.set = true;
          o.num = v.num;
          o.has_text = v.text.has_value();
          if (v.text) o.text = *v.text;
        } else if (v.text) {
          if (o.has_text ? *v.text != o.text : *v.text != format_number(o.num)) o.conflict = true;
        } else if (v.num != o.num) {
          o.conflict = true;
        }
        break;
      }
    }
  }

  // The value of group `g` into `out` (whose rows start null).
  void finish(std::size_t g, ValueColumn& out) const {
    switch (agg_.fn) {
      case AggFn::Sum:
        out.set_number(g, sum_[g]);
        break;
      case AggFn::Count:
        out.set_number(g, static_cast<double>(count_[g]));
        break;
      case AggFn::Avg:
        if (ncount_[g]) out.set_number(g, sum_[g] / static_cast<double>(ncount_[g]));
        break;
      case AggFn::Min:
      case AggFn::Max:
        if (ncount_[g]) out.set_number(g, extreme_[g]);
        break;
      case AggFn::Only: {
        const Only& o = only_[g];
        if (!o.set || o.conflict) break;
        Value v;
        v.null = false;
        v.num = o.num;
        v.text = o.has_text && !(o.text.empty() && !std::isnan(o.num)) ? std::string(o.text)
                                                                       : format_number(o.num);
        out.set(g, v);
        break;
      }
    }
  }

 private:
  struct Only {
    std::string_view text;  // the first value's text (when it has one)
    double num = std::numeric_limits<double>::quiet_NaN();
    bool has_text = false, set = false, conflict = false;
  };
  const Node& agg_;
  std::vector<double> sum_, extreme_;
  std::vector<std::size_t> count_, ncount_;
  std::vector<Only> only_;
  std::unordered_set<std::uint64_t> seen_syms_;  // (group, symbol) pairs met by a Count(DISTINCT field)
  std::unordered_set<std::string> seen_texts_;   // (group, text) pairs met by a Count(DISTINCT expression)
};

// Group numbers by group key, in the order the groups are met. A key is a mixed-radix number below
// `keyspace` (see make_keyer). When the key space is small against the rows to group, a plain array indexed
// by key (4 bytes per possible key: 4 MB for demo-large's 1,000,000 OrderIds); otherwise open addressing
// over group numbers with each group's key stored once (about 16 bytes per group, where a node-based map
// costs over 40).
class GroupIndex {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};
  GroupIndex(std::uint64_t keyspace, std::size_t rows) {
    if (keyspace <= std::max<std::uint64_t>(4096, 2 * static_cast<std::uint64_t>(rows)))
      direct_.assign(static_cast<std::size_t>(keyspace), kEmpty);
  }
  std::size_t size() const { return groups_; }
  std::size_t find(std::uint64_t key) const {
    if (!direct_.empty()) {
      std::uint32_t g = direct_[static_cast<std::size_t>(key)];
      return g == kEmpty ? npos : g;
    }
    if (slots_.empty()) return npos;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      std::uint32_t g = slots_[i];
      if (g == kEmpty) return npos;
      if (keys_[g] == key) return g;
    }
  }
  /// Adds `key` as the next group unless it is known; true when added.
  bool insert(std::uint64_t key) {
    if (!direct_.empty()) {
      std::uint32_t& g = direct_[static_cast<std::size_t>(key)];
      if (g != kEmpty) return false;
      g = static_cast<std::uint32_t>(groups_++);
      return true;
    }
    if (keys_.size() * 2 >= slots_.size()) rehash(std::max<std::size_t>(16, slots_.size() * 2));
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = mix(key) & mask;
    for (; slots_[i] != kEmpty; i = (i + 1) & mask)
      if (keys_[slots_[i]] == key) return false;
    slots_[i] = static_cast<std::uint32_t>(keys_.size());
    keys_.push_back(key);
    ++groups_;
    return true;
  }

 private:
  static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
  std::size_t groups_ = 0;
  std::vector<std::uint32_t> direct_;  // by key: its group, or kEmpty
  std::vector<std::uint64_t> keys_;    // by group number (hashed mode)
  std::vector<std::uint32_t> slots_;   // hashed mode: group numbers; size a power of two
  static std::size_t mix(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
  }
  void rehash(std::size_t slots) {
    slots_.assign(slots, kEmpty);
    const std::size_t mask = slots - 1;
    for (std::size_t g = 0; g < keys_.size(); ++g) {
      std::size_t i = mix(keys_[g]) & mask;
      while (slots_[i] != kEmpty) i = (i + 1) & mask;
      slots_[i] = static_cast<std::uint32_t>(g);
    }
  }
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
    if (best < 0 || app.tables[t].rows > app.tables[static_cast<std::size_t>(best)].rows)
      best = static_cast<int>(t);
  return best;
}

// A row's group: its dimension symbols as one number. A NULL (no value, -1) is a group of its own, as the
// engine shows it ('-'), keyed by the slot after the field's last symbol.
struct GroupKeyer {
  std::vector<const std::vector<std::int32_t>*> cols;
  std::vector<std::uint64_t> mult;
  std::vector<std::uint64_t> null_slot;  // per dimension: the key digit of NULL
  std::uint64_t space = 1;               // every key is below it
  bool key(std::size_t row, std::uint64_t& out) const {
    out = 0;
    for (std::size_t d = 0; d < cols.size(); ++d) {
      std::int32_t s = (*cols[d])[row];
      out += (s < 0 ? null_slot[d] : static_cast<std::uint64_t>(s)) * mult[d];
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
    k.null_slot.push_back(app.fields[static_cast<std::size_t>(d)].symbols.size());
    std::uint64_t card = app.fields[static_cast<std::size_t>(d)].symbols.size() + 1;
    if (m > (std::uint64_t{1} << 62) / card)
      throw ExprError(locerr::kCalcTooLarge, std::string(locerr::message(locerr::kCalcTooLarge)));
    m *= card;
  }
  k.space = m;
  return k;
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
  out.ndims = dims.size();
  GroupIndex groups(1, 0);
  std::set<int> dimset(dims.begin(), dims.end());
  if (dims.empty()) {
    out.rows = 1;
  } else {
    int driver = pick_driver(app, dimset);
    if (driver < 0) throw ExprError(locerr::kCalcInvalidDef, "The dimensions are not associated");
    GroupKeyer keyer = make_keyer(app, driver, dims);
    const auto& rows = possible.rows[static_cast<std::size_t>(driver)];
    groups = GroupIndex(keyer.space, rows.size());
    std::uint64_t key = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (!rows[r] || !keyer.key(r, key)) continue;
      if (groups.insert(key))
        for (std::size_t d = 0; d < dims.size(); ++d) out.dims.push_back((*keyer.cols[d])[r]);
    }
    out.rows = groups.size();
  }
  const std::size_t ngroups = out.rows;
  for (const Expression* measure : measures) {
    const Expression& e = *measure;
    std::vector<const Node*> aggs;
    collect_aggs(&e.root(), aggs);
    std::vector<ValueColumn> agg_vals(static_cast<std::size_t>(e.aggregation_count()));
    for (const Node* agg : aggs) {
      std::set<int> fields;
      collect_fields(agg->a.get(), fields);
      std::set<int> need = dimset;
      need.insert(fields.begin(), fields.end());
      int driver = need.empty() ? largest_table(app) : pick_driver(app, need);
      if (driver < 0)
        throw ExprError(locerr::kCalcInvalidDef, "The fields of the expression are not associated");
      RowCtx ctx;
      ctx.app = &app;
      ctx.cols.assign(app.fields.size(), nullptr);
      for (int f : fields) ctx.cols[static_cast<std::size_t>(f)] = app.resolve(driver, f);
      GroupKeyer keyer = make_keyer(app, driver, dims);
      Accumulators accs(*agg, ngroups);
      const auto& rows = possible.rows[static_cast<std::size_t>(driver)];
      const bool distinct_syms = agg->distinct && agg->a->kind == Kind::Field;
      std::uint64_t key = 0;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (!rows[r] || !keyer.key(r, key)) continue;
        std::size_t g = 0;
        if (!dims.empty()) {
          g = groups.find(key);
          if (g == GroupIndex::npos) continue;
        }
        ctx.row = r;
        RowVal v = eval_row(*agg->a, ctx);
        if (v.null) continue;
        accs.add(g, v, distinct_syms ? (*ctx.cols[static_cast<std::size_t>(agg->a->field)])[r] : -1);
      }
      ValueColumn& col = agg_vals[static_cast<std::size_t>(agg->agg_index)];
      col = ValueColumn(ngroups);
      for (std::size_t g = 0; g < ngroups; ++g) accs.finish(g, col);
    }
    if (e.root().kind == Kind::Agg) {  // the measure is its one aggregation
      out.measures.push_back(std::move(agg_vals[static_cast<std::size_t>(e.root().agg_index)]));
      continue;
    }
    ValueColumn col(ngroups);
    std::vector<Value> vals(agg_vals.size());
    for (std::size_t g = 0; g < ngroups; ++g) {
      for (std::size_t i = 0; i < agg_vals.size(); ++i)
        vals[i] = agg_vals[i].size() ? agg_vals[i].get(g) : Value{};
      col.set(g, eval_scalar(e.root(), vals));
    }
    out.measures.push_back(std::move(col));
  }
  return out;
}

Value evaluate(const AppData& app, const Possible& possible, const Expression& e) {
  CubeResult r = calculate(app, possible, {}, {&e});
  return r.measures.at(0).get(0);
}

}  // namespace qix::sim
