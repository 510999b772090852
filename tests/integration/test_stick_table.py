"""Stick tables: rate limits per client address (429 after N requests, a second address not
affected), keep-alive requests each counted, 4xx answers counted as errors and read back by
src_* ACLs, a string table keyed by a header, requests in progress (conn_cur), the runtime API's
`show table` / `clear table`, entries that expire, and `tcp-request connection` rules: a
connection rate limit in mode tcp (rejected at once, counted as dcon) and a connection's tracker
counting each of its keep-alive requests in mode http."""
import http.client
import os
import re

from harness import check, config, http_config, http_get, read_response, wait_for
from test_cli_api import cli, show_stat


def _table(sock, name):
    """`show table NAME`: {key: {data: value}} plus the header line."""
    out = cli(sock, f"show table {name}")
    lines = out.strip().splitlines()
    check(lines and lines[0].startswith(f"# table: {name}, "), f"show table {name}: {out!r}")
    entries = {}
    for ln in lines[1:]:
        m = re.match(r"0x[0-9a-f]+: key=(\S+) use=(\d+) exp=(\d+)(.*)$", ln)
        check(m, f"show table line: {ln!r}")
        data = dict(kv.split("=") for kv in m.group(4).split())
        data["use"] = m.group(2)
        entries[m.group(1)] = data
    return lines[0], entries


def _start(t, frontend, more_backends=None):
    """sluice with a stats socket, a frontend `web` (extra lines) and backend `app`: (port, sock)."""
    b = t.backend("b1")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    backends = {"app": [f"b1 {b.addr}"]}
    for name, lines in (more_backends or {}).items():
        backends[name] = [f"b1 {b.addr}"] + lines
    t.sluice(http_config(port, backends, global_=[f"stats socket = {sock} mode 600 level admin"],
                         frontend=frontend))
    return port, sock


def test_stick_table_rate_limit(t):
    port, sock = _start(t, [
        "stick-table = type ip size 1k expire 60s "
        "store http_req_rate(60s),http_req_cnt,conn_cnt,http_err_cnt",
        "http-request track-sc0 = src",
        "http-request deny = deny_status 429 if { sc_http_req_rate(0) gt 5 }",
        "http-request deny = if { src_http_err_cnt ge 10 }",
    ])
    for i in range(5):
        status, _, body = http_get(port, "/name")
        check(status == 200 and body == b"b1", f"request {i + 1} of 5: {status} {body!r}")
    status, _, body = http_get(port, "/name")
    check(status == 429, f"the 6th request within the period: {status}, wanted 429")
    check(b"b1" not in body, "the server answered a limited request")
    # another client address has its own entry
    status, _, _ = http_get(port, "/name", source="127.0.0.2")
    check(status == 200, f"a second client address: {status}")
    head, entries = _table(sock, "web")
    check("type: ip, size:1024, used:2" in head, f"table header: {head}")
    e = entries.get("127.0.0.1")
    check(e and e["http_req_cnt"] == "6" and e["conn_cnt"] == "6" and e["use"] == "0",
          f"127.0.0.1's entry after 6 requests: {e}")
    check(e["http_req_rate(60000)"] == "6", f"rate: {e}")
    check(e["http_err_cnt"] == "1", f"the 429 counts as an error: {e}")
    check(entries.get("127.0.0.2", {}).get("http_req_cnt") == "1", f"second address: {entries}")
    # the operator lifts the limit for one address
    cli(sock, "clear table web key 127.0.0.1")
    _, entries = _table(sock, "web")
    check("127.0.0.1" not in entries and "127.0.0.2" in entries, f"after clear: {entries}")
    status, _, _ = http_get(port, "/name")
    check(status == 200, f"after clear table: {status}")


def test_stick_table_keepalive_and_errors(t):
    port, sock = _start(t, [
        "stick-table = type ipv6 size 1k expire 60s store http_req_cnt,http_err_rate(60s)",
        "http-request track-sc0 = src",
        "http-request deny = deny_status 403 if { sc0_http_err_rate ge 3 }",
    ])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for path, want in (("/name", 200), ("/status/404", 404), ("/status/404", 404),
                       ("/status/500", 500), ("/status/404", 404), ("/name", 403)):
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        check(r.status == want, f"keep-alive {path}: {r.status}, wanted {want}")
        if r.status == 403:
            break
    c.close()
    _, entries = _table(sock, "web")
    e = entries.get("::ffff:127.0.0.1")
    check(e and e["http_req_cnt"] == "6", f"each keep-alive request counted once: {entries}")
    # three 404s, then the denial itself (a 4xx); the 500 is no client error
    check(e["http_err_rate(60000)"] == "4", f"errors: {e}")


