/*
 * The C# binding's SWIG interface: the generated layer under the hand-written Qix namespace.
 *
 * Everything SWIG generates here is internal to Qix.dll (namespace Qix.Interop, classes prefixed Native*):
 * users see only the idiomatic classes in bindings/csharp/Qix (Session, QixObject, QixException ...),
 * written by hand on top. This file holds the C#-specific policy; the shared policy (what is wrapped,
 * directors, ignored raw handles) is ../swig/qix_common.i, included last.
 *
 * Calls. A director object per call would leave the lifetime of each of those objects (and the delegates
 * SWIG marshals for it) to the garbage collector while native code may still call it. Instead, every call
 * carries an integer token as the C API's payload, and every completion reports to ONE process-wide
 * callback that the managed side keeps in a static field (see "Call completions" below): no per-call object
 * can ever be collected too early, and a call costs no director set-up and no native allocation. Object and
 * session listeners are ordinary directors, kept referenced by their owners;
 * the traffic log (qixcs::TrafficSink) is a director kept for the life of the process, since a session
 * may log frames until its very end.
 *
 * Exceptions. %exception turns qix::Error into Qix.QixException (status, engine code, LOCERR name,
 * parameter, message) through a callback registered by the managed side (SWIG's pending-exception
 * mechanism); any other C++ exception becomes a System.ApplicationException. Exceptions never cross the
 * other way: the managed director overrides catch everything (a C# exception escaping into native code
 * would end the process).
 */
%module(directors="1") QixNative

%{
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
%}

/* ---- Naming: by rule, not by list ------------------------------------------------------------- */
/* Classes of the facade become Native*: Qix.Interop.NativeSession is the generated proxy, Qix.Session the
   public class. Enums: qix_status -> NativeQixStatus (internal; the public enums in Enums.cs take their values
   from these, so the compiler ties them to qix.h). Methods: call_async -> CallAsync. */
%rename("Native%s", %$isclass) "";
%rename("Native%(camelcase)s", %$isenum) "";
%rename("%(camelcase)s", %$isfunction, %$ismember) "";

/* The generated layer is internal: only the hand-written classes are the assembly's API. Classes are
   partial so that hand-written code can extend them (Interop/*.cs). */
%typemap(csclassmodifiers) SWIGTYPE "internal partial class"
%typemap(csclassmodifiers) enum SWIGTYPE "internal enum"
%pragma(csharp) moduleclassmodifiers="internal partial class"

/* ---- Exceptions ------------------------------------------------------------------------------- */
%insert(runtime) %{
#include "qix/qix.hpp"
typedef void (SWIGSTDCALL* QixCsErrorCallback)(int status, int engine_code, const char* name,
                                               const char* parameter, const char* message, int retriable);
static QixCsErrorCallback qixcs_error_callback = 0;
extern "C" SWIGEXPORT void SWIGSTDCALL QixCs_RegisterErrorCallback(QixCsErrorCallback cb) {
  qixcs_error_callback = cb;
}
static void qixcs_set_pending_error(const qix::Error& e) {
  if (qixcs_error_callback) {
    qixcs_error_callback(e.status(), e.engine_code(), e.name().c_str(), e.parameter().c_str(), e.what(),
                         e.retriable() ? 1 : 0);
  } else {
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, e.what());
  }
}
%}

%pragma(csharp) imclasscode=%{
  /// <summary>Registers the callback that turns a qix::Error caught in a wrapper into a pending
  /// Qix.QixException (thrown by the wrapper's caller as soon as the native call returns).</summary>
  internal sealed class QixErrorHelper {
    internal delegate void ErrorDelegate(int status, int engineCode, string name, string parameter,
                                         string message, int retriable);
    // Rooted in a static field: native code holds its function pointer for the life of the process.
    private static readonly ErrorDelegate s_delegate = SetPending;

    [global::System.Runtime.InteropServices.DllImport("$dllimport", EntryPoint="QixCs_RegisterErrorCallback")]
    private static extern void QixCs_RegisterErrorCallback(ErrorDelegate cb);

    private static void SetPending(int status, int engineCode, string name, string parameter, string message,
                                   int retriable) {
      SWIGPendingException.Set(new global::Qix.QixException((global::Qix.QixStatus)status, engineCode, name,
                                                             parameter, message, retriable != 0));
    }

    static QixErrorHelper() {
      QixCs_RegisterErrorCallback(s_delegate);
    }
    internal static void Touch() {}
  }
  private static readonly QixErrorHelper s_errorHelper = new QixErrorHelper();
%}

