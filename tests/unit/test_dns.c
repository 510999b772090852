/* Asynchronous DNS: a real dnsmasq on 127.0.0.1 and a silent UDP server, driven by a worker's
 * loop and timer wheel, as a worker runs them. No query ever leaves the loopback. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/loop.h"
#include "core/timer.h"
#include "core/worker.h"
#include "net/dns.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static pid_t dm_pid = -1;
static uint16_t dm_port;
static char dm_dir[64];
static char dm_log[96];
static int silent_fd = -1; /* bound, never read until counted: a server that never answers */
static uint16_t silent_port;
static unsigned sync_seq;

/* ---- a raw DNS client for readiness and log markers (blocking, test thread only) ---- */

static size_t build_query(uint8_t *p, uint16_t id, const char *name, uint16_t qtype)
{
    size_t n = 0;
    uint8_t hdr[12] = {(uint8_t)(id >> 8), (uint8_t)id, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(p, hdr, 12);
    n = 12;
    for (const char *s = name; *s;) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        p[n++] = (uint8_t)l;
        memcpy(p + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    p[n++] = 0;
    p[n++] = 0;
    p[n++] = (uint8_t)qtype;
    p[n++] = 0;
    p[n++] = 1;
    return n;
}

/* Ask 127.0.0.1:port for `name` A and wait up to ms for any answer. */
static bool raw_ask(uint16_t port, const char *name, int ms)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint8_t q[300], ans[512];
    size_t n = build_query(q, 0x5151, name, 1);
    bool ok = false;
    if (sendto(fd, q, n, 0, (struct sockaddr *)&sin, sizeof(sin)) == (ssize_t)n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ok = poll(&pfd, 1, ms) == 1 && recv(fd, ans, sizeof(ans), 0) >= 12;
    }
    close(fd);
    return ok;
}

static void dnsmasq_stop(void)
{
    if (dm_pid > 0) {
        kill(dm_pid, SIGTERM);
        waitpid(dm_pid, NULL, 0);
        dm_pid = -1;
    }
}

static pid_t dnsmasq_spawn(uint16_t port)
{
    char a_port[32], a_log[128];
    snprintf(a_port, sizeof(a_port), "--port=%u", port);
    snprintf(a_log, sizeof(a_log), "--log-facility=%s", dm_log);
    /* big.sluice has 40 addresses: more than 512 bytes, so c-ares retries over TCP */
    static char big[40][48];
    char *argv[80];
    int n = 0;
    char *fixed[] = {DNSMASQ,
                     "--keep-in-foreground",
                     "--conf-file=/dev/null",
                     "--pid-file=",
                     a_port,
                     "--listen-address=127.0.0.1",
                     "--bind-interfaces",
                     "--no-resolv",
                     "--no-hosts",
                     "--no-poll",
                     "--local=/sluice/",
                     "--address=/test.sluice/127.0.0.1",
                     "--host-record=six.sluice,::1",
                     "--host-record=both.sluice,127.0.0.2,::1",
                     "--local-ttl=1",
                     "--log-queries",
                     a_log};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[n++] = fixed[i];
    for (int i = 0; i < 40; i++) {
        snprintf(big[i], sizeof(big[i]), "--address=/big.sluice/127.0.1.%d", i + 1);
        argv[n++] = big[i];
    }
    if (getuid() == 0)
        argv[n++] = "--user=root";
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test run */
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 1);
            dup2(dn, 2);
        }
        execv(DNSMASQ, argv);
        _exit(127);
    }
    return pid;
}

static uint16_t free_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    close(fd);
    return ntohs(sin.sin_port);
}

