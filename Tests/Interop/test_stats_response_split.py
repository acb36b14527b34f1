"""How the router charges a response to its cluster, as Envoy 1.40's
`CodeStatsImpl` does: every response, and every local reply standing for
one (a connect failure's 503), counts `upstream_rq_completed` and its code;
the same three counters are kept again under `internal.` or `external.`,
whether the downstream request was internal (`x-envoy-internal: true`
after the connection manager: with `use_remote_address`, a client from an
`internal_address_config` range that sent no x-forwarded-for); mirrored
requests are internal. `upstream_rq_time` and its `internal.`/`external.`
twin run from the end of the downstream request to the end of the
response (Envoy's `onUpstreamComplete`).

Both proxies run it (PROXY_KIND=envoy for Envoy 1.40)."""

from __future__ import annotations

import re
import time
import urllib.parse

import support
from http_support import (HttpClient, Reply, http_cluster, http_listener, route, route_config, vhost)
from support import bootstrap, free_port

INTERNAL_RANGES = {"cidr_ranges": [{"address_prefix": "127.0.0.0", "prefix_len": 8}]}


def two_listener_config(admin_port: int, internal_port: int, external_port: int, routes: list[dict],
                        clusters: list[dict]) -> dict:
    """The same routes behind an edge listener that trusts loopback
    (requests from it are internal) and a plain one (external)."""
    rc = route_config([vhost("vh", ["*"], routes)])
    edge = http_listener("edge", internal_port, rc, stat_prefix="edge", use_remote_address=True,
                         internal_address_config=INTERNAL_RANGES)
    plain = http_listener("plain", external_port, rc, stat_prefix="plain")
    cfg = bootstrap(admin_port, [edge, plain], clusters)
    cfg["stats_flush_interval"] = "1s"
    return cfg


def send(port: int, target: str, extra: bytes = b"") -> int:
    with HttpClient(port) as c:
        c.send(f"GET {target} HTTP/1.1\r\nhost: example.com\r\n".encode() + extra + b"\r\n")
        return c.read_response().status


def histogram(p, name: str) -> dict | None:
    """`/stats` line of histogram ``name`` as {quantile: cumulative}; None
    when it is not listed, {} for "No recorded values"."""
    status, body = p.admin("GET", "/stats?filter=" + urllib.parse.quote("^" + re.escape(name) + "$"))
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + ": "):
            summary = line[len(name) + 2:]
            if summary == "No recorded values":
                return {}
            return {q: float(c) for q, _, c in re.findall(r"(P[\d.]+)\(([^,]*),([^)]*)\)", summary)}
    return None


