/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offline merge: a saved packet capture (pcap or pcapng, e.g. tcpdump's)
 * plus a saved ebpfdump events capture → one merged pcapng, through the
 * same merge engine as a live capture.
 *
 * Events are the frames on LINKTYPE_WIRESHARK_UPPER_PDU interfaces of the
 * events file whose exported-PDU tags name the "ebpf" dissector; other
 * frames there are ignored (counted). Both inputs are streamed: memory is
 * the readers' block buffers plus what waits in the merge's reorder
 * window, whatever the file sizes. Items are pushed in timestamp order
 * (a two-way merge of the inputs, each assumed to be in time order as
 * captures are) and the merge is advanced with the stream's own time.
 *
 * Output: interface 0 carries the events (linktype 252, records
 * re-encoded), then one interface per input packet interface with its
 * link type, name and snaplen, added when its first packet is written.
 * Packets keep their bytes and original length. A tagged packet gets the
 * "ebpf:1 ..." comment (event/comment.h) as its first comment line (an
 * original comment follows on the next line) and the pid/tid option of
 * its sender, or of its receiver when the sender is unknown; untagged
 * packets keep their original comment and pid/tid.
 * Does not print.
 */
#ifndef EBPFDUMP_MERGE_OFFLINE_H
#define EBPFDUMP_MERGE_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "event/comment.h"

#include "merge/merge.h"

/* Reasons handed back through err. */
#define OFFLINE_REASON_MAX 512u

struct offline_stats {
	uint64_t packets_read;	    /* packets file */
	uint64_t events_read;	    /* records decoded from the events file */
	uint64_t events_bad;	    /* event frames that did not decode: skipped */
	uint64_t events_file_other; /* non-event frames in the events file: ignored */
	uint64_t packets_written, events_written;
	uint64_t identities_written; /* Identity records (compact comments), not in events_written */
	uint64_t comments_missing;   /* tagged packets written without their comment (no memory) */
	uint64_t packets_cut;	    /* over PCAPNG_MAX_CAPLEN or the snaplen: cut, length kept */
	uint64_t packets_bad_len;   /* original length below the captured one: raised */
	uint64_t packets_no_ts;	    /* SPB packets: given the previous packet's time */
	uint32_t packet_interfaces; /* in the output */
	struct merge_stats merge;
};

/* Unsorted stretches of an input shorter than this are put back in order;
 * packets that wait for an owner keep the merge's whole window
 * (merge_config.settle_ns). */
#define OFFLINE_SETTLE_NS (1000ull * 1000) /* 1 ms */

/* offline_merge() flags. */
enum {
	/* Events tag packets but are not written, and no events interface is
	 * declared: a packets input of one link type gives an output of one
	 * link type, which libpcap tools (tcpdump -r) read. */
	OFFLINE_NO_EVENT_FRAMES = 1u << 0,
};

/* Merge packets_path and events_path into out_path ("-": standard output;
 * a fifo works). cfg may be NULL for merge_config_init()'s defaults; its
 * callbacks are replaced. comment: what the tagged packets' comments
 * carry (COMMENT_COMPACT needs the events interface: with
 * OFFLINE_NO_EVENT_FRAMES it is -EINVAL). flags:
 * OFFLINE_* above. stats may be NULL.
 *
 * Returns 0, or a negative errno with a one-line reason in err (may be
 * NULL) that names the file:
 *   - an input that cannot be opened or is not a capture: nothing written;
 *   - bad data inside an input (-EBADMSG, e.g. a file cut short by a
 *     killed tcpdump): that input is read up to the bad spot, the other to
 *     its end, and the output is complete and valid; the reason says where;
 *   - a write failure (-EPIPE when the reader went away, -ENOSPC...): the
 *     merge stops; what was written is whole blocks.
 * On failure after the start, stats still describe what was done. */
int offline_merge(const char *packets_path, const char *events_path, const char *out_path,
		  const struct merge_config *cfg, enum comment_mode comment, unsigned flags,
		  struct offline_stats *stats, char *err, size_t errlen);

/* Find the event record inside an event frame's bytes (after the
 * exported-PDU tags, which must name dissector "ebpf"). Returns 0 with
 * *ret_off set, -ENOMSG when the tags name another dissector (not an
 * event), -EBADMSG when the tags are malformed or cut. */
int offline_event_record(const uint8_t *data, uint32_t caplen, uint32_t *ret_off);

#endif
