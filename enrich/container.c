/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container identity resolver: cgroup → runtime and id → names, cached. */
#include "enrich/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "enrich/cri.h"
#include "enrich/docker.h"
#include "enrich/oci.h"
#include "util/clock.h"

/* Entries per set of the container cache: a hot container is not evicted
 * by one unlucky hash collision. */
#define CONTAINER_CACHE_WAYS 8u
#define CONTAINER_CACHE_SETS (CONTAINER_CACHE_SIZE / CONTAINER_CACHE_WAYS)
/* Largest /proc/PID/cgroup read (13 v1 hierarchies with long paths fit). */
#define CONTAINER_CGROUP_FILE_MAX 16384u
/* Docker's event stream is opened again after this long when it could not
 * be opened or ended. */
#define CONTAINER_STREAM_RETRY_MS 5000u
/* Answers waiting for container_resolver_poll(): those of every request
 * queued, and the event stream's. */
#define CONTAINER_ASYNC_ANSWERS (2 * CONTAINER_ASYNC_QUEUE)
/* Characters of an id shown in reasons ("docker ps" shows as many). */
#define CONTAINER_SHORT_ID 12

_Static_assert(CONTAINER_CACHE_SIZE % CONTAINER_CACHE_WAYS == 0, "cache size must fill its sets");

struct cache_entry {
	bool used;
	bool negative;		    /* a failed lookup, retried after expires_ms */
	bool pending;		    /* asynchronous mode: a lookup is under way */
	uint64_t pending_since;	    /* ...since then (ms, monotonic) */
	bool placeholder;	    /* no names yet, only the pending lookup */
	int error;		    /* why, for negative entries */
	uint64_t expires_ms;	    /* asked again after (names kept if that fails) */
	uint64_t stamp;		    /* last use, for replacement within a set */
	struct container_info info; /* info.id is the key */
};

struct cgroup_entry {
	bool used;
	uint64_t cgroup_id;
	int result; /* 0: id is valid; -ENOENT: no container or service */
	struct cgroup_identity id;
};

/* A runtime API socket and what happened the last time it was asked. */
struct source {
	const char *label; /* "docker", "podman" */
	char path[PATH_MAX];
	uint64_t down_until; /* skipped until then after a failure to reach it */
	int last_error;	     /* reported once per change, not per event */
};

struct container_resolver {
	char proc_root[PATH_MAX];
	struct source docker, podman;
	struct source cri_containerd, cri_crio; /* CRI sockets (gRPC) */
	char containerd_root[PATH_MAX];
	char crio_root[PATH_MAX];
	char podman_root[PATH_MAX];
	unsigned timeout_ms, backoff_ms, negative_ttl_ms, positive_ttl_ms;
	unsigned async_timeout_ms;

	struct cache_entry *cache;    /* CONTAINER_CACHE_SIZE, by set */
	struct cgroup_entry *cgroups; /* CONTAINER_CGROUP_CACHE_SIZE, direct-mapped */
	uint64_t stamp;
	struct container_info scratch; /* systemd units: no cache needed */
	char cgroup_file[CONTAINER_CGROUP_FILE_MAX];

	char reason[CONTAINER_REASON_MAX];
	bool has_reason;
	uint64_t answers; /* runtime answers, for container_resolver_answers() */
	uint64_t async_refused; /* lookups not queued: the queue was full */

	struct async *async; /* NULL: lookups run in the caller's thread */
};

/* Asynchronous mode (container_resolver_start_async): a worker thread owns
 * the runtime queries (fetch(), the sources' state, reason/has_reason); the
 * caller's thread owns the cache. Requests and answers cross in two rings
 * under one mutex; the worker writes the eventfd after each answer. */
struct async_answer {
	struct container_info info; /* info.id: the id asked for */
	int error;
	char reason[CONTAINER_REASON_MAX]; /* "" when none */
};

struct async {
	pthread_t thread;
	pthread_mutex_t mu;
	int efd;  /* answers wait: the caller polls it */
	int wake; /* requests wait: the worker polls it */
	/* busy: the worker waits for a runtime (a query, opening the event
	 * stream), not for the wake fd */
	bool stop, busy, orphaned;
	struct cgroup_identity ask[CONTAINER_ASYNC_QUEUE];
	unsigned ask_head, ask_len;
	struct async_answer *answers; /* CONTAINER_ASYNC_ANSWERS */
	unsigned ans_head, ans_len;
	char reason[CONTAINER_REASON_MAX]; /* the last poll's first failure */
};

