#!/usr/bin/env python3
"""CDS at mesh size, side by side: Remora vs Envoy.

Boots each proxy with ``dynamic_resources.cds_config`` on a
``path_config_source`` file holding N STATIC clusters of E endpoints each
(Istio's size for a mid-sized mesh: 1,000 × 10), then:

  ready      wall time from spawn until /ready answers LIVE, and the
             proxy's CPU time (user + system) by then
  rss        resident memory once ready (VmRSS)
  push       a full push: every cluster changed (a new connect_timeout),
             moved onto the path; the CPU time the proxy spent on it
             (reading and decoding the file included) and the wall time
             until its CPU time stopped rising, then cluster_modified is
             checked to be N (no admin polling meanwhile)
  rss-after  resident memory after the push

Each proxy runs ``--rounds`` times, alternating; the medians and the
Remora/Envoy ratios are printed.

    python3 Benchmarks/cds_push_bench.py --remora .build/release/remora \\
        --envoy "$(command -v envoy)" --clusters 1000 --endpoints 10 --rounds 3

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True

from tcp_proxy_bench import admin_get as admin, free_port  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"


def clusters(n: int, endpoints: int, timeout: str) -> list[dict]:
    out = []
    for i in range(n):
        lbs = [{"endpoint": {"address": {"socket_address": {
            "address": f"10.{(i >> 8) & 255}.{i & 255}.{j + 1}", "port_value": 8080}}}} for j in range(endpoints)]
        out.append({"@type": CLUSTER_TYPE, "name": f"outbound|8080||svc{i}.ns.svc.cluster.local", "type": "STATIC",
                    "connect_timeout": timeout,
                    "load_assignment": {"cluster_name": f"svc{i}", "endpoints": [{"lb_endpoints": lbs}]}})
    return out


def write_response(path: Path, version: str, resources: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version_info": version, "resources": resources}))
    os.rename(tmp, path)


def stat(port: int, name: str) -> int | None:
    status, body = admin(port, f"/stats?filter=^{name}$")
    for line in body.decode().splitlines():
        key, _, value = line.partition(": ")
        if key == name:
            return int(value)
    return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(binary: str, kind: str, n: int, endpoints: int, work: Path) -> dict:
    cds = work / "cds.json"
    write_response(cds, "1", clusters(n, endpoints, "1s"))
    port = free_port()
    bootstrap = {
        "node": {"id": "bench", "cluster": "bench"},
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}},
        "dynamic_resources": {"cds_config": {"path_config_source": {"path": str(cds)}, "resource_api_version": "V3"}},
    }
    config = work / "bootstrap.json"
    config.write_text(json.dumps(bootstrap))
    argv = [binary, "-c", str(config), "--concurrency", "2", "-l", "warning"]
    if kind == "envoy":
        argv += ["--disable-hot-restart", "--use-dynamic-base-id"]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} exited with {proc.returncode}")
            try:
                status, body = admin(port, "/ready")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.01)
        result = {"ready_s": time.monotonic() - start, "ready_cpu_s": cpu_seconds(proc.pid)}
        time.sleep(1.0)
        result["rss_mib"] = rss_mib(proc.pid)
        before = cpu_seconds(proc.pid)
        start = time.monotonic()
        write_response(cds, "2", clusters(n, endpoints, "2s"))
        # No admin polling while the push applies (a /stats read of 1,000
        # clusters costs the proxy CPU too): the push is over once the
        # proxy's CPU time has stopped rising for 0.5 s.
        last, last_change = before, start
        while time.monotonic() - last_change < 0.5:
            time.sleep(0.05)
            now = cpu_seconds(proc.pid)
            if now != last:
                last, last_change = now, time.monotonic()
        result["push_s"] = last_change - start
        result["push_cpu_s"] = last - before
        modified = stat(port, "cluster_manager.cluster_modified")
        if modified != n:
            raise RuntimeError(f"{kind}: cluster_modified is {modified} after the push, not {n}")
        time.sleep(1.0)
        result["rss_after_mib"] = rss_mib(proc.pid)
        return result
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--remora", required=True)
    parser.add_argument("--envoy", required=True)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    samples: dict[str, list[dict]] = {"remora": [], "envoy": []}
    for _ in range(args.rounds):
        for kind in ("remora", "envoy"):
            with tempfile.TemporaryDirectory(prefix="cdsbench-") as d:
                samples[kind].append(run(getattr(args, kind), kind, args.clusters, args.endpoints, Path(d)))
    print(f"{args.clusters} clusters × {args.endpoints} endpoints, {args.rounds} rounds (medians)")
    for key in ("ready_s", "ready_cpu_s", "rss_mib", "push_s", "push_cpu_s", "rss_after_mib"):
        r = statistics.median(s[key] for s in samples["remora"])
        e = statistics.median(s[key] for s in samples["envoy"])
        print(f"  {key:14} remora {r:9.3f}   envoy {e:9.3f}   ratio {r / e if e else float('nan'):.2f}")


if __name__ == "__main__":
    main()
