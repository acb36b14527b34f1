"""WebSocket over HTTP/2 (RFC 8441 extended CONNECT), as Envoy 1.40 does it:
``http2_protocol_options.allow_connect`` on the connection manager announces
SETTINGS_ENABLE_CONNECT_PROTOCOL; a ``:method CONNECT`` + ``:protocol
websocket`` stream on a route that allows ``websocket`` upgrades goes to an
HTTP/1 upstream as ``GET`` + ``Upgrade: websocket`` (the ``101`` comes back
as ``200``), and an HTTP/1 WebSocket client reaches an HTTP/2 upstream as an
extended CONNECT (its ``200`` goes back as ``101``). WebSocket frames then
flow as DATA both ways. The client is raw Python ``h2``; the HTTP/1
upstream is ``http_support.HttpUpstream`` (101 then echo), the HTTP/2 one a
small ``h2`` server here that accepts extended CONNECT and echoes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import select
import socket
import threading

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

import http_support as H
from h2_support import H2Client, h2_cluster_options
from http_support import HttpClient, Reply, route
from support import free_port, socket_address

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3's example answer to WS_KEY


def ws_frame(payload: bytes, opcode: int = 1, masked: bool = True) -> bytes:
    """A WebSocket frame (RFC 6455 §5.2): a client's is masked, a server's not."""
    n = len(payload)
    bit = 0x80 if masked else 0
    if n < 126:
        head = bytes([0x80 | opcode, bit | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, bit | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, bit | 127]) + n.to_bytes(8, "big")
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_parse(buf: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Whole frames at the front of ``buf`` as (opcode, unmasked payload), and the rest."""
    frames = []
    while len(buf) >= 2:
        opcode, masked, n = buf[0] & 0x0F, buf[1] & 0x80, buf[1] & 0x7F
        at = 2
        if n == 126:
            if len(buf) < 4:
                break
            n, at = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, at = int.from_bytes(buf[2:10], "big"), 10
        mask = b""
        if masked:
            mask, at = buf[at:at + 4], at + 4
        if len(buf) < at + n:
            break
        payload = buf[at:at + n]
        if masked:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        frames.append((opcode, payload))
        buf = buf[at + n:]
    return frames, buf


def ws_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()


class WebSocketEcho:
    """Echoes a WebSocket: each client frame comes back unmasked; a close
    frame is echoed and ends the exchange (``done`` is True)."""

    def __init__(self):
        self.buf = b""
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        frames, self.buf = ws_parse(self.buf)
        out = b""
        for opcode, payload in frames:
            if not self.done:
                out += ws_frame(payload, opcode, masked=False)
            self.done = self.done or opcode == 8
        return out


