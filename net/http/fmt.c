/* Expanding log-format header values for one message; see fmt.h. */
#include "net/http/fmt.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "net/http/map.h"
#include "net/http/out.h"
#include "net/http/parse.h"
#include "net/http/vars.h"

static void put_uint(struct out *o, unsigned long v, const char *f)
{
    char b[24];
    int n = snprintf(b, sizeof(b), f, v);
    out_put(o, b, (size_t)n);
}

static bool put_slice(struct out *o, const char *s, size_t n)
{
    if (!s)
        return false;
    out_put(o, s, n);
    return true;
}

static bool put_addr(struct out *o, const struct sockaddr *sa, bool port)
{
    char b[INET6_ADDRSTRLEN];
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (port)
            put_uint(o, ntohs(in->sin_port), "%lu");
        else if (inet_ntop(AF_INET, &in->sin_addr, b, sizeof(b)))
            out_str(o, b);
        return true;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (port)
            put_uint(o, ntohs(in6->sin6_port), "%lu");
        else if (inet_ntop(AF_INET6, &in6->sin6_addr, b, sizeof(b)))
            out_str(o, b);
        return true;
    }
    return false;
}

/* The occ-th value (1 the first, -1 the last) of field `name`: a whole field line, or with `split`
 * one comma-separated element of the lines (HAProxy's hdr() against fhdr()). */
static bool hdr_value(acl_hdr_next_fn next, void *msg, const char *name, size_t nl, int occ,
                      bool split, const char **v, size_t *vl)
{
    if (!next)
        return false;
    const char *line;
    size_t ll, iter = 0;
    int want = occ;
    if (occ < 0) {
        int total = 0;
        while (next(msg, name, nl, &iter, &line, &ll)) {
            if (!split) {
                total++;
                continue;
            }
            size_t pos = 0;
            struct http_span tok;
            while (http_list_next(line, ll, &pos, &tok))
                total++;
        }
        want = total + occ + 1;
        if (want < 1)
            return false;
        iter = 0;
    }
    int idx = 0;
    while (next(msg, name, nl, &iter, &line, &ll)) {
        if (!split) {
            if (++idx == want) {
                *v = line;
                *vl = ll;
                return true;
            }
            continue;
        }
        size_t pos = 0;
        struct http_span tok;
        while (http_list_next(line, ll, &pos, &tok)) {
            if (++idx == want) {
                *v = line + tok.off;
                *vl = tok.len;
                return true;
            }
        }
    }
    return false;
}

/* A version 4 UUID (RFC 9562): 122 random bits from a per-thread xorshift128+ seeded by the
 * kernel, which is fast and unpredictable enough for request IDs (not for secrets). */
static void put_uuid(struct out *o)
{
    static _Thread_local uint64_t s[2];
    if (!s[0] && !s[1]) {
        if (getrandom(s, sizeof(s), GRND_NONBLOCK) != sizeof(s) || (!s[0] && !s[1])) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            s[0] = (uint64_t)t.tv_nsec ^ 0x9e3779b97f4a7c15ULL;
            s[1] = (uint64_t)(uintptr_t)o ^ (uint64_t)t.tv_sec;
        }
    }
    uint64_t v[2];
    for (int i = 0; i < 2; i++) {
        uint64_t a = s[0], b = s[1];
        s[0] = b;
        a ^= a << 23;
        s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
        v[i] = s[1] + b;
    }
    v[0] = (v[0] & ~0xF000ULL) | 0x4000ULL;                        /* version 4 */
    v[1] = (v[1] & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; /* variant 10 */
    char b[40];
    int n = snprintf(b, sizeof(b), "%08x-%04x-%04x-%04x-%012llx", (unsigned)(v[0] >> 32),
                     (unsigned)(v[0] >> 16) & 0xFFFF, (unsigned)v[0] & 0xFFFF,
                     (unsigned)(v[1] >> 48), (unsigned long long)(v[1] & 0xFFFFFFFFFFFFULL));
    out_put(o, b, (size_t)n);
}

