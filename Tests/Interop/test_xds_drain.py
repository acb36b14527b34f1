"""Listener lifecycle and draining under LDS pushes (ADS, the test control
plane), checked against Envoy 1.40 (PROXY_KIND=envoy) with real peers:
HTTP/1 keep-alive and in flight, HTTP/2 (GOAWAY, streams in flight),
WebSocket (a raw upgrade), TCP proxy sessions.

What Envoy does, and Remora with it:
- A removed listener's sockets stop accepting at once; its connections
  drain (HTTP/1: `connection: close` on the next response, HTTP/2: GOAWAY)
  and whatever is still open at the end of `--drain-time-s` is closed,
  upgraded and TCP connections included.
- `--drain-strategy immediate` drains every connection at the first chance;
  `gradual` (the default) lets each response close its connection with a
  probability that rises from 0 to 1 over the drain time.
- `drain_type: MODIFY_ONLY` only keeps a listener out of `/healthcheck/fail`;
  LDS changes and server-wide drains (`/drain_listeners?graceful`) drain it.
- `/drain_listeners?graceful`: the listeners keep accepting for the drain
  time while their connections drain, then stop (without it at once; with
  `skip_exit` never); `inboundonly` limits both to `traffic_direction:
  INBOUND` listeners; nothing is closed by it and the server stays LIVE.
- A listener warms (does not accept) until its RDS table and SDS secrets
  arrive; a changed one keeps its old version serving while the new warms;
  a NACKed change leaves the old one serving.

Where Remora goes beyond Envoy on purpose (marked remora_only; Envoy's
side is envoy_only): a change outside the filter chains never drains the
connections of chains that did not change (envoyproxy/envoy#8564); a
request still in flight at the end of the drain time finishes (Envoy cuts
it).
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from google.protobuf import json_format

import support
from support import free_port, socket_address
from http_support import HCM_TYPE, HttpClient, Reply, get, http_cluster, route, route_config, router_filter, vhost
from xds_control_plane import LDS, RDS, SDS, ControlPlane
from tls_certs import make_pki
from tls_support import DOWNSTREAM_TLS, client_context, tls_connect
from test_xds_scenarios import workload_secret
from test_xds_listeners import closed_loop, keep_alive_client
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2

h2 = pytest.importorskip("h2")
from h2_support import H2Client  # noqa: E402
import h2.events  # noqa: E402

HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}
ADS = {"ads": {}, "resource_api_version": "V3"}
DRAIN_S = 2
IMMEDIATE = ["--drain-strategy", "immediate"]


# -- config ---------------------------------------------------------------------------

def hcm(server_name: str = "envoy", rds: str | None = None, stat_prefix: str = "ingress", cluster: str = "a",
        **extra) -> dict:
    cfg = {"@type": HCM_TYPE, "stat_prefix": stat_prefix, "codec_type": "AUTO", "server_name": server_name,
           "upgrade_configs": [{"upgrade_type": "websocket"}], "http_filters": [router_filter()]}
    if rds is None:
        cfg["route_config"] = route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])])
    else:
        cfg["rds"] = {"route_config_name": rds, "config_source": ADS}
    cfg.update(extra)
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": cfg}


def http_listener(name: str, port: int, **hcm_kw) -> dict:
    return {"name": name, "address": socket_address("127.0.0.1", port),
            "filter_chains": [{"filters": [hcm(**hcm_kw)]}]}


def tcp_listener(name: str, port: int, cluster: str = "echo", **tcp_kw) -> dict:
    return {"name": name, "address": socket_address("127.0.0.1", port),
            "filter_chains": [{"filters": [support.tcp_proxy_filter(cluster, "tcp_" + name, **tcp_kw)]}]}


def routes(cluster: str, name: str) -> route_pb2.RouteConfiguration:
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])], name=name),
                                 route_pb2.RouteConfiguration())


class Setup:
    """The control plane, two HTTP origins (clusters ``a`` and ``b``; ``a``
    answers WebSocket upgrades and may be slowed), a TCP echo server
    (cluster ``echo``), and the proxy fed over ADS."""

    def __init__(self, proxy, http_upstreams, upstreams):
        self.cp = ControlPlane().start()
        self.delay = 0.0
        self.a = http_upstreams(self._responder("A"), name="A")
        self.b = http_upstreams(self._responder("B"), name="B")
        self.echo = upstreams(support.echo_handler)
        self._proxy = proxy
        self.p = None
        self.version = 0

    def _responder(self, name: str):
        def respond(req):
            if req.header("upgrade", "").lower() == "websocket":
                return Reply(101, [("upgrade", "websocket"), ("connection", "upgrade")], action="upgrade")
            if req.path.startswith("/slow"):
                time.sleep(float(req.query or "1"))
            return Reply(200, [("x-upstream", name)], name.encode())
        return respond

    def start(self, listeners: dict[str, dict], route_tables: dict | None = None, drain_time_s: float = DRAIN_S,
              extra_args=(), wait_ready: bool = True, concurrency: int = 1):
        self.set_listeners(listeners)
        if route_tables:
            self.cp.set(RDS, route_tables)
        xds = support.cluster("xds", [socket_address("127.0.0.1", self.cp.port)])
        xds["typed_extension_protocol_options"] = HTTP2_OPTIONS
        config = support.bootstrap(free_port(), [], [xds, http_cluster("a", [self.a.address]),
                                                     http_cluster("b", [self.b.address]),
                                                     support.cluster("echo", [self.echo.address])])
        config["node"] = {"id": "sidecar~1", "cluster": "mesh"}
        config["dynamic_resources"] = {
            "ads_config": {"api_type": "GRPC", "transport_api_version": "V3",
                           "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]},
            "lds_config": ADS,
        }
        self.p = self._proxy(config, drain_time_s=drain_time_s, extra_args=list(extra_args), wait_ready=wait_ready,
                             concurrency=concurrency)
        return self.p

    def set_listeners(self, listeners: dict[str, dict]) -> None:
        gone = [name for name in getattr(self, "names", set()) if name not in listeners]
        if gone:
            self.cp.remove(LDS, gone)
        self.names = set(listeners)
        self.cp.set(LDS, {name: json_format.ParseDict(l, listener_pb2.Listener()) for name, l in listeners.items()})

    def push_listeners(self, listeners: dict[str, dict], ack: bool = True) -> None:
        """Sends exactly ``listeners`` (state of the world) and waits for the
        answer (an ACK, or a NACK with ``ack`` false)."""
        before = len(self.cp.requests)
        self.set_listeners(listeners)
        self.cp.push(LDS)
        self.cp.wait_for(lambda r: r.type_url == LDS and (r.is_ack if ack else r.is_nack)
                         and r in self.cp.requests[before:], timeout=10)

    def stat(self, name: str) -> int:
        return self.p.stats().get(name, 0)

    def wait_stat(self, name: str, value: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stat(name) != value:
            assert time.monotonic() < deadline, f"{name} is {self.stat(name)}, not {value}"
            time.sleep(0.05)

    def close(self) -> None:
        self.cp.stop()


@pytest.fixture
def xds(proxy, http_upstreams, upstreams):
    s = Setup(proxy, http_upstreams, upstreams)
    yield s
    s.close()


# -- peers ----------------------------------------------------------------------------

def websocket(port: int) -> HttpClient:
    """A WebSocket through the proxy (a raw HTTP/1.1 upgrade; the origin echoes)."""
    c = HttpClient(port)
    c.send(b"GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert c.read_response().status == 101
    return c


def ws_echo(c: HttpClient, data: bytes) -> bytes:
    c.send(data)
    return c.recv_exact(len(data))


def tcp_echo(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    return support.recv_exact(sock, len(data))


def wait_refused(port: int, timeout: float = 3.0) -> float:
    start = time.monotonic()
    while not support.is_refused("127.0.0.1", port):
        assert time.monotonic() - start < timeout, f"port {port} still accepts"
        time.sleep(0.02)
    return time.monotonic() - start


def wait_accepting(port: int, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while support.is_refused("127.0.0.1", port):
        assert time.monotonic() < deadline, f"port {port} still refuses"
        time.sleep(0.02)


def h2_response(client: H2Client, sid: int, timeout: float = 5.0) -> dict:
    client.pump(timeout, until=lambda ev: client.stream_ended(sid) or client.closed)
    for e in client.events:
        if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
            return dict(e.headers)
    return {}


# -- a removed listener ---------------------------------------------------------------

def test_removed_listener_refuses_at_once_and_closes_its_connections_at_the_end_of_the_drain_time(xds):
    http_port, tcp_port = free_port(), free_port()
    xds.start({"http": http_listener("http", http_port), "tcp": tcp_listener("tcp", tcp_port)}, extra_args=IMMEDIATE)
    keepalive = HttpClient(http_port)
    assert keepalive.request().header("x-upstream") == "A"
    idle = HttpClient(http_port)
    assert idle.request().status == 200
    ws = websocket(http_port)
    assert ws_echo(ws, b"before") == b"before"
    tcp = support.connect("127.0.0.1", tcp_port)
    assert tcp_echo(tcp, b"before") == b"before"
    h2c = H2Client(http_port)
    assert h2_response(h2c, h2c.request("/"))[":status"] == "200"

    removed_at = time.monotonic()
    xds.push_listeners({})
    # Its sockets stop accepting at once.
    wait_refused(http_port)
    wait_refused(tcp_port)
    stats = xds.p.stats()
    assert stats["listener_manager.listener_removed"] == 2
    assert stats["listener_manager.total_listeners_draining"] == 2
    assert stats["listener_manager.total_listeners_active"] == 0
    # Its connections go on while they drain: HTTP/1 answers with
    # connection: close, the upgraded and TCP connections keep flowing.
    r = keepalive.request()
    assert r.status == 200 and r.header("connection") == "close"
    assert ws_echo(ws, b"during") == b"during"
    assert tcp_echo(tcp, b"during") == b"during"
    assert time.monotonic() - removed_at < DRAIN_S * 0.8, "too slow to check the drain"
    # At the end of the drain time, every connection still open is closed
    # (Envoy keeps an HTTP/1 connection that answered `connection: close`
    # open until its drain_timeout or the end of the drain; Remora closes
    # it after that response).
    waits = {"tcp": lambda t: support.wait_closed(tcp, t), "websocket": ws.wait_closed, "idle": idle.wait_closed,
             "http2": lambda t: h2c.pump(t, until=lambda ev: h2c.closed)}
    for name, wait in waits.items():
        wait(max(removed_at + DRAIN_S + 3.0 - time.monotonic(), 0.1))
        assert time.monotonic() - removed_at >= DRAIN_S * 0.8, f"{name} closed before the drain time"
    assert h2c.closed
    keepalive.wait_closed(timeout=1.0)
    xds.wait_stat("listener_manager.total_listeners_draining", 0)
    for c in (keepalive, idle, ws, h2c):
        c.close()
    tcp.close()


def test_listener_re_added_while_its_old_self_drains(xds):
    """Removed, then added again with the same name and address before the
    old one's drain time is over: the new one accepts with its config, the
    old one's connections keep draining and close at the end of its drain."""
    port = free_port()
    xds.start({"tcp": tcp_listener("tcp", port)}, extra_args=IMMEDIATE, drain_time_s=3)
    old = support.connect("127.0.0.1", port)
    assert tcp_echo(old, b"old") == b"old"
    removed_at = time.monotonic()
    xds.push_listeners({})
    wait_refused(port)
    xds.push_listeners({"tcp": http_listener("tcp", port)})
    xds.wait_stat("listener_manager.total_listeners_active", 1)
    wait_accepting(port)
    assert get(port).header("x-upstream") == "A"
    assert xds.stat("listener_manager.total_listeners_draining") == 1
    assert tcp_echo(old, b"still") == b"still"
    support.wait_closed(old, removed_at + 3 + 3.0 - time.monotonic())
    assert time.monotonic() - removed_at >= 3 * 0.8
    old.close()
    assert get(port).status == 200
    xds.wait_stat("listener_manager.total_listeners_draining", 0)


