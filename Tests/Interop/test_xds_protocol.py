"""What the proxy says on the xDS wire, request by request, as Envoy 1.40
says it to the same control plane (xds_control_plane.py): the first
requests of a stream (type order, names, node), ACK and NACK (version,
nonce, error_detail), EDS/RDS interest following the clusters and
listeners, Delta's initial_resource_versions, malformed responses,
api_config_source streams per type, rate_limit_settings, the stream's
back-off, and the xDS cluster itself over mTLS or a Unix socket.

Both proxies run it (PROXY_KIND=envoy PROXY_BIN=<envoy> for Envoy 1.40)."""

from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf import any_pb2, json_format

import support
from support import free_port, socket_address
from h2_support import H2Upstream
from http_support import HCM_TYPE, route, route_config, router_filter, vhost
from xds_control_plane import CDS, EDS, LDS, RDS, ControlPlane
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.service.discovery.v3 import discovery_pb2

HTTP2_OPTIONS = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "explicit_http_config": {"http2_protocol_options": {}}}}
ADS = {"ads": {}, "resource_api_version": "V3"}
MODES = pytest.mark.parametrize("delta", [False, True], ids=["sotw", "delta"])
NODE = {"id": "sidecar~10.0.0.1~app.ns~ns.svc.cluster.local", "cluster": "app.ns",
        "metadata": {"ISTIO_VERSION": "1.24.0", "LABELS": {"app": "app"}},
        "locality": {"region": "r1", "zone": "z1", "sub_zone": "s1"}}


@pytest.fixture
def control_plane():
    planes: list[ControlPlane] = []

    def make(**kw) -> ControlPlane:
        cp = ControlPlane(**kw).start()
        planes.append(cp)
        return cp
    yield make
    for cp in planes:
        cp.stop()


def xds_cluster(address: dict, **extra) -> dict:
    c = support.cluster("xds", [address])
    c["typed_extension_protocol_options"] = HTTP2_OPTIONS
    c.update(extra)
    return c


def grpc_source(delta: bool, **extra) -> dict:
    source = {"api_type": "DELTA_GRPC" if delta else "GRPC", "transport_api_version": "V3",
              "grpc_services": [{"envoy_grpc": {"cluster_name": "xds"}}]}
    source.update(extra)
    return source


def ads_bootstrap(cp: ControlPlane, delta: bool, node_first: bool = True, xds: dict | None = None,
                  **ads_extra) -> dict:
    config = support.bootstrap(free_port(), [], [xds or xds_cluster(socket_address("127.0.0.1", cp.port))])
    config["node"] = NODE
    config["dynamic_resources"] = {
        "ads_config": grpc_source(delta, set_node_on_first_message_only=node_first, **ads_extra),
        "cds_config": dict(ADS), "lds_config": dict(ADS)}
    return config


def eds_cluster(name: str, source: dict = ADS) -> cluster_pb2.Cluster:
    return json_format.ParseDict({"name": name, "type": "EDS", "connect_timeout": "1s",
                                  "eds_cluster_config": {"eds_config": source}}, cluster_pb2.Cluster())


def static_cluster(name: str, port: int) -> cluster_pb2.Cluster:
    return json_format.ParseDict(support.cluster(name, [socket_address("127.0.0.1", port)]), cluster_pb2.Cluster())


def assignment(name: str, port: int) -> endpoint_pb2.ClusterLoadAssignment:
    return json_format.ParseDict({"cluster_name": name, "endpoints": [{"lb_endpoints": [
        {"endpoint": {"address": socket_address("127.0.0.1", port)}}]}]}, endpoint_pb2.ClusterLoadAssignment())


def http_listener(name: str, port: int, table: str, source: dict = ADS) -> listener_pb2.Listener:
    hcm = {"@type": HCM_TYPE, "stat_prefix": name, "codec_type": "AUTO",
           "rds": {"route_config_name": table, "config_source": source}, "http_filters": [router_filter()]}
    return json_format.ParseDict({"name": name, "address": socket_address("127.0.0.1", port), "filter_chains": [
        {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}]},
        listener_pb2.Listener())


def routes(name: str, cluster: str) -> route_pb2.RouteConfiguration:
    return json_format.ParseDict(route_config([vhost("vh", ["*"], [route({"prefix": "/"}, cluster)])], name=name),
                                 route_pb2.RouteConfiguration())


def tcp_listener(name: str, port: int, cluster: str) -> listener_pb2.Listener:
    return json_format.ParseDict(support.tcp_listener(name, port, cluster, name), listener_pb2.Listener())


