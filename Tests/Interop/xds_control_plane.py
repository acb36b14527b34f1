"""A small xDS management server for tests (grpcio + the published protos,
`xds-protos` on PyPI). It serves, on 127.0.0.1 (port 0 unless given):

- ADS, state of the world and Delta (AggregatedDiscoveryService
  StreamAggregatedResources / DeltaAggregatedResources);
- the per-type services of `api_config_source` (ListenerDiscoveryService
  StreamListeners / DeltaListeners, Route…, Cluster…, Endpoint…, Secret…).

In pytest (in-process, a thread):

    from xds_control_plane import ControlPlane, LDS, CDS
    cp = ControlPlane().start()                 # cp.port
    cp.set(CDS, {"c1": cluster_pb2.Cluster(name="c1", ...)})   # or LDS, "cds", a type URL
    cp.push()                                   # every open stream gets it
    cp.push(EDS, names=["c1"])                  # only EDS; SotW: only c1's assignment
    cp.remove(CDS, ["c1"]); cp.push()
    cp.wait_for(lambda r: r.type_url == CDS and r.is_ack, timeout=5)
    cp.requests                                 # every request, in order (Recorded)
    cp.stop(); cp.start()                       # the same port again
    cp.send_raw(CDS, response)                  # a hand-made (SotW or Delta) response
    ControlPlane(tls={"cert":…, "key":…, "ca":…}, unix_path=…)  # mTLS; a Unix socket too
    cp.reject_streams = (grpc.StatusCode.UNAVAILABLE, "down")    # end each new stream at once
    cp.silent.add(LDS)                          # never answer LDS requests

What it answers:
- State of the world: a response with every resource of the type (wildcard:
  no names asked) or with the names asked, on a stream's first request of a
  type, when the names asked change, and on push(). `version_info` is the
  type's version (a counter moved by set/remove); nonces are unique. ACKs and
  NACKs get no answer.
- Delta: on a stream's first request of a type (always, even empty), when
  the subscription changes, and on push(): the resources whose version the
  client does not hold (its `initial_resource_versions` count), and
  `removed_resources` for names it holds that are gone. Resource versions are
  per name (a counter moved when the resource changes).

`Recorded` has: stream (a number per stream), method, delta, type_url,
request (the proto), and is_ack / is_nack / error_message / nonce /
version_info / names / subscribe / unsubscribe / initial_resource_versions.

As a process (`python xds_control_plane.py [port]`, for the Swift tests): it
prints `PORT <n>`, then takes one JSON command a line on stdin and answers one
JSON line: {"op":"set","type":"cds","resources":{name: <proto JSON>}},
{"op":"remove","type":"cds","names":[...]}, {"op":"push"} (optional "types",
"names" as push() takes them), {"op":"stop"},
{"op":"start"}, {"op":"requests"} (answers {"requests":[...]}, each with the
fields above and the request as proto JSON), {"op":"wait","count":n,
"timeout":s}, {"op":"versions"} (answers {"versions":{name: version}}),
{"op":"raw","type":"cds","delta":false,"response":{...}}.
It exits when stdin closes.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from concurrent import futures
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, json_format

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from envoy.service.cluster.v3 import cds_pb2_grpc
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from envoy.service.endpoint.v3 import eds_pb2_grpc
from envoy.service.listener.v3 import lds_pb2_grpc
from envoy.service.route.v3 import rds_pb2_grpc
from envoy.service.secret.v3 import sds_pb2_grpc
# Extensions a test's resources name in typed_config, so that proto JSON
# (json_format.ParseDict) finds their descriptors; add more as tests need.
from envoy.extensions.filters.http.router.v3 import router_pb2  # noqa: F401
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2  # noqa: F401
from envoy.extensions.filters.network.tcp_proxy.v3 import tcp_proxy_pb2  # noqa: F401
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2  # noqa: F401
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2  # noqa: F401

_PREFIX = "type.googleapis.com/"
LDS = _PREFIX + "envoy.config.listener.v3.Listener"
RDS = _PREFIX + "envoy.config.route.v3.RouteConfiguration"
CDS = _PREFIX + "envoy.config.cluster.v3.Cluster"
EDS = _PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment"
SDS = _PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret"
WILDCARD_TYPES = (LDS, CDS)
MESSAGE_CLASSES = {
    LDS: listener_pb2.Listener, RDS: route_pb2.RouteConfiguration, CDS: cluster_pb2.Cluster,
    EDS: endpoint_pb2.ClusterLoadAssignment, SDS: secret_pb2.Secret,
}
_SHORT = {"lds": LDS, "rds": RDS, "cds": CDS, "eds": EDS, "sds": SDS}


def type_url(kind: str) -> str:
    """"cds", "CDS" or a full type URL -> the type URL."""
    return _SHORT.get(kind.lower(), kind)


@dataclass
class Recorded:
    stream: int
    method: str
    delta: bool
    request: object

    @property
    def type_url(self):
        return self.request.type_url

    @property
    def nonce(self):
        return self.request.response_nonce

    @property
    def is_nack(self):
        return self.request.HasField("error_detail")

    @property
    def is_ack(self):
        return bool(self.request.response_nonce) and not self.is_nack

    @property
    def error_message(self):
        return self.request.error_detail.message if self.is_nack else None

    @property
    def version_info(self):
        return None if self.delta else self.request.version_info

    @property
    def names(self):
        return None if self.delta else list(self.request.resource_names)

    @property
    def subscribe(self):
        return list(self.request.resource_names_subscribe) if self.delta else None

    @property
    def unsubscribe(self):
        return list(self.request.resource_names_unsubscribe) if self.delta else None

    @property
    def initial_resource_versions(self):
        return dict(self.request.initial_resource_versions) if self.delta else None

    def to_json(self):
        return {
            "stream": self.stream, "method": self.method, "delta": self.delta, "type_url": self.type_url,
            "nonce": self.nonce, "is_ack": self.is_ack, "is_nack": self.is_nack, "error_message": self.error_message,
            "error_code": self.request.error_detail.code if self.is_nack else None,
            "version_info": self.version_info, "names": self.names, "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe, "initial_resource_versions": self.initial_resource_versions,
            "has_node": self.request.HasField("node"),
            "request": json_format.MessageToDict(self.request, preserving_proto_field_name=True),
        }


class _Stream:
    """One client stream: reads requests on a thread, answers through a queue."""

    def __init__(self, cp: "ControlPlane", number: int, method: str, delta: bool, only_type: str | None):
        self.cp, self.number, self.method, self.delta, self.only_type = cp, number, method, delta, only_type
        self.out: queue.Queue = queue.Queue()
        self.names: dict[str, set] = {}        # SotW: type -> names asked (empty: wildcard)
        self.wildcard: dict[str, bool] = {}    # Delta: type -> wildcard subscription
        self.held: dict[str, dict] = {}        # Delta: type -> {name: version the client holds}

    def serve(self, requests):
        threading.Thread(target=self._read, args=(requests,), daemon=True).start()
        while True:
            item = self.out.get()
            if item is None:
                return
            yield item

    def _read(self, requests):
        try:
            for request in requests:
                url = request.type_url or self.only_type
                with self.cp._lock:
                    self.cp.requests.append(Recorded(self.number, self.method, self.delta, request))
                    self.cp._changed.notify_all()
                    if self.delta:
                        self._delta_request(url, request)
                    else:
                        self._sotw_request(url, request)
        except grpc.RpcError:
            pass
        finally:
            self.out.put(None)
            with self.cp._lock:
                if self in self.cp._streams:
                    self.cp._streams.remove(self)

    # State of the world.
    def _sotw_request(self, url, request):
        names = set(request.resource_names)
        if url not in self.names or self.names[url] != names:
            self.names[url] = names
            self._sotw_send(url)

    def _sotw_send(self, url, only=None):
        if url in self.cp.silent:
            return
        resources = self.cp._resources.get(url, {})
        asked = self.names.get(url)
        response = discovery_pb2.DiscoveryResponse(
            version_info=str(self.cp._versions.get(url, 0)), type_url=url, nonce=self.cp._nonce())
        if self.cp.identifier is not None:
            response.control_plane.identifier = self.cp.identifier
        for name in sorted(resources):
            if (not asked or name in asked) and (only is None or name in only):
                response.resources.append(resources[name][0])
        self.out.put(response)

    # Delta.
    def _delta_request(self, url, request):
        first = url not in self.held
        held = self.held.setdefault(url, {})
        if first:
            held.update(request.initial_resource_versions)
            subscribe = set(request.resource_names_subscribe)
            self.wildcard[url] = "*" in subscribe or (not subscribe and url in WILDCARD_TYPES)
        for name in request.resource_names_subscribe:
            if name == "*":
                self.wildcard[url] = True
            else:
                self.names.setdefault(url, set()).add(name)
        for name in request.resource_names_unsubscribe:
            if name == "*":
                self.wildcard[url] = False
            else:
                self.names.setdefault(url, set()).discard(name)
                held.pop(name, None)
        if first or request.resource_names_subscribe or request.resource_names_unsubscribe:
            self._delta_send(url, always=first)

    def _delta_send(self, url, always=False):
        if url in self.cp.silent:
            return
        resources = self.cp._resources.get(url, {})
        held = self.held.setdefault(url, {})
        wanted = self.names.get(url, set())
        response = discovery_pb2.DeltaDiscoveryResponse(
            system_version_info=str(self.cp._versions.get(url, 0)), type_url=url)
        if self.cp.identifier is not None:
            response.control_plane.identifier = self.cp.identifier
        for name in sorted(resources):
            if (self.wildcard.get(url) or name in wanted) and held.get(name) != resources[name][1]:
                any_, version = resources[name]
                response.resources.append(discovery_pb2.Resource(name=name, version=version, resource=any_))
                held[name] = version
        for name in sorted(held):
            if name not in resources:
                response.removed_resources.append(name)
                del held[name]
        if always or response.resources or response.removed_resources:
            response.nonce = self.cp._nonce()
            self.out.put(response)

    def push(self, urls=None, names=None):
        for url in (list(self.held) if self.delta else list(self.names)):
            if urls is not None and url not in urls:
                continue
            if self.delta:
                self._delta_send(url)
            else:
                self._sotw_send(url, None if url in WILDCARD_TYPES else names)


class ControlPlane:
    def __init__(self, port: int = 0, tls: dict | None = None, unix_path: str | None = None):
        """``tls``: {"cert": pem, "key": pem, "ca": pem or None} serves with TLS
        (with "ca", clients must present a certificate it signed: mTLS).
        ``unix_path``: serve on that Unix socket as well."""
        self.tls = tls
        self.unix_path = unix_path
        # When set, (grpc.StatusCode, message): every new stream is ended with
        # it at once (after its start is noted in stream_starts).
        self.reject_streams = None
        self.stream_starts: list[float] = []   # time.monotonic() of each stream
        self.stream_metadata: list[dict] = []   # each stream's request headers
        self.silent: set[str] = set()           # type URLs never answered
        self.port = port
        self.requests: list[Recorded] = []
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._resources: dict[str, dict] = {}   # type -> {name: (Any, version)}
        self._versions: dict[str, int] = {}     # type -> version counter
        self._counter = 0
        self._streams: list[_Stream] = []
        self._stream_numbers = 0
        self._server = None
        self.identifier: str | None = None  # sent as control_plane.identifier when set

    def _nonce(self):
        self._counter += 1
        return str(self._counter)

    # Resources.
    def set(self, kind: str, resources: dict):
        """Adds or replaces resources ({name: message}) of a type."""
        url = type_url(kind)
        with self._lock:
            current = self._resources.setdefault(url, {})
            for name, message in resources.items():
                packed = any_pb2.Any()
                packed.Pack(message)
                if name not in current or current[name][0] != packed:
                    self._counter += 1
                    current[name] = (packed, str(self._counter))
            self._versions[url] = self._versions.get(url, 0) + 1
        return self

    def remove(self, kind: str, names):
        url = type_url(kind)
        with self._lock:
            for name in names:
                self._resources.get(url, {}).pop(name, None)
            self._versions[url] = self._versions.get(url, 0) + 1
        return self

    def push(self, *kinds, names=None):
        """Sends the current resources to every open stream that asked for
        them; only of the types given, if any. With `names`, a state-of-the-world
        RDS/EDS/SDS response holds only those resources (the protocol lets
        these types send what changed; LDS and CDS always send everything)."""
        urls = {type_url(k) for k in kinds} or None
        with self._lock:
            for stream in list(self._streams):
                stream.push(urls, None if names is None else set(names))

    def send_raw(self, kind: str, response):
        """Sends a hand-made DiscoveryResponse (SotW streams) or DeltaDiscoveryResponse (Delta streams)."""
        delta = isinstance(response, discovery_pb2.DeltaDiscoveryResponse)
        with self._lock:
            for stream in self._streams:
                if stream.delta == delta and type_url(kind) in (stream.held if delta else stream.names):
                    stream.out.put(response)

    # Requests.
    def wait_for(self, predicate, timeout=10.0):
        """The first recorded request that satisfies predicate (waiting for it), or AssertionError."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for r in self.requests:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching xDS request in {timeout}s; got {[r.to_json() for r in self.requests]}")
                self._changed.wait(left)

    def wait_count(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count and time.monotonic() < deadline:
                self._changed.wait(max(0.0, deadline - time.monotonic()))
            return len(self.requests)

    # Serving.
    def start(self):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(self._servicer(None, "Aggregated", "Resources"), server)
        for module, service, noun, url in (
            (lds_pb2_grpc, "ListenerDiscoveryService", "Listeners", LDS),
            (rds_pb2_grpc, "RouteDiscoveryService", "Routes", RDS),
            (cds_pb2_grpc, "ClusterDiscoveryService", "Clusters", CDS),
            (eds_pb2_grpc, "EndpointDiscoveryService", "Endpoints", EDS),
            (sds_pb2_grpc, "SecretDiscoveryService", "Secrets", SDS),
        ):
            getattr(module, f"add_{service}Servicer_to_server")(self._servicer(url, "", noun), server)
        if self.tls is not None:
            ca = self.tls.get("ca")
            credentials = grpc.ssl_server_credentials(
                [(self.tls["key"], self.tls["cert"])], root_certificates=ca, require_client_auth=ca is not None)
            self.port = server.add_secure_port(f"127.0.0.1:{self.port}", credentials)
        else:
            self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        if self.unix_path is not None:
            server.add_insecure_port(f"unix:{self.unix_path}")
        server.start()
        self._server = server
        return self

    def stop(self):
        """Closes every stream and stops serving (start() serves the same port again)."""
        with self._lock:
            streams, self._streams = self._streams, []
        for stream in streams:
            stream.out.put(None)
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None

    def _servicer(self, only_type, stream_word, noun):
        cp = self

        def handler(delta):
            method = ("Delta" if delta else "Stream") + (stream_word or "") + noun

            def serve(request_iterator, context):
                with cp._lock:
                    cp.stream_starts.append(time.monotonic())
                    cp.stream_metadata.append(dict(context.invocation_metadata()))
                    rejection = cp.reject_streams
                if rejection is not None:
                    context.abort(*rejection)
                with cp._lock:
                    cp._stream_numbers += 1
                    stream = _Stream(cp, cp._stream_numbers, method, delta, only_type)
                    cp._streams.append(stream)
                yield from stream.serve(request_iterator)
            return serve

        class Servicer:
            pass
        if only_type is None:
            Servicer.StreamAggregatedResources = staticmethod(handler(False))
            Servicer.DeltaAggregatedResources = staticmethod(handler(True))
        else:
            setattr(Servicer, f"Stream{noun}", staticmethod(handler(False)))
            setattr(Servicer, f"Delta{noun}", staticmethod(handler(True)))
            setattr(Servicer, f"Fetch{noun}", staticmethod(
                lambda request, context: context.abort(grpc.StatusCode.UNIMPLEMENTED, "fetch is not served")))
        return Servicer()


def _main():
    cp = ControlPlane(int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print(f"PORT {cp.port}", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        op = command["op"]
        answer: dict = {"ok": True}
        try:
            if op == "set":
                url = type_url(command["type"])
                cp.set(url, {name: json_format.ParseDict(body, MESSAGE_CLASSES[url]())
                             for name, body in command["resources"].items()})
            elif op == "remove":
                cp.remove(command["type"], command["names"])
            elif op == "push":
                cp.push(*command.get("types", []), names=command.get("names"))
            elif op == "stop":
                cp.stop()
            elif op == "start":
                cp.start()
            elif op == "wait":
                answer["count"] = cp.wait_count(command["count"], command.get("timeout", 10.0))
            elif op == "requests":
                with cp._lock:
                    answer["requests"] = [r.to_json() for r in cp.requests]
            elif op == "versions":
                with cp._lock:
                    answer["versions"] = {name: version for resources in cp._resources.values()
                                          for name, (_, version) in resources.items()}
            elif op == "raw":
                message = discovery_pb2.DeltaDiscoveryResponse() if command.get("delta") else discovery_pb2.DiscoveryResponse()
                cp.send_raw(command["type"], json_format.ParseDict(command["response"], message))
            else:
                answer = {"ok": False, "error": f"unknown op {op}"}
        except Exception as error:  # the test hears it instead of a hang
            answer = {"ok": False, "error": repr(error)}
        print(json.dumps(answer), flush=True)
    cp.stop()


if __name__ == "__main__":
    _main()