@pytest.mark.remora_only("Envoy cuts a request still in flight at the end of the drain time; Remora lets it "
                         "finish and closes the connection after its response")
def test_request_in_flight_at_the_end_of_the_drain_time_finishes(xds):
    port = free_port()
    xds.start({"http": http_listener("http", port)}, drain_time_s=1)
    h1 = HttpClient(port)
    assert h1.request().status == 200
    h2c = H2Client(port)
    assert h2_response(h2c, h2c.request("/"))[":status"] == "200"
    h1.send(b"GET /slow?2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    slow = h2c.request("/slow?2")
    time.sleep(0.2)
    xds.push_listeners({})
    r = h1.read_response()
    assert r.status == 200 and r.header("connection") == "close"
    h1.wait_closed(timeout=2.0)
    frames = h2c.raw_frames(4.0)
    assert any(f[0] == 0x7 for f in frames), frames  # GOAWAY
    assert any(f[0] == 0x1 and f[2] == slow for f in frames), frames
    assert any(f[0] == 0x0 and f[2] == slow and f[1] & 0x1 for f in frames), frames  # its last DATA
    assert h2c.closed
    h1.close()
    h2c.close()


@pytest.mark.envoy_only("what Remora does not copy: Envoy cuts a request in flight at the end of the drain time")
def test_envoy_cuts_a_request_in_flight_at_the_end_of_the_drain_time(xds):
    port = free_port()
    xds.start({"http": http_listener("http", port)}, drain_time_s=1)
    h1 = HttpClient(port)
    assert h1.request().status == 200
    h1.send(b"GET /slow?2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    time.sleep(0.2)
    xds.push_listeners({})
    with pytest.raises(Exception):
        h1.read_response()
    h1.close()


# -- a modified listener --------------------------------------------------------------

def test_changed_chain_http1_gets_connection_close_and_http2_a_goaway_with_its_stream_in_flight_completing(xds):
    port = free_port()
    xds.start({"http": http_listener("http", port)}, extra_args=IMMEDIATE, drain_time_s=3)
    keepalive = HttpClient(port)
    assert keepalive.request().header("server") == "envoy"
    h2c = H2Client(port)
    assert h2_response(h2c, h2c.request("/"))[":status"] == "200"
    slow = h2c.request("/slow?1")
    time.sleep(0.2)
    pushed = time.monotonic()
    xds.push_listeners({"http": http_listener("http", port, server_name="changed")})
    # New connections take the new chain at once, on the same socket.
    assert get(port).header("server") == "changed"
    # Only the chain changed: an in-place update, one filter chain draining.
    stats = xds.p.stats()
    assert stats["listener_manager.listener_in_place_updated"] == 1
    assert stats["listener_manager.total_filter_chains_draining"] == 1
    assert stats["listener_manager.total_listeners_draining"] == 0
    r = keepalive.request()
    assert r.status == 200 and r.header("server") == "envoy" and r.header("connection") == "close"
    # HTTP/2: a GOAWAY (graceful: the last stream id is 2^31-1) comes no
    # later than the stream in flight's response, which completes.
    frames = h2c.raw_frames(3 + 2.0)
    goaways = [i for i, f in enumerate(frames) if f[0] == 0x7]
    headers = [i for i, f in enumerate(frames) if f[0] == 0x1 and f[2] == slow]
    ended = [f for f in frames if f[0] == 0x0 and f[2] == slow and f[1] & 0x1]
    assert goaways and headers and goaways[0] < headers[0], frames
    assert int.from_bytes(frames[goaways[0]][3][:4], "big") & 0x7FFFFFFF == 0x7FFFFFFF
    assert ended, frames
    assert h2c.closed and time.monotonic() - pushed < 3 + 2.0
    keepalive.close()
    h2c.close()


def test_unchanged_listener_keeps_its_connections(xds):
    """An update that adds a listener and leaves this one as it was drains nothing."""
    port, tcp_port = free_port(), free_port()
    xds.start({"http": http_listener("http", port), "tcp": tcp_listener("tcp", tcp_port)}, extra_args=IMMEDIATE)
    ws = websocket(port)
    keepalive = HttpClient(port)
    assert keepalive.request().status == 200
    xds.push_listeners({"http": http_listener("http", port), "tcp": tcp_listener("tcp", tcp_port),
                        "extra": tcp_listener("extra", free_port())})
    assert_kept_past_the_drain_time(ws, keepalive)


def assert_kept_past_the_drain_time(ws: HttpClient, keepalive: HttpClient) -> None:
    """Past the drain time, the WebSocket still echoes and the keep-alive
    connection is still answered, without `connection: close`."""
    time.sleep(DRAIN_S + 0.5)
    assert ws_echo(ws, b"kept") == b"kept"
    r = keepalive.request()
    assert r.status == 200 and r.header("connection") is None
    ws.close()
    keepalive.close()


def listener_level_change_with_a_websocket(xds) -> tuple[HttpClient, HttpClient]:
    """A WebSocket and a keep-alive client, then a change outside the
    listener's only chain. The gauges say what Envoy's say: the old
    listener drains."""
    port = free_port()
    xds.start({"http": http_listener("http", port)}, extra_args=IMMEDIATE)
    ws = websocket(port)
    keepalive = HttpClient(port)
    assert keepalive.request().status == 200
    xds.push_listeners({"http": dict(http_listener("http", port), per_connection_buffer_limit_bytes=65536)})
    assert xds.stat("listener_manager.listener_modified") == 1
    assert xds.stat("listener_manager.total_listeners_draining") == 1
    return ws, keepalive


@pytest.mark.remora_only("envoyproxy/envoy#8564: a change outside the filter chains drains every connection of the "
                         "listener in Envoy; Remora keeps those of chains that did not change")
def test_listener_level_change_never_drains_an_unchanged_chain(xds):
    ws, keepalive = listener_level_change_with_a_websocket(xds)
    assert xds.stat("listener_manager.listener_in_place_updated") == 0
    assert_kept_past_the_drain_time(ws, keepalive)


@pytest.mark.envoy_only("the other side of envoyproxy/envoy#8564, which Remora does not copy")
def test_envoy_drains_an_unchanged_chain_on_a_listener_level_change(xds):
    ws, keepalive = listener_level_change_with_a_websocket(xds)
    assert keepalive.request().header("connection") == "close"
    ws.wait_closed(timeout=DRAIN_S + 3.0)
    ws.close()
    keepalive.close()


def test_address_change_moves_the_listener_and_drains_the_old_connections(xds):
    old_port, new_port = free_port(), free_port()
    xds.start({"http": http_listener("http", old_port)}, extra_args=IMMEDIATE)
    keepalive = HttpClient(old_port)
    assert keepalive.request().status == 200
    xds.push_listeners({"http": http_listener("http", new_port, server_name="moved")})
    wait_refused(old_port)
    assert get(new_port).header("server") == "moved"
    assert xds.stat("listener_manager.total_listeners_draining") == 1
    r = keepalive.request()
    assert r.status == 200 and r.header("server") == "envoy" and r.header("connection") == "close"
    keepalive.close()


def test_tcp_session_on_a_changed_chain_runs_until_the_end_of_the_drain_time(xds):
    port = free_port()
    xds.start({"tcp": tcp_listener("tcp", port)}, extra_args=IMMEDIATE, drain_time_s=3)
    tcp = support.connect("127.0.0.1", port)
    assert tcp_echo(tcp, b"one") == b"one"
    pushed = time.monotonic()
    xds.push_listeners({"tcp": tcp_listener("tcp", port, idle_timeout="30s")})
    time.sleep(1.0)
    assert tcp_echo(tcp, b"two") == b"two"
    support.wait_closed(tcp, 3 + 3.0)
    assert 3 * 0.8 <= time.monotonic() - pushed < 3 + 3.0
    tcp.close()
    with support.connect("127.0.0.1", port) as s:
        assert tcp_echo(s, b"new") == b"new"


# -- drain strategies -----------------------------------------------------------------

@pytest.mark.parametrize("strategy", ["gradual", "immediate"])
def test_drain_strategy(xds, strategy):
    """Immediate: every response after the change closes its connection.
    Gradual: none in the first second of the drain (P = elapsed whole
    seconds / drain time), some before the drain time is over."""
    port = free_port()
    drain_s = 4
    xds.start({"http": http_listener("http", port)}, extra_args=["--drain-strategy", strategy], drain_time_s=drain_s)
    status, body = xds.p.admin("GET", "/server_info")
    options = json.loads(body)["command_line_options"]
    assert options["drain_strategy"] == strategy.capitalize() and options["drain_time"] == f"{drain_s}s"
    clients = [HttpClient(port) for _ in range(12)]
    for c in clients:
        assert c.request().status == 200
    pushed = time.monotonic()
    xds.push_listeners({"http": http_listener("http", port, server_name="changed")})
    first = [c.request().header("connection") for c in clients]
    assert time.monotonic() - pushed < 0.9, "too slow to check the first second"
    if strategy == "immediate":
        assert first == ["close"] * len(clients)
    else:
        assert first == [None] * len(clients)
        # After 2.5 s each response closes with P = 2/4: twelve that all
        # stay open would happen once in 4096 runs.
        time.sleep(max(0.0, pushed + 2.5 - time.monotonic()))
        later = [c.request().header("connection") for c in clients]
        assert "close" in later
    assert xds.stat("http.ingress.downstream_cx_drain_close") >= (12 if strategy == "immediate" else 1)
    for c in clients:
        c.close()


@pytest.mark.deadline(60)
@pytest.mark.parametrize("strategy", ["gradual", "immediate"])
def test_keep_alive_clients_under_load_lose_nothing_across_listener_changes(xds, strategy):
    """Closed-loop keep-alive clients (a new connection after each
    `connection: close`) while the listener's chain changes four times: no
    request fails, and the last chain serves in the end."""
    port = free_port()
    xds.start({"http": http_listener("http", port)}, extra_args=["--drain-strategy", strategy], drain_time_s=3,
              concurrency=2)

    def pushes():
        for i in range(4):
            time.sleep(0.5)
            xds.push_listeners({"http": http_listener("http", port, server_name=f"v{i}")})
        time.sleep(3 + 1.0)

    results = closed_loop(keep_alive_client(port), "server", pushes, clients=3)
    assert results["failed"] == []
    assert results["ok"] > 100
    assert "v3" in results["seen"]
    assert xds.stat("http.ingress.downstream_cx_drain_close") >= 3


# -- drain_type -----------------------------------------------------------------------

def test_modify_only_listener_drains_on_changes_and_server_drains_but_not_on_health_check_fail(xds):
    ports = {"default": free_port(), "modify": free_port()}
    listeners = {"default": http_listener("default", ports["default"], stat_prefix="default"),
                 "modify": dict(http_listener("modify", ports["modify"], stat_prefix="modify"), drain_type="MODIFY_ONLY")}
    xds.start(listeners, extra_args=IMMEDIATE)
    clients = {name: HttpClient(port) for name, port in ports.items()}
    try:
        assert xds.p.admin("POST", "/healthcheck/fail")[0] == 200
        assert clients["default"].request().header("connection") == "close"
        assert clients["modify"].request().header("connection") is None
        assert xds.p.admin("POST", "/healthcheck/ok")[0] == 200
        # An LDS change drains it.
        xds.push_listeners({"default": listeners["default"],
                            "modify": dict(listeners["modify"], filter_chains=[{"filters": [
                                hcm(server_name="changed", stat_prefix="modify")]}])})
        assert clients["modify"].request().header("connection") == "close"
        # So does a server-wide drain (Envoy's listener drain managers follow
        # the server's whatever their drain_type).
        again = HttpClient(ports["modify"])
        assert again.request().header("server") == "changed"
        assert xds.p.admin("POST", "/drain_listeners?graceful&skip_exit") == (200, b"OK\n")
        assert again.request().header("connection") == "close"
        again.close()
    finally:
        xds.p.admin("POST", "/healthcheck/ok")
        for c in clients.values():
            c.close()


# -- /drain_listeners -----------------------------------------------------------------

def three_listeners() -> tuple[dict[str, int], dict[str, dict]]:
    ports = {"in": free_port(), "out": free_port(), "tcp": free_port()}
    return ports, {"in": dict(http_listener("in", ports["in"], stat_prefix="in"), traffic_direction="INBOUND"),
                   "out": dict(http_listener("out", ports["out"], stat_prefix="out"), traffic_direction="OUTBOUND"),
                   "tcp": dict(tcp_listener("tcp", ports["tcp"]), traffic_direction="INBOUND")}


def test_graceful_drain_listeners_keeps_accepting_for_the_drain_time_then_stops(xds):
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE, drain_time_s=3)
    idle = HttpClient(ports["in"])
    assert idle.request().status == 200
    tcp = support.connect("127.0.0.1", ports["tcp"])
    assert tcp_echo(tcp, b"one") == b"one"
    started = time.monotonic()
    assert xds.p.admin("POST", "/drain_listeners?graceful") == (200, b"OK\n")
    # The listeners go on accepting; what they serve is drained.
    for name in ("in", "out"):
        r = get(ports[name])
        assert r.status == 200 and r.header("connection") == "close", name
    assert xds.p.admin("GET", "/ready") == (200, b"LIVE\n")
    assert xds.stat("server.state") == 0
    # A second graceful drain while this one runs changes nothing.
    assert xds.p.admin("POST", "/drain_listeners?graceful") == (200, b"OK\n")
    for port in ports.values():
        wait_refused(port, timeout=3 + 3.0)
    assert time.monotonic() - started >= 3 * 0.8
    xds.wait_stat("listener_manager.listener_stopped", 3)
    # Stopping a listener leaves its connections alone.
    assert idle.is_open(0.3) and tcp_echo(tcp, b"two") == b"two"
    assert xds.p.admin("GET", "/ready") == (200, b"LIVE\n")
    idle.close()
    tcp.close()


def test_drain_listeners_tells_a_new_http2_connection_with_goaway(xds):
    """An HTTP/2 connection accepted while /drain_listeners?graceful runs
    is told: GOAWAY comes with (or before) its first response, which is served."""
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE, drain_time_s=3)
    assert xds.p.admin("POST", "/drain_listeners?graceful") == (200, b"OK\n")
    h2c = H2Client(ports["in"])
    sid = h2c.request("/")
    frames = h2c.raw_frames(1.0)
    goaways = [i for i, f in enumerate(frames) if f[0] == 0x7]
    headers = [i for i, f in enumerate(frames) if f[0] == 0x1 and f[2] == sid]
    assert goaways and headers and goaways[0] < headers[0], frames
    h2c.close()


