/* L4 proxy: a session pairs a client socket with a server socket. It reads an optional PROXY
 * header, picks a server (queueing under maxconn), connects with retries and redispatch, then
 * hands both directions to net/relay.c. Events are edge-triggered; timeouts use one timer per
 * session, re-armed lazily from the sides' activity timestamps, so the data path never touches
 * the timer wheel. */
#include "net/tcp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pipe_pool.h"
#include "net/conn_rules.h"
#include "net/http/acl.h"
#include "net/proxy_proto.h"
#include "net/relay.h"
#include "net/sock.h"

enum sess_state { ST_PROXY_WAIT, ST_QUEUED, ST_CONNECTING, ST_RELAY, ST_CLOSED };

struct sess {
    struct session_link link;
    struct deferred dfr;
    struct queue_link qlink;
    struct loop_handler cli, srv; /* owned fds, -1 when closed */
    struct timer tmr;
    struct worker *w;         /* borrowed */
    struct frontend *fe;      /* borrowed */
    struct backend *be;       /* borrowed */
    struct server *sv;        /* borrowed; counted in sv->cur_conns while sv_counted */
    struct relay_side cs, ss; /* client and server socket readiness */
    struct relay_dir c2s, s2c;
    uint8_t state;
    char term[2]; /* HAProxy termination state, "--" when normal */
    bool sv_counted;
    bool have_cli_addr, have_fe_addr;
    int retries_left;
    int retries_done;
    uint64_t t_accept; /* coarse ms */
    uint64_t t_queued; /* when queued, 0 if never */
    uint64_t t_conn_start, t_conn_end;
    struct timespec accept_wall;
    union peer_addr cli_addr, fe_addr;
    struct stk_trackers trk; /* tcp-request connection track-sc entries */
};

static void sess_close(struct sess *s);
static void start_connect(struct sess *s, const struct server *avoid);
static void relay(struct sess *s);

static void set_term(struct sess *s, char who, char when)
{
    if (s->term[0] == '-') {
        s->term[0] = who;
        s->term[1] = when;
    }
}

static char state_letter(const struct sess *s)
{
    switch (s->state) {
    case ST_PROXY_WAIT:
        return 'R';
    case ST_QUEUED:
        return 'Q';
    case ST_CONNECTING:
        return 'C';
    default:
        return 'D';
    }
}

static void get_cli_addr(struct sess *s)
{
    if (s->have_cli_addr)
        return;
    socklen_t l = sizeof(s->cli_addr);
    if (getpeername(s->cli.fd, &s->cli_addr.sa, &l) < 0)
        s->cli_addr.sa.sa_family = AF_UNSPEC;
    s->have_cli_addr = true;
}

static void get_fe_addr(struct sess *s)
{
    if (s->have_fe_addr)
        return;
    socklen_t l = sizeof(s->fe_addr);
    if (getsockname(s->cli.fd, &s->fe_addr.sa, &l) < 0)
        s->fe_addr.sa.sa_family = AF_UNSPEC;
    s->have_fe_addr = true;
}

/* ---- timers ---------------------------------------------------------------------------- */

/* `timeout client`, or `timeout client-fin` once the connection is half-closed and the client
 * is the side sluice waits on: it was sent a FIN (it still owes its own), or it sent its FIN and
 * bytes wait for it to take them (HAProxy's half-closed timeouts). A client that closed its half
 * and is owed nothing is not waited on: the server's answer to it is timed by the server's
 * timeouts, however short client-fin is. */
static uint32_t client_timeout(const struct sess *s)
{
    const struct cfg_timeouts *t = &s->fe->cfg->timeout;
    bool half = relay_side_half_closed(&s->s2c, &s->c2s);
    return half && t->client_fin ? t->client_fin : t->client;
}

/* `timeout server`, or `timeout server-fin`: the same for the server's side. */
static uint32_t server_timeout(const struct sess *s)
{
    const struct cfg_timeouts *t = s->be ? &s->be->cfg->timeout : &s->fe->cfg->timeout;
    bool half = relay_side_half_closed(&s->c2s, &s->s2c);
    return half && t->server_fin ? t->server_fin : t->server;
}

