"""HAProxy's variables: `http-request set-var(txn.x) EXPR` / `unset-var(txn.x)`, read by a later
rule's condition (`var(txn.x)` ACLs), by header values and by use_backend (`%[var(txn.x)]`);
txn. variables end with the request, sess. ones with the connection."""
import http.client

from harness import check, http_config
from test_http_route import _echo_server, _hdrs
from test_http_samples import _ask


def test_http_vars_rules_headers_backend(t):
    echo = _echo_server(t, name="echo")
    other = _echo_server(t, name="other")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {echo.addr}"], "be_other": [f"po {other.addr}"]},
                         frontend=[
        "http-request set-var(txn.user) = req.hdr(x-user),lower",
        "http-request deny if { var(txn.user) -m str evil }",
        "http-request set-var(txn.tier) = str(gold) if { var(txn.user) -m beg vip }",
        "http-request set-var(txn.n) = int(42)",
        "http-request unset-var(txn.n) if { path /unset }",
        "http-request set-var(txn.be) = str(be_other) if { path_beg /other }",
        "http-request set-header = X-Vars \"u=%[var(txn.user)] t=%[var(txn.tier)] "
        "n=%[var(txn.n)] s=%[str(Lit),upper]\"",
        "http-request redirect location /to/%[var(txn.user)] if { path /go }",
        "http-response set-header = X-Resp-User %[var(txn.user)]",
        "use_backend = %[var(txn.be)]",
    ]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, seen = _ask(c, "/a", {"X-User": "VIP-Ann"})
    check(r.status == 200, f"status {r.status}")
    check(_hdrs(seen, "x-vars") == ["u=vip-ann t=gold n=42 s=LIT"],
          f"set-header with var(): {_hdrs(seen, 'x-vars')}")
    check(r.getheader("X-Server") == "echo", f"backend {r.getheader('X-Server')}")
    check(r.getheader("X-Resp-User") == "vip-ann",
          f"http-response value: {r.getheader('X-Resp-User')}")
    r, _ = _ask(c, "/go", {"X-User": "Zed"})
    check(r.status == 302 and r.getheader("Location") == "/to/zed",
          f"redirect: {r.status} {r.getheader('Location')}")
    # the same connection: the txn. variables of the first request are gone
    r, seen = _ask(c, "/unset")
    check(r.status == 200, f"status {r.status}")
    check(_hdrs(seen, "x-vars") == ["u= t= n= s=LIT"], f"next request: {_hdrs(seen, 'x-vars')}")
    r, seen = _ask(c, "/other", {"X-User": "bob"})
    check(r.getheader("X-Server") == "other", f"use_backend %[var()]: {r.getheader('X-Server')}")
    check(_hdrs(seen, "x-vars") == ["u=bob t= n=42 s=LIT"], f"other: {_hdrs(seen, 'x-vars')}")
    r, seen = _ask(c, "/a", {"X-User": "EVIL"})
    check(r.status == 403, f"a later rule's condition on var(): status {r.status}")
    c.close()


def test_http_vars_session_scope(t):
    echo = _echo_server(t)
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"py {echo.addr}"]}, frontend=[
        "http-request set-var(sess.who) = req.hdr(x-login) if { req.hdr(x-login) -m found }",
        "http-request set-var(txn.once) = req.hdr(x-login) if { req.hdr(x-login) -m found }",
        "http-request set-header = X-Who <%[var(sess.who)]><%[var(txn.once)]>",
        "http-request deny deny_status 401 unless { var(sess.who) -m found }",
    ]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, _ = _ask(c, "/")
    check(r.status == 401, f"no session variable yet: status {r.status}")
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, seen = _ask(c, "/login", {"X-Login": "ann"})
    check(r.status == 200 and _hdrs(seen, "x-who") == ["<ann><ann>"],
          f"login: {r.status} {_hdrs(seen, 'x-who') if seen else None}")
    for _ in range(2):  # keep-alive: sess. stays, txn. does not
        r, seen = _ask(c, "/page")
        check(r.status == 200 and _hdrs(seen, "x-who") == ["<ann><>"],
              f"next request: {r.status} {_hdrs(seen, 'x-who') if seen else None}")
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    r, _ = _ask(c, "/page")
    check(r.status == 401, f"a new connection has no session variable: status {r.status}")
    c.close()
