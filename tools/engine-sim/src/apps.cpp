// qix-engine-sim: the apps it serves: the built-in demo app and apps loaded from CSV files.
#include "apps.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace qix::sim {

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
  static const char* first[] = {"Acme",  "Globex", "Initech", "Umbrella",  "Stark",
                                "Wayne", "Wonka",  "Tyrell",  "Cyberdyne", "Hooli"};
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
    std::string name =
        std::string(adjectives[i % 8]) + " " + nouns[(i / 8 + i) % 7] + " " + std::to_string(i);
    double price = 5.0 + static_cast<double>(rng.below(200)) * 2.5;
    prices.push_back(price);
    app->add_row(tp, {id, name, categories[i % 4], format_number(price)});
  }

  int to =
      app->add_table("Orders", {"OrderId", "Year", "Month", "CustomerId", "ProductId", "Quantity", "Sales"});
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
