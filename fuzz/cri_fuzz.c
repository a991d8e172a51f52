/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the CRI ContainerStatusResponse decoder cri_decode_status
 * (enrich/cri.h), protobuf from a runtime's socket. Checks: only 0 or
 * -EBADMSG come back and every string it fills is NUL-terminated inside
 * its field.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/cri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_info info;
	int r;

	memset(&info, 0, sizeof(info));
	r = cri_decode_status(data, size, &info);
	if (r != 0 && r != -EBADMSG)
		abort();
	if (!memchr(info.id, '\0', sizeof(info.id)) || !memchr(info.name, '\0', sizeof(info.name)) ||
	    !memchr(info.pod, '\0', sizeof(info.pod)) ||
	    !memchr(info.namespace_, '\0', sizeof(info.namespace_)) ||
	    !memchr(info.image, '\0', sizeof(info.image)))
		abort();
	return 0;
}
