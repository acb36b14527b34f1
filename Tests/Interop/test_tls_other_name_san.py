"""`match_typed_subject_alt_names` with `san_type: OTHER_NAME`: a matcher
reads the otherName SANs of its `oid` (dotted, or a name the TLS library
knows), their values as Envoy prints them (a UTF8String's text, an INTEGER
in decimal, …); a client without a match is refused at the handshake
(`ssl.fail_verify_san`); an OID that names nothing refuses the config with
Envoy's message. The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations


import pytest

import support
from support import free_port, stat_addr
from tls_certs import _leaf, make_pki, spiffe
from tls_support import client_context, served, tls_tcp_config, downstream_tls

UPN = "1.3.6.1.4.1.311.20.2.3"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    _leaf("upn", "mesh-ca", [f"URI:{spiffe('default', 'client')}", f"otherName:{UPN};UTF8:alice@example.com",
                             "otherName:1.2.3.4;INTEGER:256"], pki.root)
    return pki


def matcher(oid: str, **match) -> dict:
    return {"san_type": "OTHER_NAME", "oid": oid, "matcher": match}


@pytest.mark.parametrize("sans,accepted", [
    ([matcher(UPN, exact="alice@example.com")], True),
    ([matcher("msUPN", suffix="@example.com")], True),
    ([matcher("1.2.3.4", exact="256")], True),
    ([matcher(UPN, exact="bob@example.com")], False),
    # The value is the UPN's: another OID's otherName does not count.
    ([matcher("1.2.3.4", exact="alice@example.com")], False),
    ([matcher("1.2.3.5", exact="256")], False),
], ids=["upn-exact", "upn-by-name", "integer", "wrong-value", "other-oid", "absent-oid"])
def test_other_name_matchers_at_the_handshake(proxy, admin_port, upstreams, pki, sans, accepted):
    up = upstreams()
    port = free_port()
    p = proxy(tls_tcp_config(admin_port, port, up.address, downstream_tls(pki, sans=sans)))
    assert served(port, client_context(pki, cert="upn")) == accepted
    # A certificate without otherName SANs never matches.
    assert not served(port, client_context(pki, cert="client"))
    prefix = f"listener.{stat_addr('127.0.0.1', port)}.ssl."
    p.wait_for_stats({prefix + "fail_verify_san": 1 if accepted else 2, prefix + "handshake": 1 if accepted else 0})


@pytest.mark.parametrize("oid", ["bogus", ""])
def test_an_oid_that_names_nothing_refuses_the_config(tmp_path, pki, oid):
    cfg = tls_tcp_config(support.free_port(), free_port(), support.socket_address("127.0.0.1", 9),
                         downstream_tls(pki, sans=[matcher(oid, exact="x")]))
    path = tmp_path / "bad.yaml"
    path.write_text(support.to_yaml(cfg))
    result = support.run_validate(path)
    assert result.returncode != 0
    assert f"Failed to create SAN matcher for OTHER_NAME with OID: {oid}" in (result.stdout + result.stderr).decode()
