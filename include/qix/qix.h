/**
 * @file qix/qix.h
 * @brief libqix: the stable C ABI of the Qlik QIX Engine client (JSON-RPC 2.0 over WebSocket).
 *
 * This is the only header a C program, a BI tool or a language binding needs. Everything here is
 * part of the ABI of libqix.so.1; it only grows (new functions, new option names, new status codes).
 *
 * @section model Model
 * - A ::qix_context owns the threads (I/O threads and a dispatcher pool). Many sessions share one.
 *   qix_context_default() is a process-wide one, created on first use.
 * - A ::qix_options holds every connection and session setting, set by name with typed setters.
 * - A ::qix_session is one WebSocket to one engine app. Calls are JSON-RPC requests given as a method
 *   name and params as JSON text; results come back as JSON text.
 * - A ::qix_object is a handle to one engine object (Global, Doc, GenericObject ...).
 *
 * @section errors Errors
 * Every function that can fail returns an `int`: #QIX_OK (0) or a negative `QIX_E*` status. Details of
 * the last failure on the calling thread are in qix_error_last(). Asynchronous results carry their own
 * ::qix_error (qix_result_error()).
 *
 * @section ownership Ownership
 * - `T **out` parameters give the caller a new reference it must release with the matching
 *   `qix_*_free()` / `qix_session_free()`; `char **out` strings are released with qix_free().
 *   On failure `*out` is set to NULL. Ownership of arguments never depends on success or failure.
 * - `const char *` return values are borrowed: each function says until when they stay valid.
 * - Every free/close function accepts NULL and does nothing.
 * - After qix_session_close() (or the connection ending) the session and its objects are zombies:
 *   their calls fail with #QIX_ECLOSED; nothing crashes or blocks.
 *
 * @section threads Threads
 * - libqix starts the threads of each context: `io_threads` I/O threads (sockets, frame decoding,
 *   timers; default 1) and `dispatcher_threads` dispatcher threads (user callbacks; default 2). On Linux
 *   they are named `qix-io` and `qix-ev` (as top -H, perf and gdb show them).
 * - Callbacks of one session (call completions, listeners, watch, extract rows) run one at a time, in
 *   the order their frames arrived: by default (option `events.inline`, on) on the I/O thread that read
 *   their answers, once it has handled the read, whenever none of the session's callbacks is queued or
 *   running, else on a dispatcher thread (no hand-off between threads per read: what a window-1 caller
 *   waits for); with `events.inline` off, always on a dispatcher thread; with `events.poll` on, on the
 *   thread that calls qix_session_poll().
 * - A callback must not block for long (it delays that session's later events, and on the I/O thread
 *   the reading of every socket of the context until the watch relieves it: a callback found in the same
 *   run of callbacks 10 to 20 ms apart has a dispatcher thread take over the I/O thread's sockets and
 *   timers until it returns). A blocking call (qix_session_call_sync(), qix_object_call_sync(),
 *   qix_session_open_sync(), qix_session_wait_closed()) made from inside a callback returns #QIX_EBUSY
 *   instead of deadlocking, unless the callback first called qix_session_hand_over_events(). A callback
 *   must not free the ::qix_context its session runs on.
 * - Every function is thread-safe unless said otherwise.
 *
 * @section exceptions Exceptions
 * No C++ exception ever leaves a libqix function: each has a catch-all barrier that turns an exception
 * into #QIX_ENOMEM or #QIX_EINTERNAL.
 */
#ifndef QIX_QIX_H
#define QIX_QIX_H

#include <stddef.h>
#include <stdint.h>

#include "qix/version.h"

#if defined(_WIN32)
#if defined(QIX_BUILDING_LIBRARY)
#define QIX_API __declspec(dllexport)
#else
#define QIX_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
/** Marks an exported function of libqix. */
#define QIX_API __attribute__((visibility("default")))
#else
#define QIX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------ */
/** @name Status codes and errors */
/**@{*/

/**
 * Status codes returned by libqix functions. Append-only: values are never renumbered or reused.
 */
typedef enum qix_status {
  QIX_OK = 0,           /**< Success. */
  QIX_EINVAL = -1,      /**< A NULL or invalid argument (also a malformed params JSON). */
  QIX_ECLOSED = -2,     /**< The session or object is closed; nothing was sent. */
  QIX_EENGINE = -3,     /**< The engine answered with an error (see qix_error_engine_code()). */
  QIX_ETIMEOUT = -4,    /**< A call or connect timeout expired. */
  QIX_ECANCELLED = -5,  /**< The call was cancelled by the caller. */
  QIX_ECONNECTION = -6, /**< The connection was lost before the answer arrived. */
  QIX_ENOTFOUND = -7,   /**< No such thing (object does not exist, no layout yet, unknown call id). */
  QIX_EPROTOCOL = -8,   /**< The peer broke the protocol. */
  QIX_ETOOLARGE = -9,   /**< A message exceeded the maximum message size. */
  QIX_EHTTP = -10,      /**< The WebSocket upgrade got an HTTP error status (see qix_error_engine_code()). */
  QIX_ETLS = -11,       /**< TLS handshake or certificate verification failed. */
  QIX_ENETWORK = -12,   /**< Name resolution, TCP connect or I/O failed. */
  QIX_EBUSY = -13,      /**< Not possible from here (a blocking call inside a callback). */
  QIX_ENOMEM = -14,     /**< Out of memory. */
  QIX_EINTERNAL = -15   /**< A bug in libqix; please report it. */
} qix_status;

/** Details of a failure. Opaque; read with the `qix_error_*` getters. */
typedef struct qix_error qix_error;

/**
 * The details of the last failure of a libqix function on the calling thread.
 * @return A borrowed pointer, valid until the next libqix call on this thread; NULL when no function
 *         failed on this thread yet (or after qix_error_clear()).
 */
QIX_API const qix_error* qix_error_last(void);

/** Forgets the calling thread's last error: qix_error_last() returns NULL afterwards. */
QIX_API void qix_error_clear(void);

/** The status code (a negative `QIX_E*`) of @p err; #QIX_EINVAL when @p err is NULL. */
QIX_API int qix_error_code(const qix_error* err);

/** Engine errors: the engine's code (e.g. 1007). HTTP errors: the HTTP status. Otherwise 0. */
QIX_API int qix_error_engine_code(const qix_error* err);