def serve_backend(cp: ControlPlane, backend) -> int:
    """CDS: the cluster `backend`; LDS: a TCP listener to it, on the port returned."""
    port = free_port()
    cp.set(CDS, {"backend": static_cluster("backend", backend.port)})
    cp.set(LDS, {"tcp": tcp_listener("tcp", port, "backend")})
    return port


def echo(port: int) -> bytes:
    with support.connect("127.0.0.1", port) as s:
        s.sendall(b"ping")
        return support.recv_exact(s, 4)


def wait_stat(p, name: str, check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = p.stats().get(name)
        except OSError:  # the admin listener is not up yet
            value = None
        if value is not None and check(value):
            return value
        assert time.monotonic() < deadline, f"{name} is {value}"
        time.sleep(0.05)


def after(cp: ControlPlane, mark: int, predicate, timeout: float = 10.0):
    """The first request recorded after request number ``mark`` matching ``predicate``."""
    return cp.wait_for(lambda r: cp.requests.index(r) >= mark and predicate(r), timeout=timeout)


def names_of(r) -> set[str]:
    return set(r.subscribe) if r.delta else set(r.names)


# -- the first requests of a stream -------------------------------------------

@MODES
def test_first_requests_order_names_and_node(proxy, control_plane, upstreams, delta):
    """CDS, then EDS (naming the CDS clusters' services, before the CDS ACK),
    then LDS, then RDS; nothing held yet (empty version and nonce); the node
    (id, cluster, metadata, locality as the bootstrap has them, plus a user
    agent and its build version) on the stream's first request only, with
    `set_node_on_first_message_only`; on a new stream, again on the first."""
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"a": eds_cluster("a"), "b": eds_cluster("b")})
    cp.set(EDS, {"a": assignment("a", backend.port), "b": assignment("b", backend.port)})
    cp.set(LDS, {"l": http_listener("l", free_port(), "r")})
    cp.set(RDS, {"r": routes("r", "a")})
    p = proxy(ads_bootstrap(cp, delta))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)

    first = {}
    for r in cp.requests:
        first.setdefault(r.type_url, r)
    assert list(first) == [CDS, EDS, LDS, RDS]
    assert names_of(first[CDS]) == set() and names_of(first[LDS]) == set()
    assert names_of(first[EDS]) == {"a", "b"} and names_of(first[RDS]) == {"r"}
    for r in first.values():
        assert r.nonce == ""
        assert delta or r.version_info == ""
    cds_ack = next(r for r in cp.requests if r.type_url == CDS and r.is_ack)
    assert cp.requests.index(first[EDS]) < cp.requests.index(cds_ack)

    assert [r.request.HasField("node") for r in cp.requests] == [True] + [False] * (len(cp.requests) - 1)
    node = json_format.MessageToDict(cp.requests[0].request.node, preserving_proto_field_name=True)
    for key, value in NODE.items():
        assert node[key] == value
    assert node["user_agent_name"]
    assert node["user_agent_build_version"]["version"].get("major_number", 0) \
        + node["user_agent_build_version"]["version"].get("minor_number", 0) > 0

    mark = len(cp.requests)
    cp.stop()
    wait_stat(p, "control_plane.connected_state", lambda v: v == 0)
    cp.start()
    cp.wait_for(lambda r: cp.requests.index(r) >= mark and r.type_url == RDS and r.is_ack)
    again = cp.requests[mark:]
    assert again[0].type_url == CDS and again[0].request.HasField("node")
    assert not any(r.request.HasField("node") for r in again[1:])


@MODES
def test_node_on_every_request_without_set_node_on_first_message_only(proxy, control_plane, upstreams, delta):
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"backend": static_cluster("backend", backend.port)})
    cp.set(LDS, {"tcp": tcp_listener("tcp", free_port(), "backend")})
    proxy(ads_bootstrap(cp, delta, node_first=False))
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)
    assert all(r.request.node.id == NODE["id"] for r in cp.requests)


# -- ACK and NACK ---------------------------------------------------------------

