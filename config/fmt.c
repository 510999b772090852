/* Parses header values written in HAProxy's log-format (`%[src]`, `%[req.hdr(host),lower]`,
 * `%ci:%cp`, `%%`) into a struct cfg_fmt that net/http/fmt.c expands for each message. The map
 * converters (`,map_beg(paths.map,web)`) load their file here, once (config/map.c).
 *
 * Only samples that make sense in a header rule are known, and each is checked against the
 * side it runs on: an http-request rule runs before a server is chosen and before there is a
 * response, so `srv_name`, `status` and `res.hdr()` are refused there rather than silently
 * expanding to nothing. */
#include "config/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_EXPECT                                                                               \
    "src, src_port, dst, dst_port, req.hdr(NAME), req.fhdr(NAME), res.hdr(NAME), "                 \
    "res.fhdr(NAME), hdr(NAME), fhdr(NAME), method, url, path, query, req.ver, url_param(NAME), "  \
    "urlp(NAME), req.cook(NAME), cook(NAME), capture.req.uri, capture.req.method, "                \
    "capture.req.ver, status, fe_name, "                                                           \
    "be_name, srv_name, date, uuid, unique-id, var(SCOPE.NAME), str(TEXT) or int(N)"
#define ALIAS_EXPECT "%ci, %cp, %fi, %fp, %f, %b, %s, %ST, %HM, %HU, %HP, %HQ, %HV, %Ts, %ms or %ID"

enum fetch_arg {
    ARG_NONE = 0,
    ARG_NAME,  /* a query parameter's name */
    ARG_HDR,   /* a header name (a token, lower-cased), with an optional occurrence */
    ARG_TOKEN, /* a cookie name: a token, as the cook() ACL wants, case kept */
    ARG_VAR,   /* a variable: SCOPE.NAME */
    ARG_STR,   /* any text (str()) */
    ARG_INT,   /* a signed 64-bit integer (int()) */
};

static const struct {
    const char *name;
    enum fmt_sample sample; /* for hdr/fhdr: the request one; the response rule swaps it */
    enum fetch_arg arg;
    bool response_only;
} fetches[] = {
    {"src", FMT_SRC, ARG_NONE, false},
    {"src_port", FMT_SRC_PORT, ARG_NONE, false},
    {"dst", FMT_DST, ARG_NONE, false},
    {"dst_port", FMT_DST_PORT, ARG_NONE, false},
    {"req.hdr", FMT_REQ_HDR, ARG_HDR, false},
    {"req.fhdr", FMT_REQ_FHDR, ARG_HDR, false},
    {"res.hdr", FMT_RES_HDR, ARG_HDR, true},
    {"res.fhdr", FMT_RES_FHDR, ARG_HDR, true},
    {"hdr", FMT_REQ_HDR, ARG_HDR, false},
    {"fhdr", FMT_REQ_FHDR, ARG_HDR, false},
    {"method", FMT_METHOD, ARG_NONE, false},
    {"capture.req.method", FMT_METHOD, ARG_NONE, false},
    {"capture.req.uri", FMT_URL_ORIG, ARG_NONE, false},
    {"capture.req.ver", FMT_HTTP_VER, ARG_NONE, false},
    {"url", FMT_URL, ARG_NONE, false},
    {"path", FMT_PATH, ARG_NONE, false},
    {"query", FMT_QUERY, ARG_NONE, false},
    {"req.ver", FMT_REQ_VER, ARG_NONE, false},
    {"url_param", FMT_URL_PARAM, ARG_NAME, false},
    {"urlp", FMT_URL_PARAM, ARG_NAME, false},
    {"req.cook", FMT_COOKIE, ARG_TOKEN, false},
    {"cook", FMT_COOKIE, ARG_TOKEN, false},
    {"status", FMT_STATUS, ARG_NONE, true},
    {"fe_name", FMT_FE_NAME, ARG_NONE, false},
    {"be_name", FMT_BE_NAME, ARG_NONE, false},
    {"srv_name", FMT_SRV_NAME, ARG_NONE, true},
    {"date", FMT_DATE, ARG_NONE, false},
    {"uuid", FMT_UUID, ARG_NONE, false},
    {"unique-id", FMT_UNIQUE_ID, ARG_NONE, false},
    {"var", FMT_VAR, ARG_VAR, false},
    {"str", FMT_STR, ARG_STR, false},
    {"int", FMT_STR, ARG_INT, false},
};

