/* Stick-table tracking: `tcp-request connection` / `http-request track-sc0..2` rules and the
 * counters they feed (core/stktable.h holds the tables). A connection's trackers last until it
 * closes and count each of its requests; a request's trackers last until the request ends, as
 * HAProxy's trackers started by http-request rules last one stream. */
#ifndef SLUICE_NET_HTTP_TRACK_H
#define SLUICE_NET_HTTP_TRACK_H

#include "config/model.h"
#include "net/http/acl.h"

/* Run a track-sc rule for the request (or connection) c describes: the first rule per counter
 * wins (later ones for a tracked counter are ignored, as in HAProxy). The entry counts the
 * tracking (conn_*) and, for a request (`request` true), this request (http_req_*); a key the
 * table cannot hold (an IPv6 client in an ip table, a full table) tracks nothing. c->trk must
 * be set. */
void http_track_rule(struct acl_ctx *c, const struct cfg_http_rule *r, bool request);

/* A request begins: the connection's trackers count it. */
void http_track_begin(struct stk_trackers *trk, uint32_t now);

/* The request is an HTTP error (a denial or a tarpit, whatever its status): every tracked entry
 * counts it. */
void http_track_error(struct stk_trackers *trk, uint32_t now);

/* The request ended with `status` (0: no response): a 4xx counts as an HTTP error of every
 * tracked entry unless http_track_error counted the request already (err_counted), then the
 * request's trackers are released. */
void http_track_end(struct stk_trackers *trk, int status, bool err_counted, uint32_t now);

#endif