@MODES
def test_ack_and_nack_carry_version_nonce_and_error_detail(proxy, control_plane, upstreams, delta):
    """An ACK names the response's nonce (SotW: and its version); a NACK the
    response's nonce, the last accepted version, and error_detail {13,
    Envoy's message}; the previous config keeps serving."""
    cp = control_plane()
    backend = upstreams()
    port = serve_backend(cp, backend)
    p = proxy(ads_bootstrap(cp, delta))
    ack = cp.wait_for(lambda r: r.type_url == CDS and r.is_ack)
    assert echo(port) == b"ping"
    if not delta:
        assert ack.version_info == "1"

    # Two clusters of one name in one response (the protocol's own refusal;
    # state of the world: with the cluster in use, which the update keeps).
    mark = len(cp.requests)
    c = any_pb2.Any()
    c.Pack(static_cluster("c", backend.port))
    kept = any_pb2.Any()
    kept.Pack(static_cluster("backend", backend.port))
    if delta:
        response = discovery_pb2.DeltaDiscoveryResponse(type_url=CDS, nonce="dup-1", system_version_info="v2")
        response.resources.extend([discovery_pb2.Resource(name="c", version="x", resource=c)] * 2)
        expected = "duplicate name c found among added/updated resources"
    else:
        response = discovery_pb2.DiscoveryResponse(type_url=CDS, nonce="dup-1", version_info="v2")
        response.resources.extend([kept, c, c])
        expected = "Error adding/updating cluster(s) c: duplicate cluster c found"
    cp.send_raw(CDS, response)
    nack = after(cp, mark, lambda r: r.type_url == CDS and r.nonce == "dup-1")
    assert nack.is_nack and nack.request.error_detail.code == 13
    assert nack.error_message == expected
    if not delta:
        assert nack.version_info == "1"
    assert echo(port) == b"ping"

    # The next good response is ACKed with its own version.
    mark = len(cp.requests)
    cp.set(CDS, {"backend2": static_cluster("backend2", backend.port)})
    cp.push(CDS)
    ack = after(cp, mark, lambda r: r.type_url == CDS and r.nonce)
    assert ack.is_ack
    if not delta:
        assert ack.version_info == "2"
    wait_stat(p, "cluster_manager.cds.update_rejected", lambda v: v == 1)


@MODES
def test_malformed_responses_are_nacked_or_ignored(proxy, control_plane, upstreams, delta):
    """A resource whose Any type differs from the response's type URL, or
    whose bytes do not decode, is NACKed with Envoy's message; a response of
    a type nothing subscribes to is ignored (no request answers it); the
    listener keeps serving with the last good config throughout."""
    cp = control_plane()
    backend = upstreams()
    port = serve_backend(cp, backend)
    proxy(ads_bootstrap(cp, delta))
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)

    def send(nonce: str, any_: any_pb2.Any, type_url: str = CDS):
        if delta:
            response = discovery_pb2.DeltaDiscoveryResponse(type_url=type_url, nonce=nonce, system_version_info="v9")
            response.resources.append(discovery_pb2.Resource(name="c", version="x", resource=any_))
        else:
            response = discovery_pb2.DiscoveryResponse(type_url=type_url, nonce=nonce, version_info="v9")
            response.resources.append(any_)
        cp.send_raw(CDS, response)
        return response

    wrong = any_pb2.Any()
    wrong.Pack(route_pb2.RouteConfiguration(name="c"))
    mark = len(cp.requests)
    send("bad-type", wrong)
    nack = after(cp, mark, lambda r: r.nonce == "bad-type")
    assert nack.type_url == CDS and nack.is_nack and nack.request.error_detail.code == 13
    where = "DeltaDiscoveryResponse" if delta else "DiscoveryResponse"
    prefix = "type URL " if delta else ""
    embedded = " embedded in an individual Any" if delta else ""
    assert nack.error_message.startswith(
        f"{prefix}{RDS}{embedded} does not match the message-wide type URL {CDS} in {where}")

    mark = len(cp.requests)
    send("bad-bytes", any_pb2.Any(type_url=CDS, value=b"\xff\xff\xff"))
    nack = after(cp, mark, lambda r: r.nonce == "bad-bytes")
    assert nack.is_nack and nack.error_message.startswith("Unable to unpack as envoy.config.cluster.v3.Cluster: ")
    assert echo(port) == b"ping"

    # Nobody subscribes to this type: no answer. The next push is answered.
    for stream in list(cp._streams):
        response = (discovery_pb2.DeltaDiscoveryResponse if delta else discovery_pb2.DiscoveryResponse)(
            type_url="type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", nonce="unknown")
        stream.out.put(response)
    mark = len(cp.requests)
    cp.set(CDS, {"backend2": static_cluster("backend2", backend.port)})
    cp.push(CDS)
    after(cp, mark, lambda r: r.type_url == CDS and r.is_ack)
    assert not any(r.nonce == "unknown" for r in cp.requests)
    assert echo(port) == b"ping"


