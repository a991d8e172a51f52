/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event message codec: topics, host frame checks, record frame decode. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "event/record.h"
#include "remote/message.h"

/* Offset of the version byte in the record header: the decoder looks at
 * it itself to tell "another version" from other malformed records. */
#define RECORD_VERSION_OFFSET 2u
/* "ebpf.v" starts every versioned binary topic; the version digits and a
 * dot follow. */
#define TOPIC_VERSION_LEAD "ebpf.v"
#define TOPIC_VERSION_DIGITS_MAX 5u

/* clang-format off */
static const char *const drop_names[REMOTE_DROP_MAX] = {
	[REMOTE_DROP_FRAMES] = "frames",
	[REMOTE_DROP_OVERSIZED] = "oversized",
	[REMOTE_DROP_TOPIC] = "topic",
	[REMOTE_DROP_VERSION] = "version",
	[REMOTE_DROP_HOST] = "host",
	[REMOTE_DROP_TRUNCATED] = "truncated",
	[REMOTE_DROP_MALFORMED] = "malformed",
	[REMOTE_DROP_HOST_MISMATCH] = "host_mismatch",
};
/* clang-format on */

const char *remote_drop_name(unsigned reason)
{
	return reason < REMOTE_DROP_MAX ? drop_names[reason] : NULL;
}

int remote_topic(char *buf, size_t size, const char *prefix, unsigned type)
{
	const char *name = event_type_name(type);
	int n;

	if (name)
		n = snprintf(buf, size, "%s%s", prefix, name);
	else
		n = snprintf(buf, size, "%sType_%u", prefix, type);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

bool remote_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n, k;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false; /* continuation byte, overlong lead or > U+10FFFF */
		}
		if (len - i - 1 < n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong 3- and 4-byte forms, surrogates, beyond Unicode. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

static bool is_name_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* A topic of another version is "ebpf.v<digits>." with other digits: that
 * is a version problem, not a stranger's topic. */
static bool topic_other_version(const uint8_t *t, size_t len)
{
	size_t lead = strlen(TOPIC_VERSION_LEAD), i;

	if (len <= lead || memcmp(t, TOPIC_VERSION_LEAD, lead) != 0)
		return false;
	for (i = lead; i < len && i - lead < TOPIC_VERSION_DIGITS_MAX; i++)
		if (t[i] < '0' || t[i] > '9')
			break;
	return i > lead && i < len && t[i] == '.';
}

/* The topic names the record's type, so a subscriber that filters topics
 * by prefix sees exactly the types it asked for. A type this reader does
 * not know (a newer writer) only needs a well-formed name. */
static int check_topic(const struct remote_frame *f, unsigned type, const char **detail)
{
	size_t plen = strlen(REMOTE_TOPIC_PREFIX), i;
	const char *name = event_type_name(type);

	if (f->len < plen || memcmp(f->data, REMOTE_TOPIC_PREFIX, plen) != 0) {
		if (topic_other_version(f->data, f->len)) {
			*detail = "topic of another protocol version";
			return REMOTE_DROP_VERSION;
		}
		*detail = "topic does not start with " REMOTE_TOPIC_PREFIX;
		return REMOTE_DROP_TOPIC;
	}
	if (f->len == plen) {
		*detail = "topic without an event type";
		return REMOTE_DROP_TOPIC;
	}
	for (i = plen; i < f->len; i++) {
		if (!is_name_char(f->data[i])) {
			*detail = "topic event type has characters other than [A-Za-z0-9_]";
			return REMOTE_DROP_TOPIC;
		}
	}
	if (name &&
	    (f->len - plen != strlen(name) || memcmp(f->data + plen, name, f->len - plen))) {
		*detail = "topic names another event type than the record";
		return REMOTE_DROP_TOPIC;
	}
	return -1;
}

/* Sort a record the codec would reject into version, truncated or
 * malformed; the codec's own reason is the detail. */
static int check_record(const struct remote_frame *f, struct event *ev, const char **detail)
{
	const char *reason = NULL;
	int announced;

	if (f->len > RECORD_VERSION_OFFSET && f->data[RECORD_VERSION_OFFSET] != RECORD_VERSION &&
	    record_peek_length(f->data, f->len) >= 0) {
		*detail = "record of another format version";
		return REMOTE_DROP_VERSION;
	}
	if (record_decode(f->data, f->len, ev, &reason) == 0)
		return -1;
	announced = record_peek_length(f->data, f->len);
	if (f->len < RECORD_HEADER_LEN || (announced >= 0 && f->len < (size_t)announced)) {
		*detail = f->len < RECORD_HEADER_LEN ? "record shorter than its header"
						     : "record shorter than its total length";
		return REMOTE_DROP_TRUNCATED;
	}
	*detail = reason ? reason : "record rejected";
	return REMOTE_DROP_MALFORMED;
}

static int decode(const struct remote_frame *frames, size_t nframes, struct event *ev,
		  const char **detail)
{
	const struct remote_frame *topic = &frames[0], *host = &frames[1], *rec = &frames[2];
	int r;

	if (nframes != REMOTE_FRAMES) {
		*detail = nframes < REMOTE_FRAMES ? "fewer than 3 frames" : "more than 3 frames";
		return REMOTE_DROP_FRAMES;
	}
	if (topic->len > REMOTE_TOPIC_MAX) {
		*detail = "topic longer than REMOTE_TOPIC_MAX";
		return REMOTE_DROP_OVERSIZED;
	}
	if (host->len > REMOTE_HOST_MAX) {
		*detail = "host longer than REMOTE_HOST_MAX";
		return REMOTE_DROP_OVERSIZED;
	}
	if (rec->len > RECORD_MAX_LEN) {
		*detail = "record longer than RECORD_MAX_LEN";
		return REMOTE_DROP_OVERSIZED;
	}
	if (host->len == 0 || !remote_utf8_valid(host->data, host->len)) {
		*detail = host->len ? "host is not UTF-8 text" : "empty host";
		return REMOTE_DROP_HOST;
	}
	/* Checked before the record so that a bare wrong topic reads as one. */
	if (topic->len < strlen(REMOTE_TOPIC_PREFIX) ||
	    memcmp(topic->data, REMOTE_TOPIC_PREFIX, strlen(REMOTE_TOPIC_PREFIX)) != 0)
		return check_topic(topic, 0, detail);
	r = check_record(rec, ev, detail);
	if (r >= 0)
		return r;
	r = check_topic(topic, ev->type, detail);
	if (r >= 0)
		return r;
	/* Frame 2 is who sent it: it replaces any host item in the record. */
	memset(ev->host, 0, sizeof(ev->host));
	event_copy_str(ev->host, sizeof(ev->host), (const char *)host->data, host->len);
	EVENT_SET(ev, ITEM_HOST);
	return -1;
}

int remote_message_decode(const struct remote_frame *frames, size_t nframes, struct event *ret,
			  unsigned *ret_reason, const char **ret_detail)
{
	const char *detail = NULL;
	int reason = decode(frames, nframes, ret, &detail);

	if (reason < 0)
		return 0;
	if (ret_reason)
		*ret_reason = (unsigned)reason;
	if (ret_detail)
		*ret_detail = detail;
	return -EBADMSG;
}
