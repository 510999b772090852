/* Asynchronous name resolution for workers: c-ares in the worker's loop, a per-worker cache.
 *
 * Each worker owns one resolver: one c-ares channel whose sockets c-ares announces through its
 * socket-state callback and which sit level-triggered in the worker's poller, and one timer in the
 * worker's wheel that follows ares_timeout(). Workload: a forward proxy resolving the origins its
 * clients name, mostly the same few names again and again, so the cache answers nearly everything
 * and the cost that matters is the hit path (a hash lookup, no allocation). A miss creates a
 * pending cache entry that later callers for the same name join, so a burst of requests for one
 * origin sends one A+AAAA lookup. Answers are kept for min(TTL, hold valid) (hold valid when the
 * TTL is 0), NXDOMAIN/NODATA for hold nx; timeouts and failures are not cached.
 *
 * c-ares gets tries = 1 and the resolver repeats a timed-out lookup itself, up to resolve_retries
 * rounds: c-ares 1.18 doubles the per-try timeout at every round, which would make a dead server
 * cost 1+2+4+... times timeout resolve instead of the configured retries x timeout resolve.
 * /etc/hosts is read once when the resolver is made (c-ares's "f" lookup would fopen it for every
 * query, i.e. file I/O on a worker), so c-ares only does DNS ("b"). */
#include "net/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/timer.h"
#include "core/worker.h"

#define DNS_BUCKETS     4096u /* power of two, about DNS_CACHE_MAX */
#define DNS_NAME_MAX    254u  /* 253 characters plus a trailing dot */
#define DNS_HOSTS_PATH  "/etc/hosts"
#define DEF_TIMEOUT_MS  1000u
#define DEF_RETRIES     3
#define DEF_HOLD_VALID  10000u
#define DEF_HOLD_NX     30000u
#define HOSTS_MAX_BYTES (64u << 20) /* refuse to copy absurd hosts files into every worker */

enum dns_ent_state { ENT_PENDING = 0, ENT_OK, ENT_NX };

/* Addresses without a port: the first n4 hold IPv4 (4 bytes used), the next n6 IPv6. */
struct dns_ip {
    uint8_t n4, n6;
    uint8_t ip[DNS_MAX_ADDRS][16];
};

struct dns_entry {
    struct dns_entry *hnext;         /* borrowed: hash chain */
    struct dns_entry *older, *newer; /* borrowed: age list, cached entries only */
    struct dns_resolver *r;          /* borrowed */
    struct dns_query *waiters;       /* owned: queries waiting on the lookup (ENT_PENDING) */
    uint64_t expire;                 /* coarse ms (cached entries) */
    uint32_t hash;
    uint8_t state;    /* enum dns_ent_state */
    uint8_t attempts; /* rounds sent for the current lookup */
    struct dns_ip ip;
    uint16_t len;
    char name[]; /* lowercased, NUL-terminated */
};

struct dns_query {
    struct dns_query *next, **pprev; /* borrowed: the entry's waiter list */
    dns_done_fn fn;
    void *arg;
    uint16_t port;
};

/* A c-ares socket in the worker's poller. Never freed before the resolver: c-ares may close a
 * socket while an event for it waits later in the same batch, so a closed one only gets fd -1
 * (its stale events are ignored) and is reused for the next socket. */
struct dns_sock {
    struct loop_handler h;
    struct dns_resolver *r; /* borrowed */
    struct dns_sock *next;  /* owned: the rest of the resolver's list */
    unsigned events;        /* LOOP_IN | LOOP_OUT registered */
};

struct dns_hosts_entry {
    char *name; /* owned, lowercased */
    struct dns_ip ip;
};

