#!/usr/bin/env bash
# Bounded fuzzing of the HTTP/1 parser, for CI: random and mutated inputs
# seeded from Tests/Fuzz/corpus/http1/, checked for crashes, hangs and broken
# invariants (see Tests/RemoraHTTPTests/HTTP1FuzzTests.swift).
#
#   scripts/fuzz.sh [SECONDS]        default 20
#
# Environment: REMORA_FUZZ_SEED (replay a run), REMORA_FUZZ_SCRATCH (build
# directory, default .build), REMORA_FUZZ_FAILURES (where failing inputs are
# written, default .build/fuzz-failures). Replay one saved input with
# REMORA_FUZZ_INPUT=path scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${REMORA_FUZZ_SECONDS:-20}}"
scratch="${REMORA_FUZZ_SCRATCH:-.build}"
export REMORA_FUZZ_SECONDS="$seconds"
export REMORA_FUZZ_FAILURES="${REMORA_FUZZ_FAILURES:-$PWD/$scratch/fuzz-failures}"
: "${REMORA_FUZZ_SEED:=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
export REMORA_FUZZ_SEED

echo "== build"
swift build --scratch-path "$scratch" --build-tests
echo "== fuzz HTTP/1 parser for ${seconds}s (seed $REMORA_FUZZ_SEED)"
# A hang is a failure too: give the run a hard ceiling.
timeout --signal=KILL "$((${seconds%.*} + 120))" \
    swift test --scratch-path "$scratch" --skip-build --filter 'HTTP1FuzzTests'
