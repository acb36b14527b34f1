"""Several `tls_certificates` in one server context: the certificate is
chosen per connection by SNI (DNS SANs, exact then `*.` wildcard, else the
first) and by what the client can verify (ECDSA when it can, RSA
otherwise), as Envoy 1.40's default certificate selector does. The same
tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import socket
import ssl
import subprocess

import pytest

import support
from support import free_port
from tls_certs import _leaf, make_pki, spiffe
from tls_support import DOWNSTREAM_TLS, tls_tcp_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = make_pki(tmp_path_factory.mktemp("pki"))
    _leaf("alt", "mesh-ca", ["DNS:alt.local", f"URI:{spiffe('default', 'alt')}"], p.root)
    _leaf("wild", "mesh-ca", ["DNS:*.wild.local", f"URI:{spiffe('default', 'wild')}"], p.root)
    return p


def start(proxy, admin_port, upstreams, pki, names: list[str]) -> int:
    up = upstreams()
    port = free_port()
    transport = {"name": "envoy.transport_sockets.tls", "typed_config": {"@type": DOWNSTREAM_TLS, "common_tls_context": {
        "tls_certificates": [{"certificate_chain": {"filename": pki.path(f"{n}.crt")},
                              "private_key": {"filename": pki.path(f"{n}.key")}} for n in names]}}}
    proxy(tls_tcp_config(admin_port, port, up.address, transport))
    return port


def served_certificate(port: int, sni: str | None, rsa_only: bool = False) -> str:
    """The served certificate's SAN text and key type."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if rsa_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname=sni) as s:
        der = s.getpeercert(binary_form=True)
        s.sendall(b"ping")
        assert support.recv_exact(s, 4) == b"ping"
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text"], input=der,
                          capture_output=True, check=True).stdout.decode()
    kind = "rsa" if "rsaEncryption" in text else "ecdsa"
    uri = next((part.strip()[4:] for part in text.replace("\n", ",").split(",") if part.strip().startswith("URI:")), "")
    return f"{uri.rsplit('/', 1)[-1]}/{kind}"


def test_ecdsa_for_clients_that_can_rsa_for_the_others(proxy, admin_port, upstreams, pki):
    port = start(proxy, admin_port, upstreams, pki, ["server-rsa", "server"])
    assert served_certificate(port, "server.local") == "server/ecdsa"
    assert served_certificate(port, "server.local", rsa_only=True) == "server/rsa"
    assert served_certificate(port, None) == "server/ecdsa"


def test_the_sni_picks_the_certificate(proxy, admin_port, upstreams, pki):
    port = start(proxy, admin_port, upstreams, pki, ["server", "alt", "wild"])
    assert served_certificate(port, "alt.local") == "alt/ecdsa"
    # Envoy compares the SNI as sent: no case folding.
    assert served_certificate(port, "ALT.local") == "server/ecdsa"
    assert served_certificate(port, "x.wild.local") == "wild/ecdsa"
    assert served_certificate(port, "a.b.wild.local") == "server/ecdsa"
    assert served_certificate(port, "unknown.local") == "server/ecdsa"
    assert served_certificate(port, None) == "server/ecdsa"
