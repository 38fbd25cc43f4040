// qix-engine-sim: the apps it serves: the built-in demo app and apps loaded from CSV files.
// Thread safety: each function builds a new AppData and shares nothing; reentrant.
#pragma once

#include "model.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qix::sim {

/// The built-in deterministic sales app `demo` (orders, customers, products, regions).
std::shared_ptr<AppData> make_demo_app(std::size_t order_rows);
/// Loads every *.csv in `dir` as a table. Throws std::runtime_error on unreadable files.
std::shared_ptr<AppData> load_csv_app(const std::string& dir, const std::string& id);
/// Splits one CSV document (RFC 4180) into records.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);

}  // namespace qix::sim
