"""The runtime API (stats socket): HAProxy's commands change routing live, counters match traffic,
levels and modes are enforced, and `socat stdio unix-connect:PATH` works as with HAProxy."""
import collections
import csv
import io
import os
import shutil
import signal
import socket
import stat
import subprocess
import time

from harness import check, config, get_name, hold, http_get, wait_for, Skip


def cli(path, line, timeout=5.0):
    """One command line on a new connection, as `echo LINE | socat stdio unix-connect:PATH`:
    returns everything sluice wrote before closing."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    return out.decode()


def start(t, nbackends=2, servers_extra=("", ""), global_=(), balance="roundrobin", listen=()):
    """Backends s1..sN (build/backend, http mode), a [listen app] over them and an admin socket.
    Returns (sluice, port, backends, socket path)."""
    bs = [t.backend(f"s{i + 1}") for i in range(nbackends)]
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    servers = [f"s{i + 1} {b.addr} {servers_extra[i]}".rstrip() for i, b in enumerate(bs)]
    sl = t.sluice(config(port, servers, balance=balance, listen=listen,
                         global_=[f"stats socket = {sock} mode 600 level admin"] + list(global_)))
    check(stat.S_ISSOCK(os.stat(sock).st_mode), f"{sock} is not a socket once sluice started")
    return sl, port, bs, sock


def accepts(b):
    """Connections backend b accepted from sluice: without the /stats probes' own connections."""
    b.probes = getattr(b, "probes", 0) + 1
    status, _, body = http_get(b.port, "/stats")
    check(status == 200, f"GET /stats on {b.backend_name} returned {status}")
    return int(body.split()[0].split(b"=")[1]) - b.probes


def names(port, n):
    return collections.Counter(get_name(port) for _ in range(n))


def show_stat(path):
    text = cli(path, "show stat")
    check(text.startswith("# pxname,svname,"), f"show stat answered {text[:200]!r}")
    check(text.endswith("\n\n"), "show stat does not end with an empty line")
    rows = list(csv.DictReader(io.StringIO(text[2:].strip("\n"))))
    return {(r["pxname"], r["svname"]): r for r in rows}


def test_drain_enable_weight(t):
    sl, port, (b1, b2), sock = start(t)
    # two workers, each with its own round-robin cursor: an even split within one per worker
    first = names(port, 10)
    check(abs(first["s1"] - first["s2"]) <= 2 and sum(first.values()) == 10,
          f"roundrobin over s1, s2 gave {dict(first)}")

    # drain: no new connection reaches s1 (its own accept count does not move)
    check(cli(sock, "set server app/s1 state drain") == "\n", "set ... state drain answered text")
    row = show_stat(sock)[("app", "s1")]
    check((row["status"], row["weight"]) == ("DRAIN", "0"), f"drained s1 in show stat: {row}")
    a1 = accepts(b1)
    got = names(port, 20)
    check(got == {"s2": 20}, f"with s1 drained, 20 connections went to {dict(got)}")
    n1 = accepts(b1)
    check(n1 == a1, f"drained s1 accepted {n1 - a1} new connection(s)")

    # disable = maint: still nothing for s1
    check(cli(sock, "disable server app/s1") == "\n", "disable server answered text")
    got = names(port, 10)
    check(got == {"s2": 10}, f"with s1 in maintenance, 10 connections went to {dict(got)}")

    # enable: s1 takes traffic again
    check(cli(sock, "enable server app/s1") == "\n", "enable server answered text")
    got = names(port, 10)
    check(abs(got["s1"] - got["s2"]) <= 2 and sum(got.values()) == 10,
          f"after enable server, 10 connections went to {dict(got)}")
    n1 = accepts(b1)
    check(n1 == a1 + got["s1"], f"s1 accepted {n1 - a1} connections after enable, not {got['s1']}")

    # weight 0 on s2: everything to s1; then weights 3:1
    check(cli(sock, "set server app/s2 weight 0") == "\n", "set weight answered text")
    got = names(port, 10)
    check(got == {"s1": 10}, f"with s2 at weight 0, 10 connections went to {dict(got)}")
    check(cli(sock, "set server app/s1 weight 3; set server app/s2 weight 1") == "\n\n",
          "two set commands did not answer two empty lines")
    got = names(port, 40)
    check(abs(got["s1"] - 30) <= 4 and got["s1"] + got["s2"] == 40,
          f"weights 3:1 over 40 connections gave {dict(got)}")

    # show stat counts every connection of this test, per server and in total
    total = 10 + 20 + 10 + 10 + 10 + 40
    sl.wait_tcplogs(total)
    rows = wait_for(lambda: (lambda r: r if int(r[("app", "BACKEND")]["stot"]) == total else None)(
        show_stat(sock)), t.timeout(5), f"BACKEND stot == {total}")
    s1, s2 = int(rows[("app", "s1")]["stot"]), int(rows[("app", "s2")]["stot"])
    n1, n2 = accepts(b1), accepts(b2)
    check(s1 == n1 and s2 == n2, f"show stat says s1={s1} s2={s2}, the backends accepted {n1}, {n2}")
    check(s1 + s2 == total, f"s1 {s1} + s2 {s2} != {total}")
    check(int(rows[("app", "FRONTEND")]["stot"]) == total, "FRONTEND stot differs")
    check(rows[("app", "s1")]["weight"] == "3" and rows[("app", "s2")]["weight"] == "1",
          f"weights in show stat: {rows[('app', 's1')]['weight']}, {rows[('app', 's2')]['weight']}")


