"""Histograms, quantiles, /stats?format=json and /stats/prometheus with
Envoy's tag extraction, stats_config (stats_tags, stats_matcher,
histogram_bucket_settings) and stats_flush_interval.

Every test runs against both proxies (PROXY_KIND=envoy for Envoy 1.40); the
expectations are Envoy's output, so a test that passes on both shows the two
answer alike.  Latencies come from an upstream that sleeps a known time, so
quantiles are checked against the circllhist bin they must fall in, not to
the digit (the digits are checked in HistogramBinsTests with samples whose
bins are known).
"""

import json
import math
import re
import socket
import time
import urllib.parse

import pytest
from prometheus_client.parser import text_string_to_metric_families

import support
from http_support import HttpUpstream, Reply, get, simple_http_config
from support import IS_ENVOY, free_port, run_validate, socket_address, tcp_listener, to_yaml

QUANTILES = ["P0", "P25", "P50", "P75", "P90", "P95", "P99", "P99.5", "P99.9", "P100"]
DEFAULT_BUCKETS = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000",
                   "10000", "30000", "60000", "300000", "600000", "1800000", "3600000"]
SLEEP_MS = 60


@pytest.fixture
def sleepy_upstream():
    up = HttpUpstream(lambda req: Reply(delay=SLEEP_MS / 1000.0, body=b"ok"))
    yield up
    up.stop()


def http_proxy(proxy, admin_port, upstream, flush="0.2s", stats_config=None, extra_listeners=(),
               extra_clusters=()):
    port = free_port()
    cfg = simple_http_config(admin_port, port, upstream)
    cfg["stats_flush_interval"] = flush
    if stats_config is not None:
        cfg["stats_config"] = stats_config
    cfg["static_resources"]["listeners"] += list(extra_listeners)
    cfg["static_resources"]["clusters"] += list(extra_clusters)
    return proxy(cfg), port


def send(port, n):
    for _ in range(n):
        r = get(port, "/")
        assert r.status == 200


def admin_text(p, path):
    status, body = p.admin("GET", path)
    assert status == 200, (path, status, body[:300])
    return body.decode()


def histogram_line(p, name):
    """The parsed `/stats` line of histogram ``name``: None for "No recorded
    values", else {quantile: (interval, cumulative)}."""
    text = admin_text(p, "/stats?filter=" + urllib.parse.quote("^" + re.escape(name) + "$"))
    line = next(l for l in text.splitlines() if l.startswith(name + ": "))
    summary = line[len(name) + 2:]
    if summary == "No recorded values":
        return None
    parts = summary.split(" ")
    assert [x.split("(")[0] for x in parts] == QUANTILES, summary
    out = {}
    for part in parts:
        q, values = part[:-1].split("(")
        interval, cumulative = values.split(",")
        out[q] = (float(interval), float(cumulative))
    return out


# What the proxy, Python and the upstream connect (upstream_rq_time runs
# from the end of the downstream request, as Envoy's does, so the first
# request pays the connect) may add to SLEEP_MS: a few ms on a quiet machine,
# a few hundred on a loaded 2-core CI machine with a debug build. A unit
# error (µs for ms, seconds for ms) is still a factor of 1000 off.
SLACK_MS = 500


def in_sleep_bin(v):
    """A latency of SLEEP_MS plus the slack, never less than SLEEP_MS."""
    return SLEEP_MS <= v < SLEEP_MS + SLACK_MS


def wait_flushed(p, n, timeout=15.0):
    """Until a stats flush has merged ``n`` upstream_rq_time values of the
    cluster ``backend`` (histograms reach /stats only at a flush)."""
    deadline = time.monotonic() + timeout
    while True:
        _, ms = metrics(p)
        count = sample(ms, "envoy_cluster_upstream_rq_time_count", envoy_cluster_name="backend")
        if count == n:
            return
        assert time.monotonic() < deadline, f"upstream_rq_time count {count}, not {n}, after {timeout}s"
        time.sleep(0.1)


def metrics(p, path="/stats/prometheus"):
    """Parses the output with prometheus_client (it must read it without
    error, and find each family's type), then returns
    {(name as printed, frozenset(labels)): value}.  Values are read from the
    lines themselves because prometheus_client renames counter samples
    (``envoy_cluster_upstream_rq`` becomes ``..._rq_total``)."""
    text = admin_text(p, path)
    families = list(text_string_to_metric_families(text))
    declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    assert len(families) == len(declared)
    for family in families:
        assert family.type in ("counter", "gauge", "histogram")
        assert family.samples
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)", line)
        assert m, line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out[(m.group(1), labels)] = float(m.group(3))
    return text, out


def sample(ms, name, **labels):
    return ms.get((name, frozenset(labels.items())))


