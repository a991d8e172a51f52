/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The id → value map of snapshot/ (linear probing over a power-of-two table). */
#include <errno.h>
#include <stdlib.h>

#include "snapshot/idmap.h"
#include "util/hash.h"

#define IDMAP_MIN_SLOTS 64u
/* Slots never exceed this, so mask + 1 fits 32 bits; callers bound their
 * keys far below half of it. */
#define IDMAP_MAX_SLOTS (1u << 31)

static uint32_t idmap_slot(const struct idmap *m, uint64_t key)
{
	uint32_t i = (uint32_t)hash_mix(key) & m->mask;

	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & m->mask;
	return i;
}

static int idmap_grow(struct idmap *m)
{
	uint32_t old_slots = m->keys ? m->mask + 1 : 0;
	uint32_t slots = old_slots ? old_slots * 2 : IDMAP_MIN_SLOTS;
	struct idmap n = { 0 };
	uint32_t i;

	if (old_slots >= IDMAP_MAX_SLOTS)
		return -ENOMEM;
	n.keys = calloc(slots, sizeof(*n.keys));
	n.vals = calloc(slots, sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	n.mask = slots - 1;
	n.count = m->count;
	for (i = 0; i < old_slots; i++) {
		uint32_t j;

		if (!m->keys[i])
			continue;
		j = idmap_slot(&n, m->keys[i]);
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int idmap_upsert(struct idmap *m, uint64_t key, uint32_t **ret_val, bool *ret_new)
{
	uint32_t i;
	int r;

	if (!key)
		return -EINVAL;
	if (m->keys) {
		i = idmap_slot(m, key);
		if (m->keys[i] == key) {
			*ret_val = &m->vals[i];
			*ret_new = false;
			return 0;
		}
	}
	/* Half load at most keeps probe runs short. */
	if (!m->keys || (uint64_t)(m->count + 1) * 2 > (uint64_t)m->mask + 1) {
		r = idmap_grow(m);
		if (r < 0)
			return r;
	}
	i = idmap_slot(m, key);
	m->keys[i] = key;
	m->vals[i] = 0;
	m->count++;
	*ret_val = &m->vals[i];
	*ret_new = true;
	return 0;
}

uint32_t *idmap_find(const struct idmap *m, uint64_t key)
{
	uint32_t i;

	if (!key || !m->keys)
		return NULL;
	i = idmap_slot(m, key);
	return m->keys[i] == key ? &m->vals[i] : NULL;
}

void idmap_clear(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->mask = 0;
	m->count = 0;
}
