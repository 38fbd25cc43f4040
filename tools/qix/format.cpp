// qix: JSON and table formatting.
#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace qixcli {

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw Failure(kExitEngine, "qix: not JSON: " + text.substr(0, 200));
  return v;
}

namespace {
void pretty_into(std::string& out, const json::value& v, int depth) {
  auto indent = [&](int d) { out.append(static_cast<std::size_t>(d) * 2, ' '); };
  if (const auto* o = v.if_object()) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& kv : *o) {
      if (!first) out += ",\n";
      first = false;
      indent(depth + 1);
      out += json::serialize(json::string(kv.key()));
      out += ": ";
      pretty_into(out, kv.value(), depth + 1);
    }
    out += "\n";
    indent(depth);
    out += "}";
  } else if (const auto* a = v.if_array()) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i) out += ",\n";
      indent(depth + 1);
      pretty_into(out, (*a)[i], depth + 1);
    }
    out += "\n";
    indent(depth);
    out += "]";
  } else {
    out += json::serialize(v);
  }
}

bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  return ec == std::errc() && p == s.data() + s.size();
}

// Display width of UTF-8 text: counts code points (good enough for tables of names and numbers).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
}  // namespace

std::string pretty(const json::value& v) {
  std::string out;
  pretty_into(out, v, 0);
  return out;
}

std::string quote(const std::string& s) {
  return json::serialize(json::string(s));
}

const json::value* member(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  if (!o) return nullptr;
  auto it = o->find(key);
  return it == o->end() ? nullptr : &it->value();
}

std::string number_text(double d) {
  if (std::isnan(d)) return "NaN";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, p) : std::to_string(d);
}

std::string text_of(const json::value* v) {
  if (!v) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_number()) return number_text(v->to_number<double>());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  return "";
}

std::string cell_text(const json::value& cell) {
  if (const auto* t = member(cell, "qText"); t && t->is_string()) return std::string(t->as_string());
  if (const auto* n = member(cell, "qNum"); n && n->is_number()) return number_text(n->to_number<double>());
  return "";
}

void print_table(std::FILE* out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent) {
  if (rows.empty()) return;
  std::size_t cols = 0;
  for (const auto& r : rows) cols = std::max(cols, r.size());
  std::vector<std::size_t> w(cols, 0);
  std::vector<bool> numeric(cols, true);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      w[c] = std::max(w[c], width(rows[i][c]));
      if (i > 0 && !rows[i][c].empty() && !looks_numeric(rows[i][c])) numeric[c] = false;
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::string line = indent;
    for (std::size_t c = 0; c < cols; ++c) {
      std::string cell = c < rows[i].size() ? rows[i][c] : "";
      std::string pad(w[c] - width(cell), ' ');
      if (c) line += "  ";
      line += (numeric[c] && rows.size() > 1) ? pad + cell : cell + (c + 1 < cols ? pad : "");
    }
    std::fprintf(out, "%s\n", line.c_str());
    if (i == 0 && rows.size() > 1) {
      std::string rule = indent;
      for (std::size_t c = 0; c < cols; ++c) rule += (c ? "  " : "") + std::string(w[c], '-');
      std::fprintf(out, "%s\n", rule.c_str());
    }
  }
}

std::string thousands(std::int64_t n) {
  std::string d = std::to_string(n);
  std::string out;
  int k = 0;
  for (auto it = d.rbegin(); it != d.rend(); ++it) {
    if (k && k % 3 == 0 && *it != '-') out += ',';
    out += *it;
    ++k;
  }
  return {out.rbegin(), out.rend()};
}

void print_failure(bool json, const Failure& f) {
  std::fflush(stdout);
  if (!json) {
    std::fprintf(stderr, "%s\n", f.what());
    return;
  }
  std::string message = f.json_message;
  if (message.empty()) {
    message = f.what();
    if (message.rfind("qix: ", 0) == 0) message.erase(0, 5);
  }
  const char* kind = "failure";
  if (f.code == kExitUsage) kind = "usage";
  if (f.code == kExitConnection) kind = "connection";
  if (f.code >= 128) kind = "interrupted";
  if (f.code == kExitEngine && f.details.contains("code")) kind = "engine";
  json::object error{{"kind", kind}, {"exitCode", f.code}, {"message", message}};
  for (const auto& kv : f.details) error[kv.key()] = kv.value();
  std::fprintf(stderr, "%s\n", json::serialize(json::object{{"error", std::move(error)}}).c_str());
}

void notice(const Config& cfg, const char* kind, const std::string& message) {
  std::fflush(stdout);
  if (cfg.json) {
    json::object n{{"kind", kind}, {"message", message}};
    std::fprintf(stderr, "%s\n", json::serialize(json::object{{"notice", std::move(n)}}).c_str());
  } else {
    std::fprintf(stderr, "qix: %s\n", message.c_str());
  }
  std::fflush(stderr);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace qixcli
