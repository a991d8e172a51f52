/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LRU flow table: preallocated pool, chained buckets, intrusive lists. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "merge/flow_table.h"
#include "util/hash.h"

_Static_assert(sizeof(struct flow) <= 96, "keep a tracked flow small");

struct flow_table {
	struct flow *pool;
	uint32_t *buckets; /* head index per bucket, FLOW_NONE when empty */
	size_t pool_bytes, bucket_bytes;
	uint32_t bucket_mask;
	uint32_t capacity;
	uint32_t count;
	/* Entries below fresh have been used at least once; the pool is
	 * handed out in order first so untouched pages stay unmapped. */
	uint32_t fresh;
	uint32_t free_head;
	uint32_t lru_head, lru_tail; /* head: most recently used */
	uint32_t closed_head, closed_tail;
	uint64_t seed;
	flow_hash_fn hash;
	void (*release)(struct flow *flow, void *ctx);
	void *ctx;
	uint64_t inserted, evicted, expired, removed;
};

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

/* Anonymous memory, zero and mapped lazily: an idle 1M-entry pool costs
 * address space, not memory. Lookups land anywhere in ~90 MB, so every
 * one is a TLB miss with 4 KiB pages; huge pages (where THP is in madvise
 * mode) cut the page walks. Best effort: the advice may be refused. */
static void *table_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void table_unmap(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

int flow_table_new(const struct flow_table_config *cfg, struct flow_table **ret)
{
	struct flow_table_config def = { 0 };
	struct flow_table *t;
	uint32_t nbuckets;

	if (!cfg)
		cfg = &def;
	if (cfg->capacity > FLOW_TABLE_CAPACITY_MAX || cfg->buckets > FLOW_TABLE_CAPACITY_MAX)
		return -EINVAL;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->capacity = cfg->capacity ? cfg->capacity : FLOW_TABLE_CAPACITY_DEFAULT;
	nbuckets = round_pow2(cfg->buckets ? cfg->buckets : t->capacity);
	t->bucket_mask = nbuckets - 1;
	t->seed = cfg->seed ? cfg->seed : hash_seed();
	t->hash = cfg->hash ? cfg->hash : flow_key_hash;
	t->release = cfg->release;
	t->ctx = cfg->ctx;
	t->free_head = t->lru_head = t->lru_tail = FLOW_NONE;
	t->closed_head = t->closed_tail = FLOW_NONE;

	t->pool_bytes = (size_t)t->capacity * sizeof(*t->pool);
	t->bucket_bytes = (size_t)nbuckets * sizeof(*t->buckets);
	t->pool = table_alloc(t->pool_bytes);
	t->buckets = table_alloc(t->bucket_bytes);
	if (!t->pool || !t->buckets) {
		table_unmap(t->pool, t->pool_bytes);
		table_unmap(t->buckets, t->bucket_bytes);
		free(t);
		return -ENOMEM;
	}
	memset(t->buckets, 0xff, t->bucket_bytes);
	*ret = t;
	return 0;
}

static uint32_t idx(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - t->pool);
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->lru_prev != FLOW_NONE)
		t->pool[f->lru_prev].lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next != FLOW_NONE)
		t->pool[f->lru_next].lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
}

static void lru_push_head(struct flow_table *t, struct flow *f)
{
	uint32_t i = idx(t, f);

	f->lru_prev = FLOW_NONE;
	f->lru_next = t->lru_head;
	if (t->lru_head != FLOW_NONE)
		t->pool[t->lru_head].lru_prev = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
}

static void closed_unlink(struct flow_table *t, struct flow *f)
{
	if (f->closed_prev != FLOW_NONE)
		t->pool[f->closed_prev].closed_next = f->closed_next;
	else
		t->closed_head = f->closed_next;
	if (f->closed_next != FLOW_NONE)
		t->pool[f->closed_next].closed_prev = f->closed_prev;
	else
		t->closed_tail = f->closed_prev;
}

static void closed_push_tail(struct flow_table *t, struct flow *f)
{
	uint32_t i = idx(t, f);

	f->closed_next = FLOW_NONE;
	f->closed_prev = t->closed_tail;
	if (t->closed_tail != FLOW_NONE)
		t->pool[t->closed_tail].closed_next = i;
	else
		t->closed_head = i;
	t->closed_tail = i;
}

