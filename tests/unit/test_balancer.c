/* Unit tests of balancer/: every algorithm against a reference model, backup/maint/full rules,
 * the health checker against real sockets on 127.0.0.1, and table swaps under concurrent picks. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "balancer/health.h"
#include "balancer/lb.h"
#include "balancer/lb_internal.h"
#include "balancer/maglev.h"
#include "balancer/server.h"
#include "core/clock.h"
#include "core/epoch.h"
#include "core/log.h"

#define MAXS 16

/* A hand-built config with one or two backends ("app", "app2") of up to MAXS servers. */
struct fix {
    struct config cfg;
    struct cfg_proxy px[2];
    struct cfg_server srv[2][MAXS];
    struct balancer *b;
    struct backend *be;
};

static void fix_proxy(struct fix *f, int p, enum cfg_balance bal, int n, const int *w)
{
    struct cfg_proxy *px = &f->px[p];
    snprintf(px->name, sizeof(px->name), p ? "app2" : "app");
    px->caps = CFG_CAP_BE;
    px->balance = bal;
    px->servers = f->srv[p];
    px->nservers = (size_t)n;
    px->retries = 3;
    for (int i = 0; i < n; i++) {
        struct cfg_server *s = &f->srv[p][i];
        snprintf(s->name, sizeof(s->name), "s%d", i);
        struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)(9000 + i));
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s->addrlen = sizeof(*sin);
        s->weight = w ? w[i] : 1;
        s->inter = 2000;
        s->rise = 2;
        s->fall = 3;
    }
}

static void fix_init(struct fix *f, enum cfg_balance bal, int n, const int *w)
{
    memset(f, 0, sizeof(*f));
    fix_proxy(f, 0, bal, n, w);
    f->cfg.proxies = f->px;
    f->cfg.nproxies = 1;
}

static void fix_start(struct fix *f)
{
    f->b = balancer_new(&f->cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->b);
    f->be = &f->b->backends[0];
}

static void fix_free(struct fix *f)
{
    balancer_free(f->b);
    f->b = NULL;
}

/* Pick n times from a fresh cursor and count picks per server. Returns the number of LB_OK. */
static int count_picks(struct backend *be, struct lb_cursor *c, int n, int *counts)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        struct server *s = NULL;
        if (lb_pick(be, c, (uint32_t)i * 2654435761u, NULL, &s) == LB_OK) {
            counts[s->idx]++;
            ok++;
        }
    }
    return ok;
}

/* Largest relative error |observed share - expected share| / expected share. */
static double max_rel_err(const int *counts, const int *w, int n, int total)
{
    int sw = 0;
    for (int i = 0; i < n; i++)
        sw += w[i];
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double exp = (double)w[i] / sw, obs = (double)counts[i] / total;
        double e = fabs(obs - exp) / exp;
        worst = e > worst ? e : worst;
    }
    return worst;
}

static const enum cfg_balance all_algos[] = {CFG_LB_ROUNDROBIN, CFG_LB_STATIC_RR, CFG_LB_LEASTCONN,
                                             CFG_LB_FIRST,      CFG_LB_SOURCE,    CFG_LB_RANDOM};
#define NALGOS (sizeof(all_algos) / sizeof(all_algos[0]))

/* ---- round-robin ---- */

/* nginx's smooth weighted round-robin written as plainly as possible, on plain arrays. */
static int ref_smooth(const int *w, long *cw, int n)
{
    long total = 0;
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (w[i] <= 0)
            continue;
        cw[i] += w[i];
        total += w[i];
        if (best < 0 || cw[i] > cw[best])
            best = i;
    }
    cw[best] -= total;
    return best;
}

static void test_rr_smooth_sequence(void)
{
    int w[] = {5, 1, 1};
    struct fix f;
    fix_init(&f, CFG_LB_ROUNDROBIN, 3, w);
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 1);
    char seq[15] = {0};
    for (int i = 0; i < 14; i++) {
        struct server *s = NULL;
        CU_ASSERT_EQUAL_FATAL(lb_pick(f.be, c, 0, NULL, &s), LB_OK);
        seq[i] = (char)('a' + s->idx);
    }
    CU_ASSERT_STRING_EQUAL(seq, "aabacaaaabacaa");
    lb_cursor_free(c);
    fix_free(&f);

    /* random weights against the reference model, 5000 picks each */
    srand(7);
    for (int round = 0; round < 20; round++) {
        int n = 2 + rand() % 7, ww[MAXS] = {0};
        for (int i = 0; i < n; i++)
            ww[i] = rand() % 12; /* 0 included: never picked */
        ww[0] = ww[0] ? ww[0] : 1;
        fix_init(&f, CFG_LB_ROUNDROBIN, n, ww);
        fix_start(&f);
        c = lb_cursor_new(f.be, (uint64_t)round);
        long cw[MAXS] = {0};
        int mismatches = 0;
        for (int i = 0; i < 5000; i++) {
            struct server *s = NULL;
            CU_ASSERT_EQUAL_FATAL(lb_pick(f.be, c, 0, NULL, &s), LB_OK);
            mismatches += (int)s->idx != ref_smooth(ww, cw, n);
        }
        CU_ASSERT_EQUAL(mismatches, 0);
        lb_cursor_free(c);
        fix_free(&f);
    }
}

