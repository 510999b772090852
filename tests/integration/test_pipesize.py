"""tune.pipesize: the size of the pipes bulk transfers are spliced through. `show info` reports the
pipes in use, the idle ones kept by the workers, and the size the kernel granted; data through
pipes of any size stays byte-identical, and a pipe holding data for a slow client is counted as
used until the client has read it."""
import hashlib
import os
import socket
import time

from harness import check, config, http_config, wait_for
from test_cli_api import cli
from test_transfer import MIB64, _drain_hash, _pattern_sha256


def _info(sock):
    text = cli(sock, "show info")
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return {k: int(fields[k]) for k in ("PipesUsed", "PipesFree", "PipeSize")}


def _granted(want):
    """The size the kernel gives this process for a pipe of `want` bytes."""
    if os.geteuid() == 0:
        return want
    with open("/proc/sys/fs/pipe-max-size") as f:
        return want if want <= int(f.read()) else 65536


def _head(s):
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        check(chunk, "closed before the response head")
        head += chunk
    head, _, body0 = head.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200") and b"Content-Length: %d" % MIB64 in head,
          f"unexpected head {head!r}")
    return body0


def _drain_body(s, body0, timeout):
    """sha256 of the whole body (body0 and the rest up to EOF) and its length."""
    h = hashlib.sha256(body0)
    n = len(body0)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        check(left > 0, f"timed out with {n} of {MIB64} body bytes")
        s.settimeout(left)
        chunk = s.recv(1 << 20)
        if not chunk:
            return h.hexdigest(), n
        h.update(chunk)
        n += len(chunk)


def _download(t, port, sock, want_size):
    before = _info(sock)
    check(before["PipesUsed"] == 0 and before["PipeSize"] == 0,
          f"no pipe before any bulk transfer: {before}")
    s = t.connect(port)
    s.sendall(b"GET /size/64m HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    got, n = _drain_body(s, _head(s), t.timeout(60))
    s.close()
    check(n == MIB64, f"received {n} body bytes, expected {MIB64}")
    check(got == _pattern_sha256(MIB64), "the body differs from the backend's pattern")
    after = wait_for(lambda: (lambda i: i if i["PipesUsed"] == 0 else None)(_info(sock)),
                     t.timeout(5), "the pipe back in the pool after the download")
    check(after["PipesFree"] >= 1, f"the drained pipe should be kept for the next transfer: "
                                   f"{after}")
    check(after["PipeSize"] == _granted(want_size),
          f"PipeSize {after['PipeSize']}, expected {_granted(want_size)}")


def _http(t, extra_global=()):
    b = t.backend("web")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1,
                         global_=[f"stats socket = {sock} level admin"] + list(extra_global)))
    return port, sock


def test_pipesize_default_is_256k(t):
    port, sock = _http(t)
    _download(t, port, sock, 256 << 10)


def test_pipesize_1m(t):
    port, sock = _http(t, ["tune.pipesize = 1m"])
    _download(t, port, sock, 1 << 20)


def test_pipesize_64k(t):
    port, sock = _http(t, ["tune.pipesize = 64k"])
    _download(t, port, sock, 64 << 10)


def test_pipesize_small_pipes_keep_bytes_identical(t):
    """4 KiB pipes (one page): many more splice calls, every byte still in place (mode tcp)."""
    b = t.backend("src", mode="source", nbytes=MIB64)
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    t.sluice(config(port, [f"src {b.addr}"], nbthread=1,
                    global_=["tune.pipesize = 4k", f"stats socket = {sock} level admin"]))
    s = t.connect(port)
    got, n = _drain_hash(s, MIB64, t.timeout(60))
    check(n == MIB64, f"received {n} bytes, expected {MIB64}")
    check(got == _pattern_sha256(MIB64), "downloaded data differs from the backend's pattern")
    info = _info(sock)
    check(info["PipeSize"] == 4096, f"PipeSize {info['PipeSize']}, expected 4096")


def test_pipe_held_for_a_slow_client_is_used(t):
    """A client that stops reading: the response waits in a pipe, counted in PipesUsed, and all
    of it arrives once the client reads again."""
    port, sock = _http(t)
    s = t.connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    s.sendall(b"GET /size/64m HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    body0 = _head(s)
    wait_for(lambda: _info(sock)["PipesUsed"] == 1, t.timeout(5),
             "a pipe in use while the client does not read")
    got, n = _drain_body(s, body0, t.timeout(60))
    check(n == MIB64 and got == _pattern_sha256(MIB64),
          f"after the stall: {n} body bytes, expected {MIB64}, or the bytes differ")
    wait_for(lambda: _info(sock)["PipesUsed"] == 0, t.timeout(5), "the pipe given back")
