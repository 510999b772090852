"""Helpers for sluice's integration tests: processes, ports, configs, clients, log parsing.

Every test gets a `T` (see run.py): a fresh temp dir plus methods that start the real binaries
(build/sluice, build/backend) with deadlines, track every child by PID and always reap it. All
traffic stays on 127.0.0.1 / ::1. Waiting is done by polling a condition with a deadline, never by
a fixed sleep; durations scale with T.scale (slower sanitizer builds).
"""
import atexit
import os
import random
import re
import select
import signal
import socket
import subprocess
import time

# Sanitizer reports that fail a test when found in a process's output.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")

PATTERN64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# tcplog: CLIENT [DATE] FRONTEND BACKEND/SERVER Tw/Tc/Tt BYTES TERM ac/fc/bc/sc/rc sq/bq
TCPLOG_RE = re.compile(
    r"^(?P<client>\S+) \[(?P<date>[^\]]+)\] (?P<frontend>\S+) (?P<backend>[^/\s]+)/(?P<server>\S+) "
    r"(?P<tw>-?\d+)/(?P<tc>-?\d+)/(?P<tt>-?\d+) (?P<bytes>\d+) (?P<term>\S\S) "
    r"(?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\d+) (?P<sq>\d+)/(?P<bq>\d+)$",
    re.M)

# httplog: CLIENT [DATE] FRONTEND BACKEND/SERVER TR/Tw/Tc/Tr/Ta STATUS BYTES CC CS TERM
#          ac/fc/bc/sc/rc sq/bq "REQUEST"
HTTPLOG_RE = re.compile(
    r"^(?P<client>\S+) \[(?P<date>[^\]]+)\] (?P<frontend>\S+) (?P<backend>[^/\s]+)/(?P<server>\S+) "
    r"(?P<treq>-?\d+)/(?P<tw>-?\d+)/(?P<tc>-?\d+)/(?P<tr>-?\d+)/(?P<ta>\+?-?\d+) "
    r"(?P<status>-?\d+) (?P<bytes>\+?\d+) (?P<req_cookie>\S+) (?P<resp_cookie>\S+) "
    r"(?P<term>\S{4}) (?P<ac>\d+)/(?P<fc>\d+)/(?P<bc>\d+)/(?P<sc>\d+)/(?P<rc>\+?\d+) "
    r"(?P<sq>\d+)/(?P<bq>\d+) (?P<captures>(?:\{[^}]*\} )*)\"(?P<request>[^\"]*)\"$",
    re.M)


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    pass


def xfail(reason):
    """Marks a test as an expected failure (a known sluice bug): it reports XFAIL when it fails
    and XPASS (counted as a failure, so the mark gets removed) when it passes."""
    def mark(fn):
        fn.xfail = reason
        return fn
    return mark


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


# ---- process bookkeeping -------------------------------------------------------------------

_live_pids = set()  # every child (or daemon) we started and have not reaped yet


def _kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


