/* Consumer of the installed libqix (C API), built with `pkg-config --cflags --libs libqix`: opens the
   simulator's demo app given as argv[1] (ws://HOST:PORT/app/demo), selects Category = Bikes and checks
   Sum(Sales) in the selection against the demo's known figure. */
#include <qix/qix.h>

#include <stdio.h>
#include <string.h>

static int fail(const char* what) {
  const qix_error* e = qix_error_last();
  fprintf(stderr, "consumer: %s: %s\n", what, e ? qix_error_message(e) : "?");
  return 1;
}

int main(int argc, char** argv) {
  qix_options* opts = NULL;
  qix_session* s = NULL;
  qix_result* r = NULL;
  qix_object *doc = NULL, *field = NULL;
  int ok = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s ws://HOST:PORT/app/demo\n", argv[0]);
    return 2;
  }
  if (qix_options_new(&opts) != QIX_OK || qix_options_set_str(opts, "url", argv[1]) != QIX_OK)
    return fail("options");
  if (qix_session_open_sync(&s, NULL, opts, 10000) != QIX_OK) return fail("connect");
  if (qix_session_call_sync(&r, s, "OpenDoc", "[\"demo\"]", QIX_CALL_DEFAULT, -1) != QIX_OK)
    return fail("OpenDoc");
  qix_result_object(&doc, r);
  qix_result_free(r);
  if (qix_object_call_sync(&r, doc, "GetField", "[\"Category\"]", QIX_CALL_DEFAULT, -1) != QIX_OK)
    return fail("GetField");
  qix_result_object(&field, r);
  qix_result_free(r);
  if (qix_object_call_sync(&r, field, "Select", "[\"Bikes\"]", QIX_CALL_DEFAULT, -1) != QIX_OK)
    return fail("Select");
  qix_result_free(r);
  if (qix_object_call_sync(&r, doc, "Evaluate", "[\"Sum(Sales)\"]", QIX_CALL_DEFAULT, -1) != QIX_OK)
    return fail("Evaluate");
  printf("libqix %s: Sum(Sales) with Category = Bikes is %s\n", qix_version(), qix_result_json(r));
  ok = strcmp(qix_result_json(r), "\"1388047.5\"") == 0;
  qix_result_free(r);
  qix_object_free(field);
  qix_object_free(doc);
  qix_session_free(s);
  qix_options_free(opts);
  return ok ? 0 : 1;
}