%exception {
  try {
    $action
  } catch (const qix::Error& e) {
    qixcs_set_pending_error(e);
    return $null;
  } catch (const std::exception& e) {
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, e.what());
    return $null;
  } catch (...) {
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, "unknown C++ exception");
    return $null;
  }
}

/* Raw C handles never reach C#: the constructors that adopt them stay unwrapped. */
%ignore qix::Result::Result(const qix_result*);
%ignore qix::Error::Error(int, const qix_error*);
/* std::runtime_error (qix::Error's base) is not wrapped: the managed side sees Qix.QixException instead. */
%warnfilter(401) qix::Error;

/* The facade's listener-taking call_async overloads are replaced by the token calls above. */
%ignore qix::Session::call_async;
%ignore qix::Object::call_async;
/* The facade's watch takes a listener it does not own: the watch is reached through qixcs::object_watch
   below instead. Not offered to .NET: the poll API (events already arrive on the thread pool). */
%ignore qix::Object::watch;
%ignore qix::Object::unwatch;
%ignore qix::Session::poll;
%ignore qix::Session::wake;

#define QIX_SWIG_DIRECTORS
%include "../swig/qix_common.i"

/* ---- Call completions (after the facade, so that SWIG knows qix::Result) ---------------------- */
/* A call is issued straight through the C API (qix_object_call) with the token as its payload (shifted left
   two bits: bit 0 says whether the caller wants the object of the result, bit 1 that it reads only the whole
   result, as the typed API does, so that the unwrapped text is neither made nor passed): nothing is
   allocated per call on the native side. Its completion reaches ONE process-wide callback the managed side registers
   (QixCs_RegisterCallCallback, a delegate rooted in a static field), with the status, the request id and
   both JSON texts as UTF-8 (pointer and length, borrowed for the duration of the callback; the unwrapped one
   pointed into the whole when it is a part of it, or null with length -1 when only the whole was asked
   for): a successful
   call costs one transition into .NET and no P/Invoke back. Only a failed call, or one whose object is
   wanted, also gets the facade's qix::Result (borrowed, for the error and the object) as a NativeResult. */
%{
#include <cstring>
#include <string_view>
namespace qixcs {
typedef void(SWIGSTDCALL* CallCallback)(int64_t token, int status, int64_t id, const char* raw, int raw_len,
                                        const char* json, int json_len, const qix::Result* slow);
static std::atomic<CallCallback> g_call_callback{nullptr};

// Where the unwrapped text @p json sits in the whole result @p raw (the same bytes: qReturn or the only out
// value, as received), so that the managed side copies the answer once; else @p json itself.
static const char* json_in_raw(const char* raw, size_t raw_len, const char* json, size_t json_len) {
  if (json_len == 0 || json_len > raw_len) return json;
  if (json_len == raw_len) return std::memcmp(raw, json, raw_len) == 0 ? raw : json;
  // Most often the value of the last (or only) member: {"qReturn":VALUE} ends with VALUE and '}'.
  const char* last = raw + raw_len - 1 - json_len;
  if (json_len < raw_len && std::memcmp(last, json, json_len) == 0) return last;
  const size_t at = std::string_view(raw, raw_len).find(std::string_view(json, json_len));
  return at == std::string_view::npos ? json : raw + at;
}

static void call_completed(const qix_result* res, void* payload) {
  try {
    const auto bits = static_cast<int64_t>(reinterpret_cast<intptr_t>(payload));
    const int64_t token = bits >> 2;
    const bool want_object = (bits & 1) != 0;
    const bool raw_only = (bits & 2) != 0;
    CallCallback cb = g_call_callback.load();
    if (!cb) return;
    const int status = qix_result_status(res);
    if (status == QIX_OK && !want_object) {
      const char* raw = qix_result_raw(res);
      const size_t raw_len = std::strlen(raw);
      if (raw_only) {  // no qix_result_json: its one-time copy (std::call_once, a string) is not wanted
        cb(token, status, qix_result_id(res), raw, static_cast<int>(raw_len), nullptr, -1, nullptr);
        return;
      }
      const char* json = qix_result_json(res);
      const size_t json_len = std::strlen(json);
      cb(token, status, qix_result_id(res), raw, static_cast<int>(raw_len),
         json_in_raw(raw, raw_len, json, json_len), static_cast<int>(json_len), nullptr);
      return;
    }
    const qix::Result r(res);  // the facade's copy: the error, the object
    const std::string& raw = r.raw();
    const std::string& json = r.json();
    cb(token, r.status(), r.id(), raw.data(), static_cast<int>(raw.size()),
       json_in_raw(raw.data(), raw.size(), json.data(), json.size()), static_cast<int>(json.size()), &r);
  } catch (...) {
    // Nothing may escape into libqix's thread (the managed callback catches everything itself).
  }
}
}  // namespace qixcs

/* qix_batch_begin/qix_batch_end for the managed side (Calls.Flush sends the calls continuations issued on a
   drainer inside one batch: one write for all of them). */
extern "C" SWIGEXPORT void SWIGSTDCALL QixCs_BatchBegin() { qix_batch_begin(); }
extern "C" SWIGEXPORT void SWIGSTDCALL QixCs_BatchEnd() { qix_batch_end(); }

extern "C" SWIGEXPORT void SWIGSTDCALL QixCs_RegisterCallCallback(qixcs::CallCallback cb) {
  qixcs::g_call_callback.store(cb);
}
%}

