/* Unit tests of net/http/auth.c: Basic parsing, crypt(3) checks on the verifier thread, the
 * credential cache (positive and negative), rate limiting, cancellation, two workers at once,
 * and two figures (a bcrypt cost 10 check, a cache hit). Workers are faked: an id, an eventfd
 * and a clock the test moves by hand; the test loop calls auth_poll like the worker loop. */
#include "core/worker.h"
#include "net/http/auth.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { U_ALICE, U_BOB, U_CAROL, U_DAVE, U_ERIN, U_N };

static struct cfg_user users[U_N];
static struct cfg_userlist ul = {.name = "staff", .users = users, .nusers = U_N};
static struct config cfg;
static struct worker wk0;

static char *make_hash(const char *prefix, unsigned long cost, const char *pw)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char *out = NULL;
    if (cd && crypt_gensalt_rn(prefix, cost, NULL, 0, salt, sizeof(salt))) {
        const char *h = crypt_r(pw, salt, cd);
        if (h && h[0] != '*')
            out = strdup(h);
    }
    free(cd);
    return out;
}

static int suite_init(void)
{
    snprintf(users[U_ALICE].name, 64, "alice");
    users[U_ALICE].hash = make_hash("$2b$", 5, "wonderland");
    snprintf(users[U_BOB].name, 64, "bob");
    users[U_BOB].hash = make_hash("$6$", 0, "builder");
    snprintf(users[U_CAROL].name, 64, "carol");
    users[U_CAROL].hash = make_hash("$y$", 0, "s3cret:with:colons");
    snprintf(users[U_DAVE].name, 64, "dave");
    users[U_DAVE].password = strdup("plain");
    snprintf(users[U_ERIN].name, 64, "erin");
    users[U_ERIN].hash = make_hash("$5$", 0, "sha256pw");
    for (int i = 0; i < U_N; i++)
        if (!users[i].hash && !users[i].password)
            return -1;
    wk0.id = 0;
    wk0.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return wk0.evfd < 0 ? -1 : 0;
}

static int suite_clean(void)
{
    for (int i = 0; i < U_N; i++) {
        free(users[i].hash);
        free(users[i].password);
    }
    close(wk0.evfd);
    return 0;
}

/* Each test gets a fresh module: empty caches and rate-limit tables. */
static void setup(void)
{
    wk0.now = 1000000;
    CU_ASSERT_EQUAL_FATAL(auth_start(&cfg, 2), 0);
}

static void teardown(void)
{
    auth_stop();
}

static void b64(const char *in, size_t len, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < len ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

/* "Basic base64(user:pw)" into buf. */
static const char *basic(char *buf, const char *user, const char *pw)
{
    char cred[256];
    int n = snprintf(cred, sizeof(cred), "%s:%s", user, pw);
    strcpy(buf, "Basic ");
    b64(cred, (size_t)n, buf + 6);
    return buf;
}

static struct sockaddr_in ip4(unsigned last)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
    a.sin_addr.s_addr = htonl(0xc0000200u + last); /* 192.0.2.x */
    return a;
}

struct res {
    int called;
    enum auth_result r;
    const char *user;
    unsigned wid;
    int *counter;
};

static __thread unsigned cur_wid;

static void on_done(void *arg, enum auth_result r, const char *user)
{
    struct res *x = arg;
    x->called++;
    x->r = r;
    x->user = user;
    x->wid = cur_wid;
    if (x->counter)
        (*x->counter)++;
}

static enum auth_result check(struct worker *w, const char *hdr, unsigned client, struct res *x,
                              const char **user)
{
    struct sockaddr_in a = ip4(client);
    return auth_check(w, &ul, hdr, hdr ? strlen(hdr) : 0, (struct sockaddr *)&a, on_done, x, user);
}

/* Run w's side of the hand-off until *counter reaches target (10 s at most). */
static bool pump_until(struct worker *w, const int *counter, int target)
{
    cur_wid = w->id;
    for (int i = 0; i < 400 && *counter < target; i++) {
        struct pollfd p = {.fd = w->evfd, .events = POLLIN};
        poll(&p, 1, 25);
        uint64_t v;
        if (read(w->evfd, &v, sizeof(v)) < 0) {
            /* nothing signalled: still look (the answer may predate the wait) */
        }
        auth_poll(w);
    }
    return *counter >= target;
}

