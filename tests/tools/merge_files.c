/* SPDX-License-Identifier: GPL-2.0-or-later */
/* merge_files: test and bench driver of extcap/offline.
 *
 *   merge_files [--window-ms N] [--pass-tagged] [--flows N] [--comment full|brief|compact]
 *               [--no-event-frames] PACKETS EVENTS OUT
 *
 * The comment is full unless --comment says otherwise (--brief is
 * --comment brief).
 *
 * Merges PACKETS (pcap/pcapng) with EVENTS (an ebpfdump pcapng) into OUT
 * ("-" for stdout) and prints the counters as key=value lines on stdout.
 * Exit status 0, 1 when offline_merge failed (reason on stderr; the
 * counters are still printed), 2 for a bad command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/comment.h"
#include "extcap/offline.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: merge_files [--window-ms N] [--pass-tagged] [--flows N] "
		   "[--comment full|brief|compact] [--no-event-frames] PACKETS EVENTS OUT\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define P(name, v) printf("%s=%llu\n", name, (unsigned long long)(v))

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"window-ms", required_argument, NULL, 'w'},
	    {"pass-tagged", no_argument, NULL, 'p'},
	    {"flows", required_argument, NULL, 'f'},
	    {"brief", no_argument, NULL, 'b'},
	    {"comment", required_argument, NULL, 'c'},
	    {"no-event-frames", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct merge_config cfg;
	struct offline_stats st;
	char err[OFFLINE_REASON_MAX];
	double t0, t1;
	enum comment_mode comment = COMMENT_FULL;
	unsigned flags = 0;
	int c, r;

	merge_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			cfg.window_ns = strtoull(optarg, NULL, 0) * 1000000ull;
			break;
		case 'p':
			cfg.pass_tagged = true;
			break;
		case 'b':
			comment = COMMENT_BRIEF;
			break;
		case 'c':
			if (strcmp(optarg, "full") == 0) {
				comment = COMMENT_FULL;
			} else if (strcmp(optarg, "brief") == 0) {
				comment = COMMENT_BRIEF;
			} else if (strcmp(optarg, "compact") == 0) {
				comment = COMMENT_COMPACT;
			} else {
				usage(stderr);
				return 2;
			}
			break;
		case 'n':
			flags |= OFFLINE_NO_EVENT_FRAMES;
			break;
		case 'f':
			cfg.flows.capacity = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return 2;
	}
	t0 = now_s();
	r = offline_merge(argv[optind], argv[optind + 1], argv[optind + 2], &cfg, comment, flags, &st,
			  err, sizeof(err));
	t1 = now_s();
	if (r < 0)
		fprintf(stderr, "merge_files: %s\n", err);
	P("packets_read", st.packets_read);
	P("events_read", st.events_read);
	P("events_bad", st.events_bad);
	P("events_file_other", st.events_file_other);
	P("packets_written", st.packets_written);
	P("events_written", st.events_written);
	P("identities_written", st.identities_written);
	P("comments_missing", st.comments_missing);
	P("packets_cut", st.packets_cut);
	P("packets_bad_len", st.packets_bad_len);
	P("packets_no_ts", st.packets_no_ts);
	P("packet_interfaces", st.packet_interfaces);
	P("tagged_both", st.merge.packets_tagged_both);
	P("tagged_sender", st.merge.packets_tagged_sender);
	P("tagged_receiver", st.merge.packets_tagged_receiver);
	P("untagged", st.merge.packets_untagged);
	P("packets_late", st.merge.packets_late);
	P("events_late", st.merge.events_late);
	P("released_early", st.merge.released_early);
	P("flows_live", st.merge.flows_live);
	P("flows_expired", st.merge.flows_expired);
	P("owners_live", st.merge.owners_live);
	printf("seconds=%.6f\n", t1 - t0);
	printf("packets_per_second=%.0f\n", t1 > t0 ? (double)st.packets_read / (t1 - t0) : 0.0);
	return r < 0 ? 1 : 0;
}
