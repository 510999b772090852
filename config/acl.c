/* Parses ACLs and conditions into the model: criteria, flags, values, predefined ACLs.
 *
 * HAProxy's ACL language: `acl NAME CRITERION [flags] VALUE...`; a criterion is a fetch (what to
 * look at: path, hdr(host), src, ...) and a default match method (path_beg = path -m beg).
 * Values are prepared here once (lower-cased for -i, regexes compiled with PCRE2 and JIT,
 * networks masked) so that net/http/acl.c evaluates without allocating. */
#include "config/config_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRIT_EXPECT                                                                                \
    "path, path_beg, path_end, path_sub, path_dir, path_dom, path_reg, path_len, url, url_beg, "   \
    "url_end, url_sub, url_dir, url_dom, url_reg, url_len, query, url_param(NAME), "               \
    "urlp(NAME)[_beg|_end|...], hdr(NAME), hdr_beg(NAME), hdr_end(NAME), hdr_sub(NAME), "          \
    "hdr_dir(NAME), hdr_dom(NAME), hdr_reg(NAME), hdr_len(NAME), req.hdr(NAME), cook(NAME)"        \
    "[_beg|_end|...], req.cook(NAME), method, src, status, res.hdr(NAME), shdr(NAME), "            \
    "dst_port, req.ver, url_port, url_ip, req.host, http_auth(USERLIST), var(SCOPE.NAME), "        \
    "always_true, always_false"
#define MATCH_EXPECT "str, beg, end, sub, dir, dom, reg, found, ip, int or len"

/* ---- criteria ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum acl_fetch fetch;
    enum acl_match match;
    bool arg;      /* needs (NAME) */
    bool suffixes; /* accepts _beg, _end, ... */
} fetches[] = {
    {"path", ACL_F_PATH, ACL_M_STR, false, true},
    {"url", ACL_F_URL, ACL_M_STR, false, true},
    {"query", ACL_F_QUERY, ACL_M_STR, false, false},
    {"url_param", ACL_F_URL_PARAM, ACL_M_STR, true, false},
    {"urlp", ACL_F_URL_PARAM, ACL_M_STR, true, true},
    {"hdr", ACL_F_HDR, ACL_M_STR, true, true},
    {"req.hdr", ACL_F_HDR, ACL_M_STR, true, false},
    {"cook", ACL_F_COOKIE, ACL_M_STR, true, true},
    {"req.cook", ACL_F_COOKIE, ACL_M_STR, true, false},
    {"status", ACL_F_STATUS, ACL_M_INT, false, false},
    {"res.hdr", ACL_F_RES_HDR, ACL_M_STR, true, false},
    {"shdr", ACL_F_RES_HDR, ACL_M_STR, true, true},
    {"method", ACL_F_METHOD, ACL_M_STR, false, false},
    {"src", ACL_F_SRC, ACL_M_IP, false, false},
    {"dst_port", ACL_F_DST_PORT, ACL_M_INT, false, false},
    {"req.ver", ACL_F_REQ_VER, ACL_M_STR, false, false},
    {"req_ver", ACL_F_REQ_VER, ACL_M_STR, false, false},
    /* forward proxy: the destination of an absolute-form or CONNECT request (host matching is
       always case-insensitive); url_dom is not `url -m dom` here but the destination host */
    {"url_dom", ACL_F_URL_DOM, ACL_M_DOM, false, false},
    {"url_port", ACL_F_URL_PORT, ACL_M_INT, false, false},
    {"url_ip", ACL_F_URL_IP, ACL_M_IP, false, false},
    {"req.host", ACL_F_REQ_HOST, ACL_M_STR, false, false},
    {"http_auth", ACL_F_HTTP_AUTH, ACL_M_FOUND, true, false},
    {"var", ACL_F_VAR, ACL_M_STR, true, false},
    {"always_true", ACL_F_ALWAYS_TRUE, ACL_M_FOUND, false, false},
    {"always_false", ACL_F_ALWAYS_FALSE, ACL_M_FOUND, false, false},
};

static const struct {
    const char *name;
    enum acl_match match;
} matches[] = {
    {"str", ACL_M_STR}, {"beg", ACL_M_BEG}, {"end", ACL_M_END}, {"sub", ACL_M_SUB},
    {"dir", ACL_M_DIR}, {"dom", ACL_M_DOM}, {"reg", ACL_M_REG}, {"found", ACL_M_FOUND},
    {"ip", ACL_M_IP},   {"int", ACL_M_INT}, {"len", ACL_M_LEN},
};