def test_quantiles_interval_and_cumulative_from_known_latencies(proxy, admin_port, sleepy_upstream):
    p, port = http_proxy(proxy, admin_port, sleepy_upstream, flush="1s")
    # (Envoy creates cluster.backend.upstream_rq_time on first use; the
    # connection manager's histogram is listed from the start.)
    assert histogram_line(p, "http.ingress_http.downstream_rq_time") is None, "No recorded values before traffic"
    send(port, 4)
    # The first flush that saw the requests: interval and cumulative both hold them.
    seen_interval = seen_empty_interval = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (seen_interval and seen_empty_interval):
        h = histogram_line(p, "cluster.backend.upstream_rq_time")
        if h is not None:
            if not math.isnan(h["P50"][0]):
                seen_interval = h
            elif seen_interval:
                seen_empty_interval = h
        time.sleep(0.1)
    assert seen_interval, "a flush reported the requests in its interval"
    assert seen_empty_interval, "the next flush's interval is empty (nan), as in Envoy"
    for q in QUANTILES:
        assert in_sleep_bin(seen_empty_interval[q][1]), (q, seen_empty_interval)
        assert in_sleep_bin(seen_interval[q][0]), (q, seen_interval)
    # The downstream view includes the upstream time.
    down = histogram_line(p, "http.ingress_http.downstream_rq_time")
    assert down is not None and in_sleep_bin(down["P50"][1]), down


def test_json_histograms_in_envoy_shape(proxy, admin_port, sleepy_upstream):
    p, port = http_proxy(proxy, admin_port, sleepy_upstream)
    send(port, 3)
    wait_flushed(p, 3)
    doc = json.loads(admin_text(p, "/stats?format=json&filter=upstream_rq_time"))
    stats = doc["stats"]
    histograms = stats[-1]["histograms"]
    assert all("name" in s and isinstance(s["value"], int) for s in stats[:-1])
    assert histograms["supported_quantiles"] == [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]
    by_name = {h["name"]: h["values"] for h in histograms["computed_quantiles"]}
    values = by_name["cluster.backend.upstream_rq_time"]
    assert len(values) == 10 and all(set(v) == {"cumulative", "interval"} for v in values)
    assert all(in_sleep_bin(v["cumulative"]) for v in values), values
    # Never used: every value is null.
    doc = json.loads(admin_text(p, "/stats?format=json&filter=upstream_cx_length_ms"))
    unused = doc["stats"][-1]["histograms"]["computed_quantiles"]
    assert unused and all(v == {"cumulative": None, "interval": None} for h in unused for v in h["values"])
    # usedonly drops unused histograms; a filter matching nothing gives no element.
    assert json.loads(admin_text(p, "/stats?format=json&usedonly&filter=upstream_cx_length_ms")) == {"stats": []}
    assert json.loads(admin_text(p, "/stats?format=json&filter=no_such_stat")) == {"stats": []}


def test_prometheus_parses_and_carries_envoys_tags(proxy, admin_port, sleepy_upstream, upstreams):
    echo = upstreams()
    tcp_port = free_port()
    p, port = http_proxy(proxy, admin_port, sleepy_upstream,
                         extra_listeners=[tcp_listener("tcp", tcp_port, "echo", "tcpin")],
                         extra_clusters=[support.cluster("echo", [echo.address])])
    send(port, 3)
    c = support.connect("127.0.0.1", tcp_port)
    c.sendall(b"x")
    assert support.recv_exact(c, 1) == b"x"
    c.close()
    wait_flushed(p, 3)
    text, ms = metrics(p)
    assert sample(ms, "envoy_cluster_upstream_rq_total", envoy_cluster_name="backend") == 3
    assert sample(ms, "envoy_cluster_upstream_rq", envoy_response_code="200", envoy_cluster_name="backend") == 3
    assert sample(ms, "envoy_cluster_upstream_rq_xx", envoy_response_code_class="2",
                  envoy_cluster_name="backend") == 3
    assert sample(ms, "envoy_http_downstream_rq_xx", envoy_response_code_class="2",
                  envoy_http_conn_manager_prefix="ingress_http") == 3
    assert sample(ms, "envoy_listener_downstream_cx_total",
                  envoy_listener_address=support.stat_addr("127.0.0.1", port)) == 3
    assert sample(ms, "envoy_listener_worker_downstream_cx_total", envoy_worker_id="0",
                  envoy_listener_address=support.stat_addr("127.0.0.1", port)) == 3
    assert (f'envoy_listener_worker_downstream_cx_total{{envoy_worker_id="0",envoy_listener_address='
            f'"{support.stat_addr("127.0.0.1", port)}"}} 3') in text
    assert sample(ms, "envoy_tcp_downstream_cx_total", envoy_tcp_prefix="tcpin") == 1
    assert sample(ms, "envoy_cluster_upstream_cx_total", envoy_cluster_name="echo") == 1
    assert sample(ms, "envoy_server_live") == 1
    # Tags are listed in Envoy's order (response code before the cluster name).
    assert 'envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="backend"} 3' in text
    # The histogram: Envoy's buckets, cumulative counts, _sum and _count.
    labels = {"envoy_cluster_name": "backend"}
    buckets = {dict(k[1]).get("le"): v for k, v in ms.items()
               if k[0] == "envoy_cluster_upstream_rq_time_bucket" and dict(k[1]).get("envoy_cluster_name") == "backend"}
    assert list(buckets) == DEFAULT_BUCKETS + ["+Inf"], list(buckets)
    assert buckets["50"] == 0 and buckets["1000"] == 3 and buckets["+Inf"] == 3
    counts = [buckets[b] for b in DEFAULT_BUCKETS + ["+Inf"]]
    assert counts == sorted(counts), "cumulative buckets"
    assert sample(ms, "envoy_cluster_upstream_rq_time_count", **labels) == 3
    assert 3 * SLEEP_MS <= sample(ms, "envoy_cluster_upstream_rq_time_sum", **labels) < 3 * (SLEEP_MS + SLACK_MS)
    # TYPE lines: counters, then gauges, then histograms, one per family.
    types = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    kinds = [k for _, k in types]
    assert kinds == sorted(kinds, key=["counter", "gauge", "histogram"].index)
    assert len({n for n, _ in types}) == len(types)
    assert ("envoy_cluster_upstream_rq_time", "histogram") in types
    assert ("envoy_cluster_upstream_rq_total", "counter") in types
    # Untagged stats print empty braces, as Envoy does.
    assert re.search(r"^envoy_server_live\{\} 1$", text, re.M)


