"""gRPC behaviour that does not depend on the wire, over HTTP/1.1.

Envoy applies its gRPC rules by the request's ``content-type``
(``application/grpc`` or ``application/grpc+...``) whatever the protocol, so
plain HTTP/1.1 requests carrying that content type exercise them: trailers-
only local replies (``200``, ``grpc-status`` mapped from the HTTP status,
``grpc-message`` percent-encoded, ``content-length: 0`` on HTTP/1.1),
``grpc-timeout`` with the route's ``max_grpc_timeout`` /
``max_stream_duration`` settings, ``retry_on`` gRPC conditions read from
trailers-only responses, and the stats Envoy keeps for them.

ENVOY-SPECIFIC throughout: every expected value here was read from Envoy
1.40 (run this file with ``PROXY_KIND=envoy``), header order included.
The upstream is a Python HTTP/1.1 server answering as each request's
``x-*`` headers say.
"""

import time

import pytest

import http_support as H
from http_support import HttpClient, HttpUpstream, Reply, route
from support import ProxyProcess, free_port, socket_address

pytestmark = pytest.mark.envoy_specific

GRPC = [("content-type", "application/grpc")]
HANG = [("x-action", "hang")]
CONNECT_ERROR = "upstream connect error or disconnect/reset before headers. reset reason: "


def responder(req):
    """``x-grpc-status`` (with ``x-http-status``): a trailers-only answer;
    ``x-delay``: answer grpc-status 0 after that many seconds; ``x-action``:
    ``reset`` before any byte, ``partial`` (headers and 3 of 10 body bytes,
    then close), ``plain`` (200 with a gRPC body and no grpc-status),
    ``hang`` (never answer: only a proxy timer can end the request, however
    late a busy machine lets it fire)."""
    action = req.header("x-action")
    if action == "reset":
        return Reply(action="reset")
    if action == "hang":
        return Reply(action="hang")
    if action == "partial":
        return Reply(action="raw", close=True,
                     raw=b"HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ncontent-length: 10\r\n\r\nabc")
    if action == "plain":
        return Reply(200, [("content-type", "application/grpc")], b"\x00\x00\x00\x00\x00")
    if action == "s503":
        return Reply(503, [("content-type", "text/plain")], b"down")
    delay = float(req.header("x-delay") or 0)
    status = req.header("x-grpc-status") or "0"
    http_status = int(req.header("x-http-status") or 200)
    headers = [("content-type", "application/grpc"), ("grpc-status", status)]
    if req.header("x-grpc-message"):
        headers.append(("grpc-message", req.header("x-grpc-message")))
    return Reply(http_status, headers, b"", delay=delay)


def routes(up_cluster="backend"):
    msd = {"max_stream_duration": "3s", "grpc_timeout_header_max": "10s", "grpc_timeout_header_offset": "0.05s"}
    return [
        route({"prefix": "/slow"}, up_cluster, route_extra={"timeout": "0.3s"}),
        route({"prefix": "/empty"}, "empty"),
        route({"prefix": "/full"}, "full"),
        route({"prefix": "/dead"}, "dead"),
        route({"prefix": "/nocluster"}, "nonexistent"),
        route({"prefix": "/mgt/"}, up_cluster,
              route_extra={"max_grpc_timeout": "10s", "grpc_timeout_offset": "0.1s"}),
        route({"prefix": "/mgt0/"}, up_cluster, route_extra={"max_grpc_timeout": "0s"}),
        route({"prefix": "/mgtoff/"}, up_cluster,
              route_extra={"max_grpc_timeout": "0s", "grpc_timeout_offset": "0.001s"}),
        route({"prefix": "/mgtpt/"}, up_cluster, route_extra={
            "max_grpc_timeout": "100s",
            "retry_policy": {"retry_on": "unavailable", "num_retries": 1, "per_try_timeout": "20s"}}),
        route({"prefix": "/msd/"}, up_cluster, route_extra={"timeout": "0.3s", "max_stream_duration": msd}),
        route({"prefix": "/msdslow/"}, up_cluster,
              route_extra={"max_stream_duration": {"max_stream_duration": "0.4s"}}),
        route({"prefix": "/retry/"}, up_cluster,
              route_extra={"retry_policy": {"retry_on": "unavailable,cancelled", "num_retries": 2,
                                            "retry_back_off": {"base_interval": "0.001s"}}}),
        route({"prefix": "/direct/"},
              direct_response={"status": 503, "body": {"inline_string": "caf\u00e9 100% \"down\"\n\tx"}}),
        route({"prefix": "/direct200/"}, direct_response={"status": 200, "body": {"inline_string": "hello"}}),
        route({"prefix": "/direct204/"}, direct_response={"status": 204}),
        route({"prefix": "/redirect/"}, redirect={"path_redirect": "/x"}),
        route({"prefix": "/ok"}, up_cluster),
    ]


