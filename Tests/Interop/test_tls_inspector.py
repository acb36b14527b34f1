"""The tls_inspector listener filter, side by side with Envoy 1.40: TLS
passthrough routed by SNI (exact and wildcard) and ALPN to `openssl
s_server` upstreams whose certificates the client verifies, plaintext and
TLS on one port (transport_protocol), a ClientHello sent a byte at a time,
garbage, oversized and stalled ClientHellos, and Envoy's stats for each."""

from __future__ import annotations

import os
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path

import pytest

from support import (bootstrap, cluster, free_port, ident_echo_handler, listener, recv_exact, recv_line,
                     socket_address, tcp_proxy_filter, wait_closed)
from test_access_log import FLUSH, file_log, read_lines

TLS_INSPECTOR_TYPE = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
HTTP_INSPECTOR = {
    "name": "envoy.filters.listener.http_inspector",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"},
}


def tls_inspector(**fields) -> dict:
    return {"name": "envoy.filters.listener.tls_inspector", "typed_config": {"@type": TLS_INSPECTOR_TYPE, **fields}}


# -- certificates and upstreams ----------------------------------------------------

NAMES = {"a": ["a.example.com"], "b": ["b.example.com"], "wild": ["*.wild.example.com"], "h2": ["alpn.example.com"],
         "h1": ["alpn.example.com"]}


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A CA and one ECDSA P-256 server certificate per upstream, made with the openssl CLI."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", "-subj", "/CN=tls-inspector-test-ca", cwd=d)
    for name, sans in NAMES.items():
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text("subjectAltName=" + ",".join(f"DNS:{s}" for s in sans) + "\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


class TlsServer:
    """`openssl s_server -rev` (echoes each line reversed) with one of the
    test certificates; `alpn` is what it negotiates."""

    def __init__(self, pki: Path, name: str, alpn: str = "h2,http/1.1"):
        self.name = name
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-cert", str(pki / f"{name}.pem"),
             "-key", str(pki / f"{name}.key"), "-rev", "-quiet", "-alpn", alpn],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._listening():
            assert self.proc.poll() is None and time.monotonic() < deadline, f"s_server {name} did not start"
            time.sleep(0.05)

    def _listening(self) -> bool:
        # /proc/net/tcp lists the listening socket: no probe connection for s_server to handle.
        hex_port = f"{self.port:04X}"
        with open("/proc/net/tcp") as f:
            return any(line.split()[1].endswith(":" + hex_port) and line.split()[3] == "0A" for line in f.readlines()[1:])

    @property
    def address(self) -> dict:
        return socket_address("127.0.0.1", self.port)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)


