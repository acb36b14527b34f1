"""Shared helpers for the Remora interop suite.

Everything here is plain standard-library Python so that the suite only
needs pytest.  The pieces are:

* configuration: the proxy under test (PROXY_KIND / PROXY_BIN), a tiny
  block-style YAML writer and builders for Envoy v3 bootstrap fragments;
* ``ProxyProcess``: starts the proxy, waits for admin ``/ready``, reads
  ``/stats``, RSS, sends signals and always kills it in teardown;
* ``TcpServer`` + handlers: threaded upstream servers (echo, sink, source,
  slow reader, half-closer, ...) on TCP (v4/v6) or Unix sockets;
* small client-side socket helpers that never block without a timeout.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import queue
import random
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent

PROXY_KIND = os.environ.get("PROXY_KIND", "remora").strip().lower() or "remora"
IS_ENVOY = PROXY_KIND == "envoy"
ENVOY_DEFAULT_BIN = "/tmp/venv/bin/envoy"
PROXY_BIN = os.environ.get("PROXY_BIN") or (
    ENVOY_DEFAULT_BIN if IS_ENVOY else str(REPO_ROOT / ".build" / "release" / "remora")
)
PROXY_LOG_LEVEL = os.environ.get("PROXY_LOG_LEVEL", "info")

MiB = 1024 * 1024

# ---------------------------------------------------------------------------
# ports, addresses
# ---------------------------------------------------------------------------


_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


_EPHEMERAL_LOW, _EPHEMERAL_HIGH = _ephemeral_range()
_port_rng = random.Random()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that binds on ``host`` now.  Loopback only.

    Picked outside the kernel's ephemeral range, so nothing that binds port 0
    (the test upstreams, the proxies' own listeners) and no outgoing
    connection's source port can take it between this call and the bind of
    whoever asked for it: an admin port handed out here and then given by the
    kernel to an upstream made a proxy fail to start.  A port this process
    already handed out is not handed out again (a test asking for two ports
    would then configure one address twice)."""
    assert host in ("127.0.0.1", "::1"), host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    low, high = 10000, _EPHEMERAL_LOW - 1
    if high - low < 1000:  # an unusual range: fall back to the kernel's pick
        low, high = 0, 0
    for _ in range(200):
        want = _port_rng.randint(low, high) if high else 0
        if want and want in _handed_out:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, want))
            except OSError:
                continue
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port on {host}")


def stat_addr(host: str, port: int) -> str:
    """Envoy's listener stat-name component for a TCP address.

    127.0.0.1:8080 -> ``127.0.0.1_8080``; [::1]:8080 -> ``[__1]_8080``
    (Envoy replaces ':' with '_' and keeps the brackets for IPv6).
    """
    if ":" in host:
        return "[" + host.replace(":", "_") + "]_" + str(port)
    return f"{host}_{port}"


# ---------------------------------------------------------------------------
# YAML writer (block style; JSON-quoted strings when not plainly safe)
# ---------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _yaml_scalar(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED:
        return s
    return json.dumps(s)


