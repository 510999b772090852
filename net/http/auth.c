/* HTTP Basic authentication against [userlist]s: credential cache, rate limits, verifier thread.
 *
 * Design. A worker parses the header, then looks its credential cache up: a per-worker,
 * 4-way set-associative table keyed by SipHash-2-4 (per-process random key) of the userlist
 * pointer and the base64 token; positive entries live AUTH_CACHE_TTL_MS, negative ones
 * AUTH_NEG_TTL_MS. Plaintext (`insecure-password`) users are compared on the worker in constant
 * time. A crypt(3) hash is checked by the one verifier thread: the worker puts a heap job on its
 * own SPSC ring to the verifier (so N workers → 1 verifier needs no lock) and wakes it through
 * an eventfd only when it sleeps; the verifier takes one job per worker ring in turn (fair under
 * load), runs crypt_r, and answers on the worker's SPSC answer ring, then writes the worker's
 * eventfd. auth_poll (the worker's per-iteration hook) takes the answers, fills the cache and
 * calls the done callbacks. Identical checks in flight on a worker share one job (a browser opens
 * several connections with the same credentials at once). An unknown user is checked against
 * the userlist's first hash and refused, so answer times do not reveal which users exist.
 *
 * Failures (wrong password, unknown user, malformed header, negative cache hit) are counted per
 * client address in a fixed per-worker table (no growth); more than AUTH_RL_MAX_FAILS within
 * AUTH_RL_WINDOW_MS blocks the address for AUTH_RL_BLOCK_MS (AUTH_LIMITED, no check, even for
 * cached credentials so that the limit cannot be probed). Each failure is logged at most once a
 * second per client; the next line says how many were not logged. The limits are per worker: a
 * client spread over N workers gets up to N times the budget. */
#include "net/http/auth.h"

#include "core/siphash.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/log.h"
#include "core/ring.h"
#include "core/worker.h"

#define CACHE_SETS 256u /* x CACHE_WAYS entries per worker */
#define CACHE_WAYS 4u
#define RL_SETS    64u /* x RL_WAYS client addresses per worker */
#define RL_WAYS    4u
#define LOG_NAME   64u /* user names in log lines are cut to this */
#define TOKEN_MAX  (((AUTH_MAX_CREDENTIALS + 2) / 3) * 4)

/* A request waiting for a job's answer (worker-only). */
struct auth_req {
    struct auth_req *next;
    auth_done_fn done;
    void *arg;
    struct sockaddr_storage client;
    bool has_client;
};

/* One crypt(3) check. The worker owns it except between its push to the verifier ring and its
 * pop from the answer ring; the ring hand-offs order the fields (release/acquire). */
struct auth_job {
    /* worker-only */
    struct auth_job *next, **pprev; /* the worker's in-flight list */
    struct auth_req *reqs;          /* owned: who waits for the answer */
    uint64_t key;                   /* cache key */
    const struct cfg_userlist *ul;  /* borrowed */
    char uname[LOG_NAME + 4];       /* printable copy of the user name, for logs */
    /* read by the verifier */
    unsigned wid;
    const char *hash;            /* borrowed from the config */
    const struct cfg_user *user; /* borrowed; NULL: unknown user, the answer is AUTH_FAIL */
    _Atomic bool cancelled;      /* nobody waits any more: the verifier may skip the check */
    /* written by the verifier */
    enum auth_result result; /* OK or FAIL; PENDING when skipped */
    size_t pwlen;
    char pw[]; /* NUL-terminated copy, wiped by the verifier */
};

struct cache_entry {
    uint64_t key;
    uint64_t expires; /* w->now ms; 0 = empty */
    const char *user; /* borrowed from the config; NULL for a refused credential */
};

struct rl_entry {
    uint8_t fam; /* 0 empty, 1 local, 4, 6 */
    uint8_t addr[16];
    uint32_t fails;
    uint32_t suppressed; /* failures not logged since the last line */
    uint64_t window_start;
    uint64_t limited_until;
    uint64_t next_log;
};

