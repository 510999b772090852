"""tune.send-batching: the small writes of a batch of events go out with one io_uring system call.
The counters of `show info` prove the path is taken (or not, when off); the traffic through it
stays byte-identical and in order, including when the client stops reading and the batched
writes come back short or with EAGAIN."""
import array
import fcntl
import os
import socket
import termios
import threading

from harness import (PATTERN64, BufSock, check, config, header, http_config, http_response,
                     pattern_bytes, read_http_response, read_request, wait_for)
from test_cli_api import cli
from test_http_conn import _get_many, _stats


def _info(sock):
    text = cli(sock, "show info")
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return {k: int(fields[k]) for k in ("SendBatchingWorkers", "BatchedSends", "SendBatchCalls",
                                             "BatchedSendsBlocked")}


def _http(t, global_=()):
    b = t.backend("b1")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]},
                         global_=[f"stats socket = {sock} level admin"] + list(global_)))
    return b, port, sock


def test_send_batching_on_by_default(t):
    b, port, sock = _http(t)
    before = _info(sock)
    check(before["SendBatchingWorkers"] == 2, f"both workers should batch: {before}")
    _get_many(port, t, 200)
    _, requests = _stats(b.port, t)
    check(requests == 200, f"the backend saw {requests} requests, expected 200")

    def counted():
        return _info(sock)["BatchedSends"] - before["BatchedSends"] >= 400
    wait_for(counted, t.timeout(5), "400 batched writes (request and response of each exchange)")
    after = _info(sock)
    calls = after["SendBatchCalls"] - before["SendBatchCalls"]
    sends = after["BatchedSends"] - before["BatchedSends"]
    check(0 < calls <= sends, f"{sends} batched writes in {calls} system calls")


def test_send_batching_off(t):
    b, port, sock = _http(t, global_=["tune.send-batching = off"])
    _get_many(port, t, 50)
    info = _info(sock)
    check(info == {"SendBatchingWorkers": 0, "BatchedSends": 0, "SendBatchCalls": 0,
                   "BatchedSendsBlocked": 0},
          f"tune.send-batching = off still batched: {info}")


def _size(i):
    # Sizes whose response (head included) stays within the 4 KiB of a batched write.
    return 100 + (i * 397) % 3500


def _fionread(s):
    buf = array.array("i", [0])
    fcntl.ioctl(s.fileno(), termios.FIONREAD, buf)
    return buf[0]


def _pipeline_unread(t, size, expect_blocked):
    b, port, sock = _http(t)
    n = 6000
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # fills sooner
    s.connect(("127.0.0.1", port))
    t.track(s)
    reqs = b"".join(b"GET /size/%d HTTP/1.1\r\nHost: t\r\n\r\n" % size(i) for i in range(n))
    sender = threading.Thread(target=s.sendall, args=(reqs,), daemon=True)
    sender.start()
    if expect_blocked:
        # Readiness: a batched write to this client came back short or EAGAIN. The responses
        # (11 MB) outgrow the client's 64 KiB receive buffer plus sluice's send buffer (at most
        # tcp_wmem's 4 MiB), so it must happen.
        wait_for(lambda: _info(sock)["BatchedSendsBlocked"] > 0, t.timeout(10),
                 "a batched write to block", interval=0.02)
    else:
        # Readiness: the client's receive queue is full.
        wait_for(lambda: _fionread(s) >= 32768, t.timeout(10), "the client's receive queue to fill")
    bs = BufSock(s, t.timeout(20))
    for i in range(n):
        status, fields, body = read_http_response(bs)
        want = pattern_bytes(size(i))
        check(status == 200 and body == want,
              f"response {i}: status {status}, {len(body)} bytes, expected {len(want)}")
    sender.join(t.timeout(5))
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"b1", f"after the pipeline: {status} {body!r}")
    info = _info(sock)
    check(info["BatchedSends"] > n, f"the responses were not batched: {info}")
    check(not expect_blocked or info["BatchedSendsBlocked"] > 0,
          f"no batched write came back short or EAGAIN: the test did not block sluice: {info}")


def test_send_batching_client_stops_reading(t):
    """6000 pipelined requests while the client does not read: sluice's writes to it fill the
    socket and come back short or EAGAIN; once it reads, every response arrives whole and in
    order."""
    _pipeline_unread(t, _size, True)


