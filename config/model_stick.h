/* The stick-table part of the configuration model: HAProxy's `stick-table` and the counters
 * that `track-sc0..2` rules and `sc_*` / `src_*` fetches use for rate limits. */
#ifndef SLUICE_CONFIG_MODEL_STICK_H
#define SLUICE_CONFIG_MODEL_STICK_H

#include <stdbool.h>
#include <stdint.h>

/* What a table's key is (HAProxy's `type`). */
enum stk_key_type {
    STK_KEY_IP = 0, /* IPv4 address: 4 bytes (an IPv6 client is tracked only if v4-mapped) */
    STK_KEY_IPV6,   /* IPv6 address: 16 bytes (IPv4 clients as ::ffff:a.b.c.d) */
    STK_KEY_INTEGER,
    STK_KEY_STRING, /* up to key_len bytes; longer keys are cut */
};

/* What an entry stores (HAProxy's `store` list). Counters first, then frequencies. */
enum stk_data {
    STK_D_CONN_CNT = 0, /* trackings begun (HAProxy counts connections / streams) */
    STK_D_CONN_CUR,     /* trackings in progress */
    STK_D_HTTP_REQ_CNT, /* HTTP requests */
    STK_D_HTTP_ERR_CNT, /* HTTP requests answered 4xx */
    STK_D_CONN_RATE,    /* frequencies over period_ms: */
    STK_D_HTTP_REQ_RATE,
    STK_D_HTTP_ERR_RATE,
    STK_D_COUNT
};
#define STK_D_NCOUNTERS 4 /* STK_D_CONN_CNT .. STK_D_HTTP_ERR_CNT */

/* Track-sc rules per session, as HAProxy's default MAX_SESS_STKCTR. */
#define STK_TRACKERS 3

struct cfg_stick_table {
    bool present;
    enum stk_key_type type;
    uint32_t key_len;                /* string keys: bytes kept (default 32) */
    uint32_t size;                   /* most entries */
    uint32_t expire_ms;              /* an entry nobody tracks goes this long after its last use */
    uint32_t store;                  /* bit set of 1u << STK_D_* */
    uint32_t period_ms[STK_D_COUNT]; /* the frequencies' periods */
    unsigned idx;                    /* runtime table index (0 .. config.nstick_tables - 1) */
    int line;
};

#endif
