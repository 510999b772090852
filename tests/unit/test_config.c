/* Unit tests of config/: time and address parsing, every keyword, inheritance, every error. */
#include "config/config_internal.h"

#include "cfg_load.h"
#include "h2i.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Five lines that make a valid config; error cases append to it, so they start at line 6. */
#define BASE                                                                                       \
    "[frontend f]\n"                                                                               \
    "bind = :80\n"                                                                                 \
    "default_backend = b\n"                                                                        \
    "[backend b]\n"                                                                                \
    "server = s1 127.0.0.1:1\n"

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
    struct config *cfg = cfg_load_ok("[global]\n"
                                     "maxconn = 5000\n"
                                     "nbthread = 3\n"
                                     "poller = io_uring\n"
                                     "log = /var/log/sluice.log local0 info\n"
                                     "pidfile = /run/sluice.pid\n"
                                     "tune.pipesize = 1m\n"
                                     "tune.bufsize = 32k\n"
                                     "tune.http.maxhdr = 200\n"
                                     "daemon =\n" BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->pipesize, 1024 * 1024);
    CU_ASSERT_EQUAL(cfg->bufsize, 32 * 1024);
    CU_ASSERT_EQUAL(cfg->maxhdr, 200);
    CU_ASSERT_EQUAL(cfg->maxconn, 5000);
    CU_ASSERT_EQUAL(cfg->nbthread, 3);
    CU_ASSERT_EQUAL(cfg->poller, CFG_POLLER_URING);
    CU_ASSERT_STRING_EQUAL(cfg->log_target, "/var/log/sluice.log");
    CU_ASSERT_STRING_EQUAL(cfg->pidfile, "/run/sluice.pid");
    CU_ASSERT_TRUE(cfg->daemon);
    CU_ASSERT_STRING_EQUAL(cfg->file, "t.ini");
    config_free(cfg);

    /* Built-in globals: derived maxconn and thread count; epoll; no daemon. */
    cfg = cfg_load_ok("[global]\npoller = epoll\nlog = stdout\nno daemon\n" BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_TRUE(cfg->maxconn >= 64);
    CU_ASSERT_TRUE(cfg->nbthread >= 1);
    CU_ASSERT_EQUAL(cfg->poller, CFG_POLLER_EPOLL);
    CU_ASSERT_STRING_EQUAL(cfg->log_target, "stdout");
    CU_ASSERT_FALSE(cfg->daemon);
    CU_ASSERT_STRING_EQUAL(cfg->pidfile, "");
    CU_ASSERT_EQUAL(cfg->pipesize, 256 * 1024);
    CU_ASSERT_EQUAL(cfg->bufsize, 16384);
    config_free(cfg);

    /* tune.pipesize: bytes, k or m (binary). */
    static const struct {
        const char *v;
        int want;
    } sizes[] = {
        {"65536", 65536}, {"64k", 65536}, {"64K", 65536}, {"2m", 2 * 1024 * 1024}, {"4096", 4096}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "[global]\ntune.pipesize = %s\n" BASE, sizes[i].v);
        cfg = cfg_load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_EQUAL(cfg->pipesize, sizes[i].want);
        config_free(cfg);
    }
}

