"""Local replies exactly as Envoy 1.40 makes them, and the HTTP stats.

ENVOY-SPECIFIC throughout: status line, body text, ``content-type`` and
header order of every local reply.  Two shapes exist:

* with a body: ``content-length``, ``content-type: text/plain``, ``date``,
  ``server`` (then ``connection: close`` when closing);
* without a body: ``date``, ``server`` (``connection: close``),
  ``content-length: 0``.

Local replies never carry ``x-envoy-upstream-service-time`` and leave the
client connection open unless noted.
"""

import time

import pytest

import http_support as H
from http_support import HttpClient, HttpUpstream, Reply, route
from support import Blackhole, ProxyProcess, free_port, socket_address

# Every test here pins Envoy's exact local replies (see the module docstring).
pytestmark = pytest.mark.envoy_specific

WITH_BODY = ["content-length", "content-type", "date", "server"]
NO_BODY = ["date", "server", "content-length"]
CONNECT_ERROR = "upstream connect error or disconnect/reset before headers. reset reason: "


def responder(req):
    if req.path.startswith("/slow"):
        return Reply(200, [], b"too late", delay=10.0)
    if req.path == "/reset":
        return Reply(action="reset")
    if req.path == "/close":
        return Reply(action="close")
    if req.path == "/partial":
        return Reply(action="raw", raw=b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                     close=True)
    if req.path == "/500":
        return Reply(500, [("content-type", "text/plain")], b"upstream 500")
    return Reply(200, [("content-type", "text/plain")], b"ok")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    up = HttpUpstream(responder, name="backend")
    dead_port = free_port()  # nothing listens: connect() is refused
    port = free_port()
    rc = H.route_config([
        H.vhost("main", ["*"], [
            route({"prefix": "/slow"}, "backend", route_extra={"timeout": "0.3s"}),
            route({"prefix": "/dead"}, "dead"),
            route({"prefix": "/empty"}, "empty"),
            route({"prefix": "/hdr-cluster"}, route_extra={"cluster_header": "x-cluster"}),
            route({"prefix": "/direct/teapot"},
                  direct_response={"status": 418, "body": {"inline_string": "I am a teapot"}}),
            route({"prefix": "/direct/empty"}, direct_response={"status": 200}),
            route({"prefix": "/direct/503"},
                  direct_response={"status": 503, "body": {"inline_string": "maintenance"}}),
            route({"prefix": "/"}, "backend"),
        ]),
        H.vhost("narrow", ["narrow.example"], [route({"path": "/only"}, "backend")]),
    ], validate_clusters=False)
    cfg = H.http_config(free_port(), port, rc, [
        H.http_cluster("backend", [up.address]),
        H.http_cluster("dead", [socket_address("127.0.0.1", dead_port)]),
        H.http_cluster("empty", []),
    ])
    p = ProxyProcess(tmp_path_factory.mktemp("http_local_replies"), "proxy")
    try:
        p.start(cfg)
        yield p, port, up
    finally:
        p.kill()
        up.stop()


@pytest.fixture
def env(shared, request):
    request.node._interop_proxies = [shared[0]]
    return shared


def one(port, target, host="example.com", method="GET"):
    """One request; returns (response, connection still open?)."""
    with HttpClient(port) as c:
        r = c.request(method, target, host=host)
        return r, c.is_open(0.15)


def assert_local(r, status, reason, body: bytes):
    assert (r.version, r.status, r.reason) == ("HTTP/1.1", status, reason), r.raw_head
    assert r.body == body
    if body:
        assert r.headers.lower_names() == WITH_BODY
        assert r.header("content-type") == "text/plain"
        assert r.header("content-length") == str(len(body))
    else:
        assert r.headers.lower_names() == NO_BODY
        assert r.header("content-length") == "0"
    assert r.header("server") == "envoy"


def test_no_route_404(env):
    p, port, up = env
    r, open_ = one(port, "/anything", host="narrow.example")
    assert_local(r, 404, "Not Found", b"")
    assert open_


