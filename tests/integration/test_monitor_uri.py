"""`monitor-uri`: an outer load balancer's health check answered by sluice itself, before any
rule, neither forwarded to a server nor logged."""
import http.client

from harness import check, http_config, recv_until_eof


def _get(t, port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("connection"), body


def _backend_requests(t, b):
    """Requests the backend served before this one (its /stats route counts itself)."""
    c = http.client.HTTPConnection("127.0.0.1", b.port, timeout=t.timeout(5))
    c.request("GET", "/stats")
    text = c.getresponse().read().decode()
    c.close()
    return int(text.split("requests=")[1].split()[0]) - 1


def test_monitor_uri_answered_locally(t):
    b = t.backend("b1")
    port = t.free_port()
    s = t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, frontend=[
        "monitor-uri = /healthz",
        "http-request deny = if { path_beg /healthz }",  # rules come after the monitor
    ]))
    before = _backend_requests(t, b)
    for _ in range(3):
        status, conn, body = _get(t, port, "/healthz")
        check(status == 200, f"/healthz answered {status}")
        check(b"Service ready" in body, f"monitor page: {body!r}")
        check((conn or "").lower() == "close", f"connection header {conn!r}")
    check(_backend_requests(t, b) == before + 1, "a monitor request reached the server")
    # Not the monitor URI: a query, a longer path, a prefix of it.
    status, _, _ = _get(t, port, "/healthz?full=1")
    check(status == 403, f"/healthz?full=1 should meet the deny rule, got {status}")
    status, _, body = _get(t, port, "/")
    check(status == 200 and body == b"hello, world\n", f"/ through sluice: {status} {body!r}")
    check(_backend_requests(t, b) == before + 3,
          "the ordinary request did not reach the server")
    logs = s.wait_httplogs(2)
    requests = [entry["request"] for entry in logs]
    check(not any(r == "GET /healthz HTTP/1.1" for r in requests),
          f"a monitor request was logged: {requests}")
    check("GET /healthz?full=1 HTTP/1.1" in requests and "GET / HTTP/1.1" in requests,
          f"the other requests were not logged: {requests}")


def test_monitor_uri_inherited_from_defaults(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, defaults=["monitor-uri = /up"]))
    status, _, body = _get(t, port, "/up")
    check(status == 200 and b"Service ready" in body, f"/up from [defaults]: {status} {body!r}")
    status, _, body = _get(t, port, "/")
    check(status == 200 and body == b"hello, world\n", f"/: {status} {body!r}")


def test_monitor_uri_answers_once(t):
    # The answer ends the exchange: the request is not parsed again (once it was answered in a
    # loop for as long as the client read) and the connection closes after one response.
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, frontend=["monitor-uri = /healthz"]))
    for req in (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /healthz HTTP/1.0\r\n\r\n"):
        s = t.connect(port)
        s.sendall(req)
        data, how = recv_until_eof(s, t.timeout(5))
        check(how == "eof" and data.count(b"HTTP/1.1 200 OK") == 1 and
              data.endswith(b"</body></html>\n"),
              f"{req[:30]!r}: {data.count(b'HTTP/1.1 200')} responses, {len(data)} bytes, {how}")
