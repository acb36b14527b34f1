#!/usr/bin/env python3
"""Sends hand-made HTTP/2 frames to Envoy (h2c listener, direct response) and
prints what comes back: frames, whether the connection closed, and the
non-zero http2.* stats. The HTTP/2 codec's outcomes for invalid input
(Tests/RemoraHTTPTests/HTTP2AttackTests.swift) were pinned with it against
Envoy 1.40; rerun it when changing them.

    /work/main/.venv/bin/python scripts/h2-envoy-probe.py [ENVOY_BINARY]

Waits 3 s per case: Envoy closes after its delayed-close timeout (1 s).
"""
import os, shutil, socket, struct, subprocess, sys, tempfile, time

ENVOY = sys.argv[1] if len(sys.argv) > 1 else "/work/main/.venv/lib/python3.11/site-packages/envoy/_bin/envoy"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def frame(t, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + struct.pack(">I", sid) + payload

def hpack(fields):
    out = b""
    for n, v in fields:
        n, v = n.encode(), v.encode()
        assert len(n) < 127 and len(v) < 127
        out += b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v
    return out

REQ = [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)

def read_frames(sock, timeout=1.0):
    sock.settimeout(timeout)
    buf = b""; closed = False
    end = time.time() + timeout
    while time.time() < end:
        try:
            d = sock.recv(65536)
            if not d: closed = True; break
            buf += d
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = "reset"; break
    frames = []
    while len(buf) >= 9:
        n = int.from_bytes(buf[:3], "big")
        if len(buf) < 9 + n: break
        t, fl, sid = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7fffffff
        p = buf[9:9+n]; buf = buf[9+n:]
        desc = {0:"DATA",1:"HEADERS",3:"RST",4:"SETTINGS",6:"PING",7:"GOAWAY",8:"WINDOW_UPDATE"}.get(t, str(t))
        if t == 3: desc += f"(s{sid} code={int.from_bytes(p[:4],'big')})"
        elif t == 7: desc += f"(last={int.from_bytes(p[:4],'big')&0x7fffffff} code={int.from_bytes(p[4:8],'big')})"
        elif t == 1: desc += f"(s{sid})"
        elif t == 4: desc += f"(ack)" if fl & 1 else f"({[ (int.from_bytes(p[i:i+2],'big'), int.from_bytes(p[i+2:i+6],'big')) for i in range(0,len(p),6)]})"
        elif t == 0: desc += f"(s{sid} {len(p)}B end={fl&1})"
        frames.append(desc)
    return frames, closed

def case(name, port, payload):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(PREFACE)
    read_frames(s, 0.3)
    s.sendall(frame(4, 1, 0))
    s.sendall(payload)
    f, closed = read_frames(s, 3.0)
    print(f"{name}: {f} closed={closed}")
    s.close()

port = free_port(); admin = free_port()
cfg = f"""
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}}}
static_resources:
  listeners:
  - address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: t
          codec_type: HTTP2
          route_config:
            virtual_hosts:
            - name: a
              domains: ["*"]
              routes:
              - match: {{prefix: "/"}}
                direct_response: {{status: 200, body: {{inline_string: "ok"}}}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
"""
workdir = tempfile.mkdtemp()
config = os.path.join(workdir, "envoy.yaml")
open(config, "w").write(cfg)
p = subprocess.Popen([ENVOY, "-c", config, "--concurrency", "1", "-l", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close(); break
        except OSError: time.sleep(0.1)

    case("valid", port, frame(1, 5, 1, hpack(REQ)))
    case("uppercase header", port, frame(1, 5, 1, hpack(REQ + [("X-Upper", "v")])))
    case("connection header", port, frame(1, 5, 1, hpack(REQ + [("connection", "keep-alive")])))
    case("missing :scheme", port, frame(1, 5, 1, hpack([(":method", "GET"), (":authority", "a"), (":path", "/")])))
    case("content-length 5, body 3", port, frame(1, 4, 1, hpack(REQ + [("content-length", "5")])) + frame(0, 1, 1, b"abc"))
    case("content-length 2, body 6", port, frame(1, 4, 1, hpack(REQ + [("content-length", "2")])) + frame(0, 1, 1, b"abcdef"))
    case("104 header fields", port, frame(1, 5, 1, hpack(REQ + [(f"x-h{i}", "v") for i in range(100)])))
    case("two empty DATA frames", port, frame(1, 4, 1, hpack(REQ)) + frame(0, 0, 1) + frame(0, 0, 1))
    case("two empty CONTINUATIONs", port, frame(1, 1, 1, hpack(REQ)) + frame(9, 0, 1) + frame(9, 0, 1))
    case("50 one-field CONTINUATIONs", port, frame(1, 1, 1, hpack(REQ)) + b"".join(frame(9, 0, 1, hpack([(f"x-c{i}", "v")])) for i in range(50)))
    case("101 PRIORITY frames", port, b"".join(frame(2, 0, 1, b"\0\0\0\0\x10") for _ in range(101)))
    case("16 WINDOW_UPDATE frames", port, b"".join(frame(8, 0, 0, b"\0\0\0\1") for _ in range(16)))
    case("1100 HEADERS+RST_STREAM", port, b"".join(frame(1, 5, 2*i+1, hpack(REQ)) + frame(3, 0, 2*i+1, b"\0\0\0\x08") for i in range(1100)))
    stats = subprocess.run(["curl", "-s", f"http://127.0.0.1:{admin}/stats?filter=http2"], capture_output=True, text=True).stdout
    print([l for l in stats.splitlines() if not l.endswith(": 0")])
finally:
    p.terminate(); p.wait()
    shutil.rmtree(workdir, ignore_errors=True)
