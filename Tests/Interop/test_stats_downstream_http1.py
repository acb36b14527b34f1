"""Downstream HTTP/1 stats as Envoy 1.40 keeps them.

`downstream_rq_response_before_rq_complete`: a response head that goes out
before the request was read to its end (an early reply, or the reply to a
request the codec refused).

`http1.response_flood`: a client that pipelines requests and reads no
response is closed and counted as Envoy counts it (not as a protocol
error). Envoy closes as soon as a request begins behind two responses the
socket has not taken, which also cuts off a fast pipelining client that
does read (a third direct response pipelined in one packet); Remora serves
those and closes only a client that stops reading
(`test_pipelined_burst_of_10000_requests_in_one_write`).

Both proxies run it (PROXY_KIND=envoy for Envoy 1.40), but the one Envoy-only
test of what Remora does not copy."""

from __future__ import annotations

import socket

import pytest

import support
from http_support import Reply, http_cluster, http_config, route
from support import free_port

REQUEST = b"GET /%s HTTP/1.1\r\nhost: example.com\r\n\r\n"


def config(admin_port: int, port: int, upstream) -> dict:
    routes = [route({"prefix": "/direct"}, direct_response={"status": 200, "body": {"inline_string": "d" * 10}}),
              route({"prefix": "/"}, "backend")]
    return http_config(admin_port, port, routes, [http_cluster("backend", [upstream.address])])


def read_until_closed(sock: socket.socket) -> bytes:
    return support.wait_closed(sock, 5)[1]


@pytest.mark.envoy_only(reason="Remora serves pipelined requests to a client that reads "
                               "(test_pipelined_burst_of_10000_requests_in_one_write)")
def test_third_pipelined_direct_response_floods(proxy, http_upstreams, admin_port):
    port = free_port()
    p = proxy(config(admin_port, port, http_upstreams()))
    with support.connect("127.0.0.1", port) as s:
        s.sendall(b"".join(REQUEST % b"direct" for _ in range(4)))
        got = read_until_closed(s)
    assert got.count(b"HTTP/1.1 200 OK") == 2, got
    h = "http.ingress_http."
    p.wait_for_stats({"http1.response_flood": 1, h + "downstream_rq_total": 3, h + "downstream_rq_completed": 2,
                      h + "downstream_rq_2xx": 2, h + "downstream_cx_protocol_error": 0,
                      h + "downstream_rq_rx_reset": 1, h + "downstream_cx_destroy_local": 1,
                      h + "downstream_cx_destroy_local_active_rq": 1, h + "downstream_rq_active": 0})


def test_pipelined_proxied_requests_do_not_flood(proxy, http_upstreams, admin_port):
    port = free_port()
    p = proxy(config(admin_port, port, http_upstreams()))
    with support.connect("127.0.0.1", port) as s:
        s.sendall(b"".join(REQUEST % b"up" for _ in range(5)))
        got = b""
        s.settimeout(5)
        while got.count(b"HTTP/1.1 200 OK") < 5 or not got.endswith(b"hello from up"):
            data = s.recv(65536)
            assert data, got
            got += data
    p.wait_for_stats({"http1.response_flood": 0, "http.ingress_http.downstream_rq_completed": 5})


def test_response_before_request_complete(proxy, http_upstreams, admin_port):
    port = free_port()
    p = proxy(config(admin_port, port, http_upstreams()))
    with support.connect("127.0.0.1", port) as s:
        # The route answers before the body is in.
        s.sendall(b"POST /direct HTTP/1.1\r\nhost: example.com\r\ncontent-length: 100\r\n\r\nabc")
        assert read_until_closed(s).startswith(b"HTTP/1.1 200 OK")
    with support.connect("127.0.0.1", port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nhost: example.com\r\nbad header\r\n\r\n")
        assert read_until_closed(s).startswith(b"HTTP/1.1 400 Bad Request")
    with support.connect("127.0.0.1", port) as s:
        s.sendall(REQUEST % b"direct")
        s.settimeout(5)
        assert s.recv(65536).startswith(b"HTTP/1.1 200 OK")
    # Each of the two ended before its request: the stream is reset (Envoy's
    # doEndStream), which it counts as a reset from the client.
    p.wait_for_stats({"http.ingress_http.downstream_rq_response_before_rq_complete": 2,
                      "http.ingress_http.downstream_rq_total": 3, "http.ingress_http.downstream_rq_completed": 3,
                      "http.ingress_http.downstream_rq_rx_reset": 2})


def test_a_request_the_client_gave_up_on_is_not_completed(proxy, http_upstreams, admin_port):
    """`downstream_rq_completed` counts responses sent (Envoy's
    `chargeStats`), not streams that ended."""
    port = free_port()
    p = proxy(config(admin_port, port, http_upstreams(Reply(200, body=b"late", delay=1.0))))
    with support.connect("127.0.0.1", port) as s:
        s.sendall(REQUEST % b"slow")
        p.wait_for_stats({"cluster.backend.upstream_rq_active": 1})
    p.wait_for_stats({"http.ingress_http.downstream_rq_total": 1, "http.ingress_http.downstream_rq_rx_reset": 1,
                      "http.ingress_http.downstream_rq_active": 0, "http.ingress_http.downstream_rq_completed": 0,
                      f"listener.{support.stat_addr('127.0.0.1', port)}.http.ingress_http.downstream_rq_completed": 0})


def test_pipelining_client_that_never_reads_is_a_response_flood(proxy, http_upstreams, admin_port):
    port = free_port()
    p = proxy(config(admin_port, port, http_upstreams(Reply(200, body=b"b" * 65536))))
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(("127.0.0.1", port))
    try:
        c.settimeout(0.5)
        try:
            for _ in range(256):
                c.sendall(REQUEST % b"big")
        except (socket.timeout, OSError):
            pass  # the proxy stopped reading
        p.wait_for_stats({"http1.response_flood": 1, "http.ingress_http.downstream_cx_active": 0,
                          "http.ingress_http.downstream_cx_protocol_error": 0}, timeout=15)
    finally:
        c.close()
