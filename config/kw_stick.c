/* Stick tables in the configuration: the `stick-table` keyword, `http-request track-sc0..2`
 * rules, the `sc_*` / `scN_*` / `src_*` ACL criteria, and the checks that tie them together once
 * the whole file is read (HAProxy's names and syntax). */
#include "config/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DATA_EXPECT                                                                                \
    "conn_cnt, conn_cur, conn_rate(PERIOD), http_req_cnt, http_req_rate(PERIOD), http_err_cnt "    \
    "or http_err_rate(PERIOD)"

static const struct {
    const char *name;
    enum stk_data d;
} data_types[] = {
    {"conn_cnt", STK_D_CONN_CNT},           {"conn_cur", STK_D_CONN_CUR},
    {"http_req_cnt", STK_D_HTTP_REQ_CNT},   {"http_err_cnt", STK_D_HTTP_ERR_CNT},
    {"conn_rate", STK_D_CONN_RATE},         {"http_req_rate", STK_D_HTTP_REQ_RATE},
    {"http_err_rate", STK_D_HTTP_ERR_RATE},
};
#define NDATA (sizeof(data_types) / sizeof(data_types[0]))

static int find_data(const char *name, size_t len)
{
    for (size_t i = 0; i < NDATA; i++)
        if (strlen(data_types[i].name) == len && strncmp(data_types[i].name, name, len) == 0)
            return (int)data_types[i].d;
    return -1;
}

/* `store` items: "http_req_rate(10s),conn_cur" (commas, and several store words). */
static int parse_store(struct cfg_parser *st, struct cfg_stick_table *t, const char *list)
{
    const char *s = list;
    while (*s) {
        const char *e = s;
        while (*e && *e != ',' && *e != '(')
            e++;
        int d = find_data(s, (size_t)(e - s));
        if (d < 0)
            return config__error(
                st, "unsupported stick-table data type '%.*s' (expected " DATA_EXPECT ")",
                (int)(e - s), s);
        bool rate = d >= STK_D_NCOUNTERS;
        if (*e == '(') {
            const char *close = strchr(e, ')');
            if (!close || !rate)
                return config__error(st, "'%.*s' in 'store %s' %s (expected " DATA_EXPECT ")",
                                     (int)(e - s), s, list,
                                     rate ? "misses its ')'" : "takes no period");
            char per[32];
            size_t pl = (size_t)(close - e - 1);
            if (pl == 0 || pl >= sizeof(per))
                return config__error(st, "invalid period in '%.*s' (expected a time such as 10s)",
                                     (int)(close + 1 - s), s);
            memcpy(per, e + 1, pl);
            per[pl] = '\0';
            uint32_t ms;
            if (config_parse_time(per, &ms) != 0 || ms == 0 || ms > 0x7fffffffu)
                return config__error(st,
                                     "invalid period '%s' of %.*s (expected a time from 1ms to "
                                     "24d, such as 10s)",
                                     per, (int)(e - s), s);
            t->period_ms[d] = ms;
            e = close + 1;
        } else if (rate) {
            return config__error(st, "'%.*s' needs a period (expected '%.*s(10s)')", (int)(e - s),
                                 s, (int)(e - s), s);
        }
        t->store |= 1u << d;
        if (*e == ',')
            e++;
        else if (*e)
            return config__error(st,
                                 "unexpected '%s' in 'store %s' (expected ',' between data "
                                 "types)",
                                 e, list);
        s = e;
    }
    return 0;
}

/* "100k", "1m": HAProxy's size with k/m/g multipliers (of 1024). */
static int parse_size(struct cfg_parser *st, const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned long long mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1024ull * 1024 * 1024, end++;
    if (errno || end == text || *end || !isdigit((unsigned char)text[0]) || v == 0 ||
        v > (1u << 30) / mult) /* compared before multiplying, which could wrap */
        return config__error(st,
                             "invalid stick-table size '%s' (expected a number of entries from 1 "
                             "to 1g, with an optional k, m or g multiplier)",
                             text);
    *out = (uint32_t)(v * mult);
    return 0;
}