/* Split "name(arg)" and find the fetch; fills a->fetch, a->match (default), a->arg. */
static int parse_criterion(struct cfg_parser *st, const char *crit, struct cfg_acl *a)
{
    char base[64];
    const char *open = strchr(crit, '(');
    size_t bl = open ? (size_t)(open - crit) : strlen(crit);
    if (bl >= sizeof(base) || bl == 0)
        return config__error(st, "unknown ACL criterion '%s' (expected " CRIT_EXPECT ")", crit);
    memcpy(base, crit, bl);
    base[bl] = '\0';

    /* exact name, or a name with a match suffix */
    static const struct {
        const char *sfx;
        enum acl_match m;
    } sfx[] = {{"_beg", ACL_M_BEG}, {"_end", ACL_M_END}, {"_sub", ACL_M_SUB}, {"_dir", ACL_M_DIR},
               {"_dom", ACL_M_DOM}, {"_reg", ACL_M_REG}, {"_len", ACL_M_LEN}};
    int found = -1;
    enum acl_match m = ACL_M_STR;
    for (size_t i = 0; i < sizeof(fetches) / sizeof(fetches[0]) && found < 0; i++) {
        if (strcmp(base, fetches[i].name) == 0) {
            found = (int)i;
            m = fetches[i].match;
        }
    }
    for (size_t i = 0; i < sizeof(fetches) / sizeof(fetches[0]) && found < 0; i++) {
        size_t nl = strlen(fetches[i].name);
        if (!fetches[i].suffixes || strncmp(base, fetches[i].name, nl) != 0)
            continue;
        for (size_t k = 0; k < sizeof(sfx) / sizeof(sfx[0]); k++) {
            if (strcmp(base + nl, sfx[k].sfx) == 0) {
                found = (int)i;
                m = sfx[k].m;
            }
        }
    }
    if (found < 0) {
        int stk = config__stk_criterion(st, crit, base, a);
        if (stk <= 0)
            return stk;
        if (strcmp(base, "http_auth_group") == 0)
            return config__error(st,
                                 "ACL criterion '%s' is not supported yet (expected "
                                 "http_auth(USERLIST); groups are ignored)",
                                 base);
        if (strcmp(base, "ssl_fc") == 0 || strncmp(base, "ssl_", 4) == 0 ||
            strncmp(base, "req.ssl", 7) == 0)
            return config__error(st,
                                 "ACL criterion '%s' is not supported (sluice does not "
                                 "terminate TLS; expected " CRIT_EXPECT ")",
                                 base);
        return config__error(st, "unknown ACL criterion '%s' (expected " CRIT_EXPECT ")", base);
    }
    a->fetch = fetches[found].fetch;
    a->cur_msg = strcmp(fetches[found].name, "hdr") == 0;
    a->match = m;
    if (fetches[found].arg) {
        const char *close = open ? strchr(open, ')') : NULL;
        if (!open || !close || close[1] != '\0' || close == open + 1)
            return config__error(st, "ACL criterion '%s' needs a name (expected '%s(NAME)')", crit,
                                 base);
        size_t al = (size_t)(close - open - 1);
        if (memchr(open + 1, ',', al))
            return config__error(st,
                                 "extra arguments in '%s' are not supported yet (expected "
                                 "'%s(NAME)')",
                                 crit, base);
        if (al >= sizeof(a->arg))
            return config__error(st, "name in '%s' is too long (expected at most %zu characters)",
                                 crit, sizeof(a->arg) - 1);
        memcpy(a->arg, open + 1, al);
        a->arg[al] = '\0';
        if (a->fetch == ACL_F_HTTP_AUTH) {
            for (const char *c = a->arg; *c; c++)
                if (!(isalnum((unsigned char)*c) || strchr("-_.:", *c)))
                    return config__error(st,
                                         "invalid userlist name '%s' in '%s' (expected letters, "
                                         "digits, '-', '_', '.', ':')",
                                         a->arg, crit);
        }
        if (a->fetch == ACL_F_VAR) {
            char where[96];
            snprintf(where, sizeof(where), "ACL criterion '%s'", crit);
            if (config__var_index(st, a->arg, al, where, &a->var))
                return -1;
        }
        if (a->fetch == ACL_F_COOKIE) {
            for (const char *c = a->arg; *c; c++)
                if (!config__is_tchar((unsigned char)*c))
                    return config__error(st,
                                         "invalid cookie name '%s' in '%s' (expected letters, "
                                         "digits and !#$%%&'*+-.^_`|~)",
                                         a->arg, crit);
        }
        if (a->fetch == ACL_F_HDR || a->fetch == ACL_F_RES_HDR) {
            for (char *c = a->arg; *c; c++) {
                if (!config__is_tchar((unsigned char)*c))
                    return config__error(st,
                                         "invalid header name '%s' in '%s' (expected letters, "
                                         "digits and !#$%%&'*+-.^_`|~)",
                                         a->arg, crit);
                *c = (char)tolower((unsigned char)*c);
            }
        }
    } else if (open) {
        return config__error(st, "ACL criterion '%s' takes no argument (expected '%s')", crit,
                             base);
    }
    return 0;
}

