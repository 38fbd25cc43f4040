#!/usr/bin/python3
"""bench/compare/flame.py: a flame graph of one bench/compare client at work, one command.

    bench/compare/flame.py CLIENT [--window 64] [--calls 1000000] [--out FILE.svg] [--folded FILE]
                           [--freq 999] [--build DIR]
    bench/compare/flame.py --from-script PERF_SCRIPT_TEXT --out FILE.svg [--title TEXT]

Starts a fresh qix_bench_responder, runs CLIENT (capi, cpp, raw, go, gopeer, java, csharp: the clients of compare.py,
scenario "tiny", WINDOW calls in flight; csharp-pool: the C# client with its continuations on the thread pool) under `perf record` with call graphs, and draws what every thread of
the client spent its samples on as a flame graph (an SVG; hover a frame for its name, samples and share).
Each tower is one thread (its name as the kernel knows it: qix-io, qix-ev, a runtime's worker ...); a
frame's width is its share of all the client's samples, its own work and its callees'. Colours: the kernel
orange, libqix blue, a language runtime (Go, JVM, CoreCLR) green, the C library yellow, Boost and the C++
standard library purple, the rest red.

Native clients (capi, cpp, raw, go, gopeer) are unwound from DWARF call-frame data (libqix is built without frame
pointers); the JVM and .NET clients by frame pointers, with their JIT's symbol maps
(-XX:+DumpPerfMapAtExit; DOTNET_PerfMapEnabled=1 with DOTNET_EnableWriteXorExecute=0), so libqix frames under
managed code show as their leaf only, and their chains keep 48 frames at most (--max-depth; a walk through code
without frame pointers goes astray). The client's warm-up is in the profile too (QIX_BENCH_WARM_S, 0.5 s
unless set).

Needs `perf` (Debian: linux-perf) and the right to use it (root, or kernel.perf_event_paranoid <= 1). What
a profile looked like and what was read from it: docs/performance.md. --from-script draws the output of
`perf script -F comm,tid,ip,sym,dso` (any perf recording with call graphs) and needs neither perf nor a build;
--folded also writes the folded stacks ("thread;outer;...;leaf count" per line), as other flame graph tools
read them.
"""
import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# ------------------------------------------------------------------------------------------------ folding
def _frame_name(sym, dso):
    """A frame's label: its symbol, or [its object's file name] when perf had no symbol for it."""
    if sym and sym != "[unknown]":
        return sym
    base = os.path.basename(dso.strip("[]")) if dso else ""
    return f"[{base}]" if base else "[unknown]"


def parse_frame(line):
    """One call-chain line of `perf script` ("<ip> <symbol> (<object>)") as (symbol, object); None if it is
    not one. The symbol may contain spaces and parentheses (C++ templates); the object is the last
    parenthesised part."""
    text = line.strip()
    if not text:
        return None
    ip, _, rest = text.partition(" ")
    try:
        int(ip, 16)
    except ValueError:
        return None
    rest = rest.strip()
    sym, dso = rest, ""
    if rest.endswith(")") and " (" in rest:
        sym, _, dso = rest.rpartition(" (")
        dso = dso[:-1]
    elif rest.startswith("(") and rest.endswith(")"):  # no symbol at all: "(object)"
        sym, dso = "", rest[1:-1]
    return sym.strip(), dso


TRUNCATED = "[deeper frames left out]"


def fold(lines, max_depth=None):
    """Folds `perf script -F comm,tid,ip,sym,dso` output (samples with call chains, leaf first) into
    {"thread;outermost;...;leaf": samples}. A sample without a call chain counts as its thread alone;
    consecutive unnamed frames of one object ("[object]": code perf has no symbol for, often a frame-pointer
    walk gone astray in code built without them) count as one. With max_depth, a chain keeps its max_depth
    innermost frames under a frame TRUNCATED (a frame-pointer walk through code built without frame
    pointers, such as libqix under a JIT's code, goes on through garbage)."""
    stacks = {}
    comm = None
    frames = []

    def flush():
        if comm is not None:
            chain = []
            kept = frames if max_depth is None or len(frames) <= max_depth else frames[:max_depth] + [TRUNCATED]
            for f in reversed(kept):  # outermost first; a run of unnamed frames (a broken unwind) as one
                if f.startswith("[") and chain and chain[-1] == f:
                    continue
                chain.append(f.replace(";", ":"))
            key = ";".join([comm] + chain)
            stacks[key] = stacks.get(key, 0) + 1

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if line[0] not in " \t":  # a sample's header: "<comm> <tid>"; comm may contain spaces
            flush()
            head = line.rstrip().rsplit(" ", 1)
            comm = head[0].strip() if len(head) == 2 and head[1].isdigit() else line.strip()
            comm = comm.replace(";", ":") or "?"
            frames = []
            continue
        f = parse_frame(line)
        if f is not None and comm is not None:
            frames.append(_frame_name(*f))
    flush()
    return stacks


