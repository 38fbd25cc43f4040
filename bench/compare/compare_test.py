#!/usr/bin/python3
"""Tests of bench/compare/compare.py (CTest bench.compare): its P6 table, and the command end to end on a
fake build (ab_test.py's fake responder and clients, plus a fake Go client and a fake cmake), so that no libqix
build is needed: the build is brought up to date first (or left as it is with --no-build), each binding's run
is followed by a C API run and the table pairs each binding run with that one, --peer-spin reaches every
responder."""
import os
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ab_test  # noqa: E402  (its fake build)
import compare  # noqa: E402

# A C API client whose CPU grows by 0.1 s with each run (counted in the file FAKE_COUNTER): a host drifting
# from run to run, so that the C API run right after a binding's costs another figure than the C API's own row.
DRIFTING_CAPI = """\
#!/usr/bin/python3
import os, sys
url, kind, calls, window = sys.argv[1:5]
path = os.environ["FAKE_COUNTER"]
n = int(open(path).read()) + 1 if os.path.exists(path) else 1
open(path, "w").write(str(n))
print(f"ok={calls} failed=0 wall_s=0.5 cpu_s={0.1 * n:.3f} bytes=0")
"""


# A responder that notes its arguments (in FAKE_PEER_ARGS) before it does what ab_test.py's fake one does.
NOTING_RESPONDER = ab_test.RESPONDER.replace(
    "import signal, sys, time\n",
    "import os, signal, sys, time\nopen(os.environ['FAKE_PEER_ARGS'], 'a').write(' '.join(sys.argv[1:]) + '\\n')\n")


# A cmake that notes its arguments (in FAKE_CMAKE_LOG) and fails a build when FAKE_CMAKE_FAIL is set.
FAKE_CMAKE = """\
#!/usr/bin/python3
import os, sys
open(os.environ["FAKE_CMAKE_LOG"], "a").write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_CMAKE_FAIL") and "--build" in sys.argv:
    print("ninja: build stopped: subcommand failed.")
    sys.exit(1)
"""


