/* Field helpers for the HTTP/1.1 index: lookup by name, list elements, keep-alive. */
#include "net/http/chars.h"
#include "net/http/parse.h"

#include <string.h>

int http_hdr_find(const char *buf, const struct http_msg *m, const char *name, size_t name_len,
                  unsigned from)
{
    for (unsigned i = from; i < m->nhdr; i++) {
        const struct http_hdr *h = &m->hdr[i];
        if (h->name_len != name_len)
            continue;
        const char *s = buf + h->name_off;
        size_t k = 0;
        while (k < name_len &&
               http__lower((unsigned char)s[k]) == http__lower((unsigned char)name[k]))
            k++;
        if (k == name_len)
            return (int)i;
    }
    return -1;
}

size_t http_list_elem_end(const char *v, size_t len, size_t i)
{
    bool quoted = false;
    for (; i < len; i++) {
        char c = v[i];
        if (quoted) {
            if (c == '\\' && i + 1 < len)
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            break;
        }
    }
    return i;
}

bool http_list_next(const char *v, size_t len, size_t *pos, struct http_span *tok)
{
    size_t i = *pos;
    while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
        i++;
    if (i >= len) {
        *pos = len;
        return false;
    }
    size_t s = i;
    i = http_list_elem_end(v, len, i);
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        e--;
    *pos = i < len ? i + 1 : len;
    *tok = (struct http_span){(uint32_t)s, (uint32_t)(e - s)};
    return true;
}

bool http_msg_keep_alive(const struct http_msg *m)
{
    if (m->flags & HTTP_F_CONN_CLOSE)
        return false;
    if (m->version_minor == 0 && !(m->flags & HTTP_F_CONN_KEEP_ALIVE))
        return false;
    return m->body != HTTP_BODY_UNTIL_CLOSE && m->body != HTTP_BODY_TUNNEL;
}

bool http_cookie_next(const char *v, size_t len, size_t *pos, struct http_span *name,
                      struct http_span *value)
{
    size_t i = *pos;
    while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
        i++;
    if (i >= len) {
        *pos = len;
        return false;
    }
    size_t start = i;
    while (i < len && v[i] != ';')
        i++;
    size_t end = i;
    while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
    *pos = i;
    const char *eq = memchr(v + start, '=', end - start);
    size_t ne = eq ? (size_t)(eq - v) : start, vs = eq ? ne + 1 : start;
    while (ne > start && (v[ne - 1] == ' ' || v[ne - 1] == '\t'))
        ne--;
    while (eq && vs < end && (v[vs] == ' ' || v[vs] == '\t'))
        vs++;
    name->off = (uint32_t)start;
    name->len = (uint32_t)(ne - start);
    value->off = (uint32_t)vs;
    value->len = (uint32_t)(end - vs);
    return true;
}
