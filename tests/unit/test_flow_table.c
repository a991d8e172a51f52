/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of merge/flow_table: LRU order, eviction, expiry, collisions,
 * direction independence, lookups from a hint, endpoint order, the hash,
 * and a random run against a naive model. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "merge/flow_table.h"
#include "test_util.h"

static uint64_t collide(const struct flow_key *key, uint64_t seed)
{
	(void)key;
	(void)seed;
	return 42; /* every key in one chain */
}

/* Key number n: 10.0.(n>>8).(n&255):n+1 ↔ 192.168.0.1:80, TCP. */
static void key_n(struct flow_key *k, unsigned n)
{
	uint8_t a[4] = { 10, 0, (uint8_t)(n >> 8), (uint8_t)n }, b[4] = { 192, 168, 0, 1 };

	flow_key_init(k, AF_INET, 6, a, (uint16_t)(n + 1), b, 80);
}

static unsigned released;
static struct flow_key last_released;

static void on_release(struct flow *f, void *ctx)
{
	(void)ctx;
	released++;
	last_released = f->key;
}

static struct flow_table *table(uint32_t capacity, uint32_t buckets, flow_hash_fn hash)
{
	struct flow_table_config cfg = {
		.capacity = capacity,
		.buckets = buckets,
		.seed = 7,
		.hash = hash,
		.release = on_release,
	};
	struct flow_table *t = NULL;

	if (flow_table_new(&cfg, &t) < 0)
		abort();
	return t;
}

static struct flow *insert_n(struct flow_table *t, unsigned n)
{
	struct flow_key k;
	struct flow *f = NULL;

	key_n(&k, n);
	flow_table_insert(t, &k, &f);
	return f;
}

static struct flow *find_n(struct flow_table *t, unsigned n)
{
	struct flow_key k;

	key_n(&k, n);
	return flow_table_find(t, &k);
}

static bool key_is_n(const struct flow_key *k, unsigned n)
{
	struct flow_key want;

	key_n(&want, n);
	return memcmp(k, &want, sizeof(want)) == 0;
}

static void test_lru_order(void)
{
	struct flow_table *t = table(4, 0, NULL);
	const unsigned want[] = { 2, 3, 4, 1 };
	struct flow_key k;
	struct flow *f;
	unsigned i = 0;

	for (unsigned n = 1; n <= 4; n++)
		CHECK(insert_n(t, n) != NULL);
	key_n(&k, 1);
	CHECK(flow_table_lookup(t, &k) != NULL); /* 1 becomes the newest */
	for (f = flow_table_oldest(t); f && i < 4; f = flow_table_newer(t, f), i++)
		CHECK(key_is_n(&f->key, want[i]));
	CHECK(i == 4 && f == NULL);

	/* At capacity the true LRU (2) goes, counted, released. */
	released = 0;
	CHECK(insert_n(t, 5) != NULL);
	CHECK(find_n(t, 2) == NULL);
	CHECK(find_n(t, 1) && find_n(t, 3) && find_n(t, 4) && find_n(t, 5));
	CHECK(released == 1 && key_is_n(&last_released, 2));

	/* find() does not touch: 3 is now the oldest and goes next. */
	CHECK(find_n(t, 3) != NULL);
	insert_n(t, 6);
	CHECK(find_n(t, 3) == NULL);

	/* Inserting an existing key touches it instead of adding. */
	{
		struct flow_key k4;
		struct flow *f4;

		key_n(&k4, 4);
		CHECK(flow_table_insert(t, &k4, &f4) == 0);
		insert_n(t, 7); /* evicts 1, not 4 */
		CHECK(find_n(t, 4) != NULL && find_n(t, 1) == NULL);
	}

	struct flow_table_stats st;

	flow_table_get_stats(t, &st);
	CHECK_EQ_U64(st.count, 4);
	CHECK_EQ_U64(st.evicted, 3);
	CHECK_EQ_U64(st.inserted, 7);
	released = 0;
	flow_table_free(t);
	CHECK_EQ_U64(released, 4); /* free releases the rest */
}

static void test_expiry(void)
{
	struct flow_table *t = table(8, 0, NULL);
	struct flow_table_stats st;
	struct flow *f1 = insert_n(t, 1), *f2 = insert_n(t, 2), *f3 = insert_n(t, 3);

	flow_table_close(t, f1, 100);
	flow_table_close(t, f2, 200);
	flow_table_close(t, f3, 300);
	flow_table_reopen(t, f3); /* tuple reused: stays */
	CHECK(flow_table_expire(t, 99) == 0);
	CHECK(flow_table_expire(t, 150) == 1);
	CHECK(find_n(t, 1) == NULL && find_n(t, 2) != NULL);
	/* Closing again moves the close time. */
	flow_table_close(t, f2, 400);
	CHECK(flow_table_expire(t, 350) == 0);
	CHECK(flow_table_expire(t, 1000) == 1);
	CHECK(find_n(t, 2) == NULL && find_n(t, 3) != NULL);
	flow_table_get_stats(t, &st);
	CHECK_EQ_U64(st.expired, 2);
	CHECK_EQ_U64(st.evicted, 0);
	CHECK_EQ_U64(st.count, 1);

	/* An evicted closed flow leaves the closed list too. */
	struct flow_table *s = table(2, 0, NULL);
	struct flow *a = insert_n(s, 10);

	insert_n(s, 11);
	flow_table_close(s, a, 5);
	insert_n(s, 12); /* evicts 10 */
	CHECK(flow_table_expire(s, 1000) == 0);
	flow_table_get_stats(s, &st);
	CHECK_EQ_U64(st.count, 2);
	flow_table_free(s);
	flow_table_free(t);
}

