/* Unit tests of net/http/acl.c: every fetch and match method, conditions, -f files, against
 * requests described by hand (no HTTP parser). ACLs are written as config lines and loaded by
 * config/, so parsing and evaluation are tested together. */
#include "config/model.h"
#include "net/http/acl.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A request as the HTTP side would describe it. */
struct req {
    const char *method;  /* default "GET" */
    const char *target;  /* default "/" */
    int minor;           /* HTTP/1.<minor>, default 1 */
    const char *hdrs[8]; /* "Name: value" lines */
    const char *src;     /* default "192.0.2.1" */
    uint16_t port;       /* default 80 */
};

static bool hdr_next(void *msg, const char *lname, size_t lname_len, size_t *iter, const char **v,
                     size_t *vlen)
{
    const struct req *r = msg;
    while (*iter < 8 && r->hdrs[*iter]) {
        const char *h = r->hdrs[(*iter)++];
        const char *colon = strchr(h, ':');
        if ((size_t)(colon - h) != lname_len || strncasecmp(h, lname, lname_len) != 0)
            continue;
        const char *s = colon + 1, *e = h + strlen(h);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *v = s;
        *vlen = (size_t)(e - s);
        return true;
    }
    return false;
}

static void make_ctx(struct acl_ctx *c, const struct req *r, struct sockaddr_storage *ss, void *md)
{
    memset(c, 0, sizeof(*c));
    c->method = r->method ? r->method : "GET";
    c->method_len = strlen(c->method);
    c->target = r->target ? r->target : "/";
    c->target_len = strlen(c->target);
    const char *p = c->target;
    const char *scheme = strstr(p, "://");
    if (scheme && p[0] != '/') { /* absolute-form: the path starts after the authority */
        const char *host = scheme + 3;
        p = strchr(host, '/');
        if (!p)
            p = "/";
        const char *colon = memchr(host, ':', (size_t)(p - host));
        c->dst_host = c->req_host = host;
        c->dst_host_len = c->req_host_len = (size_t)((colon ? colon : p) - host);
        c->dst_url_port = colon ? (uint16_t)atoi(colon + 1) : 80;
    }
    const char *q = strchr(p, '?');
    c->path = p;
    c->path_len = q ? (size_t)(q - p) : strlen(p);
    c->query = q ? q + 1 : NULL;
    c->query_len = q ? strlen(q + 1) : 0;
    c->ver_minor = r->minor >= 0 ? (r->minor ? 1 : 0) : 1;
    c->hdr_next = hdr_next;
    c->msg = (void *)r;
    const char *src = r->src ? r->src : "192.0.2.1";
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, src, &a4->sin_addr) == 1)
        a4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, src, &a6->sin6_addr) == 1)
        a6->sin6_family = AF_INET6;
    c->src = (const struct sockaddr *)ss;
    c->dst_port = r->port ? r->port : 80;
    c->match_data = md;
}

static void *md;

/* Load `acls` (INI lines) and `use_backend = b COND`; evaluate COND for r. -1 on a load error. */
static int eval(const char *acls, const char *cond, const struct req *r)
{
    char text[4096], err[512];
    snprintf(text, sizeof(text),
             "[frontend f]\nmode = http\nbind = :80\n%s\nuse_backend = b %s\n"
             "[backend b]\nmode = http\n",
             acls, cond);
    struct config *cfg;
    if (config_load_string("t.ini", text, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "\nload error: %s\n", err);
        return -1;
    }
    const struct cfg_http *h = &cfg->proxies[0].http;
    struct acl_ctx ctx;
    struct sockaddr_storage ss;
    make_ctx(&ctx, r, &ss, md);
    bool v = acl_cond_eval(h, &h->use_backends[0].cond, &ctx);
    config_free(cfg);
    return v;
}

/* One anonymous ACL `{ ARGS }` against r. */
static int match(const char *args, const struct req *r)
{
    char cond[1024];
    snprintf(cond, sizeof(cond), "if { %s }", args);
    return eval("", cond, r);
}

