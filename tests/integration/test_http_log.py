"""option httplog: one line per request in HAProxy's httplog format, readable by HAProxy's halog
(Debian's haproxy package)."""
import http.client
import os
import shutil
import subprocess

from harness import (BufSock, Skip, check, hold, http_config, http_response, read_request,
                     wait_for, HTTPLOG_RE)


def _halog():
    for p in ("/usr/sbin/halog", "/usr/bin/halog", shutil.which("halog")):
        if p and os.access(p, os.X_OK):
            return p
    return None


def _halog_run(t, args, text):
    p = subprocess.run([_halog()] + args, input=text, capture_output=True, text=True,
                       timeout=t.timeout(10))
    check(p.returncode == 0, f"halog {args} failed: {p.stderr}")
    # halog reports "N lines in, M lines out, K parsing errors" on stderr
    check(" 0 parsing errors" in p.stderr, f"halog {args}: {p.stderr.strip()}")
    return [ln.split() for ln in p.stdout.splitlines() if ln and not ln.startswith("#")]


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _slow_handler(sock, srv):
    bs = BufSock(sock, srv.timeout)
    while True:
        read_request(bs)
        hold(0.2)  # the server's think time, measured by the Tr timer
        sock.sendall(http_response(200, b"slow"))


def test_http_httplog_halog(t):
    halog = _halog()
    s1, s2 = t.backend("s1"), t.backend("s2")
    port = t.free_port()
    logfile = os.path.join(t.tmp, "traffic.log")
    sl = t.sluice(http_config(port, {"app": [f"s1 {s1.addr}", f"s2 {s2.addr}"]},
                              global_=[f"log = {logfile}"], nbthread=1).replace(
        "log = stderr\n", ""), wait=False)

    def started():
        check(sl.running(), f"sluice exited (rc={sl.rc}): {sl.tail(5)}")
        return "started with" in _read(logfile)
    wait_for(started, t.timeout(10), "'started with' in the log file")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    for i in range(100):
        path = "/name" if i < 60 else "/size/100"
        if i % 10 == 9:  # some on new connections
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        check(r.status == 200, f"request {i}: {r.status}")
    c.close()

    def lines():
        text = _read(logfile)
        return text if len(HTTPLOG_RE.findall(text)) >= 100 else None
    text = wait_for(lines, t.timeout(10), "100 httplog lines in the log file")
    logs = [m.groupdict() for m in HTTPLOG_RE.finditer(text)]
    check(len(logs) == 100, f"{len(logs)} httplog lines for 100 requests")
    reqlines = [ln for ln in text.splitlines() if '"GET ' in ln]
    check(len(reqlines) == 100, f"{len(reqlines)} request lines, some not in httplog format: "
          f"{[ln for ln in reqlines if not HTTPLOG_RE.match(ln)][:3]}")
    for i, lg in enumerate(logs):
        want = "GET /name HTTP/1.1" if i < 60 else "GET /size/100 HTTP/1.1"
        check(lg["request"] == want, f"line {i}: request {lg['request']!r}")
        check(lg["frontend"] == "web" and lg["backend"] == "app" and lg["server"] in ("s1", "s2"),
              f"line {i}: {lg['frontend']} {lg['backend']}/{lg['server']}")
        check(lg["status"] == "200" and lg["term"] == "----", f"line {i}: {lg}")
        check(lg["client"].startswith("127.0.0.1:"), f"line {i}: client {lg['client']}")
        check(int(lg["bytes"]) > (100 if i >= 60 else 2), f"line {i}: bytes {lg['bytes']}")
        check(all(int(lg[k]) >= 0 for k in ("treq", "tw", "tc", "tr", "ta")),
              f"line {i}: negative timer in {lg}")
    if not halog:
        raise Skip("halog not installed (Debian package haproxy): httplog format checked only "
                   "by regex")
    # Only the traffic lines (the file also holds sluice's own notices, which halog counts as
    # parsing errors). Raw lines (no syslog header): halog skips 5 syslog fields by default,
    # -s -4 none.
    text = "".join(ln + "\n" for ln in text.splitlines() if HTTPLOG_RE.match(ln))
    st = _halog_run(t, ["-s", "-4", "-st"], text)
    check(st == [["200", "100"]], f"halog -st: {st}")
    srv = {row[0]: row for row in _halog_run(t, ["-s", "-4", "-srv"], text)}
    check(set(srv) == {"app/s1", "app/s2"}, f"halog -srv servers: {list(srv)}")
    check(srv["app/s1"][7] == "50" and srv["app/s2"][7] == "50",
          f"halog -srv tot_req: s1 {srv['app/s1'][7]}, s2 {srv['app/s2'][7]} (roundrobin, 100)")
    urls = {row[-1]: int(row[0]) for row in _halog_run(t, ["-s", "-4", "-u"], text)}
    check(urls == {"/name": 60, "/size/100": 40}, f"halog -u: {urls}")
    # With a syslog header, as through rsyslog: halog's defaults.
    sys_text = "".join(f"Nov 27 10:00:00 localhost sluice[1]: {ln}\n"
                       for ln in text.splitlines())
    st = _halog_run(t, ["-st"], sys_text)
    check(st == [["200", "100"]], f"halog -st (syslog prefix): {st}")


