"""Idle and connect timeouts, with their tcplog termination states."""
import socket
import time

from harness import Skip, check, config, hold, recv_exact, recv_until_eof, wait_for


def test_client_timeout(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], defaults=["timeout client = 300ms"]))
    s = t.connect(port)
    s.sendall(b"x")
    check(recv_exact(s, 1, t.timeout(5)) == b"x", "no echo")
    t0 = time.monotonic()
    got, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(got == b"", f"unexpected data {got!r}")
    check(0.25 <= dt <= 1.0 * t.scale, f"idle client closed after {dt:.2f}s (timeout client 300ms)")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "cD", f"termination state {lg['term']!r}, expected 'cD'")


def test_client_timeout_resets_on_activity(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], defaults=["timeout client = 300ms"]))
    s = t.connect(port)
    t0 = time.monotonic()
    for i in range(6):  # 6 x 150ms of activity: 900ms in all, never 300ms idle
        s.sendall(b"%d" % i)
        check(recv_exact(s, 1, t.timeout(5)) == b"%d" % i, f"echo {i} failed: closed early?")
        hold(0.15)
    check(time.monotonic() - t0 >= 0.9, "loop too short")
    check(not sl.tcplogs(), f"session ended although it was active: {sl.tcplogs()}")


def test_server_timeout(t):
    srv = t.pyserver("silent")
    port = t.free_port()
    sl = t.sluice(config(port, [f"silent {srv.addr}"], defaults=["timeout server = 300ms"]))
    s = t.connect(port)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    t0 = time.monotonic()
    got, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(got == b"", f"unexpected data {got!r}")
    check(0.25 <= dt <= 1.0 * t.scale, f"closed after {dt:.2f}s (timeout server 300ms)")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "sD", f"termination state {lg['term']!r}, expected 'sD'")


def test_server_timeout_sink_backend(t):
    b = t.backend("sink", mode="sink")
    port = t.free_port()
    sl = t.sluice(config(port, [f"sink {b.addr}"], defaults=["timeout server = 300ms"]))
    s = t.connect(port)
    s.sendall(b"data the sink swallows without a word")
    got, how = recv_until_eof(s, t.timeout(5))
    check(got == b"", f"unexpected data {got!r}")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "sD", f"termination state {lg['term']!r}, expected 'sD'")


def test_connect_timeout(t):
    # A listener whose accept queue is full drops SYNs: connect() hangs, all on loopback.
    full = socket.socket()
    t.track(full)
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fport = full.getsockname()[1]
    fillers = []
    for _ in range(8):
        c = t.track(socket.socket())
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", fport))
        fillers.append(c)
    probe = t.track(socket.socket())
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", fport))
        raise Skip("a listener with a full backlog still completes handshakes here")
    except socket.timeout:
        pass
    finally:
        probe.close()
    port = t.free_port()
    sl = t.sluice(config(port, [f"blackhole 127.0.0.1:{fport}"],
                         defaults=["timeout connect = 300ms"], listen=["retries = 0"]))
    s = t.connect(port)
    t0 = time.monotonic()
    got, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(got == b"", f"unexpected data {got!r}")
    check(0.25 <= dt <= 1.0 * t.scale, f"closed after {dt:.2f}s (timeout connect 300ms)")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "sC", f"termination state {lg['term']!r}, expected 'sC'")


def test_connect_timeout_retries(t):
    # Same black hole with retries 2: three attempts of 300ms each before giving up.
    full = t.track(socket.socket())
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fport = full.getsockname()[1]
    for _ in range(8):
        c = t.track(socket.socket())
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", fport))
    port = t.free_port()
    sl = t.sluice(config(port, [f"blackhole 127.0.0.1:{fport}"],
                         defaults=["timeout connect = 300ms"], listen=["retries = 2"]))
    s = t.connect(port)
    t0 = time.monotonic()
    got, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    lg = sl.wait_tcplogs(1)[0]
    if lg["term"] != "sC" and dt < 0.3:
        raise Skip("the black hole accepted the connection")
    check(0.8 <= dt <= 2.0 * t.scale, f"closed after {dt:.2f}s (3 x timeout connect 300ms)")
    check(lg["term"] == "sC" and lg["rc"] == "2", f"tcplog {lg['term']} retries {lg['rc']}, "
          "expected sC and 2")


def test_client_timeout_counts_from_last_activity(t):
    # One session on a single worker, the server never answers: after 0.9s of silence the
    # client sends a byte; `timeout client 1s` must then give it ~1s more, not ~0.1s.
    b = t.backend("sink", mode="sink")
    port = t.free_port()
    sl = t.sluice(config(port, [f"sink {b.addr}"], nbthread=1,
                         defaults=["timeout client = 1s", "timeout server = 10s"]))
    s = t.connect(port)
    s.sendall(b"a")
    hold(0.9)
    s.sendall(b"b")
    t1 = time.monotonic()
    got, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t1
    check(dt >= 0.8, f"closed {dt:.2f}s after the client's last byte, timeout client is 1s")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "cD", f"termination state {lg['term']!r}")


def test_tcplog_total_time(t):
    # The session ends on the client's close after 0.5s of silence: Tt must cover that time.
    b = t.backend("src", mode="source", nbytes=1000)
    port = t.free_port()
    sl = t.sluice(config(port, [f"src {b.addr}"], nbthread=1))
    s = t.connect(port)
    t0 = time.monotonic()
    recv_until_eof(s, t.timeout(5))
    hold(0.5)
    s.close()
    lived = time.monotonic() - t0
    lg = sl.wait_tcplogs(1)[0]
    check(int(lg["tt"]) >= (lived - 0.05) * 1000,
          f"tcplog Tt={lg['tt']}ms but the session lived {lived * 1000:.0f}ms")