#define REQ(...) (&(struct req){__VA_ARGS__})

static void check(const char *args, const struct req *r, int want, int line)
{
    int got = match(args, r);
    if (got != want)
        fprintf(stderr, "\nline %d: '%s' on %s %s: got %d, wanted %d\n", line, args,
                r->method ? r->method : "GET", r->target ? r->target : "/", got, want);
    CU_ASSERT_EQUAL(got, want);
}
#define CHECK(args, r, want) check(args, r, want, __LINE__)

static void test_url_dom(void)
{
    /* the domain and its subdomains, as Squid's dstdomain: not a label match anywhere */
    CHECK("url_dom example.com", REQ(.target = "http://example.com/x"), 1);
    CHECK("url_dom example.com", REQ(.target = "http://www.Example.COM/x"), 1);
    CHECK("url_dom example.com", REQ(.target = "http://notexample.com/"), 0);
    CHECK("url_dom example.com", REQ(.target = "http://example.com.evil.net/"), 0);
    CHECK("url_dom example.com", REQ(.target = "http://com/"), 0);
    CHECK("url_dom a.test example.com", REQ(.target = "http://x.a.test:8080/"), 1);
    CHECK("url_dom -m end .evil.net", REQ(.target = "http://example.com.evil.net/"), 1);
    CHECK("url_dom example.com", REQ(.target = "/origin-form"), 0); /* no destination */
    CHECK("url_port 8080", REQ(.target = "http://x.a.test:8080/"), 1);
    CHECK("url_port 80", REQ(.target = "http://x.a.test/"), 1);
}

static void test_path(void)
{
    struct req *r = REQ(.target = "/api/v1/Users.json?x=1&y=2");
    CHECK("path /api/v1/Users.json", r, 1);
    CHECK("path /api/v1/users.json", r, 0);
    CHECK("path -i /API/v1/users.JSON", r, 1);
    CHECK("path /api/v1/Users.json?x=1&y=2", r, 0); /* path has no query */
    CHECK("path_beg /api/ /static/", r, 1);
    CHECK("path_beg /API/", r, 0);
    CHECK("path_beg -i /API/", r, 1);
    CHECK("path_end .json", r, 1);
    CHECK("path_end -i .JSON", r, 1);
    CHECK("path_end .js", r, 0);
    CHECK("path_sub v1/U", r, 1);
    CHECK("path_sub -i V1/U", r, 1);
    CHECK("path_sub v2", r, 0);
    CHECK("path_dir v1", r, 1);
    CHECK("path_dir /v1/", r, 1); /* delimiters around the pattern are ignored */
    CHECK("path_dir api/v1", r, 1);
    CHECK("path_dir v", r, 0);
    CHECK("path_dir Users.json", r, 1);
    CHECK("path_dom Users", r, 1); /* '.' delimits for dom */
    CHECK("path_dom json", r, 1);
    CHECK("path_dom son", r, 0);
    CHECK("path_reg ^/api/v[0-9]+/", r, 1);
    CHECK("path_reg ^/API/", r, 0);
    CHECK("path_reg -i ^/API/", r, 1);
    CHECK("path_reg x=1", r, 0);
    CHECK("path_len 18", r, 1);
    CHECK("path_len 1:10", r, 0);
    CHECK("path -m beg /api", r, 1);
    CHECK("path -m found", r, 1);
    CHECK("path -m len gt 5", r, 1);
    CHECK("path -m len lt 5", r, 0);
    /* absolute-form: the path is after the authority */
    r = REQ(.target = "http://example.com/a/b?q");
    CHECK("path /a/b", r, 1);
    CHECK("url_beg /", r, 0);
    CHECK("url_reg ^[^/:]*://", r, 1);
}

