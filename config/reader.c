/* Loads a configuration: our line reader feeds inih, the handler tokenizes HAProxy statements.
 *
 * Debian's libinih 55 keeps its default limits (199-character lines, 49-character names,
 * indented lines continue the previous value, no line number for the handler). So inih reads
 * through reader() below, which: counts physical lines (the handler and every message use
 * st->line), strips indentation (continuation never triggers), rejects over-long lines, opens
 * sections itself (inih never tells the handler about a section without keys), and rewrites each
 * statement as "KEYWORD=REST" so that inih's split at the first '=' or ':' cannot cut an address,
 * and a native haproxy.cfg line ("server s1 10.0.0.1:80 check") is accepted as it is. The handler
 * then rebuilds "name value" and runs one HAProxy tokenizer over it. */
#include "config/config_internal.h"

#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

static int verror_at(struct cfg_parser *st, int line, const char *fmt, va_list ap)
{
    if (st->failed || !st->err || st->errlen == 0) {
        st->failed = true;
        return -1;
    }
    st->failed = true;
    int n = snprintf(st->err, st->errlen, "%s:%d: ", st->file, line);
    if (n >= 0 && (size_t)n < st->errlen)
        vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
    return -1;
}

int config__error_at(struct cfg_parser *st, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(st, line, fmt, ap);
    va_end(ap);
    return -1;
}

int config__error(struct cfg_parser *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(st, st->line, fmt, ap);
    va_end(ap);
    return -1;
}

void config__proxy_builtin(struct cfg_pproxy *pp)
{
    memset(pp, 0, sizeof(*pp));
    struct cfg_proxy *p = &pp->px;
    p->mode = CFG_MODE_TCP;
    p->retries = 3;
    p->balance = CFG_LB_ROUNDROBIN;
    p->check_type = CFG_CHECK_TCP;
    strcpy(p->httpchk_method, "OPTIONS");
    strcpy(p->httpchk_uri, "/");
    strcpy(p->httpchk_version, "HTTP/1.0");
    p->timeout.drain = 10000;
    config__http_builtin(&p->http);
    pp->defsrv.weight = 1;
    pp->defsrv.inter = 2000;
    pp->defsrv.rise = 2;
    pp->defsrv.fall = 3;
}

void config__pproxy_free(struct cfg_pproxy *pp)
{
    if (!pp)
        return;
    free(pp->px.binds);
    free(pp->px.servers);
    config__http_free(&pp->px.http);
    free(pp);
}

static bool push(void *arrp, size_t *n, struct cfg_pproxy *pp)
{
    struct cfg_pproxy ***arr = arrp;
    struct cfg_pproxy **na = realloc(*arr, (*n + 1) * sizeof(*na));
    if (!na)
        return false;
    na[(*n)++] = pp;
    *arr = na;
    return true;
}

