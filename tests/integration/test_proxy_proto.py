"""PROXY protocol v1/v2: accept-proxy on the bind, send-proxy / send-proxy-v2 to the server."""
import socket
import struct

from harness import Skip, check, http_get, recv_until_eof

V1 = b"PROXY TCP4 1.2.3.4 127.0.0.1 5555 80\r\n"
V1_6 = b"PROXY TCP6 2001:db8::1 ::1 5555 80\r\n"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src="1.2.3.4", sport=5555, dst="127.0.0.1", dport=80):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    addrs = socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) + struct.pack("!HH", sport, dport)
    return V2_SIG + bytes([0x21, 0x21 if fam == socket.AF_INET6 else 0x11]) + \
        struct.pack("!H", len(addrs)) + addrs


def _config(sections):
    """[global]/[defaults] plus one [listen NAME] per (name, bind line, server line)."""
    out = ["[global]", "nbthread = 2", "log = stderr", "", "[defaults]", "mode = tcp",
           "timeout connect = 2s", "timeout client = 5s", "timeout server = 5s", "option = tcplog"]
    for name, bind, server in sections:
        out += ["", f"[listen {name}]", f"bind = {bind}", f"server = {server}"]
    return "\n".join(out) + "\n"


def test_accept_proxy_to_plain_backend(t):
    b = t.backend("plain")
    port = t.free_port()
    sl = t.sluice(_config([("pp", f"127.0.0.1:{port} accept-proxy", f"plain {b.addr}")]))
    for hdr in (V1, v2_header()):
        status, headers, body = http_get(port, "/name", prefix=hdr)
        check(status == 200 and body == b"plain", f"through accept-proxy: {status} {body!r}")
    logs = sl.wait_tcplogs(2)
    check(all(lg["client"] == "1.2.3.4:5555" for lg in logs),
          f"tcplog client should be the PROXY source 1.2.3.4:5555: {[lg['client'] for lg in logs]}")


def test_accept_and_send_proxy_v1_v2(t):
    b = t.backend("pp", proxy_proto=True)
    p1, p2 = t.free_port(), t.free_port()
    t.sluice(_config([("out1", f"127.0.0.1:{p1} accept-proxy", f"pp {b.addr} send-proxy"),
                      ("out2", f"127.0.0.1:{p2} accept-proxy", f"pp {b.addr} send-proxy-v2")]))
    cases = [("v1 in", V1, "1.2.3.4:5555"), ("v2 in", v2_header(), "1.2.3.4:5555"),
             ("v1 TCP6 in", V1_6, "[2001:db8::1]:5555"),
             ("v2 TCP6 in", v2_header("2001:db8::1", 5555, "::1", 80), "[2001:db8::1]:5555")]
    problems = []
    for out_name, port in (("send-proxy", p1), ("send-proxy-v2", p2)):
        for in_name, hdr, want in cases:
            status, headers, body = http_get(port, "/client", prefix=hdr)
            if status != 200 or body.decode() != want or headers.get("x-client") != want:
                problems.append(f"{in_name} -> {out_name}: {status} body={body!r} "
                                f"X-Client={headers.get('x-client')!r}, expected {want}")
    check(not problems, "; ".join(problems))


def test_accept_proxy_rejects_missing_or_bad_header(t):
    b = t.backend("plain")
    port = t.free_port()
    sl = t.sluice(_config([("pp", f"127.0.0.1:{port} accept-proxy", f"plain {b.addr}")]))
    bad = [("no header", b"GET /name HTTP/1.0\r\n\r\n"),
           ("garbage v1", b"PROXY FOO 1.2.3.4\r\nGET /name HTTP/1.0\r\n\r\n"),
           ("bad v1 address", b"PROXY TCP4 1.2.3 127.0.0.1 5555 80\r\nGET /name HTTP/1.0\r\n\r\n"),
           ("bad v2 version", V2_SIG + b"\x11\x11\x00\x0c" + b"\x01" * 12 +
            b"GET /name HTTP/1.0\r\n\r\n")]
    for name, payload in bad:
        s = t.connect(port)
        s.sendall(payload)
        got, how = recv_until_eof(s, t.timeout(5))
        check(got == b"", f"{name}: the connection was served ({got[:60]!r}); it must be closed")
        s.close()
    logs = sl.wait_tcplogs(len(bad))
    check(all(lg["term"][1] == "R" for lg in logs),
          f"termination states {[lg['term'] for lg in logs]} (expected ?R: closed before a server)")
    check(all(lg["server"] == "<NOSRV>" for lg in logs), f"{[lg['server'] for lg in logs]}")
    check(b.popen and http_get(b.port, "/stats")[2].startswith(b"accepts=1 "),
          "the backend was contacted by a rejected connection")


def test_send_proxy_carries_real_client(t):
    b = t.backend("pp", proxy_proto=True)
    p1, p2 = t.free_port(), t.free_port()
    t.sluice(_config([("v1", f"127.0.0.1:{p1}", f"pp {b.addr} send-proxy"),
                      ("v2", f"127.0.0.1:{p2}", f"pp {b.addr} send-proxy-v2")]))
    for port in (p1, p2):
        with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
            me = "%s:%d" % s.getsockname()
            s.sendall(b"GET /client HTTP/1.0\r\n\r\n")
            raw, _ = recv_until_eof(s, t.timeout(5))
        check(raw.endswith(me.encode()), f"port {port}: backend saw {raw[-40:]!r}, client is {me}")


def test_send_proxy_ipv6_client(t):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        raise Skip(f"no ::1: {e}")
    b = t.backend("pp", proxy_proto=True)
    port = t.free_port()
    t.sluice(_config([("v6", f"[::1]:{port}", f"pp {b.addr} send-proxy-v2")]))
    with socket.create_connection(("::1", port), timeout=t.timeout(5)) as s:
        me = "[::1]:%d" % s.getsockname()[1]
        s.sendall(b"GET /client HTTP/1.0\r\n\r\n")
        raw, _ = recv_until_eof(s, t.timeout(5))
    check(raw.endswith(me.encode()), f"backend saw {raw[-40:]!r}, client is {me}")


def test_accept_proxy_unknown_and_local(t):
    # v1 UNKNOWN and v2 LOCAL carry no address: the connection's own peer is used.
    b = t.backend("pp", proxy_proto=True)
    port = t.free_port()
    t.sluice(_config([("pp", f"127.0.0.1:{port} accept-proxy", f"pp {b.addr} send-proxy")]))
    local = V2_SIG + b"\x20\x00\x00\x00"
    for name, hdr in (("v1 UNKNOWN", b"PROXY UNKNOWN\r\n"), ("v2 LOCAL", local)):
        with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
            me = "%s:%d" % s.getsockname()
            s.sendall(hdr + b"GET /client HTTP/1.0\r\n\r\n")
            raw, _ = recv_until_eof(s, t.timeout(5))
        check(raw.endswith(me.encode()), f"{name}: backend saw {raw[-40:]!r}, client is {me}")
