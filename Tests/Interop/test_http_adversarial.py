"""Adversarial peers on the HTTP path (issue 7's probes, kept in the suite).

Each case runs against the proxy under test; the same file runs against
Envoy 1.40 (PROXY_KIND=envoy) and Remora's outcome must match or beat it.
Where Remora deliberately differs, the test says why.
"""

from __future__ import annotations

import resource
import socket
import threading
import time

import pytest

import support
from http_support import simple_http_config
from raw_http import ok_origin, read_head, read_to_eof
from support import MiB, RssSampler, TcpServer, free_port, idle_rss_kib


def _response(port: int, request: bytes, timeout: float = 10) -> bytes:
    with support.connect("127.0.0.1", port, timeout=timeout) as c:
        c.sendall(request)
        return read_to_eof(c)


GET_CLOSE = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_slowloris_heads_are_cut_by_request_headers_timeout(proxy, upstreams, admin_port):
    """500 connections each send a request head one byte at a time: every
    one is answered 408 and closed at `request_headers_timeout`, and a
    normal request still goes through meanwhile."""
    up = upstreams(ok_origin)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up, request_headers_timeout="1s"))
    n = 500
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"G")
        socks.append(s)
    try:
        for byte in b"ET / HTTP/1.1\r\nHo":
            for s in socks:
                try:
                    s.send(bytes([byte]))
                except OSError:
                    pass
            time.sleep(0.05)
        assert _response(port, GET_CLOSE).startswith(b"HTTP/1.1 200 OK")
        p.wait_for_stats({"http.ingress_http.downstream_rq_header_timeout": n}, timeout=15)
        p.wait_for_stats({"http.ingress_http.downstream_cx_active": 0}, timeout=10)
        first = socks[0].recv(4096)
        assert first.startswith(b"HTTP/1.1 408"), first
    finally:
        for s in socks:
            s.close()


def test_thousands_of_idle_keepalive_connections_stay_small(proxy, upstreams, admin_port):
    """2,000 idle keep-alive connections after one request each: RSS grows
    by a few KiB per connection, not by a buffer each."""
    up = upstreams(ok_origin)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    n = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 500), hard))
    base = idle_rss_kib(p)
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
            data = b""
            while b"\r\n\r\nok" not in data:
                chunk = s.recv(4096)
                assert chunk, "connection closed before its response"
                data += chunk
        p.wait_for_stats({"http.ingress_http.downstream_cx_active": n}, timeout=10)
        per_connection = (idle_rss_kib(p) - base) * 1024 / n
        # Measured here (debug build): Remora about 3.2 KiB per idle HTTP/1
        # connection, Envoy 1.40 about 16 KiB.
        limit = 24 * 1024 if support.IS_ENVOY else 8 * 1024
        assert per_connection < limit, f"{per_connection:.0f} bytes of RSS per idle keep-alive connection"
    finally:
        for s in socks:
            s.close()


