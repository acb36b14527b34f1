"""Delta xDS `removed_resources` for RDS and EDS while a listener and a
cluster still use them, over ADS from the test control plane
(xds_control_plane.py). Envoy 1.40 ACKs both and changes nothing it serves:
RdsRouteConfigSubscription logs and ignores a Delta RDS removal, and the
EDS cluster takes the removal as an empty update (`update_empty`, hosts
kept); on a new stream neither name is claimed with a version. Both
proxies run it (PROXY_KIND=envoy)."""

from __future__ import annotations

import time

from google.protobuf import json_format

import support
from support import free_port, socket_address
from http_support import HttpClient
from test_xds_listeners_ads import ADS, HTTP2_OPTIONS, control_plane, listener, routes  # noqa: F401 (fixture)
from xds_control_plane import CDS, EDS, LDS, RDS, ControlPlane
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2


def eds_cluster(name: str) -> cluster_pb2.Cluster:
    return json_format.ParseDict({"name": name, "type": "EDS", "connect_timeout": "1s",
                                  "eds_cluster_config": {"eds_config": ADS}}, cluster_pb2.Cluster())


def assignment(name: str, upstream) -> endpoint_pb2.ClusterLoadAssignment:
    return json_format.ParseDict({"cluster_name": name, "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": upstream.address}}]}]}, endpoint_pb2.ClusterLoadAssignment())


def bootstrap(cp: ControlPlane, delta: bool = True) -> dict:
    """Everything (CDS, LDS, and what they lead to) over ADS from `cp`."""
    xds = support.cluster("xds", [socket_address("127.0.0.1", cp.port)])
    xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
    config = support.bootstrap(free_port(), [], [xds])
    config["node"] = {"id": "sidecar~1", "cluster": "mesh"}
    config["dynamic_resources"] = {
        "ads_config": {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
                       "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
        "cds_config": ADS, "lds_config": ADS,
    }
    return config


def remove_while_serving(cp: ControlPlane, client: HttpClient, url: str, name: str) -> None:
    """Removes `name` of type `url`: the proxy ACKs the response that carried
    the removal, and the client is still served by upstream A."""
    cp.remove(url, [name])
    before = cp._counter
    cp.push(url)
    answer = cp.wait_for(lambda r: r.type_url == url and r.nonce.isdigit() and int(r.nonce) > before
                         and (r.is_ack or r.is_nack))
    assert answer.is_ack, answer.error_message
    time.sleep(0.3)
    assert client.request().header("x-upstream") == "A"


def test_delta_removal_of_referenced_routes_and_endpoints(proxy, control_plane, http_upstreams):
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    cp.set(CDS, {"a": eds_cluster("a")})
    cp.set(EDS, {"a": assignment("a", a)})
    cp.set(LDS, {"http": listener("http", port)})
    cp.set(RDS, {"r": routes("a")})
    p = proxy(bootstrap(cp))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)
    with HttpClient(port) as c:
        assert c.request().header("x-upstream") == "A"

        # The route table goes: the listener keeps serving it (the removal
        # counts as a successful update, nothing is reloaded).
        remove_while_serving(cp, c, RDS, "r")
        stats = p.stats()
        assert stats["http.ingress.rds.r.update_success"] == 2
        assert stats["http.ingress.rds.r.config_reload"] == 1

        # The endpoints go: Envoy's EDS cluster takes it as an empty update
        # and keeps its hosts.
        remove_while_serving(cp, c, EDS, "a")
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
