/* Loads HAProxy map files for the map converters (`%[req.hdr(host),lower,map(hosts.map,www)]`)
 * into tables that net/http/map.c searches without allocating.
 *
 * The file format is HAProxy's: one entry per line; leading and trailing blanks are ignored, and
 * so are blank lines and lines starting with '#'; the key is the first word, the value the rest
 * of the line after the blanks that follow it (it may hold blanks). Each (file, kind) is read
 * once at load time, whatever the number of converters naming it; keys are prepared as ACL values
 * are (config__acl_add_value: regexes compiled, networks masked), then sorted for the kinds that
 * search by key (see struct cfg_map). Real configurations hold maps of thousands of host names
 * or networks, looked up on every request. */
#include "config/config_internal.h"

#include <stdlib.h>
#include <string.h>

/* How acl.c prepares the keys of each kind. */
static const enum acl_match kind_match[] = {
    [CFG_MAP_STR] = ACL_M_STR, [CFG_MAP_BEG] = ACL_M_BEG, [CFG_MAP_END] = ACL_M_END,
    [CFG_MAP_SUB] = ACL_M_SUB, [CFG_MAP_DIR] = ACL_M_DIR, [CFG_MAP_DOM] = ACL_M_DOM,
    [CFG_MAP_REG] = ACL_M_REG, [CFG_MAP_IP] = ACL_M_IP,
};

struct map_load {
    struct cfg_map *m;
    size_t cap;          /* entries allocated */
    struct cfg_acl keys; /* scratch: acl.c prepares each key here, then it moves to an entry */
};

static int load_line(struct cfg_parser *st, void *arg, char *line, int lineno)
{
    struct map_load *l = arg;
    struct cfg_map *m = l->m;
    char *key = line, *end = line;
    while (*end && *end != ' ' && *end != '\t')
        end++;
    char *value = end;
    while (*value == ' ' || *value == '\t')
        value++;
    *end = '\0'; /* after finding the value: a line without one leaves it empty */
    if (m->kind == CFG_MAP_IP) {
        struct cfg_net net;
        if (config__parse_net(key, &net) != 0)
            return config__error(st,
                                 "%s:%d: invalid network '%s' for map_ip (expected an IPv4 or "
                                 "IPv6 address, optionally with /PREFIX)",
                                 m->path, lineno, key);
    }
    if (m->nentries == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct cfg_map_entry *n = realloc(m->entries, cap * sizeof(*n));
        if (!n)
            return config__error(st, "out of memory");
        m->entries = n;
        l->cap = cap;
    }
    char where[CFG_PATH_MAX + 32];
    snprintf(where, sizeof(where), " in %s:%d", m->path, lineno);
    if (config__acl_add_value(st, &l->keys, key, where))
        return -1;
    struct cfg_map_entry *e = &m->entries[m->nentries];
    e->key = l->keys.values[--l->keys.nvalues];
    e->value_len = strlen(value);
    e->line = lineno;
    if (!(e->value = malloc(e->value_len + 1))) {
        config__acl_value_free(&e->key);
        return config__error(st, "out of memory");
    }
    memcpy(e->value, value, e->value_len + 1);
    m->nentries++;
    if (e->value_len > m->value_max)
        m->value_max = e->value_len;
    return 0;
}

/* ---- sorting: the order net/http/map.c searches in ----------------------------------------- */

static int cmp_line(const struct cfg_map_entry *a, const struct cfg_map_entry *b)
{
    return (a->line > b->line) - (a->line < b->line);
}

/* map_str: by key; equal keys by line, so that the first line comes first. */
static int cmp_str(const void *x, const void *y)
{
    const struct cfg_map_entry *a = x, *b = y;
    int c = cfg_map_keycmp(a->key.str, a->key.len, b->key.str, b->key.len);
    return c ? c : cmp_line(a, b);
}

/* map_beg: longest keys first, then as map_str within one length. */
static int cmp_beg(const void *x, const void *y)
{
    const struct cfg_map_entry *a = x, *b = y;
    if (a->key.len != b->key.len)
        return a->key.len > b->key.len ? -1 : 1;
    return cmp_str(x, y);
}

/* The address bytes of two networks of one family. */
static int addr_cmp(const struct cfg_net *a, const struct cfg_net *b)
{
    size_t n;
    const uint8_t *x = cfg_net_bytes(a, &n), *y = cfg_net_bytes(b, &n);
    return memcmp(x, y, n);
}

