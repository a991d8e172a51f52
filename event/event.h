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

/* The one table of event types: X(ID, wire value, name, ntopng word,
 * description). The wire value is in the record header: never renumber.
 * The name is what ebpf.event shows, --events takes and users filter on;
 * the ntopng word is remote/json.c's TCP_EVENT_TYPE/UDP_EVENT_TYPE; the
 * description labels the type in Wireshark's dialog. dissector/ebpf.lua
 * and docs/event-format.md repeat the names: test_names checks them. */
/* clang-format off */
#define EVENT_TYPES(X) \
	X(EVENT_TCP_CONNECT, 1, "TCP_Connect", "CONNECT", "connection established, with handshake time") \
	X(EVENT_TCP_CONNECT_FAILED, 2, "TCP_Connect_Failed", "CONNECT_FAILED", "refused, timed out or reset") \
	X(EVENT_TCP_ACCEPT, 3, "TCP_Accept", "ACCEPT", "a process accepted a connection") \
	X(EVENT_TCP_CLOSE, 4, "TCP_Close", "CLOSE", "connection closed, with bytes and RTT") \
	X(EVENT_TCP_RETRANSMIT, 5, "TCP_Retransmit", "RETRANSMIT", "a segment was sent again") \
	X(EVENT_UDP_SEND, 6, "UDP_Send", "SEND", "datagrams sent, counted per flow and interval") \
	X(EVENT_UDP_RECV, 7, "UDP_Recv", "RECV", "datagrams received, counted per flow and interval") \
	X(EVENT_TCP_OPEN, 8, "TCP_Open", "OPEN", "connection already open at start (snapshot)") \
	X(EVENT_UDP_OPEN, 9, "UDP_Open", "OPEN", "UDP socket already open at start (snapshot)") \
	X(EVENT_IDENTITY, 10, "Identity", "IDENTITY", "a process that packets' compact comments refer to") \
	X(EVENT_TCP_LISTEN, 11, "TCP_Listen", "LISTEN", "a process listens on a port") \
	X(EVENT_TCP_LISTEN_CLOSE, 12, "TCP_Listen_Close", "LISTEN_CLOSE", "a listening socket closed")
/* clang-format on */

enum event_type {
#define EVENT_TYPE_ENUM(id, value, name, ntop, text) id = value,
	EVENT_TYPES(EVENT_TYPE_ENUM)
#undef EVENT_TYPE_ENUM
	EVENT_TYPE_MAX, /* first unassigned value */
};

/* Types a source reports (and --events selects); Identity records are
 * written by ebpfdump's output for compact packet comments only. */
#define EVENT_TYPE_CAPTURED(t) ((t) >= 1 && (t) < EVENT_TYPE_MAX && (t) != EVENT_IDENTITY)

/* The one table of record items: X(ID, wire id, name) with the value's
 * encoding in a comment. Ids are on the wire (docs/event-format.md): never
 * renumber, only append; they stay below 64 so that presence fits one
 * uint64_t bit mask. The name is the dissector's field (ebpf.<name>) and
 * the EPB comment key (src.<name>). */
/* clang-format off */
#define EVENT_ITEMS(X) \
	X(ITEM_PID, 1, "pid") /* u32 thread-group id (what users call pid) */ \
	X(ITEM_TID, 2, "tid") /* u32 thread id */ \
	X(ITEM_UID, 3, "uid") /* u32 */ \
	X(ITEM_GID, 4, "gid") /* u32 */ \
	X(ITEM_COMM, 5, "comm") /* string, the process's name (its main thread's) */ \
	X(ITEM_EXE, 6, "exe") /* string, executable path */ \
	X(ITEM_CMDLINE, 7, "cmdline") /* string, arguments joined by spaces */ \
	X(ITEM_PPID, 8, "ppid") /* u32 parent's thread-group id */ \
	X(ITEM_PCOMM, 9, "pcomm") /* string, parent's task name */ \
	X(ITEM_USER, 10, "user") /* string, name of uid */ \
	X(ITEM_GROUP, 11, "group") /* string, name of gid */ \
	X(ITEM_CGROUP_ID, 12, "cgroup_id") /* u64 */ \
	X(ITEM_CGROUP, 13, "cgroup") /* string, cgroup leaf name */ \
	X(ITEM_NETNS, 14, "netns") /* u32 network namespace inode number */ \
	X(ITEM_IFINDEX, 15, "ifindex") /* u32 */ \
	X(ITEM_IFNAME, 16, "ifname") /* string */ \
	X(ITEM_PROTO, 17, "proto") /* u8 IP protocol number (6 TCP, 17 UDP) */ \
	X(ITEM_LADDR, 18, "laddr") /* 4 bytes IPv4 or 16 bytes IPv6, network order */ \
	X(ITEM_RADDR, 19, "raddr") /* likewise */ \
	X(ITEM_LPORT, 20, "lport") /* u16 */ \
	X(ITEM_RPORT, 21, "rport") /* u16 */ \
	X(ITEM_LATENCY_US, 22, "latency_us") /* u32 TCP handshake time */ \
	X(ITEM_BYTES_SENT, 23, "bytes_sent") /* u64 payload bytes, connection total */ \
	X(ITEM_BYTES_RECEIVED, 24, "bytes_received") /* u64 payload bytes, connection total */ \
	X(ITEM_RETRANSMITS, 25, "retransmits") /* u32 segments retransmitted */ \
	X(ITEM_SRTT_US, 26, "srtt_us") /* u32 smoothed round-trip time */ \
	X(ITEM_ERROR, 27, "errno") /* u32 Linux errno value (ECONNREFUSED...) */ \
	X(ITEM_CONTAINER_ID, 28, "container_id") /* string */ \
	X(ITEM_CONTAINER, 29, "container") /* string, container name */ \
	X(ITEM_POD, 30, "pod") /* string, Kubernetes pod */ \
	X(ITEM_NAMESPACE, 31, "namespace") /* string, Kubernetes namespace */ \
	X(ITEM_RUNTIME, 32, "runtime") /* string: docker, containerd, cri-o, podman, systemd */ \
	X(ITEM_HOST, 33, "host") /* string, host that produced the event */ \
	X(ITEM_PACKETS, 34, "packets") /* u64 datagrams/segments counted by this event */ \
	X(ITEM_BYTES, 35, "bytes") /* u64 bytes counted by this event */ \
	X(ITEM_SOCK_COOKIE, 36, "socket_cookie") /* u64 kernel socket cookie */ \
	X(ITEM_IMAGE, 37, "image") /* string, container image */ \
	X(ITEM_THREAD, 38, "thread") /* string, the thread's own name (comm is the process's) */ \
	X(ITEM_IDENTITY, 39, "identity") /* u64 number of an Identity record, per output file */
/* clang-format on */

enum event_item {
#define EVENT_ITEM_ENUM(id, value, name) id = value,
	EVENT_ITEMS(EVENT_ITEM_ENUM)
#undef EVENT_ITEM_ENUM
	ITEM_MAX, /* first unassigned id */
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
	char thread[EVENT_COMM_MAX + 1];
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
	uint64_t identity;

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
/* "connection established, with handshake time", ...; NULL when unknown. */
const char *event_type_description(unsigned type);
/* ntopng's word for the type ("CONNECT"); NULL when unknown. */
const char *event_type_ntop_name(unsigned type);
/* Item id → short name used in docs and the EPB comment ("pid", "comm"). */
const char *event_item_name(unsigned item);

/* Copy a string into a fixed field, truncating at its limit (size includes
 * the NUL). Returns true when it had to truncate. */
bool event_copy_str(char *dst, size_t size, const char *src, size_t len);

#endif