static void check_distribution(enum cfg_balance bal, const int *w, int n, double bound,
                               const char *what)
{
    struct fix f;
    fix_init(&f, bal, n, w);
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 12345);
    int counts[MAXS] = {0};
    CU_ASSERT_EQUAL(count_picks(f.be, c, 100000, counts), 100000);
    double err = max_rel_err(counts, w, n, 100000);
    printf("\n    %s: max relative error %.3f%% over 100k picks ", what, err * 100);
    CU_ASSERT(err <= bound);
    lb_cursor_free(c);
    fix_free(&f);
}

static void test_rr_distribution(void)
{
    int w[] = {1, 2, 3, 4, 10, 7};
    check_distribution(CFG_LB_ROUNDROBIN, w, 6, 0.02, "roundrobin");
    check_distribution(CFG_LB_STATIC_RR, w, 6, 0.02, "static-rr");
}

static void test_rr_dynamic_weight(void)
{
    int w[] = {1, 1};
    struct fix f;
    fix_init(&f, CFG_LB_ROUNDROBIN, 2, w);
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 3);
    int counts[2] = {0};
    count_picks(f.be, c, 10000, counts);
    CU_ASSERT(abs(counts[0] - 5000) <= 100);
    server_set_weight(&f.be->servers[0], 3);
    int after[2] = {0};
    count_picks(f.be, c, 10000, after);
    int w2[] = {3, 1};
    CU_ASSERT(max_rel_err(after, w2, 2, 10000) <= 0.02);
    /* slowstart-like ramp to 0 stops traffic altogether */
    server_set_weight(&f.be->servers[0], 0);
    int none[2] = {0};
    count_picks(f.be, c, 1000, none);
    CU_ASSERT_EQUAL(none[0], 0);
    CU_ASSERT_EQUAL(none[1], 1000);
    lb_cursor_free(c);
    fix_free(&f);

    /* static-rr ignores weight changes other than to 0 */
    fix_init(&f, CFG_LB_STATIC_RR, 2, w);
    fix_start(&f);
    c = lb_cursor_new(f.be, 3);
    server_set_weight(&f.be->servers[0], 3);
    int st[2] = {0};
    count_picks(f.be, c, 10000, st);
    CU_ASSERT_EQUAL(st[0], 5000);
    lb_cursor_free(c);
    fix_free(&f);
}

/* ---- random (power of two choices) ---- */

/* |count - n p| <= k standard deviations of Binomial(n, p), without libm */
static bool within_sd(int count, int n, double p, double k)
{
    double d = count - n * p;
    return d * d <= k * k * n * p * (1 - p);
}

static void test_random_distribution(void)
{
    /* With no connections both draws tie and the first one is kept: each pick is one weighted
     * draw, so server i's count is Binomial(N, p_i). Allow 4 standard deviations (a false
     * failure has probability ~6e-5 per server; the seed is fixed anyway). For p = 0.1 and N =
     * 100k that is 3.8% relative; the tighter servers are well within 2%. */
    int w[] = {1, 2, 3, 4};
    struct fix f;
    fix_init(&f, CFG_LB_RANDOM, 4, w);
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 99);
    int counts[4] = {0};
    const int N = 100000;
    CU_ASSERT_EQUAL(count_picks(f.be, c, N, counts), N);
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        double p = w[i] / 10.0;
        CU_ASSERT(within_sd(counts[i], N, p, 4));
        double e = fabs(counts[i] - N * p) / (N * p);
        worst = e > worst ? e : worst;
    }
    printf("\n    random: max relative error %.3f%% over 100k picks ", worst * 100);

    /* P2C: with s0 loaded and equal weights, s0 wins only when both draws land on it. */
    lb_cursor_free(c);
    fix_free(&f);
    for (int i = 0; i < 4; i++)
        f.srv[0][i].weight = 1;
    fix_start(&f);
    c = lb_cursor_new(f.be, 5);
    atomic_store(&f.be->servers[0].cur_conns, 50);
    int lc[4] = {0};
    count_picks(f.be, c, N, lc);
    CU_ASSERT(within_sd(lc[0], N, 1.0 / 16, 4));
    for (int i = 1; i < 4; i++) /* the others share the rest evenly */
        CU_ASSERT(within_sd(lc[i], N, 15.0 / 48, 4));
    lb_cursor_free(c);
    fix_free(&f);
}

/* ---- leastconn ---- */

static uint64_t lc_key_num(int conns)
{
    return (uint64_t)conns + 1;
}

