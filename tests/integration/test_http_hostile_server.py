"""mode http against servers that misbehave on purpose (hand-written backends): what one does
must stay on its own exchange, never reach another client nor hang the client it answers."""
import socket
import struct
import threading
import time

from harness import (BufSock, check, header, hold, http_config, http_response, read_http_response,
                     read_request, recv_until_eof)


def _slow_reader(t, port):
    """A client connection with a tiny receive buffer: sluice soon blocks writing to it."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t.track(s)
    return s


def _extra_after_body_handler(sock, srv):
    """The first request on the first connection gets its head, then (in a later segment) its
    body followed by a second response nobody asked for. Every other request gets its target."""
    bs = BufSock(sock, srv.timeout)
    conn = srv.accepted
    first = True
    while True:
        req = read_request(bs)
        srv.seen.append((conn, req["target"]))
        if conn == 1 and first:
            first = False
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
            hold(0.3)  # the body comes in a read of its own, after the head
            sock.sendall(b"hello" + http_response(200, b"smuggled"))
        else:
            sock.sendall(http_response(200, req["target"].encode()))


def test_http_bytes_after_response_not_reused(t):
    """A server that sends more than its Content-Length: the surplus is not the next client's
    response (the connection must not go back to the pool with bytes unread)."""
    srv = t.pyserver("handler", handler=_extra_after_body_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    a = t.connect(port)
    a.sendall(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_http_response(BufSock(a, t.timeout(5)))
    check(status == 200 and body == b"hello", f"first response: {status} {body!r}")
    b = t.connect(port)
    b.sendall(b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_http_response(BufSock(b, t.timeout(5)))
    check(body == b"/b", f"the second client got {status} {body!r} (server saw {srv.seen})")


def _close_with_response_handler(sock, srv):
    """Answers one request with a keep-alive response (no Connection: close), then closes at
    once: the FIN comes with (or right behind) the body."""
    bs = BufSock(sock, srv.timeout)
    req = read_request(bs)
    srv.seen.append((srv.accepted, req["method"], req["target"]))
    # A body sluice is still relaying when the FIN arrives.
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(srv.body) + srv.body)
    sock.shutdown(socket.SHUT_WR)


def test_http_server_fin_with_response_not_reused(t):
    """A server that closes right after a response that did not say so: the closed connection
    must not be pooled, or the next request (a POST, which is not retried) gets a 502."""
    srv = t.pyserver("handler", handler=_close_with_response_handler)
    srv.seen = []
    srv.body = b"d" * (16 << 20)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = _slow_reader(t, port)
    bs = BufSock(s, t.timeout(5))
    s.sendall(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
    hold(0.3)  # the client reads late: sluice still has the body to relay when the FIN comes
    status, _, body = read_http_response(bs)
    check(status == 200 and body == srv.body, f"first response: {status} {len(body)} bytes")
    s.sendall(b"POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
    status, _, body = read_http_response(bs)
    check(status == 200 and body == srv.body,
          f"POST after a closing server: {status} {body[:60]!r} (server saw {srv.seen})")



def _truncated_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % srv.length + b"x" * srv.sent)
    hold(0.1)
    sock.close()


def _truncated(t, length, sent):
    srv = t.pyserver("handler", handler=_truncated_handler)
    srv.length, srv.sent = length, sent
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1,
                              defaults=["timeout server = 20s"]))
    s = t.connect(port)
    s.sendall(b"GET /cut HTTP/1.1\r\nHost: t\r\n\r\n")
    start = time.monotonic()
    raw, how = recv_until_eof(s, t.timeout(10), limit=1 << 24)
    took = time.monotonic() - start
    check(raw.startswith(b"HTTP/1.1 200") and len(raw.partition(b"\r\n\r\n")[2]) == sent,
          f"truncated response: {raw[:60]!r}, {len(raw)} bytes")
    check(took < 3, f"the client waited {took:.1f}s for a body the server will never send")
    logs = sl.wait_httplogs(1)
    check(logs[0]["term"][:2] == "SD", f"termination state {logs[0]['term']} (want SD)")


def test_http_truncated_response_closes_client(t):
    _truncated(t, 100000, 5000)


def test_http_truncated_bulk_response_closes_client(t):
    _truncated(t, 10 << 20, 3 << 20)  # large enough for the splice path


def _switch_unasked_handler(sock, srv):
    """Answers whatever comes with a 101 nobody asked for, then records what it reads."""
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: upgrade\r\n\r\n")
    try:
        while True:
            srv.after.append(bs.read_available())
    except (OSError, EOFError):
        pass


def test_http_101_without_upgrade_is_502(t):
    """A 101 to a request that asked no protocol switch (RFC 9110 §7.8: a server MUST NOT switch
    to a protocol the client did not offer) is an invalid response: 502, and no tunnel that
    would hand the client's next pipelined requests, whatever their backend, to this server."""
    srv = t.pyserver("handler", handler=_switch_unasked_handler)
    srv.after = []
    other = t.backend("b2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"], "admin": [f"b2 {other.addr}"]},
                         frontend=["use_backend = admin if { path_beg /admin }"], nbthread=1))
    s = t.connect(port)
    s.sendall(b"GET /app HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /admin/name HTTP/1.1\r\nHost: t\r\nAuthorization: Basic c2VjcmV0\r\n\r\n")
    bs = BufSock(s, t.timeout(5))
    status, _, _ = read_http_response(bs)
    check(status == 502, f"a 101 nobody asked for was passed on as {status}")
    hold(0.2)
    leaked = b"".join(srv.after)
    check(b"/admin" not in leaked, f"the next request went to the switching server: {leaked!r}")



