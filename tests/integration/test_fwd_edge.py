"""Forward proxy edge cases: one client connection alternating between origins and pipelining
to two of them, Host rebuilt from the URL's authority (default port, userinfo), hop-by-hop fields
named by Connection, https:// URLs refused, HTTP/1.0 clients, IPv6 literals and the fallback to
the next address of a name, bytes sent right behind a CONNECT head.

Names resolve through the test's own dnsmasq (harness.Dnsmasq), never the system resolver."""
import socket
import threading

from harness import (BufSock, Dnsmasq, Skip, check, echo_origin_handler, fwd_config, fwd_request,
                     header, read_http_response, read_request, recv_exact, recv_until_eof, xfail)


def _setup(t, nbthread=2, addresses=None, lines=()):
    dns = Dnsmasq(t, addresses=addresses)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, nbthread=nbthread, lines=lines))
    return dns, origin, port, sl


def test_fwd_one_connection_many_origins(t):
    dns, a, port, sl = _setup(t, nbthread=1)
    b = t.backend("bee")
    ha, hb = f"origin.test:{a.port}", f"origin.test:{b.port}"
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        bs = BufSock(s, t.timeout(5))
        for i in range(10):
            s.sendall(f"GET http://{ha}/a{i} HTTP/1.1\r\nHost: {ha}\r\n\r\n".encode())
            st, _, body = read_http_response(bs)
            check(st == 200 and body.startswith(f"GET /a{i} HTTP/1.1".encode()),
                  f"request {i} for origin A: {st} {body[:40]!r}")
            s.sendall(f"GET http://{hb}/name HTTP/1.1\r\nHost: {hb}\r\n\r\n".encode())
            st, _, body = read_http_response(bs)
            check(st == 200 and body == b"bee", f"request {i} for origin B answered {body[:40]!r}")
        # pipelined: both requests in one write, to different origins
        s.sendall(f"GET http://{hb}/name HTTP/1.1\r\nHost: {hb}\r\n\r\n"
                  f"GET http://{ha}/p HTTP/1.1\r\nHost: {ha}\r\n\r\n".encode())
        st1, _, b1 = read_http_response(bs)
        st2, _, b2 = read_http_response(bs)
        check(b1 == b"bee" and b2.startswith(b"GET /p HTTP/1.1"),
              f"pipelined to two origins: {b1[:30]!r} / {b2[:30]!r}")
    check(len(a.requests) == 11, f"origin A got {len(a.requests)} requests, expected 11")


def test_fwd_host_from_url_authority(t):
    dns, origin, port, sl = _setup(t)
    hp = f"origin.test:{origin.port}"
    st, _, _ = fwd_request(port, "GET", f"http://{hp}/h", [("Host", "evil.test")])
    check(st == 200, f"status {st}")
    f = origin.requests[-1]["fields"]
    hosts = [v for k, v in f if k.lower() == "host"]
    check(hosts == [hp], f"origin saw Host {hosts}, expected the URL's authority [{hp!r}]")
    # scheme and host are case-insensitive
    st, _, _ = fwd_request(port, "GET", f"HTTP://Origin.TEST:{origin.port}/c")
    check(st == 200, f"upper-case scheme and host: status {st}")
    check(origin.requests[-1]["target"] == "/c", f"target {origin.requests[-1]['target']!r}")
    # an URL without a path: origin-form "/"
    st, _, _ = fwd_request(port, "GET", f"http://{hp}")
    check(st == 200, f"URL without a path: status {st}")
    check(origin.requests[-1]["target"] == "/", f"target {origin.requests[-1]['target']!r}")


def test_fwd_query_without_path(t):
    dns, origin, port, sl = _setup(t)
    st, _, _ = fwd_request(port, "GET", f"http://origin.test:{origin.port}?q=1")
    check(st == 200, f"URL with a query and no path: status {st}")
    tgt = origin.requests[-1]["target"]
    check(tgt == "/?q=1", f"origin-form target {tgt!r} for http://origin.test:P?q=1, "
          "expected '/?q=1'")


def test_fwd_url_userinfo_not_forwarded(t):
    dns, origin, port, sl = _setup(t)
    n0 = len(getattr(origin, "requests", []))
    st, _, body = fwd_request(port, "GET", f"http://user:secret@origin.test:{origin.port}/u",
                              [("Host", f"origin.test:{origin.port}")])
    check(st in (200, 400), f"URL with userinfo: status {st} {body[:80]!r}")
    if st == 200:
        f = origin.requests[-1]["fields"]
        check(header(f, "host") == f"origin.test:{origin.port}",
              f"Host with userinfo reached the origin: {header(f, 'host')!r}")
        check(b"secret" not in origin.requests[-1]["head"], "the URL's password reached the origin")
    else:
        check(len(getattr(origin, "requests", [])) == n0, "400 but the origin got the request")


def test_fwd_default_port_host(t):
    # http://p80.test/ goes to port 80 and Host is exactly the URL's authority, "p80.test"
    lst = socket.socket()
    try:
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.4", 80))
        lst.listen(8)
    except OSError as e:
        lst.close()
        raise Skip(f"cannot listen on 127.0.0.4:80 ({e})")
    t.track(lst)
    seen = []

    def serve():
        try:
            c, _ = lst.accept()
        except OSError:
            return
        with c:
            c.settimeout(5)
            req = read_request(BufSock(c, 5))
            seen.append(req)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    dns, origin, port, sl = _setup(t, addresses={"origin.test": "127.0.0.1",
                                                 "p80.test": "127.0.0.4"})
    st, _, body = fwd_request(port, "GET", "http://p80.test/d", [("Host", "p80.test")])
    check(st == 200 and body == b"ok", f"port 80 origin: {st} {body!r}")
    th.join(5)
    check(seen, "the port-80 origin got no request")
    check(header(seen[0]["fields"], "host") == "p80.test",
          f"Host {header(seen[0]['fields'], 'host')!r} for http://p80.test/d, expected 'p80.test'")


