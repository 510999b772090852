"""mode http transport: keep-alive and server connection reuse, pipelining, chunked bodies both
ways, large bodies, 100-continue, HEAD and WebSocket tunnels."""
import base64
import hashlib
import http.client
import os
import re
import subprocess
import threading
import time

from harness import (PATTERN64, BufSock, check, header, hold, http_config, http_response,
                     read_http_response, read_request, read_request_body, recv_until_eof)


def _stats(port, t):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/stats", headers={"Connection": "close"})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    m = re.match(r"accepts=(\d+) requests=(\d+)", body)
    check(r.status == 200 and m, f"GET /stats: {r.status} {body!r}")
    # Not counting this request and its connection.
    return int(m.group(1)) - 1, int(m.group(2)) - 1


def _get_many(port, t, n, path="/name", want=b"b1"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for i in range(n):
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        check(r.status == 200 and body == want, f"request {i}: {r.status} {body!r}")
        check(not r.will_close, f"request {i}: sluice closed the keep-alive client connection")
    c.close()


def test_http_keepalive_reuse(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1))
    _get_many(port, t, 50)
    accepts, requests = _stats(b.port, t)  # asked directly: the backend's own counters
    check(requests == 50, f"backend saw {requests} requests, expected 50")
    check(accepts <= 2, f"50 keep-alive requests opened {accepts} server connections")
    # A second client connection: http-reuse safe lets its first (idempotent) request take the
    # idle pooled connection.
    _get_many(port, t, 10)
    accepts2, requests2 = _stats(b.port, t)
    # (+1: the first /stats connection and request)
    check(requests2 == requests + 1 + 10, f"backend counted {requests2} requests")
    check(accepts2 == accepts + 1, f"the second client's requests opened "
          f"{accepts2 - accepts - 1} new server connection(s), expected the pooled one reused")


def test_http_reuse_after_large_spliced_bodies(t):
    # Large bodies are spliced; the server connection must still go back to the pool afterwards
    # (a late edge-triggered event on the idle connection used to close it).
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(10))
    for i in range(6):
        c.request("GET", "/size/1m")
        r = c.getresponse()
        body = r.read()
        check(r.status == 200 and len(body) == 1 << 20, f"request {i}: {r.status} {len(body)}")
    c.close()
    accepts, requests = _stats(b.port, t)
    check(requests == 6, f"backend saw {requests} requests")
    check(accepts == 1, f"6 large responses on one client connection used {accepts} server "
          "connections, expected 1")


def test_http_reuse_across_closing_clients(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1))
    for i in range(20):  # a new client connection per request, each asking to close
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", "/name", headers={"Connection": "close"})
        r = c.getresponse()
        check(r.status == 200 and r.read() == b"b1", f"request {i}: {r.status}")
        check(r.will_close, f"request {i}: no 'Connection: close' although the client asked")
        c.close()
    accepts, requests = _stats(b.port, t)
    check(requests == 20, f"backend saw {requests} requests")
    check(accepts <= 2, f"20 client connections made {accepts} server connections, expected the "
          "server connection to be pooled and reused")


def test_http_reuse_never(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}", "http-reuse = never"]}, nbthread=1))
    _get_many(port, t, 10)
    accepts, requests = _stats(b.port, t)
    check(requests == 10, f"backend saw {requests} requests")
    check(accepts == 10, f"http-reuse never: {accepts} server connections for 10 requests")


