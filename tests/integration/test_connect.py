"""Connecting to servers: retries and redispatch, server maxconn queueing, global maxconn."""
import collections
import signal
import socket
import threading
import time

from harness import accept_backlog, check, config, get_name, hold, recv_exact, recv_until_eof, wait_for


def test_retry_redispatch_to_live_server(t):
    live = t.backend("live")
    dead = t.free_port()  # nothing listens there: connection refused
    port = t.free_port()
    sl = t.sluice(config(port, [f"dead 127.0.0.1:{dead}", f"live {live.addr}"],
                         listen=["option = redispatch", "retries = 2"]))
    counts, failures = collections.Counter(), []
    for _ in range(40):
        try:
            counts[get_name(port)] += 1
        except (OSError, AssertionError) as e:
            failures.append(repr(e))
    check(not failures and dict(counts) == {"live": 40},
          f"40 connections: {dict(counts)}, {len(failures)} failed {failures[:3]}")
    logs = sl.wait_tcplogs(40)
    retried = [lg for lg in logs if int(lg["rc"]) > 0]
    check(retried, "no tcplog line shows retries > 0 although 'dead' refuses every connection")
    check(all(lg["server"] == "live" and lg["term"] == "--" for lg in logs),
          f"every session should end on 'live' with '--': "
          f"{[(lg['server'], lg['term']) for lg in logs if lg['server'] != 'live' or lg['term'] != '--'][:5]}")


def test_no_redispatch_dead_server_closes(t):
    dead = t.free_port()
    port = t.free_port()
    sl = t.sluice(config(port, [f"dead 127.0.0.1:{dead}"], listen=["retries = 2"]))
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.0\r\n\r\n")
    got, how = recv_until_eof(s, t.timeout(5))
    check(got == b"", f"the client got data from a dead server: {got!r}")
    logs = sl.wait_tcplogs(1)
    lg = logs[0]
    check(lg["term"][0] == "S", f"termination state {lg['term']!r} should start with 'S'")
    check(int(lg["rc"]) == 2, f"retries field {lg['rc']} (expected 2 with retries 2)")


