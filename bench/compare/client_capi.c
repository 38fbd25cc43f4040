/* qix_bench_capi: the libqix C API as bench/compare drives every client.
 *
 *   qix_bench_capi URL SCENARIO CALLS WINDOW
 *
 * SCENARIO is one of:
 *   tiny   CALLS EngineVersion calls on the global object, WINDOW of them in flight: the next call is issued
 *          from each completion callback, with default options (a session opened with only a URL, default
 *          flags, the session's default per-call timeout), as users write it.
 *   tiny-dispatch  the same with `events.inline` off (every callback handed to a dispatcher thread, as
 *          before it was the default): what running the callbacks on the I/O thread saves.
 *   page   CALLS GetHyperCubeData calls (one 10,000-cell page each), one at a time; each answer's JSON text
 *          is read (qix_result_json) as a C caller would take it.
 *   delta  one GetLayout (full), then CALLS GetLayout re-fetches answered by one-cell delta patches; each
 *          layout is read (qix_result_json).
 *   idle   CALLS sessions opened and left idle (WINDOW unused); prints the process's threads and RSS.
 *   extract  (against qix-engine-sim) the hypercube OrderId x Sum(Sales) of the app demo-large, CALLS rows,
 *          through qix_object_extract with WINDOW pages in flight (0 = its default); each row's JSON taken.
 *   pages  the same rows through a loop of GetHyperCubeData calls, one 10,000-cell page at a time, each
 *          page's JSON text taken (qix_result_json), as a caller without bulk extraction writes it.
 *
 * Prints one line: `ok=N failed=F wall_s=S cpu_s=C` (C: this process's CPU during the timed part; and
 * `threads=T rss_kb=K` for idle); extract and pages print `clock_start` first, when the timed part begins
 * (compare.py measures the simulator's CPU from there). Exit status 0 when every call succeeded.
 */
#include "qix/qix.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
  qix_session* session;
  const char* method;
  int handle;
  long calls;
  long issued;
  long done;
  long ok;
  long failed;
  long long bytes;
  pthread_mutex_t mutex;
  pthread_cond_t cv;
} run_state;

static double cpu_s(void) { /* this process's user+sys CPU so far */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_done(const qix_result* res, void* payload);

/* Issues the next call if any is left. Called with no lock held. */
static void issue(run_state* st) {
  pthread_mutex_lock(&st->mutex);
  int go = st->issued < st->calls;
  if (go) st->issued++;
  pthread_mutex_unlock(&st->mutex);
  if (!go) return;
  int rc = qix_session_call_handle(NULL, st->session, st->handle, st->method, "[]", 0, -1, on_done, st);
  if (rc != QIX_OK) {
    fprintf(stderr, "call failed to start: %s\n", qix_strerror(rc));
    pthread_mutex_lock(&st->mutex);
    st->failed++;
    st->done++;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mutex);
  }
}

static void on_done(const qix_result* res, void* payload) {
  run_state* st = (run_state*)payload;
  int ok = qix_result_status(res) == QIX_OK;
  long long n = 0;
  if (ok && st->handle != -1) n = (long long)strlen(qix_result_json(res)); /* take the data */
  pthread_mutex_lock(&st->mutex);
  st->done++;
  if (ok) {
    st->ok++;
    st->bytes += n;
  } else {
    st->failed++;
  }
  int finished = st->done == st->calls;
  pthread_mutex_unlock(&st->mutex);
  if (finished) {
    pthread_mutex_lock(&st->mutex);
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mutex);
  } else {
    issue(st);
  }
}

static void wait_done(run_state* st) {
  pthread_mutex_lock(&st->mutex);
  while (st->done < st->calls) pthread_cond_wait(&st->cv, &st->mutex);
  pthread_mutex_unlock(&st->mutex);
}

static qix_session* open_session(const char* url, int dispatch_events) {
  qix_options* opts = NULL;
  qix_options_new(&opts);
  qix_options_set_str(opts, "url", url);
  if (dispatch_events) qix_options_set_bool(opts, "events.inline", 0);
  qix_session* s = NULL;
  int rc = qix_session_open_sync(&s, NULL, opts, 0);
  qix_options_free(opts);
  if (rc != QIX_OK) {
    fprintf(stderr, "open %s: %s\n", url, qix_error_message(qix_error_last()));
    return NULL;
  }
  return s;
}