static void test_leastconn_model(void)
{
    srand(11);
    for (int round = 0; round < 10; round++) {
        int n = 2 + rand() % 8, w[MAXS];
        for (int i = 0; i < n; i++)
            w[i] = 1 + rand() % 5;
        struct fix f;
        fix_init(&f, CFG_LB_LEASTCONN, n, w);
        for (int i = 0; i < n; i++)
            f.srv[0][i].maxconn = (rand() % 3 == 0) ? 5 + rand() % 10 : 0;
        fix_start(&f);
        struct lb_cursor *c = lb_cursor_new(f.be, (uint64_t)round);
        int live[4096], nlive = 0, bad = 0, full = 0;
        for (int op = 0; op < 20000; op++) {
            if (nlive > 0 && (nlive >= 4000 || rand() % 100 < 48)) {
                int k = rand() % nlive;
                server_conn_closed(&f.be->servers[live[k]]);
                live[k] = live[--nlive];
                continue;
            }
            /* reference: linear scan for the smallest (conns + 1) / weight among free servers */
            int best = -1;
            for (int i = 0; i < n; i++) {
                struct server *s = &f.be->servers[i];
                int conns = atomic_load(&s->cur_conns);
                if (s->cfg->maxconn && conns >= s->cfg->maxconn)
                    continue;
                if (best < 0 ||
                    lc_key_num(conns) * (uint64_t)w[best] <
                        lc_key_num(atomic_load(&f.be->servers[best].cur_conns)) * (uint64_t)w[i])
                    best = i;
            }
            struct server *s = NULL;
            enum lb_result r = lb_pick(f.be, c, 0, NULL, &s);
            if (best < 0) {
                full++;
                bad += r != LB_FULL;
                continue;
            }
            if (r != LB_OK) {
                bad++;
                continue;
            }
            /* the pick must have the reference's minimal key (ties may rotate) */
            int cb = atomic_load(&f.be->servers[best].cur_conns);
            int cs = atomic_load(&s->cur_conns);
            bad += lc_key_num(cs) * (uint64_t)w[best] != lc_key_num(cb) * (uint64_t)w[s->idx];
            server_conn_opened(s);
            live[nlive++] = (int)s->idx;
        }
        CU_ASSERT_EQUAL(bad, 0);
        lb_cursor_free(c);
        fix_free(&f);
    }

    /* ties rotate: equal weights, no connections: every server in turn */
    struct fix f;
    fix_init(&f, CFG_LB_LEASTCONN, 4, NULL);
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 0);
    int counts[4] = {0};
    count_picks(f.be, c, 400, counts);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(counts[i], 100);
    lb_cursor_free(c);
    fix_free(&f);
}

/* ---- first ---- */

static void test_first_fills_in_order(void)
{
    struct fix f;
    fix_init(&f, CFG_LB_FIRST, 3, NULL);
    for (int i = 0; i < 3; i++)
        f.srv[0][i].maxconn = 3;
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 0);
    struct server *s = NULL;
    for (int i = 0; i < 9; i++) {
        CU_ASSERT_EQUAL_FATAL(lb_pick(f.be, c, 0, NULL, &s), LB_OK);
        CU_ASSERT_EQUAL(s->idx, (unsigned)(i / 3));
        server_conn_opened(s);
    }
    CU_ASSERT_EQUAL(lb_pick(f.be, c, 0, NULL, &s), LB_FULL);
    server_conn_closed(&f.be->servers[1]);
    CU_ASSERT_EQUAL(lb_pick(f.be, c, 0, NULL, &s), LB_OK);
    CU_ASSERT_EQUAL(s->idx, 1u);
    server_conn_closed(&f.be->servers[0]);
    CU_ASSERT_EQUAL(lb_pick(f.be, c, 0, NULL, &s), LB_OK);
    CU_ASSERT_EQUAL(s->idx, 0u);
    lb_cursor_free(c);
    fix_free(&f);
}

/* ---- rules common to every algorithm ---- */

static void test_backup_and_maint(void)
{
    for (size_t a = 0; a < NALGOS; a++) {
        struct fix f;
        fix_init(&f, all_algos[a], 5, NULL);
        f.srv[0][3].backup = true;
        f.srv[0][4].backup = true;
        f.srv[0][2].disabled = true; /* starts in maintenance */
        fix_start(&f);
        struct backend *be = f.be;
        CU_ASSERT_EQUAL(atomic_load(&be->servers[2].state), SRV_ST_MAINT);
        struct lb_cursor *c = lb_cursor_new(be, a);
        int counts[5] = {0};
        count_picks(be, c, 1000, counts);
        CU_ASSERT_EQUAL(counts[2], 0); /* maintenance */
        CU_ASSERT_EQUAL(counts[3] + counts[4], 0);
        CU_ASSERT_EQUAL(counts[0] + counts[1], 1000);

        /* one active left: only it */
        server_set_state(&be->servers[0], SRV_ST_DOWN);
        memset(counts, 0, sizeof(counts));
        count_picks(be, c, 200, counts);
        CU_ASSERT_EQUAL(counts[1], 200);

        /* active with weight 0 counts as unusable: backups take over */
        server_set_weight(&be->servers[1], 0);
        memset(counts, 0, sizeof(counts));
        count_picks(be, c, 1000, counts);
        CU_ASSERT_EQUAL(counts[0] + counts[1] + counts[2], 0);
        CU_ASSERT_EQUAL(counts[3] + counts[4], 1000);
        if (all_algos[a] != CFG_LB_FIRST && all_algos[a] != CFG_LB_SOURCE) {
            CU_ASSERT(counts[3] > 0 && counts[4] > 0); /* backups share the load */
        }
        server_set_weight(&be->servers[1], 1);
        server_set_state(&be->servers[1], SRV_ST_MAINT);
        memset(counts, 0, sizeof(counts));
        count_picks(be, c, 100, counts);
        CU_ASSERT_EQUAL(counts[3] + counts[4], 100);

        /* backups full: LB_FULL, not NONE and not a down active */
        f.srv[0][3].maxconn = 1;
        f.srv[0][4].maxconn = 1;
        server_conn_opened(&be->servers[3]);
        server_conn_opened(&be->servers[4]);
        struct server *s = NULL;
        CU_ASSERT_EQUAL(lb_pick(be, c, 1, NULL, &s), LB_FULL);
        /* an active coming back wins over backups at once */
        server_set_state(&be->servers[0], SRV_ST_UP);
        CU_ASSERT_EQUAL(lb_pick(be, c, 1, NULL, &s), LB_OK);
        CU_ASSERT_EQUAL(s->idx, 0u);
        /* nothing up at all: LB_NONE */
        for (int i = 0; i < 5; i++)
            server_set_state(&be->servers[i], SRV_ST_DOWN);
        CU_ASSERT_EQUAL(lb_pick(be, c, 1, NULL, &s), LB_NONE);
        lb_cursor_free(c);
        fix_free(&f);
    }
}

