"""The upstream TLS formatters (`%UPSTREAM_PEER_URI_SAN%`, `%UPSTREAM_TLS_VERSION%`,
`%UPSTREAM_PEER_CERT%`, …), `%DOWNSTREAM_PEER_CERT%`, and TLS facts in
`request_headers_to_add` / `response_headers_to_add` values: an mTLS
listener routing to an mTLS upstream, every value as Envoy 1.40 prints it."""

from __future__ import annotations

import datetime
import subprocess
import time
import urllib.parse

import pytest

import support
from support import free_port, socket_address
from tls_certs import make_pki, spiffe
from tls_support import (client_context, downstream_tls, http_chain, server_context, tls_connect, tls_http_handler,
                         upstream_tls, uri_san)

CLIENT_ID = spiffe("default", "client")
SERVER_ID = spiffe("default", "server")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def config(admin_port: int, port: int, upstream: dict, pki, log, fmt: str, request_headers: dict, response_headers: dict):
    cl = support.cluster("backend", [upstream])
    cl["transport_socket"] = upstream_tls(pki, cert="client", sans=[uri_san(SERVER_ID)])
    chain = http_chain("backend", downstream_tls(pki, sans=[uri_san(CLIENT_ID)]))
    hcm = chain["filters"][0]["typed_config"]
    hcm["access_log"] = [{"name": "envoy.access_loggers.file", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog", "path": str(log),
        "log_format": {"text_format_source": {"inline_string": fmt}}}}]
    route = hcm["route_config"]["virtual_hosts"][0]["routes"][0]
    route["request_headers_to_add"] = [{"header": {"key": k, "value": v}} for k, v in request_headers.items()]
    route["response_headers_to_add"] = [{"header": {"key": k, "value": v}} for k, v in response_headers.items()]
    return support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [chain])], [cl])


def exchange(port: int, pki) -> tuple[dict, bytes]:
    with tls_connect(port, client_context(pki)) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nhost: example\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(65536)
        head, _, body = buf.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            headers[k.decode().lower()] = v.decode().strip()
        while len(body) < int(headers["content-length"]):
            body += s.recv(65536)
        return headers, body