/* ---- values -------------------------------------------------------------------------------- */

int config__parse_net(const char *text, struct cfg_net *net)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl == 0 || hl >= sizeof(host))
        return -EINVAL;
    memcpy(host, text, hl);
    host[hl] = '\0';
    memset(net, 0, sizeof(*net));
    uint8_t bytes[16];
    int family, max;
    if (inet_pton(AF_INET, host, bytes) == 1)
        family = AF_INET, max = 32;
    else if (inet_pton(AF_INET6, host, bytes) == 1)
        family = AF_INET6, max = 128;
    else
        return -EINVAL;
    int prefix = max;
    if (slash) {
        long long v;
        uint8_t mask[4];
        if (config__parse_int(slash + 1, 0, max, &v) == 0) {
            prefix = (int)v;
        } else if (family == AF_INET && inet_pton(AF_INET, slash + 1, mask) == 1) {
            /* dotted netmask: must be contiguous ones */
            uint32_t m = ((uint32_t)mask[0] << 24) | ((uint32_t)mask[1] << 16) |
                         ((uint32_t)mask[2] << 8) | mask[3];
            if (m != 0 && ((~m + 1) & ~m) != 0)
                return -EINVAL;
            prefix = 0;
            while (prefix < 32 && (m & (0x80000000u >> prefix)))
                prefix++;
        } else {
            return -EINVAL;
        }
    }
    int nbytes = max / 8;
    for (int i = 0; i < nbytes; i++) {
        int bits = prefix - i * 8;
        uint8_t keep = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        bytes[i] &= keep;
    }
    net->prefix = (uint8_t)prefix;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&net->addr;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, bytes, 4);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&net->addr;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, bytes, 16);
    }
    return 0;
}

static bool is_delim(char c, enum acl_match m)
{
    return c == '/' || c == '?' || (m == ACL_M_DOM && (c == '.' || c == ':'));
}

static int parse_int_range(const char *t, int64_t *lo, int64_t *hi)
{
    long long a, b;
    const char *colon = strchr(t, ':');
    if (!colon) {
        if (config__parse_int(t, INT64_MIN, INT64_MAX, &a) != 0)
            return -EINVAL;
        *lo = *hi = a;
        return 0;
    }
    char left[32];
    size_t ll = (size_t)(colon - t);
    if (ll >= sizeof(left))
        return -EINVAL;
    memcpy(left, t, ll);
    left[ll] = '\0';
    a = INT64_MIN;
    b = INT64_MAX;
    if (ll && config__parse_int(left, INT64_MIN, INT64_MAX, &a) != 0)
        return -EINVAL;
    if (colon[1] && config__parse_int(colon + 1, INT64_MIN, INT64_MAX, &b) != 0)
        return -EINVAL;
    if ((!ll && !colon[1]) || a > b)
        return -EINVAL;
    *lo = a;
    *hi = b;
    return 0;
}

/* Append one value to entry a. `op` is an integer operator word (eq, ge, ...) or NULL. `where`
 * locates a value read from a file ("" otherwise). */
