/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The binary event record codec (event/record.h, docs/event-format.md). */
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

static size_t family_addr_len(uint8_t family)
{
	if (family == AF_INET)
		return IPV4_ADDR_LEN;
	if (family == AF_INET6)
		return IPV6_ADDR_LEN;
	return 0;
}

/* Besides -ENOSPC (record.h) this returns -EINVAL for an event that has
 * laddr or raddr but a family other than AF_INET/AF_INET6: there is no
 * right length to write, and guessing would put garbage on the wire. */
int record_encode(const struct event *ev, uint8_t *buf, size_t size)
{
	size_t limit = size < RECORD_MAX_LEN ? size : RECORD_MAX_LEN;
	size_t addr_len = family_addr_len(ev->family);
	size_t pos = RECORD_HEADER_LEN;
	unsigned id;

	/* An address without a family has no defined length on the wire. */
	if ((EVENT_HAS(ev, ITEM_LADDR) || EVENT_HAS(ev, ITEM_RADDR)) && addr_len == 0)
		return -EINVAL;
	if (limit < RECORD_HEADER_LEN)
		return -ENOSPC;

	for (id = 1; id < ITEM_MAX; id++) {
		const struct item_codec *c = &item_codecs[id];
		const char *field = (const char *)ev + c->offset;
		size_t vlen;

		if (!EVENT_HAS(ev, id) || c->kind == ITEM_KIND_UNKNOWN)
			continue;
		if (c->kind == ITEM_KIND_INT)
			vlen = c->width;
		else if (c->kind == ITEM_KIND_STR)
			vlen = strnlen(field, c->width - 1);
		else
			vlen = addr_len;
		if (limit - pos < ITEM_HEADER_LEN + vlen)
			return -ENOSPC;
		put_be(buf + pos, id, 2);
		put_be(buf + pos + 2, vlen, 2);
		pos += ITEM_HEADER_LEN;
		if (c->kind == ITEM_KIND_INT)
			put_be(buf + pos, item_load_int(ev, c), vlen);
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

/* One walk over a record. With out == NULL it only validates; with out set
 * it fills the event and cannot fail, because record_decode validates
 * first: that is how *ret stays untouched when the record is rejected. */
static const char *record_walk(const uint8_t *buf, size_t len, struct event *out)
{
	size_t hdr_len, total, pos, laddr_len = 0, raddr_len = 0;

	if (len < RECORD_HEADER_LEN)
		return "truncated header";
	if (get_be(buf, 2) != RECORD_MAGIC)
		return "bad magic";
	if (buf[2] != RECORD_VERSION)
		return version_reasons[buf[2]];
	hdr_len = buf[3];
	if (hdr_len < RECORD_HEADER_LEN)
		return "header length < 24";
	total = get_be(buf + 8, 4);
	if (total > RECORD_MAX_LEN)
		return "total length larger than RECORD_MAX_LEN";
	if (total != len)
		return "total length does not match the buffer length";
	if (hdr_len > total)
		return "header length larger than total length";

	if (out) {
		memset(out, 0, sizeof(*out));
		out->type = (uint16_t)get_be(buf + 4, 2);
		out->seq = (uint32_t)get_be(buf + 12, 4);
		out->ts_ns = get_be(buf + 16, 8);
	}

	for (pos = hdr_len; pos < total;) {
		const struct item_codec *c;
		size_t id, vlen;
		const uint8_t *value;

		if (total - pos < ITEM_HEADER_LEN)
			return "item header truncated";
		id = get_be(buf + pos, 2);
		vlen = get_be(buf + pos + 2, 2);
		pos += ITEM_HEADER_LEN;
		if (vlen > total - pos)
			return "item value past the end";
		value = buf + pos;
		pos += vlen;

		c = id < ITEM_MAX ? &item_codecs[id] : NULL;
		if (!c || c->kind == ITEM_KIND_UNKNOWN)
			continue; /* newer writer: skip what we do not know */

		switch (c->kind) {
		case ITEM_KIND_INT:
			if (vlen != c->width)
				return c->reason;
			if (out)
				item_store_int(out, c, get_be(value, vlen));
			break;
		case ITEM_KIND_STR:
			if (memchr(value, '\0', vlen))
				return c->reason;
			if (out) {
				char *field = (char *)out + c->offset;

				memset(field, 0, c->width);
				event_copy_str(field, c->width, (const char *)value, vlen);
			}
			break;
		case ITEM_KIND_ADDR:
			if (vlen != IPV4_ADDR_LEN && vlen != IPV6_ADDR_LEN)
				return c->reason;
			if (id == ITEM_LADDR)
				laddr_len = vlen;
			else
				raddr_len = vlen;
			if (out) {
				uint8_t *field = (uint8_t *)out + c->offset;

				memset(field, 0, c->width);
				memcpy(field, value, vlen);
			}
			break;
		default:
			break;
		}
		if (out)
			EVENT_SET(out, id);
	}

	/* Duplicates: the last one counts, so compare only after the walk. */
	if (laddr_len && raddr_len && laddr_len != raddr_len)
		return "LADDR and RADDR of different families";
	if (out && (laddr_len || raddr_len))
		out->family =
		    (laddr_len ? laddr_len : raddr_len) == IPV4_ADDR_LEN ? AF_INET : AF_INET6;
	return NULL;
}

int record_decode(const uint8_t *buf, size_t len, struct event *ret, const char **ret_reason)
{
	const char *reason = record_walk(buf, len, NULL);

	if (reason) {
		if (ret_reason)
			*ret_reason = reason;
		return -EBADMSG;
	}
	record_walk(buf, len, ret);
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
