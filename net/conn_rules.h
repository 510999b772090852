/* `tcp-request connection` rules: run once per accepted connection, in mode tcp and http,
 * before anything is read from it (HAProxy's semantics: they see the connection's own source,
 * not a PROXY header's). */
#ifndef SLUICE_NET_CONN_RULES_H
#define SLUICE_NET_CONN_RULES_H

#include <stdbool.h>

#include "core/stktable.h"
#include "core/worker.h"

/* Whether frontend fe keeps the connection from peer accepted on its bind line `bind`: false
 * when a reject rule matched (the caller closes it and counts it, see conn_rules_rejected).
 * Entries that track-sc rules start are stored in trk, for the connection's whole life. */
bool conn_rules_accept(struct worker *w, const struct frontend *fe, unsigned bind,
                       const union peer_addr *peer, struct stk_trackers *trk);

/* Close a rejected connection and count it (dcon), leaving the acceptor's session bookkeeping
 * right. */
void conn_rules_rejected(struct worker *w, struct frontend *fe, int fd);

#endif