/* Start dnsmasq once for the suite; false (with a message) when it cannot run. */
static bool dnsmasq_up(void)
{
    if (dm_pid > 0)
        return true;
    if (access(DNSMASQ, X_OK) != 0) {
        fprintf(stderr, "\ndns: %s is missing: install dnsmasq-base (make deps)\n", DNSMASQ);
        return false;
    }
    if (!dm_dir[0]) {
        strcpy(dm_dir, "/tmp/sluice-dns-XXXXXX");
        if (!mkdtemp(dm_dir)) {
            dm_dir[0] = '\0';
            return false;
        }
        snprintf(dm_log, sizeof(dm_log), "%s/dnsmasq.log", dm_dir);
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        dm_port = free_udp_port();
        if (!dm_port)
            continue;
        dm_pid = dnsmasq_spawn(dm_port);
        if (dm_pid < 0)
            break;
        uint64_t deadline = clock_mono_ms() + 5000;
        while (clock_mono_ms() < deadline) {
            int status;
            if (waitpid(dm_pid, &status, WNOHANG) == dm_pid) {
                dm_pid = -1; /* exited: port taken meanwhile, or cannot run */
                break;
            }
            if (raw_ask(dm_port, "ready.test.sluice", 100))
                return true;
        }
        dnsmasq_stop();
    }
    fprintf(stderr, "\ndns: cannot start %s on 127.0.0.1 (see %s)\n", DNSMASQ, dm_log);
    return false;
}

/* Lines of the dnsmasq log that contain `needle`. */
static int log_count(const char *needle)
{
    FILE *f = fopen(dm_log, "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

/* Make sure every query sent so far is in the log: dnsmasq handles queries in order, so once
 * a fresh marker query is logged, everything before it is too. */
static bool log_sync(void)
{
    char name[64], needle[96];
    snprintf(name, sizeof(name), "sync%u.test.sluice", ++sync_seq);
    snprintf(needle, sizeof(needle), "query[A] %s from", name);
    if (!raw_ask(dm_port, name, 2000))
        return false;
    uint64_t deadline = clock_mono_ms() + 3000;
    while (clock_mono_ms() < deadline) {
        if (log_count(needle) > 0)
            return true;
        poll(NULL, 0, 5);
    }
    return false;
}

static int queries_logged(const char *type, const char *name)
{
    char needle[300];
    snprintf(needle, sizeof(needle), "query[%s] %s from", type, name);
    return log_count(needle);
}

static bool silent_up(void)
{
    if (silent_fd >= 0)
        return true;
    silent_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sin);
    if (silent_fd < 0 || bind(silent_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(silent_fd, (struct sockaddr *)&sin, &sl) < 0)
        return false;
    silent_port = ntohs(sin.sin_port);
    return true;
}

/* Datagrams the silent server received since the last call. */
static int silent_drain(void)
{
    char b[512];
    int n = 0;
    while (recv(silent_fd, b, sizeof(b), 0) >= 0)
        n++;
    return n;
}

static int suite_clean(void)
{
    dnsmasq_stop();
    if (silent_fd >= 0)
        close(silent_fd);
    silent_fd = -1;
    if (dm_dir[0]) {
        unlink(dm_log);
        rmdir(dm_dir);
        dm_dir[0] = '\0';
    }
    return 0;
}

/* ---- a worker-like harness ---- */

static struct worker *worker_make(void)
{
    struct worker *w = aligned_alloc(64, (sizeof(struct worker) + 63) & ~(size_t)63);
    CU_ASSERT_FATAL(w != NULL);
    memset(w, 0, sizeof(*w));
    w->loop = loop_new(64);
    CU_ASSERT_FATAL(w->loop != NULL);
    w->now = clock_coarse_ms();
    tw_init(&w->tw, w->now);
    return w;
}

static void worker_drop(struct worker *w)
{
    loop_free(w->loop);
    free(w);
}

/* One iteration of a worker's loop, sleeping at most max_wait ms. */
static void turn(struct worker *w, int max_wait)
{
    w->now = clock_coarse_ms();
    tw_run(&w->tw, w->now);
    int t = tw_next_wait(&w->tw, w->now);
    if (t < 0 || t > max_wait)
        t = max_wait;
    int n = loop_wait(w->loop, t);
    w->now = clock_coarse_ms();
    if (n > 0)
        loop_dispatch(w->loop, n);
}

/* Run w's loop until *count reaches target or max_ms pass. */
static bool run_until(struct worker *w, const int *count, int target, int max_ms)
{
    uint64_t deadline = clock_mono_ms() + (uint64_t)max_ms;
    while (*count < target && clock_mono_ms() < deadline)
        turn(w, 10);
    return *count >= target;
}

static void run_for(struct worker *w, int ms)
{
    uint64_t deadline = clock_mono_ms() + (uint64_t)ms;
    while (clock_mono_ms() < deadline)
        turn(w, 5);
}

struct res {
    int calls;
    enum dns_status st;
    struct dns_addrs a;
    bool a_null;
    uint64_t at;
    int *total; /* optional shared counter */
};

static void on_done(void *arg, enum dns_status st, const struct dns_addrs *a)
{
    struct res *r = arg;
    r->calls++;
    r->st = st;
    r->a_null = a == NULL;
    if (a)
        r->a = *a;
    else
        r->a.n = 0;
    r->at = clock_mono_ms();
    if (r->total)
        (*r->total)++;
}

static void cfg_make(struct cfg_resolvers *c, uint16_t port, uint32_t timeout, int retries)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->name, "test");
    struct sockaddr_in *sin = (struct sockaddr_in *)&c->ns[0];
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->nslen[0] = sizeof(*sin);
    strcpy(c->ns_id[0], "ns1");
    c->nns = 1;
    c->timeout_resolve = timeout;
    c->timeout_retry = timeout;
    c->resolve_retries = retries;
    c->hold_valid = 10000;
    c->hold_nx = 30000;
}

