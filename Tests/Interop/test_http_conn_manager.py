"""http_connection_manager behaviour: request ids, x-forwarded-*,
server/date/via, x-envoy-upstream-service-time, hop-by-hop headers,
header order and case, and the stream/request/idle timeouts.

"ENVOY-SPECIFIC" in a docstring marks an assertion on an exact Envoy 1.40
text, header order or non-obvious default.
"""

import re
import time

import pytest

import http_support as H
from http_support import UUID4_RE, HttpClient, Reply, simple_http_config
from support import free_port

IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                         r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def ok_reply(req):
    return Reply(200, [("content-type", "text/plain")], b"ok")


def start(proxy, http_upstreams, admin_port, responder=ok_reply, **hcm):
    up = http_upstreams(responder)
    port = free_port()
    p = proxy(simple_http_config(admin_port, port, up, **hcm))
    return p, port, up


# -- x-request-id ------------------------------------------------------------------


def test_request_id_generated_as_uuid4_when_absent(proxy, http_upstreams, admin_port):
    """A fresh UUID v4 (lower-case hex) per request; not echoed to the
    client unless ``always_set_request_id_in_response``."""
    p, port, up = start(proxy, http_upstreams, admin_port)
    with HttpClient(port) as c:
        rs = [c.request("GET", f"/{i}") for i in range(3)]
    ids = [q.header("x-request-id") for q in up.requests]
    assert all(UUID4_RE.match(i) for i in ids), ids
    assert len(set(ids)) == 3
    assert all(r.header("x-request-id") is None for r in rs)


def test_always_set_request_id_in_response(proxy, http_upstreams, admin_port):
    p, port, up = start(proxy, http_upstreams, admin_port, always_set_request_id_in_response=True)
    r = H.get(port, "/")
    assert UUID4_RE.match(r.header("x-request-id"))
    assert r.header("x-request-id") == up.requests[0].header("x-request-id")
    r = H.get(port, "/", headers=[("x-request-id", "client-id-1")])
    assert r.header("x-request-id") == "client-id-1"