/* map_ip: IPv4 then IPv6, longest prefix first, then by address and line. */
static int cmp_ip(const void *x, const void *y)
{
    const struct cfg_map_entry *a = x, *b = y;
    int fa = a->key.net.addr.ss_family, fb = b->key.net.addr.ss_family;
    if (fa != fb)
        return fa == AF_INET ? -1 : 1;
    if (a->key.net.prefix != b->key.net.prefix)
        return a->key.net.prefix > b->key.net.prefix ? -1 : 1;
    int c = addr_cmp(&a->key.net, &b->key.net);
    return c ? c : cmp_line(a, b);
}

/* Whether a and b (sorted neighbours) fall in the same run: one search covers them. */
static bool same_run(const struct cfg_map *m, const struct cfg_map_entry *a,
                     const struct cfg_map_entry *b)
{
    if (m->kind == CFG_MAP_BEG)
        return a->key.len == b->key.len;
    if (m->kind == CFG_MAP_IP)
        return a->key.net.addr.ss_family == b->key.net.addr.ss_family &&
               a->key.net.prefix == b->key.net.prefix;
    return true;
}

static bool same_key(const struct cfg_map *m, const struct cfg_map_entry *a,
                     const struct cfg_map_entry *b)
{
    if (!same_run(m, a, b))
        return false;
    if (m->kind != CFG_MAP_IP)
        return cfg_map_keycmp(a->key.str, a->key.len, b->key.str, b->key.len) == 0;
    return addr_cmp(&a->key.net, &b->key.net) == 0;
}

static void entry_free(struct cfg_map_entry *e)
{
    config__acl_value_free(&e->key);
    free(e->value);
}

/* Sort, drop the later lines of a key written twice (they could never win), cut into runs. */
static int index_map(struct cfg_parser *st, struct cfg_map *m)
{
    if (m->kind != CFG_MAP_STR && m->kind != CFG_MAP_BEG && m->kind != CFG_MAP_IP)
        return 0; /* searched in file order */
    if (m->nentries == 0)
        return 0;
    qsort(m->entries, m->nentries, sizeof(*m->entries),
          m->kind == CFG_MAP_STR   ? cmp_str
          : m->kind == CFG_MAP_BEG ? cmp_beg
                                   : cmp_ip);
    size_t n = 1;
    for (size_t i = 1; i < m->nentries; i++) {
        if (same_key(m, &m->entries[n - 1], &m->entries[i]))
            entry_free(&m->entries[i]);
        else
            m->entries[n++] = m->entries[i];
    }
    m->nentries = n;
    size_t runs = 1;
    for (size_t i = 1; i < n; i++)
        runs += !same_run(m, &m->entries[i - 1], &m->entries[i]);
    if (!(m->runs = calloc(runs, sizeof(*m->runs))))
        return config__error(st, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !same_run(m, &m->entries[i - 1], &m->entries[i]))
            m->runs[m->nruns++].start = i;
        m->runs[m->nruns - 1].n++;
    }
    return 0;
}

static void map_free(struct cfg_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nentries; i++)
        entry_free(&m->entries[i]);
    free(m->entries);
    free(m->runs);
    free(m->path);
    free(m);
}

int config__map_get(struct cfg_parser *st, const char *path, enum cfg_map_kind kind,
                    const struct cfg_map **out)
{
    *out = NULL;
    for (const struct cfg_map *m = st->cfg->maps; m; m = m->next) {
        if (m->kind == kind && strcmp(m->path, path) == 0) {
            *out = m;
            return 0;
        }
    }
    struct cfg_map *m = calloc(1, sizeof(*m));
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return config__error(st, "out of memory");
    }
    m->kind = kind;
    struct map_load l = {.m = m, .keys = {.match = kind_match[kind]}};
    int rc = config__read_lines(st, path, "map", load_line, &l);
    config__acl_free(&l.keys);
    if (rc == 0)
        rc = index_map(st, m);
    if (rc != 0) {
        map_free(m);
        return -1;
    }
    m->next = st->cfg->maps;
    st->cfg->maps = m;
    *out = m;
    return 0;
}

void config__maps_free(struct config *cfg)
{
    while (cfg->maps) {
        struct cfg_map *m = cfg->maps;
        cfg->maps = m->next;
        map_free(m);
    }
}
