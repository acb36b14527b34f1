"""`auto_config` in a cluster's HttpProtocolOptions: the upstream TLS
offers ALPN `h2,http/1.1` and each host is spoken to in the protocol its
server picked (HTTP/1.1 without ALPN); refused without a TLS transport,
as Envoy 1.40 does."""

from __future__ import annotations

import urllib.request

import pytest

import support
from h2_support import H2Upstream
from support import free_port, socket_address
from tls_certs import make_pki
from tls_support import http_chain, server_context, tls_http_handler, upstream_tls

PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
# Envoy's mixed pool counts upstream_cx_total twice for its one connection
# (as the ALPN client, then as the codec's); Remora counts connections.
CX_TOTAL = 2 if support.IS_ENVOY else 1


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def config(admin_port, port, upstream, pki, tls: bool = True, alpn: list[str] | None = None) -> dict:
    cl = support.cluster("backend", [upstream])
    if tls:
        cl["transport_socket"] = upstream_tls(pki, cert="client", alpn=alpn)
    cl["typed_extension_protocol_options"] = {PROTOCOL_OPTIONS: {
        "@type": "type.googleapis.com/" + PROTOCOL_OPTIONS, "auto_config": {}}}
    return support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [http_chain("backend")])],
                             [cl])


def get(port: int) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/x", timeout=5) as r:
        return r.status, r.read()


def alpn_server(pki, protocols: list[str] | None):
    ctx = server_context(pki)
    if protocols:
        ctx.set_alpn_protocols(protocols)
    return ctx


def test_a_server_that_picks_h2_is_spoken_to_in_http2(proxy, admin_port, pki):
    up = H2Upstream(tls=alpn_server(pki, ["h2", "http/1.1"]))
    try:
        port = free_port()
        p = proxy(config(admin_port, port, up.address, pki))
        for _ in range(3):
            assert get(port) == (200, b"h2 upstream")
        assert len(up.requests) == 3
        assert up.requests[0].header(":authority") == f"127.0.0.1:{port}"
        # The first connection (which learned the protocol) carries every request.
        p.wait_for_stats({"cluster.backend.upstream_cx_http2_total": 1, "cluster.backend.upstream_cx_total": CX_TOTAL,
                          "cluster.backend.upstream_cx_active": 1, "cluster.backend.upstream_rq_total": 3,
                          "cluster.backend.ssl.handshake": 1})
        assert up.connections == 1
    finally:
        up.stop()


@pytest.mark.parametrize("protocols", [["http/1.1"], None], ids=["alpn-http1.1", "no-alpn"])
def test_a_server_that_picks_http1_or_no_alpn_gets_http1(proxy, admin_port, upstreams, pki, protocols):
    accepted: list = []
    handler = tls_http_handler(alpn_server(pki, protocols))
    up = upstreams(lambda conn, server: (accepted.append(1), handler(conn, server)))
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki))
    for _ in range(3):
        assert get(port) == (200, b"hello over tls")
    p.wait_for_stats({"cluster.backend.upstream_cx_http1_total": 1, "cluster.backend.upstream_cx_total": CX_TOTAL,
                      "cluster.backend.upstream_cx_active": 1, "cluster.backend.upstream_rq_total": 3}, missing_as_zero=True)
    assert len(accepted) == 1


def test_the_contexts_own_alpn_list_is_offered(proxy, admin_port, upstreams, pki):
    """A context naming `http/1.1` only never gets h2, even from a server that prefers it."""
    up = upstreams(tls_http_handler(alpn_server(pki, ["h2", "http/1.1"])))
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, alpn=["http/1.1"]))
    assert get(port) == (200, b"hello over tls")
    p.wait_for_stats({"cluster.backend.upstream_cx_http1_total": 1})


def test_auto_config_needs_an_alpn_transport(admin_port, tmp_path):
    cfg = config(admin_port, free_port(), socket_address("127.0.0.1", free_port()), None, tls=False)
    path = tmp_path / "auto.yaml"
    path.write_text(support.to_yaml(cfg))
    r = support.run_validate(path)
    assert r.returncode != 0
    assert b"ALPN configured for cluster backend which has a non-ALPN transport socket" in r.stdout + r.stderr
