"""Bulk transfer through tcp_proxy: byte exactness, concurrency and
flow control (back-pressure instead of buffering)."""

import hashlib
import random
import socket
import threading
import time

import pytest

import support
from support import (MiB, RssSampler, connect, free_port, idle_rss_kib, recv_exact, send_buffer,
                     send_until_stalled, simple_config)

RSS_GROWTH_LIMIT_KIB = 32 * 1024


def read_exactly_hashed(sock: socket.socket, n: int, chunk: int = 256 * 1024) -> tuple[int, str]:
    h = hashlib.sha256()
    got = 0
    while got < n:
        data = sock.recv(min(chunk, n - got))
        if not data:
            break
        h.update(data)
        got += len(data)
    return got, h.hexdigest()


@pytest.mark.deadline(120)
def test_64mib_each_way_concurrently_is_byte_exact(proxy, upstreams, admin_port, payloads):
    (down, down_sha), (up_data, up_sha) = payloads
    n = len(down)
    assert n == 64 * MiB and len(up_data) == 64 * MiB

    def handler(conn, server):
        errors = []

        def sender():
            try:
                send_buffer(conn, up_data)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        got, digest = read_exactly_hashed(conn, n)
        t.join(timeout=60)
        server.results.put((got, digest, errors))
        conn.recv(1)  # wait for the client to close

    up = upstreams(handler, conn_timeout=90)
    port = free_port()
    proxy(simple_config(admin_port, port, [up.address]), concurrency=2)

    c = connect("127.0.0.1", port, timeout=60)
    client_errors = []

    def client_sender():
        try:
            send_buffer(c, down)
        except OSError as e:
            client_errors.append(e)

    t0 = time.monotonic()
    t = threading.Thread(target=client_sender, daemon=True)
    t.start()
    got, digest = read_exactly_hashed(c, n)
    t.join(timeout=60)
    up_got, up_digest, up_errors = up.results.get(timeout=60)
    elapsed = time.monotonic() - t0
    c.close()

    assert not client_errors and not up_errors, (client_errors, up_errors)
    assert got == n, f"client received {got} of {n} bytes"
    assert digest == up_sha, "upstream->client stream corrupted"
    assert up_got == n, f"upstream received {up_got} of {n} bytes"
    assert up_digest == down_sha, "client->upstream stream corrupted"
    print(f"128 MiB total in {elapsed:.2f}s")


@pytest.mark.deadline(90)
def test_slow_downstream_reader_is_backpressured_not_buffered(proxy, upstreams, admin_port,
                                                              payloads):
    """Upstream pushes 64 MiB as fast as it can, the client reads slowly: the
    proxy must stop reading from the upstream instead of buffering."""
    (data, data_sha), _ = payloads
    n = len(data)
    progress = [0]

    def handler(conn, server):
        send_buffer(conn, data, progress=progress)
        server.results.put("sent")
        conn.recv(1)

    up = upstreams(handler, conn_timeout=60)
    port = free_port()
    p = proxy(simple_config(admin_port, port, [up.address]), concurrency=1)
    baseline = idle_rss_kib(p)

    sampler = RssSampler(p)
    c = connect("127.0.0.1", port, timeout=30)
    # Phase 1: do not read at all for a while.
    time.sleep(2.0)
    sent_while_paused = progress[0]
    # Phase 2: read slowly (small reads with sleeps) until everything is in.
    h = hashlib.sha256()
    got = 0
    while got < n:
        chunk = c.recv(min(128 * 1024, n - got))
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
        time.sleep(0.004)
    peak = sampler.stop()
    c.close()

    growth = peak - baseline
    print(f"baseline {baseline} KiB, peak {peak} KiB, growth {growth} KiB, "
          f"upstream sent {sent_while_paused / MiB:.1f} MiB while the client was paused, "
          f"{len(sampler.samples)} samples")
    assert got == n and h.hexdigest() == data_sha
    assert growth < RSS_GROWTH_LIMIT_KIB, (
        f"proxy RSS grew by {growth / 1024:.1f} MiB during a 64 MiB transfer to a slow reader")
    assert sent_while_paused < n, "upstream could send everything although nobody read"


@pytest.mark.deadline(90)
def test_upstream_that_stops_reading_is_backpressured_not_buffered(proxy, upstreams, admin_port,
                                                                   payloads):
    """The client pushes 64 MiB to an upstream that stops reading: the
    client's sends must stall and the proxy's RSS must not absorb the data."""
    (data, data_sha), _ = payloads
    n = len(data)
    resume = threading.Event()

    def handler(conn, server):
        resume.wait(timeout=45)
        got, digest = read_exactly_hashed(conn, n)
        server.results.put((got, digest))
        conn.sendall(b"ok")
        conn.recv(1)

    up = upstreams(handler, conn_timeout=60)
    port = free_port()
    p = proxy(simple_config(admin_port, port, [up.address]), concurrency=1)
    baseline = idle_rss_kib(p)

    sampler = RssSampler(p)
    c = connect("127.0.0.1", port, timeout=30)
    off = send_until_stalled(c, data, 0, stall_after=1.0)
    time.sleep(0.5)
    peak = sampler.stop()
    stalled_at = off
    resume.set()
    send_buffer(c, memoryview(data)[off:])
    got, digest = up.results.get(timeout=45)
    assert recv_exact(c, 2) == b"ok"
    c.close()

    growth = peak - baseline
    print(f"baseline {baseline} KiB, peak {peak} KiB, growth {growth} KiB, "
          f"client stalled after {stalled_at / MiB:.1f} MiB")
    assert growth < RSS_GROWTH_LIMIT_KIB, (
        f"proxy RSS grew by {growth / 1024:.1f} MiB while the upstream was not reading")
    assert stalled_at < n, "client could send 64 MiB although the upstream never read"
    assert got == n and digest == data_sha


@pytest.mark.deadline(60)
def test_200_concurrent_connections_echo_distinct_payloads(proxy, upstreams, admin_port):
    N = 200
    up = upstreams(support.echo_handler, conn_timeout=40)
    port = free_port()
    p = proxy(simple_config(admin_port, port, [up.address]), concurrency=2)

    barrier = threading.Barrier(N, timeout=30)
    results: list = [None] * N

    def client(i: int) -> None:
        rnd = random.Random(i)
        payload = f"connection {i:04d} ".encode() + rnd.randbytes(1024 + 37 * i)
        try:
            with connect("127.0.0.1", port, timeout=30) as s:
                barrier.wait()  # all N connections are open at this point
                s.sendall(payload)
                got = recv_exact(s, len(payload))
                results[i] = True if got == payload else f"connection {i}: payload mismatch"
        except Exception as e:  # noqa: BLE001
            barrier.abort()
            results[i] = f"connection {i}: {e!r}"

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(N)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 45
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    failures = [r for r in results if r is not True]
    assert not failures, f"{len(failures)} of {N} failed, e.g. {failures[:5]}"
    assert up.accepted == N
    p.wait_for_stats({f"listener.127.0.0.1_{port}.downstream_cx_total": N})
