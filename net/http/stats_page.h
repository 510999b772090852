/* The statistics as HTTP serves them: the HTML page, HAProxy's CSV, JSON and the Prometheus text
 * exposition format (writers of a struct stats_snap), plus the mode http hooks that count
 * requests and answer `stats uri` and `http-request use-service prometheus-exporter`. */
#ifndef SLUICE_NET_HTTP_STATS_PAGE_H
#define SLUICE_NET_HTTP_STATS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"

struct stats_page_opts {
    const char *uri;    /* `stats uri`, for the links to ;csv and ;json ("" for none) */
    uint32_t refresh_s; /* auto-refresh period, 0: off */
    bool hide_version;  /* `stats hide-version` */
};

/* Each writer returns a malloc'ed NUL-terminated text (its length in *len) that the caller frees,
 * or NULL on ENOMEM. Pure functions of the snapshot: any thread. */

/* An HTML5 page: a summary, then one <table class="px"> per proxy with HAProxy's rows
 * (FRONTEND, servers, BACKEND), colours by server state, latency percentiles. No scripts, no
 * external assets. */
char *stats_page_html(const struct stats_snap *s, const struct stats_page_opts *o, size_t *len);
/* HAProxy's `show stat` CSV: "# pxname,svname,..." then one line per row, columns in HAProxy's
 * order up to `intercepted`, empty where sluice has no such figure. */
char *stats_page_csv(const struct stats_snap *s, size_t *len);
/* {"sluice": {...}, "proxies": [{"name", "mode", "frontend", "servers": [...], "backend"}]} with
 * every counter by its CSV name and latency percentiles (docs/operations.md). */
char *stats_page_json(const struct stats_snap *s, size_t *len);
/* Prometheus text format 0.0.4: sluice_process_*, sluice_frontend_*, sluice_backend_*,
 * sluice_server_* (HAProxy's exporter names with the sluice prefix) and the latency histograms
 * sluice_{backend,server}_{connect,response,total}_time_seconds. */
char *stats_page_prometheus(const struct stats_snap *s, size_t *len);

/* ---- mode http hooks (stream.c calls them; worker thread only) ---- */

struct hs;
struct http_msg;
struct cfg_http_rule;
struct server;
struct cfg_proxy;

/* The request of h is over (before its log line): add it to the frontend, backend and server
 * counters and latency histograms of this worker. */
void http__stats_request_end(struct hs *h);
/* Count one event (STC_DREQ, STC_ECON, ...) on the frontend, or on the backend and server sv
 * (may be NULL) of the current request. */
void http__stats_fe_add(struct hs *h, enum stats_ctr c);
void http__stats_be_add(struct hs *h, const struct server *sv, enum stats_ctr c);
/* When the request is for the `stats uri` of px (the frontend, or the backend it was routed
 * to, once that backend's http-request rules let it through, as in HAProxy), answer it (page,
 * ;csv or ;json, or the 401 of `stats auth`) and return true. */
bool http__stats_intercept(struct hs *h, const struct http_msg *m, const struct cfg_proxy *px);
/* `http-request use-service NAME` (only prometheus-exporter exists): answer the request. */
void http__stats_service(struct hs *h, const struct http_msg *m, const struct cfg_http_rule *r);

#endif