@pytest.fixture
def tls_servers(pki):
    started: list[TlsServer] = []

    def make(name: str, alpn: str = "h2,http/1.1") -> TlsServer:
        s = TlsServer(pki, name, alpn)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def client_context(pki: Path, alpn: list[str] | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def tls_exchange(port: int, ctx: ssl.SSLContext, sni: str, dribble: bool = False):
    """A TLS session through the proxy with a memory-BIO client: the
    ClientHello goes out whole or (``dribble``) one byte per send with a
    pause; returns (peer certificate CN, negotiated ALPN, reply to a line).
    The certificate is verified against the SNI unless ``ctx`` says not to."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        first = True
        while True:
            try:
                obj.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            out = outgoing.read()
            if out:
                if first and dribble:
                    for i in range(len(out)):
                        s.sendall(out[i:i + 1])
                        time.sleep(0.002)
                else:
                    s.sendall(out)
                first = False
            if done:
                break
            data = s.recv(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            incoming.write(data)
        cert = obj.getpeercert()
        cn = dict(x[0] for x in cert["subject"])["commonName"]
        obj.write(b"hello tls\n")
        s.sendall(outgoing.read())
        reply = b""
        while not reply.endswith(b"\n"):
            try:
                reply += obj.read(1024)
            except ssl.SSLWantReadError:
                data = s.recv(65536)
                if not data:
                    break
                incoming.write(data)
        return cn, obj.selected_alpn_protocol(), reply


def client_hello_bytes(pki: Path, sni: str | None, alpn: list[str] | None = None) -> bytes:
    """The ClientHello Python's OpenSSL would send."""
    ctx = client_context(pki, alpn)
    if sni is None:
        ctx.check_hostname = False
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO(), server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def built_client_hello(sni: str | bytes = "big.example.com", padding: int = 0, fragment: int = 16384,
                       legacy_version: bytes = b"\x03\x03") -> bytes:
    """A TLS 1.3 ClientHello with a padding extension of ``padding`` bytes,
    in handshake records of at most ``fragment`` bytes."""
    def u16(n: int) -> bytes:
        return struct.pack("!H", n)

    name = sni.encode() if isinstance(sni, str) else sni
    exts = [(0, u16(len(name) + 3) + b"\x00" + u16(len(name)) + name), (43, b"\x04\x03\x04\x03\x03"),
            (10, u16(2) + u16(29)), (13, u16(2) + u16(0x0403))]
    if padding:
        exts.append((21, b"\x00" * padding))
    ext_bytes = b"".join(u16(t) + u16(len(v)) + v for t, v in exts)
    body = legacy_version + os.urandom(32) + b"\x20" + os.urandom(32) + u16(2) + u16(0x1301) + b"\x01\x00" \
        + u16(len(ext_bytes)) + ext_bytes
    message = b"\x01" + struct.pack("!I", len(body))[1:] + body
    out = b""
    for at in range(0, len(message), fragment):
        piece = message[at:at + fragment]
        out += b"\x16\x03\x01" + u16(len(piece)) + piece
    return out


# -- configurations -------------------------------------------------------------------

def tcp_chain(name: str, match: dict | None = None, access_log: list | None = None) -> dict:
    chain: dict = {"name": name}
    if match is not None:
        chain["filter_chain_match"] = match
    f = tcp_proxy_filter(name, name)
    if access_log:
        f["typed_config"]["access_log"] = access_log
    chain["filters"] = [f]
    return chain


def inspector_config(admin_port: int, port: int, chains: list[dict], upstreams: dict[str, dict],
                     filters: list[dict] | None = None, **listener_extra) -> dict:
    lst = listener("tls", socket_address("127.0.0.1", port), chains)
    lst["listener_filters"] = filters if filters is not None else [tls_inspector()]
    lst.update(listener_extra)
    return bootstrap(admin_port, [lst], [cluster(n, [a]) for n, a in upstreams.items()])


def stat(name: str) -> str:
    return f"tls_inspector.{name}"


def plain_exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        ident = recv_line(s)
        assert recv_exact(s, len(payload)) == payload
        return ident


def test_sni_routes_tls_passthrough_to_each_upstream(proxy, tls_servers, pki, admin_port):
    a, b = tls_servers("a"), tls_servers("b")
    port = free_port()
    chains = [tcp_chain("a", {"server_names": ["a.example.com"]}), tcp_chain("b", {"server_names": ["b.example.com"]})]
    p = proxy(inspector_config(admin_port, port, chains, {"a": a.address, "b": b.address}))
    ctx = client_context(pki)
    assert tls_exchange(port, ctx, "a.example.com") == ("a", None, b"slt olleh\n")
    assert tls_exchange(port, ctx, "b.example.com") == ("b", None, b"slt olleh\n")
    assert tls_exchange(port, ctx, "a.example.com") == ("a", None, b"slt olleh\n")
    p.wait_for_stats({stat("tls_found"): 3, stat("sni_found"): 3, stat("sni_not_found"): 0, stat("alpn_not_found"): 3,
                      stat("alpn_found"): 0, stat("tls_not_found"): 0, stat("client_hello_too_large"): 0,
                      "tcp.a.downstream_cx_total": 2, "tcp.b.downstream_cx_total": 1})


def test_unknown_sni_and_no_sni_close_without_a_chain(proxy, tls_servers, pki, admin_port):
    a = tls_servers("a")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("a", {"server_names": ["a.example.com"]})], {"a": a.address}))
    lst = f"listener.127.0.0.1_{port}"
    for hello in (client_hello_bytes(pki, "c.example.com"), client_hello_bytes(pki, None)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(hello)
            wait_closed(s, timeout=3)
    p.wait_for_stats({stat("tls_found"): 2, stat("sni_found"): 1, stat("sni_not_found"): 1,
                      f"{lst}.no_filter_chain_match": 2, f"{lst}.downstream_cx_total": 0})


def test_wildcard_server_names_and_case(proxy, tls_servers, pki, admin_port):
    """An exact name beats the wildcard; `*.wild.example.com` takes any
    deeper name under it; the SNI is matched lowercased."""
    a, wild = tls_servers("a"), tls_servers("wild")
    port = free_port()
    chains = [tcp_chain("a", {"server_names": ["a.example.com", "x.wild.example.com"]}),
              tcp_chain("wild", {"server_names": ["*.wild.example.com"]})]
    p = proxy(inspector_config(admin_port, port, chains, {"a": a.address, "wild": wild.address}))
    ctx = client_context(pki)
    assert tls_exchange(port, ctx, "y.wild.example.com")[0] == "wild"
    assert tls_exchange(port, ctx, "Z.Wild.Example.COM")[0] == "wild"
    # x.wild.example.com goes to the exact chain, whose upstream has another certificate.
    other_name = client_context(pki)
    other_name.check_hostname = False
    assert tls_exchange(port, other_name, "x.wild.example.com")[0] == "a"
    p.wait_for_stats({stat("sni_found"): 3, "tcp.wild.downstream_cx_total": 2, "tcp.a.downstream_cx_total": 1})


def test_alpn_picks_the_chain(proxy, tls_servers, pki, admin_port):
    """application_protocols: the client's first offered protocol that has a chain."""
    h2, h1, other = tls_servers("h2", alpn="h2"), tls_servers("h1", alpn="http/1.1"), tls_servers("a")
    port = free_port()
    chains = [tcp_chain("h2", {"transport_protocol": "tls", "application_protocols": ["h2"]}),
              tcp_chain("h1", {"transport_protocol": "tls", "application_protocols": ["http/1.1"]}),
              tcp_chain("other", {"transport_protocol": "tls"})]
    p = proxy(inspector_config(admin_port, port, chains, {"h2": h2.address, "h1": h1.address, "other": other.address}))
    assert tls_exchange(port, client_context(pki, ["h2", "http/1.1"]), "alpn.example.com")[:2] == ("h2", "h2")
    assert tls_exchange(port, client_context(pki, ["http/1.1", "h2"]), "alpn.example.com")[:2] == ("h1", "http/1.1")
    assert tls_exchange(port, client_context(pki, ["foo", "http/1.1"]), "alpn.example.com")[:2] == ("h1", "http/1.1")
    assert tls_exchange(port, client_context(pki), "a.example.com")[0] == "a"
    p.wait_for_stats({stat("tls_found"): 4, stat("alpn_found"): 3, stat("alpn_not_found"): 1})


def test_plaintext_and_tls_on_one_port(proxy, upstreams, tls_servers, pki, admin_port):
    """Istio's PERMISSIVE shape: transport_protocol tls to one chain, raw_buffer to another."""
    tls = tls_servers("a")
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    chains = [tcp_chain("tls", {"transport_protocol": "tls"}), tcp_chain("plain", {"transport_protocol": "raw_buffer"})]
    p = proxy(inspector_config(admin_port, port, chains, {"tls": tls.address, "plain": plain.address}))
    assert plain_exchange(port, b"hello plaintext\n") == b"plain"
    assert tls_exchange(port, client_context(pki), "a.example.com")[0] == "a"
    assert plain_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b"plain"
    p.wait_for_stats({stat("tls_found"): 1, stat("tls_not_found"): 2, "tcp.tls.downstream_cx_total": 1,
                      "tcp.plain.downstream_cx_total": 2})


def test_tls_then_http_inspector(proxy, upstreams, tls_servers, pki, admin_port):
    """Istio's inbound filters: tls_inspector then http_inspector; the
    HTTP inspector leaves TLS connections alone."""
    tls = tls_servers("a")
    http = upstreams(ident_echo_handler(b"http"), name="http")
    raw = upstreams(ident_echo_handler(b"raw"), name="raw")
    port = free_port()
    chains = [tcp_chain("tls", {"transport_protocol": "tls"}),
              tcp_chain("http", {"application_protocols": ["http/1.1"]}), tcp_chain("raw")]
    p = proxy(inspector_config(admin_port, port, chains, {"tls": tls.address, "http": http.address, "raw": raw.address},
                               filters=[tls_inspector(), HTTP_INSPECTOR]))
    assert tls_exchange(port, client_context(pki, ["http/1.1"]), "a.example.com")[0] == "a"
    assert plain_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b"http"
    assert plain_exchange(port, b"\x00\x01 binary\r\n") == b"raw"
    p.wait_for_stats({stat("tls_found"): 1, stat("tls_not_found"): 2, "http_inspector.http11_found": 1,
                      "http_inspector.http_not_found": 1, "tcp.tls.downstream_cx_total": 1})


def test_client_hello_one_byte_at_a_time(proxy, tls_servers, pki, admin_port):
    a, b = tls_servers("a"), tls_servers("b")
    port = free_port()
    chains = [tcp_chain("a", {"server_names": ["a.example.com"]}), tcp_chain("b", {"server_names": ["b.example.com"]})]
    p = proxy(inspector_config(admin_port, port, chains, {"a": a.address, "b": b.address}, listener_filters_timeout="10s"))
    assert tls_exchange(port, client_context(pki, ["h2"]), "b.example.com", dribble=True) == ("b", "h2", b"slt olleh\n")
    p.wait_for_stats({stat("tls_found"): 1, stat("sni_found"): 1, stat("alpn_found"): 1})


@pytest.mark.parametrize("payload", [
    b"\x00\x01\x02 garbage that is not TLS\r\n",
    b"\x16\x03\x01\x00\x05hello",            # a handshake record whose message claims ~6.6 MB
    b"\x15\x03\x03\x00\x02\x02\x28",          # a fatal alert
    b"\x16\x03\x01\x00\x08\x02\x00\x00\x04\x03\x03\x00\x00",  # a ServerHello
], ids=["garbage", "huge_message", "fatal_alert", "server_hello"])
def test_not_tls_goes_on_as_plaintext_unchanged(proxy, upstreams, tls_servers, admin_port, payload):
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    chains = [tcp_chain("tls", {"transport_protocol": "tls"}), tcp_chain("plain")]
    p = proxy(inspector_config(admin_port, port, chains, {"tls": socket_address("127.0.0.1", 1), "plain": plain.address}))
    assert plain_exchange(port, payload) == b"plain"
    p.wait_for_stats({stat("tls_not_found"): 1, stat("tls_found"): 0, "tcp.plain.downstream_cx_total": 1})


def test_close_on_parsing_errors(proxy, upstreams, admin_port):
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("plain")], {"plain": plain.address},
                               filters=[tls_inspector(close_connection_on_client_hello_parsing_errors=True)]))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"hello, not TLS\r\n")
        _, data = wait_closed(s, timeout=3)
        assert data == b""
    # Envoy 1.40 still counts tls_not_found before it closes.
    p.wait_for_stats({stat("tls_not_found"): 1, stat("client_hello_too_large"): 0,
                      f"listener.127.0.0.1_{port}.downstream_cx_total": 0})
    assert plain.accepted == 0


