"""http-request tarpit: a matching request is held for `timeout tarpit` without an answer, then
gets an error page (500 unless deny_status says otherwise); the server never sees it; a client
that gives up first ends the session. Logged with HAProxy's termination states PT / CT."""
import http.client
import os
import socket
import struct
import time

from harness import check, http_config, recv_until_eof, wait_for
from test_cli_api import cli


def _get(t, port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    start = time.monotonic()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body, time.monotonic() - start


def test_http_tarpit(t):
    b = t.backend("b1")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    hold_ms = int(t.timeout(0.4) * 1000)  # longer under sanitizers, where everything is slower
    sl = t.sluice(http_config(port, {"app": [f"b1 {b.addr}"], "slow": [
        f"b1 {b.addr}", f"timeout tarpit = {2 * hold_ms}ms",
        "http-request tarpit = if { path_beg /be/bad }"]}, global_=[
        f"stats socket = {sock} mode 600 level admin"], frontend=[
        f"timeout tarpit = {hold_ms}ms",
        "http-request tarpit = if { path_beg /bad }",
        "http-request tarpit = deny_status 429 if { path_beg /slow }",
        "use_backend = slow if { path_beg /be }",
    ]))
    status, body, took = _get(t, port, "/name")
    check(status == 200 and body == b"b1", f"an ordinary request: {status} {body!r}")
    check(took < 0.9 * hold_ms / 1000, f"an ordinary request took {took:.2f} s")
    for path, want in (("/bad", 500), ("/slow", 429)):
        status, body, took = _get(t, port, path)
        check(status == want, f"{path}: {status}, wanted {want}")
        check(took >= 0.9 * hold_ms / 1000,
              f"{path}: answered after {took:.2f} s, before timeout tarpit ({hold_ms} ms)")
        check(b"b1" not in body, f"{path}: the server answered")
    # a rule of the backend holds for the backend's timeout tarpit
    status, _, took = _get(t, port, "/be/bad")
    check(status == 500 and took >= 1.8 * hold_ms / 1000,
          f"backend tarpit: {status} after {took:.2f} s (its timeout: {2 * hold_ms} ms)")
    # a client that does not wait and resets: the session ends (CT), and the worker serves the
    # next one
    s = t.connect(port)
    s.sendall(b"GET /bad/early HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_for(lambda: "state=TARPIT" in cli(sock, "show sess"), t.timeout(5),
             "the request held in the tarpit (show sess)")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    status, body, _ = _get(t, port, "/name")
    check(status == 200 and body == b"b1", f"after a client left a tarpit: {status}")
    # a client that half-closes after its request still gets the answer
    s = t.connect(port)
    s.sendall(b"GET /bad/halfclose HTTP/1.1\r\nHost: x\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    data, how = recv_until_eof(s, t.timeout(5) + 2 * hold_ms / 1000)
    check(data.startswith(b"HTTP/1.1 500"), f"half-closed client: {data[:40]!r} ({how})")
    logs = sl.wait_httplogs(7)
    terms = {lg["request"].split()[1]: lg["term"][:2] for lg in logs}
    check(terms.get("/bad") == "PT" and terms.get("/slow") == "PT",
          f"termination of tarpitted requests: {terms}")
    check(terms.get("/bad/early") == "CT", f"termination of an abandoned tarpit: {terms}")
