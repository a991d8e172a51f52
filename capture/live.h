/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Live packet source: one network interface captured with libpcap, driven
 * by the caller's event loop (non-blocking, a selectable fd).
 *
 * Owns the pcap handle. live_open() does everything that can fail before
 * the capture starts (device, permissions, options, the capture filter),
 * so a bad filter or a missing interface is reported with its reason
 * before any other part of the program starts. Timestamps are ns since
 * the Unix epoch (nanosecond precision asked of libpcap; the kernel's
 * CLOCK_REALTIME stamp, the clock the events use).
 *
 * Ring buffer: libpcap uses TPACKET_V3 on Linux unless immediate mode is
 * asked for, in which case it falls back to TPACKET_V2 (V3 cannot hand
 * over a packet before its block is retired). With V3 a block is handed
 * over when full or after timeout_ms, so packets reach the caller at most
 * that late; keep it well under the merge window. See docs/capture.md.
 *
 * Does not print: failures come back as a negative errno and a one-line
 * reason ("no such interface \"veth9\" (`ip link` lists them)").
 */
#ifndef EBPFDUMP_CAPTURE_LIVE_H
#define EBPFDUMP_CAPTURE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libpcap's largest snapshot length, and what tcpdump uses by default. */
#define LIVE_SNAPLEN_DEFAULT 262144u
#define LIVE_SNAPLEN_MAX 262144u
/* Kernel ring buffer. libpcap's own default (2 MiB) holds only ~30 frames
 * of a TPACKET_V2 ring on an interface with offloads (64 KiB frames). */
#define LIVE_BUFFER_MIB_DEFAULT 32u
#define LIVE_BUFFER_MIB_MAX 1024u /* libpcap takes the size as an int */
/* TPACKET_V3 block timeout: the longest a packet waits in the kernel. */
#define LIVE_TIMEOUT_MS_DEFAULT 10u
#define LIVE_TIMEOUT_MS_MAX 1000u
/* Capture filter text (an outsider's string handed to pcap_compile). */
#define LIVE_FILTER_MAX 8192u
/* Reasons handed back through err / live_error() / live_warning(). */
#define LIVE_REASON_MAX 512u
/* While an interface is down, how often to look whether it was deleted
 * (libpcap asks for 1 ms; a deletion found 100 ms later is soon enough). */
#define LIVE_NETDOWN_POLL_MS 100
/* The interface name as the kernel limits it (IFNAMSIZ - 1). */
#define LIVE_IFNAME_MAX 15u

struct live_config {
	const char *ifname;  /* required: "veth1", "eth0", "any" */
	const char *filter;  /* capture filter; NULL or "" for none */
	uint32_t snaplen;    /* 1..LIVE_SNAPLEN_MAX, 0 for the default */
	bool promisc;	     /* default false */
	uint32_t buffer_mib; /* 1..LIVE_BUFFER_MIB_MAX, 0 for the default */
	/* Default false: TPACKET_V3, packets handed over within timeout_ms.
	 * true: TPACKET_V2, each packet at once (libpcap's immediate mode). */
	bool immediate;
	uint32_t timeout_ms; /* 1..LIVE_TIMEOUT_MS_MAX, 0 for the default */
	/* On "any", ask for LINKTYPE_LINUX_SLL2 (carries the interface index)
	 * instead of libpcap's default SLL. Default true. */
	bool prefer_sll2;
};

/* Called per packet from live_dispatch(); data is valid during the call
 * only. linktype is a pcap LINKTYPE_* value. */
typedef void (*live_packet_fn)(void *ctx, int linktype, uint64_t ts_ns, const uint8_t *data,
			       uint32_t caplen, uint32_t len);

struct live_stats {
	/* From pcap_stats, widened to 64 bits across 32-bit wraps. On Linux
	 * received counts every packet that passed the filter, including
	 * those then dropped because the ring was full (dropped). */
	uint64_t received;
	uint64_t dropped;    /* ring buffer full: lost in the kernel */
	uint64_t if_dropped; /* dropped by the interface/driver, when known */
	uint64_t delivered;  /* handed to the callback */
};

struct live;

void live_config_init(struct live_config *cfg);

/* Create, configure and activate the capture, compile and set the filter,
 * switch to non-blocking mode. Returns 0 or a negative errno with a
 * one-line reason in err (may be NULL):
 *   -ENODEV   no such interface
 *   -EPERM    no permission (needs CAP_NET_RAW)
 *   -ENETDOWN the interface is down
 *   -EINVAL   bad configuration or a capture filter that does not compile
 *             (the reason carries libpcap's text)
 *   -EOPNOTSUPP capture not supported on that interface
 *   -EIO      any other libpcap failure, with its text
 * Non-fatal warnings from pcap_activate are kept for live_warning(). */
int live_open(const struct live_config *cfg, live_packet_fn fn, void *ctx, struct live **ret,
	      char *err, size_t errlen);

/* Check that filter compiles for linktype, without any device (for
 * Wireshark's capture-filter validation). 0 or -EINVAL with the reason. */
int live_filter_check(int linktype, const char *filter, char *err, size_t errlen);

/* The fd to wait on (EPOLLIN). */
int live_fd(const struct live *l);
/* When >= 0, call live_dispatch() again after this many ms even if the fd
 * stays quiet: libpcap saw the interface go down and must look again to
 * tell "down" from "deleted" (the kernel wakes a packet socket once, with
 * ENETDOWN, for both). At most LIVE_NETDOWN_POLL_MS. -1 otherwise. */
int live_timeout_ms(const struct live *l);
int live_linktype(const struct live *l);
uint32_t live_snaplen(const struct live *l);
/* TPACKET version of the ring (2 or 3), 0 when unknown. */
int live_tpacket_version(const struct live *l);
const char *live_ifname(const struct live *l);

/* Hand up to max packets (max <= 0: all that are ready) to the callback.
 * Returns how many, or a negative errno with the reason in live_error():
 *   -ENODEV  the interface disappeared (deleted, or its namespace went
 *            away): stop the capture cleanly
 *   -EIO     any other capture failure
 *   -EBUSY   called from inside the callback
 * An error is sticky. */
int live_dispatch(struct live *l, int max);

/* 0 and *ret filled, or -EIO with the reason in live_error(). */
int live_stats(struct live *l, struct live_stats *ret);

const char *live_error(const struct live *l);	/* "" when none */
const char *live_warning(const struct live *l); /* "" when none */

/* Accepts NULL, returns NULL. */
struct live *live_free(struct live *l);

#endif