@atexit.register
def _kill_leftovers():
    for pid in list(_live_pids):
        _kill_pid(pid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    _live_pids.clear()


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def wait_for(cond, timeout, what, interval=0.01):
    """Polls cond() until it returns a truthy value (returned) or fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            fail(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)


def _file_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class Proc:
    """A child process whose stdout/stderr go to a file; killed and reaped by stop()/kill()."""

    def __init__(self, t, name, argv, logpath, stdout=None, env=None):
        self.t, self.name, self.argv, self.logpath = t, name, argv, logpath
        self.logf = open(logpath, "ab")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                      stdout=stdout if stdout is not None else self.logf,
                                      stderr=self.logf, env=env, close_fds=True)
        self.pid = self.popen.pid
        self.rc = None
        _live_pids.add(self.pid)
        t._procs.append(self)

    def running(self):
        if self.rc is None:
            rc = self.popen.poll()
            if rc is not None:
                self._reaped(rc)
        return self.rc is None

    def _reaped(self, rc):
        self.rc = rc
        _live_pids.discard(self.pid)
        self.logf.close()

    def wait(self, timeout):
        """Waits for exit; returns the exit code or None if still running after timeout."""
        if self.rc is not None:
            return self.rc
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reaped(rc)
        return rc

    def signal(self, sig):
        if self.running():
            _kill_pid(self.pid, sig)

    def kill(self):
        """SIGKILL and reap."""
        if self.running():
            _kill_pid(self.pid, signal.SIGKILL)
        self.wait(30)

    def stop(self, timeout=5.0):
        """SIGTERM, wait up to timeout, then SIGKILL. Returns the exit code of the SIGTERM path, or
        None when it had to be killed."""
        if not self.running():
            return self.rc
        self.signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
            return None
        return rc

    def log(self):
        return _file_text(self.logpath)

    def tail(self, n=30):
        lines = self.log().splitlines()
        return "\n".join(lines[-n:])


class Backend(Proc):
    """build/backend on 127.0.0.1 (port 0 by default); .port is the port it listens on."""

    def __init__(self, t, name="b1", mode="http", port=0, proxy_proto=False, nbytes=None,
                 addr="127.0.0.1", extra=()):
        argv = [t.backend_bin, "-l", f"{addr}:{port}", "-n", name, "--mode", mode]
        if proxy_proto:
            argv.append("--proxy-proto")
        if nbytes is not None:
            argv += ["--bytes", str(nbytes)]
        argv += list(extra)
        super().__init__(t, f"backend-{name}", argv, os.path.join(t.tmp, f"backend-{name}.log"),
                         stdout=subprocess.PIPE, env=t.env)
        self.backend_name = name
        self.port = self._read_ready(t.timeout(10))
        self.addr = f"{addr}:{self.port}"

    def _read_ready(self, timeout):
        fd = self.popen.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                fail(f"backend {self.backend_name} did not print 'ready PORT' within {timeout}s")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.wait(1)
                    fail(f"backend {self.backend_name} exited before ready (rc={self.rc}): "
                         f"{self.tail(5)}")
                buf += chunk
        m = re.match(rb"ready (\d+)", buf)
        check(m, f"backend printed {buf!r}, expected 'ready PORT'")
        return int(m.group(1))

    def _reaped(self, rc):
        super()._reaped(rc)
        if self.popen.stdout:
            self.popen.stdout.close()


class Sluice(Proc):
    """build/sluice -f CONFIG in the foreground, all output (log, sanitizer reports) to one file."""

    def __init__(self, t, config_text, name="sluice", args=(), wait=True):
        self.cfg_path = t.write(f"{name}.ini", config_text)
        argv = [t.sluice_bin, "-f", self.cfg_path] + list(args)
        super().__init__(t, name, argv, os.path.join(t.tmp, f"{name}.log"), env=t.env)
        self.expect_clean_exit = True
        if wait:
            self.wait_started()

    def wait_started(self, timeout=None):
        timeout = timeout or self.t.timeout(10)

        def started():
            if "started with" in self.log():
                return True
            if not self.running():
                fail(f"sluice exited during start-up (rc={self.rc})")
            return False
        wait_for(started, timeout, "sluice's 'started with N worker thread(s)' log line")

    def wait_log(self, pattern, timeout=None, count=1):
        """Waits until regex `pattern` matches at least `count` times; returns the matches."""
        rx = re.compile(pattern, re.M)
        timeout = timeout or self.t.timeout(10)

        def found():
            ms = list(rx.finditer(self.log()))
            return ms if len(ms) >= count else None
        return wait_for(found, timeout, f"{count} log line(s) matching {pattern!r}")

    def tcplogs(self):
        return [m.groupdict() for m in TCPLOG_RE.finditer(self.log())]

    def wait_tcplogs(self, n, timeout=None):
        """Waits until at least n tcplog lines were written; returns all of them."""
        return wait_for(lambda: (lambda ls: ls if len(ls) >= n else None)(self.tcplogs()),
                        timeout or self.t.timeout(10), f"{n} tcplog line(s)")

    def httplogs(self, text=None):
        return [m.groupdict() for m in HTTPLOG_RE.finditer(self.log() if text is None else text)]

    def wait_httplogs(self, n, timeout=None):
        """Waits until at least n httplog lines were written; returns all of them."""
        return wait_for(lambda: (lambda ls: ls if len(ls) >= n else None)(self.httplogs()),
                        timeout or self.t.timeout(10), f"{n} httplog line(s)")


class T:
    """The context handed to each test function."""

    def __init__(self, build, tmp, scale, sanitizer):
        self.build = os.path.abspath(build)
        self.tmp = tmp
        self.scale = scale
        self.sanitizer = sanitizer  # "asan", "tsan" or None
        self.sluice_bin = os.path.join(self.build, "sluice")
        self.backend_bin = os.path.join(self.build, "backend")
        self._procs = []
        self._socks = []
        self._pyservers = []
        self.env = dict(os.environ)
        self.env["ASAN_OPTIONS"] = ("abort_on_error=0:halt_on_error=1:detect_leaks=1:"
                                    "print_stacktrace=1")
        self.env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        self.env["TSAN_OPTIONS"] = "halt_on_error=0 second_deadlock_stack=1"

    # -- time and files --
    def timeout(self, seconds):
        """A deadline scaled for slow (sanitizer) builds."""
        return seconds * self.scale

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- processes --
    def backend(self, name="b1", **kw):
        return Backend(self, name, **kw)

    def sluice(self, config_text, **kw):
        return Sluice(self, config_text, **kw)

    def pyserver(self, mode, **kw):
        return PyServer(self, mode, **kw)

    def run(self, args, timeout=10, env=None):
        """Runs sluice with args to completion; returns CompletedProcess (text)."""
        return subprocess.run([self.sluice_bin] + list(args), capture_output=True, text=True,
                              timeout=self.timeout(timeout), env=env or self.env,
                              stdin=subprocess.DEVNULL)

    def adopt_pid(self, pid):
        """Tracks a process we did not fork directly (a daemon) so that it is killed at the end."""
        _live_pids.add(pid)
        self._adopted = getattr(self, "_adopted", []) + [pid]

    # -- network --
    _given_ports = set()

    def free_port(self):
        """A port nothing listens on, outside the ephemeral range (so an outgoing connection will
        not take it), and never handed out twice in this run."""
        rng = random.Random()
        for _ in range(500):
            p = rng.randrange(20000, 32000)
            if p in T._given_ports:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
            finally:
                s.close()
            T._given_ports.add(p)
            return p
        fail("no free port found")

    def track(self, sock):
        self._socks.append(sock)
        return sock

    def connect(self, port, host="127.0.0.1", timeout=None, source=None):
        """A tracked client socket connected to host:port (closed at the end of the test)."""
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = self.track(socket.socket(fam, socket.SOCK_STREAM))
        s.settimeout(timeout or self.timeout(5))
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        return s

    # -- end of test --
    def cleanup(self):
        """Closes every client socket, stops sluice (SIGTERM, exit 0 expected), kills backends,
        reaps everything. Returns a list of problems found (sanitizer reports, bad exit codes)."""
        problems = []
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass
        self._socks.clear()
        for srv in self._pyservers:
            srv.close()
        for p in self._procs:
            if isinstance(p, Sluice):
                was_running = p.running()
                rc = p.stop(self.timeout(5))
                if was_running and p.expect_clean_exit and rc != 0:
                    problems.append(f"{p.name} did not exit 0 on SIGTERM (rc={rc}"
                                    f"{', killed after ' + str(self.timeout(5)) + 's' if rc is None else ''})")
        for p in self._procs:
            if not isinstance(p, Sluice):
                p.stop(self.timeout(5))
        for pid in getattr(self, "_adopted", []):
            if pid_alive(pid):
                _kill_pid(pid)
                wait_for(lambda: not pid_alive(pid), 10, f"pid {pid} to die")
            _live_pids.discard(pid)
        for p in self._procs:
            text = p.log()
            for marker in SANITIZER_MARKERS:
                if marker in text:
                    problems.append(f"{p.name}: sanitizer report ({marker!r}) in {p.logpath}")
                    break
        for fn in os.listdir(self.tmp):
            if fn.startswith("san."):
                text = _file_text(os.path.join(self.tmp, fn))
                if any(m in text for m in SANITIZER_MARKERS):
                    problems.append(f"sanitizer report in {fn}")
        return problems

    def sluices(self):
        return [p for p in self._procs if isinstance(p, Sluice)]


# ---- in-process servers --------------------------------------------------------------------

class PyServer:
    """A tiny threaded TCP server on 127.0.0.1 (port 0) for behaviours build/backend lacks:
      "silent"       accepts and never reads nor writes (a server that does not answer)
      "echo_at_eof"  reads until EOF, then writes everything back, shuts down and closes
      "handler"      runs handler(sock, server) in a thread per connection (a hand-written HTTP
                     peer); OSError/EOFError end it quietly, other exceptions go to .errors
    .accepted counts connections; .conns holds the accepted sockets (closed by close())."""

    def __init__(self, t, mode, backlog=128, handler=None):
        import threading
        self.mode = mode
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.accepted = 0
        self.conns = []
        self.errors = []
        self._closed = False
        self.timeout = t.timeout(30)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        t._pyservers.append(self)

    def _serve(self):
        import threading
        while not self._closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            if self.mode == "echo_at_eof":
                threading.Thread(target=self._echo_at_eof, args=(c,), daemon=True).start()
            elif self.mode == "handler":
                threading.Thread(target=self._run_handler, args=(c,), daemon=True).start()

    def _run_handler(self, c):
        try:
            c.settimeout(self.timeout)
            self.handler(c, self)
        except (OSError, EOFError):
            pass
        except Exception as e:  # reported by the test that owns the server
            self.errors.append(e)
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _echo_at_eof(self, c):
        try:
            c.settimeout(self.timeout)
            data = bytearray()
            while True:
                chunk = c.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.errors.append(e)

    def close(self):
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                if self.mode == "handler":  # wakes a handler thread blocked in recv
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass


# ---- configs ------------------------------------------------------------------------------

def config(port, servers, balance="roundrobin", listen=(), defaults=(), global_=(), nbthread=2,
           name="app", bind_opts=""):
    """A one-proxy config: [global] with nbthread and log = stderr, [defaults] in tcp mode with
    short timeouts and tcplog, and [listen NAME] on 127.0.0.1:port with the given server lines
    ("b1 127.0.0.1:9001 weight 2"), extra listen lines and extra defaults/global lines."""
    g = [f"nbthread = {nbthread}", "log = stderr"] + list(global_)
    d = ["mode = tcp", "timeout connect = 2s", "timeout client = 30s", "timeout server = 30s",
         "option = tcplog"] + list(defaults)
    bind = f"127.0.0.1:{port}" + (f" {bind_opts}" if bind_opts else "")
    lst = [f"bind = {bind}", f"balance = {balance}"] + list(listen)
    lst += [f"server = {s}" for s in servers]
    return ("[global]\n" + "\n".join(g) + "\n\n[defaults]\n" + "\n".join(d) +
            f"\n\n[listen {name}]\n" + "\n".join(lst) + "\n")


def http_config(port, backends, frontend=(), defaults=(), global_=(), nbthread=2,
                default_backend=None, name="web"):
    """A mode http config: [global] (log = stderr), [defaults] in http mode with short timeouts and
    httplog, [frontend NAME] on 127.0.0.1:port with extra lines, and one [backend] per item of
    `backends` ({name: [items]}): an item containing " = " is a config line, any other a server
    ("s1 127.0.0.1:9001 cookie a"). default_backend: the first backend unless given."""
    g = [f"nbthread = {nbthread}", "log = stderr"] + list(global_)
    d = ["mode = http", "timeout connect = 2s", "timeout client = 30s", "timeout server = 30s",
         "option = httplog"] + list(defaults)
    names = list(backends)
    fe = [f"bind = 127.0.0.1:{port}",
          f"default_backend = {default_backend or names[0]}"] + list(frontend)
    text = ("[global]\n" + "\n".join(g) + "\n\n[defaults]\n" + "\n".join(d) +
            f"\n\n[frontend {name}]\n" + "\n".join(fe) + "\n")
    for b in names:
        lines = [x if " = " in x else f"server = {x}" for x in backends[b]]
        text += f"\n[backend {b}]\n" + "\n".join(lines) + "\n"
    return text



def recv_exact(sock, n, timeout):
    """Reads exactly n bytes (fails on EOF or deadline)."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while len(out) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"timed out reading {n} bytes (got {len(out)})")
        sock.settimeout(left)
        chunk = sock.recv(min(n - len(out), 1 << 20))
        if not chunk:
            fail(f"EOF after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def recv_until_eof(sock, timeout, limit=1 << 20):
    """Reads until EOF; returns (data, how) with how in "eof", "reset". Fails on deadline."""
    deadline = time.monotonic() + timeout
    out = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"timed out waiting for EOF (got {len(out)} bytes: {bytes(out[:80])!r})")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(out), "reset"
        except socket.timeout:
            continue
        if not chunk:
            return bytes(out), "eof"
        out += chunk
        if len(out) > limit:
            fail(f"more than {limit} bytes before EOF")


def parse_http(raw):
    """(status, headers{lower: value}, body) from a full HTTP/1.x response."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    check(sep, f"incomplete HTTP response: {raw[:200]!r}")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.\d (\d{3})", lines[0])
    check(m, f"bad status line {lines[0]!r}")
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        check(len(body) >= n, f"body shorter ({len(body)}) than Content-Length {n}")
        body = body[:n]
    return int(m.group(1)), headers, body


def read_response(sock, timeout):
    """Reads one HTTP response with a Content-Length from a keep-alive socket."""
    deadline = time.monotonic() + timeout
    raw = b""
    while b"\r\n\r\n" not in raw:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"timed out reading a response head (got {raw[:80]!r})")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        check(chunk, f"connection closed before the response head (got {raw[:80]!r})")
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    check(m, f"response without Content-Length: {head!r}")
    n = int(m.group(1))
    if len(body) < n:
        body += recv_exact(sock, n - len(body), max(0.01, deadline - time.monotonic()))
    return parse_http(head + b"\r\n\r\n" + body)


def http_get(port, path, host="127.0.0.1", timeout=5.0, prefix=b"", source=None):
    """One request on a new connection (Connection: close); returns (status, headers, body).
    `prefix` is sent first (a PROXY header). Raises OSError/TestFailure on failure."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        s.sendall(prefix + f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        raw, _ = recv_until_eof(s, timeout, limit=1 << 27)
    check(raw, f"GET {path}: connection closed without a response")
    return parse_http(raw)


def get_name(port, timeout=5.0, **kw):
    status, headers, body = http_get(port, "/name", timeout=timeout, **kw)
    check(status == 200, f"GET /name returned {status}")
    return body.decode()


def pattern_bytes(n, start=0):
    """n bytes of backend.c's body pattern starting at offset start."""
    reps = (start % 64 + n) // 64 + 2
    s = start % 64
    return (PATTERN64 * reps)[s:s + n]


def accept_backlog(port):
    """Connections waiting in the accept queue of the 127.0.0.1:port listener (None: no listener),
    from /proc/net/tcp: for a LISTEN socket, rx_queue is the accept queue length."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "0A" and local == f"0100007F:{port:04X}":
                return int(queues.split(":")[1], 16)
    return None


def hold(seconds):
    """A deliberate workload duration (a client keeping a connection busy), not a readiness wait."""
    time.sleep(seconds)


# ---- hand-written HTTP peers ----------------------------------------------------------------

class BufSock:
    """Buffered reads from a socket for hand-written HTTP clients and servers. Reads raise
    EOFError at EOF and socket.timeout after `timeout` seconds without progress."""

    def __init__(self, sock, timeout=10.0):
        self.sock, self.buf, self.timeout = sock, bytearray(), timeout

    def _fill(self):
        self.sock.settimeout(self.timeout)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError(f"EOF with {len(self.buf)} byte(s) buffered")
        self.buf += chunk

    def read_until(self, delim, limit=1 << 20):
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise EOFError(f"no {delim!r} within {limit} bytes")
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_available(self):
        """What is buffered, or one recv's worth when nothing is."""
        if not self.buf:
            self._fill()
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _parse_head(raw):
    lines = raw.decode("latin-1").split("\r\n")
    fields = []
    for ln in lines[1:]:
        if ln:
            k, _, v = ln.partition(":")
            fields.append((k, v.strip()))
    return lines[0], fields


def _field(fields, name):
    for k, v in fields:
        if k.lower() == name:
            return v
    return None


def _read_body(bs, fields):
    """(body, trailers, chunked) of a message whose head was read."""
    te = _field(fields, "transfer-encoding")
    if te and "chunked" in te.lower():
        body, trailers = bytearray(), []
        while True:
            size = int(bs.read_until(b"\r\n").split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    ln = bs.read_until(b"\r\n")
                    if ln == b"\r\n":
                        return bytes(body), trailers, True
                    k, _, v = ln.decode("latin-1").partition(":")
                    trailers.append((k, v.strip()))
            body += bs.read_exact(size)
            check(bs.read_exact(2) == b"\r\n", "chunk not followed by CRLF")
    cl = _field(fields, "content-length")
    return (bs.read_exact(int(cl)) if cl else b""), [], False


def read_request(bs):
    """Reads one request from a BufSock: a dict with method, target, version, fields (list of
    (name, value) in order), body (decoded), trailers, chunked, head (raw bytes)."""
    head = bs.read_until(b"\r\n\r\n", limit=1 << 16)
    start, fields = _parse_head(head[:-4])
    method, target, version = start.split(" ", 2)
    req = {"method": method, "target": target, "version": version, "fields": fields,
           "head": head}
    if (_field(fields, "expect") or "").lower() == "100-continue":
        req["body"], req["trailers"], req["chunked"] = None, [], False  # the handler decides
        return req
    req["body"], req["trailers"], req["chunked"] = _read_body(bs, fields)
    return req


def read_request_body(bs, req):
    """Reads the body of a request read_request left unread (Expect: 100-continue)."""
    req["body"], req["trailers"], req["chunked"] = _read_body(bs, req["fields"])
    return req


def header(fields, name):
    """The first value of header `name` (case-insensitive) in a list of (name, value), or None."""
    return _field(fields, name.lower())


def read_http_response(bs, head_request=False):
    """Reads one response from a BufSock: (status, fields, body). 1xx responses are returned
    as they come (the caller reads again for the final one)."""
    head = bs.read_until(b"\r\n\r\n", limit=1 << 16)
    start, fields = _parse_head(head[:-4])
    m = re.match(r"HTTP/1\.\d (\d{3})", start)
    check(m, f"bad status line {start!r}")
    status = int(m.group(1))
    if head_request or status < 200 or status in (204, 304):
        return status, fields, b""
    body, _, _ = _read_body(bs, fields)
    return status, fields, body


def http_response(status=200, body=b"", fields=(), reason="OK"):
    """A response with a Content-Length, as bytes."""
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in fields)
    return head.encode() + b"\r\n" + body


# ---- forward proxy: a local DNS server, configs, origins ------------------------------------

DNSMASQ = "/usr/sbin/dnsmasq"


def dns_query_packet(name, qtype=1, qid=0x5151):
    """A minimal DNS query (RD set) for name, type A by default."""
    import struct
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", qtype, 1)


def dns_ask(port, name, timeout=0.5, addr="127.0.0.1"):
    """Asks addr:port for name's A record over UDP: the reply's rcode, or None without a reply."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(dns_query_packet(name), (addr, port))
        try:
            data, _ = s.recvfrom(4096)
        except socket.timeout:
            return None
    return data[3] & 0x0F if len(data) >= 12 else None


def free_udp_port(t):
    """A port free for both TCP and UDP on 127.0.0.1 (a DNS server needs both)."""
    for _ in range(50):
        p = t.free_port()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            u.close()
        return p
    fail("no free UDP port found")


class Dnsmasq(Proc):
    """dnsmasq (Debian dnsmasq-base) in the foreground on 127.0.0.1:PORT, answering only from its
    command line: never the system's resolv.conf or hosts file, never an upstream server unless a
    `servers` entry names one for a domain (on loopback). `addresses` maps a domain (and all names
    below it) to a loopback address (or "127.0.0.1,::1" for an A and an AAAA answer); names under `nx` get NXDOMAIN; everything under `local` (default
    "test") is answered locally (NXDOMAIN when unknown), so no test name ever leaves the host.
    `servers` maps a domain to a loopback "IP#PORT" (e.g. a silent UDP socket). .queries(name)
    counts the queries dnsmasq logged for a name."""

    def __init__(self, t, addresses=None, nx=("nx.test",), servers=None, local=("test",),
                 name="dnsmasq", port=None):
        if not os.access(DNSMASQ, os.X_OK):
            raise Skip(f"{DNSMASQ} not installed (Debian dnsmasq-base; scripts/deps.sh)")
        self.port = port or free_udp_port(t)  # port: a stopped Dnsmasq's, to replace it
        addresses = addresses if addresses is not None else {"origin.test": "127.0.0.1"}
        argv = [DNSMASQ, "--keep-in-foreground", "--no-daemon", f"--port={self.port}",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--no-poll", "--conf-file=/dev/null", "--pid-file=", "--user=root",
                "--cache-size=0", "--log-queries", "--log-facility=-"]
        for dom in local:
            argv.append(f"--local=/{dom}/")
        for dom, ip in addresses.items():
            for a in ip.split(","):  # "127.0.0.1,::1": both an A and an AAAA answer
                check(a.startswith("127.") or a == "::1",
                      f"test DNS answers must be loopback, not {a}")
                argv.append(f"--address=/{dom}/{a}")
        for dom in nx:
            argv.append(f"--address=/{dom}/")
        for dom, srv in (servers or {}).items():
            check(srv.startswith("127."), f"test DNS upstreams must be loopback, not {srv}")
            argv.append(f"--server=/{dom}/{srv}")
        super().__init__(t, name, argv, os.path.join(t.tmp, f"{name}.log"), env=t.env)
        probe = next(iter(addresses), "ready.test")

        def answers():
            if not self.running():
                fail(f"dnsmasq exited during start-up (rc={self.rc}): {self.tail(5)}")
            return dns_ask(self.port, probe, 0.2) is not None
        wait_for(answers, t.timeout(10), f"dnsmasq on 127.0.0.1:{self.port} to answer")
        self.addr = f"127.0.0.1:{self.port}"

    def queries(self, name, qtype="A"):
        return len(re.findall(rf"query\[{qtype}\] {re.escape(name)} from", self.log()))


def fwd_config(port, dns_port, lines=(), defaults=(), global_=(), nbthread=2, name="proxy",
               resolvers=(), userlists=None):
    """A forward proxy config: [global] (log = stderr), [defaults] in http mode with short timeouts
    and httplog, [resolvers dns] asking only the test's dnsmasq on 127.0.0.1:dns_port (extra
    `resolvers` lines), one [userlist NAME] per item of `userlists` ({name: [lines]}) and
    [listen NAME] on 127.0.0.1:port with option http_proxy, resolvers dns and the extra lines."""
    g = [f"nbthread = {nbthread}", "log = stderr"] + list(global_)
    d = ["mode = http", "timeout connect = 2s", "timeout client = 30s", "timeout server = 30s",
         "timeout tunnel = 30s", "option = httplog"] + list(defaults)
    r = [f"nameserver = local 127.0.0.1:{dns_port}", "timeout resolve = 500ms",
         "resolve_retries = 2"] + list(resolvers)
    text = ("[global]\n" + "\n".join(g) + "\n\n[defaults]\n" + "\n".join(d) +
            "\n\n[resolvers dns]\n" + "\n".join(r) + "\n")
    for ul, ulines in (userlists or {}).items():
        text += f"\n[userlist {ul}]\n" + "\n".join(ulines) + "\n"
    lst = [f"bind = 127.0.0.1:{port}", "option = http_proxy", "resolvers = dns"] + list(lines)
    return text + f"\n[listen {name}]\n" + "\n".join(lst) + "\n"


def echo_origin_handler(sock, srv):
    """An HTTP origin for forward-proxy tests: answers every request on a keep-alive connection
    with the raw request head it received followed by the body, so a test sees the request line
    and fields exactly as the proxy sent them (Expect: 100-continue gets a 100 first). HEAD gets the same Content-Length and no body.
    Each request read is appended to srv.requests."""
    bs = BufSock(sock, srv.timeout)
    if not hasattr(srv, "requests"):
        srv.requests = []
    while True:
        req = read_request(bs)
        if req["body"] is None:  # Expect: 100-continue
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            read_request_body(bs, req)
        srv.requests.append(req)
        body = req["head"] + (req["body"] or b"")
        head = (f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n"
                f"Content-Type: text/plain\r\nX-Origin: echo\r\n\r\n").encode()
        sock.sendall(head if req["method"] == "HEAD" else head + body)


def fwd_request(port, method, target, fields=(), body=b"", timeout=5.0, source=None,
                head_request=False):
    """One request to a forward proxy on a new connection (Connection: close): the request line
    is sent as given (`GET http://origin.test:8080/x`, `CONNECT h:p`), with a Host field taken from
    the target unless `fields` has one. Returns (status, fields [(name, value)], body)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        m = re.match(r"(?i)^[a-z]+://([^/?]+)", target) if method != "CONNECT" else None
        auth = m.group(1) if m else target
        fl = list(fields)
        if not any(k.lower() == "host" for k, _ in fl):
            fl.insert(0, ("Host", auth))
        if body:
            fl.append(("Content-Length", str(len(body))))
        fl.append(("Connection", "close"))
        head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fl)
        s.sendall(head.encode() + b"\r\n" + body)
        bs = BufSock(s, timeout)
        return read_http_response(bs, head_request=head_request or method == "HEAD")


def black_hole(t):
    """A 127.0.0.1 listener whose accept queue is full, so that new SYNs are dropped and connect()
    hangs. Returns its port; raises Skip when the kernel still completes handshakes."""
    full = t.track(socket.socket())
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    fport = full.getsockname()[1]
    for _ in range(8):
        c = t.track(socket.socket())
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", fport))
    probe = t.track(socket.socket())
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", fport))
        raise Skip("a listener with a full backlog still completes handshakes here")
    except socket.timeout:
        pass
    finally:
        probe.close()
    return fport
