"""CONNECT that the proxy does not terminate, and the circuit breakers of the
ones it does, as Envoy 1.40 handles them (each test runs against Envoy too,
``PROXY_KIND=envoy``):

* a CONNECT only matches ``connect_matcher`` routes (elsewhere: 404, with or
  without ``upgrade_configs``);
* on such a route with no CONNECT upgrade enabled (neither the route's
  ``upgrade_configs`` nor the connection manager's) it is refused: 403,
  ``downstream_rq_ws_on_non_ws_route``;
* with the CONNECT upgrade enabled but no ``connect_config`` it is passed on
  to the upstream as an HTTP/1 ``CONNECT host:port`` request; the upstream's
  2xx (relayed with ``date`` and ``server`` only) opens the tunnel, over
  HTTP/1 and HTTP/2 downstreams alike (no ``allow_connect`` needed);
* a terminated CONNECT is a pending request until its TCP connection is up
  and takes one of the cluster's ``max_connections``: past that limit it
  waits (``upstream_cx_overflow``) until a tunnel closes; past
  ``max_pending_requests`` it is a 503 with ``UO``.
"""

from __future__ import annotations

import socket

import h2.events
import pytest

import http_support as H
from support import TcpServer, free_port, socket_address, echo_handler
from test_connect import CONNECT_ROUTE, h2_client, h2_connect, h2_data, h2_head

CONNECT_LINE = b"CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n"


class ConnectUpstream:
    """An HTTP/1 server that answers a CONNECT with ``200`` and then echoes
    (with ``close_after_echo``, one read, then it closes the connection);
    it records each head it received."""

    def __init__(self, close_after_echo: bool = False):
        self.heads: list[bytes] = []
        self.close_after_echo = close_after_echo
        self.server = TcpServer(self._handle)

    @property
    def port(self) -> int:
        return self.server.port

    def _handle(self, conn: socket.socket, server: TcpServer) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        self.heads.append(head)
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + rest)
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            conn.sendall(chunk)
            if self.close_after_echo:
                break
        conn.close()

    def stop(self) -> None:
        self.server.stop()


def config(admin: int, port: int, upstream_port: int, routes: list, **hcm) -> dict:
    return H.http_config(admin, port, routes, [H.http_cluster("backend", [socket_address("127.0.0.1", upstream_port)])],
                         codec_type="AUTO", **hcm)


PASSED_ON = H.route({"connect_matcher": {}}, "backend",
                    route_extra={"upgrade_configs": [{"upgrade_type": "CONNECT"}]})


def read_head(s: socket.socket) -> tuple[bytes, bytes]:
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    head, rest = got.split(b"\r\n\r\n", 1)
    return head, rest


def check_passed_on_head(head: bytes) -> None:
    lines = head.split(b"\r\n")
    assert lines[0] == b"CONNECT upstream.example:443 HTTP/1.1"
    names = [line.split(b":")[0] for line in lines[1:]]
    # Envoy 1.40: host first, its forwarding fields, no framing fields.
    assert names == [b"host", b"x-forwarded-proto", b"x-request-id", b"x-envoy-expected-rq-timeout-ms"], head
    assert lines[1] == b"host: upstream.example:443"