def clusters(up):
    return [
        H.http_cluster("backend", [up.address]),
        H.http_cluster("empty", []),
        H.http_cluster("full", [up.address], circuit_breakers={"thresholds": [{"max_requests": 0}]}),
        H.http_cluster("dead", [socket_address("127.0.0.1", free_port())]),
    ]


def serve(tmp_path_factory, name, **hcm_extra):
    """A proxy in front of a ``responder`` upstream with every route of
    ``routes()``; yields (proxy, port, upstream) and stops both after."""
    up = HttpUpstream(responder, name="backend")
    port = free_port()
    rc = H.route_config([H.vhost("main", ["*"], routes())], validate_clusters=False)
    p = ProxyProcess(tmp_path_factory.mktemp(name), "proxy")
    try:
        p.start(H.http_config(free_port(), port, rc, clusters(up), **hcm_extra))
        yield p, port, up
    finally:
        p.kill()
        up.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    yield from serve(tmp_path_factory, "grpc_http1")


@pytest.fixture
def env(shared, request):
    request.node._interop_proxies = [shared[0]]
    return shared


def call(port, path, headers=GRPC, method="POST", body=b""):
    """One request; returns (response, elapsed seconds, connection still open?)."""
    with HttpClient(port) as c:
        t0 = time.monotonic()
        c.send(H.build_request(method, path, headers=list(headers), body=body))
        r = c.read_response(method)
        return r, time.monotonic() - t0, c.is_open(0.15)


def upstream_saw(up, path):
    """The requests the upstream received for ``path`` (in order)."""
    return [r for r in up.requests if r.path == path]


def assert_grpc_reply(r, grpc_status, message=None, first=(), close=False):
    """A trailers-only gRPC local reply over HTTP/1.1."""
    assert (r.version, r.status, r.reason) == ("HTTP/1.1", 200, "OK"), r.raw_head
    names = list(first) + ["content-type", "grpc-status"] + (["grpc-message"] if message is not None else [])
    names += ["date", "server"] + (["connection"] if close else []) + ["content-length"]
    assert r.headers.lower_names() == names, r.raw_head
    assert r.header("content-type") == "application/grpc"
    assert r.header("grpc-status") == str(grpc_status)
    assert r.header("grpc-message") == message
    assert r.header("content-length") == "0"
    assert r.body == b""


# -- local replies -------------------------------------------------------------

@pytest.mark.parametrize("path,grpc_status,message,first", [
    ("/nothing-here", 12, None, ()),                       # 404 no route -> UNIMPLEMENTED, empty body
    ("/empty", 14, "no healthy upstream", ()),              # 503 -> UNAVAILABLE
    ("/nocluster", 14, None, ()),                          # cluster_not_found 503, no body
    ("/full", 14, CONNECT_ERROR + "overflow", ("x-envoy-overloaded",)),
    ("/dead", 14, CONNECT_ERROR + "remote connection failure", ()),
    ("/direct/", 14, "caf%C3%A9 100%25 \"down\"%0A%09x", ()),   # percent-encoded as Envoy does
    ("/direct200/", 2, "hello", ()),                       # 200 -> UNKNOWN
    ("/direct204/", 2, None, ()),
    ("/redirect/", 2, None, ("location",)),
], ids=["no_route", "no_healthy_upstream", "cluster_not_found", "overflow", "connect_failure",
        "direct_encoded", "direct_200", "direct_204", "redirect"])
def test_local_reply_is_trailers_only_grpc(env, path, grpc_status, message, first):
    p, port, up = env
    r, _, open_ = call(port, path)
    assert_grpc_reply(r, grpc_status, message, first)
    assert open_
    if first == ("location",):
        assert r.header("location") == "http://example.com/x"


def test_head_request_reply_has_no_message(env):
    """HEAD: the gRPC reply keeps its status but drops grpc-message, and
    Envoy's HTTP/1 encoder frames a headers-only answer to HEAD as chunked."""
    p, port, up = env
    r, _, open_ = call(port, "/empty", method="HEAD")
    assert (r.status, r.header("grpc-status"), r.header("grpc-message")) == (200, "14", None)
    assert r.headers.lower_names() == ["content-type", "grpc-status", "date", "server", "transfer-encoding"]
    assert r.header("transfer-encoding") == "chunked"
    assert open_


@pytest.mark.parametrize("method,path,status,framing", [
    ("HEAD", "/nothing-here", 404, [("transfer-encoding", "chunked")]),
    ("HEAD", "/direct200/", 200, [("content-length", "5"), ("content-type", "text/plain")]),
    ("GET", "/direct204/", 204, []),
])
def test_bodyless_local_reply_framing(env, method, path, status, framing):
    """Not gRPC: local replies without a body are framed as Envoy's HTTP/1
    encoder frames them (no length for 204, chunked for HEAD)."""
    p, port, up = env
    r, _, open_ = call(port, path, headers=[], method=method)
    assert r.status == status
    assert [(n.lower(), v) for n, v in r.headers if n.lower() not in ("date", "server")] == framing
    assert r.body == b"" and open_


