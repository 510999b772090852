/* HTTP/1.1 reverse proxy stream. A stream is one client connection; it handles its requests one
 * after another (pipelined bytes wait in the input buffer). For each request:
 *   read and parse the head in place → evaluate http-request rules and use_backend → pick a
 *   server → take an idle pooled connection or connect → send the rewritten head plus the body
 *   bytes read with it → relay the rest of the body (splice for large Content-Length bodies,
 *   copies through the chunk decoder for chunked ones) → read and parse the response head →
 *   http-response rules → send the rewritten head → relay the body the same way → log → keep
 *   both connections for the next request when HTTP allows.
 * Heads are parsed again from the buffer rather than kept parsed: the index is large (per
 * message ~1.3 KiB) and lives in one thread-local scratch, so an idle keep-alive stream holds
 * no buffer and no index. */
#include "net/http/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "balancer/lb.h"
#include "core/log.h"
#include "net/conn_rules.h"
#include "net/http/acl.h"
#include "net/http/auth.h"
#include "net/http/errors.h"
#include "net/http/fmt.h"
#include "net/http/out.h"
#include "net/http/parse.h"
#include "net/http/pool.h"
#include "net/http/rewrite.h"
#include "net/http/stats_page.h"
#include "net/http/track.h"
#include "net/http/vars.h"
#include "net/proxy_proto.h"
#include "net/relay.h"
#include "net/sock.h"

#include "net/http/stream_int.h"

static _Thread_local struct http_msg tl_msg;
/* The request re-parsed for http-response rules while tl_msg holds the response. */
static _Thread_local struct http_msg tl_req_msg;
/* Request targets rewritten by set-path / replace-path / set-query: a rewrite reads the current
 * target (the client's, in rbuf, or an earlier rewrite's, in one of these) and writes the other.
 * The request is built in the same call, so nothing needs them longer (see struct hdr_edits). A
 * rewritten target is at most as long as a target the parser accepts. */
static _Thread_local char tl_target[2][HTTP_TARGET_MAX];

_Static_assert(HTTP_MAX_HDRS_CAP >= CFG_MAXHDR_MAX, "the parse index holds tune.http.maxhdr's max");

/* The worker's parse index, with the configured field limit (tune.http.maxhdr). */
static struct http_msg *parse_index(struct hs *h, struct http_msg *m)
{
    m->max_hdr = (unsigned)h->w->rt->cfg->maxhdr;
    return m;
}

/* A new request begins (its first bytes read, or found pipelined in rbuf): its own log line and
 * timers. */
static void request_begins(struct hs *h)
{
    h->logged = false;
    h->err_counted = false;
    http_track_begin(&h->trk, (uint32_t)h->w->now);
    h->t_req = h->w->now;
    clock_gettime(CLOCK_REALTIME_COARSE, &h->req_wall);
}

void http__close(struct hs *h);
static void hs_read_request(struct hs *h);
void http__progress(struct hs *h);
static void hs_start_server(struct hs *h, const struct server *avoid);
void http__on_srv_event(void *owner, struct srv_conn *sc, unsigned ev);

/* ---- small helpers ------------------------------------------------------------------------- */

static const struct cfg_http *fe_http(const struct hs *h)
{
    return &h->fe->cfg->http;
}

/* The proxy section whose backend settings apply: the backend, or the frontend itself for a
 * forward proxy (which has no backend). */
static const struct cfg_proxy *be_cfg(const struct hs *h)
{
    return h->be ? h->be->cfg : h->fe->cfg;
}

void http__set_term(struct hs *h, char who, char when)
{
    if (h->term[0] == '-') {
        h->term[0] = who;
        h->term[1] = when;
    }
}

static size_t be_index(const struct hs *h)
{
    return (size_t)(h->be - h->w->rt->bal->backends);
}

void http__cli_addr(struct hs *h)
{
    if (h->have_cli_addr)
        return;
    socklen_t l = sizeof(h->cli_addr);
    if (getpeername(h->cli.fd, &h->cli_addr.sa, &l) < 0)
        h->cli_addr.sa.sa_family = AF_UNSPEC;
    h->have_cli_addr = true;
}

/* The address the client connected to: the PROXY header's destination after accept-proxy,
 * else the socket's local address (one getsockname per connection, when first asked). */
static const struct sockaddr *dst_addr(struct hs *h)
{
    if (!h->have_dst_addr) {
        socklen_t l = sizeof(h->dst_addr);
        if (getsockname(h->cli.fd, &h->dst_addr.sa, &l) < 0)
            h->dst_addr.sa.sa_family = AF_UNSPEC;
        h->have_dst_addr = true;
    }
    return &h->dst_addr.sa;
}

static bool buf_get(struct hs *h, char **b)
{
    if (!*b)
        *b = worker_buf_get(h->w);
    return *b != NULL;
}

static void buf_put(struct hs *h, char **b)
{
    worker_buf_put(h->w, *b);
    *b = NULL;
}

void http__release_slot(struct hs *h)
{
    if (h->slot) {
        h->slot = false;
        server_conn_closed(h->sv);
        worker_slot_freed(h->w, h->be);
    }
}

void http__drop_server_conn(struct hs *h)
{
    if (h->sc) {
        srv_conn_close(h->sc);
        h->sc = NULL;
    }
}

static void drop_private_conn(struct hs *h)
{
    srv_conn_close(h->priv);
    h->priv = NULL;
}

struct srv_conn *http__take_private(struct hs *h, const struct server *sv, const char *origin)
{
    struct srv_conn *sc = h->priv;
    if (sc && (origin ? sc->origin && strcmp(sc->origin, origin) == 0 : sc->sv == sv)) {
        h->priv = NULL;
        return sc;
    }
    drop_private_conn(h);
    return NULL;
}

/* ---- timers --------------------------------------------------------------------------------- */

/* The client's and the server's inactivity deadlines during an exchange, UINT64_MAX for none.
 * While bytes wait for one side to take them, sluice stops reading the other: that side's
 * silence is then ours, and its timeout pauses (as in HAProxy). Inactivity is counted from the
 * last progress on either side, so a side gets its whole timeout again once the other has
 * drained. */
static void exchange_deadlines(const struct hs *h, uint64_t *c, uint64_t *s)
{
    uint32_t tc = h->fe->cfg->timeout.client, ts = be_cfg(h)->timeout.server;
    uint64_t sl = h->sc ? h->sc->side.last : 0;
    uint64_t last = h->cs.last > sl ? h->cs.last : sl;
    bool to_client = relay_pending(&h->s2c), to_server = relay_pending(&h->c2s);
    *c = *s = UINT64_MAX;
    if (!h->req_done && tc && (!to_server || to_client))
        *c = last + tc;
    if (ts && h->sc && (!to_client || to_server))
        *s = last + ts;
    if (tc && to_client)
        *c = h->cs.last + tc;
}

/* A tunnel's timeouts: `timeout tunnel` (the backend's, else the frontend's), else timeout client
 * / server; a side sluice waits on once the tunnel is half-closed is timed by timeout client-fin /
 * server-fin when set (HAProxy): one that was sent a FIN (it still owes its own), or one that sent
 * its FIN while bytes wait for it to take them. A side that closed its half and is owed nothing is
 * not the one waited on: the other side's answer to it is timed by the other's timeouts. */
static void tunnel_timeouts(const struct hs *h, uint32_t *ct, uint32_t *st)
{
    const struct cfg_proxy *fp = h->fe->cfg, *bp = be_cfg(h);
    uint32_t t = bp->http.timeout_tunnel ? bp->http.timeout_tunnel : fp->http.timeout_tunnel;
    *ct = t ? t : fp->timeout.client;
    *st = t ? t : bp->timeout.server;
    if (fp->timeout.client_fin && relay_side_half_closed(&h->s2c, &h->c2s))
        *ct = fp->timeout.client_fin;
    if (bp->timeout.server_fin && relay_side_half_closed(&h->c2s, &h->s2c))
        *st = bp->timeout.server_fin;
}

/* Each side of a tunnel is timed from its own last activity; UINT64_MAX for none. */
static void tunnel_deadlines(const struct hs *h, uint64_t *c, uint64_t *s)
{
    uint32_t ct, st;
    tunnel_timeouts(h, &ct, &st);
    *c = ct ? h->cs.last + ct : UINT64_MAX;
    *s = st && h->sc ? h->sc->side.last + st : UINT64_MAX;
}

static uint64_t deadline_for(const struct hs *h)
{
    const struct cfg_proxy *fp = h->fe->cfg;
    const struct cfg_proxy *bp = be_cfg(h);
    uint32_t tc = fp->timeout.client;
    switch (h->state) {
    case HS_REQ_WAIT: {
        uint32_t hr = fp->http.timeout_http_request ? fp->http.timeout_http_request : tc;
        if (h->rlen == 0 && !h->first) {
            uint32_t ka = fp->http.timeout_http_keep_alive ? fp->http.timeout_http_keep_alive : hr;
            return ka ? h->t_idle_from + ka : 0;
        }
        uint64_t from = h->rlen ? h->t_req : h->t_accept;
        return hr ? from + hr : 0;
    }
    case HS_PROXY_WAIT: {
        uint32_t hr = fp->http.timeout_http_request ? fp->http.timeout_http_request : tc;
        return hr ? h->t_accept + hr : 0;
    }
    case HS_AUTH_WAIT: {
        uint32_t hr = fp->http.timeout_http_request ? fp->http.timeout_http_request : tc;
        return hr ? h->t_req + hr : 0;
    }
    case HS_TARPIT: { /* HAProxy: the timeout tarpit of the rule's proxy, else its connect */
        const struct cfg_proxy *px = h->tarpit_be ? bp : fp;
        uint32_t t = px->http.timeout_tarpit ? px->http.timeout_tarpit : px->timeout.connect;
        return h->t_req_head + (t ? t : 1);
    }
    case HS_RESOLVING:
        return bp->timeout.connect ? h->t_conn + bp->timeout.connect : 0;
    case HS_QUEUED: {
        uint32_t q = bp->timeout.queue ? bp->timeout.queue : bp->timeout.connect;
        return q ? h->t_queue + q : 0;
    }
    case HS_CONNECTING:
        return bp->timeout.connect ? h->t_conn + bp->timeout.connect : 0;
    case HS_EXCHANGE: {
        uint64_t c, s;
        exchange_deadlines(h, &c, &s);
        uint64_t d = c < s ? c : s;
        return d == UINT64_MAX ? 0 : d;
    }
    case HS_TUNNEL: {
        uint64_t c, s;
        tunnel_deadlines(h, &c, &s);
        uint64_t d = c < s ? c : s;
        return d == UINT64_MAX ? 0 : d;
    }
    case HS_LINGER:
        return h->cs.last + HS_LINGER_MS;
    default:
        return 0;
    }
}

void http__arm_timer(struct hs *h)
{
    uint64_t d = deadline_for(h);
    if (d)
        timer_arm(&h->w->tw, &h->tmr, d);
    else
        timer_disarm(&h->w->tw, &h->tmr);
}

void http__reply_error(struct hs *h, int status);
static void connect_failed(struct hs *h, int err, bool timeout);
static bool retry_request(struct hs *h, unsigned why);

static void on_timer(struct timer *t)
{
    struct hs *h = container_of(t, struct hs, tmr);
    uint64_t d = deadline_for(h);
    if (d && d > h->w->now) {
        timer_arm(&h->w->tw, &h->tmr, d);
        return;
    }
    switch (h->state) {
    case HS_PROXY_WAIT:
        http__set_term(h, 'c', 'R');
        http__close(h);
        break;
    case HS_AUTH_WAIT:
        auth_cancel(h->w, h);
        http__set_term(h, 'c', 'R');
        http__reply_error(h, 503);
        break;
    case HS_RESOLVING:
        http__fwd_connect_failed(h, ETIMEDOUT, true);
        break;
    case HS_TARPIT:
        http__set_term(h, 'P', 'T');
        http__reply_error(h, h->tarpit_status);
        break;
    case HS_REQ_WAIT:
        if (h->rlen == 0 && !h->first) { /* idle keep-alive connection: close silently */
            h->local_reply = true;
            h->status = -1;
            http__set_term(h, 'c', 'R');
            h->logline = NULL;
            http__close(h);
        } else {
            http__set_term(h, 'c', 'R');
            http__reply_error(h, 408);
        }
        break;
    case HS_QUEUED:
        http__set_term(h, 's', 'Q');
        http__reply_error(h, 503);
        break;
    case HS_CONNECTING:
        connect_failed(h, ETIMEDOUT, true);
        break;
    case HS_TUNNEL: { /* the side whose deadline passed first */
        uint64_t c, s;
        tunnel_deadlines(h, &c, &s);
        http__set_term(h, s < c ? 's' : 'c', 'D');
        http__close(h);
        break;
    }
    case HS_EXCHANGE: {
        /* Whose timeout it is: a server that stops reading the request body is as late as one
         * that does not answer, and a client that stops reading the response is the late one
         * even though its request is complete. While the server waits for body bytes that the
         * client does not send, the client is. */
        uint64_t c, s;
        exchange_deadlines(h, &c, &s);
        bool server_late = s <= c && (h->req_done || relay_pending(&h->c2s));
        if (!h->resp_head_done && h->sc && server_late) {
            if (retry_request(h, HTTP_RETRY_RESPONSE_TIMEOUT))
                break;
            http__set_term(h, 's', 'H');
            http__drop_server_conn(h);
            http__reply_error(h, 504);
        } else {
            http__set_term(h, server_late ? 's' : 'c', 'D');
            http__close(h);
        }
        break;
    }
    default:
        http__set_term(h, 'c', 'D');
        http__close(h);
        break;
    }
}

/* ---- logging -------------------------------------------------------------------------------- */

static void client_ip(struct hs *h, char *buf, size_t len);

static uint64_t request_bytes(const struct hs *h)
{
    return (uint64_t)h->req_head_len + h->req_inbuf + h->c2s.bytes;
}

/* Squid's native access.log line (log-format squid), so that Squid's log tools work:
 * time.ms elapsed client code/status bytes method URL user hierarchy/host type */