static void test_url_query(void)
{
    struct req *r = REQ(.target = "/s?q=Cats&page=2&empty=&flag;lang=en&q=dogs");
    CHECK("url /s?q=Cats&page=2&empty=&flag;lang=en&q=dogs", r, 1);
    CHECK("url_beg /s?q=", r, 1);
    CHECK("url_end q=dogs", r, 1);
    CHECK("url_sub page=2", r, 1);
    CHECK("url_reg page=[0-9]$", r, 0);
    CHECK("url_reg page=[0-9]&", r, 1);
    CHECK("url_len 43", r, 1);
    CHECK("url_dir s", r, 1);
    CHECK("query -m beg q=Cats", r, 1);
    CHECK("query q=Cats", r, 0);
    CHECK("query -m found", r, 1);
    CHECK("query -m found", REQ(.target = "/s"), 0);
    CHECK("query -m found", REQ(.target = "/s?"), 1);
    /* url_param: '&' and ';' separate, "name=" required, every occurrence, no decoding */
    CHECK("url_param(q) Cats", r, 1);
    CHECK("url_param(q) cats", r, 0);
    CHECK("url_param(q) -i cats", r, 1);
    CHECK("url_param(q) dogs", r, 1); /* second occurrence */
    CHECK("url_param(page) 2", r, 1);
    CHECK("url_param(page) -m int ge 2", r, 1);
    CHECK("url_param(page) -m int gt 2", r, 0);
    CHECK("url_param(lang) en", r, 1); /* after ';' */
    CHECK("url_param(empty) -m found", r, 1);
    CHECK("url_param(empty) -m len 0", r, 1);
    CHECK("url_param(flag) -m found", r, 0); /* no '=': HAProxy does not count it */
    CHECK("url_param(Q) -m found", r, 0);    /* names are case-sensitive */
    CHECK("url_param(pag) -m found", r, 0);
    CHECK("urlp(page) 2", r, 1);
    CHECK("urlp_beg(q) Ca", r, 1);
    CHECK("urlp_end(q) ogs", r, 1);
    CHECK("urlp_sub(q) at", r, 1);
    CHECK("urlp_reg(q) ^d.g", r, 1);
    CHECK("url_param(x) -m found", REQ(.target = "/nothing"), 0);
    CHECK("url_param(a) %41", REQ(.target = "/?a=%41"), 1); /* not decoded */
    CHECK("url_param(a) A", REQ(.target = "/?a=%41"), 0);
    CHECK("url_param(b) 2", REQ(.target = "/p?a=1&b=2"), 1);
    CHECK("url_param(a) 1", REQ(.target = "/p?a=1&b=2"), 1);
    CHECK("url_param(a) 1&b=2", REQ(.target = "/p?a=1&b=2"), 0);

    size_t pos = 0, vlen;
    const char *v;
    const char *q = "a=1;b=;a=3&=x&a";
    CU_ASSERT_TRUE(acl_url_param_next(q, strlen(q), "a", 1, &pos, &v, &vlen));
    CU_ASSERT_EQUAL(vlen, 1);
    CU_ASSERT_EQUAL(v[0], '1');
    CU_ASSERT_TRUE(acl_url_param_next(q, strlen(q), "a", 1, &pos, &v, &vlen));
    CU_ASSERT_EQUAL(v[0], '3');
    CU_ASSERT_FALSE(acl_url_param_next(q, strlen(q), "a", 1, &pos, &v, &vlen));
    pos = 0;
    CU_ASSERT_TRUE(acl_url_param_next(q, strlen(q), "b", 1, &pos, &v, &vlen));
    CU_ASSERT_EQUAL(vlen, 0);
}

