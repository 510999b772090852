/* Unit tests of error pages in the configuration: [http-errors] sections, errorfiles, and which
 * page wins for a status (HAProxy's order: [defaults] first, then the later statement). */
#include "config/config_internal.h"

#include "cfg_load.h"
#include "h2i.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Pages told apart by their reason phrase; written to temporary files by pages_write(). */
enum { PAGE_SET_503, PAGE_SET_404, PAGE_OWN_503, PAGE_OWN_404, PAGE_OTHER_503, NPAGES };
static const char *const page_text[NPAGES] = {
    "HTTP/1.1 503 set\r\ncontent-length: 0\r\n\r\n",
    "HTTP/1.1 404 set\r\ncontent-length: 0\r\n\r\n",
    "HTTP/1.1 503 own\r\ncontent-length: 0\r\n\r\n",
    "HTTP/1.1 404 own\r\ncontent-length: 0\r\n\r\n",
    "HTTP/1.1 503 other\r\ncontent-length: 0\r\n\r\n",
};
static char page[NPAGES][64];

static void pages_write(void)
{
    for (int i = 0; i < NPAGES; i++)
        cfg_temp_file(page[i], page_text[i]);
}

static void pages_remove(void)
{
    for (int i = 0; i < NPAGES; i++)
        unlink(page[i]);
}

/* The text of the page a proxy answers `status` with, "" when it has none of its own. */
static const char *page_of(const struct cfg_proxy *p, int status)
{
    for (size_t i = 0; i < p->http.nerrorfiles; i++)
        if (p->http.errorfiles[i].status == status)
            return p->http.errorfiles[i].data;
    return "";
}

/* Load [http-errors site] (503 and 404) and [http-errors other] (503) followed by `rest`. */
static struct config *load_sets(const char *rest)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "[http-errors site]\nerrorfile = 503 %s\nerrorfile = 404 %s\n"
             "[http-errors other]\nerrorfile = 503 %s\n%s",
             page[PAGE_SET_503], page[PAGE_SET_404], page[PAGE_OTHER_503], rest);
    return cfg_load_ok(text);
}

