/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup path → container identity: the path forms of each runtime. */
#include "enrich/cgroup.h"

#include <errno.h>
#include <string.h>

static const char *const runtime_names[CONTAINER_RUNTIME_MAX] = {
    [CONTAINER_RUNTIME_NONE] = "",	     [CONTAINER_RUNTIME_UNKNOWN] = "",
    [CONTAINER_RUNTIME_DOCKER] = "docker",   [CONTAINER_RUNTIME_CONTAINERD] = "containerd",
    [CONTAINER_RUNTIME_CRIO] = "cri-o",	     [CONTAINER_RUNTIME_PODMAN] = "podman",
    [CONTAINER_RUNTIME_SYSTEMD] = "systemd",
};

const char *container_runtime_name(enum container_runtime runtime)
{
	if ((unsigned)runtime >= CONTAINER_RUNTIME_MAX)
		return NULL;
	return runtime_names[runtime];
}

/* Leaf spellings "<prefix><id>[.scope]". Longer prefixes that share a start
 * with shorter ones (crio-conmon- / crio-) come first. */
static const struct {
	const char *prefix;
	enum container_runtime runtime;
	unsigned flags;
} leaf_forms[] = {
    {"docker-", CONTAINER_RUNTIME_DOCKER, 0},
    {"cri-containerd-", CONTAINER_RUNTIME_CONTAINERD, 0},
    {"nerdctl-", CONTAINER_RUNTIME_CONTAINERD, 0},
    {"crio-conmon-", CONTAINER_RUNTIME_CRIO, CGROUP_F_MONITOR},
    {"crio-", CONTAINER_RUNTIME_CRIO, 0},
    {"libpod-conmon-", CONTAINER_RUNTIME_PODMAN, CGROUP_F_MONITOR},
    {"libpod-", CONTAINER_RUNTIME_PODMAN, 0},
    {NULL, 0, 0},
};

/* systemd's cgroupsPath spelling "slice:prefix:id", seen literally as a path
 * component when a runtime is told the systemd form but uses cgroupfs. */
static const struct {
	const char *middle;
	enum container_runtime runtime;
} colon_forms[] = {
    {"docker", CONTAINER_RUNTIME_DOCKER},
    {"cri-containerd", CONTAINER_RUNTIME_CONTAINERD},
    {"crio", CONTAINER_RUNTIME_CRIO},
    {"libpod", CONTAINER_RUNTIME_PODMAN},
    {NULL, 0},
};

