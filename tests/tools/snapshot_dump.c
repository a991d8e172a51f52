/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapshot_dump: takes one socket snapshot and prints it as key=value
 * lines, then resolves synthetic events through the owner table; the
 * driver of the snapshot end-to-end test.
 *
 * Output: one "event=TCP_Open|UDP_Open key=value..." line per socket
 * (only the items present), one "fill r=ERRNO-NAME key=value..." line per
 * --fill, and a last "stats ..." line whose final key is reason=, which
 * runs to the end of the line.
 *
 * --fill takes comma-separated key=value pairs describing an event that
 * lacks a pid: type (TCP_Close default), netns, proto (tcp|udp|number),
 * laddr, lport, raddr, rport, cookie. Absent keys are absent items.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "event/event.h"
#include "snapshot/snapshot.h"

/* Synthetic events one run may resolve. */
#define FILL_MAX 64

struct dump_ctx {
	bool quiet;
};

static void print_addr(const char *key, int family, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family, a, buf, sizeof(buf)))
		printf(" %s=%s", key, buf);
}

static void print_event(const struct event *ev)
{
	printf("event=%s", event_type_name(ev->type) ? event_type_name(ev->type) : "?");
	if (EVENT_HAS(ev, ITEM_PID))
		printf(" pid=%u", ev->pid);
	if (EVENT_HAS(ev, ITEM_TID))
		printf(" tid=%u", ev->tid);
	if (EVENT_HAS(ev, ITEM_UID))
		printf(" uid=%u", ev->uid);
	if (EVENT_HAS(ev, ITEM_GID))
		printf(" gid=%u", ev->gid);
	if (EVENT_HAS(ev, ITEM_PPID))
		printf(" ppid=%u", ev->ppid);
	if (EVENT_HAS(ev, ITEM_COMM))
		printf(" comm=%s", ev->comm);
	if (EVENT_HAS(ev, ITEM_PCOMM))
		printf(" pcomm=%s", ev->pcomm);
	if (EVENT_HAS(ev, ITEM_PROTO))
		printf(" proto=%u", ev->proto);
	printf(" family=%u", ev->family == AF_INET6 ? 6u : ev->family == AF_INET ? 4u : 0u);
	if (EVENT_HAS(ev, ITEM_LADDR))
		print_addr("laddr", ev->family, ev->laddr);
	if (EVENT_HAS(ev, ITEM_LPORT))
		printf(" lport=%u", ev->lport);
	if (EVENT_HAS(ev, ITEM_RADDR))
		print_addr("raddr", ev->family, ev->raddr);
	if (EVENT_HAS(ev, ITEM_RPORT))
		printf(" rport=%u", ev->rport);
	if (EVENT_HAS(ev, ITEM_NETNS))
		printf(" netns=%u", ev->netns);
	if (EVENT_HAS(ev, ITEM_SOCK_COOKIE))
		printf(" cookie=%" PRIu64, ev->sock_cookie);
	if (EVENT_HAS(ev, ITEM_BYTES_SENT))
		printf(" bytes_sent=%" PRIu64, ev->bytes_sent);
	if (EVENT_HAS(ev, ITEM_BYTES_RECEIVED))
		printf(" bytes_received=%" PRIu64, ev->bytes_received);
	if (EVENT_HAS(ev, ITEM_RETRANSMITS))
		printf(" retransmits=%u", ev->retransmits);
	if (EVENT_HAS(ev, ITEM_SRTT_US))
		printf(" srtt_us=%u", ev->srtt_us);
	printf(" ts=%" PRIu64 " seq=%u\n", ev->ts_ns, ev->seq);
}

static int on_event(const struct event *ev, void *ctx)
{
	const struct dump_ctx *c = ctx;

	if (!c->quiet)
		print_event(ev);
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_ip(const char *s, struct event *ev, uint8_t *dst)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, s, buf) == 1) {
		if (ev->family == AF_INET6)
			return -EINVAL;
		ev->family = AF_INET;
		memcpy(dst, buf, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		if (ev->family == AF_INET)
			return -EINVAL;
		ev->family = AF_INET6;
		memcpy(dst, buf, 16);
		return 0;
	}
	return -EINVAL;
}