static void test_section(void)
{
    pages_write();
    char text[1024];
    /* a later errorfile for the same status replaces the earlier one, as in HAProxy */
    snprintf(text, sizeof(text),
             "[http-errors site]\nerrorfile = 503 %s\nerrorfile = 404 %s\nerrorfile = 503 %s\n"
             "[listen l]\nmode = http\nbind = :1\nserver = s 127.0.0.1:1\n",
             page[PAGE_SET_503], page[PAGE_SET_404], page[PAGE_OWN_503]);
    struct config *cfg = cfg_load_ok(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL_FATAL(cfg->nhttp_errors, 1);
    const struct cfg_http_errors *set = &cfg->http_errors[0];
    CU_ASSERT_STRING_EQUAL(set->name, "site");
    CU_ASSERT_EQUAL(set->line, 1);
    CU_ASSERT_EQUAL_FATAL(set->nfiles, 2);
    CU_ASSERT_STRING_EQUAL(set->files[0].data, page_text[PAGE_OWN_503]);
    CU_ASSERT_STRING_EQUAL(set->files[1].data, page_text[PAGE_SET_404]);
    CU_ASSERT_EQUAL(cfg->proxies[0].http.nerrorfiles, 0); /* nothing imported it */
    config_free(cfg);

    /* an empty set, and a native haproxy.cfg line inside a set */
    snprintf(text, sizeof(text),
             "[http-errors empty]\n[http-errors native]\nerrorfile 503 %s\n"
             "[listen l]\nmode = http\nbind = :1\nserver = s 127.0.0.1:1\nerrorfiles = empty\n"
             "errorfiles native\n",
             page[PAGE_SET_503]);
    cfg = cfg_load_ok(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_EQUAL(cfg->http_errors[0].nfiles, 0);
    CU_ASSERT_STRING_EQUAL(page_of(&cfg->proxies[0], 503), page_text[PAGE_SET_503]);
    config_free(cfg);
    pages_remove();
}

static void test_import(void)
{
    pages_write();
    /* all the codes of a set, or only those listed; a set declared below the proxy */
    struct config *cfg =
        load_sets("[frontend all]\nmode = http\nbind = :1\ndefault_backend = b\n"
                  "errorfiles = site\n"
                  "[frontend some]\nmode = http\nbind = :2\ndefault_backend = b\n"
                  "errorfiles = site 404 404\n"
                  "[frontend below]\nmode = http\nbind = :3\ndefault_backend = b\n"
                  "errorfiles = later 503\n"
                  "[backend b]\nmode = http\nserver = s 127.0.0.1:1\n"
                  "[http-errors later]\nerrorfile = 503 examples/errors/503.http\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_proxy *all = &cfg->proxies[0], *some = &cfg->proxies[1],
                           *below = &cfg->proxies[2];
    CU_ASSERT_EQUAL(all->http.nerrorfiles, 2);
    CU_ASSERT_STRING_EQUAL(page_of(all, 503), page_text[PAGE_SET_503]);
    CU_ASSERT_STRING_EQUAL(page_of(all, 404), page_text[PAGE_SET_404]);
    CU_ASSERT_EQUAL(some->http.nerrorfiles, 1);
    CU_ASSERT_STRING_EQUAL(page_of(some, 404), page_text[PAGE_SET_404]);
    CU_ASSERT_EQUAL(strncmp(page_of(below, 503), "HTTP/1.1 503 Service Unavailable", 32), 0);
    /* each proxy owns its copy */
    CU_ASSERT_PTR_NOT_EQUAL(all->http.errorfiles[0].data, cfg->http_errors[0].files[0].data);
    config_free(cfg);
    pages_remove();
}

/* For a status, the later statement wins: errorfile or errorfiles, in a section or inherited. */
static void test_precedence(void)
{
    pages_write();
    char text[2048];
    snprintf(text, sizeof(text),
             "[defaults]\nmode = http\nerrorfiles = site\nerrorfile = 404 %s\n"
             /* inherited: the set's 503, the defaults' own 404 (declared after the import) */
             "[frontend inherit]\nbind = :1\ndefault_backend = b\n"
             /* own errorfile after the inherited import */
             "[frontend own_after]\nbind = :2\ndefault_backend = b\nerrorfile = 503 %s\n"
             /* own import after own errorfile: the set wins */
             "[frontend import_after]\nbind = :3\ndefault_backend = b\nerrorfile = 503 %s\n"
             "errorfiles = other 503\n"
             /* own import of all codes overrides the inherited errorfile 404 */
             "[frontend reimport]\nbind = :4\ndefault_backend = b\nerrorfiles = site\n"
             "[backend b]\nserver = s 127.0.0.1:1\n",
             page[PAGE_OWN_404], page[PAGE_OWN_503], page[PAGE_OWN_503]);
    struct config *cfg = load_sets(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_proxy *p = cfg->proxies;
    CU_ASSERT_STRING_EQUAL(page_of(&p[0], 503), page_text[PAGE_SET_503]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[0], 404), page_text[PAGE_OWN_404]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[1], 503), page_text[PAGE_OWN_503]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[1], 404), page_text[PAGE_OWN_404]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[2], 503), page_text[PAGE_OTHER_503]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[2], 404), page_text[PAGE_OWN_404]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[3], 503), page_text[PAGE_SET_503]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[3], 404), page_text[PAGE_SET_404]);
    CU_ASSERT_STRING_EQUAL(page_of(&p[4], 503), page_text[PAGE_SET_503]); /* the backend */
    config_free(cfg);

    /* `from` a named [defaults] that itself imports */
    snprintf(text, sizeof(text),
             "[defaults web]\nmode = http\nerrorfiles = site 503\n"
             "[defaults more from web]\nerrorfile = 503 %s\n"
             "[listen a from web]\nbind = :1\nserver = s 127.0.0.1:1\n"
             "[listen b from more]\nbind = :2\nserver = s 127.0.0.1:1\n",
             page[PAGE_OWN_503]);
    cfg = load_sets(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    CU_ASSERT_STRING_EQUAL(page_of(&cfg->proxies[0], 503), page_text[PAGE_SET_503]);
    CU_ASSERT_STRING_EQUAL(page_of(&cfg->proxies[0], 404), "");
    CU_ASSERT_STRING_EQUAL(page_of(&cfg->proxies[1], 503), page_text[PAGE_OWN_503]);
    config_free(cfg);
    pages_remove();
}

/* `http-request return` with an error page: a file, a set's page (else the proxy's), the proxy's.
 */
