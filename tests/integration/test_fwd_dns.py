"""Forward proxy name resolution: answers are cached (no query per request; still served when the
DNS server is gone), expire after `hold valid` (a changed answer is used), and many lookups run
concurrently.

Names resolve through the test's own dnsmasq (harness.Dnsmasq), never the system resolver."""
import socket
import threading

from harness import (BufSock, Dnsmasq, check, echo_origin_handler, fwd_config, fwd_request,
                     read_request, wait_for)


def test_fwd_dns_answers_cached(t):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, nbthread=1, resolvers=["hold valid = 30s"]))
    name = "cached.origin.test"
    for i in range(10):
        st, _, _ = fwd_request(port, "GET", f"http://{name}:{origin.port}/{i}")
        check(st == 200, f"request {i}: {st}")
    n = dns.queries(name)
    check(1 <= n <= 2, f"dnsmasq answered {n} A queries for {name} over 10 requests (one worker): "
          "answers are not cached")
    dns.stop()
    st, _, body = fwd_request(port, "GET", f"http://{name}:{origin.port}/after")
    check(st == 200, f"cached name with the DNS server gone: {st} {body[:80]!r}")
    st, _, body = fwd_request(port, "GET", f"http://other.origin.test:{origin.port}/",
                              timeout=t.timeout(10))
    check(st in (502, 504), f"uncached name with the DNS server gone: {st}")


class _NamedOrigin:
    """An origin on ip:port answering every request with its name and closing the connection,
    so that no pooled origin connection hides which address a name resolved to."""

    def __init__(self, t, ip, port, name):
        self.sock = t.track(socket.socket())
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.name = name.encode()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                try:
                    c.settimeout(5)
                    read_request(BufSock(c, 5))
                    c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                              % (len(self.name), self.name))
                except (OSError, EOFError):
                    pass


def test_fwd_dns_hold_valid_expiry(t):
    a = _NamedOrigin(t, "127.0.0.1", 0, "A")
    b = _NamedOrigin(t, "127.0.0.5", a.port, "B")
    dns = Dnsmasq(t, addresses={"origin.test": "127.0.0.1", "moving.test": "127.0.0.1"})
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, nbthread=1, resolvers=["hold valid = 1s"]))
    url = f"http://moving.test:{a.port}/"
    st, _, body = fwd_request(port, "GET", url)
    check(st == 200 and body == b"A", f"before the change: {st} {body!r}")
    dns.stop()
    dns2 = Dnsmasq(t, addresses={"origin.test": "127.0.0.1", "moving.test": "127.0.0.5"},
                   port=dns.port, name="dnsmasq2")
    st, _, body = fwd_request(port, "GET", url)
    check(st == 200 and body == b"A", f"within hold valid the cached answer is used: {st} {body!r}")

    def moved():
        st, _, body = fwd_request(port, "GET", url)
        check(st == 200, f"status {st} while the answer changes")
        return body == b"B"
    wait_for(moved, t.timeout(5), "the new answer (127.0.0.5) after hold valid 1s")
    check(dns2.queries("moving.test") >= 1, "no new query reached the DNS server")


def test_fwd_dns_concurrent_lookups(t):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, nbthread=2))
    results = [None] * 40
    barrier = threading.Barrier(len(results))

    def client(i):
        try:
            barrier.wait(t.timeout(10))
            results[i] = fwd_request(port, "GET", f"http://n{i}.origin.test:{origin.port}/{i}",
                                     timeout=t.timeout(10))[0]
        except Exception as e:
            results[i] = repr(e)
    ths = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(results))]
    for th in ths:
        th.start()
    for th in ths:
        th.join(t.timeout(15))
    bad = {i: r for i, r in enumerate(results) if r != 200}
    check(not bad, f"concurrent requests for 40 distinct names: failures {bad}")
    targets = sorted(r["target"] for r in origin.requests)
    check(targets == sorted(f"/{i}" for i in range(40)), f"origin got {targets}")
