"""Stats Envoy 1.40 keeps for every HTTP mesh, checked by value, and the
stat names of a typical bootstrap diffed against the real Envoy.

- `*_cx_rx_bytes_buffered` / `*_cx_tx_bytes_buffered` (Envoy's connection
  buffer stats, `ConnectionImpl::updateReadBufferStats`): after each read
  the read gauge holds what the read brought, after each write attempt the
  write gauge holds what is still queued, and a close takes both back. An
  idle keep-alive connection keeps its last read's size.
- `cluster.<name>.upstream_rq_per_cx`: the requests an HTTP connection
  carried, recorded when it closes (none for one that never connected).
- `cluster.<name>.upstream_cx_close_notify`: a response said
  `connection: close` (HTTP/1) or the upstream sent GOAWAY (HTTP/2).
- `cluster.<name>.upstream_rq_pending_failure_eject`: a request waiting for
  a connection failed because the connection could not be made (HTTP and
  tcp_proxy alike).

The value tests run on both proxies (PROXY_KIND=envoy for Envoy 1.40); the
name diff runs Remora beside the Envoy binary (`ENVOY_REFERENCE_BIN`, or the
`envoy` next to the Python running the tests).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import support
from http_support import HttpClient, Reply, http_cluster, http_config, route
from support import connect, free_port, recv_exact

REQUEST = b"GET /x HTTP/1.1\r\nhost: example.com\r\n\r\n"


def _hist_line(p, name: str) -> str:
    status, body = p.admin("GET", f"/stats?filter=^{re.escape(name)}$")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + ":"):
            return line
    return ""


def _wait_hist(p, name: str, pattern: str, timeout: float = 10.0) -> str:
    """Polls until the histogram's line matches (histograms show as of the
    last stats flush)."""
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = _hist_line(p, name)
        if re.search(pattern, line):
            return line
        time.sleep(0.1)
    raise AssertionError(f"{name} never matched {pattern!r}; last: {line!r}")


def _config(admin_port: int, port: int, upstream, dead_port: int) -> dict:
    cfg = http_config(admin_port, port, [route({"prefix": "/dead"}, "dead"), route({"prefix": "/"}, "backend")],
                      [http_cluster("backend", [upstream.address]),
                       http_cluster("dead", [support.socket_address("127.0.0.1", dead_port)])])
    cfg["stats_flush_interval"] = "0.2s"
    return cfg


def test_http_buffer_gauges_follow_the_last_read_and_go_at_close(proxy, http_upstreams, admin_port):
    up = http_upstreams(lambda req: Reply(body=b"hello world"))
    port = free_port()
    p = proxy(_config(admin_port, port, up, free_port()))
    zero = {"http.ingress_http.downstream_cx_rx_bytes_buffered": 0,
            "http.ingress_http.downstream_cx_tx_bytes_buffered": 0,
            "cluster.backend.upstream_cx_rx_bytes_buffered": 0,
            "cluster.backend.upstream_cx_tx_bytes_buffered": 0}
    p.wait_for_stats(zero)
    with HttpClient(port) as c:
        c.send(REQUEST)
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"hello world"
        # The upstream answered in one write: the proxy's one read of it.
        upstream_read = p.stats()["cluster.backend.upstream_cx_rx_bytes_total"]
        p.wait_for_stats({"http.ingress_http.downstream_cx_rx_bytes_buffered": len(REQUEST),
                          "http.ingress_http.downstream_cx_tx_bytes_buffered": 0,
                          "cluster.backend.upstream_cx_rx_bytes_buffered": upstream_read,
                          "cluster.backend.upstream_cx_tx_bytes_buffered": 0})
    # The downstream connection closed; the upstream one idles in the pool
    # and keeps its last read, as Envoy's does.
    p.wait_for_stats({"http.ingress_http.downstream_cx_rx_bytes_buffered": 0,
                      "cluster.backend.upstream_cx_rx_bytes_buffered": upstream_read})


def test_tcp_buffer_gauges_hold_what_the_client_does_not_read(proxy, upstreams, admin_port):
    big = 16 * support.MiB

    def flood(conn, server):
        recv_exact(conn, 3)
        try:
            conn.sendall(b"z" * big)
        except OSError:
            pass

    port = free_port()
    p = proxy(support.simple_config(admin_port, port, [upstreams(flood).address], cluster_name="backend",
                                    stat_prefix="ingress"))
    c = connect("127.0.0.1", port)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    c.sendall(b"abc")
    # The client reads nothing: what the proxy read from the upstream waits
    # in its write queue to the client.
    deadline = time.monotonic() + 15
    while True:
        stats = p.stats()
        if stats.get("tcp.ingress.downstream_cx_tx_bytes_buffered", 0) > 0:
            break
        assert time.monotonic() < deadline, {k: v for k, v in stats.items() if "buffered" in k}
        time.sleep(0.1)
    assert stats["tcp.ingress.downstream_cx_rx_bytes_buffered"] == 3
    assert stats["cluster.backend.upstream_cx_rx_bytes_buffered"] > 0
    c.close()
    p.wait_for_stats({"tcp.ingress.downstream_cx_rx_bytes_buffered": 0,
                      "tcp.ingress.downstream_cx_tx_bytes_buffered": 0,
                      "cluster.backend.upstream_cx_rx_bytes_buffered": 0,
                      "cluster.backend.upstream_cx_tx_bytes_buffered": 0})


def test_requests_per_connection_and_close_notify(proxy, http_upstreams, admin_port):
    """Three requests, then a response with `connection: close`: one
    connection that carried four requests (Envoy prints the bin's middle,
    4.05), and one close notice. The next request opens a new connection,
    which is not recorded while it lives."""
    def responder(req):
        return Reply(body=b"bye", close=True) if req.target == "/close" else Reply(body=b"ok")

    up = http_upstreams(responder)
    port = free_port()
    p = proxy(_config(admin_port, port, up, free_port()))
    assert "No recorded values" in _hist_line(p, "cluster.backend.upstream_rq_per_cx")
    with HttpClient(port) as c:
        for target in ("/a", "/b", "/c", "/close", "/d"):
            c.send(f"GET {target} HTTP/1.1\r\nhost: example.com\r\n\r\n".encode())
            assert c.read_response().status == 200
    p.wait_for_stats({"cluster.backend.upstream_cx_close_notify": 1, "cluster.backend.upstream_cx_total": 2,
                      "cluster.backend.upstream_cx_destroy": 1})
    _wait_hist(p, "cluster.backend.upstream_rq_per_cx", r"P0\([^,]+,4\.05\) .*P100\([^,]+,4\.05\)")


def test_http2_goaway_is_a_close_notice_and_ends_the_connections_count(proxy, admin_port):
    """An HTTP/2 upstream answers a third request and sends GOAWAY: one
    close notice, and the connection, closed once its streams are done,
    carried three requests. The next request takes a new connection."""
    from h2_support import H2Upstream, h2_cluster_options
    up = H2Upstream()
    try:
        port = free_port()
        cfg = http_config(admin_port, port, [route({"prefix": "/"}, "backend")],
                          [http_cluster("backend", [up.address], typed_extension_protocol_options=h2_cluster_options())])
        cfg["stats_flush_interval"] = "0.2s"
        p = proxy(cfg)
        with HttpClient(port) as c:
            for target in ("/a", "/b", "/goaway"):
                c.send(f"GET {target} HTTP/1.1\r\nhost: example.com\r\n\r\n".encode())
                assert c.read_response().status == 200
            p.wait_for_stats({"cluster.backend.upstream_cx_close_notify": 1, "cluster.backend.upstream_cx_destroy": 1,
                              "cluster.backend.upstream_cx_http2_total": 1})
            c.send(b"GET /c HTTP/1.1\r\nhost: example.com\r\n\r\n")
            assert c.read_response().status == 200
        p.wait_for_stats({"cluster.backend.upstream_cx_http2_total": 2, "cluster.backend.upstream_cx_close_notify": 1})
        _wait_hist(p, "cluster.backend.upstream_rq_per_cx", r"P0\([^,]+,3\.05\) .*P100\([^,]+,3\.05\)")
    finally:
        up.stop()


def test_pending_requests_failed_by_a_connect_failure(proxy, admin_port, http_upstreams):
    """A request and a tcp_proxy session wait for a connection that is
    refused: each is a pending request ejected by the failure; the failed
    connection carried no request and is not an `upstream_rq_per_cx` sample."""
    dead = free_port()
    port, tcp_port = free_port(), free_port()
    cfg = _config(admin_port, port, http_upstreams(), dead)
    cfg["static_resources"]["listeners"].append(support.tcp_listener("tcp", tcp_port, "dead", "tcpdead"))
    p = proxy(cfg)
    with HttpClient(port) as c:
        c.send(b"GET /dead HTTP/1.1\r\nhost: example.com\r\n\r\n")
        assert c.read_response().status == 503
    with connect("127.0.0.1", tcp_port) as s:
        support.wait_closed(s, 5)
    p.wait_for_stats({"cluster.dead.upstream_cx_connect_fail": 2, "cluster.dead.upstream_rq_pending_total": 2,
                      "cluster.dead.upstream_rq_pending_failure_eject": 2,
                      "cluster.backend.upstream_rq_pending_failure_eject": 0})
    time.sleep(0.5)  # two stats flushes
    assert "No recorded values" in _hist_line(p, "cluster.dead.upstream_rq_per_cx")


# -- names, diffed against the real Envoy -------------------------------------

def _reference_envoy() -> str | None:
    for candidate in (os.environ.get("ENVOY_REFERENCE_BIN"), str(Path(sys.executable).parent / "envoy"),
                      shutil.which("envoy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# Names Envoy 1.40 lists for this bootstrap that Remora does not, and why.
# Each entry is a regex over the name with the ports replaced by HP (HTTP
# listener), TP (TCP listener) and AP (admin).
DELIBERATELY_ABSENT = [
    # Envoy's HTTP async client (Envoy's gRPC and ext_authz callers go
    # through it); Remora's xDS gRPC client does not.
    r"http\.async-client\..*",
    # Upstream HTTP/1 codec stats: Envoy's upstream codec counts none of
    # them (underscores and floods are checked on server codecs, METADATA
    # is never sent); four zeros are not worth a scope per cluster.
    r"cluster\.\w+\.http1\..*",
    # Load-balancer features Remora refuses or lacks (subsets, zone-aware
    # routing, weights), and their gauges.
    r"cluster\.\w+\.lb_(subsets|zone)_.*", r"cluster\.\w+\.lb_recalculate_zone_structures",
    r"cluster\.\w+\.lb_local_cluster_not_ok", r"cluster\.\w+\.max_host_weight",
    r"cluster\.\w+\.default\.total_match_count", r"cluster\.\w+\.original_dst_host_invalid",
    # HTTP/3, 0-RTT, connection pools per cluster, preconnect, max durations
    # (refused), internal redirects, maintenance mode (runtime), per-try
    # idle timeouts, upstream_bind_config failures, overload manager.
    r"cluster\.\w+\.(upstream_cx_http3_total|upstream_http3_broken|upstream_cx_connect_with_0_rtt|upstream_rq_0rtt)",
    r"cluster\.\w+\.(upstream_cx_pool_overflow|upstream_cx_preconnect_skipped|upstream_cx_max_duration_reached)",
    r"cluster\.\w+\.(upstream_rq_max_duration_reached|upstream_internal_redirect_\w+|upstream_rq_maintenance_mode)",
    r"cluster\.\w+\.(upstream_rq_per_try_idle_timeout|bind_errors|upstream_queue_overloaded|upstream_rq_rx_reset_no_error)",
    r"cluster_manager\.(cluster_updated_via_merge|update_merge_cancelled|update_out_of_merge_window)",
    r"thread_local_cluster_manager\..*",
    r"http\.(ingress_http|admin)\.(downstream_cx_http3_\w+|downstream_rq_http3_total|downstream_cx_http1_soft_drain)",
    r"http\.(ingress_http|admin)\.(downstream_cx_overload_disable_keepalive|downstream_rq_overload_close|rq_overload_local_reply)",
    r"http\.(ingress_http|admin)\.(downstream_rq_failed_path_normalization|downstream_rq_redirected_with_normalized_path)",
    r"http\.(ingress_http|admin)\.(downstream_rq_non_relative_path|downstream_rq_rejected_via_ip_detection|rs_too_large)",
    r"http\.(ingress_http|admin)\.(passthrough_internal_redirect_\w+|tracing\.\w+)",
    r"listener\.(127\.0\.0\.1_HP|127\.0\.0\.1_TP|admin)\.(connections_accepted_per_socket_event|downstream_cx_overflow)",
    r"listener\.(127\.0\.0\.1_HP|127\.0\.0\.1_TP|admin)\.(downstream_cx_overload_reject|downstream_global_cx_overflow)",
    r"listener\.(127\.0\.0\.1_HP|127\.0\.0\.1_TP|admin)\.(extension_config_missing|network_extension_config_missing)",
    r"tcp\.tcpin\.(downstream_cx_drain_close|downstream_cx_overload_close|early_data_received_count_total)",
    r"tcp\.tcpin\.(max_downstream_connection_duration|route_delayed_total)",
    r"listener_manager\.workers_pinned", r"envoy\.overload_actions\..*", r"overload\..*",
    # Process-level: watchdogs, runtime, build facts, hot restart.
    r"(server\.)?(main_thread|worker_\d+|workers)\.watchdog_\w+", r"server\.worker_\d+\.watchdog_\w+",
    r"runtime\.deprecated_\w+",
    r"server\.(compilation_settings\.fips_mode|debug_assertion_failures|dropped_stat_flushes|dynamic_unknown_fields)",
    r"server\.(envoy_bug_failures|envoy_notifications|parent_connections|static_unknown_fields)",
    r"server\.(stats_recent_lookups|version|wip_protos)",
]
# Names Remora lists that Envoy 1.40 does not.
REMORA_ONLY = [
    # Remora's access-log buffers drop lines past their limit and count them.
    r"filesystem\.write_dropped",
]


def _names(admin_port: int, ports: dict[int, str]) -> set[str]:
    conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=5)
    conn.request("GET", "/stats")
    body = conn.getresponse().read().decode()
    conn.close()
    names = set()
    for line in body.splitlines():
        name = line.partition(": ")[0].strip()
        for port, label in ports.items():
            name = name.replace(f"_{port}.", f"_{label}.")
        names.add(name)
    return names


@pytest.mark.remora_only("diffs the proxy under test against the reference Envoy binary")
@pytest.mark.deadline(60)
def test_stat_names_match_envoy(proxy, http_upstreams, upstreams, tmp_path):
    envoy = _reference_envoy()
    if envoy is None:
        pytest.skip("no reference Envoy binary (ENVOY_REFERENCE_BIN)")
    up, echo = http_upstreams(lambda req: Reply(body=b"hello")), upstreams()

    def run(start) -> set[str]:
        admin, hp, tp = free_port(), free_port(), free_port()
        cfg = http_config(admin, hp, [route({"prefix": "/"}, "backend")], [http_cluster("backend", [up.address])])
        cfg["static_resources"]["listeners"].append(support.tcp_listener("tcp", tp, "tcpc", "tcpin"))
        cfg["static_resources"]["clusters"].append(support.cluster("tcpc", [echo.address]))
        stop = start(cfg)
        try:
            with HttpClient(hp) as c:
                for _ in range(2):
                    c.send(REQUEST)
                    assert c.read_response().status == 200
            with connect("127.0.0.1", tp) as s:
                s.sendall(b"abc")
                assert recv_exact(s, 3) == b"abc"
            time.sleep(0.3)
            return _names(admin, {hp: "HP", tp: "TP", admin: "AP"})
        finally:
            stop()

    def start_remora(cfg):
        proxy(cfg)
        return lambda: None

    def start_envoy(cfg):
        path = tmp_path / "envoy.yaml"
        path.write_text(support.to_yaml(cfg))
        log = open(tmp_path / "envoy.log", "wb")
        proc = subprocess.Popen([envoy, "-c", str(path), "--concurrency", "1", "-l", "warning",
                                 "--disable-hot-restart", "--use-dynamic-base-id"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        admin = cfg["admin"]["address"]["socket_address"]["port_value"]
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", admin, timeout=1)
                conn.request("GET", "/ready")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "envoy.log").read_text()
            time.sleep(0.05)

        def stop():
            proc.kill()
            proc.wait(10)
            log.close()
        return stop

    remora, reference = run(start_remora), run(start_envoy)

    def allowed(name, patterns):
        return any(re.fullmatch(p, name) for p in patterns)

    missing = sorted(n for n in reference - remora if not allowed(n, DELIBERATELY_ABSENT))
    extra = sorted(n for n in remora - reference if not allowed(n, REMORA_ONLY))
    assert not missing, f"Envoy lists, Remora does not: {missing}"
    assert not extra, f"Remora lists, Envoy does not: {extra}"


def test_admin_endpoint_counts_its_own_requests(proxy, http_upstreams, admin_port):
    """`http.admin.*` and `listener.admin.*`: the admin endpoint's requests,
    responses and connections, as Envoy's admin listener counts them (each
    request here on its own connection). A /stats answer counts its own
    request, not yet its response."""
    p = proxy(_config(admin_port, free_port(), http_upstreams(), free_port()))
    names = ("http.admin.downstream_rq_total", "http.admin.downstream_rq_http1_total", "http.admin.downstream_rq_2xx",
             "http.admin.downstream_rq_4xx", "http.admin.downstream_rq_completed", "http.admin.downstream_cx_total",
             "http.admin.downstream_cx_http1_total", "listener.admin.downstream_cx_total",
             "listener.admin.main_thread.downstream_cx_total", "listener.admin.http.admin.downstream_rq_2xx",
             "listener.admin.http.admin.downstream_rq_4xx", "listener.admin.http.admin.downstream_rq_completed")
    before = p.stats()
    assert before["http.admin.downstream_rq_active"] == 1
    for _ in range(3):
        assert p.admin("GET", "/ready")[0] == 200
    assert p.admin("GET", "/no-such-admin-path")[0] == 404
    after = p.stats()
    delta = {n: after[n] - before[n] for n in names}
    assert delta == {
        "http.admin.downstream_rq_total": 5, "http.admin.downstream_rq_http1_total": 5,
        "http.admin.downstream_rq_2xx": 4, "http.admin.downstream_rq_4xx": 1,
        "http.admin.downstream_rq_completed": 5, "http.admin.downstream_cx_total": 5,
        "http.admin.downstream_cx_http1_total": 5, "listener.admin.downstream_cx_total": 5,
        "listener.admin.main_thread.downstream_cx_total": 5, "listener.admin.http.admin.downstream_rq_2xx": 4,
        "listener.admin.http.admin.downstream_rq_4xx": 1, "listener.admin.http.admin.downstream_rq_completed": 5,
    }, delta
    assert after["http.admin.downstream_rq_active"] == 1
    assert after["http.admin.downstream_cx_rx_bytes_total"] > before["http.admin.downstream_cx_rx_bytes_total"]
    assert after["http.admin.downstream_cx_tx_bytes_total"] > before["http.admin.downstream_cx_tx_bytes_total"]
    for router_stat in ("no_route", "no_cluster", "rq_total", "rq_direct_response", "rq_redirect"):
        assert f"http.admin.{router_stat}" not in after
