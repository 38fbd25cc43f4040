#include "sql.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace qix::odbc {
namespace {

enum class Tok { End, Word, Quoted, String, Number, Punct };

struct Token {
  Tok kind = Tok::End;
  std::string text;  // words as written; quoted names and strings unquoted; punctuation as written
  std::size_t pos = 0;
};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  while (i < n) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {  // comment to the end of the line
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      auto e = s.find("*/", i + 2);
      if (e == std::string::npos) throw SqlError("unterminated comment");
      i = e + 2;
      continue;
    }
    Token t;
    t.pos = i;
    if (c == '\'' || c == '"' || c == '[' || c == '`') {
      const char close = c == '[' ? ']' : c;
      t.kind = c == '\'' ? Tok::String : Tok::Quoted;
      ++i;
      for (;;) {
        if (i >= n) throw SqlError(std::string("unterminated ") + (c == '\'' ? "string" : "quoted name"));
        if (s[i] == close) {
          if (i + 1 < n && s[i + 1] == close) {  // doubled quote
            t.text += close;
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        t.text += s[i++];
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      t.kind = Tok::Number;
      while (i < n && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) t.text += s[i++];
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        t.text += s[i++];
        if (i < n && (s[i] == '+' || s[i] == '-')) t.text += s[i++];
        while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) t.text += s[i++];
      }
    } else if (is_word(c)) {
      t.kind = Tok::Word;
      while (i < n && is_word(s[i])) t.text += s[i++];
    } else {
      t.kind = Tok::Punct;
      static const char* const two[] = {"<>", "!=", "<=", ">=", "||"};
      t.text = std::string(1, c);
      for (const char* op : two)
        if (s.compare(i, 2, op) == 0) t.text = op;
      i += t.text.size();
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = n;
  out.push_back(end);
  return out;
}

// Words that end a select item, a table name or a clause.
bool is_keyword(const std::string& u) {
  static const char* const kw[] = {
      "SELECT", "FROM",      "WHERE",  "GROUP",  "ORDER", "BY",      "LIMIT", "AS",      "AND",      "OR",
      "NOT",    "IN",        "ASC",    "DESC",   "JOIN",  "INNER",   "LEFT",  "RIGHT",   "FULL",     "CROSS",
      "ON",     "UNION",     "HAVING", "OFFSET", "LIKE",  "IS",      "NULL",  "BETWEEN", "DISTINCT", "FETCH",
      "EXCEPT", "INTERSECT", "WITH",   "CASE",   "OUTER", "NATURAL", "TOP"};
  return std::find_if(std::begin(kw), std::end(kw), [&](const char* k) { return u == k; }) != std::end(kw);
}

class Parser {
 public:
  explicit Parser(const std::string& sql) : toks_(tokenize(sql)) {}

  Query statement() {
    Query q;
    if (peek().kind == Tok::Punct && peek().text == "{")
      throw SqlError("ODBC escape sequences ({...}) are not supported");
    if (!is_word("SELECT")) {
      if (peek().kind == Tok::End) throw SqlError("empty statement");
      throw SqlError("'" + peek().text +
                     "' statements are not supported: only SELECT (the driver is read-only)");
    }
    next();
    if (is_word("TOP")) throw SqlError("TOP is not supported: use LIMIT n");
    if (is_word("DISTINCT")) {
      next();
      q.distinct = true;
    } else if (is_word("ALL")) {
      next();
    }
    if (peek().kind == Tok::Punct && peek().text == "*") {
      next();
      q.star = true;
    } else {
      for (;;) {
        q.items.push_back(item());
        if (!accept_punct(",")) break;
      }
    }
    expect_word("FROM", "after the select list");
    table(q);
    if (is_word("WHERE")) {
      next();
      for (;;) {
        q.where.push_back(condition());
        if (is_word("OR")) throw SqlError("OR in WHERE is not supported: use col IN (...)");
        if (!is_word("AND")) break;
        next();
      }
    }
    if (is_word("GROUP")) {
      next();
      expect_word("BY", "after GROUP");
      for (;;) {
        q.group_by.push_back(column_name("in GROUP BY"));
        if (!accept_punct(",")) break;
      }
    }
    if (is_word("HAVING")) throw SqlError("HAVING is not supported");
    if (is_word("ORDER")) {
      next();
      expect_word("BY", "after ORDER");
      for (;;) {
        OrderKey k;
        if (peek().kind == Tok::Number) {
          k.ordinal = std::atoi(next().text.c_str());
          if (k.ordinal <= 0) throw SqlError("ORDER BY position must be 1 or more");
        } else {
          k.name = column_name("in ORDER BY");
        }
        if (is_word("ASC")) {
          next();
        } else if (is_word("DESC")) {
          next();
          k.descending = true;
        }
        if (is_word("NULLS")) throw SqlError("NULLS FIRST/LAST is not supported");
        q.order_by.push_back(k);
        if (!accept_punct(",")) break;
      }
    }
    if (is_word("LIMIT")) {
      next();
      if (peek().kind != Tok::Number || peek().text.find_first_not_of("0123456789") != std::string::npos)
        throw SqlError("LIMIT needs a whole number");
      q.limit = std::strtoll(next().text.c_str(), nullptr, 10);
      if (is_word("OFFSET") || accept_punct(",")) throw SqlError("OFFSET is not supported");
    }
    if (is_word("OFFSET")) throw SqlError("OFFSET is not supported");
    if (is_word("FETCH")) throw SqlError("FETCH FIRST is not supported: use LIMIT n");
    accept_punct(";");
    if (peek().kind != Tok::End) unexpected("at the end of the statement");
    return q;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const { return toks_[std::min(i_ + ahead, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool is_word(const char* w, std::size_t ahead = 0) const {
    return peek(ahead).kind == Tok::Word && upper(peek(ahead).text) == w;
  }
  bool accept_punct(const char* p) {
    if (peek().kind == Tok::Punct && peek().text == p) {
      next();
      return true;
    }
    return false;
  }
  void expect_punct(const char* p, const char* where) {
    if (!accept_punct(p)) unexpected((std::string("'") + p + "' expected " + where).c_str());
  }
  void expect_word(const char* w, const char* where) {
    if (!is_word(w)) unexpected((std::string(w) + " expected " + where).c_str());
    next();
  }

  // Reports the token met where something else was expected, naming known constructs.
  [[noreturn]] void unexpected(const char* what) const {
    const Token& t = peek();
    std::string u = upper(t.text);
    if (t.kind == Tok::Word) {
      if (u == "JOIN" || u == "INNER" || u == "LEFT" || u == "RIGHT" || u == "FULL" || u == "CROSS" ||
          u == "NATURAL" || u == "OUTER")
        throw SqlError("JOIN is not supported: query one table (the data model links tables by field name)");
      if (u == "UNION" || u == "EXCEPT" || u == "INTERSECT") throw SqlError(u + " is not supported");
      if (u == "HAVING") throw SqlError("HAVING is not supported");
      if (u == "OR") throw SqlError("OR in WHERE is not supported: use col IN (...)");
      if (u == "OFFSET") throw SqlError("OFFSET is not supported");
    }
    if (t.kind == Tok::Punct) {
      if (t.text == "(") throw SqlError("a subquery or parenthesised expression is not supported");
      if (t.text == "{") throw SqlError("ODBC escape sequences ({...}) are not supported");
      if (t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">=" || t.text == "<>" ||
          t.text == "!=")
        throw SqlError("the comparison '" + t.text +
                       "' is not supported: WHERE takes col = v and col IN (...)");
      if (t.text == "+" || t.text == "-" || t.text == "/" || t.text == "*" || t.text == "||" || t.text == "%")
        throw SqlError("arithmetic ('" + t.text +
                       "') is not supported: use the pass-through form \"=expression\" for Qlik expressions");
      if (t.text == ",") throw SqlError("a list of tables in FROM (a join) is not supported");
    }
    if (t.kind == Tok::End) throw SqlError(std::string("unexpected end of the statement: ") + what);
    throw SqlError("unexpected '" + t.text + "' at position " + std::to_string(t.pos + 1) + ": " + what);
  }

  // A name: a bare word that is not a keyword, or a quoted name. Qualified names (t.col) keep the last part.
  std::string name(const char* where) {
    const Token& t = peek();
    if (t.kind == Tok::Quoted) return next().text;
    if (t.kind == Tok::Word && !is_keyword(upper(t.text))) return next().text;
    unexpected((std::string("a name expected ") + where).c_str());
  }
  std::string column_name(const char* where) {
    std::string n = name(where);
    if (peek().kind == Tok::Punct && peek().text == "(")
      throw SqlError("the function " + n + "() is not supported " + where);
    if (accept_punct(".")) n = name(where);  // table.column
    return n;
  }

  SelectItem item() {
    SelectItem it;
    const Token& t = peek();
    if (t.kind == Tok::Quoted && !t.text.empty() && t.text[0] == '=') {
      it.agg = Agg::Expr;
      it.column = next().text;
    } else if (t.kind == Tok::Word && peek(1).kind == Tok::Punct && peek(1).text == "(") {
      std::string f = upper(t.text);
      static const struct {
        const char* name;
        Agg agg;
      } aggs[] = {
          {"SUM", Agg::Sum}, {"COUNT", Agg::Count}, {"AVG", Agg::Avg}, {"MIN", Agg::Min}, {"MAX", Agg::Max}};
      const auto* a =
          std::find_if(std::begin(aggs), std::end(aggs), [&](const auto& x) { return f == x.name; });
      if (a == std::end(aggs))
        throw SqlError(
            "the function " + t.text +
            "() is not supported: use SUM, COUNT, AVG, MIN, MAX or the pass-through \"=expression\"");
      next();
      next();
      it.agg = a->agg;
      if (is_word("DISTINCT")) {
        next();
        if (it.agg != Agg::Count) throw SqlError(std::string(a->name) + "(DISTINCT ...) is not supported");
        it.agg = Agg::CountDistinct;
      }
      if (peek().kind == Tok::Punct && peek().text == "*") {
        if (it.agg != Agg::Count) throw SqlError(std::string(a->name) + "(*) is not supported");
        next();
        it.agg = Agg::CountStar;
      } else {
        it.column = column_name("as an aggregate's argument");
      }
      expect_punct(")", "to close the aggregate");
    } else if (t.kind == Tok::String || t.kind == Tok::Number) {
      throw SqlError("a literal in the select list is not supported");
    } else {
      it.column = column_name("in the select list");
    }
    if (is_word("AS")) {
      next();
      it.alias = name("after AS");
    } else if (peek().kind == Tok::Quoted || (peek().kind == Tok::Word && !is_keyword(upper(peek().text)))) {
      it.alias = next().text;
    }
    return it;
  }

  void table(Query& q) {
    if (peek().kind == Tok::Punct && peek().text == "(")
      throw SqlError("a subquery in FROM is not supported");
    std::string first = name("after FROM");
    if (accept_punct(".")) {
      q.schema = first;
      q.table = name("after the schema");
      if (accept_punct(".")) {  // catalog.schema.table: the catalog is ignored
        q.schema = q.table;
        q.table = name("after the schema");
      }
    } else {
      q.table = first;
    }
    // An alias of the table (FROM Orders o).
    if (is_word("AS")) {
      next();
      name("after AS");
    } else if (peek().kind == Tok::Word && !is_keyword(upper(peek().text))) {
      next();
    }
    if (peek().kind == Tok::Punct && peek().text == ",") unexpected("after the table");
    if (is_word("JOIN") || is_word("INNER") || is_word("LEFT") || is_word("RIGHT") || is_word("FULL") ||
        is_word("CROSS") || is_word("NATURAL"))
      unexpected("after the table");
  }

  Literal literal() {
    Literal l;
    bool neg = false;
    if (peek().kind == Tok::Punct && (peek().text == "-" || peek().text == "+")) {
      neg = next().text == "-";
      if (peek().kind != Tok::Number) unexpected("a number expected");
    }
    const Token& t = peek();
    if (t.kind == Tok::String) {
      l.text = next().text;
    } else if (t.kind == Tok::Number) {
      l.is_number = true;
      l.text = (neg ? "-" : "") + next().text;
      l.number = std::strtod(l.text.c_str(), nullptr);
    } else if (t.kind == Tok::Word && upper(t.text) == "NULL") {
      throw SqlError("NULL in WHERE is not supported");
    } else if (t.kind == Tok::Word && upper(t.text) == "SELECT") {
      throw SqlError("a subquery is not supported");
    } else if (t.kind == Tok::Punct && t.text == "?") {
      throw SqlError("parameter markers (?) are not supported");
    } else {
      unexpected("a literal ('text' or a number) expected");
    }
    return l;
  }

  Condition condition() {
    Condition c;
    if (peek().kind == Tok::Punct && peek().text == "(")
      throw SqlError("parentheses in WHERE are not supported");
    if (is_word("NOT")) throw SqlError("NOT in WHERE is not supported");
    c.column = column_name("in WHERE");
    if (accept_punct("=")) {
      c.values.push_back(literal());
    } else if (is_word("IN")) {
      next();
      expect_punct("(", "after IN");
      if (is_word("SELECT")) throw SqlError("a subquery is not supported");
      for (;;) {
        c.values.push_back(literal());
        if (!accept_punct(",")) break;
      }
      expect_punct(")", "to close IN (...)");
    } else if (is_word("LIKE") || is_word("BETWEEN") || is_word("IS") || is_word("NOT")) {
      throw SqlError(upper(peek().text) + " is not supported: WHERE takes col = v and col IN (...)");
    } else {
      unexpected("'=' or IN expected in WHERE");
    }
    return c;
  }

  std::vector<Token> toks_;
  std::size_t i_ = 0;
};

}  // namespace

Query parse(const std::string& sql) {
  return Parser(sql).statement();
}

std::string output_name(const SelectItem& item) {
  if (!item.alias.empty()) return item.alias;
  switch (item.agg) {
    case Agg::None:
    case Agg::Expr:
      return item.column;
    case Agg::Sum:
      return "SUM(" + item.column + ")";
    case Agg::Count:
      return "COUNT(" + item.column + ")";
    case Agg::CountDistinct:
      return "COUNT(DISTINCT " + item.column + ")";
    case Agg::CountStar:
      return "COUNT(*)";
    case Agg::Avg:
      return "AVG(" + item.column + ")";
    case Agg::Min:
      return "MIN(" + item.column + ")";
    case Agg::Max:
      return "MAX(" + item.column + ")";
  }
  return item.column;
}

std::vector<std::pair<std::string, std::string>> parse_connection_string(const std::string& s) {
  std::vector<std::pair<std::string, std::string>> out;
  auto trim = [](const std::string& v) {
    auto b = v.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return std::string();
    auto e = v.find_last_not_of(" \t\r\n");
    return v.substr(b, e - b + 1);
  };
  std::size_t i = 0;
  while (i < s.size()) {
    auto eq = s.find('=', i);
    auto semi = s.find(';', i);
    if (semi != std::string::npos && (eq == std::string::npos || semi < eq)) {
      if (!trim(s.substr(i, semi - i)).empty())
        throw SqlError("connection string: '" + trim(s.substr(i, semi - i)) + "' has no '='");
      i = semi + 1;
      continue;
    }
    if (eq == std::string::npos) {
      if (!trim(s.substr(i)).empty())
        throw SqlError("connection string: '" + trim(s.substr(i)) + "' has no '='");
      break;
    }
    std::string key = trim(s.substr(i, eq - i));
    i = eq + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::string value;
    if (i < s.size() && s[i] == '{') {
      ++i;
      for (;;) {
        if (i >= s.size()) throw SqlError("connection string: the value of '" + key + "' has no closing '}'");
        if (s[i] == '}') {
          if (i + 1 < s.size() && s[i + 1] == '}') {
            value += '}';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        value += s[i++];
      }
      auto next = s.find(';', i);
      if (!trim(s.substr(i, next == std::string::npos ? std::string::npos : next - i)).empty())
        throw SqlError("connection string: text after the closing '}' of '" + key + "'");
      i = next == std::string::npos ? s.size() : next + 1;
    } else {
      auto next = s.find(';', i);
      value = trim(s.substr(i, next == std::string::npos ? std::string::npos : next - i));
      i = next == std::string::npos ? s.size() : next + 1;
    }
    if (key.empty()) throw SqlError("connection string: a value without a key");
    out.emplace_back(key, value);
  }
  return out;
}

}  // namespace qix::odbc