static void test_full_vs_none(void)
{
    for (size_t a = 0; a < NALGOS; a++) {
        struct fix f;
        fix_init(&f, all_algos[a], 3, NULL);
        for (int i = 0; i < 3; i++)
            f.srv[0][i].maxconn = 2;
        fix_start(&f);
        struct lb_cursor *c = lb_cursor_new(f.be, a);
        struct server *s = NULL;
        int got[3] = {0};
        for (int i = 0; i < 6; i++) {
            CU_ASSERT_EQUAL_FATAL(lb_pick(f.be, c, (uint32_t)i * 7919u, NULL, &s), LB_OK);
            server_conn_opened(s);
            got[s->idx]++;
        }
        for (int i = 0; i < 3; i++)
            CU_ASSERT_EQUAL(got[i], 2); /* maxconn is never exceeded */
        CU_ASSERT_EQUAL(lb_pick(f.be, c, 5, NULL, &s), LB_FULL);
        server_set_state(&f.be->servers[0], SRV_ST_DOWN);
        server_set_state(&f.be->servers[1], SRV_ST_MAINT);
        CU_ASSERT_EQUAL(lb_pick(f.be, c, 5, NULL, &s), LB_FULL);
        server_set_state(&f.be->servers[2], SRV_ST_DOWN);
        CU_ASSERT_EQUAL(lb_pick(f.be, c, 5, NULL, &s), LB_NONE);
        lb_cursor_free(c);
        fix_free(&f);
    }
}

static void test_avoid(void)
{
    for (size_t a = 0; a < NALGOS; a++) {
        struct fix f;
        fix_init(&f, all_algos[a], 3, NULL);
        fix_start(&f);
        struct backend *be = f.be;
        struct lb_cursor *c = lb_cursor_new(be, a);
        int hits = 0;
        for (int i = 0; i < 1000; i++) {
            struct server *s = NULL;
            CU_ASSERT_EQUAL(lb_pick(be, c, (uint32_t)i * 2654435761u, &be->servers[0], &s), LB_OK);
            hits += s == &be->servers[0];
        }
        CU_ASSERT_EQUAL(hits, 0);
        /* the only choice left: avoid is taken anyway */
        server_set_state(&be->servers[1], SRV_ST_DOWN);
        server_set_state(&be->servers[2], SRV_ST_MAINT);
        struct server *s = NULL;
        CU_ASSERT_EQUAL(lb_pick(be, c, 3, &be->servers[0], &s), LB_OK);
        CU_ASSERT_PTR_EQUAL(s, &be->servers[0]);
        /* ... but not when it is full */
        f.srv[0][0].maxconn = 1;
        server_conn_opened(&be->servers[0]);
        CU_ASSERT_EQUAL(lb_pick(be, c, 3, &be->servers[0], &s), LB_FULL);
        lb_cursor_free(c);
        fix_free(&f);
    }
}

/* ---- source (Maglev) ---- */

/* Pick for N random keys; returns the largest error in standard deviations of the binomial
 * sampling noise, and the largest relative error in *rel. */
static double source_spread(const int *w, int n, double *rel)
{
    struct fix f;
    fix_init(&f, CFG_LB_SOURCE, n, w);
    fix_start(&f);
    struct lb_cursor *c = lb_cursor_new(f.be, 0);
    int counts[MAXS] = {0};
    const int N = 100000;
    srand(3);
    for (int i = 0; i < N; i++) {
        uint32_t key[2] = {(uint32_t)rand(), (uint32_t)rand()};
        struct server *s = NULL;
        CU_ASSERT_EQUAL_FATAL(lb_pick(f.be, c, lb_hash_bytes(key, sizeof(key)), NULL, &s), LB_OK);
        counts[s->idx]++;
    }
    int sw = 0;
    for (int i = 0; i < n; i++)
        sw += w[i];
    double worst_sd = 0;
    for (int i = 0; i < n; i++) {
        double p = (double)w[i] / sw, d = fabs(counts[i] - N * p);
        double sd = d * d / (N * p * (1 - p)); /* squared, no libm */
        worst_sd = sd > worst_sd ? sd : worst_sd;
    }
    *rel = max_rel_err(counts, w, n, N);
    lb_cursor_free(c);
    fix_free(&f);
    return worst_sd;
}

