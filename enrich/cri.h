/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal client of the Kubernetes Container Runtime Interface (CRI):
 * one call, runtime.v1.RuntimeService/ContainerStatus, on a runtime's unix
 * socket (containerd's /run/containerd/containerd.sock, CRI-O's
 * /var/run/crio/crio.sock), for a container's name, image and the pod
 * labels the kubelet sets.
 *
 * gRPC is HTTP/2 with a 5-byte frame per message and the status in the
 * trailers; libcurl speaks HTTP/2 over the unix socket ("prior
 * knowledge", no TLS). The request and the answer are protocol buffers,
 * encoded and decoded here for the few fields needed (unknown fields are
 * skipped, as protobuf requires). One deadline covers the whole call.
 * Does not print; failures come back as a negative errno and a short
 * static reason text.
 */
#ifndef EBPFDUMP_ENRICH_CRI_H
#define EBPFDUMP_ENRICH_CRI_H

#include <stddef.h>
#include <stdint.h>

#include "enrich/container.h"

/* Largest answer accepted (a status is a few KiB; its verbose info map is
 * not asked for). */
#define CRI_RESPONSE_MAX (1u << 20)
/* Longest container id sent. */
#define CRI_ID_MAX 128u

/* ContainerStatus of one container. Fills *ret (runtime as given) and
 * returns 0, or: -EINVAL (id not a plain name), -ENOENT/-ECONNREFUSED...
 * (no runtime on that socket), -ETIMEDOUT, -ESRCH (gRPC NOT_FOUND: the
 * runtime does not know it), -EBADMSG (not gRPC, another gRPC error, a
 * malformed message), -EMSGSIZE, -ENOMEM, -ENOTSUP (libcurl without
 * HTTP/2). *ret_reason (may be NULL) gets a static text. */
int cri_container_status(const char *socket_path, const char *id, unsigned timeout_ms,
			 enum container_runtime runtime, struct container_info *ret,
			 const char **ret_reason);

/* Loads libcurl now, in the caller's thread (20-50 ms, more on a busy
 * machine), so that the first ContainerStatus costs the query only. Safe
 * to call from any thread, any number of times. */
void cri_prepare(void);

/* The protobuf part alone (for tests and fuzzing): decode a
 * ContainerStatusResponse message into *ret. Returns 0 or -EBADMSG. */
int cri_decode_status(const uint8_t *msg, size_t len, struct container_info *ret);

#endif
