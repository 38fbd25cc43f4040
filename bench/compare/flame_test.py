#!/usr/bin/python3
"""Tests of bench/compare/flame.py's folding and drawing (CTest bench.flame), on canned `perf script` text:
no perf, no build needed."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flame  # noqa: E402

# Three samples of two threads, as `perf script -F comm,tid,ip,sym,dso --no-inline` prints them: the leaf
# first; a C++ symbol with spaces and parentheses; a frame with no symbol; a thread name with a space.
SCRIPT = """\
qix-io 101 
\tffffffff81000000 tcp_sendmsg ([kernel.kallsyms])
\t7f0000001000 qix::core::Session::send(std::function<void (int)>) (/build/capi/libqix.so.1.0.0)
\t7f0000002000 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

qix-io 101 
\t7f0000001000 qix::core::Session::send(std::function<void (int)>) (/build/capi/libqix.so.1.0.0)
\t7f0000002000 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)

.NET TP Worker 202 
\t7f0000003000 [unknown] (/usr/lib/libcoreclr.so)
\t7f0000003001 [unknown] (/usr/lib/libcoreclr.so)
\t7f0000004000 github.com/libqix/libqix/bindings/go/qix.(*Session).drain (/bench/qix_bench_go)

"""


class FoldTest(unittest.TestCase):
    def test_stacks_are_folded_outermost_first_per_thread(self):
        stacks = flame.fold(SCRIPT.splitlines())
        self.assertEqual(stacks, {
            "qix-io;start_thread;qix::core::Session::send(std::function<void (int)>);tcp_sendmsg": 1,
            "qix-io;start_thread;qix::core::Session::send(std::function<void (int)>)": 1,
            ".NET TP Worker;github.com/libqix/libqix/bindings/go/qix.(*Session).drain;[libcoreclr.so]": 1,
        })

    def test_a_deep_chain_keeps_its_innermost_frames(self):
        lines = ["t 1"] + [f"\t{0x1000 + i:x} f{i} (/x.so)" for i in range(10)] + [""]
        (key, n), = flame.fold(lines, max_depth=3).items()
        self.assertEqual(key, f"t;{flame.TRUNCATED};f2;f1;f0")
        self.assertEqual(n, 1)

    def test_a_frame_line_is_split_at_its_last_parenthesis(self):
        self.assertEqual(flame.parse_frame("\t7f01 a::b(c (d)) (/lib/x.so)"), ("a::b(c (d))", "/lib/x.so"))
        self.assertIsNone(flame.parse_frame("not a frame"))

    def test_go_labels_lose_their_package_path_only(self):
        self.assertEqual(flame.label("github.com/libqix/libqix/bindings/go/qix.(*Session).drain"),
                         "qix.(*Session).drain")
        self.assertEqual(flame.label("std::function<void (a/b)>::operator()"), "std::function<void (a/b)>::operator()")


class DrawTest(unittest.TestCase):
    def test_widths_are_shares_of_all_samples(self):
        stacks = {"a;x": 3, "a;y": 1}
        out = flame.svg(flame.tree(stacks), "t", width=420, min_px=0)
        widths = {m.group(1): float(m.group(2)) for m in re.finditer(
            r"<title>(\w+) \([\d,]+ samples[^<]*</title><rect x=\"[\d.]+\" y=\"\d+\" width=\"([\d.]+)\"", out)}
        self.assertAlmostEqual(widths["all"], 400.0)
        self.assertAlmostEqual(widths["a"], 400.0)
        self.assertAlmostEqual(widths["x"], 300.0)
        self.assertAlmostEqual(widths["y"], 100.0)

    def test_names_are_escaped_and_narrow_frames_left_out(self):
        stacks = {"t;f<int>&g": 1000, "t;tiny": 1}
        out = flame.svg(flame.tree(stacks), "a <b>", width=220, min_px=1)
        self.assertIn("f&lt;int&gt;&amp;g", out)
        self.assertIn("a &lt;b&gt;", out)
        self.assertNotIn("tiny", out)  # 0.2 px wide

    def test_the_command_draws_a_script_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "sample.txt")
            with open(src, "w") as f:
                f.write(SCRIPT)
            out, folded = os.path.join(tmp, "g.svg"), os.path.join(tmp, "g.folded")
            r = subprocess.run([sys.executable, flame.__file__, "--from-script", src, "--out", out, "--folded",
                                folded], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out) as f:
                self.assertTrue(f.read().startswith("<svg"))
            with open(folded) as f:
                self.assertEqual(len(f.read().splitlines()), 3)


if __name__ == "__main__":
    unittest.main()
