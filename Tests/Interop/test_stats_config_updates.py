"""Config-update stats as Envoy 1.40 lists them: every cluster has
`ClusterConfigUpdateStats` (`update_attempt`, `update_empty`,
`update_no_rebuild`, `assignment_*`, `version`, `warming_state`), an EDS
cluster's subscription counts its start as an attempt and times each
update (`update_duration`), CDS counts `config_reload` for an update that
added or changed a cluster, RDS counts `update_empty` when a
state-of-the-world update leaves its table out, and a TLS listener lists
its `ssl.*` only once its context has its secrets.

Both proxies run it (PROXY_KIND=envoy for Envoy 1.40)."""

from __future__ import annotations

import time

import support
from support import free_port
from http_support import get
from test_xds_listeners import xds  # noqa: F401 (fixture)
from test_xds_scenarios import ads_bootstrap, assignment, eds_cluster, serve_one_service, upstream_counts
from test_tls_sds_grpc import config as sds_config, peer, secret
from tls_certs import make_pki
from tls_support import downstream_tls, tls_tcp_config
from xds_control_plane import CDS, EDS, RDS, SDS, ControlPlane

CONFIG_UPDATE_STATS = {"assignment_stale": 0, "assignment_timeout_received": 0, "assignment_use_cached": 0,
                       "update_attempt": 0, "update_empty": 0, "update_failure": 0, "update_no_rebuild": 0,
                       "update_success": 0, "version": 0, "warming_state": 0}


def listed(p, prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in p.stats().items() if k.startswith(prefix)}


def test_static_cluster_lists_config_update_stats(proxy, upstreams, admin_port):
    port = free_port()
    p = proxy(support.simple_config(admin_port, port, [upstreams().address], cluster_name="backend"))
    stats = listed(p, "cluster.backend.")
    assert {k: stats.get(k) for k in CONFIG_UPDATE_STATS} == CONFIG_UPDATE_STATS
    # Those of a subscription are an EDS cluster's only.
    for name in ("update_rejected", "update_time", "init_fetch_timeout", "update_duration"):
        assert name not in stats


def wait_stats(p, expected: dict, timeout: float = 10.0) -> dict:
    return p.wait_for_stats(expected, timeout=timeout)


def test_eds_and_cds_update_stats(proxy, http_upstreams):
    cp = ControlPlane().start()
    try:
        a, b = http_upstreams(name="A"), http_upstreams(name="B")
        port = free_port()
        serve_one_service(cp, port, a.port)
        cfg = ads_bootstrap(cp.port, False)
        cfg["stats_flush_interval"] = "1s"
        p = proxy(cfg)
        cp.wait_for(lambda r: r.type_url == RDS and r.is_ack, timeout=15)
        assert upstream_counts(port, 2) == {"A": 2}
        # The subscription's start is an attempt; then one per update.
        wait_stats(p, {"cluster.svc.update_attempt": 2, "cluster.svc.update_success": 1,
                       "cluster.svc.warming_state": 0, "cluster.svc.update_no_rebuild": 0,
                       "cluster_manager.cds.config_reload": 1})
        deadline = time.monotonic() + 10
        while not p.admin("GET", "/stats?filter=cluster.svc.update_duration")[1].startswith(
                b"cluster.svc.update_duration: P0("):
            assert time.monotonic() < deadline, "no update_duration sample after a flush"
            time.sleep(0.2)

        # The same hosts again: no rebuild.
        cp.set(EDS, {"svc": assignment("svc", [a.port])})
        cp.push(EDS)
        wait_stats(p, {"cluster.svc.update_attempt": 3, "cluster.svc.update_success": 2,
                       "cluster.svc.update_no_rebuild": 1})
        cp.set(EDS, {"svc": assignment("svc", [a.port, b.port])})
        cp.push(EDS)
        wait_stats(p, {"cluster.svc.update_attempt": 4, "cluster.svc.update_success": 3,
                       "cluster.svc.update_no_rebuild": 1, "cluster.svc.membership_total": 2})

        # A new cluster warms until its assignment comes.
        cp.set(CDS, {"svc": eds_cluster("svc"), "late": eds_cluster("late")})
        cp.push(CDS)
        wait_stats(p, {"cluster.late.warming_state": 1, "cluster.late.update_attempt": 1,
                       "cluster.late.update_success": 0, "cluster_manager.warming_clusters": 1,
                       "cluster_manager.cds.config_reload": 2})
        status, body = p.admin("GET", "/stats?filter=cluster.late.update_duration")
        assert body.decode() == "cluster.late.update_duration: No recorded values\n", body
        cp.set(EDS, {"svc": assignment("svc", [a.port, b.port]), "late": assignment("late", [b.port])})
        cp.push(EDS)
        wait_stats(p, {"cluster.late.warming_state": 0, "cluster.late.update_attempt": 2,
                       "cluster.late.update_success": 1, "cluster_manager.warming_clusters": 0})

        # An unchanged CDS update reloads nothing.
        cp.set(CDS, {"svc": eds_cluster("svc"), "late": eds_cluster("late")})
        cp.push(CDS)
        wait_stats(p, {"cluster_manager.cds.update_success": 3, "cluster_manager.cds.config_reload": 2})
    finally:
        cp.stop()


