"""Stick tables: rate limits per client address (429 after N requests, a second address not
affected), keep-alive requests each counted, 4xx answers counted as errors and read back by
src_* ACLs, a string table keyed by a header, requests in progress (conn_cur), the runtime API's
`show table` / `clear table`, and entries that expire."""
import http.client
import os
import re

from harness import check, http_config, http_get, read_response, wait_for
from test_cli_api import cli


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
