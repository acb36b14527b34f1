"""Unix domain sockets: a listener bound to a path and a cluster whose
endpoint is a path (``address: pipe: {path: ...}``)."""

import os
import stat

import support
from support import (bootstrap, cluster, connect, connect_unix, free_port, listener,
                     pipe_address, recv_exact, filter_chain, simple_config, wait_closed)


def test_unix_listener_proxies_to_tcp_upstream(proxy, upstreams, admin_port, short_tmp):
    up = upstreams()
    path = str(short_tmp / "listen.sock")
    cfg = bootstrap(admin_port,
                    [listener("uds", pipe_address(path), [filter_chain("tcp_up", "uds")])],
                    [cluster("tcp_up", [up.address])])
    p = proxy(cfg)
    assert stat.S_ISSOCK(os.stat(path).st_mode)

    for i in range(3):
        with connect_unix(path) as c:
            msg = f"over a unix socket {i}".encode() * 50
            c.sendall(msg)
            assert recv_exact(c, len(msg)) == msg
    assert up.accepted == 3
    # Envoy names a pipe listener's stats after the raw path:
    # "listener./tmp/.../listen.sock.downstream_cx_total".
    p.wait_for_stats({"cluster.tcp_up.upstream_cx_total": 3, "tcp.uds.downstream_cx_total": 3,
                      f"listener.{path}.downstream_cx_total": 3})


def test_unix_socket_cluster_endpoint(proxy, upstreams, admin_port, short_tmp):
    path = str(short_tmp / "upstream.sock")
    up = upstreams(unix_path=path)
    port = free_port()
    p = proxy(simple_config(admin_port, port, [up.address], cluster_name="uds_up"))

    for i in range(3):
        with connect("127.0.0.1", port) as c:
            msg = f"to a unix upstream {i}".encode() * 50
            c.sendall(msg)
            assert recv_exact(c, len(msg)) == msg
    assert up.accepted == 3
    p.wait_for_stats({"cluster.uds_up.upstream_cx_total": 3})


def test_unix_listener_half_close(proxy, upstreams, admin_port, short_tmp):
    """Half-close also passes through a Unix-socket listener."""
    import socket

    def handler(conn, server):
        data = support.read_all(conn)
        conn.sendall(b"got %d" % data)

    up = upstreams(handler)
    path = str(short_tmp / "hc.sock")
    cfg = bootstrap(admin_port,
                    [listener("uds", pipe_address(path), [filter_chain("tcp_up", "uds")])],
                    [cluster("tcp_up", [up.address])])
    proxy(cfg)
    with connect_unix(path) as c:
        c.sendall(b"x" * 1000)
        c.shutdown(socket.SHUT_WR)
        assert recv_exact(c, 8) == b"got 1000"
        wait_closed(c, timeout=5)
