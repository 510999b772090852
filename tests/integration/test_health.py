"""Health checks: a killed server goes DOWN and gets no traffic, comes back UP after `rise`;
backup servers take over only when every active one is down."""
import collections
import re

from harness import check, config, get_name, http_get, wait_for

CHECK = "check inter 100 fastinter 100 downinter 100 rise 2 fall 2"


def _names(port, n):
    """n sequential requests, each on a new connection; returns (Counter of names, failures)."""
    counts, failures = collections.Counter(), []
    for _ in range(n):
        try:
            counts[get_name(port)] += 1
        except (OSError, AssertionError) as e:
            failures.append(repr(e))
    return counts, failures


def test_server_down_and_up(t):
    bs = {n: t.backend(n) for n in ("h1", "h2", "h3")}
    port = t.free_port()
    sl = t.sluice(config(port, [f"{n} {b.addr} {CHECK}" for n, b in bs.items()]))
    counts, failures = _names(port, 30)
    check(not failures and set(counts) == {"h1", "h2", "h3"},
          f"before: {dict(counts)}, failures {failures[:3]}")

    h2_port = bs["h2"].port
    bs["h2"].kill()
    sl.wait_log(r"server app/h2 is DOWN", timeout=t.timeout(5))
    counts, failures = _names(port, 150)
    check(not failures, f"{len(failures)} of 150 connections failed after h2 was marked DOWN: "
          f"{failures[:3]}")
    check(counts["h2"] == 0 and counts["h1"] > 0 and counts["h3"] > 0,
          f"after h2 DOWN: {dict(counts)}")

    t.backend("h2", port=h2_port)  # same address again
    sl.wait_log(r"server app/h2 is UP", timeout=t.timeout(5))
    counts, failures = _names(port, 60)
    check(not failures, f"failures after h2 came back: {failures[:3]}")
    check(abs(counts["h2"] - 20) <= 8, f"after h2 UP, 60 requests: {dict(counts)} (h2 ~20)")
    down = sl.log().count("is DOWN")
    check(down == 1, f"expected exactly one DOWN transition, log has {down}")


def test_rise_needs_consecutive_checks(t):
    # rise 3 at inter 300ms: UP can not be announced sooner than ~2 intervals after restart.
    import time
    b = t.backend("r1")
    other = t.backend("r2")
    port = t.free_port()
    chk = "check inter 300 fastinter 300 downinter 300 rise 3 fall 1"
    sl = t.sluice(config(port, [f"r1 {b.addr} {chk}", f"r2 {other.addr} {chk}"]))
    p = b.port
    b.kill()
    sl.wait_log(r"server app/r1 is DOWN", timeout=t.timeout(5))
    t0 = time.monotonic()
    t.backend("r1", port=p)
    sl.wait_log(r"server app/r1 is UP", timeout=t.timeout(5))
    dt = time.monotonic() - t0
    check(dt >= 0.5, f"r1 went UP {dt:.2f}s after restart, but rise 3 x inter 300ms needs >= 0.6s")


def test_backup_takeover(t):
    act = {n: t.backend(n) for n in ("a1", "a2")}
    bk = t.backend("bk")
    port = t.free_port()
    sl = t.sluice(config(port, [f"{n} {b.addr} {CHECK}" for n, b in act.items()] +
                         [f"bk {bk.addr} backup"]))
    counts, failures = _names(port, 30)
    check(not failures and counts["bk"] == 0 and counts["a1"] > 0 and counts["a2"] > 0,
          f"all up: {dict(counts)}, failures {failures[:3]}")

    ports = {n: b.port for n, b in act.items()}
    act["a1"].kill()
    sl.wait_log(r"server app/a1 is DOWN", timeout=t.timeout(5))
    counts, failures = _names(port, 20)
    check(not failures and dict(counts) == {"a2": 20}, f"a1 down: {dict(counts)} {failures[:3]}")

    act["a2"].kill()
    sl.wait_log(r"server app/a2 is DOWN", timeout=t.timeout(5))
    counts, failures = _names(port, 30)
    check(not failures and dict(counts) == {"bk": 30},
          f"all actives down: {dict(counts)} (expected only bk), failures {failures[:3]}")

    for n, p in ports.items():
        t.backend(n, port=p)
    sl.wait_log(r"server app/a1 is UP", timeout=t.timeout(5))
    sl.wait_log(r"server app/a2 is UP", timeout=t.timeout(5))
    counts, failures = _names(port, 30)
    check(not failures and counts["bk"] == 0 and counts["a1"] > 0 and counts["a2"] > 0,
          f"actives back: {dict(counts)} (bk must be unused), failures {failures[:3]}")


def test_httpchk_status(t):
    # option httpchk with an expected status: /status/503 fails the check, / passes.
    b1, b2 = t.backend("c1"), t.backend("c2")
    port = t.free_port()
    text = config(port, [f"c1 {b1.addr} {CHECK}", f"c2 {b2.addr} {CHECK}"],
                  listen=["option = httpchk GET /status/503", "http-check expect status 200"])
    sl = t.sluice(text)
    sl.wait_log(r"server app/c1 is DOWN", timeout=t.timeout(5))
    sl.wait_log(r"server app/c2 is DOWN", timeout=t.timeout(5))
    port2 = t.free_port()
    text2 = config(port2, [f"c1 {b1.addr} {CHECK}"], name="ok",
                   listen=["option = httpchk GET /name", "http-check expect status 200"])
    sl2 = t.sluice(text2, name="sluice2")
    counts, failures = _names(port2, 10)
    check(not failures and dict(counts) == {"c1": 10}, f"{dict(counts)} {failures[:3]}")

    polls = [0]

    def check_accepts():  # c1's accepts minus our own /stats requests
        polls[0] += 1
        _, _, body = http_get(b1.port, "/stats")
        return int(re.search(rb"accepts=(\d+)", body).group(1)) - polls[0]
    a0 = check_accepts()
    wait_for(lambda: check_accepts() >= a0 + 5, t.timeout(5), "5 more health checks to c1")
    check("is DOWN" not in sl2.log(), "a server answering 200 was marked DOWN")


def test_source_hash_is_consistent_when_a_server_goes_down(t):
    # balance source is a Maglev table: losing one of 4 servers moves only its own clients.
    bs = {n: t.backend(n) for n in ("m1", "m2", "m3", "m4")}
    port = t.free_port()
    sl = t.sluice(config(port, [f"{n} {b.addr} {CHECK}" for n, b in bs.items()],
                         balance="source"))
    sources = [f"127.0.{i // 200}.{i % 200 + 1}" for i in range(60)]
    before = {src: get_name(port, source=src) for src in sources}
    used = collections.Counter(before.values())
    check(len(used) == 4, f"60 sources over 4 servers: {dict(used)}")
    victim = used.most_common(1)[0][0]
    bs[victim].kill()
    sl.wait_log(rf"server app/{victim} is DOWN", timeout=t.timeout(5))
    after = {src: get_name(port, source=src) for src in sources}
    moved = [s for s in sources if before[s] != victim and after[s] != before[s]]
    check(not moved, f"{len(moved)} clients of surviving servers were remapped: {moved[:5]}")
    check(all(after[s] != victim for s in sources), "a client still went to the DOWN server")
