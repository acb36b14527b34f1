"""Admin output under dynamic configuration, in Envoy 1.40's shape: the
proxy boots from an ADS bootstrap (test control plane) with static
clusters, a static listener and static secrets, then gets clusters (STATIC,
EDS, one whose TLS reads SDS secrets), endpoints, listeners (RDS, inline
routes, TLS from SDS), a route table and secrets. The tests read
/config_dump (every section, `?resource=`, `?mask=`, `?name_regex=`,
`?include_eds`), /clusters, /listeners, /ready, /server_info, /init_dump
and /certs and assert on structure (keys, their order, types, `@type`s,
timestamps), never on Envoy-only values such as build ids.

The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import json
import re

import pytest
from google.protobuf import json_format

import support
from support import free_port, socket_address
from http_support import HttpClient, hcm_filter, http_cluster, route, route_config, vhost
from tls_support import UPSTREAM_TLS
from test_xds_cluster_secrets import wait_until
from test_xds_scenarios import (ADS, ads_bootstrap, control_plane, eds_cluster, http_listener, pki,  # noqa: F401
                                tls_http_listener, workload_secret)
from xds_control_plane import CDS, EDS, LDS, RDS, SDS
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2

ADMIN = "type.googleapis.com/envoy.admin.v3."
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SECOND_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SECTIONS = ["BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump", "ScopedRoutesConfigDump",
            "RoutesConfigDump", "SecretsConfigDump"]


class Mesh:
    def __init__(self, p, cp, ports, delta: bool = False):
        self.p, self.cp, self.ports, self.delta = p, cp, ports, delta

    def get(self, path: str, status: int = 200):
        got, body = self.p.admin("GET", path)
        assert got == status, (path, got, body[:300])
        return json.loads(body) if body.startswith(b"{") else body.decode()

    def section(self, kind: str, query: str = "") -> dict:
        dump = self.get("/config_dump" + query)
        return next(c for c in dump["configs"] if c["@type"] == ADMIN + kind)


def routes(name: str, cluster: str) -> route_pb2.RouteConfiguration:
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])], name=name),
                                 route_pb2.RouteConfiguration())


def inline_listener(port: int) -> listener_pb2.Listener:
    return json_format.ParseDict({"name": "inline", "address": socket_address("127.0.0.1", port), "filter_chains": [
        {"filters": [hcm_filter(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, "plain")])], name="inline_rc"))]}]},
        listener_pb2.Listener())


def tls_cluster(address: dict) -> cluster_pb2.Cluster:
    return json_format.ParseDict({
        "name": "tlsc", "type": "STATIC", "connect_timeout": "1s",
        "load_assignment": {"cluster_name": "tlsc", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}]},
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": UPSTREAM_TLS, "common_tls_context": {
                "tls_certificate_sds_secret_configs": [{"name": "workload", "sds_config": ADS}],
                "validation_context_sds_secret_config": {"name": "mesh-ca", "sds_config": ADS}}}}},
        cluster_pb2.Cluster())


def svc_assignment(a: dict, b: dict) -> endpoint_pb2.ClusterLoadAssignment:
    return json_format.ParseDict({"cluster_name": "svc", "endpoints": [
        {"locality": {"region": "r1", "zone": "z1"}, "lb_endpoints": [
            {"endpoint": {"address": a, "hostname": "a.local"}, "load_balancing_weight": 3},
            {"endpoint": {"address": b}, "health_status": "UNHEALTHY", "load_balancing_weight": 1}]}]},
        endpoint_pb2.ClusterLoadAssignment())


def mesh_bootstrap(cp, pki, delta: bool = False) -> dict:
    config = ads_bootstrap(cp.port, delta, clusters=[http_cluster("static_a", [socket_address("127.0.0.1", free_port())])])
    config["static_resources"]["listeners"] = [{
        "name": "static_l", "address": socket_address("127.0.0.1", free_port()),
        "filter_chains": [{"filters": [hcm_filter(route_config(
            [vhost("vh", ["*"], [route({"prefix": "/"}, "static_a")])], name="static_rc"))]}]}]
    config["static_resources"]["secrets"] = [
        {"name": "static_cert", "tls_certificate": {"certificate_chain": {"inline_string": pki.pem("server.crt")},
                                                    "private_key": {"inline_string": pki.pem("server.key")}}},
        {"name": "static_ca", "validation_context": {"trusted_ca": {"filename": pki.path("mesh-ca.crt")}}}]
    return config


@pytest.fixture(params=[False, True], ids=["sotw", "delta"])
def mesh(request, proxy, control_plane, http_upstreams, pki):
    cp = control_plane
    a, b = http_upstreams(name="A"), http_upstreams(name="B")
    ports = {"http": free_port(), "inline": free_port(), "https": free_port()}
    ca = json_format.ParseDict({"name": "mesh-ca", "validation_context": {
        "trusted_ca": {"inline_string": pki.pem("mesh-ca.crt")}}}, secret_pb2.Secret())
    identity = workload_secret(pki, "server", "server")
    cp.set(SDS, {"mesh-ca": ca, "workload": identity})
    cp.set(CDS, {"svc": eds_cluster("svc"), "tlsc": tls_cluster(b.address),
                 "plain": json_format.ParseDict(http_cluster("plain", [a.address]), cluster_pb2.Cluster())})
    cp.set(EDS, {"svc": svc_assignment(a.address, b.address)})
    cp.set(LDS, {"http": http_listener("http", ports["http"]), "inline": inline_listener(ports["inline"]),
                 "https": tls_http_listener(ports["https"])})
    cp.set(RDS, {"r": routes("r", "svc")})
    p = proxy(mesh_bootstrap(cp, pki, delta=request.param), ready_timeout=30)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    with HttpClient(ports["http"]) as c:
        for _ in range(3):
            assert c.request().header("x-upstream") == "A"
    return Mesh(p, cp, ports, delta=request.param)


@pytest.mark.deadline(90)
def test_config_dump_sections(mesh):
    dump = mesh.get("/config_dump")
    assert [c["@type"] for c in dump["configs"]] == [ADMIN + s for s in SECTIONS]
    bootstrap = mesh.section("BootstrapConfigDump")
    assert list(bootstrap) == ["@type", "bootstrap", "last_updated"] and STAMP.match(bootstrap["last_updated"])
    node = bootstrap["bootstrap"]["node"]
    assert node["id"] == "sidecar~1" and set(node["user_agent_build_version"]["version"]) <= {"major_number", "minor_number", "patch"}

    clusters = mesh.section("ClustersConfigDump")
    assert list(clusters) == ["@type", "version_info", "static_clusters", "dynamic_active_clusters"]
    assert [c["cluster"]["name"] for c in clusters["static_clusters"]] == ["static_a", "xds"]
    assert all(list(c) == ["cluster", "last_updated"] for c in clusters["static_clusters"])
    assert sorted(c["cluster"]["name"] for c in clusters["dynamic_active_clusters"]) == ["plain", "svc", "tlsc"]
    for c in clusters["dynamic_active_clusters"]:
        assert list(c) == ["version_info", "cluster", "last_updated"] and STAMP.match(c["last_updated"])
        assert c["cluster"]["@type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster"

    listeners = mesh.section("ListenersConfigDump")
    assert list(listeners) == ["@type", "version_info", "static_listeners", "dynamic_listeners"]
    assert [l["listener"]["name"] for l in listeners["static_listeners"]] == ["static_l"]
    assert sorted(l["name"] for l in listeners["dynamic_listeners"]) == ["http", "https", "inline"]
    for entry in listeners["dynamic_listeners"]:
        assert list(entry) == ["name", "active_state"]
        assert list(entry["active_state"]) == ["version_info", "listener", "last_updated"]
        assert entry["active_state"]["listener"]["@type"] == "type.googleapis.com/envoy.config.listener.v3.Listener"

    assert mesh.section("ScopedRoutesConfigDump") == {"@type": ADMIN + "ScopedRoutesConfigDump"}
    route_dump = mesh.section("RoutesConfigDump")
    assert list(route_dump) == ["@type", "static_route_configs", "dynamic_route_configs"]
    assert sorted(r["route_config"]["name"] for r in route_dump["static_route_configs"]) == ["inline_rc", "static_rc"]
    assert [list(r) for r in route_dump["dynamic_route_configs"]] == [["version_info", "route_config", "last_updated"]]
    assert route_dump["dynamic_route_configs"][0]["route_config"]["name"] == "r"

    secrets = mesh.section("SecretsConfigDump")
    assert list(secrets) == ["@type", "static_secrets", "dynamic_active_secrets"]
    assert [(s["name"], list(s)) for s in secrets["static_secrets"]] == [
        ("static_cert", ["name", "secret"]), ("static_ca", ["name", "secret"])]
    static_cert = secrets["static_secrets"][0]["secret"]["tls_certificate"]
    assert static_cert["private_key"] == {"inline_string": "[redacted]"}
    assert "BEGIN CERTIFICATE" in static_cert["certificate_chain"]["inline_string"]
    active = {s["name"]: s for s in secrets["dynamic_active_secrets"]}
    assert sorted(active) == ["mesh-ca", "workload"]
    for s in active.values():
        assert list(s) == ["name", "version_info", "last_updated", "secret"] and STAMP.match(s["last_updated"])
        assert s["secret"]["@type"] == "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
    assert active["workload"]["secret"]["tls_certificate"]["private_key"] == {"inline_string": "[redacted]"}

    # ?include_eds: the endpoints after the clusters, without last_updated.
    dump = mesh.get("/config_dump?include_eds")
    assert [c["@type"] for c in dump["configs"]] == [ADMIN + s for s in SECTIONS[:2] + ["EndpointsConfigDump"] + SECTIONS[2:]]
    endpoints = mesh.section("EndpointsConfigDump", "?include_eds")
    svc = next(e for e in endpoints["dynamic_endpoint_configs"] if e["endpoint_config"]["cluster_name"] == "svc")
    assert list(svc) == ["endpoint_config"]
    lb = svc["endpoint_config"]["endpoints"][0]["lb_endpoints"]
    assert [(e["health_status"], e["load_balancing_weight"]) for e in lb] == [("HEALTHY", 3), ("UNHEALTHY", 1)]
    assert lb[0]["endpoint"]["hostname"] == "a.local"


@pytest.mark.deadline(90)
def test_config_dump_queries(mesh):
    def items(query):
        return mesh.get("/config_dump?" + query)["configs"]

    for resource, wrapper in [("dynamic_active_clusters", "ClustersConfigDump.DynamicCluster"),
                              ("static_clusters", "ClustersConfigDump.StaticCluster"),
                              ("dynamic_listeners", "ListenersConfigDump.DynamicListener"),
                              ("dynamic_route_configs", "RoutesConfigDump.DynamicRouteConfig"),
                              ("static_route_configs", "RoutesConfigDump.StaticRouteConfig"),
                              ("dynamic_active_secrets", "SecretsConfigDump.DynamicSecret"),
                              ("static_secrets", "SecretsConfigDump.StaticSecret")]:
        got = items("resource=" + resource)
        assert got and {c["@type"] for c in got} == {ADMIN + wrapper}, resource
    assert mesh.get("/config_dump?resource=dynamic_scoped_route_configs") == {}

    # A mask applies to each element; paths into a top-level Any reach the resource.
    assert items("resource=dynamic_route_configs&mask=route_config.name") == [
        {"@type": ADMIN + "RoutesConfigDump.DynamicRouteConfig",
         "route_config": {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "r"}}]
    got = items("resource=dynamic_listeners&mask=name,active_state.version_info")
    assert sorted(c["name"] for c in got) == ["http", "https", "inline"]
    assert all(list(c) == ["@type", "name", "active_state"] and list(c["active_state"]) == ["version_info"] for c in got)
    got = items("resource=dynamic_active_secrets&mask=secret.name,last_updated")
    assert all(list(c) == ["@type", "last_updated", "secret"] for c in got)
    got = items("resource=dynamic_active_clusters&mask=cluster.name,version_info")
    assert all(list(c) == ["@type", "version_info", "cluster"] for c in got)
    # A DynamicListener's Any is not looked into; a made-up field is refused.
    for query in ("resource=dynamic_listeners&mask=active_state.listener.name",
                  "resource=dynamic_active_clusters&mask=bogus"):
        status, body = mesh.p.admin("GET", "/config_dump?" + query)
        assert status == 400 and body.startswith(b"FieldMask ") and body.endswith(b" could not be successfully used.")
    # Without resource, the mask picks the dump messages that have the field.
    got = items("mask=version_info")
    assert [c["@type"] for c in got] == [ADMIN + "ClustersConfigDump", ADMIN + "ListenersConfigDump"]
    assert all(list(c) == ["@type", "version_info"] for c in got)

    # name_regex keeps resources by name, across sections.
    got = items("resource=dynamic_listeners&name_regex=http.*")
    assert sorted(c["name"] for c in got) == ["http", "https"]
    clusters = next(c for c in items("name_regex=svc") if c["@type"] == ADMIN + "ClustersConfigDump")
    assert [c["cluster"]["name"] for c in clusters["dynamic_active_clusters"]] == ["svc"]

    # Refusals: Envoy's status codes and words.
    status, body = mesh.p.admin("GET", "/config_dump?name_regex=(")
    assert status == 400 and body.startswith(b"INVALID_ARGUMENT: Error while parsing name_regex from (: ")
    status, body = mesh.p.admin("GET", "/config_dump?resource=nope")
    assert status == 404 and body == b"nope not found in config dump"
    status, _ = mesh.p.admin("GET", "/config_dump?resource=dynamic_endpoint_configs")
    assert status == 404
    got = items("resource=dynamic_endpoint_configs&include_eds")
    assert {c["@type"] for c in got} == {ADMIN + "EndpointsConfigDump.DynamicEndpointConfig"}
    status, body = mesh.p.admin("GET", "/config_dump?mask=nope")
    assert status == 400 and body == b"FieldMask nope could not be successfully applied to any configs."


@pytest.mark.deadline(90)
def test_clusters_listeners_and_certs(mesh):
    statuses = {c["name"]: c for c in mesh.get("/clusters?format=json")["cluster_statuses"]}
    assert sorted(statuses) == ["plain", "static_a", "svc", "tlsc", "xds"]
    svc = statuses["svc"]
    assert list(svc) == ["name", "added_via_api", "host_statuses", "circuit_breakers", "observability_name"]
    assert "added_via_api" not in statuses["static_a"]
    hosts = svc["host_statuses"]
    assert [list(h) for h in hosts] == [["address", "stats", "health_status", "weight", "hostname", "locality"],
                                       ["address", "stats", "health_status", "weight", "locality"]]
    assert [(h["health_status"], h["weight"], h["locality"]) for h in hosts] == [
        ({"eds_health_status": "HEALTHY"}, 3, {"region": "r1", "zone": "z1"}),
        ({"eds_health_status": "UNHEALTHY"}, 1, {"region": "r1", "zone": "z1"})]
    stats = {s["name"]: s for s in hosts[0]["stats"]}
    assert stats["rq_total"]["value"] == "3" and stats["cx_active"]["type"] == "GAUGE"
    assert [t.get("priority") for t in svc["circuit_breakers"]["thresholds"]] == [None, "HIGH"]

    text = mesh.get("/clusters")
    lines = {line for line in text.splitlines() if line.startswith("svc::")}
    assert {"svc::added_via_api::true", "svc::default_priority::max_connections::1024"} <= lines
    assert any(line.endswith("::health_flags::/failed_eds_health") for line in lines)
    assert any(line.endswith("::hostname::a.local") for line in lines)
    assert any(line.endswith("::region::r1") for line in lines)

    listed = [line.split("::")[0] for line in mesh.get("/listeners").splitlines()]
    assert listed[0] == "static_l" and sorted(listed[1:]) == ["http", "https", "inline"]
    statuses = mesh.get("/listeners?format=json")["listener_statuses"]
    assert all(list(s) == ["name", "local_address"] for s in statuses)

    # /certs: the HTTPS listener's context (a chain, no CA) and the TLS
    # cluster's (a CA and a chain), from the SDS secrets.
    contexts = mesh.get("/certs")["certificates"]
    assert all(list(c) == ["ca_cert", "cert_chain"] for c in contexts)
    shapes = sorted((len(c["ca_cert"]), len(c["cert_chain"])) for c in contexts)
    assert shapes == [(0, 1), (1, 1)]
    for context in contexts:
        for cert in context["ca_cert"] + context["cert_chain"]:
            assert list(cert) == ["path", "serial_number", "subject_alt_names", "days_until_expiration",
                                  "valid_from", "expiration_time"]
            assert cert["path"] == "<inline>" and re.fullmatch(r"[0-9a-f]+", cert["serial_number"])
            assert cert["days_until_expiration"] in ("29", "30")  # 30-day certificates made just now
            assert SECOND_STAMP.match(cert["valid_from"]) and SECOND_STAMP.match(cert["expiration_time"])
    chain = contexts[0]["cert_chain"][0]
    assert chain["subject_alt_names"][0] == {"dns": "server.local"}
    assert {"uri": "spiffe://cluster.local/ns/default/sa/server"} in chain["subject_alt_names"]


@pytest.mark.deadline(120)
def test_warming_and_server_state(proxy, control_plane, http_upstreams, pki):
    """State while clusters warm (PRE_INITIALIZING), while listeners warm
    (INITIALIZING, /init_dump naming what they wait for), LIVE; warming
    sections of config_dump; DRAINING under /healthcheck/fail."""
    cp = control_plane
    a = http_upstreams(name="A")
    port = free_port()
    cp.set(CDS, {"svc": eds_cluster("svc")})
    cp.set(LDS, {"http": http_listener("http", port)})
    p = proxy(mesh_bootstrap(cp, pki), wait_ready=False)
    mesh = Mesh(p, cp, {})
    wait_until(lambda: _answers(p))
    cp.wait_for(lambda r: r.type_url == EDS, timeout=15)
    # The EDS cluster waits for its endpoints: clusters initialize.
    assert p.admin("GET", "/ready") == (503, b"PRE_INITIALIZING\n")
    assert mesh.get("/server_info")["state"] == "PRE_INITIALIZING"
    clusters = mesh.section("ClustersConfigDump")
    assert [c["cluster"]["name"] for c in clusters["dynamic_warming_clusters"]] == ["svc"]
    assert list(clusters["dynamic_warming_clusters"][0]) == ["version_info", "cluster", "last_updated"]

    cp.set(EDS, {"svc": svc_assignment(a.address, a.address)})
    cp.push(EDS)
    # The listener waits for its route table: listeners initialize.
    wait_until(lambda: p.admin("GET", "/ready")[1] == b"INITIALIZING\n")
    assert mesh.get("/server_info")["state"] == "INITIALIZING"
    dumps = mesh.get("/init_dump")["unready_targets_dumps"]
    http = next(d for d in dumps if " http " in d["name"])
    assert http["name"].startswith("init manager Listener-local-init-manager http ")
    assert http["target_names"] == ["shared target RdsRouteConfigSubscription RDS init r"]
    assert mesh.get("/init_dump?mask=listener") == mesh.get("/init_dump")

    cp.set(RDS, {"r": routes("r", "svc")})
    cp.push(RDS)
    p.wait_ready()
    assert mesh.get("/init_dump") == {}
    info = mesh.get("/server_info")
    assert list(info) == ["version", "state", "uptime_current_epoch", "uptime_all_epochs", "hot_restart_version",
                          "command_line_options", "node", "hot_restart_initializing"]
    assert info["state"] == "LIVE" and re.fullmatch(r"\d+s", info["uptime_current_epoch"])
    options = info["command_line_options"]
    assert list(options)[:4] == ["base_id", "concurrency", "config_path", "config_yaml"]
    assert options["concurrency"] == 1 and options["config_path"].endswith(".yaml") and options["mode"] == "Serve"
    assert {"drain_time", "parent_shutdown_time", "file_flush_interval", "log_format", "drain_strategy"} <= set(options)
    assert list(info["node"])[:4] == ["id", "cluster", "user_agent_name", "user_agent_build_version"]
    assert info["node"]["id"] == "sidecar~1" and info["node"]["dynamic_parameters"] == {}

    # A listener that waits for a table that never comes warms after
    # start-up: warming_state, listed by /init_dump, not by /listeners.
    cold_port = free_port()
    cp.set(LDS, {"http": http_listener("http", port),
                 "cold": http_listener("cold", cold_port, rds={"route_config_name": "missing", "config_source": ADS}),
                 "coldtls": tls_http_listener(free_port(), name="coldtls", secret="never")})
    cp.set(CDS, {"svc": eds_cluster("svc"), "cold": eds_cluster("cold")})
    cp.push(CDS, LDS)
    cp.wait_for(lambda r: r.type_url == RDS and "missing" in r.names, timeout=15)
    cp.wait_for(lambda r: r.type_url == SDS and "never" in r.names, timeout=15)
    entries = {e["name"]: e for e in wait_until(
        lambda: [e for e in mesh.section("ListenersConfigDump")["dynamic_listeners"] if e["name"] == "cold"]
        and mesh.section("ListenersConfigDump")["dynamic_listeners"])}
    assert list(entries["cold"]) == ["name", "warming_state"]
    # Active listeners first, then warming ones, each in the order LDS first named them.
    assert list(entries) == ["http", "cold", "coldtls"]
    assert list(entries["cold"]["warming_state"]) == ["version_info", "listener", "last_updated"]
    dumps = mesh.get("/init_dump")["unready_targets_dumps"]
    assert [d["target_names"] for d in dumps if " cold " in d["name"]] == [["shared target RdsRouteConfigSubscription RDS init missing"]]
    assert [d["target_names"] for d in dumps if " coldtls " in d["name"]] == [["shared target SdsApi never"]]
    secrets = mesh.section("SecretsConfigDump")
    assert [(s["name"], s["version_info"], list(s)) for s in secrets["dynamic_warming_secrets"]] == [
        ("never", "uninitialized", ["name", "version_info", "last_updated", "secret"])]
    assert secrets["dynamic_warming_secrets"][0]["secret"] == {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "never"}
    assert "cold" not in mesh.get("/listeners")
    warming = mesh.section("ClustersConfigDump").get("dynamic_warming_clusters", [])
    assert [c["cluster"]["name"] for c in warming] == ["cold"]

    p.admin("POST", "/healthcheck/fail")
    assert p.admin("GET", "/ready") == (503, b"DRAINING\n")
    assert mesh.get("/server_info")["state"] == "DRAINING"
    p.admin("POST", "/healthcheck/ok")
    assert p.admin("GET", "/ready") == (200, b"LIVE\n")


def _answers(p) -> bool:
    try:
        p.admin("GET", "/ready")
        return True
    except OSError:
        return False


@pytest.mark.deadline(90)
def test_draining_state(proxy, control_plane, http_upstreams, pki):
    """A removed listener shows its last version under `draining_state`
    alone for the drain time. A change inside the filter chains (updated in
    place) shows none. A change outside them shows the old version under
    `draining_state` for the drain time in both (Envoy drains the whole
    listener; Remora counts it as draining, as Envoy's gauges do, though it
    drains no connection of an unchanged chain, envoyproxy/envoy#8564)."""
    cp = control_plane
    a = http_upstreams(name="A")
    ports = {"http": free_port(), "other": free_port(), "third": free_port()}
    cp.set(CDS, {"plain": json_format.ParseDict(http_cluster("plain", [a.address]), cluster_pb2.Cluster())})
    cp.set(LDS, {name: http_listener(name, port) for name, port in ports.items()})
    cp.set(RDS, {"r": routes("r", "plain")})
    p = proxy(mesh_bootstrap(cp, pki), drain_time_s=30, ready_timeout=30)
    mesh = Mesh(p, cp, ports)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
    outside = http_listener("http", ports["http"])
    outside.per_connection_buffer_limit_bytes.value = 65536
    inside = http_listener("third", ports["third"], stat_prefix="changed")
    mark = len(cp.requests)
    cp.set(LDS, {"http": outside, "third": inside})
    cp.remove(LDS, ["other"])
    cp.push(LDS)
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack and cp.requests.index(r) >= mark, timeout=15)
    entries = {e["name"]: e for e in wait_until(
        lambda: (lambda l: l if any(e["name"] == "other" for e in l) else None)(
            mesh.section("ListenersConfigDump")["dynamic_listeners"]))}
    assert list(entries["other"]) == ["name", "draining_state"]
    assert list(entries["other"]["draining_state"]) == ["version_info", "listener", "last_updated"]
    assert list(entries["third"]) == ["name", "active_state"]
    assert entries["http"]["active_state"]["listener"]["per_connection_buffer_limit_bytes"] == 65536
    assert list(entries["http"]) == ["name", "active_state", "draining_state"]
    assert "per_connection_buffer_limit_bytes" not in entries["http"]["draining_state"]["listener"]
    listed = [line.split("::")[0] for line in mesh.get("/listeners").splitlines()]
    assert "other" not in listed


