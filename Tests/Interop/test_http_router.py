"""Router: virtual host selection, route matching, route actions
(clusters, weighted clusters, cluster_header, rewrites, host rewrites),
redirects, direct responses and header manipulation.

Most tests share one proxy whose route table uses ``direct_response``
bodies (``vh:<name>``, ``r:<name>``) to report which virtual host / route
matched, so that matching is tested without upstream noise.
"""

import collections

import pytest

import http_support as H
from http_support import HttpClient, HttpUpstream, Reply, route, vhost
from support import ProxyProcess, free_port, socket_address


def direct(body: str, status: int = 200) -> dict:
    return {"status": status, "body": {"inline_string": body}}


def tag_vhost(name: str, domains: list) -> dict:
    return vhost(name, domains, [route({"prefix": "/"}, direct_response=direct(f"vh:{name}"))])


def hm(name: str, **kw) -> dict:
    d = {"name": name}
    d.update(kw)
    return d


MATCH_ROUTES = [
    ("path", {"path": "/exact"}),
    ("path_separated_prefix", {"path_separated_prefix": "/api"}),
    ("regex", {"safe_regex": {"regex": "/re/[0-9]+"}}),
    ("case_insensitive", {"prefix": "/CaSe", "case_sensitive": False}),
    ("case_sensitive", {"path": "/Sensitive"}),
    ("h_exact", {"prefix": "/h", "headers": [hm("x-exact", string_match={"exact": "v1"})]}),
    ("h_prefix", {"prefix": "/h", "headers": [hm("x-prefix", string_match={"prefix": "pre"})]}),
    ("h_suffix", {"prefix": "/h", "headers": [hm("x-suffix", string_match={"suffix": "fix"})]}),
    ("h_contains", {"prefix": "/h",
                    "headers": [hm("x-contains", string_match={"contains": "mid"})]}),
    ("h_regex", {"prefix": "/h",
                 "headers": [hm("x-regex", string_match={"safe_regex": {"regex": "[a-c]+[0-9]"}})]}),
    ("h_range", {"prefix": "/h", "headers": [hm("x-range", range_match={"start": 10, "end": 20})]}),
    ("h_present", {"prefix": "/h", "headers": [hm("x-present", present_match=True)]}),
    ("h_two", {"prefix": "/two", "headers": [hm("x-a", string_match={"exact": "1"}),
                                             hm("x-b", string_match={"exact": "2"})]}),
    ("h_invert", {"prefix": "/inv",
                  "headers": [hm("x-env", string_match={"exact": "prod"}, invert_match=True)]}),
    ("q_exact", {"prefix": "/q", "query_parameters": [hm("k", string_match={"exact": "v"})]}),
    ("q_present", {"prefix": "/q", "query_parameters": [hm("flag", present_match=True)]}),
    ("prefix_first", {"prefix": "/pre"}),
    ("prefix_second", {"prefix": "/prefix"}),  # shadowed by /pre: first match wins
    ("default", {"prefix": "/"}),
]


def match_vhost() -> dict:
    return vhost("routes", ["routes.example"],
                 [route(m, direct_response=direct(f"r:{name}")) for name, m in MATCH_ROUTES])


def redirect_vhost() -> dict:
    def rd(path, **r):
        return route({"path": path}, redirect=r)
    return vhost("redirects", ["redirect.example", "redirect.example:8080"], [
        rd("/https", https_redirect=True),
        rd("/host", host_redirect="new.example"),
        rd("/port", port_redirect=8443),
        rd("/path", path_redirect="/new/path"),
        route({"prefix": "/old/"}, redirect={"prefix_rewrite": "/new/"}),
        rd("/308", path_redirect="/c", response_code="PERMANENT_REDIRECT"),
        rd("/302", path_redirect="/c", response_code="FOUND"),
        rd("/303", path_redirect="/c", response_code="SEE_OTHER"),
        rd("/307", path_redirect="/c", response_code="TEMPORARY_REDIRECT"),
        rd("/strip", path_redirect="/s", strip_query=True),
        rd("/keep", path_redirect="/s"),
        rd("/scheme", scheme_redirect="ftp"),
    ])