@pytest.mark.envoy_specific
def test_request_id_kept_without_use_remote_address(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: without ``use_remote_address`` the client is not an
    "external" edge client, so its x-request-id is kept verbatim (any
    format) and stays in its original header position."""
    p, port, up = start(proxy, http_upstreams, admin_port)
    H.get(port, "/", headers=[("x-request-id", "my-id-123"), ("x-other", "1")])
    q = up.requests[0]
    assert q.headers.get_all("x-request-id") == ["my-id-123"]
    assert q.headers.lower_names() == ["host", "x-request-id", "x-other", "x-forwarded-proto",
                                       "x-envoy-expected-rq-timeout-ms"]


@pytest.mark.envoy_specific
def test_request_id_replaced_at_the_edge_with_use_remote_address(proxy, http_upstreams,
                                                                 admin_port):
    """ENVOY-SPECIFIC: with ``use_remote_address: true`` a loopback client is
    external (no internal_address_config), so its x-request-id is replaced
    by a new UUID v4 (in place)."""
    p, port, up = start(proxy, http_upstreams, admin_port, use_remote_address=True)
    H.get(port, "/", headers=[("x-request-id", "my-id-123")])
    q = up.requests[0]
    (rid,) = q.headers.get_all("x-request-id")
    assert rid != "my-id-123" and UUID4_RE.match(rid)
    assert q.headers.lower_names()[1] == "x-request-id"


def test_preserve_external_request_id(proxy, http_upstreams, admin_port):
    p, port, up = start(proxy, http_upstreams, admin_port, use_remote_address=True,
                        preserve_external_request_id=True)
    H.get(port, "/", headers=[("x-request-id", "my-id-123")])
    H.get(port, "/")
    assert up.requests[0].headers.get_all("x-request-id") == ["my-id-123"]
    assert UUID4_RE.match(up.requests[1].header("x-request-id"))


# -- x-forwarded-for / x-forwarded-proto -------------------------------------------


@pytest.mark.envoy_specific
def test_forwarded_headers_without_use_remote_address(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: without ``use_remote_address`` XFF is neither added
    nor appended; x-forwarded-proto is added (``http``) when absent and the
    client's value is kept; a client ``x-envoy-internal`` is removed but a
    client ``x-envoy-external-address`` passes through."""
    p, port, up = start(proxy, http_upstreams, admin_port)
    H.get(port, "/a")
    H.get(port, "/b", headers=[("x-forwarded-for", "1.2.3.4, 5.6.7.8"),
                               ("x-forwarded-proto", "https")])
    H.get(port, "/c", headers=[("x-envoy-external-address", "9.9.9.9"),
                               ("x-envoy-internal", "true")])
    a, b, c = up.requests
    assert a.header("x-forwarded-for") is None
    assert a.headers.get_all("x-forwarded-proto") == ["http"]
    assert b.headers.get_all("x-forwarded-for") == ["1.2.3.4, 5.6.7.8"]
    assert b.headers.get_all("x-forwarded-proto") == ["https"]
    assert c.header("x-envoy-internal") is None
    assert c.headers.get_all("x-envoy-external-address") == ["9.9.9.9"]


@pytest.mark.envoy_specific
def test_forwarded_headers_with_use_remote_address(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: with ``use_remote_address: true`` and a loopback peer
    Envoy appends NOT 127.0.0.1 but its own local address (the first
    non-loopback IPv4 interface address, ``H.envoy_local_address()``) to
    XFF, joined with ``,`` and no space; x-forwarded-proto is overwritten
    with ``http``; ``x-envoy-external-address: 127.0.0.1`` is set; added
    headers come in the order XFF, XFP, external-address, request id,
    expected timeout."""
    p, port, up = start(proxy, http_upstreams, admin_port, use_remote_address=True)
    local = H.envoy_local_address()
    H.get(port, "/a")
    H.get(port, "/b", headers=[("x-forwarded-for", "1.2.3.4, 5.6.7.8"),
                               ("x-forwarded-proto", "https"),
                               ("x-envoy-external-address", "9.9.9.9"),
                               ("x-envoy-internal", "true")])
    a, b = up.requests
    assert a.headers.lower_names() == ["host", "x-forwarded-for", "x-forwarded-proto",
                                       "x-envoy-external-address", "x-request-id",
                                       "x-envoy-expected-rq-timeout-ms"]
    assert a.header("x-forwarded-for") == local
    assert a.header("x-forwarded-proto") == "http"
    assert a.header("x-envoy-external-address") == "127.0.0.1"
    assert b.headers.get_all("x-forwarded-for") == [f"1.2.3.4, 5.6.7.8,{local}"]
    assert b.headers.get_all("x-forwarded-proto") == ["http"]
    assert b.headers.get_all("x-envoy-external-address") == ["127.0.0.1"]
    assert b.header("x-envoy-internal") is None


@pytest.mark.envoy_specific
def test_xff_num_trusted_hops(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: with ``xff_num_trusted_hops: 1`` the client's
    x-forwarded-proto is trusted (kept) and the original XFF's last entry
    becomes ``x-envoy-external-address``; the local address is still
    appended to XFF."""
    p, port, up = start(proxy, http_upstreams, admin_port, use_remote_address=True,
                        xff_num_trusted_hops=1)
    local = H.envoy_local_address()
    H.get(port, "/a", headers=[("x-forwarded-for", "1.2.3.4, 5.6.7.8"),
                               ("x-forwarded-proto", "https")])
    H.get(port, "/b", headers=[("x-forwarded-for", "1.2.3.4")])
    H.get(port, "/c")
    a, b, c = up.requests
    assert a.header("x-forwarded-for") == f"1.2.3.4, 5.6.7.8,{local}"
    assert a.header("x-forwarded-proto") == "https"
    assert a.header("x-envoy-external-address") == "5.6.7.8"
    assert b.header("x-envoy-external-address") == "1.2.3.4"
    assert b.header("x-forwarded-proto") == "http"
    assert c.header("x-forwarded-for") == local
    assert c.header("x-envoy-external-address") == "127.0.0.1"


# -- server, date, via, service time ---------------------------------------------


@pytest.mark.envoy_specific
def test_server_and_date_headers(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``server: envoy`` by default, replaced by
    ``server_name``; an upstream ``Server`` is overwritten IN PLACE (default
    ``server_header_transformation: OVERWRITE``); ``date`` is added in
    IMF-fixdate form when the upstream sends none, but an upstream ``Date``
    is passed through unchanged."""
    def responder(req):
        if req.path == "/with-server":
            return Reply(200, [("Server", "upstream-srv"), ("Date", "Tue, 01 Jan 2030 00:00:00 GMT"),
                               ("X-After", "1")], b"ok")
        return Reply(200, [("content-type", "text/plain")], b"ok")

    p, port, up = start(proxy, http_upstreams, admin_port, responder)
    r = H.get(port, "/")
    assert r.header("server") == "envoy"
    assert IMF_FIXDATE.match(r.header("date")), r.header("date")
    assert r.headers.lower_names() == ["content-type", "content-length",
                                       "x-envoy-upstream-service-time", "date", "server"]

    p2, port2, _ = start(proxy, http_upstreams, free_port(), responder, server_name="remora-test")
    r = H.get(port2, "/")
    assert r.header("server") == "remora-test"
    r = H.get(port2, "/with-server")
    assert r.headers == [("server", "remora-test"), ("date", "Tue, 01 Jan 2030 00:00:00 GMT"),
                         ("x-after", "1"), ("content-length", "2"),
                         ("x-envoy-upstream-service-time", r.header("x-envoy-upstream-service-time"))]


def test_upstream_service_time(proxy, http_upstreams, admin_port):
    """``x-envoy-upstream-service-time`` is the upstream latency in whole
    milliseconds."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        lambda req: Reply(200, [], b"ok", delay=0.3))
    r = H.get(port, "/")
    v = r.header("x-envoy-upstream-service-time")
    assert v is not None and v.isdigit()
    assert 300 <= int(v) < 2000, v


@pytest.mark.envoy_specific
def test_via_header(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``via`` is appended to an existing Via with ``", "``
    on both the request and the response, and added when absent (the
    response ``via`` comes after ``server``)."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        lambda req: Reply(200, [("Via", "1.0 upstream")] if req.path == "/v" else [],
                                          b"ok"), via="1.1 remora")
    r1 = H.get(port, "/")
    r2 = H.get(port, "/v", headers=[("Via", "1.0 client")])
    assert up.requests[0].headers.get_all("via") == ["1.1 remora"]
    assert up.requests[1].headers.get_all("via") == ["1.0 client, 1.1 remora"]
    assert r1.headers.lower_names()[-2:] == ["server", "via"]
    assert r1.header("via") == "1.1 remora"
    assert r2.headers.get_all("via") == ["1.0 upstream, 1.1 remora"]


# -- header handling ------------------------------------------------------------


@pytest.mark.envoy_specific
def test_upstream_request_and_response_header_order_and_case(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: header names are lower-cased both ways; the client's
    headers keep their order (Host first), then Envoy appends
    ``x-forwarded-proto``, ``x-request-id``,
    ``x-envoy-expected-rq-timeout-ms: 15000`` (default route timeout 15 s);
    the response keeps the upstream's order and appends
    ``x-envoy-upstream-service-time``, ``date``, ``server``."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        lambda req: Reply(200, [("X-Zeta", "1"), ("Content-Type", "text/plain"),
                                                ("X-Alpha", "2"), ("X-Zeta", "3")], b"body"))
    r = H.get(port, "/order", headers=[("User-Agent", "t/1"), ("X-Mixed-Case", "Value"),
                                       ("Accept", "*/*"), ("X-Dup", "1"), ("X-Dup", "2")])
    q = up.requests[0]
    assert q.headers == [("host", "example.com"), ("user-agent", "t/1"),
                         ("x-mixed-case", "Value"), ("accept", "*/*"), ("x-dup", "1"),
                         ("x-dup", "2"), ("x-forwarded-proto", "http"),
                         ("x-request-id", q.header("x-request-id")),
                         ("x-envoy-expected-rq-timeout-ms", "15000")]
    assert r.headers.lower_names() == ["x-zeta", "content-type", "x-alpha", "x-zeta",
                                       "content-length", "x-envoy-upstream-service-time",
                                       "date", "server"]
    assert r.headers.get_all("x-zeta") == ["1", "3"]


