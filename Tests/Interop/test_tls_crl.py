"""Certificate revocation (`validation_context.crl`): a client whose
certificate the CRL revokes is refused at the handshake
(`ssl.fail_verify_error`), others pass; a CRL without a trusted CA is a
config error. The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

import support
from support import free_port, stat_addr
from tls_certs import make_pki
from tls_support import client_context, downstream_tls, served, tls_tcp_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def crl(pki, tmp_path_factory) -> str:
    """A CRL signed by mesh-ca that revokes the `other` certificate."""
    d: Path = tmp_path_factory.mktemp("crl")
    (d / "index.txt").write_text("")
    (d / "crlnumber").write_text("01\n")
    (d / "ca.cnf").write_text(f"""[ca]
default_ca = mesh
[mesh]
database = {d}/index.txt
crlnumber = {d}/crlnumber
certificate = {pki.path('mesh-ca.crt')}
private_key = {pki.path('mesh-ca.key')}
default_md = sha256
default_crl_days = 30
""")
    run = lambda *a: subprocess.run(["openssl", "ca", "-config", str(d / "ca.cnf"), *a], check=True, capture_output=True)
    run("-revoke", pki.path("other.crt"))
    run("-gencrl", "-out", str(d / "crl.pem"))
    return str(d / "crl.pem")


@pytest.mark.parametrize("leaf_only", [False, True])
def test_a_revoked_client_certificate_is_refused(proxy, admin_port, upstreams, pki, crl, leaf_only):
    up = upstreams()
    port = free_port()
    transport = downstream_tls(pki, require_client=True)
    validation = transport["typed_config"]["common_tls_context"]["validation_context"]
    validation["crl"] = {"filename": crl}
    if leaf_only:
        validation["only_verify_leaf_cert_crl"] = True
    p = proxy(tls_tcp_config(admin_port, port, up.address, transport))
    prefix = f"listener.{stat_addr('127.0.0.1', port)}.ssl."
    assert served(port, client_context(pki, cert="client"))
    assert not served(port, client_context(pki, cert="other"))
    p.wait_for_stats({prefix + "handshake": 1, prefix + "fail_verify_error": 1})


def test_a_crl_needs_a_trusted_ca(tmp_path, pki, crl):
    transport = downstream_tls(pki, require_client=True, ca=False)
    transport["typed_config"]["common_tls_context"]["validation_context"] = {"crl": {"filename": crl}}
    config = tls_tcp_config(free_port(), free_port(), {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
                            transport)
    path = tmp_path / "bootstrap.yaml"
    path.write_text(support.to_yaml(config))
    result = support.run_validate(path)
    assert result.returncode != 0
    assert f"Failed to load CRL from {crl} without trusted CA" in (result.stdout + result.stderr).decode()