static void test_source_distribution(void)
{
    /* The table's slot shares match the weights to ~0.02% (suite maglev); what remains over
     * random keys is sampling noise. Equal weights over 4 servers: 2% relative is 3.6 standard
     * deviations. Weights 1..5: the smallest share (1/15) has 1.2% relative noise, so allow 4
     * standard deviations as for random. */
    int eq[] = {1, 1, 1, 1}, w[] = {1, 2, 3, 4, 5};
    double rel_eq, rel_w;
    source_spread(eq, 4, &rel_eq);
    double sd2 = source_spread(w, 5, &rel_w);
    printf("\n    source: max relative error %.3f%% (equal weights), %.3f%% (1..5) over 100k "
           "random keys ",
           rel_eq * 100, rel_w * 100);
    CU_ASSERT(rel_eq <= 0.02);
    CU_ASSERT(sd2 <= 16.0);
}

static void test_source_fallback(void)
{
    struct fix f;
    fix_init(&f, CFG_LB_SOURCE, 4, NULL);
    fix_start(&f);
    struct backend *be = f.be;
    struct lb_cursor *c = lb_cursor_new(be, 0);
    enum { K = 20000 };
    static uint8_t before[K], again[K];
    for (uint32_t k = 0; k < K; k++) {
        struct server *s = NULL;
        CU_ASSERT_EQUAL_FATAL(lb_pick(be, c, lb_hash_bytes(&k, 4), NULL, &s), LB_OK);
        before[k] = (uint8_t)s->idx;
    }
    /* s1 down, table not rebuilt yet: its keys move, deterministically; others stay */
    server_set_state(&be->servers[1], SRV_ST_DOWN);
    int moved_other = 0, to_down = 0, nondet = 0;
    for (uint32_t k = 0; k < K; k++) {
        struct server *s = NULL, *t = NULL;
        CU_ASSERT_EQUAL_FATAL(lb_pick(be, c, lb_hash_bytes(&k, 4), NULL, &s), LB_OK);
        lb_pick(be, c, lb_hash_bytes(&k, 4), NULL, &t);
        nondet += s != t;
        to_down += s->idx == 1;
        moved_other += before[k] != 1 && before[k] != s->idx;
    }
    CU_ASSERT_EQUAL(nondet, 0);
    CU_ASSERT_EQUAL(to_down, 0);
    CU_ASSERT_EQUAL(moved_other, 0);
    /* the rebuilt table keeps surviving servers' keys in place too (Maglev: mostly) */
    CU_ASSERT_EQUAL(lb__maglev_refresh(be, false), 1);
    CU_ASSERT_EQUAL(lb__maglev_refresh(be, false), 0); /* nothing changed: no rebuild */
    int moved = 0;
    for (uint32_t k = 0; k < K; k++) {
        struct server *s = NULL;
        CU_ASSERT_EQUAL_FATAL(lb_pick(be, c, lb_hash_bytes(&k, 4), NULL, &s), LB_OK);
        again[k] = (uint8_t)s->idx;
        CU_ASSERT(s->idx != 1);
        moved += before[k] != 1 && before[k] != again[k];
    }
    CU_ASSERT(moved < K / 50);
    epoch_reclaim();
    lb_cursor_free(c);
    fix_free(&f);
}

static void test_hash_stable(void)
{
    /* Changing the hash would move every `balance source` client at upgrade: pin its values. */
    CU_ASSERT_EQUAL(lb_hash_bytes("", 0), lb_hash_bytes("", 0));
    uint32_t a = lb_hash_bytes("10.0.0.1", 8), b = lb_hash_bytes("10.0.0.2", 8);
    printf("\n    hash(10.0.0.1)=0x%08x hash(10.0.0.2)=0x%08x ", a, b);
    CU_ASSERT_EQUAL(a, 0x27552ad6u);
    CU_ASSERT_EQUAL(b, 0x6e7c751eu);
    /* avalanche: one input bit flips about half the output bits */
    int flips = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t x = i, y = i ^ 1u;
        flips += __builtin_popcount(lb_hash_bytes(&x, 4) ^ lb_hash_bytes(&y, 4));
    }
    CU_ASSERT(flips > 1000 * 14 && flips < 1000 * 18);
}

/* ---- health checks on real sockets ---- */

static int listen_on(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    return ntohs(sin.sin_port);
}

