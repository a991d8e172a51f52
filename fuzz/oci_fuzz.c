/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the OCI config.json annotation parser oci_parse_config
 * (enrich/oci.h). Checks: only 0, -EBADMSG or -ENOMEM come back and every
 * string it fills is NUL-terminated inside its field.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_info info;
	int r;

	memset(&info, 0, sizeof(info));
	r = oci_parse_config((const char *)data, size, &info);
	if (r != 0 && r != -EBADMSG && r != -ENOMEM)
		abort();
	if (!memchr(info.name, '\0', sizeof(info.name)) || !memchr(info.pod, '\0', sizeof(info.pod)) ||
	    !memchr(info.namespace_, '\0', sizeof(info.namespace_)) ||
	    !memchr(info.image, '\0', sizeof(info.image)) ||
	    !memchr(info.sandbox_id, '\0', sizeof(info.sandbox_id)))
		abort();
	return 0;
}
