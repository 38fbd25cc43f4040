// qix-engine-sim: chart expressions (Sum, Count, Count(DISTINCT), Avg, Min, Max, Only, arithmetic,
// literals) and the grouped calculation behind hypercubes and Doc.Evaluate.
// Thread safety: a parsed Expression is immutable; calculate() only reads its inputs.
#pragma once

#include "model.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace qix::sim {

/// A syntax error or an unknown field; `code` is the LOCERR code the engine uses for it.
struct ExprError : std::runtime_error {
  ExprError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
  int code;
};

/// A calculated value: a dual of text and number; `null` when there is no value (shown as "-").
struct Value {
  double num = std::numeric_limits<double>::quiet_NaN();
  std::string text;
  bool null = true;
  static Value number(double v);
  static Value string(std::string s);
  bool is_numeric() const { return !null && !std::isnan(num); }
};

struct Node;

class Expression {
 public:
  /// Parses `source` (a leading '=' is allowed). Throws ExprError.
  static std::shared_ptr<const Expression> parse(std::string_view source, const AppData& app);
  ~Expression();
  Expression(const Expression&) = delete;
  Expression& operator=(const Expression&) = delete;

  const Node& root() const { return *root_; }
  int aggregation_count() const { return aggs_; }

 private:
  Expression() = default;
  std::unique_ptr<Node> root_;
  int aggs_ = 0;
};

/// The result of grouping the possible data by `dims` and computing `measures` per group.
struct CubeResult {
  std::vector<std::vector<std::int32_t>> dims;  // per row: symbol per dimension
  std::vector<std::vector<Value>> measures;     // per row: value per measure
};

/// Groups the rows possible in `possible` by the dimension fields and evaluates each measure per group.
/// With no dimensions there is exactly one row. Throws ExprError when the fields are not linked.
CubeResult calculate(const AppData& app, const Possible& possible, const std::vector<int>& dims,
                     const std::vector<const Expression*>& measures);

/// Evaluates one expression over the whole possible data (Doc.Evaluate).
Value evaluate(const AppData& app, const Possible& possible, const Expression& e);

}  // namespace qix::sim
