"""Statistics: a known traffic pattern gives exact numbers on the HTML page, in HAProxy's CSV, in
JSON and in the Prometheus exposition (checked by a parser of the format, and by promtool when
Debian's prometheus package is installed); a DOWN server shows DOWN; histograms count every
request; pages larger than a socket buffer arrive whole."""
import csv
import http.client
import io
import json
import math
import re
import shutil
import socket
import subprocess
import time

from harness import Skip, check, config, http_config, recv_exact, wait_for

CHECK = "check inter 100 fastinter 100 downinter 100 rise 1 fall 1"


def _get(port, path, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def _csv(port, uri="/stats"):
    status, headers, body = _get(port, uri + ";csv")
    check(status == 200, f"{uri};csv answered {status}")
    text = body.decode()
    check(text.startswith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,"
                          "ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,"
                          "lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"),
          f"CSV header: {text[:200]!r}")
    rows = list(csv.DictReader(io.StringIO(text[2:])))
    return {(r["pxname"], r["svname"]): r for r in rows}


# ---- a parser of the Prometheus text format 0.0.4 ------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|'
                     r'\\[\\"n])*",?)*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_prometheus(text):
    """Checks the exposition format (HELP/TYPE before a family's samples, one block per family,
    counters named *_total, histogram buckets cumulative up to +Inf == _count) and returns
    {(name, frozenset(labels.items())): value}."""
    check(text.endswith("\n"), "exposition does not end with a newline")
    types, seen_blocks, samples = {}, [], {}
    cur = None
    hist = {}
    for line in text.splitlines():
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$", line)
            check(m, f"bad comment line {line!r}")
            kind, name, rest = m.groups()
            if name != cur:
                check(name not in seen_blocks, f"family {name} appears in two blocks")
                seen_blocks.append(name)
                cur = name
            if kind == "TYPE":
                check(rest in ("counter", "gauge", "histogram", "summary", "untyped"),
                      f"bad type {rest}")
                check(rest != "counter" or name.endswith("_total"),
                      f"counter {name} does not end in _total")
                types[name] = rest
            continue
        m = _SAMPLE.match(line)
        check(m, f"bad sample line {line!r}")
        name, labels_text, value = m.groups()
        labels = dict(_LABEL.findall(labels_text or ""))
        v = float(value)
        family = name
        if cur and types.get(cur) == "histogram" and name != cur:
            for sfx in ("_bucket", "_sum", "_count"):
                if name == cur + sfx:
                    family = cur
        check(family == cur, f"sample {name} outside its family's block ({cur})")
        check(cur in types, f"sample {name} before its TYPE line")
        if types[cur] == "histogram":
            key = (cur, frozenset((k, x) for k, x in labels.items() if k != "le"))
            h = hist.setdefault(key, {"le": -1.0, "cum": -1.0, "inf": None})
            if name.endswith("_bucket"):
                le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
                check(le > h["le"] and v >= h["cum"], f"bucket order at {line!r}")
                h["le"], h["cum"] = le, v
                if math.isinf(le):
                    h["inf"] = v
            elif name.endswith("_count"):
                check(h["inf"] == v, f"{line!r}: _count differs from the +Inf bucket")
        key = (name, frozenset(labels.items()))
        check(key not in samples, f"duplicate sample {line!r}")
        samples[key] = v
    return samples


def _metric(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, f"no sample {name}{labels}")
    return samples[key]


def _promtool_check(t, text):
    tool = shutil.which("promtool")
    if not tool:
        return False
    p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=t.timeout(20))
    check(p.returncode == 0, f"promtool check metrics failed: {p.stdout}{p.stderr}")
    return True


# ---- tests ----------------------------------------------------------------------------------

def _stats_listen(port):
    return (f"\n[listen stats]\nmode = http\nbind = 127.0.0.1:{port}\nstats uri = /stats\n"
            "stats refresh = 5s\n"
            "http-request use-service = prometheus-exporter if { path /metrics }\n")


