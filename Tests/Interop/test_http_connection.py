"""HTTP/1.1 through http_connection_manager + router: connection reuse,
pipelining, framing (chunked, trailers, large bodies), HTTP/1.0,
Expect: 100-continue, WebSocket upgrades and body-less responses.

Tests whose assertions pin an Envoy-specific detail (exact text, header
order, a non-obvious default) say so with "ENVOY-SPECIFIC" in the docstring.
"""

import os
import socket
import threading
import time

import pytest

import http_support as H
from http_support import HttpClient, Reply, build_request, simple_http_config
from support import MiB, RssSampler, free_port, idle_rss_kib, sha256

# A proxy that stores a whole 10 MiB body before forwarding it grows by at
# least 10 MiB; a streaming one (Envoy: 1 MiB per-connection buffer limit)
# stays far below.
BODY_SIZE = 10 * MiB
RSS_GROWTH_LIMIT_KIB = 8 * 1024


def echo_reply(req):
    return Reply(200, [("content-type", "text/plain"), ("x-path", req.target)],
                 f"{req.method} {req.target} {len(req.body)}".encode())


# -- keep-alive and pipelining ---------------------------------------------------


def test_keepalive_sequential_requests_share_one_upstream_connection(proxy, http_upstreams,
                                                                     admin_port):
    up = http_upstreams(echo_reply)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        for i in range(5):
            body = f"request {i}".encode()
            r = c.request("POST", f"/seq/{i}", body=body)
            assert r.status == 200
            assert r.body == f"POST /seq/{i} {len(body)}".encode()
            assert r.header("connection") is None
    assert up.accepted == 1
    assert [(q.conn, q.index, q.target) for q in up.requests] == [
        (1, i, f"/seq/{i}") for i in range(5)]
    assert [q.body for q in up.requests] == [f"request {i}".encode() for i in range(5)]
    p.wait_for_stats({"http.ingress_http.downstream_cx_total": 1,
                      "http.ingress_http.downstream_rq_total": 5,
                      "cluster.backend.upstream_cx_total": 1,
                      "cluster.backend.upstream_rq_total": 5})


def test_separate_client_connections_reuse_idle_upstream_connection(proxy, http_upstreams,
                                                                    admin_port):
    """The upstream pool is shared: three client connections one after the
    other use the same idle upstream connection."""
    up = http_upstreams(echo_reply)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    for i in range(3):
        assert H.get(port, f"/c{i}").status == 200
    assert up.accepted == 1
    assert [q.conn for q in up.requests] == [1, 1, 1]


def test_pipelined_requests_answered_in_order(proxy, http_upstreams, admin_port):
    """Five requests written in one send; the first answer is the slowest.
    Responses come back in request order and the upstream sees the requests
    one after the other on one connection."""
    delays = {"/p0": 0.3, "/p1": 0.0, "/p2": 0.1, "/p3": 0.0, "/p4": 0.05}

    def responder(req):
        return Reply(200, [("x-path", req.target)], req.target.encode() + b":" + req.body,
                     delay=delays[req.target])

    up = http_upstreams(responder)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        c.send(b"".join(build_request("POST" if i % 2 else "GET", f"/p{i}",
                                      body=(b"b%d" % i) if i % 2 else None)
                        for i in range(5)))
        got = [c.read_response() for _ in range(5)]
    assert [r.status for r in got] == [200] * 5
    assert [r.body for r in got] == [b"/p0:", b"/p1:b1", b"/p2:", b"/p3:b3", b"/p4:"]
    assert [r.header("x-path") for r in got] == [f"/p{i}" for i in range(5)]
    assert up.accepted == 1
    assert [(q.conn, q.index, q.target) for q in up.requests] == [
        (1, i, f"/p{i}") for i in range(5)]


# -- chunked framing and trailers ------------------------------------------------


