"""CONNECT terminated by the proxy, as Envoy 1.40 does it: a route with
``connect_matcher`` whose ``upgrade_configs`` entry for ``CONNECT`` has a
``connect_config`` answers the CONNECT with a bare ``200`` once a raw TCP
connection to the upstream is up, then carries the payload both ways (HTTP/1
bytes after the head, HTTP/2 DATA frames). Each test runs against Envoy too
(``PROXY_KIND=envoy``).
"""

from __future__ import annotations

import os
import socket

import h2.events

import http_support as H
from h2_support import H2Client
from support import TcpServer, echo_handler, free_port, socket_address

CONNECT_ROUTE = H.route({"connect_matcher": {}}, "backend",
                        route_extra={"upgrade_configs": [{"upgrade_type": "CONNECT", "connect_config": {}}]})


def config(admin: int, port: int, upstream_port: int, routes=None) -> dict:
    return H.http_config(admin, port, routes or [CONNECT_ROUTE, H.route({"prefix": "/"}, "backend")],
                         [H.http_cluster("backend", [socket_address("127.0.0.1", upstream_port)])], codec_type="AUTO")


def h2_client(port: int) -> H2Client:
    c = H2Client(port)
    # A CONNECT has no :scheme or :path (RFC 9113 §8.5): h2 would refuse to send it.
    c.conn.config.validate_outbound_headers = False
    c.pump(2, until=lambda ev: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in ev))
    return c


def h2_connect(c: H2Client, authority: str = "upstream.example:443") -> int:
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, [(":method", "CONNECT"), (":authority", authority)])
    c.sock.sendall(c.conn.data_to_send())
    return sid


def h2_head(c: H2Client, sid: int):
    for e in c.events:
        if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
            return e.headers
    return None


def h2_data(c: H2Client, sid: int) -> bytes:
    return b"".join(e.data for e in c.events if isinstance(e, h2.events.DataReceived) and e.stream_id == sid)


def test_http1_connect_is_terminated(proxy, admin_port):
    """``HTTP/1.1 200 OK`` with only ``date`` and ``server``; the payload is
    echoed; the client's half-close reaches the upstream, whose close ends
    the connection."""
    up = TcpServer(echo_handler)
    try:
        port = free_port()
        p = proxy(config(admin_port, port, up.port))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            head, rest = head.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            assert lines[0] == b"HTTP/1.1 200 OK"
            assert [line.split(b":")[0].lower() for line in lines[1:]] == [b"date", b"server"]
            payload = os.urandom(200_000)
            s.sendall(payload)
            got = rest
            while len(got) < len(payload):
                chunk = s.recv(65536)
                assert chunk
                got += chunk
            assert got == payload
            s.shutdown(socket.SHUT_WR)
            assert s.recv(100) == b""
        p.wait_for_stats({"http.ingress_http.downstream_cx_upgrades_total": 1,
                          "cluster.backend.upstream_cx_total": 1})
    finally:
        up.stop()


def test_h2_connect_is_terminated(proxy, admin_port):
    """Over HTTP/2 (no ``allow_connect`` needed for a plain CONNECT): a 200
    with ``date`` and ``server``, DATA echoed, END_STREAM answered by
    END_STREAM once the upstream closed; the connection stays."""
    up = TcpServer(echo_handler)
    try:
        port = free_port()
        proxy(config(admin_port, port, up.port))
        c = h2_client(port)
        try:
            sid = h2_connect(c)
            c.pump(5, until=lambda ev: h2_head(c, sid) is not None)
            head = h2_head(c, sid)
            assert head is not None and [k for k, _ in head] == [":status", "date", "server"]
            assert dict(head)[":status"] == "200"
            c.conn.send_data(sid, b"hello over h2", end_stream=True)
            c.sock.sendall(c.conn.data_to_send())
            c.pump(5, until=lambda ev: c.stream_ended(sid))
            assert h2_data(c, sid) == b"hello over h2" and c.stream_ended(sid)
            assert not [e for e in c.events if isinstance(e, h2.events.StreamReset)]
            other = c.request("/")
            c.pump(5, until=lambda ev: c.stream_ended(other))
            assert not c.closed
        finally:
            c.close()
    finally:
        up.stop()


def goodbye_handler(conn: socket.socket, server: TcpServer) -> None:
    conn.sendall(b"bye")
    conn.close()


def test_upstream_close_ends_the_tunnel(proxy, admin_port):
    """The upstream says something and closes first: HTTP/1 gets the bytes,
    then the close; HTTP/2 gets them, END_STREAM, then RST_STREAM NO_ERROR
    (the client had not ended its side)."""
    up = TcpServer(goodbye_handler)
    try:
        port = free_port()
        proxy(config(admin_port, port, up.port))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n")
            got = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            assert got.startswith(b"HTTP/1.1 200 OK\r\n") and got.endswith(b"\r\n\r\nbye")
        c = h2_client(port)
        try:
            sid = h2_connect(c)
            c.pump(5, until=lambda ev: any(isinstance(e, h2.events.StreamReset) for e in ev))
            assert h2_data(c, sid) == b"bye" and c.stream_ended(sid)
            assert [e.error_code for e in c.events if isinstance(e, h2.events.StreamReset)] == [0]
        finally:
            c.close()
    finally:
        up.stop()


def test_connect_to_a_dead_upstream_is_503(proxy, admin_port):
    port = free_port()
    proxy(config(admin_port, port, free_port()))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            assert chunk
            got += chunk
    assert got.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")


def test_h2_connect_without_a_connect_route_is_404(proxy, admin_port):
    """A CONNECT that no route matches is a 404 (not a refused upgrade)."""
    up = TcpServer(echo_handler)
    try:
        port = free_port()
        proxy(config(admin_port, port, up.port, routes=[H.route({"prefix": "/"}, "backend")]))
        c = h2_client(port)
        try:
            sid = h2_connect(c)
            c.pump(5, until=lambda ev: h2_head(c, sid) is not None)
            assert dict(h2_head(c, sid))[":status"] == "404"
        finally:
            c.close()
    finally:
        up.stop()
