#!/usr/bin/python3
"""Tests of bench/compare/ab.py (CTest bench.ab): its statistics, its reading of perf stat's output, and the
command end to end on two fake builds (a fake responder and a fake C API client that prints what the real
ones print), so no libqix build and no perf are needed."""
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ab  # noqa: E402

RESPONDER = """\
#!/usr/bin/python3
import signal, sys, time
print("listening on ws://127.0.0.1:1/app/x", flush=True)
def stop(*_):
    print("requests=0 bytes_in=0 bytes_out=0 cpu_s=0", file=sys.stderr, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(1)
"""

# A client that answers every call in CPU seconds CPU (the build's) plus what FAKE_EXTRA_CPU adds; FAKE_FAIL=1
# makes it report a failed call. It checks it was given the URL, the kind, the calls and the window.
CLIENT = """\
#!/usr/bin/python3
import os, sys
url, kind, calls, window = sys.argv[1:5]
assert url.startswith("ws://") and kind.startswith("tiny") and int(window) > 0, sys.argv
cpu = {cpu} + float(os.environ.get("FAKE_EXTRA_CPU", "0")) + (0.5 if kind == "tiny-slow" else 0)
failed = int(os.environ.get("FAKE_FAIL", "0"))
print(f"ok={{int(calls) - failed}} failed={{failed}} wall_s=0.5 cpu_s={{cpu}} bytes=0")
sys.exit(1 if failed else 0)
"""


def fake_build(root, cpu):
    bench = os.path.join(root, "bench")
    os.makedirs(bench)
    for name, text in (("qix_bench_responder", RESPONDER), ("qix_bench_capi", CLIENT.format(cpu=cpu)),
                       ("qix_bench_raw", CLIENT.format(cpu=cpu))):
        path = os.path.join(bench, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return root


class Statistics(unittest.TestCase):
    def test_sign_test(self):
        self.assertAlmostEqual(ab.sign_test(6, 6), 2 / 64)  # all six one way: 1/64 each tail
        self.assertAlmostEqual(ab.sign_test(0, 6), 2 / 64)
        self.assertAlmostEqual(ab.sign_test(5, 6), 2 * 7 / 64)
        self.assertEqual(ab.sign_test(3, 6), 1.0)
        self.assertEqual(ab.sign_test(0, 0), 1.0)

    def test_summary_counts_the_pairs_where_b_is_lower(self):
        line = ab.summarize("cpu", [(1.0, 0.8), (1.2, 0.9), (0.9, 1.0), (1.0, None)])
        self.assertIn("B lower in 2 of 3", line)
        self.assertIn("B/A  0.800", line)  # the median of the ratios 0.8, 0.75, 1.11
        self.assertIn("(not measured)", ab.summarize("futex", [(None, None)]))

    def test_perf_stat_output(self):
        text = textwrap.dedent("""\
            # started on Sat Dec  5 10:00:00 2026

            208321,,raw_syscalls:sys_enter,1000,100.00,,
            18652,,syscalls:sys_enter_sendto,1000,100.00,,
            <not counted>,,syscalls:sys_enter_futex,0,0.00,,
            50216,,context-switches,1000,100.00,,
            """)
        self.assertEqual(ab.parse_counts(text), {"syscalls": 208321, "writes": 18652, "ctx_switches": 50216})


class Command(unittest.TestCase):
    def run_ab(self, *argv, env=None):
        return subprocess.run([sys.executable, os.path.join(HERE, "ab.py"), *argv], capture_output=True,
                              text=True, timeout=120, env=dict(os.environ, **(env or {})))

    def test_two_builds_interleaved(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = fake_build(os.path.join(tmp, "a"), 1.0)
            b = fake_build(os.path.join(tmp, "b"), 0.75)
            r = self.run_ab("capi", "--a", a, "--b", b, "--pairs", "4", "--calls", "10")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("pair 1 (AB): cpu 1.000/0.750 s", r.stdout)
            self.assertIn("pair 2 (BA): cpu 1.000/0.750 s", r.stdout)  # A's figure first, whatever ran first
            self.assertRegex(r.stdout, r"cpu +A +1\.0000 +B +0\.7500 +B/A +0\.750 +B lower in 4 of 4")

    def test_one_build_two_ways(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = fake_build(os.path.join(tmp, "a"), 1.0)
            r = self.run_ab("raw", "--a", a, "--b-env", "FAKE_EXTRA_CPU=0.25", "--pairs", "2", "--calls", "10")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"cpu +A +1\.0000 +B +1\.2500 +B/A +1\.250 +B lower in 0 of 2")
            r = self.run_ab("raw", "--a", a, "--b-kind", "tiny-slow", "--pairs", "2", "--calls", "10")
            self.assertRegex(r.stdout, r"cpu +A +1\.0000 +B +1\.5000")

    def test_a_failed_run_fails_the_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = fake_build(os.path.join(tmp, "a"), 1.0)
            r = self.run_ab("capi", "--a", a, "--b-env", "FAKE_FAIL=1", "--pairs", "1", "--calls", "10")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("FAILED: B", r.stdout + r.stderr)

    def test_a_client_the_build_lacks(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = fake_build(os.path.join(tmp, "a"), 1.0)
            r = self.run_ab("go", "--a", a, "--pairs", "1")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("has no go client", r.stdout + r.stderr)

    def test_counts_and_variables_it_cannot_use_are_usage_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = fake_build(os.path.join(tmp, "a"), 1.0)
            for argv, said in ((["capi", "--pairs", "0"], "positive"), (["capi", "--calls", "0"], "positive"),
                               (["capi", "--b-env", "FAKE_EXTRA_CPU"], "take K=V, not FAKE_EXTRA_CPU"),
                               (["capi", "--a-env", "=1"], "take K=V, not =1"), (["nosuch"], "unknown client")):
                r = self.run_ab(*argv, "--a", a)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(said, r.stderr)
                self.assertNotIn("pair 1", r.stdout)


if __name__ == "__main__":
    unittest.main()
