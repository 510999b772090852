"""Bulk transfers through the relay (the splice path) and half-close."""
import hashlib
import random
import socket
import threading
import time

from harness import (PATTERN64, check, config, fail, pattern_bytes, read_response,
                     recv_exact, recv_until_eof)

MIB64 = 64 << 20


def _pattern_sha256(n):
    h = hashlib.sha256()
    block = PATTERN64 * 16384  # 1 MiB, a multiple of 64 so every block starts at offset 0
    for _ in range(n // len(block)):
        h.update(block)
    h.update(pattern_bytes(n % len(block)))
    return h.hexdigest()


def _drain_hash(sock, want, timeout):
    """Reads `want` bytes then expects EOF; returns (sha256, nbytes)."""
    h = hashlib.sha256()
    got = 0
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"timed out after {timeout:.0f}s with {got} of {want} bytes")
        sock.settimeout(left)
        chunk = sock.recv(1 << 20)
        if not chunk:
            return h.hexdigest(), got
        h.update(chunk)
        got += len(chunk)
        if got > want:
            fail(f"received more than {want} bytes")


def test_upload_64mib_echo(t):
    # The FIN goes only after every byte came back: build/backend's echo mode can miss a FIN that
    # arrives together with data (see test_backend_echo_sees_fin_with_data).
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]))
    data = random.Random(20261127).randbytes(MIB64)
    want = hashlib.sha256(data).hexdigest()
    s = t.connect(port)
    err = []

    def send():
        try:
            s.sendall(data)
        except OSError as e:
            err.append(e)
    th = threading.Thread(target=send, daemon=True)
    th.start()
    h = hashlib.sha256()
    got = 0
    deadline = time.monotonic() + t.timeout(60)
    while got < MIB64:
        check(time.monotonic() < deadline, f"timed out with {got} of {MIB64} bytes echoed")
        chunk = s.recv(1 << 20)
        check(chunk, f"EOF after {got} of {MIB64} bytes")
        h.update(chunk)
        got += len(chunk)
    th.join(t.timeout(10))
    check(not err, f"sending failed: {err}")
    check(h.hexdigest() == want, "echoed data differs from what was sent (sha256 mismatch)")
    s.shutdown(socket.SHUT_WR)
    rest, how = recv_until_eof(s, t.timeout(10))
    check(rest == b"" and how == "eof", f"after the echo: {len(rest)} extra bytes, {how}")
    logs = sl.wait_tcplogs(1)
    check(int(logs[0]["bytes"]) == MIB64 and logs[0]["term"] == "--",
          f"tcplog should show {MIB64} bytes and '--': {logs[0]}")


def test_download_64mib_source(t):
    b = t.backend("src", mode="source", nbytes=MIB64)
    port = t.free_port()
    sl = t.sluice(config(port, [f"src {b.addr}"]))
    s = t.connect(port)
    got, n = _drain_hash(s, MIB64, t.timeout(60))
    check(n == MIB64, f"received {n} bytes, expected {MIB64}")
    check(got == _pattern_sha256(MIB64), "downloaded data differs from the backend's pattern")
    s.close()
    logs = sl.wait_tcplogs(1)
    check(int(logs[0]["bytes"]) == MIB64, f"tcplog bytes {logs[0]['bytes']} != {MIB64}")


