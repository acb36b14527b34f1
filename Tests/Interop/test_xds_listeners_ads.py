"""Listeners and routes over ADS from the test control plane
(xds_control_plane.py), state of the world and Delta: the listener manager
and RDS do not care where their updates come from. Clusters are static."""

from __future__ import annotations

import time

import pytest
from google.protobuf import json_format

import support
from support import free_port, socket_address
from http_support import HCM_TYPE, HttpClient, http_cluster, route, route_config, router_filter, vhost
from xds_control_plane import LDS, RDS, ControlPlane
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2

HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}
ADS = {"ads": {}, "resource_api_version": "V3"}


@pytest.fixture
def control_plane():
    cp = ControlPlane().start()
    yield cp
    cp.stop()


def listener(name: str, port: int) -> listener_pb2.Listener:
    hcm = {"@type": HCM_TYPE, "stat_prefix": "ingress", "codec_type": "AUTO",
           "rds": {"route_config_name": "r", "config_source": ADS}, "http_filters": [router_filter()]}
    return json_format.ParseDict({"name": name, "address": socket_address("127.0.0.1", port),
                                  "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                                  "typed_config": hcm}]}]}, listener_pb2.Listener())


def routes(cluster: str) -> route_pb2.RouteConfiguration:
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])], name="r"),
                                 route_pb2.RouteConfiguration())


def wait_stat(proxy, name: str, at_least: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while proxy.stats().get(name, 0) < at_least:
        assert time.monotonic() < deadline, f"{name} is {proxy.stats().get(name)}, below {at_least}"
        time.sleep(0.05)


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_listeners_and_routes_over_ads(proxy, control_plane, http_upstreams, delta):
    cp = control_plane
    a, b = http_upstreams(name="A"), http_upstreams(name="B")
    port = free_port()
    cp.set(LDS, {"http": listener("http", port)})
    cp.set(RDS, {"r": routes("a")})
    xds = support.cluster("xds", [socket_address("127.0.0.1", cp.port)])
    xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
    config = support.bootstrap(free_port(), [], [xds, http_cluster("a", [a.address]), http_cluster("b", [b.address])])
    config["node"] = {"id": "sidecar~1", "cluster": "mesh"}
    config["dynamic_resources"] = {
        "ads_config": {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
                       "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
        "lds_config": ADS,
    }
    p = proxy(config)
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)
    with HttpClient(port) as c:
        assert c.request().header("x-upstream") == "A"
        # A route push reaches the next request on the same connection.
        cp.set(RDS, {"r": routes("b")})
        cp.push()
        wait_stat(p, "http.ingress.rds.r.update_success", 2)
        assert c.request().header("x-upstream") == "B"

        # A bad listener is NACKed naming it; the good one keeps serving.
        bad = listener("bad", free_port())
        bad.filter_chains[0].filters[0].typed_config.Clear()
        cp.set(LDS, {"bad": bad})
        cp.push()
        nack = cp.wait_for(lambda r: r.type_url == LDS and r.is_nack)
        assert nack.error_message.startswith("Error adding/updating listener(s) bad: ")
        assert c.request().header("x-upstream") == "B"

    # Removing the listener stops its socket.
    cp.remove(LDS, ["http", "bad"])
    cp.push()
    wait_stat(p, "listener_manager.listener_removed", 1)
    deadline = time.monotonic() + 5
    while not support.is_refused("127.0.0.1", port):
        assert time.monotonic() < deadline
        time.sleep(0.05)
