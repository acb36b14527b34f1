#!/usr/bin/env python3
"""Side-by-side TCP proxy benchmark: Remora vs Envoy.

Both proxies run the same Envoy v3 bootstrap: one listener on 127.0.0.1 with
``envoy.filters.network.tcp_proxy`` to a STATIC cluster whose single endpoint
is a local upstream server, and admin on a free port.  For each proxy, in
alternating order over several rounds, the script

  1. starts a fresh upstream (``tcp_bench_tool server``: a single-threaded
     epoll sink / source / echo server written in C),
  2. starts the proxy (``--concurrency 1``) and waits for admin ``/ready``,
  3. warms it up (64 MiB + 500 connections, not measured),
  4. bulk upload: client -> proxy -> upstream sink, N GiB,
  5. bulk download: upstream source -> proxy -> client, N GiB,
  6. short connections: M connections, K in flight, each connect, send
     64 bytes, read the echo, close,
  7. reads the proxy's peak RSS (VmHWM) and RSS, stops it and the upstream.

The proxy runs alone on one CPU (default 1) and everything else (this
script, the upstream, the clients) on another (default 0), as
``taskset -c 1 <proxy>`` and ``taskset -c 0 <the rest>`` would; ``--no-pin``
turns that off.

Proxy CPU is utime+stime of the whole process (all threads) from
/proc/<pid>/stat, as a delta over each phase.  Every payload byte is checked
against a pattern (the sink checks uploads, the client checks downloads and
echoes), so a proxy that loses, reorders or corrupts bytes fails the run.

Standard library only; the C helper (tcp_bench_tool.c, next to this file) is
compiled with ``cc -O2`` into a temporary directory at run time.  Run
``python3 Benchmarks/tcp_proxy_bench.py --help`` for the flags.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import http.client
import json
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TOOL_SRC = HERE / "tcp_bench_tool.c"
MiB = 1 << 20
GiB = 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
KINDS = ("remora", "envoy")

try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - no libc handle: children just lack PDEATHSIG
    _LIBC = None


def _child_setup(cpu: int | None = None) -> None:
    """In the forked child before exec: die with the benchmark
    (PR_SET_PDEATHSIG) and, when ``cpu`` is given, run on that CPU only."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 == PR_SET_PDEATHSIG
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# child processes: every one is registered and stopped in a finally block
# ---------------------------------------------------------------------------


class Children:
    def __init__(self) -> None:
        self.live: list[subprocess.Popen] = []

    def start(self, argv: list[str], cpu: int | None = None, **kw) -> subprocess.Popen:
        """Starts ``argv``; with ``cpu``, pinned to that CPU (otherwise it
        inherits this script's affinity)."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, start_new_session=True, preexec_fn=lambda: _child_setup(cpu), **kw)
        self.live.append(p)
        return p

    def stop(self, p: subprocess.Popen, grace: float = 10.0) -> dict:
        """SIGTERM, wait up to ``grace`` s, then SIGKILL.  Returns how it ended."""
        info = {"exit_code": p.poll(), "killed": False, "already_exited": p.poll() is not None}
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                info["killed"] = True
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            info["exit_code"] = p.poll()
        for f in (p.stdout, p.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        if p in self.live:
            self.live.remove(p)
        return info

    def stop_all(self) -> None:
        for p in list(reversed(self.live)):
            self.stop(p, grace=3.0)


def run_client(children: Children, tool: str, args: list, timeout: float) -> dict:
    """Runs one tcp_bench_tool client; returns its JSON result."""
    argv = [tool] + [str(a) for a in args]
    p = children.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout + 15)
    except subprocess.TimeoutExpired:
        children.stop(p, grace=0.5)
        return {"ok": False, "error": f"client {args[0]} did not finish within {timeout + 15:.0f} s"}
    except BaseException:
        children.stop(p, grace=0.5)
        raise
    children.stop(p)  # already exited: just forgets it
    try:
        res = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": f"client {args[0]} exited {p.returncode}: {err.decode()[-500:]!r}"}
    return res


# ---------------------------------------------------------------------------
# /proc readers
# ---------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def proc_mem_kib(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                out[key] = int(val.split()[0])
    return out


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


# ---------------------------------------------------------------------------
# setup
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compile_tool(workdir: Path) -> str:
    cc = os.environ.get("CC", "cc")
    out = workdir / "tcp_bench_tool"
    r = subprocess.run([cc, "-O2", "-o", str(out), str(TOOL_SRC)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise BenchError(f"compiling {TOOL_SRC} failed:\n{r.stderr}")
    return str(out)


def start_upstream(children: Children, tool: str, verify: bool, max_seconds: float) -> tuple[subprocess.Popen, int]:
    p = children.start([tool, "server", str(int(max_seconds)), "1" if verify else "0"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    line = b""
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([p.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(p.stdout.fileno(), 64)
            if not chunk:
                break
            line += chunk
    if not line.startswith(b"PORT "):
        children.stop(p, grace=0.5)
        raise BenchError(f"upstream server did not report its port (got {line!r})")
    return p, int(line.split()[1])


BOOTSTRAP = """\
admin:
  address:
    socket_address:
      address: 127.0.0.1
      port_value: {admin}