# ---------------------------------------------------------------------------------------------- drawing
class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.children = {}


def tree(stacks):
    """The folded stacks as a tree under a root named "all" (each node's count includes its callees')."""
    root = Node("all")
    for key, n in stacks.items():
        root.count += n
        node = root
        for name in key.split(";"):
            node = node.children.setdefault(name, Node(name))
            node.count += n
    return root


def colour(name, in_kernel=False):
    """A frame's fill: its family's hue, varied a little by its name (the same name, the same colour)."""
    h = (zlib.crc32(name.encode()) & 0xFFFF) / 0xFFFF
    low = name.lower()
    if in_kernel or name.startswith("[kernel"):
        base = (230, 140, 50)  # kernel
    elif "qix" in low:
        base = (80, 130, 220)  # libqix, its bindings' shims, the benchmark clients
    elif name.startswith(("runtime.", "[libjvm", "[libcoreclr", "[libclrjit")) or "Interpreter" in name \
            or name.startswith(("JavaCalls::", "JavaThread::", "jni_")):
        base = (90, 180, 90)  # language runtimes
    elif name.startswith(("__", "pthread_", "malloc", "cfree", "_int_", "[libc")) or name in ("free", "memcpy"):
        base = (210, 190, 60)  # the C library
    elif name.startswith(("boost::", "std::", "operator new", "operator delete", "[libstdc++")):
        base = (170, 120, 200)  # C++ libraries (Boost, the standard library)
    else:
        base = (220, 90, 70)
    r, g, b = (min(255, int(c + (h - 0.5) * 50)) for c in base)
    return f"rgb({r},{g},{b})"


def kernel_names(lines):
    """The symbols perf placed in the kernel ([kernel.kallsyms]), to colour them (folding drops objects)."""
    names = set()
    for line in lines:
        if "[kernel.kallsyms]" in line or "[kernel." in line:
            f = parse_frame(line)
            if f:
                names.add(_frame_name(*f))
    return names


_GO_PATH = re.compile(r"^[\w.~-]+(?:/[\w.~-]+)*/(?=[\w-]+\.)")


def label(name):
    """A frame's text in its box: Go's symbols without their package path ("qix.(*Session).drain" for
    "github.com/libqix/libqix/bindings/go/qix.(*Session).drain"); the tooltip keeps the whole name."""
    return _GO_PATH.sub("", name, count=1) if "/" in name.split("(", 1)[0] else name


