#!/usr/bin/env python3
"""Push-to-serving probe for one proxy build (issue 10): the mesh of
`xds_bench.py` over ADS, then either

  --what route,cluster,endpoint   pushes of each kind in turn, timed from
                                  sending the response until a keep-alive
                                  client sees the change (as xds_bench's
                                  "to serving"), --samples of each
  --cpu-pushes N [--cpu-kind rds|cds|eds]
                                  N pushes, each waited for until ACKed, no
                                  traffic: the proxy's CPU per push

Meant for A/B runs of two builds (and Envoy) alternated by hand, which the
full benchmark is too slow for; with --perf it records `perf record -g` of
the pinned proxy during the pushes and leaves the data in --keep'd workdir.

    .venv/bin/python Benchmarks/xds_push_probe.py --binary .build/release/remora --what route,endpoint --samples 15
    .venv/bin/python Benchmarks/xds_push_probe.py --kind envoy --binary $ENVOY --cpu-pushes 40
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "Tests" / "Interop"))
sys.dont_write_bytecode = True

import xds_bench  # noqa: E402
from tcp_proxy_bench import Children, proc_cpu_seconds, wait_ready  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["remora", "envoy"], default="remora")
    p.add_argument("--binary", required=True)
    p.add_argument("--xds", choices=["sotw", "delta"], default="sotw")
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--routes", type=int, default=1000)
    p.add_argument("--listeners", type=int, default=100)
    p.add_argument("--what", default="route,cluster,endpoint")
    p.add_argument("--samples", type=int, default=10)
    p.add_argument("--cpu-pushes", type=int, default=0)
    p.add_argument("--cpu-kind", choices=["rds", "cds", "eds"], default="rds")
    p.add_argument("--proxy-cpu", type=int, default=1)
    p.add_argument("--load-cpu", type=int, default=0)
    p.add_argument("--perf", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the workdir (proxy log, perf.data)")
    a = p.parse_args()
    os.sched_setaffinity(0, {a.load_cpu})
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="xds-push-probe-"))
    mesh = None
    try:
        ports = xds_bench.start_nginx(children, workdir / "nginx", a.load_cpu)
        d = workdir / "proxy"
        d.mkdir()
        mesh = xds_bench.Mesh(d, a, ports)
        mesh.write_all()
        proc, admin, log, _ = xds_bench.start_proxy(a.kind, a.binary, mesh, d, children, a.proxy_cpu)
        wait_ready(proc, admin, log, timeout=300)
        port = mesh.listen_ports[0]
        xds_bench.wait_serving(port, mesh.route_version, timeout=120)
        time.sleep(1)
        perf = None
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-p", str(proc.pid), "-o", str(workdir / "perf.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        if a.cpu_pushes:
            cpu0, t0 = proc_cpu_seconds(proc.pid), time.monotonic()
            for k in range(a.cpu_pushes):
                nonce = mesh.cp._counter
                if a.cpu_kind == "rds":
                    mesh.push_route(f"cpu{k}")
                    kinds: tuple[str, ...] = ("rds",)
                elif a.cpu_kind == "cds":
                    mesh.push_cluster()
                    kinds = ("cds", "eds")
                else:
                    mesh.push_endpoints()
                    kinds = ("eds",)
                xds_bench.wait_acked(mesh, nonce, kinds)
                time.sleep(0.05)
            cpu = proc_cpu_seconds(proc.pid) - cpu0
            print(f"{a.kind} {a.cpu_kind} x{a.cpu_pushes}: proxy CPU {cpu:.3f} s, {1000 * cpu / a.cpu_pushes:.2f} ms per push; "
                  f"wall {time.monotonic() - t0:.1f} s")
        else:
            whats = a.what.split(",")
            samples: dict[str, list[float]] = {w: [] for w in whats}
            for k in range(len(whats) * a.samples):
                time.sleep(0.2)
                what = whats[k % len(whats)]
                if what == "route":
                    mesh.push_route(f"s{k}")
                    xds_bench.wait_serving(port, f"s{k}")
                else:
                    serving = mesh.push_cluster() if what == "cluster" else mesh.push_endpoints()
                    xds_bench.wait_serving(port, ports=serving)
                samples[what].append((time.monotonic() - mesh.pushed_at) * 1000)
            for what, values in samples.items():
                print(f"{a.kind} {what}: median {statistics.median(values):.1f} ms  min {min(values):.1f} max {max(values):.1f}  "
                      f"all {[round(v, 1) for v in values]}")
        if perf:
            perf.send_signal(2)
            perf.wait()
    finally:
        children.stop_all()
        if mesh is not None:
            mesh.close()
        if a.keep:
            print("workdir", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