def test_upstream_reset_and_timeout_replies(env):
    p, port, up = env
    r, _, open_ = call(port, "/ok/reset", GRPC + [("x-action", "reset")])
    assert_grpc_reply(r, 14, CONNECT_ERROR + "connection termination")
    assert open_
    before = p.stats().get("cluster.backend.upstream_rq_timeout", 0)
    r, elapsed, open_ = call(port, "/slow", GRPC + HANG)
    assert_grpc_reply(r, 14, "upstream request timeout")
    assert 0.25 <= elapsed < 2.5   # the route's 0.3 s (the default would be 15 s)
    assert open_
    p.wait_for_stats({"cluster.backend.upstream_rq_timeout": before + 1})


@pytest.mark.parametrize("content_type,is_grpc", [
    ("application/grpc+json", True),
    ("application/grpc+proto", True),
    ("application/grpc-web", False),
    ("application/grpc;charset=utf-8", False),
    ("Application/grpc", False),
])
def test_which_content_types_are_grpc(env, content_type, is_grpc):
    p, port, up = env
    r, _, _ = call(port, "/empty", [("content-type", content_type)])
    if is_grpc:
        assert_grpc_reply(r, 14, "no healthy upstream")
    else:
        assert (r.status, r.body) == (503, b"no healthy upstream")
        assert r.header("content-type") == "text/plain"


def test_repeated_content_type_is_not_grpc(env):
    """Envoy joins a repeated content-type into one value: not gRPC."""
    p, port, up = env
    r, _, _ = call(port, "/empty", GRPC + GRPC)
    assert (r.status, r.body) == (503, b"no healthy upstream")


def test_upstream_answers_pass_through_unchanged(env):
    """Only local replies are converted: an upstream 503, a 200 without
    grpc-status and a trailers-only answer reach the client as they were."""
    p, port, up = env
    r, _, _ = call(port, "/ok/a", GRPC + [("x-action", "s503")])
    assert (r.status, r.body, r.header("content-type"), r.header("grpc-status")) == (503, b"down", "text/plain", None)
    r, _, _ = call(port, "/ok/b", GRPC + [("x-action", "plain")])
    assert (r.status, r.body, r.header("grpc-status")) == (200, b"\x00" * 5, None)
    r, _, _ = call(port, "/ok/c", GRPC + [("x-grpc-status", "14"), ("x-grpc-message", "busy")])
    assert r.status == 200
    assert r.headers.lower_names()[:4] == ["content-type", "grpc-status", "grpc-message", "content-length"]
    assert (r.header("grpc-status"), r.header("grpc-message")) == ("14", "busy")


# -- max_grpc_timeout / grpc_timeout_offset (the router's timeout) ---------------

