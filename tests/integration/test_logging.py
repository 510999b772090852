"""Log targets and process life: syslog over a unix datagram socket and over UDP (RFC 3164 and RFC
5424 parsed: PRI, host, tag, pid), HAProxy's `log stdout format raw` docker idiom, logrotate's
SIGUSR1 reopen, and systemd's sd_notify (READY=1 once listening, STOPPING=1 on SIGTERM) over a
NOTIFY_SOCKET the test listens on."""
import datetime
import os
import re
import signal
import socket
import threading

from harness import (TCPLOG_RE, check, config, hold, recv_exact, recv_until_eof, wait_for)

# <PRI>Mmm dd hh:mm:ss HOST sluice[PID]: MSG
RFC3164_RE = re.compile(r"^<(?P<pri>\d{1,3})>(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) "
                        r"(?P<host>\S+) (?P<tag>sluice)\[(?P<pid>\d+)\]: (?P<msg>.*)$", re.S)
# <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
RFC5424_RE = re.compile(r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<tag>sluice) "
                        r"(?P<pid>\d+) - - (?P<msg>.*)$", re.S)

LOCAL0, LOCAL3, LOCAL7 = 16, 19, 23
NOTICE, INFO = 5, 6


class DgramSink:
    """A datagram socket the test listens on (unix path, abstract "@name", or UDP 127.0.0.1:0);
    a thread collects every datagram. Closed by the harness at the end of the test."""

    def __init__(self, t, unix_path=None):
        if unix_path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind("\0" + unix_path[1:] if unix_path.startswith("@") else unix_path)
            self.addr = unix_path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.msgs = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        t._pyservers.append(self)  # closed with the test's other in-process servers

    def _run(self):
        while not self._closed:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            with self._lock:
                self.msgs.append(data.decode("utf-8", "replace"))

    def all(self):
        with self._lock:
            return list(self.msgs)

    def wait(self, pred, timeout, what, count=1):
        """Waits until `count` datagrams satisfy pred; returns them."""
        def found():
            got = [m for m in self.all() if pred(m)]
            return got if len(got) >= count else None
        return wait_for(found, timeout, what)

    def close(self):
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _parse(rx, m):
    p = rx.match(m)
    check(p, f"datagram {m!r} does not match {rx.pattern!r}")
    return p.groupdict()


def _echo_once(t, port, payload=b"hello"):
    s = t.connect(port)
    s.sendall(payload)
    check(recv_exact(s, len(payload), t.timeout(5)) == payload, "no echo through sluice")
    s.shutdown(socket.SHUT_WR)
    recv_until_eof(s, t.timeout(5))
    s.close()


def _syslog_sluice(t, log_line, sink, nbthread=2):
    """sluice logging to a syslog sink: waits for its start-up message there (stderr stays empty
    of it) and for the listener."""
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], global_=[log_line], nbthread=nbthread),
                  wait=False)
    started = sink.wait(lambda m: "started with" in m, t.timeout(10),
                        "the 'started with' message on the syslog socket")[0]
    return sl, port, started


def test_syslog_unix_rfc3164(t):
    sink = DgramSink(t, os.path.join(t.tmp, "log.sock"))
    # An existing socket path is a syslog target; the default format is rfc3164 as in HAProxy.
    sl, port, started = _syslog_sluice(t, f"log = {sink.addr} local0", sink)
    h = _parse(RFC3164_RE, started)
    check(int(h["pri"]) == LOCAL0 * 8 + NOTICE, f"PRI of a notice on local0: {h['pri']}")
    check(int(h["pid"]) == sl.pid, f"pid {h['pid']} in the tag, sluice is {sl.pid}")
    check(h["host"] == socket.gethostname(), f"host {h['host']!r}")
    check(h["msg"].startswith("sluice ") and not h["msg"].startswith("["),
          f"a syslog message carries no level prefix: {h['msg']!r}")
    check("started with" not in sl.log(), "the start-up message also went to stderr")
    for i in range(3):
        _echo_once(t, port, b"line %d" % i)
    logs = sink.wait(lambda m: TCPLOG_RE.search(m.split(": ", 1)[-1]), t.timeout(10),
                     "3 tcplog datagrams", count=3)
    for m in logs:
        h = _parse(RFC3164_RE, m)
        check(int(h["pri"]) == LOCAL0 * 8 + INFO, f"traffic logs are info: PRI {h['pri']}")
        check(int(h["pid"]) == sl.pid, "pid of a traffic datagram")
        check(TCPLOG_RE.match(h["msg"]), f"one tcplog line per datagram: {h['msg']!r}")
        check("\n" not in m, f"a datagram holds one line: {m!r}")
    check(sl.stop(t.timeout(5)) == 0, "sluice did not exit 0 on SIGTERM")
    sink.wait(lambda m: m.endswith(": stopped"), t.timeout(5), "the 'stopped' datagram")


