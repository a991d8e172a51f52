/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event model: one struct that every part of ebpfdump fills or reads.
 *
 * Sources (bpf/, remote/) produce a struct event, enrich/ adds names, merge/
 * attaches it to packets, sinks encode it with event/record.h. Field
 * presence is a bit per item id (EVENT_HAS), so "pid 0" and "no pid" differ.
 * Every string has a named limit; longer input is truncated, never overrun.
 */
#ifndef EBPFDUMP_EVENT_H
#define EBPFDUMP_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Event types. Values are on the wire (record header); never renumber. */
enum event_type {
	EVENT_TCP_CONNECT = 1,
	EVENT_TCP_CONNECT_FAILED = 2,
	EVENT_TCP_ACCEPT = 3,
	EVENT_TCP_CLOSE = 4,
	EVENT_TCP_RETRANSMIT = 5,
	EVENT_UDP_SEND = 6,
	EVENT_UDP_RECV = 7,
	EVENT_TCP_OPEN = 8, /* connection already open when the capture started */
	EVENT_UDP_OPEN = 9, /* bound UDP socket already open at start */
	EVENT_TYPE_MAX,     /* first unassigned value */
};

/* Item ids of the record (docs/event-format.md). Values are on the wire;
 * never renumber, only append. Ids stay below 64 so that presence fits
 * one uint64_t bit mask. */
enum event_item {
	ITEM_PID = 1,		 /* u32 thread-group id (what users call pid) */
	ITEM_TID = 2,		 /* u32 thread id */
	ITEM_UID = 3,		 /* u32 */
	ITEM_GID = 4,		 /* u32 */
	ITEM_COMM = 5,		 /* string, task name */
	ITEM_EXE = 6,		 /* string, executable path */
	ITEM_CMDLINE = 7,	 /* string, arguments joined by spaces */
	ITEM_PPID = 8,		 /* u32 parent's thread-group id */
	ITEM_PCOMM = 9,		 /* string, parent's task name */
	ITEM_USER = 10,		 /* string, name of uid */
	ITEM_GROUP = 11,	 /* string, name of gid */
	ITEM_CGROUP_ID = 12,	 /* u64 */
	ITEM_CGROUP = 13,	 /* string, cgroup leaf name */
	ITEM_NETNS = 14,	 /* u32 network namespace inode number */
	ITEM_IFINDEX = 15,	 /* u32 */
	ITEM_IFNAME = 16,	 /* string */
	ITEM_PROTO = 17,	 /* u8 IP protocol number (6 TCP, 17 UDP) */
	ITEM_LADDR = 18,	 /* 4 bytes IPv4 or 16 bytes IPv6, network order */
	ITEM_RADDR = 19,	 /* likewise */
	ITEM_LPORT = 20,	 /* u16 */
	ITEM_RPORT = 21,	 /* u16 */
	ITEM_LATENCY_US = 22,	 /* u32 TCP handshake time */
	ITEM_BYTES_SENT = 23,	 /* u64 payload bytes, connection total */
	ITEM_BYTES_RECEIVED = 24, /* u64 payload bytes, connection total */
	ITEM_RETRANSMITS = 25,	 /* u32 segments retransmitted */
	ITEM_SRTT_US = 26,	 /* u32 smoothed round-trip time */
	ITEM_ERROR = 27,	 /* u32 Linux errno value (ECONNREFUSED...) */
	ITEM_CONTAINER_ID = 28,	 /* string */
	ITEM_CONTAINER = 29,	 /* string, container name */
	ITEM_POD = 30,		 /* string, Kubernetes pod */
	ITEM_NAMESPACE = 31,	 /* string, Kubernetes namespace */
	ITEM_RUNTIME = 32,	 /* string: docker, containerd, cri-o, podman, systemd */
	ITEM_HOST = 33,		 /* string, host that produced the event */
	ITEM_PACKETS = 34,	 /* u64 datagrams/segments counted by this event */
	ITEM_BYTES = 35,	 /* u64 bytes counted by this event */
	ITEM_SOCK_COOKIE = 36,	 /* u64 kernel socket cookie */
	ITEM_IMAGE = 37,	 /* string, container image */
	ITEM_MAX,		 /* first unassigned id */
};

/* Limits on strings (bytes, without the terminating NUL). */
#define EVENT_COMM_MAX 16
#define EVENT_EXE_MAX 512
#define EVENT_CMDLINE_MAX 1024
#define EVENT_NAME_MAX 256 /* user, group, cgroup, container, pod, ... */
#define EVENT_IFNAME_MAX 16

struct event {
	uint16_t type;	 /* enum event_type */
	uint32_t seq;	 /* per-source sequence number */
	uint64_t ts_ns;	 /* wall-clock time, ns since the Unix epoch */
	uint64_t present; /* bit (1 << item id) set when that item is valid */

	uint32_t pid, tid, uid, gid, ppid;
	char comm[EVENT_COMM_MAX + 1];
	char pcomm[EVENT_COMM_MAX + 1];
	char exe[EVENT_EXE_MAX + 1];
	char cmdline[EVENT_CMDLINE_MAX + 1];
	char user[EVENT_NAME_MAX + 1];
	char group[EVENT_NAME_MAX + 1];

	uint64_t cgroup_id;
	char cgroup[EVENT_NAME_MAX + 1];
	uint32_t netns;
	uint32_t ifindex;
	char ifname[EVENT_IFNAME_MAX + 1];

	uint8_t proto;
	uint8_t family; /* AF_INET or AF_INET6; decides laddr/raddr length */
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport; /* host byte order */

	uint32_t latency_us;
	uint64_t bytes_sent, bytes_received;
	uint32_t retransmits;
	uint32_t srtt_us;
	uint32_t error;
	uint64_t packets, bytes;
	uint64_t sock_cookie;

	char container_id[EVENT_NAME_MAX + 1];
	char container[EVENT_NAME_MAX + 1];
	char pod[EVENT_NAME_MAX + 1];
	char namespace_[EVENT_NAME_MAX + 1];
	char runtime[EVENT_NAME_MAX + 1];
	char image[EVENT_NAME_MAX + 1];
	char host[EVENT_NAME_MAX + 1];
};

#define EVENT_BIT(item) (UINT64_C(1) << (item))
#define EVENT_HAS(ev, item) (((ev)->present & EVENT_BIT(item)) != 0)
#define EVENT_SET(ev, item) ((ev)->present |= EVENT_BIT(item))

/* "TCP_Connect", ...; NULL for an unknown type. */
const char *event_type_name(unsigned type);
/* The type for a name, or 0 when unknown. Case-sensitive. */
unsigned event_type_from_name(const char *name);
/* Item id → short name used in docs and the EPB comment ("pid", "comm"). */
const char *event_item_name(unsigned item);

/* Copy a string into a fixed field, truncating at its limit (size includes
 * the NUL). Returns true when it had to truncate. */
bool event_copy_str(char *dst, size_t size, const char *src, size_t len);

#endif
