// Compiles the typed C++ API (qix/api.hpp, which includes qix/api_types.hpp, qix/api_base.hpp and
// qix/json.hpp) as C++17 with -Wall -Wextra -pedantic -Werror and more (built as part of `all`).
#include "qix/api.hpp"

int qix_headertest_api();
int qix_headertest_api() {
  return static_cast<int>(sizeof(qix::api::methods) / sizeof(qix::api::methods[0]));
}
