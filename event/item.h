/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to event/: how each item id maps to a field of struct event.
 *
 * One table serves the binary record codec and the EPB comment, so the two
 * cannot disagree about a field's type or width. Not installed, not used
 * outside event/.
 */
#ifndef EBPFDUMP_EVENT_ITEM_H
#define EBPFDUMP_EVENT_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

enum item_kind {
	ITEM_KIND_UNKNOWN = 0, /* ids without an entry are skipped by readers */
	ITEM_KIND_INT,	       /* unsigned, big-endian on the wire */
	ITEM_KIND_STR,	       /* bytes without NUL, field holds up to width - 1 */
	ITEM_KIND_ADDR,	       /* 4 or 16 bytes, length follows event.family */
};

struct item_codec {
	enum item_kind kind;
	/* INT: wire and field width in bytes; STR and ADDR: field size (a
	 * string field includes its NUL). */
	size_t width;
	size_t offset; /* of the field in struct event */
	/* The one thing that can be wrong with a well-framed value of this
	 * item (width, NUL, address length), naming the item. */
	const char *reason;
};

/* Indexed by item id; entries of unassigned ids are ITEM_KIND_UNKNOWN. */
extern const struct item_codec item_codecs[ITEM_MAX];

/* A field's integer value widened to 64 bits, and the reverse. Inline:
 * the codecs call them for every integer item of every record. */
static inline uint64_t item_load_int(const struct event *ev, const struct item_codec *c)
{
	const void *field = (const char *)ev + c->offset;

	switch (c->width) {
	case 1:
		return *(const uint8_t *)field;
	case 2:
		return *(const uint16_t *)field;
	case 4:
		return *(const uint32_t *)field;
	default:
		return *(const uint64_t *)field;
	}
}

static inline void item_store_int(struct event *ev, const struct item_codec *c, uint64_t v)
{
	void *field = (char *)ev + c->offset;

	switch (c->width) {
	case 1:
		*(uint8_t *)field = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)field = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)field = (uint32_t)v;
		break;
	default:
		*(uint64_t *)field = v;
		break;
	}
}

#endif
