#!/usr/bin/env bash
# Installs what building and testing Remora needs on a Debian machine with the
# Swift toolchain: the C libraries (libuv, OpenSSL, nghttp2, RE2), the test
# peers (curl, nghttp2-client), and a Python venv with the test tools.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libuv1-dev libssl-dev libnghttp2-dev libre2-dev curl nghttp2-client openssl python3-venv procps)
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

if [ "${1:-}" = "--with-python" ]; then
    venv=.venv
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c "import pytest" 2>/dev/null || [ Tests/Interop/requirements.txt -nt "$venv/.installed" ]; then
        "$venv/bin/pip" install -q --disable-pip-version-check -r Tests/Interop/requirements.txt
        touch "$venv/.installed"
    fi
fi