def test_http_httplog_timers_and_local_replies(t):
    srv = t.pyserver("handler", handler=_slow_handler)
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"py {srv.addr}"]}, frontend=[
        "http-request deny = if { path_beg /admin }"]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/slow?x=1")
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"slow", "slow request failed")
    c.close()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.request("GET", "/admin")
    r = c.getresponse()
    r.read()
    check(r.status == 403, f"deny: {r.status}")
    c.close()
    logs = sl.wait_httplogs(2)
    slow = [lg for lg in logs if lg["request"] == "GET /slow?x=1 HTTP/1.1"]
    check(len(slow) == 1, f"slow request log lines: {slow}")
    lg = slow[0]
    check(190 <= int(lg["tr"]) <= 1000, f"Tr {lg['tr']} ms for a 200 ms server think time")
    check(int(lg["ta"]) >= int(lg["tr"]), f"Ta {lg['ta']} < Tr {lg['tr']}")
    check(lg["server"] == "py" and lg["status"] == "200", f"slow: {lg}")
    deny = [lg for lg in logs if lg["request"] == "GET /admin HTTP/1.1"]
    check(len(deny) == 1, f"deny log lines: {deny}")
    lg = deny[0]
    check(lg["status"] == "403" and lg["server"] == "<NOSRV>" and lg["term"].startswith("PR"),
          f"deny logged as {lg['status']} {lg['backend']}/{lg['server']} {lg['term']}")


def test_http_httplog_captures(t):
    # capture request/response header: the last occurrence of each field, cut at its length,
    # between braces after the queue counters (HAProxy's %hr %hs), '|' between fields, bytes
    # that would confuse a reader written #XX; halog still reads the lines.
    halog = _halog()
    srv = t.backend("s1")
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"s1 {srv.addr}"]}, frontend=[
        "capture request = header Host len 12",
        "capture request = header X-Tag len 20",
        "capture request = header X-None len 5",
        "capture response = header X-Server len 10",
    ]))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
    c.putrequest("GET", "/name", skip_host=True)
    c.putheader("Host", "www.example.com")  # cut at 12 bytes
    c.putheader("X-Tag", "first")
    c.putheader("X-Tag", 'a|b{c}"d#e')  # the last occurrence, encoded
    c.endheaders()
    r = c.getresponse()
    r.read()
    check(r.status == 200, f"status {r.status}")
    c.request("GET", "/name")  # no X-Tag: empty
    r = c.getresponse()
    r.read()
    c.close()
    logs = sl.wait_httplogs(2)
    check(logs[0]["captures"] == "{www.example.|a#7Cb#7Bc#7D#22d#23e|} {s1} ",
          f"captures of request 1: {logs[0]['captures']!r}")
    check(logs[1]["captures"] == "{%s||} {s1} " % f"127.0.0.1:{port}"[:12],
          f"captures of request 2: {logs[1]['captures']!r}")
    check(logs[0]["request"] == "GET /name HTTP/1.1", f"request field: {logs[0]['request']!r}")
    if halog:
        text = "\n".join(ln for ln in sl.log().splitlines() if HTTPLOG_RE.match(ln)) + "\n"
        srv = {row[0]: row for row in _halog_run(t, ["-s", "-4", "-srv"], text)}
        check("app/s1" in srv and srv["app/s1"][7] == "2",
              f"halog -srv on lines with captures: {srv}")
