"""EDS priorities: requests go to priority 0 while it is healthy enough,
overflow to priority 1 as its health drops (Envoy's overprovisioning
factor 1.4), and fail over entirely when it has no healthy host. The same
assignments go to Remora and Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import pytest
from google.protobuf import json_format

from test_xds_scenarios import (MODES, ads_bootstrap, control_plane, eds_cluster, http_listener,  # noqa: F401
                                upstream_counts, wait_ack, weighted_routes)
from support import free_port, socket_address
from xds_control_plane import CDS, EDS, LDS, RDS
from envoy.config.endpoint.v3 import endpoint_pb2


def prioritized(name: str, levels: list[list[tuple[int, str]]]) -> endpoint_pb2.ClusterLoadAssignment:
    """`levels[p]`: (port, health_status) of priority p's endpoints."""
    return json_format.ParseDict({"cluster_name": name, "endpoints": [
        {"priority": p, "locality": {"zone": f"z{p}"}, "lb_endpoints": [
            {"endpoint": {"address": socket_address("127.0.0.1", port)}, "health_status": health}
            for port, health in level]}
        for p, level in enumerate(levels)]}, endpoint_pb2.ClusterLoadAssignment())


@MODES
def test_priorities_overflow_and_fail_over(proxy, control_plane, http_upstreams, delta):
    cp = control_plane
    a, b, c, d = (http_upstreams(name=n) for n in "ABCD")
    port = free_port()
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": prioritized("svc", [[(a.port, "HEALTHY"), (b.port, "HEALTHY")],
                                            [(c.port, "HEALTHY"), (d.port, "HEALTHY")]])})
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})
    p = proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    # All of priority 0 healthy: it takes everything.
    counts = upstream_counts(port, 100)
    assert set(counts) == {"A", "B"}

    # Half of priority 0 healthy: health 70, so 70 % stays, 30 % overflows.
    mark = len(cp.requests)
    cp.set(EDS, {"svc": prioritized("svc", [[(a.port, "HEALTHY"), (b.port, "UNHEALTHY")],
                                            [(c.port, "HEALTHY"), (d.port, "HEALTHY")]])})
    cp.push(EDS)
    wait_ack(cp, EDS, mark)
    counts = upstream_counts(port, 400)
    assert "B" not in counts
    assert 0.55 <= counts.get("A", 0) / 400 <= 0.85, counts
    assert counts.get("C", 0) > 0 and counts.get("D", 0) > 0, counts

    # Nothing healthy in priority 0: everything fails over.
    mark = len(cp.requests)
    cp.set(EDS, {"svc": prioritized("svc", [[(a.port, "UNHEALTHY"), (b.port, "DRAINING")],
                                            [(c.port, "HEALTHY"), (d.port, "HEALTHY")]])})
    cp.push(EDS)
    wait_ack(cp, EDS, mark)
    counts = upstream_counts(port, 100)
    assert set(counts) == {"C", "D"}

    # /clusters shows each host's priority.
    status, body = p.admin("GET", "/clusters")
    assert status == 200
    assert f"svc::127.0.0.1:{c.port}::priority::1" in body.decode()
    assert f"svc::127.0.0.1:{a.port}::priority::0" in body.decode()


def test_overprovisioning_factor_other_than_the_default_with_priorities(proxy, control_plane, http_upstreams):
    """Remora weighs priorities with Envoy's default factor only: another
    one is refused with its field path (Envoy takes it)."""
    import support
    if support.IS_ENVOY:
        pytest.skip("Remora-only: the refusal of a factor it does not implement")
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    cla = prioritized("svc", [[(a.port, "HEALTHY")], [(a.port + 1, "HEALTHY")]])
    cla.policy.overprovisioning_factor.value = 100
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": cla})
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})
    proxy(ads_bootstrap(cp.port, False))
    nack = cp.wait_for(lambda r: r.type_url == EDS and r.is_nack, timeout=15)
    assert "policy.overprovisioning_factor" in nack.error_message


@MODES
def test_degraded_hosts_take_what_the_healthy_cannot(proxy, control_plane, http_upstreams, delta):
    """One healthy and one DEGRADED host: the healthy one takes 70 % (1.4 ×
    its half), the degraded one the rest; with a healthy priority 1 beside
    them, priority 1 takes the rest instead. /clusters flags the host."""
    cp = control_plane
    a, b, c = (http_upstreams(name=n) for n in "ABC")
    port = free_port()
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(EDS, {"svc": prioritized("svc", [[(a.port, "HEALTHY"), (b.port, "DEGRADED")]])})
    cp.set(LDS, {"http": http_listener("http", port)})
    cp.set(RDS, {"r": weighted_routes({"svc": 1})})
    p = proxy(ads_bootstrap(cp.port, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    counts = upstream_counts(port, 400)
    assert 0.55 <= counts.get("A", 0) / 400 <= 0.85, counts
    assert counts.get("B", 0) > 0, counts
    p.wait_for_stats({"cluster.svc.membership_degraded": 1, "cluster.svc.membership_healthy": 1}, timeout=5)
    status, body = p.admin("GET", "/clusters")
    assert f"svc::127.0.0.1:{b.port}::health_flags::/degraded_eds_health" in body.decode()

    mark = len(cp.requests)
    cp.set(EDS, {"svc": prioritized("svc", [[(a.port, "HEALTHY"), (b.port, "DEGRADED")], [(c.port, "HEALTHY")]])})
    cp.push(EDS)
    wait_ack(cp, EDS, mark)
    counts = upstream_counts(port, 400)
    assert "B" not in counts, counts
    assert 0.55 <= counts.get("A", 0) / 400 <= 0.85 and counts.get("C", 0) > 0, counts
