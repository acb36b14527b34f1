"""A first response that the proxy refuses (NACK) ends the warming it was
awaited for, as Envoy 1.40's onConfigUpdateFailed does: the server goes
live at once instead of waiting for initial_fetch_timeout. Both proxies."""

from __future__ import annotations

import time

import pytest
from google.protobuf import json_format

from test_xds_scenarios import (ADS, MODES, ads_bootstrap, assignment, control_plane, eds_cluster,  # noqa: F401
                                http_listener, pki, tls_http_listener, weighted_routes, workload_secret)
from http_support import route, route_config, vhost
from xds_control_plane import CDS, EDS, LDS, RDS, SDS
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from support import free_port
from http_support import HttpClient


def bad_routes() -> route_pb2.RouteConfiguration:
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"safe_regex": {"regex": "("}})])], name="r"),
                                 route_pb2.RouteConfiguration())


@pytest.mark.parametrize("kind", ["cds", "eds", "lds", "rds", "sds"])
@MODES
def test_nacked_first_update_ends_warming(proxy, control_plane, http_upstreams, pki, delta, kind):
    cp = control_plane
    up = http_upstreams(name="A")
    port = free_port()
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": assignment("svc", [up.port])})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})
    cp.set(LDS, {"http": http_listener("http", port)})
    if kind == "rds":
        cp.set(RDS, {"r": bad_routes()})
    elif kind == "eds":
        bad = endpoint_pb2.ClusterLoadAssignment()
        bad.CopyFrom(assignment("svc", [up.port]))
        bad.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = 0
        bad.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address = "not an address"
        cp.set(EDS, {"svc": bad})
    elif kind == "cds":
        cp.set(CDS, {"svc": json_format.ParseDict({"name": "svc", "type": "STATIC", "connect_timeout": "1s", "load_assignment": {
            "cluster_name": "svc", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                "address": "not an address", "port_value": 1}}}}]}]}}, cluster_pb2.Cluster())})
    elif kind == "lds":
        bad = listener_pb2.Listener()
        bad.CopyFrom(http_listener("http", port))
        bad.address.socket_address.address = "not an address"
        cp.set(LDS, {"http": bad})
    else:
        cp.remove(LDS, ["http"])
        cp.set(LDS, {"https": tls_http_listener(port)})
        cp.set(SDS, {"workload": workload_secret(pki, "server", "client")})
    t0 = time.monotonic()
    p = proxy(ads_bootstrap(cp.port, delta), ready_timeout=30)
    took = time.monotonic() - t0
    # The NACK may reach the control plane just after /ready answers.
    cp.wait_for(lambda r: r.is_nack, timeout=10)
    assert took < 10


@MODES
def test_listener_added_later_goes_active_when_its_table_is_refused(proxy, control_plane, http_upstreams, delta):
    """After start-up, a new listener waits for its RDS table; a refused
    table ends that wait (the listener serves with no routes: 404), as
    Envoy's RDS subscription readies its init target on any failure."""
    cp = control_plane
    up = http_upstreams(name="A")
    port, late = free_port(), free_port()
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": assignment("svc", [up.port])})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})
    cp.set(LDS, {"http": http_listener("http", port)})
    p = proxy(ads_bootstrap(cp.port, delta), ready_timeout=30)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    mark = len(cp.requests)
    bad = bad_routes()
    bad.name = "r2"
    cp.set(RDS, {"r2": bad})
    cp.set(LDS, {"late": http_listener("late", late, rds={"route_config_name": "r2", "config_source": ADS})})
    cp.push(LDS)
    nack = cp.wait_for(lambda r: r.type_url == RDS and r.is_nack and cp.requests.index(r) >= mark, timeout=15)
    assert "r2" in nack.error_message or "regex" in nack.error_message
    t0 = time.monotonic()
    p.wait_for_stats({"listener_manager.total_listeners_active": 2}, timeout=5)
    assert time.monotonic() - t0 < 5
    status = None
    for _ in range(50):
        try:
            with HttpClient(late) as c:
                status = c.request().status
            break
        except OSError:
            time.sleep(0.1)
    assert status == 404
