/* Statistics: per-worker counter slots, histogram bucket math, sums and snapshots (see stats.h). */
#include "core/stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/worker.h"

#define STATS_BASE_US 500u /* upper bound of bucket 0 */

static size_t round64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

struct stats *stats_new(unsigned nworkers, size_t nfe, size_t nbe, const size_t *nsrv)
{
    struct stats *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->nworkers = nworkers;
    st->nfe = nfe;
    st->nbe = nbe;
    st->version = "";
    st->start_ms = clock_mono_ms();
    st->srv_base = calloc(nbe ? nbe : 1, sizeof(*st->srv_base));
    st->w = calloc(nworkers ? nworkers : 1, sizeof(*st->w));
    st->blocks = calloc(nworkers ? nworkers : 1, sizeof(*st->blocks));
    if (!st->srv_base || !st->w || !st->blocks) {
        stats_free(st);
        return NULL;
    }
    for (size_t i = 0; i < nbe; i++) {
        st->srv_base[i] = st->nsrv;
        st->nsrv += nsrv[i];
    }
    /* One block per worker, each starting on its own cache line: no two workers' slots share
     * a line, so increments never bounce lines between cores. */
    size_t o_fe = 0, o_be = o_fe + round64(nfe * sizeof(struct stats_counters));
    size_t o_srv = o_be + round64(nbe * sizeof(struct stats_counters));
    size_t o_bl = o_srv + round64(st->nsrv * sizeof(struct stats_counters));
    size_t o_sl = o_bl + round64(nbe * sizeof(struct stats_lat_set));
    size_t size = o_sl + round64(st->nsrv * sizeof(struct stats_lat_set));
    if (size == 0)
        size = 64;
    for (unsigned i = 0; i < nworkers; i++) {
        char *b = aligned_alloc(64, size);
        if (!b) {
            stats_free(st);
            return NULL;
        }
        memset(b, 0, size);
        st->blocks[i] = b;
        struct stats_worker *w = &st->w[i];
        w->fe = (struct stats_counters *)(b + o_fe);
        w->be = (struct stats_counters *)(b + o_be);
        w->srv = (struct stats_counters *)(b + o_srv);
        w->be_lat = (struct stats_lat_set *)(b + o_bl);
        w->srv_lat = (struct stats_lat_set *)(b + o_sl);
        w->srv_base = st->srv_base;
    }
    return st;
}

void stats_free(struct stats *st)
{
    if (!st)
        return;
    if (st->blocks)
        for (unsigned i = 0; i < st->nworkers; i++)
            free(st->blocks[i]);
    free(st->blocks);
    free(st->w);
    free(st->srv_base);
    free(st);
}

/* ---- histograms ---------------------------------------------------------------------------- */

unsigned stats_bucket_of(uint64_t us)
{
    /* q = ceil(us / 0.5 ms); bucket k holds q in (2^(k-1), 2^k] */
    uint64_t q = (us + STATS_BASE_US - 1) / STATS_BASE_US;
    if (q <= 1)
        return 0;
    unsigned k = 64u - (unsigned)__builtin_clzll(q - 1);
    return k < STATS_NBUCKETS - 1 ? k : STATS_NBUCKETS - 1;
}

uint64_t stats_bucket_bound_us(unsigned i)
{
    if (i >= STATS_NBUCKETS - 1)
        return UINT64_MAX;
    return (uint64_t)STATS_BASE_US << i;
}

void stats_hist_add(struct stats_hist *h, uint64_t us)
{
    unsigned b = stats_bucket_of(us);
    atomic_store_explicit(&h->bucket[b],
                          atomic_load_explicit(&h->bucket[b], memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&h->sum_us, atomic_load_explicit(&h->sum_us, memory_order_relaxed) + us,
                          memory_order_relaxed);
}

double stats_hist_quantile(const struct stats_hist_snap *h, double q)
{
    if (h->count == 0)
        return -1;
    if (q <= 0)
        q = 0;
    if (q > 1)
        q = 1;
    double rank = q * (double)h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < STATS_NBUCKETS; i++) {
        uint64_t n = h->bucket[i];
        if (n == 0 || (double)(seen + n) < rank) {
            seen += n;
            continue;
        }
        if (i == STATS_NBUCKETS - 1) /* +Inf: the last finite bound, as histogram_quantile */
            return (double)stats_bucket_bound_us(i - 1) / 1000.0;
        double lo = i == 0 ? 0 : (double)stats_bucket_bound_us(i - 1);
        double hi = (double)stats_bucket_bound_us(i);
        double frac = (rank - (double)seen) / (double)n;
        return (lo + (hi - lo) * frac) / 1000.0;
    }
    return (double)stats_bucket_bound_us(STATS_NBUCKETS - 2) / 1000.0;
}

double stats_hist_mean_ms(const struct stats_hist_snap *h)
{
    return h->count ? (double)h->sum_us / (double)h->count / 1000.0 : -1;
}

