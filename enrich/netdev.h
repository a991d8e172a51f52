/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host-side veth interfaces of containers and pods, named for Wireshark's
 * interface list ("Pod P, Namespace N", "Container C").
 *
 * How: one rtnetlink dump of the host's links gives each veth's peer
 * (ifindex and the peer's netns id); one stat() per process of
 * /proc/PID/ns/net groups processes by network namespace; one RTM_GETNSID
 * per namespace maps it to the id the host knows it by; the processes'
 * cgroups (enrich/cgroup.h) and the resolver's cache (enrich/container.h,
 * primed with one Docker list request) name the container. The containers
 * of a pod share the pod sandbox's namespace, so a pod is one entry.
 * Nothing is forked and nothing enters another namespace. Measured: a few
 * milliseconds plus the Docker request for dozens of containers
 * (docs/containers.md). Does not print.
 *
 * Use (extcap/, for --extcap-interfaces and --ifname):
 *   struct netdev_list *l;
 *   r = netdev_list_containers(cr, &l, &why);   // cr: a container_resolver
 *   for (i = 0; i < l->count; i++) print l->entries[i].ifname, .display
 *   e = netdev_find(l, "vethX@web");            // → e->ifname
 *   l = netdev_list_free(l);
 */
#ifndef EBPFDUMP_ENRICH_NETDEV_H
#define EBPFDUMP_ENRICH_NETDEV_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich/container.h"

/* Host links looked at from one dump. */
#define NETDEV_LINKS_MAX 4096u
/* Network namespaces looked at. */
#define NETDEV_NETNS_MAX 4096u
/* Processes looked at in /proc. */
#define NETDEV_PROCS_MAX 65536u
/* Process ids kept per entry (n_pids counts them all). */
#define NETDEV_PIDS_MAX 64u
/* Containers kept per entry (a pod's sandbox plus its containers). */
#define NETDEV_CONTAINERS_MAX 16u
/* Longest display name: "Pod P, Namespace N" with both at their limits fits. */
#define NETDEV_DISPLAY_MAX (2u * EVENT_NAME_MAX + 32u)
/* Largest rtnetlink answer datagram read. */
#define NETDEV_NL_BUF 32768u

struct netdev_container {
	char id[EVENT_NAME_MAX + 1];
	char name[EVENT_NAME_MAX + 1]; /* "" when the runtime did not say */
	char runtime[EVENT_NAME_MAX + 1];
	char image[EVENT_NAME_MAX + 1];
	bool sandbox;
};

struct netdev_entry {
	char ifname[IF_NAMESIZE];	      /* host side, e.g. "veth1a2b3c4" */
	uint32_t ifindex;		      /* host side */
	uint32_t netns;			      /* inode of the container's network namespace */
	char display[NETDEV_DISPLAY_MAX + 1]; /* "Pod P, Namespace N" or "Container C" */
	char name[EVENT_NAME_MAX + 1];	      /* pod name, else container name, else short id */
	char key[2 * EVENT_NAME_MAX + 2];     /* "namespace.pod", else name: unique */
	char pod[EVENT_NAME_MAX + 1];
	char namespace_[EVENT_NAME_MAX + 1];
	unsigned n_containers;
	struct netdev_container containers[NETDEV_CONTAINERS_MAX];
	unsigned n_pids; /* processes in the namespace; the first NETDEV_PIDS_MAX kept */
	uint32_t pids[NETDEV_PIDS_MAX];
};

struct netdev_list {
	size_t count;
	struct netdev_entry *entries;	   /* sorted by display name, then ifname */
	char reason[CONTAINER_REASON_MAX]; /* first naming failure, "" if none */
};

/* List container and pod interfaces. Needs root (reads other processes'
 * namespaces). A namespace whose processes belong to no container (a bare
 * "ip netns", a systemd service) is left out. When the runtime cannot name
 * a container the entry still appears as "Container <short id>" and
 * *ret_reason (may be NULL) says why (text in the list, NULL when all went
 * well). Returns 0, or -ENOMEM, or the errno of the netlink dump. */
int netdev_list_containers(struct container_resolver *r, struct netdev_list **ret,
			   const char **ret_reason);
struct netdev_list *netdev_list_free(struct netdev_list *l);

/* Interface values offered to Wireshark: NETDEV_VALUE_PREFIX "IF@KEY". The
 * prefix sorts them next to the other eBPF interfaces. */
#define NETDEV_VALUE_PREFIX "ebpf@"

/* The entry a user's interface spec means, or NULL (no match, or several
 * and IF does not tell them apart). spec is "[ebpf@]IF@NAME" (the original
 * tool's --ifname form: NAME is an entry's key, "namespace.pod", a
 * container or pod name, "namespace/pod", or a container id or its first
 * 12+ characters), a bare NAME, or a bare host interface name. When NAME
 * fits several entries, the one on IF is taken; when NAME fits none, IF
 * alone decides. A key beats other names, so "IF@KEY" finds its pod or
 * container again after a restart gave it a new veth. */
const struct netdev_entry *netdev_find(const struct netdev_list *l, const char *spec);

/* The one pod a --pod value means, or NULL (none, or several): POD,
 * NAMESPACE/POD, or POD.NAMESPACE (ptcpdump's form; a pod's name may hold
 * dots, a namespace's cannot, so the last dot splits it, and a pod named
 * exactly so is taken first). Plain containers never match. */
const struct netdev_entry *netdev_find_pod(const struct netdev_list *l, const char *spec);

/* A container or pod to capture (--container, --pod, "IF@NAME"): list the
 * interfaces now and copy the entry spec means (netdev_find, or
 * netdev_find_pod when pod) to *ret. r may be NULL (a resolver of its own
 * is made). Returns 0, -ENODEV when nothing or several match, or the
 * listing's negative errno; reason (may be NULL) gets why the listing was
 * incomplete (a runtime that could not name a container), else "". */
int netdev_resolve(struct container_resolver *r, const char *spec, bool pod,
		   struct netdev_entry *ret, char reason[CONTAINER_REASON_MAX]);

#endif