/** Engine errors: the LOCERR name (e.g. "LOCERR_APP_INVALID"), else "". Borrowed, lives as long as @p err. */
QIX_API const char* qix_error_name(const qix_error* err);

/** Engine errors: the engine's `parameter`, else "". Borrowed, lives as long as @p err. */
QIX_API const char* qix_error_parameter(const qix_error* err);

/** A human-readable message (UTF-8; never "" for an error). Borrowed, lives as long as @p err. */
QIX_API const char* qix_error_message(const qix_error* err);

/** 1 when retrying the same request may succeed (engine code 15, timeouts, lost connections), else 0. */
QIX_API int qix_error_is_retriable(const qix_error* err);

/**
 * Copies @p err so it outlives its source.
 * @param out receives the copy, to release with qix_error_free().
 * @return #QIX_OK, #QIX_EINVAL, #QIX_ENOMEM.
 */
QIX_API int qix_error_dup(qix_error** out, const qix_error* err);

/** Releases an error obtained from qix_error_dup(). Accepts NULL. */
QIX_API void qix_error_free(qix_error* err);

/** A static, English description of a status code ("engine error", ...). Never NULL. */
QIX_API const char* qix_strerror(int status);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Library */
/**@{*/

/** The version of the library at run time, e.g. "1.0.0". A static string. */
QIX_API const char* qix_version(void);

/** Releases memory that libqix returned through a `char **out` parameter. Accepts NULL. */
QIX_API void qix_free(void* ptr);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Contexts */
/**@{*/

/** A group of threads shared by sessions. Opaque. */
typedef struct qix_context qix_context;

/**
 * Creates a context and starts its threads.
 * @param out receives the context; release with qix_context_free().
 * @param io_threads I/O threads (>= 1; 0 means the default, 1).
 * @param dispatcher_threads callback threads (>= 1; 0 means the default, 2).
 * @return #QIX_OK, #QIX_EINVAL (NULL @p out, negative counts), #QIX_ENOMEM.
 */
QIX_API int qix_context_new(qix_context** out, int io_threads, int dispatcher_threads);

/** The body of a thread that libqix asks its host to start (::qix_thread_start_fn). */
typedef void (*qix_thread_body)(void* arg);

/**
 * Starts a thread for libqix (qix_context_new_hosted()): runs @p body(@p arg) once, on a new thread of the
 * host's, and returns without waiting for it; the thread may end when @p body returns. Returns 0 when the
 * thread was started, nonzero when none can be (libqix then never calls @p body, and frees @p arg itself).
 * Called from the thread creating the context, or from one of the context's own threads when its pool grows
 * (a hand-over); libqix may hold internal locks meanwhile, so it must not call libqix.
 */
typedef int (*qix_thread_start_fn)(qix_thread_body body, void* arg, void* user);

/**
 * qix_context_new() with every thread of the context (its I/O threads, its dispatcher threads, and those a
 * hand-over adds) started through @p start instead of by libqix, so that the sessions' callbacks run on
 * threads the host made: for hosts that call back into a runtime more cheaply from their own threads (Go
 * code called from a thread Go did not start costs about a hundred times more than from one it did) or
 * that set up their threads themselves (names, priorities, affinity). qix_context_free() and the end of
 * the last session wait until every body has returned, as for libqix's own threads.
 * @param start starts one thread (see ::qix_thread_start_fn); @p user is passed to it.
 * @return #QIX_OK; #QIX_EINVAL (NULL @p out or @p start, negative counts); #QIX_ENOMEM (@p start failed:
 *         the threads it had started have returned from their bodies, and nothing is left).
 */
QIX_API int qix_context_new_hosted(qix_context** out, int io_threads, int dispatcher_threads,
                                   qix_thread_start_fn start, void* user);

/**
 * The process-wide default context (1 I/O thread, 2 dispatcher threads), created on first use.
 * Borrowed: never free it. Returns NULL only when it cannot be created.
 */
QIX_API qix_context* qix_context_default(void);

/**
 * Sets how long the context's I/O thread may poll its sockets before it sleeps, in microseconds (0 to
 * 1000000; 0: never polls). It polls only while its recent waits for the network were shorter than that (a
 * call at a time to a nearby engine): an answer that lands meanwhile is read without the thread being woken,
 * which shortens each round trip; after longer waits (an idle session, a distant server) it sleeps at once.
 * The default is 50, or the environment variable QIX_IO_SPIN_US (read when a context is created). A context
 * with more than one I/O thread never polls. Any thread; takes effect at the I/O thread's next wait.
 * @param ctx the context (NULL = qix_context_default()).
 * @return #QIX_OK, #QIX_EINVAL (out of range), #QIX_ENOMEM (no default context).
 */
QIX_API int qix_context_set_io_spin(qix_context* ctx, int microseconds);

/**
 * Releases the caller's reference. Sessions opened on the context keep its threads alive until they
 * are freed. Must not be called from a callback. Accepts NULL and the default context (ignored).
 */
QIX_API void qix_context_free(qix_context* ctx);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Options */
/**@{*/

