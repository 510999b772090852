/* Unit tests of core/stats.c and net/http/stats_page.c: per-worker counters summed on read (also
 * while writer threads run), histogram bucket math and percentiles, snapshots of a runtime built
 * from a config, and the CSV / JSON / Prometheus / HTML writers checked by parsers of their
 * formats. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/server.h"
#include "config/model.h"
#include "core/stats.h"
#include "core/worker.h"
#include "net/http/stats_page.h"

/* ---- counters ------------------------------------------------------------------------------- */

static void test_sum_across_workers(void)
{
    size_t nsrv[2] = {3, 1};
    struct stats *st = stats_new(4, 2, 2, nsrv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(st->nsrv, 4);
    for (unsigned w = 0; w < 4; w++) {
        struct stats_worker *sw = &st->w[w];
        stats_add(stats_fe(sw, 1), STC_REQ, w + 1);     /* 1+2+3+4 = 10 */
        stats_add(stats_be(sw, 0), STC_BYTES_OUT, 100); /* 400 */
        stats_add(stats_srv(sw, 0, 2), STC_ECON, 1);    /* 4 */
        stats_add(stats_srv(sw, 1, 0), STC_RSP_5XX, 2); /* 8 */
        stats_hist_add(&stats_srv_lat(sw, 1, 0)->h[STL_TOTAL], 1000 * (w + 1));
    }
    uint64_t c[STC__N];
    stats_sum_fe(st, 1, c);
    CU_ASSERT_EQUAL(c[STC_REQ], 10);
    stats_sum_fe(st, 0, c);
    CU_ASSERT_EQUAL(c[STC_REQ], 0);
    stats_sum_be(st, 0, c);
    CU_ASSERT_EQUAL(c[STC_BYTES_OUT], 400);
    stats_sum_srv(st, 0, 2, c);
    CU_ASSERT_EQUAL(c[STC_ECON], 4);
    stats_sum_srv(st, 0, 1, c);
    CU_ASSERT_EQUAL(c[STC_ECON], 0);
    stats_sum_srv(st, 1, 0, c); /* backend 1's first server is the 4th slot */
    CU_ASSERT_EQUAL(c[STC_RSP_5XX], 8);
    CU_ASSERT_EQUAL(c[STC_ECON], 0);
    struct stats_hist_snap h;
    stats_sum_srv_hist(st, 1, 0, STL_TOTAL, &h);
    CU_ASSERT_EQUAL(h.count, 4);
    CU_ASSERT_EQUAL(h.sum_us, 10000);
    stats_sum_be_hist(st, 1, STL_TOTAL, &h);
    CU_ASSERT_EQUAL(h.count, 0);
    /* no two workers' blocks share a cache line */
    for (unsigned w = 0; w < 4; w++)
        CU_ASSERT_EQUAL((uintptr_t)st->w[w].fe % 64, 0);
    stats_free(st);
    stats_free(NULL);
}

#define WRITERS 4
#define ROUNDS  200000

struct writer_arg {
    struct stats_worker *sw;
};

static void *writer(void *arg)
{
    struct writer_arg *a = arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        stats_add(stats_be(a->sw, 0), STC_SESS, 1);
        stats_hist_add(&stats_be_lat(a->sw, 0)->h[STL_CONNECT], i % 3000);
    }
    return NULL;
}

/* Readers see monotonic sums while writers run, and the exact total once they stop. */
static void test_sum_while_writing(void)
{
    size_t nsrv[1] = {1};
    struct stats *st = stats_new(WRITERS, 1, 1, nsrv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    pthread_t t[WRITERS];
    struct writer_arg a[WRITERS];
    for (unsigned i = 0; i < WRITERS; i++) {
        a[i].sw = &st->w[i];
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, writer, &a[i]), 0);
    }
    uint64_t last = 0;
    bool monotonic = true;
    for (int i = 0; i < 2000; i++) {
        uint64_t c[STC__N];
        stats_sum_be(st, 0, c);
        if (c[STC_SESS] < last)
            monotonic = false;
        last = c[STC_SESS];
    }
    for (unsigned i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT(monotonic);
    uint64_t c[STC__N];
    stats_sum_be(st, 0, c);
    CU_ASSERT_EQUAL(c[STC_SESS], (uint64_t)WRITERS * ROUNDS);
    struct stats_hist_snap h;
    stats_sum_be_hist(st, 0, STL_CONNECT, &h);
    CU_ASSERT_EQUAL(h.count, (uint64_t)WRITERS * ROUNDS);
    stats_free(st);
}

/* ---- histograms ----------------------------------------------------------------------------- */

