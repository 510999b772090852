/* A bounded output buffer for the heads and values sluice writes (net/http/ only): an append
 * that does not fit sets `overflow` and writes nothing, nor does any append after it, so a
 * caller checks once at the end instead of after each piece. */
#ifndef SLUICE_NET_HTTP_OUT_H
#define SLUICE_NET_HTTP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct out {
    char *p;
    size_t len, cap;
    bool overflow; /* something did not fit */
    bool invalid;  /* a rewrite would have written a malformed field value (stream.c) */
    bool cut;      /* keep what fits of an append that does not, and carry on (no overflow) */
};

static inline void out_put(struct out *o, const char *s, size_t n)
{
    if (o->overflow)
        return;
    if (n > o->cap - o->len) {
        if (!o->cut) {
            o->overflow = true;
            return;
        }
        n = o->cap - o->len;
    }
    if (n)
        memcpy(o->p + o->len, s, n);
    o->len += n;
}

static inline void out_str(struct out *o, const char *s)
{
    if (s)
        out_put(o, s, strlen(s));
}

#endif
