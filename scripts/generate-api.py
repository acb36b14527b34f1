#!/usr/bin/env python3
"""Regenerates Sources/RemoraAPI from Envoy's published v3 API.

Pinned inputs (change them here, then re-run; the output is byte-for-byte
reproducible from them):
  - xds-protos   (PyPI)  Envoy's API as Python _pb2 modules with embedded descriptors
  - grpcio-tools (PyPI)  protoc
  - protobuf     (PyPI)  google/protobuf/* descriptors
  - swift-protobuf 1.39.0 protoc-gen-swift (built from the package checkout)

Usage: scripts/generate-api.sh   (sets up a venv and the plugin, then runs this)

What it writes:
  Sources/RemoraAPI/Generated/*.pb.swift   swift-protobuf messages
  Sources/RemoraAPI/Generated/Schema.swift the field schema of every message
      (names, numbers, types) that the config loader walks to give field
      paths in errors, and the list of message types for the Any registry.
"""
import importlib
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOTS = [
    "envoy/config/bootstrap/v3/bootstrap.proto",
    "envoy/config/listener/v3/listener.proto",
    "envoy/config/cluster/v3/cluster.proto",
    "envoy/config/endpoint/v3/endpoint.proto",
    "envoy/config/route/v3/route.proto",
    "envoy/config/route/v3/route_components.proto",
    "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
    "envoy/extensions/filters/http/router/v3/router.proto",
    "envoy/extensions/filters/http/health_check/v3/health_check.proto",
    "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto",
    "envoy/extensions/transport_sockets/tls/v3/tls.proto",
    "envoy/extensions/transport_sockets/tls/v3/common.proto",
    "envoy/extensions/transport_sockets/tls/v3/secret.proto",
    "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto",
    "envoy/extensions/filters/network/rbac/v3/rbac.proto",
    "envoy/extensions/filters/http/rbac/v3/rbac.proto",
    "envoy/extensions/filters/http/fault/v3/fault.proto",
    "envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto",
    "envoy/extensions/filters/listener/original_dst/v3/original_dst.proto",
    "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto",
    "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto",
    "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
    "envoy/extensions/upstreams/tcp/v3/tcp_protocol_options.proto",
    "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto",
    "envoy/extensions/access_loggers/file/v3/file.proto",
    "envoy/extensions/access_loggers/stream/v3/stream.proto",
    "envoy/service/discovery/v3/ads.proto",
    "envoy/service/discovery/v3/discovery.proto",
]

# Types that SwiftProtobuf's runtime already provides.
RUNTIME_PREFIX = "google/protobuf/"


def module_for(proto_path):
    return proto_path[: -len(".proto")].replace("/", ".").replace("-", "_") + "_pb2"


def closure(roots):
    files = {}
    order = []

    def visit(path):
        if path in files:
            return
        mod = importlib.import_module(module_for(path))
        fdp = descriptor_pb2.FileDescriptorProto()
        fdp.ParseFromString(mod.DESCRIPTOR.serialized_pb)
        files[path] = fdp
        for dep in fdp.dependency:
            visit(dep)
        order.append(path)

    for r in roots:
        visit(r)
    return files, order


TYPE_CODES = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64",
    7: "fixed32", 8: "bool", 9: "string", 10: "group", 11: "message", 12: "bytes",
    13: "uint32", 14: "enum", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64",
}


def camel(name):
    """protoc's default json_name: lowerCamelCase of the field name."""
    out, upper = [], False
    for ch in name:
        if ch == "_":
            upper = True
        elif upper:
            out.append(ch.upper())
            upper = False
        else:
            out.append(ch)
    return "".join(out)


