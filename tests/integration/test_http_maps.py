"""HAProxy map files in mode http: use_backend with a name computed through a map (Host-based
routing with a default, map_beg on paths), map_ip into a header the server sees, and a computed
name that is no usable backend sending the request to default_backend."""
import http.client
import json

from harness import check, header, http_config
from test_http_route import _echo_server


def _get(t, port, path, host="t"):
    """GET path with Host: host on a new connection: (status, fields, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", path, headers={"Host": host})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheaders(), body


def _backend_of(t, port, path, host):
    """The backend (X-Server) that answered GET path with Host: host, and the status."""
    status, fields, _ = _get(t, port, path, host)
    return header(fields, "x-server"), status


def _seen_fields(t, port, path):
    """The fields the echo server saw for GET path, lower-cased names."""
    status, _, body = _get(t, port, path)
    check(status == 200, f"GET {path}: status {status}")
    return {k.lower(): v for k, v in json.loads(body)["fields"]}


def _check_routes(t, port, cases):
    for path, host, want in cases:
        got, status = _backend_of(t, port, path, host)
        check(got == want, f"GET {path} Host: {host} went to {got!r} ({status}), expected "
              f"{want!r}")


def _start(t, names, frontend, extra=None):
    """sluice on a free port in front of one test backend per name (the first is
    default_backend), plus `extra` backends ({name: [items]}); returns the port."""
    backends = {n: [f"{n} {t.backend(n).addr}"] for n in names}
    backends.update(extra or {})
    port = t.free_port()
    t.sluice(http_config(port, backends, frontend=frontend))
    return port


def _start_echo(t, frontend):
    """sluice on a free port in front of the header-echo server; returns the port."""
    srv = _echo_server(t, "echo")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {srv.addr}"]}, frontend=frontend))
    return port


def test_http_map_host_routing(t):
    hosts = t.write("hosts.map", "# host            backend\n"
                                 "a.example          be_a\n"
                                 "\n"
                                 "b.example\tbe_b\n"
                                 "www.b.example      be_b\n")
    port = _start(t, ("be_default", "be_a", "be_b"), [
        f"use_backend = %[req.hdr(host),lower,map({hosts},be_default)]",
    ])
    _check_routes(t, port, [
        ("/x", "a.example", "be_a"),
        ("/x", "A.EXAMPLE", "be_a"),             # ,lower before the exact match
        ("/x", "www.b.example", "be_b"),
        ("/x", "b.example", "be_b"),
        ("/x", "c.example", "be_default"),       # no key: the map's default names a backend
        ("/x", "a.example:8080", "be_default"),  # the key is the whole field, port included
    ])


def test_http_map_beg_paths(t):
    paths = t.write("paths.map", "/api      api_v1\n"
                                 "/api/v2   api_v2\n")
    port = _start(t, ("web", "api_v1", "api_v2"), [
        f"use_backend = %[path,map_beg({paths})] if {{ path_beg /api }}",
    ])
    _check_routes(t, port, [
        ("/api/v2/users", "t", "api_v2"),  # the longest prefix wins, not the first line
        ("/api/v1/users", "t", "api_v1"),
        ("/api", "t", "api_v1"),
        ("/static/app.js", "t", "web"),    # the condition does not hold
    ])


def test_http_map_ip_header(t):
    tiers = t.write("tiers.map", "127.0.0.0/8   loopback\n"
                                 "127.0.0.1     this host\n"
                                 "10.0.0.0/8    internal\n"
                                 "::1           loopback6\n")
    other = t.write("other.map", "10.0.0.0/8 internal\n")
    port = _start_echo(t, [
        f"http-request set-header = X-Tier %[src,map_ip({tiers},unknown)]",
        f"http-request set-header = X-Other %[src,map_ip({other},unknown)]",
        f"http-request set-header = X-None [%[src,map_ip({other})]]",
    ])
    got = _seen_fields(t, port, "/")
    check(got.get("x-tier") == "this host", f"X-Tier: {got.get('x-tier')!r} (the /32 should "
          f"win over 127.0.0.0/8)")
    check(got.get("x-other") == "unknown", f"X-Other: {got.get('x-other')!r}")
    check(got.get("x-none") == "[]", f"X-None: {got.get('x-none')!r} (no match, no default)")


def test_http_map_unknown_backend_falls_to_default(t):
    hosts = t.write("hosts.map", "a.example   be_a\n"
                                 "ghost.example  no_such_backend\n"
                                 "raw.example    raw\n"
                                 "fe.example     web\n")
    raw = t.backend("raw", mode="echo")
    port = _start(t, ("be_default", "be_a", "be_later"), [
        f"use_backend = %[req.hdr(host),lower,map({hosts})]",
        "use_backend = be_later if TRUE",
    ], extra={"raw": ["mode = tcp", f"raw {raw.addr}"]})
    _check_routes(t, port, [
        ("/x", "a.example", "be_a"),
        # HAProxy: a name that matches no backend ends the use_backend rules, the request goes
        # to default_backend (be_later's rule is not evaluated)
        ("/x", "ghost.example", "be_default"),
        ("/x", "raw.example", "be_default"),    # a mode tcp backend: no match either
        ("/x", "fe.example", "be_default"),     # a frontend's name is no backend
        ("/x", "none.example", "be_default"),   # no key, no default: an empty name
    ])


def test_http_map_redirect_and_unique_id(t):
    moved = t.write("moved.map", "/old-blog   https://blog.example/\n"
                                 "/old        /new\n")
    tiers = t.write("tiers.map", "127.0.0.0/8 lo\n")
    port = _start_echo(t, [
        f"http-request redirect = location %[path,map_beg({moved})] if {{ path_beg /old }}",
        f"unique-id-format = %[src,map_ip({tiers},far)]-%[uuid]",
        "unique-id-header = X-Request-ID",
    ])
    for path, want in (("/old-blog/post", "https://blog.example/"), ("/old/x", "/new")):
        status, fields, _ = _get(t, port, path)
        got = header(fields, "location")
        check(status == 302 and got == want, f"GET {path}: {status} Location: {got!r}, "
              f"expected 302 {want!r}")
    seen = _seen_fields(t, port, "/")
    check(seen.get("x-request-id", "").startswith("lo-"),
          f"X-Request-ID: {seen.get('x-request-id')!r}, expected 'lo-' and a UUID")