/**
 * Settings of a session, set by name. Opaque; not thread-safe (fill it on one thread, then pass it to
 * qix_session_open(), which copies it). Every option, with its type, accepted values, default and what it
 * does, is listed at run time by qix_options_count() and qix_options_info(), and in docs/defaults.md
 * (generated from the same table):
 *
 * Strings (qix_options_set_str): `url` (a complete ws:// or wss:// URL; wins over the url.* parts),
 * `url.host`, `url.prefix`, `url.subpath`, `url.route`, `url.app_id`, `url.identity`, `origin`,
 * `user_agent`, `tls.ca_file`, `tls.ca_dir`, `tls.cert_file`, `tls.key_file`, `tls.server_name`,
 * `reconnect` ("none", "attach" or "resume"; see below).
 *
 * Integers (qix_options_set_int): `url.port`, `url.ttl`, `timeout.connect_ms`, `timeout.handshake_ms`,
 * `timeout.protocol_ms` (0 = no bound), `timeout.call_ms` (0 = none), `keepalive_ms` (0 = off),
 * `max_message_size` (bytes), `notification_history`, `watch.min_interval_ms` (0 = no throttle; see
 * qix_object_watch()), `reconnect.max_attempts` (5), `reconnect.initial_delay_ms` (200),
 * `reconnect.max_delay_ms` (5000), `reconnect.greeting_wait_ms` (1000), `retry.aborted` (0).
 *
 * Booleans (qix_options_set_bool): `url.secure`, `tls.verify`, `delta`, `events.poll`, `events.inline`
 * (1; 0 with `events.poll` unless set; both set: opening fails with #QIX_EINVAL; see Threads above),
 * `reconnect.queue_calls` (1), `reconnect.resend` (0).
 *
 * Reconnect. With `reconnect` "none" (the default) a dropped connection closes the session. With
 * "attach" or "resume" a drop suspends it (#QIX_STATE_SUSPENDED) and new connections are tried with
 * exponential back-off (`reconnect.initial_delay_ms` doubling up to `reconnect.max_delay_ms`, ±20 %,
 * at most `reconnect.max_attempts`). On a new connection the doc is taken back with GetActiveDoc (else
 * opened again with the original OpenDoc arguments) and every open object is re-acquired by its id, or,
 * for session objects the engine did not keep, re-created from their last known properties; then the
 * state is #QIX_STATE_RESUMED. "attach" resumes only when the engine kept the old session (OnConnected
 * says SESSION_ATTACHED, e.g. within the `url.ttl` the proxy keeps it); otherwise it closes. Existing
 * ::qix_object handles keep working: qix_object_handle() returns the new engine handle, and each restored
 * object's "changed" listeners run once so data is fetched again; objects that cannot be restored are
 * closed (their "closed" listeners run). The close code decides: 1000 and 4000 never resume; 4001,
 * 4002, 4005, 4006, 1009 and fatal proxy notifications (but OnEngineWebsocketFailed and
 * OnNoEngineAvailable) close with a reason containing "not resumed:";
 * 4003, 4007, 1001, 1006 and 1011-1014 resume; 4004 tries once. Calls made while suspended wait and are
 * sent after the resume (`reconnect.queue_calls` 1, bounded by their timeout and the attempt limit) or
 * fail at once with #QIX_ECONNECTION (0). Calls in flight when the connection dropped fail once with
 * #QIX_ECONNECTION, or with `reconnect.resend` 1 are sent again after the resume (they may then run
 * twice on the engine). When the session gives up, the #QIX_STATE_CLOSED reason says why and after how
 * many attempts.
 *
 * `retry.aborted` N: a call the engine aborts with error 15 (LOCERR_GENERIC_ABORTED, usually because a
 * selection was made meanwhile) is sent again, same request id, up to N times; cancelled calls never are.
 */
typedef struct qix_options qix_options;

/** Creates an options object with every default. @return #QIX_OK, #QIX_EINVAL, #QIX_ENOMEM. */
QIX_API int qix_options_new(qix_options** out);

/** Releases an options object. Accepts NULL. */
QIX_API void qix_options_free(qix_options* opts);

/**
 * Sets a string option.
 * @return #QIX_OK; #QIX_EINVAL for a NULL argument, an unknown name, a name of another type, or an
 *         unsupported value (e.g. `reconnect` other than "none", "attach" or "resume").
 */
QIX_API int qix_options_set_str(qix_options* opts, const char* name, const char* value);

/** Sets an integer option. @return #QIX_OK, #QIX_EINVAL (NULL, unknown name, wrong type, out of range). */
QIX_API int qix_options_set_int(qix_options* opts, const char* name, int64_t value);

/** Sets a boolean option (0 = false, anything else = true). @return #QIX_OK, #QIX_EINVAL. */
QIX_API int qix_options_set_bool(qix_options* opts, const char* name, int value);

/**
 * Adds a header to the WebSocket upgrade request (e.g. "Authorization", "Bearer ..."). Header values
 * are secrets: never logged, never in error messages, never in the traffic log.
 * @return #QIX_OK, #QIX_EINVAL.
 */
QIX_API int qix_options_add_header(qix_options* opts, const char* name, const char* value);

/** Adds a cookie (all are sent as one Cookie header). @return #QIX_OK, #QIX_EINVAL. */
QIX_API int qix_options_add_cookie(qix_options* opts, const char* name, const char* value);

/** Adds a query parameter to the built URL (when `url` is not set). @return #QIX_OK, #QIX_EINVAL. */
QIX_API int qix_options_add_url_param(qix_options* opts, const char* name, const char* value);

/**
 * The URL the options describe: `url` when set, else the URL built from the `url.*` parts the way
 * enigma.js's buildUrl does.
 * @param out receives the URL, to release with qix_free().
 * @return #QIX_OK, #QIX_EINVAL, #QIX_ENOMEM.
 */
QIX_API int qix_options_get_url(char** out, const qix_options* opts);

/**
 * Traffic log: called with every JSON-RPC frame as sent (@p sent = 1) or received (@p sent = 0).
 * @p frame is the exact wire text (UTF-8, @p len bytes, NUL-terminated), borrowed for the duration of
 * the call. Frames never contain HTTP headers, so no credentials.
 * Runs on the session's event thread (I/O, dispatcher or poll thread: Threads above), in order with the
 * session's other events. qix_session_free() drops callbacks still queued: for a complete log, call
 * qix_session_close() and wait for the #QIX_STATE_CLOSED state event (which runs after every frame's
 * callback) first.
 */
typedef void (*qix_traffic_cb)(int sent, const char* frame, size_t len, void* payload);

/** Sets (or, with a NULL @p cb, removes) the traffic log callback. @return #QIX_OK, #QIX_EINVAL. */
QIX_API int qix_options_set_traffic_cb(qix_options* opts, qix_traffic_cb cb, void* payload);

/** Types of options (qix_option_info::value_type): which setter takes the option. Append-only. */
typedef enum qix_option_type {
  QIX_OPTION_STRING = 0, /**< Set with qix_options_set_str(). */
  QIX_OPTION_INT = 1,    /**< Set with qix_options_set_int(). */
  QIX_OPTION_BOOL = 2    /**< Set with qix_options_set_bool(). */
} qix_option_type;

/**
 * The description of one option, for hosts that list every option (a settings dialog, a configuration
 * file's validator, a binding's documentation). The same table drives the setters' validation and
 * docs/defaults.md, so what it says is what the setters accept.
 *
 * Ownership: static, immutable data owned by libqix, valid for the life of the process; never free or
 * modify it. Only ever read it through the pointer qix_options_info() returns: members may be appended
 * in later 1.x versions (never removed or reordered).
 */