def test_empty_state_of_the_world_response_is_acked_with_its_version(proxy, control_plane, upstreams):
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"backend": static_cluster("backend", backend.port)})
    cp.set(LDS, {})
    p = proxy(ads_bootstrap(cp, False))
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)
    mark = len(cp.requests)
    cp.send_raw(CDS, discovery_pb2.DiscoveryResponse(type_url=CDS, nonce="empty", version_info="v10"))
    ack = after(cp, mark, lambda r: r.nonce == "empty")
    assert ack.is_ack and ack.version_info == "v10"
    wait_stat(p, "cluster_manager.cluster_removed", lambda v: v == 1)


# -- interest follows the clusters and listeners --------------------------------

@MODES
def test_eds_and_rds_interest_follows_clusters_and_listeners(proxy, control_plane, upstreams, delta):
    """Removing a cluster drops its service from the EDS request (SotW: the
    names asked; Delta: an unsubscribe) before the CDS ACK; adding one asks
    for it; a removed listener's table is no longer asked for once the
    listener has drained."""
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"a": eds_cluster("a"), "b": eds_cluster("b")})
    cp.set(EDS, {n: assignment(n, backend.port) for n in "abc"})
    cp.set(LDS, {"l1": http_listener("l1", free_port(), "r1"), "l2": http_listener("l2", free_port(), "r2")})
    cp.set(RDS, {"r1": routes("r1", "a"), "r2": routes("r2", "b")})
    p = proxy(ads_bootstrap(cp, delta), drain_time_s=1)
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)

    mark = len(cp.requests)
    cp.remove(CDS, ["b"])
    cp.push(CDS)
    ack = after(cp, mark, lambda r: r.type_url == CDS and r.is_ack)
    if delta:
        eds = after(cp, mark, lambda r: r.type_url == EDS and r.unsubscribe)
        assert eds.unsubscribe == ["b"] and eds.subscribe == []
    else:
        eds = after(cp, mark, lambda r: r.type_url == EDS and set(r.names) == {"a"})
    assert cp.requests.index(eds) < cp.requests.index(ack)
    wait_stat(p, "cluster_manager.active_clusters", lambda v: v == 2)  # xds and a

    mark = len(cp.requests)
    cp.set(CDS, {"c": eds_cluster("c")})
    cp.push(CDS)
    if delta:
        after(cp, mark, lambda r: r.type_url == EDS and r.subscribe == ["c"])
    else:
        after(cp, mark, lambda r: r.type_url == EDS and set(r.names) == {"a", "c"})

    mark = len(cp.requests)
    cp.remove(LDS, ["l2"])
    cp.push(LDS)
    if delta:
        after(cp, mark, lambda r: r.type_url == RDS and r.unsubscribe == ["r2"], timeout=15)
    else:
        after(cp, mark, lambda r: r.type_url == RDS and set(r.names) == {"r1"}, timeout=15)


def test_sotw_response_for_a_type_no_longer_watched(proxy, control_plane, upstreams):
    """The last EDS cluster removed: EDS asks for no names; an empty EDS
    response then is taken (its version and nonce) without a request, and
    the next EDS request (a new cluster) carries them."""
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"a": eds_cluster("a")})
    cp.set(EDS, {"a": assignment("a", backend.port), "b": assignment("b", backend.port)})
    cp.set(LDS, {})
    proxy(ads_bootstrap(cp, False))
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)

    mark = len(cp.requests)
    cp.remove(CDS, ["a"])
    cp.push(CDS)
    unwatch = after(cp, mark, lambda r: r.type_url == EDS and r.names == [])
    after(cp, mark, lambda r: r.type_url == CDS and r.is_ack)
    # The test control plane answers "no names" with every assignment; with
    # no watch, that is answered with the old version (no error).
    answered = after(cp, cp.requests.index(unwatch) + 1, lambda r: r.type_url == EDS and r.names == [])
    assert answered.version_info == unwatch.version_info and not answered.is_nack
    mark = len(cp.requests)
    cp.send_raw(EDS, discovery_pb2.DiscoveryResponse(type_url=EDS, nonce="e-empty", version_info="v77"))
    time.sleep(1)
    assert not any(r.type_url == EDS for r in cp.requests[mark:])

    cp.set(CDS, {"b": eds_cluster("b")})
    cp.push(CDS)
    eds = after(cp, mark, lambda r: r.type_url == EDS and r.names == ["b"])
    assert eds.nonce == "e-empty" and eds.version_info == "v77"


