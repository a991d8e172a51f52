/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cached EPB comment of tagged packets (see tag_comment.h). */
#include "merge/tag_comment.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event/comment.h"
#include "event/record.h"
#include "util/hash.h"
#include "merge/owner.h"

/* Comments are a pure function of the two owners' identities, and most
 * packets repeat a pair seen a moment before (a flow's packets, in both
 * directions): formatting is most of the cost of tagging, so the pairs of
 * the active flows are kept. Direct-mapped by the owners' serials, which
 * also make a hit exact: an owner freed and its memory reused for someone
 * else has a new serial, so it cannot return a stale comment. Each
 * direction of a flow is its own pair; 4096 slots (288 KiB) keep a few
 * thousand concurrent flows formatted, where 64 slots kept only the
 * latest few and every change of flow formatted again. */
#define COMMENT_CACHE_SLOTS 4096u

struct comment_slot {
	struct tag_comment out;
	const struct owner *sender, *receiver; /* NULL for an unknown side */
	uint64_t sender_serial, receiver_serial;
	char *text; /* NULL: slot unused */
	size_t text_size;
};

/* Identity numbers are a random 40-bit base + the owner's serial: at most
 * 10 or 11 hex digits in a comment, and two runs' ranges overlap with a
 * chance near (their owners) / 2^40, so files joined by mergecap keep
 * their references apart. */
#define IDENTITY_BASE_BITS 40

struct tag_comment_cache {
	enum comment_mode mode;
	uint64_t items; /* presence bits the comments carry */
	uint64_t identity_base;
	uint32_t identity_seq; /* sequence numbers of the Identity records */
	struct tag_comment result;
	struct comment_slot *last; /* the slot of the previous call */
	struct event sender, receiver; /* scratch */
	char comment[EVENT_COMMENT_MAX];
	struct comment_slot slots[COMMENT_CACHE_SLOTS];
};

int tag_comment_cache_new(enum comment_mode mode, struct tag_comment_cache **ret)
{
	struct tag_comment_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->mode = mode;
	c->items = mode == COMMENT_BRIEF ? EVENT_COMMENT_BRIEF_ITEMS : EVENT_COMMENT_ITEMS;
	if (mode == COMMENT_COMPACT)
		c->identity_base = (hash_seed() & ((UINT64_C(1) << IDENTITY_BASE_BITS) - 1));
	*ret = c;
	return 0;
}

static uint64_t identity_of(const struct tag_comment_cache *c, const struct owner *o)
{
	return c->identity_base + o->serial;
}

int tag_comment_identity_record(struct tag_comment_cache *c, const struct owner *o,
				uint64_t ts_ns, uint8_t *buf, size_t size)
{
	struct event *ev = &c->sender;
	int n;

	memset(ev, 0, sizeof(*ev));
	owner_to_event(o, ev);
	ev->present &= EVENT_COMMENT_ITEMS;
	ev->type = EVENT_IDENTITY;
	ev->seq = c->identity_seq++;
	ev->ts_ns = ts_ns;
	ev->identity = identity_of(c, o);
	EVENT_SET(ev, ITEM_IDENTITY);
	n = record_encode(ev, buf, size);
	if (n >= 0)
		((struct owner *)o)->announced = true; /* see owner.h */
	return n;
}

struct tag_comment_cache *tag_comment_cache_free(struct tag_comment_cache *c)
{
	if (c) {
		for (unsigned i = 0; i < COMMENT_CACHE_SLOTS; i++)
			free(c->slots[i].text);
		free(c);
	}
	return NULL;
}

static uint64_t serial_of(const struct owner *o)
{
	return o ? o->serial : 0;
}

static bool comment_slot_matches(const struct comment_slot *c, const struct merge_tag *tag)
{
	return c->text && c->sender == tag->sender && c->receiver == tag->receiver &&
	       c->sender_serial == serial_of(tag->sender) &&
	       c->receiver_serial == serial_of(tag->receiver);
}

/* Format the comment and pid/tid of a tagged packet into slot c. */
static int comment_slot_fill(struct tag_comment_cache *o, struct comment_slot *c,
			     const struct merge_packet *pkt, const struct merge_tag *tag)
{
	bool has_s, has_d;
	const struct event *p;
	int n;

	has_s = merge_tag_event(pkt, tag, false, &o->sender);
	has_d = merge_tag_event(pkt, tag, true, &o->receiver);
	o->sender.present &= o->items;
	o->receiver.present &= o->items;
	if (o->mode == COMMENT_COMPACT) {
		if (has_s) {
			o->sender.identity = identity_of(o, tag->sender);
			EVENT_SET(&o->sender, ITEM_IDENTITY);
		}
		if (has_d) {
			o->receiver.identity = identity_of(o, tag->receiver);
			EVENT_SET(&o->receiver, ITEM_IDENTITY);
		}
		n = event_comment_format_compact(has_s ? &o->sender : NULL,
						 has_d ? &o->receiver : NULL, o->comment,
						 sizeof(o->comment));
	} else {
		n = event_comment_format(has_s ? &o->sender : NULL, has_d ? &o->receiver : NULL,
					 o->comment, sizeof(o->comment));
	}
	if (n < 0)
		return n;
	/* The slot's buffer is reused; it grows to the longest comment it
	 * held, at most EVENT_COMMENT_MAX. */
	if ((size_t)n + 1 > c->text_size) {
		char *text = realloc(c->text, (size_t)n + 1);

		if (!text) {
			free(c->text);
			*c = (struct comment_slot){0};
			return -ENOMEM;
		}
		c->text = text;
		c->text_size = (size_t)n + 1;
	}
	memcpy(c->text, o->comment, (size_t)n + 1);
	c->sender = tag->sender;
	c->receiver = tag->receiver;
	c->sender_serial = serial_of(tag->sender);
	c->receiver_serial = serial_of(tag->receiver);
	c->out = (struct tag_comment){.text = c->text, .text_len = (size_t)n};
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
	struct comment_slot *c = o->last;
	uint64_t h;

	/* A flow's packets come in runs: the previous packet's slot first. */
	if (!c || !comment_slot_matches(c, tag)) {
		/* Not symmetric: the two directions of a flow need two slots. */
		h = hash_u64(hash_u64(0, serial_of(tag->sender)), serial_of(tag->receiver));
		c = &o->slots[h % COMMENT_CACHE_SLOTS];
		if (!comment_slot_matches(c, tag) && comment_slot_fill(o, c, pkt, tag) < 0)
			return NULL;
		o->last = c;
	}
	/* Compact: the slot's answer unless an owner still needs its
	 * Identity record (a pair's first packets). */
	if (o->mode != COMMENT_COMPACT || ((!tag->sender || tag->sender->announced) &&
					   (!tag->receiver || tag->receiver->announced)))
		return &c->out;
	o->result = c->out;
	if (tag->sender && !tag->sender->announced)
		o->result.announce[o->result.n_announce++] = tag->sender;
	if (tag->receiver && !tag->receiver->announced && tag->receiver != tag->sender)
		o->result.announce[o->result.n_announce++] = tag->receiver;
	return &o->result;
}