def test_show_servers_state_and_info(t):
    sl, port, bs, sock = start(t, nbackends=3, servers_extra=("weight 5", "", "disabled"))
    names(port, 6)
    cli(sock, "set server app/s2 state drain")
    cli(sock, "set server app/s1 weight 7")
    text = cli(sock, "show servers state")
    lines = text.split("\n")
    check(lines[0] == "1", f"show servers state starts with {lines[0]!r}, not the version 1")
    check(lines[1].startswith("# be_id be_name srv_id srv_name srv_addr srv_op_state "
                              "srv_admin_state srv_uweight srv_iweight"), f"header {lines[1]!r}")
    cols = lines[1][2:].split()
    rows = [dict(zip(cols, ln.split())) for ln in lines[2:] if ln]
    check(text.endswith("\n\n") and len(rows) == 3, f"3 server lines expected:\n{text}")
    by = {r["srv_name"]: r for r in rows}
    for i, b in enumerate(bs):
        r = by[f"s{i + 1}"]
        check(r["be_name"] == "app" and r["srv_id"] == str(i + 1) and r["srv_addr"] == "127.0.0.1"
              and r["srv_port"] == str(b.port) and len(r) == len(cols), f"line {r}")
    check((by["s1"]["srv_op_state"], by["s1"]["srv_admin_state"], by["s1"]["srv_uweight"],
           by["s1"]["srv_iweight"]) == ("2", "0", "7", "5"), f"s1 {by['s1']}")
    check((by["s2"]["srv_op_state"], by["s2"]["srv_admin_state"]) == ("2", "8"),
          f"drained s2: {by['s2']} (expected running, admin 0x08)")
    check((by["s3"]["srv_op_state"], by["s3"]["srv_admin_state"]) == ("0", "4"),
          f"disabled s3: {by['s3']} (expected stopped, admin 0x04)")
    only = cli(sock, "show servers state app").split("\n")
    check(len([ln for ln in only[2:] if ln]) == 3, "show servers state app lists 3 servers")
    check(cli(sock, "show servers state nope") == "Can't find backend.\n\n",
          "unknown backend in show servers state")

    info = cli(sock, "show info")
    kv = dict(ln.split(": ", 1) for ln in info.strip("\n").split("\n"))
    check(kv.get("Name") == "sluice" and kv.get("Pid", "").isdigit() and kv.get("Nbthread") == "2",
          f"show info: {kv}")
    for k in ("Version", "Uptime_sec", "CurrConns", "Maxconn", "CumConns"):
        check(k in kv, f"show info lacks {k}: {kv}")
    check(int(kv["CumConns"]) == 6, f"CumConns {kv['CumConns']} after 6 connections")
    check(kv["CurrConns"] == "0", f"CurrConns {kv['CurrConns']} with nothing open")

    sess = cli(sock, "show sess")
    check(sess == "\n", f"show sess with nothing open: {sess!r}")
    # Two held client connections are listed, one line each, with their source address and
    # frontend, whichever worker owns them.
    held = [t.connect(port) for _ in range(2)]
    ports = {str(h.getsockname()[1]) for h in held}
    deadline = time.monotonic() + t.timeout(5)
    while True:
        lines = [ln for ln in cli(sock, "show sess").split("\n") if ln]
        srcs = {ln.split(" src=127.0.0.1:")[1].split()[0] for ln in lines if " src=127.0.0.1:" in ln}
        if ports <= srcs or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    check(ports <= srcs and all(" fe=" in ln and " age=" in ln for ln in lines),
          f"show sess with 2 open connections: {lines!r}")
    for h in held:
        h.close()