static void test_bucket_math(void)
{
    CU_ASSERT_EQUAL(stats_bucket_of(0), 0);
    CU_ASSERT_EQUAL(stats_bucket_of(500), 0);
    CU_ASSERT_EQUAL(stats_bucket_of(501), 1);
    CU_ASSERT_EQUAL(stats_bucket_of(1000), 1);
    CU_ASSERT_EQUAL(stats_bucket_of(1001), 2);
    CU_ASSERT_EQUAL(stats_bucket_of(2000), 2);
    CU_ASSERT_EQUAL(stats_bucket_of(2001), 3);
    CU_ASSERT_EQUAL(stats_bucket_of(65536000), STATS_NBUCKETS - 2);
    CU_ASSERT_EQUAL(stats_bucket_of(65536001), STATS_NBUCKETS - 1);
    CU_ASSERT_EQUAL(stats_bucket_of(UINT64_MAX / 2), STATS_NBUCKETS - 1);
    CU_ASSERT_EQUAL(stats_bucket_bound_us(0), 500);
    CU_ASSERT_EQUAL(stats_bucket_bound_us(1), 1000);
    CU_ASSERT_EQUAL(stats_bucket_bound_us(STATS_NBUCKETS - 2), 65536000);
    CU_ASSERT_EQUAL(stats_bucket_bound_us(STATS_NBUCKETS - 1), UINT64_MAX);
    /* against the definition: bound(b-1) < v <= bound(b), for every value up to 70 s in steps
     * that hit every bucket edge and its neighbours */
    bool ok = true;
    for (uint64_t v = 0; v < 70000000 && ok; v = v < 5000 ? v + 1 : v + v / 997) {
        unsigned b = stats_bucket_of(v);
        uint64_t hi = stats_bucket_bound_us(b);
        uint64_t lo = b ? stats_bucket_bound_us(b - 1) : 0;
        if (!(v <= hi && (b == 0 || v > lo)))
            ok = false;
    }
    for (unsigned b = 0; b + 1 < STATS_NBUCKETS; b++) {
        uint64_t e = stats_bucket_bound_us(b);
        if (stats_bucket_of(e) != b || stats_bucket_of(e + 1) != b + 1)
            ok = false;
    }
    CU_ASSERT(ok);
}

static void test_percentiles(void)
{
    struct stats_hist_snap h;
    memset(&h, 0, sizeof(h));
    CU_ASSERT(stats_hist_quantile(&h, 0.5) < 0);
    CU_ASSERT(stats_hist_mean_ms(&h) < 0);

    /* 100 values of exactly 1 ms: all in (0.5, 1] → p50 interpolates to 0.75 ms */
    struct stats_hist raw;
    memset(&raw, 0, sizeof(raw));
    for (int i = 0; i < 100; i++)
        stats_hist_add(&raw, 1000);
    for (unsigned b = 0; b < STATS_NBUCKETS; b++) {
        h.bucket[b] = raw.bucket[b];
        h.count += raw.bucket[b];
    }
    h.sum_us = raw.sum_us;
    CU_ASSERT_EQUAL(h.bucket[1], 100);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_quantile(&h, 0.5), 0.75, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_quantile(&h, 1.0), 1.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_mean_ms(&h), 1.0, 1e-9);

    /* 1..1000 ms uniformly: each quantile lands in the bucket holding the true value and within
     * a factor of two of it (the bucket width) */
    memset(&raw, 0, sizeof(raw));
    memset(&h, 0, sizeof(h));
    for (int i = 1; i <= 1000; i++)
        stats_hist_add(&raw, (uint64_t)i * 1000);
    for (unsigned b = 0; b < STATS_NBUCKETS; b++) {
        h.bucket[b] = raw.bucket[b];
        h.count += raw.bucket[b];
    }
    h.sum_us = raw.sum_us;
    CU_ASSERT_EQUAL(h.count, 1000);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_mean_ms(&h), 500.5, 1e-9);
    const double qs[] = {0.5, 0.9, 0.99};
    for (unsigned i = 0; i < 3; i++) {
        double truth = qs[i] * 1000, got = stats_hist_quantile(&h, qs[i]);
        unsigned tb = stats_bucket_of((uint64_t)(truth * 1000));
        double lo = tb ? stats_bucket_bound_us(tb - 1) / 1000.0 : 0;
        double hi = stats_bucket_bound_us(tb) / 1000.0;
        CU_ASSERT(got >= lo && got <= hi);
        CU_ASSERT(got >= truth / 2 && got <= truth * 2);
    }
    /* p50 exactly: 256 values are <= 256 ms and (256, 512] holds the next 256, so the 500th
     * is interpolated at 256 + 256 * (500 - 256) / 256 = 500 (uniform data: exact) */
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_quantile(&h, 0.5), 500.0, 1e-9);

    /* everything above the last bound reports the last finite bound */
    memset(&h, 0, sizeof(h));
    h.bucket[STATS_NBUCKETS - 1] = 3;
    h.count = 3;
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_quantile(&h, 0.99), 65536.0, 1e-9);
}

