"""HTTP/2 through the proxy: h2c downstream (prior knowledge, codec_type
AUTO and HTTP2), HTTP/2 upstream (``explicit_http_config.http2_protocol_options``),
every protocol pair with header translation, large bodies byte-exact both
ways, trailers, many streams on one connection, and Envoy's stats. Clients
are curl, nghttp and h2load; the HTTP/2 origin is ``h2_support.H2Upstream``
(Python ``h2``) and the HTTP/1 one ``http_support.HttpUpstream``.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess

import pytest

import http_support as H
from h2_support import H2Upstream, h2_cluster_options
from http_support import Reply, route
from support import IS_ENVOY, free_port

CURL = ["curl", "-sS", "--max-time", "20"]


@pytest.fixture
def h2_upstream():
    up = H2Upstream()
    yield up
    up.stop()


def start(proxy, upstream_address, upstream_h2: bool, codec: str = "AUTO", **hcm_extra):
    admin, port = free_port(), free_port()
    cluster_extra = {"typed_extension_protocol_options": h2_cluster_options()} if upstream_h2 else {}
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")],
                        [H.http_cluster("backend", [upstream_address], **cluster_extra)],
                        codec_type=codec, **hcm_extra)
    return proxy(cfg), port


def curl(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(CURL + args, capture_output=True, timeout=timeout)


def response_headers(stderr: bytes) -> dict[str, str]:
    """The response head curl -v printed (``< name: value`` lines)."""
    out = {}
    for line in stderr.decode(errors="replace").splitlines():
        m = re.match(r"^< ([^:\s]+): (.*)$", line.strip())
        if m:
            out[m.group(1).lower()] = m.group(2).strip()
    return out


def status_line(stderr: bytes) -> str:
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("< HTTP/"):
            return line[2:].strip()
    return ""


@pytest.mark.parametrize("codec", ["AUTO", "HTTP2"])
def test_h2c_client_to_http1_upstream_translates_authority_to_host(proxy, http_upstreams, codec):
    up = http_upstreams(lambda req: Reply(body=b"from h1"))
    p, port = start(proxy, up.address, upstream_h2=False, codec=codec)
    r = curl(["-v", "--http2-prior-knowledge", "-H", "x-custom: 1", f"http://127.0.0.1:{port}/path?q=1"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"from h1"
    assert status_line(r.stderr) == "HTTP/2 200"
    req = up.requests[-1]
    assert req.version == "HTTP/1.1"
    assert req.target == "/path?q=1"
    assert req.header("host") == f"127.0.0.1:{port}"
    assert req.header("x-custom") == "1"
    assert req.header("x-forwarded-proto") == "http"
    stats = p.stats()
    assert stats["http.ingress_http.downstream_cx_http2_total"] == 1
    assert stats["http.ingress_http.downstream_rq_http2_total"] == 1
    assert stats["http.ingress_http.downstream_cx_http1_total"] == 0


def test_auto_still_serves_http1(proxy, http_upstreams):
    up = http_upstreams(lambda req: Reply(body=b"plain"))
    p, port = start(proxy, up.address, upstream_h2=False, codec="AUTO")
    r = curl([f"http://127.0.0.1:{port}/"])
    assert r.stdout == b"plain"
    assert p.stats()["http.ingress_http.downstream_cx_http1_total"] == 1


def test_http1_client_to_h2_upstream(proxy, h2_upstream):
    p, port = start(proxy, h2_upstream.address, upstream_h2=True, codec="HTTP1")
    r = curl(["-v", "-H", "x-custom: 2", f"http://127.0.0.1:{port}/echo/a?b=c", "--data-binary", "hello"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello"
    headers = response_headers(r.stderr)
    assert headers["x-echo-method"] == "POST"
    assert headers["x-echo-path"] == "/echo/a?b=c"
    assert headers["x-echo-authority"] == f"127.0.0.1:{port}"
    assert headers["x-echo-scheme"] == "http"
    # Host became :authority; connection-specific fields are not sent.
    assert "x-echo-host" not in headers
    req = h2_upstream.requests[-1]
    names = [k for k, _ in req.headers]
    assert "connection" not in names and "transfer-encoding" not in names
    assert req.header("x-custom") == "2"
    stats = p.stats()
    assert stats["cluster.backend.upstream_cx_http2_total"] == 1
    assert stats["cluster.backend.upstream_rq_2xx"] == 1


def test_h2_to_h2_many_streams_share_one_upstream_connection(proxy, h2_upstream):
    p, port = start(proxy, h2_upstream.address, upstream_h2=True)
    r = subprocess.run(["h2load", "-n", "1000", "-c", "1", "-m", "100", f"http://127.0.0.1:{port}/"],
                       capture_output=True, timeout=60)
    out = r.stdout.decode()
    assert "1000 succeeded" in out, out
    assert "status codes: 1000 2xx" in out, out
    stats = p.stats()
    assert stats["cluster.backend.upstream_cx_http2_total"] == 1
    assert stats["cluster.backend.upstream_rq_total"] == 1000
    assert stats["http.ingress_http.downstream_rq_http2_total"] == 1000
    assert h2_upstream.connections == 1


@pytest.mark.deadline(120)
@pytest.mark.parametrize("down_h2,up_h2", [(True, True), (True, False), (False, True)])
def test_ten_mib_bodies_byte_exact_both_ways(proxy, h2_upstream, http_upstreams, tmp_path, down_h2, up_h2):
    body = os.urandom(10 * 1024 * 1024)
    src = tmp_path / "body"
    src.write_bytes(body)
    if up_h2:
        p, port = start(proxy, h2_upstream.address, upstream_h2=True)
    else:
        up = http_upstreams(lambda req: Reply(body=req.body))
        p, port = start(proxy, up.address, upstream_h2=False)
    args = (["--http2-prior-knowledge"] if down_h2 else []) + [
        "--data-binary", f"@{src}", "-H", "content-type: application/octet-stream", f"http://127.0.0.1:{port}/echo"]
    r = curl(args, timeout=90)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == len(body)
    assert hashlib.sha256(r.stdout).hexdigest() == hashlib.sha256(body).hexdigest()
    if up_h2:
        assert h2_upstream.requests[-1].body_sha == hashlib.sha256(body).hexdigest()


def test_nghttp_trailers_reach_an_h2_upstream_and_come_back(proxy, h2_upstream, tmp_path):
    """Request trailers (nghttp --trailer) go upstream; the origin echoes them as response trailers."""
    p, port = start(proxy, h2_upstream.address, upstream_h2=True)
    data = tmp_path / "d"
    data.write_bytes(b"abc")
    r = subprocess.run(["nghttp", "-v", "--trailer", "x-trailer-one: 1", "-d", str(data),
                        f"http://127.0.0.1:{port}/echo"], capture_output=True, timeout=20)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out + r.stderr.decode()
    req = h2_upstream.requests[-1]
    assert ("x-trailer-one", "1") in req.trailers
    # The response trailers arrive after the body (a HEADERS frame with END_STREAM).
    assert re.search(r"recv HEADERS frame <length=\d+, flags=0x05", out), out
    assert re.search(r"recv \(stream_id=\d+\) x-trailer-one: 1", out), out


def test_local_replies_over_h2(proxy, http_upstreams):
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/direct"}, direct_response={"status": 201, "body": {"inline_string": "made here"}})],
                        [], codec_type="AUTO")
    p = proxy(cfg)
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/direct"])
    assert r.stdout == b"made here"
    assert status_line(r.stderr) == "HTTP/2 201"
    headers = response_headers(r.stderr)
    assert headers["content-length"] == "9"
    assert headers["content-type"] == "text/plain"
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/missing"])
    assert status_line(r.stderr) == "HTTP/2 404"
    assert p.stats()["http.ingress_http.downstream_rq_4xx"] == 1


def test_upstream_refused_connection_gives_503_on_h2(proxy):
    dead = free_port()
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")],
                        [H.http_cluster("backend", [{"socket_address": {"address": "127.0.0.1", "port_value": dead}}],
                                        typed_extension_protocol_options=h2_cluster_options())],
                        codec_type="AUTO")
    proxy(cfg)
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/"])
    assert status_line(r.stderr) == "HTTP/2 503"
    assert r.stdout.startswith(b"upstream connect error or disconnect/reset before headers.")


def test_http2_protocol_options_out_of_range_are_refused(tmp_path):
    from support import run_validate, to_yaml
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, direct_response={"status": 200})], [],
                        codec_type="HTTP2", http2_protocol_options={"initial_stream_window_size": 100})
    path = tmp_path / "c.yaml"
    path.write_text(to_yaml(cfg))
    r = run_validate(path)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert r.returncode != 0
    assert "initial_stream_window_size" in out, out


@pytest.mark.remora_only(reason="Envoy 1.40 sends its GOAWAY only with a response encoded after the drain "
                                "decision; with --drain-strategy immediate Remora tells every HTTP/2 connection at once")
def test_drain_sends_goaway_and_lets_the_stream_in_flight_finish(proxy, http_upstreams):
    """/drain_listeners?graceful, immediate strategy: an HTTP/2 connection gets the graceful
    GOAWAY (NO_ERROR, last stream 2^31-1) at once; the request in flight
    completes; after drain_timeout the final GOAWAY names the last stream
    processed and the connection closes."""
    import struct
    from h2_support import H2Client
    up = http_upstreams(lambda req: Reply(body=b"slow", delay=0.6 if req.path == "/slow" else 0.0))
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")], [H.http_cluster("backend", [up.address])],
                        codec_type="AUTO", drain_timeout="0.5s")
    p = proxy(cfg, drain_time_s=1, extra_args=["--drain-strategy", "immediate"])
    client = H2Client(port)
    try:
        first = client.request("/")
        client.pump(5, until=lambda ev: client.stream_ended(first))
        assert client.status(first) == "200"
        slow = client.request("/slow")
        status, _ = p.admin("POST", "/drain_listeners?graceful")
        assert status == 200
        frames = client.raw_frames(8)
        goaways = [struct.unpack(">II", f[3][:8]) for f in frames if f[0] == 7]
        assert goaways and goaways[0] == (0x7FFFFFFF, 0), frames
        assert goaways[-1] == (slow, 0), goaways
        assert any(f[0] == 1 and f[2] == slow for f in frames), frames
        assert any(f[2] == slow and f[1] & 1 for f in frames), frames  # END_STREAM
        assert client.closed
    finally:
        client.close()


def test_rapid_reset_closes_the_connection_as_envoy_does(proxy, http_upstreams):
    """CVE-2023-44487: streams reset by the client right after their HEADERS.
    Past 250 premature resets (fewer than 500 streams closed) the connection
    is closed and downstream_rq_too_many_premature_resets counts it; the
    proxy keeps serving others."""
    import struct
    from h2_support import H2Client
    up = http_upstreams(lambda req: Reply(body=b"x", delay=0.5))
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")], [H.http_cluster("backend", [up.address])],
                        codec_type="AUTO")
    p = proxy(cfg)
    client = H2Client(port)
    try:
        payload = b""
        for i in range(300):
            sid = 1 + 2 * i
            client.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "a"),
                                           (":path", f"/r{i}")], end_stream=True)
            client.conn.reset_stream(sid, error_code=8)
            payload += client.conn.data_to_send()
        try:
            client.sock.sendall(payload)
        except OSError:
            pass
        client.raw_frames(5)
        assert client.closed
    finally:
        client.close()
    stats = p.wait_for_stats({"http.ingress_http.downstream_rq_too_many_premature_resets": 1})
    assert stats["http.ingress_http.downstream_rq_too_many_premature_resets"] == 1
    r = curl(["--http2-prior-knowledge", f"http://127.0.0.1:{port}/"])
    assert r.stdout == b"x"


def _raw_h2(port: int, frames: bytes, seconds: float = 3.0):
    """Sends the preface, SETTINGS and ``frames``; returns (frames received, closed)."""
    from h2_support import H2Client
    import socket as _socket
    c = H2Client.__new__(H2Client)
    c.sock = _socket.create_connection(("127.0.0.1", port), timeout=5)
    c.closed = False
    c.events = []
    c.sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0) + frames)
    try:
        got = c.raw_frames(seconds)
        return got, c.closed
    finally:
        c.sock.close()


def _frame(ftype: int, flags: int, sid: int, payload: bytes = b"") -> bytes:
    import struct
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def _block(fields) -> bytes:
    import hpack
    return hpack.Encoder().encode(fields)


REQ = [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]


@pytest.fixture
def h2_attack_proxy(proxy, http_upstreams):
    up = http_upstreams(lambda req: Reply(body=b"ok"))
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")], [H.http_cluster("backend", [up.address])],
                        codec_type="HTTP2")
    return proxy(cfg), port, up


def test_uppercase_header_name_ends_the_connection(h2_attack_proxy):
    p, port, up = h2_attack_proxy
    got, closed = _raw_h2(port, _frame(1, 0x5, 1, _block(REQ + [("X-Upper", "1")])))
    assert closed
    assert not any(f[0] == 1 and f[2] == 1 for f in got)  # no response
    assert up.requests == []
    assert p.wait_for_stats({"http2.rx_messaging_error": 1})["http2.rx_messaging_error"] == 1


def test_oversized_header_list_resets_only_the_stream(h2_attack_proxy):
    p, port, up = h2_attack_proxy
    big = _block(REQ + [("x-big", "a" * 70_000)])
    payload = _frame(1, 0x1, 1, big[:16384])
    rest = big[16384:]
    while rest:
        chunk, rest = rest[:16384], rest[16384:]
        payload += _frame(9, 0x0 if rest else 0x4, 1, chunk)
    payload += _frame(1, 0x5, 3, _block(REQ))
    got, closed = _raw_h2(port, payload)
    resets = [f for f in got if f[0] == 3 and f[2] == 1]
    assert resets and int.from_bytes(resets[0][3], "big") == 2, got  # INTERNAL_ERROR
    assert any(f[0] == 1 and f[2] == 3 for f in got), got  # the next stream is answered
    assert p.wait_for_stats({"http2.header_list_size_too_large": 1})["http2.header_list_size_too_large"] == 1


def test_empty_data_frames_flood_ends_the_connection(h2_attack_proxy):
    p, port, _ = h2_attack_proxy
    payload = _frame(1, 0x4, 1, _block([(":method", "POST")] + REQ[1:]))
    payload += _frame(0, 0, 1) * 3
    got, closed = _raw_h2(port, payload)
    assert closed
    assert p.wait_for_stats({"http2.inbound_empty_frames_flood": 1})["http2.inbound_empty_frames_flood"] == 1


def test_content_length_mismatch_resets_the_stream(h2_attack_proxy):
    p, port, _ = h2_attack_proxy
    payload = _frame(1, 0x4, 1, _block([(":method", "POST")] + REQ[1:] + [("content-length", "10")]))
    payload += _frame(0, 0x1, 1, b"abc")
    payload += _frame(1, 0x5, 3, _block(REQ))
    got, closed = _raw_h2(port, payload)
    resets = [f for f in got if f[0] == 3 and f[2] == 1]
    assert resets and int.from_bytes(resets[0][3], "big") == 1, got  # PROTOCOL_ERROR
    assert any(f[0] == 1 and f[2] == 3 for f in got), got


@pytest.mark.deadline(60)
def test_slow_reader_on_one_stream_does_not_stall_the_others(proxy, http_upstreams):
    """Stream A asks for 20 MiB and its reader never opens A's window (only
    the connection's); stream B, opened after, completes; the proxy holds a
    bounded part of A (the upstream is read as A's window and buffer allow)."""
    import h2.events
    from h2_support import H2Client
    big = os.urandom(20 * 1024 * 1024)
    up = http_upstreams(lambda req: Reply(body=big if req.path == "/big" else b"small"))
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")], [H.http_cluster("backend", [up.address])],
                        codec_type="AUTO")
    p = proxy(cfg)
    rss_before = p.rss_kib()
    client = H2Client(port)
    try:
        a = client.request("/big")
        got_a = 0

        def step(events):
            nonlocal got_a
            for e in events:
                if isinstance(e, h2.events.DataReceived) and not getattr(e, "_seen", False):
                    e._seen = True
                    if e.stream_id == a:
                        got_a += len(e.data)
                        client.conn.increment_flow_control_window(e.flow_controlled_length)  # connection only
                    else:
                        client.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            out = client.conn.data_to_send()
            if out:
                client.sock.sendall(out)
            return False

        client.pump(1.5, until=step)
        b = client.request("/small")
        client.pump(10, until=lambda ev: step(ev) or client.stream_ended(b))
        assert client.status(b) == "200"
        assert client.stream_ended(b)
        assert not client.stream_ended(a)
        assert got_a <= 65535  # A's window, never reopened
        # What Remora holds for A stays near its buffer limits, not the 20 MiB
        # (Envoy 1.40 grows by about 17 MiB here).
        if not IS_ENVOY:
            assert p.rss_kib() - rss_before < 8 * 1024
    finally:
        client.close()


