"""The http_inspector listener filter and filter-chain matching on every
FilterChainMatch field (destination port, prefix ranges, source ranges,
source ports, source type, application protocols), side by side with Envoy."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

import http_support
import support
from http_support import hcm_filter, route, route_config, vhost
from support import (IS_ENVOY, bootstrap, cluster, connect, free_port, ident_echo_handler, listener,
                     recv_exact, recv_line, socket_address, tcp_proxy_filter, to_yaml, wait_closed)

HTTP_INSPECTOR = {
    "name": "envoy.filters.listener.http_inspector",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector"},
}


def tcp_chain(cluster_name: str, match: dict | None = None, name: str | None = None) -> dict:
    chain: dict = {"name": name or cluster_name}
    if match is not None:
        chain["filter_chain_match"] = match
    chain["filters"] = [tcp_proxy_filter(cluster_name, cluster_name)]
    return chain


def inspecting_listener(port: int, chains: list[dict], timeout: str | None = None,
                        continue_on_timeout: bool | None = None, **extra) -> dict:
    lst = listener("inspect", socket_address("127.0.0.1", port), chains)
    lst["listener_filters"] = [HTTP_INSPECTOR]
    if timeout is not None:
        lst["listener_filters_timeout"] = timeout
    if continue_on_timeout is not None:
        lst["continue_on_listener_filters_timeout"] = continue_on_timeout
    lst.update(extra)
    return lst


def ident_upstreams(upstreams, *names: str) -> dict:
    return {n: upstreams(ident_echo_handler(n.encode()), name=n) for n in names}


def protocol_chains_config(admin_port: int, port: int, ups: dict, **listener_kw) -> dict:
    """Chains by detected protocol, each a tcp_proxy to an ident-echo server
    named after it; "other" takes everything else."""
    chains = [tcp_chain("h10", {"application_protocols": ["http/1.0"]}),
              tcp_chain("h11", {"application_protocols": ["http/1.1"]}),
              tcp_chain("h2c", {"application_protocols": ["h2c"]}),
              tcp_chain("other")]
    return bootstrap(admin_port, [inspecting_listener(port, chains, **listener_kw)],
                     [cluster(n, [u.address]) for n, u in ups.items()])


def exchange(port: int, pieces: list, source: tuple | None = None) -> tuple[bytes, socket.socket]:
    """Connects (optionally from ``source``), sends the pieces (bytes, or a
    float to sleep), returns the upstream's ident line and the socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    if source is not None:
        s.bind(source)
    s.connect(("127.0.0.1", port))
    for piece in pieces:
        if isinstance(piece, float):
            time.sleep(piece)
        else:
            s.sendall(piece)
    return recv_line(s), s


def test_http_goes_to_the_hcm_and_raw_tcp_to_tcp_proxy(proxy, upstreams, http_upstreams, admin_port):
    """The sidecar inbound shape: application_protocols [http/1.1, h2c] -> HCM,
    everything else -> tcp_proxy."""
    web = http_upstreams(name="web")
    echo = upstreams(ident_echo_handler(b"tcp"), name="tcp")
    port = free_port()
    rc = route_config([vhost("all", ["*"], [route({"prefix": "/"}, "web")])])
    http_chain = {"name": "http", "filter_chain_match": {"application_protocols": ["http/1.1", "h2c"]},
                  "filters": [hcm_filter(rc, stat_prefix="inbound_http")]}
    cfg = bootstrap(admin_port, [inspecting_listener(port, [http_chain, tcp_chain("tcp")])],
                    [http_support.http_cluster("web", [web.address]), cluster("tcp", [echo.address])])
    p = proxy(cfg)

    curl = subprocess.run(["curl", "-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}",
                           f"http://127.0.0.1:{port}/hello"], capture_output=True, timeout=10)
    body, _, code = curl.stdout.rpartition(b"\n")
    assert code == b"200", curl
    assert body == b"hello from web"
    assert [r.path for r in web.requests] == ["/hello"]

    with connect("127.0.0.1", port) as c:
        c.sendall(b"\x00\x01binary protocol\r\n")
        assert recv_line(c) == b"tcp"
        assert recv_exact(c, 19) == b"\x00\x01binary protocol\r\n"
    p.wait_for_stats({"http_inspector.http11_found": 1, "http_inspector.http_not_found": 1,
                      "http.inbound_http.downstream_rq_total": 1, "tcp.tcp.downstream_cx_total": 1})