static_resources:
  listeners:
  - name: bench
    address:
      socket_address:
        address: 127.0.0.1
        port_value: {listen}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: bench
          cluster: upstream
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 5s
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: 127.0.0.1
                port_value: {upstream}
"""


def proxy_argv(kind: str, binary: str, config: Path) -> list[str]:
    argv = [binary, "-c", str(config), "--concurrency", "1", "--drain-time-s", "2"]
    if kind == "envoy":
        argv += ["--disable-hot-restart", "--use-dynamic-base-id"]
    return argv


# ---------------------------------------------------------------------------
# CPU pinning: the proxy alone on one CPU, everything else on another
# ---------------------------------------------------------------------------


def add_pinning_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--proxy-cpu", type=int, default=1,
                   help="CPU the proxy runs on, alone (default: %(default)s)")
    p.add_argument("--load-cpu", type=int, default=0,
                   help="CPU for the load generator, the upstream and this script (default: %(default)s)")
    p.add_argument("--no-pin", action="store_true", help="do not pin anything: let the scheduler place every process")


def check_pinning_args(p: argparse.ArgumentParser, a) -> None:
    """Validates the pinning flags; with ``--no-pin`` both CPUs become None."""
    if a.no_pin:
        a.proxy_cpu = a.load_cpu = None
        return
    usable = os.sched_getaffinity(0)
    if a.proxy_cpu == a.load_cpu:
        p.error("--proxy-cpu and --load-cpu must differ (or pass --no-pin)")
    for flag, cpu in (("--proxy-cpu", a.proxy_cpu), ("--load-cpu", a.load_cpu)):
        if cpu not in usable:
            p.error(f"{flag} {cpu} is not among the CPUs this process may use {sorted(usable)} (or pass --no-pin)")


def pin_self(args) -> None:
    """Moves this script (and so every child started without ``cpu``) to the load CPU."""
    if args.load_cpu is not None:
        os.sched_setaffinity(0, {args.load_cpu})


def pinning_text(args) -> str:
    if args.proxy_cpu is None:
        return "not pinned"
    return f"proxy pinned to CPU {args.proxy_cpu}; load generator, upstream and script to CPU {args.load_cpu}"


def cpus_allowed(pid: int) -> str:
    """``Cpus_allowed_list`` of every thread of ``pid``, e.g. ``1``, or ``0,1;1`` when threads differ."""
    lists = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        lists.add(line.split(":", 1)[1].strip())
        except OSError:
            pass
    return ";".join(sorted(lists))


def note_pinning(pid: int, args, sess: dict) -> None:
    """Records where the proxy's threads may run; a proxy not on its CPU is a problem."""
    try:
        allowed = cpus_allowed(pid)
    except OSError:
        allowed = "?"
    sess["cpus_allowed"] = allowed
    if args.proxy_cpu is not None and allowed != str(args.proxy_cpu):
        sess["problems"].append(f"proxy threads may run on CPUs {allowed}, not only on {args.proxy_cpu}")


def admin_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def log_tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def wait_ready(proc: subprocess.Popen, admin_port: int, log: Path, timeout: float = 60.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise BenchError(f"proxy exited with {proc.returncode} before /ready:\n{log_tail(log)}")
        try:
            status, _ = admin_get(admin_port, "/ready", timeout=1.0)
            if status == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.05)
    raise BenchError(f"proxy not ready after {timeout:.0f} s:\n{log_tail(log)}")