static void test_hdr(void)
{
    struct req *r =
        REQ(.hdrs = {"Host: WWW.Example.com:8080", "Accept: text/html, application/json;q=0.9 ,*/*",
                     "X-List: \"a,b\", c", "X-Empty:", "accept: image/png", "X-Num: 42",
                     "X-Forwarded-For: 10.1.2.3, 2001:db8::7"});
    CHECK("hdr(host) WWW.Example.com:8080", r, 1);
    CHECK("hdr(Host) -i www.example.com:8080", r, 1);
    CHECK("hdr(host) www.example.com:8080", r, 0);
    CHECK("hdr_beg(host) -i www.", r, 1);
    CHECK("hdr_end(host) :8080", r, 1);
    CHECK("hdr_sub(host) -i example", r, 1);
    CHECK("hdr_dom(host) -i example.com", r, 1);
    CHECK("hdr_dom(host) Example", r, 1);
    CHECK("hdr_dom(host) xample.com", r, 0);
    CHECK("hdr_dom(host) 8080", r, 1); /* ':' delimits for dom */
    CHECK("hdr_dir(host) Example", r, 0);
    CHECK("hdr_reg(host) ^WWW\\.[a-z]+", r, 0);
    CHECK("hdr_reg(host) -i ^www\\.[a-z]+\\.com", r, 1);
    CHECK("hdr_len(host) 20", r, 1);
    CHECK("req.hdr(host) -m beg WWW", r, 1);
    /* every comma-separated element of every field line is a sample */
    CHECK("hdr(accept) text/html", r, 1);
    CHECK("hdr(accept) application/json;q=0.9", r, 1); /* trimmed */
    CHECK("hdr(accept) */*", r, 1);
    CHECK("hdr(accept) image/png", r, 1); /* second line, lower-case name */
    CHECK("hdr(accept) \"text/html, application/json;q=0.9\"", r, 0);
    CHECK("hdr(x-list) \"\\\"a,b\\\"\"", r, 1); /* a quoted comma does not split */
    CHECK("hdr(x-list) c", r, 1);
    CHECK("hdr(x-list) -m sub a", r, 1);
    CHECK("hdr(x-empty) -m found", r, 1);
    CHECK("hdr(x-empty) -m len 0", r, 1);
    CHECK("hdr(x-empty) \"\"", r, 1);
    CHECK("hdr(x-missing) -m found", r, 0);
    CHECK("hdr(x-missing) -m len 0", r, 0);
    CHECK("hdr(x-num) -m int 40:50", r, 1);
    CHECK("hdr(x-num) -m int lt 42", r, 0);
    CHECK("hdr(x-num) -m int le 42", r, 1);
    CHECK("hdr(host) -m int 1:", r, 0); /* not a number: no match */
    CHECK("hdr(x-forwarded-for) -m ip 10.0.0.0/8", r, 1);
    CHECK("hdr(x-forwarded-for) -m ip 2001:db8::/32", r, 1);
    CHECK("hdr(x-forwarded-for) -m ip 192.168.0.0/16", r, 0);
    CHECK("hdr(host) -m found", REQ(.target = "/"), 0);
}

static void test_cookie(void)
{
    const struct req *r = REQ(.hdrs = {"Cookie: a=1; SID=abc123; env = beta", "X-Other: SID=zzz",
                                       "Cookie: SID=second"});
    CHECK("cook(SID) abc123", r, 1);
    CHECK("cook(SID) second", r, 1); /* every occurrence, across Cookie lines */
    CHECK("cook(SID) zzz", r, 0);    /* only Cookie fields */
    CHECK("cook(sid) abc123", r, 0); /* names are case-sensitive */
    CHECK("cook_beg(SID) abc", r, 1);
    CHECK("req.cook(env) beta", r, 1);
    CHECK("req.cook(env) -m found", r, 1);
    CHECK("req.cook(none) -m found", r, 0);
    CHECK("cook_reg(SID) ^sec", r, 1);
    CHECK("cook(a) 1", REQ(.hdrs = {"X: y"}), 0);
}