int config__kw_stick_table(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                           char **argv, bool neg)
{
    (void)kw;
    (void)neg;
    struct cfg_stick_table *t = &st->cur->px.stick;
    if (t->present)
        return config__error(st, "a second stick-table in this section (expected one per section; "
                                 "other sections' tables are named with 'table NAME')");
    struct cfg_stick_table n = {.present = true, .key_len = 32, .line = st->line};
    bool have_type = false, have_size = false, have_expire = false;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(w, "nopurge") == 0)
            return config__error(st, "'nopurge' is not supported (expected a table whose old "
                                     "entries expire and make room for new keys)");
        if (!v)
            return config__error(st,
                                 "'%s' needs a value (expected 'stick-table type ip size N "
                                 "expire TIME store DATA')",
                                 w);
        i++;
        if (strcmp(w, "type") == 0) {
            have_type = true;
            if (strcmp(v, "ip") == 0)
                n.type = STK_KEY_IP;
            else if (strcmp(v, "ipv6") == 0)
                n.type = STK_KEY_IPV6;
            else if (strcmp(v, "integer") == 0)
                n.type = STK_KEY_INTEGER;
            else if (strcmp(v, "string") == 0)
                n.type = STK_KEY_STRING;
            else
                return config__error(st,
                                     "unsupported stick-table type '%s' (expected ip, ipv6, "
                                     "integer or string)",
                                     v);
        } else if (strcmp(w, "len") == 0) {
            int len;
            if (config__get_int(st, "stick-table len", v, 1, 1024, &len))
                return -1;
            n.key_len = (uint32_t)len;
        } else if (strcmp(w, "size") == 0) {
            have_size = true;
            if (parse_size(st, v, &n.size))
                return -1;
        } else if (strcmp(w, "expire") == 0) {
            have_expire = true;
            if (config__get_time(st, "stick-table expire", v, true, &n.expire_ms))
                return -1;
            if (n.expire_ms > 0x7fffffffu)
                return config__error(st,
                                     "stick-table expire '%s' is too long (expected at most "
                                     "24d)",
                                     v);
        } else if (strcmp(w, "store") == 0) {
            if (parse_store(st, &n, v))
                return -1;
        } else if (strcmp(w, "peers") == 0 || strcmp(w, "srvkey") == 0) {
            return config__error(st,
                                 "stick-table option '%s' is not supported (sluice has no peers "
                                 "and no 'stick on' persistence; expected type, len, size, "
                                 "expire, store)",
                                 w);
        } else {
            return config__error(st,
                                 "unknown stick-table option '%s' (expected type, len, size, "
                                 "expire, store)",
                                 w);
        }
    }
    if (!have_type || !have_size)
        return config__error(st,
                             "stick-table needs %s (expected 'stick-table type ip size 100k "
                             "expire 30s store http_req_rate(10s)')",
                             !have_type ? "a type" : "a size");
    if (!have_expire)
        return config__error(st,
                             "stick-table needs 'expire TIME' (sluice removes entries only when "
                             "they expire: expected e.g. 'expire 30s')");
    if (n.type != STK_KEY_STRING && n.key_len != 32)
        return config__error(st, "'len' applies to string tables only (expected 'type string "
                                 "len N')");
    *t = n;
    return 0;
}

/* ---- track-sc rules ------------------------------------------------------------------------ */