def test_max_requests_counts_http2_streams(proxy, h2_upstream):
    """circuit_breakers max_requests: 1 on an HTTP/2 cluster: a second stream
    while the first is active overflows (503, x-envoy-overloaded, UO)."""
    from h2_support import H2Client
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")],
                        [H.http_cluster("backend", [h2_upstream.address],
                                        typed_extension_protocol_options=h2_cluster_options(),
                                        circuit_breakers={"thresholds": [{"max_requests": 1}]})],
                        codec_type="AUTO")
    p = proxy(cfg)
    client = H2Client(port)
    try:
        first = client.request("/delay/800")
        client.pump(0.3)
        second = client.request("/fast")
        client.pump(5, until=lambda ev: client.stream_ended(first) and client.stream_ended(second))
        assert client.status(first) == "200"
        assert client.status(second) == "503"
    finally:
        client.close()
    stats = p.stats()
    assert stats["cluster.backend.upstream_rq_active_overflow"] == 1
    assert stats["cluster.backend.upstream_rq_total"] == 1


def test_upstream_keepalive_timeout_closes_a_silent_connection(proxy, upstreams):
    """Cluster connection_keepalive: an upstream that accepts and then never
    answers (no SETTINGS, no PING ACK) is closed after interval + timeout;
    the stream on it fails with 503 and http2.keepalive_timeout counts."""
    def silent(conn, server):
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    up = upstreams(silent)
    admin, port = free_port(), free_port()
    options = h2_cluster_options(connection_keepalive={"interval": "0.3s", "timeout": "0.3s"})
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend", route_extra={"timeout": "10s"})],
                        [H.http_cluster("backend", [up.address], typed_extension_protocol_options=options)],
                        codec_type="AUTO")
    p = proxy(cfg)
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/"])
    assert status_line(r.stderr) == "HTTP/2 503", r.stderr
    stats = p.wait_for_stats({"cluster.backend.http2.keepalive_timeout": 1})
    assert stats["cluster.backend.http2.keepalive_timeout"] == 1


