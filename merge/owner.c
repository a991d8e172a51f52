/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Owner cache: hash of refcounted, length-packed process identities. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "merge/owner.h"

#define EVENT_FIELD(item, member)                                                                  \
	{ item, offsetof(struct event, member), sizeof(((struct event *)0)->member) }

/* The string items an owner keeps; str_off[] follows this order. */
static const struct {
	unsigned item;
	size_t off;  /* in struct event */
	size_t size; /* of the event's buffer, NUL included */
} string_fields[OWNER_STRINGS] = {
	EVENT_FIELD(ITEM_COMM, comm),
	EVENT_FIELD(ITEM_PCOMM, pcomm),
	EVENT_FIELD(ITEM_EXE, exe),
	EVENT_FIELD(ITEM_CMDLINE, cmdline),
	EVENT_FIELD(ITEM_USER, user),
	EVENT_FIELD(ITEM_GROUP, group),
	EVENT_FIELD(ITEM_CGROUP, cgroup),
	EVENT_FIELD(ITEM_CONTAINER_ID, container_id),
	EVENT_FIELD(ITEM_CONTAINER, container),
	EVENT_FIELD(ITEM_POD, pod),
	EVENT_FIELD(ITEM_NAMESPACE, namespace_),
	EVENT_FIELD(ITEM_RUNTIME, runtime),
	EVENT_FIELD(ITEM_IMAGE, image),
	EVENT_FIELD(ITEM_HOST, host),
};

#define NUMERIC(item, member)                                                                      \
	{ item, offsetof(struct event, member), offsetof(struct owner, member),                   \
	  sizeof(((struct event *)0)->member) }

static const struct {
	unsigned item;
	size_t event_off, owner_off;
	size_t width; /* 4 or 8, the same in both structs */
} numeric_fields[] = {
	NUMERIC(ITEM_PID, pid),	  NUMERIC(ITEM_TID, tid),
	NUMERIC(ITEM_UID, uid),	  NUMERIC(ITEM_GID, gid),
	NUMERIC(ITEM_PPID, ppid), NUMERIC(ITEM_CGROUP_ID, cgroup_id),
	NUMERIC(ITEM_NETNS, netns),
};

#define NUMERIC_COUNT (sizeof(numeric_fields) / sizeof(numeric_fields[0]))

/* Identity is interned, not hashed for safety: the kernel, not the
 * network, chooses it. A fixed seed keeps runs reproducible. */
#define OWNER_HASH_SEED UINT64_C(0x6f776e6572636163)
#define OWNER_BUCKETS_MIN 64

struct owner_cache {
	struct owner **buckets;
	uint64_t bucket_mask;
	uint32_t max_owners;
	uint64_t max_bytes;
	struct owner_cache_stats stats;
	uint64_t serial; /* of the last owner created */
};

