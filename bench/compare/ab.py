#!/usr/bin/python3
"""bench/compare/ab.py: is B cheaper than A? Interleaved pairs of one bench/compare client, one command.

    bench/compare/ab.py CLIENT [--a BUILD] [--b BUILD] [--a-env K=V ...] [--b-env K=V ...]
                        [--a-kind KIND] [--b-kind KIND] [--calls 300000] [--window 64] [--pairs 6]
                        [--warm S] [--count]

A and B are two builds of libqix (say a worktree of main and your working tree: --a ../main/build --b build),
or one build run two ways: environment variables (--b-env DOTNET_TieredPGO=0) or the client's kind (--b-kind
tiny-pool, the C# client with its continuations on the thread pool). CLIENT is one of compare.py's: capi, cpp, raw, go, java, csharp, enigma.

Each pair runs A and B back to back, each against a fresh qix_bench_responder (A's build's), the order turned
round every other pair (AB, BA, AB ...), so that the host's drift between its slow and fast states hits both
alike. Per run: the client's own CPU seconds for its timed part (cpu_s, as compare.py reads it) and its wall
time; with --count also the kernel's exact counts for the client process (perf stat tracepoints: system calls,
writes, futex calls, context switches; strace would change how calls batch), which move far less than CPU
time on a shared host (they cover the client's warm-up too: --warm 0 leaves it out). It prints each pair, then
for each figure the medians of A and B, the median of the per-pair ratios B/A, in how many pairs B was lower,
and the sign test's two-sided p: how likely a split at least that lopsided is if A and B cost the same. A
change worth keeping shows in the ratio and in the split, and says how many pairs it took.

Exit status 0 when every run finished with every call answered, 1 otherwise (the failing run's output shown).
"""
import argparse
import contextlib
import math
import os
import re
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402  (its clients, peer and way of running a client)

KEYS = compare.KEYS  # the short names of compare.py's clients (capi, cpp, raw, go, java, csharp, enigma)
# What --count asks the kernel to count for the client process (perf stat -e), and the short names printed.
COUNTERS = [("raw_syscalls:sys_enter", "syscalls"), ("syscalls:sys_enter_sendto", "writes"),
            ("syscalls:sys_enter_futex", "futex"), ("context-switches", "ctx_switches")]


def sign_test(lower, n):
    """Two-sided sign test: the chance that n fair coin flips split at least as unevenly as `lower` of n."""
    if n == 0:
        return 1.0
    k = min(lower, n - lower)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def parse_counts(text):
    """perf stat -x, output -> {short name: count} (a counter perf could not read is left out)."""
    names = dict(COUNTERS)
    counts = {}
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] in names and fields[0].strip().isdigit():
            counts[names[fields[2]]] = int(fields[0])
    return counts


def summarize(figure, pairs):
    """One line for a figure over the pairs [(a, b)]: medians, median ratio, split, sign test."""
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not pairs:
        return f"{figure:13s} (not measured)"
    ratios = [b / a for a, b in pairs if a > 0]
    lower = sum(1 for a, b in pairs if b < a)
    ties = sum(1 for a, b in pairs if b == a)
    n = len(pairs) - ties
    med_a = statistics.median(a for a, _ in pairs)
    med_b = statistics.median(b for _, b in pairs)
    ratio = statistics.median(ratios) if ratios else float("nan")
    def num(x):
        return f"{x:12,.0f}" if abs(x) >= 100 else f"{x:12.4f}"
    return (f"{figure:13s} A {num(med_a)}  B {num(med_b)}  B/A {ratio:6.3f}  B lower in {lower} of {n}"
            f"  (sign test p = {sign_test(lower, n):.3f})")


