"""Delta xDS `removed_resources` for RDS and EDS while a listener and a
cluster still use them, over ADS from the test control plane
(xds_control_plane.py). Envoy 1.40 acknowledges both removals and keeps the
route table (RdsRouteConfigSubscription logs and ignores a delta RDS
removal); what it does with a removed ClusterLoadAssignment is checked by
the same test against it (PROXY_KIND=envoy)."""

from __future__ import annotations

import time

from google.protobuf import json_format

import support
from support import free_port, socket_address
from http_support import HCM_TYPE, HttpClient, route, route_config, router_filter, vhost
from xds_control_plane import CDS, EDS, LDS, RDS, ControlPlane
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2

import pytest

HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}
ADS = {"ads": {}, "resource_api_version": "V3"}


@pytest.fixture
def control_plane():
    cp = ControlPlane().start()
    yield cp
    cp.stop()


def listener(port: int) -> listener_pb2.Listener:
    hcm = {"@type": HCM_TYPE, "stat_prefix": "ingress", "codec_type": "AUTO",
           "rds": {"route_config_name": "r", "config_source": ADS}, "http_filters": [router_filter()]}
    return json_format.ParseDict({"name": "http", "address": socket_address("127.0.0.1", port),
                                  "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                                  "typed_config": hcm}]}]}, listener_pb2.Listener())


def eds_cluster(name: str) -> cluster_pb2.Cluster:
    return json_format.ParseDict({"name": name, "type": "EDS", "connect_timeout": "1s",
                                  "eds_cluster_config": {"eds_config": ADS}}, cluster_pb2.Cluster())


def assignment(name: str, upstream) -> endpoint_pb2.ClusterLoadAssignment:
    return json_format.ParseDict({"cluster_name": name, "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": upstream.address}}]}]}, endpoint_pb2.ClusterLoadAssignment())


def routes(cluster: str) -> route_pb2.RouteConfiguration:
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])], name="r"),
                                 route_pb2.RouteConfiguration())


def bootstrap(cp: ControlPlane) -> dict:
    xds = support.cluster("xds", [socket_address("127.0.0.1", cp.port)])
    xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
    config = support.bootstrap(free_port(), [], [xds])
    config["node"] = {"id": "sidecar~1", "cluster": "mesh"}
    config["dynamic_resources"] = {
        "ads_config": {"api_type": "DELTA_GRPC", "transport_api_version": "V3",
                       "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
        "cds_config": ADS, "lds_config": ADS,
    }
    return config


def removal_answer(cp: ControlPlane, url: str, name: str):
    """Removes `name` of type `url` and returns the proxy's answer to the
    response that carried the removal."""
    cp.remove(url, [name])
    before = cp._counter
    cp.push(url)
    return cp.wait_for(lambda r: r.type_url == url and r.nonce.isdigit() and int(r.nonce) > before
                       and (r.is_ack or r.is_nack))


def test_delta_removal_of_referenced_routes_and_endpoints(proxy, control_plane, http_upstreams):
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    cp.set(CDS, {"a": eds_cluster("a")})
    cp.set(EDS, {"a": assignment("a", a)})
    cp.set(LDS, {"http": listener(port)})
    cp.set(RDS, {"r": routes("a")})
    p = proxy(bootstrap(cp))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)
    with HttpClient(port) as c:
        assert c.request().header("x-upstream") == "A"

        # The route table goes: ACKed, and the listener keeps serving it.
        answer = removal_answer(cp, RDS, "r")
        assert answer.is_ack
        time.sleep(0.3)
        assert c.request().header("x-upstream") == "A"
        rds = p.stats()
        assert rds["http.ingress.rds.r.update_success"] == 2
        assert rds["http.ingress.rds.r.config_reload"] == 1

        # The endpoints go: ACKed (Envoy's EDS cluster takes it as an empty
        # update), and the cluster keeps its hosts.
        answer = removal_answer(cp, EDS, "a")
        assert answer.is_ack
        time.sleep(0.3)
        assert c.request().header("x-upstream") == "A"
        stats = p.stats()
        assert stats["cluster.a.update_empty"] == 1
        assert stats["cluster.a.membership_total"] == 1

    # A new stream does not claim the removed resources (they wait for the
    # server again); the proxy keeps serving what it has.
    first = cp.requests[0].stream
    cp.stop()
    cp.start()
    again = {url: cp.wait_for(lambda r, url=url: r.type_url == url and r.stream > first and not r.nonce)
             for url in (CDS, EDS, LDS, RDS)}
    assert again[CDS].initial_resource_versions.keys() == {"a"}
    assert again[LDS].initial_resource_versions.keys() == {"http"}
    assert again[EDS].initial_resource_versions == {}
    assert again[RDS].initial_resource_versions == {}
    assert again[EDS].subscribe == ["a"] and again[RDS].subscribe == ["r"]
    with HttpClient(port) as c:
        assert c.request().header("x-upstream") == "A"
