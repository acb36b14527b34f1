#!/usr/bin/env python3
"""Side-by-side dynamic-configuration benchmark: Remora vs Envoy (issue 10).

Both proxies take the same mesh-sized config from the same source: by
default the project's test control plane (Tests/Interop/xds_control_plane.py,
grpcio + xds-protos, run in this process) over ADS, state of the world
(`--xds sotw`) or Delta (`--xds delta`); or `path_config_source` files
(`--xds file`: LDS, RDS, CDS and one EDS file per cluster, as Envoy's file
EDS needs, replaced by a rename). 1,000 EDS clusters with 10 endpoints each,
one RouteConfiguration of 1,000 routes shared by 100 HTTP listeners (RDS).
Cluster ``c0`` takes its endpoints from one of two EDS resources (``c0``,
``c0-alt``), each on one half of 10 nginx ports (nginx adds ``x-port``);
route ``/live`` on every listener goes to ``c0`` and adds ``x-push: <version>``.

Per round and proxy (order alternating; the proxy alone on CPU 1, nginx,
wrk, the control plane and this script on CPU 0):

  boot       time and proxy CPU from spawn to /ready 200 and /live served
  hold       VmRSS once the config is in and the proxy idle
  full push  proxy CPU to apply a push where every cluster, every endpoint
             set and the route table change (CDS, then EDS, then RDS; until
             /live serves the new version, the CDS update is counted and,
             over ADS, all three are ACKed; plus 1 s)
  to serve   time from sending a push (or renaming the file) until a
             keep-alive client on /live sees it, median of 10 each: a route
             change (new ``x-push``), a cluster change (``c0`` moved to the
             other EDS resource: it warms again) and an endpoint change
             (``c0``'s hosts move to the other half of the ports)
  push cost  over ADS, proxy CPU per route push (the whole 1,000-route
             table changes), mean of 20 pushes each waited for until ACKed
  churn      wrk (-c 16) on /live while 100 pushes go in, 0.1 s apart,
             cycling route / cluster / endpoint changes as above; failed
             requests = non-2xx + socket errors

Over ADS a state-of-the-world RDS/EDS push carries only the changed
resources (the protocol allows it; LDS and CDS carry all).

    /work/main/.venv/bin/python Benchmarks/xds_bench.py --rounds 3          # ADS, state of the world
    .../python Benchmarks/xds_bench.py --rounds 3 --xds delta
    python3 Benchmarks/xds_bench.py --rounds 3 --xds file                  # no grpcio needed
    .../python Benchmarks/xds_bench.py --rounds 1 --clusters 100 --routes 100 --listeners 10   # quick check

Needs nginx (Debian nginx-light) and wrk (``scripts/setup.sh --with-bench``);
over ADS, grpcio and xds-protos (Tests/Interop/requirements.txt).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "Tests" / "Interop"))  # xds_control_plane (needs grpcio, xds-protos)
sys.dont_write_bytecode = True

from tcp_proxy_bench import (  # noqa: E402
    BenchError,
    Children,
    add_binary_args,
    add_pinning_args,
    admin_get,
    check_pinning_args,
    free_port,
    log_tail,
    pin_self,
    pinning_text,
    proc_cpu_seconds,
    proc_mem_kib,
    proxy_argv,
    wait_ready,
)

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
TYPES = {
    "lds": "type.googleapis.com/envoy.config.listener.v3.Listener",
    "rds": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "cds": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "eds": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
}
NGINX_PORTS = 10
ROUTES_PER_VHOST = 50
C0_SERVICES = ("c0", "c0-alt")

NGINX = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx.error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
{listens}
    location / {{ add_header x-port $server_port always; return 200 "live"; }}
  }}
}}
"""