@contextlib.contextmanager
def environment(pairs):
    """Sets the K=V pairs in os.environ for the duration (the client inherits them), then restores it."""
    saved = dict(os.environ)
    try:
        for kv in pairs:
            k, _, v = kv.partition("=")
            os.environ[k] = v
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_one(side, argv, peer_build, env, count, timeout, calls):
    """Runs the client (argv: its command, then what follows the URL) once against a fresh responder:
    {"cpu", "wall", "ok", counters...}; a failed or hung run raises SystemExit."""
    proc, url = compare.start_peer(peer_build, "responder")
    with tempfile.TemporaryDirectory(prefix="qix-ab-") as tmp:
        stat = os.path.join(tmp, "stat.txt")
        full = argv[0] + [url] + argv[1]
        if count:
            events = ",".join(e for e, _ in COUNTERS)
            full = ["perf", "stat", "-x", ",", "-o", stat, "-e", events, "--"] + full
        try:
            with environment(env):
                out, err, code, _, _ = compare.run_with_rusage(full, timeout)
        except compare.Hung as e:
            raise SystemExit(f"FAILED: {side} hung: {e}")
        finally:
            compare.stop_peer(proc, 60)
        m = re.search(r"ok=(\d+) failed=(\d+) wall_s=([\d.]+)", out)
        cpu = re.search(r"cpu_s=([\d.]+)", out)
        if code != 0 or not m or not cpu or int(m.group(2)) != 0 or int(m.group(1)) != calls:
            raise SystemExit(f"FAILED: {side} ({' '.join(full)}): exit {code}\n{out}{err[-2000:]}")
        row = {"cpu": float(cpu.group(1)), "wall": float(m.group(3)), "ok": int(m.group(1))}
        if count:
            with open(stat) as f:
                row.update(parse_counts(f.read()))
        return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("client", help=", ".join(KEYS))
    ap.add_argument("--a", default=os.path.join(compare.ROOT, "build"), help="A's build directory")
    ap.add_argument("--b", default="", help="B's build directory (default: A's)")
    ap.add_argument("--a-env", action="append", default=[], metavar="K=V",
                    help="an environment variable for A's runs (repeatable)")
    ap.add_argument("--b-env", action="append", default=[], metavar="K=V",
                    help="an environment variable for B's runs (repeatable)")
    ap.add_argument("--a-kind", default="tiny",
                    help="the client's kind for A (default tiny; the C API client also takes tiny-dispatch, "
                         "page, delta, the C# client tiny-pool)")
    ap.add_argument("--b-kind", default="", help="the client's kind for B (default: A's)")
    ap.add_argument("--calls", type=compare.positive, default=300000, help="timed calls per run (default 300000)")
    ap.add_argument("--window", type=int, default=64, help="calls in flight (default 64)")
    ap.add_argument("--pairs", type=compare.positive, default=6, help="interleaved A/B pairs (default 6)")
    ap.add_argument("--warm", default="", help="QIX_BENCH_WARM_S for both (the clients' default 1.5 unless set)")
    ap.add_argument("--count", action="store_true", help="also count system calls etc. with perf stat")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one run may take before it is a hang")
    args = ap.parse_args()
    if args.client not in KEYS:
        ap.error(f"unknown client {args.client!r} (one of {', '.join(KEYS)})")
    bad_env = [e for e in args.a_env + args.b_env if "=" not in e or e.startswith("=")]
    if bad_env:
        ap.error(f"--a-env/--b-env take K=V, not {', '.join(bad_env)}")
    if args.count and not shutil.which("perf"):
        raise SystemExit("ab.py: --count needs perf (Debian: apt-get install linux-perf)")
    b_build = args.b or args.a
    b_kind = args.b_kind or args.a_kind
    sides = {}
    for side, build, kind, env in (("A", args.a, args.a_kind, args.a_env), ("B", b_build, b_kind, args.b_env)):
        clients = compare.clients(build, shutil.which("node") or "")
        if KEYS[args.client] not in clients:
            raise SystemExit(f"ab.py: the build at {build} has no {args.client} client: build it first")
        argv = (clients[KEYS[args.client]], [kind, str(args.calls), str(args.window)])
        if args.warm:
            env = env + [f"QIX_BENCH_WARM_S={args.warm}"]
        sides[side] = (argv, env)
        print(f"{side}: {build} {args.client} {kind} {args.calls} {args.window} {' '.join(env)}".rstrip(),
              flush=True)
    results = []
    for i in range(args.pairs):
        order = "AB" if i % 2 == 0 else "BA"
        got = {}
        for side in order:
            argv, env = sides[side]
            got[side] = run_one(side, argv, args.a, env, args.count, args.timeout, args.calls)
        extra = "".join(f" {k} {got['A'].get(k, '-')}/{got['B'].get(k, '-')}" for _, k in COUNTERS
                        if args.count)
        print(f"pair {i + 1} ({order}): cpu {got['A']['cpu']:.3f}/{got['B']['cpu']:.3f} s "
              f"wall {got['A']['wall']:.3f}/{got['B']['wall']:.3f} s{extra}", flush=True)
        results.append(got)
    print(f"\n{args.pairs} pairs, A/B interleaved; medians:")
    figures = ["cpu", "wall"] + ([k for _, k in COUNTERS] if args.count else [])
    for fig in figures:
        print(summarize(fig, [(r["A"].get(fig), r["B"].get(fig)) for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
