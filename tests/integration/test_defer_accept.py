"""bind ... defer-accept (TCP_DEFER_ACCEPT): a connection reaches sluice only once the client has
sent data; until then the kernel keeps it half-open (SYN-RECV on sluice's side), so sluice neither
accepts nor counts it. Without the option a connection is accepted as soon as it is open."""
import os
import signal
import socket
import subprocess

from harness import BufSock, check, http_config, read_http_response, wait_for
from test_cli_api import cli


def _cum_conns(sock):
    fields = dict(ln.split(": ", 1) for ln in cli(sock, "show info").splitlines() if ": " in ln)
    return int(fields["CumConns"])


def _syn_recv(port):
    out = subprocess.run(["ss", "-tnH", "state", "syn-recv", f"( sport = :{port} )"],
                         capture_output=True, text=True, timeout=10).stdout
    return len([ln for ln in out.splitlines() if ln.strip()])


def _start(t, bind_opts):
    b = t.backend("b1")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    text = http_config(port, {"app": [f"b1 {b.addr}"]},
                       global_=[f"stats socket = {sock} level admin"])
    text = text.replace(f"bind = 127.0.0.1:{port}", f"bind = 127.0.0.1:{port} {bind_opts}")
    t.sluice(text)
    return port, sock


def test_defer_accept_waits_for_data(t):
    port, sock = _start(t, "defer-accept")
    s = t.connect(port)
    wait_for(lambda: _syn_recv(port) == 1, t.timeout(5),
             "the silent connection half-open in the kernel (SYN-RECV)")
    check(_cum_conns(sock) == 0, "sluice accepted a connection that sent nothing")
    s.sendall(b"GET /name HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = read_http_response(BufSock(s))
    check(status == 200 and body == b"b1", f"request after the deferred accept: {status} {body!r}")
    check(_cum_conns(sock) == 1, f"CumConns {_cum_conns(sock)} after one request, expected 1")
    check(_syn_recv(port) == 0, "a connection is still half-open after its request")


def test_without_defer_accept_accepts_at_once(t):
    port, sock = _start(t, "")
    t.connect(port)
    wait_for(lambda: _cum_conns(sock) == 1, t.timeout(5),
             "the silent connection accepted without defer-accept")
    check(_syn_recv(port) == 0, "a half-open connection without defer-accept")


def _reload_adding_defer_accept(t, extra=""):
    """A running sluice without defer-accept, reloaded with it (plus `extra` config)."""
    b = t.backend("b1")
    port = t.free_port()
    sock = os.path.join(t.tmp, "admin.sock")
    good = http_config(port, {"app": [f"b1 {b.addr}"]},
                       global_=[f"stats socket = {sock} level admin"])
    sl = t.sluice(good)
    new = good.replace(f"bind = 127.0.0.1:{port}", f"bind = 127.0.0.1:{port} defer-accept")
    with open(sl.cfg_path, "w") as f:
        f.write(new + extra)
    sl.signal(signal.SIGHUP)
    return port, sock, sl


def test_defer_accept_follows_a_reload(t):
    port, sock, sl = _reload_adding_defer_accept(t)
    sl.wait_log(r"reload complete")
    t.connect(port)
    wait_for(lambda: _syn_recv(port) == 1, t.timeout(5),
             "a silent connection half-open after the reload added defer-accept")


def test_failed_reload_keeps_running_listener_options(t):
    """The reload fails (a new frontend's port is taken): the serving generation's shared
    listener must keep accepting at once, not start deferring."""
    blocker = t.track(socket.socket())
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    busy = blocker.getsockname()[1]
    port, sock, sl = _reload_adding_defer_accept(
        t, f"\n[frontend extra]\nbind = 127.0.0.1:{busy}\ndefault_backend = app\n")
    sl.wait_log(r"reload failed")
    t.connect(port)
    # Checked at once: a deferred connection is accepted anyway after one SYN-ACK retransmission
    # (~1 s). On loopback the handshake's last ACK is processed before connect() returns.
    check(_syn_recv(port) == 0, "the failed reload left defer-accept on the running listener")
    wait_for(lambda: _cum_conns(sock) == 1, t.timeout(5),
             "the silent connection accepted by the running configuration")
