"""mode http edge cases: HTTP/1.0 clients, responses delimited by close, bodiless statuses
(204/304, HEAD with chunked), absolute-form targets, deep pipelines, concurrent keep-alive
clients, and a reused server connection that the server closes (empty-response retry)."""
import http.client
import socket
import threading

from harness import (BufSock, check, header, http_config, http_response,
                     pattern_bytes, read_http_response, read_request, recv_until_eof,
                     xfail)


def test_http_10_client(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.0\r\n\r\n")
    raw, how = recv_until_eof(s, t.timeout(5))
    check(raw.startswith(b"HTTP/1.") and raw.endswith(b"\r\n\r\nb1"),
          f"HTTP/1.0 without keep-alive: {raw!r} ({how})")
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    for i in range(3):
        s.sendall(b"GET /name HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, fields, body = read_http_response(bs)
        check(status == 200 and body == b"b1", f"1.0 keep-alive request {i}: {status} {body!r}")
        check((header(fields, "connection") or "").lower() == "keep-alive",
              f"1.0 keep-alive response {i} lacks 'Connection: keep-alive': {fields}")


def _until_close_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + srv.body)
    sock.shutdown(socket.SHUT_WR)


def test_http_response_until_close(t):
    srv = t.pyserver("handler", handler=_until_close_handler)
    srv.body = pattern_bytes(300000)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    s = t.connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    raw, how = recv_until_eof(s, t.timeout(5))
    head, _, body = raw.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), f"head {head!r}")
    check(body == srv.body, f"close-delimited body: {len(body)} of {len(srv.body)} bytes")
    check(b"connection: close" in head.lower(), f"the client was not told the connection "
          f"closes: {head!r}")


def _bodiless_handler(sock, srv):
    """Per target: /304 a 304 with the representation's Content-Length, /204 a 204, /headc a
    chunked HEAD answer; /next a normal 200."""
    bs = BufSock(sock, srv.timeout)
    while True:
        req = read_request(bs)
        tgt = req["target"]
        if tgt == "/304":
            sock.sendall(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n"
                         b"ETag: \"x\"\r\n\r\n")
        elif tgt == "/204":
            sock.sendall(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
        elif tgt == "/headc":
            sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        else:
            sock.sendall(http_response(200, b"next"))


def test_http_bodiless_responses_keep_alive(t):
    srv = t.pyserver("handler", handler=_bodiless_handler)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(3))
    for method, path, want in (("GET", "/304", 304), ("GET", "/204", 204),
                               ("HEAD", "/headc", 200)):
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        status, fields, _ = read_http_response(bs, head_request=True)
        check(status == want, f"{method} {path}: {status}")
        s.sendall(b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n")
        try:
            status, fields, body = read_http_response(bs)
        except (socket.timeout, EOFError) as e:
            raise AssertionError(f"no answer to the request after {method} {path} ({e!r}): "
                                 "sluice waited for a body that cannot exist?")
        check(status == 200 and body == b"next", f"after {method} {path}: {status} {body!r}")


def test_http_absolute_form_target(t):
    d, api = t.backend("d"), t.backend("api")
    port = t.free_port()
    t.sluice(http_config(port, {"d": [f"d {d.addr}"], "api": [f"api {api.addr}"]},
                         frontend=["use_backend = api if { path_beg /api }"]))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    for target, want in ((b"http://example.com/api/x", "api"), (b"http://example.com/x", "d")):
        s.sendall(b"GET %s HTTP/1.1\r\nHost: example.com\r\n\r\n" % target)
        status, fields, body = read_http_response(bs)
        check(header(fields, "x-server") == want,
              f"absolute-form {target!r} went to {header(fields, 'x-server')!r} ({status})")


def test_http_deep_pipeline(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    s = t.connect(port)
    n = 600  # ~24 KiB of requests: more than one 16 KiB buffer
    sizes = [(i * 37) % 200 + 1 for i in range(n)]
    data = b"".join(b"GET /size/%d HTTP/1.1\r\nHost: t\r\n\r\n" % k for k in sizes)
    data += b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
    data += b"GET /name HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    err = []
    th = threading.Thread(target=lambda: _send(s, data, err), daemon=True)
    th.start()
    bs = BufSock(s, t.timeout(10))
    for i, k in enumerate(sizes):
        status, fields, body = read_http_response(bs)
        check(status == 200 and body == pattern_bytes(k),
              f"pipelined response {i}: {status}, {len(body)} bytes, expected {k}")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"hello", f"pipelined POST: {status} {body!r}")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"b1", f"last pipelined request: {status} {body!r}")
    th.join(t.timeout(5))
    check(not err, f"sending failed: {err}")


def _send(s, data, err):
    try:
        s.sendall(data)
    except OSError as e:
        err.append(e)


