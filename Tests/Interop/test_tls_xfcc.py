"""`x-forwarded-client-cert` (`forward_client_cert_details`,
`set_current_client_cert_details`): removed by default, passed on, appended
to or replaced with the client certificate's details as Envoy writes them
(`By=`, `Hash=`, `Subject=`, `URI=`, `Cert=`, `Chain=`, `DNS=`, PEMs
URL-encoded). The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
import urllib.parse

import pytest

import support
from support import free_port, socket_address
from tls_certs import make_pki, spiffe
from tls_support import downstream_tls, http_chain

SPOOF = "By=spiffe://evil;Hash=00"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def start(proxy, admin_port, http_upstreams, pki, mode: str | None, details: dict | None = None, tls: bool = True):
    up = http_upstreams()
    port = free_port()
    chain = http_chain("backend", downstream_tls(pki, require_client=False) if tls else None)
    hcm = chain["filters"][0]["typed_config"]
    if mode:
        hcm["forward_client_cert_details"] = mode
    if details:
        hcm["set_current_client_cert_details"] = details
    cfg = support.bootstrap(admin_port, [support.listener("l", socket_address("127.0.0.1", port), [chain])],
                            [support.cluster("backend", [up.address])])
    proxy(cfg)
    return up, port


def get(port: int, pki, cert: bool = True, tls: bool = True) -> None:
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"x-forwarded-client-cert: {SPOOF}"]
    if tls:
        args += ["--cacert", pki.path("mesh-ca.crt"), "--resolve", f"server.local:{port}:127.0.0.1",
                 f"https://server.local:{port}/x"]
        if cert:
            args += ["--cert", pki.path("client.crt"), "--key", pki.path("client.key")]
    else:
        args += [f"http://127.0.0.1:{port}/x"]
    out = subprocess.run(args, capture_output=True, timeout=10)
    assert out.stdout == b"200", out.stderr


def client_details(pki) -> tuple[str, str]:
    pem = pki.pem("client.crt")
    der = ssl.PEM_cert_to_DER_cert(pem)
    return hashlib.sha256(der).hexdigest(), urllib.parse.quote(pem, safe="-._~")


def test_sanitize_is_the_default(proxy, admin_port, http_upstreams, pki):
    up, port = start(proxy, admin_port, http_upstreams, pki, None)
    get(port, pki)
    assert up.requests[-1].header("x-forwarded-client-cert") is None


@pytest.mark.parametrize("tls,cert,kept", [(True, True, True), (True, False, False), (False, False, False)])
def test_forward_only_needs_a_client_certificate(proxy, admin_port, http_upstreams, pki, tls, cert, kept):
    up, port = start(proxy, admin_port, http_upstreams, pki, "FORWARD_ONLY", tls=tls)
    get(port, pki, cert=cert, tls=tls)
    assert up.requests[-1].header("x-forwarded-client-cert") == (SPOOF if kept else None)


def test_always_forward_only_keeps_it_on_plaintext(proxy, admin_port, http_upstreams, pki):
    up, port = start(proxy, admin_port, http_upstreams, pki, "ALWAYS_FORWARD_ONLY", tls=False)
    get(port, pki, tls=False)
    assert up.requests[-1].header("x-forwarded-client-cert") == SPOOF


def test_append_forward_with_every_detail(proxy, admin_port, http_upstreams, pki):
    up, port = start(proxy, admin_port, http_upstreams, pki, "APPEND_FORWARD",
                     {"subject": True, "uri": True, "cert": True, "chain": True, "dns": True})
    get(port, pki)
    digest, cert = client_details(pki)
    # curl sends the CA after its certificate (it finds it in --cacert): the chain has both.
    chain = urllib.parse.quote(pki.pem("client.crt") + pki.pem("mesh-ca.crt"), safe="-._~")
    expected = (f"By={spiffe('default', 'server')};Hash={digest};Cert=\"{cert}\";Chain=\"{chain}\";"
                f"Subject=\"CN=client,O=Remora tests\";URI={spiffe('default', 'client')}")
    assert up.requests[-1].header("x-forwarded-client-cert") == SPOOF + "," + expected


def test_sanitize_set_replaces_it_and_without_details_sends_by_and_hash(proxy, admin_port, http_upstreams, pki):
    up, port = start(proxy, admin_port, http_upstreams, pki, "SANITIZE_SET", {"uri": True, "dns": True})
    get(port, pki)
    digest, _ = client_details(pki)
    assert up.requests[-1].header("x-forwarded-client-cert") == (
        f"By={spiffe('default', 'server')};Hash={digest};URI={spiffe('default', 'client')}")
    # Without a client certificate the header is removed.
    get(port, pki, cert=False)
    assert up.requests[-1].header("x-forwarded-client-cert") is None
