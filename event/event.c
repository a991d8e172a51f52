/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names of event types and items (value↔name tables) and bounded string copy. */
#include <string.h>

#include "event/event.h"

struct value_name {
	unsigned value;
	const char *name;
};

/* Wire values never change, so these names are a public contract too:
 * they are what ebpf.event shows and what users filter on. */
/* clang-format off */
static const struct value_name event_type_names[] = {
	{ EVENT_TCP_CONNECT, "TCP_Connect" },
	{ EVENT_TCP_CONNECT_FAILED, "TCP_Connect_Failed" },
	{ EVENT_TCP_ACCEPT, "TCP_Accept" },
	{ EVENT_TCP_CLOSE, "TCP_Close" },
	{ EVENT_TCP_RETRANSMIT, "TCP_Retransmit" },
	{ EVENT_UDP_SEND, "UDP_Send" },
	{ EVENT_UDP_RECV, "UDP_Recv" },
	{ EVENT_TCP_OPEN, "TCP_Open" },
	{ EVENT_UDP_OPEN, "UDP_Open" },
	{ 0, NULL },
};
/* clang-format on */

/* Item names double as dissector field names (ebpf.<name>) and EPB comment
 * keys (src.<name>), so they follow the dissector's spelling. */
/* clang-format off */
static const struct value_name event_item_names[] = {
	{ ITEM_PID, "pid" },
	{ ITEM_TID, "tid" },
	{ ITEM_UID, "uid" },
	{ ITEM_GID, "gid" },
	{ ITEM_COMM, "comm" },
	{ ITEM_EXE, "exe" },
	{ ITEM_CMDLINE, "cmdline" },
	{ ITEM_PPID, "ppid" },
	{ ITEM_PCOMM, "pcomm" },
	{ ITEM_USER, "user" },
	{ ITEM_GROUP, "group" },
	{ ITEM_CGROUP_ID, "cgroup_id" },
	{ ITEM_CGROUP, "cgroup" },
	{ ITEM_NETNS, "netns" },
	{ ITEM_IFINDEX, "ifindex" },
	{ ITEM_IFNAME, "ifname" },
	{ ITEM_PROTO, "proto" },
	{ ITEM_LADDR, "laddr" },
	{ ITEM_RADDR, "raddr" },
	{ ITEM_LPORT, "lport" },
	{ ITEM_RPORT, "rport" },
	{ ITEM_LATENCY_US, "latency_us" },
	{ ITEM_BYTES_SENT, "bytes_sent" },
	{ ITEM_BYTES_RECEIVED, "bytes_received" },
	{ ITEM_RETRANSMITS, "retransmits" },
	{ ITEM_SRTT_US, "srtt_us" },
	{ ITEM_ERROR, "errno" },
	{ ITEM_CONTAINER_ID, "container_id" },
	{ ITEM_CONTAINER, "container" },
	{ ITEM_POD, "pod" },
	{ ITEM_NAMESPACE, "namespace" },
	{ ITEM_RUNTIME, "runtime" },
	{ ITEM_HOST, "host" },
	{ ITEM_PACKETS, "packets" },
	{ ITEM_BYTES, "bytes" },
	{ ITEM_SOCK_COOKIE, "socket_cookie" },
	{ ITEM_IMAGE, "image" },
	{ 0, NULL },
};
/* clang-format on */

static const char *value_to_name(const struct value_name *table, unsigned value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return NULL;
}

static unsigned name_to_value(const struct value_name *table, const char *name)
{
	if (!name)
		return 0;
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table->value;
	return 0;
}

const char *event_type_name(unsigned type)
{
	return value_to_name(event_type_names, type);
}

unsigned event_type_from_name(const char *name)
{
	return name_to_value(event_type_names, name);
}

const char *event_item_name(unsigned item)
{
	return value_to_name(event_item_names, item);
}

/* Length of the UTF-8 sequence a lead byte starts; 0 for other bytes. */
static size_t utf8_sequence_length(unsigned char c)
{
	if (c >= 0xc0 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	return 0;
}

/* The copy stops at the first NUL in src[0..len) because fixed kernel
 * buffers (comm) arrive NUL-padded. A cut never splits a UTF-8 sequence:
 * when the sequence that the first dropped byte belongs to started in the
 * kept part, the cut moves back to its lead byte (at most 3 bytes), so
 * valid UTF-8 stays valid; bytes that are not UTF-8 are cut plainly. */
bool event_copy_str(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n, lead;

	n = src ? strnlen(src, len) : 0;
	if (size == 0)
		return n > 0;
	if (n < size) {
		if (n)
			memcpy(dst, src, n);
		dst[n] = '\0';
		return false;
	}
	n = size - 1;
	lead = n;
	while (lead > 0 && n - lead < 3 && (s[lead] & 0xc0) == 0x80)
		lead--;
	if (lead < n && lead + utf8_sequence_length(s[lead]) > n)
		n = lead;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}
