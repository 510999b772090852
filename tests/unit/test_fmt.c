/* Unit tests of net/http/fmt.c and config/fmt.c: log-format header values (`%[src]`, `%ci`,
 * `%[req.hdr(host),lower]`, ...) written as config lines, loaded by config/ and expanded against
 * messages described by hand. */
#include "config/model.h"
#include "net/http/fmt.h"
#include "net/http/vars.h"

#include "h2i.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A message's fields as "Name: value" lines. */
struct fields {
    const char *l[8];
};

static bool fields_next(void *msg, const char *lname, size_t lname_len, size_t *iter,
                        const char **v, size_t *vlen)
{
    const struct fields *f = msg;
    while (*iter < 8 && f->l[*iter]) {
        const char *h = f->l[(*iter)++];
        const char *colon = strchr(h, ':');
        if ((size_t)(colon - h) != lname_len || strncasecmp(h, lname, lname_len) != 0)
            continue;
        const char *s = colon + 1;
        while (*s == ' ')
            s++;
        *v = s;
        *vlen = strlen(s);
        return true;
    }
    return false;
}

static const struct fields req_fields = {{
    "Host: WWW.Example.COM",
    "X-List: a, b",
    "X-List: c",
    "X-Empty: ",
    "Cookie: a=1; sid=first",
    "Cookie: sid=last; b=2",
}};
static const struct fields res_fields = {{"Server: Py/1.0", "Set-Cookie: a=1", "Set-Cookie: b=2"}};

/* Load `rule` (an http-request or http-response header rule) in a frontend and expand its value
 * against a fixed request (GET /p/x?id=7&k=v HTTP/1.1 from 192.0.2.1:5555) and, for response
 * rules, a 201 response from server s1. Returns the expansion (static) or NULL on a load error,
 * with the error in err. */
static char err[512];
static const char *expand(const char *rule, size_t cap)
{
    static char out[512];
    char text[2048];
    snprintf(text, sizeof(text),
             "[frontend f]\nmode = http\nbind = :80\ndefault_backend = b\n%s\n"
             "[backend b]\nmode = http\nserver = s1 127.0.0.1:1\n",
             rule);
    struct config *cfg;
    err[0] = '\0';
    if (config_load_string("t.ini", text, &cfg, err, sizeof(err)) != 0)
        return NULL;
    const struct cfg_http *h = &cfg->proxies[0].http;
    bool response = h->nresp_rules > 0;
    const struct cfg_http_rule *r = response ? &h->resp_rules[0] : &h->req_rules[0];
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(5555)};
    inet_pton(AF_INET, "192.0.2.1", &src.sin_addr);
    static const char target[] = "/p/x?id=7&k=v";
    struct acl_ctx req = {
        .method = "GET",
        .method_len = 3,
        .target = target,
        .target_len = strlen(target),
        .path = target,
        .path_len = 4,
        .query = target + 5,
        .query_len = strlen(target + 5),
        .ver_minor = 1,
        .hdr_next = fields_next,
        .msg = (void *)&req_fields,
        .src = (const struct sockaddr *)&src,
    };
    struct timespec wall = {.tv_sec = 1700000000, .tv_nsec = 42 * 1000000 + 999};
    struct fmt_ctx c = {.req = &req,
                        .orig_target = "/orig?o=1", /* as sent, before a rewrite */
                        .orig_target_len = 9,
                        .fe_name = "f",
                        .be_name = "b",
                        .req_wall = &wall};
    if (response) {
        c.res_hdr_next = fields_next;
        c.res_msg = (void *)&res_fields;
        c.status = 201;
        c.srv_name = "s1";
    }
    const char *ret = out;
    if (!r->fmt) { /* a literal value */
        snprintf(out, sizeof(out), "%s", r->value ? r->value : "");
    } else {
        CU_ASSERT(fmt_bound(r->fmt, 200) >= 40);
        ssize_t n = fmt_expand(r->fmt, &c, out, cap < sizeof(out) ? cap : sizeof(out) - 1);
        if (n < 0)
            ret = "<overflow>";
        else
            out[n] = '\0';
    }
    config_free(cfg);
    return ret;
}

