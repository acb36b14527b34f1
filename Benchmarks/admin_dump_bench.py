#!/usr/bin/env python3
"""What the admin endpoints cost at mesh size: Remora vs Envoy 1.40.

Both proxies take xds_bench.py's mesh (1,000 EDS clusters x 10 endpoints,
one 1,000-route table shared by 100 RDS listeners) from the test control
plane over ADS (state of the world), then answer each admin path
``--requests`` times. Per path and proxy: the median wall time of a
request (sent to the answer read) and the proxy's CPU per request
(utime + stime of the whole process), and the body's size. The dumps run
on the main thread of both proxies; the workers never wait for them.

    /work/main/.venv/bin/python Benchmarks/admin_dump_bench.py
    .../python Benchmarks/admin_dump_bench.py --clusters 100 --routes 100 --listeners 10 --requests 5   # quick check

Needs grpcio and xds-protos (Tests/Interop/requirements.txt); no traffic
tools (the endpoints are addresses nobody listens on).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True

from tcp_proxy_bench import Children, add_binary_args, admin_get, proc_cpu_seconds, wait_ready  # noqa: E402
from xds_bench import Mesh, start_proxy, stat  # noqa: E402

PATHS = [
    "/config_dump",
    "/config_dump?include_eds",
    "/config_dump?resource=dynamic_active_clusters&mask=cluster.name",
    "/clusters",
    "/clusters?format=json",
    "/listeners?format=json",
]


def session(kind: str, binary: str, args, children: Children, workdir: Path) -> dict:
    d = workdir / kind
    d.mkdir()
    mesh_args = argparse.Namespace(xds="sotw", clusters=args.clusters, endpoints=args.endpoints, routes=args.routes,
                                   listeners=args.listeners)
    mesh = Mesh(d, mesh_args, [30000 + i for i in range(10)])
    try:
        mesh.write_all()
        proc, admin, log, _ = start_proxy(kind, binary, mesh, d, children)
        wait_ready(proc, admin, log, timeout=300)
        deadline = time.monotonic() + 120
        while stat(admin, "listener_manager.total_listeners_active") < args.listeners:
            if time.monotonic() > deadline:
                raise RuntimeError("the listeners did not all become active")
            time.sleep(0.1)
        time.sleep(1.0)
        result: dict = {"kind": kind}
        for path in PATHS:
            walls, size = [], 0
            cpu0 = proc_cpu_seconds(proc.pid)
            for _ in range(args.requests):
                t0 = time.monotonic()
                status, body = admin_get(admin, path, timeout=60)
                walls.append(time.monotonic() - t0)
                assert status == 200, (kind, path, status, body[:200])
                size = len(body)
            cpu = (proc_cpu_seconds(proc.pid) - cpu0) / args.requests
            result[path] = {"wall_ms": statistics.median(walls) * 1000, "cpu_ms": cpu * 1000, "bytes": size}
        children.stop(proc)
        return result
    finally:
        mesh.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_binary_args(p)
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--routes", type=int, default=1000)
    p.add_argument("--listeners", type=int, default=100)
    p.add_argument("--requests", type=int, default=10, help="requests per path (default: %(default)s)")
    p.add_argument("--only", choices=["remora", "envoy"], help="run one proxy only")
    args = p.parse_args(argv)
    kinds = [args.only] if args.only else ["remora", "envoy"]
    binaries = {"remora": args.remora, "envoy": args.envoy}
    workdir = Path(tempfile.mkdtemp(prefix="admin-bench-"))
    children = Children()
    results = {}
    try:
        for kind in kinds:
            results[kind] = session(kind, binaries[kind], args, children, workdir)
            print(json.dumps(results[kind]), flush=True)
    finally:
        children.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.clusters} EDS clusters x {args.endpoints} endpoints, {args.routes} routes, {args.listeners} listeners; "
          f"median of {args.requests} requests per path")
    print(f"{'':58}" + "".join(f"{k + ' ms (cpu ms)':>24}{'KiB':>8}" for k in kinds))
    for path in PATHS:
        line = f"{path:58}"
        for kind in kinds:
            r = results[kind][path]
            line += f"{r['wall_ms']:>13.1f} ({r['cpu_ms']:>7.1f}){r['bytes'] / 1024:>8.0f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