#ifdef SWIG
/* Wrapped read-only, without a constructor or destructor: the data is libqix's. */
%nodefaultctor qix_option_info;
%nodefaultdtor qix_option_info;
%immutable;
#endif
typedef struct qix_option_info {
  const char* name;         /**< The option's name, e.g. "timeout.call_ms". */
  int value_type;           /**< A ::qix_option_type: which setter takes it. */
  int64_t min;              /**< Integers: the smallest accepted value. Booleans 0, strings 0. */
  int64_t max;              /**< Integers: the largest accepted value (INT64_MAX: no upper bound). Booleans 1,
                                 strings 0. */
  const char* values;       /**< Strings that accept a fixed set of values: the values, separated by '|'
                                 (e.g. "none|attach|resume"); "" for free text and other types. */
  const char* default_text; /**< The default, as text: a decimal integer ("30000"), "true" or "false", or the
                                 string itself ("" when empty). Read from a fresh ::qix_options. */
  const char* doc;          /**< What it does, in one line of English (UTF-8). */
} qix_option_info;
#ifdef SWIG
%mutable;
#endif

/** The number of options qix_options_info() describes. Never fails; thread-safe. */
QIX_API int qix_options_count(void);

/**
 * The description of option @p index, 0 <= @p index < qix_options_count(). The order is that of
 * docs/defaults.md (grouped by topic) and may change between versions: identify options by name.
 * Thread-safe; needs no context or options object.
 * @return a borrowed pointer to static data (see ::qix_option_info), the same for every call; NULL for an
 *         index out of range (qix_error_last() then says #QIX_EINVAL), or when the table cannot be built on
 *         the first call because memory is exhausted (#QIX_ENOMEM).
 */
QIX_API const qix_option_info* qix_options_info(int index);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Results */
/**@{*/

/** The outcome of one call. Opaque. */
typedef struct qix_result qix_result;

/** Handle of one engine object. Opaque. */
typedef struct qix_object qix_object;

/** The status of the call: #QIX_OK or a negative `QIX_E*`. #QIX_EINVAL for NULL. */
QIX_API int qix_result_status(const qix_result* res);

/** The error of a failed call, NULL on success. Borrowed, lives as long as @p res. */
QIX_API const qix_error* qix_result_error(const qix_result* res);

/** The request id of the call (> 0), or 0 for NULL. */
QIX_API int64_t qix_result_id(const qix_result* res);

/**
 * The result as JSON text with out parameters unwrapped as enigma.js does: `qReturn` when present,
 * else the single out value (e.g. the `qLayout` of GetLayout), else the whole result object. "null" on
 * failure. Borrowed (UTF-8, NUL-terminated), lives as long as @p res.
 */
QIX_API const char* qix_result_json(const qix_result* res);

/** The engine's whole `result` object as JSON text (delta patches already applied); "null" on failure.
 *  Borrowed, lives as long as @p res. */
QIX_API const char* qix_result_raw(const qix_result* res);

/**
 * The object the result refers to (the `qReturn` of OpenDoc, GetObject, CreateSessionObject ...).
 * @param out receives a new handle, to release with qix_object_free().
 * @return #QIX_OK; #QIX_ENOTFOUND when the result refers to no object; #QIX_EINVAL.
 */
QIX_API int qix_result_object(qix_object** out, const qix_result* res);

/**
 * Whether the result refers to an object (whether qix_result_object() would give one), without a handle and
 * without touching the thread's last error: the check to make on every answer, where most refer to none.
 * Thread-safe like the other qix_result_* readers; never fails.
 * @return 1 when it does; 0 when it does not, or when @p res is NULL.
 */
QIX_API int qix_result_has_object(const qix_result* res);

/** Releases a result obtained from a blocking call. Accepts NULL. Never free a result passed to a callback.
 */
QIX_API void qix_result_free(qix_result* res);

/**
 * Completion of an asynchronous call: runs once per call, on the session's event thread.
 * @p res is borrowed for the duration of the callback.
 */
typedef void (*qix_call_cb)(const qix_result* res, void* payload);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Sessions */
/**@{*/

/** One WebSocket connection to one engine app. Opaque. */
typedef struct qix_session qix_session;

/** Session states (qix_session_state(), ::qix_state_cb). Append-only. */
typedef enum qix_state {
  QIX_STATE_CONNECTING = 0, /**< Opening. */
  QIX_STATE_CONNECTED = 1,  /**< Open: calls can be made. */
  QIX_STATE_CLOSED = 2,     /**< Closed (by the client, the engine or a failure); final. */
  QIX_STATE_SUSPENDED = 3,  /**< The connection dropped and a resume is being tried (`reconnect`). */
  QIX_STATE_RESUMED = 4     /**< The session was restored on a new connection; qix_session_state() then
                                 returns #QIX_STATE_CONNECTED. Only passed to ::qix_state_cb. */
} qix_state;

/**
 * Completion of qix_session_open(): @p status is #QIX_OK once connected, else the failure with @p err
 * (borrowed for the call). Runs on the session's event thread.
 */
typedef void (*qix_open_cb)(qix_session* session, int status, const qix_error* err, void* payload);

/**
 * Starts opening a session. Returns at once; @p cb (may be NULL) runs when connected or failed.
 * @param out receives the session, whatever the outcome of the connection; release with qix_session_free().
 * @param ctx the context (NULL = qix_context_default()).
 * @param opts the settings, copied (NULL = all defaults, which connect nowhere useful).
 * @return #QIX_OK; #QIX_EINVAL (NULL @p out, inconsistent options); #QIX_ENOMEM.
 */
QIX_API int qix_session_open(qix_session** out, qix_context* ctx, const qix_options* opts, qix_open_cb cb,
                             void* payload);

/**
 * Opens a session and waits until it is connected.
 * @param timeout_ms 0 waits as long as the connect and handshake timeouts allow.
 * @return #QIX_OK (then @p *out is the session); else the failure (@p *out is NULL):
 *         #QIX_ETIMEOUT, #QIX_ENETWORK, #QIX_EHTTP, #QIX_ETLS, #QIX_EBUSY (from a callback), #QIX_EINVAL ...
 */
QIX_API int qix_session_open_sync(qix_session** out, qix_context* ctx, const qix_options* opts,
                                  int timeout_ms);

/**
 * Closes the connection (WebSocket code 1000). Pending calls complete with #QIX_ECLOSED, objects become
 * zombies: from the moment it returns, qix_object_is_closed() is 1 and new calls fail with #QIX_ECLOSED
 * (the objects' closed events and the session's #QIX_STATE_CLOSED event follow). Returns at once;
 * idempotent; the handle stays valid until qix_session_free(). Accepts NULL.
 */
