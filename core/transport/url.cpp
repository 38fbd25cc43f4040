#include "transport/url.hpp"

#include <cstddef>
#include <cstdint>

namespace qix::core {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

bool is_ascii_alnum(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_hex_digit(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The characters encodeURIComponent leaves alone.
bool is_uri_component_safe(unsigned char c) noexcept {
  if (is_ascii_alnum(c)) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

void append_percent_encoded(std::string& out, unsigned char c) {
  out += '%';
  out += kHexDigits[c >> 4];
  out += kHexDigits[c & 0x0F];
}

// Removes every leading and trailing '/', like enigma.js's replaceLeadingAndTrailingSlashes.
std::string_view trim_slashes(std::string_view s) noexcept {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

void append_segment(std::string& url, std::string_view raw) {
  const std::string_view trimmed = trim_slashes(raw);
  if (trimmed.empty()) return;
  url += '/';
  url += trimmed;
}

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '\'';
  q += s;
  q += '\'';
  return q;
}

std::optional<ParsedUrl> fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

bool valid_reg_name_char(unsigned char c) noexcept {
  return is_ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool valid_ipv6_literal(std::string_view s) noexcept {
  if (s.find(':') == std::string_view::npos) return false;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_hex_digit(c) && c != ':' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::string uri_encode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_uri_component_safe(c)) {
      out += ch;
    } else {
      append_percent_encoded(out, c);
    }
  }
  return out;
}

std::string build_url(const UrlConfig& config) {
  std::string url = config.secure ? "wss://" : "ws://";

  if (config.host.empty()) {
    url += "localhost";
  } else if (config.host.find(':') != std::string::npos && config.host.front() != '[') {
    url += '[';
    url += config.host;
    url += ']';
  } else {
    url += config.host;
  }

  if (config.port > 0) {
    url += ':';
    url += std::to_string(config.port);
  }

  append_segment(url, config.prefix);
  append_segment(url, config.subpath);

  if (!trim_slashes(config.route).empty()) {
    append_segment(url, config.route);
  } else if (!config.app_id.empty()) {
    url += "/app/";
    url += uri_encode_component(config.app_id);
  } else {
    url += "/app/engineData";
  }

  if (!config.identity.empty()) {
    url += "/identity/";
    url += uri_encode_component(config.identity);
  }

  if (config.ttl >= 0) {
    url += "/ttl/";
    url += std::to_string(config.ttl);
  }

  char separator = '?';
  for (const auto& [key, value] : config.url_params) {
    url += separator;
    separator = '&';
    url += uri_encode_component(key);
    url += '=';
    url += uri_encode_component(value);
  }
  return url;
}

std::optional<ParsedUrl> parse_ws_url(std::string_view url, std::string* error) {
  if (url.empty()) return fail(error, "empty URL: expected ws://host[:port]/path or wss://host[:port]/path");

  for (std::size_t i = 0; i < url.size(); ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c == 0x7F) {
      return fail(error, "URL " + quoted(url) + " contains a space or control character at offset " +
                             std::to_string(i) + "; percent-encode it");
    }
  }

  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail(error, "URL " + quoted(url) + " has no scheme: expected ws://, wss://, http:// or https://");
  }
  std::string scheme;
  for (const char c : url.substr(0, scheme_end)) scheme += ascii_lower(c);

  ParsedUrl parsed;
  if (scheme == "ws" || scheme == "http") {
    parsed.secure = false;
  } else if (scheme == "wss" || scheme == "https") {
    parsed.secure = true;
  } else {
    return fail(error, "unsupported URL scheme " + quoted(url.substr(0, scheme_end)) +
                           ": expected ws://, wss://, http:// or https://");
  }

  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) {
    return fail(error,
                "URL " + quoted(url) + " has a fragment ('#...'), which a WebSocket URL must not have");
  }

  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    return fail(error, "URL " + quoted(url) +
                           " has user info ('user:password@'), which is not supported; send credentials in "
                           "headers instead");
  }
  if (authority.empty()) return fail(error, "URL " + quoted(url) + " has an empty host");

  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(error, "URL " + quoted(url) + " has an IPv6 address with no closing ']'");
    }
    const std::string_view literal = authority.substr(1, close - 1);
    if (literal.empty()) return fail(error, "URL " + quoted(url) + " has an empty host");
    if (!valid_ipv6_literal(literal)) {
      return fail(error, "URL " + quoted(url) + " has an invalid IPv6 address " + quoted(literal));
    }
    parsed.host = std::string(literal);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(error, "URL " + quoted(url) + " has unexpected characters " + quoted(after) +
                               " after the IPv6 address");
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      return fail(error, "URL " + quoted(url) +
                             ": an IPv6 address must be enclosed in brackets, e.g. ws://[::1]:9076/");
    }
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) return fail(error, "URL " + quoted(url) + " has an empty host");
    for (const char ch : host) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 0x80) {
        return fail(error, "URL " + quoted(url) +
                               " has non-ASCII characters in the host; use its ASCII (\"xn--\") form");
      }
      if (!valid_reg_name_char(c)) {
        return fail(error, "URL " + quoted(url) + " has an invalid character " +
                               quoted(std::string_view(&ch, 1)) + " in the host");
      }
    }
    parsed.host = std::string(host);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
  }

  if (has_port && !port_text.empty()) {
    for (const char c : port_text) {
      if (c < '0' || c > '9') {
        return fail(error,
                    "URL " + quoted(url) + " has a port " + quoted(port_text) + " that is not a number");
      }
    }
    std::string_view digits = port_text;
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    std::uint32_t value = 0;
    if (digits.size() <= 5) {
      for (const char c : digits) value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (digits.size() > 5 || value > 65535) {
      return fail(error, "URL " + quoted(url) + " has a port " + std::string(port_text) +
                             " that is out of range (1-65535)");
    }
    if (value == 0) return fail(error, "URL " + quoted(url) + " has port 0, which is not allowed (1-65535)");
    parsed.port = std::to_string(value);
  } else {
    parsed.port = parsed.secure ? "443" : "80";
  }

  if (tail.empty() || tail.front() == '?') parsed.target = "/";
  for (const char ch : tail) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      append_percent_encoded(parsed.target, c);
    } else {
      parsed.target += ch;
    }
  }
  return parsed;
}

std::string host_header(const ParsedUrl& url) {
  std::string value;
  if (url.host.find(':') != std::string::npos) {
    value += '[';
    value += url.host;
    value += ']';
  } else {
    value += url.host;
  }
  if (url.port != (url.secure ? "443" : "80")) {
    value += ':';
    value += url.port;
  }
  return value;
}

}  // namespace qix::core