def test_delta_reconnect_presents_what_it_holds(proxy, control_plane, upstreams):
    """A new Delta stream names every resource held, of every type, with its
    version (`initial_resource_versions`), so the control plane re-sends
    nothing it already has."""
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"a": eds_cluster("a")})
    cp.set(EDS, {"a": assignment("a", backend.port)})
    cp.set(LDS, {"l": http_listener("l", free_port(), "r")})
    cp.set(RDS, {"r": routes("r", "a")})
    p = proxy(ads_bootstrap(cp, True))
    cp.wait_for(lambda r: r.type_url == RDS and r.is_ack)
    versions = {url: {name: version for name, (_, version) in cp._resources[url].items()} for url in (CDS, EDS, LDS, RDS)}

    mark = len(cp.requests)
    cp.stop()
    wait_stat(p, "control_plane.connected_state", lambda v: v == 0)
    cp.start()
    for url in (CDS, EDS, LDS, RDS):
        first = after(cp, mark, lambda r, url=url: r.type_url == url and r.nonce == "")
        assert first.initial_resource_versions == versions[url], url
    cp.wait_for(lambda r: cp.requests.index(r) >= mark and r.type_url == RDS and r.is_ack)
    wait_stat(p, "control_plane.connected_state", lambda v: v == 1)


# -- api_config_source, one stream per subscription ---------------------------

@MODES
def test_api_config_source_streams_per_type(proxy, control_plane, http_upstreams, delta):
    """Each type over its own service (`api_config_source`, GRPC or
    DELTA_GRPC): CDS, EDS per cluster, LDS, RDS per table (two here), each on a stream
    of its own with its `control_plane.*` under the subscription's prefix
    (`cluster.<name>.` for EDS); no ADS, so no root `control_plane.*`."""
    from http_support import HttpClient
    cp = control_plane()
    up = http_upstreams()
    port = free_port()
    source = {"api_config_source": grpc_source(delta), "resource_api_version": "V3"}
    cp.set(CDS, {"a": eds_cluster("a", source)})
    cp.set(EDS, {"a": assignment("a", up.port)})
    cp.set(LDS, {"l": http_listener("l", port, "r", source), "l2": http_listener("l2", free_port(), "r2", source)})
    cp.set(RDS, {"r": routes("r", "a"), "r2": routes("r2", "a")})
    config = support.bootstrap(free_port(), [], [xds_cluster(socket_address("127.0.0.1", cp.port))])
    config["node"] = NODE
    config["dynamic_resources"] = {"cds_config": source, "lds_config": source}
    p = proxy(config)
    with HttpClient(port) as c:
        assert c.request().status == 200

    verb = "Delta" if delta else "Stream"
    methods = {r.type_url: r.method for r in cp.requests}
    assert methods == {CDS: f"{verb}Clusters", EDS: f"{verb}Endpoints", LDS: f"{verb}Listeners", RDS: f"{verb}Routes"}
    assert len({r.stream for r in cp.requests}) == 5
    assert sorted(r.names or r.subscribe for r in cp.requests if r.type_url == RDS and r.nonce == "") == [["r"], ["r2"]]
    stats = p.stats()
    for prefix in ("cluster_manager.cds.", "cluster.a.", "listener_manager.lds.", "http.l.rds.r.", "http.l2.rds.r2."):
        assert stats.get(prefix + "control_plane.connected_state") == 1, prefix
    assert "control_plane.connected_state" not in stats


# -- transport and resource API versions ------------------------------------------

def test_v2_transport_api_is_refused_at_start(proxy, control_plane):
    cp = control_plane()
    config = ads_bootstrap(cp, False)
    config["dynamic_resources"]["ads_config"]["transport_api_version"] = "V2"
    p = proxy(config, wait_ready=False)
    deadline = time.monotonic() + 10
    while p.running():
        assert time.monotonic() < deadline, "the proxy started with the V2 xDS transport"
        time.sleep(0.05)
    assert p.proc.returncode != 0
    assert cp.requests == []


def test_resource_api_version_v2_still_asks_for_v3_resources(proxy, control_plane):
    """Envoy 1.40 reads `resource_api_version` and asks for V3 types anyway."""
    cp = control_plane()
    cp.set(CDS, {})
    cp.set(LDS, {})
    config = ads_bootstrap(cp, False)
    config["dynamic_resources"]["lds_config"]["resource_api_version"] = "V2"
    proxy(config)
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)


def test_grpc_service_initial_metadata_and_timeout(proxy, control_plane, upstreams):
    """`initial_metadata` goes on each stream's head; the service's `timeout`
    does not end the stream (Envoy opens xDS streams without one)."""
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"backend": static_cluster("backend", backend.port)})
    cp.set(LDS, {})
    config = ads_bootstrap(cp, False)
    service = config["dynamic_resources"]["ads_config"]["grpc_services"][0]
    service["initial_metadata"] = [{"key": "x-xds-token", "value": "abc"}]
    service["timeout"] = "0.5s"
    p = proxy(config)
    cp.wait_for(lambda r: r.type_url == LDS and r.is_ack)
    time.sleep(1.5)
    assert len(cp.stream_starts) == 1
    assert cp.stream_metadata[0].get("x-xds-token") == "abc"
    assert p.stats()["control_plane.connected_state"] == 1


