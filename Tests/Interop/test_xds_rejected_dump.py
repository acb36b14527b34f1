"""What /config_dump shows of refused (NACKed) xDS updates, as Envoy 1.40
does: a refused listener gets an `error_state` on its entry (with
`last_update_attempt`) until one of that name is taken, and each refusal of
the last LDS update is also a nameless entry holding only an `error_state`
(Envoy's `overall_error_state_`); a refused route configuration or cluster
is not shown at all (the previous one stays, with no `error_state`).
State of the world and Delta; both proxies run it."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format

from http_support import HttpClient, http_cluster
from support import free_port
from test_xds_delta_removals import bootstrap
from test_xds_listeners_ads import control_plane, listener, routes  # noqa: F401 (fixture)
from xds_control_plane import CDS, LDS, RDS
from envoy.config.cluster.v3 import cluster_pb2


def dump(proxy, kind: str) -> dict:
    status, body = proxy.admin("GET", "/config_dump")
    assert status == 200
    body = json.loads(body)
    return next(c for c in body["configs"] if c["@type"].endswith("." + kind))


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_refused_updates_in_config_dump(proxy, control_plane, http_upstreams, delta):
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    cp.set(LDS, {"http": listener("http", port)})
    cp.set(RDS, {"r": routes("a")})
    cp.set(CDS, {"a": json_format.ParseDict(http_cluster("a", [a.address]), cluster_pb2.Cluster())})
    config = bootstrap(cp, delta)
    p = proxy(config)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)

    # A bad update of each: the route's regex, the cluster's timeout, the
    # listener's connection manager.
    bad_routes = routes("a")
    bad_routes.virtual_hosts[0].routes[0].match.safe_regex.regex = "(("
    bad_listener = listener("http", port)
    bad_listener.filter_chains[0].filters[0].typed_config.Clear()
    cp.set(RDS, {"r": bad_routes})
    cp.set(CDS, {"a": json_format.ParseDict({"name": "a", "connect_timeout": "-1s"}, cluster_pb2.Cluster())})
    cp.set(LDS, {"http": bad_listener})
    cp.push()
    for url in (RDS, CDS, LDS):
        cp.wait_for(lambda r, url=url: r.type_url == url and r.is_nack)
    with HttpClient(port) as c:
        assert c.request().header("x-upstream") == "A"

    listeners = dump(p, "ListenersConfigDump")["dynamic_listeners"]
    assert len(listeners) == 2
    named, nameless = listeners
    assert named["name"] == "http" and "active_state" in named
    assert named["error_state"]["failed_configuration"]["name"] == "http"
    assert named["error_state"]["details"] and named["error_state"]["last_update_attempt"]
    assert set(nameless) == {"error_state"}
    assert set(nameless["error_state"]) == {"failed_configuration", "details"}
    assert nameless["error_state"]["failed_configuration"]["name"] == "http"

    # The refused route table and cluster are not shown: the old ones stay.
    route_configs = dump(p, "RoutesConfigDump")["dynamic_route_configs"]
    assert [(r["route_config"]["name"], "error_state" in r) for r in route_configs] == [("r", False)]
    assert route_configs[0]["route_config"]["virtual_hosts"][0]["routes"][0]["match"] == {"prefix": "/"}
    clusters = dump(p, "ClustersConfigDump")
    assert [(c["cluster"]["name"], c["cluster"]["connect_timeout"], "error_state" in c)
            for c in clusters["dynamic_active_clusters"]] == [("a", "1s", False)]
    assert "dynamic_warming_clusters" not in clusters

    # A good listener update of that name clears both.
    cp.set(LDS, {"http": listener("http", port), "other": listener("other", free_port())})
    before = cp._counter
    cp.push(LDS)
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack and int(r.nonce) > before)
    listeners = dump(p, "ListenersConfigDump")["dynamic_listeners"]
    assert [(entry.get("name"), "error_state" in entry) for entry in listeners] == [("http", False), ("other", False)]
