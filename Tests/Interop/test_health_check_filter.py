"""The `envoy.filters.http.health_check` HTTP filter (issue 12) with the
admin's /healthcheck/fail and /healthcheck/ok: answers, headers, response
flags and details in access logs, `not_health_check_filter`, and the stats
Envoy 1.40 keeps (and leaves out) for health checks.

Every test runs against Remora and against Envoy (PROXY_KIND=envoy); the
expected values were read from Envoy 1.40.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

import http_support as H
import support
from http_support import HttpClient, Reply
from support import IS_ENVOY, free_port, run_validate, to_yaml

HC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck"
FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
FLUSH = ["--file-flush-interval-msec", "50"]
LOG_FORMAT = "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %REQ(:PATH)%\n"
HEALTHZ = [{"name": ":path", "string_match": {"exact": "/healthz"}}]
HC_STATS = ("cached_response", "degraded", "failed", "failed_cluster_empty", "failed_cluster_not_found",
            "failed_cluster_unhealthy", "ok", "request_total")


def health_check_filter(**cfg) -> dict:
    return {"name": "envoy.filters.http.health_check", "typed_config": {"@type": HC_TYPE, **cfg}}


def file_log(path: Path, fmt: str, only_not_health_checks: bool = False) -> dict:
    entry = {"name": "envoy.access_loggers.file",
             "typed_config": {"@type": FILE_LOG, "path": str(path),
                              "log_format": {"text_format_source": {"inline_string": fmt}}}}
    if only_not_health_checks:
        entry["filter"] = {"not_health_check_filter": {}}
    return entry


def config(admin_port: int, port: int, upstream, hc: dict | None, tmp: Path, extra_clusters=()) -> dict:
    cfg = H.simple_http_config(admin_port, port, upstream)
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    if hc is not None:
        hcm["http_filters"].insert(0, health_check_filter(**hc))
    hcm["access_log"] = [file_log(tmp / "all.log", LOG_FORMAT),
                         file_log(tmp / "not_hc.log", "%REQ(:PATH)%\n", only_not_health_checks=True)]
    cfg["static_resources"]["clusters"] += list(extra_clusters)
    return cfg


def read_lines(path: Path, count: int, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def get(port: int, path: str, headers=()) -> H.Response:
    with HttpClient(port) as c:
        return c.request("GET", path, headers=list(headers))


def hc_stats(p) -> dict[str, int]:
    stats = p.stats()
    return {k.removeprefix("http.ingress_http.health_check."): v for k, v in stats.items()
            if k.startswith("http.ingress_http.health_check.")}


def upstream_reply(req):
    return Reply(200, [("content-type", "text/plain")], b"hello")


def test_answers_health_checks_itself(proxy, http_upstreams, admin_port, tmp_path):
    up = http_upstreams(upstream_reply)
    port = free_port()
    p = proxy(config(admin_port, port, up, {"pass_through_mode": False, "headers": HEALTHZ}, tmp_path),
              extra_args=FLUSH + ["--service-cluster", "frontend"])
    assert hc_stats(p) == dict.fromkeys(HC_STATS, 0)

    r = get(port, "/healthz")
    assert r.status == 200 and r.body == b""
    assert r.headers.lower_names() == ["x-envoy-upstream-healthchecked-cluster", "date", "server", "content-length"]
    assert r.header("x-envoy-upstream-healthchecked-cluster") == "frontend"
    assert r.header("content-length") == "0"

    r = get(port, "/other")
    assert r.status == 200 and r.body == b"hello"
    assert not r.headers.has("x-envoy-upstream-healthchecked-cluster")
    assert not r.headers.has("x-envoy-immediate-health-check-fail")
    assert [req.target for req in up.wait_requests(1)] == ["/other"]

    # A health check with a body is answered once the body is in; the
    # connection stays open.
    with HttpClient(port) as c:
        c.send(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
        c.sock.settimeout(0.3)
        with pytest.raises(socket.timeout):
            c.sock.recv(1)
        c.sock.settimeout(5)
        c.send(b"ping")
        r = c.read_response("POST")
        assert r.status == 200 and not r.headers.has("connection")
        assert c.request("GET", "/healthz").status == 200

    assert read_lines(tmp_path / "all.log", 4) == [
        "200 - health_check_ok /healthz", "200 - via_upstream /other",
        "200 - health_check_ok /healthz", "200 - health_check_ok /healthz"]
    assert read_lines(tmp_path / "not_hc.log", 1) == ["/other"]
    assert up.accepted == 1
    stats = p.stats()
    assert hc_stats(p) == {**dict.fromkeys(HC_STATS, 0), "request_total": 3, "ok": 3}
    # Envoy leaves health checks out of the response stats (rq_total keeps them).
    assert stats["http.ingress_http.downstream_rq_total"] == 4
    assert stats["http.ingress_http.downstream_rq_completed"] == 1
    assert stats["http.ingress_http.downstream_rq_2xx"] == 1


def test_healthcheck_fail_and_ok(proxy, http_upstreams, admin_port, tmp_path):
    up = http_upstreams(upstream_reply)
    port = free_port()
    p = proxy(config(admin_port, port, up, {"pass_through_mode": False, "headers": HEALTHZ}, tmp_path),
              extra_args=FLUSH + ["--service-cluster", "frontend"])
    assert p.admin("POST", "/healthcheck/fail") == (200, b"OK\n")

    r = get(port, "/healthz")
    assert r.status == 503 and r.body == b""
    assert r.headers.lower_names() == ["x-envoy-upstream-healthchecked-cluster", "x-envoy-immediate-health-check-fail",
                                       "date", "server", "connection", "content-length"]
    assert r.header("x-envoy-immediate-health-check-fail") == "true"
    assert r.header("connection") == "close"

    # Every response says so while the server is failed, proxied or local.
    r = get(port, "/other")
    assert r.status == 200 and r.body == b"hello"
    assert r.headers.lower_names()[-4:] == ["x-envoy-immediate-health-check-fail", "date", "server", "connection"]
    assert not r.headers.has("x-envoy-upstream-healthchecked-cluster")

    assert p.admin("POST", "/healthcheck/ok") == (200, b"OK\n")
    r = get(port, "/healthz")
    assert r.status == 200 and not r.headers.has("x-envoy-immediate-health-check-fail")

    assert read_lines(tmp_path / "all.log", 3) == [
        "503 LH health_check_failed /healthz", "200 - via_upstream /other", "200 - health_check_ok /healthz"]
    assert read_lines(tmp_path / "not_hc.log", 1) == ["/other"]
    assert hc_stats(p) == {**dict.fromkeys(HC_STATS, 0), "request_total": 2, "ok": 1, "failed": 1}
    stats = p.stats()
    assert stats["http.ingress_http.downstream_rq_5xx"] == 0
    assert stats["http.ingress_http.downstream_rq_2xx"] == 1


def test_pass_through_mode_with_header_matchers(proxy, http_upstreams, admin_port, tmp_path):
    up = http_upstreams(upstream_reply)
    port = free_port()
    matchers = HEALTHZ + [{"name": "x-probe", "present_match": True}]
    p = proxy(config(admin_port, port, up, {"pass_through_mode": True, "headers": matchers}, tmp_path),
              extra_args=FLUSH)

    # A health check goes on to the upstream; its response says which
    # cluster was checked (the node's: none here).
    r = get(port, "/healthz", [("x-probe", "1")])
    assert r.status == 200 and r.body == b"hello"
    names = r.headers.lower_names()
    assert names.index("x-envoy-upstream-service-time") + 1 == names.index("x-envoy-upstream-healthchecked-cluster")
    assert r.header("x-envoy-upstream-healthchecked-cluster") == ""
    # Both matchers must match.
    r = get(port, "/healthz")
    assert r.status == 200 and not r.headers.has("x-envoy-upstream-healthchecked-cluster")
    assert len(up.wait_requests(2)) == 2

    # A failed server answers health checks itself, even in pass-through mode.
    p.admin("POST", "/healthcheck/fail")
    r = get(port, "/healthz", [("x-probe", "1")])
    assert r.status == 503
    assert r.header("x-envoy-immediate-health-check-fail") == "true"
    time.sleep(0.2)
    assert len(up.requests) == 2

    assert read_lines(tmp_path / "all.log", 3) == [
        "200 - via_upstream /healthz", "200 - via_upstream /healthz", "503 LH health_check_failed /healthz"]
    assert read_lines(tmp_path / "not_hc.log", 1) == ["/healthz"]
    # Only the health check the filter answered counts in its stats; the
    # router leaves the one it proxied out of the cluster's per-code stats.
    assert hc_stats(p) == {**dict.fromkeys(HC_STATS, 0), "request_total": 1, "failed": 1}
    stats = p.stats()
    assert stats["cluster.backend.upstream_rq_total"] == 2
    assert stats["cluster.backend.upstream_rq_2xx"] == 1
    assert stats["cluster.backend.upstream_rq_200"] == 1
    assert stats["cluster.backend.upstream_rq_completed"] == 1
    assert stats["http.ingress_http.downstream_rq_2xx"] == 1


@pytest.mark.parametrize("percentages,status,details,stat", [
    ({"backend": 100, "missing": 0}, 503, "health_check_failed_no_cluster_found", "failed_cluster_not_found"),
    ({"backend": 100, "empty": 1}, 503, "health_check_failed_cluster_empty", "failed_cluster_empty"),
    ({"backend": 100, "empty": 0}, 200, "health_check_ok_cluster_healthy", None),
], ids=["not-found", "empty", "empty-at-zero"])
def test_cluster_min_healthy_percentages(proxy, http_upstreams, admin_port, tmp_path, percentages, status, details,
                                         stat):
    up = http_upstreams(upstream_reply)
    port = free_port()
    hc = {"pass_through_mode": False, "headers": HEALTHZ,
          "cluster_min_healthy_percentages": {k: {"value": v} for k, v in percentages.items()}}
    p = proxy(config(admin_port, port, up, hc, tmp_path, extra_clusters=[H.http_cluster("empty", [])]),
              extra_args=FLUSH)
    r = get(port, "/healthz")
    assert r.status == status
    # A cluster-health 503 is not a failed server: no fail header, no close.
    assert not r.headers.has("x-envoy-immediate-health-check-fail") and not r.headers.has("connection")
    flag = "LH" if status == 503 else "-"
    assert read_lines(tmp_path / "all.log", 1) == [f"{status} {flag} {details} /healthz"]
    expected = {**dict.fromkeys(HC_STATS, 0), "request_total": 1}
    if stat:
        expected.update({"failed": 1, stat: 1})
    else:
        expected["ok"] = 1
    assert hc_stats(p) == expected


def test_without_the_filter_a_failed_server_only_closes(proxy, http_upstreams, admin_port, tmp_path):
    up = http_upstreams(upstream_reply)
    port = free_port()
    p = proxy(config(admin_port, port, up, None, tmp_path), extra_args=FLUSH)
    assert hc_stats(p) == {}
    p.admin("POST", "/healthcheck/fail")
    r = get(port, "/healthz")
    assert r.status == 200 and r.body == b"hello"
    assert r.header("connection") == "close"
    assert not r.headers.has("x-envoy-immediate-health-check-fail")
    assert read_lines(tmp_path / "not_hc.log", 1) == ["/healthz"]


def test_health_check_without_pass_through_mode_is_refused(tmp_path):
    cfg = config(free_port(), free_port(), [], {"headers": HEALTHZ}, tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(to_yaml(cfg))
    result = run_validate(path)
    assert result.returncode != 0
    out = (result.stdout + result.stderr).decode()
    assert ("http_filters[0].typed_config.pass_through_mode" if not IS_ENVOY else "PassThroughMode") in out, out[-500:]


def test_cache_time_without_pass_through_mode_is_refused(tmp_path):
    cfg = config(free_port(), free_port(), [], {"pass_through_mode": False, "cache_time": "1s"}, tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(to_yaml(cfg))
    result = run_validate(path)
    assert result.returncode != 0
    out = (result.stdout + result.stderr).decode()
    assert "cache_time_ms must not be set when path_through_mode is disabled" in out, out[-500:]
    if not IS_ENVOY:
        assert "http_filters[0].typed_config.cache_time" in out, out[-500:]


def test_cache_time_answers_from_the_last_health_check(proxy, http_upstreams, admin_port, tmp_path):
    up = http_upstreams(upstream_reply)
    port = free_port()
    hc = {"pass_through_mode": True, "cache_time": "5s", "headers": HEALTHZ}
    p = proxy(config(admin_port, port, up, hc, tmp_path), extra_args=FLUSH + ["--service-cluster", "frontend"])

    # The first health check goes to the upstream; its answer is kept.
    assert get(port, "/healthz").body == b"hello"
    r = get(port, "/healthz")
    assert r.status == 200 and r.body == b""
    assert r.headers.lower_names() == ["x-envoy-upstream-healthchecked-cluster", "date", "server", "content-length"]
    assert get(port, "/other").status == 200
    assert len(up.wait_requests(2)) == 2

    # A failed server's 503 is kept too, and answered after /healthcheck/ok.
    p.admin("POST", "/healthcheck/fail")
    assert get(port, "/healthz").status == 503
    p.admin("POST", "/healthcheck/ok")
    r = get(port, "/healthz")
    assert r.status == 503 and not r.headers.has("x-envoy-immediate-health-check-fail")
    assert read_lines(tmp_path / "all.log", 5) == [
        "200 - via_upstream /healthz", "200 - health_check_cached /healthz", "200 - via_upstream /other",
        "503 LH health_check_failed /healthz", "503 LH health_check_cached /healthz"]
    assert hc_stats(p) == {**dict.fromkeys(HC_STATS, 0), "request_total": 3, "ok": 1, "failed": 2, "cached_response": 2}

    # Once a cache period has passed, health checks go to the upstream again.
    time.sleep(5.5)
    assert get(port, "/healthz").body == b"hello"
    assert len(up.wait_requests(3)) == 3


def test_health_checks_over_http2(proxy, http_upstreams, admin_port, tmp_path):
    import subprocess
    up = http_upstreams(upstream_reply)
    port = free_port()
    cfg = config(admin_port, port, up, {"pass_through_mode": False, "headers": HEALTHZ}, tmp_path)
    cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["codec_type"] = "AUTO"
    p = proxy(cfg, extra_args=FLUSH + ["--service-cluster", "frontend"])

    def h2_get(path: str) -> tuple[str, dict[str, str]]:
        r = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "--http2-prior-knowledge",
                            f"http://127.0.0.1:{port}{path}"], capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.decode().split("\r\n")
        return lines[0].strip(), {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}

    status, headers = h2_get("/healthz")
    assert status == "HTTP/2 200"
    assert headers["x-envoy-upstream-healthchecked-cluster"] == "frontend"
    p.admin("POST", "/healthcheck/fail")
    status, headers = h2_get("/healthz")
    assert status == "HTTP/2 503"
    assert headers["x-envoy-immediate-health-check-fail"] == "true"
    status, headers = h2_get("/other")
    assert status == "HTTP/2 200" and headers["x-envoy-immediate-health-check-fail"] == "true"
    assert read_lines(tmp_path / "all.log", 3) == [
        "200 - health_check_ok /healthz", "503 LH health_check_failed /healthz", "200 - via_upstream /other"]
    assert hc_stats(p) == {**dict.fromkeys(HC_STATS, 0), "request_total": 2, "ok": 1, "failed": 1}
    assert p.stats()["http.ingress_http.downstream_rq_2xx"] == 1
