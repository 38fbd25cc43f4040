#!/usr/bin/python3
"""bench/compare: libqix side by side with enigma.js and a raw Beast client, one command.

    bench/compare/compare.py [--build DIR] [--rounds 3] [--calls 100000] [--smoke] [--only SCENARIO,...]

Every client is a separate process talking to a fresh qix_bench_responder (one cheap thread, see
responder.cpp), started for each run, so that each figure is one client's own: CPU is the user+sys time of the
client process (wait4's rusage), RSS its peak resident set. Rounds are interleaved (round 1 runs every client,
then round 2 ...), so a noisy machine disturbs every client alike; each cell shows the median of the rounds
and the CPU column min/median/max. Ratios are taken between medians of the same run.

--smoke runs a few hundred calls, one round, and fails (exit 1) unless every client finished with every call
answered once: CI runs it (CTest bench.compare_smoke); it measures nothing worth reading.

Scenarios (see each client for the details):
  tiny-w1, tiny-w64, tiny-w1024  EngineVersion calls with 1, 64, 1024 in flight, the next one issued from each
                                 completion (default options)
  page                           GetHyperCubeData answered with a 10,000-cell page (about 640 kB), one at a time
  delta                          GetLayout of a ~1 MB layout re-fetched after a one-cell change (delta patch)
  idle                           1,000 idle sessions in one process: threads and memory per session
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def start_responder(build):
    exe = os.path.join(build, "bench", "qix_bench_responder")
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.match(r"listening on (ws://\S+)", line)
    if not m:
        raise SystemExit("responder did not start: " + line + p.stderr.read())
    return p, m.group(1)


def stop_responder(p):
    p.terminate()
    _, err = p.communicate()
    m = re.search(r"bytes_in=(\d+) bytes_out=(\d+) cpu_s=([\d.]+)", err)
    if not m:
        raise SystemExit("responder gave no counters: " + err)
    return int(m.group(1)) + int(m.group(2)), float(m.group(3))


def run_with_rusage(argv):
    """Runs one client to its end: (stdout, stderr, exit status, CPU seconds, peak RSS in kB)."""
    r, w = os.pipe()
    er, ew = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(ew, 2)
        os.close(r)
        os.close(er)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.close(w)
    os.close(ew)
    with os.fdopen(r) as fo, os.fdopen(er) as fe:
        out = fo.read()
        err = fe.read()
    _, status, ru = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return out, err, code, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def clients(build, node):
    b = os.path.join(build, "bench")
    c = {
        "raw C++ (Beast)": [os.path.join(b, "qix_bench_raw")],
        "libqix C API": [os.path.join(b, "qix_bench_capi")],
    }
    if node:
        c["enigma.js 2.15"] = [node, os.path.join(HERE, "client_enigma.js")]
    return c


SUPPORTS = {
    "raw C++ (Beast)": {"tiny", "page"},
    "libqix C API": {"tiny", "page", "delta", "idle"},
    "enigma.js 2.15": {"tiny", "page", "delta"},
}


def scenarios(calls, smoke):
    small = 300 if smoke else None
    return [
        ("tiny-w1", "tiny", small or max(1, calls // 5), 1),
        ("tiny-w64", "tiny", small or calls, 64),
        ("tiny-w1024", "tiny", small or calls, 1024),
        ("page", "page", 20 if smoke else 200, 1),
        ("delta", "delta", 20 if smoke else 200, 1),
        ("idle", "idle", 20 if smoke else 1000, 0),
    ]


def fmt(x, digits=2):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=100000)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--node", default=shutil.which("node") or "")
    args = ap.parse_args()
    rounds = 1 if args.smoke else args.rounds
    only = set(filter(None, args.only.split(",")))
    cl = clients(args.build, args.node)
    if not args.node:
        print("note: node not found, enigma.js is left out", file=sys.stderr)
    results = {}  # (scenario, client) -> list of dicts
    failures = []
    scen = [s for s in scenarios(args.calls, args.smoke) if not only or s[0] in only]
    for rnd in range(rounds):
        for name, kind, calls, window in scen:
            for client, argv in cl.items():
                if kind not in SUPPORTS[client]:
                    continue
                resp, url = start_responder(args.build)
                try:
                    out, err, code, cpu, rss = run_with_rusage(argv + [url, kind, str(calls), str(window)])
                finally:
                    wire, resp_cpu = stop_responder(resp)
                m = re.search(r"ok=(\d+) failed=(\d+) wall_s=([\d.]+)", out)
                if code != 0 or not m or int(m.group(1)) != calls:
                    failures.append(f"{name} / {client}: exit {code}, output {out.strip()!r} {err.strip()[-400:]!r}")
                    continue
                wall = float(m.group(3))
                row = {"wall": wall, "cpu": cpu, "rss": rss, "wire": wire, "resp_cpu": resp_cpu, "calls": calls}
                t = re.search(r"threads=(\d+) rss_kb=(\d+)", out)
                if t:
                    row["threads"] = int(t.group(1))
                    row["idle_rss_kb"] = int(t.group(2))
                results.setdefault((name, client), []).append(row)
                print(f"round {rnd + 1} {name:11s} {client:16s} wall {wall:8.3f} s cpu {cpu:7.3f} s "
                      f"rss {rss / 1024:7.1f} MB responder busy {100 * resp_cpu / max(wall, 1e-9):5.1f} %",
                      file=sys.stderr, flush=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    if args.smoke:
        print(f"smoke: every client answered every call ({len(results)} scenario/client pairs)")
        return 0

    print(f"\n{rounds} rounds, interleaved; medians (CPU: min / median / max). "
          f"CPU = user+sys of the client process.\n")
    for name, kind, calls, window in scen:
        if kind == "idle":
            rows = results.get((name, "libqix C API"), [])
            if rows:
                th = statistics.median(r["threads"] for r in rows)
                kb = statistics.median(r["idle_rss_kb"] for r in rows)
                print(f"**{name}**: {calls} idle sessions in one process: {th:.0f} threads, "
                      f"{kb / 1024:.1f} MB RSS, {kb / calls:.1f} KiB per session (incl. the process's base)\n")
            continue
        unit = 100000 if kind == "tiny" else calls
        per = "100k calls" if kind == "tiny" else f"{calls} calls"
        print(f"**{name}** ({calls:,} calls, window {window})\n")
        print(f"| client | calls/s | CPU s per {per} (min / med / max) | peak RSS MB | wire MB | "
              f"CPU vs enigma.js | CPU vs raw | responder busy |")
        print("|---|---|---|---|---|---|---|---|")
        med = {}
        for client in cl:
            rows = results.get((name, client))
            if rows:
                med[client] = statistics.median(r["cpu"] for r in rows) * unit / calls
        for client in cl:
            rows = results.get((name, client))
            if not rows:
                continue
            cpus = sorted(r["cpu"] * unit / calls for r in rows)
            rate = statistics.median(r["calls"] / r["wall"] for r in rows)
            rss = statistics.median(r["rss"] for r in rows) / 1024
            wire = statistics.median(r["wire"] for r in rows) / 1e6
            busy = statistics.median(r["resp_cpu"] / r["wall"] for r in rows) * 100
            ve = med[client] / med["enigma.js 2.15"] if "enigma.js 2.15" in med else None
            vr = med[client] / med["raw C++ (Beast)"] if "raw C++ (Beast)" in med else None
            print(f"| {client} | {rate:,.0f} | {fmt(cpus[0])} / {fmt(statistics.median(cpus))} / {fmt(cpus[-1])} "
                  f"| {rss:.1f} | {wire:.1f} | {fmt(ve)}× | {fmt(vr)}× | {busy:.0f} % |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
