"""Load balancing, filter-chain selection, STRICT_DNS and IPv6."""

import collections
import socket

import pytest

import support
from support import (bootstrap, cluster, connect, filter_chain, free_port, ident_echo_handler,
                     listener, recv_exact, recv_line, simple_config, socket_address, tcp_listener,
                     wait_closed)


@pytest.mark.parametrize("lb_policy", [None, "ROUND_ROBIN"], ids=["default_lb", "explicit_rr"])
def test_round_robin_across_three_endpoints(proxy, upstreams, admin_port, lb_policy):
    ups = [upstreams(ident_echo_handler(f"endpoint-{i}".encode())) for i in range(3)]
    port = free_port()
    cfg = bootstrap(admin_port, [tcp_listener("main", port, "rr", "rr")],
                    [cluster("rr", [u.address for u in ups], lb_policy=lb_policy)])
    proxy(cfg, concurrency=1)

    seen = []
    for _ in range(9):
        with connect("127.0.0.1", port) as c:
            seen.append(recv_line(c).decode())
            c.sendall(b"ok")
            assert recv_exact(c, 2) == b"ok"
    counts = collections.Counter(seen)
    assert counts == {"endpoint-0": 3, "endpoint-1": 3, "endpoint-2": 3}, seen
    # Strict rotation: the first three are distinct and the cycle repeats.
    assert len(set(seen[:3])) == 3 and seen == seen[:3] * 3, seen
    assert [u.accepted for u in ups] == [3, 3, 3]


def test_destination_port_chain_preferred_over_catch_all(proxy, upstreams, admin_port):
    a = upstreams(ident_echo_handler(b"A"))
    b = upstreams(ident_echo_handler(b"B"))
    port = free_port()
    cfg = bootstrap(admin_port, [
        listener("main", socket_address("127.0.0.1", port), [
            filter_chain("b", "catch_all"),  # listed first, but has no match
            filter_chain("a", "by_port", destination_port=port),
        ]),
    ], [cluster("a", [a.address]), cluster("b", [b.address])])
    p = proxy(cfg)

    for _ in range(3):
        with connect("127.0.0.1", port) as c:
            assert recv_line(c) == b"A"
    assert a.accepted == 3 and b.accepted == 0
    p.wait_for_stats({"tcp.by_port.downstream_cx_total": 3,
                      "tcp.catch_all.downstream_cx_total": 0}, missing_as_zero=True)


def test_no_matching_filter_chain_closes_without_reaching_upstream(proxy, upstreams, admin_port):
    up = upstreams()
    port = free_port()
    other = port + 1 if port < 65535 else port - 1
    cfg = bootstrap(admin_port, [
        listener("main", socket_address("127.0.0.1", port),
                 [filter_chain("up", "other_port", destination_port=other)]),
    ], [cluster("up", [up.address])])
    p = proxy(cfg)

    for _ in range(2):
        c = connect("127.0.0.1", port)
        try:
            c.sendall(b"hello?")
        except OSError:
            pass  # already reset: fine
        elapsed, data = wait_closed(c, timeout=3)
        c.close()
        assert data == b""
        assert elapsed < 2.0
    p.wait_for_stats({"cluster.up.upstream_cx_total": 0,
                      "tcp.other_port.downstream_cx_total": 0}, missing_as_zero=True)
    assert up.accepted == 0


def test_strict_dns_localhost_v4_only(proxy, upstreams, admin_port):
    up = upstreams(host="127.0.0.1")
    port = free_port()
    cfg = bootstrap(admin_port, [tcp_listener("main", port, "dns", "dns")],
                    [cluster("dns", [socket_address("localhost", up.port)], type_="STRICT_DNS",
                             dns_lookup_family="V4_ONLY")])
    p = proxy(cfg)
    for i in range(2):
        with connect("127.0.0.1", port) as c:
            msg = f"resolved {i}".encode()
            c.sendall(msg)
            assert recv_exact(c, len(msg)) == msg
    assert up.accepted == 2
    p.wait_for_stats({"cluster.dns.upstream_cx_total": 2})


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_available(), reason="no ::1 on this machine")
def test_ipv6_listener_to_ipv6_upstream(proxy, upstreams, admin_port):
    peers = []

    def handler(conn, server):
        peers.append(conn.getpeername()[0])
        support.echo_handler(conn, server)

    up = upstreams(handler, host="::1")
    port = free_port("::1")
    p = proxy(simple_config(admin_port, port, [up.address], listen_host="::1",
                            cluster_name="v6"))
    with connect("::1", port) as c:
        assert c.family == socket.AF_INET6
        msg = b"over ipv6 " * 100
        c.sendall(msg)
        assert recv_exact(c, len(msg)) == msg
    assert peers == ["::1"]
    # Envoy names an IPv6 listener's stats "[__1]_<port>".
    p.wait_for_stats({f"listener.{support.stat_addr('::1', port)}.downstream_cx_total": 1,
                      "cluster.v6.upstream_cx_total": 1})