def test_drain_listeners_inboundonly_drains_and_stops_only_inbound_listeners(xds):
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE, drain_time_s=2)
    clients = {name: HttpClient(ports[name]) for name in ("in", "out")}
    for c in clients.values():
        assert c.request().status == 200
    assert xds.p.admin("POST", "/drain_listeners?graceful&inboundonly") == (200, b"OK\n")
    assert clients["in"].request().header("connection") == "close"
    assert clients["out"].request().header("connection") is None
    wait_refused(ports["in"], timeout=2 + 3.0)
    wait_refused(ports["tcp"], timeout=1.0)
    assert get(ports["out"]).header("connection") is None
    xds.wait_stat("listener_manager.listener_stopped", 2)
    for c in clients.values():
        c.close()


def drain_listeners_with_a_keepalive(xds, query: str, drain_time_s: int) -> tuple[dict[str, int], HttpClient]:
    """The three listeners (immediate strategy), a keep-alive client of the
    outbound one, then POST /drain_listeners<query>: the client's next
    response closes its connection."""
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE, drain_time_s=drain_time_s)
    keepalive = HttpClient(ports["out"])
    assert keepalive.request().status == 200
    assert xds.p.admin("POST", "/drain_listeners" + query) == (200, b"OK\n")
    assert keepalive.request().header("connection") == "close"
    return ports, keepalive


