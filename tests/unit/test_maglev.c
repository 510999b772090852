/* Unit tests of balancer/maglev.c: spread, weights, disruption and stability of the tables. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balancer/lb.h"
#include "balancer/maglev.h"
#include "balancer/server.h"

#define NS 10

static struct cfg_server cfgs[NS];
static struct server servers[NS];

static void setup(const char *prefix)
{
    memset(cfgs, 0, sizeof(cfgs));
    memset(servers, 0, sizeof(servers));
    for (unsigned i = 0; i < NS; i++) {
        snprintf(cfgs[i].name, sizeof(cfgs[i].name), "%s%u", prefix, i);
        cfgs[i].weight = 1;
        servers[i].cfg = &cfgs[i];
        servers[i].idx = i;
    }
}

static void slot_counts(const struct maglev_table *t, unsigned *counts)
{
    memset(counts, 0, sizeof(unsigned) * NS);
    for (uint32_t i = 0; i < t->size; i++)
        counts[t->entry[i]]++;
}

static void test_spread_equal(void)
{
    setup("s");
    int w[NS];
    bool use[NS];
    for (int i = 0; i < NS; i++) {
        w[i] = 1;
        use[i] = true;
    }
    struct maglev_table *t = maglev_build(servers, w, use, NS, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->size, MAGLEV_SIZE_DEFAULT);
    CU_ASSERT_EQUAL(t->nservers, NS);
    unsigned counts[NS];
    slot_counts(t, counts);
    unsigned total = 0;
    for (int i = 0; i < NS; i++) {
        total += counts[i];
        /* equal weights: each server gets size/N slots, to within one round */
        CU_ASSERT(fabs((double)counts[i] - t->size / 10.0) <= 1.0);
    }
    CU_ASSERT_EQUAL(total, t->size); /* every slot filled with a valid index */
    maglev_free(t);
}

static void test_weights(void)
{
    setup("s");
    int w[NS] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    bool use[NS];
    for (int i = 0; i < NS; i++)
        use[i] = true;
    use[4] = false; /* left out whatever its weight */
    struct maglev_table *t = maglev_build(servers, w, use, NS, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nservers, NS - 1);
    unsigned counts[NS];
    slot_counts(t, counts);
    CU_ASSERT_EQUAL(counts[4], 0);
    CU_ASSERT_EQUAL(t->built_weight[4], 0);
    CU_ASSERT_EQUAL(t->built_weight[9], 10);
    double worst = 0;
    for (int i = 0; i < NS; i++) {
        if (!use[i])
            continue;
        double exp = (double)t->size * w[i] / 50.0;
        double e = fabs(counts[i] - exp) / exp;
        worst = e > worst ? e : worst;
    }
    printf("\n    weights 1..10: slot shares within %.3f%% of the weights ", worst * 100);
    CU_ASSERT(worst <= 0.01);

    /* extreme ratio: weight 256 against 1 */
    int w2[NS] = {256, 1};
    bool use2[NS] = {true, true};
    struct maglev_table *t2 = maglev_build(servers, w2, use2, 2, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
    unsigned c2[NS];
    slot_counts(t2, c2);
    double exp1 = t2->size / 257.0;
    CU_ASSERT(fabs(c2[1] - exp1) / exp1 <= 0.02);
    maglev_free(t);
    maglev_free(t2);
}

static void test_disruption(void)
{
    setup("s");
    int w[NS];
    bool use[NS];
    for (int i = 0; i < NS; i++) {
        w[i] = 1;
        use[i] = true;
    }
    struct maglev_table *a = maglev_build(servers, w, use, NS, 0);
    use[3] = false;
    struct maglev_table *b = maglev_build(servers, w, use, NS, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    const int K = 100000;
    int moved = 0, moved_survivor = 0, on3 = 0;
    for (int k = 0; k < K; k++) {
        uint32_t h = lb_hash_bytes(&k, sizeof(k));
        uint32_t x = maglev_lookup(a, h), y = maglev_lookup(b, h);
        CU_ASSERT(y != 3);
        moved += x != y;
        on3 += x == 3;
        moved_survivor += x != 3 && x != y;
    }
    printf("\n    remove 1 of 10: %.2f%% of 100k keys moved (%.2f%% were on it, %.2f%% from "
           "survivors) ",
           100.0 * moved / K, 100.0 * on3 / K, 100.0 * moved_survivor / K);
    CU_ASSERT(moved <= K * 12 / 100);
    CU_ASSERT(moved_survivor <= K * 3 / 100);

    /* adding it back restores the original table exactly */
    use[3] = true;
    struct maglev_table *c = maglev_build(servers, w, use, NS, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(memcmp(a->entry, c->entry, a->size * sizeof(uint16_t)), 0);
    maglev_free(a);
    maglev_free(b);
    maglev_free(c);
}

static void test_stable(void)
{
    setup("web");
    int w[NS];
    bool use[NS];
    for (int i = 0; i < NS; i++) {
        w[i] = 1 + i % 3;
        use[i] = true;
    }
    struct maglev_table *a = maglev_build(servers, w, use, NS, 0);
    /* same names, otherwise different servers (a restart, new addresses): same table */
    for (int i = 0; i < NS; i++)
        cfgs[i].maxconn = 100 + i;
    struct maglev_table *b = maglev_build(servers, w, use, NS, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(memcmp(a->entry, b->entry, a->size * sizeof(uint16_t)), 0);
    /* the table depends on the names: renaming the servers changes it */
    setup("api");
    struct maglev_table *c = maglev_build(servers, w, use, NS, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_NOT_EQUAL(memcmp(a->entry, c->entry, a->size * sizeof(uint16_t)), 0);
    maglev_free(a);
    maglev_free(b);
    maglev_free(c);
}

static void test_edges(void)
{
    setup("s");
    int w[NS] = {1, 1, 1};
    bool use[NS] = {false, false, false};
    CU_ASSERT_PTR_NULL(maglev_build(servers, w, use, 3, 65536)); /* not prime */
    struct maglev_table *t = maglev_build(servers, w, use, 3, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nservers, 0); /* empty: callers must not look up */
    maglev_free(t);
    use[1] = true;
    t = maglev_build(servers, w, use, 3, 13);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (uint32_t i = 0; i < 13; i++)
        CU_ASSERT_EQUAL(t->entry[i], 1);
    CU_ASSERT_EQUAL(maglev_lookup(t, 12345), 1u);
    maglev_free(t);
    maglev_free(NULL);
}

int suite_maglev(void)
{
    CU_pSuite s = CU_add_suite("maglev", NULL, NULL);
    if (!s)
        return CU_get_error();
    if (!CU_add_test(s, "spread_equal", test_spread_equal) ||
        !CU_add_test(s, "weights", test_weights) ||
        !CU_add_test(s, "disruption", test_disruption) || !CU_add_test(s, "stable", test_stable) ||
        !CU_add_test(s, "edges", test_edges))
        return CU_get_error();
    return CUE_SUCCESS;
}
