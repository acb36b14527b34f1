"""``--mode validate -c FILE``: exit 0 for a good bootstrap, 1 for a bad one.

Remora must also name the offending field path in its error output.  That
is Remora's contract, checked for Remora only: Envoy 1.40 prints a path for
unknown fields ("... @ static_resources.clusters[0]: ... no such field:
'connect_timeut'") but for an unknown @type it only says "could not find
@type '...'" and dumps the whole config as JSON.
"""

import pytest

from support import (IS_ENVOY, bootstrap, cluster, filter_chain, free_port,
                     listener, pipe_address, run_validate, socket_address, to_yaml)

TYPED_CONFIG_PATH = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config"


def good_config() -> dict:
    port = free_port()
    return bootstrap(
        free_port(),
        [
            listener("tcp", socket_address("127.0.0.1", port), [
                filter_chain("a", "chain_a", destination_port=port, idle_timeout="10s",
                             max_connect_attempts=3),
                filter_chain("b", "chain_b"),
            ]),
            listener("uds", pipe_address("/tmp/remora-validate-only.sock"),
                     [filter_chain("dns", "uds")]),
        ],
        [
            cluster("a", [socket_address("127.0.0.1", free_port()),
                          socket_address("127.0.0.1", free_port())], connect_timeout="0.25s"),
            cluster("b", [pipe_address("/tmp/remora-validate-upstream.sock")]),
            cluster("dns", [socket_address("localhost", free_port())], type_="STRICT_DNS",
                    dns_lookup_family="V4_ONLY"),
        ],
    )


def validate(tmp_path, cfg: dict):
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(cfg))
    res = run_validate(path)
    output = (res.stdout + res.stderr).decode("utf-8", "replace")
    return res.returncode, output


def first_filter(cfg: dict) -> dict:
    return cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]


def test_good_config_exits_0(tmp_path):
    rc, out = validate(tmp_path, good_config())
    assert rc == 0, out


def test_unknown_field_exits_1(tmp_path):
    cfg = good_config()
    cfg["static_resources"]["clusters"][0]["connect_timeut"] = "1s"
    rc, out = validate(tmp_path, cfg)
    assert rc == 1, out
    assert "connect_timeut" in out, out
    if not IS_ENVOY:
        assert "static_resources.clusters[0]" in out, out


def test_unknown_typed_config_type_exits_1(tmp_path):
    cfg = good_config()
    first_filter(cfg)["typed_config"] = {"@type": "type.googleapis.com/envoy.nope.v3.Nope"}
    rc, out = validate(tmp_path, cfg)
    assert rc == 1, out
    assert "envoy.nope.v3.Nope" in out, out
    if not IS_ENVOY:
        assert TYPED_CONFIG_PATH in out, out


def test_typo_inside_typed_config_exits_1(tmp_path):
    cfg = good_config()
    tc = first_filter(cfg)["typed_config"]
    tc["stat_prefx"] = tc.pop("stat_prefix")
    rc, out = validate(tmp_path, cfg)
    assert rc == 1, out
    assert "stat_prefx" in out, out
    # (Envoy 1.40 happens to print "... @ static_resources.listeners[0]
    # .filter_chains[0].filters[0].typed_config.<any>: ... no such field:
    # 'stat_prefx'", but that wording is not part of the contract.)
    if not IS_ENVOY:
        assert TYPED_CONFIG_PATH in out, out


@pytest.mark.remora_only(reason="Envoy supports redis_proxy (its validate exits 0)")
def test_unsupported_extension_exits_1_and_names_path(tmp_path):
    cfg = good_config()
    first_filter(cfg).update({
        "name": "envoy.filters.network.redis_proxy",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy",
            "stat_prefix": "redis",
            "settings": {"op_timeout": "1s"},
            "prefix_routes": {"catch_all_route": {"cluster": "a"}},
        },
    })
    rc, out = validate(tmp_path, cfg)
    assert rc == 1, out
    assert TYPED_CONFIG_PATH in out, out
    assert "RedisProxy" in out or "redis_proxy" in out, out