def test_stick_table_header_key(t):
    port, sock = _start(t, [
        "http-request track-sc1 = req.hdr(x-api-key),lower table keys",
        "http-request deny = deny_status 429 if { sc1_http_req_cnt gt 2 }",
    ], {"keys": ["stick-table = type string len 8 size 100 expire 60s store http_req_cnt"]})

    def get(key):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", "/name", headers={"X-API-Key": key} if key is not None else {})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    codes = [get("KeyA") for _ in range(3)] + [get("keya")]
    check(codes == [200, 200, 429, 429], f"one key (case folded by ,lower): {codes}")
    check(get("other") == 200, "a second key")
    check([get(None) for _ in range(4)] == [200] * 4, "requests without the header are not "
          "tracked (no sc1: the ACL does not match)")
    # keys longer than len are cut: the same first 8 bytes are one client
    check([get("longkey-1"), get("longkey-2"), get("longkey-3")] == [200, 200, 429],
          "keys cut at len 8")
    _, entries = _table(sock, "keys")
    check(set(entries) == {"keya", "other", "longkey-"}, f"keys: {sorted(entries)}")


def test_stick_table_conn_cur_and_expiry(t):
    port, sock = _start(t, [
        "stick-table = type ip size 100 expire 1s store conn_cur",
        "http-request track-sc0 = src",
        "http-request deny = deny_status 429 if { sc0_conn_cur gt 1 }",
    ])
    # a request whose body is still coming is in progress: a second one at once is refused
    s = t.connect(port)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
    wait_for(lambda: _table(sock, "web")[1].get("127.0.0.1", {}).get("conn_cur") == "1",
             t.timeout(5), "the first request tracked (conn_cur 1)")
    status, _, _ = http_get(port, "/name")
    check(status == 429, f"a second request while the first is in progress: {status}")
    s.sendall(b"67890")
    status, _, body = read_response(s, t.timeout(5))
    check(status == 200 and body == b"1234567890", f"the first request: {status} {body!r}")
    s.close()
    _, entries = _table(sock, "web")
    check(entries["127.0.0.1"]["conn_cur"] == "0", f"after both ended: {entries}")
    status, _, _ = http_get(port, "/name")
    check(status == 200, f"a request after the first ended: {status}")
    # unused entries go once they expire (1 s; the sweep runs every second)
    wait_for(lambda: "used:0" in _table(sock, "web")[0], t.timeout(5),
             "the entry to expire (show table used:0)")
    out = cli(sock, "show table nope")
    check("No such table" in out, f"an unknown table: {out!r}")
    check("# table: web, type: ip, size:100, used:0" in cli(sock, "show table"),
          "show table lists the tables")


def test_tcp_request_connection_rate_limit(t):
    b = t.backend("b1", mode="echo")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    t.sluice(config(port, [f"b1 {b.addr}"], global_=[f"stats socket = {sock} mode 600 level admin"],
                    listen=["stick-table = type ip size 100 expire 60s "
                            "store conn_cnt,conn_cur,conn_rate(60s)",
                            "tcp-request connection = accept if { src 127.0.0.3 }",
                            "tcp-request connection = track-sc0 src",
                            "tcp-request connection = reject if { sc0_conn_rate gt 3 }"]))
    held = []
    for i in range(3):
        s = t.connect(port)
        s.sendall(b"ping%d" % i)
        check(s.recv(16) == b"ping%d" % i, f"connection {i + 1}: echo")
        held.append(s)
    _, entries = _table(sock, "app")
    e = entries.get("127.0.0.1")
    check(e and e["conn_cur"] == "3" and e["use"] == "3", f"three open connections: {e}")
    # the 4th connection is closed at once: nothing reaches the server
    s = t.connect(port)
    try:
        s.sendall(b"ping")
        data = s.recv(16)
    except ConnectionError:
        data = b""
    check(data == b"", f"a 4th connection within the period got {data!r}")
    s.close()
    # an accepted address is never tracked nor limited
    for i in range(5):
        s = t.connect(port, source="127.0.0.3")
        s.sendall(b"x")
        check(s.recv(1) == b"x", f"127.0.0.3, connection {i + 1}")
        s.close()
    for s in held:
        s.close()
    wait_for(lambda: _table(sock, "app")[1]["127.0.0.1"]["conn_cur"] == "0", t.timeout(5),
             "conn_cur back to 0 once the connections closed")
    _, entries = _table(sock, "app")
    check(entries["127.0.0.1"]["conn_cnt"] == "4" and "127.0.0.3" not in entries,
          f"the rejected attempt counts, the accepted address is not tracked: {entries}")
    rows = show_stat(sock)
    check(rows[("app", "FRONTEND")]["dcon"] == "1", f"dcon: {rows[('app', 'FRONTEND')]['dcon']}")


