"""mode http regex rewrites: replace-header, replace-value (request and response), set-path,
replace-path and set-query, what later rules, use_backend and balance uri see after a rewrite, and
the 500 / 502 answers when a rewrite would be malformed or too large, and path rewrites in a
forward proxy."""
import json
import time

from harness import (BufSock, Dnsmasq, check, echo_origin_handler, fwd_config, fwd_request,
                     http_config, read_http_response)
from test_http_route import _echo_server, _hdrs, _seen


def _raw(t, port, head):
    """Send one request head (str, CRLFs added) on a new connection: (status, fields, body)."""
    s = t.connect(port)
    s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    return read_http_response(BufSock(s, t.timeout(5)))


def _get(t, port, target, *fields):
    return _raw(t, port, [f"GET {target} HTTP/1.1", "Host: t", *fields])


def test_http_replace_header_and_value(t):
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        r"http-request replace-header = X-Host ^(.*)\.internal$ \1.example.com",
        # not anchored: a match anywhere replaces the whole value (HAProxy)
        r"http-request replace-header = X-Tag b(.) <\1>",
        r"http-request replace-header = X-Zero ^a.* [\0]",
        r"http-request replace-value = X-Forwarded-For ^192\.168\.(.*)$ 172.16.\1",
        r"http-request replace-header = X-Cond ^(.*)$ changed-\1 if { path_beg /cond }",
    ]))
    status, _, body = _get(t, port, "/h", "X-Host: api.internal", "X-Host: other.org",
                           "X-Host: db.internal", "X-Tag: abcd", "X-Zero: abc",
                           "X-Forwarded-For: 192.168.10.1, 192.168.13.24,10.0.0.37",
                           "X-Forwarded-For: 192.168.0.9", "X-Cond: v")
    check(status == 200, f"status {status}")
    seen = _seen(body)
    check(_hdrs(seen, "x-host") == ["api.example.com", "other.org", "db.example.com"],
          f"replace-header X-Host: the server saw {_hdrs(seen, 'x-host')}")
    check(_hdrs(seen, "x-tag") == ["<c>"], f"replace-header X-Tag: {_hdrs(seen, 'x-tag')}")
    check(_hdrs(seen, "x-zero") == ["[abc]"], f"\\0 in replace-header: {_hdrs(seen, 'x-zero')}")
    check(_hdrs(seen, "x-forwarded-for") == ["172.16.10.1, 172.16.13.24,10.0.0.37",
                                             "172.16.0.9"],
          f"replace-value X-Forwarded-For: {_hdrs(seen, 'x-forwarded-for')}")
    check(_hdrs(seen, "x-cond") == ["v"], f"conditional rewrite applied outside /cond: {seen}")
    status, _, body = _get(t, port, "/cond", "X-Cond: v")
    check(_hdrs(_seen(body), "x-cond") == ["changed-v"], f"conditional rewrite: {_seen(body)}")


def test_http_rewrite_edit_order(t):
    """Edits apply in rule order: a replace after set-header/add-header rewrites their values, a
    del-header or set-header after add-header removes what it added."""
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}",
                                        "http-request replace-header = X-Set ^b$ from-backend"]},
                         frontend=[
        "http-request set-header = X-Set a",
        "http-request replace-header = X-Set ^a$ b",
        "http-request add-header = X-Add v",
        "http-request del-header = X-Add",
        "http-request set-header = X-Twice 1",
        "http-request set-header = X-Twice 2",
        r"http-request replace-header = X-Before ^(.*)$ \1-replaced",
        "http-request add-header = X-Before added",
    ]))
    status, _, body = _get(t, port, "/", "X-Set: client", "X-Add: client", "X-Before: client")
    check(status == 200, f"status {status}")
    seen = _seen(body)
    check(_hdrs(seen, "x-set") == ["from-backend"],
          f"set-header then replace-header (frontend, then backend): {_hdrs(seen, 'x-set')}")
    check(not _hdrs(seen, "x-add"), f"del-header after add-header: {_hdrs(seen, 'x-add')}")
    check(_hdrs(seen, "x-twice") == ["2"], f"set-header twice: {_hdrs(seen, 'x-twice')}")
    check(_hdrs(seen, "x-before") == ["client-replaced", "added"],
          f"a field added after a replace is not rewritten: {_hdrs(seen, 'x-before')}")