def run_validate_text(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    res = run_validate(path)
    return res.returncode, (res.stdout + res.stderr).decode("utf-8", "replace")


@pytest.mark.parametrize("text", ["", "\n", "# nothing but a comment\n"], ids=["empty", "newline", "comment"])
def test_empty_config_file_exits_1(tmp_path, text):
    # Envoy 1.40: "error initializing configuration '...': Unable to convert YAML as JSON: ", exit 1.
    rc, out = run_validate_text(tmp_path, text)
    assert rc == 1, out
    assert "OK" not in out, out
    if not IS_ENVOY:
        assert "the document is empty" in out, out


def test_validate_error_is_printed_once(tmp_path):
    cfg = good_config()
    cfg["static_resources"]["clusters"][0]["connect_timeut"] = "1s"
    rc, out = validate(tmp_path, cfg)
    assert rc == 1, out
    assert out.count("error initializing configuration") == 1, out
    assert out.count("connect_timeut") == 1, out


def test_directory_as_config_path_exits_1(tmp_path):
    res = run_validate(tmp_path)
    out = (res.stdout + res.stderr).decode("utf-8", "replace")
    assert res.returncode == 1, out
    if not IS_ENVOY:  # Envoy 1.40: "Unable to parse JSON as proto (INVALID_ARGUMENT: unexpected EOF)"
        assert f"cannot read config file '{tmp_path}': is a directory" in out, out
        assert "NSCocoaErrorDomain" not in out, out


@pytest.mark.parametrize("where", ["listener", "endpoint"])
def test_port_value_out_of_range_says_so(tmp_path, where):
    cfg = good_config()
    if where == "listener":
        cfg["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = 70000
        path = "static_resources.listeners[0].address.socket_address.port_value"
    else:
        endpoint = cfg["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
        endpoint["endpoint"]["address"]["socket_address"]["port_value"] = 70000
        path = ("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0]"
                ".endpoint.address.socket_address.port_value")
    rc, out = validate(tmp_path, cfg)
    assert rc == 1, out
    if IS_ENVOY:
        assert "value must be less than or equal to 65535" in out, out
    else:
        assert f"{path}: port 70000 out of range" in out, out
        assert "required" not in out, out


def set_connect_timeout(cfg, value):
    cfg["static_resources"]["clusters"][0]["connect_timeout"] = value


def set_stats_flush(cfg, value):
    cfg["stats_flush_interval"] = value


def set_dns_refresh(cfg, value):
    cfg["static_resources"]["clusters"][2]["dns_refresh_rate"] = value


# Duration limits, side by side with Envoy 1.40: the millisecond conversion
# (9223372035 s is the last value Envoy takes) and the protos' rules.
DURATION_CASES = [
    ("connect_timeout_last_accepted", set_connect_timeout, "9223372035.999999999s", 0),
    ("connect_timeout_first_refused", set_connect_timeout, "9223372036s", 1),
    ("connect_timeout_protobuf_limit", set_connect_timeout, "315576000000s", 1),
    ("connect_timeout_negative", set_connect_timeout, "-1s", 1),
    ("stats_flush_interval_1ms", set_stats_flush, "0.001s", 0),
    ("stats_flush_interval_0", set_stats_flush, "0s", 1),
    ("stats_flush_interval_300s", set_stats_flush, "300s", 1),
    ("stats_flush_interval_negative", set_stats_flush, "-1s", 1),
    ("dns_refresh_rate_1ms", set_dns_refresh, "0.001s", 1),
    ("dns_refresh_rate_2ms", set_dns_refresh, "0.002s", 0),
]


@pytest.mark.parametrize("edit,value,code", [pytest.param(e, v, c, id=i) for i, e, v, c in DURATION_CASES])
def test_duration_limits_match_envoy(tmp_path, edit, value, code):
    cfg = good_config()
    edit(cfg, value)
    rc, out = validate(tmp_path, cfg)
    assert rc == code, out
