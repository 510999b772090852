/* Unit tests of config/map.c and net/http/map.c: map files (format, sharing, errors), each
 * converter's match kind (which entry wins, default value, no match), map converters in
 * log-format values, and dynamic use_backend names. */
#include "config/model.h"
#include "net/http/fmt.h"
#include "net/http/map.h"

#include "h2i.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char err[1024];

static int setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sluice-map-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write `text` to DIR/name; the path in a static buffer. */
static const char *write_map(const char *name, const char *text)
{
    static char path[4][128];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
    return p;
}

/* Load a frontend whose first http-request rule is `rule` (with %s replaced by path). */
static struct config *load(const char *rule, const char *path)
{
    char line[512], text[2048];
    snprintf(line, sizeof(line), rule, path, path);
    snprintf(text, sizeof(text),
             "[frontend f]\nmode = http\nbind = :80\ndefault_backend = b\n%s\n"
             "[backend b]\nmode = http\nserver = s1 127.0.0.1:1\n"
             "[backend api]\nmode = http\nserver = s1 127.0.0.1:2\n"
             "[backend raw]\nmode = tcp\nserver = s1 127.0.0.1:3\n",
             line);
    struct config *cfg = NULL;
    err[0] = '\0';
    if (config_load_string("t.ini", text, &cfg, err, sizeof(err)) != 0)
        return NULL;
    return cfg;
}

/* Look `key` up in the only map of a config loaded with a converter of `kind`. */
static const char *lookup(const struct cfg_map *m, const char *key)
{
    static char out[256];
    const char *v;
    size_t vl;
    if (!map_lookup(m, key, strlen(key), NULL, &v, &vl))
        return NULL;
    snprintf(out, sizeof(out), "%.*s", (int)vl, v);
    return out;
}

static void check_lookup(const struct cfg_map *m, const char *key, const char *want, int line)
{
    const char *got = lookup(m, key);
    bool ok = want ? got && strcmp(got, want) == 0 : got == NULL;
    if (!ok)
        fprintf(stderr, "\nline %d: '%s': got '%s', wanted '%s'\n", line, key,
                got ? got : "(no match)", want ? want : "(no match)");
    CU_ASSERT_TRUE(ok);
}
#define LOOKUP(m, key, want) check_lookup(m, key, want, __LINE__)

#define RULE(conv) "http-request set-header = X-T %%[path," conv "]"

/* Format: first word the key, the rest after blanks the value (inner blanks kept, trailing ones
 * dropped); '#' lines and blank lines skipped; a key alone has an empty value. */