static int copy_path(char *dst, const char *value, const char *fallback)
{
	const char *s = value ? value : fallback;

	if (strlen(s) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(dst, s);
	return 0;
}

int container_resolver_new(const struct container_config *cfg, struct container_resolver **ret)
{
	static const struct container_config defaults = {0};
	struct container_resolver *r;
	int e = 0;

	if (!cfg)
		cfg = &defaults;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cache = calloc(CONTAINER_CACHE_SIZE, sizeof(*r->cache));
	r->cgroups = calloc(CONTAINER_CGROUP_CACHE_SIZE, sizeof(*r->cgroups));
	if (!r->cache || !r->cgroups) {
		container_resolver_free(r);
		return -ENOMEM;
	}
	{
		/* each path: the configured one, else the host default */
		const struct {
			char *dst;
			const char *value, *fallback;
		} paths[] = {
		    {r->proc_root, cfg->proc_root, "/proc"},
		    {r->docker.path, cfg->docker_socket, "/var/run/docker.sock"},
		    {r->podman.path, cfg->podman_socket, "/run/podman/podman.sock"},
		    {r->cri_containerd.path, cfg->containerd_socket, "/run/containerd/containerd.sock"},
		    {r->cri_crio.path, cfg->crio_socket, "/var/run/crio/crio.sock"},
		    {r->containerd_root, cfg->containerd_root,
		     "/run/containerd/io.containerd.runtime.v2.task"},
		    {r->crio_root, cfg->crio_root, "/run/containers/storage/overlay-containers"},
		    {r->podman_root, cfg->podman_root,
		     "/var/lib/containers/storage/overlay-containers"},
		};

		for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]) && !e; i++)
			e = copy_path(paths[i].dst, paths[i].value, paths[i].fallback);
	}
	if (e) {
		container_resolver_free(r);
		return e;
	}
	r->docker.label = "docker";
	r->podman.label = "podman";
	r->cri_containerd.label = "containerd CRI";
	r->cri_crio.label = "cri-o CRI";
	r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : CONTAINER_TIMEOUT_MS;
	r->async_timeout_ms =
	    cfg->async_timeout_ms ? cfg->async_timeout_ms : CONTAINER_ASYNC_TIMEOUT_MS;
	r->backoff_ms = cfg->backoff_ms ? cfg->backoff_ms : CONTAINER_BACKOFF_MS;
	r->negative_ttl_ms =
	    cfg->negative_ttl_ms ? cfg->negative_ttl_ms : CONTAINER_NEGATIVE_TTL_MS;
	r->positive_ttl_ms =
	    cfg->positive_ttl_ms ? cfg->positive_ttl_ms : CONTAINER_POSITIVE_TTL_MS;
	*ret = r;
	return 0;
}

static void async_free(struct async *a);

struct container_resolver *container_resolver_free(struct container_resolver *r)
{
	if (r && r->async) {
		struct async *a = r->async;
		pthread_t thread = a->thread;
		uint64_t one = 1;
		bool busy;

		/* Under the lock: once it is released, an orphaned worker
		 * may free a at any time. */
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		busy = a->busy;
		a->orphaned = busy;
		if (write(a->wake, &one, sizeof(one)) < 0) {
			/* EAGAIN: it is woken already */
		}
		pthread_mutex_unlock(&a->mu);
		if (busy) {
			/* A lookup is waiting on a runtime (up to its deadline):
			 * do not wait for it; the worker frees everything when
			 * it returns. A stop stays prompt. */
			pthread_detach(thread);
			return NULL;
		}
		pthread_join(thread, NULL);
		r->async = NULL;
		async_free(a);
	}
	if (r) {
		free(r->cache);
		free(r->cgroups);
		free(r);
	}
	return NULL;
}

uint64_t container_resolver_answers(const struct container_resolver *r)
{
	return r->answers;
}

const char *container_resolver_proc_root(const struct container_resolver *r)
{
	return r->proc_root;
}