def action_vhost() -> dict:
    return vhost("actions", ["actions.example"], [
        route({"prefix": "/a/"}, "a"),
        route({"prefix": "/b/"}, "b"),
        route({"prefix": "/weighted"}, route_extra={"weighted_clusters": {"clusters": [
            {"name": "a", "weight": 80}, {"name": "b", "weight": 20}]}}),
        route({"prefix": "/by-header"}, route_extra={"cluster_header": "x-target-cluster"}),
        route({"prefix": "/pr/"}, "a", route_extra={"prefix_rewrite": "/rewritten/"}),
        route({"prefix": "/strip"}, "a", route_extra={"prefix_rewrite": "/"}),
        route({"prefix": "/rx/"}, "a", route_extra={"regex_rewrite": {
            "pattern": {"regex": "^/rx/(\\w+)/(\\w+)$"}, "substitution": "/swapped/\\2/\\1"}}),
        route({"prefix": "/hostlit"}, "a", route_extra={"host_rewrite_literal": "rewritten.example"}),
        route({"prefix": "/autohost-static"}, "a", route_extra={"auto_host_rewrite": True}),
        route({"prefix": "/autohost"}, "a_dns", route_extra={"auto_host_rewrite": True}),
    ])


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    a = HttpUpstream(lambda req: Reply(200, [("x-upstream", "a")], b"a"), name="a")
    b = HttpUpstream(lambda req: Reply(200, [("x-upstream", "b")], b"b"), name="b")
    port = free_port()
    rc = H.route_config([
        tag_vhost("exact", ["exact.example"]),
        tag_vhost("exact_in_suffix", ["exact.suffix.example"]),
        tag_vhost("with_port", ["port.example:8080"]),
        tag_vhost("suffix", ["*.suffix.example"]),
        tag_vhost("longer_suffix", ["*.deep.suffix.example"]),
        tag_vhost("prefix", ["prefix.*"]),
        tag_vhost("multi", ["one.example", "two.example"]),
        match_vhost(),
        redirect_vhost(),
        action_vhost(),
        tag_vhost("default", ["*"]),
    ], validate_clusters=False)
    cfg = H.http_config(free_port(), port, rc, [
        H.http_cluster("a", [a.address]),
        H.http_cluster("b", [b.address]),
        H.http_cluster("a_dns", [socket_address("localhost", a.port)], type="STRICT_DNS",
                       dns_lookup_family="V4_ONLY"),
    ])
    p = ProxyProcess(tmp_path_factory.mktemp("http_router"), "proxy")
    try:
        p.start(cfg)
        yield p, port, a, b
    finally:
        p.kill()
        a.stop()
        b.stop()


@pytest.fixture
def env(shared, request):
    p, port, a, b = shared
    request.node._interop_proxies = [p]
    for u in (a, b):
        with u.lock:
            u.requests.clear()
    return shared


# -- virtual hosts ---------------------------------------------------------------

DOMAIN_CASES = [
    ("exact.example", "exact"),
    ("EXACT.Example", "exact"),                  # host matching is case-insensitive
    ("exact.suffix.example", "exact_in_suffix"),  # exact beats *.suffix
    ("port.example:8080", "with_port"),
    ("port.example", "default"),
    ("port.example:9090", "default"),
    ("a.suffix.example", "suffix"),
    ("x.y.suffix.example", "suffix"),
    ("x.deep.suffix.example", "longer_suffix"),  # longest suffix wins
    ("suffix.example", "default"),               # "*.suffix.example" needs a label
    ("prefix.anything", "prefix"),
    ("prefix.suffix.example", "suffix"),          # suffix wildcard beats prefix wildcard
    ("two.example", "multi"),
    ("unknown.example", "default"),
    # ENVOY-SPECIFIC: a port in Host is NOT stripped by default
    # (strip_matching_host_port false), so "exact.example:80" is not exact.
    ("exact.example:80", "default"),
    ("a.suffix.example:8080", "default"),        # ... and neither for wildcard domains
]


