/* Evaluates ACL conditions against one request: fetch the samples, match them, combine terms.
 *
 * Semantics follow HAProxy: an ACL entry matches when any of its samples (hdr() yields one per
 * comma-separated element, url_param one per occurrence) matches any of its values; entries of
 * one name are ORed; terms are ANDed within a group, groups (split by `or`) are ORed. Values were
 * prepared at load time (lower-cased for -i, regexes compiled, networks masked), so this file
 * only compares: no allocation, no lock, no global state. */
#include "net/http/acl.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <string.h>

#include "core/stktable.h"
#include "net/http/parse.h"

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* s[0..n) equals p[0..n); p is already lower-case when icase. */
static bool same(const char *s, const char *p, size_t n, bool icase)
{
    if (!icase)
        return memcmp(s, p, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)p[i])
            return false;
    return true;
}

static bool is_delim(char c, enum acl_match m)
{
    return c == '/' || c == '?' || (m == ACL_M_DOM && (c == '.' || c == ':'));
}

/* HAProxy's -m dir / -m dom: the pattern appears in the sample with a delimiter (or the sample's
 * edge) on both sides. */
static bool match_word(const char *s, size_t n, const char *p, size_t pl, bool icase,
                       enum acl_match m)
{
    if (pl > n)
        return false;
    bool may = true;
    for (size_t i = 0; i + pl <= n; i++) {
        if (is_delim(s[i], m)) {
            may = true;
            continue;
        }
        if (!may)
            continue;
        if (same(s + i, p, pl, icase) && (i + pl == n || is_delim(s[i + pl], m)))
            return true;
        may = false;
    }
    return false;
}

static bool match_sub(const char *s, size_t n, const char *p, size_t pl, bool icase)
{
    if (pl > n)
        return false;
    for (size_t i = 0; i + pl <= n; i++)
        if (same(s + i, p, pl, icase))
            return true;
    return false;
}

/* A worker's regex scratch (acl_worker_match_data_new): match data for \0 to \9, and a match
 * context whose limits bound what one field can cost (PCRE2's defaults let a crafted value run
 * a backtracking regex for tens of milliseconds), with a JIT stack large enough for long
 * subjects. */
struct acl_regex_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
};

#define REGEX_MATCH_LIMIT   100000
#define REGEX_JIT_STACK_MAX (512 * 1024)

int acl_regex_match(const void *re, const char *s, size_t n, void *scratch, void **md_out)
{
    struct acl_regex_scratch *x = scratch;
    pcre2_match_data *d = x ? x->md : NULL;
    if (!d) { /* slow path for callers without per-worker scratch (see acl.h) */
        d = pcre2_match_data_create(CFG_HTTP_REGEX_GROUPS, NULL);
        if (!d)
            return PCRE2_ERROR_NOMEMORY;
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, d, x ? x->mctx : NULL);
    if (md_out)
        *md_out = d;
    else if (!x || d != x->md)
        pcre2_match_data_free(d);
    return rc;
}

void acl_regex_done(void *scratch, void *md)
{
    struct acl_regex_scratch *x = scratch;
    if (md && (!x || md != x->md))
        pcre2_match_data_free(md);
}

static bool match_re(const pcre2_code *re, const char *s, size_t n, void *scratch)
{
    /* 0: matched, ovector too small (we only need yes or no). An error (a limit reached) counts
     * as no match, as in HAProxy: write `deny unless` rather than `allow if` with such regexes. */
    return acl_regex_match(re, s, n, scratch, NULL) >= 0;
}

/* Does address `sa` fall in network `net`? IPv4 and IPv4-mapped IPv6 addresses compare equal. */
bool acl_net_match(const struct cfg_net *net, const struct sockaddr *sa)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint8_t a[16], n[16];
    size_t len;
    int nf = net->addr.ss_family;
    int prefix = net->prefix;
    if (nf == AF_INET)
        memcpy(n, &((const struct sockaddr_in *)&net->addr)->sin_addr, 4);
    else
        memcpy(n, &((const struct sockaddr_in6 *)&net->addr)->sin6_addr, 16);

    if (sa->sa_family == AF_INET) {
        const uint8_t *v4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
        if (nf == AF_INET) {
            memcpy(a, v4, 4);
            len = 4;
        } else {
            memcpy(a, mapped, 12);
            memcpy(a + 12, v4, 4);
            len = 16;
        }
    } else if (sa->sa_family == AF_INET6) {
        const uint8_t *v6 = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (nf == AF_INET) {
            if (memcmp(v6, mapped, 12) != 0)
                return false;
            memcpy(a, v6 + 12, 4);
            len = 4;
        } else {
            memcpy(a, v6, 16);
            len = 16;
        }
    } else {
        return false;
    }
    (void)len;
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, n, (size_t)full) != 0)
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        if ((a[full] & mask) != n[full])
            return false;
    }
    return true;
}

