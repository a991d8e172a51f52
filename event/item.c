/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The item table: wire type and struct event field of every item id. */
#include "event/item.h"

#define FIELD_SIZE(field) sizeof(((struct event *)0)->field)
/* The wire width is spelled out because it is the contract; the array size
 * trick stops the build if a field's C type ever disagrees with it. */
#define INT_ITEM(id, field, w, name)                                                               \
	[id] = {ITEM_KIND_INT, (w) + 0 * sizeof(char[FIELD_SIZE(field) == (w) ? 1 : -1]),          \
		offsetof(struct event, field), "item " name ": integer of the wrong width"}
#define STR_ITEM(id, field, name)                                                                  \
	[id] = {ITEM_KIND_STR, FIELD_SIZE(field), offsetof(struct event, field),                   \
		"item " name ": string contains NUL"}
#define ADDR_ITEM(id, field, name)                                                                 \
	[id] = {ITEM_KIND_ADDR, FIELD_SIZE(field), offsetof(struct event, field),                  \
		"item " name ": address length is not 4 or 16"}

/* clang-format off */
const struct item_codec item_codecs[ITEM_MAX] = {
	INT_ITEM(ITEM_PID, pid, 4, "pid"),
	INT_ITEM(ITEM_TID, tid, 4, "tid"),
	INT_ITEM(ITEM_UID, uid, 4, "uid"),
	INT_ITEM(ITEM_GID, gid, 4, "gid"),
	STR_ITEM(ITEM_COMM, comm, "comm"),
	STR_ITEM(ITEM_EXE, exe, "exe"),
	STR_ITEM(ITEM_CMDLINE, cmdline, "cmdline"),
	INT_ITEM(ITEM_PPID, ppid, 4, "ppid"),
	STR_ITEM(ITEM_PCOMM, pcomm, "pcomm"),
	STR_ITEM(ITEM_USER, user, "user"),
	STR_ITEM(ITEM_GROUP, group, "group"),
	INT_ITEM(ITEM_CGROUP_ID, cgroup_id, 8, "cgroup_id"),
	STR_ITEM(ITEM_CGROUP, cgroup, "cgroup"),
	INT_ITEM(ITEM_NETNS, netns, 4, "netns"),
	INT_ITEM(ITEM_IFINDEX, ifindex, 4, "ifindex"),
	STR_ITEM(ITEM_IFNAME, ifname, "ifname"),
	INT_ITEM(ITEM_PROTO, proto, 1, "proto"),
	ADDR_ITEM(ITEM_LADDR, laddr, "laddr"),
	ADDR_ITEM(ITEM_RADDR, raddr, "raddr"),
	INT_ITEM(ITEM_LPORT, lport, 2, "lport"),
	INT_ITEM(ITEM_RPORT, rport, 2, "rport"),
	INT_ITEM(ITEM_LATENCY_US, latency_us, 4, "latency_us"),
	INT_ITEM(ITEM_BYTES_SENT, bytes_sent, 8, "bytes_sent"),
	INT_ITEM(ITEM_BYTES_RECEIVED, bytes_received, 8, "bytes_received"),
	INT_ITEM(ITEM_RETRANSMITS, retransmits, 4, "retransmits"),
	INT_ITEM(ITEM_SRTT_US, srtt_us, 4, "srtt_us"),
	INT_ITEM(ITEM_ERROR, error, 4, "errno"),
	STR_ITEM(ITEM_CONTAINER_ID, container_id, "container_id"),
	STR_ITEM(ITEM_CONTAINER, container, "container"),
	STR_ITEM(ITEM_POD, pod, "pod"),
	STR_ITEM(ITEM_NAMESPACE, namespace_, "namespace"),
	STR_ITEM(ITEM_RUNTIME, runtime, "runtime"),
	STR_ITEM(ITEM_HOST, host, "host"),
	INT_ITEM(ITEM_PACKETS, packets, 8, "packets"),
	INT_ITEM(ITEM_BYTES, bytes, 8, "bytes"),
	INT_ITEM(ITEM_SOCK_COOKIE, sock_cookie, 8, "socket_cookie"),
	STR_ITEM(ITEM_IMAGE, image, "image"),
	STR_ITEM(ITEM_THREAD, thread, "thread"),
	INT_ITEM(ITEM_IDENTITY, identity, 8, "identity"),
};
/* clang-format on */

/* Presence is a uint64_t mask indexed by item id (event.h). */
_Static_assert(ITEM_MAX <= 64, "item ids must fit the presence mask");