def test_rds_update_empty_from_a_file_without_the_table(xds):
    """An RDS file that no longer holds the table is an empty update (Envoy's
    `validateUpdateSize`); the listener keeps the table it has. Over gRPC a
    state-of-the-world update without it never reaches RDS (Envoy's mux
    tells a named watch only of the resources it found)."""
    p = xds.start()
    assert get(xds.http_port).header("x-upstream") == "A"
    wait_stats(p, {"http.ingress.rds.r.update_empty": 0, "http.ingress.rds.r.config_reload": 1})
    xds.push_rds([], "r2")
    wait_stats(p, {"http.ingress.rds.r.update_empty": 1, "http.ingress.rds.r.config_reload": 1})
    assert get(xds.http_port).header("x-upstream") == "A"


def test_tls_listener_lists_ssl_stats_once_its_secret_arrives(proxy, upstreams, tmp_path):
    pki = make_pki(tmp_path)
    cp = ControlPlane().start()
    try:
        port = free_port()
        p = proxy(sds_config(free_port(), port, upstreams().address, cp.port, "sotw"), wait_ready=False)
        prefix = f"listener.{support.stat_addr('127.0.0.1', port)}."
        cp.wait_for(lambda r: r.type_url == SDS, timeout=15)
        time.sleep(0.5)
        stats = listed(p, prefix)
        assert stats.get("server_ssl_socket_factory.ssl_context_update_by_sds") == 0, stats
        assert not any(k.startswith("ssl.") for k in stats), stats
        # A context without its secrets makes the first expiry unknown: 0.
        assert p.stats()["server.days_until_first_cert_expiring"] == 0
        cp.set(SDS, {"workload": secret(pki, "server", "server")})
        cp.push(SDS)
        p.wait_ready()
        assert peer(port)
        # The test certificates are valid for 30 days from now.
        stats = p.wait_for_stats({prefix + "ssl.handshake": 1, prefix + "ssl.connection_error": 0,
                                  "server.days_until_first_cert_expiring": 29})
    finally:
        cp.stop()


def test_certificate_expiry_gauges(proxy, upstreams, admin_port, tmp_path):
    """`server.days_until_first_cert_expiring` over every TLS context (the
    listener's certificate and CA): Envoy's `UINT32_MAX` without any; and
    `server.seconds_until_first_ocsp_response_expiring`, 0 with no staple."""
    port = free_port()
    p = proxy(support.simple_config(admin_port, port, [upstreams().address]))
    stats = p.stats()
    assert stats["server.days_until_first_cert_expiring"] == 4294967295
    assert stats["server.seconds_until_first_ocsp_response_expiring"] == 0
    p.kill()
    pki = make_pki(tmp_path)
    # The certificates are valid for exactly 30 days from the second they
    # were made: read within that same second, the whole days left are 30;
    # from the next second on, 29 (Envoy and Remora both round down).
    time.sleep(1.1)
    tls = tls_tcp_config(free_port(), free_port(), upstreams().address, downstream_tls(pki))
    p = proxy(tls)
    stats = p.stats()
    assert stats["server.days_until_first_cert_expiring"] == 29
    assert stats["server.seconds_until_first_ocsp_response_expiring"] == 0
