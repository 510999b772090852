/* Expands the log-format header values of http-request / http-response rules (`%[src]`,
 * `%[req.hdr(host),lower]`, `%ci`, ...; parsed by config/fmt.c) for one message.
 *
 * Pure: the caller describes the message in a fmt_ctx (the request as an acl_ctx, the response
 * through a header iterator) and gets bytes in its own buffer; nothing is allocated (%[uuid]
 * keeps a per-thread generator, map_reg runs on the request's regex scratch). Samples read the
 * messages' fields as received, before any rule's edits; url/path/query follow target rewrites,
 * var() reads the session's variables as they are when the value is expanded,
 * %HU and capture.req.uri are the target as sent. A sample the message lacks expands to nothing
 * and skips its converters (a map's default too, as in HAProxy). Any worker thread may call it. */
#ifndef SLUICE_NET_HTTP_FMT_H
#define SLUICE_NET_HTTP_FMT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config/model.h"
#include "net/http/acl.h"

struct fmt_ctx {
    const struct acl_ctx *req; /* the request; NULL-pointer fields expand to nothing */
    const char *orig_target;   /* the target as the client sent it (req's may be rewritten) */
    size_t orig_target_len;
    acl_hdr_next_fn res_hdr_next;             /* response fields (http-response rules), else NULL */
    void *res_msg;                            /* passed to res_hdr_next */
    int status;                               /* response status, 0 before one */
    const char *fe_name, *be_name, *srv_name; /* NULL expands to nothing */
    const struct sockaddr *dst;      /* where the client connected (dst, dst_port); may be NULL */
    const struct timespec *req_wall; /* the request's start (%Ts, %ms); may be NULL */
    const char *unique_id;           /* the request's unique ID (%[unique-id]); may be NULL */
    const struct http_vars *vars;    /* the session's variables (%[var()]); may be NULL */
};

/* Most bytes f can expand to for messages whose heads hold at most head_len bytes. */
size_t fmt_bound(const struct cfg_fmt *f, size_t head_len);

/* Expand f into out[0..cap): the byte count, or -1 when it does not fit. */
ssize_t fmt_expand(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap);
/* The same, keeping the first cap bytes of a longer expansion: the byte count. */
size_t fmt_expand_cut(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap);
/* fmt_expand_cut for a set-var expression: -1 when a sample of f failed (an absent field, an
 * unset variable, a map without a match nor a default), so that the variable is left as it is. */
ssize_t fmt_expand_sample(const struct cfg_fmt *f, const struct fmt_ctx *c, char *out, size_t cap);

#endif