@pytest.mark.deadline(90)
def test_version_info(mesh):
    """Which version each resource shows: over state of the world the
    response's `version_info` everywhere; over Delta each resource's own
    version, and the section's `version_info` the response's system version."""
    clusters = mesh.section("ClustersConfigDump")
    listeners = mesh.section("ListenersConfigDump")
    routes = mesh.section("RoutesConfigDump")["dynamic_route_configs"]
    secrets = mesh.section("SecretsConfigDump")["dynamic_active_secrets"]
    assert clusters["version_info"] == listeners["version_info"] == "1"
    own = {name: version for name, (_, version) in mesh.cp._resources[CDS].items()}
    own.update({name: version for name, (_, version) in mesh.cp._resources[LDS].items()})
    own.update({name: version for name, (_, version) in mesh.cp._resources[RDS].items()})
    own.update({name: version for name, (_, version) in mesh.cp._resources[SDS].items()})
    shown = [(c["cluster"]["name"], c["version_info"]) for c in clusters["dynamic_active_clusters"]]
    shown += [(entry["name"], entry["active_state"]["version_info"]) for entry in listeners["dynamic_listeners"]]
    shown += [(r["route_config"]["name"], r["version_info"]) for r in routes]
    shown += [(s["name"], s["version_info"]) for s in secrets]
    assert len(shown) == 9
    for name, version in shown:
        assert version == (own[name] if mesh.delta else "1"), name