static void squidlog(struct hs *h)
{
    char line[HS_LOGLINE_MAX + 256], ip[INET6_ADDRSTRLEN];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    client_ip(h, ip, sizeof(ip));
    const char *method = "-", *url = "-";
    char mbuf[32] = "-", ubuf[HS_LOGLINE_MAX + 1] = "-";
    if (h->logline) { /* "METHOD URL HTTP/1.x" */
        const char *sp = strchr(h->logline, ' ');
        if (sp) {
            snprintf(mbuf, sizeof(mbuf), "%.*s", (int)(sp - h->logline), h->logline);
            const char *sp2 = strrchr(sp + 1, ' ');
            size_t ul = sp2 ? (size_t)(sp2 - sp - 1) : strlen(sp + 1);
            snprintf(ubuf, sizeof(ubuf), "%.*s", (int)ul, sp + 1);
        }
        method = mbuf;
        url = ubuf;
    }
    const char *code = h->local_reply
                           ? (h->status == 403 || h->status == 407 ? "TCP_DENIED" : "NONE")
                       : (h->fwd && h->fwd->connect) ? "TCP_TUNNEL"
                                                     : "TCP_MISS";
    char peer[300] = "HIER_NONE/-";
    if (h->fwd && h->t_conn_end && !h->local_reply)
        snprintf(peer, sizeof(peer), "HIER_DIRECT/%s", h->fwd->host);
    long elapsed = (long)(h->w->now - h->t_req);
    int n = snprintf(line, sizeof(line), "%lld.%03ld %6ld %s %s/%03d %llu %s %s %s %s -\n",
                     (long long)now.tv_sec, now.tv_nsec / 1000000, elapsed, ip, code,
                     h->status > 0 ? h->status : 0, (unsigned long long)h->bytes_out, method, url,
                     h->auth_user ? h->auth_user : "-", peer);
    if (n > 0)
        log_traffic(h->w->id, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* "{v1|v2}": the last occurrence of each captured field of the message in buf, cut at its
 * length, bytes a log reader would trip on written #XX as HAProxy does; a missing field is
 * empty. NULL when out of memory. */
static char *capture_fields(const struct cfg_capture *caps, unsigned n, const char *buf,
                            const struct http_msg *m)
{
    size_t cap = 3;
    for (unsigned i = 0; i < n; i++)
        cap += (size_t)caps[i].len * 3 + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = '{';
    for (unsigned i = 0; i < n; i++) {
        if (i)
            out[o++] = '|';
        size_t nl = strlen(caps[i].name);
        int last = -1;
        for (int k = http_hdr_find(buf, m, caps[i].name, nl, 0); k >= 0;
             k = http_hdr_find(buf, m, caps[i].name, nl, (unsigned)k + 1))
            last = k;
        if (last < 0)
            continue;
        const unsigned char *v = (const unsigned char *)buf + m->hdr[last].value_off;
        size_t vl = m->hdr[last].value_len < caps[i].len ? m->hdr[last].value_len : caps[i].len;
        for (size_t k = 0; k < vl; k++) {
            unsigned char c = v[k];
            if (c < ' ' || c >= 0x7f || c == '"' || c == '#' || c == '{' || c == '|' || c == '}') {
                static const char hex[] = "0123456789ABCDEF";
                out[o++] = '#';
                out[o++] = hex[c >> 4];
                out[o++] = hex[c & 15];
            } else {
                out[o++] = (char)c;
            }
        }
    }
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

/* The braces of n captures that were never taken (a request that failed before its head). */
static const char *no_captures(unsigned n, char *buf)
{
    size_t o = 0;
    buf[o++] = '{';
    for (unsigned i = 1; i < n; i++)
        buf[o++] = '|';
    buf[o++] = '}';
    buf[o] = '\0';
    return buf;
}

static void httplog(struct hs *h)
{
    if (h->fe->cfg->http.log_format == CFG_LOGF_SQUID) {
        squidlog(h);
        return;
    }
    char line[HS_LOGLINE_MAX + 512], cli[64], date[64];
    http__cli_addr(h);
    sock_addr_str_log(&h->cli_addr.sa, cli, sizeof(cli));
    sock_log_date(&h->req_wall, date, sizeof(date));
    uint64_t now = h->w->now;
    long tr = h->t_req_head ? (long)(h->t_req_head - h->t_req) : -1;
    long tw =
        h->t_queue ? (long)((h->t_conn ? h->t_conn : now) - h->t_queue) : (h->t_conn ? 0 : -1);
    long tc = h->t_conn_end ? (long)(h->t_conn_end - h->t_conn) : -1;
    /* Tr: the server's response time; -1 when no server answered (as HAProxy logs it). */
    long trr =
        h->t_resp && h->t_conn_end && !h->local_reply ? (long)(h->t_resp - h->t_conn_end) : -1;
    long ta = (long)(now - h->t_req);
    const struct cfg_proxy *bp = be_cfg(h);
    /* Forward mode (the user-activity log): the server field names the origin, the request
     * cookie field carries the authenticated user and the response cookie field the bytes the
     * client sent, so that one line has who, where, both byte counts and the duration. */
    char up[24] = "-";
    if (h->fwd)
        snprintf(up, sizeof(up), "%llu", (unsigned long long)request_bytes(h));
    const char *srv = h->sv ? h->sv->cfg->name : h->fwd ? h->fwd->origin : "<NOSRV>";
    /* Captured fields (HAProxy's %hr and %hs), each pair of braces only when configured. */
    const struct cfg_http *fh = &h->fe->cfg->http;
    char noreq[CFG_CAPTURES_MAX + 3], nores[CFG_CAPTURES_MAX + 3];
    const char *hr = !fh->nreq_cap ? ""
                     : h->cap_req  ? h->cap_req
                                   : no_captures(fh->nreq_cap, noreq);
    const char *hs = !fh->nres_cap ? ""
                     : h->cap_res  ? h->cap_res
                                   : no_captures(fh->nres_cap, nores);
    size_t caps = strlen(hr) + strlen(hs);
    char *big = caps ? malloc(sizeof(line) + caps + 2) : NULL;
    char *out = big ? big : line;
    size_t outlen = big ? sizeof(line) + caps + 2 : sizeof(line);
    int n = snprintf(
        out, outlen,
        "%s [%s] %s %s/%s %ld/%ld/%ld/%ld/%ld %d %llu %s %s %c%c-- %d/%d/%d/%d/%d "
        "0/%d %s%s%s%s\"%s\"\n",
        cli, date, h->fe->cfg->name, bp->name, srv, tr, tw, tc, trr, ta, h->status,
        (unsigned long long)h->bytes_out, h->auth_user ? h->auth_user : "-", up, h->term[0],
        h->term[1], atomic_load_explicit(&h->w->rt->live, memory_order_relaxed),
        atomic_load_explicit(&h->fe->live, memory_order_relaxed), 0,
        h->sv ? atomic_load_explicit(&h->sv->cur_conns, memory_order_relaxed) : 0, h->retries_done,
        h->be ? atomic_load_explicit(&h->be->queued, memory_order_relaxed) : 0, hr, *hr ? " " : "",
        hs, *hs ? " " : "", h->logline ? h->logline : "<BADREQ>");
    if (n > 0)
        log_traffic(h->w->id, out, (size_t)n < outlen ? (size_t)n : outlen - 1);
    free(big);
}

static void log_request(struct hs *h)
{
    const struct cfg_http *fh = &h->fe->cfg->http;
    http__stats_request_end(h);
    if (!h->logged) /* a request was under way: this is its end */
        http_track_end(&h->trk, h->status, h->err_counted, (uint32_t)h->w->now);
    const struct cfg_proxy *fp = h->fe->cfg;
    bool quiet =
        (fp->dontlognull && request_bytes(h) == 0 && h->rlen == 0) ||
        (fp->dontlog_normal && (h->term[0] == '-' || h->term[0] == 'L') && h->status < 500);
    if (!h->logged && !quiet && (fh->httplog || fh->log_format == CFG_LOGF_SQUID) &&
        (h->logline || h->status > 0))
        httplog(h);
    h->logged = true;
    free(h->logline);
    h->logline = NULL;
    free(h->unique_id);
    h->unique_id = NULL;
    free(h->cap_req);
    free(h->cap_res);
    h->cap_req = h->cap_res = NULL;
    http_vars_end(&h->vars, false); /* txn. and req. end with the request */
}

/* ---- closing -------------------------------------------------------------------------------- */

static void hs_free(struct deferred *d)
{
    free(container_of(d, struct hs, dfr));
}

void http__close(struct hs *h)
{
    if (h->state == HS_CLOSED)
        return;
    if (h->state == HS_QUEUED) {
        queue_remove(&h->w->queues[be_index(h)], &h->qlink);
        atomic_fetch_sub_explicit(&h->be->queued, 1, memory_order_relaxed);
        h->w->queued--;
    }
    if (h->state == HS_AUTH_WAIT)
        auth_cancel(h->w, h);
    log_request(h);
    http_vars_end(&h->vars, true);
    stktable_untrack_some(&h->trk, 0xff, (uint32_t)h->w->now); /* the connection's trackers */
    http__fwd_end(h);
    h->state = HS_CLOSED;
    timer_disarm(&h->w->tw, &h->tmr);
    relay_dir_release(h->w, &h->c2s);
    relay_dir_release(h->w, &h->s2c);
    buf_put(h, &h->rbuf);
    buf_put(h, &h->sbuf);
    free(h->obuf);
    h->obuf = NULL;
    http__drop_server_conn(h);
    drop_private_conn(h);
    http__release_slot(h);
    relay_side_closing(h->w, &h->cs);
    if (h->cli.fd >= 0)
        sock_close(h->cli.fd, h->fe->cfg->nolinger || h->cli_reset);
    h->cli.fd = h->cs.fd = -1;
    worker_session_done(h->w, h->fe, &h->link);
    worker_defer_free(h->w, &h->dfr);
}

static int hs_describe(struct session_link *l, char *buf, size_t len)
{
    struct hs *h = container_of(l, struct hs, link);
    static const char *const st[] = {"REQ_WAIT", "PROXY_WAIT", "AUTH_WAIT", "RESOLVING",
                                     "QUEUED",   "CONNECTING", "EXCHANGE",  "TUNNEL",
                                     "LINGER",   "TARPIT",     "CLOSED"};
    char cli[64] = "-";
    if (h->have_cli_addr)
        sock_addr_str(&h->cli_addr.sa, cli, sizeof(cli));
    const char *srv = h->sv ? h->sv->cfg->name : h->fwd ? h->fwd->origin : "-";
    return snprintf(buf, len,
                    "%p: proto=http src=%s fe=%s be=%s srv=%s age=%llus state=%s "
                    "worker=%u req=\"%.120s\"",
                    (void *)h, cli, h->fe->cfg->name, h->be ? h->be->cfg->name : "-", srv,
                    (unsigned long long)((h->w->now - h->t_accept) / 1000),
                    h->state < sizeof(st) / sizeof(st[0]) ? st[h->state] : "?", h->w->id,
                    h->logline ? h->logline : "");
}

static void hs_abort(struct session_link *l)
{
    struct hs *h = container_of(l, struct hs, link);
    http__set_term(h, 'K', 'D');
    http__close(h);
}

/* After a final response that ends the connection: stop writing, read and drop what the client
 * still sends for a moment so that closing does not reset the response before it is read. */
void http__linger(struct hs *h)
{
    if (relay_pending(&h->s2c)) {
        h->cli_keep = false; /* http__progress comes back here once flushed */
        return;
    }
    log_request(h);
    http__drop_server_conn(h);
    http__release_slot(h);
    /* The client asked to close after this request and sent nothing more: nothing unread can
     * turn close() into a reset, so the shutdown and the drain are not needed (as nginx). */
    if (h->cli_asked_close && h->rlen == 0 && h->state != HS_TUNNEL && !h->cs.readable) {
        http__close(h);
        return;
    }
    shutdown(h->cli.fd, SHUT_WR);
    h->state = HS_LINGER;
    h->cs.last = h->w->now;
    http__arm_timer(h);
    for (;;) {
        ssize_t n = recv(h->cli.fd, h->w->scratch, h->w->bufsize, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            h->cs.readable = false;
            return;
        }
        http__close(h);
        return;
    }
}

/* ---- locally generated responses ------------------------------------------------------------ */

void http__send_local(struct hs *h, int status, const char *data, size_t len)
{
    h->status = status;
    h->local_reply = true;
    h->bytes_out += len;
    if (!h->t_resp)
        h->t_resp = h->w->now;
    /* Appended: an interim response (100, 103) may still be on its way to the client. */
    if (relay_append(h->w, &h->s2c, &h->cs, data, len) < 0) {
        http__set_term(h, 'C', 'D');
        http__close(h);
        return;
    }
    h->cli_keep = false;
    http__linger(h);
}

void http__reply_text(struct hs *h, int status, const char *text)
{
    char body[1024], esc[600];
    size_t e = 0;
    for (const char *c = text; *c && e < sizeof(esc) - 8; c++) {
        const char *r = *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : *c == '&' ? "&amp;" : NULL;
        if (r) {
            memcpy(esc + e, r, strlen(r));
            e += strlen(r);
        } else {
            esc[e++] = *c;
        }
    }
    esc[e] = '\0';
    int bl = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1>\n%s\n</body></html>\n",
                      status, http_reason(status), esc);
    char *out = h->w->scratch;
    int n = snprintf(out, h->w->bufsize,
                     "HTTP/1.1 %d %s\r\ncontent-length: %d\r\ncache-control: no-cache\r\n"
                     "content-type: text/html\r\nconnection: close\r\n\r\n%s",
                     status, http_reason(status), bl, body);
    http__drop_server_conn(h);
    http__release_slot(h);
    h->state = HS_EXCHANGE;
    http__send_local(h, status, out, (size_t)n);
}

void http__reply_error(struct hs *h, int status)
{
    size_t len;
    /* HAProxy's order: the backend's page once one is chosen for this request, then the
     * frontend's, then the built-in one */
    const char *page = http_error_page2(h->be ? h->be->cfg : NULL, h->fe->cfg, status, &len);
    http__drop_server_conn(h);
    http__release_slot(h);
    h->state = HS_EXCHANGE;
    http__send_local(h, status, page, len);
}

/* ---- request routing ------------------------------------------------------------------------ */

/* Fields of a message held in buf (the response's for `%[res.hdr(NAME)]`, the request's for
 * hdr_next). */
struct hdr_src {
    const char *buf;
    const struct http_msg *m;
};

static bool src_hdr_next(void *msg, const char *lname, size_t lname_len, size_t *iter,
                         const char **v, size_t *vlen)
{
    const struct hdr_src *s = msg;
    int i = http_hdr_find(s->buf, s->m, lname, lname_len, (unsigned)*iter);
    if (i < 0)
        return false;
    *iter = (size_t)i + 1;
    *v = s->buf + s->m->hdr[i].value_off;
    *vlen = s->m->hdr[i].value_len;
    return true;
}

static bool hdr_next(void *msg, const char *lname, size_t lname_len, size_t *iter, const char **v,
                     size_t *vlen)
{
    struct hs *h = msg;
    const struct http_msg *m = h->acl_msg;
    if (m->target_form == HTTP_TF_ABSOLUTE && lname_len == 4 && memcmp(lname, "host", 4) == 0) {
        /* The target's authority is the request's host (RFC 9112 §3.2.2), whatever Host says:
         * it is what the server gets (http__build_request). */
        if (*iter)
            return false;
        *iter = 1;
        *v = h->rbuf + m->host.off;
        *vlen = m->host.len;
        return true;
    }
    struct hdr_src src = {.buf = h->rbuf, .m = m};
    return src_hdr_next(&src, lname, lname_len, iter, v, vlen);
}

/* Whether any ACL of the configuration tests dst_port: only then is the local address worth a
 * getsockname() per connection. The configuration is immutable, so the answer is computed once. */
static bool config_uses_dst_port(const struct config *cfg)
{
    static _Atomic int known = -1;
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (v >= 0)
        return v;
    v = 0;
    for (size_t i = 0; i < cfg->nproxies && !v; i++)
        for (size_t k = 0; k < cfg->proxies[i].http.nacls; k++)
            if (cfg->proxies[i].http.acls[k].fetch == ACL_F_DST_PORT)
                v = 1;
    atomic_store_explicit(&known, v, memory_order_relaxed);
    return v;
}

void http__fill_acl_ctx(struct hs *h, const struct http_msg *m, struct acl_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->method = h->rbuf + m->method_s.off;
    c->method_len = m->method_s.len;
    c->target = h->rbuf + m->target.off;
    c->target_len = m->target.len;
    const char *p = h->rbuf + m->path.off;
    size_t pl = m->path.len;
    if (m->target_form == HTTP_TF_ASTERISK) {
        p = c->target;
        pl = c->target_len;
    }
    const char *q = memchr(p, '?', pl);
    c->path = p;
    c->path_len = q ? (size_t)(q - p) : pl;
    if (q) {
        c->query = q + 1;
        c->query_len = pl - (size_t)(q - p) - 1;
    }
    c->ver_minor = m->version_minor;
    c->hdr_next = hdr_next;
    c->msg = h;
    h->acl_msg = m;
    http__cli_addr(h);
    c->src = &h->cli_addr.sa;
    if (!h->have_dst_port && config_uses_dst_port(h->w->rt->cfg)) {
        /* once per connection, and only when some ACL tests dst_port */
        const union peer_addr *d = (const union peer_addr *)dst_addr(h);
        if (d->sa.sa_family == AF_INET || d->sa.sa_family == AF_INET6)
            h->dst_port = ntohs(d->sa.sa_family == AF_INET6 ? d->in6.sin6_port : d->in.sin_port);
        h->have_dst_port = true;
    }
    c->dst_port = h->dst_port;
    c->match_data = pool_match_data(h->w);
    c->trk = &h->trk;
    c->now_ms = (uint32_t)h->w->now;
    c->vars = h->w->rt->cfg->nvars ? &h->vars : NULL;
}

/* Header edits from http-request / http-response rules, applied while the head is rebuilt. */

static bool name_eq(const char *a, size_t al, const char *b)
{
    return strlen(b) == al && strncasecmp(a, b, al) == 0;
}

/* Whether an edit from index `from` on removes the fields named `name` that exist before it:
 * the message's own fields (from 0), or one that edit from - 1 added. */
static bool edits_drop(const struct hdr_edits *e, unsigned from, const char *name, size_t len)
{
    for (unsigned i = from; i < e->n; i++) {
        const struct cfg_http_rule *r = e->rule[i];
        if ((r->action == HTTP_ACT_DEL_HEADER || r->action == HTTP_ACT_SET_HEADER) &&
            name_eq(name, len, r->name))
            return true;
    }
    return false;
}

/* One field line: "name: value\r\n". */
static void out_hdr(struct out *o, const char *name, size_t nl, const char *val, size_t vl)
{
    out_put(o, name, nl);
    out_put(o, ": ", 2);
    out_put(o, val, vl);
    out_put(o, "\r\n", 2);
}

/* Run the replace-header / replace-value edits of field `name` from index `from` on (all of them
 * for the message's own fields, those after the edit that added the field otherwise) over the
 * value o holds from `start`, in order: each edit reads the previous result and writes its own
 * after it in o, then moves it back to where the value starts. */
static void replace_value(struct out *o, const struct hdr_edits *e, unsigned from, const char *name,
                          size_t nl, size_t start, void *md)
{
    size_t cur = o->len - start;
    for (unsigned i = from; i < e->n && e->has_replace && !o->overflow && !o->invalid; i++) {
        const struct cfg_http_rule *r = e->rule[i];
        if ((r->action != HTTP_ACT_REPLACE_HEADER && r->action != HTTP_ACT_REPLACE_VALUE) ||
            !name_eq(name, nl, r->name))
            continue;
        char *at = o->p + start;
        int n = http_rw_value(r, at, cur, at + cur, o->cap - start - cur, md);
        if (n < 0) {
            if (n == -EINVAL)
                o->invalid = true;
            else
                o->overflow = true;
            return;
        }
        memmove(at, at + cur, (size_t)n);
        cur = (size_t)n;
        o->len = start + cur;
    }
}

/* A field value, through the replace edits of its name from index `from` on. */
static void out_value(struct out *o, const struct hdr_edits *e, unsigned from, const char *name,
                      size_t nl, const char *v, size_t vl, void *md)
{
    size_t start = o->len;
    out_put(o, v, vl);
    if (!o->overflow)
        replace_value(o, e, from, name, nl, start, md);
}

/* One field of the message: its name, then its value through the replace edits. */
static void out_field(struct out *o, const struct hdr_edits *e, const char *name, size_t nl,
                      const char *v, size_t vl, void *md)
{
    out_put(o, name, nl);
    out_put(o, ": ", 2);
    out_value(o, e, 0, name, nl, v, vl, md);
    out_put(o, "\r\n", 2);
}

/* The fields that set-header and add-header edits add, unless a later set-header or del-header
 * of the same name removes them again (HAProxy applies each rule at once), through the replace
 * edits that follow them. Values with samples are expanded from fc's messages. */
static void out_edits(struct out *o, const struct hdr_edits *e, void *md, const struct fmt_ctx *fc)
{
    for (unsigned i = 0; i < e->n; i++) {
        const struct cfg_http_rule *r = e->rule[i];
        if (r->action != HTTP_ACT_SET_HEADER && r->action != HTTP_ACT_ADD_HEADER)
            continue;
        size_t nl = strlen(r->name);
        if (edits_drop(e, i + 1, r->name, nl))
            continue;
        out_put(o, r->name, nl);
        out_put(o, ": ", 2);
        if (!r->fmt) {
            out_value(o, e, i + 1, r->name, nl, r->value ? r->value : "",
                      r->value ? r->value_len : 0, md);
        } else if (!o->overflow) {
            size_t start = o->len;
            ssize_t n = fmt_expand(r->fmt, fc, o->p + o->len, o->cap - o->len);
            if (n < 0) {
                o->overflow = true;
            } else {
                o->len += (size_t)n;
                replace_value(o, e, i + 1, r->name, nl, start, md);
            }
        }
        out_put(o, "\r\n", 2);
    }
}

/* What samples of header values (`%[src]`, ...) read: the message of e's rules; `also` is a
 * format outside e (a redirect's target, unique-id-format) that the context serves too. */
static void edits_fmt_ctx(struct hs *h, const struct hdr_edits *e, const struct cfg_fmt *also,
                          struct fmt_ctx *fc)
{
    memset(fc, 0, sizeof(*fc));
    fc->req = e->ctx;
    if (e->ctx) /* as received unless a rule rewrote it: callers with the message say */
        fc->orig_target = e->ctx->target, fc->orig_target_len = e->ctx->target_len;
    fc->fe_name = h->fe->cfg->name;
    fc->be_name = be_cfg(h)->name;
    fc->req_wall = &h->req_wall;
    fc->unique_id = h->unique_id;
    fc->vars = &h->vars;
    bool dst = also && also->uses_dst;
    for (unsigned i = 0; i < e->n && !dst; i++)
        dst = e->rule[i]->fmt && e->rule[i]->fmt->uses_dst;
    if (dst) /* one getsockname per connection, only for formats that ask */
        fc->dst = dst_addr(h);
}

static void client_ip(struct hs *h, char *buf, size_t len)
{
    http__cli_addr(h);
    if (h->cli_addr.sa.sa_family == AF_INET)
        inet_ntop(AF_INET, &h->cli_addr.in.sin_addr, buf, (socklen_t)len);
    else if (h->cli_addr.sa.sa_family == AF_INET6)
        inet_ntop(AF_INET6, &h->cli_addr.in6.sin6_addr, buf, (socklen_t)len);
    else
        snprintf(buf, len, "unknown");
}

/* The persistence cookie's server, as 1 + index, or 0. */
static uint32_t find_cookie_server(struct hs *h, const struct http_msg *m, const struct backend *be)
{
    const struct cfg_cookie *ck = &be->cfg->http.cookie;
    if (!ck->name[0])
        return 0;
    size_t cl = strlen(ck->name);
    for (int i = http_hdr_find(h->rbuf, m, "cookie", 6, 0); i >= 0;
         i = http_hdr_find(h->rbuf, m, "cookie", 6, (unsigned)i + 1)) {
        const char *v = h->rbuf + m->hdr[i].value_off;
        size_t pos = 0;
        struct http_span n, val;
        while (http_cookie_next(v, m->hdr[i].value_len, &pos, &n, &val)) {
            if (n.len != cl || memcmp(v + n.off, ck->name, cl) != 0)
                continue;
            for (size_t s = 0; s < be->nservers; s++) {
                const char *sc = be->servers[s].cfg->cookie;
                if (sc[0] && strlen(sc) == val.len && memcmp(sc, v + val.off, val.len) == 0)
                    return (uint32_t)s + 1;
            }
        }
    }
    return 0;
}

static uint32_t request_hash(struct hs *h, const struct acl_ctx *c)
{
    const struct cfg_proxy *bp = be_cfg(h);
    switch (bp->balance) {
    case CFG_LB_SOURCE:
        http__cli_addr(h);
        if (h->cli_addr.sa.sa_family == AF_INET)
            return lb_hash_bytes(&h->cli_addr.in.sin_addr, 4);
        if (h->cli_addr.sa.sa_family == AF_INET6)
            return lb_hash_bytes(&h->cli_addr.in6.sin6_addr, 16);
        return 0;
    case CFG_LB_URI:
        return lb_hash_bytes(c->path, c->path_len);
    case CFG_LB_URL_PARAM: {
        size_t pos = 0, vl;
        const char *v;
        const char *name = bp->http.hash_arg;
        if (c->query &&
            acl_url_param_next(c->query, c->query_len, name, strlen(name), &pos, &v, &vl))
            return lb_hash_bytes(v, vl);
        return (uint32_t)worker_rand(h->w);
    }
    case CFG_LB_HDR: {
        /* through the ACLs' view: hdr(host) of an absolute-form request is its authority */
        const char *name = bp->http.hash_arg, *v;
        size_t iter = 0, vl;
        if (c->hdr_next(c->msg, name, strlen(name), &iter, &v, &vl))
            return lb_hash_bytes(v, vl);
        return (uint32_t)worker_rand(h->w);
    }
    default:
        return 0;
    }
}

/* set-path, replace-path or set-query: the new target goes to the thread-local buffer that does
 * not hold the current one, and the ACL context follows it. Returns false when the rewrite would
 * be malformed or too long. */
static bool rewrite_target(const struct cfg_http_rule *r, struct acl_ctx *c, struct hdr_edits *e)
{
    struct http_rw_target t = {
        .target = c->target,
        .len = c->target_len,
        .path_off = (size_t)(c->path - c->target),
        .path_len = c->path_len,
        .asterisk = c->target_len == 1 && c->target[0] == '*',
    };
    char *dst = tl_target[c->target == tl_target[0] ? 1 : 0];
    int n = http_rw_target(r, &t, dst, sizeof(tl_target[0]), c->match_data);
    if (n == -ENOENT)
        return true; /* nothing to change */
    if (n < 0)
        return false;
    e->target = c->target = dst;
    e->target_len = c->target_len = (size_t)n;
    e->path_off = t.path_off;
    const char *p = dst + t.path_off;
    size_t pl = (size_t)n - t.path_off;
    const char *q = memchr(p, '?', pl);
    c->path = p;
    c->path_len = q ? (size_t)(q - p) : pl;
    c->query = q ? q + 1 : NULL;
    c->query_len = q ? pl - (size_t)(q - p) - 1 : 0;
    return true;
}

/* set-var / unset-var: the expression sees what header values see (c->msg is the session). */
static int var_rule(struct hs *h, const struct cfg_http_rule *r, const struct hdr_edits *e)
{
    struct fmt_ctx fc;
    edits_fmt_ctx(h, e, r->fmt, &fc);
    return http_vars_rule(&h->vars, h->w->rt->cfg, r, &fc);
}

const struct cfg_http_rule *http__run_rules(const struct cfg_http *hp,
                                            const struct cfg_http_rule *rules, size_t n,
                                            struct acl_ctx *c, struct hdr_edits *e)
{
    e->ctx = c;
    for (size_t i = 0; i < n; i++) {
        const struct cfg_http_rule *r = &rules[i];
        if (!acl_cond_eval(hp, &r->cond, c))
            continue;
        switch (r->action) {
        case HTTP_ACT_REPLACE_HEADER:
        case HTTP_ACT_REPLACE_VALUE:
            e->has_replace = true;
            /* fall through */
        case HTTP_ACT_SET_HEADER:
        case HTTP_ACT_ADD_HEADER:
        case HTTP_ACT_DEL_HEADER:
        case HTTP_ACT_SET_STATUS:
            if (e->n == sizeof(e->rule) / sizeof(e->rule[0])) {
                /* the frontend's and the backend's lists hold more than a message can: fail
                 * rather than forward it without an edit the operator asked for */
                e->failed = true;
                return NULL;
            }
            e->rule[e->n++] = r;
            break;
        case HTTP_ACT_SET_PATH:
        case HTTP_ACT_REPLACE_PATH:
        case HTTP_ACT_SET_QUERY:
            if (e->target_ok && !rewrite_target(r, c, e)) {
                e->failed = true;
                return NULL;
            }
            break;
        case HTTP_ACT_TRACK_SC:
            http_track_rule(c, r, true);
            break;
        case HTTP_ACT_SET_VAR:
        case HTTP_ACT_UNSET_VAR:
            if (c->vars && var_rule(c->msg, r, e) < 0) {
                e->failed = true; /* out of memory: 500 rather than a rule left out */
                return NULL;
            }
            break;
        default:
            return r;
        }
    }
    return NULL;
}

bool http__request_rules(struct hs *h, const struct cfg_http *hp, const struct http_msg *m,
                         struct acl_ctx *c, struct hdr_edits *e)
{
    const struct cfg_http_rule *term = http__run_rules(hp, hp->req_rules, hp->nreq_rules, c, e);
    if (e->failed) {
        http__set_term(h, 'P', 'R');
        http__reply_error(h, 500);
        return true;
    }
    if (term && term->action != HTTP_ACT_ALLOW) {
        http__reply_rule(h, term, m, e);
        return true;
    }
    return false;
}

/* Act on the terminal rule of a request: answer it (deny, redirect, return, auth challenge,
 * use-service) or hold it (tarpit). */
void http__reply_rule(struct hs *h, const struct cfg_http_rule *r, const struct http_msg *m,
                      const struct hdr_edits *e)
{
    char *buf = h->w->scratch;
    struct out o = {.p = buf, .cap = h->w->bufsize};
    int status = r->status;
    char head[256];
    if (r->action == HTTP_ACT_USE_SERVICE) {
        http__stats_service(h, m, r);
        return;
    }
    if (r->action == HTTP_ACT_DENY || r->action == HTTP_ACT_TARPIT) {
        /* a denial is an HTTP error whatever its status (a tarpit's is 500), counted now as
           HAProxy does: a client held in a tarpit is already over an http_err_rate limit */
        http_track_error(&h->trk, (uint32_t)h->w->now);
        h->err_counted = true;
    }
    if (r->action == HTTP_ACT_TARPIT) {
        /* Hold the request without reading more or answering: the client (a flood, a
         * scanner) waits the tarpit's time for an error page (on_timer, termination PT) or
         * gives up (CT). */
        const struct cfg_http *bh = &be_cfg(h)->http;
        h->tarpit_status = (uint16_t)(status ? status : 500);
        h->tarpit_be = r >= bh->req_rules && r < bh->req_rules + bh->nreq_rules;
        h->state = HS_TARPIT;
        http__stats_fe_add(h, STC_DREQ); /* denied now, whether the client waits or not */
        /* Nothing of the request is needed any more (the log line and captures were copied):
         * a flood of held requests holds no buffers. */
        buf_put(h, &h->rbuf);
        h->rlen = h->rprev = 0;
        http__arm_timer(h);
        return;
    }
    /* HAProxy's termination states: a denial is P(roxy)R, an answer the configuration asks
     * for (redirect, return, auth challenge) is L(ocal)R, which dontlog-normal leaves out */
    http__set_term(h, r->action == HTTP_ACT_DENY ? 'P' : 'L', 'R');
    if (r->action == HTTP_ACT_AUTH) {
        /* Forward proxies challenge with 407 + Proxy-Authenticate, servers with 401. */
        bool fwd = h->fe->cfg->http.http_proxy;
        status = fwd ? 407 : 401;
        size_t bl;
        const char *page = http_error_page2(h->be ? h->be->cfg : NULL, h->fe->cfg, status, &bl);
        const char *body = strstr(page, "\r\n\r\n");
        body = body ? body + 4 : "";
        bl = strlen(body);
        snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\n", status,
                 http_reason(status), bl);
        out_str(&o, head);
        out_str(&o,
                fwd ? "proxy-authenticate: Basic realm=\"" : "www-authenticate: Basic realm=\"");
        out_str(&o, r->value && r->value[0] ? r->value : h->fe->cfg->name);
        out_str(&o, "\"\r\ncontent-type: text/html\r\ncache-control: no-cache\r\n"
                    "connection: close\r\n\r\n");
        out_put(&o, body, bl);
    } else if (r->action == HTTP_ACT_DENY) {
        http__stats_fe_add(h, STC_DREQ);
        http__reply_error(h, status ? status : 403);
        return;
    } else if (r->action == HTTP_ACT_REDIRECT) {
        status = status ? status : 302;
        snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n", status, http_reason(status));
        out_str(&o, head);
        out_str(&o, "content-length: 0\r\nlocation: ");
        const char *path = h->rbuf + m->path.off;
        size_t pl = m->path.len;
        if (e && e->target) { /* as rewritten by set-path and friends */
            path = e->target + e->path_off;
            pl = e->target_len - e->path_off;
        }
        const char *v = r->value;
        size_t vl = r->value ? r->value_len : 0;
        if (r->fmt) { /* the target with samples, expanded where it goes */
            struct fmt_ctx fc;
            struct hdr_edits none;
            if (!e)
                hdr_edits_init(&none, false); /* not `= {0}`: its rule[] need not be zeroed */
            edits_fmt_ctx(h, e ? e : &none, r->fmt, &fc);
            fc.orig_target = h->rbuf + m->target.off;
            fc.orig_target_len = m->target.len;
            ssize_t n = fmt_expand(r->fmt, &fc, o.p + o.len, o.cap - o.len);
            if (n == 0 && r->redirect == HTTP_REDIR_LOCATION)
                n = -1; /* an empty Location: answer 500 rather than a redirect to nowhere */
            if (n < 0) {
                o.overflow = true;
                vl = 0;
            } else {
                v = o.p + o.len;
                vl = (size_t)n;
            }
        }
        if (r->redirect == HTTP_REDIR_LOCATION) {
            if (r->fmt)
                o.len += vl;
            else
                out_put(&o, v, vl);
        } else if (r->redirect == HTTP_REDIR_PREFIX) {
            size_t keep = (vl && v[vl - 1] == '/' && pl && path[0] == '/') ? vl - 1 : vl;
            if (r->fmt)
                o.len += keep;
            else
                out_put(&o, v, keep);
            out_put(&o, path, pl);
        } else { /* scheme */
            out_str(&o, r->value);
            out_str(&o, "://");
            out_put(&o, h->rbuf + m->host.off, m->host.len);
            out_put(&o, path, pl);
        }
        out_str(&o, "\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n");
    } else if (r->page == HTTP_RET_ERROR_PAGE) { /* return ... default-errorfiles */
        http__reply_error(h, status);
        return;
    } else if (r->page == HTTP_RET_PAGE) { /* return ... errorfile | errorfiles: sent as is */
        h->state = HS_EXCHANGE;
        http__send_local(h, status, r->value, r->value_len);
        return;
    } else { /* return */
        status = status ? status : 200;
        size_t bl = r->value ? r->value_len : 0; /* a file may hold NUL bytes */
        snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\n", status,
                 http_reason(status), bl);
        out_str(&o, head);
        if (r->content_type) {
            out_str(&o, "content-type: ");
            out_str(&o, r->content_type);
            out_str(&o, "\r\n");
        }
        out_str(&o, "cache-control: no-cache\r\nconnection: close\r\n\r\n");
        if (bl)
            out_put(&o, r->value, bl);
    }
    if (o.overflow) {
        http__reply_error(h, 500);
        return;
    }
    h->state = HS_EXCHANGE;
    http__send_local(h, status, o.p, o.len);
}

