"""Original destinations: the ``envoy.filters.listener.original_dst``
listener filter, ``use_original_dst`` hand-offs to (``bind_to_port: false``)
listeners, ``ORIGINAL_DST`` clusters and ``upstream_bind_config``.

A real redirect needs iptables: those tests make a network namespace of
their own, give its loopback the address 10.200.0.2, run the proxy and the
servers in it, and REDIRECT to port 15001 only the connections the test's
client marks (SO_MARK), so that the proxy's own upstream connections to
10.200.0.2 are not redirected back to it.  They are skipped, with the
reason, when not root or when ``ip netns``/iptables do not work.  The other
tests use 127.0.0.1 only.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

import http_support
from http_support import hcm_filter, route, route_config, vhost
from support import (TcpServer, bootstrap, cluster, connect, filter_chain, free_port, ident_echo_handler, listener,
                     recv_exact, recv_line, run_validate, socket_address, wait_closed)

ORIGINAL_DST_FILTER = {
    "name": "envoy.filters.listener.original_dst",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"},
}
APP_IP = "10.200.0.2"
APP_IP6 = "fd00:200::2"
CAPTURE_PORT = 15001
MARK = 0x539
SO_MARK = 36
CLONE_NEWNET = 0x40000000


def original_dst_cluster(name: str, **extra) -> dict:
    c = {"name": name, "type": "ORIGINAL_DST", "lb_policy": "CLUSTER_PROVIDED", "connect_timeout": "1s"}
    c.update(extra)
    return c


# ---------------------------------------------------------------------------
# a network namespace with an iptables REDIRECT
# ---------------------------------------------------------------------------


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=20)


class Namespace:
    """The test's own network namespace, entered by the calling thread (and
    so by every socket, thread and process the test makes after it)."""

    def __init__(self):
        self.name = f"rmod-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._home: int | None = None
        self.ipv6_problem: str | None = None

    def create(self) -> str | None:
        """Sets the namespace up; returns why it cannot be, or None."""
        if os.geteuid() != 0:
            return "needs root (network namespace and iptables)"
        if shutil.which("ip") is None or shutil.which("iptables") is None:
            return "needs ip (iproute2) and iptables"
        r = _run("ip", "netns", "add", self.name)
        if r.returncode != 0:
            return f"ip netns add failed: {r.stderr.strip()}"
        for argv in (["ip", "link", "set", "lo", "up"],
                     ["ip", "addr", "add", f"{APP_IP}/32", "dev", "lo"],
                     ["iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", APP_IP,
                      "-m", "mark", "--mark", str(MARK), "-j", "REDIRECT", "--to-ports", str(CAPTURE_PORT)]):
            r = _run("ip", "netns", "exec", self.name, *argv)
            if r.returncode != 0:
                return f"{' '.join(argv)} failed in the namespace: {r.stderr.strip()}"
        for argv in (["ip", "-6", "addr", "add", f"{APP_IP6}/128", "dev", "lo", "nodad"],
                     ["ip6tables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", APP_IP6,
                      "-m", "mark", "--mark", str(MARK), "-j", "REDIRECT", "--to-ports", str(CAPTURE_PORT)]):
            r = _run("ip", "netns", "exec", self.name, *argv)
            if r.returncode != 0:
                self.ipv6_problem = f"{' '.join(argv)} failed in the namespace: {r.stderr.strip()}"
                break
        return None

    def enter(self) -> None:
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if self._libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)

    def leave(self) -> None:
        if self._home is not None:
            self._libc.setns(self._home, CLONE_NEWNET)
            os.close(self._home)
            self._home = None

    def delete(self) -> None:
        _run("ip", "netns", "del", self.name)


@pytest.fixture
def netns():
    ns = Namespace()
    reason = ns.create()
    if reason is not None:
        ns.delete()
        pytest.skip(f"no redirect test: {reason}")
    ns.enter()
    try:
        yield ns
    finally:
        ns.leave()
        ns.delete()


def app_handler(ident: str, http: bool = False):
    """A server on APP_IP (inside the namespace) that answers each
    connection with ``<ident> <its own local address>\n`` and then echoes;
    with ``http``, as the body of a 200 to the first request."""

    def handle(conn: socket.socket, server: TcpServer) -> None:
        host, port = conn.getsockname()[:2]
        answer = f"{ident} {host}:{port}\n".encode()
        if http:
            head = b""
            while b"\r\n\r\n" not in head and (data := conn.recv(65536)):
                head += data
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(answer) + answer)
            return
        conn.sendall(answer)
        while data := conn.recv(65536):
            conn.sendall(data)

    return handle


@pytest.fixture
def app_servers(upstreams):
    def make(ident: str, http: bool = False, host: str = APP_IP) -> TcpServer:
        return upstreams(app_handler(ident, http), host=host, in_test_namespace=True)

    return make


def captured_connect(port: int, timeout: float = 5.0, host: str = APP_IP) -> socket.socket:
    """Connects to host:port as the captured application: the mark makes
    the namespace's REDIRECT send it to the proxy's port 15001."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, SO_MARK, MARK)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def capture_listener(chains: list[dict], use_original_dst: bool = True, filters: bool = True,
                     host: str = "0.0.0.0", name: str = "virtualOutbound") -> dict:
    lst = listener(name, socket_address(host, CAPTURE_PORT), chains)
    if use_original_dst:
        lst["use_original_dst"] = True
    if filters:
        lst["listener_filters"] = [ORIGINAL_DST_FILTER]
    return lst


