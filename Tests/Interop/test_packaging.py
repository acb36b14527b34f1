"""The packaging for the sidecar use, checked statically: the Dockerfile and
the Kubernetes manifests in deploy/.

Neither can run where this suite runs (no container runtime, no cluster), so
these tests check what holds without one: every manifest field is a field of
the Kubernetes API object it sits in and the fields Kubernetes requires are
there; the pieces agree with each other (the init container's capture flags
with the sidecar's uid, ports and bootstrap, the ConfigMap with
examples/istio-sidecar.yaml and the path the sidecar reads); the sidecar's
command line validates the bootstrap with the proxy under test (Remora or
Envoy); the Dockerfile builds as scripts/ builds and its runtime stage holds
what the binary and the scripts need.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kube_checks import field_errors, quantity, requirement_errors
from support import IS_ENVOY, PROXY_BIN, run_validate

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
EXAMPLE = ROOT / "examples" / "istio-sidecar.yaml"
INIT_NAME = "remora-init"
SIDECAR_NAME = "remora"
# Where the kubelet probes and Prometheus scrapes the sidecar (Istio's ports).
READINESS = (15021, "/healthz/ready")
PROMETHEUS = (15090, "/stats/prometheus")

# -- loading ------------------------------------------------------------------

def load_manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(DEPLOY.glob("*.yaml")) + sorted(DEPLOY.glob("*.yml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                docs.append((path.name, doc))
    return docs


@pytest.fixture(scope="module")
def manifests():
    docs = load_manifests()
    assert docs, "deploy/ holds no manifests"
    return docs


def the(manifests, kind: str) -> dict:
    found = [doc for _, doc in manifests if doc.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind} in deploy/, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def pod(manifests) -> dict:
    return the(manifests, "Deployment")["spec"]["template"]["spec"]


def container(pod: dict, name: str) -> dict:
    found = [c for c in pod.get("initContainers", []) + pod["containers"] if c["name"] == name]
    assert len(found) == 1, f"no container {name!r} in the Deployment"
    return found[0]


def flag_values(argv: list[str]) -> dict[str, str]:
    """`-x VALUE` / `--name VALUE` pairs of a command line (every flag used here takes a value)."""
    assert len(argv) % 2 == 0, f"flags without values in {argv}"
    pairs = dict(zip(argv[0::2], argv[1::2]))
    assert all(flag.startswith("-") for flag in pairs), f"not flag/value pairs: {argv}"
    return pairs


@pytest.fixture(scope="module")
def capture_flags(pod) -> dict[str, str]:
    init = container(pod, INIT_NAME)
    argv = init.get("command", []) + init.get("args", [])
    assert argv[0] == "remora-iptables", argv
    return flag_values(argv[1:])


@pytest.fixture(scope="module")
def sidecar_flags(pod) -> dict[str, str]:
    sidecar = container(pod, SIDECAR_NAME)
    assert sidecar["command"] == ["remora"], sidecar["command"]
    return flag_values(sidecar["args"])


@pytest.fixture(scope="module")
def bootstrap_text(manifests, pod, sidecar_flags) -> str:
    """The bootstrap the sidecar reads: the ConfigMap key at its -c path."""
    mounts = {m["mountPath"]: m for m in container(pod, SIDECAR_NAME).get("volumeMounts", [])}
    config_path = Path(sidecar_flags["-c"])
    mount = mounts.get(str(config_path.parent))
    assert mount is not None, f"-c {config_path}: no volume is mounted at {config_path.parent}"
    assert "subPath" not in mount, "a subPath mount would not follow ConfigMap updates"
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert "configMap" in volume, f"volume {mount['name']} is not a ConfigMap"
    configmaps = {doc["metadata"]["name"]: doc for _, doc in manifests if doc["kind"] == "ConfigMap"}
    configmap = configmaps.get(volume["configMap"]["name"])
    assert configmap is not None, f"ConfigMap {volume['configMap']['name']} is not in deploy/"
    assert config_path.name in configmap["data"], f"ConfigMap has no key {config_path.name}"
    return configmap["data"][config_path.name]


@pytest.fixture(scope="module")
def bootstrap(bootstrap_text) -> dict:
    return yaml.safe_load(bootstrap_text)


def listener_ports(bootstrap: dict) -> dict[str, tuple[str, int, bool]]:
    """name -> (address, port, binds) of each static listener."""
    out = {}
    for listener in bootstrap["static_resources"]["listeners"]:
        socket_address = listener["address"]["socket_address"]
        out[listener["name"]] = (socket_address["address"], socket_address["port_value"],
                                 listener.get("bind_to_port", True))
    return out


# -- manifests: what Kubernetes accepts ---------------------------------------

def test_manifest_fields_are_kubernetes_api_fields(manifests):
    errors = [e for file, doc in manifests for e in field_errors(file, doc)]
    assert not errors, "\n".join(errors)


def test_manifests_have_the_fields_kubernetes_requires(manifests):
    errors = [e for file, doc in manifests for e in requirement_errors(file, doc)]
    assert not errors, "\n".join(errors)


def test_probe_ports_are_declared_by_their_container(pod):
    for c in pod.get("initContainers", []) + pod["containers"]:
        declared = {p["containerPort"] for p in c.get("ports", [])}
        names = {p["name"]: p["containerPort"] for p in c.get("ports", []) if "name" in p}
        for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
            action = c.get(probe_name, {}).get("httpGet") or c.get(probe_name, {}).get("tcpSocket")
            if action is None:
                continue
            port = action["port"]
            assert port in names or port in declared, (
                f"{c['name']}.{probe_name}: port {port!r} is not a port the container declares")


def test_service_selects_the_pods_and_their_port(manifests, pod):
    service = the(manifests, "Service")
    labels = the(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items(), "the Service selects no pod of the Deployment"
    app_ports = {p["name"]: p["containerPort"] for c in pod["containers"] if c["name"] != SIDECAR_NAME
                 for p in c.get("ports", []) if "name" in p}
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        assert target in app_ports or target in app_ports.values(), f"targetPort {target!r} is no app port"


def test_env_references_in_arguments_are_defined(pod):
    """Kubernetes expands $(NAME) only for variables the container defines;
    any other stays in the argument as it is."""
    for c in pod.get("initContainers", []) + pod["containers"]:
        defined = {e["name"] for e in c.get("env", [])}
        for arg in c.get("command", []) + c.get("args", []):
            for name in re.findall(r"(?<!\$)\$\(([^)]*)\)", arg):
                assert name in defined, f"{c['name']}: $({name}) in {arg!r} is not in the container's env"


# -- the pieces agree ----------------------------------------------------------

def test_configmap_bootstrap_is_the_example(bootstrap_text):
    assert bootstrap_text == EXAMPLE.read_text(encoding="utf-8"), (
        "deploy/bootstrap-configmap.yaml is out of date: run scripts/generate-deploy-configmap.py")


def test_sidecar_command_line_validates_the_bootstrap(tmp_path, pod, sidecar_flags, bootstrap_text):
    """The sidecar's own flags (env references filled in as the kubelet would)
    with --mode validate: the proxy under test accepts them and the bootstrap."""
    env = {"POD_NAME": "httpbin-7d4f9c8b6-x2x9z", "POD_NAMESPACE": "default", "INSTANCE_IP": "10.0.0.5"}
    defined = {e["name"] for e in container(pod, SIDECAR_NAME).get("env", [])}
    assert defined <= env.keys(), f"give this test sample values for {defined - env.keys()}"
    path = tmp_path / Path(sidecar_flags["-c"]).name
    path.write_text(bootstrap_text)
    extra = []
    for flag, value in sidecar_flags.items():
        if flag != "-c":
            extra += [flag, re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], value)]
    r = run_validate(path, extra_args=extra)
    assert r.returncode == 0, (r.stdout + r.stderr).decode("utf-8", "replace")


def test_init_container_captures_for_the_sidecar(pod, capture_flags, bootstrap):
    sidecar = container(pod, SIDECAR_NAME)["securityContext"]
    assert capture_flags["-u"] == str(sidecar["runAsUser"]), "-u must be the sidecar's uid"
    assert capture_flags.get("-g", capture_flags["-u"]) == str(sidecar["runAsGroup"]), "-g must be the sidecar's gid"
    assert capture_flags["-m"] == "REDIRECT"
    listeners = listener_ports(bootstrap)
    assert listeners["virtualOutbound"][1] == int(capture_flags["-p"]), "-p is not virtualOutbound's port"
    assert listeners["virtualInbound"][1] == int(capture_flags["-z"]), "-z is not virtualInbound's port"
    for name in ("virtualOutbound", "virtualInbound"):
        address, _, binds = listeners[name]
        assert binds and address in ("0.0.0.0", "::"), f"{name} must bind the pod's addresses"
    # The kubelet and Prometheus reach the sidecar's own ports directly.
    excluded = {int(p) for p in capture_flags["-d"].split(",") if p}
    assert capture_flags["-b"] == "*"
    probe_ports = {READINESS[0], PROMETHEUS[0]}
    assert probe_ports <= excluded, f"-d must leave {sorted(probe_ports - excluded)} uncaptured"


def test_init_container_runs_as_root_with_the_capabilities_iptables_needs(pod):
    init = container(pod, INIT_NAME)
    sc = init["securityContext"]
    assert sc["runAsUser"] == 0 and sc["runAsNonRoot"] is False
    assert {"NET_ADMIN", "NET_RAW"} <= set(sc["capabilities"]["add"])
    assert sc["capabilities"].get("drop") == ["ALL"] and sc.get("privileged", False) is False
    assert init["image"] == container(pod, SIDECAR_NAME)["image"], "one image for both, as Istio's proxyv2"


def test_init_container_flags_are_accepted_by_remora_iptables(pod):
    """The init container's exact command line, run with --dry-run (prints the
    rules, changes nothing, needs no root)."""
    init = container(pod, INIT_NAME)
    argv = init.get("command", []) + init.get("args", [])
    r = subprocess.run([str(ROOT / "iptables" / argv[0]), *argv[1:], "--dry-run"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    flags = flag_values(argv[1:])
    for rule in (f"-j REDIRECT --to-ports {flags['-p']}", f"-j REDIRECT --to-ports {flags['-z']}",
                 f"-m owner --uid-owner {flags['-u']} -j RETURN", f"--dport {READINESS[0]} -j RETURN"):
        assert rule in r.stdout, f"{rule!r} not among the rules:\n{r.stdout}"


def test_sidecar_is_unprivileged_and_binds_no_privileged_port(pod, bootstrap):
    sidecar = container(pod, SIDECAR_NAME)
    sc = sidecar["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"], sc["runAsNonRoot"]) == (1337, 1337, True)
    assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    for name, (_, port, binds) in listener_ports(bootstrap).items():
        assert not binds or port >= 1024, f"listener {name} binds port {port}: needs NET_BIND_SERVICE"
    admin_port = bootstrap["admin"]["address"]["socket_address"]["port_value"]
    assert admin_port >= 1024


def test_no_other_container_runs_as_the_proxy_uid(pod):
    """Traffic from uid 1337 is not captured: an app running as it would bypass the sidecar."""
    uid = container(pod, SIDECAR_NAME)["securityContext"]["runAsUser"]
    pod_uid = pod.get("securityContext", {}).get("runAsUser")
    for c in pod["containers"]:
        if c["name"] != SIDECAR_NAME:
            effective = c.get("securityContext", {}).get("runAsUser", pod_uid)
            assert effective is not None and effective != uid, (
                f"{c['name']} must run as a set uid other than {uid} (an image's default user could be it)")


def test_termination_leaves_room_for_the_drain(pod, sidecar_flags):
    sidecar = container(pod, SIDECAR_NAME)
    pre_stop = sidecar.get("lifecycle", {}).get("preStop", {})
    if "exec" in pre_stop:
        assert pre_stop["exec"]["command"][0] == "sleep", "only a sleep preStop is accounted for here"
        hold = float(pre_stop["exec"]["command"][1])
    else:
        hold = float(pre_stop.get("sleep", {}).get("seconds", 0))
    drain = float(sidecar_flags["--drain-time-s"])
    grace = pod.get("terminationGracePeriodSeconds", 30)
    assert hold + drain < grace, f"preStop {hold} s + drain {drain} s must fit in the {grace} s grace period"


def test_worker_count_fits_the_cpu_limit(pod, sidecar_flags):
    limits = container(pod, SIDECAR_NAME)["resources"]["limits"]
    assert int(sidecar_flags["--concurrency"]) <= math.ceil(quantity(limits["cpu"])), (
        "more workers than the CPU limit allows only adds throttling")


def test_readiness_and_metrics_are_served_by_the_bootstrap(pod, bootstrap):
    sidecar = container(pod, SIDECAR_NAME)
    probe = sidecar["readinessProbe"]["httpGet"]
    named = {p["name"]: p["containerPort"] for p in sidecar["ports"] if "name" in p}
    assert (named.get(probe["port"], probe["port"]), probe["path"]) == READINESS
    by_port = {}
    for listener in bootstrap["static_resources"]["listeners"]:
        sa = listener["address"]["socket_address"]
        by_port[sa["port_value"]] = (sa["address"], listener)
    for port, path in (READINESS, PROMETHEUS):
        assert port in by_port, f"no listener on {port}"
        address, listener = by_port[port]
        assert address in ("0.0.0.0", "::") and listener.get("bind_to_port", True), f"{port} must bind the pod's addresses"
        matches = [route["match"] for chain in listener["filter_chains"] for f in chain["filters"]
                   for vh in f["typed_config"].get("route_config", {}).get("virtual_hosts", [])
                   for route in vh["routes"]]
        assert any(m.get("path") == path or path.startswith(m.get("prefix", "\0")) for m in matches), (
            f"no route for {path} on {port}: {matches}")


def test_prometheus_annotations_name_the_metrics_port(manifests):
    annotations = the(manifests, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert (int(annotations["prometheus.io/port"]), annotations["prometheus.io/path"]) == PROMETHEUS


# -- Dockerfile -----------------------------------------------------------------

def dockerfile_stages() -> list[dict]:
    """[{"base", "name", "instructions": [(OP, args)]}] of ROOT/Dockerfile."""
    stages, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment lines inside continuations too
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        op, _, args = (current + stripped).partition(" ")
        current = ""
        op, args = op.upper(), args.strip()
        if op == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append({"base": words[0], "name": name, "instructions": []})
        else:
            assert stages, f"{op} before the first FROM"
            stages[-1]["instructions"].append((op, args))
    return stages


def commands(stage: dict) -> list[list[str]]:
    """The shell commands of a stage's RUN instructions, split at &&."""
    out = []
    for op, args in stage["instructions"]:
        if op == "RUN":
            out += [shlex.split(part) for part in args.split("&&")]
    return out


