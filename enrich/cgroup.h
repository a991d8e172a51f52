/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup path → container identity: which runtime runs a task, and the id
 * of its container (or the systemd unit that holds it).
 *
 * Pure functions over strings, no file access, so every path form is
 * table-tested (tests/fixtures/containers/cgroup_paths.tsv). Accepts a whole
 * path ("/kubepods/burstable/pod<uid>/<id>"), a bare leaf as the kernel
 * side sends it ("docker-<id>.scope", "<id>"), and /proc/PID/cgroup text
 * (cgroup v1 "N:controllers:/path" lines and the v2 "0::/path" line).
 *
 * Forms recognized (v1 cgroupfs and v2/systemd spellings):
 *   docker      /docker/<id>, docker-<id>.scope
 *   containerd  cri-containerd-<id>.scope, kubepods/.../pod<uid>/<id>,
 *               nerdctl-<id>.scope
 *   cri-o       crio-<id>, crio-<id>.scope, crio-conmon-<id>.scope
 *   podman      libpod-<id>, libpod-<id>.scope, libpod-conmon-<id>.scope
 *   systemd     <unit>.service (the innermost service unit)
 * A container id is exactly CGROUP_CONTAINER_ID_LEN lowercase hex digits, as
 * every runtime above generates them; anything else is not a container.
 */
#ifndef EBPFDUMP_ENRICH_CGROUP_H
#define EBPFDUMP_ENRICH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

/* Runtime ids; printed with container_runtime_name(). */
enum container_runtime {
	CONTAINER_RUNTIME_NONE = 0,
	CONTAINER_RUNTIME_UNKNOWN, /* a bare container id: some runtime's, not known whose */
	CONTAINER_RUNTIME_DOCKER,
	CONTAINER_RUNTIME_CONTAINERD,
	CONTAINER_RUNTIME_CRIO,
	CONTAINER_RUNTIME_PODMAN,
	CONTAINER_RUNTIME_SYSTEMD,
	CONTAINER_RUNTIME_MAX,
};

/* Container ids are 256-bit values in hex (docker, containerd's CRI, CRI-O,
 * podman all generate them that way). */
#define CGROUP_CONTAINER_ID_LEN 64
/* Longest identity kept: a systemd unit name may be up to 255 bytes. */
#define CGROUP_IDENTITY_MAX 255
/* Kubernetes pod UIDs are 36-character UUIDs; a little room for odd ones. */
#define CGROUP_POD_UID_MAX 64
/* Longest cgroup path looked at; longer input is rejected, not cut. */
#define CGROUP_PATH_MAX 4096

/* Set when the runtime was inferred rather than spelled in the path:
 * a bare id under kubepods/ is containerd's on most clusters, but could be
 * cri-dockerd's, so resolvers should try the other runtimes too. */
#define CGROUP_F_RUNTIME_GUESSED 0x1u
/* The task is the runtime's monitor for the container (conmon), not the
 * container's own process. */
#define CGROUP_F_MONITOR 0x2u

struct cgroup_identity {
	enum container_runtime runtime;
	unsigned flags; /* CGROUP_F_* */
	/* Container id (64 hex), or the unit name for CONTAINER_RUNTIME_SYSTEMD. */
	char id[CGROUP_IDENTITY_MAX + 1];
	/* Kubernetes pod UID from a kubepods path, dashes restored; "" if none. */
	char pod_uid[CGROUP_POD_UID_MAX + 1];
};

/* "docker", "containerd", "cri-o", "podman", "systemd"; "" for NONE and
 * UNKNOWN; NULL for an out-of-range value. These strings go into
 * ITEM_RUNTIME (ebpf.runtime). */
const char *container_runtime_name(enum container_runtime runtime);

/* Identify one cgroup path or leaf (len bytes, need not be NUL-terminated).
 * Returns 0 and fills *ret on a container or service, -ENOENT when the path
 * names neither, -EINVAL on NULL or over-long input. *ret is untouched on
 * failure. When several components match (nested containers), the innermost
 * one wins: it is the container the task really runs in. */
int cgroup_identify_path(const char *path, size_t len, struct cgroup_identity *ret);

/* Identify the contents of /proc/PID/cgroup. A container on any line beats a
 * systemd unit on another (hybrid v1/v2 hosts keep the container in the v1
 * lines and a unit or "/" in the v2 line). Returns as cgroup_identify_path. */
int cgroup_identify_proc_file(const char *text, size_t len, struct cgroup_identity *ret);

/* True when s (len bytes) is a well-formed container id. */
bool cgroup_is_container_id(const char *s, size_t len);

#endif
