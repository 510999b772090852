"""mode http failures: retries when a server dies, slow clients (408), idle keep-alive
timeouts, header limits (431), malformed and smuggling requests (400, never forwarded), and the
error pages sluice writes (no server details; errorfile)."""
import http.client
import re
import time

from harness import (BufSock, check, http_config, http_response, read_http_response,
                     read_request, recv_until_eof)


def _get(t, port, path="/name", headers=None, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    if conn is None:
        c.close()
    return r.status, r.getheaders(), body


def _backend_requests(t, b):
    """The backend's request counter, not counting this query."""
    status, _, body = _get(t, b.port, "/stats")
    m = re.match(rb"accepts=(\d+) requests=(\d+)", body)
    check(m, f"/stats: {body!r}")
    return int(m.group(2)) - 1


def _raw(t, port, data, timeout=5):
    """Sends raw bytes on a new connection, reads until EOF: (status, fields, body, raw)."""
    s = t.connect(port)
    s.sendall(data)
    raw, how = recv_until_eof(s, t.timeout(timeout))
    check(raw, f"no response to {data[:60]!r} ({how})")
    status, fields, body = read_http_response(BufSock(_Replay(raw)))
    return status, fields, body, raw


class _Replay:
    """A socket-like object that returns bytes already read (for BufSock)."""

    def __init__(self, data):
        self.data = data

    def settimeout(self, _):
        pass

    def recv(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out


# ---- retries ---------------------------------------------------------------------------------

def test_http_retry_redispatch_when_server_dies(t):
    s1, s2 = t.backend("s1"), t.backend("s2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {s1.addr}", f"s2 {s2.addr}", "retries = 2",
                                        "option = redispatch"]}, nbthread=1))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    names = {_get(t, port, conn=c)[2] for _ in range(4)}  # both servers pooled
    check(names == {b"s1", b"s2"}, f"warm-up reached {names}")
    s2.kill()
    for i in range(20):  # alternately on the kept connection (dead pooled one) and new ones
        status, fields, body = _get(t, port, conn=c if i % 2 else None)
        check(status == 200 and body == b"s1", f"request {i} after s2 died: {status} {body!r}")
    c.close()


def test_http_no_retry_fails(t):
    """The control for the test above: without retries, a dead server costs requests."""
    s1 = t.backend("s1")
    dead = t.free_port()
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {s1.addr}", f"s2 127.0.0.1:{dead}",
                                        "retries = 0"]}, nbthread=1))
    statuses = [_get(t, port)[0] for _ in range(10)]
    check(statuses.count(503) >= 4 and statuses.count(200) >= 4,
          f"with a dead server and retries 0: {statuses}")


# ---- timeouts --------------------------------------------------------------------------------

def test_http_request_timeout_408(t):
    b = t.backend("b1")
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]},
                              defaults=["timeout http-request = 300ms"]))
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\nX-Slow:")  # a partial head, then nothing
    t0 = time.monotonic()
    raw, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(raw.startswith(b"HTTP/1.1 408"), f"slow client got {raw[:80]!r} ({how})")
    check(0.25 <= dt <= 1.0 * t.scale, f"408 after {dt:.2f}s (timeout http-request 300ms)")
    lg = sl.wait_httplogs(1)[-1]
    check(lg["status"] == "408" and lg["term"].startswith("cR"),
          f"log: status {lg['status']} term {lg['term']}")
    # Trickling bytes does not extend the deadline (it is for the whole head).
    s = t.connect(port)
    t0 = time.monotonic()
    for ch in b"GET /name HTTP/1.1\r\nHost: t\r\n":
        try:
            s.sendall(bytes([ch]))
        except OSError:
            break
        if time.monotonic() - t0 > 1.5 * t.scale:
            break
        time.sleep(0.02)  # a slowloris client: one byte every 20 ms
    raw, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(raw.startswith(b"HTTP/1.1 408"), f"trickling client got {raw[:80]!r} ({how})")
    check(dt <= 1.2 * t.scale, f"trickling client kept the head open for {dt:.2f}s")


