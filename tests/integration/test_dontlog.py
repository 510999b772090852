"""option dontlognull and option dontlog-normal: what the traffic log leaves out, in mode tcp
(tcplog) and mode http (httplog). One worker, so log lines come in the order sessions end."""
import http.client

from harness import check, config, http_config


def _tcp_exchange(t, port, data):
    s = t.connect(port)
    if data:
        s.sendall(data)
        s.recv(100)
    s.close()


def test_dontlognull_tcp(t):
    b = t.backend("b1", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"b1 {b.addr}"], nbthread=1, listen=["option = dontlognull"]))
    _tcp_exchange(t, port, b"")        # a probe: connects and leaves
    _tcp_exchange(t, port, b"hello")   # real traffic
    logs = sl.wait_tcplogs(1)
    check(len(logs) == 1 and logs[0]["bytes"] == "5",
          f"dontlognull: the probe was logged or the session lost: {logs}")


def test_dontlognull_http(t):
    b = t.backend("b1")
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1,
                              defaults=["option = dontlognull", "timeout http-request = 200ms"]))
    s = t.connect(port)  # a pre-opened connection that never sends: 408 after 200 ms
    check(s.recv(4096).startswith(b"HTTP/1.1 408"), "the silent connection was not answered 408")
    s.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/name")
    c.getresponse().read()
    c.close()
    logs = sl.wait_httplogs(1)
    check([lg["status"] for lg in logs] == ["200"], f"dontlognull in http: {logs}")


def test_dontlog_normal_http(t):
    b = t.backend("b1")
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, nbthread=1, frontend=[
        "option = dontlog-normal", "http-request deny = if { path /admin }",
        "http-request redirect = location /name if { path /old }"]))
    for path in ("/name", "/status/503", "/old", "/name", "/admin", "/status/404", "/name"):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", path)
        c.getresponse().read()
        c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/status/500")  # the last line: everything before it has been written
    c.getresponse().read()
    c.close()
    logs = sl.wait_httplogs(3)
    got = [(lg["request"].split()[1], lg["status"], lg["term"][:2]) for lg in logs]
    check(got == [("/status/503", "503", "--"), ("/admin", "403", "PR"),
                  ("/status/500", "500", "--")],
          f"dontlog-normal: {got}")
