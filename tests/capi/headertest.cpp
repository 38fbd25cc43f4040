// Compiles qix.h and qix.hpp as C++17 with -Wall -Wextra -pedantic -Werror (built as part of `all`).
#include "qix/qix.h"
#if __has_include("qix/qix.hpp")
#include "qix/qix.hpp"
#endif

int qix_headertest_cxx17();
int qix_headertest_cxx17() {
  return QIX_OK + static_cast<int>(sizeof(qix_state));
}