def test_http_concurrent_keepalive_clients(t):
    b1, b2 = t.backend("b1"), t.backend("b2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b1.addr}", f"b2 {b2.addr}"]}, nbthread=2))
    errors = []

    def client(cid):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(10))
            for i in range(40):
                k = 1000 + cid * 100 + i
                c.request("GET", f"/size/{k}")
                r = c.getresponse()
                body = r.read()
                if r.status != 200 or body != pattern_bytes(k):
                    errors.append(f"client {cid} request {i}: {r.status}, {len(body)} bytes, "
                                  f"expected {k}")
                    return
            c.close()
        except Exception as e:  # reported below
            errors.append(f"client {cid}: {e!r}")
    ths = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(16)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(t.timeout(30))
    check(not any(th.is_alive() for th in ths), "clients still running")
    check(not errors, f"{len(errors)} failure(s): {errors[:3]}")


def _close_second_handler(sock, srv):
    """Answers the first request keep-alive, then reads the next one and closes without an
    answer (a server whose keep-alive timeout raced the request)."""
    bs = BufSock(sock, srv.timeout)
    req = read_request(bs)
    srv.seen.append(req["target"])
    sock.sendall(http_response(200, b"first"))
    req = read_request(bs)
    srv.seen.append(req["target"])
    sock.shutdown(socket.SHUT_RDWR)


def test_http_empty_response_on_reused_connection_retried(t):
    srv = t.pyserver("handler", handler=_close_second_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/a")
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"first", "first request failed")
    c.request("GET", "/b")  # goes to the pooled connection, which the server drops
    r = c.getresponse()
    body = r.read()
    check(r.status == 200 and body == b"first", f"GET on a dropped reused connection: {r.status} "
          f"{body!r} (expected a retry on a new connection)")
    check(srv.seen == ["/a", "/b", "/b"], f"server saw {srv.seen}")
    c.close()


def _stats(t, b):
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=t.timeout(5))
    c.request("GET", "/stats")
    body = c.getresponse().read().decode()
    c.close()
    acc, req = (int(x.split("=")[1]) for x in body.split())
    return acc - 1, req - 1  # not counting this query


def test_http_server_close(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]},
                         defaults=["option = http-server-close"], nbthread=1))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for i in range(5):
        c.request("GET", "/name")
        r = c.getresponse()
        check(r.status == 200 and r.read() == b"b1" and not r.will_close,
              f"http-server-close request {i}: the client connection was not kept")
    c.close()
    acc, req = _stats(t, b)
    check(acc == 5 and req == 5, f"http-server-close: {acc} server connections for {req} "
          "requests (expected one each)")


def _httpclose(t, frontend, backend):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"] + backend}, frontend=frontend))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/name")
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"b1", f"status {r.status}")
    check(r.will_close, "option httpclose: the client connection was kept "
          f"(Connection: {r.getheader('Connection')!r})")
    c.close()


def test_http_httpclose_frontend(t):
    _httpclose(t, ["option = httpclose"], [])


def test_http_httpclose_backend(t):
    _httpclose(t, [], ["option = httpclose"])


def _bad_response_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    req = read_request(bs)
    srv.seen.append(req["target"])
    sock.sendall(srv.responses[req["target"]])
    sock.shutdown(socket.SHUT_WR)


def test_http_bad_server_responses_502(t):
    srv = t.pyserver("handler", handler=_bad_response_handler)
    srv.seen = []
    srv.responses = {
        "/clte": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"0\r\n\r\n",
        "/twocl": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "/status": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        "/garbage": b"\x00\x01\x02 hello\r\n\r\n",
        "/fold": b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        "/huge": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20000 + b"\r\nContent-Length: 0\r\n\r\n",
    }
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    bad = []
    for path in srv.responses:
        s = t.connect(port)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        raw, how = recv_until_eof(s, t.timeout(5))
        if not raw.startswith(b"HTTP/1.1 502"):
            bad.append(f"{path}: {raw[:50]!r}")
    check(not bad, f"invalid server responses passed on instead of 502: {bad}")


def _slow_sink_handler(sock, srv):
    """Reads requests; answers each once its whole body arrived."""
    bs = BufSock(sock, srv.timeout)
    while True:
        req = read_request(bs)
        srv.seen.append((req["target"], len(req["body"])))
        sock.sendall(http_response(200, req["target"].encode()))


def test_http_client_abort_mid_body_no_desync(t):
    srv = t.pyserver("handler", handler=_slow_sink_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = t.connect(port)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
    s.close()  # gone with 95000 body bytes missing
    # A new client must get its own answer, not one for bytes of the aborted body.
    for i in range(5):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", f"/after{i}")
        r = c.getresponse()
        body = r.read()
        check(r.status == 200 and body == f"/after{i}".encode(),
              f"request {i} after an aborted upload: {r.status} {body!r}")
        c.close()
    check(("/upload", 100000) not in srv.seen, f"server saw {srv.seen}")
