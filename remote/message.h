/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ZeroMQ message of one event (docs/remote.md): topic, host, record.
 *
 * Pure functions over byte buffers, no ZeroMQ: the publisher and the
 * subscriber use them, and so do the unit tests and the fuzzer. The decoder
 * never reads outside the frames it is given and says why it rejects.
 */
#ifndef EBPFDUMP_REMOTE_MESSAGE_H
#define EBPFDUMP_REMOTE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "remote/remote.h"

/* Frames of a message: topic, host identity, event record (or JSON). */
#define REMOTE_FRAMES 3u

struct remote_frame {
	const uint8_t *data;
	size_t len;
};

/* Write the topic for an event type, prefix being REMOTE_TOPIC_PREFIX or
 * REMOTE_JSON_TOPIC_PREFIX: "ebpf.v1.TCP_Connect"; a type without a name
 * gets "Type_<number>". Returns the length (without the NUL) or -ENOSPC. */
int remote_topic(char *buf, size_t size, const char *prefix, unsigned type);

/* Check a received message. nframes is how many frames it had; frames[]
 * holds the first min(nframes, REMOTE_FRAMES) of them. On success returns
 * 0 and fills *ret (decoded record, host set from frame 2 with ITEM_HOST
 * present). Otherwise returns -EBADMSG, sets *ret_reason (enum
 * remote_drop) and *ret_detail (a static one-line explanation) and leaves
 * *ret unspecified. Either out pointer may be NULL. */
int remote_message_decode(const struct remote_frame *frames, size_t nframes, struct event *ret,
			  unsigned *ret_reason, const char **ret_detail);

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) and has no NUL. */
bool remote_utf8_valid(const uint8_t *s, size_t len);

#endif
