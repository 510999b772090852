/* Stick tables at run time (see stktable.h for the design).
 *
 * Expected load: one lookup per tracked request (a few per request at most), tables of 10^3 to
 * 10^6 entries keyed by client address. The key hash is SipHash with a per-process random key, so
 * that clients who choose string keys (a header, a cookie) cannot pile them into one chain. */
#include "core/stktable.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/epoch.h"
#include "core/siphash.h"

#define STK_SHARDS 64 /* locks per table: workers rarely meet on one */

/* Buckets one sweep call visits per table (about a millisecond): a call costs the same for a
 * table of 100k entries or of 100m, and the thread that sweeps (health checks) never stalls;
 * a large table is swept in several calls. */
#define STK_SWEEP_BUCKETS (1u << 18)

/* HAProxy's freq_ctr: events of the current period (which began at `start`) and of the one
 * before; start and curr share one word so that a period turns over in one compare-and-swap. */
struct stk_freq {
    _Atomic uint64_t start_curr; /* start ms << 32 | events in the current period */
    _Atomic uint32_t prev;       /* events in the previous period */
};

struct stk_entry {
    struct stk_entry *next; /* chain, under the shard's lock; then the sweep's retire list */
    struct stk_table *t;    /* borrowed */
    _Atomic uint32_t refs;  /* trackers holding the entry: it stays while non-zero */
    _Atomic uint32_t expire;
    _Atomic uint32_t cnt[STK_D_NCOUNTERS];
    struct stk_freq freq[STK_D_COUNT - STK_D_NCOUNTERS];
    uint32_t hash;
    uint16_t klen;
    unsigned char key[];
};

struct stk_shard {
    alignas(64) pthread_spinlock_t lock;
};

struct stk_table {
    const struct cfg_stick_table *cfg; /* borrowed from the config */
    char name[CFG_NAME_MAX];
    struct stk_entry **buckets; /* owned; bucket b is under shard b % STK_SHARDS */
    uint32_t mask;              /* buckets - 1 */
    _Atomic uint32_t used;
    uint32_t sweep_pos; /* the sweeper's: where its next call continues */
    /* entries workers evicted from a full table, for the sweeper to retire (a worker may not
       call epoch_retire); linked through `next`, taken whole by an exchange */
    _Atomic(struct stk_entry *) graveyard;
    struct stk_shard shards[STK_SHARDS];
};

static struct stk_table **tables;
static size_t ntables;
static uint64_t sipkey[2];

/* ---- time and frequencies ------------------------------------------------------------------ */

static bool time_reached(uint32_t deadline, uint32_t now)
{
    return (int32_t)(now - deadline) >= 0; /* wraps every 49 days: compare by difference */
}

/* Time since a period began at start. Each worker stamps events with the time its event batch
 * began, so one may be a few milliseconds behind the worker that began the current period: such
 * a time (before start by less than a period) is in the current period. Anything further back
 * can only be the clock having moved on by more than 24 days, and is taken as that. */
static uint32_t freq_elapsed(uint32_t start, uint32_t period, uint32_t now)
{
    uint32_t elapsed = now - start;
    return (int32_t)elapsed < 0 && start - now < period ? 0 : elapsed;
}