@pytest.mark.parametrize("limit,padding,fragment", [(None, 16300, 16384), (1000, 1200, 16384), (None, 3000, 1)],
                         ids=["default_16k", "configured_1000", "tiny_records"])
def test_oversized_client_hello_is_closed(proxy, upstreams, admin_port, limit, padding, fragment):
    """More than max_client_hello_size bytes (default 16 KiB) without a
    complete ClientHello: client_hello_too_large and a close, no upstream."""
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    fields = {} if limit is None else {"max_client_hello_size": limit}
    p = proxy(inspector_config(admin_port, port, [tcp_chain("plain")], {"plain": plain.address},
                               filters=[tls_inspector(**fields)]))
    hello = built_client_hello(padding=padding, fragment=fragment)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(hello)
        except (BrokenPipeError, ConnectionResetError):
            pass
        wait_closed(s, timeout=3)
    p.wait_for_stats({stat("client_hello_too_large"): 1, stat("tls_found"): 0, stat("tls_not_found"): 0,
                      f"listener.127.0.0.1_{port}.downstream_cx_total": 0})


def test_large_client_hello_under_the_limit_is_tls(proxy, upstreams, admin_port):
    plain = upstreams(ident_echo_handler(b"raw"), name="raw")
    tls = upstreams(ident_echo_handler(b"tls"), name="tlsup")
    port = free_port()
    chains = [tcp_chain("tls", {"transport_protocol": "tls", "server_names": ["big.example.com"]}), tcp_chain("raw")]
    p = proxy(inspector_config(admin_port, port, chains, {"tls": tls.address, "raw": plain.address}))
    hello = built_client_hello(padding=12000)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(hello)
        assert recv_line(s) == b"tls"
        assert recv_exact(s, len(hello)) == hello
    p.wait_for_stats({stat("tls_found"): 1, stat("sni_found"): 1})


