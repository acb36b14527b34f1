"""Access logs as Envoy 1.40 writes them (issue 12): `envoy.access_loggers.file`
/ `stdout` on the HTTP connection manager, `tcp_proxy` and the listener;
Envoy's default format, text and JSON formats with the command operators,
access-log filters, SIGUSR1 reopening, and format errors refused with
Envoy's messages.

Every test runs against Remora and against Envoy (PROXY_KIND=envoy): the
expected lines are Envoy's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

import http_support as H
import support
from http_support import HttpClient, Reply, route
from support import bootstrap, cluster, connect, free_port, listener, socket_address

FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
STDOUT_LOG = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
FLUSH = ["--file-flush-interval-msec", "50"]
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def file_log(path: Path, fmt: str | None = None, json_format: dict | None = None, filter: dict | None = None) -> dict:
    cfg: dict = {"@type": FILE_LOG, "path": str(path)}
    if fmt is not None:
        cfg["log_format"] = {"text_format_source": {"inline_string": fmt}}
    if json_format is not None:
        cfg["log_format"] = {"json_format": json_format}
    entry = {"name": "envoy.access_loggers.file", "typed_config": cfg}
    if filter is not None:
        entry["filter"] = filter
    return entry


def read_lines(path: Path, count: int, timeout: float = 5.0) -> list[str]:
    """Waits until `path` has `count` lines (the flush thread writes them)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        lines = text.splitlines(keepends=True)
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def responder(req):
    return Reply(200, [("content-type", "text/plain"), ("x-up", "yes")], b"hello")


@pytest.fixture
def http_proxy(proxy, http_upstreams, admin_port, tmp_path):
    """An HTTP listener whose access logs the test gives; routes: `/` to the
    upstream (route name `r-up`), `/empty` to a cluster without hosts,
    `/dead` to a port nobody listens on, `/direct` a direct response; any
    other path has no route."""
    up = http_upstreams(responder=responder, name="up")

    def start(logs: list[dict], **hcm_extra):
        port = free_port()
        dead = free_port()
        rc = H.route_config([H.vhost("vh", ["*"], [
            route({"prefix": "/empty"}, "empty"),
            route({"prefix": "/dead"}, "dead"),
            route({"prefix": "/direct"}, direct_response={"status": 418, "body": {"inline_string": "teapot"}}),
            route({"prefix": "/up"}, "backend", name="r-up"),
        ])])
        cfg = bootstrap(admin_port, [H.http_listener("http", port, rc, access_log=logs, **hcm_extra)], [
            H.http_cluster("backend", [up.address]),
            H.http_cluster("empty", []),
            H.http_cluster("dead", [socket_address("127.0.0.1", dead)]),
        ])
        p = proxy(cfg, extra_args=FLUSH)
        return p, port, up

    return start


def test_default_format(http_proxy, tmp_path):
    log = tmp_path / "access.log"
    p, port, up = http_proxy([file_log(log)])
    before = time.time()
    r = H.get(port, "/up/a?b=1", headers=[("user-agent", "ua/1"), ("x-forwarded-for", "10.1.2.3")])
    assert r.status == 200
    (line,) = read_lines(log, 1)
    m = re.fullmatch(rf'\[({TIME})\] "GET /up/a\?b=1 HTTP/1.1" 200 - 0 5 (\d+) (\d+) "10.1.2.3" "ua/1" '
                     rf'"([0-9a-f-]{{36}})" "example.com" "127.0.0.1:{up.port}"\n', line)
    assert m, line
    started = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 2 <= started <= time.time() + 1
    assert int(m.group(3)) <= int(m.group(2)) + 1  # upstream service time within the duration
    assert m.group(4) == up.requests[0].header("x-request-id")