struct dns_resolver {
    struct worker *w; /* borrowed */
    ares_channel ch;  /* owned */
    struct timer timer;
    struct dns_sock *socks; /* owned list */
    struct dns_entry *bucket[DNS_BUCKETS];
    struct dns_entry *oldest, *newest; /* age list of cached entries */
    unsigned ncached, npending;
    uint32_t hold_valid, hold_nx; /* ms */
    int tries;
    bool closing;
    /* The query of the dns_resolve call in progress, to learn whether fn already ran. */
    struct dns_query *sync_q;
    bool sync_done;
    struct dns_hosts_entry *hosts; /* owned, sorted by name */
    size_t nhosts;
    struct dns_stats st;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

/* ares_library_init keeps an unlocked counter: run it once for every worker. */
static void lib_init(void)
{
    lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

/* ---- addresses ---- */

static void addrs_fill(struct dns_addrs *a, const struct dns_ip *ip, uint16_t port)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ip->n4; i++, n++) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&a->addr[n];
        memset(sin, 0, sizeof(*sin));
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, ip->ip[i], 4);
        a->len[n] = sizeof(*sin);
    }
    for (unsigned i = 0; i < ip->n6; i++, n++) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->addr[n];
        memset(sin6, 0, sizeof(*sin6));
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, ip->ip[ip->n4 + i], 16);
        a->len[n] = sizeof(*sin6);
    }
    a->n = n;
}

static void addrs_set_port(struct dns_addrs *a, uint16_t port)
{
    for (unsigned i = 0; i < a->n; i++) {
        if (a->addr[i].ss_family == AF_INET)
            ((struct sockaddr_in *)&a->addr[i])->sin_port = htons(port);
        else
            ((struct sockaddr_in6 *)&a->addr[i])->sin6_port = htons(port);
    }
}

static bool ip_has(const uint8_t (*list)[16], unsigned n, const void *addr, size_t alen)
{
    for (unsigned i = 0; i < n; i++)
        if (memcmp(list[i], addr, alen) == 0)
            return true;
    return false;
}

/* Merge separate IPv4 and IPv6 lists: IPv4 first, but keep room for up to two IPv6 addresses
 * so that a dual-stack name still has a fallback family when it has many A records. */
static void ip_merge(struct dns_ip *ip, const uint8_t (*v4)[16], unsigned c4,
                     const uint8_t (*v6)[16], unsigned c6)
{
    unsigned keep6 = c6 < 2 ? c6 : 2;
    unsigned n4 = c4 < DNS_MAX_ADDRS - keep6 ? c4 : DNS_MAX_ADDRS - keep6;
    unsigned n6 = c6 < DNS_MAX_ADDRS - n4 ? c6 : DNS_MAX_ADDRS - n4;
    memcpy(ip->ip, v4, n4 * sizeof(ip->ip[0]));
    memcpy(ip->ip[n4], v6, n6 * sizeof(ip->ip[0]));
    ip->n4 = (uint8_t)n4;
    ip->n6 = (uint8_t)n6;
}

/* Addresses and the smallest TTL (seconds) of a c-ares answer. */
static void ip_from_ai(struct dns_ip *ip, const struct ares_addrinfo *ai, uint32_t *ttl)
{
    uint8_t v4[DNS_MAX_ADDRS][16], v6[DNS_MAX_ADDRS][16];
    unsigned c4 = 0, c6 = 0;
    long min = -1;
    for (const struct ares_addrinfo_node *n = ai ? ai->nodes : NULL; n; n = n->ai_next) {
        if (n->ai_family == AF_INET && c4 < DNS_MAX_ADDRS) {
            const struct in_addr *a = &((const struct sockaddr_in *)n->ai_addr)->sin_addr;
            if (ip_has((const uint8_t(*)[16])v4, c4, a, 4))
                continue;
            memcpy(v4[c4++], a, 4);
        } else if (n->ai_family == AF_INET6 && c6 < DNS_MAX_ADDRS) {
            const struct in6_addr *a = &((const struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
            if (ip_has((const uint8_t(*)[16])v6, c6, a, 16))
                continue;
            memcpy(v6[c6++], a, 16);
        } else {
            continue;
        }
        long t = n->ai_ttl > 0 ? n->ai_ttl : 0;
        if (min < 0 || t < min)
            min = t;
    }
    for (const struct ares_addrinfo_cname *c = ai ? ai->cnames : NULL; c; c = c->next) {
        long t = c->ttl > 0 ? c->ttl : 0;
        if (min < 0 || t < min)
            min = t;
    }
    ip_merge(ip, (const uint8_t(*)[16])v4, c4, (const uint8_t(*)[16])v6, c6);
    *ttl = min < 0 ? 0 : (uint32_t)min;
}

/* An IPv4 literal or an IPv6 literal (bracketed or not). */
static bool parse_literal(const char *host, size_t len, struct dns_ip *ip)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, host, len);
    buf[len] = '\0';
    ip->n4 = ip->n6 = 0;
    if (inet_pton(AF_INET, buf, ip->ip[0]) == 1) {
        ip->n4 = 1;
        return true;
    }
    if (memchr(buf, ':', len) && inet_pton(AF_INET6, buf, ip->ip[0]) == 1) {
        ip->n6 = 1;
        return true;
    }
    return false;
}

