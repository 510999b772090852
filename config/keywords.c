/* The keyword table: every statement sluice accepts, where, its default, its parser and help.
 *
 * docs/configuration.md documents this table entry by entry (a unit test checks that every name
 * appears there). A statement is looked up by its first word, or by its first two for a family
 * ("timeout connect", "option httpchk", "http-check expect"); an optional leading `no` negates. */
#include "config/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#define SEC_D CFG_SEC_DEFAULTS
#define SEC_F CFG_SEC_FRONTEND
#define SEC_B CFG_SEC_BACKEND
#define SEC_L CFG_SEC_LISTEN
#define SEC_G CFG_SEC_GLOBAL
#define SEC_R CFG_SEC_RESOLVERS
#define SEC_U CFG_SEC_USERLIST
#define SEC_E CFG_SEC_HTTP_ERRORS

#define TIME_EXPECT "a number with an optional unit: us, ms, s, m, h, d"
#define ADDR_EXPECT "IPv4:PORT, [IPv6]:PORT, *:PORT or :PORT"

/* ---- argument helpers ---------------------------------------------------------------------- */

static int nargs(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, int min, int max)
{
    if (argc < min)
        return config__error(st, "'%s' needs %s (expected '%s %s')", kw->name,
                             min == 1 ? "an argument" : "more arguments", kw->name, kw->syntax);
    if (argc > max) {
        if (max == 0)
            return config__error(st, "'%s' takes no argument (expected '%s =')", kw->name,
                                 kw->name);
        return config__error(st, "too many arguments for '%s' (expected '%s %s')", kw->name,
                             kw->name, kw->syntax);
    }
    return 0;
}

static int get_int(struct cfg_parser *st, const char *what, const char *text, long long min,
                   long long max, int *out)
{
    long long v;
    if (config__parse_int(text, min, max, &v) != 0) {
        if (max == INT_MAX)
            return config__error(st, "invalid %s '%s' (expected an integer >= %lld)", what, text,
                                 min);
        return config__error(st, "invalid %s '%s' (expected an integer from %lld to %lld)", what,
                             text, min, max);
    }
    *out = (int)v;
    return 0;
}

static int get_time(struct cfg_parser *st, const char *what, const char *text, bool nonzero,
                    uint32_t *out)
{
    uint32_t v;
    int rc = config_parse_time(text, &v);
    if (rc == -ERANGE)
        return config__error(st,
                             "time '%s' for '%s' is too large (expected at most %ums, about 49 "
                             "days)",
                             text, what, UINT32_MAX);
    if (rc != 0)
        return config__error(st, "invalid time '%s' for '%s' (expected " TIME_EXPECT ")", text,
                             what);
    if (nonzero && v == 0)
        return config__error(st, "'%s' must be greater than 0 (got '%s')", what, text);
    *out = v;
    return 0;
}

/* Names of proxies and servers: HAProxy's character set. */
static int check_name(struct cfg_parser *st, const char *what, const char *name)
{
    if (!*name)
        return config__error(st, "empty %s name (expected letters, digits, '-', '_', '.', ':')",
                             what);
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
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

static struct cfg_proxy *px(struct cfg_parser *st)
{
    return &st->cur->px;
}

int config__nargs(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, int min, int max)
{
    return nargs(st, kw, argc, min, max);
}

int config__get_int(struct cfg_parser *st, const char *what, const char *text, long long min,
                    long long max, int *out)
{
    return get_int(st, what, text, min, max, out);
}

int config__get_time(struct cfg_parser *st, const char *what, const char *text, bool nonzero,
                     uint32_t *out)
{
    return get_time(st, what, text, nonzero, out);
}

/* ---- global -------------------------------------------------------------------------------- */

static int kw_global_maxconn(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                             char **argv, bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    return get_int(st, "maxconn", argv[0], 1, INT_MAX, &st->cfg->maxconn);
}

static int kw_nbthread(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                       bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    return get_int(st, "nbthread", argv[0], 1, 4096, &st->cfg->nbthread);
}

static int kw_poller(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    if (strcmp(argv[0], "epoll") == 0)
        st->cfg->poller = CFG_POLLER_EPOLL;
    else if (strcmp(argv[0], "io_uring") == 0)
        st->cfg->poller = CFG_POLLER_URING;
    else
        return config__error(st, "unknown poller '%s' (expected epoll or io_uring)", argv[0]);
    return 0;
}

static int kw_send_batching(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                            char **argv, bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    if (strcmp(argv[0], "on") == 0)
        st->cfg->no_send_batching = false;
    else if (strcmp(argv[0], "off") == 0)
        st->cfg->no_send_batching = true;
    else
        return config__error(st, "tune.send-batching takes on or off, not '%s'", argv[0]);
    return 0;
}

/* A byte count: digits with an optional k or m suffix (binary multiples, as HAProxy's sizes). */
static int get_size(struct cfg_parser *st, const char *what, const char *text, long long min,
                    long long max, int *out)
{
    char num[32];
    size_t n = strlen(text);
    long long mult = 1;
    const char *digits = text;
    if (n > 1 && n < sizeof(num) && strchr("kKmM", text[n - 1])) {
        mult = (text[n - 1] == 'k' || text[n - 1] == 'K') ? 1024 : 1024 * 1024;
        memcpy(num, text, n - 1);
        num[n - 1] = '\0';
        digits = num;
    }
    long long v = 0;
    int rc = config__parse_int(digits, 0, max, &v);
    if (rc == -EINVAL)
        return config__error(st, "%s: '%s' is not a size (expected bytes, or a number with k or m)",
                             what, text);
    if (rc < 0 || v * mult < min || v * mult > max)
        return config__error(st, "%s: '%s' is out of range (%lld to %lld bytes)", what, text, min,
                             max);
    *out = (int)(v * mult);
    return 0;
}

/* tune.bufsize: at least room for a generated error page, at most the parser's cap on a head.
 * tune.pipesize: the kernel rounds up to a power of two pages; 1 GiB is past any pipe-max-size. */
static int kw_maxhdr(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    return get_int(st, "tune.http.maxhdr", argv[0], 1, CFG_MAXHDR_MAX, &st->cfg->maxhdr);
}

static int kw_tune_size(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                        bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    if (strcmp(kw->name, "tune.bufsize") == 0)
        return get_size(st, kw->name, argv[0], 4096, 1 << 20, &st->cfg->bufsize);
    return get_size(st, kw->name, argv[0], 4096, 1 << 30, &st->cfg->pipesize);
}

/* HAProxy's facility names, in syslog order (RFC 5424 section 6.2.1). */
static const char *const log_facilities[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
static const char *const log_levels[] = {"emerg",   "alert",  "crit", "err",
                                         "warning", "notice", "info", "debug"};

static int name_index(const char *const *names, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], word) == 0)
            return (int)i;
    return -1;
}

/* The target word: stdout, stderr, IP[:PORT] / udp@IP:PORT (UDP syslog), unix@PATH, /dev/log or
 * an existing unix socket (syslog over a unix datagram socket), anything else a file. */