QIX_API void qix_session_close(qix_session* session);

/**
 * Closes the session if needed and releases the handle. Listeners registered through it no longer run
 * once this returns (a callback already running on another thread finishes). Calls still pending
 * complete with #QIX_ECLOSED. Accepts NULL.
 */
QIX_API void qix_session_free(qix_session* session);

/**
 * Waits until the session is closed and drained: its #QIX_STATE_CLOSED event and every callback queued
 * before it have run (see ::qix_state_cb), so no callback for a call made or a listener added before the
 * close can run any more. The one signal to wait on before releasing what callbacks use (a binding's
 * callback registrations, the payloads): call qix_session_close() (or let the engine or the network end
 * the session), then this, then qix_session_free(). It does not close the session.
 *
 * With `events.poll` on, the events run in qix_session_poll(): another thread must keep polling while this
 * waits (a single-threaded host polls until qix_session_wait_closed(s, 0) returns #QIX_OK).
 * Thread-safe; several threads may wait at once. The handle must not be freed while a thread waits.
 * @param timeout_ms how long to wait: 0 = only check, -1 = as long as it takes.
 * @return #QIX_OK once drained (at once if it already was); #QIX_ETIMEOUT when @p timeout_ms passed first
 *         (the session is not closed yet, or its last events have not run yet); #QIX_EBUSY from inside a
 *         dispatcher callback (waiting there would stall event delivery) unless already drained or
 *         @p timeout_ms is 0; #QIX_EINVAL (NULL @p session, @p timeout_ms < -1).
 */
QIX_API int qix_session_wait_closed(qix_session* session, int timeout_ms);

/** The session's state (::qix_state), or #QIX_EINVAL for NULL. */
QIX_API int qix_session_state(const qix_session* session);

/**
 * Why the session closed.
 * @param out_code receives the WebSocket close code (1006 when there was no close frame); may be NULL.
 * @param out_reason receives why, to release with qix_free(); may be NULL. It says who closed, the code and
 *        its meaning for the codes Qlik defines (e.g. "closed by the engine with code 4001 (session idle
 *        timeout)"), then the engine's reason text or fatal proxy notification, or the network error.
 * @return #QIX_OK; #QIX_ENOTFOUND while not closed; #QIX_EINVAL.
 */
QIX_API int qix_session_close_info(int* out_code, char** out_reason, const qix_session* session);

/** Number of calls waiting for an answer, or #QIX_EINVAL for NULL. */
QIX_API int64_t qix_session_pending_calls(const qix_session* session);

/** Flags of calls. Combine with `|`. */
typedef enum qix_call_flags {
  QIX_CALL_DEFAULT = 0, /**< Use the session's defaults. */
  QIX_CALL_DELTA = 1,   /**< Ask for the delta protocol for this call (if the method supports it). */
  QIX_CALL_NO_DELTA = 2 /**< Do not use the delta protocol for this call. */
} qix_call_flags;

/**
 * Sends @p method to the engine's Global object.
 * @param out_id receives the request id (> 0), known at once, for qix_session_cancel(); may be NULL.
 * @param params_json a JSON array (positional) or object (named) as text; NULL or "" means [].
 * @param flags ::qix_call_flags.
 * @param timeout_ms -1 = the session's `timeout.call_ms`; 0 = none. When it expires the call completes
 *        with #QIX_ETIMEOUT and the engine is sent a CancelRequest for it (its late answer is dropped).
 * @param cb runs once with the result (may be NULL to ignore it).
 * @return #QIX_OK when the call was issued (a later failure goes to @p cb); #QIX_EINVAL (NULL method,
 *         malformed params: @p cb is not called); #QIX_ECLOSED (@p cb is called too, with the error).
 */
QIX_API int qix_session_call(int64_t* out_id, qix_session* session, const char* method,
                             const char* params_json, int flags, int timeout_ms, qix_call_cb cb,
                             void* payload);

/**
 * Holds back what the calling thread sends until the matching qix_batch_end(), so that the calls it issues
 * in between leave together: one write per session for all of them instead of one each (libqix does the
 * same for the calls a callback issues). For a host thread that issues several calls at once: a loop, or a
 * binding that gathers the calls of many threads of its own.
 *
 * Pairs nest; what was held leaves at the outermost qix_batch_end(). In between, every send is only
 * queued, so nothing may wait for an answer there: the blocking calls (qix_session_call_sync() and the
 * like) fail with #QIX_EBUSY inside a batch. Inside a callback (whose calls already leave together with
 * those of the callbacks run right after it) a pair changes nothing.
 *
 * Threading: the batch belongs to the calling thread (thread-local state): call qix_batch_end() on the
 * thread that called qix_batch_begin(), before that thread waits for anything. Calls on any session may be
 * issued in between. Ownership: nothing to free. Errors: none; a qix_batch_end() without its
 * qix_batch_begin() does nothing.
 */
QIX_API void qix_batch_begin(void);

/** Ends the calling thread's batch opened by qix_batch_begin(); at the outermost one, sends what was held. */
QIX_API void qix_batch_end(void);

/**
 * Blocking variant of qix_session_call().
 * @param out receives the result on success (release with qix_result_free()); NULL on failure, with the
 *        details in qix_error_last().
 * @return the call's status. #QIX_EBUSY from inside a callback or a batch (qix_batch_begin()).
 */
QIX_API int qix_session_call_sync(qix_result** out, qix_session* session, const char* method,
                                  const char* params_json, int flags, int timeout_ms);

/**
 * Same as qix_session_call() on an engine handle given by number (-1 is Global), for tools and
 * debugging. The handle must be open in this session (Global, or returned by one of its calls and not
 * closed since); otherwise nothing is sent and the call fails with #QIX_EINVAL. Programs should prefer
 * qix_object_call() on the objects that results give them.
 */
QIX_API int qix_session_call_handle(int64_t* out_id, qix_session* session, int handle, const char* method,
                                    const char* params_json, int flags, int timeout_ms, qix_call_cb cb,
                                    void* payload);

/** Blocking variant of qix_session_call_handle(); same contract as qix_session_call_sync(). */
QIX_API int qix_session_call_handle_sync(qix_result** out, qix_session* session, int handle,
                                         const char* method, const char* params_json, int flags,
                                         int timeout_ms);

