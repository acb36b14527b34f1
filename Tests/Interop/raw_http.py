"""Raw-socket HTTP/1.1 pieces for tests that play a misbehaving or minimal
peer (standard library only): read a head, read to EOF, a keep-alive origin
that answers every request with a 2-byte body."""

from __future__ import annotations

import socket

OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def read_head(conn: socket.socket, limit: int = 65536) -> bytes:
    """Reads until the end of a head (or EOF, or `limit` bytes); returns what came."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
        if len(data) > limit:
            break
    return data


def read_to_eof(sock: socket.socket, chunk_size: int = 65536) -> bytes:
    """Everything until the peer closes (a reset ends the read too)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(chunk_size)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def ok_origin(conn: socket.socket, server) -> None:
    """A `TcpServer` handler: answers each request head with `OK_RESPONSE`, keep-alive."""
    try:
        while read_head(conn):
            conn.sendall(OK_RESPONSE)
    except OSError:
        pass