def test_stalled_client_hello_times_out(proxy, upstreams, pki, admin_port):
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("plain")], {"plain": plain.address},
                               listener_filters_timeout="0.5s"))
    lst = f"listener.127.0.0.1_{port}"
    hello = client_hello_bytes(pki, "a.example.com")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(hello[:len(hello) // 2])
        p.wait_for_stats({f"{lst}.downstream_pre_cx_active": 1})
        elapsed, _ = wait_closed(s, timeout=5)
    assert 0.3 < elapsed < 3, elapsed
    p.wait_for_stats({f"{lst}.downstream_pre_cx_timeout": 1, f"{lst}.downstream_pre_cx_active": 0,
                      f"{lst}.downstream_cx_total": 0, stat("tls_found"): 0, stat("tls_not_found"): 0})


def test_stalled_client_hello_continues_as_raw_buffer(proxy, upstreams, pki, admin_port):
    """continue_on_listener_filters_timeout: the chain is chosen with
    nothing learnt (raw_buffer), and the partial ClientHello goes upstream."""
    tls = upstreams(ident_echo_handler(b"tls"), name="tlsup")
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    chains = [tcp_chain("tls", {"transport_protocol": "tls"}), tcp_chain("plain", {"transport_protocol": "raw_buffer"})]
    p = proxy(inspector_config(admin_port, port, chains, {"tls": tls.address, "plain": plain.address},
                               listener_filters_timeout="0.3s", continue_on_listener_filters_timeout=True))
    hello = client_hello_bytes(pki, "a.example.com")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(hello[:40])
        assert recv_line(s) == b"plain"
        assert recv_exact(s, 40) == hello[:40]
    p.wait_for_stats({f"listener.127.0.0.1_{port}.downstream_pre_cx_timeout": 1, "tcp.plain.downstream_cx_total": 1})


def test_close_notify_before_the_client_hello_closes(proxy, upstreams, admin_port):
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("plain")], {"plain": plain.address}))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x15\x03\x01\x00\x02\x01\x00")
        wait_closed(s, timeout=3)
    p.wait_for_stats({stat("tls_found"): 0, stat("tls_not_found"): 0, stat("client_hello_too_large"): 0,
                      f"listener.127.0.0.1_{port}.downstream_cx_total": 0})


