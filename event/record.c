/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The binary event record codec (event/record.h, docs/event-format.md). */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "event/item.h"
#include "event/record.h"

#define ITEM_HEADER_LEN 4u
#define IPV4_ADDR_LEN 4u
#define IPV6_ADDR_LEN 16u

/* "unsupported version N" for every u8 N, as static strings: the reason
 * must outlive the call without a buffer the caller would have to own. */
/* clang-format off */
#define VSTR_(n) #n
#define VSTR(n) "unsupported version " VSTR_(n)
#define V10(p) VSTR(p##0), VSTR(p##1), VSTR(p##2), VSTR(p##3), VSTR(p##4), \
	       VSTR(p##5), VSTR(p##6), VSTR(p##7), VSTR(p##8), VSTR(p##9)
static const char *const version_reasons[256] = {
	VSTR(0), VSTR(1), VSTR(2), VSTR(3), VSTR(4), VSTR(5), VSTR(6), VSTR(7), VSTR(8), VSTR(9),
	V10(1), V10(2), V10(3), V10(4), V10(5), V10(6), V10(7), V10(8), V10(9), V10(10),
	V10(11), V10(12), V10(13), V10(14), V10(15), V10(16), V10(17), V10(18), V10(19), V10(20),
	V10(21), V10(22), V10(23), V10(24),
	VSTR(250), VSTR(251), VSTR(252), VSTR(253), VSTR(254), VSTR(255),
};
/* clang-format on */

static void put_be(uint8_t *p, uint64_t v, size_t width)
{
	while (width--) {
		p[width] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, size_t width)
{
	uint64_t v = 0;

	while (width--)
		v = v << 8 | *p++;
	return v;
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t get_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

/* An integer item's value, for the widths items have (item.h): one load
 * and a byte swap instead of a loop per byte, as every record of every
 * event goes through here. */
static inline void put_be_int(uint8_t *p, uint64_t v, size_t width)
{
	uint32_t v32;
	uint64_t v64;

	switch (width) {
	case 1:
		p[0] = (uint8_t)v;
		break;
	case 2:
		put_be16(p, (uint16_t)v);
		break;
	case 4:
		v32 = htobe32((uint32_t)v);
		memcpy(p, &v32, sizeof(v32));
		break;
	case 8:
		v64 = htobe64(v);
		memcpy(p, &v64, sizeof(v64));
		break;
	default:
		put_be(p, v, width);
		break;
	}
}

static inline uint64_t get_be_int(const uint8_t *p, size_t width)
{
	uint32_t v32;
	uint64_t v64;

	switch (width) {
	case 1:
		return p[0];
	case 2:
		return get_be16(p);
	case 4:
		memcpy(&v32, p, sizeof(v32));
		return be32toh(v32);
	case 8:
		memcpy(&v64, p, sizeof(v64));
		return be64toh(v64);
	default:
		return get_be(p, width);
	}
}

static size_t family_addr_len(uint8_t family)
{
	if (family == AF_INET)
		return IPV4_ADDR_LEN;
	if (family == AF_INET6)
		return IPV6_ADDR_LEN;
	return 0;
}

/* Every assigned item id (0 is never used): the presence bits the codec
 * looks at. */
#define ITEM_ID_MASK ((EVENT_BIT(ITEM_MAX) - 1) & ~EVENT_BIT(0))
_Static_assert(ITEM_MAX < 64, "item ids must fit the presence mask");
_Static_assert(RECORD_MAX_LEN <= UINT16_MAX, "item offsets are kept in 16 bits");

/* Besides -ENOSPC (record.h) this returns -EINVAL for an event that has
 * laddr or raddr but a family other than AF_INET/AF_INET6: there is no
 * right length to write, and guessing would put garbage on the wire. */
int record_encode(const struct event *ev, uint8_t *buf, size_t size)
{
	size_t limit = size < RECORD_MAX_LEN ? size : RECORD_MAX_LEN;
	size_t addr_len = family_addr_len(ev->family);
	size_t pos = RECORD_HEADER_LEN;
	/* Only the items present, lowest id first (the order on the wire):
	 * an event has about 15 of the 37. */
	uint64_t todo = ev->present & ITEM_ID_MASK;

	/* An address without a family has no defined length on the wire. */
	if ((EVENT_HAS(ev, ITEM_LADDR) || EVENT_HAS(ev, ITEM_RADDR)) && addr_len == 0)
		return -EINVAL;
	if (limit < RECORD_HEADER_LEN)
		return -ENOSPC;

	for (; todo; todo &= todo - 1) {
		unsigned id = (unsigned)__builtin_ctzll(todo);
		const struct item_codec *c = &item_codecs[id];
		const char *field = (const char *)ev + c->offset;
		size_t vlen;

		if (c->kind == ITEM_KIND_UNKNOWN)
			continue;
		if (c->kind == ITEM_KIND_INT)
			vlen = c->width;
		else if (c->kind == ITEM_KIND_STR)
			vlen = strnlen(field, c->width - 1);
		else
			vlen = addr_len;
		if (limit - pos < ITEM_HEADER_LEN + vlen)
			return -ENOSPC;
		put_be16(buf + pos, (uint16_t)id);
		put_be16(buf + pos + 2, (uint16_t)vlen);
		pos += ITEM_HEADER_LEN;
		if (c->kind == ITEM_KIND_INT)
			put_be_int(buf + pos, item_load_int(ev, c), vlen);
		else
			memcpy(buf + pos, field, vlen);
		pos += vlen;
	}

	put_be(buf + 0, RECORD_MAGIC, 2);
	buf[2] = RECORD_VERSION;
	buf[3] = RECORD_HEADER_LEN;
	put_be(buf + 4, ev->type, 2);
	put_be(buf + 6, 0, 2);
	put_be(buf + 8, pos, 4);
	put_be(buf + 12, ev->seq, 4);
	put_be(buf + 16, ev->ts_ns, 8);
	return (int)pos;
}

/* Where the value of each known item is, after validation: the last
 * occurrence of an id (5.3), as an offset into the record. */
struct record_items {
	uint64_t present;
	uint8_t family;
	struct {
		uint16_t off, len;
	} span[ITEM_MAX];
};

/* Validate one record and note its items; the one walk over the items.
 * Returns the reason of a rejection, NULL when the record is good. */
static const char *record_scan(const uint8_t *buf, size_t len, struct record_items *items)
{
	size_t hdr_len, total, pos, laddr_len = 0, raddr_len = 0;

	items->present = 0;
	items->family = 0;
	if (len < RECORD_HEADER_LEN)
		return "truncated header";
	if (get_be16(buf) != RECORD_MAGIC)
		return "bad magic";
	if (buf[2] != RECORD_VERSION)
		return version_reasons[buf[2]];
	hdr_len = buf[3];
	if (hdr_len < RECORD_HEADER_LEN)
		return "header length < 24";
	total = get_be_int(buf + 8, 4);
	if (total > RECORD_MAX_LEN)
		return "total length larger than RECORD_MAX_LEN";
	if (total != len)
		return "total length does not match the buffer length";
	if (hdr_len > total)
		return "header length larger than total length";

	for (pos = hdr_len; pos < total;) {
		const struct item_codec *c;
		size_t id, vlen;
		const uint8_t *value;

		if (total - pos < ITEM_HEADER_LEN)
			return "item header truncated";
		id = get_be16(buf + pos);
		vlen = get_be16(buf + pos + 2);
		pos += ITEM_HEADER_LEN;
		if (vlen > total - pos)
			return "item value past the end";
		value = buf + pos;
		pos += vlen;

		if (id >= ITEM_MAX)
			continue; /* newer writer: skip what we do not know */
		c = &item_codecs[id];
		switch (c->kind) {
		case ITEM_KIND_INT:
			if (vlen != c->width)
				return c->reason;
			break;
		case ITEM_KIND_STR:
			if (memchr(value, '\0', vlen))
				return c->reason;
			break;
		case ITEM_KIND_ADDR:
			if (vlen != IPV4_ADDR_LEN && vlen != IPV6_ADDR_LEN)
				return c->reason;
			if (id == ITEM_LADDR)
				laddr_len = vlen;
			else
				raddr_len = vlen;
			break;
		default:
			continue; /* unassigned id */
		}
		items->span[id].off = (uint16_t)(value - buf);
		items->span[id].len = (uint16_t)vlen;
		items->present |= EVENT_BIT(id);
	}

	/* Duplicates: the last one counts, so compare only after the walk. */
	if (laddr_len && raddr_len && laddr_len != raddr_len)
		return "LADDR and RADDR of different families";
	if (laddr_len || raddr_len)
		items->family =
		    (laddr_len ? laddr_len : raddr_len) == IPV4_ADDR_LEN ? AF_INET : AF_INET6;
	return NULL;
}

/* Fill out from a record record_scan() accepted; cannot fail. Each item
 * is stored once (its last occurrence), into a struct cleared first. */
static void record_fill(const uint8_t *buf, const struct record_items *items, struct event *out)
{
	memset(out, 0, sizeof(*out));
	out->type = get_be16(buf + 4);
	out->seq = (uint32_t)get_be_int(buf + 12, 4);
	out->ts_ns = get_be_int(buf + 16, 8);

	for (uint64_t todo = items->present; todo; todo &= todo - 1) {
		unsigned id = (unsigned)__builtin_ctzll(todo);
		const struct item_codec *c = &item_codecs[id];
		const uint8_t *value = buf + items->span[id].off;
		size_t vlen = items->span[id].len;
		char *field = (char *)out + c->offset;

		switch (c->kind) {
		case ITEM_KIND_INT:
			item_store_int(out, c, get_be_int(value, vlen));
			break;
		case ITEM_KIND_STR:
			/* No NUL inside (checked), and the field is zero: a
			 * value that fits needs only its bytes; a longer one
			 * is cut on a character boundary. */
			if (vlen < c->width)
				memcpy(field, value, vlen);
			else
				event_copy_str(field, c->width, (const char *)value, vlen);
			break;
		case ITEM_KIND_ADDR:
			memcpy(field, value, vlen);
			break;
		default:
			break;
		}
	}
	out->present = items->present;
	out->family = items->family;
}

/* Validating before filling is how *ret stays untouched when the record
 * is rejected. */
int record_decode(const uint8_t *buf, size_t len, struct event *ret, const char **ret_reason)
{
	struct record_items items;
	const char *reason = record_scan(buf, len, &items);

	if (reason) {
		if (ret_reason)
			*ret_reason = reason;
		return -EBADMSG;
	}
	record_fill(buf, &items, ret);
	return 0;
}

int record_peek_length(const uint8_t *buf, size_t len)
{
	uint64_t total;

	/* Magic, version, header length, type, flags and total length. */
	if (len < 12 || get_be(buf, 2) != RECORD_MAGIC)
		return -EBADMSG;
	total = get_be(buf + 8, 4);
	if (total < RECORD_HEADER_LEN || total > RECORD_MAX_LEN)
		return -EBADMSG;
	return (int)total;
}
