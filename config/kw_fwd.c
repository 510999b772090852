/* Parsers of the forward-proxy configuration: [resolvers] and [userlist] sections, htpasswd files,
 * option http_proxy / anonymize, log-format squid, resolvers NAME, and their validation.
 *
 * [resolvers] and [userlist] are HAProxy's sections with HAProxy's keywords. They live in the
 * config's arrays (cfg->resolvers, cfg->userlists), which grow while the file is read, so the
 * parser refers to the current one by index and proxies get their borrowed pointers only in
 * config__validate_fwd_proxy(), once every section is read (a proxy may name a section declared
 * below it, as in HAProxy). Password hashes are only checked for shape here: crypt(3) runs on the
 * verifier thread (net/http/auth.h), never at load time. */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HASH_EXPECT                                                                                \
    "a crypt(3) hash: bcrypt $2b$, $2y$ or $2a$, sha256-crypt $5$, sha512-crypt $6$, yescrypt "    \
    "$y$ or scrypt $7$; create one with htpasswd -nbB USER PASS, mkpasswd -m bcrypt or openssl "   \
    "passwd -6"

static struct cfg_resolvers *cur_resolvers(struct cfg_parser *st)
{
    return &st->cfg->resolvers[st->cur_fwd];
}

static struct cfg_userlist *cur_userlist(struct cfg_parser *st)
{
    return &st->cfg->userlists[st->cur_fwd];
}

/* Names of sections, nameservers and groups: HAProxy's character set. */
static int check_name(struct cfg_parser *st, const char *what, const char *name)
{
    if (!*name)
        return config__error(st, "empty %s name (expected letters, digits, '-', '_', '.', ':')",
                             what);
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':'))
            return config__error(st,
                                 "invalid character '%c' in %s name '%s' (expected letters, "
                                 "digits, '-', '_', '.', ':')",
                                 c, what, name);
    }
    if (strlen(name) >= CFG_NAME_MAX)
        return config__error(st, "%s name '%s' is too long (expected at most %d characters)", what,
                             name, CFG_NAME_MAX - 1);
    return 0;
}

/* ---- sections ------------------------------------------------------------------------------ */

int config__open_fwd_section(struct cfg_parser *st, enum cfg_sec sec, const char *type,
                             const char *name)
{
    struct config *cfg = st->cfg;
    if (sec == CFG_SEC_RESOLVERS) {
        for (size_t i = 0; i < cfg->nresolvers; i++)
            if (strcmp(cfg->resolvers[i].name, name) == 0)
                return config__error(st,
                                     "duplicate resolvers section '%s' (first declared at line "
                                     "%d; expected unique names)",
                                     name, cfg->resolvers[i].line);
        struct cfg_resolvers *n = realloc(cfg->resolvers, (cfg->nresolvers + 1) * sizeof(*n));
        if (!n)
            return config__error(st, "out of memory");
        cfg->resolvers = n;
        struct cfg_resolvers *r = &n[cfg->nresolvers];
        memset(r, 0, sizeof(*r));
        config__copy(r->name, sizeof(r->name), name);
        r->timeout_resolve = 1000;
        r->timeout_retry = 1000;
        r->resolve_retries = 3;
        r->hold_valid = 10000;
        r->hold_nx = 30000;
        r->line = st->line;
        st->cur_fwd = cfg->nresolvers++;
    } else {
        for (size_t i = 0; i < cfg->nuserlists; i++)
            if (strcmp(cfg->userlists[i].name, name) == 0)
                return config__error(st,
                                     "duplicate userlist section '%s' (first declared at line "
                                     "%d; expected unique names)",
                                     name, cfg->userlists[i].line);
        struct cfg_userlist *n = realloc(cfg->userlists, (cfg->nuserlists + 1) * sizeof(*n));
        if (!n)
            return config__error(st, "out of memory");
        cfg->userlists = n;
        struct cfg_userlist *u = &n[cfg->nuserlists];
        memset(u, 0, sizeof(*u));
        config__copy(u->name, sizeof(u->name), name);
        u->line = st->line;
        st->cur_fwd = cfg->nuserlists++;
    }
    snprintf(st->fwd_label, sizeof(st->fwd_label), "[%s %s]", type, name);
    st->sec = sec;
    st->cur = NULL;
    return 0;
}

/* ---- [resolvers] --------------------------------------------------------------------------- */

static bool is_any_addr(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    return memcmp(&a->sin6_addr, &in6addr_any, sizeof(a->sin6_addr)) == 0;
}

