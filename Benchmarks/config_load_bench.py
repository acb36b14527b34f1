#!/usr/bin/env python3
"""Side-by-side config loading benchmark: Remora vs Envoy.

Generates Envoy v3 bootstraps the way a control plane shapes them: one HTTP
listener whose inline route configuration holds N routes spread over virtual
hosts (50 routes each; prefix, exact-path, path-plus-header and regex
matches, some with timeouts, retries and rewrites), pointing round-robin at M
STATIC clusters (one endpoint each). For each size and each proxy, in
alternating order over several rounds, it times

  validate   ``PROXY --mode validate -c FILE`` from spawn to exit (must exit 0)
  ready      ``PROXY -c FILE --concurrency 1`` from spawn until admin
             ``GET /ready`` answers 200 (the proxy is then stopped)

and prints, for wall time and for the proxy's CPU time (user + system; on a
busy machine the steadier figure), the median with min–max per proxy and
the Remora/Envoy ratio.

    python3 Benchmarks/config_load_bench.py --remora .build/release/remora \\
        --envoy "$(command -v envoy)" --routes 1250,2500,5000,10000 --rounds 5

Standard library only. ``--clusters`` fixes M (default: N / 5, at least 1);
``--keep DIR`` leaves the generated bootstraps in DIR; ``--json FILE`` writes
every sample.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTES_PER_VHOST = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def route(i: int, clusters: int) -> dict:
    """The i-th route: a mix of match kinds and actions."""
    cluster = f"cluster_{i % clusters}"
    kind = i % 4
    if kind == 0:
        match: dict = {"prefix": f"/api/v{i % 7}/svc{i}/"}
    elif kind == 1:
        match = {"path": f"/exact/{i}/resource"}
    elif kind == 2:
        match = {"prefix": f"/tenant/{i}/", "headers": [
            {"name": "x-tenant", "string_match": {"exact": f"tenant-{i}"}},
            {"name": "x-canary", "present_match": True}]}
    else:
        match = {"safe_regex": {"regex": f"/items/{i}/[0-9]+"}}
    action: dict = {"cluster": cluster}
    if i % 3 == 0:
        action["timeout"] = f"{1 + i % 30}s"
    if i % 5 == 0:
        action["retry_policy"] = {"retry_on": "5xx,connect-failure", "num_retries": 2, "per_try_timeout": "0.5s"}
    if i % 7 == 0:
        action["prefix_rewrite"] = "/"
    r = {"name": f"route_{i}", "match": match, "route": action}
    if i % 11 == 0:
        r["request_headers_to_add"] = [{"header": {"key": "x-route", "value": f"r{i}"}}]
    return r


def bootstrap(routes: int, clusters: int, admin_port: int, listen_port: int) -> dict:
    vhosts = []
    for v in range(0, routes, ROUTES_PER_VHOST):
        n = v // ROUTES_PER_VHOST
        vhosts.append({
            "name": f"vhost_{n}",
            "domains": [f"svc-{n}.example.com", f"svc-{n}.example.com:*", f"svc-{n}"],
            "routes": [route(i, clusters) for i in range(v, min(routes, v + ROUTES_PER_VHOST))],
        })
    vhosts[-1]["domains"].append("*")
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "ingress_http",
        "codec_type": "HTTP1",
        "route_config": {"name": "local", "virtual_hosts": vhosts},
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
    }
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
        "static_resources": {
            "listeners": [{
                "name": "http",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": listen_port}},
                "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                "typed_config": hcm}]}],
            }],
            "clusters": [{
                "name": f"cluster_{c}", "type": "STATIC", "connect_timeout": "1s",
                "load_assignment": {"cluster_name": f"cluster_{c}", "endpoints": [{"lb_endpoints": [
                    {"endpoint": {"address": {"socket_address": {
                        "address": "127.0.0.1", "port_value": 20000 + c % 10000}}}}]}]},
            } for c in range(clusters)],
        },
    }


def yaml_key(k: str) -> str:
    return k if k.replace("_", "").isalnum() else json.dumps(k)


def write_yaml(value, out: list[str], indent: str = "") -> None:
    """Block-style YAML as people write it: plain keys, JSON scalars (JSON
    strings are valid YAML)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{indent}{yaml_key(k)}:")
                write_yaml(v, out, indent + "  ")
            else:
                out.append(f"{indent}{yaml_key(k)}: {json.dumps(v)}")
    else:
        for v in value:
            if isinstance(v, (dict, list)) and v:
                sub: list[str] = []
                write_yaml(v, sub, indent + "  ")
                out.append(f"{indent}- {sub[0].lstrip()}")
                out.extend(sub[1:])
            else:
                out.append(f"{indent}- {json.dumps(v)}")