def test_stats_count_1000_requests(t):
    s1 = t.backend("s1")
    dead_port = t.free_port()
    port, sport = t.free_port(), t.free_port()
    cfg = http_config(port, {"app": [f"s1 {s1.addr} check"],
                             "dead": [f"d1 127.0.0.1:{dead_port} {CHECK}"]},
                      default_backend="app") + _stats_listen(sport)
    t.sluice(cfg)
    # 1000 requests on 10 keep-alive connections: 600 x 200, 300 x 404, 100 x 503
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
             for _ in range(10)]
    want = {200: 0, 404: 0, 503: 0}
    for i in range(1000):
        k = i % 10
        path = "/" if k < 6 else "/status/404" if k < 9 else "/status/503"
        c = conns[i % 10]
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        want[r.status] += 1
    for c in conns:
        c.close()
    check(want == {200: 600, 404: 300, 503: 100}, f"statuses seen by the client: {want}")

    # counters are added when each request ends: wait for the last ones, then everything is exact
    def settled():
        rows = _csv(sport)
        r = rows[("web", "FRONTEND")]
        return rows if r["req_tot"] == "1000" and rows[("dead", "d1")]["status"] == "DOWN" \
            else None
    rows = wait_for(settled, t.timeout(10), "the frontend's req_tot to reach 1000 and d1 DOWN")
    fe, be, sv = rows[("web", "FRONTEND")], rows[("app", "BACKEND")], rows[("app", "s1")]
    for name, r in (("frontend", fe), ("backend", be), ("server", sv)):
        got = {c: r[c] for c in ("req_tot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")}
        check(got == {"req_tot": "1000", "hrsp_2xx": "600", "hrsp_4xx": "300", "hrsp_5xx": "100",
                      "hrsp_other": "0"}, f"{name} CSV counters: {got}")
    check(fe["stot"] == "10", f"frontend sessions (connections): {fe['stot']}")
    check(be["stot"] == "1000" and sv["stot"] == "1000",
          f"backend/server stot: {be['stot']}/{sv['stot']}")
    check(int(be["bin"]) > 0 and int(be["bout"]) == int(fe["bout"]),
          f"bytes: fe {fe['bin']}/{fe['bout']}, be {be['bin']}/{be['bout']}")
    check(fe["status"] == "OPEN" and sv["status"] == "UP" and be["status"] == "UP",
          f"statuses {fe['status']} {sv['status']} {be['status']}")
    d1 = rows[("dead", "d1")]
    check(d1["check_status"] in ("L4CON", "L4TOUT") and int(d1["chkfail"]) >= 1
          and d1["chkdown"] == "1", f"dead server check columns: {d1}")
    check(rows[("dead", "BACKEND")]["status"] == "DOWN", "dead backend not DOWN")
    check(sv["check_status"] == "L4OK", f"s1 check_status {sv['check_status']}")
    check(fe["type"] == "0" and be["type"] == "1" and sv["type"] == "2", "type column")

    # JSON: the same numbers plus latency histograms that count every request
    status, headers, body = _get(sport, "/stats;json")
    check(status == 200 and headers["content-type"].startswith("application/json"),
          f"json: {status} {headers}")
    doc = json.loads(body)
    px = {p["name"]: p for p in doc["proxies"]}
    check(set(px) == {"web", "app", "dead", "stats"}, f"proxies {set(px)}")
    check(px["web"]["frontend"]["req_tot"] == 1000, "json frontend req_tot")
    app_be = px["app"]["backend"]
    app_s1 = px["app"]["servers"][0]
    for name, r in (("backend", app_be), ("server", app_s1)):
        lat = r["latency"]
        for kind in ("connect", "response", "total"):
            check(lat[kind]["count"] == 1000, f"{name} {kind} histogram count "
                  f"{lat[kind]['count']}")
            check(sum(lat[kind]["buckets"]) == 1000, f"{name} {kind} buckets")
        check(lat["total"]["p50_ms"] is not None and
              lat["total"]["p50_ms"] <= lat["total"]["p90_ms"] <= lat["total"]["p99_ms"],
              f"{name} percentiles {lat['total']}")
    check(px["dead"]["servers"][0]["status"] == "DOWN", "json d1 status")

    # Prometheus exposition
    status, headers, body = _get(sport, "/metrics")
    check(status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4"),
          f"metrics: {status} {headers}")
    text = body.decode()
    m = parse_prometheus(text)
    check(_metric(m, "sluice_frontend_http_requests_total", proxy="web") == 1000, "fe requests")
    for code, n in (("2xx", 600), ("4xx", 300), ("5xx", 100), ("1xx", 0)):
        check(_metric(m, "sluice_frontend_http_responses_total", proxy="web", code=code) == n,
              f"fe {code}")
        check(_metric(m, "sluice_server_http_responses_total", proxy="app", server="s1",
                      code=code) == n, f"server {code}")
    check(_metric(m, "sluice_backend_sessions_total", proxy="app") == 1000, "be sessions")
    check(_metric(m, "sluice_server_sessions_total", proxy="app", server="s1") == 1000,
          "server sessions")
    for kind in ("connect", "response", "total"):
        check(_metric(m, f"sluice_backend_{kind}_time_seconds_count", proxy="app") == 1000,
              f"backend {kind} histogram count")
        check(_metric(m, f"sluice_server_{kind}_time_seconds_bucket", proxy="app", server="s1",
                      le="+Inf") == 1000, f"server {kind} +Inf bucket")
    check(_metric(m, "sluice_server_status", proxy="dead", server="d1", state="DOWN") == 1,
          "d1 DOWN")
    check(_metric(m, "sluice_server_status", proxy="app", server="s1", state="UP") == 1, "s1 UP")
    _promtool_check(t, text)

    # HTML: one table per proxy, d1's row coloured as DOWN, auto-refresh on
    status, headers, body = _get(sport, "/stats")
    page = body.decode()
    check(status == 200 and headers["content-type"].startswith("text/html"), f"html {status}")
    check(page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>"), "html shape")
    tables = page.count('<table class="px"')
    check(tables == 4, f"{tables} tables, expected one per proxy (4)")
    check('<tr class="down"><td class="n">d1</td>' in page, "d1 row not marked down")
    check('<meta http-equiv="refresh" content="5">' in page, "no refresh")
    check('<meta http-equiv="refresh"' not in _get(sport, "/stats;norefresh")[2].decode(),
          ";norefresh still refreshes")
    # the stats section counted the pages it served
    rows = _csv(sport)
    check(int(rows[("stats", "FRONTEND")]["intercepted"]) >= 5, "intercepted requests")


def test_stats_status_errors_and_denied(t):
    """Connect errors, retries and redispatches, denied requests and bad requests are counted."""
    s1 = t.backend("s1")
    closed = t.free_port()
    port = t.free_port()
    cfg = http_config(port, {"app": [f"s1 {s1.addr}", f"bad 127.0.0.1:{closed}",
                                      "retries = 2", "option = redispatch"]},
                      frontend=["http-request deny = if { path /deny }",
                                "stats uri = /admin/stats"])
    t.sluice(cfg)
    for i in range(10):
        status, _, _ = _get(port, "/")
        check(status == 200, f"request {i}: {status}")
    check(_get(port, "/deny")[0] == 403, "deny")
    with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        check(s.recv(100).startswith(b"HTTP/1.1 400"), "bad request answered")

    def settled():
        rows = _csv(port, "/admin/stats")
        fe = rows[("web", "FRONTEND")]
        return rows if fe["ereq"] == "1" and fe["dreq"] == "1" else None
    rows = wait_for(settled, t.timeout(10), "ereq and dreq")
    be, bad = rows[("app", "BACKEND")], rows[("app", "bad")]
    # every request that roundrobin sent to `bad` failed to connect, retried it, then redispatched
    n_bad = int(bad["econ"])
    check(n_bad >= 5 and n_bad % 2 == 0, f"bad server econ {n_bad} (two attempts per request)")
    check(be["econ"] == bad["econ"], f"backend econ {be['econ']}")
    check(int(bad["wretr"]) == n_bad and int(bad["wredis"]) == n_bad // 2,
          f"retries {bad['wretr']} redispatches {bad['wredis']} for {n_bad} failures")
    check(rows[("app", "s1")]["hrsp_2xx"] == "10", f"s1 2xx {rows[('app', 's1')]['hrsp_2xx']}")
    check(rows[("web", "FRONTEND")]["hrsp_4xx"] == "2", "frontend 4xx (403 + 400)")


def test_stats_tcp_sessions(t):
    b = t.backend("e1", mode="echo")
    port, sport = t.free_port(), t.free_port()
    t.sluice(config(port, [f"e1 {b.addr}"]) + _stats_listen(sport))
    for i in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=t.timeout(5)) as s:
            s.sendall(b"x" * 100)
            recv_exact(s, 100, t.timeout(5))

    def settled():
        rows = _csv(sport)
        return rows if rows[("app", "BACKEND")]["stot"] == "20" else None
    rows = wait_for(settled, t.timeout(10), "20 tcp sessions on the backend")
    for key in (("app", "FRONTEND"), ("app", "e1"), ("app", "BACKEND")):
        r = rows[key]
        check(r["stot"] == "20" and r["bin"] == "2000" and r["bout"] == "2000",
              f"{key}: stot {r['stot']} bin {r['bin']} bout {r['bout']}")
        check(r["hrsp_2xx"] == "", f"{key}: mode tcp has HTTP columns")
    doc = json.loads(_get(sport, "/stats;json")[2])
    be = [p for p in doc["proxies"] if p["name"] == "app"][0]["backend"]
    check(be["latency"]["total"]["count"] == 20 and be["latency"]["connect"]["count"] == 20,
          f"tcp histograms {be['latency']['total']['count']}")