def test_drain_listeners_without_graceful_drains_and_stops_at_once(xds):
    ports, keepalive = drain_listeners_with_a_keepalive(xds, "", drain_time_s=30)
    for port in ports.values():
        wait_refused(port, timeout=2.0)
    xds.wait_stat("listener_manager.listener_stopped", 3)
    keepalive.close()


def test_drain_listeners_skip_exit_drains_and_never_stops(xds):
    ports, keepalive = drain_listeners_with_a_keepalive(xds, "?skip_exit", drain_time_s=1)
    time.sleep(1.5)
    for name in ("in", "out"):
        r = get(ports[name])
        assert r.status == 200 and r.header("connection") == "close"
    with support.connect("127.0.0.1", ports["tcp"]) as s:
        assert tcp_echo(s, b"on") == b"on"
    assert xds.stat("listener_manager.listener_stopped") == 0
    keepalive.close()


def test_drain_listeners_with_health_check_fail_keeps_server_state_live_and_the_listeners_listed(xds):
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE, drain_time_s=2)
    assert xds.p.admin("POST", "/healthcheck/fail")[0] == 200
    assert get(ports["out"]).header("connection") == "close"
    assert xds.p.admin("GET", "/ready") == (503, b"DRAINING\n")
    assert xds.p.admin("POST", "/drain_listeners?graceful") == (200, b"OK\n")
    for port in ports.values():
        wait_refused(port, timeout=2 + 3.0)
    stats = xds.p.stats()
    # server.state is the init state (LIVE); health-check failure shows in server.live.
    assert stats["server.state"] == 0 and stats["server.live"] == 0
    assert stats["listener_manager.listener_stopped"] == 3
    assert stats["listener_manager.total_listeners_active"] == 3
    assert stats["listener_manager.total_listeners_draining"] == 0
    assert xds.p.admin("POST", "/healthcheck/ok")[0] == 200
    assert xds.p.admin("GET", "/ready") == (200, b"LIVE\n")
    xds.wait_stat("server.live", 1)
    # Stopped listeners stay stopped, and listed.
    assert support.is_refused("127.0.0.1", ports["out"])
    status, body = xds.p.admin("GET", "/listeners")
    assert status == 200 and {line.split("::")[0] for line in body.decode().splitlines()} == {"in", "out", "tcp"}


