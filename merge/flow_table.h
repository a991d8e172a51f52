/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LRU flow table: normalized 5-tuple → the two endpoints' owners.
 *
 * A chained hash over a pool of entries allocated once at creation; no
 * allocation afterwards. The key is direction-independent (the two
 * endpoints are sorted), lookups compare the whole key, and an intrusive
 * doubly linked list keeps entries in least-recently-used order so that
 * lookup, insert, evict and remove are O(1) (plus the bucket's chain).
 * When the pool is full, inserting evicts the least recently used entry.
 * Closed entries also sit on a FIFO in closing order and leave it by
 * flow_table_expire(). Indices are 32-bit to keep an entry small.
 *
 * The table stores owner pointers but does not manage them: it calls the
 * release callback whenever an entry leaves (eviction, expiry, removal,
 * table free) so that the owner of the owners can drop its references.
 * Not thread-safe; does not print.
 */
#ifndef EBPFDUMP_FLOW_TABLE_H
#define EBPFDUMP_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_TABLE_CAPACITY_DEFAULT (1u << 20)
/* Upper bound for the capacity a caller may ask for (88 B per entry). */
#define FLOW_TABLE_CAPACITY_MAX (1u << 26)
#define FLOW_NONE UINT32_MAX

struct owner;

/* Endpoint "a" is the smaller of the two (address bytes, then port), so
 * both directions of a conversation give the same key. IPv4 addresses use
 * the first 4 bytes of addr_*, the rest is zero; pad is zero, so the key
 * can be hashed and compared as 40 bytes. Ports in host order. */
struct flow_key {
	uint8_t family;
	uint8_t proto;
	uint16_t port_a;
	uint16_t port_b;
	uint16_t pad;
	uint8_t addr_a[16];
	uint8_t addr_b[16];
};
_Static_assert(sizeof(struct flow_key) == 40, "flow_key is hashed as raw bytes");

#define FLOW_STATE_USED 0x01
#define FLOW_STATE_CLOSED 0x02

struct flow {
	struct flow_key key;
	uint32_t hash_next; /* bucket chain (or the free list) */
	uint32_t lru_prev, lru_next;
	uint32_t closed_prev, closed_next;
	uint8_t state;	       /* FLOW_STATE_* */
	uint8_t owner_type[2]; /* enum event_type that set owner[i]; 0 none */
	uint8_t user;	       /* free for the table's user */
	uint64_t closed_ts;    /* ns, valid with FLOW_STATE_CLOSED */
	struct owner *owner[2]; /* owner of endpoint a, b; NULL when unknown */
};

typedef uint64_t (*flow_hash_fn)(const struct flow_key *key, uint64_t seed);

struct flow_table_config {
	uint32_t capacity; /* entries; 0 means FLOW_TABLE_CAPACITY_DEFAULT */
	uint32_t buckets;  /* 0: the power of two >= capacity; else rounded up to one */
	uint64_t seed;	   /* 0: a random seed */
	flow_hash_fn hash; /* NULL: flow_key_hash (tests inject colliding ones) */
	/* Called for each entry leaving the table, before it is reused. */
	void (*release)(struct flow *flow, void *ctx);
	void *ctx;
};

struct flow_table_stats {
	uint32_t capacity, count, buckets;
	uint64_t inserted, evicted, expired, removed;
	uint64_t bytes; /* pool plus buckets, allocated once */
};

struct flow_table;

/* Returns 0, -EINVAL for a capacity over FLOW_TABLE_CAPACITY_MAX, or
 * -ENOMEM. cfg may be NULL for all defaults. */
int flow_table_new(const struct flow_table_config *cfg, struct flow_table **ret);
/* Releases every entry (callback) and frees; NULL-safe; returns NULL. */
struct flow_table *flow_table_free(struct flow_table *t);

/* Build the normalized key of the conversation between endpoint 1 and
 * endpoint 2 (addresses 4 or 16 bytes by family). Returns which side
 * endpoint 1 became: 0 for a, 1 for b; endpoint 2 is the other one. */
unsigned flow_key_init(struct flow_key *key, uint8_t family, uint8_t proto, const uint8_t *addr1,
		       uint16_t port1, const uint8_t *addr2, uint16_t port2);
uint64_t flow_key_hash(const struct flow_key *key, uint64_t seed);

/* Find by full key and make it the most recently used; NULL when absent. */
struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *key);
/* flow_table_lookup, trying entry hint first (flow_table_index() of an
 * earlier answer, or FLOW_NONE): a packet of the same flow as the one
 * before it, the common case, costs one key compare instead of a hash
 * and a bucket walk. */
struct flow *flow_table_lookup_hint(struct flow_table *t, const struct flow_key *key,
				    uint32_t hint);
/* Find without touching the LRU order. */
struct flow *flow_table_find(const struct flow_table *t, const struct flow_key *key);
/* An entry's position in the pool, stable while it stays in the table;
 * FLOW_NONE for NULL. */
uint32_t flow_table_index(const struct flow_table *t, const struct flow *flow);
/* flow_table_find, trying first the entry at hint (an earlier
 * flow_table_index, or FLOW_NONE): when it still holds key, no hashing
 * and no bucket walk. Keys are unique in the table, so an entry at hint
 * with this key is the one flow_table_find would return. */
struct flow *flow_table_find_hint(const struct flow_table *t, const struct flow_key *key,
				  uint32_t hint);
/* Find or add, and make it the most recently used. Returns 1 with a new
 * zeroed entry (owners NULL), 0 with the existing one. A full table
 * evicts its least recently used entry first (counted). */
int flow_table_insert(struct flow_table *t, const struct flow_key *key, struct flow **ret);
void flow_table_remove(struct flow_table *t, struct flow *flow);

/* Mark closed at ts (again: moves it to the FIFO's end with the new ts). */
void flow_table_close(struct flow_table *t, struct flow *flow, uint64_t ts);
/* A closed tuple was reused by a new connection: open again. */
void flow_table_reopen(struct flow_table *t, struct flow *flow);
/* Remove closed entries with closed_ts <= before, oldest first; stops at
 * the first younger one (the FIFO is in closing order). Returns how many. */
unsigned flow_table_expire(struct flow_table *t, uint64_t before);

/* LRU walk, oldest first: for tests and diagnostics. */
struct flow *flow_table_oldest(const struct flow_table *t);
struct flow *flow_table_newer(const struct flow_table *t, const struct flow *flow);

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *ret);

#endif
