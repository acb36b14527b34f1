"""Envoy's per-certificate gauges,
`listener.<addr>.ssl.certificate.<name>.expiration_unix_time_seconds` and
`cluster.<name>.ssl.certificate.<name>.expiration_unix_time_seconds`: one
per certificate and one for the trusted CA (its first certificate), valued
at its `notAfter`. The name is the secret's name as given (dots, colons and
all), or `unnamed_cert_` / `unnamed_ca_cert_` with the first 8 hex digits of
the SHA-256 of the source's `inline_bytes` (of nothing, for a file or an
`inline_string`). An SDS rotation sets the gauge to the new certificate's
expiry. The same tests run against Envoy 1.40 (PROXY_KIND=envoy)."""

from __future__ import annotations

import base64
import calendar
import hashlib
import subprocess
import time

import pytest

from support import free_port, stat_addr
from tls_certs import _leaf, make_pki, spiffe
from tls_support import downstream_tls, tls_tcp_config, upstream_tls
from test_tls_sds import make_version, sds_config, swap_data, watched_workload_secret

EMPTY = hashlib.sha256(b"").hexdigest()[:8]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    _leaf("short", "mesh-ca", [f"URI:{spiffe('default', 'short')}"], pki.root, days=3)
    return pki


def not_after(path: str) -> int:
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-enddate"], capture_output=True, check=True,
                         text=True).stdout.strip().split("=", 1)[1]
    return calendar.timegm(time.strptime(out.replace("  ", " "), "%b %d %H:%M:%S %Y %Z"))


def expiry(prefix: str, name: str) -> str:
    return f"{prefix}.ssl.certificate.{name}.expiration_unix_time_seconds"


def test_files_name_unnamed_certificates(proxy, admin_port, upstreams, pki):
    up = upstreams()
    port = free_port()
    p = proxy(tls_tcp_config(admin_port, port, up.address, downstream_tls(pki), upstream_tls(pki, cert="client")))
    listener = f"listener.{stat_addr('127.0.0.1', port)}"
    stats = p.stats()
    expected = {
        expiry(listener, f"unnamed_cert_{EMPTY}"): not_after(pki.path("server.crt")),
        expiry(listener, f"unnamed_ca_cert_{EMPTY}"): not_after(pki.path("mesh-ca.crt")),
        expiry("cluster.backend", f"unnamed_cert_{EMPTY}"): not_after(pki.path("client.crt")),
        expiry("cluster.backend", f"unnamed_ca_cert_{EMPTY}"): not_after(pki.path("mesh-ca.crt")),
    }
    assert {k: stats.get(k) for k in expected} == expected
    assert sorted(k for k in stats if ".ssl.certificate." in k) == sorted(expected)
    # Prometheus takes the certificate's name as a tag.
    status, body = p.admin("GET", "/stats/prometheus")
    assert status == 200
    assert (f'envoy_listener_ssl_certificate_expiration_unix_time_seconds{{envoy_tls_certificate="unnamed_cert_{EMPTY}",'
            f'envoy_listener_address="{stat_addr("127.0.0.1", port)}"}} {not_after(pki.path("server.crt"))}') in body.decode()


def test_inline_bytes_hash_and_secrets_keep_their_names(proxy, admin_port, upstreams, pki):
    up = upstreams()
    port = free_port()
    server_pem = open(pki.path("server.crt"), "rb").read()
    transport = downstream_tls(pki, require_client=False, ca=False)
    common = transport["typed_config"]["common_tls_context"]
    common["tls_certificates"][0]["certificate_chain"] = {"inline_bytes": base64.b64encode(server_pem).decode()}
    common["validation_context_sds_secret_config"] = {"name": "ca.secret:x/y"}
    cluster = upstream_tls(pki, cert=None, ca=False)
    cluster_common = cluster["typed_config"]["common_tls_context"]
    cluster_common["tls_certificate_sds_secret_configs"] = [{"name": "client.cert:v1"}]
    cluster_common["validation_context"] = {"trusted_ca": {"inline_string": open(pki.path("mesh-ca.crt")).read()}}
    cfg = tls_tcp_config(admin_port, port, up.address, transport, cluster)
    cfg["static_resources"]["secrets"] = [
        {"name": "ca.secret:x/y", "validation_context": {"trusted_ca": {"filename": pki.path("mesh-ca.crt")}}},
        {"name": "client.cert:v1", "tls_certificate": {"certificate_chain": {"filename": pki.path("short.crt")},
                                                         "private_key": {"filename": pki.path("short.key")}}}]
    p = proxy(cfg)
    listener = f"listener.{stat_addr('127.0.0.1', port)}"
    stats = p.stats()
    expected = {
        expiry(listener, "unnamed_cert_" + hashlib.sha256(server_pem).hexdigest()[:8]): not_after(pki.path("server.crt")),
        expiry(listener, "ca.secret:x/y"): not_after(pki.path("mesh-ca.crt")),
        expiry("cluster.backend", "client.cert:v1"): not_after(pki.path("short.crt")),
        expiry("cluster.backend", f"unnamed_ca_cert_{EMPTY}"): not_after(pki.path("mesh-ca.crt")),
    }
    assert {k: stats.get(k) for k in expected} == expected
    assert sorted(k for k in stats if ".ssl.certificate." in k) == sorted(expected)


def test_an_sds_rotation_sets_the_new_expiry(proxy, admin_port, upstreams, pki, tmp_path):
    certs, sds = watched_workload_secret(tmp_path, pki)
    up = upstreams()
    port = free_port()
    p = proxy(sds_config(admin_port, port, up.address, sds))
    gauge = expiry(f"listener.{stat_addr('127.0.0.1', port)}", "workload")
    p.wait_for_stats({gauge: not_after(pki.path("server.crt"))})
    make_version(certs, "v2", pki, "short", "short")
    swap_data(certs, "v2")
    p.wait_for_stats({gauge: not_after(pki.path("short.crt"))})