static void check(const char *rule, const char *want, int line)
{
    const char *got = expand(rule, 511);
    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "\nline %d: '%s': got '%s' (%s), wanted '%s'\n", line, rule,
                got ? got : "(load error)", err, want);
    CU_ASSERT_PTR_NOT_NULL(got);
    if (got)
        CU_ASSERT_STRING_EQUAL(got, want);
}
#define CHECK(rule, want) check(rule, want, __LINE__)
#define REQ               "http-request set-header = X-T "
#define RES               "http-response set-header = X-T "

static void test_request_samples(void)
{
    CHECK(REQ "%[src]", "192.0.2.1");
    CHECK(REQ "%ci:%cp", "192.0.2.1:5555");
    CHECK(REQ "%[src_port]", "5555");
    CHECK(REQ "%[req.hdr(host)]", "WWW.Example.COM");
    CHECK(REQ "%[req.hdr(host),lower]", "www.example.com");
    CHECK(REQ "%[hdr(Host),upper]", "WWW.EXAMPLE.COM");
    CHECK(REQ "%[req.hdr(x-list)]", "c");       /* the last comma-separated value */
    CHECK(REQ "%[req.hdr(x-list,1)]", "a");     /* the first */
    CHECK(REQ "%[req.hdr(x-list,2)]", "b");     /* values across lines */
    CHECK(REQ "%[req.hdr(x-list,-2)]", "b");    /* from the end */
    CHECK(REQ "%[req.hdr(x-list,4)]", "");      /* no such occurrence */
    CHECK(REQ "%[req.fhdr(x-list,1)]", "a, b"); /* whole lines */
    CHECK(REQ "%[req.fhdr(x-list)]", "c");
    CHECK(REQ "%[req.hdr(x-list,0)]", "c"); /* HAProxy: 0 is the last too */
    CHECK(REQ "%[req.hdr(x-none)]", "");
    CHECK(REQ "%[req.hdr(x-empty)]", "");
    CHECK(REQ "\"%[method] %[url] %[path] %[query]\"", "GET /p/x?id=7&k=v /p/x id=7&k=v");
    CHECK(REQ "\"%HM %HU %HP%HQ %HV\"", "GET /orig?o=1 /orig?o=1 HTTP/1.1");
    CHECK(REQ "%[req.ver]", "1.1");
    CHECK(REQ "%[req.cook(sid)]/%[cook(a)]/%[cook(none)]", "last/1/");
    CHECK(REQ "\"%[capture.req.method] %[capture.req.uri] %[capture.req.ver]\"",
          "GET /orig?o=1 HTTP/1.1");
    CHECK(REQ "%[url_param(k)]%[urlp(id)]%[url_param(zz)]", "v7");
    CHECK(REQ "\"%f/%b %[fe_name]/%[be_name]\"", "f/b f/b");
    CHECK(REQ "t=%Ts%ms", "t=1700000000042");
    CHECK(REQ "100%%", "100%"); /* literal only: no samples */
    CHECK(REQ "%%[src]", "%[src]");
    CHECK(REQ "\"a %[src] b\"", "a 192.0.2.1 b");
    CHECK(REQ "%[dst]", "");            /* no socket in this test */
    CHECK(REQ "%[src()]", "192.0.2.1"); /* empty parentheses, as HAProxy writes uuid() */
    char a[64], b[64];
    snprintf(a, sizeof(a), "%s", expand(REQ "%[uuid]", 511));
    snprintf(b, sizeof(b), "%s", expand(REQ "%[uuid(4)]", 511));
    for (const char *u = a; u; u = u == a ? b : NULL) {
        bool ok = strlen(u) == 36 && u[8] == '-' && u[13] == '-' && u[14] == '4' && u[18] == '-' &&
                  strchr("89ab", u[19]) && u[23] == '-' && strspn(u, "0123456789abcdef-") == 36;
        if (!ok)
            fprintf(stderr, "\n%%[uuid] gave '%s'\n", u);
        CU_ASSERT(ok);
    }
    CU_ASSERT_STRING_NOT_EQUAL(a, b); /* one per expansion */
}

