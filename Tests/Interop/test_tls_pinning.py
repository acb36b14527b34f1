"""Certificate pinning in `validation_context`: `verify_certificate_hash`
(SHA-256 of the certificate, hex with or without colons) and
`verify_certificate_spki` (base64 SHA-256 of the public key), checked after
the SAN matchers, refused at the handshake with `ssl.fail_verify_cert_hash`.
The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import base64
import hashlib
import ssl
import subprocess

import pytest

import support
from support import free_port, stat_addr
from tls_certs import make_pki, spiffe
from tls_support import client_context, downstream_tls, served, tls_tcp_config, uri_san


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def cert_hash(pki, name: str, colons: bool = False) -> str:
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pki.pem(f"{name}.crt"))).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)) if colons else digest


def spki_hash(pki, name: str) -> str:
    pub = subprocess.run(["openssl", "x509", "-in", pki.path(f"{name}.crt"), "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True, check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def start(proxy, admin_port, upstreams, pki, validation: dict, sans=None):
    up = upstreams()
    port = free_port()
    transport = downstream_tls(pki, require_client=True, ca=True, sans=sans)
    transport["typed_config"]["common_tls_context"]["validation_context"].update(validation)
    p = proxy(tls_tcp_config(admin_port, port, up.address, transport))
    return p, port, f"listener.{stat_addr('127.0.0.1', port)}.ssl."


@pytest.mark.parametrize("kind", ["hash", "hash_colons", "spki"])
def test_a_pinned_client_certificate_is_accepted_and_others_refused(proxy, admin_port, upstreams, pki, kind):
    pins = {"hash": {"verify_certificate_hash": [cert_hash(pki, "client")]},
            "hash_colons": {"verify_certificate_hash": [cert_hash(pki, "server"), cert_hash(pki, "client", colons=True)]},
            "spki": {"verify_certificate_spki": [spki_hash(pki, "client")]}}[kind]
    p, port, prefix = start(proxy, admin_port, upstreams, pki, pins)
    assert served(port, client_context(pki, cert="client"))
    assert not served(port, client_context(pki, cert="other"))
    p.wait_for_stats({prefix + "handshake": 1, prefix + "fail_verify_cert_hash": 1})


def test_sans_are_checked_before_the_pins(proxy, admin_port, upstreams, pki):
    p, port, prefix = start(proxy, admin_port, upstreams, pki, {"verify_certificate_hash": [cert_hash(pki, "other")]},
                            sans=[uri_san(spiffe("default", "client"))])
    # "other" matches the pin but not the SAN; "client" the SAN but not the pin.
    assert not served(port, client_context(pki, cert="other"))
    assert not served(port, client_context(pki, cert="client"))
    p.wait_for_stats({prefix + "fail_verify_san": 1, prefix + "fail_verify_cert_hash": 1})


# Long enough for the API's length rules (64–95 and 44 characters), but not a digest.
@pytest.mark.parametrize("field,value,message", [
    ("verify_certificate_hash", "zz" * 32, "Invalid hex-encoded SHA-256 " + "zz" * 32),
    ("verify_certificate_spki", "A" * 44, "Invalid base64-encoded SHA-256 " + "A" * 44),
])
def test_malformed_pins_are_refused(tmp_path, pki, field, value, message):
    transport = downstream_tls(pki, require_client=True)
    transport["typed_config"]["common_tls_context"]["validation_context"][field] = [value]
    config = tls_tcp_config(free_port(), free_port(), {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
                            transport)
    path = tmp_path / "bootstrap.yaml"
    path.write_text(support.to_yaml(config))
    result = support.run_validate(path)
    assert result.returncode != 0
    assert message in (result.stdout + result.stderr).decode()