static void freq_add(struct stk_freq *f, uint32_t period, uint32_t now)
{
    uint64_t old = atomic_load_explicit(&f->start_curr, memory_order_relaxed);
    for (;;) {
        uint32_t start = (uint32_t)(old >> 32), curr = (uint32_t)old;
        uint32_t elapsed = freq_elapsed(start, period, now);
        uint64_t nv;
        uint32_t prev = 0;
        bool turn = old == 0 || elapsed >= period;
        if (!turn) {
            nv = old + 1;
        } else {
            /* the periods that passed: the current one becomes the previous one if it just ended */
            uint32_t nstart = old == 0 ? now : start + (elapsed / period) * period;
            prev = old != 0 && elapsed < 2 * period ? curr : 0;
            nv = ((uint64_t)nstart << 32) | 1u;
        }
        if (atomic_compare_exchange_weak_explicit(&f->start_curr, &old, nv, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (turn)
                atomic_store_explicit(&f->prev, prev, memory_order_relaxed);
            return;
        }
    }
}

static uint64_t freq_read(const struct stk_freq *f, uint32_t period, uint32_t now)
{
    uint64_t v = atomic_load_explicit(&f->start_curr, memory_order_relaxed);
    if (v == 0)
        return 0;
    uint32_t start = (uint32_t)(v >> 32), curr = (uint32_t)v;
    uint32_t prev = atomic_load_explicit(&f->prev, memory_order_relaxed);
    uint32_t elapsed = freq_elapsed(start, period, now);
    if (elapsed >= 2 * period)
        return 0;
    if (elapsed >= period) { /* no event since the period ended: it is the previous one now */
        prev = curr;
        curr = 0;
        elapsed -= period;
    }
    /* HAProxy's read_freq_ctr_period, so that a limit such as `gt 100` trips at the same
     * request: a lone event of the previous period reads 1 until it leaves the window (no
     * flapping between 0 and 1), else the previous period's events count for the part of it
     * still inside the sliding window, rounded down */
    if (prev <= 1 && curr == 0)
        return prev;
    return curr + (uint64_t)prev * (period - elapsed) / period;
}

/* ---- tables -------------------------------------------------------------------------------- */

static void free_list(void *p)
{
    struct stk_entry *e = p;
    while (e) {
        struct stk_entry *n = e->next;
        free(e);
        e = n;
    }
}

static void table_free(struct stk_table *t)
{
    if (!t)
        return;
    for (uint32_t b = 0; t->buckets && b <= t->mask; b++)
        free_list(t->buckets[b]);
    free_list(atomic_load_explicit(&t->graveyard, memory_order_relaxed));
    for (size_t i = 0; i < STK_SHARDS; i++)
        pthread_spin_destroy(&t->shards[i].lock);
    free(t->buckets);
    free(t);
}

int stktable_init(const struct config *cfg)
{
    if (cfg->nstick_tables == 0)
        return 0;
    if (getrandom(sipkey, sizeof(sipkey), 0) != (ssize_t)sizeof(sipkey))
        return -EIO;
    tables = calloc(cfg->nstick_tables, sizeof(*tables));
    if (!tables)
        return -ENOMEM;
    ntables = cfg->nstick_tables;
    for (size_t i = 0; i < cfg->nproxies; i++) {
        const struct cfg_proxy *p = &cfg->proxies[i];
        if (!p->stick.present)
            continue;
        struct stk_table *t = aligned_alloc(64, sizeof(*t));
        if (!t)
            goto oom;
        memset(t, 0, sizeof(*t));
        t->cfg = &p->stick;
        snprintf(t->name, sizeof(t->name), "%s", p->name);
        uint32_t nb = 64;
        while (nb < p->stick.size && nb < (1u << 30))
            nb <<= 1;
        t->mask = nb - 1;
        for (size_t k = 0; k < STK_SHARDS; k++)
            pthread_spin_init(&t->shards[k].lock, PTHREAD_PROCESS_PRIVATE);
        tables[p->stick.idx] = t;
        if (!(t->buckets = calloc(nb, sizeof(*t->buckets))))
            goto oom;
    }
    return 0;
oom:
    stktable_shutdown();
    return -ENOMEM;
}

void stktable_shutdown(void)
{
    for (size_t i = 0; i < ntables; i++)
        table_free(tables[i]);
    free(tables);
    tables = NULL;
    ntables = 0;
}

struct stk_table *stktable_get(unsigned idx)
{
    return idx < ntables ? tables[idx] : NULL;
}

size_t stktable_count(void)
{
    return ntables;
}

const char *stktable_name(const struct stk_table *t)
{
    return t->name;
}

struct stk_table *stktable_find(const char *name)
{
    for (size_t i = 0; i < ntables; i++)
        if (strcmp(tables[i]->name, name) == 0)
            return tables[i];
    return NULL;
}

/* ---- keys ---------------------------------------------------------------------------------- */

size_t stktable_key_addr(const struct stk_table *t, const struct sockaddr *sa, unsigned char *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!sa)
        return 0;
    const unsigned char *v4 = NULL, *v6 = NULL;
    if (sa->sa_family == AF_INET)
        v4 = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        v6 = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    else
        return 0;
    switch (t->cfg->type) {
    case STK_KEY_IP:
        if (v6 && memcmp(v6, mapped, 12) != 0)
            return 0; /* an IPv6 client has no IPv4 key (HAProxy: not tracked) */
        memcpy(out, v4 ? v4 : v6 + 12, 4);
        return 4;
    case STK_KEY_IPV6:
        if (v4) {
            memcpy(out, mapped, 12);
            memcpy(out + 12, v4, 4);
        } else {
            memcpy(out, v6, 16);
        }
        return 16;
    default: {
        char text[INET6_ADDRSTRLEN];
        if (!inet_ntop(sa->sa_family, v4 ? (const void *)v4 : (const void *)v6, text, sizeof(text)))
            return 0;
        return stktable_key_text(t, text, strlen(text), out);
    }
    }
}

