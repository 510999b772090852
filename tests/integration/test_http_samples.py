"""Header values with HAProxy log-format samples: `http-request set-header X-Real-IP %[src]`,
`%[req.hdr(host),lower]`, `%ci:%cp`, `http-response set-header X-Served-By %s`, ... expanded for
each request, through a real sluice to a server that echoes what it received."""
import http.client
import re
import time

from harness import check, http_config, recv_until_eof
from test_http_route import _echo_server, _hdrs, _seen


def _ask(c, path, headers=None):
    """One request on connection c: (response, the fields the echo server saw or None)."""
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    try:
        return r, _seen(body)
    except ValueError:  # not the echo server's JSON (a redirect, an error page)
        return r, None


def test_http_request_header_samples(t):
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "http-request set-header = X-Real-IP %[src]",
        "http-request set-header = X-Client %ci:%cp",
        "http-request set-header = X-Dst %[dst]:%[dst_port]",
        "http-request set-header = X-Host %[req.hdr(host),lower]",
        "http-request set-header = X-Last %[req.hdr(x-list)]",
        "http-request set-header = X-First-Line %[req.fhdr(x-list,1)]",
        "http-request set-header = X-Req \"%HM %HP %[query] %HV id=%[url_param(id)]\"",
        "http-request set-header = X-Names %f/%b",
        "http-request set-header = X-Request-Start t=%Ts%ms",
        "http-request add-header = X-None <%[req.hdr(x-none)]>",
        "http-request set-header = X-Pct 100%%",
        "http-request set-header = X-Api %[path] if { path_beg /api }",
        "http-request set-header = X-Request-ID %[uuid]",
    ], name="www"))
    ids = []
    for path, api in (("/api/v1?id=42&k=v", True), ("/other?id=7", False)):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.connect()
        cport = c.sock.getsockname()[1]
        c.putrequest("GET", path, skip_host=True)
        c.putheader("Host", "WWW.Example.COM:8080")
        c.putheader("X-List", "a, b")
        c.putheader("X-List", "c")
        c.putheader("X-Real-IP", "10.9.9.9")  # a client's forged value is replaced
        c.endheaders()
        before = time.time()
        r = c.getresponse()
        seen = _seen(r.read())
        c.close()
        check(r.status == 200, f"status {r.status}")
        check(_hdrs(seen, "x-real-ip") == ["127.0.0.1"], f"%[src]: {_hdrs(seen, 'x-real-ip')}")
        check(_hdrs(seen, "x-client") == [f"127.0.0.1:{cport}"],
              f"%ci:%cp: {_hdrs(seen, 'x-client')} (client port {cport})")
        check(_hdrs(seen, "x-dst") == [f"127.0.0.1:{port}"], f"%[dst]: {_hdrs(seen, 'x-dst')}")
        check(_hdrs(seen, "x-host") == ["www.example.com:8080"],
              f"%[req.hdr(host),lower]: {_hdrs(seen, 'x-host')}")
        check(_hdrs(seen, "x-last") == ["c"], f"%[req.hdr(x-list)]: {_hdrs(seen, 'x-last')}")
        check(_hdrs(seen, "x-first-line") == ["a, b"],
              f"%[req.fhdr(x-list,1)]: {_hdrs(seen, 'x-first-line')}")
        p, q = path.split("?")
        qid = q.split("&")[0].split("=")[1]
        check(_hdrs(seen, "x-req") == [f"GET {p} {q} HTTP/1.1 id={qid}"],
              f"request samples: {_hdrs(seen, 'x-req')}")
        check(_hdrs(seen, "x-names") == ["www/app"], f"%f/%b: {_hdrs(seen, 'x-names')}")
        start = _hdrs(seen, "x-request-start")
        check(len(start) == 1 and re.fullmatch(r"t=\d{13}", start[0]) is not None,
              f"t=%Ts%ms: {start}")
        ms = int(start[0][2:])
        check(abs(ms / 1000 - before) < 5, f"t=%Ts%ms is {ms}, now {before:.3f}")
        check(_hdrs(seen, "x-none") == ["<>"], f"an absent field: {_hdrs(seen, 'x-none')}")
        check(_hdrs(seen, "x-pct") == ["100%"], f"%%: {_hdrs(seen, 'x-pct')}")
        check(_hdrs(seen, "x-api") == ([p] if api else []),
              f"conditional sample rule on {path}: {_hdrs(seen, 'x-api')}")
        ids += _hdrs(seen, "x-request-id")
    check(len(ids) == 2 and ids[0] != ids[1] and all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i)
        for i in ids), f"%[uuid]: {ids}")


