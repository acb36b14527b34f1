"""Upstream connect failures: the downstream is closed promptly and the
cluster counts every failed attempt."""

import pytest

from support import Blackhole, connect, free_port, simple_config, socket_address, wait_closed


@pytest.mark.parametrize("attempts", [1, 3])
def test_refused_upstream_closes_downstream_promptly_and_counts(proxy, admin_port, attempts):
    dead_port = free_port()  # nothing listens here: connect() is refused
    port = free_port()
    p = proxy(simple_config(admin_port, port, [socket_address("127.0.0.1", dead_port)],
                            cluster_name="dead", connect_timeout="1s",
                            max_connect_attempts=attempts))

    c = connect("127.0.0.1", port, timeout=5)
    elapsed, data = wait_closed(c, timeout=5)
    c.close()
    assert data == b""
    assert elapsed < 2.0, f"downstream closed only after {elapsed:.2f}s"
    # Envoy counts each attempt as an upstream connection that failed.
    p.wait_for_stats({
        "cluster.dead.upstream_cx_connect_fail": attempts,
        "cluster.dead.upstream_cx_total": attempts,
        "cluster.dead.upstream_cx_active": 0,
        "tcp.tp.downstream_cx_total": 1,
    })


def test_connect_timeout_closes_downstream_and_counts(proxy, admin_port):
    bh = Blackhole()
    try:
        if not bh.ok:
            pytest.skip("could not make a loopback port that drops SYNs on this kernel")
        port = free_port()
        p = proxy(simple_config(admin_port, port, [socket_address("127.0.0.1", bh.port)],
                                cluster_name="slow", connect_timeout="1s",
                                max_connect_attempts=1))
        c = connect("127.0.0.1", port, timeout=5)
        elapsed, data = wait_closed(c, timeout=5)
        c.close()
        assert data == b""
        assert 0.8 <= elapsed < 2.5, f"downstream closed after {elapsed:.2f}s (connect_timeout 1s)"
        # Envoy counts a timed-out connect both as a connect failure and as a
        # connect timeout.
        p.wait_for_stats({
            "cluster.slow.upstream_cx_connect_fail": 1,
            "cluster.slow.upstream_cx_connect_timeout": 1,
            "cluster.slow.upstream_cx_active": 0,
        })
    finally:
        bh.close()