/* ---- /etc/hosts ---- */

struct hosts_line {
    char *name; /* owned until moved into an entry */
    size_t seq; /* file order, to keep it among addresses of one name */
    int family;
    uint8_t addr[16];
};

static int hosts_line_cmp(const void *a, const void *b)
{
    const struct hosts_line *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int hosts_entry_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct dns_hosts_entry *)elem)->name);
}

/* Read hosts file `path` into r->hosts. A missing or unreadable file gives an empty table. */
static int hosts_load(struct dns_resolver *r, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    struct hosts_line *lines = NULL;
    size_t n = 0, cap = 0, total = 0;
    char buf[1024];
    int rc = 0;
    while (fgets(buf, sizeof(buf), f)) {
        total += strlen(buf);
        if (total > HOSTS_MAX_BYTES)
            break;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *tok = strtok_r(buf, " \t\r\n", &save);
        if (!tok)
            continue;
        int family;
        uint8_t addr[16];
        if (inet_pton(AF_INET, tok, addr) == 1)
            family = AF_INET;
        else if (inet_pton(AF_INET6, tok, addr) == 1)
            family = AF_INET6;
        else
            continue; /* malformed, or an IPv6 address with a zone */
        while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
            size_t len = strlen(tok);
            if (len > DNS_NAME_MAX)
                continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 32;
                struct hosts_line *nl = realloc(lines, ncap * sizeof(*nl));
                if (!nl) {
                    rc = -ENOMEM;
                    goto out;
                }
                lines = nl;
                cap = ncap;
            }
            char *name = malloc(len + 1);
            if (!name) {
                rc = -ENOMEM;
                goto out;
            }
            for (size_t i = 0; i <= len; i++)
                name[i] = lower(tok[i]);
            lines[n] = (struct hosts_line){.name = name, .seq = n, .family = family};
            memcpy(lines[n].addr, addr, 16);
            n++;
        }
    }
    if (n) {
        qsort(lines, n, sizeof(*lines), hosts_line_cmp);
        r->hosts = calloc(n, sizeof(*r->hosts));
        if (!r->hosts) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i;
            uint8_t v4[DNS_MAX_ADDRS][16], v6[DNS_MAX_ADDRS][16];
            unsigned c4 = 0, c6 = 0;
            for (; j < n && strcmp(lines[j].name, lines[i].name) == 0; j++) {
                if (lines[j].family == AF_INET && c4 < DNS_MAX_ADDRS &&
                    !ip_has((const uint8_t(*)[16])v4, c4, lines[j].addr, 4))
                    memcpy(v4[c4++], lines[j].addr, 16);
                else if (lines[j].family == AF_INET6 && c6 < DNS_MAX_ADDRS &&
                         !ip_has((const uint8_t(*)[16])v6, c6, lines[j].addr, 16))
                    memcpy(v6[c6++], lines[j].addr, 16);
            }
            struct dns_hosts_entry *he = &r->hosts[r->nhosts++];
            he->name = lines[i].name;
            lines[i].name = NULL;
            ip_merge(&he->ip, (const uint8_t(*)[16])v4, c4, (const uint8_t(*)[16])v6, c6);
            i = j;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        free(lines[i].name);
    free(lines);
    fclose(f);
    return rc;
}

