/* Map lookups for the map converters; see map.h and struct cfg_map for the tables' layout. */
#include "net/http/map.h"

#include <netinet/in.h>
#include <string.h>

#include "net/http/acl.h"

/* The ACL match method of the kinds searched in file order. */
static const enum acl_match linear[] = {
    [CFG_MAP_END] = ACL_M_END, [CFG_MAP_SUB] = ACL_M_SUB, [CFG_MAP_DIR] = ACL_M_DIR,
    [CFG_MAP_DOM] = ACL_M_DOM, [CFG_MAP_REG] = ACL_M_REG,
};

/* The entry of run r whose key is s[0..n), or NULL (keys sorted by cfg_map_keycmp). */
static const struct cfg_map_entry *find_str(const struct cfg_map *m, const struct cfg_map_run *r,
                                            const char *s, size_t n)
{
    size_t lo = r->start, hi = r->start + r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct cfg_map_entry *e = &m->entries[mid];
        int c = cfg_map_keycmp(s, n, e->key.str, e->key.len);
        if (c == 0)
            return e;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The entry of run r (one family and prefix length) holding address a (alen bytes), or NULL. */
static const struct cfg_map_entry *find_net(const struct cfg_map *m, const struct cfg_map_run *r,
                                            const uint8_t *a, size_t alen)
{
    uint8_t k[16];
    int prefix = m->entries[r->start].key.net.prefix;
    for (size_t i = 0; i < alen; i++) {
        int bits = prefix - (int)i * 8;
        k[i] = a[i] & (bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits)));
    }
    size_t lo = r->start, hi = r->start + r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t kl;
        int c = memcmp(k, cfg_net_bytes(&m->entries[mid].key.net, &kl), alen);
        if (c == 0)
            return &m->entries[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The longest network of `family` holding address a (runs are longest prefix first). */
static const struct cfg_map_entry *longest_net(const struct cfg_map *m, int family,
                                               const uint8_t *a)
{
    for (size_t i = 0; i < m->nruns; i++) {
        const struct cfg_map_run *r = &m->runs[i];
        if (m->entries[r->start].key.net.addr.ss_family != family)
            continue;
        const struct cfg_map_entry *e = find_net(m, r, a, family == AF_INET ? 4 : 16);
        if (e)
            return e;
    }
    return NULL;
}

/* map_ip: an IPv4 address also matches IPv6 networks through its mapped form (::ffff:a.b.c.d),
 * and a mapped IPv6 address IPv4 networks, as HAProxy and the src ACL do; the address's own
 * family is searched first. */
static const struct cfg_map_entry *find_ip(const struct cfg_map *m, const char *s, size_t n)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct sockaddr_storage ss;
    if (!acl_str_to_addr(s, n, &ss))
        return NULL;
    uint8_t v6[16];
    if (ss.ss_family == AF_INET) {
        const uint8_t *v4 = (const uint8_t *)&((const struct sockaddr_in *)&ss)->sin_addr;
        const struct cfg_map_entry *e = longest_net(m, AF_INET, v4);
        if (e)
            return e;
        memcpy(v6, mapped, 12);
        memcpy(v6 + 12, v4, 4);
        return longest_net(m, AF_INET6, v6);
    }
    memcpy(v6, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    const struct cfg_map_entry *e = longest_net(m, AF_INET6, v6);
    if (!e && memcmp(v6, mapped, 12) == 0)
        e = longest_net(m, AF_INET, v6 + 12);
    return e;
}

bool map_lookup(const struct cfg_map *m, const char *s, size_t n, void *scratch, const char **v,
                size_t *vl)
{
    const struct cfg_map_entry *e = NULL;
    switch (m->kind) {
    case CFG_MAP_STR:
        e = m->nruns ? find_str(m, &m->runs[0], s, n) : NULL;
        break;
    case CFG_MAP_BEG: /* runs hold one key length each, the longest first */
        for (size_t i = 0; i < m->nruns && !e; i++) {
            size_t kl = m->entries[m->runs[i].start].key.len;
            if (kl <= n)
                e = find_str(m, &m->runs[i], s, kl);
        }
        break;
    case CFG_MAP_IP:
        e = find_ip(m, s, n);
        break;
    default: /* in file order, the first match wins */
        for (size_t i = 0; i < m->nentries && !e; i++)
            if (acl_value_match(linear[m->kind], false, &m->entries[i].key, s, n, scratch))
                e = &m->entries[i];
        break;
    }
    if (!e)
        return false;
    *v = e->value;
    *vl = e->value_len;
    return true;
}
