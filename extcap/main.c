/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ebpfdump: the extcap program. main() reads as the protocol: parse the
 * options, answer Wireshark's queries, or run the capture. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "extcap/capture.h"
#include "extcap/extcap.h"
#include "extcap/log.h"
#include "extcap/options.h"
#include "extcap/privs.h"
#include "event/comment.h"
#include "extcap/offline.h"
#include "remote/remote.h"

/* --merge: the offline merge of a packet capture and an events capture,
 * with the live capture's merge options. */
static int run_merge(const struct options *o)
{
	struct merge_config cfg;
	struct offline_stats st = { 0 };
	char err[OFFLINE_REASON_MAX] = "";
	const struct merge_stats *m = &st.merge;
	int r;

	merge_config_init(&cfg);
	if (o->window_set)
		cfg.window_ns = (uint64_t)o->window_ms * 1000000u;
	cfg.linger_ns = (uint64_t)o->linger_s * 1000000000u;
	cfg.flows.capacity = o->flows;
	r = offline_merge(o->merge_packets, o->merge_events, o->fifo, &cfg,
			  (enum comment_mode)o->comment_mode,
			  o->event_frames ? 0 : OFFLINE_NO_EVENT_FRAMES, &st, err, sizeof(err));
	if (r < 0)
		log_error("%s", err);
	if (r < 0 && !st.packets_written && !st.events_written)
		return EXIT_FAILURE_RUN;
	log_info("%llu packets (%llu with both processes, %llu sender only, %llu receiver "
		 "only, %llu untagged) and %llu events written to %s",
		 (unsigned long long)st.packets_written,
		 (unsigned long long)m->packets_tagged_both,
		 (unsigned long long)m->packets_tagged_sender,
		 (unsigned long long)m->packets_tagged_receiver,
		 (unsigned long long)m->packets_untagged, (unsigned long long)st.events_written,
		 strcmp(o->fifo, "-") ? o->fifo : "standard output");
	if (st.identities_written)
		log_info("%llu processes' details written once each, as Identity frames "
			 "(--packet-comment compact; full writes them on every packet)",
			 (unsigned long long)st.identities_written);
	if (st.comments_missing)
		log_warn("%llu packets were written without their comment (out of memory)",
			 (unsigned long long)st.comments_missing);
	if (st.events_bad)
		log_warn("%llu event frames of %s did not decode and were skipped",
			    (unsigned long long)st.events_bad, o->merge_events);
	return r < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
}

/* A command line that options_parse refused: did it ask for a capture into
 * a fifo (what Wireshark runs)? Read from argv, as the options are not. */
static bool capture_requested(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--capture") == 0)
			return true;
	return false;
}

static const char *argument(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct options o;
	char err[512] = "";
	int r;

	/* A shell starts background jobs with SIGINT ignored: every mode
	 * stops on it (the capture turns these into a clean stop later). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	r = options_parse(argc, argv, &o, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "ebpfdump: %s\n", err);
		if (capture_requested(argc, argv))
			capture_release_reader(argument(argc, argv, "--fifo"),
					       argument(argc, argv, "--extcap-control-in"),
					       argument(argc, argv, "--extcap-control-out"));
		return EXIT_FAILURE_USAGE;
	}
	/* Capabilities granted to the file (-DEBPFDUMP_SETCAP=ON) serve the
	 * kernel probes, packets and the interface list, nothing else; and no
	 * mode lends them to reading or writing the files a user names. */
	switch (o.action) {
	case ACTION_CAPTURE:
	case ACTION_PUBLISH:
	case ACTION_LIST_INTERFACES:
	case ACTION_CONFIG:
		break;
	default:
		if (privs_drop_all_if_borrowed(err, sizeof(err)) < 0) {
			fprintf(stderr, "ebpfdump: %s\n", err);
			return EXIT_FAILURE_RUN;
		}
	}
	privs_as_caller(true);
	r = log_setup(o.debug, o.debug_file);
	privs_as_caller(false);
	log_set_quiet(o.quiet);
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
	case ACTION_MERGE:
		r = run_merge(&o);
		break;
	case ACTION_NONE:
	default:
		fprintf(stderr, "ebpfdump: nothing to do; see ebpfdump --help\n");
		r = EXIT_FAILURE_USAGE;
		break;
	}
	log_close();
	return r;
}
