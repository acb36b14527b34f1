#!/usr/bin/env python3
"""TLS side by side: Remora vs Envoy 1.40, CPU per mTLS connection and per
keep-alive request over TLS.

Both proxies run the same bootstrap: an HTTP listener whose filter chain
terminates TLS (`DownstreamTlsContext`, ECDSA P-256 server certificate from
a mesh CA made here with the openssl CLI) and routes in plaintext to
``http_bench_tool server``. Two measurements per proxy and round, the proxy
alone on --proxy-cpu (``--concurrency 1``), the load and the upstream on
--load-cpu:

  handshake   mutual TLS 1.3 (client certificate required, SPIFFE URI SAN
              checked), ``openssl s_time -new``: every connection is a full
              handshake plus one ``GET /`` answered by the upstream. Figure:
              proxy CPU (utime+stime) per connection.
  keepalive   server-only TLS, ``wrk`` over https, 32 keep-alive connections.
              Figure: proxy CPU per request.
  bulk        server-only TLS on a tcp_proxy listener to ``tcp_bench_tool
              server``: --bulk-mib uploaded through one TLS connection
              (Python ``ssl`` client; done when the cluster's
              ``upstream_cx_tx_bytes_total`` has it all), then as much
              downloaded. Figure: proxy CPU per GiB, each way.
  idle        server-only TLS, --idle-connections handshaken and left open
              (Python ``ssl`` clients). Figure: the proxy's VmRSS then; also
              printed: VmRSS at rest before the connections, and what the
              proxy's `/memory` says malloc holds live ("allocated") before
              and with them, so RSS per connection can be set against live
              heap bytes per connection.

Prints the median and min-max per proxy. Standard library only; needs
openssl, wrk and cc.

    python3 Benchmarks/tls_bench.py --remora .build/release/remora --envoy <envoy> --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
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

from http_proxy_bench import BOOTSTRAP, compile_helpers, parse_wrk, start_upstream  # noqa: E402
from tcp_proxy_bench import BOOTSTRAP as TCP_BOOTSTRAP  # noqa: E402
from tcp_proxy_bench import Children, admin_get, compile_tool, free_port, proc_cpu_seconds, proxy_argv, wait_ready  # noqa: E402
from tcp_proxy_bench import start_upstream as start_tcp_upstream  # noqa: E402
from tls_certs import make_pki, spiffe  # noqa: E402

TLS_BLOCK = """\
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
{require}          common_tls_context:
            tls_certificates:
            - certificate_chain: {{filename: {crt}}}
              private_key: {{filename: {key}}}
{validation}"""

VALIDATION = """\
            validation_context:
              trusted_ca: {{filename: {ca}}}
              match_typed_subject_alt_names:
              - san_type: URI
                matcher: {{exact: "{san}"}}