def _no_read_handler(sock, srv):
    sock.recv(100)  # part of the head, then nothing: never reads the body, never answers
    hold(10)


def _upload(sock, total):
    chunk = b"u" * 65536
    try:
        for _ in range(total // len(chunk)):
            sock.sendall(chunk)
    except OSError:
        pass


def test_http_server_not_reading_body_times_out_as_server(t):
    """A server that stops reading the request body and never answers: timeout server ends the
    exchange with a 504, blamed on the server (sH), not on the client that was sending."""
    srv = t.pyserver("handler", handler=_no_read_handler)
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1,
                              defaults=["timeout server = 1s"]))
    s = t.connect(port)
    total = 64 << 20
    s.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % total)
    threading.Thread(target=_upload, args=(s, total), daemon=True).start()
    raw, how = recv_until_eof(s, t.timeout(10))
    check(raw.startswith(b"HTTP/1.1 504"), f"the client got {raw[:60]!r} ({how})")
    logs = sl.wait_httplogs(1)
    check(logs[0]["term"][:2] == "sH", f"termination state {logs[0]['term']} (want sH)")


def _big_response_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(http_response(200, b"r" * (64 << 20)))


def test_http_client_not_reading_response_times_out_as_client(t):
    """A client that stops reading a response: timeout client ends it, blamed on the client (cD),
    not on the server that was sending."""
    srv = t.pyserver("handler", handler=_big_response_handler)
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1,
                              defaults=["timeout client = 1s", "timeout server = 20s"]))
    s = t.connect(port)
    s.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
    start = time.monotonic()
    logs = sl.wait_httplogs(1, timeout=t.timeout(25))
    took = time.monotonic() - start
    check(logs[0]["term"][:2] == "cD", f"termination state {logs[0]['term']} (want cD)")
    check(took < 5, f"timeout client (1s) ended the exchange after {took:.1f}s")


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def _in_two_parts(first, rest, pause=0.2, linger=1.0):
    """A handler that answers one request with `first`, then after `pause` (so that sluice reads
    the rest on its own, after the head) with `rest`, and keeps the connection `linger` s."""
    def handler(sock, srv):
        read_request(BufSock(sock, srv.timeout))
        sock.sendall(first)
        hold(pause)
        sock.sendall(rest)
        hold(linger)
    return handler