static struct dns_resolver *good_resolver(struct worker *w, struct cfg_resolvers *c)
{
    if (!dnsmasq_up()) {
        CU_FAIL_FATAL("dnsmasq (Debian dnsmasq-base) must run for the dns tests");
    }
    cfg_make(c, dm_port, 1000, 3);
    struct dns_resolver *r = dns_resolver_new(w, c);
    CU_ASSERT_FATAL(r != NULL);
    return r;
}

static struct dns_query *resolve(struct dns_resolver *r, const char *name, uint16_t port,
                                 struct res *out)
{
    return dns_resolve(r, name, strlen(name), port, on_done, out);
}

static bool is_v4(const struct dns_addrs *a, unsigned i, const char *ip, uint16_t port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr[i];
    struct in_addr want;
    inet_pton(AF_INET, ip, &want);
    return i < a->n && sin->sin_family == AF_INET && a->len[i] == sizeof(*sin) &&
           sin->sin_addr.s_addr == want.s_addr && ntohs(sin->sin_port) == port;
}

static bool is_v6(const struct dns_addrs *a, unsigned i, const char *ip, uint16_t port)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr[i];
    struct in6_addr want;
    inet_pton(AF_INET6, ip, &want);
    return i < a->n && sin6->sin6_family == AF_INET6 && a->len[i] == sizeof(*sin6) &&
           memcmp(&sin6->sin6_addr, &want, 16) == 0 && ntohs(sin6->sin6_port) == port;
}

/* ---- tests ---- */

