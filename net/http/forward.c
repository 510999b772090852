/* Forward proxying (`option http_proxy`): clients configured to use sluice as their proxy send
 * absolute-form requests (`GET http://host/path HTTP/1.1`) and CONNECT tunnels. Each request
 * names its own origin: the name is resolved asynchronously (net/dns.c), connections to origins
 * are pooled per worker by host:port, requests are rewritten to origin-form without the Proxy-*
 * fields, and CONNECT becomes a spliced tunnel after `200 Connection established`.
 * Safe by default, as Squid is: without a client ACL only loopback and private networks may use
 * the proxy, and CONNECT goes only to port 443 unless a rule says otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/log.h"
#include "net/dns.h"
#include "net/http/acl.h"
#include "net/http/pool.h"
#include "net/http/stream_int.h"
#include "net/sock.h"

static bool addr_is_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == 0xAC1 /* 172.16/12 */ ||
               (a >> 16) == 0xC0A8 /* 192.168/16 */ || (a >> 16) == 0xA9FE /* 169.254/16 */;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a))
            return true;
        if ((a->s6_addr[0] & 0xFE) == 0xFC) /* fc00::/7 unique local */
            return true;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            struct sockaddr_in v4 = {.sin_family = AF_INET};
            memcpy(&v4.sin_addr, &a->s6_addr[12], 4);
            return addr_is_private((const struct sockaddr *)&v4);
        }
    }
    return false;
}

/* Split an authority "host[:port]" / "[v6][:port]" into host and port. */
static bool split_authority(const char *a, size_t len, uint16_t defport, struct fwd *f)
{
    const char *host = a, *port = NULL;
    size_t hl = len;
    if (len && a[0] == '[') {
        const char *e = memchr(a, ']', len);
        if (!e)
            return false;
        host = a + 1;
        hl = (size_t)(e - a - 1);
        if ((size_t)(e - a) + 1 < len) {
            if (e[1] != ':')
                return false;
            port = e + 2;
        }
    } else {
        const char *c = memchr(a, ':', len);
        if (c) {
            hl = (size_t)(c - a);
            port = c + 1;
        }
    }
    if (hl == 0 || hl >= sizeof(f->host))
        return false;
    unsigned p = defport;
    if (port) {
        size_t pl = len - (size_t)(port - a);
        if (pl == 0 || pl > 5)
            return false;
        p = 0;
        for (size_t i = 0; i < pl; i++) {
            if (port[i] < '0' || port[i] > '9')
                return false;
            p = p * 10 + (unsigned)(port[i] - '0');
        }
    }
    if (p == 0 || p > 65535)
        return false;
    memcpy(f->host, host, hl);
    f->host[hl] = '\0';
    f->host_len = hl;
    f->port = (uint16_t)p;
    bool v6 = memchr(f->host, ':', hl) != NULL;
    int n = snprintf(f->origin, sizeof(f->origin), v6 ? "[%s]:%u" : "%s:%u", f->host, p);
    f->origin_len = n > 0 ? (size_t)n : 0;
    return true;
}

static bool has_prefix_ci(const char *s, size_t len, const char *p)
{
    size_t pl = strlen(p);
    return len >= pl && strncasecmp(s, p, pl) == 0;
}

/* Fields a forward proxy must not pass on, plus those `option anonymize` withholds. */
static const char *const anon_fields[] = {
    "from",      "referer",        "x-forwarded-for", "x-real-ip",        "forwarded", "via",
    "client-ip", "true-client-ip", "x-client-ip",     "x-originating-ip", NULL};

bool http__fwd_drop_header(const struct hs *h, const struct http_msg *m, unsigned i)
{
    const struct http_hdr *hd = &m->hdr[i];
    const char *n = h->rbuf + hd->name_off;
    size_t nl = hd->name_len;
    if (hd->id == HTTP_H_HOST) /* rebuilt from the request's authority */
        return true;
    if (nl >= 6 && strncasecmp(n, "proxy-", 6) == 0) /* Proxy-Authorization, Proxy-Connection */
        return true;
    if (!h->fe->cfg->http.anonymize)
        return false;
    for (const char *const *a = anon_fields; *a; a++)
        if (strlen(*a) == nl && strncasecmp(n, *a, nl) == 0)
            return true;
    return false;
}

void http__fwd_end(struct hs *h)
{
    struct fwd *f = h->fwd;
    if (!f)
        return;
    if (f->q)
        dns_cancel(f->q);
    free(f->addrs);
    free(f);
    h->fwd = NULL;
}

static void try_next_address(struct hs *h, int last_err);