def logged(log, timeout: float = 10.0) -> str:
    """The access log's text once something was written to it (logs flush on their own time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (log.exists() and log.read_text().strip()):
        time.sleep(0.1)
    return log.read_text().strip()


def pem(pki, name: str) -> str:
    return open(pki.path(f"{name}.crt")).read()


def urlencoded(text: str) -> str:
    return urllib.parse.quote(text, safe="-._~")


def not_before(text: str) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", "-startdate"], input=text.encode(), capture_output=True, check=True)
    t = datetime.datetime.strptime(out.stdout.decode().strip().split("=", 1)[1].replace("  ", " "), "%b %d %H:%M:%S %Y %Z")
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_upstream_tls_facts_in_the_access_log_and_headers(proxy, admin_port, upstreams, pki, tmp_path):
    ciphers: list = []
    up = upstreams(tls_http_handler(server_context(pki), echo_head=True, ciphers=ciphers))
    port = free_port()
    log = tmp_path / "access.log"
    fmt = ("%UPSTREAM_PEER_URI_SAN%|%UPSTREAM_PEER_DNS_SAN%|%UPSTREAM_PEER_SUBJECT%|%UPSTREAM_PEER_ISSUER%|"
           "%UPSTREAM_TLS_VERSION%|%UPSTREAM_TLS_CIPHER%|%UPSTREAM_LOCAL_URI_SAN%|%UPSTREAM_LOCAL_DNS_SAN%|"
           "%UPSTREAM_PEER_CERT_V_START%|%UPSTREAM_PEER_CERT%|%DOWNSTREAM_PEER_CERT%|"
           "%UPSTREAM_PEER_IP_SAN%|%UPSTREAM_LOCAL_IP_SAN%\n")
    proxy(config(admin_port, port, up.address, pki, log, fmt,
                 request_headers={"x-peer": "%DOWNSTREAM_PEER_URI_SAN%", "x-tls": "%DOWNSTREAM_TLS_VERSION%",
                                  "x-subject": "[%DOWNSTREAM_PEER_SUBJECT%]", "x-local": "%DOWNSTREAM_LOCAL_URI_SAN%",
                                  "x-dns": "%DOWNSTREAM_PEER_DNS_SAN%", "x-local-ip": "%DOWNSTREAM_LOCAL_IP_SAN%",
                                  "x-peer-ip": "%DOWNSTREAM_PEER_IP_SAN%"},
                 response_headers={"x-up-peer": "%UPSTREAM_PEER_URI_SAN%", "x-up-tls": "%UPSTREAM_TLS_VERSION%",
                                   "x-down-issuer": "%DOWNSTREAM_PEER_ISSUER%"}))
    headers, body = exchange(port, pki)
    upstream_head = body.decode().lower()
    assert f"x-peer: {CLIENT_ID}" in upstream_head
    assert "x-tls: tlsv1.3" in upstream_head
    assert "x-subject: [cn=client,o=remora tests]" in upstream_head
    assert f"x-local: {SERVER_ID}" in upstream_head
    # A formatter with nothing to print adds no header.
    assert "x-dns:" not in upstream_head
    assert "x-peer-ip:" not in upstream_head
    assert "x-local-ip: 127.0.0.1" in upstream_head
    assert headers["x-up-peer"] == SERVER_ID
    # Envoy's clients stop at TLS 1.2 unless told otherwise.
    assert headers["x-up-tls"] == "TLSv1.2"
    assert headers["x-down-issuer"] == "CN=mesh-ca,O=Remora tests"

    fields = logged(log).split("|")
    assert fields == [SERVER_ID, "server.local", "CN=server,O=Remora tests", "CN=mesh-ca,O=Remora tests",
                      "TLSv1.2", ciphers[0], CLIENT_ID, "-", not_before(pem(pki, "server")),
                      urlencoded(pem(pki, "server")), urlencoded(pem(pki, "client")), "127.0.0.1", "-"], fields


def test_ip_and_email_sans_of_the_downstream_peer(proxy, admin_port, upstreams, pki, tmp_path):
    """`%DOWNSTREAM_PEER_IP_SAN%` joins IPv4 and IPv6 (RFC 5952) SANs with
    commas, `%DOWNSTREAM_PEER_EMAIL_SAN%` the email SANs; the local ones
    read the listener's certificate (the server's IP SAN, no email)."""
    from tls_certs import _leaf
    _leaf("mailer", "mesh-ca", [f"URI:{CLIENT_ID}", "email:ops@example.com", "IP:10.1.2.3",
                                "IP:2001:db8:0:0:0:0:0:1", "email:oncall@example.com"], pki.root)
    up = upstreams(tls_http_handler(server_context(pki), echo_head=True))
    port = free_port()
    log = tmp_path / "access.log"
    fmt = "%DOWNSTREAM_PEER_IP_SAN%|%DOWNSTREAM_PEER_EMAIL_SAN%|%DOWNSTREAM_LOCAL_IP_SAN%|%DOWNSTREAM_LOCAL_EMAIL_SAN%\n"
    proxy(config(admin_port, port, up.address, pki, log, fmt, request_headers={"x-ip": "%DOWNSTREAM_PEER_IP_SAN%"},
                 response_headers={}))
    with tls_connect(port, client_context(pki, cert="mailer")) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nhost: example\r\nconnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert b"x-ip: 10.1.2.3,2001:db8::1" in data.lower(), data
    assert logged(log) == "10.1.2.3,2001:db8::1|ops@example.com,oncall@example.com|127.0.0.1|-"


@pytest.mark.parametrize("tickets", [True, False], ids=["tickets", "no-tickets"])
def test_downstream_tls_session_id_as_envoy_prints_it(proxy, admin_port, upstreams, pki, tickets):
    """`%DOWNSTREAM_TLS_SESSION_ID%` is the session's id where BoringSSL has
    one: none for TLS 1.3, none for a TLS 1.2 full handshake that issued a
    ticket; a resumed TLS 1.2 session's is the id the client offered, and
    without tickets the server's id, which the client also sees."""
    import socket
    import ssl
    from support import free_port
    from tls_support import downstream_tls, http_chain
    up = upstreams()
    port = free_port()
    transport = downstream_tls(pki, require_client=False, ca=False)
    if not tickets:
        transport["typed_config"]["disable_stateless_session_resumption"] = True
    chain = http_chain("backend", transport)
    chain["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0] = {
        "match": {"prefix": "/"}, "direct_response": {"status": 200},
        "response_headers_to_add": [{"header": {"key": "x-sid", "value": "[%DOWNSTREAM_TLS_SESSION_ID%]"}}]}
    proxy(support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [chain])],
                            [support.cluster("backend", [up.address])]))
    contexts: dict = {}

    def session_id(version, session=None):
        ctx = contexts.setdefault(version, ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        ctx.check_hostname, ctx.verify_mode, ctx.maximum_version = False, ssl.CERT_NONE, version
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="server.local",
                             session=session) as s:
            s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            sid = next(line for line in data.split(b"\r\n") if line.lower().startswith(b"x-sid:")).split(b"[")[1][:-1].decode()
            return sid, s.session, s.session_reused

    sid, session, _ = session_id(ssl.TLSVersion.TLSv1_2)
    assert sid == ("" if tickets else session.id.hex())
    sid, _, reused = session_id(ssl.TLSVersion.TLSv1_2, session)
    assert reused and sid == session.id.hex()
    sid, session, _ = session_id(ssl.TLSVersion.TLSv1_3)
    assert sid == ""
    sid, _, reused = session_id(ssl.TLSVersion.TLSv1_3, session)
    assert reused == tickets and sid == ""