@pytest.mark.envoy_specific
def test_hop_by_hop_headers_removed(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: upstream-bound requests lose Connection (and the
    headers it nominates), Keep-Alive, Proxy-Connection, Upgrade (no upgrade
    configured) and ``TE`` other than ``trailers``; responses lose
    Connection, Keep-Alive, Proxy-Connection and Upgrade."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        lambda req: Reply(200, [("Connection", "keep-alive"),
                                                ("Keep-Alive", "timeout=5"),
                                                ("Proxy-Connection", "keep-alive"),
                                                ("Upgrade", "h2c"), ("X-Kept", "1")], b"ok"))
    r = H.get(port, "/", headers=[("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"),
                                  ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"),
                                  ("Upgrade", "h2c"), ("TE", "trailers"), ("X-Kept", "1")])
    q = up.requests[0]
    assert q.headers.lower_names() == ["host", "te", "x-kept", "x-forwarded-proto",
                                       "x-request-id", "x-envoy-expected-rq-timeout-ms"]
    assert q.header("te") == "trailers"
    assert r.headers.lower_names() == ["x-kept", "content-length",
                                       "x-envoy-upstream-service-time", "date", "server"]
    H.get(port, "/", headers=[("TE", "gzip")])
    assert up.requests[1].header("te") is None


