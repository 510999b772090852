"""Forward proxy access control: `http-request deny` driven by the destination fetches (url_dom
with a -f domain list, url_port, url_ip) and by the client's address (src, tested from a second
loopback source address, 127.0.0.2) answers 403 without contacting the origin.

Names resolve through the test's own dnsmasq (harness.Dnsmasq), never the system resolver."""
from harness import Dnsmasq, check, echo_origin_handler, fwd_config, fwd_request

NAMES = {"origin.test": "127.0.0.1", "blocked.test": "127.0.0.1", "ads.test": "127.0.0.1",
         "unblocked.test": "127.0.0.1"}


def _requests(origin):
    return len(getattr(origin, "requests", []))


def test_fwd_deny_domains_from_file(t):
    dns = Dnsmasq(t, addresses=NAMES)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    lst = t.write("blocked-domains.txt", "blocked.test\n.ads.test\n")
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, lines=[f"acl = blocked url_dom -f {lst}",
                                                    "http-request deny = if blocked"]))
    p = origin.port
    for host in ("blocked.test", "www.blocked.test", "BLOCKED.Test", "ads.test", "x.y.ads.test"):
        st, _, body = fwd_request(port, "GET", f"http://{host}:{p}/")
        check(st == 403, f"GET http://{host}:{p}/ (listed domain): status {st}, expected 403")
    check(_requests(origin) == 0, "a request for a blocked domain reached the origin")
    st, _, _ = fwd_request(port, "CONNECT", "www.blocked.test:443")
    check(st == 403, f"CONNECT www.blocked.test:443: status {st}, expected 403")
    for host in ("origin.test", "unblocked.test"):
        st, _, _ = fwd_request(port, "GET", f"http://{host}:{p}/ok")
        check(st == 200, f"GET http://{host}:{p}/ok (not listed): status {st}, expected 200")
    check(_requests(origin) == 2, f"origin got {_requests(origin)} requests, expected 2")
    logs = sl.wait_httplogs(8)
    denied = [lg for lg in logs if lg["status"] == "403"]
    check(len(denied) == 6, f"{len(denied)} 403 log lines, expected 6: {logs}")


def test_fwd_deny_ports_and_ips(t):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    other = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, lines=[
        f"acl = badport url_port 25 {other.port}", "http-request deny = if badport",
        "http-request deny = if { url_ip 127.0.0.0/8 }"]))
    st, _, _ = fwd_request(port, "GET", f"http://origin.test:{other.port}/")
    check(st == 403, f"denied port {other.port}: status {st}, expected 403")
    st, _, _ = fwd_request(port, "GET", "http://origin.test:25/")
    check(st == 403, f"denied port 25: status {st}, expected 403")
    check(_requests(other) == 0, "a request for a denied port reached the origin")
    st, _, _ = fwd_request(port, "GET", f"http://127.0.0.1:{origin.port}/")
    check(st == 403, f"URL with a denied IP literal: status {st}, expected 403")
    st, _, _ = fwd_request(port, "GET", f"http://origin.test:{origin.port}/")
    check(st == 200, f"allowed port by name (url_ip is only the URL's literal): status {st}")
    check(_requests(origin) == 1, f"origin got {_requests(origin)} requests, expected 1")


def test_fwd_deny_clients_by_source(t):
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    port = t.free_port()
    sl = t.sluice(fwd_config(port, dns.port, lines=["acl = lan src 127.0.0.1",
                                                    "http-request deny = if !lan"]))
    url = f"http://origin.test:{origin.port}/who"
    st, _, body = fwd_request(port, "GET", url, source="127.0.0.2")
    check(st == 403, f"client 127.0.0.2 (not in the ACL): status {st}, expected 403")
    check(_requests(origin) == 0, "a denied client's request reached the origin")
    st, _, _ = fwd_request(port, "CONNECT", "origin.test:443", source="127.0.0.2")
    check(st == 403, f"CONNECT from 127.0.0.2: status {st}, expected 403")
    st, _, _ = fwd_request(port, "GET", url, source="127.0.0.1")
    check(st == 200, f"client 127.0.0.1 (in the ACL): status {st}, expected 200")
    logs = sl.wait_httplogs(3)
    by_client = {lg["client"].rsplit(":", 1)[0]: lg["status"] for lg in logs}
    check(by_client.get("127.0.0.2") == "403" and by_client.get("127.0.0.1") == "200",
          f"log lines per client: {by_client}")


def test_fwd_client_list_from_file(t):
    # src -f FILE (networks, one per line) as the client ACL
    dns = Dnsmasq(t)
    origin = t.pyserver("handler", handler=echo_origin_handler)
    nets = t.write("clients.txt", "127.0.0.2/32\n10.0.0.0/8\n")
    port = t.free_port()
    t.sluice(fwd_config(port, dns.port, lines=[f"acl = staff src -f {nets}",
                                               "http-request deny = unless staff"]))
    url = f"http://origin.test:{origin.port}/"
    st, _, _ = fwd_request(port, "GET", url, source="127.0.0.1")
    check(st == 403, f"127.0.0.1 (not listed): status {st}, expected 403")
    st, _, _ = fwd_request(port, "GET", url, source="127.0.0.2")
    check(st == 200, f"127.0.0.2 (listed): status {st}, expected 200")
