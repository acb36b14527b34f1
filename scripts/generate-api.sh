#!/usr/bin/env bash
# Regenerates Sources/RemoraAPI/Generated from pinned inputs. CI never runs
# this: the generated code is committed. Run it after changing the pins or
# the list of roots in scripts/generate-api.py, then commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

XDS_PROTOS=1.85.0
GRPCIO_TOOLS=1.85.1
PROTOBUF=7.36.2
SWIFT_PROTOBUF=1.39.0

venv=.build-api/venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q --disable-pip-version-check \
    "xds-protos==$XDS_PROTOS" "grpcio-tools==$GRPCIO_TOOLS" "protobuf==$PROTOBUF"

# protoc-gen-swift from the same swift-protobuf release the package depends on.
swift package resolve
src=.build/checkouts/swift-protobuf
[ "$(git -C "$src" describe --tags --exact-match 2>/dev/null || true)" = "$SWIFT_PROTOBUF" ] || {
    echo "expected swift-protobuf $SWIFT_PROTOBUF in $src" >&2; exit 1; }
swift build -c release --package-path "$src" --scratch-path .build-api/plugin --product protoc-gen-swift
plugin=$(swift build -c release --package-path "$src" --scratch-path .build-api/plugin --show-bin-path)/protoc-gen-swift

"$venv/bin/python" scripts/generate-api.py "$plugin"