static long status_value(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      v = atol(line + n + 1);
      break;
    }
  }
  fclose(f);
  return v;
}

static int run_idle(const char* url, long sessions) {
  qix_session** all = calloc((size_t)sessions, sizeof(qix_session*));
  long ok = 0;
  long base_kb = 0; /* after the first session: the context and its threads exist */
  double t0 = now_s();
  for (long i = 0; i < sessions; ++i) {
    all[i] = open_session(url, 0);
    if (all[i]) ok++;
    if (i == 0) base_kb = status_value("VmRSS");
  }
  double wall = now_s() - t0;
  long rss_kb = status_value("VmRSS");
  printf("ok=%ld failed=%ld wall_s=%.6f threads=%ld rss_kb=%ld per_session_b=%ld\n", ok, sessions - ok, wall,
         status_value("Threads"), rss_kb, sessions > 1 ? (rss_kb - base_kb) * 1024 / (sessions - 1) : 0);
  fflush(stdout);
  for (long i = 0; i < sessions; ++i) {
    if (!all[i]) continue;
    qix_session_close(all[i]);
    qix_session_wait_closed(all[i], 0);
    qix_session_free(all[i]);
  }
  free(all);
  return ok == sessions ? 0 : 1;
}

typedef struct {
  pthread_mutex_t mutex;
  pthread_cond_t cv;
  int done;
  int status;
  int64_t rows;
  long long bytes;
} extract_state;

static int on_row(const char* row, size_t len, int64_t index, void* payload) {
  (void)row;
  (void)index;
  ((extract_state*)payload)->bytes += (long long)len; /* rows of one extraction arrive one at a time */
  return 0;
}

static void on_extracted(int status, const qix_error* err, int64_t rows, void* payload) {
  extract_state* st = (extract_state*)payload;
  if (status != QIX_OK)
    fprintf(stderr, "extraction: %s\n", err ? qix_error_message(err) : qix_strerror(status));
  pthread_mutex_lock(&st->mutex);
  st->done = 1;
  st->status = status;
  st->rows = rows;
  pthread_cond_signal(&st->cv);
  pthread_mutex_unlock(&st->mutex);
}

/* OrderId x Sum(Sales) on demo-large, computed once before the clock starts. */
static qix_object* make_cube(qix_session* s, qix_object** doc_out) {
  qix_result* r = NULL;
  if (qix_session_call_sync(&r, s, "OpenDoc", "[\"demo-large\"]", 0, -1) != QIX_OK) return NULL;
  qix_object* doc = NULL;
  qix_result_object(&doc, r);
  qix_result_free(r);
  const char* props =
      "[{\"qInfo\":{\"qType\":\"bench\"},\"qHyperCubeDef\":{"
      "\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"OrderId\"]}}],"
      "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Sales)\"}}],\"qInitialDataFetch\":[]}}]";
  qix_object* obj = NULL;
  if (qix_object_call_sync(&r, doc, "CreateSessionObject", props, 0, -1) == QIX_OK)
    qix_result_object(&obj, r);
  qix_result_free(r);
  r = NULL;
  if (obj && qix_object_call_sync(&r, obj, "GetLayout", NULL, 0, -1) != QIX_OK) obj = NULL;
  qix_result_free(r);
  *doc_out = doc;
  return obj;
}

