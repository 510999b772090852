/* Looks a sample up in a map file loaded by config/map.c (HAProxy's map converters).
 *
 * Reads the immutable config only: no lock, no allocation (map_reg runs on the worker's regex
 * scratch). Any worker thread may call it. */
#ifndef SLUICE_NET_HTTP_MAP_H
#define SLUICE_NET_HTTP_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"

/* Find s[0..n) in map m by m's kind: on a match stores the entry's value (borrowed from the
 * config) in *v and *vl and returns true; false when no key matches (map_ip: also when s is not
 * an IPv4 or IPv6 address). `scratch` is the worker's acl_worker_match_data_new() (map_reg), or
 * NULL. */
bool map_lookup(const struct cfg_map *m, const char *s, size_t n, void *scratch, const char **v,
                size_t *vl);

#endif
