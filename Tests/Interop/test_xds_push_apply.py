"""How pushes apply over ADS (state of the world and Delta), from the test
control plane (xds_control_plane.py):

- a CDS cluster moved to another EDS service, and later back: once the
  new version warmed, the old service leaves the EDS subscription (the old
  version's watch goes, as in Envoy), so that moving back asks for it again
  and is answered; the benchmark's cluster push (Benchmarks/xds_bench.py)
  hung on the second move when the old name stayed;
- a route configuration sent again unchanged is ACKed and counted but not
  reloaded, and a changed one (also back to an earlier one) serves at once.

Both proxies run it (PROXY_KIND=envoy for Envoy 1.40)."""

from __future__ import annotations

import time

import pytest
from google.protobuf import json_format

import support
from support import free_port
from http_support import HttpClient, http_listener as static_http_listener, route, route_config, vhost
from test_xds_ads import wait_stat
from test_xds_scenarios import ADS, ads_bootstrap, control_plane, http_listener  # noqa: F401 (control_plane is a fixture)
from xds_control_plane import CDS, EDS, LDS, RDS, ControlPlane
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2


def eds_cluster(service: str) -> cluster_pb2.Cluster:
    return json_format.ParseDict({"name": "c", "type": "EDS", "connect_timeout": "1s",
                                  "eds_cluster_config": {"eds_config": ADS, "service_name": service}},
                                 cluster_pb2.Cluster())


def assignment(service: str, upstream) -> endpoint_pb2.ClusterLoadAssignment:
    return json_format.ParseDict({"cluster_name": service, "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": upstream.address}}]}]}, endpoint_pb2.ClusterLoadAssignment())


def serving(port: int, upstream_name: str, timeout: float = 10.0) -> None:
    """Waits until a request on a new connection reaches `upstream_name`."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            with HttpClient(port) as c:
                r = c.request()
                seen = (r.status, r.header("x-upstream"))
                if seen == (200, upstream_name):
                    return
        except (OSError, AssertionError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"not served by {upstream_name} within {timeout} s (last: {seen})")


def last_eds_names(cp: ControlPlane, delta: bool) -> set[str]:
    """The EDS names the proxy asks for now (SotW: its last request's;
    Delta: what its requests subscribed and did not unsubscribe since)."""
    with cp._lock:
        requests = [r for r in cp.requests if r.type_url == EDS]
    if not delta:
        return set(requests[-1].names)
    names: set[str] = set()
    for r in requests:
        names |= set(r.subscribe)
        names -= set(r.unsubscribe)
    return names


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_cluster_moved_to_another_eds_service_and_back(proxy, control_plane, http_upstreams, delta):
    cp = control_plane
    a, b = http_upstreams(name="A"), http_upstreams(name="B")
    port = free_port()
    cp.set(EDS, {"one": assignment("one", a), "two": assignment("two", b)})
    cp.set(CDS, {"c": eds_cluster("one")})
    listener = static_http_listener("http", port, route_config([vhost("vh", ["*"], [route({"prefix": "/"}, "c")])]))
    cp.set(LDS, {"http": json_format.ParseDict(listener, listener_pb2.Listener())})
    proxy(ads_bootstrap(cp.port, delta))
    serving(port, "A")
    assert last_eds_names(cp, delta) == {"one"}

    for service, upstream in (("two", "B"), ("one", "A"), ("two", "B")):
        cp.set(CDS, {"c": eds_cluster(service)})
        cp.push(CDS)
        serving(port, upstream)
        # The replaced version's service is no longer asked for.
        deadline = time.monotonic() + 5
        while last_eds_names(cp, delta) != {service}:
            assert time.monotonic() < deadline, f"EDS still asks for {last_eds_names(cp, delta)}"
            time.sleep(0.05)
    assert not any(r.is_nack for r in cp.requests)


def routes(value: str) -> route_pb2.RouteConfiguration:
    r = route({"prefix": "/"}, "a", response_headers_to_add=[{"header": {"key": "x-push", "value": value}}])
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [r])], name="r"), route_pb2.RouteConfiguration())


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_route_config_resent_unchanged_is_not_reloaded_and_changes_serve(proxy, control_plane, http_upstreams, delta):
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": routes("one")})
    p = proxy(ads_bootstrap(cp.port, delta, clusters=[support.cluster("a", [a.address])], cds=False))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)
    wait_stat(p, "http.ingress.rds.r.config_reload", 1)
    with HttpClient(port) as c:
        assert c.request().header("x-push") == "one"
        if not delta:
            # The same configuration again (a new version_info): ACKed, not reloaded.
            acks = sum(1 for r in cp.requests if r.type_url == RDS and r.is_ack)
            cp.set(RDS, {"r": routes("one")})
            cp.push(RDS)
            deadline = time.monotonic() + 10
            while sum(1 for r in cp.requests if r.type_url == RDS and r.is_ack) <= acks:
                assert time.monotonic() < deadline, "the resent route configuration was not ACKed"
                time.sleep(0.02)
            wait_stat(p, "http.ingress.rds.r.update_success", 2)
            assert p.stats().get("http.ingress.rds.r.config_reload") == 1
            assert c.request().header("x-push") == "one"
        # Each change serves on the next request of the same connection,
        # back to an earlier configuration too.
        reloads = p.stats()["http.ingress.rds.r.config_reload"]
        for value in ("two", "one", "two"):
            cp.set(RDS, {"r": routes(value)})
            cp.push(RDS)
            reloads += 1
            wait_stat(p, "http.ingress.rds.r.config_reload", reloads)
            assert c.request().header("x-push") == value
    assert not any(r.is_nack for r in cp.requests)
