# Remora's sidecar image: the proxy and the capture scripts, one image for the
# sidecar container and its init container (as Istio's proxyv2 is for both).
#
#   docker build -t remora:dev .
#
# The build stage does what scripts/ does on a Debian machine with the Swift
# toolchain (setup.sh's build packages, run.sh's release build), and links the
# Swift runtime statically, so the runtime stage needs only Debian's libuv,
# OpenSSL, nghttp2 and RE2. Both stages are bookworm, so the library versions
# the binary was linked against are the ones it runs with.
#
# No container runtime runs where this project is developed and tested:
# Tests/Interop/test_packaging.py checks this file statically (stages, package
# lists against setup.sh, the build command against run.sh, the user against
# deploy/).

FROM swift:6.3.1-bookworm AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh --build-only
COPY Package.swift ./
RUN swift package resolve
# SwiftPM wants the directory of every target Package.swift declares, tests too.
COPY Sources Sources
COPY Tests Tests
# Debug info out (129 MB -> 102 MB), symbols kept for crash backtraces.
RUN swift build -c release --product remora --static-swift-stdlib \
    && install -D -m 0755 .build/release/remora /out/remora \
    && strip --strip-debug /out/remora

FROM debian:bookworm-slim
# The libraries the binary links (libuv1-dev, libssl-dev, libnghttp2-dev and
# libre2-dev's runtime packages), and what remora-iptables runs: iptables,
# ip6tables (nft or legacy backend) and ip.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libuv1 libssl3 libnghttp2-14 libre2-9 iptables iproute2 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1337 remora \
    && useradd --uid 1337 --gid 1337 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin remora
COPY --from=build /out/remora /usr/local/bin/remora
# remora-clean-iptables runs remora-iptables from its own directory.
COPY iptables/remora-iptables iptables/remora-clean-iptables /usr/local/bin/
# The sidecar runs as 1337, the uid remora-iptables leaves uncaptured; the init
# container overrides it with runAsUser 0 (deploy/httpbin.yaml).
USER 1337:1337
ENTRYPOINT ["/usr/local/bin/remora"]
