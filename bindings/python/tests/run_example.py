"""The test python.example: runs every examples/python/*.py against a fresh simulator and checks its output."""

import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import Sim  # noqa: E402

example_dir = sys.argv[1]
sim = Sim("--require-header", "X-Example: python")
try:
    for path in sorted(glob.glob(os.path.join(example_dir, "*.py"))):
        out = subprocess.run([sys.executable, path, sim.url()], capture_output=True, text=True)
        print(out.stdout, out.stderr, sep="\n")
        if out.returncode != 0:
            sys.exit(f"{path} exited with {out.returncode}")
        for want in ("Sum(Sales) =", "after selecting Benelux: 1 region(s)", "engine error: LOCERR", "async:",
                     "watch: the chart has"):
            if want not in out.stdout:
                sys.exit(f"{path}: {want!r} missing from its output")
finally:
    sim.stop()
print("python.example: ok")
