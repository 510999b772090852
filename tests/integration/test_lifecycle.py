"""Process life: graceful SIGTERM drain, second signal, daemon mode with a pidfile."""
import os
import signal
import socket
import subprocess
import time

from harness import check, config, get_name, pid_alive, recv_exact, recv_until_eof, wait_for


def _refused(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_sigterm_drains_live_connection(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]))
    s = t.connect(port)
    me = "%s:%d" % s.getsockname()
    s.sendall(b"before")
    check(recv_exact(s, 6, t.timeout(5)) == b"before", "no echo before SIGTERM")
    sl.signal(signal.SIGTERM)
    sl.wait_log(r"received SIGTERM")
    check(wait_for(lambda: _refused(port), t.timeout(2), "the listener to close"), "")
    check(sl.running(), "sluice exited while a connection was live (drain default 10s)")
    for i in range(3):
        s.sendall(b"during %d" % i)
        check(recv_exact(s, 8, t.timeout(5)) == b"during %d" % i, "the live connection broke")
    check(sl.running(), "sluice exited during the drain")
    t0 = time.monotonic()
    s.shutdown(socket.SHUT_WR)
    got, how = recv_until_eof(s, t.timeout(5))
    check(how == "eof" and got == b"", f"closing the drained connection: {got!r} {how}")
    rc = sl.wait(t.timeout(3))
    check(rc == 0, f"sluice exit code {rc} after its last connection ended (expected 0)")
    dt = time.monotonic() - t0
    check(dt < 1.5 * t.scale, f"sluice took {dt:.2f}s to exit after the last connection ended")
    # (a probe of the closing listener may have slipped in before the close: only ours counts)
    lg = [lg for lg in sl.tcplogs() if lg["client"] == me]
    check(len(lg) == 1 and lg[0]["term"] == "--" and lg[0]["bytes"] == "30",
          f"tcplog of the drained session: {lg}")


def test_drain_timeout(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], defaults=["timeout drain = 300ms"]))
    s = t.connect(port)
    s.sendall(b"x")
    check(recv_exact(s, 1, t.timeout(5)) == b"x", "no echo")
    t0 = time.monotonic()
    sl.signal(signal.SIGTERM)
    rc = sl.wait(t.timeout(5))
    dt = time.monotonic() - t0
    check(rc == 0, f"exit code {rc} after the drain timeout (expected 0)")
    check(0.25 <= dt <= 1.2 * t.scale, f"exited {dt:.2f}s after SIGTERM, timeout drain is 300ms")
    got, how = recv_until_eof(s, t.timeout(2))
    check(got == b"", f"the cut connection got {got!r}")


def test_second_signal_stops_at_once(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]))
    s = t.connect(port)
    s.sendall(b"x")
    check(recv_exact(s, 1, t.timeout(5)) == b"x", "no echo")
    sl.signal(signal.SIGTERM)
    sl.wait_log(r"received SIGTERM")
    check(sl.running(), "exited although a connection was live")
    t0 = time.monotonic()
    sl.signal(signal.SIGINT)
    rc = sl.wait(t.timeout(3))
    check(rc == 0, f"exit code {rc} after a second signal (expected 0)")
    check(time.monotonic() - t0 < 1.0 * t.scale, "the second signal did not stop sluice at once")


def test_sigint_idle_exits_zero(t):
    b = t.backend("b1")
    port = t.free_port()
    sl = t.sluice(config(port, [f"b1 {b.addr} check inter 100"]))
    check(get_name(port) == "b1", "no traffic")
    sl.signal(signal.SIGINT)
    rc = sl.wait(t.timeout(3))
    check(rc == 0, f"exit code {rc} on SIGINT with no connection")


def test_daemon_pidfile(t):
    b = t.backend("d1")
    port = t.free_port()
    logpath = os.path.join(t.tmp, "daemon.log")
    pidfile = os.path.join(t.tmp, "sluice.pid")
    text = config(port, [f"d1 {b.addr}"]).replace("log = stderr", f"log = {logpath}")
    cfg = t.write("daemon.ini", text)
    env = dict(t.env)
    if t.sanitizer:  # the daemon's stderr is gone: reports go to files checked at cleanup
        for k in ("ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"):
            sep = " " if k == "TSAN_OPTIONS" else ":"
            env[k] = env[k] + f"{sep}log_path={os.path.join(t.tmp, 'san')}"
    out = os.path.join(t.tmp, "daemon-parent.out")
    with open(out, "wb") as f:  # files, not pipes: see test_daemon_releases_output_pipes
        r = subprocess.run([t.sluice_bin, "-D", "-p", pidfile, "-f", cfg], stdin=subprocess.DEVNULL,
                           stdout=f, stderr=f, env=env, timeout=t.timeout(10))
    check(r.returncode == 0, f"sluice -D exited {r.returncode}: {open(out).read()!r}")
    wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), t.timeout(5),
             "the pidfile")
    pid = int(open(pidfile).read().strip())
    t.adopt_pid(pid)
    check(pid_alive(pid), f"pid {pid} from the pidfile is not running")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        check(b"sluice" in f.read(), "the pidfile's process is not sluice")
    wait_for(lambda: "started with" in open(logpath).read() if os.path.exists(logpath) else False,
             t.timeout(5), "the daemon's start-up log line")
    check(get_name(port) == "d1", "the daemon does not serve traffic")
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pid_alive(pid), t.timeout(5), f"daemon {pid} to exit on SIGTERM")
    check(not os.path.exists(pidfile), "the pidfile was left behind after a clean stop")
    check("stopped" in open(logpath).read(), "no 'stopped' line in the daemon's log")


def test_daemon_releases_output_pipes(t):
    # A daemon must not hold its caller's stdout/stderr: `x=$(sluice -D ...)`, ssh, or a service
    # manager reading the pipes would block until the daemon exits.
    b = t.backend("d1")
    port = t.free_port()
    logpath = os.path.join(t.tmp, "daemon.log")
    pidfile = os.path.join(t.tmp, "sluice.pid")
    cfg = t.write("daemon.ini",
                  config(port, [f"d1 {b.addr}"]).replace("log = stderr", f"log = {logpath}"))
    p = subprocess.Popen([t.sluice_bin, "-D", "-p", pidfile, "-f", cfg], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=t.env)
    try:
        wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), t.timeout(5),
                 "the pidfile")
        t.adopt_pid(int(open(pidfile).read().strip()))
        try:
            p.communicate(timeout=t.timeout(3))
        except subprocess.TimeoutExpired:
            check(False, "sluice -D: the caller's stdout/stderr pipes stay open after the "
                  "parent exited (the daemon inherited them)")
        check(p.returncode == 0, f"sluice -D parent exited {p.returncode}")
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        for f in (p.stdout, p.stderr):
            f.close()