static void test_method_ver_src_port(void)
{
    CHECK("method GET", REQ(.method = "GET"), 1);
    CHECK("method GET", REQ(.method = "get"), 0);
    CHECK("method -i get", REQ(.method = "GET"), 1);
    CHECK("method POST PUT", REQ(.method = "PUT"), 1);
    CHECK("req.ver 1.1", REQ(.minor = 1), 1);
    CHECK("req.ver 1.0", REQ(.minor = 1), 0);
    CHECK("req_ver 1.0", REQ(.minor = 0), 1);
    /* src: CIDR v4 and v6, mapped addresses, masks */
    CHECK("src 192.0.2.1", REQ(.src = "192.0.2.1"), 1);
    CHECK("src 192.0.2.0/24", REQ(.src = "192.0.2.200"), 1);
    CHECK("src 192.0.2.0/25", REQ(.src = "192.0.2.200"), 0);
    CHECK("src 192.0.2.128/25", REQ(.src = "192.0.2.200"), 1);
    CHECK("src 192.0.2.77/24", REQ(.src = "192.0.2.5"), 1); /* host bits are cleared */
    CHECK("src 10.0.0.0/255.0.0.0", REQ(.src = "10.9.8.7"), 1);
    CHECK("src 0.0.0.0/0", REQ(.src = "203.0.113.9"), 1);
    CHECK("src 10.0.0.0/8 172.16.0.0/12", REQ(.src = "172.31.255.255"), 1);
    CHECK("src 10.0.0.0/8 172.16.0.0/12", REQ(.src = "172.32.0.0"), 0);
    CHECK("src 2001:db8::/32", REQ(.src = "2001:db8:1::5"), 1);
    CHECK("src 2001:db8::/32", REQ(.src = "2001:db9::5"), 0);
    CHECK("src 2001:db8::/33", REQ(.src = "2001:db8:8000::1"), 0);
    CHECK("src ::1", REQ(.src = "::1"), 1);
    CHECK("src 127.0.0.1/8", REQ(.src = "::ffff:127.1.2.3"), 1); /* v4-mapped */
    CHECK("src ::ffff:127.0.0.0/104", REQ(.src = "127.1.2.3"), 1);
    CHECK("src 2001:db8::/32", REQ(.src = "10.0.0.1"), 0);
    CHECK("src -m found", REQ(.src = "10.0.0.1"), 1);
    CHECK("dst_port 80", REQ(.port = 80), 1);
    CHECK("dst_port 80", REQ(.port = 8080), 0);
    CHECK("dst_port 8000:8100", REQ(.port = 8080), 1);
    CHECK("dst_port :1024", REQ(.port = 8080), 0);
    CHECK("dst_port 1024:", REQ(.port = 8080), 1);
    CHECK("dst_port gt 8080", REQ(.port = 8080), 0);
    CHECK("dst_port ge 8080", REQ(.port = 8080), 1);
    CHECK("dst_port eq 8080", REQ(.port = 8080), 1);
    CHECK("dst_port lt 80 443", REQ(.port = 443), 1);
    CHECK("always_true", REQ(.port = 1), 1);
    CHECK("always_false", REQ(.port = 1), 0);

    /* without a source address (a unix socket, say), src never matches */
    struct acl_ctx ctx;
    struct sockaddr_storage ss;
    struct req r = {0};
    make_ctx(&ctx, &r, &ss, md);
    ctx.src = NULL;
    struct cfg_acl a = {.fetch = ACL_F_SRC, .match = ACL_M_FOUND};
    CU_ASSERT_FALSE(acl_entry_match(&a, &ctx));
}