static int log_target(struct cfg_parser *st, const char *t, struct cfg_log *lg)
{
    const char *path = t;
    if (strcmp(t, "global") == 0)
        return config__error(st, "'log global' is for proxies; in [global] name a target "
                                 "(expected stdout, stderr, a file, a unix socket or IP:PORT)");
    if (strncmp(t, "ring@", 5) == 0 || strncmp(t, "fd@", 3) == 0)
        return config__error(st,
                             "log target '%s' is not supported (expected stdout, stderr, a "
                             "file, a unix socket or IP:PORT)",
                             t);
    if (strcmp(t, "stdout") == 0) {
        lg->kind = CFG_LOG_STDOUT;
    } else if (strcmp(t, "stderr") == 0) {
        lg->kind = CFG_LOG_STDERR;
    } else if (strncmp(t, "udp@", 4) == 0 || strncmp(t, "udp4@", 5) == 0 ||
               strncmp(t, "udp6@", 5) == 0 || (t[0] != '/' && t[0] != '.' && strchr(t, ':')) ||
               (t[0] != '/' && strspn(t, "0123456789.") == strlen(t) && strchr(t, '.'))) {
        const char *a = strchr(t, '@') ? strchr(t, '@') + 1 : t;
        char buf[CFG_NAME_MAX * 2];
        /* Without a port, HAProxy's default syslog port 514. */
        const char *colon = strchr(a, ':');
        if (a[0] == '[')
            snprintf(buf, sizeof(buf), strstr(a, "]:") ? "%s" : "%s:514", a);
        else if (colon && colon == strrchr(a, ':'))
            snprintf(buf, sizeof(buf), "%s", a);
        else
            snprintf(buf, sizeof(buf), colon ? "[%s]:514" : "%s:514", a);
        if (config_parse_addr(buf, &lg->addr, &lg->addrlen) != 0)
            return config__error(st,
                                 "invalid syslog address '%s' (expected IP[:PORT], "
                                 "[IPv6]:PORT or udp@IP:PORT)",
                                 t);
        lg->kind = CFG_LOG_UDP;
    } else {
        struct stat sb;
        if (strncmp(t, "unix@", 5) == 0) {
            path = t + 5;
            lg->kind = CFG_LOG_UNIX;
        } else if (strcmp(t, "/dev/log") == 0 || (stat(t, &sb) == 0 && S_ISSOCK(sb.st_mode))) {
            lg->kind = CFG_LOG_UNIX;
        } else {
            lg->kind = CFG_LOG_FILE;
        }
        if (lg->kind == CFG_LOG_UNIX && strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return config__error(st,
                                 "unix socket path '%s' is too long (expected at most %zu "
                                 "characters)",
                                 path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        if (!path[0])
            return config__error(st, "'unix@' needs a socket path (expected unix@/PATH)");
    }
    if (!config__copy(st->cfg->log_target, sizeof(st->cfg->log_target), path))
        return config__error(st, "log path is too long (expected at most %zu characters)",
                             sizeof(st->cfg->log_target) - 1);
    return 0;
}

static int kw_log(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                  bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 8))
        return -1;
    struct cfg_log lg = {.facility = 16, .level = 7};
    if (log_target(st, argv[0], &lg) < 0)
        return -1;
    int i = 1;
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "len") == 0) {
            if (get_int(st, "log len", argv[i + 1], 80, 65535, &lg.len))
                return -1;
        } else if (strcmp(argv[i], "format") == 0) {
            const char *f = argv[i + 1];
            if (strcmp(f, "rfc3164") == 0)
                lg.format = CFG_LOGFMT_RFC3164;
            else if (strcmp(f, "rfc5424") == 0)
                lg.format = CFG_LOGFMT_RFC5424;
            else if (strcmp(f, "raw") == 0)
                lg.format = CFG_LOGFMT_RAW;
            else
                return config__error(st,
                                     "unsupported log format '%s' (expected rfc3164, "
                                     "rfc5424 or raw)",
                                     f);
        } else if (strcmp(argv[i], "sample") == 0) {
            return config__error(st, "'log ... sample' is not supported (one target receives "
                                     "every line)");
        } else {
            break;
        }
    }
    bool syslog = lg.kind == CFG_LOG_UNIX || lg.kind == CFG_LOG_UDP;
    if (i < argc) {
        lg.facility = name_index(log_facilities, 24, argv[i]);
        if (lg.facility < 0)
            return config__error(st,
                                 "unknown syslog facility '%s' (expected kern, user, mail, "
                                 "daemon, auth, syslog, lpr, news, uucp, cron, auth2, ftp, "
                                 "ntp, audit, alert, cron2 or local0 to local7)",
                                 argv[i]);
        i++;
    } else if (syslog) {
        return config__error(st, "syslog target '%s' needs a facility (expected 'log %s local0')",
                             argv[0], argv[0]);
    }
    for (int k = 0; i < argc; i++, k++) {
        int lv = k < 2 ? name_index(log_levels, 8, argv[i]) : -2;
        if (lv == -2)
            return config__error(st, "unexpected '%s' after the log levels (expected 'log %s')",
                                 argv[i], kw->syntax);
        if (lv < 0)
            return config__error(st,
                                 "unknown log level '%s' (expected emerg, alert, crit, err, "
                                 "warning, notice, info or debug)",
                                 argv[i]);
        if (k == 0)
            lg.level = lv;
        else
            lg.minlevel = lv;
    }
    if (lg.minlevel > lg.level)
        return config__error(st,
                             "log minimum level '%s' is less urgent than the maximum level "
                             "'%s'",
                             log_levels[lg.minlevel], log_levels[lg.level]);
    st->cfg->log = lg;
    return 0;
}

static int kw_pidfile(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    if (!config__copy(st->cfg->pidfile, sizeof(st->cfg->pidfile), argv[0]))
        return config__error(st, "pidfile path is too long (expected at most %zu characters)",
                             sizeof(st->cfg->pidfile) - 1);
    return 0;
}

static int kw_daemon(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)argv;
    if (nargs(st, kw, argc, 0, 0))
        return -1;
    st->cfg->daemon = !neg;
    return 0;
}

/* ---- runtime API (core/cli.c) ------------------------------------------------------------- */

static int kw_stats_socket(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                           char **argv, bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 8))
        return -1;
    if (st->cfg->nstats_sockets >= CFG_STATS_SOCKETS_MAX)
        return config__error(st, "too many 'stats socket' lines (expected at most %d)",
                             CFG_STATS_SOCKETS_MAX);
    struct cfg_stats_socket ss = {.mode = -1, .level = CFG_CLI_OPERATOR, .line = st->line};
    const char *path = argv[0];
    if (strncmp(path, "unix@", 5) == 0)
        path += 5;
    if (strchr(path, ':') && path[0] != '/' && path[0] != '.')
        return config__error(st,
                             "'stats socket %s': only unix socket paths are supported (expected "
                             "a path such as /run/sluice.sock)",
                             argv[0]);
    if (!*path || !config__copy(ss.path, sizeof(ss.path), path))
        return config__error(st,
                             "stats socket path '%s' is empty or too long (expected 1 to %zu "
                             "characters)",
                             argv[0], sizeof(ss.path) - 1);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "mode") == 0 && v) {
            char *end;
            errno = 0;
            long m = strtol(v, &end, 8);
            if (errno || *end || end == v || m < 0 || m > 07777)
                return config__error(
                    st, "invalid stats socket mode '%s' (expected octal, e.g. 600)", v);
            ss.mode = (int)m;
        } else if (strcmp(o, "level") == 0 && v) {
            if (strcmp(v, "user") == 0)
                ss.level = CFG_CLI_USER;
            else if (strcmp(v, "operator") == 0)
                ss.level = CFG_CLI_OPERATOR;
            else if (strcmp(v, "admin") == 0)
                ss.level = CFG_CLI_ADMIN;
            else
                return config__error(st,
                                     "invalid stats socket level '%s' (expected user, operator "
                                     "or admin)",
                                     v);
        } else if (strcmp(o, "expose-fd") == 0 && v) {
            if (strcmp(v, "listeners") != 0)
                return config__error(st, "invalid 'expose-fd %s' (expected 'expose-fd listeners')",
                                     v);
            ss.expose_fd = true;
        } else {
            return config__error(st,
                                 "unknown or incomplete stats socket option '%s' (expected mode "
                                 "OCTAL, level user|operator|admin or expose-fd listeners)",
                                 o);
        }
        i++;
    }
    for (size_t i = 0; i < st->cfg->nstats_sockets; i++)
        if (strcmp(st->cfg->stats_sockets[i].path, ss.path) == 0)
            return config__error(st, "stats socket '%s' is already declared on line %d", ss.path,
                                 st->cfg->stats_sockets[i].line);
    st->cfg->stats_sockets[st->cfg->nstats_sockets++] = ss;
    return 0;
}

static int kw_stats_timeout(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                            char **argv, bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    return get_time(st, "stats timeout", argv[0], true, &st->cfg->stats_timeout);
}

/* ---- proxies ------------------------------------------------------------------------------- */

static int kw_mode(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                   bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    if (strcmp(argv[0], "tcp") == 0)
        px(st)->mode = CFG_MODE_TCP;
    else if (strcmp(argv[0], "http") == 0)
        px(st)->mode = CFG_MODE_HTTP;
    else
        return config__error(st, "unknown mode '%s' (expected tcp or http)", argv[0]);
    return 0;
}

static int kw_bind(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                   bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    bool accept_proxy = false, defer_accept = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "accept-proxy") == 0)
            accept_proxy = true;
        else if (strcmp(argv[i], "defer-accept") == 0)
            defer_accept = true;
        else
            return config__error(
                st, "unknown bind option '%s' (expected accept-proxy or defer-accept)", argv[i]);
    }
    if (argv[0][0] == '\0' || argv[0][0] == ',' || argv[0][strlen(argv[0]) - 1] == ',' ||
        strstr(argv[0], ",,"))
        return config__error(st, "empty address in 'bind' list (expected " ADDR_EXPECT
                                 ", separated by commas)");
    struct cfg_proxy *p = px(st);
    char *save = NULL;
    for (char *a = strtok_r(argv[0], ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        struct cfg_bind b = {
            .accept_proxy = accept_proxy, .defer_accept = defer_accept, .line = st->line};
        if (!config__copy(b.text, sizeof(b.text), a) ||
            config_parse_addr(a, &b.addr, &b.addrlen) != 0)
            return config__error(st, "invalid bind address '%s' (expected " ADDR_EXPECT ")", a);
        struct cfg_bind *nb = realloc(p->binds, (p->nbinds + 1) * sizeof(*nb));
        if (!nb)
            return config__error(st, "out of memory");
        p->binds = nb;
        p->binds[p->nbinds++] = b;
    }
    return 0;
}

static int kw_default_backend(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                              char **argv, bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1) || check_name(st, "backend", argv[0]))
        return -1;
    config__copy(px(st)->default_backend, sizeof(px(st)->default_backend), argv[0]);
    px(st)->default_backend_line = st->line;
    return 0;
}

static int kw_maxconn(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    return get_int(st, "maxconn", argv[0], 0, INT_MAX, &px(st)->maxconn);
}