/* A Cookie field without the pair `name=...`; nothing when no pair is left. */
static void out_cookie_without(struct out *o, const char *v, size_t vl, const char *name)
{
    /* The same parser as find_cookie_server's: what picked the server is what is removed. */
    size_t nl = strlen(name), start = o->len, pos = 0;
    bool any = false;
    out_str(o, "cookie: ");
    struct http_span n, val;
    while (http_cookie_next(v, vl, &pos, &n, &val)) {
        if (n.len == nl && memcmp(v + n.off, name, nl) == 0)
            continue;
        if (any)
            out_put(o, "; ", 2);
        out_put(o, v + n.off, val.off + val.len - n.off);
        any = true;
    }
    if (!any)
        o->len = start;
    else
        out_put(o, "\r\n", 2);
}

/* Whether a Set-Cookie value sets the cookie `name` (its first pair, RFC 6265 §4.1.1). */
static bool set_cookie_is(const char *v, size_t vl, const char *name)
{
    size_t nl = strlen(name), pos = 0;
    struct http_span n, val;
    return http_cookie_next(v, vl, &pos, &n, &val) && n.len == nl &&
           memcmp(v + n.off, name, nl) == 0;
}

/* Rebuild the request head for the server into h->obuf. */
int http__build_request(struct hs *h, const struct http_msg *m, const struct hdr_edits *e)
{
    const struct cfg_http *fh = fe_http(h), *bh = &be_cfg(h)->http;
    size_t cap = m->head_len + 1024 + e->target_len;
    for (unsigned i = 0; i < e->n; i++)
        cap += (e->rule[i]->name ? strlen(e->rule[i]->name) : 0) +
               (e->rule[i]->value ? strlen(e->rule[i]->value) : 0) +
               (e->rule[i]->fmt ? fmt_bound(e->rule[i]->fmt, m->head_len + e->target_len) : 0) + 8;
    /* Back-references and samples copy parts of the message, so the client could choose how
     * much the head grows: by more than tune.bufsize, the request is answered 500 (as HAProxy
     * does when a rewrite overflows its tune.maxrewrite reserve). */
    if (e->has_replace)
        cap += h->w->bufsize;
    size_t limit = m->head_len + e->target_len + h->w->bufsize;
    if (cap > limit)
        cap = limit;
    if (fh->unique_id_header[0] && h->unique_id)
        cap += strlen(fh->unique_id_header) + strlen(h->unique_id) + 4;
    void *md = e->has_replace ? pool_match_data(h->w) : NULL;
    struct fmt_ctx fc;
    if (e->n) { /* samples of the edits' values */
        edits_fmt_ctx(h, e, NULL, &fc);
        fc.orig_target = h->rbuf + m->target.off;
        fc.orig_target_len = m->target.len;
    }
    free(h->obuf);
    h->obuf = malloc(cap);
    if (!h->obuf)
        return -1;
    struct out o = {.p = h->obuf, .cap = cap};
    const char *b = h->rbuf;
    /* insert+indirect: the persistence cookie is sluice's business, not the server's. */
    const struct cfg_cookie *ck = &be_cfg(h)->http.cookie;
    bool indirect_cookie = ck->name[0] && ck->insert && ck->indirect;
    bool fwd = h->fwd != NULL;
    /* An absolute-form target names its host itself: a proxy must send Host from it, not the
     * client's (RFC 9112 §3.2.2), and a server is asked in origin-form. The ACLs saw the same
     * host (hdr_next), so routing, rules and the server agree on it. */
    bool absolute = m->target_form == HTTP_TF_ABSOLUTE;
    if (fwd || absolute) {
        /* To the origin: origin-form target, and Host names the origin (RFC 9112 §3.2.2). */
        const char *p = b + m->path.off;
        size_t pl = m->path.len;
        if (e->target) { /* set-path and friends: the origin part of the rewritten target */
            p = e->target + e->path_off;
            pl = e->target_len - e->path_off;
        }
        out_put(&o, b + m->method_s.off, m->method_s.len);
        out_put(&o, " ", 1);
        /* "http://host?q" has an empty path: origin-form needs "/?q" (RFC 9112 §3.2.1); an
         * OPTIONS for the whole server ("OPTIONS http://host") becomes "OPTIONS *" (§3.2.4). */
        if (pl == 0 && m->method == HTTP_M_OPTIONS)
            out_put(&o, "*", 1);
        else if (pl == 0 || p[0] != '/')
            out_put(&o, "/", 1);
        out_put(&o, p, pl);
        out_str(&o, m->version_minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
        /* Host names the origin, unless a rule sets or deletes it (one field, never two);
         * replace-header and replace-value apply to it as to any field. */
        if (!edits_drop(e, 0, "host", 4))
            out_field(&o, e, "host", 4, b + m->host.off, m->host.len, md);
    } else if (e->target) {
        /* the method, the rewritten target, then the rest of the line (" HTTP/1.x") as sent */
        size_t after = m->target.off + m->target.len;
        out_put(&o, b + m->method_s.off, m->method_s.len);
        out_put(&o, " ", 1);
        out_put(&o, e->target, e->target_len);
        out_put(&o, b + after, m->start.off + m->start.len - after);
        out_put(&o, "\r\n", 2);
    } else {
        out_put(&o, b + m->start.off, m->start.len);
        out_put(&o, "\r\n", 2);
    }
    for (unsigned i = 0; i < m->nhdr; i++) {
        const struct http_hdr *hd = &m->hdr[i];
        if (http_hdr_is_hop_by_hop(m, i)) {
            /* A protocol switch keeps its Upgrade field; Connection is rebuilt below. */
            if (!(h->upgrade && hd->id == HTTP_H_UPGRADE))
                continue;
        }
        if (edits_drop(e, 0, b + hd->name_off, hd->name_len))
            continue;
        if (fwd && http__fwd_drop_header(h, m, i))
            continue;
        if (absolute && hd->id == HTTP_H_HOST)
            continue; /* replaced by the target's authority, above */
        if (indirect_cookie && hd->name_len == 6 && !strncasecmp(b + hd->name_off, "cookie", 6)) {
            size_t at = o.len;
            out_cookie_without(&o, b + hd->value_off, hd->value_len, ck->name);
            if (o.len > at && !o.overflow) { /* "cookie: VALUE\r\n": replace edits see VALUE */
                o.len -= 2;
                replace_value(&o, e, 0, "cookie", 6, at + 8, md);
                out_put(&o, "\r\n", 2);
            }
            continue;
        }
        out_field(&o, e, b + hd->name_off, hd->name_len, b + hd->value_off, hd->value_len, md);
    }
    out_edits(&o, e, md, &fc);
    if (fh->unique_id_header[0] && h->unique_id && h->unique_id[0])
        out_hdr(&o, fh->unique_id_header, strlen(fh->unique_id_header), h->unique_id,
                strlen(h->unique_id));
    const struct cfg_forwardfor *ff = fh->forwardfor.enabled ? &fh->forwardfor : &bh->forwardfor;
    if (ff->enabled) {
        http__cli_addr(h);
        const char *hn = ff->header[0] ? ff->header : "X-Forwarded-For";
        bool skip = ff->has_except && acl_net_match(&ff->except, &h->cli_addr.sa);
        if (!skip && ff->if_none && http_hdr_find(b, m, hn, strlen(hn), 0) >= 0)
            skip = true;
        if (!skip) {
            char ip[INET6_ADDRSTRLEN];
            client_ip(h, ip, sizeof(ip));
            out_hdr(&o, hn, strlen(hn), ip, strlen(ip));
        }
    }
    if (fh->forwarded || bh->forwarded) {
        char ip[INET6_ADDRSTRLEN], fwdv[INET6_ADDRSTRLEN + 64];
        client_ip(h, ip, sizeof(ip));
        int n = snprintf(fwdv, sizeof(fwdv),
                         h->cli_addr.sa.sa_family == AF_INET6 ? "for=\"[%s]\";proto=http"
                                                              : "for=%s;proto=http",
                         ip);
        out_hdr(&o, "forwarded", 9, fwdv, (size_t)n);
    }
    if (m->body == HTTP_BODY_CHUNKED)
        out_str(&o, "transfer-encoding: chunked\r\n");
    if (h->upgrade)
        out_str(&o, "connection: upgrade\r\n");
    else if (!h->srv_keep)
        out_str(&o, "connection: close\r\n");
    else if (m->version_minor == 0)
        out_str(&o, "connection: keep-alive\r\n");
    out_put(&o, "\r\n", 2);
    if (o.overflow || o.invalid)
        return -1;
    h->olen = (uint32_t)o.len;
    return 0;
}

static bool method_idempotent(uint8_t m)
{
    return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_OPTIONS || m == HTTP_M_TRACE ||
           m == HTTP_M_PUT || m == HTTP_M_DELETE;
}

static void process_request(struct hs *h, const struct http_msg *m);

static void auth_answer(void *arg, enum auth_result r, const char *user)
{
    struct hs *h = arg;
    if (h->state != HS_AUTH_WAIT)
        return;
    h->auth_state = 1;
    h->auth_user = r == AUTH_OK ? user : NULL;
    h->state = HS_REQ_WAIT;
    struct http_msg *m = parse_index(h, &tl_msg);
    if (http_parse_request(h->rbuf, h->rlen, 0, m) <= 0) { /* it parsed before: cannot happen */
        http__set_term(h, 'P', 'R');
        http__reply_error(h, 500);
        return;
    }
    process_request(h, m);
}

/* Credentials of the request, when some rule of the frontend tests http_auth(): a cached answer
 * comes back at once; a slow hash check suspends the request until the verifier answers.
 * Returns false while suspended. Sets ctx->auth_ok. */
static bool auth_gate(struct hs *h, const struct http_msg *m, struct acl_ctx *ctx)
{
    const struct cfg_userlist *ul = h->fe->cfg->http.auth_list;
    if (!ul)
        return true;
    if (!h->auth_state) {
        bool fwd = h->fe->cfg->http.http_proxy;
        const char *name = fwd ? "proxy-authorization" : "authorization";
        int i = http_hdr_find(h->rbuf, m, name, strlen(name), 0);
        const char *v = i >= 0 ? h->rbuf + m->hdr[i].value_off : NULL;
        size_t vl = i >= 0 ? m->hdr[i].value_len : 0;
        const char *user = NULL;
        http__cli_addr(h);
        enum auth_result r = auth_check(h->w, ul, v, vl, &h->cli_addr.sa, auth_answer, h, &user);
        if (r == AUTH_PENDING) {
            h->state = HS_AUTH_WAIT;
            http__arm_timer(h);
            return false;
        }
        h->auth_state = 1;
        h->auth_user = r == AUTH_OK ? user : NULL;
    }
    ctx->auth_ok = h->auth_user ? ul : NULL;
    return true;
}

/* `monitor-uri`: an outer load balancer's health check, answered here before any rule, neither
 * forwarded nor logged (HAProxy). The URI must equal the request's path and query exactly. */
static bool monitor_request(struct hs *h, const struct http_msg *m)
{
    const char *uri = h->fe->cfg->http.monitor_uri;
    size_t ul = strlen(uri);
    if (!ul || m->path.len != ul || memcmp(h->rbuf + m->path.off, uri, ul) != 0)
        return false;
    static const char ok[] = "HTTP/1.1 200 OK\r\n"
                             "content-length: 58\r\n"
                             "cache-control: no-cache\r\n"
                             "content-type: text/html\r\n"
                             "connection: close\r\n"
                             "\r\n"
                             "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n";
    h->logged = true;
    h->state = HS_EXCHANGE; /* answered: the request must not be parsed again */
    http__send_local(h, 200, ok, sizeof(ok) - 1);
    return true;
}

/* The request's `unique-id-format`, computed once, before any rule (so the backend is still the
 * frontend, as in HAProxy), and kept until the request ends. Cut at 127 bytes (HAProxy's
 * UNIQUEID_LEN). */
static void make_unique_id(struct hs *h, const struct acl_ctx *ctx)
{
    enum { ID_MAX = 127 };
    struct hdr_edits none; /* no edits, the request's samples (rule[] left unzeroed) */
    hdr_edits_init(&none, false);
    none.ctx = ctx;
    struct fmt_ctx fc;
    edits_fmt_ctx(h, &none, h->fe->cfg->http.unique_id, &fc);
    fc.be_name = h->fe->cfg->name;
    fc.unique_id = NULL;
    char buf[8192];
    ssize_t n = fmt_expand(h->fe->cfg->http.unique_id, &fc, buf, sizeof(buf));
    if (n < 0)
        n = 0; /* samples larger than a head can be: leave the ID empty */
    if (n > ID_MAX)
        n = ID_MAX;
    h->unique_id = malloc((size_t)n + 1);
    if (h->unique_id) {
        memcpy(h->unique_id, buf, (size_t)n);
        h->unique_id[n] = '\0';
    }
}

/* The backend a dynamic `use_backend %[...]` names for this request, or NULL when the name is
 * empty, too long, no backend, or one of another mode (the request goes to default_backend). */
static struct backend *dynamic_backend(struct hs *h, const struct http_msg *m,
                                       const struct cfg_use_backend *u, const struct acl_ctx *ctx)
{
    /* the samples before their converters must fit, not only the name: a Host field to look up
       in a map, a path for map_beg; longer ones match no backend */
    char buf[8192];
    struct hdr_edits none; /* no edits, the request's samples (rule[] left unzeroed) */
    hdr_edits_init(&none, false);
    none.ctx = ctx;
    struct fmt_ctx fc;
    edits_fmt_ctx(h, &none, u->fmt, &fc);
    fc.be_name = h->fe->cfg->name; /* %b: no backend yet, as for unique-id-format */
    fc.orig_target = h->rbuf + m->target.off;
    fc.orig_target_len = m->target.len;
    ssize_t n = fmt_expand(u->fmt, &fc, buf, sizeof(buf));
    if (n <= 0)
        return NULL;
    const struct cfg_proxy *p = config_find_backend(h->w->rt->cfg, buf, (size_t)n);
    if (!p || p->mode != CFG_MODE_HTTP)
        return NULL;
    return balancer_find(h->w->rt->bal, p);
}

/* A complete request head is at the start of rbuf. */
static void process_request(struct hs *h, const struct http_msg *m)
{
    /* The backend is chosen after the frontend's rules: until then the frontend stands for it
     * (%b, the log line of a request they answer), as in HAProxy, whatever the previous request
     * of the connection used. */
    h->be = NULL;
    const struct cfg_proxy *fp = h->fe->cfg;
    h->t_req_head = h->w->now;
    h->st_req = true;
    h->req_method = m->method;
    h->req_ver = m->version_minor;
    h->req_body = m->body;
    h->req_head_len = m->head_len;
    h->req_shifted = false;
    h->idempotent = method_idempotent(m->method);
    h->upgrade = (m->flags & HTTP_F_CONN_UPGRADE) && (m->flags & HTTP_F_UPGRADE_WS);
    h->cli_asked_close = !http_msg_keep_alive(m);
    /* Draining (SIGTERM, or an old generation after a reload): answer this request with
     * `connection: close` so that a keep-alive client reconnects, to the new generation. */
    h->cli_keep = !h->cli_asked_close && !fp->http.httpclose &&
                  atomic_load_explicit(&h->w->rt->state, memory_order_relaxed) == RT_RUNNING;
    if (monitor_request(h, m))
        return;
    if (fp->http.httplog && fp->http.nreq_cap && !h->cap_req)
        h->cap_req = capture_fields(fp->http.req_cap, fp->http.nreq_cap, h->rbuf, m);
    if (fp->http.httplog || fp->http.log_format == CFG_LOGF_SQUID) {
        size_t l = m->start.len < HS_LOGLINE_MAX ? m->start.len : HS_LOGLINE_MAX;
        free(h->logline);
        h->logline = malloc(l + 1);
        if (h->logline) {
            memcpy(h->logline, h->rbuf + m->start.off, l);
            h->logline[l] = '\0';
        }
    }
    /* How much of the body came with the head. */
    uint32_t avail = h->rlen - m->head_len;
    h->req_inbuf = 0;
    relay_dir_init(&h->c2s, 0);
    if (m->body == HTTP_BODY_LENGTH) {
        uint64_t cl = m->content_length;
        h->req_inbuf = (uint32_t)(cl < avail ? cl : avail);
        h->c2s.limit = cl - h->req_inbuf;
    } else if (m->body == HTTP_BODY_CHUNKED) {
        http_chunk_init(&h->req_chunk);
        size_t off = 0;
        while (off < avail) {
            size_t used, doff, dlen;
            int r = http_chunk_parse(&h->req_chunk, h->rbuf + m->head_len + off, avail - off, &used,
                                     &doff, &dlen);
            if (r < 0) {
                http__set_term(h, 'P', 'R');
                http__reply_error(h, 400);
                return;
            }
            off += used;
            if (r == HTTP_CHUNK_DONE || r == HTTP_CHUNK_MORE)
                break;
        }
        h->req_inbuf = (uint32_t)off;
    }

    struct acl_ctx ctx;
    http__fill_acl_ctx(h, m, &ctx);
    if (fp->http.unique_id && !h->unique_id)
        make_unique_id(h, &ctx);
    if (!auth_gate(h, m, &ctx))
        return; /* the verifier answers later; process_request runs again then */
    if (fp->http.http_proxy) {
        http__fwd_request(h, m, &ctx);
        return;
    }
    struct hdr_edits edits;
    hdr_edits_init(&edits, m->target_form != HTTP_TF_AUTHORITY);
    if (http__request_rules(h, &fp->http, m, &ctx, &edits))
        return;
    /* Backend: the first matching use_backend, else the default. */
    h->be = h->fe->be;
    for (size_t i = 0; i < fp->http.nuse_backends; i++) {
        const struct cfg_use_backend *u = &fp->http.use_backends[i];
        if (!acl_cond_eval(&fp->http, &u->cond, &ctx))
            continue;
        if (u->fmt) { /* HAProxy: a name that is no backend ends the rules: default_backend */
            struct backend *b = dynamic_backend(h, m, u, &ctx);
            if (b)
                h->be = b;
            break;
        }
        struct backend *b = balancer_find(h->w->rt->bal, u->backend);
        if (b) {
            h->be = b;
            break;
        }
    }
    if (http__stats_intercept(h, m, fp))
        return;   /* the frontend's `stats uri` */
    if (!h->be) { /* no default_backend and no use_backend matched: HAProxy answers 503 */
        http__set_term(h, 'S', 'C');
        http__reply_error(h, 503);
        return;
    }
    const struct cfg_proxy *bp = be_cfg(h);
    /* `allow` ends only the frontend's rule list: the backend's rules still run (HAProxy). */
    if (bp != fp && bp->http.nreq_rules && http__request_rules(h, &bp->http, m, &ctx, &edits))
        return;
    /* The backend's `stats uri` after its rules, which may deny or protect the page (HAProxy). */
    if (bp != fp && http__stats_intercept(h, m, bp))
        return;
    if (bp->http.httpclose)
        h->cli_keep = false; /* HAProxy applies it from either side */
    enum http_reuse reuse = bp->http.reuse;
    h->srv_keep = reuse != HTTP_REUSE_NEVER && !bp->http.http_server_close &&
                  !fp->http.http_server_close && !bp->http.httpclose && !h->upgrade;
    h->hash = request_hash(h, &ctx);
    h->cookie_srv = find_cookie_server(h, m, h->be);
    h->retries_left = bp->retries;
    if (http__build_request(h, m, &edits) < 0) {
        http__set_term(h, 'P', 'R');
        http__reply_error(h, 500);
        return;
    }
    h->st_be = true;
    hs_start_server(h, NULL);
}

/* Drop this request's bytes from rbuf: what follows is the next pipelined request. */
static void shift_request(struct hs *h)
{
    if (h->req_shifted || !h->rbuf)
        return;
    uint32_t used = h->req_head_len + h->req_inbuf;
    if (used > h->rlen)
        used = h->rlen;
    memmove(h->rbuf, h->rbuf + used, h->rlen - used);
    h->rlen -= used;
    h->rprev = 0;
    h->req_shifted = true;
}

/* ---- server side ---------------------------------------------------------------------------- */

static void enqueue(struct hs *h)
{
    h->state = HS_QUEUED;
    if (!h->t_queue)
        h->t_queue = h->w->now;
    queue_push(&h->w->queues[be_index(h)], &h->qlink);
    atomic_fetch_add_explicit(&h->be->queued, 1, memory_order_relaxed);
    h->w->queued++;
    http__arm_timer(h);
}

void http__send_request(struct hs *h);

static void use_server(struct hs *h, struct server *sv)
{
    h->sv = sv;
    h->slot = true;
    h->t_conn = h->w->now;
    const struct cfg_http *bh = &be_cfg(h)->http;
    bool may_reuse = h->srv_keep && (bh->reuse != HTTP_REUSE_SAFE || !h->first || h->idempotent ||
                                     bh->reuse == HTTP_REUSE_ALWAYS);
    if (may_reuse && !h->upgrade) {
        /* the client's own connection first (see conn_is_private), then the pool */
        h->sc = http__take_private(h, sv, NULL);
        if (!h->sc)
            h->sc = pool_take(h->w, sv, h, http__on_srv_event);
        if (h->sc) {
            h->t_conn_end = h->w->now;
            http__send_request(h);
            return;
        }
    }
    drop_private_conn(h); /* a request that may not reuse it */
    int err = 0;
    h->sc = srv_conn_open(h->w, sv, h, http__on_srv_event, &err);
    if (!h->sc) {
        connect_failed(h, err, false);
        return;
    }
    h->state = HS_CONNECTING;
    http__arm_timer(h);
}

static void hs_start_server(struct hs *h, const struct server *avoid)
{
    struct server *sv = NULL;
    if (h->cookie_srv && !avoid) {
        struct server *c = &h->be->servers[h->cookie_srv - 1];
        if (server_is_up(c) && server_take_slot(c)) {
            use_server(h, c);
            return;
        }
    }
    if (h->sv && !avoid && server_is_up(h->sv) && server_take_slot(h->sv)) {
        use_server(h, h->sv);
        return;
    }
    /* A client with a private connection (see conn_is_private) stays on its server, as
     * HAProxy's sessions prefer their last server then. */
    struct server *ps = h->priv ? h->priv->sv : NULL;
    if (ps && !avoid && ps->be == h->be && server_is_up(ps) && server_take_slot(ps)) {
        use_server(h, ps);
        return;
    }
    enum lb_result r = lb_pick(h->be, h->w->cursors[be_index(h)], h->hash, avoid, &sv);
    if (r == LB_OK && server_take_slot(sv)) {
        use_server(h, sv);
        return;
    }
    if (r == LB_OK || r == LB_FULL) {
        enqueue(h);
        return;
    }
    h->sv = NULL;
    http__set_term(h, 'S', 'C');
    http__reply_error(h, 503);
}

static bool hs_dequeue(struct worker *w, struct queue_link *l)
{
    struct hs *h = container_of(l, struct hs, qlink);
    struct server *sv = NULL;
    enum lb_result r = lb_pick(h->be, w->cursors[be_index(h)], h->hash, NULL, &sv);
    if (r == LB_FULL || (r == LB_OK && !server_take_slot(sv)))
        return false;
    queue_remove(&w->queues[be_index(h)], &h->qlink);
    atomic_fetch_sub_explicit(&h->be->queued, 1, memory_order_relaxed);
    w->queued--;
    if (r == LB_OK) {
        use_server(h, sv);
    } else {
        h->state = HS_EXCHANGE;
        http__set_term(h, 'S', 'Q');
        http__reply_error(h, 503);
    }
    return true;
}

static void connect_failed(struct hs *h, int err, bool timeout)
{
    if (h->fwd) {
        http__fwd_connect_failed(h, err, timeout);
        return;
    }
    if (h->fwd) {
        http__fwd_connect_failed(h, err, timeout);
        return;
    }
    struct server *failed = h->sv;
    http__stats_be_add(h, failed, STC_ECON);
    if (err != ECONNREFUSED && !timeout && failed)
        log_msg(LOG_LV_NOTICE, "connect() to %s/%s %s failed (%d: %s)", be_cfg(h)->name,
                failed->cfg->name, failed->cfg->addr_text, err, strerror(err));
    http__drop_server_conn(h);
    http__release_slot(h);
    unsigned retry_on = be_cfg(h)->http.retry_on;
    if (h->retries_left <= 0 || !(retry_on & HTTP_RETRY_CONN_FAILURE)) {
        http__set_term(h, timeout ? 's' : 'S', 'C');
        http__reply_error(h, timeout ? 504 : 503);
        return;
    }
    h->retries_left--;
    h->retries_done++;
    bool redispatch = be_cfg(h)->redispatch && h->retries_left == 0;
    http__stats_be_add(h, failed, STC_RETR);
    if (redispatch)
        http__stats_be_add(h, failed, STC_REDISP);
    h->t_conn_end = 0;
    if (redispatch || (failed && !server_is_up(failed)))
        hs_start_server(h, failed);
    else
        hs_start_server(h, NULL);
}

/* The request head (and body bytes read with it) go to the server. */
void http__send_request(struct hs *h)
{
    h->state = HS_EXCHANGE;
    h->req_sent = true;
    h->resp_head_done = h->resp_done = false;
    struct relay_side *ss = &h->sc->side;
    ss->last = h->cs.last = h->w->now;
    uint64_t limit = h->c2s.limit;
    relay_dir_init(&h->c2s, limit);
    relay_dir_init(&h->s2c, 0);
    if (relay_sendv(h->w, &h->c2s, ss, h->obuf, h->olen, h->rbuf + h->req_head_len, h->req_inbuf) <
        0) {
        http__set_term(h, 'S', 'C');
        http__drop_server_conn(h);
        http__reply_error(h, 502);
        return;
    }
    h->req_done = h->req_body == HTTP_BODY_NONE ||
                  (h->req_body == HTTP_BODY_LENGTH && h->c2s.limit == 0) ||
                  (h->req_body == HTTP_BODY_CHUNKED && http_chunk_is_done(&h->req_chunk));
    http__arm_timer(h);
    http__progress(h);
}

/* Relay a chunked body from `from` to `to`, stopping exactly at its end. Bytes read past the end
 * go to `rest` when given (a pipelined request); without `rest` (a response) they are dropped
 * and the server connection is not reused. Returns RELAY_DONE, RELAY_IDLE or an error. */
static enum relay_res pump_chunked(struct hs *h, struct relay_dir *d, struct http_chunk *ck,
                                   struct relay_side *from, struct relay_side *to, char *rest,
                                   uint32_t *rest_len)
{
    for (;;) {
        if (relay_pending(d)) {
            int r = to->wblocked ? 0 : relay_flush(h->w, d, to);
            if (r < 0)
                return RELAY_ERR_TO;
            if (r == 0)
                return RELAY_IDLE;
        }
        if (http_chunk_is_done(ck))
            return RELAY_DONE;
        if (!from->readable)
            return RELAY_IDLE;
        char *buf = h->w->scratch;
        ssize_t n = recv(from->fd, buf, h->w->bufsize, MSG_DONTWAIT);
        if (n == 0)
            return RELAY_ERR_FROM; /* EOF inside a chunked body */
        if (n < 0) {
            if (errno == EAGAIN) {
                from->readable = false;
                return RELAY_IDLE;
            }
            if (errno == EINTR)
                continue;
            return RELAY_ERR_FROM;
        }
        from->last = h->w->now;
        size_t off = 0;
        while (off < (size_t)n && !http_chunk_is_done(ck)) {
            size_t used, doff, dlen;
            int r = http_chunk_parse(ck, buf + off, (size_t)n - off, &used, &doff, &dlen);
            if (r < 0)
                return RELAY_ERR_FROM;
            off += used;
            if (r == HTTP_CHUNK_MORE)
                break;
        }
        d->bytes += off;
        if (relay_send(h->w, d, to, buf, off) < 0)
            return RELAY_ERR_TO;
        if (off < (size_t)n && !rest) {
            /* Bytes after the end of a response: a server out of step (a response nobody asked
             * for). The response is whole; its connection cannot be trusted again. */
            h->srv_keep = false;
        } else if (off < (size_t)n) {
            /* A pipelined request came with the body's end. rbuf still holds this request's
             * head and first body bytes, all sent already: drop them to make room. */
            if (rest == h->rbuf && *rest_len + ((size_t)n - off) > h->w->bufsize)
                shift_request(h);
            if (*rest_len + ((size_t)n - off) > h->w->bufsize)
                return RELAY_ERR_FROM; /* more than the buffer holds */
            memcpy(rest + *rest_len, buf + off, (size_t)n - off);
            *rest_len += (uint32_t)((size_t)n - off);
        }
        if ((size_t)n < h->w->bufsize)
            from->readable = from->hup;
    }
}

static void forward_request_body(struct hs *h)
{
    if (h->req_done || !h->sc)
        return;
    enum relay_res r;
    if (h->sc->failed) {
        r = RELAY_ERR_TO;
    } else if (h->req_body == HTTP_BODY_CHUNKED) {
        if (!buf_get(h, &h->rbuf)) {
            http__set_term(h, 'R', 'D');
            http__close(h);
            return;
        }
        r = pump_chunked(h, &h->c2s, &h->req_chunk, &h->cs, &h->sc->side, h->rbuf, &h->rlen);
    } else {
        r = relay_pump(h->w, &h->c2s, &h->cs, &h->sc->side, false);
    }
    if (r == RELAY_IDLE && h->c2s.eof && h->c2s.limit > 0)
        r = RELAY_ERR_FROM; /* the client closed before the whole body: the request is aborted */
    if (r == RELAY_DONE) {
        h->req_done = true;
    } else if (r == RELAY_ERR_TO) {
        /* The server takes no more of the body: it closed or reset, maybe right behind an
         * answer (a 413) still to be read. Stop sending; the response, or the failure to read
         * one, ends the exchange. The rest of the body stays unread: neither connection can
         * carry another request. The log still says the server cut the exchange short. */
        http__set_term(h, 'S', 'D');
        relay_dir_release(h->w, &h->c2s);
        h->req_done = true;
        h->srv_keep = h->cli_keep = false;
    } else if (r != RELAY_IDLE) {
        http__set_term(h, 'C', 'D');
        http__close(h);
    }
}

/* Whether a 401 or 407 response offers connection-based authentication (NTLM, Negotiate): the
 * server ties the identity the client proves next to this connection, which from then on must
 * serve that client only, or the next client sent on it would be served as the first one. (As
 * HAProxy, which makes such a connection private to its session.) */
static bool conn_is_private(const char *b, const struct http_msg *m)
{
    const char *name = m->status == 401   ? "www-authenticate"
                       : m->status == 407 ? "proxy-authenticate"
                                          : NULL;
    if (!name)
        return false;
    size_t nl = strlen(name);
    for (int i = http_hdr_find(b, m, name, nl, 0); i >= 0;
         i = http_hdr_find(b, m, name, nl, (unsigned)i + 1)) {
        const char *v = b + m->hdr[i].value_off;
        size_t pos = 0;
        struct http_span t;
        while (http_list_next(v, m->hdr[i].value_len, &pos, &t)) {
            size_t k = 0; /* a challenge starts with its scheme: "NTLM", "Negotiate token" */
            while (k < t.len && v[t.off + k] != ' ')
                k++;
            if ((k == 4 && !strncasecmp(v + t.off, "ntlm", 4)) ||
                (k == 9 && !strncasecmp(v + t.off, "negotiate", 9)))
                return true;
        }
    }
    return false;
}

/* Rebuild the response head for the client into the worker's scratch buffer. */
static int build_response(struct hs *h, const struct http_msg *m, const struct hdr_edits *e,
                          struct out *o)
{
    if (e->failed)
        return -1;
    const char *b = h->sbuf;
    char line[320];
    int status = m->status;
    const char *reason = NULL;
    for (unsigned i = 0; i < e->n; i++) {
        if (e->rule[i]->action == HTTP_ACT_SET_STATUS) {
            status = e->rule[i]->status;
            reason = e->rule[i]->value;
        }
    }
    if (status != m->status || reason) {
        snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status,
                 reason ? reason : http_reason(status));
        out_str(o, line);
    } else {
        out_str(o, "HTTP/1.1 ");
        out_put(o, b + m->start.off + 9, m->start.len > 9 ? m->start.len - 9 : 0);
        out_put(o, "\r\n", 2);
    }
    h->status = status;
    void *md = e->has_replace ? pool_match_data(h->w) : NULL;
    /* In insert mode the persistence cookie is sluice's: one of the same name set by the
     * server is removed (HAProxy's insert without `preserve`), or the server would choose
     * which server the client sticks to. */
    const struct cfg_cookie *ck = &be_cfg(h)->http.cookie;
    bool own_cookie = ck->name[0] && ck->insert;
    for (unsigned i = 0; i < m->nhdr; i++) {
        const struct http_hdr *hd = &m->hdr[i];
        if (http_hdr_is_hop_by_hop(m, i) && !(m->status == 101 && hd->id == HTTP_H_UPGRADE))
            continue;
        if (edits_drop(e, 0, b + hd->name_off, hd->name_len))
            continue;
        if (own_cookie && hd->name_len == 10 && !strncasecmp(b + hd->name_off, "set-cookie", 10) &&
            set_cookie_is(b + hd->value_off, hd->value_len, ck->name))
            continue;
        out_field(o, e, b + hd->name_off, hd->name_len, b + hd->value_off, hd->value_len, md);
    }
    struct fmt_ctx fc;
    struct hdr_src res = {.buf = b, .m = m};
    if (e->n) { /* samples of the edits' values */
        edits_fmt_ctx(h, e, NULL, &fc);
        fc.res_hdr_next = src_hdr_next;
        fc.res_msg = &res;
        fc.status = status; /* after set-status, as HAProxy's later rules would see it */
        fc.srv_name = h->sv ? h->sv->cfg->name : NULL;
    }
    out_edits(o, e, md, &fc);
    if (own_cookie && h->sv && h->sv->cfg->cookie[0] && h->cookie_srv != h->sv->idx + 1) {
        char c[512];
        int n = snprintf(c, sizeof(c), "set-cookie: %s=%s; path=/%s%s%s%s\r\n", ck->name,
                         h->sv->cfg->cookie, ck->domain[0] ? "; domain=" : "", ck->domain,
                         ck->httponly ? "; HttpOnly" : "", ck->secure ? "; Secure" : "");
        out_put(o, c, (size_t)n);
        if (ck->nocache)
            out_str(o, "cache-control: private\r\n");
    }
    if (m->body == HTTP_BODY_CHUNKED)
        out_str(o, "transfer-encoding: chunked\r\n");
    if (m->status == 101)
        out_str(o, "connection: upgrade\r\n");
    else if (!h->cli_keep)
        out_str(o, "connection: close\r\n");
    else if (h->req_ver == 0)
        out_str(o, "connection: keep-alive\r\n");
    out_put(o, "\r\n", 2);
    return o->overflow || o->invalid ? -1 : 0;
}