struct auth_wk {
    struct ring jobs;    /* worker → verifier: struct auth_job * */
    struct ring answers; /* verifier → worker */
    int wake_fd;         /* owned dup of the worker's eventfd; set before the first job */
    /* counters: this worker writes (the verifier never does), anyone reads */
    alignas(64) _Atomic uint64_t submitted, coalesced, cache_hits, neg_hits, failures, limited;
    /* worker-only */
    alignas(64) struct auth_job *inflight;
    unsigned ninflight;
    uint64_t next_overload_log;
    struct cache_entry cache[CACHE_SETS][CACHE_WAYS];
    struct rl_entry rl[RL_SETS][RL_WAYS];
};

struct auth_state {
    unsigned nworkers;
    struct auth_wk *wk; /* owned, nworkers entries */
    uint64_t sipkey[2];
    pthread_t thread;
    bool thread_started;
    int vfd; /* owned eventfd that wakes the verifier */
    alignas(64) _Atomic bool v_sleeping;
    _Atomic bool v_stop;
    alignas(64) _Atomic uint64_t verified;
};

static struct auth_state *st;

/* ---- small helpers ------------------------------------------------------------------------ */

static inline void count(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Equal in time that depends only on the length of b (the attacker's side). */
static bool ct_equal(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++)
        d |= (unsigned char)(b[i] ^ (la ? a[i < la ? i : 0] : 0));
    return d == 0;
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict RFC 4648 base64 (standard alphabet, padding required, no whitespace, zero pad bits).
 * Returns the decoded length or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len == 0 || len % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int pad = 0;
        if (last && in[i + 3] == '=')
            pad = in[i + 2] == '=' ? 2 : 1;
        int v[4];
        for (int j = 0; j < 4 - pad; j++)
            if ((v[j] = b64_val((unsigned char)in[i + j])) < 0)
                return -1;
        if (o + 3 - pad > cap)
            return -1;
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (pad == 2) {
            if (v[1] & 0xf)
                return -1;
            break;
        }
        out[o++] = (unsigned char)((v[1] & 0xf) << 4 | v[2] >> 2);
        if (pad == 1) {
            if (v[2] & 0x3)
                return -1;
            break;
        }
        out[o++] = (unsigned char)((v[2] & 0x3) << 6 | v[3]);
    }
    return (long)o;
}