#define BALANCE_EXPECT                                                                             \
    "roundrobin, static-rr, leastconn, first, source, random, uri, url_param NAME, hdr(NAME)"

static int kw_balance(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, CFG_MAX_WORDS))
        return -1;
    static const struct {
        const char *name;
        enum cfg_balance lb;
    } algos[] = {
        {"roundrobin", CFG_LB_ROUNDROBIN}, {"static-rr", CFG_LB_STATIC_RR},
        {"leastconn", CFG_LB_LEASTCONN},   {"first", CFG_LB_FIRST},
        {"source", CFG_LB_SOURCE},         {"random", CFG_LB_RANDOM},
        {"random(2)", CFG_LB_RANDOM},      {"uri", CFG_LB_URI},
        {"url_param", CFG_LB_URL_PARAM},
    };
    struct cfg_proxy *p = px(st);
    const char *a = argv[0];
    char arg[sizeof(p->http.hash_arg)] = "";
    int lb = -1;
    for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
        if (strcmp(a, algos[i].name) == 0)
            lb = (int)algos[i].lb;
    if (lb < 0 && strncmp(a, "hdr(", 4) == 0) {
        size_t n = strlen(a);
        if (n < 6 || a[n - 1] != ')')
            return config__error(st,
                                 "'balance %s' needs a header name (expected 'balance "
                                 "hdr(NAME)')",
                                 a);
        if (n - 5 >= sizeof(arg))
            return config__error(st,
                                 "header name in '%s' is too long (expected at most %zu "
                                 "characters)",
                                 a, sizeof(arg) - 1);
        for (size_t i = 0; i < n - 5; i++) {
            unsigned char c = (unsigned char)a[4 + i];
            if (!config__is_tchar(c))
                return config__error(st,
                                     "invalid header name in '%s' (expected 'balance "
                                     "hdr(NAME)')",
                                     a);
            arg[i] = (char)tolower(c);
        }
        arg[n - 5] = '\0';
        lb = CFG_LB_HDR;
    }
    if (lb < 0) {
        if (strncmp(a, "random(", 7) == 0)
            return config__error(st,
                                 "unsupported draw count in '%s' (expected random or random(2): "
                                 "sluice picks the better of two random servers)",
                                 a);
        if (strcmp(a, "rdp-cookie") == 0 || strncmp(a, "rdp-cookie(", 11) == 0 ||
            strcmp(a, "hash") == 0)
            return config__error(
                st, "balance algorithm '%s' is not supported yet (expected " BALANCE_EXPECT ")", a);
        return config__error(st, "unknown balance algorithm '%s' (expected " BALANCE_EXPECT ")", a);
    }
    int max = lb == CFG_LB_URL_PARAM ? 2 : 1;
    if (lb == CFG_LB_URL_PARAM) {
        if (argc < 2)
            return config__error(st, "'balance url_param' needs a parameter name (expected "
                                     "'balance url_param NAME')");
        if (!config__copy(arg, sizeof(arg), argv[1]))
            return config__error(st,
                                 "parameter name '%s' is too long (expected at most %zu "
                                 "characters)",
                                 argv[1], sizeof(arg) - 1);
    }
    if (argc > max)
        return config__error(st,
                             "option '%s' of 'balance %s' is not supported yet (expected "
                             "'balance %s%s')",
                             argv[max], a, a, lb == CFG_LB_URL_PARAM ? " NAME" : "");
    p->balance = (enum cfg_balance)lb;
    memcpy(p->http.hash_arg, arg, sizeof(arg));
    st->cur->balance_line = st->line;
    return 0;
}

#define SRV_OPTS_EXPECT                                                                            \
    "check, weight N, inter T, fastinter T, downinter T, rise N, fall N, backup, maxconn N, "      \
    "slowstart T, disabled, send-proxy, send-proxy-v2, cookie V"

/* Apply `server`/`default-server` options to srv. `who` names the statement in messages. */
static int server_options(struct cfg_parser *st, const char *who, struct cfg_server *srv, int argc,
                          char **argv)
{
    static const char *const flags[] = {
        "check",   "no-check",   "backup",        "no-backup",     "disabled",
        "enabled", "send-proxy", "send-proxy-v2", "no-send-proxy", "no-send-proxy-v2",
    };
    static const char *const valued[] = {"weight", "inter",   "fastinter", "downinter", "rise",
                                         "fall",   "maxconn", "slowstart", "cookie"};
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "check") == 0)
            srv->check = true;
        else if (strcmp(o, "no-check") == 0)
            srv->check = false;
        else if (strcmp(o, "backup") == 0)
            srv->backup = true;
        else if (strcmp(o, "no-backup") == 0)
            srv->backup = false;
        else if (strcmp(o, "disabled") == 0)
            srv->disabled = true;
        else if (strcmp(o, "enabled") == 0)
            srv->disabled = false;
        else if (strcmp(o, "send-proxy") == 0)
            srv->send_proxy = CFG_PP_V1;
        else if (strcmp(o, "send-proxy-v2") == 0)
            srv->send_proxy = CFG_PP_V2;
        else if (strcmp(o, "no-send-proxy") == 0 || strcmp(o, "no-send-proxy-v2") == 0)
            srv->send_proxy = CFG_PP_NONE;
        else {
            bool is_valued = false;
            for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
                is_valued |= strcmp(o, valued[k]) == 0;
            if (!is_valued) {
                const char *best = NULL;
                int bd = 3;
                for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
                    int d = config__distance(o, flags[k]);
                    if (d < bd)
                        bd = d, best = flags[k];
                }
                for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
                    int d = config__distance(o, valued[k]);
                    if (d < bd)
                        bd = d, best = valued[k];
                }
                if (best && bd < (int)strlen(o))
                    return config__error(st,
                                         "unknown %s option '%s' (did you mean '%s'? expected "
                                         "" SRV_OPTS_EXPECT ")",
                                         who, o, best);
                return config__error(st, "unknown %s option '%s' (expected " SRV_OPTS_EXPECT ")",
                                     who, o);
            }
            if (i + 1 >= argc)
                return config__error(st, "%s option '%s' needs a value (expected '%s %s')", who, o,
                                     o,
                                     (strcmp(o, "weight") == 0 || strcmp(o, "rise") == 0 ||
                                      strcmp(o, "fall") == 0 || strcmp(o, "maxconn") == 0)
                                         ? "<number>"
                                     : strcmp(o, "cookie") == 0 ? "<value>"
                                                                : "<time>");
            const char *v = argv[++i];
            int rc;
            if (strcmp(o, "cookie") == 0) {
                for (const char *c = v; *c; c++)
                    if (*c <= ' ' || *c >= 127 || strchr("\",;\\", *c))
                        return config__error(st,
                                             "invalid character in cookie value '%s' (expected "
                                             "letters, digits and punctuation other than "
                                             "\" , ; \\)",
                                             v);
                if (!*v || !config__copy(srv->cookie, sizeof(srv->cookie), v))
                    return config__error(st,
                                         "invalid cookie value '%s' (expected 1 to %zu "
                                         "characters)",
                                         v, sizeof(srv->cookie) - 1);
                continue;
            }
            if (strcmp(o, "weight") == 0)
                rc = get_int(st, "weight", v, 0, 256, &srv->weight);
            else if (strcmp(o, "rise") == 0)
                rc = get_int(st, "rise", v, 1, 1000, &srv->rise);
            else if (strcmp(o, "fall") == 0)
                rc = get_int(st, "fall", v, 1, 1000, &srv->fall);
            else if (strcmp(o, "maxconn") == 0)
                rc = get_int(st, "server maxconn", v, 0, INT_MAX, &srv->maxconn);
            else if (strcmp(o, "inter") == 0)
                rc = get_time(st, "inter", v, true, &srv->inter);
            else if (strcmp(o, "fastinter") == 0)
                rc = get_time(st, "fastinter", v, true, &srv->fastinter);
            else if (strcmp(o, "downinter") == 0)
                rc = get_time(st, "downinter", v, true, &srv->downinter);
            else
                rc = get_time(st, "slowstart", v, false, &srv->slowstart);
            if (rc)
                return -1;
        }
    }
    return 0;
}

static int kw_server(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 2, CFG_MAX_WORDS) || check_name(st, "server", argv[0]))
        return -1;
    struct cfg_proxy *p = px(st);
    for (size_t i = 0; i < p->nservers; i++)
        if (strcmp(p->servers[i].name, argv[0]) == 0)
            return config__error(st,
                                 "duplicate server '%s' in %s (first declared at line %d; "
                                 "expected unique server names)",
                                 argv[0], st->cur->label, p->servers[i].line);
    struct cfg_server s = st->cur->defsrv;
    config__copy(s.name, sizeof(s.name), argv[0]);
    s.line = st->line;
    if (!config__copy(s.addr_text, sizeof(s.addr_text), argv[1]) ||
        config_parse_addr(argv[1], &s.addr, &s.addrlen) != 0)
        return config__error(st, "invalid address '%s' for server '%s' (expected " ADDR_EXPECT ")",
                             argv[1], argv[0]);
    if (server_options(st, "server", &s, argc - 2, argv + 2))
        return -1;
    struct cfg_server *ns = realloc(p->servers, (p->nservers + 1) * sizeof(*ns));
    if (!ns)
        return config__error(st, "out of memory");
    p->servers = ns;
    p->servers[p->nservers++] = s;
    return 0;
}