%inline %{
namespace qixcs {
/** qix_object_call with a token (> 0) reported to the registered call callback, which runs exactly once when
    this returns (also for QIX_ECLOSED). Returns the request id. Throws qix::Error like the facade. */
int64_t object_call(qix::Object& object, const std::string& method, const std::string& params_json, int flags,
                    int timeout_ms, int64_t token, bool want_object);
}  // namespace qixcs
%}

%{
namespace qixcs {
int64_t object_call(qix::Object& object, const std::string& method, const std::string& params_json, int flags,
                    int timeout_ms, int64_t token, bool want_object) {
  int64_t id = 0;
  void* payload = reinterpret_cast<void*>(static_cast<intptr_t>((token << 2) | (want_object ? 1 : 0)));
  const int rc = qix_object_call(&id, object.c_handle(), method.c_str(), params_json.c_str(), flags, timeout_ms,
                                 &call_completed, payload);
  if (rc < 0 && rc != QIX_ECLOSED) qix::detail::check(rc);
  return id;
}
}  // namespace qixcs

/* The managed side's direct path for the same call (Interop/QixNative.cs): the object as its proxy's pointer
   (a qix::Object*, kept alive by the caller's lease) and method and params as NUL-terminated UTF-8 the
   caller encoded (on its stack when small): no string marshalling, no std::string. @p mode: bit 0 the object
   of the result is wanted, bit 1 only the whole result is read (see call_completed). An error becomes the
   pending exception, as in the wrappers; the result is then 0. */
extern "C" SWIGEXPORT int64_t SWIGSTDCALL QixCs_ObjectCall(void* object, const char* method,
                                                           const char* params_json, int flags, int timeout_ms,
                                                           int64_t token, int mode) {
  try {
    int64_t id = 0;
    void* payload = reinterpret_cast<void*>(static_cast<intptr_t>((token << 2) | (mode & 3)));
    const int rc = qix_object_call(&id, static_cast<qix::Object*>(object)->c_handle(), method, params_json, flags,
                                   timeout_ms, &qixcs::call_completed, payload);
    if (rc < 0 && rc != QIX_ECLOSED) qix::detail::check(rc);
    return id;
  } catch (const qix::Error& e) {
    qixcs_set_pending_error(e);
  } catch (const std::exception& e) {
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, e.what());
  } catch (...) {
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, "unknown C++ exception");
  }
  return 0;
}
%}


/* ---- Traffic log: a director per SessionOptions.SetTrafficLog, kept for the life of the process ---------- */
%feature("director") qixcs::TrafficSink;

%inline %{
namespace qixcs {
/** Receives every frame of the sessions opened with the options it was set on. Runs on a libqix thread. */
class TrafficSink {
 public:
  virtual ~TrafficSink() {}
  virtual void on_frame(bool sent, const std::string& frame) = 0;
};

/** Sets (or, with NULL, removes) the traffic log of @p options. Throws qix::Error. */
void set_traffic_sink(qix::Options& options, TrafficSink* sink);
}  // namespace qixcs
%}

%{
namespace qixcs {
static void traffic_trampoline(int sent, const char* frame, size_t len, void* payload) {
  try {
    static_cast<TrafficSink*>(payload)->on_frame(sent != 0, std::string(frame, len));
  } catch (...) {
  }
}
void set_traffic_sink(qix::Options& options, TrafficSink* sink) {
  // The options' C handle is reached here, in the shim, and never crosses into C#.
  auto* opts = const_cast<qix_options*>(options.handle());
  int rc = qix_options_set_traffic_cb(opts, sink ? &traffic_trampoline : nullptr, sink);
  if (rc < 0) throw qix::Error(rc, qix_error_last());
}
}  // namespace qixcs
%}

