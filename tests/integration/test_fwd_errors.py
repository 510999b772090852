"""Forward proxy failures: 502 "cannot resolve NAME" for NXDOMAIN, 504 for an origin that never
answers the SYN (a loopback listener with a full accept queue), 502 for a refused port; and a DNS
server that never answers does not stall the other clients of the same worker.

Names resolve through the test's own dnsmasq (harness.Dnsmasq), never the system resolver; the
silent DNS server is a UDP socket of the test on 127.0.0.1 that reads and never answers."""
import socket
import threading
import time

from harness import (BufSock, Dnsmasq, black_hole, check, echo_origin_handler, fwd_config,
                     fwd_request, read_http_response, wait_for)


def test_fwd_nxdomain_502(t):
    dns = Dnsmasq(t)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port))
    st, _, body = fwd_request(port, "GET", "http://nothing-here.nx.test/x")
    check(st == 502, f"NXDOMAIN: status {st}, expected 502")
    check(b"cannot resolve nothing-here.nx.test" in body, f"502 page: {body!r}")
    st, _, body = fwd_request(port, "CONNECT", "gone.nx.test:443")
    check(st == 502 and b"cannot resolve gone.nx.test" in body,
          f"CONNECT to an NXDOMAIN name: {st} {body!r}")
    # a name under the local test domain that dnsmasq does not know is NXDOMAIN too
    st, _, body = fwd_request(port, "GET", "http://unknown-name.test/")
    check(st == 502 and b"cannot resolve unknown-name.test" in body, f"unknown name: {st}")
    logs = sl.wait_httplogs(3)
    check(all(lg["status"] == "502" for lg in logs), f"log statuses {[lg['status'] for lg in logs]}")


def test_fwd_blackholed_origin_504(t):
    dns = Dnsmasq(t)
    fport = black_hole(t)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, defaults=["timeout connect = 300ms"], lines=[
        f"http-request = deny if METH_CONNECT !{{ url_port 443 {fport} }}"]))
    t0 = time.monotonic()
    st, _, body = fwd_request(port, "GET", f"http://origin.test:{fport}/", timeout=t.timeout(5))
    dt = time.monotonic() - t0
    check(st == 504, f"black-holed origin: status {st} {body!r}, expected 504")
    check(0.25 <= dt <= 2.0 * t.scale, f"504 after {dt:.2f}s (timeout connect 300ms)")
    st, _, body = fwd_request(port, "CONNECT", f"origin.test:{fport}", timeout=t.timeout(5))
    check(st == 504, f"CONNECT to a black-holed origin: status {st} {body!r}, expected 504")
    for lg in sl.wait_httplogs(2):
        check(lg["status"] == "504" and lg["term"][:2] == "sC",
              f"log: status {lg['status']} term {lg['term']}, expected 504 sC")


def test_fwd_refused_port_502(t):
    dns = Dnsmasq(t)
    dead = t.free_port()  # nothing listens there
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, lines=[
        f"http-request = deny if METH_CONNECT !{{ url_port 443 {dead} }}"]))
    st, _, body = fwd_request(port, "GET", f"http://origin.test:{dead}/")
    check(st == 502, f"refused port: status {st}, expected 502")
    check(b"origin.test:%d" % dead in body, f"502 page does not name the origin: {body!r}")
    st, _, body = fwd_request(port, "CONNECT", f"origin.test:{dead}")
    check(st == 502, f"CONNECT to a refused port: status {st}, expected 502")
    logs = sl.wait_httplogs(2)
    check([lg["status"] for lg in logs] == ["502", "502"], f"log statuses {logs}")


def test_fwd_silent_dns_does_not_stall_worker(t):
    silent = t.track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    silent.bind(("127.0.0.1", 0))
    silent.settimeout(0.1)
    got = []
    stop = threading.Event()

    def swallow():  # reads queries and never answers
        while not stop.is_set():
            try:
                got.append(silent.recv(4096))
            except OSError:
                continue
    threading.Thread(target=swallow, daemon=True).start()
    try:
        dns = Dnsmasq(t, servers={"slow.test": f"127.0.0.1#{silent.getsockname()[1]}"})
        origin = t.pyserver("handler", handler=echo_origin_handler)
        port = t.free_port()
        t.sluice(fwd_config(port, dns.port, nbthread=1, defaults=["timeout connect = 5s"],
                            resolvers=["hold valid = 1s"]).replace(
            "timeout resolve = 500ms", "timeout resolve = 1s"))
        result = {}

        def slow_client():
            t0 = time.monotonic()
            try:
                result["resp"] = fwd_request(port, "GET", "http://x.slow.test/", timeout=t.timeout(15))
            except Exception as e:
                result["err"] = e
            result["dt"] = time.monotonic() - t0
        th = threading.Thread(target=slow_client, daemon=True)
        th.start()
        wait_for(lambda: got, t.timeout(5), "the query for x.slow.test to reach the silent server")
        # while it is pending: 20 requests for other names (each needs its own DNS answer)
        t0 = time.monotonic()
        for i in range(20):
            t1 = time.monotonic()
            st, _, _ = fwd_request(port, "GET", f"http://o{i}.origin.test:{origin.port}/",
                                   timeout=t.timeout(5))
            d = time.monotonic() - t1
            check(st == 200, f"request {i} during the pending lookup: {st}")
            check(d < 0.5 * t.scale, f"request {i} took {d:.2f}s while a lookup was pending")
        fast = time.monotonic() - t0
        check("dt" not in result, f"the slow request ended after {result.get('dt', 0):.2f}s, "
              f"before the 20 others ({fast:.2f}s): the test proves nothing")
        th.join(t.timeout(15))
        check("dt" in result, "the request for x.slow.test never ended")
        check("err" not in result, f"the slow request failed: {result.get('err')!r}")
        st, _, body = result["resp"]
        check(st in (502, 504), f"unanswered lookup: status {st} {body!r}, expected 504 (or 502)")
        check(result["dt"] >= 0.9, f"the unanswered lookup ended after only {result['dt']:.2f}s")
    finally:
        stop.set()