static int add_value(struct cfg_parser *st, struct cfg_acl *a, const char *op, const char *text,
                     const char *where)
{
    struct cfg_acl_value v = {0};
    size_t len = strlen(text);
    switch (a->match) {
    case ACL_M_FOUND:
        return config__error(st, "'-m found' takes no value (got '%s'%s)", text, where);
    case ACL_M_IP:
        if (config__parse_net(text, &v.net) != 0)
            return config__error(st,
                                 "invalid address '%s'%s (expected an IPv4 or IPv6 address, "
                                 "optionally with /PREFIX)",
                                 text, where);
        break;
    case ACL_M_INT:
    case ACL_M_LEN: {
        int64_t lo = 0, hi = 0;
        long long one;
        int rc;
        if (op) {
            rc = config__parse_int(text, INT64_MIN, INT64_MAX, &one);
            lo = one;
        } else {
            rc = parse_int_range(text, &lo, &hi);
        }
        if (rc != 0)
            return config__error(st,
                                 "invalid integer '%s'%s (expected N, MIN:MAX, MIN:, :MAX or "
                                 "eq|ge|gt|le|lt N)",
                                 text, where);
        if (op) {
            hi = lo;
            if (strcmp(op, "ge") == 0)
                hi = INT64_MAX;
            else if (strcmp(op, "gt") == 0)
                lo = lo == INT64_MAX ? lo : lo + 1, hi = INT64_MAX;
            else if (strcmp(op, "le") == 0)
                lo = INT64_MIN;
            else if (strcmp(op, "lt") == 0)
                hi = hi == INT64_MIN ? hi : hi - 1, lo = INT64_MIN;
        }
        v.num = lo;
        v.num_max = hi;
        break;
    }
    case ACL_M_REG:
        if (!(v.re = config__regex_compile(st, text, len, a->icase, where)))
            return -1;
        break;
    case ACL_M_DIR:
    case ACL_M_DOM: {
        /* HAProxy ignores delimiters at both ends of the pattern */
        while (len && is_delim(*text, a->match))
            text++, len--;
        while (len && is_delim(text[len - 1], a->match))
            len--;
        if (len == 0)
            return config__error(st,
                                 "empty value for '-m %s'%s (expected a word between "
                                 "delimiters)",
                                 a->match == ACL_M_DIR ? "dir" : "dom", where);
        break;
    }
    default:
        break;
    }
    v.str = malloc(len + 1);
    if (!v.str) {
        if (v.re)
            pcre2_code_free(v.re);
        return config__error(st, "out of memory");
    }
    memcpy(v.str, text, len);
    v.str[len] = '\0';
    v.len = len;
    if (a->icase && a->match != ACL_M_REG)
        for (size_t i = 0; i < len; i++)
            v.str[i] = (char)tolower((unsigned char)v.str[i]);
    struct cfg_acl_value *nv = realloc(a->values, (a->nvalues + 1) * sizeof(*nv));
    if (!nv) {
        free(v.str);
        if (v.re)
            pcre2_code_free(v.re);
        return config__error(st, "out of memory");
    }
    a->values = nv;
    a->values[a->nvalues++] = v;
    return 0;
}

static bool is_int_op(const char *w)
{
    return strcmp(w, "eq") == 0 || strcmp(w, "ge") == 0 || strcmp(w, "gt") == 0 ||
           strcmp(w, "le") == 0 || strcmp(w, "lt") == 0;
}

int config__read_lines(struct cfg_parser *st, const char *path, const char *what,
                       int (*fn)(struct cfg_parser *st, void *arg, char *line, int lineno),
                       void *arg)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return config__error(st, "cannot read %s file '%s': %s (expected a readable file)", what,
                             path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        char *s = line, *e = line + n;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        *e = '\0';
        if (s == e || *s == '#')
            continue;
        if (memchr(s, '\0', (size_t)(e - s))) {
            rc =
                config__error(st, "%s:%d: NUL byte in %s file (expected text)", path, lineno, what);
            break;
        }
        rc = fn(st, arg, s, lineno);
    }
    if (rc == 0 && ferror(fp))
        rc = config__error(st, "cannot read %s file '%s': %s (expected a readable file)", what,
                           path, strerror(errno));
    free(line);
    fclose(fp);
    return rc;
}

int config__acl_add_value(struct cfg_parser *st, struct cfg_acl *a, const char *text,
                          const char *where)
{
    return add_value(st, a, NULL, text, where);
}

/* -f FILE: one value per line (see config__read_lines). */
struct acl_file {
    struct cfg_acl *a;
    const char *path;
};

static int add_file_line(struct cfg_parser *st, void *arg, char *line, int lineno)
{
    const struct acl_file *f = arg;
    char where[CFG_PATH_MAX + 32];
    snprintf(where, sizeof(where), " in '%s' line %d", f->path, lineno);
    return add_value(st, f->a, NULL, line, where);
}

static int add_file(struct cfg_parser *st, struct cfg_acl *a, const char *path)
{
    struct acl_file f = {.a = a, .path = path};
    return config__read_lines(st, path, "ACL", add_file_line, &f);
}

static int push_acl(struct cfg_parser *st, struct cfg_http *h, const struct cfg_acl *a, size_t *idx)
{
    struct cfg_acl *na = realloc(h->acls, (h->nacls + 1) * sizeof(*na));
    if (!na)
        return config__error(st, "out of memory");
    h->acls = na;
    h->acls[h->nacls] = *a;
    *idx = h->nacls++;
    return 0;
}