def copies(stage: dict) -> list[tuple[str | None, list[str], str]]:
    """(from-stage, sources, destination) of a stage's COPY instructions."""
    out = []
    for op, args in stage["instructions"]:
        if op == "COPY":
            words = shlex.split(args)
            options = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            source_stage = next((o.split("=", 1)[1] for o in options if o.startswith("--from=")), None)
            out.append((source_stage, paths[:-1], paths[-1]))
    return out


def setup_packages(kind: str) -> list[str]:
    """The `kind_packages=(...)` list of scripts/setup.sh."""
    m = re.search(rf"^{kind}_packages=\(([^)]*)\)", (ROOT / "scripts" / "setup.sh").read_text(), re.M)
    assert m, f"scripts/setup.sh has no {kind}_packages=(...)"
    return m.group(1).split()


def installed_packages(stage: dict) -> list[str]:
    out = []
    for cmd in commands(stage):
        if cmd[:1] == ["DEBIAN_FRONTEND=noninteractive"]:
            cmd = cmd[1:]
        if cmd[:2] == ["apt-get", "install"]:
            out += [w for w in cmd[2:] if not w.startswith("-")]
    return out


@pytest.fixture(scope="module")
def stages():
    stages = dockerfile_stages()
    assert len(stages) == 2, "a build stage and a runtime stage"
    return stages


