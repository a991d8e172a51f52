/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Owner cache: interned process identities that flows point to.
 *
 * A struct event is ~4.7 KB, mostly string buffers; a million flows cannot
 * each hold one. An owner keeps only the identity items of an event
 * (OWNER_ITEMS: pid, tid, uid, gid, comm, exe, cmdline, ppid, pcomm, user,
 * group, cgroup id and name, netns, container id/name, pod, namespace,
 * runtime, image, host), strings packed to their real length, and is
 * shared by every flow whose event carried the same identity: equal
 * identities (same present items, same values) intern to one owner.
 * Owners are reference counted and freed at the last reference. The cache
 * is bounded by a count and a byte budget; over either, interning fails
 * (-ENOSPC) and the caller leaves that endpoint unattributed.
 * Not thread-safe; does not print.
 */
#ifndef EBPFDUMP_OWNER_H
#define EBPFDUMP_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include "event/event.h"

#define OWNER_MAX_DEFAULT (1u << 18)	     /* live owners */
#define OWNER_BYTES_DEFAULT (256ull << 20) /* their memory, headers included */
#define OWNER_MAX_LIMIT (1u << 24)	     /* largest count a caller may ask for */

#define OWNER_NUMERIC_ITEMS                                                                        \
	(EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_UID) | EVENT_BIT(ITEM_GID) |   \
	 EVENT_BIT(ITEM_PPID) | EVENT_BIT(ITEM_CGROUP_ID) | EVENT_BIT(ITEM_NETNS))
#define OWNER_STRING_ITEMS                                                                         \
	(EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_EXE) | EVENT_BIT(ITEM_CMDLINE) |                    \
	 EVENT_BIT(ITEM_PCOMM) | EVENT_BIT(ITEM_USER) | EVENT_BIT(ITEM_GROUP) |                    \
	 EVENT_BIT(ITEM_CGROUP) | EVENT_BIT(ITEM_CONTAINER_ID) | EVENT_BIT(ITEM_CONTAINER) |       \
	 EVENT_BIT(ITEM_POD) | EVENT_BIT(ITEM_NAMESPACE) | EVENT_BIT(ITEM_RUNTIME) |               \
	 EVENT_BIT(ITEM_IMAGE) | EVENT_BIT(ITEM_HOST))
#define OWNER_ITEMS (OWNER_NUMERIC_ITEMS | OWNER_STRING_ITEMS)
#define OWNER_STRINGS 14

/* Read-only for users of the cache. */
struct owner {
	struct owner *hash_next;
	uint64_t hash;
	uint32_t refs;
	uint32_t size;	  /* bytes of this allocation */
	/* Unique among the owners one cache ever creates: a pointer and its
	 * serial name one identity even after the memory is reused, so a
	 * cache of something derived from owners compares two numbers. */
	uint64_t serial;
	/* Set once an output wrote this owner's Identity record (compact
	 * comments, tag_comment.c): the one field of an owner that changes,
	 * output bookkeeping, not identity. One output per cache. */
	bool announced;
	uint64_t present; /* EVENT_BIT(item) of the items held, within OWNER_ITEMS */
	uint64_t cgroup_id;
	uint32_t pid, tid, uid, gid, ppid, netns;
	uint16_t str_off[OWNER_STRINGS]; /* into text[], for present string items */
	char text[];
};

struct owner_cache_config {
	uint32_t max_owners; /* 0: OWNER_MAX_DEFAULT */
	uint64_t max_bytes;  /* 0: OWNER_BYTES_DEFAULT */
};

struct owner_cache_stats {
	uint32_t live;
	uint64_t bytes;	  /* held by live owners */
	uint64_t created; /* owners allocated so far */
	uint64_t shared;  /* interns answered by an existing owner */
	uint64_t failed;  /* interns refused by the limits */
};

struct owner_cache;

/* cfg may be NULL. Returns 0, -EINVAL (max_owners over OWNER_MAX_LIMIT) or -ENOMEM. */
int owner_cache_new(const struct owner_cache_config *cfg, struct owner_cache **ret);
/* Frees the cache and every owner still in it, referenced or not. NULL-safe. */
struct owner_cache *owner_cache_free(struct owner_cache *c);

/* The owner for ev's identity items, with one reference for the caller.
 * Returns 0, -ENOENT when ev has no identity item, -ENOSPC over a limit,
 * -ENOMEM. Strings are taken up to their NUL or field limit. */
int owner_intern(struct owner_cache *c, const struct event *ev, struct owner **ret);
/* Whether ev's identity items are exactly o's: owner_intern(ev) would
 * answer o. Lets a caller that already holds o skip interning. */
bool owner_matches(const struct owner *o, const struct event *ev);
struct owner *owner_ref(struct owner *o);
/* Drop a reference; frees at the last. NULL-safe; returns NULL. */
struct owner *owner_unref(struct owner_cache *c, struct owner *o);

/* The string of a string item (ITEM_COMM, ...), NULL when absent or not a
 * string item of an owner. */
const char *owner_str(const struct owner *o, unsigned item);
/* Copy the identity into ev and set its presence bits; other fields of ev
 * are left alone (clear ev first for a fresh event). */
void owner_to_event(const struct owner *o, struct event *ev);

void owner_cache_get_stats(const struct owner_cache *c, struct owner_cache_stats *ret);

#endif