static void set_port(struct cfg_server *s, uint16_t port)
{
    ((struct sockaddr_in *)&s->addr)->sin_port = htons(port);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void drain_accepts(int lfd)
{
    if (lfd < 0)
        return;
    int fd;
    while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
        close(fd);
}

/* Poll a server's state until it equals want or timeout_ms passes; accepts pending connections
 * on lfd meanwhile. Returns true when reached. */
static bool wait_state(struct server *s, int want, int timeout_ms, int lfd)
{
    uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
    while (clock_mono_ms() < end) {
        drain_accepts(lfd);
        if (atomic_load(&s->state) == want)
            return true;
        sleep_ms(5);
    }
    return atomic_load(&s->state) == want;
}

/* True when the state stays `want` for the whole window. */
static bool stays(struct server *s, int want, int window_ms, int lfd)
{
    uint64_t end = clock_mono_ms() + (uint64_t)window_ms;
    while (clock_mono_ms() < end) {
        drain_accepts(lfd);
        if (atomic_load(&s->state) != want)
            return false;
        sleep_ms(5);
    }
    return true;
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void check_fast(struct cfg_server *s)
{
    s->check = true;
    s->inter = 50;
    s->fastinter = 0; /* = inter */
    s->downinter = 0;
    s->rise = 2;
    s->fall = 2;
}

static void test_health_tcp(void)
{
    char logpath[] = "/tmp/sluice-health-XXXXXX";
    int lf = mkstemp(logpath);
    CU_ASSERT_FATAL(lf >= 0);
    close(lf);
    CU_ASSERT_EQUAL_FATAL(log_open(logpath, 0), 0);

    int lfd = listen_on(0);
    CU_ASSERT_FATAL(lfd >= 0);
    uint16_t open_port = port_of(lfd);
    int tmp = listen_on(0);
    uint16_t closed_port = port_of(tmp);
    close(tmp); /* nothing listens there now: connection refused */

    struct fix f;
    fix_init(&f, CFG_LB_ROUNDROBIN, 2, NULL);
    check_fast(&f.srv[0][0]);
    check_fast(&f.srv[0][1]);
    set_port(&f.srv[0][0], open_port);
    set_port(&f.srv[0][1], closed_port);
    fix_start(&f);
    struct server *s0 = &f.be->servers[0], *s1 = &f.be->servers[1];
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_UP); /* servers start up */
    CU_ASSERT_EQUAL_FATAL(health_start(f.b), 0);

    CU_ASSERT(wait_state(s1, SRV_ST_DOWN, 3000, lfd));
    CU_ASSERT(stays(s0, SRV_ST_UP, 300, lfd)); /* six intervals of passing checks */

    close(lfd);
    CU_ASSERT(wait_state(s0, SRV_ST_DOWN, 3000, -1));
    uint64_t down_at = atomic_load(&s0->last_change_ms);

    lfd = listen_on(open_port);
    CU_ASSERT_FATAL(lfd >= 0);
    CU_ASSERT(wait_state(s0, SRV_ST_UP, 3000, lfd));
    /* rise 2 at fastinter 50 ms: at least one interval after the first success */
    CU_ASSERT(atomic_load(&s0->last_change_ms) >= down_at + 50);
    CU_ASSERT_EQUAL(atomic_load(&s1->state), SRV_ST_DOWN);

    health_stop();
    health_stop(); /* idempotent */
    close(lfd);
    fix_free(&f);
    log_close();

    const char *log = read_file(logpath);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "server app/s1 is DOWN (connection refused, 2/2 checks "
                                       "failed)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "server app/s0 is DOWN (connection refused, 2/2 checks "
                                       "failed)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "backend app has no server available!"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "server app/s0 is UP (2/2 checks passed)"));
    unlink(logpath);
}

/* A tiny HTTP server: answers every request with status `status` (0: never answers). */
struct http_srv {
    int lfd;
    _Atomic int status;
    _Atomic bool stop;
    pthread_mutex_t lock; /* guards last_req */
    char last_req[512];
    pthread_t thr;
};

static void *http_srv_main(void *arg)
{
    struct http_srv *h = arg;
    int held[64], nheld = 0;
    while (!atomic_load(&h->stop)) {
        struct pollfd pfd = {.fd = h->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10) <= 0)
            continue;
        int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char req[512];
        size_t n = 0;
        struct pollfd cp = {.fd = fd, .events = POLLIN};
        while (n < sizeof(req) - 1 && poll(&cp, 1, 200) > 0) {
            ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[n] = '\0';
        pthread_mutex_lock(&h->lock);
        memcpy(h->last_req, req, n + 1);
        pthread_mutex_unlock(&h->lock);
        int st = atomic_load(&h->status);
        if (st == 0 && nheld < 64) {
            held[nheld++] = fd; /* silent: the checker must time out */
            continue;
        }
        char resp[128];
        int len =
            snprintf(resp, sizeof(resp), "HTTP/1.0 %d Whatever\r\nContent-Length: 0\r\n\r\n", st);
        if (send(fd, resp, (size_t)len, MSG_NOSIGNAL) < 0) {
            /* the checker may already have given up */
        }
        close(fd);
    }
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    return NULL;
}

static void test_health_http(void)
{
    struct http_srv h = {.lfd = listen_on(0)};
    CU_ASSERT_FATAL(h.lfd >= 0);
    atomic_init(&h.status, 200);
    atomic_init(&h.stop, false);
    pthread_mutex_init(&h.lock, NULL);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&h.thr, NULL, http_srv_main, &h), 0);
    uint16_t port = port_of(h.lfd);

    /* app: GET /health, any 2xx/3xx; app2: default request, expect 204 */
    struct fix f;
    fix_init(&f, CFG_LB_ROUNDROBIN, 1, NULL);
    fix_proxy(&f, 1, CFG_LB_ROUNDROBIN, 1, NULL);
    f.cfg.nproxies = 2;
    for (int p = 0; p < 2; p++) {
        f.px[p].check_type = CFG_CHECK_HTTP;
        f.px[p].timeout.check = 150;
        check_fast(&f.srv[p][0]);
        set_port(&f.srv[p][0], port);
    }
    snprintf(f.px[0].httpchk_method, sizeof(f.px[0].httpchk_method), "GET");
    snprintf(f.px[0].httpchk_uri, sizeof(f.px[0].httpchk_uri), "/health");
    f.px[1].httpchk_expect_status = 204;
    fix_start(&f);
    struct server *a = &f.b->backends[0].servers[0], *b = &f.b->backends[1].servers[0];
    CU_ASSERT_EQUAL_FATAL(health_start(f.b), 0);

    CU_ASSERT(wait_state(b, SRV_ST_DOWN, 3000, -1)); /* 200 is not the expected 204 */
    CU_ASSERT(stays(a, SRV_ST_UP, 300, -1));

    atomic_store(&h.status, 500);
    CU_ASSERT(wait_state(a, SRV_ST_DOWN, 3000, -1));

    atomic_store(&h.status, 204);
    CU_ASSERT(wait_state(a, SRV_ST_UP, 3000, -1));
    CU_ASSERT(wait_state(b, SRV_ST_UP, 3000, -1));

    atomic_store(&h.status, 0); /* accepts, never answers */
    CU_ASSERT(wait_state(a, SRV_ST_DOWN, 3000, -1));

    health_stop();
    pthread_mutex_lock(&h.lock);
    bool seen_get = strstr(h.last_req, " HTTP/1.0\r\n") && strstr(h.last_req, "Connection: close");
    pthread_mutex_unlock(&h.lock);
    CU_ASSERT(seen_get);
    atomic_store(&h.stop, true);
    pthread_join(h.thr, NULL);
    close(h.lfd);
    pthread_mutex_destroy(&h.lock);
    fix_free(&f);
}

