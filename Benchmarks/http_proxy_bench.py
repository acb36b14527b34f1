#!/usr/bin/env python3
"""Side-by-side HTTP/1.1 proxy benchmark: Remora vs Envoy.

Both proxies run the same Envoy v3 bootstrap: one listener on 127.0.0.1 with
``envoy.filters.network.http_connection_manager`` (codec HTTP1) and
``envoy.filters.http.router``, one route ``prefix: /`` to a STATIC cluster
whose single endpoint is a local upstream, and admin on a free port.

The upstream is ``http_bench_tool server`` (http_bench_tool.c, next to this
file): a single-threaded epoll HTTP/1.1 keep-alive server that answers every
request with 200 and a small fixed body.  The load generator is ``wrk`` (one
thread, keep-alive, ``--latency``).  The script

  0. measures the upstream's capacity directly with wrk (no proxy),
  1. for each round and each proxy (order alternating round by round) starts
     a fresh upstream and a fresh proxy (``--concurrency 1``), waits for
     admin ``/ready``, and for each connection count runs a wrk warm-up (not
     measured) and then a measured wrk run of fixed duration, recording
     requests/s, latency p50/p99, proxy CPU per request (utime+stime from
     /proc/<pid>/stat), VmRSS sampled during the run, and VmHWM,
  2. runs Remora once more under an LD_PRELOAD malloc counter
     (malloc_count_shim.c) and reports allocations per request.

The proxy runs alone on one CPU (default 1) and everything else (this
script, wrk, the upstream) on another (default 0), as ``taskset -c 1 <proxy>``
and ``taskset -c 0 <the rest>`` would; ``--no-pin`` turns that off.

Standard library only, plus wrk and a C compiler.  Run
``python3 Benchmarks/http_proxy_bench.py --help`` for the flags.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no Benchmarks/__pycache__ from the import below

# Shared process / proc / admin helpers of the TCP benchmark.
from tcp_proxy_bench import (  # noqa: E402
    KINDS,
    BenchError,
    Children,
    add_binary_args,
    admin_get,
    free_port,
    add_pinning_args,
    check_pinning_args,
    end_run,
    log_tail,
    machine_cpu,
    median_cell,
    note_pinning,
    pin_self,
    pinning_text,
    print_problems_and_json,
    proc_cpu_seconds,
    proc_mem_kib,
    proxy_argv,
    result_header,
    stop_on_signals,
    wait_ready,
)

TOOL_SRC = HERE / "http_bench_tool.c"
SHIM_SRC = HERE / "malloc_count_shim.c"
MiB = 1 << 20

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
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          codec_type: HTTP1
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match:
                  prefix: /
                route:
                  cluster: upstream
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
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

STATS_FILTER = "(downstream_rq_[1-5]xx|downstream_rq_total|downstream_cx_total|upstream_cx_total|upstream_rq_total|" \
               "upstream_rq_[1-5]xx|upstream_cx_destroy$|upstream_rq_timeout|upstream_rq_retry$|rq_reset)"


# ---------------------------------------------------------------------------
# build and start helpers
# ---------------------------------------------------------------------------


def compile_helpers(workdir: Path) -> tuple[str, str]:
    cc = os.environ.get("CC", "cc")
    tool, shim = workdir / "http_bench_tool", workdir / "malloc_count_shim.so"
    for argv in ([cc, "-O2", "-o", str(tool), str(TOOL_SRC)],
                 [cc, "-O2", "-shared", "-fPIC", "-o", str(shim), str(SHIM_SRC)]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed:\n{r.stderr}")
    return str(tool), str(shim)


def start_upstream(children: Children, tool: str, body: int, max_seconds: float, wrap: list[str] = (),
                   bind: tuple[str, int] | None = None) -> tuple[subprocess.Popen, int]:
    """``http_bench_tool server`` on 127.0.0.1 (ephemeral port) or on ``bind``;
    ``wrap`` goes before the command (e.g. ``ip netns exec NS``)."""
    argv = [*wrap, tool, "server", str(body), str(int(max_seconds))]
    if bind is not None:
        argv += [bind[0], str(bind[1])]
    p = children.start(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
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


def upstream_stats(port: int) -> dict:
    status, body = admin_get(port, "/__stats", timeout=5.0)
    if status != 200:
        raise BenchError(f"upstream /__stats answered {status}")
    return json.loads(body)


# --access-log: every proxy writes Envoy's default-format file access log.
ACCESS_LOG = False

ACCESS_LOG_BLOCK = """\
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {path}
"""


RDS = False

RDS_BLOCK = """\
          rds:
            route_config_name: local
            config_source:
              path_config_source: {{path: {path}}}
              resource_api_version: V3