static void test_return(void)
{
    pages_write();
    char text[1024];
    snprintf(text, sizeof(text),
             "[listen l]\nmode = http\nbind = :1\nserver = s 127.0.0.1:1\n"
             "http-request return = status 503 errorfiles site if { path /a }\n"
             "http-request return = status 404 errorfiles other if { path /b }\n"
             "http-request return = errorfile %s status 503 if { path /c }\n"
             "http-request return = status 403 default-errorfiles\n",
             page[PAGE_OWN_503]);
    struct config *cfg = load_sets(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    const struct cfg_http *h = &cfg->proxies[0].http;
    CU_ASSERT_EQUAL_FATAL(h->nreq_rules, 4);
    const struct cfg_http_rule *r = h->req_rules;
    CU_ASSERT_EQUAL(r[0].page, HTTP_RET_PAGE);
    CU_ASSERT_STRING_EQUAL(r[0].value, page_text[PAGE_SET_503]);
    CU_ASSERT_EQUAL(r[0].value_len, strlen(page_text[PAGE_SET_503]));
    CU_ASSERT_EQUAL(r[1].page, HTTP_RET_ERROR_PAGE); /* `other` has no 404: the proxy's page */
    CU_ASSERT_EQUAL(r[1].status, 404);
    CU_ASSERT_EQUAL(r[2].page, HTTP_RET_PAGE);
    CU_ASSERT_STRING_EQUAL(r[2].value, page_text[PAGE_OWN_503]);
    CU_ASSERT_EQUAL(r[2].status, 503);
    CU_ASSERT_EQUAL(r[3].page, HTTP_RET_ERROR_PAGE);
    CU_ASSERT_EQUAL(r[3].status, 403);
    config_free(cfg);
    pages_remove();
}

/* Bad sections and statements, with the line and the message the operator sees. */
static void test_errors(void)
{
#define SITE   "[http-errors site]\nerrorfile = 503 examples/errors/503.http\n"
#define LISTEN "[listen l]\nmode = http\nbind = :1\nserver = s 127.0.0.1:1\n"
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {SITE LISTEN "errorfiles = sitee\n",
         "t.ini:7: errorfiles: unknown http-errors section 'sitee' (did you mean 'site'? "
         "expected the name of an [http-errors NAME] section)"},
        {LISTEN "errorfiles = site\n",
         "t.ini:5: errorfiles: unknown http-errors section 'site' (expected the name of an "
         "[http-errors NAME] section)"},
        {SITE LISTEN "errorfiles = site 503 404\n",
         "t.ini:7: errorfiles: http-errors section 'site' (line 1) has no errorfile for status "
         "404 (expected one of its codes: 503; or no code, to import them all)"},
        {SITE LISTEN "errorfiles = site 418\n",
         "t.ini:7: errorfiles: no error page for status 418 (expected 200, 400, 401"},
        {SITE LISTEN "errorfiles = site 50x\n", "t.ini:7: invalid status code '50x'"},
        {SITE LISTEN "errorfiles =\n", "t.ini:7: 'errorfiles' needs an argument (expected "
                                       "'errorfiles <name> [<code> ...]')"},
        /* a mistyped name in [defaults] is refused even when nothing inherits it */
        {SITE "[defaults]\nerrorfiles = stie\n" LISTEN,
         "t.ini:4: errorfiles: unknown http-errors section 'stie' (did you mean 'site'?"},
        {"[global]\nerrorfiles = site\n" LISTEN,
         "t.ini:2: 'errorfiles' is not allowed in a [global] section"},
        /* the sections */
        {SITE SITE LISTEN, "t.ini:3: duplicate http-errors section 'site' (first declared at "
                           "line 1; expected unique names)"},
        {"[http-errors]\n" LISTEN, "t.ini:1: [http-errors] needs a name (expected [http-errors "
                                   "NAME])"},
        {"[http-errors a from b]\n" LISTEN,
         "t.ini:1: [http-errors] sections do not inherit (expected [http-errors NAME])"},
        {"[http-errors a/b]\n" LISTEN, "t.ini:1: invalid character '/' in section name 'a/b'"},
        {"[http-error site]\n" LISTEN,
         "t.ini:1: unknown section type 'http-error' (did you mean 'http-errors'?"},
        {SITE "bind = :80\n" LISTEN, "t.ini:3: 'bind' is not allowed in a [http-errors] section "
                                     "(allowed in [frontend], [listen])"},
        {SITE "errorfiles = site\n" LISTEN,
         "t.ini:3: 'errorfiles' is not allowed in a [http-errors] section"},
        {SITE "nameserver = a 127.0.0.1\n" LISTEN,
         "t.ini:3: 'nameserver' is not allowed in a [http-errors] section"},
        {SITE "errorfile = 418 examples/errors/503.http\n" LISTEN,
         "t.ini:3: no error page for status 418"},
        {SITE "errorfile = 404 /nonexistent/404.http\n" LISTEN,
         "t.ini:3: cannot read error file '/nonexistent/404.http' (No such file or directory)"},
        {SITE "errorfile = 404 examples/http-routing.ini\n" LISTEN,
         "t.ini:3: error file 'examples/http-routing.ini' is not an HTTP response"},
        {SITE "foo = bar\n" LISTEN, "t.ini:3: unknown keyword 'foo' in section [http-errors site]"},
        /* http-request return with an error page */
        {SITE LISTEN "http-request return = status 503 errorfiles stie\n",
         "t.ini:7: errorfiles: unknown http-errors section 'stie' (did you mean 'site'?"},
        {SITE LISTEN "http-request return = status 503 content-type text/plain errorfiles site\n",
         "t.ini:7: 'http-request return' with an error page takes no content-type"},
        {SITE LISTEN "http-request return = status 418 errorfiles site\n",
         "t.ini:7: 'http-request return': no error page for status 418"},
        {SITE LISTEN "http-request return = default-errorfiles status 302\n",
         "t.ini:7: 'http-request return': no error page for status 302"},
        {SITE LISTEN "http-request return = errorfile\n",
         "t.ini:7: 'errorfile' in 'http-request return' needs a value (expected 'errorfile "
         "FILE')"},
        {SITE LISTEN "http-request return = errorfiles if TRUE\n",
         "t.ini:7: 'errorfiles' in 'http-request return' needs a value"},
        {SITE LISTEN "http-request return = string x errorfiles site\n",
         "t.ini:7: 'http-request return' has two bodies"},
        {SITE LISTEN "http-request return = errorfile examples/http-routing.ini\n",
         "t.ini:7: error file 'examples/http-routing.ini' is not an HTTP response"},
        {SITE LISTEN "http-request return = status 204 errorfile examples/errors/503.http\n",
         "t.ini:7: status 204 cannot have a body"},
    };
#undef SITE
#undef LISTEN
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cfg_load_err(cases[i].text, cases[i].expect);
}