/* Send the request again after the server failed it in a way `retry-on` names (an empty
 * response, a 503, a response timeout), when that is safe: an idempotent request without a body
 * (so it can be sent again whole) and nothing yet sent to the client. Counts against `retries`;
 * with `option redispatch` the last retry goes to another server. */
static bool retry_request(struct hs *h, unsigned why)
{
    if (h->fwd)
        return http__fwd_retry(h, why);
    if (!(be_cfg(h)->http.retry_on & why) || h->retries_left <= 0 || !h->idempotent ||
        h->req_body != HTTP_BODY_NONE || !h->req_done || !h->obuf || h->bytes_out > 0 ||
        relay_pending(&h->s2c))
        return false;
    struct server *failed = h->sv;
    http__drop_server_conn(h);
    http__release_slot(h);
    relay_dir_release(h->w, &h->c2s);
    relay_dir_release(h->w, &h->s2c);
    relay_dir_init(&h->c2s, 0);
    h->slen = h->sprev = 0;
    h->resp_head_done = false;
    h->retries_left--;
    h->retries_done++;
    h->t_conn_end = 0;
    h->req_inbuf = 0; /* bodiless: the rebuilt head alone */
    bool redispatch = be_cfg(h)->redispatch && h->retries_left == 0;
    http__stats_be_add(h, failed, STC_RETR);
    if (redispatch)
        http__stats_be_add(h, failed, STC_REDISP);
    hs_start_server(h, redispatch ? failed : NULL);
    return true;
}