def unbound_listener(name: str, host: str, port: int, chains: list[dict]) -> dict:
    lst = listener(name, socket_address(host, port), chains)
    lst["bind_to_port"] = False
    return lst


# ---------------------------------------------------------------------------
# redirected connections (network namespace)
# ---------------------------------------------------------------------------


def test_original_dst_cluster_connects_to_the_redirected_destination(netns, proxy, app_servers, admin_port):
    app = app_servers("app")
    cfg = bootstrap(admin_port, [capture_listener([filter_chain("passthrough", "outbound")])],
                    [original_dst_cluster("passthrough")])
    p = proxy(cfg)

    for _ in range(2):
        with captured_connect(app.port) as c:
            # The server answers as itself, on its own address: the proxy
            # connected to the original destination, not to 15001.
            assert recv_line(c).decode() == f"app {APP_IP}:{app.port}"
            c.sendall(b"ping")
            assert recv_exact(c, 4) == b"ping"
    assert app.accepted == 2
    p.wait_for_stats({"cluster.passthrough.upstream_cx_total": 2,
                      "tcp.outbound.downstream_cx_total": 2,
                      f"listener.0.0.0.0_{CAPTURE_PORT}.downstream_cx_total": 2})


def test_without_the_listener_filter_original_dst_cluster_has_no_host(netns, proxy, app_servers, admin_port):
    app = app_servers("app")
    cfg = bootstrap(admin_port, [capture_listener([filter_chain("passthrough", "outbound")],
                                                  use_original_dst=False, filters=False)],
                    [original_dst_cluster("passthrough")])
    p = proxy(cfg)

    c = captured_connect(app.port)
    elapsed, data = wait_closed(c, timeout=3)
    c.close()
    assert data == b"" and elapsed < 2.0
    assert app.accepted == 0
    p.wait_for_stats({"cluster.passthrough.upstream_cx_none_healthy": 1,
                      "cluster.passthrough.upstream_cx_total": 0}, missing_as_zero=True)


@pytest.mark.remora_only(reason="Envoy restores the local address whenever SO_ORIGINAL_DST answers, also with "
                         "the listener's own address for a connection that was not redirected, and its "
                         "ORIGINAL_DST cluster then connects back to the listener (a loop)")
def test_connection_that_was_not_redirected_gets_no_original_dst_host(netns, proxy, admin_port):
    cfg = bootstrap(admin_port, [capture_listener([filter_chain("passthrough", "outbound")])],
                    [original_dst_cluster("passthrough")])
    p = proxy(cfg)
    c = connect("127.0.0.1", CAPTURE_PORT)
    elapsed, data = wait_closed(c, timeout=3)
    c.close()
    assert data == b"" and elapsed < 2.0
    p.wait_for_stats({"cluster.passthrough.upstream_cx_none_healthy": 1,
                      "cluster.passthrough.upstream_cx_total": 0}, missing_as_zero=True)