static void test_status_ctr(void)
{
    CU_ASSERT_EQUAL(stats_status_ctr(100), STC_RSP_1XX);
    CU_ASSERT_EQUAL(stats_status_ctr(200), STC_RSP_2XX);
    CU_ASSERT_EQUAL(stats_status_ctr(304), STC_RSP_3XX);
    CU_ASSERT_EQUAL(stats_status_ctr(404), STC_RSP_4XX);
    CU_ASSERT_EQUAL(stats_status_ctr(599), STC_RSP_5XX);
    CU_ASSERT_EQUAL(stats_status_ctr(0), STC_RSP_OTHER);
    CU_ASSERT_EQUAL(stats_status_ctr(-1), STC_RSP_OTHER);
    CU_ASSERT_EQUAL(stats_status_ctr(600), STC_RSP_OTHER);
}

/* ---- a hand-built snapshot ------------------------------------------------------------------ */

struct model {
    struct stats_snap s;
    struct stats_proxy px[2];
    struct stats_row rows[6];
};

static void fill_hist(struct stats_hist_snap *h, uint64_t n, uint64_t us)
{
    memset(h, 0, sizeof(*h));
    h->bucket[stats_bucket_of(us)] = n;
    h->count = n;
    h->sum_us = n * us;
}

/* web (http): FRONTEND, s1 UP (checked), s2 DOWN "quoted\"name", BACKEND; db (tcp): BACKEND */
static void build_model(struct model *m)
{
    memset(m, 0, sizeof(*m));
    m->s.px = m->px;
    m->s.npx = 2;
    m->s.version = "9.9.9";
    m->s.pid = 42;
    m->s.nworkers = 2;
    m->s.uptime_s = 3725;
    struct stats_proxy *web = &m->px[0], *db = &m->px[1];
    *web = (struct stats_proxy){"web", "http", 1, true, true, &m->rows[0], 4};
    *db = (struct stats_proxy){"db", "tcp", 2, false, true, &m->rows[4], 1};
    struct stats_row *fe = &m->rows[0], *s1 = &m->rows[1], *s2 = &m->rows[2], *be = &m->rows[3];
    struct stats_row *dbb = &m->rows[4];
    for (int i = 0; i < 5; i++) {
        m->rows[i].pxname = i < 4 ? "web" : "db";
        m->rows[i].iid = i < 4 ? 1 : 2;
        m->rows[i].mode = i < 4 ? "http" : "tcp";
        m->rows[i].lastchg_s = -1;
        m->rows[i].downtime_s = -1;
    }
    fe->type = STATS_ROW_FE;
    fe->svname = "FRONTEND";
    fe->status = "OPEN";
    fe->up = true;
    fe->c[STC_SESS] = 1000;
    fe->c[STC_REQ] = 1000;
    fe->c[STC_RSP_2XX] = 600;
    fe->c[STC_RSP_4XX] = 300;
    fe->c[STC_RSP_5XX] = 100;
    fe->c[STC_DREQ] = 7;
    fe->c[STC_BYTES_IN] = 123456;

    s1->type = STATS_ROW_SRV;
    s1->svname = "s1";
    s1->sid = 1;
    s1->status = "UP";
    s1->up = true;
    s1->has_check = true;
    s1->check_status = "L7OK";
    s1->check_code = 200;
    s1->weight = 3;
    s1->act = 1;
    s1->lastchg_s = 61;
    s1->downtime_s = 5;
    s1->chkfail = 2;
    s1->chkdown = 1;
    s1->addr = "127.0.0.1:9001";
    s1->c[STC_SESS] = 1000;
    s1->c[STC_RSP_2XX] = 600;
    s1->lbtot = 1000;
    s1->has_hist = true;
    fill_hist(&s1->hist[STL_CONNECT], 1000, 200);
    fill_hist(&s1->hist[STL_RESPONSE], 1000, 3000);
    fill_hist(&s1->hist[STL_TOTAL], 1000, 3500);

    s2->type = STATS_ROW_SRV;
    s2->svname = "quo\"te,d";
    s2->sid = 2;
    s2->status = "DOWN";
    s2->has_check = true;
    s2->check_status = "L4CON";
    s2->act = 1;
    s2->addr = "127.0.0.1:1";
    s2->lastchg_s = 3;
    s2->downtime_s = 3;
    s2->c[STC_ECON] = 9;
    s2->has_hist = true;

    be->type = STATS_ROW_BE;
    be->svname = "BACKEND";
    be->status = "UP";
    be->up = true;
    be->weight = 3;
    be->act = 1;
    be->algo = "roundrobin";
    be->c[STC_SESS] = 1000;
    be->c[STC_REQ] = 1000;
    be->c[STC_ECON] = 9;
    be->lbtot = 1000;
    be->has_hist = true;
    be->hist[STL_TOTAL] = s1->hist[STL_TOTAL];

    dbb->type = STATS_ROW_BE;
    dbb->svname = "BACKEND";
    dbb->status = "DOWN";
    dbb->algo = "leastconn";
    dbb->has_hist = true;
}