def extra_flags(kind: str) -> list[str]:
    return ["--disable-hot-restart", "--use-dynamic-base-id"] if kind == "envoy" else []


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """utime + stime of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def time_validate(binary: str, kind: str, path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one validate run."""
    cpu = children_cpu()
    start = time.perf_counter()
    res = subprocess.run([binary, "--mode", "validate", "-c", str(path), "-l", "error"] + extra_flags(kind),
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{kind} validate exited {res.returncode}: {res.stderr.decode(errors='replace')[-2000:]}")
    return elapsed, children_cpu() - cpu


def ready(admin_port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=1)
        conn.request("GET", "/ready")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def time_ready(binary: str, kind: str, routes: int, clusters: int, workdir: Path) -> tuple[float, float]:
    """(wall seconds, proxy CPU seconds) from spawn to the first 200 from /ready."""
    admin_port, listen_port = free_port(), free_port()
    path = workdir / f"ready-{kind}-{routes}.yaml"
    lines: list[str] = []
    write_yaml(bootstrap(routes, clusters, admin_port, listen_port), lines)
    path.write_text("\n".join(lines) + "\n")
    argv = [binary, "-c", str(path), "--concurrency", "1", "-l", "error"] + extra_flags(kind)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not ready(admin_port):
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} exited {proc.returncode}: {proc.stderr.read().decode(errors='replace')[-2000:]}")
            if time.perf_counter() - start > 120:
                raise RuntimeError(f"{kind} not ready after 120 s")
            time.sleep(0.005)
        return time.perf_counter() - start, process_cpu(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):6.3f} ({min(samples):.3f}–{max(samples):.3f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--remora", default=str(Path(__file__).resolve().parent.parent / ".build/release/remora"))
    ap.add_argument("--envoy", default=None, help="Envoy binary (omit to time Remora only)")
    ap.add_argument("--routes", default="1250,2500,5000,10000")
    ap.add_argument("--clusters", type=int, default=None, help="clusters per bootstrap (default: routes / 5)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--phases", default="validate,ready")
    ap.add_argument("--keep", default=None, help="directory to keep the generated bootstraps in")
    ap.add_argument("--json", default=None, help="write every sample to this file")
    args = ap.parse_args()

    proxies = [("remora", args.remora)] + ([("envoy", args.envoy)] if args.envoy else [])
    phases = args.phases.split(",")
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="config-load-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    for n in (int(x) for x in args.routes.split(",")):
        m = args.clusters or max(1, n // 5)
        path = workdir / f"routes-{n}-clusters-{m}.yaml"
        lines: list[str] = []
        write_yaml(bootstrap(n, m, free_port(), free_port()), lines)
        path.write_text("\n".join(lines) + "\n")
        for phase in phases:
            wall: dict[str, list[float]] = {k: [] for k, _ in proxies}
            cpu: dict[str, list[float]] = {k: [] for k, _ in proxies}
            for r in range(args.rounds):
                order = proxies if r % 2 == 0 else list(reversed(proxies))
                for kind, binary in order:
                    if phase == "validate":
                        w, c = time_validate(binary, kind, path)
                    else:
                        w, c = time_ready(binary, kind, n, m, workdir)
                    wall[kind].append(w)
                    cpu[kind].append(c)
            results[f"{phase}/{n}"] = {"wall": wall, "cpu": cpu}
            print(f"{phase} routes={n} clusters={m} ({path.stat().st_size // 1024} KiB)", flush=True)
            for label, samples in (("wall s", wall), ("CPU s", cpu)):
                line = f"  {label:7}"
                for kind, _ in proxies:
                    line += f"  {kind}: {summary(samples[kind])}"
                if len(proxies) == 2 and statistics.median(samples["envoy"]) > 0:
                    line += f"  remora/envoy {statistics.median(samples['remora']) / statistics.median(samples['envoy']):.2f}x"
                print(line, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