static uint32_t *bucket_of(const struct flow_table *t, const struct flow_key *key)
{
	return &t->buckets[t->hash(key, t->seed) & t->bucket_mask];
}

/* Unlink from everything, hand to the user's release, back to the pool. */
static void entry_drop(struct flow_table *t, struct flow *f)
{
	uint32_t i = idx(t, f);
	uint32_t *link = bucket_of(t, &f->key);

	while (*link != i && *link != FLOW_NONE)
		link = &t->pool[*link].hash_next;
	if (*link == i)
		*link = f->hash_next;
	lru_unlink(t, f);
	if (f->state & FLOW_STATE_CLOSED)
		closed_unlink(t, f);
	if (t->release)
		t->release(f, t->ctx);
	memset(f, 0, sizeof(*f));
	f->hash_next = t->free_head;
	t->free_head = i;
	t->count--;
}

struct flow_table *flow_table_free(struct flow_table *t)
{
	if (!t)
		return NULL;
	if (t->release)
		for (uint32_t i = t->lru_head; i != FLOW_NONE; i = t->pool[i].lru_next)
			t->release(&t->pool[i], t->ctx);
	table_unmap(t->pool, t->pool_bytes);
	table_unmap(t->buckets, t->bucket_bytes);
	free(t);
	return NULL;
}

/* memcmp(a, b, len) for addresses of 4 or 16 bytes: the bytes in
 * network order compare like big-endian integers, without a libc call
 * for every packet. */
static int addr_cmp(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint64_t x, y;

	if (len == 4) {
		uint32_t x4, y4;

		memcpy(&x4, a, 4);
		memcpy(&y4, b, 4);
		x4 = be32toh(x4);
		y4 = be32toh(y4);
		return (x4 > y4) - (x4 < y4);
	}
	for (size_t i = 0; i < len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
			x = be64toh(x);
			y = be64toh(y);
			return x < y ? -1 : 1;
		}
	}
	return 0;
}

unsigned flow_key_init(struct flow_key *key, uint8_t family, uint8_t proto, const uint8_t *addr1,
		       uint16_t port1, const uint8_t *addr2, uint16_t port2)
{
	size_t alen = family == AF_INET ? 4 : 16;
	int c;

	memset(key, 0, sizeof(*key));
	key->family = family;
	key->proto = proto;
	c = addr_cmp(addr1, addr2, alen);
	if (c < 0 || (c == 0 && port1 <= port2)) {
		memcpy(key->addr_a, addr1, alen);
		memcpy(key->addr_b, addr2, alen);
		key->port_a = port1;
		key->port_b = port2;
		return 0;
	}
	memcpy(key->addr_a, addr2, alen);
	memcpy(key->addr_b, addr1, alen);
	key->port_a = port2;
	key->port_b = port1;
	return 1;
}

/* Every packet is looked up twice (when it arrives and when it leaves
 * the window), so this is on the hottest path. Five chained hash_mix()
 * steps, one per word, cost about five multiply latencies in a row;
 * here the five words go through three independent seeded products, so
 * the multiplies overlap, and one hash_mix() spreads the result over the
 * bucket bits. The seed enters every product: without it, keys that
 * collide cannot be built in advance. */
uint64_t flow_key_hash(const struct flow_key *key, uint64_t seed)
{
#ifdef __SIZEOF_INT128__
	uint64_t w[5];
	uint64_t a, b, c;

	_Static_assert(sizeof(w) == sizeof(*key), "the key is five words");
	memcpy(w, key, sizeof(w));
	a = hash_fold_mul(w[0] ^ seed ^ UINT64_C(0xa0761d6478bd642f),
			  w[1] ^ seed ^ UINT64_C(0xe7037ed1a0b428db));
	b = hash_fold_mul(w[2] ^ seed ^ UINT64_C(0x8ebc6af09c88c6e3),
			  w[3] ^ seed ^ UINT64_C(0x589965cc75374cc3));
	c = hash_fold_mul(w[4] ^ seed ^ UINT64_C(0x1d8e4e27c47d124f),
			  seed ^ UINT64_C(0x9e3779b97f4a7c15));
	return hash_mix(a ^ b ^ c);
#else
	return hash_bytes(seed, key, sizeof(*key));
#endif
}