def test_drain_listeners_reaches_in_place_updates_but_not_listeners_added_or_replaced_later(xds):
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE, drain_time_s=20)
    assert xds.p.admin("POST", "/drain_listeners?skip_exit") == (200, b"OK\n")
    assert get(ports["in"]).header("connection") == "close"
    added = free_port()
    xds.push_listeners(dict(
        listeners, added=http_listener("added", added, stat_prefix="added"),
        # Only the chain changes: an in-place update, still draining.
        **{"in": dict(http_listener("in", ports["in"], stat_prefix="in", server_name="changed"), traffic_direction="INBOUND"),
           # A change outside the chains: a new listener, not draining.
           "out": dict(listeners["out"], per_connection_buffer_limit_bytes=65536)}))
    deadline = time.monotonic() + 3
    while (r := get(ports["in"])).header("server") != "changed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert r.header("connection") == "close"
    assert get(added).header("connection") is None
    assert get(ports["out"]).header("connection") is None


def test_listeners_stopped_by_drain_listeners_take_no_lds_add_or_update(xds):
    """After `/drain_listeners?inboundonly` stopped the inbound listeners, an
    LDS update that adds or changes inbound listeners skips them (ACKed, not
    counted); outbound ones are added as usual."""
    ports, listeners = three_listeners()
    xds.start(listeners, extra_args=IMMEDIATE)
    assert xds.p.admin("POST", "/drain_listeners?inboundonly") == (200, b"OK\n")
    wait_refused(ports["in"])
    inbound, outbound = free_port(), free_port()
    xds.push_listeners(dict(
        listeners,
        added_in=dict(http_listener("added_in", inbound, stat_prefix="added_in"), traffic_direction="INBOUND"),
        added_out=dict(http_listener("added_out", outbound, stat_prefix="added_out"), traffic_direction="OUTBOUND"),
        **{"in": dict(http_listener("in", ports["in"], stat_prefix="in", server_name="changed"),
                      traffic_direction="INBOUND")}))
    wait_accepting(outbound)
    stats = xds.p.stats()
    assert stats["listener_manager.listener_added"] == 4
    assert stats["listener_manager.listener_modified"] == 0
    assert stats["listener_manager.total_listeners_active"] == 4
    assert support.is_refused("127.0.0.1", inbound) and support.is_refused("127.0.0.1", ports["in"])
    assert xds.stat("listener_manager.lds.update_rejected") == 0


