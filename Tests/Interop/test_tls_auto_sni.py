"""`upstream_http_protocol_options` (`auto_sni`, `auto_san_validation`,
`override_auto_sni_header`) in a cluster's HttpProtocolOptions: the
upstream SNI and the name the server's certificate must carry come from
each request's host, as Envoy 1.40's router takes them."""

from __future__ import annotations

import http.client
import ssl

import pytest

import support
from support import free_port, socket_address
from tls_certs import make_pki
from tls_support import http_chain, server_context, tls_http_handler, upstream_tls

PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def recording_upstream(upstreams, pki, names: list):
    """An HTTP/1.1 upstream over TLS (certificate: DNS server.local, IP
    127.0.0.1, the server's SPIFFE id) that records each ClientHello's SNI."""
    ctx = server_context(pki)
    ctx.sni_callback = lambda sock, name, c: names.append(name)
    return upstreams(tls_http_handler(ctx))


def config(admin_port, port, upstream, pki, ca: bool = True, **names) -> dict:
    cl = support.cluster("backend", [upstream])
    cl["transport_socket"] = upstream_tls(pki, cert="client", ca=ca)
    cl["typed_extension_protocol_options"] = {PROTOCOL_OPTIONS: {
        "@type": "type.googleapis.com/" + PROTOCOL_OPTIONS,
        "explicit_http_config": {"http_protocol_options": {}},
        "upstream_http_protocol_options": names,
    }}
    return support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [http_chain("backend")])],
                             [cl])


def get(port: int, host: str, headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/x", headers={"Host": host, **(headers or {})})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def test_auto_sni_sends_each_requests_host_without_its_port(proxy, admin_port, upstreams, pki):
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, auto_sni=True))
    assert get(port, "server.local:8443") == 200
    assert get(port, "other.example") == 200
    assert get(port, "server.local") == 200
    # An IP address is never sent as SNI.
    assert get(port, f"127.0.0.1:{port}") == 200
    assert names == ["server.local", "other.example", None], names
    # One connection per SNI: the third request reused the first one's.
    p.wait_for_stats({"cluster.backend.upstream_cx_total": 3, "cluster.backend.ssl.handshake": 3})


def test_auto_san_validation_refuses_a_certificate_without_the_host(proxy, admin_port, upstreams, pki):
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, auto_sni=True, auto_san_validation=True))
    assert get(port, "server.local") == 200
    assert get(port, "SERVER.LOCAL") == 200  # DNS names compare without case
    assert get(port, "intruder.local") == 503
    # The IP SAN matches the host's address exactly (no SNI is sent for it).
    assert get(port, "127.0.0.1") == 200
    p.wait_for_stats({"cluster.backend.ssl.fail_verify_san": 1, "cluster.backend.upstream_cx_connect_fail": 1})
    # Names compare without case in the pool key (Envoy hashes them so): the
    # second request rides the first connection.
    assert names == ["server.local", "intruder.local", None], names


def test_auto_san_validation_alone_keeps_the_contexts_sni(proxy, admin_port, upstreams, pki):
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    cfg = config(admin_port, port, up.address, pki, auto_san_validation=True)
    cfg["static_resources"]["clusters"][0]["transport_socket"]["typed_config"]["sni"] = "fixed.sni"
    p = proxy(cfg)
    assert get(port, "server.local") == 200
    assert get(port, "wrong.local") == 503
    assert names == ["fixed.sni", "fixed.sni"]
    p.wait_for_stats({"cluster.backend.ssl.fail_verify_san": 1})


def test_auto_san_validation_without_a_trusted_ca_refuses_every_server(proxy, admin_port, upstreams, pki):
    """Envoy asks its TLS library for a verified peer, and with no CA
    nothing verifies: every connection fails."""
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, ca=False, auto_san_validation=True))
    assert get(port, "server.local") == 503
    # Refused by the library before Envoy's validator runs: no ssl.* counter moves.
    p.wait_for_stats({"cluster.backend.upstream_cx_connect_fail": 1})
    stats = p.stats()
    assert [k for k, v in stats.items() if k.startswith("cluster.backend.ssl.") and v and "certificate." not in k] == []


def test_override_auto_sni_header_wins_when_present(proxy, admin_port, upstreams, pki):
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, auto_sni=True, auto_san_validation=True,
                     override_auto_sni_header="x-upstream-sni"))
    assert get(port, "wrong.local", {"x-upstream-sni": "server.local:443"}) == 200
    assert get(port, "server.local", {"x-upstream-sni": "intruder.local"}) == 503
    # An empty header falls back to the host.
    assert get(port, "server.local", {"x-upstream-sni": ""}) == 200
    assert names[:2] == ["server.local", "intruder.local"]
    p.wait_for_stats({"cluster.backend.ssl.fail_verify_san": 1})


def test_route_host_rewrite_is_the_host_used(proxy, admin_port, upstreams, pki):
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    cfg = config(admin_port, port, up.address, pki, auto_sni=True, auto_san_validation=True)
    route = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
    route["virtual_hosts"][0]["routes"][0]["route"]["host_rewrite_literal"] = "server.local"
    p = proxy(cfg)
    assert get(port, "anything.example") == 200
    assert names == ["server.local"]
    p.wait_for_stats({"cluster.backend.ssl.handshake": 1})


@pytest.mark.parametrize("sni,matcher,status", [
    ("server.local", None, 200),
    ("wrong.local", None, 503),
    # It replaces the context's SAN matchers.
    ("server.local", "spiffe://cluster.local/ns/other/sa/intruder", 200),
], ids=["match", "mismatch", "replaces-matchers"])
def test_upstream_tls_context_auto_sni_san_validation(proxy, admin_port, upstreams, pki, sni, matcher, status):
    """`UpstreamTlsContext.auto_sni_san_validation`: the server's DNS SANs must name the SNI sent."""
    names: list = []
    up = recording_upstream(upstreams, pki, names)
    port = free_port()
    cfg = config(admin_port, port, up.address, pki)
    tls = cfg["static_resources"]["clusters"][0]["transport_socket"]["typed_config"]
    tls["sni"] = sni
    tls["auto_sni_san_validation"] = True
    if matcher:
        tls["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"] = [
            {"san_type": "URI", "matcher": {"exact": matcher}}]
    p = proxy(cfg)
    assert get(port, "anything.example") == status
    assert names == [sni]
    p.wait_for_stats({"cluster.backend.ssl.fail_verify_san": 0 if status == 200 else 1}, missing_as_zero=True)
