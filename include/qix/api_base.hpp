/**
 * @file qix/api_base.hpp
 * @brief What the generated typed Engine API (qix/api_types.hpp, qix/api.hpp) is built on: the base of
 *        its enum types, the JSON codecs of scalars, arrays and optionals, and the one call path of its
 *        typed methods (params by name, then qix::Object::call / call_async, then the result decoded
 *        from the engine's whole result object). Hand-written; C++17, header-only.
 */
#ifndef QIX_API_BASE_HPP
#define QIX_API_BASE_HPP

#include "qix/json.hpp"
#include "qix/qix.hpp"

#include <cstdint>
#include <exception>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace qix {
namespace api {

/**
 * The base of the generated enum types: the symbol as the engine sends and accepts it ("S", "O",
 * "NX_CELL_BODY", ...). Any symbol is kept, known or not, so a newer engine's symbols never fail decoding.
 * Each enum type adds its known symbols as constants (e.g. StateEnumType::selected == "S").
 */
class Enum {
 public:
  Enum() = default;
  Enum(std::string symbol) : value(std::move(symbol)) {}
  Enum(const char* symbol) : value(symbol) {}
  /** The symbol. */
  std::string value;
  /** The engine sent a number (its ordinal) instead of a symbol: @c value holds it as text, and it is
   *  written back as a number. */
  bool numeric = false;