static void test_literals_sync(void)
{
    struct worker *w = worker_make();
    /* cfg NULL: the system resolver, but literals never reach it */
    struct dns_resolver *r = dns_resolver_new(w, NULL);
    CU_ASSERT_FATAL(r != NULL);
    struct res a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
    CU_ASSERT_PTR_NULL(resolve(r, "127.0.0.1", 80, &a));
    CU_ASSERT(a.calls == 1 && a.st == DNS_OK && a.a.n == 1 && is_v4(&a.a, 0, "127.0.0.1", 80));
    CU_ASSERT_PTR_NULL(resolve(r, "::1", 443, &b));
    CU_ASSERT(b.calls == 1 && b.st == DNS_OK && b.a.n == 1 && is_v6(&b.a, 0, "::1", 443));
    CU_ASSERT_PTR_NULL(resolve(r, "[2001:db8::7]", 8080, &c));
    CU_ASSERT(c.calls == 1 && c.st == DNS_OK && is_v6(&c.a, 0, "2001:db8::7", 8080));
    /* not a host name: fails at once without a query */
    CU_ASSERT_PTR_NULL(resolve(r, "bad name", 80, &d));
    CU_ASSERT(d.calls == 1 && d.st == DNS_E_FAIL && d.a_null);
    CU_ASSERT_PTR_NULL(dns_resolve(r, "x..y", 4, 80, on_done, &e));
    CU_ASSERT(e.calls == 1 && e.st == DNS_E_FAIL);
    /* the length bounds the name: "127.0.0.1junk" with len 9 is the literal */
    struct res f = {0};
    CU_ASSERT_PTR_NULL(dns_resolve(r, "127.0.0.1junk", 9, 1, on_done, &f));
    CU_ASSERT(f.calls == 1 && f.st == DNS_OK && is_v4(&f.a, 0, "127.0.0.1", 1));
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 0);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_hosts_localhost(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct dns_resolver *sys = dns_resolver_new(w, NULL);
    CU_ASSERT_FATAL(sys != NULL);
    struct res a = {0}, b = {0}, s = {0};
    CU_ASSERT_PTR_NULL(resolve(r, "localhost", 80, &a));
    CU_ASSERT(a.calls == 1 && a.st == DNS_OK && a.a.n >= 1 && is_v4(&a.a, 0, "127.0.0.1", 80));
    CU_ASSERT_PTR_NULL(resolve(r, "LocalHost", 81, &b));
    CU_ASSERT(b.calls == 1 && b.st == DNS_OK && is_v4(&b.a, 0, "127.0.0.1", 81));
    CU_ASSERT_PTR_NULL(resolve(sys, "localhost", 82, &s));
    CU_ASSERT(s.calls == 1 && s.st == DNS_OK && is_v4(&s.a, 0, "127.0.0.1", 82));
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 0);
    CU_ASSERT_FATAL(log_sync());
    CU_ASSERT_EQUAL(queries_logged("A", "localhost"), 0);
    CU_ASSERT_EQUAL(queries_logged("AAAA", "localhost"), 0);
    dns_resolver_free(sys);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_a_aaaa_both(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct res a = {0}, six = {0}, both = {0};
    int total = 0;
    a.total = six.total = both.total = &total;
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "test.sluice", 8080, &a));
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "six.sluice", 8081, &six));
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "both.sluice", 8082, &both));
    CU_ASSERT_EQUAL(total, 0);
    CU_ASSERT_FATAL(run_until(w, &total, 3, 3000));
    CU_ASSERT(a.calls == 1 && a.st == DNS_OK && a.a.n == 1 && is_v4(&a.a, 0, "127.0.0.1", 8080));
    CU_ASSERT(six.calls == 1 && six.st == DNS_OK && six.a.n == 1 && is_v6(&six.a, 0, "::1", 8081));
    CU_ASSERT(both.calls == 1 && both.st == DNS_OK && both.a.n == 2);
    CU_ASSERT(is_v4(&both.a, 0, "127.0.0.2", 8082)); /* IPv4 first */
    CU_ASSERT(is_v6(&both.a, 1, "::1", 8082));
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 3);
    CU_ASSERT_EQUAL(st.cached, 3);
    CU_ASSERT_EQUAL(st.inflight, 0);
    CU_ASSERT_EQUAL(st.entries, 3);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_truncated_answer_over_tcp(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct res a = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "big.sluice", 80, &a));
    CU_ASSERT_FATAL(run_until(w, &a.calls, 1, 3000));
    CU_ASSERT(a.st == DNS_OK && a.a.n == DNS_MAX_ADDRS);
    int v4 = 0;
    for (unsigned i = 0; i < a.a.n; i++) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.a.addr[i];
        v4 += sin->sin_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 8) == 0x7f0001;
    }
    CU_ASSERT_EQUAL(v4, DNS_MAX_ADDRS);
    /* asked over UDP, answered truncated, asked again over TCP */
    CU_ASSERT_FATAL(log_sync());
    CU_ASSERT_EQUAL(queries_logged("A", "big.sluice"), 2);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_nxdomain_negative_cache(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct res a = {0}, b = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "nx1.sluice", 80, &a));
    CU_ASSERT_FATAL(run_until(w, &a.calls, 1, 3000));
    CU_ASSERT(a.st == DNS_E_NXDOMAIN && a.a_null);
    /* cached negative: answered at once, no second query */
    CU_ASSERT_PTR_NULL(resolve(r, "NX1.sluice", 80, &b));
    CU_ASSERT(b.calls == 1 && b.st == DNS_E_NXDOMAIN);
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 1);
    CU_ASSERT_EQUAL(st.hits, 1);
    CU_ASSERT_FATAL(log_sync());
    CU_ASSERT_EQUAL(queries_logged("A", "nx1.sluice"), 1);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_refused_not_cached(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    /* outside --local=/sluice/ and without upstreams, dnsmasq refuses */
    struct res a = {0}, b = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "refused.example", 80, &a));
    CU_ASSERT_FATAL(run_until(w, &a.calls, 1, 3000));
    CU_ASSERT_EQUAL(a.st, DNS_E_FAIL);
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "refused.example", 80, &b));
    CU_ASSERT_FATAL(run_until(w, &b.calls, 1, 3000));
    CU_ASSERT_EQUAL(b.st, DNS_E_FAIL);
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 2);
    CU_ASSERT_EQUAL(st.entries, 0);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_cache_hit_sync(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct res a = {0}, b = {0}, d = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "hit.test.sluice", 80, &a));
    CU_ASSERT_FATAL(run_until(w, &a.calls, 1, 3000));
    CU_ASSERT(a.st == DNS_OK && is_v4(&a.a, 0, "127.0.0.1", 80));
    CU_ASSERT_PTR_NULL(resolve(r, "HIT.Test.Sluice", 9999, &b)); /* case-insensitive */
    CU_ASSERT(b.calls == 1 && b.st == DNS_OK && is_v4(&b.a, 0, "127.0.0.1", 9999));
    /* the trailing part of the buffer is not part of the name */
    CU_ASSERT_PTR_NULL(dns_resolve(r, "hit.test.sluice:80", 15, 7, on_done, &d));
    CU_ASSERT(d.calls == 1 && d.st == DNS_OK && is_v4(&d.a, 0, "127.0.0.1", 7));
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.hits, 2);
    CU_ASSERT_EQUAL(st.misses, 1);
    CU_ASSERT_EQUAL(st.sent, 1);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_expiry_ttl_and_hold_valid(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c); /* hold valid 10 s, dnsmasq TTL 1 s */
    struct cfg_resolvers c2 = c;
    c2.hold_valid = 200; /* caps the 1 s TTL */
    struct dns_resolver *capped = dns_resolver_new(w, &c2);
    CU_ASSERT_FATAL(capped != NULL);
    struct res a = {0}, b = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "ttl.test.sluice", 80, &a));
    CU_ASSERT_PTR_NOT_NULL(resolve(capped, "ttl.test.sluice", 80, &b));
    int total = 0;
    a.total = b.total = &total;
    CU_ASSERT_FATAL(run_until(w, &total, 2, 3000));
    run_for(w, 400);
    struct res a2 = {0}, b2 = {0};
    CU_ASSERT_PTR_NULL(resolve(r, "ttl.test.sluice", 80, &a2));          /* TTL 1 s not over yet */
    CU_ASSERT_PTR_NOT_NULL(resolve(capped, "ttl.test.sluice", 80, &b2)); /* hold valid is */
    CU_ASSERT_FATAL(run_until(w, &b2.calls, 1, 3000));
    CU_ASSERT_EQUAL(b2.st, DNS_OK);
    run_for(w, 750);
    struct res a3 = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "ttl.test.sluice", 80, &a3)); /* TTL over */
    CU_ASSERT_FATAL(run_until(w, &a3.calls, 1, 3000));
    CU_ASSERT_EQUAL(a3.st, DNS_OK);
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 2);
    CU_ASSERT_EQUAL(st.entries, 1);
    dns_get_stats(capped, &st);
    CU_ASSERT_EQUAL(st.sent, 2);
    dns_resolver_free(capped);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_coalesce(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct res q[3] = {{0}};
    int total = 0;
    for (int i = 0; i < 3; i++) {
        q[i].total = &total;
        CU_ASSERT_PTR_NOT_NULL(
            resolve(r, i == 1 ? "CO.test.sluice" : "co.test.sluice", (uint16_t)(1000 + i), &q[i]));
    }
    CU_ASSERT_FATAL(run_until(w, &total, 3, 3000));
    for (int i = 0; i < 3; i++)
        CU_ASSERT(q[i].calls == 1 && q[i].st == DNS_OK &&
                  is_v4(&q[i].a, 0, "127.0.0.1", (uint16_t)(1000 + i)));
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.sent, 1);
    CU_ASSERT_EQUAL(st.coalesced, 2);
    CU_ASSERT_FATAL(log_sync());
    CU_ASSERT_EQUAL(queries_logged("A", "co.test.sluice"), 1);
    CU_ASSERT_EQUAL(queries_logged("AAAA", "co.test.sluice"), 1);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_timeout_does_not_stall_others(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c, cs;
    struct dns_resolver *good = good_resolver(w, &c);
    CU_ASSERT_FATAL(silent_up());
    silent_drain();
    cfg_make(&cs, silent_port, 200, 2);
    struct dns_resolver *bad = dns_resolver_new(w, &cs);
    CU_ASSERT_FATAL(bad != NULL);
    struct res slow = {0}, fast = {0};
    uint64_t t0 = clock_mono_ms();
    CU_ASSERT_PTR_NOT_NULL(resolve(bad, "slow.sluice", 80, &slow));
    CU_ASSERT_PTR_NOT_NULL(resolve(good, "fast.test.sluice", 80, &fast));
    CU_ASSERT_FATAL(run_until(w, &fast.calls, 1, 3000));
    CU_ASSERT(fast.st == DNS_OK && fast.at - t0 < 150);
    CU_ASSERT_EQUAL(slow.calls, 0);
    CU_ASSERT_FATAL(run_until(w, &slow.calls, 1, 3000));
    uint64_t took = slow.at - t0;
    CU_ASSERT_EQUAL(slow.st, DNS_E_TIMEOUT);
    /* 2 tries x 200 ms, plus the wheel's tick and the coarse clock */
    CU_ASSERT(took >= 380 && took <= 600);
    printf("\n    timeout after %llu ms (2 x 200 ms) ", (unsigned long long)took);
    /* two rounds of A + AAAA reached the silent server */
    CU_ASSERT_EQUAL(silent_drain(), 4);
    struct dns_stats st;
    dns_get_stats(bad, &st);
    CU_ASSERT_EQUAL(st.sent, 1);
    CU_ASSERT_EQUAL(st.retries, 1);
    CU_ASSERT_EQUAL(st.entries, 0); /* timeouts are not cached */
    CU_ASSERT_EQUAL(st.inflight, 0);
    dns_resolver_free(bad);
    dns_resolver_free(good);
    worker_drop(w);
}

