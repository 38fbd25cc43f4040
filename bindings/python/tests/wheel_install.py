"""The test python.wheel_install: the wheel built by CMake installs offline into a fresh venv (with the system's
site packages, for numpy and pandas) and works from outside the source and build trees, with the libqix.so.1
it bundles.  Usage: wheel_install.py DIST_DIR VENV_DIR"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import Sim  # noqa: E402

dist, venv = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(dist, "libqix-*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel in {dist}, found {wheels}")
shutil.rmtree(venv, ignore_errors=True)
subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
py = os.path.join(venv, "bin", "python")
subprocess.run([py, "-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check", "-q",
                wheels[0]], check=True)
env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIBQIX_LIBRARY", "LD_LIBRARY_PATH")}
sim = Sim()
try:
    code = f"""
import libqix, os, sys
assert libqix.__file__.startswith({venv!r}), libqix.__file__
assert os.path.exists(os.path.join(os.path.dirname(libqix.__file__), "_lib", "libqix.so.1"))
from libqix import _fast  # the extension is in the wheel
assert os.path.exists(os.path.join(os.path.dirname(libqix.__file__), "py.typed"))
with libqix.connect({sim.url()!r}) as s:
    doc = s.open_doc("demo")
    df = libqix.extract(doc, dimensions=["Region"], measures=["Sum(Sales)"], progress=False)
    assert abs(df["Sum(Sales)"].sum() - float(doc.evaluate("Sum(Sales)"))) < 1e-6
print("wheel ok", libqix.__version__, libqix.__file__)
"""
    with tempfile.TemporaryDirectory() as outside:
        out = subprocess.run([py, "-c", code], cwd=outside, env=env, capture_output=True, text=True)
    print(out.stdout, out.stderr)
    if out.returncode != 0 or "wheel ok" not in out.stdout:
        sys.exit("the installed wheel does not work")
finally:
    sim.stop()
