"""Balancing over real connections: weights (roundrobin, static-rr), leastconn, source, random."""
import collections
import socket

from harness import check, config, get_name, read_response, Skip

N = 600


def _weighted(t, balance):
    bs = [t.backend(f"w{i}") for i in (1, 2, 3)]
    port = t.free_port()
    t.sluice(config(port, [f"w{i} {b.addr} weight {i}" for i, b in zip((1, 2, 3), bs)],
                    balance=balance))
    counts = collections.Counter(get_name(port) for _ in range(N))
    want = {"w1": N / 6, "w2": N / 3, "w3": N / 2}
    tol = max(12, 0.04 * N)  # per-worker cursors may each be mid-cycle
    bad = {k: (counts[k], v) for k, v in want.items() if abs(counts[k] - v) > tol}
    check(not bad and sum(counts.values()) == N,
          f"{balance}: counts {dict(counts)} vs expected {want} (tolerance {tol:.0f})")


def test_roundrobin_weights(t):
    _weighted(t, "roundrobin")


def test_static_rr_weights(t):
    _weighted(t, "static-rr")


def _open_held(t, port):
    """A keep-alive connection that made one request; returns (socket, server name)."""
    s = t.connect(port)
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_response(s, t.timeout(5))
    check(status == 200, f"GET /name returned {status}")
    return s, body.decode()


def test_leastconn(t):
    bs = [t.backend(f"l{i}") for i in (1, 2, 3)]
    port = t.free_port()
    sl = t.sluice(config(port, [f"l{i} {b.addr}" for i, b in zip((1, 2, 3), bs)],
                         balance="leastconn"))
    held = [_open_held(t, port) for _ in range(6)]
    counts = collections.Counter(name for _, name in held)
    check(sorted(counts.values()) == [2, 2, 2],
          f"6 held connections over 3 servers: {dict(counts)} (expected 2 each)")
    # Free both slots of l2: the next two connections must go there.
    for s, name in held:
        if name == "l2":
            s.close()
    sl.wait_tcplogs(2)
    new = [_open_held(t, port)[1] for _ in range(2)]
    check(new == ["l2", "l2"], f"after closing l2's two connections, new ones went to {new}")


def test_source_affinity(t):
    bs = [t.backend(f"s{i}") for i in (1, 2, 3)]
    port = t.free_port()
    t.sluice(config(port, [f"s{i} {b.addr}" for i, b in zip((1, 2, 3), bs)], balance="source"))
    # Every 127.x.y.z address is local: different sources without leaving loopback.
    try:
        get_name(port, source="127.0.0.2")
    except OSError as e:
        raise Skip(f"cannot bind 127.0.0.2 as a source address: {e}")
    mapping = {}
    for i in range(1, 25):
        src = f"127.0.0.{i}"
        names = {get_name(port, source=src) for _ in range(5)}
        check(len(names) == 1, f"source {src} went to several servers: {names}")
        mapping[src] = names.pop()
    used = collections.Counter(mapping.values())
    check(len(used) >= 2, f"24 sources all hashed to one server: {dict(used)}")
    # Same answer again later (the table is stable).
    again = {src: get_name(port, source=src) for src in list(mapping)[:8]}
    check(all(mapping[s] == again[s] for s in again), f"mapping changed: {mapping} vs {again}")


def test_random_uses_all(t):
    bs = [t.backend(f"r{i}") for i in (1, 2, 3)]
    port = t.free_port()
    t.sluice(config(port, [f"r{i} {b.addr}" for i, b in zip((1, 2, 3), bs)], balance="random"))
    counts = collections.Counter(get_name(port) for _ in range(150))
    check(len(counts) == 3 and min(counts.values()) >= 20,
          f"random over 3 equal servers, 150 requests: {dict(counts)}")


def test_first(t):
    bs = [t.backend(f"f{i}") for i in (1, 2)]
    port = t.free_port()
    t.sluice(config(port, [f"f1 {bs[0].addr} maxconn 2", f"f2 {bs[1].addr} maxconn 2"],
                    balance="first"))
    seq = {get_name(port) for _ in range(20)}
    check(seq == {"f1"}, f"balance first, sequential: {seq} (expected only f1)")
    held = [_open_held(t, port)[1] for _ in range(3)]
    check(held == ["f1", "f1", "f2"], f"balance first with maxconn 2, 3 held: {held}")


def test_ipv6_bind(t):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        raise Skip(f"no ::1: {e}")
    b = t.backend("v6")
    port = t.free_port()
    text = config(port, [f"v6 {b.addr}"]).replace(f"bind = 127.0.0.1:{port}", f"bind = [::1]:{port}")
    t.sluice(text)
    check(get_name(port, host="::1") == "v6", "GET over [::1] failed")
