/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The packet sink: a packet the merge emitted, written to a pcapng with its
 * tag comment, pid/tid option and, in compact mode, the Identity frames it
 * announces (each process's details once, before its first packet). One
 * copy of this rule for the live capture (extcap/capture.c) and the
 * offline merge (extcap/offline.c).
 *
 *   struct packet_sink s;
 *   packet_sink_init(&s, writer, comments, has_events ? &if_events : NULL);
 *   merge callback: r = packet_sink_write(&s, out_if, pkt, tag, NULL);
 *
 * When a comment cannot be built (out of memory), the packet is still
 * written, without it, and counted in comments_missing: a packet is never
 * lost for its comment.
 */
#ifndef EBPFDUMP_MERGE_PACKET_SINK_H
#define EBPFDUMP_MERGE_PACKET_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "event/record.h"
#include "merge/merge.h"
#include "merge/tag_comment.h"
#include "pcapng/writer.h"

struct packet_sink {
	struct pcapng_writer *w;
	struct tag_comment_cache *comments; /* NULL: packets written as they are */
	bool has_events;		    /* Identity frames have an interface */
	uint32_t if_events;
	uint64_t packets_written;
	uint64_t identities_written; /* Identity frames, on the events interface */
	uint64_t comments_missing;   /* tagged packets written without their comment */
	uint8_t identity[RECORD_MAX_LEN];
	char combined[PCAPNG_MAX_STRING + 1]; /* our comment, then the packet's own */
};

/* if_events: the events interface, or NULL when there is none (then only
 * full or brief comments make sense: compact ones name Identity frames). */
void packet_sink_init(struct packet_sink *s, struct pcapng_writer *w,
		      struct tag_comment_cache *comments, const uint32_t *if_events);

/* Write pkt on interface if_packet. original: the packet's own comment and
 * pid/tid from a saved capture (NULL for none); our comment goes first and
 * the original follows on the next line, cut on a UTF-8 boundary to fit.
 * Returns 0 or the writer's negative errno (the output is then failed). */
int packet_sink_write(struct packet_sink *s, uint32_t if_packet, const struct merge_packet *pkt,
		      const struct merge_tag *tag, const struct pcapng_packet_meta *original);

#endif
