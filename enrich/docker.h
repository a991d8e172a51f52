/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal Docker Engine API client over its unix socket: container name,
 * image and Kubernetes labels, for one container or all of them.
 *
 * HTTP/1.1 GET on a non-blocking socket with one deadline for connect,
 * request and the whole answer, so a stuck or slow daemon costs at most
 * timeout_ms. Answers are bounded (DOCKER_RESPONSE_MAX), may use
 * Content-Length, chunked encoding or end at close, and are parsed with
 * json-c. Podman's Docker-compatible socket answers the same requests.
 * Container ids are data: only [A-Za-z0-9_.-] ever reaches the request.
 * Does not print; every failure comes back as a negative errno and a short
 * static reason text.
 */
#ifndef EBPFDUMP_ENRICH_DOCKER_H
#define EBPFDUMP_ENRICH_DOCKER_H

#include <stddef.h>

#include "enrich/container.h"

/* Largest answer body accepted (an inspect is a few KiB; a list of
 * hundreds of containers stays well below). */
#define DOCKER_RESPONSE_MAX (4u << 20)
/* Largest status line plus headers accepted. */
#define DOCKER_HEADER_MAX 16384u
/* Deepest JSON nesting accepted (Docker's answers nest about 5 deep). */
#define DOCKER_JSON_DEPTH_MAX 32
/* Longest container id or name accepted in a request. */
#define DOCKER_ID_MAX 128u
/* Containers taken from one list answer. */
#define DOCKER_LIST_MAX 4096u

/* Inspect one container (GET /containers/<id>/json). Fills *ret (runtime
 * DOCKER) and returns 0, or: -EINVAL (id not a plain name), -ENOENT,
 * -ECONNREFUSED, -EACCES... (the errno of connect: no daemon there),
 * -ETIMEDOUT (no complete answer in timeout_ms), -ESRCH (HTTP 404: no such
 * container), -EBADMSG (not HTTP, unexpected status, malformed JSON),
 * -EMSGSIZE (answer over the limits above), -ENOMEM. *ret_reason (may be
 * NULL) gets a static text naming the failure step. */
int docker_inspect(const char *socket_path, const char *id, unsigned timeout_ms,
		   struct container_info *ret, const char **ret_reason);

/* Called for each container of a list answer; a negative return stops the
 * walk and is returned by docker_list. */
typedef int (*docker_list_fn)(const struct container_info *info, void *userdata);

/* List running containers (GET /containers/json) and call fn for each, at
 * most DOCKER_LIST_MAX. Returns the number walked or a negative errno as
 * docker_inspect. */
int docker_list(const char *socket_path, unsigned timeout_ms, docker_list_fn fn, void *userdata,
		const char **ret_reason);

/* The daemon's event stream (GET /events, container create, start and
 * rename only): names of containers as they are created, before their
 * processes run, and new names at once. Lines longer than
 * DOCKER_EVENT_LINE_MAX are skipped. */
#define DOCKER_EVENT_LINE_MAX 65536u

struct docker_events;

/* Connect, ask, and read the answer's header within timeout_ms. Returns 0
 * with *ret (a non-blocking stream), or a negative errno as docker_inspect
 * (-EBADMSG: not 200, e.g. a daemon without /events). */
int docker_events_open(const char *socket_path, unsigned timeout_ms, struct docker_events **ret,
		       const char **ret_reason);
/* Poll it for POLLIN. */
int docker_events_fd(const struct docker_events *s);
/* Read what has arrived, without blocking, and call fn for each container
 * the events name (info from the event's attributes: name, image, labels).
 * Returns the number of events read (0: nothing yet), fn's negative value,
 * -EPIPE when the daemon ended the stream, -EBADMSG for data that is not
 * an event stream, or the errno of the read. */
int docker_events_read(struct docker_events *s, docker_list_fn fn, void *userdata);
void docker_events_close(struct docker_events *s);

#endif