def test_peer_closing_mid_client_hello(proxy, upstreams, pki, admin_port):
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("plain")], {"plain": plain.address}))
    hello = client_hello_bytes(pki, "a.example.com")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(hello[:20])
        s.shutdown(socket.SHUT_WR)
        wait_closed(s, timeout=3)
    p.wait_for_stats({f"listener.127.0.0.1_{port}.downstream_listener_filter_remote_close": 1,
                      f"listener.127.0.0.1_{port}.downstream_cx_total": 0, stat("tls_not_found"): 0})


def test_requested_server_name_in_the_tcp_proxy_access_log(proxy, upstreams, tls_servers, pki, admin_port, tmp_path):
    a = tls_servers("a")
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    log = tmp_path / "tcp.log"
    fmt = "%REQUESTED_SERVER_NAME% %UPSTREAM_CLUSTER% %BYTES_RECEIVED%\n"
    chains = [tcp_chain("a", {"server_names": ["a.example.com"]}, access_log=[file_log(log, fmt)]),
              tcp_chain("plain", access_log=[file_log(log, fmt)])]
    p = proxy(inspector_config(admin_port, port, chains, {"a": a.address, "plain": plain.address}), extra_args=FLUSH)
    tls_exchange(port, client_context(pki), "A.Example.com")
    assert plain_exchange(port, b"plain\n") == b"plain"
    lines = sorted(read_lines(log, 2))
    assert lines[0].startswith("- plain 6"), lines
    name, cluster_name, received = lines[1].split()
    assert (name, cluster_name) == ("a.example.com", "a"), lines
    assert int(received) > 100
    p.wait_for_stats({stat("sni_found"): 1})