/* Split one CSV line (quotes as RFC 4180) into fields; returns the count. */
static int csv_split(const char *line, char out[][64], int max)
{
    int n = 0;
    const char *p = line;
    while (n < max) {
        size_t l = 0;
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                if (l < 63)
                    out[n][l++] = *p;
                p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',' && *p != '\n') {
                if (l < 63)
                    out[n][l++] = *p;
                p++;
            }
        }
        out[n][l] = '\0';
        n++;
        if (*p != ',')
            break;
        p++;
        if (*p == '\n' || !*p)
            break; /* HAProxy ends each line with a comma */
    }
    return n;
}

static int col_of(char hdr[][64], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hdr[i], name) == 0)
            return i;
    return -1;
}

static void test_csv_writer(void)
{
    struct model m;
    build_model(&m);
    size_t len = 0;
    char *csv = stats_page_csv(&m.s, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(strlen(csv), len);
    const char *want = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,"
                       "econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,"
                       "downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,";
    CU_ASSERT_EQUAL(strncmp(csv, want, strlen(want)), 0);
    static char hdr[128][64], f[128][64];
    int nh = csv_split(csv + 2, hdr, 128);
    CU_ASSERT_EQUAL(nh, 82);
    CU_ASSERT_STRING_EQUAL(hdr[nh - 1], "dcon");
    int lines = 0;
    for (const char *l = strchr(csv, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        int n = csv_split(l, f, 128);
        CU_ASSERT_EQUAL(n, nh); /* every line has every column */
        lines++;
        const char *sv = f[1];
        if (strcmp(f[0], "web") == 0 && strcmp(sv, "FRONTEND") == 0) {
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "stot")], "1000");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "req_tot")], "1000");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "hrsp_2xx")], "600");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "hrsp_4xx")], "300");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "hrsp_5xx")], "100");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "dreq")], "7");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "bin")], "123456");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "status")], "OPEN");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "type")], "0");
        } else if (strcmp(sv, "s1") == 0) {
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "check_status")], "L7OK");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "check_code")], "200");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "weight")], "3");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "lastchg")], "61");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "downtime")], "5");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "chkfail")], "2");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "sid")], "1");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "type")], "2");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "rtime")], "3");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "addr")], "127.0.0.1:9001");
        } else if (strcmp(sv, "quo\"te,d") == 0) {
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "status")], "DOWN");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "econ")], "9");
        } else if (strcmp(f[0], "db") == 0) {
            CU_ASSERT_STRING_EQUAL(sv, "BACKEND");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "hrsp_2xx")], ""); /* tcp: no HTTP */
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "algo")], "leastconn");
            CU_ASSERT_STRING_EQUAL(f[col_of(hdr, nh, "mode")], "tcp");
        }
    }
    CU_ASSERT_EQUAL(lines, 5);
    free(csv);
}

/* ---- a strict JSON checker (RFC 8259 grammar, no semantics) ---- */

static const char *js_value(const char *p);

static const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *js_string(const char *p)
{
    if (*p != '"')
        return NULL;
    for (p++; *p && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *js_value(const char *p)
{
    p = js_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = js_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = js_string(js_ws(p));
                if (!p)
                    return NULL;
                p = js_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = js_value(p);
            if (!p)
                return NULL;
            p = js_ws(p);
            if (*p == ',') {
                p++;
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (*p == '"')
        return js_string(p);
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    char *end;
    if (*p == '-' || isdigit((unsigned char)*p)) {
        strtod(p, &end);
        return end > p ? end : NULL;
    }
    return NULL;
}

static bool json_valid(const char *s)
{
    const char *e = js_value(s);
    return e && *js_ws(e) == '\0';
}

static void test_json_writer(void)
{
    CU_ASSERT(json_valid("{\"a\":[1,2.5,-3e2,true,null,\"x\\\"y\"]}"));
    CU_ASSERT(!json_valid("{\"a\":[1,]}"));
    CU_ASSERT(!json_valid("{\"a\":1"));
    struct model m;
    build_model(&m);
    size_t len = 0;
    char *js = stats_page_json(&m.s, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT(json_valid(js));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"version\":\"9.9.9\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"name\":\"web\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"svname\":\"quo\\\"te,d\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"req_tot\":1000,\"hrsp_1xx\":0,\"hrsp_2xx\":600"));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"check_status\":\"L4CON\""));
    /* s1's response histogram: 1000 values of 3 ms, in (2, 4] */
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"response\":{\"count\":1000,\"sum_ms\":3000.000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "\"p50_ms\":null")); /* empty histograms */
    free(js);
}

/* ---- a Prometheus text format 0.0.4 checker ---- */

struct prom_fam {
    char name[96];
    char type[16];
    bool help;
};

static bool prom_name_ok(const char *n, size_t l)
{
    if (!l || !(isalpha((unsigned char)n[0]) || n[0] == '_' || n[0] == ':'))
        return false;
    for (size_t i = 1; i < l; i++)
        if (!(isalnum((unsigned char)n[i]) || n[i] == '_' || n[i] == ':'))
            return false;
    return true;
}

/* Checks the grammar and the rules promtool enforces: HELP/TYPE before samples, one block per
 * family, counters named *_total, histogram buckets cumulative with le ascending, +Inf last and
 * equal to _count. Returns the number of samples, -1 on the first error (reported). */
