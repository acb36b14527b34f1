"""SDS over gRPC (ADS and `api_config_source`) from the test control plane
(xds_control_plane.py): a listener's certificate arrives as a `Secret`,
the proxy is ready only once it has, a pushed secret rotates the
certificate for new handshakes, and a secret that does not build is NACKed
naming it while the old certificate serves. State of the world and Delta.
The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import ssl
import socket
import subprocess

import pytest
from google.protobuf import json_format

import support
from support import free_port
from tls_certs import make_pki, spiffe
from tls_support import DOWNSTREAM_TLS, tls_tcp_config
from xds_control_plane import SDS, ControlPlane
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def control_plane():
    cp = ControlPlane().start()
    yield cp
    cp.stop()


def secret(pki, cert: str, key: str) -> secret_pb2.Secret:
    return json_format.ParseDict({"name": "workload", "tls_certificate": {
        "certificate_chain": {"inline_string": pki.pem(f"{cert}.crt")},
        "private_key": {"inline_string": pki.pem(f"{key}.key")}}}, secret_pb2.Secret())


def config(admin_port: int, port: int, upstream: dict, cp_port: int, mode: str) -> dict:
    if mode == "api":
        source = {"api_config_source": {"api_type": "GRPC", "transport_api_version": "V3",
                                        "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
                  "resource_api_version": "V3"}
    else:
        source = {"ads": {}, "resource_api_version": "V3"}
    transport = {"name": "envoy.transport_sockets.tls", "typed_config": {"@type": DOWNSTREAM_TLS, "common_tls_context": {
        "tls_certificate_sds_secret_configs": [{"name": "workload", "sds_config": source}]}}}
    cfg = tls_tcp_config(admin_port, port, upstream, transport)
    xds = support.cluster("xds", [support.socket_address("127.0.0.1", cp_port)])
    xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
    cfg["static_resources"]["clusters"].append(xds)
    cfg["node"] = {"id": "sidecar~1", "cluster": "mesh"}
    if mode != "api":
        cfg["dynamic_resources"] = {"ads_config": {
            "api_type": "DELTA_GRPC" if mode == "delta" else "GRPC", "transport_api_version": "V3",
            "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]}}
    return cfg


def peer(port: int) -> str:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname="server.local") as s:
        der = s.getpeercert(binary_form=True)
        s.sendall(b"ping")
        assert support.recv_exact(s, 4) == b"ping"
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-ext", "subjectAltName"], input=der,
                          capture_output=True, check=True).stdout.decode()
    return next(p.strip()[4:] for p in text.replace("\n", ",").split(",") if p.strip().startswith("URI:"))


@pytest.mark.parametrize("mode", ["sotw", "delta", "api"])
def test_certificate_from_sds_over_grpc_rotates(proxy, control_plane, upstreams, pki, mode):
    cp = control_plane
    cp.set(SDS, {"workload": secret(pki, "server", "server")})
    up = upstreams()
    port = free_port()
    p = proxy(config(free_port(), port, up.address, cp.port, mode))
    assert peer(port) == spiffe("default", "server")
    # The listener's context was built when the secret arrived, and again for each rotation.
    factory = f"listener.127.0.0.1_{port}.server_ssl_socket_factory."
    p.wait_for_stats({factory + "ssl_context_update_by_sds": 1, factory + "downstream_context_secrets_not_ready": 0,
                      factory + "upstream_context_secrets_not_ready": 0})

    cp.set(SDS, {"workload": secret(pki, "client", "client")})
    cp.push()
    p.wait_for_stats({"sds.workload.update_success": 2, factory + "ssl_context_update_by_sds": 2})
    assert peer(port) == spiffe("default", "client")

    # A key that does not match: NACKed, the old certificate serves.
    cp.set(SDS, {"workload": secret(pki, "server", "client")})
    cp.push()
    nack = cp.wait_for(lambda r: r.type_url == SDS and r.is_nack, timeout=10)
    assert "private key" in nack.error_message
    p.wait_for_stats({"sds.workload.update_rejected": 1, factory + "ssl_context_update_by_sds": 2})
    assert peer(port) == spiffe("default", "client")


def test_handshakes_are_refused_until_the_secret_arrives(proxy, control_plane, upstreams, pki):
    cp = control_plane
    up = upstreams()
    port = free_port()
    cfg = config(free_port(), port, up.address, cp.port, "sotw")
    source = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["transport_socket"]["typed_config"][
        "common_tls_context"]["tls_certificate_sds_secret_configs"][0]["sds_config"]
    source["initial_fetch_timeout"] = "1s"
    p = proxy(cfg)  # ready once the initial fetch timed out
    p.wait_for_stats({"sds.workload.init_fetch_timeout": 1})
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError)):
        peer(port)
    # The connection found no context to handshake with.
    factory = f"listener.127.0.0.1_{port}.server_ssl_socket_factory."
    p.wait_for_stats({factory + "downstream_context_secrets_not_ready": 1, factory + "ssl_context_update_by_sds": 0})
    cp.set(SDS, {"workload": secret(pki, "server", "server")})
    cp.push()
    p.wait_for_stats({"sds.workload.update_success": 1, factory + "ssl_context_update_by_sds": 1})
    assert peer(port) == spiffe("default", "server")
    p.wait_for_stats({factory + "downstream_context_secrets_not_ready": 1})


def test_config_dump_shows_secrets_redacted(proxy, control_plane, upstreams, pki, tmp_path):
    """/config_dump's SecretsConfigDump as Envoy's: a static secret with
    its private key and password `[redacted]`; an SDS secret over gRPC
    warming (`uninitialized`, name only) until it arrives, then active with
    its version and its key redacted; a file SDS secret active with its
    files shown as bytes (the key as `[redacted]`)."""
    import base64
    import json
    import subprocess
    cp = control_plane
    up = upstreams()
    port = free_port()
    cfg = config(free_port(), port, up.address, cp.port, "sotw")
    tls = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["transport_socket"]["typed_config"]["common_tls_context"]
    encrypted = tmp_path / "server-encrypted.key"
    subprocess.run(["openssl", "pkey", "-in", pki.path("server.key"), "-aes256", "-passout", "pass:sesame",
                    "-out", str(encrypted)], check=True, capture_output=True)
    cfg["static_resources"]["secrets"] = [{"name": "static-cert", "tls_certificate": {
        "certificate_chain": {"inline_string": pki.pem("server.crt")},
        "private_key": {"inline_string": encrypted.read_text()},
        "password": {"inline_string": "sesame"}}}]
    files = tmp_path / "sds.yaml"
    files.write_text(json.dumps({"resources": [{
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "file-ca",
        "validation_context": {"trusted_ca": {"filename": pki.path("mesh-ca.crt")}}}]}))
    tls["tls_certificate_sds_secret_configs"][0]["sds_config"]["initial_fetch_timeout"] = "0.5s"
    tls["tls_certificate_sds_secret_configs"].insert(0, {"name": "static-cert"})
    tls["validation_context_sds_secret_config"] = {"name": "file-ca", "sds_config": {"path_config_source": {"path": str(files)}}}
    p = proxy(cfg)

    def secrets() -> dict:
        status, body = p.admin("GET", "/config_dump")
        assert status == 200
        dump = next(c for c in json.loads(body)["configs"] if c["@type"].endswith("SecretsConfigDump"))
        for items in dump.values():
            if isinstance(items, list):
                for item in items:
                    assert item.pop("last_updated", "Z").endswith("Z")
        return dump

    before = secrets()
    static = before["static_secrets"]
    assert [s["name"] for s in static] == ["static-cert"]
    certificate = static[0]["secret"]["tls_certificate"]
    assert certificate["private_key"] == {"inline_string": "[redacted]"}
    assert certificate["password"] == {"inline_string": "[redacted]"}
    assert certificate["certificate_chain"] == {"inline_string": pki.pem("server.crt")}
    assert before["dynamic_warming_secrets"] == [{"name": "workload", "version_info": "uninitialized", "secret": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "workload"}}]
    ca = [s for s in before["dynamic_active_secrets"] if s["name"] == "file-ca"][0]
    assert base64.b64decode(ca["secret"]["validation_context"]["trusted_ca"]["inline_bytes"]).decode() == pki.pem("mesh-ca.crt")

    cp.set(SDS, {"workload": secret(pki, "client", "client")})
    cp.push()
    p.wait_for_stats({"sds.workload.update_success": 1})
    after = secrets()
    assert "dynamic_warming_secrets" not in after
    workload = [s for s in after["dynamic_active_secrets"] if s["name"] == "workload"][0]
    assert workload["version_info"] == "1"
    assert workload["secret"]["tls_certificate"]["private_key"] == {"inline_string": "[redacted]"}
    assert workload["secret"]["tls_certificate"]["certificate_chain"] == {"inline_string": pki.pem("client.crt")}
    status, body = p.admin("GET", "/config_dump?resource=static_secrets")
    assert status == 200
    typed = json.loads(body)["configs"]
    assert [c["@type"] for c in typed] == ["type.googleapis.com/envoy.admin.v3.SecretsConfigDump.StaticSecret"]