@pytest.mark.envoy_specific  # see the ENVOY-SPECIFIC cases in the table
def test_virtual_host_selection_by_domains(env):
    p, port, a, b = env
    with HttpClient(port) as c:
        got = {host: c.request("GET", "/", host=host).body.decode() for host, _ in DOMAIN_CASES}
    assert got == {host: f"vh:{vh}" for host, vh in DOMAIN_CASES}


# -- route matching --------------------------------------------------------------

ROUTE_CASES = [
    ("/exact", [], "path"),
    ("/exact?x=1", [], "path"),          # the query is not part of the path
    ("/exact/", [], "default"),
    ("/api", [], "path_separated_prefix"),
    ("/api/v1", [], "path_separated_prefix"),
    ("/api?x", [], "path_separated_prefix"),
    ("/apix", [], "default"),
    ("/re/123", [], "regex"),
    ("/re/123?q=1", [], "regex"),
    ("/re/12a", [], "default"),          # the regex must match the whole path
    ("/re/123/x", [], "default"),
    ("/case/x", [], "case_insensitive"),
    ("/CASE", [], "case_insensitive"),
    ("/Sensitive", [], "case_sensitive"),
    ("/sensitive", [], "default"),
    ("/h", [("x-exact", "v1")], "h_exact"),
    ("/h", [("x-exact", "v2")], "default"),
    ("/h", [("x-prefix", "prefixed")], "h_prefix"),
    ("/h", [("x-suffix", "a-suffix")], "h_suffix"),
    ("/h", [("x-contains", "a-mid-b")], "h_contains"),
    ("/h", [("x-regex", "abc1")], "h_regex"),
    ("/h", [("x-regex", "abc12")], "default"),
    ("/h", [("x-range", "10")], "h_range"),
    ("/h", [("x-range", "19")], "h_range"),
    ("/h", [("x-range", "20")], "default"),      # range end is exclusive
    ("/h", [("x-range", "-5")], "default"),
    ("/h", [("x-range", "abc")], "default"),
    ("/h", [("x-present", "")], "h_present"),
    ("/h", [], "default"),
    ("/two", [("x-a", "1"), ("x-b", "2")], "h_two"),
    ("/two", [("x-a", "1")], "default"),
    ("/inv", [("x-env", "dev")], "h_invert"),
    # ENVOY-SPECIFIC: an ABSENT header never matches, even inverted.
    ("/inv", [], "default"),
    ("/inv", [("x-env", "prod")], "default"),
    ("/q?k=v", [], "q_exact"),
    ("/q?a=1&k=v&b=2", [], "q_exact"),
    ("/q?k=w", [], "default"),
    ("/q?flag", [], "q_present"),
    ("/q?flag=", [], "q_present"),
    ("/q", [], "default"),
    ("/pre", [], "prefix_first"),
    ("/prefix/x", [], "prefix_first"),
    ("/nothing", [], "default"),
]


@pytest.mark.envoy_specific  # see the ENVOY-SPECIFIC cases in the table
def test_route_matching(env):
    p, port, a, b = env
    with HttpClient(port) as c:
        got = [(path, hdrs, c.request("GET", path, host="routes.example", headers=hdrs).body.decode())
               for path, hdrs, _ in ROUTE_CASES]
    assert got == [(path, hdrs, f"r:{name}") for path, hdrs, name in ROUTE_CASES]


# -- redirects ---------------------------------------------------------------------

