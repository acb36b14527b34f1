"""Admin /stats counters must match the traffic the test generated."""

import socket
import struct

import support
from support import connect, free_port, recv_exact, simple_config


def sized_reply_handler(conn, server):
    """Protocol: 4-byte big-endian length k, then k bytes; the server answers
    with 2k+7 bytes and waits for the client to close.  The asymmetric sizes
    tell rx from tx counters."""
    (k,) = struct.unpack("!I", recv_exact(conn, 4))
    recv_exact(conn, k)
    conn.sendall(b"r" * (2 * k + 7))
    conn.recv(1)


def test_counters_match_connections_and_bytes(proxy, upstreams, admin_port):
    up = upstreams(sized_reply_handler)
    port = free_port()
    p = proxy(simple_config(admin_port, port, [up.address], cluster_name="backend",
                            stat_prefix="ingress"))
    listener_prefix = f"listener.{support.stat_addr('127.0.0.1', port)}"

    zero = {
        f"{listener_prefix}.downstream_cx_total": 0,
        "cluster.backend.upstream_cx_total": 0,
        "cluster.backend.upstream_cx_active": 0,
        "cluster.backend.upstream_cx_connect_fail": 0,
        "tcp.ingress.downstream_cx_total": 0,
    }
    p.wait_for_stats(zero)

    N = 5
    sent = received = 0
    for i in range(N):
        k = 1000 * (i + 1) + i
        c = connect("127.0.0.1", port)
        request = struct.pack("!I", k) + bytes([i]) * k
        c.sendall(request)
        reply = recv_exact(c, 2 * k + 7)
        sent += len(request)
        received += len(reply)
        if i == 0:
            # While the connection is open it is active on both sides.
            p.wait_for_stats({"cluster.backend.upstream_cx_active": 1,
                              f"{listener_prefix}.downstream_cx_active": 1})
        c.close()

    p.wait_for_stats({
        f"{listener_prefix}.downstream_cx_total": N,
        f"{listener_prefix}.downstream_cx_active": 0,
        "cluster.backend.upstream_cx_total": N,
        "cluster.backend.upstream_cx_active": 0,
        "cluster.backend.upstream_cx_connect_fail": 0,
        "cluster.backend.upstream_cx_tx_bytes_total": sent,
        "cluster.backend.upstream_cx_rx_bytes_total": received,
        "tcp.ingress.downstream_cx_total": N,
        "tcp.ingress.downstream_cx_rx_bytes_total": sent,
        "tcp.ingress.downstream_cx_tx_bytes_total": received,
        "server.live": 1,
    }, timeout=10)
    assert up.accepted == N


def test_per_worker_listener_stats(proxy, upstreams, admin_port):
    """`listener.<addr>.worker_<n>.downstream_cx_{total,active}` for every
    worker, as Envoy emits them."""
    port = free_port()
    p = proxy(simple_config(admin_port, port, [upstreams().address]), concurrency=2)
    with connect("127.0.0.1", port) as c:
        c.sendall(b"x")
        assert recv_exact(c, 1) == b"x"
    prefix = f"listener.127.0.0.1_{port}"
    p.wait_for_stats({f"{prefix}.downstream_cx_total": 1})
    stats = p.stats()
    totals = [stats.get(f"{prefix}.worker_{i}.downstream_cx_total") for i in range(2)]
    assert None not in totals and sum(totals) == 1, stats
    assert f"{prefix}.worker_0.downstream_cx_active" in stats and f"{prefix}.worker_1.downstream_cx_active" in stats


def _greet_and_close(conn, server) -> None:
    conn.sendall(b"hello")