static int prom_check(const char *text, const char *want_sample)
{
    static struct prom_fam fams[256];
    int nf = 0, samples = 0;
    bool want_found = want_sample == NULL;
    char cur[96] = "";
    double last_le = -1, last_cum = -1, inf_cum = -1;
    char hist_series[256] = "";
    for (const char *l = text; *l;) {
        const char *e = strchr(l, '\n');
        if (!e) {
            fprintf(stderr, "prom: missing final newline\n");
            return -1;
        }
        char line[512];
        size_t ll = (size_t)(e - l);
        if (ll >= sizeof(line))
            return -1;
        memcpy(line, l, ll);
        line[ll] = '\0';
        l = e + 1;
        if (want_sample && strcmp(line, want_sample) == 0)
            want_found = true;
        if (line[0] == '#') {
            char kind[8], name[96], rest[256];
            if (sscanf(line, "# %7s %95s %255[^\n]", kind, name, rest) != 3) {
                fprintf(stderr, "prom: bad comment %s\n", line);
                return -1;
            }
            int f = -1;
            for (int i = 0; i < nf; i++)
                if (strcmp(fams[i].name, name) == 0)
                    f = i;
            if (f < 0) {
                if (nf == 256)
                    return -1;
                f = nf++;
                memset(&fams[f], 0, sizeof(fams[f]));
                snprintf(fams[f].name, sizeof(fams[f].name), "%s", name);
            } else if (strcmp(cur, name) != 0) {
                fprintf(stderr, "prom: family %s declared twice\n", name);
                return -1;
            }
            snprintf(cur, sizeof(cur), "%s", name);
            if (strcmp(kind, "TYPE") == 0) {
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram"))
                    return -1;
                snprintf(fams[f].type, sizeof(fams[f].type), "%.15s", rest);
                if (strcmp(rest, "counter") == 0 &&
                    (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total") != 0)) {
                    fprintf(stderr, "prom: counter %s does not end in _total\n", name);
                    return -1;
                }
            } else if (strcmp(kind, "HELP") == 0) {
                fams[f].help = true;
            } else {
                return -1;
            }
            continue;
        }
        /* sample: name{labels} value */
        size_t nl = strcspn(line, "{ ");
        if (!prom_name_ok(line, nl)) {
            fprintf(stderr, "prom: bad metric name in %s\n", line);
            return -1;
        }
        char name[96];
        snprintf(name, sizeof(name), "%.*s", (int)nl, line);
        const char *p = line + nl;
        char labels[256] = "";
        char le[64] = "";
        if (*p == '{') {
            const char *q = p + 1;
            while (*q != '}') {
                size_t kl = strcspn(q, "=");
                if (!prom_name_ok(q, kl) || q[kl] != '=' || q[kl + 1] != '"')
                    return -1;
                bool is_le = kl == 2 && strncmp(q, "le", 2) == 0;
                q += kl + 2;
                char val[64];
                size_t vl = 0;
                while (*q && *q != '"') {
                    if (*q == '\\') {
                        q++;
                        if (*q != '\\' && *q != '"' && *q != 'n')
                            return -1;
                    }
                    if (vl < 63)
                        val[vl++] = *q;
                    q++;
                }
                val[vl] = '\0';
                if (*q++ != '"')
                    return -1;
                if (is_le)
                    memcpy(le, val, vl + 1);
                else
                    strncat(labels, val, sizeof(labels) - strlen(labels) - 2), strcat(labels, "|");
                if (*q == ',')
                    q++;
                else if (*q != '}')
                    return -1;
            }
            p = q + 1;
        }
        if (*p != ' ')
            return -1;
        char *end;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || *end != '\0') {
            fprintf(stderr, "prom: bad value in %s\n", line);
            return -1;
        }
        /* which family: the name itself, or a histogram's _bucket/_sum/_count */
        const char *suffix = "";
        char base[96];
        snprintf(base, sizeof(base), "%s", name);
        const char *sfx[] = {"_bucket", "_sum", "_count"};
        for (int i = 0; i < 3; i++) {
            size_t bl = strlen(name), sl = strlen(sfx[i]);
            if (strcmp(cur, name) != 0 && bl > sl && strcmp(name + bl - sl, sfx[i]) == 0 &&
                strncmp(cur, name, bl - sl) == 0 && cur[bl - sl] == '\0') {
                base[bl - sl] = '\0';
                suffix = sfx[i];
            }
        }
        if (strcmp(base, cur) != 0) {
            fprintf(stderr, "prom: sample %s outside its family block (%s)\n", name, cur);
            return -1;
        }
        int f = -1;
        for (int i = 0; i < nf; i++)
            if (strcmp(fams[i].name, cur) == 0)
                f = i;
        if (f < 0 || !fams[f].type[0] || !fams[f].help)
            return -1;
        if (strcmp(fams[f].type, "histogram") == 0) {
            if (strcmp(suffix, "_bucket") == 0) {
                if (strcmp(hist_series, labels) != 0) { /* a new series starts */
                    snprintf(hist_series, sizeof(hist_series), "%s", labels);
                    last_le = -1;
                    last_cum = -1;
                }
                double lev = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, NULL);
                if (!le[0] || lev <= last_le || v < last_cum) {
                    fprintf(stderr, "prom: bucket order in %s\n", line);
                    return -1;
                }
                last_le = lev;
                last_cum = v;
                if (isinf(lev))
                    inf_cum = v;
            } else if (strcmp(suffix, "_count") == 0) {
                if (v != inf_cum || !isinf(last_le)) {
                    fprintf(stderr, "prom: _count != +Inf bucket in %s\n", line);
                    return -1;
                }
            } else if (strcmp(suffix, "_sum") != 0) {
                return -1;
            }
        } else if (suffix[0]) {
            return -1;
        }
        samples++;
    }
    if (!want_found) {
        fprintf(stderr, "prom: no line '%s'\n", want_sample);
        return -1;
    }
    return samples;
}

