"""Upstream side of the router: retry policies, request mirroring and
circuit breakers.

"ENVOY-SPECIFIC" in a docstring marks an exact Envoy 1.40 text, header or
stat name that an implementation must reproduce.
"""

import threading
import time

import pytest

import http_support as H
from http_support import HttpClient, Reply, route, vhost
from support import free_port, socket_address

OVERFLOW_BODY = b"upstream connect error or disconnect/reset before headers. reset reason: overflow"


def per_path_counter():
    counts = {}
    lock = threading.Lock()

    def bump(path):
        with lock:
            counts[path] = counts.get(path, 0) + 1
            return counts[path]
    return bump


def retry_route(prefix, policy, cluster="backend", **extra):
    return route({"prefix": prefix}, cluster, route_extra=dict(retry_policy=policy, **extra))


# -- retries ---------------------------------------------------------------------


@pytest.fixture
def retry_env(proxy, http_upstreams, admin_port):
    bump = per_path_counter()

    def responder(req):
        n = bump(req.path)
        p = req.path
        if p == "/5xx-then-ok":
            return Reply(503 if n < 3 else 200, [], b"attempt %d" % n)
        if p == "/always-500":
            return Reply(500, [("content-type", "text/plain")], b"attempt %d" % n)
        if p == "/502":
            return Reply(502, [], b"bad gateway %d" % n)
        if p == "/500-gw":
            return Reply(500, [], b"plain 500 %d" % n)
        if p == "/418":
            return Reply(418 if n < 2 else 200, [], b"attempt %d" % n)
        if p == "/reset":
            return Reply(action="reset") if n < 2 else Reply(200, [], b"after reset")
        if p == "/per-try":
            return Reply(200, [], b"slow", delay=10) if n < 2 else Reply(200, [], b"fast")
        return Reply(200, [], b"ok")

    up = http_upstreams(responder)
    port = free_port()
    rc = H.route_config([vhost("vh", ["*"], [
        retry_route("/5xx-then-ok", {"retry_on": "5xx", "num_retries": 2}),
        retry_route("/always-500", {"retry_on": "5xx", "num_retries": 2}),
        retry_route("/502", {"retry_on": "gateway-error", "num_retries": 1}),
        retry_route("/500-gw", {"retry_on": "gateway-error", "num_retries": 1}),
        retry_route("/418", {"retry_on": "retriable-status-codes", "num_retries": 2,
                             "retriable_status_codes": [418]}),
        retry_route("/reset", {"retry_on": "reset", "num_retries": 1}),
        retry_route("/per-try", {"retry_on": "5xx", "num_retries": 2, "per_try_timeout": "0.3s"}),
        route({"prefix": "/"}, "backend"),
    ])])
    p = proxy(H.http_config(admin_port, port, rc, [H.http_cluster("backend", [up.address])]))
    return p, port, up


def attempts(up, path):
    return [q for q in up.requests if q.path == path]


@pytest.mark.envoy_specific
def test_retry_on_5xx_two_retries(retry_env):
    """``retry_on: 5xx, num_retries: 2``: the upstream sees 3 attempts and the
    third answer reaches the client.  ENVOY-SPECIFIC: no
    ``x-envoy-attempt-count`` is added by default; each retry's
    ``x-envoy-expected-rq-timeout-ms`` is the REMAINING global timeout."""
    p, port, up = retry_env
    r = H.get(port, "/5xx-then-ok")
    assert (r.status, r.body) == (200, b"attempt 3")
    tries = attempts(up, "/5xx-then-ok")
    assert len(tries) == 3
    assert all(q.header("x-envoy-attempt-count") is None for q in tries)
    timeouts = [int(q.header("x-envoy-expected-rq-timeout-ms")) for q in tries]
    assert timeouts[0] == 15000 and timeouts[0] >= timeouts[1] >= timeouts[2] > 14000
    ids = {q.header("x-request-id") for q in tries}
    assert len(ids) == 1, "all attempts carry the same x-request-id"
    p.wait_for_stats({"cluster.backend.upstream_rq_retry": 2,
                      "cluster.backend.upstream_rq_retry_success": 1,
                      "cluster.backend.upstream_rq_total": 3,
                      "cluster.backend.retry.upstream_rq_503": 2})