static void test_predefined(void)
{
    static const struct {
        const char *name;
        struct req r;
        int want;
    } cases[] = {
        {"TRUE", {0}, 1},
        {"FALSE", {0}, 0},
        {"HTTP", {0}, 1},
        {"LOCALHOST", {.src = "127.0.0.1"}, 1},
        {"LOCALHOST", {.src = "127.255.0.1"}, 1},
        {"LOCALHOST", {.src = "::1"}, 1},
        {"LOCALHOST", {.src = "10.0.0.1"}, 0},
        {"METH_GET", {.method = "GET"}, 1},
        {"METH_GET", {.method = "HEAD"}, 1},
        {"METH_GET", {.method = "POST"}, 0},
        {"METH_HEAD", {.method = "HEAD"}, 1},
        {"METH_HEAD", {.method = "GET"}, 0},
        {"METH_POST", {.method = "POST"}, 1},
        {"METH_PUT", {.method = "PUT"}, 1},
        {"METH_DELETE", {.method = "DELETE"}, 1},
        {"METH_OPTIONS", {.method = "OPTIONS"}, 1},
        {"METH_TRACE", {.method = "TRACE"}, 1},
        {"METH_CONNECT", {.method = "CONNECT", .target = "example.com:443"}, 1},
        {"METH_CONNECT", {.method = "GET"}, 0},
        {"HTTP_1.0", {.minor = 0}, 1},
        {"HTTP_1.0", {.minor = 1}, 0},
        {"HTTP_1.1", {.minor = 1}, 1},
        {"HTTP_2.0", {.minor = 1}, 0},
        {"HTTP_URL_ABS", {.target = "http://a/b"}, 1},
        {"HTTP_URL_ABS", {.target = "/b"}, 0},
        {"HTTP_URL_SLASH", {.target = "/b"}, 1},
        {"HTTP_URL_SLASH", {.target = "*"}, 0},
        {"HTTP_URL_STAR", {.method = "OPTIONS", .target = "*"}, 1},
        {"HTTP_URL_STAR", {.target = "/"}, 0},
        {"HTTP_CONTENT", {.hdrs = {"Content-Length: 12"}}, 1},
        {"HTTP_CONTENT", {.hdrs = {"Content-Length: 0"}}, 0},
        {"HTTP_CONTENT", {0}, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char cond[64];
        snprintf(cond, sizeof(cond), "if %s", cases[i].name);
        int got = eval("", cond, &cases[i].r);
        if (got != cases[i].want)
            fprintf(stderr, "\n%s: got %d, wanted %d\n", cases[i].name, got, cases[i].want);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    /* Predefined ACLs are added once per proxy however often they are used. */
    char err[256];
    struct config *cfg;
    CU_ASSERT_EQUAL_FATAL(
        config_load_string("t.ini",
                           "[frontend f]\nmode = http\nbind = :80\n"
                           "use_backend = b if METH_GET\nuse_backend = b if METH_GET or TRUE\n"
                           "[backend b]\nmode = http\n",
                           &cfg, err, sizeof(err)),
        0);
    CU_ASSERT_EQUAL(cfg->proxies[0].http.nacls, 2);
    config_free(cfg);
}

static void test_conditions(void)
{
    const char *acls = "acl = get method GET\n"
                       "acl = api path_beg /api\n"
                       "acl = local src 127.0.0.0/8\n";
    struct req *get_api_local = REQ(.method = "GET", .target = "/api/x", .src = "127.0.0.1");
    struct req *post_api_remote = REQ(.method = "POST", .target = "/api/x", .src = "10.0.0.1");
    struct req *get_www_remote = REQ(.method = "GET", .target = "/www", .src = "10.0.0.1");
    static const struct {
        const char *cond;
        int want[3]; /* get_api_local, post_api_remote, get_www_remote */
    } cases[] = {
        {"if get", {1, 0, 1}},
        {"unless get", {0, 1, 0}},
        {"if !get", {0, 1, 0}},
        {"if ! get", {0, 1, 0}}, /* a lone '!' negates the next term */
        {"if !!get", {1, 0, 1}},
        {"if get api", {1, 0, 0}},
        {"if get !api", {0, 0, 1}},
        {"if get or api", {1, 1, 1}},
        {"if get || local", {1, 0, 1}},
        {"if get api or local", {1, 0, 0}},
        {"if local or api !get", {1, 1, 0}},
        {"unless get api or local", {0, 1, 1}},
        {"if { path_beg /api } { method POST }", {0, 1, 0}},
        {"if !{ path_beg /api }", {0, 0, 1}},
        {"if ! { path_beg /api } or local", {1, 0, 1}},
        {"if { src 10.0.0.0/8 } api or { method GET } !api", {0, 1, 1}},
        {"if api METH_GET", {1, 0, 0}},
        {"if TRUE", {1, 1, 1}},
        {"unless FALSE", {1, 1, 1}},
        {"if FALSE or FALSE or get", {1, 0, 1}},
        {"if FALSE or get FALSE", {0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got[3] = {eval(acls, cases[i].cond, get_api_local),
                      eval(acls, cases[i].cond, post_api_remote),
                      eval(acls, cases[i].cond, get_www_remote)};
        for (int k = 0; k < 3; k++) {
            if (got[k] != cases[i].want[k])
                fprintf(stderr, "\n'%s' request %d: got %d, wanted %d\n", cases[i].cond, k, got[k],
                        cases[i].want[k]);
            CU_ASSERT_EQUAL(got[k], cases[i].want[k]);
        }
    }
    /* Lines with one name are ORed, even lines after the rule that uses the name. */
    const char *ored = "acl = x path /a\nuse_backend = b if x\nacl = x path /b\n";
    CU_ASSERT_EQUAL(eval(ored, "if x", REQ(.target = "/a")), 1);
    CU_ASSERT_EQUAL(eval(ored, "if x", REQ(.target = "/b")), 1);
    CU_ASSERT_EQUAL(eval(ored, "if x", REQ(.target = "/c")), 0);
    char text[512], err[256];
    snprintf(text, sizeof(text),
             "[frontend f]\nmode = http\nbind = :80\n%suse_backend = b if !x\n[backend b]\n"
             "mode = http\n",
             ored);
    struct config *cfg;
    CU_ASSERT_EQUAL_FATAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), 0);
    const struct cfg_http *h = &cfg->proxies[0].http;
    CU_ASSERT_EQUAL(h->use_backends[0].cond.terms[0].nacls, 2);
    struct acl_ctx ctx;
    struct sockaddr_storage ss;
    make_ctx(&ctx, REQ(.target = "/b"), &ss, md);
    CU_ASSERT_TRUE(acl_cond_eval(h, &h->use_backends[0].cond, &ctx));
    CU_ASSERT_FALSE(acl_cond_eval(h, &h->use_backends[1].cond, &ctx)); /* !x: not a or b */
    /* an absent condition is true */
    CU_ASSERT_TRUE(acl_cond_eval(h, NULL, &ctx));
    struct cfg_cond none = {0};
    CU_ASSERT_TRUE(acl_cond_eval(h, &none, &ctx));
    /* regexes work without per-worker match data too (slow path) */
    ctx.match_data = NULL;
    struct cfg_acl *re = NULL;
    config_free(cfg);
    CU_ASSERT_EQUAL_FATAL(config_load_string("t.ini",
                                             "[frontend f]\nmode = http\nbind = :80\n"
                                             "acl = r path_reg ^/b$\nuse_backend = b if r\n"
                                             "[backend b]\nmode = http\n",
                                             &cfg, err, sizeof(err)),
                          0);
    re = &cfg->proxies[0].http.acls[0];
    CU_ASSERT_TRUE(acl_entry_match(re, &ctx));
    config_free(cfg);
}

static char *temp_file(const char *content)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/sluice-acl-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs(content, fp);
    fclose(fp);
    return path;
}

static void test_files(void)
{
    char acl[256];
    char *p = temp_file("# hosts\n  www.example.com  \n\napi.example.com\n\t# indented comment\n"
                        "Static.Example.com\n");
    snprintf(acl, sizeof(acl), "hdr(host) -i -f %s", p);
    CHECK(acl, REQ(.hdrs = {"Host: API.example.com"}), 1);
    CHECK(acl, REQ(.hdrs = {"Host: static.example.com"}), 1);
    CHECK(acl, REQ(.hdrs = {"Host: example.com"}), 0);
    CHECK(acl, REQ(.hdrs = {"Host: # hosts"}), 0);
    snprintf(acl, sizeof(acl), "hdr(host) -f %s", p);
    CHECK(acl, REQ(.hdrs = {"Host: API.example.com"}), 0); /* no -i: exact case */
    /* -f and inline values together, two files */
    snprintf(acl, sizeof(acl), "hdr(host) -f %s www.other.org", p);
    CHECK(acl, REQ(.hdrs = {"Host: www.other.org"}), 1);
    unlink(p);
    char first[64];
    snprintf(first, sizeof(first), "%s", temp_file("10.0.0.0/8\n"));
    p = temp_file("192.168.0.0/16\n2001:db8::/32\n");
    snprintf(acl, sizeof(acl), "src -f %s -f %s", first, p);
    CHECK(acl, REQ(.src = "10.1.1.1"), 1);
    CHECK(acl, REQ(.src = "192.168.3.3"), 1);
    CHECK(acl, REQ(.src = "2001:db8::1"), 1);
    CHECK(acl, REQ(.src = "172.16.0.1"), 0);
    unlink(p);
    unlink(first);
    /* regexes and an empty file (never matches) */
    p = temp_file("^/img/\n\\.png$\n");
    snprintf(acl, sizeof(acl), "path_reg -f %s", p);
    CHECK(acl, REQ(.target = "/a/b.png"), 1);
    CHECK(acl, REQ(.target = "/img/x"), 1);
    CHECK(acl, REQ(.target = "/a/b.jpg"), 0);
    unlink(p);
    p = temp_file("# nothing\n");
    snprintf(acl, sizeof(acl), "path -f %s", p);
    CHECK(acl, REQ(.target = "/"), 0);
    unlink(p);

    /* errors name the file and its line */
    p = temp_file("10.0.0.0/8\n\nnot-an-ip\n");
    char text[512], err[512], want[256];
    snprintf(text, sizeof(text),
             "[frontend f]\nmode = http\nbind = :80\nacl = a src -f %s\nuse_backend = b if a\n"
             "[backend b]\nmode = http\n",
             p);
    struct config *cfg;
    CU_ASSERT_EQUAL(config_load_string("t.ini", text, &cfg, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "t.ini:4: invalid address 'not-an-ip' in '%s' line 3", p);
    if (!strstr(err, want))
        fprintf(stderr, "\ngot: %s\nwanted: %s\n", err, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    unlink(p);
    CU_ASSERT_EQUAL(config_load_string("t.ini",
                                       "[frontend f]\nmode = http\nbind = :80\n"
                                       "acl = a src -f /nonexistent/list\n",
                                       &cfg, err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.ini:4: cannot read ACL file '/nonexistent/list': No "
                                       "such file or directory"));
}

static int init(void)
{
    md = acl_worker_match_data_new();
    return md ? 0 : -1;
}

static int cleanup(void)
{
    acl_worker_match_data_free(md);
    acl_worker_match_data_free(NULL);
    return 0;
}

int suite_acl(void)
{
    CU_pSuite s = CU_add_suite("acl", init, cleanup);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "path", test_path);
    CU_add_test(s, "url_dom", test_url_dom);
    CU_add_test(s, "url_query", test_url_query);
    CU_add_test(s, "hdr", test_hdr);
    CU_add_test(s, "cookie", test_cookie);
    CU_add_test(s, "method_ver_src_port", test_method_ver_src_port);
    CU_add_test(s, "predefined", test_predefined);
    CU_add_test(s, "conditions", test_conditions);
    CU_add_test(s, "files", test_files);
    return CU_get_error();
}
