/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Merge engine: tags packets with their sender's and receiver's process
 * and interleaves packets and events in timestamp order.
 *
 * Pure module (no kernel, no libpcap, no clock of its own): the caller
 * pushes packets (link type + bytes) and struct events, and calls
 * merge_advance() with the current time (same clock as the timestamps,
 * e.g. from a timer armed at merge_next_deadline()) and merge_flush() at
 * the end. Works the same offline: pass the stream's time as "now".
 *
 * Events update the flow table at once (owner of the event's local
 * endpoint) and are emitted in timestamp order with the packets. Every
 * item waits in a reorder queue until now >= ts + window, so a packet
 * seen before its event (the SYN before the connect event reaches user
 * space) is still tagged; the tag is looked up when the packet leaves.
 * With pass_tagged, items that need no wait (events, packets tagged on
 * both sides or never taggable) leave at once when nothing older is
 * queued: no copy, no delay, but an item that then arrives with an older
 * timestamp is late.
 * No item waits longer than the window. Output is in non-decreasing
 * timestamp order, with one exception: an item older than what was
 * already emitted ("late") is emitted immediately and counted.
 * The queue is bounded (items and bytes); over a limit the oldest item
 * leaves early, counted.
 *
 * Callbacks run inside push/advance/flush and must not call into the same
 * merge (those calls return -EBUSY there). Does not print.
 */
#ifndef EBPFDUMP_MERGE_H
#define EBPFDUMP_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "packet/parse.h"
#include "event/event.h"
#include "merge/flow_table.h"
#include "merge/owner.h"

#define MERGE_WINDOW_DEFAULT_NS (50ull * 1000 * 1000)	     /* 50 ms */
#define MERGE_LINGER_DEFAULT_NS (2ull * 1000 * 1000 * 1000) /* 2 s after close */
#define MERGE_HOLD_MAX_DEFAULT 65536u			     /* queued items */
#define MERGE_HOLD_BYTES_DEFAULT (64ull << 20)		     /* their memory */
#define MERGE_HOLD_MAX_LIMIT (1u << 24)
#define MERGE_WINDOW_MAX_NS (10ull * 1000 * 1000 * 1000)	/* 10 s */
#define MERGE_LINGER_MAX_NS (3600ull * 1000 * 1000 * 1000) /* 1 h */
#define MERGE_CAPLEN_MAX 262144u /* libpcap's largest snapshot length */
/* Later IPv4/IPv6 fragments find their ports through the first fragment's
 * (src, dst, proto, id) in a direct-mapped cache of this many slots;
 * entries older than MERGE_FRAG_TTL_NS are ignored. */
#define MERGE_FRAG_SLOTS 4096u
#define MERGE_FRAG_TTL_NS (1000ull * 1000 * 1000)

struct merge_packet {
	uint64_t ts_ns;
	const uint8_t *data;
	uint32_t caplen; /* bytes at data, at most MERGE_CAPLEN_MAX */
	uint32_t len;	 /* original length on the wire */
	int linktype;	 /* pcap LINKTYPE_* */
	uint32_t iface;	 /* the caller's interface id, handed back untouched */
};

/* What the merge knows about a packet when it is emitted. */
struct merge_tag {
	const struct owner *sender;   /* process that sent it, NULL when unknown */
	const struct owner *receiver; /* process it is addressed to, NULL when unknown */
	uint16_t sender_event;	      /* enum event_type that attributed each side */
	uint16_t receiver_event;
	int parse_error;	      /* packet_parse() result, 0 or negative errno */
	const struct packet_info *info;
};

/* record/record_len: ev's binary record, record_encode(ev) byte for byte
 * (the one the merge held, or encoded for an event that did not wait), so
 * that a sink writing records need not encode again. NULL/0 only for an
 * event too large for a record, which record_encode refuses too. */
typedef void (*merge_event_fn)(const struct event *ev, const uint8_t *record, size_t record_len,
			       void *ctx);
/* pkt->data and everything in tag are valid during the call only. */
typedef void (*merge_packet_fn)(const struct merge_packet *pkt, const struct merge_tag *tag,
				void *ctx);