/**
 * Cancels a pending call: its callback runs with #QIX_ECANCELLED and the engine is asked to stop.
 * @return #QIX_OK; #QIX_ENOTFOUND when the call is not pending; #QIX_EINVAL.
 */
QIX_API int qix_session_cancel(qix_session* session, int64_t id);

/** The Global object (handle -1). @param out new handle, release with qix_object_free(). */
QIX_API int qix_session_global(qix_object** out, qix_session* session);

/** The doc opened by this session (OpenDoc, CreateSessionApp, GetActiveDoc). #QIX_ENOTFOUND when none. */
QIX_API int qix_session_doc(qix_object** out, qix_session* session);

/**
 * State changes. @p close_code and @p reason (borrowed for the call, never NULL) are set for
 * #QIX_STATE_CLOSED (the reason as qix_session_close_info() gives it), and for #QIX_STATE_SUSPENDED and
 * #QIX_STATE_RESUMED (the drop that suspended the session), else 0 and "".
 *
 * #QIX_STATE_CLOSED is the last event of the session: every call pending at the close has completed, and
 * every object's closed event, watch delivery, extraction end and traffic frame has run, before it. Only
 * the callbacks of calls made, and of listeners added, after the close can run after it (such calls fail
 * with #QIX_ECLOSED, which their function's return value already says). qix_session_wait_closed() waits
 * for it.
 */
typedef void (*qix_state_cb)(qix_session* session, int state, int close_code, const char* reason,
                             void* payload);

/**
 * Subscribes to state changes.
 * @param out_id receives the listener id for qix_session_remove_listener(); may be NULL.
 * @return #QIX_OK, #QIX_EINVAL.
 */
QIX_API int qix_session_on_state(uint64_t* out_id, qix_session* session, qix_state_cb cb, void* payload);

/** A notification: @p method and @p params_json are borrowed for the call. */
typedef void (*qix_notification_cb)(qix_session* session, const char* method, const char* params_json,
                                    void* payload);

/**
 * Subscribes to notifications named @p method (NULL or "" = all), e.g. "OnConnected".
 * @param replay non-zero: notifications already received (the history) are delivered first.
 * @return #QIX_OK, #QIX_EINVAL.
 */
QIX_API int qix_session_on_notification(uint64_t* out_id, qix_session* session, const char* method,
                                        int replay, qix_notification_cb cb, void* payload);

/**
 * Removes a session listener. Once it returns, its callback is not called again, not even for an event
 * that was already queued (a call already running on another thread finishes: to free what the callback
 * uses, wait for it, e.g. with qix_session_close() and qix_session_wait_closed()). Thread-safe; callable
 * from any callback, the listener's own included.
 * @return #QIX_OK, #QIX_ENOTFOUND, #QIX_EINVAL.
 */
QIX_API int qix_session_remove_listener(qix_session* session, uint64_t id);

/**
 * The notification history as a JSON array of {"method":..., "params":...}.
 * @param out receives the text, to release with qix_free().
 */
QIX_API int qix_session_notifications(char** out, const qix_session* session);

/**
 * With `events.poll` on: runs the session's queued callbacks on the calling thread, waiting up to
 * @p timeout_ms (0 = do not wait, -1 = forever) for the first. Returns early when qix_session_wake() is
 * called.
 * @return the number of callbacks run (>= 0); 0 at once when `events.poll` is off; #QIX_EINVAL.
 */
QIX_API int qix_session_poll(qix_session* session, int timeout_ms);

/** Makes a blocked (or the next) qix_session_poll() return at once. @return #QIX_OK, #QIX_EINVAL. */
QIX_API int qix_session_wake(qix_session* session);

/**
 * With `events.poll` on: a descriptor to wait on in the host's own event loop (epoll, poll(2), select,
 * Go's netpoller, libuv ...) instead of blocking a thread in qix_session_poll(). Linux only (an eventfd,
 * non-blocking, close-on-exec).
 *
 * Contract: the descriptor is readable exactly while qix_session_poll() has something to take — a queued
 * callback, or a qix_session_wake() not yet consumed. Every qix_session_poll() (also with timeout 0)
 * takes the queued callbacks and clears the readiness under one lock: afterwards the descriptor is
 * readable again only when a new callback is queued or qix_session_wake() is called, including one that
 * arrives between that poll's return and the host's next wait (the descriptor is then readable before the
 * wait starts). So the host's loop is: wait until readable (level- or edge-triggered), call
 * qix_session_poll(session, 0), repeat. An edge-triggered waiter may see a spurious wake-up (readiness set
 * by a callback that an earlier poll already ran); the poll then returns 0.
 *
 * Ownership: the session owns the descriptor; it stays valid until qix_session_free(). Do not close it,
 * read from it or write to it (reading it would lose a wake-up): only wait for readability. A host that
 * needs a descriptor of its own (to hand to a runtime that closes it) dup()s it; duplicates share the
 * readiness. Remove it from any epoll set before qix_session_free().
 *
 * Threading: any thread, any time after qix_session_open() (repeated calls return the same descriptor;
 * the first one creates it). It is set by libqix's threads and cleared by the thread in qix_session_poll().
 *
 * @param out_fd receives the descriptor, or -1 on error.
 * @return #QIX_OK; #QIX_EINVAL for a NULL argument, a session opened without `events.poll`, or a platform
 *   without eventfd (see qix_error_last()); #QIX_ENOMEM when the descriptor cannot be created (out of
 *   memory or of file descriptors).
 */
QIX_API int qix_session_poll_fd(qix_session* session, int* out_fd);

/** Called when a session's qix_session_poll() gets something to take (qix_session_set_poll_ready()). */
typedef void (*qix_poll_ready_cb)(void* user);