def test_restored_destination_port_selects_the_filter_chain(netns, proxy, upstreams, app_servers, admin_port):
    by_port = upstreams(ident_echo_handler(b"by-port"))
    other = upstreams(ident_echo_handler(b"other"))
    app = app_servers("app")
    unused = app_servers("unused")
    cfg = bootstrap(admin_port, [capture_listener([
        filter_chain("other", "any_port"),
        filter_chain("by_port", "app_port", destination_port=app.port),
    ], use_original_dst=False)], [cluster("by_port", [by_port.address]), cluster("other", [other.address])])
    p = proxy(cfg)

    with captured_connect(app.port) as c:
        assert recv_line(c) == b"by-port"
    with captured_connect(unused.port) as c:
        assert recv_line(c) == b"other"
    p.wait_for_stats({"tcp.app_port.downstream_cx_total": 1, "tcp.any_port.downstream_cx_total": 1})
    assert app.accepted == 0 and unused.accepted == 0


def test_use_original_dst_hands_off_to_the_destination_listener(netns, proxy, upstreams, app_servers, admin_port):
    exact = upstreams(ident_echo_handler(b"exact"))
    wildcard = upstreams(ident_echo_handler(b"wildcard"))
    outbound = upstreams(ident_echo_handler(b"outbound"))
    app_exact = app_servers("app-exact")
    app_wild = app_servers("app-wild")
    app_none = app_servers("app-none")
    cfg = bootstrap(admin_port, [
        capture_listener([filter_chain("outbound", "outbound")]),
        unbound_listener("exact", APP_IP, app_exact.port, [filter_chain("exact", "exact")]),
        unbound_listener("wildcard", "0.0.0.0", app_wild.port, [filter_chain("wildcard", "wildcard")]),
    ], [cluster("exact", [exact.address]), cluster("wildcard", [wildcard.address]),
        cluster("outbound", [outbound.address])])
    p = proxy(cfg)

    with captured_connect(app_exact.port) as c:
        assert recv_line(c) == b"exact"
    with captured_connect(app_wild.port) as c:
        assert recv_line(c) == b"wildcard"
    # No listener for this destination: the accepting listener keeps it.
    with captured_connect(app_none.port) as c:
        assert recv_line(c) == b"outbound"
    assert (exact.accepted, wildcard.accepted, outbound.accepted) == (1, 1, 1)
    assert app_exact.accepted + app_wild.accepted + app_none.accepted == 0
    # Only the listener that keeps a connection counts it (as Envoy does).
    p.wait_for_stats({
        f"listener.{APP_IP}_{app_exact.port}.downstream_cx_total": 1,
        f"listener.0.0.0.0_{app_wild.port}.downstream_cx_total": 1,
        f"listener.0.0.0.0_{CAPTURE_PORT}.downstream_cx_total": 1,
        "tcp.exact.downstream_cx_total": 1,
        "tcp.wildcard.downstream_cx_total": 1,
        "tcp.outbound.downstream_cx_total": 1,
    })


def test_unbound_listener_takes_no_direct_connections(netns, proxy, upstreams, admin_port):
    up = upstreams()
    port = free_port("127.0.0.1")
    cfg = bootstrap(admin_port, [
        capture_listener([filter_chain("up", "outbound")]),
        unbound_listener("unbound", "127.0.0.1", port, [filter_chain("up", "unbound")]),
    ], [cluster("up", [up.address])])
    proxy(cfg)
    with pytest.raises(ConnectionRefusedError):
        connect("127.0.0.1", port, timeout=2).close()