struct merge_config {
	uint64_t window_ns;	/* reorder window; 0 releases at the next advance */
	uint64_t linger_ns;	/* a closed flow is kept this long */
	uint32_t hold_max;	/* queued items, 1..MERGE_HOLD_MAX_LIMIT */
	uint64_t hold_bytes_max; /* queued bytes (packets, events, headers) */
	bool pass_tagged;	/* see above; default false: total order */
	/* 0, or how long an item that needs no owner (an event, a packet
	 * whose owners are known, at its push or since) stays queued: once
	 * now >= ts + settle_ns and nothing older is queued, merge_advance
	 * lets it go before its window ends. Unsorted input stretches
	 * shorter than settle_ns stay absorbed; packets still waiting for an
	 * owner keep the whole window. For inputs that are sorted (the
	 * offline merge), it holds ~settle_ns of traffic instead of a
	 * window's. */
	uint64_t settle_ns;
	struct flow_table_config flows; /* capacity, buckets, seed, hash; release is ours */
	struct owner_cache_config owners;
	merge_event_fn on_event;
	merge_packet_fn on_packet;
	void *ctx;
};

struct merge_stats {
	uint64_t packets_in, packets_out;
	/* Disjoint; they add up to packets_out. */
	uint64_t packets_tagged_both, packets_tagged_sender, packets_tagged_receiver;
	uint64_t packets_untagged;
	uint64_t packets_held;	    /* pushed lacking an owner: waited for events */
	uint64_t packets_rescued;   /* ...and left with both owners: the window helped */
	uint64_t packets_timed_out; /* ...and left still lacking one */
	uint64_t packets_frag_tagged; /* later fragments given ports by IP id */
	uint64_t packets_late;	      /* older than the output: emitted out of order */
	uint64_t events_in, events_out;
	uint64_t events_late;	      /* older than the output: emitted out of order */
	uint64_t events_unattributed; /* no 5-tuple or no identity: table unchanged */
	uint64_t released_early;      /* items pushed out by the queue limits */
	uint64_t dropped;	      /* items lost to a failed allocation (-ENOMEM) */
	uint64_t held_now, held_bytes_now, held_peak;
	uint64_t flows_live, flows_inserted, flows_evicted, flows_expired;
	uint64_t flows_bytes; /* allocated once for the table */
	uint64_t owners_live, owners_bytes, owners_failed;
	uint64_t parse_errors[PACKET_REASON_MAX]; /* by enum packet_reason; [PACKET_OK] is 0 */
};

struct merge;

/* Defaults: 50 ms window, 2 s linger, 1,048,576 flows, hold limits above. */
void merge_config_init(struct merge_config *cfg);
/* Returns 0, -EINVAL for out-of-range limits, or -ENOMEM. */
int merge_new(const struct merge_config *cfg, struct merge **ret);
/* Frees without emitting what is queued (flush first). NULL-safe. */
struct merge *merge_free(struct merge *m);

/* Returns 0, -EINVAL, -EMSGSIZE (caplen over MERGE_CAPLEN_MAX), -ENOMEM
 * (packet dropped), or -EBUSY from a callback. Frames that do not parse are
 * not errors: they are emitted untagged and counted by reason. */
int merge_push_packet(struct merge *m, const struct merge_packet *pkt);
/* Applies ev to the flow table and queues a copy. Returns 0, -ENOMEM,
 * -EBUSY. An event without a 5-tuple or identity is still emitted. */
int merge_push_event(struct merge *m, const struct event *ev);
/* Emit every item with ts + window <= now and expire closed flows whose
 * linger ended. Returns how many items were emitted, or -EBUSY. */
int merge_advance(struct merge *m, uint64_t now_ns);
/* Emit everything queued. Returns how many, or -EBUSY. */
int merge_flush(struct merge *m);
/* When the oldest queued item is due (its ts + window), UINT64_MAX when
 * nothing is queued: arm the event loop's timer with it. */
uint64_t merge_next_deadline(const struct merge *m);

void merge_get_stats(const struct merge *m, struct merge_stats *ret);

/* For the EPB comment: fill ret (zeroed first) as the event of one side of
 * a tagged packet: the owner's identity, the type of the event that
 * attributed it, the packet's timestamp, and the 5-tuple seen from that
 * side (laddr/lport = that side's endpoint). Returns false, with ret
 * zeroed, when that side is unknown. */
bool merge_tag_event(const struct merge_packet *pkt, const struct merge_tag *tag, bool receiver,
		     struct event *ret);

#endif