/**
 * With `events.poll` on: calls @p cb(@p user) each time qix_session_poll() gets something to take, for a host
 * whose loop is woken by a call rather than a descriptor (a Go channel, a GUI's posted message, a
 * condition variable). The moments are those at which qix_session_poll_fd()'s descriptor becomes readable
 * (the two can be used together): a callback queued, or a qix_session_wake(), while nothing was there to
 * take since the last qix_session_poll(). Every qix_session_poll() re-arms it, so the host's loop is: wait
 * until called, call qix_session_poll(session, 0), repeat; a call that arrives while the host polls makes
 * it poll again (that poll may return 0). When something is queued already, @p cb is called at once, on the
 * calling thread, before this returns.
 *
 * Threading: @p cb runs on the thread that queued the event: one of libqix's threads (an I/O or dispatcher
 * thread of the session's context), or a thread inside a libqix call that queues one (qix_session_wake(),
 * qix_session_close(), a call that fails at once ...). It runs outside the poll queue's lock but possibly
 * under other libqix locks: it must return quickly and must not call libqix (wake the host's loop and
 * return). Calls of it never overlap. On a context whose threads the host starts
 * (qix_context_new_hosted()), the calls from libqix's threads run on the host's threads.
 *
 * Ownership: @p user is borrowed; it must stay valid until @p cb is replaced or removed, or the session is
 * freed. A NULL @p cb removes it. Once qix_session_set_poll_ready() (also with another @p cb) or
 * qix_session_free() returns, the previous @p cb is not called any more: a call running on another thread
 * is waited for, so neither may be called from @p cb.
 *
 * @return #QIX_OK; #QIX_EINVAL for a NULL @p session or a session opened without `events.poll`.
 */
QIX_API int qix_session_set_poll_ready(qix_session* session, qix_poll_ready_cb cb, void* user);

/**
 * Hands the session's event delivery over to another dispatcher thread while the callback now running on
 * its event thread goes on: the events after it are delivered meanwhile, in order among themselves, but
 * beside the rest of that callback (no longer one at a time with it), starting with the answers of the same
 * socket read that its thread had not delivered yet. A dispatcher thread is started when
 * every one is busy (at most 64 more per context, kept until the context ends).
 *
 * Called from that callback, it also frees the callback from the event thread's rule for the rest of its
 * run: the calls it made so far leave at once (its calls are not held for a batch any more), and it may
 * block, e.g. in a blocking call (qix_session_call_sync(), qix_object_call_sync(), qix_session_open_sync(),
 * qix_session_wait_closed()), which fails with #QIX_EBUSY there otherwise: the answer no longer waits for
 * this callback to return. Called from another thread, it ends a hold-up of the session's events by a
 * callback that blocks (a watchdog's use): the calls that callback made and still holds are sent (it may
 * be waiting for their answers), and its own rules do not change.
 *
 * For a callback that must wait for something, and for bindings that run their users' code on the event
 * thread. Called from a callback run on the I/O thread (`events.inline`, the default), it also frees that
 * thread's role: another thread (a dispatcher thread, lent) reads the context's sockets until the callback
 * returns, so the callback may block as above. Thread-safe.
 * @return #QIX_OK when the session's events were being delivered and the later ones were handed over;
 *         #QIX_ENOTFOUND when they were not (nothing to hand over); #QIX_EINVAL for NULL or a session opened
 *         with `events.poll` (its events run where the host polls).
 */
QIX_API int qix_session_hand_over_events(qix_session* session);

/**
 * From a callback about to wait for another thread (a consumer to take rows from a full buffer, a lock):
 * when the callback runs on an I/O thread (`events.inline`, the default), another thread (a dispatcher
 * thread, lent) reads the context's sockets from now until the callback returns, and the calls the
 * callback made so far are sent, as the watch would do once it found the callback held up 10 to 20 ms
 * later. Unlike qix_session_hand_over_events(), the session's later events still wait for this callback
 * (they stay one at a time and in order: what a producer that applies back-pressure needs), and the
 * callback's rules do not change (a blocking call there still fails with #QIX_EBUSY). Cheap when there is
 * nothing to do; call it right before the wait, not on every callback. Acts on the calling thread only.
 * @return #QIX_OK when the calling thread left the I/O role; #QIX_ENOTFOUND when it had none (not in a
 *         callback run on an I/O thread, or already stepped aside): nothing to do.
 */
QIX_API int qix_io_step_aside(void);

/** What qix_after_callbacks() runs: @p payload is the one it was given. */
typedef void (*qix_after_cb)(void* payload);

/**
 * From a callback: runs @p fn(@p payload) on the calling thread once libqix has run the callbacks it runs
 * there back to back (the rest of the burst of answers this one came in, and whatever was queued behind
 * it), right before the calls they made leave: when the session's events run dry, after the 400 µs that a
 * run of callbacks holds its output at most, or when the thread stops delivering them (a hand-over from
 * another thread, e.g. libqix's watch of a callback that holds its thread). For
 * hosts and bindings that take a burst's completions in one go: each callback keeps what it needs (a copy:
 * a result lives for its callback only), the first of a burst registers @p fn, and @p fn hands them all to
 * a runtime at once (one crossing into Go, the JVM or .NET instead of one per answer).
 *
 * @p fn runs as a callback does, with the same rules: on the same thread, it must not block unless it
 * hands the session's events over first (qix_session_hand_over_events()), and the calls it makes leave
 * together with those of the callbacks before it. Functions registered meanwhile (by @p fn too) run next,
 * in the order registered.
 *
 * A hand-over from this thread (qix_session_hand_over_events() in a callback or in @p fn) takes the
 * functions not run yet along: the thread that takes the session's events over runs them first, before the
 * later events, so that the answers they hold are neither late nor out of order. So a binding that holds
 * answers and must wait for one of them (a blocking wait in its user's code) registers the rest first, then
 * hands over. A function registered after that hand-over runs on this thread once its callback is over.
 *
 * Threading: registers for the calling thread; @p fn runs there, or, after a hand-over from it, on the
 * thread that takes the session's events over. Ownership: @p payload stays the caller's; when #QIX_OK is
 * returned @p fn runs exactly once (also when the session closes meanwhile).
 * @return #QIX_OK when @p fn will run; #QIX_ENOTFOUND when the calling thread is not running a callback
 *         that libqix delivers from a session's queue (outside callbacks, or in qix_session_poll() with
 *         `events.poll`): nothing registered, @p fn never runs; #QIX_EINVAL for a NULL @p fn.
 */
QIX_API int qix_after_callbacks(qix_after_cb fn, void* payload);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Objects */
/**@{*/

/** The engine handle (-1 for Global), or 0 for NULL. */
QIX_API int qix_object_handle(const qix_object* obj);

/** The qType ("Doc", "GenericObject" ...). Borrowed, valid until qix_object_free(). "" for NULL. */
QIX_API const char* qix_object_type(const qix_object* obj);

/** The qGenericId. Borrowed, valid until qix_object_free(). "" for NULL. */
QIX_API const char* qix_object_generic_id(const qix_object* obj);

/** The qGenericType. Borrowed, valid until qix_object_free(). "" for NULL. */
QIX_API const char* qix_object_generic_type(const qix_object* obj);

