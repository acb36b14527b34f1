"""Transparent capture end to end: the scripts in `iptables/` and Remora
itself (not a stand-in) in a pod network namespace, a peer namespace joined
by a veth (issue 11).

Remora runs inside the pod as uid 1337 with the repository's Istio-shaped
example bootstrap, examples/istio-sidecar.yaml, unchanged (for dual stack,
with the two additions Istio makes: `[::]` additional addresses and `::6`
as the inbound passthrough's IPv6 source): a virtual outbound listener on
15001 handing port 80 to an HTTP listener and passing everything else
through, a virtual inbound one on 15006 connecting to the app from
127.0.0.6, readiness on 15021 and Prometheus on 15090. An unmodified app's
connections both ways go through Remora; while Remora is down, captured
connections are refused (fail closed) and work again once it is back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

import support
from test_iptables import PEER4, PEER6, POD4, POD6, Netns, _skip_reason, ipv6_nat_works

pytestmark = pytest.mark.remora_only(reason="runs the remora binary inside the pod namespace as uid 1337")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "istio-sidecar.yaml"
ADMIN_PORT = 15000
PEERS = Path(__file__).resolve().parent / "capture_peers.py"


def bootstrap(dual_stack: bool, registry_only: bool = False) -> dict:
    """The example bootstrap; for dual stack with Istio's additions; for
    `outboundTrafficPolicy: REGISTRY_ONLY` as Istio writes it."""
    config = yaml.safe_load(EXAMPLE.read_text())
    if registry_only:
        make_registry_only(config)
    if dual_stack:
        for listener in config["static_resources"]["listeners"]:
            address = listener["address"]["socket_address"]
            if address["address"] == "0.0.0.0":
                listener["additional_addresses"] = [
                    {"address": {"socket_address": {"address": "::", "port_value": address["port_value"]}}}]
        for cluster in config["static_resources"]["clusters"]:
            if cluster["name"] == "InboundPassthroughCluster":
                cluster["upstream_bind_config"]["extra_source_addresses"] = [
                    {"address": {"address": "::6", "port_value": 0}}]
    return config


def make_registry_only(config: dict) -> None:
    """REGISTRY_ONLY as Istio expresses it: the outbound catch-all TCP chain
    goes to BlackHoleCluster, the HTTP catch-all virtual host is `block_all`
    (502), and only services in the registry have listeners: here the
    peer's port 9000, as a `bind_to_port: false` listener of its address
    with a cluster of its own."""
    resources = config["static_resources"]
    listeners = {lst["name"]: lst for lst in resources["listeners"]}
    for chain in listeners["virtualOutbound"]["filter_chains"]:
        if chain["name"] == "virtualOutbound-catchall-tcp":
            chain["filters"][0]["typed_config"].update(stat_prefix="BlackHoleCluster", cluster="BlackHoleCluster")
    hcm = listeners["0.0.0.0_80"]["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"] = [{"name": "block_all", "domains": ["*"], "routes": [
        {"name": "block_all", "match": {"prefix": "/"}, "direct_response": {"status": 502}}]}]
    service = "outbound|9000||peer.default.svc.cluster.local"
    resources["listeners"].append({
        "name": f"{PEER4}_9000", "bind_to_port": False, "traffic_direction": "OUTBOUND",
        "address": {"socket_address": {"address": PEER4, "port_value": 9000}},
        "filter_chains": [{"filters": [support.tcp_proxy_filter(service, service)]}]})
    resources["clusters"].append({
        "name": service, "type": "STATIC", "connect_timeout": "1s", "load_assignment": {
            "cluster_name": service, "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                "socket_address": {"address": PEER4, "port_value": 9000}}}}]}]}})


class RemoraInPod:
    """Remora running in `ns` as uid/gid 1337 (the uid the capture rules
    exclude), from a config file that uid can read."""

    def __init__(self, ns: Netns, dual_stack: bool, registry_only: bool):
        self.ns = ns
        self.dir = Path(tempfile.mkdtemp(prefix="rmi-cap-"))
        os.chmod(self.dir, 0o755)
        self.config = self.dir / "sidecar.json"
        self.config.write_text(json.dumps(bootstrap(dual_stack, registry_only)))
        os.chmod(self.config, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | stat.S_IWUSR)
        self.log = self.dir / "remora.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns.name, "setpriv", "--reuid", "1337", "--regid", "1337", "--clear-groups",
             support.PROXY_BIN, "-c", str(self.config), "--concurrency", "1", "--drain-time-s", "0"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while self.admin("/ready") != "LIVE":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"remora did not become ready:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def admin(self, path: str) -> str:
        r = self.ns.run(["curl", "-s", "--max-time", "2", f"http://127.0.0.1:{ADMIN_PORT}{path}"])
        return r.stdout.strip() if r.returncode == 0 else ""

    def stats(self) -> dict[str, int]:
        data = json.loads(self.admin("/stats?format=json") or "{}")
        return {s["name"]: s.get("value", 0) for s in data.get("stats", []) if "name" in s}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def expect_stats(remora: RemoraInPod, expected: dict[str, int]) -> None:
    """Each named stat has its value (a stat not listed counts as 0)."""
    stats = remora.stats()
    assert {name: stats.get(name, 0) for name in expected} == expected, stats


def curl(ns: Netns, url: str) -> tuple[int, str]:
    """GET `url` from inside `ns`: (status, body)."""
    r = ns.run(["curl", "-s", "-g", "--max-time", "5", "-w", "\n%{http_code}", url])
    body, _, status = r.stdout.rpartition("\n")
    return int(status or 0), body.strip()


def make_pod(tmp_path: Path, dual_stack: bool = False, registry_only: bool = False):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if shutil.which("setpriv") is None or shutil.which("curl") is None:
        pytest.skip("needs setpriv (util-linux) and curl")
    if not os.access(support.PROXY_BIN, os.X_OK):
        pytest.skip(f"no remora binary at {support.PROXY_BIN}")
    made: list[Netns] = []
    remora = None
    try:
        ns = Netns("pod", {})
        made.append(ns)
        if dual_stack and not ipv6_nat_works(ns):
            pytest.skip("ip6tables nat or IPv6 unavailable in a namespace here")
        peer = Netns("peer", {})
        made.append(peer)
        ns.sh(f"ip link add v-pod type veth peer name v-peer netns {peer.name}")
        ns.sh(f"ip addr add {POD4}/24 dev v-pod && ip link set v-pod up")
        peer.sh(f"ip addr add {PEER4}/24 dev v-peer && ip link set v-peer up")
        peer_addrs, app_addrs = [f"{PEER4}:80", f"{PEER4}:9000", f"{PEER4}:9001"], ["0.0.0.0:8080"]
        if dual_stack:
            ns.sh(f"ip -6 addr add {POD6}/64 dev v-pod nodad")
            peer.sh(f"ip -6 addr add {PEER6}/64 dev v-peer nodad")
            peer_addrs += [f"[{PEER6}]:80", f"[{PEER6}]:9000"]
            app_addrs += ["[::]:8080"]
        peer.start("serve", "peer", *peer_addrs, log=tmp_path / "peer.log")
        ns.start("serve", "app", *app_addrs, log=tmp_path / "app.log")
        remora = RemoraInPod(ns, dual_stack, registry_only)
        remora.start()
        ns.apply(dual_stack=dual_stack)
        yield ns, peer, remora
    finally:
        if remora:
            remora.close()
        for n in made:
            n.close()


@pytest.fixture
def pod(tmp_path):
    yield from make_pod(tmp_path, dual_stack=False)


@pytest.fixture
def pod6(tmp_path):
    yield from make_pod(tmp_path, dual_stack=True)


@pytest.fixture
def registry_only_pod(tmp_path):
    yield from make_pod(tmp_path, registry_only=True)


def test_example_bootstrap_validates():
    r = subprocess.run([support.PROXY_BIN, "--mode", "validate", "-c", str(EXAMPLE)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_app_tcp_traffic_both_ways_goes_through_remora(pod):
    ns, peer, remora = pod
    # Outbound: the app's connection to the peer lands on 15001; Remora
    # recovers the destination and connects to it as uid 1337 (not captured
    # again), so the peer sees the pod's address.
    assert ns.connect(PEER4, 9000) == f"peer saw {POD4} got hi"
    # Inbound: the peer's connection to the app lands on 15006; Remora
    # connects to the app from 127.0.0.6.
    assert peer.connect(POD4, 8080) == "app saw 127.0.0.6 got hi"
    expect_stats(remora, {
        "tcp.PassthroughCluster.downstream_cx_total": 1,
        "tcp.InboundPassthroughCluster.downstream_cx_total": 1,
        "cluster.PassthroughCluster.upstream_cx_total": 1,
        "cluster.InboundPassthroughCluster.upstream_cx_total": 1,
    })
    # Loopback traffic of the app is not captured.
    assert ns.connect("127.0.0.1", 8080) == "app saw 127.0.0.1 got hi"
    assert remora.stats().get("tcp.InboundPassthroughCluster.downstream_cx_total") == 1


def test_app_http_traffic_both_ways_goes_through_remora(pod):
    ns, peer, remora = pod
    # Outbound HTTP to port 80: virtualOutbound hands the connection to the
    # HTTP listener for 0.0.0.0:80, whose route passes it through to the
    # original destination.
    assert curl(ns, f"http://{PEER4}/out?x=1") == (200, f"peer saw {POD4} got GET /out?x=1 host={PEER4}")
    assert curl(ns, f"http://{PEER4}/again") == (200, f"peer saw {POD4} got GET /again host={PEER4}")
    # Inbound HTTP is sniffed (http_inspector) and goes through the inbound
    # HTTP connection manager to the app, from 127.0.0.6.
    assert curl(peer, f"http://{POD4}:8080/in") == (200, f"app saw 127.0.0.6 got GET /in host={POD4}:8080")
    expect_stats(remora, {
        "http.outbound_0.0.0.0_80.downstream_rq_2xx": 2,
        "listener.0.0.0.0_80.downstream_cx_total": 2,
        "cluster.PassthroughCluster.upstream_rq_total": 2,
        "tcp.PassthroughCluster.downstream_cx_total": 0,
        "http.inbound_0.0.0.0_15006.downstream_rq_2xx": 1,
        "http_inspector.http11_found": 1,
        "cluster.InboundPassthroughCluster.upstream_rq_total": 1,
        "tcp.InboundPassthroughCluster.downstream_cx_total": 0,
    })


def test_readiness_and_prometheus_ports_are_served_and_not_captured(pod):
    ns, peer, remora = pod
    assert curl(peer, f"http://{POD4}:15021/healthz/ready") == (200, "LIVE")
    status, body = curl(peer, f"http://{POD4}:15090/stats/prometheus")
    assert status == 200 and "envoy_server_live" in body, body[:500]
    # Excluded from inbound capture (-d 15090,15021,15020): nothing went
    # through virtualInbound.
    expect_stats(remora, {
        "http.agent.downstream_rq_2xx": 1,
        "http.stats.downstream_rq_2xx": 1,
        "listener.0.0.0.0_15006.downstream_cx_total": 0,
    })


def test_dual_stack_ipv6_traffic_both_ways_goes_through_remora(pod6):
    ns, peer, remora = pod6
    assert ns.connect(PEER6, 9000) == f"peer saw {POD6} got hi"
    assert peer.connect(POD6, 8080) == "app saw ::6 got hi"
    assert curl(ns, f"http://[{PEER6}]/six") == (200, f"peer saw {POD6} got GET /six host=[{PEER6}]")
    # IPv4 still works beside it.
    assert ns.connect(PEER4, 9000) == f"peer saw {POD4} got hi"
    assert peer.connect(POD4, 8080) == "app saw 127.0.0.6 got hi"
    expect_stats(remora, {
        "tcp.PassthroughCluster.downstream_cx_total": 2,
        "tcp.InboundPassthroughCluster.downstream_cx_total": 2,
        "http.outbound_0.0.0.0_80.downstream_rq_2xx": 1,
    })


def test_registry_only_passes_registered_services_and_blackholes_the_rest(registry_only_pod):
    ns, peer, remora = registry_only_pod
    # The registered service works.
    assert ns.connect(PEER4, 9000) == f"peer saw {POD4} got hi"
    # Anything else is dropped: TCP closed without a byte, HTTP 502.
    out = ns.run([sys.executable, str(PEERS), "connect", PEER4, "9001", "hi"])
    assert out.stdout.strip() == "", out.stdout
    assert curl(ns, f"http://{PEER4}/")[0] == 502
    expect_stats(remora, {
        "cluster.outbound|9000||peer.default.svc.cluster.local.upstream_cx_total": 1,
        "tcp.BlackHoleCluster.downstream_cx_total": 1,
        "cluster.BlackHoleCluster.upstream_cx_none_healthy": 1,
        "cluster.PassthroughCluster.upstream_cx_total": 0,
        "http.outbound_0.0.0.0_80.downstream_rq_5xx": 1,
    })


def test_capture_fails_closed_while_remora_is_down(pod):
    ns, peer, remora = pod
    remora.stop()
    for argv in ([sys.executable, str(PEERS), "connect", PEER4, "9000", "hi"],
                 ["curl", "-s", "--max-time", "3", f"http://{PEER4}/"]):
        out = ns.run(argv)
        assert out.returncode != 0, f"captured traffic bypassed a stopped proxy: {out.stdout}"
    out = peer.run([sys.executable, str(PEERS), "connect", POD4, "8080", "hi"])
    assert out.returncode != 0, f"inbound traffic bypassed a stopped proxy: {out.stdout}"
    remora.start()
    assert ns.connect(PEER4, 9000) == f"peer saw {POD4} got hi"
    assert curl(ns, f"http://{PEER4}/back")[0] == 200
