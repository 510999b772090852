"""The statistics page in a real browser: headless Chromium (Debian's chromium package, installed by
scripts/deps.sh) loads the page after a few hundred requests with servers in every state, takes a
screenshot and dumps the rendered DOM. The browser must exit 0, log no console message (the page
has no script, so any uncaught error or console output is a fault), write a 1280-pixel-wide PNG,
and render one table per proxy. With SLUICE_SCREENSHOT_OUT set, the screenshot is also copied there
(that is how docs/images/stats-page.png is made)."""
import csv
import http.client
import io
import os
import re
import shutil
import signal
import struct
import subprocess

from harness import Skip, check, fail, http_config, wait_for

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 900
CHECK = "check inter 100 fastinter 100 downinter 100 rise 1 fall 1"

# Chromium copies every console message of the page to its log as
#   [pid:tid:date:INFO:CONSOLE:LINE] "Uncaught 1", source: http://... (LINE)
# (older builds: INFO:CONSOLE(LINE)). Its other stderr lines (D-Bus, GPU, the launcher's shm
# probe) are about the browser, not the page.
CONSOLE_RE = re.compile(r":CONSOLE\b|\bUncaught\b")


def console_lines(stderr):
    """The lines of a Chromium log that report a console message or an uncaught error."""
    return [ln for ln in stderr.splitlines() if CONSOLE_RE.search(ln)]


def _get(port, path, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _chromium(t, name, args, url):
    """Runs headless Chromium on url with its own profile and HOME under the test's temp dir, in
    its own process group (killed whole when it overruns, and swept after it exits). Returns
    (rc, stdout, stderr)."""
    home = os.path.join(t.tmp, f"{name}-home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={os.path.join(t.tmp, name + '-profile')}",
            f"--window-size={WIDTH},{HEIGHT}", "--enable-logging=stderr", "--v=0"] + args + [url]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=t.timeout(20))
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        fail(f"chromium {name} did not finish within {t.timeout(20)}s: "
             f"{err.decode(errors='replace')[-2000:]}")
    finally:
        try:  # a renderer or zygote left behind by the browser
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stderr = err.decode(errors="replace")
    with open(os.path.join(t.tmp, f"{name}.stderr"), "w") as f:
        f.write(stderr)
    return p.returncode, out.decode(errors="replace"), stderr


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR",
          f"{path} is not a PNG: {head!r}")
    return struct.unpack(">II", head[16:24])


def test_stats_page_in_chromium(t):
    if not os.access(CHROMIUM, os.X_OK):
        raise Skip(f"{CHROMIUM} not installed (Debian package chromium; scripts/deps.sh)")
    s1, s2, bk = t.backend("s1"), t.backend("s2"), t.backend("bk")
    dead_port = t.free_port()
    port, sport = t.free_port(), t.free_port()
    # every colour of the legend: active UP (s1), backup UP (bk), DOWN (d1), MAINT (m1), no check
    # (s2)
    cfg = http_config(port, {"app": [f"s1 {s1.addr} check", f"s2 {s2.addr}",
                                     f"bk {bk.addr} check backup"],
                             "dead": [f"d1 127.0.0.1:{dead_port} {CHECK}",
                                      f"m1 127.0.0.1:{dead_port} disabled"]},
                      default_backend="app")
    cfg += (f"\n[listen stats]\nmode = http\nbind = 127.0.0.1:{sport}\nstats = enable\n"
            "stats uri = /stats\n")
    t.sluice(cfg)

    # 300 requests on 5 keep-alive connections: 2xx, 4xx and 5xx answers
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(5))
             for _ in range(5)]
    for i in range(300):
        path = ("/", "/", "/", "/status/404", "/status/503")[i % 5]
        c = conns[i % 5]
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        check(r.status == int(path[-3:]) if "status" in path else r.status == 200,
              f"request {i} {path}: {r.status}")
    for c in conns:
        c.close()

    def settled():
        status, body = _get(sport, "/stats;csv")
        check(status == 200, f"/stats;csv answered {status}")
        rows = {(r["# pxname"], r["svname"]): r for r in csv.DictReader(io.StringIO(body.decode()))}
        return rows if (rows[("web", "FRONTEND")]["req_tot"] == "300" and
                        rows[("dead", "d1")]["status"] == "DOWN" and
                        rows[("app", "bk")]["status"] == "UP") else None
    rows = wait_for(settled, t.timeout(10), "300 requests counted, d1 DOWN and bk UP")
    proxies = sorted({px for px, _ in rows})
    check(proxies == ["app", "dead", "stats", "web"], f"proxies {proxies}")
    url = f"http://127.0.0.1:{sport}/stats"

    # the screenshot: exit 0, no console message, a real PNG of the window's width
    png = os.path.join(t.tmp, "stats.png")
    rc, out, err = _chromium(t, "shot", [f"--screenshot={png}"], url)
    check(rc == 0, f"chromium --screenshot exited {rc}: {err[-2000:]}")
    bad = console_lines(err)
    check(not bad, "console messages while rendering the page:\n" + "\n".join(bad))
    check(os.path.exists(png), f"no screenshot written; chromium said: {(out + err)[-2000:]}")
    w, h = _png_size(png)
    check((w, h) == (WIDTH, HEIGHT), f"screenshot is {w}x{h}, expected {WIDTH}x{HEIGHT}")
    check(os.path.getsize(png) > 10000, f"screenshot only {os.path.getsize(png)} bytes")
    dest = os.environ.get("SLUICE_SCREENSHOT_OUT")
    if dest:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        shutil.copyfile(png, dest)

    # the DOM as rendered: one table per proxy, each headed by its name, d1's row marked DOWN
    rc, dom, err = _chromium(t, "dom", ["--dump-dom"], url)
    with open(os.path.join(t.tmp, "dom.html"), "w") as f:
        f.write(dom)
    check(rc == 0, f"chromium --dump-dom exited {rc}: {err[-2000:]}")
    bad = console_lines(err)
    check(not bad, "console messages while rendering the page:\n" + "\n".join(bad))
    check(dom.lstrip().startswith("<!DOCTYPE html>") or "<html" in dom[:200],
          f"--dump-dom printed {dom[:200]!r}")
    tables = re.findall(r'<table class="px" id="px-([^"]+)">', dom)
    check(sorted(tables) == proxies and dom.count("<table") == len(proxies),
          f"tables {tables} in the rendered DOM, expected one per proxy {proxies}")
    rows = dict((n, c) for c, n in re.findall(r'<tr class="([^"]+)"><td class="n">([^<]+)<', dom))
    want = {"s1": "up", "s2": "nochk", "bk": "bup", "d1": "down", "m1": "maint"}
    check({n: rows.get(n) for n in want} == want,
          f"server rows' state classes {rows}, expected {want}")