/* A nameserver address: [udp@|udp4@|udp6@|ipv4@|ipv6@]ADDR[:PORT] (port 53 when absent). */
static int parse_ns_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    static const char *const prefixes[] = {"udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(text, prefixes[i], n) == 0) {
            text += n;
            break;
        }
    }
    if (config_parse_addr(text, ss, len) == 0)
        return 0;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(53);
        *len = sizeof(*a4);
        return 0;
    }
    if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(53);
        *len = sizeof(*a6);
        return 0;
    }
    return -EINVAL;
}

int config__kw_nameserver(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                          char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 2, 2) || check_name(st, "nameserver", argv[0]))
        return -1;
    struct cfg_resolvers *r = cur_resolvers(st);
    for (unsigned i = 0; i < r->nns; i++)
        if (strcmp(r->ns_id[i], argv[0]) == 0)
            return config__error(st,
                                 "duplicate nameserver '%s' in %s (expected unique nameserver "
                                 "names)",
                                 argv[0], st->fwd_label);
    if (r->nns >= CFG_MAX_NAMESERVERS)
        return config__error(st, "too many nameservers in %s (expected at most %d)", st->fwd_label,
                             CFG_MAX_NAMESERVERS);
    if (strncmp(argv[1], "tcp@", 4) == 0 || strncmp(argv[1], "tcp4@", 5) == 0 ||
        strncmp(argv[1], "tcp6@", 5) == 0)
        return config__error(st,
                             "DNS over TCP ('%s') is not supported yet (expected a UDP address "
                             "IP:PORT or [IPv6]:PORT)",
                             argv[1]);
    struct sockaddr_storage ss;
    socklen_t len;
    if (parse_ns_addr(argv[1], &ss, &len) != 0 || is_any_addr(&ss))
        return config__error(st,
                             "invalid nameserver address '%s' (expected IPv4:PORT, [IPv6]:PORT "
                             "or an address alone for port 53)",
                             argv[1]);
    r->ns[r->nns] = ss;
    r->nslen[r->nns] = len;
    config__copy(r->ns_id[r->nns], sizeof(r->ns_id[0]), argv[0]);
    r->nns++;
    return 0;
}

int config__kw_parse_resolv_conf(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                                 char **argv, bool neg)
{
    (void)argv;
    if (config__nargs(st, kw, argc, 0, 0))
        return -1;
    cur_resolvers(st)->parse_resolv_conf = !neg;
    return 0;
}

int config__kw_resolvers_timeout(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                                 char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    struct cfg_resolvers *r = cur_resolvers(st);
    bool resolve = strcmp(kw->name, "timeout resolve") == 0;
    return config__get_time(st, kw->name, argv[0], true,
                            resolve ? &r->timeout_resolve : &r->timeout_retry);
}

int config__kw_resolve_retries(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                               char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    return config__get_int(st, "resolve_retries", argv[0], 1, 100,
                           &cur_resolvers(st)->resolve_retries);
}

int config__kw_hold(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                    bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    struct cfg_resolvers *r = cur_resolvers(st);
    const char *which = kw->name + strlen("hold ");
    uint32_t ignored;
    uint32_t *field = strcmp(which, "valid") == 0 ? &r->hold_valid
                      : strcmp(which, "nx") == 0  ? &r->hold_nx
                                                  : &ignored; /* other, refused, timeout, ... */
    return config__get_time(st, kw->name, argv[0], false, field);
}

int config__kw_accepted_payload_size(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                                     char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    int ignored; /* c-ares picks the EDNS payload size itself */
    return config__get_int(st, "accepted_payload_size", argv[0], 512, 65535, &ignored);
}

/* ---- [userlist] ---------------------------------------------------------------------------- */

/* Whether `h` has the shape of a crypt(3) string of a scheme libcrypt verifies: a known prefix,
 * then the scheme's alphabet. bcrypt is checked exactly ($2b$NN$ and 53 characters), since a
 * truncated copy is the usual mistake. */
