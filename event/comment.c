/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The merged-packet EPB comment line: format and parse (event/comment.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "event/comment.h"
#include "event/item.h"

#define TAG_LEN (sizeof(EVENT_COMMENT_TAG) - 1)
#define SIDE_PREFIX_LEN 4 /* "src." and "dst." */
#define U64_DIGITS_MAX 20 /* 18446744073709551615 */
/* Decoded values are kept up to the longest string field plus room for
 * event_copy_str to see past the cut (UTF-8 boundary); longer values are
 * still checked in full but only their head is stored. */
#define VALUE_KEEP_MAX (EVENT_CMDLINE_MAX + 1)

static const char hex_digits[] = "0123456789ABCDEF";

/* Bytes that would end a token or a pair, or that a comment reader could
 * mangle (controls, non-ASCII), travel as %XX. */
static bool needs_escape(unsigned char c)
{
	return c == '%' || c == ' ' || c == '=' || c < 0x21 || c > 0x7e;
}

struct out_buf {
	char *p;
	size_t size, len;
	bool full;
};

static void out_bytes(struct out_buf *o, const char *s, size_t n)
{
	if (o->full || o->size - o->len <= n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_u64(struct out_buf *o, uint64_t v)
{
	char digits[U64_DIGITS_MAX];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_bytes(o, digits + n, sizeof(digits) - n);
}

/* also: more bytes to escape (NULL for none). */
static void out_escaped(struct out_buf *o, const char *s, size_t n, const char *also)
{
	size_t i;

	for (i = 0; i < n && !o->full; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = {'%', hex_digits[c >> 4], hex_digits[c & 0xf]};

		if (needs_escape(c) || (also && strchr(also, c)))
			out_bytes(o, esc, sizeof(esc));
		else
			out_bytes(o, (const char *)&c, 1);
	}
}

/* NUL-terminate the line in buf; its length, or -ENOSPC (buf empty). */
static int out_finish(struct out_buf *o, char *buf, size_t size)
{
	if (o->full) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	buf[o->len] = '\0';
	return (int)o->len;
}

/* Inside a compact process tag the tag's own delimiters travel as %XX too
 * (strchr also matches the terminating NUL, which values never hold). */
#define TAG_DELIMITERS "[]@#"

static void out_hex(struct out_buf *o, uint64_t v)
{
	static const char lower[] = "0123456789abcdef";
	char digits[16];
	size_t n = sizeof(digits);

	do {
		digits[--n] = lower[v & 0xf];
		v >>= 4;
	} while (v);
	out_bytes(o, digits + n, sizeof(digits) - n);
}

/* " src=comm[pid]@pod#identity" (docs/event-format.md 9.1). */
static void out_tag(struct out_buf *o, const char *key, const struct event *ev)
{
	const char *name = EVENT_HAS(ev, ITEM_POD)	   ? ev->pod
			   : EVENT_HAS(ev, ITEM_CONTAINER) ? ev->container
							   : NULL;

	out_bytes(o, " ", 1);
	out_bytes(o, key, 3);
	out_bytes(o, "=", 1);
	if (EVENT_HAS(ev, ITEM_COMM))
		out_escaped(o, ev->comm, strnlen(ev->comm, sizeof(ev->comm)), TAG_DELIMITERS);
	out_bytes(o, "[", 1);
	if (EVENT_HAS(ev, ITEM_PID))
		out_u64(o, ev->pid);
	out_bytes(o, "]", 1);
	if (name && name[0]) {
		out_bytes(o, "@", 1);
		out_escaped(o, name, strnlen(name, EVENT_NAME_MAX), TAG_DELIMITERS);
	}
	out_bytes(o, "#", 1);
	out_hex(o, ev->identity);
}

int event_comment_format_compact(const struct event *sender, const struct event *receiver,
				 char *buf, size_t size)
{
	struct out_buf o = {.p = buf, .size = size};

	if ((sender && !EVENT_HAS(sender, ITEM_IDENTITY)) ||
	    (receiver && !EVENT_HAS(receiver, ITEM_IDENTITY)))
		return -EINVAL;
	out_bytes(&o, EVENT_COMMENT_TAG, TAG_LEN);
	if (sender)
		out_tag(&o, "src", sender);
	if (receiver)
		out_tag(&o, "dst", receiver);
	return out_finish(&o, buf, size);
}

static void out_side(struct out_buf *o, const char *side, const struct event *ev)
{
	unsigned id;

	if (!ev)
		return;
	for (id = 1; id < ITEM_MAX; id++) {
		const struct item_codec *c = &item_codecs[id];
		const char *field = (const char *)ev + c->offset;

		if (!(EVENT_COMMENT_ITEMS & EVENT_BIT(id)) || !EVENT_HAS(ev, id))
			continue;
		out_bytes(o, " ", 1);
		out_bytes(o, side, SIDE_PREFIX_LEN);
		out_bytes(o, event_item_name(id), strlen(event_item_name(id)));
		out_bytes(o, "=", 1);
		if (c->kind == ITEM_KIND_INT)
			out_u64(o, item_load_int(ev, c));
		else
			out_escaped(o, field, strnlen(field, c->width - 1), NULL);
	}
}

int event_comment_format(const struct event *sender, const struct event *receiver, char *buf,
			 size_t size)
{
	struct out_buf o = {.p = buf, .size = size};

	out_bytes(&o, EVENT_COMMENT_TAG, TAG_LEN);
	out_side(&o, "src.", sender);
	out_side(&o, "dst.", receiver);
	return out_finish(&o, buf, size);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_separator(char c)
{
	/* Writers escape all of these; '\r' also ends a CRLF line. */
	return c == ' ' || c == '\t' || c == '\r';
}

/* Percent-decode v[0..n) keeping at most keep bytes in out; *ret_len is
 * the full decoded length. Returns a reason on malformed input. */
static const char *decode_value(const char *v, size_t n, char *out, size_t keep, size_t *ret_len)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				return "truncated percent-encoding";
			hi = hex_value(v[i + 1]);
			lo = hex_value(v[i + 2]);
			if (hi < 0 || lo < 0)
				return "bad percent-encoding";
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0')
				return "value contains NUL";
			i += 2;
		}
		if (len < keep)
			out[len] = (char)c;
		len++;
	}
	*ret_len = len;
	return NULL;
}

static const char *parse_uint(const char *s, size_t n, size_t width, uint64_t *ret)
{
	uint64_t v = 0, max = width >= 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
	size_t i;

	if (n == 0)
		return "integer value is empty";
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return "integer value is not decimal";
		if (v > (max - d) / 10)
			return "integer value out of range";
		v = v * 10 + d;
	}
	*ret = v;
	return NULL;
}