def test_errors_help_prompt(t):
    sl, port, bs, sock = start(t)
    check(cli(sock, "set server nope/s1 state maint") == "No such backend.\n\n", "unknown backend")
    check(cli(sock, "set server app/nope state maint") == "No such server.\n\n", "unknown server")
    check(cli(sock, "disable server app") == "Require 'backend/server'.\n\n", "no server name")
    check(cli(sock, "set server app/s1 weight 300") ==
          "Absolute weight can only be between 0 and 256 inclusive.\n\n", "weight 300")
    check(cli(sock, "set server app/s1 state up") ==
          "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n", "state up")
    un = cli(sock, "frobnicate now")
    check(un.startswith("Unknown command: 'frobnicate now'. Please enter one of the following "
                        "commands only:\n") and "  show stat " in un and un.endswith("\n\n"),
          f"unknown command answered {un!r}")
    h = cli(sock, "help")
    check(h.startswith("The following commands are valid at this level:\n") and
          "set server" in h and "show servers state" in h, f"help: {h!r}")

    # interactive: prompt, several lines on one connection, quit
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(t.timeout(5))
        s.connect(sock)
        s.sendall(b"prompt\n")
        buf = b""
        while not buf.endswith(b"> "):
            buf += s.recv(4096)
        check(buf == b"\n> ", f"prompt answered {buf!r}")
        s.sendall(b"get weight app/s1\r\n")
        buf = b""
        while not buf.endswith(b"> "):
            buf += s.recv(4096)
        check(buf == b"1 (initial 1)\n\n> ", f"get weight in prompt mode answered {buf!r}")
        s.sendall(b"quit\n")
        rest = s.recv(4096)
        check(rest == b"", f"quit answered {rest!r} instead of closing")


def test_levels_and_modes(t):
    user = os.path.join(t.tmp, "user.sock")
    oper = os.path.join(t.tmp, "oper.sock")
    sl, port, (b1, b2), sock = start(
        t, global_=[f"stats socket = {user} level user mode 640", f"stats socket = {oper}",
                    "stats timeout = 1m"])
    check(stat.S_IMODE(os.stat(sock).st_mode) == 0o600, f"admin.sock mode {os.stat(sock).st_mode:o}")
    check(stat.S_IMODE(os.stat(user).st_mode) == 0o640, f"user.sock mode {os.stat(user).st_mode:o}")
    for path in (user, oper):
        for cmd in ("set server app/s1 state maint", "disable server app/s1",
                    "set server app/s1 weight 0", "enable server app/s1"):
            got = cli(path, cmd)
            check(got == "Permission denied\n\n", f"{cmd!r} on {os.path.basename(path)}: {got!r}")
    check(cli(user, "show sess") == "Permission denied\n\n", "show sess at level user")
    check(cli(oper, "show sess") != "Permission denied\n\n", "show sess at level operator")
    check(cli(user, "show servers state").startswith("1\n#"), "show servers state at level user")
    got = names(port, 10)
    check(got["s1"] >= 3 and got["s2"] >= 3, f"refused commands changed routing: {dict(got)}")
    # sluice removes its sockets when it stops
    sl.stop()
    for path in (sock, user, oper):
        check(not os.path.exists(path), f"{path} left behind after stop")