static bool is_crypt_hash(const char *h)
{
    static const char *const prefixes[] = {"$2b$", "$2y$", "$2a$", "$5$", "$6$", "$y$", "$7$"};
    size_t pl = 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && !pl; i++)
        if (strncmp(h, prefixes[i], strlen(prefixes[i])) == 0)
            pl = strlen(prefixes[i]);
    if (!pl)
        return false;
    for (const char *c = h; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '/' || *c == '$' || *c == '=' ||
              *c == ','))
            return false;
    if (h[1] == '2') {
        const char *c = h + pl;
        if (!isdigit((unsigned char)c[0]) || !isdigit((unsigned char)c[1]) || c[2] != '$')
            return false;
        int cost = (c[0] - '0') * 10 + (c[1] - '0');
        return cost >= 4 && cost <= 31 && strlen(c + 3) == 53 && !strchr(c + 3, '$');
    }
    /* $5$ / $6$ / $y$ / $7$: at least a salt field and a non-empty hash field */
    const char *last = strrchr(h, '$');
    return last > h + pl && last[1] != '\0';
}

static int check_user_name(struct cfg_parser *st, const char *name, const char *where)
{
    if (!*name)
        return config__error(st, "empty user name%s (expected a name without ':')", where);
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == ':' || *c == 0x7f)
            return config__error(st,
                                 "invalid character in user name '%s'%s (expected no blank, "
                                 "control character or ':')",
                                 name, where);
    if (strlen(name) >= sizeof(((struct cfg_user *)0)->name))
        return config__error(st, "user name '%s'%s is too long (expected at most %zu characters)",
                             name, where, sizeof(((struct cfg_user *)0)->name) - 1);
    return 0;
}

/* Append a user (hash or password is copied). `where` locates an htpasswd entry ("" else). */
static int add_user(struct cfg_parser *st, const char *name, const char *hash, const char *pw,
                    const char *where)
{
    struct cfg_userlist *ul = cur_userlist(st);
    for (size_t i = 0; i < ul->nusers; i++)
        if (strcmp(ul->users[i].name, name) == 0)
            return config__error(st,
                                 "duplicate user '%s'%s in %s (first declared at line %d; "
                                 "expected unique user names)",
                                 name, where, st->fwd_label, ul->users[i].line);
    struct cfg_user u = {.line = st->line};
    config__copy(u.name, sizeof(u.name), name);
    u.hash = hash ? strdup(hash) : NULL;
    u.password = pw ? strdup(pw) : NULL;
    if ((hash && !u.hash) || (pw && !u.password)) {
        free(u.hash);
        free(u.password);
        return config__error(st, "out of memory");
    }
    struct cfg_user *n = realloc(ul->users, (ul->nusers + 1) * sizeof(*n));
    if (!n) {
        free(u.hash);
        free(u.password);
        return config__error(st, "out of memory");
    }
    ul->users = n;
    ul->users[ul->nusers++] = u;
    return 0;
}

/* `groups G1,G2` / `users U1,U2`: a comma-separated list of names (checked, then ignored). */
static int check_name_list(struct cfg_parser *st, const char *what, const char *list)
{
    if (!*list || *list == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
        return config__error(st, "empty name in %s list '%s' (expected NAME[,NAME...])", what,
                             list);
    for (const char *c = list; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == ':' || *c == 0x7f)
            return config__error(st, "invalid character in %s list '%s' (expected NAME[,NAME...])",
                                 what, list);
    return 0;
}

int config__kw_user(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                    bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 3, 5) || check_user_name(st, argv[0], ""))
        return -1;
    const char *kind = argv[1], *secret = argv[2];
    bool insecure = strcmp(kind, "insecure-password") == 0;
    if (!insecure && strcmp(kind, "password") != 0)
        return config__error(st,
                             "unknown 'user' option '%s' (expected 'user NAME password HASH' or "
                             "'user NAME insecure-password PASSWORD')",
                             kind);
    if (argc > 3) {
        if (strcmp(argv[3], "groups") != 0 || argc != 5)
            return config__error(st,
                                 "unexpected '%s' after the password of user '%s' (expected "
                                 "'groups G1,G2' or the end of the line)",
                                 argv[3], argv[0]);
        if (check_name_list(st, "groups", argv[4]))
            return -1;
    }
    if (insecure) {
        if (!*secret)
            return config__error(st, "empty password for user '%s' (expected a password)", argv[0]);
        return add_user(st, argv[0], NULL, secret, "");
    }
    if (!is_crypt_hash(secret)) {
        if (strncmp(secret, "$apr1$", 6) == 0 || strncmp(secret, "{SHA}", 5) == 0)
            return config__error(st,
                                 "password of user '%s' is an Apache hash, not a crypt(3) hash; "
                                 "create it with htpasswd -B (bcrypt) (expected " HASH_EXPECT ")",
                                 argv[0]);
        return config__error(
            st, "unsupported password hash for user '%s' (expected " HASH_EXPECT ")", argv[0]);
    }
    return add_user(st, argv[0], secret, NULL, "");
}