/* The item id for a comment key name, 0 when it is not a comment item. */
static unsigned comment_item(const char *name, size_t n)
{
	unsigned id;

	for (id = 1; id < ITEM_MAX; id++) {
		const char *item = event_item_name(id);

		if ((EVENT_COMMENT_ITEMS & EVENT_BIT(id)) && item && strlen(item) == n &&
		    memcmp(item, name, n) == 0)
			return id;
	}
	return 0;
}

/* The value of a compact "src=" or "dst=" key: comm[pid]@name#identity,
 * where comm and name are percent-encoded (their '[', ']', '@', '#' too),
 * pid is decimal or empty, @name is optional and identity is 1 to 16 hex
 * digits. Fills comm, pid and identity; name (the pod or container, for
 * human readers) is only checked. */
static const char *parse_tag(const char *v, size_t n, bool fill, struct event *ev)
{
	char value[EVENT_COMM_MAX + 1];
	const char *open = memchr(v, '[', n), *close, *hash, *reason;
	size_t len, i, digits;
	uint64_t pid = 0, identity = 0;

	if (!open || !(close = memchr(open, ']', n - (size_t)(open - v))))
		return "process tag without [pid]";
	hash = memchr(close, '#', n - (size_t)(close - v));
	if (!hash)
		return "process tag without #identity";
	reason = decode_value(v, (size_t)(open - v), value, sizeof(value), &len);
	if (reason)
		return reason;
	if (close > open + 1) {
		reason = parse_uint(open + 1, (size_t)(close - open - 1), 4, &pid);
		if (reason)
			return reason;
	}
	if (close + 1 < hash) {
		char scratch[1];
		size_t name_len;

		if (close[1] != '@')
			return "process tag: text between [pid] and #identity without '@'";
		reason = decode_value(close + 2, (size_t)(hash - close - 2), scratch, 0, &name_len);
		if (reason)
			return reason;
	}
	digits = n - (size_t)(hash + 1 - v);
	if (digits == 0 || digits > 16)
		return "process tag identity is not 1 to 16 hex digits";
	for (i = 0; i < digits; i++) {
		int d = hex_value(hash[1 + i]);

		if (d < 0)
			return "process tag identity is not 1 to 16 hex digits";
		identity = identity << 4 | (unsigned)d;
	}
	if (fill && ev) {
		if (len) {
			memset(ev->comm, 0, sizeof(ev->comm));
			event_copy_str(ev->comm, sizeof(ev->comm), value,
				       len < sizeof(value) ? len : sizeof(value));
			EVENT_SET(ev, ITEM_COMM);
		}
		if (close > open + 1) {
			ev->pid = (uint32_t)pid;
			EVENT_SET(ev, ITEM_PID);
		}
		ev->identity = identity;
		EVENT_SET(ev, ITEM_IDENTITY);
	}
	return NULL;
}

