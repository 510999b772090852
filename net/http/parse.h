/* HTTP/1.1 message head parser and chunked-body decoder: zero-copy, strict RFC 9110/9112.
 *
 * The proxy reads into a fixed buffer (tune.bufsize) and calls the parser again from the start
 * of the buffer whenever more bytes arrive, as picohttpparser does. Passing the previous length
 * (prev_len) makes the "is the head complete yet?" scan resume where it stopped, so a client that
 * trickles one byte per read costs O(n) scanning, not O(n^2). Nothing is allocated or copied: the
 * result is an index of (offset, length) pairs into the caller's buffer, which must stay in place
 * while the index is used.
 *
 * Strictness is the point: a proxy that forwards a message its server frames differently is a
 * request-smuggling vector, so anything ambiguous is an error, never "repaired":
 * - line endings are CRLF only; a bare LF or bare CR is an error (RFC 9112 §2.2 allows a server
 *   to accept bare LF; we do not, because the server behind us may not agree with us);
 * - whitespace before the colon, obs-fold, NUL/CR/LF or other CTLs (except HTAB) in values, and
 *   empty or non-token names are errors;
 * - Content-Length together with Transfer-Encoding, differing Content-Lengths, any
 *   Transfer-Encoding other than exactly one `chunked`, and Transfer-Encoding in HTTP/1.0 are
 *   errors;
 * - HTTP/1.1 requests need exactly one valid Host; absolute-form targets win over Host.
 *
 * Thread-safety: pure functions of their arguments; call from any thread.
 */
#ifndef SLUICE_NET_HTTP_PARSE_H
#define SLUICE_NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HDRS     101        /* header fields per message by default (tune.http.maxhdr) */
#define HTTP_MAX_HDRS_CAP 1024       /* the most tune.http.maxhdr may allow */
#define HTTP_TARGET_MAX   8192       /* request-target bytes before 414 */
#define HTTP_HEAD_MAX     (1u << 20) /* hard cap on a head, whatever buffer the caller passes */
#define HTTP_CHUNK_LINE   1024       /* chunk-size line, extensions included */
#define HTTP_TRAILERS_MAX 16384      /* trailer section bytes */

/* Errors, returned negated. Not errno values: the proxy needs the precise reason to pick a
 * status (http_error_status) and to log it (http_error_str). */
enum http_err {
    HTTP_E_SYNTAX = 1,      /* malformed start line or line structure */
    HTTP_E_LINE_ENDING,     /* bare LF or bare CR */
    HTTP_E_METHOD,          /* method is not a token */
    HTTP_E_TARGET,          /* bad request-target, or a form the method does not allow */
    HTTP_E_TARGET_TOO_LONG, /* request-target longer than HTTP_TARGET_MAX (414) */
    HTTP_E_VERSION,         /* malformed HTTP-version */
    HTTP_E_VERSION_UNSUP,   /* well-formed but not HTTP/1.0 or HTTP/1.1 (505) */
    HTTP_E_STATUS,          /* response status code not 3 digits in 100..599 */
    HTTP_E_FIELD_NAME,      /* empty or non-token name, or whitespace before the colon */
    HTTP_E_FIELD_VALUE,     /* NUL, CR, LF or another CTL in a value */
    HTTP_E_OBS_FOLD,        /* line folding (a field line starting with SP or HTAB) */
    HTTP_E_TOO_MANY_FIELDS, /* more fields than max_hdr, or trailer fields than 101 (431) */
    HTTP_E_HEAD_TOO_LARGE,  /* head beyond HTTP_HEAD_MAX; also for the caller's full buffer */
    HTTP_E_CONTENT_LENGTH,  /* invalid Content-Length, or several that differ */
    HTTP_E_CL_AND_TE,       /* both Content-Length and Transfer-Encoding */
    HTTP_E_TE_NOT_CHUNKED,  /* Transfer-Encoding whose final coding is not chunked (400) */
    HTTP_E_TE_UNSUP,        /* chunked, but after other codings or twice (501) */
    HTTP_E_TE_HTTP10,       /* Transfer-Encoding in an HTTP/1.0 message */
    HTTP_E_HOST,            /* HTTP/1.1 request without Host, several Hosts, or an invalid one */
    HTTP_E_CONNECT_BODY,    /* CONNECT request with Content-Length > 0 or Transfer-Encoding */
    HTTP_E_CHUNK_SIZE,      /* chunk size empty, not hex, or ≥ 2^63 */
    HTTP_E_CHUNK_EXT,       /* malformed or too long chunk extension */
    HTTP_E_CHUNK_CRLF,      /* missing CRLF after a chunk size line or chunk data */
    HTTP_E_TRAILER,         /* malformed trailer field, or trailer section too large */
    HTTP_E_MAX
};

enum http_method {
    HTTP_M_OTHER = 0, /* a valid token we have no enum for: forwarded as is */
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_DELETE,
    HTTP_M_CONNECT,
    HTTP_M_OPTIONS,
    HTTP_M_TRACE,
    HTTP_M_PATCH,
};

