#!/usr/bin/env bash
# The whole test suite: unit tests (swift test), then the integration tests
# that run the real remora binary against real peers on loopback (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-python

echo "== build"
swift build --build-tests
echo "== unit tests"
swift test --skip-build --parallel
echo "== fuzzing (bounded: HTTP/1 parser 20 s, bootstrap loader 10 s)"
scripts/fuzz.sh 20
echo "== integration tests"
PROXY_BIN="$PWD/.build/debug/remora" .venv/bin/python -m pytest -q Tests/Interop
