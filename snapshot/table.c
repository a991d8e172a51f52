/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The owner table of snapshot/: sockets seen by a snapshot → their owner,
 * found again by socket cookie or by namespace and 5-tuple. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "snapshot/idmap.h"
#include "snapshot/snapshot.h"
#include "util/hash.h"

#define TABLE_NONE UINT32_MAX
#define TABLE_MIN_BUCKETS 256u

/* Owner identity items the table keeps besides pid (tid is always pid). */
#define OWNER_COPIED_ITEMS                                                                         \
	(EVENT_BIT(ITEM_UID) | EVENT_BIT(ITEM_GID) | EVENT_BIT(ITEM_PPID) | EVENT_BIT(ITEM_COMM) | \
	 EVENT_BIT(ITEM_PCOMM))

struct table_owner {
	uint64_t present; /* within OWNER_COPIED_ITEMS */
	uint32_t pid, uid, gid, ppid;
	char comm[EVENT_COMM_MAX + 1];
	char pcomm[EVENT_COMM_MAX + 1];
};

/* Zero-filled before use: IPv4 addresses take the first 4 bytes. */
struct table_key {
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint8_t proto, family;
	uint32_t netns; /* 0: unknown */
};

struct table_entry {
	struct table_key key;
	uint32_t owner; /* index into owners */
	uint32_t next;	/* next entry in the same tuple bucket */
	bool closed;	/* retired by a TCP_Close: found no more */
};

struct snapshot {
	uint32_t max_sockets;
	struct table_entry *entries;
	uint32_t n_entries, cap_entries;
	uint32_t *buckets; /* entry index or TABLE_NONE; the hash leaves netns out */
	uint32_t n_buckets;
	struct table_owner *owners;
	uint32_t n_owners, cap_owners;
	struct idmap owner_by_pid;
	struct idmap entry_by_cookie;
	struct snapshot_table_stats stats;
};

int snapshot_new(uint32_t max_sockets, struct snapshot **ret)
{
	struct snapshot *s;

	if (!ret || max_sockets > SNAPSHOT_TABLE_LIMIT)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max_sockets = max_sockets ? max_sockets : SNAPSHOT_TABLE_DEFAULT;
	*ret = s;
	return 0;
}

struct snapshot *snapshot_free(struct snapshot *s)
{
	if (!s)
		return NULL;
	free(s->entries);
	free(s->buckets);
	free(s->owners);
	idmap_clear(&s->owner_by_pid);
	idmap_clear(&s->entry_by_cookie);
	free(s);
	return NULL;
}

void snapshot_table_get_stats(const struct snapshot *s, struct snapshot_table_stats *ret)
{
	if (!ret)
		return;
	if (!s) {
		memset(ret, 0, sizeof(*ret));
		return;
	}
	*ret = s->stats;
	ret->entries = s->n_entries;
	ret->processes = s->n_owners;
}

static bool addr_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* The key of ev's socket; false when ev lacks the local end. An IPv6
 * socket talking IPv4 is keyed as IPv4, the way the kernel probe and the
 * snapshot both report it, so either spelling finds the other. */
static bool key_from_event(const struct event *ev, struct table_key *k)
{
	memset(k, 0, sizeof(*k));
	if (!EVENT_HAS(ev, ITEM_PROTO) || !EVENT_HAS(ev, ITEM_LADDR) || !EVENT_HAS(ev, ITEM_LPORT))
		return false;
	if (ev->family != AF_INET && ev->family != AF_INET6)
		return false;
	k->proto = ev->proto;
	k->family = ev->family;
	k->lport = ev->lport;
	if (EVENT_HAS(ev, ITEM_RPORT))
		k->rport = ev->rport;
	if (EVENT_HAS(ev, ITEM_NETNS))
		k->netns = ev->netns;
	if (ev->family == AF_INET) {
		memcpy(k->laddr, ev->laddr, 4);
		if (EVENT_HAS(ev, ITEM_RADDR))
			memcpy(k->raddr, ev->raddr, 4);
		return true;
	}
	if (EVENT_HAS(ev, ITEM_RADDR) && addr_is_v4mapped(ev->laddr) &&
	    addr_is_v4mapped(ev->raddr)) {
		k->family = AF_INET;
		memcpy(k->laddr, ev->laddr + 12, 4);
		memcpy(k->raddr, ev->raddr + 12, 4);
		return true;
	}
	memcpy(k->laddr, ev->laddr, 16);
	if (EVENT_HAS(ev, ITEM_RADDR))
		memcpy(k->raddr, ev->raddr, 16);
	return true;
}