static void set_reason(struct container_resolver *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_reason(struct container_resolver *r, const char *fmt, ...)
{
	va_list ap;

	/* The first failure of a lookup is the one worth telling: later
	 * ones are fallbacks tried because of it. */
	if (r->has_reason)
		return;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->has_reason = true;
}

/* FNV-1a: ids are random hex already, any spread is fine. */
static unsigned cache_set(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % CONTAINER_CACHE_SETS;
}

static struct cache_entry *cache_find(struct container_resolver *r, const char *id)
{
	struct cache_entry *set = &r->cache[cache_set(id) * CONTAINER_CACHE_WAYS];

	for (unsigned i = 0; i < CONTAINER_CACHE_WAYS; i++) {
		if (set[i].used && strcmp(set[i].info.id, id) == 0) {
			set[i].stamp = ++r->stamp;
			return &set[i];
		}
	}
	return NULL;
}

/* The entry for id, reusing its old slot, else a free one, else the
 * least recently used of its set. */
static struct cache_entry *cache_slot(struct container_resolver *r, const char *id)
{
	struct cache_entry *set = &r->cache[cache_set(id) * CONTAINER_CACHE_WAYS], *victim = NULL;

	for (unsigned i = 0; i < CONTAINER_CACHE_WAYS; i++) {
		struct cache_entry *e = &set[i];

		if (e->used && strcmp(e->info.id, id) == 0)
			return e;
		if (!victim || (victim->used && (!e->used || e->stamp < victim->stamp)))
			victim = e;
	}
	return victim;
}

static struct cache_entry *cache_store(struct container_resolver *r,
				       const struct container_info *info)
{
	struct cache_entry *e = cache_slot(r, info->id);

	memset(e, 0, sizeof(*e));
	e->used = true;
	e->stamp = ++r->stamp;
	e->expires_ms = clock_ms(CLOCK_MONOTONIC) + r->positive_ttl_ms;
	e->info = *info;
	return e;
}

static void cache_store_negative(struct container_resolver *r, const char *id, int error)
{
	struct cache_entry *e = cache_slot(r, id);

	memset(e, 0, sizeof(*e));
	e->used = true;
	e->negative = true;
	e->error = error;
	e->expires_ms = clock_ms(CLOCK_MONOTONIC) + r->negative_ttl_ms;
	e->stamp = ++r->stamp;
	event_copy_str(e->info.id, sizeof(e->info.id), id, strlen(id));
}

/* Failures that say the daemon cannot be reached (as opposed to "it does
 * not know this container" or "it answered nonsense"). */
static bool source_down(int error)
{
	return error != -ESRCH && error != -EBADMSG && error != -EMSGSIZE && error != -EINVAL &&
	       error != -ENOMEM;
}

/* A failed query of a runtime's API socket: a daemon that cannot be
 * reached is skipped for a while, and reported once, not every backoff
 * period. Returns e. */
static int source_failed(struct container_resolver *r, struct source *s, int e, const char *why,
			 uint64_t now)
{
	if (source_down(e)) {
		s->down_until = now + r->backoff_ms;
		if (e == s->last_error)
			return e;
	}
	s->last_error = e;
	set_reason(r, "%s %s: %s: %s%s", s->label, s->path, why ? why : "failed", strerror(-e),
		   source_down(e) ? " (not asked again for a while)" : "");
	return e;
}

/* Ask a Docker-API socket. probing: the runtime is only a guess, so a
 * socket that does not exist (that runtime is not installed) is skipped
 * without a word. */
static int ask_source(struct container_resolver *r, struct source *s, const char *id,
		      struct container_info *info, bool probing)
{
	const char *why = NULL;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	int e;

	if (!s->path[0] || (probing && access(s->path, F_OK) < 0))
		return -ENOENT;
	if (now < s->down_until)
		return -EAGAIN;
	e = docker_inspect(s->path, id, r->async ? r->async_timeout_ms : r->timeout_ms, info, &why);
	if (e == 0) {
		s->last_error = 0;
		return 0;
	}
	if (e == -ESRCH) {
		set_reason(r, "%s %s: no such container %.*s (gone?)", s->label, s->path,
			   CONTAINER_SHORT_ID, id);
		return e;
	}
	return source_failed(r, s, e, why, now);
}

/* Ask a CRI socket (ContainerStatus). Its runtime may not know the
 * container (Docker's, in containerd's "moby" namespace, or another
 * runtime's): that is said by the caller's last resort, not here. */
static int ask_cri(struct container_resolver *r, struct source *s, enum container_runtime rt,
		   const char *id, struct container_info *info)
{
	const char *why = NULL;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	int e;

	if (!s->path[0] || access(s->path, F_OK) < 0)
		return -ENOENT;
	if (now < s->down_until)
		return -EAGAIN;
	e = cri_container_status(s->path, id, r->async ? r->async_timeout_ms : r->timeout_ms, rt,
				 info, &why);
	if (e == 0 || e == -ESRCH) {
		s->last_error = 0;
		return e;
	}
	return source_failed(r, s, e, why, now);
}

static int ask_containerd(struct container_resolver *r, const char *id, struct container_info *info,
			  char *ns, size_t ns_size)
{
	int e;

	if (!r->containerd_root[0])
		return -ENOENT;
	e = oci_lookup_containerd(r->containerd_root, id, info, ns, ns_size);
	if (e < 0 && e != -ENOENT)
		set_reason(r, "containerd %s: cannot read bundle of %.*s: %s", r->containerd_root,
			   CONTAINER_SHORT_ID, id, strerror(-e));
	return e;
}

static int ask_storage(struct container_resolver *r, const char *root, enum container_runtime rt,
		       const char *id, struct container_info *info)
{
	int e;

	if (!root[0])
		return -ENOENT;
	e = oci_lookup_storage(root, id, rt, info);
	if (e < 0 && e != -ENOENT)
		set_reason(r, "%s %s: cannot read bundle of %.*s: %s", container_runtime_name(rt),
			   root, CONTAINER_SHORT_ID, id, strerror(-e));
	return e;
}

/* Keep the more telling of two failures: an unreachable or broken runtime
 * says more than "not found here". */
static int worse(int a, int b)
{
	if (a == 0)
		return b;
	if (a == -ENOENT || a == -ESRCH || a == -EAGAIN)
		return b ? b : a;
	return a;
}

/* Ask the runtimes that may know this container, cheapest first. */
static int fetch(struct container_resolver *r, const struct cgroup_identity *id,
		 struct container_info *info)
{
	char ns[OCI_NAMESPACE_MAX + 1] = "";
	int e, err = -ENOENT;

	switch (id->runtime) {
	case CONTAINER_RUNTIME_DOCKER:
		return ask_source(r, &r->docker, id->id, info, false);
	case CONTAINER_RUNTIME_PODMAN:
		e = ask_source(r, &r->podman, id->id, info, false);
		if (e == 0) {
			info->runtime = CONTAINER_RUNTIME_PODMAN;
			return 0;
		}
		err = worse(e, err);
		e = ask_storage(r, r->podman_root, CONTAINER_RUNTIME_PODMAN, id->id, info);
		return e == 0 ? 0 : worse(err, e);
	case CONTAINER_RUNTIME_CRIO:
		/* the runtime's API first, its files when it cannot answer */
		e = ask_cri(r, &r->cri_crio, CONTAINER_RUNTIME_CRIO, id->id, info);
		if (e == 0)
			return 0;
		err = worse(e, err);
		e = ask_storage(r, r->crio_root, CONTAINER_RUNTIME_CRIO, id->id, info);
		if (e == 0)
			return 0;
		err = worse(e, err);
		e = ask_storage(r, r->podman_root, CONTAINER_RUNTIME_CRIO, id->id, info);
		return e == 0 ? 0 : worse(err, e);
	case CONTAINER_RUNTIME_CONTAINERD:
	case CONTAINER_RUNTIME_UNKNOWN:
		break;
	default:
		return -ENOENT;
	}

	/* containerd, or a bare id: its CRI socket (Kubernetes' containers),
	 * then its bundle files (other namespaces, or no CRI plugin) */
	e = ask_cri(r, &r->cri_containerd, CONTAINER_RUNTIME_CONTAINERD, id->id, info);
	if (e == 0)
		return 0;
	err = worse(e, err);
	e = ask_containerd(r, id->id, info, ns, sizeof(ns));
	/* Docker CE runs its containers in containerd's "moby" namespace,
	 * whose bundles carry no names: Docker has them. */
	if (e == 0 && strcmp(ns, "moby") != 0)
		return 0;
	if (e == 0)
		return ask_source(r, &r->docker, id->id, info, false);
	err = worse(e, err);
	if (id->runtime == CONTAINER_RUNTIME_UNKNOWN) {
		e = ask_storage(r, r->crio_root, CONTAINER_RUNTIME_CRIO, id->id, info);
		if (e == 0)
			return 0;
		err = worse(err, e);
		e = ask_storage(r, r->podman_root, CONTAINER_RUNTIME_PODMAN, id->id, info);
		if (e == 0)
			return 0;
		err = worse(err, e);
	}
	if (id->runtime == CONTAINER_RUNTIME_UNKNOWN || (id->flags & CGROUP_F_RUNTIME_GUESSED)) {
		e = ask_source(r, &r->docker, id->id, info, true);
		if (e == 0)
			return 0;
		err = worse(err, e);
	}
	if (id->runtime == CONTAINER_RUNTIME_UNKNOWN) {
		e = ask_source(r, &r->podman, id->id, info, true);
		if (e == 0) {
			info->runtime = CONTAINER_RUNTIME_PODMAN;
			return 0;
		}
		err = worse(err, e);
	}
	if ((err == -ENOENT || err == -ESRCH) && !r->has_reason)
		set_reason(r, "no runtime knows container %.*s (gone?)", CONTAINER_SHORT_ID,
			   id->id);
	return err == -ENOENT ? -ESRCH : err;
}

/* ---- asynchronous mode ---- */

/* Post an answer; false when the ring is full. Called with a->mu held. */
static bool async_post_locked(struct async *a, const struct async_answer *ans)
{
	uint64_t one = 1;

	if (a->ans_len == CONTAINER_ASYNC_ANSWERS)
		return false;
	a->answers[(a->ans_head + a->ans_len) % CONTAINER_ASYNC_ANSWERS] = *ans;
	a->ans_len++;
	if (write(a->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the caller wakes anyway */
	}
	return true;
}

/* A container named by Docker's event stream (created, started, renamed):
 * into the cache like a lookup's answer, unless the ring has no room for
 * it beside the answers that requests are owed (then a lookup asks). */
static int stream_answer(const struct container_info *info, void *userdata)
{
	struct async *a = ((struct container_resolver *)userdata)->async;
	struct async_answer ans;

	memset(&ans, 0, sizeof(ans));
	ans.info = *info;
	ans.info.runtime = CONTAINER_RUNTIME_DOCKER;
	pthread_mutex_lock(&a->mu);
	if (a->ans_len + a->ask_len + a->busy + 1 < CONTAINER_ASYNC_ANSWERS)
		async_post_locked(a, &ans);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

/* The worker waits on a runtime or loads a library: busy, so that a stop
 * does not wait for it (container_resolver_free); or idle again. Returns
 * false, staying idle, when a stop has begun. */
static bool async_busy(struct async *a, bool busy)
{
	bool ok = true;

	pthread_mutex_lock(&a->mu);
	if (busy && a->stop)
		ok = false;
	else
		a->busy = busy;
	pthread_mutex_unlock(&a->mu);
	return ok;
}

/* Idle: keep Docker's event stream open (retried every
 * CONTAINER_STREAM_RETRY_MS while it cannot be), wait for it or a request. */
static void async_idle(struct container_resolver *r, struct docker_events **stream,
		       uint64_t *retry_at)
{
	struct async *a = r->async;
	struct pollfd p[2] = {{.fd = a->wake, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
	uint64_t now = clock_ms(CLOCK_MONOTONIC), count;
	int timeout = -1;

	if (!*stream && r->docker.path[0] && now >= *retry_at) {
		*retry_at = now + CONTAINER_STREAM_RETRY_MS;
		if (access(r->docker.path, F_OK) < 0)
			return;
		/* Opening may wait for the daemon: busy meanwhile. */
		if (!async_busy(a, true))
			return;
		if (docker_events_open(r->docker.path, r->async_timeout_ms, stream, NULL) < 0)
			*stream = NULL;
		async_busy(a, false);
		return; /* the loop looks at stop and requests first */
	}
	if (*stream)
		p[1].fd = docker_events_fd(*stream);
	else if (r->docker.path[0])
		timeout = *retry_at > now ? (int)(*retry_at - now) : 0;
	if (poll(p, 2, timeout) <= 0)
		return;
	if ((p[0].revents & POLLIN) && read(a->wake, &count, sizeof(count)) < 0) {
		/* EAGAIN: another wake-up took it */
	}
	if (*stream && p[1].revents && docker_events_read(*stream, stream_answer, r) < 0) {
		/* The daemon went away or restarted: open it again later. */
		docker_events_close(*stream);
		*stream = NULL;
	}
}

/* Where a CRI socket is there to ask, libcurl is loaded before the first
 * question rather than during it: loading takes 20-50 ms, most of the
 * reorder window a container's first event waits in. Busy meanwhile. */
static void async_prepare(struct container_resolver *r)
{
	struct async *a = r->async;

	if ((!r->cri_containerd.path[0] || access(r->cri_containerd.path, F_OK) < 0) &&
	    (!r->cri_crio.path[0] || access(r->cri_crio.path, F_OK) < 0))
		return;
	if (!async_busy(a, true))
		return;
	cri_prepare();
	async_busy(a, false);
}

static void *async_worker(void *arg)
{
	struct container_resolver *r = arg;
	struct async *a = r->async;
	struct docker_events *stream = NULL;
	uint64_t retry_at = 0;
	bool orphaned;

	async_prepare(r);
	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct cgroup_identity id;
		struct async_answer ans;

		if (a->stop)
			break;
		if (!a->ask_len) {
			pthread_mutex_unlock(&a->mu);
			async_idle(r, &stream, &retry_at);
			pthread_mutex_lock(&a->mu);
			continue;
		}
		id = a->ask[a->ask_head];
		a->ask_head = (a->ask_head + 1) % CONTAINER_ASYNC_QUEUE;
		a->ask_len--;
		a->busy = true; /* a query: a stop does not wait for it */
		pthread_mutex_unlock(&a->mu);

		memset(&ans, 0, sizeof(ans));
		r->has_reason = false;
		ans.error = fetch(r, &id, &ans.info);
		if (ans.error < 0 && r->has_reason)
			snprintf(ans.reason, sizeof(ans.reason), "%s", r->reason);
		/* The runtime's id is the full one; the cache key stays the
		 * one asked. */
		event_copy_str(ans.info.id, sizeof(ans.info.id), id.id, strlen(id.id));
		if (ans.info.runtime == CONTAINER_RUNTIME_NONE ||
		    ans.info.runtime == CONTAINER_RUNTIME_UNKNOWN)
			ans.info.runtime = id.runtime;

		pthread_mutex_lock(&a->mu);
		a->busy = false;
		/* Room is kept for the answer of every request taken
		 * (async_request, stream_answer). */
		async_post_locked(a, &ans);
	}
	orphaned = a->orphaned;
	pthread_mutex_unlock(&a->mu);
	docker_events_close(stream);
	if (orphaned) {
		/* container_resolver_free() left while this thread was busy. */
		r->async = NULL;
		async_free(a);
		container_resolver_free(r);
	}
	return NULL;
}

static void async_free(struct async *a)
{
	pthread_mutex_destroy(&a->mu);
	if (a->efd >= 0)
		close(a->efd);
	if (a->wake >= 0)
		close(a->wake);
	free(a->answers);
	free(a);
}

int container_resolver_start_async(struct container_resolver *r)
{
	struct async *a;
	int e;

	if (r->async)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->mu, NULL);
	a->answers = calloc(CONTAINER_ASYNC_ANSWERS, sizeof(*a->answers));
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!a->answers || a->efd < 0 || a->wake < 0) {
		e = a->efd < 0 || a->wake < 0 ? -errno : -ENOMEM;
		async_free(a);
		return e;
	}
	r->async = a;
	e = -pthread_create(&a->thread, NULL, async_worker, r);
	if (e) {
		r->async = NULL;
		async_free(a);
		return e;
	}
	return 0;
}

int container_resolver_fd(const struct container_resolver *r)
{
	return r->async ? r->async->efd : -1;
}

/* Queue a lookup. Returns 0, or -EAGAIN when the queue (requests plus
 * answers not yet polled) is full. */
static int async_request(struct container_resolver *r, const struct cgroup_identity *id)
{
	struct async *a = r->async;
	uint64_t one = 1;
	int e = 0;

	pthread_mutex_lock(&a->mu);
	if (a->ask_len == CONTAINER_ASYNC_QUEUE ||
	    a->ask_len + a->ans_len + a->busy + 1 >= CONTAINER_ASYNC_ANSWERS) {
		e = -EAGAIN;
	} else {
		a->ask[(a->ask_head + a->ask_len) % CONTAINER_ASYNC_QUEUE] = *id;
		a->ask_len++;
		if (write(a->wake, &one, sizeof(one)) < 0) {
			/* EAGAIN: the worker is woken already */
		}
	}
	pthread_mutex_unlock(&a->mu);
	return e;
}

/* Not fresh in the cache: ask the worker (once per container at a time).
 * Names known before (expired) serve meanwhile; without any, -EINPROGRESS. */
static int lookup_async(struct container_resolver *r, const struct cgroup_identity *id,
			struct cache_entry *e, const struct container_info **ret)
{
	bool stale = e && !e->negative && !e->placeholder;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);

	/* An answer is owed for every request; one far overdue is asked
	 * again rather than waited for forever. */
	if (!e || !e->pending || now > e->pending_since + 2ull * r->async_timeout_ms) {
		if (async_request(r, id) < 0) {
			r->async_refused++;
			if (stale) {
				*ret = &e->info;
				return 0;
			}
			return -EAGAIN;
		}
		if (!e) {
			e = cache_slot(r, id->id);
			memset(e, 0, sizeof(*e));
			e->used = true;
			e->placeholder = true;
			e->stamp = ++r->stamp;
			event_copy_str(e->info.id, sizeof(e->info.id), id->id, strlen(id->id));
		}
		e->pending = true;
		e->pending_since = now;
	}
	if (stale) {
		*ret = &e->info;
		return 0;
	}
	return -EINPROGRESS;
}

int container_resolver_poll(struct container_resolver *r, const char **ret_reason)
{
	struct async *a = r->async;
	struct async_answer ans;
	uint64_t count;
	int n = 0;

	if (ret_reason)
		*ret_reason = NULL;
	if (!a)
		return 0;
	if (read(a->efd, &count, sizeof(count)) < 0) {
		/* EAGAIN: nothing new since the last poll */
	}
	a->reason[0] = '\0';
	for (;;) {
		struct cache_entry *e;

		pthread_mutex_lock(&a->mu);
		if (!a->ans_len) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		ans = a->answers[a->ans_head];
		a->ans_head = (a->ans_head + 1) % CONTAINER_ASYNC_ANSWERS;
		a->ans_len--;
		pthread_mutex_unlock(&a->mu);
		n++;

		e = cache_find(r, ans.info.id);
		if (ans.error == 0) {
			r->answers++;
			cache_store(r, &ans.info);
			continue;
		}
		if (!a->reason[0] && ans.reason[0])
			snprintf(a->reason, sizeof(a->reason), "%s", ans.reason);
		if (e && !e->negative && !e->placeholder) {
			/* Old names beat none (see container_lookup). */
			e->pending = false;
			e->expires_ms = clock_ms(CLOCK_MONOTONIC) + r->positive_ttl_ms;
			continue;
		}
		cache_store_negative(r, ans.info.id, ans.error);
	}
	if (ret_reason && a->reason[0])
		*ret_reason = a->reason;
	return n;
}

int container_lookup(struct container_resolver *r, const struct cgroup_identity *id,
		     const struct container_info **ret, const char **ret_reason)
{
	struct container_info info;
	struct cache_entry *e;
	int err;

	if (!r->async)
		r->has_reason = false; /* the worker's, in asynchronous mode */
	if (ret_reason)
		*ret_reason = NULL;
	if (id->runtime == CONTAINER_RUNTIME_SYSTEMD) {
		memset(&r->scratch, 0, sizeof(r->scratch));
		r->scratch.runtime = CONTAINER_RUNTIME_SYSTEMD;
		event_copy_str(r->scratch.name, sizeof(r->scratch.name), id->id, strlen(id->id));
		*ret = &r->scratch;
		return 0;
	}
	if (id->runtime == CONTAINER_RUNTIME_NONE || !id->id[0])
		return -ENOENT;
	e = cache_find(r, id->id);
	if (e && !e->negative && !e->placeholder && clock_ms(CLOCK_MONOTONIC) < e->expires_ms) {
		*ret = &e->info;
		return 0;
	}
	if (e && e->negative && clock_ms(CLOCK_MONOTONIC) < e->expires_ms)
		return -EAGAIN;
	if (r->async)
		return lookup_async(r, id, e, ret);
	memset(&info, 0, sizeof(info));
	err = fetch(r, id, &info);
	if (err < 0 && e && !e->negative) {
		/* Old names beat none: a container that exited still has
		 * events in flight, and a daemon away keeps them too. */
		e->expires_ms = clock_ms(CLOCK_MONOTONIC) + r->positive_ttl_ms;
		*ret = &e->info;
		return 0;
	}
	if (err < 0) {
		cache_store_negative(r, id->id, err);
		if (ret_reason && r->has_reason)
			*ret_reason = r->reason;
		return err;
	}
	r->answers++;
	/* The runtime's id is the full one; the cache key stays the one asked. */
	event_copy_str(info.id, sizeof(info.id), id->id, strlen(id->id));
	if (info.runtime == CONTAINER_RUNTIME_NONE || info.runtime == CONTAINER_RUNTIME_UNKNOWN)
		info.runtime = id->runtime;
	*ret = &cache_store(r, &info)->info;
	return 0;
}

int container_identify_pid(struct container_resolver *r, uint32_t pid, struct cgroup_identity *ret)
{
	char path[PATH_MAX + 32];
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/cgroup", r->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	for (;;) {
		ssize_t n = read(fd, r->cgroup_file + len, sizeof(r->cgroup_file) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(r->cgroup_file)) {
			/* Over the limit: drop the cut last line rather than
			 * parse half a path. */
			while (len > 0 && r->cgroup_file[len - 1] != '\n')
				len--;
			break;
		}
	}
	close(fd);
	if (len == 0)
		return -ESRCH; /* a zombie has no cgroup file content */
	return cgroup_identify_proc_file(r->cgroup_file, len, ret);
}