@pytest.mark.parametrize("path,grpc_timeout,upstream_headers", [
    # 5S minus the 0.1 s offset; grpc-timeout rewritten in place, expected appended.
    ("/mgt/a", "5S", [("grpc-timeout", "4900m"), ("x-envoy-expected-rq-timeout-ms", "4900")]),
    ("/mgt/b", "20S", [("grpc-timeout", "10000m"), ("x-envoy-expected-rq-timeout-ms", "10000")]),
    # No header: the cap; expected first, grpc-timeout added after it.
    ("/mgt/c", None, [("x-envoy-expected-rq-timeout-ms", "10000"), ("grpc-timeout", "10000m")]),
    # The offset applies only when it leaves something.
    ("/mgt/d", "50m", [("grpc-timeout", "50m"), ("x-envoy-expected-rq-timeout-ms", "50")]),
    ("/mgt/e", "150m", [("grpc-timeout", "50m"), ("x-envoy-expected-rq-timeout-ms", "50")]),
    ("/mgt/f", "bogus", [("grpc-timeout", "10000m"), ("x-envoy-expected-rq-timeout-ms", "10000")]),
    ("/mgt/g", "1H", [("grpc-timeout", "10000m"), ("x-envoy-expected-rq-timeout-ms", "10000")]),
    ("/mgt0/a", "2H", [("grpc-timeout", "7200000m"), ("x-envoy-expected-rq-timeout-ms", "7200000")]),
    # max_grpc_timeout 0 and no (valid) header: no timeout at all, header kept as sent.
    ("/mgt0/b", None, []),
    ("/mgt0/c", "100000000m", [("grpc-timeout", "100000000m")]),
    ("/mgt0/d", "99999999m", [("grpc-timeout", "99999999m"), ("x-envoy-expected-rq-timeout-ms", "99999999")]),
    # Micro- and nanoseconds round up to the next millisecond.
    ("/mgt0/e", "1000500u", [("grpc-timeout", "1001m"), ("x-envoy-expected-rq-timeout-ms", "1001")]),
    ("/mgt0/f", "99999999n", [("grpc-timeout", "100m"), ("x-envoy-expected-rq-timeout-ms", "100")]),
    ("/mgt0/g", "+7S", [("grpc-timeout", "7000m"), ("x-envoy-expected-rq-timeout-ms", "7000")]),
    ("/mgt0/h", "-0S", [("grpc-timeout", "-0S")]),
    ("/mgt0/i", "7s", [("grpc-timeout", "7s")]),
    ("/mgt0/j", "99999999H", [("grpc-timeout", "99999999H"),
                              ("x-envoy-expected-rq-timeout-ms", "359999996400000")]),
    ("/mgt0/k", "0m", [("grpc-timeout", "0m")]),
    # Past 8 digits of milliseconds: seconds, truncated.
    ("/mgtoff/a", "100001S", [("grpc-timeout", "100000S"), ("x-envoy-expected-rq-timeout-ms", "100000999")]),
    ("/mgtoff/b", "100000S", [("grpc-timeout", "99999999m"), ("x-envoy-expected-rq-timeout-ms", "99999999")]),
    # A route without max_grpc_timeout keeps its timeout and the header.
    ("/ok/timeout", "5S", [("grpc-timeout", "5S"), ("x-envoy-expected-rq-timeout-ms", "15000")]),
])
def test_max_grpc_timeout_headers_upstream(env, path, grpc_timeout, upstream_headers):
    p, port, up = env
    headers = GRPC + ([("grpc-timeout", grpc_timeout)] if grpc_timeout is not None else [])
    r, _, _ = call(port, path, headers)
    got = (r.status, r.header("grpc-status"), r.header("grpc-message"))
    if int(dict(upstream_headers).get("x-envoy-expected-rq-timeout-ms", 15000)) <= 100:
        # 50 or 100 ms may run out on a busy machine before the answer is back.
        assert got in ((200, "0", None), (200, "14", "upstream request timeout"))
    else:
        assert got == (200, "0", None)
    [seen] = upstream_saw(up, path)
    assert [h for h in seen.headers if h[0] in ("grpc-timeout", "x-envoy-expected-rq-timeout-ms")] == upstream_headers


def test_max_grpc_timeout_ignored_for_non_grpc(env):
    p, port, up = env
    r, _, _ = call(port, "/mgt/plain", [("grpc-timeout", "5S")])
    [seen] = upstream_saw(up, "/mgt/plain")
    assert [h for h in seen.headers if h[0] in ("grpc-timeout", "x-envoy-expected-rq-timeout-ms")] == \
        [("grpc-timeout", "5S"), ("x-envoy-expected-rq-timeout-ms", "15000")]


def test_max_grpc_timeout_per_try_and_retry(env):
    """The per-try timeout (below the gRPC one) is what grpc-timeout says; a
    retry says what is left of the global one."""
    p, port, up = env
    call(port, "/mgtpt/a", GRPC + [("grpc-timeout", "30S"), ("x-grpc-status", "14")])
    seen = upstream_saw(up, "/mgtpt/a")
    assert [s.header("grpc-timeout") for s in seen] == ["20000m", "20000m"]
    # The first try takes 0.5 s, so the retry has at most 9.5 s left (with
    # an instant first try, a whole millisecond need not pass before the
    # retry, and "less than 10 s" failed now and then); 2 s of margin below.
    call(port, "/mgtpt/b", GRPC + [("grpc-timeout", "10S"), ("x-grpc-status", "14"), ("x-delay", "0.5")])
    first, second = upstream_saw(up, "/mgtpt/b")
    assert first.header("grpc-timeout") == "10000m"
    left = int(second.header("x-envoy-expected-rq-timeout-ms"))
    assert 7500 <= left <= 9500
    assert second.header("grpc-timeout") == f"{left}m"


def test_grpc_timeout_fires_as_router_timeout(env):
    """A grpc-timeout under max_grpc_timeout is the router's timeout: the
    reply is Envoy's upstream timeout (UNAVAILABLE), not DEADLINE_EXCEEDED."""
    p, port, up = env
    before = p.stats().get("cluster.backend.upstream_rq_timeout", 0)
    r, elapsed, _ = call(port, "/mgt0/slow", GRPC + [("grpc-timeout", "200m")] + HANG)
    assert_grpc_reply(r, 14, "upstream request timeout")
    assert 0.15 <= elapsed < 2.5   # the header's 0.2 s (the route's would be 15 s)
    p.wait_for_stats({"cluster.backend.upstream_rq_timeout": before + 1})


# -- max_stream_duration (the connection manager's timer) ------------------------