def test_download_64mib_http(t):
    b = t.backend("web")
    port = t.free_port()
    t.sluice(config(port, [f"web {b.addr}"]))
    s = t.connect(port)
    s.sendall(b"GET /size/64m HTTP/1.1\r\nHost: t\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        check(chunk, "closed before the response head")
        head += chunk
    head, _, body0 = head.partition(b"\r\n\r\n")
    check(b"Content-Length: %d" % MIB64 in head, f"unexpected head {head!r}")
    h = hashlib.sha256(body0)
    left = MIB64 - len(body0)
    deadline = time.monotonic() + t.timeout(60)
    while left > 0:
        check(time.monotonic() < deadline, f"timed out with {left} bytes left")
        chunk = s.recv(min(left, 1 << 20))
        check(chunk, f"EOF with {left} bytes left")
        h.update(chunk)
        left -= len(chunk)
    check(h.hexdigest() == _pattern_sha256(MIB64), "body differs from the pattern")
    # Keep-alive still works after the big body went through.
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_response(s, t.timeout(5))
    check(status == 200 and body == b"web", f"second request on the connection: {status} {body!r}")


def test_half_close_client_first(t):
    # The server answers only after it saw our EOF: the FIN must cross sluice while the reverse
    # direction stays open to carry the answer back, then the server's FIN ends the session.
    srv = t.pyserver("echo_at_eof")
    port = t.free_port()
    sl = t.sluice(config(port, [f"srv {srv.addr}"]))
    for size in (5, 3 << 20):  # tiny, and bigger than every buffer so bytes are in flight
        data = random.Random(size).randbytes(size)
        s = t.connect(port)
        th = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)),
                              daemon=True)
        th.start()
        got, how = recv_until_eof(s, t.timeout(20), limit=size)
        th.join(t.timeout(5))
        check(how == "eof", f"{size} bytes: connection reset instead of a clean EOF")
        check(got == data, f"{size} bytes: got back {len(got)} bytes, equal={got == data}")
        s.close()
    logs = sl.wait_tcplogs(2)
    check(all(lg["term"] == "--" for lg in logs), f"termination states: {[lg['term'] for lg in logs]}")
    check(not srv.errors, f"server errors: {srv.errors}")


def test_half_close_echo_backend(t):
    # Client half-close against build/backend's echo mode, which shuts down at our EOF: data and
    # FIN sent back to back (often one segment), tiny and bigger than every buffer.
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]))
    sizes = [5] * 10 + [3 << 20]
    for i, size in enumerate(sizes):
        data = random.Random(i).randbytes(size)
        s = t.connect(port)
        th = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)),
                              daemon=True)
        th.start()
        got, how = recv_until_eof(s, t.timeout(10), limit=size)
        th.join(t.timeout(5))
        check(got == data and how == "eof",
              f"round {i}: sent {size} bytes + FIN, got back {len(got)} bytes "
              f"(equal={got == data}) then {how}")
        s.close()
    logs = sl.wait_tcplogs(len(sizes))
    check(all(lg["term"] == "--" for lg in logs), f"termination states: {[lg['term'] for lg in logs]}")


def test_tool_backend_echo_half_close(t):
    # Not sluice: the same exchange straight to build/backend, so that a failure above can be
    # told apart from a test-tool bug (it once missed a FIN that came with data: CLOSE-WAIT).
    b = t.backend("echo", mode="echo")
    for i in range(20):
        with socket.create_connection(("127.0.0.1", b.port), timeout=t.timeout(5)) as s:
            s.sendall(b"hello")
            s.shutdown(socket.SHUT_WR)
            got, how = recv_until_eof(s, t.timeout(2))
            check(got == b"hello" and how == "eof", f"attempt {i}: direct echo gave {got!r}, {how}")


def test_half_close_server_first(t):
    # The server sends everything and shuts its write side; we still can send after that EOF
    # and our own FIN then closes the session cleanly.
    b = t.backend("src", mode="source", nbytes=100000)
    port = t.free_port()
    sl = t.sluice(config(port, [f"src {b.addr}"]))
    s = t.connect(port)
    got = recv_exact(s, 100000, t.timeout(10))
    check(got == pattern_bytes(100000), "source data differs from the pattern")
    s.settimeout(t.timeout(5))
    check(s.recv(1) == b"", "expected EOF after the server's half-close")
    s.sendall(b"still writable after the server's FIN\n")
    s.shutdown(socket.SHUT_WR)
    logs = sl.wait_tcplogs(1)
    check(logs[0]["term"] == "--", f"termination state {logs[0]['term']!r}, expected '--'")