/* The request line a checker sends, captured from one probe. */
static void test_health_http_request(void)
{
    struct http_srv h = {.lfd = listen_on(0)};
    CU_ASSERT_FATAL(h.lfd >= 0);
    atomic_init(&h.status, 200);
    atomic_init(&h.stop, false);
    pthread_mutex_init(&h.lock, NULL);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&h.thr, NULL, http_srv_main, &h), 0);
    const char *want[2] = {"GET /health HTTP/1.0\r\nConnection: close\r\n\r\n",
                           "OPTIONS / HTTP/1.0\r\nConnection: close\r\n\r\n"};
    for (int p = 0; p < 2; p++) {
        struct fix f;
        fix_init(&f, CFG_LB_ROUNDROBIN, 1, NULL);
        f.px[0].check_type = CFG_CHECK_HTTP;
        if (p == 0) {
            snprintf(f.px[0].httpchk_method, sizeof(f.px[0].httpchk_method), "GET");
            snprintf(f.px[0].httpchk_uri, sizeof(f.px[0].httpchk_uri), "/health");
        }
        check_fast(&f.srv[0][0]);
        set_port(&f.srv[0][0], port_of(h.lfd));
        pthread_mutex_lock(&h.lock);
        h.last_req[0] = '\0';
        pthread_mutex_unlock(&h.lock);
        fix_start(&f);
        CU_ASSERT_EQUAL_FATAL(health_start(f.b), 0);
        bool match = false;
        uint64_t end = clock_mono_ms() + 3000;
        while (!match && clock_mono_ms() < end) {
            pthread_mutex_lock(&h.lock);
            match = strcmp(h.last_req, want[p]) == 0;
            pthread_mutex_unlock(&h.lock);
            sleep_ms(5);
        }
        CU_ASSERT(match);
        health_stop();
        fix_free(&f);
    }
    atomic_store(&h.stop, true);
    pthread_join(h.thr, NULL);
    close(h.lfd);
    pthread_mutex_destroy(&h.lock);
}

static void test_health_slowstart(void)
{
    int lfd = listen_on(0);
    CU_ASSERT_FATAL(lfd >= 0);
    uint16_t port = port_of(lfd);
    int w[] = {100, 100};
    struct fix f;
    fix_init(&f, CFG_LB_ROUNDROBIN, 2, w);
    check_fast(&f.srv[0][0]);
    f.srv[0][0].slowstart = 1000;
    set_port(&f.srv[0][0], port);
    fix_start(&f);
    struct server *s = &f.be->servers[0];
    CU_ASSERT_EQUAL(atomic_load(&s->eweight), 100); /* no slowstart at start-up */
    CU_ASSERT_EQUAL_FATAL(health_start(f.b), 0);
    close(lfd);
    CU_ASSERT(wait_state(s, SRV_ST_DOWN, 3000, -1));
    lfd = listen_on(port);
    CU_ASSERT_FATAL(lfd >= 0);
    CU_ASSERT(wait_state(s, SRV_ST_UP, 3000, lfd));
    int first = atomic_load(&s->eweight), prev = first, distinct = 1;
    bool monotonic = true;
    uint64_t end = clock_mono_ms() + 3000;
    while (clock_mono_ms() < end && atomic_load(&s->eweight) != 100) {
        drain_accepts(lfd);
        int ew = atomic_load(&s->eweight);
        monotonic &= ew >= prev;
        distinct += ew != prev;
        prev = ew;
        sleep_ms(5);
    }
    printf("\n    slowstart: eweight %d right after UP, %d steps to 100 ", first, distinct);
    CU_ASSERT(first >= 1 && first <= 30);
    CU_ASSERT(monotonic);
    CU_ASSERT(distinct >= 4);
    CU_ASSERT_EQUAL(atomic_load(&s->eweight), 100);
    health_stop();
    close(lfd);
    fix_free(&f);
}