static void test_cancel(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct res a = {0}, q[3] = {{0}};
    struct dns_query *h = resolve(r, "cancel.test.sluice", 80, &a);
    CU_ASSERT_FATAL(h != NULL);
    dns_cancel(h);
    struct dns_query *hq[3];
    int total = 0;
    for (int i = 0; i < 3; i++) {
        q[i].total = &total;
        hq[i] = resolve(r, "cancel2.test.sluice", 80, &q[i]);
        CU_ASSERT_FATAL(hq[i] != NULL);
    }
    dns_cancel(hq[1]); /* a middle waiter of a coalesced lookup */
    CU_ASSERT_FATAL(run_until(w, &total, 2, 3000));
    /* the cancelled lookup still completes and is cached */
    struct dns_stats st;
    uint64_t deadline = clock_mono_ms() + 3000;
    do {
        turn(w, 10);
        dns_get_stats(r, &st);
    } while (st.inflight > 0 && clock_mono_ms() < deadline);
    CU_ASSERT_EQUAL(st.inflight, 0);
    CU_ASSERT_EQUAL(st.cached, 2);
    run_for(w, 50);
    CU_ASSERT_EQUAL(a.calls, 0);
    CU_ASSERT(q[0].calls == 1 && q[1].calls == 0 && q[2].calls == 1);
    struct res b = {0};
    CU_ASSERT_PTR_NULL(resolve(r, "cancel.test.sluice", 80, &b));
    CU_ASSERT(b.calls == 1 && b.st == DNS_OK);
    dns_cancel(NULL);
    dns_resolver_free(r);
    worker_drop(w);
}