/* The client's and the server's inactivity deadlines while relaying, UINT64_MAX for none. A side
 * is not timed while sluice has stopped reading it because the other side is not taking the
 * bytes (as in HAProxy): a client slower than `timeout server` must not lose its download, nor a
 * slow server the upload. A side waited on is timed from its own last activity; otherwise from
 * the last progress on either side, so that it gets its whole timeout again once the other has
 * drained. */
static void relay_deadlines(const struct sess *s, uint64_t *c, uint64_t *v)
{
    bool to_cli = relay_pending(&s->s2c), to_srv = relay_pending(&s->c2s);
    uint64_t either = s->cs.last > s->ss.last ? s->cs.last : s->ss.last;
    uint32_t tc = client_timeout(s), ts = server_timeout(s);
    *c = *v = UINT64_MAX;
    /* A side that sent its FIN and is owed no bytes has nothing left to do: it is not timed
     * (HAProxy), so a client that sent its request and half-closed waits for a server slower
     * than `timeout client`, which `timeout server` bounds. */
    bool cli_done = s->c2s.eof && !to_cli, srv_done = s->s2c.eof && !to_srv;
    if (tc && (!to_srv || to_cli) && !cli_done)
        *c = (to_cli ? s->cs.last : either) + tc;
    if (ts && (!to_cli || to_srv) && !srv_done)
        *v = (to_srv ? s->ss.last : either) + ts;
}

static uint64_t deadline_for(const struct sess *s)
{
    const struct cfg_timeouts *fto = &s->fe->cfg->timeout;
    const struct cfg_timeouts *bto = s->be ? &s->be->cfg->timeout : fto;
    switch (s->state) {
    case ST_PROXY_WAIT:
        return fto->client ? s->t_accept + fto->client : 0;
    case ST_QUEUED: {
        uint32_t q = bto->queue ? bto->queue : bto->connect;
        return q ? s->t_queued + q : 0;
    }
    case ST_CONNECTING:
        return bto->connect ? s->t_conn_start + bto->connect : 0;
    case ST_RELAY: {
        uint64_t c, v;
        relay_deadlines(s, &c, &v);
        uint64_t d = c < v ? c : v;
        return d == UINT64_MAX ? 0 : d;
    }
    default:
        return 0;
    }
}

static void arm_timer(struct sess *s)
{
    uint64_t d = deadline_for(s);
    if (d)
        timer_arm(&s->w->tw, &s->tmr, d);
    else
        timer_disarm(&s->w->tw, &s->tmr);
}

static void connect_failed(struct sess *s, int err, bool timeout);

static void on_timer(struct timer *t)
{
    struct sess *s = container_of(t, struct sess, tmr);
    uint64_t now = s->w->now;
    uint64_t d = deadline_for(s);
    if (d && d > now) { /* activity since arming: the lazy re-arm */
        timer_arm(&s->w->tw, &s->tmr, d);
        return;
    }
    switch (s->state) {
    case ST_PROXY_WAIT:
        set_term(s, 'c', 'R');
        sess_close(s);
        break;
    case ST_QUEUED:
        set_term(s, 's', 'Q');
        sess_close(s);
        break;
    case ST_CONNECTING:
        connect_failed(s, ETIMEDOUT, true);
        break;
    case ST_RELAY: {
        /* the side whose deadline passed first */
        uint64_t c, v;
        relay_deadlines(s, &c, &v);
        set_term(s, c <= v ? 'c' : 's', 'D');
        sess_close(s);
        break;
    }
    default:
        break;
    }
}

/* ---- closing and logging ------------------------------------------------------------------ */

