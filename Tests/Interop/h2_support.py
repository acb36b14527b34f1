"""HTTP/2 helpers for the interop suite: an h2c (prior knowledge) origin
server built on the ``h2`` library, and config builders for HTTP/2
listeners and clusters.

``H2Upstream`` answers every stream when its request has ended:

* ``/echo...``: status 200, the request body back, the request's head in
  ``x-echo-method``, ``x-echo-path``, ``x-echo-authority``, ``x-echo-scheme``
  and ``x-echo-host`` (the ``host`` field if one arrived), and the request's
  trailers back as trailers (plus ``x-echo-trailers: n``);
* ``/status/<n>``: that status, empty body;
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
    def __init__(self, host: str = "127.0.0.1"):
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
        h2c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        h2c.initiate_connection()
        streams: dict[int, _Stream] = {}
        try:
            conn.sendall(h2c.data_to_send())
            while not self.closed:
                readable, _, _ = select.select([conn], [], [], 0.05)
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
        if path.startswith("/status/"):
            h2c.send_headers(stream_id, [(":status", path.split("/")[2])], end_stream=True)
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