def test_http_bytes_after_chunked_response_keep_it_whole(t):
    """Bytes after the end of a chunked response end the server connection, not the response:
    a client that reads slowly still gets the whole body, and keeps its connection."""
    body = b"c" * (8 << 20)
    # The last chunk comes with a response nobody asked for.
    srv = t.pyserver("handler", handler=_in_two_parts(
        CHUNKED_HEAD, b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n" +
        http_response(200, b"extra")))
    srv.body = body
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = _slow_reader(t, port)
    s.sendall(b"GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
    hold(0.5)
    bs = BufSock(s, t.timeout(5))
    try:
        status, _, body = read_http_response(bs)
    except EOFError as e:
        raise AssertionError(f"the response was cut: {e}")
    check(status == 200 and body == srv.body, f"response {status}, {len(body)} bytes")
    s.sendall(b"GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
    try:
        status, _, body = read_http_response(bs)
    except EOFError as e:
        raise AssertionError(f"the client's connection was closed: {e}")
    check(status == 200 and body == srv.body, f"second response {status}, {len(body)} bytes")
    logs = sl.wait_httplogs(2)
    check(logs[0]["term"][:2] == "--", f"termination state {logs[0]['term']}")


def _hints_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    while True:
        read_request(bs)
        sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" +
                     http_response(200, b"final"))


def test_http_no_interim_response_to_http10_client(t):
    """HTTP/1.0 has no 1xx: an interim response a server sends anyway is not passed on to an
    HTTP/1.0 client (RFC 9110 §15.2), which would take it for the final one."""
    srv = t.pyserver("handler", handler=_hints_handler)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = t.connect(port)
    s.sendall(b"GET /h HTTP/1.0\r\n\r\n")
    raw, how = recv_until_eof(s, t.timeout(5))
    check(raw.startswith(b"HTTP/1.1 200") and raw.endswith(b"final"),
          f"the HTTP/1.0 client got {raw[:70]!r}")
    s = t.connect(port)  # an HTTP/1.1 client still gets it
    s.sendall(b"GET /h HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    raw, how = recv_until_eof(s, t.timeout(5))
    check(raw.startswith(b"HTTP/1.1 103") and raw.endswith(b"final"),
          f"the HTTP/1.1 client got {raw[:70]!r}")


def _early_answer_handler(sock, srv):
    """A buggy server: it answers an upload at once, without reading the body, and keeps the
    connection, so the body bytes are read as the next request. It answers requests slowly."""
    bs = BufSock(sock, srv.timeout)
    while True:
        head = bs.read_until(b"\r\n\r\n").decode("latin-1")
        target = head.split(" ", 2)[1]
        srv.seen.append(target)
        if target == "/upload":
            sock.sendall(http_response(401, b""))
        else:
            hold(0.3)
            sock.sendall(http_response(200, target.encode()))


def test_http_early_response_server_conn_not_reused(t):
    """A response that ends before its request was wholly sent leaves the server's view of the
    connection unknown (a server that does not read the body takes it for a request): the
    connection is not reused, so no other client gets the answer to a client's body."""
    srv = t.pyserver("handler", handler=_early_answer_handler)
    srv.seen = []
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    a = t.connect(port)
    inner = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
    a.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(inner))
    status, _, _ = read_http_response(BufSock(a, t.timeout(5)))
    check(status == 401, f"upload answered {status}")
    a.sendall(inner)  # the body, after the early answer
    hold(0.05)
    b = t.connect(port)
    b.sendall(b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_http_response(BufSock(b, t.timeout(5)))
    check(body == b"/b", f"the second client got {status} {body!r} (server saw {srv.seen})")


def _sets_persistence_cookie_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    while True:
        read_request(bs)
        sock.sendall(http_response(200, b"ok", fields=[("Set-Cookie", "app=1; path=/"),
                                                        ("Set-Cookie", " SRV=c2; path=/")]))


def test_http_cookie_insert_removes_server_persistence_cookie(t):
    """`cookie NAME insert`: the persistence cookie is sluice's; a Set-Cookie of the same name
    from the server is removed (HAProxy's insert mode without `preserve`), so a server cannot
    pin the client to another server. Its other cookies pass."""
    srv = t.pyserver("handler", handler=_sets_persistence_cookie_handler)
    other = t.backend("b2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr} cookie c1", f"s2 {other.addr} cookie c2",
                                        "cookie = SRV insert indirect nocache"]}, nbthread=1))
    for cookie, want in ((b"", ["app=1; path=/", "SRV=c1; path=/"]),
                         (b"Cookie: SRV=c1\r\n", ["app=1; path=/"])):
        s = t.connect(port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n" + cookie + b"\r\n")
        _, fields, _ = read_http_response(BufSock(s, t.timeout(5)))
        sets = [v for k, v in fields if k.lower() == "set-cookie"]
        check(sets == want, f"request with {cookie!r}: Set-Cookie fields {sets} (want {want})")


def _reset_mid_body_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 5000)  # delimited by close
    hold(0.2)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_http_server_reset_in_close_delimited_body_resets_client(t):
    """A body delimited by close whose server fails (a reset) must not end with a clean close,
    the only sign of a whole body the client has: the client connection is reset too."""
    srv = t.pyserver("handler", handler=_reset_mid_body_handler)
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = t.connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    raw, how = recv_until_eof(s, t.timeout(5))
    check(how == "reset", f"the client saw a clean end of a failed body ({len(raw)} bytes)")
    logs = sl.wait_httplogs(1)
    check(logs[0]["term"][:2] == "SD", f"termination state {logs[0]['term']} (want SD)")


def test_http_log_counts_chunked_response_bytes(t):
    """The bytes field of the log counts a chunked body relayed after the head."""
    srv = t.pyserver("handler", handler=_in_two_parts(
        CHUNKED_HEAD, b"%x\r\n" % 100000 + b"z" * 100000 + b"\r\n0\r\n\r\n", 0.1, 0))
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = t.connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    raw, how = recv_until_eof(s, t.timeout(5))
    logs = sl.wait_httplogs(1)
    check(int(logs[0]["bytes"]) == len(raw), f"logged {logs[0]['bytes']} bytes, sent {len(raw)}")


