/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe_dump: debug tool for bpf/probe.h. Attaches the kernel probe and
 * prints one machine-parsable line per event (key=value, only the fields
 * present) until SIGINT/SIGTERM or --duration, reporting UDP flow counts
 * from a timer; at the end it detaches, reports what is left, and prints
 * "stats ..." (delivered, dropped, missed, seen, filtered...) and
 * "tables ..." (kernel table usage and evictions). Not installed.
 *
 * Strings are escaped so a line always splits on spaces: bytes <= 0x20,
 * >= 0x7f, '=' and '\' become \xHH. "probe_dump: ready" on stderr says the
 * probe is attached.
 */
#include <arpa/inet.h>
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

#include "bpf/probe.h"
#include "event/event.h"

/* Longest --duration accepted, in seconds (a day). */
#define DURATION_MAX_S 86400
/* How often UDP counts are collected (probe_flush), in ms. */
#define FLUSH_DEFAULT_MS 100
#define FLUSH_MAX_MS 60000

static bool verbose;

static void log_to_stderr(int level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (verbose)
		fprintf(stderr, "probe_dump: %s\n", msg);
}

static void print_str(const char *key, const char *s)
{
	printf(" %s=", key);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c <= 0x20 || *c >= 0x7f || *c == '=' || *c == '\\')
			printf("\\x%02x", *c);
		else
			putchar(*c);
	}
}

static void print_addr(const char *key, int family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	printf(" %s=%s", key, buf);
}

static int print_event(struct event *ev, void *ctx)
{
	const char *name = event_type_name(ev->type);

	(void)ctx;
	if (name)
		printf("event=%s", name);
	else
		printf("event=%u", ev->type);
	printf(" seq=%u ts_ns=%llu", ev->seq, (unsigned long long)ev->ts_ns);
#define U(item, key, val)                                                                          \
	do {                                                                                       \
		if (EVENT_HAS(ev, item))                                                           \
			printf(" %s=%llu", key, (unsigned long long)(val));                        \
	} while (0)
#define S(item, key, val)                                                                          \
	do {                                                                                       \
		if (EVENT_HAS(ev, item))                                                           \
			print_str(key, val);                                                       \
	} while (0)
	U(ITEM_PID, "pid", ev->pid);
	U(ITEM_TID, "tid", ev->tid);
	U(ITEM_UID, "uid", ev->uid);
	U(ITEM_GID, "gid", ev->gid);
	S(ITEM_COMM, "comm", ev->comm);
	S(ITEM_THREAD, "thread", ev->thread);
	U(ITEM_PPID, "ppid", ev->ppid);
	S(ITEM_PCOMM, "pcomm", ev->pcomm);
	S(ITEM_EXE, "exe", ev->exe);
	S(ITEM_CMDLINE, "cmdline", ev->cmdline);
	U(ITEM_CGROUP_ID, "cgroup_id", ev->cgroup_id);
	S(ITEM_CGROUP, "cgroup", ev->cgroup);
	U(ITEM_NETNS, "netns", ev->netns);
	U(ITEM_IFINDEX, "ifindex", ev->ifindex);
	S(ITEM_IFNAME, "ifname", ev->ifname);
	U(ITEM_PROTO, "proto", ev->proto);
	if (EVENT_HAS(ev, ITEM_LADDR)) {
		printf(" family=%s", ev->family == AF_INET6 ? "ipv6" : "ipv4");
		print_addr("laddr", ev->family, ev->laddr);
	}
	U(ITEM_LPORT, "lport", ev->lport);
	if (EVENT_HAS(ev, ITEM_RADDR))
		print_addr("raddr", ev->family, ev->raddr);
	U(ITEM_RPORT, "rport", ev->rport);
	U(ITEM_LATENCY_US, "latency_us", ev->latency_us);
	U(ITEM_BYTES_SENT, "bytes_sent", ev->bytes_sent);
	U(ITEM_BYTES_RECEIVED, "bytes_received", ev->bytes_received);
	U(ITEM_RETRANSMITS, "retransmits", ev->retransmits);
	U(ITEM_SRTT_US, "srtt_us", ev->srtt_us);
	U(ITEM_ERROR, "error", ev->error);
	U(ITEM_PACKETS, "packets", ev->packets);
	U(ITEM_BYTES, "bytes", ev->bytes);
	U(ITEM_SOCK_COOKIE, "sock_cookie", ev->sock_cookie);
#undef U
#undef S
	putchar('\n');
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: probe_dump [--duration SECONDS] [--events NAME,...] [--ringbuf BYTES]\n"
		   "                  [--sockets N] [--udp-flows N] [--udp-interval MS]\n"
		   "                  [--flush-ms MS] [--pid PID [--pid-tree]] [--uid UID]\n"
		   "                  [--comm NAME] [--cgroup ID] [--netns INODE] [--verbose]\n"
		   "Prints one line per kernel event until SIGINT/SIGTERM or the duration.\n");
}