int config__acl_parse(struct cfg_parser *st, struct cfg_http *h, const char *name, int argc,
                      char **argv, size_t *idx)
{
    struct cfg_acl a = {.line = st->line};
    config__copy(a.name, sizeof(a.name), name);
    if (argc < 1)
        return config__error(st, "ACL '%s' needs a criterion (expected " CRIT_EXPECT ")", name);
    if (parse_criterion(st, argv[0], &a))
        return -1;

    /* flags, in any order, before the values */
    int i = 1;
    const char *files[CFG_MAX_WORDS];
    int nfiles = 0;
    const char *mname = NULL; /* the -m argument */
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--") == 0) {
            i++;
            break;
        } else if (strcmp(f, "-i") == 0) {
            a.icase = true;
        } else if (strcmp(f, "-n") == 0) {
            /* no DNS resolution: sluice never resolves ACL values anyway */
        } else if (strcmp(f, "-f") == 0 || strcmp(f, "-m") == 0) {
            if (i + 1 >= argc)
                return config__error(st, "ACL flag '%s' needs %s (expected '%s %s')", f,
                                     f[1] == 'f' ? "a file name" : "a match method", f,
                                     f[1] == 'f' ? "FILE" : "METHOD");
            const char *arg = argv[++i];
            if (f[1] == 'f') {
                files[nfiles++] = arg;
                continue;
            }
            bool ok = false;
            for (size_t k = 0; k < sizeof(matches) / sizeof(matches[0]); k++) {
                if (strcmp(arg, matches[k].name) == 0) {
                    a.match = matches[k].match;
                    ok = true;
                }
            }
            if (!ok)
                return config__error(st, "unknown match method '%s' (expected " MATCH_EXPECT ")",
                                     arg);
            mname = arg;
        } else if (strcmp(f, "-u") == 0 || strcmp(f, "-M") == 0) {
            return config__error(st,
                                 "ACL flag '%s' is not supported yet (expected -i, -f FILE, -m "
                                 "METHOD, -n or --)",
                                 f);
        } else {
            return config__error(st,
                                 "unknown ACL flag '%s' (expected -i, -f FILE, -m METHOD, -n, or "
                                 "-- before a value that starts with '-')",
                                 f);
        }
    }

    /* the match method must suit the sample */
    bool always =
        a.fetch == ACL_F_ALWAYS_TRUE || a.fetch == ACL_F_ALWAYS_FALSE || a.fetch == ACL_F_HTTP_AUTH;
    bool ip = a.fetch == ACL_F_SRC || a.fetch == ACL_F_URL_IP;
    bool port = a.fetch == ACL_F_DST_PORT || a.fetch == ACL_F_URL_PORT || a.fetch == ACL_F_STATUS ||
                a.fetch == ACL_F_SC || a.fetch == ACL_F_SRC_STK;
    if (mname) {
        bool ok = always ? false
                  : ip   ? (a.match == ACL_M_IP || a.match == ACL_M_FOUND)
                  : port ? (a.match == ACL_M_INT || a.match == ACL_M_FOUND)
                         : true;
        if (!ok)
            return config__error(st, "match method '-m %s' cannot be used with '%s' (expected %s)",
                                 mname, argv[0],
                                 always ? "no -m"
                                 : ip   ? "ip or found"
                                        : "int or found");
    }
    /* host names compare case-insensitively whatever the flags (DNS names have no case) */
    if (a.fetch == ACL_F_URL_DOM || a.fetch == ACL_F_REQ_HOST)
        a.icase = true;
    if (always && (i < argc || nfiles))
        return config__error(st, "'%s' takes no value (got '%s')", argv[0],
                             i < argc ? argv[i] : files[0]);
    if (!always && a.match != ACL_M_FOUND && i >= argc && nfiles == 0)
        return config__error(st,
                             "%s%s%s'%s' needs at least one value (expected '%s [flags] "
                             "VALUE...' or -f FILE)",
                             *name ? "ACL '" : "", name, *name ? "': " : "", argv[0], argv[0]);

    int rc = 0;
    for (; rc == 0 && i < argc; i++) {
        const char *op = NULL;
        if ((a.match == ACL_M_INT || a.match == ACL_M_LEN) && is_int_op(argv[i])) {
            op = argv[i++];
            if (i >= argc) {
                rc = config__error(st, "operator '%s' needs a number (expected '%s N')", op, op);
                break;
            }
        }
        rc = add_value(st, &a, op, argv[i], "");
    }
    for (int k = 0; rc == 0 && k < nfiles; k++)
        rc = add_file(st, &a, files[k]);
    if (rc == 0)
        rc = push_acl(st, h, &a, idx);
    if (rc != 0)
        config__acl_free(&a);
    return rc;
}

/* ---- predefined ACLs (HAProxy's list) ------------------------------------------------------ */