/* Which container or unit an event's task is in. */
static int identify_event(struct container_resolver *r, const struct event *ev,
			  struct cgroup_identity *ret)
{
	struct cgroup_identity leaf, full;
	struct cgroup_entry *c = NULL;
	int leaf_r = -ENOENT, e;

	if (EVENT_HAS(ev, ITEM_CGROUP))
		leaf_r = cgroup_identify_path(ev->cgroup, strnlen(ev->cgroup, sizeof(ev->cgroup)),
					      &leaf);
	if (leaf_r == 0 && leaf.runtime != CONTAINER_RUNTIME_UNKNOWN &&
	    !(leaf.flags & CGROUP_F_RUNTIME_GUESSED)) {
		*ret = leaf;
		return 0;
	}
	/* The leaf alone is ambiguous (a bare id) or names nothing: the full
	 * path in /proc says more, read once per cgroup. */
	if (EVENT_HAS(ev, ITEM_CGROUP_ID)) {
		c = &r->cgroups[ev->cgroup_id % CONTAINER_CGROUP_CACHE_SIZE];
		if (c->used && c->cgroup_id == ev->cgroup_id) {
			if (c->result == 0)
				*ret = c->id;
			return c->result;
		}
	}
	if (!EVENT_HAS(ev, ITEM_PID) || ev->pid == 0)
		goto leaf_only;
	e = container_identify_pid(r, ev->pid, &full);
	if (e == -ESRCH)
		goto leaf_only; /* gone: not cached, the leaf is all there is */
	if (e < 0 && e != -ENOENT)
		goto leaf_only;
	if (c) {
		c->used = true;
		c->cgroup_id = ev->cgroup_id;
		c->result = e;
		if (e == 0)
			c->id = full;
	}
	if (e == 0) {
		*ret = full;
		return 0;
	}
leaf_only:
	if (leaf_r == 0)
		*ret = leaf;
	return leaf_r;
}