def test_no_healthy_upstream_503(env):
    p, port, up = env
    r, open_ = one(port, "/empty")
    assert_local(r, 503, "Service Unavailable", b"no healthy upstream")
    assert open_


def test_upstream_connect_failure_503(env):
    """Refused connect: reset reason ``remote connection failure`` (no
    transport failure detail appended)."""
    p, port, up = env
    r, open_ = one(port, "/dead")
    assert_local(r, 503, "Service Unavailable",
                 (CONNECT_ERROR + "remote connection failure").encode())
    assert len(r.body) == 98
    assert open_


def test_upstream_connect_timeout_503(proxy, admin_port):
    """A connect that times out (``connect_timeout: 0.5s``): reset reason
    ``connection timeout``."""
    bh = Blackhole()
    try:
        if not bh.ok:
            pytest.skip("could not make a loopback port that drops SYNs")
        port = free_port()
        p = proxy(H.http_config(admin_port, port, [route({"prefix": "/"}, "slow")],
                                [H.http_cluster("slow", [socket_address("127.0.0.1", bh.port)],
                                                connect_timeout="0.5s")]))
        t0 = time.monotonic()
        r, open_ = one(port, "/")
        elapsed = time.monotonic() - t0
        assert_local(r, 503, "Service Unavailable", (CONNECT_ERROR + "connection timeout").encode())
        assert 0.4 <= elapsed <= 3.0   # connect_timeout 0.5 s, with room for a busy machine
        p.wait_for_stats({"cluster.slow.upstream_cx_connect_timeout": 1})
    finally:
        bh.close()


def test_upstream_timeout_504(env):
    p, port, up = env
    t0 = time.monotonic()
    r, open_ = one(port, "/slow")
    elapsed = time.monotonic() - t0
    assert_local(r, 504, "Gateway Timeout", b"upstream request timeout")
    assert 0.25 <= elapsed <= 2.5   # the route's 0.3 s, with room for a busy machine
    assert open_


@pytest.mark.parametrize("path", ["/reset", "/close"])
def test_upstream_reset_or_close_before_headers_503(env, path):
    """RST or FIN from the upstream before any response byte: reset reason
    ``connection termination`` in both cases."""
    p, port, up = env
    r, open_ = one(port, path)
    assert_local(r, 503, "Service Unavailable", (CONNECT_ERROR + "connection termination").encode())
    assert open_


def test_upstream_disconnect_mid_body(env):
    """ENVOY-SPECIFIC: headers (content-length 10) and 3 body bytes, then
    the upstream closes: the client gets the headers and the 3 bytes, then
    its connection is closed (after the 1 s delayed close) -- no local
    reply."""
    p, port, up = env
    with HttpClient(port) as c:
        c.send(H.build_request("GET", "/partial"))
        head = c.reader.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 10\r\n" in head
        elapsed, rest = c.wait_closed(3)
    assert rest == b"abc"


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"NOT HTTP AT ALL\r\n\r\n",
], ids=["duplicate_cl", "cl_and_te", "garbage"])
def test_upstream_protocol_error_502(proxy, http_upstreams, admin_port, raw):
    """An unparsable upstream response: ``502`` with reset reason ``protocol
    error``; the client connection stays open."""
    up = http_upstreams(lambda req: Reply(action="raw", raw=raw, close=True))
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    r, open_ = one(port, "/")
    assert_local(r, 502, "Bad Gateway", (CONNECT_ERROR + "protocol error").encode())
    assert open_
    p.wait_for_stats({"cluster.backend.upstream_cx_protocol_error": 1})


def test_cluster_not_found_503(env):
    """``cluster_header`` naming an unknown cluster (or missing): empty 503."""
    p, port, up = env
    with HttpClient(port) as c:
        r = c.request("GET", "/hdr-cluster", headers=[("x-cluster", "nope")])
        assert_local(r, 503, "Service Unavailable", b"")
        r = c.request("GET", "/hdr-cluster")
        assert_local(r, 503, "Service Unavailable", b"")
        r = c.request("GET", "/hdr-cluster", headers=[("x-cluster", "backend")])
        assert (r.status, r.body) == (200, b"ok")


