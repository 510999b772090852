#!/usr/bin/env python3
"""Open N keep-alive HTTP connections, send one request on each, read its response, keep them idle.

Used by scripts/bench.sh for S5 (memory per idle connection). Prints "ready N" (N = connections
that got a complete 200 response) once every connection is idle, then waits until stdin is closed
or --hold seconds passed, and closes everything. Exit status 0 if all N succeeded, 1 otherwise.

    python3 bench/idle_conns.py --port 8080 -n 5000 [--host 127.0.0.1] [--hold 60]
"""
import argparse
import os
import resource
import select
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def read_response(sock, deadline):
    """Reads one response with a Content-Length body; returns True when it is a 200."""
    data = b""
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(data) >= head_end + 4 + length:
                return head[0].split(" ")[1] == "200"
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            return False
        data += chunk


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--hold", type=float, default=120.0, help="seconds to hold at most")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    socks, ok = [], 0
    deadline = time.monotonic() + 60
    try:
        for _ in range(args.n):
            s = socket.create_connection((args.host, args.port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
            s.sendall(REQUEST)
            if read_response(s, deadline):
                ok += 1
    except OSError as e:
        print(f"idle_conns: after {len(socks)} connections: {e}", file=sys.stderr)
    print(f"ready {ok}", flush=True)
    # Hold until the caller closes our stdin (or the hold time ends).
    end = time.monotonic() + args.hold
    while time.monotonic() < end:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, end - time.monotonic()))
        if r and not os.read(sys.stdin.fileno(), 4096):
            break
    for s in socks:
        s.close()
    return 0 if ok == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