size_t stktable_key_text(const struct stk_table *t, const char *s, size_t n, unsigned char *out)
{
    switch (t->cfg->type) {
    case STK_KEY_IP:
    case STK_KEY_IPV6: {
        char text[INET6_ADDRSTRLEN];
        if (n == 0 || n >= sizeof(text))
            return 0;
        memcpy(text, s, n);
        text[n] = '\0';
        union {
            struct sockaddr sa;
            struct sockaddr_in in;
            struct sockaddr_in6 in6;
        } a = {0};
        if (inet_pton(AF_INET, text, &a.in.sin_addr) == 1)
            a.in.sin_family = AF_INET;
        else if (inet_pton(AF_INET6, text, &a.in6.sin6_addr) == 1)
            a.in6.sin6_family = AF_INET6;
        else
            return 0;
        return stktable_key_addr(t, &a.sa, out);
    }
    case STK_KEY_INTEGER: {
        if (n == 0 || n > 20)
            return 0;
        char text[24];
        memcpy(text, s, n);
        text[n] = '\0';
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || *end)
            return 0;
        int64_t v64 = v;
        memcpy(out, &v64, sizeof(v64));
        return sizeof(v64);
    }
    case STK_KEY_STRING:
        if (n > t->cfg->key_len)
            n = t->cfg->key_len; /* HAProxy cuts longer keys */
        memcpy(out, s, n);
        return n;
    }
    return 0;
}

/* ---- entries ------------------------------------------------------------------------------- */

static uint32_t key_hash(const unsigned char *key, size_t klen)
{
    return (uint32_t)siphash(sipkey, key, klen);
}

static pthread_spinlock_t *bucket_lock(struct stk_table *t, uint32_t b)
{
    return &t->shards[b % STK_SHARDS].lock; /* tables have at least STK_SHARDS buckets */
}