static const struct {
    const char *name;
    const char *expr[4]; /* criterion then values; NULL-terminated; expr[0] NULL: unsupported */
} predefined[] = {
    {"TRUE", {"always_true"}},
    {"FALSE", {"always_false"}},
    {"LOCALHOST", {"src", "127.0.0.1/8", "::1"}},
    {"HTTP", {"always_true"}}, /* every request is HTTP in mode http */
    {"HTTP_1.0", {"req.ver", "1.0"}},
    {"HTTP_1.1", {"req.ver", "1.1"}},
    {"HTTP_2.0", {"req.ver", "2.0"}},
    {"HTTP_3.0", {"req.ver", "3.0"}},
    {"HTTP_CONTENT", {"hdr_val(content-length)"}}, /* built by hand below */
    {"HTTP_URL_ABS", {"url_reg", "^[^/:]*://"}},
    {"HTTP_URL_SLASH", {"url_beg", "/"}},
    {"HTTP_URL_STAR", {"url", "*"}},
    {"METH_CONNECT", {"method", "CONNECT"}},
    {"METH_DELETE", {"method", "DELETE"}},
    {"METH_GET", {"method", "GET", "HEAD"}},
    {"METH_HEAD", {"method", "HEAD"}},
    {"METH_OPTIONS", {"method", "OPTIONS"}},
    {"METH_POST", {"method", "POST"}},
    {"METH_PUT", {"method", "PUT"}},
    {"METH_TRACE", {"method", "TRACE"}},
    {"RDP_COOKIE", {NULL}},
    {"REQ_CONTENT", {NULL}},
    {"WAIT_END", {NULL}},
};
#define NPREDEF (sizeof(predefined) / sizeof(predefined[0]))

bool config__acl_is_predefined(const char *name)
{
    for (size_t i = 0; i < NPREDEF; i++)
        if (strcmp(name, predefined[i].name) == 0)
            return true;
    return false;
}

/* Index of predefined ACL `k` in h->acls, adding it the first time. */
static int predefined_index(struct cfg_parser *st, struct cfg_http *h, size_t k, size_t *idx)
{
    for (size_t i = 0; i < h->nacls; i++) {
        if (strcmp(h->acls[i].name, predefined[k].name) == 0) {
            *idx = i;
            return 0;
        }
    }
    if (!predefined[k].expr[0])
        return config__error(st,
                             "predefined ACL '%s' is not supported by sluice (expected an ACL "
                             "of your own)",
                             predefined[k].name);
    if (strcmp(predefined[k].name, "HTTP_CONTENT") == 0) {
        /* req.hdr_val(content-length) gt 0 */
        char *argv[] = {"hdr(content-length)", "-m", "int", "gt", "0", NULL};
        return config__acl_parse(st, h, predefined[k].name, 5, argv, idx);
    }
    char *argv[4] = {NULL};
    int argc = 0;
    while (argc < 4 && predefined[k].expr[argc]) {
        argv[argc] = (char *)predefined[k].expr[argc];
        argc++;
    }
    return config__acl_parse(st, h, predefined[k].name, argc, argv, idx);
}

bool config__acl_is_l7(const struct cfg_acl *a)
{
    return !(a->fetch == ACL_F_SRC || a->fetch == ACL_F_DST_PORT || a->fetch == ACL_F_ALWAYS_TRUE ||
             a->fetch == ACL_F_ALWAYS_FALSE || a->fetch == ACL_F_SC || a->fetch == ACL_F_SRC_STK);
}

void *config__regex_compile(struct cfg_parser *st, const char *text, size_t len, bool caseless,
                            const char *where)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)text, len, caseless ? PCRE2_CASELESS : 0, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        config__error(st,
                      "invalid regex '%s'%s at offset %zu: %s (expected a PCRE2 regular "
                      "expression)",
                      text, where, (size_t)off, (const char *)msg);
        return NULL;
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return re;
}

bool config__acl_is_response(const struct cfg_acl *a)
{
    return a->fetch == ACL_F_STATUS || a->fetch == ACL_F_RES_HDR;
}

/* ---- conditions ---------------------------------------------------------------------------- */

static int term_set(struct cfg_parser *st, struct cfg_cond_term *t, const struct cfg_http *h,
                    const char *name, size_t single)
{
    size_t n = 0;
    if (name) {
        for (size_t i = 0; i < h->nacls; i++)
            n += strcmp(h->acls[i].name, name) == 0;
    } else {
        n = 1;
    }
    size_t *ix = malloc(n * sizeof(*ix));
    if (!ix)
        return st ? config__error(st, "out of memory") : -1;
    if (name) {
        n = 0;
        for (size_t i = 0; i < h->nacls; i++)
            if (strcmp(h->acls[i].name, name) == 0)
                ix[n++] = i;
    } else {
        ix[0] = single;
    }
    free(t->acls);
    t->acls = ix;
    t->nacls = n;
    return 0;
}