def openssl_x509(path: str, *args: str) -> str:
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", *args], capture_output=True, check=True,
                          text=True).stdout.strip()


def fingerprint(path: str, digest: str) -> str:
    return openssl_x509(path, "-fingerprint", f"-{digest}").split("=", 1)[1].replace(":", "").lower()


def serial(path: str) -> str:
    # Whole bytes, as BN_bn2hex prints them (a leading 0 nibble stays).
    return openssl_x509(path, "-serial").split("=", 1)[1].lower()


def test_chain_issuer_othername_and_group_of_the_downstream_peer(proxy, admin_port, upstreams, pki, tmp_path):
    """`%DOWNSTREAM_PEER_CHAIN_*%` list every certificate the client sent
    (Python's client sends its CA after its leaf), `%DOWNSTREAM_PEER_ISSUER_*%`
    name the leaf's issuer in the verified chain, `%*_OTHERNAME_SAN%` print
    otherName SANs (a UTF8String, an INTEGER in decimal, an IA5String) and
    `%*_TLS_GROUP%` the key exchange, as Envoy 1.40 prints them."""
    from tls_certs import _leaf
    _leaf("upn", "mesh-ca", [f"URI:{CLIENT_ID}", "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com",
                             "otherName:1.2.3.4;INTEGER:256", "otherName:1.3.6.1.4.1.311.20.2.3;IA5STRING:bob"], pki.root)
    up = upstreams(tls_http_handler(server_context(pki), echo_head=True))
    port = free_port()
    log = tmp_path / "access.log"
    fmt = ("%DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256%|%DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1%|"
           "%DOWNSTREAM_PEER_CHAIN_SERIALS%|%DOWNSTREAM_PEER_ISSUER_FINGERPRINT_256%|%DOWNSTREAM_PEER_ISSUER_SERIAL%|"
           "%DOWNSTREAM_PEER_OTHERNAME_SAN%|%DOWNSTREAM_LOCAL_OTHERNAME_SAN%|%DOWNSTREAM_TLS_GROUP%|%UPSTREAM_TLS_GROUP%\n")
    proxy(config(admin_port, port, up.address, pki, log, fmt,
                 request_headers={"x-other": "%DOWNSTREAM_PEER_OTHERNAME_SAN%", "x-group": "%DOWNSTREAM_TLS_GROUP%"},
                 response_headers={"x-up-group": "%UPSTREAM_TLS_GROUP%"}))
    with tls_connect(port, client_context(pki, cert="upn")) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nhost: example\r\nconnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head = data.lower()
    assert b"x-other: alice@example.com,256,bob" in head, data
    assert b"x-group: x25519" in head and b"x-up-group: x25519" in head, data
    leaf, ca = pki.path("upn.crt"), pki.path("mesh-ca.crt")
    assert logged(log).split("|") == [
        f"{fingerprint(leaf, 'sha256')},{fingerprint(ca, 'sha256')}", f"{fingerprint(leaf, 'sha1')},{fingerprint(ca, 'sha1')}",
        f"{serial(leaf)},{serial(ca)}", fingerprint(ca, "sha256"), serial(ca),
        "alice@example.com,256,bob", "-", "X25519", "X25519"]