/* Under the bucket's lock. */
static struct stk_entry *find(struct stk_table *t, uint32_t b, uint32_t h, const unsigned char *key,
                              size_t klen)
{
    for (struct stk_entry *e = t->buckets[b]; e; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

static void touch(struct stk_entry *e, uint32_t now)
{
    atomic_store_explicit(&e->expire, now + e->t->cfg->expire_ms, memory_order_relaxed);
}

/* Eviction looks at buckets from a point chosen by the new key's (keyed, unpredictable) hash,
 * up to STK_EVICT_SCAN of them, until it has seen STK_EVICT_CANDIDATES unreferenced entries, and
 * takes out the least recently used of those: HAProxy evicts its least recently used entries,
 * and a client that floods a table with new keys must not lock everyone else out of it. */
#define STK_EVICT_CANDIDATES 8
#define STK_EVICT_SCAN       4096

/* The least recently used entry nobody tracks in a bucket's chain (a link to it, or NULL), its
 * age in *age and how many untracked entries the chain holds in *n. Under the bucket's lock. */
static struct stk_entry **oldest_untracked(struct stk_entry **head, uint32_t now, int32_t *age,
                                           uint32_t *n)
{
    struct stk_entry **best = NULL;
    for (struct stk_entry **pp = head; *pp; pp = &(*pp)->next) {
        if (atomic_load_explicit(&(*pp)->refs, memory_order_acquire) != 0)
            continue;
        (*n)++;
        /* the further its expiry lies behind (or the nearer it comes), the older the use */
        int32_t a = (int32_t)(now - atomic_load_explicit(&(*pp)->expire, memory_order_relaxed));
        if (!best || a > *age) {
            best = pp;
            *age = a;
        }
    }
    return best;
}

static bool evict_one(struct stk_table *t, uint32_t now, uint32_t start)
{
    uint32_t nb = t->mask + 1, limit = nb < STK_EVICT_SCAN ? nb : STK_EVICT_SCAN;
    uint32_t best_b = 0, seen = 0;
    int32_t best_age = 0;
    bool found = false;
    for (uint32_t i = 0; i < limit && seen < STK_EVICT_CANDIDATES; i++) {
        uint32_t b = (start + i) & t->mask;
        int32_t age;
        pthread_spin_lock(bucket_lock(t, b));
        bool any = oldest_untracked(&t->buckets[b], now, &age, &seen) != NULL;
        pthread_spin_unlock(bucket_lock(t, b));
        if (any && (!found || age > best_age)) {
            found = true;
            best_age = age;
            best_b = b;
        }
    }
    if (!found)
        return false;
    int32_t age;
    uint32_t n = 0;
    pthread_spin_lock(bucket_lock(t, best_b));
    struct stk_entry **vp = oldest_untracked(&t->buckets[best_b], now, &age, &n);
    struct stk_entry *victim = vp ? *vp : NULL;
    if (victim)
        *vp = victim->next;
    pthread_spin_unlock(bucket_lock(t, best_b));
    if (!victim)
        return false; /* tracked or taken meanwhile */
    struct stk_entry *head = atomic_load_explicit(&t->graveyard, memory_order_relaxed);
    do
        victim->next = head;
    while (!atomic_compare_exchange_weak_explicit(&t->graveyard, &head, victim,
                                                  memory_order_release, memory_order_relaxed));
    atomic_fetch_sub_explicit(&t->used, 1, memory_order_relaxed);
    return true;
}

struct stk_entry *stktable_track(struct stk_table *t, const unsigned char *key, size_t klen,
                                 uint32_t now)
{
    uint32_t h = key_hash(key, klen), b = h & t->mask;
    pthread_spinlock_t *lk = bucket_lock(t, b);
    struct stk_entry *fresh = NULL, *e;
    for (;;) {
        pthread_spin_lock(lk);
        e = find(t, b, h, key, klen);
        if (!e && fresh) {
            e = fresh;
            e->next = t->buckets[b];
            t->buckets[b] = e;
            fresh = NULL;
        }
        if (e) {
            /* under the lock: the sweep, which unlinks only unreferenced entries under it too,
               cannot take this one away now */
            atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
            touch(e, now);
        }
        pthread_spin_unlock(lk);
        if (e)
            break;
        /* A new key: allocate outside the lock, then look again (another worker may have added
         * it meanwhile). A full table makes room by evicting an old entry nobody tracks; when
         * every entry is tracked, the key is not. */
        uint32_t used = atomic_fetch_add_explicit(&t->used, 1, memory_order_relaxed);
        if (used >= t->cfg->size && !evict_one(t, now, h)) {
            atomic_fetch_sub_explicit(&t->used, 1, memory_order_relaxed);
            return NULL;
        }
        fresh = calloc(1, sizeof(*fresh) + klen);
        if (!fresh) {
            atomic_fetch_sub_explicit(&t->used, 1, memory_order_relaxed);
            return NULL;
        }
        fresh->t = t;
        fresh->hash = h;
        fresh->klen = (uint16_t)klen;
        memcpy(fresh->key, key, klen);
    }
    if (fresh) { /* lost the race to another worker's entry for the same key */
        atomic_fetch_sub_explicit(&t->used, 1, memory_order_relaxed);
        free(fresh);
    }
    stktable_event(e, STK_EV_TRACK, now);
    return e;
}

void stktable_untrack(struct stk_entry *e, uint32_t now)
{
    if (!e)
        return;
    atomic_fetch_sub_explicit(&e->cnt[STK_D_CONN_CUR], 1, memory_order_relaxed);
    touch(e, now);
    /* release: the sweep that sees no reference also sees the new expiry */
    atomic_fetch_sub_explicit(&e->refs, 1, memory_order_release);
}

static void count(struct stk_entry *e, enum stk_data cnt, enum stk_data rate, uint32_t now)
{
    const struct cfg_stick_table *c = e->t->cfg;
    if (c->store & (1u << cnt))
        atomic_fetch_add_explicit(&e->cnt[cnt], 1, memory_order_relaxed);
    if (c->store & (1u << rate))
        freq_add(&e->freq[rate - STK_D_NCOUNTERS], c->period_ms[rate], now);
}

void stktable_event(struct stk_entry *e, enum stk_event ev, uint32_t now)
{
    switch (ev) {
    case STK_EV_TRACK:
        atomic_fetch_add_explicit(&e->cnt[STK_D_CONN_CUR], 1, memory_order_relaxed);
        count(e, STK_D_CONN_CNT, STK_D_CONN_RATE, now);
        break;
    case STK_EV_HTTP_REQ:
        count(e, STK_D_HTTP_REQ_CNT, STK_D_HTTP_REQ_RATE, now);
        break;
    case STK_EV_HTTP_ERR:
        count(e, STK_D_HTTP_ERR_CNT, STK_D_HTTP_ERR_RATE, now);
        break;
    }
}

void stktable_event_all(struct stk_trackers *trk, enum stk_event ev, uint32_t now)
{
    for (unsigned i = 0; i < STK_TRACKERS; i++)
        if (trk->e[i])
            stktable_event(trk->e[i], ev, now);
}

void stktable_untrack_some(struct stk_trackers *trk, uint8_t which, uint32_t now)
{
    for (unsigned i = 0; i < STK_TRACKERS; i++) {
        if (!trk->e[i] || !(which & (1u << i)))
            continue;
        stktable_untrack(trk->e[i], now);
        trk->e[i] = NULL;
    }
    trk->req &= (uint8_t)~which;
}

bool stktable_read(const struct stk_entry *e, enum stk_data d, uint32_t now, uint64_t *out)
{
    const struct cfg_stick_table *c = e->t->cfg;
    if (!(c->store & (1u << d)))
        return false;
    if (d < STK_D_NCOUNTERS)
        *out = atomic_load_explicit(&e->cnt[d], memory_order_relaxed);
    else
        *out = freq_read(&e->freq[d - STK_D_NCOUNTERS], c->period_ms[d], now);
    return true;
}

bool stktable_lookup_read(struct stk_table *t, const unsigned char *key, size_t klen,
                          enum stk_data d, uint32_t now, uint64_t *out)
{
    if (!(t->cfg->store & (1u << d)))
        return false;
    uint32_t h = key_hash(key, klen), b = h & t->mask;
    pthread_spin_lock(bucket_lock(t, b));
    const struct stk_entry *e = find(t, b, h, key, klen);
    *out = 0;
    if (e)
        stktable_read(e, d, now, out);
    pthread_spin_unlock(bucket_lock(t, b));
    return true;
}

/* ---- expiry, runtime API ------------------------------------------------------------------- */

/* Walks visit the buckets of one shard at a time, STK_WALK_GROUP buckets per lock hold, so that
 * a sweep of a large table never keeps a worker waiting for long. */
#define STK_WALK_GROUP 256

/* Unlink the unreferenced entries that `drop` selects in buckets [from, to) of t (multiples of
 * STK_SHARDS); they are freed once no worker can still hold one (epoch). */
static size_t unlink_range(struct stk_table *t, uint32_t from, uint32_t to,
                           bool (*drop)(const struct stk_entry *, const void *), const void *arg)
{
    struct stk_entry *gone = NULL;
    size_t n = 0;
    const uint32_t group = STK_SHARDS * STK_WALK_GROUP; /* bucket indices one lock hold spans */
    for (uint32_t s = 0; s < STK_SHARDS; s++) {
        for (uint32_t g = from + s; g < to; g += group) {
            pthread_spin_lock(&t->shards[s].lock);
            for (uint32_t b = g; b < to && b < g + group; b += STK_SHARDS) {
                struct stk_entry **pp = &t->buckets[b];
                while (*pp) {
                    struct stk_entry *e = *pp;
                    if (atomic_load_explicit(&e->refs, memory_order_acquire) == 0 && drop(e, arg)) {
                        *pp = e->next;
                        e->next = gone;
                        gone = e;
                        n++;
                    } else {
                        pp = &e->next;
                    }
                }
            }
            pthread_spin_unlock(&t->shards[s].lock);
        }
    }
    if (gone) {
        atomic_fetch_sub_explicit(&t->used, (uint32_t)n, memory_order_relaxed);
        epoch_retire(gone, free_list);
    }
    return n;
}

static bool expired(const struct stk_entry *e, const void *arg)
{
    uint32_t now = *(const uint32_t *)arg;
    return time_reached(atomic_load_explicit(&e->expire, memory_order_relaxed), now);
}

static size_t unlink_where(struct stk_table *t,
                           bool (*drop)(const struct stk_entry *, const void *), const void *arg)
{
    return unlink_range(t, 0, t->mask + 1, drop, arg);
}

size_t stktable_sweep(uint32_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < ntables; i++) {
        struct stk_table *t = tables[i];
        struct stk_entry *evicted =
            atomic_exchange_explicit(&t->graveyard, NULL, memory_order_acquire);
        if (evicted)
            epoch_retire(evicted, free_list);
        uint32_t nb = t->mask + 1, from = t->sweep_pos;
        uint32_t to = nb - from > STK_SWEEP_BUCKETS ? from + STK_SWEEP_BUCKETS : nb;
        if (atomic_load_explicit(&t->used, memory_order_relaxed) != 0)
            n += unlink_range(t, from, to, expired, &now);
        t->sweep_pos = to == nb ? 0 : to;
    }
    return n;
}

struct key_match {
    unsigned char key[STK_KEY_MAX];
    size_t klen;
};

static bool same_key(const struct stk_entry *e, const void *arg)
{
    const struct key_match *k = arg;
    return k == NULL || (e->klen == k->klen && memcmp(e->key, k->key, k->klen) == 0);
}

size_t stktable_clear(struct stk_table *t, const char *key_text)
{
    if (!key_text)
        return unlink_where(t, same_key, NULL);
    struct key_match k;
    /* a string key as `show table` writes it: \xHH stands for a byte */
    char raw[STK_KEY_MAX];
    size_t n = 0;
    for (const char *c = key_text; *c && n < sizeof(raw); n++) {
        unsigned hi, lo;
        if (t->cfg->type == STK_KEY_STRING && c[0] == '\\' && c[1] == 'x' &&
            sscanf(c + 2, "%1x%1x", &hi, &lo) == 2) {
            raw[n] = (char)(hi << 4 | lo);
            c += 4;
        } else {
            raw[n] = *c++;
        }
    }
    k.klen = stktable_key_text(t, raw, n, k.key);
    if (k.klen == 0 && t->cfg->type != STK_KEY_STRING)
        return 0;
    return unlink_where(t, same_key, &k);
}

static const char *type_name(enum stk_key_type type)
{
    static const char *const names[] = {"ip", "ipv6", "integer", "string"};
    return names[type];
}

static const char *data_name(enum stk_data d)
{
    static const char *const names[STK_D_COUNT] = {
        "conn_cnt",  "conn_cur",      "http_req_cnt",  "http_err_cnt",
        "conn_rate", "http_req_rate", "http_err_rate",
    };
    return names[d];
}

void stktable_show_header(struct stk_table *t, stktable_out_fn out, void *arg)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "# table: %s, type: %s, size:%" PRIu32 ", used:%" PRIu32,
                     t->name, type_name(t->cfg->type), t->cfg->size,
                     atomic_load_explicit(&t->used, memory_order_relaxed));
    out(arg, line, (size_t)n);
}