def test_http_keepalive_idle_timeout(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]},
                         defaults=["timeout http-keep-alive = 300ms",
                                   "timeout http-request = 5s"]))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"b1", f"first request: {status}")
    t0 = time.monotonic()
    raw, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(raw == b"", f"idle keep-alive connection got {raw[:80]!r} (expected a silent close)")
    check(0.25 <= dt <= 1.0 * t.scale, f"idle connection closed after {dt:.2f}s "
          "(timeout http-keep-alive 300ms)")


# ---- limits and malformed requests ------------------------------------------------------------

def test_http_header_limits_431(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    big = b"GET /name HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (20 << 10) + b"\r\n\r\n"
    status, _, _, _ = _raw(t, port, big)
    check(status == 431, f"a 20 KiB header: status {status}, expected 431")
    many = b"GET /name HTTP/1.1\r\nHost: t\r\n" + b"".join(
        b"X-H%d: %d\r\n" % (i, i) for i in range(150)) + b"\r\n"
    status, _, _, _ = _raw(t, port, many)
    check(status == 431, f"151 header fields: status {status}, expected 431")
    ok = b"GET /name HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + b"".join(
        b"X-H%d: %d\r\n" % (i, i) for i in range(90)) + b"\r\n"
    status, _, body, _ = _raw(t, port, ok)
    check(status == 200 and body == b"b1", f"92 header fields: status {status}")
    check(_backend_requests(t, b) == 1, "a rejected request reached the server")


