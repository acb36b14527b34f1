"""The whole config over ADS from the test control plane
(xds_control_plane.py): a cluster and a TCP listener arrive by CDS and LDS,
traffic flows; what the proxy says on the wire (node, order, ACK, NACK with
error_detail, the last good config kept, re-subscription with versions and
initial_resource_versions after the control plane restarts). State of the
world and Delta.

Both proxies run it (PROXY_KIND=envoy for Envoy 1.40)."""

from __future__ import annotations

import time

import pytest
from google.protobuf import json_format

import support
from support import free_port
from xds_control_plane import CDS, LDS, ControlPlane
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_pb2


HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}


@pytest.fixture
def control_plane():
    cp = ControlPlane().start()
    yield cp
    cp.stop()


def ads_bootstrap(admin_port: int, cp_port: int, delta: bool) -> dict:
    xds = support.cluster("xds", [support.socket_address("127.0.0.1", cp_port)])
    xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
    config = support.bootstrap(admin_port, [], [xds])
    config["node"] = {"id": "sidecar~1", "cluster": "mesh"}
    config["dynamic_resources"] = {
        "ads_config": {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
                       "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
        "cds_config": {"ads": {}, "resource_api_version": "V3"},
        "lds_config": {"ads": {}, "resource_api_version": "V3"},
    }
    return config


def serve(cp: ControlPlane, backend_port: int, listen_port: int) -> None:
    cp.set(CDS, {"backend": json_format.ParseDict(
        support.cluster("backend", [support.socket_address("127.0.0.1", backend_port)]), cluster_pb2.Cluster())})
    cp.set(LDS, {"tcp": json_format.ParseDict(
        support.tcp_listener("tcp", listen_port, "backend", "tp"), listener_pb2.Listener())})


def echo(port: int) -> bytes:
    with support.connect("127.0.0.1", port) as s:
        s.sendall(b"ping")
        return support.recv_exact(s, 4)


def wait_stat(proxy, name: str, value: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while proxy.stats().get(name) != value:
        assert time.monotonic() < deadline, f"{name} is {proxy.stats().get(name)}, not {value}"
        time.sleep(0.05)


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_config_over_ads(proxy, control_plane, upstreams, delta):
    cp = control_plane
    backend = upstreams()
    listen_port = free_port()
    serve(cp, backend.port, listen_port)
    p = proxy(ads_bootstrap(free_port(), cp.port, delta))
    assert echo(listen_port) == b"ping"
    assert p.stats().get("control_plane.connected_state") == 1

    # CDS first, with the node; then EDS-free LDS; both ACKed.
    first = cp.requests[0]
    assert first.type_url == CDS and first.request.node.id == "sidecar~1"
    assert first.method == ("DeltaAggregatedResources" if delta else "StreamAggregatedResources")
    cds_ack = cp.wait_for(lambda r: r.type_url == CDS and r.is_ack)
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)
    if not delta:
        assert cds_ack.version_info == "1"

    # A cluster that does not load is NACKed (INTERNAL, the reason); the
    # listener keeps working with the last good config.
    cp.set(CDS, {"bad": json_format.ParseDict({"name": "bad", "connect_timeout": "-1s"}, cluster_pb2.Cluster())})
    cp.push()
    nack = cp.wait_for(lambda r: r.type_url == CDS and r.is_nack)
    assert nack.request.error_detail.code == 13 and nack.error_message
    if not delta:
        assert nack.version_info == "1"
    assert echo(listen_port) == b"ping"

    # The control plane restarts: the proxy asks again on a new stream.
    before = len(cp.requests)
    cp.stop()
    wait_stat(p, "control_plane.connected_state", 0)
    assert echo(listen_port) == b"ping"
    cp.start()
    again = cp.wait_for(lambda r: r.type_url == CDS and r.stream > first.stream and r.nonce == "")
    assert cp.requests.index(again) >= before
    if delta:
        # The held versions; the NACKed cluster is not held.
        assert set(again.initial_resource_versions) == {"backend"}
    else:
        assert again.version_info == "1"
    wait_stat(p, "control_plane.connected_state", 1)
    assert echo(listen_port) == b"ping"


def test_response_over_max_receive_message_length_ends_the_stream(proxy, control_plane, upstreams):
    """`envoy_grpc.max_receive_message_length`: a response over it ends the
    stream (RESOURCE_EXHAUSTED) without being read, neither ACKed nor
    NACKed; the proxy keeps the config it has and opens a new stream."""
    cp = control_plane
    backend = upstreams()
    listen_port = free_port()
    serve(cp, backend.port, listen_port)
    config = ads_bootstrap(free_port(), cp.port, delta=False)
    config["dynamic_resources"]["ads_config"]["grpc_services"][0]["envoy_grpc"]["max_receive_message_length"] = 4096
    p = proxy(config)
    assert echo(listen_port) == b"ping"
    first = cp.wait_for(lambda r: r.type_url == CDS and r.is_ack)

    # 100 clusters: about 10 KB in one CDS response.
    cp.set(CDS, {f"big{i:03}": json_format.ParseDict(
        support.cluster(f"big{i:03}", [support.socket_address("127.0.0.1", backend.port)]), cluster_pb2.Cluster())
        for i in range(100)})
    before = cp._counter
    cp.push(CDS)
    again = cp.wait_for(lambda r: r.type_url == CDS and r.stream > first.stream and r.nonce == "", timeout=15)
    assert again.version_info == "1"
    assert not any(r.type_url == CDS and r.nonce.isdigit() and int(r.nonce) > before and r.stream == first.stream
                   for r in cp.requests)
    assert "cluster.big000.upstream_cx_total" not in p.stats()
    assert echo(listen_port) == b"ping"


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_version_text_and_control_plane_identifier(proxy, control_plane, upstreams, delta):
    """The text readouts Envoy keeps beside the subscription stats:
    `<prefix>.version_text` (the last accepted version_info) and
    `control_plane.identifier` (from the responses' `control_plane`), in
    the text, JSON and (with `?text_readouts`) Prometheus forms; the
    `version` gauge is the unsigned xxHash64 of the version."""
    import json
    cp = control_plane
    cp.identifier = "istiod-7f9c"
    backend = upstreams()
    listen_port = free_port()
    serve(cp, backend.port, listen_port)
    p = proxy(ads_bootstrap(free_port(), cp.port, delta))
    assert echo(listen_port) == b"ping"
    wait_stat(p, "listener_manager.lds.update_success", 1)
    status, body = p.admin("GET", "/stats?type=TextReadouts")
    assert status == 200
    assert body.decode().splitlines() == ['cluster_manager.cds.version_text: "1"', 'control_plane.identifier: "istiod-7f9c"',
                                          'listener_manager.lds.version_text: "1"']
    status, body = p.admin("GET", "/stats?format=json&filter=cds.version")
    assert json.loads(body)["stats"] == [{"name": "cluster_manager.cds.version_text", "value": "1"},
                                         {"name": "cluster_manager.cds.version", "value": 13237225503670494420}]
    status, body = p.admin("GET", "/stats/prometheus?text_readouts&filter=identifier")
    assert body.decode() == ('# TYPE envoy_control_plane_identifier gauge\n'
                             'envoy_control_plane_identifier{text_value="istiod-7f9c"} 0\n')
    status, body = p.admin("GET", "/stats/prometheus?filter=identifier")
    assert body == b""
