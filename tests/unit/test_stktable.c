/* Stick tables: the `stick-table` / `track-sc` / `sc_*` / `src_*` configuration and its errors,
 * and the run-time tables: keys, counters, HAProxy's sliding-window rates, expiry, a full table,
 * the runtime API's lines, and workers tracking one key at once (also under `make tsan`). */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_load.h"
#include "config/model.h"
#include "core/epoch.h"
#include "core/stktable.h"
#include "h2i.h"

#define FE                                                                                         \
    "[frontend f]\n"                                                                               \
    "mode = http\n"                                                                                \
    "bind = :80\n"                                                                                 \
    "default_backend = b\n"
#define BE                                                                                         \
    "[backend b]\n"                                                                                \
    "mode = http\n"                                                                                \
    "server = s1 127.0.0.1:1\n"

static void test_config_ok(void)
{
    struct config *cfg =
        cfg_load_ok(FE "stick-table = type ip size 100k expire 30s store "
                       "http_req_rate(10s),conn_cur store http_err_cnt\n"
                       "http-request track-sc0 = src\n"
                       "http-request track-sc1 = req.hdr(x-key),lower table b\n"
                       "http-request deny = deny_status 429 if { sc_http_req_rate(0) "
                       "gt 10 } || { sc0_conn_cur ge 3 } || { src_http_err_cnt gt 5 }\n"
                       "http-request deny = if { sc1_http_req_cnt gt 100 }\n" BE
                       "stick-table = type string len 16 size 1m expire 1m store "
                       "http_req_cnt\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->nstick_tables, 2);
    const struct cfg_stick_table *t = &cfg->proxies[0].stick;
    CU_ASSERT(t->present);
    CU_ASSERT_EQUAL(t->type, STK_KEY_IP);
    CU_ASSERT_EQUAL(t->size, 100 * 1024);
    CU_ASSERT_EQUAL(t->expire_ms, 30000);
    CU_ASSERT_EQUAL(t->store, (1u << STK_D_HTTP_REQ_RATE) | (1u << STK_D_CONN_CUR) |
                                  (1u << STK_D_HTTP_ERR_CNT));
    CU_ASSERT_EQUAL(t->period_ms[STK_D_HTTP_REQ_RATE], 10000);
    const struct cfg_stick_table *tb = &cfg->proxies[1].stick;
    CU_ASSERT_EQUAL(tb->type, STK_KEY_STRING);
    CU_ASSERT_EQUAL(tb->key_len, 16);
    CU_ASSERT_EQUAL(tb->size, 1024 * 1024);
    const struct cfg_http *h = &cfg->proxies[0].http;
    CU_ASSERT_EQUAL(h->req_rules[0].action, HTTP_ACT_TRACK_SC);
    CU_ASSERT_EQUAL(h->req_rules[0].sc, 0);
    CU_ASSERT_EQUAL(h->req_rules[0].table, (int)t->idx);
    CU_ASSERT_EQUAL(h->req_rules[1].sc, 1);
    CU_ASSERT_EQUAL(h->req_rules[1].table, (int)tb->idx);
    size_t sc = 0, src = 0;
    for (size_t i = 0; i < h->nacls; i++) {
        sc += h->acls[i].fetch == ACL_F_SC;
        if (h->acls[i].fetch == ACL_F_SRC_STK) {
            src++;
            CU_ASSERT_EQUAL(h->acls[i].stk_table, (int)t->idx);
            CU_ASSERT_EQUAL(h->acls[i].stk_data, STK_D_HTTP_ERR_CNT);
        }
    }
    CU_ASSERT_EQUAL(sc, 3);
    CU_ASSERT_EQUAL(src, 1);
    config_free(cfg);

    /* connection rules, in mode tcp too, testing only the connection */
    cfg = cfg_load_ok("[listen l]\nmode = tcp\nbind = :80\nserver = s 127.0.0.1:1\n"
                      "stick-table = type ipv6 size 1k expire 10s store conn_rate(3s),conn_cur\n"
                      "tcp-request connection = accept if { src 10.0.0.0/8 }\n"
                      "tcp-request connection = track-sc1 src\n"
                      "tcp-request connection = reject if { sc1_conn_rate gt 20 } || "
                      "{ src_conn_cur ge 5 } || !{ dst_port 80 }\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    h = &cfg->proxies[0].http;
    CU_ASSERT_EQUAL(h->nconn_rules, 3);
    CU_ASSERT_EQUAL(h->conn_rules[0].action, HTTP_ACT_ALLOW);
    CU_ASSERT_EQUAL(h->conn_rules[1].action, HTTP_ACT_TRACK_SC);
    CU_ASSERT_EQUAL(h->conn_rules[1].sc, 1);
    CU_ASSERT_EQUAL(h->conn_rules[1].table, 0);
    CU_ASSERT_EQUAL(h->conn_rules[2].action, HTTP_ACT_DENY);
    CU_ASSERT(h->conn_rules[2].cond.present);
    config_free(cfg);
}

static void test_config_errors(void)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {FE "stick-table = type ip size 10 store conn_cur\n" BE,
         "t.ini:5: stick-table needs 'expire TIME'"},
        {FE "stick-table = type mac size 10 expire 1s\n" BE,
         "t.ini:5: unsupported stick-table type 'mac' (expected ip, ipv6, integer or string)"},
        {FE "stick-table = type ip expire 1s\n" BE, "t.ini:5: stick-table needs a size"},
        {FE "stick-table = type ip size 0 expire 1s\n" BE, "t.ini:5: invalid stick-table size '0'"},
        {FE "stick-table = type ip size 10x expire 1s\n" BE,
         "t.ini:5: invalid stick-table size '10x'"},
        /* 2^54 + 1 entries of 1024: the product wraps to 1024 in 64 bits */
        {FE "stick-table = type ip size 18014398509481985k expire 1s\n" BE,
         "t.ini:5: invalid stick-table size '18014398509481985k'"},
        {FE "stick-table = type ip size 2g expire 1s\n" BE,
         "t.ini:5: invalid stick-table size '2g'"},
        {FE "stick-table = type ip size 10 expire 1s store gpc0\n" BE,
         "t.ini:5: unsupported stick-table data type 'gpc0' (expected conn_cnt, conn_cur,"},
        {FE "stick-table = type ip size 10 expire 1s store http_req_rate\n" BE,
         "t.ini:5: 'http_req_rate' needs a period (expected 'http_req_rate(10s)')"},
        {FE "stick-table = type ip size 10 expire 1s store conn_cur(10s)\n" BE,
         "t.ini:5: 'conn_cur' in 'store conn_cur(10s)' takes no period"},
        {FE "stick-table = type ip size 10 expire 1s store http_req_rate(0)\n" BE,
         "t.ini:5: invalid period '0' of http_req_rate"},
        {FE "stick-table = type ip size 10 expire 1s peers p\n" BE,
         "t.ini:5: stick-table option 'peers' is not supported"},
        {FE "stick-table = type ip size 10 expire 1s nopurge\n" BE,
         "t.ini:5: 'nopurge' is not supported"},
        {FE "stick-table = type ip len 8 size 10 expire 1s\n" BE,
         "t.ini:5: 'len' applies to string tables only"},
        {FE "stick-table = type ip size 10 expire 1s\nstick-table = type ip size 10 expire 1s\n" BE,
         "t.ini:6: a second stick-table in this section"},
        {FE "http-request track-sc0 = src\n" BE,
         "t.ini:5: http-request track-sc0 uses the stick-table of 'f', which has none"},
        {FE "http-request track-sc0 = src table nope\n" BE,
         "t.ini:5: http-request track-sc0 names table 'nope', but no section of that name has a "
         "stick-table"},
        {FE "http-request track-sc0 = if TRUE\n" BE,
         "t.ini:5: 'http-request track-sc0' needs a key"},
        {FE "stick-table = type ip size 10 expire 1s\nhttp-request track-sc0 = status\n" BE,
         "t.ini:6: sample 'status' in the key of http-request track-sc0 '%[status]' is known "
         "only once the server answered"},
        {FE "stick-table = type ip size 10 expire 1s\nhttp-request track-sc0 = fe_name\n" BE,
         "t.ini:6: unsupported key 'fe_name' for http-request track-sc0"},
        {FE "stick-table = type ip size 10 expire 1s store conn_cur\n"
            "http-request track-sc0 = src\n"
            "http-request deny = if { sc_http_req_rate(0) gt 1 }\n" BE,
         "t.ini:7: an anonymous ACL (sc0_http_req_rate) reads http_req_rate, which the stick-table "
         "of 'f' "
         "(line 5) does not store (expected 'http_req_rate(PERIOD)' in its store list)"},
        {FE "stick-table = type ip size 10 expire 1s store conn_cur\n"
            "acl = abuse src_http_err_cnt gt 1\n" BE,
         "t.ini:6: ACL 'abuse' (src_http_err_cnt) reads http_err_cnt, which the stick-table"},
        {FE "acl = abuse src_conn_cur gt 1\n" BE,
         "t.ini:5: ACL 'abuse' (src_conn_cur) uses the stick-table of 'f', which has none"},
        {FE "acl = abuse sc_conn_cur gt 1\n" BE, "t.ini:5: 'sc_conn_cur' needs a tracker number"},
        {FE "acl = abuse sc_conn_cur(3) gt 1\n" BE,
         "t.ini:5: 'sc_conn_cur(3)' needs a tracker number"},
        {FE "acl = abuse sc_conn_cur(0,t) gt 1\n" BE,
         "t.ini:5: a table argument in 'sc_conn_cur(0,t)' is not supported"},
        {FE "acl = abuse sc0_get_gpc0 gt 1\n" BE,
         "t.ini:5: ACL criterion 'sc0_get_gpc0' is not supported"},
        {FE "acl = abuse src_conn_cur -m str 1\n" BE,
         "t.ini:5: match method '-m str' cannot be used with 'src_conn_cur' (expected int or "
         "found)"},
        {FE "tcp-request connection = drop\n" BE,
         "t.ini:5: unknown tcp-request connection action 'drop' (expected accept, reject, "
         "track-sc0, track-sc1 or track-sc2)"},
        {FE "stick-table = type ip size 10 expire 1s\ntcp-request connection = track-sc0 path\n" BE,
         "t.ini:6: tcp-request connection track-sc0 tracks src only"},
        {FE "tcp-request connection = reject if { path_beg /a }\n" BE,
         "t.ini:5: a tcp-request connection rule tests the request, which looks at a request"},
        {FE "acl = adm hdr(host) a\ntcp-request connection = reject if adm\n" BE,
         "t.ini:6: a tcp-request connection rule tests ACL 'adm', which looks at a request"},
        {FE "tcp-request connection = reject sometimes\n" BE,
         "t.ini:5: unexpected 'sometimes' in 'tcp-request connection reject'"},
        {FE BE "tcp-request connection = reject\n",
         "t.ini:8: 'tcp-request connection' is not allowed in a [backend] section"},
        {"[frontend f]\nmode = tcp\nbind = :80\ndefault_backend = b\n"
         "stick-table = type ip size 10 expire 1s\nhttp-request track-sc0 = src\n"
         "[backend b]\nmode = tcp\nserver = s1 127.0.0.1:1\n",
         "t.ini:6: 'http-request' rules in [frontend f] need mode http"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cfg_load_err(cases[i].text, cases[i].expect);
}

/* ---- run time ------------------------------------------------------------------------------ */

static struct config *rt_cfg;

static struct stk_table *start(const char *table_line)
{
    char text[1024];
    snprintf(text, sizeof(text), FE "%s\n" BE, table_line);
    rt_cfg = cfg_load_ok(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt_cfg);
    CU_ASSERT_EQUAL_FATAL(epoch_init(1), 0);
    CU_ASSERT_EQUAL_FATAL(stktable_init(rt_cfg), 0);
    return stktable_get(0);
}

static void stop(void)
{
    epoch_shutdown();
    stktable_shutdown();
    config_free(rt_cfg);
    rt_cfg = NULL;
}

static size_t v4key(struct stk_table *t, const char *ip, unsigned char *key)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return stktable_key_addr(t, (struct sockaddr *)&a, key);
}

static uint64_t rd(const struct stk_entry *e, enum stk_data d, uint32_t now)
{
    uint64_t v = 99999;
    CU_ASSERT(stktable_read(e, d, now, &v));
    return v;
}

static void test_keys(void)
{
    unsigned char k[STK_KEY_MAX];
    struct stk_table *t = start("stick-table = type ip size 10 expire 10s store conn_cur");
    CU_ASSERT_EQUAL(v4key(t, "10.1.2.3", k), 4);
    CU_ASSERT(memcmp(k, "\x0a\x01\x02\x03", 4) == 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:10.1.2.3", &a6.sin6_addr);
    CU_ASSERT_EQUAL(stktable_key_addr(t, (struct sockaddr *)&a6, k), 4); /* v4-mapped */
    inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
    CU_ASSERT_EQUAL(stktable_key_addr(t, (struct sockaddr *)&a6, k), 0); /* no IPv4 key */
    CU_ASSERT_EQUAL(stktable_key_text(t, "192.168.0.1", 11, k), 4);
    CU_ASSERT_EQUAL(stktable_key_text(t, "nope", 4, k), 0);
    CU_ASSERT_EQUAL(stktable_key_addr(t, NULL, k), 0);
    stop();

    t = start("stick-table = type ipv6 size 10 expire 10s store conn_cur");
    CU_ASSERT_EQUAL(v4key(t, "10.1.2.3", k), 16);
    CU_ASSERT(memcmp(k, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x01\x02\x03", 16) == 0);
    stop();

    t = start("stick-table = type string len 4 size 10 expire 10s store conn_cur");
    CU_ASSERT_EQUAL(stktable_key_text(t, "abcdefgh", 8, k), 4); /* cut at len */
    CU_ASSERT(memcmp(k, "abcd", 4) == 0);
    CU_ASSERT_EQUAL(v4key(t, "10.1.2.3", k), 4); /* "10.1" */
    stop();

    t = start("stick-table = type integer size 10 expire 10s store conn_cur");
    CU_ASSERT_EQUAL(stktable_key_text(t, "-42", 3, k), 8);
    int64_t v;
    memcpy(&v, k, 8);
    CU_ASSERT_EQUAL(v, -42);
    CU_ASSERT_EQUAL(stktable_key_text(t, "4x", 2, k), 0);
    stop();
}

static void test_counters(void)
{
    struct stk_table *t = start("stick-table = type ip size 10 expire 10s store "
                                "conn_cnt,conn_cur,http_req_cnt,http_err_cnt,http_req_rate(1s)");
    unsigned char k[STK_KEY_MAX];
    size_t kl = v4key(t, "10.0.0.1", k);
    uint32_t now = 5000;
    struct stk_entry *a = stktable_track(t, k, kl, now);
    struct stk_entry *b = stktable_track(t, k, kl, now);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_EQUAL(a, b); /* one entry per key */
    CU_ASSERT_EQUAL(rd(a, STK_D_CONN_CNT, now), 2);
    CU_ASSERT_EQUAL(rd(a, STK_D_CONN_CUR, now), 2);
    stktable_event(a, STK_EV_HTTP_REQ, now);
    stktable_event(a, STK_EV_HTTP_ERR, now);
    CU_ASSERT_EQUAL(rd(a, STK_D_HTTP_REQ_CNT, now), 1);
    CU_ASSERT_EQUAL(rd(a, STK_D_HTTP_ERR_CNT, now), 1);
    uint64_t v;
    CU_ASSERT_FALSE(stktable_read(a, STK_D_CONN_RATE, now, &v)); /* not stored */
    stktable_untrack(a, now);
    stktable_untrack(b, now);
    CU_ASSERT_EQUAL(rd(a, STK_D_CONN_CUR, now), 0);
    CU_ASSERT_EQUAL(rd(a, STK_D_CONN_CNT, now), 2);

    /* lookups read without tracking; an absent key reads 0 */
    CU_ASSERT(stktable_lookup_read(t, k, kl, STK_D_CONN_CNT, now, &v));
    CU_ASSERT_EQUAL(v, 2);
    unsigned char k2[STK_KEY_MAX];
    size_t kl2 = v4key(t, "10.0.0.2", k2);
    CU_ASSERT(stktable_lookup_read(t, k2, kl2, STK_D_CONN_CNT, now, &v));
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_FALSE(stktable_lookup_read(t, k2, kl2, STK_D_CONN_RATE, now, &v));
    stop();
}

static void test_rates(void)
{
    struct stk_table *t = start("stick-table = type ip size 10 expire 100s store "
                                "http_req_rate(10s)");
    unsigned char k[STK_KEY_MAX];
    size_t kl = v4key(t, "10.0.0.1", k);
    uint32_t t0 = 100000;
    struct stk_entry *e = stktable_track(t, k, kl, t0);
    for (int i = 0; i < 20; i++)
        stktable_event(e, STK_EV_HTTP_REQ, t0 + (uint32_t)i * 100);
    CU_ASSERT_EQUAL(rd(e, STK_D_HTTP_REQ_RATE, t0 + 5000), 20);
    /* a quarter into the next period: 3/4 of the previous period's 20 still count */
    CU_ASSERT_EQUAL(rd(e, STK_D_HTTP_REQ_RATE, t0 + 12500), 15);
    stktable_event(e, STK_EV_HTTP_REQ, t0 + 12500); /* turns the period over */
    CU_ASSERT_EQUAL(rd(e, STK_D_HTTP_REQ_RATE, t0 + 12500), 16);
    CU_ASSERT_EQUAL(rd(e, STK_D_HTTP_REQ_RATE, t0 + 15000), 11); /* 1 + 20 * 5/10 */
    /* two whole periods without an event: nothing left */
    CU_ASSERT_EQUAL(rd(e, STK_D_HTTP_REQ_RATE, t0 + 30000), 0);
    stktable_event(e, STK_EV_HTTP_REQ, t0 + 45000);
    CU_ASSERT_EQUAL(rd(e, STK_D_HTTP_REQ_RATE, t0 + 45000), 1); /* no stale previous period */
    /* the clock wraps (49 days of uptime) without a jump in the rate */
    uint32_t w = 0xffffffffu - 3000;
    struct stk_entry *e2 = stktable_track(t, (const unsigned char *)"\1\2\3\4", 4, w);
    stktable_event(e2, STK_EV_HTTP_REQ, w);
    stktable_event(e2, STK_EV_HTTP_REQ, w + 5000);
    CU_ASSERT_EQUAL(rd(e2, STK_D_HTTP_REQ_RATE, w + 5000), 2);
    stktable_untrack(e, t0);
    stktable_untrack(e2, w);

    /* Each worker stamps events with the time its event batch began, so one whose batch began a
     * few milliseconds before another turned the period over still counts into that period: the
     * event joins the current period instead of starting one that forgets the counts. */
    unsigned char k3[STK_KEY_MAX];
    size_t kl3 = v4key(t, "10.0.0.3", k3);
    struct stk_entry *s = stktable_track(t, k3, kl3, t0);
    for (int i = 0; i < 50; i++)
        stktable_event(s, STK_EV_HTTP_REQ, t0 + (uint32_t)i * 100);
    for (int i = 0; i < 10; i++) /* worker A turns the period at t0 + 10004 */
        stktable_event(s, STK_EV_HTTP_REQ, t0 + 10004);
    CU_ASSERT_EQUAL(rd(s, STK_D_HTTP_REQ_RATE, t0 + 10004), 59); /* 10 + 50 * 9996/10000 */
    stktable_event(s, STK_EV_HTTP_REQ, t0 + 9996); /* worker B's batch began at t0 + 9996 */
    CU_ASSERT_EQUAL(rd(s, STK_D_HTTP_REQ_RATE, t0 + 10004), 60);
    stktable_untrack(s, t0);

    /* rounded down as HAProxy does: 3 events 6/10 inside the window read 1, not 2; and a lone
     * event reads 1 until it leaves the window */
    unsigned char k4[STK_KEY_MAX];
    size_t kl4 = v4key(t, "10.0.0.4", k4);
    struct stk_entry *r = stktable_track(t, k4, kl4, t0);
    for (int i = 0; i < 3; i++)
        stktable_event(r, STK_EV_HTTP_REQ, t0);
    CU_ASSERT_EQUAL(rd(r, STK_D_HTTP_REQ_RATE, t0 + 14000), 1);
    stktable_event(r, STK_EV_HTTP_REQ, t0 + 20000);
    CU_ASSERT_EQUAL(rd(r, STK_D_HTTP_REQ_RATE, t0 + 39000), 1);
    stktable_untrack(r, t0);
    stop();
}

static void test_expiry_and_full(void)
{
    struct stk_table *t = start("stick-table = type ip size 2 expire 10s store conn_cnt");
    unsigned char k1[STK_KEY_MAX], k2[STK_KEY_MAX], k3[STK_KEY_MAX];
    size_t l1 = v4key(t, "10.0.0.1", k1), l2 = v4key(t, "10.0.0.2", k2);
    size_t l3 = v4key(t, "10.0.0.3", k3);
    struct stk_entry *a = stktable_track(t, k1, l1, 1000);
    struct stk_entry *b = stktable_track(t, k2, l2, 1000);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    CU_ASSERT_PTR_NULL(stktable_track(t, k3, l3, 1000)); /* full, every entry tracked */
    stktable_untrack(b, 2000);
    CU_ASSERT_EQUAL(stktable_sweep(11999), 0); /* b expires at 12000 */
    CU_ASSERT_EQUAL(stktable_sweep(50000), 1); /* a is still tracked: only b goes */
    uint64_t v;
    CU_ASSERT(stktable_lookup_read(t, k2, l2, STK_D_CONN_CNT, 50000, &v));
    CU_ASSERT_EQUAL(v, 0);
    struct stk_entry *c = stktable_track(t, k3, l3, 50000); /* room again */
    CU_ASSERT_PTR_NOT_NULL(c);
    stktable_untrack(a, 50000);
    stktable_untrack(c, 50000);
    CU_ASSERT_EQUAL(stktable_clear(t, "10.0.0.3"), 1);
    CU_ASSERT_EQUAL(stktable_clear(t, NULL), 1);
    CU_ASSERT(stktable_lookup_read(t, k1, l1, STK_D_CONN_CNT, 50000, &v));
    CU_ASSERT_EQUAL(v, 0);
    epoch_reclaim();
    stop();
}

/* A full table whose entries nobody tracks makes room for a new key by evicting the least
 * recently used of them (HAProxy evicts too): a flood of new keys cannot lock others out. */
static void test_full_table_evicts(void)
{
    struct stk_table *t = start("stick-table = type ip size 4 expire 100s store conn_cnt");
    unsigned char k[8][STK_KEY_MAX];
    size_t l[8];
    char ip[24];
    for (int i = 0; i < 8; i++) {
        snprintf(ip, sizeof(ip), "10.0.0.%d", (i + 1) & 0xff);
        l[i] = v4key(t, ip, k[i]);
    }
    /* four entries, used at 1000, 2000, 3000, 4000; the one of 10.0.0.2 is still tracked */
    struct stk_entry *held = NULL;
    for (int i = 0; i < 4; i++) {
        struct stk_entry *e = stktable_track(t, k[i], l[i], 1000u * (unsigned)(i + 1));
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        if (i == 1)
            held = e;
        else
            stktable_untrack(e, 1000u * (unsigned)(i + 1));
    }
    /* a new key evicts the oldest unreferenced entry: 10.0.0.1 */
    struct stk_entry *e5 = stktable_track(t, k[4], l[4], 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e5);
    uint64_t v;
    CU_ASSERT(stktable_lookup_read(t, k[0], l[0], STK_D_CONN_CNT, 5000, &v));
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT(stktable_lookup_read(t, k[1], l[1], STK_D_CONN_CNT, 5000, &v));
    CU_ASSERT_EQUAL(v, 1); /* tracked: never evicted, though the oldest now */
    /* the next one evicts 10.0.0.3 (3000), not the tracked 10.0.0.2 (2000) */
    struct stk_entry *e6 = stktable_track(t, k[5], l[5], 6000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e6);
    CU_ASSERT(stktable_lookup_read(t, k[2], l[2], STK_D_CONN_CNT, 6000, &v));
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT(stktable_lookup_read(t, k[3], l[3], STK_D_CONN_CNT, 6000, &v));
    CU_ASSERT_EQUAL(v, 1);
    /* with every entry tracked, a new key is not tracked */
    struct stk_entry *e4 = stktable_track(t, k[3], l[3], 6000);
    CU_ASSERT_PTR_NULL(stktable_track(t, k[6], l[6], 7000));
    stktable_untrack(e4, 7000);
    stktable_untrack(e5, 7000);
    stktable_untrack(e6, 7000);
    stktable_untrack(held, 7000);
    CU_ASSERT_EQUAL(stktable_sweep(7000), 0); /* the evicted ones go to the epoch scheme */
    epoch_reclaim();
    stop();
}

/* A sweep call visits a bounded slice of a large table (its cost must not grow with `size`: the
 * health checks share its thread), and the calls that follow go on from there. */
static void test_sweep_slices(void)
{
    struct stk_table *t = start("stick-table = type ip size 4m expire 1s store conn_cnt");
    unsigned char k[4] = {10, 0, 0, 0};
    for (unsigned i = 0; i < 1000; i++) {
        k[2] = (unsigned char)(i >> 8);
        k[3] = (unsigned char)i;
        stktable_untrack(stktable_track(t, k, 4, 1000), 1000);
    }
    size_t first = stktable_sweep(50000);
    CU_ASSERT(first > 0 && first < 200); /* 2^18 of the 2^22 buckets: about 1000 / 16 */
    size_t total = first;
    for (int i = 0; i < 15; i++)
        total += stktable_sweep(50000);
    CU_ASSERT_EQUAL(total, 1000); /* every slice once */
    CU_ASSERT_EQUAL(stktable_sweep(50000), 0);
    epoch_reclaim();
    stop();
}

static char shown[4096];
static void collect(void *arg, const char *line, size_t len)
{
    (void)arg;
    strncat(shown, line, len < sizeof(shown) - strlen(shown) - 2 ? len : 0);
    strcat(shown, "\n");
}

static void test_show(void)
{
    struct stk_table *t = start("stick-table = type string len 8 size 10 expire 10s store "
                                "conn_cur,http_req_rate(10s),conn_cnt");
    unsigned char k[STK_KEY_MAX];
    size_t kl = stktable_key_text(t, "a b\\c", 5, k);
    struct stk_entry *e = stktable_track(t, k, kl, 1000);
    stktable_event(e, STK_EV_HTTP_REQ, 1000);
    shown[0] = '\0';
    stktable_show_header(t, collect, NULL);
    CU_ASSERT_EQUAL(stktable_show(t, 3000, collect, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(shown, "# table: f, type: string, size:10, used:1\n"));
    /* HAProxy's data order; a blank and a backslash escaped to keep the line parseable */
    CU_ASSERT_PTR_NOT_NULL(strstr(shown, ": key=a\\x20b\\x5cc use=1 exp=8000 conn_cnt=1 "
                                         "conn_cur=1 http_req_rate(10000)=1\n"));
    stktable_untrack(e, 1000);
    /* `clear table f key a\x20b\x5cc`: the key as shown */
    CU_ASSERT_EQUAL(stktable_clear(t, "a\\x20b\\x5cc"), 1);
    CU_ASSERT_PTR_EQUAL(stktable_find("f"), t);
    CU_ASSERT_PTR_NULL(stktable_find("b"));
    CU_ASSERT_STRING_EQUAL(stktable_name(t), "f");
    stop();
}

/* Workers tracking and releasing the same keys at once: one entry per key, exact counts. */
static struct stk_table *mt_table;
static void *mt_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 20000; i++) {
        unsigned char k[4] = {10, 0, 0, (unsigned char)(i % 8)};
        epoch_enter(id);
        struct stk_entry *e = stktable_track(mt_table, k, 4, 1000);
        if (e) {
            stktable_event(e, STK_EV_HTTP_REQ, 1000);
            stktable_untrack(e, 1000);
        }
        epoch_leave(id);
    }
    return NULL;
}

static void *mt_sweeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        stktable_sweep(100); /* nothing has expired: entries must survive every sweep */
        epoch_reclaim();
    }
    return NULL;
}

static void test_concurrent(void)
{
    rt_cfg =
        cfg_load_ok(FE "stick-table = type ip size 64 expire 10s store http_req_cnt,conn_cur\n" BE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt_cfg);
    CU_ASSERT_EQUAL_FATAL(epoch_init(2), 0);
    CU_ASSERT_EQUAL_FATAL(stktable_init(rt_cfg), 0);
    mt_table = stktable_get(0);
    pthread_t th[3];
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, mt_worker, (void *)i);
    pthread_create(&th[2], NULL, mt_sweeper, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    uint64_t total = 0;
    for (unsigned char last = 0; last < 8; last++) {
        unsigned char k[4] = {10, 0, 0, last};
        uint64_t v = 0, cur = 1;
        CU_ASSERT(stktable_lookup_read(mt_table, k, 4, STK_D_HTTP_REQ_CNT, 1000, &v));
        CU_ASSERT(stktable_lookup_read(mt_table, k, 4, STK_D_CONN_CUR, 1000, &cur));
        CU_ASSERT_EQUAL(cur, 0);
        total += v;
    }
    CU_ASSERT_EQUAL(total, 40000);
    stop();
}

/* scripts/haproxy2ini carries stick tables, track rules, the stats socket and stats auth, drops
 * what has no meaning in sluice (peers, nopurge, the socket's owner) and refuses a table without
 * expire. */
static void test_haproxy2ini(void)
{
    struct h2i r;
    CU_ASSERT_EQUAL_FATAL(
        h2i_run(&r,
                "global\n"                                                       /* 1 */
                "    stats socket /run/hap.sock mode 600 level admin user hap\n" /* 2 */
                "    stats timeout 30s\n"                                        /* 3 */
                "frontend web\n"                                                 /* 4 */
                "    mode http\n"                                                /* 5 */
                "    bind :8081\n"                                               /* 6 */
                "    stick-table type ip size 1m expire 10s peers p store "
                "http_req_rate(10s),conn_cur\n"                                           /* 7 */
                "    http-request track-sc0 src\n"                                        /* 8 */
                "    http-request track-sc1 req.hdr(x-key) table h if { path_beg /a }\n"  /* 9 */
                "    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 9 }\n" /* 10 */
                "    tcp-request connection reject if { src_conn_cur gt 9 }\n"            /* 11 */
                "    tcp-request content reject\n"                                        /* 12 */
                "    default_backend h\n"                                                 /* 13 */
                "backend h\n"                                                             /* 14 */
                "    mode http\n"                                                         /* 15 */
                "    stick-table type string len 16 size 10k nopurge expire 1m\n"         /* 16 */
                "    server h1 10.0.0.2:80\n"                                             /* 17 */
                "    stats auth admin:pw\n"                                               /* 18 */
                "backend n\n"                                                             /* 19 */
                "    stick-table type ip size 10\n"                                       /* 20 */
                "    hash-type consistent sdbm avalanche\n"                               /* 21 */
                "    no option splice-response\n"),                                       /* 22 */
        0);
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "stats socket = /run/hap.sock mode 600 level admin\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "stats timeout = 30s\n"));
    CU_ASSERT_TRUE(h2i_mentions(&r, 2)); /* user hap dropped */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "stick-table = type ip size 1m expire 10s store "
                                         "http_req_rate(10s),conn_cur\n"));
    CU_ASSERT_TRUE(h2i_mentions(&r, 7)); /* peers p */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "http-request track-sc0 = src\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r.ini, "http-request track-sc1 = req.hdr(x-key) table h if { path_beg /a }\n"));
    CU_ASSERT_FALSE(h2i_mentions(&r, 8));
    CU_ASSERT_FALSE(h2i_mentions(&r, 9));
    CU_ASSERT_FALSE(h2i_mentions(&r, 10));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "stick-table = type string len 16 size 10k expire 1m"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r.ini, "tcp-request connection = reject if { src_conn_cur gt 9 }"));
    CU_ASSERT_FALSE(h2i_mentions(&r, 11));
    CU_ASSERT_TRUE(h2i_left_out(&r, 12)); /* tcp-request content */
    CU_ASSERT_TRUE(h2i_mentions(&r, 16)); /* nopurge */
    CU_ASSERT_TRUE(h2i_left_out(&r, 20)); /* no expire */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "stats auth = admin:pw\n"));
    CU_ASSERT_FALSE(h2i_mentions(&r, 18));
    /* accepted with no effect in sluice, so that tuned configs convert quietly */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "hash-type = consistent sdbm avalanche\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "no option = splice-response\n"));
    CU_ASSERT_FALSE(h2i_mentions(&r, 21));
    CU_ASSERT_FALSE(h2i_mentions(&r, 22));
    /* sluice loads what it wrote, once the table without expire is gone with its section */
    char *n = strstr(r.ini, "[backend n]");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    *n = '\0';
    struct config *cfg = cfg_load_ok(r.ini);
    CU_ASSERT_PTR_NOT_NULL(cfg);
    config_free(cfg);
}

int suite_stktable(void)
{
    CU_pSuite s = CU_add_suite("stktable", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "config_ok", test_config_ok);
    CU_add_test(s, "config_errors", test_config_errors);
    CU_add_test(s, "keys", test_keys);
    CU_add_test(s, "counters", test_counters);
    CU_add_test(s, "rates", test_rates);
    CU_add_test(s, "expiry_and_full", test_expiry_and_full);
    CU_add_test(s, "full_table_evicts", test_full_table_evicts);
    CU_add_test(s, "sweep_slices", test_sweep_slices);
    CU_add_test(s, "show", test_show);
    CU_add_test(s, "concurrent", test_concurrent);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    return CU_get_error();
}
