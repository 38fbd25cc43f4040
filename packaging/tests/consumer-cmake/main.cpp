// Consumer of the installed libqix (C++ facade and its typed Engine API): opens the simulator's demo app
// given as argv[1] (ws://HOST:PORT/app/demo), evaluates Sum(Sales) and checks the demo's known total, once
// through the generic call of qix/qix.hpp and once through the typed qix/api.hpp.
#include <qix/api.hpp>
#include <qix/qix.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ws://HOST:PORT/app/demo\n", argv[0]);
    return 2;
  }
  try {
    qix::Options options;
    options.set("url", argv[1]);
    qix::Session session(options, 10000);
    qix::Object doc = session.open_doc("demo");
    std::string total = doc.call("Evaluate", "[\"Sum(Sales)\"]").json();
    std::printf("libqix %s (headers %s): Sum(Sales) = %s\n", qix::version().c_str(), QIX_VERSION_STRING,
                total.c_str());
    qix::api::Session typed(options, 10000);
    std::string typed_total = typed.global().open_doc("demo").evaluate("Sum(Sales)");
    std::printf("typed API (%zu methods): Sum(Sales) = %s\n",
                sizeof(qix::api::methods) / sizeof(qix::api::methods[0]), typed_total.c_str());
    return total == "\"5617035\"" && typed_total == "5617035" ? 0 : 1;
  } catch (const qix::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