def test_http_pipelining(t):
    b1, b2 = t.backend("b1"), t.backend("b2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b1.addr}", f"b2 {b2.addr}"]}))
    s = t.connect(port)
    reqs = b"".join(b"GET /size/%d HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in range(1, 6))
    s.sendall(reqs)  # five requests in one write
    bs = BufSock(s, t.timeout(5))
    servers = []
    for n in range(1, 6):
        status, fields, body = read_http_response(bs)
        check(status == 200, f"pipelined request {n}: status {status}")
        check(body == PATTERN64[:n], f"pipelined request {n}: body {body!r} (out of order?)")
        servers.append(header(fields, "x-server"))
    check(sorted(set(servers)) == ["b1", "b2"], f"per-request balancing not seen: {servers}")
    # The connection is still usable afterwards.
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    status, fields, body = read_http_response(bs)
    check(status == 200 and body in (b"b1", b"b2"), f"after the pipeline: {status} {body!r}")


# ---- chunked ---------------------------------------------------------------------------------

def _digest_handler(sock, srv):
    """Answers every request with 'LEN SHA256' of its decoded body, plus the trailers it got."""
    bs = BufSock(sock, srv.timeout)
    while True:
        req = read_request(bs)
        if req["body"] is None:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            read_request_body(bs, req)
        srv.seen.append(req)
        d = f"{len(req['body'])} {hashlib.sha256(req['body']).hexdigest()}".encode()
        tr = ";".join(f"{k}={v}" for k, v in req["trailers"])
        sock.sendall(http_response(200, d, [("X-Chunked", str(req["chunked"]).lower()),
                                            ("X-Trailers", tr or "-")]))


def _digest_server(t):
    srv = t.pyserver("handler", handler=_digest_handler)
    srv.seen = []
    return srv


def test_http_chunked_request(t):
    srv = _digest_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    rnd = os.urandom(1 << 20)
    sizes = [1, 2, 100, 4096, 16383, 16384, 16385, 65536, 300000]
    chunks, off = [], 0
    for n in sizes:
        chunks.append(rnd[off:off + n])
        off += n
    body = b"".join(chunks)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(10))
    c.request("POST", "/up", body=iter(chunks), encode_chunked=True)
    r = c.getresponse()
    got = r.read().decode()
    check(r.status == 200, f"chunked POST: status {r.status} {got!r}")
    check(got == f"{len(body)} {hashlib.sha256(body).hexdigest()}",
          f"server decoded {got!r}, expected {len(body)} bytes with the sent sha256")
    check(r.getheader("X-Chunked") == "true", "the request did not reach the server chunked")
    # Chunk extensions and trailers, raw, on the same server pool.
    s = t.connect(port)
    s.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n")
    status, fields, got = read_http_response(BufSock(s, t.timeout(5)))
    want = f"11 {hashlib.sha256(b'hello world').hexdigest()}".encode()
    check(status == 200 and got == want, f"chunk extension + trailer: {status} {got!r}")
    check(header(fields, "x-trailers") == "X-Sum=abc",
          f"request trailer not forwarded: server saw trailers {header(fields, 'x-trailers')!r}")


def _chunked_response_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    while True:
        read_request(bs)
        out = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n\r\n"]
        for c in srv.chunks:
            out.append(b"%x\r\n%s\r\n" % (len(c), c))
        out.append(b"0\r\nX-Digest: %s\r\n\r\n" % hashlib.sha256(b"".join(srv.chunks))
                   .hexdigest().encode())
        data = b"".join(out)
        for i in range(0, len(data), 7777):  # odd write sizes split chunk headers
            sock.sendall(data[i:i + 7777])