def http1_tunnel(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(CONNECT_LINE)
        head, rest = read_head(s)
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 200 OK"
        assert [line.split(b":")[0].lower() for line in lines[1:]] == [b"date", b"server"]
        s.sendall(b"ping through the tunnel")
        got = rest
        while len(got) < len(b"ping through the tunnel"):
            chunk = s.recv(4096)
            assert chunk
            got += chunk
        assert got == b"ping through the tunnel"


def test_http1_connect_is_passed_on(proxy, admin_port):
    up = ConnectUpstream()
    try:
        port = free_port()
        p = proxy(config(admin_port, port, up.port, [PASSED_ON]))
        http1_tunnel(port)
        assert len(up.heads) == 1
        check_passed_on_head(up.heads[0])
        p.wait_for_stats({"http.ingress_http.downstream_cx_upgrades_total": 1,
                          "cluster.backend.upstream_rq_200": 1})
    finally:
        up.stop()


def test_h2_connect_is_passed_on_as_http1(proxy, admin_port):
    up = ConnectUpstream()
    try:
        port = free_port()
        proxy(config(admin_port, port, up.port, [PASSED_ON]))
        c = h2_client(port)
        try:
            sid = h2_connect(c)
            c.pump(5, until=lambda ev: h2_head(c, sid) is not None)
            head = h2_head(c, sid)
            assert head is not None and [k for k, _ in head] == [":status", "date", "server"]
            assert dict(head)[":status"] == "200"
            c.conn.send_data(sid, b"hello over h2")
            c.sock.sendall(c.conn.data_to_send())
            c.pump(5, until=lambda ev: h2_data(c, sid) == b"hello over h2")
            assert h2_data(c, sid) == b"hello over h2"
            assert not [e for e in c.events if isinstance(e, h2.events.StreamReset)]
        finally:
            c.close()
        assert len(up.heads) == 1
        check_passed_on_head(up.heads[0])
    finally:
        up.stop()


def test_connect_upgrade_enabled_by_the_connection_manager(proxy, admin_port):
    """The connection manager's ``upgrade_configs`` enable CONNECT for a
    connect_matcher route that names no upgrade of its own."""
    up = ConnectUpstream()
    try:
        port = free_port()
        proxy(config(admin_port, port, up.port, [H.route({"connect_matcher": {}}, "backend")],
                     upgrade_configs=[{"upgrade_type": "CONNECT"}]))
        http1_tunnel(port)
        check_passed_on_head(up.heads[0])
    finally:
        up.stop()


def test_connect_route_without_the_connect_upgrade_is_403(proxy, admin_port):
    up = ConnectUpstream()
    try:
        port = free_port()
        p = proxy(config(admin_port, port, up.port, [H.route({"connect_matcher": {}}, "backend")]))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(CONNECT_LINE)
            head, _ = read_head(s)
        assert head.split(b"\r\n")[0] == b"HTTP/1.1 403 Forbidden"
        p.wait_for_stats({"http.ingress_http.downstream_rq_ws_on_non_ws_route": 1,
                          "http.ingress_http.downstream_rq_4xx": 1})
        assert up.heads == []
    finally:
        up.stop()


def test_connect_on_a_prefix_route_with_the_upgrade_is_404(proxy, admin_port):
    up = ConnectUpstream()
    try:
        port = free_port()
        route = H.route({"prefix": "/"}, "backend", route_extra={"upgrade_configs": [{"upgrade_type": "CONNECT"}]})
        p = proxy(config(admin_port, port, up.port, [route]))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(CONNECT_LINE)
            head, _ = read_head(s)
        assert head.split(b"\r\n")[0] == b"HTTP/1.1 404 Not Found"
        p.wait_for_stats({"http.ingress_http.no_route": 1})
        assert up.heads == []
    finally:
        up.stop()


# --- circuit breakers of terminated CONNECTs ---------------------------------


def breaker_config(admin: int, port: int, upstream_port: int, **thresholds) -> dict:
    cluster = H.http_cluster("backend", [socket_address("127.0.0.1", upstream_port)],
                             circuit_breakers={"thresholds": [thresholds]})
    return H.http_config(admin, port, [CONNECT_ROUTE], [cluster], codec_type="AUTO")


def test_terminated_connect_waits_for_max_connections(proxy, admin_port):
    """``max_connections: 1``: the second tunnel waits (pending, counted as a
    connection overflow) and gets its connection when the first closes."""
    up = TcpServer(echo_handler)
    try:
        port = free_port()
        p = proxy(breaker_config(admin_port, port, up.port, max_connections=1))
        first = socket.create_connection(("127.0.0.1", port), timeout=5)
        first.sendall(CONNECT_LINE)
        assert read_head(first)[0].startswith(b"HTTP/1.1 200 OK")
        second = socket.create_connection(("127.0.0.1", port), timeout=5)
        second.sendall(CONNECT_LINE)
        p.wait_for_stats({"cluster.backend.upstream_cx_overflow": 1,
                          "cluster.backend.upstream_rq_pending_active": 1,
                          "cluster.backend.upstream_rq_pending_total": 2,
                          "cluster.backend.upstream_cx_total": 1})
        first.close()
        assert read_head(second)[0].startswith(b"HTTP/1.1 200 OK")
        second.sendall(b"second")
        assert second.recv(100) == b"second"
        second.close()
        p.wait_for_stats({"cluster.backend.upstream_cx_total": 2,
                          "cluster.backend.upstream_rq_pending_active": 0})
    finally:
        up.stop()


def test_terminated_connect_over_max_pending_is_503_uo(proxy, admin_port):
    up = TcpServer(echo_handler)
    try:
        port = free_port()
        p = proxy(breaker_config(admin_port, port, up.port, max_connections=1, max_pending_requests=0))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(CONNECT_LINE)
            head, _ = read_head(s)
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 503 Service Unavailable"
        assert b"x-envoy-overloaded: true" in lines
        p.wait_for_stats({"cluster.backend.upstream_rq_pending_overflow": 1,
                          "cluster.backend.upstream_cx_total": 0}, missing_as_zero=True)
    finally:
        up.stop()


class H2ConnectUpstream:
    """An HTTP/2 server (prior knowledge) that answers each CONNECT with
    ``200`` and echoes the stream's DATA; it records each request head.
    After the first echo, ``after_echo`` ``"end"`` ends the stream
    (END_STREAM), ``"close"`` closes the connection."""

    def __init__(self, after_echo: str | None = None):
        import h2.config
        import h2.connection
        self._h2 = (h2.config, h2.connection)
        self.heads: list[list] = []
        self.after_echo = after_echo
        self.server = TcpServer(self._handle)

    @property
    def port(self) -> int:
        return self.server.port

    def _handle(self, conn: socket.socket, server: TcpServer) -> None:
        config, connection = self._h2
        c = connection.H2Connection(config=config.H2Configuration(client_side=False, header_encoding="utf-8",
                                                                  validate_inbound_headers=False))
        c.initiate_connection()
        conn.sendall(c.data_to_send())
        while True:
            data = conn.recv(65536)
            if not data:
                break
            for ev in c.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    self.heads.append(ev.headers)
                    c.send_headers(ev.stream_id, [(":status", "200")])
                elif isinstance(ev, h2.events.DataReceived):
                    c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    if ev.data:
                        c.send_data(ev.stream_id, ev.data, end_stream=self.after_echo == "end")
                        if self.after_echo == "close":
                            conn.sendall(c.data_to_send())
                            conn.close()
                            return
                elif isinstance(ev, h2.events.StreamEnded):
                    if self.after_echo != "end":
                        c.end_stream(ev.stream_id)
            out = c.data_to_send()
            if out:
                conn.sendall(out)
        conn.close()

    def stop(self) -> None:
        self.server.stop()


def test_connect_is_passed_on_to_an_http2_upstream(proxy, admin_port):
    """An HTTP/2 cluster gets the CONNECT as HTTP/2: ``:method`` and
    ``:authority`` only (RFC 9113 §8.5); its 200 opens the tunnel."""
    from h2_support import h2_cluster_options
    up = H2ConnectUpstream()
    try:
        port = free_port()
        cluster = H.http_cluster("backend", [socket_address("127.0.0.1", up.port)],
                                 typed_extension_protocol_options=h2_cluster_options())
        proxy(H.http_config(admin_port, port, [PASSED_ON], [cluster], codec_type="AUTO"))
        http1_tunnel(port)
        assert len(up.heads) == 1
        # (Envoy sends :authority first; the order of pseudo-headers carries no meaning.)
        pseudo = sorted((k, v) for k, v in up.heads[0] if k.startswith(":"))
        assert pseudo == [(":authority", "upstream.example:443"), (":method", "CONNECT")]
    finally:
        up.stop()


def h2_tunnel_end(port: int) -> tuple[bool, list[int]]:
    """An HTTP/2 client's CONNECT through the proxy: one echo, then how the
    stream ended (END_STREAM seen, the RST_STREAM codes)."""
    c = h2_client(port)
    try:
        sid = h2_connect(c)
        c.pump(5, until=lambda ev: h2_head(c, sid) is not None)
        assert dict(h2_head(c, sid))[":status"] == "200"
        c.conn.send_data(sid, b"one echo")
        c.sock.sendall(c.conn.data_to_send())

        def ended(ev) -> bool:
            return any(isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)) and e.stream_id == sid
                       for e in c.events)

        c.pump(5, until=ended)
        assert h2_data(c, sid) == b"one echo"
        # A reset may follow an END_STREAM (the client had not ended its side).
        c.pump(0.5)
        got_end = any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid for e in c.events)
        codes = [e.error_code for e in c.events if isinstance(e, h2.events.StreamReset) and e.stream_id == sid]
        return got_end, codes
    finally:
        c.close()


