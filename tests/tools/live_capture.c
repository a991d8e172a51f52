/* SPDX-License-Identifier: GPL-2.0-or-later */
/* live_capture: test driver of capture/live: captures one interface into a
 * pcapng file through an epoll loop, as the program's own loop does.
 *
 *   live_capture -i IFACE -w OUT [-f FILTER] [-s SNAPLEN] [-B MIB]
 *                [-t TIMEOUT_MS] [--immediate] [--promisc] [--sll]
 *                [-d SECONDS] [-c COUNT]
 *
 * Prints "ready linktype=N tpacket=V snaplen=S" on stdout once capturing,
 * and at the end "received=R dropped=D if_dropped=I delivered=N
 * written=W latency_avg_us=A latency_max_us=M stop=REASON" (latency: from
 * the kernel's stamp to the callback; REASON: signal, duration, count,
 * vanished, error).
 * Stops on SIGINT/SIGTERM, after -d seconds or -c packets, or when the
 * interface vanishes. Exit status: 0 done, 1 runtime error, 2 could not
 * start (the reason on stderr, no output file created), 3 the interface
 * vanished (output file complete).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "capture/live.h"
#include "pcapng/writer.h"

#define EXIT_RUNTIME 1
#define EXIT_START 2
#define EXIT_VANISHED 3
#define IDLE_POLL_MS 100 /* to notice -d without traffic */

struct run {
	struct pcapng_writer *w;
	uint32_t if_id;
	uint64_t written;
	uint64_t max_count;
	int write_error;
	/* How long packets took from their kernel stamp to our callback. */
	uint64_t lat_sum_ns, lat_max_ns, lat_n;
};

