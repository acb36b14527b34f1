"""``downstream_rq_rx_reset`` / ``downstream_rq_tx_reset`` as Envoy 1.40
counts them (each test runs against Envoy too, ``PROXY_KIND=envoy``).

Envoy's stream hears every reset of its codec stream, its own included, and
counts each as ``rx_reset``; ``tx_reset`` is counted only when a filter (the
router) resets the stream. So a response that ends before its request did
(Envoy's ``doEndStream`` reset: RST_STREAM NO_ERROR on HTTP/2, the
connection closed on HTTP/1) counts ``rx_reset`` alone, and a router reset
(the upstream cut the response short) counts both.
"""

from __future__ import annotations

import socket
import time

import h2.events
import pytest

import http_support as H
from h2_support import H2Client
from support import TcpServer, free_port, socket_address

RESETS = ("http.ingress_http.downstream_rq_rx_reset", "http.ingress_http.downstream_rq_tx_reset")


def config(admin: int, port: int, upstream_port: int, prefix: str = "/") -> dict:
    return H.http_config(admin, port, [H.route({"prefix": prefix}, "backend")],
                         [H.http_cluster("backend", [socket_address("127.0.0.1", upstream_port)])], codec_type="AUTO")


@pytest.mark.parametrize("protocol", ["http1", "h2"])
def test_response_before_the_request_ended_counts_rx_reset(proxy, admin_port, protocol):
    port = free_port()
    p = proxy(config(admin_port, port, free_port(), prefix="/routed"))
    if protocol == "http1":
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            # A body is announced and never sent: the 404 ends the stream first.
            s.sendall(b"POST /elsewhere HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 404 Not Found\r\n")
            p.wait_for_stats({RESETS[0]: 1, RESETS[1]: 0})
    else:
        c = H2Client(port)
        try:
            sid = c.request("/elsewhere", method="POST", end=False)
            c.pump(5, until=lambda ev: any(isinstance(e, h2.events.StreamReset) for e in ev))
            resets = [e.error_code for e in c.events if isinstance(e, h2.events.StreamReset) and e.stream_id == sid]
            assert resets == [0]
            # Counted while the connection is still open.
            p.wait_for_stats({RESETS[0]: 1, RESETS[1]: 0})
            assert not c.closed
        finally:
            c.close()


def cut_short(conn: socket.socket, server: TcpServer) -> None:
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
    time.sleep(0.2)
    conn.close()


@pytest.mark.parametrize("protocol", ["http1", "h2"])
def test_router_reset_counts_tx_and_rx_reset(proxy, admin_port, protocol):
    up = TcpServer(cut_short)
    try:
        port = free_port()
        p = proxy(config(admin_port, port, up.port))
        if protocol == "http1":
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                p.wait_for_stats({RESETS[0]: 1, RESETS[1]: 1})
        else:
            c = H2Client(port)
            try:
                sid = c.request("/")
                c.pump(5, until=lambda ev: any(isinstance(e, h2.events.StreamReset) for e in ev))
                assert [e.stream_id for e in c.events if isinstance(e, h2.events.StreamReset)] == [sid]
                p.wait_for_stats({RESETS[0]: 1, RESETS[1]: 1})
            finally:
                c.close()
    finally:
        up.stop()