def test_http_set_path_routing(t):
    old, new = _echo_server(t, "old"), _echo_server(t, "new")
    port = t.free_port()
    t.sluice(http_config(port, {"oldbe": [f"o {old.addr}"], "newbe": [f"n {new.addr}"]},
                         frontend=[
        r"http-request replace-path = ^/old/(.*) /new/\1",
        "http-request add-header = X-Saw-New yes if { path_beg /new/ }",
        "http-request set-path = /index.html if { path / }",
        "http-request set-query = lang=en if { path_beg /q/ }",
        "http-request set-query = x=1 if { url_param(add) yes }",
        "use_backend = newbe if { path_beg /new/ }",
    ]))
    status, fields, body = _get(t, port, "/old/a/b?k=v")
    check(status == 200, f"status {status}")
    check(_hdrs(fields, "x-server") == ["new"],
          f"use_backend did not see the rewritten path: answered by {_hdrs(fields, 'x-server')}")
    got = json.loads(body)
    check(got["target"] == "/new/a/b?k=v", f"replace-path: the server saw {got['target']!r}")
    check(_hdrs(got["fields"], "x-saw-new") == ["yes"],
          f"a later rule did not see the new path: {got['fields']}")
    got = json.loads(_get(t, port, "/other/x?k=v")[2])
    check(got["target"] == "/other/x?k=v" and not _hdrs(got["fields"], "x-saw-new"),
          f"replace-path applied without a match: {got}")
    got = json.loads(_get(t, port, "/?a=1")[2])
    check(got["target"] == "/index.html?a=1", f"set-path: {got['target']!r}")
    got = json.loads(_get(t, port, "/q/x")[2])
    check(got["target"] == "/q/x?lang=en", f"set-query without a query: {got['target']!r}")
    got = json.loads(_get(t, port, "/q/y?a=1&b=2")[2])
    check(got["target"] == "/q/y?lang=en", f"set-query: {got['target']!r}")
    got = json.loads(_get(t, port, "/p?add=yes")[2])
    check(got["target"] == "/p?x=1", f"set-query by url_param: {got['target']!r}")
    # an absolute-form target: its path is rewritten, and the server is asked in origin-form
    # with the target's authority as Host (RFC 9112 §3.2.2)
    status, fields, body = _raw(t, port, ["GET http://t/old/abs?z=1 HTTP/1.1", "Host: t"])
    got = json.loads(body)
    check(status == 200 and got["target"] == "/new/abs?z=1",
          f"replace-path on an absolute-form target: {status} {got['target']!r}")
    check(_hdrs(fields, "x-server") == ["new"], "absolute-form: use_backend saw the old path")


def test_http_set_path_balance_uri(t):
    """balance uri hashes the rewritten path: distinct paths set to one path go to one server."""
    s1, s2 = _echo_server(t, "s1"), _echo_server(t, "s2")
    port = t.free_port()
    t.sluice(http_config(port, {"app": ["balance = uri", f"s1 {s1.addr}", f"s2 {s2.addr}"]},
                         frontend=["http-request set-path = /fixed if { path_beg /r/ }"]))
    rewritten, plain = set(), set()
    for i in range(24):
        status, fields, body = _get(t, port, f"/r/{i}")
        check(status == 200 and json.loads(body)["target"] == "/fixed",
              f"/r/{i}: {status} {body[:80]!r}")
        rewritten.add(_hdrs(fields, "x-server")[0])
        plain.add(_hdrs(_get(t, port, f"/p/{i}")[1], "x-server")[0])
    check(len(rewritten) == 1, f"balance uri did not hash the rewritten path: {rewritten}")
    check(len(plain) == 2, f"balance uri should spread distinct paths: {plain}")


def test_http_response_replace(t):
    srv = _echo_server(t, resp_fields=[("Location", "http://internal/a/b"),
                                       ("X-List", "a, b, c"), ("X-Keep", "internal")])
    port = t.free_port()
    t.sluice(http_config(port, {"app": [
        f"py {srv.addr}",
        r"http-response replace-header = Location ^http://internal/(.*) https://www.example/\1",
    ]}, frontend=["http-response replace-value = X-List ^b$ X"]))
    status, fields, _ = _get(t, port, "/")
    check(status == 200, f"status {status}")
    check(_hdrs(fields, "location") == ["https://www.example/a/b"],
          f"response replace-header: {_hdrs(fields, 'location')}")
    check(_hdrs(fields, "x-list") == ["a, X, c"], f"response replace-value: {fields}")
    check(_hdrs(fields, "x-keep") == ["internal"], f"an unnamed field changed: {fields}")


