"""tcp_proxy idle_timeout."""

import threading
import time

from support import connect, free_port, recv_exact, simple_config, wait_closed


def test_idle_connection_closed_and_active_one_kept(proxy, upstreams, admin_port):
    up = upstreams()
    port = free_port()
    proxy(simple_config(admin_port, port, [up.address], idle_timeout="1s"))

    # Both connections run at the same time to keep the test short.
    active_result = {}

    def keep_busy():
        try:
            with connect("127.0.0.1", port, timeout=5) as s:
                start = time.monotonic()
                i = 0
                while time.monotonic() - start < 2.5:
                    msg = f"ping {i}".encode()
                    s.sendall(msg)
                    assert recv_exact(s, len(msg)) == msg
                    i += 1
                    time.sleep(0.3)
                # still open after 2.5 s of traffic every 0.3 s
                s.sendall(b"still here")
                active_result["ok"] = recv_exact(s, 10) == b"still here"
        except Exception as e:  # noqa: BLE001
            active_result["error"] = repr(e)

    t = threading.Thread(target=keep_busy, daemon=True)
    t.start()

    idle = connect("127.0.0.1", port, timeout=5)
    idle.sendall(b"hello")
    assert recv_exact(idle, 5) == b"hello"
    elapsed, data = wait_closed(idle, timeout=5)
    idle.close()
    assert data == b""
    assert 0.5 <= elapsed <= 3.0, f"idle connection closed after {elapsed:.2f}s (idle_timeout 1s)"

    t.join(timeout=10)
    assert active_result == {"ok": True}, active_result