static void resolved(void *arg, enum dns_status st, const struct dns_addrs *a)
{
    struct hs *h = arg;
    struct fwd *f = h->fwd;
    f->q = NULL;
    if (st != DNS_OK || a->n == 0) {
        char msg[320];
        snprintf(msg, sizeof(msg), "%s %s",
                 st == DNS_E_TIMEOUT ? "DNS timeout resolving" : "cannot resolve", f->host);
        log_msg(LOG_LV_NOTICE, "forward proxy %s: %s", h->fe->cfg->name, msg);
        http__set_term(h, 'S', 'C');
        http__reply_text(h, st == DNS_E_TIMEOUT ? 504 : 502, msg);
        return;
    }
    free(f->addrs);
    f->addrs = malloc(sizeof(*f->addrs));
    if (!f->addrs) {
        http__set_term(h, 'R', 'C');
        http__reply_error(h, 500);
        return;
    }
    memcpy(f->addrs, a, sizeof(*a));
    f->next_addr = 0;
    try_next_address(h, 0);
}

/* Connect to the next address of the origin (IPv4 first, then IPv6). */
static void try_next_address(struct hs *h, int last_err)
{
    struct fwd *f = h->fwd;
    int err = last_err;
    while (f->addrs && f->next_addr < f->addrs->n) {
        unsigned i = f->next_addr++;
        h->sc =
            srv_conn_open_addr(h->w, (const struct sockaddr *)&f->addrs->addr[i], f->addrs->len[i],
                               f->origin, f->origin_len, h, http__on_srv_event, &err);
        if (h->sc) {
            h->sc->nolinger = h->fe->cfg->nolinger; /* origins have no backend section */
            h->state = HS_CONNECTING;
            h->t_conn = h->w->now;
            http__arm_timer(h);
            return;
        }
    }
    char msg[400];
    snprintf(msg, sizeof(msg), "cannot connect to %s (%s)", f->origin,
             err ? strerror(err) : "no address");
    log_msg(LOG_LV_NOTICE, "forward proxy %s: %s", h->fe->cfg->name, msg);
    http__set_term(h, 'S', 'C');
    http__reply_text(h, 502, msg);
}

bool http__fwd_connect_failed(struct hs *h, int err, bool timeout)
{
    struct fwd *f = h->fwd;
    http__drop_server_conn(h);
    if (f->addrs && f->next_addr < f->addrs->n) {
        try_next_address(h, err);
        return true;
    }
    char msg[400];
    snprintf(msg, sizeof(msg), "%s %s", timeout ? "timeout connecting to" : "cannot connect to",
             f->origin);
    if (!timeout)
        snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " (%s)", strerror(err));
    log_msg(LOG_LV_NOTICE, "forward proxy %s: %s", h->fe->cfg->name, msg);
    http__set_term(h, timeout ? 's' : 'S', 'C');
    http__reply_text(h, timeout ? 504 : 502, msg);
    return true;
}

static void resolve_and_connect(struct hs *h)
{
    struct fwd *f = h->fwd;
    h->state = HS_RESOLVING;
    h->t_conn = h->w->now;
    http__arm_timer(h);
    struct dns_resolver *r = pool_resolver(h->w, h->fe->cfg->http.resolvers);
    if (!r) {
        http__set_term(h, 'R', 'C');
        http__reply_text(h, 500, "the proxy cannot resolve names (resolver unavailable)");
        return;
    }
    /* May complete (and call resolved) before returning: literals, hosts file, cache. */
    struct dns_query *q = dns_resolve(r, f->host, f->host_len, f->port, resolved, h);
    if (h->fwd == f && h->state == HS_RESOLVING)
        f->q = q;
}

void http__fwd_connected(struct hs *h)
{
    struct fwd *f = h->fwd;
    free(f->addrs);
    f->addrs = NULL;
    if (!f->connect) {
        http__send_request(h);
        return;
    }
    /* CONNECT: tell the client, then bytes flow both ways untouched. */
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    h->status = 200;
    h->t_resp = h->w->now;
    h->bytes_out += sizeof(ok) - 1;
    h->state = HS_TUNNEL;
    h->req_sent = h->req_done = h->resp_head_done = true;
    relay_dir_release(h->w, &h->c2s);
    relay_dir_release(h->w, &h->s2c);
    relay_dir_init(&h->c2s, RELAY_UNLIMITED);
    relay_dir_init(&h->s2c, RELAY_UNLIMITED);
    h->sc->side.last = h->cs.last = h->w->now;
    if (relay_send(h->w, &h->s2c, &h->cs, ok, sizeof(ok) - 1) < 0) {
        http__set_term(h, 'C', 'D');
        http__close(h);
        return;
    }
    /* Bytes sent right after the CONNECT head (a TLS ClientHello) belong to the tunnel. */
    uint32_t used = h->req_head_len;
    if (h->rbuf && h->rlen > used &&
        relay_send(h->w, &h->c2s, &h->sc->side, h->rbuf + used, h->rlen - used) < 0) {
        http__set_term(h, 'S', 'D');
        http__close(h);
        return;
    }
    h->req_inbuf = h->rbuf && h->rlen > used ? h->rlen - used : 0;
    h->rlen = 0;
    h->req_shifted = true;
    http__arm_timer(h);
    http__tunnel(h);
}

