"""Admin endpoints and process lifecycle that Envoy and Remora share."""

import json

from support import connect, free_port, recv_exact, simple_config


def test_ready_server_info_and_server_stats(proxy, upstreams, admin_port):
    up = upstreams()
    p = proxy(simple_config(admin_port, free_port(), [up.address]))

    status, body = p.admin("GET", "/ready")
    assert (status, body) == (200, b"LIVE\n")

    status, body = p.admin("GET", "/server_info")
    assert status == 200
    info = json.loads(body)
    assert info["state"] == "LIVE"

    stats = p.stats()
    assert stats.get("server.live") == 1
    # Envoy encodes server.state as an enum: 0 = LIVE (1 DRAINING,
    # 2 PRE_INITIALIZING, 3 INITIALIZING).
    assert stats.get("server.state") == 0


def test_post_quitquitquit_exits_zero(proxy, upstreams, admin_port):
    up = upstreams()
    port = free_port()
    p = proxy(simple_config(admin_port, port, [up.address]))
    c = connect("127.0.0.1", port)
    c.sendall(b"x")
    assert recv_exact(c, 1) == b"x"
    c.close()

    status, body = p.admin("POST", "/quitquitquit")
    assert status == 200
    assert p.wait_exit(timeout=10) == 0