def _yaml_lines(obj, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = _yaml_scalar(k)
            if isinstance(v, dict) and v:
                out.append(f"{pad}{key}:")
                out.extend(_yaml_lines(v, indent + 2))
            elif isinstance(v, list) and v:
                out.append(f"{pad}{key}:")
                out.extend(_yaml_lines(v, indent + 2))
            elif isinstance(v, dict):
                out.append(f"{pad}{key}: {{}}")
            elif isinstance(v, list):
                out.append(f"{pad}{key}: []")
            else:
                out.append(f"{pad}{key}: {_yaml_scalar(v)}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                sub = _yaml_lines(item, indent + 2)
                sub[0] = pad + "- " + sub[0][indent + 2:]
                out.extend(sub)
            elif isinstance(item, dict):
                out.append(f"{pad}- {{}}")
            elif isinstance(item, list):
                out.append(f"{pad}- []")
            else:
                out.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        out.append(pad + _yaml_scalar(obj))
    return out


def to_yaml(obj) -> str:
    return "\n".join(_yaml_lines(obj, 0)) + "\n"


# ---------------------------------------------------------------------------
# Envoy v3 bootstrap builders
# ---------------------------------------------------------------------------

TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"


def socket_address(host: str, port: int) -> dict:
    return {"socket_address": {"address": host, "port_value": port}}


def pipe_address(path: str) -> dict:
    return {"pipe": {"path": str(path)}}


def tcp_proxy_filter(cluster: str, stat_prefix: str, idle_timeout: str | None = None,
                     max_connect_attempts: int | None = None) -> dict:
    cfg: dict = {"@type": TCP_PROXY_TYPE, "stat_prefix": stat_prefix, "cluster": cluster}
    if idle_timeout is not None:
        cfg["idle_timeout"] = idle_timeout
    if max_connect_attempts is not None:
        cfg["max_connect_attempts"] = max_connect_attempts
    return {"name": "envoy.filters.network.tcp_proxy", "typed_config": cfg}


def filter_chain(cluster: str, stat_prefix: str, destination_port: int | None = None,
                 **tcp_kw) -> dict:
    chain: dict = {}
    if destination_port is not None:
        chain["filter_chain_match"] = {"destination_port": destination_port}
    chain["filters"] = [tcp_proxy_filter(cluster, stat_prefix, **tcp_kw)]
    return chain


def listener(name: str, address: dict, chains: list[dict]) -> dict:
    return {"name": name, "address": address, "filter_chains": chains}


def tcp_listener(name: str, port: int, cluster: str, stat_prefix: str,
                 host: str = "127.0.0.1", **tcp_kw) -> dict:
    return listener(name, socket_address(host, port), [filter_chain(cluster, stat_prefix, **tcp_kw)])


def cluster(name: str, endpoints: Iterable[dict], type_: str = "STATIC",
            connect_timeout: str = "1s", dns_lookup_family: str | None = None,
            lb_policy: str | None = None) -> dict:
    c: dict = {"name": name, "type": type_, "connect_timeout": connect_timeout}
    if lb_policy is not None:
        c["lb_policy"] = lb_policy
    if dns_lookup_family is not None:
        c["dns_lookup_family"] = dns_lookup_family
    c["load_assignment"] = {
        "cluster_name": name,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": a}} for a in endpoints]}],
    }
    return c


def bootstrap(admin_port: int, listeners: list[dict], clusters: list[dict]) -> dict:
    return {
        "admin": {"address": socket_address("127.0.0.1", admin_port)},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }


# ---------------------------------------------------------------------------
# the proxy process
# ---------------------------------------------------------------------------


class ProxyStartError(AssertionError):
    pass


def _base_argv(wrap: Iterable[str] = ()) -> list[str]:
    argv = []
    # If the test runner dies, take the proxy with it (util-linux setpriv;
    # the death signal survives exec).  Optional: teardown kills it anyway.
    setpriv = shutil.which("setpriv")
    if setpriv:
        argv += [setpriv, "--pdeathsig", "KILL", "--"]
    argv += list(wrap)  # e.g. a private mount namespace (test_pools.py)
    argv.append(PROXY_BIN)
    return argv


def envoy_side_by_side_flags() -> list[str]:
    """Flags that let several Envoys run at once (no shared-memory clash)."""
    return ["--disable-hot-restart", "--use-dynamic-base-id"] if IS_ENVOY else []


class ProxyProcess:
    """One proxy process.  Always use through the ``proxy`` fixture, whose
    finalizer calls :meth:`kill`."""

    def __init__(self, workdir: Path, name: str):
        self.workdir = Path(workdir)
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.config: dict | None = None
        self.config_path = self.workdir / f"{name}.yaml"
        self.log_path = self.workdir / f"{name}.log"
        self.admin_port: int | None = None
        self.argv: list[str] = []
        self._log = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, config: dict, concurrency: int = 1, drain_time_s: float | None = None,
              extra_args: Iterable[str] = (), ready_timeout: float = 20.0,
              wait_ready: bool = True, wrap: Iterable[str] = ()) -> "ProxyProcess":
        self.config = config
        self.admin_port = config["admin"]["address"]["socket_address"]["port_value"]
        self.config_path.write_text(to_yaml(config))
        self.argv = _base_argv(wrap) + ["-c", str(self.config_path), "--concurrency", str(concurrency),
                                    "-l", PROXY_LOG_LEVEL]
        if drain_time_s is not None:
            self.argv += ["--drain-time-s", str(drain_time_s)]
        self.argv += envoy_side_by_side_flags()
        self.argv += list(extra_args)
        if not os.path.exists(PROXY_BIN):
            raise ProxyStartError(f"proxy binary not found: {PROXY_BIN} (set PROXY_BIN)")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=str(self.workdir))
        if wait_ready:
            self.wait_ready(ready_timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.running():
                raise ProxyStartError(
                    f"proxy exited with {self.proc.returncode} before becoming ready\n"
                    f"argv: {self.argv}\n--- log ---\n{self.log_tail()}")
            try:
                status, body = self.admin("GET", "/ready", timeout=1.0)
                last = (status, body)
                if status == 200 and body == b"LIVE\n":
                    return
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise ProxyStartError(f"proxy not ready after {timeout}s (last /ready: {last!r})\n"
                              f"--- log ---\n{self.log_tail()}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, nbytes: int = 6000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-nbytes:].decode("utf-8", "replace")

    # -- admin -------------------------------------------------------------
    def admin(self, method: str, path: str, timeout: float = 3.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stats(self) -> dict[str, int]:
        """GET /stats and parse ``name: <integer>`` lines (histogram lines
        and anything non-integer are ignored)."""
        status, body = self.admin("GET", "/stats")
        assert status == 200, (status, body[:200])
        out: dict[str, int] = {}
        for line in body.decode("utf-8", "replace").splitlines():
            name, sep, value = line.partition(": ")
            if sep and re.fullmatch(r"-?\d+", value.strip()):
                out[name.strip()] = int(value)
        return out

    def wait_for_stats(self, expected: dict[str, int], timeout: float = 15.0,
                       missing_as_zero: bool = False) -> dict[str, int]:
        """Poll /stats until every expected counter/gauge has its value.
        The default timeout is generous on purpose: it costs nothing when
        the values arrive, and a debug build on a loaded machine can take
        seconds for what is instant on an idle one.
        With ``missing_as_zero`` an absent stat counts as 0 (for "nothing
        was routed here" checks; Envoy itself lists every counter)."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            got = {k: stats.get(k, 0 if missing_as_zero else None) for k in expected}
            if got == expected:
                return stats
            if time.monotonic() >= deadline:
                diff = {k: (got[k], v) for k, v in expected.items() if got[k] != v}
                raise AssertionError(f"stats did not reach expected values within {timeout}s; "
                                     f"(got, expected): {diff}")
            time.sleep(0.1)

    # -- memory --------------------------------------------------------------
    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc/<pid>/status")


def run_validate(config_path: Path, timeout: float = 30.0,
                 extra_args: Iterable[str] = ()) -> subprocess.CompletedProcess:
    if not os.path.exists(PROXY_BIN):
        raise ProxyStartError(f"proxy binary not found: {PROXY_BIN} (set PROXY_BIN)")
    argv = _base_argv() + ["--mode", "validate", "-c", str(config_path), "-l", PROXY_LOG_LEVEL]
    argv += envoy_side_by_side_flags() + list(extra_args)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


# ---------------------------------------------------------------------------
# upstream servers
# ---------------------------------------------------------------------------

Handler = Callable[[socket.socket, "TcpServer"], None]


class TcpServer:
    """A threaded stream server on TCP (127.0.0.1 / ::1) or a Unix path.

    ``handler(conn, server)`` runs in its own thread per connection; the
    connection is closed when the handler returns.  ``stop()`` closes the
    listener and every live connection and joins the threads.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1", unix_path: str | None = None,
                 backlog: int = 512, name: str = "upstream", conn_timeout: float = 30.0,
                 port: int = 0, in_test_namespace: bool = False):
        self.handler = handler
        self.name = name
        self.conn_timeout = conn_timeout
        self.unix_path = unix_path
        if unix_path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            self.host, self.port = None, None
        else:
            # Other addresses only inside a network namespace the test made.
            assert host == "::1" or host.startswith("127.") or in_test_namespace, "loopback only"
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((host, port))
            self.host, self.port = host, self.sock.getsockname()[1]
        self.sock.listen(backlog)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.accepted = 0
        self.conns: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.results: "queue.Queue" = queue.Queue()  # handlers report here
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"{name}-accept")
        self._accept_thread.start()

    @property
    def address(self) -> dict:
        if self.unix_path is not None:
            return pipe_address(self.unix_path)
        return socket_address(self.host, self.port)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(self.conn_timeout)
            with self._lock:
                self.accepted += 1
                self.conns.append(conn)
            t = threading.Thread(target=self._run, args=(conn,), daemon=True,
                                 name=f"{self.name}-conn")
            with self._lock:
                self.threads.append(t)
            t.start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handler(conn, self)
        except (OSError, socket.timeout) as e:
            if not self._stop.is_set():
                with self._lock:
                    self.errors.append(e)
        except BaseException as e:  # noqa: BLE001 - report anything
            with self._lock:
                self.errors.append(e)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def wait_accepted(self, n: int, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while self.accepted < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.accepted

    def stop(self) -> None:
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self.conns)
            threads = list(self.threads)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        self._accept_thread.join(timeout=2)
        for t in threads:
            t.join(timeout=2)
        if self.unix_path is not None:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass


# -- handlers ---------------------------------------------------------------


def echo_handler(conn: socket.socket, server: TcpServer) -> None:
    while True:
        data = conn.recv(256 * 1024)
        if not data:
            return
        conn.sendall(data)


def ident_echo_handler(ident: bytes) -> Handler:
    """Sends ``ident + b"\\n"`` on accept, then echoes."""
    def handler(conn: socket.socket, server: TcpServer) -> None:
        conn.sendall(ident + b"\n")
        echo_handler(conn, server)
    return handler


def read_all(conn: socket.socket, hasher=None, chunk: int = 256 * 1024) -> int:
    """Read until EOF; return byte count (optionally feeding ``hasher``)."""
    total = 0
    while True:
        data = conn.recv(chunk)
        if not data:
            return total
        total += len(data)
        if hasher is not None:
            hasher.update(data)


def send_buffer(sock: socket.socket, buf, chunk: int = 256 * 1024, progress: list | None = None) -> None:
    view = memoryview(buf)
    for off in range(0, len(view), chunk):
        sock.sendall(view[off:off + chunk])
        if progress is not None:
            progress[0] = off + len(view[off:off + chunk])


# ---------------------------------------------------------------------------
# client helpers
# ---------------------------------------------------------------------------


def connect(host: str, port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


def connect_unix(path: str, timeout: float = 5.0) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(min(256 * 1024, n - len(buf)))
        if not data:
            raise AssertionError(f"EOF after {len(buf)} of {n} bytes")
        buf += data
    return bytes(buf)


def recv_line(sock: socket.socket, limit: int = 4096) -> bytes:
    buf = bytearray()
    while not buf.endswith(b"\n"):
        data = sock.recv(1)
        if not data:
            raise AssertionError(f"EOF before newline (got {bytes(buf)!r})")
        buf += data
        if len(buf) > limit:
            raise AssertionError("line too long")
    return bytes(buf[:-1])


def wait_closed(sock: socket.socket, timeout: float) -> tuple[float, bytes]:
    """Wait until the peer closes (EOF or RST).  Returns (elapsed seconds,
    bytes received meanwhile).  Raises AssertionError if still open."""
    start = time.monotonic()
    deadline = start + timeout
    got = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"connection still open after {timeout}s")
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"connection still open after {timeout}s") from None
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return time.monotonic() - start, bytes(got)
        if not data:
            return time.monotonic() - start, bytes(got)
        got += data