def test_client_fin_timeout(t):
    """A server that sends its data and half-closes (its FIN passed on to the client) and a
    client that never closes its side: timeout client-fin ends the session long before timeout
    client (HAProxy's FIN_WAIT case), and blames the client."""
    b = t.backend("src", mode="source", nbytes=100)
    port = t.free_port()
    sl = t.sluice(config(port, [f"src {b.addr}"], defaults=[
        "timeout client = 20s", "timeout server = 20s", "timeout client-fin = 300ms"]))
    s = t.connect(port)
    check(len(recv_exact(s, 100, t.timeout(5))) == 100, "the server's 100 bytes")
    t0 = time.monotonic()
    lg = sl.wait_tcplogs(1, timeout=t.timeout(10))[0]
    dt = time.monotonic() - t0
    check(dt <= 2.0 * t.scale, f"session ended after {dt:.2f}s (timeout client-fin 300ms)")
    check(lg["term"] == "cD", f"termination state {lg['term']!r}, expected 'cD'")


def test_server_fin_timeout(t):
    """A client that half-closes (its FIN passed on to the server) and a server that never
    answers nor closes: timeout server-fin ends the session long before timeout server, and
    blames the server."""
    srv = t.pyserver("silent")
    port = t.free_port()
    sl = t.sluice(config(port, [f"silent {srv.addr}"], defaults=[
        "timeout client = 20s", "timeout server = 20s", "timeout server-fin = 300ms"]))
    s = t.connect(port)
    s.sendall(b"last words")
    s.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    got, how = recv_until_eof(s, t.timeout(10))
    dt = time.monotonic() - t0
    check(got == b"" and how == "eof", f"unexpected {got!r} ({how})")
    check(0.25 <= dt <= 2.0 * t.scale, f"half-closed session closed after {dt:.2f}s "
          "(timeout server-fin 300ms, server 20s)")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "sD", f"termination state {lg['term']!r}, expected 'sD'")


def _answer_at_eof(delay):
    """A server that reads its request to EOF, thinks `delay` seconds, answers and closes."""
    def handler(c, srv):
        data, _ = recv_until_eof(c, srv.timeout)
        hold(delay)
        c.sendall(b"answer to " + data)
    return handler


def test_client_fin_spares_a_client_owed_nothing(t):
    """A client that sends its request and half-closes is owed nothing until the server
    answers: timeout client-fin must not cut a server that takes longer than it to answer (as
    HAProxy, whose client side has no timer then)."""
    srv = t.pyserver("handler", handler=_answer_at_eof(1.0))
    port = t.free_port()
    sl = t.sluice(config(port, [f"slow {srv.addr}"], defaults=[
        "timeout client = 20s", "timeout server = 20s", "timeout client-fin = 300ms"]))
    s = t.connect(port)
    s.sendall(b"question")
    s.shutdown(socket.SHUT_WR)
    got, how = recv_until_eof(s, t.timeout(10))
    check(got == b"answer to question" and how == "eof",
          f"the server's late answer did not arrive: {got!r} ({how})")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "--", f"termination state {lg['term']!r}, expected '--'")


def test_server_fin_spares_a_server_owed_nothing(t):
    """A server that answers and half-closes while its client still sends is owed nothing:
    timeout server-fin must not cut a client that pauses longer than it between sends."""
    def handler(c, srv):
        c.sendall(b"hello")
        c.shutdown(socket.SHUT_WR)
        while chunk := c.recv(65536):
            srv.got += chunk
    srv = t.pyserver("handler", handler=handler)
    srv.got = b""
    port = t.free_port()
    sl = t.sluice(config(port, [f"early {srv.addr}"], defaults=[
        "timeout client = 20s", "timeout server = 20s", "timeout server-fin = 300ms"]))
    s = t.connect(port)
    got, how = recv_until_eof(s, t.timeout(5))
    check(got == b"hello" and how == "eof", f"the server's greeting: {got!r} ({how})")
    for i in range(3):
        hold(0.6)
        try:
            s.sendall(b"part%d;" % i)
        except OSError:  # sluice closed the session: srv.got tells
            break
    s.close()
    lg = sl.wait_tcplogs(1, timeout=t.timeout(10))[0]
    wait_for(lambda: srv.got == b"part0;part1;part2;", t.timeout(5),
             f"the server got every part (it got {srv.got!r}, tcplog {lg['term']})")
    check(lg["term"] == "--", f"termination state {lg['term']!r}, expected '--'")


def test_half_closed_client_waits_for_a_slow_server(t):
    """A client that sends its request and half-closes (nc -N) is owed the answer: it is not
    timed while it waits, so a server slower than timeout client still answers (HAProxy)."""
    def handler(sock, srv):
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        hold(0.8)  # longer than timeout client
        sock.sendall(b"answer to " + data)
    srv = t.pyserver("handler", handler=handler)
    port = t.free_port()
    sl = t.sluice(config(port, [f"slow {srv.addr}"], defaults=[
        "timeout client = 300ms", "timeout server = 10s"]))
    s = t.connect(port)
    s.sendall(b"question")
    s.shutdown(socket.SHUT_WR)
    got, how = recv_until_eof(s, t.timeout(10))
    check(got == b"answer to question", f"the slow server's answer: {got!r} ({how})")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "--", f"termination state {lg['term']!r}, expected '--'")