static int unknown_acl(struct cfg_parser *st, const struct cfg_http *h, const char *w)
{
    const char *best = NULL;
    int bd = 3;
    for (size_t i = 0; i < h->nacls; i++) {
        int d = config__distance(w, h->acls[i].name);
        if (h->acls[i].name[0] && d < bd && d < (int)strlen(w))
            bd = d, best = h->acls[i].name;
    }
    for (size_t i = 0; i < NPREDEF; i++) {
        int d = config__distance(w, predefined[i].name);
        if (d < bd && d < (int)strlen(w))
            bd = d, best = predefined[i].name;
    }
    if (best)
        return config__error(st,
                             "unknown ACL '%s' in condition (did you mean '%s'? expected an "
                             "'acl %s ...' line above the rule, or a predefined ACL)",
                             w, best, w);
    return config__error(st,
                         "unknown ACL '%s' in condition (expected an 'acl %s ...' line above the "
                         "rule, a predefined ACL like TRUE, METH_GET or HTTP_1.1, or '{ "
                         "CRITERION VALUE... }')",
                         w, w);
}

int config__cond_parse(struct cfg_parser *st, struct cfg_http *h, int argc, char **argv,
                       struct cfg_cond *c)
{
    memset(c, 0, sizeof(*c));
    c->present = true;
    c->unless = strcmp(argv[0], "unless") == 0;
    bool neg = false, or_before = false, any = false;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "or") == 0 || strcmp(w, "||") == 0) {
            if (!any || or_before || neg) {
                config__error(st, "'%s' without a condition before it (expected 'COND %s COND')", w,
                              w);
                goto fail;
            }
            or_before = true;
            continue;
        }
        while (*w == '!') {
            neg = !neg;
            w++;
        }
        if (!*w)
            continue; /* a lone '!' negates the next term, as in HAProxy */
        size_t idx = 0;
        const char *name = NULL;
        if (strcmp(w, "{") == 0) {
            int end = i + 1;
            while (end < argc && strcmp(argv[end], "}") != 0 && strcmp(argv[end], "{") != 0)
                end++;
            if (end >= argc || strcmp(argv[end], "}") != 0) {
                config__error(st, "missing '}' after an anonymous ACL (expected '{ CRITERION "
                                  "VALUE... }', braces being separate words)");
                goto fail;
            }
            if (end == i + 1) {
                config__error(st, "empty anonymous ACL '{ }' (expected '{ CRITERION VALUE... }')");
                goto fail;
            }
            if (config__acl_parse(st, h, "", end - i - 1, argv + i + 1, &idx))
                goto fail;
            i = end;
        } else if (w[0] == '{' || w[strlen(w) - 1] == '}') {
            config__error(st,
                          "'%s': braces must be separate words (expected '{ CRITERION VALUE... "
                          "}')",
                          argv[i]);
            goto fail;
        } else {
            bool user = false;
            for (size_t k = 0; k < h->nacls && !user; k++)
                user = strcmp(h->acls[k].name, w) == 0 && !config__acl_is_predefined(w);
            if (user) {
                name = w;
            } else {
                size_t k = 0;
                while (k < NPREDEF && strcmp(predefined[k].name, w) != 0)
                    k++;
                if (k == NPREDEF) {
                    unknown_acl(st, h, w);
                    goto fail;
                }
                if (predefined_index(st, h, k, &idx))
                    goto fail;
            }
        }
        struct cfg_cond_term *nt = realloc(c->terms, (c->nterms + 1) * sizeof(*nt));
        if (!nt) {
            config__error(st, "out of memory");
            goto fail;
        }
        c->terms = nt;
        struct cfg_cond_term *t = &c->terms[c->nterms++];
        memset(t, 0, sizeof(*t));
        t->neg = neg;
        t->or_before = or_before;
        if (term_set(st, t, h, name, idx))
            goto fail;
        neg = or_before = false;
        any = true;
    }
    if (!any) {
        config__error(st,
                      "'%s' needs a condition (expected '%s ACL...', '%s { CRITERION VALUE "
                      "}' or nothing)",
                      argv[0], argv[0], argv[0]);
        goto fail;
    }
    if (or_before || neg) {
        config__error(st, "condition ends with '%s' (expected an ACL after it)",
                      or_before ? argv[argc - 1] : "!");
        goto fail;
    }
    return 0;
fail:
    config__cond_free(c);
    return -1;
}

int config__cond_relink(struct cfg_http *h, struct cfg_cond *c)
{
    for (size_t i = 0; i < c->nterms; i++) {
        struct cfg_cond_term *t = &c->terms[i];
        if (t->nacls == 0)
            continue;
        const char *name = h->acls[t->acls[0]].name;
        if (!name[0] || config__acl_is_predefined(name))
            continue;
        char copy[sizeof(h->acls[0].name)];
        memcpy(copy, name, sizeof(copy));
        if (term_set(NULL, t, h, copy, 0))
            return -1;
    }
    return 0;
}

/* ---- freeing ------------------------------------------------------------------------------- */

void config__cond_free(struct cfg_cond *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nterms; i++)
        free(c->terms[i].acls);
    free(c->terms);
    c->terms = NULL;
    c->nterms = 0;
}

