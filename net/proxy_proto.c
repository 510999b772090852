/* PROXY protocol codec. The parser is strict: v1 must be exactly the documented form (single
 * spaces, valid addresses and ports, CRLF within 107 bytes); v2 must carry the 12-byte signature,
 * version 2 and a known command. Anything else is -EINVAL and the connection is dropped. */
#include "net/proxy_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static bool parse_port(const char *s, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static bool parse_ip(int af, const char *s, size_t n, void *dst)
{
    char tmp[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(af, tmp, dst) == 1;
}

static int parse_v1(const uint8_t *buf, size_t len, struct pp_info *out)
{
    const char *p = (const char *)buf;
    size_t lim = len < PP_V1_MAX ? len : PP_V1_MAX;
    const char *crlf = NULL;
    for (size_t i = 0; i < lim; i++) {
        if (p[i] == '\r') {
            if (i + 1 == lim)
                break; /* the LF may be in the next segment */
            if (p[i + 1] != '\n')
                return -EINVAL;
            crlf = p + i;
            break;
        }
        if (p[i] == '\n' || p[i] == '\0')
            return -EINVAL;
    }
    if (!crlf)
        return len >= PP_V1_MAX ? -EINVAL : 0;
    size_t hlen = (size_t)(crlf - p) + 2;
    /* fields: PROXY PROTO SRC DST SPORT DPORT */
    const char *f[6];
    size_t fl[6];
    int nf = 0;
    const char *s = p;
    while (s < crlf && nf < 6) {
        const char *e = memchr(s, ' ', (size_t)(crlf - s));
        if (!e)
            e = crlf;
        f[nf] = s;
        fl[nf] = (size_t)(e - s);
        nf++;
        s = e < crlf ? e + 1 : crlf;
    }
    if (nf < 2 || fl[0] != 5 || memcmp(f[0], "PROXY", 5))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (fl[1] == 7 && !memcmp(f[1], "UNKNOWN", 7)) {
        out->local = true;
        return (int)hlen;
    }
    if (nf != 6 || s != crlf || fl[1] != 4)
        return -EINVAL;
    int af;
    if (!memcmp(f[1], "TCP4", 4))
        af = AF_INET;
    else if (!memcmp(f[1], "TCP6", 4))
        af = AF_INET6;
    else
        return -EINVAL;
    uint16_t sp, dp;
    if (!parse_port(f[4], fl[4], &sp) || !parse_port(f[5], fl[5], &dp))
        return -EINVAL;
    if (af == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&out->src,
                           *b = (struct sockaddr_in *)&out->dst;
        a->sin_family = b->sin_family = AF_INET;
        if (!parse_ip(AF_INET, f[2], fl[2], &a->sin_addr) ||
            !parse_ip(AF_INET, f[3], fl[3], &b->sin_addr))
            return -EINVAL;
        a->sin_port = htons(sp);
        b->sin_port = htons(dp);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->src,
                            *b = (struct sockaddr_in6 *)&out->dst;
        a->sin6_family = b->sin6_family = AF_INET6;
        if (!parse_ip(AF_INET6, f[2], fl[2], &a->sin6_addr) ||
            !parse_ip(AF_INET6, f[3], fl[3], &b->sin6_addr))
            return -EINVAL;
        a->sin6_port = htons(sp);
        b->sin6_port = htons(dp);
    }
    return (int)hlen;
}

static int parse_v2(const uint8_t *buf, size_t len, struct pp_info *out)
{
    if (len < 16)
        return 0;
    uint8_t ver_cmd = buf[12], fam = buf[13];
    size_t alen = ((size_t)buf[14] << 8) | buf[15];
    if ((ver_cmd & 0xF0) != 0x20)
        return -EINVAL;
    if (16 + alen > PP_PEEK_MAX)
        return -EINVAL;
    if (len < 16 + alen)
        return 0;
    memset(out, 0, sizeof(*out));
    uint8_t cmd = ver_cmd & 0x0F;
    if (cmd == 0x0) { /* LOCAL: health check from the balancer itself */
        out->local = true;
        return (int)(16 + alen);
    }
    if (cmd != 0x1)
        return -EINVAL;
    const uint8_t *a = buf + 16;
    switch (fam) {
    case 0x11: { /* TCP over IPv4 */
        if (alen < 12)
            return -EINVAL;
        struct sockaddr_in *s = (struct sockaddr_in *)&out->src,
                           *d = (struct sockaddr_in *)&out->dst;
        s->sin_family = d->sin_family = AF_INET;
        memcpy(&s->sin_addr, a, 4);
        memcpy(&d->sin_addr, a + 4, 4);
        memcpy(&s->sin_port, a + 8, 2);
        memcpy(&d->sin_port, a + 10, 2);
        break;
    }
    case 0x21: { /* TCP over IPv6 */
        if (alen < 36)
            return -EINVAL;
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src,
                            *d = (struct sockaddr_in6 *)&out->dst;
        s->sin6_family = d->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, a, 16);
        memcpy(&d->sin6_addr, a + 16, 16);
        memcpy(&s->sin6_port, a + 32, 2);
        memcpy(&d->sin6_port, a + 34, 2);
        break;
    }
    case 0x00: /* UNSPEC with PROXY: addresses unknown, keep the connection's */
        out->local = true;
        break;
    default:
        return -EINVAL;
    }
    return (int)(16 + alen);
}