static void set_field(struct event *ev, enum event_item item, char *dst, size_t size, const char *s)
{
	if (!s || !s[0] || EVENT_HAS(ev, item))
		return;
	event_copy_str(dst, size, s, strlen(s));
	EVENT_SET(ev, item);
}

int container_resolve_event(struct container_resolver *r, struct event *ev, const char **ret_reason)
{
	const struct container_info *info = NULL;
	struct cgroup_identity id;
	int e;

	if (ret_reason)
		*ret_reason = NULL;
	if (identify_event(r, ev, &id) < 0)
		return 0;
	e = container_lookup(r, &id, &info, ret_reason);
	if (id.runtime != CONTAINER_RUNTIME_SYSTEMD)
		set_field(ev, ITEM_CONTAINER_ID, ev->container_id, sizeof(ev->container_id), id.id);
	if (e == 0) {
		set_field(ev, ITEM_RUNTIME, ev->runtime, sizeof(ev->runtime),
			  container_runtime_name(info->runtime));
		set_field(ev, ITEM_CONTAINER, ev->container, sizeof(ev->container), info->name);
		set_field(ev, ITEM_POD, ev->pod, sizeof(ev->pod), info->pod);
		set_field(ev, ITEM_NAMESPACE, ev->namespace_, sizeof(ev->namespace_),
			  info->namespace_);
		set_field(ev, ITEM_IMAGE, ev->image, sizeof(ev->image), info->image);
		return 1;
	}
	set_field(ev, ITEM_RUNTIME, ev->runtime, sizeof(ev->runtime),
		  container_runtime_name(id.runtime));
	return e;
}