/* Write sample p; false when the message has none (an absent field, cookie or parameter, no
 * query, no address): it then expands to nothing and its converters do not run (HAProxy: the
 * fetch fails, so a map's default does not apply either). */
static bool put_sample(struct out *o, const struct cfg_fmt_part *p, const struct fmt_ctx *c)
{
    const struct acl_ctx *r = c->req;
    const char *v = NULL;
    size_t vl = 0;
    switch (p->sample) {
    case FMT_LIT:
    case FMT_STR: /* str(TEXT) */
        out_put(o, p->text, p->len);
        return true;
    case FMT_SRC:
    case FMT_SRC_PORT:
        return put_addr(o, r ? r->src : NULL, p->sample == FMT_SRC_PORT);
    case FMT_DST:
    case FMT_DST_PORT:
        return put_addr(o, c->dst, p->sample == FMT_DST_PORT);
    case FMT_REQ_HDR:
    case FMT_REQ_FHDR:
        if (!r || !hdr_value(r->hdr_next, r->msg, p->text, p->len, p->occ, p->sample == FMT_REQ_HDR,
                             &v, &vl))
            return false;
        out_put(o, v, vl);
        return true;
    case FMT_RES_HDR:
    case FMT_RES_FHDR:
        if (!hdr_value(c->res_hdr_next, c->res_msg, p->text, p->len, p->occ,
                       p->sample == FMT_RES_HDR, &v, &vl))
            return false;
        out_put(o, v, vl);
        return true;
    case FMT_METHOD:
        return put_slice(o, r ? r->method : NULL, r ? r->method_len : 0);
    case FMT_URL:
        return put_slice(o, r ? r->target : NULL, r ? r->target_len : 0);
    case FMT_PATH:
        return put_slice(o, r ? r->path : NULL, r ? r->path_len : 0);
    case FMT_QUERY:
        return put_slice(o, r ? r->query : NULL, r ? r->query_len : 0);
    case FMT_URL_ORIG:
    case FMT_PATH_ORIG:
    case FMT_QUERY_Q: { /* the request line's target, as HAProxy logs it */
        const char *t = c->orig_target;
        size_t tl = c->orig_target_len;
        if (!t)
            return false;
        const char *q = memchr(t, '?', tl);
        if (p->sample == FMT_URL_ORIG)
            out_put(o, t, tl);
        else if (p->sample == FMT_PATH_ORIG)
            out_put(o, t, q ? (size_t)(q - t) : tl);
        else if (q)
            out_put(o, q, tl - (size_t)(q - t));
        return true;
    }
    case FMT_REQ_VER:
    case FMT_HTTP_VER:
        if (!r || !r->method || !r->method_len) /* no request was parsed */
            return false;
        if (p->sample == FMT_HTTP_VER)
            out_put(o, "HTTP/", 5);
        out_put(o, r->ver_minor ? "1.1" : "1.0", 3);
        return true;
    case FMT_URL_PARAM: {
        size_t pos = 0;
        if (!r || !r->query ||
            !acl_url_param_next(r->query, r->query_len, p->text, p->len, &pos, &v, &vl))
            return false;
        out_put(o, v, vl);
        return true;
    }
    case FMT_COOKIE: { /* the last occurrence, as HAProxy's req.cook() */
        struct acl_cookie_iter it = {0};
        const char *cv;
        size_t cl;
        while (r && acl_cookie_next(r->hdr_next, r->msg, p->text, p->len, &it, &cv, &cl)) {
            v = cv;
            vl = cl;
        }
        return put_slice(o, v, vl);
    }
    case FMT_STATUS:
        if (c->status <= 0)
            return false;
        put_uint(o, (unsigned long)c->status, "%lu");
        return true;
    case FMT_FE_NAME:
        return put_slice(o, c->fe_name, c->fe_name ? strlen(c->fe_name) : 0);
    case FMT_BE_NAME:
        return put_slice(o, c->be_name, c->be_name ? strlen(c->be_name) : 0);
    case FMT_SRV_NAME:
        return put_slice(o, c->srv_name, c->srv_name ? strlen(c->srv_name) : 0);
    case FMT_DATE: {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        put_uint(o, (unsigned long)now.tv_sec, "%lu");
        return true;
    }
    case FMT_UUID:
        put_uuid(o);
        return true;
    case FMT_UNIQUE_ID:
        return put_slice(o, c->unique_id, c->unique_id ? strlen(c->unique_id) : 0);
    case FMT_TS:
        if (!c->req_wall)
            return false;
        put_uint(o, (unsigned long)c->req_wall->tv_sec, "%lu");
        return true;
    case FMT_MS:
        if (!c->req_wall)
            return false;
        put_uint(o, (unsigned long)(c->req_wall->tv_nsec / 1000000), "%03lu");
        return true;
    case FMT_VAR:
        if (!http_var_get(c->vars, p->var, &v, &vl))
            return false;
        out_put(o, v, vl);
        return true;
    }
    return false;
}