def test_http_chunked_response(t):
    srv = t.pyserver("handler", handler=_chunked_response_handler)
    rnd = os.urandom(600000)
    srv.chunks = [rnd[:1], rnd[1:20000], rnd[20000:20010], rnd[20010:]]
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    # Raw: the bytes on the wire, trailer included.
    s = t.connect(port)
    bs = BufSock(s, t.timeout(10))
    for i in range(2):  # twice on one connection: the response end was found exactly
        s.sendall(b"GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
        head = bs.read_until(b"\r\n\r\n")
        check(re.search(rb"(?im)^transfer-encoding: *chunked", head),
              f"response {i}: not chunked: {head!r}")
        body = bytearray()
        while True:
            size = int(bs.read_until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                break
            body += bs.read_exact(size)
            check(bs.read_exact(2) == b"\r\n", "chunk data not followed by CRLF")
        trailer = bs.read_until(b"\r\n\r\n")
        check(bytes(body) == rnd, f"response {i}: decoded body differs ({len(body)} bytes)")
        check(b"X-Digest: " + hashlib.sha256(rnd).hexdigest().encode() in trailer,
              f"response {i}: trailer lost: {trailer!r}")
    # http.client's decoder agrees.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(10))
    c.request("GET", "/c")
    r = c.getresponse()
    check(r.status == 200 and r.read() == rnd, "http.client: chunked body differs")
    c.close()


# ---- large bodies ----------------------------------------------------------------------------

def test_http_large_upload_echo(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    data = os.urandom(32 << 20)
    s = t.connect(port, timeout=t.timeout(30))
    head = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(data)
    err = []

    def send():  # concurrently: the backend echoes while it receives
        try:
            s.sendall(head + data)
        except OSError as e:
            err.append(e)
    th = threading.Thread(target=send, daemon=True)
    th.start()
    bs = BufSock(s, t.timeout(20))
    status, fields, body = read_http_response(bs)
    th.join(t.timeout(20))
    check(not err, f"sending the body failed: {err}")
    check(status == 200, f"status {status}")
    check(len(body) == len(data), f"echoed {len(body)} bytes of {len(data)}")
    check(hashlib.sha256(body).digest() == hashlib.sha256(data).digest(), "echoed body differs")
    # Keep-alive survives a large body.
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == b"b1", f"request after the upload: {status} {body!r}")


def test_http_large_download(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    n = 64 << 20
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(20))
    c.request("GET", "/size/64m")
    r = c.getresponse()
    check(r.status == 200 and r.getheader("Content-Length") == str(n),
          f"status {r.status}, Content-Length {r.getheader('Content-Length')}")
    h = hashlib.sha256()
    got = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
    check(got == n, f"downloaded {got} of {n} bytes")
    check(h.digest() == hashlib.sha256(PATTERN64 * (n // 64)).digest(),
          "downloaded body differs from the backend's pattern")
    c.request("GET", "/name")
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"b1", "request after the download failed")
    c.close()


# ---- 100-continue ----------------------------------------------------------------------------

def test_http_expect_100_continue_curl(t):
    b = t.backend("b1")
    srv = _digest_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"], "py": [f"py {srv.addr}"]},
                         frontend=["use_backend = py if { path_beg /py }"]))
    data = os.urandom(1 << 20)
    path = t.write("body.bin", "")
    with open(path, "wb") as f:
        f.write(data)
    base = ["curl", "-sS", "--max-time", str(t.timeout(10)), "-H", "Expect: 100-continue",
            "--data-binary", f"@{path}"]
    # build/backend (a Content-Length echo) sends no 100: curl sends the body after its timeout.
    p = subprocess.run(base + ["--expect100-timeout", "0.2", f"http://127.0.0.1:{port}/echo"],
                       capture_output=True,
                       timeout=t.timeout(15))
    check(p.returncode == 0, f"curl failed: {p.stderr!r}")
    check(p.stdout == data, f"echoed {len(p.stdout)} bytes, differing from the 1 MiB sent")
    # A server that answers 100: curl sends the body as soon as the 100 comes through sluice,
    # long before its 5 s expect100 timeout.
    t0 = time.monotonic()
    p = subprocess.run(base + ["--expect100-timeout", str(t.timeout(5)),
                               f"http://127.0.0.1:{port}/py"], capture_output=True,
                       timeout=t.timeout(15))
    dt = time.monotonic() - t0
    check(p.returncode == 0, f"curl failed: {p.stderr!r}")
    check(p.stdout.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}",
          f"server saw {p.stdout!r}")
    check(dt < 3 * t.scale, f"curl took {dt:.1f}s: the 100 Continue did not reach it")