  friend bool operator==(const Enum& a, const Enum& b) { return a.value == b.value; }
  friend bool operator!=(const Enum& a, const Enum& b) { return a.value != b.value; }
};

namespace detail {

/** The JSON codec of a generated type: read(v, out) and write(in), specialised for each struct in
 *  qix/api_types.hpp (a class template, so that no call searches hundreds of overloads). */
template <class T, class = void>
struct codec;

/** Every enum type: the symbol as a string (an ordinal the engine sent as a number stays a number). */
template <class T>
struct codec<T, std::enable_if_t<std::is_base_of<Enum, T>::value>> {
  static void read(const json::value& v, Enum& out) {
    out.numeric = v.is_integer();
    out.value = out.numeric ? std::to_string(v.as_int()) : v.as_string();
  }
  static json::value write(const Enum& e) {
    return e.numeric ? json::value(std::stoll(e.value)) : json::value(e.value);
  }
};

// ---- decoding: read(v, out) for every member type; generated types through their from_json (ADL) ------
inline void read(const json::value& v, bool& out) {
  out = v.as_bool();
}
inline void read(const json::value& v, std::int32_t& out) {
  std::int64_t i = v.as_int();
  if (i < INT32_MIN || i > INT32_MAX)
    throw json::error("json: " + std::to_string(i) + " is out of int32 range");
  out = static_cast<std::int32_t>(i);
}
inline void read(const json::value& v, std::int64_t& out) {
  out = v.as_int();
}
inline void read(const json::value& v, double& out) {
  out = v.as_double();
}
inline void read(const json::value& v, std::string& out) {
  out = v.as_string();
}
inline void read(const json::value& v, json::value& out) {
  out = v;
}
inline void read(const json::value& v, std::optional<json::value>& out) {
  out = v;  // arbitrary JSON: a null stays a null
}
template <class T>
void read(const json::value& v, std::vector<T>& out);
template <class T>
void read(const json::value& v, std::optional<T>& out);
template <class T>
void read(const json::value& v, T& out) {
  codec<T>::read(v, out);
}
template <class T>
void read(const json::value& v, std::vector<T>& out) {
  const json::array& a = v.as_array();
  out.clear();
  out.reserve(a.size());
  for (const json::value& e : a) {
    out.emplace_back();
    read(e, out.back());
  }
}
template <class T>
void read(const json::value& v, std::optional<T>& out) {
  if (v.is_null()) {  // a member sent as null reads as absent
    out.reset();
    return;
  }
  out.emplace();
  read(v, *out);
}

/** Reads the member @p where (e.g. "NxRange.qFrom") into @p out, naming it in the error. */
template <class T>
void member(const json::value& v, T& out, const char* where) {
  try {
    read(v, out);
  } catch (const json::error& e) {
    throw json::error(std::string(where) + ": " + e.what());
  }
}

/** The members of an object of the type @p type; throws json::error for any other kind. */
inline const json::object& members(const json::value& v, const char* type) {
  if (!v.is_object())
    throw json::error(std::string(type) + ": expected an object, got " + kind_name(v.type()));
  return v.as_object();
}

// ---- encoding ------------------------------------------------------------------------------------------
inline json::value encode(bool b) {
  return json::value(b);
}
inline json::value encode(std::int32_t i) {
  return json::value(i);
}
inline json::value encode(std::int64_t i) {
  return json::value(i);
}
inline json::value encode(double d) {
  return json::value(d);  // json::dump writes NaN and the infinities as "NaN", "Infinity", "-Infinity"
}
inline json::value encode(const std::string& s) {
  return json::value(s);
}
inline json::value encode(const json::value& v) {
  return v;
}
template <class T>
json::value encode(const std::vector<T>& v);
template <class T>
json::value encode(const std::optional<T>& v);
template <class T>
json::value encode(const T& v) {
  return codec<T>::write(v);
}
template <class T>
json::value encode(const std::vector<T>& v) {
  json::array a;
  a.reserve(v.size());
  for (const T& e : v) a.push_back(encode(e));
  return json::value(std::move(a));
}
template <class T>
json::value encode(const std::optional<T>& v) {
  return v ? encode(*v) : json::value();
}

/** Writes a present member. */
template <class T>
void put(json::object& o, const char* key, const std::optional<T>& m) {
  if (m) o.append(key, encode(*m));
}
/** Writes an open struct's unknown members back. */
inline void write_extra(json::object& o, const json::object& extra) {
  for (const auto& m : extra) o.set(m.first, m.second);
}

/** A value of type T from JSON text (the generated signatures' non-trivial default arguments). */
template <class T>
T from_text(const char* text) {
  T out{};
  read(json::parse(text), out);
  return out;
}

// ---- the call path -------------------------------------------------------------------------------------
/** One parameter of a call: its wire name and its JSON; an optional parameter not given has none. */
struct arg {
  const char* name;
  std::optional<json::value> value;
};

/** An optional parameter: its JSON, or none when not given (it is then left out of the request). */
template <class T>
std::optional<json::value> encode_given(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return encode(*v);
}

/** The params object of a call, keyed by the wire names ({"qId":"x"}), as JSON text. Optional parameters not
 *  given are left out, so that the engine applies its own defaults. */
inline std::string params(std::initializer_list<arg> args) {
  json::object o;
  for (const arg& a : args) {
    if (a.value) o.append(a.name, *a.value);
  }
  return json::dump(json::value(std::move(o)));
}

/** Throws qix::Error (QIX_EPROTOCOL) for a result that does not decode as the specification says. */
[[noreturn]] inline void undecodable(const char* method, const json::error& e) {
  throw Error(QIX_EPROTOCOL, std::string(method) + ": the result does not decode: " + e.what());
}

/** The engine's whole result object. */
inline json::value raw_result(const Result& r, const char* method) {
  try {
    return json::parse(r.raw());
  } catch (const json::error& e) {
    undecodable(method, e);
  }
}

// The decoders: T(result, method for messages, out value's wire name); one signature, so that the
// asynchronous forms take any of them as a plain function pointer.

/** The out value @p wire of the result (T's zero value when the engine left it out). */
template <class T, class Lazy = void>
T decode_value(const Result& r, const char* method, const char* wire) {
  json::value raw = raw_result(r, method);
  T out{};
  if (const json::value* m = raw.find(wire)) {
    try {
      read(*m, out);
    } catch (const json::error& e) {
      undecodable(method, e);
    }
  }
  return out;
}

/** The object the result refers to, as the typed class T; an empty T when not found. */
template <class T>
T decode_object(const Result& r, const char*, const char* = nullptr) {
  return r.has_object() ? T(r.object()) : T();
}

/** True for the failure libqix reports when the engine answers qReturn.qHandle null ("not found"). */
inline bool not_found(const Error& e) {
  return e.status() == QIX_ENOTFOUND;
}

/** A blocking call of a method that returns an object: "not found" gives an empty T, not an exception. */
template <class Lazy, class T>
T call_object(Object& o, const char* method, const std::string& params_json, const char* label,
              T (*decode)(const Result&, const char*, const char*)) {
  Result r;
  try {
    r = o.call(method, params_json);
  } catch (const Error& e) {
    if (!not_found(e)) throw;
    qix_error_clear();
    return T();
  }
  return decode(r, label, nullptr);
}

/** The result type T (a struct of the out values), from the whole result object. */
template <class T>
T decode_struct(const Result& r, const char* method, const char* = nullptr) {
  json::value raw = raw_result(r, method);
  T out{};
  try {
    read(raw, out);
  } catch (const json::error& e) {
    undecodable(method, e);
  }
  return out;
}

/** decode_struct() for result types that carry an object too (their member @c object). */
template <class T>
T decode_struct_object(const Result& r, const char* method, const char* = nullptr) {
  T out = decode_struct<T>(r, method);
  out.object = decode_object<decltype(out.object)>(r, method);
  return out;
}

inline void decode_void(const Result&, const char*, const char*) {}

/** A blocking call without a result. */
template <class Lazy>
void call_void(Object& o, const char* method, const std::string& params_json) {
  o.call(method, params_json);
}

/** Issues an asynchronous call whose future receives decode(result), or the call's qix::Error. (Lazy makes
 *  the generated _async methods templates, compiled only when a program calls them.) */
template <class Lazy, class T>
std::future<T> call_future(Object& o, const char* method, const char* label, const std::string& params_json,
                           T (*decode)(const Result&, const char*, const char*), const char* wire = nullptr,
                           bool returns_object = false) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> future = promise->get_future();
  o.call_async(method, params_json, [promise, decode, label, wire, returns_object](const Result& r) {
    if (!r.ok() && returns_object && not_found(r.error())) {
      if constexpr (!std::is_void<T>::value) promise->set_value(T());
      return;
    }
    if (!r.ok()) {
      promise->set_exception(std::make_exception_ptr(r.error()));
      return;
    }
    try {
      if constexpr (std::is_void<T>::value) {
        decode(r, label, wire);
        promise->set_value();
      } else {
        promise->set_value(decode(r, label, wire));
      }
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  return future;
}

}  // namespace detail

/** The JSON of @p v: any generated type (struct, enum, result), or a vector or optional of one. */
template <class T>
json::value to_json(const T& v) {
  return detail::encode(v);
}
/** @p v as the type T; throws json::error naming the member that does not fit. */
template <class T>
T from_json(const json::value& v) {
  T out{};
  detail::read(v, out);
  return out;
}

/** One entry of the manifest of generated methods (qix::api::methods). */
struct MethodInfo {
  const char* cls;   ///< the class, e.g. "Doc"
  const char* name;  ///< the method as the engine names it, e.g. "GetTablesAndKeys"
};

}  // namespace api
}  // namespace qix

#endif /* QIX_API_BASE_HPP */