REDIRECT_CASES = [
    # (target, host, status, reason, location)
    ("/https?a=1", "redirect.example", 301, "Moved Permanently", "https://redirect.example/https?a=1"),
    # ENVOY-SPECIFIC: https_redirect keeps a non-default port
    ("/https", "redirect.example:8080", 301, "Moved Permanently",
     "https://redirect.example:8080/https"),
    ("/host", "redirect.example:8080", 301, "Moved Permanently", "http://new.example/host"),
    ("/port", "redirect.example:8080", 301, "Moved Permanently", "http://redirect.example:8443/port"),
    ("/port", "redirect.example", 301, "Moved Permanently", "http://redirect.example:8443/port"),
    ("/path?q=1", "redirect.example", 301, "Moved Permanently", "http://redirect.example/new/path?q=1"),
    ("/old/a/b?x", "redirect.example", 301, "Moved Permanently", "http://redirect.example/new/a/b?x"),
    ("/308", "redirect.example", 308, "Permanent Redirect", "http://redirect.example/c"),
    ("/302", "redirect.example", 302, "Found", "http://redirect.example/c"),
    ("/303", "redirect.example", 303, "See Other", "http://redirect.example/c"),
    ("/307", "redirect.example", 307, "Temporary Redirect", "http://redirect.example/c"),
    ("/strip?a=1", "redirect.example", 301, "Moved Permanently", "http://redirect.example/s"),
    ("/keep?a=1", "redirect.example", 301, "Moved Permanently", "http://redirect.example/s?a=1"),
    ("/scheme", "redirect.example", 301, "Moved Permanently", "ftp://redirect.example/scheme"),
]


@pytest.mark.envoy_specific
def test_redirects(env):
    """ENVOY-SPECIFIC: redirects are empty-bodied local replies with header
    order ``location, date, server, content-length: 0``."""
    p, port, a, b = env
    with HttpClient(port) as c:
        for target, host, status, reason, location in REDIRECT_CASES:
            r = c.request("GET", target, host=host)
            assert (r.status, r.reason, r.header("location")) == (status, reason, location), target
            assert r.body == b""
            assert r.headers.lower_names() == ["location", "date", "server", "content-length"]
    assert a.requests == [] and b.requests == []


# -- route actions ---------------------------------------------------------------------


def test_cluster_action(env):
    p, port, a, b = env
    with HttpClient(port) as c:
        assert c.request("GET", "/a/x", host="actions.example").body == b"a"
        assert c.request("GET", "/b/y", host="actions.example").body == b"b"
    assert [q.target for q in a.requests] == ["/a/x"]
    assert [q.target for q in b.requests] == ["/b/y"]


@pytest.mark.deadline(60)
def test_weighted_clusters_80_20(env):
    """1000 requests over a weighted_clusters 80/20 split: within +-5 %."""
    p, port, a, b = env
    counts = collections.Counter()
    with HttpClient(port) as c:
        for _ in range(1000):
            counts[c.request("GET", "/weighted", host="actions.example").body] += 1
    assert counts[b"a"] + counts[b"b"] == 1000
    assert 750 <= counts[b"a"] <= 850, counts
    assert len(a.requests) == counts[b"a"] and len(b.requests) == counts[b"b"]


def test_cluster_header(env):
    p, port, a, b = env
    with HttpClient(port) as c:
        assert c.request("GET", "/by-header", host="actions.example",
                         headers=[("x-target-cluster", "b")]).body == b"b"
        assert c.request("GET", "/by-header", host="actions.example",
                         headers=[("x-target-cluster", "a")]).body == b"a"
        r = c.request("GET", "/by-header", host="actions.example",
                      headers=[("x-target-cluster", "missing")])
        assert (r.status, r.body) == (503, b"")
    # The header is forwarded as is.
    assert b.requests[0].header("x-target-cluster") == "b"


@pytest.mark.envoy_specific
def test_path_rewrites(env):
    """ENVOY-SPECIFIC: rewrites add ``x-envoy-original-path`` (the original
    path incl. query, appended last); ``prefix_rewrite: "/"`` on prefix
    ``/strip`` turns ``/strip/x`` into ``//x``."""
    p, port, a, b = env
    with HttpClient(port) as c:
        for target in ["/pr/a/b?q=1", "/strip/x", "/strip", "/rx/one/two", "/a/plain"]:
            assert c.request("GET", target, host="actions.example").status == 200
    got = [(q.target, q.header("x-envoy-original-path")) for q in a.requests]
    assert got == [("/rewritten/a/b?q=1", "/pr/a/b?q=1"),
                   ("//x", "/strip/x"),
                   ("/", "/strip"),
                   ("/swapped/two/one", "/rx/one/two"),
                   ("/a/plain", None)]
    assert a.requests[0].headers.lower_names()[-1] == "x-envoy-original-path"


