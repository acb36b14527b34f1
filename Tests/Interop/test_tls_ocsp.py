"""OCSP stapling on a listener: `tls_certificates[].ocsp_staple` and
`ocsp_staple_policy` as Envoy 1.40 applies them — the server staples when
the client asks (`openssl s_client -status`), Envoy's config-time checks,
and `ssl.ocsp_staple_*` stats. Responses are made with `openssl ocsp`."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

import support
from support import free_port, stat_addr
from tls_certs import make_pki
from tls_support import downstream_tls, tls_tcp_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def openssl(*args: str, cwd: Path) -> str:
    return subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=20).stdout.decode()


def ocsp_response(pki, cert: str, out: Path, days: int | None = 1) -> str:
    """A `good` response for `cert` signed by the mesh CA; without `days`
    it has no nextUpdate (which Envoy counts as expired)."""
    root = Path(pki.path("mesh-ca.crt")).parent
    serial = openssl("x509", "-in", f"{cert}.crt", "-noout", "-serial", cwd=root).strip().split("=", 1)[1]
    index = out.with_suffix(".index")
    index.write_text(f"V\t301231235959Z\t\t{serial}\tunknown\t/CN={cert}\n")
    request = out.with_suffix(".req")
    openssl("ocsp", "-issuer", "mesh-ca.crt", "-cert", f"{cert}.crt", "-reqout", str(request), "-no_nonce", cwd=root)
    extra = ["-ndays", str(days)] if days else []
    openssl("ocsp", "-index", str(index), "-rsigner", "mesh-ca.crt", "-rkey", "mesh-ca.key", "-CA", "mesh-ca.crt",
            "-reqin", str(request), "-respout", str(out), *extra, cwd=root)
    return str(out)


def config(admin_port: int, port: int, upstream: dict, pki, staple: str | None, policy: str | None) -> dict:
    transport = downstream_tls(pki, require_client=False, ca=False)
    if staple:
        transport["typed_config"]["common_tls_context"]["tls_certificates"][0]["ocsp_staple"] = {"filename": staple}
    if policy:
        transport["typed_config"]["ocsp_staple_policy"] = policy
    return tls_tcp_config(admin_port, port, upstream, transport)


def s_client(port: int, status: bool = True) -> tuple[bool, str]:
    """(handshake done, s_client's output) for one connection asking for a staple."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "server.local", "-tls1_3"]
    if status:
        argv.append("-status")
    r = subprocess.run(argv, input=b"", capture_output=True, timeout=20)
    out = r.stdout.decode(errors="replace")
    return "Cipher is TLS_" in out and "Cipher is (NONE)" not in out, out


def ssl_stats(p, port: int) -> dict:
    prefix = f"listener.{stat_addr('127.0.0.1', port)}.ssl.ocsp_staple_"
    return {k[len(prefix):]: v for k, v in p.stats().items() if k.startswith(prefix)}


def wait_ocsp_stats(p, port: int, expected: dict) -> None:
    prefix = f"listener.{stat_addr('127.0.0.1', port)}.ssl.ocsp_staple_"
    p.wait_for_stats({prefix + k: v for k, v in expected.items()}, missing_as_zero=True)


@pytest.mark.parametrize("policy", [None, "STRICT_STAPLING", "MUST_STAPLE"])
def test_a_valid_response_is_stapled_when_asked(proxy, admin_port, upstreams, pki, tmp_path, policy):
    up = upstreams()
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, ocsp_response(pki, "server", tmp_path / "good.der"), policy))
    done, out = s_client(port)
    assert done, out
    assert "OCSP Response Status: successful" in out and "Cert Status: good" in out, out
    # A client that does not ask gets none, and is not counted.
    done, out = s_client(port, status=False)
    assert done and "OCSP response" not in out, out
    wait_ocsp_stats(p, port, {"requests": 1, "responses": 1, "omitted": 0, "failed": 0})


def test_lenient_goes_on_without_an_expired_response(proxy, admin_port, upstreams, pki, tmp_path):
    up = upstreams()
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, ocsp_response(pki, "server", tmp_path / "stale.der", days=None), None))
    done, out = s_client(port)
    assert done, out
    assert "OCSP response: no response sent" in out, out
    wait_ocsp_stats(p, port, {"requests": 1, "responses": 0, "omitted": 1, "failed": 0})


@pytest.mark.parametrize("policy", ["STRICT_STAPLING", "MUST_STAPLE"])
def test_strict_and_must_staple_refuse_a_client_an_expired_response(proxy, admin_port, upstreams, pki, tmp_path, policy):
    up = upstreams()
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, ocsp_response(pki, "server", tmp_path / "stale.der", days=None),
                     policy))
    done, out = s_client(port)
    assert not done, out
    wait_ocsp_stats(p, port, {"requests": 1, "responses": 0, "failed": 1})
    # A client that does not ask is served (Envoy's ClientNotCapable).
    done, out = s_client(port, status=False)
    assert done, out


def test_strict_without_a_response_omits_it(proxy, admin_port, upstreams, pki):
    up = upstreams()
    port = free_port()
    p = proxy(config(admin_port, port, up.address, pki, None, "STRICT_STAPLING"))
    done, out = s_client(port)
    assert done and "OCSP response: no response sent" in out, out
    wait_ocsp_stats(p, port, {"requests": 1, "omitted": 1})


@pytest.mark.parametrize("case,message", [
    ("missing", "Required OCSP response is missing from TLS context"),
    ("other-cert", "OCSP response does not match its TLS certificate"),
])
def test_config_time_checks(admin_port, pki, tmp_path, case, message):
    staple = None if case == "missing" else ocsp_response(pki, "client", tmp_path / "client.der")
    cfg = config(admin_port, free_port(), support.socket_address("127.0.0.1", free_port()), pki, staple, "MUST_STAPLE")
    path = tmp_path / "ocsp.yaml"
    path.write_text(support.to_yaml(cfg))
    r = support.run_validate(path)
    assert r.returncode != 0
    assert message.encode() in r.stdout + r.stderr, (r.stdout + r.stderr)[-2000:]
