/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: extcap argument parsing options_parse (extcap/options.h).
 *
 * Input: NUL-separated arguments (Wireshark passes each as its own argv
 * element), at most OPTIONS_FUZZ_ARGS_MAX of them after argv[0]. Checks:
 * a rejection has a reason, an acceptance stays within the documented
 * limits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extcap/options.h"

#define OPTIONS_FUZZ_ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[OPTIONS_FUZZ_ARGS_MAX + 2];
	char *text = malloc(size + 1);
	struct options opt;
	char err[256];
	int argc = 1, r;
	size_t i, start = 0;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	argv[0] = "ebpfdump";
	for (i = 0; i <= size && argc <= OPTIONS_FUZZ_ARGS_MAX; i++) {
		if (i == size || text[i] == '\0') {
			if (i > start || i < size)
				argv[argc++] = text + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	err[0] = '\0';
	memset(&opt, 0, sizeof(opt));
	r = options_parse(argc, argv, &opt, err, sizeof(err));
	if (r != 0) {
		if (r != -EINVAL || !err[0])
			abort();
	} else {
		if (opt.n_zmq_connect > OPTIONS_ZMQ_CONNECT_MAX ||
		    opt.duration_s > OPTIONS_DURATION_MAX ||
		    (opt.ringbuf_mb && (opt.ringbuf_mb < OPTIONS_RINGBUF_MB_MIN ||
					opt.ringbuf_mb > OPTIONS_RINGBUF_MB_MAX)) ||
		    opt.snaplen > OPTIONS_SNAPLEN_MAX || opt.window_ms > OPTIONS_WINDOW_MS_MAX ||
		    opt.flows > OPTIONS_FLOWS_MAX || (opt.comm && strlen(opt.comm) > OPTIONS_COMM_MAX) ||
		    opt.n_ifnames > OPTIONS_IFNAMES_MAX ||
		    (opt.n_ifnames && strlen(opt.ifnames[opt.n_ifnames - 1]) > OPTIONS_IFNAME_MAX) ||
		    (opt.host && strlen(opt.host) > OPTIONS_HOST_MAX))
			abort();
	}
	free(text);
	return 0;
}
