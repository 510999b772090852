/* Checks a parsed configuration as a whole and fills in the defaults that depend on it. */
#include "config/config_internal.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *mode_name(enum cfg_mode m)
{
    return m == CFG_MODE_HTTP ? "http" : "tcp";
}

static bool same_addr(const struct cfg_bind *a, const struct cfg_bind *b)
{
    if (a->addr.ss_family != b->addr.ss_family)
        return false;
    if (a->addr.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->addr, *y = (const void *)&b->addr;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)&a->addr, *y = (const void *)&b->addr;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static void global_defaults(struct config *cfg)
{
    if (cfg->maxconn == 0) {
        /* Each proxied connection holds two descriptors; keep 64 for listeners, logs, pipes. */
        struct rlimit rl;
        unsigned long long soft = 1024;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
            soft = rl.rlim_cur == RLIM_INFINITY ? (1ULL << 21) : (unsigned long long)rl.rlim_cur;
        if (soft > (1ULL << 21))
            soft = 1ULL << 21;
        long long v = soft > 64 ? (long long)(soft - 64) / 2 : 0;
        cfg->maxconn = v < 64 ? 64 : (int)v;
    }
    if (cfg->bufsize == 0)
        cfg->bufsize = CFG_BUFSIZE_DEFAULT;
    if (cfg->pipesize == 0)
        cfg->pipesize = CFG_PIPESIZE_DEFAULT;
    if (cfg->nbthread == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->nbthread = n < 1 ? 1 : n > 4096 ? 4096 : (int)n;
    }
}

static int relink_all(struct cfg_http *h)
{
    for (size_t i = 0; i < h->nuse_backends; i++)
        if (config__cond_relink(h, &h->use_backends[i].cond))
            return -1;
    for (size_t i = 0; i < h->nreq_rules; i++)
        if (config__cond_relink(h, &h->req_rules[i].cond))
            return -1;
    for (size_t i = 0; i < h->nresp_rules; i++)
        if (config__cond_relink(h, &h->resp_rules[i].cond))
            return -1;
    for (size_t i = 0; i < h->nconn_rules; i++)
        if (config__cond_relink(h, &h->conn_rules[i].cond))
            return -1;
    return 0;
}

/* The first ACL of a condition for which `is` holds, or NULL. */
static const struct cfg_acl *cond_find_acl(const struct cfg_http *h, const struct cfg_cond *c,
                                           bool (*is)(const struct cfg_acl *))
{
    for (size_t t = 0; t < c->nterms; t++)
        for (size_t k = 0; k < c->terms[t].nacls; k++)
            if (is(&h->acls[c->terms[t].acls[k]]))
                return &h->acls[c->terms[t].acls[k]];
    return NULL;
}

/* Request-side conditions may not test the response: there is none yet (HAProxy warns that such
 * an ACL "will never match"; a rule that silently never applies is worse than a refusal). */
static int check_request_conds(struct cfg_parser *st, const struct cfg_http *h)
{
    for (size_t i = 0; i < h->nuse_backends + h->nreq_rules; i++) {
        bool ub = i < h->nuse_backends;
        const struct cfg_cond *c =
            ub ? &h->use_backends[i].cond : &h->req_rules[i - h->nuse_backends].cond;
        int line = ub ? h->use_backends[i].line : h->req_rules[i - h->nuse_backends].line;
        const struct cfg_acl *a = cond_find_acl(h, c, config__acl_is_response);
        const char *what = ub ? "use_backend" : "an http-request rule";
        if (a && a->name[0])
            return config__error_at(st, line,
                                    "%s tests ACL '%s' (line %d), which looks at the response: "
                                    "there is none yet when it runs (expected it in an "
                                    "http-response rule)",
                                    what, a->name, a->line);
        if (a)
            return config__error_at(st, line,
                                    "%s tests the response (status, res.hdr()): there is none "
                                    "yet when it runs (expected it in an http-response rule)",
                                    what);
    }
    return 0;
}

/* mode http parts of one proxy: use_backend targets, what needs mode http, cookies. */
static int validate_http(struct cfg_parser *st, struct cfg_proxy *p, const struct cfg_pproxy *pp)
{
    struct config *cfg = st->cfg;
    struct cfg_http *h = &p->http;
    const char *kind = config__sec_name(pp->sec);
    if (relink_all(h) != 0)
        return config__error_at(st, p->line, "out of memory");
    if (check_request_conds(st, h))
        return -1;
    for (size_t i = 0; i < h->nconn_rules; i++) {
        /* a connection rule runs at accept: nothing of a request exists yet */
        const struct cfg_acl *a = cond_find_acl(h, &h->conn_rules[i].cond, config__acl_is_l7);
        if (a)
            return config__error_at(st, h->conn_rules[i].line,
                                    "a tcp-request connection rule tests %s%s%s, which looks at "
                                    "a request: there is none yet when the connection is "
                                    "accepted (expected src, dst_port, src_* or sc_* tests, or "
                                    "an http-request rule)",
                                    a->name[0] ? "ACL '" : "the request", a->name,
                                    a->name[0] ? "'" : "");
    }

    for (size_t i = 0; i < h->nuse_backends; i++) {
        struct cfg_use_backend *ub = &h->use_backends[i];
        if (ub->fmt) {
            /* resolved per request (net/http/stream.c): a name that is no backend, or one of
               another mode, sends the request to default_backend */
            if (p->mode != CFG_MODE_HTTP)
                return config__error_at(st, ub->line,
                                        "use_backend '%s' in %s computes the backend's name "
                                        "from the request, which needs mode http (expected "
                                        "'mode http', or a backend name)",
                                        ub->name, pp->label);
            continue;
        }
        ub->backend = config_find_proxy(cfg, ub->name, CFG_CAP_BE);
        if (!ub->backend) {
            if (config_find_proxy(cfg, ub->name, CFG_CAP_FE))
                return config__error_at(st, ub->line,
                                        "use_backend '%s' of %s '%s' is a frontend, not a "
                                        "backend (expected the name of a [backend] or [listen] "
                                        "section)",
                                        ub->name, kind, p->name);
            return config__error_at(st, ub->line,
                                    "use_backend '%s' of %s '%s' does not exist (expected the "
                                    "name of a [backend] or [listen] section)",
                                    ub->name, kind, p->name);
        }
        if (ub->backend->mode != p->mode)
            return config__error_at(st, ub->line,
                                    "unable to use backend '%s' (mode %s) from %s '%s' (mode %s) "
                                    "(expected the same mode on both)",
                                    ub->backend->name, mode_name(ub->backend->mode), kind, p->name,
                                    mode_name(p->mode));
        const struct cfg_acl *a = cond_find_acl(h, &ub->cond, config__acl_is_l7);
        if (p->mode == CFG_MODE_TCP && a) {
            if (a->name[0])
                return config__error_at(st, ub->line,
                                        "use_backend '%s' in %s (mode tcp) tests ACL '%s' "
                                        "(line %d), which needs mode http (expected 'mode http', "
                                        "or only src and dst_port tests in mode tcp)",
                                        ub->name, pp->label, a->name, a->line);
            return config__error_at(st, ub->line,
                                    "use_backend '%s' in %s (mode tcp) tests the request, which "
                                    "needs mode http (expected 'mode http', or only src and "
                                    "dst_port tests in mode tcp)",
                                    ub->name, pp->label);
        }
    }

    if (p->mode == CFG_MODE_TCP) {
        if (h->nreq_rules || h->nresp_rules)
            return config__error_at(st,
                                    h->nreq_rules ? h->req_rules[0].line : h->resp_rules[0].line,
                                    "'%s' rules in %s need mode http (expected 'mode http' in "
                                    "the section or its [defaults])",
                                    h->nreq_rules ? "http-request" : "http-response", pp->label);
        bool l7_balance =
            p->balance == CFG_LB_URI || p->balance == CFG_LB_URL_PARAM || p->balance == CFG_LB_HDR;
        if ((p->caps & CFG_CAP_BE) && l7_balance)
            return config__error_at(st, pp->balance_line ? pp->balance_line : p->line,
                                    "balance %s in %s needs mode http (expected 'mode http', or "
                                    "an algorithm like roundrobin or source in mode tcp)",
                                    p->balance == CFG_LB_URI         ? "uri"
                                    : p->balance == CFG_LB_URL_PARAM ? "url_param"
                                                                     : "hdr()",
                                    pp->label);
        if ((p->caps & CFG_CAP_BE) && h->cookie.name[0])
            return config__error_at(st, pp->cookie_line ? pp->cookie_line : p->line,
                                    "cookie persistence in %s needs mode http (expected 'mode "
                                    "http', or balance source in mode tcp)",
                                    pp->label);
        /* HAProxy: "option httplog" without mode http falls back to tcplog */
        if (h->httplog) {
            h->httplog = false;
            p->tcplog = true;
        }
    }

    /* Cookie values pick one server: two servers with the same one are ambiguous. */
    if (p->caps & CFG_CAP_BE) {
        for (size_t i = 0; i < p->nservers; i++) {
            if (!p->servers[i].cookie[0])
                continue;
            for (size_t k = 0; k < i; k++)
                if (strcmp(p->servers[i].cookie, p->servers[k].cookie) == 0)
                    return config__error_at(st, p->servers[i].line,
                                            "server '%s' has the same cookie value '%s' as "
                                            "server '%s' at line %d (expected a value per "
                                            "server)",
                                            p->servers[i].name, p->servers[i].cookie,
                                            p->servers[k].name, p->servers[k].line);
        }
    }
    return 0;
}

/* A mode http proxy with a stats page or an http-request use-service rule answers requests
 * itself: it needs no server or backend (a [listen stats] section). */
static bool answers_locally(const struct cfg_proxy *p)
{
    return p->mode == CFG_MODE_HTTP && (p->http.stats.enabled || p->http.has_service);
}

static int cmp_backend_name(const void *x, const void *y)
{
    const struct cfg_proxy *a = *(const struct cfg_proxy *const *)x;
    const struct cfg_proxy *b = *(const struct cfg_proxy *const *)y;
    return cfg_map_keycmp(a->name, strlen(a->name), b->name, strlen(b->name));
}

/* The backends sorted by name, for config_find_backend (dynamic use_backend). */
static int index_backends(struct cfg_parser *st)
{
    struct config *cfg = st->cfg;
    cfg->be_by_name = calloc(cfg->nproxies ? cfg->nproxies : 1, sizeof(*cfg->be_by_name));
    if (!cfg->be_by_name)
        return config__error(st, "out of memory");
    for (size_t i = 0; i < cfg->nproxies; i++)
        if (cfg->proxies[i].caps & CFG_CAP_BE)
            cfg->be_by_name[cfg->nbe_by_name++] = &cfg->proxies[i];
    qsort(cfg->be_by_name, cfg->nbe_by_name, sizeof(*cfg->be_by_name), cmp_backend_name);
    return 0;
}

int config__validate(struct cfg_parser *st)
{
    struct config *cfg = st->cfg;
    global_defaults(cfg);
    if (index_backends(st) != 0 || config__stats_auth_build(st) != 0)
        return -1;
    if (config__validate_fwd_sections(st) != 0 || config__validate_errorfiles(st) != 0)
        return -1;

    for (size_t i = 0; i < cfg->nproxies; i++) {
        struct cfg_proxy *p = &cfg->proxies[i];
        const struct cfg_pproxy *pp = st->proxies[i];
        const char *kind = config__sec_name(pp->sec);

        for (size_t k = 0; k < p->nservers; k++) {
            struct cfg_server *s = &p->servers[k];
            if (s->fastinter == 0)
                s->fastinter = s->inter;
            if (s->downinter == 0)
                s->downinter = s->inter;
        }

        if (p->caps & CFG_CAP_FE) {
            if (p->nbinds == 0)
                return config__error_at(st, p->line,
                                        "%s '%s' has no 'bind' (expected at least one 'bind = "
                                        "ADDR:PORT')",
                                        kind, p->name);
            if (p->default_backend[0]) {
                int at = p->default_backend_line ? p->default_backend_line : p->line;
                p->backend = config_find_proxy(cfg, p->default_backend, CFG_CAP_BE);
                if (!p->backend) {
                    if (config_find_proxy(cfg, p->default_backend, CFG_CAP_FE))
                        return config__error_at(st, at,
                                                "default_backend '%s' of %s '%s' is a frontend, "
                                                "not a backend (expected the name of a [backend] "
                                                "or [listen] section)",
                                                p->default_backend, kind, p->name);
                    return config__error_at(st, at,
                                            "default_backend '%s' of %s '%s' does not exist "
                                            "(expected the name of a [backend] or [listen] "
                                            "section)",
                                            p->default_backend, kind, p->name);
                }
                if (p->backend->mode != p->mode)
                    return config__error_at(st, at,
                                            "unable to use backend '%s' (mode %s) from %s '%s' "
                                            "(mode %s) (expected the same mode on both)",
                                            p->backend->name, mode_name(p->backend->mode), kind,
                                            p->name, mode_name(p->mode));
            } else if (p->caps & CFG_CAP_BE) {
                /* a forward proxy (option http_proxy) goes to the origin each request names */
                if (p->nservers == 0 && p->http.nuse_backends == 0 && !p->http.http_proxy &&
                    !answers_locally(p))
                    return config__error_at(st, p->line,
                                            "listen '%s' has no 'server' and no default_backend "
                                            "(expected at least one 'server = NAME ADDR:PORT')",
                                            p->name);
                p->backend = p->nservers || !p->http.http_proxy ? p : NULL;
            } else if (p->http.nuse_backends == 0 && !p->http.http_proxy && !answers_locally(p)) {
                /* with use_backend rules, unmatched requests get a 503 as in HAProxy */
                return config__error_at(st, p->line,
                                        "frontend '%s' has no default_backend (expected "
                                        "'default_backend = NAME' naming a [backend] or "
                                        "[listen])",
                                        p->name);
            }
        }

        if (validate_http(st, p, pp) != 0 || config__validate_fwd_proxy(st, p, pp) != 0)
            return -1;

        if ((p->caps & CFG_CAP_BE) && pp->expect_line && p->check_type != CFG_CHECK_HTTP)
            return config__error_at(st, pp->expect_line,
                                    "'http-check expect' in %s needs 'option httpchk' (expected "
                                    "'option httpchk' in the same section or its [defaults])",
                                    pp->label);
    }

    if (config__validate_stick(st) != 0)
        return -1;

    for (size_t i = 0; i < cfg->nproxies; i++) {
        const struct cfg_proxy *p = &cfg->proxies[i];
        for (size_t b = 0; b < p->nbinds; b++) {
            for (size_t j = 0; j <= i; j++) {
                const struct cfg_proxy *o = &cfg->proxies[j];
                size_t end = j == i ? b : o->nbinds;
                for (size_t c = 0; c < end; c++) {
                    if (same_addr(&p->binds[b], &o->binds[c]))
                        return config__error_at(
                            st, p->binds[b].line,
                            "bind address '%s' is already used by %s '%s' at line %d (expected "
                            "each address once)",
                            p->binds[b].text, config__sec_name(st->proxies[j]->sec), o->name,
                            o->binds[c].line);
                }
            }
        }
    }
    return 0;
}
