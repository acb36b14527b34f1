"""The proxy's own log (issue 12): `-l`, `--component-log-level`,
`--log-format`, `--log-path`, as Envoy 1.40 takes them."""

from __future__ import annotations

import subprocess
import time

import pytest

import support
from support import free_port, simple_config


def validate(tmp_path, admin_port, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.yaml"
    path.write_text(support.to_yaml(simple_config(admin_port, free_port(), [support.socket_address("127.0.0.1", 9)])))
    argv = support._base_argv() + ["--mode", "validate", "-c", str(path), *args] + support.envoy_side_by_side_flags()
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("args, message", [
    (["-l", "bogus"], "error: invalid log level specified 'bogus'"),
    (["--component-log-level", "bogus:debug"], "error: invalid component specified 'bogus'"),
])
def test_bad_log_flags_exit_1_with_envoys_message(tmp_path, admin_port, args, message):
    r = validate(tmp_path, admin_port, *args)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert message in r.stdout + r.stderr


def test_level_off_prints_no_log_line(tmp_path, admin_port):
    r = validate(tmp_path, admin_port, "-l", "off")
    assert r.returncode == 0
    assert r.stderr == "", r.stderr


def test_component_levels_are_accepted(tmp_path, admin_port):
    r = validate(tmp_path, admin_port, "-l", "error", "--component-log-level", "upstream:debug,main:trace")
    assert r.returncode == 0, r.stdout + r.stderr


def test_log_format_and_log_path(proxy, upstreams, admin_port, tmp_path):
    log = tmp_path / "proxy-own.log"
    p = proxy(simple_config(admin_port, free_port(), [upstreams().address]),
              extra_args=["--log-format", "LINE|%l|%n|%v", "--log-path", str(log)])
    deadline = time.monotonic() + 5
    while (not log.exists() or "LINE|info|main|" not in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = log.read_text().splitlines()
    assert lines and all(line.startswith("LINE|") for line in lines), lines[:5]
    assert any(line.startswith("LINE|info|main|") for line in lines)
    assert "LINE|" not in p.log_tail()
