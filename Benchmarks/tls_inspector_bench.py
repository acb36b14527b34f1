#!/usr/bin/env python3
"""CPU per connection of the tls_inspector listener filter: Remora vs Envoy.

Each proxy (``--concurrency 1``, pinned alone to one CPU as in
tcp_proxy_bench.py) runs two listeners with the same tcp_proxy chain to a
local echo upstream: one without listener filters, one with
``tls_inspector`` and a chain chosen by ``server_names``. For each listener
the script opens ``--connections`` connections, ``--inflight`` at a time;
each sends a real ClientHello (captured from ``openssl s_client``, in
Tests/Fuzz/corpus/tls/), reads it back from the echo upstream and closes.
Proxy CPU is utime+stime from /proc/<pid>/stat over each run; the
inspector's cost is the difference between the two listeners, per
connection. The clients and upstream are Python asyncio on the other CPU:
they set the pace, not the figure (CPU per connection).

  python3 Benchmarks/tls_inspector_bench.py [--remora PATH] [--envoy PATH] [--connections N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tcp_proxy_bench as T  # noqa: E402

HELLO = (HERE.parent / "Tests" / "Fuzz" / "corpus" / "tls" / "openssl-tls13-sni-alpn.bin").read_bytes()
SNI = "api.example.com"


def config(admin: int, plain: int, inspected: int, upstream: int) -> str:
    def chain(prefix: str, match: str) -> str:
        return f"""
    - {match}filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: {prefix}
          cluster: echo"""
    return f"""
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}}}
static_resources:
  listeners:
  - name: plain
    address: {{socket_address: {{address: 127.0.0.1, port_value: {plain}}}}}
    filter_chains:{chain("plain", "")}
  - name: inspected
    address: {{socket_address: {{address: 127.0.0.1, port_value: {inspected}}}}}
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}
    filter_chains:{chain("inspected", f'filter_chain_match: {{server_names: ["{SNI}"]}}' + chr(10) + '      ')}
  clusters:
  - name: echo
    connect_timeout: 1s
    load_assignment:
      cluster_name: echo
      endpoints: [{{lb_endpoints: [{{endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream}}}}}}}}}]}}]
"""


class EchoUpstream(threading.Thread):
    """An asyncio echo server in its own thread."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.port = T.free_port()
        self.ready = threading.Event()

    def run(self) -> None:
        async def handle(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            writer.close()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", self.port, backlog=1024)
            self.ready.set()
            async with server:
                await server.serve_forever()

        asyncio.run(main())


async def connections(port: int, count: int, inflight: int) -> int:
    done = 0
    errors = 0

    async def one():
        nonlocal done, errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(HELLO)
            await writer.drain()
            got = await reader.readexactly(len(HELLO))
            writer.close()
            if got != HELLO:
                errors += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            errors += 1
        done += 1

    async def worker(n):
        for _ in range(n):
            await one()

    per = [count // inflight + (1 if i < count % inflight else 0) for i in range(inflight)]
    await asyncio.gather(*(worker(n) for n in per))
    return errors


def run_proxy(kind: str, binary: str, args, children: T.Children, workdir: Path) -> dict:
    admin, plain, inspected = T.free_port(), T.free_port(), T.free_port()
    cfg = workdir / f"{kind}.yaml"
    cfg.write_text(config(admin, plain, inspected, args.upstream.port))
    log = workdir / f"{kind}.log"
    proc = children.start(T.proxy_argv(kind, binary, cfg), cpu=args.proxy_cpu, stdout=log.open("w"), stderr=subprocess_stdout())
    try:
        T.wait_ready(proc, admin, log)
        out = {}
        for name, port in (("plain", plain), ("inspected", inspected), ("plain2", plain), ("inspected2", inspected)):
            asyncio.run(connections(port, 300, args.inflight))  # warm-up
            cpu0 = T.proc_cpu_seconds(proc.pid)
            t0 = time.monotonic()
            errors = asyncio.run(connections(port, args.connections, args.inflight))
            cpu = T.proc_cpu_seconds(proc.pid) - cpu0
            if errors:
                raise T.BenchError(f"{kind} {name}: {errors} connections failed")
            out.setdefault(name.rstrip("2"), []).append(cpu / args.connections * 1e6)
            out.setdefault(name.rstrip("2") + "_cps", []).append(args.connections / (time.monotonic() - t0))
        _, stats = T.admin_get(admin, "/stats?filter=tls_inspector")
        out["stats"] = stats.decode()
        return out
    finally:
        children.stop(proc)


def subprocess_stdout():
    import subprocess
    return subprocess.STDOUT


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    T.add_binary_args(p)
    T.add_pinning_args(p)
    p.add_argument("--connections", type=int, default=4000)
    p.add_argument("--inflight", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    T.check_pinning_args(p, args)
    T.pin_self(args)
    args.upstream = EchoUpstream()
    args.upstream.start()
    args.upstream.ready.wait(10)
    children = T.Children()
    results: dict[str, dict[str, list[float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rnd in range(args.rounds):
                for kind in (("remora", "envoy") if rnd % 2 == 0 else ("envoy", "remora")):
                    out = run_proxy(kind, args.remora if kind == "remora" else args.envoy, args, children, Path(tmp))
                    agg = results.setdefault(kind, {})
                    for k, v in out.items():
                        if k != "stats":
                            agg.setdefault(k, []).extend(v)
                    if rnd == 0:
                        print(f"{kind} tls_inspector stats after round 0:\n{out['stats']}")
    finally:
        children.stop_all()
    print(f"{args.connections} connections per run, {args.inflight} in flight, ClientHello {len(HELLO)} bytes; "
          f"{T.pinning_text(args)}; medians over {args.rounds} rounds x 2 runs")
    print(f"{'proxy':8} {'plain us/conn':>14} {'inspected us/conn':>18} {'inspector us/conn':>18} {'conn/s (client-bound)':>22}")
    for kind, agg in results.items():
        plain, inspected = statistics.median(agg["plain"]), statistics.median(agg["inspected"])
        print(f"{kind:8} {plain:14.1f} {inspected:18.1f} {inspected - plain:18.1f} {statistics.median(agg['inspected_cps']):22.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