/* "type=TCP_Close,netns=1,proto=tcp,laddr=...,lport=..." → ev. */
static int parse_fill(char *spec, struct event *ev)
{
	char *save = NULL, *kv;
	uint64_t v = 0; /* parse_u64 leaves it unset on error; the loop then stops */
	int r = 0;

	memset(ev, 0, sizeof(*ev));
	ev->type = EVENT_TCP_CLOSE;
	for (kv = strtok_r(spec, ",", &save); kv && r == 0; kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');

		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (strcmp(kv, "type") == 0) {
			ev->type = (uint16_t)event_type_from_name(val);
			r = ev->type ? 0 : -EINVAL;
		} else if (strcmp(kv, "netns") == 0) {
			r = parse_u64(val, UINT32_MAX, &v);
			ev->netns = (uint32_t)v;
			EVENT_SET(ev, ITEM_NETNS);
		} else if (strcmp(kv, "proto") == 0) {
			if (strcmp(val, "tcp") == 0)
				v = IPPROTO_TCP;
			else if (strcmp(val, "udp") == 0)
				v = IPPROTO_UDP;
			else
				r = parse_u64(val, 255, &v);
			ev->proto = (uint8_t)v;
			EVENT_SET(ev, ITEM_PROTO);
		} else if (strcmp(kv, "laddr") == 0) {
			r = parse_ip(val, ev, ev->laddr);
			EVENT_SET(ev, ITEM_LADDR);
		} else if (strcmp(kv, "raddr") == 0) {
			r = parse_ip(val, ev, ev->raddr);
			EVENT_SET(ev, ITEM_RADDR);
		} else if (strcmp(kv, "lport") == 0) {
			r = parse_u64(val, 65535, &v);
			ev->lport = (uint16_t)v;
			EVENT_SET(ev, ITEM_LPORT);
		} else if (strcmp(kv, "rport") == 0) {
			r = parse_u64(val, 65535, &v);
			ev->rport = (uint16_t)v;
			EVENT_SET(ev, ITEM_RPORT);
		} else if (strcmp(kv, "cookie") == 0) {
			r = parse_u64(val, UINT64_MAX, &v);
			ev->sock_cookie = v;
			EVENT_SET(ev, ITEM_SOCK_COOKIE);
		} else {
			r = -EINVAL;
		}
	}
	return r;
}

static const char *errno_name(int r)
{
	switch (r) {
	case 0:
		return "0";
	case -ENOENT:
		return "ENOENT";
	case -EALREADY:
		return "EALREADY";
	case -EINVAL:
		return "EINVAL";
	default:
		return "other";
	}
}

