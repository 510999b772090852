/* Regex rewrites of http-request / http-response rules (see rewrite.h for the semantics). */
#include "net/http/rewrite.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <string.h>

#include "net/http/acl.h"
#include "net/http/chars.h"
#include "net/http/parse.h"

_Static_assert(sizeof(PCRE2_SIZE) == sizeof(size_t), "ovector offsets are size_t");

int http_rw_expand(char *dst, size_t cap, const char *tmpl, const char *subj, const size_t *ov,
                   unsigned npairs)
{
    size_t n = 0;
    for (const char *c = tmpl; *c; c++) {
        const char *from = c;
        size_t len = 1;
        char byte;
        if (*c == '\\' && c[1]) {
            c++;
            if (*c >= '0' && *c <= '9') {
                unsigned g = (unsigned)(*c - '0');
                if (g >= npairs || ov[2 * g] == PCRE2_UNSET || ov[2 * g + 1] < ov[2 * g])
                    continue; /* an unset group writes nothing */
                from = subj + ov[2 * g];
                len = ov[2 * g + 1] - ov[2 * g];
            } else if (*c == 'x' && http__is((unsigned char)c[1], HTTP__C_HEX) &&
                       http__is((unsigned char)c[2], HTTP__C_HEX)) {
                byte = (char)(http__hexval((unsigned char)c[1]) * 16 +
                              http__hexval((unsigned char)c[2]));
                from = &byte;
                c += 2;
            } else {
                from = c; /* \C: the character C (\\ a backslash) */
            }
        }
        if (len > cap - n)
            return -ENOSPC;
        memcpy(dst + n, from, len);
        n += len;
    }
    return (int)n;
}

/* Search r->re in s[0..n); on a match expand r->value into dst. Returns the length, -ENOENT when
 * the regex does not match, -ENOSPC, or -EIO when the match failed (a limit of the worker's match
 * context: a crafted subject must not get its rewrite skipped, so the message fails instead). */
static int replace_one(const struct cfg_http_rule *r, const char *s, size_t n, char *dst,
                       size_t cap, void *match_data)
{
    void *mdv = NULL;
    int rc = acl_regex_match(r->re, s, n, match_data, &mdv);
    pcre2_match_data *md = mdv;
    int out;
    if (rc == PCRE2_ERROR_NOMATCH) {
        out = -ENOENT;
    } else if (rc < 0) {
        out = rc == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EIO;
    } else {
        /* rc 0: the ovector was too small for every group, and all its pairs are the pattern's;
         * else pairs from rc on are unset or stale (groups that did not take part at the end). */
        unsigned pairs = pcre2_get_ovector_count(md);
        if (rc > 0 && (unsigned)rc < pairs)
            pairs = (unsigned)rc;
        out = http_rw_expand(dst, cap, r->value, s, pcre2_get_ovector_pointer(md), pairs);
    }
    acl_regex_done(match_data, md);
    return out;
}

/* Copy s[0..n) to dst at *len. */
static bool put(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
    if (n > cap - *len)
        return false;
    memcpy(dst + *len, s, n);
    *len += n;
    return true;
}

static bool value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!http__is((unsigned char)v[i], HTTP__C_VALUE))
            return false;
    return true;
}

int http_rw_value(const struct cfg_http_rule *r, const char *v, size_t vl, char *dst, size_t cap,
                  void *match_data)
{
    if (r->action == HTTP_ACT_REPLACE_HEADER) {
        int n = replace_one(r, v, vl, dst, cap, match_data);
        if (n == -ENOENT) {
            size_t len = 0;
            return put(dst, cap, &len, v, vl) ? (int)len : -ENOSPC;
        }
        if (n >= 0 && !value_ok(dst, (size_t)n))
            return -EINVAL;
        return n;
    }
    /* replace-value: each element between commas (outside quoted strings), blanks around it
     * kept as they are; empty elements are left alone (HAProxy's http_find_header skips them). */
    size_t len = 0, i = 0;
    while (i <= vl) {
        size_t end = http_list_elem_end(v, vl, i);
        size_t b = i, e = end;
        while (b < e && (v[b] == ' ' || v[b] == '\t'))
            b++;
        while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (!put(dst, cap, &len, v + i, b - i))
            return -ENOSPC;
        int n = e > b ? replace_one(r, v + b, e - b, dst + len, cap - len, match_data) : -ENOENT;
        if (n == -ENOENT) {
            if (!put(dst, cap, &len, v + b, e - b))
                return -ENOSPC;
        } else if (n < 0) {
            return n;
        } else {
            if (!value_ok(dst + len, (size_t)n))
                return -EINVAL;
            len += (size_t)n;
        }
        if (!put(dst, cap, &len, v + e, end - e + (end < vl))) /* blanks, then the comma */
            return -ENOSPC;
        if (end >= vl)
            break;
        i = end + 1;
    }
    return (int)len;
}

/* A path a rewrite produced: "/" then visible ASCII without '?' and '#'. */
static bool path_ok(const char *p, size_t n)
{
    if (n == 0 || p[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!http__is((unsigned char)p[i], HTTP__C_TARGET) || p[i] == '?' || p[i] == '#')
            return false;
    return true;
}

int http_rw_target(const struct cfg_http_rule *r, const struct http_rw_target *t, char *dst,
                   size_t cap, void *match_data)
{
    const char *path = t->target + t->path_off;
    const char *rest = path + t->path_len; /* "?query" or "" */
    size_t rest_len = t->len - t->path_off - t->path_len, len = 0;
    if (r->action == HTTP_ACT_SET_PATH && t->asterisk) {
        if (!put(dst, cap, &len, r->value, r->value_len))
            return -ENOSPC;
        return path_ok(dst, len) ? (int)len : -EINVAL;
    }
    if (t->asterisk)
        return -ENOENT;
    if (!put(dst, cap, &len, t->target, t->path_off))
        return -ENOSPC;
    if (r->action == HTTP_ACT_SET_QUERY) {
        if (!put(dst, cap, &len, path, t->path_len))
            return -ENOSPC;
        /* a '?' stays even before an empty query; none is added for an empty one (HAProxy) */
        if (rest_len || r->value_len) {
            if (!put(dst, cap, &len, "?", 1) || !put(dst, cap, &len, r->value, r->value_len))
                return -ENOSPC;
            for (size_t i = len - r->value_len; i < len; i++)
                if (!http__is((unsigned char)dst[i], HTTP__C_TARGET) || dst[i] == '#')
                    return -EINVAL;
        }
        return (int)len;
    }
    size_t at = len;
    if (r->action == HTTP_ACT_SET_PATH) {
        if (!put(dst, cap, &len, r->value, r->value_len))
            return -ENOSPC;
    } else { /* replace-path */
        int n = replace_one(r, path, t->path_len, dst + len, cap - len, match_data);
        if (n < 0)
            return n;
        len += (size_t)n;
    }
    if (!path_ok(dst + at, len - at))
        return -EINVAL;
    if (!put(dst, cap, &len, rest, rest_len))
        return -ENOSPC;
    return (int)len;
}
