#!/usr/bin/env python3
"""Side-by-side HTTP/2 proxy benchmark: Remora vs Envoy (issue 8).

Both proxies run the same bootstrap: an h2c listener (``codec_type: HTTP2``)
with the router to a STATIC cluster whose endpoint is nginx serving h2c
(``listen ... http2``, a 64-byte ``return 200``; ``keepalive_requests`` high
so that nginx's GOAWAY every 1000 streams does not fail requests in both
proxies alike), the cluster speaking HTTP/2
(``explicit_http_config.http2_protocol_options``). The load is ``h2load``
(``-c 8 -m 32`` by default) for a fixed duration after a warm-up.

The proxy runs alone on one CPU (default 1); nginx, h2load and this script on
another (default 0). For each round and proxy (order alternating) a fresh
nginx and proxy start; the proxy's CPU per request (utime+stime from
/proc/<pid>/stat over the measured run), requests/s, h2load's mean request
time and VmRSS/VmHWM are recorded. Finally Remora runs once more under the
LD_PRELOAD malloc counter (``malloc_count_shim.c``) for allocations per
request on h2→h2. With ``--remora-b <binary>`` a second Remora build runs
in the same rounds (A/B of two builds beside Envoy), and its allocations are
counted too.

    python3 Benchmarks/h2_proxy_bench.py --rounds 3 --duration 5
    python3 Benchmarks/h2_proxy_bench.py --remora old/remora --remora-b new/remora

Needs nginx (Debian nginx-light), h2load (nghttp2-client) and a C compiler.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True

from tcp_proxy_bench import (  # noqa: E402
    BenchError,
    Children,
    add_binary_args,
    add_pinning_args,
    check_pinning_args,
    free_port,
    pin_self,
    pinning_text,
    proc_cpu_seconds,
    proc_mem_kib,
    proxy_argv,
    wait_ready,
)
from http_proxy_bench import SHIM_SRC, read_counters, _delta  # noqa: E402

BODY = "0123456789" * 6 + "abcd"  # 64 bytes

BOOTSTRAP = """\
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}
static_resources:
  listeners:
  - name: bench
    address: {{socket_address: {{address: 127.0.0.1, port_value: {listen}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          codec_type: HTTP2
          route_config:
            name: local
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{prefix: /}}
                route: {{cluster: upstream}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 5s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream}}}}}}}
"""

NGINX = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx.error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  http2_max_concurrent_streams 1024;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} http2;
    location / {{ return 200 "{body}"; }}
  }}
}}
"""


