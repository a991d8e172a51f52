/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the cgroup path parsers (enrich/cgroup.h), the input taken
 * both as one path and as /proc/PID/cgroup text.
 *
 * Checks: results are NUL-terminated and within their limits, a container
 * runtime comes with a well-formed id, and failure leaves *ret untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, const struct cgroup_identity *id)
{
	static const struct cgroup_identity canary = {.runtime = CONTAINER_RUNTIME_MAX,
						     .flags = 0xdead};

	if (r != 0) {
		if (r != -ENOENT && r != -EINVAL)
			abort();
		if (memcmp(id, &canary, sizeof(canary)) != 0)
			abort();
		return;
	}
	if (id->runtime <= CONTAINER_RUNTIME_NONE || id->runtime >= CONTAINER_RUNTIME_MAX)
		abort();
	if (!memchr(id->id, '\0', sizeof(id->id)) || !memchr(id->pod_uid, '\0', sizeof(id->pod_uid)))
		abort();
	if (id->runtime != CONTAINER_RUNTIME_SYSTEMD &&
	    !cgroup_is_container_id(id->id, strlen(id->id)))
		abort();
	if (!container_runtime_name(id->runtime))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_identity id;
	const char *s = (const char *)data;

	memset(&id, 0, sizeof(id));
	id.runtime = CONTAINER_RUNTIME_MAX;
	id.flags = 0xdead;
	check(cgroup_identify_path(s, size, &id), &id);
	memset(&id, 0, sizeof(id));
	id.runtime = CONTAINER_RUNTIME_MAX;
	id.flags = 0xdead;
	check(cgroup_identify_proc_file(s, size, &id), &id);
	(void)cgroup_is_container_id(s, size);
	return 0;
}