def is_refused(host: str, port: int, timeout: float = 1.0) -> bool:
    """True if a TCP connect gets ECONNREFUSED."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return True
    except OSError as e:
        return e.errno == errno.ECONNREFUSED
    s.close()
    return False


class Blackhole:
    """A loopback TCP port that never completes a handshake: a listening
    socket with a full accept queue (``listen(0)`` and nobody accepting),
    so the kernel drops further SYNs and connect() attempts time out."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers: list[socket.socket] = []
        ok = False
        for _ in range(8):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(s)
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.settimeout(0.3)
            try:
                probe.connect(("127.0.0.1", self.port))
            except socket.timeout:
                ok = True
            except OSError:
                pass
            finally:
                probe.close()
            if ok:
                break
        self.ok = ok

    def close(self) -> None:
        for s in self.fillers:
            s.close()
        self.sock.close()


def sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()


def simple_config(admin_port: int, listen_port: int, upstream_addresses: Iterable[dict],
                  cluster_name: str = "upstream", stat_prefix: str = "tp",
                  listen_host: str = "127.0.0.1", connect_timeout: str = "1s",
                  **tcp_kw) -> dict:
    """One TCP listener -> tcp_proxy -> one STATIC cluster."""
    return bootstrap(
        admin_port,
        [tcp_listener("main", listen_port, cluster_name, stat_prefix, host=listen_host, **tcp_kw)],
        [cluster(cluster_name, upstream_addresses, connect_timeout=connect_timeout)],
    )


