/* Character classes shared by the HTTP parser files (module-internal). */
#ifndef SLUICE_NET_HTTP_CHARS_H
#define SLUICE_NET_HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits of http__ctype[]: one table lookup per byte on the hot loops. */
#define HTTP__C_TCHAR  0x01 /* token: ALPHA DIGIT !#$%&'*+-.^_`|~ (RFC 9110 §5.6.2) */
#define HTTP__C_VALUE  0x02 /* field-vchar, obs-text, SP, HTAB (RFC 9110 §5.5) */
#define HTTP__C_TARGET 0x04 /* VCHAR: what a request-target may contain here */
#define HTTP__C_HEX    0x08
#define HTTP__C_HOST   0x10 /* reg-name: unreserved sub-delims and % (RFC 3986 §3.2.2) */
#define HTTP__C_DIGIT  0x20

extern const uint8_t http__ctype[256];

static inline bool http__is(unsigned char c, unsigned cls)
{
    return (http__ctype[c] & cls) != 0;
}

static inline unsigned char http__lower(unsigned char c)
{
    return (unsigned char)(c - 'A') < 26u ? (unsigned char)(c | 0x20) : c;
}

/* Case-insensitive compare of s[0..n) with the lowercase literal lit. */
static inline bool http__ieq(const char *s, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (http__lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

/* Value of a hex digit (caller checked HTTP__C_HEX). */
static inline unsigned http__hexval(unsigned char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(http__lower(c) - 'a' + 10);
}

#endif