static const struct dns_ip *hosts_find(const struct dns_resolver *r, const char *name)
{
    static const struct dns_ip localhost = {
        .n4 = 1, .n6 = 1, .ip = {{127, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
    if (r->nhosts) {
        const struct dns_hosts_entry *he =
            bsearch(name, r->hosts, r->nhosts, sizeof(*r->hosts), hosts_entry_cmp);
        if (he)
            return &he->ip;
    }
    /* RFC 6761 6.3: localhost is the loopback, and is never asked of a DNS server. */
    if (strcmp(name, "localhost") == 0)
        return &localhost;
    return NULL;
}

/* ---- the cache ---- */

static struct dns_entry *entry_find(struct dns_resolver *r, const char *name, size_t len,
                                    uint32_t h)
{
    for (struct dns_entry *e = r->bucket[h & (DNS_BUCKETS - 1)]; e; e = e->hnext)
        if (e->hash == h && e->len == len && memcmp(e->name, name, len) == 0)
            return e;
    return NULL;
}

static void entry_unhash(struct dns_resolver *r, struct dns_entry *e)
{
    struct dns_entry **pp = &r->bucket[e->hash & (DNS_BUCKETS - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
}

static void age_unlink(struct dns_resolver *r, struct dns_entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        r->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        r->newest = e->older;
    e->older = e->newer = NULL;
    r->ncached--;
}

static void age_append(struct dns_resolver *r, struct dns_entry *e)
{
    e->newer = NULL;
    e->older = r->newest;
    if (r->newest)
        r->newest->newer = e;
    else
        r->oldest = e;
    r->newest = e;
    r->ncached++;
}

static void waiters_free(struct dns_query *q)
{
    while (q) {
        struct dns_query *next = q->next;
        free(q);
        q = next;
    }
}

/* Drop a cached entry (eviction). */
static void entry_evict(struct dns_resolver *r, struct dns_entry *e)
{
    age_unlink(r, e);
    entry_unhash(r, e);
    free(e);
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai);
static void timer_rearm(struct dns_resolver *r);

/* Start (or repeat) the lookup of pending entry e. Its answer may come before this returns. */
static void entry_send(struct dns_resolver *r, struct dns_entry *e)
{
    struct ares_addrinfo_hints hints = {.ai_flags = ARES_AI_NOSORT, .ai_family = AF_UNSPEC};
    e->attempts++;
    ares_getaddrinfo(r->ch, e->name, NULL, &hints, on_answer, e);
    /* Every try has the same timeout, so a new one never expires before the armed timer. */
    if (!timer_is_armed(&r->timer))
        timer_rearm(r);
}

static enum dns_status map_status(int status)
{
    switch (status) {
    case ARES_SUCCESS:
        return DNS_OK;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
        return DNS_E_NXDOMAIN;
    case ARES_ETIMEOUT:
        return DNS_E_TIMEOUT;
    default:
        return DNS_E_FAIL;
    }
}

/* c-ares is done with e's lookup: cache the answer (or drop e) and call every waiter. */
static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    (void)timeouts;
    struct dns_entry *e = arg;
    struct dns_resolver *r = e->r;
    if (r->closing || status == ARES_EDESTRUCTION) {
        /* dns_resolver_free frees the entries after ares_destroy */
        if (ai)
            ares_freeaddrinfo(ai);
        return;
    }
    if (status == ARES_ETIMEOUT && e->attempts < r->tries) {
        if (ai)
            ares_freeaddrinfo(ai);
        r->st.retries++;
        entry_send(r, e);
        return;
    }
    enum dns_status st = map_status(status);
    uint32_t ttl = 0;
    if (st == DNS_OK) {
        ip_from_ai(&e->ip, ai, &ttl);
        if (e->ip.n4 + e->ip.n6 == 0)
            st = DNS_E_NXDOMAIN;
    }
    if (ai)
        ares_freeaddrinfo(ai);

    struct dns_addrs a;
    struct dns_query *q = e->waiters;
    if (q)
        q->pprev = &q;
    e->waiters = NULL;
    r->npending--;
    bool keep = st == DNS_OK || st == DNS_E_NXDOMAIN;
    if (keep) {
        uint64_t hold;
        if (st == DNS_OK) {
            hold = r->hold_valid;
            if (ttl > 0 && (uint64_t)ttl * 1000u < hold)
                hold = (uint64_t)ttl * 1000u;
            addrs_fill(&a, &e->ip, q ? q->port : 0);
        } else {
            hold = r->hold_nx;
        }
        e->state = st == DNS_OK ? ENT_OK : ENT_NX;
        e->expire = r->w->now + hold;
        age_append(r, e);
        r->st.cached++;
        while (r->ncached > DNS_CACHE_MAX)
            entry_evict(r, r->oldest);
    } else {
        entry_unhash(r, e);
        free(e);
    }
    e = NULL; /* a callback below may evict it */

    /* Callbacks may cancel other waiters of this list: take them one at a time. */
    while (q) {
        struct dns_query *cur = q;
        q = cur->next;
        if (q)
            q->pprev = &q;
        if (cur == r->sync_q)
            r->sync_done = true;
        if (st == DNS_OK) {
            addrs_set_port(&a, cur->port);
            cur->fn(cur->arg, DNS_OK, &a);
        } else {
            cur->fn(cur->arg, st, NULL);
        }
        free(cur);
    }
}

/* ---- c-ares sockets and timer ---- */

static void timer_rearm(struct dns_resolver *r)
{
    struct timeval tv;
    if (!ares_timeout(r->ch, NULL, &tv)) {
        timer_disarm(&r->w->tw, &r->timer);
        return;
    }
    uint64_t ms = (uint64_t)tv.tv_sec * 1000u + ((uint64_t)tv.tv_usec + 999u) / 1000u;
    /* w->now is the coarse clock, a few ms behind: early firing only re-arms. */
    timer_arm(&r->w->tw, &r->timer, r->w->now + (ms ? ms : 1));
}

static void on_timer(struct timer *t)
{
    struct dns_resolver *r = container_of(t, struct dns_resolver, timer);
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    timer_rearm(r);
}

static void on_sock(struct loop_handler *h, unsigned events)
{
    if (h->fd < 0)
        return; /* closed by c-ares earlier in this batch */
    struct dns_sock *s = container_of(h, struct dns_sock, h);
    struct dns_resolver *r = s->r;
    /* Errors and hang-ups are read so that c-ares sees them and moves to the next server. */
    ares_socket_t rfd = (events & (LOOP_IN | LOOP_HUP | LOOP_ERR)) ? h->fd : ARES_SOCKET_BAD;
    ares_socket_t wfd = (events & LOOP_OUT) ? h->fd : ARES_SOCKET_BAD;
    ares_process_fd(r->ch, rfd, wfd);
    timer_rearm(r);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_resolver *r = data;
    unsigned ev = (readable ? LOOP_IN : 0u) | (writable ? LOOP_OUT : 0u);
    struct dns_sock *s, *spare = NULL;
    for (s = r->socks; s; s = s->next) {
        if (s->h.fd == fd)
            break;
        if (s->h.fd < 0 && !spare)
            spare = s;
    }
    if (!ev) {
        if (s) {
            loop_del(r->w->loop, fd); /* c-ares closes it right after */
            s->h.fd = -1;
            s->events = 0;
        }
        return;
    }
    if (s) {
        if (s->events != ev && loop_mod_level(r->w->loop, &s->h, ev) == 0)
            s->events = ev;
        return;
    }
    if (!(s = spare)) {
        /* No memory: the socket is not watched and its queries time out. */
        if (!(s = calloc(1, sizeof(*s))))
            return;
        s->r = r;
        s->next = r->socks;
        r->socks = s;
    }
    s->h.fd = fd;
    s->h.fn = on_sock;
    if (loop_add_level(r->w->loop, &s->h, ev) < 0) {
        s->h.fd = -1;
        return;
    }
    s->events = ev;
}

/* ---- servers ---- */

static int set_servers(struct dns_resolver *r, const struct cfg_resolvers *cfg)
{
    struct ares_addr_port_node nodes[CFG_MAX_NAMESERVERS];
    struct ares_addr_port_node *sys = NULL;
    unsigned n = 0;
    for (unsigned i = 0; i < cfg->nns && i < CFG_MAX_NAMESERVERS; i++) {
        struct ares_addr_port_node *nd = &nodes[n];
        memset(nd, 0, sizeof(*nd));
        if (cfg->ns[i].ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg->ns[i];
            nd->family = AF_INET;
            memcpy(&nd->addr.addr4, &sin->sin_addr, 4);
            nd->udp_port = nd->tcp_port = ntohs(sin->sin_port);
        } else if (cfg->ns[i].ss_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&cfg->ns[i];
            nd->family = AF_INET6;
            memcpy(&nd->addr.addr6, &sin6->sin6_addr, 16);
            nd->udp_port = nd->tcp_port = ntohs(sin6->sin6_port);
        } else {
            continue;
        }
        if (n)
            nodes[n - 1].next = nd;
        n++;
    }
    if (n == 0)
        return 0;
    /* parse-resolv-conf: the configured servers first, then those of /etc/resolv.conf. */
    if (cfg->parse_resolv_conf && ares_get_servers_ports(r->ch, &sys) == ARES_SUCCESS)
        nodes[n - 1].next = sys;
    int rc = ares_set_servers_ports(r->ch, nodes);
    if (sys)
        ares_free_data(sys);
    return rc == ARES_SUCCESS ? 0 : -ENOMEM;
}

/* ---- API ---- */

struct dns_resolver *dns_resolver_new(struct worker *w, const struct cfg_resolvers *cfg)
{
    pthread_once(&lib_once, lib_init);
    if (lib_rc != ARES_SUCCESS) {
        errno = ENOMEM;
        return NULL;
    }
    struct dns_resolver *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->w = w;
    timer_init(&r->timer, on_timer);
    uint32_t timeout = cfg && cfg->timeout_resolve ? cfg->timeout_resolve : DEF_TIMEOUT_MS;
    r->tries = cfg && cfg->resolve_retries > 0 ? cfg->resolve_retries : DEF_RETRIES;
    if (r->tries > 255)
        r->tries = 255;
    r->hold_valid = cfg && cfg->hold_valid ? cfg->hold_valid : DEF_HOLD_VALID;
    r->hold_nx = cfg && cfg->hold_nx ? cfg->hold_nx : DEF_HOLD_NX;

    struct ares_options o;
    memset(&o, 0, sizeof(o));
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
    o.sock_state_cb = on_sock_state;
    o.sock_state_cb_data = r;
    o.timeout = (int)(timeout > 3600000u ? 3600000u : timeout);
    o.tries = 1;
    o.lookups = (char *)"b";
    bool own = cfg && cfg->nns > 0;
    if (own && !cfg->parse_resolv_conf) {
        /* Like HAProxy's resolvers: names are asked as given, no search list. */
        mask |= ARES_OPT_DOMAINS | ARES_OPT_NDOTS;
        o.ndomains = 0;
        o.domains = NULL;
        o.ndots = 1;
    }
    int rc = ares_init_options(&r->ch, &o, mask);
    if (rc != ARES_SUCCESS) {
        free(r);
        errno = rc == ARES_ENOMEM ? ENOMEM : EINVAL;
        return NULL;
    }
    int err = own ? set_servers(r, cfg) : 0;
    if (err == 0)
        err = hosts_load(r, DNS_HOSTS_PATH);
    if (err < 0) {
        dns_resolver_free(r);
        errno = -err;
        return NULL;
    }
    return r;
}

void dns_resolver_free(struct dns_resolver *r)
{
    if (!r)
        return;
    r->closing = true;
    ares_destroy(r->ch); /* on_answer ignores EDESTRUCTION; sockets are unregistered */
    timer_disarm(&r->w->tw, &r->timer);
    for (unsigned i = 0; i < DNS_BUCKETS; i++) {
        struct dns_entry *e = r->bucket[i];
        while (e) {
            struct dns_entry *next = e->hnext;
            waiters_free(e->waiters);
            free(e);
            e = next;
        }
    }
    while (r->socks) {
        struct dns_sock *s = r->socks;
        r->socks = s->next;
        if (s->h.fd >= 0)
            loop_del(r->w->loop, s->h.fd);
        free(s);
    }
    for (size_t i = 0; i < r->nhosts; i++)
        free(r->hosts[i].name);
    free(r->hosts);
    free(r);
}

/* A host name worth asking: letters, digits, '-', '_' and dots (IDNs arrive as punycode),
 * labels of 1..63 characters, at most 253 characters plus a trailing dot. */
static bool name_ok(const char *host, size_t len)
{
    if (len == 0 || len > DNS_NAME_MAX || (len == DNS_NAME_MAX && host[len - 1] != '.'))
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

struct dns_query *dns_resolve(struct dns_resolver *r, const char *host, size_t len, uint16_t port,
                              dns_done_fn fn, void *arg)
{
    struct dns_addrs a;
    struct dns_ip lit;
    if (parse_literal(host, len, &lit)) {
        addrs_fill(&a, &lit, port);
        fn(arg, DNS_OK, &a);
        return NULL;
    }
    if (!name_ok(host, len)) {
        fn(arg, DNS_E_FAIL, NULL);
        return NULL;
    }
    char name[DNS_NAME_MAX + 1];
    for (size_t i = 0; i < len; i++)
        name[i] = lower(host[i]);
    name[len] = '\0';
    const struct dns_ip *hip = hosts_find(r, name);
    if (hip) {
        addrs_fill(&a, hip, port);
        fn(arg, DNS_OK, &a);
        return NULL;
    }

    uint32_t h = name_hash(name, len);
    struct dns_entry *e = entry_find(r, name, len, h);
    if (e && e->state != ENT_PENDING && e->expire > r->w->now) {
        r->st.hits++;
        if (e->state == ENT_OK) {
            addrs_fill(&a, &e->ip, port);
            fn(arg, DNS_OK, &a);
        } else {
            fn(arg, DNS_E_NXDOMAIN, NULL);
        }
        return NULL;
    }
    struct dns_query *q = malloc(sizeof(*q));
    if (!q) {
        fn(arg, DNS_E_FAIL, NULL);
        return NULL;
    }
    q->fn = fn;
    q->arg = arg;
    q->port = port;
    r->st.misses++;
    if (e && e->state == ENT_PENDING) {
        r->st.coalesced++;
        q->next = e->waiters;
        if (q->next)
            q->next->pprev = &q->next;
        q->pprev = &e->waiters;
        e->waiters = q;
        return q;
    }
    if (e) {
        age_unlink(r, e); /* expired: look it up again */
    } else {
        e = malloc(sizeof(*e) + len + 1);
        if (!e) {
            free(q);
            fn(arg, DNS_E_FAIL, NULL);
            return NULL;
        }
        memset(e, 0, sizeof(*e));
        e->r = r;
        e->hash = h;
        e->len = (uint16_t)len;
        memcpy(e->name, name, len + 1);
        e->hnext = r->bucket[h & (DNS_BUCKETS - 1)];
        r->bucket[h & (DNS_BUCKETS - 1)] = e;
    }
    e->state = ENT_PENDING;
    e->attempts = 0;
    q->next = NULL;
    q->pprev = &e->waiters;
    e->waiters = q;
    r->npending++;
    r->st.sent++;

    /* c-ares may answer at once (no memory, a bad name): then fn has run and q is gone. */
    struct dns_query *save_q = r->sync_q;
    bool save_done = r->sync_done;
    r->sync_q = q;
    r->sync_done = false;
    entry_send(r, e);
    bool done = r->sync_done;
    r->sync_q = save_q;
    r->sync_done = save_done;
    return done ? NULL : q;
}

void dns_cancel(struct dns_query *q)
{
    if (!q)
        return;
    *q->pprev = q->next;
    if (q->next)
        q->next->pprev = q->pprev;
    free(q);
}

void dns_get_stats(const struct dns_resolver *r, struct dns_stats *out)
{
    *out = r->st;
    out->inflight = r->npending;
    out->entries = r->ncached;
}