"""


def bootstrap(admin: int, listen: int, upstream: int, pki, mutual: bool, tcp: bool = False) -> str:
    text = (TCP_BOOTSTRAP if tcp else BOOTSTRAP).format(admin=admin, listen=listen, upstream=upstream)
    block = TLS_BLOCK.format(
        require="          require_client_certificate: true\n" if mutual else "",
        crt=pki.path("server.crt"), key=pki.path("server.key"),
        validation=VALIDATION.format(ca=pki.path("mesh-ca.crt"), san=spiffe("default", "client")) if mutual else "")
    marker = "    filter_chains:\n    - filters:\n"
    assert marker in text
    return text.replace(marker, "    filter_chains:\n" + block.replace("      transport_socket", "    - transport_socket", 1)
                        + "      filters:\n", 1)


def run_proxy(children: Children, kind: str, binary: str, workdir: Path, up_port: int, pki, mutual: bool, cpu: int,
              tcp: bool = False):
    listen, admin = free_port(), free_port()
    config = workdir / f"{kind}-{'mtls' if mutual else 'tls'}{'-tcp' if tcp else ''}.yaml"
    config.write_text(bootstrap(admin, listen, up_port, pki, mutual, tcp))
    log = workdir / f"{kind}.log"
    with open(log, "wb") as logf:
        proc = children.start(proxy_argv(kind, binary, config), cpu=cpu, stdout=logf, stderr=subprocess.STDOUT)
    wait_ready(proc, admin, log)
    return proc, listen, admin


def handshakes(children: Children, port: int, pki, seconds: float, cpu: int) -> int:
    argv = ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new", "-time", str(int(seconds)),
            "-cert", pki.path("client.crt"), "-key", pki.path("client.key"), "-CAfile", pki.path("mesh-ca.crt")]
    p = children.start(argv, cpu=cpu, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = p.communicate(timeout=seconds + 30)
    m = re.search(rb"(\d+) connections in [\d.]+s", out)
    if not m:
        raise RuntimeError(f"s_time said: {out[-400:]!r}")
    return int(m.group(1))


def keepalive(children: Children, wrk: str, port: int, seconds: float, cpu: int) -> int:
    argv = [wrk, "-t1", "-c32", f"-d{seconds:g}s", "--latency", f"https://127.0.0.1:{port}/"]
    p = children.start(argv, cpu=cpu, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = p.communicate(timeout=seconds + 30)
    res = parse_wrk(out.decode(errors="replace"))
    return int(res.get("requests", 0))


def upstream_tx_bytes(admin: int) -> int:
    status, body = admin_get(admin, "/stats?filter=cluster.upstream.upstream_cx_tx_bytes_total")
    m = re.search(rb"upstream_cx_tx_bytes_total: (\d+)", body) if status == 200 else None
    return int(m.group(1)) if m else 0


def bulk(port: int, admin: int, pid: int, mib: int) -> tuple[float, float]:
    """Proxy CPU seconds per GiB uploaded and downloaded through one TLS
    connection each (``tcp_bench_tool server``: a 16-byte header says which
    way and how much)."""
    import socket
    import ssl
    import struct
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    total = mib << 20
    chunk = bytes(range(256)) * 4096  # 1 MiB
    before = upstream_tx_bytes(admin)
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) as s:
        cpu0 = proc_cpu_seconds(pid)
        s.sendall(b"S" + bytes(7) + struct.pack("<Q", total))
        for _ in range(mib):
            s.sendall(chunk)
        deadline = time.monotonic() + 120
        while upstream_tx_bytes(admin) < before + total + 16:
            if time.monotonic() > deadline:
                raise RuntimeError("the upload never reached the upstream")
            time.sleep(0.05)
        up = (proc_cpu_seconds(pid) - cpu0) / (total / (1 << 30))
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) as s:
        cpu0 = proc_cpu_seconds(pid)
        s.sendall(b"D" + bytes(7) + struct.pack("<Q", total))
        got = 0
        while got < total:
            data = s.recv(1 << 20)
            if not data:
                raise RuntimeError(f"download ended after {got} bytes")
            got += len(data)
        down = (proc_cpu_seconds(pid) - cpu0) / (total / (1 << 30))
    return up, down


def vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def heap_allocated(admin: int) -> int | None:
    """malloc's live bytes as the proxy's `/memory` reports them (None if it cannot)."""
    try:
        status, body = admin_get(admin, "/memory")
        return int(json.loads(body)["allocated"]) if status == 200 else None
    except (OSError, ValueError, KeyError):
        return None


def idle_rss(port: int, pid: int, count: int, admin: int) -> dict:
    """VmRSS (KiB) of `pid` at rest and with `count` idle TLS connections
    open to it, and its live heap bytes then (`/memory`, where it answers)."""
    import resource
    import socket
    import ssl
    time.sleep(1)
    rest = {"rest_kib": vm_rss_kib(pid), "rest_allocated": heap_allocated(admin)}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 256)), hard))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) for _ in range(count)]
    try:
        time.sleep(2)
        return rest | {"kib": vm_rss_kib(pid), "allocated": heap_allocated(admin)}
    finally:
        for c in conns:
            c.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--remora", default=str(HERE.parent / ".build" / "release" / "remora"))
    p.add_argument("--envoy", default="")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--proxy-cpu", type=int, default=1)
    p.add_argument("--load-cpu", type=int, default=0)
    p.add_argument("--wrk", default="wrk")
    p.add_argument("--idle-connections", type=int, default=1000)
    p.add_argument("--bulk-mib", type=int, default=1024, help="MiB each way in bulk mode (default: %(default)s)")
    p.add_argument("--modes", default="handshake,keepalive,idle",
                   help="which measurements to run, comma-separated (default: %(default)s)")
    a = p.parse_args()
    modes = [m for m in a.modes.split(",") if m]
    if not modes or any(m not in ("handshake", "keepalive", "idle", "bulk") for m in modes):
        p.error("--modes takes handshake, keepalive, idle, bulk")
    kinds = [("remora", a.remora)] + ([("envoy", a.envoy)] if a.envoy else [])
    results: dict = {(k, m): [] for k, _ in kinds for m in ("handshake", "keepalive", "idle", "upload", "download")}
    children = Children()
    os.sched_setaffinity(0, {a.load_cpu})
    with tempfile.TemporaryDirectory(prefix="tls-bench-") as tmp:
        workdir = Path(tmp)
        pki = make_pki(workdir / "pki")
        tool, _ = compile_helpers(workdir)
        try:
            up, up_port = start_upstream(children, tool, 64, 3600)
            tcp_port = None
            if "bulk" in modes:
                _, tcp_port = start_tcp_upstream(children, compile_tool(workdir), False, 3600)
            for rnd in range(a.rounds):
                order = kinds if rnd % 2 == 0 else list(reversed(kinds))
                for kind, binary in order:
                    for mode in modes:
                        if mode == "bulk":
                            proc, port, admin = run_proxy(children, kind, binary, workdir, tcp_port, pki, False, a.proxy_cpu, tcp=True)
                            bulk(port, admin, proc.pid, 64)  # warm-up, not measured
                            up_s, down_s = bulk(port, admin, proc.pid, a.bulk_mib)
                            children.stop(proc, grace=5)
                            results[(kind, "upload")].append(up_s)
                            results[(kind, "download")].append(down_s)
                            print(f"round {rnd} {kind:6} bulk      {a.bulk_mib} MiB each way  upload {up_s:.3f} s/GiB, "
                                  f"download {down_s:.3f} s/GiB of proxy CPU", flush=True)
                            continue
                        proc, port, admin = run_proxy(children, kind, binary, workdir, up_port, pki, mode == "handshake", a.proxy_cpu)
                        if mode == "idle":
                            m = idle_rss(port, proc.pid, a.idle_connections, admin)
                            children.stop(proc, grace=5)
                            results[(kind, mode)].append(m["kib"])
                            n = max(1, a.idle_connections)
                            rss_each = (m["kib"] - m["rest_kib"]) * 1024 / n
                            line = (f"round {rnd} {kind:6} idle      {a.idle_connections} connections  VmRSS {m['kib']} KiB "
                                    f"(at rest {m['rest_kib']} KiB; {rss_each:.0f} B RSS per connection")
                            if m["allocated"] is not None and m["rest_allocated"] is not None:
                                line += f", {(m['allocated'] - m['rest_allocated']) / n:.0f} B live heap per connection"
                            print(line + ")", flush=True)
                            continue
                        # Warm-up, not measured.
                        if mode == "handshake":
                            handshakes(children, port, pki, 1, a.load_cpu)
                        else:
                            keepalive(children, a.wrk, port, 1, a.load_cpu)
                        cpu0 = proc_cpu_seconds(proc.pid)
                        count = (handshakes(children, port, pki, a.seconds, a.load_cpu) if mode == "handshake"
                                 else keepalive(children, a.wrk, port, a.seconds, a.load_cpu))
                        cpu = proc_cpu_seconds(proc.pid) - cpu0
                        children.stop(proc, grace=5)
                        per = cpu / max(1, count) * 1e6
                        results[(kind, mode)].append(per)
                        print(f"round {rnd} {kind:6} {mode:9} {count:8d} in {a.seconds:g}s  "
                              f"{per:7.1f} µs CPU each", flush=True)
        finally:
            children.stop_all()
    print("\nmedian (min-max): proxy CPU in µs per handshake / per request; VmRSS in KiB with the idle connections;"
          " proxy CPU in s per GiB uploaded / downloaded")
    for mode in [m for m in modes if m != "bulk"] + (["upload", "download"] if "bulk" in modes else []):
        for kind, _ in kinds:
            v = results[(kind, mode)]
            digits = 3 if mode in ("upload", "download") else 1
            print(f"  {mode:9} {kind:6} {statistics.median(v):7.{digits}f} ({min(v):.{digits}f}-{max(v):.{digits}f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