def test_handed_off_http_connection_routes_to_original_dst(netns, proxy, app_servers, admin_port):
    """Outbound HTTP the way Istio sends it: 15001 hands the connection to
    the 0.0.0.0:<port> HTTP listener, whose route goes to an ORIGINAL_DST
    cluster: the request reaches the address the client asked for."""
    app = app_servers("app", http=True)
    rc = route_config([vhost("all", ["*"], [route({"prefix": "/"}, "passthrough")])])
    cfg = bootstrap(admin_port, [
        capture_listener([filter_chain("passthrough", "outbound")]),
        unbound_listener("http", "0.0.0.0", app.port, [{"filters": [hcm_filter(rc, stat_prefix="outbound_http")]}]),
    ], [original_dst_cluster("passthrough")])
    p = proxy(cfg)

    with captured_connect(app.port) as c:
        c.sendall(b"GET /x HTTP/1.1\r\nHost: app\r\n\r\n")
        response = http_support.parse_response_bytes(_read_response(c))
    assert response.status == 200
    assert response.body == f"app {APP_IP}:{app.port}\n".encode()
    assert app.accepted == 1
    p.wait_for_stats({"http.outbound_http.downstream_rq_total": 1,
                      "cluster.passthrough.upstream_cx_total": 1,
                      "tcp.outbound.downstream_cx_total": 0}, missing_as_zero=True)


def _read_response(c: socket.socket) -> bytes:
    """One response with a content-length, read whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = c.recv(65536)
        assert chunk
        body += chunk
    return head + b"\r\n\r\n" + body


def test_ipv6_redirect_passthrough_and_hand_off(netns, proxy, upstreams, app_servers, admin_port):
    """The same over IPv6: IP6T_SO_ORIGINAL_DST gives the destination, the
    ORIGINAL_DST cluster connects to it, and a [::]:<port> listener takes
    its port's connections."""
    if netns.ipv6_problem:
        pytest.skip(f"no IPv6 redirect: {netns.ipv6_problem}")
    wildcard = upstreams(ident_echo_handler(b"wildcard6"))
    app = app_servers("app6", host=APP_IP6)
    app_wild = app_servers("app6-wild", host=APP_IP6)
    cfg = bootstrap(admin_port, [
        capture_listener([filter_chain("passthrough", "outbound6")], host="::", name="virtualOutbound6"),
        unbound_listener("wildcard6", "::", app_wild.port, [filter_chain("wildcard", "wildcard6")]),
    ], [original_dst_cluster("passthrough"), cluster("wildcard", [wildcard.address])])
    p = proxy(cfg)

    with captured_connect(app.port, host=APP_IP6) as c:
        assert recv_line(c).decode() == f"app6 {APP_IP6}:{app.port}"
        c.sendall(b"v6")
        assert recv_exact(c, 2) == b"v6"
    with captured_connect(app_wild.port, host=APP_IP6) as c:
        assert recv_line(c) == b"wildcard6"
    assert app.accepted == 1 and app_wild.accepted == 0
    p.wait_for_stats({"tcp.outbound6.downstream_cx_total": 1, "tcp.wildcard6.downstream_cx_total": 1,
                      "cluster.passthrough.upstream_cx_total": 1})


def test_ipv4_client_on_a_dual_stack_listener(netns, proxy, app_servers, admin_port):
    """An IPv4 connection redirected to a [::] listener with ipv4_compat
    arrives as ::ffff:127.0.0.1; its original destination comes from the
    IPv4 table, so the ORIGINAL_DST cluster still reaches it."""
    app = app_servers("app")
    lst = capture_listener([filter_chain("passthrough", "outbound")], host="::")
    lst["address"]["socket_address"]["ipv4_compat"] = True
    p = proxy(bootstrap(admin_port, [lst], [original_dst_cluster("passthrough")]))

    with captured_connect(app.port) as c:
        assert recv_line(c).decode() == f"app {APP_IP}:{app.port}"
    assert app.accepted == 1
    p.wait_for_stats({"cluster.passthrough.upstream_cx_total": 1})


# ---------------------------------------------------------------------------
# loopback only
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("compat", [True, False], ids=["ipv4_compat", "v6_only"])
def test_ipv4_destination_hands_off_to_an_ipv4_compat_listener(netns, proxy, upstreams, app_servers, admin_port, compat):
    """With no 0.0.0.0:<port> listener, an IPv4 destination goes to the
    [::]:<port> one if that takes IPv4 (ipv4_compat), else it stays."""
    dual = upstreams(ident_echo_handler(b"dual"))
    outbound = upstreams(ident_echo_handler(b"outbound"))
    app = app_servers("app")
    target = unbound_listener("dual", "::", app.port, [filter_chain("dual", "dual")])
    target["address"]["socket_address"]["ipv4_compat"] = compat
    proxy(bootstrap(admin_port, [capture_listener([filter_chain("outbound", "outbound")]), target],
                    [cluster("dual", [dual.address]), cluster("outbound", [outbound.address])]))
    with captured_connect(app.port) as c:
        assert recv_line(c) == (b"dual" if compat else b"outbound")


