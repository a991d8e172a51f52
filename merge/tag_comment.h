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

#include "merge/merge.h"

/* What a tagged packet carries into the pcapng EPB. */
struct tag_comment {
	const char *text; /* "ebpf:1 src.pid=... dst.comm=..." */
	bool has_pid;	  /* the sender's pid/tid when known, else the receiver's */
	uint32_t pid, tid;
};

struct tag_comment_cache;

/* items: the presence bits the comments carry, a subset of
 * EVENT_COMMENT_ITEMS (EVENT_COMMENT_BRIEF_ITEMS...); 0 for all of them.
 * Returns 0 or -ENOMEM. */
int tag_comment_cache_new(uint64_t items, struct tag_comment_cache **ret);
struct tag_comment_cache *tag_comment_cache_free(struct tag_comment_cache *c);
/* The comment of a packet the merge tagged on at least one side; NULL on
 * -ENOMEM or when the comment does not fit. Valid until the next call. */
const struct tag_comment *tag_comment_get(struct tag_comment_cache *c,
					  const struct merge_packet *pkt,
					  const struct merge_tag *tag);

#endif