# -- initial_fetch_timeout ----------------------------------------------------------

@pytest.mark.parametrize("timeout", ["0s", "1s"])
def test_initial_fetch_timeout_zero_waits_forever(proxy, control_plane, upstreams, timeout):
    """A control plane that never answers LDS: with `initial_fetch_timeout: 1s`
    the proxy goes LIVE after it; with 0s it keeps waiting."""
    cp = control_plane()
    backend = upstreams()
    cp.set(CDS, {"backend": static_cluster("backend", backend.port)})
    cp.silent.add(LDS)
    config = ads_bootstrap(cp, False)
    config["dynamic_resources"]["lds_config"] = dict(ADS, initial_fetch_timeout=timeout)
    p = proxy(config, wait_ready=False)
    cp.wait_for(lambda r: r.type_url == LDS)
    if timeout == "1s":
        p.wait_ready(10)
        assert p.stats()["listener_manager.lds.init_fetch_timeout"] == 1
    else:
        time.sleep(3)
        status, body = p.admin("GET", "/ready")
        assert status == 503
        assert p.stats().get("listener_manager.lds.init_fetch_timeout", 0) == 0


# -- rate_limit_settings --------------------------------------------------------------

@MODES
def test_rate_limit_settings_hold_requests_in_a_token_bucket(proxy, control_plane, upstreams, delta):
    """`rate_limit_settings {max_tokens: 2, fill_rate: 4}`: the start-up
    burst (CDS, its ACK, LDS, its ACK, …) runs out of tokens, which counts
    `control_plane.rate_limit_enforced`; the held requests go as tokens come
    back, so every ACK arrives, spaced by the fill rate."""
    cp = control_plane()
    backend = upstreams()
    port = serve_backend(cp, backend)
    p = proxy(ads_bootstrap(cp, delta, rate_limit_settings={"max_tokens": 2, "fill_rate": 4}))
    lds_ack = cp.wait_for(lambda r: r.type_url == LDS and r.is_ack, timeout=10)
    assert echo(port) == b"ping"
    assert p.stats()["control_plane.rate_limit_enforced"] >= 1
    assert cp.requests.index(lds_ack) == 3
    wait_stat(p, "control_plane.pending_requests", lambda v: v == 0)

    # Ten pushes at once: answered at no more than ~4 a second after the burst.
    mark = len(cp.requests)
    started = time.monotonic()
    for i in range(10):
        cp.set(CDS, {f"c{i}": static_cluster(f"c{i}", backend.port)})
        cp.push(CDS)
    cp.wait_count(mark + 10, timeout=15)
    assert len([r for r in cp.requests[mark:] if r.type_url == CDS and r.is_ack]) == 10
    assert time.monotonic() - started >= 1.5


def test_rate_limit_fill_rate_must_be_positive(proxy, control_plane):
    cp = control_plane()
    config = ads_bootstrap(cp, False, rate_limit_settings={"fill_rate": 0})
    p = proxy(config, wait_ready=False)
    deadline = time.monotonic() + 10
    while p.running():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert p.proc.returncode != 0


# -- re-connection back-off ---------------------------------------------------------------

def stream_gaps(cp: ControlPlane, seconds: float) -> list[float]:
    time.sleep(seconds)
    with cp._lock:
        starts = list(cp.stream_starts)
    return [b - a for a, b in zip(starts, starts[1:])]


def test_reconnects_with_jittered_exponential_back_off(proxy, control_plane):
    """A control plane that ends every stream UNAVAILABLE: the proxy tries
    again after a delay drawn below an interval doubling from 500 ms (so a
    handful of attempts in 3 s, never a tight loop)."""
    cp = control_plane()
    cp.reject_streams = (grpc.StatusCode.UNAVAILABLE, "not now")
    p = proxy(ads_bootstrap(cp, False), wait_ready=False)
    gaps = stream_gaps(cp, 3.0)
    assert 1 <= len(gaps) <= 8, gaps
    assert p.stats()["control_plane.connected_state"] == 0
    assert p.stats()["cluster_manager.cds.update_failure"] >= 2