def schema_lines(files, order):
    """One line per message, field and enum:
      M <full.name> [map]
      F <name> <jsonName> <number> <type> <r|s> <typeName|-> <oneofName|-> [deprecated]
      E <full.name> <VALUE=number> ...
    """
    lines = []

    def walk_message(prefix, msg):
        full = f"{prefix}.{msg.name}" if prefix else msg.name
        is_map = msg.options.map_entry
        lines.append(f"M {full}{' map' if is_map else ''}")
        oneofs = [o.name for o in msg.oneof_decl]
        for f in msg.field:
            typ = TYPE_CODES[f.type]
            label = "r" if f.label == 3 else "s"
            tname = f.type_name.lstrip(".") if f.type_name else "-"
            oneof = "-"
            if f.HasField("oneof_index") and not f.proto3_optional:
                oneof = oneofs[f.oneof_index]
            dep = " deprecated" if f.options.deprecated else ""
            json_name = f.json_name or camel(f.name)
            lines.append(f"F {f.name} {json_name} {f.number} {typ} {label} {tname} {oneof}{dep}")
        for nested in msg.nested_type:
            walk_message(full, nested)
        for en in msg.enum_type:
            walk_enum(full, en)

    def walk_enum(prefix, en):
        full = f"{prefix}.{en.name}" if prefix else en.name
        vals = " ".join(f"{v.name}={v.number}" for v in en.value)
        lines.append(f"E {full} {vals}")

    for path in order:
        fdp = files[path]
        for msg in fdp.message_type:
            walk_message(fdp.package, msg)
        for en in fdp.enum_type:
            walk_enum(fdp.package, en)
    return lines


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    plugin = sys.argv[1]
    protoc = [sys.executable, "-m", "grpc_tools.protoc"]
    out_dir = os.path.join(repo, "Sources", "RemoraAPI", "Generated")

    files, order = closure(ROOTS)
    fds = descriptor_pb2.FileDescriptorSet()
    for path in order:
        fds.file.append(files[path])

    with tempfile.TemporaryDirectory() as tmp:
        set_path = os.path.join(tmp, "envoy.pb")
        with open(set_path, "wb") as fh:
            fh.write(fds.SerializeToString(deterministic=True))
        gen_dir = os.path.join(tmp, "out")
        os.makedirs(gen_dir)
        targets = sorted(p for p in order if not p.startswith(RUNTIME_PREFIX))
        subprocess.run(
            protoc
            + [
                f"--plugin=protoc-gen-swift={plugin}",
                f"--descriptor_set_in={set_path}",
                f"--swift_out={gen_dir}",
                "--swift_opt=FileNaming=PathToUnderscores",
                "--swift_opt=Visibility=Public",
            ]
            + targets,
            check=True,
        )
        if os.path.isdir(out_dir):
            for name in os.listdir(out_dir):
                os.remove(os.path.join(out_dir, name))
        os.makedirs(out_dir, exist_ok=True)
        message_types = []
        for name in sorted(os.listdir(gen_dir)):
            with open(os.path.join(gen_dir, name)) as fh:
                text = fh.read()
            message_types += re.findall(
                r"^(?:nonisolated )?extension (\S+): SwiftProtobuf\.Message, SwiftProtobuf\._MessageImplementationBase",
                text,
                flags=re.M,
            )
            with open(os.path.join(out_dir, name), "w") as fh:
                fh.write(text)

    lines = schema_lines(files, order)
    with open(os.path.join(out_dir, "Schema.swift"), "w") as fh:
        fh.write("// DO NOT EDIT. Written by scripts/generate-api.py from the pinned Envoy API.\n\n")
        fh.write("import SwiftProtobuf\n\n")
        fh.write("/// Every generated message type, for the `Any` registry and for unpacking by type URL.\n")
        fh.write("public let generatedMessageTypes: [any SwiftProtobuf.Message.Type] = [\n")
        for t in sorted(set(message_types)):
            fh.write(f"    {t}.self,\n")
        fh.write("]\n\n")
        fh.write("/// Field schema of every message and enum in the API closure, one record per line\n")
        fh.write("/// (see scripts/generate-api.py for the format).\n")
        fh.write("public let generatedSchemaText: String = \"\"\"\n")
        for line in lines:
            fh.write(line.replace("\\", "\\\\") + "\n")
        fh.write("\"\"\"\n")
    print(f"{len(order)} files, {len(message_types)} message types, {len(lines)} schema lines")


if __name__ == "__main__":
    main()
