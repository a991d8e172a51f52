/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process filters (--pid, --pid-tree, --uid, --comm, --cgroup) applied
 * to the snapshot's events, as the kernel applies them to its own: a
 * socket open at start is reported only when its owner passes every filter
 * set, and a socket of unknown owner passes none (docs/snapshot.md). The
 * kernel reads a task; here /proc tells the same: the parent chain for
 * --pid-tree, /proc/PID/cgroup for --cgroup. Pure user space, no printing.
 */
#ifndef EBPFDUMP_SNAPSHOT_FILTER_H
#define EBPFDUMP_SNAPSHOT_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "event/event.h"

/* Parents followed for pid_tree, as the kernel's filter does. */
#define SNAPSHOT_FILTER_DEPTH 32

struct snapshot_filter {
	uint32_t pid; /* 0: any */
	bool pid_tree;
	bool match_uid;
	uint32_t uid;
	char comm[EVENT_COMM_MAX + 1]; /* "": any */
	uint64_t cgroup_id;	       /* 0: any */
	/* "/proc" and "/sys/fs/cgroup" but in tests; NULL: those. */
	const char *proc_root;
	const char *cgroup_root;
};

/* Whether any process filter is set. */
bool snapshot_filter_active(const struct snapshot_filter *f);
/* Whether the event's owner passes every filter set. */
bool snapshot_filter_match(const struct snapshot_filter *f, const struct event *ev);

#endif
