"""Hitless reload (issue 5): the master process (the pidfile's PID) reloads on SIGHUP without
failing a request or a connection while wrk and client loops run through http and tcp listeners;
a bad configuration is rejected and the old one keeps serving; listeners are added and removed;
old generations drain their live connections; SIGTERM to the master drains and exits 0; a worker
that dies makes the master exit 1."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

from harness import check, http_get, pid_alive, recv_exact, recv_until_eof, wait_for

READY_RE = r"reload complete: generation (\d+) \(pid (\d+)\)"


def _config(http_port, tcp_port, http_addr, echo_addr, gen, extra_listen=(), drain=None,
            extra=""):
    """An http frontend that tags responses with X-Gen: GEN, and a tcp echo listener whose server
    weight changes with every generation."""
    d = f"timeout drain = {drain}\n" if drain else ""
    text = ("[global]\nnbthread = 2\nlog = stderr\n\n"
            "[defaults]\ntimeout connect = 2s\ntimeout client = 30s\ntimeout server = 30s\n" + d +
            f"\n[frontend web]\nmode = http\nbind = 127.0.0.1:{http_port}\n"
            f"default_backend = app\nhttp-response set-header = X-Gen {gen}\n"
            f"\n[backend app]\nmode = http\nserver = s1 {http_addr}\n"
            f"\n[listen echo]\nmode = tcp\nbind = 127.0.0.1:{tcp_port}\n"
            f"server = e1 {echo_addr} weight {1 + gen % 7}\n")
    for port in extra_listen:
        text += (f"\n[listen extra{port}]\nmode = tcp\nbind = 127.0.0.1:{port}\n"
                 f"server = e1 {echo_addr}\n")
    return text + extra


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _worker_pid(sl, gen):
    m = sl.wait_log(rf"started with \d+ worker thread\(s\) \(generation {gen}, pid (\d+)\)")
    return int(m[-1].group(1))


def _reload(t, sl, text, n):
    """Writes the config, sends SIGHUP to the master and waits for generation n's readiness."""
    with open(sl.cfg_path, "w") as f:
        f.write(text)
    sl.signal(signal.SIGHUP)
    sl.wait_log(rf"reload complete: generation {n} \(pid \d+\)", timeout=t.timeout(10))


def _wait_gen(t, port, gen):
    """Waits until new connections get X-Gen: gen. Right after "reload complete" the old generation
    may still accept a connection or two (it stops its acceptor on SIGUSR2): served, by the old
    configuration."""
    wait_for(lambda: http_get(port, "/", timeout=t.timeout(5))[1].get("x-gen") == str(gen),
             t.timeout(5), f"responses with X-Gen: {gen}")


def _echo_once(port, payload, timeout):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        got = recv_exact(s, len(payload), timeout)
        s.shutdown(socket.SHUT_WR)
        rest, how = recv_until_eof(s, timeout)
        return got + rest, how


