"""iptables/remora-iptables and iptables/remora-clean-iptables (DESIGN.md §7).

Everything happens inside network namespaces the tests create (``ip netns
add rmi-ipt-...``) and delete again, even on failure; the host's own rules
and interfaces are never touched.  Addresses 10.200.0.x / fd00:200::x exist
only inside those namespaces.  Root is needed; without it, or without
``ip netns`` / iptables in a namespace, the module is skipped.

Rule sets are compared as ``iptables-save -t nat`` output with counters and
comments dropped.  The expected rules are written in the order and form of
Istio's golden files (tools/istio-iptables/pkg/capture/testdata/*.golden,
REDIRECT mode, without the HBONE tunnel-port rules Remora has no use for)
and put in iptables-save's canonical form by loading them into a scratch
namespace.

The traffic tests use capture_peers.py's forwarder, running as uid 1337 on
15001/15006 and reading SO_ORIGINAL_DST, in place of Remora: they prove the
rules; Remora's own use of SO_ORIGINAL_DST is tested with the proxy-side
work.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APPLY = REPO / "iptables" / "remora-iptables"
CLEAN = REPO / "iptables" / "remora-clean-iptables"
PEERS = Path(__file__).resolve().parent / "capture_peers.py"

_names = itertools.count()


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, iptables)"
    for tool in ("ip", "iptables", "iptables-save", "iptables-restore"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install iptables iproute2)"
    name = f"rmi-ipt-probe-{os.getpid()}"
    try:
        r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            return f"ip netns add fails here: {r.stderr.strip()}"
        r = subprocess.run(["ip", "netns", "exec", name, "iptables-save", "-t", "nat"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0 or "*nat" not in r.stdout:
            return f"iptables nat table unusable in a namespace: {r.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    return None


_reason = _skip_reason()
pytestmark = [
    pytest.mark.remora_only(reason="tests Remora's iptables/ scripts, not the proxy"),
    pytest.mark.skipif(_reason is not None, reason=_reason or ""),
]


# -- namespaces -------------------------------------------------------------------

class Netns:
    def __init__(self, tag: str, env: dict[str, str]):
        self.name = f"rmi-ipt-{os.getpid()}-{next(_names)}-{tag}"
        self.env = env  # PATH choosing the iptables backend
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=10)
        self.procs: list[subprocess.Popen] = []
        try:
            self.sh("ip link set lo up")
        except BaseException:
            self.close()
            raise

    def run(self, argv: list[str], env: dict | None = None, check: bool = False,
            input: str | None = None) -> subprocess.CompletedProcess:
        r = subprocess.run(["ip", "netns", "exec", self.name, *argv], capture_output=True, text=True,
                           timeout=20, env={**os.environ, **self.env, **(env or {})}, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} exited {r.returncode}: {r.stdout}{r.stderr}")
        return r

    def sh(self, cmd: str) -> str:
        return self.run(["sh", "-c", cmd], check=True).stdout

    def apply(self, *args: str, dual_stack: bool = False, check: bool = True,
              env: dict | None = None) -> subprocess.CompletedProcess:
        env = {"ISTIO_DUAL_STACK": "true" if dual_stack else "false", **(env or {})}
        return self.run([str(APPLY), *args], env=env, check=check)

    def clean(self, check: bool = True) -> subprocess.CompletedProcess:
        return self.run([str(CLEAN)], check=check)

    def save(self, family: int = 4, table: str | None = "nat") -> str:
        tool = "iptables-save" if family == 4 else "ip6tables-save"
        return normalise(self.run([tool] + (["-t", table] if table else []), check=True).stdout)

    def has_lo6(self) -> bool:
        return "inet6 ::6/128" in self.sh("ip -6 addr show dev lo")

    def start(self, *args: str, log: Path) -> subprocess.Popen:
        """Starts capture_peers.py ROLE ... and waits for its "ready"."""
        f = open(log, "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.name, sys.executable, "-u", str(PEERS), *args],
                             stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        deadline = time.monotonic() + 10
        while "ready" not in log.read_text():
            if p.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{args[0]} did not start: {log.read_text()}")
            time.sleep(0.02)
        return p

    def connect(self, host: str, port: int, line: str = "hi") -> str:
        r = self.run([sys.executable, str(PEERS), "connect", host, str(port), line], check=True)
        return r.stdout.strip()

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


def normalise(save: str) -> str:
    """iptables-save output without comments lines, counters and rule comments."""
    out = []
    for line in save.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        line = re.sub(r" \[\d+:\d+\]$", "", line)
        line = re.sub(r' -m comment --comment ("[^"]*"|\S+)', "", line)
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def legacy_path():
    """A directory whose iptables* are the legacy backend's (removed after
    the module), or None where that backend is missing or does not work in
    a namespace."""
    if shutil.which("iptables-legacy") is None:
        yield None
        return
    d = Path(tempfile.mkdtemp(prefix="rmi-ipt-legacy-"))
    try:
        for fam in ("iptables", "ip6tables"):
            for suffix in ("", "-save", "-restore"):
                target = shutil.which(f"{fam}-legacy{suffix}")
                if target:
                    (d / f"{fam}{suffix}").symlink_to(target)
        probe = Netns("probe", {"PATH": f"{d}:{os.environ['PATH']}"})
        try:
            ok = probe.run(["iptables-save", "-t", "nat"]).returncode == 0
        finally:
            probe.close()
        yield d if ok else None
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(params=["default", "legacy"])
def netns(request):
    """Factory: netns(tag) -> Netns; every namespace and process is removed
    at teardown.  Each test runs with the machine's iptables (nft on Debian)
    and with the legacy backend, where it works."""
    if request.param == "legacy":
        legacy = request.getfixturevalue("legacy_path")
        if legacy is None:
            pytest.skip("the iptables legacy backend is missing or does not work in a namespace")
        env = {"PATH": f"{legacy}:{os.environ['PATH']}"}
    else:
        env = {}
    made: list[Netns] = []

    def make(tag: str = "ns") -> Netns:
        ns = Netns(tag, env)
        made.append(ns)
        return ns

    yield make
    for ns in made:
        ns.close()


def ipv6_nat_works(ns: Netns) -> bool:
    if shutil.which("ip6tables-save") is None:
        return False
    r = ns.run(["ip6tables-save", "-t", "nat"])
    return r.returncode == 0 and "*nat" in r.stdout and os.path.exists("/proc/net/if_inet6")


def canonical(netns, rules: str, family: int = 4) -> str:
    """`rules` (Istio's golden order) as iptables-save prints them, loaded
    into a scratch namespace."""
    ns = netns("canon")
    tool = "iptables-restore" if family == 4 else "ip6tables-restore"
    chains = "".join(f"-N {c}\n" for c in ("ISTIO_INBOUND", "ISTIO_REDIRECT", "ISTIO_IN_REDIRECT", "ISTIO_OUTPUT"))
    text = "*nat\n" + chains + rules.strip() + "\nCOMMIT\n"
    r = ns.run([tool, "--noflush"], input=text)
    assert r.returncode == 0, r.stderr
    return ns.save(family)


# Istio's REDIRECT rule set with the injection template's flags
# (-i '*' -b '*' -d 15090,15021,15020), uid = gid = 1337.
DEFAULT_V4 = """
-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001
-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006
-A PREROUTING -p tcp -j ISTIO_INBOUND
-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN
-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN
-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN
-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT
-A OUTPUT -j ISTIO_OUTPUT
-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN
-A ISTIO_OUTPUT -j ISTIO_REDIRECT
"""

DEFAULT_V6 = (DEFAULT_V4.replace("127.0.0.6/32", "::6/128").replace("127.0.0.1/32", "::1/128"))

# Other flags: listed inbound ports, CIDR include/exclude, outbound port
# include/exclude, other uid/gid and ports.
OTHER_FLAGS = ["-p", "16001", "-z", "16006", "-u", "1000", "-g", "2000,2001", "-b", "8080,8081",
               "-i", "10.0.0.0/8,fd00::/8", "-x", "10.1.0.0/16,fd00:1::/32", "-o", "22", "-q", "9000"]
OTHER_V4 = """
-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 16001
-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16006
-A PREROUTING -p tcp -j ISTIO_INBOUND
-A ISTIO_INBOUND -p tcp --dport 8080 -j ISTIO_IN_REDIRECT
-A ISTIO_INBOUND -p tcp --dport 8081 -j ISTIO_IN_REDIRECT
-A OUTPUT -j ISTIO_OUTPUT
-A ISTIO_OUTPUT -p tcp --dport 22 -j RETURN
-A ISTIO_OUTPUT -p udp --dport 22 -j RETURN
-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1000 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1000 -j RETURN
-A ISTIO_OUTPUT -m owner --uid-owner 1000 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --gid-owner 2000 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 2000 -j RETURN
-A ISTIO_OUTPUT -m owner --gid-owner 2000 -j RETURN
-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --gid-owner 2001 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 2001 -j RETURN
-A ISTIO_OUTPUT -m owner --gid-owner 2001 -j RETURN
-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN
-A ISTIO_OUTPUT -d 10.1.0.0/16 -j RETURN
-A ISTIO_OUTPUT -p tcp --dport 9000 -j ISTIO_REDIRECT
-A ISTIO_OUTPUT -d 10.0.0.0/8 -j ISTIO_REDIRECT
"""
OTHER_V6 = (OTHER_V4.replace("127.0.0.6/32", "::6/128").replace("127.0.0.1/32", "::1/128")
            .replace("10.1.0.0/16", "fd00:1::/32").replace("10.0.0.0/8", "fd00::/8"))

def tables(save: str) -> dict[str, str]:
    """Normalised save per table.  With the nft backend a namespace has no
    nat table until a rule is loaded, and an emptied one stays (built-in
    chains, no rules): absent and empty count as the same."""
    out = {}
    for block in save.split("COMMIT\n"):
        if block.strip():
            name = block.strip().splitlines()[0]
            out[name] = block + "COMMIT\n"
    if out.get("*nat") == EMPTY_NAT:
        del out["*nat"]
    return out


EMPTY_NAT = "*nat\n:PREROUTING ACCEPT\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:POSTROUTING ACCEPT\nCOMMIT\n"


def need_ipv6(ns: Netns):
    if not ipv6_nat_works(ns):
        pytest.skip("ip6tables nat does not work in a namespace here")


# -- rule sets ----------------------------------------------------------------------

def test_dry_run_prints_rules_and_applies_nothing(netns):
    ns = netns()
    before4, before6 = ns.save(4), ns.save(6) if ipv6_nat_works(ns) else None
    r = ns.apply("--dry-run", dual_stack=True)
    assert "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN" in r.stdout
    assert "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT" in r.stdout
    if os.path.exists("/proc/net/if_inet6"):
        assert "-A ISTIO_OUTPUT -o lo -s ::6/128 -j RETURN" in r.stdout
        assert "::6/128 dev lo" in r.stdout
    assert ns.save(4) == before4 == EMPTY_NAT
    if before6 is not None:
        assert ns.save(6) == before6
    assert not ns.has_lo6()
    r = ns.apply("-h")
    assert r.stdout.startswith("usage: remora-iptables") and "-m MODE" in r.stdout
    # -n is istio-iptables' short form.
    assert ns.apply("-n").stdout.count("-j REDIRECT --to-ports") == 2
    assert ns.save(4) == EMPTY_NAT


def test_dry_run_needs_no_root_and_applying_does(netns):
    ns = netns()
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) not installed")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if ns.run([*nobody, "test", "-x", str(APPLY)]).returncode != 0:
        pytest.skip("the checkout is not readable by uid 65534")
    r = ns.run([*nobody, str(APPLY), "--dry-run"])
    assert r.returncode == 0 and "-A OUTPUT -j ISTIO_OUTPUT" in r.stdout
    r = ns.run([*nobody, str(APPLY)])
    assert r.returncode == 1 and "needs root" in r.stderr
    assert ns.save(4) == EMPTY_NAT


def test_apply_installs_istio_chains_and_rules(netns):
    ns = netns()
    ns.apply()
    got = ns.save(4)
    for chain in ("ISTIO_INBOUND", "ISTIO_IN_REDIRECT", "ISTIO_OUTPUT", "ISTIO_REDIRECT"):
        assert f":{chain} -" in got
    assert got == canonical(netns, DEFAULT_V4)
    if ipv6_nat_works(ns):
        # Without ISTIO_DUAL_STACK in an IPv4 (here: address-less) namespace, IPv6 is left alone.
        assert ns.save(6) == EMPTY_NAT
    assert not ns.has_lo6()


def test_apply_twice_gives_the_same_rule_set(netns):
    ns = netns()
    ns.apply()
    first = ns.save(4)
    ns.apply()
    assert ns.save(4) == first
    # A rule added after the jump since stays after it.
    ns.run(["iptables", "-t", "nat", "-A", "OUTPUT", "-d", "192.0.2.1/32", "-j", "RETURN"], check=True)
    ns.apply()

    def output():
        return [line for line in ns.save(4).splitlines() if line.startswith("-A OUTPUT")]

    assert output() == ["-A OUTPUT -j ISTIO_OUTPUT", "-A OUTPUT -d 192.0.2.1/32 -j RETURN"]
    # Other jumps to its chains go; a doubled jump is put back once.
    ns.run(["iptables", "-t", "nat", "-I", "OUTPUT", "-p", "tcp", "--dport", "80", "-j", "ISTIO_OUTPUT"], check=True)
    ns.run(["iptables", "-t", "nat", "-A", "OUTPUT", "-j", "ISTIO_OUTPUT"], check=True)
    ns.apply()
    assert output() == ["-A OUTPUT -d 192.0.2.1/32 -j RETURN", "-A OUTPUT -j ISTIO_OUTPUT"]


def test_other_flags_leave_exactly_their_rule_set(netns):
    ns = netns()
    ns.apply("-b", "*", "-o", "5,6", "-x", "10.9.0.0/16")
    ns.apply(*OTHER_FLAGS)
    assert ns.save(4) == canonical(netns, OTHER_V4)
    fresh = netns("fresh")
    fresh.apply(*OTHER_FLAGS)
    assert fresh.save(4) == ns.save(4)
    # And back: the defaults again, nothing of the other flags left.
    ns.apply()
    assert ns.save(4) == canonical(netns, DEFAULT_V4)
    # Empty -b / -i (the template's way of turning capture off): no jumps to
    # ISTIO_INBOUND, no ISTIO_REDIRECT rule in ISTIO_OUTPUT.
    # A loopback range in -i: app -> own address over lo is captured too
    # (no "-o lo ! --uid-owner ... RETURN"), as istio-iptables does.
    ns.apply("-i", "127.0.0.0/8")
    got = ns.save(4)
    assert "-A ISTIO_OUTPUT -d 127.0.0.0/8 -j ISTIO_REDIRECT" in got
    assert "! --uid-owner" not in got and "! --gid-owner" not in got
    ns.apply("-b", "", "-i", "")
    got = ns.save(4)
    assert "-j ISTIO_INBOUND" not in got and "-A ISTIO_OUTPUT -j ISTIO_REDIRECT" not in got
    assert ":ISTIO_INBOUND -" in got


UNRELATED = {
    "nat": ["-A PREROUTING -p udp -m udp --dport 53 -j RETURN", "-A OUTPUT -d {dst} -j RETURN",
            "-A POSTROUTING -o lo -j ACCEPT", "-A MYCHAIN -p tcp -j RETURN"],
    "filter": ["-A INPUT -p tcp -m tcp --dport 9 -j DROP",
               "-A OUTPUT -p tcp -m tcp --dport 7 -j REJECT --reject-with {reject}"],
    "mangle": ["-A PREROUTING -p tcp -j MARK --set-xmark 0x7/0xffffffff",
               "-A OUTPUT -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"],
}


def add_unrelated(ns: Netns, family: int):
    tool = "iptables" if family == 4 else "ip6tables"
    reject = "icmp-port-unreachable" if family == 4 else "icmp6-port-unreachable"
    dst = "192.0.2.1/32" if family == 4 else "2001:db8::1/128"
    ns.run([tool, "-t", "nat", "-N", "MYCHAIN"], check=True)
    for table, rules in UNRELATED.items():
        for rule in rules:
            ns.run([tool, "-t", table, *rule.format(reject=reject, dst=dst).split()], check=True)
    return ns.save(family, None)


def test_unrelated_rules_in_nat_filter_mangle_survive_apply_and_clean(netns):
    ns = netns()
    families = [4, 6] if ipv6_nat_works(ns) else [4]
    before = {f: add_unrelated(ns, f) for f in families}
    ns.apply(dual_stack=6 in families)
    for f in families:
        after = ns.save(f, None)
        for line in before[f].splitlines():
            if line.startswith("-A"):
                assert line in after, f"IPv{f}: {line} lost on apply"
        assert "-j ISTIO_OUTPUT" in after
    ns.apply("-o", "22", dual_stack=6 in families)
    ns.clean()
    for f in families:
        assert ns.save(f, None) == before[f]


def test_clean_removes_everything_it_added_and_is_a_noop_when_clean(netns):
    ns = netns()
    ipv6 = ipv6_nat_works(ns)
    before = {f: ns.save(f, None) for f in ([4, 6] if ipv6 else [4])}
    r = ns.clean()
    assert r.returncode == 0
    ns.apply(dual_stack=ipv6)
    if ipv6:
        assert ns.has_lo6()
    ns.clean()
    for f, saved in before.items():
        assert tables(ns.save(f, None)) == tables(saved)
    assert not ns.has_lo6()
    assert ns.clean().returncode == 0
    # It takes no arguments.
    r = ns.run([str(CLEAN), "-x"])
    assert r.returncode != 0 and "usage" in r.stderr


def test_dual_stack_ipv6_rules_and_lo_address(netns):
    ns = netns()
    need_ipv6(ns)
    ns.apply(dual_stack=True)
    assert ns.save(6) == canonical(netns, DEFAULT_V6, 6)
    assert ns.save(4) == canonical(netns, DEFAULT_V4)
    assert ns.has_lo6()
    ns.apply(*OTHER_FLAGS, dual_stack=True)
    assert ns.save(6) == canonical(netns, OTHER_V6, 6)
    assert ns.has_lo6()
    # Ranges go to their own family; a v4-mapped range is IPv6.
    ns.apply("-x", "192.0.2.0/24,2001:db8::/32,::ffff:192.0.2.1/128", dual_stack=True)
    v4, v6 = ns.save(4), ns.save(6)
    assert "-A ISTIO_OUTPUT -d 192.0.2.0/24 -j RETURN" in v4 and "2001:db8" not in v4 and "::ffff" not in v4
    assert "-A ISTIO_OUTPUT -d 2001:db8::/32 -j RETURN" in v6 and "::ffff:192.0.2.1/128" in v6
    assert "192.0.2.0/24" not in v6
    # Without dual stack the IPv6 rules and the address go again.
    ns.apply()
    assert ns.save(6) == EMPTY_NAT
    assert not ns.has_lo6()


def test_an_ipv6_only_namespace_is_captured_in_ipv6_without_dual_stack(netns):
    """As istio-iptables does: IPv6 when the pod's addresses are IPv6 only."""
    ns = netns()
    need_ipv6(ns)
    ns.sh("ip link add v-a type veth peer name v-b && ip link set v-a up && ip link set v-b up && "
          f"ip -6 addr add {POD6}/64 dev v-a nodad")
    ns.apply()
    assert ns.save(6) == canonical(netns, DEFAULT_V6, 6)
    assert ns.has_lo6()
    # With an IPv4 address too, IPv6 needs ISTIO_DUAL_STACK=true.
    ns.sh(f"ip addr add {POD4}/24 dev v-a")
    ns.apply()
    assert ns.save(6) == EMPTY_NAT
    assert not ns.has_lo6()
    assert ns.save(4) == canonical(netns, DEFAULT_V4)


def test_clean_keeps_a_lo_address_it_did_not_add(netns):
    ns = netns()
    need_ipv6(ns)
    ns.sh("ip -6 addr add ::6/128 dev lo")
    ns.apply(dual_stack=True)
    ns.apply(dual_stack=True)
    ns.clean()
    assert ns.has_lo6()
    assert ns.save(6) == EMPTY_NAT


def test_a_failed_ipv6_transaction_leaves_no_ipv4_rules(netns, tmp_path):
    ns = netns()
    need_ipv6(ns)
    path = ns.env.get("PATH", os.environ["PATH"])
    real = shutil.which("ip6tables-restore", path=path)
    # ip6tables-restore that parses (--test) but refuses to apply.
    stub = tmp_path / "ip6tables-restore"
    stub.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = --test ] && exec {real} "$@"; done\n'
                    'echo "stub: refused" >&2\nexit 1\n')
    stub.chmod(0o755)
    r = ns.apply(dual_stack=True, check=False, env={"PATH": f"{tmp_path}:{path}"})
    assert r.returncode == 1
    assert "stub: refused" in r.stderr and "IPv4 rules were removed" in r.stderr
    assert ns.save(4) == EMPTY_NAT
    assert ns.save(6) == EMPTY_NAT
    assert not ns.has_lo6()