static int run_extract(const char* url, const char* scenario, long rows, long window) {
  qix_session* s = open_session(url, 0);
  if (!s) return 1;
  qix_object* doc = NULL;
  qix_object* obj = make_cube(s, &doc);
  if (!obj) {
    fprintf(stderr, "cannot build the hypercube: %s\n", qix_error_message(qix_error_last()));
    return 1;
  }
  long ok = 0;
  long long bytes = 0;
  printf("clock_start\n"); /* compare.py takes the simulator's CPU from here */
  fflush(stdout);
  double t0 = now_s(), c0 = cpu_s();
  if (strcmp(scenario, "extract") == 0) {
    extract_state st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.mutex, NULL);
    pthread_cond_init(&st.cv, NULL);
    if (qix_object_extract(obj, "/qHyperCubeDef", 0, (int)window, on_row, on_extracted, &st) != QIX_OK)
      return 1;
    pthread_mutex_lock(&st.mutex);
    while (!st.done) pthread_cond_wait(&st.cv, &st.mutex);
    pthread_mutex_unlock(&st.mutex);
    ok = st.status == QIX_OK ? (long)st.rows : 0;
    bytes = st.bytes;
  } else {
    const long height = 5000; /* x 2 columns = 10,000 cells, the engine's page limit */
    for (long top = 0; top < rows; top += height) {
      char params[256];
      snprintf(params, sizeof params,
               "[\"/qHyperCubeDef\",[{\"qTop\":%ld,\"qLeft\":0,\"qWidth\":2,\"qHeight\":%ld}]]", top, height);
      qix_result* r = NULL;
      if (qix_object_call_sync(&r, obj, "GetHyperCubeData", params, 0, -1) != QIX_OK) {
        fprintf(stderr, "GetHyperCubeData: %s\n", qix_error_message(qix_error_last()));
        break;
      }
      const char* page = qix_result_json(r);
      bytes += (long long)strlen(page);
      ok += (rows - top < height) ? rows - top : height;
      qix_result_free(r);
    }
  }
  double wall = now_s() - t0, cpu = cpu_s() - c0;
  printf("ok=%ld failed=%ld wall_s=%.6f cpu_s=%.6f bytes=%lld\n", ok, ok == rows ? 0L : 1L, wall, cpu, bytes);
  fflush(stdout);
  qix_object_free(obj);
  qix_object_free(doc);
  qix_session_close(s);
  qix_session_wait_closed(s, 0);
  qix_session_free(s);
  return ok == rows ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr,
            "usage: qix_bench_capi URL tiny|tiny-dispatch|page|delta|idle|extract|pages CALLS WINDOW\n");
    return 2;
  }
  const char* url = argv[1];
  const char* scenario = argv[2];
  long calls = atol(argv[3]);
  long window = atol(argv[4]);
  if (strcmp(scenario, "idle") == 0) return run_idle(url, calls);
  if (strcmp(scenario, "extract") == 0 || strcmp(scenario, "pages") == 0)
    return run_extract(url, scenario, calls, window);

  run_state st;
  memset(&st, 0, sizeof st);
  pthread_mutex_init(&st.mutex, NULL);
  pthread_cond_init(&st.cv, NULL);
  st.session = open_session(url, strcmp(scenario, "tiny-dispatch") == 0);
  if (!st.session) return 1;
  st.calls = calls;
  st.handle = -1;
  st.method = "EngineVersion";
  if (strcmp(scenario, "page") == 0 || strcmp(scenario, "delta") == 0) {
    qix_result* doc = NULL;
    if (qix_session_call_sync(&doc, st.session, "OpenDoc", "[\"bench\"]", 0, -1) != QIX_OK) {
      fprintf(stderr, "OpenDoc: %s\n", qix_error_message(qix_error_last()));
      return 1;
    }
    qix_object* obj = NULL;
    qix_result_object(&obj, doc);
    st.handle = qix_object_handle(obj);
    qix_object_free(obj);
    qix_result_free(doc);
    window = 1;
    if (strcmp(scenario, "page") == 0) {
      st.method = "GetHyperCubeData";
    } else {
      st.method = "GetLayout";
      qix_result* first = NULL; /* the full layout: the base later patches apply to */
      if (qix_session_call_handle_sync(&first, st.session, st.handle, "GetLayout", "[]", 0, -1) != QIX_OK) {
        fprintf(stderr, "GetLayout: %s\n", qix_error_message(qix_error_last()));
        return 1;
      }
      qix_result_free(first);
    }
  }
  double t0 = now_s(), c0 = cpu_s();
  for (long i = 0; i < window && i < calls; ++i) issue(&st);
  wait_done(&st);
  double wall = now_s() - t0, cpu = cpu_s() - c0;
  printf("ok=%ld failed=%ld wall_s=%.6f cpu_s=%.6f bytes=%lld\n", st.ok, st.failed, wall, cpu, st.bytes);
  fflush(stdout);
  qix_session_close(st.session);
  qix_session_wait_closed(st.session, 0);
  qix_session_free(st.session);
  return st.failed == 0 && st.ok == calls ? 0 : 1;
}
