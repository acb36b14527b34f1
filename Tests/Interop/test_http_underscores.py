"""`common_http_protocol_options.headers_with_underscores_action` on the
connection manager, HTTP/1 and HTTP/2, as Envoy 1.40's codecs apply it.
Runs against both proxies."""

import pytest

import http_support as H
from h2_support import H2Client
from support import free_port


def config(admin_port, port, up, action):
    return H.simple_http_config(admin_port, port, up, codec_type="AUTO",
                                common_http_protocol_options={"headers_with_underscores_action": action})


def h2_request(port, extra):
    client = H2Client(port)
    sid = client.conn.get_next_available_stream_id()
    client.conn.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/h2")] + extra,
                             end_stream=True)
    client.sock.sendall(client.conn.data_to_send())
    events = client.pump(3.0, until=lambda evs: any(type(e).__name__ in ("StreamEnded", "StreamReset") for e in evs))
    client.sock.close()
    return events


def test_reject_request(proxy, http_upstreams, admin_port):
    """HTTP/1: 400 `Bad Request` and the connection closes; HTTP/2: the
    stream is reset with INTERNAL_ERROR. Nothing reaches the upstream."""
    up = http_upstreams()
    port = free_port()
    p = proxy(config(admin_port, port, up, "REJECT_REQUEST"))
    with H.HttpClient(port) as c:
        c.send(b"GET /h1 HTTP/1.1\r\nHost: x\r\nmy_header: 1\r\nok-header: 2\r\n\r\n")
        r = c.read_response()
    assert (r.status, r.body, r.header("connection")) == (400, b"Bad Request", "close")
    resets = [e for e in h2_request(port, [("x_trace", "1")]) if type(e).__name__ == "StreamReset"]
    assert [e.error_code for e in resets] == [2]
    assert up.requests == []
    p.wait_for_stats({"http1.requests_rejected_with_underscores_in_headers": 1,
                      "http2.requests_rejected_with_underscores_in_headers": 1, "http2.tx_reset": 1,
                      "http.ingress_http.downstream_rq_4xx": 1})
    # Without an underscore a request passes.
    assert H.get(port, "/fine", headers=[("ok-header", "1")]).status == 200


def test_drop_header(proxy, http_upstreams, admin_port):
    """The fields with an underscore are dropped, the others pass; each
    dropped field is counted."""
    up = http_upstreams()
    port = free_port()
    p = proxy(config(admin_port, port, up, "DROP_HEADER"))
    with H.HttpClient(port) as c:
        r = c.request("GET", "/h1", headers=[("my_header", "1"), ("ok-header", "2"), ("other_one", "3")])
    assert r.status == 200
    events = h2_request(port, [("x_trace", "1"), ("kept", "yes")])
    assert any(type(e).__name__ == "StreamEnded" for e in events), events
    h1, h2 = up.requests
    assert (h1.header("my_header"), h1.header("other_one"), h1.header("ok-header")) == (None, None, "2")
    assert (h2.header("x_trace"), h2.header("kept")) == (None, "yes")
    p.wait_for_stats({"http1.dropped_headers_with_underscores": 2, "http2.dropped_headers_with_underscores": 1})


def test_refused_for_upstream_responses_in_remora(tmp_path, admin_port, http_upstreams):
    """Remora applies the action to requests only: on a cluster it is
    refused with its field path (Envoy applies it to responses too)."""
    import support
    if support.IS_ENVOY:
        pytest.skip("Remora-only: the refusal of what it does not implement")
    cfg = H.simple_http_config(admin_port, free_port(), http_upstreams(), cluster_extra={
        "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "common_http_protocol_options": {"headers_with_underscores_action": "DROP_HEADER"},
            "explicit_http_config": {"http_protocol_options": {}}}}})
    import json
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = support.run_validate(path)
    text = (out.stdout + out.stderr).decode()
    assert out.returncode == 1, text
    assert "common_http_protocol_options.headers_with_underscores_action" in text, text