@pytest.mark.envoy_specific
def test_chunked_request_is_forwarded_chunked_and_trailers_dropped(proxy, http_upstreams,
                                                                   admin_port):
    """ENVOY-SPECIFIC: without ``enable_trailers`` Envoy forwards the chunked
    request chunked (``transfer-encoding: chunked`` is the last upstream
    header) and silently drops the request trailers."""
    up = http_upstreams(echo_reply)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    body = b"".join(bytes([65 + i]) * (1000 + i) for i in range(20))
    with HttpClient(port) as c:
        c.send(build_request("POST", "/chunked", body=body, chunked=True, chunk_size=777,
                             trailers=[("x-checksum", "abc"), ("x-more", "1")]))
        r = c.read_response()
        assert r.status == 200 and r.body == f"POST /chunked {len(body)}".encode()
        # The connection stays usable after a chunked request.
        assert c.request("GET", "/after").status == 200
    q = up.requests[0]
    assert q.chunked and q.body == body
    assert q.header("content-length") is None
    assert q.headers.lower_names()[-1] == "transfer-encoding"
    assert q.trailers == []


@pytest.mark.envoy_specific
def test_chunked_response_is_forwarded_chunked_and_trailers_dropped(proxy, http_upstreams,
                                                                    admin_port):
    """ENVOY-SPECIFIC: a chunked upstream response reaches the client chunked
    (``transfer-encoding: chunked`` after ``server``); its trailers are
    dropped without ``enable_trailers``."""
    body = os.urandom(200_000)
    up = http_upstreams(Reply(200, [("content-type", "application/octet-stream")], body,
                              chunked=True, chunk_size=10_000, trailers=[("x-trailer", "tv")]))
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        r = c.request("GET", "/")
        assert r.status == 200 and r.chunked and r.body == body
        assert r.header("content-length") is None
        assert r.headers.lower_names() == ["content-type", "x-envoy-upstream-service-time",
                                           "date", "server", "transfer-encoding"]
        assert r.trailers == []
        assert c.request("GET", "/again").body == body