static void test_builtin_defaults(void)
{
    struct config *cfg = cfg_load_ok(BASE);
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
    struct config *cfg = cfg_load_ok("[frontend web]\n"
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
        cfg = cfg_load_ok(text);
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
        cfg = cfg_load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_EQUAL(cfg->proxies[1].check_type, CFG_CHECK_HTTP);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[1].httpchk_method, chk[i].method);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[1].httpchk_uri, chk[i].uri);
        CU_ASSERT_STRING_EQUAL(cfg->proxies[1].httpchk_version, chk[i].version);
        config_free(cfg);
    }
    /* Negations and the last statement winning. */
    cfg = cfg_load_ok(BASE "option = httpchk\noption = tcp-check\noption redispatch =\n"
                           "no option redispatch\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].check_type, CFG_CHECK_TCP);
    CU_ASSERT_FALSE(cfg->proxies[1].redispatch);
    config_free(cfg);
    cfg = cfg_load_ok(BASE "option httpchk =\nno option = httpchk\n");
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
        struct config *cfg = cfg_load_ok(texts[i]);
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
    struct config *cfg = cfg_load_ok(BASE "    server = s2 127.0.0.1:2\n        server = s3 "
                                          "127.0.0.1:3\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].nservers, 3);
    CU_ASSERT_EQUAL(cfg->proxies[1].servers[2].line, 7);
    config_free(cfg);
    /* A key longer than inih's 49-character names is fine: inih only sees the keyword. */
    cfg = cfg_load_ok(BASE
                      "server a-server-name-that-is-longer-than-fourty-nine-chars = 127.0.0.1:7\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(cfg->proxies[1].servers[1].name,
                           "a-server-name-that-is-longer-than-fourty-nine-chars");
    config_free(cfg);
}

static void test_defaults(void)
{
    struct config *cfg = cfg_load_ok("[defaults]\n"                       /* 1 */
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
    cfg = cfg_load_ok("[defaults a]\nretries = 7\n[defaults]\nretries = 8\n"
                      "[listen x from a]\nbind = :1\nserver = s 127.0.0.1:1\n"
                      "[listen y]\nbind = :2\nserver = s 127.0.0.1:1\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[0].retries, 7);
    CU_ASSERT_EQUAL(cfg->proxies[1].retries, 8);
    config_free(cfg);

    /* A frontend and a backend may share a name; a listen may use another backend. */
    cfg = cfg_load_ok("[frontend app]\nbind = :1\ndefault_backend = app\n"
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
        {BASE "timeout =\n",
         "t.ini:6: 'timeout' needs an argument (expected one of: connect, "
         "client, server, client-fin, server-fin, queue, check, drain, http-request, "
         "http-keep-alive, tarpit, tunnel, resolve, retry)"},
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
                                           "accept-proxy or defer-accept)"},
        {"[frontend f]\nbind = :80,,:81\n", "t.ini:2: empty address in 'bind' list"},
        {BASE "mode = udp\n", "t.ini:6: unknown mode 'udp' (expected tcp or http)"},
        {BASE "balance = random(3)\n", "t.ini:6: unsupported draw count in 'random(3)'"},
        {BASE "balance = urx\n", "t.ini:6: unknown balance algorithm 'urx'"},
        {BASE "option = httpchk GET health\n",
         "t.ini:6: invalid URI 'health' in 'option httpchk' (expected a path starting with '/')"},
        {BASE "option = httpchk get /\n", "t.ini:6: invalid HTTP method 'get'"},
        {BASE "option = httpchk GET / HTTP/1.1 extra\n",
         "t.ini:6: too many arguments for 'option httpchk'"},
        {BASE "option = logasap\n",
         "t.ini:6: unknown option 'logasap' in section [backend b] (expected splice-auto, "
         "splice-request, splice-response, redispatch, "
         "nolinger, tcp-check, httpchk, dontlognull, dontlog-normal, tcplog, forwardfor, "
         "forwarded, httplog, http-server-close, httpclose, http-keep-alive, http_proxy, "
         "anonymize)"},
        {BASE "option = dontlognull\n",
         "t.ini:6: 'option dontlognull' is not allowed in a [backend] section"},
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
        {"[global]\nlog = 127.0.0.1:514\n" BASE,
         "t.ini:2: syslog target '127.0.0.1:514' needs a facility (expected 'log 127.0.0.1:514 "
         "local0')"},
        {"[global]\nlog =\n", "t.ini:2: 'log' needs an argument (expected 'log <target> [len <n>] "
                              "[format rfc3164|rfc5424|raw] [<facility> [<level> [<minlevel>]]]')"},
        {"[global]\ndaemon = yes\n", "t.ini:2: 'daemon' takes no argument (expected 'daemon =')"},
        {"[global]\npidfile = a b\n", "t.ini:2: too many arguments for 'pidfile'"},
        {"[globl]\n", "t.ini:1: unknown section type 'globl' (did you mean 'global'? expected "
                      "global, defaults, frontend, backend, listen, resolvers, userlist or "
                      "http-errors)"},
        {"[cache c]\n", "t.ini:1: unknown section type 'cache' (expected global, defaults, "
                        "frontend, backend, listen, resolvers, userlist or http-errors)"},
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
        {"[global]\ntune.pipesize = 12x\n" BASE,
         "t.ini:2: tune.pipesize: '12x' is not a size (expected bytes, or a number with k or m)"},
        {"[global]\ntune.pipesize = 1000\n" BASE,
         "t.ini:2: tune.pipesize: '1000' is out of range (4096 to 1073741824 bytes)"},
        {"[global]\ntune.pipesize = 2048m\n" BASE, "t.ini:2: tune.pipesize: '2048m' is out of"},
        {"[global]\ntune.pipesize = k\n" BASE, "t.ini:2: tune.pipesize: 'k' is not a size"},
        {"[global]\ntune.pipesize = -4k\n" BASE, "t.ini:2: tune.pipesize: '-4k' is out of range"},
        {"[global]\ntune.bufsize = 2k\n" BASE,
         "t.ini:2: tune.bufsize: '2k' is out of range (4096 to 1048576 bytes)"},
        {"[global]\ntune.bufsize = 2m\n" BASE, "t.ini:2: tune.bufsize: '2m' is out of range"},
        {"[global]\ntune.bufsize = big\n" BASE, "t.ini:2: tune.bufsize: 'big' is not a size"},
        {"[global]\ntune.http.maxhdr = 0\n" BASE,
         "t.ini:2: invalid tune.http.maxhdr '0' (expected an integer from 1 to 1024)"},
        {"[global]\ntune.http.maxhdr = 2000\n" BASE,
         "t.ini:2: invalid tune.http.maxhdr '2000' (expected an integer from 1 to 1024)"},
        {BASE "tune.pipesize = 1m\n",
         "t.ini:6: 'tune.pipesize' is not allowed in a [backend] section"},
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

/* ---- mode http ---------------------------------------------------------------------------- */

#define HTTP_BASE                                                                                  \
    "[frontend f]\n"                                                                               \
    "mode = http\n"                                                                                \
    "bind = :80\n"                                                                                 \
    "default_backend = b\n"                                                                        \
    "[backend b]\n"                                                                                \
    "mode = http\n"                                                                                \
    "server = s1 127.0.0.1:1\n"

/* The same seven lines ending in a frontend, for frontend-only keywords. */
#define HTTP_FE                                                                                    \
    "[backend b]\n"                                                                                \
    "mode = http\n"                                                                                \
    "server = s1 127.0.0.1:1\n"                                                                    \
    "[frontend f]\n"                                                                               \
    "mode = http\n"                                                                                \
    "bind = :80\n"                                                                                 \
    "default_backend = b\n"

static void test_http_keywords(void)
{
    struct config *cfg = cfg_load_ok(
        "[frontend web]\n"                                                        /* 1 */
        "mode = http\n"                                                           /* 2 */
        "bind = :80\n"                                                            /* 3 */
        "acl = is_api path_beg /api/ /v2/\n"                                      /* 4 */
        "acl = is_api hdr(Host) -i API.Example.com\n"                             /* 5 */
        "acl = static path_end -i .CSS .js\n"                                     /* 6 */
        "acl = admin_net src 10.0.0.0/8 2001:db8::/32 192.168.1.7\n"              /* 7 */
        "acl = rx url_reg -i ^/x/[0-9]+$\n"                                       /* 8 */
        "acl = p url_param(user) -m beg adm\n"                                    /* 9 */
        "acl = port dst_port 80 8000:8100 gt 9000\n"                              /* 10 */
        "acl = dashed hdr(x-tag) -- -1\n"                                         /* 11 */
        "acl = has_cookie req.hdr(cookie) -m found\n"                             /* 12 */
        "use_backend = api if is_api METH_GET or { method POST } !admin_net\n"    /* 13 */
        "use_backend = static unless !static\n"                                   /* 14 */
        "http-request deny = deny_status 429 if { path_beg /admin } !admin_net\n" /* 15 */
        "http-request allow = if admin_net\n"                                     /* 16 */
        "http-request redirect = scheme https code 301 if !{ dst_port 443 }\n"    /* 17 */
        "http-request return = status 404 content-type text/plain string \"not here\" if { "
        "path /x }\n"                                                      /* 18 */
        "http-request set-header = X-Forwarded-Proto https\n"              /* 19 */
        "http-request add-header = X-Rate 100%%\n"                         /* 20 */
        "http-request del-header = Proxy\n"                                /* 21 */
        "http-response set-header = X-Frame-Options DENY\n"                /* 22 */
        "http-response add-header = Via \"1.1 sluice\"\n"                  /* 23 */
        "http-response del-header = Server\n"                              /* 24 */
        "http-response set-status = 503 reason \"Try later\" if FALSE\n"   /* 25 */
        "http-response deny = if { path_beg /internal }\n"                 /* 26 */
        "option forwardfor = except 127.0.0.0/8 header X-Client if-none\n" /* 27 */
        "option = httplog\n"                                               /* 28 */
        "option = http-server-close\n"                                     /* 29 */
        "timeout http-request = 5s\n"                                      /* 30 */
        "timeout http-keep-alive = 1s\n"                                   /* 31 */
        "errorfile = 503 examples/errors/503.http\n"                       /* 32 */
        "default_backend = app\n"                                          /* 33 */
        "[backend api]\nmode = http\nbalance = url_param user\nserver = a1 127.0.0.1:1\n"
        "[backend static]\nmode = http\nbalance = hdr(X-Shard)\nserver = s1 127.0.0.1:2\n"
        "[backend app]\n"
        "mode = http\n"
        "balance = uri\n"
        "cookie = SRV insert indirect nocache httponly secure domain .example.com\n"
        "server = w1 127.0.0.1:3 cookie w1\n"
        "server = w2 127.0.0.1:4 cookie w2\n"
        "server = w3 127.0.0.1:5\n"
        "http-reuse = never\n"
        "timeout tunnel = 1h\n"
        "retry-on = conn-failure 503\n"
        "option = forwarded\n"
        "option = httpclose\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    struct cfg_proxy *web = &cfg->proxies[0], *api = &cfg->proxies[1], *st = &cfg->proxies[2],
                     *app = &cfg->proxies[3];
    const struct cfg_http *h = &web->http;

    /* ACLs: user ones in file order, then anonymous and predefined ones as rules use them */
    CU_ASSERT_EQUAL_FATAL(h->nacls, 16);
    const struct cfg_acl *a = &h->acls[0];
    CU_ASSERT_STRING_EQUAL(a->name, "is_api");
    CU_ASSERT_EQUAL(a->fetch, ACL_F_PATH);
    CU_ASSERT_EQUAL(a->match, ACL_M_BEG);
    CU_ASSERT_EQUAL(a->line, 4);
    CU_ASSERT_EQUAL_FATAL(a->nvalues, 2);
    CU_ASSERT_STRING_EQUAL(a->values[1].str, "/v2/");
    CU_ASSERT_EQUAL(a->values[1].len, 4);
    a = &h->acls[1];
    CU_ASSERT_EQUAL(a->fetch, ACL_F_HDR);
    CU_ASSERT_STRING_EQUAL(a->arg, "host");
    CU_ASSERT_TRUE(a->icase);
    CU_ASSERT_STRING_EQUAL(a->values[0].str, "api.example.com"); /* lower-cased for -i */
    CU_ASSERT_STRING_EQUAL(h->acls[2].values[0].str, ".css");
    a = &h->acls[3];
    CU_ASSERT_EQUAL(a->fetch, ACL_F_SRC);
    CU_ASSERT_EQUAL(a->match, ACL_M_IP);
    CU_ASSERT_EQUAL_FATAL(a->nvalues, 3);
    CU_ASSERT_EQUAL(a->values[0].net.prefix, 8);
    CU_ASSERT_EQUAL(a->values[1].net.addr.ss_family, AF_INET6);
    CU_ASSERT_EQUAL(a->values[1].net.prefix, 32);
    CU_ASSERT_EQUAL(a->values[2].net.prefix, 32);
    a = &h->acls[4];
    CU_ASSERT_EQUAL(a->fetch, ACL_F_URL);
    CU_ASSERT_EQUAL(a->match, ACL_M_REG);
    CU_ASSERT_PTR_NOT_NULL(a->values[0].re);
    CU_ASSERT_STRING_EQUAL(a->values[0].str, "^/x/[0-9]+$"); /* kept as written */
    a = &h->acls[5];
    CU_ASSERT_EQUAL(a->fetch, ACL_F_URL_PARAM);
    CU_ASSERT_STRING_EQUAL(a->arg, "user");
    CU_ASSERT_EQUAL(a->match, ACL_M_BEG);
    a = &h->acls[6];
    CU_ASSERT_EQUAL(a->fetch, ACL_F_DST_PORT);
    CU_ASSERT_EQUAL(a->match, ACL_M_INT);
    CU_ASSERT_EQUAL_FATAL(a->nvalues, 3);
    CU_ASSERT_EQUAL(a->values[0].num, 80);
    CU_ASSERT_EQUAL(a->values[0].num_max, 80);
    CU_ASSERT_EQUAL(a->values[1].num, 8000);
    CU_ASSERT_EQUAL(a->values[1].num_max, 8100);
    CU_ASSERT_EQUAL(a->values[2].num, 9001);
    CU_ASSERT_EQUAL(a->values[2].num_max, INT64_MAX);
    CU_ASSERT_STRING_EQUAL(h->acls[7].values[0].str, "-1");
    CU_ASSERT_EQUAL(h->acls[8].match, ACL_M_FOUND);
    CU_ASSERT_EQUAL(h->acls[8].nvalues, 0);

    /* use_backend: terms, groups, negation, resolution */
    CU_ASSERT_EQUAL_FATAL(h->nuse_backends, 2);
    const struct cfg_use_backend *ub = &h->use_backends[0];
    CU_ASSERT_STRING_EQUAL(ub->name, "api");
    CU_ASSERT_PTR_EQUAL(ub->backend, api);
    CU_ASSERT_EQUAL(ub->line, 13);
    CU_ASSERT_TRUE(ub->cond.present);
    CU_ASSERT_FALSE(ub->cond.unless);
    CU_ASSERT_EQUAL_FATAL(ub->cond.nterms, 4);
    CU_ASSERT_EQUAL(ub->cond.terms[0].nacls, 2); /* both is_api lines */
    CU_ASSERT_FALSE(ub->cond.terms[0].or_before);
    CU_ASSERT_STRING_EQUAL(h->acls[ub->cond.terms[1].acls[0]].name, "METH_GET");
    CU_ASSERT_TRUE(ub->cond.terms[2].or_before);
    CU_ASSERT_STRING_EQUAL(h->acls[ub->cond.terms[2].acls[0]].name, "");
    CU_ASSERT_EQUAL(h->acls[ub->cond.terms[2].acls[0]].fetch, ACL_F_METHOD);
    CU_ASSERT_TRUE(ub->cond.terms[3].neg);
    CU_ASSERT_FALSE(ub->cond.terms[3].or_before);
    ub = &h->use_backends[1];
    CU_ASSERT_PTR_EQUAL(ub->backend, st);
    CU_ASSERT_TRUE(ub->cond.unless);
    CU_ASSERT_TRUE(ub->cond.terms[0].neg);

    /* http-request rules */
    CU_ASSERT_EQUAL_FATAL(h->nreq_rules, 7);
    const struct cfg_http_rule *r = h->req_rules;
    CU_ASSERT_EQUAL(r[0].action, HTTP_ACT_DENY);
    CU_ASSERT_EQUAL(r[0].status, 429);
    CU_ASSERT_EQUAL(r[0].line, 15);
    CU_ASSERT_EQUAL(r[0].cond.nterms, 2);
    CU_ASSERT_EQUAL(r[1].action, HTTP_ACT_ALLOW);
    CU_ASSERT_TRUE(r[1].cond.present);
    CU_ASSERT_EQUAL(r[2].action, HTTP_ACT_REDIRECT);
    CU_ASSERT_EQUAL(r[2].redirect, HTTP_REDIR_SCHEME);
    CU_ASSERT_STRING_EQUAL(r[2].value, "https");
    CU_ASSERT_EQUAL(r[2].status, 301);
    CU_ASSERT_TRUE(r[2].cond.terms[0].neg);
    CU_ASSERT_EQUAL(r[3].action, HTTP_ACT_RETURN);
    CU_ASSERT_EQUAL(r[3].status, 404);
    CU_ASSERT_STRING_EQUAL(r[3].content_type, "text/plain");
    CU_ASSERT_STRING_EQUAL(r[3].value, "not here");
    CU_ASSERT_EQUAL(r[3].value_len, 8);
    CU_ASSERT_EQUAL(r[4].action, HTTP_ACT_SET_HEADER);
    CU_ASSERT_STRING_EQUAL(r[4].name, "X-Forwarded-Proto");
    CU_ASSERT_STRING_EQUAL(r[4].value, "https");
    CU_ASSERT_FALSE(r[4].cond.present);
    CU_ASSERT_EQUAL(r[5].action, HTTP_ACT_ADD_HEADER);
    CU_ASSERT_STRING_EQUAL(r[5].value, "100%"); /* %% is a literal % */
    CU_ASSERT_EQUAL(r[6].action, HTTP_ACT_DEL_HEADER);
    CU_ASSERT_STRING_EQUAL(r[6].name, "Proxy");
    CU_ASSERT_PTR_NULL(r[6].value);

    /* http-response rules */
    CU_ASSERT_EQUAL_FATAL(h->nresp_rules, 5);
    r = h->resp_rules;
    CU_ASSERT_EQUAL(r[0].action, HTTP_ACT_SET_HEADER);
    CU_ASSERT_EQUAL(r[1].action, HTTP_ACT_ADD_HEADER);
    CU_ASSERT_STRING_EQUAL(r[1].value, "1.1 sluice");
    CU_ASSERT_EQUAL(r[2].action, HTTP_ACT_DEL_HEADER);
    CU_ASSERT_STRING_EQUAL(r[2].name, "Server");
    CU_ASSERT_EQUAL(r[3].action, HTTP_ACT_SET_STATUS);
    CU_ASSERT_EQUAL(r[3].status, 503);
    CU_ASSERT_STRING_EQUAL(r[3].value, "Try later");
    CU_ASSERT_EQUAL(r[4].action, HTTP_ACT_DENY);
    CU_ASSERT_EQUAL(r[4].status, 502); /* http-response deny defaults to 502 */

    /* options */
    CU_ASSERT_TRUE(h->forwardfor.enabled);
    CU_ASSERT_STRING_EQUAL(h->forwardfor.header, "X-Client");
    CU_ASSERT_TRUE(h->forwardfor.has_except);
    CU_ASSERT_EQUAL(h->forwardfor.except.prefix, 8);
    CU_ASSERT_TRUE(h->forwardfor.if_none);
    CU_ASSERT_TRUE(h->httplog);
    CU_ASSERT_FALSE(web->tcplog);
    CU_ASSERT_TRUE(h->http_server_close);
    CU_ASSERT_FALSE(h->httpclose);
    CU_ASSERT_EQUAL(h->timeout_http_request, 5000);
    CU_ASSERT_EQUAL(h->timeout_http_keep_alive, 1000);
    CU_ASSERT_EQUAL_FATAL(h->nerrorfiles, 1);
    CU_ASSERT_EQUAL(h->errorfiles[0].status, 503);
    CU_ASSERT(h->errorfiles[0].len > 20);
    CU_ASSERT_EQUAL(memcmp(h->errorfiles[0].data, "HTTP/1.1 503 ", 13), 0);
    CU_ASSERT_PTR_EQUAL(web->backend, app);

    /* backends */
    CU_ASSERT_EQUAL(api->balance, CFG_LB_URL_PARAM);
    CU_ASSERT_STRING_EQUAL(api->http.hash_arg, "user");
    CU_ASSERT_EQUAL(st->balance, CFG_LB_HDR);
    CU_ASSERT_STRING_EQUAL(st->http.hash_arg, "x-shard");
    CU_ASSERT_EQUAL(app->balance, CFG_LB_URI);
    CU_ASSERT_STRING_EQUAL(app->http.hash_arg, "");
    const struct cfg_cookie *ck = &app->http.cookie;
    CU_ASSERT_STRING_EQUAL(ck->name, "SRV");
    CU_ASSERT_TRUE(ck->insert && ck->indirect && ck->nocache && ck->httponly && ck->secure);
    CU_ASSERT_STRING_EQUAL(ck->domain, ".example.com");
    CU_ASSERT_STRING_EQUAL(app->servers[0].cookie, "w1");
    CU_ASSERT_STRING_EQUAL(app->servers[1].cookie, "w2");
    CU_ASSERT_STRING_EQUAL(app->servers[2].cookie, ""); /* not picked by the cookie */
    CU_ASSERT_EQUAL(app->http.reuse, HTTP_REUSE_NEVER);
    CU_ASSERT_EQUAL(app->http.timeout_tunnel, 3600000);
    CU_ASSERT_EQUAL(app->http.retry_on, HTTP_RETRY_CONN_FAILURE | HTTP_RETRY_503);
    CU_ASSERT_TRUE(app->http.forwarded);
    CU_ASSERT_TRUE(app->http.httpclose);
    config_free(cfg);

    /* Built-in values. */
    cfg = cfg_load_ok(HTTP_BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    h = &cfg->proxies[1].http;
    CU_ASSERT_EQUAL(h->nacls + h->nuse_backends + h->nreq_rules + h->nresp_rules, 0);
    CU_ASSERT_FALSE(h->forwardfor.enabled);
    CU_ASSERT_STRING_EQUAL(h->forwardfor.header, "X-Forwarded-For");
    CU_ASSERT_FALSE(h->forwarded || h->httplog || h->http_server_close || h->httpclose);
    CU_ASSERT_EQUAL(h->reuse, HTTP_REUSE_SAFE);
    CU_ASSERT_EQUAL(h->retry_on, HTTP_RETRY_DEFAULT);
    CU_ASSERT_EQUAL(h->timeout_http_request + h->timeout_http_keep_alive + h->timeout_tunnel, 0);
    CU_ASSERT_EQUAL(h->nerrorfiles, 0);
    CU_ASSERT_STRING_EQUAL(h->cookie.name, "");
    config_free(cfg);

    /* Keep-alive modes: one wins; `no` clears only its own. */
    static const struct {
        const char *lines;
        bool server_close, close;
    } modes[] = {
        {"option = http-server-close\noption = httpclose\n", false, true},
        {"option = httpclose\noption = http-server-close\n", true, false},
        {"option = httpclose\noption = http-keep-alive\n", false, false},
        {"option = httpclose\nno option http-keep-alive\n", false, true},
        {"option = httpclose\nno option httpclose\n", false, false},
        {"option = http-server-close\nno option httpclose\n", true, false},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), HTTP_BASE "%s", modes[i].lines);
        cfg = cfg_load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
        CU_ASSERT_EQUAL(cfg->proxies[1].http.http_server_close, modes[i].server_close);
        CU_ASSERT_EQUAL(cfg->proxies[1].http.httpclose, modes[i].close);
        config_free(cfg);
    }
    /* http-reuse, retry-on and the log formats */
    cfg = cfg_load_ok(HTTP_BASE "http-reuse = aggressive\nretry-on = all-retryable-errors\n"
                                "[listen l]\nmode = http\nbind = :81\nserver = s 127.0.0.1:1\n"
                                "option = httplog\noption = tcplog\nhttp-reuse = always\n"
                                "retry-on = none\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].http.reuse, HTTP_REUSE_AGGRESSIVE);
    CU_ASSERT_EQUAL(cfg->proxies[1].http.retry_on,
                    HTTP_RETRY_CONN_FAILURE | HTTP_RETRY_EMPTY_RESPONSE |
                        HTTP_RETRY_RESPONSE_TIMEOUT | HTTP_RETRY_503);
    CU_ASSERT_EQUAL(cfg->proxies[2].http.reuse, HTTP_REUSE_ALWAYS);
    CU_ASSERT_EQUAL(cfg->proxies[2].http.retry_on, 0);
    CU_ASSERT_TRUE(cfg->proxies[2].tcplog);
    CU_ASSERT_FALSE(cfg->proxies[2].http.httplog);
    config_free(cfg);
    /* redirect and return forms; a return body from a file */
    cfg = cfg_load_ok(HTTP_BASE "http-request redirect = location /new\n"
                                "http-request redirect = prefix https://a.example code 308\n"
                                "http-request return =\n"
                                "http-request return = status 204\n"
                                "http-request return = content-type text/html file "
                                "examples/errors/503.http status 503 unless TRUE\n"
                                "http-request deny =\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    r = cfg->proxies[1].http.req_rules;
    CU_ASSERT_EQUAL_FATAL(cfg->proxies[1].http.nreq_rules, 6);
    CU_ASSERT_EQUAL(r[0].redirect, HTTP_REDIR_LOCATION);
    CU_ASSERT_EQUAL(r[0].status, 302);
    CU_ASSERT_EQUAL(r[1].redirect, HTTP_REDIR_PREFIX);
    CU_ASSERT_EQUAL(r[1].status, 308);
    CU_ASSERT_EQUAL(r[2].status, 200);
    CU_ASSERT_PTR_NULL(r[2].value);
    CU_ASSERT_EQUAL(r[3].status, 204);
    CU_ASSERT_EQUAL(r[4].status, 503);
    CU_ASSERT_TRUE(r[4].value_len > 20);
    CU_ASSERT_TRUE(r[4].cond.unless);
    CU_ASSERT_EQUAL(r[5].status, 403);
    config_free(cfg);
    /* A frontend or listen with use_backend rules needs no default_backend. */
    cfg = cfg_load_ok("[frontend f]\nmode = http\nbind = :80\nuse_backend = b if { path /b }\n"
                      "[listen l]\nmode = http\nbind = :81\nuse_backend = b\n"
                      "[backend b]\nmode = http\n"
                      "[frontend t]\nbind = :82\nuse_backend = tb if { src 10.0.0.0/8 } !LOCALHOST "
                      "{ dst_port 82 }\n"
                      "[backend tb]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->proxies[0].backend);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[1].backend, &cfg->proxies[1]);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[1].http.use_backends[0].backend, &cfg->proxies[2]);
    CU_ASSERT_FALSE(cfg->proxies[1].http.use_backends[0].cond.present);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[3].http.use_backends[0].backend, &cfg->proxies[4]);
    config_free(cfg);
    /* In mode tcp: HTTP options are accepted, httplog falls back to tcplog. */
    cfg = cfg_load_ok("[defaults]\noption = httplog\noption = forwardfor\n" BASE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_TRUE(cfg->proxies[0].tcplog);
    CU_ASSERT_FALSE(cfg->proxies[0].http.httplog);
    config_free(cfg);
}

static void test_http_defaults(void)
{
    struct config *cfg = cfg_load_ok("[defaults]\n"                               /* 1 */
                                     "mode = http\n"                              /* 2 */
                                     "option = httplog\n"                         /* 3 */
                                     "option forwardfor = header X-Real-IP\n"     /* 4 */
                                     "option = forwarded\n"                       /* 5 */
                                     "option = http-server-close\n"               /* 6 */
                                     "http-reuse = never\n"                       /* 7 */
                                     "timeout http-request = 7s\n"                /* 8 */
                                     "timeout http-keep-alive = 3s\n"             /* 9 */
                                     "timeout tunnel = 2m\n"                      /* 10 */
                                     "errorfile = 503 examples/errors/503.http\n" /* 11 */
                                     "errorfile = 200 /dev/null\n"                /* 12 */
                                     "retry-on = 503\n"                           /* 13 */
                                     "cookie = S insert\n"                        /* 14 */
                                     "balance = hdr(host)\n"                      /* 15 */
                                     "[frontend f]\n"                             /* 16 */
                                     "bind = :80\n"                               /* 17 */
                                     "default_backend = b\n"                      /* 18 */
                                     "errorfile = 503 /dev/null\n"                /* 19 */
                                     "no option httplog\n"                        /* 20 */
                                     "[backend b]\n"                              /* 21 */
                                     "server = s1 127.0.0.1:1 cookie a\n"         /* 22 */
                                     "[defaults]\n"                               /* 23 */
                                     "[backend later]\n"                          /* 24 */
                                     "server = s1 127.0.0.1:1\n");                /* 25 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_http *f = &cfg->proxies[0].http, *b = &cfg->proxies[1].http,
                          *later = &cfg->proxies[2].http;
    CU_ASSERT_EQUAL(cfg->proxies[0].mode, CFG_MODE_HTTP);
    CU_ASSERT_FALSE(f->httplog);
    CU_ASSERT_TRUE(b->httplog);
    CU_ASSERT_TRUE(f->forwardfor.enabled && b->forwardfor.enabled);
    CU_ASSERT_STRING_EQUAL(b->forwardfor.header, "X-Real-IP");
    CU_ASSERT_TRUE(b->forwarded && b->http_server_close);
    CU_ASSERT_EQUAL(b->reuse, HTTP_REUSE_NEVER);
    CU_ASSERT_EQUAL(f->timeout_http_request, 7000);
    CU_ASSERT_EQUAL(f->timeout_http_keep_alive, 3000);
    CU_ASSERT_EQUAL(b->timeout_tunnel, 120000);
    CU_ASSERT_EQUAL(b->retry_on, HTTP_RETRY_503);
    CU_ASSERT_STRING_EQUAL(b->cookie.name, "S");
    CU_ASSERT_EQUAL(cfg->proxies[1].balance, CFG_LB_HDR);
    CU_ASSERT_STRING_EQUAL(b->hash_arg, "host");
    /* error files: inherited (a private copy each), one replaced in the frontend */
    CU_ASSERT_EQUAL_FATAL(b->nerrorfiles, 2);
    CU_ASSERT_EQUAL_FATAL(f->nerrorfiles, 2);
    CU_ASSERT_EQUAL(b->errorfiles[0].status, 503);
    CU_ASSERT(b->errorfiles[0].len > 0);
    CU_ASSERT_EQUAL(b->errorfiles[1].status, 200);
    CU_ASSERT_EQUAL(b->errorfiles[1].len, 0); /* empty: close without an answer */
    CU_ASSERT_EQUAL(f->errorfiles[0].status, 503);
    CU_ASSERT_EQUAL(f->errorfiles[0].len, 0);
    CU_ASSERT_PTR_NOT_EQUAL(f->errorfiles[1].data, b->errorfiles[1].data);
    /* a later [defaults] starts again from the built-in values */
    CU_ASSERT_EQUAL(cfg->proxies[2].mode, CFG_MODE_TCP);
    CU_ASSERT_EQUAL(later->nerrorfiles, 0);
    CU_ASSERT_FALSE(later->httplog || later->forwardfor.enabled);
    CU_ASSERT_EQUAL(later->retry_on, HTTP_RETRY_DEFAULT);
    config_free(cfg);
    /* `from` a named defaults copies its error files too */
    cfg = cfg_load_ok("[defaults web]\nmode = http\nerrorfile = 503 examples/errors/503.http\n"
                      "[defaults]\n"
                      "[listen l from web]\nbind = :1\nserver = s 127.0.0.1:1\n"
                      "[defaults more from web]\nerrorfile = 200 /dev/null\n"
                      "[listen m from more]\nbind = :2\nserver = s 127.0.0.1:1\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[0].http.nerrorfiles, 1);
    CU_ASSERT_EQUAL(cfg->proxies[1].http.nerrorfiles, 2);
    config_free(cfg);
}

/* Bad mode http configurations and their messages. */
static void test_http_errors(void)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        /* acl */
        {HTTP_BASE "acl = x\n", "t.ini:8: 'acl' needs more arguments (expected 'acl <name> "
                                "<criterion>"},
        {HTTP_BASE "acl = x path_bgn /a\n",
         "t.ini:8: unknown ACL criterion 'path_bgn' (expected path, path_beg,"},
        {HTTP_BASE "acl = x hdr_cnt(host) 1\n", "t.ini:8: unknown ACL criterion 'hdr_cnt'"},
        {HTTP_BASE "acl = x ssl_fc\n", "t.ini:8: ACL criterion 'ssl_fc' is not supported (sluice "
                                       "does not terminate TLS"},
        {HTTP_BASE "acl = x path_beg\n", "t.ini:8: ACL 'x': 'path_beg' needs at least one value "
                                         "(expected 'path_beg [flags] VALUE...' or -f FILE)"},
        {HTTP_BASE "acl = x path_beg -i\n", "t.ini:8: ACL 'x': 'path_beg' needs at least one "
                                            "value"},
        {HTTP_BASE "acl = x hdr /a\n", "t.ini:8: ACL criterion 'hdr' needs a name (expected "
                                       "'hdr(NAME)')"},
        {HTTP_BASE "acl = x hdr() /a\n", "t.ini:8: ACL criterion 'hdr()' needs a name"},
        {HTTP_BASE "acl = x hdr(host /a\n", "t.ini:8: ACL criterion 'hdr(host' needs a name"},
        {HTTP_BASE "acl = x hdr(host,1) a\n",
         "t.ini:8: extra arguments in 'hdr(host,1)' are not supported yet"},
        {HTTP_BASE "acl = x hdr(ho st) a\n", "t.ini:8: ACL criterion 'hdr(ho' needs a name"},
        {HTTP_BASE "acl = x hdr(h@st) a\n", "t.ini:8: invalid header name 'h@st' in 'hdr(h@st)'"},
        {HTTP_BASE "acl = x path(a) /a\n", "t.ini:8: ACL criterion 'path(a)' takes no argument "
                                           "(expected 'path')"},
        {HTTP_BASE "acl = x path -x /a\n",
         "t.ini:8: unknown ACL flag '-x' (expected -i, -f FILE, -m METHOD, -n, or -- before a "
         "value that starts with '-')"},
        {HTTP_BASE "acl = x path -m\n", "t.ini:8: ACL flag '-m' needs a match method (expected "
                                        "'-m METHOD')"},
        {HTTP_BASE "acl = x path -f\n", "t.ini:8: ACL flag '-f' needs a file name"},
        {HTTP_BASE "acl = x path -m glob /a\n",
         "t.ini:8: unknown match method 'glob' (expected str, beg, end, sub, dir, dom, reg, "
         "found, ip, int or len)"},
        {HTTP_BASE "acl = x path -u 1 /a\n", "t.ini:8: ACL flag '-u' is not supported yet"},
        {HTTP_BASE "acl = x path -m found /a\n", "t.ini:8: '-m found' takes no value (got '/a')"},
        {HTTP_BASE "acl = x src -m str 1.2.3.4\n",
         "t.ini:8: match method '-m str' cannot be used with 'src' (expected ip or found)"},
        {HTTP_BASE "acl = x dst_port -m beg 8\n",
         "t.ini:8: match method '-m beg' cannot be used with 'dst_port' (expected int or found)"},
        {HTTP_BASE "acl = x always_true 1\n", "t.ini:8: 'always_true' takes no value (got '1')"},
        {HTTP_BASE "acl = x src 10.0.0.0/33\n",
         "t.ini:8: invalid address '10.0.0.0/33' (expected an IPv4 or IPv6 address, optionally "
         "with /PREFIX)"},
        {HTTP_BASE "acl = x src localhost\n", "t.ini:8: invalid address 'localhost'"},
        {HTTP_BASE "acl = x src 10.0.0.0/255.0.255.0\n", "t.ini:8: invalid address "
                                                         "'10.0.0.0/255.0.255.0'"},
        {HTTP_BASE "acl = x src ::1/129\n", "t.ini:8: invalid address '::1/129'"},
        {HTTP_BASE "acl = x dst_port 80x\n",
         "t.ini:8: invalid integer '80x' (expected N, MIN:MAX, MIN:, :MAX or eq|ge|gt|le|lt N)"},
        {HTTP_BASE "acl = x dst_port 90:80\n", "t.ini:8: invalid integer '90:80'"},
        {HTTP_BASE "acl = x dst_port :\n", "t.ini:8: invalid integer ':'"},
        {HTTP_BASE "acl = x dst_port gt\n", "t.ini:8: operator 'gt' needs a number (expected "
                                            "'gt N')"},
        {HTTP_BASE "acl = x path_reg ^/(a\n",
         "t.ini:8: invalid regex '^/(a' at offset 4: missing closing parenthesis (expected a "
         "PCRE2 regular expression)"},
        {HTTP_BASE "acl = x path_dir //\n", "t.ini:8: empty value for '-m dir' (expected a word "
                                            "between delimiters)"},
        {HTTP_BASE "acl = x path -f /nonexistent/file\n",
         "t.ini:8: cannot read ACL file '/nonexistent/file': No such file or directory"},
        {HTTP_BASE "acl = METH_GET method GET\n",
         "t.ini:8: ACL name 'METH_GET' is reserved for a predefined ACL"},
        {HTTP_BASE "acl = WAIT_END path /\n", "t.ini:8: ACL name 'WAIT_END' is reserved"},
        {HTTP_BASE "acl = a/b path /\n", "t.ini:8: invalid character '/' in ACL name 'a/b'"},
        {HTTP_BASE "acl = \"\" path /\n", "t.ini:8: empty ACL name"},
        {"[defaults]\nacl = x path /\n", "t.ini:2: 'acl' is not allowed in a [defaults] section "
                                         "(allowed in [frontend], [backend], [listen])"},
        /* conditions */
        {HTTP_FE "use_backend = b if nope\n",
         "t.ini:8: unknown ACL 'nope' in condition (expected an 'acl nope ...' line above the "
         "rule, a predefined ACL like TRUE, METH_GET or HTTP_1.1, or '{ CRITERION VALUE... }')"},
        {HTTP_FE "acl = is_api path_beg /api\nuse_backend = b if is_apl\n",
         "t.ini:9: unknown ACL 'is_apl' in condition (did you mean 'is_api'?"},
        {HTTP_FE "use_backend = b if METH_GTE\n",
         "t.ini:8: unknown ACL 'METH_GTE' in condition (did you mean 'METH_GET'?"},
        {HTTP_FE "use_backend = b if x\nacl = x path /\n", "t.ini:8: unknown ACL 'x'"},
        {HTTP_FE "use_backend = b if\n", "t.ini:8: 'if' needs a condition"},
        {HTTP_FE "use_backend = b unless !\n", "t.ini:8: 'unless' needs a condition"},
        {HTTP_FE "use_backend = b if TRUE or\n", "t.ini:8: condition ends with 'or' (expected "
                                                 "an ACL after it)"},
        {HTTP_FE "use_backend = b if TRUE !\n", "t.ini:8: condition ends with '!'"},
        {HTTP_FE "use_backend = b if or TRUE\n",
         "t.ini:8: 'or' without a condition before it (expected 'COND or COND')"},
        {HTTP_FE "use_backend = b if TRUE || || TRUE\n", "t.ini:8: '||' without a condition "
                                                         "before it"},
        {HTTP_FE "use_backend = b if { path /a\n", "t.ini:8: missing '}' after an anonymous "
                                                   "ACL"},
        {HTTP_FE "use_backend = b if { path { /a }\n", "t.ini:8: missing '}'"},
        {HTTP_FE "use_backend = b if { }\n", "t.ini:8: empty anonymous ACL '{ }'"},
        {HTTP_FE "use_backend = b if {path /a}\n",
         "t.ini:8: '{path': braces must be separate words (expected '{ CRITERION VALUE... }')"},
        {HTTP_FE "use_backend = b if { path_beg }\n", "t.ini:8: 'path_beg' needs at least one "
                                                      "value"},
        {HTTP_FE "use_backend = b if { bogus 1 }\n", "t.ini:8: unknown ACL criterion 'bogus'"},
        {HTTP_FE "use_backend = b if REQ_CONTENT\n",
         "t.ini:8: predefined ACL 'REQ_CONTENT' is not supported by sluice"},
        {HTTP_FE "use_backend = b when TRUE\n",
         "t.ini:8: unexpected 'when' in 'use_backend' (expected 'if COND', 'unless COND' or the "
         "end of the line)"},
        /* use_backend */
        {HTTP_FE "use_backend =\n", "t.ini:8: 'use_backend' needs an argument"},
        {HTTP_FE "use_backend = if TRUE\n", "t.ini:8: 'use_backend' needs a backend name "
                                            "before 'if'"},
        {HTTP_FE "use_backend = %[req.hdr(host),lower,map(/nonexistent/hosts.map,b)]\n",
         "t.ini:8: cannot read map file '/nonexistent/hosts.map': No such file or directory"},
        {HTTP_FE "\nuse_backend = nope if TRUE\n",
         "t.ini:9: use_backend 'nope' of frontend 'f' does not exist"},
        {HTTP_BASE "[frontend g]\nmode = http\nbind = :81\nuse_backend = f\n",
         "t.ini:11: use_backend 'f' of frontend 'g' is a frontend, not a backend"},
        {HTTP_BASE "[frontend g]\nmode = http\nbind = :81\nuse_backend = t\n[backend t]\n",
         "t.ini:11: unable to use backend 't' (mode tcp) from frontend 'g' (mode http)"},
        {BASE "[frontend g]\nbind = :81\nuse_backend = b if { path_beg /a }\n",
         "t.ini:8: use_backend 'b' in [frontend g] (mode tcp) tests the request, which needs "
         "mode http"},
        {BASE "[frontend g]\nbind = :81\nacl = p path /\nuse_backend = b if LOCALHOST or p\n",
         "t.ini:9: use_backend 'b' in [frontend g] (mode tcp) tests ACL 'p' (line 8), which "
         "needs mode http"},
        {BASE "use_backend = b\n", "t.ini:6: 'use_backend' is not allowed in a [backend] section"},
        /* http-request / http-response */
        {HTTP_BASE "http-request = frobnicate\n",
         "t.ini:8: unknown http-request 'frobnicate' in section [backend b] (expected allow, "
         "deny, tarpit, redirect, return, set-header, add-header, del-header, replace-header, "
         "replace-value, set-path, replace-path, set-query, set-var, unset-var, auth, use-service, "
         "track-sc0, "
         "track-sc1, track-sc2)"},
        {HTTP_BASE "http-request = set-headr X a\n",
         "t.ini:8: unknown http-request 'set-headr' in section [backend b] (did you mean "
         "'set-header'?"},
        {HTTP_BASE "http-response = set-path /\n", "t.ini:8: unknown http-response 'set-path'"},
        {HTTP_BASE "http-request allow = now\n",
         "t.ini:8: unexpected 'now' in 'http-request allow' (expected 'if COND', 'unless COND' "
         "or the end of the line)"},
        {HTTP_BASE "http-request deny = deny_status 999\n",
         "t.ini:8: invalid status code '999' (expected an integer from 200 to 599)"},
        {HTTP_BASE "http-request deny = deny_status 418\n",
         "t.ini:8: unsupported deny_status 418 (expected 200, 400, 401, 403"},
        {HTTP_BASE "http-request deny = deny_status\n",
         "t.ini:8: 'deny_status' in 'http-request deny' needs a status code"},
        {HTTP_BASE "http-request deny = hdr x y\n", "t.ini:8: 'http-request deny' option 'hdr' "
                                                    "is not supported yet"},
        {HTTP_BASE "http-request redirect = location\n",
         "t.ini:8: 'http-request redirect' needs a type and a value"},
        {HTTP_BASE "http-request redirect = path /x\n",
         "t.ini:8: unknown redirect type 'path' (expected location, prefix or scheme)"},
        {HTTP_BASE "http-request redirect = location /x code 304\n",
         "t.ini:8: unsupported redirect code 304 (expected 301, 302, 303, 307 or 308)"},
        {HTTP_BASE "http-request redirect = location /x drop-query\n",
         "t.ini:8: redirect option 'drop-query' is not supported yet"},
        {HTTP_BASE "http-request redirect = scheme %[url]\n",
         "t.ini:8: log-format expressions in redirect target '%[url]' are not supported (only "
         "header values and redirect locations take them; expected a literal value; write %% "
         "for a '%')"},
        {HTTP_BASE "http-request redirect = location https://%[nope]\n",
         "t.ini:8: unknown sample 'nope' in redirect target 'https://%[nope]'"},
        {HTTP_BASE "http-request return = string hi\n",
         "t.ini:8: 'http-request return' with a body needs a content-type"},
        {HTTP_BASE "http-request return = status 204 content-type a/b string x\n",
         "t.ini:8: status 204 cannot have a body"},
        {HTTP_BASE "http-request return = status 100\n",
         "t.ini:8: invalid status code '100' (expected an integer from 200 to 599)"},
        {HTTP_BASE "http-request return = content-type a/b string x string y\n",
         "t.ini:8: 'http-request return' has two bodies"},
        {HTTP_BASE "http-request return = content-type a/b file /nonexistent\n",
         "t.ini:8: cannot read return file '/nonexistent' (No such file or directory)"},
        {HTTP_BASE "http-request return = lf-string x\n",
         "t.ini:8: 'http-request return' option 'lf-string' is not supported yet"},
        {HTTP_BASE "http-request return = body x\n",
         "t.ini:8: unknown 'http-request return' option 'body'"},
        {HTTP_BASE "http-request return = string\n", "t.ini:8: 'string' needs a value"},
        {HTTP_BASE "http-request set-header = X-A\n",
         "t.ini:8: 'http-request set-header' needs a header name and a value (expected "
         "'http-request set-header NAME VALUE [if|unless COND]')"},
        {HTTP_BASE "http-request set-header = X-A if TRUE\n",
         "t.ini:8: 'http-request set-header' needs a header name and a value"},
        {HTTP_BASE "http-request add-header = X:A v\n",
         "t.ini:8: invalid character ':' in header name 'X:A'"},
        {HTTP_BASE "http-request set-header = X-A \"a\\r\\nb\"\n",
         "t.ini:8: header value 'a\r\nb' contains a CR or LF"},
        {HTTP_BASE "http-request replace-header = Content-Length ^(.)$ \\1\n",
         "t.ini:8: header rules cannot change Content-Length: sluice writes it from the body it "
         "relays"},
        {HTTP_BASE "http-response del-header = transfer-encoding\n",
         "t.ini:8: header rules cannot change transfer-encoding"},
        {HTTP_BASE "http-request set-header = Content-Length 0\n",
         "t.ini:8: header rules cannot change Content-Length"},
        {HTTP_BASE "http-response set-header = Connection close\n",
         "t.ini:8: header rules cannot set Connection: it is a hop-by-hop field"},
        {HTTP_BASE "http-request replace-value = Upgrade a b\n",
         "t.ini:8: header rules cannot set Upgrade"},
        {HTTP_FE "unique-id-header = Content-Length\n",
         "t.ini:8: unique-id-header 'Content-Length' is a field sluice writes itself"},
        {HTTP_FE "unique-id-header = host\n", "t.ini:8: unique-id-header 'host' is a field"},
        {HTTP_FE "use_backend = b if { status 200 }\n",
         "t.ini:8: use_backend tests the response (status, res.hdr()): there is none yet when it "
         "runs (expected it in an http-response rule)"},
        {HTTP_FE "acl = bad res.hdr(x-a) -m found\nhttp-request deny = if bad\n",
         "t.ini:9: an http-request rule tests ACL 'bad' (line 8), which looks at the response"},
        {HTTP_BASE "http-request tarpit = deny_status 100\n",
         "t.ini:8: invalid status code '100' (expected an integer from 200 to 599)"},
        {HTTP_BASE "http-response tarpit =\n", "t.ini:8: unknown http-response 'tarpit'"},
        {HTTP_BASE "acl = s status -m beg 4\n",
         "t.ini:8: match method '-m beg' cannot be used with 'status'"},
        {HTTP_FE "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\ncapture request = header A len 1\n"
                 "capture request = header A len 1\n",
         "t.ini:24: too many 'capture request' lines in this section (expected at most 16)"},
        {HTTP_FE "capture response = header A len 4097\n",
         "t.ini:8: invalid capture length '4097' (expected an integer from 1 to 4096)"},
        {HTTP_FE "capture request = header Host\n",
         "t.ini:8: 'capture request' needs a header name and a length (expected 'capture request "
         "header NAME len N')"},
        {HTTP_FE "capture request = cookie SID len 10\n",
         "t.ini:8: 'capture request' needs a header name and a length"},
        {HTTP_FE "capture response = header Host len 0\n",
         "t.ini:8: invalid capture length '0' (expected an integer from 1 to 4096)"},
        {HTTP_BASE "capture request = header Host len 10\n",
         "t.ini:8: 'capture request' is not allowed in a [backend] section"},
        {HTTP_FE "unique-id-format = %[unique-id]x\n",
         "t.ini:8: unique-id-format '%[unique-id]x' refers to the unique ID itself"},
        {HTTP_FE "unique-id-format = %[status]\n",
         "t.ini:8: sample 'status' in unique-id-format '%[status]' is known only once the server "
         "answered"},
        {HTTP_FE "unique-id-format = \"\"\n", "t.ini:8: unique-id-format '' is empty"},
        {HTTP_FE "unique-id-header = X:Y\n", "t.ini:8: invalid character ':' in header name"},
        {HTTP_BASE "unique-id-header = X-ID\n",
         "t.ini:8: 'unique-id-header' is not allowed in a [backend] section"},
        {HTTP_FE "monitor-uri = healthz\n",
         "t.ini:8: monitor-uri 'healthz' must begin with '/' (expected e.g. /healthz)"},
        {HTTP_FE "monitor-uri = \"/a b\"\n", "t.ini:8: invalid character in monitor-uri '/a b'"},
        {HTTP_BASE "monitor-uri = /up\n",
         "t.ini:8: 'monitor-uri' is not allowed in a [backend] section"},
        {HTTP_BASE "http-request set-header = X-A %[nope]\n",
         "t.ini:8: unknown sample 'nope' in header value '%[nope]'"},
        /* regex rewrites */
        {HTTP_BASE "http-request replace-header = X-A ^a$\n",
         "t.ini:8: 'http-request replace-header' needs a header name, a regex and a replacement "
         "(expected 'http-request replace-header NAME MATCH-REGEX REPLACE [if|unless COND]')"},
        {HTTP_BASE "http-request replace-value = X-A ^a$ if TRUE\n",
         "t.ini:8: 'http-request replace-value' needs a header name, a regex and a replacement"},
        {HTTP_BASE "http-request replace-path = /a\n",
         "t.ini:8: 'http-request replace-path' needs a regex and a replacement (expected "
         "'http-request replace-path MATCH-REGEX REPLACE [if|unless COND]')"},
        {HTTP_BASE "http-request replace-header = X:A a b\n",
         "t.ini:8: invalid character ':' in header name 'X:A'"},
        {HTTP_BASE "http-request replace-header = X-A (a b\n",
         "t.ini:8: invalid regex '(a' in 'http-request replace-header' at offset 2: missing "
         "closing parenthesis (expected a PCRE2 regular expression)"},
        {HTTP_BASE "http-response replace-value = X-A a[ b\n",
         "t.ini:8: invalid regex 'a[' in 'http-response replace-value' at offset 2: missing "
         "terminating ] for character class"},
        {HTTP_BASE "http-request replace-path = /(a)(b) /\\\\3\n",
         "t.ini:8: replacement '/\\3' in 'http-request replace-path' refers to group \\3 but the "
         "regex has 2 groups (expected \\0 to \\2)"},
        {HTTP_BASE "http-request replace-header = X-A a \\\\1\n",
         "t.ini:8: replacement '\\1' in 'http-request replace-header' refers to group \\1 but the "
         "regex has 0 groups (expected \\0 to \\0)"},
        {HTTP_BASE "http-request replace-header = X-A a 'b\\'\n",
         "t.ini:8: replacement 'b\\' in 'http-request replace-header' ends with a lone backslash "
         "(expected \\0 to \\9, \\xHH or \\C after it, \\\\ for a backslash)"},
        {HTTP_BASE "http-request replace-header = X-A a '\\x4'\n",
         "t.ini:8: invalid \\x escape in replacement '\\x4' in 'http-request replace-header' "
         "(expected \\xHH with two hex digits)"},
        {HTTP_BASE "http-request replace-header = X-A a '\\x0a'\n",
         "t.ini:8: replacement '\\x0a' in 'http-request replace-header' would write byte 0x0a "
         "(expected only bytes allowed in a header value: no control characters)"},
        {HTTP_BASE "http-request replace-header = X-A a \"b\\r\"\n",
         "t.ini:8: replacement 'b\r' contains a CR or LF (expected one line)"},
        {HTTP_BASE "http-request replace-header = X-A a %[src]\n",
         "t.ini:8: log-format expressions in replacement '%[src]' are not supported"},
        {HTTP_BASE "http-request replace-path = /a \"/b c\"\n",
         "t.ini:8: replacement '/b c' in 'http-request replace-path' would write byte 0x20 "
         "(expected only bytes allowed in a path: visible ASCII but '?' and '#')"},
        {HTTP_BASE "http-request replace-path = /a /b?c\n",
         "t.ini:8: replacement '/b?c' in 'http-request replace-path' would write byte 0x3f"},
        {HTTP_BASE "http-request set-path =\n",
         "t.ini:8: 'http-request set-path' needs a value (expected 'http-request set-path PATH "
         "[if|unless COND]')"},
        {HTTP_BASE "http-request set-path = index.html\n",
         "t.ini:8: path 'index.html' in 'http-request set-path' does not start with '/' "
         "(expected a path like /app/index.html)"},
        {HTTP_BASE "http-request set-path = \"/a b\"\n",
         "t.ini:8: invalid character 0x20 in path '/a b' of 'http-request set-path' (expected "
         "visible ASCII without spaces, '?' or '#'; the query string is kept, set-query "
         "changes it)"},
        {HTTP_BASE "http-request set-path = /a?b=1\n",
         "t.ini:8: invalid character 0x3f in path '/a?b=1' of 'http-request set-path'"},
        {HTTP_BASE "http-request set-path = /a\\x7f\n",
         "t.ini:8: path '/a\x7f' contains a control character"},
        {HTTP_BASE "http-request set-path = /%[path]\n",
         "t.ini:8: log-format expressions in path '/%[path]' are not supported"},
        {HTTP_BASE "http-request set-query = \"a b\"\n",
         "t.ini:8: invalid character 0x20 in query 'a b' of 'http-request set-query' (expected "
         "visible ASCII without spaces or '#')"},
        {HTTP_BASE "http-request set-path = /a if\n", "t.ini:8: "},
        {HTTP_BASE "http-request set-path = /a now\n",
         "t.ini:8: unexpected 'now' in 'http-request set-path'"},
        {HTTP_BASE "http-response replace-path = a b\n",
         "t.ini:8: unknown http-response 'replace-path'"},
        {HTTP_BASE "http-response set-query = a\n", "t.ini:8: unknown http-response 'set-query'"},
        {HTTP_BASE "http-request del-header = \n", "t.ini:8: 'http-request del-header' needs a "
                                                   "header name"},
        {HTTP_BASE "http-request del-header = X -m beg\n",
         "t.ini:8: 'http-request del-header -m' is not supported yet"},
        {HTTP_BASE "http-response set-status =\n",
         "t.ini:8: 'http-response set-status' in 'http-response set-status' needs a status code"},
        {HTTP_BASE "http-response set-status = 42\n",
         "t.ini:8: invalid status code '42' (expected an integer from 100 to 999)"},
        {HTTP_BASE "http-response set-status = 200 reason\n", "t.ini:8: 'reason' needs a text"},
        {HTTP_BASE "http-response set-status = 200 why\n",
         "t.ini:8: unexpected 'why' in 'http-response set-status'"},
        {HTTP_BASE "http-response allow =\n",
         "t.ini:8: unknown http-response 'allow' in section [backend b]"},
        {"[defaults]\nhttp-request deny =\n",
         "t.ini:2: 'http-request deny' is not allowed in a [defaults] section"},
        {BASE "http-request deny = if TRUE\n",
         "t.ini:6: 'http-request' rules in [backend b] need mode http (expected 'mode http' in "
         "the section or its [defaults])"},
        {BASE "\nhttp-response del-header = Server\n",
         "t.ini:7: 'http-response' rules in [backend b] need mode http"},
        /* options */
        {HTTP_BASE "option forwardfor = except\n", "t.ini:8: 'except' needs a value (expected "
                                                   "'except NETWORK')"},
        {HTTP_BASE "option forwardfor = except 300.0.0.0/8\n",
         "t.ini:8: invalid network '300.0.0.0/8' after 'except'"},
        {HTTP_BASE "option forwardfor = header\n", "t.ini:8: 'header' needs a value (expected "
                                                   "'header NAME')"},
        {HTTP_BASE "option forwardfor = header \"X Y\"\n",
         "t.ini:8: invalid character ' ' in header name 'X Y'"},
        {HTTP_BASE "option forwardfor = always\n",
         "t.ini:8: unknown 'option forwardfor' argument 'always' (expected except NETWORK, "
         "header NAME or if-none)"},
        {HTTP_BASE "no option forwardfor\n", "t.ini:8: 'no option forwardfor' is not supported"},
        {HTTP_BASE "option forwarded = proto\n", "t.ini:8: 'option forwarded' takes no argument"},
        {HTTP_FE "option = httplog clf\n", "t.ini:8: 'option httplog' takes no argument"},
        {HTTP_BASE "option = httplog\n", "t.ini:8: 'option httplog' is not allowed in a "
                                         "[backend] section (allowed in [defaults], [frontend], "
                                         "[listen])"},
        {HTTP_BASE "http-reuse = sometimes\n",
         "t.ini:8: unknown http-reuse mode 'sometimes' (expected safe, never, aggressive or "
         "always)"},
        {"[frontend f]\nhttp-reuse = safe\n", "t.ini:2: 'http-reuse' is not allowed in a "
                                              "[frontend] section"},
        {HTTP_BASE "timeout http-request = 5 s\n", "t.ini:8: too many arguments for 'timeout "
                                                   "http-request'"},
        {HTTP_BASE "timeout tunnel = 1y\n", "t.ini:8: invalid time '1y' for 'timeout tunnel'"},
        {"[frontend f]\ntimeout tunnel = 1h\n", "t.ini:2: 'timeout tunnel' is not allowed in a "
                                                "[frontend] section"},
        /* errorfile */
        {HTTP_BASE "errorfile = 418 examples/errors/503.http\n",
         "t.ini:8: no error page for status 418 (expected 200, 400, 401, 403, 404, 405, 407, "
         "408, 410, 413, 425, 429, 431, 500, 501, 502, 503 or 504)"},
        {HTTP_BASE "errorfile = 50x examples/errors/503.http\n",
         "t.ini:8: invalid status code '50x'"},
        {HTTP_BASE "errorfile = 503 /nonexistent/503.http\n",
         "t.ini:8: cannot read error file '/nonexistent/503.http' (No such file or directory) "
         "(expected a readable file)"},
        {HTTP_BASE "errorfile = 503 examples/http-routing.ini\n",
         "t.ini:8: error file 'examples/http-routing.ini' is not an HTTP response (expected a "
         "file starting with 'HTTP/1.x 503'"},
        {HTTP_BASE "errorfile = 503\n", "t.ini:8: 'errorfile' needs more arguments"},
        /* cookie */
        {HTTP_BASE "cookie =\n", "t.ini:8: 'cookie' needs an argument"},
        {HTTP_BASE "cookie = SRV rewrite\n",
         "t.ini:8: cookie mode 'rewrite' is not supported yet (expected insert)"},
        {HTTP_BASE "cookie = SRV prefix\n", "t.ini:8: cookie mode 'prefix' is not supported yet"},
        {HTTP_BASE "cookie = SRV insert maxidle 30m\n",
         "t.ini:8: cookie option 'maxidle' is not supported yet"},
        {HTTP_BASE "cookie = SRV insert sticky\n", "t.ini:8: unknown cookie option 'sticky'"},
        {HTTP_BASE "cookie = SRV insert domain\n", "t.ini:8: 'domain' needs a value"},
        {HTTP_BASE "cookie = SRV insert domain a.com domain b.com\n",
         "t.ini:8: several cookie domains are not supported yet"},
        {HTTP_BASE "cookie = SRV insert domain a/b\n", "t.ini:8: invalid cookie domain 'a/b'"},
        {HTTP_BASE "cookie = S;V insert\n", "t.ini:8: invalid character ';' in header name 'S;V'"},
        {"[frontend f]\ncookie = S insert\n", "t.ini:2: 'cookie' is not allowed in a [frontend] "
                                              "section"},
        {BASE "cookie = S insert\n", "t.ini:6: cookie persistence in [backend b] needs mode http"},
        {"[defaults]\ncookie = S insert\n" BASE,
         "t.ini:2: cookie persistence in [backend b] needs mode http"},
        {HTTP_BASE "server = s2 127.0.0.1:2 cookie\n",
         "t.ini:8: server option 'cookie' needs a value (expected 'cookie <value>')"},
        {HTTP_BASE "server = s2 127.0.0.1:2 cookie a;b\n",
         "t.ini:8: invalid character in cookie value 'a;b'"},
        {HTTP_BASE "server = s2 127.0.0.1:2 cookie \"\"\n", "t.ini:8: invalid cookie value ''"},
        {HTTP_BASE "server = s2 127.0.0.1:2 cookie a\nserver = s3 127.0.0.1:3 cookie a\n",
         "t.ini:9: server 's3' has the same cookie value 'a' as server 's2' at line 8"},
        /* balance */
        {HTTP_BASE "balance = url_param\n", "t.ini:8: 'balance url_param' needs a parameter name"},
        {HTTP_BASE "balance = url_param id check_post\n",
         "t.ini:8: option 'check_post' of 'balance url_param' is not supported yet"},
        {HTTP_BASE "balance = uri whole\n", "t.ini:8: option 'whole' of 'balance uri' is not "
                                            "supported yet (expected 'balance uri')"},
        {HTTP_BASE "balance = hdr(host) use_domain_only\n",
         "t.ini:8: option 'use_domain_only' of 'balance hdr(host)' is not supported yet"},
        {HTTP_BASE "balance = hdr()\n", "t.ini:8: 'balance hdr()' needs a header name"},
        {HTTP_BASE "balance = hdr(a b)\n", "t.ini:8: 'balance hdr(a' needs a header name"},
        {HTTP_BASE "balance = hdr(a:b)\n", "t.ini:8: invalid header name in 'hdr(a:b)'"},
        {HTTP_BASE "balance = rdp-cookie\n",
         "t.ini:8: balance algorithm 'rdp-cookie' is not supported yet"},
        {BASE "balance = uri\n", "t.ini:6: balance uri in [backend b] needs mode http (expected "
                                 "'mode http', or an algorithm like roundrobin or source in mode "
                                 "tcp)"},
        {"[defaults]\nbalance = hdr(host)\n" BASE,
         "t.ini:2: balance hdr() in [backend b] needs mode http"},
        /* retry-on */
        {HTTP_BASE "retry-on =\n", "t.ini:8: 'retry-on' needs an argument"},
        {HTTP_BASE "retry-on = none 503\n", "t.ini:8: 'none' must be alone in 'retry-on'"},
        {HTTP_BASE "retry-on = junk-response\n",
         "t.ini:8: retry-on 'junk-response' is not supported yet (expected conn-failure, "
         "empty-response, response-timeout, 503, all-retryable-errors or none)"},
        {HTTP_BASE "retry-on = 504\n", "t.ini:8: retry-on '504' is not supported yet"},
        {HTTP_BASE "retry-on = sometimes\n", "t.ini:8: unknown retry-on keyword 'sometimes'"},
        {"[frontend f]\nretry-on = 503\n", "t.ini:2: 'retry-on' is not allowed in a [frontend] "
                                           "section"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config *cfg = (struct config *)1;
        char err[1024] = "";
        int rc = config_load_string("t.ini", cases[i].text, &cfg, err, sizeof(err));
        bool ok = rc == -1 && cfg == NULL && strstr(err, cases[i].expect) != NULL;
        if (!ok)
            fprintf(stderr, "\nhttp case %zu: rc %d\n  got:    %s\n  wanted: %s\n", i, rc, err,
                    cases[i].expect);
        CU_ASSERT_TRUE(ok);
        if (rc == 0)
            config_free(cfg);
    }

    /* An error file over 64 KiB; exactly 64 KiB is fine. */
    char path[] = "/tmp/sluice-errorfile-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("HTTP/1.1 503 Busy\r\n\r\n", fp);
    for (long n = 21; n < 64 * 1024; n++)
        fputc('x', fp);
    fflush(fp);
    char text[512], err[512];
    snprintf(text, sizeof(text), HTTP_BASE "errorfile = 503 %s\n", path);
    struct config *cfg = cfg_load_ok(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->proxies[1].http.errorfiles[0].len, 64 * 1024);
    config_free(cfg);
    fputc('x', fp);
    fclose(fp);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    char want[128];
    snprintf(want, sizeof(want), "t.ini:8: error file '%s' is larger than 64 KiB", path);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    unlink(path);
}

/* replace-header, replace-value, set-path, replace-path, set-query: what the model keeps, and the
 * limit of header edits per rule list. */
static void test_http_rewrites(void)
{
    struct config *cfg = cfg_load_ok(
        HTTP_BASE "http-request replace-header = Host ^(.*)\\.internal$ \\1.example.com\n" /* 8 */
                  "http-request replace-value = X-FF ^10\\.(.*)$ 'ten.\\1' if TRUE\n"      /* 9 */
                  "http-request set-path = /index.html if { path / }\n"                    /* 10 */
                  "http-request replace-path = ^/api/v1/(.*) /v1/\\1 unless FALSE\n"       /* 11 */
                  "http-request set-query = lang=en&x=%%41\n"                              /* 12 */
                  "http-request set-query = \"\"\n"                                        /* 13 */
                  "http-response replace-header = Location ^http://(.*) https://\\1\n"     /* 14 */
                  "http-response replace-value = Cache-Control ^public$ private\n"         /* 15 */
                  "http-request replace-header = X-Zero (?i)^A \\0\\\\x41\n");             /* 16 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_http *h = &cfg->proxies[1].http;
    CU_ASSERT_EQUAL_FATAL(h->nreq_rules, 7);
    CU_ASSERT_EQUAL_FATAL(h->nresp_rules, 2);
    const struct cfg_http_rule *r = h->req_rules;
    CU_ASSERT_EQUAL(r[0].action, HTTP_ACT_REPLACE_HEADER);
    CU_ASSERT_STRING_EQUAL(r[0].name, "Host");
    CU_ASSERT_STRING_EQUAL(r[0].value, "\\1.example.com");
    CU_ASSERT_PTR_NOT_NULL(r[0].re);
    CU_ASSERT_FALSE(r[0].cond.present);
    CU_ASSERT_EQUAL(r[0].line, 8);
    CU_ASSERT_EQUAL(r[1].action, HTTP_ACT_REPLACE_VALUE);
    CU_ASSERT_STRING_EQUAL(r[1].value, "ten.\\1");
    CU_ASSERT_TRUE(r[1].cond.present);
    CU_ASSERT_EQUAL(r[2].action, HTTP_ACT_SET_PATH);
    CU_ASSERT_STRING_EQUAL(r[2].value, "/index.html");
    CU_ASSERT_PTR_NULL(r[2].re);
    CU_ASSERT_TRUE(r[2].cond.present);
    CU_ASSERT_EQUAL(r[3].action, HTTP_ACT_REPLACE_PATH);
    CU_ASSERT_PTR_NULL(r[3].name);
    CU_ASSERT_STRING_EQUAL(r[3].value, "/v1/\\1");
    CU_ASSERT_TRUE(r[3].cond.present && r[3].cond.unless);
    CU_ASSERT_EQUAL(r[4].action, HTTP_ACT_SET_QUERY);
    CU_ASSERT_STRING_EQUAL(r[4].value, "lang=en&x=%41");
    CU_ASSERT_STRING_EQUAL(r[5].value, "");
    CU_ASSERT_EQUAL(r[5].value_len, 0);
    CU_ASSERT_STRING_EQUAL(r[6].value, "\\0\\x41");
    CU_ASSERT_EQUAL(h->resp_rules[0].action, HTTP_ACT_REPLACE_HEADER);
    CU_ASSERT_STRING_EQUAL(h->resp_rules[0].name, "Location");
    CU_ASSERT_EQUAL(h->resp_rules[1].action, HTTP_ACT_REPLACE_VALUE);
    config_free(cfg);

    /* 32 header edits per list (set-status and replaces count; path rewrites do not) */
    static char text[8192];
    char err[512];
    size_t n = (size_t)snprintf(text, sizeof(text), HTTP_BASE);
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "http-request replace-header = X-%d a b\n"
                              "http-request set-path = /%d\n"
                              "http-response set-status = 200\n"
                              "http-response add-header = X-%d b\n",
                              i, i, i);
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "http-request del-header = X-%d\n", i);
    cfg = cfg_load_ok(text);
    CU_ASSERT_PTR_NOT_NULL(cfg);
    config_free(cfg);
    snprintf(text + n, sizeof(text) - n,
             "http-request set-query = a\n"
             "http-request replace-value = Y a b\n");
    cfg = (struct config *)1;
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:89: too many header rules in this section "
                                       "(expected at most 32 set-header, add-header, "
                                       "del-header, replace-header, replace-value and "
                                       "set-status rules per http-request list)"));
    snprintf(text + n, sizeof(text) - n, "http-response set-status = 200\n");
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:88: too many header rules in this section "
                                       "(expected at most 32 set-header, add-header, "
                                       "del-header, replace-header, replace-value and "
                                       "set-status rules per http-response list)"));
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
    cfg = cfg_load_ok(text);
    config_free(cfg);
    snprintf(text, sizeof(text), BASE "server = s2 127.0.0.1:2 # %.*s\n", 200 - 26, line);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:6: line is longer than 199 characters (split it)");
    /* Indentation counts: the physical line is what is limited. */
    snprintf(text, sizeof(text), BASE "    server = s2 127.0.0.1:2 # %.*s\n", 196 - 26, line);
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:6: line is longer than 199 characters (split it)");
    snprintf(text, sizeof(text), BASE "# %.*s\n  ; %.*s\n", 300, line, 250, line);
    cfg = cfg_load_ok(text);
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
        /* the sections that examples name: resolvers dns, userlist users, http-errors site */
        const char *fwd = "[resolvers dns]\nnameserver = x0 127.0.0.1:53\n"
                          "[userlist users]\nuser = x0 insecure-password p\n"
                          "[http-errors site]\nerrorfile = 503 examples/errors/503.http\n";
        if (k->sections & CFG_SEC_GLOBAL)
            snprintf(text, sizeof(text), "[global]\n%s\n" BASE, k->example);
        else if (k->sections & CFG_SEC_RESOLVERS)
            snprintf(text, sizeof(text), "[resolvers r]\nnameserver = x0 127.0.0.1:53\n%s\n" BASE,
                     k->example);
        else if (k->sections & CFG_SEC_USERLIST)
            snprintf(text, sizeof(text), "[userlist u]\n%s\n" BASE, k->example);
        else
            snprintf(text, sizeof(text),
                     "%s[listen x]\nmode = http\nbind = :1\nserver = z 127.0.0.1:1\n%s\n%s\n"
                     "[backend app]\nmode = http\nserver = a 127.0.0.1:2\n",
                     fwd,
                     strncmp(k->name, "http-check", 10) == 0 ? "option = httpchk"
                     : strncmp(k->name, "http-request track-sc", 21) == 0 ||
                             strcmp(k->name, "tcp-request connection") == 0
                         ? "stick-table = type string size 1k expire 1m store conn_cur,"
                           "conn_rate(10s)"
                         : "",
                     k->example);
        struct config *cfg = cfg_load_ok(text);
        CU_ASSERT_PTR_NOT_NULL(cfg);
        config_free(cfg);
    }
}