static bool match_num(const struct cfg_acl *a, int64_t v)
{
    for (size_t i = 0; i < a->nvalues; i++)
        if (v >= a->values[i].num && v <= a->values[i].num_max)
            return true;
    return false;
}

static bool match_addr(const struct cfg_acl *a, const struct sockaddr *sa)
{
    for (size_t i = 0; i < a->nvalues; i++)
        if (acl_net_match(&a->values[i].net, sa))
            return true;
    return false;
}

/* A string sample as an integer (HAProxy's string-to-int cast): optional sign, digits only. */
static bool to_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > ((uint64_t)INT64_MAX + neg - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

bool acl_str_to_addr(const char *s, size_t n, struct sockaddr_storage *ss)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        return true;
    }
    return false;
}

bool acl_value_match(enum acl_match m, bool icase, const struct cfg_acl_value *v, const char *s,
                     size_t n, void *scratch)
{
    switch (m) {
    case ACL_M_STR:
        return n == v->len && same(s, v->str, n, icase);
    case ACL_M_BEG:
        return n >= v->len && same(s, v->str, v->len, icase);
    case ACL_M_END:
        return n >= v->len && same(s + n - v->len, v->str, v->len, icase);
    case ACL_M_SUB:
        return match_sub(s, n, v->str, v->len, icase);
    case ACL_M_DIR:
    case ACL_M_DOM:
        return match_word(s, n, v->str, v->len, icase, m);
    case ACL_M_REG:
        return match_re(v->re, s, n, scratch);
    default:
        return false;
    }
}

/* url_dom: the host is a value or one of its subdomains (Squid's dstdomain), compared without
 * case. Unlike HAProxy's -m dom, `example.com` must not match `example.com.evil.net`: lists of
 * domains are used to allow as well as to deny. */
static bool match_domain(const struct cfg_acl *a, const char *host, size_t n)
{
    while (n && host[n - 1] == '.') /* a fully qualified "example.com." */
        n--;
    for (size_t i = 0; i < a->nvalues; i++) {
        const struct cfg_acl_value *v = &a->values[i];
        if (v->len == 0 || v->len > n)
            continue;
        if (strncasecmp(host + n - v->len, v->str, v->len) != 0)
            continue;
        if (n == v->len || host[n - v->len - 1] == '.')
            return true;
    }
    return false;
}