static void test_collisions(void)
{
	const unsigned n = 2000;
	struct flow_table *t = table(n, 1, collide);
	unsigned wrong = 0;

	for (unsigned i = 0; i < n; i++) {
		struct flow *f = insert_n(t, i);

		f->user = (uint8_t)i;
		f->closed_ts = i; /* a per-entry mark, not closed */
	}
	for (unsigned i = 0; i < n; i++) {
		struct flow *f = find_n(t, i);

		if (!f || f->closed_ts != i || !key_is_n(&f->key, i))
			wrong++;
	}
	CHECK(wrong == 0);

	/* Keys that differ in one field only are different flows. */
	struct flow_key k, k2;
	struct flow *f, *f2;
	uint8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };

	flow_table_remove(t, find_n(t, 0));
	flow_table_remove(t, find_n(t, 1));
	flow_key_init(&k, AF_INET, 6, a, 1000, b, 2000);
	flow_key_init(&k2, AF_INET, 17, a, 1000, b, 2000);
	CHECK(flow_table_insert(t, &k, &f) == 1);
	CHECK(flow_table_insert(t, &k2, &f2) == 1);
	CHECK(f != f2);
	CHECK(flow_table_find(t, &k) == f && flow_table_find(t, &k2) == f2);
	flow_table_remove(t, f);
	CHECK(flow_table_find(t, &k) == NULL && flow_table_find(t, &k2) == f2);
	flow_table_free(t);
}

static void test_direction(void)
{
	uint8_t a[4] = { 10, 1, 1, 1 }, b[4] = { 10, 1, 1, 2 };
	uint8_t a6[16] = { 0x20, 0x01, 0xd, 0xb8, [15] = 1 };
	uint8_t b6[16] = { 0x20, 0x01, 0xd, 0xb8, [15] = 2 };
	struct flow_key k1, k2;
	unsigned s1, s2;

	s1 = flow_key_init(&k1, AF_INET, 6, a, 5000, b, 80);
	s2 = flow_key_init(&k2, AF_INET, 6, b, 80, a, 5000);
	CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CHECK(s1 == 0 && s2 == 1);

	/* Same address, ports decide. */
	s1 = flow_key_init(&k1, AF_INET, 6, a, 5000, a, 80);
	s2 = flow_key_init(&k2, AF_INET, 6, a, 80, a, 5000);
	CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0 && s1 == 1 && s2 == 0);

	/* IPv6: full 16 bytes matter; v4 and v6 keys never meet. */
	struct flow_table *t = table(16, 0, NULL);
	struct flow *f, *g;
	struct flow_key k6a, k6b, k6c;
	uint8_t c6[16];

	memcpy(c6, b6, 16);
	c6[15] = 3;
	flow_key_init(&k6a, AF_INET6, 6, a6, 443, b6, 40000);
	flow_key_init(&k6b, AF_INET6, 6, b6, 40000, a6, 443);
	flow_key_init(&k6c, AF_INET6, 6, a6, 443, c6, 40000);
	CHECK(flow_table_insert(t, &k6a, &f) == 1);
	CHECK(flow_table_lookup(t, &k6b) == f);
	CHECK(flow_table_lookup(t, &k6c) == NULL);
	CHECK(flow_table_insert(t, &k6c, &g) == 1 && g != f);
	flow_key_init(&k1, AF_INET, 6, a6, 443, b6, 40000); /* first 4 bytes only */
	CHECK(flow_table_find(t, &k1) == NULL);
	flow_table_free(t);
}

static void test_limits(void)
{
	struct flow_table_config cfg = { .capacity = FLOW_TABLE_CAPACITY_MAX + 1 };
	struct flow_table *t = NULL;

	CHECK(flow_table_new(&cfg, &t) == -EINVAL && t == NULL);
	/* Capacity 1: every insert of a new key evicts the previous one. */
	t = table(1, 0, NULL);
	insert_n(t, 1);
	insert_n(t, 2);
	CHECK(find_n(t, 1) == NULL && find_n(t, 2) != NULL);
	flow_table_free(t);
	CHECK(flow_table_free(NULL) == NULL);
}

/* find_hint: the entry at the hint when it still holds the key, else the
 * same answer as flow_table_find (entry moved, removed or reused). */