@pytest.mark.parametrize("compat", [True, False], ids=["ipv4_compat", "v6_only"])
def test_ipv4_compat_listener_takes_ipv4_connections(proxy, upstreams, admin_port, compat):
    up = upstreams(ident_echo_handler(b"up"))
    port = free_port("::1")
    address = socket_address("::", port)
    address["socket_address"]["ipv4_compat"] = compat
    proxy(bootstrap(admin_port, [listener("dual", address, [filter_chain("up", "dual")])], [cluster("up", [up.address])]))
    with connect("::1", port) as c:
        assert recv_line(c) == b"up"
    if compat:
        with connect("127.0.0.1", port) as c:
            assert recv_line(c) == b"up"
    else:
        with pytest.raises(ConnectionRefusedError):
            connect("127.0.0.1", port, timeout=2).close()


def test_http_header_picks_the_original_dst_host(proxy, http_upstreams, admin_port):
    up = http_upstreams(name="chosen")
    port = free_port()
    rc = route_config([vhost("all", ["*"], [route({"prefix": "/"}, "passthrough")])])
    cfg = bootstrap(admin_port, [listener("http", socket_address("127.0.0.1", port), [{"filters": [hcm_filter(rc)]}])],
                    [original_dst_cluster("passthrough", original_dst_lb_config={"use_http_header": True})])
    p = proxy(cfg)

    r = http_support.get(port, "/a", headers=[("x-envoy-original-dst-host", f"127.0.0.1:{up.port}")])
    assert r.status == 200 and r.body == b"hello from chosen"
    assert up.requests[0].header("x-envoy-original-dst-host") == f"127.0.0.1:{up.port}"
    # Not redirected and no (valid) header: no host.
    for headers in ([], [("x-envoy-original-dst-host", "not-an-address")]):
        r = http_support.get(port, "/b", headers=headers)
        assert r.status == 503 and r.body == b"no healthy upstream"
    assert len(up.requests) == 1
    p.wait_for_stats({"cluster.passthrough.upstream_cx_none_healthy": 2})


def test_header_is_ignored_without_use_http_header(proxy, http_upstreams, admin_port):
    up = http_upstreams(name="chosen")
    port = free_port()
    rc = route_config([vhost("all", ["*"], [route({"prefix": "/"}, "passthrough")])])
    cfg = bootstrap(admin_port, [listener("http", socket_address("127.0.0.1", port), [{"filters": [hcm_filter(rc)]}])],
                    [original_dst_cluster("passthrough")])
    proxy(cfg)
    r = http_support.get(port, "/", headers=[("x-envoy-original-dst-host", f"127.0.0.1:{up.port}")])
    assert r.status == 503
    assert up.accepted == 0


def _peer_handler(conn: socket.socket, server) -> None:
    host, port = conn.getpeername()[:2]
    conn.sendall(f"{host}\n".encode())
    conn.recv(1)


def test_upstream_bind_config_sets_the_source_address(proxy, upstreams, http_upstreams, admin_port):
    tcp_up = upstreams(_peer_handler)
    http_up = http_upstreams(name="h")
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_port())
    tcp_port, plain_port, http_port = sorted(ports)
    bind = {"source_address": {"address": "127.0.0.6", "port_value": 0}}
    rc = route_config([vhost("all", ["*"], [route({"prefix": "/"}, "h")])])
    tcp_cluster = cluster("t", [tcp_up.address])
    tcp_cluster["upstream_bind_config"] = bind
    plain = cluster("plain", [tcp_up.address])
    http_cluster = http_support.http_cluster("h", [http_up.address], upstream_bind_config=bind)
    cfg = bootstrap(admin_port, [
        listener("tcp", socket_address("127.0.0.1", tcp_port), [filter_chain("t", "t")]),
        listener("plain", socket_address("127.0.0.1", plain_port), [filter_chain("plain", "plain")]),
        listener("http", socket_address("127.0.0.1", http_port), [{"filters": [hcm_filter(rc)]}]),
    ], [tcp_cluster, plain, http_cluster])
    proxy(cfg)

    with connect("127.0.0.1", tcp_port) as c:
        assert recv_line(c) == b"127.0.0.6"
    with connect("127.0.0.1", plain_port) as c:
        assert recv_line(c) == b"127.0.0.1"
    r = http_support.get(http_port, "/")
    assert r.status == 200
    assert http_up.conn_peers[0][0] == "127.0.0.6"


