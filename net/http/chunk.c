/* Chunked transfer coding (RFC 9112 §7.1): an incremental validator that never copies.
 *
 * The state machine walks size lines, extensions and trailers a byte at a time (they are short)
 * and skips chunk data in one step, so the cost is per chunk, not per byte of body. It keeps no
 * pointer into the input, so the caller may feed it any split of the stream.
 */
#include "net/http/chars.h"
#include "net/http/parse.h"

enum {
    ST_SIZE0 = 0,    /* first hex digit of a chunk size (zero-initialised decoder starts here) */
    ST_SIZE,         /* more hex digits */
    ST_SIZE_BWS,     /* whitespace after the size: only a ";" may follow */
    ST_EXT_NAME0,    /* after ";": BWS, then an extension name */
    ST_EXT_NAME,     /* in the name */
    ST_EXT_NAME_BWS, /* whitespace after the name: "=" or ";" */
    ST_EXT_VAL0,     /* after "=": BWS, then a token or a quoted string */
    ST_EXT_TOKEN,    /* in a token value */
    ST_EXT_QUOTED,   /* in a quoted value */
    ST_EXT_ESC,      /* after a backslash in a quoted value */
    ST_EXT_VAL_END,  /* after a value: ";" or CR */
    ST_EXT_VAL_BWS,  /* whitespace after a value: only a ";" may follow */
    ST_SIZE_LF,      /* the LF ending a size line */
    ST_DATA,         /* chunk data; remain bytes left */
    ST_DATA_CR,      /* the CRLF after chunk data */
    ST_DATA_LF,
    ST_TR_START, /* start of a trailer line, or the final CRLF */
    ST_TR_NAME,
    ST_TR_VALUE,
    ST_TR_LF,
    ST_END_LF, /* the LF of the final CRLF */
    ST_FAILED = 0xfe,
};

void http_chunk_init(struct http_chunk *c)
{
    *c = (struct http_chunk){0};
}

