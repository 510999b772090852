/* HTTP/1.1 parser: smuggling vectors and malformed messages that must be rejected, valid edge
 * cases that must pass, split reads, and the chunked decoder. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http/parse.h"

struct bad {
    const char *msg;
    size_t len;
    int err; /* positive HTTP_E_* */
};
#define B(s, e)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1, e                                                                        \
    }
#define H "Host: a\r\n"

static struct http_msg msg; /* 1.6 KiB: keep it off the stack */

static int req(const char *s)
{
    return http_parse_request(s, strlen(s), 0, &msg);
}

static int resp(const char *s, enum http_method m)
{
    return http_parse_response(s, strlen(s), 0, m, &msg);
}

static bool span_eq(const char *buf, struct http_span sp, const char *want)
{
    return sp.len == strlen(want) && memcmp(buf + sp.off, want, sp.len) == 0;
}

static bool hdr_eq(const char *buf, unsigned i, const char *name, const char *value)
{
    const struct http_hdr *h = &msg.hdr[i];
    return i < msg.nhdr && h->name_len == strlen(name) &&
           !memcmp(buf + h->name_off, name, h->name_len) && h->value_len == strlen(value) &&
           !memcmp(buf + h->value_off, value, h->value_len);
}

/* Request smuggling vectors and malformed requests (CL.TE, TE.CL, TE.TE and friends). */
static const struct bad bad_requests[] = {
    /* Content-Length vs Transfer-Encoding */
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      HTTP_E_CL_AND_TE),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
      HTTP_E_CL_AND_TE),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:  chunked\r\nContent-Length: 0\r\n\r\n",
      HTTP_E_CL_AND_TE),
    /* Transfer-Encoding obfuscation (TE.TE) */
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n", HTTP_E_FIELD_NAME),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding\t: chunked\r\n\r\n", HTTP_E_FIELD_NAME),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      HTTP_E_TE_UNSUP),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
      HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", HTTP_E_TE_UNSUP),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked;q=1\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked,\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunk\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\x0b"
      "chunked\r\n\r\n",
      HTTP_E_FIELD_VALUE),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\x0c\r\n\r\n", HTTP_E_FIELD_VALUE),
    B("POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n", HTTP_E_OBS_FOLD),
    B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_E_TE_HTTP10),
    B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      HTTP_E_TE_HTTP10),
    /* Content-Length */
    B("POST / HTTP/1.1\r\n" H "Content-Length: 1, 2\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
      HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 0x10\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5,\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5,,5\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 1e3\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775808\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999999\r\n\r\n",
      HTTP_E_CONTENT_LENGTH),
    B("POST / HTTP/1.1\r\n" H "Content-Length: 5\x00\r\n\r\n", HTTP_E_FIELD_VALUE),
    B("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 5\r\n\r\n", HTTP_E_CONNECT_BODY),
    B("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nTransfer-Encoding: chunked\r\n\r\n",
      HTTP_E_CONNECT_BODY),
    /* field syntax */
    B("GET / HTTP/1.1\r\n" H "X: a\x00"
      "b\r\n\r\n",
      HTTP_E_FIELD_VALUE),
    B("GET / HTTP/1.1\r\n" H "X: a\x7f"
      "b\r\n\r\n",
      HTTP_E_FIELD_VALUE),
    B("GET / HTTP/1.1\r\n" H "X: a\x1b"
      "b\r\n\r\n",
      HTTP_E_FIELD_VALUE),
    B("GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n", HTTP_E_LINE_ENDING),
    B("GET / HTTP/1.1\r\n" H "X: a\nb: c\r\n\r\n", HTTP_E_LINE_ENDING),
    B("GET / HTTP/1.1\nHost: a\n\n", HTTP_E_LINE_ENDING),
    B("GET / HTTP/1.1\r\nHost: a\n\r\n", HTTP_E_LINE_ENDING),
    B("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", HTTP_E_LINE_ENDING),
    B("GET / HTTP/1.1\r\n" H "\rX\r\n\r\n", HTTP_E_LINE_ENDING),
    B("GET / HTTP/1.1\r\n" H "X-Foo: bar\r\n\tbaz\r\n\r\n", HTTP_E_OBS_FOLD),
    B("GET / HTTP/1.1\r\n" H "X-Foo: bar\r\n baz\r\n\r\n", HTTP_E_OBS_FOLD),
    B("GET / HTTP/1.1\r\n Host: a\r\n\r\n", HTTP_E_OBS_FOLD),
    B("GET / HTTP/1.1\r\n" H ": novalue\r\n\r\n", HTTP_E_FIELD_NAME),
    B("GET / HTTP/1.1\r\n" H "X Y: z\r\n\r\n", HTTP_E_FIELD_NAME),
    B("GET / HTTP/1.1\r\n" H "X-Foo\r\n\r\n", HTTP_E_FIELD_NAME),
    B("GET / HTTP/1.1\r\n" H "X\x7f: z\r\n\r\n", HTTP_E_FIELD_NAME),
    B("GET / HTTP/1.1\r\n" H "X\xc3\xa9: z\r\n\r\n", HTTP_E_FIELD_NAME),
    B("GET / HTTP/1.1\r\n" H "X\x00: z\r\n\r\n", HTTP_E_FIELD_NAME),
    /* request line */
    B("GET /a b HTTP/1.1\r\n" H "\r\n", HTTP_E_VERSION),
    B("GET / http/1.1\r\n" H "\r\n", HTTP_E_VERSION),
    B("GET / HTTP/1.1 \r\n" H "\r\n", HTTP_E_VERSION),
    B("GET / HTTP/1\r\n" H "\r\n", HTTP_E_VERSION),
    B("GET / HTTP/1.10\r\n" H "\r\n", HTTP_E_VERSION),
    B("GET / HTTP/01.1\r\n" H "\r\n", HTTP_E_VERSION),
    B("GET / HTTP/2.0\r\n" H "\r\n", HTTP_E_VERSION_UNSUP),
    B("GET / HTTP/1.2\r\n" H "\r\n", HTTP_E_VERSION_UNSUP),
    B("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP_E_VERSION_UNSUP),
    B("GET  / HTTP/1.1\r\n" H "\r\n", HTTP_E_SYNTAX),
    B("GET /  HTTP/1.1\r\n" H "\r\n", HTTP_E_VERSION),
    B(" GET / HTTP/1.1\r\n" H "\r\n", HTTP_E_SYNTAX),
    B("GET /\r\n" H "\r\n", HTTP_E_SYNTAX),
    B("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", HTTP_E_SYNTAX),
    B("\nGET / HTTP/1.1\r\n" H "\r\n", HTTP_E_SYNTAX),
    B("G@T / HTTP/1.1\r\n" H "\r\n", HTTP_E_METHOD),
    B("GET\t/ HTTP/1.1\r\n" H "\r\n", HTTP_E_METHOD),
    B("GET /a\x01"
      "b HTTP/1.1\r\n" H "\r\n",
      HTTP_E_TARGET),
    B("GET /a\x7f HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET /\xff HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET /a\tb HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET a/b HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET http://user@a/ HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET http://user:pw@a/ HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET http:///x HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET http://a:99999/ HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET ftp://a/ HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET a.com:80 HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("GET * HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("CONNECT /x HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("CONNECT a.com HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    B("CONNECT a.com: HTTP/1.1\r\n" H "\r\n", HTTP_E_TARGET),
    /* Host */
    B("GET / HTTP/1.1\r\n\r\n", HTTP_E_HOST),
    B("GET http://a/ HTTP/1.1\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", HTTP_E_HOST),
    B("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", HTTP_E_HOST),
};

static void test_bad_requests(void)
{
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
        const struct bad *b = &bad_requests[i];
        int r = http_parse_request(b->msg, b->len, 0, &msg);
        if (r != -b->err)
            fprintf(stderr, "\nbad request %zu: got %d (%s), want %d (%s)\n", i, r,
                    http_error_str(r), -b->err, http_error_str(b->err));
        CU_ASSERT_EQUAL(r, -b->err);
        /* the same verdict when the message arrives a byte at a time, never a false "complete" */
        int got = 0;
        for (size_t n = 1; n <= b->len && got == 0; n++)
            got = http_parse_request(b->msg, n, n - 1, &msg);
        CU_ASSERT_EQUAL(got, -b->err);
    }
}

static const struct bad bad_responses[] = {
    B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      HTTP_E_CL_AND_TE),
    B("HTTP/1.1 200 OK\r\nContent-Length: 1,2\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", HTTP_E_CONTENT_LENGTH),
    B("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_E_TE_NOT_CHUNKED),
    B("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", HTTP_E_TE_UNSUP),
    B("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_E_TE_HTTP10),
    B("HTTP/1.1 20 OK\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/1.1 2000 OK\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/1.1 099 X\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/1.1 600 X\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/1.1 abc\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/1.1  200 OK\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/1.1\r\n\r\n", HTTP_E_STATUS),
    B("HTTP/2 200\r\n\r\n", HTTP_E_VERSION),
    B("http/1.1 200 OK\r\n\r\n", HTTP_E_VERSION),
    B("HTTP/2.0 200 OK\r\n\r\n", HTTP_E_VERSION_UNSUP),
    B("HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_E_SYNTAX),
    B("HTTP/1.1 200 OK\nX: y\n\n", HTTP_E_LINE_ENDING),
    B("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", HTTP_E_OBS_FOLD),
    B("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", HTTP_E_FIELD_NAME),
    B("\r\nHTTP/1.1 200 OK\r\n\r\n", HTTP_E_VERSION),
};

static void test_bad_responses(void)
{
    for (size_t i = 0; i < sizeof(bad_responses) / sizeof(bad_responses[0]); i++) {
        const struct bad *b = &bad_responses[i];
        int r = http_parse_response(b->msg, b->len, 0, HTTP_M_GET, &msg);
        if (r != -b->err)
            fprintf(stderr, "\nbad response %zu: got %d (%s), want %d\n", i, r, http_error_str(r),
                    -b->err);
        CU_ASSERT_EQUAL(r, -b->err);
        CU_ASSERT_EQUAL(http_error_status(r, true), 502);
    }
}

static void test_request_basic(void)
{
    const char *s = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
                    "Accept: */*\r\nX-Empty:\r\nX-Blank:   \r\nX-Tab:\tv  w\t\r\n"
                    "X-Obs: caf\xc3\xa9\r\n\r\n";
    CU_ASSERT_EQUAL(req(s), (int)strlen(s));
    CU_ASSERT_EQUAL(msg.method, HTTP_M_GET);
    CU_ASSERT_EQUAL(msg.version_minor, 1);
    CU_ASSERT_EQUAL(msg.target_form, HTTP_TF_ORIGIN);
    CU_ASSERT(span_eq(s, msg.method_s, "GET"));
    CU_ASSERT(span_eq(s, msg.target, "/index.html?q=1"));
    CU_ASSERT(span_eq(s, msg.path, "/index.html?q=1"));
    CU_ASSERT(span_eq(s, msg.host, "example.com"));
    CU_ASSERT(span_eq(s, msg.start, "GET /index.html?q=1 HTTP/1.1"));
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT_EQUAL(msg.nhdr, 7);
    CU_ASSERT(hdr_eq(s, 0, "Host", "example.com"));
    CU_ASSERT_EQUAL(msg.hdr[0].id, HTTP_H_HOST);
    CU_ASSERT(hdr_eq(s, 3, "X-Empty", ""));
    CU_ASSERT(hdr_eq(s, 4, "X-Blank", ""));
    CU_ASSERT(hdr_eq(s, 5, "X-Tab", "v  w"));
    CU_ASSERT(hdr_eq(s, 6, "X-Obs", "caf\xc3\xa9"));
    CU_ASSERT(http_msg_keep_alive(&msg));
    CU_ASSERT_EQUAL(http_hdr_find(s, &msg, "user-agent", 10, 0), 1);
    CU_ASSERT_EQUAL(http_hdr_find(s, &msg, "USER-AGENT", 10, 2), -1);
    CU_ASSERT_EQUAL(http_hdr_find(s, &msg, "nope", 4, 0), -1);

    /* methods are case-sensitive tokens: unknown ones are valid */
    CU_ASSERT(req("get / HTTP/1.1\r\n" H "\r\n") > 0);
    CU_ASSERT_EQUAL(msg.method, HTTP_M_OTHER);
    CU_ASSERT(req("M-SEARCH * HTTP/1.1\r\n" H "\r\n") == -HTTP_E_TARGET);
    CU_ASSERT(req("PROPFIND /x HTTP/1.1\r\n" H "\r\n") > 0);
    /* HTTP/1.0 needs no Host; one empty line before the request line is skipped */
    CU_ASSERT(req("GET / HTTP/1.0\r\n\r\n") > 0);
    CU_ASSERT_FALSE(http_msg_keep_alive(&msg));
    CU_ASSERT(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
    CU_ASSERT(http_msg_keep_alive(&msg));
    s = "\r\nGET / HTTP/1.1\r\n" H "\r\n";
    CU_ASSERT_EQUAL(req(s), (int)strlen(s));
    CU_ASSERT(span_eq(s, msg.method_s, "GET"));
    /* an empty Host is allowed (RFC 9112 §3.2); underscores make an unknown, valid name */
    CU_ASSERT(req("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0);
    CU_ASSERT(req("POST / HTTP/1.1\r\n" H "Transfer_Encoding: chunked\r\n\r\n") > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(req("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") > 0);
    CU_ASSERT(req("GET / HTTP/1.1\r\nHost: a%41.example:1\r\n\r\n") > 0);
}

static void test_request_framing(void)
{
    CU_ASSERT(req("POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n") > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_LENGTH);
    CU_ASSERT_EQUAL(msg.content_length, 5);
    CU_ASSERT(req("POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\nContent-Length: 005\r\n\r\n") >
              0);
    CU_ASSERT_EQUAL(msg.content_length, 5);
    CU_ASSERT(req("POST / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n") > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(msg.flags & HTTP_F_HAS_CL);
    CU_ASSERT(req("POST / HTTP/1.1\r\n" H "Content-Length: 9223372036854775807\r\n\r\n") > 0);
    CU_ASSERT_EQUAL(msg.content_length, 9223372036854775807ull);
    static const char *te_ok[] = {
        "Transfer-Encoding: chunked\r\n",  "Transfer-Encoding:chunked\r\n",
        "Transfer-Encoding:\tchunked\r\n", "Transfer-Encoding:  CHUNKED \t\r\n",
        "transfer-encoding: Chunked\r\n",
    };
    char buf[256];
    for (size_t i = 0; i < sizeof(te_ok) / sizeof(te_ok[0]); i++) {
        snprintf(buf, sizeof(buf), "POST / HTTP/1.1\r\n%s" H "\r\n", te_ok[i]);
        CU_ASSERT(req(buf) > 0);
        CU_ASSERT_EQUAL(msg.body, HTTP_BODY_CHUNKED);
        CU_ASSERT(http_hdr_is_hop_by_hop(&msg, 0));
    }
    /* Expect: 100-continue only counts in HTTP/1.1 */
    CU_ASSERT(req("PUT /f HTTP/1.1\r\n" H "Expect: 100-Continue\r\nContent-Length: 9\r\n\r\n") > 0);
    CU_ASSERT(msg.flags & HTTP_F_EXPECT_100);
    CU_ASSERT(req("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n") > 0);
    CU_ASSERT_FALSE(msg.flags & HTTP_F_EXPECT_100);
    CU_ASSERT(req("PUT /f HTTP/1.1\r\n" H "Expect: other\r\n\r\n") > 0);
    CU_ASSERT(msg.flags & HTTP_F_EXPECT_OTHER);
    /* websocket upgrade */
    CU_ASSERT(req("GET /ws HTTP/1.1\r\n" H "Connection: keep-alive, Upgrade\r\n"
                  "Upgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\n\r\n") > 0);
    CU_ASSERT(msg.flags & HTTP_F_CONN_UPGRADE);
    CU_ASSERT(msg.flags & HTTP_F_UPGRADE_WS);
    CU_ASSERT(msg.flags & HTTP_F_CONN_KEEP_ALIVE);
}

static void test_request_forms(void)
{
    const char *s = "GET http://Example.com:8080/a/b?c HTTP/1.1\r\nHost: other\r\n\r\n";
    CU_ASSERT(req(s) > 0);
    CU_ASSERT_EQUAL(msg.target_form, HTTP_TF_ABSOLUTE);
    CU_ASSERT(span_eq(s, msg.host, "Example.com:8080")); /* the target wins over Host */
    CU_ASSERT(span_eq(s, msg.path, "/a/b?c"));
    s = "GET HTTPS://[2001:db8::1] HTTP/1.1\r\n" H "\r\n";
    CU_ASSERT(req(s) > 0);
    CU_ASSERT(span_eq(s, msg.host, "[2001:db8::1]"));
    CU_ASSERT(span_eq(s, msg.path, ""));
    s = "GET http://a?x=1 HTTP/1.1\r\n" H "\r\n";
    CU_ASSERT(req(s) > 0);
    CU_ASSERT(span_eq(s, msg.path, "?x=1"));
    s = "CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n";
    CU_ASSERT(req(s) > 0);
    CU_ASSERT_EQUAL(msg.method, HTTP_M_CONNECT);
    CU_ASSERT_EQUAL(msg.target_form, HTTP_TF_AUTHORITY);
    CU_ASSERT(span_eq(s, msg.host, "www.example.com:443"));
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    s = "OPTIONS * HTTP/1.1\r\n" H "\r\n";
    CU_ASSERT(req(s) > 0);
    CU_ASSERT_EQUAL(msg.target_form, HTTP_TF_ASTERISK);
    CU_ASSERT_EQUAL(msg.path.len, 0);
}

static void test_pipelined(void)
{
    const char *s = "POST /a HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello"
                    "GET /b HTTP/1.1\r\n" H "\r\n"
                    "POST /c HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n0\r\n\r\n"
                    "DELETE /d HTTP/1.1\r\n" H "Connection: close\r\n\r\n";
    size_t off = 0, len = strlen(s);
    const char *want[] = {"/a", "/b", "/c", "/d"};
    for (int i = 0; i < 4; i++) {
        int r = http_parse_request(s + off, len - off, 0, &msg);
        CU_ASSERT_FATAL(r > 0);
        CU_ASSERT(span_eq(s + off, msg.target, want[i]));
        off += (size_t)r;
        if (msg.body == HTTP_BODY_LENGTH) {
            off += msg.content_length;
        } else if (msg.body == HTTP_BODY_CHUNKED) {
            struct http_chunk c;
            size_t used, doff, dlen;
            http_chunk_init(&c);
            int cr;
            while ((cr = http_chunk_parse(&c, s + off, len - off, &used, &doff, &dlen)) ==
                   HTTP_CHUNK_DATA)
                off += used;
            CU_ASSERT_EQUAL_FATAL(cr, HTTP_CHUNK_DONE);
            off += used;
        }
    }
    CU_ASSERT_FALSE(http_msg_keep_alive(&msg));
    CU_ASSERT_EQUAL(off, len);
}

static void test_responses(void)
{
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x\r\n\r\n";
    CU_ASSERT_EQUAL(resp(s, HTTP_M_GET), (int)strlen(s));
    CU_ASSERT_EQUAL(msg.status, 200);
    CU_ASSERT(span_eq(s, msg.reason, "OK"));
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_LENGTH);
    /* HEAD, 204 and 304 have no body whatever Content-Length says */
    CU_ASSERT(resp(s, HTTP_M_HEAD) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(resp("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(resp("HTTP/1.1 100 Continue\r\n\r\n", HTTP_M_PUT) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(msg.flags & HTTP_F_INTERIM);
    CU_ASSERT(resp("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                   "Upgrade: websocket\r\n\r\n",
                   HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_TUNNEL);
    CU_ASSERT(resp("HTTP/1.1 200 Connection established\r\n\r\n", HTTP_M_CONNECT) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_TUNNEL);
    CU_ASSERT(resp("HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n", HTTP_M_CONNECT) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_LENGTH);
    CU_ASSERT(resp("HTTP/1.0 200 OK\r\n\r\n", HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_UNTIL_CLOSE);
    CU_ASSERT_FALSE(http_msg_keep_alive(&msg));
    CU_ASSERT(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_CHUNKED);
    CU_ASSERT(http_msg_keep_alive(&msg));
    /* reason may be missing, with or without its SP */
    s = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
    CU_ASSERT(resp(s, HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.reason.len, 0);
    CU_ASSERT_EQUAL(msg.body, HTTP_BODY_NONE);
    CU_ASSERT(resp("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", HTTP_M_GET) > 0);
    CU_ASSERT_EQUAL(msg.reason.len, 0);
    s = "HTTP/1.1 404 Not \tFound \xe2\x9c\x97\r\n\r\n";
    CU_ASSERT(resp(s, HTTP_M_GET) > 0);
    CU_ASSERT(span_eq(s, msg.reason, "Not \tFound \xe2\x9c\x97"));
}

static void test_hop_by_hop(void)
{
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret , content-length\r\n"
                    "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nContent-Length: 0\r\n"
                    "Proxy-Connection: x\r\nTrailer: X\r\nUpgrade: h2c\r\nX-Public: 2\r\n\r\n";
    CU_ASSERT(req(s) > 0);
    CU_ASSERT(msg.flags & HTTP_F_CONN_CLOSE);
    CU_ASSERT(msg.flags & HTTP_F_CONN_OTHER);
    CU_ASSERT_FALSE(msg.flags & HTTP_F_UPGRADE_WS);
    bool want[] = {false, true, true, true, true, false, true, true, true, false};
    CU_ASSERT_EQUAL_FATAL(msg.nhdr, 10);
    for (unsigned i = 0; i < msg.nhdr; i++)
        CU_ASSERT_EQUAL(http_hdr_is_hop_by_hop(&msg, i), want[i]);
    CU_ASSERT_FALSE(http_msg_keep_alive(&msg));

    /* list elements: empty ones skipped, quoted commas kept */
    const char *v = " a , ,b,\"c,d\" ,e\t";
    size_t pos = 0;
    struct http_span t;
    const char *el[] = {"a", "b", "\"c,d\"", "e"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_FATAL(http_list_next(v, strlen(v), &pos, &t));
        CU_ASSERT(span_eq(v, t, el[i]));
    }
    CU_ASSERT_FALSE(http_list_next(v, strlen(v), &pos, &t));
    /* cookies: blanks trimmed around names and values, empty ones skipped, '=' inside a value
     * kept, a cookie without '=' has an empty name */
    const char *ck = " a=1;b = 2 ;; c=x=y;flag ; d=";
    const char *names[] = {"a", "b", "c", "", "d"}, *vals[] = {"1", "2", "x=y", "flag", ""};
    struct http_span cn, cv;
    pos = 0;
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_FATAL(http_cookie_next(ck, strlen(ck), &pos, &cn, &cv));
        CU_ASSERT(span_eq(ck, cn, names[i]));
        CU_ASSERT(span_eq(ck, cv, vals[i]));
    }
    CU_ASSERT_FALSE(http_cookie_next(ck, strlen(ck), &pos, &cn, &cv));
    /* element ends, empty elements included: " a " ends at the comma at 3, " " at 5, "b" at 7,
     * and a quoted string with an escaped quote and a comma runs to the end */
    CU_ASSERT_EQUAL(http_list_elem_end(v, strlen(v), 0), 3);
    CU_ASSERT_EQUAL(http_list_elem_end(v, strlen(v), 4), 5);
    CU_ASSERT_EQUAL(http_list_elem_end(v, strlen(v), 6), 7);
    CU_ASSERT_EQUAL(http_list_elem_end(v, strlen(v), 8), 14); /* past "c,d" and its OWS */
    const char *q = "\"x\\\",y\" z";
    CU_ASSERT_EQUAL(http_list_elem_end(q, strlen(q), 0), strlen(q));
}

static void test_limits(void)
{
    static char buf[32768];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HDRS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, i ? "X-%d: v\r\n" : "Host: h%d\r\n", i);
    memcpy(buf + n, "\r\n", 3);
    CU_ASSERT_EQUAL(http_parse_request(buf, n + 2, 0, &msg), (int)n + 2);
    CU_ASSERT_EQUAL(msg.nhdr, HTTP_MAX_HDRS);
    memcpy(buf + n, "Y: z\r\n\r\n", 9);
    CU_ASSERT_EQUAL(http_parse_request(buf, n + 8, 0, &msg), -HTTP_E_TOO_MANY_FIELDS);
    CU_ASSERT_EQUAL(http_error_status(HTTP_E_TOO_MANY_FIELDS, false), 431);
    /* tune.http.maxhdr: the caller's limit, kept across parses; 102 fields pass at 102, the same
     * head fails at 5, and the default returns with 0 */
    msg.max_hdr = 102;
    CU_ASSERT_EQUAL(http_parse_request(buf, n + 8, 0, &msg), (int)n + 8);
    CU_ASSERT_EQUAL(msg.nhdr, 102);
    CU_ASSERT_EQUAL(msg.max_hdr, 102);
    msg.max_hdr = 5;
    CU_ASSERT_EQUAL(http_parse_request(buf, n + 8, 0, &msg), -HTTP_E_TOO_MANY_FIELDS);
    const char *six = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n";
    CU_ASSERT_EQUAL(http_parse_response(six, strlen(six), 0, HTTP_M_GET, &msg),
                    -HTTP_E_TOO_MANY_FIELDS);
    msg.max_hdr = 0;
    CU_ASSERT_EQUAL(http_parse_request(buf, n + 8, 0, &msg), -HTTP_E_TOO_MANY_FIELDS);

    /* a target over the limit is 414 as soon as it is seen, before the head is complete */
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', HTTP_TARGET_MAX);
    CU_ASSERT_EQUAL(http_parse_request(buf, 4 + HTTP_TARGET_MAX, 0, &msg), 0);
    CU_ASSERT_EQUAL(http_parse_request(buf, 5 + HTTP_TARGET_MAX, 0, &msg), -HTTP_E_TARGET_TOO_LONG);
    CU_ASSERT_EQUAL(http_error_status(-HTTP_E_TARGET_TOO_LONG, false), 414);
    /* an invalid request line is reported before the head is complete */
    CU_ASSERT_EQUAL(req("GET / HTTP/1.1\r\nHost: a\r\n"), 0);
    CU_ASSERT_EQUAL(req("GET / HTTP/3.0\r\nHost: a\r\n"), -HTTP_E_VERSION_UNSUP);
    CU_ASSERT_EQUAL(req("GE\x01"), -HTTP_E_METHOD);
    CU_ASSERT_EQUAL(req("GET /x HTTP/1.1x"), -HTTP_E_VERSION);
    CU_ASSERT_EQUAL(resp("HTTP/1.1 7x", HTTP_M_GET), -HTTP_E_STATUS);

    CU_ASSERT_EQUAL(http_error_status(HTTP_E_TE_UNSUP, false), 501);
    CU_ASSERT_EQUAL(http_error_status(HTTP_E_VERSION_UNSUP, false), 505);
    CU_ASSERT_EQUAL(http_error_status(HTTP_E_CL_AND_TE, false), 400);
    CU_ASSERT_EQUAL(http_error_status(HTTP_E_TE_UNSUP, true), 502);
    for (int e = 1; e < HTTP_E_MAX; e++)
        CU_ASSERT(http_error_str(e) != NULL && http_error_status(e, false) >= 400);
}

static bool msg_same(const struct http_msg *a, const struct http_msg *b)
{
#define SAME(f) (a->f == b->f)
#define SPAN(f) (a->f.off == b->f.off && a->f.len == b->f.len)
    if (!(SAME(head_len) && SAME(version_minor) && SAME(method) && SAME(target_form) &&
          SAME(body) && SAME(status) && SAME(flags) && SAME(content_length) && SAME(nhdr) &&
          SPAN(start) && SPAN(method_s) && SPAN(target) && SPAN(path) && SPAN(host) &&
          SPAN(reason)))
        return false;
    return memcmp(a->hdr, b->hdr, a->nhdr * sizeof(a->hdr[0])) == 0;
}

/* Every split into two reads, and a byte at a time, gives the one-read result. */
static void test_split_reads(void)
{
    static const char *reqs[] = {
        "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88\r\n"
        "Accept: */*\r\nX-Empty:\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n",
        "\r\nPOST http://a.b:1/x?y HTTP/1.1\r\nHost: z\r\nTransfer-Encoding:\tchunked\r\n"
        "Expect: 100-continue\r\n\r\n",
        "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
        "OPTIONS * HTTP/1.0\r\n\r\n",
    };
    static const char *resps[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 204\r\n\r\n",
        "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n",
    };
    static struct http_msg whole, part;
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]) + sizeof(resps) / sizeof(resps[0]); i++) {
        bool is_req = i < sizeof(reqs) / sizeof(reqs[0]);
        const char *s = is_req ? reqs[i] : resps[i - sizeof(reqs) / sizeof(reqs[0])];
        size_t len = strlen(s);
#define PARSE(n, prev, m)                                                                          \
    (is_req ? http_parse_request(s, n, prev, m) : http_parse_response(s, n, prev, HTTP_M_GET, m))
        int full = PARSE(len, 0, &whole);
        CU_ASSERT_EQUAL_FATAL(full, (int)len);
        for (size_t k = 0; k < len; k++) {
            CU_ASSERT_EQUAL(PARSE(k, 0, &part), 0);
            CU_ASSERT_EQUAL(PARSE(len, k, &part), full);
            CU_ASSERT(msg_same(&whole, &part));
        }
        int r = 0;
        size_t n;
        for (n = 1; n <= len && r == 0; n++)
            r = PARSE(n, n - 1, &part);
        CU_ASSERT_EQUAL(r, full);
        CU_ASSERT_EQUAL(n - 1, len);
        CU_ASSERT(msg_same(&whole, &part));
    }
}

/* Decode body[0..len) fed in pieces of the given sizes (cycled); collect data runs into out.
 * Returns the final code and sets *end to the offset just past the message when DONE. */
static int chunk_feed(const char *body, size_t len, const size_t *pieces, size_t npieces, char *out,
                      size_t *outlen, size_t *end)
{
    struct http_chunk c;
    http_chunk_init(&c);
    size_t off = 0, p = 0;
    *outlen = 0;
    int r = HTTP_CHUNK_MORE;
    while (off < len) {
        size_t n = pieces[p++ % npieces];
        if (n > len - off)
            n = len - off;
        size_t done = 0;
        while (done < n) {
            size_t used, doff, dlen;
            r = http_chunk_parse(&c, body + off + done, n - done, &used, &doff, &dlen);
            if (r < 0)
                return r;
            if (r == HTTP_CHUNK_DATA) {
                memcpy(out + *outlen, body + off + done + doff, dlen);
                *outlen += dlen;
            }
            done += used;
            if (r == HTTP_CHUNK_DONE) {
                *end = off + done;
                return r;
            }
        }
        off += n;
    }
    return r;
}

static void test_chunked(void)
{
    static const char body[] = "4;ext=1;q=\"a \\\"b\\\"\" ; x\r\nWiki\r\n"
                               "5\r\npedia\r\n"
                               "E\r\n in\r\n\r\nchunks.\r\n"
                               "000\r\nX-Trailer: 1\r\nX-Empty:\r\n\r\n"
                               "GET /next HTTP/1.1\r\n";
    size_t len = sizeof(body) - 1, msg_end = len - strlen("GET /next HTTP/1.1\r\n");
    const char *want = "Wikipedia in\r\n\r\nchunks.";
    char out[256];
    size_t outlen, end;
    for (size_t piece = 1; piece <= len; piece++) {
        end = 0;
        int r = chunk_feed(body, len, &piece, 1, out, &outlen, &end);
        CU_ASSERT_EQUAL(r, HTTP_CHUNK_DONE);
        CU_ASSERT_EQUAL(end, msg_end);
        CU_ASSERT(outlen == strlen(want) && memcmp(out, want, outlen) == 0);
    }
    for (size_t k = 1; k < len; k++) { /* every split into two pieces */
        size_t pieces[2] = {k, len};
        end = 0;
        CU_ASSERT_EQUAL(chunk_feed(body, len, pieces, 2, out, &outlen, &end), HTTP_CHUNK_DONE);
        CU_ASSERT_EQUAL(end, msg_end);
    }
    /* the largest accepted size, then need more */
    struct http_chunk c = {0};
    size_t used, doff, dlen;
    CU_ASSERT_EQUAL(http_chunk_parse(&c, "7fffffffffffffff\r\nab", 20, &used, &doff, &dlen),
                    HTTP_CHUNK_DATA);
    CU_ASSERT_EQUAL(dlen, 2);
    CU_ASSERT_EQUAL(c.remain, 0x7fffffffffffffffull - 2);
    /* a done decoder stays done; a failed one stays failed */
    http_chunk_init(&c);
    CU_ASSERT_EQUAL(http_chunk_parse(&c, "0\r\n\r\n", 5, &used, &doff, &dlen), HTTP_CHUNK_DONE);
    CU_ASSERT(http_chunk_is_done(&c));
    CU_ASSERT_EQUAL(http_chunk_parse(&c, "x", 1, &used, &doff, &dlen), HTTP_CHUNK_DONE);
    CU_ASSERT_EQUAL(used, 0);
    http_chunk_init(&c);
    CU_ASSERT_EQUAL(http_chunk_parse(&c, "z", 1, &used, &doff, &dlen), -HTTP_E_CHUNK_SIZE);
    CU_ASSERT_EQUAL(http_chunk_parse(&c, "0\r\n\r\n", 5, &used, &doff, &dlen), -HTTP_E_CHUNK_SIZE);
}

static const struct bad bad_chunks[] = {
    B("1;\x00\r\na\r\n0\r\n\r\n", HTTP_E_CHUNK_EXT),
    B("fffffffffffffffff\r\n", HTTP_E_CHUNK_SIZE),
    B("8000000000000000\r\n", HTTP_E_CHUNK_SIZE),
    B("\r\n", HTTP_E_CHUNK_SIZE),
    B("g\r\n", HTTP_E_CHUNK_SIZE),
    B("-1\r\n", HTTP_E_CHUNK_SIZE),
    B("0x1\r\n", HTTP_E_CHUNK_SIZE),
    B(" 1\r\na\r\n", HTTP_E_CHUNK_SIZE),
    B("1\r\nab\r\n", HTTP_E_CHUNK_CRLF),
    B("1\r\na\n0\r\n\r\n", HTTP_E_CHUNK_CRLF),
    B("1\r\na\r0\r\n\r\n", HTTP_E_CHUNK_CRLF),
    B("1\na\r\n", HTTP_E_CHUNK_SIZE),
    B("1\rxa\r\n", HTTP_E_CHUNK_CRLF),
    B("1 \r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;a b\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;a=\"x\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;a=\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;a=b c\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;a=\"b\"c\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("1;a\nb\r\na\r\n", HTTP_E_CHUNK_EXT),
    B("0\r\nX: y\n\r\n", HTTP_E_TRAILER),
    B("0\r\n y\r\n\r\n", HTTP_E_TRAILER),
    B("0\r\nX : y\r\n\r\n", HTTP_E_TRAILER),
    B("0\r\nX: a\x00\r\n\r\n", HTTP_E_TRAILER),
    B("0\r\n: a\r\n\r\n", HTTP_E_TRAILER),
    B("0\r\nX\r\n\r\n", HTTP_E_TRAILER),
    B("0\r\n\r\r", HTTP_E_TRAILER),
    B("0\r\n\n", HTTP_E_TRAILER),
};

static void test_bad_chunks(void)
{
    char out[64];
    size_t outlen, end;
    for (size_t i = 0; i < sizeof(bad_chunks) / sizeof(bad_chunks[0]); i++) {
        const struct bad *b = &bad_chunks[i];
        size_t all = b->len, one = 1;
        int r1 = chunk_feed(b->msg, b->len, &all, 1, out, &outlen, &end);
        int r2 = chunk_feed(b->msg, b->len, &one, 1, out, &outlen, &end);
        if (r1 != -b->err)
            fprintf(stderr, "\nbad chunk %zu: got %d (%s), want %d\n", i, r1, http_error_str(r1),
                    -b->err);
        CU_ASSERT_EQUAL(r1, -b->err);
        CU_ASSERT_EQUAL(r2, -b->err);
    }
    /* bounded extensions and trailers */
    static char big[HTTP_TRAILERS_MAX + 64];
    memcpy(big, "1;a=", 4);
    memset(big + 4, 'x', HTTP_CHUNK_LINE);
    size_t all = HTTP_CHUNK_LINE + 4;
    CU_ASSERT_EQUAL(chunk_feed(big, all, &all, 1, out, &outlen, &end), -HTTP_E_CHUNK_EXT);
    memset(big, '0', HTTP_CHUNK_LINE + 1);
    all = HTTP_CHUNK_LINE + 1;
    CU_ASSERT_EQUAL(chunk_feed(big, all, &all, 1, out, &outlen, &end), -HTTP_E_CHUNK_SIZE);
    memcpy(big, "0\r\nX: ", 6);
    memset(big + 6, 'v', HTTP_TRAILERS_MAX);
    all = HTTP_TRAILERS_MAX + 6;
    CU_ASSERT_EQUAL(chunk_feed(big, all, &all, 1, out, &outlen, &end), -HTTP_E_TRAILER);
    size_t n = 3;
    memcpy(big, "0\r\n", 3);
    for (int i = 0; i <= HTTP_MAX_HDRS; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "T%d: v\r\n", i);
    CU_ASSERT_EQUAL(chunk_feed(big, n, &n, 1, out, &outlen, &end), -HTTP_E_TOO_MANY_FIELDS);
}

int suite_http_parse(void)
{
    CU_pSuite s = CU_add_suite("http_parse", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "bad_requests", test_bad_requests);
    CU_add_test(s, "bad_responses", test_bad_responses);
    CU_add_test(s, "request_basic", test_request_basic);
    CU_add_test(s, "request_framing", test_request_framing);
    CU_add_test(s, "request_forms", test_request_forms);
    CU_add_test(s, "pipelined", test_pipelined);
    CU_add_test(s, "responses", test_responses);
    CU_add_test(s, "hop_by_hop", test_hop_by_hop);
    CU_add_test(s, "limits", test_limits);
    CU_add_test(s, "split_reads", test_split_reads);
    CU_add_test(s, "chunked", test_chunked);
    CU_add_test(s, "bad_chunks", test_bad_chunks);
    return CU_get_error();
}