/* Word compares, inlined: a libc memcmp call per chain entry costs more
 * than the 40 bytes. */
static bool key_equal(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t x[5], y[5];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

struct flow *flow_table_find(const struct flow_table *t, const struct flow_key *key)
{
	for (uint32_t i = *bucket_of(t, key); i != FLOW_NONE; i = t->pool[i].hash_next)
		if (key_equal(&t->pool[i].key, key))
			return &t->pool[i];
	return NULL;
}

uint32_t flow_table_index(const struct flow_table *t, const struct flow *flow)
{
	return flow ? idx(t, flow) : FLOW_NONE;
}

struct flow *flow_table_find_hint(const struct flow_table *t, const struct flow_key *key,
				  uint32_t hint)
{
	/* hint < fresh: entries above were never handed out (not mapped). */
	if (hint < t->fresh && (t->pool[hint].state & FLOW_STATE_USED) &&
	    key_equal(&t->pool[hint].key, key))
		return &t->pool[hint];
	return flow_table_find(t, key);
}

struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *key)
{
	return flow_table_lookup_hint(t, key, FLOW_NONE);
}

struct flow *flow_table_lookup_hint(struct flow_table *t, const struct flow_key *key,
				    uint32_t hint)
{
	struct flow *f = flow_table_find_hint(t, key, hint);

	if (f && t->lru_head != idx(t, f)) {
		lru_unlink(t, f);
		lru_push_head(t, f);
	}
	return f;
}

int flow_table_insert(struct flow_table *t, const struct flow_key *key, struct flow **ret)
{
	struct flow *f = flow_table_lookup(t, key);
	uint32_t *bucket, i;

	if (f) {
		*ret = f;
		return 0;
	}
	if (t->count == t->capacity) {
		entry_drop(t, &t->pool[t->lru_tail]);
		t->evicted++;
	}
	if (t->free_head != FLOW_NONE) {
		i = t->free_head;
		t->free_head = t->pool[i].hash_next;
	} else {
		i = t->fresh++;
	}
	f = &t->pool[i];
	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->state = FLOW_STATE_USED;
	f->closed_prev = f->closed_next = FLOW_NONE;
	bucket = bucket_of(t, key);
	f->hash_next = *bucket;
	*bucket = i;
	lru_push_head(t, f);
	t->count++;
	t->inserted++;
	*ret = f;
	return 1;
}

void flow_table_remove(struct flow_table *t, struct flow *flow)
{
	entry_drop(t, flow);
	t->removed++;
}

void flow_table_close(struct flow_table *t, struct flow *flow, uint64_t ts)
{
	if (flow->state & FLOW_STATE_CLOSED)
		closed_unlink(t, flow);
	flow->state |= FLOW_STATE_CLOSED;
	flow->closed_ts = ts;
	closed_push_tail(t, flow);
}

void flow_table_reopen(struct flow_table *t, struct flow *flow)
{
	if (!(flow->state & FLOW_STATE_CLOSED))
		return;
	closed_unlink(t, flow);
	flow->state &= (uint8_t)~FLOW_STATE_CLOSED;
	flow->closed_ts = 0;
	flow->closed_prev = flow->closed_next = FLOW_NONE;
}

unsigned flow_table_expire(struct flow_table *t, uint64_t before)
{
	unsigned n = 0;

	while (t->closed_head != FLOW_NONE && t->pool[t->closed_head].closed_ts <= before) {
		entry_drop(t, &t->pool[t->closed_head]);
		t->expired++;
		n++;
	}
	return n;
}

struct flow *flow_table_oldest(const struct flow_table *t)
{
	return t->lru_tail == FLOW_NONE ? NULL : &t->pool[t->lru_tail];
}

struct flow *flow_table_newer(const struct flow_table *t, const struct flow *flow)
{
	return flow->lru_prev == FLOW_NONE ? NULL : &t->pool[flow->lru_prev];
}

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->capacity = t->capacity;
	ret->count = t->count;
	ret->buckets = t->bucket_mask + 1;
	ret->inserted = t->inserted;
	ret->evicted = t->evicted;
	ret->expired = t->expired;
	ret->removed = t->removed;
	ret->bytes = (uint64_t)t->capacity * sizeof(struct flow) +
		     (uint64_t)ret->buckets * sizeof(uint32_t);
}