BAD_ARGS = [
    ["--bogus"], ["-y", "1"], ["stray"], ["-p"], ["-b", "8080", "-z"],
    ["-p", "70000"], ["-p", "0"], ["-p", "015001"], ["-z", "http"], ["-d", "15020,99999"], ["-o", "22,-1"],
    ["-q", "1e3"],
    ["-x", "10.0.0.0/33"], ["-i", "10.0.0.0/8,300.1.1.1/8"], ["-x", "256.0.0.0/8"], ["-x", "010.0.0.0/8"],
    ["-x", "10.0.0.0/08"], ["-x", "10.0.0.1"], ["-x", "*"],
    ["-i", "fd00::/129"], ["-x", "1::2::3/64"], ["-i", "12345::/16"], ["-i", "::ffff:1.2.3.400/128"],
    ["-u", "envoy"], ["-u", ""], ["-u", "01337"], ["-g", "4294967296"],
    ["-m", "NONE"], ["-m", "TPROXY"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=lambda a: " ".join(a) or "empty")
def test_bad_flags_exit_nonzero_with_usage_and_apply_nothing(netns, args):
    ns = netns()
    ipv6 = ipv6_nat_works(ns)
    before4 = ns.save(4, None)
    before6 = ns.save(6, None) if ipv6 else None
    r = ns.apply(*args, dual_stack=True, check=False)
    assert r.returncode != 0
    assert "usage: remora-iptables" in r.stderr
    assert r.stderr.startswith("remora-iptables: ")
    if args == ["-m", "TPROXY"]:
        assert "TPROXY is not supported" in r.stderr
    assert ns.save(4, None) == before4
    if ipv6:
        assert ns.save(6, None) == before6
    assert not ns.has_lo6()


def test_bad_flags_leave_a_previous_install_alone(netns):
    ns = netns()
    ns.apply("-o", "22")
    installed = ns.save(4)
    r = ns.apply("-o", "22", "-x", "10.0.0.0/40", check=False)
    assert r.returncode != 0
    assert ns.save(4) == installed


# -- traffic --------------------------------------------------------------------------

POD4, PEER4, VIP4 = "10.200.0.1", "10.200.0.2", "10.200.9.9"
POD6, PEER6 = "fd00:200::1", "fd00:200::2"


class Pod:
    """A pod namespace and a peer namespace joined by a veth made inside them
    (no interface in the host's namespace): the app server on 8080/8081 and
    the capture forwarder in the pod, a server on 80/9000/9001 in the peer.
    A service address 10.200.9.9:8080 routes out through the peer; the
    forwarder maps it to the pod's own 10.200.0.1:8080, as a cluster would."""

    def __init__(self, netns, tmp: Path):
        self.ns = netns("pod")
        self.peer = netns("peer")
        self.ipv6 = ipv6_nat_works(self.ns)
        self.ns.sh(f"ip link add v-pod type veth peer name v-peer netns {self.peer.name}")
        self.ns.sh(f"ip addr add {POD4}/24 dev v-pod && ip link set v-pod up && "
                   f"ip route add 10.200.9.0/24 via {PEER4}")
        self.peer.sh(f"ip addr add {PEER4}/24 dev v-peer && ip link set v-peer up")
        if self.ipv6:
            self.ns.sh(f"ip -6 addr add {POD6}/64 dev v-pod nodad")
            self.peer.sh(f"ip -6 addr add {PEER6}/64 dev v-peer nodad")
        six = [f"[{PEER6}]:80"] if self.ipv6 else []
        self.peer.start("serve", "peer", f"{PEER4}:80", f"{PEER4}:9000", f"{PEER4}:9001", *six, log=tmp / "peer.log")
        six = ["[::]:8080"] if self.ipv6 else []
        self.ns.start("serve", "app", "0.0.0.0:8080", "0.0.0.0:8081", *six, log=tmp / "app.log")
        self.log_path = tmp / "forwarder.log"
        self.ns.start("forward", "--map", f"{VIP4}:8080={POD4}:8080", log=self.log_path)
        self.seen = 1  # the "ready" line

    def forwarded(self) -> list[str]:
        """Connections the forwarder took since the last call, as
        "LISTENER_PORT ORIG_IP ORIG_PORT"."""
        lines = self.log_path.read_text().splitlines()
        new, self.seen = lines[self.seen:], len(lines)
        return new


@pytest.fixture
def pod(netns, tmp_path):
    return Pod(netns, tmp_path)


def test_outbound_goes_to_15001_which_sees_the_original_destination(pod):
    pod.ns.apply()
    # The forwarder's own connection (uid 1337) to the peer is not captured
    # again: exactly one pass through it.
    assert pod.ns.connect(PEER4, 80) == f"peer saw {POD4} got hi"
    assert pod.forwarded() == [f"15001 {PEER4} 80"]


def test_inbound_goes_to_15006_and_passes_through_from_127_0_0_6(pod):
    pod.ns.apply()
    assert pod.peer.connect(POD4, 8080) == "app saw 127.0.0.6 got hi"
    assert pod.forwarded() == [f"15006 {POD4} 8080"]


def test_loopback_is_not_captured_and_inbound_to_self_goes_through_the_proxy(pod):
    pod.ns.apply()
    assert pod.ns.connect("127.0.0.1", 8080) == "app saw 127.0.0.1 got hi"
    assert pod.ns.connect(POD4, 8080) == f"app saw {POD4} got hi"
    assert pod.forwarded() == []
    # app -> service address -> forwarder (15001) -> own address as uid
    # 1337 -> forwarder (15006) -> app from 127.0.0.6.
    assert pod.ns.connect(VIP4, 8080) == "app saw 127.0.0.6 got hi"
    assert pod.forwarded() == [f"15001 {VIP4} 8080", f"15006 {POD4} 8080"]


def test_exclude_flags_bypass_the_forwarder(pod):
    pod.ns.apply("-x", f"{PEER4}/32")
    assert pod.ns.connect(PEER4, 80) == f"peer saw {POD4} got hi"
    assert pod.forwarded() == []
    pod.ns.apply("-o", "9000")
    assert pod.ns.connect(PEER4, 9000) == f"peer saw {POD4} got hi"
    assert pod.forwarded() == []
    assert pod.ns.connect(PEER4, 9001) == f"peer saw {POD4} got hi"
    assert pod.forwarded() == [f"15001 {PEER4} 9001"]
    pod.ns.apply("-d", "8080")
    assert pod.peer.connect(POD4, 8080) == f"app saw {PEER4} got hi"
    assert pod.forwarded() == []
    assert pod.peer.connect(POD4, 8081) == "app saw 127.0.0.6 got hi"
    assert pod.forwarded() == [f"15006 {POD4} 8081"]
    pod.ns.clean()
    assert pod.ns.connect(PEER4, 9001) == f"peer saw {POD4} got hi"
    assert pod.peer.connect(POD4, 8081) == f"app saw {PEER4} got hi"
    assert pod.forwarded() == []


def test_dual_stack_captures_ipv6_both_ways(pod):
    if not pod.ipv6:
        pytest.skip("ip6tables nat does not work in a namespace here")
    pod.ns.apply(dual_stack=True)
    assert pod.ns.connect(PEER6, 80) == f"peer saw {POD6} got hi"
    assert pod.forwarded() == [f"15001 {PEER6} 80"]
    # The inbound passthrough connects from ::6, the address the script put on lo.
    assert pod.peer.connect(POD6, 8080) == "app saw ::6 got hi"
    assert pod.forwarded() == [f"15006 {POD6} 8080"]
    assert pod.ns.connect("::1", 8080) == "app saw ::1 got hi"
    assert pod.forwarded() == []
