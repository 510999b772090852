/* Regex rewrites of http-request / http-response rules: replace-header, replace-value, set-path,
 * replace-path, set-query.
 *
 * HAProxy's semantics: a rule's regex is searched in the subject (it is not anchored; write ^ and
 * $ for that); when it matches, the whole subject (a field value, one comma-separated element, or
 * the path) is replaced by the expansion of the replacement, in which \0 is the match, \1 to \9
 * its groups (an unset group is empty), \xHH a byte and \C the character C (exp_replace()). The
 * configuration checked the replacement when it loaded (config/kw_http.c): every group exists and
 * its literal bytes fit where they go. What a back-reference copies comes from the message, so
 * each result is checked again here before it is used.
 *
 * The functions write into a caller's buffer and allocate nothing, given a match data of at least
 * CFG_HTTP_REGEX_GROUPS pairs (the worker's, acl_worker_match_data_new()); without one (NULL) they
 * allocate their own, as unit tests do. Any worker thread may call them. */
#ifndef SLUICE_NET_HTTP_REWRITE_H
#define SLUICE_NET_HTTP_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"

/* Apply replace-header or replace-value rule r to the field value v[0..vl) and write the result
 * (v itself when nothing matched) to dst[0..cap); dst must not overlap v. Returns the result's
 * length; -ENOSPC when it does not fit; -EINVAL when it would hold a control character other
 * than HTAB (CR, LF and NUL included); -EIO when the regex hit the worker's match limits. */
int http_rw_value(const struct cfg_http_rule *r, const char *v, size_t vl, char *dst, size_t cap,
                  void *match_data);

/* Where the path lies in a request target: target[path_off .. path_off + path_len) is the path,
 * before it the scheme and authority of an absolute-form target, after it "?query" or nothing.
 * asterisk: the target is "*" (OPTIONS *), which has no path. */
struct http_rw_target {
    const char *target;
    size_t len;
    size_t path_off, path_len;
    bool asterisk;
};

/* Apply set-path, replace-path or set-query rule r to target t and write the new target to
 * dst[0..cap); dst must not overlap t->target. set-path on "*" replaces it. Returns its length;
 * -ENOENT when the rule changes nothing (replace-path that does not match, replace-path or
 * set-query on "*"); -ENOSPC when it does not fit; -EINVAL when the new path would not start with
 * '/' or would hold a byte other than visible ASCII, or '?' or '#' (a query: visible ASCII but
 * '#'). */
int http_rw_target(const struct cfg_http_rule *r, const struct http_rw_target *t, char *dst,
                   size_t cap, void *match_data);

/* The expansion of replacement tmpl (NUL-terminated) for a match of a regex in subj, whose
 * offsets are ov[0..2*npairs) (PCRE2's ovector; pairs past npairs or PCRE2_UNSET are empty),
 * into dst[0..cap). Returns the length or -ENOSPC. */
int http_rw_expand(char *dst, size_t cap, const char *tmpl, const char *subj, const size_t *ov,
                   unsigned npairs);

#endif