def test_send_batching_mixed_sizes_client_stops_reading(t):
    """The same with every 50th response too large to batch (written directly, then spliced):
    batched and direct writes to one socket keep their order through blocking."""
    _pipeline_unread(t, lambda i: 10000 if i % 50 == 49 else _size(i), False)


def test_send_batching_tcp_echo(t):
    """mode tcp: 20 clients x 200 small round trips through an echo backend, batched both ways."""
    b = t.backend("e1", mode="echo")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    t.sluice(config(port, [f"e1 {b.addr}"], global_=[f"stats socket = {sock} level admin"]))
    errors = []

    def client(k):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=t.timeout(10))
            with c:
                for i in range(200):
                    msg = PATTERN64[(k + i) % 64:] + b"%d-%d\n" % (k, i)
                    c.sendall(msg)
                    got = b""
                    while len(got) < len(msg):
                        chunk = c.recv(65536)
                        if not chunk:
                            raise AssertionError(f"client {k}: EOF at round trip {i}")
                        got += chunk
                    if got != msg:
                        raise AssertionError(f"client {k} round trip {i}: {got!r} != {msg!r}")
        except Exception as e:  # reported below, in the test's thread
            errors.append(f"{type(e).__name__}: {e}")
    threads = [threading.Thread(target=client, args=(k,)) for k in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(t.timeout(30))
    check(not errors, f"echo through sluice failed: {errors[:3]}")
    info = _info(sock)
    check(info["BatchedSends"] >= 2 * 20 * 200,
          f"expected every write of the 4000 round trips batched, got {info}")


def _early_hints_handler(sock, srv):
    """Answers each request with a 103 and the final 200 in one write: sluice reads both at once
    while the 103 it passes on is still a batched write."""
    bs = BufSock(sock, srv.timeout)
    while True:
        read_request(bs)
        sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" +
                     http_response(200, b"final", [("X-Seq", "1")]))


def test_send_batching_interim_and_final_in_one_read(t):
    srv = t.pyserver("handler", handler=_early_hints_handler)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"h1 127.0.0.1:{srv.port}"]}))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    for i in range(3):
        s.sendall(b"GET /hints HTTP/1.1\r\nHost: t\r\n\r\n")
        status, fields, body = read_http_response(bs)
        check(status == 103 and header(fields, "link") == "</s.css>; rel=preload",
              f"request {i}: expected the 103 first, got {status} {fields}")
        status, fields, body = read_http_response(bs)
        check(status == 200 and body == b"final" and header(fields, "x-seq") == "1",
              f"request {i}: final response {status} {fields} {body!r}")


_HINT = b"HTTP/1.1 103 Early Hints\r\nLink: </" + b"x" * 3000 + b">; rel=preload\r\n\r\n"


def _many_hints_handler(sock, srv):
    """3000 103 responses of 3 KB, then the final 200, in one write."""
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(_HINT * 3000 + http_response(200, b"final"))
    bs.read_until(b"never", limit=1)  # hold the connection until sluice closes it


def _interim_blocked(t, global_):
    """Interim responses whose writes block (a client with a 4 KiB receive buffer) while the
    final response already sits in sluice's buffer: once the last 103 is written the final one
    must follow (it used to wait for an event that never came, until timeout server)."""
    srv = t.pyserver("handler", handler=_many_hints_handler)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"h1 127.0.0.1:{srv.port}"]}, global_=global_,
                         defaults=["timeout server = 30s"]))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t.track(s)
    s.sendall(b"GET /hints HTTP/1.1\r\nHost: t\r\n\r\n")
    # Readiness: the client's receive queue is full, so sluice's writes to it block.
    wait_for(lambda: _fionread(s) >= 4096, t.timeout(10), "the client's receive queue to fill")
    bs = BufSock(s, t.timeout(10))
    for i in range(3000):
        status, _, _ = read_http_response(bs)
        check(status == 103, f"interim response {i}: status {status}")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"final", f"final response: {status} {body!r}")


def test_send_batching_interim_writes_block(t):
    _interim_blocked(t, [])


def test_send_batching_off_interim_writes_block(t):
    _interim_blocked(t, ["tune.send-batching = off"])