/* scripts/haproxy2ini turns a haproxy.cfg into INI that loads, and reports what it left out. */
static void test_haproxy2ini(void)
{
    struct h2i r;
    int rc =
        h2i_run(&r, "global\n"                                                     /* 1 */
                    "    maxconn 4096\n"                                           /* 2 */
                    "    log stdout format raw local0\n"                           /* 3 */
                    "defaults\n"                                                   /* 4 */
                    "    mode tcp\n"                                               /* 5 */
                    "    option logasap\n"                                         /* 6 */
                    "    timeout connect 5s\n"                                     /* 7 */
                    "frontend web\n"                                               /* 8 */
                    "    bind :8080 accept-proxy\n"                                /* 9 */
                    "    default_backend app\n"                                    /* 10 */
                    "backend app\n"                                                /* 11 */
                    "    option httpchk GET /health HTTP/1.1\\r\\nHost:\\ x # c\n" /* 12 */
                    "    http-check expect status 200\n"                           /* 13 */
                    "    server s1 10.0.0.1:80 check cookie a weight 5\n"          /* 14 */
                    "    server s2 [::1]:80 backup send-proxy\n"                   /* 15 */
                    "frontend web2\n"                                              /* 16 */
                    "    mode http\n"                                              /* 17 */
                    "    bind :8081\n"                                             /* 18 */
                    "    acl api path_beg /api\n"                                  /* 19 */
                    "    use_backend h if api || { hdr(host) -i x }\n"             /* 20 */
                    "    http-request set-var(txn.x) str(1)\n"                     /* 21 */
                    "    http-response del-header Server\n"                        /* 22 */
                    "    default_backend h\n"                                      /* 23 */
                    "backend h\n"                                                  /* 24 */
                    "    mode http\n"                                              /* 25 */
                    "    cookie S insert indirect nocache\n"                       /* 26 */
                    "    server h1 10.0.0.2:80 cookie h1\n"                        /* 27 */
                    "    http-request replace-header Host ^(.*)\\.internal$ \\1.example.com\n"
                    "    http-request replace-path ^/old/(.*) /new/\\1 if { path_beg /old/ }\n"
                    "    http-request set-path /index.html if { path / }\n"
                    "    http-request set-query lang=en\n"
                    "    http-request set-path /%[hdr(host)]%[path]\n" /* 32: not supported yet */
                    "    http-response replace-value Cache-Control ^public$ private\n");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(r.status, 1); /* something was left out */
    struct config *cfg = cfg_load_ok(r.ini);
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
        CU_ASSERT_STRING_EQUAL(app->servers[0].cookie, "a");
        struct cfg_proxy *web2 = config_find_proxy(cfg, "web2", CFG_CAP_FE);
        struct cfg_proxy *h = config_find_proxy(cfg, "h", CFG_CAP_BE);
        CU_ASSERT_PTR_NOT_NULL_FATAL(web2);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_EQUAL(web2->http.nuse_backends, 1);
        CU_ASSERT_PTR_EQUAL(web2->http.use_backends[0].backend, h);
        CU_ASSERT_EQUAL(web2->http.nresp_rules, 1);
        CU_ASSERT_EQUAL_FATAL(web2->http.nreq_rules, 1); /* set-var is carried over */
        CU_ASSERT_EQUAL(web2->http.req_rules[0].action, HTTP_ACT_SET_VAR);
        CU_ASSERT_EQUAL_FATAL(cfg->nvars, 1);
        CU_ASSERT_STRING_EQUAL(cfg->vars[0].name, "txn.x");
        CU_ASSERT_STRING_EQUAL(h->http.cookie.name, "S");
        CU_ASSERT_STRING_EQUAL(h->servers[0].cookie, "h1");
        CU_ASSERT_EQUAL_FATAL(h->http.nreq_rules, 4);
        CU_ASSERT_EQUAL(h->http.req_rules[0].action, HTTP_ACT_REPLACE_HEADER);
        CU_ASSERT_STRING_EQUAL(h->http.req_rules[0].value, "\\1.example.com");
        CU_ASSERT_EQUAL(h->http.req_rules[1].action, HTTP_ACT_REPLACE_PATH);
        CU_ASSERT_STRING_EQUAL(h->http.req_rules[1].value, "/new/\\1");
        CU_ASSERT_TRUE(h->http.req_rules[1].cond.present);
        CU_ASSERT_EQUAL(h->http.req_rules[2].action, HTTP_ACT_SET_PATH);
        CU_ASSERT_EQUAL(h->http.req_rules[3].action, HTTP_ACT_SET_QUERY);
        CU_ASSERT_EQUAL_FATAL(h->http.nresp_rules, 1);
        CU_ASSERT_EQUAL(h->http.resp_rules[0].action, HTTP_ACT_REPLACE_VALUE);
        config_free(cfg);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(r.report, ":6: unsupported: option logasap"));
    CU_ASSERT_FALSE(h2i_mentions(&r, 14)); /* server cookie is supported now */
    CU_ASSERT_FALSE(h2i_mentions(&r, 21)); /* set-var is supported now */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(r.report, ":32: unsupported: http-request set-path /%[hdr(host)]"));
    for (int line = 28; line <= 31; line++) /* regex rewrites are carried over */
        CU_ASSERT_FALSE(h2i_mentions(&r, line));
    CU_ASSERT_FALSE(h2i_mentions(&r, 33));
}

