/* PROXY protocol codec: round trips, partial input, and malformed headers. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "net/proxy_proto.h"

static void v4(struct sockaddr_in *a, const char *ip, unsigned port)
{
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a->sin_addr);
    a->sin_port = htons((uint16_t)port);
}

static void test_v1_parse(void)
{
    struct pp_info pi;
    const char *h = "PROXY TCP4 1.2.3.4 10.0.0.1 5555 80\r\nGET / HTTP/1.0\r\n";
    int n = pp_parse((const uint8_t *)h, strlen(h), &pi);
    CU_ASSERT_EQUAL(n, (int)strlen("PROXY TCP4 1.2.3.4 10.0.0.1 5555 80\r\n"));
    CU_ASSERT_FALSE(pi.local);
    const struct sockaddr_in *s = (const void *)&pi.src;
    CU_ASSERT_EQUAL(ntohs(s->sin_port), 5555);
    CU_ASSERT_EQUAL(s->sin_addr.s_addr, inet_addr("1.2.3.4"));
    h = "PROXY TCP6 ::1 2001:db8::2 1 65535\r\n";
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)h, strlen(h), &pi), (int)strlen(h));
    CU_ASSERT_EQUAL(pi.src.ss_family, AF_INET6);
    h = "PROXY UNKNOWN\r\n";
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)h, strlen(h), &pi), (int)strlen(h));
    CU_ASSERT_TRUE(pi.local);
    /* incomplete: need more */
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)"PROXY TCP4 1.2", 14, &pi), 0);
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)"PRO", 3, &pi), 0);
}

static void test_v1_rejects(void)
{
    static const char *bad[] = {
        "GET / HTTP/1.1\r\n",
        "PROXY TCP4 1.2.3.4 10.0.0.1 5555\r\n",      /* missing port */
        "PROXY TCP4 1.2.3.4 10.0.0.1 5555 80 9\r\n", /* extra field */
        "PROXY TCP4 1.2.3.4  10.0.0.1 5555 80\r\n",  /* double space */
        "PROXY TCP4 1.2.3.999 10.0.0.1 5555 80\r\n", /* bad address */
        "PROXY TCP4 ::1 10.0.0.1 5555 80\r\n",       /* family mismatch */
        "PROXY TCP4 1.2.3.4 10.0.0.1 65536 80\r\n",  /* port range */
        "PROXY TCP4 1.2.3.4 10.0.0.1 055 80\r\n",    /* leading zero */
        "PROXY UDP4 1.2.3.4 10.0.0.1 5555 80\r\n",   /* protocol */
        "PROXY TCP4 1.2.3.4 10.0.0.1 5555 80\n",     /* bare LF */
    };
    struct pp_info pi;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(pp_parse((const uint8_t *)bad[i], strlen(bad[i]), &pi), -EINVAL);
    char longline[200];
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "PROXY TCP4 ", 11);
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)longline, sizeof(longline), &pi), -EINVAL);
}

static void test_round_trips(void)
{
    struct sockaddr_in a, b;
    v4(&a, "192.0.2.7", 40000);
    v4(&b, "127.0.0.1", 8080);
    char h1[PP_V1_MAX + 1];
    size_t n1 = pp_build_v1(h1, sizeof(h1), (struct sockaddr *)&a, (struct sockaddr *)&b);
    CU_ASSERT_TRUE(n1 > 0);
    struct pp_info pi;
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)h1, n1, &pi), (int)n1);
    CU_ASSERT_EQUAL(memcmp(&pi.src, &a, sizeof(a)), 0);
    uint8_t h2[64];
    size_t n2 = pp_build_v2(h2, sizeof(h2), (struct sockaddr *)&a, (struct sockaddr *)&b);
    CU_ASSERT_EQUAL(n2, 28u);
    CU_ASSERT_EQUAL(pp_parse(h2, n2, &pi), (int)n2);
    const struct sockaddr_in *s = (const void *)&pi.src, *d = (const void *)&pi.dst;
    CU_ASSERT_EQUAL(s->sin_addr.s_addr, a.sin_addr.s_addr);
    CU_ASSERT_EQUAL(s->sin_port, a.sin_port);
    CU_ASSERT_EQUAL(d->sin_port, b.sin_port);
    CU_ASSERT_EQUAL(pp_parse(h2, n2 - 1, &pi), 0); /* partial */
    struct sockaddr_in6 x, y;
    memset(&x, 0, sizeof(x));
    memset(&y, 0, sizeof(y));
    x.sin6_family = y.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &x.sin6_addr);
    inet_pton(AF_INET6, "::1", &y.sin6_addr);
    x.sin6_port = htons(1234);
    n2 = pp_build_v2(h2, sizeof(h2), (struct sockaddr *)&x, (struct sockaddr *)&y);
    CU_ASSERT_EQUAL(n2, 52u);
    CU_ASSERT_EQUAL(pp_parse(h2, n2, &pi), (int)n2);
    CU_ASSERT_EQUAL(memcmp(&((struct sockaddr_in6 *)&pi.src)->sin6_addr, &x.sin6_addr, 16), 0);
    n1 = pp_build_v1(h1, sizeof(h1), (struct sockaddr *)&x, (struct sockaddr *)&y);
    CU_ASSERT_EQUAL(pp_parse((const uint8_t *)h1, n1, &pi), (int)n1);
    CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in6 *)&pi.src)->sin6_port), 1234);
}

static void test_v2_rejects(void)
{
    struct sockaddr_in a, b;
    v4(&a, "192.0.2.7", 1);
    v4(&b, "127.0.0.1", 2);
    uint8_t h[64];
    size_t n = pp_build_v2(h, sizeof(h), (struct sockaddr *)&a, (struct sockaddr *)&b);
    struct pp_info pi;
    uint8_t bad[64];
    memcpy(bad, h, n);
    bad[12] = 0x11; /* version 1 in a v2 header */
    CU_ASSERT_EQUAL(pp_parse(bad, n, &pi), -EINVAL);
    memcpy(bad, h, n);
    bad[12] = 0x2F; /* unknown command */
    CU_ASSERT_EQUAL(pp_parse(bad, n, &pi), -EINVAL);
    memcpy(bad, h, n);
    bad[13] = 0x31; /* AF_UNIX: not supported for TCP relays */
    CU_ASSERT_EQUAL(pp_parse(bad, n, &pi), -EINVAL);
    memcpy(bad, h, n);
    bad[15] = 4; /* address block too short for TCP4 */
    CU_ASSERT_EQUAL(pp_parse(bad, 20, &pi), -EINVAL);
    memcpy(bad, h, n);
    bad[14] = 0xFF; /* absurd length */
    CU_ASSERT_EQUAL(pp_parse(bad, n, &pi), -EINVAL);
    memcpy(bad, h, n);
    bad[12] = 0x20; /* LOCAL */
    CU_ASSERT_EQUAL(pp_parse(bad, n, &pi), (int)n);
    CU_ASSERT_TRUE(pi.local);
}

int suite_proxy_proto(void)
{
    CU_pSuite s = CU_add_suite("proxy_proto", NULL, NULL);
    if (!s)
        return CU_get_error();
    CU_add_test(s, "v1_parse", test_v1_parse);
    CU_add_test(s, "v1_rejects", test_v1_rejects);
    CU_add_test(s, "round_trips", test_round_trips);
    CU_add_test(s, "v2_rejects", test_v2_rejects);
    return CU_get_error();
}
