"""Forward proxy authentication: [userlist] users with bcrypt and sha512-crypt hashes, an
htpasswd file (htpasswd -B, Debian apache2-utils) and insecure-password; `http-request auth`
answers 407 with Proxy-Authenticate without or with wrong credentials; Proxy-Authorization never
reaches the origin; verified credentials are cached, so the slow hash check runs once.

Names resolve through the test's own dnsmasq (harness.Dnsmasq), never the system resolver."""
import base64
import os
import shutil
import socket
import subprocess
import time
import warnings

from harness import (BufSock, Dnsmasq, Skip, check, echo_origin_handler, fwd_config, fwd_request,
                     header, read_http_response)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # deprecated, still in 3.11: libcrypt's crypt(3), the same sluice links


def _hash(pw, method, rounds=None):
    return crypt.crypt(pw, crypt.mksalt(method, rounds=rounds))


def _basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def _htpasswd_line(t, user, pw):
    exe = shutil.which("htpasswd")
    if exe:
        p = subprocess.run([exe, "-nbB", "-C", "5", user, pw], capture_output=True, text=True,
                           timeout=t.timeout(10))
        check(p.returncode == 0, f"htpasswd -nbB failed: {p.stderr}")
        line = p.stdout.strip()
    else:  # no apache2-utils: the same bcrypt under Apache's $2y$ prefix
        line = f"{user}:$2y${_hash(pw, crypt.METHOD_BLOWFISH, 1 << 5)[4:]}"
    check(line.startswith(f"{user}:$2y$"), f"unexpected htpasswd line {line!r}")
    return line


USERS = {"alice": "al1ce-pw", "bob": "b0b pw:with colon", "carol": "c4r0l", "dave": "d@ve pw"}


def _setup(t, nbthread=2):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    hfile = t.write("users.htpasswd", "# staff\n\n" + _htpasswd_line(t, "dave", USERS["dave"]) +
                    "\n")
    ul = [f"user = alice password {_hash(USERS['alice'], crypt.METHOD_BLOWFISH, 1 << 6)}",
          f"user = bob password {_hash(USERS['bob'], crypt.METHOD_SHA512)}",
          f"user = carol insecure-password {USERS['carol']}",
          f"htpasswd = {hfile}"]
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, nbthread=nbthread, userlists={"staff": ul}, lines=[
        "acl = auth_ok http_auth(staff)", 'http-request auth = realm "sluice test" if !auth_ok']))
    return dns, origin, port, sl


def _check_407(st, fields, what, realm="sluice test"):
    check(st == 407, f"{what}: status {st}, expected 407")
    pa = header(fields, "proxy-authenticate")
    check(pa is not None and pa.lower().startswith("basic") and f'realm="{realm}"' in pa,
          f"{what}: Proxy-Authenticate {pa!r}, expected Basic realm=\"{realm}\"")
    check(header(fields, "www-authenticate") is None, f"{what}: WWW-Authenticate in a 407")


def test_fwd_auth_407_and_hash_schemes(t):
    dns, origin, port, sl = _setup(t)
    url = f"http://origin.test:{origin.port}/secret"
    st, fields, _ = fwd_request(port, "GET", url)
    _check_407(st, fields, "no credentials")
    check(not getattr(origin, "requests", None), "an unauthenticated request reached the origin")
    st, fields, _ = fwd_request(port, "GET", url, [("Proxy-Authorization",
                                                    _basic("alice", "wrong"))])
    _check_407(st, fields, "alice with a wrong password")
    st, fields, _ = fwd_request(port, "GET", url, [("Proxy-Authorization",
                                                    _basic("alice", USERS["carol"]))])
    _check_407(st, fields, "alice with carol's password")
    st, fields, _ = fwd_request(port, "GET", url, [("Proxy-Authorization",
                                                    _basic("mallory", "x"))])
    _check_407(st, fields, "an unknown user")
    # credentials for the origin (Authorization) do not log in to the proxy
    st, fields, _ = fwd_request(port, "GET", url, [("Authorization", _basic("carol", "c4r0l"))])
    _check_407(st, fields, "proxy credentials sent in Authorization")
    for user, scheme in (("alice", "bcrypt"), ("bob", "sha512-crypt"), ("carol", "insecure"),
                         ("dave", "htpasswd bcrypt $2y$")):
        n = len(getattr(origin, "requests", []))
        st, fields, body = fwd_request(port, "GET", url, [
            ("Proxy-Authorization", _basic(user, USERS[user])),
            ("Authorization", "Bearer for-the-origin")])
        check(st == 200, f"{user} ({scheme}) with the right password: status {st}")
        check(len(origin.requests) == n + 1, f"{user}: the origin got no request")
        f = origin.requests[-1]["fields"]
        check(header(f, "proxy-authorization") is None,
              f"{user}: Proxy-Authorization reached the origin: {f}")
        check(header(f, "authorization") == "Bearer for-the-origin",
              f"{user}: the origin's Authorization was not passed unchanged: {f}")
    # curl's own proxy authentication
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                        f"http://127.0.0.1:{port}", "-U", f"bob:{USERS['bob']}", url],
                       capture_output=True, text=True, timeout=t.timeout(15),
                       env={"PATH": "/usr/bin:/bin"})
    check(p.stdout == "200", f"curl -U bob: {p.stdout} {p.stderr}")
    # a failed login is logged (with the user name)
    sl.wait_log(r"auth: failed login for user 'alice' from 127\.0\.0\.1")