/* Hash of the tuple without netns, so that an event lacking its namespace
 * still lands in the bucket of every namespace's copy of the tuple. */
static uint64_t key_hash(const struct table_key *k)
{
	uint64_t w[4], h;

	memcpy(w, k->laddr, 16);
	memcpy(w + 2, k->raddr, 16);
	h = hash_mix(((uint64_t)k->lport << 32) | ((uint64_t)k->rport << 16) |
		  ((uint64_t)k->proto << 8) | k->family);
	h = hash_mix(h ^ w[0]) + w[1];
	h = hash_mix(h ^ w[2]) + w[3];
	return hash_mix(h);
}

static bool key_tuple_equal(const struct table_key *a, const struct table_key *b)
{
	return a->proto == b->proto && a->family == b->family && a->lport == b->lport &&
	       a->rport == b->rport && memcmp(a->laddr, b->laddr, 16) == 0 &&
	       memcmp(a->raddr, b->raddr, 16) == 0;
}

static int table_rehash(struct snapshot *s, uint32_t n_buckets)
{
	uint32_t *b = malloc((size_t)n_buckets * sizeof(*b));
	uint32_t i;

	if (!b)
		return -ENOMEM;
	memset(b, 0xff, (size_t)n_buckets * sizeof(*b)); /* TABLE_NONE */
	for (i = 0; i < s->n_entries; i++) {
		uint32_t h = (uint32_t)key_hash(&s->entries[i].key) & (n_buckets - 1);

		s->entries[i].next = b[h];
		b[h] = i;
	}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = n_buckets;
	return 0;
}

