// qix-engine-sim: chart expressions (Sum, Count, Count(DISTINCT), Avg, Min, Max, Only, arithmetic,
// literals) and the grouped calculation behind hypercubes and Doc.Evaluate.
// Thread safety: a parsed Expression is immutable; calculate() only reads its inputs.
#pragma once

#include "model.hpp"

#include <cmath>
#include <cstdint>
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

/// One measure of a CubeResult, a value per row, stored compactly: a number per row (NaN for null and for a
/// text that is not a number) and, only once some row has a text other than format_number of its number, a
/// text index per row. 8 bytes per row for the usual numeric measure, where a Value costs 48.
class ValueColumn {
 public:
  explicit ValueColumn(std::size_t rows = 0) : num_(rows, std::numeric_limits<double>::quiet_NaN()) {}
  std::size_t size() const { return num_.size(); }
  /// A number shown as format_number(v); NaN and infinities are null (as Value::number).
  void set_number(std::size_t row, double v) {
    num_[row] = std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN();
    if (!text_.empty()) text_[row] = kNoText;
  }
  void set(std::size_t row, const Value& v);
  /// The value of `row` as set (rows never set are null).
  Value get(std::size_t row) const;
  bool is_numeric(std::size_t row) const { return !std::isnan(num_[row]); }
  double num(std::size_t row) const { return num_[row]; }

 private:
  static constexpr std::int32_t kNoText = -1;  // null when num is NaN, else format_number(num)
  std::vector<double> num_;
  std::vector<std::int32_t> text_;  // empty until a row has a text of its own: index into texts_
  std::vector<std::string> texts_;
};

/// The result of grouping the possible data by `dims` and computing `measures` per group.
struct CubeResult {
  std::size_t rows = 0;
  std::size_t ndims = 0;
  std::vector<std::int32_t> dims;     // row-major: dims[row * ndims + d] = symbol of dimension d
  std::vector<ValueColumn> measures;  // per measure: a value per row
  std::int32_t dim(std::size_t row, std::size_t d) const { return dims[row * ndims + d]; }
};

/// Groups the rows possible in `possible` by the dimension fields and evaluates each measure per group.
/// With no dimensions there is exactly one row. Throws ExprError when the fields are not linked.
CubeResult calculate(const AppData& app, const Possible& possible, const std::vector<int>& dims,
                     const std::vector<const Expression*>& measures);

/// Evaluates one expression over the whole possible data (Doc.Evaluate).
Value evaluate(const AppData& app, const Possible& possible, const Expression& e);

}  // namespace qix::sim