def test_retries_exhausted_returns_last_upstream_response(retry_env):
    p, port, up = retry_env
    r = H.get(port, "/always-500")
    assert (r.status, r.body) == (500, b"attempt 3")
    assert r.header("content-type") == "text/plain"
    assert len(attempts(up, "/always-500")) == 3
    p.wait_for_stats({"cluster.backend.upstream_rq_retry_limit_exceeded": 1,
                      "cluster.backend.upstream_rq_retry": 2})


def test_retry_on_gateway_error(retry_env):
    """``gateway-error`` retries 502 (and 503/504) but not 500."""
    p, port, up = retry_env
    r = H.get(port, "/502")
    assert (r.status, r.body) == (502, b"bad gateway 2")
    r = H.get(port, "/500-gw")
    assert (r.status, r.body) == (500, b"plain 500 1")
    assert len(attempts(up, "/502")) == 2 and len(attempts(up, "/500-gw")) == 1


def test_retry_on_retriable_status_codes(retry_env):
    p, port, up = retry_env
    r = H.get(port, "/418")
    assert (r.status, r.body) == (200, b"attempt 2")
    assert len(attempts(up, "/418")) == 2


def test_retry_on_reset(retry_env):
    """The first attempt is reset by the upstream (RST, no response): the
    retry goes to a new upstream connection and succeeds."""
    p, port, up = retry_env
    r = H.get(port, "/reset")
    assert (r.status, r.body) == (200, b"after reset")
    tries = attempts(up, "/reset")
    assert len(tries) == 2 and tries[0].conn != tries[1].conn


@pytest.mark.envoy_specific
def test_per_try_timeout(retry_env):
    """ENVOY-SPECIFIC: ``per_try_timeout: 0.3s``: the slow first attempt is
    abandoned after 0.3 s and retried; each attempt's
    ``x-envoy-expected-rq-timeout-ms`` is the per-try timeout (``300``);
    stat ``upstream_rq_per_try_timeout``."""
    p, port, up = retry_env
    t0 = time.monotonic()
    r = H.get(port, "/per-try")
    elapsed = time.monotonic() - t0
    assert (r.status, r.body) == (200, b"fast")
    assert 0.3 <= elapsed < 2.5, elapsed   # the 0.3 s per try, not the slow answer's 10 s
    tries = attempts(up, "/per-try")
    assert len(tries) == 2
    assert [q.header("x-envoy-expected-rq-timeout-ms") for q in tries] == ["300", "300"]
    p.wait_for_stats({"cluster.backend.upstream_rq_per_try_timeout": 1})


def test_no_retry_policy_no_retry(retry_env):
    p, port, up = retry_env
    assert H.get(port, "/plain").status == 200
    p.wait_for_stats({"cluster.backend.upstream_rq_retry": 0})


