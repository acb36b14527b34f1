#!/usr/bin/env bash
# Bounded fuzzing for CI: random and mutated inputs, checked for crashes,
# hangs and broken invariants.
#   http1      the HTTP/1 parser, seeded from Tests/Fuzz/corpus/http1/
#              (Tests/RemoraHTTPTests/HTTP1FuzzTests.swift), for SECONDS;
#   bootstrap  the bootstrap loader, YAML text and binary protobuf, seeded
#              from Tests/Fuzz/corpus/bootstrap/
#              (Tests/RemoraConfigTests/BootstrapFuzzTests.swift), for
#              REMORA_FUZZ_BOOTSTRAP_SECONDS (default 10);
#   tls        the TLS inspector's ClientHello parser, seeded from
#              Tests/Fuzz/corpus/tls/
#              (Tests/RemoraFiltersTests/TLSClientHelloFuzzTests.swift), for
#              REMORA_FUZZ_TLS_SECONDS (default 10).
#
#   scripts/fuzz.sh [SECONDS] [all|http1|bootstrap|tls]     defaults: 20, all
#
# Environment: REMORA_FUZZ_SEED (replay a run), REMORA_FUZZ_SCRATCH (build
# directory, default .build), REMORA_FUZZ_FAILURES (where failing inputs are
# written, default .build/fuzz-failures). Replay one saved input with
# REMORA_FUZZ_INPUT=path scripts/fuzz.sh 0 http1 (or bootstrap, or tls; a
# `.pb` file is a binary bootstrap). After a crash of the bootstrap fuzzer, its
# input is in the failures directory as bootstrap-current.yaml or .pb.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${REMORA_FUZZ_SECONDS:-20}}"
target="${2:-all}"
bootstrap_seconds="${REMORA_FUZZ_BOOTSTRAP_SECONDS:-10}"
tls_seconds="${REMORA_FUZZ_TLS_SECONDS:-10}"
scratch="${REMORA_FUZZ_SCRATCH:-.build}"
export REMORA_FUZZ_FAILURES="${REMORA_FUZZ_FAILURES:-$PWD/$scratch/fuzz-failures}"
: "${REMORA_FUZZ_SEED:=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
export REMORA_FUZZ_SEED

case "$target" in all|http1|bootstrap|tls) ;; *) echo "unknown target '$target' (all, http1, bootstrap, tls)" >&2; exit 2 ;; esac

echo "== build"
swift build --scratch-path "$scratch" --build-tests
# A hang is a failure too: each run gets a hard ceiling.
if [ "$target" = all ] || [ "$target" = http1 ]; then
    echo "== fuzz HTTP/1 parser for ${seconds}s (seed $REMORA_FUZZ_SEED)"
    REMORA_FUZZ_SECONDS="$seconds" timeout --signal=KILL "$((${seconds%.*} + 120))" \
        swift test --scratch-path "$scratch" --skip-build --filter 'HTTP1FuzzTests'
fi
if [ "$target" = all ] || [ "$target" = bootstrap ]; then
    [ "$target" = bootstrap ] && bootstrap_seconds="${1:-$bootstrap_seconds}"
    echo "== fuzz bootstrap loader for ${bootstrap_seconds}s (seed $REMORA_FUZZ_SEED)"
    REMORA_FUZZ_SECONDS="$bootstrap_seconds" timeout --signal=KILL "$((${bootstrap_seconds%.*} + 120))" \
        swift test --scratch-path "$scratch" --skip-build --filter 'BootstrapFuzzTests/fuzz'
fi
if [ "$target" = all ] || [ "$target" = tls ]; then
    [ "$target" = tls ] && tls_seconds="${1:-$tls_seconds}"
    echo "== fuzz TLS ClientHello parser for ${tls_seconds}s (seed $REMORA_FUZZ_SEED)"
    REMORA_FUZZ_SECONDS="$tls_seconds" timeout --signal=KILL "$((${tls_seconds%.*} + 120))" \
        swift test --scratch-path "$scratch" --skip-build --filter 'TLSClientHelloFuzzTests/fuzz'
fi
