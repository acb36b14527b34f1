"""Admin /stats counters must match the traffic the test generated."""

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
    p.wait_for_stats(zero, timeout=2)

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