static enum auth_result check_async(const char *hdr, unsigned client, struct res *x)
{
    int n = 0, before = x->called;
    x->counter = &n;
    const char *user = NULL;
    enum auth_result r = check(&wk0, hdr, client, x, &user);
    if (r != AUTH_PENDING)
        return r;
    CU_ASSERT_TRUE(pump_until(&wk0, &n, 1));
    CU_ASSERT_EQUAL(x->called, before + 1);
    x->counter = NULL;
    return x->r;
}

static void test_hashed_ok(void)
{
    static const struct {
        int u;
        const char *pw;
    } c[] = {{U_ALICE, "wonderland"},
             {U_BOB, "builder"},
             {U_CAROL, "s3cret:with:colons"},
             {U_ERIN, "sha256pw"}};
    char h[256];
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct res x = {0}, y = {0};
        const char *user = NULL;
        int n = 0;
        x.counter = y.counter = &n;
        CU_ASSERT_EQUAL(check(&wk0, basic(h, users[c[i].u].name, c[i].pw), 1, &x, &user),
                        AUTH_PENDING);
        CU_ASSERT_PTR_NULL(user);
        /* the same credential while the first check runs joins it */
        CU_ASSERT_EQUAL(check(&wk0, h, 1, &y, &user), AUTH_PENDING);
        CU_ASSERT_TRUE(pump_until(&wk0, &n, 2));
        CU_ASSERT_EQUAL(x.called, 1);
        CU_ASSERT_EQUAL(y.called, 1);
        CU_ASSERT_EQUAL(x.r, AUTH_OK);
        CU_ASSERT_EQUAL(y.r, AUTH_OK);
        CU_ASSERT_PTR_EQUAL(x.user, users[c[i].u].name);
        CU_ASSERT_PTR_EQUAL(y.user, users[c[i].u].name);
    }
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT_EQUAL(s.verified, 4);
    CU_ASSERT_EQUAL(s.coalesced, 4);
}

static void test_wrong_and_unknown(void)
{
    char h[256];
    struct res x = {0};
    CU_ASSERT_EQUAL(check_async(basic(h, "alice", "Wonderland"), 2, &x), AUTH_FAIL);
    CU_ASSERT_PTR_NULL(x.user);
    CU_ASSERT_EQUAL(check_async(basic(h, "bob", ""), 2, &x), AUTH_FAIL);
    CU_ASSERT_EQUAL(check_async(basic(h, "carol", "s3cret"), 2, &x), AUTH_FAIL);
    /* An unknown user costs a real check too (answer times do not reveal user names). */
    CU_ASSERT_EQUAL(check_async(basic(h, "mallory", "wonderland"), 2, &x), AUTH_FAIL);
    CU_ASSERT_EQUAL(check_async(basic(h, "alic", "wonderland"), 2, &x), AUTH_FAIL);
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT_EQUAL(s.verified, 5);
    CU_ASSERT_EQUAL(s.failures, 5);
}

static void test_insecure_password(void)
{
    char h[256];
    struct res x = {0};
    const char *user = NULL;
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "plain"), 3, &x, &user), AUTH_OK);
    CU_ASSERT_PTR_EQUAL(user, users[U_DAVE].name);
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "plaiN"), 3, &x, &user), AUTH_FAIL);
    CU_ASSERT_PTR_NULL(user);
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "plain2"), 3, &x, &user), AUTH_FAIL);
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "pla"), 3, &x, &user), AUTH_FAIL);
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", ""), 3, &x, &user), AUTH_FAIL);
    /* scheme is case-insensitive; whitespace around the token is allowed */
    CU_ASSERT_EQUAL(check(&wk0, "bAsIc \t ZGF2ZTpwbGFpbg==  ", 3, &x, &user), AUTH_OK);
    CU_ASSERT_EQUAL(x.called, 0);
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT_EQUAL(s.verified, 0);
}

