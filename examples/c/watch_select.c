/*
 * watch_select: a complete C program on libqix.
 *
 * Opens the app "demo", creates a session hypercube (Region x Sum(Sales)), watches it, selects the first
 * region, and prints the layout the watch delivers after the selection. Events are pulled on the main
 * thread with qix_session_poll() (option events.poll), so the program needs no threads of its own.
 *
 * Usage: watch_select [ws://host:port]   (default ws://127.0.0.1:9076; the app path /app/demo is added)
 * Exit status: 0 on success, 1 on any failure (the error is printed).
 */
#include <qix/qix.h>

#include <stdio.h>
#include <string.h>

/* What the watch callback saw; touched only on the main thread (it runs inside qix_session_poll). */
typedef struct watch_state {
  int layouts;     /* layouts delivered so far */
  int failed;      /* a fetch failed */
  char last[4096]; /* the beginning of the last layout */
} watch_state;

static void on_layout(const qix_result* res, void* payload) {
  watch_state* st = (watch_state*)payload;
  if (qix_result_status(res) != QIX_OK) {
    fprintf(stderr, "watch: %s\n", qix_error_message(qix_result_error(res)));
    st->failed = 1;
    return;
  }
  st->layouts++;
  strncpy(st->last, qix_result_json(res), sizeof st->last - 1);
  st->last[sizeof st->last - 1] = '\0';
}

static int report(const char* what, int status) {
  const qix_error* err = qix_error_last();
  fprintf(stderr, "%s failed: %s (%s)\n", what, qix_strerror(status), err ? qix_error_message(err) : "");
  return 1;
}

/* Polls until the watch has delivered `count` layouts (or 10 s passed). */
static int wait_layouts(qix_session* session, watch_state* st, int count) {
  int i;
  for (i = 0; i < 100 && st->layouts < count && !st->failed; ++i) {
    if (qix_session_poll(session, 100) < 0) return 0;
  }
  return st->layouts >= count;
}

int main(int argc, char** argv) {
  const char* base = argc > 1 ? argv[1] : "ws://127.0.0.1:9076";
  char url[512];
  qix_options* opts = NULL;
  qix_session* session = NULL;
  qix_result* res = NULL;
  qix_object* doc = NULL;
  qix_object* cube = NULL;
  watch_state st;
  int rc = 1;
  int status;

  memset(&st, 0, sizeof st);
  snprintf(url, sizeof url, "%s/app/demo", base);
  printf("libqix %s, connecting to %s\n", qix_version(), url);

  if ((status = qix_options_new(&opts)) != QIX_OK) return report("qix_options_new", status);
  qix_options_set_str(opts, "url", url);
  qix_options_set_bool(opts, "events.poll", 1);
  status = qix_session_open_sync(&session, NULL, opts, 10000);
  qix_options_free(opts);
  if (status != QIX_OK) return report("open", status);

  /* Open the app: the result's qReturn is the Doc object. */
  status = qix_session_call_sync(&res, session, "OpenDoc", "[\"demo\"]", QIX_CALL_DEFAULT, -1);
  if (status != QIX_OK) {
    report("OpenDoc", status);
    goto done;
  }
  status = qix_result_object(&doc, res);
  qix_result_free(res);
  res = NULL;
  if (status != QIX_OK) {
    report("OpenDoc result", status);
    goto done;
  }

  /* A session object with a hypercube. */
  status =
      qix_object_call_sync(&res, doc, "CreateSessionObject",
                           "[{\"qInfo\":{\"qType\":\"table\"},\"qHyperCubeDef\":{"
                           "\"qDimensions\":[{\"qDef\":{\"qFieldDefs\":[\"Region\"]}}],"
                           "\"qMeasures\":[{\"qDef\":{\"qDef\":\"Sum(Sales)\"}}],"
                           "\"qInitialDataFetch\":[{\"qTop\":0,\"qLeft\":0,\"qWidth\":2,\"qHeight\":50}]}}]",
                           QIX_CALL_DEFAULT, -1);
  if (status != QIX_OK) {
    report("CreateSessionObject", status);
    goto done;
  }
  status = qix_result_object(&cube, res);
  qix_result_free(res);
  res = NULL;
  if (status != QIX_OK) {
    report("CreateSessionObject result", status);
    goto done;
  }
  printf("created %s %s (handle %d)\n", qix_object_type(cube), qix_object_generic_id(cube),
         qix_object_handle(cube));

  /* Watch it: the first layout comes at once, the next after each change. */
  if ((status = qix_object_watch(cube, on_layout, &st)) != QIX_OK) {
    report("watch", status);
    goto done;
  }
  if (!wait_layouts(session, &st, 1)) {
    fprintf(stderr, "no first layout\n");
    goto done;
  }
  printf("first layout: %.200s...\n", st.last);

  /* Select the first row's Region value. */
  status = qix_object_call_sync(&res, cube, "SelectHyperCubeValues", "[\"/qHyperCubeDef\",0,[0],false]",
                                QIX_CALL_DEFAULT, -1);
  qix_result_free(res);
  res = NULL;
  if (status != QIX_OK) {
    report("SelectHyperCubeValues", status);
    goto done;
  }
  if (!wait_layouts(session, &st, 2)) {
    fprintf(stderr, "no layout after the selection\n");
    goto done;
  }
  printf("updated layout: %s\n", st.last);
  if (strstr(st.last, "\"qcy\":1") == NULL) {
    fprintf(stderr, "the updated layout does not show the selection\n");
    goto done;
  }
  printf("ok\n");
  rc = 0;

done:
  qix_object_free(cube);
  qix_object_free(doc);
  qix_session_free(session);
  return rc;
}