def test_direct_responses(env):
    """ENVOY-SPECIFIC: a status Envoy has no reason phrase for is sent as
    ``418 Unknown``; a direct response without body is empty with
    ``content-length: 0``."""
    p, port, up = env
    r, _ = one(port, "/direct/teapot")
    assert_local(r, 418, "Unknown", b"I am a teapot")
    r, _ = one(port, "/direct/empty")
    assert_local(r, 200, "OK", b"")
    r, _ = one(port, "/direct/503")
    assert_local(r, 503, "Service Unavailable", b"maintenance")
    r, _ = one(port, "/direct/teapot", method="HEAD")
    assert r.status == 418 and r.header("content-length") == "13" and r.body == b""


def test_upstream_error_status_passed_through(env):
    """A real upstream 500 is not a local reply: upstream body and headers,
    plus ``x-envoy-upstream-service-time``."""
    p, port, up = env
    r, open_ = one(port, "/500")
    assert (r.status, r.body) == (500, b"upstream 500")
    assert r.headers.lower_names() == ["content-type", "content-length",
                                       "x-envoy-upstream-service-time", "date", "server"]
    assert open_


# -- stats ----------------------------------------------------------------------------


def test_http_and_cluster_stats(proxy, http_upstreams, admin_port):
    """Counters after a known mix: 3x200, 1x404 (no route), 1x500 from the
    upstream, 1x504 (route timeout), 1x503 after 2 retries of a 503.

    ENVOY-SPECIFIC: a route timeout counts ``upstream_rq_timeout`` and a
    ``upstream_rq_504`` on the cluster although the upstream never answered;
    each retry counts in ``upstream_rq_total`` and ``upstream_rq_retry``."""
    def resp(req):
        if req.path == "/500":
            return Reply(500, [], b"x")
        if req.path == "/503":
            return Reply(503, [], b"x")
        if req.path == "/slow":
            return Reply(200, [], b"x", delay=10)
        return Reply(200, [], b"x")

    up = http_upstreams(resp)
    port = free_port()
    cfg = H.http_config(admin_port, port, H.route_config([
        H.vhost("main", ["*"], [
            route({"path": "/slow"}, "backend", route_extra={"timeout": "0.2s"}),
            route({"path": "/503"}, "backend",
                  route_extra={"retry_policy": {"retry_on": "5xx", "num_retries": 2}}),
            route({"prefix": "/ok"}, "backend"),
            route({"path": "/500"}, "backend"),
        ])]), [H.http_cluster("backend", [up.address])], stat_prefix="ingress")
    p = proxy(cfg)
    with HttpClient(port) as c:
        for path in ["/ok/1", "/ok/2", "/ok/3", "/nothing", "/500", "/slow", "/503"]:
            c.request("GET", path)
    p.wait_for_stats({
        "http.ingress.downstream_rq_total": 7,
        "http.ingress.downstream_rq_2xx": 3,
        "http.ingress.downstream_rq_4xx": 1,
        "http.ingress.downstream_rq_5xx": 3,
        "http.ingress.downstream_rq_completed": 7,
        "http.ingress.downstream_cx_total": 1,
        "http.ingress.downstream_cx_http1_total": 1,
        "http.ingress.no_route": 1,
        "cluster.backend.upstream_rq_total": 8,   # 3 ok + 500 + slow + 3 attempts of /503
        "cluster.backend.upstream_rq_200": 3,
        "cluster.backend.upstream_rq_2xx": 3,
        "cluster.backend.upstream_rq_500": 1,
        "cluster.backend.upstream_rq_503": 1,
        "cluster.backend.upstream_rq_504": 1,
        "cluster.backend.upstream_rq_5xx": 3,
        "cluster.backend.upstream_rq_timeout": 1,
        "cluster.backend.upstream_rq_retry": 2,
        "cluster.backend.upstream_rq_retry_limit_exceeded": 1,
        "cluster.backend.retry.upstream_rq_503": 2,
    }, timeout=5)
