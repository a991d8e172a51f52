/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cached EPB comment of tagged packets (see tag_comment.h). */
#include "merge/tag_comment.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "event/comment.h"
#include "merge/owner.h"

/* Comments are a pure function of the two owners' identities, and most
 * packets repeat the pair of the packet before them (a flow's packets,
 * in both directions): formatting is most of the merge's cost, so the
 * last pairs are kept. Direct-mapped by the owner pointers; a hit is also
 * checked against a copy of both identities, so an owner freed and its
 * memory reused for someone else cannot return a stale comment. */
#define COMMENT_CACHE_SLOTS 64u

struct comment_slot {
	struct tag_comment out;
	const struct owner *sender, *receiver; /* NULL for an unknown side */
	uint8_t *ids;			       /* both identities, back to back */
	size_t sender_len, receiver_len;
	char *text;
};

struct tag_comment_cache {
	struct event sender, receiver; /* scratch */
	char comment[EVENT_COMMENT_MAX];
	struct comment_slot slots[COMMENT_CACHE_SLOTS];
};

int tag_comment_cache_new(struct tag_comment_cache **ret)
{
	struct tag_comment_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

struct tag_comment_cache *tag_comment_cache_free(struct tag_comment_cache *c)
{
	if (c) {
		for (unsigned i = 0; i < COMMENT_CACHE_SLOTS; i++) {
			free(c->slots[i].ids);
			free(c->slots[i].text);
		}
		free(c);
	}
	return NULL;
}

/* The owner's identity bytes: everything from its presence mask on (the
 * header before it is bookkeeping: hash chain, hash, refcount, size). */
static size_t owner_identity(const struct owner *o, const uint8_t **ret)
{
	const size_t off = offsetof(struct owner, present);

	*ret = (const uint8_t *)o + off;
	return o->size > off ? o->size - off : 0;
}

static bool comment_slot_matches(const struct comment_slot *c, const struct merge_tag *tag)
{
	const uint8_t *id;
	size_t n;

	if (!c->text || c->sender != tag->sender || c->receiver != tag->receiver)
		return false;
	if (tag->sender) {
		n = owner_identity(tag->sender, &id);
		if (n != c->sender_len || memcmp(id, c->ids, n))
			return false;
	}
	if (tag->receiver) {
		n = owner_identity(tag->receiver, &id);
		if (n != c->receiver_len || memcmp(id, c->ids + c->sender_len, n))
			return false;
	}
	return true;
}

/* Format the comment and pid/tid of a tagged packet into slot c. */
static int comment_slot_fill(struct tag_comment_cache *o, struct comment_slot *c,
			     const struct merge_packet *pkt, const struct merge_tag *tag)
{
	const uint8_t *sid = NULL, *rid = NULL;
	size_t slen = 0, rlen = 0;
	bool has_s, has_d;
	const struct event *p;
	int n;

	has_s = merge_tag_event(pkt, tag, false, &o->sender);
	has_d = merge_tag_event(pkt, tag, true, &o->receiver);
	n = event_comment_format(has_s ? &o->sender : NULL, has_d ? &o->receiver : NULL, o->comment,
				 sizeof(o->comment));
	if (n < 0)
		return n;
	if (tag->sender)
		slen = owner_identity(tag->sender, &sid);
	if (tag->receiver)
		rlen = owner_identity(tag->receiver, &rid);
	free(c->ids);
	free(c->text);
	*c = (struct comment_slot){0};
	c->ids = malloc(slen + rlen + 1);
	c->text = strdup(o->comment);
	if (!c->ids || !c->text) {
		free(c->ids);
		free(c->text);
		*c = (struct comment_slot){0};
		return -ENOMEM;
	}
	if (slen)
		memcpy(c->ids, sid, slen);
	if (rlen)
		memcpy(c->ids + slen, rid, rlen);
	c->sender = tag->sender;
	c->receiver = tag->receiver;
	c->sender_len = slen;
	c->receiver_len = rlen;
	c->out.text = c->text;
	/* pid/tid: the sender's when known, else the receiver's. */
	p = has_s && EVENT_HAS(&o->sender, ITEM_PID) ? &o->sender : &o->receiver;
	if (EVENT_HAS(p, ITEM_PID)) {
		c->out.has_pid = true;
		c->out.pid = p->pid;
		c->out.tid = EVENT_HAS(p, ITEM_TID) ? p->tid : p->pid;
	}
	return 0;
}

const struct tag_comment *tag_comment_get(struct tag_comment_cache *o,
					  const struct merge_packet *pkt,
					  const struct merge_tag *tag)
{
	uintptr_t h = (uintptr_t)tag->sender * 31u + (uintptr_t)tag->receiver;
	struct comment_slot *c;

	/* Owners are heap objects: the low bits carry no information. */
	h ^= h >> 7;
	c = &o->slots[(h >> 4) % COMMENT_CACHE_SLOTS];
	if (comment_slot_matches(c, tag))
		return &c->out;
	return comment_slot_fill(o, c, pkt, tag) == 0 ? &c->out : NULL;
}

