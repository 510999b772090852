/* HTTP/1.1 request and response heads: start line, field index and framing (RFC 9112 §2-§6).
 *
 * One pass over the head: the start line, then each field line, recognising the fields that
 * decide framing and connection handling (Content-Length, Transfer-Encoding, Host, Connection,
 * Upgrade, Expect) as they go by, so the proxy never searches the index for them. Values are
 * checked eight bytes at a time (SWAR) since they are most of the bytes.
 */
#include "net/http/parse.h"

#include <string.h>

#include "net/http/chars.h"

const uint8_t http__ctype[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x17, 0x06, 0x07, 0x17, 0x17, 0x17, 0x17, 0x16, 0x16, 0x17, 0x17, 0x16, 0x17, 0x17, 0x06,
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x06, 0x16, 0x06, 0x16, 0x06, 0x06,
    0x06, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x06, 0x06, 0x07, 0x17,
    0x07, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x07, 0x06, 0x17, 0x00,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

/* host_valid flags */
#define HOST_EMPTY_OK  0x1
#define HOST_NEED_PORT 0x2

/* Skip field-value bytes (VCHAR, obs-text, SP, HTAB) and return the first other byte or end.
 * The word test flags any byte < 0x20 or == 0x7f; it may also flag bytes above a real hit (borrow),
 * never without one, so a flagged word is simply rescanned bytewise. */
static const char *scan_value(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (;;) {
        while (end - p >= 8) {
            uint64_t x, y;
            memcpy(&x, p, 8);
            y = x ^ (ones * 0x7f);
            if (((x - ones * 0x20) & ~x & highs) | ((y - ones) & ~y & highs))
                break;
            p += 8;
        }
        const char *stop = end - p >= 8 ? p + 8 : end;
        for (; p < stop; p++)
            if (!http__is((unsigned char)*p, HTTP__C_VALUE))
                return p;
        if (p == end)
            return p;
    }
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Case-insensitive equality of two strings of length n. */
static bool ieq2(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (http__lower((unsigned char)a[i]) != http__lower((unsigned char)b[i]))
            return false;
    return true;
}

static bool span_is(const char *v, struct http_span t, const char *lit, size_t n)
{
    return t.len == n && http__ieq(v + t.off, lit, n);
}

/* uri-host [":" port] (RFC 3986 §3.2.2): a reg-name (with valid %XX) or an IP literal in
 * brackets; no userinfo (RFC 9110 §4.2.4: a recipient treats "@" in an http URI as an error). */
static bool host_valid(const char *s, size_t n, unsigned flags)
{
    const char *p = s, *e = s + n;
    if (n == 0)
        return flags & HOST_EMPTY_OK;
    if (*p == '[') {
        const char *b = ++p;
        while (p < e && (http__is((unsigned char)*p, HTTP__C_HEX) || *p == ':' || *p == '.'))
            p++;
        if (p == b || p == e || *p != ']')
            return false;
        p++;
    } else {
        const char *b = p;
        while (p < e && http__is((unsigned char)*p, HTTP__C_HOST)) {
            if (*p == '%') {
                if (e - p < 3 || !http__is((unsigned char)p[1], HTTP__C_HEX) ||
                    !http__is((unsigned char)p[2], HTTP__C_HEX))
                    return false;
                p += 3;
            } else {
                p++;
            }
        }
        if (p == b)
            return false;
    }
    if (p == e)
        return !(flags & HOST_NEED_PORT);
    if (*p++ != ':' || p == e || e - p > 5)
        return false;
    unsigned port = 0;
    for (; p < e; p++) {
        if (!http__is((unsigned char)*p, HTTP__C_DIGIT))
            return false;
        port = port * 10 + (unsigned)(*p - '0');
    }
    return port <= 65535;
}

/* Methods are case-sensitive (RFC 9110 §9.1): "get" is a valid, unknown method. */
static enum http_method method_id(const char *s, size_t n)
{
    switch (n) {
    case 3:
        if (!memcmp(s, "GET", 3))
            return HTTP_M_GET;
        if (!memcmp(s, "PUT", 3))
            return HTTP_M_PUT;
        break;
    case 4:
        if (!memcmp(s, "POST", 4))
            return HTTP_M_POST;
        if (!memcmp(s, "HEAD", 4))
            return HTTP_M_HEAD;
        break;
    case 5:
        if (!memcmp(s, "PATCH", 5))
            return HTTP_M_PATCH;
        if (!memcmp(s, "TRACE", 5))
            return HTTP_M_TRACE;
        break;
    case 6:
        if (!memcmp(s, "DELETE", 6))
            return HTTP_M_DELETE;
        break;
    case 7:
        if (!memcmp(s, "CONNECT", 7))
            return HTTP_M_CONNECT;
        if (!memcmp(s, "OPTIONS", 7))
            return HTTP_M_OPTIONS;
        break;
    }
    return HTTP_M_OTHER;
}

static enum http_hdr_id hdr_id(const char *s, size_t n)
{
    switch (n) {
    case 2:
        return http__ieq(s, "te", 2) ? HTTP_H_TE : HTTP_H_OTHER;
    case 4:
        return http__ieq(s, "host", 4) ? HTTP_H_HOST : HTTP_H_OTHER;
    case 6:
        return http__ieq(s, "expect", 6) ? HTTP_H_EXPECT : HTTP_H_OTHER;
    case 7:
        if (http__ieq(s, "upgrade", 7))
            return HTTP_H_UPGRADE;
        return http__ieq(s, "trailer", 7) ? HTTP_H_TRAILER : HTTP_H_OTHER;
    case 10:
        if (http__ieq(s, "connection", 10))
            return HTTP_H_CONNECTION;
        return http__ieq(s, "keep-alive", 10) ? HTTP_H_KEEP_ALIVE : HTTP_H_OTHER;
    case 14:
        return http__ieq(s, "content-length", 14) ? HTTP_H_CONTENT_LENGTH : HTTP_H_OTHER;
    case 16:
        return http__ieq(s, "proxy-connection", 16) ? HTTP_H_PROXY_CONNECTION : HTTP_H_OTHER;
    case 17:
        return http__ieq(s, "transfer-encoding", 17) ? HTTP_H_TRANSFER_ENCODING : HTTP_H_OTHER;
    }
    return HTTP_H_OTHER;
}

static bool id_is_hop(unsigned id)
{
    switch (id) {
    case HTTP_H_CONNECTION:
    case HTTP_H_KEEP_ALIVE:
    case HTTP_H_PROXY_CONNECTION:
    case HTTP_H_TE:
    case HTTP_H_TRAILER:
    case HTTP_H_TRANSFER_ENCODING:
    case HTTP_H_UPGRADE:
        return true;
    }
    return false;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3; case-sensitive). Returns 8, 0 for a valid prefix that
 * is cut short, or an error; a well-formed version other than 1.0 or 1.1 is unsupported (505). */
static int parse_version(const char *p, const char *end, struct http_msg *m)
{
    static const char pat[] = "HTTP/d.d";
    size_t avail = (size_t)(end - p), n = avail < 8 ? avail : 8;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (pat[i] == 'd' ? !http__is(c, HTTP__C_DIGIT) : c != (unsigned char)pat[i])
            return -HTTP_E_VERSION;
    }
    if (avail < 8)
        return 0;
    if (p[5] != '1' || p[7] > '1')
        return -HTTP_E_VERSION_UNSUP;
    m->version_minor = (uint8_t)(p[7] - '0');
    return 8;
}

/* Which form the target has, and whether the method allows it (RFC 9112 §3.2). */
static int classify_target(const char *buf, struct http_msg *m)
{
    const char *t = buf + m->target.off;
    size_t n = m->target.len;
    m->path = (struct http_span){m->target.off, 0};
    if (m->method == HTTP_M_CONNECT) {
        if (!host_valid(t, n, HOST_NEED_PORT))
            return -HTTP_E_TARGET;
        m->target_form = HTTP_TF_AUTHORITY;
        m->host = m->target;
        return 0;
    }
    if (t[0] == '/') {
        m->target_form = HTTP_TF_ORIGIN;
        m->path = m->target;
        return 0;
    }
    if (n == 1 && t[0] == '*') {
        if (m->method != HTTP_M_OPTIONS)
            return -HTTP_E_TARGET;
        m->target_form = HTTP_TF_ASTERISK;
        return 0;
    }
    /* absolute-form: only the schemes a reverse proxy can serve; userinfo and empty hosts are
     * errors (RFC 9110 §4.2.1, §4.2.4) */
    size_t sl;
    if (n > 7 && http__ieq(t, "http://", 7))
        sl = 7;
    else if (n > 8 && http__ieq(t, "https://", 8))
        sl = 8;
    else
        return -HTTP_E_TARGET;
    const char *a = t + sl, *e = t + n, *q = a;
    while (q < e && *q != '/' && *q != '?')
        q++;
    if (!host_valid(a, (size_t)(q - a), 0))
        return -HTTP_E_TARGET;
    m->target_form = HTTP_TF_ABSOLUTE;
    m->host = (struct http_span){(uint32_t)(a - buf), (uint32_t)(q - a)};
    m->path = (struct http_span){(uint32_t)(q - buf), (uint32_t)(e - q)};
    return 0;
}

/* method SP request-target SP HTTP-version CRLF, after at most one leading empty line
 * (RFC 9112 §2.2). Returns the offset of the first field line, 0 when cut short (everything so far
 * valid), or an error. */
static int parse_request_line(const char *buf, const char *end, struct http_msg *m)
{
    const char *p = buf;
    if (p < end && *p == '\r') {
        if (p + 1 == end)
            return 0;
        if (p[1] != '\n')
            return -HTTP_E_LINE_ENDING;
        p += 2;
    }
    const char *s = p;
    while (p < end && http__is((unsigned char)*p, HTTP__C_TCHAR))
        p++;
    if (p == end)
        return 0;
    if (*p != ' ')
        return (p == s || *p == '\r' || *p == '\n') ? -HTTP_E_SYNTAX : -HTTP_E_METHOD;
    if (p == s)
        return -HTTP_E_SYNTAX;
    m->method_s = (struct http_span){(uint32_t)(s - buf), (uint32_t)(p - s)};
    m->method = (uint8_t)method_id(s, (size_t)(p - s));

    const char *t = ++p;
    while (p < end && http__is((unsigned char)*p, HTTP__C_TARGET))
        p++;
    if (p - t > HTTP_TARGET_MAX)
        return -HTTP_E_TARGET_TOO_LONG;
    if (p == end)
        return 0;
    if (*p != ' ')
        return (p == t || *p == '\r' || *p == '\n') ? -HTTP_E_SYNTAX : -HTTP_E_TARGET;
    if (p == t)
        return -HTTP_E_SYNTAX;
    m->target = (struct http_span){(uint32_t)(t - buf), (uint32_t)(p - t)};

    int r = parse_version(++p, end, m);
    if (r <= 0)
        return r;
    p += 8;
    if (p == end)
        return 0;
    if (*p != '\r')
        return *p == '\n' ? -HTTP_E_LINE_ENDING : -HTTP_E_VERSION;
    if (p + 1 == end)
        return 0;
    if (p[1] != '\n')
        return -HTTP_E_LINE_ENDING;
    m->start = (struct http_span){(uint32_t)(s - buf), (uint32_t)(p - s)};
    r = classify_target(buf, m);
    if (r < 0)
        return r;
    return (int)(p + 2 - buf);
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] CRLF (RFC 9112 §4). The SP before an empty reason is
 * required by the grammar; servers that omit it are common, so both forms are accepted. */
static int parse_status_line(const char *buf, const char *end, struct http_msg *m)
{
    const char *p = buf;
    int r = parse_version(p, end, m);
    if (r <= 0)
        return r;
    p += 8;
    if (p == end)
        return 0;
    if (*p != ' ')
        return (*p == '\r' || *p == '\n') ? -HTTP_E_STATUS : -HTTP_E_VERSION;
    p++;
    unsigned st = 0;
    for (int i = 0; i < 3; i++, p++) {
        if (p == end)
            return 0;
        if (!http__is((unsigned char)*p, HTTP__C_DIGIT))
            return -HTTP_E_STATUS;
        st = st * 10 + (unsigned)(*p - '0');
    }
    if (st < 100 || st > 599)
        return -HTTP_E_STATUS;
    m->status = (uint16_t)st;
    if (p == end)
        return 0;
    const char *rs = p;
    if (*p == ' ') {
        rs = ++p;
        p = scan_value(p, end);
        if (p == end)
            return 0;
    } else if (*p != '\r') {
        return *p == '\n' ? -HTTP_E_LINE_ENDING : -HTTP_E_STATUS;
    }
    if (*p != '\r')
        return *p == '\n' ? -HTTP_E_LINE_ENDING : -HTTP_E_SYNTAX;
    if (p + 1 == end)
        return 0;
    if (p[1] != '\n')
        return -HTTP_E_LINE_ENDING;
    m->reason = (struct http_span){(uint32_t)(rs - buf), (uint32_t)(p - rs)};
    m->start = (struct http_span){0, (uint32_t)(p - buf)};
    return (int)(p + 2 - buf);
}

/* Content-Length = 1*DIGIT, possibly repeated as a list: accepted only when every element is a
 * valid number and all are equal (RFC 9110 §8.6); no sign, no empty element, at most 2^63-1. */
static int parse_content_length(const char *v, size_t n, uint64_t *out)
{
    size_t i = 0;
    bool have = false;
    for (;;) {
        if (i == n || !http__is((unsigned char)v[i], HTTP__C_DIGIT))
            return -HTTP_E_CONTENT_LENGTH;
        uint64_t x = 0;
        for (; i < n && http__is((unsigned char)v[i], HTTP__C_DIGIT); i++) {
            unsigned d = (unsigned)(v[i] - '0');
            if (x > ((uint64_t)INT64_MAX - d) / 10)
                return -HTTP_E_CONTENT_LENGTH;
            x = x * 10 + d;
        }
        if (have && x != *out)
            return -HTTP_E_CONTENT_LENGTH;
        *out = x;
        have = true;
        while (i < n && is_ows(v[i]))
            i++;
        if (i == n)
            return 0;
        if (v[i++] != ',')
            return -HTTP_E_CONTENT_LENGTH;
        while (i < n && is_ows(v[i]))
            i++;
    }
}

/* Only exactly "chunked" is accepted (case-insensitive; OWS around it is already trimmed). A list
 * whose final coding is not chunked leaves the length unknowable: 400 (RFC 9112 §6.1). Other
 * codings before chunked are codings we do not implement: 501. */
static int check_transfer_encoding(const char *v, size_t n)
{
    if (n == 7 && http__ieq(v, "chunked", 7))
        return 0;
    size_t k = n;
    while (k > 0 && v[k - 1] != ',')
        k--;
    while (k < n && is_ows(v[k]))
        k++;
    if (n - k == 7 && http__ieq(v + k, "chunked", 7))
        return -HTTP_E_TE_UNSUP;
    return -HTTP_E_TE_NOT_CHUNKED;
}

/* Connection options (RFC 9112 §9.6): the three we act on become flags; any other names a field
 * that is hop-by-hop for this message. */
static void scan_connection(const char *v, size_t n, struct http_msg *m)
{
    size_t pos = 0;
    struct http_span t;
    while (http_list_next(v, n, &pos, &t)) {
        if (span_is(v, t, "close", 5))
            m->flags |= HTTP_F_CONN_CLOSE;
        else if (span_is(v, t, "keep-alive", 10))
            m->flags |= HTTP_F_CONN_KEEP_ALIVE;
        else if (span_is(v, t, "upgrade", 7))
            m->flags |= HTTP_F_CONN_UPGRADE;
        else
            m->flags |= HTTP_F_CONN_OTHER;
    }
}

/* Flag the fields that Connection names. Only fields without a fixed meaning to us: a client must
 * not be able to make the proxy drop Host or Content-Length ("Connection: Content-Length"), which
 * would leave the server framing the message differently from us. */
static void mark_connection_options(const char *buf, struct http_msg *m)
{
    for (unsigned i = 0; i < m->nhdr; i++) {
        if (m->hdr[i].id != HTTP_H_CONNECTION)
            continue;
        const char *v = buf + m->hdr[i].value_off;
        size_t pos = 0;
        struct http_span t;
        while (http_list_next(v, m->hdr[i].value_len, &pos, &t))
            for (unsigned j = 0; j < m->nhdr; j++)
                if (m->hdr[j].id == HTTP_H_OTHER && m->hdr[j].name_len == t.len &&
                    ieq2(buf + m->hdr[j].name_off, v + t.off, t.len))
                    m->hdr[j].flags |= HTTP_HF_HOP;
    }
}

/* The fields' effect on the message, as each field line is indexed. */
static int field_seen(const char *buf, struct http_msg *m, struct http_hdr *h, bool request)
{
    const char *v = buf + h->value_off;
    size_t n = h->value_len;
    int r;
    switch (h->id) {
    case HTTP_H_CONTENT_LENGTH: {
        uint64_t cl = 0;
        if ((r = parse_content_length(v, n, &cl)) < 0)
            return r;
        if ((m->flags & HTTP_F_HAS_CL) && cl != m->content_length)
            return -HTTP_E_CONTENT_LENGTH;
        m->content_length = cl;
        m->flags |= HTTP_F_HAS_CL;
        break;
    }
    case HTTP_H_TRANSFER_ENCODING:
        r = check_transfer_encoding(v, n);
        if (m->flags & HTTP_F_HAS_TE) /* several fields form one list: "chunked" twice at best */
            return r == 0 ? -HTTP_E_TE_UNSUP : r;
        if (r < 0)
            return r;
        m->flags |= HTTP_F_HAS_TE;
        break;
    case HTTP_H_HOST:
        if (!request)
            break;
        /* RFC 9112 §3.2: 400 for several Host lines or an invalid value */
        if ((m->flags & HTTP_F_HAS_HOST) || !host_valid(v, n, HOST_EMPTY_OK))
            return -HTTP_E_HOST;
        m->flags |= HTTP_F_HAS_HOST;
        if (m->target_form != HTTP_TF_ABSOLUTE && m->target_form != HTTP_TF_AUTHORITY)
            m->host = (struct http_span){h->value_off, h->value_len};
        break;
    case HTTP_H_CONNECTION:
        scan_connection(v, n, m);
        break;
    case HTTP_H_UPGRADE: {
        size_t pos = 0;
        struct http_span t;
        while (http_list_next(v, n, &pos, &t))
            if (span_is(v, t, "websocket", 9))
                m->flags |= HTTP_F_UPGRADE_WS;
        break;
    }
    case HTTP_H_EXPECT:
        /* RFC 9110 §10.1.1: ignore a 100-continue expectation in an HTTP/1.0 request */
        if (!request)
            break;
        if (n == 12 && http__ieq(v, "100-continue", 12))
            m->flags |= m->version_minor ? HTTP_F_EXPECT_100 : 0;
        else
            m->flags |= HTTP_F_EXPECT_OTHER;
        break;
    }
    return 0;
}

/* Field lines up to and including the empty line. Returns the head length, 0 when cut short, or an
 * error. */
static int parse_fields(const char *buf, const char *p, const char *end, struct http_msg *m)
{
    unsigned max = m->max_hdr && m->max_hdr <= HTTP_MAX_HDRS_CAP ? m->max_hdr : HTTP_MAX_HDRS;
    for (;;) {
        if (p == end)
            return 0;
        if (*p == '\r') {
            if (p + 1 == end)
                return 0;
            if (p[1] != '\n')
                return -HTTP_E_LINE_ENDING;
            return (int)(p + 2 - buf);
        }
        if (*p == '\n')
            return -HTTP_E_LINE_ENDING;
        if (is_ows(*p))
            return -HTTP_E_OBS_FOLD;
        const char *name = p;
        while (p < end && http__is((unsigned char)*p, HTTP__C_TCHAR))
            p++;
        if (p == end)
            return 0;
        if (*p != ':' || p == name) /* whitespace before the colon included: RFC 9112 §5.1 */
            return *p == '\n' ? -HTTP_E_LINE_ENDING : -HTTP_E_FIELD_NAME;
        if (p - name > UINT16_MAX)
            return -HTTP_E_HEAD_TOO_LARGE;
        if (m->nhdr == max)
            return -HTTP_E_TOO_MANY_FIELDS;
        struct http_hdr *h = &m->hdr[m->nhdr];
        h->name_off = (uint32_t)(name - buf);
        h->name_len = (uint16_t)(p - name);
        p++;
        while (p < end && is_ows(*p))
            p++;
        const char *v = p;
        p = scan_value(p, end);
        if (p == end)
            return 0;
        if (*p != '\r')
            return *p == '\n' ? -HTTP_E_LINE_ENDING : -HTTP_E_FIELD_VALUE;
        if (p + 1 == end)
            return 0;
        if (p[1] != '\n')
            return -HTTP_E_LINE_ENDING;
        const char *ve = p;
        while (ve > v && is_ows(ve[-1]))
            ve--;
        p += 2;
        h->value_off = (uint32_t)(v - buf);
        h->value_len = (uint32_t)(ve - v);
        h->id = (uint8_t)hdr_id(name, h->name_len);
        h->flags = id_is_hop(h->id) ? HTTP_HF_HOP : 0;
        m->nhdr++;
    }
}

/* Apply the known fields once the whole block is syntactically valid, so a syntax error is
 * reported as such, whatever semantic error an earlier field line carries. */
static int fields_apply(const char *buf, struct http_msg *m, bool request)
{
    for (unsigned i = 0; i < m->nhdr; i++) {
        if (m->hdr[i].id == HTTP_H_OTHER)
            continue;
        int r = field_seen(buf, m, &m->hdr[i], request);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Whether the head may be complete: a CRLFCRLF, or a bare LF for the parser to report, at or after
 * prev_len (bytes before it were scanned by the previous call). */
static bool head_ready(const char *buf, size_t len, size_t prev_len)
{
    size_t i = prev_len <= len ? prev_len : 0;
    while (i < len) {
        const char *lf = memchr(buf + i, '\n', len - i);
        if (!lf)
            return false;
        size_t k = (size_t)(lf - buf);
        if (k == 0 || buf[k - 1] != '\r')
            return true;
        if (k >= 3 && buf[k - 2] == '\n' && buf[k - 3] == '\r')
            return true;
        i = k + 1;
    }
    return false;
}

/* What a parse_fields result r <= 0 means for the caller. A field error in a head that is not
 * complete yet waits for the end (or a bare LF), so the verdict does not depend on how the bytes
 * were split into reads: later looks (prev_len > 0) judge only the start line before the end. */
static int fields_incomplete(const char *buf, size_t len, int r, bool capped)
{
    if (r < 0 && !head_ready(buf, len, 0))
        r = 0;
    return r == 0 && capped ? -HTTP_E_HEAD_TOO_LARGE : r;
}

static void msg_reset(struct http_msg *m)
{
    m->head_len = 0;
    m->version_minor = 0;
    m->method = HTTP_M_OTHER;
    m->target_form = HTTP_TF_ORIGIN;
    m->body = HTTP_BODY_NONE;
    m->status = 0;
    m->flags = 0;
    m->start = m->method_s = m->target = m->path = m->host = m->reason = (struct http_span){0, 0};
    m->content_length = 0;
    m->nhdr = 0;
}

/* RFC 9112 §6.3 for requests, after all fields are known. */
static int request_framing(struct http_msg *m)
{
    unsigned f = m->flags;
    if (f & HTTP_F_HAS_TE) {
        if (m->version_minor == 0) /* RFC 9112 §6.1: framing is faulty */
            return -HTTP_E_TE_HTTP10;
        if (f & HTTP_F_HAS_CL)
            return -HTTP_E_CL_AND_TE;
    }
    if (m->version_minor == 1 && !(f & HTTP_F_HAS_HOST))
        return -HTTP_E_HOST;
    if (m->method == HTTP_M_CONNECT) {
        /* CONNECT has no content (RFC 9110 §9.3.6). If the server refuses the tunnel and keeps
         * the connection, it would skip a declared body that we took for the next request. */
        if ((f & HTTP_F_HAS_TE) || m->content_length)
            return -HTTP_E_CONNECT_BODY;
        m->body = HTTP_BODY_NONE;
    } else if (f & HTTP_F_HAS_TE) {
        m->body = HTTP_BODY_CHUNKED;
    } else if (m->content_length) {
        m->body = HTTP_BODY_LENGTH;
    } else {
        m->body = HTTP_BODY_NONE;
    }
    return 0;
}

static int response_framing(struct http_msg *m, enum http_method req_method)
{
    unsigned f = m->flags, st = m->status;
    if (f & HTTP_F_HAS_TE) {
        if (m->version_minor == 0)
            return -HTTP_E_TE_HTTP10;
        if (f & HTTP_F_HAS_CL)
            return -HTTP_E_CL_AND_TE;
    }
    if (st == 101) {
        m->body = HTTP_BODY_TUNNEL;
    } else if (st < 200) {
        m->body = HTTP_BODY_NONE;
        m->flags |= HTTP_F_INTERIM;
    } else if (req_method == HTTP_M_CONNECT && st < 300) {
        m->body = HTTP_BODY_TUNNEL;
    } else if (req_method == HTTP_M_HEAD || st == 204 || st == 304) {
        m->body = HTTP_BODY_NONE;
    } else if (f & HTTP_F_HAS_TE) {
        m->body = HTTP_BODY_CHUNKED;
    } else if (f & HTTP_F_HAS_CL) {
        m->body = m->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
    } else {
        m->body = HTTP_BODY_UNTIL_CLOSE;
    }
    return 0;
}

int http_parse_request(const char *buf, size_t len, size_t prev_len, struct http_msg *m)
{
    bool capped = len > HTTP_HEAD_MAX;
    if (capped)
        len = HTTP_HEAD_MAX;
    const char *end = buf + len;
    msg_reset(m);
    int r = parse_request_line(buf, end, m);
    if (r < 0)
        return r;
    /* On a first look (prev_len 0) the fields are parsed as far as they go: one pass, where a
     * separate search for the end would cost another. On later looks only the request line is
     * checked (above, so that a bad or too long one is answered at once) until the end arrives,
     * which keeps a client trickling bytes at O(n) in total. */
    if (r == 0 || (prev_len && !head_ready(buf, len, prev_len)))
        return capped ? -HTTP_E_HEAD_TOO_LARGE : 0;
    r = parse_fields(buf, buf + r, end, m);
    if (r <= 0)
        return fields_incomplete(buf, len, r, capped);
    m->head_len = (uint32_t)r;
    int e = fields_apply(buf, m, true);
    if (e < 0)
        return e;
    if ((e = request_framing(m)) < 0)
        return e;
    if (m->flags & HTTP_F_CONN_OTHER)
        mark_connection_options(buf, m);
    return r;
}

int http_parse_response(const char *buf, size_t len, size_t prev_len, enum http_method req_method,
                        struct http_msg *m)
{
    bool capped = len > HTTP_HEAD_MAX;
    if (capped)
        len = HTTP_HEAD_MAX;
    const char *end = buf + len;
    msg_reset(m);
    int r = parse_status_line(buf, end, m);
    if (r < 0)
        return r;
    if (r == 0 || (prev_len && !head_ready(buf, len, prev_len)))
        return capped ? -HTTP_E_HEAD_TOO_LARGE : 0;
    r = parse_fields(buf, buf + r, end, m);
    if (r <= 0)
        return fields_incomplete(buf, len, r, capped);
    m->head_len = (uint32_t)r;
    int e = fields_apply(buf, m, false);
    if (e < 0)
        return e;
    if ((e = response_framing(m, req_method)) < 0)
        return e;
    if (m->flags & HTTP_F_CONN_OTHER)
        mark_connection_options(buf, m);
    return r;
}

static const struct {
    uint16_t status;
    const char *str;
} errors[HTTP_E_MAX] = {
    [HTTP_E_SYNTAX] = {400, "malformed start line"},
    [HTTP_E_LINE_ENDING] = {400, "bare LF or CR"},
    [HTTP_E_METHOD] = {400, "invalid method"},
    [HTTP_E_TARGET] = {400, "invalid request-target"},
    [HTTP_E_TARGET_TOO_LONG] = {414, "request-target too long"},
    [HTTP_E_VERSION] = {400, "malformed HTTP version"},
    [HTTP_E_VERSION_UNSUP] = {505, "unsupported HTTP version"},
    [HTTP_E_STATUS] = {400, "invalid status code"},
    [HTTP_E_FIELD_NAME] = {400, "invalid field name"},
    [HTTP_E_FIELD_VALUE] = {400, "invalid character in field value"},
    [HTTP_E_OBS_FOLD] = {400, "obsolete line folding"},
    [HTTP_E_TOO_MANY_FIELDS] = {431, "too many header fields"},
    [HTTP_E_HEAD_TOO_LARGE] = {431, "header section too large"},
    [HTTP_E_CONTENT_LENGTH] = {400, "invalid content-length"},
    [HTTP_E_CL_AND_TE] = {400, "content-length and transfer-encoding"},
    [HTTP_E_TE_NOT_CHUNKED] = {400, "transfer-encoding not ending in chunked"},
    [HTTP_E_TE_UNSUP] = {501, "unsupported transfer-coding"},
    [HTTP_E_TE_HTTP10] = {400, "transfer-encoding in HTTP/1.0"},
    [HTTP_E_HOST] = {400, "missing, repeated or invalid host"},
    [HTTP_E_CONNECT_BODY] = {400, "CONNECT with a body"},
    [HTTP_E_CHUNK_SIZE] = {400, "invalid chunk size"},
    [HTTP_E_CHUNK_EXT] = {400, "invalid chunk extension"},
    [HTTP_E_CHUNK_CRLF] = {400, "missing CRLF in chunked body"},
    [HTTP_E_TRAILER] = {400, "invalid trailer section"},
};

int http_error_status(int err, bool response)
{
    if (err < 0)
        err = -err;
    if (response)
        return 502;
    return err > 0 && err < HTTP_E_MAX ? errors[err].status : 400;
}

const char *http_error_str(int err)
{
    if (err < 0)
        err = -err;
    return err > 0 && err < HTTP_E_MAX ? errors[err].str : "unknown HTTP error";
}