static int kw_default_server(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                             char **argv, bool neg)
{
    (void)kw;
    (void)neg;
    return server_options(st, "default-server", &st->cur->defsrv, argc, argv);
}

static int kw_timeout(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    struct cfg_timeouts *t = &px(st)->timeout;
    const char *which = kw->name + strlen("timeout ");
    uint32_t *field = strcmp(which, "connect") == 0      ? &t->connect
                      : strcmp(which, "client") == 0     ? &t->client
                      : strcmp(which, "server") == 0     ? &t->server
                      : strcmp(which, "queue") == 0      ? &t->queue
                      : strcmp(which, "check") == 0      ? &t->check
                      : strcmp(which, "client-fin") == 0 ? &t->client_fin
                      : strcmp(which, "server-fin") == 0 ? &t->server_fin
                                                         : &t->drain;
    return get_time(st, kw->name, argv[0], false, field);
}

static int kw_retries(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 1, 1))
        return -1;
    return get_int(st, "retries", argv[0], 0, 1000000, &px(st)->retries);
}

static int kw_redispatch(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                         bool neg)
{
    (void)argv;
    if (nargs(st, kw, argc, 0, 0))
        return -1;
    px(st)->redispatch = !neg;
    return 0;
}

static int kw_nolinger(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                       bool neg)
{
    (void)argv;
    if (nargs(st, kw, argc, 0, 0))
        return -1;
    px(st)->nolinger = !neg;
    return 0;
}

/* `option splice-auto|splice-request|splice-response`: sluice splices by itself (bodies and
 * tunnels go through pipes once reads fill the buffer), so HAProxy's switches change nothing;
 * accepted so that tuned configs load. */
static int kw_splice(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)argv;
    (void)neg;
    return nargs(st, kw, argc, 0, 0);
}

/* `hash-type map-based|consistent [FUNCTION] [avalanche]`: sluice's hash balancing always uses
 * its Maglev table (consistent: removing one of N servers remaps about 1/N of the keys) over a
 * hash of its own; the statement is checked and accepted so that HAProxy configs load. */
static int kw_hash_type(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                        bool neg)
{
    (void)neg;
    static const char *const fns[] = {"sdbm", "djb2", "wt6", "crc32", "none"};
    if (nargs(st, kw, argc, 1, 3))
        return -1;
    if (strcmp(argv[0], "map-based") != 0 && strcmp(argv[0], "consistent") != 0)
        return config__error(st,
                             "unknown hash-type method '%s' (expected map-based or "
                             "consistent)",
                             argv[0]);
    for (int i = 1; i < argc; i++) {
        bool ok = strcmp(argv[i], "avalanche") == 0 && i == argc - 1;
        for (size_t k = 0; k < sizeof(fns) / sizeof(fns[0]) && i == 1; k++)
            ok |= strcmp(argv[i], fns[k]) == 0;
        if (!ok)
            return config__error(st,
                                 "unexpected '%s' in hash-type (expected a function: sdbm, "
                                 "djb2, wt6, crc32 or none, then optionally avalanche)",
                                 argv[i]);
    }
    return 0;
}

static int kw_tcp_check(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                        bool neg)
{
    (void)argv;
    (void)neg;
    if (nargs(st, kw, argc, 0, 0))
        return -1;
    px(st)->check_type = CFG_CHECK_TCP;
    return 0;
}