struct prime_ctx {
	struct container_resolver *r;
	enum container_runtime runtime;
};

static int prime_one(const struct container_info *info, void *userdata)
{
	struct prime_ctx *p = userdata;
	struct container_info copy = *info;

	copy.runtime = p->runtime;
	cache_store(p->r, &copy);
	return 0;
}

int container_resolver_prime(struct container_resolver *r, const char **ret_reason)
{
	struct source *sources[] = {&r->docker, &r->podman};
	enum container_runtime runtimes[] = {CONTAINER_RUNTIME_DOCKER, CONTAINER_RUNTIME_PODMAN};
	int total = 0, err = 0;

	r->has_reason = false;
	if (ret_reason)
		*ret_reason = NULL;
	for (unsigned i = 0; i < 2; i++) {
		struct source *s = sources[i];
		struct prime_ctx ctx = {r, runtimes[i]};
		const char *why = NULL;
		int e;

		/* No socket file: that runtime is simply not installed. */
		if (!s->path[0] || access(s->path, F_OK) < 0)
			continue;
		if (clock_ms(CLOCK_MONOTONIC) < s->down_until)
			continue;
		e = docker_list(s->path, r->timeout_ms, prime_one, &ctx, &why);
		if (e >= 0) {
			r->answers++;
			total += e;
			s->last_error = 0;
			continue;
		}
		if (source_down(e))
			s->down_until = clock_ms(CLOCK_MONOTONIC) + r->backoff_ms;
		s->last_error = e;
		set_reason(r, "%s %s: %s: %s", s->label, s->path, why ? why : "failed",
			   strerror(-e));
		err = err ? err : e;
	}
	if (err && ret_reason)
		*ret_reason = r->reason;
	return err ? err : total;
}