@pytest.mark.envoy_specific
def test_host_rewrites(env):
    """ENVOY-SPECIFIC: ``host_rewrite_literal`` and ``auto_host_rewrite`` put
    the original Host in ``x-envoy-original-host`` (appended last).
    ``auto_host_rewrite`` on a STRICT_DNS cluster uses the endpoint's
    hostname WITHOUT port (``localhost``); on a STATIC cluster it does
    nothing."""
    p, port, a, b = env
    with HttpClient(port) as c:
        c.request("GET", "/hostlit", host="actions.example")
        c.request("GET", "/autohost", host="actions.example")
        c.request("GET", "/autohost-static", host="actions.example")
    lit, auto, static = a.requests
    assert lit.headers.get_all("host") == ["rewritten.example"]
    assert lit.header("x-envoy-original-host") == "actions.example"
    assert lit.headers.lower_names()[0] == "host"
    assert lit.headers.lower_names()[-1] == "x-envoy-original-host"
    assert auto.headers.get_all("host") == ["localhost"]
    assert auto.header("x-envoy-original-host") == "actions.example"
    assert static.headers.get_all("host") == ["actions.example"]
    assert static.header("x-envoy-original-host") is None


# -- header manipulation (own proxy) ----------------------------------------------


def hv(key, value, action=None):
    d = {"header": {"key": key, "value": value}}
    if action:
        d["append_action"] = action
    return d


