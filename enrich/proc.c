/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process names for events from /proc and the user database, cached. */
#include "enrich/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Buffer for getpwuid_r/getgrgid_r; entries larger than this stay numeric. */
#define ENRICH_PWBUF_SIZE 4096

struct proc_entry {
	uint32_t pid; /* 0: empty slot */
	char comm[EVENT_COMM_MAX + 1];
	bool has_exe, has_cmdline;
	char exe[EVENT_EXE_MAX + 1];
	char cmdline[EVENT_CMDLINE_MAX + 1];
};

struct id_entry {
	bool used;
	uint32_t id;
	bool known;
	char name[EVENT_NAME_MAX + 1];
};

struct enrich_proc {
	char proc_root[PATH_MAX];
	struct proc_entry *procs; /* direct-mapped by pid */
	struct id_entry users[ENRICH_ID_CACHE_SIZE];
	struct id_entry groups[ENRICH_ID_CACHE_SIZE];
};

int enrich_proc_new(const char *proc_root, struct enrich_proc **ret)
{
	struct enrich_proc *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->procs = calloc(ENRICH_PROC_CACHE_SIZE, sizeof(*e->procs));
	if (!e->procs) {
		free(e);
		return -ENOMEM;
	}
	snprintf(e->proc_root, sizeof(e->proc_root), "%s", proc_root ? proc_root : "/proc");
	*ret = e;
	return 0;
}

struct enrich_proc *enrich_proc_free(struct enrich_proc *e)
{
	if (e) {
		free(e->procs);
		free(e);
	}
	return NULL;
}

static bool read_exe(const struct enrich_proc *e, uint32_t pid, char *buf, size_t size)
{
	char path[PATH_MAX + 32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", e->proc_root, pid);
	n = readlink(path, buf, size - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* /proc/PID/cmdline holds NUL-separated arguments; shown joined by spaces. */
static bool read_cmdline(const struct enrich_proc *e, uint32_t pid, char *buf, size_t size)
{
	char path[PATH_MAX + 32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/cmdline", e->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false; /* kernel threads and zombies have none */
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return n > 0;
}

void enrich_proc_forget(struct enrich_proc *e, uint32_t pid)
{
	struct proc_entry *p = &e->procs[pid % ENRICH_PROC_CACHE_SIZE];

	if (p->pid == pid)
		p->pid = 0;
}

/* A cached entry is trusted while the task name still matches: a reused
 * pid almost always runs another program. */
static struct proc_entry *proc_lookup(struct enrich_proc *e, const struct event *ev)
{
	struct proc_entry *p = &e->procs[ev->pid % ENRICH_PROC_CACHE_SIZE];

	if (p->pid == ev->pid && (!EVENT_HAS(ev, ITEM_COMM) || strcmp(p->comm, ev->comm) == 0))
		return p;
	memset(p, 0, sizeof(*p));
	p->has_exe = read_exe(e, ev->pid, p->exe, sizeof(p->exe));
	p->has_cmdline = read_cmdline(e, ev->pid, p->cmdline, sizeof(p->cmdline));
	if (!p->has_exe && !p->has_cmdline)
		return NULL; /* gone already: do not cache the miss */
	p->pid = ev->pid;
	if (EVENT_HAS(ev, ITEM_COMM))
		snprintf(p->comm, sizeof(p->comm), "%s", ev->comm);
	return p;
}

static const char *id_name(struct id_entry *cache, uint32_t id, bool is_group)
{
	struct id_entry *c = &cache[id % ENRICH_ID_CACHE_SIZE];
	char buf[ENRICH_PWBUF_SIZE];

	if (c->used && c->id == id)
		return c->known ? c->name : NULL;
	c->used = true;
	c->id = id;
	c->known = false;
	if (is_group) {
		struct group gr, *res = NULL;

		if (getgrgid_r(id, &gr, buf, sizeof(buf), &res) == 0 && res) {
			event_copy_str(c->name, sizeof(c->name), res->gr_name, strlen(res->gr_name));
			c->known = true;
		}
	} else {
		struct passwd pw, *res = NULL;

		if (getpwuid_r(id, &pw, buf, sizeof(buf), &res) == 0 && res) {
			event_copy_str(c->name, sizeof(c->name), res->pw_name, strlen(res->pw_name));
			c->known = true;
		}
	}
	return c->known ? c->name : NULL;
}

static void set_str(struct event *ev, enum event_item item, char *dst, size_t size, const char *s)
{
	if (!s || EVENT_HAS(ev, item))
		return;
	event_copy_str(dst, size, s, strlen(s));
	EVENT_SET(ev, item);
}

void enrich_proc_event(struct enrich_proc *e, struct event *ev)
{
	if (EVENT_HAS(ev, ITEM_PID) && ev->pid != 0 &&
	    (!EVENT_HAS(ev, ITEM_EXE) || !EVENT_HAS(ev, ITEM_CMDLINE))) {
		const struct proc_entry *p = proc_lookup(e, ev);

		if (p && p->has_exe)
			set_str(ev, ITEM_EXE, ev->exe, sizeof(ev->exe), p->exe);
		if (p && p->has_cmdline)
			set_str(ev, ITEM_CMDLINE, ev->cmdline, sizeof(ev->cmdline), p->cmdline);
		/* The kernel's start of a longer command line (see proc.h). */
		if (!EVENT_HAS(ev, ITEM_CMDLINE) && ev->cmdline[0])
			EVENT_SET(ev, ITEM_CMDLINE);
	}
	if (EVENT_HAS(ev, ITEM_UID))
		set_str(ev, ITEM_USER, ev->user, sizeof(ev->user), id_name(e->users, ev->uid, false));
	if (EVENT_HAS(ev, ITEM_GID))
		set_str(ev, ITEM_GROUP, ev->group, sizeof(ev->group),
			id_name(e->groups, ev->gid, true));
}
