#!/usr/bin/env python3
"""Main-loop CPU of one ``/stats/prometheus`` scrape at mesh size.

Each proxy (Remora builds and/or Envoy) boots from the same static
bootstrap: N clusters (STATIC, E endpoints each, none contacted), L HTTP
listeners on 127.0.0.1 sharing one inline route table of R routes. Every
proxy runs alone on --proxy-cpu; scrapes alternate between proxies, and each
sample is the proxy's utime+stime over one scrape (body read to the end).

    /work/main/.venv/bin/python Benchmarks/prometheus_scrape_bench.py \\
        --proxy remora=.build/release/remora --proxy base=/tmp/old-remora \\
        --proxy envoy=/work/main/.venv/lib/python3.11/site-packages/envoy/_bin/envoy
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True

from tcp_proxy_bench import free_port as kernel_free_port, proc_cpu_seconds  # noqa: E402

_taken: set[int] = set()


def free_port() -> int:
    """A port the kernel calls free, never the same one twice in a run
    (100 listeners are configured before any is bound)."""
    while True:
        port = kernel_free_port()
        if port not in _taken:
            _taken.add(port)
            return port


def bootstrap(admin: int, clusters: int, endpoints: int, routes: int, listeners: int) -> dict:
    hcm = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    router = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
    route_config = {"name": "mesh", "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
        {"match": {"prefix": f"/r{i}"}, "route": {"cluster": f"c{i % clusters}"}} for i in range(routes)]}]}
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
        "static_resources": {
            "clusters": [{
                "name": f"c{c}", "type": "STATIC", "connect_timeout": "1s",
                "load_assignment": {"cluster_name": f"c{c}", "endpoints": [{"lb_endpoints": [
                    {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 20000 + e}}}}
                    for e in range(endpoints)]}]},
            } for c in range(clusters)],
            "listeners": [{
                "name": f"l{i}",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": free_port()}},
                "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
                    "@type": hcm, "stat_prefix": f"ingress_{i}", "route_config": route_config,
                    "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": router}}],
                }}]}],
            } for i in range(listeners)],
        },
    }


def get(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"{path}: {resp.status}")
    return body


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--proxy", action="append", required=True, help="label=binary (label 'envoy*' runs it as Envoy)")
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--routes", type=int, default=1000)
    p.add_argument("--listeners", type=int, default=100)
    p.add_argument("--scrapes", type=int, default=9)
    p.add_argument("--proxy-cpu", type=int, default=1)
    p.add_argument("--load-cpu", type=int, default=0)
    p.add_argument("--path", default="/stats/prometheus")
    a = p.parse_args()
    os.sched_setaffinity(0, {a.load_cpu})
    work = Path(tempfile.mkdtemp(prefix="prom-bench-"))
    procs = {}
    try:
        for spec in a.proxy:
            label, _, binary = spec.partition("=")
            admin = free_port()
            cfg = work / f"{label}.json"
            cfg.write_text(json.dumps(bootstrap(admin, a.clusters, a.endpoints, a.routes, a.listeners)))
            argv = ["taskset", "-c", str(a.proxy_cpu), binary, "-c", str(cfg), "--concurrency", "1"]
            if label.startswith("envoy"):
                argv += ["--disable-hot-restart", "--use-dynamic-base-id"]
            log = open(work / f"{label}.log", "wb")
            procs[label] = (subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT), admin)
        for label, (proc, admin) in procs.items():
            deadline = time.time() + 120
            while True:
                try:
                    if get(admin, "/ready"):
                        break
                except Exception:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"{label} did not start: {(work / f'{label}.log').read_text()[-2000:]}")
                    time.sleep(0.2)
        time.sleep(1)
        samples = {label: [] for label in procs}
        sizes = {}
        for _ in range(a.scrapes):
            for label, (proc, admin) in procs.items():
                before = proc_cpu_seconds(proc.pid)
                body = get(admin, a.path)
                time.sleep(0.05)
                samples[label].append(proc_cpu_seconds(proc.pid) - before)
                sizes[label] = (len(body), body.count(b"\n"))
        for label, s in samples.items():
            print(f"{label:10s} median {statistics.median(s):.3f} s (min {min(s):.3f}, max {max(s):.3f}) "
                  f"over {len(s)} scrapes; body {sizes[label][0]} bytes, {sizes[label][1]} lines")
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