def test_retry_back_off_of_the_grpc_service(proxy, control_plane):
    """`envoy_grpc.retry_policy.retry_back_off` sets the stream's back-off:
    with 50 ms to 100 ms, many attempts in 2 s, none more than ~100 ms apart."""
    cp = control_plane()
    cp.reject_streams = (grpc.StatusCode.UNAVAILABLE, "not now")
    config = ads_bootstrap(cp, False)
    config["dynamic_resources"]["ads_config"]["grpc_services"][0]["envoy_grpc"]["retry_policy"] = {
        "retry_back_off": {"base_interval": "0.05s", "max_interval": "0.1s"}}
    proxy(config, wait_ready=False)
    gaps = stream_gaps(cp, 2.0)
    assert len(gaps) >= 10, gaps
    assert max(gaps) < 0.5, gaps
    # Served again, the proxy takes its config on the next attempt.
    cp.reject_streams = None
    cp.wait_for(lambda r: r.type_url == CDS, timeout=5)


class BrokenControlPlane(H2Upstream):
    """An HTTP/2 server that answers every xDS stream badly: `status` (a
    non-200 head that ends the stream), `grpc_status` (a trailers-only 200
    with grpc-status 14), `reset` (RST_STREAM) or `goaway` (GOAWAY naming no
    stream processed). It counts the streams opened."""

    def __init__(self, mode: str):
        self.mode = mode
        self.streams = 0
        super().__init__()

    def _event(self, h2c, streams, ev):
        import h2.events
        if isinstance(ev, h2.events.DataReceived):
            h2c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        if not isinstance(ev, h2.events.RequestReceived):
            return
        self.streams += 1
        if self.mode == "status":
            h2c.send_headers(ev.stream_id, [(":status", "503")], end_stream=True)
        elif self.mode == "grpc_status":
            h2c.send_headers(ev.stream_id, [(":status", "200"), ("content-type", "application/grpc"),
                                            ("grpc-status", "14"), ("grpc-message", "draining")], end_stream=True)
        elif self.mode == "reset":
            h2c.reset_stream(ev.stream_id, error_code=2)
        else:
            h2c.close_connection(error_code=0, last_stream_id=0)


FAST_RETRY = {"retry_back_off": {"base_interval": "0.1s", "max_interval": "0.2s"}}


def fast_retry_bootstrap(address: dict) -> dict:
    """SotW ADS to `address`, re-connecting after 100-200 ms."""
    config = support.bootstrap(free_port(), [], [xds_cluster(address)])
    config["node"] = NODE
    config["dynamic_resources"] = {
        "ads_config": grpc_source(False, grpc_services=[{"envoy_grpc": {"cluster_name": "xds", "retry_policy": FAST_RETRY}}]),
        "cds_config": dict(ADS), "lds_config": dict(ADS)}
    return config


@pytest.mark.parametrize("mode", ["status", "grpc_status", "reset", "goaway"])
def test_a_failed_stream_is_opened_again_after_a_back_off(proxy, mode):
    """Whatever ends the stream (a non-200 head, a grpc-status, RST_STREAM,
    GOAWAY), the proxy counts the failure, shows it disconnected, and opens a
    new stream after its back-off."""
    server = BrokenControlPlane(mode)
    try:
        p = proxy(fast_retry_bootstrap(socket_address("127.0.0.1", server.port)), wait_ready=False)
        deadline = time.monotonic() + 10
        while server.streams < 3:
            assert time.monotonic() < deadline, f"{server.streams} streams"
            time.sleep(0.05)
        assert p.running()
        wait_stat(p, "cluster_manager.cds.update_failure", lambda v: v >= 2)
    finally:
        server.stop()


def test_a_refused_connection_is_retried(proxy):
    """Nothing listens where the xDS cluster points: each attempt fails
    (`update_failure`), the proxy keeps trying after its back-off and keeps
    running, waiting for its first config."""
    p = proxy(fast_retry_bootstrap(socket_address("127.0.0.1", free_port())), wait_ready=False)
    wait_stat(p, "cluster_manager.cds.update_failure", lambda v: v >= 5)
    assert p.running()
    status, _ = p.admin("GET", "/ready")
    assert status == 503


def test_delta_response_over_max_receive_message_length_ends_the_stream(proxy, control_plane, upstreams):
    """Delta: a response over `max_receive_message_length` ends the stream
    unread; the next stream presents only what was held before it."""
    cp = control_plane()
    backend = upstreams()
    port = serve_backend(cp, backend)
    config = ads_bootstrap(cp, True)
    config["dynamic_resources"]["ads_config"]["grpc_services"][0]["envoy_grpc"]["max_receive_message_length"] = 4096
    p = proxy(config)
    first = cp.wait_for(lambda r: r.type_url == CDS and r.is_ack)
    held = dict(cp._resources[CDS])
    cp.set(CDS, {f"big{i:03}": static_cluster(f"big{i:03}", backend.port) for i in range(100)})
    cp.push(CDS)
    again = cp.wait_for(lambda r: r.type_url == CDS and r.stream > first.stream and r.nonce == "", timeout=15)
    assert again.initial_resource_versions == {name: version for name, (_, version) in held.items()}
    assert echo(port) == b"ping"
    assert "cluster.big000.upstream_cx_total" not in p.stats()