class Mesh:
    """The generated config and how it reaches the proxy: files
    (`--xds file`) or the test control plane over ADS (`sotw`, `delta`).
    `push_*` publish new versions."""

    def __init__(self, d: Path, args, nginx_ports: list[int]) -> None:
        self.d = d
        self.args = args
        self.mode = args.xds
        self.nginx_ports = nginx_ports
        # Distinct: free_port() can hand out a port twice (each probe socket
        # is closed before the next), and two listeners on one address are
        # NACKed (seen once in 100 listeners).
        self.listen_ports: list[int] = []
        while len(self.listen_ports) < args.listeners:
            port = free_port()
            if port not in self.listen_ports:
                self.listen_ports.append(port)
        self.version = 0
        self.route_version = "v0"
        self.all_timeout_ms = 1000
        self.endpoint_base = 20000
        # Cluster c0 takes its endpoints from one of two EDS resources; each
        # holds one half of the nginx ports. An endpoint push moves the active
        # one to the other half; a cluster push points c0 at the other
        # resource (a cluster that warms again), holding the other half.
        self.c0_service = C0_SERVICES[0]
        self.c0_half = {C0_SERVICES[0]: 0, C0_SERVICES[1]: 1}
        self.cp = None
        self.parsed: dict = {}  # (type URL, name) -> (resource dict, message): only changed ones are parsed again
        if self.mode != "file":
            from xds_control_plane import ControlPlane
            self.cp = ControlPlane().start()

    def close(self) -> None:
        if self.cp is not None:
            self.cp.stop()

    def source(self, kind: str) -> dict:
        if self.cp is not None:
            return {"ads": {}, "resource_api_version": "V3"}
        return {"path_config_source": {"path": str(self.d / f"{kind}.json")}, "resource_api_version": "V3"}

    def bootstrap(self, admin: int) -> dict:
        config = {
            "node": {"id": "bench-node", "cluster": "bench"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
            "dynamic_resources": {"lds_config": self.source("lds"), "cds_config": self.source("cds")},
        }
        if self.cp is not None:
            config["dynamic_resources"]["ads_config"] = {
                "api_type": "DELTA_GRPC" if self.mode == "delta" else "GRPC", "transport_api_version": "V3",
                "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]}
            config["static_resources"] = {"clusters": [{
                "name": "xds", "type": "STATIC", "connect_timeout": "1s",
                "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}}}},
                "load_assignment": {"cluster_name": "xds", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                    "socket_address": {"address": "127.0.0.1", "port_value": self.cp.port}}}}]}]}}]}
        return config

    def c0_ports(self, service: str | None = None) -> list[int]:
        half = NGINX_PORTS // 2
        k = self.c0_half[service or self.c0_service]
        return self.nginx_ports[k * half:(k + 1) * half]

    # -- resources ---------------------------------------------------------

    def cluster(self, i: int) -> dict:
        service = self.c0_service if i == 0 else f"c{i}"
        return {"@type": TYPES["cds"], "name": f"c{i}", "type": "EDS",
                "connect_timeout": f"{self.all_timeout_ms / 1000:.3f}s",
                "eds_cluster_config": {"eds_config": self.source(f"eds-{service}"), "service_name": service}}

    def assignment(self, service: str) -> dict:
        if service in C0_SERVICES:
            ports = self.c0_ports(service)
        else:
            i = int(service[1:])
            ports = [self.endpoint_base + (i * self.args.endpoints + k) % 40000 for k in range(self.args.endpoints)]
        return {"@type": TYPES["eds"], "cluster_name": service, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": p}}}} for p in ports]}]}

    def route_config(self) -> dict:
        vhosts = []
        other = self.args.routes - 1
        for v in range((other + ROUTES_PER_VHOST - 1) // ROUTES_PER_VHOST):
            routes = []
            for i in range(v * ROUTES_PER_VHOST, min(other, (v + 1) * ROUTES_PER_VHOST)):
                routes.append({"match": {"prefix": f"/svc{i}/"}, "route": {"cluster": f"c{1 + i % max(1, self.args.clusters - 1)}",
                                                                            "timeout": "5s"},
                               "response_headers_to_add": [{"header": {"key": "x-route", "value": f"{i}-{self.route_version}"}}]})
            vhosts.append({"name": f"svc{v}", "domains": [f"svc{v}.mesh", f"svc{v}.mesh:*"], "routes": routes})
        vhosts.append({"name": "live", "domains": ["*"], "routes": [
            {"match": {"prefix": "/live"}, "route": {"cluster": "c0"},
             "response_headers_to_add": [{"header": {"key": "x-push", "value": self.route_version}}]}]})
        return {"@type": TYPES["rds"], "name": "mesh", "virtual_hosts": vhosts}

    def listener(self, i: int) -> dict:
        return {"@type": TYPES["lds"], "name": f"l{i}",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": self.listen_ports[i]}},
                "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
                    "@type": HCM, "stat_prefix": f"l{i}",
                    "rds": {"route_config_name": "mesh", "config_source": self.source("rds")},
                    "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}]}}]}]}

    # -- publishing ----------------------------------------------------------

    def write(self, kind: str, resources: list[dict], push: bool = True) -> None:
        """Files: writes `kind`.json and renames it into place. Control plane:
        sets the resources and (with `push`) sends them, RDS and EDS
        responses holding only these (as the protocol allows)."""
        self.version += 1
        self.pushed_at = time.monotonic()
        if self.cp is not None:
            from google.protobuf import json_format
            from xds_control_plane import MESSAGE_CLASSES, type_url
            url = type_url(kind)
            messages = {}
            for r in resources:
                name = r.get("name") or r["cluster_name"]
                cached = self.parsed.get((url, name))
                if cached is None or cached[0] != r:
                    body = {k: v for k, v in r.items() if k != "@type"}
                    cached = (r, json_format.ParseDict(body, MESSAGE_CLASSES[url]()))
                    self.parsed[(url, name)] = cached
                messages[name] = cached[1]
            self.cp.set(url, messages)
            self.pushed_at = time.monotonic()
            if push:
                self.cp.push(url, names=list(messages))
            return
        path = self.d / f"{kind}.json"
        tmp = self.d / f".{kind}.json.tmp"
        tmp.write_text(json.dumps({"version_info": str(self.version), "resources": resources}))
        self.pushed_at = time.monotonic()
        os.rename(tmp, path)

    def write_endpoints(self, services, push: bool = True) -> None:
        if self.cp is not None:
            self.write("eds", [self.assignment(s) for s in services], push)
            return
        # A file EDS subscription is per cluster and must hold exactly its one
        # ClusterLoadAssignment (Envoy: "Unexpected EDS resource length").
        for service in services:
            self.write(f"eds-{service}", [self.assignment(service)])

    def services(self) -> list[str]:
        return list(C0_SERVICES) + [f"c{i}" for i in range(1, self.args.clusters)]

    def write_all(self) -> None:
        n = self.args.clusters
        self.write_endpoints(self.services())
        self.write("cds", [self.cluster(i) for i in range(n)])
        self.write("rds", [self.route_config()])
        self.write("lds", [self.listener(i) for i in range(self.args.listeners)])

    def push_route(self, version: str) -> None:
        self.route_version = version
        self.write("rds", [self.route_config()])

    def push_cluster(self) -> list[int]:
        """c0 takes its endpoints from the other EDS resource, which holds
        the other half of the ports; returns the ports it serves from then."""
        other = C0_SERVICES[1 - C0_SERVICES.index(self.c0_service)]
        self.c0_half[other] = 1 - self.c0_half[self.c0_service]
        # Ready before the cluster asks for it (not pushed: it is not subscribed).
        self.write_endpoints([other], push=False)
        self.c0_service = other
        self.write("cds", [self.cluster(i) for i in range(self.args.clusters)])
        return self.c0_ports()

    def push_endpoints(self) -> list[int]:
        """c0's endpoints move to the other half of the ports; returns them."""
        self.c0_half[self.c0_service] = 1 - self.c0_half[self.c0_service]
        self.write_endpoints([self.c0_service])
        return self.c0_ports()

    def push_everything(self, version: str) -> None:
        """Every cluster, every endpoint set and the route table change."""
        self.all_timeout_ms += 1
        self.c0_half[self.c0_service] = 1 - self.c0_half[self.c0_service]
        self.endpoint_base += 1
        self.route_version = version
        if self.cp is None:
            self.write_endpoints(self.services())
            self.write("cds", [self.cluster(i) for i in range(self.args.clusters)])
        else:
            # The clusters, then their endpoints: Envoy's updated clusters
            # warm on the EDS response that follows the CDS one (they ask for
            # the same names, so a SotW server would not answer them again;
            # Envoy ACKs the CDS response only once they warmed).
            self.write_endpoints(self.services(), push=False)
            self.write("cds", [self.cluster(i) for i in range(self.args.clusters)])
            self.cp.push("eds")
        self.write("rds", [self.route_config()])


def get_live(conn: http.client.HTTPConnection) -> tuple[int, str | None, int | None]:
    conn.request("GET", "/live")
    r = conn.getresponse()
    r.read()
    port = r.getheader("x-port")
    return r.status, r.getheader("x-push"), int(port) if port else None


def wait_serving(port: int, version: str | None = None, ports: list[int] | None = None, timeout: float = 30.0) -> float:
    """Seconds until a keep-alive client on `port` sees `x-push: version`
    (with `ports`: an answer from one of these nginx ports)."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        while time.monotonic() - t0 < timeout:
            try:
                status, push, upstream = get_live(conn)
                if status == 200 and (push == version if ports is None else upstream in ports):
                    return time.monotonic() - t0
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            time.sleep(0.001)
    finally:
        conn.close()
    raise BenchError(f"{version or ports} not served after {timeout:.0f} s")


def stat(admin: int, name: str) -> int:
    status, body = admin_get(admin, f"/stats?filter=^{re.escape(name)}$", timeout=5.0)
    for line in body.decode().splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1].strip() or 0)
    return 0


def wrk(port: int, seconds: float, connections: int) -> dict:
    r = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:.0f}s",
                        f"http://127.0.0.1:{port}/live"], capture_output=True, text=True, timeout=seconds + 60)
    out = r.stdout
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if not total:
        raise BenchError(f"wrk output not understood:\n{out}\n{r.stderr}")
    socket_errors = sum(int(x) for x in errors.groups()) if errors else 0
    return {"requests": int(total.group(1)), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": socket_errors}


def start_nginx(children: Children, d: Path, cpu: int | None) -> list[int]:
    d.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(NGINX_PORTS)]
    conf = d / "nginx.conf"
    conf.write_text(NGINX.format(dir=d, listens="\n".join(f"    listen 127.0.0.1:{p};" for p in ports)))
    children.start(["nginx", "-c", str(conf), "-p", str(d)], cpu=cpu, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", ports[-1], timeout=1)
            c.request("GET", "/")
            if c.getresponse().status == 200:
                return ports
        except OSError:
            time.sleep(0.05)
    raise BenchError("nginx did not come up")


def wait_acked(mesh: Mesh, after: int, kinds: tuple[str, ...], timeout: float = 120.0) -> None:
    """Control plane: waits until the proxy ACKed a response of each kind
    sent after nonce `after` (a NACK is an error)."""
    from xds_control_plane import type_url
    for kind in kinds:
        url = type_url(kind)
        r = mesh.cp.wait_for(lambda r: r.type_url == url and r.nonce.isdigit() and int(r.nonce) > after
                             and (r.is_ack or r.is_nack), timeout=timeout)
        if r.is_nack:
            raise BenchError(f"{kind} NACKed: {r.error_message}")


def start_proxy(kind: str, binary: str, mesh: Mesh, d: Path, children: Children,
                cpu: int | None = None) -> tuple[subprocess.Popen, int, Path, float]:
    """Starts the proxy on `mesh`'s bootstrap (written under `d`, the
    mesh's files already written): the process, its admin port, its log
    and the moment it was started."""
    admin = free_port()
    config = d / "bootstrap.json"
    config.write_text(json.dumps(mesh.bootstrap(admin)))
    log = d / "proxy.log"
    t0 = time.monotonic()
    with open(log, "wb") as f:
        proc = children.start(proxy_argv(kind, binary, config), cpu=cpu, stdout=f, stderr=subprocess.STDOUT)
    return proc, admin, log, t0


def session(kind: str, binary: str, rnd: int, args, children: Children, workdir: Path, nginx_ports: list[int]) -> dict:
    d = workdir / f"{kind}-r{rnd}"
    d.mkdir()
    mesh = Mesh(d, args, nginx_ports)
    proc = None
    try:
        mesh.write_all()
        proc, admin, log, t0 = start_proxy(kind, binary, mesh, d, children, args.proxy_cpu)
        result: dict = {"kind": kind, "round": rnd, "xds": args.xds}
        wait_ready(proc, admin, log, timeout=300)
        port = mesh.listen_ports[0]
        wait_serving(port, mesh.route_version, timeout=120)
        result["boot_s"] = time.monotonic() - t0
        result["boot_cpu_s"] = proc_cpu_seconds(proc.pid)
        time.sleep(2.0)
        result["rss_kib"] = proc_mem_kib(proc.pid)["VmRSS"]

        # Full push: everything changes.
        cds0 = stat(admin, "cluster_manager.cds.update_success")
        nonce0 = mesh.cp._counter if mesh.cp else 0
        cpu0 = proc_cpu_seconds(proc.pid)
        w0 = time.monotonic()
        mesh.push_everything("full")
        wait_serving(port, "full", timeout=120)
        while stat(admin, "cluster_manager.cds.update_success") <= cds0:
            if time.monotonic() - w0 > 120:
                raise BenchError("the full CDS push was not applied")
            time.sleep(0.01)
        if mesh.cp:
            wait_acked(mesh, nonce0, ("cds", "eds", "rds"))
        result["full_push_wall_s"] = time.monotonic() - w0
        time.sleep(1.0)
        result["full_push_cpu_s"] = proc_cpu_seconds(proc.pid) - cpu0
        result["rss_after_push_kib"] = proc_mem_kib(proc.pid)["VmRSS"]

        # Push to serving, seen by a keep-alive client: a route change (the
        # new x-push), a cluster change (c0 on another EDS resource, warming)
        # and an endpoint change (c0's hosts move), in turn; timed from the
        # moment the response is sent (or the file renamed).
        samples: dict[str, list[float]] = {"route": [], "cluster": [], "endpoint": []}
        for k in range(3 * args.serve_samples):
            time.sleep(0.2)
            what = ("route", "cluster", "endpoint")[k % 3]
            if what == "route":
                mesh.push_route(f"s{k}")
                wait_serving(port, f"s{k}")
            else:
                ports = mesh.push_cluster() if what == "cluster" else mesh.push_endpoints()
                wait_serving(port, ports=ports)
            samples[what].append(time.monotonic() - mesh.pushed_at)
        for what, values in samples.items():
            result[f"{what}_to_serve_ms"] = statistics.median(values) * 1000

        # Push cost: proxy CPU per route push (the 1,000-route table), each
        # waited for until ACKed, no traffic (ADS only: a file has no ACK).
        if mesh.cp:
            cpu0 = proc_cpu_seconds(proc.pid)
            for k in range(args.cost_pushes):
                nonce = mesh.cp._counter
                mesh.push_route(f"cost{k}")
                wait_acked(mesh, nonce, ("rds",))
            result["route_push_cpu_ms"] = (proc_cpu_seconds(proc.pid) - cpu0) / max(1, args.cost_pushes) * 1000

        # Churn under load.
        import threading
        out: dict = {}
        seconds = args.pushes * args.push_interval + 2
        load = threading.Thread(target=lambda: out.update(wrk(port, seconds, args.connections)))
        load.start()
        time.sleep(1.0)
        for k in range(args.pushes):
            [lambda: mesh.push_route(f"c{k}"), mesh.push_cluster, mesh.push_endpoints][k % 3]()
            time.sleep(args.push_interval)
        load.join()
        result["churn_requests"] = out["requests"]
        result["churn_failed"] = out["non2xx"] + out["socket_errors"]
        if mesh.cp:
            result["nacks"] = sum(1 for r in mesh.cp.requests if r.is_nack)
        if proc.poll() is not None:
            raise BenchError(f"{kind} exited during the run:\n{log_tail(log)}")
    finally:
        if proc is not None:
            children.stop(proc)
        mesh.close()
    return result


def med(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    m = statistics.median(values)
    return f"{m:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_binary_args(p)
    add_pinning_args(p)
    p.add_argument("--xds", choices=["sotw", "delta", "file"], default="sotw",
                   help="how the config arrives: ADS over gRPC from the test control plane, state of the world "
                        "(default) or Delta, or path_config_source files")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--clusters", type=int, default=1000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--routes", type=int, default=1000)
    p.add_argument("--listeners", type=int, default=100)
    p.add_argument("--pushes", type=int, default=100)
    p.add_argument("--push-interval", type=float, default=0.1)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--serve-samples", type=int, default=10)
    p.add_argument("--cost-pushes", type=int, default=20, help="route pushes whose proxy CPU is averaged (ADS only)")
    p.add_argument("--only", choices=["remora", "envoy"], help="run one proxy only")
    p.add_argument("--json", help="write every sample to this file")
    p.add_argument("--keep-temp", action="store_true")
    args = p.parse_args(argv)
    check_pinning_args(p, args)
    pin_self(args)
    kinds = [args.only] if args.only else ["remora", "envoy"]
    binaries = {"remora": args.remora, "envoy": args.envoy}
    workdir = Path(tempfile.mkdtemp(prefix="xds-bench-"))
    children = Children()
    results: list[dict] = []
    # Envoy opens one inotify instance per file subscription (one per EDS
    # cluster here) and aborts past fs.inotify.max_user_instances (128 by
    # default); Remora shares one. Raise the limit for the run when we may.
    limit_path = Path("/proc/sys/fs/inotify/max_user_instances")
    old_limit = int(limit_path.read_text())
    needed = args.clusters + 64
    if args.xds == "file" and "envoy" in kinds and old_limit < needed:
        try:
            limit_path.write_text(str(needed))
            print(f"fs.inotify.max_user_instances raised from {old_limit} to {needed} for Envoy (restored at the end)")
        except OSError:
            print(f"warning: fs.inotify.max_user_instances is {old_limit}; Envoy needs {needed} for this run")
    try:
        nginx_ports = start_nginx(children, workdir / "nginx", args.load_cpu)
        for rnd in range(args.rounds):
            order = kinds if rnd % 2 == 0 else list(reversed(kinds))
            for kind in order:
                r = session(kind, binaries[kind], rnd, args, children, workdir, nginx_ports)
                print(json.dumps(r), flush=True)
                results.append(r)
    finally:
        children.stop_all()
        if int(limit_path.read_text()) != old_limit:
            try:
                limit_path.write_text(str(old_limit))
            except OSError:
                pass
        if not args.keep_temp:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.clusters} EDS clusters x {args.endpoints} endpoints, {args.routes} routes, {args.listeners} listeners "
          f"over {'files' if args.xds == 'file' else 'ADS (' + args.xds + ')'}; "
          f"{args.rounds} rounds; {pinning_text(args)}")
    rows = [("boot (s)", "boot_s", ".2f"), ("boot CPU (s)", "boot_cpu_s", ".2f"), ("RSS holding it (MiB)", "rss_mib", ".1f"),
            ("full push CPU (s)", "full_push_cpu_s", ".3f"), ("full push wall (s)", "full_push_wall_s", ".2f"),
            ("route push to serving (ms)", "route_to_serve_ms", ".1f"),
            ("cluster push to serving (ms)", "cluster_to_serve_ms", ".1f"),
            ("endpoint push to serving (ms)", "endpoint_to_serve_ms", ".1f"),
            ("proxy CPU per route push (ms)", "route_push_cpu_ms", ".1f"),
            (f"failed requests in {args.pushes} pushes", "churn_failed", ".0f"),
            ("requests during pushes", "churn_requests", ".0f")]
    for r in results:
        r["rss_mib"] = r.get("rss_kib", 0) / 1024
    print(f"{'':32}" + "".join(f"{k:>28}" for k in kinds) + ("     remora/envoy" if len(kinds) == 2 else ""))
    for title, key, fmt in rows:
        cells = {k: [r[key] for r in results if r["kind"] == k and key in r] for k in kinds}
        line = f"{title:32}" + "".join(f"{med(cells[k], fmt):>28}" for k in kinds)
        if len(kinds) == 2 and cells["remora"] and cells["envoy"] and statistics.median(cells["envoy"]) > 0:
            line += f"     {statistics.median(cells['remora']) / statistics.median(cells['envoy']):.2f}x"
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