int config__track_rule(struct cfg_parser *st, const char *rule, unsigned sc, int argc, char **argv,
                       struct cfg_http_rule *r, int *used)
{
    r->sc = (uint8_t)sc;
    r->table = -1;
    if (argc < 1 || strcmp(argv[0], "if") == 0 || strcmp(argv[0], "unless") == 0)
        return config__error(st, "'%s' needs a key (expected '%s src [table NAME]')", rule, rule);
    char text[256];
    if (snprintf(text, sizeof(text), "%%[%s]", argv[0]) >= (int)sizeof(text))
        return config__error(st, "key '%s' of '%s' is too long", argv[0], rule);
    char what[64];
    snprintf(what, sizeof(what), "the key of %s", rule);
    if (config__fmt_parse(st, what, text, false, &r->fmt))
        return -1;
    const struct cfg_fmt_part *p = &r->fmt->parts[0];
    static const enum fmt_sample keys[] = {FMT_SRC,    FMT_REQ_HDR, FMT_REQ_FHDR, FMT_URL,
                                           FMT_PATH,   FMT_QUERY,   FMT_METHOD,   FMT_URL_PARAM,
                                           FMT_COOKIE, FMT_REQ_VER};
    bool ok = false;
    for (size_t k = 0; r->fmt->nparts == 1 && k < sizeof(keys) / sizeof(keys[0]); k++)
        ok |= p->sample == keys[k];
    if (!ok)
        return config__error(st,
                             "unsupported key '%s' for %s (expected src, req.hdr(NAME), "
                             "req.fhdr(NAME), path, url, query, method, url_param(NAME), "
                             "req.cook(NAME) or req.ver, with optional ,lower / ,upper)",
                             argv[0], rule);
    int i = 1;
    if (i < argc && strcmp(argv[i], "table") == 0) {
        if (i + 1 >= argc)
            return config__error(st, "'table' needs a section name (expected 'table NAME')");
        if (!(r->name = strdup(argv[i + 1])))
            return config__error(st, "out of memory");
        i += 2;
    }
    *used = i;
    return 0;
}

/* ---- tcp-request connection ---------------------------------------------------------------- */

int config__kw_tcp_request(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                           char **argv, bool neg)
{
    (void)neg;
    struct cfg_http *h = &st->cur->px.http;
    struct cfg_http_rule r = {.line = st->line, .table = -1};
    if (argc == 0)
        return config__error(st,
                             "'%s' needs an action (expected accept, reject, track-sc0, "
                             "track-sc1 or track-sc2)",
                             kw->name);
    const char *act = argv[0];
    int used = 1;
    char rule[48];
    snprintf(rule, sizeof(rule), "%s %s", kw->name, act);
    if (strcmp(act, "accept") == 0) {
        r.action = HTTP_ACT_ALLOW;
    } else if (strcmp(act, "reject") == 0) {
        r.action = HTTP_ACT_DENY;
    } else if (strncmp(act, "track-sc", 8) == 0 && act[8] >= '0' && act[8] <= '2' && !act[9]) {
        r.action = HTTP_ACT_TRACK_SC;
        if (config__track_rule(st, rule, (unsigned)(act[8] - '0'), argc - 1, argv + 1, &r, &used))
            goto fail;
        used++;
        if (r.fmt->parts[0].sample != FMT_SRC) {
            config__error(st,
                          "%s tracks src only (expected '%s src [table NAME]'; request "
                          "samples are tracked by http-request track-sc rules)",
                          rule, rule);
            goto fail;
        }
    } else {
        return config__error(st,
                             "unknown tcp-request connection action '%s' (expected accept, "
                             "reject, track-sc0, track-sc1 or track-sc2)",
                             act);
    }
    if (used < argc) {
        if (strcmp(argv[used], "if") != 0 && strcmp(argv[used], "unless") != 0) {
            config__error(st,
                          "unexpected '%s' in '%s' (expected 'if COND', 'unless COND' or the "
                          "end of the line)",
                          argv[used], rule);
            goto fail;
        }
        if (config__cond_parse(st, h, argc - used, argv + used, &r.cond))
            goto fail;
    }
    struct cfg_http_rule *na = realloc(h->conn_rules, (h->nconn_rules + 1) * sizeof(*na));
    if (!na) {
        config__error(st, "out of memory");
        goto fail;
    }
    h->conn_rules = na;
    na[h->nconn_rules++] = r;
    return 0;
fail:
    config__http_rule_free(&r);
    return -1;
}