"""


def bootstrap_text(admin: int, listen: int, upstream: int, access_log: Path | None = None,
                   rds: Path | None = None) -> str:
    """The benchmark bootstrap; with a default-format file access log to
    `access_log`; with `rds`, the same routes come from RDS (a
    path_config_source file written there) instead of an inline route_config."""
    text = BOOTSTRAP.format(admin=admin, listen=listen, upstream=upstream)
    if access_log is not None:
        codec = "          codec_type: HTTP1\n"
        text = text.replace(codec, codec + ACCESS_LOG_BLOCK.format(path=access_log))
    if rds is not None:
        start = text.index("          route_config:\n")
        end = text.index("          http_filters:\n")
        routes = "\n".join(line[12:] for line in text[start:end].splitlines()[1:])
        rds.write_text('version_info: "1"\nresources:\n- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n'
                       + "\n".join("  " + line for line in routes.splitlines()) + "\n")
        text = text[:start] + RDS_BLOCK.format(path=rds) + text[end:]
    return text


def start_proxy(children: Children, kind: str, binary: str, tag: str, workdir: Path, up_port: int,
                cpu: int | None, env: dict | None = None) -> tuple[subprocess.Popen, int, int, Path]:
    listen_port, admin_port = free_port(), free_port()
    config = workdir / f"{tag}.yaml"
    config.write_text(bootstrap_text(admin_port, listen_port, up_port,
                                     workdir / f"{tag}.access.log" if ACCESS_LOG else None,
                                     workdir / f"{tag}.rds.yaml" if RDS else None))
    log = workdir / f"{tag}.log"
    with open(log, "wb") as logf:
        proxy = children.start(proxy_argv(kind, binary, config), cpu=cpu, stdout=logf, stderr=subprocess.STDOUT,
                               env=env)
    return proxy, listen_port, admin_port, log


def stop_proxy(children: Children, kind: str, proxy: subprocess.Popen, sess: dict) -> None:
    t0 = time.monotonic()
    stop = children.stop(proxy, grace=15.0)
    stop["seconds"] = round(time.monotonic() - t0, 3)
    sess["shutdown"] = stop
    if stop["killed"]:
        sess["problems"].append(f"{kind} did not exit within 15 s of SIGTERM; killed")
    elif stop["exit_code"] not in (0, None) and not stop["already_exited"]:
        sess["problems"].append(f"{kind} exited with {stop['exit_code']} after SIGTERM")


def admin_stats(admin_port: int) -> dict:
    """Counters matching STATS_FILTER, as {name: value}; {'error': ...} if admin fails."""
    from urllib.parse import quote
    try:
        status, body = admin_get(admin_port, "/stats?filter=" + quote(STATS_FILTER), timeout=5.0)
    except OSError as e:
        return {"error": f"admin /stats failed: {e}"}
    if status != 200:
        return {"error": f"admin /stats answered {status}"}
    out = {}
    for line in body.decode(errors="replace").splitlines():
        name, sep, val = line.partition(": ")
        if sep and val.strip().lstrip("-").isdigit():
            out[name.strip()] = int(val)
    return out


# ---------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------

_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def _to_us(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    r: dict = {"socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}, "non2xx3xx": 0}
    for line in out.splitlines():
        s = line.strip()
        m = re.match(r"(\d+) requests in ([0-9.]+)(us|ms|s|m), ", s)
        if m:
            r["requests"] = int(m.group(1))
            r["seconds"] = _to_us(m.group(2) + m.group(3)) / 1e6
        m = re.match(r"Requests/sec:\s+([0-9.]+)", s)
        if m:
            r["rps"] = float(m.group(1))
        m = re.match(r"(50|75|90|99)%\s+(\S+)", s)
        if m:
            r[f"p{m.group(1)}_us"] = _to_us(m.group(2))
        m = re.match(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", s)
        if m:
            try:
                r["avg_us"], r["stdev_us"], r["max_us"] = (_to_us(x) for x in m.groups())
            except ValueError:
                pass
        m = re.match(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", s)
        if m:
            r["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
        m = re.match(r"Non-2xx or 3xx responses: (\d+)", s)
        if m:
            r["non2xx3xx"] = int(m.group(1))
    return r


def run_wrk(children: Children, wrk: str, port: int, conns: int, seconds: float, on_start=None,
            url: str | None = None, wrap: list[str] = ()) -> dict:
    """One wrk run at 127.0.0.1:``port`` (or ``url``), ``wrap`` before the
    command; returns the parsed figures plus wrk's own CPU (from RUSAGE_CHILDREN)."""
    argv = [*wrap, wrk, "-t1", f"-c{conns}", f"-d{seconds:g}s", "--latency", "--timeout", "5s",
            url or f"http://127.0.0.1:{port}/"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = children.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if on_start is not None:
            on_start(p)
        out, err = p.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        children.stop(p, grace=0.5)
        return {"ok": False, "error": f"wrk did not finish within {seconds + 30:.0f} s"}
    except BaseException:
        children.stop(p, grace=0.5)
        raise
    children.stop(p)  # already exited: just forgets it
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = out.decode(errors="replace")
    res = parse_wrk(text)
    res["raw"] = text
    res["wrk_cpu_seconds"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    res["ok"] = p.returncode == 0 and "requests" in res and "p99_us" in res
    if not res["ok"]:
        res["error"] = f"wrk exited {p.returncode}: {(err.decode(errors='replace') or text)[-400:]!r}"
    return res


class RssSampler:
    """Samples VmRSS of pid every ``interval`` s in a thread; keeps the max."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.max_kib, self.samples = 0, 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = proc_mem_kib(self.pid).get("VmRSS") or 0
            except OSError:
                return
            self.max_kib = max(self.max_kib, rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join(5)


def measured_wrk(children: Children, wrk: str, port: int, conns: int, seconds: float, pid: int | None,
                 up_pid: int, up_port: int, perf: list | None = None, url: str | None = None,
                 wrap: list[str] = (), stats=None) -> dict:
    """A wrk run with the proxy's CPU, RSS and the upstream's counters around it.
    ``pid`` None: no proxy, wrk straight at the upstream.  ``url`` and ``wrap``
    as for run_wrk; ``stats()`` reads the upstream's counters (default: from
    127.0.0.1:``up_port``)."""
    perf_proc: list = []
    if stats is None:
        def stats():
            return upstream_stats(up_port)

    def on_start(_p):
        if perf:
            perf_proc.append(children.start(perf + ["-p", str(pid), "--", "sleep", f"{seconds:g}"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    def proxy_cpu() -> float:
        return proc_cpu_seconds(pid) if pid else 0.0

    u0 = stats()
    m0, c0, uc0 = machine_cpu(), proxy_cpu(), proc_cpu_seconds(up_pid)
    w0 = time.monotonic()
    with (RssSampler(pid) if pid else contextlib.nullcontext()) as rss:
        res = run_wrk(children, wrk, port, conns, seconds, on_start, url=url, wrap=wrap)
    wall = time.monotonic() - w0
    c1, uc1, m1 = proxy_cpu(), proc_cpu_seconds(up_pid), machine_cpu()
    for pp in perf_proc:
        try:
            _, perr = pp.communicate(timeout=seconds + 60)
            res["perf_stderr"] = perr.decode(errors="replace")[-600:]
        except subprocess.TimeoutExpired:
            res["perf_stderr"] = "perf did not finish in time"
        children.stop(pp, grace=5.0)
    u1 = stats()
    if pid:
        res["proxy_cpu_seconds"] = c1 - c0
        res["rss_max_kib"] = rss.max_kib
        res["rss_samples"] = rss.samples
    res["upstream_cpu_seconds"] = uc1 - uc0
    res["wall_seconds"] = wall
    res["machine_busy_pct"] = 100.0 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    res["upstream_requests"] = u1["requests"] - u0["requests"]
    res["upstream_connections"] = u1["connections"] - u0["connections"]
    res["upstream_bad"] = u1["bad"] - u0["bad"]
    return res


def wrk_problems(res: dict, what: str) -> list[str]:
    if not res.get("ok"):
        return [f"{what}: {res.get('error')}"]
    out = []
    errs = {k: v for k, v in res["socket_errors"].items() if v}
    if errs:
        out.append(f"{what}: wrk socket errors {errs}")
    if res["non2xx3xx"]:
        out.append(f"{what}: {res['non2xx3xx']} non-2xx/3xx responses")
    if res.get("requests", 0) == 0:
        out.append(f"{what}: no request completed")
    if res.get("upstream_bad"):
        out.append(f"{what}: upstream saw {res['upstream_bad']} malformed requests")
    return out


# ---------------------------------------------------------------------------
# phases
# ---------------------------------------------------------------------------


def upstream_capacity(args, tool: str, children: Children) -> dict:
    """wrk straight at the upstream, no proxy: how much it and wrk can do."""
    up, up_port = start_upstream(children, tool, args.body, 60 + len(args.conns) * (args.capacity_seconds + 30))
    out: dict = {}
    try:
        for c in args.conns:
            run_wrk(children, args.wrk, up_port, c, 1)
            c0 = proc_cpu_seconds(up.pid)
            r = run_wrk(children, args.wrk, up_port, c, args.capacity_seconds)
            ucpu = proc_cpu_seconds(up.pid) - c0
            entry = {k: r.get(k) for k in ("ok", "error", "rps", "requests", "p50_us", "p99_us", "socket_errors",
                                           "non2xx3xx", "wrk_cpu_seconds")}
            if r.get("ok"):
                entry["upstream_cpu_us_per_request"] = 1e6 * ucpu / max(1, r["requests"])
                entry["upstream_cpu_pct"] = 100.0 * ucpu / max(1e-9, r["seconds"])
                entry["wrk_cpu_pct"] = 100.0 * r["wrk_cpu_seconds"] / max(1e-9, r["seconds"])
            out[str(c)] = entry
    finally:
        children.stop(up, grace=1.0)
    return out


def run_session(kind: str, binary: str, rnd: int, args, tool: str, children: Children, workdir: Path,
                perf_base: str | None) -> dict:
    tag = f"{kind}-r{rnd}"
    sess: dict = {"proxy": kind, "round": rnd, "ok": True, "problems": [], "runs": {}}
    budget = 120 + len(args.conns) * (args.warmup + args.duration + 60)
    up, up_port = start_upstream(children, tool, args.body, budget)
    proxy = None
    try:
        proxy, listen_port, admin_port, log = start_proxy(children, kind, binary, tag, workdir, up_port, args.proxy_cpu)
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
            sess["problems"].append(f"{kind} exited with {proxy.returncode} during {phase}: {log_tail(log)}")
            return False

        for c in args.conns:
            if not alive(f"c={c}"):
                break
            if args.warmup > 0:
                w = run_wrk(children, args.wrk, listen_port, c, args.warmup)
                sess["problems"] += wrk_problems(w, f"warm-up c={c}")
            if not alive(f"warm-up c={c}"):
                break
            perf = None
            if perf_base:
                perf = ["perf", "record", "-e", "cpu-clock", "-F", str(args.perf_freq), "--call-graph",
                        args.perf_call_graph, "-o", f"{perf_base}-{kind}-r{rnd}-c{c}.data"]
            r = measured_wrk(children, args.wrk, listen_port, c, args.duration, pid, up.pid, up_port, perf)
            if not args.keep_raw:
                r.pop("raw", None)
            sess["runs"][str(c)] = r
            sess["problems"] += wrk_problems(r, f"c={c}")
            alive(f"c={c}")
        if proxy.poll() is None:
            sess["rss_peak_kib"] = proc_mem_kib(pid).get("VmHWM")
            sess["admin_stats"] = admin_stats(admin_port)
    finally:
        if proxy is not None:
            stop_proxy(children, kind, proxy, sess)
        children.stop(up, grace=1.0)
    sess["ok"] = not sess["problems"]
    derive(sess)
    return sess


def derive(s: dict) -> None:
    """The session's figures from its measured runs (a run of measured_wrk
    without a proxy has no proxy CPU or RSS)."""
    f: dict = {}
    rss_load = []
    for c, r in s.get("runs", {}).items():
        if not r.get("ok") or not r.get("requests"):
            continue
        f[f"rps@{c}"] = r["requests"] / r["seconds"]
        f[f"p50_us@{c}"] = r["p50_us"]
        f[f"p99_us@{c}"] = r["p99_us"]
        if "proxy_cpu_seconds" in r:
            f[f"cpu_us@{c}"] = 1e6 * r["proxy_cpu_seconds"] / r["requests"]
            f[f"cpu_pct@{c}"] = 100.0 * r["proxy_cpu_seconds"] / r["wall_seconds"]
            f[f"rss_load_mib@{c}"] = r["rss_max_kib"] / 1024.0
            rss_load.append(r["rss_max_kib"] / 1024.0)
    if rss_load:
        f["rss_load_mib"] = max(rss_load)
    for key in ("rss_ready_kib", "rss_peak_kib"):
        if s.get(key):
            f[key.replace("_kib", "_mib")] = s[key] / 1024.0
    s["figures"] = f


def read_counters(path: Path) -> dict:
    data = path.read_bytes()[:56]
    vals = struct.unpack("=7Q", data)
    if vals[0] != 0x6D616C6C6F63636E:
        raise BenchError(f"malloc counter file {path} has no magic: the shim did not load")
    return dict(zip(("malloc", "calloc", "realloc", "memalign", "free", "bytes"), vals[1:]))


def _delta(a: dict, b: dict) -> dict:
    d = {k: b[k] - a[k] for k in a}
    d["allocs"] = d["malloc"] + d["calloc"] + d["realloc"] + d["memalign"]
    return d


def malloc_phase(args, tool: str, shim: str, binary: str, children: Children, workdir: Path) -> dict:
    """Remora under the LD_PRELOAD counter: allocations per request."""
    out: dict = {"ok": True, "problems": []}
    counts = workdir / "malloc-counts"
    env = dict(os.environ, LD_PRELOAD=shim, MALLOC_COUNT_FILE=str(counts))
    up, up_port = start_upstream(children, tool, args.body, 300 + args.duration)
    proxy = None
    try:
        proxy, listen_port, admin_port, log = start_proxy(children, "remora", binary, "remora-malloc", workdir,
                                                          up_port, args.proxy_cpu, env=env)
        wait_ready(proxy, admin_port, log)
        read_counters(counts)
        n, m = args.malloc_requests, args.malloc_connections
        tmo = max(60, n // 500)

        def client(mode: str, count: int) -> dict:
            p = children.start([tool, mode, str(listen_port), str(count), str(tmo)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                o, e = p.communicate(timeout=tmo + 15)
            except subprocess.TimeoutExpired:
                children.stop(p, grace=0.5)
                return {"ok": False, "error": f"{mode} client timed out"}
            children.stop(p)
            try:
                return json.loads(o.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                return {"ok": False, "error": f"{mode} client exited {p.returncode}: {e.decode()[-300:]!r}"}

        # warm-up, not counted
        for mode, cnt in (("keepalive", 2000), ("conns", 200)):
            r = client(mode, cnt)
            if not r.get("ok"):
                out["problems"].append(f"malloc warm-up {mode}: {r.get('error') or r}")
        time.sleep(0.2)

        # idle: what the process allocates with no traffic (timers, stats flushes)
        a = read_counters(counts)
        time.sleep(3.0)
        d = _delta(a, read_counters(counts))
        out["idle_allocs_per_s"] = d["allocs"] / 3.0

        # one keep-alive connection, n sequential requests
        a = read_counters(counts)
        r = client("keepalive", n)
        d = _delta(a, read_counters(counts))
        out["keepalive"] = {"client": r, "delta": d}
        if r.get("ok"):
            out["allocs_per_request_keepalive"] = d["allocs"] / r["requests"]
            out["frees_per_request_keepalive"] = d["free"] / r["requests"]
            out["bytes_per_request_keepalive"] = d["bytes"] / r["requests"]
            # the same, minus what an idle Remora would have allocated meanwhile
            out["allocs_per_request_keepalive_net"] = \
                (d["allocs"] - out["idle_allocs_per_s"] * r["seconds"]) / r["requests"]
        else:
            out["problems"].append(f"malloc keepalive: {r.get('error') or r}")

        # m connections, one request each (connection setup + teardown + request)
        a = read_counters(counts)
        r = client("conns", m)
        d = _delta(a, read_counters(counts))
        out["conns"] = {"client": r, "delta": d}
        if r.get("ok") and r["requests"]:
            out["allocs_per_connection"] = d["allocs"] / r["requests"]
        else:
            out["problems"].append(f"malloc conns: {r.get('error') or r}")

        # wrk, 32 connections: requests counted by the upstream
        c = 32
        a, u0 = read_counters(counts), upstream_stats(up_port)
        w = run_wrk(children, args.wrk, listen_port, c, min(5, args.duration))
        d, u1 = _delta(a, read_counters(counts)), upstream_stats(up_port)
        reqs = u1["requests"] - u0["requests"]
        w.pop("raw", None)
        out[f"wrk{c}"] = {"wrk": {k: w.get(k) for k in ("ok", "requests", "rps", "socket_errors", "non2xx3xx")},
                          "upstream_requests": reqs, "delta": d}
        out["problems"] += wrk_problems(w, f"malloc wrk c={c}")
        if reqs:
            out[f"allocs_per_request_wrk{c}"] = d["allocs"] / reqs
        if proxy.poll() is not None:
            out["problems"].append(f"remora exited with {proxy.returncode} under the malloc counter: {log_tail(log)}")
    finally:
        if proxy is not None:
            stop_proxy(children, "remora", proxy, out)
        children.stop(up, grace=1.0)
    out["ok"] = not out["problems"]
    return out


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def rows_for(conns: list[int]) -> list[tuple]:
    """(key, label, format, ratio shown?)"""
    rows = []
    for c in conns:
        rows += [
            (f"rps@{c}", f"c={c}: requests/s", "{:.0f}", True),
            (f"cpu_us@{c}", f"c={c}: proxy CPU per request (us)", "{:.1f}", True),
            (f"cpu_pct@{c}", f"c={c}: proxy CPU (% of a core)", "{:.0f}", False),
            (f"p50_us@{c}", f"c={c}: latency p50 (us)", "{:.0f}", True),
            (f"p99_us@{c}", f"c={c}: latency p99 (us)", "{:.0f}", True),
            (f"rss_load_mib@{c}", f"c={c}: max VmRSS during the run (MiB)", "{:.1f}", True),
        ]
    return rows + RSS_ROWS


RSS_ROWS = [
    ("rss_ready_mib", "RSS when ready (MiB)", "{:.1f}", True),
    ("rss_load_mib", "max RSS under load, all runs (MiB)", "{:.1f}", True),
    ("rss_peak_mib", "peak RSS, VmHWM (MiB)", "{:.1f}", True),
]


def summarize(sessions: list[dict], kinds: list[str], rows: list[tuple], by: str = "proxy") -> dict:
    """Median, min, max of each row's figure per kind (``session[by]``);
    with two kinds, the ratio of their medians."""
    out: dict = {}
    for kind in kinds:
        ks = [s for s in sessions if s[by] == kind]
        out[kind] = {}
        for key, *_ in rows:
            vals = [s["figures"][key] for s in ks if key in s.get("figures", {})]
            if vals:
                out[kind][key] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                                  "n": len(vals), "values": vals}
    if len(kinds) == 2:
        a, b = kinds
        out["ratio"] = {}
        for key, *_ in rows:
            if key in out[a] and key in out[b] and out[b][key]["median"]:
                out["ratio"][key] = out[a][key]["median"] / out[b][key]["median"]
    return out


def md_table(head: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]

    def fmt_row(r):
        return "| " + " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) + " |"

    sep = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt_row(head), sep] + [fmt_row(r) for r in lines])


def format_table(summary: dict, kinds: list[str], rows: list[tuple]) -> str:
    head = ["metric (median of rounds, min-max)"] + [k.capitalize() for k in kinds]
    if len(kinds) == 2:
        head.append(f"{kinds[0].capitalize()}/{kinds[1].capitalize()}")
    lines = []
    for key, label, fmt, show_ratio in rows:
        row = [label] + [median_cell(summary, k, key, fmt) for k in kinds]
        if len(kinds) == 2:
            r = summary.get("ratio", {}).get(key)
            row.append(f"{r:.2f}" if (r is not None and show_ratio) else "")
        lines.append(row)
    return md_table(head, lines)


def targets(summary: dict, conns: list[int]) -> list[str]:
    """The issue's targets, Remora/Envoy: CPU/request <= 0.5, p99@32 <= 1, RSS under load < 0.25."""
    ratio = summary.get("ratio", {})
    out = []
    for c in conns:
        r = ratio.get(f"cpu_us@{c}")
        if r is not None:
            out.append(f"CPU per request at c={c}: {r:.2f}x Envoy's (target <= 0.50): {'met' if r <= 0.5 else 'NOT met'}")
    r = ratio.get("p99_us@32")
    if r is not None:
        out.append(f"p99 latency at c=32: {r:.2f}x Envoy's (target <= 1.00): {'met' if r <= 1.0 else 'NOT met'}")
    r = ratio.get("rss_load_mib")
    if r is not None:
        out.append(f"RSS under load: {r:.2f}x Envoy's (target < 0.25): {'met' if r < 0.25 else 'NOT met'}")
    return out