/** 1 when the last fetched layout is current (fetched and not invalidated since), else 0. */
QIX_API int qix_object_is_valid(const qix_object* obj);

/** 1 when the handle is closed (by the engine, the session's end, or NULL), else 0. */
QIX_API int qix_object_is_closed(const qix_object* obj);

/**
 * The last layout fetched with GetLayout/GetAppLayout (unwrapped, i.e. the qLayout value) as JSON text.
 * @param out receives the text, to release with qix_free().
 * @return #QIX_OK; #QIX_ENOTFOUND when none was fetched; #QIX_EINVAL.
 */
QIX_API int qix_object_layout(char** out, const qix_object* obj);

/**
 * Same as qix_session_call() on this object's handle. On a zombie object, or once its session is closed:
 * #QIX_ECLOSED (@p cb is called too, with the error).
 */
QIX_API int qix_object_call(int64_t* out_id, qix_object* obj, const char* method, const char* params_json,
                            int flags, int timeout_ms, qix_call_cb cb, void* payload);

/** Same as qix_session_call_sync() on this object's handle. */
QIX_API int qix_object_call_sync(qix_result** out, qix_object* obj, const char* method,
                                 const char* params_json, int flags, int timeout_ms);

/** An object event (changed, closed). @p obj is the handle the listener was registered on. */
typedef void (*qix_object_cb)(qix_object* obj, void* payload);

/**
 * "changed": runs on the valid-to-invalid edge of the object's data. A listener added while the data is not
 * current (never fetched, or changed and not fetched since) and no fetch is in flight also runs once at
 * once: fetch the layout, since the engine reports only objects whose layout it computed (docs/c-api.md,
 * "The changed rule"). Never at once for Global, Field or Variable.
 * @return #QIX_OK, #QIX_EINVAL, #QIX_ECLOSED.
 */
QIX_API int qix_object_on_changed(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload);

/** "closed": runs once, when the engine handle is released. @return #QIX_OK, #QIX_EINVAL, #QIX_ECLOSED. */
QIX_API int qix_object_on_closed(uint64_t* out_id, qix_object* obj, qix_object_cb cb, void* payload);

/**
 * Removes an object listener. Once it returns, its callback is not called again, not even for an event
 * already queued (a call already running on another thread finishes). Thread-safe; callable from any
 * callback. @return #QIX_OK, #QIX_ENOTFOUND, #QIX_EINVAL.
 */
QIX_API int qix_object_remove_listener(qix_object* obj, uint64_t id);

/**
 * Keeps the layout fresh: fetches it now if not valid and again after each change (bursts coalesced).
 * With the session option `watch.min_interval_ms` set, fetches start at most once per that interval,
 * so a burst of changes shorter than it costs at most two fetches. @p cb gets each fresh layout
 * (qix_result_json() is the qLayout) or the fetch's error, on the session's event thread.
 *
 * The watch belongs to the engine object, not to the handle: one watcher per engine object, so a watch set
 * through any handle on it (this one, a qix_object_dup() copy, a handle from another result) replaces the
 * previous one, and qix_object_unwatch() through any of them stops it. Freeing a handle stops the watch
 * only when that handle set the current one: freeing another handle on the object leaves it running.
 * @return #QIX_OK, #QIX_EINVAL, #QIX_ECLOSED.
 */
QIX_API int qix_object_watch(qix_object* obj, qix_call_cb cb, void* payload);

/** Stops the engine object's watch, whichever handle set it (see qix_object_watch()). Once it returns, the
 * watch's callback is not called again, not even for a layout already queued (a call already running on
 * another thread finishes); a new qix_object_watch() does the same to the watch it replaces.
 * @return #QIX_OK, #QIX_EINVAL. */
QIX_API int qix_object_unwatch(qix_object* obj);

/**
 * A new handle on the same engine object. Listeners are per handle; the watch is per engine object (see
 * qix_object_watch()).
 * @param out receives the handle, to release with qix_object_free().
 * @return #QIX_OK, #QIX_EINVAL, #QIX_ENOMEM.
 */
QIX_API int qix_object_dup(qix_object** out, const qix_object* obj);

/**
 * Releases the handle (not the engine object: use DestroySessionObject for that). Listeners registered
 * through this handle are removed, and the watch if this handle set the current one. Accepts NULL.
 */
QIX_API void qix_object_free(qix_object* obj);

/**@}*/

/* ------------------------------------------------------------------------------------------------ */
/** @name Bulk extraction */
/**@{*/

/**
 * One row: @p row_json is the JSON array of the row's cells (borrowed for the call), @p row_index its
 * position (0-based). Return 0 to continue, non-zero to stop (the extraction ends with #QIX_ECANCELLED).
 */
typedef int (*qix_row_cb)(const char* row_json, size_t len, int64_t row_index, void* payload);

/** End of an extraction: @p status is #QIX_OK when every row was delivered; @p err is NULL then. */
typedef void (*qix_extract_done_cb)(int status, const qix_error* err, int64_t rows, void* payload);

/**
 * Streams every row of a hypercube to @p row_cb, in row order, with up to @p window GetHyperCubeData
 * calls in flight (qTop advancing by @p page_height). The size of the cube is read from a fresh GetLayout
 * first. Memory is bounded by the window: at most @p window pages are issued and not yet delivered, the
 * calls in flight and the pages answered before an earlier one (held until it arrives) together.
 * @p row_cb and @p done_cb run on the session's event thread, one at a time, in row order.
 * @param path the hypercube's path, e.g. "/qHyperCubeDef".
 * @param page_height rows per page (0 = as many as fit in 10,000 cells); capped so a page stays within
 *        10,000 cells.
 * @param window pages issued and not yet delivered, at most (0 = 4).
 * @return #QIX_OK when started (the outcome goes to @p done_cb, which always runs once: #QIX_OK, the
 *         GetLayout's or a page's error, #QIX_EINVAL when @p path names no hypercube, #QIX_ECANCELLED after
 *         @p row_cb stopped it, #QIX_ECLOSED or #QIX_ECONNECTION when the session ended; the calls still in
 *         flight are then cancelled); #QIX_EINVAL, #QIX_ECLOSED (then no callback runs).
 */
QIX_API int qix_object_extract(qix_object* obj, const char* path, int page_height, int window,
                               qix_row_cb row_cb, qix_extract_done_cb done_cb, void* payload);

/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* QIX_QIX_H */
