"""Processes for test_iptables.py, each run inside a network namespace with
``ip netns exec NS python3 capture_peers.py ROLE ...``.

* ``serve NAME ADDR:PORT...`` — for each connection: reads one line and
  answers ``NAME saw PEER_IP got LINE`` (PEER_IP is the client's address as
  the server sees it), then closes.  When the line is an HTTP/1.1 request
  line, it reads the request's head and answers the same text as the body
  of a ``200`` response (LINE is then ``METHOD TARGET host=HOST``).  Prints
  ``ready`` once listening.
* ``forward [--map ORIG=TARGET]...`` — a stand-in for Remora's capture
  listeners: listens on 15001 (outbound) and 15006 (inbound), IPv4 and, where
  the namespace has it, IPv6; then drops to uid/gid 1337.  For each
  connection it reads the original destination with SO_ORIGINAL_DST, prints
  ``LISTENER_PORT ORIG_IP ORIG_PORT`` (before connecting on, so the line is
  out when the client gets its answer), connects to it (or to its --map
  target, as a cluster would) — from 127.0.0.6 / ::6 on 15006, as Istio's
  inbound passthrough does — and relays both ways.  Remora's own use of
  SO_ORIGINAL_DST is tested with the proxy-side work.
* ``connect HOST PORT LINE`` — sends LINE, prints the answer.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading

SO_ORIGINAL_DST = 80  # linux/netfilter_ipv4.h; IP6T_SO_ORIGINAL_DST is 80 too
SOL_IPV6 = 41


def split_hostport(s: str) -> tuple[str, int]:
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    s.listen(64)
    return s


def read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.strip()


def serve(name: str, addrs: list[str]) -> None:
    def loop(sock: socket.socket) -> None:
        while True:
            conn, peer = sock.accept()
            with conn, conn.makefile("rb") as reader:
                line = reader.readline().decode().strip()
                if not line.endswith(" HTTP/1.1"):
                    conn.sendall(f"{name} saw {peer[0]} got {line}\n".encode())
                    continue
                host = ""
                while header := reader.readline().decode().strip():
                    field, _, value = header.partition(":")
                    if field.lower() == "host":
                        host = value.strip()
                method, target, _ = line.split(" ")
                body = f"{name} saw {peer[0]} got {method} {target} host={host}\n".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)

    socks = [listen(*split_hostport(a)) for a in addrs]
    for s in socks:
        threading.Thread(target=loop, args=(s,), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def original_dst(conn: socket.socket) -> tuple[str, int]:
    if conn.family == socket.AF_INET:
        raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        port = struct.unpack("!H", raw[2:4])[0]
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    raw = conn.getsockopt(SOL_IPV6, SO_ORIGINAL_DST, 28)
    port = struct.unpack("!H", raw[2:4])[0]
    return socket.inet_ntop(socket.AF_INET6, raw[8:24]), port


def pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def forward(mapping: dict[tuple[str, int], tuple[str, int]]) -> None:
    lock = threading.Lock()

    def handle(conn: socket.socket, listener_port: int) -> None:
        try:
            orig = original_dst(conn)
            with lock:
                print(f"{listener_port} {orig[0]} {orig[1]}", flush=True)
            target = mapping.get(orig, orig)
            family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
            up = socket.socket(family, socket.SOCK_STREAM)
            if listener_port == 15006:
                up.bind(("::6" if family == socket.AF_INET6 else "127.0.0.6", 0))
            up.settimeout(5)
            up.connect(target)
            up.settimeout(None)
            t = threading.Thread(target=pump, args=(up, conn), daemon=True)
            t.start()
            pump(conn, up)
            t.join()
            up.close()
        finally:
            conn.close()

    def loop(sock: socket.socket, port: int) -> None:
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=handle, args=(conn, port), daemon=True).start()

    socks = []
    for port in (15001, 15006):
        socks.append((listen("0.0.0.0", port), port))
        if os.path.exists("/proc/net/if_inet6"):
            socks.append((listen("::", port), port))
    # The proxy's user: its own connections must not be captured again.
    os.setgroups([])
    os.setgid(1337)
    os.setuid(1337)
    for s, port in socks:
        threading.Thread(target=loop, args=(s, port), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def connect(host: str, port: int, line: str) -> None:
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(line.encode() + b"\n")
        print(read_line(s).decode(), flush=True)


def main(argv: list[str]) -> None:
    role = argv[0]
    if role == "serve":
        serve(argv[1], argv[2:])
    elif role == "forward":
        mapping = {}
        args = argv[1:]
        while args:
            assert args[0] == "--map", args
            orig, _, target = args[1].partition("=")
            mapping[split_hostport(orig)] = split_hostport(target)
            args = args[2:]
        forward(mapping)
    elif role == "connect":
        connect(argv[1], int(argv[2]), argv[3])
    else:
        raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    main(sys.argv[1:])