class ThreadedServer:
    """A TCP listener on 127.0.0.1 that runs ``_connection(conn)`` in a thread per connection."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.requests: list = []
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> dict:
        return socket_address("127.0.0.1", self.port)

    def _serve(self):
        while not self.stopped:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.1)
                conn = self.sock.accept()[0] if r else None
            except (OSError, ValueError):
                return
            if conn:
                threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket):
        raise NotImplementedError

    def stop(self):
        self.stopped = True
        self.sock.close()
        self.thread.join(timeout=2)


class H1WebSocketUpstream(ThreadedServer):
    """An HTTP/1.1 WebSocket server: answers an upgrade with 101 and the
    computed ``sec-websocket-accept``, echoes frames, and closes the
    connection after echoing a close frame. Other requests get 200 "plain"."""

    def _connection(self, conn: socket.socket):
        conn.settimeout(10)
        try:
            buf = b""
            while not self.stopped:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                headers = {}
                for line in lines[1:]:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
                self.requests.append((lines[0], headers))
                if headers.get("upgrade", "").lower() != "websocket":
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nplain")
                    continue
                conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             b"Sec-WebSocket-Accept: " + ws_accept(headers["sec-websocket-key"]).encode() + b"\r\n\r\n")
                echo = WebSocketEcho()
                data = buf
                while True:
                    out = echo.feed(data)
                    if out:
                        conn.sendall(out)
                    if echo.done:
                        return
                    data = conn.recv(65536)
                    if not data:
                        return
        except OSError:
            pass
        finally:
            conn.close()

@pytest.fixture
def ws_upstream():
    up = H1WebSocketUpstream()
    yield up
    up.stop()


def config(admin: int, port: int, upstream: dict, hcm_upgrades: list | None = None, route_upgrades: list | None = None,
           upstream_h2: bool = False, allow_connect: bool = True, codec: str = "AUTO") -> dict:
    extra = {"route_extra": {"upgrade_configs": route_upgrades}} if route_upgrades is not None else {}
    cluster_extra = {"typed_extension_protocol_options": h2_cluster_options(allow_connect=True)} if upstream_h2 else {}
    hcm: dict = {"codec_type": codec}
    if allow_connect:
        hcm["http2_protocol_options"] = {"allow_connect": True}
    if hcm_upgrades is not None:
        hcm["upgrade_configs"] = hcm_upgrades
    return H.http_config(admin, port, [route({"prefix": "/"}, "backend", **extra)],
                         [H.http_cluster("backend", [upstream], **cluster_extra)], **hcm)


def extended_connect(client: H2Client, path: str = "/chat", end: bool = False) -> int:
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                   (":path", path), (":authority", "example.com"), ("sec-websocket-version", "13"),
                                   ("sec-websocket-key", WS_KEY)], end_stream=end)
    client.sock.sendall(client.conn.data_to_send())
    return sid


def h2_connected(port: int) -> H2Client:
    c = H2Client(port)
    c.pump(3, until=lambda ev: any(isinstance(e, h2.events.RemoteSettingsChanged) for e in ev))
    return c


def response(client: H2Client, sid: int) -> dict | None:
    for e in client.events:
        if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
            return dict(e.headers)
    return None


def data(client: H2Client, sid: int) -> bytes:
    out = b""
    for e in client.events:
        if isinstance(e, h2.events.DataReceived) and e.stream_id == sid:
            out += e.data
            client.conn.acknowledge_received_data(e.flow_controlled_length, sid)
    return out


def resets(client: H2Client, sid: int) -> list:
    return [e for e in client.events if isinstance(e, h2.events.StreamReset) and e.stream_id == sid]


def send(client: H2Client, sid: int, payload: bytes, end: bool = False) -> None:
    """DATA frames of at most the peer's frame size (payloads stay within the window)."""
    size = client.conn.max_outbound_frame_size
    pieces = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
    for i, piece in enumerate(pieces):
        client.conn.send_data(sid, piece, end_stream=end and i == len(pieces) - 1)
    client.sock.sendall(client.conn.data_to_send())


# -- h2 client -> HTTP/1 upstream ---------------------------------------------


def test_extended_connect_reaches_an_http1_websocket_upstream(proxy, ws_upstream, admin_port):
    """The proxy announces ENABLE_CONNECT_PROTOCOL; the extended CONNECT
    reaches the HTTP/1 upstream as a GET upgrade (its WebSocket headers
    kept), the 101 comes back as 200 without the upgrade fields, and frames
    go both ways as DATA. The upstream's close after the close frame resets
    the stream (CONNECT_ERROR); the connection stays for other streams."""
    port = free_port()
    p = proxy(config(admin_port, port, ws_upstream.address, hcm_upgrades=[{"upgrade_type": "websocket"}]))
    c = h2_connected(port)
    try:
        assert c.conn.remote_settings.enable_connect_protocol == 1
        sid = extended_connect(c)
        c.pump(5, until=lambda ev: response(c, sid) is not None)
        head = response(c, sid)
        assert head is not None and head[":status"] == "200"
        assert "upgrade" not in head and "connection" not in head
        assert head.get("sec-websocket-accept") == WS_ACCEPT
        big = os.urandom(100_000)
        send(c, sid, ws_frame(b"hello") + ws_frame(big, opcode=2))
        expected = ws_frame(b"hello", masked=False) + ws_frame(big, opcode=2, masked=False)
        c.pump(5, until=lambda ev: len(data(c, sid)) >= len(expected))
        assert data(c, sid) == expected
        send(c, sid, ws_frame(b"\x03\xe8", opcode=8))
        c.pump(5, until=lambda ev: c.stream_ended(sid) or resets(c, sid))
        assert data(c, sid) == expected + ws_frame(b"\x03\xe8", opcode=8, masked=False)
        # Envoy ends an upgrade whose upstream connection closed with
        # RST_STREAM CONNECT_ERROR, not END_STREAM.
        assert not c.stream_ended(sid) and [r.error_code for r in resets(c, sid)] == [0xA]
        other = c.request("/plain")
        c.pump(5, until=lambda ev: c.stream_ended(other))
        assert c.status(other) == "200" and not c.closed
    finally:
        c.close()
    line, q = ws_upstream.requests[0]
    assert line == "GET /chat HTTP/1.1"
    assert q["upgrade"] == "websocket" and q["connection"].lower() == "upgrade"
    assert q["sec-websocket-key"] == WS_KEY and q["sec-websocket-version"] == "13"
    assert "content-length" not in q and "transfer-encoding" not in q
    p.wait_for_stats({"http.ingress_http.downstream_cx_upgrades_total": 1})