int config__kw_group(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 3) || check_name(st, "group", argv[0]))
        return -1;
    if (argc == 1)
        return 0;
    if (strcmp(argv[1], "users") != 0 || argc != 3)
        return config__error(st,
                             "unexpected '%s' after group '%s' (expected 'group NAME users "
                             "U1,U2' or 'group NAME')",
                             argv[1], argv[0]);
    return check_name_list(st, "users", argv[2]);
}

/* `htpasswd FILE`: `name:hash` lines (a third `:comment` field is ignored, as nginx does);
 * blank lines and lines starting with '#' are skipped. Apache's own schemes ($apr1$ MD5, {SHA})
 * are not crypt(3) and are refused with the line that holds them. */
int config__kw_htpasswd(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                        bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1))
        return -1;
    const char *path = argv[0];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return config__error(st, "cannot read htpasswd file '%s' (%s) (expected a readable file)",
                             path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        char where[CFG_PATH_MAX + 32];
        snprintf(where, sizeof(where), " in '%s' line %d", path, lineno);
        if (memchr(line, '\0', (size_t)n)) {
            rc = config__error(st, "NUL byte%s (expected text)", where);
            break;
        }
        char *s = line, *e = line + n;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        *e = '\0';
        if (s == e || *s == '#')
            continue;
        char *colon = strchr(s, ':');
        if (!colon) {
            rc = config__error(st, "no ':' in the entry%s (expected 'NAME:HASH' lines)", where);
            break;
        }
        *colon = '\0';
        char *hash = colon + 1, *extra = strchr(hash, ':');
        if (extra)
            *extra = '\0';
        if (check_user_name(st, s, where)) {
            rc = -1;
            break;
        }
        if (!is_crypt_hash(hash)) {
            rc = config__error(st,
                               "user '%s'%s: not a crypt(3) hash; create it with htpasswd -B "
                               "(bcrypt) (expected " HASH_EXPECT ")",
                               s, where);
            break;
        }
        rc = add_user(st, s, hash, NULL, where);
    }
    if (line)
        explicit_bzero(line, cap);
    free(line);
    fclose(fp);
    return rc;
}

/* ---- proxy keywords ------------------------------------------------------------------------ */

int config__kw_http_proxy(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                          char **argv, bool neg)
{
    (void)argv;
    if (config__nargs(st, kw, argc, 0, 0))
        return -1;
    st->cur->px.http.http_proxy = !neg;
    st->cur->http_proxy_line = neg ? 0 : st->line;
    return 0;
}

int config__kw_anonymize(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                         bool neg)
{
    (void)argv;
    if (config__nargs(st, kw, argc, 0, 0))
        return -1;
    st->cur->px.http.anonymize = !neg;
    return 0;
}

int config__kw_log_format(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                          char **argv, bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    if (argc != 1 || strcmp(argv[0], "squid") != 0)
        return config__error(st,
                             "log-format '%s%s' is not supported yet (expected 'log-format "
                             "squid', or option httplog)",
                             argv[0], argc > 1 ? " ..." : "");
    /* a log format means one line per request, as in HAProxy: httplog's switch, Squid's layout */
    struct cfg_proxy *p = &st->cur->px;
    p->http.log_format = CFG_LOGF_SQUID;
    p->http.httplog = true;
    p->tcplog = false;
    return 0;
}

int config__kw_resolvers(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                         bool neg)
{
    (void)neg;
    if (config__nargs(st, kw, argc, 1, 1) || check_name(st, "resolvers", argv[0]))
        return -1;
    config__copy(st->cur->resolvers, sizeof(st->cur->resolvers), argv[0]);
    st->cur->resolvers_line = st->line;
    return 0;
}

/* ---- validation ---------------------------------------------------------------------------- */

int config__validate_fwd_sections(struct cfg_parser *st)
{
    const struct config *cfg = st->cfg;
    for (size_t i = 0; i < cfg->nresolvers; i++) {
        const struct cfg_resolvers *r = &cfg->resolvers[i];
        if (r->nns == 0 && !r->parse_resolv_conf)
            return config__error_at(st, r->line,
                                    "resolvers section '%s' has no nameserver (expected "
                                    "'nameserver = NAME IP:PORT' or 'parse-resolv-conf')",
                                    r->name);
    }
    return 0;
}