static int kw_httpchk(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    struct cfg_proxy *p = px(st);
    if (neg) {
        if (nargs(st, kw, argc, 0, 0))
            return -1;
        p->check_type = CFG_CHECK_TCP;
        return 0;
    }
    if (nargs(st, kw, argc, 0, 3))
        return -1;
    /* HAProxy: none = OPTIONS /; one = URI; two = METHOD URI; three = METHOD URI VERSION. */
    const char *method = "OPTIONS", *uri = "/", *version = "HTTP/1.0";
    if (argc == 1)
        uri = argv[0];
    if (argc >= 2)
        method = argv[0], uri = argv[1];
    if (argc == 3)
        version = argv[2];
    for (const char *m = method; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return config__error(st,
                                 "invalid HTTP method '%s' in 'option httpchk' (expected "
                                 "upper-case letters like GET, HEAD or OPTIONS)",
                                 method);
    if (!config__copy(p->httpchk_method, sizeof(p->httpchk_method), method) || !*method)
        return config__error(st, "HTTP method '%s' is too long (expected at most %zu letters)",
                             method, sizeof(p->httpchk_method) - 1);
    if (uri[0] != '/' && uri[0] != '*')
        return config__error(st,
                             "invalid URI '%s' in 'option httpchk' (expected a path starting "
                             "with '/')",
                             uri);
    if (!config__copy(p->httpchk_uri, sizeof(p->httpchk_uri), uri))
        return config__error(st,
                             "URI in 'option httpchk' is too long (expected at most %zu "
                             "characters)",
                             sizeof(p->httpchk_uri) - 1);
    if (!config__copy(p->httpchk_version, sizeof(p->httpchk_version), version))
        return config__error(st,
                             "HTTP version in 'option httpchk' is too long (expected at most "
                             "%zu characters)",
                             sizeof(p->httpchk_version) - 1);
    p->check_type = CFG_CHECK_HTTP;
    return 0;
}

/* `option dontlognull` and `option dontlog-normal` (frontend side: what the log leaves out) */
static int kw_dontlog(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                      bool neg)
{
    (void)argv;
    if (nargs(st, kw, argc, 0, 0))
        return -1;
    if (strcmp(kw->name, "option dontlognull") == 0)
        px(st)->dontlognull = !neg;
    else
        px(st)->dontlog_normal = !neg;
    return 0;
}

static int kw_tcplog(struct cfg_parser *st, const struct cfg_keyword *kw, int argc, char **argv,
                     bool neg)
{
    (void)argv;
    if (nargs(st, kw, argc, 0, 0))
        return -1;
    px(st)->tcplog = !neg;
    if (!neg) { /* one log format: the last statement wins */
        px(st)->http.httplog = false;
        px(st)->http.log_format = CFG_LOGF_DEFAULT;
    }
    return 0;
}

static int kw_http_check_expect(struct cfg_parser *st, const struct cfg_keyword *kw, int argc,
                                char **argv, bool neg)
{
    (void)neg;
    if (nargs(st, kw, argc, 2, 2))
        return -1;
    if (strcmp(argv[0], "status") != 0)
        return config__error(st,
                             "unsupported 'http-check expect %s' (expected 'http-check "
                             "expect status CODE')",
                             argv[0]);
    if (get_int(st, "status code", argv[1], 100, 599, &px(st)->httpchk_expect_status))
        return -1;
    st->cur->expect_line = st->line;
    return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

const struct cfg_keyword config__keywords[] = {
    /* global */
    {"maxconn", SEC_G, false, kw_global_maxconn, "<number>",
     "(RLIMIT_NOFILE soft limit - 64) / 2, at least 64",
     "Process-wide limit of concurrent client connections; over it, accepting pauses.",
     "maxconn = 20000"},
    {"nbthread", SEC_G, false, kw_nbthread, "<number>", "online CPUs",
     "Worker threads, one event loop each, pinned one per core (1 to 4096).", "nbthread = 4"},
    {"poller", SEC_G, false, kw_poller, "epoll | io_uring", "epoll",
     "Event-notification mechanism of the workers.", "poller = epoll"},
    {"tune.send-batching", SEC_G, false, kw_send_batching, "on | off", "on",
     "Queue the small writes (up to 4 KiB) a worker makes while it handles one batch of events and "
     "submit them together with one io_uring system call at the end of the batch, instead of one "
     "sendmsg each; epoll still tells when sockets are ready. Off, or where io_uring is "
     "unavailable (old kernel, kernel.io_uring_disabled, seccomp; a notice is logged), every "
     "write is its own system call.",
     "tune.send-batching = off"},
    {"tune.bufsize", SEC_G, false, kw_tune_size, "<size>", "16k",
     "Size of each worker buffer (bytes, or with a k or m suffix, 4k to 1m): the largest request "
     "or response head sluice accepts (a larger request head is answered 431, a larger response "
     "head 502), and the unit in which small flows are copied before they switch to splice.",
     "tune.bufsize = 32k"},
    {"tune.http.maxhdr", SEC_G, false, kw_maxhdr, "<number>", "101",
     "Header fields a request or response head may have (1 to 1024); a request with more is "
     "answered 431, a response with more 502.",
     "tune.http.maxhdr = 200"},
    {"tune.pipesize", SEC_G, false, kw_tune_size, "<size>", "256k",
     "Size of the kernel pipes through which bulk transfers are spliced (bytes, or with a k or m "
     "suffix): one splice() moves up to this much. Larger pipes mean fewer system calls and "
     "fewer, larger TCP sends per MiB. Unprivileged processes are capped by "
     "/proc/sys/fs/pipe-max-size (1m by default) and share fs.pipe-user-pages-soft; see "
     "docs/configuration.md.",
     "tune.pipesize = 1m"},
    {"log", SEC_G, false, kw_log,
     "<target> [len <n>] [format rfc3164|rfc5424|raw] [<facility> [<level> [<minlevel>]]]",
     "stderr",
     "Where log lines go: stdout, stderr, a file (appended, reopened on SIGUSR1), or syslog over "
     "a unix datagram socket (/dev/log, unix@PATH) or UDP (IP:PORT, udp@IP:PORT) with a "
     "facility; see docs/operations.md.",
     "log = /dev/log local0 info"},
    {"pidfile", SEC_G, false, kw_pidfile, "<file>", "none", "Write the process id to this file.",
     "pidfile = /run/sluice.pid"},
    {"daemon", SEC_G, true, kw_daemon, "", "off (foreground)",
     "Detach from the terminal and run in the background (like -D).", "daemon ="},
    {"stats socket", SEC_G, false, kw_stats_socket,
     "<path> [mode <octal>] [level user|operator|admin] [expose-fd listeners]", "none",
     "Serve the runtime API (HAProxy's commands: show info, show stat, set server...) on a unix "
     "stream socket; up to 4 lines. See docs/operations.md.",
     "stats socket = /run/sluice/admin.sock mode 600 level admin"},
    {"stats timeout", SEC_G, false, kw_stats_timeout, "<time>", "10s",
     "Close a runtime API connection idle for this long.", "stats timeout = 1m"},
    /* proxies */
    {"mode", SEC_D | SEC_F | SEC_B | SEC_L, false, kw_mode, "tcp | http", "tcp",
     "Proxy at layer 4 (tcp: a byte stream) or layer 7 (http: HTTP/1.1 requests, routed and "
     "rewritten by ACLs and rules).",
     "mode = tcp"},
    {"bind", SEC_F | SEC_L, false, kw_bind,
     "<addr>:<port>[,<addr>:<port>...] [accept-proxy] [defer-accept]",
     "none (a frontend needs one)",
     "Listen on these addresses; accept-proxy requires a PROXY protocol v1/v2 header first; "
     "defer-accept hands a connection to sluice only once the client has sent data (for "
     "protocols where the client talks first, such as HTTP).",
     "bind = :443,[::1]:443 accept-proxy"},
    {"default_backend", SEC_D | SEC_F | SEC_L, false, kw_default_backend, "<backend>", "none",
     "The backend (or listen) section that receives this frontend's connections.",
     "default_backend = app"},
    {"maxconn", SEC_D | SEC_F | SEC_L, false, kw_maxconn, "<number>",
     "0 (bounded by the global maxconn)",
     "Concurrent connections accepted by this frontend; 0 means the global limit only.",
     "maxconn = 5000"},
    {"balance", SEC_D | SEC_B | SEC_L, false, kw_balance,
     "roundrobin | static-rr | leastconn | first | source | random[(2)] | uri | url_param <name> "
     "| hdr(<name>)",
     "roundrobin",
     "How a server is chosen for a new connection (mode http: for each request); uri, url_param "
     "and hdr hash the request target, a query parameter or a header (mode http only).",
     "balance = leastconn"},
    {"server", SEC_B | SEC_L, false, kw_server, "<name> <addr>:<port> [options...]", "none",
     "A server of this backend; options: check, weight N (0-256), inter T, fastinter T, "
     "downinter T, rise N, fall N, backup, maxconn N, slowstart T, disabled, send-proxy, "
     "send-proxy-v2, cookie V (and no-check, no-backup, enabled, no-send-proxy, "
     "no-send-proxy-v2).",
     "server = s1 10.0.0.1:80 check weight 10 maxconn 200"},
    {"default-server", SEC_D | SEC_B | SEC_L, false, kw_default_server, "[options...]",
     "weight 1 inter 2s rise 2 fall 3",
     "Options applied to the servers declared after it in the section (in [defaults]: to "
     "every following section).",
     "default-server = check inter 3s fall 2 slowstart 20s"},
    {"timeout connect", SEC_D | SEC_B | SEC_L, false, kw_timeout, "<time>", "0 (no timeout)",
     "Maximum time to wait for a connection to a server to succeed.", "timeout connect = 5s"},
    {"timeout client", SEC_D | SEC_F | SEC_L, false, kw_timeout, "<time>", "0 (no timeout)",
     "Maximum inactivity time on the client side.", "timeout client = 1m"},
    {"timeout server", SEC_D | SEC_B | SEC_L, false, kw_timeout, "<time>", "0 (no timeout)",
     "Maximum inactivity time on the server side.", "timeout server = 1m"},
    {"timeout client-fin", SEC_D | SEC_F | SEC_L, false, kw_timeout, "<time>",
     "timeout client (timeout tunnel in a tunnel)",
     "Inactivity time on the client side once the connection is half-closed.",
     "timeout client-fin = 5s"},
    {"timeout server-fin", SEC_D | SEC_B | SEC_L, false, kw_timeout, "<time>",
     "timeout server (timeout tunnel in a tunnel)",
     "Inactivity time on the server side once the connection is half-closed.",
     "timeout server-fin = 5s"},
    {"timeout queue", SEC_D | SEC_B | SEC_L, false, kw_timeout, "<time>", "0 (no timeout)",
     "Maximum time a connection waits in the queue for a free server slot.", "timeout queue = 10s"},
    {"timeout check", SEC_D | SEC_B | SEC_L, false, kw_timeout, "<time>", "0 (use inter)",
     "Maximum time for a health check to connect and answer.", "timeout check = 2s"},
    {"timeout drain", SEC_D | SEC_F | SEC_B | SEC_L, false, kw_timeout, "<time>", "10s",
     "sluice extension: on SIGTERM, how long live connections may finish before exit.",
     "timeout drain = 30s"},
    {"retries", SEC_D | SEC_B | SEC_L, false, kw_retries, "<number>", "3",
     "Connection attempts to a server after the first one fails.", "retries = 2"},
    {"hash-type", SEC_D | SEC_B | SEC_L, false, kw_hash_type,
     "<map-based|consistent> [<function>] [avalanche]", "consistent (Maglev)",
     "Accepted for HAProxy configs: hash balancing always uses sluice's consistent Maglev "
     "table.",
     "hash-type = consistent"},
    {"option splice-auto", SEC_D | SEC_F | SEC_B | SEC_L, true, kw_splice, "",
     "on (sluice decides)",
     "Accepted for HAProxy configs: sluice splices bodies and tunnels by itself.",
     "option = splice-auto"},
    {"option splice-request", SEC_D | SEC_F | SEC_B | SEC_L, true, kw_splice, "",
     "on (sluice decides)", "The same as option splice-auto.", "option = splice-request"},
    {"option splice-response", SEC_D | SEC_F | SEC_B | SEC_L, true, kw_splice, "",
     "on (sluice decides)", "The same as option splice-auto.", "option = splice-response"},
    {"option redispatch", SEC_D | SEC_B | SEC_L, true, kw_redispatch, "", "off",
     "Let the last retry go to another server.", "option = redispatch"},
    {"option nolinger", SEC_D | SEC_F | SEC_B | SEC_L, true, kw_nolinger, "", "off",
     "Close this side's connections with a TCP reset instead of a FIN (on a frontend: the "
     "clients; on a backend: the servers), dropping unsent data and leaving no FIN_WAIT or "
     "TIME_WAIT socket behind.",
     "option = nolinger"},
    {"option tcp-check", SEC_D | SEC_B | SEC_L, true, kw_tcp_check, "", "on",
     "Health checks are plain TCP connects (the default).", "option = tcp-check"},
    {"option httpchk", SEC_D | SEC_B | SEC_L, true, kw_httpchk, "[<method>] [<uri>] [<version>]",
     "OPTIONS / HTTP/1.0",
     "Health checks send an HTTP request; one argument is the URI, two are method and URI, three "
     "add the version.",
     "option httpchk = GET /health"},
    {"option dontlognull", SEC_D | SEC_F | SEC_L, true, kw_dontlog, "", "off",
     "Write no log line for a connection on which the client sent nothing (probes, scans).",
     "option = dontlognull"},
    {"option dontlog-normal", SEC_D | SEC_F | SEC_L, true, kw_dontlog, "", "off",
     "Log only errors: sessions that ended abnormally, and HTTP requests answered 5xx.",
     "option = dontlog-normal"},
    {"option tcplog", SEC_D | SEC_F | SEC_L, true, kw_tcplog, "", "off",
     "Log one line per connection in HAProxy's tcplog format.", "option = tcplog"},
    {"http-check expect", SEC_D | SEC_B | SEC_L, false, kw_http_check_expect, "status <code>",
     "any 2xx or 3xx", "The status an HTTP health check must return (needs option httpchk).",
     "http-check expect = status 200"},
    /* mode http */
    {"acl", SEC_F | SEC_B | SEC_L, false, config__kw_acl,
     "<name> <criterion> [-i] [-f <file>] [-m <method>] [--] [<value>...]", "none",
     "Name a test of the request for use_backend and http-request/http-response conditions; "
     "several lines with one name are ORed.",
     "acl = is_api path_beg /api/ /v2/"},
    {"use_backend", SEC_F | SEC_L, false, config__kw_use_backend,
     "<backend>|<log-format name> [if|unless <condition>]",
     "none (default_backend takes every request)",
     "Send the request to this backend when the condition holds; the first matching rule wins, "
     "then default_backend. A name with samples (`%[req.hdr(host),lower,map(hosts.map,www)]`) "
     "is computed per request; one that is no backend of the same mode sends the request to "
     "default_backend (see Maps).",
     "use_backend = app if { path_beg /api/ } METH_GET"},
    {"http-request allow", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "[if|unless <condition>]", "none",
     "Stop evaluating http-request rules of this section and let the request through.",
     "http-request allow = if { src 10.0.0.0/8 }"},
    {"http-request deny", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "[deny_status <code>] [if|unless <condition>]", "deny_status 403",
     "Answer with an error page (403 unless deny_status says otherwise) and close.",
     "http-request deny = deny_status 429 if { path_beg /admin } !{ src 10.0.0.0/8 }"},
    {"http-request tarpit", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "[deny_status <code>] [if|unless <condition>]", "deny_status 500",
     "Hold the request for timeout tarpit without answering (a client that floods waits), then "
     "answer with an error page (500 unless deny_status says otherwise) and close.",
     "http-request tarpit = if { path_beg /wp-login.php }"},
    {"http-request redirect", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "location|prefix|scheme <value> [code 301|302|303|307|308] [if|unless <condition>]",
     "code 302",
     "Answer with a redirect: to a location, to a prefix followed by the request's path, or to "
     "the same URL with another scheme.",
     "http-request redirect = prefix https://www.example.com code 301 if { hdr(host) -i "
     "example.com }"},
    {"http-request return", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "[status <code>] [content-type <type>] [string <text> | file <path> | errorfile <file> | "
     "errorfiles <name> | default-errorfiles] [if|unless <condition>]",
     "status 200, no body",
     "Answer directly, without a server; a body needs a content-type; a file is read at load "
     "time (at most 64 KiB); errorfile sends a whole HTTP response, errorfiles the "
     "[http-errors] section's page for the status (else the proxy's), default-errorfiles the "
     "proxy's error page.",
     "http-request return = status 200 content-type text/plain string ok if { path /health }"},
    {"http-request set-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<name> <value> [if|unless <condition>]", "none",
     "Replace every field of this header in the request with one field holding the value.",
     "http-request set-header = X-Forwarded-Proto https"},
    {"http-request add-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<name> <value> [if|unless <condition>]", "none", "Append a header field to the request.",
     "http-request add-header = X-Via sluice"},
    {"http-request del-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<name> [if|unless <condition>]", "none",
     "Remove every field of this header from the request.", "http-request del-header = Proxy"},
    {"http-request replace-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<name> <match-regex> <replace> [if|unless <condition>]", "none",
     "Replace the whole value of each field of this header that the regex matches; \\1 to \\9 "
     "in the replacement are the regex's groups.",
     "http-request replace-header = Host ^(.*)\\.internal$ \\1.example.com"},
    {"http-request replace-value", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<name> <match-regex> <replace> [if|unless <condition>]", "none",
     "Like replace-header, for each comma-separated value of the header's fields.",
     "http-request replace-value = X-Forwarded-For ^192\\.168\\.(.*)$ 172.16.\\1"},
    {"http-request set-path", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<path> [if|unless <condition>]", "none",
     "Replace the path of the request target, keeping the query string; later rules, "
     "use_backend and balance uri see the new path.",
     "http-request set-path = /index.html if { path / }"},
    {"http-request replace-path", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<match-regex> <replace> [if|unless <condition>]", "none",
     "Replace the path of the request target when the regex matches it (the query string is "
     "kept); \\1 to \\9 are the regex's groups.",
     "http-request replace-path = /api/v1/(.*) /v1/\\1"},
    {"http-request set-query", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<query> [if|unless <condition>]", "none",
     "Replace the query string of the request target (what follows '?'; a '?' is added when "
     "the target has none and the query is not empty).",
     "http-request set-query = lang=en if { path_beg /docs }"},
    {"http-request set-var", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "(<scope>.<name>) <expr> [if|unless <condition>]", "none",
     "Set a variable (scope txn or req: until the request ends; sess: until the connection "
     "closes) to a sample: str(TEXT), int(N) or any %[...] sample with converters; later rules "
     "and log-format values read it with var(<scope>.<name>).",
     "http-request set-var(txn.user) = req.hdr(x-user),lower"},
    {"http-request unset-var", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "(<scope>.<name>) [if|unless <condition>]", "none",
     "Forget a variable: var(<scope>.<name>) fails again until a rule sets it.",
     "http-request unset-var(txn.user) = if { path_beg /public }"},
    {"http-response set-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "<name> <value> [if|unless <condition>]", "none",
     "Replace every field of this header in the response with one field holding the value.",
     "http-response set-header = Strict-Transport-Security max-age=31536000"},
    {"http-response add-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "<name> <value> [if|unless <condition>]", "none", "Append a header field to the response.",
     "http-response add-header = Cache-Control no-store if { path_beg /account }"},
    {"http-response del-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "<name> [if|unless <condition>]", "none",
     "Remove every field of this header from the response (e.g. Server, to hide the server "
     "software).",
     "http-response del-header = Server"},
    {"http-response replace-header", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "<name> <match-regex> <replace> [if|unless <condition>]", "none",
     "Replace the whole value of each field of this response header that the regex matches; "
     "\\1 to \\9 in the replacement are the regex's groups.",
     "http-response replace-header = Location ^http://(.*) https://\\1"},
    {"http-response replace-value", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "<name> <match-regex> <replace> [if|unless <condition>]", "none",
     "Like replace-header, for each comma-separated value of the response header's fields.",
     "http-response replace-value = Cache-Control ^public$ private"},
    {"http-response set-status", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "<code> [reason <text>] [if|unless <condition>]", "none",
     "Replace the response's status code (100 to 999) and, optionally, its reason phrase.",
     "http-response set-status = 404 if { path_beg /private/ }"},
    {"http-response deny", SEC_F | SEC_B | SEC_L, false, config__kw_http_response,
     "[deny_status <code>] [if|unless <condition>]", "deny_status 502",
     "Drop the server's response and answer with an error page instead (502 by default).",
     "http-response deny = if { path_beg /internal/ }"},
    {"option forwardfor", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_forwardfor,
     "[except <network>] [header <name>] [if-none]", "off; header X-Forwarded-For",
     "Add the client's address to the request in an X-Forwarded-For header (or the one named), "
     "except for clients in the network; if-none only when the request has no such header.",
     "option forwardfor = except 127.0.0.0/8 header X-Client-IP if-none"},
    {"option forwarded", SEC_D | SEC_B | SEC_L, true, config__kw_http_flag, "", "off",
     "Add an RFC 7239 Forwarded header (for=client address, proto) to the request.",
     "option = forwarded"},
    {"option httplog", SEC_D | SEC_F | SEC_L, true, config__kw_http_flag, "", "off",
     "Log one line per request in HAProxy's httplog format (a tcp-mode frontend falls back to "
     "tcplog, as in HAProxy).",
     "option = httplog"},
    {"option http-server-close", SEC_D | SEC_F | SEC_B | SEC_L, true, config__kw_http_flag, "",
     "off", "Keep client connections alive but close the server connection after each response.",
     "option = http-server-close"},
    {"option httpclose", SEC_D | SEC_F | SEC_B | SEC_L, true, config__kw_http_flag, "", "off",
     "Close both connections after each response.", "option = httpclose"},
    {"option http-keep-alive", SEC_D | SEC_F | SEC_B | SEC_L, true, config__kw_http_flag, "", "on",
     "Keep client and server connections alive between requests (the default; cancels "
     "http-server-close and httpclose).",
     "option = http-keep-alive"},
    {"http-reuse", SEC_D | SEC_B | SEC_L, false, config__kw_http_reuse,
     "safe | never | aggressive | always", "safe",
     "Whether idle server connections are shared between clients: safe reuses them for a "
     "client's later requests only, always for any request, never not at all.",
     "http-reuse = always"},
    {"timeout http-request", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_http_timeout,
     "<time>", "0 (use timeout client)",
     "Maximum time to receive a complete request header block (answers 408).",
     "timeout http-request = 10s"},
    {"timeout http-keep-alive", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_http_timeout,
     "<time>", "0 (use timeout http-request)",
     "Maximum idle time of a client connection between two requests.",
     "timeout http-keep-alive = 2s"},
    {"timeout tarpit", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_http_timeout, "<time>",
     "0 (use timeout connect)", "How long http-request tarpit holds a request before answering it.",
     "timeout tarpit = 15s"},
    {"timeout tunnel", SEC_D | SEC_B | SEC_L, false, config__kw_http_timeout, "<time>",
     "0 (use timeout client and server)",
     "Inactivity timeout of a connection switched to a tunnel (WebSocket, any 101 response).",
     "timeout tunnel = 1h"},
    {"errorfile", SEC_D | SEC_F | SEC_B | SEC_L | SEC_E, false, config__kw_errorfile,
     "<code> <file>", "built-in pages",
     "Replace the error page for this status with the file's content, a complete HTTP response "
     "read at load time (at most 64 KiB; an empty file closes without answering).",
     "errorfile = 503 examples/errors/503.http"},
    {"errorfiles", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_errorfiles,
     "<name> [<code> ...]", "none",
     "Import the error pages of the [http-errors NAME] section: all of them, or only the listed "
     "codes; for a status, the later errorfile or errorfiles statement wins.",
     "errorfiles = site 503"},
    {"cookie", SEC_D | SEC_B | SEC_L, false, config__kw_cookie,
     "<name> [insert] [indirect] [nocache] [httponly] [secure] [domain <domain>]",
     "none (no cookie persistence)",
     "Sticky sessions: a client whose cookie names a server's `cookie` value goes to that "
     "server; insert adds the cookie to responses.",
     "cookie = SRV insert indirect nocache httponly"},
    {"retry-on", SEC_D | SEC_B | SEC_L, false, config__kw_retry_on,
     "conn-failure | empty-response | response-timeout | 503 | all-retryable-errors | none ...",
     "conn-failure empty-response",
     "Which failures make a request go to a server again (up to `retries` times).",
     "retry-on = conn-failure empty-response 503"},
    /* forward proxy (docs/forward-proxy.md) */
    {"option http_proxy", SEC_F | SEC_L, true, config__kw_http_proxy, "", "off",
     "Make this mode http frontend or listen a forward proxy: each request goes to the origin its "
     "absolute URI or CONNECT target names (no default_backend or server needed).",
     "option = http_proxy"},
    {"option anonymize", SEC_D | SEC_F | SEC_L, true, config__kw_anonymize, "", "off",
     "Forward proxy: also remove From, Referer and the other client-identifying request headers "
     "listed in docs/forward-proxy.md.",
     "option = anonymize"},
    {"log-format", SEC_D | SEC_F | SEC_L, false, config__kw_log_format, "squid",
     "none (option httplog's format)",
     "Log one line per request in Squid's native access.log format instead of httplog's "
     "(only `squid` is supported).",
     "log-format = squid"},
    {"resolvers", SEC_D | SEC_F | SEC_L, false, config__kw_resolvers, "<resolvers>",
     "the only [resolvers] section if there is one, else /etc/resolv.conf",
     "sluice extension: the [resolvers] section whose nameservers the forward proxy asks.",
     "resolvers = dns"},
    {"http-request auth", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "[realm <realm>] [if|unless <condition>]", "realm: the section's name",
     "Ask for credentials: 407 with Proxy-Authenticate in a forward proxy, 401 with "
     "WWW-Authenticate otherwise.",
     "http-request auth = realm proxy if !{ http_auth(users) }"},
    {"http-request use-service", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "prometheus-exporter [if|unless <condition>]", "none",
     "Answer the request with sluice's own service: prometheus-exporter serves every counter "
     "and latency histogram in the Prometheus text format (docs/operations.md).",
     "http-request use-service = prometheus-exporter if { path /metrics }"},
    /* statistics page (mode http) */
    {"stats enable", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_stats, "", "off",
     "Serve the statistics page at the stats URI (default /haproxy?stats).", "stats = enable"},
    {"stats uri", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_stats, "<prefix>",
     "/haproxy?stats",
     "Serve the statistics page for requests whose URI begins with this prefix (enables "
     "stats); PREFIX;csv gives HAProxy's CSV, PREFIX;json JSON.",
     "stats uri = /stats"},
    {"stats refresh", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_stats, "<time>", "0 (off)",
     "Reload the HTML page in the browser every <time> (PREFIX;norefresh stops it).",
     "stats refresh = 10s"},
    {"stats hide-version", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_stats, "", "off",
     "Do not show sluice's version on the page.", "stats = hide-version"},
    {"stats auth", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_stats, "<user>:<password>",
     "none (no authentication)",
     "Ask for HTTP Basic credentials before showing the statistics page; one line per user "
     "(enables stats).",
     "stats auth = admin:s3cret"},
    {"stats realm", SEC_D | SEC_F | SEC_B | SEC_L, false, config__kw_stats, "<realm>", "Statistics",
     "The realm the browser shows when stats auth asks for credentials.",
     "stats realm = \"Operations only\""},
    {"stick-table", SEC_F | SEC_B | SEC_L, false, config__kw_stick_table,
     "type <ip|ipv6|integer|string> [len <n>] size <n> expire <time> [store <data>,...]", "none",
     "Keep counters per key (client address, header value, ...) that track-sc rules feed and "
     "sc_*/src_* ACLs read, for rate limits; one table per section, named by the section.",
     "stick-table = type ip size 100k expire 30s store http_req_rate(10s),conn_cur"},
    {"tcp-request connection", SEC_F | SEC_L, false, config__kw_tcp_request,
     "accept|reject|track-sc<n> src [table <name>] [if|unless <condition>]", "none",
     "Decide on a new connection before anything is read from it: accept or reject it (closed "
     "at once, counted as dcon, not logged), or track its source address for its whole life.",
     "tcp-request connection = reject if { sc0_conn_rate gt 100 } || { sc0_conn_cur gt 20 }"},
    {"http-request track-sc0", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<key> [table <name>] [if|unless <condition>]", "none",
     "Track the request's key (src, req.hdr(NAME), ...) in a stick-table as counter 0: the "
     "entry counts this request, and sc0_*/sc_*(0) ACLs of later rules read it.",
     "http-request track-sc0 = src"},
    {"http-request track-sc1", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<key> [table <name>] [if|unless <condition>]", "none",
     "The same as track-sc0 for counter 1 (another table or key).",
     "http-request track-sc1 = src if { path_beg /login }"},
    {"http-request track-sc2", SEC_F | SEC_B | SEC_L, false, config__kw_http_request,
     "<key> [table <name>] [if|unless <condition>]", "none", "The same as track-sc0 for counter 2.",
     "http-request track-sc2 = req.hdr(x-api-key),lower"},
    {"capture request", SEC_F | SEC_L, false, config__kw_capture, "header <name> len <length>",
     "none",
     "Log the last occurrence of this request field, cut at <length> bytes, between braces in "
     "the httplog line (fields of several lines in order, separated by '|').",
     "capture request = header Host len 40"},
    {"capture response", SEC_F | SEC_L, false, config__kw_capture, "header <name> len <length>",
     "none", "The same for a response field: a second pair of braces after the request's.",
     "capture response = header Content-Type len 30"},
    {"unique-id-format", SEC_D | SEC_F | SEC_L, false, config__kw_unique_id, "<format>", "none",
     "Give each request an ID built from samples (as in header values), for %[unique-id] and "
     "unique-id-header.",
     "unique-id-format = %[uuid()]"},
    {"unique-id-header", SEC_D | SEC_F | SEC_L, false, config__kw_unique_id, "<name>", "none",
     "Send the request's unique ID to the server in this header field.",
     "unique-id-header = X-Request-ID"},
    {"monitor-uri", SEC_D | SEC_F | SEC_L, false, config__kw_monitor_uri, "<uri>", "none",
     "Answer requests for exactly this URI with 200 OK, without forwarding or logging them, "
     "for an outer load balancer's health checks (mode http).",
     "monitor-uri = /healthz"},
    /* [resolvers NAME] */
    {"nameserver", SEC_R, false, config__kw_nameserver, "<name> <ip>[:<port>]",
     "none (a section needs one or parse-resolv-conf)",
     "A DNS server to ask over UDP (port 53 when absent; IPv6 in brackets: [::1]:53); up to 8.",
     "nameserver = dns1 127.0.0.1:53"},
    {"parse-resolv-conf", SEC_R, false, config__kw_parse_resolv_conf, "", "off",
     "Also use the nameservers of /etc/resolv.conf.", "parse-resolv-conf ="},
    {"timeout resolve", SEC_R, false, config__kw_resolvers_timeout, "<time>", "1s",
     "Time to wait for an answer before asking again (or the next nameserver).",
     "timeout resolve = 2s"},
    {"timeout retry", SEC_R, false, config__kw_resolvers_timeout, "<time>", "1s",
     "Time between two attempts of a query that got no answer.", "timeout retry = 500ms"},
    {"resolve_retries", SEC_R, false, config__kw_resolve_retries, "<number>", "3",
     "Attempts of a query before the name counts as unresolvable (1 to 100).",
     "resolve_retries = 2"},
    {"hold valid", SEC_R, false, config__kw_hold, "<time>", "10s",
     "Longest time a positive answer is cached, whatever its TTL says (and the floor for a TTL "
     "of 0).",
     "hold valid = 30s"},
    {"hold nx", SEC_R, false, config__kw_hold, "<time>", "30s",
     "How long a name that does not exist (NXDOMAIN) is remembered.", "hold nx = 5s"},
    {"hold other", SEC_R, false, config__kw_hold, "<time>", "ignored",
     "Accepted for HAProxy compatibility and ignored.", "hold other = 30s"},
    {"hold refused", SEC_R, false, config__kw_hold, "<time>", "ignored",
     "Accepted for HAProxy compatibility and ignored.", "hold refused = 30s"},
    {"hold timeout", SEC_R, false, config__kw_hold, "<time>", "ignored",
     "Accepted for HAProxy compatibility and ignored.", "hold timeout = 30s"},
    {"hold obsolete", SEC_R, false, config__kw_hold, "<time>", "ignored",
     "Accepted for HAProxy compatibility and ignored.", "hold obsolete = 30s"},
    {"accepted_payload_size", SEC_R, false, config__kw_accepted_payload_size, "<number>", "ignored",
     "Accepted for HAProxy compatibility (512 to 65535) and ignored.",
     "accepted_payload_size = 8192"},
    /* [userlist NAME] */
    {"user", SEC_U, false, config__kw_user,
     "<name> password <hash> | insecure-password <password> [groups <group>,...]", "none",
     "A user who may authenticate: a crypt(3) hash (bcrypt $2b$/$2y$/$2a$, sha256-crypt $5$, "
     "sha512-crypt $6$, yescrypt $y$, scrypt $7$) or a clear-text password; groups are ignored.",
     "user = alice password $2b$10$rNrfe7EC34uEk5LKhly/l.WNHDMVGR0pNbCaydNsqQ0qjBYfmRKam"},
    {"group", SEC_U, false, config__kw_group, "<name> [users <user>,...]", "none",
     "Accepted for HAProxy compatibility and ignored (no http_auth_group yet).",
     "group = staff users alice"},
    {"htpasswd", SEC_U, false, config__kw_htpasswd, "<file>", "none",
     "sluice extension: add the users of an htpasswd file (name:hash lines, crypt(3) hashes "
     "only; read at load time).",
     "htpasswd = examples/forward-proxy.htpasswd"},
};
const size_t config__nkeywords = sizeof(config__keywords) / sizeof(config__keywords[0]);

/* ---- dispatch ------------------------------------------------------------------------------ */

const char *config__sec_name(enum cfg_sec sec)
{
    switch (sec) {
    case CFG_SEC_GLOBAL:
        return "global";
    case CFG_SEC_DEFAULTS:
        return "defaults";
    case CFG_SEC_FRONTEND:
        return "frontend";
    case CFG_SEC_BACKEND:
        return "backend";
    case CFG_SEC_LISTEN:
        return "listen";
    case CFG_SEC_RESOLVERS:
        return "resolvers";
    case CFG_SEC_USERLIST:
        return "userlist";
    case CFG_SEC_HTTP_ERRORS:
        return "http-errors";
    default:
        return "none";
    }
}

static const char *current_label(const struct cfg_parser *st)
{
    if (st->sec == CFG_SEC_RESOLVERS || st->sec == CFG_SEC_USERLIST ||
        st->sec == CFG_SEC_HTTP_ERRORS)
        return st->fwd_label;
    return st->cur ? st->cur->label : "[global]";
}

/* Closest name to `word` among the keywords' first words (family == NULL) or among the
 * sub-keywords of a family; NULL when nothing is close. */
static const char *suggest(const char *word, const char *family)
{
    const char *best = NULL;
    int bd = 3;
    size_t fl = family ? strlen(family) : 0;
    for (size_t i = 0; i < config__nkeywords; i++) {
        const char *n = config__keywords[i].name;
        char head[64];
        if (family) {
            if (strncmp(n, family, fl) != 0 || n[fl] != ' ')
                continue;
            n += fl + 1;
        }
        size_t hl = strcspn(n, " ");
        if (hl >= sizeof(head))
            continue;
        memcpy(head, n, hl);
        head[hl] = '\0';
        int d = config__distance(word, head);
        if (d < bd && d < (int)strlen(word)) {
            bd = d;
            best = n;
        }
    }
    if (!best)
        return NULL;
    static char out[64]; /* main thread only: config loading is single-threaded */
    size_t hl = strcspn(best, " ");
    memcpy(out, best, hl);
    out[hl] = '\0';
    return out;
}

/* Whether keyword `name` is written with an argument in parentheses (`http-request
 * set-var(txn.x)`); its parser then gets that word as argv[0]. */
static bool arg_in_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 8 && strcmp(name + n - 8, " set-var") == 0) ||
           (n > 10 && strcmp(name + n - 10, " unset-var") == 0);
}