static size_t key_text(const struct stk_table *t, const struct stk_entry *e, char *buf, size_t cap)
{
    switch (t->cfg->type) {
    case STK_KEY_IP:
    case STK_KEY_IPV6:
        if (!inet_ntop(e->klen == 4 ? AF_INET : AF_INET6, e->key, buf, (socklen_t)cap))
            return 0;
        return strlen(buf);
    case STK_KEY_INTEGER: {
        int64_t v;
        memcpy(&v, e->key, sizeof(v));
        return (size_t)snprintf(buf, cap, "%" PRId64, v);
    }
    case STK_KEY_STRING: {
        size_t o = 0;
        for (size_t i = 0; i < e->klen && o + 5 < cap; i++) {
            unsigned char c = e->key[i];
            if (c < 0x21 || c > 0x7e || c == '\\') /* keep one entry on one line */
                o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
            else
                buf[o++] = (char)c;
        }
        buf[o] = '\0';
        return o;
    }
    }
    return 0;
}

/* One entry's line, under its bucket's lock. */
static size_t entry_line(const struct stk_table *t, const struct stk_entry *e, uint32_t now,
                         char *line, size_t cap)
{
    char k[STK_KEY_MAX * 4 + 8];
    key_text(t, e, k, sizeof(k));
    uint32_t exp = atomic_load_explicit(&e->expire, memory_order_relaxed);
    int n = snprintf(line, cap, "%p: key=%s use=%" PRIu32 " exp=%" PRIu32, (const void *)e, k,
                     atomic_load_explicit(&e->refs, memory_order_relaxed),
                     time_reached(exp, now) ? 0 : exp - now);
    static const enum stk_data order[STK_D_COUNT] = {
        /* HAProxy's order, so that scripts reading `show table` find the same lines */
        STK_D_CONN_CNT,      STK_D_CONN_RATE,    STK_D_CONN_CUR,      STK_D_HTTP_REQ_CNT,
        STK_D_HTTP_REQ_RATE, STK_D_HTTP_ERR_CNT, STK_D_HTTP_ERR_RATE,
    };
    for (unsigned i = 0; i < STK_D_COUNT && n > 0 && (size_t)n < cap; i++) {
        enum stk_data d = order[i];
        uint64_t v;
        if (!stktable_read(e, d, now, &v))
            continue;
        if (d < STK_D_NCOUNTERS)
            n += snprintf(line + n, cap - (size_t)n, " %s=%" PRIu64, data_name(d), v);
        else
            n += snprintf(line + n, cap - (size_t)n, " %s(%" PRIu32 ")=%" PRIu64, data_name(d),
                          t->cfg->period_ms[d], v);
    }
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t stktable_show(struct stk_table *t, uint32_t now, stktable_out_fn out, void *arg)
{
    /* Lines are written out after the lock is released (the output may block), so a group's
     * lines are formatted into one buffer first: the caller is no epoch reader and may not touch
     * an entry outside the lock. */
    size_t lines = 0, cap = 0;
    char *buf = NULL;
    uint32_t per_shard = (t->mask + 1) / STK_SHARDS;
    for (uint32_t s = 0; s < STK_SHARDS; s++) {
        for (uint32_t g = 0; g < per_shard; g += STK_WALK_GROUP) {
            size_t len = 0;
            pthread_spin_lock(&t->shards[s].lock);
            for (uint32_t i = g; i < per_shard && i < g + STK_WALK_GROUP; i++) {
                for (const struct stk_entry *e = t->buckets[i * STK_SHARDS + s]; e; e = e->next) {
                    if (cap - len < STK_KEY_MAX * 4 + 512) {
                        size_t ncap = cap ? cap * 2 : 64 * 1024;
                        char *nb = realloc(buf, ncap);
                        if (!nb)
                            break; /* show what fits */
                        buf = nb;
                        cap = ncap;
                    }
                    len += entry_line(t, e, now, buf + len, cap - len) + 1;
                    buf[len - 1] = '\n';
                }
            }
            pthread_spin_unlock(&t->shards[s].lock);
            for (size_t o = 0; o < len;) {
                char *nl = memchr(buf + o, '\n', len - o);
                out(arg, buf + o, (size_t)(nl - (buf + o)));
                o = (size_t)(nl - buf) + 1;
                lines++;
            }
        }
    }
    free(buf);
    return lines;
}