# ---------------------------------------------------------------------------
# one proxy, one round
# ---------------------------------------------------------------------------


def measured(children: Children, tool: str, pid: int, args: list, timeout: float) -> dict:
    """Runs a client and attaches the proxy's CPU delta and the machine's load."""
    m0, c0 = machine_cpu(), proc_cpu_seconds(pid)
    w0 = time.monotonic()
    res = run_client(children, tool, args, timeout)
    wall = time.monotonic() - w0
    c1, m1 = proc_cpu_seconds(pid), machine_cpu()
    res["proxy_cpu_seconds"] = c1 - c0
    res["wall_seconds"] = wall
    res["machine_busy_pct"] = 100.0 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    return res


def run_session(kind: str, binary: str, rnd: int, args, tool: str, children: Children, workdir: Path) -> dict:
    tag = f"{kind}-r{rnd}"
    sess: dict = {"proxy": kind, "round": rnd, "ok": True, "problems": []}
    bulk_bytes = int(args.gib * GiB)
    down_bytes = int(args.download_gib * GiB)
    bulk_timeout = max(60.0, 90.0 * max(args.gib, args.download_gib))
    conn_timeout = max(60.0, args.connections / 100.0)
    budget = 120 + bulk_timeout * 2 + conn_timeout

    up, up_port = start_upstream(children, tool, not args.no_verify, budget)
    proxy = None
    try:
        listen_port, admin_port = free_port(), free_port()
        config = workdir / f"{tag}.yaml"
        config.write_text(BOOTSTRAP.format(admin=admin_port, listen=listen_port, upstream=up_port))
        log = workdir / f"{tag}.log"
        with open(log, "wb") as logf:
            proxy = children.start(proxy_argv(kind, binary, config), cpu=args.proxy_cpu, stdout=logf,
                                   stderr=subprocess.STDOUT)
        pid = proxy.pid
        sess["startup_seconds"] = wait_ready(proxy, admin_port, log)
        note_pinning(pid, args, sess)
        try:
            sess["exe"] = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            sess["exe"] = "?"
        mem = proc_mem_kib(pid)
        sess["rss_ready_kib"] = mem.get("VmRSS")
        sess["threads"] = mem.get("Threads")

        def alive(phase: str) -> bool:
            if proxy.poll() is None:
                return True
            sess["ok"] = False
            sess["problems"].append(f"{kind} exited with {proxy.returncode} during {phase}: {log_tail(log)}")
            return False

        def check(phase: str, res: dict) -> None:
            sess[phase] = res
            if not res.get("ok"):
                sess["ok"] = False
                sess["problems"].append(f"{phase}: {res.get('error')}")

        # warm-up, not measured
        w1 = run_client(children, tool, ["upload", listen_port, 64 * MiB, 60], 60)
        w2 = run_client(children, tool, ["conns", listen_port, 500, args.inflight, args.payload, 60], 60)
        for name, w in (("warmup upload", w1), ("warmup conns", w2)):
            if not w.get("ok"):
                sess["ok"] = False
                sess["problems"].append(f"{name}: {w.get('error')}")

        if alive("warm-up") and bulk_bytes > 0:
            check("upload", measured(children, tool, pid, ["upload", listen_port, bulk_bytes, bulk_timeout], bulk_timeout))
        if alive("upload") and down_bytes > 0:
            check("download", measured(children, tool, pid,
                                       ["download", listen_port, down_bytes, bulk_timeout, 0 if args.no_verify else 1],
                                       bulk_timeout))
        if alive("download") and args.connections > 0:
            check("conns", measured(children, tool, pid,
                                    ["conns", listen_port, args.connections, args.inflight, args.payload, conn_timeout],
                                    conn_timeout))
        if alive("connections"):
            mem = proc_mem_kib(pid)
            sess["rss_peak_kib"] = mem.get("VmHWM")
            time.sleep(1.0)  # let deferred frees / pool trims happen before "RSS after"
            mem = proc_mem_kib(pid)
            sess["rss_after_kib"] = mem.get("VmRSS")
            sess["rss_peak_kib"] = max(sess["rss_peak_kib"] or 0, mem.get("VmHWM") or 0)
            try:
                status, body = admin_get(admin_port, "/stats?filter=downstream_cx_total")
                sess["admin_stats_excerpt"] = body.decode(errors="replace")[:2000] if status == 200 else f"HTTP {status}"
            except OSError as e:
                sess["admin_stats_excerpt"] = f"admin /stats failed: {e}"
    finally:
        if proxy is not None:
            t0 = time.monotonic()
            stop = children.stop(proxy, grace=15.0)
            stop["seconds"] = round(time.monotonic() - t0, 3)
            sess["shutdown"] = stop
            if stop["killed"]:
                sess["problems"].append(f"{kind} did not exit within 15 s of SIGTERM; killed")
            elif stop["exit_code"] not in (0, None) and not stop["already_exited"]:
                sess["problems"].append(f"{kind} exited with {stop['exit_code']} after SIGTERM")
        children.stop(up, grace=1.0)
    derive(sess)
    return sess