int owner_cache_new(const struct owner_cache_config *cfg, struct owner_cache **ret)
{
	struct owner_cache *c;
	uint64_t nbuckets = OWNER_BUCKETS_MIN;

	if (cfg && cfg->max_owners > OWNER_MAX_LIMIT)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->max_owners = cfg && cfg->max_owners ? cfg->max_owners : OWNER_MAX_DEFAULT;
	c->max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : OWNER_BYTES_DEFAULT;
	/* Half as many buckets as owners: chains of two at the limit. */
	while (nbuckets < c->max_owners / 2)
		nbuckets <<= 1;
	c->buckets = calloc(nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	c->bucket_mask = nbuckets - 1;
	*ret = c;
	return 0;
}

struct owner_cache *owner_cache_free(struct owner_cache *c)
{
	if (!c)
		return NULL;
	for (uint64_t b = 0; b <= c->bucket_mask; b++) {
		struct owner *o = c->buckets[b], *next;

		for (; o; o = next) {
			next = o->hash_next;
			free(o);
		}
	}
	free(c->buckets);
	free(c);
	return NULL;
}

static uint64_t event_numeric(const struct event *ev, unsigned i)
{
	const uint8_t *p = (const uint8_t *)ev + numeric_fields[i].event_off;
	uint32_t v32;
	uint64_t v64;

	if (numeric_fields[i].width == 8) {
		memcpy(&v64, p, 8);
		return v64;
	}
	memcpy(&v32, p, 4);
	return v32;
}

static uint64_t owner_numeric(const struct owner *o, unsigned i)
{
	const uint8_t *p = (const uint8_t *)o + numeric_fields[i].owner_off;
	uint32_t v32;
	uint64_t v64;

	if (numeric_fields[i].width == 8) {
		memcpy(&v64, p, 8);
		return v64;
	}
	memcpy(&v32, p, 4);
	return v32;
}

/* The event's string, bounded by its buffer (a producer may have filled
 * it to the end without a NUL). */
static const char *event_string(const struct event *ev, unsigned i, size_t *ret_len)
{
	const char *s = (const char *)ev + string_fields[i].off;

	*ret_len = strnlen(s, string_fields[i].size - 1);
	return s;
}

static uint64_t identity_hash(const struct event *ev, uint64_t present)
{
	uint64_t h = hash_u64(OWNER_HASH_SEED, present);

	for (unsigned i = 0; i < NUMERIC_COUNT; i++)
		if (present & EVENT_BIT(numeric_fields[i].item))
			h = hash_u64(h, event_numeric(ev, i));
	for (unsigned i = 0; i < OWNER_STRINGS; i++) {
		const char *s;
		size_t len;

		if (!(present & EVENT_BIT(string_fields[i].item)))
			continue;
		s = event_string(ev, i, &len);
		h = hash_bytes(h, s, len);
	}
	return h;
}

static bool identity_equal(const struct owner *o, const struct event *ev, uint64_t present)
{
	if (o->present != present)
		return false;
	for (unsigned i = 0; i < NUMERIC_COUNT; i++)
		if ((present & EVENT_BIT(numeric_fields[i].item)) &&
		    owner_numeric(o, i) != event_numeric(ev, i))
			return false;
	for (unsigned i = 0; i < OWNER_STRINGS; i++) {
		const char *s, *mine;
		size_t len;

		if (!(present & EVENT_BIT(string_fields[i].item)))
			continue;
		s = event_string(ev, i, &len);
		mine = o->text + o->str_off[i];
		if (memcmp(mine, s, len) != 0 || mine[len] != '\0')
			return false;
	}
	return true;
}

static struct owner *owner_create(const struct event *ev, uint64_t present, uint64_t hash)
{
	size_t text = 0, pos = 0;
	struct owner *o;

	for (unsigned i = 0; i < OWNER_STRINGS; i++) {
		size_t len;

		if (present & EVENT_BIT(string_fields[i].item)) {
			event_string(ev, i, &len);
			text += len + 1;
		}
	}
	o = calloc(1, sizeof(*o) + text);
	if (!o)
		return NULL;
	o->hash = hash;
	o->refs = 1;
	o->size = (uint32_t)(sizeof(*o) + text);
	o->present = present;
	for (unsigned i = 0; i < NUMERIC_COUNT; i++) {
		if (present & EVENT_BIT(numeric_fields[i].item))
			memcpy((uint8_t *)o + numeric_fields[i].owner_off,
			       (const uint8_t *)ev + numeric_fields[i].event_off,
			       numeric_fields[i].width);
	}
	for (unsigned i = 0; i < OWNER_STRINGS; i++) {
		const char *s;
		size_t len;

		if (!(present & EVENT_BIT(string_fields[i].item)))
			continue;
		s = event_string(ev, i, &len);
		/* Below 64 KiB: the fields' sizes add up to about 4 KiB. */
		o->str_off[i] = (uint16_t)pos;
		memcpy(o->text + pos, s, len);
		pos += len + 1; /* calloc put the NUL */
	}
	return o;
}

int owner_intern(struct owner_cache *c, const struct event *ev, struct owner **ret)
{
	uint64_t present = ev->present & OWNER_ITEMS;
	struct owner **bucket, *o;
	uint64_t hash;

	if (!present)
		return -ENOENT;
	hash = identity_hash(ev, present);
	bucket = &c->buckets[hash & c->bucket_mask];
	for (o = *bucket; o; o = o->hash_next) {
		if (o->hash == hash && identity_equal(o, ev, present)) {
			o->refs++;
			c->stats.shared++;
			*ret = o;
			return 0;
		}
	}
	if (c->stats.live >= c->max_owners) {
		c->stats.failed++;
		return -ENOSPC;
	}
	o = owner_create(ev, present, hash);
	if (!o)
		return -ENOMEM;
	if (c->stats.bytes + o->size > c->max_bytes) {
		free(o);
		c->stats.failed++;
		return -ENOSPC;
	}
	o->serial = ++c->serial;
	o->hash_next = *bucket;
	*bucket = o;
	c->stats.live++;
	c->stats.bytes += o->size;
	c->stats.created++;
	*ret = o;
	return 0;
}

bool owner_matches(const struct owner *o, const struct event *ev)
{
	uint64_t present = ev->present & OWNER_ITEMS;

	return present && identity_equal(o, ev, present);
}

struct owner *owner_ref(struct owner *o)
{
	if (o)
		o->refs++;
	return o;
}

struct owner *owner_unref(struct owner_cache *c, struct owner *o)
{
	struct owner **link;

	if (!o || --o->refs > 0)
		return NULL;
	for (link = &c->buckets[o->hash & c->bucket_mask]; *link; link = &(*link)->hash_next) {
		if (*link == o) {
			*link = o->hash_next;
			break;
		}
	}
	c->stats.live--;
	c->stats.bytes -= o->size;
	free(o);
	return NULL;
}

const char *owner_str(const struct owner *o, unsigned item)
{
	for (unsigned i = 0; i < OWNER_STRINGS; i++)
		if (string_fields[i].item == item)
			return (o->present & EVENT_BIT(item)) ? o->text + o->str_off[i] : NULL;
	return NULL;
}

void owner_to_event(const struct owner *o, struct event *ev)
{
	for (unsigned i = 0; i < NUMERIC_COUNT; i++)
		if (o->present & EVENT_BIT(numeric_fields[i].item))
			memcpy((uint8_t *)ev + numeric_fields[i].event_off,
			       (const uint8_t *)o + numeric_fields[i].owner_off,
			       numeric_fields[i].width);
	for (unsigned i = 0; i < OWNER_STRINGS; i++) {
		char *dst = (char *)ev + string_fields[i].off;
		const char *s;
		size_t len;

		if (!(o->present & EVENT_BIT(string_fields[i].item)))
			continue;
		s = o->text + o->str_off[i];
		/* Interned from a buffer of this size, so it fits. */
		len = strnlen(s, string_fields[i].size - 1);
		memcpy(dst, s, len);
		dst[len] = '\0';
	}
	ev->present |= o->present;
}

void owner_cache_get_stats(const struct owner_cache *c, struct owner_cache_stats *ret)
{
	*ret = c->stats;
}
