"""tune.bufsize: the size of the workers' buffers, hence the largest request head (431 past it)
and response head (502 past it) sluice accepts; bodies stay byte-identical whatever the size.
tune.http.maxhdr: the number of header fields a head may have."""
from harness import (BufSock, check, http_config, http_response, read_http_response,
                     read_request)
from test_http_errors import _backend_requests, _raw


def _big_head(n, extra=b""):
    return (b"GET /name HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + extra +
            b"X-Big: " + b"a" * n + b"\r\n\r\n")


def test_bufsize_small_answers_431(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, global_=["tune.bufsize = 4k"]))
    status, _, _, _ = _raw(t, port, _big_head(6000))
    check(status == 431, f"a 6 KB head with tune.bufsize 4k: status {status}, expected 431")
    status, _, body, _ = _raw(t, port, _big_head(2000))
    check(status == 200 and body == b"b1", f"a 2 KB head with tune.bufsize 4k: status {status}")
    check(_backend_requests(t, b) == 1, "the rejected request reached the server")


def _big_response_server(t, resp_hdr_len, seen):
    def handler(c, srv):
        bs = BufSock(c)
        req = read_request(bs)
        seen.append(req)
        c.sendall(http_response(200, b"ok", fields=[("X-Resp", "r" * resp_hdr_len)]))
    return t.pyserver("handler", handler=handler)


def test_bufsize_large_accepts_large_heads(t):
    """With tune.bufsize 64k a 40 KB request head reaches the server whole and a 40 KB response
    head reaches the client whole; both are over the default 16k."""
    seen = []
    srv = _big_response_server(t, 40000, seen)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr}"]}, global_=["tune.bufsize = 64k"]))
    s = t.connect(port)
    s.sendall(_big_head(40000))
    status, fields, body = read_http_response(BufSock(s))
    check(status == 200 and body == b"ok", f"status {status}, body {body!r}")
    resp = dict((k.lower(), v) for k, v in fields)
    check(resp.get("x-resp") == "r" * 40000, "the 40 KB response header did not arrive whole")
    check(len(seen) == 1, f"the server saw {len(seen)} requests")
    got = dict((k.lower(), v) for k, v in seen[0]["fields"]).get("x-big")
    check(got == "a" * 40000, "the 40 KB request header did not reach the server whole")


def test_bufsize_default_rejects_large_response_head(t):
    seen = []
    srv = _big_response_server(t, 20000, seen)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr}"]}))
    status, _, body, _ = _raw(t, port, _big_head(10))
    check(status == 502, f"a 20 KB response head with the default 16k: status {status}, "
                         "expected 502")
    check(b"r" * 100 not in body, "the oversized response head leaked to the client")


def _body_identical(t, size):
    from test_pipesize import _drain_body, _head
    from test_transfer import MIB64, _pattern_sha256
    b = t.backend("web")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, global_=[f"tune.bufsize = {size}"]))
    s = t.connect(port)
    s.sendall(b"GET /size/64m HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    got, n = _drain_body(s, _head(s), t.timeout(60))
    s.close()
    check(n == MIB64 and got == _pattern_sha256(MIB64),
          f"tune.bufsize {size}: {n} body bytes or the bytes differ")


def test_bufsize_4k_body_identical(t):
    """Copies in 4 KiB units, then splice: the body is the backend's pattern."""
    _body_identical(t, "4k")


def test_bufsize_256k_body_identical(t):
    _body_identical(t, "256k")


# ---- tune.http.maxhdr ---------------------------------------------------------------------------

def _fields(n):
    return b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(n))


def test_maxhdr_small_answers_431(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, global_=["tune.http.maxhdr = 10"]))
    head = b"GET /name HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
    status, _, _, _ = _raw(t, port, head + _fields(9) + b"\r\n")
    check(status == 431, f"11 fields with tune.http.maxhdr 10: status {status}, expected 431")
    status, _, body, _ = _raw(t, port, head + _fields(8) + b"\r\n")
    check(status == 200 and body == b"b1", f"10 fields with tune.http.maxhdr 10: status {status}")
    check(_backend_requests(t, b) == 1, "the rejected request reached the server")


def test_maxhdr_large_passes_many_fields(t):
    """150 fields each way with tune.http.maxhdr 200 (the default 101 answers 431 / 502)."""
    seen = []

    def handler(c, srv):
        bs = BufSock(c)
        seen.append(read_request(bs))
        c.sendall(http_response(200, b"ok", fields=[(f"X-R{i}", str(i)) for i in range(150)]))
    srv = t.pyserver("handler", handler=handler)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr}"]}, global_=["tune.http.maxhdr = 200"]))
    s = t.connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n" + _fields(150) + b"\r\n")
    status, fields, body = read_http_response(BufSock(s))
    check(status == 200 and body == b"ok", f"status {status}, body {body!r}")
    got = [k for k, _ in fields if k.lower().startswith("x-r")]
    check(len(got) == 150, f"{len(got)} of the response's 150 fields reached the client")
    check(len(seen) == 1, f"the server saw {len(seen)} requests")
    sent = [k for k, _ in seen[0]["fields"] if k.lower().startswith("x-h")]
    check(len(sent) == 150, f"{len(sent)} of the request's 150 fields reached the server")