def test_syslog_unix_rfc5424(t):
    sink = DgramSink(t, os.path.join(t.tmp, "s5424.sock"))
    sl, port, started = _syslog_sluice(
        t, f"log = unix@{sink.addr} format rfc5424 local3 info", sink)
    h = _parse(RFC5424_RE, started)
    check(int(h["pri"]) == LOCAL3 * 8 + NOTICE, f"PRI {h['pri']}")
    check(int(h["pid"]) == sl.pid, "procid is the pid")
    check(h["host"] == socket.gethostname(), f"host {h['host']!r}")
    ts = datetime.datetime.fromisoformat(h["ts"])
    check(ts.tzinfo is not None, f"timestamp {h['ts']} has an offset")
    now = datetime.datetime.now(datetime.timezone.utc)
    check(abs((now - ts).total_seconds()) < 60 * t.scale, f"timestamp {h['ts']} vs now {now}")
    _echo_once(t, port)
    m = sink.wait(lambda m: TCPLOG_RE.search(m.split(" - - ", 1)[-1]), t.timeout(10),
                  "a tcplog datagram")[0]
    h = _parse(RFC5424_RE, m)
    check(int(h["pri"]) == LOCAL3 * 8 + INFO, f"traffic PRI {h['pri']}")
    check(TCPLOG_RE.match(h["msg"]), f"tcplog line {h['msg']!r}")


def test_syslog_udp(t):
    sink = DgramSink(t)
    # HAProxy's plain IP:PORT form; `len` truncates each datagram, header included.
    sl, port, started = _syslog_sluice(t, f"log = {sink.addr} len 100 local7", sink)
    h = _parse(RFC3164_RE, started)
    check(int(h["pri"]) == LOCAL7 * 8 + NOTICE, f"PRI {h['pri']}")
    check(int(h["pid"]) == sl.pid, "pid")
    _echo_once(t, port)
    m = sink.wait(lambda m: re.search(r": 127\.0\.0\.1:\d+ \[", m), t.timeout(10),
                  "a tcplog datagram over UDP")[0]
    check(int(_parse(RFC3164_RE, m)["pri"]) == LOCAL7 * 8 + INFO, f"traffic PRI in {m!r}")
    lens = [len(x.encode()) for x in sink.all()]
    check(max(lens) <= 100, f"datagram lengths {lens} exceed len 100")
    check(100 in lens, f"no datagram was truncated to len 100: {lens}")

    # udp@ prefix, format raw: the bare line.
    sink2 = DgramSink(t)
    sl2, port2, started2 = _syslog_sluice(t, f"log = udp@{sink2.addr} format raw local0", sink2)
    check(started2.startswith("sluice "), f"raw datagram {started2!r}")
    _echo_once(t, port2)
    sink2.wait(lambda m: TCPLOG_RE.match(m), t.timeout(10), "a raw tcplog datagram")


def test_stdout_format_raw(t):
    """HAProxy's docker idiom: plain lines on stdout, as with `log = stdout`."""
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"], global_=["log = stdout format raw local0"]))
    _echo_once(t, port)
    lg = sl.wait_tcplogs(1)
    check(len(lg) == 1 and lg[0]["bytes"] == "5", f"tcplog on stdout: {lg}")
    check(re.search(r"^\[NOTICE\] +\(\d+\) : sluice ", sl.log(), re.M),
          "messages keep their level prefix on stdout")
    check("<" not in sl.log().split("\n", 1)[0], "a raw line has no syslog header")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_sigusr1_reopens_log_file(t):
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    path = os.path.join(t.tmp, "sluice-access.log")
    sl = t.sluice(config(port, [f"echo {b.addr}"], global_=[f"log = {path}"]), wait=False)
    wait_for(lambda: "started with" in _read(path), t.timeout(10), "start-up line in the file")
    _echo_once(t, port, b"first")
    wait_for(lambda: TCPLOG_RE.search(_read(path)), t.timeout(10), "the first tcplog line")

    os.rename(path, path + ".1")  # what logrotate does before postrotate
    sl.signal(signal.SIGUSR1)
    wait_for(lambda: "reopened" in _read(path), t.timeout(10),
             "the 'log file reopened' line in a new file at the original path")
    _echo_once(t, port, b"second!")
    new = wait_for(lambda: (lambda s: s if TCPLOG_RE.search(s) else None)(_read(path)),
                   t.timeout(10), "the second tcplog line in the new file")
    old = _read(path + ".1")
    old_logs = [m.groupdict() for m in TCPLOG_RE.finditer(old)]
    new_logs = [m.groupdict() for m in TCPLOG_RE.finditer(new)]
    check([x["bytes"] for x in old_logs] == ["5"], f"rotated file's tcplogs: {old_logs}")
    check([x["bytes"] for x in new_logs] == ["7"], f"new file's tcplogs: {new_logs}")
    check("received SIGUSR1" in old, "the rotated file does not say it was rotated")
    check("started with" not in new, "the new file repeats old lines")
    check(sl.running(), "sluice died on SIGUSR1")


