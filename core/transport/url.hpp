// WebSocket URLs for the QIX Engine: building them the way enigma.js's `buildUrl` does, and parsing
// them into the pieces the transport needs (scheme, host, port, request target).
// Thread safety: every function here is a pure function of its arguments; call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qix::core {

/// The parts of an engine WebSocket URL. Mirrors the options of enigma.js's `SenseUtilities.buildUrl`
/// (enigma.js 2.x, MIT), with the differences noted per member.
struct UrlConfig {
  /// `wss://` when true, `ws://` when false. enigma.js's default is secure.
  bool secure = true;
  /// Host name or address. Empty means "localhost". An IPv6 literal may be given with or without
  /// brackets ("::1" is written as "[::1]"; enigma.js does not add brackets).
  std::string host;
  /// TCP port; 0 (or negative) leaves it out of the URL so the scheme's default applies.
  int port = 0;
  /// Virtual proxy prefix. Leading and trailing slashes are removed ("/myproxy/" and "///myproxy//" give
  /// "/myproxy"); inner slashes are kept as they are; nothing is percent-encoded. A prefix that is only
  /// slashes is left out (enigma.js would emit an empty path segment).
  std::string prefix;
  /// Extra path after the prefix, slashes trimmed like `prefix`, not encoded.
  std::string subpath;
  /// When non-empty after trimming slashes, used as the path instead of `app/<app_id>` (not encoded).
  std::string route;
  /// App id (or file name, e.g. "C:\\Apps\\Sales.qvf"), percent-encoded as encodeURIComponent does.
  /// Empty with no route gives the engine's app-less endpoint "app/engineData".
  std::string app_id;
  /// Session identity: adds "/identity/<encoded identity>" when non-empty.
  std::string identity;
  /// Session time to live in seconds after the socket closes: adds "/ttl/<n>" when >= 0. Differs from
  /// enigma.js, which drops a TTL of 0; for the engine 0 is meaningful (end the session at once), so an
  /// explicit 0 is kept. The default -1 leaves it out.
  int ttl = -1;
  /// Query parameters, in order; keys and values are percent-encoded as encodeURIComponent does (which is
  /// what Node's querystring.stringify, used by enigma.js, does). Empty means no '?' at all.
  std::vector<std::pair<std::string, std::string>> url_params;
};

/// Builds the URL, e.g. "wss://localhost:4848/app/myApp11/ttl/1000?reloadUri=http%3A%2F%2Fqlik.com".
/// Order of parts: scheme, host, port, prefix, subpath, route or app, identity, ttl, query.
/// Ownership: returns a new string; `config` is only read. Errors: none (no validation is done; use
/// parse_ws_url to check the result). Threading: pure.
std::string build_url(const UrlConfig& config);

/// Percent-encodes `text` exactly as JavaScript's encodeURIComponent encodes the same characters given as
/// UTF-8: bytes other than A-Z a-z 0-9 - _ . ! ~ * ' ( ) become "%XX" (upper-case hex). Bytes that are not
/// valid UTF-8 are encoded one by one (JavaScript would throw on the equivalent lone surrogates).
/// Ownership: returns a new string. Errors: none. Threading: pure.
std::string uri_encode_component(std::string_view text);

/// A WebSocket URL split into what the transport needs.
struct ParsedUrl {
  bool secure = false;  ///< True for wss:// (and https://).
  std::string host;     ///< Host name or address; an IPv6 literal without its brackets ("::1").
  std::string port;     ///< Decimal port: as given (leading zeros dropped), else "80" (ws) or "443" (wss).
  std::string target;   ///< Path and query for the HTTP upgrade request; "/" when the URL has no path.

  friend bool operator==(const ParsedUrl&, const ParsedUrl&) = default;
};

/// Parses a ws:// or wss:// URL; http:// and https:// are accepted as ws:// and wss://. The scheme is case
/// insensitive. IPv6 literal hosts must be in brackets ("ws://[::1]:9076/app/x"). Rejected, with a message
/// in `*error` (when `error` is not null) saying what is wrong: an empty URL, a missing or unsupported
/// scheme, user info ("user:pass@host"), a fragment ('#'), spaces or control characters, an empty host,
/// an invalid host character, an unbracketed IPv6 address, a non-numeric port, port 0 or a port above
/// 65535. An empty port ("ws://host:/") means the default port, as in browsers. Non-ASCII bytes in the
/// path or query are percent-encoded in `target`.
/// Ownership: returns a new value; `*error` is only written on failure. Threading: pure.
std::optional<ParsedUrl> parse_ws_url(std::string_view url, std::string* error = nullptr);

/// Returns the value for the HTTP Host header of the upgrade request: the host (in brackets when it is an
/// IPv6 literal), followed by ":port" unless the port is the scheme's default (80 for ws, 443 for wss).
/// Ownership: returns a new string. Errors: none. Threading: pure.
std::string host_header(const ParsedUrl& url);

}  // namespace qix::core