bool cgroup_is_container_id(const char *s, size_t len)
{
	if (len != CGROUP_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool equals(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* One match found while walking a path. */
struct match {
	enum container_runtime runtime;
	unsigned flags;
	const char *id;
	size_t id_len;
};

/* "pod<uid>" (cgroupfs) or "kubepods[-qos]-pod<uid_with_underscores>.slice"
 * (systemd, which reserves '-' as its hierarchy separator). */
static bool match_pod_uid(const char *c, size_t len, char *out, size_t size)
{
	const char *uid = NULL;
	size_t n = 0;

	if (has_prefix(c, len, "pod") && len > 3) {
		uid = c + 3;
		n = len - 3;
	} else if (has_prefix(c, len, "kubepods") && has_suffix(c, len, ".slice")) {
		size_t body = len - strlen(".slice");

		for (size_t i = body; i >= 4; i--) {
			if (memcmp(c + i - 4, "-pod", 4) == 0) {
				uid = c + i;
				n = body - i;
				break;
			}
		}
	}
	if (!uid || n == 0 || n >= size)
		return false;
	/* check everything first: out keeps an earlier match on failure */
	for (size_t i = 0; i < n; i++) {
		char ch = uid[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || ch == '-' ||
		      ch == '_'))
			return false;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = uid[i] == '_' ? '-' : uid[i];
	out[n] = '\0';
	return true;
}

/* A component naming a container by a runtime-specific spelling. The
 * colon form also names the pod's slice: its uid goes to pod_uid. */
static bool match_spelled(const char *c, size_t len, struct match *m, char *pod_uid,
			  size_t pod_uid_size)
{
	const char *colon;

	if (has_suffix(c, len, ".scope"))
		len -= strlen(".scope");
	for (unsigned i = 0; leaf_forms[i].prefix; i++) {
		size_t n = strlen(leaf_forms[i].prefix);

		if (has_prefix(c, len, leaf_forms[i].prefix) &&
		    cgroup_is_container_id(c + n, len - n)) {
			m->runtime = leaf_forms[i].runtime;
			m->flags = leaf_forms[i].flags;
			m->id = c + n;
			m->id_len = len - n;
			return true;
		}
	}
	colon = memchr(c, ':', len);
	if (colon) {
		const char *mid = colon + 1;
		const char *end = c + len;
		const char *colon2 = memchr(mid, ':', (size_t)(end - mid));

		if (!colon2 || !cgroup_is_container_id(colon2 + 1, (size_t)(end - colon2 - 1)))
			return false;
		for (unsigned i = 0; colon_forms[i].middle; i++) {
			if (equals(mid, (size_t)(colon2 - mid), colon_forms[i].middle)) {
				m->runtime = colon_forms[i].runtime;
				m->flags = 0;
				m->id = colon2 + 1;
				m->id_len = (size_t)(end - colon2 - 1);
				match_pod_uid(c, (size_t)(colon - c), pod_uid, pod_uid_size);
				return true;
			}
		}
	}
	return false;
}

int cgroup_identify_path(const char *path, size_t len, struct cgroup_identity *ret)
{
	struct match best = {0};
	const char *service = NULL, *parent = NULL;
	size_t service_len = 0, parent_len = 0;
	char pod_uid[CGROUP_POD_UID_MAX + 1] = "";
	bool kubepods = false;
	size_t i = 0;

	if (!path || !ret || len > CGROUP_PATH_MAX)
		return -EINVAL;
	while (i < len) {
		const char *c;
		size_t n = 0;
		struct match m;

		while (i < len && path[i] == '/')
			i++;
		c = path + i;
		while (i < len && path[i] != '/') {
			i++;
			n++;
		}
		if (n == 0)
			break;
		if (has_prefix(c, n, "kubepods"))
			kubepods = true;
		if (match_pod_uid(c, n, pod_uid, sizeof(pod_uid))) {
			/* the uid is kept; a pod slice is never a container */
		} else if (match_spelled(c, n, &m, pod_uid, sizeof(pod_uid))) {
			best = m;
		} else if (cgroup_is_container_id(c, n)) {
			/* A bare id: the parent says whose ("/docker/<id>",
			 * "/k8s.io/<id>"); under
			 * kubepods it is the CRI runtime's, containerd on most
			 * clusters; otherwise unknown. */
			best.id = c;
			best.id_len = n;
			best.flags = 0;
			if (parent && equals(parent, parent_len, "docker")) {
				best.runtime = CONTAINER_RUNTIME_DOCKER;
			} else if (parent && equals(parent, parent_len, "k8s.io")) {
				/* containerd's CRI namespace, its cgroup
				 * parent when no kubelet sets one */
				best.runtime = CONTAINER_RUNTIME_CONTAINERD;
			} else if (kubepods) {
				best.runtime = CONTAINER_RUNTIME_CONTAINERD;
				best.flags = CGROUP_F_RUNTIME_GUESSED;
			} else {
				best.runtime = CONTAINER_RUNTIME_UNKNOWN;
			}
		} else if (n > strlen(".service") && has_suffix(c, n, ".service") &&
			   n <= CGROUP_IDENTITY_MAX) {
			service = c;
			service_len = n;
		}
		parent = c;
		parent_len = n;
	}

	if (best.id) {
		memset(ret, 0, sizeof(*ret));
		ret->runtime = best.runtime;
		ret->flags = best.flags;
		memcpy(ret->id, best.id, best.id_len);
		memcpy(ret->pod_uid, pod_uid, sizeof(pod_uid));
		return 0;
	}
	if (service) {
		memset(ret, 0, sizeof(*ret));
		ret->runtime = CONTAINER_RUNTIME_SYSTEMD;
		memcpy(ret->id, service, service_len);
		return 0;
	}
	return -ENOENT;
}

/* How much a match says: a runtime spelled out beats a guessed one, which
 * beats a systemd unit. */
static int identity_rank(const struct cgroup_identity *id)
{
	if (id->runtime == CONTAINER_RUNTIME_SYSTEMD)
		return 1;
	if (id->runtime == CONTAINER_RUNTIME_UNKNOWN || (id->flags & CGROUP_F_RUNTIME_GUESSED))
		return 2;
	return 3;
}

int cgroup_identify_proc_file(const char *text, size_t len, struct cgroup_identity *ret)
{
	struct cgroup_identity best, cur;
	int best_rank = 0;
	size_t i = 0;

	if (!text || !ret)
		return -EINVAL;
	while (i < len) {
		const char *line = text + i, *nl, *c1, *c2;
		size_t line_len;

		nl = memchr(line, '\n', len - i);
		line_len = nl ? (size_t)(nl - line) : len - i;
		i += line_len + 1;
		/* "hierarchy:controllers:path"; the path itself may hold ':' */
		c1 = memchr(line, ':', line_len);
		if (!c1)
			continue;
		c2 = memchr(c1 + 1, ':', line_len - (size_t)(c1 + 1 - line));
		if (!c2)
			continue;
		c2++;
		if (cgroup_identify_path(c2, line_len - (size_t)(c2 - line), &cur) < 0)
			continue;
		if (identity_rank(&cur) > best_rank) {
			best = cur;
			best_rank = identity_rank(&cur);
		}
	}
	if (!best_rank)
		return -ENOENT;
	*ret = best;
	return 0;
}