def derive(s: dict) -> None:
    """Adds the per-session figures the table is built from."""
    f: dict = {}
    for phase in ("upload", "download"):
        r = s.get(phase)
        if r and r.get("ok"):
            gib = r["bytes"] / GiB
            f[f"{phase}_mib_s"] = r["bytes"] / MiB / r["seconds"]
            f[f"{phase}_cpu_s_per_gib"] = r["proxy_cpu_seconds"] / gib
            f[f"{phase}_proxy_cpu_pct"] = 100.0 * r["proxy_cpu_seconds"] / r["wall_seconds"]
    r = s.get("conns")
    if r and r.get("ok"):
        f["conns_per_s"] = r["completed"] / r["seconds"]
        f["conn_cpu_us"] = 1e6 * r["proxy_cpu_seconds"] / r["completed"]
        f["conn_p50_us"] = r["latency_p50_us"]
        f["conn_p99_us"] = r["latency_p99_us"]
        f["conns_proxy_cpu_pct"] = 100.0 * r["proxy_cpu_seconds"] / r["wall_seconds"]
    for key in ("rss_ready_kib", "rss_peak_kib", "rss_after_kib"):
        if s.get(key):
            f[key.replace("_kib", "_mib")] = s[key] / 1024.0
    s["figures"] = f


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

# (key, label, format, ratio shown?, lower is better?)
ROWS = [
    ("upload_mib_s", "upload throughput (MiB/s)", "{:.0f}", True, False),
    ("upload_cpu_s_per_gib", "upload proxy CPU (s/GiB)", "{:.3f}", True, True),
    ("upload_proxy_cpu_pct", "upload proxy CPU (% of a core)", "{:.0f}", False, True),
    ("download_mib_s", "download throughput (MiB/s)", "{:.0f}", True, False),
    ("download_cpu_s_per_gib", "download proxy CPU (s/GiB)", "{:.3f}", True, True),
    ("download_proxy_cpu_pct", "download proxy CPU (% of a core)", "{:.0f}", False, True),
    ("conns_per_s", "short connections (conn/s)", "{:.0f}", True, False),
    ("conn_cpu_us", "proxy CPU per connection (us)", "{:.1f}", True, True),
    ("conn_p50_us", "connection latency p50 (us)", "{:.0f}", True, True),
    ("conn_p99_us", "connection latency p99 (us)", "{:.0f}", True, True),
    ("conns_proxy_cpu_pct", "conns proxy CPU (% of a core)", "{:.0f}", False, True),
    ("rss_ready_mib", "RSS when ready (MiB)", "{:.1f}", True, True),
    ("rss_peak_mib", "peak RSS, VmHWM (MiB)", "{:.1f}", True, True),
    ("rss_after_mib", "RSS after the runs (MiB)", "{:.1f}", True, True),
]


def summarize(sessions: list[dict], kinds: list[str]) -> dict:
    out: dict = {}
    for kind in kinds:
        ks = [s for s in sessions if s["proxy"] == kind]
        out[kind] = {}
        for key, *_ in ROWS:
            vals = [s["figures"][key] for s in ks if key in s.get("figures", {})]
            if vals:
                out[kind][key] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                                  "n": len(vals), "values": vals}
    if len(kinds) == 2:
        a, b = kinds
        out["ratio"] = {}
        for key, *_ in ROWS:
            if key in out[a] and key in out[b] and out[b][key]["median"]:
                out["ratio"][key] = out[a][key]["median"] / out[b][key]["median"]
    return out