static void test_malformed_and_absent(void)
{
    static const char *bad[] = {
        "Basic ZGF2ZXBsYWlu",         /* "daveplain": no colon */
        "Basic ZGF2ZTpwbGFpbg",       /* missing padding */
        "Basic ZGF2ZTpwbGFpbg=",      /* short padding */
        "Basic ZGF2ZTpwbGFpbh==",     /* non-zero pad bits */
        "Basic ZGF2ZTpw bGFpbg==",    /* inner space */
        "Basic ZGF2ZTpwbGFp=g==",     /* padding inside */
        "Basic ZGF2ZT*wbGFpbg==",     /* not base64 */
        "Basic ZGF2ZTpwbGFpbg==ZGF2", /* data after padding */
        "Basic ",
        "Basic",
        "BasicZGF2ZTpwbGFpbg==",
        "Bearer ZGF2ZTpwbGFpbg==",
        "Digest username=\"dave\"",
        "Basic ZGF2ZQA6cGxhaW4=", /* "dave\0:plain" */
        "Basic ZGF2ZTpwbGFpbgA=", /* "dave:plain\0" */
        "Basic ====",
    };
    struct res x = {0};
    const char *user = (const char *)1;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum auth_result r = check(&wk0, bad[i], 10 + i, &x, &user);
        if (r != AUTH_FAIL)
            fprintf(stderr, "malformed case %u (%s) gave %d\n", i, bad[i], r);
        CU_ASSERT_EQUAL(r, AUTH_FAIL);
        CU_ASSERT_PTR_NULL(user);
    }
    char big[2048] = "Basic ";
    memset(big + 6, 'A', 1600);
    CU_ASSERT_EQUAL(check(&wk0, big, 40, &x, &user), AUTH_FAIL);
    CU_ASSERT_EQUAL(check(&wk0, NULL, 41, &x, &user), AUTH_NONE);
    CU_ASSERT_EQUAL(auth_check(&wk0, &ul, "Basic x", 0, NULL, on_done, &x, &user), AUTH_NONE);
    CU_ASSERT_EQUAL(x.called, 0);
}

static void test_cache(void)
{
    char h[256];
    struct res x = {0};
    const char *user = NULL;
    CU_ASSERT_EQUAL(check_async(basic(h, "alice", "wonderland"), 50, &x), AUTH_OK);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(check(&wk0, h, 50 + i, &x, &user), AUTH_OK);
        CU_ASSERT_PTR_EQUAL(user, users[U_ALICE].name);
    }
    /* the scheme's case and spacing do not matter: the key is the token */
    CU_ASSERT_EQUAL(check(&wk0, "basic   YWxpY2U6d29uZGVybGFuZA==", 50, &x, &user), AUTH_OK);
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT_EQUAL(s.verified, 1);
    CU_ASSERT_EQUAL(s.cache_hits, 4);
    /* the same token against another userlist is not the same credential */
    struct cfg_userlist other = ul;
    CU_ASSERT_EQUAL(auth_check(&wk0, &other, h, strlen(h), NULL, on_done, &x, &user), AUTH_PENDING);
    auth_cancel(&wk0, &x);
    /* past the TTL the check runs again */
    wk0.now += AUTH_CACHE_TTL_MS;
    CU_ASSERT_EQUAL(check(&wk0, h, 50, &x, &user), AUTH_PENDING);
    auth_cancel(&wk0, &x);
    CU_ASSERT_EQUAL(x.called, 1);
}

static void test_negative_cache(void)
{
    char h[256];
    struct res x = {0};
    const char *user = NULL;
    CU_ASSERT_EQUAL(check_async(basic(h, "bob", "guess"), 60, &x), AUTH_FAIL);
    CU_ASSERT_EQUAL(check(&wk0, h, 60, &x, &user), AUTH_FAIL);
    CU_ASSERT_EQUAL(check(&wk0, h, 61, &x, &user), AUTH_FAIL);
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT_EQUAL(s.verified, 1);
    CU_ASSERT_EQUAL(s.neg_hits, 2);
    CU_ASSERT_EQUAL(s.failures, 3);
    wk0.now += AUTH_NEG_TTL_MS;
    CU_ASSERT_EQUAL(check(&wk0, h, 62, &x, &user), AUTH_PENDING);
    auth_cancel(&wk0, &x);
    /* a right password is not shadowed by the wrong one's entry */
    CU_ASSERT_EQUAL(check_async(basic(h, "bob", "builder"), 60, &x), AUTH_OK);
}