/* Whether a condition tests the client address (src, LOCALHOST), or CONNECT / url_port. */
static bool cond_tests(const struct cfg_http *h, const struct cfg_cond *c, bool connect)
{
    for (size_t t = 0; t < c->nterms; t++) {
        for (size_t k = 0; k < c->terms[t].nacls; k++) {
            const struct cfg_acl *a = &h->acls[c->terms[t].acls[k]];
            if (!connect) {
                if (a->fetch == ACL_F_SRC)
                    return true;
                continue;
            }
            if (a->fetch == ACL_F_URL_PORT)
                return true;
            if (a->fetch == ACL_F_METHOD)
                for (size_t v = 0; v < a->nvalues; v++)
                    if (a->values[v].str && strcasecmp(a->values[v].str, "CONNECT") == 0)
                        return true;
        }
    }
    return false;
}

int config__validate_fwd_proxy(struct cfg_parser *st, struct cfg_proxy *p,
                               const struct cfg_pproxy *pp)
{
    struct config *cfg = st->cfg;
    struct cfg_http *h = &p->http;

    if (h->http_proxy && p->mode != CFG_MODE_HTTP)
        return config__error_at(st, pp->http_proxy_line ? pp->http_proxy_line : p->line,
                                "option http_proxy in %s needs mode http (expected 'mode http' "
                                "in the section or its [defaults])",
                                pp->label);

    h->resolvers = NULL;
    if (pp->resolvers[0]) {
        for (size_t i = 0; i < cfg->nresolvers && !h->resolvers; i++)
            if (strcmp(cfg->resolvers[i].name, pp->resolvers) == 0)
                h->resolvers = &cfg->resolvers[i];
        if (!h->resolvers)
            return config__error_at(st, pp->resolvers_line ? pp->resolvers_line : p->line,
                                    "unknown resolvers section '%s' in %s (expected the name of "
                                    "a [resolvers NAME] section)",
                                    pp->resolvers, pp->label);
    } else if ((p->caps & CFG_CAP_FE) && cfg->nresolvers == 1) {
        h->resolvers = &cfg->resolvers[0];
    }

    h->auth_list = NULL;
    const struct cfg_acl *first = NULL;
    for (size_t i = 0; i < h->nacls; i++) {
        const struct cfg_acl *a = &h->acls[i];
        if (a->fetch != ACL_F_HTTP_AUTH)
            continue;
        const struct cfg_userlist *ul = NULL;
        for (size_t k = 0; k < cfg->nuserlists && !ul; k++)
            if (strcmp(cfg->userlists[k].name, a->arg) == 0)
                ul = &cfg->userlists[k];
        if (!ul)
            return config__error_at(st, a->line,
                                    "unknown userlist '%s' in 'http_auth(%s)' (expected the name "
                                    "of a [userlist NAME] section)",
                                    a->arg, a->arg);
        if (h->auth_list && h->auth_list != ul)
            return config__error_at(st, a->line,
                                    "http_auth(%s) in %s names a second userlist after "
                                    "http_auth(%s) at line %d (expected one userlist per proxy "
                                    "for now)",
                                    a->arg, pp->label, first->arg, first->line);
        if (!h->auth_list)
            first = a;
        h->auth_list = ul;
    }

    h->has_client_acl = h->has_connect_rule = false;
    for (size_t i = 0; i < h->nuse_backends; i++)
        h->has_client_acl |= cond_tests(h, &h->use_backends[i].cond, false);
    for (size_t i = 0; i < h->nreq_rules; i++) {
        h->has_client_acl |= cond_tests(h, &h->req_rules[i].cond, false);
        h->has_connect_rule |= cond_tests(h, &h->req_rules[i].cond, true);
    }
    for (size_t i = 0; i < h->nresp_rules; i++)
        h->has_client_acl |= cond_tests(h, &h->resp_rules[i].cond, false);
    return 0;
}

/* ---- freeing ------------------------------------------------------------------------------- */

void config__fwd_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->nuserlists; i++) {
        struct cfg_userlist *ul = &cfg->userlists[i];
        for (size_t k = 0; k < ul->nusers; k++) {
            free(ul->users[k].hash);
            if (ul->users[k].password) {
                explicit_bzero(ul->users[k].password, strlen(ul->users[k].password));
                free(ul->users[k].password);
            }
        }
        free(ul->users);
    }
    free(cfg->userlists);
    free(cfg->resolvers);
    cfg->userlists = NULL;
    cfg->resolvers = NULL;
    cfg->nuserlists = cfg->nresolvers = 0;
}