@pytest.mark.envoy_specific
def test_client_envoy_control_headers_are_stripped_and_ignored(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: the client is untrusted (external) by default, so its
    ``x-envoy-upstream-rq-timeout-ms``, ``x-envoy-retry-on`` and
    ``x-envoy-max-retries`` are removed and have no effect: a 100 ms
    timeout request to a 0.4 s upstream still gets its 200, and a 503 is
    not retried."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        lambda req: Reply(503 if req.path == "/503" else 200, [], b"x", delay=0.4))
    control = [("x-envoy-upstream-rq-timeout-ms", "100"), ("x-envoy-retry-on", "5xx"),
               ("x-envoy-max-retries", "3")]
    r = H.get(port, "/slow", headers=control)
    assert r.status == 200
    r = H.get(port, "/503", headers=control)
    assert r.status == 503 and len(up.requests) == 2
    for q in up.requests:
        assert not any(k.startswith("x-envoy-") and k != "x-envoy-expected-rq-timeout-ms"
                       for k in q.headers.lower_names()), q.headers
        assert q.header("x-envoy-expected-rq-timeout-ms") == "15000"


def test_client_connection_close(proxy, http_upstreams, admin_port):
    """``Connection: close`` from the client: the response says
    ``connection: close`` (last header) and the proxy closes."""
    p, port, up = start(proxy, http_upstreams, admin_port)
    with HttpClient(port) as c:
        r = c.request("GET", "/", headers=[("Connection", "close")])
        elapsed, extra = c.wait_closed(3)
    assert r.status == 200 and r.headers.lower_names()[-1] == "connection"
    assert r.header("connection") == "close" and extra == b""
    assert up.requests[0].header("connection") is None


# -- timeouts -----------------------------------------------------------------------


@pytest.mark.envoy_specific
def test_stream_idle_timeout_on_incomplete_request(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``stream_idle_timeout: 1s`` and a client that stops in
    the middle of the headers (or the body): ``408`` with body ``stream
    timeout`` and ``connection: close``; no complete request reaches the
    upstream (Envoy may already have forwarded the POST's head)."""
    p, port, up = start(proxy, http_upstreams, admin_port, stream_idle_timeout="1s")
    for partial in (b"GET / HTTP/1.1\r\nHost: example.com\r\n",
                    b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\nabc"):
        with HttpClient(port) as c:
            t0 = time.monotonic()
            c.send(partial)
            r = c.read_response()
            elapsed = time.monotonic() - t0
        assert (r.status, r.reason, r.body) == (408, "Request Timeout", b"stream timeout")
        assert r.headers.lower_names() == ["content-length", "content-type", "date", "server",
                                           "connection"]
        assert 0.8 <= elapsed <= 3.0, elapsed
    assert up.requests == []
    p.wait_for_stats({"http.ingress_http.downstream_rq_idle_timeout": 2})


@pytest.mark.envoy_specific
def test_stream_idle_timeout_waiting_for_upstream(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: a complete request whose upstream stays silent past
    ``stream_idle_timeout``: ``504`` with body ``stream timeout`` and the
    client connection stays open."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        lambda req: Reply(200, [], b"late", delay=10), stream_idle_timeout="1s")
    with HttpClient(port) as c:
        t0 = time.monotonic()
        r = c.request("GET", "/")
        elapsed = time.monotonic() - t0
        assert (r.status, r.body) == (504, b"stream timeout")
        assert r.header("connection") is None and r.header("content-type") == "text/plain"
        assert c.is_open(0.2)
    assert 0.8 <= elapsed <= 3.0


@pytest.mark.envoy_specific
def test_request_timeout(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``request_timeout: 1s`` bounds receiving the whole
    request: an unfinished request gets ``408`` body ``request timeout``
    plus ``connection: close``.  It does not apply once the request is
    complete (a 1.5 s upstream still answers 200)."""
    def responder(req):
        return Reply(200, [], b"slow but fine", delay=1.5)

    p, port, up = start(proxy, http_upstreams, admin_port, responder, request_timeout="1s")
    with HttpClient(port) as c:
        t0 = time.monotonic()
        c.send(b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\nabc")
        r = c.read_response()
        elapsed = time.monotonic() - t0
    assert (r.status, r.body, r.header("connection")) == (408, b"request timeout", "close")
    assert 0.8 <= elapsed <= 3.0
    with HttpClient(port) as c:
        r = c.request("GET", "/")
    assert (r.status, r.body) == (200, b"slow but fine")
    p.wait_for_stats({"http.ingress_http.downstream_rq_timeout": 1})


@pytest.mark.envoy_specific
@pytest.mark.deadline(30)
def test_idle_timeout_closes_connection(proxy, http_upstreams, admin_port):
    """ENVOY-SPECIFIC: ``common_http_protocol_options.idle_timeout: 1s``.  A
    connection that never carried a request is closed after 1 s.  After a
    request, Envoy starts its drain sequence at the idle timeout: the close
    comes after idle_timeout + ``drain_timeout`` (here 0.5 s) + the 1 s
    ``delayed_close_timeout``, i.e. about 2.5 s; nothing is sent."""
    p, port, up = start(proxy, http_upstreams, admin_port,
                        common_http_protocol_options={"idle_timeout": "1s"},
                        drain_timeout="0.5s")
    with HttpClient(port) as unused, HttpClient(port) as used:
        assert used.request("GET", "/").status == 200
        t_unused, extra1 = unused.wait_closed(5)
        t_used, extra2 = used.wait_closed(6)
    assert extra1 == b"" and extra2 == b""
    assert 0.8 <= t_unused <= 1.7, t_unused
    # wait_closed(used) started about when the unused one closed (~1 s in)
    total_used = t_unused + t_used
    assert 2.1 <= total_used <= 3.4, total_used
    p.wait_for_stats({"http.ingress_http.downstream_cx_idle_timeout": 2})


def test_route_timeout_sets_expected_timeout_header(proxy, http_upstreams, admin_port):
    """The route ``timeout`` shows in ``x-envoy-expected-rq-timeout-ms``;
    ``timeout: 0s`` disables it and the header is not sent."""
    up = http_upstreams(ok_reply)
    port = free_port()
    cfg = H.http_config(admin_port, port, [
        H.route({"prefix": "/t3"}, "backend", route_extra={"timeout": "3s"}),
        H.route({"prefix": "/none"}, "backend", route_extra={"timeout": "0s"}),
        H.route({"prefix": "/"}, "backend"),
    ], [H.http_cluster("backend", [up.address])])
    proxy(cfg)
    H.get(port, "/t3")
    H.get(port, "/none")
    H.get(port, "/")
    a, b, c = up.requests
    assert a.header("x-envoy-expected-rq-timeout-ms") == "3000"
    assert b.header("x-envoy-expected-rq-timeout-ms") is None
    assert c.header("x-envoy-expected-rq-timeout-ms") == "15000"


def test_route_idle_timeout_overrides_stream_idle_timeout(proxy, http_upstreams, admin_port):
    """A route's ``idle_timeout`` replaces ``stream_idle_timeout`` for its
    streams: an upstream that stalls gets ``504 stream timeout`` after the
    route's 0.5 s, while another route keeps the connection manager's."""
    up = http_upstreams(lambda req: Reply(200, [], b"late", delay=4))
    port = free_port()
    cfg = H.http_config(admin_port, port, [
        H.route({"prefix": "/short"}, "backend", route_extra={"idle_timeout": "0.5s"}),
        H.route({"prefix": "/"}, "backend"),
    ], [H.http_cluster("backend", [up.address])])
    proxy(cfg)
    t0 = time.monotonic()
    r = H.get(port, "/short")
    elapsed = time.monotonic() - t0
    assert (r.status, r.body) == (504, b"stream timeout")
    assert 0.3 <= elapsed <= 3.0, elapsed   # the route's 0.5 s, not the upstream's 4 s
    r = H.get(port, "/long")
    assert (r.status, r.body) == (200, b"late")