def svg(root, title, width=1200, row=16, min_px=0.25, kernel=frozenset()):
    """The tree as an SVG flame graph (the root at the bottom). Frames narrower than min_px are left out."""
    if root.count == 0:
        raise ValueError("no samples")
    scale = (width - 20) / root.count
    rects = []
    depth_max = [0]

    def walk(node, x, depth):
        w = node.count * scale
        if w < min_px:
            return
        depth_max[0] = max(depth_max[0], depth)
        rects.append((node, x, depth, w))
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            walk(child, cx, depth + 1)
            cx += child.count * scale

    walk(root, 10.0, 0)
    height = (depth_max[0] + 1) * row + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbf7"/>',
           f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
           f'<text x="10" y="40" fill="#555">{root.count:,} samples; hover a frame for its name, samples and '
           f'share. Widths: share of all samples (own work and callees\').</text>']
    for node, x, depth, w in rects:
        y = height - (depth + 1) * row - 4
        share = 100.0 * node.count / root.count
        name = node.name
        fill = colour(name, name in kernel)
        tip = html.escape(f"{name} ({node.count:,} samples, {share:.2f} %)")
        out.append(f'<g><title>{tip}</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{row - 1}" '
                   f'fill="{fill}" rx="2"/>')
        chars = int((w - 4) / 6.6)  # a monospace character at font-size 11 is about 6.6 px wide
        if chars >= 3:
            text = label(name)
            text = text if len(text) <= chars else text[:chars - 2] + ".."
            out.append(f'<text x="{x + 2:.2f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------- recording
MANAGED = {"java", "csharp", "csharp-pool"}
MAX_FP_DEPTH = 48


def record(args):
    """Runs the client under perf against a fresh responder; returns the `perf script` text."""
    sys.path.insert(0, HERE)
    import compare  # noqa: E402  (the clients and the peer as compare.py runs them)

    perf = shutil.which("perf")
    if not perf:
        raise SystemExit("flame.py: perf not found (Debian: apt-get install linux-perf)")
    keys = {"capi": compare.CAPI, "cpp": compare.CPP, "raw": compare.RAW, "go": compare.GO,
            "gopeer": compare.GOPEER, "java": compare.JAVA, "csharp": compare.CSHARP,
            "csharp-pool": compare.CSHARP}
    # The C# client's kind tiny-pool: continuations on the thread pool (compare.py's row for it).
    kind = "tiny-pool" if args.client == "csharp-pool" else "tiny"
    if args.client not in keys:
        raise SystemExit(f"flame.py: unknown client {args.client!r} (one of {', '.join(keys)})")
    clients = compare.clients(args.build, "")
    responder = os.path.join(args.build, "bench", "qix_bench_responder")
    if keys[args.client] not in clients or not os.path.exists(responder) or \
            not shutil.which(clients[keys[args.client]][0]):
        raise SystemExit(f"flame.py: the build at {args.build} has no {args.client} client (or no responder): "
                         "build it first (cmake --build build), or name it with --build")
    env = dict(os.environ)
    env.setdefault("QIX_BENCH_WARM_S", "0.5")
    if args.client == "java":
        env["JAVA_TOOL_OPTIONS"] = (env.get("JAVA_TOOL_OPTIONS", "") +
                                    " -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit").strip()
    if args.client in ("csharp", "csharp-pool"):
        env["DOTNET_PerfMapEnabled"] = "1"
        env["DOTNET_EnableWriteXorExecute"] = "0"  # else JIT code runs from a double mapping perf cannot name
    graph = ["-g"] if args.client in MANAGED else ["--call-graph", "dwarf,16384"]
    with tempfile.TemporaryDirectory(prefix="qix-flame-") as tmp:
        data = os.path.join(tmp, "perf.data")
        peer, url = compare.start_peer(args.build, "responder")
        try:
            argv = [perf, "record", "-q", "-F", str(args.freq)] + graph + ["-o", data, "--"] + \
                clients[keys[args.client]] + [url, kind, str(args.calls), str(args.window)]
            run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1800)
        finally:
            compare.stop_peer(peer, 60)
        if run.returncode != 0 or "ok=" not in run.stdout:
            raise SystemExit(f"flame.py: the client failed (exit {run.returncode}):\n{run.stdout}{run.stderr}")
        print(run.stdout.strip(), file=sys.stderr)
        script = subprocess.run([perf, "script", "-i", data, "-F", "comm,tid,ip,sym,dso", "--no-inline"],
                                capture_output=True, text=True, timeout=1800)
        if script.returncode != 0:
            raise SystemExit(f"flame.py: perf script failed:\n{script.stderr[-2000:]}")
        return script.stdout


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("client", nargs="?", help="capi, cpp, raw, go, gopeer, java, csharp or csharp-pool")
    ap.add_argument("--window", type=int, default=64, help="calls in flight (default 64)")
    ap.add_argument("--calls", type=int, default=1000000, help="calls the client makes (default 1000000)")
    ap.add_argument("--freq", type=int, default=999, help="samples per second and thread (perf record -F)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="the build directory the client comes from (default: build/ of this checkout)")
    ap.add_argument("--out", help="the SVG to write (default: flame-CLIENT-wWINDOW.svg)")
    ap.add_argument("--folded", help="also write the folded stacks here")
    ap.add_argument("--title", help="the graph's title")
    ap.add_argument("--from-script", help="draw this `perf script` output instead of recording")
    ap.add_argument("--max-depth", type=int, default=0,
                    help=f"keep this many innermost frames per sample (default: all; {MAX_FP_DEPTH} for java and "
                         "csharp, whose call chains are walked by frame pointers)")
    args = ap.parse_args(argv)
    if args.from_script:
        with open(args.from_script) as f:
            text = f.read()
        title = args.title or os.path.basename(args.from_script)
        out = args.out or os.path.splitext(args.from_script)[0] + ".svg"
    else:
        if not args.client:
            ap.error("name a client, or give --from-script")
        text = record(args)
        title = args.title or (f"libqix bench/compare: {args.client}, {args.calls:,} tiny calls, "
                               f"window {args.window}")
        out = args.out or f"flame-{args.client}-w{args.window}.svg"
    lines = text.splitlines()
    # Frame-pointer call chains (the managed clients) through libqix, built without them, go astray.
    stacks = fold(lines, max_depth=args.max_depth or (MAX_FP_DEPTH if args.client in MANAGED else None))
    if not stacks:
        raise SystemExit("flame.py: no samples (is perf allowed to sample this process?)")
    if args.folded:
        with open(args.folded, "w") as f:
            for key in sorted(stacks):
                f.write(f"{key} {stacks[key]}\n")
    with open(out, "w") as f:
        f.write(svg(tree(stacks), title, kernel=kernel_names(lines)))
    print(f"wrote {out} ({sum(stacks.values()):,} samples)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
