"""`UpstreamTlsContext.allow_renegotiation`: a TLS 1.2 server (`openssl
s_server`, told to renegotiate with its `R` command) asks the proxy's
client to renegotiate. Without the flag the proxy refuses, as Envoy's
BoringSSL does: a `no_renegotiation` alert, the connection fails and
counts `ssl.connection_error`. With it, the renegotiation runs and bytes
flow on both ways. The same tests run against Envoy 1.40."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest

import support
from support import free_port, socket_address
from tls_certs import make_pki
from tls_support import tls_tcp_config, upstream_tls


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


class SServer:
    """`openssl s_server` on TLS 1.2 for one connection; what it prints is collected."""

    def __init__(self, pki):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-tls1_2", "-naccept", "1",
             "-cert", pki.path("server.crt"), "-key", pki.path("server.key")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_for(b"ACCEPT")

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
def s_server(pki):
    servers: list[SServer] = []

    def make() -> SServer:
        servers.append(SServer(pki))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


def start(proxy, admin_port, pki, server: SServer, allow: bool):
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
    p.wait_for_stats({"cluster.backend.ssl.handshake": 1})
    assert p.stats()["cluster.backend.ssl.connection_error"] >= 1


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