@pytest.mark.parametrize("hcm, on_route, allowed", [
    (None, [{"upgrade_type": "websocket"}], True),
    ([{"upgrade_type": "websocket"}], [{"upgrade_type": "websocket", "enabled": False}], False),
    (None, None, False),
])
def test_route_upgrade_configs_override_the_connection_managers(proxy, ws_upstream, admin_port, hcm, on_route,
                                                                allowed):
    """Envoy's table: a route's ``upgrade_configs`` entry decides, else the
    connection manager's. A refused upgrade is 403 on its stream (Envoy
    first sends the graceful GOAWAY, then the 403, then RST_STREAM
    NO_ERROR for the request it did not read); the upstream sees nothing."""
    port = free_port()
    p = proxy(config(admin_port, port, ws_upstream.address, hcm_upgrades=hcm, route_upgrades=on_route))
    c = h2_connected(port)
    try:
        sid = extended_connect(c)
        if allowed:
            c.pump(5, until=lambda ev: response(c, sid) is not None)
            assert response(c, sid)[":status"] == "200"
            return
        frames = c.raw_frames(1.5)
    finally:
        c.close()
    kinds = [(t, sid_) for t, _, sid_, _ in frames]
    goaway, headers, rst = (7, 0), (1, sid), (3, sid)
    assert goaway in kinds and headers in kinds and rst in kinds
    assert kinds.index(goaway) < kinds.index(headers) < kinds.index(rst)
    assert int.from_bytes(frames[kinds.index(goaway)][3][:4], "big") == 2**31 - 1
    assert frames[kinds.index(rst)][3] == b"\x00\x00\x00\x00"
    assert ws_upstream.requests == []
    p.wait_for_stats({"http.ingress_http.downstream_rq_ws_on_non_ws_route": 1})


def test_an_upgrade_the_http1_upstream_declines_keeps_its_response(proxy, http_upstreams, admin_port):
    """The upstream answers the (translated) upgrade with a plain 404: the
    HTTP/2 client gets it whole (content-type, content-length and body, but
    no ``x-envoy-upstream-service-time``), then RST_STREAM NO_ERROR for the
    request it never ended; the connection stays."""
    up = http_upstreams(lambda req: Reply(404, [("content-type", "text/plain"), ("x-a", "1")], b"nope"))
    port = free_port()
    proxy(config(admin_port, port, up.address, hcm_upgrades=[{"upgrade_type": "websocket"}]))
    c = h2_connected(port)
    try:
        sid = extended_connect(c)
        c.pump(5, until=lambda ev: resets(c, sid))
        head = response(c, sid)
        assert head is not None and [k for k in head] == [":status", "content-type", "x-a", "content-length", "date",
                                                          "server"]
        assert head[":status"] == "404" and head["content-length"] == "4"
        assert data(c, sid) == b"nope" and c.stream_ended(sid)
        assert [r.error_code for r in resets(c, sid)] == [0]
        other = c.request("/x")
        c.pump(5, until=lambda ev: c.stream_ended(other))
        assert c.status(other) == "404" and not c.closed
    finally:
        c.close()


# -- HTTP/1 client -> h2 upstream ---------------------------------------------


