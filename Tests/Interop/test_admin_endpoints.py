"""Admin endpoints operators script against (issue 12): /help, /listeners,
/config_dump, /memory, /runtime, /reset_counters, /reopen_logs, with
Envoy 1.40's methods and output shapes. Every test also runs against Envoy."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import http_support as H
import support
from support import bootstrap, cluster, connect, free_port, listener, recv_exact, socket_address

FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"


def tcp_listener(name: str, address: dict, cluster_name: str = "backend") -> dict:
    return listener(name, address, [{"filters": [support.tcp_proxy_filter(cluster_name, name)]}])


@pytest.fixture
def admin_proxy(proxy, upstreams, admin_port):
    """Two TCP listeners (one with an additional IPv6 address), one that
    binds nothing, one HTTP listener with an inline route config."""
    up = upstreams()
    ports = {"a": free_port(), "a6": free_port("::1"), "http": free_port()}
    a = tcp_listener("a", socket_address("127.0.0.1", ports["a"]))
    a["additional_addresses"] = [{"address": socket_address("::1", ports["a6"])}]
    unbound = tcp_listener("unbound", socket_address("10.1.1.1", 80))
    unbound["bind_to_port"] = False
    rc = H.route_config([H.vhost("vh", ["*"], [H.route({"prefix": "/"}, "backend")])], name="routes-1")
    cfg = bootstrap(admin_port, [a, unbound, H.http_listener("web", ports["http"], rc)],
                    [cluster("backend", [up.address]), cluster("other", [up.address])])
    return proxy(cfg), ports


def test_help_lists_endpoints_as_envoy(admin_proxy):
    p, _ = admin_proxy
    status, body = p.admin("GET", "/help")
    text = body.decode()
    assert status == 200 and text.startswith("admin commands are:\n")
    for line in ("  /listeners: print listener info\n      format: File format to use; One of (text, json)\n",
                 "  /reset_counters (POST): reset all counters to zero\n",
                 "  /quitquitquit (POST): exit the server\n",
                 "  /config_dump: dump current Envoy configs\n      resource: The resource to dump\n",
                 "  /ready: print server state, return 200 if LIVE, otherwise return 503\n",
                 "  /reopen_logs (POST): reopen access logs\n"):
        assert line in text, line
    status, body = p.admin("GET", "/no-such-path")
    assert status == 404 and body.decode().startswith("invalid path. admin commands are:\n")


def test_listeners_text_and_json(admin_proxy):
    p, ports = admin_proxy
    status, body = p.admin("GET", "/listeners")
    assert status == 200
    assert body.decode() == (f"a::127.0.0.1:{ports['a']}\na::[::1]:{ports['a6']}\nunbound::10.1.1.1:80\n"
                             f"web::127.0.0.1:{ports['http']}\n")
    status, body = p.admin("GET", "/listeners?format=json")
    assert status == 200
    assert json.loads(body) == {"listener_statuses": [
        {"name": "a", "local_address": {"socket_address": {"address": "127.0.0.1", "port_value": ports["a"]}},
         "additional_local_addresses": [{"socket_address": {"address": "::1", "port_value": ports["a6"]}}]},
        {"name": "unbound", "local_address": {"socket_address": {"address": "10.1.1.1", "port_value": 80}}},
        {"name": "web", "local_address": {"socket_address": {"address": "127.0.0.1", "port_value": ports["http"]}}},
    ]}


def test_config_dump_of_a_static_config(admin_proxy):
    p, ports = admin_proxy
    status, body = p.admin("GET", "/config_dump")
    assert status == 200
    configs = json.loads(body)["configs"]
    prefix = "type.googleapis.com/envoy.admin.v3."
    assert [c["@type"] for c in configs] == [prefix + t for t in (
        "BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump", "ScopedRoutesConfigDump",
        "RoutesConfigDump", "SecretsConfigDump")]
    boot = configs[0]
    assert boot["bootstrap"]["admin"]["address"]["socket_address"]["port_value"] == p.admin_port
    assert [c["name"] for c in boot["bootstrap"]["static_resources"]["clusters"]] == ["backend", "other"]
    assert boot["last_updated"].endswith("Z")
    clusters = configs[1]["static_clusters"]
    assert [c["cluster"]["name"] for c in clusters] == ["backend", "other"]
    assert clusters[0]["cluster"]["@type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    assert clusters[0]["cluster"]["connect_timeout"] == "1s"
    listeners = configs[2]["static_listeners"]
    assert [entry["listener"]["name"] for entry in listeners] == ["a", "unbound", "web"]
    assert listeners[1]["listener"]["bind_to_port"] is False
    hcm = listeners[2]["listener"]["filter_chains"][0]["filters"][0]["typed_config"]
    assert hcm["@type"].endswith("HttpConnectionManager") and hcm["stat_prefix"] == "ingress_http"
    routes = configs[4]["static_route_configs"]
    assert [r["route_config"]["name"] for r in routes] == ["routes-1"]
    assert routes[0]["route_config"]["@type"] == "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"


def test_config_dump_resource_and_name_regex(admin_proxy):
    p, _ = admin_proxy
    status, body = p.admin("GET", "/config_dump?resource=static_clusters&name_regex=oth.*")
    assert status == 200
    configs = json.loads(body)["configs"]
    assert [(c["@type"], c["cluster"]["name"]) for c in configs] == [
        ("type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster", "other")]
    status, body = p.admin("GET", "/config_dump?resource=static_listeners")
    assert [c["listener"]["name"] for c in json.loads(body)["configs"]] == ["a", "unbound", "web"]
    status, body = p.admin("GET", "/config_dump?resource=bogus")
    assert (status, body) == (404, b"bogus not found in config dump")


def test_memory_and_runtime(admin_proxy):
    p, _ = admin_proxy
    status, body = p.admin("GET", "/memory")
    memory = json.loads(body)
    assert status == 200
    assert sorted(memory) == sorted(["allocated", "heap_size", "pageheap_unmapped", "pageheap_free",
                                     "total_thread_cache", "total_physical_bytes"])
    assert all(isinstance(v, str) and v.isdigit() for v in memory.values())
    assert int(memory["allocated"]) > 0 and int(memory["total_physical_bytes"]) > 0
    status, body = p.admin("GET", "/runtime")
    assert status == 200 and json.loads(body) == {"layers": [], "entries": {}}


def test_reset_counters_needs_post_and_zeroes_counters(admin_proxy):
    p, ports = admin_proxy
    for _ in range(2):
        with connect("127.0.0.1", ports["a"]) as c:
            c.sendall(b"x")
            assert recv_exact(c, 1) == b"x"
    p.wait_for_stats({"tcp.a.downstream_cx_total": 2})
    status, body = p.admin("GET", "/reset_counters")
    assert (status, body) == (405, b"Method GET not allowed, POST required.")
    assert p.stats()["tcp.a.downstream_cx_total"] == 2
    status, body = p.admin("POST", "/reset_counters")
    assert (status, body) == (200, b"OK\n")
    assert p.stats()["tcp.a.downstream_cx_total"] == 0
    with connect("127.0.0.1", ports["a"]) as c:
        c.sendall(b"y")
        assert recv_exact(c, 1) == b"y"
    p.wait_for_stats({"tcp.a.downstream_cx_total": 1})


def test_reopen_logs_reopens_access_logs(proxy, http_upstreams, admin_port, tmp_path):
    up = http_upstreams()
    port = free_port()
    log = tmp_path / "access.log"
    entry = {"name": "envoy.access_loggers.file", "typed_config": {
        "@type": FILE_LOG, "path": str(log), "log_format": {"text_format_source": {"inline_string": "%REQ(:PATH)%\n"}}}}
    p = proxy(H.simple_http_config(admin_port, port, up, access_log=[entry]),
              extra_args=["--file-flush-interval-msec", "50"])
    H.get(port, "/one")
    deadline = time.monotonic() + 5
    while (not log.exists() or log.read_text() != "/one\n") and time.monotonic() < deadline:
        time.sleep(0.02)
    os.rename(log, tmp_path / "access.log.1")
    assert p.admin("GET", "/reopen_logs")[0] == 405
    assert p.admin("POST", "/reopen_logs") == (200, b"OK\n")
    H.get(port, "/two")
    deadline = time.monotonic() + 5
    while (not log.exists() or log.read_text() != "/two\n") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log.read_text() == "/two\n"
    assert (tmp_path / "access.log.1").read_text() == "/one\n"


def test_logging_lists_and_sets_levels(admin_proxy):
    p, _ = admin_proxy
    assert p.admin("GET", "/logging") == (405, b"Method GET not allowed, POST required.")
    status, body = p.admin("POST", "/logging")
    text = body.decode()
    assert status == 200 and text.startswith("active loggers:\n")
    assert "\n  main: " in text and "\n  upstream: " in text and "\n  admin: " in text
    status, body = p.admin("POST", "/logging?level=debug")
    assert status == 200
    assert body.endswith(b": debug\n\n")
    lines = body.decode().splitlines()[1:-1]
    assert lines and all(line.endswith(": debug") for line in lines), lines[:5]
    status, body = p.admin("POST", "/logging?paths=main:trace,admin:warning")
    assert status == 200 and "  main: trace\n" in body.decode() and "  admin: warning\n" in body.decode()
    status, body = p.admin("POST", "/logging?upstream=error")
    assert status == 200 and "  upstream: error\n" in body.decode()
    status, body = p.admin("POST", "/logging?level=bogus")
    assert status == 400 and body.decode().startswith("error: unknown logger level\n\nusage: /logging?<name>=<level>")
    status, body = p.admin("POST", "/logging?bogus=debug")
    assert status == 400 and body.decode().startswith("error: unknown logger name\n")


def test_admin_access_log(proxy, upstreams, admin_port, tmp_path):
    log = tmp_path / "admin.log"
    cfg = support.simple_config(admin_port, free_port(), [upstreams().address])
    cfg["admin"]["access_log"] = [{"name": "envoy.access_loggers.file", "typed_config": {
        "@type": FILE_LOG, "path": str(log),
        "log_format": {"text_format_source": {"inline_string": "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %PROTOCOL%\n"}}}}]
    p = proxy(cfg, extra_args=["--file-flush-interval-msec", "50"])
    p.admin("GET", "/server_info")
    p.admin("GET", "/nope")
    deadline = time.monotonic() + 5
    while "GET /nope" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = log.read_text().splitlines()
    assert "GET /server_info 200 HTTP/1.1" in lines, lines
    assert "GET /nope 404 HTTP/1.1" in lines, lines


def drain_config(admin_port, up, ports):
    inbound = H.http_listener("in", ports["in"], H.route_config([H.vhost("v", ["*"], [H.route({"prefix": "/"}, "up")])]))
    inbound["traffic_direction"] = "INBOUND"
    outbound = H.http_listener("out", ports["out"], H.route_config([H.vhost("v", ["*"], [H.route({"prefix": "/"}, "up")])]),
                               stat_prefix="out_http")
    outbound["traffic_direction"] = "OUTBOUND"
    return bootstrap(admin_port, [inbound, outbound], [H.http_cluster("up", [up.address])])


def refused(port: int) -> bool:
    try:
        connect("127.0.0.1", port, timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def test_drain_listeners_stops_accepting_and_drains_connections(proxy, http_upstreams, admin_port):
    up = http_upstreams()
    ports = {"in": free_port(), "out": free_port()}
    p = proxy(drain_config(admin_port, up, ports))
    client = H.HttpClient(ports["in"])
    assert client.request("GET", "/before").status == 200
    assert p.admin("GET", "/drain_listeners")[0] == 405
    assert p.admin("POST", "/drain_listeners") == (200, b"OK\n")
    deadline = time.monotonic() + 5
    while not (refused(ports["in"]) and refused(ports["out"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused(ports["in"]) and refused(ports["out"])
    # Open connections go on; they drain by --drain-strategy (gradual: none
    # in the first second; test_xds_drain.py covers the rest).
    r = client.request("GET", "/after")
    assert r.status == 200 and r.header("connection") is None
    client.close()
    assert p.admin("GET", "/ready") == (200, b"LIVE\n")
    p.wait_for_stats({"listener_manager.listener_stopped": 2})


def test_drain_listeners_inboundonly_and_skip_exit(proxy, http_upstreams, admin_port):
    up = http_upstreams()
    ports = {"in": free_port(), "out": free_port()}
    p = proxy(drain_config(admin_port, up, ports))
    assert p.admin("POST", "/drain_listeners?skip_exit") == (200, b"OK\n")
    time.sleep(0.3)
    # The listeners go on. (Their open connections drain: Envoy's gradual
    # strategy closes them with a probability rising over the drain time,
    # Remora at their next response; neither is checked here.)
    assert H.get(ports["in"], "/still").status == 200
    assert p.admin("POST", "/drain_listeners?inboundonly") == (200, b"OK\n")
    deadline = time.monotonic() + 5
    while not refused(ports["in"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused(ports["in"])
    assert H.get(ports["out"], "/outbound").status == 200


def test_healthcheck_fail_and_ok(proxy, http_upstreams, admin_port):
    up = http_upstreams()
    port = free_port()
    p = proxy(H.simple_http_config(admin_port, port, up))
    assert p.admin("GET", "/healthcheck/fail")[0] == 405
    assert p.admin("POST", "/healthcheck/fail") == (200, b"OK\n")
    r = H.get(port, "/while-failing")
    assert r.status == 200
    # Without the health_check filter, Envoy only closes the connection.
    assert r.header("x-envoy-immediate-health-check-fail") is None and r.header("connection") == "close"
    assert p.admin("GET", "/ready") == (503, b"DRAINING\n")
    p.wait_for_stats({"server.live": 0})
    assert p.admin("POST", "/healthcheck/ok") == (200, b"OK\n")
    assert p.admin("GET", "/ready") == (200, b"LIVE\n")
    r = H.get(port, "/healthy-again")
    assert r.status == 200 and r.header("x-envoy-immediate-health-check-fail") is None and r.header("connection") is None
    p.wait_for_stats({"server.live": 1})


def test_healthcheck_fail_drains_only_default_drain_type_listeners(proxy, http_upstreams, admin_port):
    """`drain_type: MODIFY_ONLY` leaves a listener's connections alone while
    the server is health-check failed; DEFAULT closes each after its response
    (Envoy's DrainManagerImpl::drainClose)."""
    up = http_upstreams()
    ports = {"default": free_port(), "modify_only": free_port()}
    rc = H.route_config([H.vhost("v", ["*"], [H.route({"prefix": "/"}, "backend")])])
    listeners = [H.http_listener(name, port, rc, stat_prefix=name) for name, port in ports.items()]
    listeners[1]["drain_type"] = "MODIFY_ONLY"
    p = proxy(bootstrap(admin_port, listeners, [H.http_cluster("backend", [up.address])]))
    clients = {name: H.HttpClient(port) for name, port in ports.items()}
    try:
        for client in clients.values():
            assert client.request("GET", "/before").header("connection") is None
        assert p.admin("POST", "/healthcheck/fail") == (200, b"OK\n")
        assert clients["default"].request("GET", "/failing").header("connection") == "close"
        for k in range(3):
            r = clients["modify_only"].request("GET", f"/failing-{k}")
            assert r.status == 200 and r.header("connection") is None
        # A new connection to it is served on and kept too.
        assert H.get(ports["modify_only"], "/new").header("connection") is None
        assert H.get(ports["default"], "/new").header("connection") == "close"
    finally:
        for client in clients.values():
            client.close()


def test_clusters_text_and_json(proxy, http_upstreams, admin_port):
    up = http_upstreams()
    dead_port = free_port()
    port = free_port()
    rc = H.route_config([H.vhost("v", ["*"], [H.route({"prefix": "/dead"}, "dead"), H.route({"prefix": "/"}, "backend")])])
    p = proxy(bootstrap(admin_port, [H.http_listener("web", port, rc)], [
        H.http_cluster("backend", [up.address]), H.http_cluster("dead", [socket_address("127.0.0.1", dead_port)])]))
    client = H.HttpClient(port)
    for path in ("/a", "/b"):
        assert client.request("GET", path).status == 200
    assert H.get(port, "/dead").status == 503
    status, body = p.admin("GET", "/clusters")
    assert status == 200
    lines = body.decode().splitlines()
    host = f"backend::127.0.0.1:{up.port}"
    for line in ("backend::observability_name::backend", "backend::default_priority::max_connections::1024",
                 "backend::high_priority::max_retries::3", "backend::added_via_api::false",
                 f"{host}::cx_active::1", f"{host}::cx_connect_fail::0", f"{host}::cx_total::1", f"{host}::rq_active::0",
                 f"{host}::rq_error::0", f"{host}::rq_pending_active::0", f"{host}::rq_success::2", f"{host}::rq_timeout::0",
                 f"{host}::rq_total::2", f"{host}::hostname::", f"{host}::health_flags::healthy", f"{host}::weight::1",
                 f"{host}::priority::0", f"{host}::success_rate::-1",
                 f"dead::127.0.0.1:{dead_port}::cx_connect_fail::1", f"dead::127.0.0.1:{dead_port}::rq_total::0"):
        assert line in lines, line
    at = lines.index(f"{host}::cx_active::1")
    assert [line.split("::")[2] for line in lines[at:at + 9]] == [
        "cx_active", "cx_connect_fail", "cx_total", "rq_active", "rq_error", "rq_pending_active", "rq_success",
        "rq_timeout", "rq_total"]
    status, body = p.admin("GET", "/clusters?format=json")
    clusters = {c["name"]: c for c in json.loads(body)["cluster_statuses"]}
    backend = clusters["backend"]
    (h,) = backend["host_statuses"]
    assert h["address"] == {"socket_address": {"address": "127.0.0.1", "port_value": up.port}}
    stats = {s["name"]: (s.get("type", "COUNTER"), int(s.get("value", 0))) for s in h["stats"]}
    assert stats["rq_success"] == ("COUNTER", 2) and stats["rq_total"] == ("COUNTER", 2)
    assert stats["cx_active"] == ("GAUGE", 1) and stats["rq_active"] == ("GAUGE", 0)
    assert h["health_status"] == {"eds_health_status": "HEALTHY"} and h["weight"] == 1
    assert backend["circuit_breakers"]["thresholds"][0]["max_connections"] == 1024
    assert backend["circuit_breakers"]["thresholds"][1]["priority"] == "HIGH"
    assert backend["observability_name"] == "backend"
    status, body = p.admin("GET", "/clusters?filter=^dea")
    assert all(line.startswith("dead::") for line in body.decode().splitlines())
    client.close()
