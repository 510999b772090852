"""Edge cases: split PROXY headers, resets on either side, many concurrent sessions, server
options (disabled, weight 0), frontend/backend sections, leaks visible as a slow drain."""
import collections
import signal
import socket
import struct
import threading
import time

from harness import (check, config, get_name, hold, recv_exact, recv_until_eof, wait_for)


def _exits_fast(t, sl, what):
    """SIGTERM must stop an idle sluice at once: a leaked session would hold the 10s drain."""
    t0 = time.monotonic()
    sl.signal(signal.SIGTERM)
    rc = sl.wait(t.timeout(3))
    check(rc == 0, f"{what}: exit code {rc} after SIGTERM (a session leaked into the drain?)")
    check(time.monotonic() - t0 < 1.5 * t.scale, f"{what}: slow exit")


def test_proxy_header_in_pieces(t):
    b = t.backend("pp", proxy_proto=True)
    port = t.free_port()
    text = config(port, [f"pp {b.addr} send-proxy"], bind_opts="accept-proxy")
    t.sluice(text)
    v2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + socket.inet_aton("9.8.7.6") +
          socket.inet_aton("127.0.0.1") + struct.pack("!HH", 4321, 80))
    for name, hdr, want in (("v1", b"PROXY TCP4 9.8.7.6 127.0.0.1 4321 80\r\n", b"9.8.7.6:4321"),
                            ("v2", v2, b"9.8.7.6:4321")):
        for cut in (3, 14, len(hdr) - 1):
            s = t.connect(port)
            s.sendall(hdr[:cut])
            hold(0.05)  # the first piece is read alone
            s.sendall(hdr[cut:] + b"GET /client HTTP/1.0\r\n\r\n")
            raw, how = recv_until_eof(s, t.timeout(5))
            check(raw.endswith(want), f"{name} header cut at {cut}: backend answered {raw[-60:]!r}")
            s.close()


def test_accept_proxy_header_never_comes(t):
    b = t.backend("plain")
    port = t.free_port()
    sl = t.sluice(config(port, [f"plain {b.addr}"], bind_opts="accept-proxy",
                         defaults=["timeout client = 300ms"]))
    s = t.connect(port)
    got, how = recv_until_eof(s, t.timeout(5))
    check(got == b"", f"got {got!r}")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "cR", f"termination state {lg['term']!r}, expected 'cR'")


def test_client_reset_mid_download(t):
    b = t.backend("src", mode="source", nbytes=1 << 30)  # 1 GiB: still flowing when we reset
    port = t.free_port()
    sl = t.sluice(config(port, [f"src {b.addr}"]))
    for _ in range(3):
        s = t.connect(port)
        recv_exact(s, 4 << 20, t.timeout(10))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    logs = sl.wait_tcplogs(3)
    check(all(lg["term"][0] == "C" for lg in logs),
          f"termination states {[lg['term'] for lg in logs]}, expected C? (client aborted)")
    _exits_fast(t, sl, "after client resets")


def test_server_dies_mid_download(t):
    b = t.backend("src", mode="source", nbytes=1 << 30)
    port = t.free_port()
    sl = t.sluice(config(port, [f"src {b.addr}"]))
    s = t.connect(port)
    recv_exact(s, 4 << 20, t.timeout(10))
    b.kill()
    got, how = recv_until_eof(s, t.timeout(10), limit=1 << 31)
    # The server's FIN was forwarded; the session now waits for ours (half-close).
    s.close()
    logs = sl.wait_tcplogs(1)
    check(int(logs[0]["bytes"]) >= 4 << 20, f"tcplog bytes {logs[0]['bytes']}")
    _exits_fast(t, sl, "after a server died")