/* ---- table swaps under concurrent picks ---- */

struct picker {
    struct backend *be;
    unsigned id;
    _Atomic bool *stop;
    long picks, bad;
};

static void *picker_main(void *arg)
{
    struct picker *p = arg;
    struct lb_cursor *c = lb_cursor_new(p->be, p->id);
    uint32_t key = p->id * 1000003u;
    while (!atomic_load_explicit(p->stop, memory_order_relaxed)) {
        epoch_enter(p->id);
        for (int i = 0; i < 64; i++) {
            struct server *s = NULL;
            key = key * 1664525u + 1013904223u;
            if (lb_pick(p->be, c, lb_hash_bytes(&key, 4), NULL, &s) != LB_OK ||
                s->idx >= p->be->nservers)
                p->bad++;
            p->picks++;
        }
        epoch_leave(p->id);
    }
    lb_cursor_free(c);
    return NULL;
}

static void test_health_table_swap_mt(void)
{
    CU_ASSERT_EQUAL_FATAL(epoch_init(2), 0);
    struct fix f;
    fix_init(&f, CFG_LB_SOURCE, 10, NULL);
    fix_start(&f);
    struct backend *be = f.be;
    CU_ASSERT_EQUAL_FATAL(health_start(f.b), 0);
    _Atomic bool stop = false;
    struct picker p[2] = {{be, 0, &stop, 0, 0}, {be, 1, &stop, 0, 0}};
    pthread_t thr[2];
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&thr[i], NULL, picker_main, &p[i]), 0);

    /* main plays the operator: take servers down and up; the health thread republishes */
    int swaps = 0;
    for (int round = 0; round < 20; round++) {
        struct maglev_table *old = atomic_load_explicit(&be->maglev, memory_order_acquire);
        struct server *s = &be->servers[round % 5]; /* at most 5 of 10 down: never LB_NONE */
        server_set_state(s, server_is_up(s) ? SRV_ST_DOWN : SRV_ST_UP);
        uint64_t end = clock_mono_ms() + 2000;
        while (atomic_load_explicit(&be->maglev, memory_order_acquire) == old &&
               clock_mono_ms() < end)
            sleep_ms(1);
        swaps += atomic_load_explicit(&be->maglev, memory_order_acquire) != old;
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(thr[i], NULL);
    health_stop();
    printf("\n    %d table swaps under %ld picks ", swaps, p[0].picks + p[1].picks);
    CU_ASSERT_EQUAL(swaps, 20);
    CU_ASSERT_EQUAL(p[0].bad + p[1].bad, 0);
    CU_ASSERT(p[0].picks > 0 && p[1].picks > 0);
    /* the published table covers exactly the servers up now */
    const struct maglev_table *t = atomic_load(&be->maglev);
    unsigned up = 0;
    for (int i = 0; i < 10; i++)
        up += server_is_up(&be->servers[i]);
    CU_ASSERT_EQUAL(t->nservers, up);
    for (uint32_t i = 0; i < t->size; i++)
        if (!server_is_up(&be->servers[t->entry[i]])) {
            CU_FAIL("table maps to a down server");
            break;
        }
    fix_free(&f);
    epoch_shutdown();
}

int suite_balancer(void)
{
    CU_pSuite s = CU_add_suite("balancer", NULL, NULL);
    if (!s)
        return CU_get_error();
    if (!CU_add_test(s, "rr_smooth_sequence", test_rr_smooth_sequence) ||
        !CU_add_test(s, "rr_distribution", test_rr_distribution) ||
        !CU_add_test(s, "rr_dynamic_weight", test_rr_dynamic_weight) ||
        !CU_add_test(s, "random_distribution", test_random_distribution) ||
        !CU_add_test(s, "leastconn_model", test_leastconn_model) ||
        !CU_add_test(s, "first_fills_in_order", test_first_fills_in_order) ||
        !CU_add_test(s, "backup_and_maint", test_backup_and_maint) ||
        !CU_add_test(s, "full_vs_none", test_full_vs_none) ||
        !CU_add_test(s, "avoid", test_avoid) ||
        !CU_add_test(s, "source_distribution", test_source_distribution) ||
        !CU_add_test(s, "source_fallback", test_source_fallback) ||
        !CU_add_test(s, "hash_stable", test_hash_stable) ||
        !CU_add_test(s, "health_tcp", test_health_tcp) ||
        !CU_add_test(s, "health_http", test_health_http) ||
        !CU_add_test(s, "health_http_request", test_health_http_request) ||
        !CU_add_test(s, "health_slowstart", test_health_slowstart) ||
        !CU_add_test(s, "health_table_swap_mt", test_health_table_swap_mt))
        return CU_get_error();
    return CUE_SUCCESS;
}