def test_http_response_header_samples(t):
    srv = _echo_server(t, name="py", resp_fields=[("Server", "PyServer/1.0")])
    port = t.free_port()
    t.sluice(http_config(port, {"app": [
        f"s1 {srv.addr}",
        "http-response set-header = X-Served-By %s",
        "http-response set-header = X-Status \"%[status] %ST\"",
        "http-response set-header = X-Srv-Software %[res.hdr(server),lower]",
        "http-response set-header = X-Echo-Server %[hdr(x-server)]",
        "http-response set-header = X-For \"%[method] %[path] from %[src]\"",
    ]}))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for i in range(2):  # on one keep-alive connection
        c.request("GET", f"/r{i}?a=1")
        r = c.getresponse()
        r.read()
        fields = r.getheaders()
        check(r.status == 200, f"status {r.status}")
        check(_hdrs(fields, "x-served-by") == ["s1"], f"%s: {_hdrs(fields, 'x-served-by')}")
        check(_hdrs(fields, "x-status") == ["200 200"], f"%[status] %ST: {fields}")
        check(_hdrs(fields, "x-srv-software") == ["pyserver/1.0"],
              f"%[res.hdr(server),lower]: {_hdrs(fields, 'x-srv-software')}")
        check(_hdrs(fields, "x-echo-server") == ["py"],
              f"%[hdr(x-server)] in a response rule: {_hdrs(fields, 'x-echo-server')}")
        check(_hdrs(fields, "x-for") == [f"GET /r{i} from 127.0.0.1"],
              f"request samples in a response rule: {_hdrs(fields, 'x-for')}")
    c.close()


def test_http_header_sample_errors_named(t):
    port = t.free_port()
    cfg = http_config(port, {"app": ["s1 127.0.0.1:9"]}, frontend=[
        "http-request set-header = X-Srv %s"])
    res = t.run(["-c", "-f", t.write("bad.ini", cfg)])
    check(res.returncode != 0, "a config with %s in an http-request rule was accepted")
    check(re.search(r"bad\.ini:\d+: '%s' in header value '%s' is known only once the server "
                    r"answered", res.stderr) is not None, f"message: {res.stderr!r}")


def test_http_header_samples_behind_accept_proxy(t):
    # Behind a balancer that speaks the PROXY protocol, src and dst are the header's addresses
    # (HAProxy's), and dst_port ACLs test the header's port too.
    srv = _echo_server(t)
    port = t.free_port()
    text = http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "http-request set-header = X-Src %ci:%cp",
        "http-request set-header = X-Dst %[dst]:%[dst_port]",
        "http-request set-header = X-Tls yes if { dst_port 8443 }",
    ])
    t.sluice(text.replace(f"bind = 127.0.0.1:{port}", f"bind = 127.0.0.1:{port} accept-proxy"))
    s = t.connect(port)
    s.sendall(b"PROXY TCP4 192.0.2.7 198.51.100.9 5555 8443\r\n"
              b"GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw = recv_until_eof(s, t.timeout(5))[0]
    check(raw.startswith(b"HTTP/1.1 200"), f"response: {raw[:200]!r}")
    seen = _seen(raw.split(b"\r\n\r\n", 1)[1])
    check(_hdrs(seen, "x-src") == ["192.0.2.7:5555"], f"%ci:%cp: {_hdrs(seen, 'x-src')}")
    check(_hdrs(seen, "x-dst") == ["198.51.100.9:8443"], f"%[dst]: {_hdrs(seen, 'x-dst')}")
    check(_hdrs(seen, "x-tls") == ["yes"], f"dst_port ACL behind PROXY: {seen}")


def test_http_header_samples_oversized_rewrite(t):
    # Samples copy request fields, so a client could make the rebuilt head as large as it likes:
    # past tune.bufsize the request is answered 500 and nothing reaches the server.
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "http-request set-header = X-Copy \"%[req.hdr(x-big)] %[req.hdr(x-big)] "
        "%[req.hdr(x-big)] %[req.hdr(x-big)]\"",
    ]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/big", headers={"X-Big": "b" * 6000})  # a 6 KB head, 24 KB rewritten
    r = c.getresponse()
    body = r.read()
    c.close()
    check(r.status == 500, f"oversized rewrite answered {r.status}")
    check(srv.requests == 0, f"the server saw {srv.requests} request(s)")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, seen = _ask(c, "/small", {"X-Big": "b" * 1000})
    c.close()
    check(r.status == 200 and _hdrs(seen, "x-copy") == [" ".join(["b" * 1000] * 4)],
          f"a rewrite that fits: {r.status}")