def test_text_operators(http_proxy, tmp_path):
    log = tmp_path / "ops.log"
    fmt = ("A%%B|%REQ(:METHOD)%|%REQ(:PATH)%|%REQ(:path):4%|%REQ(x-a?x-b)%|%REQ(X-NONE)%|%REQ(:AUTHORITY)%|"
           "%RESP(content-type)%|%RESP(x-up)%|%RESP(x-none)%|%PROTOCOL%|%RESPONSE_CODE%|%RESPONSE_CODE_DETAILS%|"
           "%RESPONSE_FLAGS%|%BYTES_RECEIVED%|%BYTES_SENT%|%UPSTREAM_HOST%|%UPSTREAM_CLUSTER%|%ROUTE_NAME%|"
           "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_LOCAL_ADDRESS%|%REQUESTED_SERVER_NAME%|"
           "%UPSTREAM_REQUEST_ATTEMPT_COUNT%|%UPSTREAM_TRANSPORT_FAILURE_REASON%|%START_TIME(%Y)%|"
           "%UPSTREAM_LOCAL_ADDRESS%\n")
    p, port, up = http_proxy([file_log(log, fmt)])
    r = H.get(port, "/up/x", method="POST", headers=[("x-b", "bee"), ("content-length", "3")], body=b"xyz")
    assert r.status == 200
    (line,) = read_lines(log, 1)
    fields = line.rstrip("\n").split("|")
    peer = up.conn_peers[0]
    assert fields[:-1] == [
        "A%B", "POST", "/up/x", "/up/", "bee", "-", "example.com",
        "text/plain", "yes", "-", "HTTP/1.1", "200", "via_upstream",
        "-", "3", "5", f"127.0.0.1:{up.port}", "backend", "r-up",
        "127.0.0.1", f"127.0.0.1:{port}", "-",
        "1", "-", time.strftime("%Y", time.gmtime()),
    ], line
    assert fields[-1] == f"{peer[0]}:{peer[1]}"


def test_json_format(http_proxy, tmp_path):
    log = tmp_path / "json.log"
    p, port, up = http_proxy([file_log(log, json_format={
        "zeta": "%RESPONSE_CODE%", "alpha": "%REQ(:PATH)%", "missing": "%REQ(x-nope)%", "mixed": "code=%RESPONSE_CODE% %REQ(x-nope)%",
        "nested": {"b": "%PROTOCOL%", "a": "lit"}, "num": 5, "flag": True, "bytes": "%BYTES_SENT%",
        "quote": "%REQ(x-q)%"})])
    assert H.get(port, "/up/j", headers=[("x-q", 'say "hi"\\')]).status == 200
    (line,) = read_lines(log, 1)
    assert line == ('{"alpha":"/up/j","bytes":5,"flag":true,"missing":null,"mixed":"code=200 -",'
                    '"nested":{"a":"lit","b":"HTTP/1.1"},"num":5,"quote":"say \\"hi\\"\\\\","zeta":200}\n')
    assert json.loads(line)["quote"] == 'say "hi"\\'


def test_local_replies_carry_flags_and_details(http_proxy, tmp_path):
    log = tmp_path / "flags.log"
    p, port, up = http_proxy([file_log(log, "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% "
                                            "%UPSTREAM_CLUSTER% %UPSTREAM_HOST%\n")])
    for path, status in (("/nothing", 404), ("/empty", 503), ("/dead", 503), ("/direct", 418)):
        assert H.get(port, path).status == status
    lines = read_lines(log, 4)
    assert lines[0] == "/nothing 404 NR route_not_found - -\n"
    assert lines[1] == "/empty 503 UH no_healthy_upstream empty -\n"
    assert re.fullmatch(r"/dead 503 UF upstream_reset_before_response_started\{\S+\} dead 127\.0\.0\.1:\d+\n", lines[2]), lines[2]
    assert lines[3] == "/direct 418 - direct_response - -\n"