static int parse_events(char *list, uint32_t *ret_mask)
{
	uint32_t mask = 0;
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned type = event_type_from_name(tok);

		if (!type || type >= 32)
			return -EINVAL;
		mask |= 1u << type;
	}
	*ret_mask = mask;
	return 0;
}

/* A number in 1..max (0..max when zero_ok). */
static int parse_num(const char *arg, const char *opt, uint64_t max, bool zero_ok, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || *end || !*arg || arg[0] == '-' || v > max || (!v && !zero_ok)) {
		fprintf(stderr, "probe_dump: bad %s %s (%s1..%llu)\n", opt, arg, zero_ok ? "0 or " : "",
			(unsigned long long)max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "events", required_argument, NULL, 'e' },
		{ "ringbuf", required_argument, NULL, 'r' },
		{ "sockets", required_argument, NULL, 's' },
		{ "udp-flows", required_argument, NULL, 'F' },
		{ "udp-interval", required_argument, NULL, 'I' },
		{ "flush-ms", required_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'p' },
		{ "pid-tree", no_argument, NULL, 'T' },
		{ "uid", required_argument, NULL, 'u' },
		{ "comm", required_argument, NULL, 'c' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "netns", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe_config cfg = { 0 };
	struct probe_map_usage mu;
	struct probe_stats st;
	int64_t flush_ms = FLUSH_DEFAULT_MS, next_flush;
	uint64_t num;
	struct probe *p = NULL;
	struct epoll_event ee;
	char err[512] = "";
	int64_t deadline = -1;
	int c, r, ep = -1, sfd = -1, status = EXIT_FAILURE;
	sigset_t sigs;
	char *end;
	long v;

	while ((c = getopt_long(argc, argv, "d:e:r:s:F:I:f:p:Tu:c:g:n:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > DURATION_MAX_S) {
				fprintf(stderr, "probe_dump: bad --duration %s (1..%d s)\n", optarg,
					DURATION_MAX_S);
				return EXIT_FAILURE;
			}
			deadline = now_ms() + v * 1000;
			break;
		case 'e':
			if (parse_events(optarg, &cfg.event_mask) < 0) {
				fprintf(stderr, "probe_dump: unknown event name in --events\n");
				return EXIT_FAILURE;
			}
			break;
		case 'r':
		case 's':
			v = strtol(optarg, &end, 0);
			if (*end || v <= 0 || v > UINT32_MAX) {
				fprintf(stderr, "probe_dump: bad number %s\n", optarg);
				return EXIT_FAILURE;
			}
			if (c == 'r')
				cfg.ringbuf_bytes = (uint32_t)v;
			else
				cfg.max_sockets = (uint32_t)v;
			break;
		case 'F':
		case 'I':
		case 'f':
		case 'p':
		case 'u':
		case 'n':
			if (parse_num(optarg, argv[optind - 1], c == 'u' ? UINT32_MAX - 1 : UINT32_MAX,
				      c == 'u', &num) < 0)
				return EXIT_FAILURE;
			if (c == 'F')
				cfg.max_udp_flows = (uint32_t)num;
			else if (c == 'I')
				cfg.udp_interval_ms = (uint32_t)num;
			else if (c == 'f' && num <= FLUSH_MAX_MS)
				flush_ms = (int64_t)num;
			else if (c == 'p')
				cfg.filter.pid = (uint32_t)num;
			else if (c == 'u')
				cfg.filter.uid = (uint32_t)num, cfg.filter.match_uid = true;
			else if (c == 'n')
				cfg.filter.netns = (uint32_t)num;
			else {
				fprintf(stderr, "probe_dump: --flush-ms at most %d\n", FLUSH_MAX_MS);
				return EXIT_FAILURE;
			}
			break;
		case 'g':
			if (parse_num(optarg, "--cgroup", UINT64_MAX, false, &num) < 0)
				return EXIT_FAILURE;
			cfg.filter.cgroup_id = num;
			break;
		case 'T':
			cfg.filter.pid_tree = true;
			break;
		case 'c':
			if (strlen(optarg) > PROBE_COMM_MAX) {
				fprintf(stderr, "probe_dump: --comm longer than %d characters\n",
					PROBE_COMM_MAX);
				return EXIT_FAILURE;
			}
			snprintf(cfg.filter.comm, sizeof(cfg.filter.comm), "%s", optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Signals arrive through a descriptor, so the loop sees them in turn
	 * with the ring buffer, the way the extcap's loop does. */
	/* A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal never reaches a signalfd: take the default back first. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		fprintf(stderr, "probe_dump: %s\n", strerror(errno));
		goto out;
	}

	probe_set_log(log_to_stderr, NULL);
	r = probe_open(&cfg, print_event, NULL, &p, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "probe_dump: %s\n", err[0] ? err : strerror(-r));
		goto out;
	}
	ee = (struct epoll_event){ .events = EPOLLIN, .data.fd = probe_fd(p) };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, probe_fd(p), &ee) < 0) {
		fprintf(stderr, "probe_dump: epoll: %s\n", strerror(errno));
		goto out;
	}
	ee = (struct epoll_event){ .events = EPOLLIN, .data.fd = sfd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ee) < 0) {
		fprintf(stderr, "probe_dump: epoll: %s\n", strerror(errno));
		goto out;
	}
	fprintf(stderr, "probe_dump: ready pid=%d\n", getpid());

	next_flush = now_ms() + flush_ms;
	for (;;) {
		int64_t now = now_ms(), wake = next_flush;
		int n;

		if (deadline >= 0 && deadline <= now)
			break;
		if (deadline >= 0 && deadline < wake)
			wake = deadline;
		n = epoll_wait(ep, &ee, 1, wake > now ? (int)(wake - now) : 0);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "probe_dump: epoll_wait: %s\n", strerror(errno));
			goto out;
		}
		if (n > 0 && ee.data.fd == sfd)
			break;
		if (n > 0) {
			r = probe_consume(p);
			if (r < 0) {
				fprintf(stderr, "probe_dump: reading events: %s\n", strerror(-r));
				goto out;
			}
		}
		if (now_ms() >= next_flush) {
			r = probe_flush(p, false);
			if (r < 0)
				fprintf(stderr, "probe_dump: reading UDP counts: %s\n", strerror(-r));
			next_flush = now_ms() + flush_ms;
		}
	}
	/* The exact end: nothing new after the detach, then what is left. */
	probe_detach(p);
	r = probe_consume(p);
	if (r < 0)
		fprintf(stderr, "probe_dump: reading events: %s\n", strerror(-r));
	r = probe_flush(p, true);
	if (r < 0)
		fprintf(stderr, "probe_dump: reading UDP counts: %s\n", strerror(-r));
	probe_stats(p, &st);
	printf("stats delivered=%llu dropped=%llu missed=%llu seen=%llu filtered=%llu "
	       "udp_lost=%llu udp_no_peer=%llu missed_retransmits=%llu missed_closes=%llu "
	       "missed_connects=%llu\n",
	       (unsigned long long)st.delivered, (unsigned long long)st.dropped,
	       (unsigned long long)st.missed, (unsigned long long)st.seen,
	       (unsigned long long)st.filtered, (unsigned long long)st.udp_lost,
	       (unsigned long long)st.udp_no_peer, (unsigned long long)st.missed_retransmits,
	       (unsigned long long)st.missed_closes, (unsigned long long)st.missed_connects);
	r = probe_map_usage(p, &mu);
	if (r < 0)
		fprintf(stderr, "probe_dump: reading table usage: %s\n", strerror(-r));
	else
		printf("tables sockets_used=%u sockets_inserted=%llu sockets_evicted=%llu "
		       "sockets_failed=%llu udp_flows_used=%u udp_flows_inserted=%llu "
		       "udp_flows_evicted=%llu udp_flows_failed=%llu\n",
		       mu.sockets.used, (unsigned long long)mu.sockets.inserted,
		       (unsigned long long)mu.sockets.evicted,
		       (unsigned long long)mu.sockets.failed, mu.udp_flows.used,
		       (unsigned long long)mu.udp_flows.inserted,
		       (unsigned long long)mu.udp_flows.evicted,
		       (unsigned long long)mu.udp_flows.failed);
	status = EXIT_SUCCESS;
out:
	p = probe_free(p);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	return status;
}
