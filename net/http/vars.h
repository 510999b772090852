/* A session's variables (HAProxy's `http-request set-var` / `unset-var`, read by %[var()] and
 * var() ACLs).
 *
 * The config numbers each distinct SCOPE.NAME at load time (cfg->vars[]); a session holds an
 * array of values by that index, allocated when a rule first sets a variable, so configs
 * without variables allocate nothing. Request-scope values (txn., req.) go when the request
 * ends, session-scope ones (sess.) when the connection closes. A session lives on one worker:
 * no locks. */
#ifndef SLUICE_NET_HTTP_VARS_H
#define SLUICE_NET_HTTP_VARS_H

#include <stdbool.h>

#include "config/model.h"
#include "net/http/acl.h"

/* The most bytes a variable holds (tune.bufsize's default): a longer value is cut. */
#define HTTP_VAR_VALUE_MAX 16384

/* Run set-var / unset-var rule r (of a config whose variables are cfg's) on the variables of
 * c (nothing when c->vars is NULL); fc describes the message for the expression's sample. A
 * sample that fails leaves the variable as it is (HAProxy's). Returns 0, or -ENOMEM. */
struct fmt_ctx;
int http_vars_rule(struct http_vars *vs, const struct config *cfg, const struct cfg_http_rule *r,
                   const struct fmt_ctx *fc);

/* Free the values of request scope (txn., req.), or with `all` every value and the array (the
 * connection closes). Accepts an empty vs. */
void http_vars_end(struct http_vars *vs, bool all);

#endif
