"""Downstream session resumption: `session_ticket_keys` (two proxies with
the same keys resume each other's tickets), the session cache and tickets
turned off, and Envoy's check of the key length. The same tests run
against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import base64
import os
import socket
import ssl

import pytest

import support
from support import free_port, stat_addr
from tls_certs import make_pki
from tls_support import downstream_tls, tls_tcp_config

KEY = base64.b64encode(os.urandom(80)).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def client() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # TLS 1.2: the session is there as soon as the handshake is.
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def connect(port: int, ctx: ssl.SSLContext, session=None) -> tuple[ssl.SSLSession, bool]:
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname="server.local", session=session) as s:
        s.sendall(b"ping")
        assert support.recv_exact(s, 4) == b"ping"
        return s.session, s.session_reused


def start(proxy, upstreams, pki, admin_port: int, **session) -> int:
    up = upstreams()
    port = free_port()
    transport = downstream_tls(pki, require_client=False, ca=False)
    transport["typed_config"].update(session)
    proxy(tls_tcp_config(admin_port, port, up.address, transport))
    return port


def test_sessions_resume_by_default(proxy, admin_port, upstreams, pki):
    port = start(proxy, upstreams, pki, admin_port)
    ctx = client()
    session, reused = connect(port, ctx)
    assert not reused
    assert connect(port, ctx, session)[1]


def test_shared_ticket_keys_resume_across_proxies(proxy, admin_port, upstreams, pki):
    keys = {"session_ticket_keys": {"keys": [{"inline_bytes": KEY}]}, "disable_stateful_session_resumption": True}
    a = start(proxy, upstreams, pki, admin_port, **keys)
    b = start(proxy, upstreams, pki, free_port(), **keys)
    c = start(proxy, upstreams, pki, free_port(), session_ticket_keys={
        "keys": [{"inline_bytes": base64.b64encode(os.urandom(80)).decode()}]}, disable_stateful_session_resumption=True)
    ctx = client()
    session, _ = connect(a, ctx)
    assert connect(b, ctx, session)[1], "b shares a's ticket key"
    assert not connect(c, ctx, session)[1], "c's key differs"


def test_no_tickets_and_no_cache_means_no_resumption(proxy, admin_port, upstreams, pki):
    port = start(proxy, upstreams, pki, admin_port, disable_stateless_session_resumption=True,
                 disable_stateful_session_resumption=True)
    ctx = client()
    session, _ = connect(port, ctx)
    assert not connect(port, ctx, session)[1]


def test_a_ticket_key_must_be_80_bytes(tmp_path, pki):
    transport = downstream_tls(pki, require_client=False, ca=False)
    transport["typed_config"]["session_ticket_keys"] = {"keys": [{"inline_bytes": base64.b64encode(b"x" * 79).decode()}]}
    config = tls_tcp_config(free_port(), free_port(), {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
                            transport)
    path = tmp_path / "bootstrap.yaml"
    path.write_text(support.to_yaml(config))
    result = support.run_validate(path)
    assert result.returncode != 0
    assert "Incorrect TLS session ticket key length. Length 79, expected length 80." in (result.stdout + result.stderr).decode()


def test_ticket_keys_from_sds_are_shared_and_rotate(proxy, admin_port, upstreams, pki, tmp_path):
    """`session_ticket_keys_sds_secret_config`: two proxies reading the same
    SDS file resume each other's tickets; a new key list moved into place
    rotates both (the first key seals, every key opens), counting
    `ssl_context_update_by_sds`."""
    import json
    k1, k2 = (base64.b64encode(os.urandom(80)).decode() for _ in range(2))
    sds = tmp_path / "tickets.json"

    def publish(version: str, keys: list[str]) -> None:
        tmp = sds.with_name("tickets.tmp")
        tmp.write_text(json.dumps({"version_info": version, "resources": [{
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "tickets",
            "session_ticket_keys": {"keys": [{"inline_bytes": k} for k in keys]}}]}))
        os.rename(tmp, sds)

    def start_one(admin: int) -> tuple[int, object]:
        up = upstreams()
        port = free_port()
        transport = downstream_tls(pki, require_client=False, ca=False)
        transport["typed_config"].update({"disable_stateful_session_resumption": True, "session_ticket_keys_sds_secret_config": {
            "name": "tickets", "sds_config": {"path_config_source": {"path": str(sds)}, "resource_api_version": "V3"}}})
        cfg = tls_tcp_config(admin, port, up.address, transport)
        cfg["node"] = {"id": "sidecar~1", "cluster": "mesh"}
        return port, proxy(cfg)

    publish("1", [k1])
    (a, pa), (b, pb) = start_one(admin_port), start_one(free_port())
    updates = {f"listener.{stat_addr('127.0.0.1', port)}.server_ssl_socket_factory.ssl_context_update_by_sds": p
               for port, p in ((a, pa), (b, pb))}
    ctx = client()
    old, reused = connect(a, ctx)
    assert not reused
    assert connect(b, ctx, old)[1], "b reads a's ticket key from the same secret"

    # k2 seals new tickets; k1 still opens the old one.
    publish("2", [k2, k1])
    for name, p in updates.items():
        p.wait_for_stats({"sds.tickets.update_success": 2, name: 2}, timeout=10)
    assert connect(a, ctx, old)[1]
    new, _ = connect(a, ctx)
    assert connect(b, ctx, new)[1]

    # Without k1 the old ticket opens nowhere; the new one still does.
    publish("3", [k2])
    for name, p in updates.items():
        p.wait_for_stats({"sds.tickets.update_success": 3, name: 3}, timeout=10)
    assert not connect(b, ctx, old)[1]
    assert connect(b, ctx, new)[1]
