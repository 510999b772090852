"""Command line: -c on good and bad configs, -v, -h, a bad config refuses to start."""
import os
import re
import socket

from harness import check, config

GOOD = """\
# a commented config with every section type
[global]
nbthread = 2
maxconn = 1000
log = stdout

[defaults]
mode = tcp
timeout connect = 2s
timeout client = 30s
timeout server = 30s
option = tcplog

[listen app]
bind = 127.0.0.1:{port}
balance = roundrobin
option = redispatch
retries = 2
server = b1 127.0.0.1:19001 check inter 200 rise 2 fall 2
server = b2 127.0.0.1:19002 check inter 200 weight 2
server = bk 127.0.0.1:19003 backup

[frontend fe]
bind = 127.0.0.1:{port2} accept-proxy
default_backend = be

[backend be]
balance = leastconn
option = httpchk GET /health
http-check expect status 200
timeout queue = 1s
server s1 = 127.0.0.1:19004 check maxconn 10 send-proxy
server = s2 127.0.0.1:19005 check send-proxy-v2 slowstart 5s
"""

# (name, config text, number of the bad line, a word the message must contain)
BAD = [
    ("unknown-keyword", "[listen app]\nbind = 127.0.0.1:1\n\nbogus = 1\nserver = b1 127.0.0.1:2\n",
     4, "bogus"),
    ("bad-time", "[defaults]\nmode = tcp\ntimeout connect = 5xs\n[listen app]\n"
     "bind = 127.0.0.1:1\nserver = b1 127.0.0.1:2\n", 3, "5xs"),
    ("missing-backend", "[frontend f]\nbind = 127.0.0.1:1\ndefault_backend = nope\n"
     "[backend b]\nserver = b1 127.0.0.1:2\n", 3, "nope"),
    ("duplicate-server", "[listen app]\nbind = 127.0.0.1:1\nserver = b1 127.0.0.1:2\n"
     "server = b1 127.0.0.1:3\n", 4, "b1"),
    ("bad-balance", "[global]\nnbthread = 1\n[listen app]\nbind = 127.0.0.1:1\nbalance = foo\n"
     "server = b1 127.0.0.1:2\n", 5, "foo"),
    ("bad-port", "[listen app]\nbind = 127.0.0.1:1\nserver = b1 127.0.0.1:99999\n", 3, "99999"),
    ("bad-weight", "[listen app]\nbind = 127.0.0.1:1\nserver = b1 127.0.0.1:2 weight 300\n", 3,
     "300"),
    ("bad-server-option", "[listen app]\nbind = 127.0.0.1:1\nserver = b1 127.0.0.1:2 chekc\n", 3,
     "chekc"),
    ("long-line", "[listen app]\nbind = 127.0.0.1:1\nserver = b1 127.0.0.1:2 " + "check " * 40 +
     "\n", 3, "longer"),
    ("unknown-section", "[global]\nnbthread = 1\n[nosuch]\nx = 1\n", 3, "nosuch"),
    ("bad-nbthread", "[global]\nnbthread = two\n[listen app]\nbind = 127.0.0.1:1\n"
     "server = b1 127.0.0.1:2\n", 2, "two"),
]


def test_check_good_config(t):
    path = t.write("good.ini", GOOD.format(port=t.free_port(), port2=t.free_port()))
    r = t.run(["-c", "-f", path])
    check(r.returncode == 0, f"-c on a good config: rc={r.returncode}, stderr={r.stderr!r}")
    check("Configuration file is valid" in r.stdout + r.stderr,
          f"-c did not print 'Configuration file is valid': {r.stdout!r} {r.stderr!r}")


def test_check_bad_configs(t):
    problems = []
    for name, text, line, word in BAD:
        path = t.write(f"{name}.ini", text)
        r = t.run(["-c", "-f", path])
        want = f"{path}:{line}:"
        if r.returncode != 1:
            problems.append(f"{name}: rc={r.returncode} (expected 1)")
        elif want not in r.stderr:
            problems.append(f"{name}: stderr lacks {want!r}: {r.stderr.strip()!r}")
        elif word not in r.stderr.split(want, 1)[1]:
            problems.append(f"{name}: message does not name {word!r}: {r.stderr.strip()!r}")
    check(not problems, "; ".join(problems))


def test_check_missing_file(t):
    r = t.run(["-c", "-f", os.path.join(t.tmp, "nonexistent.ini")])
    check(r.returncode == 1, f"missing file: rc={r.returncode}")
    check("nonexistent.ini" in r.stderr, f"missing file not named: {r.stderr!r}")


def test_bad_config_does_not_start(t):
    port = t.free_port()
    text = config(port, ["b1 127.0.0.1:2 weight 300"])
    path = t.write("bad.ini", text)
    r = t.run(["-f", path])
    check(r.returncode == 1, f"sluice -f on a bad config: rc={r.returncode} (expected 1)")
    check(re.search(re.escape(path) + r":\d+:", r.stderr), f"no FILE:LINE: in {r.stderr!r}")
    with socket.socket() as s:
        check(s.connect_ex(("127.0.0.1", port)) != 0, "something listens on the bad config's port")


def test_version(t):
    r = t.run(["-v"])
    check(r.returncode == 0, f"-v: rc={r.returncode}")
    check(re.search(r"sluice.*\b\d+\.\d+\.\d+", r.stdout), f"-v printed {r.stdout!r}")


def test_help_and_usage_errors(t):
    r = t.run(["-h"])
    check(r.returncode == 0, f"-h: rc={r.returncode}")
    for opt in ("-f", "-c", "-D", "-p", "-v", "-h"):
        check(opt in r.stdout, f"-h output does not mention {opt}: {r.stdout!r}")
    r = t.run(["-x"])
    check(r.returncode != 0, "an unknown option must fail")
    r = t.run([])
    check(r.returncode != 0, "no -f FILE must fail")