int pp_parse(const uint8_t *buf, size_t len, struct pp_info *out)
{
    if (len == 0)
        return 0;
    size_t n = len < 12 ? len : 12;
    if (!memcmp(buf, v2_sig, n))
        return len < 12 ? 0 : parse_v2(buf, len, out);
    n = len < 6 ? len : 6;
    if (memcmp(buf, "PROXY ", n))
        return -EINVAL;
    return len < 6 ? 0 : parse_v1(buf, len, out);
}

size_t pp_build_v1(char *out, size_t cap, const struct sockaddr *src, const struct sockaddr *dst)
{
    char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
    int n;
    if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
        inet_ntop(AF_INET, &s->sin_addr, sa, sizeof(sa));
        inet_ntop(AF_INET, &d->sin_addr, da, sizeof(da));
        n = snprintf(out, cap, "PROXY TCP4 %s %s %u %u\r\n", sa, da, ntohs(s->sin_port),
                     ntohs(d->sin_port));
    } else if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
        inet_ntop(AF_INET6, &s->sin6_addr, sa, sizeof(sa));
        inet_ntop(AF_INET6, &d->sin6_addr, da, sizeof(da));
        n = snprintf(out, cap, "PROXY TCP6 %s %s %u %u\r\n", sa, da, ntohs(s->sin6_port),
                     ntohs(d->sin6_port));
    } else {
        n = snprintf(out, cap, "PROXY UNKNOWN\r\n");
    }
    return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

size_t pp_build_v2(uint8_t *out, size_t cap, const struct sockaddr *src, const struct sockaddr *dst)
{
    if (cap < 16 + 36)
        return 0;
    memcpy(out, v2_sig, 12);
    out[12] = 0x21; /* version 2, PROXY */
    size_t alen;
    if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
        out[13] = 0x11;
        memcpy(out + 16, &s->sin_addr, 4);
        memcpy(out + 20, &d->sin_addr, 4);
        memcpy(out + 24, &s->sin_port, 2);
        memcpy(out + 26, &d->sin_port, 2);
        alen = 12;
    } else if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
        out[13] = 0x21;
        memcpy(out + 16, &s->sin6_addr, 16);
        memcpy(out + 32, &d->sin6_addr, 16);
        memcpy(out + 48, &s->sin6_port, 2);
        memcpy(out + 50, &d->sin6_port, 2);
        alen = 36;
    } else {
        out[12] = 0x20; /* LOCAL: addresses not representable */
        out[13] = 0x00;
        alen = 0;
    }
    out[14] = (uint8_t)(alen >> 8);
    out[15] = (uint8_t)alen;
    return 16 + alen;
}