def test_graceful_drain_is_gradual_by_default(xds):
    """No response closes its connection in the first second of a gradual
    drain; the drain reaches connections accepted during it too."""
    ports, listeners = three_listeners()
    xds.start(listeners, drain_time_s=20)
    clients = [HttpClient(ports["in"]) for _ in range(8)]
    for c in clients:
        assert c.request().status == 200
    started = time.monotonic()
    assert xds.p.admin("POST", "/drain_listeners?graceful") == (200, b"OK\n")
    assert [c.request().header("connection") for c in clients] == [None] * 8
    assert get(ports["in"]).header("connection") is None
    assert time.monotonic() - started < 0.9, "too slow to check the first second"
    for c in clients:
        c.close()


# -- warming --------------------------------------------------------------------------

def test_new_listener_warms_until_its_route_table_arrives(xds):
    port = free_port()
    xds.start({"http": http_listener("http", port, rds="r1")}, route_tables={}, wait_ready=False)
    xds.cp.wait_for(lambda r: r.type_url == RDS and "r1" in r.names)
    time.sleep(0.5)
    assert support.is_refused("127.0.0.1", port)
    xds.cp.set(RDS, {"r1": routes("b", "r1")})
    xds.cp.push(RDS)
    xds.p.wait_ready()
    assert get(port).header("x-upstream") == "B"


