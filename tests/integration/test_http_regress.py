"""Regressions found by adversarial testing of batched writes (none caused by batching; each is
checked with tune.send-batching on and off): a client slower than `timeout server`, pipelined
requests after a chunked body, a log line per pipelined request, and an error page after an
interim response the client has not read yet."""
import socket
import struct
import threading
import time

from harness import (BufSock, check, config, http_config, http_response, pattern_bytes, hold,
                     read_http_response, read_request, recv_until_eof, wait_for)

OFF = ["tune.send-batching = off"]


def _slow_client_http(t, global_):
    """A client that stops reading for longer than `timeout server` in the middle of a 20 MiB
    response: sluice waits on the client then, not on the server, so the download completes."""
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, global_=global_, nbthread=1,
                         defaults=["timeout server = 1s"]))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t.track(s)
    n = 20 << 20
    s.sendall(b"GET /size/%d HTTP/1.1\r\nHost: t\r\n\r\n" % n)
    bs = BufSock(s, t.timeout(10))
    bs.read_until(b"\r\n\r\n")
    hold(2.5)  # the client is busy for 2.5 timeouts of the server
    check(bs.read_exact(n) == pattern_bytes(n), "the body differs")


def test_http_client_slower_than_timeout_server(t):
    _slow_client_http(t, [])


def test_http_client_slower_than_timeout_server_no_batching(t):
    _slow_client_http(t, OFF)


def test_tcp_client_slower_than_timeout_server(t):
    """mode tcp: the same with a source backend; the cut used to end with a clean FIN."""
    b = t.backend("src", mode="source", nbytes=20 << 20)
    port = t.free_port()
    t.sluice(config(port, [f"src {b.addr}"], nbthread=1, defaults=["timeout server = 1s"]))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t.track(s)
    hold(2.5)
    data, how = recv_until_eof(s, t.timeout(10), limit=30 << 20)
    check(len(data) == 20 << 20 and data == pattern_bytes(20 << 20),
          f"{len(data)} of {20 << 20} bytes, then {how}")


def _echo_chunked_then_gets(sock, srv):
    """First request: a chunked POST whose head and first chunk arrive alone (srv.first set),
    answered with its body; then GETs answered with their path."""
    bs = BufSock(sock, srv.timeout)
    bs.read_until(b"5\r\nhello\r\n")
    srv.first.set()
    bs.read_until(b"0\r\n\r\n")
    sock.sendall(http_response(200, b"hello"))
    while True:
        req = read_request(bs)
        sock.sendall(http_response(200, req["target"].encode()))


def _pipeline_after_chunked(t, global_):
    srv = t.pyserver("handler", handler=_echo_chunked_then_gets)
    srv.first = threading.Event()
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py 127.0.0.1:{srv.port}"]}, global_=global_,
                         nbthread=1))
    s = t.connect(port)
    s.sendall(b"POST /first HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n")
    wait_for(srv.first.is_set, t.timeout(5), "the head and first chunk at the server")
    count = 400  # ~20 KB of pipelined requests right behind the body's end, in one write
    gets = b"".join(b"GET /g%d HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n" % i
                    for i in range(count))
    s.sendall(b"0\r\n\r\n" + gets)
    bs = BufSock(s, t.timeout(10))
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"hello", f"chunked POST: {status} {body!r}")
    for i in range(count):
        status, _, body = read_http_response(bs)
        check(status == 200 and body == b"/g%d" % i, f"GET {i}: {status} {body!r}")


def test_http_pipeline_after_chunked_body(t):
    _pipeline_after_chunked(t, [])


def test_http_pipeline_after_chunked_body_no_batching(t):
    _pipeline_after_chunked(t, OFF)


def test_http_pipelined_requests_each_logged(t):
    b = t.backend("b1")
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1))
    s = t.connect(port)
    s.sendall(b"".join(b"GET /size/%d HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in range(1, 6)))
    bs = BufSock(s, t.timeout(5))
    for n in range(1, 6):
        status, _, body = read_http_response(bs)
        check(status == 200 and body == pattern_bytes(n), f"request {n}: {status}")
    logs = sl.wait_httplogs(5)
    reqs = [lg["request"] for lg in logs]
    check(reqs == [f"GET /size/{n} HTTP/1.1" for n in range(1, 6)],
          f"one line per pipelined request expected: {reqs}")


_HINT = b"HTTP/1.1 103 Early Hints\r\nLink: </" + b"x" * 3000 + b">; rel=preload\r\n\r\n"


def _hints_then_reset(sock, srv):
    """103s until sluice stops taking them (it is blocked on the client), then a reset."""
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.setblocking(False)
    pending, idle_since = b"", time.monotonic()
    # Workload: no readiness signal tells that sluice stopped reading; 0.5 s without progress
    # (its buffers toward a 4 KiB client hold a few MB) does.
    while time.monotonic() - idle_since < 0.5:
        pending = pending or _HINT
        try:
            pending = pending[sock.send(pending):]
            idle_since = time.monotonic()
        except BlockingIOError:
            hold(0.01)
    sock.setblocking(True)
    sock.settimeout(0.5)
    try:
        if pending and pending != _HINT:
            sock.sendall(pending)  # the last 103 whole
    except OSError:
        pass
    srv.reset = True
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _error_after_pending_interim(t, global_):
    """The server fails while 103s are still on their way to the client: the 502 page must come
    after the last whole 103 (it used to overwrite the pending bytes mid-message)."""
    srv = t.pyserver("handler", handler=_hints_then_reset)
    srv.reset = False
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py 127.0.0.1:{srv.port}"]}, global_=global_,
                         nbthread=1))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t.track(s)
    s.sendall(b"GET /hints HTTP/1.1\r\nHost: t\r\n\r\n")
    wait_for(lambda: srv.reset, t.timeout(20), "the server to reset while sluice is blocked")
    data, how = recv_until_eof(s, t.timeout(10), limit=1 << 30)
    k = 0
    while data.startswith(_HINT, k * len(_HINT)):
        k += 1
    rest = data[k * len(_HINT):]
    check(k > 100 and rest.startswith(b"HTTP/1.1 502 "),
          f"after {k} whole 103s the stream has {rest[:60]!r} ({len(rest)} bytes, {how})")


def test_http_error_after_pending_interim(t):
    _error_after_pending_interim(t, [])


def test_http_error_after_pending_interim_no_batching(t):
    _error_after_pending_interim(t, OFF)