# -- the xDS cluster: mTLS and a Unix socket ------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from tls_certs import make_pki
    return make_pki(tmp_path_factory.mktemp("pki"))


@MODES
def test_control_plane_over_mtls(proxy, control_plane, upstreams, pki, delta):
    """The xDS cluster has an UpstreamTlsContext (client certificate, the
    mesh CA, ALPN h2 as Istio sets it); the control plane requires a client
    certificate signed by that CA."""
    from tls_support import upstream_tls
    cp = control_plane(tls={"cert": pki.pem("server.crt").encode(), "key": pki.pem("server.key").encode(),
                            "ca": pki.pem("mesh-ca.crt").encode()})
    backend = upstreams()
    port = serve_backend(cp, backend)
    xds = xds_cluster(socket_address("127.0.0.1", cp.port),
                      transport_socket=upstream_tls(pki, cert="client", alpn=["h2"]))
    p = proxy(ads_bootstrap(cp, delta, xds=xds))
    assert echo(port) == b"ping"
    assert p.stats()["control_plane.connected_state"] == 1
    assert p.stats()["cluster.xds.ssl.handshake"] >= 1


def test_control_plane_refusing_the_client_certificate_is_retried(proxy, control_plane, pki):
    """Without a client certificate the control plane's handshake fails:
    each attempt counts a failure, the proxy waits for its first config."""
    from tls_support import upstream_tls
    cp = control_plane(tls={"cert": pki.pem("server.crt").encode(), "key": pki.pem("server.key").encode(),
                            "ca": pki.pem("mesh-ca.crt").encode()})
    xds = xds_cluster(socket_address("127.0.0.1", cp.port), transport_socket=upstream_tls(pki, cert=None, alpn=["h2"]))
    config = ads_bootstrap(cp, False, xds=xds)
    config["dynamic_resources"]["ads_config"]["grpc_services"][0]["envoy_grpc"]["retry_policy"] = FAST_RETRY
    p = proxy(config, wait_ready=False)
    wait_stat(p, "cluster_manager.cds.update_failure", lambda v: v >= 3)
    assert cp.requests == []
    status, _ = p.admin("GET", "/ready")
    assert status == 503


@MODES
def test_istio_shaped_xds_bootstrap(proxy, control_plane, upstreams, short_tmp, delta):
    """The xds-grpc cluster and ADS config as Istio's bootstrap template
    writes them: a `pipe` endpoint (Istio's agent serves xDS on
    ./etc/istio/proxy/XDS), `max_requests_per_connection: 1`,
    circuit breakers, TCP keep-alive, `initial_fetch_timeout: 0s` on CDS
    and LDS, `set_node_on_first_message_only`."""
    path = str(short_tmp / "XDS")
    cp = control_plane(unix_path=path)
    backend = upstreams()
    port = serve_backend(cp, backend)
    thresholds = {"max_connections": 100000, "max_pending_requests": 100000, "max_requests": 100000}
    xds = xds_cluster(support.pipe_address(path), lb_policy="ROUND_ROBIN", max_requests_per_connection=1,
                      circuit_breakers={"thresholds": [dict(thresholds, priority="DEFAULT"),
                                                       dict(thresholds, priority="HIGH")]},
                      upstream_connection_options={"tcp_keepalive": {"keepalive_time": 300}})
    xds["name"] = "xds-grpc"
    xds["load_assignment"]["cluster_name"] = "xds-grpc"
    config = ads_bootstrap(cp, delta, xds=xds)
    config["dynamic_resources"]["ads_config"]["grpc_services"][0]["envoy_grpc"]["cluster_name"] = "xds-grpc"
    for key in ("cds_config", "lds_config"):
        config["dynamic_resources"][key]["initial_fetch_timeout"] = "0s"
    p = proxy(config)
    assert echo(port) == b"ping"
    assert p.stats()["control_plane.connected_state"] == 1
    # One stream for everything, kept open.
    mark = len(cp.requests)
    cp.set(CDS, {"backend2": static_cluster("backend2", backend.port)})
    cp.push(CDS)
    ack = after(cp, mark, lambda r: r.type_url == CDS and r.is_ack)
    assert {r.stream for r in cp.requests} == {ack.stream}