def test_changed_listener_serves_its_old_version_while_the_new_one_warms(xds):
    port = free_port()
    xds.start({"http": http_listener("http", port, rds="r1")}, route_tables={"r1": routes("a", "r1")}, extra_args=IMMEDIATE)
    keepalive = HttpClient(port)
    assert keepalive.request().header("x-upstream") == "A"
    # The new version names a table not sent yet: it warms, the old serves.
    xds.push_listeners({"http": http_listener("http", port, rds="r2", server_name="v2")})
    xds.wait_stat("listener_manager.total_listeners_warming", 1)
    r = keepalive.request()
    assert r.header("x-upstream") == "A" and r.header("connection") is None
    assert get(port).header("server") == "envoy"
    # A modify of the warming one replaces it: still the old serves.
    xds.push_listeners({"http": http_listener("http", port, rds="r2", server_name="v3")})
    assert get(port).header("server") == "envoy"
    xds.cp.set(RDS, {"r2": routes("b", "r2")})
    xds.cp.push(RDS)
    xds.wait_stat("listener_manager.total_listeners_warming", 0)
    deadline = time.monotonic() + 3
    while (r := get(port)).header("server") != "v3":
        assert time.monotonic() < deadline, r.headers
        time.sleep(0.05)
    assert r.header("x-upstream") == "B"
    assert keepalive.request().header("connection") == "close"
    keepalive.close()