static bool is_ows(unsigned char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One byte of a size line (size and extensions). Returns 0 or an error. */
static int size_line_byte(struct http_chunk *c, unsigned char ch)
{
    bool tchar = http__is(ch, HTTP__C_TCHAR);
    if (++c->count > HTTP_CHUNK_LINE)
        return c->state <= ST_SIZE ? -HTTP_E_CHUNK_SIZE : -HTTP_E_CHUNK_EXT;
    switch (c->state) {
    case ST_SIZE0:
    case ST_SIZE:
        if (http__is(ch, HTTP__C_HEX)) {
            /* below 2^63, so that the length fits an off_t wherever it goes */
            if (c->remain > (INT64_MAX >> 4))
                return -HTTP_E_CHUNK_SIZE;
            c->remain = (c->remain << 4) | http__hexval(ch);
            c->state = ST_SIZE;
            return 0;
        }
        if (c->state == ST_SIZE0)
            return -HTTP_E_CHUNK_SIZE;
        if (ch == ';')
            c->state = ST_EXT_NAME0;
        else if (is_ows(ch))
            c->state = ST_SIZE_BWS;
        else if (ch == '\r')
            c->state = ST_SIZE_LF;
        else
            return -HTTP_E_CHUNK_SIZE;
        return 0;
    case ST_SIZE_BWS:
    case ST_EXT_VAL_BWS:
        if (ch == ';')
            c->state = ST_EXT_NAME0;
        else if (!is_ows(ch))
            return -HTTP_E_CHUNK_EXT;
        return 0;
    case ST_EXT_NAME0:
        if (tchar)
            c->state = ST_EXT_NAME;
        else if (!is_ows(ch))
            return -HTTP_E_CHUNK_EXT;
        return 0;
    case ST_EXT_NAME:
    case ST_EXT_TOKEN:
    case ST_EXT_VAL_END:
        if (tchar && c->state != ST_EXT_VAL_END)
            return 0;
        if (ch == ';')
            c->state = ST_EXT_NAME0;
        else if (ch == '\r')
            c->state = ST_SIZE_LF;
        else if (ch == '=' && c->state == ST_EXT_NAME)
            c->state = ST_EXT_VAL0;
        else if (is_ows(ch))
            c->state = c->state == ST_EXT_NAME ? ST_EXT_NAME_BWS : ST_EXT_VAL_BWS;
        else
            return -HTTP_E_CHUNK_EXT;
        return 0;
    case ST_EXT_NAME_BWS:
        if (ch == '=')
            c->state = ST_EXT_VAL0;
        else if (ch == ';')
            c->state = ST_EXT_NAME0;
        else if (!is_ows(ch))
            return -HTTP_E_CHUNK_EXT;
        return 0;
    case ST_EXT_VAL0:
        if (tchar)
            c->state = ST_EXT_TOKEN;
        else if (ch == '"')
            c->state = ST_EXT_QUOTED;
        else if (!is_ows(ch))
            return -HTTP_E_CHUNK_EXT;
        return 0;
    case ST_EXT_QUOTED:
        if (ch == '"')
            c->state = ST_EXT_VAL_END;
        else if (ch == '\\')
            c->state = ST_EXT_ESC;
        else if (!http__is(ch, HTTP__C_VALUE))
            return -HTTP_E_CHUNK_EXT;
        return 0;
    case ST_EXT_ESC:
        if (!http__is(ch, HTTP__C_VALUE))
            return -HTTP_E_CHUNK_EXT;
        c->state = ST_EXT_QUOTED;
        return 0;
    }
    return -HTTP_E_CHUNK_EXT;
}

/* One byte of the trailer section (same field rules as the head; no obs-fold). */
static int trailer_byte(struct http_chunk *c, unsigned char ch)
{
    if (++c->count > HTTP_TRAILERS_MAX)
        return -HTTP_E_TRAILER;
    switch (c->state) {
    case ST_TR_START:
        if (ch == '\r') {
            c->state = ST_END_LF;
        } else if (http__is(ch, HTTP__C_TCHAR)) {
            if (++c->ntrailers > HTTP_MAX_HDRS)
                return -HTTP_E_TOO_MANY_FIELDS;
            c->state = ST_TR_NAME;
        } else {
            return -HTTP_E_TRAILER;
        }
        return 0;
    case ST_TR_NAME:
        if (ch == ':')
            c->state = ST_TR_VALUE;
        else if (!http__is(ch, HTTP__C_TCHAR))
            return -HTTP_E_TRAILER;
        return 0;
    case ST_TR_VALUE:
        if (ch == '\r')
            c->state = ST_TR_LF;
        else if (!http__is(ch, HTTP__C_VALUE))
            return -HTTP_E_TRAILER;
        return 0;
    case ST_TR_LF:
        if (ch != '\n')
            return -HTTP_E_TRAILER;
        c->state = ST_TR_START;
        return 0;
    }
    return -HTTP_E_TRAILER;
}

int http_chunk_parse(struct http_chunk *c, const char *buf, size_t len, size_t *used,
                     size_t *data_off, size_t *data_len)
{
    size_t i = 0;
    int r = 0;
    *data_off = *data_len = 0;
    if (c->state == ST_FAILED) {
        *used = 0;
        return -(int)c->err;
    }
    if (c->state == HTTP_CHUNK_ST_DONE) {
        *used = 0;
        return HTTP_CHUNK_DONE;
    }
    while (i < len) {
        unsigned char ch = (unsigned char)buf[i];
        switch (c->state) {
        case ST_DATA: {
            size_t n = len - i;
            if (n > c->remain)
                n = (size_t)c->remain;
            *data_off = i;
            *data_len = n;
            c->remain -= n;
            if (c->remain == 0)
                c->state = ST_DATA_CR;
            *used = i + n;
            return HTTP_CHUNK_DATA;
        }
        case ST_DATA_CR:
            if (ch != '\r')
                r = -HTTP_E_CHUNK_CRLF;
            c->state = ST_DATA_LF;
            break;
        case ST_DATA_LF:
            if (ch != '\n')
                r = -HTTP_E_CHUNK_CRLF;
            c->state = ST_SIZE0;
            c->count = 0;
            c->remain = 0;
            break;
        case ST_SIZE_LF:
            if (ch != '\n') {
                r = -HTTP_E_CHUNK_CRLF;
            } else if (c->remain) {
                c->state = ST_DATA;
            } else {
                c->state = ST_TR_START; /* last-chunk: the trailer section follows */
                c->count = 0;
            }
            break;
        case ST_END_LF:
            if (ch != '\n') {
                r = -HTTP_E_TRAILER;
                break;
            }
            c->state = HTTP_CHUNK_ST_DONE;
            *used = i + 1;
            return HTTP_CHUNK_DONE;
        case ST_TR_START:
        case ST_TR_NAME:
        case ST_TR_VALUE:
        case ST_TR_LF:
            r = trailer_byte(c, ch);
            break;
        default:
            r = size_line_byte(c, ch);
            break;
        }
        if (r < 0) {
            c->state = ST_FAILED;
            c->err = (uint8_t)-r;
            *used = i;
            return r;
        }
        i++;
    }
    *used = i;
    return HTTP_CHUNK_MORE;
}
