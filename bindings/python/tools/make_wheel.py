#!/usr/bin/env python3
"""Builds the wheel of package libqix without setuptools: a wheel is a zip of the package plus
libqix-<version>.dist-info/{METADATA,WHEEL,RECORD} (PEP 427). Standard library only; run by CMake.

    make_wheel.py --version V --package DIR --library LIBQIX_SO --out DIST_DIR

DIR is the staged package (the .py files, py.typed and the built extension _fast*.so); LIBQIX_SO is the
libqix.so.1 to bundle, stored as libqix/_lib/libqix.so.1 (libqix/_native.py loads it from there first).
The wheel is tagged for this interpreter and platform (cp311-cp311-linux_x86_64), since it carries native code.
Prints the wheel's path.
"""

import argparse
import base64
import hashlib
import os
import sys
import sysconfig
import zipfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("--package", required=True)
    ap.add_argument("--library", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    tag = f"{py}-{py}-{plat}"
    name = f"libqix-{a.version}-{tag}.whl"
    info = f"libqix-{a.version}.dist-info"
    files = []
    for root, dirs, names in os.walk(a.package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for n in sorted(names):
            if n.endswith((".py", ".so")) or n == "py.typed":
                full = os.path.join(root, n)
                files.append((os.path.join("libqix", os.path.relpath(full, a.package)), full))
    files.append(("libqix/_lib/libqix.so.1", a.library))
    metadata = "\n".join([
        "Metadata-Version: 2.1",
        "Name: libqix",
        f"Version: {a.version}",
        "Summary: Client for the Qlik QIX Engine (Engine API over WebSocket): typed, asyncio, pandas",
        "License: see the libqix sources",
        "Requires-Python: >=3.11",
        "Provides-Extra: pandas",
        "Requires-Dist: numpy; extra == \"pandas\"",
        "Requires-Dist: pandas; extra == \"pandas\"",
        "",
        "libqix for Python: docs/python.md in the libqix sources.",
        "",
    ])
    wheel = f"Wheel-Version: 1.0\nGenerator: libqix make_wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n"
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, name)
    record = []

    def digest(data):
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"sha256={h}", str(len(data))

    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, full in files:
            with open(full, "rb") as f:
                data = f.read()
            zi = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = (0o755 if arc.endswith(".so") or arc.endswith(".so.1") else 0o644) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
            record.append((arc, *digest(data)))
        for arc, text in ((f"{info}/METADATA", metadata), (f"{info}/WHEEL", wheel)):
            data = text.encode()
            z.writestr(zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0)), data)
            record.append((arc, *digest(data)))
        rec = "".join(f"{p},{h},{n}\n" for p, h, n in record) + f"{info}/RECORD,,\n"
        z.writestr(zipfile.ZipInfo(f"{info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)), rec)
    for old in os.listdir(a.out):
        if old.startswith("libqix-") and old.endswith(".whl") and old != name:
            os.remove(os.path.join(a.out, old))
    os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