def format_capacity(cap: dict) -> str:
    lines = []
    for c, e in cap.items():
        if not e.get("ok"):
            lines.append([c, "failed: " + str(e.get("error")), "", "", "", ""])
            continue
        lines.append([c, f"{e['rps']:.0f}", f"{e['p50_us']:.0f}", f"{e['p99_us']:.0f}",
                      f"{e['upstream_cpu_us_per_request']:.2f} ({e['upstream_cpu_pct']:.0f}%)",
                      f"{e['wrk_cpu_pct']:.0f}%"])
    return md_table(["connections", "requests/s", "p50 (us)", "p99 (us)", "upstream CPU us/req (% core)", "wrk CPU"],
                    lines)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def add_wrk_args(p: argparse.ArgumentParser, connections: str, rounds_help: str) -> None:
    """The flags of the wrk-driven scripts (this one and capture_bench.py)."""
    add_binary_args(p)
    p.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="wrk binary (default: %(default)s)")
    p.add_argument("--connections", default=connections,
                   help="comma-separated wrk connection counts (default: %(default)s)")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up before each run (default: %(default)s)")
    p.add_argument("--body", type=int, default=64, help="response body bytes (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3, help=rounds_help + " (default: %(default)s)")
    p.add_argument("--proxies", default="remora,envoy", help="comma-separated subset of remora,envoy (default: %(default)s)")
    p.add_argument("--json", metavar="PATH", help="write all results as JSON here")
    p.add_argument("--keep-raw", action="store_true", help="keep wrk's raw output in the JSON")
    add_pinning_args(p)


def check_wrk_args(p: argparse.ArgumentParser, a) -> None:
    """Checks add_wrk_args' flags; sets ``a.kinds`` and ``a.conns``."""
    check_pinning_args(p, a)
    a.kinds = [k.strip() for k in a.proxies.split(",") if k.strip()]
    for k in a.kinds:
        if k not in KINDS:
            p.error(f"unknown proxy {k!r} in --proxies")
    try:
        a.conns = [int(x) for x in a.connections.split(",") if x.strip()]
    except ValueError:
        p.error("--connections must be comma-separated integers")
    if not a.conns or any(c < 1 or c > 10000 for c in a.conns):
        p.error("--connections must be within 1..10000")
    if a.rounds < 1 or a.duration < 1 or a.warmup < 0:
        p.error("--rounds >= 1, --duration >= 1, --warmup >= 0 (whole seconds: wrk's -d)")
    if a.duration > 600 or a.warmup > 600:
        p.error("--duration and --warmup are limited to 600 s")
    if not 0 <= a.body <= 65536:
        p.error("--body must be within 0..65536")


def missing_tool(args, binaries: dict[str, str]) -> str | None:
    """What of the proxies under test and wrk cannot be found, if anything."""
    for k in args.kinds:
        if not (os.path.exists(binaries[k]) or shutil.which(binaries[k])):
            return f"{k} binary not found: {binaries[k]}"
    if not (os.path.exists(args.wrk) or shutil.which(args.wrk)):
        return "wrk not found (Debian: apt-get install wrk), or pass --wrk PATH"
    return None


def print_targets(targets: list[str]) -> None:
    if targets:
        print()
        print("targets (Remora/Envoy):")
        for t in targets:
            print(f"  - {t}")


def print_run_header(result: dict, kinds: list[str]) -> None:
    host = result["host"]
    print(f"date {result['date']}, {host['cpus']} CPUs, kernel {host['kernel']}, "
          f"load average at start {host['loadavg_at_start'][0]:.2f}, at end {host['loadavg_at_end'][0]:.2f}")
    for k in kinds:
        print(f"{k}: {result['binaries'][k]['version']}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_wrk_args(p, "1,32,128", "rounds; each runs every proxy once, order alternating")
    p.add_argument("--capacity-seconds", type=int, default=5,
                   help="seconds per direct upstream capacity run; 0 skips (default: %(default)s)")
    p.add_argument("--malloc-requests", type=int, default=20000,
                   help="keep-alive requests counted under the malloc shim; 0 skips the malloc phase (default: %(default)s)")
    p.add_argument("--malloc-connections", type=int, default=2000,
                   help="one-request connections counted under the malloc shim (default: %(default)s)")
    p.add_argument("--perf-record", metavar="PREFIX",
                   help="perf record each measured run to PREFIX-<proxy>-r<round>-c<conns>.data "
                        "(perturbs the figures: profile separately)")
    p.add_argument("--perf-call-graph", default="fp", help="perf --call-graph mode (default: %(default)s)")
    p.add_argument("--perf-freq", type=int, default=999, help="perf sampling frequency (default: %(default)s)")
    p.add_argument("--access-log", action="store_true",
                   help="every proxy writes a file access log in Envoy's default format (its cost is the difference)")
    p.add_argument("--rds", action="store_true",
                   help="the routes come from RDS (a path_config_source file) instead of an inline route_config")
    p.add_argument("--keep-temp", action="store_true", help="keep the temp dir (configs, proxy logs)")
    a = p.parse_args(argv)
    check_wrk_args(p, a)
    if a.capacity_seconds < 0:
        p.error("--capacity-seconds >= 0")
    return a


def main(argv=None) -> int:
    global ACCESS_LOG, RDS
    args = parse_args(argv)
    ACCESS_LOG = args.access_log
    RDS = args.rds
    binaries = {"remora": args.remora, "envoy": args.envoy}
    why = missing_tool(args, binaries)
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    if args.perf_record and not shutil.which("perf"):
        print("error: --perf-record needs perf on PATH", file=sys.stderr)
        return 2
    stop_on_signals()
    rows = rows_for(args.conns)
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="http-proxy-bench-"))
    result = result_header(argv, {"connections": args.conns, "duration": args.duration, "warmup": args.warmup,
                                  "body": args.body, "rounds": args.rounds, "concurrency": 1, "wrk_threads": 1,
                                  "proxy_cpu": args.proxy_cpu, "load_cpu": args.load_cpu}, binaries, args.kinds)
    code = 0
    problems: list[str] = []
    pin_self(args)
    try:
        tool, shim = compile_helpers(workdir)
        if args.capacity_seconds > 0:
            print("upstream capacity (wrk straight at the upstream) ...", file=sys.stderr, flush=True)
            result["upstream_capacity"] = upstream_capacity(args, tool, children)
            for c, e in result["upstream_capacity"].items():
                if not e.get("ok"):
                    problems.append(f"upstream capacity c={c}: {e.get('error')}")
        for rnd in range(args.rounds):
            order = args.kinds if rnd % 2 == 0 else list(reversed(args.kinds))
            for kind in order:
                t0 = time.monotonic()
                print(f"round {rnd + 1}/{args.rounds}: {kind} ...", file=sys.stderr, flush=True)
                try:
                    sess = run_session(kind, binaries[kind], rnd + 1, args, tool, children, workdir, args.perf_record)
                except BenchError as e:
                    sess = {"proxy": kind, "round": rnd + 1, "ok": False, "problems": [str(e)], "figures": {}}
                result["sessions"].append(sess)
                f = sess["figures"]
                brief = "; ".join(
                    f"c={c} {f[f'rps@{c}']:.0f} rq/s {f[f'cpu_us@{c}']:.1f} us/rq p99 {f[f'p99_us@{c}']:.0f} us"
                    for c in args.conns if f"rps@{c}" in f)
                print(f"  {kind} round {rnd + 1}: {time.monotonic() - t0:.1f} s; {brief}; "
                      f"RSS load {f.get('rss_load_mib', 0):.1f} MiB", file=sys.stderr)
                for prob in sess["problems"]:
                    print(f"  PROBLEM: {prob}", file=sys.stderr)
                problems += [f"{kind} round {rnd + 1}: {p}" for p in sess["problems"]]
        if "remora" in args.kinds and args.malloc_requests > 0:
            print("remora under the malloc counter ...", file=sys.stderr, flush=True)
            try:
                result["mallocs"] = malloc_phase(args, tool, shim, binaries["remora"], children, workdir)
            except BenchError as e:
                result["mallocs"] = {"ok": False, "problems": [str(e)]}
            problems += [f"malloc phase: {p}" for p in result["mallocs"]["problems"]]
    except KeyboardInterrupt:
        print("interrupted; stopping every process started", file=sys.stderr)
        code = 130
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        problems.append(str(e))
    finally:
        end_run(children, workdir, args.keep_temp, result)

    result["summary"] = summarize(result["sessions"], args.kinds, rows)
    table = format_table(result["summary"], args.kinds, rows)
    result["table"] = table
    result["targets"] = targets(result["summary"], args.conns) if len(args.kinds) == 2 else []
    result["problems"] = problems
    if problems and code == 0:
        code = 1

    print()
    print_run_header(result, args.kinds)
    print(f"{args.rounds} round(s); wrk -t1 keep-alive, {args.warmup:g} s warm-up + {args.duration:g} s per run; "
          f"connections {','.join(map(str, args.conns))}; {args.body} B response body; {pinning_text(args)}")
    if result.get("upstream_capacity"):
        print()
        print("upstream alone (wrk -> upstream, no proxy):")
        print(format_capacity(result["upstream_capacity"]))
    print()
    print(table)
    print_targets(result["targets"])
    m = result.get("mallocs")
    if m and "allocs_per_request_keepalive" in m:
        print()
        print(f"Remora allocations (malloc+calloc+realloc+memalign, LD_PRELOAD counter): "
              f"{m['allocs_per_request_keepalive']:.1f} per request on one keep-alive connection "
              f"({m['allocs_per_request_keepalive_net']:.1f} net of the idle rate; "
              f"{m['frees_per_request_keepalive']:.1f} frees, {m['bytes_per_request_keepalive']:.0f} B requested); "
              f"{m.get('allocs_per_request_wrk32', float('nan')):.1f} per request with wrk -c32; "
              f"{m.get('allocs_per_connection', float('nan')):.1f} per one-request connection; "
              f"{m['idle_allocs_per_s']:.1f}/s idle")
    print()
    print_problems_and_json(problems, result, args.json)
    return code


if __name__ == "__main__":
    sys.exit(main())