/* haproxy2ini: `log global` in a proxy is what sluice does (a comment, no report); user, group,
 * chroot and ulimit-n are reported with what to do instead. */
static void test_haproxy2ini_global(void)
{
    struct h2i r;
    CU_ASSERT_EQUAL_FATAL(h2i_run(&r, "global\n"                       /* 1 */
                                      "    log stdout local0\n"        /* 2 */
                                      "    user haproxy\n"             /* 3 */
                                      "    chroot /var/lib/haproxy\n"  /* 4 */
                                      "    ulimit-n 100000\n"          /* 5 */
                                      "defaults\n"                     /* 6 */
                                      "    log global\n"               /* 7 */
                                      "    mode http\n"                /* 8 */
                                      "listen l\n"                     /* 9 */
                                      "    log global\n"               /* 10 */
                                      "    bind :80\n"                 /* 11 */
                                      "    server s 127.0.0.1:1\n"     /* 12 */
                                      "    stats realm My\\\"Realm\n"  /* 13 */
                                      "    stats realm Ops\\ only\n"), /* 14 */
                          0);
    CU_ASSERT_FALSE(h2i_mentions(&r, 7));
    CU_ASSERT_FALSE(h2i_mentions(&r, 10));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "# log global: sluice proxies log to the [global] "
                                         "target"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.report, "user haproxy (sluice neither changes user"));
    CU_ASSERT_TRUE(h2i_left_out(&r, 4));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.report, "ulimit-n 100000 (set the descriptor limit"));
    CU_ASSERT_TRUE(h2i_left_out(&r, 13)); /* a quote sluice refuses in the realm */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "stats realm = Ops\\ only\n"));
    struct config *cfg = cfg_load_ok(r.ini);
    CU_ASSERT_PTR_NOT_NULL(cfg);
    config_free(cfg);
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
    CU_add_test(s, "http_keywords", test_http_keywords);
    CU_add_test(s, "http_defaults", test_http_defaults);
    CU_add_test(s, "http_errors", test_http_errors);
    CU_add_test(s, "http_rewrites", test_http_rewrites);
    CU_add_test(s, "line_length", test_line_length);
    CU_add_test(s, "files", test_files);
    CU_add_test(s, "docs", test_docs);
    CU_add_test(s, "keyword_examples", test_keyword_examples);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    CU_add_test(s, "haproxy2ini_global", test_haproxy2ini_global);
    return CU_get_error();
}