/* A callback that cancels the other waiter of the same lookup, then starts a new lookup. */
struct chain {
    struct dns_resolver *r;
    struct dns_query *other;
    struct res mine, next;
    int calls;
};

static void on_chain(void *arg, enum dns_status st, const struct dns_addrs *a)
{
    struct chain *ch = arg;
    ch->calls++;
    ch->mine.st = st;
    (void)a;
    if (ch->other) {
        dns_cancel(ch->other);
        ch->other = NULL;
    }
    resolve(ch->r, "chained.test.sluice", 80, &ch->next);
}

static void test_callback_reentry(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    struct chain x = {.r = r}, y = {.r = r};
    struct dns_query *hx = dns_resolve(r, "re.test.sluice", 14, 80, on_chain, &x);
    struct dns_query *hy = dns_resolve(r, "re.test.sluice", 14, 80, on_chain, &y);
    CU_ASSERT_FATAL(hx && hy);
    /* whichever runs first cancels the other */
    x.other = hy;
    y.other = hx;
    int one = 1;
    uint64_t deadline = clock_mono_ms() + 3000;
    while (x.calls + y.calls < one && clock_mono_ms() < deadline)
        turn(w, 10);
    CU_ASSERT_EQUAL(x.calls + y.calls, 1);
    struct res *next = x.calls ? &x.next : &y.next;
    CU_ASSERT_FATAL(run_until(w, &next->calls, 1, 3000));
    CU_ASSERT_EQUAL(next->st, DNS_OK);
    run_for(w, 30);
    CU_ASSERT_EQUAL(x.calls + y.calls, 1);
    dns_resolver_free(r);
    worker_drop(w);
}