@pytest.mark.parametrize("path,headers,delay,fires_after,upstream_timeout", [
    ("/msd/a", [("grpc-timeout", "5S")], 0, None, "4950m"),
    # The route's 0.3 s timeout no longer applies once max_stream_duration is set.
    ("/msd/b", [], 0.6, None, "3000m"),
    # The upstream never answers these (delay None); the stream's limit ends them.
    ("/msd/c", [("grpc-timeout", "200m")], None, 0.15, "150m"),
    ("/msdslow/a", [], None, 0.4, "400m"),
    # Without grpc_timeout_header_max the header is ignored (and rewritten).
    ("/msdslow/c", [("grpc-timeout", "100m")], None, 0.4, "400m"),
])
def test_max_stream_duration_grpc(env, path, headers, delay, fires_after, upstream_timeout):
    p, port, up = env
    extra = HANG if delay is None else [("x-delay", str(delay))] if delay else []
    r, elapsed, open_ = call(port, path, GRPC + headers + extra)
    if fires_after is None:
        assert (r.status, r.header("grpc-status"), r.header("grpc-message")) == (200, "0", None)
        assert elapsed >= delay
    else:
        assert_grpc_reply(r, 4, "downstream duration timeout")
        # Well under the 3 s /msd/c would take if the header were ignored.
        assert fires_after - 0.05 <= elapsed < fires_after + 2
    [seen] = upstream_saw(up, path)
    assert seen.header("grpc-timeout") == upstream_timeout
    # No router timeout on these routes, so no expected-timeout header.
    assert seen.header("x-envoy-expected-rq-timeout-ms") is None


def test_max_stream_duration_offset_uses_it_all(env):
    p, port, up = env
    r, elapsed, _ = call(port, "/msd/d", GRPC + [("grpc-timeout", "40m")] + HANG)
    assert_grpc_reply(r, 4, "downstream duration timeout")
    assert elapsed < 2   # at once (the route's max_stream_duration would be 3 s)


@pytest.mark.parametrize("path,headers,fires_after,upstream_timeout", [
    # The header bounds a non-gRPC request too, but is not rewritten.
    ("/msd/e", [("grpc-timeout", "200m")], 0.15, "200m"),
    ("/msdslow/b", [], 0.4, None),
])
def test_max_stream_duration_non_grpc(env, path, headers, fires_after, upstream_timeout):
    p, port, up = env
    before = p.stats().get("http.ingress_http.downstream_rq_max_duration_reached", 0)
    r, elapsed, open_ = call(port, path, headers + HANG)
    assert (r.status, r.reason, r.body) == (504, "Gateway Timeout", b"downstream duration timeout")
    assert r.headers.lower_names() == ["content-length", "content-type", "date", "server"]
    assert fires_after - 0.05 <= elapsed < fires_after + 2
    assert open_
    [seen] = upstream_saw(up, path)
    assert seen.header("grpc-timeout") == upstream_timeout
    p.wait_for_stats({"http.ingress_http.downstream_rq_max_duration_reached": before + 1})


def test_connection_manager_max_stream_duration(proxy, http_upstreams, admin_port):
    """``common_http_protocol_options.max_stream_duration`` bounds every
    stream from its start; a route's ``max_stream_duration: 0s`` lifts it
    and (for gRPC) drops grpc-timeout; before the request is complete the
    reply is 408 and the connection closes."""
    up = http_upstreams(responder)
    port = free_port()
    rs = [route({"prefix": "/unbounded"}, "backend",
                route_extra={"max_stream_duration": {"max_stream_duration": "0s"}}),
          route({"prefix": "/"}, "backend")]
    p = proxy(H.http_config(admin_port, port, rs, [H.http_cluster("backend", [up.address])],
                            common_http_protocol_options={"max_stream_duration": "0.3s"}))
    r, elapsed, open_ = call(port, "/slow", GRPC + HANG + [("grpc-timeout", "5S")])
    assert_grpc_reply(r, 4, "downstream duration timeout")
    assert 0.25 <= elapsed < 2.5 and open_   # the connection manager's 0.3 s, not the header's 5 s
    [seen] = upstream_saw(up, "/slow")
    assert seen.header("grpc-timeout") == "5S"   # not rewritten: the route uses the old scheme

    r, elapsed, _ = call(port, "/unbounded", GRPC + [("x-delay", "0.5"), ("grpc-timeout", "5S")])
    assert (r.status, r.header("grpc-status")) == (200, "0") and elapsed >= 0.5
    [seen] = upstream_saw(up, "/unbounded")
    assert seen.header("grpc-timeout") is None

    with HttpClient(port) as c:
        c.send(H.build_request("POST", "/partial", headers=GRPC + [("content-length", "10")]) + b"abc")
        r = c.read_response("POST")
        # A 408 (request incomplete) with an explicit DEADLINE_EXCEEDED.
        assert_grpc_reply(r, 4, "downstream duration timeout", close=True)
        assert r.header("connection") == "close"
        c.wait_closed(3)
    r, _, _ = call(port, "/plain", HANG)
    assert (r.status, r.body) == (504, b"downstream duration timeout")
    p.wait_for_stats({"http.ingress_http.downstream_rq_max_duration_reached": 3})