def test_tcp_proxy_request_stats_and_who_closed(proxy, upstreams, admin_port):
    """tcp_proxy counts each session as a pending request, then a request,
    as Envoy's TCP pool does. Envoy's close events decide
    `upstream_cx_destroy_remote` vs `_local`: an upstream FIN that comes
    first is a half-close and the later close is local; an upstream FIN
    after the proxy passed on the client's is the upstream closing (remote);
    an idle timeout is local."""
    closer, echo = upstreams(_greet_and_close), upstreams()
    ports = [free_port() for _ in range(3)]
    cfg = simple_config(admin_port, ports[0], [closer.address], cluster_name="closer")
    listeners, clusters = cfg["static_resources"]["listeners"], cfg["static_resources"]["clusters"]
    listeners.append(support.tcp_listener("halfclose", ports[1], "halfclose", "halfclose"))
    listeners.append(support.tcp_listener("idle", ports[2], "idle", "idle", idle_timeout="0.3s"))
    clusters += [support.cluster("halfclose", [echo.address]), support.cluster("idle", [echo.address])]
    p = proxy(cfg)
    with connect("127.0.0.1", ports[0]) as c:
        assert recv_exact(c, 5) == b"hello"
        support.wait_closed(c, 5)
    with connect("127.0.0.1", ports[1]) as c:
        c.sendall(b"x")
        assert recv_exact(c, 1) == b"x"
        c.shutdown(socket.SHUT_WR)
        support.wait_closed(c, 5)
    with connect("127.0.0.1", ports[2]) as c:
        c.sendall(b"y")
        assert recv_exact(c, 1) == b"y"
        support.wait_closed(c, 5)
    p.wait_for_stats({
        "cluster.closer.upstream_rq_pending_total": 1, "cluster.closer.upstream_rq_total": 1,
        "cluster.closer.upstream_rq_active": 0,
        "cluster.closer.upstream_cx_destroy_local": 1, "cluster.closer.upstream_cx_destroy_remote": 0,
        "cluster.halfclose.upstream_cx_destroy_local": 0, "cluster.halfclose.upstream_cx_destroy_remote": 1,
        "cluster.idle.upstream_rq_total": 1,
        "cluster.idle.upstream_cx_destroy_local": 1, "cluster.idle.upstream_cx_destroy_remote": 0,
        # The session holds the connection's one request until it closes (Envoy's TCP pool).
        "cluster.closer.upstream_cx_destroy_local_with_active_rq": 1,
        "cluster.halfclose.upstream_cx_destroy_remote_with_active_rq": 1,
        "cluster.idle.upstream_cx_destroy_local_with_active_rq": 1,
        "cluster.idle.upstream_cx_destroy_with_active_rq": 1,
    }, timeout=10)


def test_http_upstream_byte_counts(proxy, http_upstreams, admin_port):
    import http_support as H
    up = http_upstreams()
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    r = H.get(port, "/bytes", method="POST", body=b"z" * 1000)
    assert r.status == 200
    stats = p.stats()
    assert stats["cluster.backend.upstream_cx_tx_bytes_total"] > 1000, stats
    assert stats["cluster.backend.upstream_cx_rx_bytes_total"] > len(r.body), stats


def test_response_class_counters_appear_on_first_use(proxy, http_upstreams, admin_port):
    """`cluster.<c>.upstream_rq_<N>xx` (like `upstream_rq_<code>`) exist only
    once a response of that class came, as Envoy creates them."""
    import http_support as H
    up = http_upstreams()
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    assert not any(name.startswith("cluster.backend.upstream_rq_2xx") for name in p.stats())
    assert H.get(port, "/one").status == 200
    p.wait_for_stats({"cluster.backend.upstream_rq_2xx": 1, "cluster.backend.upstream_rq_200": 1})
    stats = p.stats()
    for cls in ("1xx", "3xx", "4xx", "5xx"):
        assert f"cluster.backend.upstream_rq_{cls}" not in stats, cls


def test_upstream_rq_time_appears_on_first_use(proxy, http_upstreams, admin_port):
    """`cluster.<c>.upstream_rq_time` is made by the first response the
    router charges (Envoy's `CodeStats`); the cluster's own histograms and
    the connection manager's are there from the start."""
    import http_support as H
    up = http_upstreams()
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))

    def histograms():
        status, body = p.admin("GET", "/stats?type=Histograms")
        assert status == 200
        return {line.partition(":")[0] for line in body.decode().splitlines()}

    before = histograms()
    assert "cluster.backend.upstream_rq_time" not in before
    assert {"cluster.backend.upstream_cx_connect_ms", "cluster.backend.upstream_cx_length_ms",
            "http.ingress_http.downstream_rq_time"} <= before
    assert H.get(port, "/one").status == 200
    assert "cluster.backend.upstream_rq_time" in histograms()


