/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container and Kubernetes identity for events: cgroup → runtime and id →
 * names (container, pod, namespace, image), from the runtimes' own APIs and
 * state files, cached with a bound.
 *
 * Sources, tried by runtime (enrich/cgroup.h tells the runtime):
 *   docker      Engine API on its unix socket (enrich/docker.h)
 *   podman      its Docker-compatible socket, then its OCI state
 *   containerd  CRI ContainerStatus on its socket (enrich/cri.h), then
 *               OCI bundle config.json annotations (enrich/oci.h)
 *   cri-o       likewise, CRI first, then its bundles
 *   systemd     the unit name itself, no lookup
 * Every query has a deadline (CONTAINER_TIMEOUT_MS): a stuck runtime costs
 * at most that once, then is skipped for CONTAINER_BACKOFF_MS; events go on
 * with ids and runtime only. Failed lookups are remembered for
 * CONTAINER_NEGATIVE_TTL_MS so a container that never resolves is not
 * asked for on every event. Calls come from one thread; in asynchronous
 * mode (container_resolver_start_async) a worker thread of the resolver's
 * own asks the runtimes, so that no call waits. Does not print.
 *
 * Use (extcap/capture.c):
 *   struct container_resolver *cr;
 *   r = container_resolver_new(NULL, &cr);           // NULL: host defaults
 *   container_resolver_prime(cr, &why);               // optional, at start
 *   per event, after the kernel fields are set:
 *   r = container_resolve_event(cr, &ev, &why);
 *   if (r < 0 && why) log("container names unavailable: %s", why);
 *   cr = container_resolver_free(cr);
 */
#ifndef EBPFDUMP_ENRICH_CONTAINER_H
#define EBPFDUMP_ENRICH_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "enrich/cgroup.h"
#include "event/event.h"

/* One runtime query (connect, request, whole answer), in milliseconds. */
#define CONTAINER_TIMEOUT_MS 200u
/* A runtime that timed out or could not be reached is not asked again for
 * this long, so a dead daemon costs one timeout, not one per container. */
#define CONTAINER_BACKOFF_MS 5000u
/* A container whose names could not be found is asked for again after. */
#define CONTAINER_NEGATIVE_TTL_MS 2000u
/* Names found are asked for again after this long, so that a renamed
 * container (docker rename) is named anew in later events. When the
 * runtime cannot answer then, the names known are kept. */
#define CONTAINER_POSITIVE_TTL_MS 5000u
/* Asynchronous mode (container_resolver_start_async): one runtime query
 * may take this long, as it no longer holds up the caller; a Docker busy
 * starting dozens of containers answers in hundreds of milliseconds. */
#define CONTAINER_ASYNC_TIMEOUT_MS 2000u
/* Lookups queued or answered but not yet polled, at most. */
#define CONTAINER_ASYNC_QUEUE 256u
/* Containers remembered at once (set-associative, least recently used
 * entry of a set replaced). */
#define CONTAINER_CACHE_SIZE 1024u
/* cgroup id → identity entries remembered at once (saves reading
 * /proc/PID/cgroup for every event). */
#define CONTAINER_CGROUP_CACHE_SIZE 4096u
/* Longest reason text returned. */
#define CONTAINER_REASON_MAX 256

/* What a runtime knows about one container. Strings are "" when unknown. */
struct container_info {
	enum container_runtime runtime;
	bool sandbox; /* the pod's sandbox ("pause") container */
	char id[EVENT_NAME_MAX + 1];
	char name[EVENT_NAME_MAX + 1]; /* container name (Kubernetes container name if any) */
	char pod[EVENT_NAME_MAX + 1];
	char namespace_[EVENT_NAME_MAX + 1]; /* Kubernetes namespace */
	char image[EVENT_NAME_MAX + 1];
	char sandbox_id[EVENT_NAME_MAX + 1]; /* id of the pod's sandbox container */
};

/* Where to look. Every NULL or 0 field takes the host default named; an
 * empty string ("") switches that source off. */
