#!/usr/bin/env bash
# Installs what is missing, builds a release binary, and runs Remora.
# The Swift runtime and Foundation are linked in (--static-swift-stdlib), as
# the Dockerfile ships it: no dynamic symbol lookups into ten Swift libraries
# at start-up, a lower resident set and a little less CPU per request.
# Without arguments it runs the embedded default config: admin on
# 127.0.0.1:9901 and a TCP proxy on 127.0.0.1:10000 whose upstream is that
# admin server (try: curl http://127.0.0.1:10000/server_info).
# With arguments they go to remora unchanged: scripts/run.sh -c my-envoy.yaml
# The working directory stays the caller's, so a relative -c/--config-path
# (or any other relative path) names a file where the caller stands.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
swift build -c release --product remora --static-swift-stdlib --package-path "$root"
exec "$root/.build/release/remora" "$@"
