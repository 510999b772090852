"""examples/quickstart.ini (what `make run` starts), with its ports moved to free ones: balancing
web1/web2 by weight, /api routed to api1, /admin denied, the Server-identifying X-Server field
hidden, the API rate limit answering 429 after 10 requests in 10 seconds, the tcp listener."""
import re

from harness import check, http_get


def test_quickstart_config_works(t):
    text = open("examples/quickstart.ini").read()
    backends = {}
    for name, port in (("web1", 9001), ("web2", 9002), ("api1", 9003)):
        backends[name] = t.backend(name)
        text = text.replace(f"127.0.0.1:{port}", backends[name].addr)
    ports = {}
    for port in (8080, 8081, 3128, 8404):
        ports[port] = t.free_port()
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{ports[port]}")
    text = text.replace("/tmp/sluice-quickstart.sock", f"{t.tmp}/qs.sock")
    check(not re.search(r"127\.0\.0\.1:(9001|9002|9003|8080|8081|3128|8404)\b", text),
          "a port of the quick-start was not moved")
    t.sluice(text)
    www = ports[8080]
    names = [http_get(www, "/name")[2] for _ in range(6)]
    check(names.count(b"web1") == 2 and names.count(b"web2") == 4,
          f"weights 1 and 2 over six requests: {names}")
    status, headers, body = http_get(www, "/api/name")
    check(status == 200 and body == b"api1", f"/api routed to api1: {status} {body!r}")
    check(not any(k.lower() == "x-server" for k in headers), f"X-Server not hidden: {headers}")
    check(http_get(www, "/admin")[0] == 403, "/admin denied")
    codes = [http_get(www, "/api/name")[0] for _ in range(11)]
    check(codes[:9] == [200] * 9 and codes[9:] == [429, 429],
          f"the 11th API request within 10 s and later get 429: {codes}")
    check(http_get(www, "/name")[0] == 200, "the limit is the API's only")
    check(http_get(ports[8081], "/name")[2] in (b"web1", b"web2"), "the tcp listener")