static void test_file_format(void)
{
    const char *p = write_map("fmt.map", "# hosts\n"
                                         "\n"
                                         "   www.example.com   be_www  \n"
                                         "api.example.com\tbe api  two\r\n"
                                         "\t# indented comment\n"
                                         "bare\n"
                                         "a#b c#d\n");
    struct config *cfg = load(RULE("map(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_map *m = cfg->maps;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->kind, CFG_MAP_STR);
    CU_ASSERT_EQUAL(m->nentries, 4);
    LOOKUP(m, "www.example.com", "be_www");
    LOOKUP(m, "api.example.com", "be api  two");
    LOOKUP(m, "bare", "");
    LOOKUP(m, "a#b", "c#d"); /* '#' starts a comment only at the start of a line */
    LOOKUP(m, "# hosts", NULL);
    LOOKUP(m, "WWW.example.com", NULL); /* case-sensitive: write ,lower before it */
    LOOKUP(m, "www.example.co", NULL);
    CU_ASSERT_EQUAL(m->value_max, strlen("be api  two"));
    config_free(cfg);
}

/* map_str: exact; a key written twice keeps its first line (HAProxy's "first of the finest"). */
static void test_str(void)
{
    const char *p = write_map("str.map", "b 2\na 1\nc 3\na dup\n\n");
    struct config *cfg = load(RULE("map_str(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_map *m = cfg->maps;
    CU_ASSERT_EQUAL(m->nentries, 3);
    LOOKUP(m, "a", "1");
    LOOKUP(m, "b", "2");
    LOOKUP(m, "c", "3");
    LOOKUP(m, "", NULL);
    LOOKUP(m, "ab", NULL);
    config_free(cfg);

    /* a large map: every key found, by binary search */
    char *text = malloc(20000 * 24);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    size_t n = 0;
    for (int i = 19999; i >= 0; i--)
        n += (size_t)sprintf(text + n, "host%d.example v%d\n", i, i);
    p = write_map("big.map", text);
    free(text);
    cfg = load(RULE("map(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    bool all = true;
    for (int i = 0; i < 20000; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "host%d.example", i);
        snprintf(v, sizeof(v), "v%d", i);
        const char *got = lookup(cfg->maps, k);
        all &= got && strcmp(got, v) == 0;
    }
    CU_ASSERT_TRUE(all);
    LOOKUP(cfg->maps, "host20000.example", NULL);
    config_free(cfg);
}

/* map_beg: the longest key that begins the sample wins, wherever it is in the file. */
static void test_beg(void)
{
    const char *p = write_map("beg.map", "/ root\n/api api\n/api/v2 v2\n/apix x\n/api dup\n");
    struct config *cfg = load(RULE("map_beg(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_map *m = cfg->maps;
    LOOKUP(m, "/api/v2/users", "v2");
    LOOKUP(m, "/api/v1/users", "api");
    LOOKUP(m, "/api", "api");
    LOOKUP(m, "/apix/1", "x");
    LOOKUP(m, "/static/x.css", "root");
    LOOKUP(m, "static", NULL);
    config_free(cfg);
}

/* map_end, map_sub, map_dir, map_dom, map_reg: in file order, the first match wins. */
static void test_linear(void)
{
    const char *p = write_map("end.map", ".example.com ex\n.com com\nle.com first-wins-not\n");
    struct config *cfg = load(RULE("map_end(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    LOOKUP(cfg->maps, "www.example.com", "ex");
    LOOKUP(cfg->maps, "other.com", "com");
    LOOKUP(cfg->maps, "example.org", NULL);
    config_free(cfg);

    p = write_map("sub.map", "bot crawler\nbrowser human\n");
    cfg = load(RULE("map_sub(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    LOOKUP(cfg->maps, "Googlebot browser/2", "crawler"); /* both match: the first line */
    LOOKUP(cfg->maps, "a browser", "human");
    LOOKUP(cfg->maps, "curl", NULL);
    config_free(cfg);

    p = write_map("dir.map", "img images\n/static/ static\n");
    cfg = load(RULE("map_dir(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    LOOKUP(cfg->maps, "/static/img/a.png", "images");
    LOOKUP(cfg->maps, "/static/x", "static"); /* delimiters around a key are ignored */
    LOOKUP(cfg->maps, "/imgs/a.png", NULL);
    config_free(cfg);

    p = write_map("dom.map", "example.com ex\nstatic st\n");
    cfg = load(RULE("map_dom(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    LOOKUP(cfg->maps, "www.example.com", "ex");
    LOOKUP(cfg->maps, "example.com", "ex");
    LOOKUP(cfg->maps, "static.example.org", "st");
    LOOKUP(cfg->maps, "notexample.com", NULL);
    LOOKUP(cfg->maps, "staticx.org", NULL);
    config_free(cfg);

    p = write_map("reg.map", "^/img/.*\\.(png|jpg)$ images\n^/api/ api\n.* any\n");
    cfg = load(RULE("map_reg(%s)"), p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    LOOKUP(cfg->maps, "/img/a.png", "images");
    LOOKUP(cfg->maps, "/api/img/a.png", "api");
    LOOKUP(cfg->maps, "/other", "any");
    config_free(cfg);
}

/* map_ip: the longest prefix wins (whatever the file order), IPv4 and IPv6, IPv4-mapped
 * addresses matching IPv4 networks; a sample that is no address matches nothing. */
static void test_ip(void)
{
    const char *p = write_map("ip.map", "0.0.0.0/0 world\n"
                                        "10.0.0.0/8 lan\n"
                                        "10.1.2.0/24 office\n"
                                        "10.1.2.3 desk\n"
                                        "10.0.0.0/255.255.0.0 mask\n"
                                        "2001:db8::/32 v6net\n"
                                        "2001:db8:1::/48 v6lab\n"
                                        "::ffff:192.0.2.0/120 mapped\n");
    struct config *cfg = load("http-request set-header = X-T %%[src,map_ip(%s)]", p);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_map *m = cfg->maps;
    LOOKUP(m, "10.1.2.3", "desk");
    LOOKUP(m, "10.1.2.4", "office");
    LOOKUP(m, "10.0.9.9", "mask");
    LOOKUP(m, "10.9.9.9", "lan");
    LOOKUP(m, "192.168.1.1", "world");
    LOOKUP(m, "2001:db8:1::5", "v6lab");
    LOOKUP(m, "2001:db8:2::5", "v6net");
    LOOKUP(m, "2001:db9::1", NULL);
    LOOKUP(m, "::ffff:10.1.2.3", "desk"); /* an IPv4 client on an IPv6 socket */
    LOOKUP(m, "192.0.2.7", "world");      /* IPv4 networks first, then the mapped IPv6 ones */
    LOOKUP(m, "not-an-ip", NULL);
    LOOKUP(m, "", NULL);
    config_free(cfg);

    p = write_map("ip6.map", "2001:db8::/32 net\n::ffff:192.0.2.0/120 mapped\n");
    cfg = load("http-request set-header = X-T %%[src,map_ip(%s)]", p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    LOOKUP(cfg->maps, "10.0.0.1", NULL);
    LOOKUP(cfg->maps, "192.0.2.7", "mapped");
    config_free(cfg);
}

/* Expand set-header's value for a request GET /api/v2/x from 10.1.2.3 with Host: WWW.A.COM. */
static const char *expand(const struct config *cfg)
{
    static char out[512];
    static const char target[] = "/api/v2/x";
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.1.2.3", &src.sin_addr);
    struct acl_ctx req = {.method = "GET",
                          .method_len = 3,
                          .target = target,
                          .target_len = strlen(target),
                          .path = target,
                          .path_len = strlen(target),
                          .ver_minor = 1,
                          .src = (const struct sockaddr *)&src};
    struct fmt_ctx c = {.req = &req, .fe_name = "f", .be_name = "b"};
    const struct cfg_fmt *f = cfg->proxies[0].http.req_rules[0].fmt;
    ssize_t n = fmt_expand(f, &c, out, sizeof(out) - 1);
    if (n < 0)
        return "<overflow>";
    out[n] = '\0';
    return out;
}

static void check_expand(const char *rule, const char *path, const char *want, int line)
{
    struct config *cfg = load(rule, path);
    if (!cfg)
        fprintf(stderr, "\nline %d: %s\n", line, err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const char *got = expand(cfg);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\nline %d: '%s': got '%s', wanted '%s'\n", line, rule, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    config_free(cfg);
}
#define EXPAND(rule, path, want) check_expand(rule, path, want, __LINE__)

/* In a value: the map's value replaces the sample; no match gives the default, or nothing;
 * converters chain; an absent sample skips the map's default (HAProxy: the fetch failed). */
static void test_in_values(void)
{
    const char *p = write_map("paths.map", "/api api-pool\n/ web\n");
    const char *ip = write_map("tiers.map", "10.0.0.0/8 internal\n");
    EXPAND("http-request set-header = X-T [%%[path,map_beg(%s)]]", p, "[api-pool]");
    EXPAND("http-request set-header = X-T %%[path,map(%s,none)]", p, "none");
    EXPAND("http-request set-header = X-T <%%[path,map(%s)]>", p, "<>");
    EXPAND("http-request set-header = X-T %%[path,map_beg(%s),upper]", p, "API-POOL");
    EXPAND("http-request set-header = X-T %%[path,upper,map(%s,miss)]", p, "miss");
    EXPAND("http-request set-header = X-T %%[src,map_ip(%s,unknown)]", ip, "internal");
    EXPAND("http-request set-header = X-T %%[req.hdr(x-none),map(%s,dflt)]", p, "");
    EXPAND("http-request set-header = X-T %%[query,map(%s,dflt)]", p, "");
    /* two converters on one file and kind share one table; another kind loads its own */
    struct config *cfg = load("http-request set-header = X-T %%[path,map(%s)]%%[url,map(%s,x)]", p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NOT_NULL(cfg->maps);
    CU_ASSERT_PTR_NULL(cfg->maps->next);
    config_free(cfg);
    cfg = load("http-request set-header = X-T %%[path,map(%s)]%%[url,map_beg(%s,x)]", p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NOT_NULL(cfg->maps);
    CU_ASSERT_PTR_NOT_NULL(cfg->maps->next);
    config_free(cfg);
    /* a value longer than what the sample could be: the bound covers it */
    char big[400];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char text[512];
    snprintf(text, sizeof(text), "/api/v2/x %s\n", big);
    p = write_map("long.map", text);
    cfg = load("http-request set-header = X-T %%[path,map(%s)]", p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT(fmt_bound(cfg->proxies[0].http.req_rules[0].fmt, 10) >= sizeof(big) - 1);
    CU_ASSERT_STRING_EQUAL(expand(cfg), big);
    config_free(cfg);
}

static void check_error(const char *rule, const char *path, const char *want, int line)
{
    struct config *cfg = load(rule, path);
    if (cfg || !strstr(err, want))
        fprintf(stderr, "\nline %d: got '%s', wanted '%s'\n", line, cfg ? "(loaded)" : err, want);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    config_free(cfg);
}
#define ERROR(rule, path, want) check_error(rule, path, want, __LINE__)

static void test_errors(void)
{
    const char *bad_ip = write_map("badip.map", "# tiers\n10.0.0.0/8 a\n10.0.0.300/8 b\n");
    char want[256];
    snprintf(want, sizeof(want),
             "t.ini:5: %s:3: invalid network '10.0.0.300/8' for map_ip (expected an IPv4 or "
             "IPv6 address, optionally with /PREFIX)",
             bad_ip);
    ERROR("http-request set-header = X-T %%[src,map_ip(%s)]", bad_ip, want);
    ERROR("http-request set-header = X-T %%[src,map_ip(%s)]", "/nonexistent/x.map",
          "t.ini:5: cannot read map file '/nonexistent/x.map': No such file or directory");
    const char *bad_re = write_map("badre.map", "^/ok ok\n^(/x bad\n");
    snprintf(want, sizeof(want), "invalid regex '^(/x' in %s:2 at offset", bad_re);
    ERROR("http-request set-header = X-T %%[path,map_reg(%s)]", bad_re, want);
    ERROR("http-request set-header = X-T %%[path,map_ipv4(%s)]", "x",
          "unknown converter 'map_ipv4' in header value");
    ERROR("http-request set-header = X-T %%[path,map]%s", "", "converter 'map' needs a map file");
    ERROR("http-request set-header = X-T %%[path,map()]%s", "", "converter 'map' needs a map file");
    ERROR("http-request set-header = X-T %%[path,map(%s,a,b)]", bad_re,
          "too many arguments to 'map'");
    ERROR("http-request set-header = X-T %%[path,map(%s]", bad_re, "missing ')' after 'map('");
    ERROR("http-request set-header = X-T %%[path,lower(x)]%s", "",
          "converter 'lower' takes no argument");
    ERROR("http-request set-header = X-T %%[path,lower,lower,lower,lower]%s", "",
          "too many converters");
}

/* use_backend with a log-format name: parsed as a format, resolved per request by name. */
static void test_use_backend(void)
{
    const char *p = write_map("hosts.map", "api.example.com api\n");
    struct config *cfg =
        load("use_backend = %%[req.hdr(host),lower,map(%s,b)] if { path_beg /x }", p);
    if (!cfg)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_use_backend *u = &cfg->proxies[0].http.use_backends[0];
    CU_ASSERT_PTR_NOT_NULL(u->fmt);
    CU_ASSERT_PTR_NULL(u->backend);
    CU_ASSERT_TRUE(u->cond.present);
    CU_ASSERT_PTR_EQUAL(config_find_backend(cfg, "api", 3), &cfg->proxies[2]);
    CU_ASSERT_PTR_EQUAL(config_find_backend(cfg, "b", 1), &cfg->proxies[1]);
    CU_ASSERT_PTR_EQUAL(config_find_backend(cfg, "raw", 3), &cfg->proxies[3]);
    CU_ASSERT_PTR_NULL(config_find_backend(cfg, "f", 1)); /* a frontend */
    CU_ASSERT_PTR_NULL(config_find_backend(cfg, "ap", 2));
    CU_ASSERT_PTR_NULL(config_find_backend(cfg, "", 0));
    config_free(cfg);
    /* a static name keeps its checks */
    cfg = load("use_backend = api%s", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_PTR_NULL(cfg->proxies[0].http.use_backends[0].fmt);
    CU_ASSERT_PTR_EQUAL(cfg->proxies[0].http.use_backends[0].backend, &cfg->proxies[2]);
    config_free(cfg);
    ERROR("use_backend = %%[req.hdr(host),bogus]%s", "", "unknown converter 'bogus'");
    ERROR("use_backend = %%[status]%s", "", "is known only once the server answered");
    ERROR("use_backend = nope%s", "", "use_backend 'nope' of frontend 'f' does not exist");
    /* in mode tcp there is no request to compute a name from */
    struct config *tcp = NULL;
    const char *text = "[frontend f]\nmode = tcp\nbind = :80\ndefault_backend = raw\n"
                       "use_backend = %[src]\n"
                       "[backend raw]\nmode = tcp\nserver = s1 127.0.0.1:3\n";
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &tcp, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:5: use_backend '%[src]' in [frontend f] computes "
                                       "the backend's name from the request, which needs mode "
                                       "http"));
}

/* scripts/haproxy2ini carries map converters and dynamic use_backend lines. */
static void test_haproxy2ini(void)
{
    const char *hosts = write_map("h2i-hosts.map", "api.example.com api\n");
    const char *paths = write_map("h2i-paths.map", "/api api\n");
    const char *tiers = write_map("h2i-tiers.map", "10.0.0.0/8 internal\n");
    char cfgtext[2048];
    snprintf(cfgtext, sizeof(cfgtext),
             "frontend web\n"                                                  /* 1 */
             "    mode http\n"                                                 /* 2 */
             "    bind :8081\n"                                                /* 3 */
             "    use_backend %%[req.hdr(host),lower,map(%s,be_default)]\n"    /* 4 */
             "    use_backend %%[path,map_beg(%s)] if { path_beg /api }\n"     /* 5 */
             "    http-request set-header X-Tier %%[src,map_ip(%s,unknown)]\n" /* 6 */
             "    default_backend be_default\n"                                /* 7 */
             "backend be_default\n"                                            /* 8 */
             "    mode http\n"                                                 /* 9 */
             "    server s1 10.0.0.2:80\n"                                     /* 10 */
             "backend api\n"                                                   /* 11 */
             "    mode http\n"                                                 /* 12 */
             "    server s1 10.0.0.3:80\n",                                    /* 13 */
             hosts, paths, tiers);
    struct h2i r;
    CU_ASSERT_EQUAL_FATAL(h2i_run(&r, cfgtext), 0);
    if (r.status != 0)
        fprintf(stderr, "\n%s\n", r.report);
    CU_ASSERT_EQUAL(r.status, 0);
    for (int line = 4; line <= 6; line++)
        CU_ASSERT_FALSE(h2i_mentions(&r, line));
    char want[256];
    snprintf(want, sizeof(want), "use_backend = %%[req.hdr(host),lower,map(%s,be_default)]", hosts);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, want));
    snprintf(want, sizeof(want), "use_backend = %%[path,map_beg(%s)] if { path_beg /api }", paths);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, want));
    snprintf(want, sizeof(want), "http-request set-header = X-Tier %%[src,map_ip(%s,unknown)]",
             tiers);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, want));
    struct config *cfg; /* and sluice loads what it wrote */
    int rc = config_load_string("t.ini", r.ini, &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n%s\n", r.ini, err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    config_free(cfg);
}

int suite_map(void)
{
    CU_pSuite s = CU_add_suite("map", setup, teardown);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "file_format", test_file_format);
    CU_add_test(s, "str", test_str);
    CU_add_test(s, "beg", test_beg);
    CU_add_test(s, "linear", test_linear);
    CU_add_test(s, "ip", test_ip);
    CU_add_test(s, "in_values", test_in_values);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "use_backend", test_use_backend);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    return CU_get_error();
}