def test_stats_large_page_slow_reader(t):
    """A page of several MiB reaches a client that reads slowly: the part the socket does not
    take at once waits in the stream, and the response is complete and exact."""
    port = t.free_port()
    lines = ["[global]", "nbthread = 2", "log = stderr", "[defaults]", "mode = http",
             "timeout connect = 2s", "timeout client = 30s", "timeout server = 30s",
             "[listen stats]", f"bind = 127.0.0.1:{port}", "stats uri = /",
             "http-request use-service = prometheus-exporter if { path /metrics }"]
    for b in range(40):
        lines.append(f"[backend b{b}]")
        lines += [f"server = s{i} 127.0.0.1:{10000 + i}" for i in range(50)]
    t.sluice("\n".join(lines) + "\n")
    sizes = {}
    for path in ("/metrics", "/", "/;csv"):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # before connect: small window
            s.settimeout(t.timeout(10))
            s.connect(("127.0.0.1", port))
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            time.sleep(0.3)  # the page is written while nobody reads
            raw = bytearray()
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                raw += chunk
        finally:
            s.close()
        head, _, body = bytes(raw).partition(b"\r\n\r\n")
        n = int(re.search(rb"content-length: (\d+)", head).group(1))
        check(len(body) == n, f"{path}: got {len(body)} of {n} body bytes")
        sizes[path] = n
        if path == "/metrics":
            m = parse_prometheus(body.decode())
            check(_metric(m, "sluice_server_status", proxy="b39", server="s49", state="UP") == 1,
                  "last server")
        elif path == "/":
            check(body.count(b'<table class="px"') == 41, "41 tables")
            check(body.rstrip().endswith(b"</html>"), "page truncated")
        else:
            check(body.count(b"\n") == 1 + 2 + 40 * 51, "csv lines")
    # larger than the kernel's largest send buffer (tcp_wmem max, 4 MiB by default): the rest
    # waited in the stream's own buffer
    check(sizes["/metrics"] > 4 << 20, f"metrics only {sizes['/metrics']} bytes")


