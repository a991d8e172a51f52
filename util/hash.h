/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one 64-bit hash of every table in ebpfdump (merge, snapshot, probe
 * marks): a mixer for integer keys, a byte folder for structs, and a
 * random seed so that keys chosen by others cannot pile up in one bucket. */
#ifndef EBPFDUMP_UTIL_HASH_H
#define EBPFDUMP_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util/clock.h"

/* A bijective avalanche step: every input bit moves about half the
 * output bits, so bucket = hash & mask is usable. */
static inline uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= UINT64_C(0xd6e8feb86659fd93);
	x ^= x >> 32;
	x *= UINT64_C(0xd6e8feb86659fd93);
	x ^= x >> 32;
	return x;
}

/* Fold len bytes into h; 8 bytes per step, the tail zero-padded with the
 * length mixed in so that "a" and "a\0" differ. */
static inline uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t w;

	h ^= (uint64_t)len * UINT64_C(0x9e3779b97f4a7c15);
	while (len >= 8) {
		memcpy(&w, p, 8);
		h = hash_mix(h ^ w) + UINT64_C(0x9e3779b97f4a7c15);
		p += 8;
		len -= 8;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = hash_mix(h ^ w ^ ((uint64_t)len << 56));
	}
	return h;
}

#ifdef __SIZEOF_INT128__
/* The 128-bit product of a and b folded to 64 bits: every bit of either
 * input reaches the middle bits of the result in one multiply. */
static inline uint64_t hash_fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 p = (unsigned __int128)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
}
#endif

static inline uint64_t hash_u64(uint64_t h, uint64_t v)
{
	return hash_mix(h ^ v) + UINT64_C(0x9e3779b97f4a7c15);
}

/* A random 64-bit seed, never 0. Without entropy yet (early boot) the
 * clock and pid stand in: keys still spread, only resistance to chosen
 * keys is weaker. */
static inline uint64_t hash_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
		return seed;
	return hash_u64(hash_u64(clock_ns(CLOCK_REALTIME), clock_ns(CLOCK_MONOTONIC)),
			(uint64_t)getpid()) | 1;
}

#endif
