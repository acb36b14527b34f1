"""HTTP/2 helpers for the interop suite: an h2c (prior knowledge) origin
server built on the ``h2`` library, and config builders for HTTP/2
listeners and clusters.

``H2Upstream`` answers every stream when its request has ended:

* ``/echo...``: status 200, the request body back, the request's head in
  ``x-echo-method``, ``x-echo-path``, ``x-echo-authority``, ``x-echo-scheme``
  and ``x-echo-host`` (the ``host`` field if one arrived), and the request's
  trailers back as trailers (plus ``x-echo-trailers: n``);
* ``/status/<n>``: that status, empty body;
* ``/delay/<ms>``: waits that long first (the connection's thread sleeps);
* ``/hold...``: never answered (the stream stays open until the proxy resets
  it): an origin that ignores any deadline it is given, so only the proxy
  can end the call;
* ``/reset/<code>``: RST_STREAM with that error code (``/reset/<code>/once``:
  only the first request for that path, then the default answer);
* anything else: 200 with the body ``h2 upstream``.

It records each request (headers, body length and sha256, trailers) and
honours flow control both ways, so 10 MiB bodies stream through.
"""

from __future__ import annotations

import hashlib
import select
import socket
import threading
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from support import socket_address

HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
HTTP_PROTOCOL_OPTIONS_TYPE = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def h2_cluster_options(**http2_options) -> dict:
    """``typed_extension_protocol_options`` selecting HTTP/2 upstream."""
    return {HTTP_PROTOCOL_OPTIONS: {"@type": HTTP_PROTOCOL_OPTIONS_TYPE,
                                    "explicit_http_config": {"http2_protocol_options": dict(http2_options)}}}


@dataclass
class H2Request:
    headers: list
    body_len: int = 0
    body_sha: str = ""
    trailers: list = field(default_factory=list)

    def header(self, name: str):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class _Stream:
    def __init__(self):
        self.headers = []
        self.body = bytearray()
        self.trailers = []
        self.out = b""
        self.out_trailers = None
        self.responding = False


class H2Upstream:
    """An HTTP/2 origin: cleartext (prior knowledge), or over TLS with `tls`
    (a server context; offer ALPN `h2` on it)."""

    def __init__(self, host: str = "127.0.0.1", tls=None):
        self.tls = tls
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.host, self.port = self.sock.getsockname()[:2]
        self.requests: list[H2Request] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.closed = False
        self.threads: list[threading.Thread] = []
        self.conns: list[socket.socket] = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    @property
    def address(self) -> dict:
        return socket_address(self.host, self.port)

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn: socket.socket):
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        h2c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        h2c.initiate_connection()
        streams: dict[int, _Stream] = {}
        try:
            conn.sendall(h2c.data_to_send())
            while not self.closed:
                # Records already decrypted wait inside the TLS socket, unseen by select.
                readable = self.tls is not None and conn.pending() > 0
                if not readable:
                    readable = bool(select.select([conn], [], [], 0.05)[0])
                if readable:
                    data = conn.recv(1 << 16)
                    if not data:
                        return
                    try:
                        events = h2c.receive_data(data)
                    except h2.exceptions.ProtocolError:
                        conn.sendall(h2c.data_to_send())
                        return
                    for ev in events:
                        self._event(h2c, streams, ev)
                self._pump(h2c, streams)
                out = h2c.data_to_send()
                if out:
                    conn.sendall(out)
        except OSError:
            return
        finally:
            conn.close()

    def _event(self, h2c, streams, ev):
        if isinstance(ev, h2.events.RequestReceived):
            s = streams.setdefault(ev.stream_id, _Stream())
            s.headers = list(ev.headers)
            if not ev.stream_ended and dict(s.headers).get(":path", "").startswith("/early"):
                # A whole response before the request's end, then RST_STREAM(NO_ERROR):
                # "stop sending, the answer is complete" (RFC 9113 section 8.1).
                s.responding = True
                with self.lock:
                    self.requests.append(H2Request(headers=s.headers, body_len=0, body_sha="", trailers=[]))
                h2c.send_headers(ev.stream_id, [(":status", "200"), ("content-length", "5")])
                h2c.send_data(ev.stream_id, b"early", end_stream=True)
                h2c.reset_stream(ev.stream_id, error_code=0)
                streams.pop(ev.stream_id, None)
                return
            if ev.stream_ended:
                self._respond(h2c, ev.stream_id, s)
        elif isinstance(ev, h2.events.DataReceived):
            s = streams.setdefault(ev.stream_id, _Stream())
            s.body += ev.data
            h2c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            if ev.stream_ended:
                self._respond(h2c, ev.stream_id, s)
        elif isinstance(ev, h2.events.TrailersReceived):
            s = streams.setdefault(ev.stream_id, _Stream())
            s.trailers = list(ev.headers)
            if ev.stream_ended:
                self._respond(h2c, ev.stream_id, s)
        elif isinstance(ev, h2.events.StreamEnded):
            s = streams.get(ev.stream_id)
            if s is not None and not s.responding:
                self._respond(h2c, ev.stream_id, s)
        elif isinstance(ev, h2.events.StreamReset):
            streams.pop(ev.stream_id, None)

    def _respond(self, h2c, stream_id, s: _Stream):
        if s.responding:
            return
        s.responding = True
        body = bytes(s.body)
        rec = H2Request(headers=s.headers, body_len=len(body), body_sha=hashlib.sha256(body).hexdigest(),
                        trailers=s.trailers)
        with self.lock:
            self.requests.append(rec)
        path = rec.header(":path") or "/"
        if path.startswith("/hold"):
            s.out = None  # nothing for _pump to send, not even END_STREAM
            return
        if path.startswith("/delay/"):
            import time
            time.sleep(int(path.split("/")[2]) / 1000)  # holds this connection's thread, as a slow origin
        if path.startswith("/status/"):
            h2c.send_headers(stream_id, [(":status", path.split("/")[2])], end_stream=True)
            return
        if path.startswith("/goaway"):
            # The answer, then GOAWAY (NO_ERROR) naming this stream as the last.
            h2c.send_headers(stream_id, [(":status", "200")], end_stream=True)
            h2c.close_connection(error_code=0, last_stream_id=stream_id)
            return
        if path.startswith("/reset/"):
            # /reset/<code>[/once]: RST_STREAM with that error code (only the first time with /once).
            parts = path.split("/")
            with self.lock:
                seen = sum(1 for r in self.requests if r.header(":path") == path)
            if not (len(parts) > 3 and parts[3] == "once" and seen > 1):
                h2c.reset_stream(stream_id, error_code=int(parts[2]))
                return
        if path.startswith("/echo"):
            headers = [(":status", "200"), ("x-echo-method", rec.header(":method") or ""),
                       ("x-echo-path", path), ("x-echo-authority", rec.header(":authority") or ""),
                       ("x-echo-scheme", rec.header(":scheme") or ""), ("x-echo-trailers", str(len(s.trailers)))]
            if rec.header("host") is not None:
                headers.append(("x-echo-host", rec.header("host")))
            h2c.send_headers(stream_id, headers)
            s.out = body
            s.out_trailers = list(s.trailers) if s.trailers else None
            return
        h2c.send_headers(stream_id, [(":status", "200"), ("content-length", "11")])
        s.out = b"h2 upstream"
        s.out_trailers = None

    def _pump(self, h2c, streams):
        for stream_id, s in list(streams.items()):
            if not s.responding or s.out is None:
                continue
            try:
                while s.out:
                    window = h2c.local_flow_control_window(stream_id)
                    n = min(window, h2c.max_outbound_frame_size, len(s.out))
                    if n <= 0:
                        break
                    h2c.send_data(stream_id, s.out[:n])
                    s.out = s.out[n:]
                if not s.out:
                    if s.out_trailers:
                        h2c.send_headers(stream_id, s.out_trailers, end_stream=True)
                    else:
                        h2c.end_stream(stream_id)
                    streams.pop(stream_id, None)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError, KeyError):
                streams.pop(stream_id, None)

    def stop(self):
        self.closed = True
        try:
            # close() alone does not wake a thread blocked in accept(): it sat
            # out the 2 s join below on every stop. shutdown() does (EINVAL).
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for t in self.threads:
            t.join(timeout=2)