def test_http_rewrite_failures(t):
    """A rewrite that would be malformed or too large is answered 500 (request) / 502
    (response); nothing malformed reaches the server."""
    srv = _echo_server(t, resp_fields=[("X-Big", "r" * 3000)])
    port = t.free_port()
    fe = [r"http-request replace-path = ^/strip(.*) \1",  # "/stripx" would become "x"
          r"http-request replace-path = ^/long/(.*) /\1\1\1\1\1\1\1\1\1",
          r"http-request replace-header = X-Big .* \0\0\0\0\0\0\0\0\0\0",
          r"http-response replace-header = X-Big .* \0\0\0\0\0\0\0\0 if { path /resp }"]
    fe += [f"http-request set-header = X-F{i} f if {{ path /many }}" for i in range(20)]
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"] + [
        f"http-request set-header = X-B{i} b if {{ path /many }}" for i in range(20)]},
                         frontend=fe))
    status, _, _ = _get(t, port, "/ok")
    check(status == 200, f"a plain request failed: {status}")
    seen_before = srv.requests
    status, _, _ = _get(t, port, "/stripx")
    check(status == 500, f"a path not starting with '/' after replace-path: {status}")
    status, _, _ = _get(t, port, "/long/" + "p" * 1000)
    check(status == 500, f"a rewritten target over 8 KiB: {status}")
    status, _, _ = _get(t, port, "/h", "X-Big: " + "x" * 3000)
    check(status == 500, f"a header rewrite past the buffer: {status}")
    check(srv.requests == seen_before, f"{srv.requests - seen_before} bad request(s) forwarded")
    # 20 edits of the frontend and 20 of the backend: a message holds both lists' (up to 32 each)
    status, _, body = _get(t, port, "/many")
    seen = _seen(body)
    check(status == 200 and all(_hdrs(seen, f"x-{s}{i}") == [s] for s in "fb" for i in range(20)),
          f"40 header edits from two sections: {status}")
    status, _, _ = _get(t, port, "/resp")
    check(status == 502, f"a response header rewrite past the buffer: {status}")
    status, fields, _ = _get(t, port, "/strip/x")
    check(status == 200, f"replace-path to '/x' failed: {status}")


def test_fwd_rewrite_path(t):
    """A forward proxy sends the rewritten path and query to the origin, in origin-form, and
    later rules see them."""
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, lines=[
        r"http-request replace-path = ^/old/(.*) /new/\1",
        "http-request set-query = a=1 if { path_beg /new/ }",
        "http-request deny = if { path_beg /old/ }",
    ]))
    status, _, _ = fwd_request(port, "GET", f"http://origin.test:{origin.port}/old/x?z=9",
                               timeout=t.timeout(5))
    check(status == 200, f"status {status}")
    req = origin.requests[-1]
    check(req["target"] == "/new/x?a=1", f"the origin saw {req['target']!r}")
    check(req["fields"] and dict((k.lower(), v) for k, v in req["fields"])["host"] ==
          f"origin.test:{origin.port}", f"Host changed: {req['fields']}")


def test_http_rewrite_regex_limits(t):
    # A crafted value that makes a backtracking regex explode hits the worker's match limit: the
    # request fails (500) rather than going out with its rewrite skipped, and quickly. A long
    # subject that only needs a deep JIT stack still rewrites.
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        r"http-request replace-header = X-Burn ^(\w+\s?)*$ ok",
        r"http-request replace-path = ^/api((?:/[a-z]+)*)$ /v2\1",
    ]))
    status, _, body = _get(t, port, "/x", "X-Burn: abc def")
    check(status == 200 and _hdrs(_seen(body), "x-burn") == ["ok"], f"plain value: {status}")
    before = srv.requests
    start = time.monotonic()
    status, _, _ = _get(t, port, "/x", "X-Burn: " + "a" * 40 + "!")
    took = time.monotonic() - start
    check(status == 500, f"a value past the match limit: {status}")
    check(srv.requests == before, "the request went out with its rewrite skipped")
    check(took < t.timeout(2), f"the match took {took:.2f} s")
    path = "/api" + "/a" * 3000
    status, _, body = _get(t, port, path)
    got = json.loads(body)["target"] if status == 200 else None
    check(got == "/v2" + "/a" * 3000, f"a long path: {status}, target {str(got)[:40]!r}")


def test_http_rewrite_cookie_with_indirect_persistence(t):
    # With `cookie ... insert indirect` sluice rebuilds the Cookie field without its own cookie;
    # replace-header rules still apply to what it sends.
    srv = _echo_server(t, "s1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr} cookie c1",
                                        "cookie = SRV insert indirect nocache"]}, frontend=[
        r"http-request replace-header = Cookie ^(.*)secret=[^;]*(.*)$ \1secret=REDACTED\2"]))
    status, _, body = _get(t, port, "/", "Cookie: a=b; SRV=c1; secret=hunter2; z=1")
    seen = _hdrs(_seen(body), "cookie")
    check(status == 200 and seen == ["a=b; secret=REDACTED; z=1"],
          f"{status}: the server saw Cookie {seen}")