def trailers_protocol_options() -> dict:
    return {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config": {"http_protocol_options": {"enable_trailers": True}}}}


def test_trailers_forwarded_both_ways_with_enable_trailers(proxy, http_upstreams, admin_port):
    """With ``http_protocol_options.enable_trailers`` on the HCM (downstream)
    and on the cluster (upstream) request and response trailers pass."""
    up = http_upstreams(lambda req: Reply(200, [], b"response body", chunked=True,
                                          trailers=[("x-resp-trailer", "rt")]))
    port = free_port()
    proxy(simple_http_config(
        admin_port, port, up, http_protocol_options={"enable_trailers": True},
        cluster_extra={"typed_extension_protocol_options": trailers_protocol_options()}))
    with HttpClient(port) as c:
        r = c.request("POST", "/t", body=b"request body", chunked=True,
                      trailers=[("x-req-trailer", "qt")])
    assert r.status == 200 and r.body == b"response body"
    assert r.trailers == [("x-resp-trailer", "rt")]
    q = up.requests[0]
    assert q.body == b"request body" and q.trailers == [("x-req-trailer", "qt")]


# -- large bodies ------------------------------------------------------------------


@pytest.mark.deadline(60)
@pytest.mark.parametrize("chunked", [False, True], ids=["content_length", "chunked"])
def test_10mib_request_body_byte_exact_with_bounded_rss(proxy, http_upstreams, admin_port,
                                                        chunked):
    body = os.urandom(BODY_SIZE)
    # The upstream pauses before reading the body so the proxy has to hold
    # back the client instead of buffering.
    up = http_upstreams(lambda req: Reply(200, [("x-sha", sha256(req.body))], b"stored"),
                        body_read_delay=1.0)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    baseline = idle_rss_kib(p)
    sampler = RssSampler(p)
    with HttpClient(port, timeout=30) as c:
        r = c.request("PUT", "/upload", body=body, chunked=chunked, chunk_size=256 * 1024)
    peak = sampler.stop()
    assert r.status == 200 and r.body == b"stored"
    q = up.requests[0]
    assert len(q.body) == BODY_SIZE and r.header("x-sha") == sha256(body)
    assert q.chunked == chunked
    if not chunked:
        assert q.header("content-length") == str(BODY_SIZE)
    growth = peak - baseline
    print(f"RSS baseline {baseline} KiB, peak {peak} KiB, growth {growth} KiB")
    assert growth < RSS_GROWTH_LIMIT_KIB, f"proxy RSS grew by {growth} KiB for a 10 MiB upload"


@pytest.mark.deadline(60)
@pytest.mark.parametrize("chunked", [False, True], ids=["content_length", "chunked"])
def test_10mib_response_body_byte_exact_with_bounded_rss(proxy, http_upstreams, admin_port,
                                                         chunked):
    body = os.urandom(BODY_SIZE)
    up = http_upstreams(Reply(200, [("content-type", "application/octet-stream")], body,
                              chunked=chunked, chunk_size=256 * 1024))
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    baseline = idle_rss_kib(p)
    sampler = RssSampler(p)
    with HttpClient(port, timeout=30) as c:
        c.send(build_request("GET", "/download"))
        time.sleep(1.0)  # a slow reader: nothing is read for a second
        r = c.read_response()
    peak = sampler.stop()
    assert r.status == 200 and r.chunked == chunked
    assert len(r.body) == BODY_SIZE and sha256(r.body) == sha256(body)
    if not chunked:
        assert r.header("content-length") == str(BODY_SIZE)
    growth = peak - baseline
    print(f"RSS baseline {baseline} KiB, peak {peak} KiB, growth {growth} KiB")
    assert growth < RSS_GROWTH_LIMIT_KIB, f"proxy RSS grew by {growth} KiB for a 10 MiB download"


# -- HTTP/1.0 --------------------------------------------------------------------


@pytest.mark.envoy_specific
def test_http10_rejected_by_default_with_426(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: without ``http_protocol_options.accept_http_10`` an
    HTTP/1.0 request gets ``426 Upgrade Required`` (body ``Upgrade
    Required``, text/plain) answered as HTTP/1.1, ``connection: close``, and
    nothing reaches the upstream."""
    up = http_upstreams()
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        c.send(b"GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n")
        r = c.read_response()
        c.sock.shutdown(socket.SHUT_WR)
        c.wait_closed(3)
    assert (r.version, r.status, r.reason) == ("HTTP/1.1", 426, "Upgrade Required")
    assert r.body == b"Upgrade Required"
    assert r.headers.lower_names() == ["content-length", "content-type", "date", "server",
                                       "connection"]
    assert r.header("content-type") == "text/plain" and r.header("connection") == "close"
    assert up.requests == []


@pytest.mark.envoy_specific
def test_http10_with_accept_http_10(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: with ``accept_http_10`` Envoy answers ``HTTP/1.0``,
    adds ``connection: close`` and closes; the upstream request is HTTP/1.1.
    With ``Connection: keep-alive`` the response carries ``connection:
    keep-alive`` and the connection stays open.  A chunked upstream
    response is sent to the 1.0 client unframed (close-delimited)."""
    def responder(req):
        if req.path == "/chunked":
            return Reply(200, [], b"chunked-body", chunked=True)
        return echo_reply(req)

    up = http_upstreams(responder)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up,
                             http_protocol_options={"accept_http_10": True}))
    with HttpClient(port) as c:
        c.send(b"GET /one HTTP/1.0\r\nHost: example.com\r\n\r\n")
        r = c.read_response()
        elapsed, extra = c.wait_closed(3)
    assert (r.version, r.status) == ("HTTP/1.0", 200)
    assert r.header("connection") == "close" and r.body == b"GET /one 0"
    assert extra == b""
    assert up.requests[0].version == "HTTP/1.1"

    with HttpClient(port) as c:
        for i in range(2):
            c.send(b"GET /ka HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n")
            r = c.read_response()
            assert (r.version, r.status, r.header("connection")) == ("HTTP/1.0", 200, "keep-alive")
        assert c.is_open(0.3)

    with HttpClient(port) as c:
        c.send(b"GET /chunked HTTP/1.0\r\nHost: example.com\r\n\r\n")
        r = c.read_response()
    assert r.version == "HTTP/1.0" and not r.chunked
    assert r.header("transfer-encoding") is None and r.header("content-length") is None
    assert r.body == b"chunked-body"