int config__open_section(struct cfg_parser *st, const char *line)
{
    static const char *const types[] = {"global", "defaults",  "frontend", "backend",
                                        "listen", "resolvers", "userlist", "http-errors"};
    static const enum cfg_sec secs[] = {CFG_SEC_GLOBAL,   CFG_SEC_DEFAULTS,   CFG_SEC_FRONTEND,
                                        CFG_SEC_BACKEND,  CFG_SEC_LISTEN,     CFG_SEC_RESOLVERS,
                                        CFG_SEC_USERLIST, CFG_SEC_HTTP_ERRORS};
    const char *close = strchr(line, ']');
    if (!close)
        return config__error(st, "section header has no closing ']' (expected [TYPE NAME])");
    const char *after = close + 1;
    after += strspn(after, " \t");
    if (*after && *after != '#' && *after != ';')
        return config__error(st,
                             "unexpected text '%s' after the section header (expected a "
                             "comment or nothing)",
                             after);

    char inner[CFG_LINE_MAX + 1], words[CFG_LINE_MAX + 1];
    char *argv[CFG_MAX_WORDS + 1];
    size_t n = (size_t)(close - line - 1);
    if (n > CFG_LINE_MAX)
        n = CFG_LINE_MAX;
    memcpy(inner, line + 1, n);
    inner[n] = '\0';
    const char *why;
    int argc = config__tokenize(inner, words, argv, &why);
    if (argc < 0)
        return config__error(st, "%s", why);
    if (argc == 0)
        return config__error(st, "empty section header (expected [global], [defaults], [frontend "
                                 "NAME], [backend NAME], [listen NAME], [resolvers NAME], "
                                 "[userlist NAME] or [http-errors NAME])");

    enum cfg_sec sec = CFG_SEC_NONE;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(argv[0], types[i]) == 0)
            sec = secs[i];
    if (sec == CFG_SEC_NONE) {
        const char *best = NULL;
        int bd = 3;
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            int d = config__distance(argv[0], types[i]);
            if (d < bd && d < (int)strlen(argv[0]))
                bd = d, best = types[i];
        }
        if (best)
            return config__error(st,
                                 "unknown section type '%s' (did you mean '%s'? expected "
                                 "global, defaults, frontend, backend, listen, resolvers, "
                                 "userlist or http-errors)",
                                 argv[0], best);
        return config__error(st,
                             "unknown section type '%s' (expected global, defaults, frontend, "
                             "backend, listen, resolvers, userlist or http-errors)",
                             argv[0]);
    }

    if (sec == CFG_SEC_GLOBAL) {
        if (argc > 1)
            return config__error(st, "[global] takes no name (expected [global])");
        st->sec = CFG_SEC_GLOBAL;
        st->cur = NULL;
        return 0;
    }

    /* TYPE [NAME] [from DEFAULTS] */
    const char *name = NULL, *from = NULL;
    int i = 1;
    if (i < argc && strcmp(argv[i], "from") != 0)
        name = argv[i++];
    if (i < argc && strcmp(argv[i], "from") == 0) {
        if (i + 1 >= argc)
            return config__error(st, "'from' needs the name of a [defaults NAME] section");
        from = argv[i + 1];
        i += 2;
    }
    if (i < argc)
        return config__error(st,
                             "unexpected '%s' in section header (expected [%s NAME] or [%s "
                             "NAME from DEFAULTS])",
                             argv[i], argv[0], argv[0]);
    if (!name && sec != CFG_SEC_DEFAULTS)
        return config__error(st, "[%s] needs a name (expected [%s NAME])", argv[0], argv[0]);
    if (name) {
        for (const char *c = name; *c; c++) {
            unsigned char ch = (unsigned char)*c;
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == ':'))
                return config__error(st,
                                     "invalid character '%c' in section name '%s' (expected "
                                     "letters, digits, '-', '_', '.', ':')",
                                     ch, name);
        }
        if (strlen(name) >= CFG_NAME_MAX)
            return config__error(st,
                                 "section name '%s' is too long (expected at most %d "
                                 "characters)",
                                 name, CFG_NAME_MAX - 1);
    }

    if (sec == CFG_SEC_RESOLVERS || sec == CFG_SEC_USERLIST || sec == CFG_SEC_HTTP_ERRORS) {
        if (from)
            return config__error(st, "[%s] sections do not inherit (expected [%s NAME])", argv[0],
                                 argv[0]);
        if (sec == CFG_SEC_HTTP_ERRORS)
            return config__open_http_errors(st, name);
        return config__open_fwd_section(st, sec, argv[0], name);
    }

    unsigned caps = sec == CFG_SEC_FRONTEND  ? CFG_CAP_FE
                    : sec == CFG_SEC_BACKEND ? CFG_CAP_BE
                    : sec == CFG_SEC_LISTEN  ? (CFG_CAP_FE | CFG_CAP_BE)
                                             : 0;
    if (sec == CFG_SEC_DEFAULTS && name) {
        for (size_t k = 0; k < st->ndefaults; k++)
            if (strcmp(st->defaults[k]->px.name, name) == 0)
                return config__error(st,
                                     "duplicate defaults section '%s' (first declared at "
                                     "line %d; expected unique names)",
                                     name, st->defaults[k]->px.line);
    }
    if (caps) {
        for (size_t k = 0; k < st->nproxies; k++) {
            const struct cfg_pproxy *o = st->proxies[k];
            if (strcmp(o->px.name, name) == 0 && (o->px.caps & caps))
                return config__error(st,
                                     "%s '%s' has the same name as the %s declared at line %d "
                                     "(expected unique names; only a frontend and a backend may "
                                     "share one)",
                                     argv[0], name, config__sec_name(o->sec), o->px.line);
        }
    }

    const struct cfg_pproxy *tmpl = st->last_defaults;
    if (from) {
        tmpl = NULL;
        for (size_t k = 0; k < st->ndefaults; k++)
            if (strcmp(st->defaults[k]->px.name, from) == 0)
                tmpl = st->defaults[k];
        if (!tmpl)
            return config__error(st,
                                 "unknown defaults section '%s' after 'from' (expected the "
                                 "name of a [defaults NAME] section above)",
                                 from);
    }
    /* HAProxy: a [defaults] section starts from the built-in values unless it says `from`. */
    if (sec == CFG_SEC_DEFAULTS && !from)
        tmpl = NULL;

    struct cfg_pproxy *pp = malloc(sizeof(*pp));
    if (!pp)
        return config__error(st, "out of memory");
    if (tmpl) {
        *pp = *tmpl; /* defaults own no binds or servers, only error files (copied below) */
        pp->px.binds = NULL;
        pp->px.nbinds = 0;
        pp->px.servers = NULL;
        pp->px.nservers = 0;
        if (config__http_inherit(&pp->px.http) != 0) {
            free(pp);
            return config__error(st, "out of memory");
        }
    } else {
        config__proxy_builtin(pp);
    }
    struct cfg_proxy *p = &pp->px;
    memset(p->name, 0, sizeof(p->name));
    if (name)
        config__copy(p->name, sizeof(p->name), name);
    p->caps = caps;
    p->line = st->line;
    p->backend = NULL;
    if (!(caps & CFG_CAP_FE)) {
        p->default_backend[0] = '\0';
        p->default_backend_line = 0;
    }
    pp->sec = sec;
    pp->stats_auth_own = false;
    if (name)
        snprintf(pp->label, sizeof(pp->label), "[%s %s]", argv[0], name);
    else
        snprintf(pp->label, sizeof(pp->label), "[%s]", argv[0]);

    bool ok = sec == CFG_SEC_DEFAULTS ? push(&st->defaults, &st->ndefaults, pp)
                                      : push(&st->proxies, &st->nproxies, pp);
    if (!ok) {
        config__pproxy_free(pp);
        return config__error(st, "out of memory");
    }
    if (sec == CFG_SEC_DEFAULTS)
        st->last_defaults = pp;
    st->cur = pp;
    st->sec = sec;
    return 0;
}