SMUGGLING = [
    ("CL+TE", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("TE+CL", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Length: 4\r\n\r\n0\r\n\r\n"),
    ("two CLs", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                b"Content-Length: 5\r\n\r\nabcde"),
    ("CL list", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 5\r\n\r\nabcde"),
    ("CL sign", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +4\r\n\r\nabcd"),
    ("CL hex", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0x4\r\n\r\nabcd"),
    ("TE not last chunked", b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                            b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
    ("TE obfuscated", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n"
                      b"0\r\n\r\n"),
    ("bad chunk size", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"zz\r\nhello\r\n0\r\n\r\n"),
    ("chunk size overflow", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                            b"\r\n1000000000000000000000004\r\nabcd\r\n0\r\n\r\n"),
    ("space before colon", b"GET /name HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n"
                           b"\r\n"),
    ("space before colon, other", b"GET /name HTTP/1.1\r\nHost : t\r\n\r\n"),
    ("obs-fold", b"GET /name HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n"),
    ("bare LF in value", b"GET /name HTTP/1.1\r\nHost: t\r\nX-A: a\nb\r\n\r\n"),
    ("NUL in value", b"GET /name HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n"),
    ("two Hosts", b"GET /name HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("no Host in 1.1", b"GET /name HTTP/1.1\r\nX-A: 1\r\n\r\n"),
    ("bad version", b"GET /name HTTP/1.x\r\nHost: t\r\n\r\n"),
    ("bad method", b"G(T /name HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("space in target", b"GET /na me HTTP/1.1\r\nHost: t\r\n\r\n"),
]


def test_http_malformed_requests_rejected(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    bad = []
    for name, data in SMUGGLING:
        status, fields, body, raw = _raw(t, port, data)
        if status != 400:
            bad.append(f"{name}: {status}")
    n = _backend_requests(t, b)
    check(not bad, f"not rejected with 400: {bad}")
    check(n == 0, f"the backend received {n} of the malformed requests")


def test_http_smuggled_request_not_forwarded(t):
    """A request hidden in a body by CL/TE disagreement never reaches the server as a request."""
    srv = t.pyserver("handler", handler=_recording_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    hidden = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
    for te in (b"Transfer-Encoding: chunked", b"Transfer-Encoding:\tchunked",
               b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity"):
        s = t.connect(port)
        s.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%s\r\n\r\n0\r\n\r\n%s"
                  % (5 + len(hidden), te, hidden))
        raw, how = recv_until_eof(s, t.timeout(5))
        check(raw.startswith(b"HTTP/1.1 400"), f"{te!r}: got {raw[:60]!r}")
    targets = [r["target"] for r in srv.seen]
    check("/smuggled" not in targets and not targets, f"the server saw requests {targets}")


def _recording_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    while True:
        req = read_request(bs)
        srv.seen.append(req)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


# ---- error pages -----------------------------------------------------------------------------

def _no_leaks(what, raw, secrets):
    low = raw.lower()
    for s in secrets + [b"sluice", b"0.1.0"]:
        check(s.lower() not in low, f"{what} reveals {s!r}: {raw[:400]!r}")


def test_http_error_pages_hide_servers(t):
    dead = t.free_port()
    silent = t.pyserver("silent")
    garbage = t.pyserver("handler", handler=lambda s, srv: (s.recv(65536),
                                                            s.sendall(b"NOT HTTP AT ALL\r\n\r\n")))
    port = t.free_port()
    t.sluice(http_config(port, {
        "down": [f"hiddenname 127.0.0.1:{dead}", "retries = 0"],
        "none": ["hiddenname2 127.0.0.1:1 disabled"],
        "slow": [f"quietone {silent.addr}", "timeout server = 300ms"],
        "bad": [f"garbler {garbage.addr}"],
    }, frontend=["use_backend = none if { path_beg /none }",
                 "use_backend = slow if { path_beg /slow }",
                 "use_backend = bad if { path_beg /bad }"]))
    cases = [("/x", 503, [b"hiddenname", str(dead).encode(), b"127.0.0.1"]),
             ("/none", 503, [b"hiddenname2", b"127.0.0.1"]),
             ("/slow", 504, [b"quietone", str(silent.port).encode(), b"127.0.0.1"]),
             ("/bad", 502, [b"garbler", str(garbage.port).encode(), b"127.0.0.1",
                            b"NOT HTTP"])]
    for path, want, secrets in cases:
        status, fields, body, raw = _raw(t, port, b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"
                                         % path.encode())
        check(status == want, f"{path}: status {status}, expected {want}")
        check(body, f"{path}: empty error page")
        _no_leaks(f"the {want} page for {path}", raw, secrets + [b"down", b"slow", b"garbage"])


def test_http_errorfile_replaces_page(t):
    dead = t.free_port()
    page = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 17\r\nConnection: close\r\n\r\ncustom 503 page!\n")
    path = t.write("503.http", page.decode())
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 127.0.0.1:{dead}", "retries = 0"]},
                         frontend=[f"errorfile = 503 {path}"]))
    status, fields, body, raw = _raw(t, port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    check(status == 503 and raw == page, f"errorfile 503: got {raw!r}")


def _always_503(sock, srv):
    bs = BufSock(sock, srv.timeout)
    while True:
        read_request(bs)
        sock.sendall(http_response(503, b"busy"))


def test_http_retry_on_503_redispatches(t):
    # s1 always answers 503; with `retry-on 503` and `option redispatch` the request is sent
    # again, on its last retry to another server, and the client sees s2's answer.
    bad = t.pyserver("handler", handler=_always_503)
    good = t.backend("s2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": ["balance = first", f"s1 {bad.addr}", f"s2 {good.addr}",
                                        "retries = 1", "option = redispatch",
                                        "retry-on = conn-failure empty-response 503"]}))
    for _ in range(5):
        status, _, body = _get(t, port, "/name")
        check(status == 200 and body == b"s2", f"got {status} {body!r}, expected s2's 200")
    check(bad.accepted >= 1, "the 503 server was never tried")


def test_http_503_passed_on_without_retry_on(t):
    bad = t.pyserver("handler", handler=_always_503)
    good = t.backend("s2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": ["balance = first", f"s1 {bad.addr}", f"s2 {good.addr}",
                                        "retries = 1", "option = redispatch"]}))
    status, _, body = _get(t, port, "/name")
    check(status == 503 and body == b"busy", f"got {status} {body!r}, expected the server's 503")


def _never_answers(sock, srv):
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    time.sleep(srv.timeout)


def test_http_retry_on_response_timeout(t):
    slow = t.pyserver("handler", handler=_never_answers)
    good = t.backend("s2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": ["balance = first", f"s1 {slow.addr}", f"s2 {good.addr}",
                                        "retries = 1", "option = redispatch",
                                        "timeout server = 300ms",
                                        "retry-on = response-timeout"]}))
    status, _, body = _get(t, port, "/name")
    check(status == 200 and body == b"s2", f"got {status} {body!r} after a response timeout")