def test_filters_choose_the_lines(http_proxy, tmp_path):
    errors, flagged, slow, both, either = (tmp_path / n for n in ("errors", "flagged", "slow", "both", "either"))
    status_ge_400 = {"status_code_filter": {"comparison": {"op": "GE", "value": {"default_value": 400, "runtime_key": "k"}}}}
    no_route = {"response_flag_filter": {"flags": ["NR"]}}
    p, port, up = http_proxy([
        file_log(errors, "%REQ(:PATH)%\n", filter=status_ge_400),
        file_log(flagged, "%REQ(:PATH)%\n", filter={"response_flag_filter": {}}),
        file_log(slow, "%REQ(:PATH)%\n", filter={"duration_filter": {"comparison": {
            "op": "GE", "value": {"default_value": 60000, "runtime_key": "k"}}}}),
        file_log(both, "%REQ(:PATH)%\n", filter={"and_filter": {"filters": [status_ge_400, no_route]}}),
        file_log(either, "%REQ(:PATH)%\n", filter={"or_filter": {"filters": [no_route, {"status_code_filter": {
            "comparison": {"op": "EQ", "value": {"default_value": 200, "runtime_key": "k"}}}}]}}),
    ])
    for path in ("/up/ok", "/nothing", "/empty"):
        H.get(port, path)
    H.get(port, "/up/last")
    read_lines(either, 3)
    assert read_lines(errors, 2) == ["/nothing\n", "/empty\n"]
    assert read_lines(flagged, 2) == ["/nothing\n", "/empty\n"]
    assert read_lines(both, 1) == ["/nothing\n"]
    assert read_lines(either, 3) == ["/up/ok\n", "/nothing\n", "/up/last\n"]
    assert not slow.exists() or slow.read_text() == ""


def test_tcp_proxy_and_listener_logs(proxy, upstreams, admin_port, tmp_path):
    tcp_log, listener_log = tmp_path / "tcp.log", tmp_path / "listener.log"
    up = upstreams()
    port, unmatched_port = free_port(), free_port()
    tcp = support.tcp_proxy_filter("backend", "tcp")
    tcp["typed_config"]["access_log"] = [file_log(tcp_log)]
    unmatched = listener("unmatched", socket_address("127.0.0.1", unmatched_port), [
        {"filter_chain_match": {"destination_port": 1}, "filters": [support.tcp_proxy_filter("backend", "never")]}])
    unmatched["access_log"] = [file_log(listener_log, "%RESPONSE_FLAGS% %DOWNSTREAM_LOCAL_ADDRESS% %BYTES_RECEIVED%\n")]
    proxy(bootstrap(admin_port, [listener("tcp", socket_address("127.0.0.1", port), [{"filters": [tcp]}]), unmatched],
                    [cluster("backend", [up.address])]), extra_args=FLUSH)
    with connect("127.0.0.1", port) as s:
        s.sendall(b"hello")
        assert support.recv_exact(s, 5) == b"hello"
        s.shutdown(socket.SHUT_WR)
        support.wait_closed(s, 5)
    (line,) = read_lines(tcp_log, 1)
    assert re.fullmatch(rf'\[{TIME}\] "- - -" 0 - 5 5 \d+ - "-" "-" "-" "-" "127.0.0.1:{up.port}"\n', line), line
    with connect("127.0.0.1", unmatched_port) as s:
        support.wait_closed(s, 5)
    assert read_lines(listener_log, 1) == [f"NR 127.0.0.1:{unmatched_port} 0\n"]


def test_stdout_logger_writes_to_the_proxy_stdout(http_proxy, tmp_path):
    p, port, up = http_proxy([{"name": "envoy.access_loggers.stdout", "typed_config": {
        "@type": STDOUT_LOG, "log_format": {"text_format_source": {"inline_string": "STDOUT-LINE %REQ(:PATH)%\n"}}}}])
    H.get(port, "/up/out")
    deadline = time.monotonic() + 5
    while "STDOUT-LINE /up/out" not in p.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "STDOUT-LINE /up/out\n" in p.log_tail()


def test_sigusr1_reopens_the_file(http_proxy, tmp_path):
    log = tmp_path / "rotate.log"
    p, port, up = http_proxy([file_log(log, "%REQ(:PATH)%\n")])
    H.get(port, "/up/one")
    assert read_lines(log, 1) == ["/up/one\n"]
    rotated = tmp_path / "rotate.log.1"
    os.rename(log, rotated)
    p.signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    H.get(port, "/up/two")
    assert read_lines(log, 1) == ["/up/two\n"]
    assert rotated.read_text() == "/up/one\n"