/* Next physical line into st->buf; its length in *len. false at the end. */
static bool next_line(struct cfg_parser *st, size_t *len)
{
    if (st->fp) {
        ssize_t n = getline(&st->buf, &st->cap, st->fp);
        if (n < 0)
            return false;
        *len = (size_t)n;
        return true;
    }
    if (!st->text || !*st->text)
        return false;
    const char *nl = strchr(st->text, '\n');
    size_t n = nl ? (size_t)(nl - st->text + 1) : strlen(st->text);
    if (n + 1 > st->cap) {
        char *nb = realloc(st->buf, n + 1);
        if (!nb)
            return false;
        st->buf = nb;
        st->cap = n + 1;
    }
    memcpy(st->buf, st->text, n);
    st->buf[n] = '\0';
    st->text += n;
    *len = n;
    return true;
}

/* fgets-style reader given to ini_parse_stream(): see the file comment. */
static char *reader(char *str, int num, void *stream)
{
    struct cfg_parser *st = stream;
    size_t n;
    if (st->failed || num < 2 || !next_line(st, &n))
        return NULL;
    st->line++;
    char *l = st->buf;
    while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r'))
        l[--n] = '\0';
    if (memchr(l, '\0', n)) {
        config__error(st, "line contains a NUL byte (expected text)");
        return NULL;
    }
    if (st->line == 1 && n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0)
        l += 3, n -= 3;
    char *p = l + strspn(l, " \t\f\v");
    if (*p == '\0' || *p == '#' || *p == ';') {
        str[0] = '\0'; /* blank or comment: nothing for inih, even when long */
        return str;
    }
    size_t limit = (size_t)num - 1 < CFG_LINE_MAX ? (size_t)num - 1 : CFG_LINE_MAX;
    if (n > limit) {
        config__error(st, "line is longer than %zu characters (split it)", limit);
        return NULL;
    }
    size_t plen = strlen(p);
    if (*p == '[') {
        if (config__open_section(st, p) != 0)
            return NULL;
        memcpy(str, p, plen + 1);
        return str;
    }

    /* The INI separator is the first '=' outside quotes and before a '#' comment; a line
     * without one is a native HAProxy statement. */
    char *eq = NULL;
    char q = 0;
    for (char *c = p; *c; c++) {
        if (q) {
            if (*c == q)
                q = 0;
            else if (q == '"' && *c == '\\' && c[1])
                c++;
            continue;
        }
        if (*c == '"' || *c == '\'')
            q = *c;
        else if (*c == '\\' && c[1])
            c++;
        else if (*c == '#')
            break;
        else if (*c == '=') {
            eq = c;
            break;
        }
    }
    size_t kwlen = strcspn(p, " \t=");
    if (kwlen == 0) {
        config__error(st, "missing keyword before '=' (expected 'keyword = arguments')");
        return NULL;
    }
    if (kwlen > CFG_INI_NAME_MAX) {
        config__error(st,
                      "keyword '%.20s...' is longer than %d characters (expected a keyword "
                      "like 'server' first, then ' = ')",
                      p, CFG_INI_NAME_MAX);
        return NULL;
    }
    if (memchr(p, ':', kwlen) || memchr(p, '"', kwlen) || memchr(p, '\'', kwlen)) {
        config__error(st, "unknown keyword '%.*s' in section %s (expected 'keyword = arguments')",
                      (int)kwlen, p, st->cur ? st->cur->label : "[global]");
        return NULL;
    }
    /* Same length or one more: "server s1 = a:1" -> "server=s1   a:1"; "daemon" -> "daemon=". */
    if (p[kwlen] == '\0' && plen + 1 > (size_t)num - 1) {
        config__error(st, "line is longer than %zu characters (split it)", limit);
        return NULL;
    }
    memcpy(str, p, plen + 1);
    if (eq && eq != p + kwlen)
        str[eq - p] = ' ';
    if (str[kwlen] == '\0')
        str[kwlen + 1] = '\0';
    str[kwlen] = '=';
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* the reader tracks sections itself, with their line numbers */
    struct cfg_parser *st = user;
    if (st->failed)
        return 0;
    char stmt[2 * (CFG_LINE_MAX + 2)], words[sizeof(stmt)];
    char *argv[CFG_MAX_WORDS + 1];
    int n = snprintf(stmt, sizeof(stmt), "%s %s", name, value);
    if (n < 0 || (size_t)n >= sizeof(stmt)) {
        config__error(st, "line is longer than %d characters (split it)", CFG_LINE_MAX);
        return 0;
    }
    const char *why;
    int argc = config__tokenize(stmt, words, argv, &why);
    if (argc < 0)
        config__error(st, "%s", why);
    else
        config__statement(st, argc, argv);
    return !st->failed;
}