def test_sd_notify_ready_and_stopping(t):
    sink = DgramSink(t, os.path.join(t.tmp, "notify.sock"))
    t.env["NOTIFY_SOCKET"] = sink.addr
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]), wait=False)
    ready = sink.wait(lambda m: "READY=1" in m, t.timeout(10), "READY=1 on NOTIFY_SOCKET")[0]
    fields = dict(line.split("=", 1) for line in ready.split("\n") if "=" in line)
    check(fields.get("MAINPID") == str(sl.pid), f"MAINPID in {ready!r}, sluice is {sl.pid}")
    # READY=1 comes after the listeners: the port accepts right away.
    _echo_once(t, port)
    check(not any("STOPPING=1" in m for m in sink.all()), "STOPPING=1 before any signal")
    sl.signal(signal.SIGTERM)
    sink.wait(lambda m: "STOPPING=1" in m, t.timeout(10), "STOPPING=1 after SIGTERM")
    check(sl.wait(t.timeout(10)) == 0, f"exit code {sl.rc} after SIGTERM")
    order = [m.split("\n", 1)[0] for m in sink.all()]
    check(order == ["READY=1", "STOPPING=1"], f"notifications in order: {order}")


def test_sd_notify_abstract_socket(t):
    name = "@sluice-test-notify-%d-%d" % (os.getpid(), id(t))
    sink = DgramSink(t, name)
    t.env["NOTIFY_SOCKET"] = name
    b = t.backend("echo", mode="echo")
    port = t.free_port()
    sl = t.sluice(config(port, [f"echo {b.addr}"]))
    sink.wait(lambda m: m.startswith("READY=1\nMAINPID=%d" % sl.pid), t.timeout(10),
              "READY=1 on an abstract NOTIFY_SOCKET")


def _thread_wakeups(pid, name):
    """Voluntary context switches of the threads called `name` in the worker process of `pid`."""
    total = 0
    for child in os.listdir("/proc"):
        if not child.isdigit():
            continue
        try:
            with open(f"/proc/{child}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) != pid:
                    continue
            for tid in os.listdir(f"/proc/{child}/task"):
                with open(f"/proc/{child}/task/{tid}/comm") as f:
                    if f.read().strip() != name:
                        continue
                with open(f"/proc/{child}/task/{tid}/status") as f:
                    total += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", f.read(),
                                           re.M).group(1))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def test_idle_logger_backs_off_without_traffic_logs(t):
    """No tcplog/httplog anywhere: the idle logger thread stops polling every 20 ms (it used to
    wake 50 times a second), and still writes a message and stops at once."""
    b = t.backend("b1")
    port = t.free_port()
    cfg = config(port, [f"b1 {b.addr}"]).replace("option = tcplog\n", "")
    sl = t.sluice(cfg)
    wait_for(lambda: _thread_wakeups(sl.pid, "sluice-log") > 0, t.timeout(5),
             "the worker process's logger thread")
    start = _thread_wakeups(sl.pid, "sluice-log")
    hold(2.0)  # the quantity measured is wake-ups over an idle interval
    woke = _thread_wakeups(sl.pid, "sluice-log") - start
    check(woke <= 20, f"the idle logger woke {woke} times in 2 s (20 ms polling would be ~100)")
    sl.signal(signal.SIGUSR1)  # a message through the rings, after the back-off
    sl.wait_log("received SIGUSR1", timeout=t.timeout(5))
    sl.stop()
    check("stopped" in sl.log(), f"no 'stopped' line: {sl.tail(5)}")