/* Room for one more entry (arrays grow by doubling, capped at the limit). */
static int table_reserve(struct snapshot *s)
{
	int r;

	if (s->n_entries == s->cap_entries) {
		uint32_t cap = s->cap_entries ? s->cap_entries * 2 : TABLE_MIN_BUCKETS;
		struct table_entry *e;

		if (cap > s->max_sockets)
			cap = s->max_sockets;
		e = realloc(s->entries, (size_t)cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->entries = e;
		s->cap_entries = cap;
	}
	/* One bucket per entry keeps chains about one long. */
	if (s->n_entries >= s->n_buckets) {
		r = table_rehash(s, s->n_buckets ? s->n_buckets * 2 : TABLE_MIN_BUCKETS);
		if (r < 0)
			return r;
	}
	return 0;
}

static int owner_from_event(struct snapshot *s, const struct event *ev, uint32_t *ret)
{
	uint64_t key = ev->pid ? ev->pid : UINT64_MAX; /* the map reserves id 0 */
	struct table_owner *o;
	uint32_t *slot;
	bool is_new;
	int r;

	slot = idmap_find(&s->owner_by_pid, key);
	if (slot) {
		/* One process, one identity: the first socket seen names it. */
		*ret = *slot;
		return 0;
	}
	if (s->n_owners == s->cap_owners) {
		uint32_t cap = s->cap_owners ? s->cap_owners * 2 : 64;
		struct table_owner *n = realloc(s->owners, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->owners = n;
		s->cap_owners = cap;
	}
	r = idmap_upsert(&s->owner_by_pid, key, &slot, &is_new);
	if (r < 0)
		return r;
	o = &s->owners[s->n_owners];
	memset(o, 0, sizeof(*o));
	o->pid = ev->pid;
	o->present = ev->present & OWNER_COPIED_ITEMS;
	o->uid = ev->uid;
	o->gid = ev->gid;
	o->ppid = ev->ppid;
	if (EVENT_HAS(ev, ITEM_COMM))
		event_copy_str(o->comm, sizeof(o->comm), ev->comm, sizeof(ev->comm));
	if (EVENT_HAS(ev, ITEM_PCOMM))
		event_copy_str(o->pcomm, sizeof(o->pcomm), ev->pcomm, sizeof(ev->pcomm));
	*slot = s->n_owners;
	*ret = s->n_owners++;
	return 0;
}

int snapshot_add(struct snapshot *s, const struct event *ev)
{
	struct table_entry *e;
	struct table_key k;
	uint32_t owner, h, *slot;
	bool is_new;
	int r;

	if (!s || !ev || !EVENT_HAS(ev, ITEM_PID) || !key_from_event(ev, &k))
		return -EINVAL;
	if (s->n_entries >= s->max_sockets) {
		s->stats.dropped++;
		return -ENOSPC;
	}
	r = table_reserve(s);
	if (r < 0)
		return r;
	r = owner_from_event(s, ev, &owner);
	if (r < 0)
		return r;
	if (EVENT_HAS(ev, ITEM_SOCK_COOKIE) && ev->sock_cookie) {
		r = idmap_upsert(&s->entry_by_cookie, ev->sock_cookie, &slot, &is_new);
		if (r < 0)
			return r;
		*slot = s->n_entries;
	}
	e = &s->entries[s->n_entries];
	e->key = k;
	e->owner = owner;
	e->closed = false;
	h = (uint32_t)key_hash(&k) & (s->n_buckets - 1);
	e->next = s->buckets[h];
	s->buckets[h] = s->n_entries++;
	return 0;
}

/* The live entry for k. With any_netns (the event did not say), every
 * match must name the same owner, or the answer would be a guess. */
static struct table_entry *table_find(struct snapshot *s, const struct table_key *k, bool any_netns)
{
	struct table_entry *found = NULL;
	uint32_t i;

	if (!s->n_buckets)
		return NULL;
	for (i = s->buckets[(uint32_t)key_hash(k) & (s->n_buckets - 1)]; i != TABLE_NONE;
	     i = s->entries[i].next) {
		struct table_entry *e = &s->entries[i];

		if (e->closed || !key_tuple_equal(&e->key, k))
			continue;
		if (!any_netns) {
			if (e->key.netns == k->netns)
				return e;
			continue;
		}
		if (found && found->owner != e->owner)
			return NULL;
		if (!found)
			found = e;
	}
	return found;
}

/* UDP sockets are mostly unconnected: the snapshot knows the local end
 * only, while a datagram event names both. Try the bound address with no
 * remote, then the wildcard address, then (for IPv4) a dual-stack [::]. */
static struct table_entry *table_find_udp(struct snapshot *s, const struct table_key *k,
					  bool any_netns)
{
	struct table_key w = *k;
	struct table_entry *e;

	memset(w.raddr, 0, sizeof(w.raddr));
	w.rport = 0;
	e = table_find(s, &w, any_netns);
	if (e)
		return e;
	memset(w.laddr, 0, sizeof(w.laddr));
	e = table_find(s, &w, any_netns);
	if (e || k->family != AF_INET)
		return e;
	w.family = AF_INET6;
	return table_find(s, &w, any_netns);
}

static void owner_to_event(const struct table_owner *o, struct event *ev)
{
	ev->pid = o->pid;
	ev->tid = o->pid;
	EVENT_SET(ev, ITEM_PID);
	EVENT_SET(ev, ITEM_TID);
	ev->uid = o->uid;
	ev->gid = o->gid;
	ev->ppid = o->ppid;
	memcpy(ev->comm, o->comm, sizeof(o->comm));
	memcpy(ev->pcomm, o->pcomm, sizeof(o->pcomm));
	/* Whatever identity the event had without a pid was not its owner's. */
	ev->present &= ~OWNER_COPIED_ITEMS;
	ev->present |= o->present;
}

int snapshot_fill_owner(struct snapshot *s, struct event *ev)
{
	struct table_entry *e = NULL;
	struct table_key k;
	uint32_t *idx;

	if (!s || !ev)
		return -EINVAL;
	if (EVENT_HAS(ev, ITEM_PID))
		return -EALREADY;
	if (EVENT_HAS(ev, ITEM_SOCK_COOKIE) && ev->sock_cookie) {
		idx = idmap_find(&s->entry_by_cookie, ev->sock_cookie);
		if (idx && *idx < s->n_entries && !s->entries[*idx].closed)
			e = &s->entries[*idx];
	}
	if (!e && key_from_event(ev, &k)) {
		bool any_netns = !EVENT_HAS(ev, ITEM_NETNS);

		e = table_find(s, &k, any_netns);
		if (!e && k.proto == IPPROTO_UDP)
			e = table_find_udp(s, &k, any_netns);
	}
	if (!e) {
		s->stats.missed++;
		return -ENOENT;
	}
	owner_to_event(&s->owners[e->owner], ev);
	if (ev->type == EVENT_TCP_CLOSE) {
		e->closed = true;
		s->stats.closed++;
	}
	s->stats.filled++;
	return 0;
}