def test_maint_overrides_checks(t):
    """A server in maintenance stays there whatever its checks say; ready gives it back to them."""
    sl, port, (b1, b2), sock = start(
        t, servers_extra=("check inter 100 fall 2 rise 2", "check inter 100"))

    def state_of(name):
        return show_stat(sock)[("app", name)]["status"]

    check(state_of("s1") == "UP", "s1 not UP at start")
    cli(sock, "disable server app/s1")
    check(state_of("s1") == "MAINT", f"s1 is {state_of('s1')} after disable")
    hold(0.5)  # five check intervals: a passing check must not bring it back
    check(state_of("s1") == "MAINT", f"s1 is {state_of('s1')} after checks passed in maintenance")
    # ready: back UP; then its checks take over again (the backend goes away -> DOWN)
    cli(sock, "set server app/s1 state ready")
    check(state_of("s1") == "UP", f"s1 is {state_of('s1')} after ready")
    b1.stop()
    wait_for(lambda: state_of("s1") == "DOWN", t.timeout(5), "s1 DOWN from its checks after ready")
    # maintenance wins over a DOWN server's checks too, and ready returns it DOWN→checks
    cli(sock, "set server app/s1 state maint")
    check(state_of("s1") == "MAINT", "maint on a DOWN server")
    got = names(port, 6)
    check(got == {"s2": 6}, f"connections went to {dict(got)}")


def test_socat(t):
    if not shutil.which("socat"):
        raise Skip("socat is not installed")
    sl, port, bs, sock = start(t)
    r = subprocess.run(["socat", "stdio", f"unix-connect:{sock}"], input="show servers state\n",
                       capture_output=True, text=True, timeout=t.timeout(10))
    check(r.returncode == 0, f"socat exited {r.returncode}: {r.stderr}")
    lines = r.stdout.split("\n")
    check(lines[0] == "1" and lines[1].startswith("# be_id ") and
          lines[2].startswith("1 app 1 s1 127.0.0.1 2 0 1 1 ") and
          lines[3].startswith("1 app 2 s2 127.0.0.1 2 0 1 1 ") and r.stdout.endswith("\n\n"),
          f"socat output:\n{r.stdout}")
    r = subprocess.run(["socat", "stdio", f"unix-connect:{sock}"],
                       input="set server app/s1 state maint;show servers state app\n",
                       capture_output=True, text=True, timeout=t.timeout(10))
    check(r.stdout.startswith("\n1\n# be_id") and "\n1 app 1 s1 127.0.0.1 0 1 1 1 " in r.stdout,
          f"socat with two commands:\n{r.stdout}")


def test_reload_keeps_the_socket(t):
    """A reload's new generation takes the socket path over (renamed over it); the old generation,
    once drained, leaves the new one's socket in place; server changes belong to a generation."""
    sl, port, bs, sock = start(t)
    pid1 = dict(ln.split(": ", 1) for ln in cli(sock, "show info").strip().split("\n"))["Pid"]
    cli(sock, "disable server app/s1")
    sl.signal(signal.SIGHUP)
    sl.wait_log(r"reload complete: generation 2 \(pid \d+\)", timeout=t.timeout(10))
    info = dict(ln.split(": ", 1) for ln in cli(sock, "show info").strip().split("\n"))
    check(info["Pid"] != pid1, f"after the reload the socket still answers from pid {pid1}")
    sl.wait_log(r"generation 1 \(pid \d+\) exit status 0", timeout=t.timeout(15))
    check(os.path.exists(sock), "the old generation removed the new generation's socket")
    lines = cli(sock, "show servers state app").split("\n")
    check(lines[2].startswith("1 app 1 s1 127.0.0.1 2 0 "),
          f"generation 2 starts from the configuration (s1 ready): {lines[2]}")