@pytest.mark.envoy_specific
def test_retry_on_connect_failure(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: a cluster whose only host refuses: ``connect-failure``
    with ``num_retries: 2`` makes 3 connection attempts and the client gets
    the connect-error 503 whose text reads ``... before headers. retried and
    the latest reset reason: remote connection failure``.  With a live second host every request
    succeeds."""
    dead = socket_address("127.0.0.1", free_port())
    live = http_upstreams(lambda req: Reply(200, [], b"live"))
    port = free_port()
    policy = {"retry_on": "connect-failure", "num_retries": 2}
    rc = H.route_config([vhost("vh", ["*"], [
        retry_route("/dead", policy, cluster="dead"),
        retry_route("/mixed", policy, cluster="mixed"),
    ])])
    p = proxy(H.http_config(admin_port, port, rc, [H.http_cluster("dead", [dead]),
                                                  H.http_cluster("mixed", [dead, live.address])]))
    r = H.get(port, "/dead")
    assert r.status == 503
    # ENVOY-SPECIFIC: after retries the text says "retried and the latest
    # reset reason:" instead of "reset reason:".
    assert r.body == (b"upstream connect error or disconnect/reset before headers. "
                      b"retried and the latest reset reason: remote connection failure")
    p.wait_for_stats({"cluster.dead.upstream_cx_connect_fail": 3,
                      "cluster.dead.upstream_rq_retry": 2,
                      "cluster.dead.upstream_rq_retry_limit_exceeded": 1})
    with HttpClient(port) as c:
        for _ in range(6):
            assert c.request("GET", "/mixed").body == b"live"
    stats = p.stats()
    assert stats["cluster.mixed.upstream_rq_retry"] == stats["cluster.mixed.upstream_cx_connect_fail"]
    assert stats["cluster.mixed.upstream_rq_retry"] >= 1


@pytest.mark.not_yet_in_remora(reason="needs the RING_HASH balancer with hash_policy, which a later issue brings")
@pytest.mark.parametrize("with_predicate", [True, False], ids=["previous_hosts", "no_predicate"])
def test_previous_hosts_retry_predicate(proxy, http_upstreams, admin_port, with_predicate):
    """Two hosts that always answer 503 behind a RING_HASH cluster keyed on
    a request header (so every pick lands on the same host).  With the
    ``envoy.retry_host_predicates.previous_hosts`` predicate the retry goes
    to the OTHER host; without it the same host gets both attempts."""
    hosts = [http_upstreams(lambda req: Reply(503, [], b"h0"), name="h0"),
             http_upstreams(lambda req: Reply(503, [], b"h1"), name="h1")]
    port = free_port()
    policy = {"retry_on": "5xx", "num_retries": 1}
    if with_predicate:
        policy["retry_host_predicate"] = [{"name": "envoy.retry_host_predicates.previous_hosts",
                                           "typed_config": {"@type": H.PREVIOUS_HOSTS_TYPE}}]
        policy["host_selection_retry_max_attempts"] = 5
    rc = H.route_config([vhost("vh", ["*"], [
        route({"prefix": "/"}, "pair", route_extra={
            "retry_policy": policy, "hash_policy": [{"header": {"header_name": "x-key"}}]}),
    ])])
    proxy(H.http_config(admin_port, port, rc, [H.http_cluster("pair", [h.address for h in hosts],
                                                              lb_policy="RING_HASH")]))
    with HttpClient(port) as c:
        for i in range(4):
            r = c.request("GET", f"/{i}", headers=[("x-key", "same")])
            assert r.status == 503
    per_host = [len(h.requests) for h in hosts]
    assert sum(per_host) == 8
    if with_predicate:
        assert per_host == [4, 4], per_host
    else:
        assert sorted(per_host) == [0, 8], per_host


# -- mirroring -------------------------------------------------------------------


@pytest.mark.envoy_specific
def test_request_mirroring(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``request_mirror_policies`` send a copy (method,
    path+query, body) to the mirror cluster with ``-shadow`` appended to the
    host name BEFORE the port (``foo.example-shadow:8080``).  The shadow
    copy also gains ``x-envoy-internal: true`` and ``x-forwarded-for: <local
    address>`` (appended last) but keeps the same x-request-id.  The shadow's
    answer (a slow 500) does not affect the client."""
    main = http_upstreams(lambda req: Reply(200, [], b"main"), name="main")
    shadow = http_upstreams(lambda req: Reply(500, [], b"shadow", delay=3), name="shadow")
    port = free_port()
    rc = H.route_config([vhost("vh", ["*"], [
        route({"prefix": "/m"}, "main",
              route_extra={"request_mirror_policies": [{"cluster": "shadow"}]}),
        route({"prefix": "/"}, "main"),
    ])])
    p = proxy(H.http_config(admin_port, port, rc, [H.http_cluster("main", [main.address]),
                                                  H.http_cluster("shadow", [shadow.address])]))
    t0 = time.monotonic()
    r = H.get(port, "/m/x?y=1", method="POST", host="foo.example:8080", body=b"payload")
    elapsed = time.monotonic() - t0
    assert (r.status, r.body) == (200, b"main") and elapsed < 2   # not held up by the shadow's 3 s
    r = H.get(port, "/m/plain", host="bar.example")
    H.get(port, "/not-mirrored")
    shadow.wait_requests(2, timeout=3)
    time.sleep(0.2)
    s1, s2 = shadow.requests
    m1 = main.requests[0]
    assert (s1.method, s1.target, s1.body) == ("POST", "/m/x?y=1", b"payload")
    assert s1.headers.get_all("host") == ["foo.example-shadow:8080"]
    assert s2.headers.get_all("host") == ["bar.example-shadow"]
    assert m1.header("host") == "foo.example:8080"
    assert s1.header("x-request-id") == m1.header("x-request-id")
    assert s1.header("x-envoy-internal") == "true"
    assert s1.headers.lower_names()[-2:] == ["x-envoy-internal", "x-forwarded-for"]
    assert s1.header("x-forwarded-for") == H.envoy_local_address()
    assert m1.header("x-envoy-internal") is None and m1.header("x-forwarded-for") is None
    assert len(main.requests) == 3
    p.wait_for_stats({"cluster.shadow.upstream_rq_total": 2, "cluster.shadow.upstream_rq_500": 2,
                      "cluster.main.upstream_rq_total": 3}, timeout=15)


@pytest.mark.envoy_specific
def test_request_mirroring_to_h2_cluster(proxy, http_upstreams, admin_port):
    """A mirror to a cluster that speaks HTTP/2 (h2c) sends the shadow as an
    HTTP/2 stream, as Envoy 1.40 does: ``:authority`` with ``-shadow``
    before the port, method, path and body mirrored, ``x-envoy-internal``
    added; the shadow's answer is dropped (the client gets the main
    cluster's)."""
    from h2_support import H2Upstream, h2_cluster_options

    main = http_upstreams(lambda req: Reply(200, [], b"main"), name="main")
    shadow = H2Upstream()
    try:
        port = free_port()
        rc = H.route_config([vhost("vh", ["*"], [
            route({"prefix": "/"}, "main", route_extra={"request_mirror_policies": [{"cluster": "shadow"}]}),
        ])])
        p = proxy(H.http_config(admin_port, port, rc, [
            H.http_cluster("main", [main.address]),
            H.http_cluster("shadow", [shadow.address], typed_extension_protocol_options=h2_cluster_options())]))
        r = H.get(port, "/m/x?y=1", method="POST", host="foo.example:8080", body=b"payload" * 1000)
        assert (r.status, r.body) == (200, b"main")
        r = H.get(port, "/status/503", host="bar.example")
        assert (r.status, r.body) == (200, b"main")
        deadline = time.monotonic() + 5
        while len(shadow.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(shadow.requests) == 2, shadow.requests
        s1, s2 = sorted(shadow.requests, key=lambda q: q.header(":path"))
        assert (s1.header(":method"), s1.header(":path"), s1.header(":authority")) == \
            ("POST", "/m/x?y=1", "foo.example-shadow:8080")
        assert s1.body_len == 7000 and s1.header("x-envoy-internal") == "true"
        assert s1.header("host") is None and s1.header("transfer-encoding") is None
        assert (s2.header(":method"), s2.header(":authority"), s2.body_len) == ("GET", "bar.example-shadow", 0)
        assert shadow.connections == 1
        p.wait_for_stats({"cluster.shadow.upstream_rq_total": 2, "cluster.shadow.upstream_rq_200": 1,
                          "cluster.shadow.upstream_rq_503": 1, "cluster.shadow.upstream_cx_http2_total": 1,
                          "cluster.main.upstream_rq_total": 2})
    finally:
        shadow.stop()


# -- circuit breakers ------------------------------------------------------------


def run_concurrently(port, n, path="/slow", stagger=0.1, before_next=None):
    results = [None] * n

    def go(i):
        try:
            results[i] = H.get(port, f"{path}{i}", timeout=10)
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = []
    for i in range(n):
        t = threading.Thread(target=go, args=(i,), daemon=True)
        t.start()
        threads.append(t)
        if before_next:
            before_next(i)
        time.sleep(stagger)
    for t in threads:
        t.join(timeout=15)
    return results


def cb_setup(proxy, http_upstreams, admin_port, thresholds):
    # The concurrent requests must meet the first still in the upstream (a
    # loaded machine can take most of a second to start their threads).
    up = http_upstreams(lambda req: Reply(200, [], b"done", delay=3))
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up,
                                   cluster_extra={"circuit_breakers": {"thresholds": [thresholds]}}))
    return p, port, up


