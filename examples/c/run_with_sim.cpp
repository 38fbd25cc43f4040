// Test driver for the C examples: starts the engine simulator in-process, then runs the example given as
// argv[1] with the simulator's URL and returns its exit status.
#include <qix/sim/server.hpp>

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s EXAMPLE\n", argv[0]);
    return 2;
  }
  qix::sim::Server sim(qix::sim::Options{});
  sim.start();
  std::string command = std::string("\"") + argv[1] + "\" " + sim.url();
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the simulator's thread neither forks nor uses signals
  int status = std::system(command.c_str());
  sim.stop();
  if (status == -1 || !WIFEXITED(status)) return 1;
  return WEXITSTATUS(status);
}