static void test_free_with_pending(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c, cs;
    struct dns_resolver *good = good_resolver(w, &c);
    CU_ASSERT_FATAL(silent_up());
    cfg_make(&cs, silent_port, 1000, 3);
    struct dns_resolver *bad = dns_resolver_new(w, &cs);
    CU_ASSERT_FATAL(bad != NULL);
    struct res g[4] = {{0}}, b[4] = {{0}};
    char name[64];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "free%d.test.sluice", i % 2);
        resolve(good, name, 80, &g[i]);
        resolve(bad, name, 80, &b[i]);
    }
    turn(w, 0); /* sockets registered, maybe an answer or two read */
    int before = 0;
    for (int i = 0; i < 4; i++)
        before += g[i].calls + b[i].calls;
    dns_resolver_free(bad);
    dns_resolver_free(good);
    run_for(w, 30); /* stale registrations must be gone from the loop */
    int after = 0;
    for (int i = 0; i < 4; i++)
        after += g[i].calls + b[i].calls;
    CU_ASSERT_EQUAL(before, after);
    silent_drain();
    worker_drop(w);
}

static void test_eviction_and_latency(void)
{
    struct worker *w = worker_make();
    struct cfg_resolvers c;
    struct dns_resolver *r = good_resolver(w, &c);
    enum { N = DNS_CACHE_MAX + 16, BATCH = 128 };
    struct res *res = calloc(N, sizeof(*res));
    CU_ASSERT_FATAL(res != NULL);
    char name[64];
    int total = 0;
    uint64_t t0 = clock_mono_ms();
    for (int i = 0; i < N; i += BATCH) {
        int end = i + BATCH < N ? i + BATCH : N;
        for (int j = i; j < end; j++) {
            res[j].total = &total;
            snprintf(name, sizeof(name), "e%d.test.sluice", j);
            resolve(r, name, 80, &res[j]);
        }
        CU_ASSERT_FATAL(run_until(w, &total, end, 5000));
    }
    uint64_t bulk = clock_mono_ms() - t0;
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += res[i].st == DNS_OK;
    CU_ASSERT_EQUAL(ok, N);
    struct dns_stats st;
    dns_get_stats(r, &st);
    CU_ASSERT_EQUAL(st.entries, DNS_CACHE_MAX);
    /* the oldest names were evicted, the newest are hits */
    struct res first = {0}, last = {0};
    CU_ASSERT_PTR_NOT_NULL(resolve(r, "e0.test.sluice", 80, &first));
    snprintf(name, sizeof(name), "e%d.test.sluice", N - 1);
    CU_ASSERT_PTR_NULL(resolve(r, name, 80, &last));
    CU_ASSERT_FATAL(run_until(w, &first.calls, 1, 3000));

    /* figures: one lookup at a time (a miss, round trip through dnsmasq), then cache hits */
    enum { SEQ = 200 };
    uint64_t lat[SEQ];
    for (int i = 0; i < SEQ; i++) {
        struct res one = {0};
        snprintf(name, sizeof(name), "lat%d.test.sluice", i);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        resolve(r, name, 80, &one);
        uint64_t spin = clock_mono_ms() + 3000;
        while (!one.calls && clock_mono_ms() < spin)
            turn(w, 10);
        clock_gettime(CLOCK_MONOTONIC, &b);
        lat[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
                 (uint64_t)a.tv_nsec;
        CU_ASSERT(one.st == DNS_OK);
    }
    for (int i = 1; i < SEQ; i++)
        for (int j = i; j > 0 && lat[j - 1] > lat[j]; j--) {
            uint64_t t = lat[j];
            lat[j] = lat[j - 1];
            lat[j - 1] = t;
        }
    enum { HITS = 1000000 };
    struct res h = {0};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < HITS; i++)
        resolve(r, "lat7.test.sluice", 80, &h);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double hit_ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / HITS;
    CU_ASSERT_EQUAL(h.calls, HITS);
    printf("\n    %d lookups in batches of %d: %llu ms; one at a time: p50 %.0f us, p99 %.0f us;"
           " cache hit %.0f ns ",
           N, BATCH, (unsigned long long)bulk, lat[SEQ / 2] / 1e3, lat[SEQ * 99 / 100] / 1e3,
           hit_ns);
    free(res);
    dns_resolver_free(r);
    worker_drop(w);
}

