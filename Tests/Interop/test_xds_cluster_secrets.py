"""A CDS cluster whose UpstreamTlsContext reads SDS secrets warms on them,
as in Envoy 1.40: until its secrets arrive it is not in /clusters, counts in
`cluster_manager.warming_clusters`, shows under `dynamic_warming_clusters`
in /config_dump, and holds CDS initialization (so /ready) back; once they
arrive it goes active and originates TLS with them. A secret that never
comes lets the cluster go active at its `initial_fetch_timeout`, and every
connection it tries then fails, counting
`cluster.<name>.client_ssl_socket_factory.upstream_context_secrets_not_ready`.
`ssl_context_update_by_sds` counts each context rebuilt from an SDS update.
The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import json
import time

import pytest
from google.protobuf import json_format

import support
from support import free_port
from tls_certs import spiffe
from tls_support import UPSTREAM_TLS, server_context, tls_echo_handler
from test_xds_scenarios import ADS, MODES, ads_bootstrap, control_plane, pki, wait_ack, workload_secret  # noqa: F401
from xds_control_plane import CDS, LDS, SDS
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

FACTORY = "cluster.svc.client_ssl_socket_factory."


def tls_cluster(address: dict, fetch_timeout: str | None = None) -> cluster_pb2.Cluster:
    source = dict(ADS)
    if fetch_timeout:
        source["initial_fetch_timeout"] = fetch_timeout
    return json_format.ParseDict({
        "name": "svc", "type": "STATIC", "connect_timeout": "1s",
        "load_assignment": {"cluster_name": "svc", "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": address}}]}]},
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": UPSTREAM_TLS, "common_tls_context": {
                "tls_certificate_sds_secret_configs": [{"name": "identity", "sds_config": source}],
                "validation_context_sds_secret_config": {"name": "mesh-ca", "sds_config": source}}}}},
        cluster_pb2.Cluster())


def secrets(pki, cert: str = "client") -> dict:
    ca = json_format.ParseDict({"name": "mesh-ca", "validation_context": {
        "trusted_ca": {"inline_string": pki.pem("mesh-ca.crt")}}}, secret_pb2.Secret())
    identity = workload_secret(pki, cert, cert)
    identity.name = "identity"
    return {"mesh-ca": ca, "identity": identity}


def listed_clusters(p) -> set[str]:
    status, body = p.admin("GET", "/clusters")
    assert status == 200
    return {line.split("::")[0] for line in body.decode().splitlines() if "::" in line}


def dumped_clusters(p) -> dict[str, list[str]]:
    status, body = p.admin("GET", "/config_dump")
    assert status == 200
    dump = next(c for c in json.loads(body)["configs"] if c["@type"].endswith("ClustersConfigDump"))
    return {key: sorted(c["cluster"]["name"] for c in dump.get(key, []))
            for key in ("dynamic_active_clusters", "dynamic_warming_clusters")}


def echo(port: int) -> bytes:
    with support.connect("127.0.0.1", port) as s:
        s.sendall(b"ping")
        return support.recv_exact(s, 4)


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


@MODES
@pytest.mark.deadline(60)
def test_cds_cluster_warms_until_its_secrets_arrive(proxy, control_plane, upstreams, pki, delta):
    cp = control_plane
    peers: list = []
    up = upstreams(tls_echo_handler(server_context(pki), peers))
    port = free_port()
    cp.set(CDS, {"svc": tls_cluster(up.address)})
    cp.set(LDS, {"tcp": json_format.ParseDict(support.tcp_listener("tcp", port, "svc", "tp"), listener_pb2.Listener())})
    p = proxy(ads_bootstrap(cp.port, delta), wait_ready=False)
    # The cluster asked for its secrets; none came.
    cp.wait_for(lambda r: r.type_url == SDS and "identity" in (r.names or r.subscribe), timeout=15)
    p.wait_for_stats({"cluster_manager.warming_clusters": 1, "cluster_manager.active_clusters": 1}, timeout=10)
    time.sleep(0.5)
    stats = p.stats()
    assert stats["cluster_manager.warming_clusters"] == 1
    assert "svc" not in listed_clusters(p)
    assert dumped_clusters(p) == {"dynamic_active_clusters": [], "dynamic_warming_clusters": ["svc"]}
    status, _ = p.admin("GET", "/ready")
    assert status == 503
    assert not any(r.type_url == LDS for r in cp.requests), "LDS waits for CDS to initialize"

    mark = len(cp.requests)
    cp.set(SDS, secrets(pki))
    cp.push()
    wait_ack(cp, SDS, mark)
    p.wait_ready()
    stats = p.wait_for_stats({"cluster_manager.warming_clusters": 0, "cluster_manager.active_clusters": 2}, timeout=10)
    assert "svc" in listed_clusters(p)
    assert dumped_clusters(p) == {"dynamic_active_clusters": ["svc"], "dynamic_warming_clusters": []}
    assert stats.get(FACTORY + "upstream_context_secrets_not_ready") == 0
    # Each of the two secrets rebuilt the cluster's context once.
    assert stats.get(FACTORY + "ssl_context_update_by_sds") == 2
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack, timeout=15)
    assert wait_until(lambda: _try_echo(port)) == b"ping"
    assert peers[-1] == [spiffe("default", "client")]

    # A rotation counts one more update and the next connection presents it.
    mark = len(cp.requests)
    cp.set(SDS, {"identity": secrets(pki, "server")["identity"]})
    cp.push()
    wait_ack(cp, SDS, mark)
    p.wait_for_stats({FACTORY + "ssl_context_update_by_sds": 3})
    assert echo(port) == b"ping"
    assert peers[-1] == [spiffe("default", "server")]


def _try_echo(port: int) -> bytes | None:
    try:
        return echo(port)
    except (OSError, AssertionError):
        return None


@pytest.mark.deadline(60)
def test_cluster_without_its_secrets_goes_active_at_the_fetch_timeout_and_fails(proxy, control_plane, upstreams, pki):
    cp = control_plane
    up = upstreams(tls_echo_handler(server_context(pki), []))
    port = free_port()
    cp.set(CDS, {"svc": tls_cluster(up.address, fetch_timeout="1s")})
    cp.set(LDS, {"tcp": json_format.ParseDict(support.tcp_listener("tcp", port, "svc", "tp"), listener_pb2.Listener())})
    started = time.monotonic()
    p = proxy(ads_bootstrap(cp.port, False))
    assert time.monotonic() - started > 0.8
    stats = p.wait_for_stats({"cluster_manager.warming_clusters": 0, "sds.identity.init_fetch_timeout": 1})
    assert "svc" in listed_clusters(p)
    assert stats.get(FACTORY + "ssl_context_update_by_sds") == 0
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack, timeout=15)
    for _ in range(2):
        with support.connect("127.0.0.1", port) as s:
            s.sendall(b"ping")
            s.settimeout(5)
            try:
                assert s.recv(4) == b""
            except ConnectionResetError:
                pass
    # Each connection the cluster tried counts once and fails as a connect failure.
    p.wait_for_stats({FACTORY + "upstream_context_secrets_not_ready": 2, "cluster.svc.upstream_cx_connect_fail": 2,
                      FACTORY + "ssl_context_update_by_sds": 0})
