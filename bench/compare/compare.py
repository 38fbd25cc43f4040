#!/usr/bin/python3
"""bench/compare: libqix side by side with enigma.js and a raw Beast client, one command.

    bench/compare/compare.py [--build DIR] [--rounds 3] [--calls 100000] [--smoke] [--only SCENARIO,...]
                             [--require CLIENT,...] [--timeout S] [--no-build] [--peer-spin]

First it brings the build (DIR, build/ unless given) up to date with what the clients need: `cmake --build DIR
--target qix_bench_compare` (the responder, the native clients, the simulator, and each binding's client that
the build makes), configuring DIR first (`cmake -S . -B DIR -G Ninja`) when it has never been; --no-build runs
the build as it is (CTest's smoke run does). enigma.js comes from tests/conformance/node_modules (or
QIX_BENCH_NODE_MODULES): `npm ci` there, as scripts/install-deps does; without it enigma.js is left out.

Every client is a separate process talking to a fresh qix_bench_responder (one cheap thread, see
responder.cpp), started for each run, so that each figure is one client's own: CPU is the user+sys time the
client process spent in its timed part (each client reports it: getrusage, process.cpuUsage, the JVM's and
.NET's process CPU time; so start-up, JIT warm-up and set-up are left out alike), RSS its peak resident set
(wait4's rusage). Wire bytes and the peer's CPU ("peer busy": its CPU over the client's timed wall time)
come from the peer's counters; in the tiny scenarios, whose managed clients and enigma.js warm up first, they
are the timed calls' share of them (total x timed calls / requests answered). The warm-up is the same for
each of them: CALLS/10 calls, repeated until QIX_BENCH_WARM_S seconds went by (1.5 unless set; 0 with --smoke),
so that a JIT (the JVM's C2, .NET's tiered compilation, V8's optimising compiler) is done with the call path
before the timed part; the Java and C# clients then go on until their JIT compiled nothing for half a second
(at most 20 s in all), and print the JIT's compile time within their timed part (jit_s), shown in each
round's line. The Java client also fills the JVM's young generation with garbage once before that, until a
collection ran at its final size (QixBenchJava.settleHeap: without it the timed part paid the kernel's first
touch of the heap it allocated, 26,000 page faults per 300,000 calls, 1.6 times the CPU time of the steady
state; QIX_BENCH_JAVA_SETTLE=0 leaves it out), reads its meters in every warm-up round (what first runs right
before the timed part can have the JIT recompile the call path in it), and prints the timed part's minor page
faults (faults) and collections (gcs, with their time). The Java, C# and Go clients print the bytes their
runtime's heap allocated per timed call (alloc_b) and the C# and Go clients their collections (gcs). Rounds
are interleaved (round 1 runs every client, then round 2 ...), so a noisy machine disturbs every client
alike; each cell shows the median of the rounds and the CPU column min/median/max. Ratios are taken between
medians of the same run.
In the tiny scenarios each binding's run (Java, Go, C#: the rows target P6 is about) is followed at once by one
more run of the C API client ("libqix C API, right after Java" in the round lines), and a P6 table under each
tiny table gives each binding's CPU per call against the C API's both ways: the ratio of the two rows'
medians, and per round the binding's run against the C API run right after it (min / median / max). The
host's speed moves between runs (up to 1.7 times the CPU for the same work, in runs seconds or minutes apart),
and a binding's row runs up to a minute after the C API's own row in a round: a pair run back to back meets
the host in one state more often, and the median of the pairs carries one that does not.

--smoke runs a few hundred calls, one round, and fails (exit 1) unless every client finished with every call
answered once: CI runs it (CTest bench.compare_smoke); it measures nothing worth reading.

--timeout S: a client still running after S seconds (120 with --smoke, else 1800) is a hang, not a result: its
threads' stacks are printed (gdb), it gets SIGQUIT (the JVM and Go print their stacks, the C# client where it
is), then it is killed and the run fails. So a hang fails with what it was doing, not with CTest's timeout.

--peer-spin: every responder polls its sockets in a loop instead of sleeping (responder.cpp --spin), so that
no request waits for the peer's wake-up: at window 1, what each client's own part of a round trip costs, with
the peer's wake-up (common to all of them) taken out. It spends one of the host's cores: not for the tables of
docs/performance.md, whose peer sleeps as a server does.

Scenarios (see each client for the details):
  tiny-w1, tiny-w64, tiny-w1024  EngineVersion calls with 1, 64, 1024 in flight, the next one issued from each
                                 completion (default options; the C API client also once with events.inline
                                 off, every callback on a dispatcher thread, and the C# client once with its
                                 continuations on the thread pool, its one option; the Go client once more
                                 with a goroutine blocked per call in flight, Go's usual form, where its first
                                 row chains typed Async calls as the Java and C# clients do; and the Go peer,
                                 a pure-Go client of enigma-go's design on gorilla/websocket);
                                 tiny-w1 also runs the raw
                                 client busy-polling its
                                 socket (a core spent so that no answer waits for a wake-up): the ceiling a
                                 round trip to this peer allows, which no client reaches by waiting
  page                           GetHyperCubeData answered with a 10,000-cell page (about 640 kB), one at a time
  delta                          GetLayout of a ~1 MB layout re-fetched after a one-cell change (delta patch)
  idle                           1,000 idle sessions in one process: threads and memory per session
  extract                        1,000,000 rows of qix-engine-sim's demo-large: libqix's pipelined extraction,
                                 libqix in a loop of GetHyperCubeData pages, enigma.js in the same loop
                                 (against the simulator, whose CPU is the peer's; not in --smoke)
"""
import argparse
import glob
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def start_peer(build, peer, spin=False):
    """Starts the responder (peer "responder"; polling in a loop with `spin`) or qix-engine-sim ("sim");
    returns (process, url)."""
    if peer == "sim":
        argv = [os.path.join(build, "tools", "engine-sim", "qix-engine-sim"), "--port", "0"]
    else:
        argv = [os.path.join(build, "bench", "qix_bench_responder")] + (["--spin"] if spin else [])
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.match(r"listening on (ws://\S+)", line)
    if not m:
        raise SystemExit(f"{argv[0]} did not start: " + line + p.stderr.read())
    return p, m.group(1)