@pytest.mark.envoy_specific
def test_http10_without_host(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: an HTTP/1.0 request without Host gets an empty-bodied
    ``400`` (HTTP/1.0 status line) unless ``default_host_for_http_10`` is
    set, in which case that value becomes the upstream Host."""
    up = http_upstreams(echo_reply)
    port, port2 = free_port(), free_port()
    proxy(simple_http_config(admin_port, port, up,
                             http_protocol_options={"accept_http_10": True}))
    with HttpClient(port) as c:
        c.send(b"GET /nohost HTTP/1.0\r\n\r\n")
        r = c.read_response()
    assert (r.version, r.status, r.body) == ("HTTP/1.0", 400, b"")
    assert r.headers.lower_names() == ["date", "server", "connection", "content-length"]
    assert up.requests == []

    proxy(simple_http_config(free_port(), port2, up,
                             http_protocol_options={"accept_http_10": True,
                                                    "default_host_for_http_10": "legacy.example"}))
    with HttpClient(port2) as c:
        c.send(b"GET /nohost HTTP/1.0\r\n\r\n")
        r = c.read_response()
    assert r.status == 200
    assert up.requests[0].header("host") == "legacy.example"


# -- Expect: 100-continue ------------------------------------------------------


@pytest.mark.envoy_specific
def test_expect_100_continue_answered_by_proxy(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC (default ``proxy_100_continue: false``): Envoy itself
    sends ``HTTP/1.1 100 Continue`` (no headers) right after the request
    head, strips ``Expect`` from the upstream request, and the final
    response follows on the same connection."""
    up = http_upstreams(echo_reply)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        c.send(b"POST /expect HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n"
               b"Expect: 100-continue\r\n\r\n")
        interim = c.read_response(keep_informational=True)
        assert interim.status == 100 and interim.raw_head == b"HTTP/1.1 100 Continue\r\n\r\n"
        assert up.requests == []  # the upstream has not been asked yet
        c.send(b"hello")
        r = c.read_response()
    assert r.status == 200 and r.body == b"POST /expect 5"
    q = up.requests[0]
    assert q.body == b"hello" and q.header("expect") is None


# -- WebSocket / upgrade -------------------------------------------------------

WS_REQUEST = (b"GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")


def ws_responder(req):
    if (req.header("upgrade") or "").lower() == "websocket":
        return Reply(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                           ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")],
                     action="upgrade", add_content_length=False)
    return echo_reply(req)


@pytest.mark.envoy_specific
def test_websocket_upgrade_then_bytes_both_ways(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: the 101 reaches the client with the upstream's headers
    (lower-cased) plus ``date`` and ``server`` but no
    ``x-envoy-upstream-service-time``; the upstream sees Upgrade/Connection
    and the WebSocket headers.  After the 101 bytes flow both ways."""
    up = http_upstreams(ws_responder)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up,
                                 upgrade_configs=[{"upgrade_type": "websocket"}]))
    with HttpClient(port) as c:
        c.send(WS_REQUEST)
        r = c.read_response()
        assert r.status == 101 and r.reason == "Switching Protocols"
        assert r.headers.lower_names() == ["upgrade", "connection", "sec-websocket-accept",
                                           "date", "server"]
        assert r.header("upgrade") == "websocket" and r.header("connection") == "Upgrade"
        frames = [b"\x81\x05hello", os.urandom(100_000), b"\x88\x00"]
        for f in frames:
            c.send(f)
            assert c.recv_exact(len(f)) == f
    q = up.requests[0]
    assert q.header("upgrade") == "websocket" and q.header("connection") == "Upgrade"
    assert q.header("sec-websocket-key") == "dGhlIHNhbXBsZSBub25jZQ=="
    assert q.header("sec-websocket-version") == "13"
    p.wait_for_stats({"http.ingress_http.downstream_cx_upgrades_total": 1})


@pytest.mark.envoy_specific
def test_websocket_without_upgrade_config_is_403(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: an Upgrade request without a matching
    ``upgrade_configs`` entry gets ``403`` with an empty body and
    ``connection: close``; the upstream sees nothing."""
    up = http_upstreams(ws_responder)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        c.send(WS_REQUEST)
        r = c.read_response()
    assert (r.status, r.reason, r.body) == (403, "Forbidden", b"")
    assert r.headers.lower_names() == ["date", "server", "connection", "content-length"]
    assert r.header("connection") == "close" and r.header("content-length") == "0"
    assert up.requests == []


@pytest.mark.envoy_specific
def test_websocket_upgrade_declined_by_upstream(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: the upstream answers an upgrade request with a plain
    ``200`` (content-type, x-path, content-length 9, body).  Envoy passes
    the status and ``x-path`` on, but drops the body, ``content-type`` and
    ``content-length`` of the upstream response, sends ``connection: close``
    and ``content-length: 0`` (no ``x-envoy-upstream-service-time``) and
    closes the connection."""
    up = http_upstreams(echo_reply)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up, upgrade_configs=[{"upgrade_type": "websocket"}]))
    with HttpClient(port) as c:
        c.send(WS_REQUEST)
        r = c.read_response()
        elapsed, extra = c.wait_closed(3)
    assert (r.status, r.body) == (200, b"")
    assert r.headers.lower_names() == ["x-path", "date", "server", "connection",
                                       "content-length"]
    assert r.header("x-path") == "/ws"
    assert r.header("connection") == "close" and r.header("content-length") == "0"
    assert extra == b""
    assert len(up.requests) == 1


# -- body-less responses -----------------------------------------------------


@pytest.mark.envoy_specific
def test_head_204_304_have_no_body(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: HEAD keeps the upstream's ``content-length`` (5) but no
    body is sent; 204 gets no ``content-length``; 304 keeps the upstream's
    ``content-length``.  The connection stays usable after each."""
    def responder(req):
        if req.path == "/204":
            return Reply(204, [("x-a", "1")])
        if req.path == "/304":
            return Reply(304, [("etag", '"v1"'), ("content-length", "5")])
        return Reply(200, [("content-type", "text/plain")], b"hello")

    up = http_upstreams(responder)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        r = c.request("HEAD", "/head")
        assert r.status == 200 and r.header("content-length") == "5" and r.body == b""
        assert c.is_open(0.2) and not c.reader.buf, "bytes after a HEAD response"
        r = c.request("GET", "/204")
        assert r.status == 204 and r.header("content-length") is None
        assert r.header("transfer-encoding") is None
        assert r.headers.lower_names() == ["x-a", "x-envoy-upstream-service-time", "date", "server"]
        assert c.is_open(0.2) and not c.reader.buf, "bytes after a 204"
        r = c.request("GET", "/304", headers=[("If-None-Match", '"v1"')])
        assert r.status == 304 and r.header("etag") == '"v1"' and r.header("content-length") == "5"
        assert c.is_open(0.2) and not c.reader.buf, "bytes after a 304"
        r = c.request("GET", "/full")
        assert r.status == 200 and r.body == b"hello"
    assert up.accepted == 1 and [q.method for q in up.requests] == ["HEAD", "GET", "GET", "GET"]


# -- upstream connection management --------------------------------------------


def test_upstream_closing_after_response_next_request_succeeds(proxy, http_upstreams, admin_port):
    """A keep-alive upstream (no ``Connection: close``) that closes its socket
    right after each response: every next request gets a fresh upstream
    connection and succeeds."""
    up = http_upstreams(lambda req: Reply(200, [], req.target.encode(), close=True,
                                          close_header=False))
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        for i in range(4):
            r = c.request("GET", f"/n{i}")
            assert (r.status, r.body) == (200, f"/n{i}".encode())
            time.sleep(0.1)  # let the proxy see the upstream's FIN
    assert up.accepted == 4 and [q.conn for q in up.requests] == [1, 2, 3, 4]


@pytest.mark.envoy_specific
def test_upstream_connection_close_is_not_reused(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: an upstream response with ``Connection: close`` makes
    Envoy drop that upstream connection; the header is not passed on and the
    client connection stays open."""
    up = http_upstreams(lambda req: Reply(200, [("connection", "close")], b"bye", close=True))
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        for _ in range(3):
            r = c.request("GET", "/")
            assert r.status == 200 and r.body == b"bye"
            assert r.header("connection") is None
        assert c.is_open(0.2)
    assert up.accepted == 3


@pytest.mark.envoy_specific
def test_max_requests_per_connection(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: with ``common_http_protocol_options.
    max_requests_per_connection: 2`` the second response carries
    ``connection: close`` (last header) and the connection is closed."""
    up = http_upstreams(echo_reply)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up,
                                 common_http_protocol_options={"max_requests_per_connection": 2}))
    with HttpClient(port) as c:
        r1 = c.request("GET", "/1")
        r2 = c.request("GET", "/2")
        elapsed, extra = c.wait_closed(3)
    assert r1.status == 200 and r1.header("connection") is None
    assert r2.status == 200 and r2.header("connection") == "close"
    assert r2.headers.lower_names()[-1] == "connection"
    assert extra == b""
    p.wait_for_stats({"http.ingress_http.downstream_cx_max_requests_reached": 1})


@pytest.mark.parametrize("case", ["connection-close", "http10", "max-requests", "local-reply-body-unread"])
def test_close_after_response_skips_the_delayed_close_when_the_request_asked(proxy, http_upstreams, admin_port, case):
    """As Envoy's connection manager: a request that asked for the close
    (``Connection: close``, HTTP/1.0 without keep-alive, the connection's
    last by ``max_requests_per_connection``) and was read to its end gets
    the close right after its response (``FlushWrite``); a response that
    leaves the request unread (a local reply before the body) waits for
    the client first (``delayed_close_timeout``, here 3 s)."""
    up = http_upstreams(echo_reply)
    port = free_port()
    extra = {"delayed_close_timeout": "3s", "http_protocol_options": {"accept_http_10": True}}
    if case == "max-requests":
        extra["common_http_protocol_options"] = {"max_requests_per_connection": 1}
    cfg = simple_http_config(admin_port, port, up, **extra)
    if case == "local-reply-body-unread":
        vh = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
            "route_config"]["virtual_hosts"][0]
        vh["routes"] = [{"match": {"prefix": "/"}, "direct_response": {"status": 403}}]
    proxy(cfg)
    with HttpClient(port) as c:
        if case == "connection-close":
            c.send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        elif case == "http10":
            c.send(b"GET / HTTP/1.0\r\nHost: a\r\n\r\n")
        elif case == "max-requests":
            c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        else:
            c.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        r = c.read_response()
        assert r.status == (403 if case == "local-reply-body-unread" else 200)
        elapsed, _ = c.wait_closed(6)
    if case == "local-reply-body-unread":
        assert 2.5 < elapsed < 5, elapsed
    else:
        assert elapsed < 2, elapsed   # at once, not after the 2.5 s above


def test_concurrent_clients(proxy, http_upstreams, admin_port):
    """20 client connections x 5 requests each, concurrently."""
    up = http_upstreams(echo_reply)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up), concurrency=2)
    errors = []

    def client(i):
        try:
            with HttpClient(port, timeout=10) as c:
                for j in range(5):
                    r = c.request("POST", f"/c{i}/{j}", body=b"x" * (i * 10 + j))
                    assert r.body == f"POST /c{i}/{j} {i * 10 + j}".encode(), r.body
        except Exception as e:  # noqa: BLE001
            errors.append(f"client {i}: {e!r}")

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors, errors[:5]
    assert len(up.requests) == 100
    p.wait_for_stats({"http.ingress_http.downstream_rq_2xx": 100,
                      "http.ingress_http.downstream_cx_total": 20})