def _hold_client(t, port, tag, hold_s, res, served=None):
    """Connects, sends tag, waits for its echo (the server now serves it), holds, then closes its
    write side and waits for EOF. res[tag] = (echo time, end time) or an error string."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=t.timeout(10))
        t.track(s)
        s.sendall(tag)
        recv_exact(s, len(tag), t.timeout(10))
        t_echo = time.monotonic()
        if served:
            served.set()
        hold(hold_s)
        s.shutdown(socket.SHUT_WR)
        rest, how = recv_until_eof(s, t.timeout(10))
        res[tag] = (t_echo, time.monotonic(), rest, how)
    except Exception as e:  # reported by the main thread
        res[tag] = f"{type(e).__name__}: {e}"


def test_server_maxconn_queue(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr} maxconn 1"], listen=["timeout queue = 5s"]))
    res = {}
    ths = [threading.Thread(target=_hold_client, args=(t, port, b"c%d" % i, 0.3, res))
           for i in range(3)]
    t0 = time.monotonic()
    for th in ths:
        th.start()
    for th in ths:
        th.join(t.timeout(15))
    errs = {k: v for k, v in res.items() if isinstance(v, str)}
    check(len(res) == 3 and not errs, f"clients: {res}")
    spans = sorted(v[:2] for v in res.values())
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        check(s2 >= e1 - 0.02, f"two clients were served at once: {[(round(a - t0, 3), round(b - t0, 3)) for a, b in spans]}")
    total = max(e for _, e in spans) - t0
    check(total >= 0.85, f"3 x 300ms behind maxconn 1 finished in {total:.2f}s")
    logs = sl.wait_tcplogs(3)
    check(all(lg["term"] == "--" for lg in logs), f"terms {[lg['term'] for lg in logs]}")
    waited = sorted(int(lg["tw"]) for lg in logs)
    check(waited[-1] >= 250, f"Tw of the queued sessions {waited}: the last one waited ~600ms")


def test_server_maxconn_queue_timeout(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr} maxconn 1"], listen=["timeout queue = 100ms"]))
    res = {}
    served = threading.Event()
    first = threading.Thread(target=_hold_client, args=(t, port, b"first", 0.5, res, served))
    first.start()
    # The first client holds the only slot; then two more arrive and must time out in the queue.
    check(served.wait(t.timeout(5)), f"first client not served: {res}")
    extra = []
    for i in range(2):
        s = t.connect(port)
        s.sendall(b"late%d" % i)
        extra.append(s)
    t0 = time.monotonic()
    for i, s in enumerate(extra):
        got, how = recv_until_eof(s, t.timeout(3))
        check(got == b"", f"queued client {i} got {got!r}: it should have been closed unserved")
    dt = time.monotonic() - t0
    check(dt < 0.45 * t.scale, f"queued clients closed after {dt:.2f}s, timeout queue is 100ms")
    first.join(t.timeout(10))
    check(not isinstance(res.get(b"first"), str), f"first client: {res.get(b'first')}")
    logs = sl.wait_tcplogs(3)
    terms = sorted(lg["term"] for lg in logs)
    check(terms == ["--", "sQ", "sQ"], f"termination states {terms}, expected -- sQ sQ")


def test_global_maxconn(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], global_=["maxconn = 2"]))
    held = []
    for i in range(2):
        s = t.connect(port)
        s.sendall(b"h%d" % i)
        check(recv_exact(s, 2, t.timeout(5)) == b"h%d" % i, "echo failed")
        held.append(s)
    third = t.connect(port)  # the kernel may complete the handshake; sluice must not serve it
    third.sendall(b"third")
    third.settimeout(0.4 * t.scale)
    try:
        got = third.recv(100)
    except socket.timeout:
        got = None
    check(got is None, f"a third connection was served under global maxconn 2 (got {got!r})")
    held[0].shutdown(socket.SHUT_WR)
    recv_until_eof(held[0], t.timeout(5))
    held[0].close()
    check(recv_exact(third, 5, t.timeout(5)) == b"third",
          "the waiting connection was not served after a slot was freed")
    for s in (held[1], third):
        s.shutdown(socket.SHUT_WR)
        recv_until_eof(s, t.timeout(5))
    logs = sl.wait_tcplogs(3)
    check(max(int(lg["ac"]) for lg in logs) <= 2, f"active counts {[lg['ac'] for lg in logs]} > 2")


def test_queue_timeout_defaults_to_connect_timeout(t):
    # Without `timeout queue`, a queued session waits `timeout connect` (as in HAProxy).
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr} maxconn 1"], defaults=["timeout connect = 300ms"]))
    first = t.connect(port)
    first.sendall(b"1")
    check(recv_exact(first, 1, t.timeout(5)) == b"1", "first not served")
    late = t.connect(port)
    late.sendall(b"2")
    t0 = time.monotonic()
    got, how = recv_until_eof(late, t.timeout(5))
    dt = time.monotonic() - t0
    check(got == b"" and 0.25 <= dt <= 1.0 * t.scale,
          f"queued session: got {got!r} after {dt:.2f}s (timeout connect 300ms)")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "sQ", f"termination state {lg['term']!r}, expected 'sQ'")


def test_sigterm_with_a_queued_session(t):
    # Draining also finishes sessions still waiting in a queue: served once the slot frees.
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr} maxconn 1"], listen=["timeout queue = 10s"]))
    first = t.connect(port)
    first.sendall(b"1")
    check(recv_exact(first, 1, t.timeout(5)) == b"1", "first not served")
    queued = t.connect(port)
    queued.sendall(b"2")
    wait_for(lambda: accept_backlog(port) == 0, t.timeout(5), "sluice to accept the 2nd connection")
    sl.signal(signal.SIGTERM)
    sl.wait_log("received SIGTERM")
    first.shutdown(socket.SHUT_WR)
    recv_until_eof(first, t.timeout(5))
    check(recv_exact(queued, 1, t.timeout(5)) == b"2", "the queued session was not served")
    queued.shutdown(socket.SHUT_WR)
    recv_until_eof(queued, t.timeout(5))
    rc = sl.wait(t.timeout(3))
    check(rc == 0, f"exit code {rc}")