static void test_rate_limit(void)
{
    char h[256], ok[256], pw[32];
    struct res x = {0};
    const char *user = NULL;
    basic(ok, "dave", "plain");
    for (unsigned i = 0; i < AUTH_RL_MAX_FAILS; i++) {
        snprintf(pw, sizeof(pw), "x%u", i);
        CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", pw), 70, &x, &user), AUTH_FAIL);
        wk0.now += 100;
    }
    CU_ASSERT_EQUAL(check(&wk0, ok, 70, &x, &user), AUTH_OK); /* still under the limit */
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "nope"), 70, &x, &user), AUTH_FAIL);
    /* over the limit: refused without a check, right credentials too */
    CU_ASSERT_EQUAL(check(&wk0, ok, 70, &x, &user), AUTH_LIMITED);
    CU_ASSERT_PTR_NULL(user);
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "alice", "wonderland"), 70, &x, &user), AUTH_LIMITED);
    /* other clients are not affected; absent credentials are still "none" */
    CU_ASSERT_EQUAL(check(&wk0, ok, 71, &x, &user), AUTH_OK);
    CU_ASSERT_EQUAL(check(&wk0, NULL, 70, &x, &user), AUTH_NONE);
    wk0.now += AUTH_RL_BLOCK_MS - 1;
    CU_ASSERT_EQUAL(check(&wk0, ok, 70, &x, &user), AUTH_LIMITED);
    wk0.now += 1;
    CU_ASSERT_EQUAL(check(&wk0, ok, 70, &x, &user), AUTH_OK);
    /* failures spread over more than the window do not add up */
    for (unsigned i = 0; i < 3 * AUTH_RL_MAX_FAILS; i++) {
        CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "nope"), 72, &x, &user), AUTH_FAIL);
        wk0.now += AUTH_RL_WINDOW_MS / AUTH_RL_MAX_FAILS + 1;
    }
    CU_ASSERT_EQUAL(check(&wk0, ok, 72, &x, &user), AUTH_OK);
    /* IPv4-mapped IPv6 is the same client as IPv4 */
    for (unsigned i = 0; i <= AUTH_RL_MAX_FAILS; i++)
        CU_ASSERT_EQUAL(check(&wk0, basic(h, "dave", "nope"), 73, &x, &user), AUTH_FAIL);
    struct sockaddr_in6 m = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.0.2.73", &m.sin6_addr);
    CU_ASSERT_EQUAL(
        auth_check(&wk0, &ul, ok, strlen(ok), (struct sockaddr *)&m, on_done, &x, &user),
        AUTH_LIMITED);
    /* many clients: the table stays fixed-size and keeps working */
    for (unsigned i = 0; i < 5000; i++)
        check(&wk0, basic(h, "dave", "nope"), 1000 + i, &x, &user);
    CU_ASSERT_EQUAL(check(&wk0, ok, 74, &x, &user), AUTH_OK);
    CU_ASSERT_EQUAL(x.called, 0);
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT(s.limited >= 4);
}

