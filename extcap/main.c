/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ebpfdump: the extcap program. main() reads as the protocol: parse the
 * options, answer Wireshark's queries, or run the capture. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "extcap/capture.h"
#include "extcap/extcap.h"
#include "extcap/log.h"
#include "extcap/options.h"
#include "remote/remote.h"

int main(int argc, char **argv)
{
	struct options o;
	char err[512] = "";
	int r;

	r = options_parse(argc, argv, &o, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ebpfdump: %s\n", err);
		return EXIT_FAILURE_USAGE;
	}
	r = log_setup(o.debug, o.debug_file);
	if (r < 0) {
		fprintf(stderr, "ebpfdump: cannot open --debug-file %s: %s\n", o.debug_file,
			strerror(-r));
		return EXIT_FAILURE_USAGE;
	}
	if (o.extcap_version)
		log_debug("Wireshark extcap version %s", o.extcap_version);

	switch (o.action) {
	case ACTION_HELP:
		fputs(options_usage(), stdout);
		r = EXIT_OK;
		break;
	case ACTION_VERSION:
		printf("ebpfdump %s\n", EBPFDUMP_VERSION);
		r = EXIT_OK;
		break;
	case ACTION_LIST_INTERFACES:
		r = extcap_list_interfaces(stdout) < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
		break;
	case ACTION_LIST_DLTS:
		r = extcap_list_dlts(stdout, &o) < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
		break;
	case ACTION_CONFIG:
		r = extcap_list_config(stdout, &o) < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
		break;
	case ACTION_CAPTURE:
	case ACTION_PUBLISH:
		r = capture_run(&o);
		break;
	case ACTION_KEYGEN: {
		char pub[128] = "", kerr[512] = "";

		if (remote_keygen(o.zmq_keygen, pub, kerr, sizeof(kerr)) < 0) {
			log_error("%s", kerr);
			r = EXIT_FAILURE_RUN;
			break;
		}
		printf("%s\n", pub);
		log_info("wrote %s.key (secret, keep it on this host) and %s.pub (give it to the "
			 "other side)",
			 o.zmq_keygen, o.zmq_keygen);
		r = EXIT_OK;
		break;
	}
	case ACTION_NONE:
	default:
		fprintf(stderr, "ebpfdump: nothing to do; see ebpfdump --help\n");
		r = EXIT_FAILURE_USAGE;
		break;
	}
	log_close();
	return r;
}