/* HAProxy's log-format variables (`%` and letters) that name one of the samples above. */
static const struct {
    const char *name;
    enum fmt_sample sample;
    bool response_only;
} aliases[] = {
    {"ci", FMT_SRC, false},       {"cp", FMT_SRC_PORT, false},  {"fi", FMT_DST, false},
    {"fp", FMT_DST_PORT, false},  {"f", FMT_FE_NAME, false},    {"b", FMT_BE_NAME, false},
    {"s", FMT_SRV_NAME, true},    {"ST", FMT_STATUS, true},     {"HM", FMT_METHOD, false},
    {"HU", FMT_URL_ORIG, false},  {"HP", FMT_PATH_ORIG, false}, {"HQ", FMT_QUERY_Q, false},
    {"HV", FMT_HTTP_VER, false},  {"Ts", FMT_TS, false},        {"ms", FMT_MS, false},
    {"ID", FMT_UNIQUE_ID, false},
};

struct fmt_build {
    struct cfg_parser *st;
    const char *what; /* "header value" */
    const char *text; /* the whole value, for messages */
    struct cfg_fmt *f;
};

static struct cfg_fmt_part *add_part(struct fmt_build *b, enum fmt_sample s)
{
    struct cfg_fmt *f = b->f;
    struct cfg_fmt_part *n = realloc(f->parts, (f->nparts + 1) * sizeof(*n));
    if (!n) {
        config__error(b->st, "out of memory");
        return NULL;
    }
    f->parts = n;
    struct cfg_fmt_part *p = &n[f->nparts++];
    memset(p, 0, sizeof(*p));
    p->sample = s;
    p->occ = -1;
    if (s == FMT_DST || s == FMT_DST_PORT)
        f->uses_dst = true;
    return p;
}