def test_stats_promtool(t):
    if not shutil.which("promtool"):
        raise Skip("promtool not installed (Debian package prometheus)")
    s1 = t.backend("s1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"s1 {s1.addr} check", "s2 127.0.0.1:1 backup"]},
                         frontend=["http-request use-service = prometheus-exporter "
                                   "if { path /metrics }"]))
    for _ in range(5):
        _get(port, "/")
    status, _, body = _get(port, "/metrics")
    check(status == 200, f"/metrics {status}")
    check(_promtool_check(t, body.decode()), "promtool did not run")


def test_stats_auth(t):
    """stats auth: no or wrong credentials get 401 with the realm, right ones the page. A
    section's own users replace those of [defaults] (HAProxy detaches a section with stats lines
    of its own from the defaults'), so a user of [defaults] is refused there; a section that names
    no user keeps the inherited ones."""
    import base64
    port, port2 = t.free_port(), t.free_port()
    text = http_config(port, {"app": ["s1 127.0.0.1:1"]},
                       defaults=["stats auth = admin:s3cret"],
                       frontend=["stats uri = /st", 'stats realm = "Ops only"',
                                 "stats auth = ro:pass:with:colons"])
    text += f"\n[listen other]\nbind = 127.0.0.1:{port2}\nstats uri = /st\n"
    t.sluice(text)

    def get(cred, p=port):
        c = http.client.HTTPConnection("127.0.0.1", p, timeout=t.timeout(5))
        hdrs = {"Authorization": "Basic " + base64.b64encode(cred.encode()).decode()} if cred \
            else {}
        c.request("GET", "/st;csv", headers=hdrs)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, r.getheader("www-authenticate"), body

    status, challenge, body = get(None)
    check(status == 401 and challenge == 'Basic realm="Ops only"',
          f"without credentials: {status} {challenge!r}")
    check(b"pxname" not in body, "the page leaked to an unauthenticated client")
    for bad in ("admin:wrong", "nobody:s3cret", "admin", "ro:pass", "admin:s3cret"):
        check(get(bad)[0] == 401, f"wrong credentials {bad!r} accepted")
    status, _, body = get("ro:pass:with:colons")
    check(status == 200 and body.startswith(b"# pxname,svname"), f"the section's user: {status}")
    check(get(None, port2)[0] == 401, "a section without users of its own lost the inherited ones")
    status, _, body = get("admin:s3cret", port2)
    check(status == 200 and body.startswith(b"# pxname,svname"), f"the inherited user: {status}")