/* ---- ACL criteria -------------------------------------------------------------------------- */

int config__stk_criterion(struct cfg_parser *st, const char *crit, const char *base,
                          struct cfg_acl *a)
{
    const char *data;
    bool src = false;
    int sc = -1;
    if (strncmp(base, "src_", 4) == 0) {
        src = true;
        data = base + 4;
    } else if (strncmp(base, "sc_", 3) == 0) {
        data = base + 3;
    } else if (strncmp(base, "sc", 2) == 0 && base[2] >= '0' && base[2] <= '2' && base[3] == '_') {
        sc = base[2] - '0';
        data = base + 4;
    } else {
        return 1; /* not ours */
    }
    int d = find_data(data, strlen(data));
    if (d < 0)
        return strcmp(data, "get_gpc0") == 0 || strcmp(data, "inc_gpc0") == 0 ||
                       strcmp(data, "tracked") == 0 || strncmp(data, "bytes_", 6) == 0 ||
                       strncmp(data, "gpc", 3) == 0 || strncmp(data, "sess_", 5) == 0
                   ? config__error(st,
                                   "ACL criterion '%s' is not supported (expected %s_ with "
                                   "one of " DATA_EXPECT ")",
                                   base, src ? "src" : "sc")
                   : 1;
    /* the argument: the tracker for sc_*, a table for src_* and scN_* */
    const char *open = strchr(crit, '(');
    char arg[CFG_NAME_MAX] = "";
    if (open) {
        const char *close = strchr(open, ')');
        size_t al = close ? (size_t)(close - open - 1) : 0;
        if (!close || close[1] || al == 0 || al >= sizeof(arg))
            return config__error(st, "malformed argument in '%s' (expected '%s(%s)')", crit, base,
                                 sc < 0 && !src ? "0|1|2" : "TABLE");
        memcpy(arg, open + 1, al);
        arg[al] = '\0';
    }
    if (!src && sc < 0) {
        char *comma = strchr(arg, ',');
        if (comma)
            return config__error(st,
                                 "a table argument in '%s' is not supported (expected '%s(N)' "
                                 "reading the table track-scN uses)",
                                 crit, base);
        if (!(arg[0] >= '0' && arg[0] <= '2' && arg[1] == '\0'))
            return config__error(st, "'%s' needs a tracker number (expected '%s(0)', 1 or 2)", crit,
                                 base);
        sc = arg[0] - '0';
        arg[0] = '\0';
    } else if (!src && arg[0]) {
        return config__error(st,
                             "a table argument in '%s' is not supported (expected 'sc%d_%s' "
                             "reading the table track-sc%d uses)",
                             crit, sc, data, sc);
    }
    a->fetch = src ? ACL_F_SRC_STK : ACL_F_SC;
    a->match = ACL_M_INT;
    a->stk_data = (uint8_t)d;
    a->sc = (uint8_t)(sc < 0 ? 0 : sc);
    a->stk_table = -1;
    config__copy(a->arg, sizeof(a->arg), arg);
    return 0;
}

/* ---- after parsing ------------------------------------------------------------------------- */

static const char *data_name(enum stk_data d)
{
    for (size_t i = 0; i < NDATA; i++)
        if (data_types[i].d == d)
            return data_types[i].name;
    return "?";
}

/* The table a rule or fetch of proxy p names ("" or NULL: p's own). */
static const struct cfg_stick_table *table_of(struct cfg_parser *st, const struct cfg_proxy *p,
                                              const char *name, int line, const char *what)
{
    if (!name || !name[0]) {
        if (p->stick.present)
            return &p->stick;
        config__error_at(st, line,
                         "%s uses the stick-table of '%s', which has none (expected a "
                         "'stick-table' line in that section, or 'table NAME' naming a section "
                         "that has one)",
                         what, p->name);
        return NULL;
    }
    for (size_t i = 0; i < st->cfg->nproxies; i++) {
        const struct cfg_proxy *o = &st->cfg->proxies[i];
        if (strcmp(o->name, name) == 0 && o->stick.present)
            return &o->stick;
    }
    config__error_at(st, line,
                     "%s names table '%s', but no section of that name has a stick-table "
                     "(expected the name of a frontend, backend or listen with a 'stick-table' "
                     "line)",
                     what, name);
    return NULL;
}