def test_extra_source_address_is_used_for_hosts_of_its_family(proxy, upstreams, admin_port):
    """Istio's InboundPassthroughCluster binds 127.0.0.6 for IPv4 and ::6
    (here ::1, which loopback has) for IPv6: `extra_source_addresses`
    (and the deprecated `additional_source_addresses`) give the address of
    the other family, picked by the upstream host's family."""
    up4 = upstreams(_peer_handler)
    up6 = upstreams(_peer_handler, host="::1")
    extra = {"address": {"address": "::1", "port_value": 0}}
    listeners, clusters, expected = [], [], []
    for field, value in (("extra_source_addresses", [extra]), ("additional_source_addresses", [extra["address"]])):
        for up, seen in ((up4, "127.0.0.6"), (up6, "::1")):
            name = f"{field[:5]}{len(clusters)}"
            c = cluster(name, [up.address])
            c["upstream_bind_config"] = {"source_address": {"address": "127.0.0.6", "port_value": 0}, field: value}
            clusters.append(c)
            port = free_port()
            listeners.append(listener(name, socket_address("127.0.0.1", port), [filter_chain(name, name)]))
            expected.append((port, seen))
    proxy(bootstrap(admin_port, listeners, clusters))
    for port, seen in expected:
        with connect("127.0.0.1", port) as c:
            assert recv_line(c).decode() == seen


def test_additional_addresses_share_one_listener(proxy, upstreams, admin_port):
    """`additional_addresses` (Istio's dual-stack listeners): one listener,
    its chains and its stats, on every address."""
    up = upstreams(ident_echo_handler(b"up"))
    port4, port6 = free_port(), free_port("::1")
    lst = listener("dual", socket_address("127.0.0.1", port4), [filter_chain("up", "dual")])
    lst["additional_addresses"] = [{"address": socket_address("::1", port6)}]
    p = proxy(bootstrap(admin_port, [lst], [cluster("up", [up.address])]))
    for host, port in (("127.0.0.1", port4), ("::1", port6)):
        with connect(host, port) as c:
            assert recv_line(c) == b"up"
    p.wait_for_stats({"tcp.dual.downstream_cx_total": 2, f"listener.127.0.0.1_{port4}.downstream_cx_total": 2})


def test_bind_to_unavailable_source_address_fails_the_connect(proxy, upstreams, admin_port):
    """A source address the host does not have: the bind fails, the
    attempt counts as a connect failure and the downstream is closed.
    (Envoy still calls connect on the unbound socket before it raises the
    bind error, so the upstream may see a connection come and go; Remora
    does not connect at all.  Neither sends it a byte.)"""
    up = upstreams()
    port = free_port()
    c = cluster("t", [up.address])
    c["upstream_bind_config"] = {"source_address": {"address": "192.0.2.77", "port_value": 0}}
    p = proxy(bootstrap(admin_port, [listener("tcp", socket_address("127.0.0.1", port), [filter_chain("t", "t")])], [c]))
    s = connect("127.0.0.1", port)
    elapsed, data = wait_closed(s, timeout=3)
    s.close()
    assert data == b"" and elapsed < 2.5
    p.wait_for_stats({"cluster.t.upstream_cx_connect_fail": 1, "cluster.t.upstream_cx_total": 1})


def test_istio_sidecar_example_validates():
    """examples/istio-sidecar.yaml uses only what these tests exercise."""
    path = Path(__file__).resolve().parents[2] / "examples" / "istio-sidecar.yaml"
    r = run_validate(path)
    assert r.returncode == 0, r.stdout + r.stderr
