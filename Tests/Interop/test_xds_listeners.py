"""Listeners from LDS and routes from RDS, fed from path_config_source files
(each push: a DiscoveryResponse written beside the watched path and moved
onto it), with traffic flowing.

Runs against Remora and Envoy 1.40 alike (PROXY_KIND=envoy), except where
Remora goes beyond Envoy on purpose: connections whose filter chain did not
change are never drained, even when something else of their listener did
(envoyproxy/envoy#8564; Envoy drains the whole listener then).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

import support
from support import IS_ENVOY, free_port, socket_address
from http_support import HCM_TYPE, HttpClient, HttpUpstream, Reply, get, http_cluster, route, route_config, router_filter, vhost

h2 = pytest.importorskip("h2")
from h2_support import H2Client  # noqa: E402
import h2.events  # noqa: E402

LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
DRAIN_S = 1


# -- config ---------------------------------------------------------------------

def push(path, resources: list[dict], version: str) -> None:
    """Writes a DiscoveryResponse next to ``path`` and moves it onto it
    (the file watcher reacts to the move)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump({"version_info": version, "resources": resources}, f)
    os.replace(tmp, path)


def rds_hcm(rds_path, name: str = "r", stat_prefix: str = "ingress", **extra) -> dict:
    cfg = {"@type": HCM_TYPE, "stat_prefix": stat_prefix, "codec_type": "AUTO",
           "rds": {"route_config_name": name,
                   "config_source": {"path_config_source": {"path": str(rds_path)}, "resource_api_version": "V3"}},
           "http_filters": [router_filter()]}
    cfg.update(extra)
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": cfg}


def http_listener(name: str, port: int, rds_path, route_name: str = "r", **hcm_extra) -> dict:
    return {"@type": LISTENER_TYPE, "name": name, "address": socket_address("127.0.0.1", port),
            "filter_chains": [{"filters": [rds_hcm(rds_path, route_name, **hcm_extra)]}]}


def tcp_listener(name: str, port: int, cluster: str, **listener_extra) -> dict:
    listener = {"@type": LISTENER_TYPE, "name": name, "address": socket_address("127.0.0.1", port),
                "filter_chains": [{"filters": [support.tcp_proxy_filter(cluster, "tcp_" + name)]}]}
    listener.update(listener_extra)
    return listener


def routes(cluster: str, name: str = "r") -> dict:
    rc = route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])], name=name)
    return {"@type": ROUTE_TYPE, **rc}


