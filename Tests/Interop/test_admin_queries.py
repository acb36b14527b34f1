"""Admin query parameters and methods as Envoy 1.40 answers them (issue 12):
/config_dump?mask= (with and without resource=), /stats?type=,
?invert_filter, ?histogram_buckets=cumulative|disjoint|detailed (text and
JSON), /runtime_modify, and which methods each path takes. Every test also
runs against Envoy (PROXY_KIND=envoy)."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import quote

import pytest

import http_support as H
from http_support import HttpClient
from support import free_port

ADMIN = "type.googleapis.com/envoy.admin.v3."
BOUNDS = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000", "60000",
          "300000", "600000", "1.8e+06", "3.6e+06"]


@pytest.fixture
def admin_proxy(proxy, http_upstreams, admin_port):
    """One HTTP listener to one cluster, stats flushed every second, and two
    requests through it (so `downstream_rq_time` has two samples once flushed)."""
    up = http_upstreams()
    port = free_port()
    cfg = H.simple_http_config(admin_port, port, up)
    cfg["stats_flush_interval"] = "1s"
    p = proxy(cfg)
    for _ in range(2):
        with HttpClient(port) as c:
            assert c.request("GET", "/").status == 200
    return p, port


def dump(p, query: str) -> list[dict]:
    status, body = p.admin("GET", "/config_dump?" + query)
    assert status == 200, body
    return json.loads(body).get("configs", [])


def wait_flushed(p, name: str, count: int, timeout: float = 5.0) -> None:
    """Waits until histogram `name` shows `count` samples in the JSON buckets."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = p.admin("GET", "/stats?format=json&histogram_buckets=cumulative&filter=" + quote("^" + name + "$"))
        assert status == 200
        hists = [s["histograms"] for s in json.loads(body)["stats"] if "histograms" in s]
        if hists and hists[0] and hists[0][0]["buckets"][-1]["cumulative"] == count:
            return
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


# -- /config_dump?mask= ----------------------------------------------------------

def test_config_dump_mask_keeps_the_configs_it_applies_to(admin_proxy):
    p, _ = admin_proxy
    configs = dump(p, "mask=bootstrap.node.id,bootstrap.admin.address.socket_address.port_value")
    assert configs == [{"@type": ADMIN + "BootstrapConfigDump",
                        "bootstrap": {"node": {}, "admin": {"address": {"socket_address": {"port_value": p.admin_port}}}}}]

    configs = dump(p, "mask=static_clusters")
    assert [c["@type"] for c in configs] == [ADMIN + "ClustersConfigDump"]
    assert list(configs[0]) == ["@type", "static_clusters"]
    assert [c["cluster"]["name"] for c in configs[0]["static_clusters"]] == ["backend"]

    configs = dump(p, "mask=last_updated")
    assert [sorted(c) for c in configs] == [["@type", "last_updated"]]
    assert configs[0]["@type"] == ADMIN + "BootstrapConfigDump"

    # The name filter empties the listeners; their dump stays, with nothing in it.
    assert dump(p, "mask=static_listeners&name_regex=nomatch") == [{"@type": ADMIN + "ListenersConfigDump"}]


@pytest.mark.parametrize("mask", ["static_clusters.cluster", "nonexistent", "bootstrap.admin,static_listeners"])
def test_config_dump_mask_that_fits_no_config_is_400(admin_proxy, mask):
    p, _ = admin_proxy
    status, body = p.admin("GET", "/config_dump?mask=" + mask)
    assert (status, body.decode()) == (400, f"FieldMask {mask} could not be successfully applied to any configs.")


