// qix_cpp_tests is built with QIX_API_EXTERN_CODECS (docs/cpp.md): the codecs of qix/api_types.hpp are
// compiled here, once, instead of in every test file that uses them.
#define QIX_API_INSTANTIATE_CODECS
#include "qix/api_types.hpp"