# -- retry_on gRPC conditions ---------------------------------------------------

@pytest.mark.parametrize("path,headers,attempts", [
    ("/retry/a", GRPC + [("x-grpc-status", "14")], 3),
    ("/retry/b", GRPC + [("x-grpc-status", "1")], 3),
    ("/retry/c", GRPC + [("x-grpc-status", "4")], 1),          # deadline-exceeded not in retry_on
    ("/retry/d", [("x-grpc-status", "14")], 3),                 # read whatever the request's content type
    ("/retry/e", GRPC + [("x-grpc-status", "14"), ("x-http-status", "503")], 3),
    ("/retry/f", GRPC + [("x-grpc-status", "abc")], 1),
    ("/retry/g", GRPC + [("x-grpc-status", "+14")], 3),
    ("/retry/h", GRPC + [("x-grpc-status", "0")], 1),
])
def test_retry_on_grpc_status(env, path, headers, attempts):
    p, port, up = env
    before = p.stats()
    r, _, _ = call(port, path, headers)
    assert len(upstream_saw(up, path)) == attempts
    # The last answer goes to the client as the upstream sent it.
    assert r.header("grpc-status") == dict(headers)["x-grpc-status"]
    retries = attempts - 1
    deltas = {"upstream_rq_retry": retries, "upstream_rq_retry_backoff_exponential": retries,
              "retry.upstream_rq_completed": retries, "upstream_rq_retry_limit_exceeded": 1 if retries else 0}
    expected = {f"cluster.backend.{k}": before.get(f"cluster.backend.{k}", 0) + v for k, v in deltas.items()}
    p.wait_for_stats(expected, missing_as_zero=True)


# -- stats ----------------------------------------------------------------------

def host_counters(p, cluster="backend"):
    status, body = p.admin("GET", "/clusters")
    assert status == 200
    out = {}
    for line in body.decode().splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[0] == cluster and parts[2] in ("rq_success", "rq_error"):
            out[parts[2]] = int(parts[3])
    return out


@pytest.mark.parametrize("headers,success", [
    (GRPC + [("x-grpc-status", "0")], True),
    (GRPC + [("x-grpc-status", "5")], True),     # NOT_FOUND -> 404: not an error for the host
    (GRPC + [("x-grpc-status", "14")], False),
    (GRPC + [("x-grpc-status", "2")], False),
    (GRPC + [("x-action", "plain")], False),     # 200 and a body without grpc-status: an error
    ([("x-action", "plain")], True),             # the same for a non-gRPC request: a success
])
def test_host_success_by_grpc_status(proxy, http_upstreams, admin_port, headers, success):
    up = http_upstreams(responder)
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    r, _, _ = call(port, "/", headers)
    assert r.status == 200
    deadline = time.monotonic() + 3
    want = {"rq_success": 1 if success else 0, "rq_error": 0 if success else 1}
    while host_counters(p) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_counters(p) == want


def test_reset_after_grpc_response_started(proxy, http_upstreams, admin_port):
    """An upstream that dies mid-body after a gRPC response began: the
    client sees the head, then a close; the router counts
    ``rq_reset_after_downstream_response_started`` and a host error."""
    up = http_upstreams(responder)
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    with HttpClient(port) as c:
        c.send(H.build_request("POST", "/", headers=GRPC + [("x-action", "partial")], body=b""))
        head = c.reader.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        c.wait_closed(3)
    p.wait_for_stats({"http.ingress_http.rq_reset_after_downstream_response_started": 1})
    assert host_counters(p) == {"rq_success": 0, "rq_error": 1}


# -- x-envoy-retry-grpc-on (internal requests only) -----------------------------

@pytest.fixture(scope="module")
def internal(tmp_path_factory):
    """A proxy for which loopback clients are internal (use_remote_address
    and internal_address_config 127.0.0.0/8): Envoy's control headers from
    them are honoured."""
    yield from serve(tmp_path_factory, "grpc_http1_internal", use_remote_address=True,
                     internal_address_config={"cidr_ranges": [{"address_prefix": "127.0.0.0", "prefix_len": 8}]})


