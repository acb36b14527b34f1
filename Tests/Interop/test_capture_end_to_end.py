"""Transparent capture end to end: the scripts in `iptables/` and Remora
itself (not a stand-in) in a pod network namespace, a peer namespace joined
by a veth (issue 11).

Remora runs inside the pod as uid 1337 with an Istio-shaped bootstrap: a
virtual outbound listener on 15001 and a virtual inbound one on 15006, each
with the `original_dst` listener filter and a tcp_proxy to an
`ORIGINAL_DST` cluster (the inbound one connecting from 127.0.0.6, as
Istio's InboundPassthroughCluster does). An unmodified app's connections
both ways go through Remora; while Remora is down, captured connections are
refused (fail closed) and work again once it is back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import support
from test_iptables import PEER4, POD4, Netns, _skip_reason

pytestmark = pytest.mark.remora_only(reason="runs the remora binary inside the pod namespace as uid 1337")

ADMIN_PORT = 15000


def bootstrap() -> dict:
    def passthrough(name: str, **extra) -> dict:
        c = {"name": name, "type": "ORIGINAL_DST", "lb_policy": "CLUSTER_PROVIDED", "connect_timeout": "1s"}
        c.update(extra)
        return c

    def capture(name: str, port: int, cluster: str) -> dict:
        return {
            "name": name,
            "address": {"socket_address": {"address": "0.0.0.0", "port_value": port}},
            "use_original_dst": True,
            "listener_filters": [{"name": "envoy.filters.listener.original_dst", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"}}],
            "filter_chains": [{"filters": [support.tcp_proxy_filter(cluster, name)]}],
        }

    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ADMIN_PORT}}},
        "static_resources": {
            "listeners": [capture("virtualOutbound", 15001, "PassthroughCluster"),
                          capture("virtualInbound", 15006, "InboundPassthroughCluster")],
            "clusters": [passthrough("PassthroughCluster"),
                         passthrough("InboundPassthroughCluster", upstream_bind_config={
                             "source_address": {"address": "127.0.0.6", "port_value": 0}})],
        },
    }


class RemoraInPod:
    """Remora running in `ns` as uid/gid 1337 (the uid the capture rules
    exclude), from a config file that uid can read."""

    def __init__(self, ns: Netns):
        self.ns = ns
        self.dir = Path(tempfile.mkdtemp(prefix="rmi-cap-"))
        os.chmod(self.dir, 0o755)
        self.config = self.dir / "sidecar.yaml"
        self.config.write_text(support.to_yaml(bootstrap()))
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


@pytest.fixture
def pod(tmp_path):
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
        ns, peer = Netns("pod", {}), None
        made.append(ns)
        peer = Netns("peer", {})
        made.append(peer)
        ns.sh(f"ip link add v-pod type veth peer name v-peer netns {peer.name}")
        ns.sh(f"ip addr add {POD4}/24 dev v-pod && ip link set v-pod up")
        peer.sh(f"ip addr add {PEER4}/24 dev v-peer && ip link set v-peer up")
        peer.start("serve", "peer", f"{PEER4}:80", log=tmp_path / "peer.log")
        ns.start("serve", "app", "0.0.0.0:8080", log=tmp_path / "app.log")
        remora = RemoraInPod(ns)
        remora.start()
        ns.apply()
        yield ns, peer, remora
    finally:
        if remora:
            remora.close()
        for n in made:
            n.close()


def test_app_traffic_both_ways_goes_through_remora(pod):
    ns, peer, remora = pod
    # Outbound: the app's connection to the peer lands on 15001; Remora
    # recovers the destination and connects to it as uid 1337 (not captured
    # again), so the peer sees the pod's address.
    assert ns.connect(PEER4, 80) == f"peer saw {POD4} got hi"
    # Inbound: the peer's connection to the app lands on 15006; Remora
    # connects to the app from 127.0.0.6.
    assert peer.connect(POD4, 8080) == "app saw 127.0.0.6 got hi"
    stats = remora.stats()
    assert stats.get("tcp.virtualOutbound.downstream_cx_total") == 1, stats
    assert stats.get("tcp.virtualInbound.downstream_cx_total") == 1, stats
    assert stats.get("cluster.PassthroughCluster.upstream_cx_total") == 1, stats
    assert stats.get("cluster.InboundPassthroughCluster.upstream_cx_total") == 1, stats
    # Loopback traffic of the app is not captured.
    assert ns.connect("127.0.0.1", 8080) == "app saw 127.0.0.1 got hi"
    assert remora.stats().get("tcp.virtualInbound.downstream_cx_total") == 1


def test_capture_fails_closed_while_remora_is_down(pod):
    ns, peer, remora = pod
    remora.stop()
    out = ns.run([sys_executable(), str(Path(__file__).resolve().parent / "capture_peers.py"),
                  "connect", PEER4, "80", "hi"])
    assert out.returncode != 0, f"captured traffic bypassed a stopped proxy: {out.stdout}"
    remora.start()
    assert ns.connect(PEER4, 80) == f"peer saw {POD4} got hi"


def sys_executable() -> str:
    import sys
    return sys.executable