def add_client(build, name, text):
    path = os.path.join(build, "bench", name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


class P6Table(unittest.TestCase):
    def rows(self, *cpus, paired=()):
        out = [{"cpu": c} for c in cpus]
        for r, p in zip(out, paired):
            r["paired_capi_cpu"] = p
        return out

    def test_both_ratios(self):
        results = {("tiny-w64", compare.CAPI): self.rows(0.05, 0.11, 0.30),
                   ("tiny-w64", compare.JAVA): self.rows(0.16, 0.33, 0.17, paired=(0.11, 0.22, 0.10))}
        lines = compare.p6_table("tiny-w64", results)
        self.assertIn("**P6, tiny-w64**", lines[0])
        # medians 0.17 / 0.11; per round 0.16/0.11, 0.33/0.22, 0.17/0.10: 1.45, 1.50, 1.70; fastest 0.16 / 0.10
        # (the runs paired with the binding, not the C API's own rows, whose fastest, 0.05, would give 3.20)
        self.assertIn("| libqix Java (typed API) | 1.55× | 1.45× / 1.50× / 1.70× | 1.60× |", lines)

    def test_a_round_without_its_pair_is_left_out_of_the_pairs(self):
        # the fourth round (0.09) has no C API run after it: neither its ratio nor its CPU counts
        results = {("tiny-w1024", compare.CAPI): self.rows(0.10),
                   ("tiny-w1024", compare.CSHARP): self.rows(0.12, 0.20, 0.14, 0.09, paired=(0.10, 0.08, 0.11))}
        # median 0.13 / 0.10; per round 1.20, 2.50, 1.27; fastest 0.12 / 0.08
        self.assertIn("| libqix C# (typed API) | 1.30× | 1.20× / 1.27× / 2.50× | 1.50× |",
                      compare.p6_table("tiny-w1024", results))

    def test_a_binding_without_paired_runs(self):
        results = {("tiny-w1", compare.CAPI): self.rows(1.0), ("tiny-w1", compare.GO): self.rows(1.5)}
        self.assertIn("| libqix Go (typed API) | 1.50× | – | – |", compare.p6_table("tiny-w1", results))

    def test_nothing_to_compare(self):
        self.assertEqual(compare.p6_table("tiny-w64", {("tiny-w64", compare.CAPI): self.rows(0.1)}), [])
        self.assertEqual(compare.p6_table("tiny-w64", {("tiny-w64", compare.GO): self.rows(0.1)}), [])


class Command(unittest.TestCase):
    def compare(self, build, tmp, *argv):
        return self.compare_with(build, tmp, ["--no-build", *argv])

    def compare_with(self, build, tmp, argv, env=None):
        return subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--build", build, "--node", "",
                               *argv], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, FAKE_COUNTER=os.path.join(tmp, "count"), QIX_BENCH_WARM_S="0",
                                       FAKE_PEER_ARGS=os.path.join(tmp, "peer_args"), **(env or {})))

    def test_the_build_is_brought_up_to_date_first(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = ab_test.fake_build(os.path.join(tmp, "build"), 0.3)
            bin_dir = os.path.join(tmp, "bin")
            os.makedirs(bin_dir)
            cmake = os.path.join(bin_dir, "cmake")
            with open(cmake, "w") as f:
                f.write(FAKE_CMAKE)
            os.chmod(cmake, os.stat(cmake).st_mode | stat.S_IXUSR)
            env = {"PATH": bin_dir + os.pathsep + os.environ["PATH"], "FAKE_CMAKE_LOG": os.path.join(tmp, "cmake")}
            only = ["--only", "tiny-w1", "--rounds", "1", "--calls", "10"]
            # A build directory never configured: configured (the source tree, Ninja), then built.
            r = self.compare_with(build, tmp, only, env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(tmp, "cmake")) as f:
                self.assertEqual(f.read().splitlines(), [f"-S {compare.ROOT} -B {build} -G Ninja",
                                                         f"--build {build} --target qix_bench_compare"])
            # Configured: built only.
            os.remove(os.path.join(tmp, "cmake"))
            open(os.path.join(build, "CMakeCache.txt"), "w").close()
            r = self.compare_with(build, tmp, only, env)
            with open(os.path.join(tmp, "cmake")) as f:
                self.assertEqual(f.read().splitlines(), [f"--build {build} --target qix_bench_compare"])
            # A failed build fails the command before any client runs, with what the build said.
            r = self.compare_with(build, tmp, only, dict(env, FAKE_CMAKE_FAIL="1"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("FAILED: cmake --build", r.stderr)
            self.assertIn("ninja: build stopped", r.stderr)
            self.assertNotIn("round 1", r.stderr)
            # A build without the benchmarks: said as such, before anything runs.
            r = self.compare(os.path.join(tmp, "elsewhere"), tmp, *only)
            self.assertEqual(r.returncode, 1)
            self.assertIn("has no bench/qix_bench_responder", r.stderr)
            # --no-build: cmake is not run at all.
            os.remove(os.path.join(tmp, "cmake"))
            r = self.compare_with(build, tmp, ["--no-build", *only], env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "cmake")))

    def test_a_scenario_or_count_it_does_not_know_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = ab_test.fake_build(os.path.join(tmp, "build"), 0.3)
            add_client(build, "qix_bench_responder", NOTING_RESPONDER)
            for argv, said in ((["--only", "tiny-w64,tiny-w65"], "no scenario tiny-w65 (there are tiny-w1, "),
                               (["--rounds", "0"], "positive"), (["--calls", "-1"], "positive")):
                r = self.compare(build, tmp, *argv)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(said, r.stderr)
                self.assertEqual(r.stdout, "")
            self.assertFalse(os.path.exists(os.path.join(tmp, "peer_args")))  # no run started
            # Every scenario it names is one it knows.
            r = self.compare(build, tmp, "--only", "tiny-w1,tiny-w64", "--rounds", "1", "--calls", "10")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("**tiny-w1**", r.stdout)
            self.assertIn("**tiny-w64**", r.stdout)

    def test_peer_spin_asks_every_responder_to_poll(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = ab_test.fake_build(os.path.join(tmp, "build"), 0.3)
            add_client(build, "qix_bench_responder", NOTING_RESPONDER)
            r = self.compare(build, tmp, "--only", "tiny-w1", "--rounds", "1", "--calls", "10", "--peer-spin")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(tmp, "peer_args")) as f:
                runs = f.read().splitlines()
            self.assertEqual(runs, ["--spin"] * 4)  # raw, raw busy-polling, C API, C API with inline off
            os.remove(os.path.join(tmp, "peer_args"))
            r = self.compare(build, tmp, "--only", "tiny-w1", "--rounds", "1", "--calls", "10")
            with open(os.path.join(tmp, "peer_args")) as f:
                self.assertEqual(f.read().splitlines(), [""] * 4)

    def test_each_binding_run_is_paired_with_the_c_api_run_right_after_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = ab_test.fake_build(os.path.join(tmp, "build"), 0.3)
            add_client(build, "qix_bench_capi", DRIFTING_CAPI)
            add_client(build, "qix_bench_go", ab_test.CLIENT.format(cpu=0.3))
            r = self.compare(build, tmp, "--only", "tiny-w64", "--rounds", "3", "--calls", "10")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            # Each round runs the C API client three times: its own row (runs 1, 4, 7: 0.1, 0.4, 0.7 s), the
            # row with events.inline off (runs 2, 5, 8), and right after the Go row (0.3 s) once more (runs 3,
            # 6, 9: 0.3, 0.6, 0.9 s).
            self.assertEqual(r.stderr.count("libqix C API, right after Go"), 3, r.stderr)
            self.assertNotIn("right after Java", r.stderr)  # a binding the build lacks: no pair either
            self.assertIn("| libqix Go (typed API) | 0.75× | 0.33× / 0.50× / 1.00× |", r.stdout)
            # The paired runs are not rows of the C API: its median stays that of its own runs (per 100k calls).
            self.assertIn("| libqix C API | 20 | 1,000 / 4,000 / 7,000 |", r.stdout)


if __name__ == "__main__":
    unittest.main()