@pytest.mark.parametrize("path,headers,attempts", [
    # No retry_policy on the route: Envoy's defaults (one retry).
    ("/ok/grpc-on", [("x-envoy-retry-grpc-on", "unavailable")], 2),
    ("/ok/grpc-on-unknown", [("x-envoy-retry-grpc-on", "cancelled,bogus")], 1),
    ("/ok/max", [("x-envoy-retry-grpc-on", "unavailable"), ("x-envoy-max-retries", "3")], 4),
    # x-envoy-retry-on takes HTTP conditions only.
    ("/ok/retry-on", [("x-envoy-retry-on", "unavailable")], 1),
    ("/ok/retry-on-5xx", [("x-envoy-retry-on", "5xx"), ("x-http-status", "503")], 2),
    # Added to the route's conditions, with the route's num_retries.
    ("/retry/merged", [("x-envoy-retry-grpc-on", "internal")], 3),
])
def test_retry_grpc_on_header_from_internal_clients(internal, request, path, headers, attempts):
    p, port, up = internal
    request.node._interop_proxies = [p]
    status = "13" if path == "/retry/merged" else "14"
    r, _, _ = call(port, path, GRPC + [("x-grpc-status", status)] + headers)
    seen = upstream_saw(up, path)
    assert len(seen) == attempts
    for s in seen:
        # The router consumes the retry headers; the request is marked internal.
        names = [n for n, _ in s.headers]
        assert not {"x-envoy-retry-grpc-on", "x-envoy-retry-on", "x-envoy-max-retries"} & set(names)
        assert s.header("x-envoy-internal") == "true"
    assert names == ["host", "content-type", "x-grpc-status"] + [n for n, _ in headers if n == "x-http-status"] + \
        ["content-length", "x-forwarded-for", "x-forwarded-proto", "x-envoy-internal", "x-request-id",
         "x-envoy-expected-rq-timeout-ms"]


def test_retry_grpc_on_header_from_external_clients_is_dropped(env):
    p, port, up = env
    call(port, "/ok/external", GRPC + [("x-grpc-status", "14"), ("x-envoy-retry-grpc-on", "unavailable")])
    [seen] = upstream_saw(up, "/ok/external")
    assert seen.header("x-envoy-retry-grpc-on") is None and seen.header("x-envoy-internal") is None


def test_access_log_and_downstream_codes(proxy, http_upstreams, admin_port, tmp_path):
    """A gRPC local reply is a 200 for the access log and the connection
    manager's stats; the response flag and details are those of the HTTP
    reply it replaced."""
    import signal
    up = http_upstreams(responder)
    port = free_port()
    log = tmp_path / "access.log"
    fmt = "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\n"
    al = [{"name": "envoy.access_loggers.file", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "path": str(log), "log_format": {"text_format_source": {"inline_string": fmt}}}}]
    rs = [route({"prefix": "/empty"}, "empty"),
          route({"prefix": "/msd"}, "backend", route_extra={"max_stream_duration": {"max_stream_duration": "0.2s"}}),
          route({"prefix": "/slow"}, "backend", route_extra={"timeout": "0.2s"})]
    p = proxy(H.http_config(admin_port, port, rs, [H.http_cluster("backend", [up.address]), H.http_cluster("empty", [])],
                            access_log=al))
    for path in ["/nothing", "/empty", "/msd", "/slow"]:
        r, _, _ = call(port, path, GRPC + HANG)
        assert (r.status, r.header("content-type")) == (200, "application/grpc")
    p.wait_for_stats({"http.ingress_http.downstream_rq_2xx": 4, "http.ingress_http.downstream_rq_5xx": 0,
                      "http.ingress_http.downstream_rq_4xx": 0})
    p.signal(signal.SIGTERM)
    p.wait_exit(30)
    assert log.read_text().splitlines() == [
        "/nothing 200 NR route_not_found",
        "/empty 200 UH no_healthy_upstream",
        "/msd 200 - max_duration_timeout",
        "/slow 200 UT response_timeout",
    ]


# -- the same rules over h2c, seen by a grpcio client ---------------------------

@pytest.fixture
def grpc_h2(proxy, admin_port):
    """A grpcio server (``Echo/Unary`` answers at once, ``Echo/Remaining``
    with the deadline it was given) and an h2 origin that never answers
    (``Echo/Slow``, rewritten to its ``/hold``) behind a proxy serving h2c,
    with gRPC routes.

    ``Echo/Slow`` does not go to the grpcio server: the proxy hands the
    server the bounded deadline (grpc-timeout rewritten to what is left after
    the offset), and grpcio ends the call itself when that runs out, at the
    same instant as the proxy's timer; whichever answer reached the client
    first won (the server's "Deadline Exceeded", under load about one run in
    five)."""
    import grpc
    from concurrent import futures
    from h2_support import H2Upstream, h2_cluster_options

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {"Unary": grpc.unary_unary_rpc_method_handler(lambda r, c: r),
                "Remaining": grpc.unary_unary_rpc_method_handler(
                    lambda r, c: f"{c.time_remaining():.3f}".encode())}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.Echo", handlers),))
    backend = server.add_insecure_port("127.0.0.1:0")
    server.start()
    hold = H2Upstream()
    port = free_port()
    msd = {"grpc_timeout_header_max": "30s", "grpc_timeout_header_offset": "9.8s"}
    rs = [route({"prefix": "/t.Echo/Unary"}, "grpc"),
          route({"prefix": "/t.Echo/Slow"}, "hold", route_extra={"max_stream_duration": msd, "prefix_rewrite": "/hold"}),
          route({"prefix": "/t.Legacy/"}, "grpc", route_extra={"max_grpc_timeout": "3s", "prefix_rewrite": "/t.Echo/"}),
          route({"prefix": "/t.Empty/"}, "empty")]
    cfg = H.http_config(admin_port, port, rs,
                        [H.http_cluster("grpc", [socket_address("127.0.0.1", backend)],
                                        typed_extension_protocol_options=h2_cluster_options()),
                         H.http_cluster("hold", [hold.address], typed_extension_protocol_options=h2_cluster_options()),
                         H.http_cluster("empty", [])],
                        codec_type="AUTO")
    p = proxy(cfg)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield p, channel
    channel.close()
    server.stop(grace=None)
    hold.stop()


