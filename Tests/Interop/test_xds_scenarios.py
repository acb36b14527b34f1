"""Mesh scenarios over ADS from the test control plane (xds_control_plane.py),
with traffic flowing during each push (issue 10's list): a weighted canary
shift 90/10 -> 50/50 -> 0/100 under load, endpoint swaps under load, a
WebSocket that outlives an unrelated listener push, a certificate rotated
by SDS while clients keep handshaking, and a bad secret NACKed while the
old certificate keeps serving. State of the world and Delta.

The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import ssl
import threading
import time

import pytest
from google.protobuf import json_format

import support
from support import free_port, socket_address
from http_support import HCM_TYPE, HttpClient, route, route_config, router_filter, vhost
from test_http_connection import WS_REQUEST, ws_responder
from test_xds_listeners import closed_loop, keep_alive_client
from tls_certs import make_pki, spiffe
from tls_support import DOWNSTREAM_TLS, client_context, tls_connect
from xds_control_plane import CDS, EDS, LDS, RDS, SDS, ControlPlane
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}
ADS = {"ads": {}, "resource_api_version": "V3"}
MODES = pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])


@pytest.fixture
def control_plane():
    cp = ControlPlane().start()
    yield cp
    cp.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def ads_bootstrap(cp_port: int, delta: bool, clusters: list[dict] | None = None, cds: bool = True) -> dict:
    xds = support.cluster("xds", [socket_address("127.0.0.1", cp_port)])
    xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
    config = support.bootstrap(free_port(), [], [xds] + (clusters or []))
    config["node"] = {"id": "sidecar~1", "cluster": "mesh"}
    config["dynamic_resources"] = {
        "ads_config": {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
                       "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
        "lds_config": ADS,
    }
    if cds:
        config["dynamic_resources"]["cds_config"] = ADS
    return config


def http_listener(name: str, port: int, **hcm_extra) -> listener_pb2.Listener:
    hcm = {"@type": HCM_TYPE, "stat_prefix": "ingress", "codec_type": "AUTO",
           "rds": {"route_config_name": "r", "config_source": ADS}, "http_filters": [router_filter()]}
    hcm.update(hcm_extra)
    return json_format.ParseDict({"name": name, "address": socket_address("127.0.0.1", port),
                                  "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                                  "typed_config": hcm}]}]}, listener_pb2.Listener())


def eds_cluster(name: str) -> cluster_pb2.Cluster:
    return json_format.ParseDict({"name": name, "type": "EDS", "connect_timeout": "1s",
                                  "eds_cluster_config": {"eds_config": ADS}}, cluster_pb2.Cluster())


def assignment(name: str, ports: list[int]) -> endpoint_pb2.ClusterLoadAssignment:
    return json_format.ParseDict({"cluster_name": name, "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": socket_address("127.0.0.1", p)}} for p in ports]}]},
        endpoint_pb2.ClusterLoadAssignment())


def weighted_routes(weights: dict[str, int]) -> route_pb2.RouteConfiguration:
    action = {"weighted_clusters": {"clusters": [{"name": c, "weight": w} for c, w in weights.items() if w]}}
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, route_extra=action)])],
                                              name="r"), route_pb2.RouteConfiguration())


def serve_one_service(cp: ControlPlane, port: int, upstream_port: int) -> None:
    """An HTTP listener on ``port`` (RDS table ``r``) routing to the EDS
    cluster ``svc``, whose one endpoint is ``upstream_port``."""
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": assignment("svc", [upstream_port])})
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})


def upstream_counts(port: int, n: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    with HttpClient(port) as c:
        for _ in range(n):
            name = c.request().header("x-upstream")
            counts[name] = counts.get(name, 0) + 1
    return counts


def wait_ack(cp: ControlPlane, type_url: str, after: int) -> None:
    """The proxy ACKed a response of this type sent after request number ``after``."""
    cp.wait_for(lambda r: r.type_url == type_url and r.is_ack and cp.requests.index(r) >= after, timeout=15)


@MODES
@pytest.mark.deadline(90)
def test_weighted_canary_shift_under_load(proxy, control_plane, http_upstreams, delta):
    """Two EDS clusters behind one route; the weights move 90/10 -> 50/50 ->
    0/100 while two keep-alive clients send back to back: no request fails,
    and once the last push is ACKed every request reaches the canary."""
    cp = control_plane
    stable, canary = http_upstreams(name="stable"), http_upstreams(name="canary")
    port = free_port()
    cp.set(CDS, {"v1": eds_cluster("v1"), "v2": eds_cluster("v2")})
    cp.set(EDS, {"v1": assignment("v1", [stable.port]), "v2": assignment("v2", [canary.port])})
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": weighted_routes({"v1": 90, "v2": 10})})
    proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    first = upstream_counts(port, 200)
    assert first.get("stable", 0) > first.get("canary", 0) > 0, first

    def pushes():
        for weights in ({"v1": 50, "v2": 50}, {"v1": 0, "v2": 100}):
            time.sleep(0.5)
            mark = len(cp.requests)
            cp.set(RDS, {"r": weighted_routes(weights)})
            cp.push()
            wait_ack(cp, RDS, mark)

    results = closed_loop(keep_alive_client(port), "x-upstream", pushes)
    assert results["failed"] == []
    assert results["seen"] == {"stable", "canary"}
    assert upstream_counts(port, 50) == {"canary": 50}


@MODES
@pytest.mark.deadline(90)
def test_endpoint_swaps_under_load(proxy, control_plane, http_upstreams, delta):
    """A cluster's endpoints move A -> B -> A+B -> A over EDS while clients
    send back to back: no request fails; the last assignment is what serves."""
    cp = control_plane
    a, b = http_upstreams(name="A"), http_upstreams(name="B")
    port = free_port()
    serve_one_service(cp, port, a.port)
    proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    assert upstream_counts(port, 5) == {"A": 5}

    def pushes():
        for ports in ([b.port], [a.port, b.port], [a.port]):
            time.sleep(0.4)
            mark = len(cp.requests)
            cp.set(EDS, {"svc": assignment("svc", ports)})
            cp.push()
            wait_ack(cp, EDS, mark)

    results = closed_loop(keep_alive_client(port), "x-upstream", pushes)
    assert results["failed"] == []
    assert results["seen"] == {"A", "B"}
    assert upstream_counts(port, 20) == {"A": 20}


@MODES
@pytest.mark.deadline(60)
def test_websocket_outlives_an_unrelated_listener_push(proxy, control_plane, http_upstreams, delta):
    """An upgraded WebSocket on listener "http" keeps carrying bytes while
    another listener is added, changed and removed over LDS."""
    cp = control_plane
    up = http_upstreams(ws_responder)
    port, other_port = free_port(), free_port()
    cp.set(CDS, {"ws": eds_cluster("ws")})
    cp.set(EDS, {"ws": assignment("ws", [up.port])})
    cp.set(LDS, {"http": http_listener("http", port, upgrade_configs=[{"upgrade_type": "websocket"}])})
    cp.set(RDS, {"r": weighted_routes({"ws": 1})})
    p = proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    with HttpClient(port) as c:
        c.send(WS_REQUEST)
        assert c.read_response().status == 101
        c.send(b"\x81\x05hello")
        assert c.recv_exact(7) == b"\x81\x05hello"
        for step, listeners in enumerate(({"other": http_listener("other", other_port)},
                                          {"other": http_listener("other", other_port, stat_prefix="changed")})):
            mark = len(cp.requests)
            cp.set(LDS, listeners)
            cp.push()
            wait_ack(cp, LDS, mark)
            frame = b"\x81\x05step" + str(step).encode()
            c.send(frame)
            assert c.recv_exact(len(frame)) == frame
        mark = len(cp.requests)
        cp.remove(LDS, ["other"])
        cp.push()
        wait_ack(cp, LDS, mark)
        p.wait_for_stats({"listener_manager.listener_removed": 1}, timeout=10)
        c.send(b"\x81\x03end")
        assert c.recv_exact(5) == b"\x81\x03end"


def workload_secret(pki, cert: str, key: str) -> secret_pb2.Secret:
    return json_format.ParseDict({"name": "workload", "tls_certificate": {
        "certificate_chain": {"inline_string": pki.pem(f"{cert}.crt")},
        "private_key": {"inline_string": pki.pem(f"{key}.key")}}}, secret_pb2.Secret())


def tls_http_listener(port: int, name: str = "https", secret: str = "workload") -> listener_pb2.Listener:
    listener = json_format.MessageToDict(http_listener(name, port), preserving_proto_field_name=True)
    listener["filter_chains"][0]["transport_socket"] = {
        "name": "envoy.transport_sockets.tls", "typed_config": {"@type": DOWNSTREAM_TLS, "common_tls_context": {
            "tls_certificate_sds_secret_configs": [{"name": secret, "sds_config": ADS}]}}}
    return json_format.ParseDict(listener, listener_pb2.Listener())


def served_certificate(port: int, pki) -> bytes:
    """One TLS connection and request; the server certificate (DER)."""
    with tls_connect(port, client_context(pki, cert=None, verify=False)) as s:
        der = s.getpeercert(binary_form=True)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data[:100]
    return der


@MODES
@pytest.mark.deadline(90)
def test_sds_rotation_under_load_fails_no_handshake(proxy, control_plane, http_upstreams, pki, delta):
    """Clients open TLS connections back to back (a full handshake and a
    request each) while the listener's certificate rotates five times over
    SDS: no handshake or request fails, and after the last ACK new
    connections get the last certificate. A secret whose key does not match
    is then NACKed and the certificate before it keeps serving."""
    cp = control_plane
    up = http_upstreams(name="A")
    port = free_port()
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": assignment("svc", [up.port])})
    cp.set(LDS, {"https": tls_http_listener(port)})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})
    cp.set(SDS, {"workload": workload_secret(pki, "server", "server")})
    server, client = (ssl.PEM_cert_to_DER_cert(pki.pem(f"{n}.crt")) for n in ("server", "client"))
    p = proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == SDS and r.is_ack, timeout=15)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    assert served_certificate(port, pki) == server

    stop = threading.Event()
    results = {"ok": 0, "failed": [], "seen": set()}
    lock = threading.Lock()

    def run():
        while not stop.is_set():
            try:
                der = served_certificate(port, pki)
                with lock:
                    results["ok"] += 1
                    results["seen"].add(der)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    results["failed"].append(repr(e))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(5):
            time.sleep(0.3)
            name = "client" if i % 2 == 0 else "server"
            mark = len(cp.requests)
            cp.set(SDS, {"workload": workload_secret(pki, name, name)})
            cp.push()
            wait_ack(cp, SDS, mark)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert results["failed"] == []
    assert results["ok"] > 10
    assert results["seen"] == {server, client}
    assert served_certificate(port, pki) == client

    mark = len(cp.requests)
    cp.set(SDS, {"workload": workload_secret(pki, "server", "client")})
    cp.push()
    nack = cp.wait_for(lambda r: r.type_url == SDS and r.is_nack and cp.requests.index(r) >= mark, timeout=15)
    assert "workload" in nack.error_message or "private key" in nack.error_message
    p.wait_for_stats({"sds.workload.update_rejected": 1}, timeout=10)
    assert served_certificate(port, pki) == client


@MODES
@pytest.mark.deadline(60)
def test_control_plane_restart_keeps_serving_and_resyncs(proxy, control_plane, http_upstreams, delta):
    """The control plane goes away: requests keep being served on the last
    config; it comes back with a changed route: the proxy reconnects,
    resubscribes (Delta with the versions it holds) and applies it."""
    cp = control_plane
    a, b = http_upstreams(name="A"), http_upstreams(name="B")
    port = free_port()
    cp.set(CDS, {"a": eds_cluster("a"), "b": eds_cluster("b")})
    cp.set(EDS, {"a": assignment("a", [a.port]), "b": assignment("b", [b.port])})
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": weighted_routes({"a": 1})})
    p = proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    assert upstream_counts(port, 3) == {"A": 3}
    first_stream = cp.requests[-1].stream

    cp.stop()
    p.wait_for_stats({"control_plane.connected_state": 0}, timeout=10)
    time.sleep(0.5)
    assert upstream_counts(port, 10) == {"A": 10}

    cp.set(RDS, {"r": weighted_routes({"b": 1})})
    cp.start()
    again = cp.wait_for(lambda r: r.type_url == CDS and r.stream > first_stream and r.nonce == "", timeout=30)
    if delta:
        assert set(again.initial_resource_versions) == {"a", "b"}
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack and r.stream > first_stream, timeout=30)
    p.wait_for_stats({"control_plane.connected_state": 1}, timeout=10)
    deadline = time.monotonic() + 10
    while upstream_counts(port, 1) != {"B": 1}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert upstream_counts(port, 10) == {"B": 10}


@MODES
@pytest.mark.deadline(60)
def test_cds_cluster_originates_mtls_with_secrets_over_sds(proxy, control_plane, upstreams, pki, delta):
    """A CDS cluster's UpstreamTlsContext takes its client certificate and
    its trusted CA from SDS over ADS: connections through an LDS TCP listener
    present that identity; a pushed certificate is what the next connection
    presents."""
    from tls_support import UPSTREAM_TLS, server_context, tls_echo_handler
    cp = control_plane
    peers: list = []
    up = upstreams(tls_echo_handler(server_context(pki), peers))
    port = free_port()
    cluster = json_format.ParseDict({
        "name": "svc", "type": "STATIC", "connect_timeout": "1s",
        "load_assignment": {"cluster_name": "svc", "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": up.address}}]}]},
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": UPSTREAM_TLS, "common_tls_context": {
                "tls_certificate_sds_secret_configs": [{"name": "identity", "sds_config": ADS}],
                "validation_context_sds_secret_config": {"name": "mesh-ca", "sds_config": ADS}}}}},
        cluster_pb2.Cluster())
    cp.set(CDS, {"svc": cluster})
    cp.set(LDS, {"tcp": json_format.ParseDict(support.tcp_listener("tcp", port, "svc", "tp"), listener_pb2.Listener())})
    ca = json_format.ParseDict({"name": "mesh-ca", "validation_context": {
        "trusted_ca": {"inline_string": pki.pem("mesh-ca.crt")}}}, secret_pb2.Secret())
    identity = workload_secret(pki, "client", "client")
    identity.name = "identity"
    cp.set(SDS, {"mesh-ca": ca, "identity": identity})
    proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack, timeout=15)

    def echo() -> bytes:
        deadline = time.monotonic() + 10
        while True:
            try:
                with support.connect("127.0.0.1", port) as s:
                    s.sendall(b"ping")
                    return support.recv_exact(s, 4)
            except (OSError, AssertionError):
                assert time.monotonic() < deadline
                time.sleep(0.1)

    assert echo() == b"ping"
    assert peers[-1] == [spiffe("default", "client")]

    rotated = workload_secret(pki, "server", "server")
    rotated.name = "identity"
    mark = len(cp.requests)
    cp.set(SDS, {"identity": rotated})
    cp.push()
    wait_ack(cp, SDS, mark)
    assert echo() == b"ping"
    assert peers[-1] == [spiffe("default", "server")]


def test_every_subscription_has_its_version_text(proxy, control_plane, http_upstreams):
    """`version_text` of every subscription, the EDS cluster's under
    `cluster.<name>.` too, as Envoy's text readouts list them."""
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    serve_one_service(cp, port, a.port)
    p = proxy(ads_bootstrap(cp.port, False))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    assert upstream_counts(port, 2) == {"A": 2}
    status, body = p.admin("GET", "/stats?type=TextReadouts&filter=version_text")
    assert status == 200
    assert body.decode().splitlines() == [
        'cluster.svc.version_text: "1"', 'cluster_manager.cds.version_text: "1"',
        'http.ingress.rds.r.version_text: "1"', 'listener_manager.lds.version_text: "1"']
