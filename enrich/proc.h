/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Process names for events: executable path, command line, user and group
 * names, read from /proc and the user database, cached with a bound.
 *
 * The kernel sends ids and the task name; everything a user reads as a
 * name is filled here, in user space, where it costs one /proc read per
 * process instead of one per event. Fields the event already carries are
 * never overwritten. Does not print; lookups that fail leave fields unset.
 */
#ifndef EBPFDUMP_ENRICH_PROC_H
#define EBPFDUMP_ENRICH_PROC_H

#include "event/event.h"

/* Processes remembered at once; older entries are overwritten. */
#define ENRICH_PROC_CACHE_SIZE 4096u
/* uid/gid → name entries remembered at once. */
#define ENRICH_ID_CACHE_SIZE 256u

struct enrich_proc;

/* proc_root is "/proc" except in tests. Returns 0 or -ENOMEM. */
int enrich_proc_new(const char *proc_root, struct enrich_proc **ret);
/* Fill exe, cmdline, user and group where missing and knowable. A
 * command line the kernel cut (bpf/probe.c) waits in ev->cmdline without
 * its presence bit: /proc/PID/cmdline replaces it while the process lives,
 * else it is used as it is. */
void enrich_proc_event(struct enrich_proc *e, struct event *ev);
/* Forget a process (e.g. when its pid is seen with another name). */
void enrich_proc_forget(struct enrich_proc *e, uint32_t pid);
struct enrich_proc *enrich_proc_free(struct enrich_proc *e);

#endif