static void server_failed(struct hs *h, char when, int status)
{
    /* A reused connection that the server closed before answering: the request may not have
     * reached it (the close raced with our send). */
    bool empty = h->slen == 0 && !h->resp_head_done;
    if (empty && retry_request(h, HTTP_RETRY_EMPTY_RESPONSE))
        return;
    http__set_term(h, 'S', when);
    http__drop_server_conn(h);
    if (h->resp_head_done) {
        h->cli_reset = h->resp_body == HTTP_BODY_UNTIL_CLOSE; /* see forward_response_body */
        http__close(h);
        return;
    }
    http__reply_error(h, status);
}

void http__tunnel(struct hs *h);

static void read_response(struct hs *h)
{
    struct srv_conn *sc = h->sc;
    if (!buf_get(h, &h->sbuf)) {
        http__set_term(h, 'R', 'H');
        http__close(h);
        return;
    }
    while (!h->resp_head_done) {
        /* An interim response (100 Continue) is still being written: the final one's head
         * must wait for it (it reuses s2c), and comes back here from the write's completion. */
        if (relay_pending(&h->s2c))
            return;
        if (h->slen > h->sprev)
            goto parse; /* the rest of what came with an interim response */
        if (!sc->side.readable)
            return;
        if (h->slen == h->w->bufsize) {
            http__set_term(h, 'P', 'H');
            http__drop_server_conn(h);
            http__reply_error(h, 502);
            return;
        }
        ssize_t n = recv(sc->side.fd, h->sbuf + h->slen, h->w->bufsize - h->slen, MSG_DONTWAIT);
        if (n == 0) {
            server_failed(h, 'H', 502);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN) {
                sc->side.readable = false;
                return;
            }
            if (errno == EINTR)
                continue;
            server_failed(h, 'H', 502);
            return;
        }
        sc->side.last = h->w->now;
        if ((size_t)n < h->w->bufsize - h->slen && !sc->side.hup)
            sc->side.readable = false;
        h->slen += (uint32_t)n;
    parse:
        for (;;) {
            struct http_msg *m = parse_index(h, &tl_msg);
            int r = http_parse_response(h->sbuf, h->slen, h->sprev, h->req_method, m);
            if (r == 0) {
                h->sprev = h->slen;
                break;
            }
            if (r < 0) {
                http__set_term(h, 'P', 'H');
                http__drop_server_conn(h);
                http__reply_error(h, 502);
                return;
            }
            if (m->flags & HTTP_F_INTERIM) { /* 100 Continue and friends: pass them on */
                /* except to an HTTP/1.0 client, which has no 1xx and would take it for the
                 * final response (RFC 9110 §15.2: no 1xx to an HTTP/1.0 client) */
                bool pass = h->req_ver > 0;
                h->bytes_out += pass ? m->head_len : 0;
                if (pass && relay_send(h->w, &h->s2c, &h->cs, h->sbuf, m->head_len) < 0) {
                    http__set_term(h, 'C', 'D');
                    http__close(h);
                    return;
                }
                memmove(h->sbuf, h->sbuf + m->head_len, h->slen - m->head_len);
                h->slen -= m->head_len;
                h->sprev = 0;
                break; /* to the checks at the top: written yet? more bytes to parse? */
            }
            /* A server must not switch to a protocol the client did not offer (RFC 9110 §7.8):
             * a tunnel it opens on its own would take the client's next requests, meant for
             * whichever backend, as its data. */
            if (m->status == 101 && !h->upgrade) {
                http__set_term(h, 'P', 'H');
                http__drop_server_conn(h);
                http__reply_error(h, 502);
                return;
            }
            /* Final response. */
            if (m->status == 503 && retry_request(h, HTTP_RETRY_503))
                return;
            h->resp_head_done = true;
            h->t_resp = h->w->now;
            if (conn_is_private(h->sbuf, m))
                sc->priv = true;
            free(h->obuf);
            h->obuf = NULL;
            h->resp_body = m->body;
            if (!http_msg_keep_alive(m) || m->body == HTTP_BODY_UNTIL_CLOSE)
                h->srv_keep = false;
            /* An answer before the whole request was sent: whether the server will read the
             * rest as this request's body or (a server that skips it) as its next request is
             * unknown, and in the second case its answer would go to whichever request is
             * sent next on the connection. Close it after this exchange. */
            if (!h->req_done)
                h->srv_keep = false;
            if (m->body == HTTP_BODY_UNTIL_CLOSE)
                h->cli_keep = false;
            const struct cfg_proxy *fp = h->fe->cfg, *bp = be_cfg(h);
            if (fp->http.httplog && fp->http.nres_cap && !h->cap_res)
                h->cap_res = capture_fields(fp->http.res_cap, fp->http.nres_cap, h->sbuf, m);
            struct hdr_edits edits;
            hdr_edits_init(&edits, false);
            const struct cfg_http_rule *term = NULL;
            struct acl_ctx ctx; /* outlives the rules: build_response expands samples */
            struct hdr_src res_src = {.buf = h->sbuf, .m = m};
            if (bp->http.nresp_rules || fp->http.nresp_rules) {
                /* Response rules see the request (path, method, request headers), as
                 * HAProxy's req.* fetches do, and the response (status, res.hdr()). */
                struct http_msg *rq = parse_index(h, &tl_req_msg);
                if (h->rbuf && !h->req_shifted &&
                    http_parse_request(h->rbuf, h->req_head_len, 0, rq) > 0) {
                    http__fill_acl_ctx(h, rq, &ctx);
                } else { /* only the connection's facts are known */
                    memset(&ctx, 0, sizeof(ctx));
                    ctx.method = ctx.target = ctx.path = "";
                    http__cli_addr(h);
                    ctx.src = &h->cli_addr.sa;
                    ctx.match_data = pool_match_data(h->w);
                    ctx.trk = &h->trk;
                    ctx.now_ms = (uint32_t)h->w->now;
                }
                ctx.status = m->status;
                ctx.res_hdr_next = src_hdr_next;
                ctx.res_msg = &res_src;
                term = http__run_rules(&bp->http, bp->http.resp_rules, bp->http.nresp_rules, &ctx,
                                       &edits);
                if (!term && bp != fp)
                    term = http__run_rules(&fp->http, fp->http.resp_rules, fp->http.nresp_rules,
                                           &ctx, &edits);
            }
            if (edits.failed) {
                http__set_term(h, 'P', 'H');
                http__drop_server_conn(h);
                http__reply_error(h, 502);
                return;
            }
            if (term && term->action == HTTP_ACT_DENY) {
                http__set_term(h, 'P', 'H');
                http__drop_server_conn(h);
                http__reply_error(h, term->status ? term->status : 502);
                return;
            }
            struct out o = {.p = h->w->scratch, .cap = h->w->bufsize};
            if (build_response(h, m, &edits, &o) < 0) {
                http__set_term(h, 'P', 'H');
                http__drop_server_conn(h);
                http__reply_error(h, 502);
                return;
            }
            uint32_t avail = h->slen - m->head_len;
            uint32_t body_now = 0;
            relay_dir_init(&h->s2c, 0);
            if (m->body == HTTP_BODY_LENGTH) {
                body_now = (uint32_t)(m->content_length < avail ? m->content_length : avail);
                h->s2c.limit = m->content_length - body_now;
            } else if (m->body == HTTP_BODY_CHUNKED) {
                http_chunk_init(&h->resp_chunk);
                size_t off = 0;
                while (off < avail && !http_chunk_is_done(&h->resp_chunk)) {
                    size_t used, doff, dlen;
                    int rc = http_chunk_parse(&h->resp_chunk, h->sbuf + m->head_len + off,
                                              avail - off, &used, &doff, &dlen);
                    if (rc < 0) {
                        http__set_term(h, 'P', 'H');
                        http__drop_server_conn(h);
                        http__reply_error(h, 502);
                        return;
                    }
                    off += used;
                    if (rc == HTTP_CHUNK_MORE)
                        break;
                }
                body_now = (uint32_t)off;
            } else if (m->body == HTTP_BODY_UNTIL_CLOSE || m->body == HTTP_BODY_TUNNEL) {
                body_now = avail;
                h->s2c.limit = RELAY_UNLIMITED;
            }
            if (body_now < avail)
                h->srv_keep = false; /* bytes after the response: do not trust the connection */
            h->bytes_out += o.len + body_now;
            if (relay_sendv(h->w, &h->s2c, &h->cs, o.p, o.len, h->sbuf + m->head_len, body_now) <
                0) {
                http__set_term(h, 'C', 'D');
                http__close(h);
                return;
            }
            buf_put(h, &h->sbuf);
            h->slen = h->sprev = 0;
            if (m->body == HTTP_BODY_TUNNEL) {
                h->state = HS_TUNNEL;
                relay_dir_release(h->w, &h->c2s);
                relay_dir_init(&h->c2s, RELAY_UNLIMITED);
                h->req_done = true;
                shift_request(h);
                /* Bytes the client sent after its request belong to the new protocol. */
                if (h->rlen && relay_send(h->w, &h->c2s, &h->sc->side, h->rbuf, h->rlen) < 0) {
                    http__set_term(h, 'S', 'D');
                    http__close(h);
                    return;
                }
                h->rlen = 0;
                buf_put(h, &h->rbuf);
                http__arm_timer(h);
                http__tunnel(h);
                return;
            }
            h->resp_done = m->body == HTTP_BODY_NONE ||
                           (m->body == HTTP_BODY_LENGTH && h->s2c.limit == 0) ||
                           (m->body == HTTP_BODY_CHUNKED && http_chunk_is_done(&h->resp_chunk));
            return;
        }
    }
}