@pytest.mark.parametrize("path,code,details", [
    ("/t.Echo/Unary", "OK", None),
    ("/t.Nothing/Call", "UNIMPLEMENTED", ""),
    ("/t.Empty/Call", "UNAVAILABLE", "no healthy upstream"),
    # grpc-timeout 10 s minus the route's 9.8 s offset: the proxy ends the
    # stream after 0.2 s, long before the client's own deadline.
    ("/t.Echo/Slow", "DEADLINE_EXCEEDED", "downstream duration timeout"),
])
def test_grpcio_over_h2c_sees_envoys_statuses(grpc_h2, path, code, details):
    import grpc
    p, channel = grpc_h2
    call = channel.unary_unary(path)
    t0 = time.monotonic()
    try:
        assert call(b"hi", timeout=10) == b"hi"
        got = ("OK", None)
    except grpc.RpcError as e:
        got = (e.code().name, e.details())
    assert got == (code, details)
    # The answer came from the proxy, not from the client's deadline (10 s).
    assert time.monotonic() - t0 < 5


def test_grpcio_server_gets_the_capped_deadline(grpc_h2):
    """max_grpc_timeout 3 s caps the client's 20 s, and the rewritten
    grpc-timeout tells the server (what it has left is under the cap and far
    above what a slow hop to it can use up). (The router's own timeout then
    races the server's deadline, so it is tested over HTTP/1.1 above.)"""
    p, channel = grpc_h2
    remaining = float(channel.unary_unary("/t.Legacy/Remaining")(b"", timeout=20))
    assert 1.0 < remaining <= 3.0


@pytest.mark.parametrize("content_type,code_stats", [(GRPC, False), ([], True)], ids=["grpc", "plain"])
def test_suppress_grpc_request_failure_code_stats(proxy, http_upstreams, admin_port, content_type, code_stats):
    """The router's ``suppress_grpc_request_failure_code_stats``: a gRPC
    request charges no ``upstream_rq_<code>``/``<class>xx`` (retried ones
    neither), only ``upstream_rq_completed``; other requests are counted."""
    up = http_upstreams(responder)
    port = free_port()
    rs = [route({"prefix": "/"}, "backend", route_extra={"retry_policy": {
        "retry_on": "unavailable", "num_retries": 1, "retry_back_off": {"base_interval": "0.001s"}}})]
    p = proxy(H.http_config(admin_port, port, rs, [H.http_cluster("backend", [up.address])],
                            http_filters=[H.router_filter(suppress_grpc_request_failure_code_stats=True)]))
    call(port, "/ok", content_type + [("x-grpc-status", "0")])
    call(port, "/retried", content_type + [("x-grpc-status", "14"), ("x-http-status", "503")])
    n = 1 if code_stats else None
    stats = p.wait_for_stats({"cluster.backend.upstream_rq_completed": 2, "cluster.backend.upstream_rq_retry": 1,
                              "cluster.backend.retry.upstream_rq_completed": 1})
    got = {k: stats.get(k) for k in ("cluster.backend.upstream_rq_200", "cluster.backend.upstream_rq_2xx",
                                     "cluster.backend.upstream_rq_503", "cluster.backend.upstream_rq_5xx",
                                     "cluster.backend.retry.upstream_rq_503", "cluster.backend.retry.upstream_rq_5xx")}
    assert got == {k: n for k in got}


@pytest.mark.parametrize("path,cluster", [("/empty", "empty"), ("/full", "full"), ("/dead", "dead")])
def test_upstream_failures_count_their_code(env, path, cluster):
    """Envoy charges the reply's HTTP code to the cluster (``upstream_rq_503``)
    even when the client sees a gRPC 200."""
    p, port, up = env
    name = f"cluster.{cluster}.upstream_rq_503"
    before = p.stats().get(name, 0)
    r, _, _ = call(port, path)
    assert (r.status, r.header("grpc-status")) == (200, "14")
    p.wait_for_stats({name: before + 1, f"cluster.{cluster}.upstream_rq_5xx": before + 1})
