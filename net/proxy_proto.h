/* PROXY protocol v1 and v2 (haproxy.org proxy-protocol.txt): parse on accept, build on connect. */
#ifndef SLUICE_NET_PROXY_PROTO_H
#define SLUICE_NET_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PP_V1_MAX   107 /* longest v1 line, CRLF included */
#define PP_PEEK_MAX 536 /* v2 header + addresses + a reasonable amount of TLVs */

struct pp_info {
    bool local; /* v2 LOCAL or v1 UNKNOWN: keep the connection's own addresses */
    struct sockaddr_storage src;
    struct sockaddr_storage dst;
};

/* Parse a PROXY header at the start of buf. Returns the header length (> 0) when complete and
 * valid, 0 when more bytes are needed, -EINVAL when it is not a valid header. */
int pp_parse(const uint8_t *buf, size_t len, struct pp_info *out);

/* Build a header for src → dst (both AF_INET or both AF_INET6; anything else is sent as
 * UNKNOWN / LOCAL). Returns its length, or 0 when cap is too small (v1 needs PP_V1_MAX, v2 52). */
size_t pp_build_v1(char *out, size_t cap, const struct sockaddr *src, const struct sockaddr *dst);
size_t pp_build_v2(uint8_t *out, size_t cap, const struct sockaddr *src,
                   const struct sockaddr *dst);

#endif