def wait_histogram(p, name: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        h = histogram(p, name)
        if h:
            return h
        assert time.monotonic() < deadline, f"{name}: {h!r} after {timeout}s"
        time.sleep(0.2)


def test_responses_split_by_internal_and_external(proxy, http_upstreams, admin_port):
    up = http_upstreams(lambda req: Reply(404 if req.target == "/missing" else 200, body=b"x"))
    dead = free_port()
    internal_port, external_port = free_port(), free_port()
    routes = [route({"prefix": "/dead"}, "dead"), route({"prefix": "/"}, "backend")]
    clusters = [http_cluster("backend", [up.address]), http_cluster("dead", [support.socket_address("127.0.0.1", dead)])]
    p = proxy(two_listener_config(admin_port, internal_port, external_port, routes, clusters))

    assert send(internal_port, "/a") == 200
    assert send(internal_port, "/missing") == 404
    # An x-forwarded-for from the client makes the edge's request external.
    assert send(internal_port, "/b", b"x-forwarded-for: 10.1.2.3\r\n") == 200
    # Without use_remote_address the proxy does not trust the client's x-envoy-internal.
    assert send(external_port, "/c", b"x-envoy-internal: true\r\n") == 200
    assert send(external_port, "/d") == 200
    # A connect failure's 503 is charged as a response.
    assert send(internal_port, "/dead") == 503
    assert send(external_port, "/dead") == 503

    c = "cluster.backend."
    stats = p.wait_for_stats({
        c + "upstream_rq_completed": 5, c + "upstream_rq_200": 4, c + "upstream_rq_2xx": 4,
        c + "upstream_rq_404": 1, c + "upstream_rq_4xx": 1,
        c + "internal.upstream_rq_completed": 2, c + "internal.upstream_rq_200": 1, c + "internal.upstream_rq_2xx": 1,
        c + "internal.upstream_rq_404": 1, c + "internal.upstream_rq_4xx": 1,
        c + "external.upstream_rq_completed": 3, c + "external.upstream_rq_200": 3, c + "external.upstream_rq_2xx": 3,
        "cluster.dead.upstream_rq_completed": 2, "cluster.dead.upstream_rq_503": 2,
        "cluster.dead.internal.upstream_rq_503": 1, "cluster.dead.internal.upstream_rq_5xx": 1,
        "cluster.dead.internal.upstream_rq_completed": 1,
        "cluster.dead.external.upstream_rq_503": 1, "cluster.dead.external.upstream_rq_5xx": 1,
        "cluster.dead.external.upstream_rq_completed": 1,
    })
    # Created on first use: no external 404 was ever counted.
    assert c + "external.upstream_rq_404" not in stats and c + "external.upstream_rq_4xx" not in stats
    # The times of the responses (not of the local replies, which had no upstream response).
    assert wait_histogram(p, c + "internal.upstream_rq_time")
    assert wait_histogram(p, c + "external.upstream_rq_time")
    assert wait_histogram(p, c + "upstream_rq_time")
    assert histogram(p, "cluster.dead.upstream_rq_time") is None
    assert histogram(p, "cluster.dead.internal.upstream_rq_time") is None


def test_upstream_rq_time_ends_with_the_response(proxy, upstreams, admin_port):
    """The upstream sends its head at once and the body 300 ms later: the
    time runs to the body's end. A response cut short (the upstream closes
    in its body) is charged its code and `upstream_rq_completed` at the
    head, and no time."""

    def slow_body(conn, server):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            if head.startswith(b"GET /cut"):
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
                time.sleep(0.1)
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab")
            time.sleep(0.3)
            conn.sendall(b"cd")

    up = upstreams(slow_body)
    internal_port, external_port = free_port(), free_port()
    p = proxy(two_listener_config(admin_port, internal_port, external_port, [route({"prefix": "/"}, "backend")],
                                  [http_cluster("backend", [up.address])]))
    with HttpClient(internal_port) as client:
        assert client.request("GET", "/slow").body == b"abcd"
    h = wait_histogram(p, "cluster.backend.internal.upstream_rq_time")
    assert h["P0"] >= 290, h
    assert wait_histogram(p, "cluster.backend.upstream_rq_time")["P0"] >= 290
    assert histogram(p, "cluster.backend.external.upstream_rq_time") is None

    with HttpClient(external_port) as client:
        client.send(b"GET /cut HTTP/1.1\r\nhost: example.com\r\n\r\n")
        try:
            client.read_response()
        except AssertionError:
            pass  # the body is cut short
    p.wait_for_stats({"cluster.backend.upstream_rq_completed": 2, "cluster.backend.upstream_rq_200": 2,
                      "cluster.backend.external.upstream_rq_completed": 1,
                      "cluster.backend.external.upstream_rq_200": 1})
    time.sleep(1.5)  # a flush
    assert histogram(p, "cluster.backend.external.upstream_rq_time") is None


def test_mirrored_requests_are_internal(proxy, http_upstreams, admin_port):
    main, shadow = http_upstreams(name="main"), http_upstreams(Reply(201, body=b"s"), name="shadow")
    internal_port, external_port = free_port(), free_port()
    routes = [route({"prefix": "/"}, "main", route_extra={"request_mirror_policies": [{"cluster": "shadow"}]})]
    p = proxy(two_listener_config(admin_port, internal_port, external_port, routes,
                                  [http_cluster("main", [main.address]), http_cluster("shadow", [shadow.address])]))
    assert send(external_port, "/x") == 200
    assert send(external_port, "/y") == 200
    stats = p.wait_for_stats({
        "cluster.main.external.upstream_rq_200": 2, "cluster.main.upstream_rq_completed": 2,
        "cluster.shadow.upstream_rq_201": 2, "cluster.shadow.upstream_rq_completed": 2,
        "cluster.shadow.internal.upstream_rq_201": 2, "cluster.shadow.internal.upstream_rq_2xx": 2,
        "cluster.shadow.internal.upstream_rq_completed": 2,
    })
    assert "cluster.shadow.external.upstream_rq_completed" not in stats
    assert "cluster.main.internal.upstream_rq_completed" not in stats
    assert wait_histogram(p, "cluster.shadow.internal.upstream_rq_time")


def test_retry_given_up_for_a_body_too_big_to_replay(proxy, http_upstreams, admin_port):
    """`retry_or_shadow_abandoned`: the request body outgrew the route's
    buffer limit, so the 503 is not retried; a mirror streams its copy and
    is not given up."""
    up, shadow = http_upstreams(Reply(503, body=b"no")), http_upstreams(Reply(200, body=b"s"), name="shadow")
    internal_port, external_port = free_port(), free_port()
    routes = [route({"prefix": "/retry"}, "backend", per_request_buffer_limit_bytes=1024,
                    route_extra={"retry_policy": {"retry_on": "5xx", "num_retries": 1}}),
              route({"prefix": "/mirror"}, "backend", per_request_buffer_limit_bytes=1024,
                    route_extra={"request_mirror_policies": [{"cluster": "shadow"}]})]
    p = proxy(two_listener_config(admin_port, internal_port, external_port, routes,
                                  [http_cluster("backend", [up.address]), http_cluster("shadow", [shadow.address])]))

    def post(target: str, size: int) -> int:
        with HttpClient(external_port) as c:
            c.send(f"POST {target} HTTP/1.1\r\nhost: example.com\r\ncontent-length: {size}\r\n\r\n".encode() + b"x" * size)
            return c.read_response().status

    assert post("/retry", 4096) == 503
    assert post("/mirror", 4096) == 503
    assert post("/retry", 10) == 503
    p.wait_for_stats({"cluster.backend.retry_or_shadow_abandoned": 1, "cluster.backend.upstream_rq_retry": 1,
                      "cluster.backend.upstream_rq_total": 4, "cluster.shadow.upstream_rq_200": 1,
                      "cluster.shadow.retry_or_shadow_abandoned": 0})
