"""TLS origination (`UpstreamTlsContext` on a cluster) for tcp_proxy and
the HTTP router through the one upstream connect path: client
certificates, SNI, server identity checks, Envoy's 503 + UF on a wrong
identity, `cluster.<name>.ssl.*`; and Envoy 1.40 as the peer both ways."""

from __future__ import annotations

import socket
import ssl
import time
import urllib.request

import pytest

import support
from support import free_port, socket_address, stat_addr
from tls_certs import make_pki, spiffe
from tls_support import (EnvoyPeer, client_context, downstream_tls, http_chain, server_context, tls_connect,
                         tls_echo_handler, tls_http_handler, tls_tcp_config, upstream_tls, uri_san)

SERVER_ID = spiffe("default", "server")
CLIENT_ID = spiffe("default", "client")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def tcp_config(admin_port, port, upstream, pki, **tls_kw):
    chain = support.filter_chain("backend", "tp")
    cl = support.cluster("backend", [upstream])
    cl["transport_socket"] = upstream_tls(pki, **tls_kw)
    return support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [chain])], [cl])


def http_config(admin_port, port, upstream, pki, access_log=None, **tls_kw):
    cl = support.cluster("backend", [upstream])
    cl["transport_socket"] = upstream_tls(pki, **tls_kw)
    chain = http_chain("backend")
    if access_log:
        chain["filters"][0]["typed_config"]["access_log"] = [{"name": "envoy.access_loggers.file", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog", "path": str(access_log),
            "log_format": {"text_format_source": {"inline_string":
                "%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_TRANSPORT_FAILURE_REASON%\n"}}}}]
    return support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [chain])], [cl])


def test_tcp_proxy_originates_mtls_with_sni_and_client_identity(proxy, admin_port, upstreams, pki):
    peers: list = []
    names: list = []
    ctx = server_context(pki)
    ctx.sni_callback = lambda sock, name, c: names.append(name)
    up = upstreams(tls_echo_handler(ctx, peers))
    port = free_port()
    p = proxy(tcp_config(admin_port, port, up.address, pki, cert="client", sni="server.local", sans=[uri_san(SERVER_ID)]))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"through tls")
        assert s.recv(100) == b"through tls"
    assert peers == [[CLIENT_ID]]
    assert names == ["server.local"]
    # Envoy's clients stop at TLS 1.2 unless tls_maximum_protocol_version says otherwise.
    p.wait_for_stats({"cluster.backend.ssl.handshake": 1, "cluster.backend.ssl.versions.TLSv1.2": 1})


def test_tls13_upstream_when_configured(proxy, admin_port, upstreams, pki):
    up = upstreams(tls_echo_handler(server_context(pki)))
    port = free_port()
    p = proxy(tcp_config(admin_port, port, up.address, pki, cert="client", sans=[uri_san(SERVER_ID)],
                         params={"tls_maximum_protocol_version": "TLSv1_3"}))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"1.3")
        assert s.recv(10) == b"1.3"
    p.wait_for_stats({"cluster.backend.ssl.handshake": 1, "cluster.backend.ssl.versions.TLSv1.3": 1})


def test_http_router_originates_tls(proxy, admin_port, upstreams, pki):
    up = upstreams(tls_http_handler(server_context(pki)))
    port = free_port()
    p = proxy(http_config(admin_port, port, up.address, pki, cert="client", sans=[uri_san(SERVER_ID)]))
    for _ in range(3):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/x", timeout=5) as r:
            assert r.status == 200
            assert r.read() == b"hello over tls"
    # Keep-alive: one handshake for three requests.
    p.wait_for_stats({"cluster.backend.ssl.handshake": 1, "cluster.backend.upstream_cx_total": 1})


@pytest.mark.envoy_specific
def test_wrong_server_identity_is_503_uf_with_the_tls_error(proxy, admin_port, upstreams, pki, tmp_path):
    """ENVOY-SPECIFIC: Envoy 1.40's local reply names only the reset
    reason; the TLS error goes to %UPSTREAM_TRANSPORT_FAILURE_REASON% (and
    the response details), with the UF flag."""
    up = upstreams(tls_http_handler(server_context(pki)))
    port = free_port()
    log = tmp_path / "access.log"
    p = proxy(http_config(admin_port, port, up.address, pki, access_log=log, cert="client",
                          sans=[uri_san(spiffe("default", "somebody-else"))]))
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/x", timeout=5)
    assert info.value.code == 503
    assert info.value.read() == b"upstream connect error or disconnect/reset before headers. reset reason: remote connection failure"
    p.wait_for_stats({"cluster.backend.ssl.fail_verify_san": 1, "cluster.backend.upstream_cx_connect_fail": 1,
                      "cluster.backend.ssl.handshake": 0})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not log.exists() or not log.read_text():
        time.sleep(0.1)
    line = log.read_text().strip()
    code, flags, reason = line.split(" ", 2)
    assert (code, flags) == ("503", "UF")
    assert reason.startswith("TLS_error:|") and reason.endswith("TLS_error_end"), reason
    assert "CERTIFICATE_VERIFY_FAILED" in reason, reason


