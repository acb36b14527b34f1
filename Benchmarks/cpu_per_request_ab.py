#!/usr/bin/env python3
"""CPU per proxied HTTP/1.1 request for two or more proxy binaries, A/B.

For comparing builds of Remora (before/after a data-path change) or Remora
with Envoy, on one machine in one run: each round starts every binary in
turn (order alternating), pinned alone to --proxy-cpu, with the upstream
(http_bench_tool server) and wrk pinned to --load-cpu, and measures the
proxy's utime+stime over a wrk run divided by the requests wrk completed.
Prints the median and min-max per binary.

    python3 Benchmarks/cpu_per_request_ab.py --rounds 6 /tmp/remora-before .build/release/remora

Standard library only; needs wrk and cc (scripts/setup.sh --with-bench).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_proxy_bench as bench  # noqa: E402  (BOOTSTRAP, the upstream tool)


def ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_proxy(binary: str, cpu: str, work: Path, up_port: int, access_log: Path | None = None,
                rds: Path | None = None) -> tuple[subprocess.Popen, int]:
    """`binary` on the benchmark bootstrap (written into `work`), one worker,
    pinned to `cpu`; returns the process and its listener's port."""
    listen, admin = free_port(), free_port()
    config = work / "bootstrap.yaml"
    config.write_text(bench.bootstrap_text(admin, listen, up_port, access_log, rds))
    argv = ["taskset", "-c", cpu, binary, "-c", str(config), "--concurrency", "1"]
    if "envoy" in Path(binary).name:
        argv += ["--disable-hot-restart", "--use-dynamic-base-id"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), listen


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binaries", nargs="+", help="proxy binaries (Remora or Envoy; Envoy gets its usual flags)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--proxy-cpu", default="1")
    p.add_argument("--load-cpu", default="0")
    p.add_argument("--access-log", choices=["off", "on", "both"], default="off",
                   help="file access log in Envoy's default format: off, on, or each binary both ways")
    p.add_argument("--routes", choices=["inline", "rds", "both"], default="inline",
                   help="routes from an inline route_config, from RDS (a path_config_source file), or each binary both ways")
    p.add_argument("--verbose", action="store_true",
                   help="print each run's figure as it comes (at one connection the rounds scatter: pair them)")
    a = p.parse_args()
    logs = {"off": [False], "on": [True], "both": [False, True]}[a.access_log]
    route_kinds = {"inline": [False], "rds": [True], "both": [False, True]}[a.routes]
    variants = [(b, log, rds) for b in a.binaries for log in logs for rds in route_kinds]

    work = Path(tempfile.mkdtemp(prefix="ab-"))
    tool = work / "http_bench_tool"
    subprocess.run(["cc", "-O2", "-o", str(tool), str(bench.TOOL_SRC)], check=True)
    upstream = subprocess.Popen(["taskset", "-c", a.load_cpu, str(tool), "server", "64", "3600"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = upstream.stdout.readline()
    up_port = int(line.split()[1])
    results: dict[tuple[str, bool, bool], list[float]] = {v: [] for v in variants}
    try:
        for r in range(a.rounds):
            for binary, log, rds in (variants if r % 2 == 0 else variants[::-1]):
                access_log = work / "access.log" if log else None
                proxy, listen = start_proxy(binary, a.proxy_cpu, work, up_port, access_log,
                                            work / "rds.yaml" if rds else None)
                try:
                    time.sleep(1.0)
                    url = f"http://127.0.0.1:{listen}/"
                    wrk = ["taskset", "-c", a.load_cpu, "wrk", "-t1", f"-c{a.connections}"]
                    subprocess.run(wrk + ["-d1s", url], capture_output=True)
                    t0 = ticks(proxy.pid)
                    out = subprocess.run(wrk + [f"-d{a.duration:g}s", url], capture_output=True, text=True).stdout
                    t1 = ticks(proxy.pid)
                    done = int(re.search(r"(\d+) requests in", out).group(1))
                    results[(binary, log, rds)].append((t1 - t0) * 1e6 / os.sysconf("SC_CLK_TCK") / done)
                    if a.verbose:
                        print(f"round {r + 1}: {binary}{' +access log' if log else ''}{' +rds' if rds else ''}: "
                              f"{results[(binary, log, rds)][-1]:.2f} us/request ({done} requests)", flush=True)
                finally:
                    proxy.terminate()
                    proxy.wait(timeout=10)
                    if access_log is not None:
                        access_log.unlink(missing_ok=True)
    finally:
        upstream.terminate()
    for (binary, log, rds), values in results.items():
        label = binary + (" +access log" if log else "") + (" +rds" if rds else "")
        print(f"{label}: {statistics.median(values):.2f} us/request (min {min(values):.2f}, max {max(values):.2f}, "
              f"{len(values)} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