/* ---- Bulk extraction and watch: the C API's callbacks, tagged with a token ----------------------------
   qix_object_extract() and qix_object_watch() are called here, in the shim, with the token itself as the
   payload (no native object to own or free); their callbacks report to one process-wide director each
   (kept by the managed side in a static field), which finds the managed extraction or watch by its token.
   A callback whose token is no longer known (a watch stopped, a late layout) is dropped there. */
%feature("director") qixcs::ExtractSink;
%feature("director") qixcs::WatchSink;

%inline %{
namespace qixcs {
/** Receives the rows and the end of every extraction of the process. Runs on the session's event thread. */
class ExtractSink {
 public:
  virtual ~ExtractSink() {}
  /** One row: the JSON array of its cells. Returns 0 to go on, non-zero to stop (may block: back-pressure). */
  virtual int on_row(int64_t token, const std::string& row_json, int64_t row_index) = 0;
  /** The extraction ended: @p error is null when every row was delivered. Runs once per started extraction. */
  virtual void on_done(int64_t token, const qix::Error* error, int64_t rows) = 0;
};

/** Receives every watch's fresh layouts (or a fetch's error), on the session's event thread. */
class WatchSink {
 public:
  virtual ~WatchSink() {}
  virtual void on_layout(int64_t token, const qix::Result& result) = 0;
};

/** Installs the process-wide sinks (kept alive by the managed side for the life of the process). */
void set_extract_sink(ExtractSink* sink);
void set_watch_sink(WatchSink* sink);
/** qix_object_extract() reporting to the extract sink with @p token. Throws qix::Error when not started. */
void object_extract(qix::Object& object, const std::string& path, int page_height, int window, int64_t token);
/** qix_object_watch() reporting to the watch sink with @p token. Throws qix::Error. */
void object_watch(qix::Object& object, int64_t token);
/** qix_object_unwatch(). Throws qix::Error. */
void object_unwatch(qix::Object& object);
}  // namespace qixcs
%}

%{
namespace qixcs {
static std::atomic<ExtractSink*> g_extract_sink{nullptr};
static std::atomic<WatchSink*> g_watch_sink{nullptr};

static int64_t token_of(void* payload) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(payload)); }
static void* payload_of(int64_t token) { return reinterpret_cast<void*>(static_cast<intptr_t>(token)); }

static int extract_row_trampoline(const char* row, size_t len, int64_t index, void* payload) {
  try {
    ExtractSink* sink = g_extract_sink.load();
    return sink ? sink->on_row(token_of(payload), std::string(row, len), index) : 1;
  } catch (...) {
    return 1;  // stops the extraction (QIX_ECANCELLED)
  }
}
static void extract_done_trampoline(int status, const qix_error* err, int64_t rows, void* payload) {
  try {
    ExtractSink* sink = g_extract_sink.load();
    if (!sink) return;
    if (status == QIX_OK) {
      sink->on_done(token_of(payload), nullptr, rows);
    } else {
      qix::Error error(status, err);
      sink->on_done(token_of(payload), &error, rows);
    }
  } catch (...) {
  }
}
static void watch_trampoline(const qix_result* res, void* payload) {
  try {
    if (WatchSink* sink = g_watch_sink.load()) sink->on_layout(token_of(payload), qix::Result(res));
  } catch (...) {
  }
}

void set_extract_sink(ExtractSink* sink) { g_extract_sink.store(sink); }
void set_watch_sink(WatchSink* sink) { g_watch_sink.store(sink); }
void object_extract(qix::Object& object, const std::string& path, int page_height, int window, int64_t token) {
  int rc = qix_object_extract(object.c_handle(), path.c_str(), page_height, window, &extract_row_trampoline,
                              &extract_done_trampoline, payload_of(token));
  if (rc < 0) throw qix::Error(rc, qix_error_last());
}
void object_watch(qix::Object& object, int64_t token) {
  int rc = qix_object_watch(object.c_handle(), &watch_trampoline, payload_of(token));
  if (rc < 0) throw qix::Error(rc, qix_error_last());
}
void object_unwatch(qix::Object& object) {
  int rc = qix_object_unwatch(object.c_handle());
  if (rc < 0) throw qix::Error(rc, qix_error_last());
}
}  // namespace qixcs
%}
