/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process filters on snapshot events (snapshot/filter.h). */
#include "snapshot/filter.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *proc_root(const struct snapshot_filter *f)
{
	return f->proc_root ? f->proc_root : "/proc";
}

/* A small /proc file, NUL-terminated; length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The parent of pid from "pid (comm) state ppid ..." (comm may hold spaces
 * and parentheses: the last ')' ends it); 0 when unknown. */
static uint32_t parent_of(const struct snapshot_filter *f, uint32_t pid)
{
	char path[PATH_MAX], buf[512];
	unsigned long ppid;
	char state, *close;

	snprintf(path, sizeof(path), "%s/%u/stat", proc_root(f), pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	close = strrchr(buf, ')');
	if (!close || sscanf(close + 1, " %c %lu", &state, &ppid) != 2 || ppid > UINT32_MAX)
		return 0;
	return (uint32_t)ppid;
}

static bool pid_wanted(const struct snapshot_filter *f, const struct event *ev)
{
	uint32_t p;

	if (ev->pid == f->pid)
		return true;
	if (!f->pid_tree)
		return false;
	p = EVENT_HAS(ev, ITEM_PPID) ? ev->ppid : parent_of(f, ev->pid);
	for (int i = 0; i < SNAPSHOT_FILTER_DEPTH && p; i++) {
		if (p == f->pid)
			return true;
		if (p <= 1)
			return false;
		p = parent_of(f, p);
	}
	return false;
}

/* The cgroup the kernel's events name (bpf/: the v1 memory hierarchy, else
 * pids, else the v2 one), by its directory's inode. */
static uint64_t cgroup_id_of(const struct snapshot_filter *f, uint32_t pid)
{
	const char *root = f->cgroup_root ? f->cgroup_root : "/sys/fs/cgroup";
	const char *want[] = { "memory", "pids", "" };
	char path[PATH_MAX], buf[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u/cgroup", proc_root(f), pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		for (char *line = buf, *next; line && *line; line = next) {
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			char *end = strchr(line, '\n');
			size_t wl = strlen(want[w]);
			bool match = false;

			next = end ? end + 1 : NULL;
			if (!c2 || (end && c2 > end))
				continue;
			/* "ID:controller,controller:/path"; v2 is "0::/path". */
			if (wl == 0)
				match = c2 == c1 + 1;
			for (char *t = c1 + 1; wl && t < c2;) {
				char *comma = memchr(t, ',', (size_t)(c2 - t));
				size_t tl = comma ? (size_t)(comma - t) : (size_t)(c2 - t);

				if (tl == wl && memcmp(t, want[w], wl) == 0)
					match = true;
				t = comma ? comma + 1 : c2;
			}
			if (!match)
				continue;
			snprintf(path, sizeof(path), "%s%s%s%.*s", root, wl ? "/" : "", want[w],
				 (int)((end ? end : c2 + strlen(c2)) - (c2 + 1)), c2 + 1);
			return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
		}
	}
	return 0;
}

bool snapshot_filter_active(const struct snapshot_filter *f)
{
	return f && (f->pid || f->match_uid || f->comm[0] || f->cgroup_id);
}

bool snapshot_filter_match(const struct snapshot_filter *f, const struct event *ev)
{
	if (!snapshot_filter_active(f))
		return true;
	/* Unknown owner: fails every process filter, as in the kernel. */
	if (!EVENT_HAS(ev, ITEM_PID) || ev->pid == 0)
		return false;
	if (f->pid && !pid_wanted(f, ev))
		return false;
	if (f->match_uid && (!EVENT_HAS(ev, ITEM_UID) || ev->uid != f->uid))
		return false;
	if (f->comm[0] && (!EVENT_HAS(ev, ITEM_COMM) || strcmp(ev->comm, f->comm) != 0))
		return false;
	if (f->cgroup_id && cgroup_id_of(f, ev->pid) != f->cgroup_id)
		return false;
	return true;
}
