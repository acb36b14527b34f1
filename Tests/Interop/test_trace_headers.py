"""Trace context without a tracer (issue 12): B3 and W3C headers pass
through to the upstream untouched, as Envoy passes them, and `tracing`
(not implemented yet) is refused with its field path."""

from __future__ import annotations

import pytest

import http_support as H
import support
from support import free_port

TRACE_HEADERS = [
    ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
    ("x-b3-spanid", "e457b5a2e4d86bd1"),
    ("x-b3-parentspanid", "05e3ac9a4f6e3b90"),
    ("x-b3-sampled", "1"),
    ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"),
    ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
]


def test_b3_and_w3c_headers_reach_the_upstream_untouched(proxy, http_upstreams, admin_port):
    up = http_upstreams()
    port = free_port()
    proxy(H.simple_http_config(admin_port, port, up))
    assert H.get(port, "/traced", headers=TRACE_HEADERS).status == 200
    seen = up.requests[0]
    for name, value in TRACE_HEADERS:
        assert seen.header(name) == value, name


def test_tracing_is_refused_with_its_field_path(tmp_path, http_upstreams, admin_port):
    if support.PROXY_KIND == "envoy":
        pytest.skip("Envoy implements tracing")
    up = http_upstreams()
    cfg = H.simple_http_config(admin_port, free_port(), up, tracing={})
    path = tmp_path / "tracing.yaml"
    path.write_text(support.to_yaml(cfg))
    r = support.run_validate(path)
    assert r.returncode == 1
    assert b"tracing" in r.stdout + r.stderr