def test_tcp_request_connection_tracks_http_requests(t):
    port, sock = _start(t, [
        "stick-table = type ip size 100 expire 60s store conn_cnt,conn_cur,http_req_cnt",
        "tcp-request connection = track-sc0 src",
        # sc0 is the connection's: this rule is ignored, as in HAProxy
        "http-request track-sc0 = src",
        "http-request deny = deny_status 429 if { sc0_http_req_cnt gt 4 }",
    ])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    codes = []
    for i in range(5):
        c.request("GET", "/name")
        r = c.getresponse()
        r.read()
        codes.append(r.status)
        if i == 3:
            e = _table(sock, "web")[1].get("127.0.0.1")
            check(e and e["conn_cnt"] == "1" and e["conn_cur"] == "1" and
                  e["http_req_cnt"] == "4", f"one tracked connection, four requests: {e}")
    check(codes == [200, 200, 200, 200, 429], f"keep-alive requests on one connection: {codes}")
    c.close()
    # the denial closed the connection: its tracker goes with it
    wait_for(lambda: _table(sock, "web")[1]["127.0.0.1"]["conn_cur"] == "0", t.timeout(5),
             "the connection's tracker released at close")
    e = _table(sock, "web")[1]["127.0.0.1"]
    check(e["http_req_cnt"] == "5" and e["conn_cnt"] == "1", f"after the denial: {e}")


def test_stick_table_denials_count_as_errors(t):
    """HAProxy counts a denied or tarpitted request as an HTTP error whatever status it is
    answered with (a tarpit's is 500 by default), and the docs say so too."""
    hold_ms = int(t.timeout(0.1) * 1000)
    port, sock = _start(t, [
        "stick-table = type ip size 100 expire 60s store http_req_cnt,http_err_cnt",
        "http-request track-sc0 = src",
        f"timeout tarpit = {hold_ms}ms",
        "http-request tarpit = if { path_beg /bad }",
        "http-request deny = deny_status 503 if { path_beg /closed }",
        "http-request deny = if { path_beg /forbidden }",
    ])
    for path, want in (("/bad", 500), ("/closed", 503), ("/forbidden", 403), ("/name", 200),
                       ("/status/500", 500)):
        status, _, _ = http_get(port, path)
        check(status == want, f"{path}: {status}, wanted {want}")
    e = _table(sock, "web")[1].get("127.0.0.1")
    check(e and e["http_req_cnt"] == "5", f"five requests: {e}")
    check(e["http_err_cnt"] == "3", f"a tarpit, a 503 denial and a 403 denial are errors, a "
          f"server's 500 is not: {e}")


def test_tcp_use_backend_reads_stick_counters(t):
    """In mode tcp, use_backend conditions read the connection's trackers (sc*) and the clock
    (src_* rates) as tcp-request connection rules do: HAProxy's way to send abusers to a
    backend of their own."""
    app, slow = t.backend("app"), t.backend("slow")
    port, port2 = t.free_port(), t.free_port()
    t.sluice(
        "[global]\nnbthread = 2\nlog = stderr\n"
        "[defaults]\nmode = tcp\ntimeout connect = 2s\ntimeout client = 30s\n"
        "timeout server = 30s\n"
        f"[frontend fe]\nbind = 127.0.0.1:{port}\n"
        "stick-table = type ip size 100 expire 60s store conn_cnt,conn_rate(60s)\n"
        "tcp-request connection = track-sc0 src\n"
        "use_backend = slow if { sc0_conn_cnt gt 2 }\n"
        "default_backend = app\n"
        # reads fe's table without tracking
        f"[frontend fe2]\nbind = 127.0.0.1:{port2}\n"
        "use_backend = slow if { src_conn_rate(fe) gt 2 }\n"
        "default_backend = app\n"
        f"[backend app]\nserver = a1 {app.addr}\n"
        f"[backend slow]\nserver = s1 {slow.addr}\n")

    def name(p, source="127.0.0.1"):
        s = t.connect(p, source=source)
        s.sendall(b"GET /name HTTP/1.0\r\n\r\n")
        _, _, body = read_response(s, t.timeout(5))
        s.close()
        return body.decode()

    got = [name(port) for _ in range(4)]
    check(got == ["app", "app", "slow", "slow"], f"sc0_conn_cnt gt 2: {got}")
    got = [name(port2), name(port2, "127.0.0.2")]
    check(got == ["slow", "app"], f"src_conn_rate(fe) gt 2 (4 connections in 60 s), then a "
          f"client without an entry: {got}")
