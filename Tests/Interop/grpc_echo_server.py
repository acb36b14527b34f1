"""A grpcio server for the Swift gRPC client tests (Tests/RemoraUpstreamTests/
GRPCAsyncClientTests.swift): generic handlers on raw bytes, so no generated
code. Also opens a "silent" TCP listener that accepts and never answers
(for client-side timeouts) and an h2_support.H2Upstream (answers no gRPC
server gives: a bare 503, RST_STREAM, a body without trailers). Prints
"PORTS <grpc> <silent> <h2>" once serving and runs until its stdin closes
(the test process ends or closes the pipe).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from concurrent import futures

import grpc

from h2_support import H2Upstream

SERVICE = "remora.test.Echo"


def _ident(b):
    return b


def unary(request, context):
    md = dict(context.invocation_metadata())
    if request == b"fail":
        context.set_trailing_metadata((("x-trailer", "t1"),))
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, "asked to fail")
    context.send_initial_metadata((("x-initial", md.get("x-client", "none")),))
    context.set_trailing_metadata((("x-trailer", "t2"),))
    return b"echo:" + request


def metadata(request, context):
    # What the server saw of the request head, one "name: value" per line.
    lines = [f"{k}: {v}" for k, v in context.invocation_metadata()]
    return "\n".join(lines).encode()


def client_stream(request_iterator, context):
    parts = list(request_iterator)
    return f"{len(parts)}:{sum(len(p) for p in parts)}".encode()


def server_stream(request, context):
    n = int(request.decode())
    for i in range(n):
        yield f"msg-{i}:".encode() + b"x" * (i * 7000)
    if n == 3:
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "stopped after three")


def bidi(request_iterator, context):
    for item in request_iterator:
        yield item[::-1]


def slow(request, context):
    time.sleep(1.5)
    return b"late"


def start_server(handlers: dict):
    """A grpcio server on 127.0.0.1 serving `handlers` (method name -> handler) for SERVICE."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def main():
    server, port = start_server({
        "Unary": grpc.unary_unary_rpc_method_handler(unary, _ident, _ident),
        "Metadata": grpc.unary_unary_rpc_method_handler(metadata, _ident, _ident),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, _ident, _ident),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, _ident, _ident),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi, _ident, _ident),
        "Slow": grpc.unary_unary_rpc_method_handler(slow, _ident, _ident),
    })
    h2_upstream = H2Upstream()

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []

    def hold():
        while True:
            try:
                conn, _ = silent.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=hold, daemon=True).start()
    print(f"PORTS {port} {silent.getsockname()[1]} {h2_upstream.port}", flush=True)
    sys.stdin.read()
    silent.close()
    h2_upstream.stop()
    server.stop(grace=None)


if __name__ == "__main__":
    main()
