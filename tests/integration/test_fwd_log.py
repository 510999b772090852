"""Forward proxy user-activity log: the httplog line carries the authenticated user, the full URL
(host:port for CONNECT), the origin as the server and the bytes both ways; `log-format squid`
writes Squid's native access.log layout (10 fields).

Names resolve through the test's own dnsmasq (harness.Dnsmasq), never the system resolver."""
import base64
import os
import re
import socket

from harness import (BufSock, Dnsmasq, check, echo_origin_handler, fwd_config, fwd_request,
                     recv_exact, recv_until_eof, wait_for, xfail)

# Squid's native format: time.ms elapsed client code/status bytes method URL user hier/host type
SQUID_RE = re.compile(
    r"^(?P<time>\d{9,}\.\d{3}) +(?P<elapsed>\d+) (?P<client>\S+) (?P<code>[A-Z_]+)/(?P<status>\d{3}) "
    r"(?P<bytes>\d+) (?P<method>\S+) (?P<url>\S+) (?P<user>\S+) (?P<hier>[A-Z_]+)/(?P<peer>\S+) "
    r"(?P<type>\S+)$", re.M)


def _basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def _raw_exchange(port, raw, timeout):
    """Sends raw bytes (one request with Connection: close) and returns every byte received."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data, _ = recv_until_eof(s, timeout)
    return data


def _one(logs, pred):
    """The one log line (dict) for which pred holds (lines of concurrent workers may interleave
    in any order)."""
    ms = [lg for lg in logs if pred(lg)]
    check(len(ms) == 1, f"{len(ms)} matching log lines in {logs}")
    return ms[0]


def _auth_lines(port_of_echo):
    return ["acl = ok http_auth(u)", "http-request auth = realm r if !ok",
            f"http-request = deny if METH_CONNECT !{{ url_port 443 {port_of_echo} }}"]


def test_fwd_httplog_user_url_bytes(t):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    echo = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, userlists={"u": ["user = carol insecure-password c"]},
                             lines=_auth_lines(echo.port)))
    cred = _basic("carol", "c")
    host = f"origin.test:{origin.port}"
    body = b"x" * 1234
    req = (f"POST http://{host}/a/b?c=d HTTP/1.1\r\nHost: {host}\r\nProxy-Authorization: {cred}\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    resp = _raw_exchange(port, req, t.timeout(5))
    check(resp.startswith(b"HTTP/1.1 200"), f"POST: {resp[:60]!r}")
    lg = sl.wait_httplogs(1)[0]
    check(lg["request"] == f"POST http://{host}/a/b?c=d HTTP/1.1", f"request {lg['request']!r}")
    check(lg["server"] == host, f"server field {lg['server']!r}, expected the origin {host}")
    check(lg["req_cookie"] == "carol", f"user field {lg['req_cookie']!r}, expected carol")
    check(lg["resp_cookie"] == str(len(req)),
          f"bytes-from-client field {lg['resp_cookie']!r}, client sent {len(req)}")
    check(lg["bytes"] == str(len(resp)), f"bytes {lg['bytes']}, client received {len(resp)}")
    check(lg["status"] == "200", f"status {lg['status']}")
    # CONNECT: host:port, bytes both ways through the tunnel
    s = t.connect(port)
    head = (f"CONNECT origin.test:{echo.port} HTTP/1.1\r\nHost: origin.test:{echo.port}\r\n"
            f"Proxy-Authorization: {cred}\r\n\r\n").encode()
    s.sendall(head)
    bs = BufSock(s, t.timeout(5))
    ok = bs.read_until(b"\r\n\r\n")
    check(ok.startswith(b"HTTP/1.1 200"), f"CONNECT: {ok!r}")
    data = os.urandom(50000)
    s.sendall(data)
    check(recv_exact(s, len(data), t.timeout(5)) == data, "tunnel echo differs")
    s.shutdown(socket.SHUT_WR)
    rest, _ = recv_until_eof(s, t.timeout(5))
    check(rest == b"", f"bytes after the echo: {rest[:40]!r}")
    s.close()
    lg = _one(sl.wait_httplogs(2), lambda g: g["request"].startswith("CONNECT"))
    check(lg["request"] == f"CONNECT origin.test:{echo.port} HTTP/1.1", f"{lg['request']!r}")
    check(lg["server"] == f"origin.test:{echo.port}", f"server {lg['server']!r}")
    check(lg["req_cookie"] == "carol", f"CONNECT user {lg['req_cookie']!r}")
    check(lg["bytes"] == str(len(ok) + len(data)),
          f"CONNECT bytes to the client {lg['bytes']}, expected {len(ok) + len(data)}")
    check(lg["resp_cookie"] == str(len(head) + len(data)),
          f"CONNECT bytes from the client {lg['resp_cookie']}, expected {len(head) + len(data)}")
    # a refused login: 407 logged without a user
    st, _, _ = fwd_request(port, "GET", f"http://{host}/no")
    check(st == 407, f"no credentials: {st}")
    lg = _one(sl.wait_httplogs(3), lambda g: g["request"].endswith("/no HTTP/1.1"))
    check(lg["status"] == "407" and lg["req_cookie"] == "-", f"407 line {lg}")


def test_fwd_squid_log_format(t):
    dns = Dnsmasq(t, addresses={"origin.test": "127.0.0.1", "blocked.test": "127.0.0.1"})
    origin = t.pyserver("handler", handler=echo_origin_handler)
    echo = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, userlists={"u": ["user = carol insecure-password c"]},
                             lines=["log-format = squid", "acl = bad url_dom blocked.test",
                                    "http-request deny = if bad"] + _auth_lines(echo.port)))
    cred = _basic("carol", "c")
    host = f"origin.test:{origin.port}"
    resp = _raw_exchange(port, (f"GET http://{host}/sq?x=1 HTTP/1.1\r\nHost: {host}\r\n"
                                f"Proxy-Authorization: {cred}\r\nConnection: close\r\n\r\n").encode(),
                         t.timeout(5))
    check(resp.startswith(b"HTTP/1.1 200"), f"GET: {resp[:40]!r}")
    st, _, _ = fwd_request(port, "GET", f"http://{host}/denied")
    check(st == 407, f"no credentials: {st}")
    st, _, _ = fwd_request(port, "GET", "http://blocked.test/", [("Proxy-Authorization", cred)])
    check(st == 403, f"blocked: {st}")
    s = t.connect(port)
    s.sendall(f"CONNECT origin.test:{echo.port} HTTP/1.1\r\nHost: x\r\n"
              f"Proxy-Authorization: {cred}\r\n\r\n".encode())
    ok = BufSock(s, t.timeout(5)).read_until(b"\r\n\r\n")
    check(ok.startswith(b"HTTP/1.1 200"), f"CONNECT: {ok!r}")
    s.sendall(b"z" * 1000)
    recv_exact(s, 1000, t.timeout(5))
    s.close()

    def lines():
        ls = [m.groupdict() for m in SQUID_RE.finditer(sl.log())]
        return ls if len(ls) >= 4 else None
    logs = wait_for(lines, t.timeout(10), "4 squid log lines")
    traffic = [ln for ln in sl.log().splitlines() if ln and not ln.startswith("[")]
    check(len(traffic) == 4 and all(SQUID_RE.match(ln) for ln in traffic),
          f"lines not in Squid's format: {[ln for ln in traffic if not SQUID_RE.match(ln)]}")
    for ln in traffic:
        check(len(ln.split()) == 10, f"{len(ln.split())} fields, Squid has 10: {ln!r}")
    get = _one(logs, lambda g: g["url"].endswith("/sq?x=1"))
    denied = _one(logs, lambda g: g["url"].endswith("/denied"))
    blocked = _one(logs, lambda g: "blocked.test" in g["url"])
    tun = _one(logs, lambda g: g["method"] == "CONNECT")
    check(get["code"] == "TCP_MISS" and get["status"] == "200" and get["method"] == "GET" and
          get["url"] == f"http://{host}/sq?x=1" and get["user"] == "carol" and
          get["hier"] == "HIER_DIRECT" and get["client"] == "127.0.0.1", f"GET line {get}")
    check(get["bytes"] == str(len(resp)), f"GET bytes {get['bytes']}, client got {len(resp)}")
    check(denied["code"] == "TCP_DENIED" and denied["status"] == "407" and
          denied["user"] == "-" and denied["hier"] == "HIER_NONE", f"407 line {denied}")
    check(blocked["code"] == "TCP_DENIED" and blocked["status"] == "403" and
          blocked["url"] == "http://blocked.test/", f"403 line {blocked}")
    check(tun["code"] == "TCP_TUNNEL" and tun["status"] == "200" and tun["method"] == "CONNECT"
          and tun["url"] == f"origin.test:{echo.port}" and tun["user"] == "carol",
          f"CONNECT line {tun}")
    check(tun["bytes"] == str(len(ok) + 1000), f"CONNECT bytes {tun['bytes']}, "
          f"expected {len(ok) + 1000}")
    # no httplog lines in squid mode
    check(not sl.httplogs(), f"httplog lines in log-format squid mode: {sl.httplogs()}")


def test_fwd_badreq_log_timers(t):
    dns = Dnsmasq(t)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port))
    resp = _raw_exchange(port, b"GET http://origin.test/ HTTP/1.1\r\nHost: a b\r\n\r\n",
                         t.timeout(5))
    check(resp.startswith(b"HTTP/1.1 400"), f"invalid Host: {resp[:40]!r}")
    lg = sl.wait_httplogs(1)[0]
    check(lg["status"] == "400" and lg["request"] == "<BADREQ>", f"log line {lg}")
    timers = [int(lg[k]) for k in ("treq", "tw", "tc", "tr")] + [int(lg["ta"].lstrip("+"))]
    check(all(-1 <= v <= 10000 for v in timers),
          f"timers {lg['treq']}/{lg['tw']}/{lg['tc']}/{lg['tr']}/{lg['ta']} of a 400 sent within "
          "milliseconds: each should be -1 or a few ms")