/* ---- sums ---------------------------------------------------------------------------------- */

static void sum_counters(const struct stats *st, size_t off_elems, int which, uint64_t *out)
{
    memset(out, 0, sizeof(uint64_t) * STC__N);
    for (unsigned w = 0; w < st->nworkers; w++) {
        const struct stats_worker *sw = &st->w[w];
        const struct stats_counters *o = which == 0   ? &sw->fe[off_elems]
                                         : which == 1 ? &sw->be[off_elems]
                                                      : &sw->srv[off_elems];
        for (unsigned c = 0; c < STC__N; c++)
            out[c] += atomic_load_explicit(&o->c[c], memory_order_relaxed);
    }
}

void stats_sum_fe(const struct stats *st, size_t fe, uint64_t out[STC__N])
{
    sum_counters(st, fe, 0, out);
}

void stats_sum_be(const struct stats *st, size_t be, uint64_t out[STC__N])
{
    sum_counters(st, be, 1, out);
}

void stats_sum_srv(const struct stats *st, size_t be, size_t srv, uint64_t out[STC__N])
{
    sum_counters(st, st->srv_base[be] + srv, 2, out);
}

static void sum_hist(const struct stats *st, bool srv, size_t idx, enum stats_lat l,
                     struct stats_hist_snap *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned w = 0; w < st->nworkers; w++) {
        const struct stats_worker *sw = &st->w[w];
        const struct stats_hist *h = srv ? &sw->srv_lat[idx].h[l] : &sw->be_lat[idx].h[l];
        for (unsigned b = 0; b < STATS_NBUCKETS; b++) {
            uint64_t n = atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
            out->bucket[b] += n;
            out->count += n;
        }
        out->sum_us += atomic_load_explicit(&h->sum_us, memory_order_relaxed);
    }
}

void stats_sum_be_hist(const struct stats *st, size_t be, enum stats_lat l,
                       struct stats_hist_snap *out)
{
    sum_hist(st, false, be, l, out);
}

void stats_sum_srv_hist(const struct stats *st, size_t be, size_t srv, enum stats_lat l,
                        struct stats_hist_snap *out)
{
    sum_hist(st, true, st->srv_base[be] + srv, l, out);
}

/* ---- snapshot ------------------------------------------------------------------------------ */

static const char *balance_name(enum cfg_balance b)
{
    switch (b) {
    case CFG_LB_ROUNDROBIN:
        return "roundrobin";
    case CFG_LB_STATIC_RR:
        return "static-rr";
    case CFG_LB_LEASTCONN:
        return "leastconn";
    case CFG_LB_FIRST:
        return "first";
    case CFG_LB_SOURCE:
        return "source";
    case CFG_LB_RANDOM:
        return "random";
    case CFG_LB_URI:
        return "uri";
    case CFG_LB_URL_PARAM:
        return "url_param";
    case CFG_LB_HDR:
        return "hdr";
    }
    return "";
}

static void server_row(const struct runtime *rt, const struct backend *be, size_t bi, size_t si,
                       uint64_t now, struct stats_row *r)
{
    const struct server *s = &be->servers[si];
    const struct cfg_server *c = s->cfg;
    r->type = STATS_ROW_SRV;
    r->svname = c->name;
    r->sid = (unsigned)si + 1;
    stats_sum_srv(rt->stats, bi, si, r->c);
    for (unsigned l = 0; l < STL__N; l++)
        stats_sum_srv_hist(rt->stats, bi, si, l, &r->hist[l]);
    r->has_hist = true;
    r->scur = atomic_load_explicit(&s->cur_conns, memory_order_relaxed);
    r->slim = c->maxconn;
    r->lbtot = atomic_load_explicit(&s->total_conns, memory_order_relaxed);
    int state = atomic_load_explicit(&s->state, memory_order_relaxed);
    r->has_check = c->check;
    r->backup = c->backup;
    r->maint = state == SRV_ST_MAINT;
    r->up = state == SRV_ST_UP;
    /* HAProxy shows a server drained by the runtime API as DRAIN */
    bool drain = atomic_load_explicit(&s->admin, memory_order_relaxed) & SRV_ADMF_FDRAIN;
    r->status = state == SRV_ST_MAINT  ? "MAINT"
                : state == SRV_ST_DOWN ? "DOWN"
                : drain                ? "DRAIN"
                : c->check             ? "UP"
                                       : "no check";
    r->weight = atomic_load_explicit(&s->eweight, memory_order_relaxed);
    r->act = c->backup ? 0 : 1;
    r->bck = c->backup ? 1 : 0;
    if (c->check) {
        int cs = atomic_load_explicit(&s->check_status, memory_order_relaxed);
        r->check_status = srv_check_name((enum srv_check)cs);
        r->check_code = atomic_load_explicit(&s->check_code, memory_order_relaxed);
        r->chkfail = atomic_load_explicit(&s->chk_fail, memory_order_relaxed);
        r->chkdown = atomic_load_explicit(&s->chk_down, memory_order_relaxed);
    }
    uint64_t lc = atomic_load_explicit(&s->last_change_ms, memory_order_relaxed);
    r->lastchg_s = now > lc ? (int64_t)((now - lc) / 1000) : 0;
    r->downtime_s = (int64_t)(server_downtime_ms(s, now) / 1000);
    r->addr = c->addr_text;
}