def median_cell(summary: dict, kind: str, key: str, fmt: str) -> str:
    """``median (min-max)`` of one figure, or ``-`` if there is none."""
    v = summary.get(kind, {}).get(key)
    if not v:
        return "-"
    if v["n"] == 1:
        return fmt.format(v["median"])
    return f"{fmt.format(v['median'])} ({fmt.format(v['min'])}-{fmt.format(v['max'])})"


def format_table(summary: dict, kinds: list[str]) -> str:
    head = ["metric (median of rounds, min-max)"] + [k.capitalize() for k in kinds]
    if len(kinds) == 2:
        head.append(f"{kinds[0].capitalize()}/{kinds[1].capitalize()}")
    lines = []
    for key, label, fmt, show_ratio, _lower in ROWS:
        row = [label] + [median_cell(summary, k, key, fmt) for k in kinds]
        if len(kinds) == 2:
            r = summary.get("ratio", {}).get(key)
            row.append(f"{r:.2f}" if (r is not None and show_ratio) else "")
        lines.append(row)
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]

    def fmt_row(r):
        return "| " + " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) + " |"

    sep = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt_row(head), sep] + [fmt_row(r) for r in lines])


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def default_remora() -> str:
    for cand in (REPO / ".build-bench" / "release" / "remora", REPO / ".build" / "release" / "remora"):
        if cand.exists():
            return str(cand)
    return str(REPO / ".build-bench" / "release" / "remora")


def default_envoy() -> str:
    """``scripts/setup.sh --with-bench`` installs Envoy into the repository's .venv."""
    for cand in (REPO / ".venv" / "bin" / "envoy", Path("/tmp/venv/bin/envoy")):
        if cand.exists():
            return str(cand)
    return shutil.which("envoy") or "envoy"


def version_of(binary: str) -> str:
    try:
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_child_setup)
        text = (r.stdout + r.stderr).strip().splitlines()
        return text[-1].strip() if text else f"exit {r.returncode}"
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"


def stop_on_signals() -> None:
    """SIGTERM, SIGINT and SIGHUP raise KeyboardInterrupt, so that the
    finally blocks stop every child.  SIGINT even if started with it ignored
    (a background job); SIGHUP not if ignored (nohup)."""
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, on_signal)


def result_header(argv, settings: dict, binaries: dict, kinds: list[str]) -> dict:
    """The start of every script's JSON: when, the command, the host, the settings, the binaries."""
    started = datetime.datetime.now(datetime.timezone.utc)
    return {
        "date": started.strftime("%Y-%m-%d"),
        "started_utc": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])),
        "host": {"kernel": platform.release(), "machine": platform.machine(), "cpus": os.cpu_count(),
                 "loadavg_at_start": os.getloadavg()},
        "settings": settings,
        "binaries": {k: {"path": binaries[k], "version": version_of(binaries[k])} for k in kinds},
        "sessions": [],
    }