def test_legacy_version_outside_tls_1_0_to_1_3_closes(proxy, upstreams, admin_port):
    """Envoy 1.40 takes the SNI, counts tls_not_found and closes (measured;
    supported_versions is not what counts)."""
    plain = upstreams(ident_echo_handler(b"plain"), name="plain")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("plain")], {"plain": plain.address}))
    for version in (b"\x03\x00", b"\x03\x05"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(built_client_hello(sni="old.example", legacy_version=version))
            wait_closed(s, timeout=3)
    p.wait_for_stats({stat("sni_found"): 2, stat("tls_not_found"): 2, stat("tls_found"): 0, stat("alpn_not_found"): 0,
                      f"listener.127.0.0.1_{port}.downstream_cx_total": 0})
    assert plain.accepted == 0


def test_server_name_is_lowercased_and_sanitized(proxy, upstreams, admin_port, tmp_path):
    """%REQUESTED_SERVER_NAME% as Envoy keeps it: lowercased; a byte other
    than a letter, digit, '.', '-' or '_' becomes '_' behind 'invalid:'."""
    up = upstreams(ident_echo_handler(b"up"), name="up")
    port = free_port()
    log = tmp_path / "sni.log"
    chains = [tcp_chain("up", access_log=[file_log(log, "%REQUESTED_SERVER_NAME%\n")])]
    p = proxy(inspector_config(admin_port, port, chains, {"up": up.address}), extra_args=FLUSH)
    for name in ("Mixed.CASE.example", "a b*.example", "d\xc3\xa9j\xc3\xa0.example".encode("latin-1"), "under_score-ok.x"):
        hello = built_client_hello(sni=name)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(hello)
            assert recv_line(s) == b"up"
            assert recv_exact(s, len(hello)) == hello
    # A line is written when its session ends, which waits on the upstream's
    # close too: on a loaded machine two sessions can end out of order.
    assert sorted(read_lines(log, 4)) == sorted(["mixed.case.example\n", "invalid:a_b_.example\n",
                                                 "invalid:d__j__.example\n", "under_score-ok.x\n"])
    p.wait_for_stats({stat("sni_found"): 4, stat("tls_found"): 4})


def test_bytes_processed_histogram(proxy, upstreams, pki, admin_port):
    """tls_inspector.bytes_processed: the bytes the inspector read to decide
    (5 for plaintext, the whole ClientHello for TLS)."""
    from test_stats_prometheus import histogram_line
    up = upstreams(ident_echo_handler(b"up"), name="up")
    port = free_port()
    cfg = inspector_config(admin_port, port, [tcp_chain("up")], {"up": up.address})
    cfg["stats_flush_interval"] = "0.2s"
    p = proxy(cfg)
    hello = built_client_hello(padding=3000)
    for payload in (b"GET / HTTP/1.1\r\n\r\n", hello):
        assert plain_exchange(port, payload) == b"up"
    deadline = time.monotonic() + 5
    while (h := histogram_line(p, "tls_inspector.bytes_processed")) is None or h["P100"][1] < 100:
        assert time.monotonic() < deadline, h
        time.sleep(0.1)
    assert 5 <= h["P0"][1] < 6, h
    assert len(hello) * 0.97 <= h["P100"][1] <= len(hello) * 1.03, (len(hello), h)


def test_many_stalled_client_hellos_leave_the_proxy_responsive(proxy, tls_servers, pki, admin_port):
    """Hundreds of half-sent ClientHellos wait in the inspector (each holds
    what it read, not more); a fresh TLS connection is still routed, and
    memory grows by little."""
    import support
    a = tls_servers("a")
    port = free_port()
    p = proxy(inspector_config(admin_port, port, [tcp_chain("a", {"server_names": ["a.example.com"]})], {"a": a.address}))
    lst = f"listener.127.0.0.1_{port}"
    hello = client_hello_bytes(pki, "a.example.com")
    before = support.idle_rss_kib(p)
    stalled = []
    try:
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(hello[:len(hello) - 1])
            stalled.append(s)
        p.wait_for_stats({f"{lst}.downstream_pre_cx_active": 300}, timeout=10)
        assert tls_exchange(port, client_context(pki), "a.example.com")[0] == "a"
        grown = support.idle_rss_kib(p) - before
        print(f"RSS growth with 300 stalled ClientHellos: {grown} KiB")
        assert grown < 16 * 1024, grown
    finally:
        for s in stalled:
            s.close()
    p.wait_for_stats({f"{lst}.downstream_pre_cx_active": 0, f"{lst}.downstream_listener_filter_remote_close": 300,
                      stat("tls_found"): 1}, timeout=10)


def test_config_bounds_match_envoy(tmp_path):
    """Envoy 1.40's proto bounds: max_client_hello_size in (255, 16384],
    initial_read_buffer_size in (255, 65537)."""
    import support
    for fields, ok in (({}, True), ({"max_client_hello_size": 16384}, True), ({"max_client_hello_size": 16385}, False),
                       ({"max_client_hello_size": 255}, False), ({"initial_read_buffer_size": 65536}, True),
                       ({"initial_read_buffer_size": 65537}, False)):
        path = tmp_path / "tls.yaml"
        cfg = inspector_config(free_port(), free_port(), [tcp_chain("c")], {"c": socket_address("127.0.0.1", 1)},
                               filters=[tls_inspector(**fields)])
        path.write_text(support.to_yaml(cfg))
        r = support.run_validate(path)
        assert (r.returncode == 0) == ok, (fields, r.stdout[-500:], r.stderr[-500:])


@pytest.mark.remora_only(reason="Envoy computes JA3/JA4 fingerprints; Remora refuses the option")
def test_fingerprinting_is_refused(tmp_path):
    import support
    path = tmp_path / "tls.yaml"
    cfg = inspector_config(free_port(), free_port(), [tcp_chain("c")], {"c": socket_address("127.0.0.1", 1)},
                           filters=[tls_inspector(enable_ja3_fingerprinting=True)])
    path.write_text(support.to_yaml(cfg))
    r = support.run_validate(path)
    assert r.returncode != 0
    assert b"enable_ja3_fingerprinting" in r.stdout + r.stderr