def test_dockerfile_stages_share_a_debian_release(stages):
    build, runtime = stages
    m = re.fullmatch(r"swift:(\d+)\.(\d+)(?:\.\d+)?-(\w+)", build["base"])
    assert m, f"build stage base {build['base']}: want the official swift:X.Y[.Z]-<debian> image"
    tools = re.match(r"// swift-tools-version:(\d+)\.(\d+)", (ROOT / "Package.swift").read_text())
    assert (int(m[1]), int(m[2])) >= (int(tools[1]), int(tools[2])), "the toolchain is older than Package.swift's"
    assert build["name"], "the build stage needs a name for COPY --from"
    assert re.fullmatch(r"debian:\w+-slim", runtime["base"]), f"runtime base {runtime['base']}"
    assert runtime["base"] == f"debian:{m[3]}-slim", "both stages on one Debian release (library versions)"


def test_dockerfile_build_stage_builds_as_scripts_do(stages):
    build = stages[0]
    cmds = commands(build)
    sources = [s for _, srcs, _ in copies(build) for s in srcs]
    assert "scripts/setup.sh" in sources and ["scripts/setup.sh", "--build-only"] in cmds
    # Everything SwiftPM reads: the manifest and every target's directory.
    assert {"Package.swift", "Sources", "Tests"} <= set(sources)
    # run.sh's release build, with the Swift runtime linked in (both link it).
    run_sh = next(line.strip() for line in (ROOT / "scripts" / "run.sh").read_text().splitlines()
                  if line.strip().startswith("swift build"))
    words = shlex.split(run_sh)
    assert "--static-swift-stdlib" in words, "run.sh's release build links the Swift runtime in, as the image's does"
    i = words.index("--package-path")
    expected = words[:i] + words[i + 2:]
    assert expected in cmds, f"no RUN {' '.join(expected)} in the build stage"
    config = expected[expected.index("-c") + 1]
    binary = f".build/{config}/remora"
    assert any(binary in cmd for cmd in cmds), f"the build stage does not take {binary}"