def test_http_expect_100_continue_raw(t):
    srv = _digest_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    s = t.connect(port)
    data = os.urandom(1 << 20)
    s.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
              b"Content-Length: %d\r\n\r\n" % len(data))
    bs = BufSock(s, t.timeout(5))
    status, fields, _ = read_http_response(bs)  # before any body byte was sent
    check(status == 100, f"first response {status}, expected the interim 100 Continue")
    s.sendall(data)
    status, fields, body = read_http_response(bs)
    check(status == 200, f"final status {status}")
    check(body.decode() == f"{len(data)} {hashlib.sha256(data).hexdigest()}",
          f"server saw {body!r}")
    check(srv.seen and header(srv.seen[0]["fields"], "expect") == "100-continue",
          "Expect did not reach the server")


# ---- HEAD ------------------------------------------------------------------------------------

def test_http_head(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    for path in (b"/size/1000", b"/size/10m"):
        s.sendall(b"HEAD %s HTTP/1.1\r\nHost: t\r\n\r\n" % path)
        status, fields, _ = read_http_response(bs, head_request=True)
        want = "1000" if path == b"/size/1000" else str(10 << 20)
        check(status == 200 and header(fields, "content-length") == want,
              f"HEAD {path!r}: {status}, Content-Length {header(fields, 'content-length')!r}")
        s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
        status, fields, body = read_http_response(bs)
        check(status == 200 and body == b"b1",
              f"GET after HEAD {path!r}: {status} {body[:40]!r} (a body followed the HEAD?)")
    check(not bs.buf, f"stray bytes after the responses: {bytes(bs.buf[:40])!r}")


# ---- WebSocket -------------------------------------------------------------------------------

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def _ws_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    req = read_request(bs)
    srv.seen.append(req)
    up = (header(req["fields"], "upgrade") or "").lower()
    conn = (header(req["fields"], "connection") or "").lower()
    key = header(req["fields"], "sec-websocket-key")
    if up != "websocket" or "upgrade" not in conn or not key:
        sock.sendall(http_response(400, b"not a websocket upgrade\n"))
        return
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                 % _ws_accept(key).encode())
    while True:  # echo raw bytes until EOF
        sock.sendall(bs.read_available())


def _ws_open(t, port):
    s = t.connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(f"GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    bs = BufSock(s, t.timeout(5))
    status, fields, _ = read_http_response(bs)
    check(status == 101, f"upgrade answered {status}")
    check((header(fields, "upgrade") or "").lower() == "websocket", f"no Upgrade in {fields}")
    check("upgrade" in (header(fields, "connection") or "").lower(), f"no Connection: upgrade "
          f"in {fields}")
    check(header(fields, "sec-websocket-accept") == _ws_accept(key), "bad Sec-WebSocket-Accept")
    return s, bs


def test_http_websocket_echo(t):
    srv = t.pyserver("handler", handler=_ws_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}))
    s, bs = _ws_open(t, port)
    for i in range(5):
        payload = os.urandom(10 + i * 5000)
        mask = os.urandom(4)
        frame = bytes([0x82, 0xFE]) + len(payload).to_bytes(2, "big") + mask + bytes(
            b ^ mask[j % 4] for j, b in enumerate(payload))
        s.sendall(frame)
        check(bs.read_exact(len(frame)) == frame, f"frame {i} not echoed intact")
    s.sendall(b"\x88\x80" + b"\0" * 4)  # a close frame, then EOF
    check(bs.read_exact(6) == b"\x88\x80" + b"\0" * 4, "close frame not echoed")
    s.shutdown(1)
    rest, how = recv_until_eof(s, t.timeout(5))
    check(rest == b"", f"unexpected bytes {rest!r}")
    req = srv.seen[0]
    check(header(req["fields"], "sec-websocket-key") and header(req["fields"], "upgrade"),
          f"upgrade headers not forwarded: {req['fields']}")


