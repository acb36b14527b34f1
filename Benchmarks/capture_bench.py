#!/usr/bin/env python3
"""Outbound HTTP through transparent capture: Remora vs Envoy vs the direct path.

A "pod" network namespace and a "peer" namespace, joined by a veth
(10.200.0.1 in the pod, 10.200.0.2 in the peer; the addresses exist only
inside these namespaces).  In the peer, ``http_bench_tool server`` (the
upstream of http_proxy_bench.py) listens on port 80.  In the pod,
``iptables/remora-iptables`` installs the capture rules with their defaults
(outbound to 15001, inbound to 15006, uid/gid 1337 excluded), and the proxy
runs as uid/gid 1337 (``setpriv``) with ``--concurrency 1`` and the
Istio-shaped bootstrap ``examples/istio-sidecar.yaml``, read when the script
starts and given unchanged to both proxies: virtualOutbound on 15001 recovers
the original destination (``original_dst``) and hands the connection over
(``use_original_dst``) to the HTTP listener ``0.0.0.0_80``, whose route goes
to PassthroughCluster (ORIGINAL_DST), i.e. back to 10.200.0.2:80.

The load generator is wrk (one thread, keep-alive, ``--latency``) in the pod,
at ``http://10.200.0.2/``.  Three modes per round:

  direct   wrk runs as uid 1337, which the rules leave alone, so it reaches
           the peer straight over the veth; no proxy is running.  Same
           namespace, same rules installed, same route as the captured runs:
           the only difference is the proxy.
  remora,  wrk runs as root, so its connections are redirected to 15001 and
  envoy    go through the proxy (and the proxy's own connections, as uid
           1337, go out directly).

For each mode and connection count: a wrk warm-up (not measured), then a
measured run recording requests/s and latency p50/p99; for the proxies also
the proxy's CPU per request (utime+stime from /proc/<pid>/stat over the run),
VmRSS sampled during the run, and VmHWM.  Added latency is the proxy's p50
(p99) minus the direct run's p50 (p99) of the same round.  The proxies'
admin counters confirm that the requests went through the HTTP listener
(a proxy that fell back to plain TCP passthrough would fail the run).

The proxy runs alone on one CPU (default 1); wrk, the upstream and this script
on another (default 0).  Root, ``ip``, ``iptables``, ``setpriv``, wrk and a C
compiler are needed; standard library only.  The namespaces, the rules and
every process started are removed at exit, also on Ctrl-C, SIGTERM or an
error.  Run ``python3 Benchmarks/capture_bench.py --help`` for the flags.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no Benchmarks/__pycache__ from the imports below

from tcp_proxy_bench import (  # noqa: E402
    BenchError,
    Children,
    end_run,
    log_tail,
    median_cell,
    note_pinning,
    pin_self,
    pinning_text,
    print_problems_and_json,
    proc_mem_kib,
    proxy_argv,
    result_header,
    stop_on_signals,
    wait_ready,
)
from http_proxy_bench import (  # noqa: E402
    RSS_ROWS,
    add_wrk_args,
    admin_stats,
    check_wrk_args,
    derive,
    md_table,
    measured_wrk,
    missing_tool,
    print_run_header,
    print_targets,
    rows_for as http_rows_for,
    run_wrk,
    start_upstream,
    summarize,
    upstream_stats,
    wrk_problems,
)

TOOL_SRC = HERE / "http_bench_tool.c"
APPLY_RULES = REPO / "iptables" / "remora-iptables"
DEFAULT_BOOTSTRAP = REPO / "examples" / "istio-sidecar.yaml"
POD4, PEER4 = "10.200.0.1", "10.200.0.2"
UPSTREAM_PORT = 80  # the bootstrap's outbound HTTP listener is 0.0.0.0_80
URL = f"http://{PEER4}/"
PROXY_UID = 1337  # remora-iptables' default -u/-g: its traffic is not captured
NS_PREFIX = "rmb-capbench-"

_LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def as_proxy_user(keep_pdeathsig: bool = True) -> list[str]:
    """setpriv to uid/gid 1337; ``--pdeathsig keep`` restores the
    parent-death signal that the credential change clears."""
    argv = ["setpriv", "--reuid", str(PROXY_UID), "--regid", str(PROXY_UID), "--clear-groups"]
    return argv + (["--pdeathsig", "keep"] if keep_pdeathsig else [])


# ---------------------------------------------------------------------------
# namespaces
# ---------------------------------------------------------------------------


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and r.returncode != 0:
        raise BenchError(f"ip {' '.join(args)} failed: {r.stderr.strip()}")
    return r


def ns_exec(ns: str) -> list[str]:
    return ["ip", "netns", "exec", ns]


@contextlib.contextmanager
def in_netns(ns: str):
    """This thread in namespace ``ns`` for the block, for the script's own
    HTTP requests to admin and the upstream.  setns(2) changes only the
    calling thread; no process is started inside the block (it would be
    born in ``ns``)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            if _LIBC.setns(target, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns into {ns}: {os.strerror(err)}")
        finally:
            os.close(target)
        try:
            yield
        finally:
            if _LIBC.setns(own, CLONE_NEWNET) != 0:  # pragma: no cover - cannot fail with our own fd
                raise OSError(ctypes.get_errno(), "setns back to the original namespace")
    finally:
        os.close(own)


def remove_stale_namespaces() -> list[str]:
    """Namespaces left by a run of this script that was killed outright."""
    removed = []
    for line in ip("netns", "list").stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(re.escape(NS_PREFIX) + r"(\d+)-(pod|peer)", name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
            continue  # its script is still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        ip("netns", "del", name, check=False)
        removed.append(name)
    return removed


class Pod:
    """The pod and peer namespaces, the veth between them and the capture
    rules in the pod; ``close()`` deletes both namespaces (and so the rules)."""

    def __init__(self) -> None:
        self.pod = f"{NS_PREFIX}{os.getpid()}-pod"
        self.peer = f"{NS_PREFIX}{os.getpid()}-peer"
        self.made: list[str] = []

    def create(self) -> None:
        for ns in (self.pod, self.peer):
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", self.pod, "link", "add", "v-pod", "type", "veth", "peer", "name", "v-peer", "netns", self.peer)
        ip("-n", self.pod, "addr", "add", f"{POD4}/24", "dev", "v-pod")
        ip("-n", self.pod, "link", "set", "v-pod", "up")
        ip("-n", self.peer, "addr", "add", f"{PEER4}/24", "dev", "v-peer")
        ip("-n", self.peer, "link", "set", "v-peer", "up")
        r = subprocess.run(ns_exec(self.pod) + [str(APPLY_RULES)], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "ISTIO_DUAL_STACK": "false"})
        if r.returncode != 0:
            raise BenchError(f"{APPLY_RULES} failed in the pod: {r.stderr.strip() or r.stdout.strip()}")
        save = subprocess.run(ns_exec(self.pod) + ["iptables-save", "-t", "nat"], capture_output=True, text=True,
                              timeout=20).stdout
        if "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001" not in save:
            raise BenchError(f"the capture rules are not in the pod's nat table:\n{save}")

    def close(self) -> None:
        for ns in reversed(self.made):
            ip("netns", "del", ns, check=False)
        self.made.clear()


# ---------------------------------------------------------------------------
# binaries and bootstrap
# ---------------------------------------------------------------------------


def runnable_by_proxy_user(kind: str, binary: str, workdir: Path) -> str:
    """``binary`` if uid 1337 can run it, else a 0755 copy in ``workdir``."""
    def works(path: str) -> bool:
        r = subprocess.run(as_proxy_user(False) + [path, "--version"], capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL, cwd="/")
        return r.returncode == 0

    path = shutil.which(binary) or binary
    if works(path):
        return path
    with open(path, "rb") as f:
        is_elf = f.read(4) == b"\x7fELF"
    if not is_elf:
        raise BenchError(f"uid {PROXY_UID} cannot run {path}, and it is a wrapper, not a binary to copy: "
                         f"pass the real {kind} binary")
    copy = workdir / "bin" / kind
    copy.parent.mkdir(mode=0o755, exist_ok=True)
    shutil.copyfile(path, copy)
    os.chmod(copy, 0o755)
    if not works(str(copy)):
        raise BenchError(f"uid {PROXY_UID} cannot run {path}, nor a copy of it in {copy.parent}")
    return str(copy)


def admin_port_of(config_text: str) -> int:
    """The admin listener's port: the first port_value in the top-level
    ``admin:`` block (the script reads admin from inside the pod)."""
    m = re.search(r"^admin:([^\n]*\n(?:[ \t]+[^\n]*\n|\s*\n)*)", config_text + "\n", re.M)
    p = re.search(r"port_value:\s*(\d+)", m.group(1)) if m else None
    if not p:
        raise BenchError("the bootstrap has no admin address with a port_value")
    return int(p.group(1))


def validate(kind: str, binary: str, config: Path) -> dict:
    r = subprocess.run([binary, "--mode", "validate", "-c", str(config)], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    out = (r.stdout + r.stderr).strip()
    return {"ok": r.returncode == 0, "exit_code": r.returncode, "output": "\n".join(out.splitlines()[-8:])}


# ---------------------------------------------------------------------------
# one mode, one round
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args, pod: Pod, children: Children, workdir: Path, tool: str, config: Path,
                 admin_port: int, binaries: dict[str, str]) -> None:
        self.args, self.pod, self.children, self.workdir = args, pod, children, workdir
        self.tool, self.config, self.admin_port, self.binaries = tool, config, admin_port, binaries

    def upstream_stats(self) -> dict:
        """The upstream's counters, asked in the peer, not through the proxy
        (it listens on 0.0.0.0:80 there, so 127.0.0.1:80 reaches it)."""
        with in_netns(self.pod.peer):
            return upstream_stats(UPSTREAM_PORT)

    def http_requests(self) -> int:
        """downstream_rq_total summed over the proxy's HTTP connection
        managers (admin's own excluded), from admin inside the pod."""
        with in_netns(self.pod.pod):
            stats = admin_stats(self.admin_port)
        if "error" in stats:
            raise BenchError(stats["error"])
        return sum(v for k, v in stats.items() if k.startswith("http.") and not k.startswith("http.admin.")
                   and k.endswith(".downstream_rq_total"))

    def wrap(self, mode: str) -> list[str]:
        """wrk in the pod: as uid 1337 (not captured) for direct, else as root (captured)."""
        return ns_exec(self.pod.pod) + (as_proxy_user() if mode == "direct" else [])

    def session(self, mode: str, rnd: int) -> dict:
        args = self.args
        sess: dict = {"mode": mode, "round": rnd, "problems": [], "runs": {}}
        budget = 120 + len(args.conns) * (args.warmup + args.duration + 60)
        up, _ = start_upstream(self.children, self.tool, args.body, budget, wrap=ns_exec(self.pod.peer),
                               bind=("0.0.0.0", UPSTREAM_PORT))
        proxy = pid = None
        try:
            if mode != "direct":
                log = self.workdir / f"{mode}-r{rnd}.log"
                argv = ns_exec(self.pod.pod) + as_proxy_user() + proxy_argv(mode, self.binaries[mode], self.config)
                with open(log, "wb") as logf:
                    proxy = self.children.start(argv, cpu=args.proxy_cpu, stdout=logf, stderr=subprocess.STDOUT,
                                                cwd=self.workdir)
                pid = proxy.pid
                with in_netns(self.pod.pod):
                    sess["startup_seconds"] = wait_ready(proxy, self.admin_port, log)
                note_pinning(pid, args, sess)
                sess["rss_ready_kib"] = proc_mem_kib(pid).get("VmRSS")
                rq0 = self.http_requests()
            for c in args.conns:
                if args.warmup > 0:
                    w = run_wrk(self.children, args.wrk, UPSTREAM_PORT, c, args.warmup, url=URL, wrap=self.wrap(mode))
                    sess["problems"] += wrk_problems(w, f"warm-up c={c}")
                r = measured_wrk(self.children, args.wrk, UPSTREAM_PORT, c, args.duration, pid, up.pid,
                                 UPSTREAM_PORT, url=URL, wrap=self.wrap(mode), stats=self.upstream_stats)
                if not args.keep_raw:
                    r.pop("raw", None)
                sess["runs"][str(c)] = r
                sess["problems"] += wrk_problems(r, f"c={c}")
                if proxy is not None and proxy.poll() is not None:
                    sess["problems"].append(f"{mode} exited with {proxy.returncode} during c={c}: {log_tail(log)}")
                    break
            if proxy is not None and proxy.poll() is None:
                sess["rss_peak_kib"] = proc_mem_kib(pid).get("VmHWM")
                # Every measured request must have gone through an HTTP
                # listener: a proxy that only TCP-proxied would not count them.
                sess["http_requests"] = self.http_requests() - rq0
                measured = sum(r.get("requests", 0) for r in sess["runs"].values())
                if sess["http_requests"] < measured:
                    sess["problems"].append(f"{mode}: its HTTP listeners counted {sess['http_requests']} requests, "
                                            f"wrk completed {measured} measured ones: traffic bypassed the "
                                            f"0.0.0.0_{UPSTREAM_PORT} listener")
        finally:
            if proxy is not None:
                stop = self.children.stop(proxy, grace=15.0)
                sess["shutdown"] = stop
                if stop["killed"]:
                    sess["problems"].append(f"{mode} did not exit within 15 s of SIGTERM; killed")
            self.children.stop(up, grace=1.0)
        derive(sess)
        return sess


def add_added_latency(sessions: list[dict], conns: list[int]) -> None:
    """Proxy p50/p99 minus the direct run's of the same round."""
    direct = {s["round"]: s["figures"] for s in sessions if s["mode"] == "direct"}
    for s in sessions:
        d = direct.get(s["round"])
        if s["mode"] == "direct" or d is None:
            continue
        for c in conns:
            for q in ("p50", "p99"):
                if f"{q}_us@{c}" in s["figures"] and f"{q}_us@{c}" in d:
                    s["figures"][f"added_{q}_us@{c}"] = s["figures"][f"{q}_us@{c}"] - d[f"{q}_us@{c}"]


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def rows_for(conns: list[int]) -> list[tuple]:
    """http_proxy_bench's rows and the added latencies, as (key, label,
    format, proxies only?); direct has figures for the first three only."""
    base = {key: (label, fmt) for key, label, fmt, _ in http_rows_for(conns)}
    rows = []
    for c in conns:
        for q in ("p50", "p99"):
            base[f"added_{q}_us@{c}"] = (f"c={c}: added latency {q} vs direct (us)", "{:.0f}")
        for name in ("rps", "p50_us", "p99_us", "added_p50_us", "added_p99_us", "cpu_us", "cpu_pct", "rss_load_mib"):
            key = f"{name}@{c}"
            rows.append((key, *base[key], name not in ("rps", "p50_us", "p99_us")))
    return rows + RSS_ROWS


def remora_over_envoy(summary: dict, rows: list[tuple]) -> dict | None:
    """Ratios of the medians, Remora/Envoy; none where Envoy's median is at
    or below zero (an added latency within the noise)."""
    if "remora" not in summary or "envoy" not in summary:
        return None
    out = {}
    for key, *_ in rows:
        a, b = summary["remora"].get(key), summary["envoy"].get(key)
        if a and b and b["median"] > 0 and not key.startswith("cpu_pct"):
            out[key] = a["median"] / b["median"]
    return out


def format_table(summary: dict, modes: list[str], rows: list[tuple]) -> str:
    ratio = summary.get("ratio")
    head = ["metric (median of rounds, min-max)"] + [m.capitalize() for m in modes]
    head += ["Remora/Envoy"] if ratio is not None else []
    lines = []
    for key, label, fmt, proxies_only in rows:
        row = [label] + ["" if (m == "direct" and proxies_only) else median_cell(summary, m, key, fmt)
                         for m in modes]
        if ratio is not None:
            row.append(f"{ratio[key]:.2f}" if key in ratio else "")
        lines.append(row)
    return md_table(head, lines)


def targets(summary: dict, conns: list[int]) -> list[str]:
    """Issue 11: Remora's added p99 <= 1/2 of Envoy's, CPU per request <= 0.5x Envoy's."""
    ratio = summary.get("ratio")
    if ratio is None:
        return []
    out = []
    for c in conns:
        r = ratio.get(f"added_p99_us@{c}")
        if r is not None:
            out.append(f"added p99 at c={c}: {r:.2f}x Envoy's (target <= 0.50): {'met' if r <= 0.5 else 'NOT met'}")
        elif f"added_p99_us@{c}" in summary["envoy"]:
            out.append(f"added p99 at c={c}: Envoy's median is <= 0 us (within the noise), no ratio")
        r = ratio.get(f"cpu_us@{c}")
        if r is not None:
            out.append(f"CPU per request at c={c}: {r:.2f}x Envoy's (target <= 0.50): {'met' if r <= 0.5 else 'NOT met'}")
    return out


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_wrk_args(p, "1,32", "rounds; each runs direct, then every proxy, order alternating")
    p.add_argument("--bootstrap", default=str(DEFAULT_BOOTSTRAP),
                   help="the bootstrap both proxies run, read at start (default: %(default)s)")
    p.add_argument("--keep-temp", action="store_true", help="keep the temp dir (bootstrap copy, proxy logs)")
    a = p.parse_args(argv)
    check_wrk_args(p, a)
    return a


def preflight(args, binaries: dict[str, str]) -> str | None:
    if os.geteuid() != 0:
        return "run as root (network namespaces, iptables, setpriv)"
    for tool in ("ip", "iptables", "iptables-save", "iptables-restore", "setpriv", os.environ.get("CC", "cc")):
        if shutil.which(tool) is None:
            return f"{tool} not found (Debian: apt-get install iproute2 iptables util-linux gcc libc6-dev)"
    if not Path(args.bootstrap).is_file():
        return f"bootstrap not found: {args.bootstrap}"
    return missing_tool(args, binaries)


def prepare(args, binaries: dict[str, str], workdir: Path, result: dict) -> tuple[Path, int, str]:
    """The bootstrap copy uid 1337 can read, its admin port, both proxies'
    verdict on it, binaries uid 1337 can run, and the compiled upstream."""
    config_text = Path(args.bootstrap).read_text()
    config = workdir / "bootstrap.yaml"
    config.write_text(config_text)
    os.chmod(config, 0o644)
    admin_port = admin_port_of(config_text)
    result["validation"] = {}
    for k in args.kinds:
        v = validate(k, binaries[k], config)
        result["validation"][k] = v
        if not v["ok"]:
            raise BenchError(f"{k} rejects {args.bootstrap}:\n{v['output']}")
        binaries[k] = runnable_by_proxy_user(k, binaries[k], workdir)
        result["binaries"][k]["run_as"] = binaries[k]
    tool = str(workdir / "http_bench_tool")
    r = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", tool, str(TOOL_SRC)], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise BenchError(f"compiling {TOOL_SRC} failed:\n{r.stderr}")
    return config, admin_port, tool


def main(argv=None) -> int:
    args = parse_args(argv)
    binaries = {"remora": args.remora, "envoy": args.envoy}
    why = preflight(args, binaries)
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    stop_on_signals()
    modes = ["direct"] + args.kinds
    rows = rows_for(args.conns)
    children = Children()
    pod = Pod()
    workdir = Path(tempfile.mkdtemp(prefix="capture-bench-"))
    os.chmod(workdir, 0o755)  # uid 1337 reads the bootstrap and may run copied binaries from here
    result = result_header(argv, {"connections": args.conns, "duration": args.duration, "warmup": args.warmup,
                                  "body": args.body, "rounds": args.rounds, "concurrency": 1, "wrk_threads": 1,
                                  "proxy_cpu": args.proxy_cpu, "load_cpu": args.load_cpu,
                                  "bootstrap": args.bootstrap, "pod": POD4, "peer": f"{PEER4}:{UPSTREAM_PORT}",
                                  "proxy_uid": PROXY_UID}, binaries, args.kinds)
    code = 0
    problems: list[str] = []
    pin_self(args)
    try:
        stale = remove_stale_namespaces()
        if stale:
            print(f"removed namespaces left by an earlier run: {', '.join(stale)}", file=sys.stderr)
        config, admin_port, tool = prepare(args, binaries, workdir, result)
        pod.create()
        result["namespaces"] = {"pod": pod.pod, "peer": pod.peer}
        bench = Bench(args, pod, children, workdir, tool, config, admin_port, binaries)
        for rnd in range(1, args.rounds + 1):
            for mode in ["direct"] + (args.kinds if rnd % 2 == 1 else list(reversed(args.kinds))):
                t0 = time.monotonic()
                print(f"round {rnd}/{args.rounds}: {mode} ...", file=sys.stderr, flush=True)
                try:
                    sess = bench.session(mode, rnd)
                except BenchError as e:
                    sess = {"mode": mode, "round": rnd, "problems": [str(e)], "runs": {}, "figures": {}}
                result["sessions"].append(sess)
                f = sess["figures"]
                brief = "; ".join(
                    f"c={c} {f[f'rps@{c}']:.0f} rq/s p50 {f[f'p50_us@{c}']:.0f} p99 {f[f'p99_us@{c}']:.0f} us"
                    + (f" {f[f'cpu_us@{c}']:.1f} us CPU/rq" if f"cpu_us@{c}" in f else "")
                    for c in args.conns if f"rps@{c}" in f)
                print(f"  {mode} round {rnd}: {time.monotonic() - t0:.1f} s; {brief}", file=sys.stderr)
                for prob in sess["problems"]:
                    print(f"  PROBLEM: {prob}", file=sys.stderr)
                problems += [f"{mode} round {rnd}: {p}" for p in sess["problems"]]
    except KeyboardInterrupt:
        print("interrupted; stopping every process started and removing the namespaces", file=sys.stderr)
        code = 130
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        problems.append(str(e))
    finally:
        end_run(children, workdir, args.keep_temp, result)
        pod.close()  # after its processes are gone

    add_added_latency(result["sessions"], args.conns)
    summary = summarize(result["sessions"], modes, rows, by="mode")
    summary.pop("ratio", None)  # summarize's ratio of two modes; Remora/Envoy is ours
    ratio = remora_over_envoy(summary, rows)
    if ratio is not None:
        summary["ratio"] = ratio
    result["summary"] = summary
    result["table"] = format_table(summary, modes, rows)
    result["targets"] = targets(summary, args.conns)
    result["problems"] = problems
    if problems and code == 0:
        code = 1

    print()
    print_run_header(result, args.kinds)
    for k, v in result.get("validation", {}).items():
        print(f"{k} --mode validate {args.bootstrap}: {'OK' if v['ok'] else 'REJECTED: ' + v['output']}")
    print(f"{args.rounds} round(s); wrk -t1 keep-alive from the pod to {PEER4}:{UPSTREAM_PORT} in the peer, "
          f"{args.warmup:g} s warm-up + {args.duration:g} s per run; connections {','.join(map(str, args.conns))}; "
          f"{args.body} B response body; direct = wrk as uid {PROXY_UID} (not captured), proxies = wrk as root "
          f"(captured to 15001), proxy as uid {PROXY_UID} --concurrency 1; {pinning_text(args)}")
    print()
    print(result["table"])
    print_targets(result["targets"])
    print()
    print_problems_and_json(problems, result, args.json)
    return code


if __name__ == "__main__":
    sys.exit(main())