/* A copy of s[0..len) and a NUL, or NULL. */
static char *memdup0(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static int set_text(struct fmt_build *b, struct cfg_fmt_part *p, const char *s, size_t len)
{
    if (!(p->text = memdup0(s, len)))
        return config__error(b->st, "out of memory");
    p->len = len;
    return 0;
}

/* Literal text from s[0..len), "%%" already folded by the caller. */
static int add_literal(struct fmt_build *b, const char *s, size_t len)
{
    if (len == 0)
        return 0;
    struct cfg_fmt_part *p = add_part(b, FMT_LIT);
    return p ? set_text(b, p, s, len) : -1;
}

int config__var_index(struct cfg_parser *st, const char *name, size_t name_len, const char *where,
                      int *idx)
{
    static const struct {
        const char *name;
        enum cfg_var_scope scope;
    } scopes[] = {{"sess", CFG_VAR_SESS}, {"txn", CFG_VAR_TXN}, {"req", CFG_VAR_REQ}};
    const char *dot = memchr(name, '.', name_len);
    size_t sl = dot ? (size_t)(dot - name) : name_len;
    if (dot && sl == 4 && strncmp(name, "proc", 4) == 0)
        return config__error(st,
                             "variable '%.*s' in %s: scope 'proc' is not supported (sluice has "
                             "no process-wide variables; expected txn.NAME, req.NAME or "
                             "sess.NAME)",
                             (int)name_len, name, where);
    size_t k = 0;
    while (k < sizeof(scopes) / sizeof(scopes[0]) &&
           (strlen(scopes[k].name) != sl || strncmp(scopes[k].name, name, sl) != 0))
        k++;
    if (!dot || k == sizeof(scopes) / sizeof(scopes[0]))
        return config__error(st,
                             "variable '%.*s' in %s has no known scope (expected txn.NAME, "
                             "req.NAME or sess.NAME)",
                             (int)name_len, name, where);
    if (sl + 1 == name_len)
        return config__error(st, "variable '%.*s' in %s has no name (expected %s.NAME)",
                             (int)name_len, name, where, scopes[k].name);
    if (name_len >= CFG_VAR_NAME_MAX)
        return config__error(st,
                             "variable name '%.*s' in %s is too long (expected at most %d "
                             "characters)",
                             (int)name_len, name, where, CFG_VAR_NAME_MAX - 1);
    for (size_t i = sl + 1; i < name_len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.')
            return config__error(st,
                                 "invalid character '%c' in variable '%.*s' of %s (expected "
                                 "letters, digits, '_' and '.')",
                                 name[i], (int)name_len, name, where);
    struct config *cfg = st->cfg;
    for (size_t i = 0; i < cfg->nvars; i++) {
        if (strlen(cfg->vars[i].name) == name_len &&
            strncmp(cfg->vars[i].name, name, name_len) == 0) {
            *idx = (int)i;
            return 0;
        }
    }
    if (cfg->nvars == CFG_VARS_MAX)
        return config__error(st, "too many variables at '%.*s' in %s (expected at most %d)",
                             (int)name_len, name, where, CFG_VARS_MAX);
    memcpy(cfg->vars[cfg->nvars].name, name, name_len);
    cfg->vars[cfg->nvars].name[name_len] = '\0';
    cfg->vars[cfg->nvars].scope = scopes[k].scope;
    *idx = (int)cfg->nvars++;
    return 0;
}

/* str(TEXT) and int(N): the literal, as the part's text. */
static int literal_arg(struct fmt_build *b, const char *fetch, enum fetch_arg kind, const char *a,
                       size_t alen, struct cfg_fmt_part *p)
{
    if (kind == ARG_STR)
        return set_text(b, p, a, alen);
    char num[32];
    char *end = num;
    long long v = 0;
    if (alen > 0 && alen < sizeof(num)) {
        memcpy(num, a, alen);
        num[alen] = '\0';
        errno = 0;
        v = strtoll(num, &end, 10);
    }
    if (end == num || *end || errno == ERANGE)
        return config__error(b->st,
                             "invalid integer '%.*s' in '%s()' of %s '%s' (expected a signed "
                             "64-bit decimal number)",
                             (int)alen, a, fetch, b->what, b->text);
    int n = snprintf(num, sizeof(num), "%lld", v);
    return set_text(b, p, num, (size_t)n);
}

/* The arguments of a fetch, between the parentheses: "NAME" or "NAME,OCC". */
static int fetch_args(struct fmt_build *b, const char *fetch, enum fetch_arg kind, const char *a,
                      size_t alen, struct cfg_fmt_part *p)
{
    const char *comma = memchr(a, ',', alen);
    size_t nl = comma ? (size_t)(comma - a) : alen;
    if (nl == 0)
        return config__error(b->st, "'%s()' needs a name in %s '%s' (expected '%s(NAME)')", fetch,
                             b->what, b->text, fetch);
    if (nl > 63)
        return config__error(b->st,
                             "name in '%s()' is too long in %s '%s' (expected at most 63 "
                             "characters)",
                             fetch, b->what, b->text);
    for (size_t i = 0; i < nl; i++)
        if (kind == ARG_NAME ? (a[i] == '&' || a[i] == ';' || a[i] == '=')
                             : !config__is_tchar((unsigned char)a[i]))
            return config__error(b->st, "invalid character '%c' in '%s()' of %s '%s' (expected %s)",
                                 a[i], fetch, b->what, b->text,
                                 kind == ARG_HDR     ? "a header name"
                                 : kind == ARG_TOKEN ? "a cookie name"
                                                     : "a parameter name without '&', ';' or '='");
    if (set_text(b, p, a, nl))
        return -1;
    if (kind == ARG_HDR)
        for (size_t i = 0; i < nl; i++)
            p->text[i] = (char)tolower((unsigned char)p->text[i]);
    if (!comma)
        return 0;
    if (kind != ARG_HDR)
        return config__error(b->st, "'%s()' takes one argument in %s '%s' (expected '%s(NAME)')",
                             fetch, b->what, b->text, fetch);
    char occ[16];
    size_t ol = alen - nl - 1;
    char *end = occ;
    long v = 0;
    if (ol > 0 && ol < sizeof(occ)) {
        memcpy(occ, comma + 1, ol);
        occ[ol] = '\0';
        v = strtol(occ, &end, 10);
    }
    if (end == occ || *end || v < -1024 || v > 1024)
        return config__error(b->st,
                             "invalid occurrence in '%s(%.*s)' of %s '%s' (expected a number "
                             "from -1024 to 1024: 1 is the first, -1 or 0 the last)",
                             fetch, (int)alen, a, b->what, b->text);
    p->occ = v == 0 ? -1 : (int)v; /* HAProxy: 0 is the last occurrence too */
    return 0;
}

static const struct {
    const char *name;
    enum cfg_map_kind kind;
} map_convs[] = {
    {"map", CFG_MAP_STR},     {"map_str", CFG_MAP_STR}, {"map_beg", CFG_MAP_BEG},
    {"map_end", CFG_MAP_END}, {"map_sub", CFG_MAP_SUB}, {"map_dir", CFG_MAP_DIR},
    {"map_dom", CFG_MAP_DOM}, {"map_reg", CFG_MAP_REG}, {"map_ip", CFG_MAP_IP},
};
#define CONV_EXPECT                                                                                \
    "lower, upper, map, map_str, map_beg, map_end, map_sub, map_dir, map_dom, map_reg or map_ip"

/* One converter: name[0..nl), with its arguments args[0..al) when written with parentheses. */
static int add_conv(struct fmt_build *b, struct cfg_fmt_conv *cv, const char *name, size_t nl,
                    const char *args, size_t al)
{
    memset(cv, 0, sizeof(*cv));
    if (nl == 5 && (strncmp(name, "lower", 5) == 0 || strncmp(name, "upper", 5) == 0)) {
        if (args && al)
            return config__error(b->st, "converter '%.*s' takes no argument in %s '%s'", (int)nl,
                                 name, b->what, b->text);
        cv->kind = name[0] == 'l' ? FMT_CONV_LOWER : FMT_CONV_UPPER;
        return 0;
    }
    size_t k = 0;
    while (k < sizeof(map_convs) / sizeof(map_convs[0]) &&
           (strlen(map_convs[k].name) != nl || strncmp(map_convs[k].name, name, nl) != 0))
        k++;
    if (k == sizeof(map_convs) / sizeof(map_convs[0]))
        return config__error(b->st,
                             "unknown converter '%.*s' in %s '%s' (expected " CONV_EXPECT ")",
                             (int)nl, name, b->what, b->text);
    const char *comma = args ? memchr(args, ',', al) : NULL;
    size_t fl = comma ? (size_t)(comma - args) : al;
    if (!args || fl == 0 || fl >= CFG_PATH_MAX)
        return config__error(b->st,
                             "converter '%s' needs a map file in %s '%s' (expected "
                             "'%s(FILE[,DEFAULT])', FILE at most %d characters)",
                             map_convs[k].name, b->what, b->text, map_convs[k].name,
                             CFG_PATH_MAX - 1);
    char path[CFG_PATH_MAX];
    memcpy(path, args, fl);
    path[fl] = '\0';
    cv->kind = FMT_CONV_MAP;
    if (comma) {
        /* arguments are comma-separated: HAProxy refuses a third one too */
        const char *d = comma + 1;
        size_t dl = al - fl - 1;
        if (memchr(d, ',', dl))
            return config__error(b->st,
                                 "too many arguments to '%s' in %s '%s' (expected "
                                 "'%s(FILE[,DEFAULT])')",
                                 map_convs[k].name, b->what, b->text, map_convs[k].name);
        if (!(cv->def = memdup0(d, dl)))
            return config__error(b->st, "out of memory");
        cv->def_len = dl;
    }
    return config__map_get(b->st, path, map_convs[k].kind, &cv->map);
}

/* One `%[FETCH(ARGS),CONV,...]` expression: s[0..len) is what is between the brackets. */
static int add_sample(struct fmt_build *b, const char *s, size_t len, bool response)
{
    size_t i = 0;
    while (i < len && s[i] != '(' && s[i] != ',')
        i++;
    char name[32];
    if (i == 0 || i >= sizeof(name))
        return config__error(b->st, "unknown sample '%.*s' in %s '%s' (expected %s)", (int)len, s,
                             b->what, b->text, FETCH_EXPECT);
    memcpy(name, s, i);
    name[i] = '\0';
    size_t k = 0;
    while (k < sizeof(fetches) / sizeof(fetches[0]) && strcmp(fetches[k].name, name) != 0)
        k++;
    if (k == sizeof(fetches) / sizeof(fetches[0]))
        return config__error(b->st, "unknown sample '%s' in %s '%s' (expected %s)", name, b->what,
                             b->text, FETCH_EXPECT);
    if (fetches[k].response_only && !response)
        return config__error(b->st,
                             "sample '%s' in %s '%s' is known only once the server answered "
                             "(expected it in an http-response rule)",
                             name, b->what, b->text);
    enum fmt_sample smp = fetches[k].sample;
    if (response && (strcmp(name, "hdr") == 0 || strcmp(name, "fhdr") == 0))
        smp = smp == FMT_REQ_HDR ? FMT_RES_HDR : FMT_RES_FHDR; /* HAProxy: the current message */
    struct cfg_fmt_part *p = add_part(b, smp);
    if (!p)
        return -1;
    if (i < len && s[i] == '(') {
        const char *close = memchr(s + i, ')', len - i);
        if (!close)
            return config__error(b->st, "missing ')' after '%s(' in %s '%s'", name, b->what,
                                 b->text);
        size_t al = (size_t)(close - s - i - 1);
        /* HAProxy writes `uuid()` and `date()`; `uuid(4)` names the only version there is */
        bool empty_ok = al == 0 || (smp == FMT_UUID && al == 1 && s[i + 1] == '4');
        if (fetches[k].arg == ARG_NONE && !empty_ok)
            return config__error(
                b->st, "sample '%s' takes no argument in %s '%s' (expected '%s'%s)", name, b->what,
                b->text, name, smp == FMT_UUID ? ", 'uuid()' or 'uuid(4)'" : "");
        enum fetch_arg ak = fetches[k].arg;
        if (ak == ARG_VAR) {
            char where[96];
            snprintf(where, sizeof(where), "%s '%s'", b->what, b->text);
            if (config__var_index(b->st, s + i + 1, al, where, &p->var))
                return -1;
        } else if (ak == ARG_STR || ak == ARG_INT) {
            if (literal_arg(b, name, ak, s + i + 1, al, p))
                return -1;
        } else if (ak != ARG_NONE && fetch_args(b, name, ak, s + i + 1, al, p)) {
            return -1;
        }
        i = (size_t)(close - s) + 1;
    } else if (fetches[k].arg != ARG_NONE) {
        return config__error(b->st,
                             "sample '%s' needs an argument in %s '%s' (expected '%s(NAME)')", name,
                             b->what, b->text, name);
    }
    while (i < len) {
        if (s[i] != ',')
            return config__error(b->st,
                                 "unexpected '%.*s' after '%s' in %s '%s' (expected ',' and a "
                                 "converter, or ']')",
                                 (int)(len - i), s + i, name, b->what, b->text);
        size_t c = ++i;
        while (i < len && s[i] != ',' && s[i] != '(')
            i++;
        const char *args = NULL;
        size_t al = 0;
        if (i < len && s[i] == '(') {
            const char *close = memchr(s + i, ')', len - i);
            if (!close)
                return config__error(b->st, "missing ')' after '%.*s(' in %s '%s'", (int)(i - c),
                                     s + c, b->what, b->text);
            args = s + i + 1;
            al = (size_t)(close - args);
            i = (size_t)(close - s) + 1;
        }
        if (p->nconv >= CFG_FMT_CONV_MAX)
            return config__error(b->st,
                                 "too many converters after '%s' in %s '%s' (expected at "
                                 "most %d)",
                                 name, b->what, b->text, CFG_FMT_CONV_MAX);
        /* counted first: what a failed converter allocated is freed with the part */
        struct cfg_fmt_conv *cv = &p->conv[p->nconv++];
        if (add_conv(b, cv, s + c, (size_t)(args ? args - 1 - s - c : i - c), args, al))
            return -1;
    }
    return 0;
}

static int add_alias(struct fmt_build *b, const char *s, size_t len, bool response)
{
    for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++) {
        if (strlen(aliases[k].name) != len || strncmp(aliases[k].name, s, len) != 0)
            continue;
        if (aliases[k].response_only && !response)
            return config__error(b->st,
                                 "'%%%s' in %s '%s' is known only once the server answered "
                                 "(expected it in an http-response rule)",
                                 aliases[k].name, b->what, b->text);
        return add_part(b, aliases[k].sample) ? 0 : -1;
    }
    return config__error(b->st,
                         "unknown log-format variable '%%%.*s' in %s '%s' (expected %s, "
                         "%%[SAMPLE] or %%%% for a '%%')",
                         (int)(len    ? len
                               : s[0] ? 1
                                      : 0),
                         s, b->what, b->text, ALIAS_EXPECT);
}

bool config__fmt_has_samples(const char *text)
{
    for (const char *c = text; (c = strchr(c, '%')) != NULL; c += 2) {
        if (c[1] != '%')
            return true;
    }
    return false;
}

int config__fmt_parse(struct cfg_parser *st, const char *what, const char *text, bool response,
                      struct cfg_fmt **out)
{
    *out = NULL;
    struct fmt_build b = {
        .st = st, .what = what, .text = text, .f = calloc(1, sizeof(struct cfg_fmt))};
    if (!b.f)
        return config__error(st, "out of memory");
    size_t n = strlen(text);
    char *lit = malloc(n + 1);
    if (!lit) {
        config__fmt_free(b.f);
        return config__error(st, "out of memory");
    }
    size_t ll = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            rc = config__error(st, "%s '%s' contains a CR or LF (expected one line)", what, text);
            break;
        }
        if (((unsigned char)c < ' ' && c != '\t') || c == 0x7f) {
            rc = config__error(st,
                               "%s '%s' contains a control character (expected printable text; "
                               "a field value may hold tabs)",
                               what, text);
            break;
        }
        if (c != '%') {
            lit[ll++] = c;
            i++;
            continue;
        }
        if (text[i + 1] == '%') {
            lit[ll++] = '%';
            i += 2;
            continue;
        }
        rc = add_literal(&b, lit, ll);
        ll = 0;
        if (rc)
            break;
        if (text[i + 1] == '[') {
            const char *close = strchr(text + i + 2, ']');
            if (!close) {
                rc = config__error(st, "'%%[' without a closing ']' in %s '%s'", what, text);
                break;
            }
            rc = add_sample(&b, text + i + 2, (size_t)(close - text - i - 2), response);
            i = (size_t)(close - text) + 1;
        } else if (text[i + 1] == '{') {
            rc = config__error(st,
                               "log-format flags ('%%{...}') in %s '%s' are not supported "
                               "(expected %%[SAMPLE] or a variable such as %%ci)",
                               what, text);
        } else {
            size_t e = i + 1;
            while (e < n && isalpha((unsigned char)text[e]))
                e++;
            rc = add_alias(&b, text + i + 1, e - i - 1, response);
            i = e;
        }
    }
    if (rc == 0)
        rc = add_literal(&b, lit, ll);
    free(lit);
    if (rc) {
        config__fmt_free(b.f);
        return -1;
    }
    *out = b.f;
    return 0;
}