/* Apply converter cv to what its sample wrote at o->p[start..o->len); false when the sample
 * fails (a map without a match nor a default). */
static bool convert(struct out *o, size_t start, const struct cfg_fmt_conv *cv,
                    const struct fmt_ctx *c)
{
    if (cv->kind == FMT_CONV_LOWER || cv->kind == FMT_CONV_UPPER) {
        for (size_t k = start; k < o->len; k++)
            o->p[k] = (char)(cv->kind == FMT_CONV_LOWER ? tolower((unsigned char)o->p[k])
                                                        : toupper((unsigned char)o->p[k]));
        return true;
    }
    const char *v = cv->def;
    size_t vl = cv->def_len;
    if (!map_lookup(cv->map, o->p + start, o->len - start, c->req ? c->req->match_data : NULL, &v,
                    &vl) &&
        !cv->def)
        return false;
    o->len = start; /* the value replaces the key; it lives in the config, not in o */
    out_put(o, v, vl);
    return true;
}

size_t fmt_bound(const struct cfg_fmt *f, size_t head_len)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nparts; i++) {
        const struct cfg_fmt_part *p = &f->parts[i];
        /* a sample is a slice of a head or a short generated text (an address, a number, a
         * name of at most 63 bytes, a unique ID of at most 127), or a map's value; a variable
         * holds at most HTTP_VAR_VALUE_MAX bytes */
        size_t b = p->sample == FMT_LIT || p->sample == FMT_STR ? p->len : head_len + 128;
        if (p->sample == FMT_VAR && b < HTTP_VAR_VALUE_MAX)
            b = HTTP_VAR_VALUE_MAX;
        for (size_t k = 0; k < p->nconv; k++) {
            const struct cfg_fmt_conv *cv = &p->conv[k];
            if (cv->kind == FMT_CONV_MAP && cv->map->value_max > b)
                b = cv->map->value_max;
            if (cv->kind == FMT_CONV_MAP && cv->def_len > b)
                b = cv->def_len;
        }
        n += b;
    }
    return n;
}

static ssize_t expand(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap,
                      bool cut, bool *failed)
{
    struct out o = {.p = out, .cap = cap, .cut = cut};
    for (size_t i = 0; i < f->nparts && !o.overflow; i++) {
        const struct cfg_fmt_part *p = &f->parts[i];
        size_t start = o.len;
        bool ok = put_sample(&o, p, c);
        for (size_t k = 0; ok && k < p->nconv && !o.overflow; k++)
            ok = convert(&o, start, &p->conv[k], c);
        if (!ok && !o.overflow)
            o.len = start; /* a failed sample expands to nothing, as an absent one */
        if (!ok && failed)
            *failed = true;
    }
    return o.overflow ? -1 : (ssize_t)o.len;
}

ssize_t fmt_expand(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap)
{
    return expand(f, c, out, cap, false, NULL);
}

size_t fmt_expand_cut(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap)
{
    return (size_t)expand(f, c, out, cap, true, NULL);
}

ssize_t fmt_expand_sample(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap)
{
    bool failed = false;
    ssize_t n = expand(f, c, out, cap, true, &failed);
    return failed ? -1 : n;
}