static int load(const char *name, FILE *fp, const char *text, struct config **out, char *err,
                size_t errlen)
{
    struct cfg_parser st = {.file = name, .fp = fp, .text = text, .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    st.cfg = calloc(1, sizeof(*st.cfg));
    if (!st.cfg) {
        config__error(&st, "out of memory");
        return -1;
    }
    config__copy(st.cfg->file, sizeof(st.cfg->file), name);

    int rc = ini_parse_stream(reader, &st, handler, &st);
    if (!st.failed && rc > 0)
        config__error_at(&st, rc, "syntax error (expected 'keyword = arguments' or a [section])");
    else if (!st.failed && rc < 0)
        config__error(&st, "cannot parse (inih error %d)", rc);
    if (!st.failed && st.nproxies == 0)
        config__error_at(&st, st.line,
                         "no [frontend] or [listen] section (expected at least one, "
                         "with a 'bind')");

    /* Move the proxies into the config; the parse records keep the extra bits validate needs. */
    if (!st.failed) {
        st.cfg->proxies = calloc(st.nproxies, sizeof(*st.cfg->proxies));
        if (!st.cfg->proxies) {
            config__error(&st, "out of memory");
        } else {
            for (size_t i = 0; i < st.nproxies; i++) {
                st.cfg->proxies[i] = st.proxies[i]->px;
                st.proxies[i]->px.binds = NULL;
                st.proxies[i]->px.servers = NULL;
                memset(&st.proxies[i]->px.http, 0, sizeof(st.proxies[i]->px.http));
            }
            st.cfg->nproxies = st.nproxies;
            config__validate(&st);
        }
    }

    for (size_t i = 0; i < st.nproxies; i++)
        config__pproxy_free(st.proxies[i]);
    for (size_t i = 0; i < st.ndefaults; i++)
        config__pproxy_free(st.defaults[i]);
    free(st.proxies);
    free(st.defaults);
    free(st.buf);
    if (st.failed) {
        config_free(st.cfg);
        return -1;
    }
    *out = st.cfg;
    return 0;
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        *out = NULL;
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open the configuration (%s)", path, strerror(e));
        return -1;
    }
    int rc = load(path, fp, NULL, out, err, errlen);
    fclose(fp);
    return rc;
}

int config_load_string(const char *name, const char *text, struct config **out, char *err,
                       size_t errlen)
{
    return load(name, NULL, text ? text : "", out, err, errlen);
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nproxies; i++) {
        free(cfg->proxies[i].binds);
        free(cfg->proxies[i].servers);
        config__http_free(&cfg->proxies[i].http);
    }
    free(cfg->proxies);
    config__fwd_free(cfg);
    config__http_errors_free(cfg);
    config__maps_free(cfg);
    free(cfg->be_by_name);
    free(cfg);
}

struct cfg_proxy *config_find_proxy(const struct config *cfg, const char *name, unsigned cap)
{
    for (size_t i = 0; i < cfg->nproxies; i++)
        if ((cfg->proxies[i].caps & cap) && strcmp(cfg->proxies[i].name, name) == 0)
            return &cfg->proxies[i];
    return NULL;
}

const struct cfg_proxy *config_find_backend(const struct config *cfg, const char *name, size_t len)
{
    size_t lo = 0, hi = cfg->nbe_by_name;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *n = cfg->be_by_name[mid]->name;
        int c = cfg_map_keycmp(name, len, n, strlen(n));
        if (c == 0)
            return cfg->be_by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
