/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to snapshot/: an open-addressing map from a non-zero 64-bit id
 * (socket inode, pid, socket cookie) to a 32-bit value.
 *
 * Grows by doubling at half load; callers bound the number of keys, so
 * memory stays within 24 bytes per key. No deletion: snapshot tables only
 * grow until they are freed. Not thread-safe; does not print.
 */
#ifndef EBPFDUMP_SNAPSHOT_IDMAP_H
#define EBPFDUMP_SNAPSHOT_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

struct idmap {
	uint64_t *keys; /* 0 marks a free slot */
	uint32_t *vals;
	uint32_t mask; /* slots - 1; 0 with no slots yet */
	uint32_t count;
};

/* The value slot of key, inserting it (value 0) when absent; *ret_new says
 * which. The pointer stays valid until the next insertion. Returns 0,
 * -EINVAL for key 0, -ENOMEM. */
int idmap_upsert(struct idmap *m, uint64_t key, uint32_t **ret_val, bool *ret_new);
/* The value slot of key, or NULL. */
uint32_t *idmap_find(const struct idmap *m, uint64_t key);
/* Frees the slots; the map is empty and usable again. */
void idmap_clear(struct idmap *m);

#endif
