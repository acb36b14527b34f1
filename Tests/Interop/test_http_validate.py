"""``--mode validate`` for HTTP configurations: which route/HCM configs
Envoy 1.40 accepts (exit 0) and rejects (exit 1).  Only exit codes (and,
where Envoy's message is short and stable, a fragment of it) are checked.
"""

import pytest

import http_support as H
from http_support import route
from support import free_port, run_validate, socket_address, to_yaml


def config(routes, rc_extra=None, clusters=None, **hcm) -> dict:
    rc = H.route_config([H.vhost("vh", ["*"], routes)], **(rc_extra or {}))
    if clusters is None:
        clusters = [H.http_cluster("backend", [socket_address("127.0.0.1", free_port())])]
    return H.http_config(free_port(), free_port(), rc, clusters, **hcm)


def ok_route(**extra):
    return route({"prefix": "/"}, "backend", route_extra=extra or None)


CASES = [
    # (id, config, exit code, output fragment or None)
    ("full_featured_http_config", config([
        route({"path": "/p"}, "backend", route_extra={
            "timeout": "2s", "prefix_rewrite": "/x", "host_rewrite_literal": "h",
            "retry_policy": {"retry_on": "5xx,reset,connect-failure", "num_retries": 2,
                             "per_try_timeout": "0.5s"},
            "request_mirror_policies": [{"cluster": "backend"}]}),
        route({"safe_regex": {"regex": "/r/[0-9]+"}}, route_extra={"weighted_clusters": {
            "clusters": [{"name": "backend", "weight": 3}, {"name": "backend", "weight": 1}]}}),
        route({"prefix": "/redirect"}, redirect={"https_redirect": True}),
        route({"prefix": "/"}, direct_response={"status": 200}),
    ], use_remote_address=True, server_name="x", via="1.1 x", stream_idle_timeout="1s",
        request_timeout="1s", upgrade_configs=[{"upgrade_type": "websocket"}],
        common_http_protocol_options={"idle_timeout": "1s", "max_requests_per_connection": 5},
        http_protocol_options={"accept_http_10": True}), 0, None),
    # Static route configs reject unknown clusters unless validate_clusters: false.
    ("unknown_cluster", config([route({"prefix": "/"}, "nope")]), 1, "unknown cluster 'nope'"),
    ("unknown_cluster_validate_clusters_false",
     config([route({"prefix": "/"}, "nope")], rc_extra={"validate_clusters": False}), 0, None),
    ("path_separated_prefix_trailing_slash",
     config([route({"path_separated_prefix": "/api/"}, "backend")]), 1, "PathSeparatedPrefix"),
    ("invalid_regex", config([route({"safe_regex": {"regex": "(("}}, "backend")]), 1, None),
    ("prefix_rewrite_and_regex_rewrite",
     config([ok_route(prefix_rewrite="/x",
                      regex_rewrite={"pattern": {"regex": "a"}, "substitution": "b"})]), 1,
     "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy"),
    ("host_rewrite_literal_and_auto_host_rewrite",
     config([ok_route(host_rewrite_literal="x", auto_host_rewrite=True)]), 1, None),
    ("weighted_clusters_zero_total",
     config([route({"prefix": "/"}, route_extra={"weighted_clusters": {
         "clusters": [{"name": "backend", "weight": 0}]}})]), 1,
     "Sum of weights in the weighted_cluster must be greater than 0"),
    ("direct_response_without_status",
     config([route({"prefix": "/"}, direct_response={"body": {"inline_string": "x"}})]), 1, None),
    ("redirect_unknown_response_code",
     config([route({"prefix": "/"}, redirect={"path_redirect": "/x", "response_code": "OK"})]),
     1, None),
    # max_requests_per_connection is no longer an HCM field (use
    # common_http_protocol_options.max_requests_per_connection).
    ("hcm_toplevel_max_requests_per_connection",
     config([ok_route()], max_requests_per_connection=2), 1, "max_requests_per_connection"),
    # Accepted although dubious: unknown retry_on tokens are ignored with a
    # warning, prefixes/paths without a leading slash are allowed, unknown
    # upgrade types are allowed.
    ("unknown_retry_on_token",
     config([ok_route(retry_policy={"retry_on": "bogus", "num_retries": 1})]), 0, None),
    ("prefix_without_leading_slash", config([route({"prefix": "api"}, "backend")]), 0, None),
    ("unknown_upgrade_type", config([ok_route()], upgrade_configs=[{"upgrade_type": "foo"}]),
     0, None),
]


@pytest.mark.envoy_specific
@pytest.mark.parametrize("cfg,code,fragment", [pytest.param(c, r, f, id=i) for i, c, r, f in CASES])
def test_http_config_validation(tmp_path, cfg, code, fragment):
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(cfg))
    res = run_validate(path)
    out = (res.stdout + res.stderr).decode("utf-8", "replace")
    assert res.returncode == code, out[-2000:]
    if fragment is not None:
        assert fragment in out, out[-2000:]


def validate_output(tmp_path, cfg: dict):
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(cfg))
    res = run_validate(path)
    return res.returncode, (res.stdout + res.stderr).decode("utf-8", "replace")


ROUTE_PATH = ("static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
              ".route_config.virtual_hosts[0].routes[0].route")


@pytest.mark.remora_only(reason="Envoy implements hash_policy and priority; Remora refuses them until a "
                                "balancer hashes and the router picks thresholds by priority")
@pytest.mark.parametrize("field,value", [
    ("hash_policy", [{"header": {"header_name": "x-user"}}]),
    ("priority", "HIGH"),
])
def test_route_hash_policy_and_priority_are_refused_with_their_path(tmp_path, field, value):
    rc, out = validate_output(tmp_path, config([ok_route(**{field: value})]))
    assert rc == 1, out
    assert f"{ROUTE_PATH}.{field}: " in out, out
    assert "not implemented" in out, out


@pytest.mark.parametrize("codec", ["AUTO", "HTTP1", "HTTP2"])
def test_every_codec_type_validates(tmp_path, codec):
    rc, out = validate_output(tmp_path, config([ok_route()], codec_type=codec))
    assert rc == 0, out
    assert "codec_type AUTO" not in out, out