def assert_overflow(r):
    """ENVOY-SPECIFIC: the overflow local reply."""
    assert (r.status, r.body) == (503, OVERFLOW_BODY)
    assert r.headers.lower_names() == ["x-envoy-overloaded", "content-length", "content-type",
                                       "date", "server"]
    assert r.header("x-envoy-overloaded") == "true"


def test_circuit_breaker_max_pending_requests(proxy, http_upstreams, admin_port):
    """``max_connections: 1, max_pending_requests: 1``: 1 active + 1 pending
    succeed, the third concurrent request overflows (stat
    ``upstream_rq_pending_overflow``)."""
    p, port, up = cb_setup(proxy, http_upstreams, admin_port,
                           {"max_connections": 1, "max_pending_requests": 1})
    rs = run_concurrently(port, 3, before_next=lambda i: up.wait_requests(1) if i == 0 else None)
    assert [r.status for r in rs] == [200, 200, 503], rs
    assert_overflow(rs[2])
    assert up.accepted == 1 and len(up.requests) == 2
    p.wait_for_stats({"cluster.backend.upstream_rq_pending_overflow": 1,
                      "cluster.backend.upstream_rq_total": 2})


@pytest.mark.envoy_specific
def test_circuit_breaker_max_requests(proxy, http_upstreams, admin_port):
    """``max_requests: 1``: a second concurrent request overflows.
    ENVOY-SPECIFIC: the stat is ``upstream_rq_active_overflow`` (not
    pending_overflow)."""
    p, port, up = cb_setup(proxy, http_upstreams, admin_port, {"max_requests": 1})
    rs = run_concurrently(port, 2, before_next=lambda i: up.wait_requests(1) if i == 0 else None)
    assert [r.status for r in rs] == [200, 503], rs
    assert_overflow(rs[1])
    assert len(up.requests) == 1
    p.wait_for_stats({"cluster.backend.upstream_rq_active_overflow": 1,
                      "cluster.backend.upstream_rq_pending_overflow": 0,
                      "cluster.backend.upstream_rq_total": 1})