static void printable_copy(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[n++] = (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') ? (char)c : '?';
    }
    if (len > cap - 4 && n + 3 < cap) {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}

/* ---- rate limiting per client address ----------------------------------------------------- */

struct client_key {
    uint8_t fam;
    uint8_t addr[16];
};

static struct client_key client_key(const struct sockaddr *sa)
{
    struct client_key k;
    memset(&k, 0, sizeof(k));
    k.fam = 1;
    if (!sa)
        return k;
    if (sa->sa_family == AF_INET) {
        k.fam = 4;
        memcpy(k.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            k.fam = 4;
            memcpy(k.addr, a->s6_addr + 12, 4);
        } else {
            k.fam = 6;
            memcpy(k.addr, a->s6_addr, 16);
        }
    }
    return k;
}

static void client_str(const struct client_key *k, char *buf, size_t cap)
{
    if (k->fam == 4)
        inet_ntop(AF_INET, k->addr, buf, (socklen_t)cap);
    else if (k->fam == 6)
        inet_ntop(AF_INET6, k->addr, buf, (socklen_t)cap);
    else
        snprintf(buf, cap, "local");
}

static struct rl_entry *rl_find(struct auth_wk *wk, const struct client_key *k, uint64_t now,
                                bool create)
{
    uint64_t h = siphash(st->sipkey, k, sizeof(*k));
    struct rl_entry *set = wk->rl[h & (RL_SETS - 1)];
    for (unsigned i = 0; i < RL_WAYS; i++)
        if (set[i].fam == k->fam && memcmp(set[i].addr, k->addr, 16) == 0)
            return &set[i];
    if (!create)
        return NULL;
    /* Victim: an empty slot, else the oldest unblocked one, else the block that ends first. */
    struct rl_entry *v = NULL;
    for (unsigned i = 0; i < RL_WAYS && !v; i++)
        if (!set[i].fam)
            v = &set[i];
    for (unsigned i = 0; i < RL_WAYS && !v; i++)
        if (set[i].limited_until <= now)
            v = &set[i];
    if (v) {
        for (unsigned i = 0; i < RL_WAYS; i++)
            if (set[i].fam && set[i].limited_until <= now && set[i].window_start < v->window_start)
                v = &set[i];
    } else {
        v = &set[0];
        for (unsigned i = 1; i < RL_WAYS; i++)
            if (set[i].limited_until < v->limited_until)
                v = &set[i];
    }
    memset(v, 0, sizeof(*v));
    v->fam = k->fam;
    memcpy(v->addr, k->addr, 16);
    v->window_start = now;
    return v;
}

static bool client_is_limited(struct auth_wk *wk, const struct sockaddr *client, uint64_t now)
{
    struct client_key k = client_key(client);
    struct rl_entry *e = rl_find(wk, &k, now, false);
    return e && e->limited_until > now;
}

/* A failed attempt by `client` (uname: printable user name, NULL for malformed credentials). */
static void record_failure(struct auth_wk *wk, const struct sockaddr *client, uint64_t now,
                           const struct cfg_userlist *ul, const char *uname)
{
    count(&wk->failures);
    struct client_key k = client_key(client);
    struct rl_entry *e = rl_find(wk, &k, now, true);
    if (now - e->window_start >= AUTH_RL_WINDOW_MS) {
        e->window_start = now;
        e->fails = 0;
    }
    e->fails++;
    char ip[INET6_ADDRSTRLEN];
    if (now >= e->next_log) {
        client_str(&k, ip, sizeof(ip));
        char more[48] = "";
        if (e->suppressed)
            snprintf(more, sizeof(more), " (%u more not logged)", e->suppressed);
        if (uname)
            log_msg(LOG_LV_NOTICE, "auth: failed login for user '%s' from %s (userlist %s)%s",
                    uname, ip, ul->name, more);
        else
            log_msg(LOG_LV_NOTICE, "auth: malformed credentials from %s (userlist %s)%s", ip,
                    ul->name, more);
        e->suppressed = 0;
        e->next_log = now + 1000;
    } else {
        e->suppressed++;
    }
    if (e->fails > AUTH_RL_MAX_FAILS && e->limited_until <= now) {
        e->limited_until = now + AUTH_RL_BLOCK_MS;
        client_str(&k, ip, sizeof(ip));
        log_msg(LOG_LV_NOTICE,
                "auth: %s blocked for %us after %u failed logins in %us (userlist %s)", ip,
                AUTH_RL_BLOCK_MS / 1000, e->fails, AUTH_RL_WINDOW_MS / 1000, ul->name);
    }
}

/* ---- credential cache ---------------------------------------------------------------------- */

static struct cache_entry *cache_get(struct auth_wk *wk, uint64_t key, uint64_t now)
{
    struct cache_entry *set = wk->cache[key & (CACHE_SETS - 1)];
    for (unsigned i = 0; i < CACHE_WAYS; i++)
        if (set[i].key == key && set[i].expires > now)
            return &set[i];
    return NULL;
}

static void cache_put(struct auth_wk *wk, uint64_t key, const char *user, uint64_t expires)
{
    struct cache_entry *set = wk->cache[key & (CACHE_SETS - 1)];
    struct cache_entry *v = &set[0];
    for (unsigned i = 0; i < CACHE_WAYS; i++) {
        if (set[i].key == key) {
            v = &set[i];
            break;
        }
        if (set[i].expires < v->expires)
            v = &set[i];
    }
    v->key = key;
    v->user = user;
    v->expires = expires;
}

/* ---- the verifier thread ------------------------------------------------------------------ */

static void verify(struct auth_job *j, struct crypt_data *cd)
{
    if (atomic_load_explicit(&j->cancelled, memory_order_relaxed)) {
        j->result = AUTH_PENDING;
    } else {
        const char *h = crypt_r(j->pw, j->hash, cd);
        /* libxcrypt answers a failure token starting with '*' (or NULL) for a bad setting. */
        bool ok = h && h[0] != '*' && ct_equal(j->hash, strlen(j->hash), h, strlen(h));
        j->result = ok && j->user ? AUTH_OK : AUTH_FAIL;
        explicit_bzero(cd, sizeof(*cd));
        atomic_fetch_add_explicit(&st->verified, 1, memory_order_relaxed);
    }
    explicit_bzero(j->pw, j->pwlen);
    struct auth_wk *wk = &st->wk[j->wid];
    /* Cannot fail: a worker has at most AUTH_MAX_INFLIGHT jobs and the ring holds that many. */
    if (!ring_push(&wk->answers, (uint64_t)(uintptr_t)j))
        abort();
    /* Always write: the worker checks its poll hook before it marks itself asleep, so
     * worker_wake's "skip when awake" shortcut could lose this answer until its next event. */
    uint64_t one = 1;
    if (write(wk->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_msg(LOG_LV_WARN, "auth: worker %u eventfd write failed: %s", j->wid, strerror(errno));
}

static bool rings_empty(void)
{
    for (unsigned i = 0; i < st->nworkers; i++) {
        struct ring *r = &st->wk[i].jobs;
        if (atomic_load_explicit(&r->tail, memory_order_seq_cst) !=
            atomic_load_explicit(&r->head, memory_order_relaxed))
            return false;
    }
    return true;
}

static void *verifier_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "sluice-auth");
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd) {
        log_msg(LOG_LV_ERR, "auth: verifier out of memory: password checks will not run");
        return NULL;
    }
    for (;;) {
        bool any = false;
        /* One job per worker per pass: a worker with a long queue cannot starve the others. */
        for (unsigned i = 0; i < st->nworkers; i++) {
            uint64_t v;
            if (ring_pop(&st->wk[i].jobs, &v)) {
                verify((struct auth_job *)(uintptr_t)v, cd);
                any = true;
            }
        }
        if (atomic_load_explicit(&st->v_stop, memory_order_acquire))
            break;
        if (any)
            continue;
        /* Dekker with submit(): either we see its push, or it sees us asleep and writes vfd. */
        atomic_store_explicit(&st->v_sleeping, true, memory_order_seq_cst);
        if (rings_empty() && !atomic_load_explicit(&st->v_stop, memory_order_seq_cst)) {
            struct pollfd p = {.fd = st->vfd, .events = POLLIN};
            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                log_msg(LOG_LV_WARN, "auth: verifier poll failed: %s", strerror(errno));
            uint64_t n;
            if (read(st->vfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                log_msg(LOG_LV_WARN, "auth: verifier eventfd read failed: %s", strerror(errno));
        }
        atomic_store_explicit(&st->v_sleeping, false, memory_order_relaxed);
    }
    free(cd);
    return NULL;
}

/* ---- worker side --------------------------------------------------------------------------- */

static void job_free(struct auth_job *j)
{
    while (j->reqs) {
        struct auth_req *r = j->reqs;
        j->reqs = r->next;
        free(r);
    }
    explicit_bzero(j->pw, j->pwlen);
    free(j);
}

static struct auth_req *req_new(auth_done_fn done, void *arg, const struct sockaddr *client)
{
    struct auth_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->done = done;
    r->arg = arg;
    if (client) {
        size_t len = client->sa_family == AF_INET    ? sizeof(struct sockaddr_in)
                     : client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                     : sizeof(sa_family_t);
        memcpy(&r->client, client, len);
        r->has_client = true;
    }
    return r;
}

/* Queue a check of pw against hash. Returns AUTH_PENDING or AUTH_LIMITED (overload, ENOMEM). */
static enum auth_result submit(struct worker *w, struct auth_wk *wk, uint64_t key,
                               const struct cfg_userlist *ul, const struct cfg_user *user,
                               const char *hash, const char *name, size_t nlen, const char *pw,
                               size_t pwlen, const struct sockaddr *client, auth_done_fn done,
                               void *arg)
{
    for (struct auth_job *j = wk->inflight; j; j = j->next) {
        if (j->key != key || atomic_load_explicit(&j->cancelled, memory_order_relaxed))
            continue;
        struct auth_req *r = req_new(done, arg, client);
        if (!r)
            return AUTH_LIMITED;
        r->next = j->reqs;
        j->reqs = r;
        count(&wk->coalesced);
        return AUTH_PENDING;
    }
    if (wk->ninflight >= AUTH_MAX_INFLIGHT) {
        if (w->now >= wk->next_overload_log) {
            log_msg(LOG_LV_WARN,
                    "auth: worker %u has %u password checks queued: refusing new ones (the "
                    "verifier cannot keep up)",
                    w->id, wk->ninflight);
            wk->next_overload_log = w->now + 1000;
        }
        return AUTH_LIMITED;
    }
    if (wk->wake_fd < 0) {
        wk->wake_fd = fcntl(w->evfd, F_DUPFD_CLOEXEC, 0);
        if (wk->wake_fd < 0)
            return AUTH_LIMITED;
    }
    struct auth_job *j = calloc(1, sizeof(*j) + pwlen + 1);
    struct auth_req *r = req_new(done, arg, client);
    if (!j || !r) {
        free(j);
        free(r);
        return AUTH_LIMITED;
    }
    j->reqs = r;
    j->key = key;
    j->ul = ul;
    printable_copy(j->uname, sizeof(j->uname), name, nlen);
    j->wid = w->id;
    j->hash = hash;
    j->user = user;
    atomic_init(&j->cancelled, false);
    j->pwlen = pwlen;
    memcpy(j->pw, pw, pwlen);
    j->pw[pwlen] = '\0';
    j->next = wk->inflight;
    if (j->next)
        j->next->pprev = &j->next;
    j->pprev = &wk->inflight;
    wk->inflight = j;
    wk->ninflight++;
    /* Cannot fail: at most AUTH_MAX_INFLIGHT jobs and the ring holds that many. */
    if (!ring_push(&wk->jobs, (uint64_t)(uintptr_t)j))
        abort();
    count(&wk->submitted);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&st->v_sleeping, memory_order_relaxed)) {
        uint64_t one = 1;
        if (write(st->vfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_msg(LOG_LV_WARN, "auth: verifier eventfd write failed: %s", strerror(errno));
    }
    return AUTH_PENDING;
}

enum auth_result auth_check(struct worker *w, const struct cfg_userlist *ul, const char *hdr,
                            size_t len, const struct sockaddr *client, auth_done_fn done, void *arg,
                            const char **user)
{
    *user = NULL;
    if (!hdr || len == 0)
        return AUTH_NONE;
    if (!st || w->id >= st->nworkers || !ul)
        return AUTH_FAIL;
    struct auth_wk *wk = &st->wk[w->id];
    uint64_t now = w->now;
    if (client_is_limited(wk, client, now)) {
        count(&wk->limited);
        return AUTH_LIMITED;
    }

    /* `Basic` 1*(SP / HTAB) token68, optional whitespace around (RFC 7617, RFC 9110 11.4). */
    while (len && (hdr[len - 1] == ' ' || hdr[len - 1] == '\t'))
        len--;
    while (len && (*hdr == ' ' || *hdr == '\t'))
        hdr++, len--;
    size_t i = 5;
    if (len < 7 || strncasecmp(hdr, "Basic", 5) != 0 || (hdr[5] != ' ' && hdr[5] != '\t')) {
        record_failure(wk, client, now, ul, NULL);
        return AUTH_FAIL;
    }
    while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'))
        i++;
    const char *tok = hdr + i;
    size_t toklen = len - i;
    if (toklen == 0 || toklen > TOKEN_MAX) {
        record_failure(wk, client, now, ul, NULL);
        return AUTH_FAIL;
    }

    char kbuf[sizeof(ul) + TOKEN_MAX];
    memcpy(kbuf, &ul, sizeof(ul));
    memcpy(kbuf + sizeof(ul), tok, toklen);
    uint64_t key = siphash(st->sipkey, kbuf, sizeof(ul) + toklen);
    explicit_bzero(kbuf, sizeof(ul) + toklen); /* the token is as good as the password */
    struct cache_entry *ce = cache_get(wk, key, now);
    if (ce && ce->user) {
        count(&wk->cache_hits);
        *user = ce->user;
        return AUTH_OK;
    }

    unsigned char cred[AUTH_MAX_CREDENTIALS + 3];
    long n = b64_decode(tok, toklen, cred, sizeof(cred));
    enum auth_result res = AUTH_FAIL;
    const char *colon = n > 0 ? memchr(cred, ':', (size_t)n) : NULL;
    if (n < 0 || (size_t)n > AUTH_MAX_CREDENTIALS || !colon || memchr(cred, '\0', (size_t)n)) {
        record_failure(wk, client, now, ul, NULL);
        goto out;
    }
    const char *name = (const char *)cred, *pw = colon + 1;
    size_t nlen = (size_t)(colon - name), pwlen = (size_t)n - nlen - 1;
    char uname[LOG_NAME + 4];
    if (ce) {
        count(&wk->neg_hits);
        printable_copy(uname, sizeof(uname), name, nlen);
        record_failure(wk, client, now, ul, uname);
        goto out;
    }

    const struct cfg_user *u = NULL;
    const char *first_hash = NULL;
    for (size_t k = 0; k < ul->nusers; k++) {
        const struct cfg_user *c = &ul->users[k];
        if (!first_hash && c->hash)
            first_hash = c->hash;
        if (!u && strlen(c->name) == nlen && memcmp(c->name, name, nlen) == 0)
            u = c;
    }
    if (u && u->password) {
        if (ct_equal(u->password, strlen(u->password), pw, pwlen)) {
            *user = u->name;
            res = AUTH_OK;
        }
    } else if (u && u->hash) {
        res = submit(w, wk, key, ul, u, u->hash, name, nlen, pw, pwlen, client, done, arg);
    } else if (!u && first_hash) {
        /* Spend a real check on an unknown user: the answer time must not tell users apart. */
        res = submit(w, wk, key, ul, NULL, first_hash, name, nlen, pw, pwlen, client, done, arg);
    }
    if (res == AUTH_FAIL) {
        printable_copy(uname, sizeof(uname), name, nlen);
        record_failure(wk, client, now, ul, uname);
    } else if (res == AUTH_LIMITED) {
        count(&wk->limited);
    }
out:
    explicit_bzero(cred, sizeof(cred));
    return res;
}

static void finish(struct worker *w, struct auth_wk *wk, struct auth_job *j)
{
    enum auth_result r = j->result;
    const char *uname = r == AUTH_OK ? j->user->name : NULL;
    if (r == AUTH_OK)
        cache_put(wk, j->key, uname, w->now + AUTH_CACHE_TTL_MS);
    else if (r == AUTH_FAIL)
        cache_put(wk, j->key, NULL, w->now + AUTH_NEG_TTL_MS);
    /* The job stays on the in-flight list while callbacks run so that one of them may
     * auth_cancel a request still waiting on it. */
    while (j->reqs) {
        struct auth_req *q = j->reqs;
        j->reqs = q->next;
        if (r == AUTH_FAIL)
            record_failure(wk, q->has_client ? (const struct sockaddr *)&q->client : NULL, w->now,
                           j->ul, j->uname);
        auth_done_fn done = q->done;
        void *arg = q->arg;
        free(q);
        if (r == AUTH_OK || r == AUTH_FAIL)
            done(arg, r, uname);
    }
    *j->pprev = j->next;
    if (j->next)
        j->next->pprev = j->pprev;
    wk->ninflight--;
    job_free(j);
}

void auth_poll(struct worker *w)
{
    if (!st || w->id >= st->nworkers)
        return;
    struct auth_wk *wk = &st->wk[w->id];
    uint64_t v;
    while (ring_pop(&wk->answers, &v))
        finish(w, wk, (struct auth_job *)(uintptr_t)v);
}

void auth_cancel(struct worker *w, void *arg)
{
    if (!st || w->id >= st->nworkers)
        return;
    struct auth_wk *wk = &st->wk[w->id];
    for (struct auth_job *j = wk->inflight; j; j = j->next) {
        struct auth_req **pp = &j->reqs;
        while (*pp) {
            struct auth_req *q = *pp;
            if (q->arg == arg) {
                *pp = q->next;
                free(q);
            } else {
                pp = &q->next;
            }
        }
        if (!j->reqs)
            atomic_store_explicit(&j->cancelled, true, memory_order_relaxed);
    }
}

void auth_get_stats(struct auth_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!st)
        return;
    out->verified = atomic_load_explicit(&st->verified, memory_order_relaxed);
    for (unsigned i = 0; i < st->nworkers; i++) {
        struct auth_wk *wk = &st->wk[i];
        out->submitted += atomic_load_explicit(&wk->submitted, memory_order_relaxed);
        out->coalesced += atomic_load_explicit(&wk->coalesced, memory_order_relaxed);
        out->cache_hits += atomic_load_explicit(&wk->cache_hits, memory_order_relaxed);
        out->neg_hits += atomic_load_explicit(&wk->neg_hits, memory_order_relaxed);
        out->failures += atomic_load_explicit(&wk->failures, memory_order_relaxed);
        out->limited += atomic_load_explicit(&wk->limited, memory_order_relaxed);
    }
}

/* ---- start / stop -------------------------------------------------------------------------- */

int auth_start(const struct config *cfg, unsigned nworkers)
{
    (void)cfg; /* userlists are passed to auth_check; nothing is precomputed yet */
    if (st || nworkers == 0)
        return -EINVAL;
    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->vfd = -1;
    st->nworkers = nworkers;
    int rc = -ENOMEM;
    size_t sz = (sizeof(struct auth_wk) * nworkers + 63) & ~(size_t)63;
    st->wk = aligned_alloc(64, sz);
    if (!st->wk)
        goto fail;
    memset(st->wk, 0, sz);
    for (unsigned i = 0; i < nworkers; i++) {
        st->wk[i].wake_fd = -1;
        if (ring_init(&st->wk[i].jobs, AUTH_MAX_INFLIGHT) < 0 ||
            ring_init(&st->wk[i].answers, AUTH_MAX_INFLIGHT) < 0)
            goto fail;
    }
    if (getrandom(st->sipkey, sizeof(st->sipkey), 0) != (ssize_t)sizeof(st->sipkey)) {
        rc = -errno;
        goto fail;
    }
    st->vfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (st->vfd < 0) {
        rc = -errno;
        goto fail;
    }
    atomic_init(&st->v_sleeping, false);
    atomic_init(&st->v_stop, false);
    if ((rc = -pthread_create(&st->thread, NULL, verifier_main, NULL)) < 0)
        goto fail;
    st->thread_started = true;
    if (!worker_poll_hook)
        worker_poll_hook = auth_poll;
    return 0;
fail:
    auth_stop();
    return rc;
}

void auth_stop(void)
{
    if (!st)
        return;
    if (st->thread_started) {
        atomic_store_explicit(&st->v_stop, true, memory_order_seq_cst);
        uint64_t one = 1;
        if (write(st->vfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_msg(LOG_LV_WARN, "auth: verifier eventfd write failed: %s", strerror(errno));
        pthread_join(st->thread, NULL);
    }
    if (worker_poll_hook == auth_poll)
        worker_poll_hook = NULL;
    if (st->wk) {
        for (unsigned i = 0; i < st->nworkers; i++) {
            struct auth_wk *wk = &st->wk[i];
            /* Every job is on its worker's in-flight list, wherever it is in the rings. */
            while (wk->inflight) {
                struct auth_job *j = wk->inflight;
                wk->inflight = j->next;
                job_free(j);
            }
            ring_destroy(&wk->jobs);
            ring_destroy(&wk->answers);
            if (wk->wake_fd >= 0)
                close(wk->wake_fd);
        }
        free(st->wk);
    }
    if (st->vfd >= 0)
        close(st->vfd);
    free(st);
    st = NULL;
}