static void forward_response_body(struct hs *h)
{
    if (!h->resp_head_done || h->resp_done)
        return;
    enum relay_res r;
    uint64_t before = h->s2c.bytes;
    if (h->resp_body == HTTP_BODY_CHUNKED)
        r = pump_chunked(h, &h->s2c, &h->resp_chunk, &h->sc->side, &h->cs, NULL, NULL);
    else
        r = relay_pump(h->w, &h->s2c, &h->sc->side, &h->cs, true);
    h->bytes_out += h->s2c.bytes - before;
    if (h->resp_body != HTTP_BODY_CHUNKED && r == RELAY_IDLE && h->s2c.eof &&
        !relay_pending(&h->s2c))
        /* The server closed: the end of a body delimited by close, else a body cut short, which
         * must not pass for whole (the client sees the connection close once the bytes that
         * came are written). */
        r = h->resp_body == HTTP_BODY_UNTIL_CLOSE ? RELAY_DONE : RELAY_ERR_FROM;
    if (r == RELAY_DONE) {
        h->resp_done = true;
    } else if (r != RELAY_IDLE) {
        http__set_term(h, r == RELAY_ERR_FROM ? 'S' : 'C', 'D');
        /* A close would end a body delimited by close as if it were whole: the client learns
         * of the server's failure only from a reset. (Other bodies are cut short visibly.) */
        h->cli_reset = r == RELAY_ERR_FROM && h->resp_body == HTTP_BODY_UNTIL_CLOSE;
        http__close(h);
    }
}

