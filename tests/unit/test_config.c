/* Unit tests of config/: time and address parsing, every keyword, inheritance, every error. */
#include "config/config_internal.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Five lines that make a valid config; error cases append to it, so they start at line 6. */
#define BASE                                                                                       \
    "[frontend f]\n"                                                                               \
    "bind = :80\n"                                                                                 \
    "default_backend = b\n"                                                                        \
    "[backend b]\n"                                                                                \
    "server = s1 127.0.0.1:1\n"

static struct config *load_ok(const char *text)
{
    struct config *cfg = NULL;
    char err[512];
    int rc = config_load_string("t.ini", text, &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\nunexpected error: %s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    return cfg;
}

static void test_time(void)
{
    static const struct {
        const char *text;
        int rc;
        uint32_t ms;
    } cases[] = {
        {"0", 0, 0},
        {"100", 0, 100},
        {"100ms", 0, 100},
        {"5s", 0, 5000},
        {"2m", 0, 120000},
        {"1h", 0, 3600000},
        {"1d", 0, 86400000},
        {"49d", 0, 49u * 86400000},
        {"1us", 0, 1}, /* rounded up: a non-zero time never becomes "infinite" */
        {"1000us", 0, 1},
        {"1001us", 0, 2},
        {"0us", 0, 0},
        {"4294967295", 0, UINT32_MAX},
        {"4294967296", -ERANGE, 0},
        {"50d", -ERANGE, 0},
        {"99999999999999999999", -ERANGE, 0},
        {"99999999999999999999us", -ERANGE, 0},
        {"", -EINVAL, 0},
        {"-5s", -EINVAL, 0},
        {"+5s", -EINVAL, 0},
        {" 5s", -EINVAL, 0},
        {"5 s", -EINVAL, 0},
        {"5x", -EINVAL, 0},
        {"5sec", -EINVAL, 0},
        {"5S", -EINVAL, 0},
        {"s", -EINVAL, 0},
        {"1.5s", -EINVAL, 0},
        {"5s ", -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t ms = 12345;
        int rc = config_parse_time(cases[i].text, &ms);
        if (rc != cases[i].rc || (rc == 0 && ms != cases[i].ms))
            fprintf(stderr, "\ntime '%s': rc %d ms %u\n", cases[i].text, rc, ms);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        if (rc == 0)
            CU_ASSERT_EQUAL(ms, cases[i].ms);
    }
    uint32_t ms;
    CU_ASSERT_EQUAL(config_parse_time(NULL, &ms), -EINVAL);
}

static void test_addr(void)
{
    static const struct {
        const char *text;
        int family; /* 0: must fail */
        const char *ip;
        int port;
    } cases[] = {
        {"127.0.0.1:9001", AF_INET, "127.0.0.1", 9001},
        {"0.0.0.0:80", AF_INET, "0.0.0.0", 80},
        {"*:8080", AF_INET, "0.0.0.0", 8080},
        {":443", AF_INET, "0.0.0.0", 443},
        {"[::1]:9001", AF_INET6, "::1", 9001},
        {"[::]:80", AF_INET6, "::", 80},
        {":::80", AF_INET6, "::", 80},
        {"[2001:db8::5]:65535", AF_INET6, "2001:db8::5", 65535},
        {"127.0.0.1", 0, NULL, 0},
        {"127.0.0.1:", 0, NULL, 0},
        {"127.0.0.1:0", 0, NULL, 0},
        {"127.0.0.1:65536", 0, NULL, 0},
        {"127.0.0.1:-1", 0, NULL, 0},
        {"127.0.0.1:80x", 0, NULL, 0},
        {"256.0.0.1:80", 0, NULL, 0},
        {"1.2.3:80", 0, NULL, 0},
        {"localhost:80", 0, NULL, 0},
        {"[::1]", 0, NULL, 0},
        {"[::1]80", 0, NULL, 0},
        {"[]:80", 0, NULL, 0},
        {"[1.2.3.4]:80", 0, NULL, 0},
        {"::1", 0, NULL, 0},
        {"", 0, NULL, 0},
        {"*", 0, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        socklen_t len = 0;
        int rc = config_parse_addr(cases[i].text, &ss, &len);
        if ((rc == 0) != (cases[i].family != 0))
            fprintf(stderr, "\naddr '%s': rc %d\n", cases[i].text, rc);
        if (!cases[i].family) {
            CU_ASSERT_EQUAL(rc, -EINVAL);
            continue;
        }
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(ss.ss_family, cases[i].family);
        char ip[INET6_ADDRSTRLEN];
        if (cases[i].family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            CU_ASSERT_EQUAL(len, sizeof(*a));
            inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
            CU_ASSERT_EQUAL(ntohs(a->sin_port), cases[i].port);
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            CU_ASSERT_EQUAL(len, sizeof(*a));
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
            CU_ASSERT_EQUAL(ntohs(a->sin6_port), cases[i].port);
        }
        CU_ASSERT_STRING_EQUAL(ip, cases[i].ip);
    }
}

static void test_tokenize(void)
{
    static const struct {
        const char *line;
        int argc;
        const char *words[6];
    } cases[] = {
        {"server s1  127.0.0.1:1\tcheck", 4, {"server", "s1", "127.0.0.1:1", "check"}},
        {"a \"b c\" d", 3, {"a", "b c", "d"}},
        {"a 'b \"c\\n' d", 3, {"a", "b \"c\\n", "d"}},
        {"a\\ b c", 2, {"a b", "c"}},
        {"x \"\" y", 3, {"x", "", "y"}},
        {"a\"b c\"d", 1, {"ab cd"}},
        {"GET / HTTP/1.1\\r\\nHost:\\ x", 3, {"GET", "/", "HTTP/1.1\r\nHost: x"}},
        {"a \\x41\\#b", 2, {"a", "A#b"}},
        {"a b # a comment", 2, {"a", "b"}},
        {"a \"#not\" \\#no", 3, {"a", "#not", "#no"}},
        {"path_reg \\d+", 2, {"path_reg", "\\d+"}},
        {"   ", 0, {NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        char *argv[CFG_MAX_WORDS + 1];
        const char *why = NULL;
        int argc = config__tokenize(cases[i].line, out, argv, &why);
        CU_ASSERT_EQUAL(argc, cases[i].argc);
        for (int k = 0; k < argc && k < cases[i].argc; k++)
            CU_ASSERT_STRING_EQUAL(argv[k], cases[i].words[k]);
    }
    static const char *const bad[] = {"a \"b", "a 'b", "a\\", "a \\x4", "a \\x00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[64];
        char *argv[CFG_MAX_WORDS + 1];
        const char *why = NULL;
        CU_ASSERT_EQUAL(config__tokenize(bad[i], out, argv, &why), -1);
        CU_ASSERT_PTR_NOT_NULL(why);
    }
    char many[200] = "", out[200];
    for (int i = 0; i < 65; i++)
        strcat(many, "a ");
    char *argv[CFG_MAX_WORDS + 1];
    const char *why;
    CU_ASSERT_EQUAL(config__tokenize(many, out, argv, &why), -1);
}

static void test_global(void)
{
    struct config *cfg = load_ok("[global]\n"
                                 "maxconn = 5000\n"
                                 "nbthread = 3\n"
                                 "poller = io_uring\n"
                                 "log = /var/log/sluice.log local0 info\n"
                                 "pidfile = /run/sluice.pid\n"
                                 "daemon =\n" BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->maxconn, 5000);
    CU_ASSERT_EQUAL(cfg->nbthread, 3);
    CU_ASSERT_EQUAL(cfg->poller, CFG_POLLER_URING);
    CU_ASSERT_STRING_EQUAL(cfg->log_target, "/var/log/sluice.log");
    CU_ASSERT_STRING_EQUAL(cfg->pidfile, "/run/sluice.pid");
    CU_ASSERT_TRUE(cfg->daemon);
    CU_ASSERT_STRING_EQUAL(cfg->file, "t.ini");
    config_free(cfg);

    /* Built-in globals: derived maxconn and thread count; epoll; no daemon. */
    cfg = load_ok("[global]\npoller = epoll\nlog = stdout\nno daemon\n" BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_TRUE(cfg->maxconn >= 64);
    CU_ASSERT_TRUE(cfg->nbthread >= 1);
    CU_ASSERT_EQUAL(cfg->poller, CFG_POLLER_EPOLL);
    CU_ASSERT_STRING_EQUAL(cfg->log_target, "stdout");
    CU_ASSERT_FALSE(cfg->daemon);
    CU_ASSERT_STRING_EQUAL(cfg->pidfile, "");
    config_free(cfg);
}

static void test_builtin_defaults(void)
{
    struct config *cfg = load_ok(BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nproxies, 2);
    struct cfg_proxy *b = config_find_proxy(cfg, "b", CFG_CAP_BE);
    struct cfg_proxy *f = config_find_proxy(cfg, "f", CFG_CAP_FE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NULL(config_find_proxy(cfg, "f", CFG_CAP_BE));
    CU_ASSERT_PTR_NULL(config_find_proxy(cfg, "nope", CFG_CAP_BE | CFG_CAP_FE));
    CU_ASSERT_PTR_EQUAL(f->backend, b);
    CU_ASSERT_EQUAL(f->caps, CFG_CAP_FE);
    CU_ASSERT_EQUAL(b->caps, CFG_CAP_BE);
    CU_ASSERT_EQUAL(f->line, 1);
    CU_ASSERT_EQUAL(b->line, 4);
    CU_ASSERT_EQUAL(f->default_backend_line, 3);
    CU_ASSERT_EQUAL(b->mode, CFG_MODE_TCP);
    CU_ASSERT_EQUAL(b->retries, 3);
    CU_ASSERT_EQUAL(b->balance, CFG_LB_ROUNDROBIN);
    CU_ASSERT_FALSE(b->redispatch);
    CU_ASSERT_EQUAL(b->check_type, CFG_CHECK_TCP);
    CU_ASSERT_STRING_EQUAL(b->httpchk_method, "OPTIONS");
    CU_ASSERT_STRING_EQUAL(b->httpchk_uri, "/");
    CU_ASSERT_STRING_EQUAL(b->httpchk_version, "HTTP/1.0");
    CU_ASSERT_EQUAL(b->httpchk_expect_status, 0);
    CU_ASSERT_EQUAL(b->timeout.connect, 0);
    CU_ASSERT_EQUAL(b->timeout.drain, 10000);
    CU_ASSERT_EQUAL(f->timeout.drain, 10000);
    CU_ASSERT_EQUAL(f->maxconn, 0);
    CU_ASSERT_FALSE(f->tcplog);
    CU_ASSERT_EQUAL_FATAL(b->nservers, 1);
    const struct cfg_server *s = &b->servers[0];
    CU_ASSERT_STRING_EQUAL(s->name, "s1");
    CU_ASSERT_STRING_EQUAL(s->addr_text, "127.0.0.1:1");
    CU_ASSERT_EQUAL(s->line, 5);
    CU_ASSERT_EQUAL(s->weight, 1);
    CU_ASSERT_EQUAL(s->inter, 2000);
    CU_ASSERT_EQUAL(s->fastinter, 2000);
    CU_ASSERT_EQUAL(s->downinter, 2000);
    CU_ASSERT_EQUAL(s->rise, 2);
    CU_ASSERT_EQUAL(s->fall, 3);
    CU_ASSERT_EQUAL(s->maxconn, 0);
    CU_ASSERT_EQUAL(s->slowstart, 0);
    CU_ASSERT_FALSE(s->check || s->backup || s->disabled);
    CU_ASSERT_EQUAL(s->send_proxy, CFG_PP_NONE);
    CU_ASSERT_EQUAL_FATAL(f->nbinds, 1);
    CU_ASSERT_STRING_EQUAL(f->binds[0].text, ":80");
    CU_ASSERT_EQUAL(f->binds[0].line, 2);
    CU_ASSERT_FALSE(f->binds[0].accept_proxy);
    config_free(cfg);
}

static void test_every_keyword(void)
{
    struct config *cfg = load_ok("[frontend web]\n"
                                 "mode = http\n"
                                 "bind = 127.0.0.1:8080,[::1]:8081 accept-proxy\n"
                                 "bind = *:8082\n"
                                 "maxconn = 100\n"
                                 "timeout client = 30s\n"
                                 "timeout drain = 2s\n"
                                 "option = tcplog\n"
                                 "default_backend = app\n"
                                 "[backend app]\n"
                                 "mode = http\n"
                                 "balance = leastconn\n"
                                 "retries = 0\n"
                                 "option = redispatch\n"
                                 "option httpchk = GET /health HTTP/1.1\n"
                                 "http-check expect = status 204\n"
                                 "timeout connect = 1500ms\n"
                                 "timeout server = 1m\n"
                                 "timeout queue = 2s\n"
                                 "timeout check = 500\n"
                                 "server = s1 10.0.0.1:80 check weight 256 inter 1s fastinter "
                                 "500ms downinter 5s rise 5 fall 7 maxconn 30 slowstart 10s\n"
                                 "server = s2 10.0.0.2:80 backup disabled send-proxy weight 0\n"
                                 "server = s3 [2001:db8::1]:80 send-proxy-v2\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    struct cfg_proxy *f = &cfg->proxies[0], *b = &cfg->proxies[1];
    CU_ASSERT_EQUAL(f->mode, CFG_MODE_HTTP);
    CU_ASSERT_EQUAL_FATAL(f->nbinds, 3);
    CU_ASSERT_STRING_EQUAL(f->binds[0].text, "127.0.0.1:8080");
    CU_ASSERT_STRING_EQUAL(f->binds[1].text, "[::1]:8081");
    CU_ASSERT_EQUAL(f->binds[1].addr.ss_family, AF_INET6);
    CU_ASSERT_TRUE(f->binds[0].accept_proxy && f->binds[1].accept_proxy);
    CU_ASSERT_FALSE(f->binds[2].accept_proxy);
    CU_ASSERT_EQUAL(f->binds[2].line, 4);
    CU_ASSERT_EQUAL(f->maxconn, 100);
    CU_ASSERT_EQUAL(f->timeout.client, 30000);
    CU_ASSERT_EQUAL(f->timeout.drain, 2000);
    CU_ASSERT_TRUE(f->tcplog);
    CU_ASSERT_PTR_EQUAL(f->backend, b);
    CU_ASSERT_EQUAL(b->mode, CFG_MODE_HTTP);
    CU_ASSERT_EQUAL(b->balance, CFG_LB_LEASTCONN);
    CU_ASSERT_EQUAL(b->retries, 0);
    CU_ASSERT_TRUE(b->redispatch);
    CU_ASSERT_EQUAL(b->check_type, CFG_CHECK_HTTP);
    CU_ASSERT_STRING_EQUAL(b->httpchk_method, "GET");
    CU_ASSERT_STRING_EQUAL(b->httpchk_uri, "/health");
    CU_ASSERT_STRING_EQUAL(b->httpchk_version, "HTTP/1.1");
    CU_ASSERT_EQUAL(b->httpchk_expect_status, 204);
    CU_ASSERT_EQUAL(b->timeout.connect, 1500);
    CU_ASSERT_EQUAL(b->timeout.server, 60000);
    CU_ASSERT_EQUAL(b->timeout.queue, 2000);
    CU_ASSERT_EQUAL(b->timeout.check, 500);
    CU_ASSERT_EQUAL_FATAL(b->nservers, 3);
    const struct cfg_server *s1 = &b->servers[0], *s2 = &b->servers[1], *s3 = &b->servers[2];
    CU_ASSERT_TRUE(s1->check);
    CU_ASSERT_EQUAL(s1->weight, 256);
    CU_ASSERT_EQUAL(s1->inter, 1000);
    CU_ASSERT_EQUAL(s1->fastinter, 500);
    CU_ASSERT_EQUAL(s1->downinter, 5000);
    CU_ASSERT_EQUAL(s1->rise, 5);
    CU_ASSERT_EQUAL(s1->fall, 7);
    CU_ASSERT_EQUAL(s1->maxconn, 30);
    CU_ASSERT_EQUAL(s1->slowstart, 10000);
    CU_ASSERT_FALSE(s1->backup || s1->disabled);
    CU_ASSERT_TRUE(s2->backup && s2->disabled);
    CU_ASSERT_EQUAL(s2->weight, 0);
    CU_ASSERT_EQUAL(s2->send_proxy, CFG_PP_V1);
    CU_ASSERT_EQUAL(s3->send_proxy, CFG_PP_V2);
    CU_ASSERT_EQUAL(s3->addr.ss_family, AF_INET6);
    config_free(cfg);

    /* Every balance algorithm, and the httpchk argument forms. */
    static const struct {
        const char *algo;
        enum cfg_balance lb;
    } algos[] = {{"roundrobin", CFG_LB_ROUNDROBIN}, {"static-rr", CFG_LB_STATIC_RR},
                 {"leastconn", CFG_LB_LEASTCONN},   {"first", CFG_LB_FIRST},
                 {"source", CFG_LB_SOURCE},         {"random", CFG_LB_RANDOM},
                 {"random(2)", CFG_LB_RANDOM}};
    for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), BASE "balance = %s\n", algos[i].algo);
        cfg = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_EQUAL(cfg->proxies[1].balance, algos[i].lb);
        config_free(cfg);
    }
    static const struct {
        const char *args, *method, *uri, *version;
    } chk[] = {{"", "OPTIONS", "/", "HTTP/1.0"},
               {"/ping", "OPTIONS", "/ping", "HTTP/1.0"},
               {"HEAD /ping", "HEAD", "/ping", "HTTP/1.0"},
               {"GET /ping HTTP/1.1\\r\\nHost:\\ www", "GET", "/ping", "HTTP/1.1\r\nHost: www"}};
    for (size_t i = 0; i < sizeof(chk) / sizeof(chk[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), BASE "option = httpchk %s\n", chk[i].args);
        cfg = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_EQUAL(cfg->proxies[1].check_type, CFG_CHECK_HTTP);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[1].httpchk_method, chk[i].method);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[1].httpchk_uri, chk[i].uri);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[1].httpchk_version, chk[i].version);
        config_free(cfg);
    }
    /* Negations and the last statement winning. */
    cfg = load_ok(BASE "option = httpchk\noption = tcp-check\noption redispatch =\n"
                       "no option redispatch\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].check_type, CFG_CHECK_TCP);
    CU_ASSERT_FALSE(cfg->proxies[1].redispatch);
    config_free(cfg);
    cfg = load_ok(BASE "option httpchk =\nno option = httpchk\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].check_type, CFG_CHECK_TCP);
    config_free(cfg);
}

static void test_forms(void)
{
    /* Every way to write the same statements gives the same model. */
    static const char *const texts[] = {
        "[listen l]\nbind = :80\nserver = s1 127.0.0.1:9001 check\ntimeout connect = 5s\n",
        "[listen l]\nbind = :80\nserver s1 = 127.0.0.1:9001 check\ntimeout = connect 5s\n",
        "[listen l]\nbind :80 =\nserver s1 127.0.0.1:9001 = check\ntimeout connect 5s =\n",
        "[listen l]\nbind :80\nserver s1 127.0.0.1:9001 check\ntimeout connect 5s\n",
        "  [listen l]\n\tbind=:80\n    server=s1   127.0.0.1:9001\tcheck  ; comment\n"
        "  timeout   connect   =   5s # comment\n",
        "\xEF\xBB\xBF[listen l]\r\nbind = :80\r\nserver = \"s1\" '127.0.0.1:9001' check\r\n"
        "timeout connect = 5000\r\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct config *cfg = load_ok(texts[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_EQUAL_FATAL(cfg->nproxies, 1);
        struct cfg_proxy *l = &cfg->proxies[0];
        CU_ASSERT_EQUAL(l->caps, CFG_CAP_FE | CFG_CAP_BE);
        CU_ASSERT_PTR_EQUAL(l->backend, l);
        CU_ASSERT_EQUAL(l->timeout.connect, 5000);
        CU_ASSERT_EQUAL_FATAL(l->nbinds, 1);
        CU_ASSERT_STRING_EQUAL(l->binds[0].text, ":80");
        CU_ASSERT_EQUAL_FATAL(l->nservers, 1);
        CU_ASSERT_STRING_EQUAL(l->servers[0].name, "s1");
        CU_ASSERT_STRING_EQUAL(l->servers[0].addr_text, "127.0.0.1:9001");
        CU_ASSERT_EQUAL(l->servers[0].line, 3);
        CU_ASSERT_TRUE(l->servers[0].check);
        config_free(cfg);
    }
    /* An indented line is a statement of its own, not a continuation of the previous value. */
    struct config *cfg = load_ok(BASE "    server = s2 127.0.0.1:2\n        server = s3 "
                                      "127.0.0.1:3\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].nservers, 3);
    CU_ASSERT_EQUAL(cfg->proxies[1].servers[2].line, 7);
    config_free(cfg);
    /* A key longer than inih's 49-character names is fine: inih only sees the keyword. */
    cfg =
        load_ok(BASE "server a-server-name-that-is-longer-than-fourty-nine-chars = 127.0.0.1:7\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(cfg->proxies[1].servers[1].name,
                           "a-server-name-that-is-longer-than-fourty-nine-chars");
    config_free(cfg);
}

static void test_defaults(void)
{
    struct config *cfg = load_ok("[defaults]\n"                       /* 1 */
                                 "timeout connect = 4s\n"             /* 2 */
                                 "timeout client = 40s\n"             /* 3 */
                                 "retries = 5\n"                      /* 4 */
                                 "balance = first\n"                  /* 5 */
                                 "option = redispatch\n"              /* 6 */
                                 "default-server = check inter 3s\n"  /* 7 */
                                 "default_backend = app\n"            /* 8 */
                                 "option = tcplog\n"                  /* 9 */
                                 "maxconn = 77\n"                     /* 10 */
                                 "[frontend web]\n"                   /* 11 */
                                 "bind = :80\n"                       /* 12 */
                                 "[backend app]\n"                    /* 13 */
                                 "retries = 1\n"                      /* 14 */
                                 "server = s1 127.0.0.1:1\n"          /* 15 */
                                 "default-server = weight 9\n"        /* 16 */
                                 "server = s2 127.0.0.1:2 no-check\n" /* 17 */
                                 "[defaults named]\n"                 /* 18 */
                                 "timeout connect = 9s\n"             /* 19 */
                                 "[backend later]\n"                  /* 20 */
                                 "server = s1 127.0.0.1:3\n"          /* 21 */
                                 "[backend from_first from named]\n"  /* 22 */
                                 "server = s1 127.0.0.1:4\n");        /* 23 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nproxies, 4);
    struct cfg_proxy *web = &cfg->proxies[0], *app = &cfg->proxies[1], *later = &cfg->proxies[2];
    CU_ASSERT_EQUAL(web->timeout.client, 40000);
    CU_ASSERT_STRING_EQUAL(web->default_backend, "app");
    CU_ASSERT_EQUAL(web->default_backend_line, 8);
    CU_ASSERT_PTR_EQUAL(web->backend, app);
    CU_ASSERT_TRUE(web->tcplog);
    CU_ASSERT_EQUAL(web->maxconn, 77);
    CU_ASSERT_EQUAL(app->timeout.connect, 4000);
    CU_ASSERT_EQUAL(app->retries, 1);
    CU_ASSERT_EQUAL(app->balance, CFG_LB_FIRST);
    CU_ASSERT_TRUE(app->redispatch);
    CU_ASSERT_STRING_EQUAL(app->default_backend, ""); /* not inherited by a backend */
    CU_ASSERT_EQUAL_FATAL(app->nservers, 2);
    CU_ASSERT_TRUE(app->servers[0].check);
    CU_ASSERT_EQUAL(app->servers[0].inter, 3000);
    CU_ASSERT_EQUAL(app->servers[0].fastinter, 3000);
    CU_ASSERT_EQUAL(app->servers[0].weight, 1);
    CU_ASSERT_FALSE(app->servers[1].check);
    CU_ASSERT_EQUAL(app->servers[1].weight, 9);
    CU_ASSERT_EQUAL(app->servers[1].inter, 3000);
    /* A later [defaults] starts from the built-in values and replaces the earlier one. */
    CU_ASSERT_EQUAL(later->timeout.connect, 9000);
    CU_ASSERT_EQUAL(later->retries, 3);
    CU_ASSERT_FALSE(later->redispatch);
    CU_ASSERT_FALSE(later->servers[0].check);
    CU_ASSERT_EQUAL(cfg->proxies[3].timeout.connect, 9000);
    config_free(cfg);

    /* `from NAME` picks a named [defaults] that is not the last one. */
    cfg = load_ok("[defaults a]\nretries = 7\n[defaults]\nretries = 8\n"
                  "[listen x from a]\nbind = :1\nserver = s 127.0.0.1:1\n"
                  "[listen y]\nbind = :2\nserver = s 127.0.0.1:1\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[0].retries, 7);
    CU_ASSERT_EQUAL(cfg->proxies[1].retries, 8);
    config_free(cfg);

    /* A frontend and a backend may share a name; a listen may use another backend. */
    cfg = load_ok("[frontend app]\nbind = :1\ndefault_backend = app\n"
                  "[backend app]\nserver = s 127.0.0.1:1\n"
                  "[listen l]\nbind = :2\ndefault_backend = app\n"
                  "[backend empty]\n"
                  "[backend hashed]\nbalance = source\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[0].backend, &cfg->proxies[1]);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[2].backend, &cfg->proxies[1]);
    CU_ASSERT_EQUAL(cfg->proxies[3].nservers, 0);
    config_free(cfg);
}

/* Bad configurations and the message each must produce, with its line. */
static void test_errors(void)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {BASE "balance = roundrobbin\n",
         "t.ini:6: unknown balance algorithm 'roundrobbin' (expected roundrobin, static-rr, "
         "leastconn, first, source, random, uri, url_param NAME, hdr(NAME))"},
        {"[backend app]\nserver = s 127.0.0.1:1\n\ntiemout connect = 5s\n",
         "t.ini:4: unknown keyword 'tiemout' in section [backend app] (did you mean 'timeout'?)"},
        {BASE "frobnicate = 1\n", "t.ini:6: unknown keyword 'frobnicate' in section [backend b]"},
        {BASE "bind = :81\n", "t.ini:6: 'bind' is not allowed in a [backend] section"},
        {"[defaults]\nbind = :80\n", "t.ini:2: 'bind' is not allowed in a [defaults] section"},
        {"[frontend f]\nbind = :80\nserver = s 127.0.0.1:1\n",
         "t.ini:3: 'server' is not allowed in a [frontend] section"},
        {"[frontend f]\nbind = :80\nbalance = first\n",
         "t.ini:3: 'balance' is not allowed in a [frontend] section"},
        {BASE "default_backend = x\n",
         "t.ini:6: 'default_backend' is not allowed in a [backend] section"},
        {BASE "timeout client = 1s\n",
         "t.ini:6: 'timeout client' is not allowed in a [backend] section"},
        {"[global]\nmode = tcp\n", "t.ini:2: 'mode' is not allowed in a [global] section"},
        {BASE "nbthread = 2\n", "t.ini:6: 'nbthread' is not allowed in a [backend] section"},
        {BASE "timeout = connnect 5s\n",
         "t.ini:6: unknown timeout 'connnect' in section [backend b] (did you mean 'connect'?"},
        {BASE "timeout connect = 5x\n",
         "t.ini:6: invalid time '5x' for 'timeout connect' (expected a number with an optional "
         "unit"},
        {BASE "timeout connect = -1s\n", "t.ini:6: invalid time '-1s' for 'timeout connect'"},
        {BASE "timeout server = 100d\n", "t.ini:6: time '100d' for 'timeout server' is too large"},
        {BASE "timeout connect =\n", "t.ini:6: 'timeout connect' needs an argument"},
        {BASE "timeout =\n", "t.ini:6: 'timeout' needs an argument (expected one of: connect, "
                             "client, server, queue, check, drain, http-request, "
                             "http-keep-alive, tunnel)"},
        {BASE "retries = -1\n", "t.ini:6: invalid retries '-1' (expected an integer from 0"},
        {BASE "retries = 3x\n", "t.ini:6: invalid retries '3x'"},
        {BASE "server = s2 127.0.0.1:2 weight 257\n",
         "t.ini:6: invalid weight '257' (expected an integer from 0 to 256)"},
        {BASE "server = s2 127.0.0.1:2 rise 0\n", "t.ini:6: invalid rise '0' (expected an "
                                                  "integer from 1 to 1000)"},
        {BASE "server = s2 127.0.0.1:2 fall x\n", "t.ini:6: invalid fall 'x'"},
        {BASE "server = s2 127.0.0.1:2 inter 0\n", "t.ini:6: 'inter' must be greater than 0"},
        {BASE "server = s2 127.0.0.1:2 weight\n",
         "t.ini:6: server option 'weight' needs a value (expected 'weight <number>')"},
        {BASE "server = s2 127.0.0.1:2 chekc\n",
         "t.ini:6: unknown server option 'chekc' (did you mean 'check'?"},
        {BASE "server = s2 127.0.0.1:2 ssl\n", "t.ini:6: unknown server option 'ssl' (expected "
                                               "check, weight N"},
        {BASE "server = s2 localhost:80\n",
         "t.ini:6: invalid address 'localhost:80' for server 's2' (expected IPv4:PORT, "
         "[IPv6]:PORT, *:PORT or :PORT)"},
        {BASE "server = s2\n", "t.ini:6: 'server' needs more arguments (expected 'server <name> "
                               "<addr>:<port> [options...]')"},
        {BASE "server = s1 127.0.0.1:2\n",
         "t.ini:6: duplicate server 's1' in [backend b] (first declared at line 5"},
        {BASE "server = s/2 127.0.0.1:2\n", "t.ini:6: invalid character '/' in server name"},
        {BASE "default-server = bogus\n", "t.ini:6: unknown default-server option 'bogus'"},
        {"[frontend f]\nbind = 1.2.3.4\n",
         "t.ini:2: invalid bind address '1.2.3.4' (expected IPv4:PORT, [IPv6]:PORT, *:PORT or "
         ":PORT)"},
        {"[frontend f]\nbind = :80 ssl\n", "t.ini:2: unknown bind option 'ssl' (expected "
                                           "accept-proxy)"},
        {"[frontend f]\nbind = :80,,:81\n", "t.ini:2: empty address in 'bind' list"},
        {BASE "mode = udp\n", "t.ini:6: unknown mode 'udp' (expected tcp or http)"},
        {BASE "balance = random(3)\n", "t.ini:6: unsupported draw count in 'random(3)'"},
        {BASE "balance = urx\n", "t.ini:6: unknown balance algorithm 'urx'"},
        {BASE "option = httpchk GET health\n",
         "t.ini:6: invalid URI 'health' in 'option httpchk' (expected a path starting with '/')"},
        {BASE "option = httpchk get /\n", "t.ini:6: invalid HTTP method 'get'"},
        {BASE "option = httpchk GET / HTTP/1.1 extra\n",
         "t.ini:6: too many arguments for 'option httpchk'"},
        {BASE "option = dontlognull\n",
         "t.ini:6: unknown option 'dontlognull' in section [backend b] (expected redispatch, "
         "tcp-check, httpchk, tcplog, forwardfor, forwarded, httplog, http-server-close, "
         "httpclose, http-keep-alive)"},
        {BASE "option = redispatch now\n",
         "t.ini:6: 'option redispatch' takes no argument (expected 'option redispatch =')"},
        {BASE "http-check = expect string ok\n",
         "t.ini:6: unsupported 'http-check expect string' (expected 'http-check expect status "
         "CODE')"},
        {BASE "http-check expect = status 99\n",
         "t.ini:6: invalid status code '99' (expected an integer from 100 to 599)"},
        {BASE "\n\nhttp-check expect = status 200\n",
         "t.ini:8: 'http-check expect' in [backend b] needs 'option httpchk'"},
        {"[defaults]\nhttp-check expect = status 200\n" BASE,
         "t.ini:2: 'http-check expect' in [backend b] needs 'option httpchk'"},
        {BASE "no timeout connect 5s\n", "t.ini:6: 'no timeout connect' is not supported"},
        {BASE "no\n", "t.ini:6: 'no' needs a keyword"},
        {"maxconn = 10\n" BASE, "t.ini:1: 'maxconn' is outside of any section"},
        {"[global]\nmaxconn = 0\n" BASE, "t.ini:2: invalid maxconn '0' (expected an integer >= 1)"},
        {"[global]\nmaxconn = 99999999999\n" BASE, "t.ini:2: invalid maxconn '99999999999'"},
        {"[global]\nnbthread = 0\n" BASE,
         "t.ini:2: invalid nbthread '0' (expected an integer from 1 to 4096)"},
        {"[global]\npoller = kqueue\n" BASE,
         "t.ini:2: unknown poller 'kqueue' (expected epoll or io_uring)"},
        {"[global]\nlog = 127.0.0.1:514 local0\n" BASE,
         "t.ini:2: syslog log target '127.0.0.1:514' is not supported"},
        {"[global]\nlog =\n", "t.ini:2: 'log' needs an argument (expected 'log stdout | stderr | "
                              "<file> [ignored words]')"},
        {"[global]\ndaemon = yes\n", "t.ini:2: 'daemon' takes no argument (expected 'daemon =')"},
        {"[global]\npidfile = a b\n", "t.ini:2: too many arguments for 'pidfile'"},
        {"[globl]\n", "t.ini:1: unknown section type 'globl' (did you mean 'global'? expected "
                      "global, defaults, frontend, backend or listen)"},
        {"[resolvers dns]\n", "t.ini:1: unknown section type 'resolvers' (expected global, "
                              "defaults, frontend, backend or listen)"},
        {"[global x]\n", "t.ini:1: [global] takes no name"},
        {"[backend]\n", "t.ini:1: [backend] needs a name (expected [backend NAME])"},
        {"[backend a b]\n", "t.ini:1: unexpected 'b' in section header"},
        {"[backend a\n", "t.ini:1: section header has no closing ']'"},
        {"[backend a] junk\n", "t.ini:1: unexpected text 'junk' after the section header"},
        {"[]\n", "t.ini:1: empty section header"},
        {"[backend a/b]\n", "t.ini:1: invalid character '/' in section name 'a/b'"},
        {"[backend a from nowhere]\n", "t.ini:1: unknown defaults section 'nowhere' after 'from'"},
        {"[defaults d]\n[defaults d]\n", "t.ini:2: duplicate defaults section 'd' (first declared "
                                         "at line 1"},
        {BASE "[backend b]\n", "t.ini:6: backend 'b' has the same name as the backend declared at "
                               "line 4"},
        {BASE "[listen f]\n", "t.ini:6: listen 'f' has the same name as the frontend declared at "
                              "line 1"},
        {BASE "= value\n", "t.ini:6: missing keyword before '='"},
        {BASE "server = \"s2 127.0.0.1:2\n", "t.ini:6: unmatched double quote"},
        {BASE "127.0.0.1:80 = x\n",
         "t.ini:6: unknown keyword '127.0.0.1:80' in section [backend b]"},
        {BASE "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijX = 1\n",
         "t.ini:6: keyword 'abcdefghijabcdefghij...' is longer than 49 characters"},
        {"[frontend f]\nbind = :80\n",
         "t.ini:1: frontend 'f' has no default_backend (expected 'default_backend = NAME'"},
        {"[frontend f]\ndefault_backend = b\n[backend b]\n",
         "t.ini:1: frontend 'f' has no 'bind' (expected at least one 'bind = ADDR:PORT')"},
        {"[listen l]\nbind = :80\n", "t.ini:1: listen 'l' has no 'server' and no default_backend"},
        {"[frontend f]\nbind = :80\n\ndefault_backend = app\n",
         "t.ini:4: default_backend 'app' of frontend 'f' does not exist (expected the name of a "
         "[backend] or [listen] section)"},
        {"[frontend f]\nbind = :80\ndefault_backend = g\n[frontend g]\nbind = :81\n"
         "default_backend = f\n",
         "t.ini:3: default_backend 'g' of frontend 'f' is a frontend, not a backend"},
        {"[defaults]\ndefault_backend = nope\n[frontend f]\nbind = :80\n",
         "t.ini:2: default_backend 'nope' of frontend 'f' does not exist"},
        {"[frontend f]\nmode = http\nbind = :80\ndefault_backend = b\n[backend b]\n"
         "server = s 127.0.0.1:1\n",
         "t.ini:4: unable to use backend 'b' (mode tcp) from frontend 'f' (mode http)"},
        {BASE "[frontend g]\nbind = 0.0.0.0:80\ndefault_backend = b\n",
         "t.ini:7: bind address '0.0.0.0:80' is already used by frontend 'f' at line 2"},
        {"[listen l]\nbind = :80,:81,*:81\nserver = s 127.0.0.1:1\n",
         "t.ini:2: bind address '*:81' is already used by listen 'l' at line 2"},
        {"", "t.ini:0: no [frontend] or [listen] section"},
        {"[global]\ndaemon =\n", "t.ini:2: no [frontend] or [listen] section"},
        {"[global]\nfoo\n", "t.ini:2: unknown keyword 'foo' in section [global]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config *cfg = (struct config *)1;
        char err[512] = "";
        int rc = config_load_string("t.ini", cases[i].text, &cfg, err, sizeof(err));
        bool ok = rc == -1 && cfg == NULL && strstr(err, cases[i].expect) != NULL;
        if (!ok)
            fprintf(stderr, "\ncase %zu: rc %d\n  got:    %s\n  wanted: %s\n", i, rc, err,
                    cases[i].expect);
        CU_ASSERT_TRUE(ok);
        if (rc == 0)
            config_free(cfg);
    }
}

static void test_line_length(void)
{
    char text[1024], err[256];
    struct config *cfg;
    /* 199 characters are fine, 200 are not; a long comment is harmless. */
    char line[512];
    memset(line, 'x', sizeof(line));
    snprintf(text, sizeof(text), BASE "server = s2 127.0.0.1:2 # %.*s\n", 199 - 26, line);
    CU_ASSERT_EQUAL(strlen(strchr(text + strlen(BASE), 's')), 200);
    cfg = load_ok(text);
    config_free(cfg);
    snprintf(text, sizeof(text), BASE "server = s2 127.0.0.1:2 # %.*s\n", 200 - 26, line);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:6: line is longer than 199 characters (split it)");
    /* Indentation counts: the physical line is what is limited. */
    snprintf(text, sizeof(text), BASE "    server = s2 127.0.0.1:2 # %.*s\n", 196 - 26, line);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:6: line is longer than 199 characters (split it)");
    snprintf(text, sizeof(text), BASE "# %.*s\n  ; %.*s\n", 300, line, 250, line);
    cfg = load_ok(text);
    config_free(cfg);
    snprintf(text, sizeof(text), "[backend %.*s]\n", 300 - 10, line);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:1: line is longer than 199 characters (split it)");
    snprintf(text, sizeof(text), "[backend %.*s]\n", 64, line);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:1: section name 'xxx"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is too long (expected at most 63 characters)"));
}

static void test_files(void)
{
    char err[512];
    struct config *cfg = (struct config *)1;
    CU_ASSERT_EQUAL(config_load("/nonexistent/sluice.ini", &cfg, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/sluice.ini: cannot open the configuration"));

    /* A file: line numbers and the file name in messages. */
    char path[] = "/tmp/sluice-test-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs(BASE "\n  tiemout connect = 1s\n", fp);
    fclose(fp);
    CU_ASSERT_EQUAL(config_load(path, &cfg, err, sizeof(err)), -1);
    char want[128];
    snprintf(want, sizeof(want), "%s:7: unknown keyword 'tiemout'", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    unlink(path);

    /* Every example loads. */
    glob_t g;
    CU_ASSERT_EQUAL_FATAL(glob("examples/*.ini", 0, NULL, &g), 0);
    CU_ASSERT(g.gl_pathc >= 3);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int rc = config_load(g.gl_pathv[i], &cfg, err, sizeof(err));
        if (rc != 0)
            fprintf(stderr, "\n%s\n", err);
        CU_ASSERT_EQUAL(rc, 0);
        config_free(cfg);
    }
    globfree(&g);
    config_free(NULL);
}

/* docs/configuration.md documents every keyword of the table, with its default. */
static void test_docs(void)
{
    FILE *fp = fopen("docs/configuration.md", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    static char doc[1 << 17];
    size_t n = fread(doc, 1, sizeof(doc) - 1, fp);
    doc[n] = '\0';
    fclose(fp);
    for (size_t i = 0; i < config__nkeywords; i++) {
        char head[128];
        snprintf(head, sizeof(head), "### `%s`", config__keywords[i].name);
        if (!strstr(doc, head))
            fprintf(stderr, "\ndocs/configuration.md lacks '%s'\n", head);
        CU_ASSERT_PTR_NOT_NULL(strstr(doc, head));
        if (!strstr(doc, config__keywords[i].def))
            fprintf(stderr, "\ndocs/configuration.md lacks default '%s' of %s\n",
                    config__keywords[i].def, config__keywords[i].name);
        CU_ASSERT_PTR_NOT_NULL(strstr(doc, config__keywords[i].def));
        CU_ASSERT_PTR_NOT_NULL(strstr(doc, config__keywords[i].example));
    }
}

/* Each keyword's documented example loads in a section where it is allowed. */
static void test_keyword_examples(void)
{
    for (size_t i = 0; i < config__nkeywords; i++) {
        const struct cfg_keyword *k = &config__keywords[i];
        char text[1024];
        if (k->sections & CFG_SEC_GLOBAL)
            snprintf(text, sizeof(text), "[global]\n%s\n" BASE, k->example);
        else
            snprintf(text, sizeof(text),
                     "[listen x]\nmode = http\nbind = :1\nserver = z 127.0.0.1:1\n%s\n%s\n"
                     "[backend app]\nmode = http\nserver = a 127.0.0.1:2\n",
                     strncmp(k->name, "http-check", 10) == 0 ? "option = httpchk" : "", k->example);
        struct config *cfg = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL(cfg);
        config_free(cfg);
    }
}

/* scripts/haproxy2ini turns a haproxy.cfg into INI that loads, and reports what it left out. */
static void test_haproxy2ini(void)
{
    char in[] = "/tmp/sluice-h2i-XXXXXX";
    int fd = mkstemp(in);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("global\n"                                                     /* 1 */
          "    maxconn 4096\n"                                           /* 2 */
          "    log stdout format raw local0\n"                           /* 3 */
          "defaults\n"                                                   /* 4 */
          "    mode tcp\n"                                               /* 5 */
          "    option dontlognull\n"                                     /* 6 */
          "    timeout connect 5s\n"                                     /* 7 */
          "frontend web\n"                                               /* 8 */
          "    bind :8080 accept-proxy\n"                                /* 9 */
          "    default_backend app\n"                                    /* 10 */
          "backend app\n"                                                /* 11 */
          "    option httpchk GET /health HTTP/1.1\\r\\nHost:\\ x # c\n" /* 12 */
          "    http-check expect status 200\n"                           /* 13 */
          "    server s1 10.0.0.1:80 check cookie a weight 5\n"          /* 14 */
          "    server s2 [::1]:80 backup send-proxy\n",                  /* 15 */
          fp);
    fclose(fp);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "scripts/haproxy2ini %s 2>%s.err", in, in);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    static char ini[8192];
    size_t n = fread(ini, 1, sizeof(ini) - 1, p);
    ini[n] = '\0';
    int status = pclose(p);
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 1); /* something was left out */
    struct config *cfg = load_ok(ini);
    CU_ASSERT_PTR_NOT_NULL(cfg);
    if (cfg) {
        struct cfg_proxy *app = config_find_proxy(cfg, "app", CFG_CAP_BE);
        CU_ASSERT_PTR_NOT_NULL_FATAL(app);
        CU_ASSERT_EQUAL(cfg->maxconn, 4096);
        CU_ASSERT_STRING_EQUAL(cfg->log_target, "stdout");
        CU_ASSERT_EQUAL(app->timeout.connect, 5000);
        CU_ASSERT_STRING_EQUAL(app->httpchk_version, "HTTP/1.1\r\nHost: x");
        CU_ASSERT_EQUAL(app->httpchk_expect_status, 200);
        CU_ASSERT_EQUAL_FATAL(app->nservers, 2);
        CU_ASSERT_EQUAL(app->servers[0].weight, 5);
        CU_ASSERT_TRUE(app->servers[1].backup);
        CU_ASSERT_TRUE(cfg->proxies[0].binds[0].accept_proxy);
        config_free(cfg);
    }
    char errpath[64], report[2048];
    snprintf(errpath, sizeof(errpath), "%s.err", in);
    fp = fopen(errpath, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    n = fread(report, 1, sizeof(report) - 1, fp);
    report[n] = '\0';
    fclose(fp);
    char want[128];
    snprintf(want, sizeof(want), "%s:6: unsupported: option dontlognull", in);
    CU_ASSERT_PTR_NOT_NULL(strstr(report, want));
    snprintf(want, sizeof(want), "%s:14: unsupported: cookie a", in);
    CU_ASSERT_PTR_NOT_NULL(strstr(report, want));
    unlink(errpath);
    unlink(in);
}

int suite_config(void)
{
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "time", test_time);
    CU_add_test(s, "addr", test_addr);
    CU_add_test(s, "tokenize", test_tokenize);
    CU_add_test(s, "global", test_global);
    CU_add_test(s, "builtin_defaults", test_builtin_defaults);
    CU_add_test(s, "every_keyword", test_every_keyword);
    CU_add_test(s, "forms", test_forms);
    CU_add_test(s, "defaults", test_defaults);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "line_length", test_line_length);
    CU_add_test(s, "files", test_files);
    CU_add_test(s, "docs", test_docs);
    CU_add_test(s, "keyword_examples", test_keyword_examples);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    return CU_get_error();
}