int config__statement(struct cfg_parser *st, int argc, char **argv)
{
    bool neg = false;
    if (argc > 0 && strcmp(argv[0], "no") == 0) {
        neg = true;
        argv++;
        argc--;
        if (argc == 0)
            return config__error(st, "'no' needs a keyword (expected e.g. 'no option redispatch')");
    }
    if (argc == 0)
        return 0;
    if (st->sec == CFG_SEC_NONE)
        return config__error(st,
                             "'%s' is outside of any section (expected a [global], [defaults], "
                             "[frontend NAME], [backend NAME] or [listen NAME] header before it)",
                             argv[0]);

    size_t wl = strlen(argv[0]);
    bool family = false;
    for (size_t i = 0; i < config__nkeywords; i++)
        if (strncmp(config__keywords[i].name, argv[0], wl) == 0 &&
            config__keywords[i].name[wl] == ' ')
            family = true;

    int nw = family ? 2 : 1;
    if (family && argc < 2) {
        char list[256] = "";
        for (size_t i = 0; i < config__nkeywords; i++) {
            const char *n = config__keywords[i].name;
            if (strncmp(n, argv[0], wl) == 0 && n[wl] == ' ') {
                if (list[0])
                    strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                strncat(list, n + wl + 1, sizeof(list) - strlen(list) - 1);
            }
        }
        return config__error(st, "'%s' needs an argument (expected one of: %s)", argv[0], list);
    }

    /* `http-request set-var(txn.x)`: the sub-keyword carries an argument in parentheses; its
     * parser gets that word as argv[0] */
    size_t sl = family ? strcspn(argv[1], "(") : 0;
    bool with_arg = family && argv[1][sl] == '(';
    const struct cfg_keyword *match = NULL;
    unsigned allowed = 0;
    for (size_t i = 0; i < config__nkeywords; i++) {
        const struct cfg_keyword *k = &config__keywords[i];
        bool same =
            family
                ? (strncmp(k->name, argv[0], wl) == 0 && k->name[wl] == ' ' &&
                   (strcmp(k->name + wl + 1, argv[1]) == 0 ||
                    (with_arg && arg_in_name(k->name) &&
                     strncmp(k->name + wl + 1, argv[1], sl) == 0 && k->name[wl + 1 + sl] == '\0')))
                : strcmp(k->name, argv[0]) == 0;
        if (!same)
            continue;
        allowed |= k->sections;
        if (k->sections & st->sec) {
            match = k;
            break;
        }
    }

    if (!allowed) {
        const char *unknown = family ? argv[1] : argv[0];
        const char *s = suggest(unknown, family ? argv[0] : NULL);
        char list[256] = "";
        if (family) {
            for (size_t i = 0; i < config__nkeywords; i++) {
                const char *n = config__keywords[i].name;
                if (strncmp(n, argv[0], wl) == 0 && n[wl] == ' ') {
                    if (list[0])
                        strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                    strncat(list, n + wl + 1, sizeof(list) - strlen(list) - 1);
                }
            }
            if (s)
                return config__error(st,
                                     "unknown %s '%s' in section %s (did you mean '%s'? "
                                     "expected %s)",
                                     argv[0], unknown, current_label(st), s, list);
            return config__error(st, "unknown %s '%s' in section %s (expected %s)", argv[0],
                                 unknown, current_label(st), list);
        }
        if (s)
            return config__error(st, "unknown keyword '%s' in section %s (did you mean '%s'?)",
                                 unknown, current_label(st), s);
        return config__error(st, "unknown keyword '%s' in section %s (see docs/configuration.md)",
                             unknown, current_label(st));
    }
    char kname[128];
    snprintf(kname, sizeof(kname), family ? "%s %s" : "%s", argv[0], family ? argv[1] : "");
    if (!match) {
        char list[128] = "";
        static const enum cfg_sec order[] = {
            CFG_SEC_GLOBAL, CFG_SEC_DEFAULTS,  CFG_SEC_FRONTEND, CFG_SEC_BACKEND,
            CFG_SEC_LISTEN, CFG_SEC_RESOLVERS, CFG_SEC_USERLIST, CFG_SEC_HTTP_ERRORS};
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
            if (!(allowed & order[i]))
                continue;
            if (list[0])
                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
            strncat(list, "[", sizeof(list) - strlen(list) - 1);
            strncat(list, config__sec_name(order[i]), sizeof(list) - strlen(list) - 1);
            strncat(list, "]", sizeof(list) - strlen(list) - 1);
        }
        return config__error(st, "'%s' is not allowed in a [%s] section (allowed in %s)", kname,
                             config__sec_name(st->sec), list);
    }
    if (neg && !match->negatable)
        return config__error(st, "'no %s' is not supported (expected '%s %s' or nothing)", kname,
                             kname, match->syntax);
    if (arg_in_name(match->name))
        nw = 1;
    return match->parse(st, match, argc - nw, argv + nw, neg);
}