def _whole_then_reset_handler(sock, srv):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)  # sendall returns at once
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    t0 = time.monotonic()
    sock.sendall(http_response(200, srv.body))
    srv.sent_in = time.monotonic() - t0
    hold(0.2)  # sluice has read it all; the client has not
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_http_server_reset_after_whole_response_keeps_it(t):
    """A server that resets its connection once its whole response was read (a close with
    unread bytes does that): the response still reaches a client that reads slowly, whole."""
    srv = t.pyserver("handler", handler=_whole_then_reset_handler)
    srv.body = b"w" * (3 << 20)
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = _slow_reader(t, port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    hold(0.5)
    try:
        status, _, body = read_http_response(BufSock(s, t.timeout(5)))
    except (EOFError, OSError) as e:
        raise AssertionError(f"the response was cut: {e!r} (sent in {srv.sent_in:.2f}s)")
    check(status == 200 and body == srv.body, f"response {status}, {len(body)} bytes")
    logs = sl.wait_httplogs(1)
    check(logs[0]["term"][:2] == "--", f"termination state {logs[0]['term']}")


def _refuse_upload_handler(sock, srv):
    """Reads only the head of an upload, answers 413 and closes: the unread body makes the
    close a reset, which reaches sluice right behind the response."""
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(100)  # a little at a time: most of the body stays unread
    sock.sendall(http_response(413, b"too big", fields=[("Connection", "close")]))
    sock.close()


def test_http_response_before_server_reset_is_relayed(t):
    """A whole response followed at once by a reset is relayed, not replaced by a 502."""
    srv = t.pyserver("handler", handler=_refuse_upload_handler)
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = t.connect(port)
    s.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n" + b"u" * 60000)
    status, _, body = read_http_response(BufSock(s, t.timeout(5)))
    check(status == 413 and body == b"too big", f"the client got {status} {body!r}")
    logs = sl.wait_httplogs(1)
    check(logs[0]["status"] == "413" and logs[0]["term"][:2] in ("SD", "--"),
          f"logged {logs[0]['status']} {logs[0]['term']}")


def _switch_then_reset_handler(sock, srv):
    """Accepts a protocol switch, sends data in the new protocol, then resets."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)  # sendall returns at once
    read_request(BufSock(sock, srv.timeout))
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\n\r\n" + srv.data)
    hold(0.2)  # sluice has read it all; the client has not
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_http_server_reset_in_tunnel_keeps_what_it_sent(t):
    """After a protocol switch, what the server sent before a reset reaches the client whole."""
    srv = t.pyserver("handler", handler=_switch_then_reset_handler)
    srv.data = b"d" * (3 << 20)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    s = _slow_reader(t, port)
    s.sendall(b"GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"\r\n")
    hold(0.5)
    bs = BufSock(s, t.timeout(5))
    status, _, _ = read_http_response(bs)
    check(status == 101, f"switch answered {status}")
    got = bytearray()
    try:
        while len(got) < len(srv.data):
            got += bs.read_available()
    except (EOFError, OSError) as e:
        raise AssertionError(f"the tunnel ended after {len(got)} of {len(srv.data)} bytes: {e!r}")
    check(got == srv.data, f"{len(got)} bytes, not the server's")


def _connection_auth_handler(sock, srv):
    """Connection-based authentication, as NTLM: once a request on a connection carried valid
    credentials, the connection stays authenticated as that user."""
    bs = BufSock(sock, srv.timeout)
    user = None
    while True:
        req = read_request(bs)
        auth = header(req["fields"], "authorization")
        if auth and auth.startswith("NTLM "):
            user = auth[5:]
        if user is None:
            sock.sendall(http_response(401, b"who?", fields=[("WWW-Authenticate", "NTLM")]))
        else:
            sock.sendall(http_response(200, b"hello " + user.encode()))


def test_http_ntlm_connection_stays_with_its_client(t):
    """A server offering NTLM ties the identity a client proves to the connection: it must
    serve that client only (HAProxy makes it private), never another client from the pool;
    and it stays with its client, or the handshake could not complete."""
    srv = t.pyserver("handler", handler=_connection_auth_handler)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, nbthread=1))
    a = t.connect(port)
    abuf = BufSock(a, t.timeout(5))
    get = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    a.sendall(get)
    status, _, _ = read_http_response(abuf)
    check(status == 401, f"first answer {status}")
    a.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nAuthorization: NTLM alice\r\n\r\n")
    status, _, body = read_http_response(abuf)
    check(body == b"hello alice", f"alice's handshake: {status} {body!r}")
    b = t.connect(port)
    b.sendall(get)
    status, _, body = read_http_response(BufSock(b, t.timeout(5)))
    check(status == 401, f"another client was served as alice: {status} {body!r}")
    a.sendall(get)
    status, _, body = read_http_response(abuf)
    check(body == b"hello alice", f"alice's connection was not kept for her: {status} {body!r}")