def session_upstream(server_ctx, seen: list):
    """An HTTP/1.1 upstream over TLS that answers one request per
    connection and records each session's (id, resumed)."""
    def handler(conn, server) -> None:
        try:
            tls = server_ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        seen.append((tls.session.id.hex() if tls.session else "", tls.session_reused))
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = tls.recv(65536)
                if not data:
                    return
                buf += data
            tls.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()
    return handler


@pytest.mark.parametrize("case", ["tls12-tickets", "tls12-no-tickets", "tls13"])
def test_upstream_tls_session_id_as_envoy_prints_it(proxy, admin_port, upstreams, pki, tmp_path, case):
    """`%UPSTREAM_TLS_SESSION_ID%`: on TLS 1.2 the id the server gave (with
    no ticket), or the SHA-256 of the ticket, kept by the resumed sessions
    after it (the server then sees another id: the one the client offered);
    nothing on TLS 1.3, resumed or not. (What the server sees on
    resumption differs: BoringSSL offers a random id with its ticket,
    OpenSSL the ticket's hash; neither shows in the log.)"""
    import ssl as ssl_module
    server_ctx = server_context(pki)
    if case != "tls13":
        server_ctx.maximum_version = ssl_module.TLSVersion.TLSv1_2
    if case == "tls12-no-tickets":
        server_ctx.options |= ssl_module.OP_NO_TICKET
    seen: list = []
    up = upstreams(session_upstream(server_ctx, seen))
    port = free_port()
    cfg = config(admin_port, port, up.address, pki, tmp_path / "access.log", "-\n", request_headers={},
                 response_headers={"x-sid": "[%UPSTREAM_TLS_SESSION_ID%]"})
    if case == "tls13":
        cluster_tls = cfg["static_resources"]["clusters"][0]["transport_socket"]["typed_config"]["common_tls_context"]
        cluster_tls["tls_params"] = {"tls_maximum_protocol_version": "TLSv1_3"}
    proxy(cfg)
    sids = [exchange(port, pki)[0]["x-sid"][1:-1] for _ in range(3)]
    assert len(seen) == 3
    if case == "tls13":
        assert sids == ["", "", ""], sids
        assert [resumed for _, resumed in seen] == [False, True, True]
    elif case == "tls12-no-tickets":
        # Python's server does not resume here (no session-id context): each connection is new.
        assert sids == [sid for sid, _ in seen], (sids, seen)
    else:
        assert len(sids[0]) == 64 and sids == [sids[0]] * 3, sids
        assert [resumed for _, resumed in seen] == [False, True, True]
        # The server sent no id of its own: the id is the client library's, from the ticket.
        assert seen[0][0] == "", seen


def test_a_client_certificate_goes_with_its_configured_chain_only(proxy, admin_port, upstreams, pki, tmp_path):
    """The proxy's client certificate goes out with the chain its file
    holds (the leaf alone here), nothing added from `trusted_ca`: an Envoy
    listener in front of the echo logs the chain it was sent."""
    from tls_support import EnvoyPeer, tls_tcp_config, upstream_tls
    echo = upstreams()
    peer_port, peer_admin = free_port(), free_port()
    log = tmp_path / "peer-access.log"
    peer_cfg = tls_tcp_config(peer_admin, peer_port, echo.address, downstream_tls(pki, sans=[uri_san(CLIENT_ID)]))
    tcp = peer_cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    tcp["access_log"] = [{"name": "envoy.access_loggers.file", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog", "path": str(log),
        "log_format": {"text_format_source": {"inline_string": "%DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256%\n"}}}}]
    peer = EnvoyPeer(tmp_path, peer_cfg)
    try:
        peer.wait_ready()
        port = free_port()
        proxy(tls_tcp_config(admin_port, port, socket_address("127.0.0.1", peer_port), None,
                             upstream_tls(pki, cert="client", sans=[uri_san(SERVER_ID)])))
        import socket
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"ping")
            assert support.recv_exact(s, 4) == b"ping"
        assert logged(log) == fingerprint(pki.path("client.crt"), "sha256")
    finally:
        peer.stop()
