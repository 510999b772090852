/* tcp-request connection rules at run time; see conn_rules.h. */
#include "net/conn_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/stats.h"
#include "net/http/acl.h"
#include "net/http/track.h"

bool conn_rules_accept(struct worker *w, const struct frontend *fe, unsigned bind,
                       const union peer_addr *peer, struct stk_trackers *trk)
{
    const struct cfg_proxy *p = fe->cfg;
    struct acl_ctx c;
    memset(&c, 0, sizeof(c));
    c.method = c.target = c.path = "";
    if (peer->sa.sa_family == AF_INET || peer->sa.sa_family == AF_INET6)
        c.src = &peer->sa;
    if (bind < p->nbinds) { /* dst_port: the port of the bind line (the listener's own) */
        const struct sockaddr_storage *a = &p->binds[bind].addr;
        c.dst_port = ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                                    : ((const struct sockaddr_in *)a)->sin_port);
    }
    c.trk = trk;
    c.now_ms = (uint32_t)w->now;
    for (size_t i = 0; i < p->http.nconn_rules; i++) {
        const struct cfg_http_rule *r = &p->http.conn_rules[i];
        if (!acl_cond_eval(&p->http, &r->cond, &c))
            continue;
        if (r->action == HTTP_ACT_ALLOW)
            return true;
        if (r->action == HTTP_ACT_DENY) {
            /* the attempt stays counted (conn_cnt, conn_rate): a client that keeps trying
               keeps its rate up */
            stktable_untrack_some(trk, 0xff, c.now_ms);
            return false;
        }
        http_track_rule(&c, r, false);
    }
    return true;
}

void conn_rules_rejected(struct worker *w, struct frontend *fe, int fd)
{
    if (w->st)
        stats_add(stats_fe(w->st, fe->idx), STC_DCON, 1);
    worker_session_refused(w, fe, fd); /* at once, without reading: HAProxy's reject */
}