void config__acl_value_free(struct cfg_acl_value *v)
{
    if (!v)
        return;
    free(v->str);
    if (v->re)
        pcre2_code_free(v->re);
    v->str = NULL;
    v->re = NULL;
}

void config__acl_free(struct cfg_acl *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nvalues; i++)
        config__acl_value_free(&a->values[i]);
    free(a->values);
    a->values = NULL;
    a->nvalues = 0;
}

void config__http_rule_free(struct cfg_http_rule *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->value);
    free(r->content_type);
    if (r->re)
        pcre2_code_free(r->re);
    config__fmt_free(r->fmt);
    config__cond_free(&r->cond);
    r->name = r->value = r->content_type = NULL;
    r->re = NULL;
    r->fmt = NULL;
}

static void rules_free(struct cfg_http_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        config__http_rule_free(&r[i]);
    free(r);
}

void config__http_free(struct cfg_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nacls; i++)
        config__acl_free(&h->acls[i]);
    free(h->acls);
    for (size_t i = 0; i < h->nuse_backends; i++) {
        config__cond_free(&h->use_backends[i].cond);
        config__fmt_free(h->use_backends[i].fmt);
    }
    free(h->use_backends);
    rules_free(h->req_rules, h->nreq_rules);
    rules_free(h->resp_rules, h->nresp_rules);
    rules_free(h->conn_rules, h->nconn_rules);
    h->conn_rules = NULL;
    h->nconn_rules = 0;
    for (size_t i = 0; i < h->nerrorfiles; i++)
        free(h->errorfiles[i].data);
    free(h->errorfiles);
    free(h->errorfiles_refs);
    config__fmt_free(h->unique_id);
    h->unique_id = NULL;
    h->acls = NULL;
    h->nacls = 0;
    h->use_backends = NULL;
    h->nuse_backends = 0;
    h->req_rules = h->resp_rules = NULL;
    h->nreq_rules = h->nresp_rules = 0;
    h->errorfiles = NULL;
    h->nerrorfiles = 0;
    h->errorfiles_refs = NULL;
    h->nerrorfiles_refs = 0;
}

int config__http_inherit(struct cfg_http *h)
{
    /* [defaults] cannot hold ACLs or rules: only error files and errorfiles statements are
     * owned. */
    h->acls = NULL;
    h->nacls = 0;
    h->use_backends = NULL;
    h->nuse_backends = 0;
    h->req_rules = h->resp_rules = h->conn_rules = NULL;
    h->nreq_rules = h->nresp_rules = h->nconn_rules = 0;
    const struct cfg_errorfiles_ref *refs = h->errorfiles_refs; /* still the template's */
    size_t nrefs = h->nerrorfiles_refs;
    h->errorfiles_refs = NULL;
    h->nerrorfiles_refs = 0;
    if (h->unique_id && !(h->unique_id = config__fmt_copy(h->unique_id))) {
        h->errorfiles = NULL; /* still the template's: not ours to free */
        h->nerrorfiles = 0;
        return -1;
    }
    if (nrefs) {
        h->errorfiles_refs = malloc(nrefs * sizeof(*refs));
        if (!h->errorfiles_refs)
            goto nomem;
        memcpy(h->errorfiles_refs, refs, nrefs * sizeof(*refs));
        h->nerrorfiles_refs = nrefs;
    }
    if (h->nerrorfiles == 0) {
        h->errorfiles = NULL;
        return 0;
    }
    struct cfg_errorfile *src = h->errorfiles;
    struct cfg_errorfile *dst = calloc(h->nerrorfiles, sizeof(*dst));
    if (!dst)
        goto nomem;
    for (size_t i = 0; i < h->nerrorfiles; i++) {
        dst[i].status = src[i].status;
        dst[i].len = src[i].len;
        dst[i].line = src[i].line;
        dst[i].data = malloc(src[i].len + 1);
        if (!dst[i].data) {
            for (size_t k = 0; k < i; k++)
                free(dst[k].data);
            free(dst);
            goto nomem;
        }
        memcpy(dst[i].data, src[i].data, src[i].len + 1);
    }
    h->errorfiles = dst;
    return 0;
nomem:
    h->errorfiles = NULL;
    h->nerrorfiles = 0;
    free(h->errorfiles_refs);
    h->errorfiles_refs = NULL;
    h->nerrorfiles_refs = 0;
    config__fmt_free(h->unique_id); /* our copy: the caller frees only the section */
    h->unique_id = NULL;
    return -ENOMEM;
}

void config__http_builtin(struct cfg_http *h)
{
    memset(h, 0, sizeof(*h));
    strcpy(h->forwardfor.header, "X-Forwarded-For");
    h->reuse = HTTP_REUSE_SAFE;
    h->retry_on = HTTP_RETRY_DEFAULT;
}
