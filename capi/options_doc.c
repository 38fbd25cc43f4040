/*
 * Prints the options table of docs/defaults.md (Markdown) from qix_options_count() and qix_options_info():
 * the one table of options in capi/options.cpp is the source, this is its documentation. Also a C host of
 * the description API, as a settings dialog would use it.
 *
 * Usage: qix_options_doc > table.md. The CTest test capi.options_doc compares the output with the part of
 * docs/defaults.md between its "options table" markers; the target qix_options_doc_update rewrites that
 * part (capi/options_doc.cmake).
 */
#include <qix/qix.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Table cells never contain a raw '|'. */
static void cell(const char* text) {
  for (; *text; ++text) {
    if (*text == '|') {
      fputs("\\|", stdout);
    } else {
      putchar(*text);
    }
  }
}

static void code_list(const char* values) { /* "a|b|c" -> `a`, `b`, `c` */
  putchar('`');
  for (; *values; ++values) {
    if (*values == '|') {
      fputs("`, `", stdout);
    } else {
      putchar(*values);
    }
  }
  putchar('`');
}

int main(void) {
  int n = qix_options_count();
  int i;
  puts("| Option | Type | Accepted | Default | What it does |");
  puts("|---|---|---|---|---|");
  for (i = 0; i < n; ++i) {
    const qix_option_info* o = qix_options_info(i);
    if (!o) {
      fprintf(stderr, "qix_options_info(%d): %s\n", i, qix_error_message(qix_error_last()));
      return 1;
    }
    printf("| `%s` | ", o->name);
    switch (o->value_type) {
      case QIX_OPTION_STRING:
        fputs("string | ", stdout);
        if (*o->values) {
          code_list(o->values);
        } else {
          fputs("text", stdout);
        }
        break;
      case QIX_OPTION_INT:
        fputs("integer | ", stdout);
        if (o->max == INT64_MAX) {
          printf(">= %" PRId64, o->min);
        } else {
          printf("%" PRId64 "..%" PRId64, o->min, o->max);
        }
        break;
      case QIX_OPTION_BOOL:
        fputs("boolean | `true`, `false`", stdout);
        break;
      default:
        fprintf(stderr, "option %s: unknown type %d\n", o->name, o->value_type);
        return 1;
    }
    fputs(" | ", stdout);
    if (*o->default_text) {
      putchar('`');
      cell(o->default_text);
      putchar('`');
    } else {
      fputs("(empty)", stdout);
    }
    fputs(" | ", stdout);
    cell(o->doc);
    puts(" |");
  }
  return 0;
}