enum http_target_form {
    HTTP_TF_ORIGIN = 0, /* /path?query */
    HTTP_TF_ABSOLUTE,   /* http://host[:port]/path?query (http or https) */
    HTTP_TF_AUTHORITY,  /* host:port, CONNECT only */
    HTTP_TF_ASTERISK,   /* *, OPTIONS only */
};

/* How the message body is delimited (RFC 9112 §6.3), decided at parse time. */
enum http_body {
    HTTP_BODY_NONE = 0,    /* no body: requests without CL/TE, CL 0, HEAD/1xx/204/304 responses */
    HTTP_BODY_LENGTH,      /* content_length bytes (> 0) */
    HTTP_BODY_CHUNKED,     /* chunked: run http_chunk_parse over the bytes after the head */
    HTTP_BODY_UNTIL_CLOSE, /* response without CL/TE: body ends when the server closes */
    HTTP_BODY_TUNNEL,      /* 101 or a 2xx to CONNECT: relay bytes both ways from here on */
};

/* Known field names, recognised while parsing so later passes need no string compares. */
enum http_hdr_id {
    HTTP_H_OTHER = 0,
    HTTP_H_HOST,
    HTTP_H_CONTENT_LENGTH,
    HTTP_H_TRANSFER_ENCODING,
    HTTP_H_CONNECTION,
    HTTP_H_KEEP_ALIVE,
    HTTP_H_PROXY_CONNECTION,
    HTTP_H_TE,
    HTTP_H_TRAILER,
    HTTP_H_UPGRADE,
    HTTP_H_EXPECT,
};

/* Message flags (http_msg.flags). */
#define HTTP_F_CONN_CLOSE      0x0001 /* Connection lists "close" */
#define HTTP_F_CONN_KEEP_ALIVE 0x0002 /* Connection lists "keep-alive" */
#define HTTP_F_CONN_UPGRADE    0x0004 /* Connection lists "upgrade" */
#define HTTP_F_CONN_OTHER      0x0008 /* Connection names other fields (now flagged HOP) */
#define HTTP_F_UPGRADE_WS                                                                          \
    0x0010 /* Upgrade lists "websocket" (a handshake needs CONN_UPGRADE too) */
#define HTTP_F_EXPECT_100   0x0020 /* HTTP/1.1 request with Expect: 100-continue */
#define HTTP_F_EXPECT_OTHER 0x0040 /* Expect with anything else (a server may answer 417) */
#define HTTP_F_HAS_CL       0x0080 /* a Content-Length was present (content_length holds it) */
#define HTTP_F_HAS_TE       0x0100 /* Transfer-Encoding: chunked was present */
#define HTTP_F_HAS_HOST     0x0200 /* a Host field was present */
#define HTTP_F_INTERIM      0x0400 /* 1xx other than 101: the final response is still to come */

/* Field flags (http_hdr.flags). */
#define HTTP_HF_HOP 0x01 /* hop-by-hop: a fixed one or named in Connection; not forwarded */

struct http_span {
    uint32_t off; /* into the caller's buffer */
    uint32_t len;
};

struct http_hdr {
    uint32_t name_off;
    uint32_t value_off; /* value with leading and trailing OWS removed */
    uint32_t value_len;
    uint16_t name_len;
    uint8_t id;    /* enum http_hdr_id */
    uint8_t flags; /* HTTP_HF_* */
};

/* A parsed head. Every field is undefined unless the parse returned > 0, except max_hdr (set by the
 * caller). */
struct http_msg {
    uint32_t head_len;      /* bytes of the head, leading empty line and final CRLFCRLF included */
    uint8_t version_minor;  /* 0 or 1 */
    uint8_t method;         /* enum http_method; requests */
    uint8_t target_form;    /* enum http_target_form; requests */
    uint8_t body;           /* enum http_body */
    uint16_t status;        /* responses */
    uint16_t flags;         /* HTTP_F_* */
    struct http_span start; /* the start line, without CRLF */
    struct http_span method_s;
    struct http_span target;
    struct http_span path;   /* origin part (path and query): "" for authority and asterisk */
    struct http_span host;   /* absolute-form authority if any, else the Host value */
    struct http_span reason; /* responses; may be empty */
    uint64_t content_length; /* valid when HTTP_F_HAS_CL */
    unsigned nhdr;
    unsigned max_hdr; /* input, kept across parses: fields allowed (tune.http.maxhdr), 0: 101 */
    struct http_hdr hdr[HTTP_MAX_HDRS_CAP];
};

/* Parse a request head at the start of buf[0..len).
 * prev_len: len of the previous call that returned 0 for this same message (the caller only
 * appended bytes since), or 0 for a first look. With it, a head still incomplete costs only a
 * scan of the new bytes plus a check of the request line. Returns head_len (> 0) when complete and
 * valid; 0 when more bytes are needed (an invalid or too long request line is reported at once;
 * other errors once the head is complete, so the verdict never depends on how reads split it);
 * -HTTP_E_* on error.
 * When the buffer is full and the result is still 0, the caller answers 431
 * (HTTP_E_HEAD_TOO_LARGE). The next pipelined request starts at head_len plus the body. */
