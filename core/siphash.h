/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash whose outputs an attacker who does not know
 * the key can neither predict nor collide on purpose. For tables keyed by what clients send
 * (credential caches, stick tables), with a per-process random key. */
#ifndef SLUICE_CORE_SIPHASH_H
#define SLUICE_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash(const uint64_t k[2], const void *data, size_t len);

#endif
