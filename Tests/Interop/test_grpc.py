"""gRPC through the proxy (grpcio client and server, h2c both sides): unary,
client streaming, server streaming and bidi calls, metadata and trailers
both ways, error statuses (trailers-only and after messages), deadlines.
Messages are raw bytes (generic handlers), so no generated code is needed.
"""

from __future__ import annotations

import threading
import time

import grpc
import pytest

import http_support as H
# Handlers shared with the Swift gRPC client's tests (GRPCAsyncClientTests).
from grpc_echo_server import SERVICE, _ident, bidi, start_server, unary
from h2_support import H2Upstream, h2_cluster_options
from http_support import route
from support import free_port, socket_address


def client_stream(request_iterator, context):
    total = b"".join(request_iterator)
    return str(len(total)).encode()


def server_stream(request, context):
    n = int(request.decode())
    for i in range(n):
        yield f"msg-{i}".encode() * 100
    if n == 3:
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "stopped after three")


@pytest.fixture
def grpc_backend():
    server, port = start_server({
        "Unary": grpc.unary_unary_rpc_method_handler(unary, _ident, _ident),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, _ident, _ident),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, _ident, _ident),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi, _ident, _ident),
    })
    yield port
    server.stop(grace=None)


@pytest.fixture
def grpc_proxy(proxy, grpc_backend):
    admin, port = free_port(), free_port()
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "grpc")],
                        [H.http_cluster("grpc", [socket_address("127.0.0.1", grpc_backend)],
                                        typed_extension_protocol_options=h2_cluster_options())],
                        codec_type="AUTO")
    p = proxy(cfg)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield p, channel
    channel.close()


def method(channel, kind, name):
    return getattr(channel, kind)(f"/{SERVICE}/{name}", request_serializer=_ident, response_deserializer=_ident)


def test_unary_with_metadata_and_trailers(grpc_proxy):
    p, channel = grpc_proxy
    call = method(channel, "unary_unary", "Unary")
    response, info = call.with_call(b"hello", metadata=(("x-client", "c1"),), timeout=10)
    assert response == b"echo:hello"
    assert ("x-initial", "c1") in info.initial_metadata()
    assert ("x-trailer", "t2") in info.trailing_metadata()
    assert info.code() == grpc.StatusCode.OK
    stats = p.stats()
    assert stats["cluster.grpc.upstream_cx_http2_total"] == 1
    assert stats["http.ingress_http.downstream_rq_http2_total"] >= 1


def test_unary_error_status_and_message_pass_through(grpc_proxy):
    _, channel = grpc_proxy
    call = method(channel, "unary_unary", "Unary")
    with pytest.raises(grpc.RpcError) as err:
        call(b"fail", timeout=10)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.details() == "asked to fail"
    assert ("x-trailer", "t1") in err.value.trailing_metadata()


def test_client_streaming(grpc_proxy):
    _, channel = grpc_proxy
    call = method(channel, "stream_unary", "ClientStream")
    chunks = [bytes([i % 256]) * 50_000 for i in range(40)]
    assert call(iter(chunks), timeout=20) == str(50_000 * 40).encode()


def test_server_streaming_and_error_after_messages(grpc_proxy):
    _, channel = grpc_proxy
    call = method(channel, "unary_stream", "ServerStream")
    got = list(call(b"50", timeout=20))
    assert len(got) == 50 and got[7] == b"msg-7" * 100
    stream = call(b"3", timeout=20)
    received = []
    with pytest.raises(grpc.RpcError) as err:
        for item in stream:
            received.append(item)
    assert len(received) == 3
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert err.value.details() == "stopped after three"


def test_bidi_streaming_interleaved(grpc_proxy):
    _, channel = grpc_proxy
    call = method(channel, "stream_stream", "Bidi")
    requests = [f"ping-{i}".encode() for i in range(200)]
    replies = list(call(iter(requests), timeout=20))
    assert replies == [r[::-1] for r in requests]


def test_many_concurrent_calls_on_one_channel(grpc_proxy):
    p, channel = grpc_proxy
    call = method(channel, "unary_unary", "Unary")
    pending = [call.future(f"n{i}".encode(), timeout=20) for i in range(200)]
    assert [f.result() for f in pending] == [f"echo:n{i}".encode() for i in range(200)]
    assert p.stats()["cluster.grpc.upstream_cx_http2_total"] == 1


def test_local_replies_to_grpc_calls_over_http2(proxy):
    """No healthy upstream and no route, over h2: Envoy's gRPC local replies
    (HTTP 200, grpc-status from the HTTP status, the body as grpc-message)."""
    admin, port = free_port(), free_port()
    dead = free_port()
    cfg = H.http_config(admin, port, [route({"prefix": f"/{SERVICE}/"}, "grpc")],
                        [H.http_cluster("grpc", [socket_address("127.0.0.1", dead)],
                                        typed_extension_protocol_options=h2_cluster_options())],
                        codec_type="AUTO")
    proxy(cfg)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        with pytest.raises(grpc.RpcError) as err:
            method(channel, "unary_unary", "Unary")(b"x", timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert err.value.details().startswith("upstream connect error or disconnect/reset before headers")
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary("/other.Service/Call", request_serializer=_ident, response_deserializer=_ident)(
                b"x", timeout=10)
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        channel.close()


def test_grpc_timeout_bounds_the_route_over_http2(proxy):
    """max_stream_duration with grpc_timeout_header_max/offset: the client's
    grpc-timeout (10 s) less the offset (9.8 s) bounds the stream; the proxy
    answers first with Envoy's gRPC local reply (DEADLINE_EXCEEDED,
    "downstream duration timeout") and counts downstream_rq_max_duration_reached.

    The origin never answers. A grpcio server would not do: it gets the
    bounded deadline (grpc-timeout rewritten to what the offset leaves) and
    ends the call itself at the instant the proxy's timer fires, so the
    client saw the server's "Deadline Exceeded" whenever that answer won."""
    hold = H2Upstream()
    admin, port = free_port(), free_port()
    action = {"max_stream_duration": {"grpc_timeout_header_max": "30s", "grpc_timeout_header_offset": "9.8s"},
              "prefix_rewrite": "/hold/"}
    cfg = H.http_config(admin, port, [route({"prefix": "/"}, "hold", route_extra=action)],
                        [H.http_cluster("hold", [hold.address], typed_extension_protocol_options=h2_cluster_options())],
                        codec_type="AUTO")
    p = proxy(cfg)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    gate = threading.Event()

    def requests():
        yield b"x"
        gate.wait(30)  # the call stays open past the proxy's timeout

    try:
        t0 = time.monotonic()
        with pytest.raises(grpc.RpcError) as err:
            method(channel, "stream_unary", "ClientStream")(requests(), timeout=10)
        elapsed = time.monotonic() - t0
        gate.set()
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert err.value.details() == "downstream duration timeout"
        # The 0.2 s the offset leaves, not the client's 10 s, ended the call.
        assert elapsed < 5
    finally:
        gate.set()
        channel.close()
        hold.stop()
    stat = "http.ingress_http.downstream_rq_max_duration_reached"
    assert p.wait_for_stats({stat: 1})[stat] == 1