/* The exchange is over: log, recycle the server connection, wait for the next request. */
static void finish_exchange(struct hs *h)
{
    if (h->srv_keep && h->sc && !relay_pending(&h->c2s) && h->sc->priv) {
        if (h->cli_keep) { /* kept for this client only; pool_put's check applies */
            h->priv = h->sc;
            h->sc = NULL;
            if (!srv_conn_is_quiet(h->priv))
                drop_private_conn(h);
        } else {
            http__drop_server_conn(h);
        }
    } else if (h->srv_keep && h->sc && !relay_pending(&h->c2s)) {
        pool_put(h->sc);
        h->sc = NULL;
    } else {
        http__drop_server_conn(h);
    }
    http__release_slot(h);
    shift_request(h);
    if (!h->cli_keep) {
        http__linger(h);
        return;
    }
    log_request(h);
    relay_dir_release(h->w, &h->c2s);
    relay_dir_release(h->w, &h->s2c);
    h->state = HS_REQ_WAIT;
    h->first = false;
    h->req_sent = h->req_done = h->resp_head_done = h->resp_done = false;
    h->status = 0;
    h->term[0] = h->term[1] = '-';
    h->t_req = h->t_req_head = h->t_queue = h->t_conn = h->t_conn_end = h->t_resp = 0;
    h->bytes_out = 0;
    h->retries_done = 0;
    h->sv = NULL;
    h->be = NULL; /* chosen again by the next request's routing */
    h->local_reply = false;
    h->auth_state = 0;
    h->auth_user = NULL;
    h->t_idle_from = h->w->now;
    if (h->rlen == 0) {
        buf_put(h, &h->rbuf);
    } else {
        /* A pipelined request is here already: it starts now (hs_read_request begins one only
         * when a read starts on an empty buffer). */
        request_begins(h);
    }
    http__arm_timer(h);
    if (h->rlen > 0 || h->cs.readable)
        hs_read_request(h);
}

