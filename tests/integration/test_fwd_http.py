"""Forward proxy (option http_proxy), plain HTTP: absolute-form requests from curl -x and
python's urllib ProxyHandler reach a local origin in origin-form, with the URL's authority as Host
and no Proxy-* fields; origin connections are pooled and reused; a request that is not for a
proxy gets a 400 page saying so; header stripping and option anonymize.

Every test resolves its names through its own dnsmasq on 127.0.0.1 (harness.Dnsmasq): sluice
never asks the system's resolver."""
import socket
import subprocess
import time
import urllib.request

from harness import (BufSock, Dnsmasq, check, echo_origin_handler, fwd_config, fwd_request,
                     header, hold, xfail, pattern_bytes, read_http_response, read_request, wait_for)


def _curl(t, port, url, *args):
    """curl through the proxy: (http status, headers text, body bytes)."""
    hdr = f"{t.tmp}/curl-headers"
    p = subprocess.run(["curl", "-sS", "--noproxy", "", "-x", f"http://127.0.0.1:{port}",
                        "-D", hdr, "-o", "-", "--max-time", str(t.timeout(10)), *args, url],
                       capture_output=True, timeout=t.timeout(15), env={"PATH": "/usr/bin:/bin"})
    check(p.returncode == 0, f"curl {url} failed (rc={p.returncode}): {p.stderr.decode()}")
    with open(hdr, "rb") as f:
        heads = f.read().decode("latin-1")
    status = int(heads.split("\r\n", 1)[0].split()[1])
    return status, heads, p.stdout


def _seen(origin, i=-1):
    """(request line, fields, body) of the i-th request the echo origin received."""
    r = origin.requests[i]
    return f"{r['method']} {r['target']} {r['version']}", r["fields"], r["body"]


def _no_proxy_fields(fields, what):
    names = [k.lower() for k, _ in fields]
    for bad in ("proxy-authorization", "proxy-connection", "x-forwarded-for", "forwarded", "via"):
        check(bad not in names, f"{what}: the origin received {bad}: {fields}")


def _setup(t, lines=(), nbthread=2, **kw):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, lines=lines, nbthread=nbthread, **kw))
    return dns, origin, port, sl


def test_fwd_curl_get_post_head(t):
    dns, origin, port, sl = _setup(t)
    base = f"http://origin.test:{origin.port}"
    # GET: origin-form target, Host = the URL's authority, Proxy-* withheld; the response comes
    # back byte for byte (the echo of what the origin received).
    st, heads, body = _curl(t, port, f"{base}/path/a?q=1&r=%20x", "-H", "Proxy-Connection: keep-alive",
                            "-H", "Proxy-Authorization: Basic dTpw", "-H", "X-Keep: yes")
    check(st == 200, f"GET: status {st}\n{heads}")
    line, fields, _ = _seen(origin)
    check(line == "GET /path/a?q=1&r=%20x HTTP/1.1", f"origin saw {line!r}")
    check(header(fields, "host") == f"origin.test:{origin.port}",
          f"Host {header(fields, 'host')!r}")
    check(sum(k.lower() == "host" for k, _ in fields) == 1, f"Host fields: {fields}")
    check(header(fields, "x-keep") == "yes", f"an end-to-end field was lost: {fields}")
    _no_proxy_fields(fields, "GET")
    check(body == origin.requests[-1]["head"], f"GET body differs from what the origin sent: "
          f"{body!r} vs {origin.requests[-1]['head']!r}")
    check("X-Origin: echo" in heads, f"origin's field missing:\n{heads}")
    # POST with a binary body
    data = bytes(range(256)) * 300
    df = t.write("post.bin", "")
    with open(df, "wb") as f:
        f.write(data)
    st, heads, body = _curl(t, port, f"{base}/submit", "--data-binary", f"@{df}",
                            "-H", "Content-Type: application/octet-stream")
    check(st == 200, f"POST: status {st}")
    line, fields, got = _seen(origin)
    check(line == "POST /submit HTTP/1.1", f"origin saw {line!r}")
    check(got == data, f"origin got a {len(got)}-byte body, sent {len(data)}")
    check(body == origin.requests[-1]["head"] + data, "POST response body not byte-identical")
    _no_proxy_fields(fields, "POST")
    # HEAD: no body, the origin's Content-Length
    st, heads, body = _curl(t, port, f"{base}/h", "-I")
    check(st == 200 and body.startswith(b"HTTP/1.1 200"), f"HEAD: status {st}")
    line, fields, _ = _seen(origin)
    check(line == "HEAD /h HTTP/1.1", f"origin saw {line!r}")
    # default port: an URL without one means :80, so Host carries no port... the origin is not on
    # 80; check the explicit port is kept and a large body is byte-correct from build/backend.
    be = t.backend("big")
    st, heads, body = _curl(t, port, f"http://origin.test:{be.port}/size/300000")
    check(st == 200 and body == pattern_bytes(300000),
          f"300000-byte body through the proxy: status {st}, {len(body)} bytes, "
          f"{'identical' if body == pattern_bytes(len(body)) else 'corrupt'}")