static void tcplog(struct sess *s)
{
    char line[512], cli[64], date[64];
    get_cli_addr(s);
    sock_addr_str_log(&s->cli_addr.sa, cli, sizeof(cli));
    sock_log_date(&s->accept_wall, date, sizeof(date));
    uint64_t now = s->w->now;
    long tw = s->t_queued ? (long)((s->t_conn_start ? s->t_conn_start : now) - s->t_queued) : 0;
    if (!s->t_conn_start)
        tw = s->t_queued ? tw : -1;
    long tc = s->t_conn_end ? (long)(s->t_conn_end - s->t_conn_start) : -1;
    long tt = (long)(now - s->t_accept);
    int n = snprintf(
        line, sizeof(line), "%s [%s] %s %s/%s %ld/%ld/%ld %llu %c%c %d/%d/%d/%d/%d 0/%d\n", cli,
        date, s->fe->cfg->name, s->be ? s->be->cfg->name : s->fe->cfg->name,
        s->sv ? s->sv->cfg->name : "<NOSRV>", tw, tc, tt, (unsigned long long)s->s2c.bytes,
        s->term[0], s->term[1], atomic_load_explicit(&s->w->rt->live, memory_order_relaxed),
        atomic_load_explicit(&s->fe->live, memory_order_relaxed), 0,
        s->sv ? atomic_load_explicit(&s->sv->cur_conns, memory_order_relaxed) : 0, s->retries_done,
        s->be ? atomic_load_explicit(&s->be->queued, memory_order_relaxed) : 0);
    if (n > 0)
        log_traffic(s->w->id, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void release_server(struct sess *s)
{
    relay_side_closing(s->w, &s->ss);
    if (s->srv.fd >= 0) {
        sock_close(s->srv.fd, s->be && s->be->cfg->nolinger);
        s->srv.fd = -1;
    }
    if (s->sv_counted) {
        s->sv_counted = false;
        server_conn_closed(s->sv);
        worker_slot_freed(s->w, s->be);
    }
}

/* Statistics (core/stats.h): count a connection event on the backend and server sv. */
static void count_be(struct sess *s, const struct server *sv, enum stats_ctr c)
{
    struct stats_worker *sw = s->w->st;
    if (!sw || !s->be)
        return;
    size_t bi = (size_t)(s->be - s->w->rt->bal->backends);
    stats_add(stats_be(sw, bi), c, 1);
    if (sv)
        stats_add(stats_srv(sw, bi, sv->idx), c, 1);
}

/* Statistics: the session ends; add its bytes, and on the backend and server its session, its
 * aborts and its connect (Tc) and total (Tt) times. */
static void count_session(struct sess *s)
{
    struct stats_worker *sw = s->w->st;
    if (!sw)
        return;
    struct stats_counters *fe = stats_fe(sw, s->fe->idx);
    stats_add(fe, STC_BYTES_IN, s->c2s.bytes);
    stats_add(fe, STC_BYTES_OUT, s->s2c.bytes);
    if (!s->be || !(s->t_conn_start || s->t_queued))
        return; /* never reached a backend */
    size_t bi = (size_t)(s->be - s->w->rt->bal->backends);
    enum stats_ctr abrt = s->term[1] != 'D'   ? STC__N
                          : s->term[0] == 'C' ? STC_CLI_ABRT
                          : s->term[0] == 'S' ? STC_SRV_ABRT
                                              : STC__N;
    uint64_t now = s->w->now;
    struct stats_counters *cs[2] = {stats_be(sw, bi), s->sv ? stats_srv(sw, bi, s->sv->idx) : NULL};
    struct stats_lat_set *ls[2] = {stats_be_lat(sw, bi),
                                   s->sv ? stats_srv_lat(sw, bi, s->sv->idx) : NULL};
    for (unsigned i = 0; i < 2; i++) {
        if (!cs[i])
            continue;
        stats_add(cs[i], STC_SESS, 1);
        stats_add(cs[i], STC_BYTES_IN, s->c2s.bytes);
        stats_add(cs[i], STC_BYTES_OUT, s->s2c.bytes);
        if (abrt != STC__N)
            stats_add(cs[i], abrt, 1);
        if (s->t_conn_end && s->t_conn_end >= s->t_conn_start)
            stats_hist_add(&ls[i]->h[STL_CONNECT], (s->t_conn_end - s->t_conn_start) * 1000);
        stats_hist_add(&ls[i]->h[STL_TOTAL], (now > s->t_accept ? now - s->t_accept : 0) * 1000);
    }
}

static void sess_free(struct deferred *d)
{
    free(container_of(d, struct sess, dfr));
}

static void sess_close(struct sess *s)
{
    if (s->state == ST_CLOSED)
        return;
    if (s->state == ST_QUEUED) {
        queue_remove(&s->w->queues[s->be - s->w->rt->bal->backends], &s->qlink);
        atomic_fetch_sub_explicit(&s->be->queued, 1, memory_order_relaxed);
        s->w->queued--;
    }
    /* dontlognull: the client sent nothing (a probe, a scan); dontlog-normal: nothing went
     * wrong (termination "--") */
    const struct cfg_proxy *fp = s->fe->cfg;
    if (fp->tcplog && !(fp->dontlognull && s->c2s.bytes == 0) &&
        !(fp->dontlog_normal && s->term[0] == '-' && s->term[1] == '-'))
        tcplog(s);
    count_session(s);
    stktable_untrack_some(&s->trk, 0xff, (uint32_t)s->w->now);
    s->state = ST_CLOSED;
    timer_disarm(&s->w->tw, &s->tmr);
    relay_dir_release(s->w, &s->c2s);
    relay_dir_release(s->w, &s->s2c);
    relay_side_closing(s->w, &s->cs);
    if (s->cli.fd >= 0)
        sock_close(s->cli.fd, s->fe->cfg->nolinger);
    s->cli.fd = -1;
    release_server(s);
    worker_session_done(s->w, s->fe, &s->link);
    worker_defer_free(s->w, &s->dfr);
}

static int sess_describe(struct session_link *l, char *buf, size_t len)
{
    struct sess *s = container_of(l, struct sess, link);
    static const char *const st[] = {"PROXY", "QUEUED", "CONNECTING", "RELAY", "CLOSED"};
    char cli[64] = "-";
    if (s->have_cli_addr)
        sock_addr_str(&s->cli_addr.sa, cli, sizeof(cli));
    return snprintf(buf, len,
                    "%p: proto=tcp src=%s fe=%s be=%s srv=%s age=%llus state=%s "
                    "worker=%u bytes_in=%llu bytes_out=%llu",
                    (void *)s, cli, s->fe->cfg->name, s->be ? s->be->cfg->name : "-",
                    s->sv ? s->sv->cfg->name : "-",
                    (unsigned long long)((s->w->now - s->t_accept) / 1000),
                    s->state < 5 ? st[s->state] : "?", s->w->id, (unsigned long long)s->c2s.bytes,
                    (unsigned long long)s->s2c.bytes);
}

static void sess_abort(struct session_link *l)
{
    struct sess *s = container_of(l, struct sess, link);
    set_term(s, 'K', state_letter(s));
    sess_close(s);
}

/* ---- relaying ------------------------------------------------------------------------------ */

static void arm_timer(struct sess *s);

static void relay(struct sess *s)
{
    bool blocked = relay_pending(&s->c2s) || relay_pending(&s->s2c);
    uint32_t tc = client_timeout(s), ts = server_timeout(s);
    /* When the other way is finished too the session closes both sockets: close() sends the
     * FIN, so a shutdown() first would be a wasted syscall. */
    enum relay_res r = relay_pump(s->w, &s->c2s, &s->cs, &s->ss, s->s2c.shut);
    if (r != RELAY_IDLE) {
        set_term(s, r == RELAY_ERR_FROM ? 'C' : 'S', 'D');
        sess_close(s);
        return;
    }
    r = relay_pump(s->w, &s->s2c, &s->ss, &s->cs, s->c2s.shut);
    if (r != RELAY_IDLE) {
        set_term(s, r == RELAY_ERR_FROM ? 'S' : 'C', 'D');
        sess_close(s);
        return;
    }
    if (s->c2s.shut && s->s2c.shut) {
        sess_close(s);
        return;
    }
    /* A side's timeout pauses while the other is not taking bytes (deadline_for): once that
     * one drained, the next deadline may come before the armed one. A FIN that passed may
     * have switched a side to timeout client-fin / server-fin, which may come sooner too. */
    if (blocked || tc != client_timeout(s) || ts != server_timeout(s))
        arm_timer(s);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void on_srv_event(struct loop_handler *h, unsigned ev);

static void connected(struct sess *s)
{
    s->state = ST_RELAY;
    s->t_conn_end = s->w->now;
    s->cs.last = s->ss.last = s->w->now;
    s->ss.fd = s->srv.fd;
    s->ss.lh = &s->srv; /* batched writes report completion to on_srv_event */
    s->ss.wblocked = false;
    s->ss.readable = true;
    if (s->sv->cfg->send_proxy != CFG_PP_NONE) {
        get_cli_addr(s);
        get_fe_addr(s);
        char hdr[PP_V1_MAX + 64];
        size_t n;
        if (s->sv->cfg->send_proxy == CFG_PP_V1)
            n = pp_build_v1(hdr, sizeof(hdr), &s->cli_addr.sa, &s->fe_addr.sa);
        else
            n = pp_build_v2((uint8_t *)hdr, sizeof(hdr), &s->cli_addr.sa, &s->fe_addr.sa);
        /* Queued ahead of any client byte: the relay flushes pending bytes first. */
        if (relay_send(s->w, &s->c2s, &s->ss, hdr, n) < 0) {
            set_term(s, 'R', 'C');
            sess_close(s);
            return;
        }
    }
    arm_timer(s);
    relay(s);
}

static void connect_failed(struct sess *s, int err, bool timeout)
{
    struct server *failed = s->sv;
    if (s->state != ST_CONNECTING)
        return;
    count_be(s, failed, STC_ECON);
    if (err != ECONNREFUSED && !timeout)
        log_msg(LOG_LV_NOTICE, "connect() to %s/%s %s failed (%d: %s), retries left %d",
                s->be->cfg->name, failed->cfg->name, failed->cfg->addr_text, err, strerror(err),
                s->retries_left);
    release_server(s);
    if (s->retries_left <= 0) {
        set_term(s, timeout ? 's' : 'S', 'C');
        sess_close(s);
        return;
    }
    s->retries_left--;
    s->retries_done++;
    /* HAProxy's default `option redispatch` interval (-1): redispatch on the last retry. */
    bool redispatch = s->be->cfg->redispatch && s->retries_left == 0;
    count_be(s, failed, STC_RETR);
    if (redispatch)
        count_be(s, failed, STC_REDISP);
    if (redispatch || !server_is_up(failed)) {
        s->state = ST_PROXY_WAIT; /* transient: start_connect picks again */
        start_connect(s, failed);
        return;
    }
    s->state = ST_PROXY_WAIT;
    s->sv = failed;
    start_connect(s, NULL);
}

static void enqueue(struct sess *s)
{
    size_t bi = (size_t)(s->be - s->w->rt->bal->backends);
    s->state = ST_QUEUED;
    if (!s->t_queued)
        s->t_queued = s->w->now;
    queue_push(&s->w->queues[bi], &s->qlink);
    atomic_fetch_add_explicit(&s->be->queued, 1, memory_order_relaxed);
    s->w->queued++;
    arm_timer(s);
}

/* Connect to sv, whose slot the caller took with server_take_slot(). */
static void begin_connect_to(struct sess *s, struct server *sv)
{
    s->sv = sv;
    s->state = ST_CONNECTING;
    s->t_conn_start = s->w->now;
    s->sv_counted = true;
    int fd = sock_connect((const struct sockaddr *)&sv->cfg->addr, sv->cfg->addrlen);
    if (fd < 0) {
        connect_failed(s, -fd, false);
        return;
    }
    s->srv.fd = fd;
    s->srv.fn = on_srv_event;
    int rc = loop_add(s->w->loop, &s->srv);
    if (rc < 0) {
        connect_failed(s, -rc, false);
        return;
    }
    arm_timer(s);
}

/* The backend for this connection: the first use_backend whose condition holds (in mode tcp
 * they can test only the client address, the port and stick-table counters), else the
 * default. Then connect. */
static void route_and_connect(struct sess *s)
{
    const struct cfg_proxy *fp = s->fe->cfg;
    s->be = s->fe->be;
    if (fp->http.nuse_backends) {
        struct acl_ctx ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.method = ctx.target = ctx.path = "";
        get_cli_addr(s);
        get_fe_addr(s);
        ctx.src = &s->cli_addr.sa;
        ctx.dst_port = ntohs(s->fe_addr.sa.sa_family == AF_INET6 ? s->fe_addr.in6.sin6_port
                                                                 : s->fe_addr.in.sin_port);
        ctx.trk = &s->trk; /* sc*: the tcp-request connection trackers */
        ctx.now_ms = (uint32_t)s->w->now;
        for (size_t i = 0; i < fp->http.nuse_backends; i++) {
            const struct cfg_use_backend *u = &fp->http.use_backends[i];
            struct backend *b = balancer_find(s->w->rt->bal, u->backend);
            if (b && acl_cond_eval(&fp->http, &u->cond, &ctx)) {
                s->be = b;
                break;
            }
        }
    }
    if (!s->be) {
        set_term(s, 'S', 'C');
        sess_close(s);
        return;
    }
    s->retries_left = s->be->cfg->retries;
    start_connect(s, NULL);
}

static uint32_t client_hash(struct sess *s)
{
    if (s->be->cfg->balance != CFG_LB_SOURCE)
        return 0;
    get_cli_addr(s);
    if (s->cli_addr.sa.sa_family == AF_INET)
        return lb_hash_bytes(&s->cli_addr.in.sin_addr, 4);
    if (s->cli_addr.sa.sa_family == AF_INET6)
        return lb_hash_bytes(&s->cli_addr.in6.sin6_addr, 16);
    return 0;
}

/* Pick a server and connect; queue when all are full. `avoid`: redispatch away from it. When
 * s->sv is set and no avoid is given, retry that same server. */
static void start_connect(struct sess *s, const struct server *avoid)
{
    if (s->sv && !avoid && server_is_up(s->sv) && server_take_slot(s->sv)) {
        begin_connect_to(s, s->sv);
        return;
    }
    size_t bi = (size_t)(s->be - s->w->rt->bal->backends);
    struct server *sv = NULL;
    enum lb_result r = lb_pick(s->be, s->w->cursors[bi], client_hash(s), avoid, &sv);
    if (r == LB_OK && server_take_slot(sv)) {
        begin_connect_to(s, sv);
        return;
    }
    if (r == LB_OK || r == LB_FULL) {
        enqueue(s);
        return;
    }
    s->sv = NULL;
    set_term(s, 'S', 'C');
    sess_close(s);
}

bool tcp_proxy_dequeue(struct worker *w, struct queue_link *l)
{
    struct sess *s = container_of(l, struct sess, qlink);
    size_t bi = (size_t)(s->be - w->rt->bal->backends);
    struct server *sv = NULL;
    enum lb_result r = lb_pick(s->be, w->cursors[bi], client_hash(s), NULL, &sv);
    if (r == LB_FULL || (r == LB_OK && !server_take_slot(sv)))
        return false; /* stays first in line */
    queue_remove(&w->queues[bi], &s->qlink);
    atomic_fetch_sub_explicit(&s->be->queued, 1, memory_order_relaxed);
    w->queued--;
    if (r == LB_OK) {
        begin_connect_to(s, sv);
    } else {
        s->state = ST_PROXY_WAIT;
        s->sv = NULL;
        set_term(s, 'S', 'Q');
        sess_close(s);
    }
    return true;
}

/* ---- events -------------------------------------------------------------------------------- */

static void read_proxy_header(struct sess *s)
{
    uint8_t buf[PP_PEEK_MAX];
    ssize_t n = recv(s->cli.fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        set_term(s, 'C', 'R');
        sess_close(s);
        return;
    }
    if (n == 0) {
        set_term(s, 'C', 'R');
        sess_close(s);
        return;
    }
    struct pp_info info;
    int hl = pp_parse(buf, (size_t)n, &info);
    if (hl == 0 && (size_t)n < sizeof(buf))
        return; /* wait for the rest */
    if (hl <= 0) {
        char cli[64];
        get_cli_addr(s);
        log_msg(LOG_LV_NOTICE, "frontend %s: invalid PROXY protocol header from %s, closing",
                s->fe->cfg->name, sock_addr_str(&s->cli_addr.sa, cli, sizeof(cli)));
        set_term(s, 'P', 'R');
        sess_close(s);
        return;
    }
    /* Consume exactly the header; payload stays in the socket for the relay. */
    if (recv(s->cli.fd, buf, (size_t)hl, MSG_DONTWAIT) != hl) {
        set_term(s, 'C', 'R');
        sess_close(s);
        return;
    }
    if (!info.local) {
        memcpy(&s->cli_addr, &info.src, sizeof(s->cli_addr));
        memcpy(&s->fe_addr, &info.dst, sizeof(s->fe_addr));
        s->have_cli_addr = s->have_fe_addr = true;
    }
    s->cs.readable = true; /* bytes may have come with the header */
    route_and_connect(s);
}

static void on_cli_event(struct loop_handler *h, unsigned ev)
{
    struct sess *s = container_of(h, struct sess, cli);
    if (s->state == ST_CLOSED)
        return;
    if (ev & LOOP_ERR) {
        set_term(s, 'C', state_letter(s));
        sess_close(s);
        return;
    }
    if (ev & (LOOP_IN | LOOP_HUP))
        s->cs.readable = true;
    if (ev & LOOP_HUP)
        s->cs.hup = true;
    if (ev & LOOP_OUT)
        s->cs.wblocked = false;
    if (s->state == ST_PROXY_WAIT)
        read_proxy_header(s);
    else if (s->state == ST_RELAY)
        relay(s);
}

static void on_srv_event(struct loop_handler *h, unsigned ev)
{
    struct sess *s = container_of(h, struct sess, srv);
    if (s->state == ST_CLOSED)
        return;
    if (s->state == ST_CONNECTING) {
        int err = (ev & (LOOP_ERR | LOOP_HUP)) ? sock_error(s->srv.fd) : 0;
        if (err || (ev & LOOP_ERR)) {
            connect_failed(s, err ? err : ECONNREFUSED, false);
            return;
        }
        if (!(ev & (LOOP_OUT | LOOP_IN | LOOP_HUP)))
            return;
        if (ev & LOOP_HUP)
            s->ss.hup = true;
        connected(s);
        return;
    }
    if (ev & LOOP_ERR) {
        set_term(s, 'S', 'D');
        sess_close(s);
        return;
    }
    if (ev & (LOOP_IN | LOOP_HUP))
        s->ss.readable = true;
    if (ev & LOOP_HUP)
        s->ss.hup = true;
    if (ev & LOOP_OUT)
        s->ss.wblocked = false;
    if (s->state == ST_RELAY)
        relay(s);
}

void tcp_proxy_accept(struct worker *w, struct frontend *fe, unsigned bind, int fd,
                      const union peer_addr *peer)
{
    struct stk_trackers trk = {0};
    if (fe->cfg->http.nconn_rules && !conn_rules_accept(w, fe, bind, peer, &trk)) {
        conn_rules_rejected(w, fe, fd);
        return;
    }
    struct sess *s = calloc(1, sizeof(*s));
    if (!s) {
        stktable_untrack_some(&trk, 0xff, (uint32_t)w->now);
        worker_session_refused(w, fe, fd);
        return;
    }
    s->trk = trk;
    s->w = w;
    s->fe = fe;
    s->be = fe->be;
    s->cli.fd = fd;
    s->cli.fn = on_cli_event;
    s->cs.fd = fd;
    s->cs.lh = &s->cli; /* batched writes report completion to on_cli_event */
    s->srv.fd = -1;
    s->ss.fd = -1;
    relay_dir_init(&s->c2s, RELAY_UNLIMITED);
    relay_dir_init(&s->s2c, RELAY_UNLIMITED);
    s->term[0] = s->term[1] = '-';
    if (peer->sa.sa_family == AF_INET || peer->sa.sa_family == AF_INET6) {
        memcpy(&s->cli_addr, peer, sizeof(*peer));
        s->have_cli_addr = true;
    }
    s->link.abort = sess_abort;
    s->link.describe = sess_describe;
    s->qlink.retry = tcp_proxy_dequeue;
    s->dfr.free_fn = sess_free;
    s->t_accept = w->now;
    timer_init(&s->tmr, on_timer);
    if (fe->cfg->tcplog) {
        clock_gettime(CLOCK_REALTIME_COARSE, &s->accept_wall);
        get_cli_addr(s); /* now: after a reset the peer's address is gone */
    }
    atomic_fetch_add_explicit(&fe->total, 1, memory_order_relaxed);
    worker_session_begin(w, &s->link);
    int rc = loop_add(w->loop, &s->cli);
    if (rc < 0) {
        set_term(s, 'R', 'R');
        sess_close(s);
        return;
    }
    if (bind < fe->cfg->nbinds && fe->cfg->binds[bind].accept_proxy) {
        s->state = ST_PROXY_WAIT;
        arm_timer(s);
        return; /* the first IN edge brings the header */
    }
    s->state = ST_PROXY_WAIT;
    route_and_connect(s);
}
