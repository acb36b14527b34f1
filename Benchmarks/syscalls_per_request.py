#!/usr/bin/env python3
"""System calls per proxied HTTP/1.1 request, for one or more proxy binaries.

Each binary in turn (Remora or Envoy, one worker) is started pinned alone to
--proxy-cpu with the upstream (http_bench_tool server) and wrk on
--load-cpu, warmed up, and then traced with `strace -c -f` while wrk runs
--connections keep-alive connections for --duration seconds. Prints each
system call's count per request wrk completed, and the total. At one
connection every request is its own wake-up, so this shows what the event
loop costs per request: reads that find nothing (EAGAIN), polls, writes,
timer and clock system calls (clock reads through the vDSO are not system
calls and do not show).

strace slows the proxy down; the counts per request are what it is for,
not the time. CPU per request: cpu_per_request_ab.py.

    python3 Benchmarks/syscalls_per_request.py .build/release/remora \\
        .venv/lib/python3.11/site-packages/envoy/_bin/envoy

Standard library only; needs strace, wrk and cc.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_proxy_bench as bench  # noqa: E402  (BOOTSTRAP, the upstream tool)
from cpu_per_request_ab import start_proxy  # noqa: E402


def parse_strace_summary(text: str) -> dict[str, int]:
    """`strace -c` table → {syscall: calls}."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        # % time, seconds, usecs/call, calls, [errors,] syscall
        if len(fields) >= 5 and fields[3].isdigit() and re.fullmatch(r"[0-9.]+", fields[0]) and fields[-1] != "total":
            counts[fields[-1]] = int(fields[3])
    return counts


def measure(binary: str, a: argparse.Namespace, work: Path, up_port: int) -> tuple[int, dict[str, int]]:
    proxy, listen = start_proxy(binary, a.proxy_cpu, work, up_port)
    try:
        time.sleep(1.0)
        url = f"http://127.0.0.1:{listen}/"
        wrk = ["taskset", "-c", a.load_cpu, "wrk", "-t1", f"-c{a.connections}"]
        subprocess.run(wrk + ["-d1s", url], capture_output=True)
        summary = work / "strace.txt"
        tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(proxy.pid), "-o", str(summary)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached to every thread before the run starts
        out = subprocess.run(wrk + [f"-d{a.duration:g}s", url], capture_output=True, text=True).stdout
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
        done = int(re.search(r"(\d+) requests in", out).group(1))
        return done, parse_strace_summary(summary.read_text())
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binaries", nargs="+", help="proxy binaries (Remora or Envoy; Envoy gets its usual flags)")
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--proxy-cpu", default="1")
    p.add_argument("--load-cpu", default="0")
    a = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="syscalls-"))
    tool = work / "http_bench_tool"
    subprocess.run(["cc", "-O2", "-o", str(tool), str(bench.TOOL_SRC)], check=True)
    upstream = subprocess.Popen(["taskset", "-c", a.load_cpu, str(tool), "server", "64", "3600"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    up_port = int(upstream.stdout.readline().split()[1])
    try:
        for binary in a.binaries:
            done, counts = measure(binary, a, work, up_port)
            print(f"{binary}: {done} requests at c={a.connections}, "
                  f"{sum(counts.values()) / done:.2f} system calls per request")
            for name, calls in sorted(counts.items(), key=lambda kv: -kv[1]):
                if calls / done >= 0.01:
                    print(f"  {name:16s} {calls / done:6.2f}")
    finally:
        upstream.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