def test_many_concurrent_sessions(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]))
    n = 200
    socks = []
    for i in range(n):
        s = t.connect(port)
        s.sendall(b"%06d" % i)
        socks.append(s)
    for i, s in enumerate(socks):
        check(recv_exact(s, 6, t.timeout(10)) == b"%06d" % i, f"session {i}: wrong echo")
    for s in socks:
        s.shutdown(socket.SHUT_WR)
    for i, s in enumerate(socks):
        rest, how = recv_until_eof(s, t.timeout(10))
        check(rest == b"" and how == "eof", f"session {i}: {rest!r} {how}")
        s.close()
    logs = sl.wait_tcplogs(n)
    check(all(lg["term"] == "--" for lg in logs),
          f"termination states {collections.Counter(lg['term'] for lg in logs)}")
    check(max(int(lg["ac"]) for lg in logs) >= n // 2, "sessions were not concurrent")
    _exits_fast(t, sl, "after 200 sessions")


def test_maxconn_queue_many_clients(t):
    # 8 clients behind one server slot, arriving at once (spread over both workers): all are
    # served, one at a time.
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr} maxconn 1"], listen=["timeout queue = 10s"]))
    res, lock = {}, threading.Lock()

    def client(i):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(15)) as s:
                s.sendall(b"%d" % i)
                recv_exact(s, 1, t.timeout(15))
                t1 = time.monotonic()
                hold(0.1)
                s.shutdown(socket.SHUT_WR)
                recv_until_eof(s, t.timeout(15))
                with lock:
                    res[i] = (t1, time.monotonic())
        except Exception as e:
            with lock:
                res[i] = f"{type(e).__name__}: {e}"
    ths = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(t.timeout(20))
    errs = {k: v for k, v in res.items() if isinstance(v, str)}
    check(len(res) == 8 and not errs, f"{8 - len(res)} clients unfinished, errors {errs}")
    spans = sorted(res.values())
    overlaps = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] < a[1] - 0.02]
    check(not overlaps, f"{len(overlaps)} pairs of clients were at the server together")
    logs = sl.wait_tcplogs(8)
    check(all(lg["term"] == "--" for lg in logs), f"terms {[lg['term'] for lg in logs]}")
    _exits_fast(t, sl, "after queueing")


def test_disabled_and_weight_zero_servers(t):
    bs = {n: t.backend(n) for n in ("on", "off", "zero")}
    port = t.free_port()
    t.sluice(config(port, [f"on {bs['on'].addr}", f"off {bs['off'].addr} disabled",
                           f"zero {bs['zero'].addr} weight 0"]))
    counts = collections.Counter(get_name(port) for _ in range(30))
    check(dict(counts) == {"on": 30}, f"disabled / weight 0 servers got traffic: {dict(counts)}")


def test_frontend_backend_sections(t):
    b1, b2 = t.backend("x1"), t.backend("x2")
    p1, p2 = t.free_port(), t.free_port()
    text = f"""[global]
nbthread = 2
log = stderr

[defaults]
mode = tcp
timeout connect = 2s
timeout client = 5s
timeout server = 5s
option = tcplog
balance = static-rr

[frontend fe]
bind = 127.0.0.1:{p1},127.0.0.1:{p2}
default_backend = pool

[backend pool]
server = x1 {b1.addr} weight 1
server x2 = {b2.addr} weight 3
"""
    sl = t.sluice(text)
    counts = collections.Counter(get_name(p) for p in (p1, p2) * 20)
    # Each worker has its own cursor: exact 10/30 only within a worker's cycle.
    check(set(counts) == {"x1", "x2"} and 6 <= counts["x1"] <= 14 and sum(counts.values()) == 40,
          f"static-rr 1:3 over two binds, 40 requests: {dict(counts)} (x1 ~10)")
    logs = sl.wait_tcplogs(40)
    check({(lg["frontend"], lg["backend"]) for lg in logs} == {("fe", "pool")},
          f"tcplog names {set((lg['frontend'], lg['backend']) for lg in logs)}")


def test_frontend_maxconn(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], listen=["maxconn = 1"]))
    first = t.connect(port)
    first.sendall(b"1")
    check(recv_exact(first, 1, t.timeout(5)) == b"1", "first not served")
    second = t.connect(port)
    second.sendall(b"2")
    second.settimeout(0.4 * t.scale)
    try:
        got = second.recv(10)
    except socket.timeout:
        got = None
    check(got is None, f"second connection served under maxconn 1: {got!r}")
    first.shutdown(socket.SHUT_WR)
    recv_until_eof(first, t.timeout(5))
    check(recv_exact(second, 1, t.timeout(5)) == b"2", "second not served after the first left")
    wait_for(lambda: sl.running(), 1, "sluice")