def test_setup_build_packages_cover_package_swift(stages):
    build_packages = set(setup_packages("build"))
    providers = set(re.findall(r'\.apt\(\[([^\]]*)\]\)', (ROOT / "Package.swift").read_text()))
    wanted = {p.strip().strip('"') for group in providers for p in group.split(",")}
    assert wanted and wanted <= build_packages, f"setup.sh's build_packages lack {wanted - build_packages}"
    assert "pkg-config" in build_packages  # the system-library targets are found through it
    # The build stage installs nothing beside setup.sh, so the two cannot drift.
    assert installed_packages(stages[0]) == []


def test_dockerfile_runtime_stage(stages, pod):
    build, runtime = stages
    packages = installed_packages(runtime)
    assert {"iptables", "iproute2"} <= set(packages), "remora-iptables runs iptables, ip6tables and ip"
    install_dest = next(cmd[-1] for cmd in commands(build) if cmd[:1] == ["install"])
    installed = {}
    for source_stage, sources, dest in copies(runtime):
        for source in sources:
            if source_stage is not None:
                assert source_stage == build["name"] and source == install_dest
            target = dest if not dest.endswith("/") else dest + Path(source).name
            installed[Path(target).name] = target
    path_dirs = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".split(":")  # debian's PATH
    for tool in ("remora", "remora-iptables", "remora-clean-iptables"):
        assert tool in installed and str(Path(installed[tool]).parent) in path_dirs, f"{tool} not on PATH"
    # remora-clean-iptables runs remora-iptables from its own directory.
    assert Path(installed["remora-iptables"]).parent == Path(installed["remora-clean-iptables"]).parent
    for script in ("remora-iptables", "remora-clean-iptables"):
        assert os.access(ROOT / "iptables" / script, os.X_OK), f"iptables/{script} is not executable"
    # The containers run what the image holds.
    for c in pod.get("initContainers", []) + pod["containers"]:
        if c["image"] == container(pod, SIDECAR_NAME)["image"]:
            assert c["command"][0] in installed, f"{c['name']} runs {c['command'][0]}, which the image lacks"
    user = [args for op, args in runtime["instructions"] if op == "USER"]
    sc = container(pod, SIDECAR_NAME)["securityContext"]
    assert user == [f"{sc['runAsUser']}:{sc['runAsGroup']}"], f"USER {user}: the sidecar's uid:gid"
    entrypoint = [args for op, args in runtime["instructions"] if op == "ENTRYPOINT"]
    assert entrypoint == [f'["{installed["remora"]}"]'], entrypoint