def test_stats_backend_page_after_backend_rules(t):
    """A backend's stats page is answered once the request reached the backend and that
    backend's http-request rules let it through, as in HAProxy: a deny there protects the page
    (HAProxy configs guard a stats backend so)."""
    b = t.backend("b1")
    port = t.free_port()
    t.sluice(http_config(port, {"app": [f"b1 {b.addr}"],
                                "st": ["stats uri = /admin",
                                       "acl = allowed hdr(x-key) -m str letmein",
                                       "http-request = deny unless allowed"]},
                         frontend=["use_backend = st if { path_beg /admin }"]))
    status, _, body = _get(port, "/admin;csv")
    check(status == 403, f"the backend's deny did not apply to its stats page: {status}")
    check(b"pxname" not in body, "the stats page leaked past the backend's deny")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/admin;csv", headers={"X-Key": "letmein"})
    r = c.getresponse()
    body = r.read()
    c.close()
    check(r.status == 200 and body.startswith(b"# pxname,svname"),
          f"allowed request: {r.status} {body[:60]!r}")


def test_stats_auth_errorfile_401(t):
    """The stats challenge carries the proxy's own 401 page (errorfile 401) with its realm."""
    page = t.write("401.http", "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n"
                   "Content-Length: 14\r\n\r\nwho goes there")
    port = t.free_port()
    t.sluice(http_config(port, {"app": ["s1 127.0.0.1:1"]},
                         frontend=["stats uri = /st", "stats auth = a:b", f"errorfile = 401 {page}"]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/st")
    r = c.getresponse()
    body = r.read()
    c.close()
    check(r.status == 401 and r.getheader("www-authenticate") == 'Basic realm="Statistics"',
          f"challenge: {r.status} {r.getheader('www-authenticate')!r}")
    check(body == b"who goes there", f"the errorfile's body: {body!r}")