def test_wrong_ca_fails_tcp_proxy(proxy, admin_port, upstreams, pki):
    up = upstreams(tls_echo_handler(server_context(pki, cert="foreign", require_client=False)))
    port = free_port()
    p = proxy(tcp_config(admin_port, port, up.address, pki, cert=None))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"x")
        s.settimeout(5)
        try:
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass  # Envoy resets too: the bytes sent were never read
    p.wait_for_stats({"cluster.backend.ssl.fail_verify_error": 1})


@pytest.mark.remora_only("Remora with Envoy 1.40 as its peer")
def test_remora_and_envoy_talk_mtls_both_ways(proxy, admin_port, upstreams, pki, tmp_path):
    """Remora (client) → Envoy (mTLS server, SPIFFE check) → echo, and
    Envoy (client) → Remora (mTLS server, SPIFFE check) → echo."""
    echo = upstreams()
    # Envoy terminates mTLS and requires the client's SPIFFE id.
    envoy_port, envoy_admin = free_port(), free_port()
    envoy_cfg = tls_tcp_config(envoy_admin, envoy_port, echo.address,
                               downstream_tls(pki, sans=[uri_san(CLIENT_ID)]))
    envoy = EnvoyPeer(tmp_path, envoy_cfg)
    try:
        envoy.wait_ready()
        port = free_port()
        p = proxy(tcp_config(admin_port, port, socket_address("127.0.0.1", envoy_port), pki, cert="client",
                             sans=[uri_san(SERVER_ID)]))
        payload = bytes(range(256)) * 400
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                assert chunk
                got += chunk
            assert got == payload
        p.wait_for_stats({"cluster.backend.ssl.handshake": 1})
        assert envoy.stats()[f"listener.{stat_addr('127.0.0.1', envoy_port)}.ssl.handshake"] == 1
    finally:
        envoy.stop()

    # Envoy originates mTLS to Remora, which requires Envoy's client identity.
    remora_port = free_port()
    admin2 = free_port()
    p2 = proxy(tls_tcp_config(admin2, remora_port, echo.address, downstream_tls(pki, sans=[uri_san(CLIENT_ID)])))
    front_port, front_admin = free_port(), free_port()
    front = support.bootstrap(front_admin, [support.tcp_listener("front", front_port, "remora", "tp")],
                              [support.cluster("remora", [socket_address("127.0.0.1", remora_port)])])
    front["static_resources"]["clusters"][0]["transport_socket"] = upstream_tls(pki, cert="client", sans=[uri_san(SERVER_ID)])
    envoy2 = EnvoyPeer(tmp_path, front)
    try:
        envoy2.wait_ready()
        with socket.create_connection(("127.0.0.1", front_port), timeout=5) as s:
            s.sendall(b"envoy to remora")
            assert s.recv(100) == b"envoy to remora"
        p2.wait_for_stats({f"listener.{stat_addr('127.0.0.1', remora_port)}.ssl.handshake": 1})
        assert envoy2.stats()["cluster.remora.ssl.handshake"] == 1
    finally:
        envoy2.stop()


@pytest.mark.parametrize("version,keys,reused", [("TLSv1_2", None, 2), ("TLSv1_3", None, 2), ("TLSv1_2", 0, 0)])
def test_upstream_sessions_are_resumed(proxy, admin_port, upstreams, pki, version, keys, reused):
    """Envoy keeps `max_session_keys` (default 1) client sessions per context
    and offers the newest to each new connection."""
    up = upstreams(tls_echo_handler(server_context(pki)))
    port = free_port()
    cfg = tcp_config(admin_port, port, up.address, pki, cert="client", sans=[uri_san(SERVER_ID)],
                     params={"tls_maximum_protocol_version": version})
    if keys is not None:
        cfg["static_resources"]["clusters"][0]["transport_socket"]["typed_config"]["max_session_keys"] = keys
    p = proxy(cfg)
    for i in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"hello")
            assert support.recv_exact(s, 5) == b"hello"
        # A TLS 1.3 ticket arrives after the handshake: let it land before the next connection.
        p.wait_for_stats({"cluster.backend.ssl.handshake": i + 1})
        time.sleep(0.2)
    p.wait_for_stats({"cluster.backend.ssl.handshake": 3, "cluster.backend.ssl.session_reused": reused},
                     missing_as_zero=True)
