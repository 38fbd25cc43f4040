/* Compiles qix.h as strict C99 with -Wall -Wextra -pedantic -Werror (built as part of `all`). */
#include "qix/qix.h"

int qix_headertest_c99(void);
int qix_headertest_c99(void) {
  qix_call_cb cb = 0;
  (void)cb;
  return QIX_OK + QIX_VERSION_MAJOR * 0 + (int)sizeof(qix_status);
}
