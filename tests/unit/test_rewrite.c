/* Unit tests of net/http/rewrite.c: replacement expansion, replace-header / replace-value on field
 * values, set-path / replace-path / set-query on request targets. Rules are written as config
 * lines and loaded by config/, so what the parser keeps is what the worker runs. */
#include "config/model.h"
#include "net/http/acl.h"
#include "net/http/rewrite.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct config *cfg;

/* The http-request rules of one [frontend], from `lines` (one rule each). */
static const struct cfg_http_rule *load_rules(const char *lines)
{
    char text[2048], err[512];
    snprintf(text, sizeof(text),
             "[frontend f]\nmode = http\nbind = :80\ndefault_backend = b\n%s"
             "[backend b]\nmode = http\nserver = s1 127.0.0.1:1\n",
             lines);
    config_free(cfg);
    cfg = NULL;
    if (config_load_string("t.ini", text, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "\nunexpected error: %s\n", err);
        CU_FAIL_FATAL("config did not load");
    }
    return cfg->proxies[0].http.req_rules;
}

/* http_rw_value as a string ("" plus the error code when it fails). */
static const char *value(const struct cfg_http_rule *r, const char *v, size_t cap, int *rc)
{
    static char out[256];
    void *md = acl_worker_match_data_new();
    int n = http_rw_value(r, v, strlen(v), out, cap < sizeof(out) ? cap : sizeof(out) - 1, md);
    acl_worker_match_data_free(md);
    *rc = n;
    out[n > 0 ? n : 0] = '\0';
    return out;
}

static void test_expand(void)
{
    /* "abcd" matched at 1..3 with group 1 at 2..3, group 2 unset */
    const size_t ov[] = {1, 3, 2, 3, (size_t)-1, (size_t)-1};
    char out[32];
    int n = http_rw_expand(out, sizeof(out), "<\\0|\\1|\\2|\\3|\\\\|\\x41\\q>", "abcd", ov, 3);
    CU_ASSERT_EQUAL_FATAL(n, 13);
    CU_ASSERT_EQUAL(memcmp(out, "<bc|c|||\\|Aq>", 13), 0);
    CU_ASSERT_EQUAL(http_rw_expand(out, 3, "\\0\\0", "abcd", ov, 3), -ENOSPC);
    CU_ASSERT_EQUAL(http_rw_expand(out, 4, "\\0\\0", "abcd", ov, 3), 4);
}

static void test_replace_header(void)
{
    const struct cfg_http_rule *r =
        load_rules("http-request replace-header = X-H b(.) <\\\\1>\n" /* HAProxy: a search */
                   "http-request replace-header = X-H ^(.*)\\\\.internal$ \\\\1.example.com\n"
                   "http-request replace-header = X-H ^(.*)$ \"[\\\\1]\"\n");
    int rc;
    CU_ASSERT_EQUAL(r[0].action, HTTP_ACT_REPLACE_HEADER);
    CU_ASSERT_STRING_EQUAL(r[0].name, "X-H");
    CU_ASSERT_STRING_EQUAL(r[0].value, "<\\1>");
    CU_ASSERT_PTR_NOT_NULL(r[0].re);
    /* the match anywhere replaces the whole value */
    CU_ASSERT_STRING_EQUAL(value(&r[0], "abcd", 256, &rc), "<c>");
    CU_ASSERT_EQUAL(rc, 3);
    CU_ASSERT_STRING_EQUAL(value(&r[0], "xyz", 256, &rc), "xyz"); /* no match: unchanged */
    CU_ASSERT_STRING_EQUAL(value(&r[1], "api.internal", 256, &rc), "api.example.com");
    CU_ASSERT_STRING_EQUAL(value(&r[1], "api.internal.org", 256, &rc), "api.internal.org");
    /* case-sensitive, as HAProxy */
    CU_ASSERT_STRING_EQUAL(value(&r[1], "api.INTERNAL", 256, &rc), "api.INTERNAL");
    /* a comma-separated value is one subject */
    CU_ASSERT_STRING_EQUAL(value(&r[2], "a, b", 256, &rc), "[a, b]");
    CU_ASSERT_STRING_EQUAL(value(&r[2], "", 256, &rc), "[]");
    /* what a back-reference copies is checked: no control character comes out */
    value(&r[2], "a\001b", 256, &rc);
    CU_ASSERT_EQUAL(rc, -EINVAL);
    value(&r[2], "a\rb", 256, &rc);
    CU_ASSERT_EQUAL(rc, -EINVAL);
    CU_ASSERT_STRING_EQUAL(value(&r[2], "a\tb", 256, &rc), "[a\tb]"); /* HTAB is fine */
    value(&r[2], "abcdef", 7, &rc);
    CU_ASSERT_EQUAL(rc, -ENOSPC);
    CU_ASSERT_STRING_EQUAL(value(&r[2], "abcdef", 8, &rc), "[abcdef]");
}

static void test_replace_value(void)
{
    const struct cfg_http_rule *r =
        load_rules("http-request replace-value = X-FF ^192\\\\.168\\\\.(.*)$ 172.16.\\\\1\n"
                   "http-request replace-value = X-L ^b$ \"x, y\"\n"
                   "http-request replace-value = X-L ^$ empty\n"
                   "http-request replace-value = X-L .* <\\\\0>\n");
    int rc;
    CU_ASSERT_EQUAL(r[0].action, HTTP_ACT_REPLACE_VALUE);
    CU_ASSERT_STRING_EQUAL(value(&r[0], "192.168.10.1, 192.168.13.24,10.0.0.37", 256, &rc),
                           "172.16.10.1, 172.16.13.24,10.0.0.37");
    /* blanks around elements stay; the replacement may itself hold commas */
    CU_ASSERT_STRING_EQUAL(value(&r[1], "a ,  b\t, c", 256, &rc), "a ,  x, y\t, c");
    /* empty elements are left alone */
    CU_ASSERT_STRING_EQUAL(value(&r[2], "a,, b,", 256, &rc), "a,, b,");
    /* a comma inside a quoted string does not split */
    CU_ASSERT_STRING_EQUAL(value(&r[3], "\"p,q\", z", 256, &rc), "<\"p,q\">, <z>");
    value(&r[3], "aaaa, bbbb", 9, &rc);
    CU_ASSERT_EQUAL(rc, -ENOSPC);
}