int suite_dns(void)
{
    CU_pSuite s = CU_add_suite("dns", NULL, suite_clean);
    if (!s)
        return CU_get_error();
    if (!CU_add_test(s, "literals_sync", test_literals_sync) ||
        !CU_add_test(s, "hosts_localhost", test_hosts_localhost) ||
        !CU_add_test(s, "a_aaaa_both", test_a_aaaa_both) ||
        !CU_add_test(s, "truncated_answer_over_tcp", test_truncated_answer_over_tcp) ||
        !CU_add_test(s, "nxdomain_negative_cache", test_nxdomain_negative_cache) ||
        !CU_add_test(s, "refused_not_cached", test_refused_not_cached) ||
        !CU_add_test(s, "cache_hit_sync", test_cache_hit_sync) ||
        !CU_add_test(s, "expiry_ttl_and_hold_valid", test_expiry_ttl_and_hold_valid) ||
        !CU_add_test(s, "coalesce", test_coalesce) ||
        !CU_add_test(s, "timeout_does_not_stall_others", test_timeout_does_not_stall_others) ||
        !CU_add_test(s, "cancel", test_cancel) ||
        !CU_add_test(s, "callback_reentry", test_callback_reentry) ||
        !CU_add_test(s, "free_with_pending", test_free_with_pending) ||
        !CU_add_test(s, "eviction_and_latency", test_eviction_and_latency))
        return CU_get_error();
    return CUE_SUCCESS;
}