def test_fwd_auth_per_request_on_keepalive(t):
    # Credentials are checked per request: after an authenticated request, the next one on the
    # same connection without credentials (or with wrong ones) is refused.
    dns, origin, port, sl = _setup(t)
    host = f"origin.test:{origin.port}"
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        bs = BufSock(s, t.timeout(5))

        def req(extra):
            s.sendall(f"GET http://{host}/k HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
            return read_http_response(bs)
        st, _, _ = req(f"Proxy-Authorization: {_basic('carol', 'c4r0l')}\r\n")
        check(st == 200, f"first request with credentials: {st}")
        st, fields, _ = req("")
        _check_407(st, fields, "second request on the connection without credentials")
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        bs = BufSock(s, t.timeout(5))
        s.sendall(f"GET http://{host}/k HTTP/1.1\r\nHost: {host}\r\nProxy-Authorization: "
                  f"{_basic('carol', 'c4r0l')}\r\n\r\n".encode())
        check(read_http_response(bs)[0] == 200, "first request with credentials")
        s.sendall(f"GET http://{host}/k HTTP/1.1\r\nHost: {host}\r\nProxy-Authorization: "
                  f"{_basic('carol', 'nope')}\r\n\r\n".encode())
        st, fields, _ = read_http_response(bs)
        _check_407(st, fields, "second request on the connection with a wrong password")


def test_fwd_auth_cached_credentials_fast(t):
    dns = Dnsmasq(t)
    be = t.backend("o")
    pw = "cache-me"
    h = _hash(pw, crypt.METHOD_BLOWFISH, 1 << 11)
    t0 = time.monotonic()
    crypt.crypt(pw, h)
    single = time.monotonic() - t0
    if single < 0.03:
        raise Skip(f"a bcrypt cost-11 check takes only {single * 1000:.0f}ms here: too fast to "
                   "tell a cache from none")
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, nbthread=1, userlists={"u": [f"user = zed password {h}"]},
                        lines=["acl = ok http_auth(u)", "http-request auth = realm r if !ok"]))
    host = f"origin.test:{be.port}"
    cred = _basic("zed", pw)
    st, _, _ = fwd_request(port, "GET", f"http://{host}/", [("Proxy-Authorization", cred)])
    check(st == 200, f"first authenticated request: {st}")
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(10)) as s:
        bs = BufSock(s, t.timeout(10))
        for i in range(25):  # keep-alive
            s.sendall(f"GET http://{host}/ HTTP/1.1\r\nHost: {host}\r\n"
                      f"Proxy-Authorization: {cred}\r\n\r\n".encode())
            st, _, _ = read_http_response(bs)
            check(st == 200, f"keep-alive request {i}: {st}")
    for i in range(25):  # new connections
        st, _, _ = fwd_request(port, "GET", f"http://{host}/", [("Proxy-Authorization", cred)],
                               timeout=t.timeout(10))
        check(st == 200, f"request {i} on a new connection: {st}")
    total = time.monotonic() - t0
    check(total < 5 * single, f"50 requests with cached credentials took {total:.2f}s; one "
          f"bcrypt check takes {single:.3f}s (50 checks: {50 * single:.1f}s): the check is not "
          "cached")


def test_fwd_auth_failures_rate_limited_per_client(t):
    # More than 10 failed logins from one address block it (even with the right password then);
    # another client address is unaffected. One worker: the limits are per worker.
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, nbthread=1,
                             userlists={"u": ["user = carol insecure-password c4r0l"]},
                             lines=["acl = ok http_auth(u)", "http-request auth = realm r if !ok"]))
    url = f"http://origin.test:{origin.port}/"
    st, _, _ = fwd_request(port, "GET", url, [("Proxy-Authorization", _basic("carol", "c4r0l"))])
    check(st == 200, f"right password before any failure: {st}")
    for i in range(12):
        st, fields, _ = fwd_request(port, "GET", url,
                                    [("Proxy-Authorization", _basic("carol", f"guess{i}"))])
        _check_407(st, fields, f"wrong password {i}", realm="r")
    sl.wait_log(r"auth: 127\.0\.0\.1 blocked for \d+s after \d+ failed logins")
    st, fields, _ = fwd_request(port, "GET", url, [("Proxy-Authorization",
                                                    _basic("carol", "c4r0l"))])
    _check_407(st, fields, "right password from a blocked address", realm="r")
    st, _, _ = fwd_request(port, "GET", url, [("Proxy-Authorization", _basic("carol", "c4r0l"))],
                           source="127.0.0.2")
    check(st == 200, f"right password from another address (127.0.0.2): {st}")
    # the failures were logged, not all of them (at most one line a second per client)
    n = len([ln for ln in sl.log().splitlines() if "auth: failed login for user 'carol'" in ln])
    check(1 <= n < 12, f"{n} failed-login lines for 12 failures in well under a second")