struct cfg_fmt *config__fmt_copy(const struct cfg_fmt *f)
{
    if (!f)
        return NULL;
    struct cfg_fmt *c = calloc(1, sizeof(*c));
    if (!c || !(c->parts = calloc(f->nparts ? f->nparts : 1, sizeof(*c->parts)))) {
        free(c);
        return NULL;
    }
    c->uses_dst = f->uses_dst;
    for (size_t i = 0; i < f->nparts; i++) {
        const struct cfg_fmt_part *sp = &f->parts[i];
        struct cfg_fmt_part *dp = &c->parts[i];
        *dp = *sp; /* the maps stay borrowed; what the part owns is copied below */
        dp->text = NULL;
        for (size_t k = 0; k < sp->nconv; k++)
            dp->conv[k].def = NULL;
        c->nparts++;
        bool ok = !sp->text || (dp->text = memdup0(sp->text, sp->len));
        for (size_t k = 0; ok && k < sp->nconv; k++)
            ok = !sp->conv[k].def ||
                 (dp->conv[k].def = memdup0(sp->conv[k].def, sp->conv[k].def_len));
        if (!ok) {
            config__fmt_free(c);
            return NULL;
        }
    }
    return c;
}

bool config__fmt_uses(const struct cfg_fmt *f, enum fmt_sample s)
{
    for (size_t i = 0; f && i < f->nparts; i++)
        if (f->parts[i].sample == s)
            return true;
    return false;
}

void config__fmt_free(struct cfg_fmt *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nparts; i++) {
        free(f->parts[i].text);
        for (size_t k = 0; k < f->parts[i].nconv; k++)
            free(f->parts[i].conv[k].def);
    }
    free(f->parts);
    free(f);
}