void http__progress(struct hs *h)
{
    if (h->state != HS_EXCHANGE)
        return;
    forward_request_body(h);
    if (h->state != HS_EXCHANGE || !h->sc)
        return;
    if (!h->resp_head_done && relay_pending(&h->s2c) && !h->cs.wblocked) {
        /* An interim response (100, 103) still to write holds back the final head: write it
         * first, or what came after it (in sbuf, or read already) would wait for an event
         * that is not coming. */
        if (relay_flush(h->w, &h->s2c, &h->cs) < 0) {
            http__set_term(h, 'C', 'D');
            http__close(h);
            return;
        }
    }
    if (!h->resp_head_done)
        read_response(h);
    if (h->state == HS_EXCHANGE && h->sc)
        forward_response_body(h);
    if (h->state == HS_EXCHANGE && relay_pending(&h->s2c) && !h->cs.wblocked) {
        if (relay_flush(h->w, &h->s2c, &h->cs) < 0) {
            http__set_term(h, 'C', 'D');
            http__close(h);
            return;
        }
    }
    if (h->state == HS_EXCHANGE && h->req_done && h->resp_done && !relay_pending(&h->s2c))
        finish_exchange(h);
}

void http__tunnel(struct hs *h)
{
    uint64_t before = h->s2c.bytes;
    uint32_t ct, st;
    tunnel_timeouts(h, &ct, &st);
    /* A server that reset takes nothing more; what it sent before still goes to the client,
     * and reading past it returns the error that ends the tunnel. */
    enum relay_res r =
        h->sc->failed ? RELAY_IDLE : relay_pump(h->w, &h->c2s, &h->cs, &h->sc->side, h->s2c.shut);
    if (r == RELAY_IDLE)
        r = relay_pump(h->w, &h->s2c, &h->sc->side, &h->cs, h->c2s.shut);
    h->bytes_out += h->s2c.bytes - before; /* the logs count tunnelled bytes too */
    if (r != RELAY_IDLE) {
        http__set_term(h, r == RELAY_ERR_FROM ? 'C' : 'S', 'D');
        http__close(h);
        return;
    }
    if (h->c2s.shut && h->s2c.shut) {
        http__close(h);
        return;
    }
    /* A FIN that passed may have switched a side to timeout client-fin / server-fin, whose
     * deadline may come before the armed one. */
    uint32_t ct2, st2;
    tunnel_timeouts(h, &ct2, &st2);
    if (ct2 != ct || st2 != st)
        http__arm_timer(h);
}

/* ---- events --------------------------------------------------------------------------------- */

void http__on_srv_event(void *owner, struct srv_conn *sc, unsigned ev)
{
    struct hs *h = owner;
    if (h->state == HS_CLOSED)
        return;
    if (sc == h->priv) { /* parked between requests: as an idle pooled connection */
        if (!srv_conn_idle_event_ok(sc, ev))
            drop_private_conn(h);
        return;
    }
    if (ev & (LOOP_IN | LOOP_HUP))
        sc->side.readable = true;
    if (ev & LOOP_HUP)
        sc->side.hup = true;
    if (ev & LOOP_OUT)
        sc->side.wblocked = false;
    if (h->state == HS_CONNECTING) {
        int err = (ev & (LOOP_ERR | LOOP_HUP)) ? sock_error(sc->h.fd) : 0;
        if (err || (ev & LOOP_ERR)) {
            connect_failed(h, err ? err : ECONNREFUSED, false);
            return;
        }
        if (!(ev & (LOOP_OUT | LOOP_IN | LOOP_HUP)))
            return;
        sc->connected = true;
        h->t_conn_end = h->w->now;
        if (h->fwd)
            http__fwd_connected(h);
        else
            http__send_request(h);
        return;
    }
    if (ev & LOOP_ERR) {
        if (h->state != HS_EXCHANGE && h->state != HS_TUNNEL) {
            server_failed(h, h->resp_head_done ? 'D' : 'H', 502);
            return;
        }
        /* A reset (a server closing with request bytes unread does that) does not take back
         * what it sent before: reads return those bytes, then the error. Read on, so that a
         * whole response is relayed and an incomplete one fails where its bytes end. */
        sc->side.readable = sc->side.hup = true;
        sc->failed = true;
    }
    if (h->state == HS_EXCHANGE) {
        http__progress(h);
        /* Bytes read from the server may now wait for the client: its timeout runs from here
         * (deadline_for), maybe before the deadline armed so far. */
        if (h->state == HS_EXCHANGE)
            http__arm_timer(h);
    } else if (h->state == HS_TUNNEL) {
        http__tunnel(h);
    }
}

static void hs_read_request(struct hs *h)
{
    if (!buf_get(h, &h->rbuf)) {
        http__set_term(h, 'R', 'R');
        http__close(h);
        return;
    }
    for (;;) {
        if (h->rlen > 0) {
            struct http_msg *m = parse_index(h, &tl_msg);
            int r = http_parse_request(h->rbuf, h->rlen, h->rprev, m);
            if (r > 0) {
                timer_disarm(&h->w->tw, &h->tmr);
                process_request(h, m);
                return;
            }
            if (r < 0) {
                http__set_term(h, 'P', 'R');
                if (!h->logline && h->fe->cfg->http.httplog)
                    h->logline = NULL;
                http__reply_error(h, http_error_status(-r, false));
                return;
            }
            h->rprev = h->rlen;
            if (h->rlen == h->w->bufsize) {
                http__set_term(h, 'P', 'R');
                http__reply_error(h, 431);
                return;
            }
        }
        if (!h->cs.readable)
            return;
        ssize_t n = recv(h->cli.fd, h->rbuf + h->rlen, h->w->bufsize - h->rlen, MSG_DONTWAIT);
        if (n > 0) {
            if (h->rlen == 0) {
                request_begins(h);
                h->st_req = true;
                h->auth_state = 0;
                h->auth_user = NULL;
                http__arm_timer(h);
            }
            h->rlen += (uint32_t)n;
            h->cs.last = h->w->now;
            if ((size_t)n < h->w->bufsize - (h->rlen - (uint32_t)n) && !h->cs.hup)
                h->cs.readable = false;
            continue;
        }
        if (n == 0) {
            /* The client closed: quietly between requests, as an aborted request otherwise. */
            if (h->rlen)
                http__set_term(h, 'C', 'R');
            else
                h->logline = NULL;
            http__close(h);
            return;
        }
        if (errno == EAGAIN) {
            h->cs.readable = false;
            if (h->rlen == 0)
                buf_put(h, &h->rbuf);
            return;
        }
        if (errno == EINTR)
            continue;
        http__set_term(h, 'C', 'R');
        http__close(h);
        return;
    }
}

/* `accept-proxy`: the connection starts with a PROXY v1/v2 header from a balancer in front;
 * the client address it carries replaces the socket's peer for ACLs, logs and forwardfor. */
static void read_proxy_header(struct hs *h)
{
    uint8_t buf[PP_PEEK_MAX];
    ssize_t n = recv(h->cli.fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        h->cs.readable = false;
        return;
    }
    struct pp_info info;
    int hl = n > 0 ? pp_parse(buf, (size_t)n, &info) : -1;
    if (hl == 0 && (size_t)n < sizeof(buf)) {
        h->cs.readable = false;
        return; /* the rest of the header is still on its way */
    }
    if (hl <= 0 || recv(h->cli.fd, buf, (size_t)hl, MSG_DONTWAIT) != hl) {
        if (hl < 0 && n > 0) {
            char cli[64];
            http__cli_addr(h);
            log_msg(LOG_LV_NOTICE, "frontend %s: invalid PROXY protocol header from %s, closing",
                    h->fe->cfg->name, sock_addr_str(&h->cli_addr.sa, cli, sizeof(cli)));
        }
        http__set_term(h, n > 0 ? 'P' : 'C', 'R');
        http__close(h);
        return;
    }
    if (!info.local) {
        memcpy(&h->cli_addr, &info.src, sizeof(h->cli_addr));
        h->have_cli_addr = true;
        memcpy(&h->dst_addr, &info.dst, sizeof(h->dst_addr));
        h->have_dst_addr = true;
    }
    h->state = HS_REQ_WAIT;
    h->cs.readable = true; /* the request may have come with the header */
    hs_read_request(h);
}

static void on_cli_event(struct loop_handler *lh, unsigned ev)
{
    struct hs *h = container_of(lh, struct hs, cli);
    if (h->state == HS_CLOSED)
        return;
    if (ev & LOOP_ERR) {
        http__set_term(h, 'C', h->state == HS_REQ_WAIT ? 'R' : h->state == HS_TARPIT ? 'T' : 'D');
        http__close(h);
        return;
    }
    if (ev & (LOOP_IN | LOOP_HUP))
        h->cs.readable = true;
    if (ev & LOOP_HUP)
        h->cs.hup = true;
    if (ev & LOOP_OUT)
        h->cs.wblocked = false;
    switch (h->state) {
    case HS_PROXY_WAIT:
        read_proxy_header(h);
        break;
    case HS_REQ_WAIT:
        hs_read_request(h);
        break;
    case HS_EXCHANGE:
        if (h->local_reply) { /* our own response still being written */
            if (!h->cs.wblocked && relay_flush(h->w, &h->s2c, &h->cs) < 0) {
                http__close(h);
                return;
            }
            if (!relay_pending(&h->s2c))
                http__linger(h);
            break;
        }
        http__progress(h);
        /* The server's timeout pauses while the client does not read (deadline_for): once
         * the client takes bytes again the next deadline may come before the armed one. (A
         * completed exchange re-arms for the next request itself.) */
        if ((ev & LOOP_OUT) && h->state == HS_EXCHANGE)
            http__arm_timer(h);
        break;
    case HS_TUNNEL:
        http__tunnel(h);
        break;
    case HS_TARPIT:
        /* Held: nothing is read. A half-close is not an abort (some clients shut their side
         * after the request and wait for the answer); a reset ends it (LOOP_ERR above: CT). */
        break;
    case HS_LINGER:
        if (relay_pending(&h->s2c)) {
            if (relay_flush(h->w, &h->s2c, &h->cs) < 0) {
                http__close(h);
                return;
            }
        }
        for (;;) {
            ssize_t n = recv(h->cli.fd, h->w->scratch, h->w->bufsize, MSG_DONTWAIT);
            if (n > 0)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            http__close(h);
            return;
        }
    default:
        break;
    }
}

void http_stream_accept(struct worker *w, struct frontend *fe, unsigned bind, int fd,
                        const union peer_addr *peer)
{
    struct stk_trackers trk = {0};
    if (fe->cfg->http.nconn_rules && !conn_rules_accept(w, fe, bind, peer, &trk)) {
        conn_rules_rejected(w, fe, fd);
        return;
    }
    struct hs *h = calloc(1, sizeof(*h));
    if (!h) {
        stktable_untrack_some(&trk, 0xff, (uint32_t)w->now);
        worker_session_refused(w, fe, fd);
        return;
    }
    h->trk = trk;
    h->w = w;
    h->fe = fe;
    h->cli.fd = h->cs.fd = fd;
    h->cs.lh = &h->cli; /* batched writes report completion to on_cli_event */
    h->cli.fn = on_cli_event;
    h->term[0] = h->term[1] = '-';
    if (peer->sa.sa_family == AF_INET || peer->sa.sa_family == AF_INET6) {
        memcpy(&h->cli_addr, peer, sizeof(*peer));
        h->have_cli_addr = true;
    }
    h->link.abort = hs_abort;
    h->link.describe = hs_describe;
    h->qlink.retry = hs_dequeue;
    h->dfr.free_fn = hs_free;
    h->first = true;
    h->logged = true; /* nothing to log until a request starts */
    h->t_accept = h->t_idle_from = w->now;
    relay_dir_init(&h->c2s, 0);
    relay_dir_init(&h->s2c, 0);
    timer_init(&h->tmr, on_timer);
    atomic_fetch_add_explicit(&fe->total, 1, memory_order_relaxed);
    worker_session_begin(w, &h->link);
    if (loop_add(w->loop, &h->cli) < 0) {
        http__set_term(h, 'R', 'R');
        http__close(h);
        return;
    }
    bool proxy = bind < fe->cfg->nbinds && fe->cfg->binds[bind].accept_proxy;
    h->state = proxy ? HS_PROXY_WAIT : HS_REQ_WAIT;
    http__arm_timer(h);
}

void http_worker_free(struct worker *w)
{
    pool_free_worker(w);
}