def test_custom_tags_replace_the_defaults(proxy, admin_port, sleepy_upstream):
    p, port = http_proxy(proxy, admin_port, sleepy_upstream, stats_config={
        "use_all_default_tags": False,
        "stats_tags": [
            {"tag_name": "my_cluster", "regex": r"^cluster\.((.+?)\.)"},
            {"tag_name": "team", "fixed_value": "blue"},
        ],
    })
    send(port, 2)
    _, ms = metrics(p)
    assert sample(ms, "envoy_cluster_upstream_rq_total", my_cluster="backend", team="blue") == 2
    assert sample(ms, "envoy_http_ingress_http_downstream_rq_total", team="blue") == 2
    assert sample(ms, "envoy_cluster_upstream_rq_200", my_cluster="backend", team="blue") == 2


def test_stats_matcher_inclusion_and_exclusion(proxy, admin_port, sleepy_upstream):
    p, port = http_proxy(proxy, admin_port, sleepy_upstream, stats_config={
        "stats_matcher": {"inclusion_list": {"patterns": [{"prefix": "cluster.backend.upstream_rq"}]}},
    })
    send(port, 2)
    names = [l.split(":")[0] for l in admin_text(p, "/stats").splitlines()]
    assert "cluster.backend.upstream_rq_total" in names
    assert names and all(n.startswith("cluster.backend.upstream_rq") for n in names), names
    p.wait_for_stats({"cluster.backend.upstream_rq_total": 2})

    p2, port2 = http_proxy(proxy, free_port(), sleepy_upstream, stats_config={
        "stats_matcher": {"exclusion_list": {"patterns": [{"suffix": "_ms"}, {"safe_regex": {"regex": "^server\\..*"}}]}},
    })
    send(port2, 1)
    names = [l.split(":")[0] for l in admin_text(p2, "/stats").splitlines()]
    assert "cluster.backend.upstream_rq_total" in names
    assert not [n for n in names if n.endswith("_ms") or n.startswith("server.")]
    _, ms = metrics(p2)
    assert not [k for k in ms if k[0].startswith("envoy_server_")]


def test_histogram_bucket_settings(proxy, admin_port, sleepy_upstream):
    p, port = http_proxy(proxy, admin_port, sleepy_upstream, stats_config={
        "histogram_bucket_settings": [
            {"match": {"prefix": "cluster.backend.upstream_rq_time"}, "buckets": [1000, 10, 64.5]},
        ],
    })
    send(port, 2)
    wait_flushed(p, 2)
    text, ms = metrics(p)
    les = re.findall(r'^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="backend",le="([^"]+)"\} (\d+)$',
                     text, re.M)
    # (1000, not 200: a latency of SLEEP_MS may take up to SLEEP_MS + SLACK_MS.)
    assert [le for le, _ in les] == ["10", "64.5", "1000", "+Inf"]
    assert dict(les)["10"] == "0" and dict(les)["1000"] == "2"
    down = re.findall(r'^envoy_http_downstream_rq_time_bucket\{envoy_http_conn_manager_prefix="ingress_http",le="([^"]+)"\}',
                      text, re.M)
    assert down == DEFAULT_BUCKETS + ["+Inf"]


