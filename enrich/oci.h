/* SPDX-License-Identifier: GPL-2.0-or-later */
/* containerd and CRI-O names from the OCI bundle each runtime writes for a
 * running container: config.json's "annotations".
 *
 * Where the bundles live (roots are configurable, for tests and odd hosts):
 *   containerd  <root>/<namespace>/<id>/config.json
 *               root /run/containerd/io.containerd.runtime.v2.task,
 *               namespace "k8s.io" for Kubernetes, "moby" for Docker CE
 *   CRI-O       <root>/<id>/userdata/config.json,
 *               root /run/containers/storage/overlay-containers
 *   podman      the same layout under /var/lib/containers/storage
 * Annotations read (Kubernetes CRI, as containerd and CRI-O write them):
 *   pod        io.kubernetes.cri.sandbox-name, io.kubernetes.pod.name
 *   namespace  io.kubernetes.cri.sandbox-namespace, io.kubernetes.pod.namespace
 *   container  io.kubernetes.cri.container-name, io.kubernetes.container.name,
 *              nerdctl/name
 *   image      io.kubernetes.cri.image-name, io.kubernetes.cri-o.ImageName
 *   sandbox    io.kubernetes.cri.container-type / io.kubernetes.cri-o.ContainerType
 *              == "sandbox"; io.kubernetes.cri.sandbox-id, io.kubernetes.cri-o.SandboxID
 * Reads files only; does not print.
 */
#ifndef EBPFDUMP_ENRICH_OCI_H
#define EBPFDUMP_ENRICH_OCI_H

#include <stddef.h>

#include "enrich/container.h"

/* Largest config.json read (they are tens of KiB; mounts and env can grow). */
#define OCI_CONFIG_MAX (4u << 20)
/* Deepest JSON nesting accepted (the OCI spec nests about 6 deep). */
#define OCI_JSON_DEPTH_MAX 64
/* containerd namespaces searched under one root. */
#define OCI_NAMESPACES_MAX 64u
/* Longest containerd namespace name kept. */
#define OCI_NAMESPACE_MAX 76u

/* Parse a config.json's annotations (len bytes) into *ret; runtime and id
 * are left as they are. Returns 0 (also when there are no annotations:
 * nothing is known then), -EBADMSG when it is not a JSON object, -ENOMEM. */
int oci_parse_config(const char *json, size_t len, struct container_info *ret);

/* Read and parse one config.json. Returns 0, -ENOENT, -EMSGSIZE (over
 * OCI_CONFIG_MAX), -EBADMSG, or another negative errno of open/read. */
int oci_read_config(const char *path, struct container_info *ret);

/* Find id under a containerd task root, in any namespace. On success
 * fills *ret (runtime CONTAINERD, id) and copies the namespace into
 * ret_namespace (size bytes, may be NULL). Returns 0, -ENOENT (in no
 * namespace), -EINVAL (id is not a plain name), or as oci_read_config. */
int oci_lookup_containerd(const char *root, const char *id, struct container_info *ret,
			  char *ret_namespace, size_t size);

/* Find id under a containers/storage root (CRI-O, podman):
 * <root>/<id>/userdata/config.json. Fills runtime as given. Returns as
 * oci_lookup_containerd. */
int oci_lookup_storage(const char *root, const char *id, enum container_runtime runtime,
		       struct container_info *ret);

#endif