def test_http_redirect_with_samples(t):
    # HAProxy's recipe for a canonical host: the target is built from the request.
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"]}, frontend=[
        "http-request redirect = location "
        "https://%[req.hdr(host),lower]%[capture.req.uri] code 301 if { path_beg /secure }",
        "http-request redirect = prefix http://%[hdr(host),lower]:8080 if { path_beg /p/ }",
        "http-request redirect = location /id/%[uuid()] if { path /new }",
    ]))
    for path, status, want in (
            ("/secure/a?b=1&c", 301, "https://www.example.com/secure/a?b=1&c"),
            ("/p/x?y", 302, "http://www.example.com:8080/p/x?y")):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", path, headers={"Host": "WWW.Example.COM"})
        r = c.getresponse()
        r.read()
        c.close()
        check(r.status == status and r.getheader("location") == want,
              f"{path}: {r.status} location {r.getheader('location')!r}, wanted {want!r}")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, _ = _ask(c, "/new")
    c.close()
    loc = r.getheader("location") or ""
    check(r.status == 302 and re.fullmatch(r"/id/[0-9a-f-]{36}", loc) is not None,
          f"/new: {r.status} location {loc!r}")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read()
    c.close()
    check(r.status == 200 and body == b"hello, world\n", f"/: {r.status} {body!r}")


def test_http_unique_id(t):
    # HAProxy's request ID: computed once per request, sent to the server in unique-id-header,
    # readable as %[unique-id] / %ID in header values (here echoed to the client); inherited
    # from [defaults].
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, defaults=[
        "unique-id-format = %ci-%[uuid()]",
        "unique-id-header = X-Request-ID",
    ], frontend=["http-response set-header = X-Request-ID %ID",
                 "http-request set-header = X-Copy %[unique-id]"]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    ids = []
    for i in range(3):  # on one keep-alive connection: one ID per request
        c.request("GET", f"/r{i}")
        r = c.getresponse()
        seen = _seen(r.read())
        got = r.getheader("x-request-id") or ""
        check(re.fullmatch(r"127\.0\.0\.1-[0-9a-f-]{36}", got) is not None,
              f"response X-Request-ID {got!r}")
        check(_hdrs(seen, "x-request-id") == [got], f"the server saw {_hdrs(seen, 'x-request-id')}, "
              f"the client {got!r}")
        check(_hdrs(seen, "x-copy") == [got], f"%[unique-id] in a request rule: {seen}")
        ids.append(got)
    c.close()
    check(len(set(ids)) == 3, f"IDs repeat across requests: {ids}")


def test_http_dst_samples_in_unique_id_and_redirect(t):
    # HAProxy's usual unique-id recipe uses %fi:%fp, and a redirect may name the address the
    # client reached: the local address is filled in for them too.
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "unique-id-format = %ci:%cp_%fi:%fp",
        "unique-id-header = X-Unique-ID",
        "http-request redirect = location http://%[dst]:%[dst_port]/moved if { path /old }",
    ]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.connect()
    cport = c.sock.getsockname()[1]
    r, seen = _ask(c, "/x")
    check(_hdrs(seen, "x-unique-id") == [f"127.0.0.1:{cport}_127.0.0.1:{port}"],
          f"unique id: {_hdrs(seen, 'x-unique-id')}")
    r, _ = _ask(c, "/old")
    c.close()
    check(r.status == 302 and r.getheader("location") == f"http://127.0.0.1:{port}/moved",
          f"redirect: {r.status} {r.getheader('location')!r}")


