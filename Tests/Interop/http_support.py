"""HTTP/1.1 helpers for the interop suite (standard library only).

* config builders for ``envoy.filters.network.http_connection_manager`` +
  ``envoy.filters.http.router`` (route configs, virtual hosts, routes,
  clusters with extra fields);
* ``HttpUpstream``: a threaded HTTP/1.1 origin server (built on
  ``support.TcpServer``) that records every request it receives -- method,
  target, version, headers as an ordered list, body bytes, trailers, the
  connection it came on -- and answers each one as the test says
  (``Reply``: status, headers, body, chunked or not, delays, close, reset,
  hang, 101 + echo);
* ``HttpClient``: a raw-socket HTTP/1.1 client that sends exact bytes and
  parses responses without normalising anything (header order and case are
  kept, 1xx responses can be observed, trailers are returned).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import support
from support import TcpServer, bootstrap, listener, socket_address

HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
            "HttpConnectionManager")
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
PREVIOUS_HOSTS_TYPE = ("type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3."
                       "PreviousHostsPredicate")

UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# ---------------------------------------------------------------------------
# configuration builders
# ---------------------------------------------------------------------------


def router_filter(**router_cfg) -> dict:
    cfg = {"@type": ROUTER_TYPE}
    cfg.update(router_cfg)
    return {"name": "envoy.filters.http.router", "typed_config": cfg}


def hcm_filter(route_config: dict, stat_prefix: str = "ingress_http", **extra) -> dict:
    cfg: dict = {"@type": HCM_TYPE, "stat_prefix": stat_prefix, "codec_type": "HTTP1",
                 "route_config": route_config, "http_filters": [router_filter()]}
    cfg.update(extra)
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": cfg}


def route_config(virtual_hosts: list[dict], name: str = "local_route", **extra) -> dict:
    rc: dict = {"name": name, "virtual_hosts": virtual_hosts}
    rc.update(extra)
    return rc


def vhost(name: str, domains: list[str], routes: list[dict], **extra) -> dict:
    vh: dict = {"name": name, "domains": domains, "routes": routes}
    vh.update(extra)
    return vh


def route(match: dict | None = None, cluster: str | None = None, **extra) -> dict:
    """``route({"prefix": "/"}, "c")`` -> a route to cluster ``c``.  Extra
    keys go into the route (``direct_response``, ``redirect``,
    ``request_headers_to_add``, ...); ``route_extra`` keys (dict) go into
    the route action."""
    r: dict = {"match": match if match is not None else {"prefix": "/"}}
    action_extra = extra.pop("route_extra", None)
    if cluster is not None or action_extra:
        action: dict = {}
        if cluster is not None:
            action["cluster"] = cluster
        action.update(action_extra or {})
        r["route"] = action
    r.update(extra)
    return r


def http_cluster(name: str, endpoints: Iterable[dict], **extra) -> dict:
    c = support.cluster(name, endpoints, connect_timeout=extra.pop("connect_timeout", "1s"),
                        lb_policy=extra.pop("lb_policy", None))
    c.update(extra)
    return c


def http_listener(name: str, port: int, route_cfg: dict, host: str = "127.0.0.1",
                  stat_prefix: str = "ingress_http", **hcm_extra) -> dict:
    return listener(name, socket_address(host, port),
                    [{"filters": [hcm_filter(route_cfg, stat_prefix=stat_prefix, **hcm_extra)]}])


def http_config(admin_port: int, port: int, routes_or_rc, clusters: list[dict],
                domains: tuple = ("*",), stat_prefix: str = "ingress_http", **hcm_extra) -> dict:
    """One HTTP listener on 127.0.0.1:``port``.  ``routes_or_rc`` is either a
    list of routes (put into one virtual host ``vh`` with ``domains``) or a
    full route config dict."""
    if isinstance(routes_or_rc, dict):
        rc = routes_or_rc
    else:
        rc = route_config([vhost("vh", list(domains), routes_or_rc)])
    return bootstrap(admin_port, [http_listener("http", port, rc, stat_prefix=stat_prefix,
                                                **hcm_extra)], clusters)


def simple_http_config(admin_port: int, port: int, upstream, cluster_name: str = "backend",
                       stat_prefix: str = "ingress_http", cluster_extra: dict | None = None,
                       route_extra: dict | None = None, **hcm_extra) -> dict:
    """Listener -> HCM -> one catch-all route -> one STATIC cluster."""
    addrs = [u.address for u in upstream] if isinstance(upstream, (list, tuple)) else [upstream.address]
    return http_config(admin_port, port,
                       [route({"prefix": "/"}, cluster_name, route_extra=route_extra)],
                       [http_cluster(cluster_name, addrs, **(cluster_extra or {}))],
                       stat_prefix=stat_prefix, **hcm_extra)


# ---------------------------------------------------------------------------
# the host's "local address" (what Envoy appends to x-forwarded-for)
# ---------------------------------------------------------------------------


def envoy_local_address() -> str:
    """The address Envoy uses as its own local address
    (``Network::Utility::getLocalAddress(v4)``): the first non-loopback IPv4
    interface address in interface order, else 127.0.0.1.  With
    ``use_remote_address`` and a LOOPBACK peer Envoy appends this (not the
    peer) to x-forwarded-for.  Read via SIOCGIFADDR, no traffic."""
    import fcntl
    import ipaddress

    siocgifaddr = 0x8915
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _idx, name in sorted(socket.if_nameindex()):
            try:
                res = fcntl.ioctl(s.fileno(), siocgifaddr,
                                  struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            found.append(socket.inet_ntoa(res[20:24]))
    for a in found:
        if not ipaddress.ip_address(a).is_loopback:
            return a
    return "127.0.0.1"


# ---------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------


class Headers(list):
    """An ordered list of ``(name, value)`` pairs exactly as on the wire,
    with case-insensitive look-ups."""

    def get(self, name: str, default=None):
        n = name.lower()
        for k, v in self:
            if k.lower() == n:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self if k.lower() == n]

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    def names(self) -> list[str]:
        return [k for k, _ in self]

    def lower_names(self) -> list[str]:
        return [k.lower() for k, _ in self]


@dataclass
class Request:
    """A request as the upstream saw it."""
    conn: int                      # connection number at the upstream (1-based)
    index: int                     # request number on that connection (0-based)
    method: str
    target: str
    version: str
    headers: Headers
    body: bytes = b""
    chunked: bool = False
    trailers: Headers = field(default_factory=Headers)
    peer: tuple | None = None
    received_at: float = 0.0

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str, default=None):
        return self.headers.get(name, default)


@dataclass
class Response:
    """A response as the client saw it."""
    version: str
    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    chunked: bool = False
    trailers: Headers = field(default_factory=Headers)
    informational: list = field(default_factory=list)   # earlier 1xx responses
    raw_head: bytes = b""

    def header(self, name: str, default=None):
        return self.headers.get(name, default)


@dataclass
class Reply:
    """What the upstream answers to one request.

    ``action``: None (normal response), ``"hang"`` (never answer, keep the
    connection until the peer closes), ``"close"`` (close without answering),
    ``"reset"`` (RST without answering), ``"raw"`` (send ``raw`` bytes then
    keep serving), ``"upgrade"`` (send the response -- normally a 101 -- then
    echo raw bytes until EOF).
    """
    status: int = 200
    headers: list = field(default_factory=list)
    body: bytes = b""
    reason: str | None = None
    chunked: bool = False
    trailers: list = field(default_factory=list)
    add_content_length: bool = True
    delay: float = 0.0             # seconds before the response head
    close: bool = False            # close the connection after the response
    close_header: bool = True      # with ``close``: announce it with ``connection: close``
    action: str | None = None
    raw: bytes = b""
    chunk_size: int = 64 * 1024


REASONS = {100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created",
           204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
           400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class ProtocolError(AssertionError):
    pass


class _Reader:
    """Buffered reader over a socket (used by both ends)."""

    def __init__(self, sock: socket.socket, initial: bytes = b""):
        self.sock = sock
        self.buf = bytearray(initial)
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.sock.recv(256 * 1024)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, delim: bytes, limit: int = 1 << 20) -> bytes | None:
        """Return bytes up to and including ``delim``; None on EOF before
        any byte arrived; ProtocolError on EOF in the middle."""
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            start = max(0, len(self.buf) - len(delim) + 1)
            if len(self.buf) > limit:
                raise ProtocolError("line/head too long")
            if not self._fill():
                if not self.buf:
                    return None
                raise ProtocolError(f"EOF inside a message: {bytes(self.buf[:200])!r}")

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ProtocolError(f"EOF after {len(self.buf)} of {n} body bytes")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_to_eof(self) -> bytes:
        while self._fill():
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _parse_head(head: bytes) -> tuple[str, Headers]:
    lines = head[:-4].split(b"\r\n") if head.endswith(b"\r\n\r\n") else head.split(b"\r\n")
    start = lines[0].decode("latin-1")
    hs = Headers()
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"bad header line {line!r}")
        hs.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return start, hs


def _read_chunked(r: _Reader) -> tuple[bytes, Headers]:
    body = bytearray()
    while True:
        line = r.read_until(b"\r\n", limit=4096)
        if line is None:
            raise ProtocolError("EOF before chunk size")
        size = int(line[:-2].split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        body += r.read_exact(size)
        if r.read_exact(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
    trailers = Headers()
    while True:
        line = r.read_until(b"\r\n", limit=65536)
        if line is None:
            raise ProtocolError("EOF in trailers")
        if line == b"\r\n":
            break
        name, _, value = line[:-2].partition(b":")
        trailers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return bytes(body), trailers


def encode_headers(headers: Iterable[tuple[str, str]]) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers)


def encode_chunked(body: bytes, chunk_size: int = 64 * 1024,
                   trailers: Iterable[tuple[str, str]] = ()) -> bytes:
    out = bytearray()
    view = memoryview(body)
    for off in range(0, len(body), chunk_size):
        part = view[off:off + chunk_size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    out += b"0\r\n" + encode_headers(trailers) + b"\r\n"
    return bytes(out)


# ---------------------------------------------------------------------------
# the upstream origin server
# ---------------------------------------------------------------------------

Responder = Callable[[Request], Reply]


class HttpUpstream:
    """A threaded HTTP/1.1 origin that records requests.

    ``responder`` is a ``Reply`` (same answer every time) or a callable
    ``Request -> Reply``.  The default answers 200 with body
    ``"hello from <name>"``, ``content-type: text/plain`` and
    ``x-upstream: <name>``.
    """

    def __init__(self, responder: Reply | Responder | None = None, name: str = "up",
                 host: str = "127.0.0.1", send_100_continue: bool = False,
                 conn_timeout: float = 30.0, body_read_delay: float = 0.0, port: int = 0):
        self.name = name
        self.body_read_delay = body_read_delay  # pause before reading a request body
        self.responder = responder
        self.send_100_continue = send_100_continue
        self.requests: list[Request] = []
        self.conn_peers: list[tuple] = []
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.closed_conns = 0
        self.server = TcpServer(self._handle, host=host, name=name, conn_timeout=conn_timeout, port=port)

    # -- properties ----------------------------------------------------------
    @property
    def address(self) -> dict:
        return self.server.address

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def accepted(self) -> int:
        return self.server.accepted

    def default_reply(self, req: Request) -> Reply:
        return Reply(200, [("content-type", "text/plain"), ("x-upstream", self.name)],
                     f"hello from {self.name}".encode())

    def _reply_for(self, req: Request) -> Reply:
        if self.responder is None:
            return self.default_reply(req)
        if isinstance(self.responder, Reply):
            return self.responder
        return self.responder(req)

    def wait_requests(self, n: int, timeout: float = 15.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.requests)

    def stop(self) -> None:
        self.server.stop()

    # -- per connection --------------------------------------------------------
    def _handle(self, conn: socket.socket, server: TcpServer) -> None:
        with self.lock:
            self.conn_peers.append(conn.getpeername())
            conn_no = len(self.conn_peers)
        r = _Reader(conn)
        index = 0
        try:
            while True:
                try:
                    head = r.read_until(b"\r\n\r\n", limit=1 << 20)
                except (ConnectionResetError, socket.timeout):
                    return
                if head is None:
                    return
                start, headers = _parse_head(head)
                parts = start.split(" ")
                if len(parts) != 3:
                    raise ProtocolError(f"bad request line {start!r}")
                method, target, version = parts
                req = Request(conn_no, index, method, target, version, headers,
                              peer=conn.getpeername(), received_at=time.monotonic())
                te = headers.get("transfer-encoding")
                if self.send_100_continue and (headers.get("expect") or "").lower() == "100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                has_body = (te is not None or
                            int(headers.get("content-length", "0") or "0") > 0)
                if has_body and self.body_read_delay:
                    time.sleep(self.body_read_delay)
                if te is not None and "chunked" in te.lower():
                    req.chunked = True
                    req.body, req.trailers = _read_chunked(r)
                elif headers.get("content-length") is not None:
                    req.body = r.read_exact(int(headers.get("content-length")))
                with self.cond:
                    self.requests.append(req)
                    self.cond.notify_all()
                index += 1
                reply = self._reply_for(req)
                if not self._send_reply(conn, r, req, reply):
                    return
        finally:
            with self.lock:
                self.closed_conns += 1

    def _send_reply(self, conn: socket.socket, r: _Reader, req: Request, reply: Reply) -> bool:
        """Returns False when the connection must end."""
        if reply.delay:
            # Cut short by stop(): a test may give a generous delay (one no
            # proxy timer can lose to, however late it fires) for free.
            self.server._stop.wait(reply.delay)
        if reply.action == "hang":
            try:
                r.read_to_eof()
            except OSError:
                pass
            return False
        if reply.action == "close":
            return False
        if reply.action == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if reply.action == "raw":
            conn.sendall(reply.raw)
            return not reply.close
        reason = reply.reason if reply.reason is not None else REASONS.get(reply.status, "Status")
        headers = list(reply.headers)
        names = {k.lower() for k, _ in headers}
        no_body = req.method == "HEAD" or reply.status in (204, 304) or reply.status < 200
        if reply.chunked:
            if "transfer-encoding" not in names:
                headers.append(("transfer-encoding", "chunked"))
        elif (reply.add_content_length and "content-length" not in names
              and reply.status not in (204, 304) and reply.status >= 200):
            headers.append(("content-length", str(len(reply.body))))
        if reply.close and reply.close_header and "connection" not in names:
            headers.append(("connection", "close"))
        out = f"HTTP/1.1 {reply.status} {reason}\r\n".encode() + encode_headers(headers) + b"\r\n"
        if not no_body:
            if reply.chunked:
                out += encode_chunked(reply.body, reply.chunk_size, reply.trailers)
            else:
                out += reply.body
        support.send_buffer(conn, out)
        if reply.action == "upgrade":
            if r.buf:
                conn.sendall(bytes(r.buf))
                r.buf.clear()
            support.echo_handler(conn, None)
            return False
        return not reply.close


# ---------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------


def build_request(method: str = "GET", target: str = "/", host: str | None = "example.com",
                  headers: Iterable[tuple[str, str]] = (), body: bytes | None = None,
                  version: str = "HTTP/1.1", chunked: bool = False,
                  trailers: Iterable[tuple[str, str]] = (), chunk_size: int = 64 * 1024) -> bytes:
    hs = []
    if host is not None:
        hs.append(("Host", host))
    hs.extend(headers)
    names = {k.lower() for k, _ in hs}
    if chunked:
        if "transfer-encoding" not in names:
            hs.append(("Transfer-Encoding", "chunked"))
    elif body is not None and "content-length" not in names:
        hs.append(("Content-Length", str(len(body))))
    out = f"{method} {target} {version}\r\n".encode() + encode_headers(hs) + b"\r\n"
    if body is not None:
        out += encode_chunked(body, chunk_size, trailers) if chunked else body
    return out


class HttpClient:
    """One client connection with exact control over the bytes sent."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = support.connect(host, port, timeout=timeout)
        self.reader = _Reader(self.sock)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        support.send_buffer(self.sock, data)

    def request(self, method: str = "GET", target: str = "/", **kw) -> Response:
        self.send(build_request(method, target, **kw))
        return self.read_response(method)

    def read_response(self, method: str = "GET", keep_informational: bool = False) -> Response:
        informational = []
        while True:
            head = self.reader.read_until(b"\r\n\r\n", limit=1 << 20)
            if head is None:
                raise ProtocolError("connection closed before a response")
            start, headers = _parse_head(head)
            version, _, rest = start.partition(" ")
            code, _, reason = rest.partition(" ")
            resp = Response(version, int(code), reason, headers, raw_head=head)
            if 100 <= resp.status < 200 and resp.status != 101:
                informational.append(resp)
                if keep_informational:
                    resp.informational = informational[:-1]
                    return resp
                continue
            break
        resp.informational = informational
        te = headers.get("transfer-encoding")
        if method == "HEAD" or resp.status in (204, 304) or resp.status == 101:
            return resp
        if te is not None and "chunked" in te.lower():
            resp.chunked = True
            resp.body, resp.trailers = _read_chunked(self.reader)
        elif headers.get("content-length") is not None:
            resp.body = self.reader.read_exact(int(headers.get("content-length")))
        else:
            resp.body = self.reader.read_to_eof()
        return resp

    def read_body(self, resp: Response) -> None:
        """For a response read with ``read_response(method="HEAD")`` whose body is wanted."""
        resp.body = self.reader.read_exact(int(resp.headers.get("content-length")))

    def wait_closed(self, timeout: float = 3.0) -> tuple[float, bytes]:
        """Wait for EOF/RST; return (elapsed, any extra bytes received)."""
        extra = bytes(self.reader.buf)
        self.reader.buf.clear()
        if self.reader.eof:
            return 0.0, extra
        elapsed, data = support.wait_closed(self.sock, timeout)
        return elapsed, extra + data

    def recv_exact(self, n: int) -> bytes:
        """Raw bytes (e.g. after a 101), buffered bytes first."""
        return self.reader.read_exact(n)

    def is_open(self, wait: float = 0.2) -> bool:
        """True if neither EOF nor RST arrives within ``wait`` (bytes that do
        arrive are kept for the next read)."""
        if self.reader.eof:
            return False
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except (ConnectionResetError, ConnectionAbortedError):
            return False
        finally:
            self.sock.settimeout(old)
        if not data:
            self.reader.eof = True
            return False
        self.reader.buf += data
        return True


def get(port: int, target: str = "/", method: str = "GET", timeout: float = 5.0, **kw) -> Response:
    """One request on a fresh connection."""
    with HttpClient(port, timeout=timeout) as c:
        return c.request(method, target, **kw)


def raw_exchange(port: int, data: bytes, timeout: float = 3.0) -> tuple[bytes, bool]:
    """Send raw bytes on a fresh connection and read everything until the
    proxy closes (or ``timeout``).  Returns (bytes received, closed?)."""
    s = support.connect("127.0.0.1", port, timeout=timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        got = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(got), False
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                return bytes(got), False
            except (ConnectionResetError, ConnectionAbortedError):
                return bytes(got), True
            if not d:
                return bytes(got), True
            got += d
    finally:
        s.close()


def parse_response_bytes(data: bytes, method: str = "GET") -> Response:
    """Parse one response out of raw bytes."""
    a, b = socket.socketpair()
    try:
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        b.settimeout(2)
        r = _Reader(b)
        c = HttpClient.__new__(HttpClient)
        c.sock, c.reader = b, r
        return c.read_response(method)
    finally:
        a.close()
        b.close()
