"""Config builders and peers for the TLS interop tests."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import support
from tls_certs import PKI

DOWNSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UPSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ENVOY_BIN = "/work/main/.venv/lib/python3.11/site-packages/envoy/_bin/envoy"


def uri_san(value: str, kind: str = "exact", san_type: str = "URI") -> dict:
    return {"san_type": san_type, "matcher": {kind: value}}


def common(pki: PKI, cert: str | None = "server", ca: bool = True, sans: list[dict] | None = None,
           alpn: list[str] | None = None, params: dict | None = None) -> dict:
    c: dict = {}
    if cert:
        c["tls_certificates"] = [{"certificate_chain": {"filename": pki.path(f"{cert}.crt")},
                                  "private_key": {"filename": pki.path(f"{cert}.key")}}]
    if ca or sans:
        v: dict = {}
        if ca:
            v["trusted_ca"] = {"filename": pki.path("mesh-ca.crt")}
        if sans:
            v["match_typed_subject_alt_names"] = sans
        c["validation_context"] = v
    if alpn:
        c["alpn_protocols"] = alpn
    if params:
        c["tls_params"] = params
    return c


def downstream_tls(pki: PKI, require_client: bool = True, **kw) -> dict:
    ctx: dict = {"@type": DOWNSTREAM_TLS, "common_tls_context": common(pki, **kw)}
    if require_client:
        ctx["require_client_certificate"] = True
    return {"name": "envoy.transport_sockets.tls", "typed_config": ctx}


def upstream_tls(pki: PKI, sni: str | None = None, **kw) -> dict:
    ctx: dict = {"@type": UPSTREAM_TLS, "common_tls_context": common(pki, **kw)}
    if sni:
        ctx["sni"] = sni
    return {"name": "envoy.transport_sockets.tls", "typed_config": ctx}


def tls_tcp_config(admin_port: int, port: int, upstream: dict, transport: dict, cluster_transport: dict | None = None,
                   connect_timeout: str | None = None) -> dict:
    chain = support.filter_chain("backend", "tp")
    chain["transport_socket"] = transport
    if connect_timeout:
        chain["transport_socket_connect_timeout"] = connect_timeout
    cl = support.cluster("backend", [upstream])
    if cluster_transport:
        cl["transport_socket"] = cluster_transport
    return support.bootstrap(admin_port, [support.listener("tls", support.socket_address("127.0.0.1", port), [chain])], [cl])


def http_chain(cluster: str, transport: dict | None = None) -> dict:
    chain: dict = {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": HCM_TYPE, "stat_prefix": "ingress",
        "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"],
                                            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": cluster}}]}]},
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
    }}]}
    if transport:
        chain["transport_socket"] = transport
    return chain


def client_context(pki: PKI, cert: str | None = "client", verify: bool = True, alpn: list[str] | None = None,
                   maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if verify:
        ctx.load_verify_locations(pki.path("mesh-ca.crt"))
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(pki.path(f"{cert}.crt"), pki.path(f"{cert}.key"))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def server_context(pki: PKI, cert: str = "server", require_client: bool = True) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.path(f"{cert}.crt"), pki.path(f"{cert}.key"))
    if require_client:
        ctx.load_verify_locations(pki.path("mesh-ca.crt"))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def tls_connect(port: int, ctx: ssl.SSLContext, server_name: str | None = "server.local",
                timeout: float = 5.0) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_name)
    except BaseException:
        raw.close()
        raise


def served(port: int, ctx: ssl.SSLContext) -> bool:
    """A TLS connection to an echoing chain carries a ping (False if the
    handshake, or the first read after it, fails)."""
    try:
        with tls_connect(port, ctx) as s:
            s.sendall(b"ping")
            return support.recv_exact(s, 4) == b"ping"
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError, AssertionError):
        return False


def tls_echo_handler(ctx: ssl.SSLContext, peers: list | None = None):
    """An upstream that terminates TLS and echoes; records each peer's URI SANs."""
    def handler(conn: socket.socket, server) -> None:
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        if peers is not None:
            cert = tls.getpeercert() or {}
            peers.append([v for k, v in cert.get("subjectAltName", ()) if k == "URI"])
        try:
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                tls.sendall(data)
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()
    return handler


def tls_http_handler(ctx: ssl.SSLContext, body: bytes = b"hello over tls", echo_head: bool = False,
                     ciphers: list | None = None):
    """An HTTP/1.1 upstream over TLS: answers every request with 200 and
    `body` (with `echo_head`, the request head instead); records each
    session's cipher in `ciphers`."""
    def handler(conn: socket.socket, server) -> None:
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        if ciphers is not None:
            ciphers.append(tls.cipher()[0])
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = tls.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                proto = b"x-forwarded-proto: https" in head.lower()
                extra = b"x-saw-forwarded-proto-https: 1\r\n" if proto else b""
                answer = head if echo_head else body
                tls.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(answer), extra, answer))
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()
    return handler


class EnvoyPeer:
    """The real Envoy 1.40 as the other side, on its own admin port."""

    def __init__(self, workdir: Path, config: dict):
        self.admin_port = config["admin"]["address"]["socket_address"]["port_value"]
        path = workdir / f"envoy-peer-{self.admin_port}.yaml"
        path.write_text(support.to_yaml(config))
        self.log = open(workdir / f"envoy-peer-{self.admin_port}.log", "wb")
        self.proc = subprocess.Popen([ENVOY_BIN, "-c", str(path), "--concurrency", "1", "-l", "warning",
                                      "--base-id", str(self.admin_port)],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 20.0) -> None:
        import urllib.request
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError("the Envoy peer exited")
            time.sleep(0.1)
        raise AssertionError("the Envoy peer did not become ready")

    def stats(self) -> dict[str, int]:
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/stats", timeout=3) as r:
            out = {}
            for line in r.read().decode().splitlines():
                name, _, value = line.partition(": ")
                if value.strip().lstrip("-").isdigit():
                    out[name] = int(value)
            return out

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def live_heap(p) -> int:
    """The proxy's live heap bytes (`/memory`'s "allocated"), after half a
    second for deferred frees."""
    import json
    time.sleep(0.5)
    status, body = p.admin("GET", "/memory")
    assert status == 200
    return int(json.loads(body)["allocated"])
