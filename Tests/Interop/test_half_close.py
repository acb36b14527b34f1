"""Half-close (shutdown(SHUT_WR)) must pass through tcp_proxy in both
directions while the other direction keeps working."""

import socket

from support import connect, free_port, recv_exact, simple_config, wait_closed

REQUEST = b"request body that ends with a half-close " * 100
REPLY = b"reply sent after the EOF was seen " * 100


def test_client_half_close_reaches_upstream_which_still_replies(proxy, upstreams, admin_port):
    def handler(conn, server):
        data = bytearray()
        while True:  # read until EOF: only the proxy's FIN can end this
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        server.results.put(bytes(data))
        conn.sendall(REPLY)
        # returning closes the connection -> client must then see EOF

    up = upstreams(handler, conn_timeout=10)
    port = free_port()
    proxy(simple_config(admin_port, port, [up.address]))

    c = connect("127.0.0.1", port, timeout=5)
    c.sendall(REQUEST)
    c.shutdown(socket.SHUT_WR)
    seen = up.results.get(timeout=5)  # upstream saw EOF after all the data
    assert seen == REQUEST
    assert recv_exact(c, len(REPLY)) == REPLY  # reply arrives after our FIN
    elapsed, extra = wait_closed(c, timeout=5)  # and then EOF
    assert extra == b""
    c.close()


def test_upstream_half_close_reaches_client_which_still_sends(proxy, upstreams, admin_port):
    def handler(conn, server):
        conn.sendall(REPLY)
        conn.shutdown(socket.SHUT_WR)  # upstream half-closes first
        data = bytearray()
        while True:  # ... and keeps reading until the client's EOF
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        server.results.put(bytes(data))

    up = upstreams(handler, conn_timeout=10)
    port = free_port()
    proxy(simple_config(admin_port, port, [up.address]))

    c = connect("127.0.0.1", port, timeout=5)
    assert recv_exact(c, len(REPLY)) == REPLY
    # The upstream's FIN must arrive as EOF while our side is still open.
    c.settimeout(5)
    assert c.recv(1) == b"", "expected EOF after the upstream half-closed"
    # Our direction still works after the EOF.
    c.sendall(REQUEST)
    c.shutdown(socket.SHUT_WR)
    seen = up.results.get(timeout=5)
    assert seen == REQUEST
    wait_closed(c, timeout=5)
    c.close()
