// The one translation unit that compiles Boost.JSON (header-only use): every other file includes
// <boost/json.hpp> as a header, and libqix needs no Boost library at run time.
#include <boost/json/src.hpp>