def test_fwd_urllib_proxyhandler(t):
    dns, origin, port, sl = _setup(t)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{port}"}))
    base = f"http://origin.test:{origin.port}"
    with opener.open(f"{base}/u/1", timeout=t.timeout(5)) as r:
        body = r.read()
        check(r.status == 200, f"GET status {r.status}")
    line, fields, _ = _seen(origin)
    check(line == "GET /u/1 HTTP/1.1", f"origin saw {line!r}")
    check(header(fields, "host") == f"origin.test:{origin.port}", f"Host: {fields}")
    check(body == origin.requests[-1]["head"], "GET body not byte-identical")
    _no_proxy_fields(fields, "urllib GET")
    req = urllib.request.Request(f"{base}/u/post", data=b"a=1&b=2", method="POST")
    with opener.open(req, timeout=t.timeout(5)) as r:
        body = r.read()
    line, fields, got = _seen(origin)
    check(line == "POST /u/post HTTP/1.1" and got == b"a=1&b=2", f"origin saw {line!r} {got!r}")
    check(body.endswith(b"a=1&b=2"), f"POST response {body!r}")
    req = urllib.request.Request(f"{base}/u/head", method="HEAD")
    with opener.open(req, timeout=t.timeout(5)) as r:
        check(r.status == 200 and r.read() == b"", "HEAD: a body or a bad status")
        check(int(r.headers["Content-Length"]) == len(origin.requests[-1]["head"]),
              f"HEAD Content-Length {r.headers['Content-Length']}")
    check(_seen(origin)[0] == "HEAD /u/head HTTP/1.1", f"origin saw {_seen(origin)[0]!r}")