@pytest.mark.parametrize("fmt, message", [
    ("%FOO%", "Not supported field in StreamInfo: FOO"),
    ("%REQ(x-a%", "Incorrect configuration: %REQ(x-a%. Couldn't find valid command at position 0"),
    ("a 100% b", "Incorrect configuration: a 100% b. Couldn't find valid command at position 5"),
    ("%REQ()%", "REQ requires parameters"),
    ("%REQ(a?b?c)%", "More than 1 alternative header specified in token: a?b?c"),
    ("%RESPONSE_CODE(x)%", "RESPONSE_CODE does not take any parameters or length"),
])
def test_bad_formats_are_refused_with_envoys_message(tmp_path, admin_port, fmt, message):
    cfg = bootstrap(admin_port, [H.http_listener("http", free_port(), H.route_config([]),
                                                 access_log=[file_log(tmp_path / "x.log", fmt)])], [])
    path = tmp_path / "bad.yaml"
    path.write_text(support.to_yaml(cfg))
    r = support.run_validate(path)
    assert r.returncode != 0
    assert message in (r.stdout + r.stderr).decode(), (r.stdout + r.stderr).decode()[-2000:]


ISTIO_FORMAT = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% '
    '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% '
    '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
    '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% '
    '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n')


def test_istios_default_format(proxy, http_upstreams, admin_port, tmp_path):
    """Istio's default proxy access-log format, field for field as Envoy
    renders it: a proxied request with a prefix rewrite, a connect failure
    (its transport failure reason in the details and its own field), no
    route, and a tcp_proxy connection that cannot connect (UF,URX)."""
    log = tmp_path / "istio.log"
    up = http_upstreams(responder=responder, name="up")
    port, tcp_port, dead = free_port(), free_port(), free_port()
    entry = file_log(log, ISTIO_FORMAT)
    rc = H.route_config([H.vhost("vh", ["*"], [
        route({"prefix": "/dead"}, "dead", name="to-dead"),
        route({"prefix": "/old"}, "backend", name="r1", route_extra={"prefix_rewrite": "/new"}),
    ])])
    tcp = support.tcp_proxy_filter("dead", "tcp")
    tcp["typed_config"]["access_log"] = [entry]
    proxy(bootstrap(admin_port, [H.http_listener("http", port, rc, access_log=[entry]),
                                 listener("tcp", socket_address("127.0.0.1", tcp_port), [{"filters": [tcp]}])],
                    [H.http_cluster("backend", [up.address]), H.http_cluster("dead", [socket_address("127.0.0.1", dead)])]),
          extra_args=FLUSH)
    ua = [("user-agent", "ua/2")]
    assert H.get(port, "/old/x", headers=ua).status == 200
    assert H.get(port, "/dead", headers=ua).status == 503
    assert H.get(port, "/none", headers=ua).status == 404
    with connect("127.0.0.1", tcp_port) as s:
        support.wait_closed(s, 5)
    lines = read_lines(log, 4)
    peer = up.conn_peers[0]
    client = r"127\.0\.0\.1:\d+"
    rid = r'"[0-9a-f-]{36}"'
    refused = "delayed_connect_error:_Connection_refused"
    expected = [
        rf'\[{TIME}\] "GET /old/x HTTP/1.1" 200 - via_upstream - "-" 0 5 \d+ \d+ "-" "ua/2" {rid} "example.com" '
        rf'"127.0.0.1:{up.port}" backend {peer[0]}:{peer[1]} 127.0.0.1:{port} {client} - r1\n',
        rf'\[{TIME}\] "GET /dead HTTP/1.1" 503 UF upstream_reset_before_response_started\{{remote_connection_failure\|{refused}\}} '
        rf'- "{refused}" 0 98 \d+ - "-" "ua/2" {rid} "example.com" "127.0.0.1:{dead}" dead - 127.0.0.1:{port} {client} - to-dead\n',
        rf'\[{TIME}\] "GET /none HTTP/1.1" 404 NR route_not_found - "-" 0 0 \d+ - "-" "ua/2" {rid} "example.com" "-" - - '
        rf'127.0.0.1:{port} {client} - -\n',
        rf'\[{TIME}\] "- - -" 0 UF,URX - - "{refused}" 0 0 \d+ - "-" "-" "-" "-" "127.0.0.1:{dead}" dead - '
        rf'127.0.0.1:{tcp_port} {client} - -\n',
    ]
    assert len(lines) == 4, lines
    for pattern, line in zip(expected, lines):
        assert re.fullmatch(pattern, line), (pattern, line)