def test_change_back_to_the_active_version_drops_the_warming_one(xds):
    port = free_port()
    v1 = http_listener("http", port, rds="r1")
    xds.start({"http": v1}, route_tables={"r1": routes("a", "r1")}, extra_args=IMMEDIATE)
    keepalive = HttpClient(port)
    assert keepalive.request().status == 200
    xds.push_listeners({"http": http_listener("http", port, rds="r2", server_name="v2")})
    xds.wait_stat("listener_manager.total_listeners_warming", 1)
    xds.push_listeners({"http": v1})
    xds.wait_stat("listener_manager.total_listeners_warming", 0)
    assert xds.stat("listener_manager.listener_modified") == 2
    # The table v2 waited for comes late: nothing changes.
    xds.cp.set(RDS, {"r2": routes("b", "r2")})
    xds.cp.push(RDS)
    time.sleep(0.5)
    r = keepalive.request()
    assert r.status == 200 and r.header("connection") is None and r.header("x-upstream") == "A"
    assert get(port).header("server") == "envoy"
    keepalive.close()


def test_warming_listener_removed_never_serves(xds):
    port, other = free_port(), free_port()
    xds.start({"tcp": tcp_listener("tcp", other)})
    xds.push_listeners({"tcp": tcp_listener("tcp", other), "late": http_listener("late", port, rds="never")})
    xds.wait_stat("listener_manager.total_listeners_warming", 1)
    xds.push_listeners({"tcp": tcp_listener("tcp", other)})
    xds.wait_stat("listener_manager.total_listeners_warming", 0)
    stats = xds.p.stats()
    assert stats["listener_manager.listener_removed"] == 1
    assert stats["listener_manager.total_listeners_draining"] == 0
    assert stats["listener_manager.total_listeners_active"] == 1
    assert support.is_refused("127.0.0.1", port)


def test_listener_warms_until_its_sds_secret_arrives(xds, tmp_path):
    pki = make_pki(tmp_path / "pki")
    port = free_port()
    listener = http_listener("https", port)
    listener["filter_chains"][0]["transport_socket"] = {
        "name": "envoy.transport_sockets.tls", "typed_config": {"@type": DOWNSTREAM_TLS, "common_tls_context": {
            "tls_certificate_sds_secret_configs": [{"name": "workload", "sds_config": ADS}]}}}
    xds.start({"https": listener}, wait_ready=False)
    xds.cp.wait_for(lambda r: r.type_url == SDS and "workload" in r.names)
    time.sleep(0.5)
    assert support.is_refused("127.0.0.1", port)
    xds.cp.set(SDS, {"workload": workload_secret(pki, "server", "server")})
    xds.cp.push(SDS)
    xds.p.wait_ready()
    with tls_connect(port, client_context(pki, cert=None, verify=False)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")


def test_listener_waits_for_its_sds_secret_only_until_the_initial_fetch_timeout(xds):
    port = free_port()
    listener = http_listener("https", port)
    source = dict(ADS, initial_fetch_timeout="1s")
    listener["filter_chains"][0]["transport_socket"] = {
        "name": "envoy.transport_sockets.tls", "typed_config": {"@type": DOWNSTREAM_TLS, "common_tls_context": {
            "tls_certificate_sds_secret_configs": [{"name": "never", "sds_config": source}]}}}
    started = time.monotonic()
    xds.start({"https": listener}, wait_ready=False)
    xds.p.wait_ready(timeout=10)
    assert time.monotonic() - started >= 0.8
    # It accepts; without a certificate no handshake completes.
    wait_accepting(port)
    assert xds.stat("listener_manager.total_listeners_active") == 1


def test_nacked_change_leaves_the_old_listener_serving(xds):
    port = free_port()
    xds.start({"http": http_listener("http", port)}, extra_args=IMMEDIATE)
    keepalive = HttpClient(port)
    assert keepalive.request().status == 200
    bad = http_listener("http", port)
    bad["filter_chains"][0]["filters"][0]["typed_config"]["stat_prefix"] = ""
    xds.push_listeners({"http": bad}, ack=False)
    assert xds.stat("listener_manager.lds.update_rejected") == 1
    r = keepalive.request()
    assert r.status == 200 and r.header("connection") is None
    assert get(port).header("server") == "envoy"
    keepalive.close()
