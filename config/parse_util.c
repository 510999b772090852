/* Value parsers shared by the config keywords: HAProxy times, socket addresses, bounded integers.
 */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int config_parse_time(const char *text, uint32_t *ms)
{
    if (!text || !isdigit((unsigned char)text[0]))
        return -EINVAL; /* empty, negative, '+', leading blanks */
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    unsigned long long mult;
    bool micro = false;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "us") == 0)
        mult = 1, micro = true;
    else if (strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60ULL * 1000;
    else if (strcmp(end, "h") == 0)
        mult = 3600ULL * 1000;
    else if (strcmp(end, "d") == 0)
        mult = 86400ULL * 1000;
    else
        return -EINVAL;
    if (micro) /* round up so that a non-zero time never becomes 0 ("infinite") */
        v = v / 1000 + (v % 1000 != 0);
    if (v > UINT32_MAX / mult)
        return -ERANGE;
    *ms = (uint32_t)(v * mult);
    return 0;
}

static int parse_port(const char *s, in_port_t *port)
{
    long long v;
    if (config__parse_int(s, 1, 65535, &v) != 0)
        return -EINVAL;
    *port = htons((uint16_t)v);
    return 0;
}

int config_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port;
    bool v6 = false;

    if (!text || !*text)
        return -EINVAL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || close == text + 1)
            return -EINVAL;
        size_t n = (size_t)(close - text - 1);
        if (n >= sizeof(host))
            return -EINVAL;
        memcpy(host, text + 1, n);
        host[n] = '\0';
        port = close + 2;
        v6 = true;
    } else {
        /* HAProxy splits at the last colon, so ":::80" is IPv6 "::" port 80. */
        const char *colon = strrchr(text, ':');
        if (!colon)
            return -EINVAL;
        size_t n = (size_t)(colon - text);
        if (n >= sizeof(host))
            return -EINVAL;
        memcpy(host, text, n);
        host[n] = '\0';
        port = colon + 1;
        v6 = strchr(host, ':') != NULL;
    }

    memset(ss, 0, sizeof(*ss));
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1 || parse_port(port, &a->sin6_port))
            return -EINVAL;
        *len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        if (host[0] == '\0' || strcmp(host, "*") == 0)
            a->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -EINVAL;
        if (parse_port(port, &a->sin_port))
            return -EINVAL;
        *len = sizeof(*a);
    }
    return 0;
}

int config__parse_int(const char *text, long long min, long long max, long long *out)
{
    if (!text ||
        !(isdigit((unsigned char)text[0]) || (text[0] == '-' && isdigit((unsigned char)text[1]))))
        return -EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int config__distance(const char *a, const char *b)
{
    enum { N = 48 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= N || lb >= N)
        return N;
    int prev[N + 1], cur[N + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

bool config__copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

bool config__is_tchar(unsigned char c)
{
    return c && (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}