struct container_config {
	const char *proc_root;	     /* "/proc" */
	const char *docker_socket;   /* "/var/run/docker.sock" */
	const char *podman_socket;   /* "/run/podman/podman.sock" */
	const char *containerd_socket; /* "/run/containerd/containerd.sock" (CRI) */
	const char *crio_socket;     /* "/var/run/crio/crio.sock" (CRI) */
	const char *containerd_root; /* "/run/containerd/io.containerd.runtime.v2.task" */
	const char *crio_root;	     /* "/run/containers/storage/overlay-containers" */
	const char *podman_root;     /* "/var/lib/containers/storage/overlay-containers" */
	unsigned timeout_ms;	     /* CONTAINER_TIMEOUT_MS */
	unsigned backoff_ms;	     /* CONTAINER_BACKOFF_MS */
	unsigned negative_ttl_ms;    /* CONTAINER_NEGATIVE_TTL_MS */
	unsigned positive_ttl_ms;    /* CONTAINER_POSITIVE_TTL_MS */
	unsigned async_timeout_ms;   /* CONTAINER_ASYNC_TIMEOUT_MS */
};

struct container_resolver;

/* cfg may be NULL (all defaults); its strings are copied. Returns 0,
 * -ENOMEM, or -ENAMETOOLONG for a path that does not fit PATH_MAX. */
int container_resolver_new(const struct container_config *cfg, struct container_resolver **ret);
struct container_resolver *container_resolver_free(struct container_resolver *r);

/* Identify the container (or systemd unit) of an event from ITEM_CGROUP,
 * else ITEM_PID's /proc/PID/cgroup, and fill ITEM_CONTAINER_ID,
 * ITEM_CONTAINER, ITEM_POD, ITEM_NAMESPACE, ITEM_RUNTIME and ITEM_IMAGE where
 * known and not already present (a remote source's fields are kept).
 * Returns 1 when the event got an identity, 0 when it belongs to no
 * container or service, and a negative errno when the identity is known
 * but the names are not (the ids and runtime are still filled):
 * -ETIMEDOUT, -ECONNREFUSED, -ENOENT (socket or state missing), -ESRCH
 * (the runtime does not know the container: it is gone), -EBADMSG
 * (malformed answer), -EMSGSIZE (answer over its limit), -EAGAIN (runtime
 * skipped after an earlier failure, or a failed lookup still remembered),
 * -EINPROGRESS (asynchronous mode: the names are being looked up; call
 * again after container_resolver_poll() says an answer came).
 * *ret_reason (may be NULL) is set to a text like "docker
 * /var/run/docker.sock: timed out after 200 ms" only when a runtime was
 * asked during this call and failed, else to NULL, so logging every non-NULL
 * reason does not repeat per event. The text lives until the next call. */
int container_resolve_event(struct container_resolver *r, struct event *ev,
			    const char **ret_reason);

/* The identity of a live process from /proc/PID/cgroup. Returns 0,
 * -ENOENT (not in a container or service), -ESRCH (no such process). */
int container_identify_pid(struct container_resolver *r, uint32_t pid, struct cgroup_identity *ret);

/* Names for an identity, from the cache or the runtime. On success
 * *ret points into the cache, valid until the next resolver call. Returns
 * as container_resolve_event's negative values; *ret_reason likewise. For a
 * systemd unit the info holds the unit name and nothing is asked. */
int container_lookup(struct container_resolver *r, const struct cgroup_identity *id,
		     const struct container_info **ret, const char **ret_reason);

/* Ask Docker (and podman) for all their containers in one request and cache
 * them: cheaper than one query per container when many are needed at once
 * (the interface list, the start of a capture). Returns the number of
 * containers cached, or a negative errno with *ret_reason as above (0 and
 * no reason when no socket is configured or present). */
int container_resolver_prime(struct container_resolver *r, const char **ret_reason);

/* Asynchronous mode: from now on the runtimes are asked by a worker thread,
 * so no call above waits for one. A lookup not in the cache starts a query
 * and returns -EINPROGRESS (or the names known before, when they expired);
 * the answer enters the cache at container_resolver_poll(). Call after
 * container_resolver_prime(). Returns 0, -ENOMEM, or the errno of creating
 * the eventfd or the thread. container_resolver_free() does not wait for a
 * query under way (the worker frees the resolver when it returns). */
int container_resolver_start_async(struct container_resolver *r);
/* An eventfd that becomes readable when answers wait for
 * container_resolver_poll(); -1 when not asynchronous. */
int container_resolver_fd(const struct container_resolver *r);
/* Take the worker's answers into the cache. Returns how many came.
 * *ret_reason (may be NULL): the first failure's text among them, else
 * NULL; valid until the next poll. */
int container_resolver_poll(struct container_resolver *r, const char **ret_reason);

/* The proc root the resolver reads (for enrich/netdev). */
const char *container_resolver_proc_root(const struct container_resolver *r);

/* How many times a runtime answered (a container named, or a list): a
 * caller that logged a failure sees from its growth that names are back. */
uint64_t container_resolver_answers(const struct container_resolver *r);

#endif
