"""Error pages from [http-errors] sets: `errorfiles NAME [CODE...]` serves the set's pages for 503
(no server up) and for denied requests (403, deny_status 404), and for each status the later
errorfile/errorfiles statement wins, [defaults] first, and a routed request's backend's page
comes before its frontend's, as in HAProxy; `http-request return`
answers with a set's page (errorfiles NAME) or the proxy's (default-errorfiles)."""
from harness import check, http_config, recv_until_eof


def _page(status, tag):
    body = f"{tag} {status}\n".encode()
    return (b"HTTP/1.1 %d Custom\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (status, len(body), body))


def _raw_get(t, port, path):
    s = t.connect(port)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
    raw, how = recv_until_eof(s, t.timeout(5))
    check(raw, f"no response to GET {path} on :{port} ({how})")
    return raw


def _pages(t, which):
    """Writes the pages {(status, tag): path}."""
    return {k: t.write(f"{k[1]}-{k[0]}.http", _page(*k).decode()) for k in which}


def test_http_errorfiles_pages_and_precedence(t):
    p = _pages(t, [(503, "site"), (404, "site"), (403, "site"), (403, "defaults"), (503, "own"),
                   (503, "backend")])
    dead = t.free_port()
    port, port2 = t.free_port(), t.free_port()
    deny = ["http-request deny = deny_status 404 if { path_beg /hidden }",
            "http-request deny = if { path_beg /private }",
            # the set's page, whatever the proxy's own is; the proxy's page
            "http-request return = status 503 errorfiles site if { path /maint }",
            "http-request return = status 403 default-errorfiles if { path /forbid }",
            # answered by the frontend's rules, before a backend is chosen: its own page
            "http-request return = status 503 default-errorfiles if { path /fe503 }"]
    text = http_config(
        # once the request is routed, the backend's page comes first (HAProxy's order)
        port, {"app": [f"s1 127.0.0.1:{dead}", "retries = 0", f"errorfile = 503 {p[503, 'backend']}"]},
        # the set's 403 is replaced by the [defaults] errorfile that follows the import
        defaults=["errorfiles = site", f"errorfile = 403 {p[403, 'defaults']}"],
        # an own errorfile after the inherited import wins
        frontend=deny + [f"errorfile = 503 {p[503, 'own']}"])
    # an import after the own errorfile wins; the set is declared below the proxies
    text += (f"\n[frontend web2]\nbind = 127.0.0.1:{port2}\ndefault_backend = app\n" +
             "\n".join(deny) + f"\nerrorfile = 503 {p[503, 'own']}\nerrorfiles = site 503\n"
             f"\n[http-errors site]\nerrorfile = 503 {p[503, 'site']}\n"
             f"errorfile = 404 {p[404, 'site']}\nerrorfile = 403 {p[403, 'site']}\n")
    t.sluice(text)
    want = {(port, "/fe503"): (503, "own"), (port, "/hidden"): (404, "site"),
            (port, "/private"): (403, "defaults"), (port2, "/fe503"): (503, "site"),
            (port, "/"): (503, "backend"), (port2, "/"): (503, "backend"),
            (port2, "/hidden"): (404, "site"), (port2, "/private"): (403, "defaults"),
            (port, "/maint"): (503, "site"), (port, "/forbid"): (403, "defaults")}
    for (prt, path), page in want.items():
        raw = _raw_get(t, prt, path)
        check(raw == _page(*page), f"GET {path} on :{prt}: expected the {page} page, got {raw!r}")


def test_http_errorfiles_unknown_set_refused(t):
    path = t.write("sluice.ini", http_config(t.free_port(), {"app": ["s1 127.0.0.1:1"]},
                                             frontend=["errorfiles = sitee 503"]) +
                   "\n[http-errors site]\n")
    r = t.run(["-c", "-f", path])
    check(r.returncode == 1, f"sluice -c: exit {r.returncode}, expected 1")
    line = open(path).read().splitlines().index("errorfiles = sitee 503") + 1
    want = (f"sluice.ini:{line}: errorfiles: unknown http-errors section 'sitee' (did you mean "
            "'site'?")
    check(want in r.stderr, f"sluice -c said {r.stderr!r}, expected {want!r}")


def test_http_return_file_with_nul_bytes(t):
    """`http-request return ... file F` sends the whole file, NUL bytes included."""
    body = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;tail"
    path = f"{t.tmp}/pixel.gif"
    with open(path, "wb") as f:
        f.write(body)
    port = t.free_port()
    t.sluice(http_config(port, {"app": ["s1 127.0.0.1:1"]}, frontend=[
        f"http-request return = status 200 content-type image/gif file {path} if {{ path /p }}"]))
    raw = _raw_get(t, port, "/p")
    head, _, got = raw.partition(b"\r\n\r\n")
    check(b"content-length: %d" % len(body) in head.lower() and got == body,
          f"the file's {len(body)} bytes: {raw!r}")