class RssSampler:
    """Samples a process's VmRSS (KiB) every ``interval`` seconds in a
    background thread until ``stop()``."""

    def __init__(self, proxy: "ProxyProcess", interval: float = 0.05):
        self.proxy = proxy
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True, name="rss-sampler")
        self._t.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self.proxy.rss_kib())
            except (OSError, AssertionError):
                return
            self._stop.wait(self.interval)

    def stop(self) -> int:
        """Stop sampling; return the peak RSS in KiB."""
        self._stop.set()
        self._t.join(timeout=2)
        return max(self.samples) if self.samples else 0


def idle_rss_kib(proxy: "ProxyProcess", samples: int = 5, interval: float = 0.05) -> int:
    vals = []
    for _ in range(samples):
        vals.append(proxy.rss_kib())
        time.sleep(interval)
    return max(vals)


def send_until_stalled(sock: socket.socket, buf, start: int, stall_after: float,
                       chunk: int = 256 * 1024, deadline: float = 30.0) -> int:
    """Non-blocking send of ``buf[start:]`` until the socket stays unwritable
    for ``stall_after`` seconds or everything is sent.  Returns the offset
    reached (exact number of bytes handed to the kernel)."""
    import select

    view = memoryview(buf)
    off = start
    sock.setblocking(False)
    end = time.monotonic() + deadline
    try:
        while off < len(view):
            if time.monotonic() > end:
                raise AssertionError("send_until_stalled: deadline")
            try:
                off += sock.send(view[off:off + chunk])
                continue
            except (BlockingIOError, InterruptedError):
                pass
            _, w, _ = select.select([], [sock], [], stall_after)
            if not w:
                return off
    finally:
        sock.settimeout(30.0)
    return off