class H2WebSocketUpstream(ThreadedServer):
    """An h2c server that accepts extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL=1),
    answers 200 and echoes the WebSocket frames in the stream's DATA; after
    echoing a close frame it ends the stream."""

    def _connection(self, conn: socket.socket):
        h = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        h.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
        h.initiate_connection()
        conn.sendall(h.data_to_send())
        echoes: dict[int, WebSocketEcho] = {}
        try:
            while not self.stopped:
                r, _, _ = select.select([conn], [], [], 0.1)
                if not r:
                    continue
                chunk = conn.recv(65536)
                if not chunk:
                    return
                for e in h.receive_data(chunk):
                    if isinstance(e, h2.events.RequestReceived):
                        self.requests.append(dict(e.headers))
                        echoes[e.stream_id] = WebSocketEcho()
                        h.send_headers(e.stream_id, [(":status", "200"), ("sec-websocket-accept", WS_ACCEPT)])
                    elif isinstance(e, h2.events.DataReceived):
                        h.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                        echo = echoes[e.stream_id]
                        out = echo.feed(e.data)
                        size = h.max_outbound_frame_size
                        for i in range(0, len(out), size):
                            h.send_data(e.stream_id, out[i:i + size])
                        if echo.done:
                            h.end_stream(e.stream_id)
                conn.sendall(h.data_to_send())
        except OSError:
            pass
        finally:
            conn.close()

def test_http1_websocket_reaches_an_h2_upstream_as_extended_connect(proxy, admin_port):
    """The HTTP/1 upgrade goes to the HTTP/2 upstream as ``:method CONNECT``
    + ``:protocol websocket`` (no upgrade fields); its 200 comes back as
    ``101`` with ``upgrade: websocket`` and ``connection: upgrade``, then
    frames flow both ways."""
    up = H2WebSocketUpstream()
    try:
        port = free_port()
        proxy(config(admin_port, port, up.address, hcm_upgrades=[{"upgrade_type": "websocket"}], upstream_h2=True,
                     allow_connect=False, codec="HTTP1"))
        with HttpClient(port) as c:
            c.send(b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: " + WS_KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
            r = c.read_response()
            assert r.status == 101
            assert r.header("upgrade") == "websocket" and (r.header("connection") or "").lower() == "upgrade"
            assert r.header("sec-websocket-accept") == WS_ACCEPT
            for payload, opcode in [(b"hello", 1), (os.urandom(100_000), 2), (b"\x03\xe8", 8)]:
                c.send(ws_frame(payload, opcode))
                echoed = ws_frame(payload, opcode, masked=False)
                assert c.recv_exact(len(echoed)) == echoed
            # The upstream ended the stream after the close frame: the proxy closes.
            _, extra = c.wait_closed(5)
            assert extra == b""
        q = up.requests[0]
        assert q[":method"] == "CONNECT" and q[":protocol"] == "websocket" and q[":path"] == "/chat"
        assert "upgrade" not in q and "connection" not in q
        assert q.get("sec-websocket-key") == WS_KEY
    finally:
        up.stop()


def test_extended_connect_end_to_end_over_h2(proxy, admin_port):
    """h2 client -> proxy -> h2 upstream: the extended CONNECT arrives as an
    extended CONNECT, the 200 goes back as 200, frames flow both ways; the
    upstream's END_STREAM reaches the client as END_STREAM."""
    up = H2WebSocketUpstream()
    try:
        port = free_port()
        proxy(config(admin_port, port, up.address, hcm_upgrades=[{"upgrade_type": "websocket"}], upstream_h2=True))
        c = h2_connected(port)
        try:
            sid = extended_connect(c)
            c.pump(5, until=lambda ev: response(c, sid) is not None)
            head = response(c, sid)
            assert head is not None and head[":status"] == "200" and "upgrade" not in head
            big = os.urandom(50_000)
            send(c, sid, ws_frame(big, opcode=2) + ws_frame(b"\x03\xe8", opcode=8))
            expected = ws_frame(big, opcode=2, masked=False) + ws_frame(b"\x03\xe8", opcode=8, masked=False)
            c.pump(5, until=lambda ev: c.stream_ended(sid) or resets(c, sid))
            assert data(c, sid) == expected
            assert c.stream_ended(sid)
            # The client had not ended its side: the stream is reset after
            # the response (NO_ERROR), as Envoy ends such streams.
            c.pump(1, until=lambda ev: resets(c, sid))
            assert [r.error_code for r in resets(c, sid)] == [0]
        finally:
            c.close()
        q = up.requests[0]
        assert q[":method"] == "CONNECT" and q[":protocol"] == "websocket" and q[":path"] == "/chat"
        assert q.get("sec-websocket-version") == "13"
    finally:
        up.stop()