static void on_packet(void *ctx, int linktype, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
		      uint32_t len)
{
	struct run *run = ctx;
	int r;

	struct timespec now;
	uint64_t now_ns;

	(void)linktype;
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	if (now_ns > ts_ns) {
		run->lat_sum_ns += now_ns - ts_ns;
		if (now_ns - ts_ns > run->lat_max_ns)
			run->lat_max_ns = now_ns - ts_ns;
		run->lat_n++;
	}
	if (run->write_error)
		return;
	r = pcapng_write_packet(run->w, run->if_id, ts_ns, data, caplen, len, NULL);
	if (r < 0)
		run->write_error = r;
	else
		run->written++;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: live_capture -i IFACE -w OUT [-f FILTER] [-s SNAPLEN] [-B MIB] "
		   "[-t TIMEOUT_MS] [--immediate] [--promisc] [--sll] [-d SECONDS] [-c COUNT]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"interface", required_argument, NULL, 'i'},
	    {"write", required_argument, NULL, 'w'},
	    {"filter", required_argument, NULL, 'f'},
	    {"snaplen", required_argument, NULL, 's'},
	    {"buffer", required_argument, NULL, 'B'},
	    {"timeout", required_argument, NULL, 't'},
	    {"duration", required_argument, NULL, 'd'},
	    {"count", required_argument, NULL, 'c'},
	    {"immediate", no_argument, NULL, 'I'},
	    {"promisc", no_argument, NULL, 'p'},
	    {"sll", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct live_config cfg;
	struct run run = {0};
	struct live *l = NULL;
	struct live_stats st = {0};
	const char *out = NULL, *stop = "signal";
	char err[LIVE_REASON_MAX];
	uint64_t deadline = 0;
	int c, r, ep = -1, sfd = -1, status = 0;
	sigset_t mask;

	live_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "i:w:f:s:B:t:d:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			cfg.ifname = optarg;
			break;
		case 'w':
			out = optarg;
			break;
		case 'f':
			cfg.filter = optarg;
			break;
		case 's':
			cfg.snaplen = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'B':
			cfg.buffer_mib = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 't':
			cfg.timeout_ms = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			deadline = now_ms() + 1000u * strtoull(optarg, NULL, 0);
			break;
		case 'c':
			run.max_count = strtoull(optarg, NULL, 0);
			break;
		case 'I':
			cfg.immediate = true;
			break;
		case 'p':
			cfg.promisc = true;
			break;
		case 'S':
			cfg.prefer_sll2 = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_START;
		}
	}
	if (!cfg.ifname || !out || optind != argc) {
		usage(stderr);
		return EXIT_START;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Everything that can fail for the user's reasons, before any output. */
	r = live_open(&cfg, on_packet, &run, &l, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "live_capture: %s\n", err);
		return EXIT_START;
	}
	if (*live_warning(l))
		fprintf(stderr, "live_capture: warning: %s\n", live_warning(l));
	r = pcapng_writer_open_path(out, "ebpfdump live_capture", &run.w);
	if (r == 0) {
		struct pcapng_interface pi = {
		    .linktype = (uint16_t)live_linktype(l),
		    .snaplen = live_snaplen(l),
		    .name = live_ifname(l),
		    .filter = cfg.filter,
		};

		r = pcapng_add_interface(run.w, &pi, &run.if_id);
	}
	if (r < 0) {
		fprintf(stderr, "live_capture: cannot write %s: %s\n", out, strerror(-r));
		status = EXIT_RUNTIME;
		goto out;
	}

	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, live_fd(l),
		      &(struct epoll_event){.events = EPOLLIN, .data.u32 = 1}) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, sfd,
		      &(struct epoll_event){.events = EPOLLIN, .data.u32 = 2}) < 0) {
		fprintf(stderr, "live_capture: epoll: %s\n", strerror(errno));
		status = EXIT_RUNTIME;
		goto out;
	}
	printf("ready linktype=%d tpacket=%d snaplen=%u\n", live_linktype(l),
	       live_tpacket_version(l), live_snaplen(l));
	fflush(stdout);

	for (;;) {
		struct epoll_event evs[2];
		int timeout = live_timeout_ms(l), n;
		bool got_signal = false;

		if (timeout < 0 || timeout > IDLE_POLL_MS)
			timeout = IDLE_POLL_MS;
		n = epoll_wait(ep, evs, 2, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "live_capture: epoll_wait: %s\n", strerror(errno));
			status = EXIT_RUNTIME;
			break;
		}
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 == 2)
				got_signal = true;
		/* Also on a timeout: libpcap may need to look at a downed
		 * interface again (live_timeout_ms). */
		r = live_dispatch(l, 0);
		if (r == -ENODEV) {
			fprintf(stderr, "live_capture: %s\n", live_error(l));
			stop = "vanished";
			status = EXIT_VANISHED;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "live_capture: %s\n", live_error(l));
			stop = "error";
			status = EXIT_RUNTIME;
			break;
		}
		if (run.write_error) {
			fprintf(stderr, "live_capture: cannot write %s: %s\n", out,
				strerror(-run.write_error));
			status = EXIT_RUNTIME;
			break;
		}
		if (got_signal)
			break;
		if (run.max_count && run.written >= run.max_count) {
			stop = "count";
			break;
		}
		if (deadline && now_ms() >= deadline) {
			stop = "duration";
			break;
		}
	}
	live_stats(l, &st);
	if (run.w) {
		struct pcapng_stats ps = {
		    .received = st.received,
		    .dropped = st.dropped,
		    .has_dropped = true,
		};
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		pcapng_write_stats(run.w, run.if_id,
				   (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec, &ps);
	}
	printf("received=%llu dropped=%llu if_dropped=%llu delivered=%llu written=%llu "
	       "latency_avg_us=%llu latency_max_us=%llu stop=%s\n",
	       (unsigned long long)st.received, (unsigned long long)st.dropped,
	       (unsigned long long)st.if_dropped, (unsigned long long)st.delivered,
	       (unsigned long long)run.written,
	       (unsigned long long)(run.lat_n ? run.lat_sum_ns / run.lat_n / 1000 : 0),
	       (unsigned long long)(run.lat_max_ns / 1000), stop);
out:
	if (run.w && pcapng_writer_flush(run.w) < 0 && status == 0)
		status = EXIT_RUNTIME;
	run.w = pcapng_writer_close(run.w);
	l = live_free(l);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	return status;
}