BAD_STATS_CONFIGS = {
    "unknown_default_tag": {"stats_config": {"stats_tags": [{"tag_name": "no_such_tag"}]}},
    "zero_bucket": {"stats_config": {"histogram_bucket_settings": [{"match": {"prefix": "a"}, "buckets": [0]}]}},
    "repeated_bucket": {"stats_config": {"histogram_bucket_settings": [{"match": {"prefix": "a"}, "buckets": [1, 1]}]}},
    "empty_inclusion_list": {"stats_config": {"stats_matcher": {"inclusion_list": {"patterns": []}}}},
    "flush_interval_too_long": {"stats_flush_interval": "300s"},
    "flush_interval_zero": {"stats_flush_interval": "0s"},
}


@pytest.mark.parametrize("case", sorted(BAD_STATS_CONFIGS))
def test_bad_stats_configs_are_refused(case, tmp_path):
    cfg = support.simple_config(free_port(), free_port(), [socket_address("127.0.0.1", free_port())])
    cfg.update(BAD_STATS_CONFIGS[case])
    path = tmp_path / "bad.yaml"
    path.write_text(to_yaml(cfg))
    result = run_validate(path)
    assert result.returncode != 0, result.stdout[-500:] + result.stderr[-500:]
    if not IS_ENVOY:
        out = (result.stdout + result.stderr).decode()
        field = "stats_flush_interval" if "flush" in case else "stats_config."
        assert field in out, out[-500:]


def statsd_sink(port, **extra):
    cfg = {"@type": "type.googleapis.com/envoy.config.metrics.v3.StatsdSink",
           "address": {"socket_address": {"address": "127.0.0.1", "port_value": port, "protocol": "UDP"}}}
    cfg.update(extra)
    return [{"name": "envoy.stat_sinks.statsd", "typed_config": cfg}]


@pytest.fixture
def statsd_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.1)
    yield s
    s.close()


def receive(sock, seconds):
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            out.append(sock.recv(65536).decode())
        except socket.timeout:
            pass
    return out


def test_statsd_sink_sends_timers_counters_and_gauges(proxy, admin_port, sleepy_upstream, statsd_socket):
    port = free_port()
    cfg = simple_http_config(admin_port, port, sleepy_upstream)
    cfg["stats_flush_interval"] = "0.3s"
    cfg["stats_sinks"] = statsd_sink(statsd_socket.getsockname()[1], prefix="mesh")
    p = proxy(cfg)
    receive(statsd_socket, 0.5)
    send(port, 2)
    got = receive(statsd_socket, 1.5)
    # One metric per datagram, full names, the configured prefix.
    assert all("\n" not in d and d.startswith("mesh.") for d in got)
    timers = [d for d in got if d.startswith("mesh.http.ingress_http.downstream_rq_time:")]
    assert len(timers) == 2 and all(d.endswith("|ms") for d in timers), timers
    assert all(in_sleep_bin(int(d.split(":")[1][:-3])) for d in timers), timers
    # The counter's change since the last flush (a flush may fall between
    # the two requests), then 0 at every later flush.
    totals = [d for d in got if d.startswith("mesh.cluster.backend.upstream_rq_total:")]
    assert totals and all(d.endswith("|c") for d in totals), totals
    deltas = [int(d.split(":")[1][:-2]) for d in totals]
    assert sum(deltas) == 2 and deltas[-1] == 0 and deltas[0] > 0, totals
    assert "mesh.server.live:1|g" in got
    # Gauges go out once used, as Envoy's: with their value, and at 0 once
    # they were set or changed (server.state is LIVE = 0; the connection
    # gauges went up and back down).
    assert "mesh.cluster.backend.membership_total:1|g" in got
    assert "mesh.server.state:0|g" in got
    assert "mesh.http.ingress_http.downstream_cx_active:0|g" in got
    assert "mesh.http.ingress_http.downstream_rq_active:0|g" in got


def test_statsd_sink_refusals(tmp_path):
    cfg = support.simple_config(free_port(), free_port(), [socket_address("127.0.0.1", free_port())])
    cfg["stats_sinks"] = statsd_sink(free_port())
    del cfg["stats_sinks"][0]["typed_config"]["address"]
    cfg["stats_sinks"][0]["typed_config"]["tcp_cluster_name"] = "no_such_cluster"
    path = tmp_path / "statsd.yaml"
    path.write_text(to_yaml(cfg))
    result = run_validate(path)
    assert result.returncode != 0
    if not IS_ENVOY:
        out = (result.stdout + result.stderr).decode()
        assert "stats_sinks[0].typed_config.tcp_cluster_name" in out, out[-500:]