def test_circuit_breaker_max_connections_queues(proxy, http_upstreams, admin_port):
    """``max_connections: 1`` alone: concurrent requests queue for the one
    upstream connection (default 1024 pending) and all succeed, serially."""
    p, port, up = cb_setup(proxy, http_upstreams, admin_port, {"max_connections": 1})
    up.responder = lambda req: Reply(200, [], b"done", delay=0.3)
    t0 = time.monotonic()
    rs = run_concurrently(port, 3, stagger=0.05)
    elapsed = time.monotonic() - t0
    assert [r.status for r in rs] == [200, 200, 200], rs
    assert up.accepted == 1 and [q.conn for q in up.requests] == [1, 1, 1]
    assert elapsed >= 0.85, "requests were not serialised on one connection"
    stats = p.stats()
    assert stats["cluster.backend.upstream_cx_overflow"] >= 1
    assert stats["cluster.backend.upstream_cx_total"] == 1


def test_circuit_breaker_max_pending_zero(proxy, http_upstreams, admin_port):
    """``max_pending_requests: 0``: every request needing a new connection
    overflows at once."""
    p, port, up = cb_setup(proxy, http_upstreams, admin_port, {"max_pending_requests": 0})
    r = H.get(port, "/")
    assert_overflow(r)
    assert up.accepted == 0
    p.wait_for_stats({"cluster.backend.upstream_rq_pending_overflow": 1})


def test_http1_upstream_closing_counts_no_rx_reset(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: upstream_rq_rx_reset counts streams the upstream reset
    (an HTTP/2 RST_STREAM). An HTTP/1 upstream that closes its connection,
    before the response or in the middle of its body, is a connection
    termination: Envoy 1.40 counts no rx_reset for it (the 503 and the
    destroyed connection are counted)."""
    def responder(req):
        if req.path == "/close":
            return Reply(action="close")
        return Reply(action="raw", raw=b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc", close=True)

    up = http_upstreams(responder)
    port = free_port()
    p = proxy(H.http_config(admin_port, port, [route({"prefix": "/"}, "backend")],
                            [H.http_cluster("backend", [up.address])]))
    with HttpClient(port) as c:
        r = c.request("GET", "/close")
        assert r.status == 503
        assert r.body == b"upstream connect error or disconnect/reset before headers. reset reason: connection termination"
    with HttpClient(port) as c:
        c.send(b"GET /mid-body HTTP/1.1\r\nhost: x\r\n\r\n")
        _, rest = c.wait_closed(timeout=5.0)  # the response is cut short: the connection closes
        assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b"abc"), rest
    stats = p.wait_for_stats({"cluster.backend.upstream_cx_destroy_remote_with_active_rq": 2})
    assert stats["cluster.backend.upstream_rq_503"] == 1
    assert stats["cluster.backend.upstream_rq_rx_reset"] == 0
