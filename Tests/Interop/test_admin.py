"""Admin endpoints and process lifecycle that Envoy and Remora share."""

import json

import support
from urllib.parse import quote

import pytest

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
    # The node as local info has it: id and cluster (empty here), the user agent and its build version.
    node = info["node"]
    assert (node["id"], node["cluster"]) == ("", "")
    assert node["user_agent_name"] == ("envoy" if support.IS_ENVOY else "remora")
    assert set(node["user_agent_build_version"]["version"]) == {"major_number", "minor_number", "patch"}

    stats = p.stats()
    assert stats.get("server.live") == 1
    # Envoy encodes server.state as an enum: 0 = LIVE (1 DRAINING,
    # 2 PRE_INITIALIZING, 3 INITIALIZING).
    assert stats.get("server.state") == 0
    # The allocator's figures (Envoy: tcmalloc's; Remora: glibc malloc's).
    assert 0 < stats["server.memory_allocated"] <= stats["server.memory_heap_size"], stats
    status, body = p.admin("GET", "/stats?type=Histograms&filter=initialization_time_ms")
    assert status == 200 and b"server.initialization_time_ms" in body


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


def _raw_admin(port: int, request: bytes) -> tuple[bytes, bool]:
    """Sends raw bytes to the admin port; returns what came back before the
    server closed, and whether it did close (within 5 s)."""
    c = connect("127.0.0.1", port)
    try:
        c.sendall(request)
        data = b""
        closed = False
        c.settimeout(5.0)
        while True:
            try:
                chunk = c.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            data += chunk
        return data, closed
    finally:
        c.close()


@pytest.mark.parametrize("request_bytes", [
    # whitespace before the colon: a smuggling vector every HTTP/1 codec must refuse
    b"GET /ready HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n",
    # Content-Length together with Transfer-Encoding
    b"POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    # no Host on HTTP/1.1
    b"GET /ready HTTP/1.1\r\n\r\n",
    # not HTTP at all
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
], ids=["ws-before-colon", "cl-and-te", "missing-host", "garbage"])
def test_malformed_admin_request_gets_400_and_close(proxy, upstreams, admin_port, request_bytes):
    up = upstreams()
    p = proxy(simple_config(admin_port, free_port(), [up.address]))
    data, closed = _raw_admin(admin_port, request_bytes)
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert closed
    # The admin server is still there for well-formed requests.
    assert p.admin("GET", "/ready") == (200, b"LIVE\n")


def _stat_names(body: bytes) -> set[str]:
    return {line.partition(":")[0] for line in body.decode().splitlines() if line}


def test_stats_filter_is_an_re2_partial_match(proxy, upstreams, admin_port):
    up = upstreams()
    p = proxy(simple_config(admin_port, free_port(), [up.address]))

    status, body = p.admin("GET", "/stats?filter=" + quote(r"^server\.(live|state)$"))
    assert status == 200
    assert _stat_names(body) == {"server.live", "server.state"}

    # Partial match: the regex may match anywhere in the name.
    status, body = p.admin("GET", "/stats?filter=" + quote(r"\.live"))
    assert status == 200
    assert "server.live" in _stat_names(body)
    assert all(".live" in name for name in _stat_names(body))


@pytest.mark.parametrize("pattern", [
    "(?=server)",       # lookahead: backtracking engines have it, RE2 does not
    r"(server)\1",      # backreference, likewise
    "server(",          # unbalanced
])
def test_stats_filter_that_re2_refuses_is_400(proxy, upstreams, admin_port, pattern):
    up = upstreams()
    p = proxy(simple_config(admin_port, free_port(), [up.address]))
    status, _ = p.admin("GET", "/stats?filter=" + quote(pattern))
    assert status == 400
    status, _ = p.admin("GET", "/stats/prometheus?filter=" + quote(pattern))
    assert status == 400