static void test_find_hint(void)
{
	struct flow_table *t = table(8, 0, NULL);
	struct flow_key k1, k2, k3;
	struct flow *f1, *f2, *f3;
	uint32_t i1;

	key_n(&k1, 1);
	key_n(&k2, 2);
	key_n(&k3, 3);
	CHECK(flow_table_index(t, NULL) == FLOW_NONE);
	flow_table_insert(t, &k1, &f1);
	flow_table_insert(t, &k2, &f2);
	i1 = flow_table_index(t, f1);
	CHECK(i1 != FLOW_NONE && i1 != flow_table_index(t, f2));
	CHECK(flow_table_find_hint(t, &k1, i1) == f1);
	CHECK(flow_table_find_hint(t, &k1, FLOW_NONE) == f1);
	CHECK(flow_table_find_hint(t, &k1, 7) == f1); /* never handed out */
	CHECK(flow_table_find_hint(t, &k2, i1) == f2); /* hint names another flow */
	CHECK(flow_table_find_hint(t, &k3, i1) == NULL);
	/* Removed, then its slot reused by another key. */
	flow_table_remove(t, f1);
	CHECK(flow_table_find_hint(t, &k1, i1) == NULL);
	flow_table_insert(t, &k3, &f3);
	CHECK(flow_table_index(t, f3) == i1);
	CHECK(flow_table_find_hint(t, &k1, i1) == NULL);
	CHECK(flow_table_find_hint(t, &k3, i1) == f3);
	flow_table_free(t);
}

/* The endpoint order is memcmp order of the addresses, then the ports,
 * for both families (flow_key_init compares words, not bytes). */
static void test_key_order(void)
{
	unsigned wrong = 0;

	srand(11);
	for (unsigned n = 0; n < 20000; n++) {
		size_t len = n & 1 ? 16 : 4;
		uint8_t a[16], b[16];
		uint16_t pa = (uint16_t)(rand() & 3), pb = (uint16_t)(rand() & 3);
		struct flow_key k;
		unsigned side;
		int c;

		for (size_t i = 0; i < len; i++) {
			a[i] = (uint8_t)(rand() & 0x81); /* few values: ties are common */
			b[i] = (uint8_t)(rand() & 0x81);
		}
		c = memcmp(a, b, len);
		side = flow_key_init(&k, len == 4 ? AF_INET : AF_INET6, 6, a, pa, b, pb);
		if (side != ((c < 0 || (c == 0 && pa <= pb)) ? 0u : 1u))
			wrong++;
	}
	CHECK(wrong == 0);
}

/* The hash depends on every byte of the key and on the seed. */
static void test_hash(void)
{
	struct flow_key k, k2;
	unsigned same = 0;

	key_n(&k, 5);
	for (size_t i = 0; i < sizeof(k); i++) {
		k2 = k;
		((uint8_t *)&k2)[i] ^= 0x10;
		if (flow_key_hash(&k2, 7) == flow_key_hash(&k, 7))
			same++;
	}
	CHECK(same == 0);
	CHECK(flow_key_hash(&k, 7) != flow_key_hash(&k, 8));
}

/* Random operations against a model that keeps last-use stamps: the
 * table must hold exactly the model's set at every step. */
static void test_random_vs_model(void)
{
	enum { CAP = 64, SPACE = 200, STEPS = 100000 };
	struct flow_table *t = table(CAP, 8, NULL);
	uint64_t stamp[SPACE] = { 0 }, clock = 0;
	bool in[SPACE] = { false };
	unsigned count = 0, mismatches = 0;

	srand(99);
	for (unsigned step = 0; step < STEPS; step++) {
		unsigned n = (unsigned)rand() % SPACE, op = (unsigned)rand() % 10;
		struct flow_key k;

		key_n(&k, n);
		if (op < 5) { /* insert */
			struct flow *f;

			if (!in[n] && count == CAP) {
				unsigned old = SPACE;

				for (unsigned i = 0; i < SPACE; i++)
					if (in[i] && (old == SPACE || stamp[i] < stamp[old]))
						old = i;
				in[old] = false;
				count--;
			}
			if (!in[n])
				count++;
			in[n] = true;
			stamp[n] = ++clock;
			flow_table_insert(t, &k, &f);
		} else if (op < 8) { /* lookup */
			struct flow *f = flow_table_lookup(t, &k);

			if (!!f != in[n])
				mismatches++;
			if (in[n])
				stamp[n] = ++clock;
		} else if (in[n]) { /* remove */
			flow_table_remove(t, flow_table_find(t, &k));
			in[n] = false;
			count--;
		}
		if (step % 997 == 0) {
			for (unsigned i = 0; i < SPACE; i++)
				if (!!find_n(t, i) != in[i])
					mismatches++;
		}
	}
	CHECK(mismatches == 0);
	flow_table_free(t);
}

int main(void)
{
	test_lru_order();
	test_expiry();
	test_collisions();
	test_direction();
	test_limits();
	test_find_hint();
	test_key_order();
	test_hash();
	test_random_vs_model();
	return test_summary();
}