def test_tunnel_to_an_http1_upstream_ends_with_its_connection(proxy, admin_port):
    """An HTTP/1 tunnel has no end but its connection's: the upstream's
    close is a connection termination, which an HTTP/2 client hears as
    RST_STREAM CONNECT_ERROR (RFC 9113 §8.5), not END_STREAM."""
    up = ConnectUpstream(close_after_echo=True)
    try:
        port = free_port()
        proxy(config(admin_port, port, up.port, [PASSED_ON]))
        assert h2_tunnel_end(port) == (False, [0xA])
    finally:
        up.stop()


@pytest.mark.parametrize("after_echo,expected", [("end", (True, [0])), ("close", (False, [0xA]))])
def test_tunnel_to_an_http2_upstream_ends_with_its_stream_or_its_connection(proxy, admin_port, after_echo, expected):
    """Over HTTP/2 the upstream's END_STREAM ends the tunnel (END_STREAM,
    then RST_STREAM NO_ERROR since the client had not ended its side); its
    connection closing is a connection termination, as over HTTP/1:
    RST_STREAM CONNECT_ERROR."""
    from h2_support import h2_cluster_options
    up = H2ConnectUpstream(after_echo=after_echo)
    try:
        port = free_port()
        cluster = H.http_cluster("backend", [socket_address("127.0.0.1", up.port)],
                                 typed_extension_protocol_options=h2_cluster_options())
        proxy(H.http_config(admin_port, port, [PASSED_ON], [cluster], codec_type="AUTO"))
        assert h2_tunnel_end(port) == expected
    finally:
        up.stop()