@pytest.mark.remora_only(reason="resource.prlimit on the proxy's pid; Envoy behaves the same but logs differently")
def test_fd_exhaustion_does_not_spin_and_recovers(proxy, upstreams, admin_port):
    """Under a low `ulimit -n` more clients connect than descriptors exist:
    the proxy does not busy-loop on EMFILE, and serves again once
    descriptors free up."""
    up = upstreams(ok_origin)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    resource.prlimit(p.pid, resource.RLIMIT_NOFILE, (64, 64))
    socks = []
    try:
        for _ in range(100):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                break
            socks.append(s)
        time.sleep(0.5)
        cpu0 = _cpu_seconds(p.pid)
        time.sleep(2.0)
        used = _cpu_seconds(p.pid) - cpu0
        assert used < 0.5, f"proxy used {used:.2f} s of CPU in 2 s while out of descriptors"
        for s in socks:
            s.close()
        socks.clear()
        deadline = time.monotonic() + 10
        while True:
            try:
                if _response(port, GET_CLOSE, timeout=2).startswith(b"HTTP/1.1 200 OK"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the proxy did not recover once descriptors were free"
            time.sleep(0.2)
    finally:
        for s in socks:
            s.close()


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def test_slow_reader_of_a_200mib_response_keeps_rss_bounded(proxy, upstreams, admin_port):
    """A client reads a 200 MiB response at ~4 MiB/s for a few seconds:
    the proxy holds back the upstream instead of buffering the body."""
    size = 200 * MiB
    block = b"b" * MiB
    stop = threading.Event()

    def big(conn: socket.socket, server: TcpServer) -> None:
        read_head(conn)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            for _ in range(size // MiB):
                if stop.is_set():
                    return
                conn.sendall(block)
        except OSError:
            pass

    up = upstreams(big)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    base = idle_rss_kib(p)
    sampler = RssSampler(p)
    try:
        with support.connect("127.0.0.1", port) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            end = time.monotonic() + 4
            got = 0
            while time.monotonic() < end:
                chunk = c.recv(64 * 1024)
                assert chunk
                got += len(chunk)
                time.sleep(0.015)
        peak = sampler.stop()
    finally:
        sampler.stop()
        stop.set()
    assert peak - base < 24 * 1024, f"RSS grew {peak - base} KiB while a client read slowly"


def _upstream_answering(raw: bytes, then_close: bool = True):
    def handler(conn: socket.socket, server: TcpServer) -> None:
        read_head(conn)
        try:
            conn.sendall(raw)
            if then_close:
                conn.shutdown(socket.SHUT_WR)
                time.sleep(0.2)
        except OSError:
            pass
    return handler


@pytest.mark.parametrize("raw,expect", [
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part", b"HTTP/1.1 200 OK", id="closes-mid-body"),
    pytest.param(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok", b"HTTP/1.1 502", id="malformed-status-line"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokAND-MORE", b"HTTP/1.1 200 OK", id="more-than-content-length"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * MiB + b"\r\n\r\n", b"HTTP/1.1 502", id="1mib-of-headers"),
])
def test_misbehaving_upstream_gets_a_clean_outcome(proxy, upstreams, admin_port, raw, expect):
    """Each misbehaviour ends in a clear answer (502 before a response
    started; a cut-short response after), the proxy stays up and serves the
    next request."""
    up = upstreams(_upstream_answering(raw))
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    data = _response(port, GET_CLOSE)
    assert data.startswith(expect), data[:200]
    if b"only-part" in raw:
        assert len(data.split(b"\r\n\r\n", 1)[1]) < 100  # cut short, never padded
    if b"AND-MORE" in raw:
        assert data.endswith(b"\r\n\r\nok")
    second = _response(port, GET_CLOSE)
    assert second.startswith(expect), second[:200]
    assert p.running()


def test_http2_client_on_auto_codec_is_served_http2(proxy, upstreams, admin_port):
    """`codec_type: AUTO` answers an HTTP/2 connection preface with the
    server's SETTINGS and serves the streams (nghttp); HTTP/1.1 on the same
    listener still works."""
    import subprocess

    up = upstreams(ok_origin)
    port = free_port()
    cfg = simple_http_config(admin_port, port, up)
    cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["codec_type"] = "AUTO"
    p = proxy(cfg)
    with support.connect("127.0.0.1", port) as c:
        c.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        head = support.recv_exact(c, 9)
    assert head[3] == 4 and head[4] == 0, head  # a SETTINGS frame, not an ACK
    out = subprocess.run(["nghttp", "-v", f"http://127.0.0.1:{port}/"], capture_output=True, text=True, timeout=10)
    assert ":status: 200" in out.stdout, out.stdout
    assert _response(port, GET_CLOSE).startswith(b"HTTP/1.1 200 OK")
    assert p.running()


def test_mixed_misbehaving_clients_leave_nothing_behind(proxy, upstreams, admin_port):
    """Five seconds of 12 clients mixing keep-alive requests, uploads reset
    midway, pipelined bursts closed unread, half-sent heads and garbage, on
    two workers: the proxy stays up, every normal request is answered, and
    afterwards no stream, connection or descriptor is left over."""
    import os
    import random

    up = upstreams(ok_origin)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up), concurrency=2)
    fds_before = len(os.listdir(f"/proc/{p.pid}/fd"))
    end = time.monotonic() + 5
    answered = [0]
    failures: list[str] = []

    def client(seed: int) -> None:
        r = random.Random(seed)
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    kind = r.randint(0, 5)
                    if kind == 0:
                        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
                        for _ in range(r.randint(1, 20)):
                            s.sendall(b"x" * 65536)
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    elif kind == 1:
                        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * r.randint(1, 200))
                        s.recv(r.randint(1, 4096))
                    elif kind == 2:
                        s.sendall(b"GET / HTTP/1.1\r\nHo")
                    elif kind == 3:
                        s.sendall(r.randbytes(r.randint(1, 4000)))
                    else:
                        for _ in range(r.randint(1, 10)):
                            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                            data = b""
                            while not data.endswith(b"\r\n\r\nok"):
                                chunk = s.recv(4096)
                                if not chunk:
                                    raise AssertionError(f"closed before a response: {data[:80]!r}")
                                data += chunk
                            answered[0] += 1
            except OSError as e:
                if kind >= 4:
                    failures.append(repr(e))
            except AssertionError as e:
                failures.append(str(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures, failures[:3]
    assert answered[0] > 100
    assert p.running()
    p.wait_for_stats({"http.ingress_http.downstream_rq_active": 0, "http.ingress_http.downstream_cx_active": 0,
                      "cluster.backend.upstream_rq_active": 0}, timeout=10)
    # Idle pooled upstream connections may stay (one per worker at most per concurrent peak).
    assert len(os.listdir(f"/proc/{p.pid}/fd")) <= fds_before + 24
