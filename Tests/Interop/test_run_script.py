"""scripts/run.sh keeps the caller's working directory, so relative paths
given to remora (``-c FILE``, ``--config-path=FILE``) name files where the
caller stands, not at the repository root.

The script runs from a copy of the repository layout in a temporary
directory, with stand-ins for ``setup.sh``, ``swift`` and the release binary:
the real build is too slow for a test, and what matters here is the
directory and arguments the binary is started with."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.remora_only(reason="tests Remora's scripts/run.sh, not the proxy")


def _executable(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fake_repo(tmp_path):
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "run.sh", root / "scripts" / "run.sh")
    _executable(root / "scripts" / "setup.sh", "#!/bin/sh\nexit 0\n")
    bin_dir = tmp_path / "bin"
    # `swift build` stand-in: records its arguments.
    _executable(bin_dir / "swift", f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/swift-args"\n')
    # The binary stand-in: reports where it runs and whether each -c /
    # --config-path file exists from there, as remora would open it.
    _executable(root / ".build" / "release" / "remora", """#!/bin/sh
echo "cwd=$(pwd -P)"
while [ $# -gt 0 ]; do
    case "$1" in
        -c|--config-path) shift; f="$1" ;;
        --config-path=*) f="${1#--config-path=}" ;;
        *) f="" ;;
    esac
    if [ -n "$f" ]; then
        if [ -r "$f" ]; then echo "found=$f"; else echo "missing=$f"; fi
    fi
    shift
done
""")
    caller = tmp_path / "caller"
    (caller / "conf").mkdir(parents=True)
    (caller / "conf" / "envoy.yaml").write_text("static_resources: {}\n")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    return root, caller, env, tmp_path


@pytest.mark.parametrize("args", [
    ["-c", "conf/envoy.yaml"],
    ["--config-path", "conf/envoy.yaml"],
    ["--config-path=conf/envoy.yaml"],
    ["--mode", "validate", "-c", "./conf/../conf/envoy.yaml"],
])
def test_relative_config_path_resolves_from_the_caller(fake_repo, args):
    root, caller, env, tmp_path = fake_repo
    out = subprocess.run([str(root / "scripts" / "run.sh"), *args], cwd=caller, env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert f"cwd={caller.resolve()}" in lines
    assert not [l for l in lines if l.startswith("missing=")], out.stdout
    assert [l for l in lines if l.startswith("found=")], out.stdout
    swift_args = (tmp_path / "swift-args").read_text().splitlines()
    assert swift_args[:2] == ["build", "-c"]
    assert swift_args[swift_args.index("--package-path") + 1] == str(root.resolve())


def test_absolute_config_path_from_the_repository_root(fake_repo):
    root, caller, env, _ = fake_repo
    absolute = str(caller / "conf" / "envoy.yaml")
    out = subprocess.run(["scripts/run.sh", "-c", absolute], cwd=root, env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert f"found={absolute}" in out.stdout.splitlines()