def _keepalive_client(port, url_host, n, path, timeout):
    """n absolute-form GETs on one client connection; returns the bodies."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        bs = BufSock(s, timeout)
        for _ in range(n):
            s.sendall(f"GET http://{url_host}{path} HTTP/1.1\r\nHost: {url_host}\r\n"
                      f"Proxy-Connection: keep-alive\r\n\r\n".encode())
            st, fields, body = read_http_response(bs)
            check(st == 200, f"keep-alive request: status {st}")
            out.append(body)
    return out


def test_fwd_keepalive_origin_reuse(t):
    dns, origin, port, sl = _setup(t, nbthread=1)
    be = t.backend("ka")
    host = f"origin.test:{be.port}"
    bodies = _keepalive_client(port, host, 20, "/size/1000", t.timeout(5))
    check(all(b == pattern_bytes(1000) for b in bodies), "a keep-alive response was corrupt")
    for _ in range(5):  # new client connections, one after the other: the pooled origin
        _keepalive_client(port, host, 4, "/size/10", t.timeout(5))  # connection serves them
    st, _, body = fwd_request(port, "GET", f"http://{host}/stats")
    check(st == 200, f"/stats: {st}")
    stats = dict(kv.split("=") for kv in body.decode().split())
    check(int(stats["requests"]) == 41, f"backend stats {stats}: expected 41 requests")
    check(int(stats["accepts"]) <= 2, f"backend accepted {stats['accepts']} connections for 41 "
          "requests over 6 client connections: origin connections are not reused")


def test_fwd_not_a_proxy_request_400(t):
    dns, origin, port, sl = _setup(t)
    st, fields, body = fwd_request(port, "GET", "/index.html", fields=[("Host", "origin.test")])
    check(st == 400, f"origin-form request to a forward proxy: status {st}")
    check(b"proxy" in body.lower(), f"the 400 page does not say this is a proxy: {body!r}")
    check(not getattr(origin, "requests", None), "the request reached an origin")


def test_fwd_default_no_forwarding_headers(t):
    dns, origin, port, sl = _setup(t)
    url = f"http://origin.test:{origin.port}/anon"
    sent = [("From", "user@example.test"), ("Referer", "http://origin.test/prev"),
            ("Proxy-Connection", "keep-alive"), ("Proxy-Authorization", "Basic dTpw"),
            ("User-Agent", "t/1")]
    st, _, _ = fwd_request(port, "GET", url, fields=sent)
    check(st == 200, f"status {st}")
    _, fields, _ = _seen(origin)
    _no_proxy_fields(fields, "default")
    # without option anonymize, the end-to-end From and Referer pass
    check(header(fields, "from") == "user@example.test" and header(fields, "referer"),
          f"From/Referer withheld without option anonymize: {fields}")


def test_fwd_option_anonymize(t):
    dns, origin, port, sl = _setup(t, lines=["option = anonymize"])
    url = f"http://origin.test:{origin.port}/anon"
    ident = [("From", "user@example.test"), ("Referer", "http://origin.test/prev"),
             ("X-Forwarded-For", "10.1.2.3"), ("Forwarded", "for=10.1.2.3"),
             ("Via", "1.1 inner"), ("X-Real-IP", "10.1.2.3"), ("Client-IP", "10.1.2.3"),
             ("True-Client-IP", "10.1.2.3"), ("X-Client-IP", "10.1.2.3"),
             ("X-Originating-IP", "10.1.2.3")]
    st, _, _ = fwd_request(port, "GET", url, fields=ident + [("Proxy-Connection", "keep-alive"),
                                                             ("User-Agent", "t/1"),
                                                             ("Accept", "*/*")])
    check(st == 200, f"status {st}")
    _, fields, _ = _seen(origin)
    names = {k.lower() for k, _ in fields}
    leaked = [k for k, _ in ident if k.lower() in names]
    check(not leaked, f"option anonymize passed client-identifying fields {leaked}: {fields}")
    check(header(fields, "user-agent") == "t/1" and header(fields, "accept") == "*/*",
          f"option anonymize removed ordinary fields: {fields}")
    _no_proxy_fields(fields, "anonymize")
    wait_for(lambda: sl.httplogs(), t.timeout(5), "an httplog line")


def _closing_origin(sock, srv):
    """Answers one request as if keeping the connection (no Connection: close), then closes it:
    an origin whose keep-alive timeout is very short."""
    bs = BufSock(sock, srv.timeout)
    req = read_request(bs)
    srv.requests = getattr(srv, "requests", []) + [req]
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_fwd_stale_pooled_origin_connection(t):
    # The pooled origin connection was closed by the origin meanwhile: the next GET must not fail
    # (a fresh connection, or a retry of the idempotent request).
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=_closing_origin)
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, nbthread=1))
    host = f"origin.test:{origin.port}"
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        bs = BufSock(s, t.timeout(5))
        for i in range(10):
            s.sendall(f"GET http://{host}/{i} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            st, _, body = read_http_response(bs)
            check(st == 200 and body == b"ok", f"request {i} after the origin closed its "
                  f"previous connection: {st} {body!r}")
            n = i + 1
            wait_for(lambda: len(getattr(origin, "requests", [])) >= n and
                     all(c.fileno() == -1 for c in origin.conns), t.timeout(5),
                     "the origin to close its connection")
    check(len(origin.requests) == 10, f"origin got {len(origin.requests)} requests")


def test_fwd_request_bodies_chunked_and_expect(t):
    dns, origin, port, sl = _setup(t)
    host = f"origin.test:{origin.port}"
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        bs = BufSock(s, t.timeout(5))
        s.sendall(f"POST http://{host}/chunked HTTP/1.1\r\nHost: {host}\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".encode())
        st, _, body = read_http_response(bs)
        check(st == 200, f"chunked POST: {st}")
        r = origin.requests[-1]
        check(r["body"] == b"hello world", f"origin got body {r['body']!r}")
        # Expect: 100-continue: the client waits for 100 (or the final answer) before the body
        s.sendall(f"PUT http://{host}/put HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\n"
                  "Expect: 100-continue\r\n\r\n".encode())
        st, _, _ = read_http_response(bs)
        check(st == 100, f"Expect: 100-continue: first answer {st}, expected the origin's 100")
        s.sendall(b"data")
        st, _, body = read_http_response(bs)
        check(st == 200, f"PUT with Expect: {st}")
        r = origin.requests[-1]
        check(r["target"] == "/put" and r["body"] == b"data", f"origin saw {r['target']} "
              f"{r['body']!r}")


def test_fwd_client_close_after_early_response(t):
    dns = Dnsmasq(t)

    def early(sock, srv):  # answers on the head, never reads the body
        BufSock(sock, srv.timeout).read_until(b"\r\n\r\n")
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        hold(3)
    origin = t.pyserver("handler", handler=early)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, defaults=["timeout client = 3s"]))
    host = f"origin.test:{origin.port}"
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        s.sendall(f"PUT http://{host}/put HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\n"
                  "\r\n".encode())
        st, _, body = read_http_response(BufSock(s, t.timeout(5)))
        check(st == 200 and body == b"ok", f"early response: {st} {body!r}")
    t0 = time.monotonic()
    lg = sl.wait_httplogs(1, timeout=t.timeout(8))[0]
    dt = time.monotonic() - t0
    check(dt < 1.5 * t.scale and lg["term"][0] == "C",
          f"the stream ended {dt:.1f}s after the client closed, termination {lg['term']!r} "
          "(expected at once, C*)")


def _close_delimited(sock, srv):
    bs = BufSock(sock, srv.timeout)
    read_request(bs)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"z" * 100000)
    sock.shutdown(socket.SHUT_WR)


def test_fwd_close_delimited_and_large_responses(t):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=_close_delimited)
    be = t.backend("big")
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port))
    st, heads, body = _curl(t, port, f"http://origin.test:{origin.port}/eof")
    check(st == 200 and body == b"z" * 100000, f"close-delimited response: {st}, {len(body)} bytes")
    st, heads, body = _curl(t, port, f"http://origin.test:{be.port}/size/8m")
    check(st == 200 and len(body) == 8 << 20 and body == pattern_bytes(8 << 20),
          f"8 MiB response: {st}, {len(body)} bytes")


def test_fwd_host_rules_apply_to_the_generated_host(t):
    # The origin's Host comes from the URL; a set-header Host replaces it (one field, not two)
    # and a replace-header rewrites it.
    dns, origin, port, sl = _setup(t, lines=[
        "http-request set-header = Host vhost.internal if { path_beg /set }",
        r"http-request replace-header = Host ^origin\.test(.*)$ renamed.test\1 "
        "if { path_beg /re }"])
    for path, want in (("/set", "vhost.internal"), ("/re", f"renamed.test:{origin.port}"),
                       ("/plain", f"origin.test:{origin.port}")):
        st, _, _ = fwd_request(port, "GET", f"http://origin.test:{origin.port}{path}")
        check(st == 200, f"{path}: status {st}")
        _, fields, _ = _seen(origin)
        hosts = [v for k, v in fields if k.lower() == "host"]
        check(hosts == [want], f"{path}: the origin saw Host {hosts}, wanted [{want!r}]")
