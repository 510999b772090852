/* Stick tables at run time: per-key counters and frequencies shared by every worker, for rate
 * limits (HAProxy's `stick-table` + `track-sc0..2` + `sc_*` / `src_*` fetches).
 *
 * A table is split into shards by key hash; each shard is a chained hash table under a spinlock
 * held only to find, add or unlink an entry (tens of nanoseconds, never across a system call).
 * Counters are atomics updated outside the lock: a tracked entry is pinned by its reference
 * count, and entries are freed through the epoch scheme, so a worker may read an entry it found
 * until the end of its event batch. The health-checker thread sweeps expired entries. */
#ifndef SLUICE_CORE_STKTABLE_H
#define SLUICE_CORE_STKTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/model.h"

struct stk_table;
struct stk_entry;

/* Longest key: a string table's key_len is capped to this on load. */
#define STK_KEY_MAX 1024

/* The entries a session tracks (sc0..sc2): started by `tcp-request connection track-scN` for the
 * whole connection, or by `http-request track-scN` for one request (their bits in `req`). */
struct stk_trackers {
    struct stk_entry *e[STK_TRACKERS]; /* references, NULL when untracked */
    uint8_t req;                       /* bit i: e[i] ends with the current request */
};

/* Events that move an entry's data. */
enum stk_event {
    STK_EV_TRACK,    /* a tracker begins: conn_cnt, conn_cur, conn_rate */
    STK_EV_HTTP_REQ, /* http_req_cnt, http_req_rate */
    STK_EV_HTTP_ERR, /* http_err_cnt, http_err_rate */
};

/* Build the tables of cfg (each proxy with a stick-table). Main thread, before the workers start;
 * returns 0 or -ENOMEM. stktable_shutdown frees them after the workers stopped. */
int stktable_init(const struct config *cfg);
void stktable_shutdown(void);

/* Table idx (a cfg_stick_table.idx), or NULL. */
struct stk_table *stktable_get(unsigned idx);
size_t stktable_count(void);
const char *stktable_name(const struct stk_table *t);

/* Turn a key into the table's binary form in out[STK_KEY_MAX]: an address (sa, AF_INET or
 * AF_INET6) or text (s, n bytes: an address for ip tables, a decimal number for integer ones).
 * Returns the key's length, or 0 when the sample does not fit the table's type. */
size_t stktable_key_addr(const struct stk_table *t, const struct sockaddr *sa, unsigned char *out);
size_t stktable_key_text(const struct stk_table *t, const char *s, size_t n, unsigned char *out);

/* Find or add the entry of key and take a reference on it (the tracker's), counting
 * STK_EV_TRACK. A full table first evicts the least recently used of a few untracked entries.
 * Returns NULL when every entry of a full table is tracked or memory runs out (the request is
 * then not tracked). Worker threads. */
struct stk_entry *stktable_track(struct stk_table *t, const unsigned char *key, size_t klen,
                                 uint32_t now);
/* The tracker ends: conn_cur down, the entry's expiry restarts, the reference goes. */
void stktable_untrack(struct stk_entry *e, uint32_t now);

void stktable_event(struct stk_entry *e, enum stk_event ev, uint32_t now);
/* Count ev on every entry of trk. */
void stktable_event_all(struct stk_trackers *trk, enum stk_event ev, uint32_t now);
/* Untrack the entries of trk that `which` selects (a bit per tracker), or all of them. */
void stktable_untrack_some(struct stk_trackers *trk, uint8_t which, uint32_t now);

/* Read data d of an entry: false when the table does not store it. Rates are events per the
 * data's period, as HAProxy computes them (the current period plus the previous one's share). */
bool stktable_read(const struct stk_entry *e, enum stk_data d, uint32_t now, uint64_t *out);

/* The same for key without tracking it: an absent key reads 0 (HAProxy's src_* fetches). */
bool stktable_lookup_read(struct stk_table *t, const unsigned char *key, size_t klen,
                          enum stk_data d, uint32_t now, uint64_t *out);

/* Unlink entries that nobody tracks and whose expiry passed, in the next slice of each table
 * (at most 2^18 buckets: a table of up to 256k entries at once, a larger one over several calls);
 * the health thread calls it every 100 ms. Returns how many went. */
size_t stktable_sweep(uint32_t now);

/* Runtime API (`show table`, `clear table`): write the header line of table t, or every entry
 * (key=... use=... exp=... data...) through `out`; remove every unreferenced entry, or the one
 * with key text. Main / CLI thread. Returns the lines written / entries removed. */
typedef void (*stktable_out_fn)(void *arg, const char *line, size_t len);
void stktable_show_header(struct stk_table *t, stktable_out_fn out, void *arg);
size_t stktable_show(struct stk_table *t, uint32_t now, stktable_out_fn out, void *arg);
size_t stktable_clear(struct stk_table *t, const char *key_text);
struct stk_table *stktable_find(const char *name);

#endif