@pytest.mark.envoy_specific
def test_header_manipulation_at_route_vhost_and_route_config_level(proxy, http_upstreams,
                                                                   admin_port):
    """ENVOY-SPECIFIC: request headers are added route first, then virtual
    host, then route configuration, all after Envoy's own headers;
    APPEND_IF_EXISTS_OR_ADD (the default) appends a separate header line;
    OVERWRITE_IF_EXISTS_OR_ADD removes the client's line and appends;
    ADD_IF_ABSENT keeps the client's value; ``%REQ(x)%`` of a missing
    header adds nothing; ``%DOWNSTREAM_REMOTE_ADDRESS%`` is ``ip:port``.
    Response headers are added after Envoy's ``x-envoy-upstream-service-time``
    in the same route, vhost, route-config order, before ``date`` and
    ``server``.  ``*_headers_to_remove`` work at every level."""
    up = http_upstreams(lambda req: Reply(200, [("x-up", "1"), ("x-rm-route", "r"),
                                                ("x-rm-vh", "v"), ("x-rm-rc", "c")], b"ok"))
    port = free_port()
    rc = H.route_config(
        [vhost("vh", ["*"], [
            route({"prefix": "/hdr"}, "backend",
                  request_headers_to_add=[
                      hv("x-add", "route"),
                      hv("x-over", "route", "OVERWRITE_IF_EXISTS_OR_ADD"),
                      hv("x-absent", "route", "ADD_IF_ABSENT"),
                      hv("x-new-absent", "route", "ADD_IF_ABSENT"),
                      hv("x-client", "%DOWNSTREAM_REMOTE_ADDRESS%"),
                      hv("x-client-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
                      hv("x-copy", "%REQ(x-src)%"),
                      hv("x-copy-missing", "%REQ(x-nope)%"),
                  ],
                  request_headers_to_remove=["x-drop-route"],
                  response_headers_to_add=[hv("x-resp-route", "r")],
                  response_headers_to_remove=["x-rm-route"]),
            route({"prefix": "/plain"}, "backend"),
        ], request_headers_to_add=[hv("x-vh", "vh"), hv("x-add", "vh")],
           request_headers_to_remove=["x-drop-vh"],
           response_headers_to_add=[hv("x-resp-vh", "v")],
           response_headers_to_remove=["x-rm-vh"])],
        request_headers_to_add=[hv("x-rc", "rc"), hv("x-add", "rc")],
        request_headers_to_remove=["x-drop-rc"],
        response_headers_to_add=[hv("x-resp-rc", "c")],
        response_headers_to_remove=["x-rm-rc"])
    proxy(H.http_config(admin_port, port, rc, [H.http_cluster("backend", [up.address])]))
    with HttpClient(port) as c:
        r = c.request("GET", "/hdr", headers=[
            ("x-add", "client"), ("x-over", "client"), ("x-absent", "client"),
            ("x-src", "copied"), ("x-drop-route", "1"), ("x-drop-vh", "1"), ("x-drop-rc", "1")])
        client_port = c.sock.getsockname()[1]
        r2 = c.request("GET", "/plain", headers=[("x-drop-route", "1")])
    q = up.requests[0]
    assert q.headers == [
        ("host", "example.com"), ("x-add", "client"), ("x-absent", "client"),
        ("x-src", "copied"),
        ("x-forwarded-proto", "http"), ("x-request-id", q.header("x-request-id")),
        ("x-envoy-expected-rq-timeout-ms", "15000"),
        ("x-over", "route"), ("x-add", "route"), ("x-new-absent", "route"),
        ("x-client", f"127.0.0.1:{client_port}"), ("x-client-ip", "127.0.0.1"),
        ("x-copy", "copied"),
        ("x-vh", "vh"), ("x-add", "vh"),
        ("x-rc", "rc"), ("x-add", "rc"),
    ]
    assert r.headers.lower_names() == ["x-up", "content-length", "x-envoy-upstream-service-time",
                                       "x-resp-route", "x-resp-vh", "x-resp-rc", "date", "server"]
    # Route-level mutations apply only to their route.
    q2 = up.requests[1]
    assert q2.header("x-drop-route") == "1" and q2.header("x-over") is None
    assert r2.header("x-rm-route") == "r" and r2.header("x-resp-route") is None
    assert r2.header("x-rm-vh") is None and r2.header("x-rm-rc") is None
    assert r2.header("x-resp-vh") == "v" and r2.header("x-resp-rc") == "c"


@pytest.mark.envoy_specific
def test_header_mutations_apply_to_direct_responses_and_most_specific_wins(proxy, admin_port):
    """ENVOY-SPECIFIC: response_headers_to_add also applies to direct
    responses, where the added header comes FIRST (before
    ``content-length``, ``content-type``, ``date``, ``server``).  By default
    the route config's OVERWRITE is applied last and wins; with
    ``most_specific_header_mutations_wins`` the order is reversed (route
    config, vhost, route) so the route's OVERWRITE wins."""
    port = free_port()
    rc = H.route_config(
        [vhost("vh", ["*"], [
            route({"prefix": "/"}, direct_response=direct("hi"),
                  response_headers_to_add=[hv("x-level", "route", "OVERWRITE_IF_EXISTS_OR_ADD")]),
        ], response_headers_to_add=[hv("x-level", "vh", "OVERWRITE_IF_EXISTS_OR_ADD")])],
        response_headers_to_add=[hv("x-level", "rc", "OVERWRITE_IF_EXISTS_OR_ADD")])
    proxy(H.http_config(admin_port, port, rc, []))
    r = H.get(port, "/")
    assert r.body == b"hi" and r.headers.get_all("x-level") == ["rc"]

    port2 = free_port()
    rc["most_specific_header_mutations_wins"] = True
    proxy(H.http_config(free_port(), port2, rc, []))
    r = H.get(port2, "/")
    assert r.body == b"hi" and r.headers.get_all("x-level") == ["route"]
    assert r.headers.lower_names() == ["x-level", "content-length", "content-type", "date",
                                       "server"]
