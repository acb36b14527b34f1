"""Clusters from CDS and endpoints from EDS, fed from path_config_source
files (a DiscoveryResponse each, replaced by moving a new file onto the
path), with traffic flowing while they change.  The same scenarios run
against Envoy 1.40 with PROXY_KIND=envoy."""

import http.client
import json
import os
import threading
import time

import pytest

import http_support as H
import support
from support import IS_ENVOY

CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
CLA_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"


def write_response(path, version: str, resources: list[dict]) -> None:
    """Replaces ``path`` atomically (a rename: the proxies watch IN_MOVED_TO)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump({"version_info": version, "resources": resources}, f)
    os.rename(tmp, path)


def static_cluster(name: str, upstream, **extra) -> dict:
    c = support.cluster(name, [upstream.address], connect_timeout=extra.pop("connect_timeout", "1s"))
    c.update(extra)
    return {"@type": CLUSTER_TYPE, **c}


def eds_cluster(name: str, eds_path, service: str | None = None) -> dict:
    eds: dict = {"eds_config": {"path_config_source": {"path": str(eds_path)}, "resource_api_version": "V3"}}
    if service:
        eds["service_name"] = service
    return {"@type": CLUSTER_TYPE, "name": name, "type": "EDS", "connect_timeout": "1s", "eds_cluster_config": eds}


def assignment(name: str, hosts: list) -> dict:
    """``hosts``: upstreams, or (upstream, health_status) pairs."""
    endpoints = []
    for h in hosts:
        upstream, health = h if isinstance(h, tuple) else (h, None)
        e: dict = {"endpoint": {"address": upstream.address}}
        if health:
            e["health_status"] = health
        endpoints.append(e)
    return {"@type": CLA_TYPE, "cluster_name": name, "endpoints": [{"lb_endpoints": endpoints}]}


def xds_bootstrap(admin_port: int, port: int, cds_path, routes: dict[str, str], static_clusters=()) -> dict:
    """A static HTTP listener routing each prefix to a cluster that CDS
    brings (validate_clusters off: the clusters come later)."""
    rc = H.route_config([H.vhost("vh", ["*"], [H.route({"prefix": p}, c) for p, c in routes.items()])],
                        validate_clusters=False)
    config = support.bootstrap(admin_port, [H.http_listener("http", port, rc)], list(static_clusters))
    config["node"] = {"id": "node1", "cluster": "test"}
    config["dynamic_resources"] = {
        "cds_config": {"path_config_source": {"path": str(cds_path)}, "resource_api_version": "V3"}}
    return config


def get(port: int, path: str):
    resp = H.get(port, path)
    return resp.status, resp.header("x-upstream")


class LoadLoop:
    """A bounded closed-loop client: ``threads`` keep-alive connections each
    sending GET ``path`` one after the other until stopped; every answer
    that is not a 200 (or an error) is a failure."""

    def __init__(self, port: int, path: str, threads: int = 2):
        self.port, self.path = port, path
        self.ok = 0
        self.failures: list = []
        self.seen: dict[str, int] = {}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self.stopping.is_set():
            try:
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                with self.lock:
                    if resp.status == 200:
                        self.ok += 1
                        up = resp.getheader("x-upstream", "")
                        self.seen[up] = self.seen.get(up, 0) + 1
                    else:
                        self.failures.append(resp.status)
                if resp.getheader("connection", "") == "close":
                    conn.close()
            except Exception as e:  # noqa: BLE001 - every error is a failed request
                with self.lock:
                    self.failures.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.close()

    def wait_served_by(self, name: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        start = self.seen.get(name, 0)
        while time.monotonic() < deadline:
            with self.lock:
                if self.seen.get(name, 0) > start + 20:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{self.path}: {name} got no traffic; seen {self.seen}, failures {self.failures[:5]}")

    def stop(self) -> "LoadLoop":
        self.stopping.set()
        for t in self.threads:
            t.join(10)
        return self


def wait_connections_closed(upstream, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with upstream.lock:
            if len(upstream.conn_peers) == upstream.closed_conns:
                return
        time.sleep(0.05)
    raise AssertionError(f"{upstream.name}: {len(upstream.conn_peers) - upstream.closed_conns} connection(s) still open")


@pytest.fixture
def files(short_tmp):
    return short_tmp / "cds.json", short_tmp / "eds.json"


def test_boot_from_cds_and_eds_files(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up_a, up_e = http_upstreams(name="a"), http_upstreams(name="e")
    write_response(cds, "1", [static_cluster("a", up_a), eds_cluster("e", eds, service="svc-e")])
    write_response(eds, "1", [assignment("svc-e", [up_e])])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/e": "e"}))
    assert get(port, "/a") == (200, "a")
    assert get(port, "/e") == (200, "e")
    p.wait_for_stats({
        "cluster_manager.cluster_added": 2, "cluster_manager.active_clusters": 2, "cluster_manager.warming_clusters": 0,
        "cluster_manager.cds.update_success": 1, "cluster_manager.cds.update_rejected": 0,
        "cluster.e.update_success": 1, "cluster.e.membership_total": 1, "cluster.e.membership_healthy": 1,
    })
    status, body = p.admin("GET", "/clusters")
    text = body.decode()
    assert "a::added_via_api::true" in text and "e::added_via_api::true" in text
    host = f"e::127.0.0.1:{up_e.port}"
    assert f"{host}::health_flags::healthy" in text and f"{host}::weight::1" in text
    status, body = p.admin("GET", "/config_dump?resource=dynamic_active_clusters")
    assert status == 200
    dumped = {c["cluster"]["name"]: c for c in json.loads(body)["configs"]}
    assert set(dumped) == {"a", "e"}
    assert dumped["e"]["version_info"] == "1" and dumped["e"]["cluster"]["type"] == "EDS"
    assert dumped["a"]["last_updated"].endswith("Z")


def test_clusters_and_endpoints_change_under_load(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up_a1, up_a2 = http_upstreams(name="a1"), http_upstreams(name="a2")
    up_e1, up_e2 = http_upstreams(name="e1"), http_upstreams(name="e2")
    up_b = http_upstreams(name="b")
    write_response(cds, "1", [static_cluster("a", up_a1), eds_cluster("e", eds)])
    write_response(eds, "1", [assignment("e", [up_e1])])
    port = support.free_port()
    # Two workers: each swaps its own copy of the clusters.
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/e": "e", "/b": "b"}), concurrency=2)
    assert get(port, "/b")[0] == 503  # no such cluster yet
    loads = [LoadLoop(port, "/a", threads=3), LoadLoop(port, "/e", threads=3)]
    try:
        loads[0].wait_served_by("a1")
        loads[1].wait_served_by("e1")
        # Modify a (new endpoint), add b.
        write_response(cds, "2", [static_cluster("a", up_a2), eds_cluster("e", eds), static_cluster("b", up_b)])
        loads[0].wait_served_by("a2")
        assert get(port, "/b") == (200, "b")
        # Endpoints of e: e1 and e2, then only e2.
        write_response(eds, "2", [assignment("e", [up_e1, up_e2])])
        loads[1].wait_served_by("e2")
        write_response(eds, "3", [assignment("e", [up_e2])])
        time.sleep(0.3)
        served = loads[1].seen.get("e1", 0)
        time.sleep(0.5)
        assert loads[1].seen.get("e1", 0) == served, "e1 still served after it left the assignment"
        # Idle connections to a host that left, and to the replaced cluster's host, are closed.
        wait_connections_closed(up_e1)
        wait_connections_closed(up_a1)
        # Remove b.
        write_response(cds, "3", [static_cluster("a", up_a2), eds_cluster("e", eds)])
        deadline = time.monotonic() + 5
        while get(port, "/b")[0] != 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert get(port, "/b")[0] == 503
    finally:
        for load in loads:
            load.stop()
    for load in loads:
        assert load.failures == [], f"{load.path}: {len(load.failures)} failures, first {load.failures[:5]}"
        assert load.ok > 100
    p.wait_for_stats({
        "cluster_manager.cluster_added": 3, "cluster_manager.cluster_modified": 1, "cluster_manager.cluster_removed": 1,
        "cluster_manager.active_clusters": 2, "cluster_manager.cds.update_success": 3,
        "cluster.e.update_success": 3, "cluster.e.membership_total": 1,
    })
    assert "cluster.b.upstream_rq_total" not in p.stats()


def test_bad_cluster_is_rejected_and_the_rest_applied(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up_a, up_c = http_upstreams(name="a"), http_upstreams(name="c")
    write_response(cds, "1", [static_cluster("a", up_a)])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/c": "c"}))
    load = LoadLoop(port, "/a")
    try:
        load.wait_served_by("a")
        bad = {"@type": CLUSTER_TYPE, "name": "bad", "type": "ORIGINAL_DST", "lb_policy": "ROUND_ROBIN",
               "connect_timeout": "1s"}
        write_response(cds, "2", [static_cluster("a", up_a), bad, static_cluster("c", up_c)])
        p.wait_for_stats({"cluster_manager.cds.update_rejected": 1})
        load.wait_served_by("a")
    finally:
        load.stop()
    assert load.failures == []
    # The good one is in, the update NACKed naming the bad one; Envoy counts
    # the bad one added before it fails to load it.
    assert get(port, "/c") == (200, "c")
    stats = p.wait_for_stats({"cluster_manager.cluster_added": 3, "cluster_manager.active_clusters": 2,
                              "cluster_manager.cds.update_success": 1, "cluster_manager.cds.update_attempt": 2})
    assert "cluster.bad.upstream_rq_total" not in stats
    log = p.log_tail(20000)
    assert "Error adding/updating cluster(s) bad: " in log
    assert "Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'" in log


def test_identical_cluster_is_not_modified_and_static_ones_stay(proxy, http_upstreams, admin_port, files):
    cds, _ = files
    up_a, up_s, up_other = http_upstreams(name="a"), http_upstreams(name="s"), http_upstreams(name="other")
    write_response(cds, "1", [static_cluster("a", up_a)])
    port = support.free_port()
    static = support.cluster("s", [up_s.address])
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/s": "s"}, static_clusters=[static]))
    p.wait_for_stats({"cluster_manager.cluster_added": 2, "cluster_manager.cds.update_success": 1})
    # Same cluster under a new version; the static one's name with other hosts.
    write_response(cds, "2", [static_cluster("a", up_a), static_cluster("s", up_other)])
    p.wait_for_stats({"cluster_manager.cds.update_success": 2})
    p.wait_for_stats({"cluster_manager.cluster_added": 2, "cluster_manager.cluster_modified": 0,
                      "cluster_manager.active_clusters": 2, "cluster_manager.cds.update_rejected": 0})
    assert get(port, "/s") == (200, "s")
    # Left out of the next update: the static one cannot be removed either.
    write_response(cds, "3", [])
    p.wait_for_stats({"cluster_manager.cds.update_success": 3, "cluster_manager.cluster_removed": 1,
                      "cluster_manager.active_clusters": 1})
    assert get(port, "/s") == (200, "s")
    assert get(port, "/a")[0] == 503
    _, body = p.admin("GET", "/clusters")
    assert "s::added_via_api::false" in body.decode()


def test_eds_health_status(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    healthy, unhealthy, draining, extra = (http_upstreams(name=n) for n in ("healthy", "unhealthy", "draining", "extra"))
    write_response(cds, "1", [eds_cluster("e", eds)])
    write_response(eds, "1", [assignment("e", [healthy, (unhealthy, "UNHEALTHY"), (draining, "DRAINING")])])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "e"}))
    for _ in range(20):
        assert get(port, "/") == (200, "healthy")
    p.wait_for_stats({"cluster.e.membership_total": 3, "cluster.e.membership_healthy": 1,
                      "cluster.e.membership_excluded": 1, "cluster.e.lb_healthy_panic": 0})
    _, body = p.admin("GET", "/clusters")
    text = body.decode()
    assert f"e::127.0.0.1:{unhealthy.port}::health_flags::/failed_eds_health" in text
    assert f"e::127.0.0.1:{draining.port}::health_flags::/eds_status_draining" in text
    _, body = p.admin("GET", "/clusters?format=json")
    (status,) = [c for c in json.loads(body)["cluster_statuses"] if c["name"] == "e"]
    assert status["added_via_api"] is True
    health = {h["address"]["socket_address"]["port_value"]: h["health_status"]["eds_health_status"]
              for h in status["host_statuses"]}
    assert health == {healthy.port: "HEALTHY", unhealthy.port: "UNHEALTHY", draining.port: "DRAINING"}
    # One healthy host of three is under the 50% panic threshold: every
    # host is balanced.
    write_response(eds, "2", [assignment("e", [healthy, (unhealthy, "UNHEALTHY"), (extra, "UNHEALTHY")])])
    p.wait_for_stats({"cluster.e.membership_total": 3, "cluster.e.membership_healthy": 1, "cluster.e.membership_excluded": 0})
    served = {get(port, "/")[1] for _ in range(30)}
    assert served == {"healthy", "unhealthy", "extra"}
    assert p.stats()["cluster.e.lb_healthy_panic"] >= 30


def test_bad_assignment_keeps_the_hosts(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up = http_upstreams(name="e")
    write_response(cds, "1", [eds_cluster("e", eds)])
    write_response(eds, "1", [assignment("e", [up])])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "e"}))
    bad = assignment("e", [up])
    bad["endpoints"].append({"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
        "address": "not an address", "port_value": 80}}}}]})
    write_response(eds, "2", [bad])
    p.wait_for_stats({"cluster.e.update_rejected": 1, "cluster.e.update_success": 1})
    assert get(port, "/") == (200, "e")
    if not IS_ENVOY:
        assert ("ClusterLoadAssignment 'e': endpoints[1].lb_endpoints[0].endpoint.address.socket_address.address: "
                "malformed IP address: not an address") in p.log_tail(20000)


def test_bootstrap_eds_cluster(proxy, http_upstreams, admin_port, short_tmp):
    """A bootstrap cluster of type EDS (no CDS): start-up waits for its assignment."""
    eds = short_tmp / "eds.json"
    up = http_upstreams(name="e")
    write_response(eds, "1", [assignment("e", [up])])
    port = support.free_port()
    cluster = {k: v for k, v in eds_cluster("e", eds).items() if k != "@type"}
    rc = H.route_config([H.vhost("vh", ["*"], [H.route({"prefix": "/"}, "e")])])
    config = support.bootstrap(admin_port, [H.http_listener("http", port, rc)], [cluster])
    # Both refuse a subscription without a node to present.
    with pytest.raises(support.ProxyStartError, match="node 'id' and 'cluster' are required"):
        proxy(config, ready_timeout=10)
    config["node"] = {"id": "node1", "cluster": "test"}
    p = proxy(config)
    assert get(port, "/") == (200, "e")
    p.wait_for_stats({"cluster.e.update_success": 1, "cluster.e.membership_total": 1, "cluster_manager.cluster_added": 1})


def test_missing_assignment_ends_warming(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up = http_upstreams(name="a")
    cluster = eds_cluster("e", eds, service="missing")
    cluster["eds_cluster_config"]["eds_config"]["initial_fetch_timeout"] = "1s"
    write_response(cds, "1", [static_cluster("a", up), cluster])
    write_response(eds, "1", [assignment("other", [up])])
    port = support.free_port()
    started = time.monotonic()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/e": "e"}))
    assert time.monotonic() - started < 10
    p.wait_for_stats({"cluster_manager.warming_clusters": 0, "cluster_manager.active_clusters": 2,
                      "cluster.e.membership_total": 0})
    assert get(port, "/a") == (200, "a")
    assert get(port, "/e")[0] == 503


def test_in_flight_request_survives_cluster_removal(proxy, http_upstreams, admin_port, files):
    cds, _ = files
    slow = http_upstreams(H.Reply(200, body=b"slow", delay=1.0), name="slow")
    write_response(cds, "1", [static_cluster("s", slow)])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "s"}))
    result = {}
    t = threading.Thread(target=lambda: result.update(r=H.get(port, "/", timeout=10)))
    t.start()
    deadline = time.monotonic() + 5
    while not slow.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    write_response(cds, "2", [])
    p.wait_for_stats({"cluster_manager.cluster_removed": 1})
    t.join(10)
    assert result["r"].status == 200 and result["r"].body == b"slow"
    assert get(port, "/")[0] == 503


def test_dynamic_clusters_in_config_dump(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up_a, up_w = http_upstreams(name="a"), http_upstreams(name="w")
    write_response(cds, "1", [static_cluster("a", up_a)])
    write_response(eds, "1", [])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/w": "w"}))
    # An EDS cluster whose assignment the file lacks: the read is an empty
    # update for it, which ends its warming with no hosts.
    write_response(cds, "2", [static_cluster("a", up_a), eds_cluster("w", eds)])
    p.wait_for_stats({"cluster_manager.warming_clusters": 0, "cluster_manager.active_clusters": 2,
                      "cluster_manager.cds.update_success": 2, "cluster.w.update_empty": 1, "cluster.w.membership_total": 0})
    assert get(port, "/w")[0] == 503
    _, body = p.admin("GET", "/config_dump")
    (clusters,) = [c for c in json.loads(body)["configs"] if c["@type"].endswith("ClustersConfigDump")]
    assert clusters["version_info"] == "2"
    assert [(c["cluster"]["name"], c["version_info"]) for c in clusters["dynamic_active_clusters"]] == [("a", "1"), ("w", "2")]
    assert "dynamic_warming_clusters" not in clusters
    _, body = p.admin("GET", "/config_dump?resource=dynamic_active_clusters&mask=version_info")
    assert json.loads(body)["configs"] == [
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster", "version_info": v} for v in ("1", "2")]
    write_response(eds, "2", [assignment("w", [up_w])])
    p.wait_for_stats({"cluster.w.membership_total": 1})
    assert get(port, "/w") == (200, "w")


def test_config_dump_include_eds(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    up_s, up_1, up_2 = http_upstreams(name="s"), http_upstreams(name="one"), http_upstreams(name="two")
    write_response(cds, "1", [eds_cluster("e", eds, service="svc")])
    cla = assignment("svc", [up_1, (up_2, "DRAINING")])
    cla["endpoints"][0]["locality"] = {"region": "r1"}
    cla["endpoints"][0]["lb_endpoints"][1]["endpoint"]["hostname"] = "h2"
    write_response(eds, "1", [cla])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "e"}, static_clusters=[support.cluster("s", [up_s.address])]))
    p.wait_for_stats({"cluster.e.membership_total": 2})
    _, body = p.admin("GET", "/config_dump")
    assert not [c for c in json.loads(body)["configs"] if c["@type"].endswith("EndpointsConfigDump")]
    _, body = p.admin("GET", "/config_dump?include_eds")
    configs = json.loads(body)["configs"]
    types = [c["@type"].rsplit(".", 1)[1] for c in configs]
    assert types.index("EndpointsConfigDump") == types.index("ClustersConfigDump") + 1

    def lb(upstream, health, hostname=None):
        endpoint = {"address": upstream.address, "health_check_config": {}}
        if hostname:
            endpoint["hostname"] = hostname
        return {"endpoint": endpoint, "health_status": health, "load_balancing_weight": 1}

    def cla_dump(name, locality, lbs):
        return {"endpoint_config": {
            "@type": CLA_TYPE, "cluster_name": name,
            "endpoints": [{"locality": locality, "lb_endpoints": lbs, "load_balancing_weight": 0}],
            "policy": {"overprovisioning_factor": 140}}}

    (dump,) = [c for c in configs if c["@type"].endswith("EndpointsConfigDump")]
    assert dump == {
        "@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
        "static_endpoint_configs": [cla_dump("s", {}, [lb(up_s, "HEALTHY")])],
        "dynamic_endpoint_configs": [cla_dump("svc", {"region": "r1"}, [lb(up_1, "HEALTHY"), lb(up_2, "UNHEALTHY", "h2")])],
    }
    _, body = p.admin("GET", "/config_dump?include_eds&resource=dynamic_endpoint_configs")
    (item,) = json.loads(body)["configs"]
    assert item["@type"] == "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig"
    assert item["endpoint_config"]["cluster_name"] == "svc"


def test_endpoint_weights(proxy, http_upstreams, admin_port, files):
    cds, eds = files
    heavy, light = http_upstreams(name="heavy"), http_upstreams(name="light")
    write_response(cds, "1", [eds_cluster("e", eds)])
    cla = assignment("e", [heavy, light])
    cla["endpoints"][0]["lb_endpoints"][0]["load_balancing_weight"] = 3
    write_response(eds, "1", [cla])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "e"}))
    served = [get(port, "/")[1] for _ in range(200)]
    # Round robin with weights 3 and 1 (Envoy's EDF schedule, Remora's smooth weighted round robin).
    assert 140 <= served.count("heavy") <= 160, served.count("heavy")
    _, body = p.admin("GET", "/clusters")
    assert f"e::127.0.0.1:{heavy.port}::weight::3" in body.decode()
    assert f"e::127.0.0.1:{light.port}::weight::1" in body.decode()


def test_duplicate_endpoint_addresses_keep_the_first(proxy, http_upstreams, admin_port, files):
    """Envoy 1.40 takes an assignment that names an address twice and keeps
    one host per address, as the first endpoint naming it says (its health
    and weight), in any locality; later ones are dropped."""
    cds, eds = files
    a, b = http_upstreams(name="a"), http_upstreams(name="b")
    write_response(cds, "1", [eds_cluster("e", eds)])
    cla = assignment("e", [(a, "UNHEALTHY"), a, b])
    cla["endpoints"][0]["lb_endpoints"][1]["load_balancing_weight"] = 3
    write_response(eds, "1", [cla])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "e"}))
    p.wait_for_stats({"cluster.e.update_success": 1, "cluster.e.membership_total": 2,
                      "cluster.e.membership_healthy": 1})
    text = p.admin("GET", "/clusters")[1].decode()
    assert f"e::127.0.0.1:{a.port}::health_flags::/failed_eds_health" in text
    assert f"e::127.0.0.1:{a.port}::weight::1" in text
    # One healthy host of two is not below the panic threshold: b serves all.
    assert {get(port, "/")[1] for _ in range(10)} == {"b"}
    # An update: a first with weight 2; its DRAINING twin and b's weight-5
    # twin in another locality are dropped.
    cla = assignment("e", [a, b, (a, "DRAINING")])
    cla["endpoints"][0]["lb_endpoints"][0]["load_balancing_weight"] = 2
    cla["endpoints"].append({"locality": {"zone": "z2"},
                             "lb_endpoints": [{"endpoint": {"address": b.address}, "load_balancing_weight": 5}]})
    write_response(eds, "2", [cla])
    p.wait_for_stats({"cluster.e.update_success": 2, "cluster.e.membership_total": 2,
                      "cluster.e.membership_healthy": 2, "cluster.e.membership_excluded": 0})
    text = p.admin("GET", "/clusters")[1].decode()
    assert f"e::127.0.0.1:{a.port}::weight::2" in text and f"e::127.0.0.1:{b.port}::weight::1" in text
    served = [get(port, "/")[1] for _ in range(60)]
    assert served.count("a") == 40 and served.count("b") == 20, served


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_clusters_and_endpoints_over_ads(proxy, http_upstreams, admin_port, delta):
    """The same handlers fed by the gRPC client: CDS and EDS over ADS from the
    test control plane, an endpoint change and a bad cluster NACKed."""
    from google.protobuf import json_format
    from envoy.config.cluster.v3 import cluster_pb2
    from envoy.config.endpoint.v3 import endpoint_pb2
    from xds_control_plane import CDS, EDS, ControlPlane

    cp = ControlPlane().start()
    try:
        up_1, up_2 = http_upstreams(name="one"), http_upstreams(name="two")

        def eds_over_ads(name):
            c = {k: v for k, v in eds_cluster(name, "unused").items() if k != "@type"}
            c["eds_cluster_config"] = {"eds_config": {"ads": {}, "resource_api_version": "V3"}}
            return json_format.ParseDict(c, cluster_pb2.Cluster())

        def cla(upstream):
            return json_format.ParseDict({k: v for k, v in assignment("e", [upstream]).items() if k != "@type"},
                                         endpoint_pb2.ClusterLoadAssignment())

        cp.set(CDS, {"e": eds_over_ads("e")})
        cp.set(EDS, {"e": cla(up_1)})
        xds = support.cluster("xds", [support.socket_address("127.0.0.1", cp.port)])
        xds["typed_extension_protocol_options"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}}}}
        port = support.free_port()
        config = xds_bootstrap(admin_port, port, "unused", {"/": "e"}, static_clusters=[xds])
        config["dynamic_resources"] = {
            "ads_config": {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
                           "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
            "cds_config": {"ads": {}, "resource_api_version": "V3"}}
        p = proxy(config)
        assert get(port, "/") == (200, "one")
        cp.wait_for(lambda r: r.type_url == EDS and r.is_ack)
        # New endpoints reach new requests.
        cp.set(EDS, {"e": cla(up_2)})
        cp.push()
        deadline = time.monotonic() + 5
        while get(port, "/")[1] != "two":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # A bad cluster is NACKed with Envoy's message; the good one serves on.
        bad = json_format.ParseDict({"name": "bad", "type": "ORIGINAL_DST", "lb_policy": "ROUND_ROBIN", "connect_timeout": "1s"},
                                    cluster_pb2.Cluster())
        cp.set(CDS, {"bad": bad})
        cp.push()
        nack = cp.wait_for(lambda r: r.type_url == CDS and r.is_nack)
        assert nack.error_message.startswith("Error adding/updating cluster(s) bad: ")
        assert get(port, "/") == (200, "two")
        stats = p.wait_for_stats({"cluster_manager.cds.update_rejected": 1, "cluster_manager.active_clusters": 2})
        # More than two in one of the modes, on both proxies (an assignment sent again after the CDS change).
        assert stats["cluster.e.update_success"] >= 2
    finally:
        cp.stop()


def test_churn_under_load(proxy, http_upstreams, admin_port, files):
    """Forty pushes 0.1 s apart, alternating a cluster change (its endpoint
    and connect_timeout) and an endpoint change, with keep-alive clients on
    both clusters: no request fails."""
    cds, eds = files
    ups = {n: http_upstreams(name=n) for n in ("a1", "a2", "e1", "e2")}
    write_response(cds, "0", [static_cluster("a", ups["a1"]), eds_cluster("e", eds)])
    write_response(eds, "0", [assignment("e", [ups["e1"]])])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/a": "a", "/e": "e"}), concurrency=2)
    loads = [LoadLoop(port, "/a", threads=3), LoadLoop(port, "/e", threads=3)]
    try:
        for i in range(1, 41):
            if i % 2:
                a = ups["a2" if i % 4 == 1 else "a1"]
                write_response(cds, str(i), [static_cluster("a", a, connect_timeout=f"{1 + i % 3}s"), eds_cluster("e", eds)])
            else:
                write_response(eds, str(i), [assignment("e", [ups["e2" if i % 4 == 0 else "e1"]])])
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        for load in loads:
            load.stop()
    for load in loads:
        assert load.failures == [], f"{load.path}: {len(load.failures)} failures, first {load.failures[:5]}"
    assert {"a1", "a2"} <= set(loads[0].seen) and {"e1", "e2"} <= set(loads[1].seen)
    p.wait_for_stats({"cluster_manager.cluster_modified": 20, "cluster.e.update_success": 21})


def test_strict_dns_cluster_over_cds(proxy, http_upstreams, admin_port, files):
    """A STRICT_DNS cluster from CDS warms until its first lookup; replaced by
    a STATIC one, the lookups stop and the static host serves."""
    cds, _ = files
    dns_up, static_up = http_upstreams(name="dns"), http_upstreams(name="static")
    dns = static_cluster("d", dns_up, type="STRICT_DNS", dns_lookup_family="V4_ONLY", dns_refresh_rate="0.2s")
    dns["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["address"] = "localhost"
    write_response(cds, "1", [dns])
    port = support.free_port()
    p = proxy(xds_bootstrap(admin_port, port, cds, {"/": "d"}))
    assert get(port, "/") == (200, "dns")
    write_response(cds, "2", [static_cluster("d", static_up)])
    p.wait_for_stats({"cluster_manager.cluster_modified": 1})
    # The worker takes the new cluster a moment after the main thread counts it.
    deadline = time.monotonic() + 10
    while get(port, "/")[1] != "static" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.6)  # a few refresh periods of the old version
    assert {get(port, "/")[1] for _ in range(10)} == {"static"}


class _AdsEds:
    """A proxy whose clusters come over ADS (CDS and EDS) from the test
    control plane; `/` routes to cluster `e`."""

    def __init__(self, proxy, admin_port, delta: bool):
        from xds_control_plane import ControlPlane
        self.cp = ControlPlane().start()
        self.delta = delta
        xds = support.cluster("xds", [support.socket_address("127.0.0.1", self.cp.port)])
        xds["typed_extension_protocol_options"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}}}}
        self.port = support.free_port()
        self.config = xds_bootstrap(admin_port, self.port, "unused", {"/": "e"}, static_clusters=[xds])
        self.config["dynamic_resources"] = {
            "ads_config": {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
                           "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
            "cds_config": {"ads": {}, "resource_api_version": "V3"}}
        self.proxy = proxy

    @staticmethod
    def cluster(name: str, connect_timeout: str = "1s", initial_fetch_timeout: str = "10s", service: str | None = None):
        from envoy.config.cluster.v3 import cluster_pb2
        from google.protobuf import json_format
        eds: dict = {"eds_config": {"ads": {}, "resource_api_version": "V3", "initial_fetch_timeout": initial_fetch_timeout}}
        if service:
            eds["service_name"] = service
        return json_format.ParseDict({"name": name, "type": "EDS", "connect_timeout": connect_timeout,
                                      "eds_cluster_config": eds}, cluster_pb2.Cluster())

    @staticmethod
    def cla(upstream):
        from envoy.config.endpoint.v3 import endpoint_pb2
        from google.protobuf import json_format
        return json_format.ParseDict({k: v for k, v in assignment("e", [upstream]).items() if k != "@type"},
                                     endpoint_pb2.ClusterLoadAssignment())

    def start(self, clusters: dict, upstream):
        from xds_control_plane import CDS, EDS
        self.cp.set(CDS, clusters)
        self.cp.set(EDS, {"e": self.cla(upstream)})
        p = self.proxy(self.config)
        self.cp.wait_for(lambda r: r.type_url == EDS and r.is_ack)
        return p

    def push_clusters(self, clusters: dict):
        """Sends a CDS update only. (Envoy sends its ACK only once the
        clusters it warms are done: nothing to wait for here.)"""
        from xds_control_plane import CDS
        self.cp.set(CDS, clusters)
        self.cp.push(CDS)

    @staticmethod
    def warming_names(p) -> list[str]:
        _, body = p.admin("GET", "/config_dump?resource=dynamic_warming_clusters")
        return sorted(c["cluster"]["name"] for c in json.loads(body or b"{}").get("configs", []))


@pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
def test_ads_cluster_change_warms_until_its_next_assignment(proxy, http_upstreams, admin_port, delta):
    """A CDS change to an EDS cluster over ADS: Envoy 1.40 keeps the new
    version warming, the old one serving, until the next EDS response for
    its service; so does a new cluster for a service another one already
    has. The CDS ACK waits until no cluster warms (Envoy pauses CDS on the
    ADS stream meanwhile)."""
    from xds_control_plane import CDS, EDS
    one, two = http_upstreams(name="one"), http_upstreams(name="two")
    ads = _AdsEds(proxy, admin_port, delta)

    def cds_acks():
        return sum(1 for r in ads.cp.requests if r.type_url == CDS and r.is_ack)

    try:
        p = ads.start({"e": ads.cluster("e")}, one)
        assert get(ads.port, "/") == (200, "one")
        ads.cp.wait_for(lambda r: r.type_url == CDS and r.is_ack)
        acks = cds_acks()
        ads.push_clusters({"e": ads.cluster("e", connect_timeout="2s"),
                           "f": ads.cluster("f", service="e")})
        p.wait_for_stats({"cluster_manager.warming_clusters": 2, "cluster_manager.active_clusters": 2,
                          "cluster_manager.cluster_modified": 1, "cluster.e.warming_state": 1,
                          "cluster.f.warming_state": 1})
        assert ads.warming_names(p) == ["e", "f"]
        assert get(ads.port, "/") == (200, "one")
        time.sleep(0.3)
        assert cds_acks() == acks, "the CDS update was ACKed while its clusters warm"
        ads.cp.set(EDS, {"e": ads.cla(two)})
        ads.cp.push(EDS)
        ads.cp.wait_for(lambda r: r.type_url == CDS and r.is_ack and cds_acks() > acks)
        p.wait_for_stats({"cluster_manager.warming_clusters": 0, "cluster_manager.active_clusters": 3,
                          "cluster.e.warming_state": 0, "cluster.f.membership_total": 1,
                          "cluster.e.init_fetch_timeout": 0})
        assert ads.warming_names(p) == []
        assert get(ads.port, "/") == (200, "two")
    finally:
        ads.cp.stop()


def test_ads_cluster_change_takes_the_cached_assignment_at_initial_fetch_timeout(proxy, http_upstreams, admin_port):
    """No EDS response within the new version's `initial_fetch_timeout`:
    Envoy 1.40 activates it with the assignment it has cached
    (`assignment_use_cached`), not with no hosts."""
    one = http_upstreams(name="one")
    ads = _AdsEds(proxy, admin_port, delta=False)
    try:
        p = ads.start({"e": ads.cluster("e")}, one)
        ads.push_clusters({"e": ads.cluster("e", connect_timeout="2s", initial_fetch_timeout="0.5s")})
        p.wait_for_stats({"cluster_manager.warming_clusters": 0, "cluster.e.init_fetch_timeout": 1,
                          "cluster.e.assignment_use_cached": 1, "cluster.e.membership_total": 1,
                          "cluster.e.warming_state": 0})
        assert get(ads.port, "/") == (200, "one")
        _, body = p.admin("GET", "/config_dump?resource=dynamic_active_clusters")
        (active,) = [c["cluster"] for c in json.loads(body)["configs"] if c["cluster"]["name"] == "e"]
        assert active["connect_timeout"] == "2s"
    finally:
        ads.cp.stop()


def test_ads_stream_response_is_charged_to_its_cluster(proxy, http_upstreams, admin_port):
    """The ADS stream's response head is charged to the xDS cluster as an
    internal request's, as Envoy's async client (through its router)
    charges it, though the stream stays open."""
    ads = _AdsEds(proxy, admin_port, delta=False)
    try:
        p = ads.start({"e": ads.cluster("e")}, http_upstreams(name="one"))
        p.wait_for_stats({"cluster.xds.upstream_rq_total": 1, "cluster.xds.upstream_rq_200": 1,
                          "cluster.xds.upstream_rq_2xx": 1, "cluster.xds.upstream_rq_completed": 1,
                          "cluster.xds.internal.upstream_rq_200": 1, "cluster.xds.internal.upstream_rq_completed": 1,
                          "cluster.xds.upstream_rq_active": 1})
        assert "cluster.xds.external.upstream_rq_200" not in p.stats()
    finally:
        ads.cp.stop()
