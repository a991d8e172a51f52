/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The EPB comment and pid/tid of a tagged packet, cached: comments are a
 * pure function of the two owners' identities, and most packets repeat
 * the pair of the packet before them (a flow's packets, both ways), so
 * formatting, most of the cost of tagging, is done once per pair. Used by
 * the live capture and by the offline merge.
 */
#ifndef EBPFDUMP_MERGE_TAG_COMMENT_H
#define EBPFDUMP_MERGE_TAG_COMMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "event/comment.h"
#include "merge/merge.h"

/* What a tagged packet carries into the pcapng EPB. */
struct tag_comment {
	const char *text; /* "ebpf:1 src.pid=... dst.comm=..." */
	size_t text_len;
	bool has_pid;	  /* the sender's pid/tid when known, else the receiver's */
	uint32_t pid, tid;
	/* Compact mode: the owners whose Identity record the output has not
	 * had yet; the caller writes them (tag_comment_identity_record) on
	 * the events interface before this packet. */
	unsigned n_announce;
	const struct owner *announce[2];
};

struct tag_comment_cache;

/* mode: what the comments carry (event/comment.h). In COMMENT_COMPACT
 * mode each owner gets an identity number, unique within the output and,
 * from a random base, unlikely to repeat another run's (files merged with
 * mergecap keep their references apart). Returns 0 or -ENOMEM. */
int tag_comment_cache_new(enum comment_mode mode, struct tag_comment_cache **ret);
struct tag_comment_cache *tag_comment_cache_free(struct tag_comment_cache *c);
/* The comment of a packet the merge tagged on at least one side; NULL on
 * -ENOMEM or when the comment does not fit. Valid until the next call. */
const struct tag_comment *tag_comment_get(struct tag_comment_cache *c,
					  const struct merge_packet *pkt,
					  const struct merge_tag *tag);

/* The Identity record of owner o (type EVENT_IDENTITY, timestamp ts_ns,
 * the owner's comment items and its identity number) into buf; marks o
 * as announced, so no later packet asks for it again. Returns the record
 * length or a negative errno from record_encode. */
int tag_comment_identity_record(struct tag_comment_cache *c, const struct owner *o,
				uint64_t ts_ns, uint8_t *buf, size_t size);

#endif
