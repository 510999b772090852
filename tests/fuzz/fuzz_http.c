/* libFuzzer target for the HTTP/1.1 parser: request and response heads and the chunked decoder,
 * each in one shot and split at arbitrary points, checking that a split never changes the verdict
 * and that every offset the parser returns lies inside the head. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http/parse.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static struct http_msg m1, m2;

static bool span_in(struct http_span s, uint32_t head_len)
{
    return (uint64_t)s.off + s.len <= head_len;
}

static bool same(const struct http_msg *a, const struct http_msg *b)
{
    return a->head_len == b->head_len && a->body == b->body && a->flags == b->flags &&
           a->status == b->status && a->method == b->method && a->nhdr == b->nhdr &&
           a->content_length == b->content_length && a->host.off == b->host.off &&
           a->host.len == b->host.len && a->target.off == b->target.off &&
           !memcmp(a->hdr, b->hdr, a->nhdr * sizeof(a->hdr[0]));
}

/* Whatever the parser calls valid is coherent and inside the buffer. */
static void check_msg(const char *buf, size_t len, int r, const struct http_msg *m)
{
    if (r <= 0) {
        CHECK(r == 0 || (-r > 0 && -r < HTTP_E_MAX));
        CHECK(http_error_status(r, false) >= 400 && http_error_str(r) != NULL);
        return;
    }
    CHECK((size_t)r <= len && m->head_len == (uint32_t)r && r >= 4);
    CHECK(!memcmp(buf + r - 4, "\r\n\r\n", 4));
    CHECK(m->nhdr <= HTTP_MAX_HDRS && m->version_minor <= 1 && m->body <= HTTP_BODY_TUNNEL);
    CHECK(span_in(m->start, m->head_len) && span_in(m->target, m->head_len) &&
          span_in(m->path, m->head_len) && span_in(m->host, m->head_len) &&
          span_in(m->reason, m->head_len) && span_in(m->method_s, m->head_len));
    CHECK(m->body != HTTP_BODY_LENGTH || m->content_length > 0);
    for (unsigned i = 0; i < m->nhdr; i++) {
        const struct http_hdr *h = &m->hdr[i];
        CHECK(h->name_len > 0 && (uint64_t)h->name_off + h->name_len < m->head_len);
        CHECK(buf[h->name_off + h->name_len] == ':');
        CHECK((uint64_t)h->value_off + h->value_len <= m->head_len);
        for (uint32_t k = 0; k < h->value_len; k++)
            CHECK(buf[h->value_off + k] != '\r' && buf[h->value_off + k] != '\n' &&
                  buf[h->value_off + k] != '\0');
        CHECK(http_hdr_find(buf, m, buf + h->name_off, h->name_len, 0) <= (int)i);
        size_t pos = 0;
        struct http_span t;
        while (http_list_next(buf + h->value_off, h->value_len, &pos, &t))
            CHECK(t.len > 0 && (uint64_t)t.off + t.len <= h->value_len);
    }
    (void)http_msg_keep_alive(m);
}

static int parse(bool request, const char *buf, size_t len, size_t prev, enum http_method meth,
                 struct http_msg *m)
{
    return request ? http_parse_request(buf, len, prev, m)
                   : http_parse_response(buf, len, prev, meth, m);
}

static void fuzz_head(bool request, const char *buf, size_t len, size_t split,
                      enum http_method meth)
{
    int whole = parse(request, buf, len, 0, meth, &m1);
    check_msg(buf, len, whole, &m1);
    /* two reads: the first either decides alone (and then the same way) or asks for more */
    int first = parse(request, buf, split, 0, meth, &m2);
    check_msg(buf, split, first, &m2);
    if (first != 0) {
        CHECK(first == whole);
    } else {
        int second = parse(request, buf, len, split, meth, &m2);
        CHECK(second == whole);
        if (whole > 0)
            CHECK(same(&m1, &m2));
    }
    /* a byte at a time, with the resume hint */
    if (len <= 512) {
        int r = 0;
        size_t n;
        for (n = 1; n <= len && r == 0; n++)
            r = parse(request, buf, n, n - 1, meth, &m2);
        CHECK(r == whole || (whole == 0 && r == 0));
        if (whole > 0)
            CHECK(same(&m1, &m2) && n - 1 == (size_t)whole);
    }
}

/* Decode buf in pieces of `piece` bytes (0: one shot); returns the verdict, the message end and a
 * checksum of the data runs. */
static int chunk_run(const char *buf, size_t len, size_t piece, size_t *end, uint64_t *sum,
                     uint64_t *ndata)
{
    struct http_chunk c;
    http_chunk_init(&c);
    size_t off = 0;
    int r = HTTP_CHUNK_MORE;
    *end = 0;
    *sum = *ndata = 0;
    while (off < len) {
        size_t n = piece && piece < len - off ? piece : len - off;
        size_t done = 0;
        while (done < n) {
            size_t used, doff, dlen;
            r = http_chunk_parse(&c, buf + off + done, n - done, &used, &doff, &dlen);
            CHECK(used <= n - done);
            if (r < 0) {
                CHECK(-r > 0 && -r < HTTP_E_MAX);
                return r;
            }
            if (r == HTTP_CHUNK_DATA) {
                CHECK(dlen > 0 && doff + dlen == used);
                for (size_t k = 0; k < dlen; k++)
                    *sum = *sum * 31 + (unsigned char)buf[off + done + doff + k];
                *ndata += dlen;
            } else {
                CHECK(r == HTTP_CHUNK_MORE || r == HTTP_CHUNK_DONE);
            }
            done += used;
            if (r == HTTP_CHUNK_DONE) {
                CHECK(http_chunk_is_done(&c));
                *end = off + done;
                return r;
            }
            if (r == HTTP_CHUNK_MORE)
                CHECK(done == n);
        }
        off += n;
    }
    return r;
}

static void fuzz_chunked(const char *buf, size_t len, size_t split)
{
    size_t e1, e2;
    uint64_t s1, s2, n1, n2;
    int r1 = chunk_run(buf, len, 0, &e1, &s1, &n1);
    size_t pieces[] = {1, split ? split : 1, 7};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        int r2 = chunk_run(buf, len, pieces[i], &e2, &s2, &n2);
        CHECK(r1 == r2 && e1 == e2);
        /* data runs before an error may stop at different points; on success they must agree */
        if (r1 >= 0)
            CHECK(s1 == s2 && n1 == n2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that ASan catches any read past the end */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    size_t split = 0;
    if (size) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < size && i < 16; i++)
            h = (h ^ data[i]) * 16777619u;
        split = h % (size + 1);
    }
    static const enum http_method meths[] = {HTTP_M_GET, HTTP_M_HEAD, HTTP_M_CONNECT};

    fuzz_head(true, buf, size, split, HTTP_M_GET);
    fuzz_head(false, buf, size, split, meths[size % 3]);
    fuzz_chunked(buf, size, split);
    /* the body after a valid chunked head exercises the decoder with realistic prefixes */
    int r = http_parse_request(buf, size, 0, &m1);
    if (r <= 0)
        r = http_parse_response(buf, size, 0, HTTP_M_GET, &m1);
    if (r > 0 && m1.body == HTTP_BODY_CHUNKED)
        fuzz_chunked(buf + r, size - (size_t)r, split > (size_t)r ? split - (size_t)r : 1);
    free(buf);
    return 0;
}