def backtraces(pid):
    """Every thread's stack of a running process, from gdb when there is one (for a client or peer that hangs)."""
    gdb = shutil.which("gdb")
    if not gdb:
        return "(no gdb: no stacks)"
    try:
        r = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx", "-ex", "set pagination off",
                            "-ex", "thread apply all bt 30"], capture_output=True, text=True, timeout=120)
        return "\n".join(l for l in r.stdout.splitlines() if l.startswith(("#", "Thread ")))
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"(gdb failed: {e})"


def exited_within(pid, seconds):
    """Waits up to `seconds` for process `pid` to end, without reaping it (wait4 reaps it later and takes its
    rusage): a pidfd becomes readable when the process ends."""
    pidfd = os.pidfd_open(pid)
    try:
        return bool(select.select([pidfd], [], [], max(seconds, 0))[0])
    finally:
        os.close(pidfd)


def stop_peer(p, timeout):
    """Stops the peer; returns (bytes on the wire or None, the peer's CPU seconds, the requests it answered or
    None). A peer still there after `timeout` seconds is a hang: its stacks are printed and it is killed
    (SystemExit)."""
    p.terminate()
    if not exited_within(p.pid, timeout):
        stacks = backtraces(p.pid)
        p.kill()
        raise SystemExit(f"FAILED: the peer (pid {p.pid}) did not stop within {timeout} s of SIGTERM; "
                         f"its threads:\n{stacks}")
    err = p.stderr.read()
    p.stdout.read()
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0  # reaped here, not by Popen
    m = re.search(r"requests=(\d+) bytes_in=(\d+) bytes_out=(\d+)", err)
    wire = int(m.group(2)) + int(m.group(3)) if m else None
    return wire, ru.ru_utime + ru.ru_stime, int(m.group(1)) if m else None