@pytest.mark.parametrize("request_line,chain", [
    (b"GET / HTTP/1.0\r\n", "h10"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "h11"),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00", "h2c"),
    (b"FOO /x HTTP/1.1\r\n", "h11"),
    (b"GET /\r\n", "h10"),
    (b"hello world\r\n", "other"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "other"),
], ids=["http10", "http11", "h2c_preface", "custom_method", "http09", "text", "tls_record"])
def test_detected_protocol_picks_the_chain_and_bytes_arrive_unchanged(proxy, upstreams, admin_port,
                                                                       request_line, chain):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    p = proxy(protocol_chains_config(admin_port, port, ups))
    ident, s = exchange(port, [request_line])
    with s:
        assert ident == chain.encode()
        # The inspected bytes reach the chain's filter once, in order.
        assert recv_exact(s, len(request_line)) == request_line
        s.sendall(b"and more")
        assert recv_exact(s, 8) == b"and more"
    found = {"h10": "http10_found", "h11": "http11_found", "h2c": "http2_found", "other": "http_not_found"}[chain]
    p.wait_for_stats({f"http_inspector.{found}": 1, f"tcp.{chain}.downstream_cx_total": 1})


def test_slow_client_is_still_detected(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    p = proxy(protocol_chains_config(admin_port, port, ups, timeout="5s"))
    pieces = [b"G", 0.2, b"ET /pa", 0.2, b"th HT", 0.2, b"TP/1.1", 0.2, b"\r", 0.2, b"\nHost: x\r\n\r\n"]
    ident, s = exchange(port, pieces)
    with s:
        assert ident == b"h11"
        sent = b"".join(x for x in pieces if isinstance(x, bytes))
        assert recv_exact(s, len(sent)) == sent
    # The h2c preface trickled in is detected too.
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    ident, s = exchange(port, [preface[:10], 0.3, preface[10:20], 0.3, preface[20:]])
    with s:
        assert ident == b"h2c"
        assert recv_exact(s, len(preface)) == preface
    p.wait_for_stats({"http_inspector.http11_found": 1, "http_inspector.http2_found": 1})


def test_silent_client_hits_the_listener_filters_timeout(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    lst = f"listener.127.0.0.1_{port}"
    p = proxy(protocol_chains_config(admin_port, port, ups, timeout="0.5s"))
    with connect("127.0.0.1", port) as c:
        time.sleep(0.2)
        p.wait_for_stats({f"{lst}.downstream_pre_cx_active": 1})
        elapsed, data = wait_closed(c, timeout=5)
    assert data == b""
    assert 0.2 <= elapsed < 2.0, elapsed
    # Closed before it became a downstream connection; no verdict counted.
    p.wait_for_stats({f"{lst}.downstream_pre_cx_timeout": 1, f"{lst}.downstream_pre_cx_active": 0,
                      f"{lst}.downstream_cx_total": 0, "http_inspector.http_not_found": 0})
    assert sum(u.accepted for u in ups.values()) == 0


def test_partial_request_line_times_out_with_a_reset(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    p = proxy(protocol_chains_config(admin_port, port, ups, timeout="0.5s"))
    with connect("127.0.0.1", port) as c:
        c.sendall(b"GET / HTT")
        with pytest.raises((ConnectionResetError, ConnectionAbortedError)):
            c.settimeout(5)
            c.recv(100)
    p.wait_for_stats({f"listener.127.0.0.1_{port}.downstream_pre_cx_timeout": 1})


def test_continue_on_timeout_matches_without_a_protocol(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    p = proxy(protocol_chains_config(admin_port, port, ups, timeout="0.3s", continue_on_timeout=True))
    start = time.monotonic()
    ident, s = exchange(port, [b"GET / HT"])
    with s:
        assert ident == b"other"
        assert time.monotonic() - start >= 0.25
        assert recv_exact(s, 8) == b"GET / HT"
        s.sendall(b"TP/1.1\r\n")
        assert recv_exact(s, 8) == b"TP/1.1\r\n"
    p.wait_for_stats({f"listener.127.0.0.1_{port}.downstream_pre_cx_timeout": 1,
                      "tcp.other.downstream_cx_total": 1, "http_inspector.http_not_found": 0,
                      "http_inspector.http11_found": 0})


def test_peer_closing_before_a_verdict_closes_the_connection(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    lst = f"listener.127.0.0.1_{port}"
    p = proxy(protocol_chains_config(admin_port, port, ups, timeout="10s"))
    with connect("127.0.0.1", port) as c:
        c.shutdown(socket.SHUT_WR)
        elapsed, data = wait_closed(c, timeout=3)
        assert data == b"" and elapsed < 2
    with connect("127.0.0.1", port) as c:
        c.sendall(b"GET / HT")
        time.sleep(0.2)
        c.shutdown(socket.SHUT_WR)
        elapsed, data = wait_closed(c, timeout=3)
        assert data == b"" and elapsed < 2
    p.wait_for_stats({f"{lst}.downstream_listener_filter_remote_close": 2, f"{lst}.downstream_cx_total": 0,
                      f"{lst}.downstream_pre_cx_active": 0})
    assert sum(u.accepted for u in ups.values()) == 0


def test_request_line_over_64_kib_is_a_read_error(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "h10", "h11", "h2c", "other")
    port = free_port()
    p = proxy(protocol_chains_config(admin_port, port, ups))
    fits = b"GET /" + b"a" * (65536 - 16) + b" HTTP/1.1\r\n"
    assert len(fits) == 65536
    ident, s = exchange(port, [fits])
    with s:
        assert ident == b"h11"
        assert recv_exact(s, len(fits)) == fits
    with connect("127.0.0.1", port) as c:
        c.sendall(b"GET /" + b"a" * 65536)
        elapsed, _ = wait_closed(c, timeout=3)
    p.wait_for_stats({"http_inspector.read_error": 1, "http_inspector.http11_found": 1})


# -- filter-chain matching -----------------------------------------------------


def matching_config(admin_port: int, port: int, ups: dict, chains: list[dict], inspect: bool = False,
                    default: str | None = None) -> dict:
    lst = inspecting_listener(port, chains) if inspect else listener("match", socket_address("127.0.0.1", port), chains)
    if default is not None:
        lst["default_filter_chain"] = {"filters": [tcp_proxy_filter(default, default)]}
    return bootstrap(admin_port, [lst], [cluster(n, [u.address]) for n, u in ups.items()])


def ident_of(port: int, source: tuple | None = None) -> bytes:
    ident, s = exchange(port, [], source=source)
    s.close()
    return ident


def test_destination_port_exact_then_catch_all_then_default(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "exact", "any", "fallback")
    port = free_port()
    other = port + 1 if port < 65535 else port - 1
    proxy(matching_config(admin_port, port, ups, [
        tcp_chain("any"), tcp_chain("exact", {"destination_port": port})], default="fallback"))
    assert ident_of(port) == b"exact"


def test_port_branch_miss_goes_to_the_default_chain_not_the_catch_all(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "port_other_ip", "any", "fallback")
    port = free_port()
    proxy(matching_config(admin_port, port, ups, [
        tcp_chain("any"),
        tcp_chain("port_other_ip", {"destination_port": port,
                                    "prefix_ranges": [{"address_prefix": "127.0.0.2", "prefix_len": 32}]}),
    ], default="fallback"))
    assert ident_of(port) == b"fallback"


def test_longest_destination_prefix_wins(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "wide", "narrow", "any")
    port = free_port()
    proxy(matching_config(admin_port, port, ups, [
        tcp_chain("wide", {"prefix_ranges": [{"address_prefix": "127.0.0.0", "prefix_len": 8}]}),
        tcp_chain("narrow", {"prefix_ranges": [{"address_prefix": "127.0.0.1", "prefix_len": 32}]}),
        tcp_chain("any"),
    ]))
    assert ident_of(port) == b"narrow"


def test_source_ranges_and_ports(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "src2", "src2_port", "src3", "any")
    port = free_port()
    src_port = free_port()
    proxy(matching_config(admin_port, port, ups, [
        tcp_chain("src2", {"source_prefix_ranges": [{"address_prefix": "127.0.0.2", "prefix_len": 32}]}),
        tcp_chain("src2_port", {"source_prefix_ranges": [{"address_prefix": "127.0.0.2", "prefix_len": 32}],
                                "source_ports": [src_port]}),
        tcp_chain("src3", {"source_prefix_ranges": [{"address_prefix": "127.0.0.3", "prefix_len": 32}]}),
        tcp_chain("any"),
    ]))
    assert ident_of(port, source=("127.0.0.2", 0)) == b"src2"
    assert ident_of(port, source=("127.0.0.2", src_port)) == b"src2_port"
    assert ident_of(port, source=("127.0.0.3", 0)) == b"src3"
    assert ident_of(port, source=("127.0.0.4", 0)) == b"any"


@pytest.mark.parametrize("source_type,from_127_0_0_1,from_127_0_0_5", [
    ("EXTERNAL", b"any", b"typed"),
    ("SAME_IP_OR_LOOPBACK", b"typed", b"any"),
])
def test_source_type(proxy, upstreams, admin_port, source_type, from_127_0_0_1, from_127_0_0_5):
    """A peer on 127.0.0.1 is local; Envoy's loopback is 127.0.0.1 alone, so
    127.0.0.5 (to 127.0.0.1) is external. A kind without chains falls back to ANY."""
    ups = ident_upstreams(upstreams, "typed", "any")
    port = free_port()
    proxy(matching_config(admin_port, port, ups, [
        tcp_chain("typed", {"source_type": source_type}), tcp_chain("any")]))
    assert ident_of(port, source=("127.0.0.1", 0)) == from_127_0_0_1
    assert ident_of(port, source=("127.0.0.5", 0)) == from_127_0_0_5


def test_application_protocol_chain_beats_the_protocol_less_one_only_at_its_level(proxy, upstreams, admin_port):
    """A longer destination prefix wins before application protocols are looked at."""
    ups = ident_upstreams(upstreams, "wide_http", "narrow")
    port = free_port()
    p = proxy(matching_config(admin_port, port, ups, [
        tcp_chain("wide_http", {"prefix_ranges": [{"address_prefix": "127.0.0.0", "prefix_len": 8}],
                                "application_protocols": ["http/1.1"]}),
        tcp_chain("narrow", {"prefix_ranges": [{"address_prefix": "127.0.0.1", "prefix_len": 32}]}),
    ], inspect=True))
    ident, s = exchange(port, [b"GET / HTTP/1.1\r\n"])
    s.close()
    assert ident == b"narrow"
    p.wait_for_stats({"http_inspector.http11_found": 1})


def test_no_matching_chain_is_closed_before_counting_a_connection(proxy, upstreams, admin_port):
    ups = ident_upstreams(upstreams, "other_port")
    port = free_port()
    other = port + 1 if port < 65535 else port - 1
    p = proxy(matching_config(admin_port, port, ups, [tcp_chain("other_port", {"destination_port": other})]))
    with connect("127.0.0.1", port) as c:
        elapsed, data = wait_closed(c, timeout=3)
        assert data == b""
    lst = f"listener.127.0.0.1_{port}"
    p.wait_for_stats({f"{lst}.no_filter_chain_match": 1, f"{lst}.downstream_cx_total": 0,
                      f"{lst}.downstream_cx_active": 0})


# -- config errors ---------------------------------------------------------------


def _validate(tmp_path, chains: list[dict]):
    cfg = bootstrap(free_port(), [listener("dup", socket_address("127.0.0.1", free_port()), chains)],
                    [cluster("c", [socket_address("127.0.0.1", 1)])])
    path = tmp_path / "dup.yaml"
    path.write_text(to_yaml(cfg))
    return support.run_validate(path)


def test_same_match_twice_is_a_config_error(tmp_path):
    r = _validate(tmp_path, [tcp_chain("c", {"destination_port": 80}, name="first"),
                             tcp_chain("c", {"destination_port": 80}, name="second")])
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0
    assert "filter chain 'second' has the same matching rules defined as 'first'" in out, out


def test_overlapping_matches_are_a_config_error(tmp_path):
    r = _validate(tmp_path, [tcp_chain("c", {"source_ports": [1000, 2000]}, name="a"),
                             tcp_chain("c", {"source_ports": [2000]}, name="b")])
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0
    assert "multiple filter chains with overlapping matching rules are defined" in out, out


# -- with a real redirect (network namespace; see test_original_dst.py) -----------

from test_original_dst import (APP_IP, ORIGINAL_DST_FILTER, _read_response, app_servers,  # noqa: E402,F401
                               capture_listener, captured_connect, netns, original_dst_cluster, unbound_listener)


def _inbound_chains(stat: str) -> list[dict]:
    rc = route_config([vhost("all", ["*"], [route({"prefix": "/"}, "passthrough")])])
    return [{"name": "http", "filter_chain_match": {"application_protocols": ["http/1.1", "h2c"]},
             "filters": [hcm_filter(rc, stat_prefix=f"{stat}_http")]},
            {"name": "tcp", "filters": [tcp_proxy_filter("passthrough", f"{stat}_tcp")]}]


def _check_http_and_tcp(web, raw) -> None:
    with captured_connect(web.port) as c:
        c.sendall(b"GET /x HTTP/1.1\r\nHost: app\r\n\r\n")
        response = http_support.parse_response_bytes(_read_response(c))
    assert response.status == 200
    assert response.body == f"web {APP_IP}:{web.port}\n".encode()
    with captured_connect(raw.port) as c:
        c.sendall(b"ping\n")
        assert recv_line(c).decode() == f"raw {APP_IP}:{raw.port}"
        assert recv_exact(c, 5) == b"ping\n"


def test_original_dst_then_http_inspector_on_a_redirected_connection(netns, proxy, app_servers, admin_port):
    """Istio's virtualInbound: original_dst restores the destination, the
    inspector sends HTTP to the HCM and the rest to tcp_proxy, both to an
    ORIGINAL_DST cluster."""
    web, raw = app_servers("web", http=True), app_servers("raw")
    lst = capture_listener(_inbound_chains("inbound"), use_original_dst=False)
    lst["listener_filters"] = [ORIGINAL_DST_FILTER, HTTP_INSPECTOR]
    p = proxy(bootstrap(admin_port, [lst], [original_dst_cluster("passthrough")]))
    _check_http_and_tcp(web, raw)
    p.wait_for_stats({"http.inbound_http.downstream_rq_total": 1, "tcp.inbound_tcp.downstream_cx_total": 1,
                      "http_inspector.http11_found": 1, "http_inspector.http_not_found": 1})


def test_handed_off_connection_runs_the_target_listeners_inspector(netns, proxy, app_servers, admin_port):
    """use_original_dst hands the connection to 0.0.0.0:<port>, whose own
    listener filters (the inspector) run on it before its chain is chosen."""
    web, raw = app_servers("web", http=True), app_servers("raw")
    targets = []
    for app, name in ((web, "web"), (raw, "raw")):
        target = unbound_listener(name, "0.0.0.0", app.port, _inbound_chains(name))
        target["listener_filters"] = [HTTP_INSPECTOR]
        targets.append(target)
    p = proxy(bootstrap(admin_port, [capture_listener([tcp_chain("passthrough")])] + targets,
                        [original_dst_cluster("passthrough")]))
    _check_http_and_tcp(web, raw)
    p.wait_for_stats({"http.web_http.downstream_rq_total": 1, "tcp.raw_tcp.downstream_cx_total": 1,
                      "tcp.passthrough.downstream_cx_total": 0, "http_inspector.http11_found": 1,
                      "http_inspector.http_not_found": 1}, missing_as_zero=True)