def end_run(children: Children, workdir: Path, keep_temp: bool, result: dict) -> None:
    """Stops every child, notes the load average, removes (or keeps) the temp dir."""
    children.stop_all()
    result["host"]["loadavg_at_end"] = os.getloadavg()
    if keep_temp:
        print(f"kept {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def print_problems_and_json(problems: list[str], result: dict, json_path: str | None) -> None:
    print("problems: " + ("none" if not problems else f"{len(problems)}"))
    for p in problems:
        print(f"  - {p}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print(f"JSON written to {json_path}")


def add_binary_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remora", default=default_remora(), help="remora binary (default: %(default)s)")
    p.add_argument("--envoy", default=default_envoy(), help="envoy binary, or a wrapper that execs it (default: %(default)s)")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_binary_args(p)
    p.add_argument("--gib", type=float, default=2.0, help="GiB pushed upstream per bulk run (default: %(default)s)")
    p.add_argument("--download-gib", type=float, default=None,
                   help="GiB pulled downstream per bulk run; 0 skips (default: same as --gib)")
    p.add_argument("--connections", type=int, default=20000, help="short connections per run (default: %(default)s)")
    p.add_argument("--inflight", type=int, default=16, help="short connections kept in flight (default: %(default)s)")
    p.add_argument("--payload", type=int, default=64, help="bytes each short connection sends and gets echoed (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help="rounds; each runs every proxy once, order alternating (default: %(default)s)")
    p.add_argument("--proxies", default="remora,envoy", help="comma-separated subset of remora,envoy (default: %(default)s)")
    p.add_argument("--json", metavar="PATH", help="write all results as JSON here")
    p.add_argument("--no-verify", action="store_true", help="skip the byte-pattern check in sink and client")
    p.add_argument("--keep-temp", action="store_true", help="keep the temp dir (configs, proxy logs)")
    add_pinning_args(p)
    a = p.parse_args(argv)
    check_pinning_args(p, a)
    if a.download_gib is None:
        a.download_gib = a.gib
    a.kinds = [k.strip() for k in a.proxies.split(",") if k.strip()]
    for k in a.kinds:
        if k not in KINDS:
            p.error(f"unknown proxy {k!r} in --proxies")
    if a.rounds < 1 or a.inflight < 1 or a.connections < 0 or a.gib < 0 or a.download_gib < 0:
        p.error("--rounds and --inflight must be >= 1; sizes must be >= 0")
    if not 8 <= a.payload <= 65536:
        p.error("--payload must be within 8..65536")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    binaries = {"remora": args.remora, "envoy": args.envoy}
    for k in args.kinds:
        b = binaries[k]
        if not (os.path.exists(b) or shutil.which(b)):
            print(f"error: {k} binary not found: {b}", file=sys.stderr)
            return 2
    stop_on_signals()
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="tcp-proxy-bench-"))
    settings = {"gib": args.gib, "download_gib": args.download_gib, "connections": args.connections,
                "inflight": args.inflight, "payload": args.payload, "rounds": args.rounds,
                "verify": not args.no_verify, "concurrency": 1, "proxy_cpu": args.proxy_cpu, "load_cpu": args.load_cpu}
    result = result_header(argv, settings, binaries, args.kinds)
    code = 0
    pin_self(args)
    try:
        tool = compile_tool(workdir)
        for rnd in range(args.rounds):
            order = args.kinds if rnd % 2 == 0 else list(reversed(args.kinds))
            for kind in order:
                t0 = time.monotonic()
                print(f"round {rnd + 1}/{args.rounds}: {kind} ...", file=sys.stderr, flush=True)
                try:
                    sess = run_session(kind, binaries[kind], rnd + 1, args, tool, children, workdir)
                except BenchError as e:
                    sess = {"proxy": kind, "round": rnd + 1, "ok": False, "problems": [str(e)], "figures": {}}
                result["sessions"].append(sess)
                f = sess["figures"]
                brief = ", ".join(f"{k}={f[k]:.4g}" for k in ("upload_mib_s", "upload_cpu_s_per_gib", "download_mib_s",
                                                                 "download_cpu_s_per_gib", "conns_per_s", "conn_cpu_us",
                                                                 "rss_peak_mib") if k in f)
                print(f"  {kind} round {rnd + 1}: {time.monotonic() - t0:.1f} s; {brief}", file=sys.stderr)
                for prob in sess["problems"]:
                    print(f"  PROBLEM: {prob}", file=sys.stderr)
                    code = 1
    except KeyboardInterrupt:
        print("interrupted; stopping every process started", file=sys.stderr)
        code = 130
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        code = 1
    finally:
        end_run(children, workdir, args.keep_temp, result)

    result["summary"] = summarize(result["sessions"], args.kinds)
    table = format_table(result["summary"], args.kinds)
    result["table"] = table
    problems = [p for s in result["sessions"] for p in s["problems"]]
    print()
    print(f"date {result['date']}, {result['host']['cpus']} CPUs, kernel {result['host']['kernel']}, "
          f"load average at start {result['host']['loadavg_at_start'][0]:.2f}")
    for k in args.kinds:
        print(f"{k}: {result['binaries'][k]['version']}")
    print(f"{args.rounds} round(s); bulk {args.gib:g} GiB up / {args.download_gib:g} GiB down; "
          f"{args.connections} connections, {args.inflight} in flight, {args.payload} B echoed; {pinning_text(args)}")
    print()
    print(table)
    print()
    print_problems_and_json(problems, result, args.json)
    return code


if __name__ == "__main__":
    sys.exit(main())
