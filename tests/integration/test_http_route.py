"""mode http routing and rewriting: ACLs and use_backend, header rules, forwardfor/forwarded,
hop-by-hop headers, deny/redirect/return, cookie persistence, and hash balancing (uri,
url_param, hdr)."""
import http.client
import json
import re

from harness import (BufSock, check, header, http_config, http_response, read_http_response,
                     read_request, recv_until_eof, xfail)


def _request(t, port, method, path, headers=None, body=None, conn=None):
    """One request (on conn, or on a new connection closed afterwards): (status, headers, body)
    with headers as a list of (name, value)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r.status, r.getheaders(), data


def _hdr(fields, name):
    return header(fields, name)


def _hdrs(fields, name):
    return [v for k, v in fields if k.lower() == name.lower()]


# ---- a header-echo backend -------------------------------------------------------------------

def _echo_headers_handler(sock, srv):
    """Answers with a JSON list of the request's [name, value] fields (and method, target);
    response fields from srv.resp_fields, plus X-Server: srv.name."""
    bs = BufSock(sock, srv.timeout)
    while True:
        req = read_request(bs)
        srv.requests += 1
        body = json.dumps({"method": req["method"], "target": req["target"],
                           "fields": req["fields"]}).encode()
        sock.sendall(http_response(200, body, [("X-Server", srv.name)] + srv.resp_fields))


def _echo_server(t, name="py", resp_fields=()):
    srv = t.pyserver("handler", handler=_echo_headers_handler)
    srv.name, srv.resp_fields, srv.requests = name, list(resp_fields), 0
    return srv


def _seen(body):
    return json.loads(body)["fields"]


# ---- routing ---------------------------------------------------------------------------------

def test_http_routing_host_path(t):
    bs = {n: t.backend(n) for n in ("def", "api", "hostb", "misc", "put")}
    port = t.free_port()
    t.sluice(http_config(port, {n: [f"{n} {b.addr}"] for n, b in bs.items()}, frontend=[
        "acl = is_api path_beg /api",
        "acl = host_b hdr(host) -i b.example",
        "acl = is_post method POST",
        "use_backend = api if is_api !is_post",
        "use_backend = hostb if host_b or { path_end .b }",
        "use_backend = misc if { path_beg /misc } !{ hdr(host) -i no.example }",
        "use_backend = put unless { method GET POST HEAD }",
    ]))
    cases = [
        ("GET", "/name", "t", "def"),
        ("GET", "/api/v1", "t", "api"),
        ("GET", "/apix", "t", "api"),
        ("POST", "/api/v1", "t", "def"),          # !is_post
        ("GET", "/x", "B.Example", "hostb"),      # -i
        ("GET", "/x", "b.example.org", "def"),
        ("GET", "/file.b", "t", "hostb"),         # or { path_end }
        ("GET", "/api/file.b", "b.example", "api"),  # the first matching rule wins
        ("GET", "/misc/1", "t", "misc"),
        ("GET", "/misc/1", "NO.example", "def"),  # !{ ... -i }
        ("PUT", "/x", "t", "put"),                # unless
        ("GET", "/x?path=/api", "t", "def"),      # path excludes the query
    ]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for method, path, host, want in cases:
        status, fields, body = _request(t, port, method, path, {"Host": host},
                                        body=b"" if method in ("POST", "PUT") else None, conn=c)
        got = _hdr(fields, "x-server")
        check(got == want, f"{method} {path} Host: {host} went to {got!r} ({status}), "
              f"expected {want!r}")
    c.close()


def test_http_routing_predefined_acls(t):
    a, b = t.backend("a"), t.backend("b")
    port = t.free_port()
    t.sluice(http_config(port, {"a": [f"a {a.addr}"], "b": [f"b {b.addr}"]}, frontend=[
        "use_backend = b if METH_POST or HTTP_1.0",
    ]))
    check(_hdr(_request(t, port, "GET", "/")[1], "x-server") == "a", "GET did not go to a")
    check(_hdr(_request(t, port, "POST", "/", body=b"x")[1], "x-server") == "b",
          "METH_POST did not go to b")
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.0\r\n\r\n")
    status, fields, body = read_http_response(BufSock(s, t.timeout(5)))
    check(body == b"b", f"HTTP/1.0 request went to {body!r}")


# ---- header rules ----------------------------------------------------------------------------

def test_http_request_header_rules_and_hop_by_hop(t):
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}", "option = forwardfor"]}, frontend=[
        "http-request set-header = X-Test 1",
        "http-request del-header = X-Secret",
        "http-request add-header = X-Added a",
        "http-request add-header = X-Api yes if { path_beg /api }",
    ]))
    status, fields, body = _request(t, port, "GET", "/api/h", {
        "X-Test": "0", "X-Secret": "s", "X-Added": "client",
        "Connection": "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "timeout=5",
        "TE": "trailers", "X-Keep": "k"})
    check(status == 200, f"status {status}")
    seen = _seen(body)
    check(_hdrs(seen, "x-test") == ["1"], f"set-header X-Test: server saw {_hdrs(seen, 'x-test')}")
    check(not _hdrs(seen, "x-secret"), "del-header X-Secret: still forwarded")
    check(_hdrs(seen, "x-added") == ["client", "a"],
          f"add-header X-Added: server saw {_hdrs(seen, 'x-added')}")
    check(_hdrs(seen, "x-api") == ["yes"], "conditional add-header did not apply")
    check(_hdrs(seen, "x-keep") == ["k"], "an ordinary header was lost")
    check(_hdrs(seen, "x-forwarded-for") == ["127.0.0.1"],
          f"X-Forwarded-For: {_hdrs(seen, 'x-forwarded-for')}")
    for h in ("x-hop", "keep-alive", "te"):
        check(not _hdrs(seen, h), f"hop-by-hop header {h!r} reached the server: {seen}")
    conn = " ".join(_hdrs(seen, "connection")).lower()
    check("x-hop" not in conn, f"the client's Connection tokens were forwarded: {conn!r}")
    status, fields, body = _request(t, port, "GET", "/other", {"X-Test": "0"})
    check(not _hdrs(_seen(body), "x-api"), "conditional add-header applied outside /api")


def test_http_forwardfor_except_and_forwarded(t):
    s1, s2 = _echo_server(t, "s1"), _echo_server(t, "s2")
    port = t.free_port()
    t.sluice(http_config(port, {
        "ex": [f"s1 {s1.addr}", "option forwardfor = except 127.0.0.0/8"],
        "fwd": [f"s2 {s2.addr}", "option = forwarded",
                "option forwardfor = header X-Real-IP"],
    }, frontend=["use_backend = fwd if { path_beg /fwd }"]))
    seen = _seen(_request(t, port, "GET", "/ex")[2])
    check(not _hdrs(seen, "x-forwarded-for"), f"forwardfor except 127.0.0.0/8 still added "
          f"{_hdrs(seen, 'x-forwarded-for')}")
    seen = _seen(_request(t, port, "GET", "/fwd")[2])
    check(_hdrs(seen, "forwarded") == ["for=127.0.0.1;proto=http"],
          f"option forwarded: {_hdrs(seen, 'forwarded')}")
    check(_hdrs(seen, "x-real-ip") == ["127.0.0.1"] and not _hdrs(seen, "x-forwarded-for"),
          f"forwardfor header X-Real-IP: {seen}")


def test_http_response_header_rules(t):
    srv = _echo_server(t, resp_fields=[("Server", "pyserver/1.0"),
                                       ("X-Frame-Options", "SAMEORIGIN"),
                                       ("Connection", "keep-alive, X-Srv-Hop"), ("X-Srv-Hop", "1"),
                                       ("Keep-Alive", "timeout=9")])
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}",
                                        "http-response del-header = X-Server",
                                        "http-response set-header = X-Frame-Options DENY"]},
                         frontend=["http-response add-header = X-Via sluice-test"]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for i in range(3):  # on one keep-alive connection
        status, fields, body = _request(t, port, "GET", f"/r{i}", conn=c)
        check(status == 200, f"status {status}")
        check(not _hdrs(fields, "x-server"), f"del-header X-Server: still sent {fields}")
        check(_hdrs(fields, "x-frame-options") == ["DENY"],
              f"set-header X-Frame-Options: {_hdrs(fields, 'x-frame-options')}")
        check(_hdrs(fields, "x-via") == ["sluice-test"], f"frontend add-header: {fields}")
        check(_hdrs(fields, "server") == ["pyserver/1.0"], f"Server header changed: {fields}")
        for h in ("x-srv-hop", "keep-alive"):
            check(not _hdrs(fields, h), f"the server's hop-by-hop {h!r} reached the client")
    c.close()


def test_http_response_rules_conditions(t):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [
        f"b1 {b.addr}",
        "http-response add-header = Cache-Control no-store if { path_beg /account }",
        "http-response set-status = 404 if { path_beg /private/ }",
        "http-response deny = if { method DELETE }",
    ]}))
    status, fields, _ = _request(t, port, "GET", "/account/me")
    check(_hdrs(fields, "cache-control") == ["no-store"], f"/account: {fields}")
    status, fields, _ = _request(t, port, "GET", "/other")
    check(not _hdrs(fields, "cache-control"), f"/other: {fields}")
    status, _, _ = _request(t, port, "GET", "/private/x")
    check(status == 404, f"set-status 404 for /private/: {status}")
    status, _, _ = _request(t, port, "DELETE", "/name")
    check(status == 502, f"http-response deny for DELETE: {status}")


def _set_status(t, rule):
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [
        f"b1 {b.addr}", f"http-response set-status = {rule}",
        "http-response add-header = X-Resp a",
        "http-response add-header = X-Resp b"]}))
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    bs = BufSock(s, t.timeout(5))
    head = bs.read_until(b"\r\n\r\n")
    check(head.count(b"X-Resp: ") == 2, f"two add-header fields expected: {head!r}")
    check(bs.read_exact(2) == b"b1", "body lost after set-status")
    return head


def test_http_response_set_status(t):
    head = _set_status(t, "404")
    check(head.startswith(b"HTTP/1.1 404 Not Found\r\n"), f"set-status 404: {head[:40]!r}")


def test_http_response_set_status_reason(t):
    head = _set_status(t, "503 reason Fine")
    check(head.startswith(b"HTTP/1.1 503 Fine\r\n"), f"set-status with reason: {head[:40]!r}")


# ---- deny / redirect / return ----------------------------------------------------------------

def test_http_deny_redirect_return(t):
    b = t.backend("secretname")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"secretname {b.addr}"]}, frontend=[
        "http-request deny = if { path_beg /admin }",
        "http-request deny = deny_status 429 if { path_beg /limited }",
        "http-request redirect = location /x code 301 if { path /old }",
        "http-request redirect = prefix https://new.example if { path_beg /moved }",
        "http-request return = status 200 content-type text/plain string ok if { path /health }",
    ]))
    s = t.connect(port)
    s.sendall(b"GET /admin/panel HTTP/1.1\r\nHost: t\r\n\r\n")
    bsock = BufSock(s, t.timeout(5))
    status, fields, body = read_http_response(bsock)
    check(status == 403, f"deny: status {status}")
    text = (body + repr(fields).encode()).lower()
    for leak in (b"secretname", b"127.0.0.1", str(b.port).encode(), b"sluice", b"0.1.0"):
        check(leak not in text, f"the 403 page reveals {leak!r}: {fields} {body!r}")
    check((header(fields, "connection") or "").lower() == "close", "deny: no Connection: close")
    status, fields, body = _request(t, port, "GET", "/limited")
    check(status == 429, f"deny_status 429: got {status}")
    status, fields, body = _request(t, port, "GET", "/old")
    check(status == 301 and _hdr(fields, "location") == "/x",
          f"redirect location: {status} {_hdr(fields, 'location')!r}")
    status, fields, body = _request(t, port, "GET", "/moved/a?q=1")
    check(status == 302 and _hdr(fields, "location") == "https://new.example/moved/a?q=1",
          f"redirect prefix: {status} {_hdr(fields, 'location')!r}")
    status, fields, body = _request(t, port, "GET", "/health")
    check(status == 200 and body == b"ok" and _hdr(fields, "content-type") == "text/plain",
          f"return: {status} {body!r} {fields}")
    status, fields, body = _request(t, port, "GET", "/name")
    check(status == 200 and body == b"secretname", f"a normal request: {status} {body!r}")
    m = re.match(rb"accepts=\d+ requests=(\d+)", _request(t, b.port, "GET", "/stats")[2])
    check(m and int(m.group(1)) == 2, f"denied/redirected/returned requests reached the server: "
          f"{m and m.group(0)!r}")


# ---- cookie persistence ----------------------------------------------------------------------

def _cookie_config(port, s1, s2, extra=()):
    return http_config(port, {"app": [f"s1 {s1.addr} cookie c1", f"s2 {s2.addr} cookie c2",
                                      "balance = roundrobin",
                                      "cookie = SRV insert indirect nocache"] + list(extra)},
                       nbthread=1)


def test_http_cookie_stickiness(t):
    s1, s2 = t.backend("s1"), t.backend("s2")
    port = t.free_port()
    t.sluice(_cookie_config(port, s1, s2))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    # Without a cookie: roundrobin, and each response inserts its server's cookie.
    names, cookies = [], []
    for i in range(6):
        status, fields, body = _request(t, port, "GET", "/name", conn=c)
        names.append(body.decode())
        sc = _hdr(fields, "set-cookie") or ""
        check(re.match(r"SRV=c[12]; path=/", sc), f"response {i}: Set-Cookie {sc!r}")
        check(sc.startswith(f"SRV=c{body.decode()[1]}"), f"cookie {sc!r} names another server "
              f"than {body!r}")
        check("private" in (_hdr(fields, "cache-control") or "") or
              "no-cache" in (_hdr(fields, "cache-control") or ""),
              f"nocache: no Cache-Control private/no-cache in {fields}")
        cookies.append(sc.split(";")[0])
    check(all(names[i] != names[i + 1] for i in range(5)), f"roundrobin did not alternate: {names}")
    # With a cookie: pinned, and no new cookie (indirect).
    for srv in ("s1", "s2"):
        ck = f"SRV=c{srv[1]}"
        for i in range(20):
            status, fields, body = _request(t, port, "GET", "/name",
                                            {"Cookie": f"a=b; {ck}; z=1"}, conn=c)
            check(body.decode() == srv, f"request {i} with {ck} went to {body!r}")
            check(not _hdr(fields, "set-cookie"), f"indirect: cookie set again: {fields}")
    # An unknown value: balanced normally and a cookie is inserted.
    status, fields, body = _request(t, port, "GET", "/name", {"Cookie": "SRV=zz"}, conn=c)
    check(status == 200 and (_hdr(fields, "set-cookie") or "").startswith("SRV=c"),
          f"unknown cookie value: {status} {fields}")
    c.close()


def test_http_cookie_down_server_redispatched(t):
    s1, s2 = t.backend("s1"), t.backend("s2")
    port = t.free_port()
    t.sluice(_cookie_config(port, s1, s2, ["option = redispatch", "retries = 1"]))
    s2.kill()
    for i in range(5):
        status, fields, body = _request(t, port, "GET", "/name", {"Cookie": "SRV=c2"})
        check(status == 200 and body == b"s1", f"request {i} pinned to a dead server: "
              f"{status} {body!r}")
        check((_hdr(fields, "set-cookie") or "").startswith("SRV=c1"),
              f"the cookie was not moved to s1: {fields}")


def test_http_cookie_indirect_hidden_from_server(t):
    srv = _echo_server(t, "s1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr} cookie c1",
                                        "cookie = SRV insert indirect nocache"]}))
    status, fields, body = _request(t, port, "GET", "/", {"Cookie": "a=b; SRV=c1; z=1"})
    seen = " ".join(_hdrs(_seen(body), "cookie"))
    check("a=b" in seen and "z=1" in seen, f"other cookies lost: {seen!r}")
    check("SRV=" not in seen, f"the server saw the persistence cookie: {seen!r}")
    # the cookie that picks the server is the cookie removed, however it is spaced
    for cookie in ("a=1;\tSRV=c1", "a=1; SRV =c1"):
        status, fields, body = _request(t, port, "GET", "/", {"Cookie": cookie})
        seen = " ".join(_hdrs(_seen(body), "cookie"))
        check(seen == "a=1", f"Cookie {cookie!r}: the server saw {seen!r}")


# ---- hash balancing --------------------------------------------------------------------------

def _hash_spread(t, balance, make_req):
    bes = [t.backend(f"h{i}") for i in range(4)]
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"h{i} {b.addr}" for i, b in enumerate(bes)] +
                                [f"balance = {balance}"]}))
    mapping = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for rep in range(3):
        for key in range(10):
            path, headers = make_req(key, rep)
            # Alternate between a kept connection and new ones (other workers).
            status, fields, _ = _request(t, port, "GET", path, headers,
                                         conn=conn if (key + rep) % 2 else None)
            srv = _hdr(fields, "x-server")
            check(status in (200, 404) and srv, f"{path}: status {status}")
            prev = mapping.setdefault(key, srv)
            check(prev == srv, f"balance {balance}: key {key} went to {prev} then {srv}")
    conn.close()
    check(len(set(mapping.values())) >= 2, f"balance {balance}: 10 keys all on "
          f"{set(mapping.values())}")


def test_http_balance_uri(t):
    _hash_spread(t, "uri", lambda k, rep: (f"/obj/{k}", {}))


def test_http_balance_url_param(t):
    _hash_spread(t, "url_param id", lambda k, rep: (f"/q?x={rep}&id=u{k}&y={rep * 7}", {}))


def test_http_balance_hdr(t):
    _hash_spread(t, "hdr(X-User)", lambda k, rep: (f"/p/{rep}", {"X-User": f"user{k}"}))


def test_http_accept_proxy(t):
    # A balancer in front sends a PROXY header: its client address drives src ACLs, the log and
    # X-Forwarded-For; a connection without a valid header is closed unanswered.
    b = t.backend("b1")
    port = t.free_port()
    text = http_config(port, {"app": [f"b1 {b.addr}"]},
                       frontend=["acl = from_x src 1.2.3.0/24",
                                 "http-response = set-header X-From-X yes if from_x"])
    text = text.replace(f"bind = 127.0.0.1:{port}", f"bind = 127.0.0.1:{port} accept-proxy")
    sl = t.sluice(text)
    s = t.connect(port)
    s.sendall(b"PROXY TCP4 1.2.3.4 127.0.0.1 5555 80\r\n"
              b"GET /name HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw = recv_until_eof(s, t.timeout(5))[0]
    check(raw.startswith(b"HTTP/1.1 200") and b"X-From-X: yes" in raw and raw.endswith(b"b1"),
          f"response through accept-proxy: {raw!r}")
    logs = sl.wait_httplogs(1)
    check(logs[0]["client"].startswith("1.2.3.4:5555"), f"log client {logs[0]['client']}")
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = recv_until_eof(s, t.timeout(5))[0]
    check(raw == b"", f"a request without a PROXY header was answered: {raw!r}")


def test_http_absolute_form_host_is_the_authority(t):
    # A client that sends an absolute-form target with another Host: the target's authority is
    # the request's host for ACLs and for the server, which gets origin-form (RFC 9112 §3.2.2),
    # so a rule on hdr(host) cannot be dodged with a Host field that disagrees.
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "http-request deny = if { hdr(host) -i admin.internal }",
        "http-request set-header = X-Seen-Host %[req.hdr(host)]",
    ]))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    s.sendall(b"GET http://admin.internal/x HTTP/1.1\r\nHost: public.example\r\n\r\n")
    status, _, _ = read_http_response(bs)
    check(status == 403, f"deny on hdr(host) dodged with a disagreeing Host: {status}")
    s = t.connect(port)  # a denied request ends its connection
    bs = BufSock(s, t.timeout(5))
    s.sendall(b"GET http://www.example:8080/y?q=1 HTTP/1.1\r\nHost: other\r\n\r\n")
    status, _, body = read_http_response(bs)
    req = json.loads(body)
    seen = req["fields"]
    check(status == 200 and req["target"] == "/y?q=1", f"{status}: target {req['target']!r}")
    check(_hdrs(seen, "host") == ["www.example:8080"], f"Host sent: {_hdrs(seen, 'host')}")
    check(_hdrs(seen, "x-seen-host") == ["www.example:8080"], f"req.hdr(host): {seen}")


def test_http_routing_by_cookie(t):
    # cook()/req.cook(): route a tester's browser to the beta backend by its cookie; the cookie's
    # value is also a sample.
    stable, beta = t.backend("stable"), t.backend("beta")
    port = t.free_port()
    t.sluice(http_config(port, {"stable": [f"stable {stable.addr}"], "beta": [f"beta {beta.addr}"]},
                         frontend=["use_backend = beta if { req.cook(env) -m str beta }",
                                   "http-response set-header = X-Env \"<%[req.cook(env)]>\""]))
    for cookie, want in ((None, "stable"), ("a=1; env=beta", "beta"), ("env=beta2", "stable"),
                         ("ENV=beta", "stable")):
        status, fields, body = _request(t, port, "GET", "/name",
                                        {"Cookie": cookie} if cookie else {})
        env = cookie.split("env=")[1] if cookie and "env=" in cookie else ""
        check(status == 200 and body.decode() == want, f"Cookie {cookie!r}: {status} {body!r}")
        check(_hdrs(fields, "x-env") == [f"<{env}>"], f"%[req.cook(env)]: {fields}")


def test_http_balance_hdr_host_absolute_form(t):
    # balance hdr(host) hashes what the ACLs see as the host: an absolute-form request's
    # authority, whatever its Host field says, so it lands where an origin-form request for that
    # host does.
    bes = [t.backend(f"h{i}") for i in range(4)]
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"h{i} {b.addr}" for i, b in enumerate(bes)] +
                                ["balance = hdr(host)"]}))
    s = t.connect(port)
    bs = BufSock(s, t.timeout(5))
    for k in range(8):
        host = f"site{k}.example"
        s.sendall(b"GET /name HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
        _, _, want = read_http_response(bs)
        s.sendall(b"GET http://%s/name HTTP/1.1\r\nHost: constant.example\r\n\r\n" % host.encode())
        _, _, got = read_http_response(bs)
        check(got == want, f"{host}: origin-form went to {want!r}, absolute-form to {got!r}")
