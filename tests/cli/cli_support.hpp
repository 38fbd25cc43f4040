// Helpers of the `qix` command-line tool's tests (cli_test.cpp, cli_ux_test.cpp): a running `qix` with its
// output on pipes, one-shot runs, and the fixture with an engine simulator in the test process.
#pragma once

#include "qix/qix.hpp"
#include "qix/sim/server.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace qix_cli_test {

namespace json = boost::json;
using namespace std::chrono_literals;

// ------------------------------------------------------------------------------------ running the tool

/// A running `qix` process (or another program: @p exe) with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                 const std::string& exe = QIX_CLI_EXE) {
    int po[2], pe[2];
    if (pipe(po) != 0 || pipe(pe) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    std::vector<std::string> argv_s{exe};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(argv_s.size() + 1);
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      if (std::strncmp(*e, "QIX_BEARER=", 11) != 0) env_s.emplace_back(*e);
    }
    env_s.insert(env_s.end(), env.begin(), env.end());
    std::vector<char*> envp;
    envp.reserve(env_s.size() + 1);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    out_fd_ = po[0];
    err_fd_ = pe[0];
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }

  /// Reads until stdout holds @p n lines (true) or @p timeout passes (false).
  bool wait_lines(std::size_t n, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (lines() < n) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !pump(static_cast<int>(left.count()))) return lines() >= n;
    }
    return true;
  }
  /// Reads until @p done(*this) holds (true), the process closed its output, or @p timeout (a guard
  /// against a hang, not a measurement) passed (false).
  bool wait_until(const std::function<bool(const Child&)>& done, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!done(*this)) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !pump(static_cast<int>(left.count()))) return done(*this);
    }
    return true;
  }
  /// Reads whatever arrives within @p d.
  void drain_for(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !pump(static_cast<int>(left.count()))) return;
    }
  }
  void signal(int sig) { kill(pid_, sig); }
  /// Reads to EOF and reaps the process (killed after @p timeout). Returns the exit code (-1 if killed).
  int finish(std::chrono::seconds timeout = 120s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        kill(pid_, SIGKILL);
        break;
      }
      pump(static_cast<int>(left.count()));
    }
    int status = 0;
    struct rusage ru {};
    wait4(pid_, &status, 0, &ru);
    pid_ = -1;
    maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string out, err;
  long maxrss_kb = 0;

 private:
  std::size_t lines() const { return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')); }
  // One poll round; false when nothing is left to read or nothing came within the wait.
  bool pump(int wait_ms) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) return false;
    if (poll(fds, static_cast<nfds_t>(n), wait_ms) <= 0) return false;
    for (int i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      bool is_out = fds[i].fd == out_fd_;
      if (got <= 0) {
        close(fds[i].fd);
        (is_out ? out_fd_ : err_fd_) = -1;
      } else {
        (is_out ? out : err).append(buf, static_cast<std::size_t>(got));
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
};

struct Run {
  int code;
  std::string out, err;
  long maxrss_kb;
};

inline Run run_qix(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  Child c(args, env);
  int code = c.finish();
  return {code, c.out, c.err, c.maxrss_kb};
}

inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

inline json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  EXPECT_FALSE(ec) << "not JSON: " << text;
  return v;
}

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline std::string shortest(double d) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, p);
}

// ------------------------------------------------------------------------------------------- fixture

class Cli : public ::testing::Test {
 protected:
  void start(qix::sim::Options o = {}) {
    sim_ = std::make_unique<qix::sim::Server>(std::move(o));
    sim_->start();
  }
  void SetUp() override { start(); }
  void TearDown() override {
    if (sim_) sim_->stop();
  }
  /// `--url <sim>/app/<app>` plus @p args.
  std::vector<std::string> with_app(std::vector<std::string> args, const std::string& app = "demo") {
    args.insert(args.begin(), {"--url", sim_->url() + "/app/" + app});
    return args;
  }
  std::vector<std::string> global(std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", sim_->url() + "/app/engineData"});
    return args;
  }
  std::unique_ptr<qix::sim::Server> sim_;
};

}  // namespace qix_cli_test