def test_who_closed_the_http_connection_and_with_requests_active(proxy, http_upstreams, admin_port):
    """`http.<p>.downstream_cx_destroy_{local,remote}` tell who closed, and
    `downstream_cx_destroy{,_local,_remote}_active_rq` count connections that
    went with a request in flight, as Envoy's connection manager counts them."""
    import http_support as H

    # The client must close while /slow waits on the upstream, before either
    # the upstream (10 s) or the stream idle timeout (2 s) answers it: with
    # 1 s and 0.3 s a stats poll on a loaded machine could take that long.
    up = http_upstreams(lambda req: H.Reply(200, body=b"late" if req.target == "/slow" else b"ok",
                                            delay=10 if req.target == "/slow" else 0.0))
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up, stream_idle_timeout="2s"))
    prefix = "http.ingress_http."
    # The client closes an idle keep-alive connection: remote.
    with H.HttpClient(port) as c:
        assert c.request("GET", "/").status == 200
    p.wait_for_stats({prefix + "downstream_cx_destroy_remote": 1, prefix + "downstream_cx_destroy": 1})
    # The client asks for close: the proxy closes after the response: local.
    with H.HttpClient(port) as c:
        assert c.request("GET", "/", headers=[("connection", "close")]).status == 200
    p.wait_for_stats({prefix + "downstream_cx_destroy_local": 1, prefix + "downstream_cx_destroy": 2})
    # The client goes while its request waits on the upstream: remote, with a request active.
    c = H.HttpClient(port)
    c.send(H.build_request("GET", "/slow"))
    p.wait_for_stats({"cluster.backend.upstream_rq_active": 1})
    c.close()
    p.wait_for_stats({prefix + "downstream_cx_destroy_remote": 2, prefix + "downstream_cx_destroy_active_rq": 1,
                      prefix + "downstream_cx_destroy_remote_active_rq": 1})
    # A request whose head never ends times out: the proxy answers 408 and
    # closes after a delay, in which the client, having read it, closes: remote.
    c = H.HttpClient(port)
    c.send(b"GET / HTTP/1.1\r\nhost: x\r\n")
    assert c.read_response().status == 408
    c.close()
    p.wait_for_stats({prefix + "downstream_cx_destroy_remote": 3, prefix + "downstream_cx_destroy": 4})
    stats = p.stats()
    assert stats[prefix + "downstream_cx_destroy_local"] == 1, stats
    assert stats[prefix + "downstream_cx_destroy_local_active_rq"] == 0, stats
    assert stats[prefix + "downstream_cx_destroy_active_rq"] == 1, stats
    assert stats[prefix + "downstream_cx_ssl_total"] == 0, stats


def test_per_listener_http_response_stats(proxy, http_upstreams, admin_port):
    """`listener.<address>.http.<stat_prefix>.downstream_rq_<class>` and
    `downstream_rq_completed`: the connection manager's response counters
    per listener, there from the start, as Envoy keeps them."""
    import http_support as H
    up = http_upstreams(lambda req: H.Reply(404 if req.target == "/missing" else 200, body=b"x"))
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    prefix = f"listener.{support.stat_addr('127.0.0.1', port)}.http.ingress_http."
    p.wait_for_stats({prefix + "downstream_rq_2xx": 0, prefix + "downstream_rq_5xx": 0,
                      prefix + "downstream_rq_completed": 0})
    assert H.get(port, "/").status == 200
    assert H.get(port, "/missing").status == 404
    p.wait_for_stats({prefix + "downstream_rq_2xx": 1, prefix + "downstream_rq_4xx": 1,
                      prefix + "downstream_rq_completed": 2, "http.ingress_http.downstream_rq_completed": 2})