def test_least_request_avoids_the_host_with_requests_in_flight(proxy, http_upstreams, admin_port):
    """LEAST_REQUEST (`least_request_lb_config.choice_count: 20`): once a
    request hangs on host A, new requests go to B, the host with fewer
    active requests (all twenty draws landing on A is a one-in-a-million
    event); a config error names a choice_count below 2."""
    import threading
    import urllib.request
    from http_support import Reply, http_config, http_cluster, route
    release = threading.Event()

    def hold(req):
        release.wait(15)
        return Reply(200, [("x-upstream", "A")], b"held")
    a = http_upstreams(hold, name="A")
    b = http_upstreams(name="B")
    port = free_port()
    cl = http_cluster("lr", [a.address, b.address], lb_policy="LEAST_REQUEST")
    cl["least_request_lb_config"] = {"choice_count": 20}
    p = proxy(http_config(admin_port, port, [route({"prefix": "/"}, "lr")], [cl]))

    def get():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20) as r:
            return r.headers["x-upstream"]
    held = []
    try:
        for _ in range(50):
            t = threading.Thread(target=lambda: held.append(get()), daemon=True)
            t.start()
            t.join(0.3)
            if a.requests:
                break
        assert a.requests, "no request reached A"
        seen = collections.Counter(get() for _ in range(30))
        assert seen == {"B": 30}, seen
    finally:
        release.set()
    p.wait_for_stats({"cluster.lr.upstream_rq_active": 0}, timeout=20)


def test_least_request_choice_count_below_two_is_refused(admin_port, tmp_path):
    cl = cluster("lr", [socket_address("127.0.0.1", 1)], lb_policy="LEAST_REQUEST")
    cl["least_request_lb_config"] = {"choice_count": 1}
    path = tmp_path / "bad.yaml"
    path.write_text(support.to_yaml(bootstrap(admin_port, [tcp_listener("main", free_port(), "lr", "lr")], [cl])))
    result = support.run_validate(path)
    out = (result.stdout + result.stderr).decode()
    assert result.returncode != 0 and "choice_count" in out, out


def test_static_endpoint_weights_and_health(proxy, upstreams, admin_port):
    """A STATIC cluster's `load_balancing_weight`s share connections 3:1 and
    its UNHEALTHY endpoint gets none, as EDS hosts do."""
    ups = [upstreams(ident_echo_handler(f"endpoint-{i}".encode())) for i in range(3)]
    port = free_port()
    cl = cluster("w", [u.address for u in ups])
    lbs = cl["load_assignment"]["endpoints"][0]["lb_endpoints"]
    lbs[0]["load_balancing_weight"] = 3
    lbs[1]["load_balancing_weight"] = 1
    lbs[2]["health_status"] = "UNHEALTHY"
    proxy(bootstrap(admin_port, [tcp_listener("main", port, "w", "w")], [cl]), concurrency=1)
    seen = []
    for _ in range(40):
        with connect("127.0.0.1", port) as c:
            seen.append(recv_line(c).decode())
    counts = collections.Counter(seen)
    assert counts == {"endpoint-0": 30, "endpoint-1": 10}, counts


@pytest.mark.parametrize("threshold", [None, 0.0, 20.0], ids=["default-50", "zero", "twenty"])
def test_healthy_panic_threshold(proxy, upstreams, admin_port, threshold):
    """One healthy host of three (33 %): below the default 50 % the cluster
    is in panic and balances over all three (`lb_healthy_panic` counts);
    `common_lb_config.healthy_panic_threshold` 0 (panic off) or 20 % keeps
    every connection on the healthy host."""
    ups = [upstreams(ident_echo_handler(f"endpoint-{i}".encode())) for i in range(3)]
    port = free_port()
    cl = cluster("p", [u.address for u in ups])
    for lb in cl["load_assignment"]["endpoints"][0]["lb_endpoints"][1:]:
        lb["health_status"] = "UNHEALTHY"
    if threshold is not None:
        cl["common_lb_config"] = {"healthy_panic_threshold": {"value": threshold}}
    p = proxy(bootstrap(admin_port, [tcp_listener("main", port, "p", "p")], [cl]), concurrency=1)
    seen = []
    for _ in range(30):
        with connect("127.0.0.1", port) as c:
            seen.append(recv_line(c).decode())
    counts = collections.Counter(seen)
    if threshold is None:
        assert counts == {"endpoint-0": 10, "endpoint-1": 10, "endpoint-2": 10}, counts
        p.wait_for_stats({"cluster.p.lb_healthy_panic": 30})
    else:
        assert counts == {"endpoint-0": 30}, counts
        p.wait_for_stats({"cluster.p.lb_healthy_panic": 0}, missing_as_zero=True)


def test_upstream_tcp_keepalive(proxy, upstreams, admin_port):
    """`upstream_connection_options.tcp_keepalive` (Istio's xds-grpc cluster
    sets `keepalive_time: 300`): the proxy's upstream socket has SO_KEEPALIVE
    with that idle time, as `ss` shows its keepalive timer."""
    import re
    import subprocess
    up = upstreams(ident_echo_handler(b"ka"))
    port = free_port()
    cl = cluster("ka", [up.address])
    cl["upstream_connection_options"] = {"tcp_keepalive": {"keepalive_time": 300, "keepalive_interval": 7,
                                                           "keepalive_probes": 3}}
    proxy(bootstrap(admin_port, [tcp_listener("main", port, "ka", "ka")], [cl]))
    with connect("127.0.0.1", port) as c:
        assert recv_line(c) == b"ka"
        out = subprocess.run(["ss", "-tnoH", "state", "established", "dst", f"127.0.0.1:{up.port}"],
                             capture_output=True, text=True, check=True).stdout
    timer = re.search(r"timer:\(keepalive,(?:(\d+)min)?(?:(\d+)sec)?(?:(\d+)ms)?", out)
    assert timer, out
    minutes, secs, millis = (int(g or 0) for g in timer.groups())
    assert 290 <= minutes * 60 + secs + millis / 1000 <= 300, out