/* Match one string sample against the entry's values. */
static bool match_str(const struct cfg_acl *a, const char *s, size_t n, const struct acl_ctx *ctx)
{
    switch (a->match) {
    case ACL_M_FOUND:
        return true;
    case ACL_M_LEN:
        return match_num(a, (int64_t)n);
    case ACL_M_INT: {
        int64_t v;
        return to_int(s, n, &v) && match_num(a, v);
    }
    case ACL_M_IP: {
        struct sockaddr_storage ss;
        return acl_str_to_addr(s, n, &ss) && match_addr(a, (const struct sockaddr *)&ss);
    }
    default:
        break;
    }
    for (size_t i = 0; i < a->nvalues; i++)
        if (acl_value_match(a->match, a->icase, &a->values[i], s, n, ctx->match_data))
            return true;
    return false;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* hdr(): each comma-separated element of each field line, trimmed; commas inside a quoted
 * string do not split (HAProxy's http_find_hdr_value_end). */
static bool match_hdr(const struct cfg_acl *a, const struct acl_ctx *ctx, acl_hdr_next_fn next,
                      void *msg)
{
    if (!next)
        return false;
    size_t iter = 0, alen = strlen(a->arg);
    const char *v;
    size_t vlen;
    while (next(msg, a->arg, alen, &iter, &v, &vlen)) {
        size_t i = 0;
        for (;;) {
            size_t start = i;
            i = http_list_elem_end(v, vlen, i);
            size_t s = start, e = i;
            while (s < e && is_ows(v[s]))
                s++;
            while (e > s && is_ows(v[e - 1]))
                e--;
            if (match_str(a, v + s, e - s, ctx))
                return true;
            if (i >= vlen)
                break;
            i++; /* past the comma */
        }
    }
    return false;
}

bool acl_cookie_next(acl_hdr_next_fn next, void *msg, const char *name, size_t name_len,
                     struct acl_cookie_iter *it, const char **v, size_t *vlen)
{
    if (!next)
        return false;
    for (;;) {
        if (!it->line) {
            if (!next(msg, "cookie", 6, &it->hdr_iter, &it->line, &it->len)) {
                it->line = NULL;
                return false;
            }
            it->pos = 0;
        }
        struct http_span n, val;
        while (http_cookie_next(it->line, it->len, &it->pos, &n, &val)) {
            if (n.len == name_len && memcmp(it->line + n.off, name, name_len) == 0) {
                *v = it->line + val.off;
                *vlen = val.len;
                return true;
            }
        }
        it->line = NULL; /* on to the next Cookie field line */
    }
}

/* Cookie values of the request whose name is a->arg (HAProxy's cook(): every occurrence). */
static bool match_cookie(const struct cfg_acl *a, const struct acl_ctx *ctx)
{
    struct acl_cookie_iter it = {0};
    size_t nl = strlen(a->arg), vlen;
    const char *v;
    while (acl_cookie_next(ctx->hdr_next, ctx->msg, a->arg, nl, &it, &v, &vlen))
        if (match_str(a, v, vlen, ctx))
            return true;
    return false;
}

bool acl_url_param_next(const char *query, size_t query_len, const char *name, size_t name_len,
                        size_t *pos, const char **v, size_t *vlen)
{
    size_t i = *pos;
    while (i < query_len) {
        size_t end = i;
        while (end < query_len && query[end] != '&' && query[end] != ';')
            end++;
        if (end - i > name_len && memcmp(query + i, name, name_len) == 0 &&
            query[i + name_len] == '=') {
            *v = query + i + name_len + 1;
            *vlen = end - i - name_len - 1;
            *pos = end + 1;
            return true;
        }
        i = end + 1;
    }
    *pos = query_len;
    return false;
}

/* sc_*: the entry a track-sc rule of this request tracks (none: no match, as HAProxy's fetch
 * fails); src_*: the client's entry in a table, 0 when it has none. */
static bool match_stk(const struct cfg_acl *a, const struct acl_ctx *ctx)
{
    uint64_t v;
    enum stk_data d = (enum stk_data)a->stk_data;
    if (a->fetch == ACL_F_SC) {
        const struct stk_entry *e = ctx->trk ? ctx->trk->e[a->sc] : NULL;
        if (!e || !stktable_read(e, d, ctx->now_ms, &v))
            return false;
    } else {
        struct stk_table *t = stktable_get((unsigned)a->stk_table);
        unsigned char key[STK_KEY_MAX];
        size_t kl = t ? stktable_key_addr(t, ctx->src, key) : 0;
        if (kl == 0 || !stktable_lookup_read(t, key, kl, d, ctx->now_ms, &v))
            return false;
    }
    return a->match == ACL_M_FOUND || match_num(a, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

bool acl_entry_match(const struct cfg_acl *a, const struct acl_ctx *ctx)
{
    switch (a->fetch) {
    case ACL_F_ALWAYS_TRUE:
        return true;
    case ACL_F_ALWAYS_FALSE:
        return false;
    case ACL_F_PATH:
        return ctx->path && match_str(a, ctx->path, ctx->path_len, ctx);
    case ACL_F_URL:
        return ctx->target && match_str(a, ctx->target, ctx->target_len, ctx);
    case ACL_F_QUERY:
        return ctx->query && match_str(a, ctx->query, ctx->query_len, ctx);
    case ACL_F_METHOD:
        return ctx->method && match_str(a, ctx->method, ctx->method_len, ctx);
    case ACL_F_REQ_VER: {
        char ver[3] = {'1', '.', (char)('0' + (ctx->ver_minor ? 1 : 0))};
        return match_str(a, ver, sizeof(ver), ctx);
    }
    case ACL_F_URL_PARAM: {
        if (!ctx->query)
            return false;
        size_t pos = 0, nl = strlen(a->arg), vlen;
        const char *v;
        while (acl_url_param_next(ctx->query, ctx->query_len, a->arg, nl, &pos, &v, &vlen))
            if (match_str(a, v, vlen, ctx))
                return true;
        return false;
    }
    case ACL_F_HDR:
        if (a->cur_msg && ctx->res_hdr_next) /* hdr() in an http-response rule */
            return match_hdr(a, ctx, ctx->res_hdr_next, ctx->res_msg);
        return match_hdr(a, ctx, ctx->hdr_next, ctx->msg);
    case ACL_F_RES_HDR:
        return match_hdr(a, ctx, ctx->res_hdr_next, ctx->res_msg);
    case ACL_F_STATUS:
        return ctx->status > 0 && (a->match == ACL_M_FOUND || match_num(a, ctx->status));
    case ACL_F_COOKIE:
        return match_cookie(a, ctx);
    case ACL_F_SRC:
        if (!ctx->src)
            return false;
        return a->match == ACL_M_FOUND || match_addr(a, ctx->src);
    case ACL_F_DST_PORT:
        return a->match == ACL_M_FOUND || match_num(a, ctx->dst_port);
    case ACL_F_URL_DOM:
        if (!ctx->dst_host)
            return false;
        if (a->match == ACL_M_DOM)
            return match_domain(a, ctx->dst_host, ctx->dst_host_len);
        return match_str(a, ctx->dst_host, ctx->dst_host_len, ctx);
    case ACL_F_URL_PORT:
        return ctx->dst_host && (a->match == ACL_M_FOUND || match_num(a, ctx->dst_url_port));
    case ACL_F_URL_IP:
        return ctx->dst_ip && (a->match == ACL_M_FOUND || match_addr(a, ctx->dst_ip));
    case ACL_F_REQ_HOST:
        return ctx->req_host && match_str(a, ctx->req_host, ctx->req_host_len, ctx);
    case ACL_F_HTTP_AUTH:
        return ctx->auth_ok && strcmp(ctx->auth_ok->name, a->arg) == 0;
    case ACL_F_SC:
    case ACL_F_SRC_STK:
        return match_stk(a, ctx);
    case ACL_F_VAR: {
        const char *v;
        size_t vl;
        return http_var_get(ctx->vars, a->var, &v, &vl) && match_str(a, v, vl, ctx);
    }
    }
    return false;
}

bool acl_cond_eval(const struct cfg_http *h, const struct cfg_cond *c, const struct acl_ctx *ctx)
{
    if (!c || !c->present)
        return true;
    bool group = true; /* the current AND group still holds */
    bool any = false;  /* an earlier group held */
    for (size_t i = 0; i < c->nterms && !any; i++) {
        const struct cfg_cond_term *t = &c->terms[i];
        if (t->or_before) {
            if (group) {
                any = true;
                break;
            }
            group = true;
        } else if (!group) {
            continue; /* this group already failed: skip to the next `or` */
        }
        bool m = false;
        for (size_t k = 0; k < t->nacls && !m; k++)
            m = acl_entry_match(&h->acls[t->acls[k]], ctx);
        if (t->neg)
            m = !m;
        if (!m)
            group = false;
    }
    bool verdict = any || group;
    return c->unless ? !verdict : verdict;
}

void *acl_worker_match_data_new(void)
{
    struct acl_regex_scratch *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    /* pairs for \0 to \9: regex rewrites (rewrite.h) share it; ACLs need only the first */
    x->md = pcre2_match_data_create(CFG_HTTP_REGEX_GROUPS, NULL);
    x->mctx = pcre2_match_context_create(NULL);
    x->jit = pcre2_jit_stack_create(32 * 1024, REGEX_JIT_STACK_MAX, NULL);
    if (!x->md || !x->mctx || !x->jit) {
        acl_worker_match_data_free(x);
        return NULL;
    }
    pcre2_set_match_limit(x->mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(x->mctx, REGEX_MATCH_LIMIT);
    pcre2_jit_stack_assign(x->mctx, NULL, x->jit);
    return x;
}

void acl_worker_match_data_free(void *scratch)
{
    struct acl_regex_scratch *x = scratch;
    if (!x)
        return;
    pcre2_match_data_free(x->md);
    pcre2_match_context_free(x->mctx);
    pcre2_jit_stack_free(x->jit);
    free(x);
}