def test_config_dump_resource_with_mask(admin_proxy):
    p, port = admin_proxy
    assert dump(p, "resource=static_clusters&mask=cluster.name") == [
        {"@type": ADMIN + "ClustersConfigDump.StaticCluster",
         "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "backend"}}]
    configs = dump(p, "resource=static_listeners&mask=listener.address.socket_address.port_value,last_updated")
    assert len(configs) == 1 and sorted(configs[0]) == ["@type", "last_updated", "listener"]
    assert configs[0]["listener"] == {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
                                      "address": {"socket_address": {"port_value": port}}}
    assert dump(p, "resource=static_clusters&mask=last_updated")[0].keys() == {"@type", "last_updated"}

    for mask in ("cluster", "cluster.nonexistent", "nonexistent,cluster.name"):
        status, body = p.admin("GET", "/config_dump?resource=static_clusters&mask=" + mask)
        text = body.decode()
        assert status == 400 and text.startswith("FieldMask ") and text.endswith(" could not be successfully used."), text
        for path in mask.split(","):
            assert f'paths: "{path}"' in text

    # A resource with no elements dumps as an empty object, masked or not.
    for query in ("resource=dynamic_listeners", "resource=dynamic_listeners&mask=name",
                  "resource=static_clusters&name_regex=nomatch"):
        assert p.admin("GET", "/config_dump?" + query) == (200, b"{}\n")


# -- /stats?type=, invert_filter ------------------------------------------------------

def stat_names(body: bytes) -> set[str]:
    return {line.partition(":")[0] for line in body.decode().splitlines() if line and not line.startswith(" ")}


def test_stats_type_selects_kinds(admin_proxy):
    p, _ = admin_proxy
    every = stat_names(p.admin("GET", "/stats")[1])
    kinds = {t: stat_names(p.admin("GET", "/stats?type=" + t)[1]) for t in ("Counters", "Gauges", "Histograms")}
    assert kinds["Counters"] | kinds["Gauges"] | kinds["Histograms"] == every
    assert not kinds["Counters"] & kinds["Gauges"] and not kinds["Counters"] & kinds["Histograms"]
    assert "http.ingress_http.downstream_rq_total" in kinds["Counters"]
    assert "http.ingress_http.downstream_rq_active" in kinds["Gauges"]
    assert "http.ingress_http.downstream_rq_time" in kinds["Histograms"]
    assert stat_names(p.admin("GET", "/stats?type=All")[1]) == every
    assert p.admin("GET", "/stats?type=TextReadouts&filter=ingress_http") == (200, b"")
    status, body = p.admin("GET", "/stats?format=json&type=Gauges&filter=ingress_http")
    assert status == 200
    names = [s["name"] for s in json.loads(body)["stats"]]
    assert "http.ingress_http.downstream_rq_active" in names and "http.ingress_http.downstream_rq_total" not in names
    assert p.admin("GET", "/stats?type=bogus") == (400, b"invalid &type= param")
    assert p.admin("GET", "/stats?type=counters")[0] == 400

    inverted = stat_names(p.admin("GET", "/stats?invert_filter&filter=" + quote(r"^http\."))[1])
    assert inverted == {n for n in every if not n.startswith("http.")}


# -- /stats?histogram_buckets= --------------------------------------------------------

def test_stats_histogram_buckets_text(admin_proxy):
    p, _ = admin_proxy
    name = "http.ingress_http.downstream_rq_time"
    wait_flushed(p, name, 2)
    query = "&filter=" + quote("^" + name + "$")

    def line(mode: str) -> str:
        status, body = p.admin("GET", "/stats?histogram_buckets=" + mode + query)
        assert status == 200
        return body.decode()

    text = line("cumulative")
    assert text.startswith(name + ": ") and text.endswith("\n")
    buckets = re.findall(r"B([^(]+)\((\d+),(\d+)\)", text)
    assert [b[0] for b in buckets] == BOUNDS
    counts = [int(b[2]) for b in buckets]
    assert counts == sorted(counts) and counts[-1] == 2

    disjoint = re.findall(r"B([^(]+)\((\d+),(\d+)\)", line("disjoint"))
    assert [b[0] for b in disjoint] == BOUNDS
    assert sum(int(b[2]) for b in disjoint) == 2

    detailed = line("detailed")
    m = re.fullmatch(re.escape(name) + r":\n  totals=(.*)\n  intervals=(.*)\n  summary=(P0\(.*)\n", detailed)
    assert m, detailed
    totals = re.findall(r"([\d.e+]+),([\d.e+]+):(\d+)", m.group(1))
    assert sum(int(t[2]) for t in totals) == 2
    assert m.group(3) == line("summary").partition(": ")[2].rstrip("\n")

    status, body = p.admin("GET", "/stats?histogram_buckets=bogus")
    assert (status, body) == (400, b"usage: /stats?histogram_buckets=(cumulative|disjoint|detailed|summary|prometheusnative)\n")


def test_stats_histogram_buckets_json(admin_proxy):
    p, _ = admin_proxy
    name = "http.ingress_http.downstream_rq_time"
    wait_flushed(p, name, 2)
    query = "&format=json&filter=" + quote("^" + name + "$")

    status, body = p.admin("GET", "/stats?histogram_buckets=cumulative" + query)
    assert status == 200
    # Envoy's JSON numbers: the shortest form (3e+05, but 1800000).
    assert b'"upper_bound":3e+05' in body and b'"upper_bound":1800000' in body
    [hist] = [s["histograms"] for s in json.loads(body)["stats"] if "histograms" in s]
    assert [h["name"] for h in hist] == [name]
    assert [b["upper_bound"] for b in hist[0]["buckets"]] == [float(b) for b in BOUNDS]
    assert list(hist[0]["buckets"][0]) == ["upper_bound", "interval", "cumulative"]
    assert hist[0]["buckets"][-1]["cumulative"] == 2

    status, body = p.admin("GET", "/stats?histogram_buckets=disjoint" + query)
    [hist] = [s["histograms"] for s in json.loads(body)["stats"] if "histograms" in s]
    assert sum(b["cumulative"] for b in hist[0]["buckets"]) == 2

    status, body = p.admin("GET", "/stats?histogram_buckets=detailed" + query)
    assert status == 200
    [hist] = [s["histograms"] for s in json.loads(body)["stats"] if "histograms" in s]
    assert hist["supported_percentiles"] == [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]
    [detail] = hist["details"]
    assert list(detail) == ["name", "totals", "intervals", "percentiles"]
    assert detail["name"] == name
    assert sum(t["count"] for t in detail["totals"]) == 2
    assert all(list(t) == ["lower_bound", "width", "count"] for t in detail["totals"])
    assert len(detail["percentiles"]) == 10 and list(detail["percentiles"][0]) == ["cumulative", "interval"]


# -- /runtime_modify, methods ------------------------------------------------------------

def test_runtime_modify_without_an_admin_layer(admin_proxy):
    p, _ = admin_proxy
    assert p.admin("GET", "/runtime_modify?a=b") == (405, b"Method GET not allowed, POST required.")
    status, body = p.admin("POST", "/runtime_modify")
    assert status == 400 and body.decode() == (
        "usage: /runtime_modify?key1=value1&key2=value2&keyN=valueN\n"
        "       or send the parameters as form values\n"
        "use an empty value to remove a previously added override")
    assert p.admin("POST", "/runtime_modify?a=b&x.y=1") == (503, b"No admin layer specified")
    status, body = p.admin("GET", "/runtime")
    assert status == 200 and json.loads(body) == {"entries": {}, "layers": []}
    p.wait_for_stats({"runtime.load_success": 2, "runtime.num_layers": 0, "runtime.num_keys": 0})


def test_layered_runtime_and_runtime_modify(proxy, http_upstreams, admin_port):
    """`layered_runtime` (an Istio bootstrap's: a static layer, then an
    admin layer): /runtime lists the layers and every key with its value
    per layer; /runtime_modify writes the admin layer, an empty value
    removes the override; disk layers are refused (Remora)."""
    up = http_upstreams()
    cfg = H.simple_http_config(admin_port, free_port(), up)
    cfg["layered_runtime"] = {"layers": [
        {"name": "global config", "static_layer": {
            "overload.global_downstream_max_connections": "2147483647", "num": 100, "flag": True, "frac": 0.5,
            "nested": {"a": {"b": "x"}}}},
        {"name": "admin", "admin_layer": {}}]}
    p = proxy(cfg)

    def runtime() -> dict:
        status, body = p.admin("GET", "/runtime")
        assert status == 200
        return json.loads(body)

    first = runtime()
    # runtime.* as Envoy's loader counts: two loads at start-up, one per /runtime_modify.
    p.wait_for_stats({"runtime.load_success": 2, "runtime.num_layers": 2, "runtime.num_keys": 5,
                      "runtime.admin_overrides_active": 0, "runtime.load_error": 0})
    assert first["layers"] == ["global config", "admin"]
    assert first["entries"] == {
        "overload.global_downstream_max_connections": {"final_value": "2147483647", "layer_values": ["2147483647", ""]},
        "num": {"final_value": "100", "layer_values": ["100", ""]},
        "flag": {"final_value": "true", "layer_values": ["true", ""]},
        "frac": {"final_value": "0.5", "layer_values": ["0.5", ""]},
        "nested.a.b": {"final_value": "x", "layer_values": ["x", ""]},
    }
    assert p.admin("POST", "/runtime_modify?num=7&newkey=hello") == (200, b"OK\n")
    entries = runtime()["entries"]
    assert entries["num"] == {"final_value": "7", "layer_values": ["100", "7"]}
    assert entries["newkey"] == {"final_value": "hello", "layer_values": ["", "hello"]}
    p.wait_for_stats({"runtime.load_success": 3, "runtime.num_keys": 6, "runtime.admin_overrides_active": 1})
    assert p.admin("POST", "/runtime_modify?newkey=&num=") == (200, b"OK\n")
    p.wait_for_stats({"runtime.load_success": 4, "runtime.num_keys": 5, "runtime.admin_overrides_active": 0})
    entries = runtime()["entries"]
    assert "newkey" not in entries and entries["num"]["final_value"] == "100"


def test_methods_as_envoy(admin_proxy):
    p, _ = admin_proxy
    # Paths that change nothing take any method; HEAD gets no body.
    for method in ("POST", "PUT", "DELETE"):
        assert p.admin(method, "/ready") == (200, b"LIVE\n")
        status, body = p.admin(method, "/stats?filter=" + quote("^server.live$"))
        assert (status, body) == (200, b"server.live: 1\n")
    assert p.admin("HEAD", "/ready") == (200, b"")
    # Paths that change state take POST only.
    for method in ("GET", "PUT", "DELETE", "HEAD"):
        for path in ("/healthcheck/fail", "/reset_counters", "/runtime_modify?a=b", "/logging?level=info"):
            status, body = p.admin(method, path)
            assert status == 405, (method, path)
            if method != "HEAD":
                assert body == f"Method {method} not allowed, POST required.".encode()
    assert p.admin("GET", "/ready") == (200, b"LIVE\n")