class Setup:
    """Two HTTP origins (clusters ``a`` and ``b``), a TCP echo server
    (cluster ``echo``), the LDS and RDS files, and the proxy."""

    def __init__(self, proxy, tmp_path, http_upstreams, upstreams):
        self.a = http_upstreams(name="A")
        self.b = http_upstreams(name="B")
        self.echo = upstreams(support.echo_handler)
        self.lds = tmp_path / "lds.json"
        self.rds = tmp_path / "rds.json"
        self.http_port = free_port()
        self.tcp_port = free_port()
        self.admin_port = free_port()
        self._proxy = proxy
        self.p = None

    def start(self, listeners: list[dict] | None = None, route_resources: list[dict] | None = None, **kw):
        push(self.lds, listeners if listeners is not None else self.listeners(), "v1")
        push(self.rds, route_resources if route_resources is not None else [routes("a")], "r1")
        config = {
            "node": {"id": "test-node", "cluster": "test"},
            "admin": {"address": socket_address("127.0.0.1", self.admin_port)},
            "dynamic_resources": {"lds_config": {"path_config_source": {"path": str(self.lds)},
                                                 "resource_api_version": "V3"}},
            "static_resources": {"clusters": [http_cluster("a", [self.a.address]), http_cluster("b", [self.b.address]),
                                              support.cluster("echo", [self.echo.address])]},
        }
        self.p = self._proxy(config, drain_time_s=DRAIN_S, **kw)
        return self.p

    def listeners(self, **hcm_extra) -> list[dict]:
        return [http_listener("http", self.http_port, self.rds, **hcm_extra),
                tcp_listener("tcp", self.tcp_port, "echo")]

    def stat(self, name: str) -> int:
        return self.p.stats().get(name, 0)

    def wait_stat(self, name: str, at_least: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stat(name) < at_least:
            assert time.monotonic() < deadline, f"{name} stayed below {at_least}: {self.stat(name)}"
            time.sleep(0.05)

    def push_lds(self, listeners: list[dict], version: str) -> None:
        before = self.stat("listener_manager.lds.update_attempt")
        push(self.lds, listeners, version)
        self.wait_stat("listener_manager.lds.update_attempt", before + 1)

    def push_rds(self, route_resources: list[dict], version: str, name: str = "r", prefix: str = "ingress") -> None:
        stat = f"http.{prefix}.rds.{name}.update_attempt"
        before = self.stat(stat)
        push(self.rds, route_resources, version)
        self.wait_stat(stat, before + 1)


@pytest.fixture
def xds(proxy, tmp_path, http_upstreams, upstreams):
    return Setup(proxy, tmp_path, http_upstreams, upstreams)


def tcp_exchange(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    return support.recv_exact(sock, len(data))


def h2_headers(client: H2Client, sid: int) -> dict:
    for e in client.events:
        if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
            return dict(e.headers)
    return {}


def h2_get(client: H2Client, path: str = "/") -> dict:
    sid = client.request(path)
    client.pump(5.0, until=lambda ev: client.stream_ended(sid) or client.closed)
    assert client.stream_ended(sid), (sid, client.events)
    return h2_headers(client, sid)


# -- boot, add, modify, remove ----------------------------------------------------------

def test_boots_from_lds_and_rds_files_and_proxies(xds):
    p = xds.start()
    assert get(xds.http_port).header("x-upstream") == "A"
    with support.connect("127.0.0.1", xds.tcp_port) as s:
        assert tcp_exchange(s, b"ping") == b"ping"
    stats = p.stats()
    assert stats["listener_manager.lds.update_success"] == 1
    assert stats["listener_manager.listener_added"] == 2
    assert stats["listener_manager.listener_create_success"] == 2
    assert stats["listener_manager.total_listeners_active"] == 2
    assert stats["listener_manager.total_listeners_warming"] == 0
    assert stats["listener_manager.workers_started"] == 1
    assert stats["http.ingress.rds.r.update_success"] == 1

    status, body = p.admin("GET", "/listeners")
    assert status == 200
    assert f"http::127.0.0.1:{xds.http_port}" in body.decode()
    status, body = p.admin("GET", "/config_dump")
    assert status == 200
    dump = json.loads(body)
    listeners = next(c for c in dump["configs"] if c["@type"].endswith(".ListenersConfigDump"))
    assert listeners["version_info"] == "v1"
    dynamic = {d["name"]: d for d in listeners["dynamic_listeners"]}
    assert set(dynamic) == {"http", "tcp"}
    assert dynamic["http"]["active_state"]["version_info"] == "v1"
    assert dynamic["http"]["active_state"]["listener"]["name"] == "http"
    assert "last_updated" in dynamic["http"]["active_state"]
    route_dump = next(c for c in dump["configs"] if c["@type"].endswith(".RoutesConfigDump"))
    (rc,) = route_dump["dynamic_route_configs"]
    assert rc["version_info"] == "r1"
    assert rc["route_config"]["name"] == "r"
    status, body = p.admin("GET", "/config_dump?resource=dynamic_listeners")
    assert status == 200
    items = json.loads(body)["configs"]
    assert {i["name"] for i in items} == {"http", "tcp"}
    assert all(i["@type"].endswith("ListenersConfigDump.DynamicListener") for i in items)
    status, body = p.admin("GET", "/config_dump?resource=dynamic_route_configs&mask=version_info")
    assert status == 200
    assert json.loads(body)["configs"] == [
        {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig", "version_info": "r1"}]


def test_add_and_remove_listeners(xds):
    xds.start()
    extra_port = free_port()
    with support.connect("127.0.0.1", xds.tcp_port) as kept:
        assert tcp_exchange(kept, b"before") == b"before"
        xds.push_lds(xds.listeners() + [tcp_listener("extra", extra_port, "echo")], "v2")
        xds.wait_stat("listener_manager.listener_added", 3)
        # Added is counted when the update is applied; the socket accepts
        # once the workers have the listener (Remora binds after warming).
        xds.wait_stat("listener_manager.listener_create_success", 3)
        with support.connect("127.0.0.1", extra_port) as s:
            assert tcp_exchange(s, b"new") == b"new"

        # Removing "tcp": its socket stops accepting at once.
        xds.push_lds([http_listener("http", xds.http_port, xds.rds), tcp_listener("extra", extra_port, "echo")], "v3")
        xds.wait_stat("listener_manager.listener_removed", 1)
        deadline = time.monotonic() + 3
        while not support.is_refused("127.0.0.1", xds.tcp_port):
            assert time.monotonic() < deadline, "the removed listener still accepts"
            time.sleep(0.05)
        assert xds.stat("listener_manager.total_listeners_active") == 2
        assert get(xds.http_port).header("x-upstream") == "A"


def test_modified_chain_drains_its_connections_and_new_ones_get_the_new_config(xds):
    xds.start()
    idle = HttpClient(xds.http_port)
    assert idle.request().header("server") == "envoy"
    h2c = H2Client(xds.http_port)
    assert h2_get(h2c)[":status"] == "200"

    xds.push_lds(xds.listeners(server_name="changed"), "v2")
    xds.wait_stat("listener_manager.listener_modified", 1)
    stats = xds.p.stats()
    # Only the chain changed: an in-place update, one chain draining.
    assert stats["listener_manager.listener_in_place_updated"] == 1
    assert stats["listener_manager.total_filter_chains_draining"] == 1
    # A new connection takes the new chain at once, on the same socket.
    assert get(xds.http_port).header("server") == "changed"
    # The old chain's connections drain: HTTP/2 gets GOAWAY (or, at the end
    # of the drain time, a close); the idle HTTP/1 connection is closed.
    h2c.pump(DRAIN_S + 3.0, until=lambda ev: any(isinstance(e, h2.events.ConnectionTerminated) for e in ev))
    assert h2c.goaways() or h2c.closed
    elapsed, _ = idle.wait_closed(timeout=DRAIN_S + 3.0)
    assert not idle.is_open(0.05)
    idle.close()
    h2c.close()


def test_http1_request_in_flight_on_a_changed_chain_gets_connection_close(xds):
    """With --drain-strategy immediate (the default, gradual, may let the
    response go without connection: close; see test_xds_drain.py)."""
    slow = {"delay": 0.0}

    def responder(req):
        time.sleep(slow["delay"])
        return Reply(200, [("x-upstream", "A")], b"slow")

    xds.a.responder = responder
    xds.start(extra_args=["--drain-strategy", "immediate"])
    with HttpClient(xds.http_port) as c:
        assert c.request().status == 200
        slow["delay"] = 1.0
        c.send(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        time.sleep(0.2)
        xds.push_lds(xds.listeners(server_name="changed"), "v2")
        xds.wait_stat("listener_manager.listener_modified", 1)
        resp = c.read_response()
        assert resp.status == 200
        assert resp.header("connection") == "close"
        c.wait_closed(timeout=3.0)


def assert_long_lived_connections_survive(xds, change, wait_stat: str, count: int) -> None:
    """An HTTP/2 connection and a TCP session, open across ``change()``
    and the drain time after it: no GOAWAY, both still carry traffic."""
    xds.start()
    h2c = H2Client(xds.http_port)
    assert h2_get(h2c)["x-upstream"] == "A"
    tcp = support.connect("127.0.0.1", xds.tcp_port)
    assert tcp_exchange(tcp, b"one") == b"one"
    change()
    xds.wait_stat(wait_stat, count)
    time.sleep(DRAIN_S + 1.0)
    assert h2_get(h2c)[":status"] == "200"
    assert not h2c.goaways()
    assert tcp_exchange(tcp, b"two") == b"two"
    tcp.close()
    h2c.close()


def test_unrelated_listener_change_keeps_http2_and_tcp_connections(xds):
    assert_long_lived_connections_survive(
        xds, lambda: xds.push_lds(xds.listeners() + [tcp_listener("extra", free_port(), "echo")], "v2"),
        "listener_manager.listener_added", 3)


@pytest.mark.remora_only("envoyproxy/envoy#8564: Envoy drains every connection of a listener when anything "
                         "outside its filter chains changes; Remora keeps those of unchanged chains")
def test_listener_field_change_never_drains_unchanged_chains(xds):
    # Listener-level fields change; the chains do not.
    def change():
        xds.push_lds([dict(xds.listeners()[0], per_connection_buffer_limit_bytes=65536),
                      dict(xds.listeners()[1], listener_filters_timeout="3s")], "v2")
    assert_long_lived_connections_survive(xds, change, "listener_manager.listener_modified", 2)
    assert xds.stat("listener_manager.listener_in_place_updated") == 0


@pytest.mark.envoy_only("the other side of envoyproxy/envoy#8564: what Remora does not copy")
def test_envoy_drains_unchanged_chains_on_a_listener_field_change(xds):
    xds.start()
    tcp = support.connect("127.0.0.1", xds.tcp_port)
    assert tcp_exchange(tcp, b"one") == b"one"
    xds.push_lds([xds.listeners()[0], dict(xds.listeners()[1], listener_filters_timeout="3s")], "v2")
    xds.wait_stat("listener_manager.listener_modified", 1)
    elapsed, _ = support.wait_closed(tcp, DRAIN_S + 5.0)
    assert elapsed < DRAIN_S + 5.0
    tcp.close()


# -- RDS ----------------------------------------------------------------------------------

def test_rds_push_reaches_a_new_stream_on_a_keepalive_http1_connection(xds):
    xds.start()
    with HttpClient(xds.http_port) as c:
        assert c.request().header("x-upstream") == "A"
        xds.push_rds([routes("b")], "r2")
        xds.wait_stat("http.ingress.rds.r.update_success", 2)
        assert c.request().header("x-upstream") == "B"
        assert c.is_open(0.05)
    assert xds.stat("http.ingress.rds.r.config_reload") == 2
    assert xds.stat("http.ingress.downstream_cx_drain_close") == 0


def test_rds_push_reaches_a_new_stream_on_an_http2_connection(xds):
    xds.start()
    h2c = H2Client(xds.http_port)
    assert h2_get(h2c)["x-upstream"] == "A"
    xds.push_rds([routes("b")], "r2")
    xds.wait_stat("http.ingress.rds.r.update_success", 2)
    assert h2_get(h2c)["x-upstream"] == "B"
    assert not h2c.goaways()
    h2c.close()


def keep_alive_client(port: int):
    """For `closed_loop`: a keep-alive HTTP/1 client that starts over when
    the proxy says `connection: close`."""
    def make():
        c = HttpClient(port)

        def request():
            resp = c.request()
            closing = (resp.header("connection") or "").lower() == "close"
            if closing:
                c.close()
            return resp, closing
        return request
    return make


def closed_loop(make_client, header: str, pushes, clients: int = 2) -> dict:
    """``clients`` threads send requests back to back (``make_client()``
    gives a request function; it returns a response and whether to start
    a new client) while ``pushes()`` runs; every failure is recorded, with
    the values of ``header`` seen."""
    stop = threading.Event()
    results = {"ok": 0, "failed": [], "seen": set()}
    lock = threading.Lock()

    def run():
        request = None
        while not stop.is_set():
            try:
                if request is None:
                    request = make_client()
                resp, again = request()
                with lock:
                    if resp.status == 200:
                        results["ok"] += 1
                        results["seen"].add(resp.header(header))
                    else:
                        results["failed"].append(resp.status)
                if again:
                    request = None
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    results["failed"].append(repr(e))
                request = None

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        pushes()
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    return results


@pytest.mark.deadline(60)
def test_closed_loop_client_sees_no_failure_across_route_pushes(xds):
    xds.start()

    def pushes():
        for i in range(10):
            time.sleep(0.2)
            xds.push_rds([routes("b" if i % 2 == 0 else "a")], f"r{i + 2}")

    results = closed_loop(keep_alive_client(xds.http_port), "x-upstream", pushes)
    assert results["failed"] == []
    assert results["ok"] > 20
    assert results["seen"] == {"A", "B"}


@pytest.mark.deadline(60)
def test_new_connections_see_no_gap_across_listener_pushes(xds):
    """A changed listener keeps its sockets: a client opening a connection
    per request sees no refusal and no failure while the listener's chain
    changes again and again."""
    xds.start(concurrency=2)

    def pushes():
        for i in range(6):
            time.sleep(0.25)
            xds.push_lds(xds.listeners(server_name=f"v{i}"), f"v{i + 2}")

    results = closed_loop(lambda: lambda: (get(xds.http_port), False), "server", pushes)
    assert results["failed"] == []
    assert results["ok"] > 20
    assert "v5" in results["seen"] and len(results["seen"]) >= 3
    assert xds.stat("listener_manager.listener_modified") == 6


def test_back_to_back_pushes_end_on_the_last_config_on_every_worker(xds):
    xds.start(concurrency=2)
    port = free_port()
    # The second push lands while the first one's sockets may still be
    # binding, worker after worker.
    xds.push_lds(xds.listeners() + [http_listener("extra", port, xds.rds, server_name="first")], "v2")
    xds.push_lds(xds.listeners() + [http_listener("extra", port, xds.rds, server_name="second")], "v3")
    deadline = time.monotonic() + 5
    while xds.stat("listener_manager.total_listeners_active") < 3 or support.is_refused("127.0.0.1", port):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    servers = {get(port).header("server") for _ in range(40)}
    assert servers == {"second"}


@pytest.mark.remora_only("Envoy's file RDS refuses a file without its name and serves at once with no routes; "
                         "Remora's file subscription, like a gRPC one, waits for the name")
def test_listener_warms_until_its_routes_arrive(xds, tmp_path):
    xds.start()
    late_port = free_port()
    late_rds = tmp_path / "late.json"
    push(late_rds, [], "0")
    xds.push_lds(xds.listeners() + [http_listener("late", late_port, late_rds, route_name="r2", stat_prefix="late")], "v2")
    xds.wait_stat("listener_manager.listener_added", 3)
    assert xds.stat("listener_manager.total_listeners_warming") == 1
    assert support.is_refused("127.0.0.1", late_port)
    status, body = xds.p.admin("GET", "/config_dump?resource=dynamic_listeners")
    late = next(i for i in json.loads(body)["configs"] if i["name"] == "late")
    assert "warming_state" in late and "active_state" not in late

    push(late_rds, [routes("b", name="r2")], "1")
    xds.wait_stat("listener_manager.total_listeners_active", 3)
    deadline = time.monotonic() + 5
    while support.is_refused("127.0.0.1", late_port):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert get(late_port).header("x-upstream") == "B"
    assert get(xds.http_port).header("x-upstream") == "A"
    assert xds.stat("listener_manager.total_listeners_warming") == 0


def test_listener_serves_without_routes_after_the_initial_fetch_timeout(xds, tmp_path):
    xds.start()
    late_port = free_port()
    late_rds = tmp_path / "late.json"
    push(late_rds, [], "0")
    late = http_listener("late", late_port, late_rds, route_name="r2", stat_prefix="late")
    late["filter_chains"][0]["filters"][0]["typed_config"]["rds"]["config_source"]["initial_fetch_timeout"] = "1s"
    xds.push_lds(xds.listeners() + [late], "v2")
    xds.wait_stat("listener_manager.total_listeners_active", 3, timeout=5.0)
    deadline = time.monotonic() + 5
    while support.is_refused("127.0.0.1", late_port):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # No route configuration: every request is a 404 (route not found).
    assert get(late_port).status == 404
    assert get(xds.http_port).header("x-upstream") == "A"


# -- NACK -----------------------------------------------------------------------------------

def test_bad_listener_is_nacked_while_traffic_flows_on_the_old_config(xds):
    xds.start()
    bad = tcp_listener("bad", free_port(), "echo")
    bad["filter_chains"][0]["filters"][0]["typed_config"]["stat_prefix"] = ""
    with HttpClient(xds.http_port) as c:
        assert c.request().header("x-upstream") == "A"
        xds.push_lds(xds.listeners() + [bad], "v2")
        xds.wait_stat("listener_manager.lds.update_rejected", 1)
        assert c.request().header("x-upstream") == "A"
    assert xds.stat("listener_manager.lds.update_success") == 1
    # A listener refused at config time was never created, so never failed to be.
    assert xds.stat("listener_manager.listener_create_failure") == 0
    assert xds.stat("listener_manager.listener_added") == 2
    assert "Error adding/updating listener(s) bad: " in xds.p.log_tail(20000)
    status, body = xds.p.admin("GET", "/config_dump?resource=dynamic_listeners")
    items = {i["name"]: i for i in json.loads(body)["configs"] if "name" in i}
    assert set(items) == {"http", "tcp", "bad"}
    assert "active_state" in items["http"]
    bad = items["bad"]
    assert "active_state" not in bad and "warming_state" not in bad
    assert bad["error_state"]["failed_configuration"]["name"] == "bad"
    assert "stat_prefix" in bad["error_state"]["details"].lower().replace("statprefix", "stat_prefix")
    with support.connect("127.0.0.1", xds.tcp_port) as s:
        assert tcp_exchange(s, b"still") == b"still"


def test_listener_whose_address_is_taken_is_nacked(xds):
    """Envoy binds while it applies the update, so an address in use
    refuses the listener (and the update) at once."""
    xds.start()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        xds.push_lds(xds.listeners() + [tcp_listener("busy", port, "echo")], "v2")
        xds.wait_stat("listener_manager.lds.update_rejected", 1)
        stats = xds.p.stats()
        assert stats["listener_manager.listener_create_failure"] == 1
        assert stats["listener_manager.listener_added"] == 2
        assert stats["listener_manager.total_listeners_active"] == 2
        assert f"Error adding/updating listener(s) busy: cannot bind '127.0.0.1:{port}': Address already in use" \
            in xds.p.log_tail(20000)
    assert get(xds.http_port).header("x-upstream") == "A"


def test_bad_route_configuration_is_nacked_and_the_old_table_serves(xds):
    xds.start()
    with HttpClient(xds.http_port) as c:
        assert c.request().header("x-upstream") == "A"
        bad = routes("b")
        bad["validate_clusters"] = True
        bad["virtual_hosts"][0]["routes"][0]["route"]["cluster"] = "missing"
        xds.push_rds([bad], "r2")
        xds.wait_stat("http.ingress.rds.r.update_rejected", 1)
        assert c.request().header("x-upstream") == "A"
    assert xds.stat("http.ingress.rds.r.update_success") == 1
    assert xds.stat("http.ingress.rds.r.config_reload") == 1


def test_tcp_session_on_a_changed_chain_closes_after_the_drain_time(xds):
    xds.start()
    tcp = support.connect("127.0.0.1", xds.tcp_port)
    assert tcp_exchange(tcp, b"one") == b"one"
    changed = tcp_listener("tcp", xds.tcp_port, "echo")
    changed["filter_chains"][0]["filters"][0]["typed_config"]["idle_timeout"] = "30s"
    pushed = time.monotonic()
    xds.push_lds([xds.listeners()[0], changed], "v2")
    xds.wait_stat("listener_manager.listener_modified", 1)
    # Still served while it drains, then closed at the end of the drain time.
    assert tcp_exchange(tcp, b"two") == b"two"
    support.wait_closed(tcp, DRAIN_S + 5.0)
    closed_after = time.monotonic() - pushed
    assert DRAIN_S * 0.8 <= closed_after < DRAIN_S + 5.0
    tcp.close()
    with support.connect("127.0.0.1", xds.tcp_port) as s:
        assert tcp_exchange(s, b"new") == b"new"


def test_drain_listeners_stops_dynamic_listeners(xds):
    p = xds.start()
    assert get(xds.http_port).status == 200
    status, _ = p.admin("POST", "/drain_listeners")
    assert status == 200
    deadline = time.monotonic() + 3
    while not (support.is_refused("127.0.0.1", xds.http_port) and support.is_refused("127.0.0.1", xds.tcp_port)):
        assert time.monotonic() < deadline, "a dynamic listener still accepts after /drain_listeners"
        time.sleep(0.05)
    xds.wait_stat("listener_manager.listener_stopped", 2)