/* One pair "side.name=value" or "side=tag". With fill false only validates. */
static const char *parse_pair(const char *tok, size_t n, bool fill, struct event *src,
			      struct event *dst)
{
	char value[VALUE_KEEP_MAX];
	const char *eq = memchr(tok, '=', n);
	const struct item_codec *c;
	struct event *ev;
	const char *reason;
	size_t len;
	unsigned id;

	if (!eq)
		return "pair without '='";
	if (eq - tok == 3 && (memcmp(tok, "src", 3) == 0 || memcmp(tok, "dst", 3) == 0))
		return parse_tag(eq + 1, n - 4, fill, tok[0] == 's' ? src : dst);
	if ((size_t)(eq - tok) > SIDE_PREFIX_LEN && memcmp(tok, "src.", SIDE_PREFIX_LEN) == 0)
		ev = src;
	else if ((size_t)(eq - tok) > SIDE_PREFIX_LEN && memcmp(tok, "dst.", SIDE_PREFIX_LEN) == 0)
		ev = dst;
	else
		return NULL; /* unknown key: a newer writer's, skipped */
	id = comment_item(tok + SIDE_PREFIX_LEN, (size_t)(eq - tok) - SIDE_PREFIX_LEN);
	if (!id)
		return NULL;
	c = &item_codecs[id];

	reason = decode_value(eq + 1, n - (size_t)(eq + 1 - tok), value, sizeof(value), &len);
	if (reason)
		return reason;
	if (c->kind == ITEM_KIND_INT) {
		uint64_t v;

		if (len > U64_DIGITS_MAX)
			return "integer value out of range";
		reason = parse_uint(value, len, c->width, &v);
		if (reason)
			return reason;
		if (fill && ev)
			item_store_int(ev, c, v);
	} else if (fill && ev) {
		char *field = (char *)ev + c->offset;

		memset(field, 0, c->width);
		event_copy_str(field, c->width, value, len < sizeof(value) ? len : sizeof(value));
	}
	if (fill && ev)
		EVENT_SET(ev, id);
	return NULL;
}

static const char *parse_line(const char *line, size_t n, bool fill, struct event *src,
			      struct event *dst)
{
	size_t pos = TAG_LEN;

	if (fill) {
		if (src)
			memset(src, 0, sizeof(*src));
		if (dst)
			memset(dst, 0, sizeof(*dst));
	}
	while (pos < n) {
		size_t start;
		const char *reason;

		while (pos < n && is_separator(line[pos]))
			pos++;
		start = pos;
		while (pos < n && !is_separator(line[pos]))
			pos++;
		if (pos == start)
			break;
		reason = parse_pair(line + start, pos - start, fill, src, dst);
		if (reason)
			return reason;
	}
	return NULL;
}

/* The first line of s starting with the tag followed by a separator or the
 * line's end; *ret_len is its length without the line end. The scan stops
 * after EVENT_COMMENT_MAX bytes; -E2BIG when the line runs past that. */
static int find_line(const char *s, const char **ret_line, size_t *ret_len)
{
	size_t pos = 0;

	while (pos < EVENT_COMMENT_MAX && s[pos]) {
		const char *line = s + pos;
		size_t n = 0;

		while (pos + n < EVENT_COMMENT_MAX && line[n] && line[n] != '\n')
			n++;
		if (n >= TAG_LEN && memcmp(line, EVENT_COMMENT_TAG, TAG_LEN) == 0 &&
		    (n == TAG_LEN || is_separator(line[TAG_LEN]))) {
			if (pos + n >= EVENT_COMMENT_MAX && line[n])
				return -E2BIG;
			*ret_line = line;
			*ret_len = n;
			return 0;
		}
		pos += n;
		if (pos < EVENT_COMMENT_MAX && s[pos] == '\n')
			pos++;
	}
	return -ENOMSG;
}

int event_comment_parse(const char *s, struct event *ret_src, struct event *ret_dst,
			const char **ret_reason)
{
	const char *line, *reason;
	size_t n;
	int r;

	if (!s)
		return -ENOMSG;
	r = find_line(s, &line, &n);
	if (r == -ENOMSG)
		return r;
	if (r < 0)
		reason = "comment line longer than EVENT_COMMENT_MAX";
	else
		reason = parse_line(line, n, false, NULL, NULL);
	if (reason) {
		if (ret_reason)
			*ret_reason = reason;
		return -EBADMSG;
	}
	parse_line(line, n, true, ret_src, ret_dst);
	return 0;
}