static void test_response_samples(void)
{
    CHECK(RES "\"%[status] %ST\"", "201 201");
    CHECK(RES "\"%s %[srv_name]\"", "s1 s1");
    CHECK(RES "%[res.hdr(server),lower]", "py/1.0");
    CHECK(RES "%[hdr(set-cookie)]", "b=2"); /* hdr() in a response rule: the response's */
    CHECK(RES "%[res.fhdr(set-cookie,1)]", "a=1");
    CHECK(RES "\"%[req.hdr(host)] %[path]\"", "WWW.Example.COM /p/x"); /* the request too */
}

static void test_overflow(void)
{
    const char *got = expand(REQ "%[req.hdr(host)]", 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, "<overflow>");
    got = expand(REQ "%[req.hdr(host)]", 15);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, "WWW.Example.COM");
}

static void test_errors(void)
{
    static const struct {
        const char *rule, *msg;
    } cases[] = {
        {REQ "%[nope]", "t.ini:5: unknown sample 'nope' in header value '%[nope]' (expected src,"},
        {REQ "%[src", "t.ini:5: '%[' without a closing ']' in header value '%[src'"},
        {REQ "%[req.hdr]", "t.ini:5: sample 'req.hdr' needs an argument"},
        {REQ "%[src(x)]", "t.ini:5: sample 'src' takes no argument"},
        {REQ "%[uuid(7)]", "t.ini:5: sample 'uuid' takes no argument in header value '%[uuid(7)]' "
                           "(expected 'uuid', 'uuid()' or 'uuid(4)')"},
        {REQ "\"%[req.hdr(a b)]\"", "t.ini:5: invalid character ' ' in 'req.hdr()'"},
        {REQ "%[req.hdr(x,2000)]", "t.ini:5: invalid occurrence in 'req.hdr(x,2000)'"},
        {REQ "%[req.hdr(x,)]", "t.ini:5: invalid occurrence in 'req.hdr(x,)'"},
        {REQ "\"a\\x01%[src]\"",
         "t.ini:5: header value 'a\x01%[src]' contains a control character"},
        {REQ "\"a\\x01\"", "t.ini:5: header value 'a\x01' contains a control character"},
        {REQ "%1", "t.ini:5: unknown log-format variable '%1' in header value '%1'"},
        {REQ "%[req.hdr(x,z)]", "t.ini:5: invalid occurrence in 'req.hdr(x,z)'"},
        {REQ "%[req.hdr(x),base64]", "t.ini:5: unknown converter 'base64' in header value"},
        {REQ "%[src,lower,lower,lower,lower]", "t.ini:5: too many converters after 'src'"},
        {REQ "%[url_param(a=b)]", "t.ini:5: invalid character '=' in 'url_param()'"},
        {REQ "%[cook(a/b)]", "t.ini:5: invalid character '/' in 'cook()' of header value "
                             "'%[cook(a/b)]' (expected a cookie name)"},
        {REQ "%[status]", "t.ini:5: sample 'status' in header value '%[status]' is known only "
                          "once the server answered (expected it in an http-response rule)"},
        {REQ "%[res.hdr(server)]", "t.ini:5: sample 'res.hdr' in header value"},
        {REQ "%s", "t.ini:5: '%s' in header value '%s' is known only once the server answered"},
        {REQ "%zz", "t.ini:5: unknown log-format variable '%zz' in header value '%zz' (expected "
                    "%ci, %cp,"},
        {REQ "50%", "t.ini:5: unknown log-format variable '%' in header value '50%'"},
        {REQ "%{+Q}[src]", "t.ini:5: log-format flags ('%{...}') in header value"},
        {REQ "%[src]x)", NULL}, /* a ')' outside a sample is text */
        {REQ "%[var(proc.x)]", "t.ini:5: variable 'proc.x' in header value '%[var(proc.x)]': "
                               "scope 'proc' is not supported (sluice has no process-wide"},
        {REQ "%[var(x)]", "t.ini:5: variable 'x' in header value '%[var(x)]' has no known scope"},
        {REQ "%[var(txn.)]", "t.ini:5: variable 'txn.' in header value '%[var(txn.)]' has no name"},
        {REQ "%[var(txn.a-b)]", "t.ini:5: invalid character '-' in variable 'txn.a-b'"},
        {REQ "%[var]", "t.ini:5: sample 'var' needs an argument"},
        {REQ "%[int(12x)]", "t.ini:5: invalid integer '12x' in 'int()'"},
        {REQ "%[int(99999999999999999999)]", "t.ini:5: invalid integer"},
        {"http-request set-var(txn.x)", "t.ini:5: 'http-request set-var' needs an expression"},
        {"http-request set-var(txn.x) = nope", "t.ini:5: unknown sample 'nope' in set-var"},
        {"http-request set-var(txn.x) = src]x", "t.ini:5: 'http-request set-var' takes one sample"},
        {"http-request set-var(sess.x) = src foo", "t.ini:5: unexpected 'foo'"},
        {"http-request set-var = src", "t.ini:5: 'http-request set-var' needs a variable"},
        {"http-request unset-var(proc.x)", "t.ini:5: variable 'proc.x' in http-request unset-var"},
        {"http-request unset-var(txn.x) = src", "t.ini:5: unexpected 'src'"},
        {"acl = v var(proc.y) -m found", "t.ini:5: variable 'proc.y' in ACL criterion"},
        {"acl = v var() -m found", "t.ini:5: ACL criterion 'var()' needs a name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = expand(cases[i].rule, 511);
        if (!cases[i].msg) {
            CU_ASSERT_PTR_NOT_NULL(got);
            continue;
        }
        bool ok = !got && strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0;
        if (!ok)
            fprintf(stderr, "\n'%s': got '%s', wanted '%s...'\n", cases[i].rule,
                    got ? "(loaded)" : err, cases[i].msg);
        CU_ASSERT(ok);
    }
}

/* set-var / unset-var rules run in order on a session's variables (vars.c); var() samples,
 * str() and int() expand in header values, var() ACLs match; request-scope values go at the
 * request's end, session-scope ones at close. */
static void test_vars(void)
{
    static const char text[] =
        "[frontend f]\nmode = http\nbind = :80\ndefault_backend = b\n"
        "http-request set-var(txn.host) = req.hdr(host),lower\n"
        "http-request set-var(sess.n) = int(-007)\n"
        "http-request set-var(txn.gone) = str(x)\n"
        "http-request set-var(txn.none) = req.hdr(x-none)\n"
        "http-request unset-var(txn.gone)\n"
        "http-request set-var(req.empty) = str()\n"
        "http-request set-var(txn.host) = req.hdr(x-none)\n" /* fails: the value stays */
        "http-request set-header = X-T \"%[var(txn.host)]|%[var(sess.n)]|%[var(txn.none)]|"
        "%[str(a b),upper]|%[var(txn.gone)]|<%[var(req.empty)]>|%[var(txn.host),upper]\"\n"
        "acl = is_ex var(txn.host) -m end .example.com\n"
        "acl = neg var(sess.n) -m int lt 0\n"
        "acl = gone var(txn.gone) -m found\n"
        "acl = empty var(req.empty) -m found\n"
        "[backend b]\nmode = http\nserver = s1 127.0.0.1:1\n";
    struct config *cfg;
    int rc = config_load_string("t.ini", text, &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(cfg->nvars, 5); /* txn.host counted once */
    CU_ASSERT_STRING_EQUAL(cfg->vars[0].name, "txn.host");
    CU_ASSERT_EQUAL(cfg->vars[1].scope, CFG_VAR_SESS);
    CU_ASSERT_EQUAL(cfg->vars[4].scope, CFG_VAR_REQ);
    const struct cfg_http *h = &cfg->proxies[0].http;
    CU_ASSERT_EQUAL_FATAL(h->nreq_rules, 8);
    struct http_vars vs = {0};
    struct acl_ctx req = {.hdr_next = fields_next, .msg = (void *)&req_fields, .vars = &vs};
    struct fmt_ctx c = {.req = &req, .vars = &vs};
    const struct cfg_acl *a = h->acls;
    CU_ASSERT_FALSE(acl_entry_match(&a[0], &req)); /* nothing set: the fetch fails */
    for (size_t i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(http_vars_rule(&vs, cfg, &h->req_rules[i], &c), 0);
    CU_ASSERT_EQUAL_FATAL(vs.n, 5);
    char out[256];
    ssize_t n = fmt_expand(h->req_rules[7].fmt, &c, out, sizeof(out) - 1);
    CU_ASSERT_FATAL(n > 0);
    out[n] = '\0';
    CU_ASSERT_STRING_EQUAL(out, "www.example.com|-7||A B||<>|WWW.EXAMPLE.COM");
    CU_ASSERT_TRUE(acl_entry_match(&a[0], &req));
    CU_ASSERT_TRUE(acl_entry_match(&a[1], &req));
    CU_ASSERT_FALSE(acl_entry_match(&a[2], &req)); /* unset */
    CU_ASSERT_TRUE(acl_entry_match(&a[3], &req));  /* set, empty */
    http_vars_end(&vs, false);                     /* the request ends */
    n = fmt_expand(h->req_rules[7].fmt, &c, out, sizeof(out) - 1);
    CU_ASSERT_FATAL(n > 0);
    out[n] = '\0';
    CU_ASSERT_STRING_EQUAL(out, "|-7||A B||<>|");
    CU_ASSERT_FALSE(acl_entry_match(&a[0], &req));
    CU_ASSERT_TRUE(acl_entry_match(&a[1], &req));
    http_vars_end(&vs, true); /* the connection closes */
    CU_ASSERT_PTR_NULL(vs.v);
    CU_ASSERT_FALSE(acl_entry_match(&a[1], &req));
    config_free(cfg);
}

/* unique-id-format is parsed once and copied into every section that inherits it from
 * [defaults] (each owns its copy: config_free frees them all once, which ASan checks). */
static void test_unique_id_inherited(void)
{
    static const char text[] = "[defaults]\nmode = http\nunique-id-format = %[uuid()]-%ci\n"
                               "unique-id-header = X-ID\n"
                               "[frontend f1]\nbind = :80\ndefault_backend = b\n"
                               "[frontend f2]\nbind = :81\ndefault_backend = b\n"
                               "unique-id-format = id-%cp\n"
                               "[backend b]\nserver = s1 127.0.0.1:1\n";
    struct config *cfg;
    int rc = config_load_string("t.ini", text, &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const struct cfg_http *h1 = &cfg->proxies[0].http, *h2 = &cfg->proxies[1].http;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h1->unique_id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h2->unique_id);
    CU_ASSERT_EQUAL(h1->unique_id->nparts, 3);
    CU_ASSERT_EQUAL(h1->unique_id->parts[0].sample, FMT_UUID);
    CU_ASSERT_EQUAL(h2->unique_id->nparts, 2);
    CU_ASSERT_EQUAL(h2->unique_id->parts[1].sample, FMT_SRC_PORT);
    CU_ASSERT_STRING_EQUAL(h1->unique_id_header, "X-ID");
    CU_ASSERT_STRING_EQUAL(h2->unique_id_header, "X-ID");
    config_free(cfg);
}

/* A section holds at most CFG_HTTP_EDITS_MAX header rules per list: a message collects the
 * frontend's and the backend's, and none may be dropped (a dropped del-header would forward what
 * it should remove). */
static void test_edits_limit(void)
{
    char rules[8192] = "";
    size_t n = 0;
    for (int i = 0; i < CFG_HTTP_EDITS_MAX; i++)
        n += (size_t)snprintf(rules + n, sizeof(rules) - n,
                              "http-request set-header = X-%d %%[src]\n", i);
    CU_ASSERT_PTR_NOT_NULL(expand(rules, 511));
    snprintf(rules + n, sizeof(rules) - n, "http-request del-header = X-Admin\n");
    CU_ASSERT_PTR_NULL(expand(rules, 511));
    char want[160];
    snprintf(want, sizeof(want),
             "t.ini:%d: too many header rules in this section (expected at most %d set-header",
             5 + CFG_HTTP_EDITS_MAX, CFG_HTTP_EDITS_MAX);
    if (strncmp(err, want, strlen(want)) != 0)
        fprintf(stderr, "\ngot '%s'\nwanted '%s...'\n", err, want);
    CU_ASSERT_NSTRING_EQUAL(err, want, strlen(want));
}

/* Deleting a hop-by-hop field is accepted (it is never forwarded anyway); setting one is not. */
static void test_hop_by_hop_delete(void)
{
    CU_ASSERT_PTR_NOT_NULL(expand("http-request del-header = Connection\n"
                                  "http-request set-header = X-T v",
                                  511));
    CU_ASSERT_PTR_NULL(expand("http-request set-header = Connection close", 511));
}

/* scripts/haproxy2ini carries samples in set-header/add-header values, and reports them
 * anywhere else. */
static void test_haproxy2ini(void)
{
    struct h2i r;
    CU_ASSERT_EQUAL_FATAL(h2i_run(&r, "frontend web\n"                                   /* 1 */
                                      "    mode http\n"                                  /* 2 */
                                      "    bind :8081\n"                                 /* 3 */
                                      "    http-request set-header X-Real-IP %[src]\n"   /* 4 */
                                      "    http-response add-header X-By %s\n"           /* 5 */
                                      "    http-request redirect location %[url]\n"      /* 6 */
                                      "    http-request set-header X-Q %{+Q}[src]\n"     /* 7 */
                                      "    http-request set-header Connection upgrade\n" /* 8 */
                                      "    default_backend h\n"                          /* 9 */
                                      "backend h\n"                                      /* 10 */
                                      "    mode http\n"                                  /* 11 */
                                      "    server h1 10.0.0.2:80\n"),                    /* 12 */
                          0);
    CU_ASSERT_EQUAL(r.status, 1); /* lines 7 and 8 were left out */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "http-request set-header = X-Real-IP %[src]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "http-response add-header = X-By %s"));
    CU_ASSERT_FALSE(h2i_mentions(&r, 4));
    CU_ASSERT_FALSE(h2i_mentions(&r, 5));
    CU_ASSERT_FALSE(h2i_mentions(&r, 6));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "http-request redirect = location %[url]"));
    CU_ASSERT_TRUE(h2i_left_out(&r, 7));
    CU_ASSERT_TRUE(h2i_left_out(&r, 8)); /* sluice writes Connection itself */
    struct config *cfg;                  /* and sluice loads what it wrote */
    int rc = config_load_string("t.ini", r.ini, &cfg, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    config_free(cfg);
}

int suite_fmt(void)
{
    CU_pSuite s = CU_add_suite("fmt", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "request_samples", test_request_samples);
    CU_add_test(s, "response_samples", test_response_samples);
    CU_add_test(s, "overflow", test_overflow);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "vars", test_vars);
    CU_add_test(s, "edits_limit", test_edits_limit);
    CU_add_test(s, "unique_id_inherited", test_unique_id_inherited);
    CU_add_test(s, "hop_by_hop_delete", test_hop_by_hop_delete);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    return CU_get_error();
}