def start_nginx(children: Children, workdir: Path, tag: str, cpu: int | None) -> tuple[subprocess.Popen, int]:
    d = workdir / f"nginx-{tag}"
    d.mkdir(exist_ok=True)
    port = free_port()
    conf = d / "nginx.conf"
    conf.write_text(NGINX.format(dir=d, port=port, body=BODY))
    p = children.start(["nginx", "-c", str(conf), "-p", str(d)], cpu=cpu, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    for _ in range(100):
        r = subprocess.run(["curl", "-s", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/"],
                           capture_output=True, timeout=5)
        if r.stdout == BODY.encode():
            return p, port
        time.sleep(0.05)
    raise BenchError("nginx did not come up (h2c)")


def start_proxy(children: Children, kind: str, binary: str, tag: str, workdir: Path, up_port: int, cpu: int | None,
                env: dict | None = None) -> tuple[subprocess.Popen, int, int]:
    listen, admin = free_port(), free_port()
    config = workdir / f"{tag}.yaml"
    config.write_text(BOOTSTRAP.format(admin=admin, listen=listen, upstream=up_port))
    log = workdir / f"{tag}.log"
    with open(log, "wb") as f:
        p = children.start(proxy_argv(kind, binary, config), cpu=cpu, stdout=f, stderr=subprocess.STDOUT, env=env)
    wait_ready(p, admin, log)
    return p, listen, admin


def h2load(port: int, args, seconds: float | None = None, requests: int | None = None) -> dict:
    argv = ["h2load", "-c", str(args.clients), "-m", str(args.streams), "-t", "1"]
    argv += ["-D", str(max(1, round(seconds)))] if seconds else ["-n", str(requests)]
    argv.append(f"http://127.0.0.1:{port}/")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=(seconds or 60) + 60)
    out = r.stdout
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    codes = re.search(r"status codes: (\d+) 2xx", out)
    rt = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if not m:
        raise BenchError(f"h2load output not understood:\n{out}\n{r.stderr}")

    def us(t: str) -> float:
        mm = re.fullmatch(r"([0-9.]+)(us|ms|s)", t)
        return float(mm.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[mm.group(2)] if mm else float("nan")

    return {"done": int(m.group(3)), "succeeded": int(m.group(4)), "failed": int(m.group(5)),
            "ok_2xx": int(codes.group(1)) if codes else 0, "mean_us": us(rt.group(3)) if rt else float("nan")}


def session(label: str, binary: str, rnd: int, args, children: Children, workdir: Path) -> dict:
    tag = f"{label}-r{rnd}"
    kind = "envoy" if label == "envoy" else "remora"
    nginx, up = start_nginx(children, workdir, tag, args.load_cpu)
    proxy = None
    try:
        proxy, listen, _ = start_proxy(children, kind, binary, tag, workdir, up, args.proxy_cpu)
        h2load(listen, args, seconds=args.warmup)
        cpu0, t0 = proc_cpu_seconds(proxy.pid), time.monotonic()
        res = h2load(listen, args, seconds=args.duration)
        cpu1, t1 = proc_cpu_seconds(proxy.pid), time.monotonic()
        mem = proc_mem_kib(proxy.pid)
        res.update(kind=label, round=rnd, rps=res["done"] / (t1 - t0),
                   cpu_us_per_rq=(cpu1 - cpu0) * 1e6 / max(res["succeeded"], 1),
                   rss_mib=mem.get("VmRSS", 0) / 1024, hwm_mib=mem.get("VmHWM", 0) / 1024)
        return res
    finally:
        if proxy:
            children.stop(proxy, grace=10)
        children.stop(nginx, grace=2)


def malloc_phase(args, binary: str, children: Children, workdir: Path, tag: str = "malloc") -> dict:
    cc = os.environ.get("CC", "cc")
    shim = workdir / "malloc_count_shim.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(shim), str(SHIM_SRC)], check=True, timeout=120)
    counts = workdir / "malloc-counts"
    env = dict(os.environ, LD_PRELOAD=str(shim), MALLOC_COUNT_FILE=str(counts))
    nginx, up = start_nginx(children, workdir, tag, args.load_cpu)
    proxy = None
    try:
        proxy, listen, _ = start_proxy(children, "remora", binary, f"remora-{tag}", workdir, up, args.proxy_cpu, env=env)
        h2load(listen, args, requests=2000)
        before = read_counters(counts)
        res = h2load(listen, args, requests=args.malloc_requests)
        after = read_counters(counts)
        d = _delta(before, after)
        return {"requests": res["succeeded"], "allocs_per_rq": d["allocs"] / max(res["succeeded"], 1),
                "bytes_per_rq": d["bytes"] / max(res["succeeded"], 1)}
    finally:
        if proxy:
            children.stop(proxy, grace=10)
        children.stop(nginx, grace=2)


def med(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_binary_args(p)
    add_pinning_args(p)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--streams", type=int, default=32)
    p.add_argument("--malloc-requests", type=int, default=20000)
    p.add_argument("--remora-b", default=None,
                   help="a second remora binary, run in the same rounds (reported as remora-b)")
    p.add_argument("--keep-temp", action="store_true")
    args = p.parse_args(argv)
    check_pinning_args(p, args)
    for tool in ("nginx", "h2load", "curl"):
        if not shutil.which(tool):
            print(f"missing {tool} (apt install nginx-light nghttp2-client curl)", file=sys.stderr)
            return 2
    binaries = {"remora": args.remora, "envoy": args.envoy}
    if args.remora_b:
        binaries["remora-b"] = args.remora_b
    labels = list(binaries)
    pin_self(args)
    workdir = Path(tempfile.mkdtemp(prefix="h2bench-"))
    children = Children()
    sessions: list[dict] = []
    try:
        for rnd in range(args.rounds):
            order = labels if rnd % 2 == 0 else labels[::-1]
            for kind in order:
                s = session(kind, binaries[kind], rnd, args, children, workdir)
                sessions.append(s)
                print(f"round {rnd} {kind}: {s['rps']:.0f} rq/s, {s['cpu_us_per_rq']:.2f} µs CPU/rq, "
                      f"mean {s['mean_us']:.0f} µs, RSS {s['rss_mib']:.1f} MiB, failed {s['failed']}", flush=True)
        mal = {k: malloc_phase(args, binaries[k], children, workdir, tag=f"malloc-{k}") for k in labels if k != "envoy"}
    finally:
        children.stop_all()
        if not args.keep_temp:
            shutil.rmtree(workdir, ignore_errors=True)
    by = {k: [s for s in sessions if s["kind"] == k] for k in labels}
    remoras = [k for k in labels if k != "envoy"]
    print(f"\nh2load -c {args.clients} -m {args.streams}, {args.duration:.0f} s x {args.rounds} rounds; {pinning_text(args)}")
    for k in remoras:
        print(f"{k}: {binaries[k]}")
    header = " | ".join(remoras)
    ratios = " | ".join(f"{k}/Envoy" for k in remoras)
    print(f"| metric (median, min-max) | {header} | Envoy | {ratios} |\n|{'---|' * (2 + 2 * len(remoras))}")
    for key, name in (("cpu_us_per_rq", "CPU µs/request"), ("rps", "requests/s"), ("mean_us", "mean request time µs"),
                      ("rss_mib", "RSS MiB (end of run)"), ("hwm_mib", "VmHWM MiB")):
        e = [s[key] for s in by["envoy"]]
        cells, ratio_cells = [], []
        for k in remoras:
            r = [s[key] for s in by[k]]
            cells.append(med(r))
            ratio = statistics.median(r) / statistics.median(e) if r and e and statistics.median(e) else float("nan")
            ratio_cells.append(f"{ratio:.2f}x")
        print(f"| {name} | {' | '.join(cells)} | {med(e)} | {' | '.join(ratio_cells)} |")
    for k in remoras:
        m = mal[k]
        print(f"\n{k} allocations per request (h2->h2, {m['requests']} requests): {m['allocs_per_rq']:.1f} "
              f"({m['bytes_per_rq']:.0f} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
