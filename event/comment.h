/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The merged-packet EPB comment: process and container identity of a
 * packet's sender and receiver as one text line (docs/event-format.md).
 *
 *   ebpf:1 src.pid=4242 src.comm=curl dst.pid=80 dst.comm=nginx
 *
 * or, compact (the default), a process tag per side that names the
 * Identity record holding the rest (docs/event-format.md 9.1):
 *
 *   ebpf:1 src=curl[4242]#1f3a0c dst=nginx[80]@web#1f3a0d
 *
 * Keys are "src." (the packet's sender) or "dst." (its receiver) and an
 * item name from event_item_name(); only the identity items below are
 * written. Values are percent-encoded (%XX) for '%', ' ', '=' and bytes
 * outside 0x21..0x7e; integers are decimal. Does not print.
 */
#ifndef EBPFDUMP_COMMENT_H
#define EBPFDUMP_COMMENT_H

#include <stddef.h>

#include "event/event.h"

/* The line starts with this tag, followed by a space or the line's end. */
#define EVENT_COMMENT_TAG "ebpf:1"

/* Largest comment event_comment_format produces (two fully populated
 * events with every byte percent-encoded stay below it), so a buffer this
 * size always suffices. Also the longest text the parser looks at: pcapng
 * comment options cannot exceed 65535 bytes either. */
#define EVENT_COMMENT_MAX 32768

/* Presence bits of the items that the comment carries: pid, tid, uid, gid,
 * comm, exe, cmdline, ppid, pcomm, user, group, cgroup_id, cgroup,
 * container_id, container, pod, namespace, runtime, image, host. */
#define EVENT_COMMENT_ITEMS                                                                        \
	(EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_UID) | EVENT_BIT(ITEM_GID) |   \
	 EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_EXE) | EVENT_BIT(ITEM_CMDLINE) |                    \
	 EVENT_BIT(ITEM_PPID) | EVENT_BIT(ITEM_PCOMM) | EVENT_BIT(ITEM_USER) |                     \
	 EVENT_BIT(ITEM_GROUP) | EVENT_BIT(ITEM_CGROUP_ID) | EVENT_BIT(ITEM_CGROUP) |              \
	 EVENT_BIT(ITEM_CONTAINER_ID) | EVENT_BIT(ITEM_CONTAINER) | EVENT_BIT(ITEM_POD) |          \
	 EVENT_BIT(ITEM_NAMESPACE) | EVENT_BIT(ITEM_RUNTIME) | EVENT_BIT(ITEM_IMAGE) |             \
	 EVENT_BIT(ITEM_HOST))

/* The brief comment (--packet-comment brief): who, in a few bytes per
 * packet, for captures where the full one (command lines, paths: often
 * most of the output) costs too much; the rest stays in the events. */
#define EVENT_COMMENT_BRIEF_ITEMS                                                                  \
	(EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_COMM) |                        \
	 EVENT_BIT(ITEM_CONTAINER) | EVENT_BIT(ITEM_POD) | EVENT_BIT(ITEM_NAMESPACE))

/* What a tagged packet's comment carries (--packet-comment). */
enum comment_mode {
	COMMENT_FULL,	 /* every identity item of both sides */
	COMMENT_BRIEF,	 /* EVENT_COMMENT_BRIEF_ITEMS */
	COMMENT_COMPACT, /* a process tag per side; the rest in Identity records */
};

/* Write the comment line for a packet from sender to receiver (either may
 * be NULL: that side is left out; both NULL gives just the tag) into buf,
 * NUL-terminated. Returns the length without the NUL, or -ENOSPC when it
 * does not fit in size (buf then holds no usable comment). */
int event_comment_format(const struct event *sender, const struct event *receiver, char *buf,
			 size_t size);

/* The compact line: per side present, comm[pid], "@" and the pod (else
 * the container) when known, "#" and the identity in hex. Both given
 * events must have ITEM_IDENTITY (-EINVAL otherwise). Returns the length
 * or -ENOSPC as event_comment_format. */
int event_comment_format_compact(const struct event *sender, const struct event *receiver,
				 char *buf, size_t size);

/* Find the "ebpf:1" line in the comment s (the first line that starts with
 * the tag; other lines are ignored) and parse it, full pairs and compact
 * tags alike (a tag gives comm, pid and identity). Returns 0 and fills
 * *ret_src and *ret_dst (each zeroed first, presence bits set per key;
 * either may be NULL to ignore that side). Returns -ENOMSG when s has no
 * such line, or -EBADMSG with *ret_reason (may be NULL) set to a static
 * reason for a malformed line; the events are untouched on failure.
 * Unknown keys are skipped, a repeated key's last value wins, strings
 * longer than the model's limit are truncated. */
int event_comment_parse(const char *s, struct event *ret_src, struct event *ret_dst,
			const char **ret_reason);

#endif