static uint64_t self_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: snapshot_dump [--listen] [--host-only] [--tcp-only|--udp-only] "
			"[--quiet]\n"
			"       [--max-sockets N] [--max-processes N] [--max-netns N] "
			"[--time-budget MS]\n"
			"       [--table-size N] [--fill key=value,...]...\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    { "listen", no_argument, NULL, 'l' },
	    { "host-only", no_argument, NULL, 'H' },
	    { "tcp-only", no_argument, NULL, 'T' },
	    { "udp-only", no_argument, NULL, 'U' },
	    { "quiet", no_argument, NULL, 'q' },
	    { "max-sockets", required_argument, NULL, 's' },
	    { "max-processes", required_argument, NULL, 'p' },
	    { "max-netns", required_argument, NULL, 'n' },
	    { "time-budget", required_argument, NULL, 't' },
	    { "table-size", required_argument, NULL, 'z' },
	    { "fill", required_argument, NULL, 'f' },
	    { 0 },
	};
	static struct event fills[FILL_MAX];
	struct snapshot_config cfg = { 0 };
	struct snapshot_table_stats ts;
	struct snapshot_stats st;
	struct dump_ctx ctx = { 0 };
	struct snapshot *table = NULL;
	unsigned n_fills = 0, i;
	bool listen = false;
	uint64_t v, table_size = 0, ns_before, ns_after;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 'l':
			listen = true;
			break;
		case 'H':
			cfg.host_netns_only = true;
			break;
		case 'T':
			cfg.event_mask = 1u << EVENT_TCP_OPEN;
			break;
		case 'U':
			cfg.event_mask = 1u << EVENT_UDP_OPEN;
			break;
		case 'q':
			ctx.quiet = true;
			break;
		case 's':
			r = parse_u64(optarg, UINT32_MAX, &v);
			cfg.max_sockets = (uint32_t)v;
			break;
		case 'p':
			r = parse_u64(optarg, UINT32_MAX, &v);
			cfg.max_processes = (uint32_t)v;
			break;
		case 'n':
			r = parse_u64(optarg, UINT32_MAX, &v);
			cfg.max_netns = (uint32_t)v;
			break;
		case 't':
			r = parse_u64(optarg, UINT32_MAX, &v);
			cfg.time_budget_ms = (uint32_t)v;
			break;
		case 'z':
			r = parse_u64(optarg, UINT32_MAX, &table_size);
			break;
		case 'f':
			if (n_fills == FILL_MAX)
				r = -E2BIG;
			else
				r = parse_fill(optarg, &fills[n_fills++]);
			break;
		default:
			r = -EINVAL;
		}
		if (r < 0) {
			usage();
			return 2;
		}
	}
	if (listen)
		cfg.event_mask = (cfg.event_mask ? cfg.event_mask
						 : 1u << EVENT_TCP_OPEN | 1u << EVENT_UDP_OPEN) |
				 1u << EVENT_TCP_LISTEN;
	if (optind != argc) {
		usage();
		return 2;
	}
	r = snapshot_new((uint32_t)table_size, &table);
	if (r < 0) {
		fprintf(stderr, "snapshot_dump: cannot make the owner table: %s\n", strerror(-r));
		return 2;
	}
	cfg.table = table;

	ns_before = self_netns();
	r = snapshot_take(&cfg, on_event, &ctx, &st);
	ns_after = self_netns();

	for (i = 0; i < n_fills; i++) {
		struct event *ev = &fills[i];
		int fr = snapshot_fill_owner(table, ev);

		printf("fill r=%s", errno_name(fr));
		if (fr == 0)
			printf(" pid=%u tid=%u uid=%u gid=%u ppid=%u comm=%s pcomm=%s", ev->pid,
			       ev->tid, ev->uid, ev->gid, ev->ppid, ev->comm,
			       EVENT_HAS(ev, ITEM_PCOMM) ? ev->pcomm : "-");
		printf("\n");
	}
	snapshot_table_get_stats(table, &ts);
	printf("stats r=%d elapsed_us=%" PRIu64 " netns_found=%u netns_dumped=%u netns_failed=%u "
	       "netns_skipped=%u processes_scanned=%u processes_vanished=%u processes_denied=%u "
	       "processes_skipped=%u socket_fds=%" PRIu64 " inodes_skipped=%" PRIu64
	       " tcp_reported=%" PRIu64 " udp_reported=%" PRIu64 " sockets_unowned=%" PRIu64
	       " sockets_shared=%" PRIu64 " sockets_orphaned=%" PRIu64 " sockets_skipped=%" PRIu64
	       " table_dropped=%" PRIu64
	       " table_entries=%u table_processes=%u dumps_interrupted=%u "
	       "out_of_time=%d netns_before=%" PRIu64 " netns_after=%" PRIu64 " reason=%s\n",
	       r, st.elapsed_ns / 1000, st.netns_found, st.netns_dumped, st.netns_failed,
	       st.netns_skipped, st.processes_scanned, st.processes_vanished, st.processes_denied,
	       st.processes_skipped, st.socket_fds, st.inodes_skipped, st.tcp_reported,
	       st.udp_reported, st.sockets_unowned, st.sockets_shared, st.sockets_orphaned,
	       st.sockets_skipped, st.table_dropped, ts.entries, ts.processes, st.dumps_interrupted,
	       st.out_of_time, ns_before, ns_after, st.reason);
	snapshot_free(table);
	return r < 0 ? 1 : 0;
}
