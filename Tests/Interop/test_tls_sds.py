"""File-based SDS (`sds_config.path_config_source`): a filter chain's
certificate comes from a `Secret` in a DiscoveryResponse file and rotates
without a restart, by a Kubernetes-style `..data` symlink swap in the
secret's `watched_directory`, or by moving a new SDS file into place. New
handshakes get the new certificate, established connections go on, and a
broken rotation keeps the old certificate. The same tests run against Envoy
1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import os
import shutil
import ssl
import time
from pathlib import Path

import pytest

import support
from support import free_port
from tls_certs import make_pki, spiffe
from tls_support import DOWNSTREAM_TLS, client_context, tls_connect

SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def move_into_place(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.rename(tmp, path)


def sds_file(secret: dict, version: str) -> str:
    return support.to_yaml({"version_info": version, "resources": [dict({"@type": SECRET_TYPE}, **secret)]})


def tls_secret(name: str, cert: str, key: str, watched: str | None = None) -> dict:
    certificate: dict = {"certificate_chain": {"filename": cert}, "private_key": {"filename": key}}
    if watched:
        certificate["watched_directory"] = {"path": watched}
    return {"name": name, "tls_certificate": certificate}


def sds_config(admin_port: int, port: int, upstream: dict, sds_path: Path) -> dict:
    chain = support.filter_chain("backend", "tp")
    chain["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": DOWNSTREAM_TLS,
        "common_tls_context": {"tls_certificate_sds_secret_configs": [{
            "name": "workload", "sds_config": {"path_config_source": {"path": str(sds_path)},
                                               "resource_api_version": "V3"}}]}}}
    config = support.bootstrap(admin_port, [support.listener("tls", support.socket_address("127.0.0.1", port), [chain])],
                               [support.cluster("backend", [upstream])])
    config["node"] = {"id": "sidecar~127.0.0.1~test.default~default.svc.cluster.local", "cluster": "test"}
    return config


def peer_uri(port: int) -> str:
    ctx = client_context_no_verify()
    with tls_connect(port, ctx) as s:
        cert = s.getpeercert(binary_form=True)
        s.sendall(b"ping")
        assert support.recv_exact(s, 4) == b"ping"
    return uri_of(cert)


def client_context_no_verify() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def uri_of(der: bytes) -> str:
    """The URI SAN of a DER certificate (the openssl CLI reads it)."""
    import subprocess
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-ext", "subjectAltName"],
                         input=der, capture_output=True, check=True).stdout.decode()
    for part in out.replace("\n", ",").split(","):
        part = part.strip()
        if part.startswith("URI:"):
            return part[4:]
    return ""


def wait_for_uri(port: int, expected: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        seen = peer_uri(port)
        if seen == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"still serving {seen!r}, expected {expected!r}")


def make_version(certs: Path, version: str, pki, cert: str, key: str) -> None:
    d = certs / f"..{version}"
    d.mkdir()
    shutil.copy(pki.path(f"{cert}.crt"), d / "tls.crt")
    shutil.copy(pki.path(f"{key}.key"), d / "tls.key")


def swap_data(certs: Path, version: str) -> None:
    """Kubernetes' atomic writer: point `..data` at the new version with a rename."""
    tmp = certs / "..data_tmp"
    os.symlink(f"..{version}", tmp)
    os.rename(tmp, certs / "..data")


def watched_workload_secret(tmp_path: Path, pki) -> tuple[Path, Path]:
    """A Kubernetes-style secret directory (`..v1` behind `..data`, the
    server's certificate) and an SDS file naming it as the `workload`
    secret, watched: (the directory, the SDS file)."""
    certs = tmp_path / "certs"
    certs.mkdir()
    make_version(certs, "v1", pki, "server", "server")
    os.symlink("..v1", certs / "..data")
    os.symlink("..data/tls.crt", certs / "tls.crt")
    os.symlink("..data/tls.key", certs / "tls.key")
    sds = tmp_path / "sds.yaml"
    move_into_place(sds, sds_file(tls_secret("workload", str(certs / "tls.crt"), str(certs / "tls.key"), str(certs)), "1"))
    return certs, sds


def test_symlink_swap_in_the_watched_directory_rotates_the_certificate(proxy, admin_port, upstreams, pki, tmp_path):
    certs, sds = watched_workload_secret(tmp_path, pki)

    up = upstreams()
    port = free_port()
    p = proxy(sds_config(admin_port, port, up.address, sds))
    assert peer_uri(port) == spiffe("default", "server")
    # Envoy builds the context when the file's secret is first read, and again at each rotation.
    factory = f"listener.127.0.0.1_{port}.server_ssl_socket_factory.ssl_context_update_by_sds"
    p.wait_for_stats({factory: 1})

    # An established connection survives the rotation untouched.
    held = tls_connect(port, client_context_no_verify())
    held_cert = held.getpeercert(binary_form=True)
    make_version(certs, "v2", pki, "other", "other")
    swap_data(certs, "v2")
    wait_for_uri(port, spiffe("other", "intruder"))
    held.sendall(b"still")
    assert support.recv_exact(held, 5) == b"still"
    assert uri_of(held_cert) == spiffe("default", "server")
    held.close()
    p.wait_for_stats({factory: 2})

    # A certificate whose key does not match: the old one stays.
    make_version(certs, "v3", pki, "server", "client")
    swap_data(certs, "v3")
    time.sleep(1.0)
    assert peer_uri(port) == spiffe("other", "intruder")
    p.wait_for_stats({"sds.workload.key_rotation_failed": 1})
    p.wait_for_stats({factory: 2})


def test_a_new_sds_file_moved_into_place_rotates_and_a_broken_one_is_rejected(proxy, admin_port, upstreams, pki, tmp_path):
    sds = tmp_path / "sds.yaml"
    move_into_place(sds, sds_file(tls_secret("workload", pki.path("server.crt"), pki.path("server.key")), "1"))
    up = upstreams()
    port = free_port()
    p = proxy(sds_config(admin_port, port, up.address, sds))
    assert peer_uri(port) == spiffe("default", "server")

    move_into_place(sds, sds_file(tls_secret("workload", pki.path("client.crt"), pki.path("client.key")), "2"))
    wait_for_uri(port, spiffe("default", "client"))
    p.wait_for_stats({"sds.workload.update_success": 2})
    factory = f"listener.127.0.0.1_{port}.server_ssl_socket_factory.ssl_context_update_by_sds"
    p.wait_for_stats({factory: 2})

    # A key that does not match its certificate is refused; the old one serves.
    move_into_place(sds, sds_file(tls_secret("workload", pki.path("server.crt"), pki.path("client.key")), "3"))
    p.wait_for_stats({"sds.workload.update_rejected": 1})
    assert peer_uri(port) == spiffe("default", "client")
    p.wait_for_stats({factory: 2})


def test_sds_needs_a_named_node(tmp_path, pki):
    sds = tmp_path / "sds.yaml"
    move_into_place(sds, sds_file(tls_secret("workload", pki.path("server.crt"), pki.path("server.key")), "1"))
    config = sds_config(support.free_port(), support.free_port(), {"socket_address": {"address": "127.0.0.1", "port_value": 1}}, sds)
    del config["node"]
    path = tmp_path / "bootstrap.yaml"
    path.write_text(support.to_yaml(config))
    result = support.run_validate(path)
    assert result.returncode != 0
    assert "node 'id' and 'cluster' are required" in (result.stdout + result.stderr).decode()
