/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test tool for the container e2e tests: runs the resolver and the
 * interface mapper (enrich/container.h, enrich/netdev.h) on this host and
 * prints what they found, one "key=value" per line, for the scripts to
 * check.
 *
 *   docker_dump resolve PID [CGROUP_LEAF]  event fields for a process
 *   docker_dump netdev [REPEAT]            container/pod interfaces; with
 *                                          REPEAT, also the best time of that
 *                                          many fresh listings ("best_ms=")
 *   docker_dump find SPEC                  host interface of "vethX@name"
 * Environment: EBPFDUMP_DOCKER_SOCKET overrides the Docker socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/container.h"
#include "enrich/netdev.h"

static int new_resolver(struct container_resolver **ret)
{
	struct container_config cfg = {.docker_socket = getenv("EBPFDUMP_DOCKER_SOCKET")};

	return container_resolver_new(&cfg, ret);
}

static int do_resolve(const char *pid, const char *leaf)
{
	struct container_resolver *r;
	struct event ev;
	const char *why = NULL;
	int e;

	e = new_resolver(&r);
	if (e < 0)
		return 2;
	memset(&ev, 0, sizeof(ev));
	ev.pid = (uint32_t)strtoul(pid, NULL, 10);
	EVENT_SET(&ev, ITEM_PID);
	if (leaf) {
		event_copy_str(ev.cgroup, sizeof(ev.cgroup), leaf, strlen(leaf));
		EVENT_SET(&ev, ITEM_CGROUP);
	}
	e = container_resolve_event(r, &ev, &why);
	printf("result=%d\n", e);
	if (why)
		printf("reason=%s\n", why);
	if (EVENT_HAS(&ev, ITEM_CONTAINER_ID))
		printf("container_id=%s\n", ev.container_id);
	if (EVENT_HAS(&ev, ITEM_CONTAINER))
		printf("container=%s\n", ev.container);
	if (EVENT_HAS(&ev, ITEM_POD))
		printf("pod=%s\n", ev.pod);
	if (EVENT_HAS(&ev, ITEM_NAMESPACE))
		printf("namespace=%s\n", ev.namespace_);
	if (EVENT_HAS(&ev, ITEM_RUNTIME))
		printf("runtime=%s\n", ev.runtime);
	if (EVENT_HAS(&ev, ITEM_IMAGE))
		printf("image=%s\n", ev.image);
	container_resolver_free(r);
	return e < 0 ? 1 : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One listing with a fresh resolver, as a new `--extcap-interfaces`
 * process would do it. */
static int list_once(struct netdev_list **ret, double *ms)
{
	struct container_resolver *r;
	const char *why = NULL;
	double t0 = now_ms();
	int e;

	e = new_resolver(&r);
	if (e < 0)
		return e;
	e = netdev_list_containers(r, ret, &why);
	*ms = now_ms() - t0;
	if (e == 0 && why)
		fprintf(stderr, "reason: %s\n", why);
	container_resolver_free(r);
	return e;
}

static int do_netdev(int repeat)
{
	struct netdev_list *l;
	double ms, best;
	int e;

	e = list_once(&l, &ms);
	if (e < 0) {
		fprintf(stderr, "netdev: %s\n", strerror(-e));
		return 1;
	}
	for (size_t i = 0; i < l->count; i++) {
		const struct netdev_entry *n = &l->entries[i];

		printf("if=%s\tdisplay=%s\tname=%s\tnetns=%u\tpids=%u\tcontainers=", n->ifname,
		       n->display, n->name, n->netns, n->n_pids);
		for (unsigned k = 0; k < n->n_containers; k++)
			printf("%s%s:%s", k ? "," : "", n->containers[k].id, n->containers[k].name);
		printf("\tpidlist=");
		for (unsigned k = 0; k < n->n_pids && k < NETDEV_PIDS_MAX; k++)
			printf("%s%u", k ? "," : "", n->pids[k]);
		printf("\n");
	}
	printf("count=%zu\nfirst_ms=%.1f\n", l->count, ms);
	netdev_list_free(l);
	best = ms;
	for (int i = 1; i < repeat; i++) {
		if (list_once(&l, &ms) < 0)
			return 1;
		netdev_list_free(l);
		if (ms < best)
			best = ms;
	}
	if (repeat > 0)
		printf("best_ms=%.1f\n", best);
	return 0;
}

static int do_find(const char *spec)
{
	struct netdev_list *l;
	const struct netdev_entry *n;
	double ms;

	if (list_once(&l, &ms) < 0)
		return 1;
	n = netdev_find(l, spec);
	if (n)
		printf("ifname=%s\n", n->ifname);
	netdev_list_free(l);
	return n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "resolve") == 0)
		return do_resolve(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc >= 2 && strcmp(argv[1], "netdev") == 0)
		return do_netdev(argc > 2 ? atoi(argv[2]) : 0);
	if (argc == 3 && strcmp(argv[1], "find") == 0)
		return do_find(argv[2]);
	fprintf(stderr, "usage: %s resolve PID [LEAF] | netdev [REPEAT] | find SPEC\n", argv[0]);
	return 2;
}
