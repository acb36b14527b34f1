"""`UpstreamTlsContext.auto_host_sni`: a connection to an upstream host sends
the host's hostname as its SNI (the endpoint's `hostname`, or the name a
STRICT_DNS host was resolved from), a host without one the context's `sni`,
and a request's own SNI (`auto_sni`) wins over both, as Envoy 1.40's
`ClientContextImpl::newSsl` picks it. For HTTP pools and `tcp_proxy`.
The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import support
from support import free_port, socket_address
from test_tls_auto_sni import PROTOCOL_OPTIONS, get, pki  # noqa: F401 (pki is a fixture)
from tls_support import http_chain, server_context, tls_echo_handler, tls_http_handler, upstream_tls


def recording_upstream(upstreams, pki, handler) -> tuple[list, object]:
    """An upstream terminating TLS with `handler`, and the SNI of each ClientHello it sees."""
    names: list = []
    ctx = server_context(pki)
    ctx.sni_callback = lambda sock, name, c: names.append(name)
    return names, upstreams(handler(ctx))


def tls_cluster(name: str, pki, endpoints: list[dict], type_: str = "STATIC", sni: str | None = None) -> dict:
    cl = support.cluster(name, [], type_=type_, dns_lookup_family="V4_ONLY" if type_ == "STRICT_DNS" else None)
    cl["load_assignment"]["endpoints"][0]["lb_endpoints"] = [{"endpoint": e} for e in endpoints]
    cl["transport_socket"] = upstream_tls(pki, cert="client", sni=sni)
    cl["transport_socket"]["typed_config"]["auto_host_sni"] = True
    return cl


def hostnames(p) -> list[str]:
    """/clusters' `hostname::` lines."""
    status, body = p.admin("GET", "/clusters")
    assert status == 200
    return [line for line in body.decode().splitlines() if "::hostname::" in line]


def test_endpoint_hostname_is_the_sni_and_the_context_sni_the_fallback(proxy, admin_port, upstreams, pki):
    names, up = recording_upstream(upstreams, pki, tls_http_handler)
    named_port, plain_port = free_port(), free_port()
    named = tls_cluster("named", pki, [{"address": up.address, "hostname": "backend.internal"}], sni="fallback.local")
    plain = tls_cluster("plain", pki, [{"address": up.address}], sni="fallback.local")
    p = proxy(support.bootstrap(admin_port, [
        support.listener("a", socket_address("127.0.0.1", named_port), [http_chain("named")]),
        support.listener("b", socket_address("127.0.0.1", plain_port), [http_chain("plain")])], [named, plain]))
    assert get(named_port, "example") == 200
    assert get(plain_port, "example") == 200
    assert names == ["backend.internal", "fallback.local"], names
    assert f"named::{up.host}:{up.port}::hostname::backend.internal" in hostnames(p)


def test_strict_dns_host_sends_the_name_it_was_resolved_from_over_tcp_proxy(proxy, admin_port, upstreams, pki):
    names, up = recording_upstream(upstreams, pki, tls_echo_handler)
    port = free_port()
    cl = tls_cluster("dns", pki, [{"address": socket_address("localhost", up.port)}], type_="STRICT_DNS")
    p = proxy(support.bootstrap(admin_port, [support.tcp_listener("t", port, "dns", "tp")], [cl]))
    for _ in range(2):
        with support.connect("127.0.0.1", port) as s:
            s.sendall(b"ping")
            assert support.recv_exact(s, 4) == b"ping"
    assert names == ["localhost", "localhost"], names
    assert f"dns::127.0.0.1:{up.port}::hostname::localhost" in hostnames(p)


def test_a_requests_auto_sni_wins_over_the_host_name(proxy, admin_port, upstreams, pki):
    names, up = recording_upstream(upstreams, pki, tls_http_handler)
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