def test_circuit_breaker_gauges(proxy, http_upstreams, admin_port):
    """`circuit_breakers.default.{cx,rq,rq_pending}_open` go to 1 while a
    limit is reached and back to 0, and `track_remaining` publishes
    `remaining_*`, as Envoy's resource manager sets them."""
    import threading
    import http_support as H
    release = threading.Event()

    def respond(req):
        release.wait(30)  # each answer waits until the limits have been seen
        return H.Reply(200, body=b"slow")

    up = http_upstreams(respond)
    port = free_port()
    breakers = {"thresholds": [{"max_connections": 1, "max_pending_requests": 1, "max_requests": 1,
                                "track_remaining": True}]}
    p = proxy(H.simple_http_config(admin_port, port, up, cluster_extra={"circuit_breakers": breakers}))
    cb = "cluster.backend.circuit_breakers."
    p.wait_for_stats({cb + "default.cx_open": 0, cb + "default.rq_open": 0, cb + "default.rq_pending_open": 0,
                      cb + "default.rq_retry_open": 0, cb + "default.cx_pool_open": 0, cb + "high.cx_open": 0,
                      cb + "default.remaining_cx": 1, cb + "default.remaining_rq": 1,
                      cb + "default.remaining_pending": 1, cb + "default.remaining_retries": 3})
    assert not any(name.startswith(cb + "high.remaining") for name in p.stats())
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(H.get(port, "/", timeout=40).status)) for _ in range(2)]
    try:
        threads[0].start()
        p.wait_for_stats({"cluster.backend.upstream_rq_active": 1})
        threads[1].start()
        p.wait_for_stats({"cluster.backend.upstream_rq_pending_active": 1})
        p.wait_for_stats({cb + "default.cx_open": 1, cb + "default.rq_open": 1, cb + "default.rq_pending_open": 1,
                          cb + "default.remaining_cx": 0, cb + "default.remaining_rq": 0,
                          cb + "default.remaining_pending": 0})
        assert H.get(port, "/").status == 503  # the pending queue is full
    finally:
        release.set()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200, 200]
    p.wait_for_stats({cb + "default.rq_open": 0, cb + "default.rq_pending_open": 0,
                      cb + "default.remaining_rq": 1, cb + "default.remaining_pending": 1,
                      "cluster.backend.upstream_rq_pending_overflow": 1})


def test_who_closed_the_upstream_connection_and_with_requests_active(proxy, http_upstreams, admin_port):
    """`cluster.<c>.upstream_cx_destroy_{local,remote}` and
    `upstream_cx_destroy{,_local,_remote}_with_active_rq`, as Envoy's pools
    count them: a request given up (the client went) closes its connection
    locally with the request active; an upstream that hangs up under a
    request closes it remotely; one that closes an idle connection too,
    with none active."""
    import http_support as H

    def respond(req):
        if req.target == "/slow":
            return H.Reply(200, body=b"late", delay=1.0)
        if req.target == "/hangup":
            return H.Reply(action="close")
        return H.Reply(200, body=b"ok")

    up = http_upstreams(respond, conn_timeout=0.5)
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    c = "cluster.backend."
    # The client goes while its request waits on the upstream: the proxy closes that connection.
    client = H.HttpClient(port)
    client.send(H.build_request("GET", "/slow"))
    p.wait_for_stats({c + "upstream_rq_active": 1})
    client.close()
    p.wait_for_stats({c + "upstream_cx_destroy_local": 1, c + "upstream_cx_destroy_with_active_rq": 1,
                      c + "upstream_cx_destroy_local_with_active_rq": 1}, timeout=5)
    # The upstream hangs up under a request.
    with H.HttpClient(port) as client:
        assert client.request("GET", "/hangup").status == 503
    p.wait_for_stats({c + "upstream_cx_destroy_remote": 1, c + "upstream_cx_destroy_with_active_rq": 2,
                      c + "upstream_cx_destroy_remote_with_active_rq": 1}, timeout=5)
    # The upstream closes an idle keep-alive connection (its 0.5 s timeout).
    with H.HttpClient(port) as client:
        assert client.request("GET", "/").status == 200
    p.wait_for_stats({c + "upstream_cx_destroy_remote": 2, c + "upstream_cx_destroy": 3,
                      c + "upstream_cx_destroy_with_active_rq": 2}, timeout=5)