def test_http_response_acls(t):
    # status and res.hdr() in http-response conditions: the fetches HAProxy configs use to
    # treat errors and server hints differently.
    srv = _echo_server(t, name="py", resp_fields=[("X-Cache", "MISS, from-origin")])
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"], "py": [f"py {srv.addr}"]}, frontend=[
        "use_backend = py if { path_beg /py }",
        "http-response set-header = Cache-Control no-store if { status 404 }",
        "http-response set-header = X-Error yes if { status ge 400 }",
        "http-response add-header = X-Miss yes if { res.hdr(x-cache) -m str MISS }",
        "http-response add-header = X-Origin yes if { shdr_beg(X-Cache) from }",
        # hdr() in a response rule is the response's (HAProxy's), req.hdr() the request's
        "http-response add-header = X-Py yes if { hdr(x-server) py }",
        "http-response add-header = X-Asked yes if { req.hdr(x-ask) yes }",
    ]))
    for path, status, want in (("/name", 200, {}),
                               ("/nope", 404, {"cache-control": "no-store", "x-error": "yes"}),
                               ("/status/503", 503, {"x-error": "yes"}),
                               ("/py/x", 200, {"x-miss": "yes", "x-origin": "yes", "x-py": "yes",
                                               "x-asked": "yes"})):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", path, headers={"X-Ask": "yes"} if path.startswith("/py") else {})
        r = c.getresponse()
        r.read()
        c.close()
        got = {k: r.getheader(k) for k in ("cache-control", "x-error", "x-miss", "x-origin",
                                           "x-py", "x-asked") if r.getheader(k)}
        check(r.status == status and got == want, f"{path}: {r.status} {got}, wanted {want}")


def test_http_samples_original_target_and_backend_name(t):
    # %HU and capture.req.uri are the target as the client sent it, %[url] and %[path] the one a
    # set-path made; %b in a frontend redirect is the frontend, whatever the connection's last
    # request used.
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"], "other": [f"py {srv.addr}"]},
                         frontend=[
        "http-request redirect = location /from-%b if { path /r }",
        "http-request set-path = /new if { path_beg /old }",
        "http-request set-header = X-T \"%[capture.req.uri] %[url] %HU %HP %HQ %[path] %b\"",
        "use_backend = other if { path_beg /o }",
    ], name="www"))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, seen = _ask(c, "/old?q=1")
    check(_hdrs(seen, "x-t") == ["/old?q=1 /new?q=1 /old?q=1 /old ?q=1 /new app"],
          f"target samples: {_hdrs(seen, 'x-t')}")
    r, seen = _ask(c, "/o")  # to backend other, on the same connection
    check(_hdrs(seen, "x-t")[0].endswith(" other"), f"%b after use_backend: {seen}")
    r, _ = _ask(c, "/r")
    c.close()
    check(r.status == 302 and r.getheader("location") == "/from-www",
          f"%b in a frontend redirect: {r.status} {r.getheader('location')!r}")


def test_http_sample_limits(t):
    # The documented edges: a unique ID is cut at 127 bytes; a redirect whose location expands
    # to nothing is answered 500 rather than sent nowhere.
    srv = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "unique-id-format = %[req.hdr(x-long)]",
        "unique-id-header = X-ID",
        "http-request redirect = location %[req.hdr(x-to)] if { path /go }",
    ]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, seen = _ask(c, "/x", {"X-Long": "i" * 300})
    check(_hdrs(seen, "x-id") == ["i" * 127], f"unique ID length {len(_hdrs(seen, 'x-id')[0])}")
    r, seen = _ask(c, "/x")  # the format expands to nothing: no field at all
    check(_hdrs(seen, "x-id") == [], f"an empty unique ID was sent: {_hdrs(seen, 'x-id')}")
    r, _ = _ask(c, "/go")
    c.close()
    check(r.status == 500 and r.getheader("location") is None,
          f"redirect to an empty location: {r.status} {r.getheader('location')!r}")