def test_upstream_stream_resets(proxy, h2_upstream):
    """An upstream RST_STREAM before the response: 503 with Envoy's body
    ("remote reset" / "remote refused stream reset"); with retry_on
    refused-stream a REFUSED_STREAM is retried and succeeds."""
    admin, port = free_port(), free_port()
    retry = {"retry_policy": {"retry_on": "refused-stream", "num_retries": 1}}
    cfg = H.http_config(admin, port, [route({"prefix": "/reset/7/once"}, "backend", route_extra=retry),
                                      route({"prefix": "/"}, "backend")],
                        [H.http_cluster("backend", [h2_upstream.address],
                                        typed_extension_protocol_options=h2_cluster_options())],
                        codec_type="AUTO")
    p = proxy(cfg)
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/reset/2"])
    assert status_line(r.stderr) == "HTTP/2 503"
    assert r.stdout == b"upstream connect error or disconnect/reset before headers. reset reason: remote reset"
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/reset/7"])
    assert r.stdout == b"upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset"
    r = curl(["-v", "--http2-prior-knowledge", f"http://127.0.0.1:{port}/reset/7/once"])
    assert status_line(r.stderr) == "HTTP/2 200", r.stdout
    stats = p.stats()
    assert stats["cluster.backend.upstream_rq_retry"] == 1
    # Envoy counts rx_reset for the RST_STREAM, not for the refused streams,
    # and charges the two 503 local replies to the cluster.
    assert stats["cluster.backend.upstream_rq_rx_reset"] == 1
    assert stats["cluster.backend.upstream_rq_503"] == 2