def _tunnel_timeout(t, defaults, backend):
    srv = t.pyserver("handler", handler=_ws_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"] + backend},
                         defaults=["timeout client = 150ms", "timeout server = 150ms"] + defaults))
    s, bs = _ws_open(t, port)
    # Active for longer than the 150 ms timeout client, never idle 400 ms: stays open.
    t0 = time.monotonic()
    for i in range(6):
        s.sendall(b"%d" % i)
        check(bs.read_exact(1) == b"%d" % i, f"echo {i} failed (tunnel closed early?)")
        hold(0.1)
    check(time.monotonic() - t0 >= 0.6, "loop too short")
    t0 = time.monotonic() - 0.1
    rest, how = recv_until_eof(s, t.timeout(5))
    dt = time.monotonic() - t0
    check(rest == b"", f"unexpected bytes {rest!r}")
    check(0.35 <= dt <= 1.5 * t.scale, f"idle tunnel closed after {dt:.2f}s of idleness "
          "(timeout tunnel 400ms, timeout client/server 150ms)")


def test_http_websocket_tunnel_timeout_defaults(t):
    _tunnel_timeout(t, ["timeout tunnel = 400ms"], [])


def test_http_websocket_tunnel_timeout_backend(t):
    _tunnel_timeout(t, [], ["timeout tunnel = 400ms"])


def _ws_answer_at_eof(sock, srv):
    """Switches to a tunnel, reads to the client's EOF, thinks srv.delay seconds, then sends
    srv.answer and closes (srv.answer None: keeps its side open until the test ends)."""
    bs = BufSock(sock, srv.timeout)
    req = read_request(bs)
    key = header(req["fields"], "sec-websocket-key")
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                 % _ws_accept(key).encode())
    while sock.recv(65536):
        pass
    if srv.answer is None:
        srv.done.wait(srv.timeout)
        return
    hold(srv.delay)
    sock.sendall(srv.answer)


def _half_closed_tunnel(t, timeouts, answer, delay=0.0):
    """A WebSocket tunnel to a _ws_answer_at_eof server whose client sent b"hi" and its FIN.
    Returns the server, sluice and the client's socket and buffer."""
    srv = t.pyserver("handler", handler=_ws_answer_at_eof)
    srv.answer, srv.delay, srv.done = answer, delay, threading.Event()
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]},
                              defaults=["timeout tunnel = 20s"] + timeouts))
    s, bs = _ws_open(t, port)
    s.sendall(b"hi")
    s.shutdown(1)
    return srv, sl, s, bs


def test_http_tunnel_client_fin_spares_a_client_owed_nothing(t):
    """In a tunnel, a client that sent its last bytes and half-closed is owed nothing until the
    server answers: timeout client-fin must not cut a server slower than it (HAProxy)."""
    srv, sl, s, bs = _half_closed_tunnel(t, ["timeout client-fin = 300ms"], b"bye", delay=1.0)
    got = bytearray()
    try:
        while True:
            got += bs.read_available()
    except (EOFError, OSError):
        pass
    check(bytes(got) == b"bye", f"the server's late answer did not arrive: {bytes(got)!r}")
    lg = sl.wait_httplogs(1)[0]
    check(lg["term"][:2] == "--", f"termination state {lg['term']!r}")


def test_http_tunnel_server_fin_blames_the_server(t):
    """A client that half-closes a tunnel and a server that never closes its side: timeout
    server-fin ends the tunnel, and the log blames the server (sD), whose timeout it was."""
    srv, sl, s, bs = _half_closed_tunnel(t, ["timeout server-fin = 300ms"], None)
    t0 = time.monotonic()
    rest, how = recv_until_eof(s, t.timeout(10))
    dt = time.monotonic() - t0
    srv.done.set()
    check(rest == b"" and how == "eof", f"unexpected {rest!r} ({how})")
    check(dt <= 2.0 * t.scale, f"tunnel closed after {dt:.2f}s (timeout server-fin 300ms)")
    lg = sl.wait_httplogs(1)[0]
    check(lg["term"][:2] == "sD", f"termination state {lg['term']!r}, expected 'sD'")
