"""option nolinger: a side's connections are closed with a reset (SO_LINGER 0) instead of a FIN.
On a frontend it applies to the clients, on a backend to the servers; without it a close is a
clean FIN, as before."""
import socket
import threading

from harness import BufSock, check, config, http_config, recv_until_eof


def _idle_client_close(t, lines):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], defaults=["timeout client = 200ms"],
                         listen=lines))
    s = t.connect(port)
    got, how = recv_until_eof(s, t.timeout(5))
    check(got == b"", f"unexpected data {got!r}")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "cD", f"termination state {lg['term']!r}, expected 'cD'")
    return how


def test_nolinger_frontend_resets_client(t):
    how = _idle_client_close(t, ["option = nolinger"])
    check(how == "reset", f"the client saw {how}, expected a reset (option nolinger)")


def test_without_nolinger_client_gets_fin(t):
    how = _idle_client_close(t, [])
    check(how == "eof", f"the client saw {how}, expected a clean FIN without option nolinger")


def _close_recorder(seen, done, read_head=False):
    """A PyServer handler that (optionally reads a request head, then) reads until the proxy
    closes, appending "eof" or "reset" to seen and setting done."""
    def handler(c, srv):
        try:
            if read_head:
                BufSock(c, srv.timeout).read_until(b"\r\n\r\n", limit=1 << 16)
            while True:
                if not c.recv(4096):
                    seen.append("eof")
                    break
        except ConnectionResetError:
            seen.append("reset")
        finally:
            done.set()
    return handler


def _server_side_close(t, backend_lines):
    """mode tcp, a listen section: the server never answers, `timeout server` closes. Returns
    what the server's socket saw: "reset" or "eof"."""
    seen = []
    done = threading.Event()
    srv = t.pyserver("handler", handler=_close_recorder(seen, done))
    port = t.free_port()
    sl = t.sluice(config(port, [f"s1 {srv.addr}"], defaults=["timeout server = 200ms"],
                         listen=backend_lines))
    s = t.connect(port)
    s.sendall(b"hello")
    got, _ = recv_until_eof(s, t.timeout(5))
    check(got == b"", f"unexpected data {got!r}")
    check(done.wait(t.timeout(5)), "the server's socket was not closed")
    lg = sl.wait_tcplogs(1)[0]
    check(lg["term"] == "sD", f"termination state {lg['term']!r}, expected 'sD'")
    return seen[0]


def test_nolinger_backend_resets_server(t):
    how = _server_side_close(t, ["option = nolinger"])
    check(how == "reset", f"the server saw {how}, expected a reset (option nolinger)")


def test_without_nolinger_server_gets_fin(t):
    how = _server_side_close(t, [])
    check(how == "eof", f"the server saw {how}, expected a clean FIN without option nolinger")


def test_nolinger_http_keepalive_close_is_a_reset(t):
    """mode http: an idle keep-alive client is closed by `timeout http-keep-alive`: with the
    frontend's option nolinger, by a reset. The response before it arrived whole."""
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]},
                         frontend=["option = nolinger", "timeout http-keep-alive = 200ms"]))
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    bs = BufSock(s)
    head = bs.read_until(b"\r\n\r\n", limit=4096)
    check(head.startswith(b"HTTP/1.1 200"), f"response head {head!r}")
    check(bs.read_exact(2) == b"b1", "response body")
    s.settimeout(t.timeout(5))
    try:
        rest = s.recv(4096)
        how = "eof" if rest == b"" else f"data {rest!r}"
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "nothing"
    check(how == "reset", f"idle keep-alive close seen as {how}, expected a reset")


def test_nolinger_forward_proxy_resets_origin(t):
    """Forward proxy (option http_proxy): the listen section's option nolinger applies to the
    connections to origins. The origin never answers; `timeout server` ends the request with 504
    and the origin's socket sees a reset."""
    from harness import Dnsmasq, fwd_config, fwd_request
    seen = []
    done = threading.Event()
    origin = t.pyserver("handler", handler=_close_recorder(seen, done, read_head=True))
    dns = Dnsmasq(t)
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, defaults=["timeout server = 300ms"],
                        lines=["option = nolinger"]))
    st, _, _ = fwd_request(port, "GET", f"http://127.0.0.1:{origin.port}/", timeout=t.timeout(5))
    check(st == 504, f"a silent origin: status {st}, expected 504")
    check(done.wait(t.timeout(5)), "the origin's connection was not closed")
    check(seen == ["reset"], f"the origin saw {seen}, expected a reset (option nolinger)")