class Hung(Exception):
    """A client that did not end within its time: what it printed so far and its threads' stacks."""


def proc_cpu(pid):
    """The CPU seconds process `pid` has spent so far (/proc), or None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_with_rusage(argv, timeout, on_clock=None):
    """Runs one client to its end: (stdout, stderr, exit status, CPU seconds, peak RSS in kB). A client still
    running after `timeout` seconds is a hang: its stacks are taken, it is killed, and Hung is raised.
    `on_clock` runs once, as soon as the client prints a line "clock_start" (its timed part begins)."""
    r, w = os.pipe()
    er, ew = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(ew, 2)
        os.close(r)
        os.close(er)
        # SIGQUIT as a program expects it (its report on a hang, below): a shell running us in the background
        # may have had it ignored, and an ignored signal stays ignored across exec.
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.close(w)
    os.close(ew)
    out, err = [], []
    open_fds = {r: out, er: err}
    clocked = []

    def read_until(deadline):
        """Reads both pipes until they close (True) or `deadline` passes (False)."""
        while open_fds:
            left = deadline - time.monotonic()
            ready = select.select(list(open_fds), [], [], left)[0] if left > 0 else []
            if not ready:
                return False
            for fd in ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    open_fds[fd].append(chunk.decode(errors="replace"))
                    if fd == r and on_clock and not clocked and "clock_start" in "".join(out):
                        clocked.append(True)
                        on_clock()
                else:
                    os.close(fd)
                    del open_fds[fd]
        return True

    deadline = time.monotonic() + timeout
    # Its output closed is not its end: a client may close it and go on.
    if not read_until(deadline) or not exited_within(pid, deadline - time.monotonic()):
        # Hung: the native stacks first, then SIGQUIT, on which the JVM and Go print their threads' stacks
        # and the C# client its counters, then the end.
        stacks = backtraces(pid)
        os.kill(pid, signal.SIGQUIT)
        read_until(time.monotonic() + 10)
        os.kill(pid, signal.SIGKILL)
        os.wait4(pid, 0)
        for fd in open_fds:
            os.close(fd)
        raise Hung(f"still running after {timeout} s; its output:\n{''.join(out)[-6000:]}\n{''.join(err)[-6000:]}"
                   f"\nits threads (gdb):\n{stacks}")
    _, status, ru = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return "".join(out), "".join(err), code, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


RAW, CAPI, ENIGMA = "raw C++ (Beast)", "libqix C API", "enigma.js 2.15"
RAW_SPIN = "raw C++, busy-polling (the ceiling)"
JAVA = "libqix Java (typed API)"
GO = "libqix Go (typed API)"
# The Go client with a goroutine per call in flight, each blocked in the typed method (Go's usual way; the
# Go row above issues the next call from each completion, as the Java and C# rows do).
GO_GOROUTINES = "libqix Go, a goroutine blocked per call"
CSHARP = "libqix C# (typed API)"
# The same client with SessionOptions.AllowSynchronousContinuations false (not the defaults P6 is about): what
# the thread pool's hand-off costs.
CSHARP_POOL = "libqix C#, continuations on the thread pool"
# The C API client with events.inline off (every callback handed to a dispatcher thread, the default before
# 2026-12-05; not the defaults the targets are about): what running callbacks on the I/O thread saves.
CAPI_DISPATCH = "libqix C API, events.inline off"
CPP = "libqix C++ facade"
# A pure-Go QIX client of enigma-go's design (gorilla/websocket, a goroutine and a channel per call,
# encoding/json; bench/compare/gopeer): what Go's own way of making calls costs, next to the Go binding.
GOPEER = "pure Go client (gorilla/websocket)"
# The bindings' rows P6 is about (their CPU per tiny call against the C API's), with the names their paired C
# API runs are labelled with.
P6_BINDINGS = {JAVA: "Java", GO: "Go", CSHARP: "C#"}
# Short names of the clients, for --require.
KEYS = {"raw": RAW, "capi": CAPI, "enigma": ENIGMA, "java": JAVA, "go": GO, "csharp": CSHARP, "cpp": CPP,
        "gopeer": GOPEER}


def ensure_built(build):
    """Brings `build` up to date with what the clients need (CMake target qix_bench_compare), configuring it
    first (Ninja, the project's defaults) when it has never been; returns None, or why it failed."""
    steps = []
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        steps.append(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja"])
    steps.append(["cmake", "--build", build, "--target", "qix_bench_compare"])
    for argv in steps:
        print("compare.py: " + " ".join(argv), file=sys.stderr, flush=True)
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            return f"{' '.join(argv)} failed (exit {r.returncode}):\n" + (r.stdout + r.stderr)[-4000:]
    return None


def enigma_modules():
    """Where client_enigma.js finds enigma.js and ws (QIX_BENCH_NODE_MODULES, else tests/conformance's)."""
    return os.environ.get("QIX_BENCH_NODE_MODULES") or os.path.join(ROOT, "tests", "conformance", "node_modules")


def clients(build, node):
    """The clients this build has: {label: argv prefix}. A binding's client is there when the build made it."""
    b = os.path.join(build, "bench")
    c = {RAW: [os.path.join(b, "qix_bench_raw")], CAPI: [os.path.join(b, "qix_bench_capi")]}
    if os.path.exists(os.path.join(b, "qix_bench_cpp")):
        c[CPP] = [os.path.join(b, "qix_bench_cpp")]
    if node and all(os.path.exists(os.path.join(enigma_modules(), m, "package.json")) for m in ("enigma.js", "ws")):
        c[ENIGMA] = [node, os.path.join(HERE, "client_enigma.js")]
    jars = glob.glob(os.path.join(build, "bindings", "java", "libqix-[0-9]*.jar"))  # not libqix-tests.jar
    java = shutil.which("java")
    if jars and java and os.path.exists(os.path.join(b, "java", "QixBenchJava.class")):
        c[JAVA] = [java, "-cp", jars[0] + os.pathsep + os.path.join(b, "java"), "QixBenchJava"]
    if os.path.exists(os.path.join(b, "qix_bench_go")):
        c[GO] = [os.path.join(b, "qix_bench_go")]
    if os.path.exists(os.path.join(b, "qix_bench_gopeer")):
        c[GOPEER] = [os.path.join(b, "qix_bench_gopeer")]
    if os.path.exists(os.path.join(b, "csharp", "QixBenchCs")):
        c[CSHARP] = [os.path.join(b, "csharp", "QixBenchCs")]
    return c


def scenarios(calls, smoke):
    """(name, peer, calls, window, [(row label, client, kind)])."""
    small = 300 if smoke else None
    tiny = [(RAW, RAW, "tiny"), (CAPI, CAPI, "tiny"), (CAPI_DISPATCH, CAPI, "tiny-dispatch"), (ENIGMA, ENIGMA, "tiny"),
            (CPP, CPP, "tiny"), (JAVA, JAVA, "tiny"), (GO, GO, "tiny"), (GO_GOROUTINES, GO, "tiny-goroutines"),
            (GOPEER, GOPEER, "tiny"),
            (CSHARP, CSHARP, "tiny"),
            (CSHARP_POOL, CSHARP, "tiny-pool")]
    # At window 1 a call is a round trip: the row below is the ceiling any client can reach against this peer
    # (the raw client polling its socket in a loop, so that an answer costs it no wake-up).
    spin = [(RAW_SPIN, RAW, "tiny-spin")]
    return [
        ("tiny-w1", "responder", small or max(1, calls // 5), 1, tiny[:1] + spin + tiny[1:]),
        ("tiny-w64", "responder", small or calls, 64, tiny),
        ("tiny-w1024", "responder", small or calls, 1024, tiny),
        ("page", "responder", 20 if smoke else 200, 1,
         [(RAW, RAW, "page"), ("bare Boost.JSON parse (no socket)", RAW, "parse"), (CAPI, CAPI, "page"),
          (ENIGMA, ENIGMA, "page"), (CPP, CPP, "page")]),
        ("delta", "responder", 20 if smoke else 200, 1,
         [("bare Boost.JSON parse of the full layout (no socket)", RAW, "parse-layout"), (CAPI, CAPI, "delta"),
          (ENIGMA, ENIGMA, "delta"), (CPP, CPP, "delta")]),
        ("idle", "responder", 20 if smoke else 1000, 0, [(CAPI, CAPI, "idle")]),
        ("extract", "sim", 1000000, 0, [
            ("libqix C API, pipelined extraction", CAPI, "extract"),
            ("libqix C API, page loop", CAPI, "pages"),
            ("enigma.js 2.15, page loop", ENIGMA, "pages"),
        ]),
    ]


def p6_table(name, results):
    """The P6 table of tiny scenario `name` (Markdown lines; [] without a C API row or a binding row): each
    binding's CPU per call against the C API's, as the ratio of the two rows' medians, as the ratios of each
    round's binding run to the C API run made right after it (min / median / max), and as the ratio of the
    binding's fastest round to the fastest of those C API runs (one of this VM's vCPUs has spells of seconds in
    which it runs about 1.5 times slower, and so does a process whose busy thread is on it, the C API's as much
    as any: a pair with one run in a spell is off by that much, while the fastest runs of both were most
    likely made outside one; docs/performance.md, "Slow spells")."""
    capi = [r["cpu"] for r in results.get((name, CAPI), []) if r["cpu"] > 0]
    rows = [(label, results[(name, label)]) for label in P6_BINDINGS if (name, label) in results]
    if not capi or not rows:
        return []
    capi_med = statistics.median(capi)
    out = [f"**P6, {name}**: each binding's CPU per call against the C API's (target: at most 2×), as the ratio "
           "of the two rows' medians above, per round against a run of the C API made right after the "
           "binding's (back to back, so that both more often meet the host in the same state), and as the "
           "binding's fastest round against the fastest of those C API runs\n",
           "| binding | ratio of medians | per round, against the C API right after it (min / med / max) "
           "| fastest against fastest |",
           "|---|---|---|---|"]
    for label, rs in rows:
        ratio = statistics.median(r["cpu"] for r in rs) / capi_med
        pairs = [r for r in rs if r.get("paired_capi_cpu", 0) > 0 and r["cpu"] > 0]
        paired = sorted(r["cpu"] / r["paired_capi_cpu"] for r in pairs)
        p = spread(paired, "×") if paired else "–"
        fastest = (f"{fmt(min(r['cpu'] for r in pairs) / min(r['paired_capi_cpu'] for r in pairs))}×"
                   if pairs else "–")
        out.append(f"| {label} | {fmt(ratio)}× | {p} | {fastest} |")
    return out + [""]


def spread(values, unit=""):
    """`min / median / max` of sorted `values`, each formatted by fmt and followed by `unit`."""
    return " / ".join(f"{fmt(v)}{unit}" for v in (values[0], statistics.median(values), values[-1]))


def positive(text):
    """argparse type of a count that must be at least 1 (a run of none would print an empty table, exit 0)."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return n


def fmt(x, digits=2):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def run_one(build, cl, rnd, name, peer, calls, window, label, client, kind, timeout, failures, spin=False):
    """Runs one client once against a fresh peer and prints its round line; returns its row (wall, cpu, rss,
    wire, peer_cpu, calls ...), or None when it failed or hung (said in `failures`)."""
    proc, url = start_peer(build, peer, spin)
    # The simulator's CPU in the client's timed part: from the client's "clock_start" to its end
    # (the app's load and the hypercube's computation come before it, and are not the extraction's).
    marks = {}
    on_clock = (lambda: marks.update(start=proc_cpu(proc.pid))) if peer == "sim" else None
    try:
        out, err, code, cpu, rss = run_with_rusage(cl[client] + [url, kind, str(calls), str(window)],
                                                   timeout, on_clock)
        if marks.get("start") is not None:
            marks["end"] = proc_cpu(proc.pid)
    except Hung as e:
        print(f"{name} / {label}: {e}", file=sys.stderr, flush=True)
        failures.append(f"{name} / {label}: hung (stacks above)")
        return None
    finally:
        wire, peer_cpu, answered = stop_peer(proc, 60)
    if marks.get("end") is not None:
        peer_cpu = marks["end"] - marks["start"]
    m = re.search(r"ok=(\d+) failed=(\d+) wall_s=([\d.]+)", out)
    if code != 0 or not m or int(m.group(1)) != calls:
        failures.append(f"{name} / {label}: exit {code}, output {out.strip()!r} {err.strip()[-400:]!r}")
        return None
    wall = float(m.group(3))
    timed = re.search(r"cpu_s=([\d.]+)", out)
    if timed:  # the client's own figure for its timed part (start-up, JIT and set-up left out)
        cpu = float(timed.group(1))
    if name.startswith("tiny") and answered and answered > calls:
        # The peer's counters cover the whole run, warm-up included (enigma.js and the managed
        # runtimes warm up first): the timed calls' share of them, every request being alike.
        wire = wire * calls / answered if wire is not None else None
        peer_cpu = peer_cpu * calls / answered
    row = {"wall": wall, "cpu": cpu, "rss": rss, "wire": wire, "peer_cpu": peer_cpu, "calls": calls}
    t = re.search(r"threads=(\d+) rss_kb=(\d+) per_session_b=(\d+)", out)
    if t:
        row["threads"] = int(t.group(1))
        row["idle_rss_kb"] = int(t.group(2))
        row["per_session_b"] = int(t.group(3))
    # The idle client's wall time covers opening its sessions, the peer's CPU also their closing
    # after it (over 100 % of that wall for a one-thread peer): shown as it is, not as a share.
    peer_note = (f"peer cpu {peer_cpu:6.3f} s" if name == "idle"
                 else f"peer busy {100 * peer_cpu / max(wall, 1e-9):5.1f} %")
    jit = re.search(r"jit_s=([\d.]+)", out)  # the JIT's compiling within the timed part
    jit_note = f" jit {float(jit.group(1)):6.3f} s" if jit else ""
    faults = re.search(r"faults=(-?\d+)", out)  # minor page faults within the timed part (Java)
    jit_note += f" faults {int(faults.group(1)):,}" if faults else ""
    gcs = re.search(r"gcs=(\d+)(?: gc_s=([\d.]+))?", out)  # collections in the timed part (managed)
    if gcs:
        jit_note += f" gcs {gcs.group(1)}" + (f" ({float(gcs.group(2)):.3f} s)" if gcs.group(2) else "")
    alloc = re.search(r"alloc_b=(-?[\d.]+)", out)  # bytes the managed heap allocated per call
    jit_note += f" alloc {float(alloc.group(1)):,.0f} B/call" if alloc else ""
    print(f"round {rnd + 1} {name:11s} {label:46s} wall {wall:8.3f} s cpu {cpu:7.3f} s "
          f"rss {rss / 1024:7.1f} MB {peer_note}{jit_note}", file=sys.stderr, flush=True)
    return row


def main():
    known = [s[0] for s in scenarios(1, False)]  # the scenarios' names, for --only
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="the build directory the clients come from (default: build/ of this checkout)")
    ap.add_argument("--rounds", type=positive, default=3,
                    help="rounds of every scenario, interleaved (default 3; 1 with --smoke)")
    ap.add_argument("--calls", type=positive, default=100000,
                    help="timed calls per run at windows 64 and 1024 (default 100000; a fifth of it at window 1)")
    ap.add_argument("--smoke", action="store_true",
                    help="a few hundred calls per client, one round: fails unless every client answered every "
                         "call (what CI runs); measures nothing worth reading")
    ap.add_argument("--only", default="",
                    help="scenarios to run, comma-separated (" + ",".join(known) +
                         "; default all; another name is a usage error)")
    ap.add_argument("--node", default=shutil.which("node") or "",
                    help="the Node.js that runs enigma.js (default: node on PATH; none leaves enigma.js out)")
    ap.add_argument("--require", default="",
                    help="clients that must be there, comma-separated (" + ",".join(KEYS) + "): a missing one fails")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds one client may run before it counts as hung: its threads' stacks are printed "
                         "(gdb) and it fails (default 120 with --smoke, else 1800)")
    ap.add_argument("--no-build", action="store_true",
                    help="run the build as it is (by default the clients' CMake target, qix_bench_compare, is "
                         "built first, and the build directory configured when it has not been)")
    ap.add_argument("--peer-spin", action="store_true",
                    help="the responder polls its sockets in a loop instead of sleeping (responder.cpp --spin): "
                         "the peer's wake-up taken out of every round trip (a core spent; for window 1)")
    args = ap.parse_args()
    # A mistyped scenario would leave an empty table and exit 0: said instead, as a usage error (exit 2).
    unknown = [x for x in filter(None, args.only.split(",")) if x not in known]
    if unknown:
        ap.error(f"--only: no scenario {', '.join(unknown)} (there are {', '.join(known)})")
    rounds = 1 if args.smoke else args.rounds
    # The managed clients and enigma.js warm up for at least this long before their timed part (their JITs
    # finish compiling the call path); a smoke run measures nothing, so it skips that.
    os.environ["QIX_BENCH_WARM_S"] = "0" if args.smoke else os.environ.get("QIX_BENCH_WARM_S", "1.5")
    timeout = args.timeout or (120 if args.smoke else 1800)
    only = set(filter(None, args.only.split(",")))
    if not args.no_build:
        why = ensure_built(args.build)
        if why:
            print("FAILED: " + why, file=sys.stderr)
            return 1
    if not os.path.exists(os.path.join(args.build, "bench", "qix_bench_responder")):
        print(f"FAILED: {args.build} has no bench/qix_bench_responder: the benchmarks are built with "
              "QIX_BUILD_BENCH=ON (the default) and Google Benchmark installed (scripts/install-deps)", file=sys.stderr)
        return 1
    cl = clients(args.build, args.node)
    required = set(filter(None, args.require.split(",")))
    unknown = required - set(KEYS)
    if unknown:
        ap.error("unknown client in --require: " + ",".join(sorted(unknown)))
    missing = sorted(k for k in required if KEYS[k] not in cl)
    if missing:
        print("FAILED: required clients not built: " + ", ".join(missing), file=sys.stderr)
        return 1
    if not args.node:
        print("note: node not found, enigma.js is left out", file=sys.stderr)
    elif ENIGMA not in cl:
        print(f"note: enigma.js and ws are not in {enigma_modules()}, enigma.js is left out (`npm ci` in "
              "tests/conformance: scripts/install-deps runs it)", file=sys.stderr)
    results = {}  # (scenario, row label) -> list of dicts
    failures = []
    scen = [x for x in scenarios(args.calls, args.smoke) if not only or x[0] in only]
    if args.smoke:
        scen = [x for x in scen if x[0] != "extract"]  # a million rows is no smoke
    for rnd in range(rounds):
        for name, peer, calls, window, runs in scen:
            for label, client, kind in runs:
                if client not in cl:
                    continue
                row = run_one(args.build, cl, rnd, name, peer, calls, window, label, client, kind, timeout, failures,
                              args.peer_spin)
                if row is None:
                    continue
                results.setdefault((name, label), []).append(row)
                if name.startswith("tiny") and label in P6_BINDINGS:
                    # P6 side by side: the C API once more, right after the binding (seconds apart, where the
                    # C API's own row ran up to a minute before), so that the host's drift between its slow
                    # and fast states more often hits both runs of a pair alike.
                    pair = run_one(args.build, cl, rnd, name, peer, calls, window,
                                   f"{CAPI}, right after {P6_BINDINGS[label]}", CAPI, "tiny", timeout, failures,
                                   args.peer_spin)
                    if pair is not None:
                        row["paired_capi_cpu"] = pair["cpu"]
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    if args.smoke:
        print(f"smoke: every client answered every call ({len(results)} scenario/client pairs)")
        return 0

    print(f"\n{rounds} rounds, interleaved; medians (CPU: min / median / max). "
          f"CPU = user+sys of the client process in its timed part. Wire MB and peer busy: the peer's bytes "
          f"and CPU, in the tiny scenarios the timed calls' share of them (warm-ups left out).\n")
    for name, peer, calls, window, runs in scen:
        if name == "idle":
            rows = results.get((name, CAPI), [])
            if rows:
                th = statistics.median(r["threads"] for r in rows)
                kb = statistics.median(r["idle_rss_kb"] for r in rows)
                per = statistics.median(r["per_session_b"] for r in rows)
                print(f"**{name}**: {calls:,} idle sessions (ws://127.0.0.1) in one process: {th:.0f} threads "
                      f"(the main one included), {kb / 1024:.1f} MB RSS in all, {per / 1024:.1f} KiB per session "
                      f"(growth of the RSS from the first session to the last)\n")
            continue
        labels = [label for label, _, _ in runs if (name, label) in results]
        if not labels:
            continue
        tiny = name.startswith("tiny")
        unit = 100000 if tiny else calls
        what = "rows" if name == "extract" else "calls"
        per = "100k calls" if tiny else f"{calls:,} {what}"
        print(f"**{name}** ({calls:,} {what}" + (f", window {window})" if window else ")") + "\n")
        print(f"| client | {what}/s | CPU s per {per} (min / med / max) | peak RSS MB | wire MB | "
              f"CPU vs enigma.js | CPU vs raw | {what}/s vs first row | peer busy |")
        print("|---|---|---|---|---|---|---|---|---|")
        med = {label: statistics.median(r["cpu"] for r in results[(name, label)]) * unit / calls for label in labels}
        rate = {label: statistics.median(r["calls"] / r["wall"] for r in results[(name, label)]) for label in labels}
        enigma = next((l for l in labels if l.startswith("enigma")), None)
        for label in labels:
            rows = results[(name, label)]
            cpus = sorted(r["cpu"] * unit / calls for r in rows)
            rss = statistics.median(r["rss"] for r in rows) / 1024
            wires = [r["wire"] for r in rows if r["wire"] is not None]
            wire = f"{statistics.median(wires) / 1e6:.1f}" if wires else "–"
            busy = statistics.median(r["peer_cpu"] / r["wall"] for r in rows) * 100
            ve = med[label] / med[enigma] if enigma else None
            vr = med[label] / med[RAW] if RAW in med else None
            vf = rate[label] / rate[labels[0]]
            print(f"| {label} | {rate[label]:,.0f} | {spread(cpus)} | {rss:.1f} | {wire} | {fmt(ve)}× | {fmt(vr)}× | "
                  f"{fmt(vf)}× | {busy:.0f} % |")
        print()
        if tiny:
            for line in p6_table(name, results):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