static void test_cancel(void)
{
    char h[256], h2[256];
    struct res a = {0}, b = {0}, c = {0}, d = {0};
    const char *user;
    int n = 0;
    /* a lone job: cancelled, never called back */
    CU_ASSERT_EQUAL(check(&wk0, basic(h, "carol", "s3cret:with:colons"), 80, &a, &user),
                    AUTH_PENDING);
    auth_cancel(&wk0, &a);
    /* a shared job: only the cancelled request is dropped */
    CU_ASSERT_EQUAL(check(&wk0, basic(h2, "alice", "wonderland"), 80, &b, &user), AUTH_PENDING);
    CU_ASSERT_EQUAL(check(&wk0, h2, 81, &c, &user), AUTH_PENDING);
    auth_cancel(&wk0, &b);
    c.counter = &n;
    /* answers come back in order: once c's is in, a's was handled before */
    CU_ASSERT_TRUE(pump_until(&wk0, &n, 1));
    CU_ASSERT_EQUAL(a.called, 0);
    CU_ASSERT_EQUAL(b.called, 0);
    CU_ASSERT_EQUAL(c.called, 1);
    CU_ASSERT_EQUAL(c.r, AUTH_OK);
    /* a's check was skipped (not cached, checked again) or had already run (cached) */
    enum auth_result r = check(&wk0, h, 82, &d, &user);
    CU_ASSERT(r == AUTH_PENDING || r == AUTH_OK);
    auth_cancel(&wk0, &d);
    auth_cancel(&wk0, &d); /* twice is harmless */
    auth_cancel(&wk0, NULL);
}

/* A done callback that cancels another request waiting on the same job. */
static struct res *cancel_victim;
static void on_done_cancel(void *arg, enum auth_result r, const char *user)
{
    on_done(arg, r, user);
    auth_cancel(&wk0, cancel_victim);
}

static void test_cancel_from_callback(void)
{
    char h[256];
    struct res a = {0}, b = {0};
    const char *user;
    int n = 0;
    a.counter = b.counter = &n;
    cancel_victim = &a;
    basic(h, "bob", "builder");
    struct sockaddr_in c = ip4(90);
    CU_ASSERT_EQUAL(
        auth_check(&wk0, &ul, h, strlen(h), (struct sockaddr *)&c, on_done_cancel, &a, &user),
        AUTH_PENDING);
    cancel_victim = &b;
    /* b is called first (latest joiner first) and cancels a... */
    CU_ASSERT_EQUAL(
        auth_check(&wk0, &ul, h, strlen(h), (struct sockaddr *)&c, on_done_cancel, &b, &user),
        AUTH_PENDING);
    cancel_victim = &a;
    /* ...within the same auth_poll, so a never comes */
    CU_ASSERT_TRUE(pump_until(&wk0, &n, 1));
    CU_ASSERT_EQUAL(b.called, 1);
    CU_ASSERT_EQUAL(a.called, 0);
}

static void test_overload(void)
{
    char h[256];
    struct res x[AUTH_MAX_INFLIGHT + 1];
    memset(x, 0, sizeof(x));
    int n = 0, pending = 0, limited = 0;
    const char *user;
    for (unsigned i = 0; i <= AUTH_MAX_INFLIGHT; i++) {
        char pw[32];
        snprintf(pw, sizeof(pw), "guess%u", i);
        x[i].counter = &n;
        /* yescrypt: slow enough that the queue cannot drain while we fill it */
        enum auth_result r = check(&wk0, basic(h, "carol", pw), 2000 + i, &x[i], &user);
        pending += r == AUTH_PENDING;
        limited += r == AUTH_LIMITED;
    }
    CU_ASSERT_EQUAL(pending, AUTH_MAX_INFLIGHT);
    CU_ASSERT_EQUAL(limited, 1);
    /* nobody waits any more: the verifier skips the checks */
    for (unsigned i = 0; i < AUTH_MAX_INFLIGHT; i++)
        auth_cancel(&wk0, &x[i]);
    CU_ASSERT_EQUAL(n, 0);
}

/* Two workers submit at once from their own threads; each gets exactly its own answers. */
#define MT_N 24
struct mt_arg {
    struct worker w;
    struct res r[MT_N];
    int n;
    int wrong;
};