class H2Client:
    """A raw h2c client (Python ``h2``) that keeps its connection and shows
    every event, for tests of connection-level behaviour (GOAWAY, resets)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True,
                                                                               header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.events: list = []
        self.closed = False

    def request(self, path: str = "/", method: str = "GET", authority: str = "example.com", end: bool = True) -> int:
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", method), (":scheme", "http"), (":authority", authority),
                                     (":path", path)], end_stream=end)
        self.sock.sendall(self.conn.data_to_send())
        return sid

    def pump(self, seconds: float, until=None) -> list:
        """Reads for up to ``seconds`` (or until ``until(events)`` is true)."""
        import time
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.closed:
            if until is not None and until(self.events):
                break
            r, _, _ = select.select([self.sock], [], [], max(0.0, min(0.05, deadline - time.monotonic())))
            if not r:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            self.events.extend(self.conn.receive_data(data))
            out = self.conn.data_to_send()
            if out:
                try:
                    self.sock.sendall(out)
                except OSError:
                    pass
        return self.events

    def raw_frames(self, seconds: float) -> list[tuple[int, int, int, bytes]]:
        """Reads frames without the ``h2`` state machine (which stops at a
        GOAWAY) until EOF or ``seconds``: (type, flags, stream id, payload)."""
        import struct
        import time
        buf = b""
        frames = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                break
            buf += data
            while len(buf) >= 9:
                length = int.from_bytes(buf[:3], "big")
                if len(buf) < 9 + length:
                    break
                ftype, flags = buf[3], buf[4]
                sid = struct.unpack(">I", buf[5:9])[0] & 0x7FFFFFFF
                frames.append((ftype, flags, sid, buf[9:9 + length]))
                buf = buf[9 + length:]
        return frames

    def stream_ended(self, sid: int) -> bool:
        return any(isinstance(e, h2.events.StreamEnded) and e.stream_id == sid for e in self.events)

    def status(self, sid: int):
        for e in self.events:
            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == sid:
                return dict(e.headers).get(":status")
        return None

    def goaways(self) -> list:
        return [e for e in self.events if isinstance(e, h2.events.ConnectionTerminated)]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