# -- upstream response framing -----------------------------------------------------


def raw_upstream(raw: bytes, close: bool = False):
    return lambda req: Reply(action="raw", raw=raw, close=close)


@pytest.mark.envoy_specific
def test_close_delimited_upstream_response_is_rechunked(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: an upstream response framed by connection close (no
    Content-Length, no chunked) reaches an HTTP/1.1 client chunked
    (``transfer-encoding: chunked`` last) and the client connection stays
    open."""
    up = http_upstreams(raw_upstream(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nbody until close",
                                     close=True))
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        r = c.request("GET", "/")
        assert (r.status, r.body, r.chunked) == (200, b"body until close", True)
        assert r.headers.lower_names() == ["x-a", "x-envoy-upstream-service-time", "date",
                                           "server", "transfer-encoding"]
        assert c.request("GET", "/again").body == b"body until close"


@pytest.mark.envoy_specific
def test_upstream_informational_responses_are_dropped(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``103 Early Hints`` and an unsolicited ``100
    Continue`` from the upstream are not forwarded; only the final response
    is.  An HTTP/1.0 upstream response is sent to the client as HTTP/1.1."""
    def responder(req):
        final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        if req.path == "/103":
            return Reply(action="raw", raw=b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + final)
        if req.path == "/100":
            return Reply(action="raw", raw=b"HTTP/1.1 100 Continue\r\n\r\n" + final)
        return Reply(action="raw", raw=b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    up = http_upstreams(responder)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        for path in ("/103", "/100", "/http10"):
            c.send(build_request("GET", path))
            r = c.read_response(keep_informational=True)
            assert (r.version, r.status, r.body, r.informational) == ("HTTP/1.1", 200, b"ok", []), path


@pytest.mark.envoy_specific
def test_bodyless_request_framing(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: a request without body and without Content-Length is
    sent upstream with ``content-length: 0`` appended LAST for POST, PUT and
    OPTIONS, but without it for GET and DELETE; an explicit
    ``Content-Length: 0`` stays in place."""
    up = http_upstreams(echo_reply)
    port = free_port()
    proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        for m in ("POST", "PUT", "OPTIONS", "GET", "DELETE"):
            assert c.request(m, "/").status == 200
        assert c.request("POST", "/explicit", body=b"").status == 200
    got = {q.method + q.target: (q.header("content-length"), q.headers.lower_names()[-1])
           for q in up.requests}
    assert got == {"POST/": ("0", "content-length"), "PUT/": ("0", "content-length"),
                   "OPTIONS/": ("0", "content-length"),
                   "GET/": (None, "x-envoy-expected-rq-timeout-ms"),
                   "DELETE/": (None, "x-envoy-expected-rq-timeout-ms"),
                   "POST/explicit": ("0", "x-envoy-expected-rq-timeout-ms")}


def test_half_close_after_a_complete_request_ends_it_unanswered(proxy, http_upstreams, admin_port):
    """A client that half-closes (FIN) after its request is gone to Envoy's
    HTTP/1 connection manager: the request in flight is reset (its upstream
    connection closed) and the connection closes without a response,
    counted as `downstream_cx_destroy_remote_active_rq`."""
    # Late enough that the answer cannot beat the half-close on a busy machine.
    up = http_upstreams(lambda req: Reply(200, body=b"late", delay=10))
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        c.send(b"GET /slow HTTP/1.1\r\nHost: example.com\r\n\r\n")
        p.wait_for_stats({"cluster.backend.upstream_rq_active": 1})
        c.sock.shutdown(socket.SHUT_WR)
        _, extra = c.wait_closed(3)
    assert extra == b""
    p.wait_for_stats({"http.ingress_http.downstream_cx_destroy_remote_active_rq": 1,
                      "cluster.backend.upstream_rq_active": 0, "cluster.backend.upstream_cx_active": 0}, timeout=5)
