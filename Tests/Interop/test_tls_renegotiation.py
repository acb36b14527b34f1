"""TLS 1.2 renegotiation. `UpstreamTlsContext.allow_renegotiation`: a
server (`openssl s_server`, told to renegotiate with its `R` command) asks
the proxy's client to renegotiate. Without the flag the proxy refuses, as
Envoy's BoringSSL does: a `no_renegotiation` alert, the connection fails
and counts `ssl.connection_error` (twice, as any failure after the
handshake does in Envoy). With it, the renegotiation runs and
bytes flow on both ways. A listener never renegotiates at a client's
(`openssl s_client`'s `R`) request: refused the same way. The same tests
run against Envoy 1.40."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest

import support
from support import free_port, socket_address
from tls_certs import make_pki
from tls_support import downstream_tls, tls_tcp_config, upstream_tls


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


class OpenSSLPeer:
    """`openssl s_server` (one connection) or `s_client` on TLS 1.2, driven
    through its stdin; what it prints is collected."""

    def __init__(self, argv: list[str], ready: bytes):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert self.wait_for(ready), self.output

    def _read(self) -> None:
        while chunk := self.proc.stdout.read1(4096):
            self.output += chunk

    def wait_for(self, text: bytes, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return True
            time.sleep(0.05)
        return False

    def command(self, line: bytes) -> None:
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def openssl_peers():
    peers: list[OpenSSLPeer] = []

    def make(argv: list[str], ready: bytes) -> OpenSSLPeer:
        peers.append(OpenSSLPeer(argv, ready))
        return peers[-1]

    yield make
    for peer in peers:
        peer.stop()


@pytest.fixture
def s_server(pki, openssl_peers):
    def make() -> OpenSSLPeer:
        server = openssl_peers(["openssl", "s_server", "-accept", f"127.0.0.1:{free_port()}", "-tls1_2", "-naccept", "1",
                                "-cert", pki.path("server.crt"), "-key", pki.path("server.key")], b"ACCEPT")
        server.port = int(server.proc.args[3].rsplit(":", 1)[1])
        return server
    return make


def start(proxy, admin_port, pki, server: OpenSSLPeer, allow: bool):
    transport = upstream_tls(pki, cert=None, ca=False)
    if allow:
        transport["typed_config"]["allow_renegotiation"] = True
    port = free_port()
    p = proxy(tls_tcp_config(admin_port, port, socket_address("127.0.0.1", server.port), None, transport))
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(b"before\n")
    assert server.wait_for(b"before\n"), server.output
    return p, client


def test_a_server_renegotiation_is_refused_by_default(proxy, admin_port, pki, s_server):
    server = s_server()
    p, client = start(proxy, admin_port, pki, server, allow=False)
    with client:
        server.command(b"R\n")
        assert server.wait_for(b"no renegotiation"), server.output
        support.wait_closed(client, 10.0)
    # Envoy's count: the failed read, then the close_notify it cannot send.
    p.wait_for_stats({"cluster.backend.ssl.handshake": 1, "cluster.backend.ssl.connection_error": 2})


def test_allow_renegotiation_follows_the_server(proxy, admin_port, pki, s_server):
    server = s_server()
    p, client = start(proxy, admin_port, pki, server, allow=True)
    with client:
        server.command(b"R\n")
        time.sleep(0.5)
        client.sendall(b"after\n")
        assert server.wait_for(b"after\n"), server.output
        server.command(b"back\n")
        assert support.recv_exact(client, 5) == b"back\n"
    assert b"no renegotiation" not in server.output
    assert p.stats()["cluster.backend.ssl.connection_error"] == 0


def test_a_listener_refuses_a_client_renegotiation(proxy, admin_port, upstreams, pki, openssl_peers):
    up = upstreams(support.echo_handler)
    port = free_port()
    p = proxy(tls_tcp_config(admin_port, port, up.address, downstream_tls(pki, require_client=False, ca=False)))
    client = openssl_peers(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2"], b"---\n")
    client.command(b"hello\n")
    # s_client prints what it reads: the upstream's echo.
    assert client.wait_for(b"hello\n"), client.output
    client.command(b"R\n")
    assert client.wait_for(b"no renegotiation"), client.output
    prefix = f"listener.{support.stat_addr('127.0.0.1', port)}.ssl."
    p.wait_for_stats({prefix + "handshake": 1, prefix + "connection_error": 2})
