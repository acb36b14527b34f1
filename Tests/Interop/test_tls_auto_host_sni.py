"""`UpstreamTlsContext.auto_host_sni`: a connection to an upstream host sends
the host's hostname as its SNI (the endpoint's `hostname`, or the name a
STRICT_DNS host was resolved from), a host without one the context's `sni`,
and a request's own SNI (`auto_sni`) wins over both, as Envoy 1.40's
`ClientContextImpl::newSsl` picks it. For HTTP pools and `tcp_proxy`.
The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import http.client

import pytest

import support
from support import free_port, socket_address
from tls_certs import make_pki
from tls_support import http_chain, server_context, tls_echo_handler, tls_http_handler, upstream_tls

PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def recording(pki, names: list):
    ctx = server_context(pki)
    ctx.sni_callback = lambda sock, name, c: names.append(name)
    return ctx


def tls_cluster(name: str, pki, endpoints: list[dict], type_: str = "STATIC", sni: str | None = None) -> dict:
    cl = support.cluster(name, [], type_=type_, dns_lookup_family="V4_ONLY" if type_ == "STRICT_DNS" else None)
    cl["load_assignment"]["endpoints"][0]["lb_endpoints"] = [{"endpoint": e} for e in endpoints]
    cl["transport_socket"] = upstream_tls(pki, cert="client", sni=sni)
    cl["transport_socket"]["typed_config"]["auto_host_sni"] = True
    return cl


def get(port: int, host: str = "example") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/x", headers={"Host": host})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def test_endpoint_hostname_is_the_sni_and_the_context_sni_the_fallback(proxy, admin_port, upstreams, pki):
    names: list = []
    up = upstreams(tls_http_handler(recording(pki, names)))
    named_port, plain_port = free_port(), free_port()
    named = tls_cluster("named", pki, [{"address": up.address, "hostname": "backend.internal"}], sni="fallback.local")
    plain = tls_cluster("plain", pki, [{"address": up.address}], sni="fallback.local")
    p = proxy(support.bootstrap(admin_port, [
        support.listener("a", socket_address("127.0.0.1", named_port), [http_chain("named")]),
        support.listener("b", socket_address("127.0.0.1", plain_port), [http_chain("plain")])], [named, plain]))
    assert get(named_port) == 200
    assert get(plain_port) == 200
    assert names == ["backend.internal", "fallback.local"], names
    status, body = p.admin("GET", "/clusters")
    assert f"named::{up.host}:{up.port}::hostname::backend.internal" in body.decode().splitlines()


def test_strict_dns_host_sends_the_name_it_was_resolved_from_over_tcp_proxy(proxy, admin_port, upstreams, pki):
    names: list = []
    up = upstreams(tls_echo_handler(recording(pki, names)))
    port = free_port()
    cl = tls_cluster("dns", pki, [{"address": socket_address("localhost", up.port)}], type_="STRICT_DNS")
    p = proxy(support.bootstrap(admin_port, [support.tcp_listener("t", port, "dns", "tp")], [cl]))
    for _ in range(2):
        with support.connect("127.0.0.1", port) as s:
            s.sendall(b"ping")
            assert support.recv_exact(s, 4) == b"ping"
    assert names == ["localhost", "localhost"], names
    status, body = p.admin("GET", "/clusters")
    assert f"dns::127.0.0.1:{up.port}::hostname::localhost" in body.decode().splitlines()


def test_a_requests_auto_sni_wins_over_the_host_name(proxy, admin_port, upstreams, pki):
    names: list = []
    up = upstreams(tls_http_handler(recording(pki, names)))
    port = free_port()
    cl = tls_cluster("backend", pki, [{"address": up.address, "hostname": "backend.internal"}])
    cl["typed_extension_protocol_options"] = {PROTOCOL_OPTIONS: {
        "@type": "type.googleapis.com/" + PROTOCOL_OPTIONS, "explicit_http_config": {"http_protocol_options": {}},
        "upstream_http_protocol_options": {"auto_sni": True}}}
    proxy(support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [http_chain("backend")])],
                            [cl]))
    assert get(port, "server.local") == 200
    # An IP address is no SNI: the host's name is sent.
    assert get(port, f"127.0.0.1:{port}") == 200
    assert names == ["server.local", "backend.internal"], names