static void test_prometheus_writer(void)
{
    struct model m;
    build_model(&m);
    size_t len = 0;
    char *t = stats_page_prometheus(&m.s, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT(prom_check(t, "sluice_frontend_http_requests_total{proxy=\"web\"} 1000") > 100);
    CU_ASSERT(prom_check(t, "sluice_frontend_http_responses_total{proxy=\"web\",code=\"4xx\"} "
                            "300") > 0);
    CU_ASSERT(prom_check(t, "sluice_server_status{proxy=\"web\",server=\"quo\\\"te,d\","
                            "state=\"DOWN\"} 1") > 0);
    CU_ASSERT(prom_check(t, "sluice_server_response_time_seconds_bucket{proxy=\"web\","
                            "server=\"s1\",le=\"0.004\"} 1000") > 0);
    CU_ASSERT(prom_check(t, "sluice_server_response_time_seconds_bucket{proxy=\"web\","
                            "server=\"s1\",le=\"0.002\"} 0") > 0);
    CU_ASSERT(prom_check(t, "sluice_server_response_time_seconds_count{proxy=\"web\","
                            "server=\"s1\"} 1000") > 0);
    CU_ASSERT(prom_check(t, "sluice_server_response_time_seconds_sum{proxy=\"web\","
                            "server=\"s1\"} 3.000000") > 0);
    CU_ASSERT(prom_check(t, "sluice_backend_connection_errors_total{proxy=\"web\"} 9") > 0);
    CU_ASSERT(prom_check(t, "sluice_server_check_code{proxy=\"web\",server=\"s1\"} 200") > 0);
    /* tcp proxies have no HTTP series */
    CU_ASSERT_PTR_NULL(strstr(t, "http_requests_total{proxy=\"db\"}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "sluice_backend_status{proxy=\"db\"} 0"));
    /* the checker itself rejects what promtool would */
    CU_ASSERT(prom_check("# HELP a_b x\n# TYPE a_b counter\na_b 1\n", NULL) < 0);
    CU_ASSERT(prom_check("# HELP a x\n# TYPE a gauge\na{x=\"1} 1\n", NULL) < 0);
    free(t);
}

static int count_str(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_html_writer(void)
{
    struct model m;
    build_model(&m);
    struct stats_page_opts o = {.uri = "/st<ats", .refresh_s = 5};
    size_t len = 0;
    char *h = stats_page_html(&m.s, &o, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(strncmp(h, "<!DOCTYPE html>", 15), 0);
    CU_ASSERT_EQUAL(count_str(h, "<table class=\"px\""), 2); /* one table per proxy */
    CU_ASSERT_EQUAL(count_str(h, "<table"), count_str(h, "</table>"));
    CU_ASSERT_EQUAL(count_str(h, "<tr"), count_str(h, "</tr>"));
    CU_ASSERT_EQUAL(count_str(h, "<td"), count_str(h, "</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<meta http-equiv=\"refresh\" content=\"5\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "href=\"/st&lt;ats;csv\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<tr class=\"down\"><td class=\"n\">quo&quot;te,d</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "<tr class=\"up\"><td class=\"n\">s1</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "L7OK/200"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "9.9.9"));
    CU_ASSERT_PTR_NULL(strstr(h, "<script"));
    CU_ASSERT_PTR_NULL(strstr(h, "http://")); /* no external assets */
    /* every row has the header's 36 cells */
    const char *tb = strstr(h, "<tbody>");
    const char *row = strstr(tb, "<tr");
    const char *end = strstr(row, "</tr>");
    int cells = 0;
    for (const char *p = strstr(row, "<td"); p && p < end; p = strstr(p + 1, "<td"))
        cells++;
    CU_ASSERT_EQUAL(cells, 36);
    free(h);
    o.refresh_s = 0;
    o.hide_version = true;
    h = stats_page_html(&m.s, &o, &len);
    CU_ASSERT_PTR_NULL(strstr(h, "http-equiv"));
    CU_ASSERT_PTR_NULL(strstr(h, "9.9.9"));
    free(h);
}

/* ---- a snapshot of a runtime built from a config -------------------------------------------- */

static void test_snapshot(void)
{
    const char *text = "[global]\nnbthread = 2\n"
                       "[defaults]\nmode = http\n"
                       "[frontend web]\nbind = 127.0.0.1:1\ndefault_backend = app\n"
                       "[backend app]\nserver = s1 127.0.0.1:2 check\n"
                       "server = s2 127.0.0.1:3 backup\nserver = s3 127.0.0.1:4 disabled\n"
                       "[listen stats]\nbind = 127.0.0.1:5\nstats uri = /st\nstats refresh = 3s\n";
    struct config *cfg = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), 0);
    struct runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.cfg = cfg;
    rt.nworkers = 2;
    rt.bal = balancer_new(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt.bal);
    struct frontend fes[2];
    memset(fes, 0, sizeof(fes));
    fes[0].cfg = &cfg->proxies[0];
    fes[1].cfg = &cfg->proxies[2];
    fes[0].idx = 0;
    fes[1].idx = 1;
    rt.fes = fes;
    rt.nfes = 2;
    size_t nsrv[2] = {rt.bal->backends[0].nservers, rt.bal->backends[1].nservers};
    CU_ASSERT_EQUAL(nsrv[0], 3);
    CU_ASSERT_EQUAL(nsrv[1], 0);
    rt.stats = stats_new(2, 2, 2, nsrv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt.stats);
    CU_ASSERT(cfg->proxies[2].http.stats.enabled);
    CU_ASSERT_STRING_EQUAL(cfg->proxies[2].http.stats.uri, "/st");
    CU_ASSERT_EQUAL(cfg->proxies[2].http.stats.refresh_ms, 3000);

    atomic_store(&fes[0].total, 5);
    for (unsigned w = 0; w < 2; w++) {
        stats_add(stats_fe(&rt.stats->w[w], 0), STC_REQ, 500);
        stats_add(stats_srv(&rt.stats->w[w], 0, 0), STC_SESS, 500);
        stats_add(stats_be(&rt.stats->w[w], 0), STC_SESS, 500);
    }
    server_set_state(&rt.bal->backends[0].servers[0], SRV_ST_DOWN);
    atomic_store(&rt.bal->backends[0].servers[0].check_status, SRV_CHK_L4CON);

    struct stats_snap *s = stats_snapshot(&rt);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->npx, 3);
    /* web: FRONTEND only; app: s1 s2 s3 BACKEND; stats: FRONTEND BACKEND */
    CU_ASSERT_EQUAL(s->px[0].nrows, 1);
    CU_ASSERT_EQUAL(s->px[1].nrows, 4);
    CU_ASSERT_EQUAL(s->px[2].nrows, 2);
    const struct stats_row *fe = &s->px[0].rows[0];
    CU_ASSERT_EQUAL(fe->type, STATS_ROW_FE);
    CU_ASSERT_EQUAL(fe->c[STC_REQ], 1000);
    CU_ASSERT_EQUAL(fe->c[STC_SESS], 5);
    const struct stats_row *r = s->px[1].rows;
    CU_ASSERT_STRING_EQUAL(r[0].svname, "s1");
    CU_ASSERT_STRING_EQUAL(r[0].status, "DOWN");
    CU_ASSERT_STRING_EQUAL(r[0].check_status, "L4CON");
    CU_ASSERT_EQUAL(r[0].chkdown, 1);
    CU_ASSERT_EQUAL(r[0].c[STC_SESS], 1000);
    CU_ASSERT_STRING_EQUAL(r[1].status, "no check");
    CU_ASSERT(r[1].backup);
    CU_ASSERT_STRING_EQUAL(r[2].status, "MAINT");
    CU_ASSERT_EQUAL(r[3].type, STATS_ROW_BE);
    CU_ASSERT_EQUAL(r[3].c[STC_SESS], 1000);
    CU_ASSERT_EQUAL(r[3].act, 0); /* s1 down, s3 in maintenance */
    CU_ASSERT_EQUAL(r[3].bck, 1);
    CU_ASSERT_STRING_EQUAL(r[3].status, "UP");
    CU_ASSERT_STRING_EQUAL(r[3].algo, "roundrobin");
    CU_ASSERT_STRING_EQUAL(s->px[2].rows[1].status, "UP"); /* [listen stats] answers itself */
    stats_snap_free(s);

    /* downtime accumulates while DOWN and stops when UP again */
    struct server *sv = &rt.bal->backends[0].servers[0];
    uint64_t lc = atomic_load(&sv->last_change_ms);
    CU_ASSERT_EQUAL(server_downtime_ms(sv, lc + 1500), 1500);
    server_set_state(sv, SRV_ST_UP);
    uint64_t d = server_downtime_ms(sv, atomic_load(&sv->last_change_ms) + 99999);
    CU_ASSERT(d < 1000); /* only the real time it spent DOWN in this test */

    stats_free(rt.stats);
    balancer_free(rt.bal);
    config_free(cfg);
}

static void test_config_errors(void)
{
    const char *bad[] = {
        "[defaults]\nmode = http\n[listen s]\nbind = 127.0.0.1:1\nstats uri = stats\n",
        "[defaults]\nmode = http\n[listen s]\nbind = 127.0.0.1:1\nstats refresh = abc\n",
        "[defaults]\nmode = http\n[listen s]\nbind = 127.0.0.1:1\nstats = enable x\n",
        "[defaults]\nmode = http\n[frontend f]\nbind = 127.0.0.1:1\n"
        "http-request use-service = lua.foo\n",
        "[defaults]\nmode = tcp\n[listen s]\nbind = 127.0.0.1:1\nstats uri = /s\n",
        "[defaults]\nmode = http\n[listen s]\nbind = 127.0.0.1:1\nstats auth = admin\n",
        "[defaults]\nmode = http\n[listen s]\nbind = 127.0.0.1:1\nstats auth = :pw\n",
        "[defaults]\nmode = http\n[listen s]\nbind = 127.0.0.1:1\nstats realm = a\\\"b\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct config *cfg = NULL;
        char err[256] = "";
        CU_ASSERT_EQUAL(config_load_string("t.ini", bad[i], &cfg, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:"));
    }
    /* an exporter-only frontend needs no backend (HAProxy's usual setup) */
    struct config *cfg = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(config_load_string("t.ini",
                                       "[defaults]\nmode = http\n[frontend prom]\n"
                                       "bind = 127.0.0.1:1\nhttp-request use-service = "
                                       "prometheus-exporter if { path /metrics }\n",
                                       &cfg, err, sizeof(err)),
                    0);
    if (cfg) {
        CU_ASSERT_EQUAL(cfg->proxies[0].http.req_rules[0].action, HTTP_ACT_USE_SERVICE);
        CU_ASSERT(cfg->proxies[0].http.has_service);
    }
    config_free(cfg);
    /* stats in [defaults] is inherited */
    cfg = NULL;
    CU_ASSERT_EQUAL(config_load_string("t.ini",
                                       "[defaults]\nmode = http\nstats = enable\n"
                                       "stats = hide-version\n[listen s]\nbind = 127.0.0.1:1\n",
                                       &cfg, err, sizeof(err)),
                    0);
    if (cfg) {
        CU_ASSERT(cfg->proxies[0].http.stats.enabled);
        CU_ASSERT(cfg->proxies[0].http.stats.hide_version);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[0].http.stats.uri, "");
    }
    config_free(cfg);
    /* stats auth: a userlist of the config per section; a section's own users replace those of
       [defaults] (HAProxy), one that names none keeps them */
    cfg = NULL;
    CU_ASSERT_EQUAL(config_load_string("t.ini",
                                       "[defaults]\nmode = http\nstats auth = a:1\n"
                                       "[listen s]\nbind = 127.0.0.1:1\nstats auth = b:2:3\n"
                                       "[listen t]\nbind = 127.0.0.1:2\nstats uri = /t\n",
                                       &cfg, err, sizeof(err)),
                    0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_userlist *ul = cfg->proxies[0].http.stats.auth_list;
    CU_ASSERT(cfg->proxies[0].http.stats.enabled);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ul);
    CU_ASSERT_EQUAL_FATAL(ul->nusers, 1);
    CU_ASSERT_STRING_EQUAL(ul->users[0].name, "b");
    CU_ASSERT_STRING_EQUAL(ul->users[0].password, "2:3");
    const struct cfg_userlist *ul2 = cfg->proxies[1].http.stats.auth_list;
    CU_ASSERT_PTR_NOT_NULL_FATAL(ul2);
    CU_ASSERT_EQUAL_FATAL(ul2->nusers, 1);
    CU_ASSERT_STRING_EQUAL(ul2->users[0].name, "a");
    CU_ASSERT_STRING_EQUAL(ul2->users[0].password, "1");
    CU_ASSERT_EQUAL(cfg->nuserlists, 2);
    config_free(cfg);
}

int suite_stats(void)
{
    CU_pSuite s = CU_add_suite("stats", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "sum_across_workers", test_sum_across_workers);
    CU_add_test(s, "sum_while_writing", test_sum_while_writing);
    CU_add_test(s, "bucket_math", test_bucket_math);
    CU_add_test(s, "percentiles", test_percentiles);
    CU_add_test(s, "status_ctr", test_status_ctr);
    CU_add_test(s, "csv_writer", test_csv_writer);
    CU_add_test(s, "json_writer", test_json_writer);
    CU_add_test(s, "prometheus_writer", test_prometheus_writer);
    CU_add_test(s, "html_writer", test_html_writer);
    CU_add_test(s, "snapshot", test_snapshot);
    CU_add_test(s, "config_errors", test_config_errors);
    return CU_get_error();
}