static int check_stored(struct cfg_parser *st, const struct cfg_stick_table *t, enum stk_data d,
                        const char *tname, int line, const char *what)
{
    if (t->store & (1u << d))
        return 0;
    return config__error_at(st, line,
                            "%s reads %s, which the stick-table of '%s' (line %d) does not store "
                            "(expected '%s%s' in its store list)",
                            what, data_name(d), tname, t->line, data_name(d),
                            d >= STK_D_NCOUNTERS ? "(PERIOD)" : "");
}

static const char *table_owner(const struct cfg_parser *st, const struct cfg_stick_table *t)
{
    for (size_t i = 0; i < st->cfg->nproxies; i++)
        if (&st->cfg->proxies[i].stick == t)
            return st->cfg->proxies[i].name;
    return "?";
}

int config__validate_stick(struct cfg_parser *st)
{
    struct config *cfg = st->cfg;
    cfg->nstick_tables = 0;
    for (size_t i = 0; i < cfg->nproxies; i++)
        if (cfg->proxies[i].stick.present)
            cfg->proxies[i].stick.idx = (unsigned)cfg->nstick_tables++;
    for (size_t i = 0; i < cfg->nproxies; i++) {
        struct cfg_proxy *p = &cfg->proxies[i];
        struct cfg_http *h = &p->http;
        for (size_t k = 0; k < h->nreq_rules + h->nconn_rules; k++) {
            bool conn = k >= h->nreq_rules;
            struct cfg_http_rule *r = conn ? &h->conn_rules[k - h->nreq_rules] : &h->req_rules[k];
            if (r->action != HTTP_ACT_TRACK_SC)
                continue;
            char what[48];
            snprintf(what, sizeof(what), "%s track-sc%u",
                     conn ? "tcp-request connection" : "http-request", r->sc);
            const struct cfg_stick_table *t = table_of(st, p, r->name, r->line, what);
            if (!t)
                return -1;
            r->table = (int)t->idx;
        }
        for (size_t k = 0; k < h->nacls; k++) {
            struct cfg_acl *a = &h->acls[k];
            if (a->fetch == ACL_F_SRC_STK) {
                char what[96];
                snprintf(what, sizeof(what), "%s%s%s (src_%s)",
                         a->name[0] ? "ACL '" : "an anonymous ACL", a->name, a->name[0] ? "'" : "",
                         data_name(a->stk_data));
                const struct cfg_stick_table *t = table_of(st, p, a->arg, a->line, what);
                if (!t || check_stored(st, t, a->stk_data, table_owner(st, t), a->line, what))
                    return -1;
                a->stk_table = (int)t->idx;
            } else if (a->fetch == ACL_F_SC) {
                /* every table this section's rules track with sc<N> must store what is read */
                for (size_t r = 0; r < h->nreq_rules + h->nconn_rules; r++) {
                    const struct cfg_http_rule *tr =
                        r < h->nreq_rules ? &h->req_rules[r] : &h->conn_rules[r - h->nreq_rules];
                    if (tr->action != HTTP_ACT_TRACK_SC || tr->sc != a->sc)
                        continue;
                    char what[96];
                    snprintf(what, sizeof(what), "%s%s%s (sc%u_%s)",
                             a->name[0] ? "ACL '" : "an anonymous ACL", a->name,
                             a->name[0] ? "'" : "", a->sc, data_name(a->stk_data));
                    const struct cfg_stick_table *t = table_of(st, p, tr->name, tr->line, what);
                    if (!t || check_stored(st, t, a->stk_data, table_owner(st, t), a->line, what))
                        return -1;
                }
            }
        }
    }
    return 0;
}