int http_parse_request(const char *buf, size_t len, size_t prev_len, struct http_msg *m);

/* Parse a response head; req_method is the method of the request it answers (HEAD responses have
 * no body; a 2xx to CONNECT is a tunnel). Returns as http_parse_request. Every error maps to 502.
 */
int http_parse_response(const char *buf, size_t len, size_t prev_len, enum http_method req_method,
                        struct http_msg *m);

/* The status the proxy answers for error err (the positive HTTP_E_* value, or its negation):
 * 400, 414, 431, 501 or 505 for a request; always 502 for a response. */
int http_error_status(int err, bool response);

/* A short description of err for logs ("content-length and transfer-encoding"). */
const char *http_error_str(int err);

/* Index of the first field at or after index `from` whose name equals name (case-insensitive),
 * or -1. Iterate over repeated fields with from = previous + 1. */
int http_hdr_find(const char *buf, const struct http_msg *m, const char *name, size_t name_len,
                  unsigned from);

/* Next element of a comma-separated list value v[0..len) (RFC 9110 §5.6.1) starting at *pos:
 * sets *tok (offset relative to v, OWS trimmed), advances *pos and returns true; skips empty
 * elements; returns false at the end. Commas inside quoted strings do not split. */
bool http_list_next(const char *v, size_t len, size_t *pos, struct http_span *tok);
/* End of the list element of v[0..len) that starts at i: the index of the comma that ends it
 * (outside quoted strings), or len. The building block of http_list_next, for callers that must
 * see empty elements too (ACL matching: `hdr(x) -m found` on an empty value). */
size_t http_list_elem_end(const char *v, size_t len, size_t i);

/* Next cookie of a Cookie field value v[0..len) ("a=1; b=2", RFC 6265 §4.2.1, tolerant of
 * blanks) from *pos: sets its name and value (blanks trimmed; a cookie without '=' has an empty
 * name and the text as value, as browsers store it), advances *pos and returns true; false at
 * the end. */
bool http_cookie_next(const char *v, size_t len, size_t *pos, struct http_span *name,
                      struct http_span *value);

/* Whether field i must not be forwarded: Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade, and any field named in Connection (RFC 9110 §7.6.1). A proxy that
 * forwards the body unchanged (chunked included) re-adds Transfer-Encoding itself. */
static inline bool http_hdr_is_hop_by_hop(const struct http_msg *m, unsigned i)
{
    return (m->hdr[i].flags & HTTP_HF_HOP) != 0;
}

/* Whether the connection may be kept after this message: HTTP/1.1 unless "close", HTTP/1.0 only
 * with "keep-alive" and without "close". Bodies delimited by close end the connection too. */
bool http_msg_keep_alive(const struct http_msg *m);

/* Chunked body decoder. Incremental: feed it the bytes after the head in pieces of any size; it
 * never looks back. It does not copy or rewrite anything, so the proxy forwards the raw chunked
 * bytes unchanged and learns where chunk data lies and where the message (trailers included)
 * ends. Zero-initialise, or call http_chunk_init, before the first byte. */
struct http_chunk {
    uint64_t remain; /* data bytes left in the current chunk (splice-able without inspection) */
    uint32_t count;  /* bytes of the current size line, or of the trailer section */
    uint16_t ntrailers;
    uint8_t state;
    uint8_t err; /* the HTTP_E_* a failed decoder keeps returning */
};

enum {
    HTTP_CHUNK_MORE = 0, /* all input consumed, message not finished */
    HTTP_CHUNK_DATA = 1, /* chunk data at buf[*data_off .. *data_off + *data_len) */
    HTTP_CHUNK_DONE = 2, /* the message ended: *used bytes belong to it, the rest is the next one */
};

void http_chunk_init(struct http_chunk *c);

/* Consume buf[0..len) up to the end of the next chunk-data run, or the end of the message, or the
 * end of the input, whichever comes first; *used says how many bytes were consumed. Returns
 * HTTP_CHUNK_DATA (a data run at *data_off, *data_len bytes; call again with the rest),
 * HTTP_CHUNK_MORE, HTTP_CHUNK_DONE, or -HTTP_E_CHUNK_* / -HTTP_E_TRAILER / -HTTP_E_TOO_MANY_FIELDS
 * (the decoder stays failed). */
int http_chunk_parse(struct http_chunk *c, const char *buf, size_t len, size_t *used,
                     size_t *data_off, size_t *data_len);

/* Whether the decoder saw the end of the message. */
#define HTTP_CHUNK_ST_DONE 0xff /* http_chunk.state once the message ended */
static inline bool http_chunk_is_done(const struct http_chunk *c)
{
    return c->state == HTTP_CHUNK_ST_DONE;
}

#endif