class _Loop(threading.Thread):
    """Runs fn() back to back until stopped, counting successes and keeping every failure."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn, self.ok, self.errors, self.seen = fn, 0, [], set()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                r = self.fn()
                self.ok += 1
                if r is not None:
                    self.seen.add(r)
            except Exception as e:  # noqa: BLE001 (every failure is a finding)
                self.errors.append(f"{type(e).__name__}: {e}")

    def stop(self):
        self._halt.set()
        self.join(30)


class _KeepAliveClient:
    """Requests on one keep-alive connection, reconnecting only when the response says close."""

    def __init__(self, port, timeout):
        self.port, self.timeout, self.sock, self.buf = port, timeout, None, b""

    def get(self):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.buf = b""
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("keep-alive connection closed without a response")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        n = int(fields.get("content-length", "0"))
        while len(rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("keep-alive connection closed inside a body")
            rest += chunk
        self.buf = rest[n:]
        if status != 200:
            raise AssertionError(f"status {status}")
        if fields.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return fields.get("x-gen")

    def close(self):
        if self.sock:
            self.sock.close()


def _parse_wrk(out):
    m = re.search(r"(\d+) requests in", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (int(m.group(1)) if m else 0,
            [int(x) for x in errs.groups()] if errs else [0, 0, 0, 0],
            int(non2xx.group(1)) if non2xx else 0)


def test_ten_reloads_under_load(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 0))
    check(http_get(hp, "/")[1].get("x-gen") == "0", "X-Gen of generation 1's configuration")
    master = sl.pid
    to = t.timeout(5)
    wrk = None
    if shutil.which("wrk"):
        wrk = subprocess.Popen(["wrk", "-t1", "-c16", f"-d{int(8 * t.scale)}s", "--timeout", "5s",
                                f"http://127.0.0.1:{hp}/"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    counter = iter(range(1 << 30))

    def tcp_once():
        payload = b"reload %d" % next(counter)
        got, how = _echo_once(tp, payload, to)
        if got != payload or how != "eof":
            raise AssertionError(f"echo {payload!r} -> {got!r} ({how})")

    def http_once():
        status, fields, body = http_get(hp, "/", timeout=to)
        if status != 200:
            raise AssertionError(f"status {status}")
        return fields.get("x-gen")

    ka = _KeepAliveClient(hp, to)
    loops = [_Loop(tcp_once), _Loop(tcp_once), _Loop(http_once), _Loop(ka.get)]
    for lp in loops:
        lp.start()
    try:
        time.sleep(0.3)
        for i in range(1, 11):
            _reload(t, sl, _config(hp, tp, web.addr, echo.addr, i), i + 1)
            check(sl.pid == master and sl.running(), "the master changed or exited")
            time.sleep(0.25)  # traffic on the new generation before the next reload
        _wait_gen(t, hp, 10)
    finally:
        for lp in loops:
            lp.stop()
        ka.close()
        wrk_out = wrk.communicate(timeout=t.timeout(30))[0] if wrk else ""
    for name, lp in zip(("tcp-1", "tcp-2", "http", "keep-alive"), loops):
        check(not lp.errors, f"{name} client: {len(lp.errors)} failure(s) in {lp.ok + len(lp.errors)}"
              f" requests, first: {lp.errors[:3]}")
        check(lp.ok > 20, f"{name} client made only {lp.ok} requests")
    check({"0", "10"} <= loops[2].seen, f"X-Gen values seen: {sorted(loops[2].seen)}")
    check(len(loops[3].seen) >= 5,
          f"the keep-alive client stayed on few generations: {sorted(loops[3].seen)}")
    if wrk:
        reqs, errs, non2xx = _parse_wrk(wrk_out)
        check(wrk.returncode == 0 and reqs > 100, f"wrk: {wrk_out}")
        check(errs == [0, 0, 0, 0] and non2xx == 0, f"wrk saw errors across 10 reloads:\n{wrk_out}")
    print(f"    10 reloads: wrk {_parse_wrk(wrk_out)[0] if wrk else '-'} requests, client loops "
          f"{[lp.ok for lp in loops]} requests, 0 failures", flush=True)
    # Every old generation drained and exited; one worker remains.
    sl.wait_log(r"generation \d+ \(pid \d+\) exit status 0 after draining", count=10,
                timeout=t.timeout(15))
    wait_for(lambda: len(_children(master)) == 1, t.timeout(5), "one worker process left")
    check("reload failed" not in sl.log(), "a reload failed")


def test_bad_config_is_rejected(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    good = _config(hp, tp, web.addr, echo.addr, 1)
    sl = t.sluice(good)
    worker = _worker_pid(sl, 1)
    with open(sl.cfg_path, "w") as f:
        f.write(good + "\n[backend broken]\nbalance = nosuchalgo\n")
    sl.signal(signal.SIGHUP)
    m = sl.wait_log(r"reload failed, the running configuration keeps serving: (\S+):(\d+): .*")
    check(m[0].group(1) == sl.cfg_path and int(m[0].group(2)) > 0,
          f"the rejection names FILE:LINE: {m[0].group(0)!r}")
    check(sl.running() and pid_alive(worker) and _children(sl.pid) == [worker],
          f"the old worker {worker} must keep running alone: {_children(sl.pid)}")
    check(http_get(hp, "/")[1].get("x-gen") == "1", "the old configuration serves")
    check(_echo_once(tp, b"still", t.timeout(5))[0] == b"still", "the tcp listener serves")
    # A new address that cannot be bound is rejected too, and nothing else changes.
    blocker = t.track(socket.socket())
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    busy = blocker.getsockname()[1]
    with open(sl.cfg_path, "w") as f:
        f.write(_config(hp, tp, web.addr, echo.addr, 2, extra_listen=[busy]))
    sl.signal(signal.SIGHUP)
    sl.wait_log(r"reload failed.*cannot bind frontend 'extra\d+'.*Address already in use")
    check(_children(sl.pid) == [worker], "a failed bind started a worker")
    check(http_get(hp, "/")[1].get("x-gen") == "1", "the old configuration serves after a bind "
          "failure")
    # Fixed: the next SIGHUP works.
    _reload(t, sl, _config(hp, tp, web.addr, echo.addr, 3), 2)
    _wait_gen(t, hp, 3)


def test_pidfile_is_the_master_and_old_generation_drains(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    pidfile = os.path.join(t.tmp, "sluice.pid")
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 1), args=["-p", pidfile])
    read_pid = lambda: int(open(pidfile).read().strip())  # noqa: E731
    check(read_pid() == sl.pid, f"pidfile says {read_pid()}, the master is {sl.pid}")
    w1 = _worker_pid(sl, 1)
    check(w1 != sl.pid and _children(sl.pid) == [w1], "the master forks one worker")
    # A live connection on generation 1 survives the reload and the drain.
    s = t.connect(tp)
    s.sendall(b"gen1")
    check(recv_exact(s, 4, t.timeout(5)) == b"gen1", "no echo")
    _reload(t, sl, _config(hp, tp, web.addr, echo.addr, 2), 2)
    w2 = _worker_pid(sl, 2)
    check(read_pid() == sl.pid, "the pidfile changed on reload")
    sl.wait_log(r"generation 1 replaced: stopping listeners, draining 1 connection")
    check(pid_alive(w1), "generation 1 exited with a live connection (timeout drain is 10s)")
    for i in range(3):
        s.sendall(b"more%d" % i)
        check(recv_exact(s, 5, t.timeout(5)) == b"more%d" % i, "the draining connection broke")
    _wait_gen(t, hp, 2)
    s.shutdown(socket.SHUT_WR)
    check(recv_until_eof(s, t.timeout(5)) == (b"", "eof"), "closing the drained connection")
    sl.wait_log(rf"generation 1 \(pid {w1}\) exit status 0 after draining")
    check(_children(sl.pid) == [w2], f"workers after the drain: {_children(sl.pid)}")
    # Another reload keeps the same master, then SIGTERM drains and exits 0 with the pidfile gone.
    _reload(t, sl, _config(hp, tp, web.addr, echo.addr, 3), 3)
    check(read_pid() == sl.pid, "the pidfile changed on the second reload")
    s = t.connect(tp)
    s.sendall(b"last")
    check(recv_exact(s, 4, t.timeout(5)) == b"last", "no echo")
    sl.signal(signal.SIGTERM)
    sl.wait_log(r"received SIGTERM")
    check(sl.running(), "the master exited while a connection was live")
    s.sendall(b"drain")
    check(recv_exact(s, 5, t.timeout(5)) == b"drain", "the connection broke during the drain")
    s.close()
    rc = sl.wait(t.timeout(5))
    check(rc == 0, f"master exit code {rc} after SIGTERM (expected 0)")
    check(not os.path.exists(pidfile), "the pidfile was left behind")
    check(not pid_alive(w1) and not pid_alive(w2), "a worker outlived the master")


def test_listeners_added_and_removed(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp, xp = t.free_port(), t.free_port(), t.free_port()
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 1, drain="300ms"))
    _reload(t, sl, _config(hp, tp, web.addr, echo.addr, 2, extra_listen=[xp], drain="300ms"), 2)
    check(_echo_once(xp, b"added", t.timeout(5))[0] == b"added", "the added listener serves")
    _reload(t, sl, _config(hp, tp, web.addr, echo.addr, 3, drain="300ms"), 3)
    sl.wait_log(r"generation 2 \(pid \d+\) exit status 0 after draining")

    def refused():
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", xp)) != 0
    check(wait_for(refused, t.timeout(3), "the removed listener to close"), "")
    check(_echo_once(tp, b"kept", t.timeout(5))[0] == b"kept", "the kept listener serves")


def test_sighup_during_reload_and_sigterm_to_all(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 1))
    with open(sl.cfg_path, "w") as f:
        f.write(_config(hp, tp, web.addr, echo.addr, 2))
    sl.signal(signal.SIGHUP)
    sl.wait_log(r"received SIGHUP: reloading")
    sl.signal(signal.SIGHUP)  # while generation 2 starts (queued) or right after: one more reload
    sl.wait_log(r"reload complete: generation 3 \(pid \d+\)")
    _wait_gen(t, hp, 2)
    check(sl.stop(t.timeout(5)) == 0, "SIGTERM after reloads: exit 0")


def test_worker_death_stops_the_master(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 1))
    sl.expect_clean_exit = False
    w = _worker_pid(sl, 1)
    os.kill(w, signal.SIGKILL)
    rc = sl.wait(t.timeout(5))
    check(rc == 1, f"the master exited {rc} after its worker was killed (expected 1)")
    check(re.search(rf"worker generation 1 \(pid {w}\) killed by signal 9", sl.log()),
          f"no log line about the dead worker:\n{sl.tail()}")


def test_master_killed_takes_workers_along(t):
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 1, drain="200ms"))
    sl.expect_clean_exit = False
    w = _worker_pid(sl, 1)
    t.adopt_pid(w)
    sl.kill()
    wait_for(lambda: not pid_alive(w), t.timeout(5), f"worker {w} to exit after its master died")


def test_stop_signal_to_master_and_worker_drains(t):
    # Ctrl-C in a terminal (the process group) or `systemctl kill` signal the worker directly and
    # through the master: that is one stop (drain), not a second signal that cuts connections.
    web = t.backend("web")
    echo = t.backend("echo", mode="echo")
    hp, tp = t.free_port(), t.free_port()
    sl = t.sluice(_config(hp, tp, web.addr, echo.addr, 1))
    w = _worker_pid(sl, 1)
    s = t.connect(tp)
    s.sendall(b"a")
    check(recv_exact(s, 1, t.timeout(5)) == b"a", "no echo")
    os.kill(w, signal.SIGINT)
    sl.signal(signal.SIGINT)
    sl.wait_log(r"received SIGINT: stopping listeners")
    time.sleep(0.3)
    check("second stop signal" not in sl.log(), f"one stop taken for two:\n{sl.tail()}")
    s.sendall(b"still")
    check(recv_exact(s, 5, t.timeout(5)) == b"still", "the connection was cut")
    s.close()
    check(sl.wait(t.timeout(5)) == 0, f"exit code {sl.rc}")