static void backend_row(const struct runtime *rt, const struct backend *be, size_t bi,
                        const struct stats_row *srv, struct stats_row *r)
{
    r->type = STATS_ROW_BE;
    r->svname = "BACKEND";
    stats_sum_be(rt->stats, bi, r->c);
    for (unsigned l = 0; l < STL__N; l++)
        stats_sum_be_hist(rt->stats, bi, l, &r->hist[l]);
    r->has_hist = true;
    r->qcur = atomic_load_explicit(&be->queued, memory_order_relaxed);
    r->lastchg_s = -1;
    r->downtime_s = -1;
    for (size_t i = 0; i < be->nservers; i++) {
        const struct stats_row *s = &srv[i];
        r->scur += s->scur;
        r->lbtot += s->lbtot;
        r->chkdown += s->chkdown;
        if (s->up) {
            r->weight += s->weight;
            if (s->backup)
                r->bck++;
            else
                r->act++;
        }
        if (r->lastchg_s < 0 || s->lastchg_s < r->lastchg_s)
            r->lastchg_s = s->lastchg_s;
    }
    r->up = r->act + r->bck > 0;
    /* a [listen stats] section has no server: it answers by itself */
    const struct cfg_http *hp = &be->cfg->http;
    if (be->nservers == 0 && be->cfg->mode == CFG_MODE_HTTP &&
        (hp->stats.enabled || hp->has_service))
        r->up = true;
    r->status = r->up ? "UP" : "DOWN";
    r->algo = balance_name(be->cfg->balance);
}

struct stats_snap *stats_snapshot(const struct runtime *rt)
{
    const struct config *cfg = rt->cfg;
    struct stats_snap *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->px = calloc(cfg->nproxies ? cfg->nproxies : 1, sizeof(*s->px));
    if (!s->px) {
        free(s);
        return NULL;
    }
    uint64_t now = clock_mono_ms();
    s->version = rt->stats->version;
    s->pid = (int)getpid();
    s->nworkers = rt->nworkers;
    s->uptime_s = (now - rt->stats->start_ms) / 1000;
    s->cur_conns = atomic_load_explicit(&rt->live, memory_order_relaxed);
    bool stopping = atomic_load_explicit(&rt->state, memory_order_relaxed) != RT_RUNNING;
    for (size_t i = 0; i < cfg->nproxies; i++) {
        const struct cfg_proxy *p = &cfg->proxies[i];
        const struct frontend *fe = NULL;
        for (size_t f = 0; f < rt->nfes; f++)
            if (rt->fes[f].cfg == p)
                fe = &rt->fes[f];
        const struct backend *be = balancer_find(rt->bal, p);
        struct stats_proxy *px = &s->px[s->npx++];
        px->name = p->name;
        px->mode = p->mode == CFG_MODE_HTTP ? "http" : "tcp";
        px->iid = (unsigned)i + 1;
        px->has_fe = fe != NULL;
        px->has_be = be != NULL;
        size_t n = (fe ? 1 : 0) + (be ? be->nservers + 1 : 0);
        px->rows = calloc(n ? n : 1, sizeof(*px->rows));
        if (!px->rows) {
            stats_snap_free(s);
            return NULL;
        }
        if (fe) {
            struct stats_row *r = &px->rows[px->nrows++];
            r->type = STATS_ROW_FE;
            r->svname = "FRONTEND";
            stats_sum_fe(rt->stats, fe->idx, r->c);
            r->c[STC_SESS] = atomic_load_explicit(&fe->total, memory_order_relaxed);
            r->scur = atomic_load_explicit(&fe->live, memory_order_relaxed);
            r->slim = p->maxconn;
            r->up = !stopping;
            r->status = stopping ? "STOP" : "OPEN";
            r->lastchg_s = -1;
            r->downtime_s = -1;
        }
        if (be) {
            size_t bi = (size_t)(be - rt->bal->backends);
            struct stats_row *first = &px->rows[px->nrows];
            for (size_t si = 0; si < be->nservers; si++)
                server_row(rt, be, bi, si, now, &px->rows[px->nrows++]);
            backend_row(rt, be, bi, first, &px->rows[px->nrows++]);
        }
        for (size_t r = 0; r < px->nrows; r++) {
            px->rows[r].pxname = p->name;
            px->rows[r].iid = px->iid;
            px->rows[r].mode = px->mode;
        }
    }
    return s;
}

void stats_snap_free(struct stats_snap *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->npx; i++)
        free(s->px[i].rows);
    free(s->px);
    free(s);
}