def _debian_matches(stages) -> str | None:
    """Why the machine's packages cannot stand in for the image's, or None."""
    if not shutil.which("dpkg-query"):
        return "no dpkg here"
    release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().split()
                   if "=" in line)
    want = stages[1]["base"].split(":")[1].removesuffix("-slim")
    if release.get("VERSION_CODENAME") != want:
        return f"this machine is not Debian {want}"
    return None


def test_runtime_packages_are_the_build_libraries_runtime_halves(stages):
    """Each -dev package's library package (its Depends on this Debian) is in the runtime stage."""
    reason = _debian_matches(stages)
    if reason:
        pytest.skip(reason)
    runtime = set(installed_packages(stages[1]))
    for dev in (p for p in setup_packages("build") if p.endswith("-dev")):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", dev], capture_output=True, text=True)
        assert r.returncode == 0, f"{dev} is not installed here (scripts/setup.sh installs it)"
        libs = {d.split()[0].split(":")[0] for d in r.stdout.split(",")}
        libs = {d for d in libs if d.startswith("lib") and not d.endswith("-dev")}
        assert libs and libs <= runtime, f"{dev} needs {libs - runtime} at run time"


@pytest.mark.skipif(IS_ENVOY, reason="the image holds Remora")
def test_runtime_packages_cover_what_the_binary_links(stages):
    """ldd of the binary under test, less the Swift runtime (linked statically
    in the image), maps to Debian packages the runtime stage installs or the
    slim base has."""
    reason = _debian_matches(stages) or (None if shutil.which("ldd") else "no ldd here")
    if reason:
        pytest.skip(reason)
    r = subprocess.run(["ldd", PROXY_BIN], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    libs = [m.group(1) for m in re.finditer(r"=> (/\S+)", r.stdout) if "/lib/swift/" not in m.group(1)]
    assert libs, r.stdout
    # In debian:*-slim already: the C and C++ runtimes (apt itself needs them).
    available = set(installed_packages(stages[1])) | {"libc6", "libgcc-s1", "libstdc++6"}
    for lib in libs:
        candidates = [lib, lib.replace("/lib/", "/usr/lib/", 1) if lib.startswith("/lib/") else lib.removeprefix("/usr")]
        owners = None
        for candidate in candidates:
            found = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
            if found.returncode == 0:
                owners = {line.split(":")[0] for line in found.stdout.splitlines()}
                break
        assert owners, f"{lib}: no Debian package owns it"
        assert owners & available, f"{lib} comes from {owners}, which the runtime stage lacks"


def test_dockerignore_keeps_local_state_out_and_build_inputs_in(stages):
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert {".build", ".venv", ".git"} <= set(ignored)
    copied = [s for stage in stages for src_stage, srcs, _ in copies(stage) if src_stage is None for s in srcs]
    for source in copied:
        top = source.split("/")[0]
        assert top not in ignored, f"{source} is copied but .dockerignore leaves it out"