/* scripts/haproxy2ini carries http-errors sections and errorfiles statements over. */
static void test_haproxy2ini(void)
{
    struct h2i r;
    int rc = h2i_run(&r, "http-errors site\n"                           /* 1 */
                         "    errorfile 503 examples/errors/503.http\n" /* 2 */
                         "    errorfile 404 /dev/null\n"                /* 3 */
                         "    errorloc 302 http://example.com/\n"       /* 4: not in a set */
                         "defaults\n"                                   /* 5 */
                         "    mode http\n"                              /* 6 */
                         "    errorfiles site 404\n"                    /* 7 */
                         "listen l\n"                                   /* 8 */
                         "    bind :8080\n"                             /* 9 */
                         "    errorfile 404 examples/errors/503.http\n" /* 10 */
                         "    errorfiles site\n"                        /* 11 */
                         "    server s1 127.0.0.1:9001\n");             /* 12 */
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "[http-errors site]\nerrorfile = 503 "
                                         "examples/errors/503.http\nerrorfile = 404 /dev/null\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "errorfiles = site 404\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ini, "errorfiles = site\n"));
    CU_ASSERT_TRUE(h2i_left_out(&r, 4));
    for (int line = 1; line <= 12; line++)
        if (line != 4)
            CU_ASSERT_FALSE(h2i_mentions(&r, line));
    struct config *cfg = cfg_load_ok(r.ini);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
    /* line 11 imports after line 10: both pages from the set */
    CU_ASSERT_EQUAL(strncmp(page_of(&cfg->proxies[0], 503), "HTTP/1.1 503", 12), 0);
    CU_ASSERT_EQUAL(cfg->proxies[0].http.nerrorfiles, 2);
    CU_ASSERT_STRING_EQUAL(page_of(&cfg->proxies[0], 404), ""); /* /dev/null: close */
    config_free(cfg);
}

int suite_config_errors(void)
{
    CU_pSuite s = CU_add_suite("config_errors", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "section", test_section);
    CU_add_test(s, "import", test_import);
    CU_add_test(s, "precedence", test_precedence);
    CU_add_test(s, "return", test_return);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "haproxy2ini", test_haproxy2ini);
    return CU_get_error();
}