def test_max_connection_duration(proxy, http_upstreams):
    """common_http_protocol_options.max_connection_duration: an HTTP/2
    connection gets GOAWAY when it is reached, an idle HTTP/1.1 keep-alive
    one is closed (Remora); downstream_cx_max_duration_reached counts both."""
    import struct
    import support
    from h2_support import H2Client
    up = http_upstreams(lambda req: Reply(body=b"ok"))
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")], [H.http_cluster("backend", [up.address])],
                        codec_type="AUTO", common_http_protocol_options={"max_connection_duration": "0.4s"})
    p = proxy(cfg)
    with support.connect("127.0.0.1", port) as c:
        c.sendall(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n")
        assert support.recv_exact(c, 12) == b"HTTP/1.1 200"
        p.wait_for_stats({"http.ingress_http.downstream_cx_max_duration_reached": 1})
        # Remora closes the idle keep-alive connection then (Envoy 1.40 keeps
        # it open and marks it to close after its next response).
        if not IS_ENVOY:
            elapsed, _ = support.wait_closed(c, 5)
            assert elapsed < 3
    client = H2Client(port)
    try:
        first = client.request("/")
        client.pump(3, until=lambda ev: client.stream_ended(first))
        frames = client.raw_frames(3)
        goaways = [struct.unpack(">II", f[3][:8]) for f in frames if f[0] == 7]
        assert goaways and goaways[0][1] == 0, frames
    finally:
        client.close()
    stat = "http.ingress_http.downstream_cx_max_duration_reached"
    assert p.wait_for_stats({stat: 2})[stat] == 2


def test_downstream_keepalive_timeout_closes_a_silent_client(proxy, http_upstreams):
    """http2_protocol_options.connection_keepalive on the connection manager:
    a client that never acknowledges the PING is disconnected after
    interval + timeout, and http2.keepalive_timeout counts it."""
    import socket as _socket
    up = http_upstreams(lambda req: Reply(body=b"ok"))
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "backend")], [H.http_cluster("backend", [up.address])],
                        codec_type="HTTP2",
                        http2_protocol_options={"connection_keepalive": {"interval": "0.3s", "timeout": "0.3s"}})
    p = proxy(cfg)
    s = _socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _frame(4, 0, 0))
        got = b""
        s.settimeout(5)
        while True:  # reads what comes (a PING among it) and never answers
            data = s.recv(65536)
            if not data:
                break
            got += data
        assert b"\x00\x00\x08\x06\x00" in got  # a PING frame was sent
    finally:
        s.close()
    assert p.wait_for_stats({"http2.keepalive_timeout": 1})["http2.keepalive_timeout"] == 1


@pytest.mark.parametrize("down", ["http1", "h2c"])
def test_upstream_answers_early_then_resets_with_no_error(proxy, h2_upstream, down):
    """An HTTP/2 upstream sends its whole response while the request body
    is still coming, then RST_STREAM(NO_ERROR) (RFC 9113 §8.1: stop
    sending, the answer is complete). The client gets that response, not a
    reset or a 503."""
    import socket as socketlib
    import time
    p, port = start(proxy, h2_upstream.address, upstream_h2=True)
    if down == "http1":
        with socketlib.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
            data = b""
            deadline = time.monotonic() + 5
            while b"early" not in data and time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data
        assert data.endswith(b"early"), data
    else:
        from h2_support import H2Client
        c = H2Client(port)
        sid = c.request("/early", method="POST", end=False)
        c.pump(3, until=lambda events: c.stream_ended(sid))
        assert c.status(sid) == "200"
        c.close()
    p.wait_for_stats({"cluster.backend.upstream_rq_200": 1})
