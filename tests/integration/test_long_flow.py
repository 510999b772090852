"""A long flow writes its pipe out in 64 KiB pieces (RELAY_LONG_WRITE in net/relay.c): counted
with strace on a 24 MiB download through mode http, every write after the first 4 MiB asks for
at most 64 KiB; a 2 MiB body keeps one write per 256 KiB pipeful. Both arrive whole."""
import hashlib
import os
import re
import shutil
import subprocess

from harness import Skip, check, http_config, wait_for
from test_transfer import _pattern_sha256


def _worker_pids(pid):
    """sluice's process and its children (a master runs the workers in a child)."""
    pids = [pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def _download(t, port, path, size):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=t.timeout(60))
    c.request("GET", path)
    r = c.getresponse()
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    c.close()
    check(r.status == 200 and n == size, f"GET {path}: {r.status}, {n} bytes")
    check(h.hexdigest() == _pattern_sha256(size), f"GET {path}: body differs from the pattern")


def test_long_flow_writes_in_small_pieces(t):
    if not shutil.which("strace"):
        raise Skip("strace is not installed")
    b = t.backend("web")
    port = t.free_port()
    sl = t.sluice(http_config(port, {"app": [f"web {b.addr}"]}, nbthread=1))
    out = os.path.join(t.tmp, "strace.txt")
    argv = ["strace", "-f", "-qq", "-e", "trace=splice,recvfrom", "-o", out]
    for p in _worker_pids(sl.pid):
        argv += ["-p", str(p)]
    st = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def attached():
            _download(t, port, "/size/1", 1)  # a request traced once strace is in
            return os.path.exists(out) and "recvfrom(" in open(out).read()
        try:
            wait_for(attached, t.timeout(10), "strace attached to sluice")
        except AssertionError:
            raise Skip("strace cannot attach here: " + st.stderr.read1(200).decode(errors="replace"))

        def writes(start):
            """splice calls from a pipe to a socket made since byte `start` of the trace: their
            requested lengths (reads ask for a whole pipeful from the socket)."""
            text = open(out).read()[start:]
            return text, [int(m.group(1)) for m in re.finditer(
                r"splice\(\d+, NULL, \d+, NULL, (\d+), [^)]*\) = \d+", text)]
        mark = len(open(out).read())
        _download(t, port, "/size/2m", 2 << 20)
        text, short = writes(mark)
        mark += len(text)
        _download(t, port, "/size/24m", 24 << 20)
        _, long_ = writes(mark)
    finally:
        st.terminate()
        st.wait(t.timeout(10))
    check(short, "no splice at all for a 2 MiB body")
    check(sum(1 for n in short if n == 65536) <= 2 and len(short) <= 40,
          f"a 2 MiB body was not written in pipefuls: {len(short)} splices, lengths {short[:20]}")
    small = [n for n in long_ if n <= 65536]
    check(len(small) >= (20 << 20) // 65536,
          f"a 24 MiB body: {len(small)} splices of at most 64 KiB, expected at least "
          f"{(20 << 20) // 65536} after its first 4 MiB (all: {len(long_)})")