static void *mt_worker(void *p)
{
    struct mt_arg *m = p;
    char h[256];
    const char *user;
    int expect = 0;
    for (int i = 0; i < MT_N; i++) {
        char pw[32];
        bool good = i % 3 == 0;
        snprintf(pw, sizeof(pw), good ? "builder" : "w%u-%d", m->w.id, i);
        m->r[i].counter = &m->n;
        struct sockaddr_in c = ip4(100 + (unsigned)i);
        basic(h, good ? "bob" : "erin", pw);
        enum auth_result r =
            auth_check(&m->w, &ul, h, strlen(h), (struct sockaddr *)&c, on_done, &m->r[i], &user);
        if (r == AUTH_PENDING)
            expect++;
        else if (r != AUTH_OK)
            m->wrong++;
    }
    pump_until(&m->w, &m->n, expect);
    for (int i = 0; i < MT_N; i++) {
        bool good = i % 3 == 0;
        if (m->r[i].called > 1 || (m->r[i].called && m->r[i].wid != m->w.id))
            m->wrong++;
        if (m->r[i].called && m->r[i].r != (good ? AUTH_OK : AUTH_FAIL))
            m->wrong++;
    }
    m->n -= expect;
    return NULL;
}

static void test_two_workers(void)
{
    static struct mt_arg m[2];
    memset(m, 0, sizeof(m));
    pthread_t t[2];
    for (unsigned i = 0; i < 2; i++) {
        m[i].w.id = i;
        m[i].w.now = 1000000;
        m[i].w.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        CU_ASSERT_FATAL(m[i].w.evfd >= 0);
    }
    for (unsigned i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, mt_worker, &m[i]);
    for (unsigned i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(m[i].wrong, 0);
        CU_ASSERT_EQUAL(m[i].n, 0);
    }
    struct auth_stats s;
    auth_get_stats(&s);
    CU_ASSERT_EQUAL(s.submitted + s.coalesced + s.cache_hits, 2 * MT_N);
    for (unsigned i = 0; i < 2; i++)
        close(m[i].w.evfd);
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* Figures, printed: a bcrypt cost 10 check end to end, and a cache hit. */
static void test_figures(void)
{
    static struct cfg_user u10;
    snprintf(u10.name, sizeof(u10.name), "zed");
    u10.hash = make_hash("$2b$", 10, "ten");
    CU_ASSERT_PTR_NOT_NULL_FATAL(u10.hash);
    struct cfg_userlist l10 = {.name = "cost10", .users = &u10, .nusers = 1};
    char h[256];
    basic(h, "zed", "ten");
    struct res x = {0};
    int n = 0;
    x.counter = &n;
    const char *user;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CU_ASSERT_EQUAL(auth_check(&wk0, &l10, h, strlen(h), NULL, on_done, &x, &user), AUTH_PENDING);
    CU_ASSERT_TRUE(pump_until(&wk0, &n, 1));
    double check_ms = ms_since(&t0);
    CU_ASSERT_EQUAL(x.r, AUTH_OK);
    enum { HITS = 1000000 };
    struct sockaddr_in c = ip4(250);
    size_t len = strlen(h);
    int ok = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < HITS; i++)
        ok += auth_check(&wk0, &l10, h, len, (struct sockaddr *)&c, on_done, &x, &user) == AUTH_OK;
    double hit_ns = ms_since(&t0) * 1e6 / HITS;
    CU_ASSERT_EQUAL(ok, HITS);
    printf("\n    bcrypt cost 10 check (submit to callback): %.1f ms; cache hit: %.0f ns\n",
           check_ms, hit_ns);
    free(u10.hash);
}

int suite_auth(void)
{
    CU_pSuite s =
        CU_add_suite_with_setup_and_teardown("auth", suite_init, suite_clean, setup, teardown);
    if (!s)
        return CU_get_error();
    struct {
        const char *name;
        void (*fn)(void);
    } t[] = {
        {"hashed_ok", test_hashed_ok},
        {"wrong_and_unknown", test_wrong_and_unknown},
        {"insecure_password", test_insecure_password},
        {"malformed_and_absent", test_malformed_and_absent},
        {"cache", test_cache},
        {"negative_cache", test_negative_cache},
        {"rate_limit", test_rate_limit},
        {"cancel", test_cancel},
        {"cancel_from_callback", test_cancel_from_callback},
        {"overload", test_overload},
        {"two_workers", test_two_workers},
        {"figures", test_figures},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (!CU_add_test(s, t[i].name, t[i].fn))
            return CU_get_error();
    return CUE_SUCCESS;
}