def test_fwd_connection_listed_fields_removed(t):
    dns, origin, port, sl = _setup(t)
    hp = f"origin.test:{origin.port}"
    st, _, _ = fwd_request(port, "GET", f"http://{hp}/hop", [
        ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"), ("X-End", "2")])
    check(st == 200, f"status {st}")
    f = origin.requests[-1]["fields"]
    names = {k.lower() for k, _ in f}
    for hop in ("x-hop", "keep-alive", "proxy-connection"):
        check(hop not in names, f"hop-by-hop {hop} reached the origin: {f}")
    check(header(f, "x-end") == "2", f"an end-to-end field was removed: {f}")


def test_fwd_https_url_and_bad_targets_400(t):
    dns, origin, port, sl = _setup(t)
    st, _, body = fwd_request(port, "GET", f"https://origin.test:{origin.port}/")
    check(st == 400 and b"CONNECT" in body, f"https:// URL: {st} {body!r}")
    st, _, body = fwd_request(port, "GET", f"ftp://origin.test:{origin.port}/")
    check(st == 400, f"ftp:// URL: {st}")
    st, _, body = fwd_request(port, "CONNECT", "origin.test")
    check(st == 400, f"CONNECT without a port: {st}")
    st, _, body = fwd_request(port, "GET", "http://origin.test:99999/")
    check(st == 400, f"URL with port 99999: {st}")
    check(not getattr(origin, "requests", None), "a bad request reached the origin")


def test_fwd_http10_client(t):
    dns, origin, port, sl = _setup(t)
    hp = f"origin.test:{origin.port}"
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        s.sendall(f"GET http://{hp}/ten HTTP/1.0\r\nUser-Agent: old\r\n\r\n".encode())
        raw, how = recv_until_eof(s, t.timeout(5))
    check(raw.startswith(b"HTTP/1.") and b" 200 " in raw.split(b"\r\n")[0],
          f"HTTP/1.0 client: {raw[:60]!r}")
    r = origin.requests[-1]
    check(r["target"] == "/ten" and header(r["fields"], "host") == hp,
          f"origin saw {r['target']!r} Host {header(r['fields'], 'host')!r}")


def _v6_origin(t):
    """An HTTP origin listening on [::1] only; returns (port, requests list)."""
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        s6.bind(("::1", 0))
    except OSError as e:
        s6.close()
        raise Skip(f"no IPv6 loopback: {e}")
    s6.listen(16)
    t.track(s6)
    p = s6.getsockname()[1]
    probe = socket.socket()
    try:  # the same port on 127.0.0.1 must refuse, so that the fallback is exercised
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", p)) == 0:
            raise Skip(f"127.0.0.1:{p} is in use: cannot build an IPv6-only origin")
    finally:
        probe.close()
    reqs = []

    def serve():
        while True:
            try:
                c, _ = s6.accept()
            except OSError:
                return
            threading.Thread(target=one, args=(c,), daemon=True).start()

    def one(c):
        with c:
            try:
                bs = BufSock(c, 10)
                while True:
                    r = read_request(bs)
                    reqs.append(r)
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6")
            except (OSError, EOFError):
                return
    threading.Thread(target=serve, daemon=True).start()
    return p, reqs


def test_fwd_ipv6_literal_and_next_address(t):
    p6, reqs = _v6_origin(t)
    dns, origin, port, sl = _setup(t, addresses={"origin.test": "127.0.0.1",
                                                 "dual.test": "127.0.0.1,::1",
                                                 "six.test": "::1"})
    st, _, body = fwd_request(port, "GET", f"http://[::1]:{p6}/lit")
    check(st == 200 and body == b"v6", f"IPv6 literal URL: {st} {body!r}")
    check(header(reqs[-1]["fields"], "host") == f"[::1]:{p6}",
          f"Host for an IPv6 literal: {header(reqs[-1]['fields'], 'host')!r}")
    st, _, body = fwd_request(port, "GET", f"http://six.test:{p6}/aaaa")
    check(st == 200 and body == b"v6", f"a name with only an AAAA answer: {st} {body!r}")
    # dual.test: A 127.0.0.1 (refused: nothing listens there) then AAAA ::1 (the origin)
    st, _, body = fwd_request(port, "GET", f"http://dual.test:{p6}/fallback")
    check(st == 200 and body == b"v6",
          f"refused IPv4 address, listening IPv6 one: {st} {body!r} (no fallback to the next "
          "address)")
    check(reqs[-1]["target"] == "/fallback", f"origin saw {reqs[-1]['target']!r}")


def test_fwd_connect_bytes_behind_head(t):
    dns = Dnsmasq(t)
    echo = t.backend("echo", mode="echo")
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, lines=[
        f"http-request = deny if METH_CONNECT !{{ url_port 443 {echo.port} }}"]))
    s = t.connect(port)
    early = b"\x16\x03\x01early-bytes-like-a-ClientHello" * 10
    s.sendall(f"CONNECT origin.test:{echo.port} HTTP/1.1\r\nHost: origin.test:{echo.port}\r\n"
              f"\r\n".encode() + early)
    bs = BufSock(s, t.timeout(5))
    head = bs.read_until(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), f"CONNECT: {head!r}")
    got = bytes(bs.buf)
    bs.buf.clear()
    if len(got) < len(early):
        got += recv_exact(s, len(early) - len(got), t.timeout(5))
    check(got == early, f"bytes sent behind the CONNECT head came back as {got[:40]!r}")