bool http__fwd_retry(struct hs *h, unsigned why)
{
    struct fwd *f = h->fwd;
    /* Only the race of a pooled origin connection closing as we reused it is retried. */
    if (why != HTTP_RETRY_EMPTY_RESPONSE || !f || f->connect || !h->idempotent ||
        h->req_body != HTTP_BODY_NONE || !h->obuf || h->bytes_out > 0 || h->retries_done > 0)
        return false;
    http__drop_server_conn(h);
    relay_dir_release(h->w, &h->c2s);
    relay_dir_release(h->w, &h->s2c);
    relay_dir_init(&h->c2s, 0);
    h->slen = h->sprev = 0;
    h->resp_head_done = false;
    h->retries_done++;
    h->t_conn_end = 0;
    h->req_inbuf = 0;
    resolve_and_connect(h);
    return true;
}

void http__fwd_request(struct hs *h, const struct http_msg *m, struct acl_ctx *ctx)
{
    const struct cfg_proxy *fp = h->fe->cfg;
    struct fwd *f = h->fwd;
    if (!f && !(f = h->fwd = malloc(sizeof(*f)))) {
        http__set_term(h, 'R', 'R');
        http__reply_error(h, 500);
        return;
    }
    memset(f, 0, sizeof(*f));
    h->be = NULL;
    h->sv = NULL;
    const char *b = h->rbuf;
    if (m->method == HTTP_M_CONNECT) {
        f->connect = true;
        if (!split_authority(b + m->target.off, m->target.len, 0, f)) {
            http__set_term(h, 'P', 'R');
            http__reply_text(h, 400, "CONNECT needs a host:port target");
            return;
        }
    } else if (m->target_form == HTTP_TF_ABSOLUTE) {
        const char *t = b + m->target.off;
        if (!has_prefix_ci(t, m->target.len, "http://")) {
            http__set_term(h, 'P', 'R');
            http__reply_text(h, 400,
                             "only http:// URLs can be requested through this proxy; "
                             "https goes through CONNECT (set your client's https proxy)");
            return;
        }
        if (!split_authority(b + m->host.off, m->host.len, 80, f)) {
            http__set_term(h, 'P', 'R');
            http__reply_text(h, 400, "the URL's host or port is invalid");
            return;
        }
    } else {
        http__set_term(h, 'P', 'R');
        http__reply_text(h, 400,
                         "This is a forward proxy. Configure it as the HTTP proxy of your "
                         "client (for example: curl -x http://THIS-HOST:PORT URL, or "
                         "http_proxy=http://THIS-HOST:PORT) instead of requesting it "
                         "directly.");
        return;
    }
    /* Destination facts for url_dom, url_port, url_ip and req.host. */
    union peer_addr lit;
    memset(&lit, 0, sizeof(lit));
    if (inet_pton(AF_INET, f->host, &lit.in.sin_addr) == 1)
        lit.sa.sa_family = AF_INET;
    else if (inet_pton(AF_INET6, f->host, &lit.in6.sin6_addr) == 1)
        lit.sa.sa_family = AF_INET6;
    ctx->dst_host = ctx->req_host = f->host;
    ctx->dst_host_len = ctx->req_host_len = f->host_len;
    ctx->dst_url_port = f->port;
    ctx->dst_ip = lit.sa.sa_family ? &lit.sa : NULL;

    http__cli_addr(h);
    if (!fp->http.has_client_acl && !addr_is_private(&h->cli_addr.sa)) {
        char cli[64];
        log_msg(LOG_LV_NOTICE,
                "forward proxy %s: refused client %s (no client ACL: only local "
                "and private networks are served)",
                fp->name, sock_addr_str(&h->cli_addr.sa, cli, sizeof(cli)));
        http__set_term(h, 'P', 'R');
        http__reply_text(h, 403, "access denied: this proxy serves only local networks");
        return;
    }
    if (f->connect && !fp->http.has_connect_rule && f->port != 443) {
        http__set_term(h, 'P', 'R');
        http__reply_text(h, 403, "CONNECT is allowed to port 443 only");
        return;
    }
    struct hdr_edits edits;
    hdr_edits_init(&edits, !f->connect);
    if (http__request_rules(h, &fp->http, m, ctx, &edits))
        return;
    h->retries_left = 0;
    if (f->connect) {
        h->srv_keep = false;
        resolve_and_connect(h);
        return;
    }
    h->srv_keep = fp->http.reuse != HTTP_REUSE_NEVER && !fp->http.http_server_close &&
                  !fp->http.httpclose && !h->upgrade;
    if (http__build_request(h, m, &edits) < 0) {
        http__set_term(h, 'P', 'R');
        http__reply_error(h, 500);
        return;
    }
    if (h->srv_keep && !h->upgrade) {
        h->sc = http__take_private(h, NULL, f->origin);
        if (!h->sc)
            h->sc = pool_take_origin(h->w, f->origin, f->origin_len, h, http__on_srv_event);
        if (h->sc) {
            h->sc->nolinger = h->fe->cfg->nolinger; /* pooled by any forward-proxy frontend */
            h->t_conn = h->t_conn_end = h->w->now;
            http__send_request(h);
            return;
        }
    }
    resolve_and_connect(h);
}
