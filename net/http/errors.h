/* Responses sluice generates itself: error pages, redirects, `http-request return`. */
#ifndef SLUICE_NET_HTTP_ERRORS_H
#define SLUICE_NET_HTTP_ERRORS_H

#include <stddef.h>

#include "config/model.h"

/* The reason phrase of a status ("Service Unavailable"), "" when unknown. */
const char *http_reason(int status);

/* The complete response for an error status: the proxy's `errorfile` when it has one for this
 * status, else a small HTML page that names no server, address or software. Returns a pointer to
 * static or config-owned bytes and their length in *len. Any thread. */
const char *http_error_page(const struct cfg_proxy *p, int status, size_t *len);
/* The same looking in `first` (a request's backend, or NULL), then in `then` (its frontend). */
const char *http_error_page2(const struct cfg_proxy *first, const struct cfg_proxy *then,
                             int status, size_t *len);

#endif