/* http_rw_target on `target` whose path starts at path_off. */
static const char *target(const struct cfg_http_rule *r, const char *tg, size_t path_off,
                          size_t cap, int *rc)
{
    static char out[256];
    struct http_rw_target t = {.target = tg, .len = strlen(tg), .path_off = path_off};
    const char *p = tg + path_off, *q = strchr(p, '?');
    t.path_len = q ? (size_t)(q - p) : strlen(p);
    t.asterisk = strcmp(tg, "*") == 0;
    void *md = acl_worker_match_data_new();
    int n = http_rw_target(r, &t, out, cap < sizeof(out) ? cap : sizeof(out) - 1, md);
    acl_worker_match_data_free(md);
    *rc = n;
    out[n > 0 ? n : 0] = '\0';
    return out;
}

static void test_target(void)
{
    const struct cfg_http_rule *r =
        load_rules("http-request set-path = /new\n"                        /* 0 */
                   "http-request replace-path = ^/api/v1/(.*) /v1/\\\\1\n" /* 1 */
                   "http-request replace-path = ^/strip(.*) \\\\1\n"       /* 2 */
                   "http-request set-query = lang=en&x=?\n"                /* 3 */
                   "http-request set-query = \"\"\n"                       /* 4 */
                   "http-request replace-path = (.*) \\\\1\\\\1\\\\1\\\\1\\\\1\n" /* 5 */);
    int rc;
    CU_ASSERT_EQUAL(r[0].action, HTTP_ACT_SET_PATH);
    CU_ASSERT_EQUAL(r[1].action, HTTP_ACT_REPLACE_PATH);
    CU_ASSERT_EQUAL(r[3].action, HTTP_ACT_SET_QUERY);
    CU_ASSERT_STRING_EQUAL(r[3].value, "lang=en&x=?");
    CU_ASSERT_STRING_EQUAL(target(&r[0], "/a/b?q=1", 0, 256, &rc), "/new?q=1");
    CU_ASSERT_STRING_EQUAL(target(&r[0], "/a/b", 0, 256, &rc), "/new");
    /* absolute-form: scheme and authority stay */
    CU_ASSERT_STRING_EQUAL(target(&r[0], "http://h:8/a?q", 10, 256, &rc), "http://h:8/new?q");
    CU_ASSERT_STRING_EQUAL(target(&r[0], "http://h?q", 8, 256, &rc), "http://h/new?q");
    /* OPTIONS *: set-path replaces the '*', the others leave it */
    CU_ASSERT_STRING_EQUAL(target(&r[0], "*", 0, 256, &rc), "/new");
    target(&r[1], "*", 0, 256, &rc);
    CU_ASSERT_EQUAL(rc, -ENOENT);
    target(&r[3], "*", 0, 256, &rc);
    CU_ASSERT_EQUAL(rc, -ENOENT);
    CU_ASSERT_STRING_EQUAL(target(&r[1], "/api/v1/users?id=7", 0, 256, &rc), "/v1/users?id=7");
    target(&r[1], "/api/v2/users", 0, 256, &rc);
    CU_ASSERT_EQUAL(rc, -ENOENT);
    /* the regex sees the path only, not the query */
    target(&r[1], "/x?/api/v1/", 0, 256, &rc);
    CU_ASSERT_EQUAL(rc, -ENOENT);
    CU_ASSERT_STRING_EQUAL(target(&r[2], "/strip/x", 0, 256, &rc), "/x");
    target(&r[2], "/stripx", 0, 256, &rc); /* a path must start with '/' */
    CU_ASSERT_EQUAL(rc, -EINVAL);
    target(&r[2], "/strip", 0, 256, &rc);
    CU_ASSERT_EQUAL(rc, -EINVAL);
    CU_ASSERT_STRING_EQUAL(target(&r[3], "/a", 0, 256, &rc), "/a?lang=en&x=?");
    CU_ASSERT_STRING_EQUAL(target(&r[3], "/a?old", 0, 256, &rc), "/a?lang=en&x=?");
    /* an empty query: a '?' stays, none is added */
    CU_ASSERT_STRING_EQUAL(target(&r[4], "/a?old", 0, 256, &rc), "/a?");
    CU_ASSERT_STRING_EQUAL(target(&r[4], "/a", 0, 256, &rc), "/a");
    CU_ASSERT_STRING_EQUAL(target(&r[5], "/ab?q", 0, 256, &rc), "/ab/ab/ab/ab/ab?q");
    target(&r[5], "/ab?q", 0, 16, &rc);
    CU_ASSERT_EQUAL(rc, -ENOSPC);
    CU_ASSERT_STRING_EQUAL(target(&r[5], "/ab?q", 0, 17, &rc), "/ab/ab/ab/ab/ab?q");
    config_free(cfg);
    cfg = NULL;
}

int suite_rewrite(void)
{
    CU_pSuite s = CU_add_suite("rewrite", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "expand", test_expand);
    CU_add_test(s, "replace_header", test_replace_header);
    CU_add_test(s, "replace_value", test_replace_value);
    CU_add_test(s, "target", test_target);
    return CU_get_error();
}
